/* store_fixture.h - what the store's tests share: a temporary directory
 * under /tmp with a fresh loop for each test, a fake clock, messages to
 * submit, and synchronous wrappers that run the loop until a request's
 * callback came (20 s at most). Only for tests/unit/store/.
 *
 * With SG_TEST_STORE_URL set to a postgres:// URL (scripts/pg-test.sh exec),
 * the same tests run on PostgreSQL: each test gets a fresh database of its
 * own on that server, and q1 / q1s / raw_exec query it with libpq. */
#ifndef SG_TESTS_STORE_FIXTURE_H
#define SG_TESTS_STORE_FIXTURE_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <libpq-fe.h>
#include <sqlite3.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/alloc.h"
#include "core/error.h"
#include "core/id.h"
#include "store/migrations.h"
#include "store/store.h"
#include "store/store_ops.h"

/* ---- fixture ------------------------------------------------------------- */

#define T0 1700000000000LL /* the fake clock's start, Unix ms */

static _Atomic int64_t fake_now = T0;

static inline int64_t fake_clock(void *data) {
  (void)data;
  return atomic_load(&fake_now);
}

typedef struct ctx {
  uv_loop_t loop;
  sg_store_t *st;
  char dir[64];
  char path[96];
  char err[256];
  char url[512]; /* PostgreSQL: the test's own database; "" on SQLite */
  char db[64];
} ctx_t;

/* ---- PostgreSQL ---------------------------------------------------------- */

/* The server's URL when the tests run on PostgreSQL, else NULL. */
static inline const char *pg_server(void) {
  const char *u = getenv("SG_TEST_STORE_URL");
  if (u == NULL || (strncmp(u, "postgres://", 11) != 0 &&
                    strncmp(u, "postgresql://", 13) != 0))
    return NULL;
  return u;
}

/* url with its database name replaced by db. */
static inline void pg_url_for(char *out, size_t len, const char *url,
                              const char *db) {
  const char *host = strstr(url, "://") + 3;
  const char *slash = strchr(host, '/');
  const char *query = strchr(host, '?');
  size_t keep = slash ? (size_t)(slash - url)
                      : query ? (size_t)(query - url) : strlen(url);
  snprintf(out, len, "%.*s/%s%s", (int)keep, url, db, query ? query : "");
}

static inline void pg_quiet(void *arg, const char *msg) {
  (void)arg, (void)msg;
}

/* Runs one command on the server's maintenance database. */
static inline void pg_admin(const char *sql) {
  PGconn *pc = PQconnectdb(pg_server());
  if (PQstatus(pc) != CONNECTION_OK)
    fail_msg("PostgreSQL at %s: %s", pg_server(), PQerrorMessage(pc));
  PQsetNoticeProcessor(pc, pg_quiet, NULL);
  PGresult *r = PQexec(pc, sql);
  if (PQresultStatus(r) != PGRES_COMMAND_OK)
    fail_msg("%s: %s", sql, PQerrorMessage(pc));
  PQclear(r);
  PQfinish(pc);
}

/* SQLite's x'41' blob literals as PostgreSQL's '\x41'::bytea, and
 * CAST(col AS TEXT) of a blob column as its UTF-8 text. */
static inline void pg_dialect(char *out, size_t len, const char *sql) {
  size_t o = 0;
  for (const char *p = sql; *p != '\0' && o + 16 < len; p++) {
    if (strncmp(p, "CAST(", 5) == 0) {
      const char *as = strstr(p, " AS TEXT)");
      size_t w = as != NULL ? (size_t)(as - p - 5) : 0;
      if (w > 0 && strcspn(p + 5, " ()'") == w && o + w + 32 < len) {
        o += (size_t)snprintf(out + o, len - o, "convert_from(%.*s, 'UTF8')",
                              (int)w, p + 5);
        p = as + 8;
        continue;
      }
    }
    if ((*p == 'x' || *p == 'X') && p[1] == '\'' &&
        (p == sql || p[-1] == ' ' || p[-1] == '=' || p[-1] == '(')) {
      const char *end = strchr(p + 2, '\'');
      if (end != NULL && (size_t)(end - p) + o + 16 < len) {
        o += (size_t)snprintf(out + o, len - o, "'\\x%.*s'::bytea",
                              (int)(end - p - 2), p + 2);
        p = end;
        continue;
      }
    }
    out[o++] = *p;
  }
  out[o] = '\0';
}

