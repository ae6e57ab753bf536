/* test_store_onpart.c - a message of one part keeps 'queued' in its row
 * while a claim makes its part 'sending' and a SENT result makes it 'sent'
 * (they write the part and the message's event only, sqlite_write.c
 * stored_status), and every read shows it as before: the message
 * 'sending' or 'sent' with the time of that change, in a read, in a list
 * filtered by status, in the counts and in a cancel; a retry, a lease that
 * ran out, a restart and a receipt still record their status with their
 * events and the row. Messages of several parts are written as before.
 * SQLite only: the PostgreSQL store writes the row (test_store_sqlite's
 * lives run on both).
 */
#include "store_fixture.h"

/* messages.status as stored, not as read. */
static const char *row_status(ctx_t *c, const char *mid) {
  char sql[128];
  snprintf(sql, sizeof sql, "SELECT status FROM messages WHERE id = '%s'",
           mid);
  return q1s(c, sql);
}

typedef struct list_got {
  int calls, status;
  size_t n;
  sg_msg_status_t st[8];
  int64_t updated_ms[8];
} list_got_t;

static void list_cb(sg_store_t *st, int status, const sg_store_list_res_t *res,
                    void *data) {
  (void)st;
  list_got_t *g = data;
  g->status = status;
  g->n = status == 0 ? res->n : 0;
  for (size_t i = 0; i < g->n && i < 8; i++) {
    g->st[i] = res->msgs[i].status;
    g->updated_ms[i] = res->msgs[i].updated_ms;
  }
  g->calls++;
}

static size_t list_with(ctx_t *c, sg_msg_status_t status, list_got_t *g) {
  sg_store_filter_t f = {.status = status, .limit = 8};
  memset(g, 0, sizeof *g);
  assert_int_equal(sg_store_list_messages(c->st, &f, list_cb, g), 0);
  run_until(c, &g->calls, 1);
  assert_int_equal(g->status, 0);
  return g->n;
}

typedef struct counts_got {
  int calls, status;
  sg_store_counts_t k;
} counts_got_t;

static void counts_cb(sg_store_t *st, int status, const sg_store_counts_t *k,
                      void *data) {
  (void)st;
  counts_got_t *g = data;
  g->status = status;
  if (status == 0)
    g->k = *k;
  g->calls++;
}

static void counts_wait(ctx_t *c, counts_got_t *g) {
  memset(g, 0, sizeof *g);
  assert_int_equal(sg_store_counts(c->st, counts_cb, g), 0);
  run_until(c, &g->calls, 1);
  assert_int_equal(g->status, 0);
}

static int cancel_status(ctx_t *c, const char *mid) {
  items_got_t g = {0};
  assert_int_equal(sg_store_cancel(c->st, mid, 0, items_cb, &g), 0);
  run_until(c, &g.calls, 1);
  assert_int_equal(g.status, 0);
  return g.items[0].status;
}

/* Submits a message of n parts at T0 and claims it at T0 + 5 s. */
static void submit_claim(ctx_t *c, tmsg_t *m, unsigned n, claim_got_t *cg) {
  tmsg_init(m, "+14155550130", n, "smsc-a");
  assert_int_equal(submit_wait(c, m, 1, NULL, NULL), 0);
  atomic_store(&fake_now, T0 + 5000);
  claim_wait(c, "smsc-a", 4, cg);
  assert_int_equal(cg->n, n);
}

