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
