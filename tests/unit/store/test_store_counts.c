/* test_store_counts.c - the counts of /metrics (sg_store_counts: messages
 * by the status reads show, parts by status, inbound messages) are what a
 * GROUP BY of the tables gives, after every kind of change: submits
 * (queued, scheduled, several parts), a cancel, claims, results of every
 * outcome, receipts, an expiry, a scheduled release, a lease that ran out,
 * an operator's retry and purge, a pre-split message and its missing part,
 * an inbound message, a campaign's cancel, a commit the disk fails, a request
 * undone by its group's rerun, a write by another connection to the file, and a
 * restart. The SQLite store keeps them in the writer's memory
 * (sqlite_counts.c); the PostgreSQL store counts its tables (postgres_read.c),
 * under a statement timeout.
 */
#include "store_fixture.h"
#include "store/campaigns.h"
#include "store/sqlite.h"
#include "store/store_ops.h"

/* A message's status as reads show it (a one-part message whose row says
 * 'queued' takes its part's 'sending', 'sent' or final status other than
 * 'canceled'). */
#define SHOWN                                                                  \
  "(CASE WHEN m.status = 'queued' AND m.parts_total = 1 THEN "                 \
  "coalesce((SELECT "                                                          \
  "p.status FROM parts p WHERE p.message_id = m.id AND p.seq = 1 AND "         \
  "p.status NOT IN ('queued', 'scheduled', 'canceled')), 'queued') ELSE "      \
  "m.status END)"

/* The store's counts equal the tables' at this point (step names it). */
static void check(ctx_t *c, const char *step) {
  counts_got_t g = {0};
  assert_int_equal(sg_store_counts(c->st, counts_cb, &g), 0);
  run_until(c, &g.calls, 1);
  assert_int_equal(g.status, 0);
  long long total_m = 0, total_p = 0;
  for (int i = 1; i < SG_MSG_STATUS_COUNT; i++) {
    const char *name = sg_store_status_name((sg_msg_status_t)i);
    char sql[512];
    snprintf(sql, sizeof sql,
             "SELECT count(*) FROM messages m WHERE " SHOWN " = '%s'", name);
    long long m = q1(c, sql);
    snprintf(sql, sizeof sql, "SELECT count(*) FROM parts WHERE status = '%s'",
             name);
    long long p = q1(c, sql);
    if ((long long)g.k.messages[i] != m || (long long)g.k.parts[i] != p)
      fail_msg("%s: %s: messages %llu (table %lld), parts %llu (table %lld)",
               step, name, (unsigned long long)g.k.messages[i], m,
               (unsigned long long)g.k.parts[i], p);
    total_m += m;
    total_p += p;
  }
  assert_int_equal(total_m, q1(c, "SELECT count(*) FROM messages"));
  assert_int_equal(total_p, q1(c, "SELECT count(*) FROM parts"));
  if ((long long)g.k.inbound != q1(c, "SELECT count(*) FROM inbound"))
    fail_msg("%s: inbound %llu (table %lld)", step,
             (unsigned long long)g.k.inbound,
             q1(c, "SELECT count(*) FROM inbound"));
}

static void result(ctx_t *c, const sg_store_claimed_t *p,
                   sg_store_outcome_t outcome, const char *smsc_id,
                   sg_msg_status_t final) {
  sg_store_result_in_t r = {.part_id = p->part_id,
                            .attempt = p->attempt,
                            .outcome = outcome,
                            .smsc_id = smsc_id,
                            .final_status = final,
                            .detail = "test"};
  items_got_t ig;
  results_wait(c, &r, 1, &ig);
  assert_int_equal(ig.items[0].status, 0);
}

static void receipt(ctx_t *c, const char *smsc_id, sg_msg_status_t status) {
  sg_store_receipt_in_t x = {
      .connector = "smsc-a", .smsc_id = smsc_id, .status = status};
  items_got_t ig;
  receipts_wait(c, &x, 1, &ig);
  assert_int_equal(ig.items[0].status, 0);
}

/* The claimed part of message mid, seq. */
static const sg_store_claimed_t *part_of(const claim_got_t *g, const char *mid,
                                         unsigned seq) {
  for (size_t i = 0; i < g->n; i++)
    if (strcmp(g->parts[i].message_id, mid) == 0 && g->parts[i].seq == seq)
      return &g->parts[i];
  fail_msg("part %s/%u not claimed", mid, seq);
  return NULL;
}

typedef struct ops_got {
  int calls, status;
} ops_got_t;

