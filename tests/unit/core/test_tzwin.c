/* Tests for core/tzwin.h: "HH:MM" parsing, windows that wrap midnight,
 * a region's UTC offsets from ICU with daylight saving time (GB in winter
 * and summer; the US's six offsets from Hawaii to New York), the rule for
 * countries of several zones (inside in every zone, or, for a window
 * shorter than the spread of the offsets, in any), and UTC for numbers of
 * no country. Times are fixed instants, so the results are exact. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "core/error.h"
#include "core/tzwin.h"

/* 2025-01-15T00:00:00Z and 2025-07-15T00:00:00Z, Unix ms */
#define JAN15 1736899200000LL
#define JUL15 1752537600000LL
#define H(h, m) (((int64_t)(h)*60 + (m)) * 60000)

static void parses_hhmm(void **state) {
  (void)state;
  int m = -1;
  assert_int_equal(sg_tzwin_parse_hhmm("09:00", &m), 0);
  assert_int_equal(m, 540);
  assert_int_equal(sg_tzwin_parse_hhmm("00:00", &m), 0);
  assert_int_equal(m, 0);
  assert_int_equal(sg_tzwin_parse_hhmm("24:00", &m), 0);
  assert_int_equal(m, 1440);
  assert_int_equal(sg_tzwin_parse_hhmm("23:59", &m), 0);
  assert_int_equal(m, 1439);
  static const char *const bad[] = {"24:01",  "9:00",  "09:60", "0900",
                                    "09:00 ", "ab:cd", "",      "-1:00"};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
    assert_int_equal(sg_tzwin_parse_hhmm(bad[i], &m), SG_EINVAL);
  assert_int_equal(sg_tzwin_parse_hhmm(NULL, &m), SG_EINVAL);
}

static void windows_wrap(void **state) {
  (void)state;
  assert_true(sg_tzwin_minute_inside(540, 540, 1200));
  assert_false(sg_tzwin_minute_inside(1200, 540, 1200));
  assert_false(sg_tzwin_minute_inside(539, 540, 1200));
  /* 22:00-06:00 */
  assert_true(sg_tzwin_minute_inside(1380, 1320, 360));
  assert_true(sg_tzwin_minute_inside(0, 1320, 360));
  assert_false(sg_tzwin_minute_inside(360, 1320, 360));
  assert_false(sg_tzwin_minute_inside(700, 1320, 360));
}

static void offsets_follow_dst(void **state) {
  (void)state;
  sg_tzwin_t *w = sg_tzwin_new();
  assert_non_null(w);
  int off[16];
  assert_int_equal(sg_tzwin_offsets(w, "GB", JAN15, off, 16), 1);
  assert_int_equal(off[0], 0);
  assert_int_equal(sg_tzwin_offsets(w, "GB", JUL15, off, 16), 1);
  assert_int_equal(off[0], 60);
  unsigned n = sg_tzwin_offsets(w, "US", JAN15, off, 16);
  assert_true(n >= 5);
  assert_int_equal(off[0], -600);     /* Honolulu */
  assert_int_equal(off[n - 1], -300); /* New York */
  assert_int_equal(sg_tzwin_offsets(w, "001", JAN15, off, 16), 1);
  assert_int_equal(off[0], 0);
  assert_int_equal(sg_tzwin_offsets(w, NULL, JAN15, off, 16), 1);
  assert_int_equal(off[0], 0);
  sg_tzwin_free(w);
}

static void single_zone_window(void **state) {
  (void)state;
  sg_tzwin_t *w = sg_tzwin_new();
  /* GB, 09:00-20:00: UTC in January, UTC+1 in July. */
  assert_false(sg_tzwin_inside(w, "GB", JAN15 + H(8, 59), 540, 1200));
  assert_true(sg_tzwin_inside(w, "GB", JAN15 + H(9, 0), 540, 1200));
  assert_true(sg_tzwin_inside(w, "GB", JAN15 + H(19, 59), 540, 1200));
  assert_false(sg_tzwin_inside(w, "GB", JAN15 + H(20, 0), 540, 1200));
  assert_true(sg_tzwin_inside(w, "GB", JUL15 + H(8, 0), 540, 1200));
  assert_false(sg_tzwin_inside(w, "GB", JUL15 + H(19, 0), 540, 1200));
  /* No window: always. */
  assert_true(sg_tzwin_inside(w, "GB", JAN15 + H(3, 0), -1, -1));
  sg_tzwin_free(w);
}

static void several_zones(void **state) {
  (void)state;
  sg_tzwin_t *w = sg_tzwin_new();
  /* 09:00-20:00 (11 h) is longer than the US spread (5 h): every zone. */
  assert_true(sg_tzwin_inside(w, "US", JAN15 + H(19, 30), 540, 1200));
  /* 18:30Z: New York 13:30 but Honolulu 08:30. */
  assert_false(sg_tzwin_inside(w, "US", JAN15 + H(18, 30), 540, 1200));
  /* 01:00Z: Honolulu 15:00 but New York 20:00. */
  assert_false(sg_tzwin_inside(w, "US", JAN15 + H(25, 0), 540, 1200));
  /* 10:00-12:00 (2 h) is shorter: any zone. */
  assert_true(sg_tzwin_inside(w, "US", JAN15 + H(15, 30), 600, 720));
  assert_true(sg_tzwin_inside(w, "US", JAN15 + H(21, 30), 600, 720));
  assert_false(sg_tzwin_inside(w, "US", JAN15 + H(3, 0), 600, 720));
  sg_tzwin_free(w);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(parses_hhmm),
      cmocka_unit_test(windows_wrap),
      cmocka_unit_test(offsets_follow_dst),
      cmocka_unit_test(single_zone_window),
      cmocka_unit_test(several_zones),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
