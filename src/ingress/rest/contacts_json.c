/* contacts_json.c - the JSON of contacts, lists and templates, and what the
 * contacts handlers share: the account a request acts for (?account= for
 * admin keys), path ids, strict bodies and error answers.
 *
 * It must never reach the store: only the handlers call the engine.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/contact_csv.h"
#include "core/error.h"
#include "ingress/rest/contacts_int.h"

const sg_engine_account_t *sg__contacts_who(sg_rest_t *rest, sg_http_req_t *req,
                                            bool write, int64_t *account_id) {
  const sg_engine_account_t *a = sg__rest_auth(rest, req);
  if (a == NULL)
    return NULL;
  *account_id = a->id;
  const char *name = sg_http_req_query(req, "account");
  if (name == NULL)
    return a;
  if (a->cfg == NULL || !a->cfg->admin) {
    sg__rest_error(req, 403, "admin_required",
                   "only an admin key may name another account", "account", 0);
    return NULL;
  }
  if (strcmp(name, "*") == 0 && !write) {
    *account_id = 0;
    return a;
  }
  const sg_engine_account_t *o = sg_engine_account_by_name(rest->engine, name);
  if (o == NULL) {
    sg__rest_error(req, 404, "not_found", "no such account", "account", 0);
    return NULL;
  }
  *account_id = o->id;
  return a;
}

int64_t sg__contacts_path_id(sg_http_req_t *req, const char *name,
                             const char *what) {
  const char *s = sg_http_req_param(req, name);
  char *end = NULL;
  errno = 0;
  long long v =
      s != NULL && s[0] >= '1' && s[0] <= '9' ? strtoll(s, &end, 10) : 0;
  if (v <= 0 || errno != 0 || *end != '\0') {
    sg__rest_error(req, 404, "not_found", what, NULL, 0);
    return 0;
  }
  return v;
}

json_t *sg__contacts_body(sg_http_req_t *req, const char *const *allowed) {
  size_t len;
  const uint8_t *b = sg_http_req_body(req, &len);
  json_error_t e;
  json_t *o = json_loadb((const char *)b, len, JSON_REJECT_DUPLICATES, &e);
  if (!json_is_object(o)) {
    json_decref(o);
    sg__rest_error(req, 422, "invalid_json", "the body must be a JSON object",
                   NULL, 0);
    return NULL;
  }
  const char *k;
  json_t *v;
  json_object_foreach(o, k, v) {
    size_t i = 0;
    while (allowed[i] != NULL && strcmp(allowed[i], k) != 0)
      i++;
    if (allowed[i] == NULL) {
      sg__rest_error(req, 422, "unknown_field", "this field is not known", k,
                     0);
      json_decref(o);
      return NULL;
    }
  }
  return o;
}

void sg__contacts_error(sg_http_req_t *req, int status, const char *what,
                        const char *exists, const char *field) {
  if (status == SG_ENOENT)
    sg__rest_error(req, 404, "not_found", what, NULL, 0);
  else if (status == SG_EEXIST)
    sg__rest_error(req, 409, "already_exists", exists, field, 0);
  else if (status == SG_EINVAL)
    sg__rest_error(req, 422, "invalid_request", "the request is not valid",
                   field, 0);
  else
    sg__rest_engine_error(req, status);
}

static json_t *fields_json(const char *text) {
  json_t *f = text != NULL ? json_loads(text, 0, NULL) : NULL;
  return f != NULL ? f : json_object();
}

json_t *sg__contact_json(const sg_store_contact_t *k) {
  json_t *o = json_pack("{s:I, s:s, s:o, s:o, s:b, s:o, s:o}", "id",
                        (json_int_t)k->id, "number", k->number, "name",
                        k->name ? json_string(k->name) : json_null(), "fields",
                        fields_json(k->fields), "opted_out", k->opted_out,
                        "created_at", sg__rest_time_json(k->created_ms),
                        "updated_at", sg__rest_time_json(k->updated_ms));
  if (o != NULL && k->lists != NULL) {
    json_t *l = json_array();
    for (size_t i = 0; l != NULL && i < k->n_lists; i++)
      json_array_append_new(l, json_integer(k->lists[i]));
    json_object_set_new(o, "lists", l ? l : json_null());
  }
  return o;
}

json_t *sg__clist_json(const sg_store_clist_t *l) {
  return json_pack("{s:I, s:s, s:I, s:o, s:o}", "id", (json_int_t)l->id, "name",
                   l->name, "members", (json_int_t)l->members, "created_at",
                   sg__rest_time_json(l->created_ms), "updated_at",
                   sg__rest_time_json(l->updated_ms));
}

json_t *sg__template_json(const sg_store_template_t *t) {
  return json_pack("{s:I, s:s, s:s, s:o, s:o}", "id", (json_int_t)t->id, "name",
                   t->name, "text", t->body, "created_at",
                   sg__rest_time_json(t->created_ms), "updated_at",
                   sg__rest_time_json(t->updated_ms));
}

char *sg__contacts_fields_text(sg_http_req_t *req, json_t *fields) {
  if (!json_is_object(fields) || json_object_size(fields) > 64) {
    sg__rest_error(req, 422, "invalid_fields",
                   "fields must be an object of at most 64 text values",
                   "fields", 0);
    return NULL;
  }
  const char *k;
  json_t *v;
  json_object_foreach(fields, k, v) {
    if (!sg_ccsv_field_name_ok(k) || !json_is_string(v) ||
        json_string_length(v) > SG_CCSV_VALUE_MAX) {
      char field[80];
      snprintf(field, sizeof field, "fields.%.64s", k);
      sg__rest_error(req, 422, "invalid_fields",
                     "a field's name must be 1 to 64 letters, digits, _ or -, "
                     "and its value text of at most 1024 octets",
                     field, 0);
      return NULL;
    }
  }
  char *s = json_dumps(fields, JSON_COMPACT);
  if (s == NULL) {
    sg__rest_error(req, 500, "internal", "out of memory", NULL, 0);
    return NULL;
  }
  if (strlen(s) > SG_STORE_CONTACT_FIELDS_MAX) {
    sg_free(s); /* jansson allocates through core/alloc.h */
    sg__rest_error(req, 422, "invalid_fields", "the fields are too long",
                   "fields", 0);
    return NULL;
  }
  return s;
}
