/* config.h - smsgate's configuration: a YAML file (or the built-in default)
 * read into one typed struct, sg_config_t.
 *
 * Loading is all or nothing: either every key is known, has a value of the
 * right type and range, and the cross-checks pass (route connectors exist,
 * names and keys are unique, listen addresses do not collide), or nothing
 * is returned and the errors are. Errors are collected, not only the first:
 * up to SG_CONFIG_ERRORS_MAX are kept with their position, the total is
 * counted. Each names the file, line and column (1-based, in characters)
 * and the key, as a dotted path:
 *
 *   smsgate.yaml:12:5: connectors[0].port: expected an integer 1-65535,
 *   got "abc"
 *
 * Secrets (passwords, API keys, webhook secrets, the PostgreSQL URL) are
 * never copied into an error: a message says <secret> where it would show a
 * value.
 *
 * Keys, types, defaults and meanings are documented in
 * docs/configuration.md. Durations are written "500ms", "30s", "5m", "2h",
 * "1d" or compounds like "1m30s"; a bare integer is milliseconds. Sizes are
 * "512KB", "1MB", "1GB" (powers of 1024) or a bare integer of bytes.
 *
 * YAML anchors, aliases and merge keys are refused (with an error at
 * each), as are several documents in one file and tags other than the
 * standard !!str, !!int, !!float, !!bool, !!null, !!map and !!seq. Plain
 * scalars are read as written (YAML 1.1's "yes"/"no" are not booleans:
 * `true` and `false` are); null is an empty plain value, "~" or "null".
 *
 * Threading: every function here may be called from any thread; a loaded
 * sg_config_t is immutable and may be read from many threads.
 */
#ifndef SG_CORE_CONFIG_H
#define SG_CORE_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "core/config_http.h"

/* ---- Errors ------------------------------------------------------------ */

#define SG_CONFIG_ERRORS_MAX 20
#define SG_CONFIG_KEY_MAX 128
#define SG_CONFIG_MESSAGE_MAX 256
#define SG_CONFIG_NAME_MAX 256
/* The largest file sg_config_load_file() reads. */
#define SG_CONFIG_FILE_MAX (4u * 1024u * 1024u)

typedef struct sg_config_error {
  unsigned line;               /* 1-based; 0 when the error has no position */
  unsigned column;             /* 1-based, in characters; 0 with line 0 */
  char key[SG_CONFIG_KEY_MAX]; /* "connectors[0].port"; "" if none */
  char message[SG_CONFIG_MESSAGE_MAX]; /* what is wrong, no position/key */
} sg_config_error_t;

/* Caller-owned (about 8 KB); filled by the loaders. items[] is sorted by
 * position. */
typedef struct sg_config_errors {
  char file[SG_CONFIG_NAME_MAX]; /* the name errors are reported under */
  size_t count;                  /* entries in items[] */
  size_t total;                  /* errors found; count <= total */
  sg_config_error_t items[SG_CONFIG_ERRORS_MAX];
} sg_config_errors_t;

/* Writes error i as one line without a newline,
 * "file:line:column: key: message" (the position and key parts are left
 * out when absent), into buf[0..cap) with a NUL, truncating if needed.
 * Returns the length of the full line (as snprintf does), or SG_EINVAL when
 * errs is NULL or i >= errs->count. */
int sg_config_error_format(const sg_config_errors_t *errs, size_t i, char *buf,
                           size_t cap);

/* Prints every kept error, one per line, and "... and N more errors" when
 * more were found than kept. Nothing for NULL or an empty set. */
void sg_config_errors_print(const sg_config_errors_t *errs, FILE *f);

/* ---- The configuration ------------------------------------------------- */

/* A listening address, from "host:port" or "[ipv6]:port". host is NULL when
 * the address is not set (an optional listener that is off). */
typedef struct sg_config_listen {
  const char *host; /* "127.0.0.1", "::1" (no brackets), "localhost" */
  uint16_t port;    /* 1..65535 */
} sg_config_listen_t;

typedef enum sg_config_store_driver {
  SG_CONFIG_STORE_SQLITE = 0,
  SG_CONFIG_STORE_POSTGRES = 1
} sg_config_store_driver_t;

