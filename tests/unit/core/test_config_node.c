/* Tests for the `node` section and a connector's `node` / `nodes` keys
 * (core/config_node.c): defaults, values, each error with its exact
 * file:line:column and message, which node binds which connector, and the
 * node name that defaults to the host name. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "core/config.h"
#include "core/error.h"

static sg_config_errors_t errs;

static sg_config_t *load(const char *yaml, int want_rc) {
  sg_config_t *cfg = NULL;
  int rc = sg_config_load_string("t.yaml", yaml, strlen(yaml), &cfg, &errs);
  if (rc != want_rc)
    sg_config_errors_print(&errs, stderr);
  assert_int_equal(rc, want_rc);
  return cfg;
}

static void expect_one(const char *yaml, const char *want) {
  assert_null(load(yaml, SG_ECONFIG));
  char line[512];
  assert_int_equal(errs.count, 1);
  assert_true(sg_config_error_format(&errs, 0, line, sizeof line) > 0);
  if (strcmp(line, want) != 0)
    fail_msg("want: %s\n got: %s", want, line);
}

static void defaults(void **state) {
  (void)state;
  sg_config_t *cfg = load("accounts: []\n", 0);
  assert_null(cfg->node.name);
  assert_int_equal(cfg->node.heartbeat_ms, 2000);
  assert_int_equal(cfg->node.dead_after_ms, 10000);
  sg_config_free(cfg);
  /* A section with one key keeps the other defaults. */
  cfg = load("node: {name: a.b-c_1}\n", 0);
  assert_string_equal(cfg->node.name, "a.b-c_1");
  assert_int_equal(cfg->node.heartbeat_ms, 2000);
  assert_int_equal(cfg->node.dead_after_ms, 10000);
  sg_config_free(cfg);
}

static void errors(void **state) {
  (void)state;
  expect_one("node: {heartbeat: 5s, dead_after: 8s}\n",
             "t.yaml:1:35: node.dead_after: dead_after must be at least "
             "twice heartbeat");
  expect_one("node: {heartbeat: 6s}\n",
             "t.yaml:1:19: node.heartbeat: dead_after must be at least "
             "twice heartbeat");
  expect_one("node: {name: \"a b\"}\n",
             "t.yaml:1:14: node.name: expected a name of 1-64 letters, "
             "digits, '_', '.' or '-', got \"a b\"");
  expect_one("node: {heartbeat: 50ms}\n",
             "t.yaml:1:19: node.heartbeat: expected a duration 100ms-1m (like "
             "500ms, 30s, 5m), got \"50ms\"");
  expect_one("node: {nmae: x}\n",
             "t.yaml:1:8: node.nmae: unknown key; did you mean \"name\"?");
  expect_one("connectors:\n  - {name: a, type: smpp, host: h, system_id: s, "
             "node: x, nodes: [y]}\n",
             "t.yaml:2:66: connectors[0].nodes: give either \"node\" or "
             "\"nodes\", not both");
  expect_one("connectors:\n  - {name: a, type: smpp, host: h, system_id: s, "
             "nodes: [ok, \"b/c\"]}\n",
             "t.yaml:2:62: connectors[0].nodes[1]: expected a name of 1-64 "
             "letters, digits, '_', '.' or '-', got \"b/c\"");
}

static void which_node_binds(void **state) {
  (void)state;
  sg_config_t *cfg = load(
      "connectors:\n"
      "  - {name: all, type: smpp, host: h, system_id: s}\n"
      "  - {name: one, type: smpp, host: h, system_id: s, node: gw1}\n"
      "  - {name: two, type: smpp, host: h, system_id: s, nodes: [gw1, gw2]}\n",
      0);
  const sg_config_connector_t *k = cfg->connectors;
  assert_true(sg_config_connector_on_node(&k[0], "gw3"));
  assert_true(sg_config_connector_on_node(&k[0], NULL));
  assert_true(sg_config_connector_on_node(&k[1], "gw1"));
  assert_false(sg_config_connector_on_node(&k[1], "gw2"));
  assert_false(sg_config_connector_on_node(&k[1], "gw"));
  assert_false(sg_config_connector_on_node(&k[1], NULL));
  assert_true(sg_config_connector_on_node(&k[2], "gw2"));
  assert_false(sg_config_connector_on_node(&k[2], "gw3"));
  sg_config_free(cfg);
}

static void name_defaults_to_host(void **state) {
  (void)state;
  char host[256] = "";
  assert_int_equal(gethostname(host, sizeof host), 0);
  host[64] = '\0';
  char out[72];
  sg_config_t *cfg = load("accounts: []\n", 0);
  assert_string_equal(sg_config_node_name(cfg, out, sizeof out), host);
  sg_config_free(cfg);
  cfg = load("node: {name: n7}\n", 0);
  assert_string_equal(sg_config_node_name(cfg, out, sizeof out), "n7");
  char small[3];
  assert_string_equal(sg_config_node_name(cfg, small, sizeof small), "n7");
  char tiny[2];
  assert_string_equal(sg_config_node_name(cfg, tiny, sizeof tiny), "n");
  sg_config_free(cfg);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(defaults),
      cmocka_unit_test(errors),
      cmocka_unit_test(which_node_binds),
      cmocka_unit_test(name_defaults_to_host),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
