/* traffic.h - traffic over time (part of the store's interface, beside
 * store.h): per time bucket, the messages created in it by their current
 * status and the inbound messages received in it, for the dashboard's
 * charts (GET /v1/stats/traffic).
 *
 * The store keeps these counts per account and minute as messages are
 * written (migration 0016, triggers on messages and inbound), so a read
 * sums at most one row per account and minute of its range, however many
 * messages the range holds. Like every request of store.h: the call checks
 * its arguments, copies them and returns at once (0: the callback fires
 * later, on the loop, exactly once); it fails at once with SG_EINVAL,
 * SG_EBUSY, SG_ECLOSED or SG_ENOMEM, and then the callback never fires.
 */
#ifndef SG_STORE_TRAFFIC_H
#define SG_STORE_TRAFFIC_H

#include <stddef.h>
#include <stdint.h>

#include "store/store.h"

#define SG_STORE_TRAFFIC_BUCKETS_MAX 1440 /* buckets in one read */
#define SG_STORE_TRAFFIC_RANGE_MAX_MS (31LL * 24 * 3600 * 1000)

typedef struct sg_store_traffic_q {
  int64_t account_id; /* > 0: that account; 0: every account */
  int64_t from_ms;    /* a whole minute (a multiple of 60,000) */
  int64_t step_ms;    /* a whole number of minutes */
  unsigned buckets;   /* 1..SG_STORE_TRAFFIC_BUCKETS_MAX */
} sg_store_traffic_q_t;

/* One bucket: [from_ms + i * step_ms, from_ms + (i + 1) * step_ms). */
typedef struct sg_store_traffic_row {
  uint64_t submitted; /* messages created in the bucket */
  uint64_t queued;    /* ... of them now scheduled, queued or sending */
  uint64_t sent;      /* sent, no receipt yet */
  uint64_t delivered;
  uint64_t failed; /* undeliverable, rejected or failed */
  uint64_t expired;
  uint64_t canceled;
  uint64_t inbound; /* inbound messages received in the bucket */
} sg_store_traffic_row_t;

/* rows: q->buckets of them, in time order (all zero where nothing
 * happened); NULL when status != 0. Valid only during the callback. */
typedef void (*sg_store_traffic_cb)(sg_store_t *st, int status,
                                    const sg_store_traffic_row_t *rows,
                                    size_t n, void *data);

/* Reads the buckets of q on a reader connection. SG_EINVAL for a negative
 * account, a from_ms or step_ms that is not a whole minute, no buckets or
 * more than SG_STORE_TRAFFIC_BUCKETS_MAX, or a range longer than
 * SG_STORE_TRAFFIC_RANGE_MAX_MS. */
int sg_store_traffic(sg_store_t *st, const sg_store_traffic_q_t *q,
                     sg_store_traffic_cb cb, void *data);

#endif
