/* Tests for engine/routes.h and the JSON of route_admin.h: matching by
 * prefix, pattern, account, sender and type with the most specific rule
 * winning and table order breaking ties; the checks of a table (unknown
 * connector, a pattern that does not compile with its offset, weights);
 * the strategies: failover in order, weighted within a tolerance over many
 * draws with a fixed seed, least-cost by the longest price prefix with
 * unpriced connectors last and falling over to the next cheapest; the
 * alternative of a part on a connector that went away; rules read from
 * and written as JSON. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "core/config.h"
#include "core/error.h"
#include "engine/route_admin.h"
#include "engine/routes.h"

static const char yaml[] =
    "accounts:\n"
    "  - {name: shop, api_key: k1}\n"
    "  - {name: bank, api_key: k2}\n"
    "connectors:\n"
    "  - {name: a, type: smpp, host: h, system_id: s,\n"
    "     prices: {\"+\": 0.05, \"+7\": 0.03, \"+7900\": 0.01}}\n"
    "  - {name: b, type: smpp, host: h, system_id: s,\n"
    "     prices: {\"+7\": 0.02, \"+44\": 0.04}}\n"
    "  - {name: c, type: smpp, host: h, system_id: s}\n"
    "  - {name: rx, type: smpp, host: h, system_id: s, bind_type: receiver}\n"
    "routes:\n"
    "  - {prefix: \"+\", connectors: [a, b]}\n"
    "  - {prefix: \"+7\", connectors: [b, a]}\n"
    "  - {prefix: \"+7\", account: bank, connectors: [c]}\n"
    "  - {pattern: \"^\\\\+4478[0-9]{8}$\", connectors: [c]}\n"
    "  - {prefix: \"+44\", type: unicode, connectors: [b]}\n"
    "  - {prefix: \"+49\", sender: Shop, connectors: [c, a]}\n";

typedef struct fx {
  sg_config_t *cfg;
  sg_routes_env_t env;
  sg_routes_t *t;
  bool up[4];
} fx_t;

static int setup(void **state) {
  static fx_t f;
  memset(&f, 0, sizeof f);
  sg_config_errors_t errs;
  if (sg_config_load_string("t.yaml", yaml, strlen(yaml), &f.cfg, &errs) != 0) {
    char line[300];
    sg_config_error_format(&errs, 0, line, sizeof line);
    fail_msg("%s", line);
  }
  f.env = (sg_routes_env_t){f.cfg->connectors, f.cfg->n_connectors,
                            f.cfg->accounts, f.cfg->n_accounts};
  assert_int_equal(sg_routes_from_config(f.cfg, &f.env, &f.t), 0);
  for (int i = 0; i < 4; i++)
    f.up[i] = true;
  *state = &f;
  return 0;
}

static int teardown(void **state) {
  fx_t *f = *state;
  sg_routes_free(f->t);
  sg_config_free(f->cfg);
  return 0;
}

static bool usable(size_t conn, void *data) {
  return ((fx_t *)data)->up[conn];
}

static int64_t find(fx_t *f, const char *to, const char *acct,
                    const char *sender, sg_config_msg_type_t type) {
  sg_route_msg_t m = {to, acct, sender, type};
  int i = sg_routes_find(f->t, &m);
  return i < 0 ? -1 : sg_routes_def(f->t, (size_t)i)->id;
}

static void matching(void **state) {
  fx_t *f = *state;
  assert_int_equal(sg_routes_count(f->t), 6);
  /* Longest prefix. */
  assert_int_equal(find(f, "+33612345678", "shop", "X", SG_CONFIG_MSG_TEXT), 1);
  assert_int_equal(find(f, "+79001234567", "shop", "X", SG_CONFIG_MSG_TEXT), 2);
  /* The account makes a rule more specific. */
  assert_int_equal(find(f, "+79001234567", "bank", "X", SG_CONFIG_MSG_TEXT), 3);
  /* A pattern-only rule ranks as "+": at equal specificity the earlier
   * rule wins, so rule 4 needs a prefix to win (pattern_with_prefix). */
  assert_int_equal(find(f, "+447812345678", "shop", "X", SG_CONFIG_MSG_TEXT),
                   1);
  /* Type: only unicode messages to +44 take rule 5. */
  assert_int_equal(find(f, "+447912345678", "shop", "X", SG_CONFIG_MSG_UNICODE),
                   5);
  assert_int_equal(find(f, "+447912345678", "shop", "X", SG_CONFIG_MSG_BINARY),
                   1);
  /* Sender. */
  assert_int_equal(
      find(f, "+4915112345678", "shop", "Shop", SG_CONFIG_MSG_TEXT), 6);
  assert_int_equal(
      find(f, "+4915112345678", "shop", "shop", SG_CONFIG_MSG_TEXT), 1);
  assert_int_equal(find(f, "+4915112345678", "shop", NULL, SG_CONFIG_MSG_TEXT),
                   1);
  char why[128];
  sg_route_msg_t m = {"+447812345678", "shop", "X", SG_CONFIG_MSG_TEXT};
  assert_true(sg_routes_match(f->t, 3, &m, why, sizeof why));
  m.to = "+4478123456789"; /* one digit too many for the anchored pattern */
  assert_false(sg_routes_match(f->t, 3, &m, why, sizeof why));
  assert_string_equal(why, "pattern does not match");
  assert_false(sg_routes_match(f->t, 1, &m, why, sizeof why));
  assert_string_equal(why, "prefix +7 does not match");
  m.to = "+79001234567";
  assert_false(sg_routes_match(f->t, 2, &m, why, sizeof why));
  assert_string_equal(why, "only for account bank");
  m.to = "+44";
  assert_false(sg_routes_match(f->t, 4, &m, why, sizeof why));
  assert_string_equal(why, "only for unicode messages");
}

