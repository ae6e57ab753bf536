/* Tests for the configuration loader: the built-in default, a document
 * with every key, each class of error with its exact file:line:column, key
 * and message (positions computed from the text, not taken from the
 * loader), suggestions, many errors at once, secrets kept out of messages,
 * duplicate keys, YAML syntax errors in libyaml's words, anchors and
 * aliases refused, the value syntaxes (durations, sizes, addresses), files,
 * and every allocation failing in turn. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "core/alloc.h"
#include "core/config.h"
#include "core/config_int.h"
#include "core/error.h"

/* ---- Helpers ------------------------------------------------------------- */

static sg_config_errors_t errs;

static sg_config_t *load_ok(const char *yaml) {
  sg_config_t *cfg = NULL;
  int rc = sg_config_load_string("t.yaml", yaml, strlen(yaml), &cfg, &errs);
  if (rc != 0)
    sg_config_errors_print(&errs, stderr);
  assert_int_equal(rc, 0);
  assert_non_null(cfg);
  assert_int_equal(errs.count, 0);
  assert_int_equal(errs.total, 0);
  return cfg;
}

static void load_bad(const char *yaml, size_t len) {
  sg_config_t *cfg = (sg_config_t *)&cfg; /* must be reset to NULL */
  int rc = sg_config_load_string("t.yaml", yaml, len, &cfg, &errs);
  assert_int_equal(rc, SG_ECONFIG);
  assert_null(cfg);
  assert_true(errs.count >= 1);
}

static const char *line_of(size_t i) {
  static char buf[1024];
  assert_true(sg_config_error_format(&errs, i, buf, sizeof buf) > 0);
  return buf;
}

/* Loads yaml and requires exactly one error, equal to want. */
static void expect_one(const char *yaml, const char *want) {
  load_bad(yaml, strlen(yaml));
  if (errs.count != 1 || strcmp(line_of(0), want) != 0) {
    fprintf(stderr, "document:\n%swant: %s\ngot:\n", yaml, want);
    sg_config_errors_print(&errs, stderr);
    fail();
  }
  assert_int_equal(errs.total, 1);
}

/* Prints every error into a string (for searching). */
static char *print_all(void) {
  static char out[16384];
  FILE *f = fmemopen(out, sizeof out, "w");
  assert_non_null(f);
  sg_config_errors_print(&errs, f);
  fclose(f);
  return out;
}

/* ---- The default --------------------------------------------------------- */

static void default_parses(void **state) {
  (void)state;
  sg_config_t *cfg = NULL;
  assert_int_equal(sg_config_default(&cfg, &errs), 0);
  assert_string_equal(cfg->source, "<built-in default>");
  assert_int_equal(cfg->store.driver, SG_CONFIG_STORE_SQLITE);
  assert_string_equal(cfg->store.path, "./data/smsgate.db");
  assert_int_equal(cfg->store.synchronous, SG_CONFIG_SYNC_FULL);
  assert_true(cfg->store.sync_pipeline);
  assert_null(cfg->store.url);
  assert_int_equal(cfg->store.traffic_keep_ms, 400ULL * 24 * 3600 * 1000);
  assert_int_equal(cfg->store.count_timeout_ms, 10000);
  assert_string_equal(cfg->http.listen.host, "127.0.0.1");
  assert_int_equal(cfg->http.listen.port, 8080);
  assert_int_equal(cfg->http.max_body, 1024 * 1024);
  assert_true(cfg->simulator.enabled);
  assert_string_equal(cfg->simulator.listen.host, "127.0.0.1");
  assert_int_equal(cfg->simulator.listen.port, 2776);
  assert_int_equal(cfg->simulator.dlr_mix.delivered, 100);
  assert_true(cfg->smpp_server.enabled);
  assert_string_equal(cfg->smpp_server.listen.host, "127.0.0.1");
  assert_int_equal(cfg->smpp_server.listen.port, 2775);
  assert_null(cfg->smpp_server.tls_listen.host);

  assert_int_equal(cfg->n_accounts, 2);
  /* The operator's account: its key may use the admin API. */
  assert_string_equal(cfg->accounts[1].name, "admin");
  assert_string_equal(cfg->accounts[1].api_key, "admin-key");
  assert_true(cfg->accounts[1].admin);
  assert_false(cfg->accounts[0].admin);
  const sg_config_account_t *a = &cfg->accounts[0];
  assert_string_equal(a->name, "demo");
  assert_string_equal(a->api_key, "demo-key");
  assert_string_equal(a->webhook_secret, "demo-secret");
  assert_null(a->callback_url);
  assert_string_equal(a->default_region, "RU");
  assert_null(a->password);
  assert_string_equal(a->smpp.system_id, "demo");
  assert_string_equal(a->smpp.password, "demo-pw");
  assert_int_equal(a->smpp.bind_types, 0xE); /* all three */
  assert_int_equal(a->smpp.max_binds, 4);
  assert_int_equal(a->smpp.n_allowed_cidrs, 0);
  assert_int_equal(a->max_parts, 10);
  assert_int_equal(a->n_senders, 0);
  assert_false(a->disabled);
  assert_false(a->admin);

  assert_int_equal(cfg->n_connectors, 1);
  const sg_config_connector_t *k = &cfg->connectors[0];
  assert_string_equal(k->name, "operator");
  assert_int_equal(k->type, SG_CONFIG_CONNECTOR_SMPP);
  assert_string_equal(k->host, "127.0.0.1");
  assert_int_equal(k->port, 2776);
  assert_string_equal(k->system_id, "smsgate");
  assert_string_equal(k->password, "secret");
  assert_string_equal(k->system_type, "");
  assert_int_equal(k->binds, 1);
  assert_int_equal(k->window, 64);
  assert_int_equal(k->tps, 0);
  assert_false(k->tls);
  assert_true(k->tls_verify);
  assert_int_equal(k->bind_type, SG_CONFIG_BIND_TRANSCEIVER);
  assert_int_equal(k->enquire_link_interval_ms, 30000);
  assert_int_equal(k->response_timeout_ms, 30000);
  assert_int_equal(k->reconnect_min_ms, 1000);
  assert_int_equal(k->reconnect_max_ms, 60000);
  assert_int_equal(k->long_mode, SG_CONFIG_LONG_UDH);
  assert_int_equal(k->id_mode, SG_CONFIG_ID_AUTO);
  assert_int_equal(k->receipt_id_mode, SG_CONFIG_ID_SAME);
  assert_int_equal(k->source_ton, SG_CONFIG_TON_AUTO);
  assert_int_equal(k->max_retries, 3);
  assert_int_equal(k->failover_after_ms, 0); /* the engine's 30 s */

  assert_int_equal(cfg->n_routes, 1);
  const sg_config_route_t *r = &cfg->routes[0];
  assert_string_equal(r->prefix, "+");
  assert_null(r->account);
  assert_int_equal(r->n_connectors, 1);
  assert_string_equal(r->connectors[0], "operator");
  assert_int_equal(r->connector_index[0], 0);
  assert_int_equal(r->weights[0], 1);
  assert_int_equal(r->strategy, SG_CONFIG_STRATEGY_FAILOVER);

  assert_false(cfg->webhooks.allow_private_networks);
  assert_int_equal(cfg->webhooks.max_age_ms, 24u * 3600u * 1000u);
  assert_true(cfg->webhooks.thread);
  assert_int_equal(cfg->webhooks.client, SG_CONFIG_WEBHOOK_BUILTIN);
  assert_int_equal(cfg->webhooks.pipeline, 1);
  assert_int_equal(cfg->webhooks.claim_ahead, 1000);
  assert_int_equal(cfg->log.level, SG_CONFIG_LOG_INFO);
  assert_int_equal(cfg->log.format, SG_CONFIG_LOG_TEXT);

  assert_ptr_equal(sg_config_find_connector(cfg, "operator"), k);
  assert_null(sg_config_find_connector(cfg, "nope"));
  assert_ptr_equal(sg_config_find_account(cfg, "demo"), a);
  assert_null(sg_config_find_account(cfg, NULL));
  sg_config_free(cfg);

  /* The text is public and loads the same way under another name. */
  cfg = load_ok(sg_config_default_yaml());
  assert_string_equal(cfg->source, "t.yaml");
  assert_int_equal(cfg->connectors[0].window, 64);
  sg_config_free(cfg);
  sg_config_free(NULL);
}

/* An empty document and null sections: defaults, optional servers off. */
static void empty_and_null_sections(void **state) {
  (void)state;
  sg_config_t *cfg = load_ok("");
  assert_false(cfg->simulator.enabled);
  assert_false(cfg->smpp_server.enabled);
  assert_int_equal(cfg->n_connectors, 0);
  assert_string_equal(cfg->http.listen.host, "127.0.0.1");
  sg_config_free(cfg);

  cfg = load_ok("# nothing\nsimulator:\nsmpp_server: ~\naccounts: null\n"
                "http: {}\n");
  assert_false(cfg->simulator.enabled);
  assert_false(cfg->smpp_server.enabled);
  assert_int_equal(cfg->n_accounts, 0);
  assert_int_equal(cfg->http.listen.port, 8080);
  sg_config_free(cfg);

  /* enabled: false turns a section off without its required keys. */
  cfg = load_ok("simulator: {enabled: false}\n");
  assert_false(cfg->simulator.enabled);
  sg_config_free(cfg);
}

/* ---- Every key ----------------------------------------------------------- */

