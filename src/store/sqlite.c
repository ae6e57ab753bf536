/* sqlite.c - the SQLite store: opening the file (check, migrations,
 * recovery), the writer thread with group commit, the reader threads, the
 * checkpointer thread, and the hand-over of finished requests to the loop.
 *
 * The writer takes every write queued since its last commit (at most
 * max_batch), runs them in one BEGIN IMMEDIATE .. COMMIT (a request that
 * fails after writing is undone by running the group again without it: see
 * run_requests), and then hands all of them back to the loop at once
 * (uv_async_t); with synchronous=FULL it hands them to the commit pipeline
 * (sqlite_sync.c), which syncs the log beside the next group and releases
 * them after. A failed commit
 * fails the whole group with SG_EIO. Readers have their own connections,
 * which WAL lets read while the writer writes. This file must never run a
 * callback on any thread but the loop, nor block the loop (save in open and
 * close, which the engine calls outside of traffic).
 */
#include "store/sqlite.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif

#include "core/alloc.h"
#include "core/error.h"
#include "store/migrations.h"
#include "store/sqlite_int.h"
#include "store/sqlite_mcache.h"
#include "store/sqlite_mem.h"
#include "store/sqlite_pair.h"
#include "store/sqlite_settle.h"
#include "store/sqlite_sync.h"
#include "store/sqlite_whq.h"

typedef struct sq_queue {
  sg__store_req_t *head;
  sg__store_req_t *tail;
  unsigned len;
} sq_queue_t;

typedef struct sq {
  sg_store_t *st;
  sg__sq_conn_t writer;
  sg__sq_conn_t *readers;
  sg__sq_conn_t ckpt; /* the checkpointer's connection */
  unsigned n_readers;
  uv_thread_t writer_tid;
  uv_thread_t *reader_tids;
  uv_thread_t ckpt_tid;
  bool ckpt_started;
  unsigned threads_started; /* writer + readers running */
  uv_mutex_t lock;          /* queues, stopping, fault arming */
  uv_cond_t wcond;
  uv_cond_t rcond;
  uv_cond_t ccond;      /* the checkpointer waits on it */
  uv_mutex_t ckpt_lock; /* held by whoever checkpoints */
  bool ckpt_wanted;     /* the log has grown past ckpt_pages */
  int ckpt_pages;       /* CKPT_BYTES in pages of this database's size */
  long sync_wait_us;    /* the pipeline's wait for a running group */
  long page_size;       /* of a new database */
  long cache_kb;        /* the writer's page cache, asked for */
  long cache_kb_set;    /* and as SQLite reports it after open */
  sq_queue_t wq;
  sq_queue_t rq;
  bool stopping;
  uint64_t wake_gen; /* sg_store_claim_wake calls, and the stop (under lock) */
  sg__sq_wakes_t wakes; /* those the writer has not taken yet (under lock) */
  unsigned fail_next;
  bool fail_full;
  uv_mutex_t done_lock; /* done queue and stats */
  sq_queue_t done;
  sg_store_stats_t stats;
  uv_async_t async;
  bool sync_ready; /* lock, conds, async initialised */
  sg__sq_fault_t fault;
  bool fault_on;
  sg__sq_walbuf_t walbuf; /* the writer's WAL writes, gathered */
  bool walbuf_on;
  sg__sq_sync_t *sync; /* the commit pipeline, or NULL */
  void (*closed)(sg_store_t *st);
  /* The idle writer's settling of one-part rows (sqlite_settle.c); the
   * writer's, but the numbers, under done_lock. */
  long settle_idle_ms;      /* quiet time before settling; 0: never */
  long settle_batch;        /* rows looked at per transaction */
  bool settle_due;          /* a pass may find rows: a group committed since */
  bool idle;                /* writer_wait returned after settle_idle_ms */
  sg__sq_settle_t *settler; /* its place in the table */
  unsigned settle_held;     /* batches that ended with a write waiting, since
                               the last group */
  sg_store_sqlite_settle_t settle;
} sq_t;

static const char *const query_sql[SG__Q_COUNT] = {
#define SG__SQ_TEXT(name, sql) sql,
    SG__SQ_QUERIES(SG__SQ_TEXT)
#undef SG__SQ_TEXT
};

/* ---- connection helpers -------------------------------------------------- */

sg__sq_counts_t *sg__sq_counts_of(sg_store_t *st) {
  const sq_t *sq = st->impl;
  return sq->writer.cnt;
}

uint64_t sg__sq_wh_held(sg_store_t *st) {
  const sq_t *sq = st->impl;
  return sg__sq_whq_pending(&sq->writer);
}

sqlite3_stmt *sg__sq_prepare(sg__sq_conn_t *c, const char *sql) {
  sqlite3_stmt *s = NULL;
  if (sqlite3_prepare_v3(c->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &s, NULL) !=
      SQLITE_OK)
    return NULL;
  return s;
}

sqlite3_stmt *sg__sq_stmt(sg__sq_conn_t *c, sg__sq_query_t q) {
  if (c->q[q] == NULL)
    c->q[q] = sg__sq_prepare(c, query_sql[q]);
  else
    sqlite3_reset(c->q[q]);
  if (c->q[q] != NULL)
    sqlite3_clear_bindings(c->q[q]);
  return c->q[q];
}

int sg__sq_step_done(sqlite3_stmt *s) {
  int rc;
  while ((rc = sqlite3_step(s)) == SQLITE_ROW)
    ;
  int rrc = sqlite3_reset(s);
  return rc == SQLITE_DONE ? SQLITE_OK : (rrc != SQLITE_OK ? rrc : rc);
}

int sg__sq_exec(sg__sq_conn_t *c, sg__sq_query_t q) {
  sqlite3_stmt *s = sg__sq_stmt(c, q);
  return s == NULL ? sqlite3_errcode(c->db) : sg__sq_step_done(s);
}

int sg__sq_probe_once(sg__sq_conn_t *c, sg__sq_query_t q, bool *seen) {
  if (*seen)
    return 0;
  sqlite3_stmt *s = sg__sq_stmt(c, q);
  if (s == NULL)
    return SG_EIO;
  int rc = sqlite3_step(s);
  sqlite3_reset(s);
  if (rc != SQLITE_ROW && rc != SQLITE_DONE)
    return SG_EIO;
  *seen = rc == SQLITE_ROW;
  return 0;
}

int sg__sq_err(int rc) {
  if (rc == SQLITE_OK || rc == SQLITE_DONE || rc == SQLITE_ROW)
    return 0;
  return (rc & 0xff) == SQLITE_CONSTRAINT ? SG_EEXIST : SG_EIO;
}

int sg__sq_bind_text(sqlite3_stmt *s, int i, const char *v) {
  return v == NULL ? sqlite3_bind_null(s, i)
                   : sqlite3_bind_text(s, i, v, -1, SQLITE_STATIC);
}

int sg__sq_bind_blob(sqlite3_stmt *s, int i, const void *v, size_t n) {
  if (v == NULL)
    return sqlite3_bind_null(s, i);
  return sqlite3_bind_blob64(s, i, n ? v : "", n, SQLITE_STATIC);
}

int sg__sq_bind_opt_ms(sqlite3_stmt *s, int i, int64_t ms) {
  return ms == 0 ? sqlite3_bind_null(s, i) : sqlite3_bind_int64(s, i, ms);
}

const char *sg__sq_col_text(sg__arena_t *a, sqlite3_stmt *s, int i, bool *ok) {
  const unsigned char *t = sqlite3_column_text(s, i);
  if (t == NULL)
    return NULL;
  return sg__arena_strndup(a, (const char *)t,
                           (size_t)sqlite3_column_bytes(s, i), ok);
}