/* The first column of the first row of sql on the test's database, as
 * text ("" for none); fails the test on an error. */
static bool pg_q1_row; /* whether the last pg_q1s found a row */

static inline const char *pg_q1s(const ctx_t *c, const char *sql) {
  static char out[256];
  char q[2048];
  pg_dialect(q, sizeof q, sql);
  PGconn *pc = PQconnectdb(c->url);
  if (PQstatus(pc) != CONNECTION_OK)
    fail_msg("PostgreSQL: %s", PQerrorMessage(pc));
  PGresult *r = PQexec(pc, q);
  ExecStatusType st = PQresultStatus(r);
  if (st != PGRES_TUPLES_OK && st != PGRES_COMMAND_OK)
    fail_msg("%s: %s", q, PQerrorMessage(pc));
  out[0] = '\0';
  pg_q1_row = st == PGRES_TUPLES_OK && PQntuples(r) > 0;
  if (pg_q1_row)
    snprintf(out, sizeof out, "%s", PQgetvalue(r, 0, 0));
  PQclear(r);
  PQfinish(pc);
  return out;
}

/* SQLite's functions that the tests' own queries use (instr, hex,
 * group_concat), made in the test's database. */
static inline void pg_compat(const ctx_t *c) {
  static const char sql[] =
      "CREATE FUNCTION instr(text, text) RETURNS int LANGUAGE sql IMMUTABLE "
      "AS 'SELECT strpos($1, $2)';"
      "CREATE FUNCTION hex(bytea) RETURNS text LANGUAGE sql IMMUTABLE AS "
      "'SELECT upper(encode($1, ''hex''))';"
      "CREATE FUNCTION group_concat_sf(text, text, text) RETURNS text "
      "LANGUAGE sql IMMUTABLE AS 'SELECT CASE WHEN $1 IS NULL THEN $2 ELSE "
      "$1 || $3 || $2 END';"
      "CREATE AGGREGATE group_concat(text, text) (SFUNC = group_concat_sf, "
      "STYPE = text)";
  PGconn *pc = PQconnectdb(c->url);
  if (PQstatus(pc) != CONNECTION_OK)
    fail_msg("PostgreSQL: %s", PQerrorMessage(pc));
  PQsetNoticeProcessor(pc, pg_quiet, NULL);
  PGresult *r = PQexec(pc, sql);
  if (PQresultStatus(r) != PGRES_COMMAND_OK)
    fail_msg("compat functions: %s", PQerrorMessage(pc));
  PQclear(r);
  PQfinish(pc);
}

/* A request's answer when only its status and arrival count: the retry
 * of a message in the tests that run one. */
typedef struct fx_done {
  int calls, status;
} fx_done_t;

static inline void fx_retry_cb(sg_store_t *st, int status,
                               const sg_store_retry_res_t *res, void *data) {
  (void)st;
  (void)res;
  fx_done_t *g = data;
  g->status = status;
  g->calls++;
}

static inline int setup(void **state) {
  ctx_t *c = calloc(1, sizeof *c);
  snprintf(c->dir, sizeof c->dir, "/tmp/sg-store-XXXXXX");
  if (mkdtemp(c->dir) == NULL)
    return -1;
  snprintf(c->path, sizeof c->path, "%s/smsgate.db", c->dir);
  uv_loop_init(&c->loop);
  atomic_store(&fake_now, T0);
  /* The idle SQLite writer settles one-part rows (sqlite_settle.c), which
   * tests that read the rows themselves must not race with: off unless a
   * test (test_store_settle) or the environment says otherwise. */
  setenv("SG_STORE_SETTLE_IDLE_MS", "0", 0);
  if (pg_server() != NULL) {
    static unsigned n;
    char sql[128];
    snprintf(c->db, sizeof c->db, "sgtest_%ld_%u", (long)getpid(), n++);
    snprintf(sql, sizeof sql, "DROP DATABASE IF EXISTS %s", c->db);
    pg_admin(sql);
    snprintf(sql, sizeof sql, "CREATE DATABASE %s", c->db);
    pg_admin(sql);
    pg_url_for(c->url, sizeof c->url, pg_server(), c->db);
    pg_compat(c);
  }
  *state = c;
  return 0;
}

