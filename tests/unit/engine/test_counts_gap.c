/* test_counts_gap.c - the time between two store counts for /metrics
 * (engine.c, sg__counts_gap): the configured interval while a count is
 * cheap, a hundred times a count's duration when that is longer (so that
 * counting a large PostgreSQL table takes under 1 % of the time), and never
 * more than an hour.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "engine/engine_int.h"

static void gap_follows_the_cost_of_a_count(void **state) {
  (void)state;
  assert_int_equal(sg__counts_gap(5000, 0), 5000);
  assert_int_equal(sg__counts_gap(5000, 1), 5000);
  assert_int_equal(sg__counts_gap(5000, 50), 5000);
  assert_int_equal(sg__counts_gap(5000, 51), 5100);
  assert_int_equal(sg__counts_gap(5000, 150), 15000); /* 300,000 rows */
  assert_int_equal(sg__counts_gap(5000, 36000), 3600000);
  assert_int_equal(sg__counts_gap(5000, INT64_MAX / 10), 3600000);
  assert_int_equal(sg__counts_gap(1000, 0), 1000);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(gap_follows_the_cost_of_a_count),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