static const char full_yaml[] =
    "store:\n"
    "  driver: sqlite\n"
    "  path: /var/lib/smsgate/smsgate.db\n"
    "  synchronous: normal\n"
    "  max_batch: 1000\n"
    "  unmatched_receipt_keep: 2h\n"
    "  sync_pipeline: false\n"
    "  traffic_keep: 90d\n"
    "http:\n"
    "  listen: \"[::1]:8443\"\n"
    "  max_body: 2MB\n"
    "  max_connections: 500\n"
    "  timeout: 1m\n"
    "  web: false\n"
    "  tls_cert: /etc/smsgate/http.crt\n"
    "  tls_key: /etc/smsgate/http.key\n"
    "simulator:\n"
    "  enabled: true\n"
    "  listen: 127.0.0.1:2776\n"
    "  system_id: sim\n"
    "  password: simpw\n"
    "  dlr_delay: 250ms\n"
    "  submit_delay: 5\n"
    "  tps: 200\n"
    "  dlr_mix: {delivered: 90, undeliverable: 5, expired: 2, rejected: 1,\n"
    "            deleted: 1, unknown: 1, accepted: 0}\n"
    "accounts:\n"
    "  - name: shop\n"
    "    api_key: k-123456\n"
    "    password: kannelpw\n"
    "    webhook_secret: whsec\n"
    "    callback_url: https://shop.example/hooks/sms\n"
    "    default_region: DE\n"
    "    smpp: {system_id: shop, password: shoppw, bind_types: [transmitter,"
    " receiver], max_binds: 2, allowed_cidrs: [10.0.0.0/8, \"::1\"], tps: 30,"
    " window: 20}\n"
    "    tps: 50\n"
    "    max_parts: 6\n"
    "    default_sender: Shop\n"
    "    senders: [Shop, \"+4915112345678\"]\n"
    "    disabled: true\n"
    "    admin: true\n"
    "    webhook_events: [delivered, failed]\n"
    "    inbound_url: https://shop.example/hooks/inbound\n"
    "    destinations: [DE, \"+7\"]\n"
    "    quota: {daily: 1000, monthly: 20000}\n"
    "    billing: {prices: {\"+49\": 0.07, \"+\": 0.10}}\n"
    "    velocity: {prefix_digits: 7, per_minute: 30, block_after: 5,"
    " block_for: 1h}\n"
    "  - {name: other, password: pw2}\n"
    "connectors:\n"
    "  - name: op1\n"
    "    type: smpp\n"
    "    host: smsc.example.net\n"
    "    port: 3550\n"
    "    system_id: gw\n"
    "    password: pw\n"
    "    system_type: VMA\n"
    "    bind_type: transmitter\n"
    "    binds: 2\n"
    "    window: 100\n"
    "    tps: 80\n"
    "    tls: true\n"
    "    tls_verify: false\n"
    "    tls_ca: /etc/ssl/op1-ca.pem\n"
    "    tls_cert: /etc/ssl/op1.crt\n"
    "    tls_key: /etc/ssl/op1.key\n"
    "    enquire_link_interval: 45s\n"
    "    response_timeout: 20s\n"
    "    bind_timeout: 5s\n"
    "    first_sequence: 2147483000\n"
    "    reconnect_min: 500ms\n"
    "    reconnect_max: 2m\n"
    "    long_mode: sar\n"
    "    id_mode: hex\n"
    "    receipt_id_mode: decimal\n"
    "    gsm7_packed: true\n"
    "    max_retries: 5\n"
    "    failover_after: 2500ms\n"
    "    source_ton: 5\n"
    "    source_npi: 0\n"
    "    dest_ton: 1\n"
    "    dest_npi: 1\n"
    "    prices: {\"+49\": 0.07, \"+4915\": 0.05}\n"
    "  - {name: op2, type: smpp, host: 10.0.0.7, system_id: gw2,\n"
    "     prices: {\"+\": 0.09}}\n"
    "  - {name: gsm1, type: modem, device: /dev/ttyUSB0, speed: 115200,\n"
    "     pin: \"1234\", smsc: \"+491710760000\"}\n"
    "  - {name: gsmpool, type: modem, devices: [/dev/ttyUSB1, "
    "\"tcp://10.0.0.9:4001\"],\n"
    "     flow_control: rtscts, receive_mode: direct}\n"
    "  - name: web1\n"
    "    type: http\n"
    "    http: {method: PUT, url: \"https://p.example/s?k={{token}}\",\n"
    "      headers: {X-User: \"{{username}}\"}, body_type: form,\n"
    "      body: \"to={{to}}&text={{text}}&pw={{password}}\", username: u,\n"
    "      password: pw, token: t, accept: [\"200\"], temporary: [\"5xx\"],\n"
    "      accept_regex: \"OK\", message_id_regex: \"id=(\\\\w+)\",\n"
    "      error: \"$.e\", error_regex: \"ERR (.*)\", receipt_url: null,\n"
    "      tls_verify: false, tls_ca: /etc/ssl/p.pem,\n"
    "      receipt: {id: mid, status: st, error: err, statuses: {D: "
    "delivered},\n"
    "        secret: s, secret_header: X-S,\n"
    "        hmac_secret: h, hmac_header: X-H}}\n"
    "  - {name: web2, type: http, http: {url: \"http://p/\", message_id: "
    "\"$.id\",\n"
    "     receipt: {secret: s, secret_param: key}}}\n"
    "  - {name: web3, type: http, http: {url: \"http://p/\",\n"
    "     message_id_template: \"{{ref}}\"}}\n"
    "routes:\n"
    "  - {prefix: \"+49\", account: shop, sender: Shop, connectors: [op1, "
    "op2],\n"
    "     weights: [3, 1], strategy: weighted}\n"
    "  - {prefix: \"+\", connectors: [op2, op1], strategy: failover}\n"
    "  - {prefix: \"+7\", connectors: [op1, op2], weights: [1, 1]}\n"
    "  - {pattern: \"^\\\\+491[5-7]\", type: unicode, connectors: [op1, op2],\n"
    "     strategy: least-cost}\n"
    "webhooks:\n"
    "  allow_private_networks: true\n"
    "  timeout: 15s\n"
    "  connect_timeout: 2s\n"
    "  retry_min: 2s\n"
    "  retry_max: 1h\n"
    "  max_age: 2d\n"
    "  concurrency: 16\n"
    "  thread: false\n"
    "  client: curl\n"
    "  pipeline: 1\n"
    "  claim_ahead: 200\n"
    "smpp_server:\n"
    "  enabled: true\n"
    "  listen: 0.0.0.0:2775\n"
    "  tls_listen: 0.0.0.0:3775\n"
    "  cert: /etc/smsgate/smpp.crt\n"
    "  key: /etc/smsgate/smpp.key\n"
    "  max_sessions: 20\n"
    "  window: 50\n"
    "  enquire_link_interval: 1m\n"
    "  receipt_max_age: 2d\n"
    "  bind_fail_delay: 2s\n"
    "  bind_fail_max: 5\n"
    "  part_wait: 3m\n"
    "log: {level: debug, format: json}\n"
    "inbound:\n"
    "  reassembly_timeout: 2m\n"
    "  rules:\n"
    "    - {to: \"+4915112345678\", keyword: INFO, aliases: [INFOS],\n"
    "       regex: \"^info\\\\b\", account: shop, action: webhook}\n"
    "    - {keyword: PRICE, account: shop, action: both, method: POST,\n"
    "       url: \"https://shop.example/mo?from=%p&text=%a\", reply: false,\n"
    "       reply_max_length: 160}\n"
    "  catch_all: other\n"
    "  stop_keywords: [STOP, HALT]\n"
    "  start_keywords: [START]\n"
    "  help_keywords: [HELP, HILFE]\n"
    "  stop_reply: Abgemeldet.\n"
    "  start_reply: Angemeldet.\n"
    "  help_reply: Hilfe.\n"
    "  reply_limit: 3\n"
    "  reply_window: 10m\n";

