/* Tests for engine/inrules.h and core/inrule.h: a rule read from JSON
 * (defaults, every key), the malformed rules refused with the field, code
 * and reason the API answers (a table: wrong types, bad values, a regex
 * with its offset, unknown keys), the JSON written back reading the same;
 * the URL template of a rule filled with Kannel's escape codes (UTF-8 and
 * spaces escaped); and the reply counts put back after a restart
 * (sg_replyguard_state / sg_replyguard_restore). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "core/error.h"
#include "core/inrule.h"
#include "core/kannel.h"
#include "engine/inbound.h"
#include "engine/inrules.h"

static int parse(const char *text, sg_inrule_t *out, sg_inrule_err_t *err) {
  json_error_t jerr;
  json_t *o = json_loads(text, JSON_ALLOW_NUL, &jerr);
  if (o == NULL)
    fail_msg("test JSON does not parse: %s: %s", text, jerr.text);
  int rc = sg_inrule_from_json(o, "", out, err);
  json_decref(o);
  return rc;
}

static void defaults_and_keys(void **state) {
  (void)state;
  sg_inrule_t r;
  sg_inrule_err_t err;
  assert_int_equal(parse("{\"keyword\":\"wx\",\"account\":\"shop\"}", &r, &err),
                   0);
  assert_int_equal(r.r.action, SG_CONFIG_INBOUND_WEBHOOK);
  assert_int_equal(r.r.method, SG_CONFIG_INBOUND_GET);
  assert_true(r.r.reply);
  assert_int_equal(r.r.reply_max_length, 1000);
  assert_null(r.r.url);
  assert_int_equal(r.id, 0);
  sg_inrule_clear(&r);

  assert_int_equal(
      parse(
          "{\"id\":7,\"position\":2,\"to\":\"+4444\",\"keyword\":\"wx\","
          "\"aliases\":[\"\xD0\x9F\xD0\x9E\xD0\x93\xD0\x9E\xD0\x94\xD0\x90\"],"
          "\"regex\":\"^wx\\\\s\",\"account\":\"shop\",\"url\":\"https://h/"
          "m?t=%a\",\"method\":\"post\",\"action\":\"both\",\"reply\":false,"
          "\"reply_max_length\":160}",
          &r, &err),
      0);
  assert_int_equal(r.id, 7);
  assert_int_equal(r.position, 2);
  assert_string_equal(r.r.to, "+4444");
  assert_int_equal(r.r.n_aliases, 1);
  assert_string_equal(r.r.aliases[0],
                      "\xD0\x9F\xD0\x9E\xD0\x93\xD0\x9E\xD0\x94\xD0\x90");
  assert_string_equal(r.r.regex, "^wx\\s");
  assert_string_equal(r.r.url, "https://h/m?t=%a");
  assert_int_equal(r.r.method, SG_CONFIG_INBOUND_POST);
  assert_int_equal(r.r.action, SG_CONFIG_INBOUND_BOTH);
  assert_false(r.r.reply);
  assert_int_equal(r.r.reply_max_length, 160);

  /* written back and read again: the same rule */
  json_t *o = sg_inrule_to_json(&r, true);
  assert_non_null(o);
  assert_int_equal(json_integer_value(json_object_get(o, "id")), 7);
  assert_string_equal(json_string_value(json_object_get(o, "method")), "POST");
  sg_inrule_t back;
  assert_int_equal(sg_inrule_from_json(o, "", &back, &err), 0);
  json_decref(o);
  assert_string_equal(back.r.url, r.r.url);
  assert_string_equal(back.r.aliases[0], r.r.aliases[0]);
  assert_int_equal(back.r.action, r.r.action);
  assert_int_equal(back.r.reply_max_length, 160);
  assert_false(back.r.reply);
  sg_inrule_clear(&back);
  sg_inrule_clear(&r);

  /* an account alone: a rule for every message (the API's catch-all) */
  assert_int_equal(parse("{\"account\":\"a\"}", &r, &err), 0);
  assert_null(r.r.to);
  assert_null(r.r.keyword);
  assert_null(r.r.regex);
  sg_inrule_clear(&r);

  /* a url alone means action url */
  assert_int_equal(
      parse("{\"to\":\"1\",\"account\":\"a\",\"url\":\"http://h/\"}", &r, &err),
      0);
  assert_int_equal(r.r.action, SG_CONFIG_INBOUND_URL);
  sg_inrule_clear(&r);
}

