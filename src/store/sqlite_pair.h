/* sqlite_pair.h - a part's SENT result and its final receipt in one group
 * of the SQLite writer: the part's row written once (sqlite_pair.c).
 *
 * The simulator, and many operators, send a receipt right after the
 * submit_sm_resp, so both often land in the same group. The SENT result
 * then writes the part with the receipt's final status, code, detail and
 * time (PART_SENT_ENDED, what PART_SENT and the receipt's PART_SET_STATUS
 * would leave), and the receipt writes its event, webhook and counts but
 * not the row. Writer thread only.
 */
#ifndef SG_STORE_SQLITE_PAIR_H
#define SG_STORE_SQLITE_PAIR_H

#include <stdint.h>

#include "store/store.h"

typedef struct sg__sq_conn sg__sq_conn_t;
typedef struct sg__store_req sg__store_req_t;

/* Before a run of the group: pairs each SENT result (with an operator id)
 * with the first receipt after it in the group with the same operator id,
 * when that receipt is final and nothing between them could read the part:
 * only submits, claims, results, receipts and webhook requests, no other
 * SENT result or receipt with that id, no other result for that part. Its
 * cost is the group's, whatever the size of groups before. Out of memory,
 * it pairs nothing. */
void sg__sq_pair_scan(sg__sq_conn_t *c, sg__store_req_t *group);

/* The receipt paired with SENT result x, or NULL. */
const sg_store_receipt_in_t *sg__sq_pair_receipt(sg__sq_conn_t *c,
                                                 const sg_store_result_in_t *x);

/* SENT result x wrote part id with its paired receipt's final status. */
void sg__sq_pair_written(sg__sq_conn_t *c, const sg_store_result_in_t *x,
                         int64_t part_id);

/* The part written final for receipt x (0: none); taken, it is no longer
 * restored by sg__sq_pair_end. */
int64_t sg__sq_pair_part(sg__sq_conn_t *c, const sg_store_receipt_in_t *x);
void sg__sq_pair_take(sg__sq_conn_t *c, const sg_store_receipt_in_t *x);

/* The part written final for receipt x goes back to what PART_SENT writes
 * ('sent', no code, no detail): the receipt found another part, or did
 * not run. 0 or an error. */
int sg__sq_pair_undo(sg__sq_conn_t *c, const sg_store_receipt_in_t *x);

/* Receipts request r failed (not SG_EIO): every part written final for
 * one of its receipts goes back to 'sent' at once, taken or not, before a
 * later request of the group reads it. A part put back is a row changed:
 * the writer runs the group again without r (sqlite.c, run_one), whose
 * SENT results then write 'sent'. 0 or SG_EIO. */
int sg__sq_pair_failed(sg__sq_conn_t *c, const sg__store_req_t *r);

/* After the group's requests ran: undoes every pair whose receipt did not
 * take its part. 0 or an error (the transaction must fail). */
int sg__sq_pair_end(sg__sq_conn_t *c);

/* The slots of each of its hash tables (0: none yet), for the tests. */
size_t sg__sq_pair_cap(sg__sq_conn_t *c);

void sg__sq_pair_close(sg__sq_conn_t *c);

#endif
