/* Tests for the configuration diff of a reload: connectors added, removed,
 * re-bound (connection keys) or changed in place (tps, max_retries,
 * prices), a modem's retry count needing a re-open, accounts added,
 * removed and changed with the exact key lists, routes compared in order,
 * webhook and inbound settings, the keys that need a restart, the NULL
 * arguments and every allocation failing in turn. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "core/alloc.h"
#include "core/config.h"
#include "core/config_diff.h"
#include "core/error.h"

static sg_config_t *load(const char *yaml) {
  sg_config_errors_t errs;
  sg_config_t *cfg = NULL;
  int rc = sg_config_load_string("t.yaml", yaml, strlen(yaml), &cfg, &errs);
  if (rc != 0)
    sg_config_errors_print(&errs, stderr);
  assert_int_equal(rc, 0);
  return cfg;
}

#define BASE_ACCOUNTS                                                          \
  "accounts:\n"                                                                \
  "  - {name: a1, api_key: k1, tps: 5, quota: {daily: 10}}\n"                  \
  "  - {name: a2, api_key: k2}\n"

static const char *base =
    "http: {listen: 127.0.0.1:8080}\n" BASE_ACCOUNTS "connectors:\n"
    "  - {name: c1, type: smpp, host: 127.0.0.1, port: 2776, system_id: x}\n"
    "  - {name: c2, type: smpp, host: 127.0.0.1, port: 2777, system_id: x}\n"
    "  - {name: c3, type: smpp, host: 127.0.0.1, port: 2778, system_id: x,\n"
    "     tps: 10}\n"
    "  - {name: m1, type: modem, device: /dev/null}\n"
    "routes:\n"
    "  - {prefix: '+7', connectors: [c1, c2]}\n"
    "  - {prefix: '+', connectors: [c3]}\n";

static const sg_config_diff_item_t *item(const sg_config_diff_item_t *v,
                                         size_t n, const char *name) {
  for (size_t i = 0; i < n; i++)
    if (strcmp(v[i].name, name) == 0)
      return &v[i];
  fail_msg("no item %s", name);
  return NULL;
}

static void identical(void **state) {
  (void)state;
  sg_config_t *a = load(base), *b = load(base);
  sg_config_diff_t d;
  assert_int_equal(sg_config_diff(a, b, &d), 0);
  assert_true(sg_config_diff_empty(&d));
  assert_int_equal(d.n_connectors, 4);
  assert_int_equal(d.n_accounts, 2);
  for (size_t i = 0; i < d.n_connectors; i++) {
    assert_int_equal(d.connectors[i].change, SG_CONFIG_SAME);
    assert_int_equal(d.connectors[i].old_index, i);
    assert_int_equal(d.connectors[i].new_index, i);
    assert_string_equal(d.connectors[i].keys, "");
  }
  assert_false(d.routes);
  assert_int_equal(d.n_restart, 0);
  sg_config_diff_free(&d);
  assert_null(d.connectors);
  sg_config_free(a);
  sg_config_free(b);
}

static void connectors(void **state) {
  (void)state;
  sg_config_t *a = load(base);
  /* c1 same, c2 moved to another port and window (re-bind), c3 new rate
   * and prices (in place), m1 removed, c4 added. */
  sg_config_t *b = load(
      "http: {listen: 127.0.0.1:8080}\n" BASE_ACCOUNTS "connectors:\n"
      "  - {name: c4, type: smpp, host: 127.0.0.1, port: 2779, system_id: y}\n"
      "  - {name: c1, type: smpp, host: 127.0.0.1, port: 2776, system_id: x}\n"
      "  - {name: c2, type: smpp, host: 127.0.0.1, port: 2780, system_id: x,\n"
      "     window: 20}\n"
      "  - {name: c3, type: smpp, host: 127.0.0.1, port: 2778, system_id: x,\n"
      "     tps: 50, max_retries: 1, prices: {'+7': 0.02},\n"
      "     failover_after: 5s}\n"
      "routes:\n"
      "  - {prefix: '+7', connectors: [c1, c2]}\n"
      "  - {prefix: '+', connectors: [c3]}\n");
  sg_config_diff_t d;
  assert_int_equal(sg_config_diff(a, b, &d), 0);
  assert_false(sg_config_diff_empty(&d));
  assert_int_equal(d.n_connectors, 5);
  /* New order first, then the removed. */
  assert_string_equal(d.connectors[0].name, "c4");
  assert_string_equal(d.connectors[4].name, "m1");
  const sg_config_diff_item_t *it = item(d.connectors, 5, "c4");
  assert_int_equal(it->change, SG_CONFIG_ADDED);
  assert_int_equal(it->old_index, SIZE_MAX);
  assert_int_equal(it->new_index, 0);
  it = item(d.connectors, 5, "c1");
  assert_int_equal(it->change, SG_CONFIG_SAME);
  assert_int_equal(it->old_index, 0);
  assert_int_equal(it->new_index, 1);
  it = item(d.connectors, 5, "c2");
  assert_int_equal(it->change, SG_CONFIG_REBIND);
  assert_string_equal(it->keys, "port, window");
  it = item(d.connectors, 5, "c3");
  assert_int_equal(it->change, SG_CONFIG_CHANGED);
  assert_string_equal(it->keys, "tps, max_retries, failover_after, prices");
  it = item(d.connectors, 5, "m1");
  assert_int_equal(it->change, SG_CONFIG_REMOVED);
  assert_int_equal(it->old_index, 3);
  assert_int_equal(it->new_index, SIZE_MAX);
  assert_false(d.routes); /* same rules, same names */
  assert_int_equal(d.n_restart, 0);
  sg_config_diff_free(&d);
  sg_config_free(a);
  sg_config_free(b);
}

