/* sqlite_sync.c - the SQLite writer's commit pipeline: a thread that syncs
 * the write-ahead log while the writer runs its next group, and hands each
 * group's results to the loop only once the log that holds them is synced.
 *
 * With synchronous=FULL a commit is its CPU work plus an fdatasync() of the
 * log, in series, and the sync is most of it. The writer's VFS
 * (sqlite_walbuf.c) writes a COMMIT's frames out and, instead of syncing
 * them, notes that a sync is owed; SQLite then publishes the commit in the
 * WAL index and the writer goes on with the next group. This thread
 * fdatasync()s the log - at most one sync at a time, so the commits made
 * during one are covered together by the next - and then releases, in
 * order, every group committed before that sync began. When a commit
 * wakes it while the writer is already running its next group, it first
 * waits for that group's commit too (at most wait_us), so that one sync
 * covers both: an fdatasync() costs about the same CPU whatever it holds.
 *
 * Why that keeps store.h's contract (an acknowledged write survives a power
 * loss): nothing reaches the loop before an fdatasync() that began after
 * its COMMIT wrote its frames has returned success, and the frames of every
 * earlier commit precede them in the same file. Checkpoints keep their own
 * syncs: the checkpointer's connection (not this VFS) syncs the log before
 * it copies frames into the database, and the database before it records
 * them as copied (SQLite's walCheckpoint: sync of the WAL, copy, sync of the
 * db file, then nBackfill), and the writer's own checkpoint (in its WAL
 * hook) is made with deferral off. So a frame is never copied, nor the log
 * started over past it, before it is on disk.
 *
 * Other connections may read a commit before its sync ends: a read may show
 * a row whose write has not been answered yet (store.h says so). Nothing
 * the engine sends out of the process rests on such a read: claims (of
 * parts, webhooks, SMPP receipts) are writes, so their results wait here
 * like any other.
 *
 * This module must never run a callback itself (it hands lists to the
 * writer's post function, which queues them for the loop), never release a
 * group before the syncs it needs, nor out of order.
 */
#include "store/sqlite_sync.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "core/alloc.h"
#include "core/error.h"
#include "core/id.h"

#define SG__SQ_SYNC_MAX_GROUPS 64 /* groups waiting for their sync */

typedef struct sync_group {
  sg__store_req_t *list;
  unsigned n;
  uint64_t need; /* the commits that must be synced before it goes out */
} sync_group_t;

struct sg__sq_sync {
  sg__sq_walbuf_t *wb;
  sg__sq_sync_post_fn post;
  void *post_arg;
  uv_thread_t tid;
  bool started;
  uv_mutex_t lock;
  uv_cond_t work;  /* the thread waits on it */
  uv_cond_t space; /* the writer waits on it when the ring is full */
  sync_group_t ring[SG__SQ_SYNC_MAX_GROUPS];
  unsigned head, len;
  uint64_t committed; /* commits whose sync was left to this thread */
  uint64_t synced;    /* of which the first `synced` are on disk */
  uint64_t tried;     /* the commits the last sync was to cover */
  bool running;       /* the writer is in a group that may commit */
  bool waiting;       /* the thread waits for that commit */
  uint64_t wait_us;   /* for at most this long (0: never) */
  bool failing;
  /* From a failed sync until the writer has made its groups' rows inert
   * (sg__sq_sync_undo): every group handed in fails, and the messages its
   * submits stored are noted here. */
  bool poisoned;
  bool undo_lost; /* a note could not be kept (out of memory) */
  char (*ids)[SG_ID_LEN + 1];
  size_t n_ids, cap_ids;
  struct undo_key {
    int64_t account_id;
    char *key;
  } * keys;
  size_t n_keys, cap_keys;
  bool stopping;
  int fd;        /* the log, opened by the thread */
  bool dir_done; /* its directory synced once */
  sg__sq_sync_stats_t stats;
};

/* ---- the file ------------------------------------------------------------ */

/* SQLite syncs the directory of a log it created at the log's first sync;
 * the first sync made here does the same, in case that one was deferred. */
