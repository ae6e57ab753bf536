/* config_check.c - the checks that look at more than one key: within a
 * section (postgres needs a url, reconnect_min <= reconnect_max, weights as
 * many as connectors) and across sections (route connectors and accounts
 * exist, names and credentials are unique, listeners do not collide).
 *
 * Every error points at the value that is wrong (or at the mapping that
 * lacks a key) and never shows a secret: two accounts with the same API
 * key are reported by position only. Uniqueness and look-ups sort once
 * (O(n log n)), so that a large file cannot make loading quadratic.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/cidr.h"
#include "core/config_int.h"
#include "core/error.h"
#include "core/limits.h"

/* ---- Helpers ------------------------------------------------------------ */

/* The value node of key in the i-th item of the list `list` of the root,
 * to report an error at. Finding it is linear, so it is looked for only
 * when the error will be kept (NULL otherwise: the error is counted). */
static const sg__cfg_node_t *item_value(const sg__cfg_ctx_t *c,
                                        const sg__cfg_node_t *root,
                                        const char *list, size_t i,
                                        const char *key) {
  if (!sg__cfg_error_wanted(c))
    return NULL;
  const sg__cfg_node_t *item = sg__cfg_seq_at(sg__cfg_map_get(root, list), i);
  const sg__cfg_node_t *v = sg__cfg_map_get(item, key);
  return v != NULL ? v : item;
}

/* True when the value of key in map was refused (reported): checks that
 * depend on it say nothing more. */
static bool refused(const sg__cfg_node_t *map, const char *key) {
  const sg__cfg_node_t *v = sg__cfg_map_get(map, key);
  return v != NULL && v->reported;
}

/* Reports that `key` of mapping map is only for `when`. */
static void only_with(sg__cfg_ctx_t *c, const sg__cfg_node_t *map,
                      const char *key, const char *when) {
  const sg__cfg_node_t *v = sg__cfg_map_get(map, key);
  if (v != NULL && !sg__cfg_is_null(v))
    sg__cfg_error(c, v, "applies only with %s", when);
}

/* Two keys that go together: a TLS certificate and its key. */
static void both_or_neither(sg__cfg_ctx_t *c, const sg__cfg_node_t *map,
                            const void *a, const char *ka, const void *b,
                            const char *kb) {
  if ((a == NULL) != (b == NULL))
    sg__cfg_error(c, map,
                  "\"%s\" and \"%s\" go together: set both or "
                  "neither",
                  ka, kb);
}

typedef struct keyed {
  const char *s;
  size_t i;
} keyed_t;

static int keyed_cmp(const void *a, const void *b) {
  const keyed_t *x = a, *y = b;
  int r = strcmp(x->s, y->s);
  if (r != 0)
    return r;
  return x->i < y->i ? -1 : x->i > y->i;
}

/* Sorts the non-NULL strings get(base, i), i < n, with their index into a
 * new array (*out, *n_out; sg_free it). Returns false when out of memory. */
static bool sort_keys(sg__cfg_ctx_t *c, const void *base, size_t n,
                      const char *(*get)(const void *, size_t), keyed_t **out,
                      size_t *n_out) {
  keyed_t *k = sg_calloc(n ? n : 1, sizeof *k);
  size_t m = 0;
  if (k == NULL) {
    sg__cfg_oom(c);
    return false;
  }
  for (size_t i = 0; i < n; i++)
    if (get(base, i) != NULL)
      k[m++] = (keyed_t){get(base, i), i};
  qsort(k, m, sizeof *k, keyed_cmp);
  *out = k;
  *n_out = m;
  return true;
}

/* Calls dup(c, arg, first, later) for every later item whose key equals an
 * earlier one's. */
static void find_dups(sg__cfg_ctx_t *c, const void *base, size_t n,
                      const char *(*get)(const void *, size_t),
                      void (*dup)(sg__cfg_ctx_t *, const void *, size_t,
                                  size_t),
                      const void *arg) {
  keyed_t *k;
  size_t m;
  if (!sort_keys(c, base, n, get, &k, &m))
    return;
  for (size_t j = 1, first = 0; j < m; j++) {
    if (strcmp(k[j].s, k[first].s) != 0)
      first = j;
    else
      dup(c, arg, k[first].i, k[j].i);
  }
  sg_free(k);
}

