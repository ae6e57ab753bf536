/* Tests for the nodes of one database (store/nodes.h, migration 0023): a
 * node's epoch at each start, its heartbeat and the node list, and, with
 * several nodes on one PostgreSQL database (SG_TEST_STORE_URL), that the
 * parts a dead node held leased go back to the queue at the first
 * heartbeat of a live node after dead_after, that the dead node's late
 * results are refused, that a part another node claimed again is fenced
 * off from the node that lost it, and that a second start under the same
 * name takes the first one's parts at once. Two stores on one loop stand
 * for two nodes; the fake clock makes heartbeats old. */
#include "store/nodes.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <sys/socket.h>

#include "engine/engine_int.h"

#include "store_fixture.h"

typedef struct beat_got {
  int calls;
  int status;
  size_t n;
  uint64_t released;
  int64_t gap_ms;
  bool superseded;
  sg_store_node_t nodes[4];
  char names[4][72];
  char conns[4][64];
} beat_got_t;

static void beat_cb(sg_store_t *st, int status, const sg_store_beat_res_t *res,
                    void *data) {
  (void)st;
  beat_got_t *g = data;
  g->status = status;
  if (status == 0) {
    g->n = res->n;
    g->released = res->released;
    g->gap_ms = res->gap_ms;
    g->superseded = res->superseded;
    for (size_t i = 0; i < res->n && i < 4; i++) {
      g->nodes[i] = res->nodes[i];
      snprintf(g->names[i], sizeof g->names[i], "%s", res->nodes[i].name);
      snprintf(g->conns[i], sizeof g->conns[i], "%s", res->nodes[i].connectors);
      g->nodes[i].name = g->names[i];
      g->nodes[i].connectors = g->conns[i];
      g->nodes[i].version = g->nodes[i].address = NULL;
    }
  } else {
    assert_null(res);
  }
  g->calls++;
}

static void beat_after(ctx_t *c, sg_store_t *st, int64_t dead_after_ms,
                       beat_got_t *g) {
  memset(g, 0, sizeof *g);
  sg_store_beat_t b = {dead_after_ms, "op1", NULL};
  assert_int_equal(sg_store_node_beat(st, &b, beat_cb, g), 0);
  run_until(c, &g->calls, 1);
  assert_int_equal(g->status, 0);
}

static void beat(ctx_t *c, sg_store_t *st, const char *conns, beat_got_t *g) {
  memset(g, 0, sizeof *g);
  sg_store_beat_t b = {10000, conns, NULL};
  assert_int_equal(sg_store_node_beat(st, &b, beat_cb, g), 0);
  run_until(c, &g->calls, 1);
  assert_int_equal(g->status, 0);
}

static sg_store_t *open_node(ctx_t *c, const char *name) {
  sg_store_config_t cfg = test_config(c);
  cfg.node_name = name;
  cfg.node_version = "9.9";
  cfg.node_address = "127.0.0.1:1";
  sg_store_t *st = NULL;
  int rc = sg_store_open(&c->loop, &cfg, &st, c->err, sizeof c->err);
  if (rc != 0)
    fail_msg("open %s: %s (%s)", name, c->err, sg_err_name(rc));
  return st;
}

/* The second node of a test, closed by teardown_two even when the test
 * failed half-way. */
static sg_store_t *other;

static void close_node(ctx_t *c, sg_store_t *st) {
  int closed = 0;
  sg_store_close(st, on_closed, &closed);
  while (!closed)
    uv_run(&c->loop, UV_RUN_ONCE);
  if (st == other)
    other = NULL;
}

static int teardown_two(void **state) {
  if (other != NULL)
    close_node(*state, other);
  return teardown(state);
}

/* ---- one node (both backends) -------------------------------------------- */

