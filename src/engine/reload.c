/* reload.c - a new configuration put in force while the engine runs
 * (reload.h): compares it with the one in force, checks everything that
 * could refuse it before changing anything, then starts, drains, re-binds
 * or re-tunes connectors, swaps the routing table, updates the accounts of
 * the file, and answers with a JSON report of what changed.
 *
 * Every configuration a reload replaced stays allocated until the engine
 * is freed: requests, sessions and connectors in flight still point into
 * it. This file must never talk to a connector's protocol (dispatch.c
 * opens and retires connectors) nor write to the store other than to find
 * or create the row of an added account.
 */
#include "engine/reload.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "connector/smpp_client.h"
#include "core/alloc.h"
#include "core/config_diff.h"
#include "core/error.h"
#include "engine/engine_int.h"

/* What reloads keep for the engine's life. */
struct sg__reload {
  sg_config_t **cfgs; /* replaced configurations, then the one in force */
  size_t n_cfgs;
  sg_config_account_t **gone; /* disabled copies of removed accounts */
  size_t n_gone;
  sg_config_connector_t *env; /* the routing env's connectors */
  bool busy;
  unsigned count;
};

/* One reload in progress. */
typedef struct op {
  sg_engine_t *e;
  sg_config_t *cfg;
  sg_config_diff_t d;
  json_t *report;
  size_t next_add; /* accounts: the next item to look at */
  sg_engine_reload_cb cb;
  void *ud;
  uv_timer_t *timer; /* answers on the next loop turn */
  int status;
  char message[256];
  char field[64];
} op_t;

static struct sg__reload *state_of(sg_engine_t *e) {
  if (e->reload == NULL)
    e->reload = sg_calloc(1, sizeof *e->reload);
  return e->reload;
}

static int keep_ptr(void ***arr, size_t *n, void *p) {
  void **v = sg_realloc(*arr, (*n + 1) * sizeof *v);
  if (v == NULL)
    return SG_ENOMEM;
  v[(*n)++] = p;
  *arr = v;
  return 0;
}

void sg__reload_free(sg_engine_t *e) {
  struct sg__reload *r = e->reload;
  if (r == NULL)
    return;
  for (size_t i = 0; i < r->n_cfgs; i++)
    sg_config_free(r->cfgs[i]);
  for (size_t i = 0; i < r->n_gone; i++)
    sg_free(r->gone[i]);
  sg_free(r->cfgs);
  sg_free(r->gone);
  sg_free(r->env);
  sg_free(r);
  e->reload = NULL;
}

const sg_config_t *sg_engine_config(const sg_engine_t *e) {
  return e != NULL ? e->cfg : NULL;
}

bool sg_engine_connector_retired(const sg_engine_t *e, size_t i) {
  return e != NULL && i < e->n_conns && e->conns[i].retired;
}

unsigned sg_engine_reloads(const sg_engine_t *e) {
  return e != NULL && e->reload != NULL ? e->reload->count : 0;
}

/* ---- looking things up --------------------------------------------------- */

static const sg_config_diff_item_t *conn_item(const op_t *op,
                                              const char *name) {
  for (size_t i = 0; i < op->d.n_connectors; i++)
    if (strcmp(op->d.connectors[i].name, name) == 0)
      return &op->d.connectors[i];
  return NULL;
}

static sg__account_t *account_named(sg_engine_t *e, const char *name) {
  for (size_t i = 0; i < e->n_accounts; i++)
    if (strcmp(e->accounts[i].pub.name, name) == 0)
      return &e->accounts[i];
  return NULL;
}

static bool starts_conn(sg_config_change_t c) {
  return c == SG_CONFIG_ADDED || c == SG_CONFIG_REBIND;
}

static bool ends_conn(sg_config_change_t c) {
  return c == SG_CONFIG_REMOVED || c == SG_CONFIG_REBIND;
}

