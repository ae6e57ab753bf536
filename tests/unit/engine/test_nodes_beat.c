/* Tests for how a node judges the others and itself by heartbeats
 * (engine/nodes.c, docs/scaling.md): a node whose own heartbeat is late
 * (its loop or the database stalled) allows the others dead_after plus
 * its own lateness before it declares them dead, since the same stall held
 * theirs back; and a node does not claim while its own last heartbeat
 * written is older than dead_after, nor while it reconciles after a
 * heartbeat that came late. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "engine/engine_int.h"

static void on_time_keeps_dead_after(void **state) {
  (void)state;
  /* heartbeat 2 s, dead_after 10 s: a gap up to one heartbeat is on time. */
  assert_int_equal(sg__nodes_dead_after(10000, 2000, 0), 10000);
  assert_int_equal(sg__nodes_dead_after(10000, 2000, 1500), 10000);
  assert_int_equal(sg__nodes_dead_after(10000, 2000, 2000), 10000);
}

static void own_lateness_is_added(void **state) {
  (void)state;
  /* This node wrote its previous heartbeat 2.5 s ago: 0.5 s late. */
  assert_int_equal(sg__nodes_dead_after(10000, 2000, 2500), 10500);
  /* The database was away for 30 s: every node's heartbeat is 30 s old,
   * and none of them is dead for that alone. */
  int64_t d = sg__nodes_dead_after(10000, 2000, 30000);
  assert_int_equal(d, 38000);
  assert_true(d > 30000);
  /* Huge gaps do not wrap. */
  assert_int_equal(sg__nodes_dead_after(10000, 2000, INT64_MAX), INT64_MAX);
  /* Nonsense in, the configured value out. */
  assert_int_equal(sg__nodes_dead_after(10000, -1, 50000), 10000);
}

static void claims_wait_for_a_fresh_heartbeat(void **state) {
  (void)state;
  int64_t t = 1000000;
  /* No heartbeat written yet: the registration at open stands for one. */
  assert_true(sg__nodes_claim_ok(t, 0, 3000, false));
  assert_true(sg__nodes_claim_ok(t, t - 2000, 3000, false));
  assert_true(sg__nodes_claim_ok(t, t - 3000, 3000, false));
  /* Older than dead_after: the others may be taking this node's parts. */
  assert_false(sg__nodes_claim_ok(t, t - 3001, 3000, false));
  assert_false(sg__nodes_claim_ok(t, t - 60000, 3000, false));
  /* A heartbeat written just now, but the one before was late. */
  assert_false(sg__nodes_claim_ok(t, t, 3000, true));
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(on_time_keeps_dead_after),
      cmocka_unit_test(own_lateness_is_added),
      cmocka_unit_test(claims_wait_for_a_fresh_heartbeat),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
