/* inrules.c - the REST handlers of the inbound routing rules, for admin
 * keys only (sg__rest_admin):
 *   GET    /v1/inbound/rules       {"rules": [...], "source"}, in order
 *   POST   /v1/inbound/rules       adds one rule (optional "position",
 *                                  1-based; default: at the end): 201
 *   PUT    /v1/inbound/rules       {"rules": [...]} replaces every rule
 *   GET    /v1/inbound/rules/{id}  one rule
 *   PUT    /v1/inbound/rules/{id}  replaces one rule ("position" moves it)
 *   DELETE /v1/inbound/rules/{id}  deletes one rule
 *
 * A rule is read strictly (engine/inrules.h: the keys of a rule of the
 * configuration, the same checks); a bad one is a 422 naming the field
 * and changes nothing. This file must never reach the store: the engine
 * writes the rules and answers from its callback once they are committed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/error.h"
#include "engine/inrules.h"
#include "ingress/rest/rest_int.h"

/* ---- answers ------------------------------------------------------------- */

static json_t *rules_json(const sg_engine_inrules_t *now) {
  json_t *arr = json_array();
  for (size_t i = 0; arr != NULL && i < now->n; i++) {
    json_t *o = sg_inrule_to_json(&now->rules[i], true);
    if (o == NULL || json_array_append_new(arr, o) != 0) {
      json_decref(arr);
      arr = NULL;
    }
  }
  if (arr == NULL)
    return NULL;
  return json_pack("{s:o, s:s}", "rules", arr, "source",
                   now->managed ? "api" : "configuration");
}

static void answer_error(sg_http_req_t *req, int rc, const sg_inrule_err_t *e,
                         size_t n) {
  char msg[96];
  switch (rc) {
  case SG_EINVAL:
    sg__rest_error(req, 422, e->code ? e->code : "invalid_value", e->message,
                   e->field[0] ? e->field : NULL, 0);
    break;
  case SG_ENOENT:
    sg__rest_error(req, 404, "not_found", "no inbound rule with this id", "id",
                   0);
    break;
  case SG_ERANGE:
    snprintf(msg, sizeof msg,
             "'position' must be from 1 to %zu (the end), with at most %d "
             "rules",
             n + 1, SG_STORE_INRULES_MAX);
    sg__rest_error(req, 422, "invalid_value", msg, "position", 0);
    break;
  default:
    sg__rest_engine_error(req, rc);
  }
}

static void one_done(sg_engine_t *e, int status, const sg_engine_inrules_t *now,
                     int64_t id, void *ud) {
  sg_http_req_t *req = ud;
  if (status != 0) {
    sg_engine_inrules_t cur;
    sg_engine_inrules_get(e, &cur);
    sg_inrule_err_t none = {0};
    answer_error(req, status, &none, cur.n);
    return;
  }
  for (size_t i = 0; i < now->n; i++)
    if (now->rules[i].id == id) {
      bool post = strcmp(sg_http_req_method(req), "POST") == 0;
      sg__rest_json(req, post ? 201 : 200,
                    sg_inrule_to_json(&now->rules[i], true));
      return;
    }
  sg__rest_json(req, 200,
                json_pack("{s:I, s:b}", "id", (json_int_t)id, "deleted", true));
}

static void all_done(sg_engine_t *e, int status, const sg_engine_inrules_t *now,
                     int64_t id, void *ud) {
  (void)id;
  sg_http_req_t *req = ud;
  if (status != 0) {
    sg_inrule_err_t none = {0};
    sg_engine_inrules_t cur;
    sg_engine_inrules_get(e, &cur);
    answer_error(req, status, &none, cur.n);
    return;
  }
  sg__rest_json(req, 200, rules_json(now));
}

/* ---- reading requests ---------------------------------------------------- */

/* The JSON object of the body; NULL after answering 400. */
static json_t *body_object(sg_http_req_t *req) {
  size_t len = 0;
  const uint8_t *body = sg_http_req_body(req, &len);
  json_error_t jerr;
  json_t *root =
      json_loadb((const char *)body, len, JSON_REJECT_DUPLICATES, &jerr);
  if (root == NULL || !json_is_object(root)) {
    json_decref(root);
    sg__rest_error(req, 400, "invalid_json",
                   "the body must be a JSON object (a rule, or {\"rules\": "
                   "[...]} to replace them all)",
                   NULL, 0);
    return NULL;
  }
  return root;
}

/* The {id} of the path; false after answering 404. */
static bool path_id(sg_http_req_t *req, int64_t *id) {
  const char *s = sg_http_req_param(req, "id");
  char *end = NULL;
  long long v = s != NULL && s[0] >= '1' && s[0] <= '9' && strlen(s) <= 18
                    ? strtoll(s, &end, 10)
                    : 0;
  if (v <= 0 || end == NULL || *end != '\0') {
    sg__rest_error(req, 404, "not_found", "no inbound rule with this id", "id",
                   0);
    return false;
  }
  *id = v;
  return true;
}

static void change(sg_rest_t *rest, sg_http_req_t *req,
                   const sg_engine_inrules_change_t *c,
                   sg_engine_inrules_cb cb) {
  sg_inrule_err_t err = {0};
  int rc = sg_engine_inrules_change(rest->engine, c, &err, cb, req);
  if (rc != 0) {
    sg_engine_inrules_t cur;
    sg_engine_inrules_get(rest->engine, &cur);
    answer_error(req, rc, &err, cur.n);
  }
}

