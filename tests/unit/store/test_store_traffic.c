/* Tests for store/traffic.h (migration 0016): messages count in the minute
 * they were created, in `submitted` and in the bucket of their current
 * status, and move between buckets as their status changes; inbound
 * messages count in the minute they were received; buckets of several
 * minutes sum their minutes; one account's read sees only its own, a read
 * of every account sums them; bad queries are refused before any read.
 * Statuses move through the store's own requests (cancel, claim, results,
 * receipts): on SQLite the writer counts them, not triggers. */
#include "store_fixture.h"

#include "store/traffic.h"

#define MIN_MS 60000LL

typedef struct tgot {
  int calls, status;
  size_t n;
  sg_store_traffic_row_t rows[8];
} tgot_t;

static void traffic_cb(sg_store_t *st, int status,
                       const sg_store_traffic_row_t *rows, size_t n,
                       void *data) {
  (void)st;
  tgot_t *g = data;
  g->calls++;
  g->status = status;
  g->n = n;
  if (rows == NULL) {
    assert_int_not_equal(status, 0);
    return;
  }
  for (size_t i = 0; i < n && i < 8; i++)
    g->rows[i] = rows[i];
}

static int traffic_wait(ctx_t *c, int64_t account, int64_t from, int64_t step,
                        unsigned buckets, tgot_t *g) {
  memset(g, 0, sizeof *g);
  sg_store_traffic_q_t q = {account, from, step, buckets};
  int rc = sg_store_traffic(c->st, &q, traffic_cb, g);
  if (rc < 0)
    return rc;
  run_until(c, &g->calls, 1);
  return g->status;
}

/* Submits n one-part messages of `account` at time `at`. */
static void submit_at(ctx_t *c, int64_t account, int64_t at, tmsg_t *m,
                      size_t n) {
  atomic_store(&fake_now, at);
  for (size_t i = 0; i < n; i++) {
    char rcpt[20];
    snprintf(rcpt, sizeof rcpt, "+1415555%04u",
             (unsigned)(at / 1000 % 10000 + i));
    tmsg_init(&m[i], rcpt, 1, "op");
  }
  sg_store_batch_t proto = {.account_id = account};
  assert_int_equal(submit_wait(c, m, n, &proto, NULL), 0);
}

/* The smsc_id a part of message `mid` is sent under. */
static void smsc_of(const char *mid, char *out, size_t len) {
  snprintf(out, len, "s-%s", mid);
}

static void cancel_wait(ctx_t *c, const tmsg_t *m) {
  items_got_t g;
  memset(&g, 0, sizeof g);
  assert_int_equal(sg_store_cancel(c->st, m->m.id, 0, items_cb, &g), 0);
  run_until(c, &g.calls, 1);
  assert_int_equal(g.status, 0);
  assert_int_equal(g.items[0].status, 0);
}

/* Sends every queued part through the store's own requests (claim, then a
 * "sent" result) but those of the messages in `hold`, which stay
 * 'sending'. Status changes are counted by the writer, not by triggers, so
 * the test moves messages the way the engine does. */
static void send_all(ctx_t *c, const tmsg_t *const *hold, size_t n_hold) {
  claim_got_t cg;
  claim_wait(c, "op", 16, &cg);
  sg_store_result_in_t r[16];
  char ids[16][SG_ID_LEN + 8];
  size_t n = 0;
  for (size_t i = 0; i < cg.n; i++) {
    bool held = false;
    for (size_t k = 0; k < n_hold; k++)
      held = held || strcmp(cg.parts[i].message_id, hold[k]->m.id) == 0;
    if (held)
      continue;
    smsc_of(cg.parts[i].message_id, ids[n], sizeof ids[n]);
    r[n] = (sg_store_result_in_t){.part_id = cg.parts[i].part_id,
                                  .attempt = 1,
                                  .outcome = SG_STORE_SENT,
                                  .smsc_id = ids[n]};
    n++;
  }
  items_got_t ig;
  results_wait(c, r, n, &ig);
}

/* A receipt saying `to` for message m's part. */
static void receipt(ctx_t *c, const tmsg_t *m, sg_msg_status_t to) {
  char id[SG_ID_LEN + 8];
  smsc_of(m->m.id, id, sizeof id);
  sg_store_receipt_in_t d = {.connector = "op", .smsc_id = id, .status = to};
  items_got_t ig;
  receipts_wait(c, &d, 1, &ig);
  assert_int_equal(ig.items[0].status, 0);
  assert_int_equal(ig.items[0].msg_status, to);
}

