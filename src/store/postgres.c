/* postgres.c - the PostgreSQL store: connecting, the migrations (under an
 * advisory lock, since several nodes may start at once), recovery, the
 * writer thread with group commit, the reader threads, and the hand-over
 * of finished requests to the loop.
 *
 * It is threaded as the SQLite store is (sqlite.c): the writer takes every
 * write queued since its last commit (at most max_batch) and runs them in
 * one BEGIN .. COMMIT on its own connection; a request that fails after
 * writing (or whose statement failed, which aborts a PostgreSQL
 * transaction) is undone by rolling back and running the group again
 * without it. Readers have their own connections. Finished requests reach
 * the loop through one uv_async_t, so the engine sees the same callbacks
 * on the same thread as with SQLite. A lost connection fails the group in
 * progress with SG_EIO and is reset before the next one. This file must
 * never run a callback on any thread but the loop, nor block the loop
 * (save in open and close, which the engine calls outside of traffic).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/alloc.h"
#include "core/error.h"
#include "store/migrations.h"
#include "store/pg_int.h"
#include "store/pg_nodes.h"
#include "store/pg_orphan.h"

/* The advisory lock that serialises migrations between nodes. */
#define MIGRATE_LOCK "7301594823716"
/* A write group whose transaction lost a race with another node's (a
 * deadlock, a serialization failure) runs again, whole, up to RACE_TRIES
 * times in all, after a random pause of up to RACE_PAUSE_MS, doubled at
 * each try (at most 16 times). */
#define RACE_TRIES 6
#define RACE_PAUSE_MS 5u

typedef struct pg_queue {
  sg__store_req_t *head;
  sg__store_req_t *tail;
  unsigned len;
} pg_queue_t;

typedef struct pg {
  sg_store_t *st;
  char *url;
  sg__pg_conn_t writer;
  sg__pg_conn_t *readers;
  unsigned n_readers;
  uv_thread_t writer_tid;
  uv_thread_t *reader_tids;
  unsigned threads_started;
  uv_mutex_t lock; /* queues, stopping */
  uv_cond_t wcond;
  uv_cond_t rcond;
  pg_queue_t wq;
  pg_queue_t rq;
  bool stopping;
  uv_mutex_t done_lock; /* done queue and stats */
  pg_queue_t done;
  sg_store_stats_t stats;
  uv_async_t async;
  bool sync_ready;
  char missing[512]; /* the kinds not run yet, for sg_store_info_t */
  void (*closed)(sg_store_t *st);
} pg_t;

/* ---- request kinds --------------------------------------------------------
 */

static const char *const kind_names[] = {
    [SG__REQ_SUBMIT] = "submit",
    [SG__REQ_CLAIM] = "claim",
    [SG__REQ_RESULTS] = "results",
    [SG__REQ_RECEIPTS] = "receipts",
    [SG__REQ_CANCEL] = "cancel",
    [SG__REQ_WEBHOOK_ENQUEUE] = "webhook_enqueue",
    [SG__REQ_WEBHOOK_CLAIM] = "webhook_claim",
    [SG__REQ_WEBHOOK_FINISH] = "webhook_finish",
    [SG__REQ_INBOUND_INSERT] = "inbound_insert",
    [SG__REQ_ACCOUNT_CREATE] = "account_create",
    [SG__REQ_APIKEY_CREATE] = "apikey_create",
    [SG__REQ_APIKEY_REVOKE] = "apikey_revoke",
    [SG__REQ_MAINTAIN] = "maintain",
    [SG__REQ_SMPP_OUT_CLAIM] = "smpp_out_claim",
    [SG__REQ_SMPP_OUT_FINISH] = "smpp_out_finish",
    [SG__REQ_MO_WRITE] = "mo_write",
    [SG__REQ_ADMIN_WRITE] = "admin_write",
    [SG__REQ_LIMITS_WRITE] = "limits_write",
    [SG__REQ_SETTING_PUT] = "setting_put",
    [SG__REQ_INR_WRITE] = "inrules_write",
    [SG__REQ_OPS_WRITE] = "ops_write",
    [SG__REQ_CONTACTS_WRITE] = "contacts_write",
    [SG__REQ_PRESPLIT] = "presplit",
    [SG__REQ_GET_MESSAGE] = "get_message",
    [SG__REQ_LIST_MESSAGES] = "list_messages",
    [SG__REQ_COUNTS] = "counts",
    [SG__REQ_INBOUND_LIST] = "inbound_list",
    [SG__REQ_APIKEY_LOOKUP] = "apikey_lookup",
    [SG__REQ_ACCOUNT_BY_NAME] = "account_by_name",
    [SG__REQ_MO_READ] = "mo_read",
    [SG__REQ_ADMIN_READ] = "admin_read",
    [SG__REQ_LIMITS_READ] = "limits_read",
    [SG__REQ_SETTING_GET] = "setting_get",
    [SG__REQ_INR_READ] = "inrules_read",
    [SG__REQ_CONTACTS_READ] = "contacts_read",
    [SG__REQ_WAITING_PARTS] = "waiting_parts",
    [SG__REQ_OPS_READ] = "ops_read",
    [SG__REQ_CAMPAIGN_WRITE] = "campaign_write",
    [SG__REQ_CAMPAIGN_READ] = "campaign_read",
    [SG__REQ_TRAFFIC_READ] = "traffic_read",
    [SG__REQ_NODE_BEAT] = "node_beat",
};
#define N_KINDS (sizeof kind_names / sizeof kind_names[0])

