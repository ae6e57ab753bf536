/* store_stats.c - the store's commit histograms: the bucket bounds every
 * backend shares and the one function its writer calls per transaction.
 *
 * It runs on a backend's writer (under the lock that guards its stats), once
 * per transaction, never per message: it must never allocate, block or log.
 */
#include "store/store.h"

const uint32_t sg_store_commit_bounds_us[SG_STORE_COMMIT_BUCKETS] = {
    500,   1000,   2500,   5000,   10000,   25000,
    50000, 100000, 250000, 500000, 1000000, 2000000};

const uint32_t sg_store_batch_bounds[SG_STORE_BATCH_BUCKETS] = {
    1, 2, 5, 10, 20, 50, 100, 200, 500, 1000};

/* The index of the first bound >= v, or n (the bucket above every bound). */
static unsigned bucket(const uint32_t *bounds, unsigned n, uint64_t v) {
  unsigned i = 0;
  while (i < n && v > bounds[i])
    i++;
  return i;
}

void sg_store_stats_note_commit(sg_store_stats_t *stats, bool ok,
                                uint64_t took_us, unsigned n) {
  stats->commit_us_total += took_us;
  stats->commit_hist[bucket(sg_store_commit_bounds_us, SG_STORE_COMMIT_BUCKETS,
                            took_us)]++;
  if (!ok) {
    stats->failed_commits++;
    return;
  }
  stats->commits++;
  stats->writes += n;
  if (n > stats->max_group)
    stats->max_group = n;
  stats->batch_hist[bucket(sg_store_batch_bounds, SG_STORE_BATCH_BUCKETS, n)]++;
}
