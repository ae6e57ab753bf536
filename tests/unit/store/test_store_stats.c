/* test_store_stats.c - the commit histograms: which bucket a transaction's
 * duration and batch size land in (bounds inclusive, the last bucket above
 * every bound), what a failed transaction counts, that a real group
 * commit is counted once with its size, and the stages of a submit.
 */
#include "store_fixture.h"

static uint64_t sum(const uint64_t *h, unsigned n) {
  uint64_t s = 0;
  for (unsigned i = 0; i < n; i++)
    s += h[i];
  return s;
}

static void bounds_are_the_documented_ones(void **state) {
  (void)state;
  static const uint32_t us[SG_STORE_COMMIT_BUCKETS] = {
      500,   1000,   2500,   5000,   10000,   25000,
      50000, 100000, 250000, 500000, 1000000, 2000000};
  static const uint32_t batch[SG_STORE_BATCH_BUCKETS] = {
      1, 2, 5, 10, 20, 50, 100, 200, 500, 1000};
  assert_memory_equal(sg_store_commit_bounds_us, us, sizeof us);
  assert_memory_equal(sg_store_batch_bounds, batch, sizeof batch);
}

static void durations_land_in_their_bucket(void **state) {
  (void)state;
  static const struct {
    uint64_t us;
    unsigned bucket;
  } rows[] = {{0, 0},        {500, 0},      {501, 1},
              {1000, 1},     {2400, 2},     {9999, 4},
              {2000000, 11}, {2000001, 12}, {UINT64_MAX / 2, 12}};
  for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
    sg_store_stats_t s;
    memset(&s, 0, sizeof s);
    sg_store_stats_note_commit(&s, true, rows[i].us, 1);
    assert_int_equal(s.commit_hist[rows[i].bucket], 1);
    assert_int_equal(sum(s.commit_hist, SG_STORE_COMMIT_BUCKETS + 1), 1);
    assert_int_equal(s.commit_us_total, rows[i].us);
  }
}

static void batches_land_in_their_bucket(void **state) {
  (void)state;
  static const struct {
    unsigned n, bucket;
  } rows[] = {{0, 0}, {1, 0},   {2, 1},    {3, 2},     {5, 2},
              {6, 3}, {999, 9}, {1000, 9}, {1001, 10}, {10000, 10}};
  sg_store_stats_t s;
  memset(&s, 0, sizeof s);
  uint64_t writes = 0;
  for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
    uint64_t before = s.batch_hist[rows[i].bucket];
    sg_store_stats_note_commit(&s, true, 700, rows[i].n);
    writes += rows[i].n;
    assert_int_equal(s.batch_hist[rows[i].bucket], before + 1);
  }
  assert_int_equal(s.commits, 10);
  assert_int_equal(s.writes, writes);
  assert_int_equal(s.max_group, 10000);
  assert_int_equal(sum(s.batch_hist, SG_STORE_BATCH_BUCKETS + 1), 10);
  assert_int_equal(s.commit_hist[1], 10);
}

/* A failed transaction took time (its duration is counted) but committed
 * no batch. */
static void failed_commit_counts_duration_only(void **state) {
  (void)state;
  sg_store_stats_t s;
  memset(&s, 0, sizeof s);
  sg_store_stats_note_commit(&s, false, 30000, 7);
  assert_int_equal(s.failed_commits, 1);
  assert_int_equal(s.commits, 0);
  assert_int_equal(s.writes, 0);
  assert_int_equal(s.max_group, 0);
  assert_int_equal(s.commit_hist[6], 1);
  assert_int_equal(sum(s.batch_hist, SG_STORE_BATCH_BUCKETS + 1), 0);
}

/* Three messages submitted together share one commit of the writer: one
 * transaction of batch size 3 (bucket "<= 5"), its duration counted. */