static const struct {
  const char *json;
  const char *code, *field, *message; /* message: a part of it */
} bad[] = {
    {"[1]", "invalid_type", "", "must be a JSON object"},
    {"{\"to\":\"1\"}", "missing_field", "account", "required"},
    {"{\"to\":5,\"account\":\"a\"}", "invalid_type", "to", "string or null"},
    {"{\"to\":\"12a\",\"account\":\"a\"}", "invalid_value", "to", "short code"},
    {"{\"to\":\"+\",\"account\":\"a\"}", "invalid_value", "to", "short code"},
    {"{\"to\":\"123456789012345678901\",\"account\":\"a\"}", "invalid_value",
     "to", "at most 20"},
    {"{\"keyword\":\"\",\"account\":\"a\"}", "invalid_value", "keyword",
     "1 to 64"},
    {"{\"keyword\":\"a\\u0000b\",\"account\":\"a\"}", "invalid_value",
     "keyword", "NUL"},
    {"{\"keyword\":"
     "\"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
     "xxxxx\",\"account\":\"a\"}",
     "invalid_value", "keyword", "1 to 64"},
    {"{\"to\":\"1\",\"aliases\":[\"X\"],\"account\":\"a\"}", "invalid_value",
     "aliases", "need a keyword"},
    {"{\"keyword\":\"k\",\"aliases\":\"X\",\"account\":\"a\"}", "invalid_type",
     "aliases", "array of strings"},
    {"{\"keyword\":\"k\",\"aliases\":[1],\"account\":\"a\"}", "invalid_type",
     "aliases", "array of strings"},
    {"{\"regex\":\"^(a|b\",\"account\":\"a\"}", "invalid_value", "regex",
     "missing closing parenthesis at offset 5"},
    {"{\"regex\":\"a{2,1}\",\"account\":\"a\"}", "invalid_value", "regex",
     "at offset 5"},
    {"{\"to\":\"1\",\"account\":\"a\",\"url\":\"ftp://h/\"}", "invalid_value",
     "url", "http:// or https://"},
    {"{\"to\":\"1\",\"account\":\"a\",\"url\":\"http://\"}", "invalid_value",
     "url", "with a host"},
    {"{\"to\":\"1\",\"account\":\"a\",\"url\":\"http://h/a b\"}",
     "invalid_value", "url", "without spaces"},
    {"{\"to\":\"1\",\"account\":\"a\",\"action\":\"url\"}", "invalid_value",
     "action", "needs a url"},
    {"{\"to\":\"1\",\"account\":\"a\",\"action\":\"mail\"}", "invalid_value",
     "action", "webhook, url, both"},
    {"{\"to\":\"1\",\"account\":\"a\",\"url\":\"http://h/\",\"method\":"
     "\"PUT\"}",
     "invalid_value", "method", "GET or POST"},
    {"{\"to\":\"1\",\"account\":\"a\",\"reply\":\"yes\"}", "invalid_type",
     "reply", "true or false"},
    {"{\"to\":\"1\",\"account\":\"a\",\"reply_max_length\":0}", "invalid_value",
     "reply_max_length", "from 1 to 4000"},
    {"{\"to\":\"1\",\"account\":\"a\",\"reply_max_length\":4001}",
     "invalid_value", "reply_max_length", "from 1 to 4000"},
    {"{\"to\":\"1\",\"account\":\"a\",\"reply_max_length\":\"9\"}",
     "invalid_type", "reply_max_length", "integer"},
    {"{\"to\":\"1\",\"account\":\"a\",\"position\":0}", "invalid_value",
     "position", "integer from 1"},
    {"{\"to\":\"1\",\"account\":\"a\",\"id\":-3}", "invalid_value", "id",
     "integer from 1"},
    {"{\"to\":\"1\",\"account\":\"a\",\"target\":\"x\"}", "unknown_field",
     "target", "unknown field"},
};

