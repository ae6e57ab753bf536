/* traffic_int.h - GET /v1/stats/traffic (traffic.c): the query's parser,
 * pure so that a unit test can drive it, and the route's registration.
 * Not a public header: only the REST files and their tests include it.
 */
#ifndef SG_INGRESS_REST_TRAFFIC_INT_H
#define SG_INGRESS_REST_TRAFFIC_INT_H

#include <stddef.h>
#include <stdint.h>

#include "ingress/rest/parse.h"
#include "ingress/rest/rest.h"
#include "store/traffic.h"

/* Buckets of the default step (step omitted): about this many. */
#define SG_REST_TRAFFIC_DEFAULT_BUCKETS 60

/* Reads the query arguments names[i]=values[i] (i < n) of GET
 * /v1/stats/traffic into q (q->account_id is left 0 for the caller):
 *   from  RFC 3339, rounded down to the minute (default: to - 24 h)
 *   to    RFC 3339, rounded up to the minute (default: now_ms's minute's end)
 *   step  seconds, a multiple of 60 (default: the range / 60 buckets,
 *         rounded up to a minute)
 *   account  accepted and ignored here (the caller's authorisation)
 * The last bucket may end after `to`. Returns 0, or SG_EINVAL with err set
 * to a 400 naming the field: a bad value, an unknown or repeated argument,
 * to not after from, a range over 31 days (`from`), more than
 * SG_STORE_TRAFFIC_BUCKETS_MAX buckets (`step`). Pure: no clock, no I/O. */
int sg__rest_traffic_parse(const char *const *names, const char *const *values,
                           size_t n, int64_t now_ms, sg_store_traffic_q_t *q,
                           sg_rest_err_t *err);

/* Registers GET /v1/stats/traffic on rest's server (rest.c). */
int sg__rest_traffic_register(sg_rest_t *rest);

#endif
