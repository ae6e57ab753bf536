/* limits_int.h - the SG__REQ_LIMITS_* requests of store_limits.c: balance
 * credits (a write) and the usage and balances of every account (a read).
 * Not for use outside src/store/.
 */
#ifndef SG_STORE_LIMITS_INT_H
#define SG_STORE_LIMITS_INT_H

#include "store/store_int.h"

typedef struct sg__limits_req {
  /* in */
  int64_t account_id; /* credit */
  int64_t amount;     /* credit, micro-units */
  char day[11];       /* usage */
  char month[8];
  /* out */
  int64_t balance; /* credit: after it */
  sg_store_usage_t *rows;
  size_t n_rows;
} sg__limits_req_t;

#endif