const uint8_t *sg__sq_col_blob(sg__arena_t *a, sqlite3_stmt *s, int i,
                               size_t *len, bool *ok) {
  const void *b = sqlite3_column_blob(s, i);
  *len = (size_t)sqlite3_column_bytes(s, i);
  if (b == NULL) {
    *len = 0;
    return sqlite3_column_type(s, i) == SQLITE_NULL
               ? NULL
               : sg__arena_alloc(a, 0); /* an empty blob, not NULL */
  }
  return sg__arena_memdup(a, b, *len, ok);
}

sg_msg_status_t sg__sq_col_status(sqlite3_stmt *s, int i) {
  sg_msg_status_t st = SG_MSG_NONE;
  const char *t = (const char *)sqlite3_column_text(s, i);
  if (t != NULL)
    sg_store_status_parse(t, &st);
  return st;
}

static void conn_close(sg__sq_conn_t *c) {
  for (int i = 0; i < SG__Q_COUNT; i++)
    sqlite3_finalize(c->q[i]);
  for (int i = 0; i < SG__SQ_LIST_VARIANTS; i++)
    sqlite3_finalize(c->list[i]);
  for (int i = 0; i < SG__SQ_INBOUND_VARIANTS; i++)
    sqlite3_finalize(c->inbound[i]);
  sg__sq_wh_close(c);
  sg__sq_mc_close(c);
  sg__sq_pair_close(c);
  sg__sq_smpp_out_close(c);
  sg__sq_orphan_close(c);
  sg__sq_campaigns_close(c);
  sg__sq_counts_close(c);
  sg__sq_park_close(c);
  sqlite3_close_v2(c->db);
  sg__jbuf_free(&c->json);
  memset(c, 0, sizeof *c);
}

/* ---- opening ------------------------------------------------------------- */

static void fmt_err(char *err, size_t errlen, const char *fmt, const char *a,
                    const char *b) {
  if (err != NULL && errlen > 0)
    snprintf(err, errlen, fmt, a, b);
}

static int conn_open(sq_t *sq, sg__sq_conn_t *c, const char *path, bool rw,
                     char *err, size_t errlen) {
  int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX |
              (rw ? SQLITE_OPEN_CREATE : 0);
  c->st = sq->st;
  const char *vfs = sq->fault_on ? sq->fault.vfs_name : NULL;
  if (rw && sq->walbuf_on) /* only the writer writes the log */
    vfs = sq->walbuf.vfs_name;
  int rc = sqlite3_open_v2(path, &c->db, flags, vfs);
  if (rc != SQLITE_OK) {
    fmt_err(err, errlen, "store: cannot open database %s: %s", path,
            c->db ? sqlite3_errmsg(c->db) : sqlite3_errstr(rc));
    return SG_EIO;
  }
  sqlite3_extended_result_codes(c->db, 1);
  sqlite3_busy_timeout(c->db, 5000);
  return 0;
}

/* The page size of a new database, and the writer's page cache (in KiB).
 * SG_STORE_PAGE_SIZE and SG_STORE_CACHE_KB in the environment override
 * them, for side-by-side benchmarks (docs/configuration.md). The cache is
 * 8 MB rather than SQLite's 2 MB: over a million messages the interior
 * pages of the B-trees a message writes (about 13 MB in all, 8 MB of them
 * the messages table's) no longer fit in 2 MB, and the receipts' updates
 * of rows 0.2-1 s old read their pages again (docs/architecture.md, "The
 * writer on a large database"). */
#define SG__SQ_PAGE_SIZE 4096
#define SG__SQ_CACHE_KB 8000
/* The idle writer's settling (settle_idle): the quiet time before it and
 * the rows each of its transactions looks at. */
#define SG__SQ_SETTLE_IDLE_MS 100
#define SG__SQ_SETTLE_BATCH 256
/* How long a sync of the commit pipeline due while the writer runs a group
 * waits for that group's commit, to cover both (sqlite_sync.c). */
#define SG__SQ_SYNC_WAIT_US 1000

/* Runs one pragma or statement that needs no binding; returns the SQLite
 * code, and its first text column in out when asked. */