/* SQLite's PRAGMA synchronous in WAL mode: FULL syncs every commit, NORMAL
 * may lose the last commits (never corrupts) on a power loss. */
typedef enum sg_config_sync {
  SG_CONFIG_SYNC_FULL = 0,
  SG_CONFIG_SYNC_NORMAL = 1
} sg_config_sync_t;

typedef struct sg_config_store {
  sg_config_store_driver_t driver; /* default SQLITE */
  const char *path;                /* SQLite file; "./data/smsgate.db" */
  sg_config_sync_t synchronous;    /* SQLite; default FULL */
  const char *url;                 /* PostgreSQL URI/conninfo; NULL else */
  uint32_t max_batch;              /* most messages per commit; 512 */
  uint32_t unmatched_receipt_keep_ms; /* held receipts kept; 1 h */
  /* SQLite, synchronous FULL: the log's fdatasync runs on a thread of its
   * own while the writer runs the next group; default true. */
  bool sync_pipeline;
  uint64_t traffic_keep_ms; /* traffic_minutes kept; 400 d (1 d-3650 d) */
  /* PostgreSQL: statement timeout of the counts of /metrics; 10 s. */
  uint32_t count_timeout_ms;
} sg_config_store_t;

typedef struct sg_config_http {
  sg_config_listen_t listen; /* default 127.0.0.1:8080 */
  uint64_t max_body;         /* bytes; default 1 MiB */
  uint32_t max_connections;  /* default 1000 */
  uint32_t timeout_ms;       /* idle connection timeout; default 30 s */
  bool web;                  /* serve the web page; default true */
  const char *tls_cert;      /* PEM paths for HTTPS; both or neither */
  const char *tls_key;
} sg_config_http_t;

/* Weights of the delivery receipt states the simulator reports (SMPP 3.4
 * Appendix B "stat"); a state is drawn with probability weight / sum. */
typedef struct sg_config_dlr_mix {
  uint32_t delivered;     /* DELIVRD */
  uint32_t undeliverable; /* UNDELIV */
  uint32_t expired;       /* EXPIRED */
  uint32_t rejected;      /* REJECTD */
  uint32_t deleted;       /* DELETED */
  uint32_t unknown;       /* UNKNOWN */
  uint32_t accepted;      /* ACCEPTD */
} sg_config_dlr_mix_t;

/* The built-in SMSC simulator (src/sim), run inside `smsgate serve`. */
typedef struct sg_config_simulator {
  bool enabled;                /* true when the section is present */
  sg_config_listen_t listen;   /* required when enabled */
  const char *system_id;       /* when set, binds must use it; NULL: any */
  const char *password;        /* when set, binds must use it; NULL: any */
  uint32_t dlr_delay_ms;       /* submit to delivery receipt; default 1 s */
  uint32_t submit_delay_ms;    /* before submit_sm_resp; default 0 */
  uint32_t tps;                /* beyond: ESME_RTHROTTLED; 0 = no limit */
  sg_config_dlr_mix_t dlr_mix; /* default: all delivered */
} sg_config_simulator_t;

/* SMPP credentials of an account for smsgate's SMPP server. */
typedef struct sg_config_account_smpp {
  const char *system_id; /* NULL: the account cannot bind */
  const char *password;
  /* Bind types allowed, as a bit mask of (1 << sg_config_bind_type_t);
   * default all three. */
  uint32_t bind_types;
  const char **bind_type_names; /* as written */
  size_t n_bind_type_names;
  uint32_t max_binds;    /* simultaneous binds; default 4 */
  const char **allowed_cidrs; /* source addresses allowed to bind ("10.0.0.0/8",
                                 "::1/128"); none: any */
  size_t n_allowed_cidrs;
  uint32_t tps;    /* submits per second over all binds; 0 = no limit */
  uint32_t window; /* deliver_sm in flight per bind; 0: the server's */
} sg_config_account_smpp_t;

/* Limits of an account (docs/configuration.md "Limits and billing"). */
typedef struct sg_config_quota {
  uint32_t daily;   /* parts per UTC day; 0 = no limit */
  uint32_t monthly; /* parts per UTC month; 0 = no limit */
} sg_config_quota_t;

/* One price of billing.prices: a part to a number that starts with prefix
 * costs micro micro-units (core/limits.h). */
