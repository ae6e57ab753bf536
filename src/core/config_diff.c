/* config_diff.c - compares two checked configurations key by key for a
 * reload (config_diff.h): connectors and accounts are matched by name,
 * routes compared as an ordered list, and the sections that are set up
 * once at start (store, http, simulator, smpp_server, log and the webhook
 * client's concurrency and thread) are listed as needing a restart.
 *
 * Pure: it must never change either configuration, log, or decide what a
 * change means for running connectors; it only says what differs.
 */
#include "core/config_diff.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "core/error.h"

static bool str_eq(const char *a, const char *b) {
  if (a == NULL || b == NULL)
    return a == b;
  return strcmp(a, b) == 0;
}

static bool strs_eq(const char *const *a, size_t na, const char *const *b,
                    size_t nb) {
  if (na != nb)
    return false;
  for (size_t i = 0; i < na; i++)
    if (!str_eq(a[i], b[i]))
      return false;
  return true;
}

/* Appends key to the item's list ("a, b"), ending in "..." when full. */
static void key_add(sg_config_diff_item_t *it, const char *key) {
  size_t len = strlen(it->keys);
  size_t cap = sizeof it->keys;
  if (len + 4 >= cap)
    return;
  int n = snprintf(it->keys + len, cap - len, "%s%s", len ? ", " : "", key);
  if (n < 0 || (size_t)n >= cap - len)
    snprintf(it->keys + cap - 4, 4, "...");
}

/* ---- connectors ---------------------------------------------------------- */

static bool prices_eq(const sg_config_connector_t *a,
                      const sg_config_connector_t *b) {
  if (a->n_prices != b->n_prices)
    return false;
  for (size_t i = 0; i < a->n_prices; i++)
    if (!str_eq(a->prices[i].prefix, b->prices[i].prefix) ||
        a->prices[i].price != b->prices[i].price)
      return false;
  return true;
}

#define CONN_NUM(f, key)                                                       \
  if (a->f != b->f)                                                            \
  key_add(it, key)
#define CONN_STR(f, key)                                                       \
  if (!str_eq(a->f, b->f))                                                     \
  key_add(it, key)

/* Keys that need the connector's binds opened again. */
static void conn_link_keys(const sg_config_connector_t *a,
                           const sg_config_connector_t *b,
                           sg_config_diff_item_t *it) {
  CONN_NUM(type, "type");
  CONN_STR(host, "host");
  CONN_NUM(port, "port");
  CONN_STR(system_id, "system_id");
  CONN_STR(password, "password");
  CONN_STR(system_type, "system_type");
  CONN_NUM(bind_type, "bind_type");
  CONN_NUM(binds, "binds");
  CONN_NUM(window, "window");
  CONN_NUM(tls, "tls");
  CONN_NUM(tls_verify, "tls_verify");
  CONN_STR(tls_ca, "tls_ca");
  CONN_STR(tls_cert, "tls_cert");
  CONN_STR(tls_key, "tls_key");
  CONN_NUM(enquire_link_interval_ms, "enquire_link_interval");
  CONN_NUM(response_timeout_ms, "response_timeout");
  CONN_NUM(bind_timeout_ms, "bind_timeout");
  CONN_NUM(reconnect_min_ms, "reconnect_min");
  CONN_NUM(reconnect_max_ms, "reconnect_max");
  CONN_NUM(long_mode, "long_mode");
  CONN_NUM(id_mode, "id_mode");
  CONN_NUM(receipt_id_mode, "receipt_id_mode");
  CONN_NUM(gsm7_packed, "gsm7_packed");
  CONN_NUM(source_ton, "source_ton");
  CONN_NUM(source_npi, "source_npi");
  CONN_NUM(dest_ton, "dest_ton");
  CONN_NUM(dest_npi, "dest_npi");
  CONN_STR(device, "device");
  CONN_NUM(speed, "speed");
  CONN_STR(pin, "pin");
  CONN_STR(smsc, "smsc");
  if (!strs_eq(a->devices, a->n_devices, b->devices, b->n_devices))
    key_add(it, "devices");
  CONN_NUM(flow_control, "flow_control");
  CONN_NUM(receive_mode, "receive_mode");
  if (!sg__cfg_conn_http_eq(&a->http, &b->http))
    key_add(it, "http");
}

