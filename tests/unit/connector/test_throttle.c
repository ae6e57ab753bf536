/* Tests for the adaptive token bucket (connector/throttle.h), on a clock
 * the test moves by hand: the bucket's size and refill, multiplicative
 * cuts at most once per interval, additive recovery back to the limit, and
 * the unlimited mode that starts from the measured rate. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <math.h>
#include <stdbool.h>

#include "connector/throttle.h"

static unsigned take_all(sg_throttle_t *t, uint64_t now) {
  unsigned n = 0;
  while (n < 100000 && sg_throttle_take_n(t, 1, now))
    n++;
  return n;
}

static void test_bucket(void **state) {
  (void)state;
  sg_throttle_config_t cfg;
  sg_throttle_config_default(&cfg);
  cfg.limit = 100; /* burst 0.1 s = 10 tokens */
  sg_throttle_t t;
  sg_throttle_init(&t, &cfg, 1000);
  assert_int_equal(take_all(&t, 1000), 10);
  assert_int_equal(sg_throttle_wait_ms(&t, 1000), 10);
  assert_int_equal(take_all(&t, 1005), 0);
  assert_int_equal(sg_throttle_wait_ms(&t, 1005), 5);
  assert_int_equal(take_all(&t, 1010), 1);
  /* One second later the bucket is full again, not fuller. */
  assert_int_equal(take_all(&t, 2010), 10);
  /* A long idle period does not build up a burst either. */
  assert_int_equal(take_all(&t, 100000), 10);
  /* take_n may go into debt: 5 parts at once leave -4 tokens. */
  assert_true(sg_throttle_take_n(&t, 1, 200000));
  assert_int_equal(take_all(&t, 200000), 9);
  assert_true(sg_throttle_take_n(&t, 5, 200010));
  assert_int_equal(sg_throttle_wait_ms(&t, 200010), 50);
  assert_true(fabs(sg_throttle_rate(&t, 200010) - 100.0) < 1e-9);
}

static void test_unlimited(void **state) {
  (void)state;
  sg_throttle_t t;
  sg_throttle_init(&t, NULL, 0);
  for (int i = 0; i < 1000000; i++)
    assert_true(sg_throttle_take_n(&t, 1, 5));
  assert_int_equal(sg_throttle_wait_ms(&t, 5), 0);
  assert_true(sg_throttle_rate(&t, 5) == 0.0);
}

static void test_cut_and_recover(void **state) {
  (void)state;
  sg_throttle_config_t cfg;
  sg_throttle_config_default(&cfg);
  cfg.limit = 1000;
  sg_throttle_t t;
  sg_throttle_init(&t, &cfg, 0);
  sg_throttle_cut(&t, 100);
  assert_true(fabs(sg_throttle_rate(&t, 100) - 500) < 1e-9);
  /* Right after a cut at most one token is there. */
  assert_int_equal(take_all(&t, 100), 1);
  /* The answers to one window arrive together: one cut per second. */
  sg_throttle_cut(&t, 200);
  sg_throttle_cut(&t, 1099);
  assert_true(fabs(sg_throttle_rate(&t, 1099) - 500) < 1e-9);
  assert_int_equal(t.cuts, 1);
  /* Recovery starts recover_delay_ms (1 s) after the cut, at 10% of the
   * limit per second: 600 at 2.1 s, back at the limit at 6.1 s. */
  assert_true(fabs(sg_throttle_rate(&t, 2100) - 600) < 1e-6);
  assert_true(fabs(sg_throttle_rate(&t, 4100) - 800) < 1e-6);
  assert_true(fabs(sg_throttle_rate(&t, 7000) - 1000) < 1e-9);
  /* A cut every second (an operator throttling a share of the submits at
   * any rate): growth goes on between the cuts, so the rate settles where
   * halving and a second of growth (100/s) balance, r = (r + 100) / 2, at
   * 100/s, instead of sinking to the floor. */
  cfg.floor = 1;
  sg_throttle_init(&t, &cfg, 0);
  for (uint64_t now = 0; now < 20000; now += 1000)
    sg_throttle_cut(&t, now);
  assert_int_equal(t.cuts, 20);
  assert_true(fabs(sg_throttle_rate(&t, 19000) - 100) < 0.01);
  /* ... and recovers to the limit once the cuts stop. */
  assert_true(fabs(sg_throttle_rate(&t, 29000) - 1000) < 1e-9);
  /* Repeated cuts never go below the floor. */
  cfg.floor = 150;
  sg_throttle_init(&t, &cfg, 0);
  for (uint64_t now = 0; now < 20000; now += 1000)
    sg_throttle_cut(&t, now);
  assert_true(fabs(sg_throttle_rate(&t, 19000) - 150) < 1e-9);
  assert_int_equal(t.cuts, 20);
}

