/* Tests of sg_store_waiting_parts (store/store.h): the smsc_ids of a
 * connector's parts that are 'sent' and so still wait for their receipt,
 * newest first, bounded by age and count; parts of other connectors, parts
 * that got their final receipt and parts not sent yet are not among them.
 */
#include "store_fixture.h"

typedef struct ids_got {
  int calls;
  int status;
  size_t n;
  char ids[8][66];
} ids_got_t;

static void ids_cb(sg_store_t *st, int status, const char *const *ids, size_t n,
                   void *data) {
  (void)st;
  ids_got_t *g = data;
  g->status = status;
  g->n = n;
  for (size_t i = 0; i < n && i < 8; i++)
    snprintf(g->ids[i], sizeof g->ids[i], "%s", ids[i]);
  g->calls++;
}

static void waiting_wait(ctx_t *c, const char *conn, int64_t since,
                         unsigned max, ids_got_t *g) {
  memset(g, 0, sizeof *g);
  assert_int_equal(sg_store_waiting_parts(c->st, conn, since, max, ids_cb, g),
                   0);
  run_until(c, &g->calls, 1);
  assert_int_equal(g->status, 0);
}

/* Submits one part on conn at the fake time `at` and records it sent with
 * smsc_id (NULL: left queued). */
static void part_sent(ctx_t *c, const char *conn, const char *rcpt, int64_t at,
                      const char *smsc_id) {
  atomic_store(&fake_now, at);
  tmsg_t m;
  tmsg_init(&m, rcpt, 1, conn);
  assert_int_equal(submit_wait(c, &m, 1, NULL, NULL), 0);
  if (smsc_id == NULL)
    return;
  claim_one_sent(c, conn, smsc_id);
}

static void waiting_parts(void **state) {
  ctx_t *c = *state;
  open_store(c);
  part_sent(c, "gsm1", "+4915112345601", T0, "1:4915112345601:1700000000000");
  part_sent(c, "gsm1", "+4915112345602", T0 + 1000,
            "2:4915112345602:1700000001000");
  part_sent(c, "gsm1", "+4915112345603", T0 + 2000,
            "3:4915112345603:1700000002000");
  part_sent(c, "gsm2", "+4915112345604", T0 + 3000,
            "1:4915112345604:1700000003000");
  part_sent(c, "gsm1", "+4915112345605", T0 + 4000, NULL); /* queued */

  ids_got_t g;
  waiting_wait(c, "gsm1", 0, 10, &g);
  assert_int_equal(g.n, 3);
  assert_string_equal(g.ids[0], "3:4915112345603:1700000002000"); /* newest */
  assert_string_equal(g.ids[1], "2:4915112345602:1700000001000");
  assert_string_equal(g.ids[2], "1:4915112345601:1700000000000");

  waiting_wait(c, "gsm1", 0, 2, &g); /* at most max */
  assert_int_equal(g.n, 2);
  assert_string_equal(g.ids[1], "2:4915112345602:1700000001000");
  waiting_wait(c, "gsm1", T0 + 1000, 10, &g); /* not older than since */
  assert_int_equal(g.n, 2);
  waiting_wait(c, "gsm2", 0, 10, &g);
  assert_int_equal(g.n, 1);
  waiting_wait(c, "none", 0, 10, &g);
  assert_int_equal(g.n, 0);

  /* A final receipt ends the wait; an intermediate one does not. */
  sg_store_receipt_in_t d[2] = {{.connector = "gsm1",
                                 .smsc_id = "3:4915112345603:1700000002000",
                                 .status = SG_MSG_DELIVERED},
                                {.connector = "gsm1",
                                 .smsc_id = "2:4915112345602:1700000001000",
                                 .status = SG_MSG_SENT}};
  items_got_t ig;
  receipts_wait(c, d, 2, &ig);
  assert_int_equal(ig.items[0].status, 0);
  waiting_wait(c, "gsm1", 0, 10, &g);
  assert_int_equal(g.n, 2);
  assert_string_equal(g.ids[0], "2:4915112345602:1700000001000");

  /* Bad arguments fail at once. */
  assert_int_equal(sg_store_waiting_parts(c->st, NULL, 0, 10, ids_cb, &g),
                   SG_EINVAL);
  assert_int_equal(sg_store_waiting_parts(c->st, "gsm1", 0, 0, ids_cb, &g),
                   SG_EINVAL);
  assert_int_equal(sg_store_waiting_parts(c->st, "gsm1", 0,
                                          SG_STORE_WAITING_MAX + 1, ids_cb, &g),
                   SG_EINVAL);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(waiting_parts, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
