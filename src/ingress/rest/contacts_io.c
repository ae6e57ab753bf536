/* contacts_io.c - POST /v1/contacts/import (a text/csv body, streamed into
 * an engine import as it arrives; the connection is held while the
 * import's batches wait for their commit) and GET /v1/contacts/imports
 * and /v1/contacts/imports/{id} (progress of running and recent imports).
 *
 * The import is answered once every row was committed, with the counts
 * and each invalid row's line and reason. It must never keep the body.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/alloc.h"
#include "core/error.h"
#include "ingress/rest/contacts_int.h"
#include "ingress/web/web.h"

typedef struct upload {
  sg_rest_t *rest;
  sg_http_req_t *req;
  sg_engine_import_t *imp;
  bool handled; /* the handler ran: the request waits for done */
  /* A refusal found before the import started, answered by the handler. */
  unsigned status;
  const char *code, *message, *field;
} upload_t;

static json_t *import_json(const sg_engine_import_info_t *in) {
  json_t *errs = json_array();
  for (size_t i = 0; errs != NULL && i < in->n_errors; i++)
    json_array_append_new(
        errs,
        json_pack("{s:I, s:s, s:o}", "line", (json_int_t)in->errors[i].line,
                  "reason", in->errors[i].reason, "column",
                  in->errors[i].column[0] ? json_string(in->errors[i].column)
                                          : json_null()));
  const char *state = !in->done ? "running" : in->status ? "failed" : "done";
  return json_pack(
      "{s:I, s:s, s:o, s:I, s:I, s:I, s:I, s:I, s:o, s:b, s:o, s:o}", "id",
      (json_int_t)in->id, "state", state, "list",
      in->list_id ? json_integer(in->list_id) : json_null(), "rows",
      (json_int_t)in->rows, "imported", (json_int_t)in->imported, "duplicates",
      (json_int_t)in->duplicates, "invalid", (json_int_t)in->invalid, "pending",
      (json_int_t)in->pending, "errors", errs ? errs : json_null(),
      "errors_truncated", in->invalid > in->n_errors, "started_at",
      sg__rest_time_json(in->started_ms), "finished_at",
      sg__rest_time_json(in->finished_ms));
}

/* The answer of a failed import: the error object beside the counts. */
static void answer_failed(sg_http_req_t *req, const sg_engine_import_info_t *in,
                          json_t *o) {
  unsigned status = in->status == SG_EINVAL   ? 422
                    : in->status == SG_ENOENT ? 404
                                              : 503;
  const char *code = in->status == SG_EINVAL   ? "invalid_csv"
                     : in->status == SG_ENOENT ? "not_found"
                                               : "store_unavailable";
  json_t *e =
      json_pack("{s:s, s:s, s:o}", "code", code, "message", in->message,
                "field", in->column[0] ? json_string(in->column) : json_null());
  if (o != NULL && e != NULL)
    json_object_set_new(o, "error", e);
  else
    json_decref(e);
  sg__rest_json(req, status, o);
}

static void import_done_cb(sg_engine_import_t *imp,
                           const sg_engine_import_info_t *info, void *data) {
  upload_t *u = data;
  json_t *o = import_json(info);
  if (info->status == 0)
    sg__rest_json(u->req, 200, o);
  else
    answer_failed(u->req, info, o);
  sg_engine_import_detach(imp);
  sg_free(u);
}

static void resume_cb(sg_engine_import_t *imp, void *data) {
  (void)imp;
  upload_t *u = data;
  sg_http_req_resume_body(u->req);
}

static void cancel_cb(sg_http_req_t *req, void *data) {
  upload_t *u = data;
  if (u->imp != NULL)
    sg_engine_import_detach(u->imp);
  if (u->handled) /* the handler's answer is still owed */
    sg_http_respond(req, 499, NULL, NULL, 0, NULL);
  sg_free(u);
}

static void refuse(upload_t *u, unsigned status, const char *code,
                   const char *message, const char *field) {
  u->status = status;
  u->code = code;
  u->message = message;
  u->field = field;
}

/* The account the upload is for, without answering (the body is still
 * coming): the same checks as sg__contacts_who. */
static const sg_engine_account_t *upload_account(upload_t *u) {
  const char *key;
  size_t len;
  const sg_engine_account_t *a = NULL;
  sg_engine_t *e = u->rest->engine;
  /* The web page's session cookie stands for a key (ingress/web/web.h). */
  unsigned wst = 0;
  const char *wcode = NULL, *wmsg = NULL;
  int w = sg_http_req_header(u->req, "Authorization") == NULL
              ? sg__web_check(u->rest->web, u->req, &a, &wst, &wcode, &wmsg)
              : 1;
  if (w < 0) {
    refuse(u, wst, wcode, wmsg, NULL);
    return NULL;
  }
  if (w == 1 &&
      (sg_rest_parse_bearer(sg_http_req_header(u->req, "Authorization"), &key,
                            &len) != 0 ||
       sg_engine_auth_api_key(e, key, len, &a) != 0)) {
    refuse(u, 401, "unauthorized", "a valid API key is required", NULL);
    return NULL;
  }
  const char *name = sg_http_req_query(u->req, "account");
  if (name == NULL)
    return a;
  if (a->cfg == NULL || !a->cfg->admin) {
    refuse(u, 403, "admin_required",
           "only an admin key may name another account", "account");
    return NULL;
  }
  const sg_engine_account_t *o = sg_engine_account_by_name(e, name);
  if (o == NULL)
    refuse(u, 404, "not_found", "no such account", "account");
  return o;
}

