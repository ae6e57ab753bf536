/* Tests for incoming messages queued for SMPP customers (migration 0006):
 * sg_store_mo_deliver with smpp_out writes one smpp_out row in the
 * transaction of the message, a claim hands it out among the account's
 * receipts in the order they were stored, with the message's whole body
 * and addresses; a delivery without smpp_out queues nothing; a row left
 * unfinished survives a close and reopen; receipt_max_age drops it; and
 * smpp_out without an account is refused at once. */
#include "store_fixture.h"

typedef struct mo_so_got {
  int calls, status;
  size_t n, dropped;
  int64_t id[8];
  bool mo[8];
  char mid[8][SG_ID_LEN + 1];
  char from[8][24], to[8][24];
  char body[8][400];
  bool binary[8];
  int64_t received_ms[8];
  sg_msg_status_t st[8];
} mo_so_got_t;

static void mo_so_cb(sg_store_t *st, int status, const sg_store_smpp_out_t *o,
                     size_t n, size_t dropped, void *data) {
  (void)st;
  mo_so_got_t *g = data;
  g->status = status;
  g->n = n;
  g->dropped = dropped;
  for (size_t i = 0; i < n && i < 8; i++) {
    g->id[i] = o[i].id;
    g->mo[i] = o[i].mo;
    snprintf(g->mid[i], sizeof g->mid[i], "%s", o[i].message_id);
    snprintf(g->from[i], sizeof g->from[i], "%s",
             o[i].sender ? o[i].sender : "(null)");
    snprintf(g->to[i], sizeof g->to[i], "%s", o[i].recipient);
    snprintf(g->body[i], sizeof g->body[i], "%.*s", (int)o[i].body_len,
             (const char *)o[i].body);
    g->binary[i] = o[i].binary;
    g->received_ms[i] = o[i].received_ms;
    g->st[i] = o[i].status;
  }
  g->calls++;
}

static void claim_so(ctx_t *c, int64_t account, int64_t max_age,
                     mo_so_got_t *g) {
  memset(g, 0, sizeof *g);
  assert_int_equal(
      sg_store_smpp_out_claim(c->st, account, 8, 5000, max_age, mo_so_cb, g),
      0);
  run_until(c, &g->calls, 1);
  assert_int_equal(g->status, 0);
}

static void id_cb(sg_store_t *st, int status, int64_t id, void *data) {
  (void)st;
  (void)id;
  int *g = data;
  g[0]++;
  g[1] = status;
}

static void fin_cb(sg_store_t *st, int status, void *data) {
  (void)st;
  int *g = data;
  g[0]++;
  g[1] = status;
}

/* Stores an inbound message for account 1 and returns its id in id. */
static int deliver_mo(ctx_t *c, const char *text, bool smpp, char *id) {
  sg_store_mo_deliver_t d = {.smpp_out = smpp};
  assert_int_equal(sg_id_new(d.msg.id), 0);
  d.msg.account_id = 1;
  d.msg.sender = "+79001234567";
  d.msg.recipient = "4444";
  d.msg.encoding = SG_ENC_GSM7;
  d.msg.body = (const uint8_t *)text;
  d.msg.body_len = strlen(text);
  d.msg.received_ms = fake_clock(NULL) - 5;
  int g[2] = {0, 0};
  assert_int_equal(sg_store_mo_deliver(c->st, &d, id_cb, g), 0);
  run_until(c, &g[0], 1);
  memcpy(id, d.msg.id, SG_ID_LEN + 1);
  return g[1];
}

static void finish(ctx_t *c, int64_t row, bool done) {
  sg_store_smpp_out_result_t r = {row, done};
  int g[2] = {0, 0};
  assert_int_equal(sg_store_smpp_out_finish(c->st, &r, 1, fin_cb, g), 0);
  run_until(c, &g[0], 1);
  assert_int_equal(g[1], 0);
}

/* A receipt owed to account 1 for a message submitted over SMPP. */
static void receipt(ctx_t *c, tmsg_t *m, const char *smsc_id) {
  static const sg_store_smpp_origin_t any = {1, 5, 0, "Shop", 1, 1, ""};
  tmsg_init(m, "+14155550101", 1, "smsc-a");
  m->m.smpp = &any;
  assert_int_equal(submit_wait(c, m, 1, NULL, NULL), 0);
  claim_got_t cg;
  claim_wait(c, "smsc-a", 1, &cg);
  assert_int_equal(cg.n, 1);
  sg_store_result_in_t r = {.part_id = cg.parts[0].part_id,
                            .attempt = 1,
                            .outcome = SG_STORE_SENT,
                            .smsc_id = smsc_id};
  items_got_t ig;
  results_wait(c, &r, 1, &ig);
  sg_store_receipt_in_t d = {
      .connector = "smsc-a", .smsc_id = smsc_id, .status = SG_MSG_DELIVERED};
  receipts_wait(c, &d, 1, &ig);
  assert_int_equal(ig.items[0].status, 0);
}