/* The names of the kinds this backend does not run yet, comma-separated
 * ("" when it runs them all). */
static void list_missing(char *out, size_t len) {
  size_t used = 0;
  out[0] = '\0';
  for (size_t k = 0; k < N_KINDS; k++) {
    if (sg__pg_kind_done((sg__req_kind_t)k) || kind_names[k] == NULL)
      continue;
    int n = snprintf(out + used, len - used, "%s%s", used ? ", " : "",
                     kind_names[k]);
    if (n < 0 || (size_t)n >= len - used)
      break;
    used += (size_t)n;
  }
}

/* ---- connecting and migrating -------------------------------------------- */

static void fmt_err(char *err, size_t errlen, const char *fmt, const char *a) {
  if (err != NULL && errlen > 0)
    snprintf(err, errlen, fmt, a);
}

/* libpq's message without its trailing newline. */
static const char *pq_msg(PGconn *pc, char *buf, size_t len) {
  snprintf(buf, len, "%s", pc ? PQerrorMessage(pc) : "out of memory");
  size_t n = strlen(buf);
  while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
    buf[--n] = '\0';
  return buf;
}

/* Notices (e.g. of CREATE ... IF NOT EXISTS) are not for the log. */
static void no_notice(void *arg, const char *msg) {
  (void)arg, (void)msg;
}

#define PG_MSG_MAX 256

/* Replaces every occurrence of secret[0..n) in msg with "***". */
static void redact(char msg[PG_MSG_MAX], const char *secret, size_t n) {
  char out[PG_MSG_MAX];
  size_t o = 0;
  if (n == 0)
    return;
  for (const char *p = msg; *p != '\0' && o + 1 < sizeof out;) {
    if (strncmp(p, secret, n) != 0) {
      out[o++] = *p++;
      continue;
    }
    for (const char *s = "***"; *s != '\0' && o + 1 < sizeof out; s++)
      out[o++] = *s;
    p += n;
  }
  out[o] = '\0';
  memcpy(msg, out, o + 1);
}

/* The password of a URI's user info as written ("postgres://user:PW@"),
 * percent-encoded or not; libpq ends the user info at the first '@' or
 * '/'. Sets *n to its length; NULL when there is none. */
static const char *uri_password(const char *url, size_t *n) {
  const char *p = strstr(url, "://");
  if (p == NULL)
    return NULL;
  p += 3;
  size_t info = strcspn(p, "@/");
  const char *colon = memchr(p, ':', info);
  if (p[info] != '@' || colon == NULL)
    return NULL;
  *n = (size_t)(p + info - colon - 1);
  return colon + 1;
}

/* Why connecting failed, never with the password of the url: libpq's
 * parse errors quote the connection string (a bad %-escape, a missing
 * '=' or ']'), so a url that does not parse is not quoted at all, and the
 * password (as written and as decoded) is cut out of any other message. */
static void connect_error(const pg_t *pg, PGconn *pc, char *err,
                          size_t errlen) {
  char *perr = NULL;
  PQconninfoOption *opts = PQconninfoParse(pg->url, &perr);
  if (opts == NULL) {
    PQfreemem(perr);
    fmt_err(err, errlen, "store: cannot connect to PostgreSQL: %s",
            "store.url is not a valid libpq URI or key=value string (not "
            "shown: it may hold a password)");
    return;
  }
  char m[PG_MSG_MAX];
  pq_msg(pc, m, sizeof m);
  for (PQconninfoOption *o = opts; o->keyword != NULL; o++)
    if (strcmp(o->keyword, "password") == 0 && o->val != NULL)
      redact(m, o->val, strlen(o->val));
  size_t n = 0;
  const char *raw = uri_password(pg->url, &n);
  if (raw != NULL)
    redact(m, raw, n);
  PQconninfoFree(opts);
  fmt_err(err, errlen, "store: cannot connect to PostgreSQL: %s", m);
}