/* A pattern rule given a prefix outranks the shorter prefixes. */
static void pattern_with_prefix(void **state) {
  fx_t *f = *state;
  const char *cs[] = {"c"};
  sg_route_def_t d[] = {
      {.prefix = "+7", .connectors = cs, .n_connectors = 1},
      {.prefix = "+79",
       .pattern = "^\\+79(00|16)",
       .connectors = cs,
       .n_connectors = 1},
  };
  int64_t next = 1;
  sg_routes_t *t = NULL;
  sg_route_err_t err;
  assert_int_equal(sg_routes_new(d, 2, &f->env, "routes", &next, &t, &err), 0);
  assert_int_equal(next, 3);
  sg_route_msg_t m = {"+79161234567", NULL, NULL, SG_CONFIG_MSG_TEXT};
  assert_int_equal(sg_routes_find(t, &m), 1);
  m.to = "+79261234567";
  assert_int_equal(sg_routes_find(t, &m), 0);
  m.to = "+44";
  assert_int_equal(sg_routes_find(t, &m), -1);
  sg_routes_free(t);
}

static void check_fails(fx_t *f, const sg_route_def_t *d, size_t n,
                        const char *code, const char *field,
                        const char *message) {
  int64_t next = 1;
  sg_routes_t *t = NULL;
  sg_route_err_t err;
  memset(&err, 0, sizeof err);
  assert_int_equal(sg_routes_new(d, n, &f->env, "routes", &next, &t, &err),
                   SG_EINVAL);
  assert_null(t);
  assert_int_equal(next, 1);
  assert_string_equal(err.code, code);
  assert_string_equal(err.field, field);
  assert_string_equal(err.message, message);
}

static void bad_tables(void **state) {
  fx_t *f = *state;
  const char *ok[] = {"a"}, *unknown[] = {"a", "zz"}, *twice[] = {"a", "a"},
             *rx[] = {"rx"};
  uint32_t w0[] = {0};
  sg_route_def_t d[2] = {{.prefix = "+", .connectors = ok, .n_connectors = 1}};
  d[1] = (sg_route_def_t){
      .prefix = "+7", .connectors = unknown, .n_connectors = 2};
  check_fails(f, d, 2, "unknown_connector", "routes[1].connectors[1]",
              "no connector named \"zz\"");
  d[1] = (sg_route_def_t){
      .pattern = "^\\+7(9", .connectors = ok, .n_connectors = 1};
  check_fails(f, d, 2, "invalid_pattern", "routes[1].pattern",
              "not a valid regular expression: missing closing parenthesis "
              "at offset 6");
  d[1] = (sg_route_def_t){.connectors = ok, .n_connectors = 1};
  check_fails(f, d, 2, "missing_field", "routes[1].prefix",
              "a route needs a prefix or a pattern (\"+\" matches every "
              "number)");
  d[1] = (sg_route_def_t){.prefix = "7", .connectors = ok, .n_connectors = 1};
  check_fails(f, d, 2, "invalid_value", "routes[1].prefix",
              "expected \"+\" and up to 15 digits, like \"+7900\"");
  d[1] =
      (sg_route_def_t){.prefix = "+7", .connectors = twice, .n_connectors = 2};
  check_fails(f, d, 2, "invalid_value", "routes[1].connectors[1]",
              "connector \"a\" is listed twice");
  d[1] = (sg_route_def_t){.prefix = "+7", .connectors = rx, .n_connectors = 1};
  check_fails(f, d, 2, "invalid_value", "routes[1].connectors[0]",
              "connector \"rx\" binds as receiver and cannot send");
  d[1] = (sg_route_def_t){
      .prefix = "+7", .account = "nobody", .connectors = ok, .n_connectors = 1};
  check_fails(f, d, 2, "unknown_account", "routes[1].account",
              "no account named \"nobody\"");
  d[1] = (sg_route_def_t){.prefix = "+7",
                          .connectors = ok,
                          .n_connectors = 1,
                          .strategy = SG_CONFIG_STRATEGY_WEIGHTED,
                          .weights = w0};
  check_fails(f, d, 2, "invalid_value", "routes[1].weights[0]",
              "expected an integer 1-1000");
  d[1] = (sg_route_def_t){.prefix = "+7", .connectors = ok, .n_connectors = 0};
  check_fails(f, d, 2, "invalid_value", "routes[1].connectors",
              "name 1 to 256 connectors");
  d[0].id = 5;
  d[1] = (sg_route_def_t){
      .id = 5, .prefix = "+7", .connectors = ok, .n_connectors = 1};
  check_fails(f, d, 2, "invalid_value", "routes[1].id",
              "another route has id 5");
}

