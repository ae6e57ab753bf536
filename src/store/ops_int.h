/* ops_int.h - the SG__REQ_OPS_* requests of store_ops.c (store_ops.h): the
 * connectors' queues, their purge, a message retried. Not for use outside
 * src/store/.
 */
#ifndef SG_STORE_OPS_INT_H
#define SG_STORE_OPS_INT_H

#include "store/store_int.h"
#include "store/store_ops.h"

typedef enum sg__ops_op {
  /* writes */
  SG__OPS_PURGE = 0,
  SG__OPS_RETRY,
  /* reads */
  SG__OPS_QUEUES,
  SG__OPS_OUTCOMES
} sg__ops_op_t;

typedef struct sg__ops_req {
  sg__ops_op_t op;
  /* in (arena copies) */
  const char *connector;  /* PURGE, QUEUES (NULL: every one) */
  const char *reason;     /* PURGE, RETRY */
  unsigned max;           /* PURGE */
  char id[SG_ID_LEN + 1]; /* RETRY */
  /* out (cleared by the backend before every run) */
  sg_store_queue_row_t *rows;
  size_t n_rows;
  sg_store_outcome_row_t *outcomes;
  size_t n_outcomes;
  sg_store_purge_res_t purge;
  sg_store_retry_res_t retry;
  int outcome; /* RETRY: 0, SG_ENOENT or SG_ESTATE (the request succeeds) */
} sg__ops_req_t;

#endif