static int conn_open(pg_t *pg, sg__pg_conn_t *c, char *err, size_t errlen) {
  c->st = pg->st;
  c->pc = PQconnectdb(pg->url);
  if (c->pc == NULL || PQstatus(c->pc) != CONNECTION_OK) {
    connect_error(pg, c->pc, err, errlen);
    return SG_EIO;
  }
  PQsetNoticeProcessor(c->pc, no_notice, NULL);
  return 0;
}

static void conn_close(sg__pg_conn_t *c) {
  if (c->pc != NULL)
    PQfinish(c->pc);
  sg__jbuf_free(&c->json);
  memset(c, 0, sizeof *c);
}

/* The writer's session (migration 0025): the triggers of messages and
 * inbound add their traffic changes to traffic_pending, and TRAFFIC_FLUSH
 * adds them up into traffic_minutes before each COMMIT, in key order, so
 * that two nodes' writers never take rows of traffic_minutes in opposite
 * orders (they deadlocked on them). */
static int traffic_defer(sg__pg_conn_t *c) {
  return sg__pg_cmd(c, "CREATE TEMP TABLE IF NOT EXISTS traffic_pending ("
                       "account_id BIGINT NOT NULL, minute BIGINT NOT NULL, "
                       "submitted BIGINT NOT NULL DEFAULT 0, queued BIGINT "
                       "NOT NULL DEFAULT 0, sent BIGINT NOT NULL DEFAULT 0, "
                       "delivered BIGINT NOT NULL DEFAULT 0, failed BIGINT "
                       "NOT NULL DEFAULT 0, expired BIGINT NOT NULL DEFAULT "
                       "0, canceled BIGINT NOT NULL DEFAULT 0, inbound BIGINT "
                       "NOT NULL DEFAULT 0) ON COMMIT DELETE ROWS; "
                       "SET smsgate.traffic_defer = 'on'") == 0
             ? 0
             : SG_EIO;
}

static const char TRAFFIC_FLUSH[] =
    "INSERT INTO traffic_minutes AS t (account_id, minute, submitted, queued, "
    "sent, delivered, failed, expired, canceled, inbound) SELECT account_id, "
    "minute, sum(submitted), sum(queued), sum(sent), sum(delivered), "
    "sum(failed), sum(expired), sum(canceled), sum(inbound) FROM "
    "traffic_pending GROUP BY account_id, minute HAVING sum(submitted) <> 0 "
    "OR sum(queued) <> 0 OR sum(sent) <> 0 OR sum(delivered) <> 0 OR "
    "sum(failed) <> 0 OR sum(expired) <> 0 OR sum(canceled) <> 0 OR "
    "sum(inbound) <> 0 ORDER BY account_id, minute ON CONFLICT (account_id, "
    "minute) DO UPDATE SET submitted = t.submitted + excluded.submitted, "
    "queued = t.queued + excluded.queued, sent = t.sent + excluded.sent, "
    "delivered = t.delivered + excluded.delivered, failed = t.failed + "
    "excluded.failed, expired = t.expired + excluded.expired, canceled = "
    "t.canceled + excluded.canceled, inbound = t.inbound + excluded.inbound";

/* After a lost connection: reconnects (its prepared statements are gone).
 * Returns whether the connection is usable. */
static bool conn_ensure(sg__pg_conn_t *c) {
  if (PQstatus(c->pc) == CONNECTION_OK && !c->broken)
    return true;
  PQreset(c->pc);
  c->n_stmts = 0;
  c->broken = false;
  if (PQstatus(c->pc) != CONNECTION_OK)
    return false;
  PQsetNoticeProcessor(c->pc, no_notice, NULL);
  if (c->traffic_defer && traffic_defer(c) != 0) {
    c->broken = true;
    return false;
  }
  return true;
}

static int64_t query_int(sg__pg_conn_t *c, const char *sql, int *rc) {
  PGresult *res = PQexec(c->pc, sql);
  int64_t v = 0;
  *rc = SG_EIO;
  if (res != NULL && PQresultStatus(res) == PGRES_TUPLES_OK &&
      PQntuples(res) == 1) {
    v = sg__pg_i64(res, 0, 0);
    *rc = 0;
  }
  PQclear(res);
  return v;
}