typedef struct sg_config_price {
  const char *prefix; /* "+" and 0..15 digits */
  int64_t micro;
} sg_config_price_t;

typedef struct sg_config_billing {
  bool enabled;              /* the key billing is present */
  sg_config_price_t *prices; /* as written; none: every part is refused */
  size_t n_prices;
} sg_config_billing_t;

/* An account's velocity limit per destination prefix (docs/configuration.md
 * "Velocity"): at most per_minute messages a minute to the numbers that
 * start with the same prefix_digits digits; past it messages are refused
 * (slowed), and after block_after refusals within a minute of each other
 * the prefix is blocked for the account, for block_for_ms or (0) until an
 * administrator lifts it. per_minute 0: no velocity limit. */
typedef struct sg_config_velocity {
  uint32_t prefix_digits; /* 1-15; default 6 */
  uint32_t per_minute;    /* 1-1000000 when the key is present */
  uint32_t block_after;   /* refusals before the block; 0: never block */
  uint32_t block_for_ms;  /* 0: until lifted; at most 30 days */
} sg_config_velocity_t;

typedef struct sg_config_account {
  const char *name;           /* unique; also the Kannel sendsms username */
  const char *api_key;        /* REST bearer key; NULL: no REST access */
  const char *password;       /* Kannel sendsms password; NULL: none */
  const char *webhook_secret; /* HMAC-SHA256 key of webhooks; NULL: unsigned */
  const char *callback_url;   /* default webhook URL; NULL: none */
  char default_region[3];     /* ISO 3166 alpha-2 ("RU"); "" none */
  sg_config_account_smpp_t smpp;
  uint32_t tps;               /* messages accepted per second; 0 = no limit */
  uint32_t max_parts;         /* parts per message, 1..255; default 10 */
  const char *default_sender; /* used when a message has no sender; NULL */
  const char **senders;       /* allowed senders; none: any */
  size_t n_senders;
  bool disabled; /* true: every credential of it is refused (REST 403) */
  bool admin;    /* true: its API keys may use the admin endpoints */
  /* Statuses whose changes POST this account's JSON webhooks ("sent",
   * "delivered", "undeliverable", ...: SG_CONFIG_WEBHOOK_EVENTS); none: the
   * default (sent and every final status). */
  const char **webhook_events;
  size_t n_webhook_events;
  const char *inbound_url;    /* inbound webhook (docs: inbound); NULL */
  /* Allowed destinations: E.164 prefixes ("+4915") and ISO 3166 regions
   * ("DE"); none: every destination. */
  const char **destinations;
  size_t n_destinations;
  sg_config_quota_t quota;     /* parts per UTC day and month */
  sg_config_billing_t billing; /* prepaid prices; disabled: not charged */
  sg_config_velocity_t velocity; /* per destination prefix; see above */
} sg_config_account_t;

/* The names webhook_events takes: the message statuses a change can reach. */
#define SG_CONFIG_WEBHOOK_EVENTS                                               \
  "scheduled", "queued", "sending", "sent", "delivered", "undeliverable",      \
      "expired", "rejected", "failed", "canceled"

typedef enum sg_config_connector_type {
  SG_CONFIG_CONNECTOR_SMPP = 0,
  SG_CONFIG_CONNECTOR_MODEM = 1, /* a GSM modem (connector/modem.h) */
  SG_CONFIG_CONNECTOR_HTTP = 2   /* an HTTP provider (connector/http_conn.h) */
} sg_config_connector_type_t;

/* A modem's serial flow control (termios CRTSCTS or IXON|IXOFF). */
typedef enum sg_config_flow_control {
  SG_CONFIG_FLOW_NONE = 0,
  SG_CONFIG_FLOW_RTSCTS = 1,
  SG_CONFIG_FLOW_XONXOFF = 2
} sg_config_flow_control_t;

/* How a modem hands over incoming messages: stored on the SIM and
 * announced with +CMTI, or routed directly with +CMT and acknowledged
 * with AT+CNMA once smsgate stored them. */
typedef enum sg_config_receive_mode {
  SG_CONFIG_RECEIVE_STORED = 0,
  SG_CONFIG_RECEIVE_DIRECT = 1
} sg_config_receive_mode_t;

