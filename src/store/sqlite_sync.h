/* sqlite_sync.h - the SQLite writer's commit pipeline: the sync of the
 * write-ahead log, on a thread of its own, overlapped with the writer's next
 * group. Not for use outside src/store/. See sqlite_sync.c.
 */
#ifndef SG_STORE_SQLITE_SYNC_H
#define SG_STORE_SQLITE_SYNC_H

#include <stdbool.h>

#include "store/sqlite_int.h"

typedef struct sg__sq_sync sg__sq_sync_t;

/* Hands a list of finished write requests (n of them) to the loop, as the
 * writer does without a pipeline. Called on the sync thread. */
typedef void (*sg__sq_sync_post_fn)(void *arg, sg__store_req_t *list,
                                    unsigned n);

/* Starts the sync thread for the log whose writes go through wb (its path
 * is known once the writer's connection has opened the log). post hands
 * groups to the loop. A sync due while the writer runs a group waits for
 * that group's commit, at most wait_us (0: never waits). Returns 0,
 * SG_ENOMEM, or SG_EINVAL when the log's path is not known. */
int sg__sq_sync_start(sg__sq_sync_t **out, sg__sq_walbuf_t *wb,
                      uint64_t wait_us, sg__sq_sync_post_fn post, void *arg);

/* Writer thread, before a group's BEGIN: a commit may come, which a sync
 * about to start should wait for (sg__sq_sync_group ends it). */
void sg__sq_sync_running(sg__sq_sync_t *s);

/* Writer thread, after each group's transaction ended (committed or not):
 * owed is true when its COMMIT left the log's sync to this pipeline (the
 * walbuf VFS deferred it). The group is handed to the loop once every sync
 * owed up to now has succeeded, after every group handed in before it; when
 * the sync fails, each of its requests fails with SG_EIO instead. Blocks
 * while SG__SQ_SYNC_MAX_GROUPS groups are already waiting. */
void sg__sq_sync_group(sg__sq_sync_t *s, sg__store_req_t *group, unsigned n,
                       bool owed);

/* True from a failed sync until the next one that succeeds. */
bool sg__sq_sync_failing(sg__sq_sync_t *s);

/* A FAILED SYNC. The groups it covered were committed (other connections
 * may have read them) but are refused (SG_EIO), and so is every group
 * committed after them, until the writer has made their rows inert: while
 * sg__sq_sync_poisoned is true, before running its next group, the writer
 * calls sg__sq_sync_undo (waits until every group handed in is refused,
 * then, in one transaction synced the ordinary way, marks the messages of
 * the refused submits 'failed' with an event, and deletes their
 * idempotency records, so that no claim ever takes them and a retry of the
 * request stores it anew; 0 or SG_EIO, or SG_ENOMEM when a note was lost:
 * the store stays refused), then checkpoints the log whole, and on success
 * of both calls sg__sq_sync_healed. Until then it refuses its groups
 * without running them. Writer thread. */
bool sg__sq_sync_poisoned(sg__sq_sync_t *s);
int sg__sq_sync_undo(sg__sq_sync_t *s, sg__sq_conn_t *c, int64_t now);
void sg__sq_sync_healed(sg__sq_sync_t *s);

/* After the writer has stopped: makes the last sync owed, hands every
 * waiting group to the loop, and ends the thread. */
void sg__sq_sync_stop(sg__sq_sync_t *s);
/* Frees s (after sg__sq_sync_stop). NULL is ignored. */
void sg__sq_sync_free(sg__sq_sync_t *s);

/* Counters for the store's statistics (under no lock of the caller). */
typedef struct sg__sq_sync_stats {
  uint64_t syncs;       /* fdatasync()s of the log made by the thread */
  uint64_t failures;    /* of which failed */
  uint64_t sync_us;     /* time spent in them */
  uint64_t max_commits; /* most commits one sync covered */
  uint64_t waits;       /* syncs that first waited for the writer's commit */
  uint64_t wait_us;     /* time spent in those waits */
  /* the syncs by duration, over sg_store_stage_bounds_us */
  uint64_t sync_hist[SG_STORE_STAGE_BUCKETS + 1];
} sg__sq_sync_stats_t;
void sg__sq_sync_get_stats(sg__sq_sync_t *s, sg__sq_sync_stats_t *out);

#endif
