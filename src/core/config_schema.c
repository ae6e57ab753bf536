/* config_schema.c - the keys of smsgate's configuration, as tables, and the
 * one walk that reads a YAML tree into sg_config_t by them.
 *
 * Each section (store, http, a connector ...) is a table of keys with a
 * type, a range and an offset into its struct; the walk knows types, not
 * keys, so a new key is one line here (and one paragraph in
 * docs/configuration.md). Unknown keys are errors with a "did you mean";
 * duplicate keys are errors; every value is checked for type and range
 * and, when it is a secret, never echoed. The walk reports and goes on, so
 * that one run shows many errors. It must never look at other sections:
 * what depends on several keys is in config_check.c.
 */
#include <stddef.h>
#include <string.h>

#include "core/config_int.h"
#include "core/error.h"

/* Enums are stored through an int. */
_Static_assert(sizeof(sg_config_store_driver_t) == sizeof(int), "enum size");
_Static_assert(sizeof(sg_config_log_level_t) == sizeof(int), "enum size");

/* ---- Enumerations ------------------------------------------------------- */

static const sg__cfg_enum_t store_drivers[] = {
    {"sqlite", SG_CONFIG_STORE_SQLITE},
    {"postgres", SG_CONFIG_STORE_POSTGRES},
    {NULL, 0}};
static const sg__cfg_enum_t syncs[] = {{"full", SG_CONFIG_SYNC_FULL},
                                       {"normal", SG_CONFIG_SYNC_NORMAL},
                                       {NULL, 0}};
static const sg__cfg_enum_t connector_types[] = {
    {"smpp", SG_CONFIG_CONNECTOR_SMPP},
    {"modem", SG_CONFIG_CONNECTOR_MODEM},
    {"http", SG_CONFIG_CONNECTOR_HTTP},
    {NULL, 0}};
static const sg__cfg_enum_t flow_controls[] = {
    {"none", SG_CONFIG_FLOW_NONE},
    {"rtscts", SG_CONFIG_FLOW_RTSCTS},
    {"xonxoff", SG_CONFIG_FLOW_XONXOFF},
    {NULL, 0}};
static const sg__cfg_enum_t receive_modes[] = {
    {"stored", SG_CONFIG_RECEIVE_STORED},
    {"direct", SG_CONFIG_RECEIVE_DIRECT},
    {NULL, 0}};
static const sg__cfg_enum_t bind_types[] = {
    {"transceiver", SG_CONFIG_BIND_TRANSCEIVER},
    {"transmitter", SG_CONFIG_BIND_TRANSMITTER},
    {"receiver", SG_CONFIG_BIND_RECEIVER},
    {NULL, 0}};
static const sg__cfg_enum_t long_modes[] = {{"udh", SG_CONFIG_LONG_UDH},
                                            {"sar", SG_CONFIG_LONG_SAR},
                                            {"payload", SG_CONFIG_LONG_PAYLOAD},
                                            {NULL, 0}};
static const sg__cfg_enum_t id_modes[] = {
    {"auto", SG_CONFIG_ID_AUTO},       {"exact", SG_CONFIG_ID_EXACT},
    {"nocase", SG_CONFIG_ID_NOCASE},   {"hex", SG_CONFIG_ID_HEX},
    {"decimal", SG_CONFIG_ID_DECIMAL}, {NULL, 0}};
static const sg__cfg_enum_t receipt_id_modes[] = {
    {"same", SG_CONFIG_ID_SAME},     {"auto", SG_CONFIG_ID_AUTO},
    {"exact", SG_CONFIG_ID_EXACT},   {"nocase", SG_CONFIG_ID_NOCASE},
    {"hex", SG_CONFIG_ID_HEX},       {"decimal", SG_CONFIG_ID_DECIMAL},
    {NULL, 0}};
static const sg__cfg_enum_t strategies[] = {
    {"failover", SG_CONFIG_STRATEGY_FAILOVER},
    {"weighted", SG_CONFIG_STRATEGY_WEIGHTED},
    {"least-cost", SG_CONFIG_STRATEGY_LEAST_COST},
    {NULL, 0}};
static const sg__cfg_enum_t msg_types[] = {{"text", SG_CONFIG_MSG_TEXT},
                                           {"unicode", SG_CONFIG_MSG_UNICODE},
                                           {"binary", SG_CONFIG_MSG_BINARY},
                                           {NULL, 0}};