static int exec_sql(sqlite3 *db, const char *sql, char *out, size_t outlen) {
  sqlite3_stmt *s = NULL;
  int rc = sqlite3_prepare_v2(db, sql, -1, &s, NULL);
  if (rc != SQLITE_OK)
    return rc;
  rc = sqlite3_step(s);
  if (rc == SQLITE_ROW && out != NULL) {
    const char *t = (const char *)sqlite3_column_text(s, 0);
    snprintf(out, outlen, "%s", t ? t : "");
  }
  while (rc == SQLITE_ROW)
    rc = sqlite3_step(s);
  sqlite3_finalize(s);
  return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

/* PRAGMA quick_check: refuses a file that is not a database, or is corrupt
 * or truncated, before anything writes to it. */
static int check_file(sqlite3 *db, const char *path, char *err, size_t errlen) {
  char res[256] = "";
  int rc = exec_sql(db, "PRAGMA quick_check", res, sizeof res);
  if (rc == SQLITE_OK && strcmp(res, "ok") == 0)
    return 0;
  for (char *p = res; *p != '\0'; p++) /* one line for the log */
    if (*p == '\n')
      *p = ' ';
  if ((rc & 0xff) == SQLITE_NOTADB) {
    fmt_err(err, errlen,
            "store: %s is not an SQLite database (%s); move it away or "
            "point the store at another file",
            path, sqlite3_errmsg(db));
  } else if (rc == SQLITE_OK || (rc & 0xff) == SQLITE_CORRUPT) {
    fmt_err(err, errlen,
            "store: database %s is corrupt or truncated (PRAGMA quick_check: "
            "%s); restore it from a backup",
            path, rc == SQLITE_OK ? res : sqlite3_errmsg(db));
  } else {
    fmt_err(err, errlen, "store: cannot read database %s: %s", path,
            sqlite3_errmsg(db));
  }
  return SG_EIO;
}

/* A size from the environment: *out is left alone when the variable is
 * unset or empty; a value that is not a decimal number in [lo, hi] (and a
 * power of two when pow2) is an error, named in err. */
static int env_size(const char *name, long lo, long hi, bool pow2, long *out,
                    char *err, size_t errlen) {
  const char *e = getenv(name);
  if (e == NULL || e[0] == '\0')
    return 0;
  char *end = NULL;
  long v = strtol(e, &end, 10);
  if (*end != '\0' || v < lo || v > hi || (pow2 && (v & (v - 1)) != 0)) {
    if (err != NULL && errlen > 0)
      snprintf(err, errlen, "store: %s=%s is not a%s number from %ld to %ld",
               name, e, pow2 ? " power-of-two" : "", lo, hi);
    return SG_EINVAL;
  }
  *out = v;
  return 0;
}

static int set_pragmas(sq_t *sq, const char *path, char *err, size_t errlen) {
  sqlite3 *db = sq->writer.db;
  char mode[32] = "";
  char sql[64];
  /* Before the first table is made (and before WAL mode writes the file's
   * header) this sets the page size of a new database; SQLite ignores it
   * for a database that has one already. */
  snprintf(sql, sizeof sql, "PRAGMA page_size=%ld", sq->page_size);
  if (exec_sql(db, sql, NULL, 0) != SQLITE_OK) {
    fmt_err(err, errlen, "store: cannot configure %s: %s", path,
            sqlite3_errmsg(db));
    return SG_EIO;
  }
  snprintf(sql, sizeof sql, "PRAGMA cache_size=%ld", -sq->cache_kb);
  char cache[32] = "";
  if (exec_sql(db, sql, NULL, 0) != SQLITE_OK ||
      exec_sql(db, "PRAGMA cache_size", cache, sizeof cache) != SQLITE_OK) {
    fmt_err(err, errlen, "store: cannot configure %s: %s", path,
            sqlite3_errmsg(db));
    return SG_EIO;
  }
  sq->cache_kb_set = -strtol(cache, NULL, 10); /* negative: KiB */
  if (exec_sql(db, "PRAGMA journal_mode=WAL", mode, sizeof mode) != SQLITE_OK ||
      strcmp(mode, "wal") != 0) {
    fmt_err(err, errlen, "store: cannot put %s in WAL mode: %s", path,
            sqlite3_errmsg(db));
    return SG_EIO;
  }
  const char *sync = sq->st->cfg.sync_normal ? "PRAGMA synchronous=NORMAL"
                                             : "PRAGMA synchronous=FULL";
  if (exec_sql(db, sync, NULL, 0) != SQLITE_OK ||
      /* OFF: each child row's parent is checked by the store's own code
       * (a part or an event is written for a message row just read or
       * written; an API key after its account is looked up), and the
       * checks cost a seventh of the writer's instructions. No REFERENCES
       * may ask for an action (test_store_fk). */
      exec_sql(db, "PRAGMA foreign_keys=OFF", NULL, 0) != SQLITE_OK ||
      /* statement journals and sorts stay in memory */
      exec_sql(db, "PRAGMA temp_store=MEMORY", NULL, 0) != SQLITE_OK) {
    fmt_err(err, errlen, "store: cannot configure %s: %s", path,
            sqlite3_errmsg(db));
    return SG_EIO;
  }
  return 0;
}

/* Applies the migrations the file lacks, in one transaction. */
static int migrate_tx(sq_t *sq, const char *path, char *err, size_t errlen) {
  sqlite3 *db = sq->writer.db;
  /* Versions, not positions: numbers may have gaps (each branch of work
   * takes its own number), so the newest known is the last entry's. */
  const size_t n_known = sg__sqlite_migrations_count;
  const unsigned known =
      n_known > 0 ? sg__sqlite_migrations[n_known - 1].version : 0;
  char ver[32] = "";
  int rc = exec_sql(db,
                    "CREATE TABLE IF NOT EXISTS schema_version (version "
                    "INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_ms "
                    "INTEGER NOT NULL)",
                    NULL, 0);
  if (rc == SQLITE_OK)
    rc = exec_sql(db, "SELECT coalesce(max(version), 0) FROM schema_version",
                  ver, sizeof ver);
  if (rc != SQLITE_OK)
    return SG_EIO;
  unsigned have = (unsigned)strtoul(ver, NULL, 10);
  if (have > known) {
    if (err != NULL && errlen > 0)
      snprintf(err, errlen,
               "store: database %s has schema version %u, newer than the %u "
               "this smsgate knows; run a newer smsgate",
               path, have, known);
    return SG_ENOTSUP;
  }
  for (size_t i = 0; i < n_known; i++) {
    const sg__migration_t *m = &sg__sqlite_migrations[i];
    if (m->version <= have)
      continue;
    char *emsg = NULL;
    if (sqlite3_exec(db, m->sql, NULL, NULL, &emsg) != SQLITE_OK) {
      fmt_err(err, errlen, "store: migration %s failed: %s", m->name,
              emsg ? emsg : sqlite3_errmsg(db));
      sqlite3_free(emsg);
      return SG_EIO;
    }
    char ins[160];
    snprintf(ins, sizeof ins,
             "INSERT INTO schema_version VALUES (%u, '%s', %lld)", m->version,
             m->name, (long long)sg__store_now(sq->st));
    if (exec_sql(db, ins, NULL, 0) != SQLITE_OK)
      return SG_EIO;
    sq->st->info.migrated++;
  }
  sq->st->info.schema_version = known;
  return 0;
}

static int migrate(sq_t *sq, const char *path, char *err, size_t errlen) {
  sqlite3 *db = sq->writer.db;
  if (exec_sql(db, "BEGIN IMMEDIATE", NULL, 0) != SQLITE_OK) {
    fmt_err(err, errlen, "store: cannot write to %s: %s", path,
            sqlite3_errmsg(db));
    return SG_EIO;
  }
  int rc = migrate_tx(sq, path, err, errlen);
  if (rc == 0) /* what the recovery below changes counts like the rest */
    rc = sg__sq_campaigns_probe(&sq->writer);
  if (rc == 0)
    rc = sg__sq_smpp_origins_probe(&sq->writer);
  if (rc == 0)
    rc = sg__sq_recover(&sq->writer, sg__store_now(sq->st),
                        &sq->st->info.requeued_parts,
                        &sq->st->info.requeued_webhooks) == 0
             ? 0
             : SG_EIO;
  if (rc == 0 && sg__sq_campaign_flush(&sq->writer) < 0)
    rc = SG_EIO;
  sg__sq_campaign_discard(&sq->writer);
  if (rc == 0) /* after the recovery: the counts /metrics starts from */
    rc = sg__sq_counts_load(&sq->writer);
  if (rc == 0 &&
      sg__sq_node_register(&sq->writer, sq->st, sg__store_now(sq->st)) != 0)
    rc = SG_EIO;
  if (rc == 0 && exec_sql(db, "COMMIT", NULL, 0) != SQLITE_OK)
    rc = SG_EIO;
  sg__sq_counts_tx_end(&sq->writer, rc == 0);
  if (rc < 0) {
    if (err != NULL && errlen > 0 && err[0] == '\0')
      fmt_err(err, errlen, "store: cannot prepare %s: %s", path,
              sqlite3_errmsg(db));
    exec_sql(db, "ROLLBACK", NULL, 0);
  }
  return rc;
}

/* ---- the queues ---------------------------------------------------------- */

static void q_push(sq_queue_t *q, sg__store_req_t *r) {
  r->next = NULL;
  if (q->tail != NULL)
    q->tail->next = r;
  else
    q->head = r;
  q->tail = r;
  q->len++;
}

/* Takes up to max requests off the front of q. */
static sg__store_req_t *q_take(sq_queue_t *q, unsigned max, unsigned *n) {
  sg__store_req_t *head = q->head, *last = NULL, *r = head;
  unsigned k = 0;
  while (r != NULL && k < max) {
    last = r;
    r = r->next;
    k++;
  }
  if (last == NULL) {
    *n = 0;
    return NULL;
  }
  q->head = r;
  if (r == NULL)
    q->tail = NULL;
  last->next = NULL;
  q->len -= k;
  *n = k;
  return head;
}

static uint64_t now_us(void) {
  return uv_hrtime() / 1000u;
}

/* Hands finished requests (a list) to the loop. */
static void post_done(sq_t *sq, sg__store_req_t *list, bool write, unsigned n) {
  uint64_t t = write ? now_us() : 0;
  uv_mutex_lock(&sq->done_lock);
  for (sg__store_req_t *r = list, *next; r != NULL; r = next) {
    next = r->next;
    r->t_released = t;
    q_push(&sq->done, r);
  }
  if (!write)
    sq->stats.reads += n;
  uv_mutex_unlock(&sq->done_lock);
  uv_async_send(&sq->async);
}

/* Counts the stages of the submits in list into the stats, and the time
 * of each receipts request (under done_lock); now: when the loop took
 * them. */
static void note_stages(sq_t *sq, const sg__store_req_t *list, uint64_t now) {
  sg_store_stats_t *s = &sq->stats;
  for (const sg__store_req_t *r = list; r != NULL; r = r->next) {
    if (r->kind == SG__REQ_RECEIPTS && r->t_queued != 0)
      sg_store_stats_note_stage(s, SG_STORE_STAGE_RECEIPTS, now - r->t_queued);
    if (r->kind != SG__REQ_SUBMIT || r->t_released == 0)
      continue;
    sg_store_stats_note_stage(s, SG_STORE_STAGE_QUEUE,
                              r->t_taken - r->t_queued);
    sg_store_stats_note_stage(s, SG_STORE_STAGE_RUN,
                              r->t_committed - r->t_taken);
    sg_store_stats_note_stage(s, SG_STORE_STAGE_SYNC,
                              r->t_released - r->t_committed);
    sg_store_stats_note_stage(s, SG_STORE_STAGE_HANDOFF, now - r->t_released);
    sg_store_stats_note_stage(s, SG_STORE_STAGE_TOTAL, now - r->t_queued);
  }
}

static void drain_done(sq_t *sq) {
  uint64_t now = now_us();
  uv_mutex_lock(&sq->done_lock);
  sg__store_req_t *list = sq->done.head;
  sq->done.head = sq->done.tail = NULL;
  sq->done.len = 0;
  note_stages(sq, list, now);
  uv_mutex_unlock(&sq->done_lock);
  for (sg__store_req_t *r = list, *next; r != NULL; r = next) {
    next = r->next;
    sg__store_complete(sq->st, r);
  }
}

static void async_cb(uv_async_t *h) {
  drain_done(h->data);
}

static int sq_queue(sg_store_t *st, sg__store_req_t *req) {
  sq_t *sq = st->impl;
  bool write = sg__req_is_write(req);
  sq_queue_t *q = write ? &sq->wq : &sq->rq;
  unsigned max = write ? st->cfg.max_pending_writes : st->cfg.max_pending_reads;
  int rc = 0;
  req->t_queued = write ? now_us() : 0;
  uv_mutex_lock(&sq->lock);
  req->park_gen = sq->wake_gen; /* a wake after this one answers it */
  if (sq->stopping)
    rc = SG_ECLOSED;
  else if (q->len >= max)
    rc = SG_EBUSY;
  else
    q_push(q, req);
  uv_mutex_unlock(&sq->lock);
  if (rc == 0)
    uv_cond_signal(write ? &sq->wcond : &sq->rcond);
  return rc;
}

/* ---- the writer ---------------------------------------------------------- */

/* CPU time of the calling thread, in µs. */
static uint64_t thread_cpu_us(void) {
  struct timespec ts;
  if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts) != 0)
    return 0;
  return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/* Sleeps until writes come, a stop, a wake, or the time of a waiting claim
 * (under sq->lock). While rows may want settling, it sleeps at most
 * settle_idle_ms at a time and sets sq->idle when that passed with no
 * write. */
