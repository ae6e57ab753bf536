/* pg_nodes.h - the nodes of one PostgreSQL database (pg_nodes.c): a node's
 * registration at open and its heartbeat request. Writer connection,
 * inside the transaction. Not for use outside src/store/.
 */
#ifndef SG_STORE_PG_NODES_H
#define SG_STORE_PG_NODES_H

#include "store/pg_int.h"

/* At open, inside the open transaction: when st has a node name, takes a
 * new epoch for it (st->node.epoch and .owner), writes its row, and gives
 * back the parts its earlier epochs left 'sending' (added to *requeued).
 * 0 or SG_EIO. */
int sg__pg_node_register(sg__pg_conn_t *c, sg_store_t *st, int64_t now,
                         uint64_t *requeued);

/* SG__REQ_NODE_BEAT (store/nodes.h). */
int sg__pg_node_beat(sg__pg_conn_t *c, sg__store_req_t *r, int64_t now);

/* Whether a result for a part whose lease_owner is `owner` (NULL: none) may
 * be written by this node: not when another owner's claim holds it. */
bool sg__pg_node_fence_ok(const sg_store_t *st, const char *owner);

#endif
