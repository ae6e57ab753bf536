/* Tests for the SMPP time format (SMPP 3.4 section 7.1.1): parsing and
 * writing absolute and relative times, malformed strings, and conversion to
 * and from Unix time. Expected Unix milliseconds were computed independently
 * (Python's datetime.fromisoformat(...).timestamp()). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdbool.h>
#include <string.h>

#include "core/error.h"
#include "smpp/smpptime.h"

typedef struct abs_case {
  const char *text; /* as on the wire */
  int64_t unix_ms;  /* the instant it names */
  int quarters;     /* its nn, signed */
  const char *iso;  /* for the reader */
} abs_case_t;

static const abs_case_t abs_cases[] = {
    {"000101000000000+", 946684800000LL, 0, "2000-01-01T00:00:00Z"},
    {"240229235959900+", 1709251199900LL, 0, "2024-02-29T23:59:59.9Z"},
    {"991231235959000+", 4102444799000LL, 0, "2099-12-31T23:59:59Z"},
    {"110630123456732+", 1309408496700LL, 32, "2011-06-30T12:34:56.7+08:00"},
    {"110630123456715-", 1309450796700LL, -15, "2011-06-30T12:34:56.7-03:45"},
    {"240331100000048+", 1711836000000LL, 48, "2024-03-31T10:00+12:00"},
};

static void test_parse_absolute(void **state) {
  (void)state;
  for (size_t i = 0; i < sizeof abs_cases / sizeof abs_cases[0]; i++) {
    const abs_case_t *c = &abs_cases[i];
    sg_smpp_time_t t;
    assert_int_equal(sg_smpp_time_parse(c->text, 16, &t), 0);
    assert_false(t.relative);
    assert_int_equal(t.utc_quarters, c->quarters);
    int64_t ms = 0;
    assert_int_equal(sg_smpp_time_to_unix_ms(&t, 0, &ms), 0);
    assert_int_equal(ms, c->unix_ms);
    char out[SG_SMPP_TIME_SIZE];
    assert_int_equal(sg_smpp_time_format(&t, out), 0);
    assert_string_equal(out, c->text);
  }
}

static void test_fields(void **state) {
  (void)state;
  sg_smpp_time_t t;
  assert_int_equal(sg_smpp_time_parse("110630123456732+", 16, &t), 0);
  assert_int_equal(t.year, 2011);
  assert_int_equal(t.month, 6);
  assert_int_equal(t.day, 30);
  assert_int_equal(t.hour, 12);
  assert_int_equal(t.minute, 34);
  assert_int_equal(t.second, 56);
  assert_int_equal(t.tenths, 7);
  assert_int_equal(t.utc_quarters, 32);
}

static void test_from_unix(void **state) {
  (void)state;
  for (size_t i = 0; i < sizeof abs_cases / sizeof abs_cases[0]; i++) {
    const abs_case_t *c = &abs_cases[i];
    sg_smpp_time_t t;
    assert_int_equal(sg_smpp_time_from_unix_ms(c->unix_ms, c->quarters, &t), 0);
    char out[SG_SMPP_TIME_SIZE];
    assert_int_equal(sg_smpp_time_format(&t, out), 0);
    assert_string_equal(out, c->text);
  }
  /* Milliseconds below a tenth are dropped, not rounded. */
  sg_smpp_time_t t;
  char out[SG_SMPP_TIME_SIZE];
  assert_int_equal(sg_smpp_time_from_unix_ms(946684800999LL, 0, &t), 0);
  assert_int_equal(sg_smpp_time_format(&t, out), 0);
  assert_string_equal(out, "000101000000900+");
  /* An instant in a zone behind UTC falls on the day before. */
  assert_int_equal(sg_smpp_time_from_unix_ms(946773000000LL, -4, &t), 0);
  assert_int_equal(sg_smpp_time_format(&t, out), 0);
  assert_string_equal(out, "000101233000004-");
  /* Local years outside 2000..2099 cannot be written with YY. */
  assert_int_equal(sg_smpp_time_from_unix_ms(946684800000LL, -4, &t),
                   SG_ERANGE);
  assert_int_equal(sg_smpp_time_from_unix_ms(946684800000LL - 1, 0, &t),
                   SG_ERANGE);
  assert_int_equal(sg_smpp_time_from_unix_ms(4102444800000LL, 0, &t),
                   SG_ERANGE);
  assert_int_equal(sg_smpp_time_from_unix_ms(1709251199900LL, 49, &t),
                   SG_ERANGE);
  assert_int_equal(sg_smpp_time_from_unix_ms(1709251199900LL, -49, &t),
                   SG_ERANGE);
  assert_int_equal(sg_smpp_time_from_unix_ms(INT64_MAX, 0, &t), SG_ERANGE);
  assert_int_equal(sg_smpp_time_from_unix_ms(INT64_MIN, 0, &t), SG_ERANGE);
  assert_int_equal(sg_smpp_time_from_unix_ms(0, 0, NULL), SG_EINVAL);
}