/* ---- store.url ---------------------------------------------------------- */

static bool is_hex(char ch) {
  return (ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f') ||
         (ch >= 'A' && ch <= 'F');
}

static bool is_keyword_char(char ch) {
  return (ch >= 'a' && ch <= 'z') || ch == '_';
}

/* The form of a postgres:// URI as libpq reads it: no blank or control
 * character, every '%' followed by two hex digits, and each query parameter
 * a key=value pair. NULL if it holds, else what is wrong. */
static const char *pg_uri_problem(const char *u) {
  const char *q = NULL;
  for (const char *p = u; *p != '\0'; p++) {
    unsigned char ch = (unsigned char)*p;
    if (ch <= ' ' || ch == 0x7f)
      return "a URI cannot hold blanks or control characters (escape them "
             "as %XX)";
    if (ch == '%' && !(is_hex(p[1]) && is_hex(p[2])))
      return "'%' must be followed by two hex digits";
    if (ch == '?' && q == NULL)
      q = p + 1;
  }
  for (const char *p = q; p != NULL && *p != '\0';) {
    const char *end = strchr(p, '&');
    size_t n = end != NULL ? (size_t)(end - p) : strlen(p);
    const char *eq = memchr(p, '=', n);
    if (eq == NULL || eq == p)
      return "each parameter after '?' must be key=value";
    p = end != NULL ? end + 1 : p + n;
  }
  return NULL;
}

/* The form of a key=value connection string: keywords of a-z and '_', each
 * followed by '=' and a value, plain or in single quotes (with \' and \\
 * inside). NULL if it holds, else what is wrong. */
static const char *pg_conninfo_problem(const char *s) {
  const char *p = s;
  size_t pairs = 0;
  for (;;) {
    while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
      p++;
    if (*p == '\0')
      break;
    if (!is_keyword_char(*p))
      return "expected a keyword of a-z and '_' (key=value pairs)";
    while (is_keyword_char(*p))
      p++;
    while (*p == ' ' || *p == '\t')
      p++;
    if (*p != '=')
      return "each keyword must be followed by '=' and a value";
    p++;
    while (*p == ' ' || *p == '\t')
      p++;
    if (*p == '\'') {
      for (p++; *p != '\''; p++) {
        if (*p == '\0')
          return "a quoted value is not closed by '";
        if (*p == '\\' && p[1] != '\0')
          p++;
      }
      p++;
    } else {
      if (*p == '\0' || *p == ' ' || *p == '\t')
        return "each keyword must be followed by '=' and a value";
      while (*p != '\0' && *p != ' ' && *p != '\t' && *p != '\n' &&
             *p != '\r') {
        if (*p == '\\' && p[1] != '\0')
          p++;
        p++;
      }
    }
    pairs++;
  }
  return pairs == 0 ? "it is empty" : NULL;
}

/* driver: postgres takes a postgres:// or postgresql:// URI or key=value
 * pairs. The value is never shown: it may hold a password. */
static void check_pg_url(sg__cfg_ctx_t *c, const sg__cfg_node_t *map,
                         const char *url) {
  const sg__cfg_node_t *v = sg__cfg_map_get(map, "url");
  if (url == NULL || v == NULL || v->reported)
    return;
  const char *why;
  if (strncmp(url, "postgres://", 11) == 0 ||
      strncmp(url, "postgresql://", 13) == 0)
    why = pg_uri_problem(url);
  else if (strchr(url, '=') == NULL)
    why = "expected postgres://[user[:password]@][host][:port][/dbname]"
          "[?key=value&...] or key=value pairs";
  else
    why = pg_conninfo_problem(url);
  if (why != NULL)
    sg__cfg_error(c, v,
                  "not a PostgreSQL connection string: %s (the value is "
                  "not shown: it may hold a password)",
                  why);
}

/* ---- Sections ----------------------------------------------------------- */

void sg__cfg_check_store(sg__cfg_ctx_t *c, void *obj,
                         const sg__cfg_node_t *map) {
  sg_config_store_t *s = obj;
  if (refused(map, "driver"))
    return;
  if (s->driver == SG_CONFIG_STORE_POSTGRES) {
    if (s->url == NULL)
      sg__cfg_error(c, map, "driver postgres needs \"url\"");
    check_pg_url(c, map, s->url);
    only_with(c, map, "path", "driver: sqlite");
    only_with(c, map, "synchronous", "driver: sqlite");
    only_with(c, map, "sync_pipeline", "driver: sqlite");
  } else {
    only_with(c, map, "url", "driver: postgres");
    only_with(c, map, "count_timeout", "driver: postgres");
  }
}

void sg__cfg_check_http(sg__cfg_ctx_t *c, void *obj,
                        const sg__cfg_node_t *map) {
  sg_config_http_t *h = obj;
  both_or_neither(c, map, h->tls_cert, "tls_cert", h->tls_key, "tls_key");
}

void sg__cfg_check_simulator(sg__cfg_ctx_t *c, void *obj,
                             const sg__cfg_node_t *map) {
  sg_config_simulator_t *s = obj;
  const sg_config_dlr_mix_t *m = &s->dlr_mix;
  if (s->enabled && s->listen.host == NULL)
    sg__cfg_error(c, map, "missing required key \"listen\"");
  uint64_t sum = (uint64_t)m->delivered + m->undeliverable + m->expired +
                 m->rejected + m->deleted + m->unknown + m->accepted;
  const sg__cfg_node_t *mix = sg__cfg_map_get(map, "dlr_mix");
  if (sum == 0 && mix != NULL)
    sg__cfg_error(c, mix, "at least one weight must be above 0");
}

/* Each webhook_events entry names a status (SG_CONFIG_WEBHOOK_EVENTS). */
static void check_webhook_events(sg__cfg_ctx_t *c, const sg_config_account_t *a,
                                 const sg__cfg_node_t *map) {
  static const char *const names[] = {SG_CONFIG_WEBHOOK_EVENTS};
  const size_t n_names = sizeof names / sizeof names[0];
  const sg__cfg_node_t *seq = sg__cfg_map_get(map, "webhook_events");
  const sg__cfg_node_t *item = seq != NULL ? seq->first : NULL;
  for (size_t i = 0; i < a->n_webhook_events; i++) {
    const char *ev = a->webhook_events[i];
    bool known = false;
    for (size_t k = 0; k < n_names && !known; k++)
      known = strcmp(ev, names[k]) == 0;
    if (!known) {
      const char *s = sg__cfg_suggest(ev, strlen(ev), names, n_names);
      sg__cfg_error(c, item != NULL ? item : map,
                    "unknown status \"%s\"%s%s%s; one of scheduled, queued, "
                    "sending, sent, delivered, undeliverable, expired, "
                    "rejected, failed, canceled",
                    ev, s ? " (did you mean \"" : "", s ? s : "",
                    s ? "\"?)" : "");
    }
    item = item != NULL ? item->next : NULL;
  }
}

void sg__cfg_check_account(sg__cfg_ctx_t *c, void *obj,
                           const sg__cfg_node_t *map) {
  sg_config_account_t *a = obj;
  check_webhook_events(c, a, map);
  const sg__cfg_node_t *smpp = sg__cfg_map_get(map, "smpp");
  bool refused_creds = refused(map, "api_key") || refused(map, "password") ||
                       refused(map, "smpp") ||
                       (smpp != NULL && smpp->kind == SG__CFG_MAP &&
                        (smpp->reported || refused(smpp, "system_id") ||
                         refused(smpp, "password")));
  if (a->api_key == NULL && a->password == NULL && a->smpp.system_id == NULL &&
      !refused_creds)
    sg__cfg_error(c, map,
                  "needs at least one of \"api_key\", \"password\" "
                  "or \"smpp\" to send with");
  sg__cfg_check_account_limits(c, a, map);
  if (a->default_sender == NULL || a->n_senders == 0)
    return;
  if (sg_limits_sender_allowed(a->senders, a->n_senders, a->default_sender))
    return;
  sg__cfg_error(c, sg__cfg_map_get(map, "default_sender"),
                "is not one of \"senders\"");
}

/* bind_types as names into a mask; every allowed_cidrs entry parses. */
void sg__cfg_check_account_smpp(sg__cfg_ctx_t *c, void *obj,
                                const sg__cfg_node_t *map) {
  static const struct {
    const char *name;
    sg_config_bind_type_t type;
  } names[] = {{"transmitter", SG_CONFIG_BIND_TRANSMITTER},
               {"receiver", SG_CONFIG_BIND_RECEIVER},
               {"transceiver", SG_CONFIG_BIND_TRANSCEIVER}};
  sg_config_account_smpp_t *s = obj;
  const sg__cfg_node_t *bt = sg__cfg_map_get(map, "bind_types");
  if (s->n_bind_type_names > 0)
    s->bind_types = 0;
  for (size_t i = 0; i < s->n_bind_type_names; i++) {
    size_t k = 0;
    while (k < 3 && strcmp(names[k].name, s->bind_type_names[i]) != 0)
      k++;
    if (k == 3)
      sg__cfg_error(c, sg__cfg_seq_at(bt, i),
                    "expected transmitter, receiver or transceiver");
    else
      s->bind_types |= 1u << names[k].type;
  }
  const sg__cfg_node_t *cl = sg__cfg_map_get(map, "allowed_cidrs");
  for (size_t i = 0; i < s->n_allowed_cidrs; i++) {
    sg_cidr_t cidr;
    const char *t = s->allowed_cidrs[i];
    if (sg_cidr_parse(t, strlen(t), &cidr) != 0)
      sg__cfg_error(c, sg__cfg_seq_at(cl, i),
                    "expected an address or a CIDR block such as "
                    "10.0.0.0/8 or 2001:db8::/32 (no host bits below the "
                    "prefix)");
  }
}

/* A modem's device: a path, or a TCP serial bridge "tcp://host:port"
 * (an IPv6 address in brackets). */
static bool modem_device_ok(const char *d) {
  if (d[0] == '/')
    return true;
  if (strncmp(d, "tcp://", 6) != 0)
    return false;
  const char *h = d + 6, *colon = strrchr(h, ':');
  if (colon == NULL || colon == h)
    return false;
  if (h[0] == '[' && colon[-1] != ']')
    return false;
  char *end;
  unsigned long port = strtoul(colon + 1, &end, 10);
  return colon[1] >= '0' && colon[1] <= '9' && *end == '\0' && port >= 1 &&
         port <= 65535 && strchr(h, '/') == NULL;
}

/* device or devices (a pool), not both, each a path or tcp://. */
static void check_modem_devices(sg__cfg_ctx_t *c, sg_config_connector_t *k,
                                const sg__cfg_node_t *map) {
  static const char *const want = "expected a serial device path such as "
                                  "/dev/ttyUSB0 or a TCP serial bridge "
                                  "tcp://host:port";
  const sg__cfg_node_t *one = sg__cfg_map_get(map, "device");
  const sg__cfg_node_t *many = sg__cfg_map_get(map, "devices");
  if (one == NULL && many == NULL)
    sg__cfg_error(c, map, "missing required key \"device\"");
  else if (one != NULL && many != NULL)
    sg__cfg_error(c, many, "give device or devices, not both");
  else if (one != NULL && k->device != NULL && !modem_device_ok(k->device) &&
           !refused(map, "device"))
    sg__cfg_error(c, one, "%s", want);
  if (many == NULL || refused(map, "devices"))
    return;
  if (k->n_devices == 0 || k->n_devices > 16)
    sg__cfg_error(c, many, "expected a list of 1 to 16 devices");
  for (size_t i = 0; i < k->n_devices; i++) {
    const sg__cfg_node_t *at = sg__cfg_seq_at(many, i);
    if (k->devices[i][0] == '\0' || (at != NULL && at->reported))
      continue; /* reported already */
    if (!modem_device_ok(k->devices[i]))
      sg__cfg_error(c, sg__cfg_seq_at(many, i), "%s", want);
    for (size_t j = 0; j < i; j++)
      if (strcmp(k->devices[i], k->devices[j]) == 0)
        sg__cfg_error(c, sg__cfg_seq_at(many, i), "device listed twice");
  }
}

/* The keys each connector type needs: an SMPP connector its host and
 * system_id, a modem its device or devices (paths or tcp:// bridges), a
 * speed termios knows, a PIN of digits. */
static void check_connector_type(sg__cfg_ctx_t *c, sg_config_connector_t *k,
                                 const sg__cfg_node_t *map) {
  static const uint32_t speeds[] = {9600,   19200,  38400,  57600,
                                    115200, 230400, 460800, 921600};
  if (refused(map, "type"))
    return;
  if (k->type != SG_CONFIG_CONNECTOR_HTTP)
    only_with(c, map, "http", "type: http");
  if (k->type == SG_CONFIG_CONNECTOR_HTTP) {
    if (sg__cfg_map_get(map, "http") == NULL)
      sg__cfg_error(c, map, "missing required key \"http\"");
    return;
  }
  if (k->type == SG_CONFIG_CONNECTOR_SMPP) {
    if (sg__cfg_map_get(map, "host") == NULL)
      sg__cfg_error(c, map, "missing required key \"host\"");
    if (sg__cfg_map_get(map, "system_id") == NULL)
      sg__cfg_error(c, map, "missing required key \"system_id\"");
    only_with(c, map, "device", "type: modem");
    only_with(c, map, "pin", "type: modem");
    only_with(c, map, "smsc", "type: modem");
    only_with(c, map, "devices", "type: modem");
    only_with(c, map, "flow_control", "type: modem");
    only_with(c, map, "receive_mode", "type: modem");
    return;
  }
  check_modem_devices(c, k, map);
  bool speed_ok = false;
  for (size_t i = 0; i < sizeof speeds / sizeof speeds[0]; i++)
    speed_ok |= k->speed == speeds[i];
  if (!speed_ok && !refused(map, "speed"))
    sg__cfg_error(c, sg__cfg_map_get(map, "speed"),
                  "expected one of 9600, 19200, 38400, 57600, 115200, "
                  "230400, 460800, 921600");
  if (k->pin != NULL && strspn(k->pin, "0123456789") != strlen(k->pin))
    sg__cfg_error(c, sg__cfg_map_get(map, "pin"), "expected 4 to 8 digits");
}

void sg__cfg_check_connector(sg__cfg_ctx_t *c, void *obj,
                             const sg__cfg_node_t *map) {
  sg_config_connector_t *k = obj;
  check_connector_type(c, k, map);
  if (k->reconnect_min_ms > k->reconnect_max_ms &&
      !refused(map, "reconnect_min") && !refused(map, "reconnect_max"))
    sg__cfg_error(c,
                  sg__cfg_map_get(map, "reconnect_max") != NULL
                      ? sg__cfg_map_get(map, "reconnect_max")
                      : sg__cfg_map_get(map, "reconnect_min"),
                  "reconnect_max must not be less than reconnect_min");
  both_or_neither(c, map, k->tls_cert, "tls_cert", k->tls_key, "tls_key");
  sg__cfg_check_connector_nodes(c, k, map);
  if (!k->tls && !refused(map, "tls")) {
    only_with(c, map, "tls_verify", "tls: true");
    only_with(c, map, "tls_ca", "tls: true");
    only_with(c, map, "tls_cert", "tls: true");
    only_with(c, map, "tls_key", "tls: true");
  }
}

#define ROUTE_CONNECTORS_MAX 256

void sg__cfg_check_route(sg__cfg_ctx_t *c, void *obj,
                         const sg__cfg_node_t *map) {
  sg_config_route_t *r = obj;
  sg__cfg_check_route_match(c, r, map);
  const sg__cfg_node_t *w = sg__cfg_map_get(map, "weights");
  const sg__cfg_node_t *st = sg__cfg_map_get(map, "strategy");
  if (w != NULL && w->kind == SG__CFG_SEQ) {
    if (w->n != r->n_connectors)
      sg__cfg_error(c, w,
                    "%zu weight%s for %zu connector%s: give one per "
                    "connector",
                    w->n, w->n == 1 ? "" : "s", r->n_connectors,
                    r->n_connectors == 1 ? "" : "s");
    if (st == NULL)
      r->strategy = SG_CONFIG_STRATEGY_WEIGHTED;
    else if (r->strategy != SG_CONFIG_STRATEGY_WEIGHTED &&
             !refused(map, "strategy"))
      sg__cfg_error(c, st, "weights are given: must be weighted");
  } else if (r->n_connectors > 0) {
    r->weights = sg__cfg_alloc(c->arena, r->n_connectors * sizeof(uint32_t));
    for (size_t i = 0; r->weights != NULL && i < r->n_connectors; i++)
      r->weights[i] = 1;
  }
  const sg__cfg_node_t *cs = sg__cfg_map_get(map, "connectors");
  if (cs != NULL && cs->kind == SG__CFG_SEQ && r->n_connectors == 0)
    sg__cfg_error(c, cs, "must name at least one connector");
  /* Bounded so that checking each entry against those before it (the
   * "listed twice" check) stays cheap. */
  if (r->n_connectors > ROUTE_CONNECTORS_MAX) {
    sg__cfg_error(c, cs, "names %zu connectors, at most %d", r->n_connectors,
                  ROUTE_CONNECTORS_MAX);
    r->n_connectors = 0;
  }
  if (r->n_connectors > 0)
    r->connector_index =
        sg__cfg_alloc(c->arena, r->n_connectors * sizeof(size_t));
  if (r->n_connectors > 0 && (r->weights == NULL || !r->connector_index))
    sg__cfg_oom(c);
}

void sg__cfg_check_webhooks(sg__cfg_ctx_t *c, void *obj,
                            const sg__cfg_node_t *map) {
  sg_config_webhooks_t *w = obj;
  if (w->retry_min_ms > w->retry_max_ms)
    sg__cfg_error(c, map, "retry_max must not be less than retry_min");
  if (w->connect_timeout_ms > w->timeout_ms)
    sg__cfg_error(c, map, "connect_timeout must not be more than timeout");
  if (w->pipeline > 1 && w->client == SG_CONFIG_WEBHOOK_CURL)
    sg__cfg_error(c, map,
                  "pipeline needs \"client: builtin\" (libcurl does not "
                  "pipeline)");
}

void sg__cfg_check_smpp_server(sg__cfg_ctx_t *c, void *obj,
                               const sg__cfg_node_t *map) {
  sg_config_smpp_server_t *s = obj;
  if (s->enabled && s->listen.host == NULL && s->tls_listen.host == NULL)
    sg__cfg_error(c, map, "needs \"listen\", \"tls_listen\" or both");
  if (s->tls_listen.host != NULL && (s->cert == NULL || s->key == NULL))
    sg__cfg_error(c, map, "tls_listen needs \"cert\" and \"key\"");
  if (s->tls_listen.host == NULL) {
    only_with(c, map, "cert", "tls_listen");
    only_with(c, map, "key", "tls_listen");
  }
}

/* ---- Uniqueness --------------------------------------------------------- */

static const char *account_name(const void *b, size_t i) {
  return ((const sg_config_account_t *)b)[i].name;
}
static const char *account_key(const void *b, size_t i) {
  return ((const sg_config_account_t *)b)[i].api_key;
}
static const char *account_system_id(const void *b, size_t i) {
  return ((const sg_config_account_t *)b)[i].smpp.system_id;
}
static const char *connector_name(const void *b, size_t i) {
  return ((const sg_config_connector_t *)b)[i].name;
}

static void dup_account(sg__cfg_ctx_t *c, const void *root, size_t first,
                        size_t later) {
  sg__cfg_error(c, item_value(c, root, "accounts", later, "name"),
                "another account has this name (accounts[%zu])", first);
}
static void dup_key(sg__cfg_ctx_t *c, const void *root, size_t first,
                    size_t later) {
  sg__cfg_error(c, item_value(c, root, "accounts", later, "api_key"),
                "the same API key as accounts[%zu]", first);
}
static void dup_system_id(sg__cfg_ctx_t *c, const void *root, size_t first,
                          size_t later) {
  const sg__cfg_node_t *smpp = item_value(c, root, "accounts", later, "smpp");
  const sg__cfg_node_t *v = sg__cfg_map_get(smpp, "system_id");
  sg__cfg_error(c, v != NULL ? v : smpp,
                "the same SMPP system_id as accounts[%zu]", first);
}
static void dup_connector(sg__cfg_ctx_t *c, const void *root, size_t first,
                          size_t later) {
  sg__cfg_error(c, item_value(c, root, "connectors", later, "name"),
                "another connector has this name (connectors[%zu])", first);
}

/* Route keys: prefix, account and sender together. */
typedef struct route_keys {
  char **keys;
} route_keys_t;

static const char *route_key(const void *b, size_t i) {
  return ((const route_keys_t *)b)->keys[i];
}
static void dup_route(sg__cfg_ctx_t *c, const void *root, size_t first,
                      size_t later) {
  sg__cfg_error(c, item_value(c, root, "routes", later, "prefix"),
                "routes[%zu] has the same prefix, pattern, account, sender "
                "and type; only one of them could ever match",
                first);
}

static void unique_routes(sg__cfg_ctx_t *c, const sg__cfg_node_t *root) {
  const sg_config_t *cfg = c->cfg;
  sg__cfg_arena_t *tmp = NULL;
  route_keys_t rk = {sg__cfg_alloc(&tmp, cfg->n_routes * sizeof(char *))};
  for (size_t i = 0; rk.keys != NULL && i < cfg->n_routes; i++) {
    const sg_config_route_t *r = &cfg->routes[i];
    const char *p = r->prefix ? r->prefix : "",
               *a = r->account ? r->account : "",
               *s = r->sender ? r->sender : "",
               *x = r->pattern ? r->pattern : "";
    size_t n = strlen(p) + strlen(a) + strlen(s) + strlen(x) + 12;
    rk.keys[i] = sg__cfg_alloc(&tmp, n);
    if (rk.keys[i] == NULL)
      break;
    /* \x01 cannot occur: senders are printable, names and prefixes too
     * (a pattern may hold it, but then its own part differs anyway). */
    snprintf(rk.keys[i], n, "%s\x01%s%s\x01%s%s\x01%d\x01%s", p,
             r->account ? "=" : "*", a, r->sender ? "=" : "*", s,
             (int)r->type, x);
  }
  if (cfg->n_routes > 0 &&
      (rk.keys == NULL || rk.keys[cfg->n_routes - 1] == NULL))
    sg__cfg_oom(c);
  else
    find_dups(c, &rk, cfg->n_routes, route_key, dup_route, root);
  sg__cfg_arena_free(tmp);
}

/* ---- Routes to connectors and accounts ---------------------------------- */

static const char *find_sorted(const keyed_t *k, size_t m, const char *name,
                               size_t *idx) {
  size_t lo = 0, hi = m;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    int r = strcmp(k[mid].s, name);
    if (r == 0) {
      *idx = k[mid].i;
      return k[mid].s;
    }
    if (r < 0)
      lo = mid + 1;
    else
      hi = mid;
  }
  return NULL;
}