static void malformed(void **state) {
  (void)state;
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    sg_inrule_t r;
    sg_inrule_err_t err = {0};
    int rc = parse(bad[i].json, &r, &err);
    if (rc != SG_EINVAL || strcmp(err.code, bad[i].code) != 0 ||
        strcmp(err.field, bad[i].field) != 0 ||
        strstr(err.message, bad[i].message) == NULL)
      fail_msg("%s: rc %d code %s field '%s' message '%s'", bad[i].json, rc,
               err.code ? err.code : "-", err.field, err.message);
    assert_null(r.r.account); /* nothing kept */
  }
  /* the field is named inside a list */
  json_t *o = json_loads("{\"to\":7,\"account\":\"a\"}", 0, NULL);
  sg_inrule_t r;
  sg_inrule_err_t err;
  assert_int_equal(sg_inrule_from_json(o, "rules[3]", &r, &err), SG_EINVAL);
  assert_string_equal(err.field, "rules[3].to");
  json_decref(o);
}

/* A rule's URL filled in for an incoming message, as the engine does. */
static void url_template(void **state) {
  (void)state;
  static const struct {
    const char *text, *tmpl, *want;
  } cases[] = {
      {"\xD0\xBF\xD0\xBE\xD0\xB3\xD0\xBE\xD0\xB4\xD0\xB0 M\xC3\xBCnchen now",
       "http://h/mo?from=%p&to=%P&text=%a&kw=%k&rest=%r",
       "http://h/mo?from=%2B79001110001&to=4444&text=%D0%BF%D0%BE%D0%B3%D0%BE"
       "%D0%B4%D0%B0+M%C3%BCnchen+now&kw=%D0%BF%D0%BE%D0%B3%D0%BE%D0%B4%D0%B0&"
       "rest=M%C3%BCnchen+now"},
      {"a&b=c 100%", "http://h/?q=%a&lit=%%&z=%z",
       "http://h/?q=a%26b%3Dc+100%25&lit=%&z=%z"},
      {"x", "http://h/%i/%n/%I/%T",
       "http://h/operator/shop/01J0000000000000000"
       "000000B/1738324800"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    sg_kannel_mo_t mo = {.text = cases[i].text,
                         .from = "+79001110001",
                         .to = "4444",
                         .smsc = "operator",
                         .id = "01J0000000000000000000000B",
                         .service = "shop",
                         .time_s = 1738324800};
    sg_kannel_dlr_vars_t v;
    sg_kannel_mo_vars(&mo, &v);
    char out[512];
    int n = sg_kannel_dlr_expand(cases[i].tmpl, strlen(cases[i].tmpl), &v, out,
                                 sizeof out);
    assert_int_equal(n, (int)strlen(cases[i].want));
    assert_string_equal(out, cases[i].want);
    /* too small a buffer is an error, never a cut URL */
    assert_int_equal(sg_kannel_dlr_expand(cases[i].tmpl, strlen(cases[i].tmpl),
                                          &v, out, (size_t)n),
                     SG_ENOSPC);
  }
}

static void reply_counts_restored(void **state) {
  (void)state;
  sg_replyguard_t *g = sg_replyguard_new(2, 60000);
  assert_true(sg_replyguard_take(g, "4444", "+7900", 1000));
  char key[128];
  int64_t start;
  uint32_t count;
  assert_true(
      sg_replyguard_state(g, "4444", "+7900", key, sizeof key, &start, &count));
  assert_string_equal(key, "4444>+7900");
  assert_int_equal(start, 1000);
  assert_int_equal(count, 1);
  assert_false(
      sg_replyguard_state(g, "4444", "+7911", key, sizeof key, &start, &count));
  sg_replyguard_free(g);

  /* a new guard (a restart) with the count put back: one more, then no */
  g = sg_replyguard_new(2, 60000);
  assert_int_equal(sg_replyguard_restore(g, "4444>+7900", 1000, 1, 5000), 0);
  /* a window that ended is not put back */
  assert_int_equal(sg_replyguard_restore(g, "4444>+7911", 1000, 2, 61000), 0);
  assert_true(sg_replyguard_take(g, "4444", "+7900", 6000));
  assert_false(sg_replyguard_take(g, "4444", "+7900", 7000));
  assert_true(sg_replyguard_take(g, "4444", "+7911", 62000));
  /* the window restarts after it ends */
  assert_true(sg_replyguard_take(g, "4444", "+7900", 61001));
  char longkey[200];
  memset(longkey, 'x', sizeof longkey - 1);
  longkey[sizeof longkey - 1] = '\0';
  assert_int_equal(sg_replyguard_restore(g, longkey, 1000, 1, 2000), SG_EINVAL);
  sg_replyguard_free(g);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(defaults_and_keys),
      cmocka_unit_test(malformed),
      cmocka_unit_test(url_template),
      cmocka_unit_test(reply_counts_restored),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