static void full_example(void **state) {
  (void)state;
  sg_config_t *cfg = load_ok(full_yaml);
  assert_int_equal(cfg->store.driver, SG_CONFIG_STORE_SQLITE);
  assert_string_equal(cfg->store.path, "/var/lib/smsgate/smsgate.db");
  assert_int_equal(cfg->store.synchronous, SG_CONFIG_SYNC_NORMAL);
  assert_int_equal(cfg->store.max_batch, 1000);
  assert_int_equal(cfg->store.unmatched_receipt_keep_ms, 2 * 3600 * 1000);
  assert_false(cfg->store.sync_pipeline);
  assert_int_equal(cfg->store.traffic_keep_ms, 90ULL * 24 * 3600 * 1000);

  const sg_config_http_t *h = &cfg->http;
  assert_string_equal(h->listen.host, "::1");
  assert_int_equal(h->listen.port, 8443);
  assert_int_equal(h->max_body, 2 * 1024 * 1024);
  assert_int_equal(h->max_connections, 500);
  assert_int_equal(h->timeout_ms, 60000);
  assert_false(h->web);
  assert_string_equal(h->tls_cert, "/etc/smsgate/http.crt");
  assert_string_equal(h->tls_key, "/etc/smsgate/http.key");

  const sg_config_simulator_t *s = &cfg->simulator;
  assert_true(s->enabled);
  assert_string_equal(s->system_id, "sim");
  assert_string_equal(s->password, "simpw");
  assert_int_equal(s->dlr_delay_ms, 250);
  assert_int_equal(s->submit_delay_ms, 5);
  assert_int_equal(s->tps, 200);
  assert_int_equal(s->dlr_mix.delivered, 90);
  assert_int_equal(s->dlr_mix.undeliverable, 5);
  assert_int_equal(s->dlr_mix.expired, 2);
  assert_int_equal(s->dlr_mix.rejected, 1);
  assert_int_equal(s->dlr_mix.deleted, 1);
  assert_int_equal(s->dlr_mix.unknown, 1);
  assert_int_equal(s->dlr_mix.accepted, 0);

  assert_int_equal(cfg->n_accounts, 2);
  const sg_config_account_t *a = &cfg->accounts[0];
  assert_string_equal(a->name, "shop");
  assert_string_equal(a->api_key, "k-123456");
  assert_string_equal(a->password, "kannelpw");
  assert_string_equal(a->webhook_secret, "whsec");
  assert_string_equal(a->callback_url, "https://shop.example/hooks/sms");
  assert_string_equal(a->default_region, "DE");
  assert_string_equal(a->smpp.system_id, "shop");
  assert_string_equal(a->smpp.password, "shoppw");
  assert_int_equal(a->tps, 50);
  assert_int_equal(a->max_parts, 6);
  assert_string_equal(a->default_sender, "Shop");
  assert_int_equal(a->n_senders, 2);
  assert_string_equal(a->senders[0], "Shop");
  assert_string_equal(a->senders[1], "+4915112345678");
  assert_true(a->disabled);
  assert_true(a->admin);
  assert_int_equal(a->n_webhook_events, 2);
  assert_string_equal(a->webhook_events[1], "failed");
  assert_string_equal(cfg->accounts[1].password, "pw2");
  assert_null(cfg->accounts[1].api_key);
  assert_string_equal(cfg->accounts[1].default_region, "");

  assert_int_equal(cfg->n_connectors, 7);
  const sg_config_connector_t *pool = &cfg->connectors[3];
  assert_null(pool->device);
  assert_int_equal(pool->n_devices, 2);
  assert_string_equal(pool->devices[0], "/dev/ttyUSB1");
  assert_string_equal(pool->devices[1], "tcp://10.0.0.9:4001");
  assert_int_equal(pool->flow_control, SG_CONFIG_FLOW_RTSCTS);
  assert_int_equal(pool->receive_mode, SG_CONFIG_RECEIVE_DIRECT);
  const sg_config_connector_t *gsm = &cfg->connectors[2];
  assert_int_equal(gsm->type, SG_CONFIG_CONNECTOR_MODEM);
  assert_string_equal(gsm->device, "/dev/ttyUSB0");
  assert_int_equal(gsm->speed, 115200);
  assert_string_equal(gsm->pin, "1234");
  assert_string_equal(gsm->smsc, "+491710760000");
  assert_int_equal(gsm->n_devices, 0);
  assert_int_equal(gsm->flow_control, SG_CONFIG_FLOW_NONE);
  assert_int_equal(gsm->receive_mode, SG_CONFIG_RECEIVE_STORED);
  assert_null(gsm->host);
  const sg_config_connector_t *k = &cfg->connectors[0];
  assert_string_equal(k->host, "smsc.example.net");
  assert_int_equal(k->port, 3550);
  assert_string_equal(k->system_id, "gw");
  assert_string_equal(k->password, "pw");
  assert_string_equal(k->system_type, "VMA");
  assert_int_equal(k->bind_type, SG_CONFIG_BIND_TRANSMITTER);
  assert_int_equal(k->binds, 2);
  assert_int_equal(k->window, 100);
  assert_int_equal(k->tps, 80);
  assert_true(k->tls);
  assert_false(k->tls_verify);
  assert_string_equal(k->tls_ca, "/etc/ssl/op1-ca.pem");
  assert_string_equal(k->tls_cert, "/etc/ssl/op1.crt");
  assert_string_equal(k->tls_key, "/etc/ssl/op1.key");
  assert_int_equal(k->enquire_link_interval_ms, 45000);
  assert_int_equal(k->response_timeout_ms, 20000);
  assert_int_equal(k->bind_timeout_ms, 5000);
  assert_int_equal(k->first_sequence, 2147483000u);
  assert_int_equal(k->reconnect_min_ms, 500);
  assert_int_equal(k->reconnect_max_ms, 120000);
  assert_int_equal(k->long_mode, SG_CONFIG_LONG_SAR);
  assert_int_equal(k->id_mode, SG_CONFIG_ID_HEX);
  assert_int_equal(k->receipt_id_mode, SG_CONFIG_ID_DECIMAL);
  assert_true(k->gsm7_packed);
  assert_int_equal(k->max_retries, 5);
  assert_int_equal(k->failover_after_ms, 2500);
  assert_int_equal(k->source_ton, 5);
  assert_int_equal(k->source_npi, 0);
  assert_int_equal(k->dest_ton, 1);
  assert_int_equal(k->dest_npi, 1);
  /* The second connector has the defaults. */
  k = &cfg->connectors[1];
  assert_string_equal(k->host, "10.0.0.7");
  assert_int_equal(k->port, 2775);
  assert_string_equal(k->password, "");
  assert_int_equal(k->window, 10);
  assert_int_equal(k->dest_npi, SG_CONFIG_TON_AUTO);

  assert_int_equal(cfg->n_routes, 4);
  const sg_config_route_t *r = &cfg->routes[0];
  assert_string_equal(r->prefix, "+49");
  assert_string_equal(r->account, "shop");
  assert_string_equal(r->sender, "Shop");
  assert_int_equal(r->n_connectors, 2);
  assert_int_equal(r->connector_index[0], 0);
  assert_int_equal(r->connector_index[1], 1);
  assert_int_equal(r->weights[0], 3);
  assert_int_equal(r->weights[1], 1);
  assert_int_equal(r->strategy, SG_CONFIG_STRATEGY_WEIGHTED);
  r = &cfg->routes[1];
  assert_int_equal(r->connector_index[0], 1);
  assert_int_equal(r->connector_index[1], 0);
  assert_int_equal(r->strategy, SG_CONFIG_STRATEGY_FAILOVER);
  /* Weights without a strategy make the route weighted. */
  assert_int_equal(cfg->routes[2].strategy, SG_CONFIG_STRATEGY_WEIGHTED);
  r = &cfg->routes[3];
  assert_null(r->prefix);
  assert_string_equal(r->pattern, "^\\+491[5-7]");
  assert_int_equal(r->type, SG_CONFIG_MSG_UNICODE);
  assert_int_equal(r->strategy, SG_CONFIG_STRATEGY_LEAST_COST);
  assert_int_equal(cfg->routes[0].type, SG_CONFIG_MSG_ANY);
  assert_int_equal(cfg->connectors[0].n_prices, 2);
  assert_string_equal(cfg->connectors[0].prices[1].prefix, "+4915");
  assert_true(cfg->connectors[0].prices[1].price == 0.05);
  assert_int_equal(cfg->connectors[1].n_prices, 1);
  assert_true(cfg->connectors[1].prices[0].price == 0.09);
  assert_int_equal(cfg->connectors[2].n_prices, 0);

  const sg_config_webhooks_t *w = &cfg->webhooks;
  assert_true(w->allow_private_networks);
  assert_int_equal(w->timeout_ms, 15000);
  assert_int_equal(w->connect_timeout_ms, 2000);
  assert_int_equal(w->retry_min_ms, 2000);
  assert_int_equal(w->retry_max_ms, 3600000);
  assert_int_equal(w->max_age_ms, 2u * 86400000u);
  assert_int_equal(w->concurrency, 16);
  assert_false(w->thread);
  assert_int_equal(w->client, SG_CONFIG_WEBHOOK_CURL);
  assert_int_equal(w->pipeline, 1);
  assert_int_equal(w->claim_ahead, 200);

  const sg_config_smpp_server_t *ss = &cfg->smpp_server;
  assert_true(ss->enabled);
  assert_string_equal(ss->listen.host, "0.0.0.0");
  assert_int_equal(ss->listen.port, 2775);
  assert_int_equal(ss->tls_listen.port, 3775);
  assert_string_equal(ss->cert, "/etc/smsgate/smpp.crt");
  assert_string_equal(ss->key, "/etc/smsgate/smpp.key");
  assert_int_equal(ss->max_sessions, 20);
  assert_int_equal(ss->window, 50);
  assert_int_equal(ss->enquire_link_interval_ms, 60000);
  assert_int_equal(ss->receipt_max_age_ms, 2u * 86400000u);
  assert_int_equal(ss->bind_fail_delay_ms, 2000);
  assert_int_equal(ss->bind_fail_max, 5);
  assert_int_equal(ss->part_wait_ms, 180000);
  assert_int_equal(cfg->log.level, SG_CONFIG_LOG_DEBUG);
  assert_int_equal(cfg->log.format, SG_CONFIG_LOG_JSON);
  assert_string_equal(cfg->accounts[0].inbound_url,
                      "https://shop.example/hooks/inbound");
  assert_string_equal(cfg->accounts[0].destinations[1], "+7");
  assert_int_equal(cfg->accounts[0].quota.monthly, 20000);
  assert_int_equal(cfg->accounts[0].velocity.prefix_digits, 7);
  assert_int_equal(cfg->accounts[0].velocity.per_minute, 30);
  assert_int_equal(cfg->accounts[0].velocity.block_after, 5);
  assert_int_equal(cfg->accounts[0].velocity.block_for_ms, 3600000);
  assert_int_equal(cfg->accounts[1].velocity.per_minute, 0); /* off */
  assert_int_equal(cfg->accounts[0].billing.prices[0].micro, 70000);
  const sg_config_inbound_t *in = &cfg->inbound;
  assert_int_equal(in->reassembly_timeout_ms, 120000);
  assert_int_equal(in->n_rules, 2);
  assert_string_equal(in->rules[0].to, "+4915112345678");
  assert_int_equal(in->rules[0].action, SG_CONFIG_INBOUND_WEBHOOK);
  assert_true(in->rules[0].reply);
  assert_int_equal(in->rules[0].reply_max_length, 1000);
  assert_int_equal(in->rules[1].action, SG_CONFIG_INBOUND_BOTH);
  assert_int_equal(in->rules[1].method, SG_CONFIG_INBOUND_POST);
  assert_string_equal(in->rules[1].url,
                      "https://shop.example/mo?from=%p&text=%a");
  assert_false(in->rules[1].reply);
  assert_int_equal(in->rules[1].reply_max_length, 160);
  assert_string_equal(in->rules[0].aliases[0], "INFOS");
  assert_string_equal(in->rules[0].regex, "^info\\b");
  assert_int_equal(in->rules[0].account_index, 0);
  assert_string_equal(in->catch_all, "other");
  assert_int_equal(in->n_stop_keywords, 2);
  assert_string_equal(in->help_keywords[1], "HILFE");
  assert_string_equal(in->stop_reply, "Abgemeldet.");
  assert_int_equal(in->reply_limit, 3);
  assert_int_equal(in->reply_window_ms, 600000);
  sg_config_free(cfg);
}

/* Says whether `key` followed by ':' occurs in text as a key. */
static int has_key(const char *text, const char *key) {
  size_t kl = strlen(key);
  for (const char *p = strstr(text, key); p != NULL; p = strstr(p + 1, key)) {
    char before = p == text ? '\n' : p[-1];
    if ((before == ' ' || before == '{' || before == '\n') && p[kl] == ':')
      return 1;
  }
  return 0;
}

static const char postgres_yaml[] =
    "store:\n"
    "  driver: postgres\n"
    "  url: postgresql://smsgate:pw@db.example/smsgate?sslmode=require\n"
    "  max_batch: 64\n"
    "  count_timeout: 2500ms\n"
    "node: {name: gw-1, heartbeat: 1s, dead_after: 5s}\n"
    "connectors:\n"
    "  - {name: op1, type: smpp, host: h, system_id: s, node: gw-1}\n"
    "  - {name: op2, type: smpp, host: h, system_id: s, nodes: [gw-1, gw-2]}\n";

