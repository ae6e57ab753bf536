/* Tests for engine/inbound.h: rule matching by destination, keyword with
 * aliases (any case, Cyrillic too), regular expression and their
 * combinations, first match wins; STOP/START/HELP keyword lists (defaults
 * and configured); the opt-out set (add, remove, per account, growth);
 * the automatic reply limit per pair of numbers and window. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "core/config.h"
#include "core/error.h"
#include "core/mo.h"
#include "engine/inbound.h"

static sg_config_t *load(const char *inbound) {
  char doc[4096];
  snprintf(doc, sizeof doc,
           "accounts:\n  - {name: a, api_key: ka}\n  - {name: b, api_key: "
           "kb}\n%s",
           inbound);
  sg_config_t *cfg = NULL;
  sg_config_errors_t errs;
  if (sg_config_load_string("t.yaml", doc, strlen(doc), &cfg, &errs) != 0) {
    char line[300];
    sg_config_error_format(&errs, 0, line, sizeof line);
    fail_msg("%s", line);
  }
  return cfg;
}

/* The rule for text to `to` (the keyword taken as the engine takes it). */
static int match(const sg_inbound_rules_t *r, const char *to,
                 const char *text) {
  char kw[128];
  if (sg_mo_keyword((const uint8_t *)text, strlen(text), kw, sizeof kw) < 0)
    kw[0] = '\0';
  return sg_inbound_rules_match(r, to, (const uint8_t *)text, strlen(text), kw);
}

static const char rules_yaml[] =
    "inbound:\n"
    "  rules:\n"
    "    - {to: \"+79001112233\", keyword: info, aliases: [\xD0\xB8\xD0\xBD"
    "\xD1\x84\xD0\xBE, details], account: a}\n"
    "    - {to: \"4444\", account: b}\n"
    "    - {regex: \"order\\\\s+#?\\\\d+\", account: b}\n"
    "    - {keyword: PRICE, regex: \"eur$\", account: a}\n";

static void rules_match(void **state) {
  (void)state;
  sg_config_t *cfg = load(rules_yaml);
  sg_inbound_rules_t *r;
  assert_int_equal(sg_inbound_rules_new(&cfg->inbound, &r), 0);
  assert_int_equal(match(r, "+79001112233", "info please"), 0);
  assert_int_equal(match(r, "79001112233", "INFO"), 0); /* '+' optional */
  assert_int_equal(match(r, "+79001112233", "  Details, now"), 0);
  assert_int_equal(
      match(r, "+79001112233", "\xD0\x98\xD0\x9D\xD0\xA4\xD0\x9E?"), /* ИНФО? */
      0);
  assert_int_equal(match(r, "+79001112233", "information"), -1);
  assert_int_equal(match(r, "+79009999999", "info"), -1); /* other number */
  assert_int_equal(match(r, "4444", "anything at all"), 1);
  assert_int_equal(match(r, "100", "where is ORDER #1234?"), 2);
  assert_int_equal(match(r, "100", "order none"), -1);
  assert_int_equal(match(r, "100", "price in EUR"), 3);
  assert_int_equal(match(r, "100", "price in usd"), -1); /* both needed */
  assert_int_equal(match(r, "100", "in eur"), -1);
  /* Binary messages: only rules without keyword or regex can match. */
  assert_int_equal(sg_inbound_rules_match(r, "4444", NULL, 0, ""), 1);
  assert_int_equal(sg_inbound_rules_match(r, "100", NULL, 0, ""), -1);
  sg_inbound_rules_free(r);
  sg_config_free(cfg);

  /* a rule with only an account, last: every message the others leave */
  cfg = load("inbound:\n  rules:\n    - {to: \"4444\", account: b}\n"
             "    - {account: a}\n");
  assert_int_equal(sg_inbound_rules_new(&cfg->inbound, &r), 0);
  assert_int_equal(match(r, "4444", "hello"), 0);
  assert_int_equal(match(r, "100", "anything else"), 1);
  assert_int_equal(sg_inbound_rules_match(r, "100", NULL, 0, ""), 1);
  sg_inbound_rules_free(r);
  sg_config_free(cfg);
}

