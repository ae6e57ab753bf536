/* pg_trafficp.c - the pruning of traffic_minutes on PostgreSQL, as
 * sqlite_trafficp.c: the minutes older than the store's traffic_keep_ms
 * are deleted in the maintenance pass, at most PRUNE_MAX rows a pass,
 * oldest first, through the index on minute.
 *
 * It runs inside the maintenance transaction and must never touch a minute
 * younger than the retention. Several nodes may prune at once: a row one
 * node deleted is simply not found by the other.
 */
#include "core/error.h"
#include "store/pg_kinds.h"

#define MINUTE_MS 60000
#define PRUNE_MAX 1000 /* minutes deleted per maintenance pass */

int sg__pg_traffic_prune(sg__pg_conn_t *c, int64_t now, size_t *n) {
  *n = 0;
  if (c->st->cfg.traffic_keep_ms <= 0)
    return 0;
  sg__pg_params_t p = {0};
  sg__pg_p_i64(&p, (now - c->st->cfg.traffic_keep_ms) / MINUTE_MS);
  sg__pg_p_i64(&p, PRUNE_MAX);
  uint64_t gone = 0;
  int rc = sg__pg_do(c,
                     "DELETE FROM traffic_minutes WHERE (account_id, minute) "
                     "IN (SELECT account_id, minute FROM traffic_minutes "
                     "WHERE minute < $1 ORDER BY minute LIMIT $2)",
                     &p, &gone);
  if (rc == 0)
    *n = (size_t)gone;
  return rc < 0 ? rc : 0;
}