static void postgres_store(void **state) {
  (void)state;
  sg_config_t *cfg = load_ok(postgres_yaml);
  assert_int_equal(cfg->store.driver, SG_CONFIG_STORE_POSTGRES);
  assert_string_equal(cfg->store.url,
                      "postgresql://smsgate:pw@db.example/smsgate?sslmode="
                      "require");
  assert_int_equal(cfg->store.max_batch, 64);
  assert_int_equal(cfg->store.count_timeout_ms, 2500);
  assert_string_equal(cfg->node.name, "gw-1");
  assert_int_equal(cfg->node.heartbeat_ms, 1000);
  assert_int_equal(cfg->node.dead_after_ms, 5000);
  assert_string_equal(cfg->connectors[0].node, "gw-1");
  assert_int_equal(cfg->connectors[1].n_nodes, 2);
  assert_string_equal(cfg->connectors[1].nodes[1], "gw-2");
  sg_config_free(cfg);
}

/* The forms libpq takes pass the check of store.url's form. */
static void postgres_url_forms(void **state) {
  (void)state;
  static const char *const ok[] = {
      "store: {driver: postgres, url: \"postgres://\"}\n",
      "store: {driver: postgres, url: \"postgresql://u:p%40w@h:5432/db?"
      "sslmode=disable&connect_timeout=5\"}\n",
      "store: {driver: postgres, url: \"postgres://[::1]:5433/db\"}\n",
      "store: {driver: postgres, url: \"host=/tmp dbname=sg\"}\n",
      "store: {driver: postgres, url: \"host = h  user='a b' "
      "password='x\\\\'y'\"}\n",
      "store: {driver: postgres, url: \"dbname=sg password=p\\\\ w\"}\n",
  };
  for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++)
    sg_config_free(load_ok(ok[i]));
}

static void webhook_pipeline(void **state) {
  (void)state;
  sg_config_t *cfg = load_ok("webhooks: {pipeline: 8}\n");
  assert_int_equal(cfg->webhooks.pipeline, 8);
  assert_int_equal(cfg->webhooks.client, SG_CONFIG_WEBHOOK_BUILTIN);
  sg_config_free(cfg);
}

static void webhook_claim_ahead(void **state) {
  (void)state;
  sg_config_t *cfg = load_ok("webhooks: {claim_ahead: 0}\n");
  assert_int_equal(cfg->webhooks.claim_ahead, 0);
  sg_config_free(cfg);
  cfg = load_ok("webhooks: {concurrency: 16, claim_ahead: 10000}\n");
  assert_int_equal(cfg->webhooks.claim_ahead, 10000);
  assert_int_equal(cfg->webhooks.concurrency, 16);
  sg_config_free(cfg);
}

static void walk_keys(const sg__cfg_section_t *sec) {
  for (size_t i = 0; i < sec->n_fields; i++) {
    const sg__cfg_field_t *f = &sec->fields[i];
    if (!has_key(full_yaml, f->key) && !has_key(postgres_yaml, f->key))
      fail_msg("key \"%s\" is missing from the full example", f->key);
    if (f->sub != NULL)
      walk_keys(f->sub);
  }
}

/* The full example (with the PostgreSQL one) really has every key of the
 * tables. */
static void full_example_has_every_key(void **state) {
  (void)state;
  walk_keys(&sg__cfg_root_section);
}

/* ---- One error each ------------------------------------------------------ */

