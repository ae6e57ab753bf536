/* admin.c - the REST handlers of accounts and API keys, for admin keys only
 * (sg__rest_admin):
 *   GET    /v1/accounts              the accounts, configured and API,
 *                                    a page at a time (page.h)
 *   POST   /v1/accounts              creates one (201; a generated
 *                                    webhook_secret is shown once)
 *   GET    /v1/accounts/{name}       one account
 *   PATCH  /v1/accounts/{name}       changes an API account (merge patch)
 *   DELETE /v1/accounts/{name}       disables it; it and its messages stay
 *   GET    /v1/keys[?account=A]      keys: ids, names, accounts, times
 *   POST   /v1/keys                  {account, name} -> 201 with the key,
 *                                    shown once
 *   DELETE /v1/keys/{id}             revokes a key at once
 *   POST   /v1/keys/{id}/rotate      {grace_period} -> a new key; the old
 *                                    one revoked now or after the grace
 *
 * Secrets are write-only: no answer holds a password, a webhook secret or
 * a key, except the one made by the request. The engine checks every
 * field and answers after the store committed; this file only reads
 * requests and writes answers, and must never reach the store.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/error.h"
#include "engine/admin_idem.h"
#include "ingress/rest/admin_idem.h"
#include "ingress/rest/page.h"
#include "ingress/rest/rest_int.h"
#include "ingress/web/web.h"

/* ---- JSON of accounts and keys ------------------------------------------- */

static json_t *str_or_null(const char *s) {
  return s != NULL ? json_string(s) : json_null();
}

static json_t *str_list(const char *const *v, size_t n) {
  json_t *a = json_array();
  for (size_t i = 0; a != NULL && i < n; i++)
    json_array_append_new(a, json_string(v[i]));
  return a;
}

static json_t *smpp_json(const sg_config_account_smpp_t *s) {
  if (s->system_id == NULL)
    return json_null();
  static const char *const all[] = {"transmitter", "receiver", "transceiver"};
  json_t *types = s->n_bind_type_names > 0
                      ? str_list(s->bind_type_names, s->n_bind_type_names)
                      : str_list(all, 3);
  return json_pack(
      "{s:s, s:o, s:I, s:o, s:I, s:o}", "system_id", s->system_id, "bind_types",
      types, "max_binds", (json_int_t)s->max_binds, "allowed_cidrs",
      str_list(s->allowed_cidrs, s->n_allowed_cidrs), "tps", (json_int_t)s->tps,
      "window", s->window ? json_integer(s->window) : json_null());
}

/* An account as the API shows it: every setting but the secrets, which
 * are only said to be set. */
static json_t *account_json(sg_engine_t *e, const sg_engine_account_t *a) {
  const sg_config_account_t *c = a->cfg;
  sg_engine_account_info_t info;
  sg_engine_account_info(e, a, &info);
  json_t *o = json_object();
  if (o == NULL)
    return NULL;
  json_object_set_new(o, "name", json_string(c->name));
  json_object_set_new(o, "source", json_string(info.api ? "api" : "config"));
  json_object_set_new(o, "disabled", json_boolean(c->disabled));
  json_object_set_new(o, "admin", json_boolean(c->admin));
  json_object_set_new(
      o, "default_region",
      str_or_null(c->default_region[0] ? c->default_region : NULL));
  json_object_set_new(o, "callback_url", str_or_null(c->callback_url));
  json_object_set_new(o, "inbound_url", str_or_null(c->inbound_url));
  json_object_set_new(o, "tps", json_integer(c->tps));
  json_object_set_new(o, "max_parts", json_integer(c->max_parts));
  json_object_set_new(o, "default_sender", str_or_null(c->default_sender));
  json_object_set_new(o, "senders", str_list(c->senders, c->n_senders));
  json_object_set_new(o, "webhook_events",
                      str_list(c->webhook_events, c->n_webhook_events));
  json_object_set_new(o, "webhook_secret_set",
                      json_boolean(c->webhook_secret != NULL));
  json_object_set_new(o, "password_set", json_boolean(c->password != NULL));
  json_object_set_new(o, "smpp", smpp_json(&c->smpp));
  json_object_set_new(o, "created_at", sg__rest_time_json(info.created_ms));
  json_object_set_new(o, "updated_at", sg__rest_time_json(info.updated_ms));
  return o;
}

