/* postgres_msg.h - the status changes of the PostgreSQL store
 * (postgres_msg.c), shared by its write requests. Writer thread, inside
 * the group's transaction. Not for use outside src/store/.
 */
#ifndef SG_STORE_POSTGRES_MSG_H
#define SG_STORE_POSTGRES_MSG_H

#include "store/pg_int.h"

/* Why a message status is being derived again. */
typedef struct sg__pg_cause {
  unsigned seq; /* the part that changed, 0 for the message */
  int32_t error_code;
  const char *detail;
  int64_t event_ms; /* time of the part's event when not now (receipts) */
} sg__pg_cause_t;

/* A part found by a request or a pass. */
typedef struct sg__pg_part {
  int64_t id;
  const char *mid;
  unsigned seq;
} sg__pg_part_t;

/* The message row as a webhook and a dlr-url need it. */
typedef struct sg__pg_msg {
  sg_msg_status_t status;
  int64_t account_id;
  const char *callback_url;
  sg__status_event_t ev;
  const char *dlr_url;
  unsigned dlr_mask;
  uint32_t webhook_statuses; /* 0: the store's */
} sg__pg_msg_t;

/* An event row (part_seq NULL when seq is 0, error_code NULL when 0); its
 * id in *id when id is not NULL. 0 or the statement's error. */
int sg__pg_event(sg__pg_conn_t *c, const char *mid, unsigned seq,
                 sg_msg_status_t status, int32_t code, const char *detail,
                 int64_t t, int64_t *id);
/* A pending webhook row (POST); its id in *id (may be NULL). */
int sg__pg_webhook(sg__pg_conn_t *c, int64_t account, const char *mid,
                   int64_t event_id, const char *inbound_id, const char *url,
                   const uint8_t *payload, size_t len, int64_t now,
                   int64_t *id);
/* The statuses of message mid's parts derived into one; SG_ENOENT when it
 * has none. */
int sg__pg_derive(sg__pg_conn_t *c, const char *mid, sg_msg_status_t *out);
/* Derives message mid's status again after its parts changed (part_to: the
 * new status of the one part that changed, or SG_MSG_NONE) and records a
 * change with everything it queues. *out and *changed may be NULL. */
int sg__pg_rederive(sg__pg_conn_t *c, sg__arena_t *a, const char *mid,
                    sg_msg_status_t part_to, const sg__pg_cause_t *why,
                    int64_t now, sg_msg_status_t *out, bool *changed);
/* The columns sg__pg_msg_row reads, from its col on; a query that
 * selects them after its own can derive the message without reading it
 * again. */
#define SG__PG_MSG_ROW                                                         \
  "status, batch_id, account_id, sender, recipient, client_ref, "              \
  "callback_url, parts_total, dlr_url, dlr_mask, webhook_statuses"
#define SG__PG_MSG_ROW_M                                                       \
  "m.status, m.batch_id, m.account_id, m.sender, m.recipient, m.client_ref, "  \
  "m.callback_url, m.parts_total, m.dlr_url, m.dlr_mask, m.webhook_statuses"

/* Reads the SG__PG_MSG_ROW columns of row `row`, from column col on, into
 * m (copies in a; m->ev.message_id is left to the caller). 0 or
 * SG_ENOMEM. */
int sg__pg_msg_row(sg__arena_t *a, const PGresult *r, int row, int col,
                   sg__pg_msg_t *m);
/* sg__pg_rederive for a message whose row the caller read (m, with its
 * message_id set; m is used for the webhook). */
int sg__pg_rederive_row(sg__pg_conn_t *c, sg__arena_t *a, sg__pg_msg_t *m,
                        sg_msg_status_t part_to, const sg__pg_cause_t *why,
                        int64_t now, sg_msg_status_t *out, bool *changed);
/* Part pt's new status and its event, in one statement (sent, not waited
 * for); no derivation. */
int sg__pg_part_write(sg__pg_conn_t *c, const sg__pg_part_t *pt,
                      sg_msg_status_t to, const sg__pg_cause_t *why,
                      int64_t now);
/* Puts the k 'sending' parts pts (locked by the caller) back in the queue,
 * each with its event and its message derived again (postgres_write.c);
 * detail is the events' text. */
int sg__pg_parts_requeue(sg__pg_conn_t *c, sg__arena_t *a,
                         const sg__pg_part_t *pts, size_t k, int64_t now,
                         const char *detail);

/* A part an item of a results or receipts request names, read with its
 * message's row for the whole request at once (pg_batch.c). */
typedef struct sg__pg_prow {
  bool found;
  sg__pg_part_t pt;
  sg_msg_status_t status;
  unsigned attempts;
  const char *owner; /* lease_owner ("node#epoch"), or NULL */
  sg__pg_msg_t m;
} sg__pg_prow_t;

/* The parts of n results (by part id, locked FOR UPDATE) or n receipts
 * (the newest part under each connector and SMSC id), in one statement:
 * (*out)[i] is item i's, found false when there is none. 0, SG_ENOMEM or
 * the statement's error. */
int sg__pg_batch_results(sg__pg_conn_t *c, sg__arena_t *a,
                         const sg_store_result_in_t *items, size_t n,
                         sg__pg_prow_t **out);
int sg__pg_batch_receipts(sg__pg_conn_t *c, sg__arena_t *a,
                          const sg_store_receipt_in_t *items, size_t n,
                          sg__pg_prow_t **out);
/* Whether item i's message is an earlier item's too: its row was read
 * before that item changed it, and must be read again. */
bool sg__pg_batch_seen(const sg__pg_prow_t *rows, size_t i);

/* Gives part pt a new status with its event, and derives its message;
 * item (may be NULL) gets the message's status. */
int sg__pg_part_change(sg__pg_conn_t *c, sg__arena_t *a,
                       const sg__pg_part_t *pt, sg_msg_status_t to,
                       const sg__pg_cause_t *why, int64_t now,
                       sg_store_item_res_t *item);

#endif