static void epochs_grow_and_beats_list(void **state) {
  ctx_t *c = *state;
  c->st = open_node(c, "gw-a");
  int64_t e1 = sg_store_node_epoch(c->st);
  assert_true(e1 >= 1);
  assert_string_equal(sg_store_node_name(c->st), "gw-a");
  atomic_fetch_add(&fake_now, 1500);
  beat_got_t g;
  beat(c, c->st, "op1,op2", &g);
  assert_int_equal(g.n, 1);
  assert_false(g.superseded);
  assert_int_equal(g.released, 0);
  assert_string_equal(g.nodes[0].name, "gw-a");
  assert_int_equal(g.nodes[0].epoch, e1);
  assert_int_equal(g.nodes[0].started_ms, T0);
  assert_int_equal(g.nodes[0].heartbeat_ms, T0 + 1500);
  assert_int_equal(g.gap_ms, 1500); /* since the registration at open */
  assert_string_equal(g.nodes[0].connectors, "op1,op2");
  assert_true(g.nodes[0].alive);
  assert_int_equal(q1(c, "SELECT count(*) FROM nodes WHERE version = '9.9' "
                         "AND address = '127.0.0.1:1'"),
                   1);
  /* Parts claimed count as this node's leases. */
  tmsg_t m;
  tmsg_init(&m, "+4915100000001", 2, "op1");
  assert_int_equal(submit_wait(c, &m, 1, NULL, NULL), 0);
  claim_got_t cg;
  claim_wait(c, "op1", 10, &cg);
  assert_int_equal(cg.n, 2);
  beat(c, c->st, "op1", &g);
  assert_int_equal(g.nodes[0].leased_parts, 2);
  close_store(c);
  c->st = open_node(c, "gw-a");
  assert_true(sg_store_node_epoch(c->st) > e1);
  beat(c, c->st, "", &g);
  assert_int_equal(g.n, 1);
  assert_int_equal(g.nodes[0].epoch, sg_store_node_epoch(c->st));
}

static void without_a_node_name(void **state) {
  ctx_t *c = *state;
  open_store(c);
  assert_string_equal(sg_store_node_name(c->st), "");
  assert_int_equal(sg_store_node_epoch(c->st), 0);
  beat_got_t g = {0};
  sg_store_beat_t b = {10000, "", NULL};
  assert_int_equal(sg_store_node_beat(c->st, &b, beat_cb, &g), SG_EINVAL);
  close_store(c);
  c->st = open_node(c, "n");
  b.dead_after_ms = 0;
  assert_int_equal(sg_store_node_beat(c->st, &b, beat_cb, &g), SG_EINVAL);
  assert_int_equal(sg_store_node_beat(c->st, NULL, beat_cb, &g), SG_EINVAL);
  assert_int_equal(g.calls, 0);
  close_store(c);
  /* A name that is not a node name is refused, and nothing is opened. */
  sg_store_config_t cfg = test_config(c);
  cfg.node_name = "a b";
  sg_store_t *st = NULL;
  assert_int_equal(sg_store_open(&c->loop, &cfg, &st, c->err, sizeof c->err),
                   SG_EINVAL);
  assert_null(st);
  assert_non_null(strstr(c->err, "node name"));
}

/* ---- several nodes (PostgreSQL) ------------------------------------------ */

static sg_store_result_in_t sent(const sg_store_claimed_t *p, unsigned attempt,
                                 const char *id) {
  sg_store_result_in_t r = {.part_id = p->part_id,
                            .attempt = attempt,
                            .outcome = SG_STORE_SENT,
                            .smsc_id = id};
  return r;
}

static void result_on(ctx_t *c, sg_store_t *st, sg_store_result_in_t *r,
                      items_got_t *g) {
  sg_store_t *keep = c->st;
  c->st = st;
  results_wait(c, r, 1, g);
  c->st = keep;
}

static void claim_on(ctx_t *c, sg_store_t *st, claim_got_t *g) {
  sg_store_t *keep = c->st;
  c->st = st;
  claim_wait(c, "op1", 10, g);
  c->st = keep;
}

