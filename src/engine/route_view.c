/* route_view.c - what an operator sees of routing (route_admin.h): the dry
 * run of a message through the table, rule by rule and connector by
 * connector, and each connector's state and counters as JSON.
 *
 * Read only: nothing here changes the table, a connector or the store.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "core/error.h"
#include "engine/engine_int.h"
#include "engine/route_admin.h"

static const char *link_state(sg_conn_state_t s) {
  switch (s) {
  case SG_CONN_DOWN:
    return "down";
  case SG_CONN_CONNECTING:
    return "connecting";
  case SG_CONN_UP:
    return "up";
  case SG_CONN_PAUSED:
    return "paused";
  case SG_CONN_STOPPED:
    return "stopped";
  }
  return "down";
}

/* What the operator sees: the engine's pause first, then the link. */
static const char *state_of(const sg__conn_t *c) {
  return c->paused ? "paused" : link_state(c->state);
}

/* ---- the dry run --------------------------------------------------------- */

static json_t *tried_json(sg_routes_t *t, const sg_route_msg_t *m) {
  json_t *arr = json_array();
  for (size_t i = 0; arr != NULL && i < sg_routes_count(t); i++) {
    char why[160];
    bool ok = sg_routes_match(t, i, m, why, sizeof why);
    json_t *o = json_pack("{s:I, s:i, s:b, s:s}", "id",
                          (json_int_t)sg_routes_def(t, i)->id, "position",
                          (int)i, "matched", ok, "reason", why);
    if (o == NULL || json_array_append_new(arr, o) != 0) {
      json_decref(arr);
      return NULL;
    }
  }
  return arr;
}

static json_t *price_json(double p) {
  return p < 0 ? json_null() : json_real(p);
}

/* The route's connectors in the order its strategy tries them. */
static json_t *candidates_json(sg_engine_t *e, int ri, const char *to,
                               size_t chosen) {
  json_t *arr = json_array();
  if (ri < 0 || arr == NULL)
    return arr;
  size_t order[SG_ROUTE_CONNECTORS_MAX];
  double prices[SG_ROUTE_CONNECTORS_MAX];
  size_t n = sg_routes_order(e->routes, (size_t)ri, to, order, prices);
  for (size_t k = 0; k < n; k++) {
    size_t ci = sg_routes_conn(e->routes, (size_t)ri, order[k]);
    const sg__conn_t *c = &e->conns[ci];
    const sg_route_def_t *d = sg_routes_def(e->routes, (size_t)ri);
    json_t *o = json_pack(
        "{s:s, s:s, s:b, s:o, s:I, s:b, s:b}", "name", c->cfg->name, "state",
        state_of(c), "paused", c->paused, "price", price_json(prices[k]),
        "weight", (json_int_t)(d->weights ? d->weights[order[k]] : 1), "usable",
        sg__conn_usable(e, ci), "chosen", ci == chosen);
    if (o == NULL || json_array_append_new(arr, o) != 0) {
      json_decref(arr);
      return NULL;
    }
  }
  return arr;
}

static const sg_engine_account_t *test_account(sg_engine_t *e, const char *name,
                                               sg_route_err_t *err) {
  if (name == NULL)
    return NULL;
  const sg_engine_account_t *a = sg_engine_account_by_name(e, name);
  if (a == NULL) {
    err->code = "unknown_account";
    snprintf(err->field, sizeof err->field, "account");
    snprintf(err->message, sizeof err->message, "no account named \"%.64s\"",
             name);
  }
  return a;
}

json_t *sg_engine_routes_test(sg_engine_t *e, const char *to,
                              const char *account, const char *from,
                              sg_config_msg_type_t type, sg_route_err_t *err) {
  memset(err, 0, sizeof *err);
  const sg_engine_account_t *a = test_account(e, account, err);
  if (account != NULL && a == NULL)
    return NULL;
  sg_phone_t ph;
  sg_phone_err_t perr;
  const char *region = a != NULL ? a->cfg->default_region : NULL;
  if (to == NULL ||
      sg_phone_normalize(e->phone, to, strlen(to), region, &ph, &perr) != 0) {
    err->code = "invalid_number";
    snprintf(err->field, sizeof err->field, "to");
    snprintf(err->message, sizeof err->message, "%s",
             to == NULL ? "'to' is required" : perr.text);
    return NULL;
  }
  if (from == NULL && a != NULL)
    from = a->cfg->default_sender;
  sg_route_msg_t m = {ph.e164, account, from, type};
  int ri = sg_routes_find(e->routes, &m);
  size_t chosen = ri >= 0 ? sg__route_pick(e, ri, ph.e164) : SIZE_MAX;
  json_t *route = ri >= 0
                      ? sg_route_def_json(sg_routes_def(e->routes, (size_t)ri))
                      : json_null();
  json_t *conn =
      ri >= 0 ? json_string(e->conns[chosen].cfg->name) : json_null();
  bool waits = ri >= 0 && !sg__conn_usable(e, chosen);
  return json_pack("{s:s, s:o, s:o, s:b, s:o, s:o, s:s}", "to", ph.e164,
                   "route", route, "connector", conn, "waits", waits, "tried",
                   tried_json(e->routes, &m), "connectors",
                   candidates_json(e, ri, ph.e164, chosen), "table",
                   e->routes_from_store ? "saved" : "configuration");
}