static void mo_rows_among_receipts(void **state) {
  ctx_t *c = *state;
  open_store(c);
  char a[SG_ID_LEN + 1], b[SG_ID_LEN + 1], none[SG_ID_LEN + 1];
  const char *cyr = "Привет, это длинный текст";
  assert_int_equal(deliver_mo(c, "first MO", true, a), 0);
  tmsg_t m;
  receipt(c, &m, "r1");
  assert_int_equal(deliver_mo(c, cyr, true, b), 0);
  assert_int_equal(deliver_mo(c, "for the webhook only", false, none), 0);
  assert_int_equal(q1(c, "SELECT count(*) FROM smpp_out WHERE kind = 1"), 2);
  assert_int_equal(q1(c, "SELECT count(*) FROM inbound"), 3);

  mo_so_got_t g;
  claim_so(c, 2, 0, &g); /* another account's: nothing */
  assert_int_equal(g.n, 0);
  claim_so(c, 1, 0, &g);
  assert_int_equal(g.n, 3);
  assert_true(g.mo[0]);
  assert_string_equal(g.mid[0], a);
  assert_string_equal(g.body[0], "first MO");
  assert_string_equal(g.from[0], "+79001234567");
  assert_string_equal(g.to[0], "4444");
  assert_false(g.binary[0]);
  assert_int_equal(g.received_ms[0], T0 - 5);
  assert_int_equal(g.st[0], SG_MSG_NONE);
  assert_false(g.mo[1]); /* the receipt, in between */
  assert_string_equal(g.mid[1], m.m.id);
  assert_int_equal(g.st[1], SG_MSG_DELIVERED);
  assert_true(g.mo[2]);
  assert_string_equal(g.mid[2], b);
  assert_string_equal(g.body[2], cyr); /* whole, not the receipt's 80 */

  /* The first taken, the others not: they come back, and survive a
   * restart (whose open releases every lease). */
  finish(c, g.id[0], true);
  finish(c, g.id[1], true);
  close_store(c);
  open_store(c);
  claim_so(c, 1, 0, &g);
  assert_int_equal(g.n, 1);
  assert_string_equal(g.mid[0], b);
  finish(c, g.id[0], false);

  /* Waiting longer than the maximum age: dropped, counted. */
  atomic_store(&fake_now, T0 + 60000);
  claim_so(c, 1, 10000, &g);
  assert_int_equal(g.n, 0);
  assert_int_equal(g.dropped, 1);
  assert_int_equal(q1(c, "SELECT count(*) FROM smpp_out"), 0);
  assert_int_equal(q1(c, "SELECT count(*) FROM inbound"), 3);
}

static void mo_row_needs_account(void **state) {
  ctx_t *c = *state;
  open_store(c);
  sg_store_mo_deliver_t d = {.smpp_out = true};
  assert_int_equal(sg_id_new(d.msg.id), 0);
  d.msg.sender = "+79001234567";
  d.msg.recipient = "4444";
  d.msg.body = (const uint8_t *)"x";
  d.msg.body_len = 1;
  int g[2] = {0, 0};
  assert_int_equal(sg_store_mo_deliver(c->st, &d, id_cb, g), SG_EINVAL);
  /* A failed delivery (a taken id) writes no row either. */
  char id[SG_ID_LEN + 1];
  assert_int_equal(deliver_mo(c, "once", true, id), 0);
  d.msg.account_id = 1;
  memcpy(d.msg.id, id, sizeof id);
  assert_int_equal(sg_store_mo_deliver(c->st, &d, id_cb, g), 0);
  run_until(c, &g[0], 1);
  assert_int_equal(g[1], SG_EEXIST);
  assert_int_equal(q1(c, "SELECT count(*) FROM smpp_out"), 1);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(mo_rows_among_receipts, setup, teardown),
      cmocka_unit_test_setup_teardown(mo_row_needs_account, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