static void inbound_at(ctx_t *c, const char *id, int64_t account, int64_t at) {
  char sql[320];
  snprintf(sql, sizeof sql,
           "INSERT INTO inbound (id, account_id, sender, recipient, encoding, "
           "body, received_ms, created_ms) VALUES ('%s', %lld, '+4479', "
           "'+4480', 0, x'6869', %lld, %lld)",
           id, (long long)account, (long long)at, (long long)at + 5);
  raw_exec(c, sql);
}

/* T0 is 1700000000000, 20 s into a minute: minute M0 starts 20 s before. */
#define M0 (T0 - T0 % MIN_MS)

static void counts_follow_status(void **state) {
  ctx_t *c = *state;
  open_store(c);
  tmsg_t a[4], b[2], o[1];
  submit_at(c, 1, T0, a, 4);                      /* minute 0 */
  submit_at(c, 1, M0 + 2 * MIN_MS + 59999, b, 2); /* minute 2, its last ms */
  submit_at(c, 2, T0 + 1000, o, 1); /* another account, minute 0 */
  cancel_wait(c, &b[1]);
  const tmsg_t *hold[] = {&a[3]};
  send_all(c, hold, 1); /* a[3] stays 'sending': still in `queued` */
  receipt(c, &a[0], SG_MSG_DELIVERED);
  receipt(c, &a[1], SG_MSG_UNDELIVERABLE);
  receipt(c, &a[2], SG_MSG_EXPIRED);
  receipt(c, &b[0], SG_MSG_REJECTED);
  receipt(c, &o[0], SG_MSG_DELIVERED);
  inbound_at(c, "01HZZZZZZZZZZZZZZZZZZZZZZ1", 1, M0 + MIN_MS + 1);
  inbound_at(c, "01HZZZZZZZZZZZZZZZZZZZZZZ2", 1, M0 + MIN_MS + 2);
  /* One for no account (no rule took it): counted nowhere. */
  raw_exec(c, "INSERT INTO inbound (id, sender, recipient, encoding, body, "
              "received_ms, created_ms) VALUES ('01HZZZZZZZZZZZZZZZZZZZZZZ4', "
              "'+4479', '+4480', 0, x'68', 1700000000000, 1700000000000)");

  tgot_t g;
  assert_int_equal(traffic_wait(c, 1, M0, MIN_MS, 4, &g), 0);
  assert_int_equal(g.n, 4);
  sg_store_traffic_row_t *r = g.rows;
  assert_int_equal(r[0].submitted, 4);
  assert_int_equal(r[0].queued, 1);
  assert_int_equal(r[0].sent, 0);
  assert_int_equal(r[0].delivered, 1);
  assert_int_equal(r[0].failed, 1);
  assert_int_equal(r[0].expired, 1);
  assert_int_equal(r[0].inbound, 0);
  assert_int_equal(r[1].submitted, 0);
  assert_int_equal(r[1].inbound, 2);
  assert_int_equal(r[2].submitted, 2);
  assert_int_equal(r[2].failed, 1);
  assert_int_equal(r[2].canceled, 1);
  assert_int_equal(r[2].queued, 0);
  assert_int_equal(r[3].submitted, 0);

  /* Buckets of two minutes, from minute 1: minutes 1-2, then 3-4. */
  assert_int_equal(traffic_wait(c, 1, M0 + MIN_MS, 2 * MIN_MS, 2, &g), 0);
  assert_int_equal(g.rows[0].submitted, 2);
  assert_int_equal(g.rows[0].inbound, 2);
  assert_int_equal(g.rows[1].submitted, 0);

  /* Every account: account 2's message joins minute 0. */
  assert_int_equal(traffic_wait(c, 0, M0, 3 * MIN_MS, 1, &g), 0);
  assert_int_equal(g.rows[0].submitted, 7);
  assert_int_equal(g.rows[0].delivered, 2);
  assert_int_equal(g.rows[0].inbound, 2);
  assert_int_equal(traffic_wait(c, 2, M0, 3 * MIN_MS, 1, &g), 0);
  assert_int_equal(g.rows[0].submitted, 1);
  assert_int_equal(g.rows[0].delivered, 1);
  assert_int_equal(g.rows[0].inbound, 0);
  /* An account with no traffic: zeros, not an error. */
  assert_int_equal(traffic_wait(c, 9, M0, MIN_MS, 2, &g), 0);
  assert_int_equal(g.n, 2);
  assert_int_equal(g.rows[0].submitted + g.rows[1].submitted, 0);
}

