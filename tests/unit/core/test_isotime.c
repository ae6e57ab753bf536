/* Tests for the ISO 8601 writer: golden values, then the C library's own
 * gmtime_r + strftime("%Y-%m-%dT%H:%M:%S") + ".%03dZ" as the reference for
 * every edge that matters to a calendar (leap days of years divisible by 4,
 * 100 and 400, the last millisecond of a year, of a day, of a month) and
 * for a million pseudo-random times up to year 9999 and beyond. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "core/isotime.h"

/* What the store wrote before: gmtime_r, strftime and snprintf. */
static void reference(int64_t ms, char out[64]) {
  time_t secs = (time_t)(ms / 1000);
  struct tm tm;
  assert_non_null(gmtime_r(&secs, &tm));
  size_t n = strftime(out, 64, "%Y-%m-%dT%H:%M:%S", &tm);
  assert_true(n > 0);
  snprintf(out + n, 64 - n, ".%03dZ", (int)(ms % 1000));
}

static void check(int64_t ms) {
  char want[64], got[SG_ISOTIME_MAX];
  reference(ms, want);
  size_t n = sg_isotime_ms(ms, got);
  if (strcmp(want, got) != 0)
    fail_msg("ms %lld: want %s, got %s", (long long)ms, want, got);
  assert_int_equal(n, strlen(want));
  char wsecs[64];
  memcpy(wsecs, want, 64);
  wsecs[strlen(want) - 5] = '\0'; /* no ".mmmZ" */
  assert_int_equal(sg_isotime_secs(ms / 1000, got), strlen(wsecs));
  assert_string_equal(got, wsecs);
}

/* Milliseconds of y-m-d hh:mm:ss UTC, from timegm. */
static int64_t at(int y, int mo, int d, int h, int mi, int s) {
  struct tm tm = {.tm_year = y - 1900,
                  .tm_mon = mo - 1,
                  .tm_mday = d,
                  .tm_hour = h,
                  .tm_min = mi,
                  .tm_sec = s};
  return (int64_t)timegm(&tm) * 1000;
}

static void golden(void **state) {
  (void)state;
  char out[SG_ISOTIME_MAX];
  assert_int_equal(sg_isotime_ms(0, out), 24);
  assert_string_equal(out, "1970-01-01T00:00:00.000Z");
  sg_isotime_ms(951782400000LL, out); /* a leap day of a year % 400 */
  assert_string_equal(out, "2000-02-29T00:00:00.000Z");
  sg_isotime_ms(1469918176385LL, out);
  assert_string_equal(out, "2016-07-30T22:36:16.385Z");
  sg_isotime_ms(253402300799999LL, out);
  assert_string_equal(out, "9999-12-31T23:59:59.999Z");
  assert_int_equal(sg_isotime_ms(253402300800000LL, out), 25);
  assert_string_equal(out, "10000-01-01T00:00:00.000Z");
  /* Before the epoch counts as the epoch, as the store always did. */
  sg_isotime_ms(-1, out);
  assert_string_equal(out, "1970-01-01T00:00:00.000Z");
  assert_int_equal(sg_isotime_secs(86399, out), 19);
  assert_string_equal(out, "1970-01-01T23:59:59");
  /* The largest time: every digit of the year fits. */
  assert_true(sg_isotime_ms(INT64_MAX, out) < SG_ISOTIME_MAX);
  check(INT64_MAX);
}

static void calendar_edges(void **state) {
  (void)state;
  static const int years[] = {1970, 1971, 1972, 1999, 2000, 2001, 2004,
                              2024, 2025, 2026, 2038, 2099, 2100, 2101,
                              2104, 2199, 2200, 2300, 2400, 2401, 9999};
  static const int ms[] = {0, 1, 9, 10, 99, 100, 500, 998, 999};
  for (size_t i = 0; i < sizeof years / sizeof years[0]; i++) {
    int y = years[i];
    for (int mo = 1; mo <= 12; mo++) {
      int64_t first = at(y, mo, 1, 0, 0, 0);
      for (size_t k = 0; k < sizeof ms / sizeof ms[0]; k++) {
        check(first + ms[k]); /* a month's first millisecond */
        if (first > 0)
          check(first - 1000 + ms[k]); /* its eve's last second */
      }
      check(at(y, mo, 28, 12, 30, 30) + 123);
    }
    check(at(y, 2, 29, 23, 59, 59) + 999);  /* Feb 29 or Mar 1 */
    check(at(y, 12, 31, 23, 59, 59) + 999); /* the year's last ms */
    check(at(y, 12, 31, 0, 0, 0));
  }
}

/* Every day for 600 years, at a time of day that moves with it. */
static void every_day(void **state) {
  (void)state;
  for (int64_t d = 0; d < 600 * 366; d++)
    check(d * 86400000LL + (d * 7919 % 86400000LL));
}

static void random_times(void **state) {
  (void)state;
  uint64_t x = 0x9E3779B97F4A7C15ULL;
  for (int i = 0; i < 1000000; i++) {
    x ^= x << 13; /* xorshift64 */
    x ^= x >> 7;
    x ^= x << 17;
    /* Up to year ~11,000 (2^48 ms), and often within a few years of now. */
    int64_t ms = (i & 1) ? (int64_t)(x >> 16)
                         : 1700000000000LL + (int64_t)(x % 400000000000ULL);
    check(ms);
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(golden),
      cmocka_unit_test(calendar_edges),
      cmocka_unit_test(every_day),
      cmocka_unit_test(random_times),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