static json_t *key_json(const sg_engine_key_t *k, int64_t now) {
  return json_pack("{s:s, s:o, s:s, s:b, s:o, s:o, s:o}", "id", k->id, "name",
                   str_or_null(k->name), "account", k->account->name, "active",
                   k->revoked_ms == 0 || k->revoked_ms > now, "created_at",
                   sg__rest_time_json(k->created_ms), "revoked_at",
                   sg__rest_time_json(k->revoked_ms), "last_used_at",
                   sg__rest_time_json(k->last_used_ms));
}

static int64_t now_ms(void) {
  uv_timeval64_t tv;
  uv_gettimeofday(&tv);
  return (int64_t)tv.tv_sec * 1000 + tv.tv_usec / 1000;
}

/* ---- answering the engine -------------------------------------------------
 */

static unsigned admin_http_status(int status) {
  switch (status) {
  case 0:
    return 200;
  case SG_EINVAL:
    return 422;
  case SG_EEXIST:
  case SG_EPERM:
  case SG_ESTATE:
    return 409;
  case SG_ENOENT:
    return 404;
  case SG_EBUSY:
    return 429;
  default:
    return 503;
  }
}

/* Answers a failed change; false when res is a success. */
static bool answer_failure(sg_http_req_t *req,
                           const sg_engine_admin_res_t *res) {
  if (res->status == 0)
    return false;
  unsigned st = admin_http_status(res->status);
  sg__rest_error(req, st, res->error_code ? res->error_code : "internal",
                 res->message, res->field[0] ? res->field : NULL,
                 st == 429 || st == 503 ? 1 : 0);
  return true;
}

/* Answers a change that failed at once (its queue full, stopping). */
static void answer_rc(sg_http_req_t *req, int rc) {
  if (rc == SG_EBUSY)
    sg__rest_error(req, 429, "busy",
                   "too many changes of accounts or keys are waiting; retry",
                   NULL, 1);
  else
    sg__rest_engine_error(req, rc);
}

static void account_done(sg_engine_t *e, const sg_engine_admin_res_t *res,
                         void *ud) {
  sg_http_req_t *req = ud;
  if (answer_failure(req, res))
    return;
  json_t *o = account_json(e, res->account);
  if (o != NULL && res->secret != NULL)
    json_object_set_new(o, "webhook_secret", json_string(res->secret));
  bool created = strcmp(sg_http_req_method(req), "POST") == 0;
  sg__rest_json(req, created ? 201 : 200, o);
}

/* ---- /v1/accounts ----------------------------------------------------------
 */

void sg__rest_accounts_list_cb(sg_http_req_t *req, void *data) {
  sg_rest_t *rest = data;
  if (sg__rest_admin(rest, req) == NULL)
    return;
  sg__rest_page_t pg;
  if (!sg__rest_page_args(req, NULL, 0, &pg))
    return;
  json_t *list = json_array();
  const sg_engine_account_t *a;
  int take = 1;
  for (size_t i = 0; list != NULL && take >= 0 &&
                     (a = sg_engine_account_at(rest->engine, i)) != NULL;
       i++) {
    if ((take = sg__rest_page_offer(&pg, a->name)) <= 0)
      continue;
    json_t *o = account_json(rest->engine, a);
    if (o == NULL || json_array_append_new(list, o) != 0) {
      json_decref(list);
      list = NULL;
    }
  }
  if (!sg__rest_page_check(req, &pg)) {
    json_decref(list);
    return;
  }
  sg__rest_json(req, 200,
                list ? json_pack("{s:o, s:o}", "data", list, "next_cursor",
                                 sg__rest_page_next(&pg))
                     : NULL);
}