static void retry_cb(sg_store_t *st, int status,
                     const sg_store_retry_res_t *res, void *data) {
  (void)st, (void)res;
  ops_got_t *g = data;
  g->status = status;
  g->calls++;
}

static void purge_cb(sg_store_t *st, int status,
                     const sg_store_purge_res_t *res, void *data) {
  (void)st, (void)res;
  ops_got_t *g = data;
  g->status = status;
  g->calls++;
}

static void id_cb(sg_store_t *st, int status, int64_t id, void *data) {
  (void)st, (void)id;
  ops_got_t *g = data;
  g->status = status;
  g->calls++;
}

static void presplit_cb(sg_store_t *st, int status,
                        const sg_store_presplit_res_t *res, void *data) {
  (void)st, (void)res;
  ops_got_t *g = data;
  g->status = status;
  g->calls++;
}

static void maint_cb(sg_store_t *st, int status, const sg_store_maint_res_t *r,
                     void *data) {
  (void)st, (void)r;
  ops_got_t *g = data;
  g->status = status;
  g->calls++;
}

static void cancel(ctx_t *c, const char *mid) {
  items_got_t g = {0};
  assert_int_equal(sg_store_cancel(c->st, mid, 0, items_cb, &g), 0);
  run_until(c, &g.calls, 1);
  assert_int_equal(g.status, 0);
  assert_int_equal(g.items[0].status, 0);
}

/* Submits, cancels, claims, results and receipts. */
static void a_life(ctx_t *c, tmsg_t *m) {
  tmsg_init(&m[0], "+14155550101", 1, "smsc-a");
  tmsg_init(&m[1], "+14155550102", 2, "smsc-a");
  tmsg_init(&m[2], "+14155550103", 1, "smsc-a");
  m[2].m.validity_ms = T0 + 1000; /* runs out before the claim */
  tmsg_init(&m[3], "+14155550104", 1, "smsc-a");
  m[3].m.send_at_ms = T0 + 60000;
  tmsg_init(&m[4], "+14155550105", 3, "smsc-a");
  m[4].m.send_at_ms = T0 + 60000;
  tmsg_init(&m[5], "+14155550106", 1, "smsc-a");
  assert_int_equal(submit_wait(c, m, 6, NULL, NULL), 0);
  check(c, "submit");
  cancel(c, m[5].m.id);
  check(c, "cancel");
  cancel(c, m[4].m.id); /* scheduled, three parts */
  check(c, "cancel scheduled");

  atomic_store(&fake_now, T0 + 5000);
  claim_got_t cg;
  claim_wait(c, "smsc-a", 16, &cg);
  assert_int_equal(cg.n, 3); /* m0, m1's two; m2 expired */
  assert_int_equal(cg.expired, 1);
  check(c, "claim and expiry");
  result(c, part_of(&cg, m[0].m.id, 1), SG_STORE_SENT, "s0", SG_MSG_NONE);
  check(c, "sent (one part)");
  result(c, part_of(&cg, m[1].m.id, 1), SG_STORE_SENT, "s1", SG_MSG_NONE);
  result(c, part_of(&cg, m[1].m.id, 2), SG_STORE_RETRY, NULL, SG_MSG_NONE);
  check(c, "sent and retry");
  receipt(c, "s0", SG_MSG_DELIVERED);
  check(c, "delivered");
  receipt(c, "s1", SG_MSG_SENT); /* en route: no change */
  check(c, "en route");

  claim_wait(c, "smsc-a", 16, &cg);
  assert_int_equal(cg.n, 1);
  result(c, &cg.parts[0], SG_STORE_FAILED, NULL, SG_MSG_REJECTED);
  check(c, "rejected");
  receipt(c, "s1", SG_MSG_UNDELIVERABLE);
  check(c, "undeliverable");
}

/* An operator's retry, a scheduled release, a lease that ran out, a
 * purge, a message that fails at once. */
static void ops_life(ctx_t *c, tmsg_t *m) {
  ops_got_t og = {0};
  assert_int_equal(
      sg_store_message_retry(c->st, m[1].m.id, "again", retry_cb, &og), 0);
  run_until(c, &og.calls, 1);
  assert_int_equal(og.status, 0);
  check(c, "retry");

  atomic_store(&fake_now, T0 + 70000);
  claim_got_t cg;
  claim_wait(c, "smsc-a", 1, &cg); /* releases m3, claims one part */
  assert_int_equal(cg.released, 1);
  assert_int_equal(cg.n, 1);
  check(c, "release and claim");
  atomic_store(&fake_now, T0 + 140000); /* the 60 s lease ran out */
  claim_wait(c, "smsc-a", 1, &cg);
  assert_int_equal(cg.requeued, 1);
  check(c, "requeue");
  result(c, &cg.parts[0], SG_STORE_FAILED, NULL, SG_MSG_FAILED);
  check(c, "failed");

  memset(&og, 0, sizeof og);
  assert_int_equal(
      sg_store_queue_purge(c->st, "smsc-a", "outage", 100, purge_cb, &og), 0);
  run_until(c, &og.calls, 1);
  assert_int_equal(og.status, 0);
  check(c, "purge");
}