static void dead_node_parts_go_back(void **state) {
  ctx_t *c = *state;
  sg_store_t *a = other = open_node(c, "a");
  c->st = open_node(c, "b");
  char owner[96];
  snprintf(owner, sizeof owner, "a#%lld", (long long)sg_store_node_epoch(a));
  tmsg_t m[2];
  tmsg_init(&m[0], "+4915100000001", 1, "op1");
  tmsg_init(&m[1], "+4915100000002", 1, "op1");
  assert_int_equal(submit_wait(c, m, 2, NULL, NULL), 0);
  claim_got_t ca;
  claim_on(c, a, &ca);
  assert_int_equal(ca.n, 2);
  char sql[192];
  snprintf(sql, sizeof sql,
           "SELECT count(*) FROM parts WHERE status = 'sending' AND "
           "lease_owner = '%s'",
           owner);
  assert_int_equal(q1(c, sql), 2);
  /* a is alive: b's heartbeat gives nothing back. */
  beat_got_t g;
  beat(c, c->st, "op2", &g);
  assert_int_equal(g.released, 0);
  assert_int_equal(g.n, 2);
  assert_string_equal(g.nodes[0].name, "a");
  assert_true(g.nodes[0].alive);
  assert_int_equal(g.nodes[0].leased_parts, 2);
  assert_true(g.nodes[1].alive);
  /* Ten seconds on without a heartbeat of a: dead, its parts back. */
  atomic_fetch_add(&fake_now, 10001);
  beat(c, c->st, "op2", &g);
  assert_int_equal(g.released, 2);
  assert_false(g.nodes[0].alive);
  assert_int_equal(g.nodes[0].leased_parts, 0);
  assert_true(g.nodes[1].alive);
  assert_int_equal(q1(c, "SELECT count(*) FROM parts WHERE status = 'queued' "
                         "AND lease_owner IS NULL"),
                   2);
  /* Each part's event and its message's (sending -> queued). */
  assert_int_equal(q1(c, "SELECT count(*) FROM events WHERE detail = "
                         "'requeued: the node that was sending it is dead'"),
                   4);
  /* a comes back late with a result: refused, the part is not its own. */
  items_got_t ig;
  sg_store_result_in_t r = sent(&ca.parts[0], ca.parts[0].attempt, "late");
  result_on(c, a, &r, &ig);
  assert_int_equal(ig.items[0].status, SG_ESTATE);
  /* b takes them under a new attempt; a's result for that attempt is
   * fenced off (another owner), b's is written. */
  claim_got_t cb;
  claim_on(c, c->st, &cb);
  assert_int_equal(cb.n, 2);
  assert_int_equal(cb.parts[0].attempt, ca.parts[0].attempt + 1);
  r = sent(&cb.parts[0], cb.parts[0].attempt, "from-a");
  result_on(c, a, &r, &ig);
  assert_int_equal(ig.items[0].status, SG_ESTATE);
  r = sent(&cb.parts[0], cb.parts[0].attempt, "from-b");
  result_on(c, c->st, &r, &ig);
  assert_int_equal(ig.items[0].status, 0);
  assert_int_equal(ig.items[0].part_status, SG_MSG_SENT);
  assert_string_equal(q1s(c, "SELECT smsc_id FROM parts WHERE status = "
                             "'sent'"),
                      "from-b");
  /* a's heartbeat brings it back to life; it was not replaced. */
  beat(c, a, "op1", &g);
  assert_false(g.superseded);
  assert_true(g.nodes[0].alive);
  assert_int_equal(g.nodes[1].leased_parts, 1);
  close_node(c, a);
}

static void same_name_again_takes_over(void **state) {
  ctx_t *c = *state;
  c->st = open_node(c, "a"); /* the first process */
  tmsg_t m;
  tmsg_init(&m, "+4915100000003", 1, "op1");
  assert_int_equal(submit_wait(c, &m, 1, NULL, NULL), 0);
  claim_got_t co;
  claim_wait(c, "op1", 10, &co);
  assert_int_equal(co.n, 1);
  /* A second process under the same name: a newer epoch, and the parts of
   * the first one back in the queue at once, not when the lease ends. */
  sg_store_t *again = other = open_node(c, "a");
  assert_true(sg_store_node_epoch(again) > sg_store_node_epoch(c->st));
  assert_int_equal(q1(c, "SELECT count(*) FROM parts WHERE status = "
                         "'queued' AND lease_owner IS NULL"),
                   1);
  beat_got_t g;
  beat(c, c->st, "", &g);
  assert_true(g.superseded);
  assert_int_equal(g.n, 1);
  assert_int_equal(g.nodes[0].epoch, sg_store_node_epoch(again));
  claim_got_t cn;
  claim_on(c, again, &cn);
  assert_int_equal(cn.n, 1);
  assert_int_equal(cn.parts[0].attempt, co.parts[0].attempt + 1);
  /* The first process's result, even for the new attempt: fenced off. */
  items_got_t ig;
  sg_store_result_in_t r = sent(&cn.parts[0], cn.parts[0].attempt, "x");
  result_on(c, c->st, &r, &ig);
  assert_int_equal(ig.items[0].status, SG_ESTATE);
  result_on(c, again, &r, &ig);
  assert_int_equal(ig.items[0].status, 0);
  close_node(c, again);
}

