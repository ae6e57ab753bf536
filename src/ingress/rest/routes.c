/* routes.c - the admin REST handlers of routing and connectors:
 *   GET    /v1/routes                   the table in use, in order
 *   PUT    /v1/routes                   {"routes": [...]} replaces it whole
 *   POST   /v1/routes                   one rule (+ "position") is added
 *   POST   /v1/routes/reset             back to the configuration's routes
 *   POST   /v1/routes/test              {to, account, from, type}: a dry run
 *   GET    /v1/routes/{id}              one rule
 *   PUT    /v1/routes/{id}              replaces one rule, in its place
 *   DELETE /v1/routes/{id}              removes one rule
 *   GET    /v1/connectors               every connector with its state
 *   GET    /v1/connectors/{name}        one connector
 *   POST   /v1/connectors/{name}/pause  takes no new parts
 *   POST   /v1/connectors/{name}/resume takes them again
 * Admin keys only (sg__rest_admin). A change is answered after the store
 * committed it; a bad request (422 naming the field) changes nothing.
 *
 * This file reads requests and writes answers; it must never decide a
 * route or check a rule against the connectors (the engine does both).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/error.h"
#include "engine/route_admin.h"
#include "engine/reload.h"
#include "ingress/rest/page.h"
#include "ingress/rest/rest_int.h"

static void err422(sg_http_req_t *req, const char *code, const char *field,
                   const char *msg) {
  sg__rest_error(req, 422, code, msg, field, 0);
}

static void route_error(sg_http_req_t *req, const sg_route_err_t *err) {
  err422(req, err->code != NULL ? err->code : "invalid_value",
         err->field[0] ? err->field : NULL, err->message);
}

/* The body as a JSON object whose keys are all in `keys` (NULL-ended);
 * NULL after answering. */
static json_t *body_object(sg_http_req_t *req, const char *const *keys,
                           const char *example) {
  size_t len = 0;
  const uint8_t *body = sg_http_req_body(req, &len);
  json_error_t jerr;
  json_t *o =
      json_loadb((const char *)body, len, JSON_REJECT_DUPLICATES, &jerr);
  if (o == NULL || !json_is_object(o)) {
    char msg[200];
    snprintf(msg, sizeof msg, "the body must be a JSON object such as %s",
             example);
    sg__rest_error(req, 400, "invalid_json", msg, NULL, 0);
    json_decref(o);
    return NULL;
  }
  const char *k;
  json_t *v;
  json_object_foreach(o, k, v) {
    bool known = false;
    for (size_t i = 0; keys[i] != NULL && !known; i++)
      known = strcmp(k, keys[i]) == 0;
    if (!known) {
      err422(req, "unknown_field", k, "unknown field");
      json_decref(o);
      return NULL;
    }
  }
  return o;
}

/* ---- the table ----------------------------------------------------------- */

static json_t *table_json(sg_engine_t *e) {
  bool saved = false;
  const sg_routes_t *t = sg_engine_routes(e, &saved);
  json_t *arr = json_array();
  for (size_t i = 0; arr != NULL && i < sg_routes_count(t); i++)
    if (json_array_append_new(arr, sg_route_def_json(sg_routes_def(t, i)))) {
      json_decref(arr);
      arr = NULL;
    }
  if (arr == NULL)
    return NULL;
  return json_pack("{s:o, s:s}", "routes", arr, "source",
                   saved ? "saved" : "configuration");
}

void sg__rest_routes_list_cb(sg_http_req_t *req, void *data) {
  sg_rest_t *rest = data;
  if (sg__rest_admin(rest, req) == NULL)
    return;
  sg__rest_json(req, 200, table_json(rest->engine));
}

/* A change's answer: the table (or, for one rule, that rule). */
typedef struct change_ctx {
  sg_http_req_t *req;
  int64_t id;      /* != 0: answer one rule (see changed_cb) */
  unsigned status; /* 200 or 201 */
  bool conn;       /* a connector's pause: answer the connector */
  char name[72];
} change_ctx_t;

static void changed_cb(sg_engine_t *e, int status, void *ud) {
  change_ctx_t *x = ud;
  sg_http_req_t *req = x->req;
  if (status != 0) {
    sg__rest_engine_error(req, status);
  } else if (x->conn) {
    int ci = sg_engine_connector_index(e, x->name);
    sg__rest_json(req, 200, sg_engine_connector_json(e, (size_t)ci));
  } else if (x->id != 0) {
    /* id > 0: that rule; id < 0: the rule at position -id - 1. */
    const sg_routes_t *t = sg_engine_routes(e, NULL);
    int i = x->id > 0 ? sg_routes_find_id(t, x->id) : (int)(-x->id - 1);
    sg__rest_json(req, x->status,
                  i >= 0 ? sg_route_def_json(sg_routes_def(t, (size_t)i))
                         : json_object());
  } else {
    sg__rest_json(req, 200, table_json(e));
  }
  sg_free(x);
}