/* A pre-split message, its missing part, an inbound message. */
static void more_life(ctx_t *c) {
  tmsg_t p;
  tmsg_init(&p, "+14155550107", 1, "smsc-a");
  sg_store_msg_in_t in = p.m;
  sg_store_batch_t b = {.account_id = 1, .msgs = &in, .n_msgs = 1};
  sg_id_new(b.batch_id);
  sg_store_presplit_t ps = {.ref = 7, .total = 2, .seq = 1, .wait_ms = 1000};
  ops_got_t og = {0};
  assert_int_equal(sg_store_presplit_add(c->st, &b, &ps, presplit_cb, &og), 0);
  run_until(c, &og.calls, 1);
  assert_int_equal(og.status, 0);
  check(c, "pre-split part");
  atomic_store(&fake_now, T0 + 150000);
  memset(&og, 0, sizeof og);
  assert_int_equal(sg_store_maintain(c->st, maint_cb, &og), 0);
  run_until(c, &og.calls, 1);
  assert_int_equal(og.status, 0);
  check(c, "pre-split wait ended");

  sg_store_inbound_t mo = {.connector = "smsc-a",
                           .sender = "+14155550199",
                           .recipient = "12345",
                           .encoding = SG_ENC_GSM7,
                           .body = (const uint8_t *)"hi",
                           .body_len = 2,
                           .parts = 1};
  sg_id_new(mo.id);
  memset(&og, 0, sizeof og);
  assert_int_equal(sg_store_inbound_insert(c->st, &mo, NULL, id_cb, &og), 0);
  run_until(c, &og.calls, 1);
  assert_int_equal(og.status, 0);
  check(c, "inbound");
}

static void campres_cb(sg_store_t *st, int status,
                       const sg_store_campres_t *res, void *data) {
  (void)st, (void)res;
  ops_got_t *g = data;
  g->status = status;
  g->calls++;
}

/* A campaign's cancel step: its messages' queued and scheduled parts. */
static void campaign_cancel(ctx_t *c) {
  char id[SG_ID_LEN + 1], sql[256];
  sg_id_new(id);
  snprintf(sql, sizeof sql,
           "INSERT INTO campaigns (id, account_id, name, status, body, "
           "created_ms, updated_ms) VALUES ('%s', 1, 'n', 'running', 'x', "
           "0, 0)",
           id);
  raw_exec(c, sql);
  tmsg_t m[2];
  tmsg_init(&m[0], "+14155550131", 3, "smsc-a");
  m[0].m.send_at_ms = atomic_load(&fake_now) + 60000;
  tmsg_init(&m[1], "+14155550132", 1, "smsc-a");
  sg_store_batch_t proto = {0};
  memcpy(proto.batch_id, id, sizeof proto.batch_id);
  assert_int_equal(submit_wait(c, m, 2, &proto, NULL), 0);
  check(c, "a campaign's messages");
  sg_store_campop_t op = {
      .kind = SG_STORE_CAMPAIGN_CANCEL_STEP, .id = id, .limit = 10};
  ops_got_t og = {0};
  assert_int_equal(sg_store_campaigns(c->st, &op, campres_cb, &og), 0);
  run_until(c, &og.calls, 1);
  assert_int_equal(og.status, 0);
  check(c, "a campaign's cancel");
}

static void counts_follow_every_change(void **state) {
  ctx_t *c = *state;
  sg_store_config_t cfg = test_config(c);
  cfg.fault_injection = c->url[0] == '\0';
  assert_int_equal(open_with(c, &cfg), 0);
  check(c, "empty");
  tmsg_t m[6];
  a_life(c, m);
  ops_life(c, m);
  more_life(c);
  campaign_cancel(c);
}

/* What is not committed is not counted: a commit the disk fails, and a
 * request that failed after writing (its group runs again without it). */
