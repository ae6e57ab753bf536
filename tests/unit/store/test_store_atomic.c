/* test_store_atomic.c - a write request is stored whole or not at all: the
 * writer runs a group without savepoints, and a request that fails after
 * writing is undone by running the group again without it; a batch of many
 * thousand messages is one request, so one transaction.
 */
#include "store_fixture.h"

#include "store/sqlite.h"

static void get_stats(ctx_t *c, sg_store_stats_t *s) {
  sg_store_get_stats(c->st, s);
}

/* Queues one batch of msgs[0..n) (account 1) without waiting; its batch id
 * is proto's when it has one, else a new one. */
static void submit_async(ctx_t *c, sg_store_msg_in_t *in, size_t n,
                         const sg_store_batch_t *proto, got_t *g) {
  sg_store_batch_t b = {0};
  if (proto != NULL)
    b = *proto;
  if (b.batch_id[0] == '\0')
    sg_id_new(b.batch_id);
  b.account_id = 1;
  b.msgs = in;
  b.n_msgs = n;
  memset(g, 0, sizeof *g);
  assert_int_equal(sg_store_submit(c->st, &b, submit_cb, g), 0);
}

/* Three batches share a group; the middle one fails on its second message
 * (an id that is taken) after its first was written. The other two are
 * stored, the failed one leaves nothing, not even its idempotency record. */
static void failed_request_changes_nothing(void **state) {
  ctx_t *c = *state;
  sg_store_config_t cfg = test_config(c);
  cfg.max_wait_us = 300000; /* so that the three batches share a commit */
  assert_int_equal(open_with(c, &cfg), 0);
  tmsg_t old;
  tmsg_init(&old, "+14155550100", 1, "smsc-a");
  assert_int_equal(submit_wait(c, &old, 1, NULL, NULL), 0);
  sg_store_stats_t s0, s1;
  get_stats(c, &s0);

  static tmsg_t m[3][2];
  sg_store_msg_in_t in[3][2];
  for (int i = 0; i < 3; i++)
    for (int k = 0; k < 2; k++) {
      tmsg_init(&m[i][k], "+14155550101", 2, "smsc-a");
      in[i][k] = m[i][k].m;
    }
  memcpy(in[1][1].id, old.m.id, sizeof in[1][1].id); /* taken */
  static const uint8_t h[] = {7, 7, 7};
  sg_store_batch_t idem = {.idem_key = "k-fail",
                           .request_hash = h,
                           .request_hash_len = sizeof h,
                           .response = (const uint8_t *)"{}",
                           .response_len = 2};
  got_t g[3];
  submit_async(c, in[0], 2, NULL, &g[0]);
  submit_async(c, in[1], 2, &idem, &g[1]);
  submit_async(c, in[2], 2, NULL, &g[2]);
  int calls = 0;
  while (calls < 3) {
    uv_run(&c->loop, UV_RUN_ONCE);
    calls = g[0].calls + g[1].calls + g[2].calls;
  }
  assert_int_equal(g[0].status, 0);
  assert_int_equal(g[1].status, SG_EEXIST);
  assert_int_equal(g[2].status, 0);
  get_stats(c, &s1);
  assert_int_equal(s1.commits - s0.commits, 1);
  assert_int_equal(s1.reruns - s0.reruns, 1);
  assert_int_equal(s1.writes - s0.writes, 3);
  assert_true(s1.writer_cpu_us > s0.writer_cpu_us); /* two runs of SQL */

  /* 1 + 2 + 2 messages, two parts each but the first; one event each
   * (SQLite keeps a queued message's first event in its row). */
  assert_int_equal(q1(c, "SELECT count(*) FROM messages"), 5);
  assert_int_equal(q1(c, "SELECT count(*) FROM parts"), 9);
  assert_int_equal(q1(c, "SELECT count(*) FROM events"), pg_server() ? 5 : 0);
  assert_int_equal(q1(c, "SELECT count(*) FROM idempotency_keys"), 0);
  msg_got_t mg;
  get_wait(c, m[1][0].m.id, 0, &mg);
  assert_int_equal(mg.status, SG_ENOENT);
  get_wait(c, m[2][1].m.id, 0, &mg);
  assert_int_equal(mg.status, 0);
  assert_int_equal(mg.n_parts, 2);

  /* A request that fails before writing (an idempotency conflict) costs no
   * second run. */
  tmsg_t fresh;
  tmsg_init(&fresh, "+14155550102", 1, "smsc-a");
  submit_async(c, &fresh.m, 1, &idem, &g[0]); /* records k-fail */
  run_until(c, &g[0].calls, 1);
  assert_int_equal(g[0].status, 0);
  static const uint8_t h2[] = {8};
  idem.request_hash = h2;
  idem.request_hash_len = sizeof h2;
  tmsg_init(&fresh, "+14155550102", 1, "smsc-a");
  get_stats(c, &s0);
  submit_async(c, &fresh.m, 1, &idem, &g[0]);
  run_until(c, &g[0].calls, 1);
  assert_int_equal(g[0].status, SG_EEXIST);
  get_stats(c, &s1);
  assert_int_equal(s1.reruns, s0.reruns);
  assert_int_equal(q1(c, "SELECT count(*) FROM messages"), 6);
  assert_int_equal(q1(c, "SELECT count(*) FROM idempotency_keys"), 1);
}

