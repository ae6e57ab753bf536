/* Tests for store/traffic.h (migration 0016): messages count in the minute
 * they were created, in `submitted` and in the bucket of their current
 * status, and move between buckets as their status changes; inbound
 * messages count in the minute they were received; buckets of several
 * minutes sum their minutes; one account's read sees only its own, a read
 * of every account sums them; bad queries are refused before any read. */
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

static void set_status(ctx_t *c, const tmsg_t *m, const char *status) {
  char sql[160];
  snprintf(sql, sizeof sql, "UPDATE messages SET status = '%s' WHERE id = '%s'",
           status, m->m.id);
  raw_exec(c, sql);
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
  set_status(c, &a[0], "sent");
  set_status(c, &a[0], "delivered");
  set_status(c, &a[1], "undeliverable");
  set_status(c, &a[2], "expired");
  set_status(c, &b[0], "rejected");
  set_status(c, &b[1], "canceled");
  set_status(c, &o[0], "delivered");
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

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(counts_follow_status, setup, teardown),
      cmocka_unit_test_setup_teardown(bad_queries, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