/* The database (or every node's loop) stalls for 12 s, beyond dead_after
 * (10 s): the first node back allows the other its own lateness and takes
 * none of its parts; the other learns from its heartbeat that it came
 * late, beyond dead_after. Once on time again, a node that is really gone
 * loses its parts. */
static void late_heartbeats_are_not_death(void **state) {
  ctx_t *c = *state;
  sg_store_t *a = other = open_node(c, "a");
  c->st = open_node(c, "b");
  beat_got_t g;
  beat_after(c, a, 10000, &g);
  beat_after(c, c->st, 10000, &g);
  tmsg_t m[2];
  tmsg_init(&m[0], "+4915100000001", 1, "op1");
  tmsg_init(&m[1], "+4915100000002", 1, "op1");
  assert_int_equal(submit_wait(c, m, 2, NULL, NULL), 0);
  claim_got_t ca;
  claim_on(c, a, &ca);
  assert_int_equal(ca.n, 2);
  atomic_fetch_add(&fake_now, 12000);
  /* b's own heartbeat is 12 s old too: 10 s heartbeat 2 s. */
  beat_after(c, c->st, sg__nodes_dead_after(10000, 2000, 12000), &g);
  assert_int_equal(g.released, 0);
  assert_int_equal(g.gap_ms, 12000);
  assert_int_equal(g.n, 2);
  assert_true(g.nodes[0].alive);
  assert_int_equal(q1(c, "SELECT count(*) FROM parts WHERE status = "
                         "'sending'"),
                   2);
  /* a learns that it came late: the others may have taken its parts. */
  beat_after(c, a, sg__nodes_dead_after(10000, 2000, 12000), &g);
  assert_int_equal(g.gap_ms, 12000);
  assert_true(g.gap_ms > 10000);
  assert_int_equal(g.released, 0);
  /* On time, a's heartbeat is a heartbeat old. */
  atomic_fetch_add(&fake_now, 2000);
  beat_after(c, a, 10000, &g);
  assert_int_equal(g.gap_ms, 2000);
  /* a is gone: 11 s later b, whose own heartbeat is on time (written 2 s
   * before), gives its parts back. */
  atomic_fetch_add(&fake_now, 9000);
  beat_after(c, c->st, 10000, &g);
  atomic_fetch_add(&fake_now, 2000);
  beat_after(c, c->st, sg__nodes_dead_after(10000, 2000, 2000), &g);
  assert_int_equal(g.released, 2);
  assert_false(g.nodes[0].alive);
}

/* Makes the next `times` inserts of a message to +4915199999999 fail as a
 * deadlock with another node's writer would (SQLSTATE 40P01). */
static void deadlocks_ahead(ctx_t *c, int times) {
  char sql[1024];
  snprintf(sql, sizeof sql,
           "SET client_min_messages = warning; "
           "CREATE SEQUENCE IF NOT EXISTS race_n; "
           "CREATE OR REPLACE FUNCTION race() RETURNS trigger LANGUAGE "
           "plpgsql AS $f$ BEGIN IF NEW.recipient = '+4915199999999' AND "
           "nextval('race_n') <= %d THEN RAISE EXCEPTION 'deadlock (test)' "
           "USING ERRCODE = '40P01'; END IF; RETURN NEW; END $f$; "
           "DROP TRIGGER IF EXISTS race ON messages; "
           "CREATE TRIGGER race BEFORE INSERT ON messages FOR EACH ROW "
           "EXECUTE FUNCTION race(); SELECT setval('race_n', 1, false)",
           times);
  raw_exec(c, sql);
}

