/* limits.c - an account's quota and prepaid balance on the loop: the
 * counts loaded from the store at start, the holds of requests waiting for
 * their commit, the release of those holds, and balance top-ups
 * (engine/limits.h).
 *
 * A request's parts and charge are held from the check until the store's
 * answer; the check counts what is held, so two requests in flight can
 * never pass a limit together. The durable count and charge are written by
 * the store in the transaction of the messages (store.h "LIMITS"). This
 * file must never write anything else, nor decide prices (core/limits.h).
 */
#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "core/error.h"
#include "core/limits.h"
#include "engine/admin_idem.h"
#include "engine/engine_int.h"
#include "engine/limits.h"
#include "engine/limits_int.h"

typedef struct lim_acct {
  char day[11];
  char month[8];
  uint64_t day_used, month_used; /* committed parts */
  uint64_t day_held, month_held; /* parts of requests in flight */
  int64_t balance;               /* committed */
  int64_t held;                  /* money of requests in flight */
} lim_acct_t;

struct sg__limits {
  lim_acct_t *a; /* one per e->accounts */
  void (*loaded)(sg_engine_t *e, int status);
};

static ptrdiff_t index_of(const sg_engine_t *e, const sg_engine_account_t *p) {
  for (size_t i = 0; i < e->n_accounts; i++)
    if (&e->accounts[i].pub == p)
      return (ptrdiff_t)i;
  return -1;
}

bool sg__limits_billed(const sg_engine_account_t *a) {
  return a->cfg != NULL && a->cfg->billing.enabled;
}

static bool limited(const sg_config_account_t *c) {
  return c->quota.daily > 0 || c->quota.monthly > 0 || c->billing.enabled;
}

/* Starts the account's counts again when the UTC day or month changed. */
static void roll(lim_acct_t *l, const sg_limits_period_t *p) {
  if (strcmp(l->day, p->day) != 0) {
    memcpy(l->day, p->day, sizeof l->day);
    l->day_used = l->day_held = 0;
  }
  if (strcmp(l->month, p->month) != 0) {
    memcpy(l->month, p->month, sizeof l->month);
    l->month_used = l->month_held = 0;
  }
}

/* ---- loading ------------------------------------------------------------- */

static void usage_cb(sg_store_t *st, int status, const sg_store_usage_t *rows,
                     size_t n, void *data) {
  (void)st;
  sg_engine_t *e = data;
  sg__op_end(e);
  for (size_t i = 0; status == 0 && i < n; i++)
    for (size_t k = 0; k < e->n_accounts; k++)
      if (e->accounts[k].pub.id == rows[i].account_id) {
        lim_acct_t *l = &e->limits->a[k];
        l->day_used = rows[i].day_parts;
        l->month_used = rows[i].month_parts;
        l->balance = rows[i].has_balance ? rows[i].balance_micro : 0;
      }
  if (status != 0)
    sg__log(e, SG_ENGINE_LOG_ERROR, "cannot read quota use and balances: %s",
            sg_strerror(status));
  e->limits->loaded(e, status == 0 ? 0 : SG_EIO);
}

int sg__limits_load(sg_engine_t *e, void (*loaded)(sg_engine_t *e, int st)) {
  struct sg__limits *lim = sg_calloc(1, sizeof *lim);
  /* Room for every account the engine can hold, those made through the
   * API later included: they index this array as the configured ones do. */
  size_t cap = e->accounts_cap > e->n_accounts ? e->accounts_cap : e->n_accounts;
  lim_acct_t *a = sg_calloc(cap ? cap : 1, sizeof *a);
  if (lim == NULL || a == NULL) {
    sg_free(lim);
    sg_free(a);
    return SG_ENOMEM;
  }
  lim->a = a;
  lim->loaded = loaded;
  e->limits = lim;
  sg_limits_period_t p;
  sg_limits_period(sg__now_ms(e), &p);
  for (size_t i = 0; i < e->n_accounts; i++)
    roll(&a[i], &p);
  int rc = sg_store_usage_get(e->st, p.day, p.month, usage_cb, e);
  if (rc != 0)
    return rc;
  sg__op_begin(e);
  return 0;
}

