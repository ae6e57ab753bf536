/* templates.c - /v1/templates (create, read, update, delete message
 * templates) and POST /v1/templates/{id}/preview: the template filled from
 * a stored contact ({"contact": id}) or from given values ({"name",
 * "number", "fields"}), answered with the text, its encoding and its parts
 * as the engine would send it (core/segment.h through sg_engine_preview).
 *
 * A template's syntax is checked when it is saved (core/template.h); a
 * placeholder without a value is a 422 at preview naming it. It must never
 * store a filled text.
 */
#include <string.h>

#include "core/alloc.h"
#include "core/error.h"
#include "core/template.h"
#include "ingress/rest/contacts_int.h"

#define FILLED_MAX (SG_STORE_TEMPLATE_BODY_MAX * 4)

typedef struct tcall {
  sg_http_req_t *req;
  sg_rest_t *rest;
  int64_t account_id;
  unsigned ok_status;
  bool list, read_back;
  json_t *values; /* preview: {"name","number","fields"} given, or NULL */
  int64_t contact;
  char *body; /* preview: the template's text */
} tcall_t;

static void tcall_free(tcall_t *c) {
  json_decref(c->values);
  sg_free(c->body);
  sg_free(c);
}

static void t_done(sg_store_t *st, int status, const sg_store_cres_t *res,
                   void *data);

static void t_run(tcall_t *c, sg_store_cop_t *op) {
  op->account_id = c->account_id;
  int rc = sg_engine_contacts(c->rest->engine, op, t_done, c);
  if (rc != 0) {
    sg__contacts_error(c->req, rc, "no such template", NULL, NULL);
    tcall_free(c);
  }
}

static void t_done(sg_store_t *st, int status, const sg_store_cres_t *res,
                   void *data) {
  (void)st;
  tcall_t *c = data;
  if (status != 0) {
    sg__contacts_error(c->req, status, "no such template",
                       "a template with this name already exists", "name");
  } else if (c->read_back) {
    c->read_back = false;
    t_run(c, &(sg_store_cop_t){.kind = SG_STORE_TEMPLATE_GET, .id = res->id});
    return;
  } else if (c->list) {
    json_t *a = json_array();
    for (size_t i = 0; a != NULL && i < res->n_templates; i++)
      json_array_append_new(a, sg__template_json(&res->templates[i]));
    sg__rest_json(c->req, 200,
                  json_pack("{s:o}", "templates", a ? a : json_null()));
  } else if (res->templates != NULL) {
    sg__rest_json(c->req, c->ok_status, sg__template_json(&res->templates[0]));
  } else {
    sg_http_respond(c->req, 204, NULL, NULL, 0, NULL);
  }
  tcall_free(c);
}

static tcall_t *tcall_new(sg_http_req_t *req, sg_rest_t *rest, bool write) {
  int64_t account;
  if (sg__contacts_who(rest, req, write, &account) == NULL)
    return NULL;
  tcall_t *c = sg_calloc(1, sizeof *c);
  if (c == NULL) {
    sg__rest_engine_error(req, SG_ENOMEM);
    return NULL;
  }
  c->req = req;
  c->rest = rest;
  c->account_id = account;
  c->ok_status = 200;
  return c;
}

static void template_write(sg_http_req_t *req, sg_rest_t *rest, int64_t id) {
  static const char *const keys[] = {"name", "text", NULL};
  tcall_t *c = tcall_new(req, rest, true);
  json_t *o = c ? sg__contacts_body(req, keys) : NULL;
  if (o == NULL) {
    if (c)
      tcall_free(c);
    return;
  }
  json_t *name = json_object_get(o, "name"), *text = json_object_get(o, "text");
  char msg[160];
  if ((id == 0 || name != NULL) &&
      (!json_is_string(name) || json_string_length(name) == 0 ||
       json_string_length(name) > SG_STORE_TEMPLATE_NAME_MAX)) {
    sg__rest_error(req, 422, "invalid_name",
                   "name is required: text of 1 to 128 octets", "name", 0);
    tcall_free(c);
  } else if ((id == 0 || text != NULL) &&
             (!json_is_string(text) || json_string_length(text) == 0 ||
              json_string_length(text) > SG_STORE_TEMPLATE_BODY_MAX)) {
    sg__rest_error(req, 422, "invalid_text",
                   "text is required: 1 to 8192 octets", "text", 0);
    tcall_free(c);
  } else if (text != NULL && sg_template_check(json_string_value(text),
                                               json_string_length(text), msg,
                                               sizeof msg) != 0) {
    sg__rest_error(req, 422, "invalid_template", msg, "text", 0);
    tcall_free(c);
  } else {
    c->ok_status = id == 0 ? 201 : 200;
    c->read_back = true;
    t_run(c, &(sg_store_cop_t){.kind = SG_STORE_TEMPLATE_PUT,
                               .id = id,
                               .name = json_string_value(name),
                               .body = json_string_value(text)});
  }
  json_decref(o);
}