static void group_commit_is_counted_once(void **state) {
  ctx_t *c = *state;
  sg_store_config_t cfg = test_config(c);
  cfg.max_wait_us = 300000;
  assert_int_equal(open_with(c, &cfg), 0);
  sg_store_stats_t s0, s1;
  sg_store_get_stats(c->st, &s0);
  static tmsg_t m[3];
  got_t g[3];
  memset(g, 0, sizeof g);
  for (int i = 0; i < 3; i++) {
    tmsg_init(&m[i], "+14155550101", 1, "smsc-a");
    sg_store_batch_t b = {.account_id = 1, .msgs = &m[i].m, .n_msgs = 1};
    sg_id_new(b.batch_id);
    assert_int_equal(sg_store_submit(c->st, &b, submit_cb, &g[i]), 0);
  }
  while (g[0].calls + g[1].calls + g[2].calls < 3)
    uv_run(&c->loop, UV_RUN_ONCE);
  sg_store_get_stats(c->st, &s1);
  assert_int_equal(s1.commits - s0.commits, 1);
  assert_int_equal(s1.batch_hist[2] - s0.batch_hist[2], 1);
  assert_int_equal(sum(s1.batch_hist, SG_STORE_BATCH_BUCKETS + 1) -
                       sum(s0.batch_hist, SG_STORE_BATCH_BUCKETS + 1),
                   1);
  assert_int_equal(sum(s1.commit_hist, SG_STORE_COMMIT_BUCKETS + 1) -
                       sum(s0.commit_hist, SG_STORE_COMMIT_BUCKETS + 1),
                   1);
  assert_true(s1.commit_us_total > s0.commit_us_total);
}

static void stage_bounds_and_buckets(void **state) {
  (void)state;
  assert_int_equal(sg_store_stage_bounds_us[0], 100);
  assert_int_equal(sg_store_stage_bounds_us[SG_STORE_STAGE_BUCKETS - 1],
                   100000);
  for (unsigned i = 1; i < SG_STORE_STAGE_BUCKETS; i++)
    assert_true(sg_store_stage_bounds_us[i] > sg_store_stage_bounds_us[i - 1]);
  sg_store_stats_t s;
  memset(&s, 0, sizeof s);
  sg_store_stats_note_stage(&s, SG_STORE_STAGE_SYNC, 100);
  sg_store_stats_note_stage(&s, SG_STORE_STAGE_SYNC, 101);
  sg_store_stats_note_stage(&s, SG_STORE_STAGE_SYNC, 100001);
  assert_int_equal(s.stage_hist[SG_STORE_STAGE_SYNC][0], 1);
  assert_int_equal(s.stage_hist[SG_STORE_STAGE_SYNC][1], 1);
  assert_int_equal(s.stage_hist[SG_STORE_STAGE_SYNC][SG_STORE_STAGE_BUCKETS],
                   1);
  assert_int_equal(s.stage_us[SG_STORE_STAGE_SYNC], 100202);
  assert_string_equal(sg_store_stage_names[SG_STORE_STAGE_HANDOFF], "handoff");
}

/* Each submit's stages are counted once when its callback is due: the
 * writer's wait for more writes (max_wait_us) lands in "queue", and the
 * total covers the stages of the request. */