/* Two submits that the writer takes as one group (it waits 300 ms for
 * more); the second one's insert loses a race `times` times. */
static void two_submits(ctx_t *c, got_t g[2]) {
  tmsg_t m[2];
  tmsg_init(&m[0], "+4915100000001", 1, "op1");
  tmsg_init(&m[1], "+4915199999999", 1, "op1");
  memset(g, 0, 2 * sizeof *g);
  for (int i = 0; i < 2; i++) {
    sg_store_batch_t b = {0};
    sg_id_new(b.batch_id);
    b.account_id = 1;
    b.msgs = &m[i].m;
    b.n_msgs = 1;
    assert_int_equal(sg_store_submit(c->st, &b, submit_cb, &g[i]), 0);
  }
  run_until(c, &g[0].calls, 1);
  run_until(c, &g[1].calls, 1);
}

/* A group whose transaction deadlocks with another node's writer runs
 * again, whole, and commits; one that still loses at its last try fails
 * every request in it with SG_EIO and writes nothing. */
static void lost_race_runs_the_group_again(void **state) {
  ctx_t *c = *state;
  sg_store_config_t cfg = test_config(c);
  cfg.node_name = "a";
  cfg.max_wait_us = 300000;
  if (open_with(c, &cfg) != 0)
    fail_msg("open: %s", c->err);
  deadlocks_ahead(c, 2);
  got_t g[2];
  two_submits(c, g);
  assert_int_equal(g[0].status, 0);
  assert_int_equal(g[1].status, 0);
  assert_int_equal(q1(c, "SELECT count(*) FROM messages"), 2);
  assert_int_equal(q1(c, "SELECT count(*) FROM parts"), 2);
  sg_store_stats_t s;
  sg_store_get_stats(c->st, &s);
  assert_int_equal(s.lost_races, 2);
  assert_int_equal(s.races_lost_for_good, 0);
  assert_int_equal(s.max_group, 2); /* one group, run three times */
  /* Always losing: bounded, and nothing of the group is written. */
  deadlocks_ahead(c, 1000);
  two_submits(c, g);
  assert_int_equal(g[0].status, SG_EIO);
  assert_int_equal(g[1].status, SG_EIO);
  assert_int_equal(q1(c, "SELECT count(*) FROM messages"), 2);
  assert_int_equal(q1(c, "SELECT count(*) FROM parts"), 2);
  sg_store_get_stats(c->st, &s);
  assert_int_equal(s.lost_races, 2 + 5); /* six tries in all */
  assert_int_equal(s.races_lost_for_good, 1);
  assert_int_equal(q1(c, "SELECT last_value FROM race_n"), 6);
  /* The store goes on: a later submit commits. */
  deadlocks_ahead(c, 0);
  two_submits(c, g);
  assert_int_equal(g[0].status, 0);
  assert_int_equal(g[1].status, 0);
  assert_int_equal(q1(c, "SELECT count(*) FROM messages"), 4);
}

/* The rows of traffic_minutes a transaction of the writer changes are
 * taken at its end, in key order: a transaction that inserts a message
 * (this minute) and then records the result of an older one (two minutes
 * ago) takes the older minute's row first. Another node's writer holding
 * the older minute and then asking for this one waits for it, and neither
 * deadlocks (they did when rows were taken as the messages changed). */
