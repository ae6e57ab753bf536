/* Tests for the query of GET /v1/stats/traffic (ingress/rest/traffic.c):
 * defaults, rounding to whole minutes, the default step, and every bad
 * argument refused with a 400 naming it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "core/error.h"
#include "ingress/rest/traffic_int.h"

/* 2026-11-26T10:15:30.500Z */
#define NOW 1795688130500LL
#define MIN_MS 60000LL

static int parse(const char *n1, const char *v1, const char *n2, const char *v2,
                 const char *n3, const char *v3, sg_store_traffic_q_t *q,
                 sg_rest_err_t *err) {
  const char *names[] = {n1, n2, n3};
  const char *values[] = {v1, v2, v3};
  size_t n = n1 == NULL ? 0 : n2 == NULL ? 1 : n3 == NULL ? 2 : 3;
  memset(err, 0, sizeof *err);
  return sg__rest_traffic_parse(names, values, n, NOW, q, err);
}

static void defaults(void **state) {
  (void)state;
  sg_store_traffic_q_t q;
  sg_rest_err_t err;
  assert_int_equal(parse(NULL, NULL, NULL, NULL, NULL, NULL, &q, &err), 0);
  /* to: the end of now's minute, 10:16; from: 24 h before; 60 buckets of
   * 24 minutes. */
  int64_t to = NOW - NOW % MIN_MS + MIN_MS;
  assert_int_equal(q.from_ms, to - 24 * 60 * MIN_MS);
  assert_int_equal(q.step_ms, 24 * MIN_MS);
  assert_int_equal(q.buckets, 60);
  assert_int_equal(q.account_id, 0);
}

static void rounding_and_steps(void **state) {
  (void)state;
  sg_store_traffic_q_t q;
  sg_rest_err_t err;
  assert_int_equal(parse("from", "2026-11-26T10:00:59Z", "to",
                         "2026-11-26T10:10:01Z", "step", "120", &q, &err),
                   0);
  /* 10:00 to 10:11: 11 minutes in steps of 2, the last one past `to`. */
  assert_int_equal(q.from_ms, 1795687200000LL);
  assert_int_equal(q.step_ms, 2 * MIN_MS);
  assert_int_equal(q.buckets, 6);
  /* A 90-minute range by default: 60 buckets of 2 minutes (1.5 rounded
   * up), 45 of them. An offset in the time is applied. */
  assert_int_equal(parse("from", "2026-11-26T12:00:00+03:00", "to",
                         "2026-11-26T10:30:00Z", "account", "shop", &q, &err),
                   0);
  assert_int_equal(q.from_ms, 1795683600000LL);
  assert_int_equal(q.step_ms, 2 * MIN_MS);
  assert_int_equal(q.buckets, 45);
  /* 1,440 one-minute buckets is the most. */
  assert_int_equal(
      parse("from", "2026-11-25T10:16:00Z", "step", "60", NULL, NULL, &q, &err),
      0);
  assert_int_equal(q.buckets, 1440);
}

static void expect_bad(const char *n1, const char *v1, const char *n2,
                       const char *v2, const char *field, const char *code) {
  sg_store_traffic_q_t q;
  sg_rest_err_t err;
  assert_int_equal(parse(n1, v1, n2, v2, NULL, NULL, &q, &err), SG_EINVAL);
  assert_int_equal(err.http, 400);
  assert_string_equal(err.field, field);
  assert_string_equal(err.code, code);
  assert_true(err.message[0] != '\0');
}

static void bad_arguments(void **state) {
  (void)state;
  expect_bad("step", "90", NULL, NULL, "step", "invalid_value");
  expect_bad("step", "0", NULL, NULL, "step", "invalid_value");
  expect_bad("step", "-60", NULL, NULL, "step", "invalid_value");
  expect_bad("step", "60s", NULL, NULL, "step", "invalid_value");
  expect_bad("step", "", NULL, NULL, "step", "invalid_value");
  expect_bad("step", "99999999999999999999", NULL, NULL, "step",
             "invalid_value");
  expect_bad("step", "2678460", NULL, NULL, "step", "invalid_value");
  expect_bad("from", "yesterday", NULL, NULL, "from", "invalid_value");
  expect_bad("from", "", NULL, NULL, "from", "invalid_value");
  expect_bad("to", "2026-13-01T00:00:00Z", NULL, NULL, "to", "invalid_value");
  /* to not after from (after rounding to minutes too). */
  expect_bad("from", "2026-11-26T10:00:00Z", "to", "2026-11-26T09:00:00Z", "to",
             "invalid_value");
  expect_bad("from", "2026-11-26T10:00:00Z", "to", "2026-11-26T10:00:00Z", "to",
             "invalid_value");
  /* 32 days; 1,441 one-minute buckets; 2 days by default's 60 is fine,
   * with step=60 it is not. */
  expect_bad("from", "2026-10-25T10:00:00Z", NULL, NULL, "from",
             "invalid_value");
  expect_bad("from", "2026-11-25T10:15:00Z", "step", "60", "step",
             "invalid_value");
  expect_bad("from", "2026-11-24T10:00:00Z", "step", "60", "step",
             "invalid_value");
  expect_bad("bucket", "60", NULL, NULL, "bucket", "unknown_field");
  expect_bad("step", "60", "step", "120", "step", "invalid_value");
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(defaults),
      cmocka_unit_test(rounding_and_steps),
      cmocka_unit_test(bad_arguments),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
