/* Tests for customers' pre-split parts stored as one message
 * (sg_store_presplit_add, migration 0012): the first part creates a
 * message of `total` parts holding it at its own seq, later parts (found
 * by their group's key, or named) are added; a duplicate seq, a seq above
 * the message's total, another account's message and a canceled message
 * are refused and change nothing; the message is not 'delivered' while a
 * part is missing; each part's final status queues its own receipt; a
 * group is found again after the store is closed and reopened; a wait
 * that ran out records the missing part as failed; a reused reference
 * after a whole message starts a new one; and bad arguments fail at
 * once. */
#include "store_fixture.h"

#define CONN "smsc-a"
#define WAIT_MS 60000

typedef struct ps_got {
  int calls, status;
  sg_store_presplit_res_t res;
} ps_got_t;

static void ps_cb(sg_store_t *st, int status, const sg_store_presplit_res_t *r,
                  void *data) {
  (void)st;
  ps_got_t *g = data;
  g->status = status;
  if (status == 0)
    g->res = *r;
  else
    assert_null(r);
  g->calls++;
}

typedef struct part {
  tmsg_t t;
  uint8_t udh[6];
  sg_store_smpp_origin_t o;
  sg_store_batch_t b;
  sg_store_presplit_t ps;
} part_t;

/* Part seq of a `total`-part message with reference ref from "+100" to
 * rcpt, with an origin that asks for every receipt. */
static void part_init(part_t *p, const char *rcpt, unsigned ref, unsigned total,
                      unsigned seq) {
  memset(p, 0, sizeof *p);
  tmsg_init(&p->t, rcpt, 1, CONN);
  p->t.m.sender = "+100";
  uint8_t udh[6] = {5, 0, 3, (uint8_t)ref, (uint8_t)total, (uint8_t)seq};
  memcpy(p->udh, udh, sizeof udh);
  p->t.parts[0].udh = p->udh;
  p->t.parts[0].udh_len = 6;
  p->t.ud[0][1] = (uint8_t)('0' + seq);
  p->o = (sg_store_smpp_origin_t){1, 1, 1, "100", 1, 1, rcpt + 1};
  p->t.m.smpp = &p->o;
  sg_id_new(p->b.batch_id);
  p->b.account_id = 1;
  p->b.msgs = &p->t.m;
  p->b.n_msgs = 1;
  p->ps.ref = (uint16_t)ref;
  p->ps.total = (uint8_t)total;
  p->ps.seq = (uint8_t)seq;
  p->ps.wait_ms = WAIT_MS;
}

static int add_wait(ctx_t *c, part_t *p, ps_got_t *g) {
  memset(g, 0, sizeof *g);
  int rc = sg_store_presplit_add(c->st, &p->b, &p->ps, ps_cb, g);
  if (rc != 0)
    return rc;
  run_until(c, &g->calls, 1);
  return g->status;
}

static long long count_sql(ctx_t *c, const char *fmt, const char *mid) {
  char sql[256];
  snprintf(sql, sizeof sql, fmt, mid);
  return q1(c, sql);
}

static const char *status_of(ctx_t *c, const char *mid) {
  char sql[128];
  snprintf(sql, sizeof sql, "SELECT status FROM messages WHERE id = '%s'", mid);
  return q1s(c, sql);
}

/* Everything that a refused request must leave as it was. */
static long long fingerprint(ctx_t *c) {
  return q1(c, "SELECT (SELECT count(*) FROM messages) * 1000000 + "
               "(SELECT count(*) FROM parts) * 10000 + "
               "(SELECT count(*) FROM events) * 100 + "
               "(SELECT count(*) FROM presplit_groups)");
}

