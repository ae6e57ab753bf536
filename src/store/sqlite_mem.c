/* sqlite_mem.c - the allocator SQLite uses: malloc, with freed small blocks
 * kept in lists of the thread that freed them.
 *
 * SQLite as Debian builds it has no lookaside memory (SQLITE_OMIT_LOOKASIDE),
 * so every register a statement fills with a text or a record is a malloc()
 * and is given back with free() when the statement ends: on the store's
 * writer about two hundred pairs over one message's life, 8 to 10 per
 * statement, too many at once for glibc's per-thread cache (seven blocks a
 * size), so most went through its arenas. Here a freed block of up to
 * SG__SQ_MEM_CLASS_MAX octets goes to a list of its size class, per thread
 * and bounded, and the next allocation of that class takes it back.
 *
 * This is beneath SQLite, as its own allocator would be: like it, it calls
 * malloc() directly and not core/alloc.h, so the tests that fail the Nth
 * allocation of smsgate see the same allocations as before. It must never
 * hold a lock, nor keep more than a bounded number of blocks per thread; a
 * thread's blocks are given back to malloc when it ends.
 */
#include "store/sqlite_mem.h"

#include <pthread.h>
#include <sqlite3.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#if defined(__SANITIZE_ADDRESS__)
#define SG__SQ_MEM_SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SG__SQ_MEM_SANITIZED 1
#endif
#endif

#define N_CLASS 7 /* 64, 128, ... 4096 octets */
#define BIG UINT32_MAX

/* Before each block: its class (BIG: none) and its usable size. 16 octets,
 * so that the block keeps malloc's alignment. */
typedef struct hdr {
  uint32_t cls;
  uint32_t spare;
  size_t size;
} hdr_t;

_Static_assert(sizeof(hdr_t) == 16, "the header keeps 16-octet alignment");
_Static_assert((64u << (N_CLASS - 1)) == SG__SQ_MEM_CLASS_MAX,
               "the last class is the largest cached size");

/* How many free blocks a thread keeps per class (about 450 KiB at most). */
static const unsigned keep[N_CLASS] = {128, 128, 128, 128, 64, 64, 32};

/* A free block, in its list, where its data was. */
typedef struct free_blk {
  struct free_blk *next;
} free_blk_t;

typedef struct cache {
  free_blk_t *head[N_CLASS];
  unsigned n[N_CLASS];
  bool keyed; /* registered for the destructor */
  bool gone;  /* the thread is ending: blocks go straight to free() */
  sg__sq_mem_stats_t stats;
} cache_t;

static _Thread_local cache_t tc;
static pthread_key_t key;
static bool key_ok;
static pthread_once_t key_once = PTHREAD_ONCE_INIT;

static void drain(cache_t *c) {
  for (unsigned k = 0; k < N_CLASS; k++) {
    while (c->head[k] != NULL) {
      free_blk_t *b = c->head[k];
      c->head[k] = b->next;
      free((hdr_t *)b - 1);
    }
    c->n[k] = 0;
  }
  c->stats.cached = 0;
}

static void thread_end(void *arg) {
  cache_t *c = arg;
  c->gone = true;
  drain(c);
}

static void make_key(void) {
  key_ok = pthread_key_create(&key, thread_end) == 0;
}

/* The class of a block of n octets, or BIG. */
static uint32_t class_of(size_t n) {
  uint32_t k = 0;
  size_t sz = 64;
  while (sz < n && k < N_CLASS) {
    sz <<= 1;
    k++;
  }
  return k < N_CLASS ? k : BIG;
}

static size_t class_size(uint32_t k) {
  return (size_t)64 << k;
}

void *sg__sq_mem_malloc(int n) {
  if (n <= 0)
    return NULL;
  uint32_t k = class_of((size_t)n);
  if (k != BIG && tc.head[k] != NULL) {
    free_blk_t *b = tc.head[k];
    tc.head[k] = b->next;
    tc.n[k]--;
    tc.stats.cached--;
    tc.stats.hits++;
    return b;
  }
  size_t size = k != BIG ? class_size(k) : (size_t)n;
  hdr_t *h = malloc(sizeof *h + size);
  if (h == NULL)
    return NULL;
  tc.stats.misses++;
  h->cls = k;
  h->spare = 0;
  h->size = size;
  return h + 1;
}

void sg__sq_mem_free(void *p) {
  if (p == NULL)
    return;
  hdr_t *h = (hdr_t *)p - 1;
  uint32_t k = h->cls;
  if (k == BIG || tc.gone || tc.n[k] >= keep[k]) {
    free(h);
    return;
  }
  if (!tc.keyed) {
    pthread_once(&key_once, make_key);
    if (!key_ok || pthread_setspecific(key, &tc) != 0) {
      free(h);
      return;
    }
    tc.keyed = true;
  }
  free_blk_t *b = p;
  b->next = tc.head[k];
  tc.head[k] = b;
  tc.n[k]++;
  tc.stats.cached++;
}

int sg__sq_mem_size(void *p) {
  return p == NULL ? 0 : (int)((hdr_t *)p - 1)->size;
}

void *sg__sq_mem_realloc(void *p, int n) {
  if (p == NULL)
    return sg__sq_mem_malloc(n);
  if (n <= 0)
    return NULL;
  size_t have = ((hdr_t *)p - 1)->size;
  if ((size_t)n <= have && class_of((size_t)n) == ((hdr_t *)p - 1)->cls)
    return p; /* still its class: nothing to move */
  void *q = sg__sq_mem_malloc(n);
  if (q == NULL)
    return NULL; /* SQLite keeps p */
  memcpy(q, p, have < (size_t)n ? have : (size_t)n);
  sg__sq_mem_free(p);
  return q;
}

int sg__sq_mem_roundup(int n) {
  uint32_t k = n > 0 ? class_of((size_t)n) : 0;
  if (k == BIG)
    return (n + 7) & ~7;
  return (int)class_size(k);
}

void sg__sq_mem_stats(sg__sq_mem_stats_t *out) {
  *out = tc.stats;
}

void sg__sq_mem_drain(void) {
  drain(&tc);
}

#ifndef SG__SQ_MEM_SANITIZED
static int mem_init(void *unused) {
  (void)unused;
  pthread_once(&key_once, make_key);
  return SQLITE_OK;
}

static void mem_shutdown(void *unused) {
  (void)unused;
  sg__sq_mem_drain();
}

static const sqlite3_mem_methods methods = {
    .xMalloc = sg__sq_mem_malloc,
    .xFree = sg__sq_mem_free,
    .xRealloc = sg__sq_mem_realloc,
    .xSize = sg__sq_mem_size,
    .xRoundup = sg__sq_mem_roundup,
    .xInit = mem_init,
    .xShutdown = mem_shutdown,
    .pAppData = NULL,
};
static pthread_once_t install_once = PTHREAD_ONCE_INIT;
static bool installed;

static void install(void) {
  installed = sqlite3_config(SQLITE_CONFIG_MALLOC, &methods) == SQLITE_OK;
}
#endif

bool sg__sq_mem_install(void) {
#ifdef SG__SQ_MEM_SANITIZED
  return false;
#else
  pthread_once(&install_once, install);
  return installed;
#endif
}
