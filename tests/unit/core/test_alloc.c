/* Tests for the hookable allocator and the error texts. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "core/alloc.h"
#include "core/error.h"

static void fail_nth_allocation(void **state) {
  (void)state;
  sg_alloc_fail_after(2);
  void *a = sg_malloc(8), *b = sg_malloc(8), *c = sg_malloc(8);
  assert_non_null(a);
  assert_non_null(b);
  assert_null(c);
  assert_null(sg_strdup("x"));
  sg_alloc_fail_after(-1);
  char *d = sg_strdup("hello");
  assert_string_equal(d, "hello");
  sg_free(a);
  sg_free(b);
  sg_free(d);
  sg_free(NULL);
}

/* The one-shot seam: only the (n+1)th allocation fails, and it is counted;
 * a lasting failure counts each refusal. */
static void fail_only_nth_allocation(void **state) {
  (void)state;
  sg_alloc_fail_nth(1);
  assert_int_equal(sg_alloc_failures(), 0);
  void *a = sg_malloc(8), *b = sg_malloc(8), *c = sg_realloc(NULL, 8);
  assert_non_null(a);
  assert_null(b);
  assert_non_null(c);
  assert_int_equal(sg_alloc_failures(), 1);
  sg_alloc_fail_nth(-1);
  assert_int_equal(sg_alloc_failures(), 0);
  sg_free(a);
  sg_free(c);

  sg_alloc_fail_nth(0);
  assert_null(sg_strdup("x"));
  char *d = sg_strdup("y");
  assert_string_equal(d, "y");
  sg_free(d);

  sg_alloc_fail_after(0);
  assert_null(sg_malloc(1));
  assert_null(sg_calloc(1, 1));
  assert_int_equal(sg_alloc_failures(), 2);
  sg_alloc_fail_after(-1);
}

static void calloc_overflow(void **state) {
  (void)state;
  assert_null(sg_calloc(SIZE_MAX / 2, 4));
  unsigned char *p = sg_calloc(4, 4);
  for (int i = 0; i < 16; i++)
    assert_int_equal(p[i], 0);
  sg_free(p);
}

/* sg_grow doubles from the first capacity (or from the one it has) until
 * the array holds what is asked, keeping what it held. */
static void grow_doubles(void **state) {
  (void)state;
  size_t cap = 0;
  int *a = sg_grow(NULL, &cap, 1, 4, sizeof *a);
  assert_non_null(a);
  assert_int_equal(cap, 4);
  for (int i = 0; i < 4; i++)
    a[i] = i + 1;
  assert_ptr_equal(sg_grow(a, &cap, 4, 4, sizeof *a), a); /* room enough */
  assert_int_equal(cap, 4);
  a = sg_grow(a, &cap, 5, 4, sizeof *a);
  assert_non_null(a);
  assert_int_equal(cap, 8);
  a = sg_grow(a, &cap, 33, 4, sizeof *a); /* several doublings at once */
  assert_non_null(a);
  assert_int_equal(cap, 64);
  for (int i = 0; i < 4; i++)
    assert_int_equal(a[i], i + 1);
  sg_free(a);

  cap = 0; /* a first capacity below need doubles too; 0 counts as 1 */
  char *b = sg_grow(NULL, &cap, 100, 16, 1);
  assert_non_null(b);
  assert_int_equal(cap, 128);
  sg_free(b);
  cap = 0; /* nothing asked of no array still gives an array: NULL is failure */
  b = sg_grow(NULL, &cap, 0, 0, 1);
  assert_non_null(b);
  assert_int_equal(cap, 1);
  sg_free(b);
}

/* need * size beyond a size_t is refused before any allocation, and a
 * failed allocation leaves the array and its capacity as they were. */
static void grow_refuses(void **state) {
  (void)state;
  size_t cap = 0;
  uint64_t *a = sg_grow(NULL, &cap, 2, 2, sizeof *a);
  assert_non_null(a);
  a[0] = 7;
  a[1] = 9;
  sg_alloc_count_reset();
  assert_null(sg_grow(a, &cap, SIZE_MAX / sizeof *a + 1, 2, sizeof *a));
  assert_null(sg_grow(a, &cap, SIZE_MAX, 2, sizeof *a));
  assert_null(sg_grow(a, &cap, SIZE_MAX / 2 + 2, 2, 2));
  assert_int_equal(sg_alloc_count(), 0);
  assert_int_equal(cap, 2);

  sg_alloc_fail_after(0);
  assert_null(sg_grow(a, &cap, 3, 2, sizeof *a));
  sg_alloc_fail_after(-1);
  assert_int_equal(cap, 2);
  assert_int_equal(a[0], 7); /* still the caller's, and whole */
  assert_int_equal(a[1], 9);
  a = sg_grow(a, &cap, 3, 2, sizeof *a);
  assert_non_null(a);
  assert_int_equal(cap, 4);
  assert_int_equal(a[0], 7);
  assert_int_equal(a[1], 9);
  sg_free(a);

  cap = 0;
  sg_alloc_fail_after(0);
  assert_null(sg_grow(NULL, &cap, 1, 8, 1));
  sg_alloc_fail_after(-1);
  assert_int_equal(cap, 0);
}