/* Replaces the table by defs, answering through changed_cb. */
static void replace(sg_rest_t *rest, sg_http_req_t *req,
                    const sg_route_def_t *defs, size_t n, const char *base,
                    int64_t answer_id, unsigned status) {
  change_ctx_t *x = sg_calloc(1, sizeof *x);
  if (x == NULL) {
    sg__rest_engine_error(req, SG_ENOMEM);
    return;
  }
  x->req = req;
  x->id = answer_id;
  x->status = status;
  sg_route_err_t err;
  memset(&err, 0, sizeof err);
  int rc = sg_engine_routes_replace(rest->engine, defs, n, base, &err,
                                    changed_cb, x);
  if (rc == 0)
    return;
  sg_free(x);
  if (rc == SG_EINVAL)
    route_error(req, &err);
  else
    sg__rest_engine_error(req, rc);
}

void sg__rest_routes_put_cb(sg_http_req_t *req, void *data) {
  sg_rest_t *rest = data;
  if (sg__rest_admin(rest, req) == NULL)
    return;
  static const char *const keys[] = {"routes", "source", NULL};
  json_t *o = body_object(req, keys, "{\"routes\": [...]}");
  if (o == NULL)
    return;
  json_t *rules = json_object_get(o, "routes");
  sg_route_defs_t defs;
  sg_route_err_t err;
  memset(&err, 0, sizeof err);
  if (rules == NULL) {
    err422(req, "missing_field", "routes", "'routes' is required");
  } else if (sg_route_defs_parse(rules, false, true, "routes", &defs, &err) !=
             0) {
    route_error(req, &err);
  } else {
    replace(rest, req, defs.defs, defs.n, "routes", 0, 200);
    sg_route_defs_free(&defs);
  }
  json_decref(o);
}

/* The current rules as defs, with room for one more (caller frees). */
static sg_route_def_t *current(sg_engine_t *e, size_t *n) {
  const sg_routes_t *t = sg_engine_routes(e, NULL);
  *n = sg_routes_count(t);
  sg_route_def_t *d = sg_calloc(*n + 1, sizeof *d);
  for (size_t i = 0; d != NULL && i < *n; i++)
    d[i] = *sg_routes_def(t, i);
  return d;
}

/* "position": where a new rule goes, 0 (first) .. n (last, the default);
 * false after answering. */
static bool position(sg_http_req_t *req, json_t *o, size_t n, size_t *out) {
  json_t *p = json_object_get(o, "position");
  *out = n;
  if (p == NULL || json_is_null(p))
    return true;
  if (!json_is_integer(p) || json_integer_value(p) < 0 ||
      (uint64_t)json_integer_value(p) > n) {
    char msg[96];
    snprintf(msg, sizeof msg, "'position' must be an integer from 0 to %zu", n);
    err422(req, "invalid_value", "position", msg);
    return false;
  }
  *out = (size_t)json_integer_value(p);
  return true;
}

void sg__rest_routes_add_cb(sg_http_req_t *req, void *data) {
  sg_rest_t *rest = data;
  if (sg__rest_admin(rest, req) == NULL)
    return;
  static const char *const keys[] = {
      "prefix",   "pattern",    "account", "sender",   "type",
      "strategy", "connectors", "weights", "position", NULL};
  json_t *o = body_object(req, keys,
                          "{\"prefix\": \"+7\", \"connectors\": "
                          "[\"op1\"]}");
  if (o == NULL)
    return;
  size_t n = 0, at = 0;
  sg_route_def_t *all = current(rest->engine, &n);
  sg_route_defs_t one;
  sg_route_err_t err;
  memset(&err, 0, sizeof err);
  if (all == NULL) {
    sg__rest_engine_error(req, SG_ENOMEM);
  } else if (position(req, o, n, &at)) {
    json_object_del(o, "position");
    if (sg_route_defs_parse(o, true, false, NULL, &one, &err) != 0) {
      route_error(req, &err);
    } else {
      memmove(&all[at + 1], &all[at], (n - at) * sizeof *all);
      all[at] = one.defs[0];
      replace(rest, req, all, n + 1, NULL, -(int64_t)at - 1, 201);
      sg_route_defs_free(&one);
    }
  }
  sg_free(all);
  json_decref(o);
}