void sg__limits_free(sg_engine_t *e) {
  if (e->limits == NULL)
    return;
  sg_free(e->limits->a);
  sg_free(e->limits);
  e->limits = NULL;
}

/* ---- holds --------------------------------------------------------------- */

static unsigned seconds_until(int64_t now, int64_t end) {
  int64_t s = (end - now + 999) / 1000;
  return s < 1 ? 1 : (unsigned)s;
}

static int refuse_quota(sg__refusal_t *why, const char *which, uint32_t limit,
                        uint64_t used, uint32_t parts, unsigned retry) {
  why->status = SG_EBUSY;
  why->code = "quota_exceeded";
  why->retry_after_s = retry;
  snprintf(why->message, sizeof why->message,
           "over the account's %s quota: %llu of %u parts used, this request "
           "needs %u; it starts again in %u s",
           which, (unsigned long long)used, limit, parts, retry);
  return -1;
}

static int check_quota(const sg_config_quota_t *q, const lim_acct_t *l,
                       const sg_limits_period_t *p, int64_t now, uint32_t parts,
                       sg__refusal_t *why) {
  uint64_t month = l->month_used + l->month_held;
  if (q->monthly > 0 && month + parts > q->monthly)
    return refuse_quota(why, "monthly", q->monthly, month, parts,
                        seconds_until(now, p->month_end_ms));
  uint64_t day = l->day_used + l->day_held;
  if (q->daily > 0 && day + parts > q->daily)
    return refuse_quota(why, "daily", q->daily, day, parts,
                        seconds_until(now, p->day_end_ms));
  return 0;
}

static int check_balance(const lim_acct_t *l, uint32_t parts, int64_t charge,
                         sg__refusal_t *why) {
  int64_t free_micro = l->balance - l->held;
  if (charge <= free_micro)
    return 0;
  char have[32], need[32];
  sg_limits_amount_format(free_micro > 0 ? free_micro : 0, have);
  sg_limits_amount_format(charge, need);
  why->status = SG_ENOFUNDS;
  why->code = "insufficient_balance";
  why->retry_after_s = 0;
  snprintf(why->message, sizeof why->message,
           "the balance (%s) does not cover the %u part(s) of this request "
           "(%s); top it up",
           have, parts, need);
  return -1;
}

int sg__limits_hold(sg_engine_t *e, const sg_engine_account_t *a, int64_t now,
                    uint32_t parts, int64_t charge, sg__hold_t *h,
                    sg__refusal_t *why) {
  memset(h, 0, sizeof *h);
  ptrdiff_t i = index_of(e, a);
  if (i < 0 || e->limits == NULL || !limited(a->cfg))
    return 0;
  lim_acct_t *l = &e->limits->a[i];
  sg_limits_period_t p;
  sg_limits_period(now, &p);
  roll(l, &p);
  if (check_quota(&a->cfg->quota, l, &p, now, parts, why) != 0)
    return -1;
  if (a->cfg->billing.enabled && check_balance(l, parts, charge, why) != 0)
    return -1;
  h->on = true;
  h->acct = (size_t)i;
  memcpy(h->day, l->day, sizeof h->day);
  memcpy(h->month, l->month, sizeof h->month);
  h->parts = parts;
  h->charge = a->cfg->billing.enabled ? charge : 0;
  l->day_held += parts;
  l->month_held += parts;
  l->held += h->charge;
  return 0;
}

void sg__limits_release(sg_engine_t *e, sg__hold_t *h, bool committed) {
  if (!h->on || e->limits == NULL)
    return;
  h->on = false;
  lim_acct_t *l = &e->limits->a[h->acct];
  if (strcmp(l->day, h->day) == 0) {
    l->day_held -= h->parts;
    if (committed)
      l->day_used += h->parts;
  }
  if (strcmp(l->month, h->month) == 0) {
    l->month_held -= h->parts;
    if (committed)
      l->month_used += h->parts;
  }
  l->held -= h->charge;
  if (committed)
    l->balance -= h->charge;
}

/* ---- reading and crediting ----------------------------------------------- */

