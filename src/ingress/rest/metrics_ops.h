/* metrics_ops.h - the /metrics families of metrics_ops.c: the queues and
 * outcomes read from the store (cached), each connector's response
 * latency, results and rate, the store's further counters, and the
 * process's memory, descriptors and CPU. Not a public header.
 */
#ifndef SG_INGRESS_REST_METRICS_OPS_H
#define SG_INGRESS_REST_METRICS_OPS_H

#include <stdbool.h>

#include "ingress/rest/rest_int.h"

/* Called first by the /metrics handler. When the store-backed figures are
 * older than 10 s (and the engine runs) it keeps req, refreshes them, and
 * calls sg__rest_metrics_cb(req, rest) again once they are in: returns
 * true (the handler returns). Else false: go on. Scrapes that come during
 * a refresh wait for the same one. */
bool sg__rest_metrics_defer(sg_rest_t *rest, sg_http_req_t *req);

/* Appends the families (the cached store figures as they are). */
void sg__rest_metrics_ops(sg__rest_buf_t *b, sg_rest_t *rest,
                          const sg_engine_metrics_t *m);

/* Frees the cache of rest (sg_rest_free). */
void sg__rest_metrics_ops_free(sg_rest_t *rest);

#endif
