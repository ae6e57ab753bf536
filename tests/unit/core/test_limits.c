/* Tests for core/limits.h and the account keys built on it: sender globs
 * (with the patterns that make naive matchers backtrack), destinations by
 * prefix and region, amounts parsed and written exactly, the longest price
 * prefix, UTC periods across month and year ends and leap days, and the
 * configuration keys destinations, quota and billing with their errors at
 * file:line:column. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "core/config.h"
#include "core/error.h"
#include "core/limits.h"

static bool glob(const char *p, const char *t) {
  return sg_limits_glob(p, strlen(p), t, strlen(t));
}

static void test_glob(void **state) {
  (void)state;
  static const struct {
    const char *pat, *text;
    bool match;
  } cases[] = {
      {"Shop*", "Shop", true},
      {"Shop*", "ShopNews", true},
      {"Shop*", "shopNews", false}, /* case matters */
      {"Shop*", "MyShop", false},
      {"+7900*", "+79001234567", true},
      {"+7900*", "+7901234567", false},
      {"Sh?p", "Shop", true},
      {"Sh?p", "Shp", false},
      {"Sh?p", "Shoop", false},
      {"*", "", true},
      {"", "", true},
      {"", "a", false},
      {"a*b*c", "abc", true},
      {"a*b*c", "aXbYc", true},
      {"a*b*c", "aXbYcZ", false},
      {"*News", "ShopNews", true},
      {"*News", "ShopNewsX", false},
      {"**a", "a", true},
      {"a*a*a*a*b", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", false},
      {"?", "", false},
      {"*?", "x", true},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
    if (glob(cases[i].pat, cases[i].text) != cases[i].match) {
      fprintf(stderr, "glob(%s, %s) should be %d\n", cases[i].pat,
              cases[i].text, cases[i].match);
      fail();
    }
}

static void test_senders(void **state) {
  (void)state;
  const char *list[] = {"Shop*", "+7900*", "Info"};
  assert_true(sg_limits_sender_allowed(list, 3, "ShopSale"));
  assert_true(sg_limits_sender_allowed(list, 3, "+790012345"));
  assert_true(sg_limits_sender_allowed(list, 3, "Info"));
  assert_false(sg_limits_sender_allowed(list, 3, "Info2")); /* exact */
  assert_false(sg_limits_sender_allowed(list, 3, "Bank"));
  assert_false(sg_limits_sender_allowed(list, 3, ""));
  assert_true(sg_limits_sender_allowed(NULL, 0, "Anything"));
}

static void test_destinations(void **state) {
  (void)state;
  const char *list[] = {"DE", "+7", "+4479"};
  assert_true(sg_limits_destination_allowed(list, 3, "+4915112345678", "DE"));
  assert_true(sg_limits_destination_allowed(list, 3, "+79001234567", "RU"));
  assert_true(sg_limits_destination_allowed(list, 3, "+77011234567", "KZ"));
  assert_true(sg_limits_destination_allowed(list, 3, "+447911123456", "GB"));
  assert_false(sg_limits_destination_allowed(list, 3, "+442079460958", "GB"));
  assert_false(sg_limits_destination_allowed(list, 3, "+33612345678", "FR"));
  assert_false(sg_limits_destination_allowed(list, 3, "+80012345678", "001"));
  assert_true(sg_limits_destination_allowed(NULL, 0, "+33612345678", "FR"));
  assert_true(sg_limits_destination_valid("DE"));
  assert_true(sg_limits_destination_valid("+4915"));
  assert_true(sg_limits_destination_valid("+123456789012345"));
  assert_false(sg_limits_destination_valid("+1234567890123456"));
  assert_false(sg_limits_destination_valid("+"));
  assert_false(sg_limits_destination_valid("de"));
  assert_false(sg_limits_destination_valid("DEU"));
  assert_false(sg_limits_destination_valid("4915"));
  assert_false(sg_limits_destination_valid("+49 15"));
  assert_false(sg_limits_destination_valid(""));
}