/* A modem takes max_retries when opened: a change re-opens it. A password
 * alone re-binds an SMPP connector. */
static void modem_and_password(void **state) {
  (void)state;
  sg_config_t *a = load(base);
  sg_config_t *b = load(
      "http: {listen: 127.0.0.1:8080}\n" BASE_ACCOUNTS "connectors:\n"
      "  - {name: c1, type: smpp, host: 127.0.0.1, port: 2776, system_id: x,\n"
      "     password: pw}\n"
      "  - {name: c2, type: smpp, host: 127.0.0.1, port: 2777, system_id: x}\n"
      "  - {name: c3, type: smpp, host: 127.0.0.1, port: 2778, system_id: x,\n"
      "     tps: 10}\n"
      "  - {name: m1, type: modem, device: /dev/null, max_retries: 7}\n"
      "routes:\n"
      "  - {prefix: '+7', connectors: [c1, c2]}\n"
      "  - {prefix: '+', connectors: [c3]}\n");
  sg_config_diff_t d;
  assert_int_equal(sg_config_diff(a, b, &d), 0);
  const sg_config_diff_item_t *it = item(d.connectors, 4, "m1");
  assert_int_equal(it->change, SG_CONFIG_REBIND);
  assert_string_equal(it->keys, "max_retries");
  it = item(d.connectors, 4, "c1");
  assert_int_equal(it->change, SG_CONFIG_REBIND);
  assert_string_equal(it->keys, "password");
  assert_int_equal(item(d.connectors, 4, "c2")->change, SG_CONFIG_SAME);
  sg_config_diff_free(&d);
  sg_config_free(a);
  sg_config_free(b);
}