/* The same failure in a campaign: three batches of campaign k share a
 * group, the middle one fails after its first message was stored and
 * counted; the group runs again without it, and the campaign counts the
 * four messages stored, once each. */
static void failed_request_leaves_campaign_counts(void **state) {
  ctx_t *c = *state;
  sg_store_config_t cfg = test_config(c);
  cfg.max_wait_us = 300000; /* so that the three batches share a commit */
  assert_int_equal(open_with(c, &cfg), 0);
  char k[SG_ID_LEN + 1], sql[256];
  sg_id_new(k);
  snprintf(sql, sizeof sql,
           "INSERT INTO campaigns (id, account_id, name, status, body, "
           "created_ms, updated_ms) VALUES ('%s', 1, 'n', 'running', 'x', "
           "0, 0)",
           k);
  raw_exec(c, sql);
  tmsg_t old;
  tmsg_init(&old, "+14155550100", 1, "smsc-a");
  assert_int_equal(submit_wait(c, &old, 1, NULL, NULL), 0); /* no campaign's */
  sg_store_stats_t s0, s1;
  get_stats(c, &s0);
  static tmsg_t m[3][2];
  sg_store_msg_in_t in[3][2];
  for (int i = 0; i < 3; i++)
    for (int j = 0; j < 2; j++) {
      tmsg_init(&m[i][j], "+14155550101", 1, "smsc-a");
      in[i][j] = m[i][j].m;
    }
  memcpy(in[1][1].id, old.m.id, sizeof in[1][1].id); /* taken */
  sg_store_batch_t proto = {0};
  memcpy(proto.batch_id, k, sizeof proto.batch_id);
  got_t g[3];
  for (int i = 0; i < 3; i++)
    submit_async(c, in[i], 2, &proto, &g[i]);
  int calls = 0;
  while (calls < 3) {
    uv_run(&c->loop, UV_RUN_ONCE);
    calls = g[0].calls + g[1].calls + g[2].calls;
  }
  assert_int_equal(g[0].status, 0);
  assert_int_equal(g[1].status, SG_EEXIST);
  assert_int_equal(g[2].status, 0);
  get_stats(c, &s1);
  assert_int_equal(s1.commits - s0.commits, 1);
  assert_int_equal(s1.reruns - s0.reruns, 1);
  snprintf(sql, sizeof sql,
           "SELECT n_queued * 100 + n_sent + n_delivered + n_failed + "
           "n_canceled FROM campaigns WHERE id = '%s'",
           k);
  assert_int_equal(q1(c, sql), 400);
  snprintf(sql, sizeof sql,
           "SELECT count(*) FROM messages WHERE batch_id = '%s'", k);
  assert_int_equal(q1(c, sql), 4);
}