static void test_amounts(void **state) {
  (void)state;
  static const struct {
    const char *in;
    int rc;
    int64_t micro;
    const char *out;
  } cases[] = {
      {"12.50", 0, 12500000, "12.50"},
      {"0.025", 0, 25000, "0.025"},
      {"7", 0, 7000000, "7.00"},
      {"0.000001", 0, 1, "0.000001"},
      {"-1.5", 0, -1500000, "-1.50"},
      {"0", 0, 0, "0.00"},
      {"1000000000", 0, 1000000000000000, "1000000000.00"},
      {"1000000000.000001", SG_ERANGE, 0, NULL},
      {"99999999999", SG_ERANGE, 0, NULL},
      {"0.0000001", SG_EINVAL, 0, NULL},
      {"", SG_EINVAL, 0, NULL},
      {"-", SG_EINVAL, 0, NULL},
      {".5", SG_EINVAL, 0, NULL},
      {"5.", SG_EINVAL, 0, NULL},
      {"1e3", SG_EINVAL, 0, NULL},
      {"+1", SG_EINVAL, 0, NULL},
      {" 1", SG_EINVAL, 0, NULL},
      {"1,5", SG_EINVAL, 0, NULL},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    int64_t v = -42;
    int rc = sg_limits_amount_parse(cases[i].in, strlen(cases[i].in), &v);
    if (rc != cases[i].rc || (rc == 0 && v != cases[i].micro)) {
      fprintf(stderr, "parse(%s) = %d, %lld\n", cases[i].in, rc, (long long)v);
      fail();
    }
    if (rc == 0) {
      char out[32];
      sg_limits_amount_format(v, out);
      assert_string_equal(out, cases[i].out);
    }
  }
  char out[32];
  sg_limits_amount_format(12475000, out);
  assert_string_equal(out, "12.475");
  sg_limits_amount_format(-25000, out);
  assert_string_equal(out, "-0.025");
}

static void test_prices(void **state) {
  (void)state;
  const sg_config_price_t p[] = {
      {"+7", 25000}, {"+49", 70000}, {"+", 100000}, {"+4915", 50000}};
  int64_t m = 0;
  assert_int_equal(sg_limits_price_find(p, 4, "+79001234567", &m), 0);
  assert_int_equal(m, 25000);
  assert_int_equal(sg_limits_price_find(p, 4, "+4915112345678", &m), 0);
  assert_int_equal(m, 50000); /* the longest prefix, wherever it is */
  assert_int_equal(sg_limits_price_find(p, 4, "+4930123456", &m), 0);
  assert_int_equal(m, 70000);
  assert_int_equal(sg_limits_price_find(p, 4, "+33612345678", &m), 0);
  assert_int_equal(m, 100000);
  m = -1;
  assert_int_equal(sg_limits_price_find(p, 2, "+33612345678", &m), SG_ENOENT);
  assert_int_equal(m, -1);
  assert_int_equal(sg_limits_price_find(NULL, 0, "+33612345678", &m),
                   SG_ENOENT);
}

static void test_periods(void **state) {
  (void)state;
  sg_limits_period_t p;
  sg_limits_period(0, &p);
  assert_string_equal(p.day, "1970-01-01");
  assert_string_equal(p.month, "1970-01");
  assert_int_equal(p.day_end_ms, 86400000);
  assert_int_equal(p.month_end_ms, 31LL * 86400000);
  /* 2026-11-26T01:35:00Z */
  sg_limits_period(1795656900000LL, &p);
  assert_string_equal(p.day, "2026-11-26");
  assert_string_equal(p.month, "2026-11");
  assert_int_equal(p.day_end_ms, 1795737600000LL);   /* 2026-11-27 */
  assert_int_equal(p.month_end_ms, 1796083200000LL); /* 2026-12-01 */
  /* The last millisecond of 2026: the next month is in 2027. */
  sg_limits_period(1798761599999LL, &p);
  assert_string_equal(p.day, "2026-12-31");
  assert_int_equal(p.day_end_ms, 1798761600000LL);
  assert_int_equal(p.month_end_ms, 1798761600000LL);
  /* A leap day: 2028-02-29T12:00:00Z; March begins the next day. */
  sg_limits_period(1835438400000LL, &p);
  assert_string_equal(p.day, "2028-02-29");
  assert_string_equal(p.month, "2028-02");
  assert_int_equal(p.month_end_ms, 1835481600000LL);
}

/* ---- configuration ------------------------------------------------------- */

static sg_config_errors_t errs;

static sg_config_t *load(const char *yaml) {
  sg_config_t *cfg = NULL;
  sg_config_load_string("t.yaml", yaml, strlen(yaml), &cfg, &errs);
  return cfg;
}