static void writer_wait(sq_t *sq) {
  const sg__sq_conn_t *c = &sq->writer;
  sq->idle = false;
  while (sq->wq.len == 0 && !sq->stopping) {
    uint64_t next = sg__sq_park_next(c);
    uint64_t t = uv_hrtime(), quiet = 0;
    if (sq->settle_due && sq->settle_idle_ms > 0)
      quiet = t + (uint64_t)sq->settle_idle_ms * 1000000u;
    if (next == 0 && quiet == 0) {
      uv_cond_wait(&sq->wcond, &sq->lock);
      continue;
    }
    if (sq->wake_gen != c->park.gen || (next != 0 && t >= next))
      return;
    uint64_t until = next == 0 || (quiet != 0 && quiet < next) ? quiet : next;
    if (uv_cond_timedwait(&sq->wcond, &sq->lock, until - t) != 0) {
      sq->idle = until == quiet && sq->wq.len == 0; /* timed out */
      return;
    }
  }
}

/* Waits for writes; returns the group to run, or NULL when there is none
 * (then *stop says whether the writer stops). */
static sg__store_req_t *writer_take(sq_t *sq, unsigned *n, bool *arm,
                                    bool *stop) {
  sq->idle = false;
  const sg_store_config_t *cfg = &sq->st->cfg;
  uv_mutex_lock(&sq->lock);
  writer_wait(sq);
  if (cfg->max_wait_us > 0 && !sq->stopping && sq->wq.len > 0) {
    uint64_t deadline = uv_hrtime() + (uint64_t)cfg->max_wait_us * 1000u;
    while (sq->wq.len < cfg->max_batch && !sq->stopping) {
      uint64_t t = uv_hrtime();
      if (t >= deadline ||
          uv_cond_timedwait(&sq->wcond, &sq->lock, deadline - t) != 0)
        break;
    }
  }
  sg__store_req_t *group = q_take(&sq->wq, cfg->max_batch, n);
  *arm = sq->fail_next > 0;
  *stop = sq->stopping && group == NULL;
  sq->fault.disk_full = sq->fail_full;
  /* claims queued before may wait, unless a wake named them */
  sg__sq_park_take_wakes(&sq->writer, &sq->wakes, sq->wake_gen);
  uv_mutex_unlock(&sq->lock);
  uint64_t t = now_us();
  for (sg__store_req_t *r = group; r != NULL; r = r->next)
    r->t_taken = t;
  return group;
}

/* Runs request r of the group straight into the transaction: 0, 1 when
 * it failed after it had changed rows (it is marked to be left out), or
 * SG_EIO when the transaction must fail. */
static int run_one(sq_t *sq, sg__store_req_t *r, int64_t now) {
  sg__sq_conn_t *c = &sq->writer;
  memset(&r->out, 0, sizeof r->out); /* results of an earlier run */
  r->n_handoff = 0;
  /* A campaign request reads and tests the counters: the group's moves
   * so far are written first (their rows are the earlier requests'). */
  if (r->kind == SG__REQ_CAMPAIGN_WRITE && sg__sq_campaign_flush(c) < 0)
    return SG_EIO;
  sqlite3_int64 before = sqlite3_total_changes64(c->db);
  c->cur = r;
  r->status = sg__sq_run_write(c, r, now);
  c->cur = NULL;
  if (r->status == SG_EIO)
    return SG_EIO;
  /* A failed statement undoes its own rows and does not count them: a
   * request that failed with the count unchanged left nothing behind. */
  if (r->status < 0 && sqlite3_total_changes64(c->db) != before) {
    r->rerun_skip = true;
    return 1;
  }
  return 0;
}

/* Runs the requests of the group not left out. Returns 0 when all of them
 * ran, 1 when one failed after it had changed rows (the caller rolls back
 * and runs the group again without it), or SG_EIO when the transaction
 * must fail. Claims that may wait run first: one that finds nothing then
 * takes the parts of every submit of the group (sqlite_park.c), instead of
 * selecting those queued before it in the group and leaving the others to
 * the next claim, one more trip later. A claim left open is answered at
 * the group's end, after the requests that gave it parts
 * (sg__sq_park_commit); the others keep the group's order. */
static int run_requests_once(sq_t *sq, sg__store_req_t *group, int64_t now) {
  sg__sq_pair_scan(&sq->writer, group); /* SENT results and their receipts */
  for (int pass = 0; pass < 2; pass++)
    for (sg__store_req_t *r = group; r != NULL; r = r->next) {
      bool first = r->kind == SG__REQ_CLAIM && r->in.claim.wait_ms > 0;
      if (r->rerun_skip || first != (pass == 0))
        continue;
      int rc = run_one(sq, r, now);
      if (rc != 0)
        return rc;
    }
  return sg__sq_pair_end(&sq->writer) < 0 ? SG_EIO : 0;
}

