/* route_admin.c - the routing table and the connectors as an operator
 * changes them at run time (route_admin.h): the saved table and paused
 * connectors loaded at start, a new table checked, saved and then swapped
 * in, the dry run of /v1/routes/test, and each connector's state as JSON.
 *
 * A change is in use only after the store committed it, and a change that
 * fails (a bad rule, a failed commit) leaves the table as it was. This
 * file must never talk to a connector's protocol; it sets the engine's
 * pause flag and pokes the dispatcher.
 */
#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "core/error.h"
#include "engine/engine_int.h"
#include "engine/route_admin.h"

#define DOC_ROUTES "routes"
#define DOC_PAUSED "paused_connectors"

/* A change being saved: what to swap in after the commit. */
typedef struct change {
  sg_engine_t *e;
  sg_routes_t *table; /* new table, or NULL for a reset or a pause */
  bool reset;
  int conn; /* pause: connector index, else -1 */
  bool pause;
  sg_engine_done_cb cb;
  void *ud;
} change_t;

/* Frees what json_dumps returned, with jansson's allocator (which a
 * program may have pointed at core/alloc.h). */
static void jfree(char *s) {
  json_free_t f = NULL;
  json_get_alloc_funcs(NULL, &f);
  if (s != NULL && f != NULL)
    f(s);
}

/* ---- loading at start ---------------------------------------------------- */

typedef struct loader {
  sg_engine_t *e;
  void (*loaded)(sg_engine_t *e, int st);
} loader_t;

static void use_saved(sg_engine_t *e, const char *body, size_t len) {
  json_error_t jerr;
  json_t *doc = json_loadb(body, len, 0, &jerr);
  json_t *rules = json_object_get(doc, "routes");
  json_t *next = json_object_get(doc, "next_id");
  sg_route_defs_t defs;
  sg_route_err_t err = {0};
  int64_t next_id = json_is_integer(next) ? json_integer_value(next) : 1;
  sg_routes_t *t = NULL;
  int rc = doc == NULL
               ? SG_EINVAL
               : sg_route_defs_parse(rules, false, true, "routes", &defs, &err);
  if (rc == 0) {
    rc = sg_routes_new(defs.defs, defs.n, &e->routes_env, "routes", &next_id,
                       &t, &err);
    sg_route_defs_free(&defs);
  }
  json_decref(doc);
  if (rc != 0) {
    sg__log(e, SG_ENGINE_LOG_ERROR,
            "the routing table saved through the API does not fit this "
            "configuration (%s: %s); routing by the configuration's routes "
            "until it is replaced or reset",
            err.field[0] ? err.field : "document",
            err.message[0] ? err.message : "not readable");
    return;
  }
  sg_routes_free(e->routes);
  e->routes = t;
  e->routes_next_id = next_id;
  e->routes_from_store = true;
  sg__log(e, SG_ENGINE_LOG_INFO,
          "routing by the table saved through the API (%zu route(s))",
          sg_routes_count(t));
}

static void use_paused(sg_engine_t *e, const char *body, size_t len) {
  json_t *doc = json_loadb(body, len, 0, NULL);
  size_t i;
  json_t *v;
  json_array_foreach(doc, i, v) {
    int ci = json_is_string(v)
                 ? sg_engine_connector_index(e, json_string_value(v))
                 : -1;
    if (ci < 0)
      continue; /* no longer configured */
    e->conns[ci].paused = true;
    sg__log(e, SG_ENGINE_LOG_WARN,
            "connector %s is paused (since before "
            "the restart)",
            e->conns[ci].cfg->name);
  }
  json_decref(doc);
}

static void paused_read_cb(sg_store_t *st, int status, const char *body,
                           size_t len, void *data) {
  (void)st;
  loader_t *l = data;
  sg_engine_t *e = l->e;
  void (*loaded)(sg_engine_t *, int) = l->loaded;
  sg_free(l);
  sg__op_end(e);
  if (status == 0)
    use_paused(e, body, len);
  loaded(e, status == SG_ENOENT ? 0 : status);
}