static void ids(void **state) {
  fx_t *f = *state;
  const char *ok[] = {"a"};
  sg_route_def_t d[] = {
      {.prefix = "+1", .connectors = ok, .n_connectors = 1},
      {.id = 20, .prefix = "+2", .connectors = ok, .n_connectors = 1},
      {.prefix = "+3", .connectors = ok, .n_connectors = 1}};
  int64_t next = 7;
  sg_routes_t *t = NULL;
  assert_int_equal(sg_routes_new(d, 3, &f->env, NULL, &next, &t, NULL), 0);
  /* New ids come after every id in use. */
  assert_int_equal(sg_routes_def(t, 0)->id, 21);
  assert_int_equal(sg_routes_def(t, 1)->id, 20);
  assert_int_equal(sg_routes_def(t, 2)->id, 22);
  assert_int_equal(next, 23);
  assert_int_equal(sg_routes_find_id(t, 22), 2);
  assert_int_equal(sg_routes_find_id(t, 7), -1);
  sg_routes_free(t);
}

static void failover(void **state) {
  fx_t *f = *state;
  uint64_t rng = 1;
  /* Rule 2 (+7): [b, a]. */
  assert_int_equal(sg_routes_pick(f->t, 1, "+7900", usable, f, &rng), 1);
  f->up[1] = false;
  assert_int_equal(sg_routes_pick(f->t, 1, "+7900", usable, f, &rng), 0);
  f->up[0] = false;
  /* None usable: the first waits for it. */
  assert_int_equal(sg_routes_pick(f->t, 1, "+7900", usable, f, &rng), 1);
  f->up[0] = true;
  /* A part on b moves to a; one on a has nowhere to go (b is down). */
  assert_int_equal(sg_routes_alternative(f->t, "+7900", NULL, 1, usable, f), 0);
  assert_int_equal(sg_routes_alternative(f->t, "+7900", NULL, 0, usable, f),
                   -1);
  assert_true(sg_routes_has_alternative(f->t, 1, usable, f));
  /* a: rule 6 [c, a] has c up. rx: no rule lists it. */
  assert_true(sg_routes_has_alternative(f->t, 0, usable, f));
  assert_false(sg_routes_has_alternative(f->t, 3, usable, f));
  f->up[2] = false;
  assert_false(sg_routes_has_alternative(f->t, 0, usable, f));
  /* A connector no rule for that number lists: nothing. */
  assert_int_equal(sg_routes_alternative(f->t, "+7900", NULL, 3, usable, f),
                   -1);
}

