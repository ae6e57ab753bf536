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
      cmocka_unit_test(test_config_sanitised),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
