/* contacts.c - /v1/contacts and /v1/lists: create, read, update and delete
 * contacts and lists, list membership, and contact search with cursors;
 * also the route table of every contacts file.
 *
 * Each handler checks its request (a 4xx naming the field, nothing
 * changed), runs one store operation through the engine and answers from
 * its callback; a create or an update answers with the row read back after
 * the commit. It must never answer before the store has committed.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/contact_csv.h"
#include "core/error.h"
#include "ingress/rest/contacts_int.h"

typedef enum answer {
  A_CONTACT,  /* the one contact read */
  A_CONTACTS, /* a page */
  A_LIST,
  A_LISTS,
  A_CHANGED, /* {"added"|"removed": n} */
  A_NONE     /* 204 */
} answer_t;

typedef struct call {
  sg_http_req_t *req;
  sg_rest_t *rest;
  int64_t account_id;
  answer_t answer;
  unsigned ok_status;
  sg_store_cop_kind_t then; /* a read of the written row, or the op's own */
  const char *what, *exists, *field;
} call_t;

static void answer(call_t *c, const sg_store_cres_t *res) {
  json_t *o = NULL;
  switch (c->answer) {
  case A_CONTACT:
    o = sg__contact_json(&res->contacts[0]);
    break;
  case A_LIST:
    o = sg__clist_json(&res->lists[0]);
    break;
  case A_CONTACTS: {
    json_t *a = json_array();
    for (size_t i = 0; a != NULL && i < res->n_contacts; i++)
      json_array_append_new(a, sg__contact_json(&res->contacts[i]));
    char cur[24];
    snprintf(cur, sizeof cur, "%lld", (long long)res->next_after);
    o = json_pack("{s:o, s:o}", "contacts", a ? a : json_null(), "next_cursor",
                  res->next_after ? json_string(cur) : json_null());
    break;
  }
  case A_LISTS: {
    json_t *a = json_array();
    for (size_t i = 0; a != NULL && i < res->n_lists; i++)
      json_array_append_new(a, sg__clist_json(&res->lists[i]));
    o = json_pack("{s:o}", "lists", a ? a : json_null());
    break;
  }
  case A_CHANGED:
    o = json_pack("{s:I}", c->field, (json_int_t)res->changed);
    break;
  case A_NONE:
    sg_http_respond(c->req, 204, NULL, NULL, 0, NULL);
    return;
  }
  sg__rest_json(c->req, c->ok_status, o);
}

static void done_cb(sg_store_t *st, int status, const sg_store_cres_t *res,
                    void *data);

/* After a write: reads the row back, or answers. */
static void next(call_t *c, const sg_store_cres_t *res) {
  if (c->then < SG_STORE_COP_FIRST_READ) {
    answer(c, res);
    sg_free(c);
    return;
  }
  sg_store_cop_t op = {
      .kind = c->then, .account_id = c->account_id, .id = res->id};
  c->then = SG_STORE_CONTACT_PUT; /* answer after this read */
  int rc = sg_engine_contacts(c->rest->engine, &op, done_cb, c);
  if (rc != 0) {
    sg__contacts_error(c->req, rc, c->what, c->exists, NULL);
    sg_free(c);
  }
}

static void done_cb(sg_store_t *st, int status, const sg_store_cres_t *res,
                    void *data) {
  (void)st;
  call_t *c = data;
  if (status != 0) {
    sg__contacts_error(c->req, status, c->what, c->exists, c->field);
    sg_free(c);
    return;
  }
  next(c, res);
}

/* Runs op for the request, answering as c says. Takes c. */
static void run(call_t *c, sg_store_cop_t *op) {
  op->account_id = c->account_id;
  int rc = sg_engine_contacts(c->rest->engine, op, done_cb, c);
  if (rc != 0) {
    sg__contacts_error(c->req, rc, c->what, c->exists, c->field);
    sg_free(c);
  }
}

static call_t *call_new(sg_http_req_t *req, sg_rest_t *rest, bool write,
                        answer_t a) {
  int64_t account = 0;
  if (sg__contacts_who(rest, req, write, &account) == NULL)
    return NULL;
  call_t *c = sg_calloc(1, sizeof *c);
  if (c == NULL) {
    sg__rest_engine_error(req, SG_ENOMEM);
    return NULL;
  }
  *c = (call_t){req,  rest, account, a, 200, SG_STORE_CONTACT_PUT,
                NULL, NULL, NULL};
  return c;
}