static inline void on_closed(void *data) {
  *(int *)data = 1;
}

static inline void close_store(ctx_t *c) {
  if (c->st == NULL)
    return;
  int closed = 0;
  sg_store_close(c->st, on_closed, &closed);
  while (!closed)
    uv_run(&c->loop, UV_RUN_ONCE);
  c->st = NULL;
}

static inline void remove_db_files(const ctx_t *c) {
  static const char *const suffix[] = {"", "-wal", "-shm", "-journal"};
  char p[128];
  for (size_t i = 0; i < 4; i++) {
    snprintf(p, sizeof p, "%s%s", c->path, suffix[i]);
    unlink(p);
  }
}

static inline int teardown(void **state) {
  ctx_t *c = *state;
  close_store(c);
  uv_run(&c->loop, UV_RUN_DEFAULT);
  int rc = uv_loop_close(&c->loop);
  if (c->db[0] != '\0') {
    char sql[128];
    snprintf(sql, sizeof sql, "DROP DATABASE IF EXISTS %s WITH (FORCE)",
             c->db);
    pg_admin(sql);
  }
  remove_db_files(c);
  rmdir(c->dir);
  free(c);
  return rc == 0 ? 0 : -1;
}

static inline sg_store_config_t test_config(const ctx_t *c) {
  sg_store_config_t cfg;
  sg_store_config_init(&cfg, c->url[0] != '\0' ? c->url : c->path);
  cfg.clock_ms = fake_clock;
  cfg.readers = 2;
  return cfg;
}

static inline int open_with(ctx_t *c, const sg_store_config_t *cfg) {
  c->err[0] = '\0';
  return sg_store_open(&c->loop, cfg, &c->st, c->err, sizeof c->err);
}

static inline void open_store(ctx_t *c) {
  sg_store_config_t cfg = test_config(c);
  int rc = open_with(c, &cfg);
  if (rc != 0)
    fail_msg("open: %s (%s)", c->err, sg_err_name(rc));
}

static inline void guard_cb(uv_timer_t *t) {
  *(bool *)t->data = true;
}

/* Runs the loop until *counter reaches target (20 s at most). */
static inline void run_until(ctx_t *c, const int *counter, int target) {
  bool timeout = false;
  uv_timer_t t;
  uv_timer_init(&c->loop, &t);
  t.data = &timeout;
  uv_timer_start(&t, guard_cb, 20000, 0);
  while (*counter < target && !timeout)
    uv_run(&c->loop, UV_RUN_ONCE);
  uv_close((uv_handle_t *)&t, NULL);
  uv_run(&c->loop, UV_RUN_NOWAIT);
  assert_false(timeout);
}

static inline void wh_counts_cb(sg_store_t *st, int status,
                                const sg_store_counts_t *k, void *data) {
  (void)st;
  long long *out = data;
  out[0] = status == 0 ? (long long)k->webhooks_pending : -1;
  out[1]++;
}

/* The webhook deliveries not finished, as sg_store_counts tells them: rows
 * and (SQLite) those its writer holds in memory. */
static inline long long webhooks_pending(ctx_t *c) {
  long long got[2] = {0, 0};
  assert_int_equal(sg_store_counts(c->st, wh_counts_cb, got), 0);
  while (got[1] == 0)
    uv_run(&c->loop, UV_RUN_ONCE);
  return got[0];
}

/* One integer from a query on a connection of its own: what another process
 * would see. */
static inline long long q1(const ctx_t *c, const char *sql) {
  if (c->url[0] != '\0') {
    const char *v = pg_q1s(c, sql);
    return pg_q1_row ? strtoll(v, NULL, 10) : -1;
  }
  sqlite3 *db = NULL;
  assert_int_equal(sqlite3_open_v2(c->path, &db, SQLITE_OPEN_READONLY, NULL),
                   SQLITE_OK);
  sqlite3_stmt *s = NULL;
  if (sqlite3_prepare_v2(db, sql, -1, &s, NULL) != SQLITE_OK)
    fail_msg("%s: %s", sql, sqlite3_errmsg(db));
  long long v = -1;
  if (sqlite3_step(s) == SQLITE_ROW)
    v = sqlite3_column_int64(s, 0);
  sqlite3_finalize(s);
  sqlite3_close(db);
  return v;
}