/* Applies the migrations the database lacks, inside the open transaction
 * that holds the migration lock. */
static int migrate_tx(pg_t *pg, char *err, size_t errlen) {
  sg__pg_conn_t *c = &pg->writer;
  const size_t n_known = sg__pg_migrations_count;
  const unsigned known =
      n_known > 0 ? sg__pg_migrations[n_known - 1].version : 0;
  int rc = sg__pg_cmd(c, "CREATE TABLE IF NOT EXISTS schema_version (version "
                         "INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_ms "
                         "BIGINT NOT NULL)");
  int64_t have = rc == 0 ? query_int(c,
                                     "SELECT coalesce(max(version), 0) FROM "
                                     "schema_version",
                                     &rc)
                         : 0;
  if (rc < 0)
    return SG_EIO;
  if (have > (int64_t)known) {
    if (err != NULL && errlen > 0)
      snprintf(err, errlen,
               "store: the PostgreSQL database has schema version %lld, newer "
               "than the %u this smsgate knows; run a newer smsgate",
               (long long)have, known);
    return SG_ENOTSUP;
  }
  for (size_t i = 0; i < n_known; i++) {
    const sg__migration_t *m = &sg__pg_migrations[i];
    if ((int64_t)m->version <= have)
      continue;
    if (sg__pg_cmd(c, m->sql) != 0) {
      if (err != NULL && errlen > 0)
        snprintf(err, errlen, "store: migration %s failed: %s", m->name,
                 c->last_error);
      return SG_EIO;
    }
    sg__pg_params_t p = {0};
    sg__pg_p_i64(&p, m->version);
    sg__pg_p_text(&p, m->name);
    sg__pg_p_i64(&p, sg__store_now(pg->st));
    if (sg__pg_do(c,
                  "INSERT INTO schema_version VALUES ($1::int, $2, $3::bigint)",
                  &p, NULL) != 0)
      return SG_EIO;
    pg->st->info.migrated++;
  }
  pg->st->info.schema_version = known;
  return 0;
}

static int migrate_once(pg_t *pg, char *err, size_t errlen) {
  sg__pg_conn_t *c = &pg->writer;
  int rc = sg__pg_cmd(c, "BEGIN");
  /* Held until COMMIT: a second node waits here, then finds the schema
   * up to date. */
  if (rc == 0)
    rc = sg__pg_cmd(c, "SELECT pg_advisory_xact_lock(" MIGRATE_LOCK ")");
  if (rc < 0) {
    fmt_err(err, errlen, "store: cannot write to PostgreSQL: %s",
            c->last_error);
    return SG_EIO;
  }
  rc = migrate_tx(pg, err, errlen);
  if (rc == 0 &&
      sg__pg_recover(c, sg__store_now(pg->st), &pg->st->info.requeued_parts,
                     &pg->st->info.requeued_webhooks) != 0)
    rc = SG_EIO;
  if (rc == 0 && sg__pg_node_register(c, pg->st, sg__store_now(pg->st),
                                      &pg->st->info.requeued_parts) != 0)
    rc = SG_EIO;
  if (rc == 0 && sg__pg_cmd(c, "COMMIT") != 0)
    rc = SG_EIO;
  if (rc < 0) {
    if (err != NULL && errlen > 0 && err[0] == '\0')
      fmt_err(err, errlen, "store: cannot prepare the PostgreSQL database: %s",
              c->last_error);
    sg__pg_cmd(c, "ROLLBACK");
  }
  return rc;
}

/* Whether the last failure was a deadlock or a serialization failure: the
 * transaction lost a race with another node's and may simply run again. */
static bool lost_race(const sg__pg_conn_t *c) {
  return strcmp(c->last_state, "40P01") == 0 ||
         strcmp(c->last_state, "40001") == 0;
}

/* The migrations, recovery and registration of the node in one
 * transaction; run again (a few times) when it deadlocks with the work of
 * nodes already running, whose parts it may be giving back. */
static int migrate(pg_t *pg, char *err, size_t errlen) {
  sg_store_info_t before = pg->st->info;
  int rc = SG_EIO;
  for (int attempt = 0; attempt < 5; attempt++) {
    pg->writer.last_state[0] = '\0';
    if (err != NULL && errlen > 0)
      err[0] = '\0';
    rc = migrate_once(pg, err, errlen);
    if (rc == 0 || !lost_race(&pg->writer))
      break;
    pg->st->info = before;
  }
  return rc;
}