static void keyword_lists(void **state) {
  (void)state;
  sg_config_t *cfg = load("");
  sg_inbound_rules_t *r;
  assert_int_equal(sg_inbound_rules_new(&cfg->inbound, &r), 0);
  char kw[64];
  const char *stops[] = {"stop",
                         "Stopall",
                         "UNSUBSCRIBE",
                         "cancel",
                         "end",
                         "quit",
                         "\xD1\x81\xD1\x82\xD0\xBE\xD0\xBF",
                         ("\xD0\xBE\xD1\x82\xD0\xBF\xD0\xB8\xD1\x81\xD0\xB0"
                          "\xD1\x82\xD1\x8C\xD1\x81\xD1\x8F")};
  for (size_t i = 0; i < sizeof stops / sizeof stops[0]; i++) {
    assert_true(sg_mo_keyword((const uint8_t *)stops[i], strlen(stops[i]), kw,
                              sizeof kw) > 0);
    assert_int_equal(sg_inbound_rules_keyword(r, kw), SG_INBOUND_KW_STOP);
  }
  assert_int_equal(sg_inbound_rules_keyword(r, "START"), SG_INBOUND_KW_START);
  assert_int_equal(sg_inbound_rules_keyword(r, "UNSTOP"), SG_INBOUND_KW_START);
  assert_int_equal(sg_inbound_rules_keyword(r, "HELP"), SG_INBOUND_KW_HELP);
  assert_int_equal(sg_inbound_rules_keyword(r, "STOPS"), SG_INBOUND_KW_NONE);
  assert_int_equal(sg_inbound_rules_keyword(r, ""), SG_INBOUND_KW_NONE);
  sg_inbound_rules_free(r);
  sg_config_free(cfg);
  cfg =
      load("inbound: {stop_keywords: [halt], start_keywords: [Go], "
           "help_keywords: [\xD0\xBF\xD0\xBE\xD0\xBC\xD0\xBE\xD1\x89\xD1\x8C]}"
           "\n");
  assert_int_equal(sg_inbound_rules_new(&cfg->inbound, &r), 0);
  assert_int_equal(sg_inbound_rules_keyword(r, "HALT"), SG_INBOUND_KW_STOP);
  assert_int_equal(sg_inbound_rules_keyword(r, "STOP"), SG_INBOUND_KW_NONE);
  assert_int_equal(sg_inbound_rules_keyword(r, "GO"), SG_INBOUND_KW_START);
  assert_int_equal(
      sg_inbound_rules_keyword(r, "\xD0\x9F\xD0\x9E\xD0\x9C\xD0\x9E\xD0\xA9"
                                  "\xD0\xAC"), /* ПОМОЩЬ */
      SG_INBOUND_KW_HELP);
  sg_inbound_rules_free(r);
  sg_config_free(cfg);
}

static void optout_set(void **state) {
  (void)state;
  sg_optset_t *s = sg_optset_new();
  assert_non_null(s);
  assert_false(sg_optset_has(s, 1, "+79001234567"));
  assert_int_equal(sg_optset_add(s, 1, "+79001234567"), 0);
  assert_int_equal(sg_optset_add(s, 1, "+79001234567"), 0);
  assert_int_equal(sg_optset_count(s), 1);
  assert_true(sg_optset_has(s, 1, "+79001234567"));
  assert_false(sg_optset_has(s, 2, "+79001234567")); /* per account */
  char n[32];
  for (int i = 0; i < 5000; i++) { /* grows, keeps every entry */
    snprintf(n, sizeof n, "+7900%07d", i);
    assert_int_equal(sg_optset_add(s, 2, n), 0);
  }
  assert_int_equal(sg_optset_count(s), 5001);
  for (int i = 0; i < 5000; i += 2) {
    snprintf(n, sizeof n, "+7900%07d", i);
    sg_optset_remove(s, 2, n);
  }
  assert_int_equal(sg_optset_count(s), 2501);
  for (int i = 0; i < 5000; i++) {
    snprintf(n, sizeof n, "+7900%07d", i);
    assert_int_equal(sg_optset_has(s, 2, n), i % 2 == 1);
  }
  sg_optset_remove(s, 1, "+79001234567");
  assert_false(sg_optset_has(s, 1, "+79001234567"));
  sg_optset_remove(s, 1, "+79001234567"); /* absent: nothing */
  assert_int_equal(sg_optset_count(s), 2500);
  sg_optset_free(s);
  sg_optset_free(NULL);
}

static void reply_limit(void **state) {
  (void)state;
  sg_replyguard_t *g = sg_replyguard_new(3, 1000);
  int64_t t = 1000000;
  for (int i = 0; i < 3; i++)
    assert_true(sg_replyguard_take(g, "100", "+79001234567", t + i));
  assert_false(sg_replyguard_take(g, "100", "+79001234567", t + 10));
  assert_true(sg_replyguard_take(g, "100", "+79007654321", t + 10));
  assert_true(sg_replyguard_take(g, "200", "+79001234567", t + 10));
  assert_false(sg_replyguard_take(g, "100", "+79001234567", t + 999));
  assert_true(sg_replyguard_take(g, "100", "+79001234567", t + 1000));
  char n[32];
  for (int i = 0; i < 100; i++) { /* many pairs */
    snprintf(n, sizeof n, "+7900%07d", i);
    assert_true(sg_replyguard_take(g, "100", n, t + 5000));
  }
  sg_replyguard_free(g);
  g = sg_replyguard_new(0, 1000); /* no automatic replies at all */
  assert_false(sg_replyguard_take(g, "100", "+79001234567", t));
  sg_replyguard_free(g);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(rules_match),
      cmocka_unit_test(keyword_lists),
      cmocka_unit_test(optout_set),
      cmocka_unit_test(reply_limit),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