/* Reports "no <what> named "x"" at v, with a suggestion from k. */
static void no_such(sg__cfg_ctx_t *c, const sg__cfg_node_t *v, const char *what,
                    const char *name, const keyed_t *k, size_t m) {
  const char *best = NULL;
  if (sg__cfg_error_wanted(c) && m > 0) {
    const char **names = sg_calloc(m, sizeof *names);
    for (size_t i = 0; names != NULL && i < m; i++)
      names[i] = k[i].s;
    if (names != NULL)
      best = sg__cfg_suggest(name, strlen(name), names, m);
    sg_free(names);
  }
  if (best != NULL)
    sg__cfg_error(c, v, "no %s named \"%s\"; did you mean \"%s\"?", what, name,
                  best);
  else
    sg__cfg_error(c, v, "no %s named \"%s\"", what, name);
}

/* Resolves the connectors of route r (whose mapping is node item). */
static void route_connectors(sg__cfg_ctx_t *c, const sg_config_route_t *r,
                             const sg__cfg_node_t *item, const keyed_t *k,
                             size_t m) {
  const sg_config_t *cfg = c->cfg;
  const sg__cfg_node_t *list = sg__cfg_map_get(item, "connectors");
  const sg__cfg_node_t *v = list != NULL ? list->first : NULL;
  for (size_t j = 0; j < r->n_connectors && r->connector_index;
       j++, v = v != NULL ? v->next : NULL) {
    size_t idx = 0;
    if (r->connectors[j][0] == '\0')
      continue; /* an invalid item, reported already */
    if (find_sorted(k, m, r->connectors[j], &idx) == NULL) {
      no_such(c, v, "connector", r->connectors[j], k, m);
      continue;
    }
    r->connector_index[j] = idx;
    if (cfg->connectors[idx].bind_type == SG_CONFIG_BIND_RECEIVER)
      sg__cfg_error(c, v,
                    "connector \"%s\" binds as receiver and cannot "
                    "send",
                    r->connectors[j]);
    for (size_t e = 0; e < j; e++)
      if (r->connector_index[e] == idx &&
          strcmp(r->connectors[e], r->connectors[j]) == 0) {
        sg__cfg_error(c, v, "connector \"%s\" is listed twice",
                      r->connectors[j]);
        break;
      }
  }
}

