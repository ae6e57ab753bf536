/* pg_orphan.h - delivery receipts that matched no part, in the PostgreSQL
 * store (pg_orphan.c), as sqlite_int.h's sg__sq_orphan_*: writer thread,
 * inside the group's transaction. Not for use outside src/store/.
 */
#ifndef SG_STORE_PG_ORPHAN_H
#define SG_STORE_PG_ORPHAN_H

#include "store/postgres_msg.h"

/* Stores receipt x, which matched no part (the item says held). */
int sg__pg_orphan_hold(sg__pg_conn_t *c, const sg_store_receipt_in_t *x,
                       int64_t now, sg_store_item_res_t *item);
/* After a SENT result made part pt 'sent' with smsc_id: applies and
 * deletes the receipt held for (its connector, smsc_id), if any, through
 * sg__pg_receipt_apply (the item says receipt_applied). Looks only while
 * the count kept in c says some are held. */
int sg__pg_orphan_apply(sg__pg_conn_t *c, sg__arena_t *a,
                        const sg__pg_part_t *pt, const char *smsc_id,
                        int64_t now, sg_store_item_res_t *item);
/* Maintenance: counts the held receipts again (those of other nodes too)
 * and deletes those held longer than the store's unmatched_keep_ms. */
int sg__pg_orphan_expire(sg__pg_conn_t *c, int64_t now, size_t *n);
/* After every commit (true) and rollback (false) of c's transaction. */
void sg__pg_orphan_tx_end(sg__pg_conn_t *c, bool committed);

/* Records receipt x for part pt, found for it (postgres_write.c): its
 * status, event and the message's derived status, as a receipt that
 * matched at once. item->part_status is the part's status before. */
int sg__pg_receipt_apply(sg__pg_conn_t *c, sg__arena_t *a,
                         const sg__pg_part_t *pt,
                         const sg_store_receipt_in_t *x, int64_t now,
                         sg_store_item_res_t *item);

#endif