static void expect_error(const char *yaml, const char *want) {
  sg_config_t *cfg = load(yaml);
  char line[512] = "";
  if (errs.count > 0)
    sg_config_error_format(&errs, 0, line, sizeof line);
  if (cfg != NULL || errs.count != 1 || strcmp(line, want) != 0) {
    fprintf(stderr, "want: %s\n got:\n", want);
    sg_config_errors_print(&errs, stderr);
    sg_config_free(cfg);
    fail();
  }
}

#define ACCT "accounts:\n  - name: shop\n    api_key: k-1234567890\n"

static void test_config_keys(void **state) {
  (void)state;
  sg_config_t *cfg = load(ACCT "    senders: [\"Shop*\", Info]\n"
                               "    default_sender: ShopNews\n"
                               "    destinations: [DE, \"+7\"]\n"
                               "    quota: {daily: 100, monthly: 2000}\n"
                               "    billing:\n"
                               "      prices: {\"+7\": 0.025, \"+49\": 0.07, "
                               "\"+\": \"0.10\"}\n");
  if (cfg == NULL)
    sg_config_errors_print(&errs, stderr);
  assert_non_null(cfg);
  const sg_config_account_t *a = &cfg->accounts[0];
  assert_int_equal(a->n_destinations, 2);
  assert_string_equal(a->destinations[1], "+7");
  assert_int_equal(a->quota.daily, 100);
  assert_int_equal(a->quota.monthly, 2000);
  assert_true(a->billing.enabled);
  assert_int_equal(a->billing.n_prices, 3);
  assert_string_equal(a->billing.prices[0].prefix, "+7");
  assert_int_equal(a->billing.prices[0].micro, 25000);
  assert_int_equal(a->billing.prices[1].micro, 70000);
  assert_string_equal(a->billing.prices[2].prefix, "+");
  assert_int_equal(a->billing.prices[2].micro, 100000);
  sg_config_free(cfg);

  cfg = load(ACCT);
  assert_non_null(cfg);
  assert_false(cfg->accounts[0].billing.enabled);
  assert_int_equal(cfg->accounts[0].quota.daily, 0);
  assert_int_equal(cfg->accounts[0].n_destinations, 0);
  sg_config_free(cfg);
}

static void test_config_errors(void **state) {
  (void)state;
  expect_error(ACCT "    destinations: [de]\n",
               "t.yaml:4:20: accounts[0].destinations[0]: expected an ISO "
               "3166 region in upper case (like DE) or \"+\" and 1-15 digits "
               "(like \"+4915\")");
  expect_error(ACCT "    billing: {prices: {\"+7\": -0.1}}\n",
               "t.yaml:4:30: accounts[0].billing.prices.+7: expected a price "
               "per part from 0 to 1000 with at most 6 decimals (like 0.025)");
  expect_error(ACCT "    billing: {prices: {\"7\": 0.1}}\n",
               "t.yaml:4:24: accounts[0].billing.prices.7: a price's key must "
               "be \"+\" and up to 15 digits (like \"+7\", \"+4915\" or \"+\" "
               "for every number)");
  expect_error(ACCT "    billing: {prices: {\"+7\": 0.0000001}}\n",
               "t.yaml:4:30: accounts[0].billing.prices.+7: expected a price "
               "per part from 0 to 1000 with at most 6 decimals (like 0.025)");
  expect_error(ACCT "    billing: {}\n",
               "t.yaml:4:14: accounts[0].billing: missing required key "
               "\"prices\"");
  expect_error(ACCT "    billing: {prices: [1]}\n",
               "t.yaml:4:23: accounts[0].billing.prices: expected a mapping "
               "of up to 4096 number prefixes to prices, like {\"+7\": 0.025, "
               "\"+\": 0.10}");
  expect_error(ACCT "    quota: {daily: 10, monthly: 5}\n",
               "t.yaml:4:12: accounts[0].quota: daily (10) is more than "
               "monthly (5)");
  expect_error(ACCT "    quota: {dayly: 10}\n",
               "t.yaml:4:13: accounts[0].quota.dayly: unknown key; did you "
               "mean \"daily\"?");
  expect_error(ACCT "    senders: [\"Shop*\"]\n    default_sender: Bank\n",
               "t.yaml:5:21: accounts[0].default_sender: is not one of "
               "\"senders\"");
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_glob),         cmocka_unit_test(test_senders),
      cmocka_unit_test(test_destinations), cmocka_unit_test(test_amounts),
      cmocka_unit_test(test_prices),       cmocka_unit_test(test_periods),
      cmocka_unit_test(test_config_keys),  cmocka_unit_test(test_config_errors),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