static const struct {
  const char *yaml;
  const char *want;
} one_error[] = {
    {"connectors:\n  - {name: a, type: smpp, host: h, system_id: s, port: "
     "abc}\n",
     "t.yaml:2:56: connectors[0].port: expected an integer 1-65535, got "
     "\"abc\""},
    {"connectors:\n  - {name: a, type: smpp, host: h, system_id: s, port: 0}\n",
     "t.yaml:2:56: connectors[0].port: expected an integer 1-65535, got \"0\""},
    {"connectors:\n  - {name: a, type: smpp, host: h, system_id: s, window: "
     "9000}\n",
     "t.yaml:2:58: connectors[0].window: expected an integer 1-8192, got "
     "\"9000\""},
    {"connectors:\n  - {name: a, type: smpp, host: h, system_id: s, binds: "
     "-1}\n",
     "t.yaml:2:57: connectors[0].binds: expected an integer 1-64, got \"-1\""},
    {"connectors:\n  - {name: a, type: smpp, host: h, system_id: s, tls: "
     "yes}\n",
     "t.yaml:2:55: connectors[0].tls: expected true or false, got \"yes\" "
     "(YAML 1.1 booleans are not read)"},
    {"connectors:\n  - {name: a, type: smpp, host: h, system_id: s, "
     "source_ton: 7}\n",
     "t.yaml:2:62: connectors[0].source_ton: expected auto or an integer 0-6, "
     "got \"7\""},
    {"connectors:\n  - {name: a, type: smpp, host: h, system_id: s, dest_npi: "
     "2}\n",
     "t.yaml:2:60: connectors[0].dest_npi: expected auto or one of 0, 1, 3, 4, "
     "6, 8, 9, 10, 14, 18, got \"2\""},
    {"connectors:\n  - {name: a, type: smpp, host: h, system_id: s, id_mode: "
     "HEX}\n",
     "t.yaml:2:59: connectors[0].id_mode: expected one of auto, exact, nocase, "
     "hex, decimal, got \"HEX\"; did you mean \"hex\"?"},
    {"accounts:\n  - {name: a, api_key: k, velocity: {prefix_digits: 16, "
     "per_minute: 5}}\n",
     "t.yaml:2:53: accounts[0].velocity.prefix_digits: expected an integer "
     "1-15, got \"16\""},
    {"accounts:\n  - {name: a, api_key: k, velocity: {block_after: 3}}\n",
     "t.yaml:2:37: accounts[0].velocity: missing required key \"per_minute\""},
    {"store: {traffic_keep: 12h}\n",
     "t.yaml:1:23: store.traffic_keep: expected a duration 1d-3650d (like "
     "90d, 400d), got \"12h\""},
    {"store: {traffic_keep: 3651d}\n",
     "t.yaml:1:23: store.traffic_keep: expected a duration 1d-3650d (like "
     "90d, 400d), got \"3651d\""},
    {"webhooks: {timeout: 3 weeks}\n",
     "t.yaml:1:21: webhooks.timeout: expected a duration 1s-10m (like 500ms, "
     "30s, 5m), got \"3 weeks\""},
    {"webhooks: {timeout: 20m}\n",
     "t.yaml:1:21: webhooks.timeout: expected a duration 1s-10m (like 500ms, "
     "30s, 5m), got \"20m\""},
    {"webhooks: {pipeline: 0}\n",
     "t.yaml:1:22: webhooks.pipeline: expected an integer 1-32, got \"0\""},
    {"webhooks: {pipeline: 33}\n",
     "t.yaml:1:22: webhooks.pipeline: expected an integer 1-32, got \"33\""},
    {"webhooks: {claim_ahead: 10001}\n",
     "t.yaml:1:25: webhooks.claim_ahead: expected an integer 0-10000, got "
     "\"10001\""},
    {"webhooks:\n  concurrency: 8\n  claim_ahead: -1\n",
     "t.yaml:3:16: webhooks.claim_ahead: expected an integer 0-10000, got "
     "\"-1\""},
    {"webhooks: {claim_ahead: lots}\n",
     "t.yaml:1:25: webhooks.claim_ahead: expected an integer 0-10000, got "
     "\"lots\""},
    {"webhooks: {client: h2o}\n",
     "t.yaml:1:20: webhooks.client: expected one of builtin, curl, got "
     "\"h2o\""},
    {"simulator: {listen: 127.0.0.1:2776, dlr_delay: 1.5s}\n",
     "t.yaml:1:48: simulator.dlr_delay: expected a duration 0-1d (like 500ms, "
     "30s, 5m), got \"1.5s\""},
    {"http: {max_body: 1XB}\n", "t.yaml:1:18: http.max_body: expected a size "
                                "1KB-1GB (like 64KB, 1MB), got \"1XB\""},
    {"http: {max_body: 2GB}\n", "t.yaml:1:18: http.max_body: expected a size "
                                "1KB-1GB (like 64KB, 1MB), got \"2GB\""},
    {"http: {max_body: null}\n", "t.yaml:1:18: http.max_body: expected a size "
                                 "1KB-1GB (like 64KB, 1MB), got null"},
    {"http: {listen: 8080}\n",
     "t.yaml:1:16: http.listen: expected host:port or [IPv6]:port, like "
     "127.0.0.1:8080, got \"8080\""},
    {"http: {listen: \"::1:8080\"}\n",
     "t.yaml:1:16: http.listen: expected host:port or [IPv6]:port, like "
     "127.0.0.1:8080, got \"::1:8080\""},
    {"http: {listen: \"127.0.0.1:65536\"}\n",
     "t.yaml:1:16: http.listen: port 65536 is out of range 1-65535"},
    {"store: {driver: sqlit}\n",
     "t.yaml:1:17: store.driver: expected one of sqlite, postgres, got "
     "\"sqlit\"; did you mean \"sqlite\"?"},
    {"log: {level: verbose}\n", "t.yaml:1:14: log.level: expected one of "
                                "debug, info, warn, error, got \"verbose\""},
    {"accounts:\n  - {name: \"a b\", api_key: k}\n",
     "t.yaml:2:12: accounts[0].name: expected a name of 1-64 letters, digits, "
     "'_', '.' or '-', got \"a b\""},
    {"connectors:\n  - {name: a, type: smpp, host: \"300.1.1.1\", system_id: "
     "s}\n",
     "t.yaml:2:33: connectors[0].host: expected a host name or IP address, got "
     "\"300.1.1.1\""},
    {"connectors:\n  - {name: a, type: smpp, host: bad_host, system_id: s}\n",
     "t.yaml:2:33: connectors[0].host: expected a host name or IP address, got "
     "\"bad_host\""},
    {"connectors:\n  - {name: a, type: fax, host: h, system_id: s}\n",
     "t.yaml:2:21: connectors[0].type: expected one of smpp, modem, http, got "
     "\"fax\""},
    {"accounts:\n  - {name: a, api_key: k, callback_url: ftp://x/y}\n",
     "t.yaml:2:41: accounts[0].callback_url: expected an http:// or https:// "
     "URL, got \"ftp://x/y\""},
    {"accounts:\n  - {name: a, api_key: k, default_region: ru}\n",
     "t.yaml:2:43: accounts[0].default_region: expected an ISO 3166 two-letter "
     "region code in upper case, like RU, got \"ru\""},
    {"accounts:\n  - {name: a, api_key: k, default_region: RUS}\n",
     "t.yaml:2:43: accounts[0].default_region: expected an ISO 3166 two-letter "
     "region code in upper case, like RU, got \"RUS\""},
    {"accounts:\n  - {name: a, api_key: k, max_parts: 256}\n",
     "t.yaml:2:38: accounts[0].max_parts: expected an integer 1-255, got "
     "\"256\""},
    {"connectors:\n  - {name: a, type: smpp, host: h, system_id: s}\n  - "
     "{name: b, type: smpp, host: h, system_id: s}\nroutes:\n  - {prefix: "
     "\"7\", connectors: [a]}\n",
     "t.yaml:5:14: routes[0].prefix: expected \"+\" and up to 15 digits (like "
     "+7 or +7900), got \"7\""},
    {"connectors:\n  - {name: a, type: smpp, host: h, system_id: "
     "abcdefghijklmnop}\n",
     "t.yaml:2:47: connectors[0].system_id: too long: 16 characters, at most "
     "15"},
    {"connectors:\n  - {name: a, type: smpp, host: h, system_id: s, "
     "system_type: \"\xC3"
     "\xA9"
     "\"}\n",
     "t.yaml:2:63: connectors[0].system_type: must be printable ASCII "
     "characters only"},
    {"store: {path: \"a\\0b\"}\n",
     "t.yaml:1:15: store.path: must not contain NUL characters"},
    {"store: {path: \"\"}\n", "t.yaml:1:15: store.path: must not be empty"},
    {"connectors:\n  - {name: a, type: smpp, system_id: s}\n",
     "t.yaml:2:5: connectors[0]: missing required key \"host\""},
    {"connectors:\n  - {name: a, type: modem}\n",
     "t.yaml:2:5: connectors[0]: missing required key \"device\""},
    {"connectors:\n  - {name: a, type: modem, device: \"tcp://h\"}\n",
     "t.yaml:2:36: connectors[0].device: expected a serial device path such "
     "as /dev/ttyUSB0 or a TCP serial bridge tcp://host:port"},
    {"connectors:\n  - {name: a, type: modem, device: \"tcp://h:0\"}\n",
     "t.yaml:2:36: connectors[0].device: expected a serial device path such "
     "as /dev/ttyUSB0 or a TCP serial bridge tcp://host:port"},
    {"connectors:\n  - {name: a, type: modem, device: ttyUSB0}\n",
     "t.yaml:2:36: connectors[0].device: expected a serial device path such "
     "as /dev/ttyUSB0 or a TCP serial bridge tcp://host:port"},
    {"connectors:\n  - {name: a, type: modem, devices: [/dev/a, \"tcp://h\"]}"
     "\n",
     "t.yaml:2:46: connectors[0].devices[1]: expected a serial device path "
     "such as /dev/ttyUSB0 or a TCP serial bridge tcp://host:port"},
    {"connectors:\n  - {name: a, type: modem, devices: [/dev/a, /dev/a]}\n",
     "t.yaml:2:46: connectors[0].devices[1]: device listed twice"},
    {"connectors:\n  - {name: a, type: modem, device: /dev/a, devices: "
     "[/dev/b]}\n",
     "t.yaml:2:53: connectors[0].devices: give device or devices, not both"},
    {"connectors:\n  - {name: a, type: modem, devices: []}\n",
     "t.yaml:2:37: connectors[0].devices: expected a list of 1 to 16 "
     "devices"},
    {"connectors:\n  - {name: a, type: modem, device: /dev/a, flow_control: "
     "xon}\n",
     "t.yaml:2:58: connectors[0].flow_control: expected one of none, "
     "rtscts, xonxoff, got \"xon\"; did you mean \"none\"?"},
    {"connectors:\n  - {name: a, type: smpp, host: h, system_id: s, "
     "receive_mode: direct}\n",
     "t.yaml:2:64: connectors[0].receive_mode: applies only with type: "
     "modem"},
    {"connectors:\n  - {name: a, type: modem, device: /dev/x, speed: 1234}\n",
     "t.yaml:2:51: connectors[0].speed: expected one of 9600, 19200, 38400, "
     "57600, 115200, 230400, 460800, 921600"},
    {"connectors:\n  - {name: a, type: modem, device: /dev/x, pin: 12ab}\n",
     "t.yaml:2:49: connectors[0].pin: expected 4 to 8 digits"},
    {"connectors:\n  - {name: a, type: smpp, host: h, system_id: s, "
     "device: /dev/x}\n",
     "t.yaml:2:58: connectors[0].device: applies only with type: modem"},
    {"http: [1]\n", "t.yaml:1:7: http: expected a mapping, got a sequence"},
    {"accounts: {name: x}\n",
     "t.yaml:1:11: accounts: expected a list of mappings, got a mapping"},
    {"connectors:\n  - operator\n",
     "t.yaml:2:5: connectors[0]: expected a mapping, got \"operator\""},
    {"connectors:\n  - {name: a, type: smpp, host: h, system_id: s}\n  - "
     "{name: b, type: smpp, host: h, system_id: s}\nroutes:\n  - {prefix: "
     "\"+\", connectors: a}\n",
     "t.yaml:5:31: routes[0].connectors: expected a list of strings, got "
     "\"a\""},
    {"connectors:\n  - {name: a, type: smpp, host: h, system_id: s}\n  - "
     "{name: b, type: smpp, host: h, system_id: s}\nroutes:\n  - {prefix: "
     "\"+\", connectors: [a, b], weights: [1, 0]}\n",
     "t.yaml:5:52: routes[0].weights[1]: expected an integer 1-1000, got "
     "\"0\""},
    {"http: {lisen: 1.2.3.4:80}\n",
     "t.yaml:1:8: http.lisen: unknown key; did you mean \"listen\"?"},
    {"simulator: {listen: 127.0.0.1:2776, dlr_delay_ms: 500}\n",
     "t.yaml:1:37: simulator.dlr_delay_ms: unknown key; did you mean "
     "\"dlr_delay\"?"},
    {"log: {colour: true}\n",
     "t.yaml:1:7: log.colour: unknown key (known keys: level, format)"},
    {"connector: []\n",
     "t.yaml:1:1: connector: unknown key; did you mean \"connectors\"?"},
    {"connectors:\n  - {name: a, type: smpp, host: h, system_id: s, Port: "
     "2775}\n",
     "t.yaml:2:50: connectors[0].Port: unknown key; did you mean \"port\"?"},
    {"log: {level: info, level: debug}\n",
     "t.yaml:1:20: log.level: duplicate key; the first is at 1:7"},
    {"log:\n  ? [a]\n  : 1\n",
     "t.yaml:2:5: log.?: a key must be a plain string, not a sequence"},
    {"store: {driver: postgres}\n",
     "t.yaml:1:8: store: driver postgres needs \"url\""},
    {"store: {driver: postgres, url: \"localhost:5432/db\"}\n",
     "t.yaml:1:32: store.url: not a PostgreSQL connection string: expected "
     "postgres://[user[:password]@][host][:port][/dbname][?key=value&...] "
     "or key=value pairs (the value is not shown: it may hold a password)"},
    {"store: {driver: postgres, url: \"postgres://u:p w@h/db\"}\n",
     "t.yaml:1:32: store.url: not a PostgreSQL connection string: a URI "
     "cannot hold blanks or control characters (escape them as %XX) (the "
     "value is not shown: it may hold a password)"},
    {"store: {driver: postgres, url: \"postgresql://u:p%zz@h/db\"}\n",
     "t.yaml:1:32: store.url: not a PostgreSQL connection string: '%' must "
     "be followed by two hex digits (the value is not shown: it may hold a "
     "password)"},
    {"store: {driver: postgres, url: \"postgres://h/db?sslmode\"}\n",
     "t.yaml:1:32: store.url: not a PostgreSQL connection string: each "
     "parameter after '?' must be key=value (the value is not shown: it may "
     "hold a password)"},
    {"store: {driver: postgres, url: \"host=h password='s3cret\"}\n",
     "t.yaml:1:32: store.url: not a PostgreSQL connection string: a quoted "
     "value is not closed by ' (the value is not shown: it may hold a "
     "password)"},
    {"store: {driver: postgres, url: \"host=h dbname\"}\n",
     "t.yaml:1:32: store.url: not a PostgreSQL connection string: each "
     "keyword must be followed by '=' and a value (the value is not shown: "
     "it may hold a password)"},
    {"store: {driver: postgres, url: \"Host=h\"}\n",
     "t.yaml:1:32: store.url: not a PostgreSQL connection string: expected "
     "a keyword of a-z and '_' (key=value pairs) (the value is not shown: "
     "it may hold a password)"},
    {"store: {url: \"postgres://u:pw@h/db\"}\n",
     "t.yaml:1:14: store.url: applies only with driver: postgres"},
    {"store: {count_timeout: 5s}\n",
     "t.yaml:1:24: store.count_timeout: applies only with driver: postgres"},
    {"store: {driver: postgres, url: \"postgres://h/db\", count_timeout: "
     "50ms}\n",
     "t.yaml:1:66: store.count_timeout: expected a duration 100ms-1h (like "
     "500ms, 30s, 5m), got \"50ms\""},
    {"store: {driver: postgres, url: \"postgres://h/db\", path: a.db}\n",
     "t.yaml:1:57: store.path: applies only with driver: sqlite"},
    {"store: {driver: postgres, url: \"postgres://h/db\", sync_pipeline: "
     "false}\n",
     "t.yaml:1:66: store.sync_pipeline: applies only with driver: sqlite"},
    {"store: {sync_pipeline: no}\n",
     "t.yaml:1:24: store.sync_pipeline: expected true or false, got \"no\" "
     "(YAML 1.1 booleans are not read)"},
    {"http: {tls_cert: a.pem}\n",
     "t.yaml:1:7: http: \"tls_cert\" and \"tls_key\" go together: set both or "
     "neither"},
    {"simulator: {tps: 5}\n",
     "t.yaml:1:12: simulator: missing required key \"listen\""},
    {"simulator: {listen: 127.0.0.1:2776, dlr_mix: {delivered: 0}}\n",
     "t.yaml:1:46: simulator.dlr_mix: at least one weight must be above 0"},
    {"accounts:\n  - {name: a}\n",
     "t.yaml:2:5: accounts[0]: needs at least one of \"api_key\", \"password\" "
     "or \"smpp\" to send with"},
    {"accounts:\n  - {name: a, smpp: {system_id: x}}\n",
     "t.yaml:2:21: accounts[0].smpp: missing required key \"password\""},
    {"accounts:\n  - {name: a, smpp: {system_id: x, password: y, "
     "bind_types: [sender]}}\n",
     "t.yaml:2:62: accounts[0].smpp.bind_types[0]: expected transmitter, "
     "receiver or transceiver"},
    {"accounts:\n  - {name: a, smpp: {system_id: x, password: y, "
     "allowed_cidrs: [10.0.0.1/8]}}\n",
     "t.yaml:2:65: accounts[0].smpp.allowed_cidrs[0]: expected an address or "
     "a CIDR block such as 10.0.0.0/8 or 2001:db8::/32 (no host bits below "
     "the prefix)"},
    {"accounts:\n  - {name: a, api_key: k, webhook_events: [sent, delivred]}\n",
     "t.yaml:2:50: accounts[0].webhook_events[1]: unknown status \"delivred\" "
     "(did you mean \"delivered\"?); one of scheduled, queued, sending, sent, "
     "delivered, undeliverable, expired, rejected, failed, canceled"},
    {"accounts:\n  - {name: a, api_key: k, default_sender: X, senders: [Y, "
     "Z]}\n",
     "t.yaml:2:43: accounts[0].default_sender: is not one of \"senders\""},
    {"connectors:\n  - {name: a, type: smpp, host: h, system_id: s, "
     "reconnect_min: 5m, reconnect_max: 1m}\n",
     "t.yaml:2:84: connectors[0].reconnect_max: reconnect_max must not be less "
     "than reconnect_min"},
    {"connectors:\n  - {name: a, type: smpp, host: h, system_id: s, tls_ca: "
     "ca.pem}\n",
     "t.yaml:2:58: connectors[0].tls_ca: applies only with tls: true"},
    {"connectors:\n  - {name: a, type: smpp, host: h, system_id: s, tls: true, "
     "tls_key: k.pem}\n",
     "t.yaml:2:5: connectors[0]: \"tls_cert\" and \"tls_key\" go together: set "
     "both or neither"},
    {"webhooks: {retry_min: 5m, retry_max: 1m}\n",
     "t.yaml:1:11: webhooks: retry_max must not be less than retry_min"},
    {"webhooks: {client: curl, pipeline: 8}\n",
     "t.yaml:1:11: webhooks: pipeline needs \"client: builtin\" (libcurl does "
     "not pipeline)"},
    {"webhooks: {connect_timeout: 20s, timeout: 10s}\n",
     "t.yaml:1:11: webhooks: connect_timeout must not be more than timeout"},
    {"smpp_server: {max_sessions: 5}\n",
     "t.yaml:1:14: smpp_server: needs \"listen\", \"tls_listen\" or both"},
    {"smpp_server: {tls_listen: 127.0.0.1:3775, cert: c.pem}\n",
     "t.yaml:1:14: smpp_server: tls_listen needs \"cert\" and \"key\""},
    {"smpp_server: {listen: 127.0.0.1:2775, key: k.pem}\n",
     "t.yaml:1:44: smpp_server.key: applies only with tls_listen"},
    {"connectors:\n  - {name: a, type: smpp, host: h, system_id: s}\n  - "
     "{name: b, type: smpp, host: h, system_id: s}\nroutes:\n  - {prefix: "
     "\"+\", connectors: [a, b], weights: [1]}\n",
     "t.yaml:5:48: routes[0].weights: 1 weight for 2 connectors: give one per "
     "connector"},
    {"connectors:\n  - {name: a, type: smpp, host: h, system_id: s}\n  - "
     "{name: b, type: smpp, host: h, system_id: s}\nroutes:\n  - {prefix: "
     "\"+\", connectors: [a, b], weights: [1, 2], strategy: failover}\n",
     "t.yaml:5:66: routes[0].strategy: weights are given: must be weighted"},
    {"connectors:\n  - {name: a, type: smpp, host: h, system_id: s}\n  - "
     "{name: b, type: smpp, host: h, system_id: s}\nroutes:\n  - {prefix: "
     "\"+\", connectors: []}\n",
     "t.yaml:5:31: routes[0].connectors: must name at least one connector"},
    {"connectors:\n  - {name: a, type: smpp, host: h, system_id: s}\n  - "
     "{name: b, type: smpp, host: h, system_id: s}\nroutes:\n  - {prefix: "
     "\"+\", connectors: [b, c]}\n",
     "t.yaml:5:35: routes[0].connectors[1]: no connector named \"c\""},
    {"connectors:\n  - {name: operator, type: smpp, host: h, system_id: "
     "s}\nroutes:\n  - {prefix: \"+\", connectors: [opertor]}\n",
     "t.yaml:4:32: routes[0].connectors[0]: no connector named \"opertor\"; "
     "did you mean \"operator\"?"},
    {"accounts:\n  - {name: demo, api_key: k1}\nconnectors:\n  - {name: a, "
     "type: smpp, host: h, system_id: s}\n  - {name: b, type: smpp, host: h, "
     "system_id: s}\nroutes:\n  - {prefix: \"+\", account: dmeo, connectors: "
     "[a]}\n",
     "t.yaml:7:28: routes[0].account: no account named \"dmeo\"; did you mean "
     "\"demo\"?"},
    {"connectors:\n  - {name: a, type: smpp, host: h, system_id: s, bind_type: "
     "receiver}\nroutes:\n  - {prefix: \"+\", connectors: [a]}\n",
     "t.yaml:4:32: routes[0].connectors[0]: connector \"a\" binds as receiver "
     "and cannot send"},
    {"connectors:\n  - {name: a, type: smpp, host: h, system_id: s}\n  - "
     "{name: b, type: smpp, host: h, system_id: s}\nroutes:\n  - {prefix: "
     "\"+\", connectors: [a, b, a]}\n",
     "t.yaml:5:38: routes[0].connectors[2]: connector \"a\" is listed twice"},
    {"connectors:\n  - {name: a, type: smpp, host: h, system_id: s}\nroutes:\n"
     "  - {pattern: \"^\\\\+7(9\", connectors: [a]}\n",
     "t.yaml:4:15: routes[0].pattern: not a valid regular expression: missing "
     "closing parenthesis at offset 6"},
    {"connectors:\n  - {name: a, type: smpp, host: h, system_id: s}\nroutes:\n"
     "  - {account: null, connectors: [a]}\n",
     "t.yaml:4:5: routes[0]: a route needs a prefix or a pattern (\"+\" "
     "matches every number)"},
    {"connectors:\n  - {name: a, type: smpp, host: h, system_id: s}\nroutes:\n"
     "  - {prefix: \"+\", type: flash, connectors: [a]}\n",
     "t.yaml:4:25: routes[0].type: expected one of text, unicode, binary, got "
     "\"flash\""},
    {"connectors:\n  - {name: a, type: smpp, host: h, system_id: s, prices: "
     "{\"+7\": -1}}\n",
     "t.yaml:2:65: connectors[0].prices.+7: expected a price: a number of 0 "
     "or more such as 0.02, got \"-1\""},
    {"connectors:\n  - {name: a, type: smpp, host: h, system_id: s, prices: "
     "{\"7\": 1}}\n",
     "t.yaml:2:59: connectors[0].prices.7: expected a prefix: \"+\" and up to "
     "15 digits"},
    {"connectors:\n  - {name: a, type: smpp, host: h, system_id: s, prices: "
     "[1]}\n",
     "t.yaml:2:58: connectors[0].prices: expected a mapping of prefixes to "
     "prices, e.g. {\"+7\": 0.02}, got a sequence"},
    {"connectors:\n  - {name: a, type: smpp, host: h, system_id: s}\n  - "
     "{name: b, type: smpp, host: h, system_id: s}\nroutes:\n  - {prefix: "
     "\"+7\", connectors: [a]}\n  - {prefix: \"+7\", connectors: [b]}\n",
     "t.yaml:6:14: routes[1].prefix: routes[0] has the same prefix, pattern, "
     "account, sender and type; only one of them could ever match"},
    {"accounts:\n  - {name: a, api_key: k1}\n  - {name: a, api_key: k2}\n",
     "t.yaml:3:12: accounts[1].name: another account has this name "
     "(accounts[0])"},
    {"connectors:\n  - {name: a, type: smpp, host: h, system_id: s}\n  - "
     "{name: a, type: smpp, host: h, system_id: s}\n",
     "t.yaml:3:12: connectors[1].name: another connector has this name "
     "(connectors[0])"},
    {"accounts:\n  - {name: a, api_key: same}\n  - {name: b, api_key: same}\n",
     "t.yaml:3:24: accounts[1].api_key: the same API key as accounts[0]"},
    {"accounts:\n  - {name: a, smpp: {system_id: x, password: p}}\n  - {name: "
     "b, smpp: {system_id: x, password: q}}\n",
     "t.yaml:3:33: accounts[1].smpp.system_id: the same SMPP system_id as "
     "accounts[0]"},
    {"smpp_server: {listen: 127.0.0.1:8080}\n",
     "t.yaml:1:23: smpp_server.listen: the same port as http.listen "
     "(127.0.0.1:8080)"},
    {"simulator: {listen: \"0.0.0.0:8080\"}\n",
     "t.yaml:1:21: simulator.listen: the same port as http.listen "
     "(127.0.0.1:8080)"},
    {"log: {level: !custom info}\n",
     "t.yaml:1:14: log.level: YAML tags such as !custom are not supported"},
    {"log: &l {level: info}\n", "t.yaml:1:6: log: YAML anchors (&l) are not "
                                "supported; write each value out in full"},
    {"connectors:\n  - {<<: {}, name: a, type: smpp, host: h, system_id: s}\n",
     "t.yaml:2:6: connectors[0].<<: YAML merge keys (<<) are not supported; "
     "write the keys out in full"},
    {"a: b: c\n", "t.yaml:1:5: YAML syntax error: mapping values are not "
                  "allowed in this context"},
    {"http:\n  listen: 127.0.0.1:8080\n  max_body: [1, 2\nlog: {}\n",
     "t.yaml:4:4: http.max_body: YAML syntax error: did not find expected ',' "
     "or ']' (while parsing a flow sequence that started at 3:13)"},
    {"http:\n\tlisten: 1\n",
     "t.yaml:2:1: http: YAML syntax error: found character that cannot start "
     "any token (while scanning for the next token that started at 2:1); YAML "
     "is indented with spaces, not tabs"},
};

