/* Tests for sg_strlcpy against what it replaces, snprintf(dst, cap, "%s",
 * src): the same octets, the same terminator and the same return, for
 * every capacity from 0 to past the string's end. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "core/str.h"

static void same_as_snprintf(void **state) {
  (void)state;
  static const char *const srcs[] = {"", "a", "+79001234567",
                                     "0123456789abcdef0123456789abcdef"};
  for (size_t i = 0; i < sizeof srcs / sizeof srcs[0]; i++) {
    for (size_t cap = 0; cap <= 40; cap++) {
      char want[48], got[48];
      memset(want, 'x', sizeof want);
      memset(got, 'x', sizeof got);
      int n = snprintf(want, cap, "%s", srcs[i]);
      assert_int_equal(sg_strlcpy(got, srcs[i], cap), (size_t)n);
      assert_memory_equal(got, want, sizeof want); /* nothing past cap */
    }
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(same_as_snprintf),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