static const sg__cfg_enum_t log_levels[] = {{"debug", SG_CONFIG_LOG_DEBUG},
                                            {"info", SG_CONFIG_LOG_INFO},
                                            {"warn", SG_CONFIG_LOG_WARN},
                                            {"error", SG_CONFIG_LOG_ERROR},
                                            {NULL, 0}};
static const sg__cfg_enum_t log_formats[] = {
    {"text", SG_CONFIG_LOG_TEXT}, {"json", SG_CONFIG_LOG_JSON}, {NULL, 0}};

/* ---- Tables ------------------------------------------------------------- */

#define REQ SG__CFG_F_REQUIRED
#define SECRET SG__CFG_F_SECRET
#define NUL SG__CFG_F_NULLABLE
#define ASCII SG__CFG_F_ASCII
#define SEC(x) (1000u * (x))
#define MINUTES(x) (60000u * (x))
#define HOUR(x) (3600000u * (x))
#define PATH_MAX_LEN 4096

/* A scalar key: key, type, flags, struct, member, min, max. */
#define F(k, t, fl, st, m, lo, hi)                                             \
  { k, SG__CFG_T_##t, fl, offsetof(st, m), 0, lo, hi, NULL, NULL }
#define FENUM(k, fl, st, m, e)                                                 \
  { k, SG__CFG_T_ENUM, fl, offsetof(st, m), 0, 0, 0, e, NULL }
#define FMAP(k, st, m, s)                                                      \
  { k, SG__CFG_T_MAP, 0, offsetof(st, m), 0, 0, 0, NULL, &s }
/* A list: key, type, flags, struct, member, count member, min, max, sub. */
#define FLIST(k, t, fl, st, m, n, lo, hi, s)                                   \
  { k, SG__CFG_T_##t, fl, offsetof(st, m), offsetof(st, n), lo, hi, NULL, s }
#define SECTION(tab, st, init, check)                                          \
  { tab, sizeof tab / sizeof tab[0], sizeof(st), init, check }

static const sg__cfg_field_t store_fields[] = {
    FENUM("driver", 0, sg_config_store_t, driver, store_drivers),
    F("path", STR, 0, sg_config_store_t, path, 1, PATH_MAX_LEN),
    FENUM("synchronous", 0, sg_config_store_t, synchronous, syncs),
    F("url", STR, SECRET, sg_config_store_t, url, 1, PATH_MAX_LEN),
    F("max_batch", UINT, 0, sg_config_store_t, max_batch, 1, 100000),
    F("unmatched_receipt_keep", DURATION, 0, sg_config_store_t,
      unmatched_receipt_keep_ms, MINUTES(1), HOUR(24 * 7)),
    F("sync_pipeline", BOOL, 0, sg_config_store_t, sync_pipeline, 0, 0),
    F("count_timeout", DURATION, 0, sg_config_store_t, count_timeout_ms, 100,
      HOUR(1)),
    {"traffic_keep", SG__CFG_T_CUSTOM, 0,
     offsetof(sg_config_store_t, traffic_keep_ms), 0, 0, 0, NULL,
     &sg__cfg_traffic_keep_reader},
};
static const sg__cfg_section_t store_section = SECTION(
    store_fields, sg_config_store_t, sg__cfg_init_store, sg__cfg_check_store);

static const sg__cfg_field_t http_fields[] = {
    F("listen", LISTEN, 0, sg_config_http_t, listen, 0, 0),
    F("max_body", SIZE, 0, sg_config_http_t, max_body, 1024, 1u << 30),
    F("max_connections", UINT, 0, sg_config_http_t, max_connections, 1,
      1000000),
    F("timeout", DURATION, 0, sg_config_http_t, timeout_ms, SEC(1), HOUR(1)),
    F("web", BOOL, 0, sg_config_http_t, web, 0, 0),
    F("tls_cert", STR, NUL, sg_config_http_t, tls_cert, 1, PATH_MAX_LEN),
    F("tls_key", STR, NUL, sg_config_http_t, tls_key, 1, PATH_MAX_LEN),
};
static const sg__cfg_section_t http_section = SECTION(
    http_fields, sg_config_http_t, sg__cfg_init_http, sg__cfg_check_http);

#define WEIGHT(k) F(#k, UINT, 0, sg_config_dlr_mix_t, k, 0, 1000000)
static const sg__cfg_field_t dlr_mix_fields[] = {
    WEIGHT(delivered), WEIGHT(undeliverable), WEIGHT(expired),
    WEIGHT(rejected),  WEIGHT(deleted),       WEIGHT(unknown),
    WEIGHT(accepted),
};
#undef WEIGHT
static const sg__cfg_section_t dlr_mix_section =
    SECTION(dlr_mix_fields, sg_config_dlr_mix_t, sg__cfg_init_dlr_mix, NULL);

static const sg__cfg_field_t simulator_fields[] = {
    F("enabled", BOOL, 0, sg_config_simulator_t, enabled, 0, 0),
    F("listen", LISTEN, 0, sg_config_simulator_t, listen, 0, 0),
    F("system_id", STR, NUL | ASCII, sg_config_simulator_t, system_id, 1, 15),
    F("password", STR, NUL | ASCII | SECRET, sg_config_simulator_t, password, 0,
      8),
    F("dlr_delay", DURATION, 0, sg_config_simulator_t, dlr_delay_ms, 0,
      HOUR(24)),
    F("submit_delay", DURATION, 0, sg_config_simulator_t, submit_delay_ms, 0,
      MINUTES(1)),
    F("tps", UINT, 0, sg_config_simulator_t, tps, 0, 1000000),
    FMAP("dlr_mix", sg_config_simulator_t, dlr_mix, dlr_mix_section),
};
static const sg__cfg_section_t simulator_section =
    SECTION(simulator_fields, sg_config_simulator_t, sg__cfg_init_simulator,
            sg__cfg_check_simulator);

/* SMPP 3.4 section 4.1.1: system_id is at most 16 octets and password at
 * most 9 with the NUL of the C-Octet String; system_type 13. */
static const sg__cfg_field_t account_smpp_fields[] = {
    F("system_id", STR, REQ | ASCII, sg_config_account_smpp_t, system_id, 1,
      15),
    F("password", STR, REQ | ASCII | SECRET, sg_config_account_smpp_t, password,
      1, 8),
    FLIST("bind_types", STRLIST, ASCII, sg_config_account_smpp_t,
          bind_type_names, n_bind_type_names, 1, 16, NULL),
    F("max_binds", UINT, 0, sg_config_account_smpp_t, max_binds, 1, 1000),
    FLIST("allowed_cidrs", STRLIST, ASCII, sg_config_account_smpp_t,
          allowed_cidrs, n_allowed_cidrs, 1, 64, NULL),
    F("tps", UINT, 0, sg_config_account_smpp_t, tps, 0, 1000000),
    F("window", UINT, 0, sg_config_account_smpp_t, window, 1, 8192),
};
static const sg__cfg_section_t account_smpp_section =
    SECTION(account_smpp_fields, sg_config_account_smpp_t,
            sg__cfg_init_account_smpp, sg__cfg_check_account_smpp);

#define SECRET_LEN 256
static const sg__cfg_field_t account_fields[] = {
    F("name", NAME, REQ, sg_config_account_t, name, 1, 64),
    F("api_key", STR, NUL | SECRET | ASCII, sg_config_account_t, api_key, 1,
      SECRET_LEN),
    F("password", STR, NUL | SECRET, sg_config_account_t, password, 1,
      SECRET_LEN),
    F("webhook_secret", STR, NUL | SECRET, sg_config_account_t, webhook_secret,
      1, SECRET_LEN),
    F("callback_url", URL, NUL, sg_config_account_t, callback_url, 1, 2048),
    F("default_region", REGION, NUL, sg_config_account_t, default_region, 0, 0),
    /* Secret: "smpp: <the password>" must not be echoed. */
    {"smpp", SG__CFG_T_MAP, SECRET, offsetof(sg_config_account_t, smpp), 0, 0,
     0, NULL, &account_smpp_section},
    F("tps", UINT, 0, sg_config_account_t, tps, 0, 1000000),
    F("max_parts", UINT, 0, sg_config_account_t, max_parts, 1, 255),
    F("default_sender", STR, NUL | ASCII, sg_config_account_t, default_sender,
      1, 20),
    FLIST("senders", STRLIST, ASCII, sg_config_account_t, senders, n_senders, 1,
          20, NULL),
    F("disabled", BOOL, 0, sg_config_account_t, disabled, 0, 0),
    F("admin", BOOL, 0, sg_config_account_t, admin, 0, 0),
    FLIST("webhook_events", STRLIST, ASCII, sg_config_account_t,
          webhook_events, n_webhook_events, 1, 16, NULL),
    F("inbound_url", URL, NUL, sg_config_account_t, inbound_url, 1, 2048),
    FLIST("destinations", STRLIST, ASCII, sg_config_account_t, destinations,
          n_destinations, 1, 16, NULL),
    FMAP("quota", sg_config_account_t, quota, sg__cfg_quota_section),
    FMAP("billing", sg_config_account_t, billing, sg__cfg_billing_section),
    FMAP("velocity", sg_config_account_t, velocity, sg__cfg_velocity_section),
};
static const sg__cfg_section_t account_section =
    SECTION(account_fields, sg_config_account_t, sg__cfg_init_account,
            sg__cfg_check_account);

#define C sg_config_connector_t
static const sg__cfg_field_t connector_fields[] = {
    F("name", NAME, REQ, C, name, 1, 64),
    FENUM("type", REQ, C, type, connector_types),
    F("host", HOST, 0, C, host, 1, 253), /* smpp: required (check) */
    F("port", PORT, 0, C, port, 1, 65535),
    F("system_id", STR, ASCII, C, system_id, 1, 15), /* smpp: required */
    F("password", STR, ASCII | SECRET, C, password, 0, 8),
    F("system_type", STR, ASCII, C, system_type, 0, 12),
    FENUM("bind_type", 0, C, bind_type, bind_types),
    F("binds", UINT, 0, C, binds, 1, 64),
    F("window", UINT, 0, C, window, 1, 8192), /* SG_SMPP_SESSION_WINDOW_MAX */
    F("tps", UINT, 0, C, tps, 0, 1000000),
    F("tls", BOOL, 0, C, tls, 0, 0),
    F("tls_verify", BOOL, 0, C, tls_verify, 0, 0),
    F("tls_ca", STR, NUL, C, tls_ca, 1, PATH_MAX_LEN),
    F("tls_cert", STR, NUL, C, tls_cert, 1, PATH_MAX_LEN),
    F("tls_key", STR, NUL, C, tls_key, 1, PATH_MAX_LEN),
    F("enquire_link_interval", DURATION, 0, C, enquire_link_interval_ms, 0,
      HOUR(1)),
    F("response_timeout", DURATION, 0, C, response_timeout_ms, SEC(1),
      MINUTES(10)),
    F("bind_timeout", DURATION, 0, C, bind_timeout_ms, SEC(1), MINUTES(10)),
    F("first_sequence", UINT, 0, C, first_sequence, 1, 0x7FFFFFFF),
    F("reconnect_min", DURATION, 0, C, reconnect_min_ms, 100, HOUR(1)),
    F("reconnect_max", DURATION, 0, C, reconnect_max_ms, 100, HOUR(1)),
    FENUM("long_mode", 0, C, long_mode, long_modes),
    FENUM("id_mode", 0, C, id_mode, id_modes),
    FENUM("receipt_id_mode", 0, C, receipt_id_mode, receipt_id_modes),
    F("gsm7_packed", BOOL, 0, C, gsm7_packed, 0, 0),
    F("max_retries", UINT, 0, C, max_retries, 0, 100),
    F("source_ton", TON, 0, C, source_ton, 0, 0),
    F("source_npi", NPI, 0, C, source_npi, 0, 0),
    F("dest_ton", TON, 0, C, dest_ton, 0, 0),
    F("dest_npi", NPI, 0, C, dest_npi, 0, 0),
    F("device", STR, NUL, C, device, 1, PATH_MAX_LEN), /* modem */
    F("speed", UINT, 0, C, speed, 1200, 4000000),
    F("pin", STR, NUL | ASCII | SECRET, C, pin, 4, 8),
    F("smsc", STR, NUL | ASCII, C, smsc, 2, 21),
    FLIST("prices", PRICES, NUL, C, prices, n_prices, 0, 0, NULL),
    FLIST("devices", STRLIST, 0, C, devices, n_devices, 1, PATH_MAX_LEN,
          NULL),
    FENUM("flow_control", 0, C, flow_control, flow_controls),
    FENUM("receive_mode", 0, C, receive_mode, receive_modes),
    FMAP("http", C, http, sg__cfg_conn_http_section), /* type http */
    F("failover_after", DURATION, 0, C, failover_after_ms, 0, HOUR(24)),
    F("node", NAME, 0, C, node, 1, 64),
    FLIST("nodes", STRLIST, ASCII, C, nodes, n_nodes, 1, 64, NULL),
};
#undef C
static const sg__cfg_section_t connector_section =
    SECTION(connector_fields, sg_config_connector_t, sg__cfg_init_connector,
            sg__cfg_check_connector);

static const sg__cfg_field_t route_fields[] = {
    F("prefix", PREFIX, 0, sg_config_route_t, prefix, 1, 16),
    F("pattern", STR, NUL, sg_config_route_t, pattern, 1, 1024),
    FENUM("type", 0, sg_config_route_t, type, msg_types),
    F("account", NAME, NUL, sg_config_route_t, account, 1, 64),
    F("sender", STR, NUL | ASCII, sg_config_route_t, sender, 1, 20),
    FLIST("connectors", STRLIST, REQ | ASCII, sg_config_route_t, connectors,
          n_connectors, 1, 64, NULL),
    /* As many as connectors: the route check counts them. */
    {"weights", SG__CFG_T_UINTLIST, 0, offsetof(sg_config_route_t, weights),
     SG__CFG_NO_COUNT, 1, 1000, NULL, NULL},
    FENUM("strategy", 0, sg_config_route_t, strategy, strategies),
};
static const sg__cfg_section_t route_section = SECTION(
    route_fields, sg_config_route_t, sg__cfg_init_route, sg__cfg_check_route);

static const sg__cfg_enum_t webhook_clients[] = {
    {"builtin", SG_CONFIG_WEBHOOK_BUILTIN},
    {"curl", SG_CONFIG_WEBHOOK_CURL},
    {NULL, 0}};
#define W sg_config_webhooks_t
static const sg__cfg_field_t webhooks_fields[] = {
    F("allow_private_networks", BOOL, 0, W, allow_private_networks, 0, 0),
    F("timeout", DURATION, 0, W, timeout_ms, SEC(1), MINUTES(10)),
    F("connect_timeout", DURATION, 0, W, connect_timeout_ms, 100, MINUTES(10)),
    F("retry_min", DURATION, 0, W, retry_min_ms, 100, HOUR(24)),
    F("retry_max", DURATION, 0, W, retry_max_ms, 100, HOUR(24)),
    F("max_age", DURATION, 0, W, max_age_ms, SEC(1), 30u * HOUR(24)),
    F("concurrency", UINT, 0, W, concurrency, 1, 10000),
    F("thread", BOOL, 0, W, thread, 0, 0),
    FENUM("client", 0, W, client, webhook_clients),
    F("pipeline", UINT, 0, W, pipeline, 1, SG_CONFIG_WEBHOOK_PIPELINE_MAX),
    F("claim_ahead", UINT, 0, W, claim_ahead, 0, 10000),
};
#undef W
static const sg__cfg_section_t webhooks_section =
    SECTION(webhooks_fields, sg_config_webhooks_t, sg__cfg_init_webhooks,
            sg__cfg_check_webhooks);

#define S sg_config_smpp_server_t
static const sg__cfg_field_t smpp_server_fields[] = {
    F("enabled", BOOL, 0, S, enabled, 0, 0),
    F("listen", LISTEN, NUL, S, listen, 0, 0),
    F("tls_listen", LISTEN, NUL, S, tls_listen, 0, 0),
    F("cert", STR, NUL, S, cert, 1, PATH_MAX_LEN),
    F("key", STR, NUL, S, key, 1, PATH_MAX_LEN),
    F("max_sessions", UINT, 0, S, max_sessions, 1, 100000),
    F("window", UINT, 0, S, window, 1, 8192),
    F("enquire_link_interval", DURATION, 0, S, enquire_link_interval_ms, 0,
      HOUR(1)),
    F("receipt_max_age", DURATION, 0, S, receipt_max_age_ms, SEC(1),
      30u * HOUR(24)),
    F("bind_fail_delay", DURATION, 0, S, bind_fail_delay_ms, 0, SEC(30)),
    F("bind_fail_max", UINT, 0, S, bind_fail_max, 1, 100000),
    F("part_wait", DURATION, 0, S, part_wait_ms, SEC(1), HOUR(24)),
};
#undef S
static const sg__cfg_section_t smpp_server_section =
    SECTION(smpp_server_fields, sg_config_smpp_server_t,
            sg__cfg_init_smpp_server, sg__cfg_check_smpp_server);

static const sg__cfg_field_t log_fields[] = {
    FENUM("level", 0, sg_config_log_t, level, log_levels),
    FENUM("format", 0, sg_config_log_t, format, log_formats),
};
static const sg__cfg_section_t log_section =
    SECTION(log_fields, sg_config_log_t, sg__cfg_init_log, NULL);

static const sg__cfg_field_t root_fields[] = {
    FMAP("store", sg_config_t, store, store_section),
    FMAP("http", sg_config_t, http, http_section),
    FMAP("simulator", sg_config_t, simulator, simulator_section),
    FLIST("accounts", MAPLIST, 0, sg_config_t, accounts, n_accounts, 0, 0,
          &account_section),
    FLIST("connectors", MAPLIST, 0, sg_config_t, connectors, n_connectors, 0, 0,
          &connector_section),
    FLIST("routes", MAPLIST, 0, sg_config_t, routes, n_routes, 0, 0,
          &route_section),
    FMAP("webhooks", sg_config_t, webhooks, webhooks_section),
    FMAP("smpp_server", sg_config_t, smpp_server, smpp_server_section),
    FMAP("log", sg_config_t, log, log_section),
    FMAP("inbound", sg_config_t, inbound, sg__cfg_inbound_section),
    FMAP("node", sg_config_t, node, sg__cfg_node_section),
};
const sg__cfg_section_t sg__cfg_root_section =
    SECTION(root_fields, sg_config_t, NULL, sg__cfg_check_root);

_Static_assert(sizeof connector_fields / sizeof connector_fields[0] <=
                   SG__CFG_FIELDS_MAX,
               "SG__CFG_FIELDS_MAX");

/* ---- Defaults ----------------------------------------------------------- */

void sg__cfg_init_store(void *obj) {
  sg_config_store_t *s = obj;
  s->driver = SG_CONFIG_STORE_SQLITE;
  s->path = "./data/smsgate.db";
  s->synchronous = SG_CONFIG_SYNC_FULL;
  s->url = NULL;
  s->max_batch = 512;
  s->unmatched_receipt_keep_ms = HOUR(1);
  s->sync_pipeline = true;
  s->traffic_keep_ms = UINT64_C(400) * HOUR(24);
  s->count_timeout_ms = SEC(10);
}

void sg__cfg_init_http(void *obj) {
  sg_config_http_t *h = obj;
  h->listen.host = "127.0.0.1";
  h->listen.port = 8080;
  h->max_body = 1u << 20;
  h->max_connections = 1000;
  h->timeout_ms = SEC(30);
  h->web = true;
  h->tls_cert = h->tls_key = NULL;
}

void sg__cfg_init_dlr_mix(void *obj) {
  memset(obj, 0, sizeof(sg_config_dlr_mix_t));
}

void sg__cfg_init_simulator(void *obj) {
  sg_config_simulator_t *s = obj;
  memset(s, 0, sizeof *s);
  s->enabled = true;
  s->dlr_delay_ms = SEC(1);
  s->dlr_mix.delivered = 100;
}

void sg__cfg_init_account(void *obj) {
  sg_config_account_t *a = obj;
  memset(a, 0, sizeof *a);
  a->max_parts = 10; /* SG_SEG_DEFAULT_MAX_PARTS */
}

void sg__cfg_init_connector(void *obj) {
  sg_config_connector_t *k = obj;
  memset(k, 0, sizeof *k);
  k->port = 2775;
  k->password = "";
  k->system_type = "";
  k->bind_type = SG_CONFIG_BIND_TRANSCEIVER;
  k->binds = 1;
  k->window = 10;
  k->tls_verify = true;
  k->enquire_link_interval_ms = SEC(30);
  k->response_timeout_ms = SEC(30);
  k->bind_timeout_ms = SEC(10);
  k->first_sequence = 1;
  k->reconnect_min_ms = SEC(1);
  k->reconnect_max_ms = SEC(60);
  k->max_retries = 3;
  k->receipt_id_mode = SG_CONFIG_ID_SAME;
  k->speed = 115200;
  k->source_ton = k->source_npi = SG_CONFIG_TON_AUTO;
  k->dest_ton = k->dest_npi = SG_CONFIG_TON_AUTO;
}

void sg__cfg_init_route(void *obj) {
  memset(obj, 0, sizeof(sg_config_route_t));
}

void sg__cfg_init_webhooks(void *obj) {
  sg_config_webhooks_t *w = obj;
  w->allow_private_networks = false;
  w->thread = true;
  w->timeout_ms = SEC(10);
  w->connect_timeout_ms = SEC(5);
  w->retry_min_ms = SEC(1);
  w->retry_max_ms = MINUTES(10);
  w->max_age_ms = HOUR(24);
  w->concurrency = 64;
  w->pipeline = 1;
  w->claim_ahead = 1000;
}

void sg__cfg_init_smpp_server(void *obj) {
  sg_config_smpp_server_t *s = obj;
  memset(s, 0, sizeof *s);
  s->enabled = true;
  s->max_sessions = 100;
  s->window = 10;
  s->enquire_link_interval_ms = SEC(30);
  s->receipt_max_age_ms = 3u * HOUR(24);
  s->bind_fail_delay_ms = SEC(1);
  s->bind_fail_max = 10;
  s->part_wait_ms = 10u * 60u * 1000u;
}

void sg__cfg_init_account_smpp(void *obj) {
  sg_config_account_smpp_t *s = obj;
  memset(s, 0, sizeof *s);
  s->bind_types = (1u << SG_CONFIG_BIND_TRANSMITTER) |
                  (1u << SG_CONFIG_BIND_RECEIVER) |
                  (1u << SG_CONFIG_BIND_TRANSCEIVER);
  s->max_binds = 4;
}

void sg__cfg_init_log(void *obj) {
  sg_config_log_t *l = obj;
  l->level = SG_CONFIG_LOG_INFO;
  l->format = SG_CONFIG_LOG_TEXT;
}

void sg__cfg_init_config(sg_config_t *cfg) {
  sg__cfg_init_store(&cfg->store);
  sg__cfg_init_http(&cfg->http);
  sg__cfg_init_simulator(&cfg->simulator);
  cfg->simulator.enabled = false; /* only when the section is present */
  cfg->accounts = NULL;
  cfg->connectors = NULL;
  cfg->routes = NULL;
  cfg->n_accounts = cfg->n_connectors = cfg->n_routes = 0;
  sg__cfg_init_webhooks(&cfg->webhooks);
  sg__cfg_init_smpp_server(&cfg->smpp_server);
  cfg->smpp_server.enabled = false;
  sg__cfg_init_log(&cfg->log);
  sg__cfg_init_inbound(&cfg->inbound);
  sg__cfg_init_node(&cfg->node);
}

/* ---- Tree helpers ------------------------------------------------------- */

static bool scalar_is(const sg__cfg_node_t *n, const char *s) {
  size_t l = strlen(s);
  return n != NULL && n->kind == SG__CFG_SCALAR && n->len == l &&
         memcmp(n->str, s, l) == 0;
}

const sg__cfg_node_t *sg__cfg_map_get(const sg__cfg_node_t *map,
                                      const char *key) {
  if (map == NULL || map->kind != SG__CFG_MAP)
    return NULL;
  for (const sg__cfg_node_t *k = map->first; k != NULL; k = k->next)
    if (scalar_is(k, key))
      return k->value;
  return NULL;
}

const sg__cfg_node_t *sg__cfg_seq_at(const sg__cfg_node_t *seq, size_t i) {
  if (seq == NULL || seq->kind != SG__CFG_SEQ)
    return NULL;
  const sg__cfg_node_t *n = seq->first;
  while (n != NULL && i-- > 0)
    n = n->next;
  return n;
}