static void each_error_class(void **state) {
  (void)state;
  for (size_t i = 0; i < sizeof one_error / sizeof one_error[0]; i++)
    expect_one(one_error[i].yaml, one_error[i].want);
}

/* Errors with a position but no key, and errors of the stream itself. */
static void document_errors(void **state) {
  (void)state;
  expect_one("- a\n- b\n", "t.yaml:1:1: the configuration must be a mapping "
                           "of sections (store, http, connectors, ...), got "
                           "a sequence");
  expect_one("just text\n", "t.yaml:1:1: the configuration must be a mapping "
                            "of sections (store, http, connectors, ...), got "
                            "\"just text\"");
  expect_one("log: {}\n---\nlog: {}\n",
             "t.yaml:2:1: a second YAML document; the file must hold one");
  /* libyaml's reader: the offending octet at its character column. */
  expect_one("log: {level: \"\xC3\xA9\xFF\"}\n",
             "t.yaml:1:16: not valid YAML text: invalid leading UTF-8 octet "
             "(0xFF)");
  expect_one("log: {level: info}\x01\n",
             "t.yaml:1:19: not valid YAML text: control characters are not "
             "allowed (0x1)");
}

static void nesting_is_bounded(void **state) {
  (void)state;
  char doc[300];
  size_t o = 0;
  o += (size_t)snprintf(doc, sizeof doc, "log: ");
  for (int i = 0; i < 100; i++)
    doc[o++] = '[';
  doc[o] = '\0';
  load_bad(doc, o);
  assert_int_equal(errs.count, 1);
  /* The root mapping is level 1: the 64th '[' (column 5 + 64) is level 65. */
  assert_int_equal(errs.items[0].line, 1);
  assert_int_equal(errs.items[0].column, 69);
  assert_string_equal(errs.items[0].message, "nested more than 64 levels deep");
  assert_memory_equal(errs.items[0].key, "log[0][0][0]", 12);
}