enum { BIG = 2500 };

static tmsg_t big[BIG];
static sg_store_msg_in_t big_in[BIG];

static void big_init(void) {
  for (int i = 0; i < BIG; i++) {
    char rcpt[20];
    snprintf(rcpt, sizeof rcpt, "+1415555%04d", i);
    tmsg_init(&big[i], rcpt, 1, "smsc-a");
    big_in[i] = big[i].m;
  }
}

/* More messages than the writer's group holds requests: still one request,
 * one transaction, all or nothing, with its idempotency record. */
static void large_batch_is_one_transaction(void **state) {
  ctx_t *c = *state;
  sg_store_config_t cfg = test_config(c);
  cfg.fault_injection = true;
  assert_int_equal(open_with(c, &cfg), 0);
  big_init();
  static const uint8_t h[] = {1, 2};
  sg_store_batch_t idem = {.idem_key = "big",
                           .request_hash = h,
                           .request_hash_len = sizeof h,
                           .response = (const uint8_t *)"{\"big\":1}",
                           .response_len = 9};
  got_t g;

  /* The disk fails during the commit: nothing is stored. */
  assert_int_equal(sg_store_sqlite_fail_next(c->st, 1, false), 0);
  submit_async(c, big_in, BIG, &idem, &g);
  run_until(c, &g.calls, 1);
  assert_int_equal(g.status, SG_EIO);
  assert_int_equal(q1(c, "SELECT count(*) FROM messages"), 0);

  /* Message 2401 has the id of message 12: the 2400 before it were
   * written, and are undone. */
  memcpy(big_in[2400].id, big_in[11].id, sizeof big_in[2400].id);
  submit_async(c, big_in, BIG, &idem, &g);
  run_until(c, &g.calls, 1);
  assert_int_equal(g.status, SG_EEXIST);
  assert_int_equal(q1(c, "SELECT count(*) FROM messages"), 0);
  assert_int_equal(q1(c, "SELECT count(*) FROM parts"), 0);
  assert_int_equal(q1(c, "SELECT count(*) FROM events"), 0);
  assert_int_equal(q1(c, "SELECT count(*) FROM idempotency_keys"), 0);

  /* Whole: every message, in one commit. */
  memcpy(big_in[2400].id, big[2400].m.id, sizeof big_in[2400].id);
  sg_store_stats_t s0, s1;
  get_stats(c, &s0);
  submit_async(c, big_in, BIG, &idem, &g);
  run_until(c, &g.calls, 1);
  assert_int_equal(g.status, 0);
  assert_false(g.replayed);
  get_stats(c, &s1);
  assert_int_equal(s1.commits - s0.commits, 1);
  assert_int_equal(q1(c, "SELECT count(*) FROM messages"), BIG);
  assert_int_equal(q1(c, "SELECT count(DISTINCT batch_id) FROM messages"), 1);
  assert_int_equal(q1(c, "SELECT count(*) FROM idempotency_keys"), 1);

  /* Over the maximum is refused at once. */
  static sg_store_msg_in_t over[SG_STORE_BATCH_MAX + 1];
  for (size_t i = 0; i < SG_STORE_BATCH_MAX + 1; i++)
    over[i] = big_in[i % BIG];
  sg_store_batch_t b = {.account_id = 1,
                        .msgs = over,
                        .n_msgs = SG_STORE_BATCH_MAX + 1};
  sg_id_new(b.batch_id);
  assert_int_equal(sg_store_submit(c->st, &b, submit_cb, &g), SG_EINVAL);
}

int main(void) {
  const struct CMUnitTest tests[] = {
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
      T(failed_request_changes_nothing),
      T(failed_request_leaves_campaign_counts),
      T(large_batch_is_one_transaction),
#undef T
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
