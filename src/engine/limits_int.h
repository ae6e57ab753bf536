/* limits_int.h - what submit.c and engine.c use of limits.c: loading the
 * counts at start, and holding a request's parts and charge until its
 * commit. Nothing outside src/engine includes it.
 */
#ifndef SG_ENGINE_LIMITS_INT_H
#define SG_ENGINE_LIMITS_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "engine/engine.h"

/* What one request holds: parts of the quota periods it was checked in,
 * and money. */
typedef struct sg__hold {
  bool on;
  size_t acct; /* index in e->accounts */
  char day[11];
  char month[8];
  uint32_t parts;
  int64_t charge;
} sg__hold_t;

/* Why a hold was refused: status SG_EBUSY (quota_exceeded) or SG_ENOFUNDS
 * (insufficient_balance). */
typedef struct sg__refusal {
  int status;
  const char *code;
  unsigned retry_after_s;
  char message[200];
} sg__refusal_t;

/* Reads every account's usage and balance from the store, then calls
 * loaded(e, status) (never inside this call). Returns 0 or an error
 * (loaded is not called then). */
int sg__limits_load(sg_engine_t *e, void (*loaded)(sg_engine_t *e, int st));
void sg__limits_free(sg_engine_t *e);

/* Whether the account's quota and balance take `parts` more parts costing
 * `charge`: if so, holds them in *h and returns 0; otherwise fills *why
 * and returns -1. An account with neither quota nor billing holds nothing
 * (h->on stays false). */
int sg__limits_hold(sg_engine_t *e, const sg_engine_account_t *a, int64_t now,
                    uint32_t parts, int64_t charge, sg__hold_t *h,
                    sg__refusal_t *why);

/* Ends a hold: committed moves it to the used counts and the balance, else
 * it is given back. A hold of a period that has ended only leaves it. */
void sg__limits_release(sg_engine_t *e, sg__hold_t *h, bool committed);

/* Whether the account pays per part (billing.prices set). */
bool sg__limits_billed(const sg_engine_account_t *a);

#endif
