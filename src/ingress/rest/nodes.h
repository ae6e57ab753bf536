/* nodes.h - GET /v1/nodes and the smsgate_node_* families of /metrics
 * (nodes.c). Not for use outside src/ingress/rest/.
 */
#ifndef SG_INGRESS_REST_NODES_H
#define SG_INGRESS_REST_NODES_H

#include "ingress/rest/rest_int.h"

/* Adds GET /v1/nodes (admin) to rest's server: 0 or the server's error. */
int sg__rest_nodes_register(sg_rest_t *rest);

/* smsgate_node_alive, smsgate_node_heartbeat_age_seconds and
 * smsgate_node_leased_parts per node, and the node's own counters. */
void sg__rest_metrics_nodes(sg__rest_buf_t *b, sg_rest_t *rest);

#endif