static void test_unlimited_cut(void **state) {
  (void)state;
  sg_throttle_t t;
  sg_throttle_init(&t, NULL, 0);
  /* 2000 parts in the first second, 800 in the next 400 ms. */
  for (int i = 0; i < 2000; i++)
    sg_throttle_take_n(&t, 1, (uint64_t)i / 2);
  for (int i = 0; i < 800; i++)
    sg_throttle_take_n(&t, 1, 1000 + (uint64_t)i / 2);
  sg_throttle_cut(&t, 1400);
  /* The faster estimate wins: 800 in 400 ms is 2000/s; the cut halves it. */
  assert_true(fabs(sg_throttle_rate(&t, 1400) - 1000) < 1e-6);
  /* Recovery aims at 2000/s (+200/s per second) and then lifts the limit. */
  assert_true(fabs(sg_throttle_rate(&t, 3400) - 1200) < 1e-6);
  assert_true(sg_throttle_rate(&t, 8000) == 0.0);
  assert_int_equal(sg_throttle_wait_ms(&t, 8000), 0);
  /* A cut right after the start reads a handful of parts over 50 ms, not
   * as the rate of a whole second. */
  sg_throttle_init(&t, NULL, 0);
  for (int i = 0; i < 20; i++)
    sg_throttle_take_n(&t, 1, 1);
  sg_throttle_cut(&t, 2);
  assert_true(fabs(sg_throttle_rate(&t, 2) - 200) < 1e-6);
}

/* ---- Against a simulated operator ---------------------------------------
 * One step per millisecond: parts are offered at `offered` a second, sent
 * as the throttle allows, and answered at once by an operator that either
 * takes at most `op_rate` a second (counted per 100 ms: a rate limit) or
 * throttles every `every`-th submit whatever the rate (a share). Returns
 * the parts the operator accepted. */
typedef struct op_sim {
  double op_rate;  /* > 0: a rate-limiting operator */
  unsigned every;  /* > 0: throttles every n-th submit */
  uint64_t seen;   /* submits answered */
  uint64_t slot;   /* current 100 ms slot */
  double in_slot;  /* accepted in it */
} op_sim_t;

static bool op_accepts(op_sim_t *op, uint64_t now) {
  op->seen++;
  if (op->every > 0)
    return op->seen % op->every != 0;
  if (op->op_rate <= 0)
    return true;
  if (now / 100 != op->slot) {
    op->slot = now / 100;
    op->in_slot = 0;
  }
  if (op->in_slot + 1 > op->op_rate / 10)
    return false;
  op->in_slot++;
  return true;
}

static uint64_t run_op(sg_throttle_t *t, op_sim_t *op, uint64_t from,
                       uint64_t to, double offered) {
  uint64_t accepted = 0;
  double credit = 0;
  for (uint64_t now = from; now < to; now++) {
    credit += offered / 1000.0;
    while (credit >= 1.0 && sg_throttle_take_n(t, 1, now)) {
      credit -= 1.0;
      if (op_accepts(op, now)) {
        sg_throttle_accepted(t, 1);
        accepted++;
      } else {
        credit += 1.0; /* the part is sent again */
        sg_throttle_cut(t, now);
      }
    }
    if (credit > offered) /* a queue, but not an endless one */
      credit = offered;
  }
  return accepted;
}

/* An operator that takes 200 parts/s of the 1000/s the connector may
 * send: the parts it accepts come to its rate, not far below it (halving
 * alone swung the rate between 100 and 200, about 150 accepted a second),
 * the rate stays within 2x of it, and it goes back to the limit once the
 * operator stops throttling. */
static void test_rate_limited_operator(void **state) {
  (void)state;
  sg_throttle_config_t cfg;
  sg_throttle_config_default(&cfg);
  cfg.limit = 1000;
  sg_throttle_t t;
  sg_throttle_init(&t, &cfg, 0);
  op_sim_t op = {.op_rate = 200};
  run_op(&t, &op, 0, 10000, 2000);
  uint64_t acc = run_op(&t, &op, 10000, 30000, 2000);
  /* 20 s at the operator's 200/s is 4,000. */
  assert_true(acc >= 3800);
  assert_true(acc <= 4000);
  double r = sg_throttle_rate(&t, 30000);
  assert_true(r >= 200 && r <= 400);
  /* It stops throttling: back at the limit 10 s later at most. */
  op.op_rate = 0;
  acc = run_op(&t, &op, 30000, 41000, 2000);
  assert_true(fabs(sg_throttle_rate(&t, 41000) - 1000) < 1e-9);
  assert_true(acc > 7000);
}