/* Runs the group optimistically, without a savepoint per request (each costs
 * statements and a journal of the pages it touches). A request that fails
 * must change nothing: when one fails after writing, the transaction is
 * rolled back and begun again, and the group is run again without it (it
 * keeps its error). Every round leaves one more request out, so it ends.
 * Returns SG_EIO when the transaction must fail, else 0. */
static int run_requests(sq_t *sq, sg__store_req_t *group, int64_t now,
                        unsigned *reruns) {
  sg__sq_conn_t *c = &sq->writer;
  for (sg__store_req_t *r = group; r != NULL; r = r->next)
    r->rerun_skip = false;
  int rc;
  while ((rc = run_requests_once(sq, group, now)) == 1) {
    (*reruns)++;
    int rb = sg__sq_exec(c, SG__Q_ROLLBACK);
    sg__sq_park_rollback(c);
    sg__sq_traffic_discard(c);
    sg__sq_limits_discard(c);
    sg__sq_campaign_discard(c);
    sg__sq_wh_tx_end(c, false);
    sg__sq_smpp_out_tx_end(c, false);
    sg__sq_orphan_tx_end(c, false);
    sg__sq_mc_tx_end(c, false);
    sg__sq_counts_discard(c);
    if (rb != SQLITE_OK || sg__sq_exec(c, SG__Q_BEGIN) != SQLITE_OK ||
        sg__sq_counts_probe(c) < 0) /* another process may have written */
      return SG_EIO;
  }
  return rc;
}

/* After a failed sync of the pipeline: makes the rows of the groups it
 * refused inert (sqlite_sync.h), then copies the log whole into the file,
 * with real syncs, so that nothing later rests on frames of the log whose
 * sync failed. True when the store may take groups again. */
static bool repair(sq_t *sq, int64_t now) {
  sg__sq_mc_clear(&sq->writer); /* the undo writes messages */
  if (sg__sq_sync_undo(sq->sync, &sq->writer, now) < 0)
    return false;
  int n_log = -1, n_ckpt = -1;
  uv_mutex_lock(&sq->ckpt_lock);
  int rc = sqlite3_wal_checkpoint_v2(sq->writer.db, NULL,
                                     SQLITE_CHECKPOINT_FULL, &n_log, &n_ckpt);
  uv_mutex_unlock(&sq->ckpt_lock);
  if (rc != SQLITE_OK || n_log != n_ckpt)
    return false;
  sg__sq_sync_healed(sq->sync);
  return true;
}

/* A group refused without running: the store is still repairing. */
static void refuse_group(sq_t *sq, sg__store_req_t *group, unsigned n) {
  uint64_t t = now_us();
  for (sg__store_req_t *r = group; r != NULL; r = r->next) {
    r->status = SG_EIO;
    r->t_committed = t;
  }
  uv_mutex_lock(&sq->done_lock);
  sg_store_stats_note_commit(&sq->stats, false, 0, n);
  uv_mutex_unlock(&sq->done_lock);
  sg__sq_sync_group(sq->sync, group, n, false);
}

static void run_group(sq_t *sq, sg__store_req_t *group, unsigned n, bool arm) {
  sg__sq_conn_t *c = &sq->writer;
  uint64_t t0 = now_us(), cpu0 = thread_cpu_us();
  int64_t now = sg__store_now(sq->st);
  if (sq->sync != NULL && sg__sq_sync_poisoned(sq->sync) && !repair(sq, now)) {
    refuse_group(sq, group, n);
    return;
  }
  sq->fault.failing = arm;
  sq->fault.tripped = false;
  unsigned reruns = 0;
  sqlite3_int64 changes0 = sqlite3_total_changes64(c->db);
  if (sq->sync != NULL)
    sg__sq_sync_running(sq->sync);
  int rc = sg__sq_exec(c, SG__Q_BEGIN) == SQLITE_OK ? 0 : SG_EIO;
  if (rc == 0)
    rc = sg__sq_campaigns_probe(c);
  if (rc == 0)
    rc = sg__sq_smpp_origins_probe(c);
  if (rc == 0)
    rc = sg__sq_counts_probe(c);
  if (rc == 0)
    rc = run_requests(sq, group, now, &reruns);
  if (rc == 0 && sg__sq_traffic_flush(c) < 0)
    rc = SG_EIO;
  if (rc == 0 && sg__sq_limits_flush(c) < 0)
    rc = SG_EIO;
  if (rc == 0 && sg__sq_campaign_flush(c) < 0)
    rc = SG_EIO;
  sg__sq_traffic_discard(c);
  sg__sq_limits_discard(c);
  sg__sq_campaign_discard(c);
  if (rc == 0 && sg__sq_whq_mark(c) < 0) /* webhooks held in memory */
    rc = SG_EIO;
  sq->walbuf.defer = sq->sync != NULL; /* the log's sync is the pipeline's */
  if (rc == 0 && sg__sq_exec(c, SG__Q_COMMIT) != SQLITE_OK)
    rc = SG_EIO;
  sq->walbuf.defer = false;
  bool owed = sq->walbuf.owed;
  sq->walbuf.owed = false;
  unsigned n_all = n;
  if (rc < 0) {
    if (!sqlite3_get_autocommit(c->db))
      sg__sq_exec(c, SG__Q_ROLLBACK);
    for (sg__store_req_t *r = group; r != NULL; r = r->next)
      r->status = SG_EIO;
    sg__sq_park_rollback(c);
  } else {
    group = sg__sq_park_commit(c, group, &n);
  }
  sg__sq_wh_tx_end(c, rc == 0);
  sg__sq_smpp_out_tx_end(c, rc == 0);
  sg__sq_orphan_tx_end(c, rc == 0);
  sg__sq_mc_tx_end(c, rc == 0);
  sg__sq_counts_tx_end(c, rc == 0);
  sq->fault.failing = false;
  uint64_t t1 = now_us(), took = t1 - t0, cpu = thread_cpu_us() - cpu0;
  for (sg__store_req_t *r = group; r != NULL; r = r->next)
    r->t_committed = t1;
  uv_mutex_lock(&sq->lock);
  if (sq->fault.tripped && sq->fail_next > 0)
    sq->fail_next--;
  uv_mutex_unlock(&sq->lock);
  uv_mutex_lock(&sq->done_lock);
  sg_store_stats_note_commit(&sq->stats, rc == 0, took, n_all);
  if (rc == 0 && sqlite3_total_changes64(c->db) != changes0)
    sq->stats.changing++;
  sq->stats.writer_cpu_us += cpu;
  sq->stats.reruns += reruns;
  uv_mutex_unlock(&sq->done_lock);
  if (sq->sync != NULL)
    sg__sq_sync_group(sq->sync, group, n, owed);
  else
    post_done(sq, group, true, n);
}

/* Names the calling thread, for top, perf, ps and bench/lib.sh's report
 * of CPU by thread. */
void sg__sq_thread_name(const char *name) {
#ifdef __linux__
  prctl(PR_SET_NAME, name, 0, 0, 0);
#else
  (void)name;
#endif
}

/* Answers the waiting claims whose time ran out or that were woken (every
 * one at the stop) with no part, after the groups handed on before. */
static void answer_waiting(sq_t *sq, bool all) {
  unsigned n;
  sg__store_req_t *list = sg__sq_park_due(&sq->writer, uv_hrtime(), all, &n);
  if (list == NULL)
    return;
  uint64_t t = now_us();
  int64_t now = sg__store_now(sq->st);
  for (sg__store_req_t *r = list; r != NULL; r = r->next) {
    r->t_committed = t;
    /* when its connector has a part due next (none asked at the stop) */
    if (all || sg__sq_claim_next(&sq->writer, r, now) != 0)
      r->out.claim.next_ms = 0;
  }
  if (sq->sync != NULL)
    sg__sq_sync_group(sq->sync, list, n, false);
  else
    post_done(sq, list, true, n);
}