static void routes_read_cb(sg_store_t *st, int status, const char *body,
                           size_t len, void *data) {
  loader_t *l = data;
  sg_engine_t *e = l->e;
  sg__op_end(e);
  e->routes_loaded = true;
  if (status == 0)
    use_saved(e, body, len);
  if (status == 0 || status == SG_ENOENT) {
    status = sg_store_setting_get(st, DOC_PAUSED, paused_read_cb, l);
    if (status == 0) {
      sg__op_begin(e);
      return;
    }
  }
  void (*loaded)(sg_engine_t *, int) = l->loaded;
  sg_free(l);
  loaded(e, status);
}

int sg__routes_load(sg_engine_t *e, void (*loaded)(sg_engine_t *e, int st)) {
  loader_t *l = sg_calloc(1, sizeof *l);
  if (l == NULL)
    return SG_ENOMEM;
  l->e = e;
  l->loaded = loaded;
  int rc = sg_store_setting_get(e->st, DOC_ROUTES, routes_read_cb, l);
  if (rc != 0) {
    sg_free(l);
    return rc;
  }
  sg__op_begin(e);
  return 0;
}

/* ---- changing the table -------------------------------------------------- */

const sg_routes_t *sg_engine_routes(sg_engine_t *e, bool *saved) {
  if (saved != NULL)
    *saved = e->routes_from_store;
  return e->routes;
}

static char *table_doc(const sg_routes_t *t, int64_t next_id, size_t *len) {
  json_t *arr = json_array();
  for (size_t i = 0; arr != NULL && i < sg_routes_count(t); i++)
    if (json_array_append_new(arr, sg_route_def_json(sg_routes_def(t, i))) !=
        0) {
      json_decref(arr);
      arr = NULL;
    }
  json_t *doc = arr != NULL
                    ? json_pack("{s:i, s:I, s:o}", "version", 1, "next_id",
                                (json_int_t)next_id, "routes", arr)
                    : NULL;
  char *s = doc != NULL ? json_dumps(doc, JSON_COMPACT) : NULL;
  json_decref(doc);
  *len = s != NULL ? strlen(s) : 0;
  return s;
}

static void apply(change_t *ch) {
  sg_engine_t *e = ch->e;
  if (ch->conn >= 0) {
    sg__conn_t *c = &e->conns[ch->conn];
    c->paused = ch->pause;
    sg__log(e, SG_ENGINE_LOG_WARN, "connector %s is %s by the operator",
            c->cfg->name, ch->pause ? "paused" : "resumed");
    if (ch->pause) {
      sg__claim_wake(e, c); /* it takes no new part meanwhile */
      c->move_idle = false;
      sg__failover_pass(e); /* its queued parts move now */
    } else
      sg__poke(e, c->index);
    return;
  }
  sg_routes_t *t = ch->table;
  if (ch->reset) {
    if (sg_routes_from_config(e->cfg, &e->routes_env, &t) != 0)
      return; /* out of memory: the saved table stays in use */
    e->routes_next_id = (int64_t)e->cfg->n_routes + 1;
  }
  sg_routes_free(e->routes);
  e->routes = t;
  ch->table = NULL;
  e->routes_from_store = !ch->reset;
  sg__log(e, SG_ENGINE_LOG_INFO, "routing table %s: %zu route(s)",
          ch->reset ? "reset to the configuration" : "replaced",
          sg_routes_count(t));
  sg__poke_all(e);
}

static void saved_cb(sg_store_t *st, int status, void *data) {
  (void)st;
  change_t *ch = data;
  sg_engine_t *e = ch->e;
  sg__op_end(e);
  e->routes_saving = false;
  if (status == 0)
    apply(ch);
  sg_routes_free(ch->table);
  if (ch->cb != NULL)
    ch->cb(e, status, ch->ud);
  sg_free(ch);
  sg__maybe_stopped(e);
}

/* Saves body (NULL: deletes) under name, then applies ch. Takes ch. */
static int save(sg_engine_t *e, const char *name, char *body, size_t len,
                change_t *ch) {
  int rc = sg_store_setting_put(e->st, name, body, len, saved_cb, ch);
  jfree(body);
  if (rc != 0) {
    sg_routes_free(ch->table);
    sg_free(ch);
    return rc;
  }
  e->routes_saving = true;
  sg__op_begin(e);
  return 0;
}