/* Same values as sg_smpp_bind_type_t (smpp/session.h). */
typedef enum sg_config_bind_type {
  SG_CONFIG_BIND_TRANSMITTER = 1,
  SG_CONFIG_BIND_RECEIVER = 2,
  SG_CONFIG_BIND_TRANSCEIVER = 3
} sg_config_bind_type_t;

/* How a message longer than one part is sent: a concatenation UDH in the
 * short_message (esm_class UDHI), the sar_* TLVs (SMPP 3.4 section 5.3.2.22
 * to 5.3.2.24), or the whole text in one message_payload TLV (5.3.2.32). */
typedef enum sg_config_long_mode {
  SG_CONFIG_LONG_UDH = 0,
  SG_CONFIG_LONG_SAR = 1,
  SG_CONFIG_LONG_PAYLOAD = 2
} sg_config_long_mode_t;

/* Same values as sg_msgid_mode_t (smpp/msgid.h). */
typedef enum sg_config_id_mode {
  SG_CONFIG_ID_AUTO = 0,
  SG_CONFIG_ID_EXACT = 1,
  SG_CONFIG_ID_NOCASE = 2,
  SG_CONFIG_ID_HEX = 3,
  SG_CONFIG_ID_DECIMAL = 4,
  /* receipt_id_mode only: read receipt ids as id_mode says (the default) */
  SG_CONFIG_ID_SAME = 5
} sg_config_id_mode_t;

/* source_ton and friends: a value of the SMPP 3.4 tables (section 5.2.5
 * TON 0..6, 5.2.6 NPI 0, 1, 3, 4, 6, 8, 9, 10, 14, 18), or this: smsgate
 * chooses from the address. */
#define SG_CONFIG_TON_AUTO (-1)

typedef struct sg_config_connector {
  const char *name;                /* unique */
  sg_config_connector_type_t type; /* required */
  const char *host;                /* name or IP literal */
  uint16_t port;                   /* default 2775 */
  const char *system_id;           /* up to 15 characters */
  const char *password;            /* up to 8 characters; default "" */
  const char *system_type;         /* up to 12 characters; default "" */
  sg_config_bind_type_t bind_type; /* default TRANSCEIVER */
  uint32_t binds;                  /* sessions opened; 1..64, default 1 */
  uint32_t window;                 /* per session; 1..8192, default 10 */
  uint32_t tps;                    /* submits/s, all binds; 0 = no limit */
  bool tls;                        /* default false */
  bool tls_verify;                 /* default true */
  const char *tls_ca;              /* PEM bundle; NULL: system CAs */
  const char *tls_cert;            /* client certificate; with tls_key */
  const char *tls_key;
  uint32_t enquire_link_interval_ms; /* default 30 s; 0 = never */
  uint32_t response_timeout_ms;      /* default 30 s */
  uint32_t bind_timeout_ms;          /* default 10 s */
  uint32_t first_sequence; /* smpp: first sequence_number; default 1 */
  uint32_t reconnect_min_ms;         /* default 1 s */
  uint32_t reconnect_max_ms;         /* default 60 s; >= reconnect_min */
  sg_config_long_mode_t long_mode;   /* default UDH */
  sg_config_id_mode_t id_mode;       /* default AUTO */
  sg_config_id_mode_t receipt_id_mode; /* default SAME (as id_mode) */
  bool gsm7_packed;                  /* default false */
  uint32_t max_retries;              /* default 3 */
  int source_ton, source_npi;        /* default SG_CONFIG_TON_AUTO */
  int dest_ton, dest_npi;            /* default SG_CONFIG_TON_AUTO */
  /* type modem (host and system_id are then not used): */
  const char *device; /* serial device path; required for a modem */
  uint32_t speed;     /* baud, default 115200 */
  const char *pin;    /* SIM PIN (4-8 digits) or NULL */
  const char *smsc;   /* SMSC number for AT+CSCA ("+4917...") or NULL */
  /* Price of a part by destination prefix (routes with strategy
   * least-cost); the longest prefix that matches the number wins. */
  struct sg_config_conn_price *prices;
  size_t n_prices;
  const char **devices; /* a pool of modems (paths or tcp://host:port) */
  size_t n_devices;     /* 0: device alone */
  sg_config_flow_control_t flow_control; /* default NONE */
  sg_config_receive_mode_t receive_mode; /* default STORED */
  sg_config_conn_http_t http; /* type http: request, answer, receipts */
  /* Down this long, its queued parts move to another connector of their
   * route (0: the engine's default, 30 s). */
  uint32_t failover_after_ms;
  /* The nodes that bind it (docs/scaling.md): `node: a` or `nodes: [a, b]`;
   * neither: every node. See sg_config_connector_on_node. */
  const char *node;
  const char **nodes;
  size_t n_nodes;
} sg_config_connector_t;