/* The first text column of a query (a static buffer). */
static inline const char *q1s(const ctx_t *c, const char *sql) {
  if (c->url[0] != '\0')
    return pg_q1s(c, sql);
  static char out[256];
  sqlite3 *db = NULL;
  assert_int_equal(sqlite3_open_v2(c->path, &db, SQLITE_OPEN_READONLY, NULL),
                   SQLITE_OK);
  sqlite3_stmt *s = NULL;
  assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &s, NULL), SQLITE_OK);
  out[0] = '\0';
  if (sqlite3_step(s) == SQLITE_ROW)
    snprintf(out, sizeof out, "%s", (const char *)sqlite3_column_text(s, 0));
  sqlite3_finalize(s);
  sqlite3_close(db);
  return out;
}

static inline void raw_exec(const ctx_t *c, const char *sql) {
  if (c->url[0] != '\0') {
    pg_q1s(c, sql);
    return;
  }
  sqlite3 *db = NULL;
  assert_int_equal(sqlite3_open(c->path, &db), SQLITE_OK);
  char *e = NULL;
  if (sqlite3_exec(db, sql, NULL, NULL, &e) != SQLITE_OK)
    fail_msg("%s: %s", sql, e);
  sqlite3_close(db);
}

/* Makes the SQLite file an older smsgate would have left: the migrations
 * up to schema version, recorded as applied; returns how many ran. */
static inline size_t sqlite_schema_upto(const ctx_t *c, unsigned version) {
  const sg__migration_t *all = sg__sqlite_migrations;
  size_t n = sg__sqlite_migrations_count;
  raw_exec(c, "CREATE TABLE schema_version (version INTEGER PRIMARY KEY, "
              "name TEXT NOT NULL, applied_ms INTEGER NOT NULL)");
  size_t applied = 0;
  for (size_t i = 0; i < n && all[i].version <= version; i++, applied++) {
    raw_exec(c, all[i].sql);
    char sql[160];
    snprintf(sql, sizeof sql, "INSERT INTO schema_version VALUES (%u, '%s', 0)",
             all[i].version, all[i].name);
    raw_exec(c, sql);
  }
  return applied;
}

/* ---- the counts of /metrics ----------------------------------------------- */

typedef struct counts_got {
  int calls, status;
  sg_store_counts_t k;
} counts_got_t;

static inline void counts_cb(sg_store_t *st, int status,
                             const sg_store_counts_t *k, void *data) {
  (void)st;
  counts_got_t *g = data;
  g->status = status;
  if (status == 0)
    g->k = *k;
  g->calls++;
}

/* The store's counts in *g; they must come. */
static inline void counts_wait(ctx_t *c, counts_got_t *g) {
  memset(g, 0, sizeof *g);
  assert_int_equal(sg_store_counts(c->st, counts_cb, g), 0);
  run_until(c, &g->calls, 1);
  assert_int_equal(g->status, 0);
}

/* ---- building messages --------------------------------------------------- */

typedef struct tmsg {
  sg_store_msg_in_t m;
  sg_store_part_in_t parts[4];
  uint8_t ud[4][3];
  char rcpt[20];
  char text[32];
} tmsg_t;

static inline void tmsg_init(tmsg_t *t, const char *rcpt, unsigned n_parts,
                             const char *connector) {
  memset(t, 0, sizeof *t);
  assert_int_equal(sg_id_new(t->m.id), 0);
  snprintf(t->rcpt, sizeof t->rcpt, "%s", rcpt);
  snprintf(t->text, sizeof t->text, "hello %s", rcpt);
  t->m.sender = "SMSGATE";
  t->m.recipient = t->rcpt;
  t->m.encoding = SG_ENC_GSM7;
  t->m.body = (const uint8_t *)t->text;
  t->m.body_len = strlen(t->text);
  t->m.parts = t->parts;
  t->m.n_parts = n_parts;
  for (unsigned i = 0; i < n_parts; i++) {
    t->ud[i][0] = 'A';
    t->ud[i][1] = (uint8_t)('0' + i);
    t->ud[i][2] = 0x1B;
    t->parts[i].connector = connector;
    t->parts[i].encoding = SG_ENC_GSM7;
    t->parts[i].ud = t->ud[i];
    t->parts[i].ud_len = 3;
    t->parts[i].concat_ref = n_parts > 1 ? 42 : 0;
    t->parts[i].concat_total = (uint8_t)n_parts;
  }
}

