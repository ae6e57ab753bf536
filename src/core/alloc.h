/* alloc.h - the one allocator every module of smsgate goes through.
 *
 * It is hookable so that tests can make the Nth allocation fail (as SQLite's
 * test_malloc.c does) and check that nothing crashes or is half-written.
 * Library code treats NULL as SG_ENOMEM and hands it back to its caller;
 * only the daemon decides to abort on out-of-memory (sg_xmalloc).
 */
#ifndef SG_CORE_ALLOC_H
#define SG_CORE_ALLOC_H

#include <stddef.h>

typedef struct sg_alloc_hooks {
  void *(*malloc_fn)(size_t size);
  void *(*realloc_fn)(void *ptr, size_t size);
  void (*free_fn)(void *ptr);
} sg_alloc_hooks_t;

/* Allocation entry points. sg_calloc checks nmemb * size for overflow.
 * sg_free(NULL) is a no-op. Thread-safe as long as the hooks are. */
void *sg_malloc(size_t size);
void *sg_calloc(size_t nmemb, size_t size);
void *sg_realloc(void *ptr, size_t size);
void sg_free(void *ptr);
char *sg_strdup(const char *s);
char *sg_strndup(const char *s, size_t n);

/* Makes room for `need` items of `size` octets in `items`, an array of *cap
 * items made by this allocator (NULL and 0 for none yet), by doubling: the
 * new capacity is the first of first, 2 first, 4 first ... (of 2 *cap,
 * 4 *cap ... when *cap is not 0) that holds need (sg_grow_cap). Returns the
 * array, moved as sg_realloc moves it, with *cap set to its capacity; items as
 * it is when it holds need items already. Returns NULL when need * size octets
 * cannot be counted in a size_t or the allocation fails: items (still the
 * caller's) and *cap are then as they were. NULL means failure only. The new
 * items are not initialised. */
void *sg_grow(void *items, size_t *cap, size_t need, size_t first, size_t size);

/* The capacity sg_grow gives an array of cap items that must hold need:
 * cap when it holds them (and is not 0), else the first of first, 2 first
 * ... (2 cap, 4 cap ... when cap is not 0) that does, or the most items of
 * `size` octets a size_t counts when the doubling passes that. 0 when need
 * such items cannot be counted in a size_t. For arrays that grow in memory
 * of their own (the store's arenas). */
size_t sg_grow_cap(size_t cap, size_t need, size_t first, size_t size);

/* Blocks kept for reuse, most recently kept first: a thread that makes and
 * frees many blocks of about one size (a post, a delivery waiting) takes
 * malloc's slow path for each once dozens are out. A kept block's first
 * octets hold the list's link and the block's size, so a block must be at
 * least two pointers long and is the list's alone while kept. At most
 * SG_SPARES_MAX are kept, and none in sanitizer builds, so that a use of a
 * block after it was given back is still caught there. One thread at a
 * time. */
#define SG_SPARES_MAX 1024u
typedef struct sg_spares {
  void *top;
  size_t n; /* blocks kept */
} sg_spares_t;

/* A block of at least size octets: the kept one on top when it is large
 * enough, else a new one (the kept one is freed then) of size rounded up
 * to a multiple of step with one step to spare, so that a kept one fits
 * the next of about the same size (step 0, or a sanitizer build: size
 * exactly). *cap is set to the block's size. NULL without memory. */
void *sg_spares_take(sg_spares_t *s, size_t size, size_t step, size_t *cap);

/* Keeps block (of cap octets, from sg_spares_take) unless max blocks (or
 * SG_SPARES_MAX) are kept already: it is freed then. NULL is a no-op. */
void sg_spares_keep(sg_spares_t *s, void *block, size_t cap, size_t max);

/* Frees every kept block. */
void sg_spares_free(sg_spares_t *s);

/* Replaces the allocator (NULL restores malloc/realloc/free). Call before any
 * allocation is made, from one thread. */
void sg_alloc_set_hooks(const sg_alloc_hooks_t *hooks);

/* Test seam: after `n` more successful allocations, every further allocation
 * fails (n = 0: the next one). n < 0 disables failure. Counts are global and
 * not thread-safe; for single-threaded tests. */
void sg_alloc_fail_after(long n);

/* Test seam: the allocation after `n` more successful ones fails, and only
 * it: later ones succeed again (a transient shortage, where
 * sg_alloc_fail_after() is a lasting one). n < 0 disables failure. Safe
 * with allocations on several threads (which one fails is then a race). */
void sg_alloc_fail_nth(long n);

/* How many allocations the seam has failed since the last
 * sg_alloc_fail_after() or sg_alloc_fail_nth(). */
unsigned long sg_alloc_failures(void);

/* Number of allocations made since the counter was last reset, and reset. */
unsigned long sg_alloc_count(void);
void sg_alloc_count_reset(void);

#endif
