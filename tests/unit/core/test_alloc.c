/* Tests for the hookable allocator and the error texts. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

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
      cmocka_unit_test(error_texts),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