typedef struct got {
  int calls;
  int status;
  bool replayed;
  char response[64];
  int64_t id;
} got_t;

static inline void submit_cb(sg_store_t *st, int status,
                             const sg_store_submit_res_t *res, void *data) {
  (void)st;
  got_t *g = data;
  g->status = status;
  if (status == 0) {
    g->replayed = res->replayed;
    snprintf(g->response, sizeof g->response, "%.*s", (int)res->response_len,
             res->response ? (const char *)res->response : "");
  } else {
    assert_null(res);
  }
  g->calls++;
}

/* Submits msgs[0..n) as one batch of account 1 and waits for the commit. */
static inline int submit_wait(ctx_t *c, tmsg_t *msgs, size_t n,
                              const sg_store_batch_t *proto, got_t *g) {
  sg_store_msg_in_t in[64];
  assert_true(n <= 64);
  for (size_t i = 0; i < n; i++)
    in[i] = msgs[i].m;
  sg_store_batch_t b = {0};
  if (proto != NULL)
    b = *proto;
  if (b.batch_id[0] == '\0')
    sg_id_new(b.batch_id);
  b.account_id = b.account_id ? b.account_id : 1;
  b.msgs = in;
  b.n_msgs = n;
  got_t local = {0};
  g = g ? g : &local;
  memset(g, 0, sizeof *g);
  int rc = sg_store_submit(c->st, &b, submit_cb, g);
  if (rc < 0)
    return rc;
  run_until(c, &g->calls, 1);
  return g->status;
}

/* ---- claims, results, receipts, reads: synchronous wrappers -------------- */

typedef struct claim_got {
  int calls;
  int status;
  size_t n, released, expired, requeued;
  sg_store_claimed_t parts[16];
  uint8_t ud[16][8];
} claim_got_t;

static inline void claim_cb(sg_store_t *st, int status,
                            const sg_store_claim_res_t *res, void *data) {
  (void)st;
  claim_got_t *g = data;
  g->status = status;
  if (status == 0) {
    g->n = res->n_parts;
    g->released = res->released;
    g->expired = res->expired;
    g->requeued = res->requeued;
    for (size_t i = 0; i < res->n_parts && i < 16; i++) {
      g->parts[i] = res->parts[i];
      memcpy(g->ud[i], res->parts[i].ud, res->parts[i].ud_len);
      g->parts[i].ud = g->ud[i];
      g->parts[i].connector = g->parts[i].sender = g->parts[i].recipient = NULL;
      g->parts[i].udh = NULL;
    }
  }
  g->calls++;
}

static inline void claim_wait(ctx_t *c, const char *conn, unsigned max,
                              claim_got_t *g) {
  memset(g, 0, sizeof *g);
  assert_int_equal(sg_store_claim(c->st, conn, max, 60000, claim_cb, g), 0);
  run_until(c, &g->calls, 1);
  assert_int_equal(g->status, 0);
}

typedef struct items_got {
  int calls;
  int status;
  size_t n;
  sg_store_item_res_t items[16];
} items_got_t;

static inline void items_cb(sg_store_t *st, int status,
                            const sg_store_item_res_t *items, size_t n,
                            void *data) {
  (void)st;
  items_got_t *g = data;
  g->status = status;
  g->n = n;
  for (size_t i = 0; i < n && i < 16; i++)
    g->items[i] = items[i];
  g->calls++;
}

static inline void results_wait(ctx_t *c, const sg_store_result_in_t *r,
                                size_t n, items_got_t *g) {
  memset(g, 0, sizeof *g);
  assert_int_equal(sg_store_record_results(c->st, r, n, items_cb, g), 0);
  run_until(c, &g->calls, 1);
  assert_int_equal(g->status, 0);
  assert_int_equal(g->n, n);
}