static void rollbacks_count_nothing(void **state) {
  ctx_t *c = *state;
  if (c->url[0] != '\0')
    skip(); /* the fault injection is SQLite's */
  sg_store_config_t cfg = test_config(c);
  cfg.fault_injection = true;
  assert_int_equal(open_with(c, &cfg), 0);
  tmsg_t m[3];
  tmsg_init(&m[0], "+14155550111", 1, "smsc-a");
  tmsg_init(&m[1], "+14155550112", 2, "smsc-a");
  assert_int_equal(submit_wait(c, m, 2, NULL, NULL), 0);
  check(c, "submit");

  assert_int_equal(sg_store_sqlite_fail_next(c->st, 1, false), 0);
  tmsg_init(&m[2], "+14155550113", 2, "smsc-a");
  assert_int_equal(submit_wait(c, &m[2], 1, NULL, NULL), SG_EIO);
  check(c, "failed commit");

  /* The second message has the first's id: the first was written, and
   * is undone. */
  tmsg_t dup[2];
  tmsg_init(&dup[0], "+14155550114", 1, "smsc-a");
  tmsg_init(&dup[1], "+14155550115", 1, "smsc-a");
  memcpy(dup[1].m.id, m[0].m.id, sizeof dup[1].m.id);
  assert_int_equal(submit_wait(c, dup, 2, NULL, NULL), SG_EEXIST);
  check(c, "request undone");

  atomic_store(&fake_now, T0 + 5000);
  assert_int_equal(sg_store_sqlite_fail_next(c->st, 1, false), 0);
  claim_got_t cg;
  memset(&cg, 0, sizeof cg);
  assert_int_equal(sg_store_claim(c->st, "smsc-a", 4, 60000, claim_cb, &cg), 0);
  run_until(c, &cg.calls, 1);
  assert_int_equal(cg.status, SG_EIO);
  check(c, "failed claim");
  claim_wait(c, "smsc-a", 4, &cg);
  assert_int_equal(cg.n, 3);
  check(c, "claim");
}

/* Another connection's writes to the file (the CLI's, another process's)
 * are counted from the next write transaction on, and a restart counts
 * from the tables. */
static void other_writers_and_restart(void **state) {
  ctx_t *c = *state;
  if (c->url[0] != '\0')
    skip(); /* PostgreSQL counts its tables */
  open_store(c);
  tmsg_t m[3];
  tmsg_init(&m[0], "+14155550121", 1, "smsc-a");
  tmsg_init(&m[1], "+14155550122", 2, "smsc-a");
  tmsg_init(&m[2], "+14155550123", 1, "smsc-b");
  assert_int_equal(submit_wait(c, m, 3, NULL, NULL), 0);
  check(c, "submit");

  char sql[512];
  snprintf(sql, sizeof sql,
           "UPDATE parts SET status = 'failed' WHERE message_id = '%s'; "
           "UPDATE messages SET status = 'failed' WHERE id = '%s'; "
           "INSERT INTO inbound (id, connector, sender, recipient, encoding, "
           "is_binary, body, parts, received_ms, created_ms) SELECT "
           "'01ARZ3NDEKTSV4RRFFQ69G5FAV', 'x', '1', '2', 0, 0, x'', 1, 0, 0",
           m[1].m.id, m[1].m.id);
  raw_exec(c, sql);
  claim_got_t cg; /* any write transaction */
  claim_wait(c, "smsc-b", 4, &cg);
  assert_int_equal(cg.n, 1);
  check(c, "after another connection's writes");

  close_store(c);
  snprintf(sql, sizeof sql,
           "UPDATE parts SET status = 'delivered' WHERE message_id = '%s'",
           m[0].m.id);
  raw_exec(c, sql);
  raw_exec(c, "UPDATE messages SET status = 'delivered' WHERE parts_total = 1 "
              "AND recipient = '+14155550121'");
  open_store(c);
  check(c, "restart"); /* and the part left 'sending' is queued again */
}

/* The counts cost nothing that grows with the tables: on a file of 200,000
 * messages, the tables are read once, when the store opens, and neither a
 * hundred counts nor the writes between them read them again (with the
 * GROUP BY every count scanned both tables). */