static void templates_create_cb(sg_http_req_t *req, void *data) {
  template_write(req, data, 0);
}

static void template_patch_cb(sg_http_req_t *req, void *data) {
  int64_t id = sg__contacts_path_id(req, "id", "no such template");
  if (id > 0)
    template_write(req, data, id);
}

static void templates_list_cb(sg_http_req_t *req, void *data) {
  tcall_t *c = tcall_new(req, data, false);
  if (c == NULL)
    return;
  c->list = true;
  t_run(c, &(sg_store_cop_t){.kind = SG_STORE_TEMPLATE_LIST});
}

static void template_get_cb(sg_http_req_t *req, void *data) {
  int64_t id = sg__contacts_path_id(req, "id", "no such template");
  tcall_t *c = id > 0 ? tcall_new(req, data, false) : NULL;
  if (c != NULL)
    t_run(c, &(sg_store_cop_t){.kind = SG_STORE_TEMPLATE_GET, .id = id});
}

static void template_delete_cb(sg_http_req_t *req, void *data) {
  int64_t id = sg__contacts_path_id(req, "id", "no such template");
  tcall_t *c = id > 0 ? tcall_new(req, data, true) : NULL;
  if (c != NULL)
    t_run(c, &(sg_store_cop_t){.kind = SG_STORE_TEMPLATE_DELETE, .id = id});
}

/* ---- preview ----------------------------------------------------------------
 */

/* The values of a preview: a contact's row, or the given object. */
typedef struct values {
  const char *name, *number;
  json_t *fields;
} values_t;

static const char *lookup(void *data, const char *key) {
  values_t *v = data;
  if (strcmp(key, "name") == 0)
    return v->name;
  if (strcmp(key, "number") == 0)
    return v->number;
  return json_string_value(json_object_get(v->fields, key + 7));
}

static void preview_answer(tcall_t *c, values_t *v) {
  static char filled[FILLED_MAX];
  char missing[SG_TEMPLATE_NAME_MAX];
  size_t n = 0;
  int rc = sg_template_fill(c->body, strlen(c->body), lookup, v, filled,
                            sizeof filled, &n, missing, sizeof missing);
  if (rc == SG_ENOENT) {
    char msg[128];
    snprintf(msg, sizeof msg, "the contact has no value for {{%s}}", missing);
    sg__rest_error(c->req, 422, "missing_field", msg, missing, 0);
    return;
  }
  if (rc != 0) {
    sg__rest_error(c->req, 422, "invalid_template",
                   "the template cannot be filled", "text", 0);
    return;
  }
  sg_submit_req_t s = {
      .account = sg_engine_account_by_id(c->rest->engine, c->account_id),
      .text = filled,
      .text_len = n};
  sg_engine_preview_t pv;
  rc = sg_engine_preview(c->rest->engine, &s, &pv);
  if (rc != 0) {
    sg__rest_error(c->req, 422, pv.error_code ? pv.error_code : "invalid_text",
                   pv.message, "text", 0);
    return;
  }
  sg_seg_opts_t opts = {.encoding = SG_ENC_AUTO,
                        .max_parts = s.account && s.account->cfg &&
                                             s.account->cfg->max_parts
                                         ? s.account->cfg->max_parts
                                         : SG_SEG_DEFAULT_MAX_PARTS};
  json_t *o = NULL;
  if (sg_segment_text((const uint8_t *)filled, n, &opts, c->rest->segs, NULL) ==
      0)
    o = sg_rest_segments_json(c->rest->segs);
  if (o != NULL)
    json_object_set_new(o, "text", json_stringn(filled, n));
  sg__rest_json(c->req, 200, o);
}