static void sending_is_read_from_the_part(void **state) {
  ctx_t *c = *state;
  open_store(c);
  tmsg_t m;
  claim_got_t cg;
  submit_claim(c, &m, 1, &cg);
  assert_string_equal(row_status(c, m.m.id), "queued"); /* not rewritten */

  msg_got_t g;
  get_wait(c, m.m.id, 0, &g);
  assert_int_equal(g.status_of_msg, SG_MSG_SENDING);
  static const sg_msg_status_t two[] = {SG_MSG_QUEUED, SG_MSG_SENDING};
  expect_msg_events(&g, two, 2);

  list_got_t lg;
  assert_int_equal(list_with(c, SG_MSG_SENDING, &lg), 1);
  assert_int_equal(lg.st[0], SG_MSG_SENDING);
  assert_int_equal(lg.updated_ms[0], T0 + 5000); /* the claim's time */
  assert_int_equal(list_with(c, SG_MSG_QUEUED, &lg), 0);
  assert_int_equal(list_with(c, SG_MSG_NONE, &lg), 1);
  assert_int_equal(lg.st[0], SG_MSG_SENDING);

  counts_got_t k;
  counts_wait(c, &k);
  assert_int_equal(k.k.messages[SG_MSG_SENDING], 1);
  assert_int_equal(k.k.messages[SG_MSG_QUEUED], 0);
  assert_int_equal(cancel_status(c, m.m.id), SG_ESTATE);

  /* A retry puts it back: the message event 'queued' and the row. */
  atomic_store(&fake_now, T0 + 6000);
  sg_store_result_in_t r = {.part_id = cg.parts[0].part_id,
                            .attempt = cg.parts[0].attempt,
                            .outcome = SG_STORE_RETRY,
                            .error_code = 88,
                            .detail = "throttled"};
  items_got_t ig;
  results_wait(c, &r, 1, &ig);
  assert_int_equal(ig.items[0].status, 0);
  assert_int_equal(ig.items[0].msg_status, SG_MSG_QUEUED);
  assert_true(ig.items[0].msg_changed);
  get_wait(c, m.m.id, 0, &g);
  assert_int_equal(g.status_of_msg, SG_MSG_QUEUED);
  static const sg_msg_status_t three[] = {SG_MSG_QUEUED, SG_MSG_SENDING,
                                          SG_MSG_QUEUED};
  expect_msg_events(&g, three, 3);
  assert_int_equal(list_with(c, SG_MSG_QUEUED, &lg), 1);
  assert_int_equal(lg.updated_ms[0], T0 + 6000);

  /* Claimed again and sent: 'sending' once more, then 'sent', still on the
   * part only. */
  atomic_store(&fake_now, T0 + 7000);
  claim_wait(c, "smsc-a", 4, &cg);
  assert_int_equal(cg.n, 1);
  r = (sg_store_result_in_t){.part_id = cg.parts[0].part_id,
                             .attempt = cg.parts[0].attempt,
                             .outcome = SG_STORE_SENT,
                             .smsc_id = "x-1"};
  results_wait(c, &r, 1, &ig);
  assert_int_equal(ig.items[0].msg_status, SG_MSG_SENT);
  assert_true(ig.items[0].msg_changed);
  assert_string_equal(row_status(c, m.m.id), "queued");
  get_wait(c, m.m.id, 0, &g);
  assert_int_equal(g.status_of_msg, SG_MSG_SENT);
  static const sg_msg_status_t five[] = {SG_MSG_QUEUED, SG_MSG_SENDING,
                                         SG_MSG_QUEUED, SG_MSG_SENDING,
                                         SG_MSG_SENT};
  expect_msg_events(&g, five, 5);
  assert_int_equal(g.attempts[0], 2);
  assert_int_equal(list_with(c, SG_MSG_SENT, &lg), 1);
  assert_int_equal(lg.updated_ms[0], T0 + 7000);
  assert_int_equal(list_with(c, SG_MSG_QUEUED, &lg), 0);
  assert_int_equal(list_with(c, SG_MSG_SENDING, &lg), 0);
  counts_wait(c, &k);
  assert_int_equal(k.k.messages[SG_MSG_SENT], 1);
  assert_int_equal(k.k.messages[SG_MSG_QUEUED], 0);
  assert_int_equal(cancel_status(c, m.m.id), SG_ESTATE);

  /* The receipt ends it: the row is written, with the receipt's events. */
  atomic_store(&fake_now, T0 + 9000);
  sg_store_receipt_in_t d = {.connector = "smsc-a",
                             .smsc_id = "x-1",
                             .status = SG_MSG_DELIVERED,
                             .done_ms = T0 + 8000};
  receipts_wait(c, &d, 1, &ig);
  assert_int_equal(ig.items[0].msg_status, SG_MSG_DELIVERED);
  assert_true(ig.items[0].msg_changed);
  assert_string_equal(row_status(c, m.m.id), "delivered");
  get_wait(c, m.m.id, 0, &g);
  static const sg_msg_status_t six[] = {SG_MSG_QUEUED, SG_MSG_SENDING,
                                        SG_MSG_QUEUED, SG_MSG_SENDING,
                                        SG_MSG_SENT,   SG_MSG_DELIVERED};
  expect_msg_events(&g, six, 6);
  assert_int_equal(list_with(c, SG_MSG_DELIVERED, &lg), 1);
  assert_int_equal(lg.updated_ms[0], T0 + 9000);
  counts_wait(c, &k);
  assert_int_equal(k.k.messages[SG_MSG_DELIVERED], 1);
  assert_int_equal(k.k.messages[SG_MSG_SENT], 0);
}

