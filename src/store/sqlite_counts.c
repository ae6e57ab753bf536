/* sqlite_counts.c - the counts of /metrics (sg_store_counts): messages and
 * parts by status and inbound messages, kept by the writer in memory.
 *
 * They were a GROUP BY over the whole of messages and parts on a reader
 * connection every few seconds: a cost that grew with the file (20-39 us a
 * message by the end of a run of 1,000,000, a temporary file for the
 * sort), and a read transaction long enough to keep the log from starting
 * over. Now the counts are read from the tables once, when the store
 * opens, and again only when another connection changed the file (PRAGMA
 * data_version at the start of a write transaction: the CLI or another
 * process on the same file); in between, the writer notes each status a
 * message or part leaves and takes ("from A to B", SG_MSG_NONE for a new
 * row) right after the statement that made the change succeeded. The moves
 * of the open transaction are kept apart and added to the counts after its
 * COMMIT, or forgotten when it rolls back, so the counts a reader copies
 * are those of a commit boundary: exactly what the GROUP BY of
 * SG__Q_R_COUNT_MSGS / _PARTS gives there.
 *
 * A message's status is the one readers show (SG__SQ_MSG_STATUS: a
 * one-part message takes the status its part carries), which is the
 * status rederive (sqlite_write.c) derives its change from. It runs on the
 * writer thread inside the writer's transactions; readers only copy the
 * committed counts, under the lock. It must never write a row.
 */
#include <string.h>

#include "core/alloc.h"
#include "core/error.h"
#include "store/sqlite_int.h"
#include "store/sqlite_mcache.h"

struct sg__sq_counts {
  uv_mutex_t lock;        /* guards done */
  sg_store_counts_t done; /* at the last commit (webhooks not used) */
  /* The writer's, the open transaction's: */
  int64_t dm[SG_MSG_STATUS_COUNT], dp[SG_MSG_STATUS_COUNT], di;
  bool moved;             /* some d* is not 0 */
  bool reload;            /* base holds a count read in this transaction */
  sg_store_counts_t base; /* that count */
  bool loaded;            /* done is the file's at data_version */
  int64_t data_version;
  unsigned loads; /* reads of the tables since open (guarded by lock) */
};

int sg__sq_counts_open(sg__sq_conn_t *c) {
  sg__sq_counts_t *k = sg_calloc(1, sizeof *k);
  if (k == NULL)
    return SG_ENOMEM;
  if (uv_mutex_init(&k->lock) != 0) {
    sg_free(k);
    return SG_ENOMEM;
  }
  c->cnt = k;
  return 0;
}

void sg__sq_counts_close(sg__sq_conn_t *c) {
  if (c->cnt == NULL)
    return;
  uv_mutex_destroy(&c->cnt->lock);
  sg_free(c->cnt);
  c->cnt = NULL;
}

/* Adds the (status, count) rows of query q into by_status. */
static int count_by_status(sg__sq_conn_t *c, sg__sq_query_t q,
                           uint64_t by_status[SG_MSG_STATUS_COUNT]) {
  sqlite3_stmt *s = sg__sq_stmt(c, q);
  if (s == NULL)
    return SG_EIO;
  int rc;
  while ((rc = sqlite3_step(s)) == SQLITE_ROW)
    by_status[sg__sq_col_status(s, 0)] += (uint64_t)sqlite3_column_int64(s, 1);
  sqlite3_reset(s);
  return rc == SQLITE_DONE ? 0 : SG_EIO;
}

static void forget_moves(sg__sq_counts_t *k) {
  if (!k->moved)
    return;
  memset(k->dm, 0, sizeof k->dm);
  memset(k->dp, 0, sizeof k->dp);
  k->di = 0;
  k->moved = false;
}

static int data_version(sg__sq_conn_t *c, int64_t *v) {
  sqlite3_stmt *s = sg__sq_stmt(c, SG__Q_DATA_VERSION);
  if (s == NULL)
    return SG_EIO;
  int rc = sqlite3_step(s);
  *v = sqlite3_column_int64(s, 0);
  sqlite3_reset(s);
  return rc == SQLITE_ROW ? 0 : SG_EIO;
}

int sg__sq_counts_load(sg__sq_conn_t *c) {
  sg__sq_counts_t *k = c->cnt;
  if (k == NULL)
    return 0;
  sg_store_counts_t n;
  memset(&n, 0, sizeof n);
  int rc = count_by_status(c, SG__Q_R_COUNT_MSGS, n.messages);
  if (rc == 0)
    rc = count_by_status(c, SG__Q_R_COUNT_PARTS, n.parts);
  sqlite3_stmt *s = rc == 0 ? sg__sq_stmt(c, SG__Q_R_COUNT_INBOUND) : NULL;
  if (s == NULL)
    return SG_EIO;
  rc = sqlite3_step(s);
  n.inbound = (uint64_t)sqlite3_column_int64(s, 0);
  sqlite3_reset(s);
  if (rc != SQLITE_ROW || data_version(c, &k->data_version) < 0)
    return SG_EIO;
  forget_moves(k); /* what the transaction did so far is in the count */
  uv_mutex_lock(&k->lock);
  k->loads++;
  uv_mutex_unlock(&k->lock);
  k->base = n;
  k->reload = true;
  k->loaded = true;
  return 0;
}