/* ---- contacts
 * ---------------------------------------------------------------- */

static const char *const contact_keys[] = {"number", "name", "fields", NULL};

/* Reads number, name and fields of a contact body into op; strings point
 * into o or *fields_text (sg_free it). False after answering. */
static bool contact_body(call_t *c, json_t *o, sg_store_cop_t *op,
                         char e164[SG_STORE_NUMBER_MAX], char **fields_text) {
  json_t *num = json_object_get(o, "number");
  json_t *name = json_object_get(o, "name");
  json_t *fields = json_object_get(o, "fields");
  const sg_engine_account_t *a =
      sg_engine_account_by_id(c->rest->engine, c->account_id);
  char msg[128];
  if (num != NULL &&
      (!json_is_string(num) ||
       sg_engine_contact_number(c->rest->engine, a, json_string_value(num),
                                e164, msg, sizeof msg) != 0)) {
    sg__rest_error(c->req, 422, "invalid_number",
                   json_is_string(num) ? msg : "number must be a string",
                   "number", 0);
    return false;
  }
  if (name != NULL && !json_is_null(name) &&
      (!json_is_string(name) ||
       json_string_length(name) > SG_STORE_CONTACT_NAME_MAX)) {
    sg__rest_error(c->req, 422, "invalid_name",
                   "name must be text of at most 256 octets, or null", "name",
                   0);
    return false;
  }
  if (fields != NULL &&
      (*fields_text = sg__contacts_fields_text(c->req, fields)) == NULL)
    return false;
  op->number = num != NULL ? e164 : NULL;
  op->name = json_is_null(name) ? "" : json_string_value(name);
  op->fields = *fields_text;
  return true;
}

static void contact_write(sg_http_req_t *req, sg_rest_t *rest, int64_t id) {
  call_t *c = call_new(req, rest, true, A_CONTACT);
  if (c == NULL)
    return;
  json_t *o = sg__contacts_body(req, contact_keys);
  char e164[SG_STORE_NUMBER_MAX], *fields = NULL;
  sg_store_cop_t op = {.kind = SG_STORE_CONTACT_PUT, .id = id};
  if (o == NULL || !contact_body(c, o, &op, e164, &fields)) {
    json_decref(o);
    sg_free(c);
    return;
  }
  if (id == 0 && op.number == NULL) {
    sg__rest_error(req, 422, "missing_field", "number is required", "number",
                   0);
    sg_free(c);
  } else {
    c->ok_status = id == 0 ? 201 : 200;
    c->then = SG_STORE_CONTACT_GET;
    c->what = "no such contact";
    c->exists = "a contact with this number already exists";
    c->field = "number";
    run(c, &op);
  }
  sg_free(fields);
  json_decref(o);
}

static void contacts_create_cb(sg_http_req_t *req, void *data) {
  contact_write(req, data, 0);
}

static void contact_patch_cb(sg_http_req_t *req, void *data) {
  int64_t id = sg__contacts_path_id(req, "id", "no such contact");
  if (id > 0)
    contact_write(req, data, id);
}

static void contact_get_cb(sg_http_req_t *req, void *data) {
  int64_t id = sg__contacts_path_id(req, "id", "no such contact");
  call_t *c = id > 0 ? call_new(req, data, false, A_CONTACT) : NULL;
  if (c == NULL)
    return;
  c->what = "no such contact";
  run(c, &(sg_store_cop_t){.kind = SG_STORE_CONTACT_GET, .id = id});
}

static void contact_delete_cb(sg_http_req_t *req, void *data) {
  int64_t id = sg__contacts_path_id(req, "id", "no such contact");
  call_t *c = id > 0 ? call_new(req, data, true, A_NONE) : NULL;
  if (c == NULL)
    return;
  c->what = "no such contact";
  run(c, &(sg_store_cop_t){.kind = SG_STORE_CONTACT_DELETE, .id = id});
}

/* A query value that must be a positive integer (0 when absent); false
 * after answering 422 naming it. */
static bool query_int(sg_http_req_t *req, const char *name, int64_t max,
                      int64_t *out) {
  const char *s = sg_http_req_query(req, name);
  *out = 0;
  if (s == NULL)
    return true;
  char *end = NULL;
  errno = 0;
  long long v = s[0] >= '1' && s[0] <= '9' ? strtoll(s, &end, 10) : 0;
  if (v <= 0 || errno != 0 || *end != '\0' || v > max) {
    char msg[96];
    snprintf(msg, sizeof msg, "%s must be an integer from 1 to %lld", name,
             (long long)max);
    sg__rest_error(req, 422, "invalid_query", msg, name, 0);
    return false;
  }
  *out = v;
  return true;
}

