/* ops.c - the REST resources of the operators' actions (ops.h): reconnect
 * a connector, inspect and purge the queues, retry and cancel any
 * account's message. Admin keys only (sg__rest_admin). A purge must name
 * its connector twice, in the path and in {"confirm": ...}, so that a
 * mistyped or replayed request cannot empty another queue.
 *
 * Requests are read strictly (unknown fields are 422 naming them) and
 * answered from the engine's callbacks. This file must never reach the
 * store or a connector: engine/ops.h does that.
 */
#include "ingress/rest/ops.h"

#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "core/error.h"
#include "core/id.h"
#include "engine/ops.h"
#include "engine/route_admin.h"
#include "ingress/rest/page.h"
#include "ingress/rest/rest_int.h"

#define REASON_MAX 200

/* ---- connectors/{name}/reconnect ----------------------------------------- */

void sg__rest_connector_reconnect_cb(sg_http_req_t *req, void *data) {
  sg_rest_t *rest = data;
  if (sg__rest_admin(rest, req) == NULL)
    return;
  const char *name = sg_http_req_param(req, "name");
  int ci = sg_engine_connector_index(rest->engine, name);
  int rc =
      ci < 0 ? SG_ENOENT : sg_engine_connector_reconnect(rest->engine, name);
  if (rc == 0)
    sg__rest_json(req, 200, sg_engine_connector_json(rest->engine, (size_t)ci));
  else if (rc == SG_ENOENT)
    sg__rest_error(req, 404, "not_found", "no connector with this name", NULL,
                   0);
  else if (rc == SG_ENOTSUP)
    sg__rest_error(req, 409, "not_supported",
                   "this kind of connector cannot reconnect on demand", NULL,
                   0);
  else if (rc == SG_ESTATE)
    sg__rest_error(req, 409, "not_started",
                   "the connector is not running (starting or stopping)", NULL,
                   0);
  else
    sg__rest_engine_error(req, rc);
}

/* ---- queues -------------------------------------------------------------- */

static json_t *age_json(int64_t now, int64_t since) {
  return since > 0 ? json_integer((now - since) / 1000) : json_null();
}

static json_t *queue_json(const sg_engine_queue_t *q, int64_t now) {
  return json_pack(
      "{s:s, s:b, s:I, s:o, s:o, s:o, s:{s:I, s:I, s:I, s:I}, s:I}",
      "connector", q->name, "configured", q->configured, "depth",
      (json_int_t)q->queued, "oldest_queued_at",
      sg__rest_time_json(q->oldest_queued_ms), "oldest_queued_age_s",
      age_json(now, q->oldest_queued_ms), "oldest_at",
      sg__rest_time_json(q->oldest_ms), "by_status", "scheduled",
      (json_int_t)q->scheduled, "queued", (json_int_t)q->queued, "sending",
      (json_int_t)q->sending, "sent", (json_int_t)q->sent, "claimed",
      (json_int_t)q->claimed);
}

typedef struct queues_ctx {
  sg_http_req_t *req;
  bool one;
  sg__rest_page_t page; /* the list's */
} queues_ctx_t;

/* The list of queues, a page of it (page.h); NULL after answering 400. */
static json_t *queues_page(sg_http_req_t *req, sg__rest_page_t *pg,
                           const sg_engine_queue_t *q, size_t n, int64_t now) {
  json_t *arr = json_array();
  int take = 1;
  for (size_t i = 0; arr != NULL && take >= 0 && i < n; i++)
    if ((take = sg__rest_page_offer(pg, q[i].name)) > 0 &&
        json_array_append_new(arr, queue_json(&q[i], now)) != 0) {
      json_decref(arr);
      arr = NULL;
    }
  if (!sg__rest_page_check(req, pg)) {
    json_decref(arr);
    return NULL;
  }
  return json_pack("{s:o, s:o}", "queues", arr ? arr : json_null(),
                   "next_cursor", sg__rest_page_next(pg));
}

static void queues_done(sg_engine_t *e, int status, const sg_engine_queue_t *q,
                        size_t n, void *ud) {
  queues_ctx_t *x = ud;
  sg_http_req_t *req = x->req;
  if (status != 0) {
    sg_free(x);
    sg__rest_engine_error(req, status);
    return;
  }
  sg_engine_metrics_t m;
  sg_engine_metrics(e, &m);
  if (x->one) {
    sg_free(x);
    sg__rest_json(req, 200, n > 0 ? queue_json(&q[0], m.now_ms) : NULL);
    return;
  }
  json_t *o = queues_page(req, &x->page, q, n, m.now_ms);
  sg_free(x);
  if (o != NULL)
    sg__rest_json(req, 200, o);
}

