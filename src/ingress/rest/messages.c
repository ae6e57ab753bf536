/* messages.c - the /v1/messages handlers: send, preview, list, get, cancel.
 *
 * Each handler authenticates, reads the request (parse.h), hands it to the
 * engine and answers from the engine's callback: a send is answered 202
 * only once the store has committed it, with the body the engine recorded
 * for its idempotency key, so that a replay answers byte for byte the
 * same. While a request waits, the HTTP server keeps its connection
 * suspended; if the client goes away, the answer is dropped by the server
 * and the messages stay accepted.
 *
 * This file must never build a store request itself or decide anything
 * the engine decides (number validity, routing, parts of a send).
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "core/alloc.h"
#include "core/error.h"
#include "ingress/rest/rest_int.h"

#define QUERY_ARGS_MAX 16

static int64_t wall_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- POST /v1/messages --------------------------------------------------- */

static void submit_done(sg_engine_t *e, const sg_submit_res_t *res, void *ud) {
  (void)e;
  sg_http_req_t *req = ud;
  if (res->status == 0) {
    const char *replayed[] = {"Idempotent-Replayed", "true", NULL};
    sg_http_respond(req, 202, "application/json", res->response,
                    res->response_len, res->replayed ? replayed : NULL);
    return;
  }
  unsigned http = sg_engine_http_status(res->status);
  unsigned retry = 0;
  if (http == 429 || http == 503)
    retry = res->retry_after_s > 0 ? res->retry_after_s : 1;
  sg__rest_error(req, http, res->error_code != NULL ? res->error_code : "error",
                 res->message != NULL ? res->message : "", res->error_field,
                 retry);
}

static void fill_submit(const sg_rest_send_t *p,
                        const sg_engine_account_t *acct, const char *idem,
                        sg_submit_req_t *s) {
  memset(s, 0, sizeof(*s));
  s->account = acct;
  s->to = p->to;
  s->n_to = p->n_to;
  s->from = p->from;
  s->text = p->text;
  s->text_len = p->text_len;
  s->encoding = p->encoding;
  s->national = p->national;
  s->smart = p->smart;
  s->callback_url = p->callback_url;
  s->send_at_ms = p->send_at_ms;
  s->validity_ms = p->validity_ms;
  s->client_ref = p->client_ref;
  s->idem_key = idem;
  s->request_hash = idem != NULL ? p->hash : NULL;
  s->request_hash_len = idem != NULL ? sizeof(p->hash) : 0;
  s->priority = p->priority;
  s->dlr = p->dlr;
}

void sg__rest_send_cb(sg_http_req_t *req, void *data) {
  sg_rest_t *rest = data;
  const sg_engine_account_t *acct = sg__rest_auth(rest, req);
  if (acct == NULL)
    return;
  const char *idem = sg_http_req_header(req, "Idempotency-Key");
  if (idem != NULL && sg_rest_check_idem_key(idem) != 0) {
    sg__rest_error(req, 400, "invalid_idempotency_key",
                   "the Idempotency-Key header must be 1 to 255 printable "
                   "ASCII characters",
                   "Idempotency-Key", 0);
    return;
  }
  size_t len = 0;
  const uint8_t *body = sg_http_req_body(req, &len);
  sg_rest_send_t p;
  sg_rest_err_t err;
  int rc = sg_rest_parse_send(body, len, SG_REST_SEND, wall_ms(), &p, &err);
  if (rc != 0) {
    if (rc == SG_EINVAL)
      sg__rest_parse_error(req, &err);
    else
      sg__rest_engine_error(req, rc);
    return;
  }
  if (idem != NULL && (rc = sg_rest_send_hash(&p)) != 0) {
    sg_rest_send_free(&p);
    sg__rest_engine_error(req, rc);
    return;
  }
  sg_submit_req_t s;
  fill_submit(&p, acct, idem, &s);
  rc = sg_engine_submit(rest->engine, &s, submit_done, req);
  sg_rest_send_free(&p);
  if (rc != 0)
    sg__rest_engine_error(req, rc);
}

/* ---- POST /v1/messages/preview ------------------------------------------- */

/* The engine gives the verdict (the same codes and messages a send would
 * get); the parts themselves are shown by splitting the text again with
 * the options the engine uses, into the handle's buffer. */
static json_t *preview_json(sg_rest_t *rest, const sg_submit_req_t *s) {
  sg_seg_opts_t opts = {
      .encoding = s->encoding,
      .national = s->national,
      .smart = s->smart,
      .max_parts = s->account->cfg != NULL ? s->account->cfg->max_parts : 0};
  if (opts.max_parts == 0)
    opts.max_parts = SG_SEG_DEFAULT_MAX_PARTS;
  if (sg_segment_text((const uint8_t *)s->text, s->text_len, &opts, rest->segs,
                      NULL) != 0)
    return NULL;
  return sg_rest_segments_json(rest->segs);
}

void sg__rest_preview_cb(sg_http_req_t *req, void *data) {
  sg_rest_t *rest = data;
  const sg_engine_account_t *acct = sg__rest_auth(rest, req);
  if (acct == NULL)
    return;
  size_t len = 0;
  const uint8_t *body = sg_http_req_body(req, &len);
  sg_rest_send_t p;
  sg_rest_err_t err;
  int rc = sg_rest_parse_send(body, len, SG_REST_PREVIEW, wall_ms(), &p, &err);
  if (rc != 0) {
    if (rc == SG_EINVAL)
      sg__rest_parse_error(req, &err);
    else
      sg__rest_engine_error(req, rc);
    return;
  }
  sg_submit_req_t s;
  sg_engine_preview_t pv;
  fill_submit(&p, acct, NULL, &s);
  rc = sg_engine_preview(rest->engine, &s, &pv);
  if (rc == 0)
    sg__rest_json(req, 200, preview_json(rest, &s));
  else if (pv.error_code != NULL)
    sg__rest_error(req, sg_engine_http_status(rc), pv.error_code, pv.message,
                   pv.error_field, 0);
  else
    sg__rest_engine_error(req, rc);
  sg_rest_send_free(&p);
}