static void conn_compare(const sg_config_connector_t *a,
                         const sg_config_connector_t *b,
                         sg_config_diff_item_t *it) {
  conn_link_keys(a, b, it);
  /* A modem takes its retry count when it is opened; an SMPP client's
   * rate and retry count can be set while it runs. */
  bool modem = a->type == SG_CONFIG_CONNECTOR_MODEM ||
               b->type == SG_CONFIG_CONNECTOR_MODEM;
  bool link = it->keys[0] != '\0';
  CONN_NUM(tps, "tps");
  bool retries = a->max_retries != b->max_retries;
  CONN_NUM(max_retries, "max_retries");
  CONN_NUM(failover_after_ms, "failover_after");
  if (!prices_eq(a, b))
    key_add(it, "prices");
  if (link || (modem && retries))
    it->change = SG_CONFIG_REBIND;
  else if (it->keys[0] != '\0')
    it->change = SG_CONFIG_CHANGED;
}

#undef CONN_NUM
#undef CONN_STR

/* ---- accounts ------------------------------------------------------------ */

static bool billing_eq(const sg_config_billing_t *a,
                       const sg_config_billing_t *b) {
  if (a->enabled != b->enabled || a->n_prices != b->n_prices)
    return false;
  for (size_t i = 0; i < a->n_prices; i++)
    if (!str_eq(a->prices[i].prefix, b->prices[i].prefix) ||
        a->prices[i].micro != b->prices[i].micro)
      return false;
  return true;
}

static void smpp_compare(const sg_config_account_smpp_t *a,
                         const sg_config_account_smpp_t *b,
                         sg_config_diff_item_t *it) {
  if ((a->system_id == NULL) != (b->system_id == NULL)) {
    key_add(it, "smpp"); /* added or taken away as a whole */
    return;
  }
  if (!str_eq(a->system_id, b->system_id) || !str_eq(a->password, b->password))
    key_add(it, "smpp.credentials");
  if (a->bind_types != b->bind_types)
    key_add(it, "smpp.bind_types");
  if (a->max_binds != b->max_binds)
    key_add(it, "smpp.max_binds");
  if (!strs_eq(a->allowed_cidrs, a->n_allowed_cidrs, b->allowed_cidrs,
               b->n_allowed_cidrs))
    key_add(it, "smpp.allowed_cidrs");
  if (a->tps != b->tps)
    key_add(it, "smpp.tps");
  if (a->window != b->window)
    key_add(it, "smpp.window");
}

#define ACC_NUM(f, key)                                                        \
  if (a->f != b->f)                                                            \
  key_add(it, key)
#define ACC_STR(f, key)                                                        \
  if (!str_eq(a->f, b->f))                                                     \
  key_add(it, key)