/* One entry of a connector's `prices`: parts to numbers starting with
 * prefix ("+" and up to 15 digits) cost price (a non-negative number in
 * whatever currency the operator uses for all connectors). */
typedef struct sg_config_conn_price {
  const char *prefix;
  double price;
} sg_config_conn_price_t;

typedef enum sg_config_strategy {
  SG_CONFIG_STRATEGY_FAILOVER = 0, /* the first that is up, in order */
  SG_CONFIG_STRATEGY_WEIGHTED = 1, /* spread by weight among those up */
  SG_CONFIG_STRATEGY_LEAST_COST = 2 /* the cheapest up, by their prices */
} sg_config_strategy_t;

/* The kind of message a route takes (its `type`), as the message model
 * tells them apart once the text is encoded: GSM 7-bit text, UCS-2 text,
 * 8-bit binary data. */
typedef enum sg_config_msg_type {
  SG_CONFIG_MSG_ANY = 0,
  SG_CONFIG_MSG_TEXT = 1,    /* GSM 03.38 (default alphabet or national) */
  SG_CONFIG_MSG_UNICODE = 2, /* UCS-2 */
  SG_CONFIG_MSG_BINARY = 3   /* 8-bit data */
} sg_config_msg_type_t;

/* A route: messages whose recipient starts with prefix (and, when set,
 * from account / with sender) go to connectors. The engine picks the route
 * with the longest prefix; account and sender make a route more specific. */
typedef struct sg_config_route {
  const char *prefix;  /* "+" and 0..15 digits; NULL: any (with pattern) */
  const char *pattern; /* PCRE2 on the E.164 number; NULL: any */
  sg_config_msg_type_t type; /* ANY unless given */
  const char *account; /* NULL: any account */
  const char *sender;  /* NULL: any sender */
  const char **connectors;
  size_t *connector_index;       /* into sg_config_t.connectors, per entry */
  uint32_t *weights;             /* per entry; all 1 unless given */
  size_t n_connectors;           /* >= 1 */
  sg_config_strategy_t strategy; /* WEIGHTED when weights are given */
} sg_config_route_t;

/* webhooks.client: which HTTP client posts to http:// URLs. */
typedef enum sg_config_webhook_client {
  SG_CONFIG_WEBHOOK_BUILTIN = 0, /* smsgate's own HTTP/1.1 client */
  SG_CONFIG_WEBHOOK_CURL = 1     /* libcurl, as for https:// */
} sg_config_webhook_client_t;

#define SG_CONFIG_WEBHOOK_PIPELINE_MAX 32 /* as SG_WEBHOOK_PIPELINE_MAX */

typedef struct sg_config_webhooks {
  bool allow_private_networks; /* default false */
  uint32_t timeout_ms;         /* whole request; default 10 s */
  uint32_t connect_timeout_ms; /* default 5 s */
  uint32_t retry_min_ms;       /* first retry delay; default 1 s */
  uint32_t retry_max_ms;       /* delay cap; default 10 min */
  uint32_t max_age_ms;         /* give up after; default 24 h */
  uint32_t concurrency;        /* requests in flight; default 64 */
  bool thread; /* libcurl on a thread of its own; default true */
  sg_config_webhook_client_t client; /* default BUILTIN */
  uint32_t pipeline; /* requests in flight on one connection; default 1 */
  uint32_t claim_ahead; /* deliveries claimed beyond the free requests,
                           waiting for one; default 1000, 0: none */
} sg_config_webhooks_t;

/* smsgate's own SMPP server, where ESMEs bind with an account's smpp
 * credentials. */