static void preview_contact_cb(sg_store_t *st, int status,
                               const sg_store_cres_t *res, void *data) {
  (void)st;
  tcall_t *c = data;
  if (status != 0) {
    sg__rest_error(c->req, status == SG_ENOENT ? 404 : 503,
                   status == SG_ENOENT ? "not_found" : "store_unavailable",
                   "no such contact", "contact", 0);
  } else {
    const sg_store_contact_t *k = &res->contacts[0];
    values_t v = {k->name, k->number,
                  k->fields ? json_loads(k->fields, 0, NULL) : NULL};
    preview_answer(c, &v);
    json_decref(v.fields);
  }
  tcall_free(c);
}

static void preview_template_cb(sg_store_t *st, int status,
                                const sg_store_cres_t *res, void *data) {
  (void)st;
  tcall_t *c = data;
  if (status != 0 || (c->body = sg_strdup(res->templates[0].body)) == NULL) {
    sg__contacts_error(c->req, status ? status : SG_ENOMEM, "no such template",
                       NULL, NULL);
    tcall_free(c);
    return;
  }
  if (c->contact == 0) {
    values_t v = {json_string_value(json_object_get(c->values, "name")),
                  json_string_value(json_object_get(c->values, "number")),
                  json_object_get(c->values, "fields")};
    preview_answer(c, &v);
    tcall_free(c);
    return;
  }
  sg_store_cop_t op = {.kind = SG_STORE_CONTACT_GET,
                       .account_id = c->account_id,
                       .id = c->contact};
  int rc = sg_engine_contacts(c->rest->engine, &op, preview_contact_cb, c);
  if (rc != 0) {
    sg__rest_engine_error(c->req, rc);
    tcall_free(c);
  }
}

/* Checks the preview body; false after answering. */
static bool preview_body(tcall_t *c, json_t *o) {
  json_t *k = json_object_get(o, "contact");
  if (k != NULL) {
    if (!json_is_integer(k) || json_integer_value(k) <= 0 ||
        json_object_size(o) != 1) {
      sg__rest_error(c->req, 422, "invalid_contact",
                     "contact is a contact id, given alone", "contact", 0);
      return false;
    }
    c->contact = json_integer_value(k);
    return true;
  }
  static const char *const keys[] = {"name", "number"};
  for (size_t i = 0; i < 2; i++) {
    json_t *v = json_object_get(o, keys[i]);
    if (v != NULL && !json_is_string(v)) {
      sg__rest_error(c->req, 422, "invalid_field", "must be text", keys[i], 0);
      return false;
    }
  }
  json_t *f = json_object_get(o, "fields");
  if (f != NULL) {
    char *t = sg__contacts_fields_text(c->req, f);
    if (t == NULL)
      return false;
    sg_free(t);
  }
  c->values = json_incref(o);
  return true;
}

static void template_preview_cb(sg_http_req_t *req, void *data) {
  static const char *const keys[] = {"contact", "name", "number", "fields",
                                     NULL};
  int64_t id = sg__contacts_path_id(req, "id", "no such template");
  tcall_t *c = id > 0 ? tcall_new(req, data, false) : NULL;
  json_t *o = c ? sg__contacts_body(req, keys) : NULL;
  if (o == NULL || !preview_body(c, o)) {
    json_decref(o);
    if (c)
      tcall_free(c);
    return;
  }
  json_decref(o);
  sg_store_cop_t op = {
      .kind = SG_STORE_TEMPLATE_GET, .account_id = c->account_id, .id = id};
  int rc = sg_engine_contacts(c->rest->engine, &op, preview_template_cb, c);
  if (rc != 0) {
    sg__rest_engine_error(req, rc);
    tcall_free(c);
  }
}

int sg__rest_templates_register(sg_rest_t *rest) {
  static const struct {
    const char *method, *pattern;
    sg_http_handler_cb cb;
  } routes[] = {
      {"GET", "/v1/templates", templates_list_cb},
      {"POST", "/v1/templates", templates_create_cb},
      {"GET", "/v1/templates/{id}", template_get_cb},
      {"PATCH", "/v1/templates/{id}", template_patch_cb},
      {"DELETE", "/v1/templates/{id}", template_delete_cb},
      {"POST", "/v1/templates/{id}/preview", template_preview_cb},
  };
  int rc = 0;
  for (size_t i = 0; rc == 0 && i < sizeof routes / sizeof routes[0]; i++)
    rc = sg_http_server_route(rest->srv, routes[i].method, routes[i].pattern,
                              routes[i].cb, rest);
  return rc;
}