static inline void receipts_wait(ctx_t *c, const sg_store_receipt_in_t *r,
                                 size_t n, items_got_t *g) {
  memset(g, 0, sizeof *g);
  assert_int_equal(sg_store_record_receipts(c->st, r, n, items_cb, g), 0);
  run_until(c, &g->calls, 1);
  assert_int_equal(g->status, 0);
  assert_int_equal(g->n, n);
}

/* Claims the one part queued on conn and records it sent as smsc_id, at
 * the clock's time sent_at when that is not 0. */
static inline void claim_one_sent_at(ctx_t *c, const char *conn,
                                     const char *smsc_id, int64_t sent_at) {
  claim_got_t cg;
  claim_wait(c, conn, 1, &cg);
  assert_int_equal(cg.n, 1);
  if (sent_at != 0)
    atomic_store(&fake_now, sent_at);
  sg_store_result_in_t r = {.part_id = cg.parts[0].part_id,
                            .attempt = cg.parts[0].attempt,
                            .outcome = SG_STORE_SENT,
                            .smsc_id = smsc_id};
  items_got_t ig;
  results_wait(c, &r, 1, &ig);
  assert_int_equal(ig.items[0].status, 0);
}

static inline void claim_one_sent(ctx_t *c, const char *conn,
                                  const char *smsc_id) {
  claim_one_sent_at(c, conn, smsc_id, 0);
}

/* What a test keeps of the webhook deliveries a claim handed out. */
#define WH_MAX 64
typedef struct wh_got {
  int calls;
  int status;
  size_t n;
  int64_t id[WH_MAX];
  unsigned attempts[WH_MAX];
  char payload[WH_MAX][512];
  char url[WH_MAX][320];
  bool get[WH_MAX];
  bool from_event[WH_MAX]; /* handed out as its event's record */
  char mid[WH_MAX][SG_ID_LEN + 1];
} wh_got_t;

static inline void wh_cb(sg_store_t *st, int status,
                         const sg_store_webhook_t *w, size_t n, void *data) {
  (void)st;
  wh_got_t *g = data;
  g->status = status;
  g->n = n;
  for (size_t i = 0; i < n && i < WH_MAX; i++) {
    g->id[i] = w[i].id;
    g->attempts[i] = w[i].attempts;
    if (w[i].event != NULL) { /* the payload, as the sender writes it */
      char *buf = NULL;
      size_t cap = 0, len = 0;
      assert_int_equal(sg_store_webhook_payload(w[i].event, w[i].event_len,
                                                &buf, &cap, &len),
                       0);
      assert_null(w[i].payload);
      g->from_event[i] = true;
      snprintf(g->payload[i], sizeof g->payload[i], "%.*s", (int)len, buf);
      sg_free(buf);
    } else {
      snprintf(g->payload[i], sizeof g->payload[i], "%.*s",
               (int)w[i].payload_len, (const char *)w[i].payload);
    }
    snprintf(g->url[i], sizeof g->url[i], "%s", w[i].url);
    g->get[i] = w[i].get;
    snprintf(g->mid[i], sizeof g->mid[i], "%s",
             w[i].message_id ? w[i].message_id : "");
  }
  g->calls++;
}

/* Claims at most max deliveries of store st under a lease of lease_ms. */
static inline void wh_claim_on(ctx_t *c, sg_store_t *st, unsigned max,
                               int64_t lease_ms, wh_got_t *g) {
  memset(g, 0, sizeof *g);
  assert_int_equal(sg_store_webhook_claim(st, max, lease_ms, wh_cb, g), 0);
  run_until(c, &g->calls, 1);
  assert_int_equal(g->status, 0);
}

/* The same on the test's store, under a lease of 10 s. */
static inline void wh_claim(ctx_t *c, unsigned max, wh_got_t *g) {
  wh_claim_on(c, c->st, max, 10000, g);
}

/* What a test keeps of a message read through the store. */
typedef struct msg_got {
  int calls;
  int status;
  sg_msg_status_t status_of_msg;
  size_t n_parts, n_events;
  sg_msg_status_t part_status[8];
  char smsc_id[8][16];
  unsigned attempts[8];
  sg_msg_status_t msg_events[16]; /* the message-level events, in order */
  size_t n_msg_events;
  char last_part_detail[96];
  char body[64];
  char client_ref[32];
} msg_got_t;

