/* nodes.h - the smsgate nodes that share one database (part of the store's
 * interface, beside store.h; migration 0023, docs/scaling.md).
 *
 * A store opened with a node name (sg_store_config_t.node_name) registers
 * the node at open: it takes a new epoch, the node's fencing token, larger
 * than any given before, and puts back in the queue the parts its earlier
 * runs left leased. Every part it claims is then stamped with the owner
 * "name#epoch", and a send result for a part whose lease another node's
 * newer claim holds is refused (SG_ESTATE, as a stale attempt is).
 *
 * The node's loop calls sg_store_node_beat every heartbeat: one write that
 * records the heartbeat, puts back in the queue the parts leased by nodes
 * that are dead (no heartbeat for dead_after) or by epochs no longer
 * current, and answers the list of nodes. Like every request of store.h:
 * the call checks its arguments, copies them and returns at once (0: the
 * callback fires later, on the loop, exactly once); it fails at once with
 * SG_EINVAL, SG_EBUSY, SG_ECLOSED or SG_ENOMEM, and then the callback never
 * fires.
 */
#ifndef SG_STORE_NODES_H
#define SG_STORE_NODES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store/store.h"

#define SG_STORE_NODE_NAME_MAX 64 /* octets of a node name */

/* One node as the database knows it. */
typedef struct sg_store_node {
  const char *name;
  int64_t epoch; /* of its latest start */
  int64_t started_ms;
  int64_t heartbeat_ms;
  const char *version;    /* "" when it gave none */
  const char *address;    /* its REST address, "" when none */
  const char *connectors; /* the connectors it binds, comma-separated */
  uint64_t leased_parts;  /* parts 'sending' under its current epoch */
  bool alive;             /* heartbeat within dead_after of the beat */
} sg_store_node_t;

/* What a heartbeat writes. */
typedef struct sg_store_beat {
  int64_t dead_after_ms;  /* > 0: older heartbeats are dead */
  const char *connectors; /* this node's, comma-separated; NULL: "" */
  const char *address;    /* NULL: keep the one given at open */
} sg_store_beat_t;

typedef struct sg_store_beat_res {
  const sg_store_node_t *nodes; /* every node, by name */
  size_t n;
  uint64_t released; /* parts of dead nodes put back in the queue now */
  /* How long after this node's previous heartbeat in the database this one
   * was written (0 when the row had to be written anew): the gap the other
   * nodes saw. Beyond dead_after they may have declared this node dead and
   * given its leases to the queue. */
  int64_t gap_ms;
  /* This node's row holds a newer epoch: another process started under
   * the same name. This node's claims are then refused by the fence. */
  bool superseded;
} sg_store_beat_res_t;

/* res is valid only during the callback; NULL when status != 0. */
typedef void (*sg_store_beat_cb)(sg_store_t *st, int status,
                                 const sg_store_beat_res_t *res, void *data);

/* Records this node's heartbeat and runs the pass over dead nodes (see
 * above). SG_EINVAL when the store was opened without a node name or
 * dead_after_ms <= 0. On the writer, in one transaction. */
int sg_store_node_beat(sg_store_t *st, const sg_store_beat_t *b,
                       sg_store_beat_cb cb, void *data);

/* This node's name and epoch as registered at open ("" and 0 without a
 * node name). The owner stamped on claims is "name#epoch". Loop thread
 * or any thread after open (they never change). */
const char *sg_store_node_name(const sg_store_t *st);
int64_t sg_store_node_epoch(const sg_store_t *st);

#endif