/* ---- creations with an Idempotency-Key (admin_idem.h) ------------------ */

/* A failed creation that carried a key and met a record of it: the
 * record is read again and answers instead. */
static bool idem_recheck(sg__rest_idem_t *x, const sg_engine_admin_res_t *res) {
  return res->status != 0 &&
         sg__rest_idem_recheck(x, res->status, admin_http_status(res->status),
                               res->error_code, res->field, res->message);
}

static void account_create_done(sg_engine_t *e,
                                const sg_engine_admin_res_t *res, void *ud) {
  sg__rest_idem_t *x = ud;
  if (idem_recheck(x, res))
    return;
  account_done(e, res, x->req);
  sg__rest_idem_free(x);
}

static int account_create_run(sg__rest_idem_t *x,
                              const sg_store_admin_idem_t *idem) {
  sg_engine_t *e = x->rest->engine;
  size_t len;
  const char *body = (const char *)sg_http_req_body(x->req, &len);
  int rc = idem != NULL ? sg_engine_account_create_idem(
                              e, body, len, idem, account_create_done, x)
                        : sg_engine_account_create(e, body, len,
                                                   account_create_done, x);
  if (rc != 0)
    answer_rc(x->req, rc);
  return rc;
}

/* The account the first request made, as it is now; a webhook_secret the
 * gateway made then is not shown again (webhook_secret_set says it is). */
static void account_replay(sg__rest_idem_t *x,
                           const sg_store_admin_idem_t *rec) {
  static const char pre[] = "account:";
  const sg_engine_account_t *a =
      strncmp(rec->result, pre, sizeof pre - 1) == 0
          ? sg_engine_account_by_name(x->rest->engine,
                                      rec->result + sizeof pre - 1)
          : NULL;
  if (a == NULL)
    sg__rest_error(x->req, 409, "idempotency_conflict",
                   "this Idempotency-Key was used for another request",
                   "idempotency_key", 0);
  else
    sg__rest_idem_json(x->req, 201, account_json(x->rest->engine, a));
}

void sg__rest_accounts_create_cb(sg_http_req_t *req, void *data) {
  sg_rest_t *rest = data;
  const sg_engine_account_t *caller = sg__rest_admin(rest, req);
  if (caller != NULL)
    sg__rest_idem_post(rest, req, caller, account_create_run, account_replay,
                       NULL);
}

/* The account of the path, or NULL after answering 404. */
static const sg_engine_account_t *path_account(sg_rest_t *rest,
                                               sg_http_req_t *req) {
  const char *name = sg_http_req_param(req, "name");
  const sg_engine_account_t *a = sg_engine_account_by_name(rest->engine, name);
  if (a == NULL)
    sg__rest_error(req, 404, "not_found", "no such account", NULL, 0);
  return a;
}

void sg__rest_accounts_get_cb(sg_http_req_t *req, void *data) {
  sg_rest_t *rest = data;
  if (sg__rest_admin(rest, req) == NULL)
    return;
  const sg_engine_account_t *a = path_account(rest, req);
  if (a != NULL)
    sg__rest_json(req, 200, account_json(rest->engine, a));
}

/* A PATCH that sets a password: once it is applied, the account's web
 * sessions (opened with the old one) end. */
typedef struct patch_ctx {
  sg_rest_t *rest;
  sg_http_req_t *req;
  char *name;
} patch_ctx_t;

static void patch_done(sg_engine_t *e, const sg_engine_admin_res_t *res,
                       void *ud) {
  patch_ctx_t *x = ud;
  if (res->status == 0)
    sg__web_end_sessions(x->rest->web, x->name);
  account_done(e, res, x->req);
  sg_free(x->name);
  sg_free(x);
}