static void queues(sg_http_req_t *req, sg_rest_t *rest, const char *name) {
  queues_ctx_t *x = sg_calloc(1, sizeof *x);
  if (x == NULL) {
    sg__rest_engine_error(req, SG_ENOMEM);
    return;
  }
  x->req = req;
  x->one = name != NULL;
  if (name == NULL && !sg__rest_page_args(req, NULL, 0, &x->page)) {
    sg_free(x);
    return;
  }
  int rc = sg_engine_queues(rest->engine, name, queues_done, x);
  if (rc == 0)
    return;
  sg_free(x);
  if (rc == SG_ENOENT)
    sg__rest_error(req, 404, "not_found", "no connector with this name", NULL,
                   0);
  else
    sg__rest_engine_error(req, rc);
}

void sg__rest_queues_list_cb(sg_http_req_t *req, void *data) {
  sg_rest_t *rest = data;
  if (sg__rest_admin(rest, req) != NULL)
    queues(req, rest, NULL);
}

void sg__rest_queue_get_cb(sg_http_req_t *req, void *data) {
  sg_rest_t *rest = data;
  if (sg__rest_admin(rest, req) != NULL)
    queues(req, rest, sg_http_req_param(req, "name"));
}

/* ---- queues/{name}/purge ------------------------------------------------- */

typedef struct purge_ctx {
  sg_http_req_t *req;
  char name[128];
} purge_ctx_t;

static void purge_done(sg_engine_t *e, int status, uint64_t parts,
                       uint64_t messages, void *ud) {
  (void)e;
  purge_ctx_t *x = ud;
  sg_http_req_t *req = x->req;
  if (status != 0 && parts == 0)
    sg__rest_engine_error(req, status);
  else
    sg__rest_json(req, 200,
                  json_pack("{s:s, s:I, s:I, s:b}", "connector", x->name,
                            "purged_parts", (json_int_t)parts, "messages",
                            (json_int_t)messages, "complete", status == 0));
  sg_free(x);
}

typedef struct bad {
  const char *field, *code, *msg;
} bad_t;

/* The first problem of a purge body (an object), or field NULL. */
static bad_t purge_check(json_t *o, const char *name) {
  const char *k;
  json_t *v;
  json_object_foreach(o, k, v) {
    if (strcmp(k, "confirm") != 0 && strcmp(k, "reason") != 0)
      return (bad_t){k, "unknown_field",
                     "unknown field; the fields are confirm and reason"};
    if (!json_is_string(v))
      return (bad_t){k, "invalid_type", "expected a string"};
  }
  const char *confirm = json_string_value(json_object_get(o, "confirm"));
  const char *why = json_string_value(json_object_get(o, "reason"));
  if (confirm == NULL)
    return (bad_t){"confirm", "missing_field",
                   "a purge needs {\"confirm\": \"<connector name>\"}"};
  if (strcmp(confirm, name) != 0)
    return (bad_t){"confirm", "invalid_value",
                   "'confirm' must equal the connector's name"};
  if (why != NULL && (why[0] == '\0' || strlen(why) > REASON_MAX))
    return (bad_t){"reason", "invalid_value",
                   "'reason' must be 1 to 200 octets"};
  return (bad_t){NULL, NULL, NULL};
}

/* Reads {"confirm": name, "reason": text}; false after answering. */
static bool purge_body(sg_http_req_t *req, const char *name, char *reason,
                       size_t cap) {
  size_t len = 0;
  const uint8_t *body = sg_http_req_body(req, &len);
  json_error_t jerr;
  json_t *o = body != NULL ? json_loadb((const char *)body, len,
                                        JSON_REJECT_DUPLICATES, &jerr)
                           : NULL;
  if (!json_is_object(o)) {
    json_decref(o);
    sg__rest_error(req, 400, "invalid_json",
                   "the body must be a JSON object such as {\"confirm\": "
                   "\"<connector name>\"}",
                   NULL, 0);
    return false;
  }
  bad_t bad = purge_check(o, name);
  const char *why = json_string_value(json_object_get(o, "reason"));
  if (bad.field == NULL)
    snprintf(reason, cap, "%s", why != NULL ? why : "purged by an operator");
  else
    sg__rest_error(req, 422, bad.code, bad.msg, bad.field, 0);
  json_decref(o);
  return bad.field == NULL;
}