static void bad_queries(void **state) {
  ctx_t *c = *state;
  open_store(c);
  tgot_t g;
  assert_int_equal(traffic_wait(c, 1, M0 + 1, MIN_MS, 1, &g), SG_EINVAL);
  assert_int_equal(traffic_wait(c, 1, M0, 90000, 1, &g), SG_EINVAL);
  assert_int_equal(traffic_wait(c, 1, M0, 0, 1, &g), SG_EINVAL);
  assert_int_equal(traffic_wait(c, 1, M0, MIN_MS, 0, &g), SG_EINVAL);
  assert_int_equal(traffic_wait(c, 1, M0, MIN_MS, 1441, &g), SG_EINVAL);
  assert_int_equal(traffic_wait(c, -1, M0, MIN_MS, 1, &g), SG_EINVAL);
  assert_int_equal(traffic_wait(c, 1, -MIN_MS, MIN_MS, 1, &g), SG_EINVAL);
  /* 32 days in 32 buckets: over the 31-day range. */
  assert_int_equal(traffic_wait(c, 1, M0, 24 * 60 * MIN_MS, 32, &g), SG_EINVAL);
  assert_int_equal(traffic_wait(c, 1, M0, 24 * 60 * MIN_MS, 31, &g), 0);
  assert_int_equal(g.calls, 1);
  assert_null(sg_store_traffic(c->st, NULL, traffic_cb, &g) == 0 ? "" : NULL);
}

static void maint_cb(sg_store_t *st, int status,
                     const sg_store_maint_res_t *res, void *data) {
  (void)st;
  sg_store_maint_res_t *out = data;
  assert_int_equal(status, 0);
  *out = *res;
  out->purged += 1000000; /* marks the call */
}

/* One maintenance pass; returns the traffic minutes it pruned. */
static size_t maintain_wait(ctx_t *c) {
  sg_store_maint_res_t mr = {0};
  assert_int_equal(sg_store_maintain(c->st, maint_cb, &mr), 0);
  while (mr.purged < 1000000)
    uv_run(&c->loop, UV_RUN_ONCE);
  return mr.traffic_pruned;
}

#define KEEP_MS (10LL * 24 * 3600 * 1000)

/* Maintenance deletes the minutes older than traffic_keep_ms (10 days
 * here), 1000 a pass, of every account, and keeps the rest as they were. */
static void old_minutes_pruned(void **state) {
  ctx_t *c = *state;
  sg_store_config_t cfg = test_config(c);
  cfg.traffic_keep_ms = KEEP_MS;
  assert_int_equal(open_with(c, &cfg), 0);
  long long cut = (T0 - KEEP_MS) / MIN_MS; /* the oldest minute kept */
  char sql[512];
  /* 1,500 old minutes of account 3, then account 1's four minutes around
   * the cut, and one old minute of account 2. */
  snprintf(sql, sizeof sql,
           "WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n "
           "WHERE x < 1500) INSERT INTO traffic_minutes (account_id, minute, "
           "submitted) SELECT 3, %lld - x, 1 FROM n",
           cut);
  raw_exec(c, sql);
  snprintf(sql, sizeof sql,
           "INSERT INTO traffic_minutes (account_id, minute, submitted, "
           "delivered) VALUES (1, %lld, 5, 4), (1, %lld, 6, 5), (1, %lld, 7, "
           "6), (1, %lld, 8, 7), (2, %lld, 9, 9)",
           cut - 2, cut - 1, cut, cut + 5, cut - 1);
  raw_exec(c, sql);
  assert_int_equal(q1(c, "SELECT count(*) FROM traffic_minutes"), 1505);

  assert_int_equal(maintain_wait(c), 1000); /* oldest first */
  assert_int_equal(q1(c, "SELECT count(*) FROM traffic_minutes WHERE "
                         "account_id = 3"),
                   500);
  assert_int_equal(maintain_wait(c), 503);
  assert_int_equal(maintain_wait(c), 0);
  assert_int_equal(q1(c, "SELECT count(*) FROM traffic_minutes"), 2);

  /* What is kept still reads: the cut minute and five minutes later. */
  tgot_t g;
  assert_int_equal(traffic_wait(c, 1, cut * MIN_MS, 3 * MIN_MS, 2, &g), 0);
  assert_int_equal(g.rows[0].submitted, 7);
  assert_int_equal(g.rows[0].delivered, 6);
  assert_int_equal(g.rows[1].submitted, 8);
  assert_int_equal(g.rows[1].delivered, 7);
  /* Three minutes on, the cut minute is older than the retention too. */
  atomic_store(&fake_now, T0 + 3 * MIN_MS);
  assert_int_equal(maintain_wait(c), 1);
  assert_int_equal(q1(c, "SELECT count(*) FROM traffic_minutes"), 1);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(counts_follow_status, setup, teardown),
      cmocka_unit_test_setup_teardown(bad_queries, setup, teardown),
      cmocka_unit_test_setup_teardown(old_minutes_pruned, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