/* Reads one rule of a POST or PUT body and makes the change. */
static void change_one(sg_rest_t *rest, sg_http_req_t *req,
                       sg_engine_inrules_op_t op, int64_t id) {
  json_t *root = body_object(req);
  if (root == NULL)
    return;
  sg_inrule_t rule;
  sg_inrule_err_t err = {0};
  int rc = sg_inrule_from_json(root, "", &rule, &err);
  json_decref(root);
  if (rc == 0 && op == SG_ENGINE_INRULES_SET && rule.id != 0 && rule.id != id) {
    sg_inrule_clear(&rule);
    sg__rest_error(req, 422, "invalid_value",
                   "'id' differs from the id in the path", "id", 0);
    return;
  }
  if (rc != 0) {
    answer_error(req, rc, &err, 0);
    return;
  }
  sg_engine_inrules_change_t c = {.op = op, .id = id, .rules = &rule, .n = 1};
  change(rest, req, &c, one_done);
  sg_inrule_clear(&rule);
}

/* ---- handlers ------------------------------------------------------------ */

void sg__rest_inrules_list_cb(sg_http_req_t *req, void *data) {
  sg_rest_t *rest = data;
  if (sg__rest_admin(rest, req) == NULL)
    return;
  sg_engine_inrules_t now;
  sg_engine_inrules_get(rest->engine, &now);
  sg__rest_json(req, 200, rules_json(&now));
}

void sg__rest_inrules_add_cb(sg_http_req_t *req, void *data) {
  sg_rest_t *rest = data;
  if (sg__rest_admin(rest, req) != NULL)
    change_one(rest, req, SG_ENGINE_INRULES_ADD, 0);
}

static void free_rules(sg_inrule_t *l, size_t n) {
  for (size_t i = 0; l != NULL && i < n; i++)
    sg_inrule_clear(&l[i]);
  sg_free(l);
}

/* The rules of {"rules": [...]}; false after answering. */
static bool read_all(sg_http_req_t *req, json_t *root, sg_inrule_t **out,
                     size_t *n) {
  const char *k;
  json_t *v;
  json_object_foreach(root, k, v) {
    if (strcmp(k, "rules") != 0) {
      sg__rest_error(req, 422, "unknown_field",
                     "unknown field; the body is {\"rules\": [...]}", k, 0);
      return false;
    }
  }
  json_t *arr = json_object_get(root, "rules");
  if (!json_is_array(arr)) {
    sg__rest_error(req, 422, arr ? "invalid_type" : "missing_field",
                   "'rules' must be an array of rules", "rules", 0);
    return false;
  }
  *n = json_array_size(arr);
  *out = sg_calloc(*n ? *n : 1, sizeof **out);
  if (*out == NULL) {
    sg__rest_engine_error(req, SG_ENOMEM);
    return false;
  }
  for (size_t i = 0; i < *n; i++) {
    char prefix[32];
    snprintf(prefix, sizeof prefix, "rules[%zu]", i);
    sg_inrule_err_t err = {0};
    int rc =
        sg_inrule_from_json(json_array_get(arr, i), prefix, &(*out)[i], &err);
    if (rc != 0) {
      free_rules(*out, i);
      answer_error(req, rc, &err, 0);
      return false;
    }
  }
  return true;
}

void sg__rest_inrules_replace_cb(sg_http_req_t *req, void *data) {
  sg_rest_t *rest = data;
  if (sg__rest_admin(rest, req) == NULL)
    return;
  json_t *root = body_object(req);
  sg_inrule_t *rules = NULL;
  size_t n = 0;
  if (root != NULL && read_all(req, root, &rules, &n)) {
    sg_engine_inrules_change_t c = {
        .op = SG_ENGINE_INRULES_REPLACE, .rules = rules, .n = n};
    change(rest, req, &c, all_done);
    free_rules(rules, n);
  }
  json_decref(root);
}

void sg__rest_inrules_get_cb(sg_http_req_t *req, void *data) {
  sg_rest_t *rest = data;
  int64_t id;
  if (sg__rest_admin(rest, req) == NULL || !path_id(req, &id))
    return;
  sg_engine_inrules_t now;
  sg_engine_inrules_get(rest->engine, &now);
  for (size_t i = 0; i < now.n; i++)
    if (now.rules[i].id == id) {
      sg__rest_json(req, 200, sg_inrule_to_json(&now.rules[i], true));
      return;
    }
  answer_error(req, SG_ENOENT, NULL, 0);
}

void sg__rest_inrules_set_cb(sg_http_req_t *req, void *data) {
  sg_rest_t *rest = data;
  int64_t id;
  if (sg__rest_admin(rest, req) != NULL && path_id(req, &id))
    change_one(rest, req, SG_ENGINE_INRULES_SET, id);
}

void sg__rest_inrules_delete_cb(sg_http_req_t *req, void *data) {
  sg_rest_t *rest = data;
  int64_t id;
  if (sg__rest_admin(rest, req) == NULL || !path_id(req, &id))
    return;
  sg_engine_inrules_change_t c = {.op = SG_ENGINE_INRULES_DELETE, .id = id};
  change(rest, req, &c, one_done);
}