/* A write waits, the store stops, a claim was woken or a waiting claim's
 * time came: the idle work gives way, as writer_wait would have returned. */
static bool writer_wanted(sq_t *sq) {
  uint64_t next = sg__sq_park_next(&sq->writer);
  uv_mutex_lock(&sq->lock);
  bool wanted =
      sq->wq.len > 0 || sq->stopping || sq->wake_gen != sq->writer.park.gen;
  uv_mutex_unlock(&sq->lock);
  return wanted || (next != 0 && uv_hrtime() >= next);
}

/* The writer has had no write for settle_idle_ms: settles one-part rows
 * (sqlite_settle.c), a batch per transaction, until the pass ends or a
 * write comes, which then waits for at most the batch under way. Each
 * group the writer commits may end parts, so it calls for another pass
 * (which goes on from where the last one ended); one that fails ends
 * there. Never while the commit pipeline is failing, whose repair comes
 * first. The batches' commits sync the log themselves (walbuf.defer is
 * off outside run_group), which the pipeline's next sync then finds
 * done. */
static void settle_idle(sq_t *sq) {
  sg__sq_conn_t *c = &sq->writer;
  while (sq->settle_due && !writer_wanted(sq)) {
    if (sq->sync != NULL && sg__sq_sync_failing(sq->sync))
      return;
    uv_mutex_lock(&sq->lock);
    bool arm = sq->fail_next > 0;
    sq->fault.disk_full = sq->fail_full;
    uv_mutex_unlock(&sq->lock);
    sq->fault.failing = arm;
    sq->fault.tripped = false;
    uint64_t cpu0 = thread_cpu_us();
    unsigned settled = 0;
    bool more = false;
    int rc = sg__sq_settle_batch(c, sq->settler, (unsigned)sq->settle_batch,
                                 &settled, &more);
    sq->fault.failing = false;
    uv_mutex_lock(&sq->lock);
    if (sq->fault.tripped && sq->fail_next > 0)
      sq->fail_next--;
    bool waiting = sq->wq.len > 0;
    uv_mutex_unlock(&sq->lock);
    if (waiting)
      sq->settle_held++;
    uv_mutex_lock(&sq->done_lock);
    sq->settle.batches++;
    sq->settle.failures += rc < 0;
    sq->settle.rows += settled;
    sq->settle.cpu_us += thread_cpu_us() - cpu0;
    if (sq->settle_held > sq->settle.held_max)
      sq->settle.held_max = sq->settle_held;
    if (rc == 0 && !more)
      sq->settle.passes++;
    uv_mutex_unlock(&sq->done_lock);
    if (rc < 0 || !more)
      sq->settle_due = false;
  }
}

static void writer_main(void *arg) {
  sq_t *sq = arg;
  sg__sq_thread_name("sg-writer");
  for (;;) {
    unsigned n;
    bool arm, stop;
    sg__store_req_t *group = writer_take(sq, &n, &arm, &stop);
    answer_waiting(sq, stop);
    if (stop)
      break;
    if (group != NULL) {
      run_group(sq, group, n, arm);
      sq->settle_due = true;
      sq->settle_held = 0;
    } else if (sq->idle) {
      settle_idle(sq);
    }
  }
}

/* ---- the checkpointer ---------------------------------------------------- */

/* Copying the write-ahead log back into the main file (a checkpoint) reads
 * and writes and, with synchronous=FULL, syncs the whole file: done by the
 * writer after a commit (SQLite's default), it would hold up the
 * acknowledgements of the next group. The writer only notes that the log
 * has grown; a thread of its own copies it, PASSIVE, beside the writer.
 *
 * A checkpoint copies the newest frame of each page in the log once, so a
 * page every group rewrites (a B-tree's right edge, an index's root) costs
 * a copy per checkpoint, not per commit: the larger the log when the copy
 * starts, the fewer copies a message. From 1,000 to 4,000 pages the
 * checkpointer's page copies went from about 1.0 to 0.6 a message and its
 * CPU from 6.5 to 4 us (docs/architecture.md, "The checkpoint's trigger").
 * The trigger is a size in bytes (4,000 pages of 4 KiB), turned into pages
 * of the database's own size at open, so that a database with smaller
 * pages checkpoints no more often; the log is bounded at twice that (about
 * 33 MB with its frame headers), and the wal-index at 32 KB per 4,096
 * frames (64 KB with 4 KiB pages). */
#define CKPT_BYTES (4000L * 4096)