static change_t *change_new(sg_engine_t *e, sg_engine_done_cb cb, void *ud) {
  change_t *ch = sg_calloc(1, sizeof *ch);
  if (ch != NULL) {
    ch->e = e;
    ch->conn = -1;
    ch->cb = cb;
    ch->ud = ud;
  }
  return ch;
}

static int can_change(const sg_engine_t *e) {
  if (e->state != SG__RUNNING)
    return SG_ECLOSED;
  return e->routes_saving ? SG_EBUSY : 0;
}

int sg_engine_routes_replace(sg_engine_t *e, const sg_route_def_t *defs,
                             size_t n, const char *field_base,
                             sg_route_err_t *err, sg_engine_done_cb cb,
                             void *ud) {
  int rc = can_change(e);
  if (rc != 0)
    return rc;
  int64_t next = e->routes_next_id;
  sg_routes_t *t = NULL;
  rc = sg_routes_new(defs, n, &e->routes_env, field_base, &next, &t, err);
  if (rc != 0)
    return rc;
  size_t len;
  char *body = table_doc(t, next, &len);
  change_t *ch = change_new(e, cb, ud);
  if (body == NULL || ch == NULL) {
    jfree(body);
    sg_free(ch);
    sg_routes_free(t);
    return SG_ENOMEM;
  }
  ch->table = t;
  rc = save(e, DOC_ROUTES, body, len, ch);
  if (rc == 0)
    e->routes_next_id = next; /* ids given out are never given again */
  return rc;
}

int sg_engine_routes_reset(sg_engine_t *e, sg_engine_done_cb cb, void *ud) {
  int rc = can_change(e);
  if (rc != 0)
    return rc;
  change_t *ch = change_new(e, cb, ud);
  if (ch == NULL)
    return SG_ENOMEM;
  ch->reset = true;
  return save(e, DOC_ROUTES, NULL, 0, ch);
}

/* ---- connectors ---------------------------------------------------------- */

int sg_engine_connector_index(sg_engine_t *e, const char *name) {
  for (size_t i = 0; name != NULL && i < e->n_conns; i++)
    if (!e->conns[i].retired && strcmp(e->conns[i].cfg->name, name) == 0)
      return (int)i;
  return -1;
}

size_t sg_engine_connector_count(sg_engine_t *e) {
  return e->n_conns;
}

static char *paused_doc(const sg_engine_t *e, int ci, bool pause, size_t *len) {
  json_t *arr = json_array();
  for (size_t i = 0; arr != NULL && i < e->n_conns; i++) {
    bool p = (int)i == ci ? pause : e->conns[i].paused && !e->conns[i].retired;
    if (p && json_array_append_new(arr, json_string(e->conns[i].cfg->name)))
      break;
  }
  char *s = arr != NULL ? json_dumps(arr, JSON_COMPACT) : NULL;
  json_decref(arr);
  *len = s != NULL ? strlen(s) : 0;
  return s;
}

int sg_engine_connector_pause(sg_engine_t *e, const char *name, bool pause,
                              sg_engine_done_cb cb, void *ud) {
  int ci = sg_engine_connector_index(e, name);
  if (ci < 0)
    return SG_ENOENT;
  int rc = can_change(e);
  if (rc != 0)
    return rc;
  size_t len;
  char *body = paused_doc(e, ci, pause, &len);
  change_t *ch = change_new(e, cb, ud);
  if (body == NULL || ch == NULL) {
    jfree(body);
    sg_free(ch);
    return SG_ENOMEM;
  }
  ch->conn = ci;
  ch->pause = pause;
  return save(e, DOC_PAUSED, body, len, ch);
}

void sg__conns_rate_tick(sg_engine_t *e) {
  int64_t now = sg__now_ms(e);
  for (size_t i = 0; i < e->n_conns; i++) {
    sg__conn_t *c = &e->conns[i];
    if (c->rate_prev_ms != 0 && now > c->rate_prev_ms)
      c->rate = (double)(c->results_sent - c->rate_prev) * 1000.0 /
                (double)(now - c->rate_prev_ms);
    c->rate_prev = c->results_sent;
    c->rate_prev_ms = now;
  }
}