/* The {id} of the path, as a position in the table; -1 after answering
 * 404. */
static int path_route(sg_rest_t *rest, sg_http_req_t *req) {
  const char *s = sg_http_req_param(req, "id");
  char *end = NULL;
  errno = 0;
  long long id = s != NULL ? strtoll(s, &end, 10) : 0;
  int i = -1;
  if (s != NULL && s[0] >= '0' && s[0] <= '9' && *end == '\0' && errno == 0)
    i = sg_routes_find_id(sg_engine_routes(rest->engine, NULL), id);
  if (i < 0)
    sg__rest_error(req, 404, "not_found", "no route with this id", NULL, 0);
  return i;
}

void sg__rest_route_get_cb(sg_http_req_t *req, void *data) {
  sg_rest_t *rest = data;
  if (sg__rest_admin(rest, req) == NULL)
    return;
  int i = path_route(rest, req);
  if (i >= 0)
    sg__rest_json(req, 200,
                  sg_route_def_json(sg_routes_def(
                      sg_engine_routes(rest->engine, NULL), (size_t)i)));
}

void sg__rest_route_put_cb(sg_http_req_t *req, void *data) {
  sg_rest_t *rest = data;
  if (sg__rest_admin(rest, req) == NULL)
    return;
  int i = path_route(rest, req);
  if (i < 0)
    return;
  static const char *const keys[] = {
      "id",   "prefix",   "pattern",    "account", "sender",
      "type", "strategy", "connectors", "weights", NULL};
  json_t *o = body_object(req, keys,
                          "{\"prefix\": \"+7\", \"connectors\": "
                          "[\"op1\"]}");
  if (o == NULL)
    return;
  size_t n = 0;
  sg_route_def_t *all = current(rest->engine, &n);
  int64_t id = all != NULL ? all[i].id : 0;
  json_t *given = json_object_get(o, "id");
  sg_route_defs_t one;
  sg_route_err_t err;
  memset(&err, 0, sizeof err);
  if (all == NULL) {
    sg__rest_engine_error(req, SG_ENOMEM);
  } else if (given != NULL &&
             !(json_is_integer(given) && json_integer_value(given) == id)) {
    err422(req, "invalid_value", "id",
           "'id' may be left out; when given it must be the path's id");
  } else if (sg_route_defs_parse(o, true, true, NULL, &one, &err) != 0) {
    route_error(req, &err);
  } else {
    all[i] = one.defs[0];
    all[i].id = id;
    replace(rest, req, all, n, NULL, id, 200);
    sg_route_defs_free(&one);
  }
  sg_free(all);
  json_decref(o);
}

void sg__rest_route_delete_cb(sg_http_req_t *req, void *data) {
  sg_rest_t *rest = data;
  if (sg__rest_admin(rest, req) == NULL)
    return;
  int i = path_route(rest, req);
  if (i < 0)
    return;
  size_t n = 0;
  sg_route_def_t *all = current(rest->engine, &n);
  if (all == NULL) {
    sg__rest_engine_error(req, SG_ENOMEM);
    return;
  }
  memmove(&all[i], &all[i + 1], (n - (size_t)i - 1) * sizeof *all);
  replace(rest, req, all, n - 1, NULL, 0, 200);
  sg_free(all);
}

void sg__rest_routes_reset_cb(sg_http_req_t *req, void *data) {
  sg_rest_t *rest = data;
  if (sg__rest_admin(rest, req) == NULL)
    return;
  change_ctx_t *x = sg_calloc(1, sizeof *x);
  if (x == NULL) {
    sg__rest_engine_error(req, SG_ENOMEM);
    return;
  }
  x->req = req;
  int rc = sg_engine_routes_reset(rest->engine, changed_cb, x);
  if (rc != 0) {
    sg_free(x);
    sg__rest_engine_error(req, rc);
  }
}

/* ---- the dry run --------------------------------------------------------- */

static bool opt_str(sg_http_req_t *req, json_t *o, const char *key,
                    const char **out) {
  json_t *v = json_object_get(o, key);
  *out = NULL;
  if (v == NULL || json_is_null(v))
    return true;
  if (json_is_string(v)) {
    *out = json_string_value(v);
    return true;
  }
  char msg[64];
  snprintf(msg, sizeof msg, "'%s' must be a string", key);
  err422(req, "invalid_type", key, msg);
  return false;
}