static void test_parts_make_one_message(void **state) {
  ctx_t *c = *state;
  open_store(c);
  part_t p3, p1, p2;
  ps_got_t g;
  part_init(&p3, "+15550001", 7, 3, 3);
  assert_int_equal(add_wait(c, &p3, &g), 0);
  assert_true(g.res.created);
  assert_false(g.res.whole);
  assert_string_equal(g.res.message_id, p3.t.m.id);
  assert_int_equal(g.res.seq, 3);
  char mid[SG_ID_LEN + 1];
  memcpy(mid, g.res.message_id, sizeof mid);
  assert_int_equal(
      count_sql(c, "SELECT parts_total FROM messages WHERE id = '%s'", mid), 3);
  assert_int_equal(
      count_sql(c, "SELECT seq FROM parts WHERE message_id = '%s'", mid), 3);
  assert_int_equal(
      count_sql(c, "SELECT presplit FROM smpp_origin WHERE message_id = '%s'",
                mid),
      1);

  part_init(&p1, "+15550001", 7, 3, 1); /* found by its key */
  assert_int_equal(add_wait(c, &p1, &g), 0);
  assert_false(g.res.created);
  assert_string_equal(g.res.message_id, mid);
  assert_int_equal(g.res.seq, 1);
  assert_int_equal(q1(c, "SELECT count(*) FROM messages"), 1);

  part_init(&p2, "+15550001", 7, 3, 2); /* named */
  memcpy(p2.ps.message_id, mid, sizeof mid);
  assert_int_equal(add_wait(c, &p2, &g), 0);
  assert_true(g.res.whole);
  assert_int_equal(
      count_sql(c, "SELECT count(*) FROM parts WHERE message_id = '%s'", mid),
      3);
  assert_int_equal(
      count_sql(c,
                "SELECT CASE WHEN group_concat(seq || ':' || hex(ud) || ':' "
                "|| concat_total, ',') = '1:41311B:3,2:41321B:3,3:41331B:3' "
                "THEN 1 ELSE 0 END FROM (SELECT * FROM parts WHERE "
                "message_id = '%s' ORDER BY seq) AS p",
                mid),
      1);
  assert_int_equal(q1(c, "SELECT count(*) FROM presplit_groups"), 0);
  assert_string_equal(status_of(c, mid), "queued");
}

static void test_duplicate_and_range_change_nothing(void **state) {
  ctx_t *c = *state;
  open_store(c);
  part_t p1, dup, big, other;
  ps_got_t g;
  part_init(&p1, "+15550002", 9, 2, 1);
  assert_int_equal(add_wait(c, &p1, &g), 0);
  char mid[SG_ID_LEN + 1];
  memcpy(mid, g.res.message_id, sizeof mid);
  long long before = fingerprint(c);

  part_init(&dup, "+15550002", 9, 2, 1); /* by key */
  assert_int_equal(add_wait(c, &dup, &g), SG_EEXIST);
  assert_int_equal(fingerprint(c), before);
  memcpy(dup.ps.message_id, mid, sizeof mid); /* named */
  assert_int_equal(add_wait(c, &dup, &g), SG_EEXIST);
  assert_int_equal(fingerprint(c), before);

  /* A message of 2 parts named with a part 3 of 3. */
  part_init(&big, "+15550002", 9, 3, 3);
  memcpy(big.ps.message_id, mid, sizeof mid);
  assert_int_equal(add_wait(c, &big, &g), SG_ERANGE);
  assert_int_equal(fingerprint(c), before);

  /* Another account's message is not found. */
  part_init(&other, "+15550002", 9, 2, 2);
  memcpy(other.ps.message_id, mid, sizeof mid);
  other.b.account_id = 2;
  assert_int_equal(add_wait(c, &other, &g), SG_ENOENT);
  assert_int_equal(fingerprint(c), before);

  /* Usage of a refused part is not counted. */
  memcpy(dup.b.usage_day, "2023-11-14", 11);
  dup.b.usage_parts = 1;
  assert_int_equal(add_wait(c, &dup, &g), SG_EEXIST);
  assert_int_equal(q1(c, "SELECT count(*) FROM account_usage"), 0);
  assert_int_equal(fingerprint(c), before);
}

static void cancel_cb(sg_store_t *st, int status,
                      const sg_store_item_res_t *items, size_t n, void *data) {
  (void)st;
  (void)items;
  (void)n;
  int *g = data;
  g[1] = status;
  g[0]++;
}

static void test_canceled_message_refuses_parts(void **state) {
  ctx_t *c = *state;
  open_store(c);
  part_t p1, p2;
  ps_got_t g;
  part_init(&p1, "+15550003", 1, 2, 1);
  assert_int_equal(add_wait(c, &p1, &g), 0);
  int cg[2] = {0, 0};
  assert_int_equal(sg_store_cancel(c->st, g.res.message_id, 1, cancel_cb, cg),
                   0);
  run_until(c, &cg[0], 1);
  assert_string_equal(status_of(c, g.res.message_id), "canceled");
  long long before = fingerprint(c);
  part_init(&p2, "+15550003", 1, 2, 2);
  assert_int_equal(add_wait(c, &p2, &g), SG_ESTATE);
  assert_int_equal(fingerprint(c), before);
}

/* Claims the one queued part, records it sent as smsc_id, then its
 * receipt with status final. */