int sg_engine_usage(sg_engine_t *e, const sg_engine_account_t *a,
                    sg_engine_usage_t *out) {
  if (e == NULL || a == NULL || out == NULL)
    return SG_EINVAL;
  if (e->limits == NULL)
    return SG_ESTATE;
  ptrdiff_t i = index_of(e, a);
  if (i < 0)
    return SG_EINVAL;
  lim_acct_t *l = &e->limits->a[i];
  sg_limits_period_t p;
  sg_limits_period(sg__now_ms(e), &p);
  roll(l, &p);
  memset(out, 0, sizeof *out);
  out->billing = a->cfg->billing.enabled;
  out->balance_micro = l->balance;
  out->held_micro = l->held;
  out->daily_limit = a->cfg->quota.daily;
  out->monthly_limit = a->cfg->quota.monthly;
  out->day_used = l->day_used;
  out->month_used = l->month_used;
  out->day_held = l->day_held;
  out->month_held = l->month_held;
  memcpy(out->day, p.day, sizeof out->day);
  memcpy(out->month, p.month, sizeof out->month);
  out->day_end_ms = p.day_end_ms;
  out->month_end_ms = p.month_end_ms;
  return 0;
}

typedef struct credit_ctx {
  sg_engine_t *e;
  size_t acct;
  sg_engine_credit_cb cb;
  void *ud;
} credit_ctx_t;

static void credit_cb(sg_store_t *st, int status, int64_t balance, void *data) {
  (void)st;
  credit_ctx_t *x = data;
  sg_engine_t *e = x->e;
  sg__op_end(e);
  /* The store's answer is the committed balance: charges answered before
   * it are in it, charges answered after it are not yet. */
  if (status == 0 && e->limits != NULL)
    e->limits->a[x->acct].balance = balance;
  if (status == 0)
    sg__log(e, SG_ENGINE_LOG_INFO, "account %s credited; balance now %lld",
            e->accounts[x->acct].pub.name, (long long)balance);
  x->cb(e, status, balance, x->ud);
  sg_free(x);
  sg__maybe_stopped(e);
}

/* A credit, with its Idempotency-Key record when idem is not NULL. */
static int credit_start(sg_engine_t *e, const sg_engine_account_t *a,
                        int64_t amount_micro, const sg_store_admin_idem_t *idem,
                        sg_engine_credit_cb cb, void *ud) {
  if (e == NULL || a == NULL || cb == NULL || amount_micro == 0 ||
      amount_micro > SG_STORE_BALANCE_MAX ||
      amount_micro < -SG_STORE_BALANCE_MAX)
    return SG_EINVAL;
  ptrdiff_t i = index_of(e, a);
  if (i < 0)
    return SG_EINVAL;
  if (e->state != SG__RUNNING || e->limits == NULL)
    return SG_ECLOSED;
  credit_ctx_t *x = sg_calloc(1, sizeof *x);
  if (x == NULL)
    return SG_ENOMEM;
  *x = (credit_ctx_t){e, (size_t)i, cb, ud};
  int rc;
  if (idem != NULL) {
    sg_store_admin_idem_t rec = *idem;
    snprintf(rec.result, sizeof rec.result, "credit:%s", a->name);
    rc = sg_store_balance_credit_idem(e->st, a->id, amount_micro, &rec,
                                      credit_cb, x);
  } else {
    rc = sg_store_balance_credit(e->st, a->id, amount_micro, credit_cb, x);
  }
  if (rc != 0) {
    sg_free(x);
    return rc;
  }
  sg__op_begin(e);
  return 0;
}

int sg_engine_credit(sg_engine_t *e, const sg_engine_account_t *a,
                     int64_t amount_micro, sg_engine_credit_cb cb, void *ud) {
  return credit_start(e, a, amount_micro, NULL, cb, ud);
}

int sg_engine_credit_idem(sg_engine_t *e, const sg_engine_account_t *a,
                          int64_t amount_micro,
                          const sg_store_admin_idem_t *idem,
                          sg_engine_credit_cb cb, void *ud) {
  if (idem == NULL)
    return SG_EINVAL;
  return credit_start(e, a, amount_micro, idem, cb, ud);
}