static void test_relative(void **state) {
  (void)state;
  sg_smpp_time_t t;
  char out[SG_SMPP_TIME_SIZE];
  /* Section 7.1.1.2's example: 2 years, 1 month, 10 days, 5 hours, 30
   * minutes, 10 seconds from now. */
  assert_int_equal(sg_smpp_time_parse("020110053010000R", 16, &t), 0);
  assert_true(t.relative);
  assert_int_equal(t.year, 2);
  assert_int_equal(t.month, 1);
  assert_int_equal(t.day, 10);
  assert_int_equal(t.hour, 5);
  assert_int_equal(t.minute, 30);
  assert_int_equal(t.second, 10);
  assert_int_equal(sg_smpp_time_format(&t, out), 0);
  assert_string_equal(out, "020110053010000R");

  /* 2023-01-31T12:00Z + 1 month = 2023-02-28T12:00Z (clamped), + 1 year 1
   * month = 2024-02-29T12:00Z (leap), + 2 years 1 month = 2025-02-28. */
  const int64_t jan31 = 1675166400000LL;
  int64_t ms;
  assert_int_equal(sg_smpp_time_parse("000100000000000R", 16, &t), 0);
  assert_int_equal(sg_smpp_time_to_unix_ms(&t, jan31, &ms), 0);
  assert_int_equal(ms, 1677585600000LL);
  assert_int_equal(sg_smpp_time_parse("010100000000000R", 16, &t), 0);
  assert_int_equal(sg_smpp_time_to_unix_ms(&t, jan31, &ms), 0);
  assert_int_equal(ms, 1709208000000LL);
  assert_int_equal(sg_smpp_time_parse("020100000000000R", 16, &t), 0);
  assert_int_equal(sg_smpp_time_to_unix_ms(&t, jan31, &ms), 0);
  assert_int_equal(ms, 1740744000000LL);
  /* Fields above a date's range are amounts, and add up: 99 hours. */
  assert_int_equal(sg_smpp_time_parse("000000990000000R", 16, &t), 0);
  assert_int_equal(sg_smpp_time_to_unix_ms(&t, 1000, &ms), 0);
  assert_int_equal(ms, 1000 + 99LL * 3600000);
  assert_int_equal(sg_smpp_time_parse("000000000099000R", 16, &t), 0);
  assert_int_equal(sg_smpp_time_to_unix_ms(&t, 0, &ms), 0);
  assert_int_equal(ms, 99000);
}

static void test_from_seconds(void **state) {
  (void)state;
  sg_smpp_time_t t;
  char out[SG_SMPP_TIME_SIZE];
  assert_int_equal(sg_smpp_time_from_seconds(0, &t), 0);
  assert_int_equal(sg_smpp_time_format(&t, out), 0);
  assert_string_equal(out, "000000000000000R");
  assert_int_equal(sg_smpp_time_from_seconds(86400 + 3600 * 2 + 60 * 3 + 4, &t),
                   0);
  assert_int_equal(sg_smpp_time_format(&t, out), 0);
  assert_string_equal(out, "000001020304000R");
  assert_int_equal(sg_smpp_time_from_seconds(100u * 86400 - 1, &t), 0);
  assert_int_equal(sg_smpp_time_format(&t, out), 0);
  assert_string_equal(out, "000099235959000R");
  assert_int_equal(sg_smpp_time_from_seconds(100u * 86400, &t), SG_ERANGE);
  int64_t ms;
  assert_int_equal(sg_smpp_time_from_seconds(172800, &t), 0);
  assert_int_equal(sg_smpp_time_to_unix_ms(&t, 1675166400000LL, &ms), 0);
  assert_int_equal(ms, 1675166400000LL + 172800000LL);
}

typedef struct bad_case {
  const char *text;
  size_t len;
  int rc;
} bad_case_t;