int sg__sq_counts_probe(sg__sq_conn_t *c) {
  sg__sq_counts_t *k = c->cnt;
  if (k == NULL)
    return 0;
  int64_t v;
  if (data_version(c, &v) < 0)
    return SG_EIO;
  if (k->loaded && v == k->data_version)
    return 0;
  sg__sq_mc_clear(c); /* the writer's copies of rows may be stale too */
  return sg__sq_counts_load(c);
}

void sg__sq_counts_msg(sg__sq_conn_t *c, sg_msg_status_t from,
                       sg_msg_status_t to) {
  sg__sq_counts_t *k = c->cnt;
  if (k == NULL || from == to)
    return;
  if (from != SG_MSG_NONE)
    k->dm[from]--;
  if (to != SG_MSG_NONE)
    k->dm[to]++;
  k->moved = true;
}

void sg__sq_counts_part(sg__sq_conn_t *c, sg_msg_status_t from,
                        sg_msg_status_t to, int64_t n) {
  sg__sq_counts_t *k = c->cnt;
  if (k == NULL || from == to || n == 0)
    return;
  if (from != SG_MSG_NONE)
    k->dp[from] -= n;
  if (to != SG_MSG_NONE)
    k->dp[to] += n;
  k->moved = true;
}

void sg__sq_counts_inbound(sg__sq_conn_t *c, int64_t n) {
  sg__sq_counts_t *k = c->cnt;
  if (k == NULL || n == 0)
    return;
  k->di += n;
  k->moved = true;
}

/* The statuses of the parts of message mid, added to t with sign. */
int sg__sq_counts_tally(sg__sq_conn_t *c, const char *mid, int sign,
                        int64_t t[SG_MSG_STATUS_COUNT]) {
  if (c->cnt == NULL)
    return 0;
  sqlite3_stmt *s = sg__sq_stmt(c, SG__Q_PARTS_OF_MSG);
  if (s == NULL)
    return SG_EIO;
  sg__sq_bind_text(s, 1, mid);
  int rc;
  while ((rc = sqlite3_step(s)) == SQLITE_ROW)
    t[sg__sq_col_status(s, 0)] += sign;
  sqlite3_reset(s);
  return rc == SQLITE_DONE ? 0 : SG_EIO;
}

void sg__sq_counts_parts_moved(sg__sq_conn_t *c,
                               const int64_t t[SG_MSG_STATUS_COUNT]) {
  sg__sq_counts_t *k = c->cnt;
  if (k == NULL)
    return;
  for (int i = 0; i < SG_MSG_STATUS_COUNT; i++)
    if (t[i] != 0) {
      k->dp[i] += t[i];
      k->moved = true;
    }
}

void sg__sq_counts_discard(sg__sq_conn_t *c) {
  if (c->cnt != NULL)
    forget_moves(c->cnt);
}

/* v + d, never below 0 (a count can only go below by a missed move, which
 * the test of every path rules out; a wrapped count would be worse). */
static uint64_t add(uint64_t v, int64_t d) {
  return d < 0 && (uint64_t)-d > v ? 0 : v + (uint64_t)d;
}

void sg__sq_counts_tx_end(sg__sq_conn_t *c, bool committed) {
  sg__sq_counts_t *k = c->cnt;
  if (k == NULL)
    return;
  if (!committed) {
    forget_moves(k);
    if (k->reload) /* the count read in it may be older than the file */
      k->loaded = false;
    k->reload = false;
    return;
  }
  if (!k->moved && !k->reload)
    return;
  uv_mutex_lock(&k->lock);
  if (k->reload)
    k->done = k->base;
  for (int i = 0; i < SG_MSG_STATUS_COUNT; i++) {
    k->done.messages[i] = add(k->done.messages[i], k->dm[i]);
    k->done.parts[i] = add(k->done.parts[i], k->dp[i]);
  }
  k->done.inbound = add(k->done.inbound, k->di);
  uv_mutex_unlock(&k->lock);
  k->reload = false;
  forget_moves(k);
}

void sg__sq_counts_copy(sg__sq_counts_t *k, sg_store_counts_t *out) {
  if (k == NULL)
    return;
  uv_mutex_lock(&k->lock);
  memcpy(out->messages, k->done.messages, sizeof out->messages);
  memcpy(out->parts, k->done.parts, sizeof out->parts);
  out->inbound = k->done.inbound;
  uv_mutex_unlock(&k->lock);
}

unsigned sg__sq_counts_loads(sg__sq_counts_t *k) {
  if (k == NULL)
    return 0;
  uv_mutex_lock(&k->lock);
  unsigned n = k->loads;
  uv_mutex_unlock(&k->lock);
  return n;
}