/* The search filters of the query; false after answering. */
static bool search_query(sg_http_req_t *req, sg_store_cop_t *op) {
  int64_t limit, list;
  if (!query_int(req, "cursor", INT64_MAX, &op->after) ||
      !query_int(req, "limit", SG_STORE_CONTACTS_PAGE_MAX, &limit) ||
      !query_int(req, "list", INT64_MAX, &list))
    return false;
  op->limit = (unsigned)limit;
  if (op->list_id == 0)
    op->list_id = list;
  op->prefix = sg_http_req_query(req, "number");
  op->name_like = sg_http_req_query(req, "name");
  if (op->prefix != NULL &&
      (strlen(op->prefix) == 0 || strlen(op->prefix) >= SG_STORE_NUMBER_MAX ||
       strspn(op->prefix, "+0123456789") != strlen(op->prefix))) {
    sg__rest_error(req, 422, "invalid_query",
                   "number is the start of an E.164 number: '+' and digits",
                   "number", 0);
    return false;
  }
  for (size_t i = 0; i < sg_http_req_query_count(req); i++) {
    const char *k, *v;
    sg_http_req_query_at(req, i, &k, &v);
    if (strncmp(k, "field.", 6) != 0)
      continue;
    if (!sg_ccsv_field_name_ok(k + 6) || op->field_key != NULL) {
      sg__rest_error(req, 422, "invalid_query",
                     "search one field as field.NAME=VALUE, NAME of 1 to 64 "
                     "letters, digits, _ or -",
                     k, 0);
      return false;
    }
    op->field_key = k + 6;
    op->field_value = v;
  }
  return true;
}

static void contacts_search(sg_http_req_t *req, sg_rest_t *rest, int64_t list) {
  call_t *c = call_new(req, rest, false, A_CONTACTS);
  if (c == NULL)
    return;
  sg_store_cop_t op = {.kind = SG_STORE_CONTACT_LIST, .list_id = list};
  if (!search_query(req, &op)) {
    sg_free(c);
    return;
  }
  c->what = "no such list";
  run(c, &op);
}

static void contacts_list_cb(sg_http_req_t *req, void *data) {
  contacts_search(req, data, 0);
}

static void list_members_cb(sg_http_req_t *req, void *data) {
  int64_t id = sg__contacts_path_id(req, "id", "no such list");
  if (id > 0)
    contacts_search(req, data, id);
}

/* ---- lists
 * --------------------------------------------------------------------- */

static void list_write(sg_http_req_t *req, sg_rest_t *rest, int64_t id) {
  static const char *const keys[] = {"name", NULL};
  call_t *c = call_new(req, rest, true, A_LIST);
  json_t *o = c ? sg__contacts_body(req, keys) : NULL;
  if (o == NULL) {
    sg_free(c);
    return;
  }
  json_t *name = json_object_get(o, "name");
  if (!json_is_string(name) || json_string_length(name) == 0 ||
      json_string_length(name) > SG_STORE_CLIST_NAME_MAX) {
    sg__rest_error(req, 422, "invalid_name",
                   "name is required: text of 1 to 128 octets", "name", 0);
    sg_free(c);
  } else {
    c->ok_status = id == 0 ? 201 : 200;
    c->then = SG_STORE_CLIST_GET;
    c->what = "no such list";
    c->exists = "a list with this name already exists";
    c->field = "name";
    run(c, &(sg_store_cop_t){.kind = SG_STORE_CLIST_PUT,
                             .id = id,
                             .name = json_string_value(name)});
  }
  json_decref(o);
}

static void lists_create_cb(sg_http_req_t *req, void *data) {
  list_write(req, data, 0);
}

static void list_patch_cb(sg_http_req_t *req, void *data) {
  int64_t id = sg__contacts_path_id(req, "id", "no such list");
  if (id > 0)
    list_write(req, data, id);
}

static void lists_list_cb(sg_http_req_t *req, void *data) {
  call_t *c = call_new(req, data, false, A_LISTS);
  if (c != NULL)
    run(c, &(sg_store_cop_t){.kind = SG_STORE_CLIST_LIST});
}