/* ---- the queues ---------------------------------------------------------- */

static void q_push(pg_queue_t *q, sg__store_req_t *r) {
  r->next = NULL;
  if (q->tail != NULL)
    q->tail->next = r;
  else
    q->head = r;
  q->tail = r;
  q->len++;
}

static sg__store_req_t *q_take(pg_queue_t *q, unsigned max, unsigned *n) {
  sg__store_req_t *head = q->head, *last = NULL, *r = head;
  unsigned k = 0;
  while (r != NULL && k < max) {
    last = r;
    r = r->next;
    k++;
  }
  *n = k;
  if (last == NULL)
    return NULL;
  q->head = r;
  if (r == NULL)
    q->tail = NULL;
  last->next = NULL;
  q->len -= k;
  return head;
}

static void post_done(pg_t *pg, sg__store_req_t *list, bool write, unsigned n) {
  uv_mutex_lock(&pg->done_lock);
  for (sg__store_req_t *r = list, *next; r != NULL; r = next) {
    next = r->next;
    q_push(&pg->done, r);
  }
  if (!write)
    pg->stats.reads += n;
  uv_mutex_unlock(&pg->done_lock);
  uv_async_send(&pg->async);
}

static void drain_done(pg_t *pg) {
  uv_mutex_lock(&pg->done_lock);
  sg__store_req_t *list = pg->done.head;
  pg->done.head = pg->done.tail = NULL;
  pg->done.len = 0;
  uv_mutex_unlock(&pg->done_lock);
  for (sg__store_req_t *r = list, *next; r != NULL; r = next) {
    next = r->next;
    sg__store_complete(pg->st, r);
  }
}

static void async_cb(uv_async_t *h) {
  drain_done(h->data);
}

static int pg_queue(sg_store_t *st, sg__store_req_t *req) {
  pg_t *pg = st->impl;
  if (!sg__pg_kind_done(req->kind))
    return SG_ENOTSUP; /* never a silent wrong answer */
  bool write = sg__req_is_write(req);
  pg_queue_t *q = write ? &pg->wq : &pg->rq;
  unsigned max = write ? st->cfg.max_pending_writes : st->cfg.max_pending_reads;
  int rc = 0;
  uv_mutex_lock(&pg->lock);
  if (pg->stopping)
    rc = SG_ECLOSED;
  else if (q->len >= max)
    rc = SG_EBUSY;
  else
    q_push(q, req);
  uv_mutex_unlock(&pg->lock);
  if (rc == 0)
    uv_cond_signal(write ? &pg->wcond : &pg->rcond);
  return rc;
}

/* ---- the writer ---------------------------------------------------------- */

static uint64_t thread_cpu_us(void) {
  struct timespec ts;
  if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts) != 0)
    return 0;
  return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static sg__store_req_t *writer_take(pg_t *pg, unsigned *n) {
  const sg_store_config_t *cfg = &pg->st->cfg;
  uv_mutex_lock(&pg->lock);
  while (pg->wq.len == 0 && !pg->stopping)
    uv_cond_wait(&pg->wcond, &pg->lock);
  if (cfg->max_wait_us > 0 && !pg->stopping) {
    uint64_t deadline = uv_hrtime() + (uint64_t)cfg->max_wait_us * 1000u;
    while (pg->wq.len < cfg->max_batch && !pg->stopping) {
      uint64_t t = uv_hrtime();
      if (t >= deadline ||
          uv_cond_timedwait(&pg->wcond, &pg->lock, deadline - t) != 0)
        break;
    }
  }
  sg__store_req_t *group = q_take(&pg->wq, cfg->max_batch, n);
  uv_mutex_unlock(&pg->lock);
  return group;
}

/* The request whose statement failed in the pipeline is left out, with
 * that statement's code, when the group runs again: 1. SG_EIO when the
 * failure was nobody's request (BEGIN, COMMIT), not the request's own fault
 * or the connection broke: the transaction fails. */
static int pipe_failed(sg__pg_conn_t *c) {
  sg__store_req_t *r = (sg__store_req_t *)c->pipe.failed;
  int rc = c->pipe.failed_rc;
  sg__pg_pipe_clear(c);
  if (r == NULL || rc == SG_EIO || rc >= 0 || c->broken)
    return SG_EIO;
  r->status = rc;
  r->rerun_skip = true;
  return 1;
}