static int wal_hook_cb(void *arg, sqlite3 *db, const char *name, int pages) {
  sq_t *sq = arg;
  (void)name;
  if (pages >= 2 * sq->ckpt_pages) {
    /* The checkpointer cannot catch up with a writer that never pauses,
     * and the log only starts over once a checkpoint caught up: the writer
     * makes this one itself, between two groups, with its real syncs (this
     * hook runs inside the COMMIT, where the log's sync is deferred). */
    bool defer = sq->walbuf.defer;
    sq->walbuf.defer = false;
    /* after the checkpointer's, if one is running (else this one is busy
     * and the log never starts over while commits come back to back) */
    uv_mutex_lock(&sq->ckpt_lock);
    sqlite3_wal_checkpoint_v2(db, NULL, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
    uv_mutex_unlock(&sq->ckpt_lock);
    sq->walbuf.defer = defer;
  } else if (pages >= sq->ckpt_pages) {
    uv_mutex_lock(&sq->lock);
    sq->ckpt_wanted = true;
    uv_mutex_unlock(&sq->lock);
    uv_cond_signal(&sq->ccond);
  }
  return SQLITE_OK;
}

static void ckpt_main(void *arg) {
  sq_t *sq = arg;
  sg__sq_thread_name("sg-ckpt");
  for (;;) {
    uv_mutex_lock(&sq->lock);
    while (!sq->ckpt_wanted && !sq->stopping)
      uv_cond_wait(&sq->ccond, &sq->lock);
    bool stop = sq->stopping;
    sq->ckpt_wanted = false;
    uv_mutex_unlock(&sq->lock);
    if (stop) /* closing the writer makes the last checkpoint */
      break;
    uv_mutex_lock(&sq->ckpt_lock);
    uint64_t t0 = now_us();
    int rc = sqlite3_wal_checkpoint_v2(sq->ckpt.db, NULL,
                                       SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
    uint64_t took = now_us() - t0;
    uv_mutex_unlock(&sq->ckpt_lock);
    if (rc == SQLITE_OK) {
      uv_mutex_lock(&sq->done_lock);
      sq->stats.checkpoints++;
      sg_store_stats_note_stage(&sq->stats, SG_STORE_STAGE_CKPT, took);
      uv_mutex_unlock(&sq->done_lock);
    }
  }
}

/* ---- the readers --------------------------------------------------------- */

typedef struct reader_arg {
  sq_t *sq;
  sg__sq_conn_t *conn;
} reader_arg_t;

static void reader_main(void *arg) {
  sq_t *sq = ((reader_arg_t *)arg)->sq;
  sg__sq_conn_t *c = ((reader_arg_t *)arg)->conn;
  sg_free(arg);
  sg__sq_thread_name("sg-reader");
  for (;;) {
    uv_mutex_lock(&sq->lock);
    while (sq->rq.len == 0 && !sq->stopping)
      uv_cond_wait(&sq->rcond, &sq->lock);
    unsigned n;
    sg__store_req_t *r = q_take(&sq->rq, 1, &n);
    uv_mutex_unlock(&sq->lock);
    if (r == NULL)
      break;
    r->status = sg__sq_run_read(c, r);
    post_done(sq, r, false, 1);
  }
}

/* ---- start, stop --------------------------------------------------------- */

/* The sync thread posts what it releases as the writer would. */
static void sync_post(void *arg, sg__store_req_t *list, unsigned n) {
  post_done(arg, list, true, n);
}

/* The commit pipeline runs with synchronous=FULL (the log synced at every
 * commit, through the walbuf VFS). The configuration decides
 * (store.sync_pipeline); SG_STORE_SYNC_PIPELINE=0 or 1 in the environment
 * overrides it, to compare the two in benchmarks. */
static bool pipeline_wanted(const sq_t *sq) {
  const char *e = getenv("SG_STORE_SYNC_PIPELINE");
  bool on = !sq->st->cfg.no_sync_pipeline;
  if (e != NULL && e[0] != '\0')
    on = strcmp(e, "0") != 0;
  return sq->walbuf_on && on;
}

static int start_threads(sq_t *sq) {
  if (pipeline_wanted(sq) && sq->walbuf.wal_path != NULL &&
      sg__sq_sync_start(&sq->sync, &sq->walbuf, (uint64_t)sq->sync_wait_us,
                        sync_post, sq) < 0)
    return SG_ENOMEM;
  if (uv_thread_create(&sq->ckpt_tid, ckpt_main, sq) != 0)
    return SG_ENOMEM;
  sq->ckpt_started = true;
  /* Replaces SQLite's checkpoint after commit (wal_autocheckpoint). */
  char page[32] = "";
  exec_sql(sq->writer.db, "PRAGMA page_size", page, sizeof page);
  long psz = strtol(page, NULL, 10);
  sq->ckpt_pages = (int)(CKPT_BYTES / (psz >= 512 ? psz : 4096));
  sqlite3_wal_hook(sq->writer.db, wal_hook_cb, sq);
  if (uv_thread_create(&sq->writer_tid, writer_main, sq) != 0)
    return SG_ENOMEM;
  sq->threads_started = 1;
  for (unsigned i = 0; i < sq->n_readers; i++) {
    reader_arg_t *a = sg_malloc(sizeof *a);
    if (a == NULL)
      return SG_ENOMEM;
    a->sq = sq;
    a->conn = &sq->readers[i];
    if (uv_thread_create(&sq->reader_tids[i], reader_main, a) != 0) {
      sg_free(a);
      return SG_ENOMEM;
    }
    sq->threads_started++;
  }
  return 0;
}

static void stop_threads(sq_t *sq) {
  if (!sq->sync_ready)
    return;
  uv_mutex_lock(&sq->lock);
  sq->stopping = true;
  sg__sq_wakes_add(&sq->wakes, NULL, ++sq->wake_gen); /* no claim waits now */
  uv_mutex_unlock(&sq->lock);
  uv_cond_broadcast(&sq->wcond);
  uv_cond_broadcast(&sq->rcond);
  uv_cond_broadcast(&sq->ccond);
  if (sq->threads_started > 0)
    uv_thread_join(&sq->writer_tid);
  sg__sq_sync_stop(sq->sync); /* after the writer: the last sync */
  for (unsigned i = 0; i + 1 < sq->threads_started; i++)
    uv_thread_join(&sq->reader_tids[i]);
  if (sq->ckpt_started)
    uv_thread_join(&sq->ckpt_tid);
  sq->threads_started = 0;
  sq->ckpt_started = false;
}

/* Frees everything but the async handle (which needs the loop to close). */
static void sq_release(sq_t *sq) {
  /* Readers first: the last connection to close checkpoints the log into
   * the main file, and that is the writer's job. */
  for (unsigned i = 0; sq->readers != NULL && i < sq->n_readers; i++)
    conn_close(&sq->readers[i]);
  conn_close(&sq->ckpt);
  conn_close(&sq->writer);
  sg_free(sq->readers);
  sg_free(sq->reader_tids);
  sg__sq_settle_free(sq->settler);
  sg__sq_sync_free(sq->sync);
  sq->sync = NULL;
  if (sq->walbuf_on)
    sg__sq_walbuf_unregister(&sq->walbuf);
  if (sq->fault_on)
    sg__sq_fault_unregister(&sq->fault);
  if (sq->sync_ready) {
    uv_mutex_destroy(&sq->lock);
    uv_mutex_destroy(&sq->done_lock);
    uv_mutex_destroy(&sq->ckpt_lock);
    uv_cond_destroy(&sq->wcond);
    uv_cond_destroy(&sq->rcond);
    uv_cond_destroy(&sq->ccond);
  }
  sg__sq_wakes_free(&sq->wakes);
}

static void async_closed(uv_handle_t *h) {
  sq_t *sq = h->data;
  sg_store_t *st = sq->st;
  void (*closed)(sg_store_t *) = sq->closed;
  sq_release(sq);
  sg_free(sq);
  if (closed != NULL)
    closed(st);
}

static void sq_close(sg_store_t *st, void (*done)(sg_store_t *st)) {
  sq_t *sq = st->impl;
  stop_threads(sq);
  drain_done(sq);
  sq->closed = done;
  uv_close((uv_handle_t *)&sq->async, async_closed);
}

static void sq_stats(sg_store_t *st, sg_store_stats_t *out) {
  sq_t *sq = st->impl;
  uv_mutex_lock(&sq->done_lock);
  *out = sq->stats;
  uv_mutex_unlock(&sq->done_lock);
  uv_mutex_lock(&sq->lock);
  out->pending_writes = sq->wq.len;
  out->pending_reads = sq->rq.len;
  uv_mutex_unlock(&sq->lock);
  if (sq->sync != NULL) {
    sg__sq_sync_stats_t ss;
    sg__sq_sync_get_stats(sq->sync, &ss);
    memcpy(out->stage_hist[SG_STORE_STAGE_FSYNC], ss.sync_hist,
           sizeof ss.sync_hist);
    out->stage_us[SG_STORE_STAGE_FSYNC] = ss.sync_us;
  }
}

/* sg_store_claim_wake: the writer answers the claims of `connector` (NULL:
 * every one's) queued before. */
static void sq_claim_wake(sg_store_t *st, const char *connector) {
  sq_t *sq = st->impl;
  uv_mutex_lock(&sq->lock);
  sg__sq_wakes_add(&sq->wakes, connector, ++sq->wake_gen);
  uv_mutex_unlock(&sq->lock);
  uv_cond_signal(&sq->wcond);
}

static const sg__store_backend_t sqlite_backend = {"sqlite", sq_queue, sq_close,
                                                   sq_stats, sq_claim_wake};

static int init_sync(sq_t *sq) {
  if (uv_mutex_init(&sq->lock) != 0)
    return SG_ENOMEM;
  if (uv_mutex_init(&sq->done_lock) != 0) {
    uv_mutex_destroy(&sq->lock);
    return SG_ENOMEM;
  }
  if (uv_mutex_init(&sq->ckpt_lock) != 0) {
    uv_mutex_destroy(&sq->lock);
    uv_mutex_destroy(&sq->done_lock);
    return SG_ENOMEM;
  }
  uv_cond_init(&sq->wcond);
  uv_cond_init(&sq->rcond);
  uv_cond_init(&sq->ccond);
  if (uv_async_init(sq->st->loop, &sq->async, async_cb) != 0) {
    uv_mutex_destroy(&sq->lock);
    uv_mutex_destroy(&sq->done_lock);
    uv_mutex_destroy(&sq->ckpt_lock);
    uv_cond_destroy(&sq->wcond);
    uv_cond_destroy(&sq->rcond);
    uv_cond_destroy(&sq->ccond);
    return SG_ENOMEM;
  }
  sq->async.data = sq;
  sq->sync_ready = true;
  return 0;
}

static int open_readers(sq_t *sq, const char *path, char *err, size_t errlen) {
  sq->n_readers = sq->st->cfg.readers;
  sq->readers = sg_calloc(sq->n_readers, sizeof *sq->readers);
  sq->reader_tids = sg_calloc(sq->n_readers, sizeof *sq->reader_tids);
  if (sq->readers == NULL || sq->reader_tids == NULL)
    return SG_ENOMEM;
  for (unsigned i = 0; i < sq->n_readers; i++) {
    int rc = conn_open(sq, &sq->readers[i], path, false, err, errlen);
    if (rc < 0)
      return rc;
    exec_sql(sq->readers[i].db, "PRAGMA query_only=1", NULL, 0);
  }
  return 0;
}

static int open_all(sq_t *sq, const char *path, char *err, size_t errlen) {
  int rc;
  /* Memory statistics take a global mutex on every allocation of every
   * connection; nothing reads them. Only possible before SQLite is first
   * initialised (later calls fail harmlessly, SQLITE_MISUSE). */
  sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
  /* Also only before: freed blocks kept per thread (sqlite_mem.c). */
  sg__sq_mem_install();
  if (sq->fault_on && (rc = sg__sq_fault_register(&sq->fault)) < 0) {
    fmt_err(err, errlen, "store: cannot register the test VFS for %s: %s", path,
            sg_strerror(rc));
    return rc;
  }
  /* With synchronous=FULL every commit syncs the log before publishing it,
   * which is what lets its writes wait in a buffer (sqlite_walbuf.c). */
  if (!sq->st->cfg.sync_normal) {
    if ((rc = sg__sq_walbuf_register(
             &sq->walbuf, sq->fault_on ? sq->fault.vfs_name : NULL)) < 0) {
      fmt_err(err, errlen, "store: cannot register the WAL VFS for %s: %s",
              path, sg_strerror(rc));
      return rc;
    }
    sq->walbuf_on = true;
  }
  /* before anything is opened, so that a bad value creates no file */
  sq->page_size = SG__SQ_PAGE_SIZE;
  sq->cache_kb = SG__SQ_CACHE_KB;
  if ((rc = env_size("SG_STORE_PAGE_SIZE", 512, 65536, true, &sq->page_size,
                     err, errlen)) < 0 ||
      (rc = env_size("SG_STORE_CACHE_KB", 64, 4194304, false, &sq->cache_kb,
                     err, errlen)) < 0)
    return rc;
  /* the idle writer's settling (settle_idle): 0 ms turns it off */
  sq->settle_idle_ms = SG__SQ_SETTLE_IDLE_MS;
  sq->settle_batch = SG__SQ_SETTLE_BATCH;
  sq->settle_due = true; /* from the first row at open */
  if ((sq->settler = sg__sq_settle_new()) == NULL)
    return SG_ENOMEM;
  sq->writer.settle = sq->settler;
  if ((rc = env_size("SG_STORE_SETTLE_IDLE_MS", 0, 3600000, false,
                     &sq->settle_idle_ms, err, errlen)) < 0 ||
      (rc = env_size("SG_STORE_SETTLE_BATCH", 1, 100000, false,
                     &sq->settle_batch, err, errlen)) < 0)
    return rc;
  sq->sync_wait_us = SG__SQ_SYNC_WAIT_US;
  if ((rc = env_size("SG_STORE_SYNC_WAIT_US", 0, 100000, false,
                     &sq->sync_wait_us, err, errlen)) < 0)
    return rc;
  if ((rc = conn_open(sq, &sq->writer, path, true, err, errlen)) < 0 ||
      (rc = sg__sq_counts_open(&sq->writer)) < 0)
    return rc;
  if (sq->st->cfg.quick_check &&
      (rc = check_file(sq->writer.db, path, err, errlen)) < 0)
    return rc;
  if ((rc = set_pragmas(sq, path, err, errlen)) < 0 ||
      (rc = migrate(sq, path, err, errlen)) < 0 ||
      (rc = sg__sq_mc_smsc_open(&sq->writer)) < 0 ||
      (rc = open_readers(sq, path, err, errlen)) < 0 ||
      (rc = conn_open(sq, &sq->ckpt, path, false, err, errlen)) < 0)
    return rc;
  /* A connection opens the write-ahead log only when it first reads; until
   * then sqlite3_wal_checkpoint_v2 on it is a no-op that answers SQLITE_OK
   * (log and checkpointed frames -1), and the writer made every checkpoint
   * itself. */
  if (exec_sql(sq->ckpt.db, "SELECT count(*) FROM sqlite_schema", NULL, 0) !=
      SQLITE_OK) {
    fmt_err(err, errlen, "store: cannot read %s: %s", path,
            sqlite3_errmsg(sq->ckpt.db));
    return SG_EIO;
  }
  if ((rc = init_sync(sq)) < 0)
    return rc;
  return start_threads(sq);
}

int sg__sqlite_open(sg_store_t *st, const char *path, char *err,
                    size_t errlen) {
  sq_t *sq = sg_calloc(1, sizeof *sq);
  if (sq == NULL)
    return SG_ENOMEM;
  sq->st = st;
  sq->fault_on = st->cfg.fault_injection;
  st->info.backend = "sqlite";
  int rc = open_all(sq, path, err, errlen);
  if (rc < 0) {
    if (err != NULL && errlen > 0 && err[0] == '\0')
      fmt_err(err, errlen, "store: cannot open %s: %s", path, sg_strerror(rc));
    stop_threads(sq);
    if (sq->sync_ready) {
      /* The async handle is the loop's until closed: close it and let its
       * close callback free the rest. */
      sq->closed = NULL;
      uv_close((uv_handle_t *)&sq->async, async_closed);
    } else {
      sq_release(sq);
      sg_free(sq);
    }
    return rc;
  }
  st->be = &sqlite_backend;
  st->impl = sq;
  return 0;
}

long sg_store_sqlite_cache_kb(const sg_store_t *st) {
  if (st == NULL || st->be != &sqlite_backend)
    return SG_EINVAL;
  const sq_t *sq = st->impl;
  return sq->cache_kb_set;
}

long sg_store_sqlite_counts_loads(sg_store_t *st) {
  if (st == NULL || st->be != &sqlite_backend)
    return SG_EINVAL;
  return (long)sg__sq_counts_loads(sg__sq_counts_of(st));
}

int sg_store_sqlite_settle_stats(sg_store_t *st,
                                 sg_store_sqlite_settle_t *out) {
  if (st == NULL || st->be != &sqlite_backend || out == NULL)
    return SG_EINVAL;
  sq_t *sq = st->impl;
  uv_mutex_lock(&sq->done_lock);
  *out = sq->settle;
  uv_mutex_unlock(&sq->done_lock);
  return 0;
}

int sg_store_sqlite_fail_next(sg_store_t *st, unsigned n, bool disk_full) {
  if (st == NULL || st->be != &sqlite_backend)
    return SG_EINVAL;
  sq_t *sq = st->impl;
  if (!sq->fault_on)
    return SG_ENOTSUP;
  uv_mutex_lock(&sq->lock);
  sq->fail_next = n;
  sq->fail_full = disk_full;
  uv_mutex_unlock(&sq->lock);
  return 0;
}
