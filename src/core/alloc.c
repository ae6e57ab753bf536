/* alloc.c - the hookable allocator. It must never abort or log: a failed
 * allocation is reported to the caller as NULL. */
#include "core/alloc.h"

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static sg_alloc_hooks_t hooks = {malloc, realloc, free};
/* The seam: atomic, because the store's writer thread allocates too. When
 * it is off (fail_after < 0) an allocation costs one relaxed load. */
static atomic_long fail_after = -1;
static atomic_bool fail_once;
static atomic_ulong failures;
static unsigned long alloc_count;

void sg_alloc_set_hooks(const sg_alloc_hooks_t *h) {
  if (h == NULL) {
    hooks.malloc_fn = malloc;
    hooks.realloc_fn = realloc;
    hooks.free_fn = free;
  } else {
    hooks = *h;
  }
}

void sg_alloc_fail_after(long n) {
  atomic_store(&fail_once, false);
  atomic_store(&failures, 0);
  atomic_store(&fail_after, n);
}

void sg_alloc_fail_nth(long n) {
  atomic_store(&fail_once, true);
  atomic_store(&failures, 0);
  atomic_store(&fail_after, n);
}

unsigned long sg_alloc_failures(void) {
  return atomic_load(&failures);
}
unsigned long sg_alloc_count(void) {
  return alloc_count;
}
void sg_alloc_count_reset(void) {
  alloc_count = 0;
}

/* Returns 1 when the injected failure says this allocation must fail. */
static int should_fail(void) {
  long n = atomic_load_explicit(&fail_after, memory_order_relaxed);
  while (n >= 0) {
    long next = n > 0 ? n - 1 : atomic_load(&fail_once) ? -1 : 0;
    if (n == 0 && next == 0) {
      atomic_fetch_add(&failures, 1);
      return 1; /* a lasting failure: the counter stays at 0 */
    }
    if (atomic_compare_exchange_weak(&fail_after, &n, next)) {
      if (n > 0)
        return 0;
      atomic_fetch_add(&failures, 1);
      return 1;
    }
  }
  return 0;
}

void *sg_malloc(size_t size) {
  if (should_fail())
    return NULL;
  alloc_count++;
  return hooks.malloc_fn(size ? size : 1);
}

void *sg_calloc(size_t nmemb, size_t size) {
  if (size != 0 && nmemb > SIZE_MAX / size)
    return NULL;
  void *p = sg_malloc(nmemb * size);
  if (p != NULL)
    memset(p, 0, nmemb * size);
  return p;
}

void *sg_realloc(void *ptr, size_t size) {
  if (should_fail())
    return NULL;
  alloc_count++;
  return hooks.realloc_fn(ptr, size ? size : 1);
}

size_t sg_grow_cap(size_t cap, size_t need, size_t first, size_t size) {
  size_t n = cap != 0 ? cap : first != 0 ? first : 1;
  while (n < need)
    n = n <= SIZE_MAX / 2 ? n * 2 : need;
  if (size != 0 && n > SIZE_MAX / size) /* the doubling went too far */
    n = need <= SIZE_MAX / size ? SIZE_MAX / size : 0;
  return n;
}

void *sg_grow(void *items, size_t *cap, size_t need, size_t first,
              size_t size) {
  if (items != NULL && need <= *cap)
    return items;
  size_t n = sg_grow_cap(*cap, need, first, size);
  if (n == 0)
    return NULL;
  void *p = sg_realloc(items, n * size);
  if (p != NULL)
    *cap = n;
  return p;
}

void sg_free(void *ptr) {
  if (ptr != NULL)
    hooks.free_fn(ptr);
}

char *sg_strndup(const char *s, size_t n) {
  size_t len = strnlen(s, n);
  char *p = sg_malloc(len + 1);
  if (p == NULL)
    return NULL;
  memcpy(p, s, len);
  p[len] = '\0';
  return p;
}

char *sg_strdup(const char *s) {
  return sg_strndup(s, SIZE_MAX);
}

/* ---- kept blocks --------------------------------------------------------- */

typedef struct spare {
  struct spare *next;
  size_t cap;
} spare_t;

#if defined(__SANITIZE_ADDRESS__)
static const bool keep_none = true;
#else
static const bool keep_none = false;
#endif

void *sg_spares_take(sg_spares_t *s, size_t size, size_t step, size_t *cap) {
  spare_t *b = s->top;
  if (b != NULL) {
    s->top = b->next;
    s->n--;
    if (b->cap >= size) {
      *cap = b->cap;
      return b;
    }
    sg_free(b);
  }
  size_t want = size < sizeof(spare_t) ? sizeof(spare_t) : size;
  if (step > 0 && !keep_none && want <= SIZE_MAX - 2 * step)
    want = (want / step + 2) * step;
  void *p = sg_malloc(want);
  if (p != NULL)
    *cap = want;
  return p;
}

void sg_spares_keep(sg_spares_t *s, void *block, size_t cap, size_t max) {
  if (block == NULL)
    return;
  if (keep_none || s->n >= max || s->n >= SG_SPARES_MAX ||
      cap < sizeof(spare_t)) {
    sg_free(block);
    return;
  }
  spare_t *b = block;
  b->next = s->top;
  b->cap = cap;
  s->top = b;
  s->n++;
}

void sg_spares_free(sg_spares_t *s) {
  for (spare_t *b = s->top, *next; b != NULL; b = next) {
    next = b->next;
    sg_free(b);
  }
  s->top = NULL;
  s->n = 0;
}