/* Runs the requests not left out. Returns 0 when all ran, 1 when one failed
 * after changing rows or with a failed statement (which aborts the whole
 * transaction): it is marked to be left out and the caller runs the group
 * again; or SG_EIO when the transaction must fail. Their statements are
 * pipelined: a failure may show while a later request runs, and is charged
 * to the request that sent the statement. */
static int run_requests_once(pg_t *pg, sg__store_req_t *group, int64_t now) {
  sg__pg_conn_t *c = &pg->writer;
  for (sg__store_req_t *r = group; r != NULL; r = r->next) {
    if (r->rerun_skip)
      continue;
    memset(&r->out, 0, sizeof r->out);
    uint64_t before = c->changes, sent = c->pipe.sent;
    c->pipe.cur = r;
    r->status = sg__pg_run_write(c, r, now);
    c->pipe.cur = NULL;
    if (c->pipe.failed_set)
      return pipe_failed(c);
    if (r->status == SG_EIO)
      return SG_EIO;
    if (r->status < 0 && (c->changes != before || c->pipe.sent != sent ||
                          PQtransactionStatus(c->pc) == PQTRANS_INERROR)) {
      r->rerun_skip = true;
      return 1;
    }
  }
  return 0;
}

/* Runs the group and commits it: 0, or SG_EIO. A lost race (a deadlock
 * with another node's writer, a serialization failure) fails the whole
 * transaction, whichever request's statement it hit: SG_EIO, with the
 * SQLSTATE in c->last_state, for run_group to run the group again. */
static int run_requests(pg_t *pg, sg__store_req_t *group, int64_t now,
                        unsigned *reruns) {
  sg__pg_conn_t *c = &pg->writer;
  for (sg__store_req_t *r = group; r != NULL; r = r->next)
    r->rerun_skip = false;
  for (;;) {
    c->last_state[0] = '\0';
    int rc = run_requests_once(pg, group, now);
    if (rc == 0 && c->traffic_defer)
      rc = sg__pg_send(c, TRAFFIC_FLUSH, NULL);
    if (rc == 0) /* the answers still unread come with COMMIT's */
      rc = sg__pg_pipe_sync(c, "COMMIT");
    if (rc == 1 && c->pipe.failed_set)
      rc = pipe_failed(c);
    if (rc == 1 && lost_race(c))
      rc = SG_EIO; /* not the request's fault: the group runs again */
    if (rc != 1)
      return rc;
    (*reruns)++;
    sg__pg_orphan_tx_end(c, false); /* the held receipts' change too */
    /* Past the failure the server skipped everything until a sync; then
     * the transaction is rolled back and begun again. */
    if (sg__pg_pipe_sync(c, NULL) != 0 ||
        sg__pg_pipe_sync(c, "ROLLBACK") != 0 ||
        sg__pg_send(c, "BEGIN", NULL) != 0)
      return SG_EIO;
  }
}

/* Undoes the open transaction of a group that failed. */
static void roll_back(sg__pg_conn_t *c) {
  if (c->pipe.on && !c->broken) {
    sg__pg_pipe_clear(c);
    if (sg__pg_pipe_sync(c, NULL) != 0 || sg__pg_pipe_sync(c, "ROLLBACK") != 0)
      c->broken = true;
  }
  sg__pg_pipe_end(c);
  sg__pg_orphan_tx_end(c, false);
}

/* A short random pause before a group that lost a race runs again, longer
 * at each try, so that the two writers do not meet again in step. */
static void race_pause(unsigned try_no) {
  static _Thread_local uint64_t x;
  if (x == 0)
    x = uv_hrtime() ^ ((uint64_t)uv_os_getpid() << 32) ^ 0x9e3779b97f4a7c15u;
  x ^= x << 13;
  x ^= x >> 7;
  x ^= x << 17;
  unsigned max_ms = RACE_PAUSE_MS << (try_no < 4 ? try_no : 4);
  uv_sleep(1 + (unsigned)(x % max_ms));
}