static int upload_start(upload_t *u) {
  const sg_engine_account_t *a = upload_account(u);
  if (a == NULL)
    return SG_EINVAL;
  const char *ct = sg_http_req_header(u->req, "Content-Type");
  if (ct == NULL || strncasecmp(ct, "text/csv", 8) != 0) {
    refuse(u, 415, "unsupported_media_type", "send the file as text/csv", NULL);
    return SG_EINVAL;
  }
  const char *l = sg_http_req_query(u->req, "list");
  char *end = NULL;
  long long list = l != NULL ? strtoll(l, &end, 10) : 0;
  if (l != NULL && (list <= 0 || *end != '\0' || l[0] < '1' || l[0] > '9')) {
    refuse(u, 422, "invalid_query", "list must be a list id", "list");
    return SG_EINVAL;
  }
  if (sg_engine_import_new(u->rest->engine, a, list, resume_cb, u, &u->imp) !=
      0) {
    refuse(u, 503, "unavailable", "out of memory", NULL);
    return SG_ENOMEM;
  }
  return 0;
}

static upload_t *upload_of(sg_http_req_t *req, sg_rest_t *rest) {
  upload_t *u = sg_http_req_user(req);
  if (u != NULL)
    return u;
  u = sg_calloc(1, sizeof *u);
  if (u == NULL)
    return NULL;
  u->rest = rest;
  u->req = req;
  sg_http_req_set_user(req, u);
  sg_http_req_on_cancel(req, cancel_cb, u);
  upload_start(u);
  return u;
}

static int import_chunk_cb(sg_http_req_t *req, const uint8_t *buf, size_t len,
                           void *data) {
  upload_t *u = upload_of(req, data);
  if (u == NULL || u->imp == NULL)
    return SG_EINVAL;
  int rc = sg_engine_import_feed(u->imp, buf, len);
  return rc == 0 || rc == SG_EBUSY ? rc : SG_EINVAL;
}

static void import_cb(sg_http_req_t *req, void *data) {
  upload_t *u = upload_of(req, data);
  if (u == NULL) {
    sg__rest_engine_error(req, SG_ENOMEM);
    return;
  }
  u->handled = true;
  if (u->imp == NULL) {
    sg_http_req_on_cancel(req, NULL, NULL);
    sg__rest_error(req, u->status, u->code, u->message, u->field, 0);
    sg_free(u);
    return;
  }
  sg_engine_import_end(u->imp, import_done_cb, u);
}

/* ---- progress
 * ---------------------------------------------------------------- */

static bool visible(const sg_engine_import_info_t *in, int64_t account) {
  return account == 0 || in->account_id == account;
}

static void imports_list_cb(sg_http_req_t *req, void *data) {
  sg_rest_t *rest = data;
  int64_t account;
  if (sg__contacts_who(rest, req, false, &account) == NULL)
    return;
  json_t *a = json_array();
  const sg_engine_import_t *imp;
  for (size_t i = 0; a && (imp = sg_engine_import_at(rest->engine, i)); i++) {
    sg_engine_import_info_t in;
    sg_engine_import_info(imp, &in);
    if (visible(&in, account))
      json_array_append_new(a, import_json(&in));
  }
  sg__rest_json(req, 200, json_pack("{s:o}", "imports", a ? a : json_null()));
}

static void import_get_cb(sg_http_req_t *req, void *data) {
  sg_rest_t *rest = data;
  int64_t account;
  int64_t id = sg__contacts_path_id(req, "id", "no such import");
  if (id <= 0 || sg__contacts_who(rest, req, false, &account) == NULL)
    return;
  const sg_engine_import_t *imp =
      sg_engine_import_find(rest->engine, (uint64_t)id);
  sg_engine_import_info_t in;
  if (imp != NULL)
    sg_engine_import_info(imp, &in);
  if (imp == NULL || !visible(&in, account)) {
    sg__rest_error(req, 404, "not_found", "no such import", NULL, 0);
    return;
  }
  sg__rest_json(req, 200, import_json(&in));
}

int sg__rest_contacts_io_register(sg_rest_t *rest) {
  int rc = sg_http_server_route_stream(rest->srv, "POST", "/v1/contacts/import",
                                       import_chunk_cb, import_cb, rest);
  if (rc == 0)
    rc = sg_http_server_route(rest->srv, "GET", "/v1/contacts/imports",
                              imports_list_cb, rest);
  if (rc == 0)
    rc = sg_http_server_route(rest->srv, "GET", "/v1/contacts/imports/{id}",
                              import_get_cb, rest);
  if (rc == 0)
    rc = sg__rest_contacts_export_register(rest);
  return rc;
}
