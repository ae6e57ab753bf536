/* store_stats.c - the store's commit histograms: the bucket bounds every
 * backend shares and the functions its threads call per transaction (and,
 * for the stages of a submit, per group of requests handed to the loop).
 *
 * They run under the lock that guards a backend's stats: they must never
 * allocate, block or log.
 */
#include "store/store.h"

const uint32_t sg_store_commit_bounds_us[SG_STORE_COMMIT_BUCKETS] = {
    500,   1000,   2500,   5000,   10000,   25000,
    50000, 100000, 250000, 500000, 1000000, 2000000};

const uint32_t sg_store_batch_bounds[SG_STORE_BATCH_BUCKETS] = {
    1, 2, 5, 10, 20, 50, 100, 200, 500, 1000};

const uint32_t sg_store_stage_bounds_us[SG_STORE_STAGE_BUCKETS] = {
    100,  200,  300,  500,  750,   1000,  1500,  2000,  2500,  3000,  4000,
    5000, 6000, 7000, 8000, 10000, 12500, 15000, 20000, 30000, 50000, 100000};

const char *const sg_store_stage_names[SG_STORE_STAGES] = {
    "queue", "run",   "sync",       "handoff",
    "total", "fsync", "checkpoint", "receipts"};

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

unsigned sg_store_stage_bucket(uint64_t us) {
  return bucket(sg_store_stage_bounds_us, SG_STORE_STAGE_BUCKETS, us);
}

void sg_store_stats_note_stage(sg_store_stats_t *stats, sg_store_stage_t s,
                               uint64_t took_us) {
  stats->stage_us[s] += took_us;
  stats->stage_hist[s][sg_store_stage_bucket(took_us)]++;
}
