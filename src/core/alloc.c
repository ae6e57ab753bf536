/* alloc.c - the hookable allocator. It must never abort or log: a failed
 * allocation is reported to the caller as NULL. */
#include "core/alloc.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static sg_alloc_hooks_t hooks = {malloc, realloc, free};
static long fail_after = -1;
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
  fail_after = n;
}
unsigned long sg_alloc_count(void) {
  return alloc_count;
}
void sg_alloc_count_reset(void) {
  alloc_count = 0;
}

/* Returns 1 when the injected failure says this allocation must fail. */
static int should_fail(void) {
  if (fail_after < 0)
    return 0;
  if (fail_after == 0)
    return 1;
  fail_after--;
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