/* Whether a merge-patch body sets "password" (a body that is not a JSON
 * object is the engine's to refuse). */
static bool sets_password(const uint8_t *body, size_t len) {
  json_t *o = json_loadb((const char *)body, len, 0, NULL);
  bool yes = json_is_object(o) && json_object_get(o, "password") != NULL;
  json_decref(o);
  return yes;
}

void sg__rest_accounts_patch_cb(sg_http_req_t *req, void *data) {
  sg_rest_t *rest = data;
  if (sg__rest_admin(rest, req) == NULL)
    return;
  const sg_engine_account_t *a = path_account(rest, req);
  if (a == NULL)
    return;
  size_t len;
  const uint8_t *body = sg_http_req_body(req, &len);
  patch_ctx_t *x = NULL;
  if (rest->web != NULL && sets_password(body, len)) {
    x = sg_calloc(1, sizeof *x);
    if (x == NULL || (x->name = sg_strdup(a->name)) == NULL) {
      sg_free(x);
      answer_rc(req, SG_ENOMEM);
      return;
    }
    x->rest = rest;
    x->req = req;
  }
  int rc = sg_engine_account_update(rest->engine, a->name, (const char *)body,
                                    len, x ? patch_done : account_done,
                                    x ? (void *)x : (void *)req);
  if (rc != 0) {
    if (x != NULL) {
      sg_free(x->name);
      sg_free(x);
    }
    answer_rc(req, rc);
  }
}

void sg__rest_accounts_delete_cb(sg_http_req_t *req, void *data) {
  sg_rest_t *rest = data;
  if (sg__rest_admin(rest, req) == NULL)
    return;
  const sg_engine_account_t *a = path_account(rest, req);
  if (a == NULL)
    return;
  static const char patch[] = "{\"disabled\": true}";
  int rc = sg_engine_account_update(rest->engine, a->name, patch,
                                    sizeof patch - 1, account_done, req);
  if (rc != 0)
    answer_rc(req, rc);
}

/* ---- /v1/keys
 * ---------------------------------------------------------------- */

static void key_done(sg_engine_t *e, const sg_engine_admin_res_t *res,
                     void *ud) {
  (void)e;
  sg_http_req_t *req = ud;
  if (answer_failure(req, res))
    return;
  json_t *o = key_json(res->key, now_ms());
  if (o != NULL && res->secret != NULL)
    json_object_set_new(o, "key", json_string(res->secret));
  bool created = strcmp(sg_http_req_method(req), "POST") == 0;
  sg__rest_json(req, created ? 201 : 200, o);
}

void sg__rest_keys_list_cb(sg_http_req_t *req, void *data) {
  sg_rest_t *rest = data;
  if (sg__rest_admin(rest, req) == NULL)
    return;
  static const char *const filters[] = {"account"};
  sg__rest_page_t pg;
  if (!sg__rest_page_args(req, filters, 1, &pg))
    return;
  const char *account = NULL;
  for (size_t i = 0; i < sg_http_req_query_count(req); i++) {
    const char *n, *v;
    sg_http_req_query_at(req, i, &n, &v);
    if (strcmp(n, "account") != 0)
      continue;
    if (account != NULL) {
      sg__rest_error(req, 422, "unknown_argument",
                     "'account' is given once", n, 0);
      return;
    }
    account = v;
  }
  if (account != NULL &&
      sg_engine_account_by_name(rest->engine, account) == NULL) {
    sg__rest_error(req, 404, "not_found", "no such account", "account", 0);
    return;
  }
  json_t *list = json_array();
  int64_t now = now_ms();
  const sg_engine_key_t *k;
  int take = 1;
  for (size_t i = 0; list != NULL && take >= 0 &&
                     (k = sg_engine_key_at(rest->engine, i)) != NULL;
       i++) {
    if (account != NULL && strcmp(k->account->name, account) != 0)
      continue;
    if ((take = sg__rest_page_offer(&pg, k->id)) <= 0)
      continue;
    json_t *o = key_json(k, now);
    if (o == NULL || json_array_append_new(list, o) != 0) {
      json_decref(list);
      list = NULL;
    }
  }
  if (!sg__rest_page_check(req, &pg)) {
    json_decref(list);
    return;
  }
  sg__rest_json(req, 200,
                list ? json_pack("{s:o, s:o}", "data", list, "next_cursor",
                                 sg__rest_page_next(&pg))
                     : NULL);
}

