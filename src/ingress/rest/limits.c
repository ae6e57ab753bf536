/* limits.c - the REST side of an account's prepaid balance and quota:
 *   GET  /v1/balance                the caller's own balance and quota use
 *   POST /v1/accounts/{name}/credit an admin tops an account up
 * The amounts are decimal strings ("12.50"), exact to a millionth, never
 * JSON floats; the integer micro-units are given beside them.
 *
 * Like every handler it only reads requests and answers: the engine keeps
 * the counts (engine/limits.h) and writes through the store.
 */
#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "core/error.h"
#include "core/limits.h"
#include "engine/admin_idem.h"
#include "engine/limits.h"
#include "ingress/rest/admin_idem.h"
#include "ingress/rest/rest_int.h"

static json_t *amount_json(int64_t micro) {
  char s[32];
  sg_limits_amount_format(micro, s);
  return json_string(s);
}

/* One quota period: {"limit", "used", "remaining", "resets_at"}; limit
 * and remaining are null without a limit. */
static json_t *period_json(uint32_t limit, uint64_t used, uint64_t held,
                           int64_t end_ms) {
  uint64_t taken = used + held;
  json_t *o =
      json_pack("{s:I, s:I, s:o}", "used", (json_int_t)used, "held",
                (json_int_t)held, "resets_at", sg__rest_time_json(end_ms));
  if (o == NULL)
    return NULL;
  bool bad = json_object_set_new(o, "limit",
                                 limit ? json_integer(limit) : json_null()) ||
             json_object_set_new(
                 o, "remaining",
                 limit ? json_integer(taken >= limit ? 0 : limit - taken)
                       : json_null());
  if (bad) {
    json_decref(o);
    return NULL;
  }
  return o;
}

void sg__rest_balance_cb(sg_http_req_t *req, void *data) {
  sg_rest_t *rest = data;
  const sg_engine_account_t *acct = sg__rest_auth(rest, req);
  if (acct == NULL)
    return;
  sg_engine_usage_t u;
  int rc = sg_engine_usage(rest->engine, acct, &u);
  if (rc != 0) {
    sg__rest_engine_error(req, rc == SG_ESTATE ? SG_ECLOSED : rc);
    return;
  }
  json_t *o = json_pack(
      "{s:s, s:b, s:o, s:o, s:{s:o, s:o}}", "account", acct->name, "billing",
      u.billing, "balance",
      u.billing ? amount_json(u.balance_micro) : json_null(), "balance_micro",
      u.billing ? json_integer(u.balance_micro) : json_null(), "quota", "daily",
      period_json(u.daily_limit, u.day_used, u.day_held, u.day_end_ms),
      "monthly",
      period_json(u.monthly_limit, u.month_used, u.month_held, u.month_end_ms));
  sg__rest_json(req, 200, o);
}

/* ---- POST /v1/accounts/{name}/credit ------------------------------------- */

typedef struct credit_req {
  const sg_engine_account_t *acct;
  int64_t amount;
} credit_req_t;

static json_t *credit_json(const char *account, int64_t amount,
                           int64_t balance) {
  return json_pack("{s:s, s:o, s:o, s:I}", "account", account, "credited",
                   amount_json(amount), "balance", amount_json(balance),
                   "balance_micro", (json_int_t)balance);
}

static void credited(sg_engine_t *e, int status, int64_t balance, void *ud) {
  (void)e;
  sg__rest_idem_t *x = ud;
  credit_req_t *c = x->arg;
  if (status == SG_EEXIST &&
      sg__rest_idem_recheck(x, status, 409, "idempotency_conflict",
                            "idempotency_key",
                            "another request used this idempotency key"))
    return;
  if (status == SG_ERANGE) {
    sg__rest_error(x->req, 422, "invalid_amount",
                   "the balance would go below 0 or above 1000000000", "amount",
                   0);
  } else if (status != 0) {
    sg__rest_engine_error(x->req, status);
  } else {
    sg__rest_json(x->req, 200, credit_json(c->acct->name, c->amount, balance));
  }
  sg__rest_idem_free(x);
}