static void run_group(pg_t *pg, sg__store_req_t *group, unsigned n) {
  sg__pg_conn_t *c = &pg->writer;
  uint64_t t0 = uv_hrtime(), cpu0 = thread_cpu_us();
  unsigned reruns = 0, races = 0;
  bool gave_up = false;
  int rc;
  /* The whole group, every request, runs again when its transaction lost a
   * race with another node's; nothing of a failed try stays. */
  for (unsigned try_no = 0;; try_no++) {
    int64_t now = sg__store_now(pg->st);
    rc = conn_ensure(c) && sg__pg_pipe_begin(c) == 0 ? 0 : SG_EIO;
    if (rc == 0)
      rc = run_requests(pg, group, now, &reruns);
    if (rc == 0)
      break;
    bool race = lost_race(c) && !c->broken;
    roll_back(c);
    gave_up = race && try_no + 1 >= RACE_TRIES;
    if (!race || gave_up)
      break;
    races++;
    race_pause(try_no);
  }
  if (rc < 0)
    for (sg__store_req_t *r = group; r != NULL; r = r->next)
      r->status = SG_EIO;
  else {
    sg__pg_pipe_end(c);
    sg__pg_orphan_tx_end(c, true);
  }
  uint64_t took = (uv_hrtime() - t0) / 1000u, cpu = thread_cpu_us() - cpu0;
  uv_mutex_lock(&pg->done_lock);
  sg_store_stats_note_commit(&pg->stats, rc == 0, took, n);
  pg->stats.writer_cpu_us += cpu;
  pg->stats.reruns += reruns;
  pg->stats.lost_races += races;
  pg->stats.races_lost_for_good += gave_up;
  uv_mutex_unlock(&pg->done_lock);
  post_done(pg, group, true, n);
}

static void writer_main(void *arg) {
  pg_t *pg = arg;
  for (;;) {
    unsigned n;
    sg__store_req_t *group = writer_take(pg, &n);
    if (group == NULL)
      break;
    run_group(pg, group, n);
  }
}

/* ---- the readers --------------------------------------------------------- */

typedef struct reader_arg {
  pg_t *pg;
  sg__pg_conn_t *conn;
} reader_arg_t;

static void reader_main(void *arg) {
  pg_t *pg = ((reader_arg_t *)arg)->pg;
  sg__pg_conn_t *c = ((reader_arg_t *)arg)->conn;
  sg_free(arg);
  for (;;) {
    uv_mutex_lock(&pg->lock);
    while (pg->rq.len == 0 && !pg->stopping)
      uv_cond_wait(&pg->rcond, &pg->lock);
    unsigned n;
    sg__store_req_t *r = q_take(&pg->rq, 1, &n);
    uv_mutex_unlock(&pg->lock);
    if (r == NULL)
      break;
    r->status = conn_ensure(c) ? sg__pg_run_read(c, r) : SG_EIO;
    /* A read changes nothing: on a connection found cut, once more. */
    if (r->status == SG_EIO && c->broken && conn_ensure(c))
      r->status = sg__pg_run_read(c, r);
    post_done(pg, r, false, 1);
  }
}

/* ---- start, stop --------------------------------------------------------- */

static int start_threads(pg_t *pg) {
  if (uv_thread_create(&pg->writer_tid, writer_main, pg) != 0)
    return SG_ENOMEM;
  pg->threads_started = 1;
  for (unsigned i = 0; i < pg->n_readers; i++) {
    reader_arg_t *a = sg_malloc(sizeof *a);
    if (a == NULL)
      return SG_ENOMEM;
    a->pg = pg;
    a->conn = &pg->readers[i];
    if (uv_thread_create(&pg->reader_tids[i], reader_main, a) != 0) {
      sg_free(a);
      return SG_ENOMEM;
    }
    pg->threads_started++;
  }
  return 0;
}

static void stop_threads(pg_t *pg) {
  if (!pg->sync_ready)
    return;
  uv_mutex_lock(&pg->lock);
  pg->stopping = true;
  uv_mutex_unlock(&pg->lock);
  uv_cond_broadcast(&pg->wcond);
  uv_cond_broadcast(&pg->rcond);
  if (pg->threads_started > 0)
    uv_thread_join(&pg->writer_tid);
  for (unsigned i = 0; i + 1 < pg->threads_started; i++)
    uv_thread_join(&pg->reader_tids[i]);
  pg->threads_started = 0;
}

static void pg_release(pg_t *pg) {
  for (unsigned i = 0; pg->readers != NULL && i < pg->n_readers; i++)
    conn_close(&pg->readers[i]);
  conn_close(&pg->writer);
  sg_free(pg->readers);
  sg_free(pg->reader_tids);
  sg_free(pg->url);
  if (pg->sync_ready) {
    uv_mutex_destroy(&pg->lock);
    uv_mutex_destroy(&pg->done_lock);
    uv_cond_destroy(&pg->wcond);
    uv_cond_destroy(&pg->rcond);
  }
}