static void resolve_routes(sg__cfg_ctx_t *c, const sg__cfg_node_t *root) {
  const sg_config_t *cfg = c->cfg;
  keyed_t *conn, *acc;
  size_t nc, na;
  if (!sort_keys(c, cfg->connectors, cfg->n_connectors, connector_name, &conn,
                 &nc))
    return;
  if (!sort_keys(c, cfg->accounts, cfg->n_accounts, account_name, &acc, &na)) {
    sg_free(conn);
    return;
  }
  const sg__cfg_node_t *routes = sg__cfg_map_get(root, "routes");
  const sg__cfg_node_t *item = routes != NULL ? routes->first : NULL;
  for (size_t i = 0; i < cfg->n_routes && !c->oom;
       i++, item = item != NULL ? item->next : NULL) {
    const sg_config_route_t *r = &cfg->routes[i];
    size_t idx;
    route_connectors(c, r, item, conn, nc);
    if (r->account != NULL && !find_sorted(acc, na, r->account, &idx))
      no_such(c, sg__cfg_map_get(item, "account"), "account", r->account, acc,
              na);
  }
  sg_free(conn);
  sg_free(acc);
}

/* ---- Listeners ---------------------------------------------------------- */

typedef struct listener {
  const char *section;
  const char *key;
  const sg_config_listen_t *addr;
} listener_t;