static const bad_case_t bad_cases[] = {
    {"000101000000000+", 15, SG_EINVAL},  /* short */
    {"000101000000000+0", 17, SG_EINVAL}, /* long */
    {"", 0, SG_EINVAL},                   /* the NULL string is not a time */
    {"0001010000000000", 16, SG_EPROTO},  /* no sign */
    {"000101000000000r", 16, SG_EPROTO},  /* lower-case R */
    {"000101000000000 ", 16, SG_EPROTO},
    {"0a0101000000000+", 16, SG_EPROTO}, /* letter in YY */
    {"00010100000000x+", 16, SG_EPROTO}, /* letter in nn */
    {"000101000000 00+", 16, SG_EPROTO}, /* space in t */
    {"00-101000000000+", 16, SG_EPROTO},
    {"000100000000100R", 16, SG_EPROTO}, /* relative: tnn must be 000 */
    {"000100000000001R", 16, SG_EPROTO},
    {"001301000000000+", 16, SG_ERANGE}, /* month 13 */
    {"000001000000000+", 16, SG_ERANGE}, /* month 0 */
    {"000100000000000+", 16, SG_ERANGE}, /* day 0 */
    {"010229000000000+", 16, SG_ERANGE}, /* 29 Feb 2001 */
    {"000431000000000+", 16, SG_ERANGE}, /* 31 April */
    {"000101240000000+", 16, SG_ERANGE}, /* hour 24 */
    {"000101006000000+", 16, SG_ERANGE}, /* minute 60 */
    {"000101000060000+", 16, SG_ERANGE}, /* second 60 */
    {"000101000000049+", 16, SG_ERANGE}, /* nn 49 */
    {"000101000000099-", 16, SG_ERANGE},
};

static void test_malformed(void **state) {
  (void)state;
  for (size_t i = 0; i < sizeof bad_cases / sizeof bad_cases[0]; i++) {
    sg_smpp_time_t t;
    int rc = sg_smpp_time_parse(bad_cases[i].text, bad_cases[i].len, &t);
    if (rc != bad_cases[i].rc)
      fail_msg("case %zu \"%s\": got %d, want %d", i, bad_cases[i].text, rc,
               bad_cases[i].rc);
  }
  sg_smpp_time_t t;
  assert_int_equal(sg_smpp_time_parse(NULL, 16, &t), SG_EINVAL);
  assert_int_equal(sg_smpp_time_parse("000101000000000+", 16, NULL), SG_EINVAL);
  /* 29 February 2000 is a leap day (divisible by 400). */
  assert_int_equal(sg_smpp_time_parse("000229000000000+", 16, &t), 0);
}

static void test_format_refuses(void **state) {
  (void)state;
  char out[SG_SMPP_TIME_SIZE];
  sg_smpp_time_t t = {.year = 2024, .month = 2, .day = 30};
  assert_int_equal(sg_smpp_time_format(&t, out), SG_ERANGE);
  t = (sg_smpp_time_t){.year = 1999, .month = 1, .day = 1};
  assert_int_equal(sg_smpp_time_format(&t, out), SG_ERANGE);
  t = (sg_smpp_time_t){.year = 2024, .month = 1, .day = 1, .tenths = 10};
  assert_int_equal(sg_smpp_time_format(&t, out), SG_ERANGE);
  t = (sg_smpp_time_t){.year = 2024, .month = 1, .day = 1, .utc_quarters = -49};
  assert_int_equal(sg_smpp_time_format(&t, out), SG_ERANGE);
  t = (sg_smpp_time_t){.relative = true, .day = 100};
  assert_int_equal(sg_smpp_time_format(&t, out), SG_ERANGE);
  t = (sg_smpp_time_t){.relative = true, .day = 1, .tenths = 1};
  assert_int_equal(sg_smpp_time_format(&t, out), SG_ERANGE);
  t = (sg_smpp_time_t){.relative = true, .day = 1, .utc_quarters = 4};
  assert_int_equal(sg_smpp_time_format(&t, out), SG_ERANGE);
  int64_t ms;
  assert_int_equal(sg_smpp_time_to_unix_ms(&t, 0, &ms), SG_ERANGE);
  assert_int_equal(sg_smpp_time_format(NULL, out), SG_EINVAL);
  assert_int_equal(sg_smpp_time_to_unix_ms(NULL, 0, &ms), SG_EINVAL);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_parse_absolute), cmocka_unit_test(test_fields),
      cmocka_unit_test(test_from_unix),      cmocka_unit_test(test_relative),
      cmocka_unit_test(test_from_seconds),   cmocka_unit_test(test_malformed),
      cmocka_unit_test(test_format_refuses),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
