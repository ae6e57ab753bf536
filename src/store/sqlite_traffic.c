/* sqlite_traffic.c - the SQLite side of store/traffic.h: the traffic of a
 * range summed per bucket from traffic_minutes (migration 0016), which the
 * triggers on messages and inbound keep per account and minute.
 *
 * Runs on a reader connection and reads at most one row per account and
 * minute of the range (the query's bounds keep that under 44,640 per
 * account). It must never read the messages table: the cost of a read
 * must not grow with the traffic.
 */
#include <string.h>

#include "core/error.h"
#include "store/sqlite_int.h"
#include "store/traffic_int.h"

#define MINUTE_MS 60000

/* One account: its primary key (account_id, minute). */
static const char *const SQL_ONE =
    "SELECT (minute - ?1) / ?3, sum(submitted), sum(queued), sum(sent), "
    "sum(delivered), sum(failed), sum(expired), sum(canceled), sum(inbound) "
    "FROM traffic_minutes WHERE account_id = ?4 AND minute >= ?1 "
    "AND minute < ?2 GROUP BY 1";
/* Every account: the index on minute. */
static const char *const SQL_ALL =
    "SELECT (minute - ?1) / ?3, sum(submitted), sum(queued), sum(sent), "
    "sum(delivered), sum(failed), sum(expired), sum(canceled), sum(inbound) "
    "FROM traffic_minutes WHERE minute >= ?1 AND minute < ?2 GROUP BY 1";

static void fill(sg_store_traffic_row_t *row, sqlite3_stmt *s) {
  uint64_t *v[] = {&row->submitted, &row->queued, &row->sent,
                   &row->delivered, &row->failed, &row->expired,
                   &row->canceled,  &row->inbound};
  for (int i = 0; i < 8; i++) {
    int64_t n = sqlite3_column_int64(s, i + 1);
    *v[i] = n > 0 ? (uint64_t)n : 0;
  }
}

int sg__sq_traffic_read(sg__sq_conn_t *c, sg__store_req_t *r) {
  sg__traffic_req_t *m = r->in.traffic;
  const sg_store_traffic_q_t *q = &m->q;
  m->rows = sg__arena_alloc(&r->arena, q->buckets * sizeof *m->rows);
  if (m->rows == NULL)
    return SG_ENOMEM;
  memset(m->rows, 0, q->buckets * sizeof *m->rows);
  sqlite3_stmt *s = NULL;
  if (sqlite3_prepare_v2(c->db, q->account_id > 0 ? SQL_ONE : SQL_ALL, -1, &s,
                         NULL) != SQLITE_OK) {
    sqlite3_finalize(s);
    return SG_EIO;
  }
  int64_t from = q->from_ms / MINUTE_MS, step = q->step_ms / MINUTE_MS;
  sqlite3_bind_int64(s, 1, from);
  sqlite3_bind_int64(s, 2, from + step * (int64_t)q->buckets);
  sqlite3_bind_int64(s, 3, step);
  if (q->account_id > 0)
    sqlite3_bind_int64(s, 4, q->account_id);
  int rc;
  while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
    int64_t b = sqlite3_column_int64(s, 0);
    if (b >= 0 && b < (int64_t)q->buckets)
      fill(&m->rows[b], s);
  }
  sqlite3_finalize(s);
  return rc == SQLITE_DONE ? 0 : sg__sq_err(rc);
}