void sg__rest_routes_test_cb(sg_http_req_t *req, void *data) {
  sg_rest_t *rest = data;
  if (sg__rest_admin(rest, req) == NULL)
    return;
  static const char *const keys[] = {"to", "account", "from", "type", NULL};
  json_t *o = body_object(req, keys, "{\"to\": \"+79001234567\"}");
  if (o == NULL)
    return;
  const char *to, *account, *from, *type;
  sg_config_msg_type_t t = SG_CONFIG_MSG_TEXT;
  if (opt_str(req, o, "to", &to) && opt_str(req, o, "account", &account) &&
      opt_str(req, o, "from", &from) && opt_str(req, o, "type", &type)) {
    bool ok = true;
    if (type != NULL) {
      ok = false;
      for (int k = SG_CONFIG_MSG_TEXT; k <= SG_CONFIG_MSG_BINARY; k++)
        if (strcmp(type, sg_routes_type_name((sg_config_msg_type_t)k)) == 0) {
          t = (sg_config_msg_type_t)k;
          ok = true;
        }
    }
    sg_route_err_t err;
    json_t *res = NULL;
    if (!ok)
      err422(req, "invalid_value", "type",
             "expected one of text, unicode, binary");
    else if (to == NULL)
      err422(req, "missing_field", "to", "'to' is required");
    else if ((res = sg_engine_routes_test(rest->engine, to, account, from, t,
                                          &err)) == NULL &&
             err.code != NULL)
      route_error(req, &err);
    else
      sg__rest_json(req, 200, res);
  }
  json_decref(o);
}

/* ---- connectors ---------------------------------------------------------- */

void sg__rest_connectors_list_cb(sg_http_req_t *req, void *data) {
  sg_rest_t *rest = data;
  if (sg__rest_admin(rest, req) == NULL)
    return;
  sg__rest_page_t pg;
  if (!sg__rest_page_args(req, NULL, 0, &pg))
    return;
  json_t *arr = json_array();
  size_t n = sg_engine_connector_count(rest->engine);
  int take = 1;
  for (size_t i = 0; arr != NULL && take >= 0 && i < n; i++) {
    if (sg_engine_connector_retired(rest->engine, i))
      continue;
    json_t *c = sg_engine_connector_json(rest->engine, i);
    const char *name = json_string_value(json_object_get(c, "name"));
    take = sg__rest_page_offer(&pg, name ? name : "");
    if (take <= 0) {
      json_decref(c);
    } else if (json_array_append_new(arr, c)) {
      json_decref(arr);
      arr = NULL;
    }
  }
  if (!sg__rest_page_check(req, &pg)) {
    json_decref(arr);
    return;
  }
  sg__rest_json(req, 200,
                arr != NULL ? json_pack("{s:o, s:o}", "connectors", arr,
                                        "next_cursor", sg__rest_page_next(&pg))
                            : NULL);
}

/* The {name} of the path as a connector index; -1 after answering 404. */
static int path_connector(sg_rest_t *rest, sg_http_req_t *req) {
  int ci =
      sg_engine_connector_index(rest->engine, sg_http_req_param(req, "name"));
  if (ci < 0)
    sg__rest_error(req, 404, "not_found", "no connector with this name", NULL,
                   0);
  return ci;
}

void sg__rest_connector_get_cb(sg_http_req_t *req, void *data) {
  sg_rest_t *rest = data;
  if (sg__rest_admin(rest, req) == NULL)
    return;
  int ci = path_connector(rest, req);
  if (ci >= 0)
    sg__rest_json(req, 200, sg_engine_connector_json(rest->engine, (size_t)ci));
}

static void pause_or_resume(sg_http_req_t *req, void *data, bool pause) {
  sg_rest_t *rest = data;
  if (sg__rest_admin(rest, req) == NULL)
    return;
  int ci = path_connector(rest, req);
  if (ci < 0)
    return;
  change_ctx_t *x = sg_calloc(1, sizeof *x);
  if (x == NULL) {
    sg__rest_engine_error(req, SG_ENOMEM);
    return;
  }
  x->req = req;
  x->conn = true;
  snprintf(x->name, sizeof x->name, "%s", sg_http_req_param(req, "name"));
  int rc =
      sg_engine_connector_pause(rest->engine, x->name, pause, changed_cb, x);
  if (rc != 0) {
    sg_free(x);
    sg__rest_engine_error(req, rc);
  }
}

void sg__rest_connector_pause_cb(sg_http_req_t *req, void *data) {
  pause_or_resume(req, data, true);
}

void sg__rest_connector_resume_cb(sg_http_req_t *req, void *data) {
  pause_or_resume(req, data, false);
}