/* The capacity alone, for arrays kept in other memory: the same rule. */
static void grow_cap_counts(void **state) {
  (void)state;
  assert_int_equal(sg_grow_cap(0, 1, 64, 8), 64);
  assert_int_equal(sg_grow_cap(0, 0, 64, 8), 64);
  assert_int_equal(sg_grow_cap(64, 64, 16, 8), 64);
  assert_int_equal(sg_grow_cap(64, 65, 16, 8), 128);
  assert_int_equal(sg_grow_cap(4, 100, 16, 8), 128);
  assert_int_equal(sg_grow_cap(0, 3, 0, 8), 4);
  assert_int_equal(sg_grow_cap(8, SIZE_MAX / 8 + 1, 8, 8), 0);
  assert_int_equal(sg_grow_cap(8, SIZE_MAX / 8, 8, 8), SIZE_MAX / 8);
  assert_int_equal(sg_grow_cap(8, SIZE_MAX / 16 + 2, 8, 8), SIZE_MAX / 8);
  assert_int_equal(sg_grow_cap(2, SIZE_MAX, 2, 1), SIZE_MAX);
}

/* Kept blocks come back, newest first, while they are large enough; no
 * allocation is made for them; more than max are freed. A sanitizer build
 * keeps none and rounds nothing. */
static void spares_are_reused(void **state) {
  (void)state;
  sg_spares_t s = {0};
#if defined(__SANITIZE_ADDRESS__)
  size_t cap = 0;
  char *a = sg_spares_take(&s, 300, 256, &cap);
  assert_non_null(a);
  assert_int_equal(cap, 300);
  sg_spares_keep(&s, a, cap, 4);
  assert_int_equal(s.n, 0);
  assert_null(s.top);
#else
  size_t cap = 0, cap2 = 0;
  char *a = sg_spares_take(&s, 300, 256, &cap);
  assert_non_null(a);
  assert_int_equal(cap, 768); /* a multiple of the step, one to spare */
  memset(a, 'x', cap);
  char *b = sg_spares_take(&s, 10, 0, &cap2);
  assert_non_null(b);
  assert_true(cap2 >= 10);
  sg_spares_keep(&s, a, cap, 4);
  sg_spares_keep(&s, b, cap2, 1); /* one kept already: freed */
  assert_int_equal(s.n, 1);
  sg_alloc_count_reset();
  assert_ptr_equal(sg_spares_take(&s, 700, 256, &cap2), a);
  assert_int_equal(cap2, 768);
  assert_int_equal(sg_alloc_count(), 0);
  assert_int_equal(s.n, 0);
  sg_spares_keep(&s, a, cap2, 4);
  /* Too small for this one: freed, and a new block made. */
  char *c = sg_spares_take(&s, 1000, 0, &cap);
  assert_non_null(c);
  assert_int_equal(cap, 1000);
  assert_int_equal(s.n, 0);
  sg_spares_keep(&s, c, cap, 0); /* max 0: freed at once */
  assert_int_equal(s.n, 0);
  sg_spares_keep(&s, NULL, 0, 4);
  assert_int_equal(s.n, 0);
  char *d = sg_spares_take(&s, 0, 0, &cap); /* room for the link */
  assert_non_null(d);
  assert_true(cap >= 2 * sizeof(void *));
  sg_spares_keep(&s, d, cap, 4);
  assert_int_equal(s.n, 1);
  sg_spares_free(&s);
  assert_int_equal(s.n, 0);
#endif
  assert_null(s.top);
}

static void error_texts(void **state) {
  (void)state;
  assert_string_equal(sg_strerror(SG_ENOMEM), "out of memory");
  assert_string_equal(sg_err_name(SG_EILSEQ), "EILSEQ");
  assert_string_equal(sg_strerror(12345), "unknown error");
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(fail_nth_allocation),
      cmocka_unit_test(fail_only_nth_allocation),
      cmocka_unit_test(calloc_overflow),
      cmocka_unit_test(grow_doubles),
      cmocka_unit_test(grow_refuses),
      cmocka_unit_test(grow_cap_counts),
      cmocka_unit_test(spares_are_reused),
      cmocka_unit_test(error_texts),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
