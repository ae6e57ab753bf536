/* pg_traffic.c - the PostgreSQL side of store/traffic.h: the traffic of a
 * range summed per bucket from traffic_minutes (migration 0016), which the
 * triggers on messages and inbound keep per account and minute.
 *
 * Runs on a reader inside its read-only transaction and reads at most one
 * row per account and minute of the range, like sqlite_traffic.c; it must
 * never read the messages table, so that a read costs the same whatever
 * the traffic.
 */
#include <string.h>

#include "core/error.h"
#include "store/pg_kinds.h"
#include "store/traffic_int.h"

#define MINUTE_MS 60000

#define SUMS                                                                   \
  "SELECT (minute - $1) / $3, sum(submitted)::bigint, sum(queued)::bigint, "   \
  "sum(sent)::bigint, sum(delivered)::bigint, sum(failed)::bigint, "           \
  "sum(expired)::bigint, sum(canceled)::bigint, sum(inbound)::bigint "         \
  "FROM traffic_minutes "

/* One account: its primary key (account_id, minute). */
static const char *const SQL_ONE =
    SUMS "WHERE account_id = $4 AND minute >= $1 AND minute < $2 GROUP BY 1";
/* Every account: the index on minute. */
static const char *const SQL_ALL =
    SUMS "WHERE minute >= $1 AND minute < $2 GROUP BY 1";

int sg__pg_traffic_read(sg__pg_conn_t *c, sg__store_req_t *r) {
  sg__traffic_req_t *m = r->in.traffic;
  const sg_store_traffic_q_t *q = &m->q;
  m->rows = sg__arena_alloc(&r->arena, q->buckets * sizeof *m->rows);
  if (m->rows == NULL)
    return SG_ENOMEM;
  memset(m->rows, 0, q->buckets * sizeof *m->rows);
  int64_t from = q->from_ms / MINUTE_MS, step = q->step_ms / MINUTE_MS;
  sg__pg_params_t p = {0};
  sg__pg_p_i64(&p, from);
  sg__pg_p_i64(&p, from + step * (int64_t)q->buckets);
  sg__pg_p_i64(&p, step);
  if (q->account_id > 0)
    sg__pg_p_i64(&p, q->account_id);
  int rc;
  PGresult *res =
      sg__pg_run(c, q->account_id > 0 ? SQL_ONE : SQL_ALL, &p, &rc);
  if (rc < 0) {
    PQclear(res);
    return rc;
  }
  for (int i = 0; i < PQntuples(res); i++) {
    int64_t b = sg__pg_i64(res, i, 0);
    if (b < 0 || b >= (int64_t)q->buckets)
      continue;
    sg_store_traffic_row_t *row = &m->rows[b];
    uint64_t *v[] = {&row->submitted, &row->queued,   &row->sent,
                     &row->delivered, &row->failed,   &row->expired,
                     &row->canceled,  &row->inbound};
    for (int k = 0; k < 8; k++) {
      int64_t n = sg__pg_i64(res, i, k + 1);
      *v[k] = n > 0 ? (uint64_t)n : 0;
    }
  }
  PQclear(res);
  return 0;
}
