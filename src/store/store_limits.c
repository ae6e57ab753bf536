/* store_limits.c - the public requests of store.h "LIMITS": the usage and
 * balances of every account, and balance credits. Each checks its
 * arguments, copies them into an SG__REQ_LIMITS_* request that owns its
 * memory and queues it on the backend; and runs the callbacks of those
 * requests when they come back.
 *
 * Like store_req.c, it must never touch the database or call a callback
 * from inside a request function.
 */
#include "store/limits_int.h"

#include <string.h>

#include "core/error.h"

static int limits_begin(sg_store_t *st, bool write, sg__any_cb cb, void *data,
                        sg__store_req_t **out, sg__limits_req_t **lim) {
  void *m = NULL;
  *lim = NULL;
  int rc = sg__store_req_begin(
      st, write ? SG__REQ_LIMITS_WRITE : SG__REQ_LIMITS_READ, cb, data,
      sizeof(**lim), out, &m);
  if (rc < 0)
    return rc;
  (*out)->in.limits = m;
  *lim = m;
  return 0;
}

static int limits_queue(sg_store_t *st, sg__store_req_t *r) {
  return sg__store_req_queue(st, r, true);
}

int sg_store_usage_get(sg_store_t *st, const char *day, const char *month,
                       sg_store_usage_cb cb, void *data) {
  if (day == NULL || month == NULL || strlen(day) != 10 || strlen(month) != 7)
    return SG_EINVAL;
  sg__store_req_t *r;
  sg__limits_req_t *l;
  int rc = limits_begin(st, false, (sg__any_cb)cb, data, &r, &l);
  if (rc < 0)
    return rc;
  memcpy(l->day, day, sizeof l->day);
  memcpy(l->month, month, sizeof l->month);
  return limits_queue(st, r);
}

int sg_store_balance_credit(sg_store_t *st, int64_t account_id,
                            int64_t amount_micro, sg_store_balance_cb cb,
                            void *data) {
  if (account_id <= 0 || amount_micro == 0 ||
      amount_micro > SG_STORE_BALANCE_MAX ||
      amount_micro < -SG_STORE_BALANCE_MAX)
    return SG_EINVAL;
  sg__store_req_t *r;
  sg__limits_req_t *l;
  int rc = limits_begin(st, true, (sg__any_cb)cb, data, &r, &l);
  if (rc < 0)
    return rc;
  l->account_id = account_id;
  l->amount = amount_micro;
  return limits_queue(st, r);
}

void sg__limits_complete(sg_store_t *st, sg__store_req_t *r) {
  const sg__limits_req_t *l = r->in.limits;
  bool ok = r->status == 0;
  if (r->kind == SG__REQ_LIMITS_WRITE)
    ((sg_store_balance_cb)r->cb)(st, r->status, ok ? l->balance : 0, r->data);
  else
    ((sg_store_usage_cb)r->cb)(st, r->status, ok ? l->rows : NULL,
                               ok ? l->n_rows : 0, r->data);
}