/* An operator that throttles a fifth of the submits whatever the rate,
 * with no configured limit and 500 parts/s offered. The first cut comes a
 * few milliseconds after the start and measures the rate from a handful of
 * parts (100/s); halving, with the ceiling left at that sample, held the
 * rate near a tenth of it (about 40 accepted a second). The ceiling now
 * follows the accepted rate: the rate climbs back towards the traffic,
 * and once the operator stops throttling the limit is lifted. */
static void test_share_throttling_operator(void **state) {
  (void)state;
  sg_throttle_t t;
  sg_throttle_init(&t, NULL, 0);
  op_sim_t op = {.every = 5};
  run_op(&t, &op, 0, 10000, 500);
  uint64_t acc = run_op(&t, &op, 10000, 30000, 500);
  /* About 190 accepted a second over these 20 s, still climbing. */
  assert_true(acc >= 3000);
  assert_true(sg_throttle_rate(&t, 30000) >= 300);
  op.every = 0;
  run_op(&t, &op, 30000, 42000, 500);
  assert_true(sg_throttle_rate(&t, 42000) == 0.0);
}

/* Accepted answers only count between cuts: a share is never read from a
 * handful of answers, and the counters start again at each cut. */
static void test_cut_by_share(void **state) {
  (void)state;
  sg_throttle_config_t cfg;
  sg_throttle_config_default(&cfg);
  cfg.limit = 1000;
  sg_throttle_t t;
  sg_throttle_init(&t, &cfg, 0);
  sg_throttle_accepted(&t, 1000);
  sg_throttle_cut(&t, 0); /* the first cut of an episode halves */
  assert_true(fabs(sg_throttle_rate(&t, 0) - 500) < 1e-9);
  assert_int_equal(t.ans_ok, 0);
  assert_int_equal(t.ans_thr, 0);
  /* 90 accepted, 10 throttled (the cut at 1500 ms is the 10th): 10 %. */
  sg_throttle_accepted(&t, 90);
  for (int i = 0; i < 9; i++)
    sg_throttle_cut(&t, 500); /* within the interval: counted, no cut */
  assert_int_equal(t.cuts, 1);
  assert_int_equal(t.ans_thr, 9);
  sg_throttle_cut(&t, 1500); /* 500 + 50 of growth (from 1 s), x 0.9 */
  assert_int_equal(t.cuts, 2);
  assert_true(fabs(sg_throttle_rate(&t, 1500) - 495) < 1e-6);
  /* 3 answers in all: too few for a share; the cut is by half. */
  sg_throttle_accepted(&t, 2);
  sg_throttle_cut(&t, 2500);
  assert_true(fabs(sg_throttle_rate(&t, 2500) - 297.5) < 1e-6); /* (495 + 100) / 2 */
  /* Mostly throttled: never more than halved in one cut. */
  sg_throttle_accepted(&t, 1);
  for (int i = 0; i < 20; i++)
    sg_throttle_cut(&t, 3000);
  sg_throttle_cut(&t, 3500);
  assert_true(fabs(sg_throttle_rate(&t, 3500) - 198.75) < 1e-6);
}

static void test_config_sanitised(void **state) {
  (void)state;
  sg_throttle_config_t cfg = {.limit = -5, .floor = 0, .decrease = 2};
  sg_throttle_t t;
  sg_throttle_init(&t, &cfg, 0);
  assert_true(t.cfg.limit == 0);
  assert_true(t.cfg.floor == 1);
  assert_true(t.cfg.decrease == 0.5);
  cfg = (sg_throttle_config_t){.limit = 10, .floor = 50};
  sg_throttle_init(&t, &cfg, 0);
  assert_true(t.cfg.floor == 10);       /* never above the limit */
  assert_int_equal(take_all(&t, 0), 1); /* burst at least one token */
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_bucket),
      cmocka_unit_test(test_unlimited),
      cmocka_unit_test(test_cut_and_recover),
      cmocka_unit_test(test_unlimited_cut),
      cmocka_unit_test(test_rate_limited_operator),
      cmocka_unit_test(test_share_throttling_operator),
      cmocka_unit_test(test_cut_by_share),
      cmocka_unit_test(test_config_sanitised),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