static void list_get_cb(sg_http_req_t *req, void *data) {
  int64_t id = sg__contacts_path_id(req, "id", "no such list");
  call_t *c = id > 0 ? call_new(req, data, false, A_LIST) : NULL;
  if (c == NULL)
    return;
  c->what = "no such list";
  run(c, &(sg_store_cop_t){.kind = SG_STORE_CLIST_GET, .id = id});
}

static void list_delete_cb(sg_http_req_t *req, void *data) {
  int64_t id = sg__contacts_path_id(req, "id", "no such list");
  call_t *c = id > 0 ? call_new(req, data, true, A_NONE) : NULL;
  if (c == NULL)
    return;
  c->what = "no such list";
  run(c, &(sg_store_cop_t){.kind = SG_STORE_CLIST_DELETE, .id = id});
}

/* POST /v1/lists/{id}/contacts {"contacts": [ids]} */
static void list_add_cb(sg_http_req_t *req, void *data) {
  static const char *const keys[] = {"contacts", NULL};
  int64_t id = sg__contacts_path_id(req, "id", "no such list");
  call_t *c = id > 0 ? call_new(req, data, true, A_CHANGED) : NULL;
  json_t *o = c ? sg__contacts_body(req, keys) : NULL;
  if (o == NULL) {
    sg_free(c);
    return;
  }
  json_t *a = json_object_get(o, "contacts");
  size_t n = json_array_size(a);
  int64_t ids[SG_STORE_MEMBERS_MAX];
  bool ok = json_is_array(a) && n > 0 && n <= SG_STORE_MEMBERS_MAX;
  for (size_t i = 0; ok && i < n; i++) {
    json_t *v = json_array_get(a, i);
    ok = json_is_integer(v) && json_integer_value(v) > 0;
    ids[i] = ok ? json_integer_value(v) : 0;
  }
  if (!ok) {
    sg__rest_error(req, 422, "invalid_contacts",
                   "contacts must be an array of 1 to 1000 contact ids",
                   "contacts", 0);
    sg_free(c);
  } else {
    c->what = "no such list, or a contact id that is not one of yours";
    c->field = "added";
    run(c,
        &(sg_store_cop_t){
            .kind = SG_STORE_CLIST_ADD, .list_id = id, .ids = ids, .n_ids = n});
  }
  json_decref(o);
}

/* DELETE /v1/lists/{id}/contacts/{contact} */
static void list_remove_cb(sg_http_req_t *req, void *data) {
  int64_t id = sg__contacts_path_id(req, "id", "no such list");
  int64_t k =
      id > 0 ? sg__contacts_path_id(req, "contact", "no such contact") : 0;
  call_t *c = k > 0 ? call_new(req, data, true, A_CHANGED) : NULL;
  if (c == NULL)
    return;
  c->what = "no such list";
  c->field = "removed";
  run(c,
      &(sg_store_cop_t){
          .kind = SG_STORE_CLIST_REMOVE, .list_id = id, .ids = &k, .n_ids = 1});
}

/* ---- routes
 * ----------------------------------------------------------------------- */

static const struct {
  const char *method, *pattern;
  sg_http_handler_cb cb;
} routes[] = {
    {"GET", "/v1/contacts", contacts_list_cb},
    {"POST", "/v1/contacts", contacts_create_cb},
    {"GET", "/v1/contacts/{id}", contact_get_cb},
    {"PATCH", "/v1/contacts/{id}", contact_patch_cb},
    {"DELETE", "/v1/contacts/{id}", contact_delete_cb},
    {"GET", "/v1/lists", lists_list_cb},
    {"POST", "/v1/lists", lists_create_cb},
    {"GET", "/v1/lists/{id}", list_get_cb},
    {"PATCH", "/v1/lists/{id}", list_patch_cb},
    {"DELETE", "/v1/lists/{id}", list_delete_cb},
    {"GET", "/v1/lists/{id}/contacts", list_members_cb},
    {"POST", "/v1/lists/{id}/contacts", list_add_cb},
    {"DELETE", "/v1/lists/{id}/contacts/{contact}", list_remove_cb},
};

int sg__rest_contacts_register(sg_rest_t *rest) {
  /* The import, export and progress paths first: /v1/contacts/{id} would
   * take them. */
  int rc = sg__rest_contacts_io_register(rest);
  for (size_t i = 0; rc == 0 && i < sizeof routes / sizeof routes[0]; i++)
    rc = sg_http_server_route(rest->srv, routes[i].method, routes[i].pattern,
                              routes[i].cb, rest);
  if (rc == 0)
    rc = sg__rest_templates_register(rest);
  return rc;
}