static void send_and_deliver(ctx_t *c, const char *smsc_id,
                             sg_msg_status_t final) {
  claim_one_sent(c, CONN, smsc_id);
  items_got_t ig;
  sg_store_receipt_in_t d = {.connector = CONN,
                             .smsc_id = smsc_id,
                             .status = final,
                             .error_code = final == SG_MSG_DELIVERED ? 0 : 11};
  receipts_wait(c, &d, 1, &ig);
}

typedef struct so_got {
  int calls, status;
  size_t n;
  char mid[8][SG_ID_LEN + 1];
  unsigned seq[8];
  sg_msg_status_t st[8];
} so_got_t;

static void so_cb(sg_store_t *st, int status, const sg_store_smpp_out_t *o,
                  size_t n, size_t dropped, void *data) {
  (void)st;
  (void)dropped;
  so_got_t *g = data;
  g->status = status;
  g->n = n;
  for (size_t i = 0; i < n && i < 8; i++) {
    memcpy(g->mid[i], o[i].message_id, SG_ID_LEN + 1);
    g->seq[i] = o[i].part_seq;
    g->st[i] = o[i].status;
  }
  g->calls++;
}

static void test_missing_part_holds_delivered_receipts_per_part(void **state) {
  ctx_t *c = *state;
  open_store(c);
  part_t p1, p2;
  ps_got_t g;
  part_init(&p2, "+15550004", 3, 2, 2);
  assert_int_equal(add_wait(c, &p2, &g), 0);
  char mid[SG_ID_LEN + 1];
  memcpy(mid, g.res.message_id, sizeof mid);
  send_and_deliver(c, "111", SG_MSG_DELIVERED);
  /* Part 1 has not come: the message is not delivered yet. */
  assert_string_equal(status_of(c, mid), "sending");
  so_got_t so = {0};
  assert_int_equal(sg_store_smpp_out_claim(c->st, 1, 8, 5000, 0, so_cb, &so),
                   0);
  run_until(c, &so.calls, 1);
  assert_int_equal(so.n, 1);
  assert_string_equal(so.mid[0], mid);
  assert_int_equal(so.seq[0], 2);
  assert_int_equal(so.st[0], SG_MSG_DELIVERED);

  part_init(&p1, "+15550004", 3, 2, 1);
  assert_int_equal(add_wait(c, &p1, &g), 0);
  assert_string_equal(g.res.message_id, mid);
  assert_true(g.res.whole);
  send_and_deliver(c, "112", SG_MSG_UNDELIVERABLE);
  assert_string_equal(status_of(c, mid), "undeliverable");
  memset(&so, 0, sizeof so);
  assert_int_equal(sg_store_smpp_out_claim(c->st, 1, 8, 5000, 0, so_cb, &so),
                   0);
  run_until(c, &so.calls, 1);
  assert_int_equal(so.n, 1); /* part 2's row is leased; no message row */
  assert_int_equal(so.seq[0], 1);
  assert_int_equal(so.st[0], SG_MSG_UNDELIVERABLE);
  assert_int_equal(q1(c, "SELECT count(*) FROM smpp_out WHERE part_seq = 0"),
                   0);
}

static void maint_cb(sg_store_t *st, int status, const sg_store_maint_res_t *r,
                     void *data) {
  (void)st;
  (void)r;
  int *g = data;
  g[1] = status;
  g[0]++;
}