void sg__rest_queue_purge_cb(sg_http_req_t *req, void *data) {
  sg_rest_t *rest = data;
  if (sg__rest_admin(rest, req) == NULL)
    return;
  const char *name = sg_http_req_param(req, "name");
  if (sg_engine_connector_index(rest->engine, name) < 0) {
    sg__rest_error(req, 404, "not_found", "no connector with this name", NULL,
                   0);
    return;
  }
  char reason[REASON_MAX + 1];
  if (!purge_body(req, name, reason, sizeof reason))
    return;
  purge_ctx_t *x = sg_calloc(1, sizeof *x);
  if (x == NULL) {
    sg__rest_engine_error(req, SG_ENOMEM);
    return;
  }
  x->req = req;
  snprintf(x->name, sizeof x->name, "%s", name);
  int rc = sg_engine_queue_purge(rest->engine, name, reason, purge_done, x);
  if (rc != 0) {
    sg_free(x);
    sg__rest_engine_error(req, rc);
  }
}

/* ---- messages/{id}/retry and /cancel ------------------------------------- */

static void message_done(sg_engine_t *e, int status,
                         const sg_store_message_t *msg, void *ud) {
  (void)e;
  sg_http_req_t *req = ud;
  if (status != 0)
    sg__rest_engine_error(req, status);
  else
    sg__rest_json(req, 200, sg__rest_message_json(msg, true));
}

/* Answers with the message as it is now, from any account. */
static void answer_message(sg_engine_t *e, sg_http_req_t *req, const char *id) {
  int rc = sg_engine_get_message(e, id, 0, message_done, req);
  if (rc != 0)
    sg__rest_engine_error(req, rc);
}

typedef struct msg_ctx {
  sg_http_req_t *req;
  char id[SG_ID_LEN + 1];
} msg_ctx_t;

/* The {id} of the path, canonical, in a new context; NULL after answering
 * (404 for what is not a message id). */
static msg_ctx_t *msg_begin(sg_rest_t *rest, sg_http_req_t *req) {
  if (sg__rest_admin(rest, req) == NULL)
    return NULL;
  const char *s = sg_http_req_param(req, "id");
  uint8_t bin[SG_ID_BYTES];
  if (s == NULL || strlen(s) != SG_ID_LEN ||
      sg_id_parse(s, SG_ID_LEN, bin) != 0) {
    sg__rest_error(req, 404, "not_found", "no such message", NULL, 0);
    return NULL;
  }
  msg_ctx_t *x = sg_calloc(1, sizeof *x);
  if (x == NULL) {
    sg__rest_engine_error(req, SG_ENOMEM);
    return NULL;
  }
  x->req = req;
  memcpy(x->id, s, SG_ID_LEN + 1);
  sg_id_canonical(x->id, SG_ID_LEN);
  return x;
}

static void retry_done(sg_engine_t *e, int status,
                       const sg_store_retry_res_t *res, void *ud) {
  msg_ctx_t *x = ud;
  char msg[160];
  if (status == 0) {
    answer_message(e, x->req, x->id);
  } else if (status == SG_ESTATE) {
    snprintf(msg, sizeof msg,
             "the message is %s; only failed, expired, undeliverable and "
             "rejected messages can be retried",
             res != NULL ? sg_store_status_name(res->before) : "not ended");
    sg__rest_error(x->req, 409, "not_retryable", msg, NULL, 0);
  } else {
    sg__rest_engine_error(x->req, status);
  }
  sg_free(x);
}

void sg__rest_message_retry_cb(sg_http_req_t *req, void *data) {
  sg_rest_t *rest = data;
  msg_ctx_t *x = msg_begin(rest, req);
  if (x == NULL)
    return;
  int rc = sg_engine_message_retry(rest->engine, x->id, retry_done, x);
  if (rc != 0) {
    sg_free(x);
    sg__rest_engine_error(req, rc);
  }
}

static void cancel_done(sg_engine_t *e, int status, void *ud) {
  msg_ctx_t *x = ud;
  if (status == 0)
    answer_message(e, x->req, x->id);
  else if (status == SG_ESTATE)
    sg__rest_error(x->req, 409, "not_cancelable",
                   "the message is being sent, was sent, or has ended; only "
                   "scheduled and queued messages can be canceled",
                   NULL, 0);
  else
    sg__rest_engine_error(x->req, status);
  sg_free(x);
}

void sg__rest_message_admin_cancel_cb(sg_http_req_t *req, void *data) {
  sg_rest_t *rest = data;
  msg_ctx_t *x = msg_begin(rest, req);
  if (x == NULL)
    return;
  int rc = sg_engine_cancel(rest->engine, x->id, 0, cancel_done, x);
  if (rc != 0) {
    sg_free(x);
    sg__rest_engine_error(req, rc);
  }
}