static void accounts(void **state) {
  (void)state;
  sg_config_t *a = load(base);
  sg_config_t *b = load(
      "http: {listen: 127.0.0.1:8080}\n"
      "accounts:\n"
      "  - {name: a1, api_key: k1, tps: 6, quota: {daily: 20},\n"
      "     senders: [Shop], smpp: {system_id: a1, password: pw}}\n"
      "  - {name: a3, api_key: k3}\n"
      "connectors:\n"
      "  - {name: c1, type: smpp, host: 127.0.0.1, port: 2776, system_id: x}\n"
      "  - {name: c2, type: smpp, host: 127.0.0.1, port: 2777, system_id: x}\n"
      "  - {name: c3, type: smpp, host: 127.0.0.1, port: 2778, system_id: x,\n"
      "     tps: 10}\n"
      "  - {name: m1, type: modem, device: /dev/null}\n"
      "routes:\n"
      "  - {prefix: '+7', connectors: [c1, c2]}\n"
      "  - {prefix: '+', connectors: [c3]}\n");
  sg_config_diff_t d;
  assert_int_equal(sg_config_diff(a, b, &d), 0);
  assert_int_equal(d.n_accounts, 3);
  const sg_config_diff_item_t *it = item(d.accounts, 3, "a1");
  assert_int_equal(it->change, SG_CONFIG_CHANGED);
  assert_string_equal(it->keys, "smpp, tps, senders, quota");
  assert_int_equal(item(d.accounts, 3, "a3")->change, SG_CONFIG_ADDED);
  it = item(d.accounts, 3, "a2");
  assert_int_equal(it->change, SG_CONFIG_REMOVED);
  assert_int_equal(it->old_index, 1);
  for (size_t i = 0; i < d.n_connectors; i++)
    assert_int_equal(d.connectors[i].change, SG_CONFIG_SAME);
  sg_config_diff_free(&d);
  sg_config_free(a);
  sg_config_free(b);
}

static void routes(void **state) {
  (void)state;
  sg_config_t *a = load(base);
  /* The same two rules in the other order. */
  sg_config_t *b = load(
      "http: {listen: 127.0.0.1:8080}\n" BASE_ACCOUNTS "connectors:\n"
      "  - {name: c1, type: smpp, host: 127.0.0.1, port: 2776, system_id: x}\n"
      "  - {name: c2, type: smpp, host: 127.0.0.1, port: 2777, system_id: x}\n"
      "  - {name: c3, type: smpp, host: 127.0.0.1, port: 2778, system_id: x,\n"
      "     tps: 10}\n"
      "  - {name: m1, type: modem, device: /dev/null}\n"
      "routes:\n"
      "  - {prefix: '+', connectors: [c3]}\n"
      "  - {prefix: '+7', connectors: [c1, c2]}\n");
  sg_config_t *c = load(
      "http: {listen: 127.0.0.1:8080}\n" BASE_ACCOUNTS "connectors:\n"
      "  - {name: c1, type: smpp, host: 127.0.0.1, port: 2776, system_id: x}\n"
      "  - {name: c2, type: smpp, host: 127.0.0.1, port: 2777, system_id: x}\n"
      "  - {name: c3, type: smpp, host: 127.0.0.1, port: 2778, system_id: x,\n"
      "     tps: 10}\n"
      "  - {name: m1, type: modem, device: /dev/null}\n"
      "routes:\n"
      "  - {prefix: '+7', connectors: [c1, c2], weights: [1, 3]}\n"
      "  - {prefix: '+', connectors: [c3]}\n");
  sg_config_diff_t d;
  assert_int_equal(sg_config_diff(a, b, &d), 0);
  assert_true(d.routes);
  assert_false(sg_config_diff_empty(&d));
  sg_config_diff_free(&d);
  assert_int_equal(sg_config_diff(a, c, &d), 0);
  assert_true(d.routes); /* strategy and weights */
  sg_config_diff_free(&d);
  sg_config_free(a);
  sg_config_free(b);
  sg_config_free(c);
}