/* The JSON object body, or NULL after answering 422. An empty body is {}
 * when empty_ok. */
static json_t *body_object(sg_http_req_t *req, bool empty_ok) {
  size_t len;
  const uint8_t *body = sg_http_req_body(req, &len);
  if (len == 0 && empty_ok)
    return json_object();
  json_error_t err;
  json_t *j = json_loadb((const char *)body, len, JSON_REJECT_DUPLICATES, &err);
  if (!json_is_object(j)) {
    json_decref(j);
    sg__rest_error(req, 422, "invalid_json", "the body must be a JSON object",
                   NULL, 0);
    return NULL;
  }
  return j;
}

/* Every field of o is one of names[0..n); false after answering 422. */
static bool only_fields(sg_http_req_t *req, json_t *o, const char *const *names,
                        size_t n) {
  const char *k;
  json_t *v;
  json_object_foreach(o, k, v) {
    bool known = false;
    for (size_t i = 0; i < n; i++)
      known |= strcmp(k, names[i]) == 0;
    if (!known) {
      sg__rest_error(req, 422, "unknown_field", "unknown field", k, 0);
      return false;
    }
  }
  return true;
}

static void key_create_done(sg_engine_t *e, const sg_engine_admin_res_t *res,
                            void *ud) {
  sg__rest_idem_t *x = ud;
  if (idem_recheck(x, res))
    return;
  key_done(e, res, x->req);
  sg__rest_idem_free(x);
}

/* The key the first request made, as GET /v1/keys shows it: its secret
 * was shown once and is not kept, so `key` is absent. */
static void key_replay(sg__rest_idem_t *x, const sg_store_admin_idem_t *rec) {
  static const char pre[] = "key:";
  const sg_engine_key_t *k = NULL;
  for (size_t i = 0; strncmp(rec->result, pre, sizeof pre - 1) == 0 &&
                     (k = sg_engine_key_at(x->rest->engine, i)) != NULL;
       i++)
    if (strcmp(k->id, rec->result + sizeof pre - 1) == 0)
      break;
  if (k == NULL)
    sg__rest_error(x->req, 409, "idempotency_conflict",
                   "this Idempotency-Key was used for another request",
                   "idempotency_key", 0);
  else
    sg__rest_idem_json(x->req, 201, key_json(k, now_ms()));
}

typedef struct key_args {
  char account[SG_CONFIG_KEY_MAX];
  char name[72];
  bool has_name;
} key_args_t;

static int key_create_run(sg__rest_idem_t *x,
                          const sg_store_admin_idem_t *idem) {
  key_args_t *k = x->arg;
  sg_engine_t *e = x->rest->engine;
  const char *name = k->has_name ? k->name : NULL;
  int rc = idem != NULL ? sg_engine_key_create_idem(e, k->account, name, idem,
                                                    key_create_done, x)
                        : sg_engine_key_create(e, k->account, name,
                                               key_create_done, x);
  if (rc != 0)
    answer_rc(x->req, rc);
  return rc;
}

