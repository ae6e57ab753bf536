/* sqlite_trafficp.c - the pruning of traffic_minutes (store/traffic.h) in
 * the store's maintenance pass: the minutes older than the store's
 * traffic_keep_ms are deleted, at most PRUNE_MAX rows a pass, oldest
 * first, through the index on minute (a pass with nothing to delete costs
 * one index probe).
 *
 * It runs on the writer thread inside the maintenance transaction and must
 * never touch a minute younger than the retention, nor the writer's
 * in-memory counts of the open group.
 */
#include "core/error.h"
#include "store/sqlite_int.h"

#define MINUTE_MS 60000
#define PRUNE_MAX 1000 /* minutes deleted per maintenance pass */

int sg__sq_traffic_prune(sg__sq_conn_t *c, int64_t now, size_t *n) {
  *n = 0;
  if (c->st->cfg.traffic_keep_ms <= 0)
    return 0;
  sqlite3_stmt *s = NULL;
  int rc = sqlite3_prepare_v2(
      c->db,
      "DELETE FROM traffic_minutes WHERE (account_id, minute) IN (SELECT "
      "account_id, minute FROM traffic_minutes WHERE minute < ?1 ORDER BY "
      "minute LIMIT ?2)",
      -1, &s, NULL);
  if (rc != SQLITE_OK) {
    sqlite3_finalize(s);
    return SG_EIO;
  }
  sqlite3_bind_int64(s, 1, (now - c->st->cfg.traffic_keep_ms) / MINUTE_MS);
  sqlite3_bind_int(s, 2, PRUNE_MAX);
  rc = sg__sq_err(sg__sq_step_done(s));
  sqlite3_finalize(s);
  if (rc == 0)
    *n = (size_t)sqlite3_changes(c->db);
  return rc;
}
