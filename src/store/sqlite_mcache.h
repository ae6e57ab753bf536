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
 * before. Beside them, the parts claimed and the parts sent, so that a
 * SENT result and a receipt need not look their part up.
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

/* The claim of part id, part seq of message mid, by connector: kept so
 * that the part's SENT result need not read them (a part's message and seq
 * never change, nor its connector while it is claimed, and a part id names
 * one part until a rollback frees it, which empties these too). Does
 * nothing when the copy is off. */
void sg__sq_mc_part_put(sg__sq_conn_t *c, int64_t id, const char *mid,
                        unsigned seq, const char *connector);

/* The message id (valid until the next call here), *seq and *connector
 * (likewise; NULL when it was too long to keep) of part id if held, or
 * NULL. */
const char *sg__sq_mc_part_get(sg__sq_conn_t *c, int64_t id, unsigned *seq,
                               const char **connector);

/* At open, before the writer's first transaction: the parts already in
 * the file may carry operator ids that the copy never saw, so none of them
 * is kept (sg__sq_mc_smsc_put). Returns 0 or SG_EIO. */
int sg__sq_mc_smsc_open(sg__sq_conn_t *c);

/* The slot (connector, smsc_id) takes among the 4,096 (for tests). */
unsigned sg__sq_mc_smsc_slot(const char *connector, const char *smsc_id);

/* Part id, part seq of message mid, was just written 'sent' with the
 * operator's id smsc_id on connector: kept so that its receipt need not
 * look it up (PART_BY_SMSC, the index parts_smsc). An entry for the same
 * connector and id of a part with a larger id stays (the statement takes
 * the largest), and a part that may not be the largest of its id is not
 * kept: a receipt's part is the statement's, whatever the copy let go
 * before (test_store_mcache, smsc_collision). Does nothing when the copy
 * is off. */
void sg__sq_mc_smsc_put(sg__sq_conn_t *c, const char *connector,
                        const char *smsc_id, int64_t id, const char *mid,
                        unsigned seq);

/* The part last kept for (connector, smsc_id), still 'sent': its message id
 * (valid until the next call here), *id and *seq; or NULL (then the
 * statement looks it up). */
const char *sg__sq_mc_smsc_get(sg__sq_conn_t *c, const char *connector,
                               const char *smsc_id, int64_t *id, unsigned *seq);

/* Forgets the entry of (connector, smsc_id): its part is no longer 'sent'. */
void sg__sq_mc_smsc_drop(sg__sq_conn_t *c, const char *connector,
                         const char *smsc_id);

/* Forgets every entry: `messages` was written some other way. */
void sg__sq_mc_clear(sg__sq_conn_t *c);

/* After a commit (nothing to do) or a rollback (forgets every entry). */
void sg__sq_mc_tx_end(sg__sq_conn_t *c, bool committed);

void sg__sq_mc_close(sg__sq_conn_t *c);

#endif