static void weighted_distribution(void **state) {
  fx_t *f = *state;
  const char *cs[] = {"a", "b", "c"};
  uint32_t w[] = {6, 3, 1};
  sg_route_def_t d = {.prefix = "+",
                      .connectors = cs,
                      .n_connectors = 3,
                      .strategy = SG_CONFIG_STRATEGY_WEIGHTED,
                      .weights = w};
  int64_t next = 1;
  sg_routes_t *t = NULL;
  assert_int_equal(sg_routes_new(&d, 1, &f->env, NULL, &next, &t, NULL), 0);
  uint64_t rng = 42;
  unsigned n[4] = {0};
  const unsigned draws = 100000;
  for (unsigned i = 0; i < draws; i++)
    n[sg_routes_pick(t, 0, "+1", usable, f, &rng)]++;
  /* 60/30/10 within 1 percentage point (about 5 standard deviations). */
  assert_in_range(n[0], 59000, 61000);
  assert_in_range(n[1], 29000, 31000);
  assert_in_range(n[2], 9000, 11000);
  /* c down: a and b share 6:3 (2/3, 1/3). */
  f->up[2] = false;
  memset(n, 0, sizeof n);
  for (unsigned i = 0; i < draws; i++)
    n[sg_routes_pick(t, 0, "+1", usable, f, &rng)]++;
  assert_int_equal(n[2], 0);
  assert_in_range(n[0], 65667, 67667);
  /* None up: by weight among all, so parts wait spread as configured. */
  f->up[0] = f->up[1] = false;
  memset(n, 0, sizeof n);
  for (unsigned i = 0; i < draws; i++)
    n[sg_routes_pick(t, 0, "+1", usable, f, &rng)]++;
  assert_in_range(n[2], 9000, 11000);
  sg_routes_free(t);
}

static void least_cost(void **state) {
  fx_t *f = *state;
  const char *cs[] = {"c", "a", "b"};
  sg_route_def_t d = {.prefix = "+",
                      .connectors = cs,
                      .n_connectors = 3,
                      .strategy = SG_CONFIG_STRATEGY_LEAST_COST};
  int64_t next = 1;
  sg_routes_t *t = NULL;
  assert_int_equal(sg_routes_new(&d, 1, &f->env, NULL, &next, &t, NULL), 0);
  size_t order[3];
  double prices[3];
  /* +7900...: a 0.01 (longest prefix +7900), b 0.02, c unpriced last. */
  assert_int_equal(sg_routes_order(t, 0, "+79001234567", order, prices), 3);
  assert_int_equal(order[0], 1);
  assert_int_equal(order[1], 2);
  assert_int_equal(order[2], 0);
  assert_true(prices[0] == 0.01 && prices[1] == 0.02 && prices[2] == -1);
  /* +7916...: b 0.02 < a 0.03. */
  sg_routes_order(t, 0, "+79161234567", order, prices);
  assert_int_equal(order[0], 2);
  assert_int_equal(order[1], 1);
  /* +33: only a has a price ("+"); b and c keep their list order. */
  sg_routes_order(t, 0, "+33612345678", order, prices);
  assert_int_equal(order[0], 1);
  assert_int_equal(order[1], 0);
  assert_int_equal(order[2], 2);
  uint64_t rng = 1;
  assert_int_equal(sg_routes_pick(t, 0, "+79161234567", usable, f, &rng), 1);
  /* The cheapest down: the next cheapest; then the unpriced one. */
  f->up[1] = false;
  assert_int_equal(sg_routes_pick(t, 0, "+79161234567", usable, f, &rng), 0);
  f->up[0] = false;
  assert_int_equal(sg_routes_pick(t, 0, "+79161234567", usable, f, &rng), 2);
  f->up[0] = true;
  /* A part on a moves to the next cheapest usable after it: c. */
  f->up[1] = true;
  assert_int_equal(sg_routes_alternative(t, "+79161234567", NULL, 0, usable, f),
                   2);
  assert_int_equal(sg_routes_alternative(t, "+79161234567", NULL, 1, usable, f),
                   0);
  sg_routes_free(t);
}