#define ACC_STRS(f, key)                                                       \
  if (!strs_eq(a->f, a->n_##f, b->f, b->n_##f))                                \
  key_add(it, key)

static void account_compare(const sg_config_account_t *a,
                            const sg_config_account_t *b,
                            sg_config_diff_item_t *it) {
  ACC_STR(api_key, "api_key");
  ACC_STR(password, "password");
  ACC_STR(webhook_secret, "webhook_secret");
  ACC_STR(callback_url, "callback_url");
  if (strcmp(a->default_region, b->default_region) != 0)
    key_add(it, "default_region");
  smpp_compare(&a->smpp, &b->smpp, it);
  ACC_NUM(tps, "tps");
  ACC_NUM(max_parts, "max_parts");
  ACC_STR(default_sender, "default_sender");
  ACC_STRS(senders, "senders");
  ACC_NUM(disabled, "disabled");
  ACC_NUM(admin, "admin");
  ACC_STRS(webhook_events, "webhook_events");
  ACC_STR(inbound_url, "inbound_url");
  ACC_STRS(destinations, "destinations");
  if (a->quota.daily != b->quota.daily || a->quota.monthly != b->quota.monthly)
    key_add(it, "quota");
  if (!billing_eq(&a->billing, &b->billing))
    key_add(it, "billing");
  if (it->keys[0] != '\0')
    it->change = SG_CONFIG_CHANGED;
}

#undef ACC_NUM
#undef ACC_STR
#undef ACC_STRS

/* ---- lists matched by name ----------------------------------------------- */

typedef const char *(*name_at_fn)(const sg_config_t *cfg, size_t i);
typedef void (*compare_fn)(const sg_config_t *a, size_t ia,
                           const sg_config_t *b, size_t ib,
                           sg_config_diff_item_t *it);

static const char *conn_name(const sg_config_t *c, size_t i) {
  return c->connectors[i].name;
}

static const char *acct_name(const sg_config_t *c, size_t i) {
  return c->accounts[i].name;
}

static void conn_cmp(const sg_config_t *a, size_t ia, const sg_config_t *b,
                     size_t ib, sg_config_diff_item_t *it) {
  conn_compare(&a->connectors[ia], &b->connectors[ib], it);
}

static void acct_cmp(const sg_config_t *a, size_t ia, const sg_config_t *b,
                     size_t ib, sg_config_diff_item_t *it) {
  account_compare(&a->accounts[ia], &b->accounts[ib], it);
}

static size_t find_name(const sg_config_t *c, size_t n, name_at_fn at,
                        const char *name) {
  for (size_t i = 0; i < n; i++)
    if (str_eq(at(c, i), name))
      return i;
  return SIZE_MAX;
}

/* Items for every name of new (added, or compared with old's), then for
 * old's names that new lacks (removed). */
static int diff_list(const sg_config_t *o, size_t no, const sg_config_t *n,
                     size_t nn, name_at_fn at, compare_fn cmp,
                     sg_config_diff_item_t **items, size_t *count) {
  *items = NULL;
  *count = 0;
  if (no + nn == 0)
    return 0;
  sg_config_diff_item_t *v = sg_calloc(no + nn, sizeof *v);
  if (v == NULL)
    return SG_ENOMEM;
  size_t k = 0;
  for (size_t i = 0; i < nn; i++, k++) {
    v[k].name = at(n, i);
    v[k].new_index = i;
    v[k].old_index = find_name(o, no, at, v[k].name);
    if (v[k].old_index == SIZE_MAX)
      v[k].change = SG_CONFIG_ADDED;
    else
      cmp(o, v[k].old_index, n, i, &v[k]);
  }
  for (size_t i = 0; i < no; i++) {
    if (find_name(n, nn, at, at(o, i)) != SIZE_MAX)
      continue;
    v[k].name = at(o, i);
    v[k].old_index = i;
    v[k].new_index = SIZE_MAX;
    v[k++].change = SG_CONFIG_REMOVED;
  }
  *items = v;
  *count = k;
  return 0;
}

/* ---- routes, webhooks, inbound ------------------------------------------- */

static bool route_eq(const sg_config_route_t *a, const sg_config_route_t *b) {
  if (!str_eq(a->prefix, b->prefix) || !str_eq(a->pattern, b->pattern) ||
      a->type != b->type || !str_eq(a->account, b->account) ||
      !str_eq(a->sender, b->sender) || a->strategy != b->strategy ||
      !strs_eq(a->connectors, a->n_connectors, b->connectors, b->n_connectors))
    return false;
  for (size_t i = 0; i < a->n_connectors; i++)
    if (a->weights != NULL && b->weights != NULL &&
        a->weights[i] != b->weights[i])
      return false;
  return true;
}

static bool routes_eq(const sg_config_t *a, const sg_config_t *b) {
  if (a->n_routes != b->n_routes)
    return false;
  for (size_t i = 0; i < a->n_routes; i++)
    if (!route_eq(&a->routes[i], &b->routes[i]))
      return false;
  return true;
}

static bool inrule_eq(const sg_config_inbound_rule_t *a,
                      const sg_config_inbound_rule_t *b) {
  return str_eq(a->to, b->to) && str_eq(a->keyword, b->keyword) &&
         strs_eq(a->aliases, a->n_aliases, b->aliases, b->n_aliases) &&
         str_eq(a->regex, b->regex) && str_eq(a->account, b->account) &&
         a->action == b->action && str_eq(a->url, b->url) &&
         a->method == b->method && a->reply == b->reply &&
         a->reply_max_length == b->reply_max_length;
}

static bool inrules_eq(const sg_config_inbound_t *a,
                       const sg_config_inbound_t *b) {
  if (a->n_rules != b->n_rules)
    return false;
  for (size_t i = 0; i < a->n_rules; i++)
    if (!inrule_eq(&a->rules[i], &b->rules[i]))
      return false;
  return true;
}

/* The inbound keys read at each message; the rules, the catch-all and the
 * reply limit are compiled or set up at start. */
static bool inbound_eq(const sg_config_inbound_t *a,
                       const sg_config_inbound_t *b) {
  if (a->reassembly_timeout_ms != b->reassembly_timeout_ms ||
      !strs_eq(a->stop_keywords, a->n_stop_keywords, b->stop_keywords,
               b->n_stop_keywords) ||
      !strs_eq(a->start_keywords, a->n_start_keywords, b->start_keywords,
               b->n_start_keywords) ||
      !strs_eq(a->help_keywords, a->n_help_keywords, b->help_keywords,
               b->n_help_keywords) ||
      !str_eq(a->stop_reply, b->stop_reply) ||
      !str_eq(a->start_reply, b->start_reply) ||
      !str_eq(a->help_reply, b->help_reply))
    return false;
  return true;
}

/* The webhook keys the notifier reads at each retry; the others set up
 * the HTTP client at start. */
static bool webhooks_live_eq(const sg_config_webhooks_t *a,
                             const sg_config_webhooks_t *b) {
  return a->retry_min_ms == b->retry_min_ms &&
         a->retry_max_ms == b->retry_max_ms && a->max_age_ms == b->max_age_ms;
}

/* ---- keys that need a restart -------------------------------------------- */

static void restart_add(sg_config_diff_t *d, bool differs, const char *key) {
  if (differs && d->n_restart < SG_CONFIG_DIFF_RESTART_MAX)
    d->restart[d->n_restart++] = key;
}

static bool listen_eq(const sg_config_listen_t *a,
                      const sg_config_listen_t *b) {
  return str_eq(a->host, b->host) && a->port == b->port;
}

static void restart_keys(const sg_config_t *o, const sg_config_t *n,
                         sg_config_diff_t *d) {
  const sg_config_store_t *os = &o->store, *ns = &n->store;
  restart_add(d, os->driver != ns->driver, "store.driver");
  restart_add(d, !str_eq(os->path, ns->path), "store.path");
  restart_add(d, os->synchronous != ns->synchronous, "store.synchronous");
  restart_add(d, !str_eq(os->url, ns->url), "store.url");
  restart_add(d, os->max_batch != ns->max_batch, "store.max_batch");
  restart_add(d,
              os->unmatched_receipt_keep_ms != ns->unmatched_receipt_keep_ms,
              "store.unmatched_receipt_keep");
  restart_add(d, os->sync_pipeline != ns->sync_pipeline,
              "store.sync_pipeline");
  restart_add(d, os->traffic_keep_ms != ns->traffic_keep_ms,
              "store.traffic_keep");
  restart_add(d, os->count_timeout_ms != ns->count_timeout_ms,
              "store.count_timeout");
  const sg_config_http_t *oh = &o->http, *nh = &n->http;
  restart_add(d, !listen_eq(&oh->listen, &nh->listen), "http.listen");
  restart_add(d,
              oh->max_body != nh->max_body ||
                  oh->max_connections != nh->max_connections ||
                  oh->timeout_ms != nh->timeout_ms || oh->web != nh->web,
              "http");
  restart_add(d,
              !str_eq(oh->tls_cert, nh->tls_cert) ||
                  !str_eq(oh->tls_key, nh->tls_key),
              "http.tls_cert");
  const sg_config_simulator_t *om = &o->simulator, *nm = &n->simulator;
  restart_add(
      d, om->enabled != nm->enabled || !listen_eq(&om->listen, &nm->listen),
      "simulator.listen");
  restart_add(d,
              !str_eq(om->system_id, nm->system_id) ||
                  !str_eq(om->password, nm->password) ||
                  om->dlr_delay_ms != nm->dlr_delay_ms ||
                  om->submit_delay_ms != nm->submit_delay_ms ||
                  om->tps != nm->tps ||
                  memcmp(&om->dlr_mix, &nm->dlr_mix, sizeof om->dlr_mix) != 0,
              "simulator");
  const sg_config_smpp_server_t *op = &o->smpp_server, *np = &n->smpp_server;
  restart_add(d,
              op->enabled != np->enabled ||
                  !listen_eq(&op->listen, &np->listen) ||
                  !listen_eq(&op->tls_listen, &np->tls_listen),
              "smpp_server.listen");
  restart_add(
      d,
      !str_eq(op->cert, np->cert) || !str_eq(op->key, np->key) ||
          op->max_sessions != np->max_sessions || op->window != np->window ||
          op->enquire_link_interval_ms != np->enquire_link_interval_ms ||
          op->receipt_max_age_ms != np->receipt_max_age_ms ||
          op->bind_fail_delay_ms != np->bind_fail_delay_ms ||
          op->bind_fail_max != np->bind_fail_max,
      "smpp_server");
  restart_add(d, o->log.level != n->log.level, "log.level");
  restart_add(d, o->log.format != n->log.format, "log.format");
  const sg_config_webhooks_t *ow = &o->webhooks, *nw = &n->webhooks;
  restart_add(d,
              ow->timeout_ms != nw->timeout_ms ||
                  ow->connect_timeout_ms != nw->connect_timeout_ms,
              "webhooks.timeout");
  restart_add(d, ow->allow_private_networks != nw->allow_private_networks,
              "webhooks.allow_private_networks");
  restart_add(d, ow->concurrency != nw->concurrency, "webhooks.concurrency");
  restart_add(d, ow->thread != nw->thread, "webhooks.thread");
  restart_add(d, ow->pipeline != nw->pipeline, "webhooks.pipeline");
  restart_add(d, ow->claim_ahead != nw->claim_ahead, "webhooks.claim_ahead");
  const sg_config_inbound_t *oi = &o->inbound, *ni = &n->inbound;
  restart_add(d, !inrules_eq(oi, ni), "inbound.rules");
  restart_add(d, !str_eq(oi->catch_all, ni->catch_all), "inbound.catch_all");
  restart_add(d,
              oi->reply_limit != ni->reply_limit ||
                  oi->reply_window_ms != ni->reply_window_ms,
              "inbound.reply_limit");
}

/* ---- the diff ------------------------------------------------------------ */

int sg_config_diff(const sg_config_t *old, const sg_config_t *new_,
                   sg_config_diff_t *out) {
  if (out == NULL)
    return SG_EINVAL;
  memset(out, 0, sizeof *out);
  if (old == NULL || new_ == NULL)
    return SG_EINVAL;
  int rc = diff_list(old, old->n_connectors, new_, new_->n_connectors,
                     conn_name, conn_cmp, &out->connectors, &out->n_connectors);
  if (rc == 0)
    rc = diff_list(old, old->n_accounts, new_, new_->n_accounts, acct_name,
                   acct_cmp, &out->accounts, &out->n_accounts);
  if (rc != 0) {
    sg_config_diff_free(out);
    return rc;
  }
  out->routes = !routes_eq(old, new_);
  out->webhooks = !webhooks_live_eq(&old->webhooks, &new_->webhooks);
  out->inbound = !inbound_eq(&old->inbound, &new_->inbound);
  restart_keys(old, new_, out);
  return 0;
}

void sg_config_diff_free(sg_config_diff_t *d) {
  if (d == NULL)
    return;
  sg_free(d->connectors);
  sg_free(d->accounts);
  memset(d, 0, sizeof *d);
}

bool sg_config_diff_empty(const sg_config_diff_t *d) {
  for (size_t i = 0; i < d->n_connectors; i++)
    if (d->connectors[i].change != SG_CONFIG_SAME)
      return false;
  for (size_t i = 0; i < d->n_accounts; i++)
    if (d->accounts[i].change != SG_CONFIG_SAME)
      return false;
  return !d->routes && !d->webhooks && !d->inbound && d->n_restart == 0;
}

const char *sg_config_change_name(sg_config_change_t c) {
  switch (c) {
  case SG_CONFIG_SAME:
    return "same";
  case SG_CONFIG_ADDED:
    return "added";
  case SG_CONFIG_REMOVED:
    return "removed";
  case SG_CONFIG_CHANGED:
    return "changed";
  case SG_CONFIG_REBIND:
    return "rebind";
  }
  return "?";
}
