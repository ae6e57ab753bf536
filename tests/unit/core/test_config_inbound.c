/* Tests for the `inbound` section of the configuration: defaults, rules
 * with their checks (an account that exists, a regular expression that
 * compiles, at least one condition, aliases only with a keyword, a number
 * for `to`), and an account's inbound_url. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "core/config.h"
#include "core/error.h"

static const char accounts[] =
    "accounts:\n"
    "  - {name: demo, api_key: k, inbound_url: \"http://127.0.0.1:9/in\"}\n";

/* Loads accounts + extra; returns the code, and the formatted errors
 * joined by '\n' in out. */
static int load(const char *extra, sg_config_t **cfg, char *out, size_t cap) {
  char doc[2048];
  snprintf(doc, sizeof doc, "%s%s", accounts, extra);
  sg_config_errors_t errs;
  int rc = sg_config_load_string("t.yaml", doc, strlen(doc), cfg, &errs);
  out[0] = '\0';
  for (size_t i = 0; rc != 0 && i < errs.count; i++) {
    char line[400];
    sg_config_error_format(&errs, i, line, sizeof line);
    strncat(out, line, cap - strlen(out) - 2);
    strcat(out, "\n");
  }
  return rc;
}

static void defaults(void **state) {
  (void)state;
  sg_config_t *cfg;
  char err[2048];
  assert_int_equal(load("", &cfg, err, sizeof err), 0);
  const sg_config_inbound_t *in = &cfg->inbound;
  assert_int_equal(in->n_rules, 0);
  assert_null(in->catch_all);
  assert_int_equal(in->reassembly_timeout_ms, 60000);
  assert_int_equal(in->n_stop_keywords, 8);
  assert_string_equal(in->stop_keywords[0], "STOP");
  assert_string_equal(in->stop_keywords[6],
                      "\xD0\xA1\xD0\xA2\xD0\x9E\xD0\x9F"); /* СТОП */
  assert_string_equal(in->start_keywords[1], "UNSTOP");
  assert_int_equal(in->reply_limit, 5);
  assert_int_equal(in->reply_window_ms, 3600000);
  assert_string_equal(cfg->accounts[0].inbound_url, "http://127.0.0.1:9/in");
  sg_config_free(cfg);
}

static void rules_ok(void **state) {
  (void)state;
  sg_config_t *cfg;
  char err[2048];
  const char *y = "inbound:\n"
                  "  rules:\n"
                  "    - {to: \"100\", account: demo}\n"
                  "    - {keyword: \xD0\xB8\xD0\xBD\xD1\x84\xD0\xBE, aliases: "
                  "[INFO], account: demo}\n"
                  "    - {regex: \"^(price|cost)\\\\s\", account: demo}\n"
                  "    - {keyword: WX, account: demo, url: "
                  "\"http://wx.example/?q=%a\"}\n"
                  "  catch_all: demo\n";
  assert_int_equal(load(y, &cfg, err, sizeof err), 0);
  assert_int_equal(cfg->inbound.n_rules, 4);
  assert_string_equal(cfg->inbound.rules[0].to, "100");
  assert_int_equal(cfg->inbound.rules[1].n_aliases, 1);
  assert_string_equal(cfg->inbound.rules[2].regex, "^(price|cost)\\s");
  assert_int_equal(cfg->inbound.rules[2].action, SG_CONFIG_INBOUND_WEBHOOK);
  assert_int_equal(cfg->inbound.rules[3].action, SG_CONFIG_INBOUND_URL);
  assert_int_equal(cfg->inbound.rules[3].method, SG_CONFIG_INBOUND_GET);
  assert_true(cfg->inbound.rules[3].reply);
  sg_config_free(cfg);
}

static void rule_errors(void **state) {
  (void)state;
  sg_config_t *cfg = NULL;
  char err[2048];
  const char *y = "inbound:\n"
                  "  rules:\n"
                  "    - {keyword: \"\", account: demo}\n"
                  "    - {to: abc, account: demo}\n"
                  "    - {regex: \"(unclosed\", account: demo}\n"
                  "    - {aliases: [X], to: \"1\", account: demo}\n"
                  "    - {to: \"1\", account: nobody}\n"
                  "    - {to: \"1\", account: demo, action: url}\n"
                  "    - {to: \"1\", account: demo, url: \"ftp://x/%p\"}\n"
                  "    - {to: \"1\", account: demo, url: \"http://x/\", "
                  "method: PUT}\n"
                  "  catch_all: ghost\n"
                  "  reassembly_timeout: 10ms\n";
  assert_int_equal(load(y, &cfg, err, sizeof err), SG_ECONFIG);
  assert_null(cfg);
  assert_non_null(strstr(err, "inbound.rules[0].keyword:"));
  assert_non_null(strstr(err, "inbound.rules[1].to: expected a number"));
  assert_non_null(strstr(err, "inbound.rules[2].regex: not a valid regular "
                              "expression: missing closing parenthesis"));
  assert_non_null(strstr(err, "inbound.rules[3].aliases: aliases need a "
                              "keyword"));
  assert_non_null(strstr(err, "inbound.rules[4].account: no account named "
                              "\"nobody\""));
  assert_non_null(strstr(err, "inbound.rules[5].action: action url needs a "
                              "url"));
  assert_non_null(strstr(err, "inbound.rules[6].url: expected an http:// or "
                              "https:// URL"));
  assert_non_null(strstr(err, "inbound.rules[7].method:"));
  assert_non_null(strstr(err, "inbound.catch_all: no account named \"ghost\""));
  assert_non_null(strstr(err, "inbound.reassembly_timeout:"));
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(defaults),
      cmocka_unit_test(rules_ok),
      cmocka_unit_test(rule_errors),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