void sg__rest_keys_create_cb(sg_http_req_t *req, void *data) {
  sg_rest_t *rest = data;
  const sg_engine_account_t *caller = sg__rest_admin(rest, req);
  if (caller == NULL)
    return;
  json_t *b = body_object(req, false);
  static const char *const fields[] = {"account", "name"};
  if (b == NULL || !only_fields(req, b, fields, 2)) {
    json_decref(b);
    return;
  }
  json_t *acc = json_object_get(b, "account"), *nm = json_object_get(b, "name");
  if (!json_is_string(acc) ||
      (nm != NULL && !json_is_null(nm) && !json_is_string(nm))) {
    sg__rest_error(req, 422, "invalid_field",
                   acc == NULL || !json_is_string(acc)
                       ? "'account' (a string) is required"
                       : "'name' must be a string",
                   !json_is_string(acc) ? "account" : "name", 0);
    json_decref(b);
    return;
  }
  key_args_t *k = sg_calloc(1, sizeof *k);
  if (k == NULL ||
      json_string_length(acc) >= sizeof k->account ||
      (json_is_string(nm) && json_string_length(nm) >= sizeof k->name)) {
    sg_free(k);
    json_decref(b);
    if (k == NULL)
      answer_rc(req, SG_ENOMEM);
    else
      sg__rest_error(req, 422, "invalid_field",
                     json_string_length(acc) >= sizeof k->account
                         ? "no account has so long a name"
                         : "a key's name has 1 to 64 octets",
                     json_string_length(acc) >= sizeof k->account ? "account"
                                                                  : "name",
                     0);
    return;
  }
  snprintf(k->account, sizeof k->account, "%s", json_string_value(acc));
  k->has_name = json_is_string(nm);
  if (k->has_name)
    snprintf(k->name, sizeof k->name, "%s", json_string_value(nm));
  json_decref(b);
  sg__rest_idem_post(rest, req, caller, key_create_run, key_replay, k);
}

void sg__rest_keys_revoke_cb(sg_http_req_t *req, void *data) {
  sg_rest_t *rest = data;
  if (sg__rest_admin(rest, req) == NULL)
    return;
  int rc = sg_engine_key_revoke(rest->engine, sg_http_req_param(req, "id"),
                                key_done, req);
  if (rc != 0)
    answer_rc(req, rc);
}

/* A grace period: whole seconds, or a duration "90s", "15m", "2h", "1d".
 * Returns milliseconds, or -1. */
static int64_t grace_ms(json_t *v) {
  if (v == NULL || json_is_null(v))
    return 0;
  if (json_is_integer(v))
    return json_integer_value(v) >= 0 && json_integer_value(v) <= 30 * 86400
               ? json_integer_value(v) * 1000
               : -1;
  const char *s = json_string_value(v);
  if (s == NULL || !isdigit((unsigned char)s[0]))
    return -1;
  char *end;
  long long n = strtoll(s, &end, 10);
  static const struct {
    const char *unit;
    int64_t ms;
  } units[] = {{"s", 1000}, {"m", 60000}, {"h", 3600000}, {"d", 86400000}};
  for (size_t i = 0; i < 4; i++)
    if (strcmp(end, units[i].unit) == 0 && n <= 30LL * 86400000 / units[i].ms)
      return n * units[i].ms;
  return -1;
}

void sg__rest_keys_rotate_cb(sg_http_req_t *req, void *data) {
  sg_rest_t *rest = data;
  if (sg__rest_admin(rest, req) == NULL)
    return;
  json_t *b = body_object(req, true);
  static const char *const fields[] = {"grace_period"};
  if (b == NULL || !only_fields(req, b, fields, 1)) {
    json_decref(b);
    return;
  }
  int64_t g = grace_ms(json_object_get(b, "grace_period"));
  json_decref(b);
  if (g < 0) {
    sg__rest_error(req, 422, "invalid_field",
                   "the grace period is whole seconds or a duration like "
                   "\"15m\", \"2h\", \"1d\", at most 30 days",
                   "grace_period", 0);
    return;
  }
  int rc = sg_engine_key_rotate(rest->engine, sg_http_req_param(req, "id"), g,
                                key_done, req);
  if (rc != 0)
    answer_rc(req, rc);
}