static int sync_dir(const char *path) {
  const char *slash = strrchr(path, '/');
  char dir[4096];
  size_t n = slash == NULL ? 0 : (size_t)(slash - path);
  if (n >= sizeof dir)
    return -1;
  if (n == 0)
    strcpy(dir, slash == NULL ? "." : "/");
  else {
    memcpy(dir, path, n);
    dir[n] = '\0';
  }
  int fd = open(dir, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return -1;
  int rc = fsync(fd);
  close(fd);
  return rc;
}

/* fdatasync() of the log; 0 or -1. */
static int sync_log(sg__sq_sync_t *s) {
  if (s->fd < 0) {
    s->fd = open(s->wb->wal_path, O_RDWR | O_CLOEXEC);
    if (s->fd < 0)
      return -1;
  }
  int rc;
  do
    rc = fdatasync(s->fd);
  while (rc != 0 && errno == EINTR);
  if (rc == 0 && !s->dir_done) {
    if (sync_dir(s->wb->wal_path) != 0)
      return -1;
    s->dir_done = true;
  }
  return rc;
}

/* ---- what a failed sync refused ---------------------------------------- */

/* Notes what request r, refused, wrote that could later go out: the
 * messages of a submit that stored them (not a replay) and its
 * idempotency record. Under the lock. */
static void note_undo(sg__sq_sync_t *s, const sg__store_req_t *r) {
  if (r->kind != SG__REQ_SUBMIT || r->status != 0 || r->out.submit.replayed)
    return;
  const sg_store_batch_t *b = &r->in.submit;
  if (s->n_ids + b->n_msgs > s->cap_ids) {
    void *ids =
        sg_grow(s->ids, &s->cap_ids, s->n_ids + b->n_msgs, 64, sizeof *s->ids);
    if (ids == NULL) {
      s->undo_lost = true;
      return;
    }
    s->ids = ids;
  }
  for (size_t i = 0; i < b->n_msgs; i++)
    memcpy(s->ids[s->n_ids++], b->msgs[i].id, SG_ID_LEN + 1);
  if (b->idem_key == NULL)
    return;
  char *k = sg_strdup(b->idem_key);
  void *keys =
      k ? sg_grow(s->keys, &s->cap_keys, s->n_keys + 1, 64, sizeof *s->keys)
        : NULL;
  if (keys == NULL) {
    sg_free(k);
    s->undo_lost = true;
    return;
  }
  s->keys = keys;
  s->keys[s->n_keys].account_id = b->account_id;
  s->keys[s->n_keys++].key = k;
}

static void forget_undo(sg__sq_sync_t *s) {
  for (size_t i = 0; i < s->n_keys; i++)
    sg_free(s->keys[i].key);
  s->n_ids = s->n_keys = 0;
}

#define UNDO_DETAIL                                                            \
  "refused: the disk failed to sync the commit that held it (503)"

/* The rows of the refused submits, made inert in one transaction. */
static int undo_tx(sg__sq_sync_t *s, sg__sq_conn_t *c, int64_t now) {
  static const char *const sql[] = {
      "UPDATE messages SET status = 'failed', updated_ms = ?2 WHERE id = ?1",
      "UPDATE parts SET status = 'failed', error = '" UNDO_DETAIL "', "
      "lease_until_ms = NULL, updated_ms = ?2 WHERE message_id = ?1",
      "INSERT INTO events (message_id, part_seq, status, detail, time_ms) "
      "VALUES (?1, NULL, 'failed', '" UNDO_DETAIL "', ?2)",
      "DELETE FROM idempotency_keys WHERE account_id = ?1 AND key = ?2"};
  sqlite3_stmt *st[4] = {0};
  int rc = SQLITE_OK;
  for (int i = 0; i < 4 && rc == SQLITE_OK; i++)
    rc = sqlite3_prepare_v2(c->db, sql[i], -1, &st[i], NULL);
  for (size_t i = 0; i < s->n_ids && rc == SQLITE_OK; i++)
    for (int q = 0; q < 3 && rc == SQLITE_OK; q++) {
      sqlite3_bind_text(st[q], 1, s->ids[i], -1, SQLITE_STATIC);
      sqlite3_bind_int64(st[q], 2, now);
      rc = sg__sq_step_done(st[q]);
    }
  for (size_t i = 0; i < s->n_keys && rc == SQLITE_OK; i++) {
    sqlite3_bind_int64(st[3], 1, s->keys[i].account_id);
    sqlite3_bind_text(st[3], 2, s->keys[i].key, -1, SQLITE_STATIC);
    rc = sg__sq_step_done(st[3]);
  }
  for (int i = 0; i < 4; i++)
    sqlite3_finalize(st[i]);
  return rc;
}

int sg__sq_sync_undo(sg__sq_sync_t *s, sg__sq_conn_t *c, int64_t now) {
  uv_mutex_lock(&s->lock);
  while (s->len > 0) /* every group committed so far noted */
    uv_cond_wait(&s->space, &s->lock);
  bool lost = s->undo_lost;
  uv_mutex_unlock(&s->lock);
  if (lost)
    return SG_ENOMEM;
  /* The writer's thread is the only one that changes the notes now. */
  int rc = sg__sq_exec(c, SG__Q_BEGIN);
  if (rc == SQLITE_OK)
    rc = undo_tx(s, c, now);
  /* The refused rows may have moved since (claims, results): /metrics'
   * counts are read again rather than followed (a rare path). */
  if (rc == SQLITE_OK && sg__sq_counts_load(c) < 0)
    rc = SQLITE_IOERR;
  if (rc == SQLITE_OK)
    rc = sg__sq_exec(c, SG__Q_COMMIT);
  sg__sq_counts_tx_end(c, rc == SQLITE_OK);
  if (rc != SQLITE_OK && !sqlite3_get_autocommit(c->db))
    sg__sq_exec(c, SG__Q_ROLLBACK);
  return rc == SQLITE_OK ? 0 : SG_EIO;
}

void sg__sq_sync_healed(sg__sq_sync_t *s) {
  uv_mutex_lock(&s->lock);
  forget_undo(s);
  s->poisoned = false;
  s->failing = false;
  s->synced = s->tried = s->committed; /* the undo's own sync covered them */
  uv_mutex_unlock(&s->lock);
}

bool sg__sq_sync_poisoned(sg__sq_sync_t *s) {
  uv_mutex_lock(&s->lock);
  bool p = s->poisoned;
  uv_mutex_unlock(&s->lock);
  return p;
}

/* ---- the thread ---------------------------------------------------------- */

/* Takes off the ring, in order, the groups that may go out now (those that
 * need no more than `upto` commits synced), into a list; failed: each of
 * their requests fails with SG_EIO. Under the lock. */
static sg__store_req_t *take_ready(sg__sq_sync_t *s, uint64_t upto, bool failed,
                                   unsigned *n) {
  sg__store_req_t *head = NULL, *tail = NULL;
  *n = 0;
  while (s->len > 0 && s->ring[s->head].need <= upto) {
    sync_group_t *g = &s->ring[s->head];
    for (sg__store_req_t *r = g->list; r != NULL; r = r->next) {
      if (failed) {
        note_undo(s, r);
        r->status = SG_EIO;
      }
      if (tail != NULL)
        tail->next = r;
      else
        head = r;
      tail = r;
    }
    *n += g->n;
    s->head = (s->head + 1) % SG__SQ_SYNC_MAX_GROUPS;
    s->len--;
  }
  return head;
}

static uint64_t mono_us(void) {
  return uv_hrtime() / 1000u;
}

/* The writer is running a group: waits until it commits (or ends it
 * without a commit), at most wait_us, so that the coming sync covers it as
 * well. Under the lock. */
static void wait_for_writer(sg__sq_sync_t *s) {
  uint64_t from = s->committed, t0 = uv_hrtime();
  uint64_t deadline = t0 + s->wait_us * 1000u;
  s->waiting = true;
  while (s->running && s->committed == from && !s->stopping) {
    uint64_t t = uv_hrtime();
    if (t >= deadline ||
        uv_cond_timedwait(&s->work, &s->lock, deadline - t) != 0)
      break;
  }
  s->waiting = false;
  s->stats.waits++;
  s->stats.wait_us += (uv_hrtime() - t0) / 1000u;
}

static void sync_main(void *arg) {
  sg__sq_sync_t *s = arg;
  sg__sq_thread_name("sg-sync");
  uv_mutex_lock(&s->lock);
  for (;;) {
    /* After a failed sync the next try waits for new work: a group (the
     * writer goes on trying, as it would without the pipeline). */
    while (!s->stopping && s->committed == s->tried && s->len == 0)
      uv_cond_wait(&s->work, &s->lock);
    if (!s->poisoned && s->committed > s->synced && s->running &&
        s->wait_us > 0)
      wait_for_writer(s);
    uint64_t target = s->committed;
    bool ok = true;
    if (s->poisoned) { /* built on a refused commit: refused too */
      ok = false;
      target = UINT64_MAX;
      s->tried = s->committed;
    } else if (target > s->synced) {
      uint64_t before = s->synced;
      s->tried = target;
      uv_mutex_unlock(&s->lock);
      uint64_t t0 = mono_us();
      ok = sync_log(s) == 0;
      uint64_t took = mono_us() - t0;
      uv_mutex_lock(&s->lock);
      s->stats.syncs++;
      s->stats.sync_us += took;
      s->stats.sync_hist[sg_store_stage_bucket(took)]++;
      if (ok) {
        s->synced = target;
        s->failing = false;
        if (target - before > s->stats.max_commits)
          s->stats.max_commits = target - before;
      } else {
        s->stats.failures++;
        s->failing = true;
        s->poisoned = true;
        target = UINT64_MAX; /* and every group committed on top of it */
      }
    }
    unsigned n;
    sg__store_req_t *list = take_ready(s, ok ? s->synced : target, !ok, &n);
    /* Stopping: done once nothing waits (after a last try at the sync). */
    bool done = s->stopping && s->len == 0;
    uv_mutex_unlock(&s->lock);
    if (list != NULL) {
      uv_cond_signal(&s->space);
      s->post(s->post_arg, list, n);
    }
    if (done)
      return;
    uv_mutex_lock(&s->lock);
  }
}

/* ---- the writer's side ----------------------------------------------------
 */

void sg__sq_sync_running(sg__sq_sync_t *s) {
  uv_mutex_lock(&s->lock);
  s->running = true;
  uv_mutex_unlock(&s->lock);
}

void sg__sq_sync_group(sg__sq_sync_t *s, sg__store_req_t *group, unsigned n,
                       bool owed) {
  uv_mutex_lock(&s->lock);
  s->running = false;
  if (owed)
    s->committed++;
  uint64_t need = s->committed;
  if (s->len == 0 && need <= s->synced) {
    bool waiting = s->waiting;
    uv_mutex_unlock(&s->lock);
    if (waiting) /* for a commit that did not come */
      uv_cond_signal(&s->work);
    s->post(s->post_arg, group, n);
    return;
  }
  while (s->len == SG__SQ_SYNC_MAX_GROUPS)
    uv_cond_wait(&s->space, &s->lock);
  sync_group_t *g = &s->ring[(s->head + s->len) % SG__SQ_SYNC_MAX_GROUPS];
  g->list = group;
  g->n = n;
  g->need = need;
  s->len++;
  uv_mutex_unlock(&s->lock);
  uv_cond_signal(&s->work);
}

bool sg__sq_sync_failing(sg__sq_sync_t *s) {
  uv_mutex_lock(&s->lock);
  bool f = s->failing;
  uv_mutex_unlock(&s->lock);
  return f;
}

void sg__sq_sync_get_stats(sg__sq_sync_t *s, sg__sq_sync_stats_t *out) {
  uv_mutex_lock(&s->lock);
  *out = s->stats;
  uv_mutex_unlock(&s->lock);
}

/* ---- start, stop --------------------------------------------------------- */

int sg__sq_sync_start(sg__sq_sync_t **out, sg__sq_walbuf_t *wb,
                      uint64_t wait_us, sg__sq_sync_post_fn post, void *arg) {
  *out = NULL;
  if (wb->wal_path == NULL)
    return SG_EINVAL;
  sg__sq_sync_t *s = sg_calloc(1, sizeof *s);
  if (s == NULL)
    return SG_ENOMEM;
  s->wb = wb;
  s->post = post;
  s->post_arg = arg;
  s->wait_us = wait_us;
  s->fd = -1;
  if (uv_mutex_init(&s->lock) != 0) {
    sg_free(s);
    return SG_ENOMEM;
  }
  uv_cond_init(&s->work);
  uv_cond_init(&s->space);
  if (uv_thread_create(&s->tid, sync_main, s) != 0) {
    sg__sq_sync_free(s);
    return SG_ENOMEM;
  }
  s->started = true;
  *out = s;
  return 0;
}

void sg__sq_sync_stop(sg__sq_sync_t *s) {
  if (s == NULL || !s->started)
    return;
  uv_mutex_lock(&s->lock);
  s->stopping = true;
  uv_mutex_unlock(&s->lock);
  uv_cond_signal(&s->work);
  uv_thread_join(&s->tid);
  s->started = false;
}

void sg__sq_sync_free(sg__sq_sync_t *s) {
  if (s == NULL)
    return;
  forget_undo(s);
  sg_free(s->ids);
  sg_free(s->keys);
  if (s->fd >= 0)
    close(s->fd);
  uv_mutex_destroy(&s->lock);
  uv_cond_destroy(&s->work);
  uv_cond_destroy(&s->space);
  sg_free(s);
}