static void async_closed(uv_handle_t *h) {
  pg_t *pg = h->data;
  sg_store_t *st = pg->st;
  void (*closed)(sg_store_t *) = pg->closed;
  pg_release(pg);
  sg_free(pg);
  if (closed != NULL)
    closed(st);
}

static void pg_close(sg_store_t *st, void (*done)(sg_store_t *st)) {
  pg_t *pg = st->impl;
  stop_threads(pg);
  drain_done(pg);
  pg->closed = done;
  uv_close((uv_handle_t *)&pg->async, async_closed);
}

static void pg_stats(sg_store_t *st, sg_store_stats_t *out) {
  pg_t *pg = st->impl;
  uv_mutex_lock(&pg->done_lock);
  *out = pg->stats;
  uv_mutex_unlock(&pg->done_lock);
  uv_mutex_lock(&pg->lock);
  out->pending_writes = pg->wq.len;
  out->pending_reads = pg->rq.len;
  uv_mutex_unlock(&pg->lock);
}

/* Claims never wait here (claim_wake NULL): several nodes share the
 * queues, and a part is claimed by whichever node asks. */
static const sg__store_backend_t pg_backend = {"postgres", pg_queue, pg_close,
                                               pg_stats, NULL};

static int init_sync(pg_t *pg) {
  if (uv_mutex_init(&pg->lock) != 0)
    return SG_ENOMEM;
  if (uv_mutex_init(&pg->done_lock) != 0) {
    uv_mutex_destroy(&pg->lock);
    return SG_ENOMEM;
  }
  uv_cond_init(&pg->wcond);
  uv_cond_init(&pg->rcond);
  if (uv_async_init(pg->st->loop, &pg->async, async_cb) != 0) {
    uv_mutex_destroy(&pg->lock);
    uv_mutex_destroy(&pg->done_lock);
    uv_cond_destroy(&pg->wcond);
    uv_cond_destroy(&pg->rcond);
    return SG_ENOMEM;
  }
  pg->async.data = pg;
  pg->sync_ready = true;
  return 0;
}

static int open_all(pg_t *pg, char *err, size_t errlen) {
  int rc;
  if ((rc = conn_open(pg, &pg->writer, err, errlen)) < 0 ||
      (rc = migrate(pg, err, errlen)) < 0)
    return rc;
  if ((rc = traffic_defer(&pg->writer)) < 0) {
    fmt_err(err, errlen, "store: cannot prepare the PostgreSQL writer: %s",
            pg->writer.last_error);
    return rc;
  }
  pg->writer.traffic_defer = true;
  pg->n_readers = pg->st->cfg.readers;
  pg->readers = sg_calloc(pg->n_readers, sizeof *pg->readers);
  pg->reader_tids = sg_calloc(pg->n_readers, sizeof *pg->reader_tids);
  if (pg->readers == NULL || pg->reader_tids == NULL)
    return SG_ENOMEM;
  for (unsigned i = 0; i < pg->n_readers; i++)
    if ((rc = conn_open(pg, &pg->readers[i], err, errlen)) < 0)
      return rc;
  if ((rc = init_sync(pg)) < 0)
    return rc;
  return start_threads(pg);
}

int sg__pg_open(sg_store_t *st, const char *url, char *err, size_t errlen) {
  pg_t *pg = sg_calloc(1, sizeof *pg);
  if (pg == NULL)
    return SG_ENOMEM;
  pg->st = st;
  size_t n = strlen(url);
  pg->url = sg_malloc(n + 1);
  if (pg->url == NULL) {
    sg_free(pg);
    return SG_ENOMEM;
  }
  memcpy(pg->url, url, n + 1);
  st->info.backend = "postgres";
  list_missing(pg->missing, sizeof pg->missing);
  st->info.missing = pg->missing[0] != '\0' ? pg->missing : NULL;
  int rc = open_all(pg, err, errlen);
  if (rc < 0) {
    if (err != NULL && errlen > 0 && err[0] == '\0')
      fmt_err(err, errlen, "store: cannot open the PostgreSQL store: %s",
              sg_strerror(rc));
    stop_threads(pg);
    if (pg->sync_ready) {
      pg->closed = NULL;
      uv_close((uv_handle_t *)&pg->async, async_closed);
    } else {
      pg_release(pg);
      sg_free(pg);
    }
    st->info.missing = NULL;
    return rc;
  }
  st->be = &pg_backend;
  st->impl = pg;
  return 0;
}
