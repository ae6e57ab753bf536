/* traffic.h - traffic over time as the ingress sees it (the engine's side
 * of store/traffic.h): the dashboard's charts read it through here, so an
 * ingress never reaches the store directly.
 */
#ifndef SG_ENGINE_TRAFFIC_H
#define SG_ENGINE_TRAFFIC_H

#include "engine/engine.h"
#include "store/traffic.h"

/* Reads the traffic buckets of q (q->account_id: the caller's account, or
 * 0 for an admin's view of every account). Returns 0 (cb fires later, on
 * the loop thread) or the store's immediate error (SG_EINVAL for a query
 * store/traffic.h refuses, SG_ESTATE before the engine has a store). */
int sg_engine_traffic(sg_engine_t *e, const sg_store_traffic_q_t *q,
                      sg_store_traffic_cb cb, void *data);

#endif