static void counts_do_not_scan(void **state) {
  ctx_t *c = *state;
  if (c->url[0] != '\0')
    skip(); /* PostgreSQL counts its tables */
  open_store(c);
  close_store(c);
  raw_exec(c,
           "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n "
           "WHERE i < 200000) INSERT INTO messages (id, batch_id, account_id, "
           "sender, recipient, encoding, is_binary, body, priority, "
           "dlr_wanted, status, parts_total, created_ms, updated_ms) SELECT "
           "printf('01ARZ3NDEKTSV4RR%010d', i), 'b', 1, 'S', '+1415555', 0, "
           "0, x'41', 0, 0, CASE i % 3 WHEN 0 THEN 'delivered' ELSE 'queued' "
           "END, 1, 0, 0 FROM n; INSERT INTO parts (message_id, seq, "
           "connector, encoding, ud, status, updated_ms) SELECT id, 1, "
           "'smsc-a', 0, x'41', CASE status WHEN 'queued' THEN 'sent' ELSE "
           "status END, 0 FROM messages");
  open_store(c);
  check(c, "200,000 messages");
  long loads = sg_store_sqlite_counts_loads(c->st);
  assert_true(loads >= 1);
  for (int i = 0; i < 100; i++) {
    counts_got_t g = {0};
    assert_int_equal(sg_store_counts(c->st, counts_cb, &g), 0);
    run_until(c, &g.calls, 1);
    assert_int_equal(g.status, 0);
    assert_int_equal(g.k.messages[SG_MSG_SENT], 133334);
  }
  tmsg_t m;
  tmsg_init(&m, "+14155550199", 1, "smsc-a");
  assert_int_equal(submit_wait(c, &m, 1, NULL, NULL), 0);
  check(c, "a submit after them");
  assert_int_equal(sg_store_sqlite_counts_loads(c->st), loads);
}

/* PostgreSQL: a count held up (here by a lock that another connection
 * keeps on inbound, the table its last query reads) is cancelled at
 * count_timeout_ms and answered SG_ETIMEDOUT, and holds nothing after: a
 * submit and a read on the same reader connection go through meanwhile,
 * and once the lock goes the next count is right again. */
static void count_times_out(void **state) {
  ctx_t *c = *state;
  if (c->url[0] == '\0')
    skip(); /* SQLite counts from the writer's memory: no query waits */
  sg_store_config_t cfg = test_config(c);
  cfg.readers = 1; /* the timed-out count's connection serves the rest */
  cfg.count_timeout_ms = 300;
  int rc = open_with(c, &cfg);
  if (rc != 0)
    fail_msg("open: %s (%s)", c->err, sg_err_name(rc));
  tmsg_t m[2];
  tmsg_init(&m[0], "+14155550101", 1, "smsc-a");
  assert_int_equal(submit_wait(c, &m[0], 1, NULL, NULL), 0);
  check(c, "before the lock");

  PGconn *lock = PQconnectdb(c->url);
  assert_int_equal(PQstatus(lock), CONNECTION_OK);
  PGresult *res =
      PQexec(lock, "BEGIN; LOCK TABLE inbound IN ACCESS EXCLUSIVE MODE");
  assert_int_equal(PQresultStatus(res), PGRES_COMMAND_OK);
  PQclear(res);

  counts_got_t g = {0};
  uint64_t t0 = uv_hrtime();
  assert_int_equal(sg_store_counts(c->st, counts_cb, &g), 0);
  run_until(c, &g.calls, 1);
  uint64_t took_ms = (uv_hrtime() - t0) / 1000000u;
  assert_int_equal(g.status, SG_ETIMEDOUT);
  assert_true(took_ms >= 250 && took_ms < 10000);

  /* Nothing else is held up, nor the reader's connection broken. */
  tmsg_init(&m[1], "+14155550102", 2, "smsc-a");
  assert_int_equal(submit_wait(c, &m[1], 1, NULL, NULL), 0);
  msg_got_t mg;
  get_wait(c, m[1].m.id, 1, &mg);
  assert_int_equal(mg.status, 0);
  assert_int_equal(mg.n_parts, 2);
  memset(&g, 0, sizeof g);
  assert_int_equal(sg_store_counts(c->st, counts_cb, &g), 0);
  run_until(c, &g.calls, 1);
  assert_int_equal(g.status, SG_ETIMEDOUT); /* still locked */

  res = PQexec(lock, "ROLLBACK");
  PQclear(res);
  PQfinish(lock);
  check(c, "after the lock");
  memset(&g, 0, sizeof g);
  assert_int_equal(sg_store_counts(c->st, counts_cb, &g), 0);
  run_until(c, &g.calls, 1);
  assert_int_equal(g.status, 0);
  assert_int_equal(g.k.messages[SG_MSG_QUEUED], 2);
  assert_int_equal(g.k.parts[SG_MSG_QUEUED], 3);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(counts_follow_every_change, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(rollbacks_count_nothing, setup, teardown),
      cmocka_unit_test_setup_teardown(other_writers_and_restart, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(counts_do_not_scan, setup, teardown),
      cmocka_unit_test_setup_teardown(count_times_out, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
