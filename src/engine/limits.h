/* limits.h - an account's quota use and prepaid balance, as the engine
 * holds them, and balance top-ups (docs/configuration.md "Limits and
 * billing").
 *
 * sg_engine_submit() enforces them (engine.h): a request whose parts would
 * pass the account's daily or monthly quota fails with SG_EBUSY
 * ("quota_exceeded", retry_after_s until the period ends), one whose parts
 * the balance cannot pay for with SG_ENOFUNDS ("insufficient_balance").
 * Parts are held in memory on the loop from the check until the store's
 * answer, so concurrent requests can never pass a limit together; the
 * count and the charge are written in the transaction that stores the
 * messages (store.h "LIMITS").
 *
 * Quotas count parts (a 3-part message is 3), whichever ingress it came
 * from, so a message split by smsgate and one split by the customer count
 * the same. A charge is the price of the recipient's prefix times the
 * message's parts. A message that later fails is not refunded: the
 * operator may have taken (and billed) it.
 *
 * Loop thread only, like the rest of the engine.
 */
#ifndef SG_ENGINE_LIMITS_H
#define SG_ENGINE_LIMITS_H

#include <stdbool.h>
#include <stdint.h>

#include "engine/engine.h"

typedef struct sg_engine_usage {
  bool billing;          /* the account has billing.prices */
  int64_t balance_micro; /* committed balance (0 when never credited) */
  int64_t held_micro;    /* held by requests waiting for their commit */
  uint32_t daily_limit;  /* 0: no limit */
  uint32_t monthly_limit;
  uint64_t day_used;   /* committed parts in the current UTC day */
  uint64_t month_used; /* and month */
  uint64_t day_held, month_held;
  char day[11];         /* "2026-11-26" */
  char month[8];        /* "2026-11" */
  int64_t day_end_ms;   /* when the day's count starts again (Unix ms) */
  int64_t month_end_ms; /* and the month's */
} sg_engine_usage_t;

/* Fills *out for account a at the engine's clock. Synchronous, no I/O.
 * Returns 0, SG_EINVAL (NULL argument, not this engine's account),
 * SG_ESTATE (not started). */
int sg_engine_usage(sg_engine_t *e, const sg_engine_account_t *a,
                    sg_engine_usage_t *out);

/* status 0 with the committed balance after the credit; SG_ERANGE (it
 * would pass SG_STORE_BALANCE_MAX or go below 0; nothing changed); SG_EIO. */
typedef void (*sg_engine_credit_cb)(sg_engine_t *e, int status,
                                    int64_t balance_micro, void *ud);

/* Adds amount_micro (non-zero; negative corrects a mistake) to account a's
 * balance, durably; cb fires after the commit, on the loop, never inside
 * this call. Returns 0 (cb will fire), SG_EINVAL (NULL, or amount 0 or
 * beyond +-SG_STORE_BALANCE_MAX), SG_ECLOSED (not running), SG_EBUSY. */
int sg_engine_credit(sg_engine_t *e, const sg_engine_account_t *a,
                     int64_t amount_micro, sg_engine_credit_cb cb, void *ud);

#endif