static bool wildcard(const char *host) {
  return strcmp(host, "0.0.0.0") == 0 || strcmp(host, "::") == 0;
}

static void listeners(sg__cfg_ctx_t *c, const sg__cfg_node_t *root) {
  const sg_config_t *cfg = c->cfg;
  listener_t l[4];
  size_t n = 0;
  l[n++] = (listener_t){"http", "listen", &cfg->http.listen};
  if (cfg->simulator.enabled)
    l[n++] = (listener_t){"simulator", "listen", &cfg->simulator.listen};
  if (cfg->smpp_server.enabled) {
    l[n++] = (listener_t){"smpp_server", "listen", &cfg->smpp_server.listen};
    l[n++] =
        (listener_t){"smpp_server", "tls_listen", &cfg->smpp_server.tls_listen};
  }
  for (size_t j = 1; j < n; j++) {
    for (size_t i = 0; i < j; i++) {
      const sg_config_listen_t *a = l[i].addr, *b = l[j].addr;
      if (a->host == NULL || b->host == NULL || a->port != b->port)
        continue;
      if (strcmp(a->host, b->host) != 0 && !wildcard(a->host) &&
          !wildcard(b->host))
        continue;
      const sg__cfg_node_t *at =
          sg__cfg_map_get(sg__cfg_map_get(root, l[j].section), l[j].key);
      sg__cfg_error(c, at, "the same port as %s.%s (%s:%u)", l[i].section,
                    l[i].key, a->host, (unsigned)a->port);
      break;
    }
  }
}

void sg__cfg_check_root(sg__cfg_ctx_t *c, void *obj,
                        const sg__cfg_node_t *map) {
  const sg_config_t *cfg = obj;
  find_dups(c, cfg->accounts, cfg->n_accounts, account_name, dup_account, map);
  find_dups(c, cfg->accounts, cfg->n_accounts, account_key, dup_key, map);
  find_dups(c, cfg->accounts, cfg->n_accounts, account_system_id, dup_system_id,
            map);
  find_dups(c, cfg->connectors, cfg->n_connectors, connector_name,
            dup_connector, map);
  unique_routes(c, map);
  if (!c->oom)
    resolve_routes(c, map);
  listeners(c, map);
  sg__cfg_check_inbound_root(c, map);
}
