/* sqlite_mcache.h - the SQLite writer's copy of the message rows it wrote
 * (sqlite_mcache.c).
 *
 * Deriving a message's status reads its row (MSG_FOR_EVENT) at each change
 * of a part: the claim, the result, the receipt. All the row's columns that
 * derivation uses but the status are written by the submit and never
 * changed after; the status is written only by the writer, through
 * MSG_SET_STATUS. So the writer keeps what it wrote at the submit, and each
 * status it writes after, and derives from that instead of reading the
 * row. An entry leaves at a final status; a message not held is read as
 * before.
 *
 * What it holds is what a read would give: a transaction that rolls back
 * empties it (sg__sq_mc_tx_end), and so does every other writer of
 * `messages` (the operator's actions, the undo of refused submits after a
 * failed sync: sg__sq_mc_clear). Writer thread only.
 */
#ifndef SG_STORE_SQLITE_MCACHE_H
#define SG_STORE_SQLITE_MCACHE_H

#include <stdbool.h>
#include <stdint.h>

#include "store/store.h"

typedef struct sg__sq_conn sg__sq_conn_t;

/* The columns of a message row that deriving its status reads. */
typedef struct sg__sq_mrow {
  sg_msg_status_t status; /* as the row says (see stored_status) */
  int64_t account_id;
  int64_t created_ms;
  unsigned parts;
  unsigned dlr_mask;
  uint32_t webhook_statuses; /* 0: the store's */
  bool dlr_wanted;           /* for the claim; not read by MSG_FOR_EVENT */
  const char *batch_id;
  const char *sender;
  const char *recipient;
  const char *client_ref;   /* NULL: none */
  const char *callback_url; /* NULL: none */
  const char *dlr_url;      /* NULL: none */
} sg__sq_mrow_t;

/* Keeps a copy of the row of message id, just inserted (strings copied).
 * Does nothing when full or out of memory: the row is read then. */
void sg__sq_mc_put(sg__sq_conn_t *c, const char *id, const sg__sq_mrow_t *r);

/* The row of message id if held (valid until the next call here), or
 * NULL. */
const sg__sq_mrow_t *sg__sq_mc_get(sg__sq_conn_t *c, const char *id);

/* The writer wrote status st into the row of message id: a final status
 * lets the entry go. */
void sg__sq_mc_status(sg__sq_conn_t *c, const char *id, sg_msg_status_t st);

/* The claim of part id, part seq of message mid: kept so that the part's
 * SENT result need not read them (a part's message and seq never change,
 * and a part id names one part until a rollback frees it, which empties
 * these too). Does nothing when the copy is off. */
void sg__sq_mc_part_put(sg__sq_conn_t *c, int64_t id, const char *mid,
                        unsigned seq);

/* The message id (valid until the next call here) and *seq of part id if
 * held, or NULL. */
const char *sg__sq_mc_part_get(sg__sq_conn_t *c, int64_t id, unsigned *seq);

/* Forgets every entry: `messages` was written some other way. */
void sg__sq_mc_clear(sg__sq_conn_t *c);

/* After a commit (nothing to do) or a rollback (forgets every entry). */
void sg__sq_mc_tx_end(sg__sq_conn_t *c, bool committed);

void sg__sq_mc_close(sg__sq_conn_t *c);

#endif