static void submit_stages_are_counted(void **state) {
  ctx_t *c = *state;
  sg_store_config_t cfg = test_config(c);
  cfg.max_wait_us = 30000;
  assert_int_equal(open_with(c, &cfg), 0);
  sg_store_stats_t s0, s1;
  sg_store_get_stats(c->st, &s0);
  static tmsg_t m[2];
  got_t g[2];
  memset(g, 0, sizeof g);
  for (int i = 0; i < 2; i++) {
    tmsg_init(&m[i], "+14155550101", 1, "smsc-a");
    sg_store_batch_t b = {.account_id = 1, .msgs = &m[i].m, .n_msgs = 1};
    sg_id_new(b.batch_id);
    assert_int_equal(sg_store_submit(c->st, &b, submit_cb, &g[i]), 0);
  }
  while (g[0].calls + g[1].calls < 2)
    uv_run(&c->loop, UV_RUN_ONCE);
  sg_store_get_stats(c->st, &s1);
  for (unsigned st = SG_STORE_STAGE_QUEUE; st <= SG_STORE_STAGE_TOTAL; st++)
    assert_int_equal(sum(s1.stage_hist[st], SG_STORE_STAGE_BUCKETS + 1) -
                         sum(s0.stage_hist[st], SG_STORE_STAGE_BUCKETS + 1),
                     2);
  uint64_t queue =
      s1.stage_us[SG_STORE_STAGE_QUEUE] - s0.stage_us[SG_STORE_STAGE_QUEUE];
  uint64_t parts = 0;
  for (unsigned st = SG_STORE_STAGE_QUEUE; st < SG_STORE_STAGE_TOTAL; st++)
    parts += s1.stage_us[st] - s0.stage_us[st];
  assert_true(queue >= 2 * 25000); /* both waited for the writer's window */
  assert_int_equal(parts, s1.stage_us[SG_STORE_STAGE_TOTAL] -
                              s0.stage_us[SG_STORE_STAGE_TOTAL]);
}

static void receipts_cb(sg_store_t *st, int status,
                        const sg_store_item_res_t *items, size_t n,
                        void *data) {
  (void)st;
  (void)status;
  (void)items;
  (void)n;
  (*(int *)data)++;
}

/* Each receipts request is counted once in the "receipts" stage when its
 * callback is due (a deliver_sm's answer waits for it), and not in the
 * submit's stages. */
static void receipts_stage_is_counted(void **state) {
  ctx_t *c = *state;
  sg_store_config_t cfg = test_config(c);
  assert_int_equal(open_with(c, &cfg), 0);
  sg_store_stats_t s0, s1;
  sg_store_get_stats(c->st, &s0);
  sg_store_receipt_in_t in[2] = {{.connector = "smsc-a",
                                  .smsc_id = "no-such-1",
                                  .status = SG_MSG_DELIVERED},
                                 {.connector = "smsc-a",
                                  .smsc_id = "no-such-2",
                                  .status = SG_MSG_DELIVERED}};
  int calls = 0;
  assert_int_equal(sg_store_record_receipts(c->st, in, 2, receipts_cb, &calls),
                   0);
  assert_int_equal(
      sg_store_record_receipts(c->st, in + 1, 1, receipts_cb, &calls), 0);
  while (calls < 2)
    uv_run(&c->loop, UV_RUN_ONCE);
  sg_store_get_stats(c->st, &s1);
  assert_string_equal(sg_store_stage_names[SG_STORE_STAGE_RECEIPTS],
                      "receipts");
  assert_int_equal(
      sum(s1.stage_hist[SG_STORE_STAGE_RECEIPTS], SG_STORE_STAGE_BUCKETS + 1) -
          sum(s0.stage_hist[SG_STORE_STAGE_RECEIPTS],
              SG_STORE_STAGE_BUCKETS + 1),
      2);
  for (unsigned st = SG_STORE_STAGE_QUEUE; st <= SG_STORE_STAGE_TOTAL; st++)
    assert_int_equal(sum(s1.stage_hist[st], SG_STORE_STAGE_BUCKETS + 1),
                     sum(s0.stage_hist[st], SG_STORE_STAGE_BUCKETS + 1));
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(bounds_are_the_documented_ones),
      cmocka_unit_test(durations_land_in_their_bucket),
      cmocka_unit_test(batches_land_in_their_bucket),
      cmocka_unit_test(failed_commit_counts_duration_only),
      cmocka_unit_test_setup_teardown(group_commit_is_counted_once, setup,
                                      teardown),
      cmocka_unit_test(stage_bounds_and_buckets),
      cmocka_unit_test_setup_teardown(receipts_stage_is_counted, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(submit_stages_are_counted, setup,
                                      teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
