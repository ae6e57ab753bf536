/* store_ops.h - the store's requests for the operators of a gateway
 * (part of the store's interface, beside store.h): the queues of the
 * connectors read by status, a connector's queue purged, and a failed or
 * expired message queued again.
 *
 * Like every request of store.h: a call checks its arguments, copies them
 * and returns at once (0: the callback fires later, on the loop, exactly
 * once); it fails at once with SG_EINVAL, SG_EBUSY, SG_ECLOSED or
 * SG_ENOMEM, and then the callback never fires.
 */
#ifndef SG_STORE_STORE_OPS_H
#define SG_STORE_STORE_OPS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store/store.h"

/* ---- queues ------------------------------------------------------------ */

/* The parts of one connector in one status still waiting for something:
 * scheduled (for their time), queued (for the connector), sending (handed
 * to it, not answered), sent (answered, waiting for the receipt). */
typedef struct sg_store_queue_row {
  const char *connector;
  sg_msg_status_t status;
  uint64_t parts;
  int64_t oldest_ms; /* creation time of the oldest message among them */
} sg_store_queue_row_t;

#define SG_STORE_QUEUE_ROWS_MAX 4096

typedef void (*sg_store_queues_cb)(sg_store_t *st, int status,
                                   const sg_store_queue_row_t *rows, size_t n,
                                   void *data);

/* Counts the parts in those four statuses by connector and status, in
 * connector then status order, with the creation time of the oldest
 * message of each group; connector NULL: every connector, else that one
 * (no rows when it has none). Reads the parts table on a reader
 * connection: meant for operators and scrapes, not for every request. */
int sg_store_queues(sg_store_t *st, const char *connector,
                    sg_store_queues_cb cb, void *data);

typedef struct sg_store_purge_res {
  uint64_t parts;    /* parts that became failed */
  uint64_t messages; /* messages whose status was derived again */
  bool more;         /* max was reached: queued parts may remain */
} sg_store_purge_res_t;

typedef void (*sg_store_purge_cb)(sg_store_t *st, int status,
                                  const sg_store_purge_res_t *res, void *data);

/* Purges up to max (1..10000) of the connector's queued parts in one
 * transaction: each becomes 'failed' with `reason` as its error and its
 * event, and its message's status is derived again with that reason (an
 * event, and the webhook when its account asks for failures). Parts being
 * sent or sent are left alone: their outcome is the connector's. Repeat
 * while res->more. SG_EINVAL for an empty connector or reason (reason at
 * most 200 octets). */
int sg_store_queue_purge(sg_store_t *st, const char *connector,
                         const char *reason, unsigned max, sg_store_purge_cb cb,
                         void *data);

/* ---- outcomes ---------------------------------------------------------- */

/* Parts that reached an outcome, by account, connector, status (sent,
 * delivered, or an ending) and error code (0: none). */
typedef struct sg_store_outcome_row {
  int64_t account_id;
  const char *connector;
  sg_msg_status_t status;
  int32_t error_code;
  uint64_t parts;
} sg_store_outcome_row_t;

typedef void (*sg_store_outcomes_cb)(sg_store_t *st, int status,
                                     const sg_store_outcome_row_t *rows,
                                     size_t n, void *data);

/* Counts them (at most SG_STORE_QUEUE_ROWS_MAX groups, the largest kept
 * when there are more). A scan of the parts and messages tables on a
 * reader connection: for /metrics, cached, never per request. */
int sg_store_outcomes(sg_store_t *st, sg_store_outcomes_cb cb, void *data);

/* ---- retry ----------------------------------------------------------- */

typedef struct sg_store_retry_res {
  sg_msg_status_t before; /* the message's status before */
  sg_msg_status_t after;  /* and after (queued) */
  unsigned parts;         /* parts queued again */
  char connector[64];     /* the connector of the first of them */
} sg_store_retry_res_t;

typedef void (*sg_store_retry_cb)(sg_store_t *st, int status,
                                  const sg_store_retry_res_t *res, void *data);

/* Queues a message that ended failed, expired, undeliverable or rejected
 * again: every part in one of those statuses becomes 'queued' with its
 * attempts, error and operator id cleared, due now and with no expiry;
 * parts delivered stay delivered. The message is derived again (an event
 * with `reason`, and its webhook when asked for). status SG_ENOENT: no
 * such message; SG_ESTATE: the message has not ended badly (res->before
 * says what it is). SG_EINVAL for an id that is not one. */
int sg_store_message_retry(sg_store_t *st, const char *message_id,
                           const char *reason, sg_store_retry_cb cb,
                           void *data);

#endif