static void traffic_rows_in_key_order(void **state) {
  ctx_t *c = *state;
  sg_store_config_t cfg = test_config(c);
  cfg.node_name = "a";
  cfg.max_wait_us = 100000;
  if (open_with(c, &cfg) != 0)
    fail_msg("open: %s", c->err);
  tmsg_t old;
  tmsg_init(&old, "+4915100000001", 1, "op1");
  assert_int_equal(submit_wait(c, &old, 1, NULL, NULL), 0);
  claim_got_t cg;
  claim_wait(c, "op1", 10, &cg);
  assert_int_equal(cg.n, 1);
  atomic_fetch_add(&fake_now, 120000);
  long long m_old = T0 / 60000, m_now = m_old + 2;
  /* The other writer holds the older minute. */
  PGconn *pc = PQconnectdb(c->url);
  assert_int_equal(PQstatus(pc), CONNECTION_OK);
  PQsetNoticeProcessor(pc, pg_quiet, NULL);
  char sql[256];
  snprintf(sql, sizeof sql,
           "BEGIN; SET deadlock_timeout = '200ms'; SELECT 1 FROM "
           "traffic_minutes WHERE account_id = 1 AND minute = %lld FOR UPDATE",
           m_old);
  PGresult *res = PQexec(pc, sql);
  assert_int_equal(PQresultStatus(res), PGRES_TUPLES_OK);
  assert_int_equal(PQntuples(res), 1);
  PQclear(res);
  /* One group: a new message, then the older one's result. */
  tmsg_t now;
  tmsg_init(&now, "+4915100000002", 1, "op1");
  sg_store_batch_t b = {0};
  sg_id_new(b.batch_id);
  b.account_id = 1;
  b.msgs = &now.m;
  b.n_msgs = 1;
  got_t sg = {0};
  assert_int_equal(sg_store_submit(c->st, &b, submit_cb, &sg), 0);
  sg_store_result_in_t r = sent(&cg.parts[0], cg.parts[0].attempt, "x1");
  items_got_t ig = {0};
  assert_int_equal(sg_store_record_results(c->st, &r, 1, items_cb, &ig), 0);
  uv_sleep(700); /* the writer now waits for the older minute */
  /* The other writer asks for this minute's row: it is free. */
  snprintf(sql, sizeof sql,
           "INSERT INTO traffic_minutes AS t (account_id, minute, inbound) "
           "VALUES (1, %lld, 1) ON CONFLICT (account_id, minute) DO UPDATE "
           "SET inbound = t.inbound + 1",
           m_now);
  res = PQexec(pc, sql);
  ExecStatusType st = PQresultStatus(res);
  if (st != PGRES_COMMAND_OK)
    fail_msg("the other writer: %s", PQresultErrorMessage(res));
  PQclear(res);
  res = PQexec(pc, "COMMIT");
  assert_int_equal(PQresultStatus(res), PGRES_COMMAND_OK);
  PQclear(res);
  PQfinish(pc);
  run_until(c, &sg.calls, 1);
  run_until(c, &ig.calls, 1);
  assert_int_equal(sg.status, 0);
  assert_int_equal(ig.status, 0);
  sg_store_stats_t stats;
  sg_store_get_stats(c->st, &stats);
  assert_int_equal(stats.max_group, 2);
  assert_int_equal(stats.lost_races, 0);
  /* And the counts are right. */
  snprintf(sql, sizeof sql,
           "SELECT submitted * 1000 + queued * 100 + sent * 10 + inbound FROM "
           "traffic_minutes WHERE account_id = 1 AND minute = %lld",
           m_old);
  assert_int_equal(q1(c, sql), 1010);
  snprintf(sql, sizeof sql,
           "SELECT submitted * 1000 + queued * 100 + sent * 10 + inbound FROM "
           "traffic_minutes WHERE account_id = 1 AND minute = %lld",
           m_now);
  assert_int_equal(q1(c, sql), 1101);
}

/* ---- a proxy that cuts a session right after its COMMIT's answer ------- */

/* Between the store and PostgreSQL: forwards every connection both ways
 * and, once armed, ends the session whose server says "COMMIT" just after
 * passing that answer on, before the server's next message (as a fast
 * shutdown of the server may do). */
typedef struct proxy {
  int lfd, port;
  struct sockaddr_in pg;
  _Atomic int armed, cuts, stop;
  pthread_t tid;
} proxy_t;

typedef struct pair {
  int cfd, sfd;
  unsigned char hdr[5];
  unsigned hdr_have;
  uint32_t left;
  char tag[8];
  unsigned tag_have;
} pair_t;

static bool write_all(int fd, const unsigned char *b, size_t n) {
  while (n > 0) {
    ssize_t w = write(fd, b, n);
    if (w <= 0)
      return false;
    b += w, n -= (size_t)w;
  }
  return true;
}