static void json_round_trip(void **state) {
  fx_t *f = *state;
  const char *text =
      "[{\"prefix\": \"+7\", \"pattern\": \"^\\\\+79\", \"account\": \"shop\","
      " \"sender\": \"Shop\", \"type\": \"unicode\", \"connectors\": [\"a\","
      " \"b\"], \"weights\": [3, 1]}, {\"id\": 9, \"prefix\": \"+\","
      " \"connectors\": [\"c\"], \"strategy\": \"least-cost\", \"account\":"
      " null}]";
  json_t *doc = json_loads(text, 0, NULL);
  assert_non_null(doc);
  sg_route_defs_t defs;
  sg_route_err_t err;
  assert_int_equal(sg_route_defs_parse(doc, false, true, "routes", &defs, &err),
                   0);
  assert_int_equal(defs.n, 2);
  assert_int_equal(defs.defs[0].strategy, SG_CONFIG_STRATEGY_WEIGHTED);
  assert_int_equal(defs.defs[0].type, SG_CONFIG_MSG_UNICODE);
  assert_int_equal(defs.defs[0].weights[0], 3);
  assert_int_equal(defs.defs[1].id, 9);
  assert_null(defs.defs[1].account);
  int64_t next = 1;
  sg_routes_t *t = NULL;
  assert_int_equal(
      sg_routes_new(defs.defs, defs.n, &f->env, "routes", &next, &t, &err), 0);
  sg_route_defs_free(&defs);
  json_decref(doc);
  json_t *o = sg_route_def_json(sg_routes_def(t, 0));
  char *s = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
  assert_string_equal(
      s, "{\"account\":\"shop\",\"connectors\":[\"a\",\"b\"],\"id\":10,"
         "\"pattern\":\"^\\\\+79\",\"prefix\":\"+7\",\"sender\":\"Shop\","
         "\"strategy\":\"weighted\",\"type\":\"unicode\",\"weights\":[3,1]}");
  free(s);
  json_decref(o);
  o = sg_route_def_json(sg_routes_def(t, 1));
  s = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
  assert_string_equal(s, "{\"connectors\":[\"c\"],\"id\":9,\"prefix\":\"+\","
                         "\"strategy\":\"least-cost\"}");
  free(s);
  json_decref(o);
  sg_routes_free(t);
}

static void json_errors(void **state) {
  (void)state;
  static const struct {
    const char *doc;
    bool one, with_id;
    const char *code, *field;
  } cases[] = {
      {"{\"prefix\": \"+\"}", false, false, "invalid_type", "routes"},
      {"[{\"prefix\": \"+\"}]", false, false, "missing_field",
       "routes[0].connectors"},
      {"[{\"prefix\": \"+\", \"connectors\": []}]", false, false,
       "invalid_value", "routes[0].connectors"},
      {"[{\"prefix\": 7, \"connectors\": [\"a\"]}]", false, false,
       "invalid_type", "routes[0].prefix"},
      {"[{\"prefix\": \"+\", \"connectors\": [1]}]", false, false,
       "invalid_type", "routes[0].connectors[0]"},
      {"[{\"prefix\": \"+\", \"connectors\": [\"a\"], \"colour\": 1}]", false,
       false, "unknown_field", "routes[0].colour"},
      {"{\"id\": 3, \"prefix\": \"+\", \"connectors\": [\"a\"]}", true, false,
       "unknown_field", "id"},
      {"{\"id\": 0, \"prefix\": \"+\", \"connectors\": [\"a\"]}", true, true,
       "invalid_value", "id"},
      {"{\"prefix\": \"+\", \"type\": \"flash\", \"connectors\": [\"a\"]}",
       true, false, "invalid_value", "type"},
      {"{\"prefix\": \"+\", \"strategy\": \"cheapest\", \"connectors\": "
       "[\"a\"]}",
       true, false, "invalid_value", "strategy"},
      {"{\"prefix\": \"+\", \"connectors\": [\"a\", \"b\"], \"weights\": "
       "[1]}",
       true, false, "invalid_value", "weights"},
      {"{\"prefix\": \"+\", \"connectors\": [\"a\"], \"weights\": [1001]}",
       true, false, "invalid_value", "weights[0]"},
      {"[1]", false, false, "invalid_type", "routes[0]"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    json_t *doc = json_loads(cases[i].doc, 0, NULL);
    assert_non_null(doc);
    sg_route_defs_t defs;
    sg_route_err_t err;
    memset(&err, 0, sizeof err);
    int rc = sg_route_defs_parse(doc, cases[i].one, cases[i].with_id, "routes",
                                 &defs, &err);
    json_decref(doc);
    if (rc != SG_EINVAL || strcmp(err.code, cases[i].code) != 0 ||
        strcmp(err.field, cases[i].field) != 0)
      fail_msg("case %zu: rc %d code %s field %s", i, rc,
               err.code ? err.code : "-", err.field);
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(matching, setup, teardown),
      cmocka_unit_test_setup_teardown(pattern_with_prefix, setup, teardown),
      cmocka_unit_test_setup_teardown(bad_tables, setup, teardown),
      cmocka_unit_test_setup_teardown(ids, setup, teardown),
      cmocka_unit_test_setup_teardown(failover, setup, teardown),
      cmocka_unit_test_setup_teardown(weighted_distribution, setup, teardown),
      cmocka_unit_test_setup_teardown(least_cost, setup, teardown),
      cmocka_unit_test_setup_teardown(json_round_trip, setup, teardown),
      cmocka_unit_test_setup_teardown(json_errors, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