typedef struct sg_config_smpp_server {
  bool enabled;                  /* true when the section is present */
  sg_config_listen_t listen;     /* plain TCP; host NULL: off */
  sg_config_listen_t tls_listen; /* TLS; host NULL: off */
  const char *cert;              /* PEM; required with tls_listen */
  const char *key;
  uint32_t max_sessions;             /* default 100 */
  uint32_t window;                   /* deliver_sm in flight; default 10 */
  uint32_t enquire_link_interval_ms; /* default 30 s; 0 = never */
  uint32_t receipt_max_age_ms; /* receipts not delivered to an unbound ESME
                                  are dropped after; default 3 d */
  uint32_t bind_fail_delay_ms; /* a refused bind is answered after; 1 s */
  uint32_t bind_fail_max;      /* failed binds per source address and
                                  minute before it is refused at once; 10 */
  uint32_t part_wait_ms; /* a customer's pre-split message waits this long
                            after its latest part for the rest; 10 min */
} sg_config_smpp_server_t;

typedef enum sg_config_log_level {
  SG_CONFIG_LOG_DEBUG = 0,
  SG_CONFIG_LOG_INFO = 1,
  SG_CONFIG_LOG_WARN = 2,
  SG_CONFIG_LOG_ERROR = 3
} sg_config_log_level_t;

typedef enum sg_config_log_format {
  SG_CONFIG_LOG_TEXT = 0,
  SG_CONFIG_LOG_JSON = 1
} sg_config_log_format_t;

typedef struct sg_config_log {
  sg_config_log_level_t level;   /* default INFO */
  sg_config_log_format_t format; /* default TEXT */
} sg_config_log_t;

/* What an inbound rule does with the messages it matches. */
typedef enum sg_config_inbound_action {
  /* Store it for the account and POST it to the account's inbound_url. */
  SG_CONFIG_INBOUND_WEBHOOK = 0,
  /* Store it and call the rule's url instead of the webhook. */
  SG_CONFIG_INBOUND_URL = 1,
  /* Both: the account's webhook and the rule's url. */
  SG_CONFIG_INBOUND_BOTH = 2,
  /* Not given: URL when the rule has a url, else WEBHOOK (core/inrule.h
   * resolves it). */
  SG_CONFIG_INBOUND_AUTO = -1
} sg_config_inbound_action_t;

/* How a rule's url is called. */
typedef enum sg_config_inbound_method {
  SG_CONFIG_INBOUND_GET = 0, /* unsigned, no body (Kannel's get-url) */
  SG_CONFIG_INBOUND_POST = 1 /* the inbound JSON, signed */
} sg_config_inbound_method_t;

/* An inbound rule: a message to `to` (when set) whose first word is
 * `keyword` or one of `aliases` (when set, any case) and whose text
 * matches `regex` (when set) goes to `account`. Rules are tried in order;
 * the first that matches wins. */
typedef struct sg_config_inbound_rule {
  const char *to;      /* our number or short code, digits with an optional
                          '+'; NULL: any */
  const char *keyword; /* NULL: any */
  const char **aliases;
  size_t n_aliases;
  const char *regex;   /* PCRE2, case-insensitive, UTF; NULL: any */
  const char *account; /* required; names an account */
  size_t account_index; /* into sg_config_t.accounts (set by the check) */
  sg_config_inbound_action_t action; /* default WEBHOOK, or URL with url */
  /* URL action (docs/configuration.md "inbound"): a template with Kannel's
   * sms-service escape codes (core/kannel.h); NULL: none. */
  const char *url;
  sg_config_inbound_method_t method; /* default GET */
  bool reply;                        /* send a text answer back; true */
  uint32_t reply_max_length; /* characters of a reply kept; 1000 */
} sg_config_inbound_rule_t;

/* Incoming messages: reassembly, routing rules, opt-out keywords and
 * automatic replies (docs/configuration.md, "inbound"). */