/* Passes the server's bytes on; true when the session was cut. */
static bool from_server(proxy_t *px, pair_t *p, const unsigned char *b,
                        size_t n) {
  size_t i = 0;
  while (i < n) {
    if (p->hdr_have < 5) {
      p->hdr[p->hdr_have++] = b[i++];
      if (p->hdr_have == 5) {
        uint32_t len;
        memcpy(&len, p->hdr + 1, 4);
        p->left = ntohl(len) - 4;
        p->tag_have = 0;
      }
    } else {
      size_t k = n - i < p->left ? n - i : p->left;
      for (size_t j = 0; j < k && p->tag_have < sizeof p->tag; j++)
        p->tag[p->tag_have++] = (char)b[i + j];
      i += k;
      p->left -= (uint32_t)k;
    }
    if (p->hdr_have == 5 && p->left == 0) {
      p->hdr_have = 0;
      if (p->hdr[0] == 'C' && p->tag_have >= 7 &&
          memcmp(p->tag, "COMMIT", 7) == 0 && atomic_load(&px->armed)) {
        atomic_store(&px->armed, 0);
        atomic_fetch_add(&px->cuts, 1);
        write_all(p->cfd, b, i);
        shutdown(p->cfd, SHUT_RDWR);
        close(p->cfd);
        close(p->sfd);
        return true;
      }
    }
  }
  write_all(p->cfd, b, n);
  return false;
}

static void *proxy_main(void *arg) {
  proxy_t *px = arg;
  pair_t pairs[16];
  size_t np = 0;
  while (!atomic_load(&px->stop)) {
    struct pollfd fds[33];
    fds[0] = (struct pollfd){.fd = px->lfd, .events = POLLIN};
    for (size_t k = 0; k < np; k++) {
      fds[1 + 2 * k] = (struct pollfd){.fd = pairs[k].cfd, .events = POLLIN};
      fds[2 + 2 * k] = (struct pollfd){.fd = pairs[k].sfd, .events = POLLIN};
    }
    if (poll(fds, 1 + 2 * np, 50) <= 0)
      continue;
    if ((fds[0].revents & POLLIN) && np < 16) {
      int cfd = accept(px->lfd, NULL, NULL);
      int sfd = socket(AF_INET, SOCK_STREAM, 0);
      if (cfd >= 0 && sfd >= 0 &&
          connect(sfd, (struct sockaddr *)&px->pg, sizeof px->pg) == 0) {
        memset(&pairs[np], 0, sizeof pairs[np]);
        pairs[np].cfd = cfd;
        pairs[np++].sfd = sfd;
      } else {
        if (cfd >= 0)
          close(cfd);
        if (sfd >= 0)
          close(sfd);
      }
      continue; /* fds[] no longer matches pairs[] */
    }
    for (size_t k = 0; k < np; k++) {
      unsigned char b[65536];
      bool gone = false;
      if (fds[1 + 2 * k].revents & (POLLIN | POLLHUP | POLLERR)) {
        ssize_t r = read(pairs[k].cfd, b, sizeof b);
        gone = r <= 0 || !write_all(pairs[k].sfd, b, (size_t)r);
      }
      if (!gone && (fds[2 + 2 * k].revents & (POLLIN | POLLHUP | POLLERR))) {
        ssize_t r = read(pairs[k].sfd, b, sizeof b);
        if (r <= 0)
          gone = true;
        else if (from_server(px, &pairs[k], b, (size_t)r)) {
          pairs[k] = pairs[--np];
          break;
        }
      }
      if (gone) {
        close(pairs[k].cfd);
        close(pairs[k].sfd);
        pairs[k] = pairs[--np];
        break;
      }
    }
  }
  for (size_t k = 0; k < np; k++) {
    close(pairs[k].cfd);
    close(pairs[k].sfd);
  }
  return NULL;
}

/* Starts a proxy to the test's server; *url gets the test's database
 * through it. */