/* An alias is refused where it is used, the anchor where it is set, and
 * nothing else is said about the value (no "missing key" cascade). */
static void anchors_and_aliases(void **state) {
  (void)state;
  const char *doc = "accounts:\n"
                    "  - &a {name: a, api_key: k1}\n"
                    "  - *a\n"
                    "connectors:\n"
                    "  - {name: *n, type: smpp, host: h, system_id: s}\n";
  load_bad(doc, strlen(doc));
  assert_int_equal(errs.count, 3);
  assert_string_equal(line_of(0),
                      "t.yaml:2:5: accounts[0]: YAML anchors (&a) are not "
                      "supported; write each value out in full");
  assert_string_equal(line_of(1),
                      "t.yaml:3:5: accounts[1]: YAML aliases (*a) are not "
                      "supported; write the value out in full");
  assert_string_equal(line_of(2),
                      "t.yaml:5:12: connectors[0].name: YAML aliases (*n) are "
                      "not supported; write the value out in full");
}

static void standard_tags(void **state) {
  (void)state;
  sg_config_t *cfg = load_ok(
      "connectors:\n"
      "  - {name: !!str 123, type: smpp, host: h, system_id: !!str 007}\n"
      "accounts:\n"
      "  - !!map {name: a, api_key: !!str null, callback_url: !!null x}\n");
  assert_string_equal(cfg->connectors[0].name, "123");
  assert_string_equal(cfg->connectors[0].system_id, "007");
  assert_string_equal(cfg->accounts[0].api_key, "null"); /* a string */
  assert_null(cfg->accounts[0].callback_url);
  sg_config_free(cfg);
}

/* ---- Many errors --------------------------------------------------------- */

static void errors_are_collected(void **state) {
  (void)state;
  const char *doc =
      "log: {level: loud}\n"
      "http: {listen: nowhere, max_body: 1XB}\n"
      "connectors:\n"
      "  - {name: a, type: smpp, host: h, system_id: s, prot: 1}\n";
  load_bad(doc, strlen(doc));
  assert_int_equal(errs.count, 4);
  assert_int_equal(errs.total, 4);
  assert_string_equal(line_of(0), "t.yaml:1:14: log.level: expected one of "
                                  "debug, info, warn, error, got \"loud\"");
  assert_string_equal(line_of(1),
                      "t.yaml:2:16: http.listen: expected host:port or "
                      "[IPv6]:port, like 127.0.0.1:8080, got \"nowhere\"");
  assert_string_equal(line_of(2), "t.yaml:2:35: http.max_body: expected a "
                                  "size 1KB-1GB (like 64KB, 1MB), got \"1XB\"");
  assert_string_equal(line_of(3), "t.yaml:4:50: connectors[0].prot: unknown "
                                  "key; did you mean \"port\"?");
}

static void errors_are_capped(void **state) {
  (void)state;
  char doc[4096];
  size_t o = (size_t)snprintf(doc, sizeof doc, "connectors:\n");
  for (int i = 0; i < 25; i++)
    o += (size_t)snprintf(doc + o, sizeof doc - o,
                          "  - {name: c%d, type: smpp, host: h, system_id: s, "
                          "port: x%d}\n",
                          i, i);
  load_bad(doc, o);
  assert_int_equal(errs.count, SG_CONFIG_ERRORS_MAX);
  assert_int_equal(errs.total, 25);
  assert_string_equal(line_of(0), "t.yaml:2:57: connectors[0].port: expected "
                                  "an integer 1-65535, got \"x0\"");
  assert_string_equal(line_of(19), "t.yaml:21:58: connectors[19].port: "
                                   "expected an integer 1-65535, got \"x19\"");
  const char *out = print_all();
  assert_non_null(strstr(out, "t.yaml:21:58: connectors[19].port"));
  assert_null(strstr(out, "connectors[20]"));
  assert_non_null(strstr(out, "\nt.yaml: ... and 5 more errors\n"));
}

/* ---- Secrets ------------------------------------------------------------- */

static void secrets_are_not_echoed(void **state) {
  (void)state;
  static const char *const secrets[] = {"S3cretUrl", "S3cretKey", "S3cretPw",
                                        "S3cretWh",  "S3cretSm",  "S3cretCo",
                                        "S3cretSim", "S3cretBare"};
  const char *doc =
      "store: {url: \"postgres://u:S3cretUrl@db/x\"}\n"
      "simulator: {listen: 127.0.0.1:2776, password: \"S3cretSim\\t\"}\n"
      "accounts:\n"
      "  - {name: a, api_key: S3cretKey, password: [S3cretPw],\n"
      "     webhook_secret: {S3cretWh: 1}}\n"
      "  - {name: b, api_key: S3cretKey, smpp: {system_id: b,\n"
      "     password: S3cretSmLong}}\n"
      "  - {name: c, smpp: S3cretBare}\n"
      "connectors:\n"
      "  - {name: c, type: smpp, host: h, system_id: s, password: "
      "S3cretCoLong}\n";
  load_bad(doc, strlen(doc));
  const char *out = print_all();
  for (size_t i = 0; i < sizeof secrets / sizeof secrets[0]; i++)
    if (strstr(out, secrets[i]) != NULL)
      fail_msg("secret %s in:\n%s", secrets[i], out);
  /* What is said instead. */
  static const char *const want[] = {
      "t.yaml:1:14: store.url: applies only with driver: postgres\n",
      "t.yaml:2:47: simulator.password: must be printable ASCII characters "
      "only\n",
      "t.yaml:4:45: accounts[0].password: expected a string, got a "
      "sequence\n",
      "t.yaml:5:22: accounts[0].webhook_secret: expected a string, got a "
      "mapping\n",
      "t.yaml:6:24: accounts[1].api_key: the same API key as accounts[0]\n",
      "t.yaml:7:16: accounts[1].smpp.password: too long: 12 characters, at "
      "most 8\n",
      "t.yaml:8:21: accounts[2].smpp: expected a mapping, got <secret>\n",
      "t.yaml:10:60: connectors[0].password: too long: 12 characters, at "
      "most 8\n",
  };
  for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
    if (strstr(out, want[i]) == NULL)
      fail_msg("missing: %sin:\n%s", want[i], out);
  assert_int_equal(errs.total, sizeof want / sizeof want[0]);
}

/* ---- Value syntaxes ------------------------------------------------------ */

static void durations(void **state) {
  (void)state;
  static const struct {
    const char *in;
    int rc;
    uint64_t ms;
  } v[] = {
      {"0", 0, 0},
      {"1500", 0, 1500},
      {"500ms", 0, 500},
      {"30s", 0, 30000},
      {"5m", 0, 300000},
      {"2h", 0, 7200000},
      {"1d", 0, 86400000},
      {"1m30s", 0, 90000},
      {"1h1m1s1ms", 0, 3661001},
      {"30 s", 0, 30000},
      {"10MS", 0, 10},
      {"", SG_EINVAL, 0},
      {"s", SG_EINVAL, 0},
      {"1.5s", SG_EINVAL, 0},
      {"-1s", SG_EINVAL, 0},
      {"5x", SG_EINVAL, 0},
      {"5m3", SG_EINVAL, 0},
      {" 5s", SG_EINVAL, 0},
      {"1w", SG_EINVAL, 0},
      {"9999999999999999999", SG_EINVAL, 0},
      {"999999999999999999d", SG_ERANGE, 0},
  };
  for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
    uint64_t ms = 12345;
    int rc = sg__cfg_parse_duration(v[i].in, strlen(v[i].in), &ms);
    if (rc != v[i].rc || (rc == 0 && ms != v[i].ms))
      fail_msg("\"%s\": rc %d ms %llu", v[i].in, rc, (unsigned long long)ms);
  }
}