/* ---- GET /v1/messages/{id} ----------------------------------------------- */

static void get_done(sg_engine_t *e, int status, const sg_store_message_t *msg,
                     void *ud) {
  (void)e;
  sg_http_req_t *req = ud;
  if (status != 0)
    sg__rest_engine_error(req, status);
  else
    sg__rest_json(req, 200, sg__rest_message_json(msg, true));
}

/* The {id} of the path in its canonical form; false (after answering 404)
 * when it is not a message id. */
static bool path_id(sg_http_req_t *req, char id[SG_ID_LEN + 1]) {
  const char *s = sg_http_req_param(req, "id");
  uint8_t bin[SG_ID_BYTES];
  size_t n = s != NULL ? strlen(s) : 0;
  if (n != SG_ID_LEN || sg_id_parse(s, n, bin) != 0) {
    sg__rest_error(req, 404, "not_found", "no such message", NULL, 0);
    return false;
  }
  memcpy(id, s, n + 1);
  sg_id_canonical(id, n);
  return true;
}

void sg__rest_get_cb(sg_http_req_t *req, void *data) {
  sg_rest_t *rest = data;
  char id[SG_ID_LEN + 1];
  const sg_engine_account_t *acct = sg__rest_auth(rest, req);
  if (acct == NULL || !path_id(req, id))
    return;
  int rc = sg_engine_get_message(rest->engine, id, acct->id, get_done, req);
  if (rc != 0)
    sg__rest_engine_error(req, rc == SG_EINVAL ? SG_ENOENT : rc);
}

/* ---- DELETE /v1/messages/{id} -------------------------------------------- */

typedef struct cancel_ctx {
  sg_http_req_t *req;
  int64_t account_id;
  char id[SG_ID_LEN + 1];
} cancel_ctx_t;

/* Canceled: answer with the message as it is now. */
static void cancel_done(sg_engine_t *e, int status, void *ud) {
  cancel_ctx_t *c = ud;
  sg_http_req_t *req = c->req;
  int rc = status;
  if (status == 0)
    rc = sg_engine_get_message(e, c->id, c->account_id, get_done, req);
  sg_free(c);
  if (rc == SG_ESTATE)
    sg__rest_error(req, 409, "not_cancelable",
                   "the message is being sent, was sent, or has ended; only "
                   "scheduled and queued messages can be canceled",
                   NULL, 0);
  else if (rc != 0)
    sg__rest_engine_error(req, rc);
}

void sg__rest_cancel_cb(sg_http_req_t *req, void *data) {
  sg_rest_t *rest = data;
  const sg_engine_account_t *acct = sg__rest_auth(rest, req);
  cancel_ctx_t *c = NULL;
  if (acct == NULL)
    return;
  c = sg_malloc(sizeof(*c));
  if (c == NULL) {
    sg__rest_engine_error(req, SG_ENOMEM);
    return;
  }
  c->req = req;
  c->account_id = acct->id;
  if (!path_id(req, c->id)) {
    sg_free(c);
    return;
  }
  int rc = sg_engine_cancel(rest->engine, c->id, acct->id, cancel_done, c);
  if (rc != 0) {
    sg_free(c);
    sg__rest_engine_error(req, rc == SG_EINVAL ? SG_ENOENT : rc);
  }
}

/* ---- GET /v1/messages ---------------------------------------------------- */

static void list_done(sg_engine_t *e, int status,
                      const sg_store_list_res_t *res, void *ud) {
  (void)e;
  sg_http_req_t *req = ud;
  if (status != 0) {
    sg__rest_engine_error(req, status);
    return;
  }
  json_t *data = json_array();
  for (size_t i = 0; data != NULL && i < res->n; i++) {
    json_t *m = sg__rest_message_json(&res->msgs[i], false);
    if (m == NULL || json_array_append_new(data, m) != 0) {
      json_decref(data);
      data = NULL;
    }
  }
  json_t *cursor =
      res->next_cursor[0] != '\0' ? json_string(res->next_cursor) : json_null();
  json_t *o = NULL;
  if (data != NULL && cursor != NULL) /* "o" takes both, also on failure */
    o = json_pack("{s:o, s:o}", "data", data, "next_cursor", cursor);
  else {
    json_decref(data);
    json_decref(cursor);
  }
  sg__rest_json(req, 200, o);
}

void sg__rest_list_cb(sg_http_req_t *req, void *data) {
  sg_rest_t *rest = data;
  const sg_engine_account_t *acct = sg__rest_auth(rest, req);
  if (acct == NULL)
    return;
  const char *names[QUERY_ARGS_MAX], *values[QUERY_ARGS_MAX];
  size_t n = sg_http_req_query_count(req);
  if (n > QUERY_ARGS_MAX) {
    sg__rest_error(req, 422, "invalid_value", "too many query arguments", NULL,
                   0);
    return;
  }
  for (size_t i = 0; i < n; i++)
    sg_http_req_query_at(req, i, &names[i], &values[i]);
  sg_rest_list_query_t q;
  sg_rest_err_t err;
  if (sg_rest_parse_list_query(names, values, n, &q, &err) != 0) {
    sg__rest_parse_error(req, &err);
    return;
  }
  q.filter.account_id = acct->id;
  int rc = sg_engine_list_messages(rest->engine, &q.filter, list_done, req);
  if (rc != 0)
    sg__rest_engine_error(req, rc);
}
