/* Tests for sg_strlcpy against what it replaces, snprintf(dst, cap, "%s",
 * src): the same octets, the same terminator and the same return, for
 * every capacity from 0 to past the string's end; and for
 * sg_printable_copy against the byte loop it replaces; sg_fmt_i64 against
 * snprintf("%lld"). */
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

/* The eight-at-a-time copy against the byte loop it replaces, on every
 * octet value at every position and every length to 40, and on random
 * buffers. */
static void printable_copy(const char *src, size_t n) {
  char want[64], got[64];
  memset(want, 'x', sizeof want);
  memset(got, 'x', sizeof got);
  for (size_t i = 0; i < n; i++) {
    unsigned char c = (unsigned char)src[i];
    want[i] = c >= 0x20 && c < 0x7f ? (char)c : ' ';
  }
  sg_printable_copy(got, src, n);
  assert_memory_equal(got, want, sizeof want); /* nothing past n */
}

static void printable_same_as_loop(void **state) {
  (void)state;
  char buf[40];
  for (unsigned v = 0; v < 256; v++)
    for (size_t at = 0; at < 24; at++)
      for (size_t n = at + 1; n <= 24; n++) {
        memset(buf, 'a', sizeof buf);
        buf[at] = (char)v;
        printable_copy(buf, n);
      }
  uint32_t x = 7;
  for (int t = 0; t < 20000; t++) {
    size_t n = (size_t)t % 41;
    for (size_t i = 0; i < n; i++) {
      x = x * 1103515245u + 12345u;
      /* mostly printable, sometimes any octet */
      buf[i] = (x >> 24) % 4 ? (char)(0x20 + (x >> 8) % 0x5f) : (char)(x >> 8);
    }
    printable_copy(buf, n);
  }
}

static void fmt_i64_one(int64_t v) {
  char want[32], got[32];
  memset(want, 'x', sizeof want);
  memset(got, 'x', sizeof got);
  int n = snprintf(want, sizeof want, "%lld", (long long)v);
  assert_int_equal(sg_fmt_i64(got, v), (size_t)n);
  assert_memory_equal(got, want, (size_t)n + 1);
  assert_int_equal(got[n + 1], 'x'); /* nothing past the NUL */
}

static void fmt_i64_same_as_snprintf(void **state) {
  (void)state;
  static const int64_t edges[] = {0,  1,         -1,        9,
                                  10, -10,       99,        100,
                                  INT64_MAX, INT64_MIN, INT64_MIN + 1,
                                  1000000000000LL, -1099511627776LL};
  for (size_t i = 0; i < sizeof edges / sizeof edges[0]; i++)
    fmt_i64_one(edges[i]);
  int64_t p = 1;
  for (int k = 0; k < 19; k++) { /* 1 to 10^18 */
    fmt_i64_one(p - 1);
    fmt_i64_one(p);
    fmt_i64_one(-p);
    fmt_i64_one(1 - p);
    if (k < 18)
      p *= 10;
  }
  uint64_t x = 88172645463325252ull;
  for (int t = 0; t < 20000; t++) {
    x ^= x << 13, x ^= x >> 7, x ^= x << 17;
    fmt_i64_one((int64_t)(x >> (t % 64)) * (t % 2 ? -1 : 1));
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(same_as_snprintf),
      cmocka_unit_test(printable_same_as_loop),
      cmocka_unit_test(fmt_i64_same_as_snprintf),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