static void sizes(void **state) {
  (void)state;
  static const struct {
    const char *in;
    int rc;
    uint64_t b;
  } v[] = {
      {"0", 0, 0},
      {"4096", 0, 4096},
      {"1KB", 0, 1024},
      {"1k", 0, 1024},
      {"64KiB", 0, 65536},
      {"1MB", 0, 1048576},
      {"1 mb", 0, 1048576},
      {"1GB", 0, 1073741824},
      {"10B", 0, 10},
      {"1.5MB", SG_EINVAL, 0},
      {"MB", SG_EINVAL, 0},
      {"1TB", SG_EINVAL, 0},
      {"1MBs", SG_EINVAL, 0},
      {"99999999999GB", SG_ERANGE, 0},
  };
  for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
    uint64_t b = 777;
    int rc = sg__cfg_parse_size(v[i].in, strlen(v[i].in), &b);
    if (rc != v[i].rc || (rc == 0 && b != v[i].b))
      fail_msg("\"%s\": rc %d bytes %llu", v[i].in, rc, (unsigned long long)b);
  }
}

static void listen_addresses(void **state) {
  (void)state;
  static const struct {
    const char *in;
    int rc;
    const char *host;
    long port;
  } v[] = {
      {"127.0.0.1:8080", 0, "127.0.0.1", 8080},
      {"0.0.0.0:1", 0, "0.0.0.0", 1},
      {"[::1]:2775", 0, "::1", 2775},
      {"[::]:65535", 0, "::", 65535},
      {"[fe80::1:2]:80", 0, "fe80::1:2", 80},
      {"localhost:80", 0, "localhost", 80},
      {"gw-1.example.org:80", 0, "gw-1.example.org", 80},
      {"127.0.0.1:0", SG_ERANGE, NULL, 0},
      {"127.0.0.1:65536", SG_ERANGE, NULL, 0},
      {"127.0.0.1", SG_EINVAL, NULL, 0},
      {"8080", SG_EINVAL, NULL, 0},
      {":8080", SG_EINVAL, NULL, 0},
      {"::1:8080", SG_EINVAL, NULL, 0},
      {"[::1]8080", SG_EINVAL, NULL, 0},
      {"[127.0.0.1]:80", SG_EINVAL, NULL, 0},
      {"[::1:80", SG_EINVAL, NULL, 0},
      {"127.0.0.1:80x", SG_EINVAL, NULL, 0},
      {"127.0.0.1:-80", SG_EINVAL, NULL, 0},
      {"256.0.0.1:80", SG_EINVAL, NULL, 0},
      {"-bad.example:80", SG_EINVAL, NULL, 0},
      {"a..b:80", SG_EINVAL, NULL, 0},
      {"*:80", SG_EINVAL, NULL, 0},
  };
  for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
    size_t off = 99, len = 99;
    long port = -1;
    int rc = sg__cfg_parse_listen(v[i].in, strlen(v[i].in), &off, &len, &port);
    if (rc != v[i].rc)
      fail_msg("\"%s\": rc %d", v[i].in, rc);
    if (rc == 0) {
      assert_int_equal(len, strlen(v[i].host));
      assert_memory_equal(v[i].in + off, v[i].host, len);
      assert_int_equal(port, v[i].port);
    }
  }
}

static void suggestions(void **state) {
  (void)state;
  static const char *const keys[] = {"listen", "port",      "tls",
                                     "tls_ca", "dlr_delay", "connectors"};
  static const struct {
    const char *word;
    const char *want;
  } v[] = {
      {"lisen", "listen"},
      {"listne", "listen"},
      {"Listen", "listen"},
      {"prot", "port"},
      {"tsl", "tls"},
      {"tls-ca", "tls_ca"},
      {"dlr_delay_ms", "dlr_delay"},
      {"connector", "connectors"},
      {"x", NULL},
      {"web", NULL},
      {"timeout", NULL},
  };
  for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
    const char *s = sg__cfg_suggest(v[i].word, strlen(v[i].word), keys, 6);
    if (v[i].want == NULL ? s != NULL : (s == NULL || strcmp(s, v[i].want)))
      fail_msg("%s -> %s", v[i].word, s ? s : "(none)");
  }
}

static void booleans_and_null(void **state) {
  (void)state;
  sg_config_t *cfg =
      load_ok("webhooks: {allow_private_networks: True}\n"
              "http: {web: FALSE}\n"
              "accounts:\n"
              "  - {name: a, api_key: k, callback_url: ~,\n"
              "     default_region: null, default_sender: NULL}\n");
  assert_true(cfg->webhooks.allow_private_networks);
  assert_false(cfg->http.web);
  assert_null(cfg->accounts[0].callback_url);
  assert_null(cfg->accounts[0].default_sender);
  sg_config_free(cfg);
  /* A quoted "null" is a string, not null: here an empty sender is wrong. */
  expect_one("accounts:\n  - {name: a, api_key: k, default_sender: \"\"}\n",
             "t.yaml:2:43: accounts[0].default_sender: must not be empty");
}

/* ---- Files and the API --------------------------------------------------- */

static void files(void **state) {
  (void)state;
  char path[] = "/tmp/sg_test_config_XXXXXX";
  int fd = mkstemp(path);
  assert_true(fd >= 0);
  const char *doc = "http:\n  listen: 127.0.0.1:99999\n";
  assert_int_equal(write(fd, doc, strlen(doc)), (ssize_t)strlen(doc));
  close(fd);
  sg_config_t *cfg = NULL;
  assert_int_equal(sg_config_load_file(path, &cfg, &errs), SG_ECONFIG);
  assert_null(cfg);
  char want[256];
  snprintf(want, sizeof want,
           "%s:2:11: http.listen: port 99999 is out of "
           "range 1-65535",
           path);
  assert_string_equal(line_of(0), want);

  /* A file that is too large is refused before it is parsed. */
  assert_int_equal(truncate(path, SG_CONFIG_FILE_MAX + 1), 0);
  assert_int_equal(sg_config_load_file(path, &cfg, &errs), SG_EIO);
  snprintf(want, sizeof want, "%s: larger than %u bytes", path,
           SG_CONFIG_FILE_MAX);
  assert_string_equal(line_of(0), want);
  unlink(path);

  assert_int_equal(sg_config_load_file(path, &cfg, &errs), SG_EIO);
  snprintf(want, sizeof want, "%s: cannot open: No such file or directory",
           path);
  assert_string_equal(line_of(0), want);
  assert_int_equal(errs.items[0].line, 0);
}

static void api_arguments(void **state) {
  (void)state;
  sg_config_t *cfg = NULL;
  char buf[8];
  assert_int_equal(sg_config_load_string("x", "log: {}", 7, NULL, &errs),
                   SG_EINVAL);
  assert_int_equal(sg_config_load_string("x", NULL, 3, &cfg, &errs), SG_EINVAL);
  assert_int_equal(sg_config_load_file(NULL, &cfg, NULL), SG_EINVAL);
  /* No error list: still refused, nothing written. */
  assert_int_equal(sg_config_load_string(NULL, "log: 1", 6, &cfg, NULL),
                   SG_ECONFIG);
  assert_null(cfg);
  /* The text need not end in a NUL: only len octets are read. */
  cfg = NULL;
  assert_int_equal(sg_config_load_string(NULL, "log: {}junk", 7, &cfg, &errs),
                   0);
  sg_config_free(cfg);
  assert_string_equal(errs.file, "<string>");
  /* Formatting: out of range, and truncation reports the full length. */
  assert_int_equal(sg_config_error_format(&errs, 0, buf, sizeof buf),
                   SG_EINVAL);
  assert_int_equal(sg_config_error_format(NULL, 0, buf, sizeof buf), SG_EINVAL);
  load_bad("log: 1\n", 7);
  int n = sg_config_error_format(&errs, 0, buf, sizeof buf);
  assert_int_equal(n, (int)strlen("t.yaml:1:6: log: expected a mapping, got "
                                  "\"1\""));
  assert_string_equal(buf, "t.yaml:");
}

/* Every allocation failing in turn: SG_ENOMEM, nothing leaked (the
 * sanitizer build checks), and in the end a load that succeeds. */
static void allocation_failures(void **state) {
  (void)state;
  int rc = SG_ENOMEM;
  long n;
  for (n = 0; n < 10000 && rc == SG_ENOMEM; n++) {
    sg_config_t *cfg = NULL;
    sg_alloc_fail_after(n);
    rc = sg_config_load_string("t.yaml", full_yaml, strlen(full_yaml), &cfg,
                               &errs);
    sg_alloc_fail_after(-1);
    if (rc == SG_ENOMEM) {
      assert_null(cfg);
      assert_string_equal(line_of(errs.count - 1), "t.yaml: out of memory");
    } else {
      assert_int_equal(rc, 0);
      sg_config_free(cfg);
    }
  }
  assert_int_equal(rc, 0);
  assert_true(n > 5);
  /* The same for a document full of errors. */
  rc = SG_ENOMEM;
  for (n = 0; n < 10000 && rc == SG_ENOMEM; n++) {
    sg_config_t *cfg = NULL;
    sg_alloc_fail_after(n);
    rc = sg_config_load_string("t.yaml", one_error[0].yaml,
                               strlen(one_error[0].yaml), &cfg, &errs);
    sg_alloc_fail_after(-1);
    assert_null(cfg);
  }
  assert_int_equal(rc, SG_ECONFIG);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(default_parses),
      cmocka_unit_test(empty_and_null_sections),
      cmocka_unit_test(full_example),
      cmocka_unit_test(postgres_store),
      cmocka_unit_test(postgres_url_forms),
      cmocka_unit_test(webhook_pipeline),
      cmocka_unit_test(webhook_claim_ahead),
      cmocka_unit_test(full_example_has_every_key),
      cmocka_unit_test(each_error_class),
      cmocka_unit_test(document_errors),
      cmocka_unit_test(nesting_is_bounded),
      cmocka_unit_test(anchors_and_aliases),
      cmocka_unit_test(standard_tags),
      cmocka_unit_test(errors_are_collected),
      cmocka_unit_test(errors_are_capped),
      cmocka_unit_test(secrets_are_not_echoed),
      cmocka_unit_test(durations),
      cmocka_unit_test(sizes),
      cmocka_unit_test(listen_addresses),
      cmocka_unit_test(suggestions),
      cmocka_unit_test(booleans_and_null),
      cmocka_unit_test(files),
      cmocka_unit_test(api_arguments),
      cmocka_unit_test(allocation_failures),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
