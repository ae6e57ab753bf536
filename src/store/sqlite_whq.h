/* sqlite_whq.h - the webhook deliveries of message status changes that the
 * SQLite writer keeps in memory instead of in rows (sqlite_whq.c).
 *
 * A status change of a one-part message that wants its JSON webhook puts
 * the delivery here, in the transaction of its event; the claim hands it
 * out with no B-tree work and a finish that says "taken" writes nothing.
 * A finish that says retry or give up writes the row then, with the id the
 * delivery had in memory: -(the id of its message event), the same on
 * every attempt. What survives a crash is the event row and a watermark
 * (table webhook_mark): every such delivery of an event up to it is
 * finished. At open the deliveries of the events after it are built again
 * from the events and their messages (sg__sq_whq_rebuild). A Kannel
 * dlr-url call of a final status of a one-part message without a callback
 * URL is held the same way, as a GET (sqlite_kannel.c decides which, and
 * builds its URL again at open).
 *
 * Writer thread only, but for sg__sq_whq_pending.
 */
#ifndef SG_STORE_SQLITE_WHQ_H
#define SG_STORE_SQLITE_WHQ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store/store_int.h"

typedef struct sg__sq_conn sg__sq_conn_t;

/* The part a one-part message's webhook payload names for a change to
 * status `to`, when such a delivery may be kept in memory: 0 (the claim,
 * a cancel: changes of the message) or 1 (a result, a receipt, an expiry
 * of its part). -1 for the statuses that always get a row (queued and
 * scheduled, which a submit and a release record without a webhook, and
 * the rest). A change whose cause names another part gets a row too, so
 * that the payload built again at open is the one built at commit. */
int sg__sq_whq_part(int to);

/* At open, in the transaction of the recovery: reads the watermark and
 * queues again, in memory or (when full) as rows, the delivery of every
 * message event after it that is not finished: the message has one part,
 * a callback URL and wants the status (or no callback URL and a dlr-url
 * call that sg__sq_kannel_held_url builds), and no row has the delivery's
 * id.
 * *n counts them. Creates c's queue: call it before the writer starts. */
int sg__sq_whq_rebuild(sg__sq_conn_t *c, int64_t now, uint64_t *n);

/* Notes the id of an event the writer inserted (the watermark may pass
 * it while no delivery is held). */
void sg__sq_whq_event(sg__sq_conn_t *c, int64_t event_id);

/* The id of the newest event, this transaction's included (ids grow with
 * every insert; events are never deleted), or -1 without a queue. */
int64_t sg__sq_whq_newest(const sg__sq_conn_t *c);

/* Puts the delivery of message event event_id, the status change ev, in
 * memory: 1 when it is kept, 0 when the caller must write its row (no
 * queue, no room), or SG_ENOMEM. The strings and ev are copied: ev as its
 * record (sg__store_status_pack), which a claim hands out as the
 * delivery's `event`, so that its payload is written by the thread that
 * sends it, not here. A row written for it later (a retry, a give-up, a
 * spill) gets the payload written from that record. */
int sg__sq_whq_offer(sg__sq_conn_t *c, int64_t event_id, int64_t account_id,
                     const char *message_id, const char *url,
                     const sg__status_event_t *ev, int64_t now);

/* As sg__sq_whq_offer, for a Kannel dlr-url call: a GET of url, no
 * payload (sqlite_kannel.c). */
int sg__sq_whq_offer_get(sg__sq_conn_t *c, int64_t event_id, int64_t account_id,
                         const char *message_id, const char *url, int64_t now);

/* Rows (retries, what did not fit) are claimed after memory, so while
 * memory holds deliveries memory leaves them a share of a claim, once a
 * second, so that they are never starved: how many of a claim of max the
 * rows may take now (a quarter, at least one: a claim of one is theirs
 * once a second), 0 when it is not their turn or memory holds nothing.
 * sg__sq_whq_rows_served says that they had their turn (the next is a
 * second away). */
size_t sg__sq_whq_rows_share(const sg__sq_conn_t *c, size_t max, int64_t now);
void sg__sq_whq_rows_served(sg__sq_conn_t *c, int64_t now);

/* Hands out up to max due deliveries from memory into w (copied into a),
 * each leased until `until`; a lease that ran out is taken again and
 * counts as an attempt. Returns how many, or SG_ENOMEM. */
int sg__sq_whq_claim(sg__sq_conn_t *c, sg__arena_t *a, sg_store_webhook_t *w,
                     size_t max, int64_t now, int64_t until);

/* When a delivery handed out from memory is due again: now for one whose
 * lease ran out (or whose claim failed), else the earliest lease end; 0
 * when none is out. */
int64_t sg__sq_whq_next(const sg__sq_conn_t *c, int64_t now);

/* Finishes delivery id (< 0) if memory holds it: taken writes nothing,
 * retry or give up writes its row. 1 when it was in memory, 0 when not
 * (the caller looks for a row), or an error. */
int sg__sq_whq_finish(sg__sq_conn_t *c, const sg_store_webhook_result_t *x,
                      int64_t now);

/* Before the COMMIT of a group: writes the watermark when it moved (at most
 * once a group). 0 or SG_EIO. */
int sg__sq_whq_mark(sg__sq_conn_t *c);

/* After every commit (true) and rollback (false) of c: a rollback forgets
 * what its transaction queued and undoes its claims and finishes. */
void sg__sq_whq_tx_end(sg__sq_conn_t *c, bool committed);

/* Deliveries held (not finished), for sg_store_counts; any thread. */
uint64_t sg__sq_whq_pending(const sg__sq_conn_t *c);

/* Frees the queue (at close). */
void sg__sq_whq_close(sg__sq_conn_t *c);

#endif
