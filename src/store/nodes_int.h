/* nodes_int.h - the SG__REQ_NODE_BEAT request of store_nodes.c
 * (store/nodes.h), run by sqlite_nodes.c and pg_nodes.c. Not for use
 * outside src/store/.
 */
#ifndef SG_STORE_NODES_INT_H
#define SG_STORE_NODES_INT_H

#include "store/nodes.h"
#include "store/store_int.h"

typedef struct sg__nodes_req {
  sg_store_beat_t in;      /* strings copied into the request's arena */
  sg_store_beat_res_t out; /* nodes in the arena */
} sg__nodes_req_t;

/* The owner "name#epoch" written into out[0..cap). */
void sg__store_node_owner(const char *name, int64_t epoch, char *out,
                          size_t cap);

#endif
