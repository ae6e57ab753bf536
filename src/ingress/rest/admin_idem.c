/* admin_idem.c - Idempotency-Key on the admin API's creations (see
 * admin_idem.h): the header checked, the request hashed (BLAKE2b-256 of
 * its method, path and body), the record read through the engine, and the
 * replay, the refusal or the change chosen from it.
 *
 * Like every REST file it only reads requests and answers: the engine
 * reads the records and the store writes them with the changes.
 */
#include "ingress/rest/admin_idem.h"

#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "core/alloc.h"
#include "core/error.h"
#include "engine/admin_idem.h"

void sg__rest_idem_free(sg__rest_idem_t *x) {
  if (x != NULL)
    sg_free(x->arg);
  sg_free(x);
}

void sg__rest_idem_json(sg_http_req_t *req, unsigned status, json_t *obj) {
  char *text = obj != NULL ? json_dumps(obj, JSON_COMPACT) : NULL;
  json_decref(obj);
  if (text == NULL) {
    sg_http_respond_error(req, 500, "internal", "out of memory", NULL);
    return;
  }
  const char *h[] = {"Idempotent-Replayed", "true", NULL};
  sg_http_respond(req, status, "application/json", text, strlen(text), h);
  sg_free(text);
}

/* The request's identity: method, path and body, each with its length. */
static void request_hash(sg_http_req_t *req, uint8_t out[32]) {
  crypto_generichash_state st;
  crypto_generichash_init(&st, NULL, 0, 32);
  const char *parts[2] = {sg_http_req_method(req), sg_http_req_path(req)};
  for (size_t i = 0; i < 2; i++) {
    uint64_t n = strlen(parts[i]);
    crypto_generichash_update(&st, (const uint8_t *)&n, sizeof n);
    crypto_generichash_update(&st, (const uint8_t *)parts[i], n);
  }
  size_t len = 0;
  const uint8_t *body = sg_http_req_body(req, &len);
  crypto_generichash_update(&st, body, len);
  crypto_generichash_final(&st, out, 32);
}

static void run_change(sg__rest_idem_t *x) {
  if (x->run(x, x->has_key ? &x->rec : NULL) != 0)
    sg__rest_idem_free(x); /* it answered */
}

static void got_cb(sg_engine_t *e, int status, const sg_store_admin_idem_t *rec,
                   void *ud) {
  (void)e;
  sg__rest_idem_t *x = ud;
  if (status == 0 && sodium_memcmp(rec->hash, x->rec.hash, 32) == 0) {
    x->replay(x, rec);
  } else if (status == 0) {
    sg__rest_error(x->req, 409, "idempotency_conflict",
                   "this Idempotency-Key was used for another request",
                   "idempotency_key", 0);
  } else if (status == SG_ENOENT && !x->rechecked) {
    run_change(x);
    return;
  } else if (status == SG_ENOENT) {
    sg__rest_error(x->req, x->fail_http, x->fail_code, x->fail_msg,
                   x->fail_field[0] ? x->fail_field : NULL, 0);
  } else {
    sg__rest_engine_error(x->req, status);
  }
  sg__rest_idem_free(x);
}

static void lookup(sg__rest_idem_t *x, const sg_engine_account_t *caller) {
  int rc =
      sg_engine_admin_idem_get(x->rest->engine, caller, x->rec.key, got_cb, x);
  if (rc != 0) {
    sg__rest_engine_error(x->req, rc);
    sg__rest_idem_free(x);
  }
}

void sg__rest_idem_post(sg_rest_t *rest, sg_http_req_t *req,
                        const sg_engine_account_t *caller,
                        sg__rest_idem_run_fn run,
                        sg__rest_idem_replay_fn replay, void *arg) {
  const char *key = sg_http_req_header(req, "Idempotency-Key");
  if (key != NULL && sg_rest_check_idem_key(key) != 0) {
    sg__rest_error(req, 400, "invalid_idempotency_key",
                   "the Idempotency-Key header must be 1 to 255 printable "
                   "ASCII characters",
                   "Idempotency-Key", 0);
    sg_free(arg);
    return;
  }
  sg__rest_idem_t *x = sg_calloc(1, sizeof *x);
  if (x == NULL) {
    sg__rest_engine_error(req, SG_ENOMEM);
    sg_free(arg);
    return;
  }
  *x = (sg__rest_idem_t){.rest = rest,
                         .req = req,
                         .arg = arg,
                         .run = run,
                         .replay = replay,
                         .has_key = key != NULL};
  if (key == NULL) {
    run_change(x);
    return;
  }
  x->caller = caller;
  x->rec.account_id = caller->id;
  snprintf(x->rec.key, sizeof x->rec.key, "%s", key);
  request_hash(req, x->rec.hash);
  lookup(x, caller);
}

bool sg__rest_idem_recheck(sg__rest_idem_t *x, int status, unsigned http,
                           const char *code, const char *field,
                           const char *msg) {
  if (status != SG_EEXIST || !x->has_key || x->rechecked)
    return false;
  x->rechecked = true;
  x->fail_http = http;
  snprintf(x->fail_code, sizeof x->fail_code, "%s", code ? code : "conflict");
  snprintf(x->fail_field, sizeof x->fail_field, "%s", field ? field : "");
  snprintf(x->fail_msg, sizeof x->fail_msg, "%s", msg ? msg : "");
  lookup(x, x->caller);
  return true;
}