/* ---- connectors ---------------------------------------------------------- */

static json_t *prices_json(const sg_config_connector_t *cc) {
  json_t *o = json_object();
  for (size_t p = 0; o != NULL && p < cc->n_prices; p++)
    if (json_object_set_new(o, cc->prices[p].prefix,
                            json_real(cc->prices[p].price)) != 0) {
      json_decref(o);
      return NULL;
    }
  return o;
}

static json_t *time_or_null(int64_t ms) {
  if (ms <= 0)
    return json_null();
  char buf[32];
  time_t s = (time_t)(ms / 1000);
  struct tm tm;
  gmtime_r(&s, &tm);
  size_t n = strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  snprintf(buf + n, sizeof buf - n, ".%03dZ", (int)(ms % 1000));
  return json_string(buf);
}

/* The counters every connector has; a connector type adds its own keys in
 * sg_engine_connector_json. */
static json_t *common_json(const sg__conn_t *c, const sg_conn_stats_t *st) {
  return json_pack(
      "{s:s, s:s, s:s, s:s, s:b, s:i, s:i, s:i, s:i, s:i, s:i, s:I, s:f,"
      " s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I}",
      "name", c->cfg->name, "type",
      c->cfg->type == SG_CONFIG_CONNECTOR_MODEM  ? "modem"
        : c->cfg->type == SG_CONFIG_CONNECTOR_HTTP ? "http"
                                                   : "smpp", "state",
      state_of(c), "link", link_state(c->state), "paused", c->paused,
      "binds_up", (int)st->binds_up, "binds_total", (int)st->binds_total,
      "window_used", (int)st->window_used, "queued", (int)st->queued, "claimed",
      (int)c->used, "waiting", (int)c->wait_len, "backlog",
      (json_int_t)c->backlog, "rate", c->rate, "submitted",
      (json_int_t)st->submitted, "sent_ok", (json_int_t)st->sent_ok,
      "temp_errors", (json_int_t)st->temp_errors, "perm_errors",
      (json_int_t)st->perm_errors, "throttled", (json_int_t)st->throttled,
      "timeouts", (json_int_t)st->timeouts, "reconnects",
      (json_int_t)st->reconnects, "unknown_retries",
      (json_int_t)st->unknown_retries);
}

/* The modems of a modem connector: what /metrics shows as smsgate_modem_*. */
static json_t *modems_json(const sg_connector_t *k) {
  sg_conn_link_t links[SG_CONN_LINKS_MAX];
  size_t n = sg_connector_links(k, links, SG_CONN_LINKS_MAX);
  json_t *a = json_array();
  for (size_t j = 0; a != NULL && j < n; j++) {
    const sg_conn_link_t *l = &links[j];
    json_t *m = json_pack(
        "{s:s, s:b, s:b, s:i, s:i, s:b, s:s, s:s, s:i, s:I, s:I, s:I, s:I}",
        "device", l->name, "up", l->state == SG_CONN_UP, "healthy", l->healthy,
        "signal_rssi", l->signal_rssi, "signal_dbm", l->signal_dbm,
        "registered", l->registered, "registration",
        l->reg_stat < 0 ? "unknown" : sg_conn_reg_name(l->reg_stat),
        "operator", l->operator_, "queued", (int)l->queued, "sent",
        (json_int_t)l->sent, "received", (json_int_t)l->received, "errors",
        (json_int_t)l->errors, "resets", (json_int_t)l->resets);
    if (m == NULL || json_array_append_new(a, m) != 0) {
      json_decref(a);
      return NULL;
    }
  }
  return a;
}

json_t *sg_engine_connector_json(sg_engine_t *e, size_t i) {
  const sg__conn_t *c = &e->conns[i];
  sg_conn_stats_t st;
  memset(&st, 0, sizeof st);
  if (c->c != NULL)
    sg_connector_stats(c->c, &st);
  json_t *o = common_json(c, &st);
  json_t *results =
      json_pack("{s:I, s:I, s:I, s:I}", "sent", (json_int_t)c->results_sent,
                "temporary_failures", (json_int_t)c->results_tempfail,
                "permanent_failures", (json_int_t)c->results_permfail,
                "unknown", (json_int_t)c->results_unknown);
  if (o == NULL || results == NULL ||
      json_object_set_new(o, "results", results) != 0 ||
      json_object_set_new(o, "down_since", time_or_null(c->down_since_ms)) ||
      json_object_set_new(o, "prices", prices_json(c->cfg))) {
    json_decref(o);
    return NULL;
  }
  /* Connector types add their own state here: a modem connector, each
   * of its modems (one, or a pool). */
  if (c->c != NULL && c->cfg->type == SG_CONFIG_CONNECTOR_MODEM &&
      json_object_set_new(o, "modems", modems_json(c->c)) != 0) {
    json_decref(o);
    return NULL;
  }
  return o;
}