typedef struct sg_config_inbound {
  sg_config_inbound_rule_t *rules;
  size_t n_rules;
  const char *catch_all; /* account for messages no rule matched; NULL */
  uint32_t reassembly_timeout_ms; /* default 60 s */
  const char **stop_keywords;     /* default STOP STOPALL UNSUBSCRIBE ... */
  size_t n_stop_keywords;
  const char **start_keywords; /* default START UNSTOP */
  size_t n_start_keywords;
  const char **help_keywords; /* default HELP */
  size_t n_help_keywords;
  const char *stop_reply;  /* NULL or "": no confirmation */
  const char *start_reply; /* NULL or "": none */
  const char *help_reply;  /* NULL or "": none */
  uint32_t reply_limit;     /* automatic replies per pair of numbers in
                               reply_window; default 5; 0: none at all */
  uint32_t reply_window_ms; /* default 1 h */
} sg_config_inbound_t;

/* This node among several on one PostgreSQL database (`node:`,
 * docs/scaling.md). */
typedef struct sg_config_node {
  const char *name;       /* NULL: the host name (sg_config_node_name) */
  uint32_t heartbeat_ms;  /* default 2 s */
  uint32_t dead_after_ms; /* default 10 s; at least twice heartbeat */
} sg_config_node_t;

struct sg__cfg_arena;

/* A loaded configuration. Every string and array belongs to it and lives
 * until sg_config_free(); do not change it. */
typedef struct sg_config {
  const char *source; /* the name it was loaded under */
  sg_config_store_t store;
  sg_config_http_t http;
  sg_config_simulator_t simulator;
  sg_config_account_t *accounts;
  size_t n_accounts;
  sg_config_connector_t *connectors;
  size_t n_connectors;
  sg_config_route_t *routes;
  size_t n_routes;
  sg_config_webhooks_t webhooks;
  sg_config_smpp_server_t smpp_server;
  sg_config_log_t log;
  sg_config_inbound_t inbound;
  sg_config_node_t node;
  struct sg__cfg_arena *arena; /* private */
} sg_config_t;

/* ---- Loading ----------------------------------------------------------- */

/* Reads and checks the YAML document text[0..len) (need not end in a NUL),
 * reporting errors under `name` (NULL: "<string>").
 * Returns 0 and sets *out to a new configuration (free it with
 * sg_config_free), or sets *out to NULL and returns
 *   SG_ECONFIG  the document is invalid: errs holds why;
 *   SG_ENOMEM   out of memory (errs says so too);
 *   SG_EINVAL   out is NULL, or text is NULL with len > 0.
 * errs may be NULL; otherwise it is reset first. */
int sg_config_load_string(const char *name, const char *text, size_t len,
                          sg_config_t **out, sg_config_errors_t *errs);

/* Reads the file at path (at most SG_CONFIG_FILE_MAX octets) and loads it
 * as sg_config_load_string() does, errors reported under path. Also
 * returns SG_EIO when the file cannot be read or is too large (errs holds
 * the reason, without a position). */
int sg_config_load_file(const char *path, sg_config_t **out,
                        sg_config_errors_t *errs);

/* The configuration `smsgate serve` runs without -c: SQLite in ./data/,
 * REST on 127.0.0.1:8080, the SMPP server on 127.0.0.1:2775, the simulator
 * on 127.0.0.1:2776 with one connector to it, one demo account. It is the
 * YAML text of sg_config_default_yaml() read through the same loader,
 * reported as "<built-in default>". Returns as sg_config_load_string(). */
int sg_config_default(sg_config_t **out, sg_config_errors_t *errs);

/* The built-in default document (static, NUL-terminated), e.g. for a
 * command that prints a starting configuration. */
const char *sg_config_default_yaml(void);

/* Frees a configuration and everything in it. NULL is a no-op. */
void sg_config_free(sg_config_t *cfg);

/* Look-ups by name; NULL when there is none. */
const sg_config_connector_t *sg_config_find_connector(const sg_config_t *cfg,
                                                      const char *name);
const sg_config_account_t *sg_config_find_account(const sg_config_t *cfg,
                                                  const char *name);

/* Whether the node called `node` binds connector k: true when k names no
 * node (every node binds it) or names this one. Pure. */
bool sg_config_connector_on_node(const sg_config_connector_t *k,
                                 const char *node);

/* The node's name: cfg->node.name, or else the host name (gethostname),
 * cut to 64 characters, written to out[0..cap). Returns out. */
const char *sg_config_node_name(const sg_config_t *cfg, char *out, size_t cap);

#endif