static inline void message_cb(sg_store_t *st, int status,
                              const sg_store_message_t *m, void *data) {
  (void)st;
  msg_got_t *g = data;
  g->status = status;
  if (status == 0) {
    g->status_of_msg = m->status;
    g->n_parts = m->n_parts;
    g->n_events = m->n_events;
    snprintf(g->body, sizeof g->body, "%.*s", (int)m->body_len,
             (const char *)m->body);
    snprintf(g->client_ref, sizeof g->client_ref, "%s",
             m->client_ref ? m->client_ref : "");
    for (size_t i = 0; i < m->n_parts && i < 8; i++) {
      assert_int_equal(m->parts[i].seq, i + 1);
      g->part_status[i] = m->parts[i].status;
      g->attempts[i] = m->parts[i].attempts;
      snprintf(g->smsc_id[i], sizeof g->smsc_id[i], "%s",
               m->parts[i].smsc_id ? m->parts[i].smsc_id : "");
    }
    for (size_t i = 0; i < m->n_events; i++) {
      if (m->events[i].part_seq == 0 && g->n_msg_events < 16)
        g->msg_events[g->n_msg_events++] = m->events[i].status;
      else if (m->events[i].detail != NULL)
        snprintf(g->last_part_detail, sizeof g->last_part_detail, "%s",
                 m->events[i].detail);
      /* equal: a part's event and the message's it caused; 0: an event
       * the SQLite store shows from a part's mark, not a row (store.h) */
      if (i > 0 && m->events[i].id != 0 && m->events[i - 1].id != 0)
        assert_true(m->events[i].id > m->events[i - 1].id ||
                    (m->events[i].id == m->events[i - 1].id &&
                     m->events[i].part_seq == 0 &&
                     m->events[i - 1].part_seq != 0 &&
                     m->events[i].status == m->events[i - 1].status));
      for (size_t j = 0; m->events[i].id != 0 && j < i; j++)
        assert_true(m->events[j].id <= m->events[i].id);
    }
  }
  g->calls++;
}

static inline void get_wait(ctx_t *c, const char *id, int64_t account,
                            msg_got_t *g) {
  memset(g, 0, sizeof *g);
  assert_int_equal(sg_store_get_message(c->st, id, account, message_cb, g), 0);
  run_until(c, &g->calls, 1);
}

/* The events of message mid as a read shows them (what the API lists) of
 * part seq (0: the message itself) and status: how many, and the time of
 * the last one (-1: none). A part's event may share a row with its
 * message's on SQLite, so tests count them here, not in the table. */
typedef struct ev_count {
  int calls;
  unsigned seq;
  sg_msg_status_t status;
  long long n;
  int64_t time_ms;
} ev_count_t;

static inline void ev_count_cb(sg_store_t *st, int status,
                               const sg_store_message_t *m, void *data) {
  (void)st;
  ev_count_t *g = data;
  assert_int_equal(status, 0);
  for (size_t i = 0; i < m->n_events; i++)
    if (m->events[i].part_seq == g->seq && m->events[i].status == g->status) {
      g->n++;
      g->time_ms = m->events[i].time_ms;
    }
  g->calls++;
}

static inline long long events_of(ctx_t *c, const char *mid, unsigned seq,
                                  sg_msg_status_t status, int64_t *time_ms) {
  ev_count_t g = {0, seq, status, 0, -1};
  assert_int_equal(sg_store_get_message(c->st, mid, 0, ev_count_cb, &g), 0);
  run_until(c, &g.calls, 1);
  if (time_ms != NULL)
    *time_ms = g.time_ms;
  return g.n;
}

static inline void expect_msg_events(const msg_got_t *g,
                                     const sg_msg_status_t *want, size_t n) {
  if (g->n_msg_events != n)
    fail_msg("%zu message events, want %zu", g->n_msg_events, n);
  for (size_t i = 0; i < n; i++)
    if (g->msg_events[i] != want[i])
      fail_msg("message event %zu is %s, want %s", i,
               sg_store_status_name(g->msg_events[i]),
               sg_store_status_name(want[i]));
}

#endif
