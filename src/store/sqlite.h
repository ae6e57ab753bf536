/* sqlite.h - what only the SQLite store has: its test seams.
 *
 * The engine uses store/store.h alone; this header is for tests and
 * benchmarks that need to make the disk fail on purpose.
 */
#ifndef SG_STORE_SQLITE_H
#define SG_STORE_SQLITE_H

#include <stdbool.h>
#include <stdint.h>

#include "store/store.h"

/* Makes the next n write transactions that reach the disk fail as the disk
 * would: their writes to the write-ahead log return SQLITE_FULL (disk_full)
 * or SQLITE_IOERR_WRITE, so COMMIT fails inside SQLite, every request of
 * those transactions gets SG_EIO and SQLite rolls them back. A transaction
 * that writes nothing does not count. n = 0 disarms. Needs a store opened
 * with sg_store_config_t.fault_injection (else SG_ENOTSUP); loop thread.
 * Returns 0, SG_ENOTSUP or SG_EINVAL (not a SQLite store). */
int sg_store_sqlite_fail_next(sg_store_t *st, unsigned n, bool disk_full);

/* The idle writer's settling of one-part message rows (sqlite_settle.c),
 * since the store opened. It starts when the writer has had no write for
 * SG_STORE_SETTLE_IDLE_MS (100; 0: never) and looks at
 * SG_STORE_SETTLE_BATCH (256) rows per transaction. */
typedef struct sg_store_sqlite_settle {
  uint64_t batches;  /* transactions run, committed or not */
  uint64_t failures; /* of which rolled back (the pass ended there) */
  uint64_t rows;     /* message rows settled */
  uint64_t passes;   /* passes that reached the last 'queued' row */
  uint64_t cpu_us;   /* the writer's CPU time in them */
  unsigned held_max; /* most batches a waiting write waited for */
} sg_store_sqlite_settle_t;
/* Copies the figures into *out: 0, or SG_EINVAL for a store that is not
 * SQLite. Any thread. */
int sg_store_sqlite_settle_stats(sg_store_t *st, sg_store_sqlite_settle_t *out);

/* The writer's page cache in KiB, as SQLite reports it once the store is
 * open (8,000 unless SG_STORE_CACHE_KB says otherwise); SG_EINVAL for a
 * store that is not SQLite. */
long sg_store_sqlite_cache_kb(const sg_store_t *st);

/* How often the writer read the /metrics counts from the tables since the
 * store opened (at the open, and when another connection changed the
 * file); SG_EINVAL for a store that is not SQLite. */
long sg_store_sqlite_counts_loads(sg_store_t *st);

#endif
