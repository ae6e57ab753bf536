/* store_traffic.c - the public request of store/traffic.h: checks a query
 * of traffic over time, copies it into an SG__REQ_TRAFFIC_READ request and
 * queues it on the backend; and its callback when it comes back.
 *
 * Like the other store_*.c fronts, it must never touch the database or call
 * a callback from inside sg_store_traffic.
 */
#include "store/traffic_int.h"

#include "core/error.h"

#define MINUTE_MS 60000

static bool query_ok(const sg_store_traffic_q_t *q) {
  if (q == NULL || q->account_id < 0 || q->from_ms < 0 ||
      q->from_ms % MINUTE_MS != 0 || q->step_ms <= 0 ||
      q->step_ms % MINUTE_MS != 0 || q->buckets == 0 ||
      q->buckets > SG_STORE_TRAFFIC_BUCKETS_MAX)
    return false;
  return q->step_ms <= SG_STORE_TRAFFIC_RANGE_MAX_MS / q->buckets;
}

int sg_store_traffic(sg_store_t *st, const sg_store_traffic_q_t *q,
                     sg_store_traffic_cb cb, void *data) {
  if (!query_ok(q))
    return SG_EINVAL;
  sg__store_req_t *r;
  void *ext = NULL;
  int rc = sg__store_req_begin(st, SG__REQ_TRAFFIC_READ, (sg__any_cb)cb, data,
                               sizeof(sg__traffic_req_t), &r, &ext);
  if (rc < 0)
    return rc;
  r->in.traffic = ext;
  r->in.traffic->q = *q;
  return sg__store_req_queue(st, r, true);
}

void sg__traffic_complete(sg_store_t *st, sg__store_req_t *r) {
  sg__traffic_req_t *m = r->in.traffic;
  bool ok = r->status == 0 && m->rows != NULL;
  ((sg_store_traffic_cb)r->cb)(st, ok ? 0 : r->status, ok ? m->rows : NULL,
                               ok ? m->q.buckets : 0, r->data);
}