/* The first answer again: the amount credited then and the balance
 * right after it (not the balance now). */
static void credit_replay(sg__rest_idem_t *x,
                          const sg_store_admin_idem_t *rec) {
  credit_req_t *c = x->arg;
  static const char pre[] = "credit:";
  if (strncmp(rec->result, pre, sizeof pre - 1) != 0 ||
      strcmp(rec->result + sizeof pre - 1, c->acct->name) != 0)
    sg__rest_error(x->req, 409, "idempotency_conflict",
                   "this Idempotency-Key was used for another request",
                   "idempotency_key", 0);
  else
    sg__rest_idem_json(x->req, 200,
                       credit_json(c->acct->name, rec->amount, rec->balance));
}

static int credit_run(sg__rest_idem_t *x, const sg_store_admin_idem_t *idem) {
  credit_req_t *c = x->arg;
  sg_engine_t *e = x->rest->engine;
  int rc = idem != NULL
               ? sg_engine_credit_idem(e, c->acct, c->amount, idem, credited, x)
               : sg_engine_credit(e, c->acct, c->amount, credited, x);
  if (rc != 0)
    sg__rest_engine_error(x->req, rc);
  return rc;
}

/* The amount of the body {"amount": "12.50"}, or -1 after answering. */
static int body_amount(sg_http_req_t *req, int64_t *out) {
  size_t len = 0;
  const uint8_t *body = sg_http_req_body(req, &len);
  json_error_t jerr;
  json_t *root =
      json_loadb((const char *)body, len, JSON_REJECT_DUPLICATES, &jerr);
  json_t *v = json_is_object(root) ? json_object_get(root, "amount") : NULL;
  int rc = -1;
  if (!json_is_object(root) || json_object_size(root) != (v != NULL))
    sg__rest_error(req, 400, "invalid_json",
                   "the body must be a JSON object such as {\"amount\": "
                   "\"12.50\"}",
                   NULL, 0);
  else if (v == NULL)
    sg__rest_error(req, 422, "missing_field", "'amount' is required", "amount",
                   0);
  else if (!json_is_string(v))
    sg__rest_error(req, 422, "invalid_type",
                   "'amount' must be a string of a decimal number such as "
                   "\"12.50\" (a JSON number could lose cents)",
                   "amount", 0);
  else if (sg_limits_amount_parse(json_string_value(v), json_string_length(v),
                                  out) != 0 ||
           *out == 0)
    sg__rest_error(req, 422, "invalid_amount",
                   "'amount' must be a non-zero decimal number with at most "
                   "6 decimals and at most 1000000000, such as \"12.50\" "
                   "(negative to correct a mistake)",
                   "amount", 0);
  else
    rc = 0;
  json_decref(root);
  return rc;
}

void sg__rest_credit_cb(sg_http_req_t *req, void *data) {
  sg_rest_t *rest = data;
  const sg_engine_account_t *caller = sg__rest_admin(rest, req);
  if (caller == NULL)
    return;
  const char *name = sg_http_req_param(req, "name");
  const sg_engine_account_t *acct =
      sg_engine_account_by_name(rest->engine, name ? name : "");
  if (acct == NULL) {
    sg__rest_error(req, 404, "not_found", "no account of that name", NULL, 0);
    return;
  }
  if (!acct->cfg->billing.enabled) {
    sg__rest_error(req, 409, "billing_disabled",
                   "this account has no billing.prices: it is not charged, "
                   "so it has no balance to credit",
                   NULL, 0);
    return;
  }
  int64_t amount = 0;
  if (body_amount(req, &amount) != 0)
    return;
  credit_req_t *c = sg_malloc(sizeof *c);
  if (c == NULL) {
    sg__rest_engine_error(req, SG_ENOMEM);
    return;
  }
  *c = (credit_req_t){acct, amount};
  sg__rest_idem_post(rest, req, caller, credit_run, credit_replay, c);
}