static void restart_and_sections(void **state) {
  (void)state;
  sg_config_t *a = load("store: {path: /tmp/a.db}\n"
                        "http: {listen: 127.0.0.1:8080}\n"
                        "webhooks: {retry_min: 1s}\n");
  sg_config_t *b = load("store: {path: /tmp/b.db}\n"
                        "http: {listen: 127.0.0.1:8081}\n"
                        "webhooks: {retry_min: 2s, concurrency: 8, "
                        "pipeline: 4, claim_ahead: 50}\n"
                        "inbound: {reply_limit: 2, stop_reply: bye}\n"
                        "log: {level: debug}\n"
                        "smpp_server: {listen: 127.0.0.1:2775}\n");
  sg_config_diff_t d;
  assert_int_equal(sg_config_diff(a, b, &d), 0);
  assert_true(d.webhooks);
  assert_true(d.inbound);
  assert_false(d.routes);
  assert_int_equal(d.n_restart, 8);
  assert_string_equal(d.restart[0], "store.path");
  assert_string_equal(d.restart[1], "http.listen");
  assert_string_equal(d.restart[2], "smpp_server.listen");
  assert_string_equal(d.restart[3], "log.level");
  assert_string_equal(d.restart[4], "webhooks.concurrency");
  assert_string_equal(d.restart[5], "webhooks.pipeline");
  assert_string_equal(d.restart[6], "webhooks.claim_ahead");
  assert_string_equal(d.restart[7], "inbound.reply_limit");
  sg_config_diff_free(&d);
  /* The other way round: the same keys. */
  assert_int_equal(sg_config_diff(b, a, &d), 0);
  assert_int_equal(d.n_restart, 8);
  sg_config_diff_free(&d);
  /* Webhook client settings and inbound rules need a restart; the retry
   * delays and the reply texts do not. */
  sg_config_t *c = load("store: {path: /tmp/a.db}\n"
                        "http: {listen: 127.0.0.1:8080}\n"
                        "accounts: [{name: s, api_key: k}]\n"
                        "webhooks: {retry_min: 1s, timeout: 20s}\n"
                        "inbound: {rules: [{keyword: INFO, account: s}]}\n");
  assert_int_equal(sg_config_diff(a, c, &d), 0);
  assert_false(d.webhooks);
  assert_false(d.inbound);
  assert_int_equal(d.n_restart, 2);
  assert_string_equal(d.restart[0], "webhooks.timeout");
  assert_string_equal(d.restart[1], "inbound.rules");
  assert_int_equal(d.n_accounts, 1);
  assert_int_equal(d.accounts[0].change, SG_CONFIG_ADDED);
  sg_config_diff_free(&d);
  sg_config_free(c);
  sg_config_free(a);
  sg_config_free(b);
}

static void arguments(void **state) {
  (void)state;
  sg_config_t *a = load(base);
  sg_config_diff_t d;
  assert_int_equal(sg_config_diff(NULL, a, &d), SG_EINVAL);
  assert_null(d.connectors);
  assert_int_equal(sg_config_diff(a, NULL, &d), SG_EINVAL);
  assert_int_equal(sg_config_diff(a, a, NULL), SG_EINVAL);
  sg_config_diff_free(NULL);
  assert_string_equal(sg_config_change_name(SG_CONFIG_REBIND), "rebind");
  assert_string_equal(sg_config_change_name(SG_CONFIG_REMOVED), "removed");
  sg_config_free(a);
}

static void allocation_failures(void **state) {
  (void)state;
  sg_config_t *a = load(base);
  sg_config_t *b = load("accounts: [{name: a9, api_key: k9}]\n");
  sg_config_diff_t d;
  int rc = SG_ENOMEM;
  long n;
  for (n = 0; n < 100 && rc == SG_ENOMEM; n++) {
    sg_alloc_fail_after(n);
    rc = sg_config_diff(a, b, &d);
    sg_alloc_fail_after(-1);
    if (rc == SG_ENOMEM) {
      assert_null(d.connectors);
      assert_null(d.accounts);
    }
  }
  assert_int_equal(rc, 0);
  assert_int_equal(n, 3); /* connectors, then accounts */
  assert_int_equal(d.n_connectors, 4);
  assert_int_equal(d.n_accounts, 3);
  sg_config_diff_free(&d);
  sg_config_free(a);
  sg_config_free(b);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(identical),
      cmocka_unit_test(connectors),
      cmocka_unit_test(modem_and_password),
      cmocka_unit_test(accounts),
      cmocka_unit_test(routes),
      cmocka_unit_test(restart_and_sections),
      cmocka_unit_test(arguments),
      cmocka_unit_test(allocation_failures),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