static void test_restart_then_wait_ends(void **state) {
  ctx_t *c = *state;
  open_store(c);
  part_t p1, p2;
  ps_got_t g;
  part_init(&p1, "+15550005", 200, 3, 1);
  assert_int_equal(add_wait(c, &p1, &g), 0);
  char mid[SG_ID_LEN + 1];
  memcpy(mid, g.res.message_id, sizeof mid);
  close_store(c);
  open_store(c);
  atomic_fetch_add(&fake_now, WAIT_MS - 1);
  part_init(&p2, "+15550005", 200, 3, 2);
  assert_int_equal(add_wait(c, &p2, &g), 0);
  assert_false(g.res.created);
  assert_string_equal(g.res.message_id, mid);

  /* Part 3 never comes: after the wait (from part 2), it is failed. */
  atomic_fetch_add(&fake_now, WAIT_MS - 1);
  int mg[2] = {0, 0};
  assert_int_equal(sg_store_maintain(c->st, maint_cb, mg), 0);
  run_until(c, &mg[0], 1);
  assert_int_equal(
      count_sql(c, "SELECT count(*) FROM parts WHERE message_id = '%s'", mid),
      2);
  atomic_fetch_add(&fake_now, 1);
  mg[0] = 0;
  assert_int_equal(sg_store_maintain(c->st, maint_cb, mg), 0);
  run_until(c, &mg[0], 1);
  assert_int_equal(mg[1], 0);
  assert_int_equal(
      count_sql(c,
                "SELECT count(*) FROM parts WHERE message_id = '%s' AND seq = "
                "3 AND status = 'failed' AND connector = '' AND "
                "error LIKE '%%never arrived%%'",
                mid),
      1);
  assert_string_equal(status_of(c, mid), "failed");
  assert_int_equal(q1(c, "SELECT count(*) FROM presplit_groups"), 0);
  /* The failed placeholder is never claimed. */
  claim_got_t cg;
  claim_wait(c, CONN, 10, &cg);
  assert_int_equal(cg.n, 2);
  /* A part after the wait starts a new message. */
  part_t p3;
  part_init(&p3, "+15550005", 200, 3, 3);
  assert_int_equal(add_wait(c, &p3, &g), 0);
  assert_true(g.res.created);
  assert_string_not_equal(g.res.message_id, mid);
}

static void test_whole_message_reference_reused(void **state) {
  ctx_t *c = *state;
  open_store(c);
  part_t a1, a2, b1;
  ps_got_t g;
  part_init(&a1, "+15550006", 5, 2, 1);
  part_init(&a2, "+15550006", 5, 2, 2);
  part_init(&b1, "+15550006", 5, 2, 1);
  assert_int_equal(add_wait(c, &a1, &g), 0);
  char first[SG_ID_LEN + 1];
  memcpy(first, g.res.message_id, sizeof first);
  assert_int_equal(add_wait(c, &a2, &g), 0);
  assert_true(g.res.whole);
  assert_int_equal(add_wait(c, &b1, &g), 0);
  assert_true(g.res.created);
  assert_string_not_equal(g.res.message_id, first);
  /* Another sender's group with the same reference is its own. */
  part_t o2;
  part_init(&o2, "+15550006", 5, 2, 2);
  o2.t.m.sender = "+200";
  assert_int_equal(add_wait(c, &o2, &g), 0);
  assert_true(g.res.created);
}

static void test_bad_arguments_fail_at_once(void **state) {
  ctx_t *c = *state;
  open_store(c);
  part_t p;
  ps_got_t g = {0};
  part_init(&p, "+15550007", 1, 2, 0);
  assert_int_equal(sg_store_presplit_add(c->st, &p.b, &p.ps, ps_cb, &g),
                   SG_EINVAL);
  part_init(&p, "+15550007", 1, 2, 3);
  assert_int_equal(sg_store_presplit_add(c->st, &p.b, &p.ps, ps_cb, &g),
                   SG_EINVAL);
  part_init(&p, "+15550007", 1, 1, 1);
  assert_int_equal(sg_store_presplit_add(c->st, &p.b, &p.ps, ps_cb, &g),
                   SG_EINVAL);
  part_init(&p, "+15550007", 1, 2, 1);
  p.ps.wait_ms = 0;
  assert_int_equal(sg_store_presplit_add(c->st, &p.b, &p.ps, ps_cb, &g),
                   SG_EINVAL);
  part_init(&p, "+15550007", 1, 2, 1);
  snprintf(p.ps.message_id, sizeof p.ps.message_id, "not-an-id");
  assert_int_equal(sg_store_presplit_add(c->st, &p.b, &p.ps, ps_cb, &g),
                   SG_EINVAL);
  part_init(&p, "+15550007", 1, 2, 1);
  p.t.m.n_parts = 2;
  assert_int_equal(sg_store_presplit_add(c->st, &p.b, &p.ps, ps_cb, &g),
                   SG_EINVAL);
  assert_int_equal(g.calls, 0);
  assert_int_equal(q1(c, "SELECT count(*) FROM messages"), 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_parts_make_one_message, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_duplicate_and_range_change_nothing,
                                      setup, teardown),
      cmocka_unit_test_setup_teardown(test_canceled_message_refuses_parts,
                                      setup, teardown),
      cmocka_unit_test_setup_teardown(
          test_missing_part_holds_delivered_receipts_per_part, setup, teardown),
      cmocka_unit_test_setup_teardown(test_restart_then_wait_ends, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_whole_message_reference_reused,
                                      setup, teardown),
      cmocka_unit_test_setup_teardown(test_bad_arguments_fail_at_once, setup,
                                      teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
