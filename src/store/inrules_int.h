/* inrules_int.h - the SG__REQ_INR_* requests of store_inrules.c: the
 * inbound rules and the reply counts. Not for use outside src/store/.
 */
#ifndef SG_STORE_INRULES_INT_H
#define SG_STORE_INRULES_INT_H

#include "store/store_int.h"

typedef enum sg__inr_op {
  /* writes */
  SG__INR_SAVE = 0,
  SG__INR_REPLY_SET,
  /* reads */
  SG__INR_LOAD,
  SG__INR_REPLY_LOAD
} sg__inr_op_t;

typedef struct sg__inr_req {
  sg__inr_op_t op;
  /* in (arena copies) and out */
  sg_store_inrule_t *rules; /* SAVE in; SAVE and LOAD out */
  size_t n;
  bool managed, saved;
  sg_store_replycount_t reply;   /* REPLY_SET */
  int64_t since_ms;              /* REPLY_SET: expire before; REPLY_LOAD */
  sg_store_replycount_t *counts; /* REPLY_LOAD out */
  size_t n_counts;
} sg__inr_req_t;

#endif
