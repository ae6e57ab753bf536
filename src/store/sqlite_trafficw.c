/* sqlite_trafficw.c - the writer's side of traffic_minutes, the counts per
 * account and minute that GET /v1/stats/traffic reads (store/traffic.h).
 *
 * A message counts in the minute it was created, in `submitted` and in the
 * bucket of its current status; a status change moves it between buckets
 * of that minute. Triggers on messages did this first, but SQLite runs a
 * trigger as a sub-program on every insert and status update, and three
 * upserts a message cost a third of the writer's time. The writer now adds
 * the moves of a group up in memory, per account and minute (a group's
 * messages mostly share both), and writes one upsert per row touched just
 * before the COMMIT. It runs on the writer thread inside the group's
 * transaction, never begins or ends one, and must forget what it holds when
 * the transaction is rolled back. Inbound messages are still counted by
 * their trigger (one insert each, no status changes).
 */
#include <string.h>

#include "core/error.h"
#include "store/sqlite_int.h"

#define TR_SUBMITTED 0
#define TR_NONE (-1)
#define TR_SLOTS (sizeof((sg__sq_conn_t *)0)->tr.e / \
                  sizeof((sg__sq_conn_t *)0)->tr.e[0])

/* The column of traffic_minutes a message in status st counts in. */
static int bucket_of(sg_msg_status_t st) {
  switch (st) {
  case SG_MSG_SCHEDULED:
  case SG_MSG_QUEUED:
  case SG_MSG_SENDING:
    return 1;
  case SG_MSG_SENT:
    return 2;
  case SG_MSG_DELIVERED:
    return 3;
  case SG_MSG_UNDELIVERABLE:
  case SG_MSG_REJECTED:
  case SG_MSG_FAILED:
    return 4;
  case SG_MSG_EXPIRED:
    return 5;
  case SG_MSG_CANCELED:
    return 6;
  case SG_MSG_NONE:
  default:
    return TR_NONE;
  }
}

int sg__sq_traffic_flush(sg__sq_conn_t *c) {
  int rc = 0;
  for (unsigned i = 0; rc == 0 && i < c->tr.n; i++) {
    bool any = false;
    for (unsigned k = 0; k < 7; k++)
      any = any || c->tr.e[i].d[k] != 0;
    if (!any)
      continue;
    sqlite3_stmt *s = sg__sq_stmt(c, SG__Q_TRAFFIC_ADD);
    if (s == NULL)
      return SG_EIO;
    sqlite3_bind_int64(s, 1, c->tr.e[i].account_id);
    sqlite3_bind_int64(s, 2, c->tr.e[i].minute);
    for (unsigned k = 0; k < 7; k++)
      sqlite3_bind_int(s, (int)(3 + k), c->tr.e[i].d[k]);
    rc = sg__sq_err(sg__sq_step_done(s));
  }
  c->tr.n = 0;
  return rc;
}

void sg__sq_traffic_discard(sg__sq_conn_t *c) {
  c->tr.n = 0;
}

int sg__sq_traffic_note(sg__sq_conn_t *c, int64_t account_id,
                        int64_t created_ms, sg_msg_status_t before,
                        sg_msg_status_t after) {
  int from = before == SG_MSG_NONE ? TR_NONE : bucket_of(before);
  int to = bucket_of(after);
  if (before != SG_MSG_NONE && from == to)
    return 0;
  int64_t minute = created_ms / 60000;
  unsigned i = 0;
  while (i < c->tr.n && (c->tr.e[i].account_id != account_id ||
                         c->tr.e[i].minute != minute))
    i++;
  if (i == c->tr.n) {
    if (c->tr.n == TR_SLOTS) {
      int rc = sg__sq_traffic_flush(c); /* still inside the transaction */
      if (rc < 0)
        return rc;
      i = 0;
    }
    memset(&c->tr.e[i], 0, sizeof c->tr.e[i]);
    c->tr.e[i].account_id = account_id;
    c->tr.e[i].minute = minute;
    c->tr.n = i + 1;
  }
  if (before == SG_MSG_NONE)
    c->tr.e[i].d[TR_SUBMITTED]++;
  if (from != TR_NONE)
    c->tr.e[i].d[from]--;
  if (to != TR_NONE)
    c->tr.e[i].d[to]++;
  return 0;
}