/* A lease that ran out, and a restart while sending, record 'queued'. */
static void requeued_records_queued(void **state) {
  ctx_t *c = *state;
  open_store(c);
  tmsg_t m;
  claim_got_t cg;
  submit_claim(c, &m, 1, &cg); /* lease 60 s */
  atomic_store(&fake_now, T0 + 70000);
  claim_wait(c, "smsc-a", 4, &cg);
  assert_int_equal(cg.requeued, 1);
  assert_int_equal(cg.n, 1); /* taken again at once */
  msg_got_t g;
  get_wait(c, m.m.id, 0, &g);
  static const sg_msg_status_t four[] = {SG_MSG_QUEUED, SG_MSG_SENDING,
                                         SG_MSG_QUEUED, SG_MSG_SENDING};
  expect_msg_events(&g, four, 4);
  assert_int_equal(g.status_of_msg, SG_MSG_SENDING);

  close_store(c);
  open_store(c);
  get_wait(c, m.m.id, 0, &g);
  assert_int_equal(g.status_of_msg, SG_MSG_QUEUED);
  static const sg_msg_status_t five[] = {SG_MSG_QUEUED, SG_MSG_SENDING,
                                         SG_MSG_QUEUED, SG_MSG_SENDING,
                                         SG_MSG_QUEUED};
  expect_msg_events(&g, five, 5);
  assert_string_equal(row_status(c, m.m.id), "queued");
}

/* A receipt that ends the part while it is 'sending' (sent again after a
 * lost response) ends the message from 'sending'. */
static void receipt_while_sending(void **state) {
  ctx_t *c = *state;
  open_store(c);
  tmsg_t m;
  claim_got_t cg;
  submit_claim(c, &m, 1, &cg);
  sg_store_result_in_t r = {.part_id = cg.parts[0].part_id,
                            .attempt = cg.parts[0].attempt,
                            .outcome = SG_STORE_SENT,
                            .smsc_id = "x-2"};
  items_got_t ig;
  results_wait(c, &r, 1, &ig);
  assert_string_equal(row_status(c, m.m.id), "queued");
  raw_exec(c, "UPDATE parts SET status = 'sending'"); /* claimed again */
  raw_exec(c, "UPDATE messages SET status = 'queued'");
  sg_store_receipt_in_t d = {
      .connector = "smsc-a", .smsc_id = "x-2", .status = SG_MSG_DELIVERED};
  receipts_wait(c, &d, 1, &ig);
  assert_int_equal(ig.items[0].msg_status, SG_MSG_DELIVERED);
  assert_true(ig.items[0].msg_changed);
  assert_string_equal(row_status(c, m.m.id), "delivered");
}

/* A message of two parts is written as before: its row says 'sending'. */
static void several_parts_write_the_row(void **state) {
  ctx_t *c = *state;
  open_store(c);
  tmsg_t m;
  claim_got_t cg;
  submit_claim(c, &m, 2, &cg);
  assert_string_equal(row_status(c, m.m.id), "sending");
  msg_got_t g;
  get_wait(c, m.m.id, 0, &g);
  assert_int_equal(g.status_of_msg, SG_MSG_SENDING);
  static const sg_msg_status_t two[] = {SG_MSG_QUEUED, SG_MSG_SENDING};
  expect_msg_events(&g, two, 2);
  list_got_t lg;
  assert_int_equal(list_with(c, SG_MSG_SENDING, &lg), 1);
  assert_int_equal(lg.updated_ms[0], T0 + 5000);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(sending_is_read_from_the_part, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(requeued_records_queued, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(receipt_while_sending, setup, teardown),
      cmocka_unit_test_setup_teardown(several_parts_write_the_row, setup,
                                      teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