static int refuse(op_t *op, int status, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int refuse(op_t *op, int status, const char *field, const char *fmt,
                  ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(op->message, sizeof op->message, fmt, ap);
  va_end(ap);
  snprintf(op->field, sizeof op->field, "%s", field ? field : "");
  op->status = status;
  return status;
}

/* ---- checks before anything changes -------------------------------------- */

/* The routing env's connectors after the reload, in engine index order:
 * those that stay with their new settings, those that end with no name
 * (no rule can name them), then the ones that start. */
static sg_config_connector_t *env_build(op_t *op, size_t *n_out) {
  sg_engine_t *e = op->e;
  size_t n_new = 0;
  for (size_t i = 0; i < op->d.n_connectors; i++)
    n_new += starts_conn(op->d.connectors[i].change);
  sg_config_connector_t *env = sg_calloc(e->n_conns + n_new + 1, sizeof *env);
  if (env == NULL)
    return NULL;
  for (size_t i = 0; i < e->n_conns; i++) {
    const sg__conn_t *c = &e->conns[i];
    const sg_config_diff_item_t *it =
        c->retired ? NULL : conn_item(op, c->cfg->name);
    if (it != NULL && !ends_conn(it->change)) {
      env[i] = op->cfg->connectors[it->new_index];
    } else {
      env[i] = *c->cfg;
      env[i].name = "";
    }
  }
  size_t k = e->n_conns;
  for (size_t i = 0; i < op->d.n_connectors; i++)
    if (starts_conn(op->d.connectors[i].change))
      env[k++] = op->cfg->connectors[op->d.connectors[i].new_index];
  *n_out = k;
  return env;
}

/* The table in force rebuilt for the new connectors: the file's routes, or
 * while the API's saved table is used, that table. */
static int routes_build(op_t *op, sg_routes_t **out) {
  sg_engine_t *e = op->e;
  if (!e->routes_from_store)
    return sg_routes_from_config(op->cfg, &e->routes_env, out);
  size_t n = sg_routes_count(e->routes);
  sg_route_def_t *defs = sg_calloc(n ? n : 1, sizeof *defs);
  if (defs == NULL)
    return SG_ENOMEM;
  for (size_t i = 0; i < n; i++)
    defs[i] = *sg_routes_def(e->routes, i);
  int64_t next = e->routes_next_id;
  sg_route_err_t err = {0};
  int rc = sg_routes_new(defs, n, &e->routes_env, "routes", &next, out, &err);
  sg_free(defs);
  if (rc == SG_EINVAL)
    return refuse(op, SG_EINVAL, err.field,
                  "the routing table saved through the API does not fit the "
                  "new configuration: %s (change or reset it first)",
                  err.message);
  return rc;
}

/* Accounts: a region the phone metadata knows, room, and no clash with an
 * account made through the API. */
static int accounts_check(op_t *op) {
  sg_engine_t *e = op->e;
  size_t added = 0;
  for (size_t i = 0; i < op->d.n_accounts; i++) {
    const sg_config_diff_item_t *it = &op->d.accounts[i];
    if (it->change != SG_CONFIG_ADDED && it->change != SG_CONFIG_CHANGED)
      continue;
    sg__account_t tmp;
    memset(&tmp, 0, sizeof tmp);
    if (sg__account_fill(e, &tmp, &op->cfg->accounts[it->new_index]) != 0)
      return refuse(op, SG_EINVAL, "accounts",
                    "account %s: a default_region or destination the phone "
                    "metadata does not know",
                    it->name);
    const sg__account_t *had = account_named(e, it->name);
    if (it->change == SG_CONFIG_ADDED && had == NULL)
      added++;
    sg_engine_account_info_t info;
    if (it->change == SG_CONFIG_ADDED && had != NULL &&
        (sg_engine_account_info(e, &had->pub, &info), info.api))
      return refuse(op, SG_EINVAL, "accounts",
                    "account %s exists (made through the API); the file's "
                    "settings for it take over at the next start",
                    it->name);
  }
  if (e->n_accounts + added > e->accounts_cap)
    return refuse(op, SG_ENOSPC, "accounts", "no room for more accounts");
  return 0;
}

static int check_all(op_t *op, sg_routes_t **table,
                     sg_config_connector_t **env) {
  sg_engine_t *e = op->e;
  size_t n_env = 0;
  *env = env_build(op, &n_env);
  if (*env == NULL)
    return refuse(op, SG_ENOMEM, NULL, "out of memory");
  if (n_env > e->conns_cap)
    return refuse(op, SG_ENOSPC, "connectors",
                  "no room for more connectors until smsgate is restarted "
                  "(at most %d added or re-bound by reloads)",
                  SG_ENGINE_RELOAD_CONNS_MAX);
  int rc = accounts_check(op);
  if (rc != 0)
    return rc;
  sg_routes_env_t old = e->routes_env;
  e->routes_env =
      (sg_routes_env_t){*env, n_env, op->cfg->accounts, op->cfg->n_accounts};
  rc = routes_build(op, table);
  if (rc != 0) {
    e->routes_env = old;
    if (op->status == 0)
      refuse(op, rc, "routes", "the routes cannot be built: %s",
             sg_strerror(rc));
    return op->status;
  }
  return 0;
}

/* ---- applying ------------------------------------------------------------ */

static void apply_connectors(op_t *op) {
  sg_engine_t *e = op->e;
  size_t n_old = e->n_conns;
  for (size_t i = 0; i < n_old; i++) {
    sg__conn_t *c = &e->conns[i];
    const sg_config_diff_item_t *it =
        c->retired ? NULL : conn_item(op, c->cfg->name);
    if (it == NULL)
      continue;
    if (ends_conn(it->change)) {
      sg__log(e, SG_ENGINE_LOG_INFO, "reload: connector %s %s", it->name,
              it->change == SG_CONFIG_REMOVED ? "removed: draining"
                                              : "changed: binding again");
      sg__conn_retire(e, i);
      continue;
    }
    c->cfg = &op->cfg->connectors[it->new_index];
    if (it->change == SG_CONFIG_CHANGED && c->c != NULL &&
        c->cfg->type == SG_CONFIG_CONNECTOR_SMPP) {
      sg_smpp_client_retune(c->c, c->cfg->tps, c->cfg->max_retries);
      sg__log(e, SG_ENGINE_LOG_INFO,
              "reload: connector %s changed in place (%s)", it->name, it->keys);
    }
  }
  for (size_t i = 0; i < op->d.n_connectors; i++) {
    const sg_config_diff_item_t *it = &op->d.connectors[i];
    if (!starts_conn(it->change))
      continue;
    size_t k = e->n_conns++;
    sg__conn_t *c = &e->conns[k];
    memset(c, 0, sizeof *c);
    c->e = e;
    c->index = k;
    c->cfg = &op->cfg->connectors[it->new_index];
    c->stopped = true;
    int rc = sg__conn_open(e, k);
    if (rc != 0)
      sg__log(e, SG_ENGINE_LOG_ERROR,
              "reload: connector %s cannot start: %s (it stays down)", it->name,
              sg_strerror(rc));
  }
}

/* A removed account keeps its row and messages; its credentials are
 * refused from now on, as a disabled account's. */
static void account_remove(op_t *op, sg__account_t *a) {
  struct sg__reload *r = op->e->reload;
  sg_config_account_t *copy = sg_malloc(sizeof *copy);
  if (copy == NULL || keep_ptr((void ***)&r->gone, &r->n_gone, copy) != 0) {
    sg_free(copy);
    a->has_key = a->has_password = a->has_smpp = false;
    return;
  }
  *copy = *a->pub.cfg;
  copy->disabled = true;
  sg__account_fill(op->e, a, copy);
}

static void apply_accounts(op_t *op) {
  sg_engine_t *e = op->e;
  for (size_t i = 0; i < op->d.n_accounts; i++) {
    const sg_config_diff_item_t *it = &op->d.accounts[i];
    sg__account_t *a = account_named(e, it->name);
    if (a == NULL)
      continue; /* added: after its store row is found (add_next) */
    if (it->change == SG_CONFIG_REMOVED)
      account_remove(op, a);
    else
      sg__account_fill(e, a, &op->cfg->accounts[it->new_index]);
    /* The SMPP server unbinds a disabled account's sessions and refuses
     * its binds from now on; other changes of its settings reach it at
     * the next start (its password hashes are made there). */
    if (a->pub.cfg->disabled)
      sg__admin_notify(e, &a->pub);
  }
}

/* What the new configuration cannot change keeps its running value, so
 * that e->cfg always says what runs. */
static void keep_running_values(sg_config_t *n, const sg_config_t *o) {
  n->store = o->store;
  n->http = o->http;
  n->simulator = o->simulator;
  n->smpp_server = o->smpp_server;
  n->log = o->log;
  n->webhooks.timeout_ms = o->webhooks.timeout_ms;
  n->webhooks.connect_timeout_ms = o->webhooks.connect_timeout_ms;
  n->webhooks.allow_private_networks = o->webhooks.allow_private_networks;
  n->webhooks.concurrency = o->webhooks.concurrency;
  n->webhooks.thread = o->webhooks.thread;
  n->webhooks.pipeline = o->webhooks.pipeline;
  n->webhooks.claim_ahead = o->webhooks.claim_ahead;
  n->inbound.rules = o->inbound.rules;
  n->inbound.n_rules = o->inbound.n_rules;
  n->inbound.catch_all = o->inbound.catch_all;
  n->inbound.reply_limit = o->inbound.reply_limit;
  n->inbound.reply_window_ms = o->inbound.reply_window_ms;
}

/* ---- the report ---------------------------------------------------------- */

static json_t *names_of(const sg_config_diff_item_t *v, size_t n,
                        sg_config_change_t c, bool keys) {
  json_t *a = json_array();
  for (size_t i = 0; a != NULL && i < n; i++) {
    if (v[i].change != c)
      continue;
    json_t *x =
        keys ? json_pack("{s:s, s:s}", "name", v[i].name, "keys", v[i].keys)
             : json_string(v[i].name);
    json_array_append_new(a, x);
  }
  return a;
}

/* Whether the reload changes anything it applies (keys that need a
 * restart are listed apart). */
static bool applies_any(const sg_config_diff_t *d) {
  for (size_t i = 0; i < d->n_connectors; i++)
    if (d->connectors[i].change != SG_CONFIG_SAME)
      return true;
  for (size_t i = 0; i < d->n_accounts; i++)
    if (d->accounts[i].change != SG_CONFIG_SAME)
      return true;
  return d->routes || d->webhooks || d->inbound;
}

static json_t *report_build(op_t *op, const char *routes) {
  const sg_config_diff_t *d = &op->d;
  const sg_config_diff_item_t *c = d->connectors, *a = d->accounts;
  size_t nc = d->n_connectors, na = d->n_accounts;
  json_t *restart = json_array();
  for (size_t i = 0; restart != NULL && i < d->n_restart; i++)
    json_array_append_new(restart, json_string(d->restart[i]));
  for (size_t i = 0; restart != NULL && i < na; i++)
    if (strstr(a[i].keys, "smpp") != NULL ||
        (a[i].change == SG_CONFIG_ADDED &&
         op->cfg->accounts[a[i].new_index].smpp.system_id != NULL)) {
      json_array_append_new(restart, json_string("accounts.smpp"));
      break;
    }
  return json_pack(
      "{s:b, s:{s:o, s:o, s:o, s:o, s:o}, s:s, s:{s:o, s:o, s:o}, s:b, s:b,"
      " s:o}",
      "changed", applies_any(d), "connectors", "added",
      names_of(c, nc, SG_CONFIG_ADDED, false), "removed",
      names_of(c, nc, SG_CONFIG_REMOVED, false), "rebound",
      names_of(c, nc, SG_CONFIG_REBIND, true), "changed",
      names_of(c, nc, SG_CONFIG_CHANGED, true), "unchanged",
      names_of(c, nc, SG_CONFIG_SAME, false), "routes", routes, "accounts",
      "added", names_of(a, na, SG_CONFIG_ADDED, false), "removed",
      names_of(a, na, SG_CONFIG_REMOVED, false), "changed",
      names_of(a, na, SG_CONFIG_CHANGED, true), "webhooks", d->webhooks,
      "inbound", d->inbound, "restart_required",
      restart ? restart : json_array());
}

/* ---- answering ----------------------------------------------------------- */

static void op_free(op_t *op) {
  sg_config_diff_free(&op->d);
  json_decref(op->report);
  sg_free(op);
}

static void timer_closed_cb(uv_handle_t *h) {
  sg_engine_t *e = h->data;
  sg_free(h);
  e->handles_open--;
  sg__maybe_stopped(e);
}

static void finish(op_t *op) {
  sg_engine_t *e = op->e;
  char *text = op->status == 0 && op->report != NULL
                   ? json_dumps(op->report, JSON_COMPACT)
                   : NULL;
  sg_engine_reload_res_t res = {op->status,
                                op->status != 0 ? op->message : NULL,
                                op->field[0] ? op->field : NULL, text};
  if (op->status == 0 && text == NULL) {
    res.status = SG_ENOMEM;
    res.message = "out of memory";
  }
  e->reload->busy = false;
  op->cb(e, &res, op->ud); /* res points into op */
  op_free(op);
  json_free_t f = NULL;
  json_get_alloc_funcs(NULL, &f);
  if (text != NULL && f != NULL)
    f(text);
}

static void answer_cb(uv_timer_t *t) {
  op_t *op = t->data;
  t->data = op->e;
  uv_close((uv_handle_t *)t, timer_closed_cb);
  finish(op);
}

/* Answers on the next loop turn (the callback never fires inside
 * sg_engine_reload). */
static void answer_later(op_t *op) {
  uv_timer_t *t = sg_malloc(sizeof *t);
  if (t == NULL) {
    finish(op); /* out of memory: answer now rather than never */
    return;
  }
  uv_timer_init(op->e->loop, t);
  op->e->handles_open++;
  t->data = op;
  uv_timer_start(t, answer_cb, 0, 0);
}

/* ---- accounts the file adds: their store rows ---------------------------- */

static void add_next(op_t *op);

static void account_install(op_t *op, int64_t id) {
  sg_engine_t *e = op->e;
  const sg_config_diff_item_t *it = &op->d.accounts[op->next_add];
  sg__account_t *a = &e->accounts[e->n_accounts];
  memset(a, 0, sizeof *a);
  sg__account_fill(e, a, &op->cfg->accounts[it->new_index]);
  a->pub.id = id;
  e->n_accounts++;
  sg__log(e, SG_ENGINE_LOG_INFO, "reload: account %s added (id %lld)", it->name,
          (long long)id);
  op->next_add++;
  add_next(op);
}

static void created_cb(sg_store_t *st, int status, int64_t id, void *data) {
  (void)st;
  op_t *op = data;
  sg__op_end(op->e);
  if (status != 0) {
    refuse(op, SG_EIO, "accounts", "account %s: the store failed: %s",
           op->d.accounts[op->next_add].name, sg_strerror(status));
    answer_later(op);
    return;
  }
  account_install(op, id);
}

static void found_cb(sg_store_t *st, int status, const sg_store_account_t *a,
                     void *data) {
  op_t *op = data;
  sg_engine_t *e = op->e;
  sg__op_end(e);
  if (status == 0) {
    account_install(op, a->id);
    return;
  }
  const sg_config_account_t *ca =
      &op->cfg->accounts[op->d.accounts[op->next_add].new_index];
  sg_store_account_t na = {0};
  na.name = ca->name;
  na.webhook_url = ca->callback_url;
  int rc = status == SG_ENOENT
               ? sg_store_account_create(st, &na, created_cb, op)
               : status;
  if (rc == 0) {
    sg__op_begin(e);
    return;
  }
  refuse(op, SG_EIO, "accounts", "account %s: the store failed: %s", ca->name,
         sg_strerror(rc));
  answer_later(op);
}

static void add_next(op_t *op) {
  sg_engine_t *e = op->e;
  /* Added accounts not in the engine yet; one removed by an earlier
   * reload and now back was filled again by apply_accounts. */
  while (op->next_add < op->d.n_accounts &&
         (op->d.accounts[op->next_add].change != SG_CONFIG_ADDED ||
          account_named(e, op->d.accounts[op->next_add].name) != NULL))
    op->next_add++;
  if (op->next_add == op->d.n_accounts || e->state != SG__RUNNING) {
    /* Claims waiting in the store wait on: a reload moves no part (a
     * removed connector's claims were answered as it was retired). */
    sg__poke_idle_all(e);
    answer_later(op);
    return;
  }
  int rc = sg_store_account_by_name(e->st, op->d.accounts[op->next_add].name,
                                    found_cb, op);
  if (rc != 0) {
    refuse(op, SG_EIO, "accounts", "the store is busy: %s", sg_strerror(rc));
    answer_later(op);
    return;
  }
  sg__op_begin(e);
}

/* ---- the entry point ----------------------------------------------------- */

static void apply(op_t *op, sg_routes_t *table, sg_config_connector_t *env) {
  sg_engine_t *e = op->e;
  struct sg__reload *r = e->reload;
  const char *routes = e->routes_from_store ? "saved_table_kept"
                       : op->d.routes       ? "replaced"
                                            : "unchanged";
  op->report = report_build(op, routes);
  apply_accounts(op);
  apply_connectors(op);
  sg_routes_free(e->routes);
  e->routes = table;
  if (!e->routes_from_store)
    e->routes_next_id = (int64_t)op->cfg->n_routes + 1;
  sg_free(r->env);
  r->env = env;
  keep_running_values(op->cfg, e->cfg);
  e->cfg = op->cfg;
  r->count++;
  sg__log(e, SG_ENGINE_LOG_INFO,
          "configuration reloaded: %zu connector(s), %zu route(s)",
          op->cfg->n_connectors, sg_routes_count(table));
  add_next(op);
}

int sg_engine_reload(sg_engine_t *e, sg_config_t *cfg, sg_engine_reload_cb cb,
                     void *ud) {
  if (e == NULL || cfg == NULL || cb == NULL) {
    sg_config_free(cfg);
    return SG_EINVAL;
  }
  struct sg__reload *r = state_of(e);
  int rc = r == NULL                     ? SG_ENOMEM
           : e->state != SG__RUNNING     ? SG_ESTATE
           : r->busy || e->routes_saving ? SG_EBUSY
                                         : 0;
  op_t *op = rc == 0 ? sg_calloc(1, sizeof *op) : NULL;
  if (rc == 0 && op == NULL)
    rc = SG_ENOMEM;
  if (rc == 0 &&
      keep_ptr((void ***)&r->cfgs, &r->n_cfgs, cfg) != 0) /* kept from now */
    rc = SG_ENOMEM;
  if (rc != 0) {
    sg_free(op);
    sg_config_free(cfg);
    return rc;
  }
  *op = (op_t){.e = e, .cfg = cfg, .cb = cb, .ud = ud};
  r->busy = true;
  sg_routes_t *table = NULL;
  sg_config_connector_t *env = NULL;
  rc = sg_config_diff(e->cfg, cfg, &op->d);
  if (rc != 0)
    refuse(op, rc, NULL, "out of memory");
  else
    rc = check_all(op, &table, &env);
  if (rc != 0) {
    sg_free(env);
    r->cfgs[--r->n_cfgs] = NULL; /* refused: not kept */
    sg_config_diff_free(&op->d);
    sg__log(e, SG_ENGINE_LOG_WARN, "reload refused: %s", op->message);
    answer_later(op);
    sg_config_free(cfg);
    op->cfg = NULL;
    return 0;
  }
  apply(op, table, env);
  return 0;
}