static void proxy_start(proxy_t *px, const ctx_t *c, char *url, size_t len) {
  memset(px, 0, sizeof *px);
  const char *at = strchr(strstr(c->url, "://") + 3, '@');
  assert_non_null(at);
  const char *colon = strchr(at, ':');
  assert_non_null(colon);
  px->pg.sin_family = AF_INET;
  px->pg.sin_port = htons((uint16_t)atoi(colon + 1));
  char host[64];
  snprintf(host, sizeof host, "%.*s", (int)(colon - at - 1), at + 1);
  assert_int_equal(inet_pton(AF_INET, host, &px->pg.sin_addr), 1);
  px->lfd = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in a = {.sin_family = AF_INET};
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t al = sizeof a;
  assert_int_equal(bind(px->lfd, (struct sockaddr *)&a, sizeof a), 0);
  assert_int_equal(listen(px->lfd, 16), 0);
  assert_int_equal(getsockname(px->lfd, (struct sockaddr *)&a, &al), 0);
  px->port = ntohs(a.sin_port);
  snprintf(url, len, "%.*s127.0.0.1:%d%s?sslmode=disable&gssencmode=disable",
           (int)(at + 1 - c->url), c->url, px->port, strchr(colon, '/'));
  assert_int_equal(pthread_create(&px->tid, NULL, proxy_main, px), 0);
}

static void proxy_stop(proxy_t *px) {
  atomic_store(&px->stop, 1);
  pthread_join(px->tid, NULL);
  close(px->lfd);
}

/* The server answers a claim's COMMIT and the session ends before the
 * sync's answer: the claim is committed, and the node gets its parts
 * (it used to be told SG_EIO while the parts stayed leased to it until
 * the lease ran out). The store then reconnects for the next write. */
static void commit_answered_then_cut(void **state) {
  ctx_t *c = *state;
  proxy_t px;
  char url[512];
  proxy_start(&px, c, url, sizeof url);
  sg_store_config_t cfg = test_config(c);
  cfg.url = url;
  cfg.node_name = "a";
  if (open_with(c, &cfg) != 0) {
    proxy_stop(&px);
    fail_msg("open: %s", c->err);
  }
  tmsg_t m;
  tmsg_init(&m, "+4915100000001", 2, "op1");
  assert_int_equal(submit_wait(c, &m, 1, NULL, NULL), 0);
  atomic_store(&px.armed, 1);
  claim_got_t cg;
  memset(&cg, 0, sizeof cg);
  assert_int_equal(sg_store_claim(c->st, "op1", 10, 60000, claim_cb, &cg), 0);
  run_until(c, &cg.calls, 1);
  int cuts = atomic_load(&px.cuts);
  assert_int_equal(cuts, 1);
  assert_int_equal(cg.status, 0);
  assert_int_equal(cg.n, 2);
  assert_int_equal(q1(c, "SELECT count(*) FROM parts WHERE status = "
                         "'sending' AND lease_owner LIKE 'a#%'"),
                   2);
  /* The next write goes through a new session. */
  tmsg_t m2;
  tmsg_init(&m2, "+4915100000002", 1, "op1");
  assert_int_equal(submit_wait(c, &m2, 1, NULL, NULL), 0);
  assert_int_equal(q1(c, "SELECT count(*) FROM messages"), 2);
  close_store(c);
  proxy_stop(&px);
}

int main(void) {
  const struct CMUnitTest both[] = {
      cmocka_unit_test_setup_teardown(epochs_grow_and_beats_list, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(without_a_node_name, setup, teardown),
  };
  const struct CMUnitTest pg[] = {
      cmocka_unit_test_setup_teardown(epochs_grow_and_beats_list, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(without_a_node_name, setup, teardown),
      cmocka_unit_test_setup_teardown(dead_node_parts_go_back, setup,
                                      teardown_two),
      cmocka_unit_test_setup_teardown(same_name_again_takes_over, setup,
                                      teardown_two),
      cmocka_unit_test_setup_teardown(late_heartbeats_are_not_death, setup,
                                      teardown_two),
      cmocka_unit_test_setup_teardown(lost_race_runs_the_group_again, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(traffic_rows_in_key_order, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(commit_answered_then_cut, setup,
                                      teardown),
  };
  if (pg_server() != NULL)
    return cmocka_run_group_tests(pg, NULL, NULL);
  return cmocka_run_group_tests(both, NULL, NULL);
}
