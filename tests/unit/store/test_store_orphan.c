/* test_store_orphan.c - receipts that match no part yet: held in the
 * transaction that looked them up, applied by the send result that later
 * names their id (status, events, webhooks as a receipt that matched at
 * once), replaced by a repeat (a final one never by one en route), deleted
 * by maintenance after unmatched_keep_ms, and still known after a reopen.
 * Runs on SQLite, and on PostgreSQL as store-pg/test_store_orphan. */
#include "store_fixture.h"

/* Submits one part of a message with a callback URL on conn and claims it;
 * the message id goes to mid. Returns the claimed part. */
static sg_store_claimed_t submit_claim(ctx_t *c, const char *conn,
                                       const char *rcpt,
                                       char mid[SG_ID_LEN + 1]) {
  tmsg_t m;
  tmsg_init(&m, rcpt, 1, conn);
  m.m.callback_url = "http://127.0.0.1:9/hook";
  assert_int_equal(submit_wait(c, &m, 1, NULL, NULL), 0);
  memcpy(mid, m.m.id, SG_ID_LEN + 1);
  claim_got_t cg;
  claim_wait(c, conn, 1, &cg);
  assert_int_equal(cg.n, 1);
  assert_string_equal(cg.parts[0].message_id, mid);
  return cg.parts[0];
}

static void sent_wait(ctx_t *c, const sg_store_claimed_t *p,
                      const char *smsc_id, items_got_t *ig) {
  sg_store_result_in_t r = {.part_id = p->part_id,
                            .attempt = p->attempt,
                            .outcome = SG_STORE_SENT,
                            .smsc_id = smsc_id};
  results_wait(c, &r, 1, ig);
  assert_int_equal(ig->items[0].status, 0);
}

static void hold_one(ctx_t *c, const char *conn, const char *smsc_id,
                     sg_msg_status_t st, const char *detail) {
  sg_store_receipt_in_t d = {.connector = conn,
                             .smsc_id = smsc_id,
                             .status = st,
                             .error_code = st == SG_MSG_UNDELIVERABLE ? 11 : 0,
                             .detail = detail};
  items_got_t ig;
  receipts_wait(c, &d, 1, &ig);
  assert_int_equal(ig.items[0].status, 0);
  assert_true(ig.items[0].held);
  assert_false(ig.items[0].msg_changed);
}

static void maint_cb(sg_store_t *st, int status,
                     const sg_store_maint_res_t *res, void *data) {
  (void)st;
  sg_store_maint_res_t *out = data;
  assert_int_equal(status, 0);
  *out = *res;
  out->purged += 1000000; /* marks the call */
}

static size_t maintain_wait(ctx_t *c) {
  sg_store_maint_res_t mr = {0};
  assert_int_equal(sg_store_maintain(c->st, maint_cb, &mr), 0);
  while (mr.purged < 1000000)
    uv_run(&c->loop, UV_RUN_ONCE);
  return mr.receipts_expired;
}

/* The receipt comes before its part's result: held, then applied. */
static void held_then_applied(void **state) {
  ctx_t *c = *state;
  open_store(c);
  char mid[SG_ID_LEN + 1];
  sg_store_claimed_t p = submit_claim(c, "smsc-a", "+14155550100", mid);
  hold_one(c, "smsc-a", "77", SG_MSG_DELIVERED,
           "id:77 sub:001 dlvrd:001 stat:DELIVRD err:000");
  hold_one(c, "smsc-b", "78", SG_MSG_DELIVERED, NULL); /* other connector */
  assert_int_equal(q1(c, "SELECT count(*) FROM unmatched_receipts"), 2);
  assert_int_equal(q1(c, "SELECT count(*) FROM webhooks"), 0);

  atomic_store(&fake_now, T0 + 2000);
  items_got_t ig;
  sent_wait(c, &p, "77", &ig);
  assert_true(ig.items[0].receipt_applied);
  assert_int_equal(ig.items[0].part_status, SG_MSG_DELIVERED);
  assert_int_equal(ig.items[0].msg_status, SG_MSG_DELIVERED);
  assert_true(ig.items[0].msg_changed);
  assert_string_equal(ig.items[0].message_id, mid);
  assert_int_equal(q1(c, "SELECT count(*) FROM unmatched_receipts"), 1);

  msg_got_t mg;
  get_wait(c, mid, 0, &mg);
  assert_int_equal(mg.status_of_msg, SG_MSG_DELIVERED);
  assert_int_equal(mg.part_status[0], SG_MSG_DELIVERED);
  assert_string_equal(mg.smsc_id[0], "77");
  assert_string_equal(mg.last_part_detail,
                      "id:77 sub:001 dlvrd:001 stat:DELIVRD err:000");
  static const sg_msg_status_t want[] = {SG_MSG_QUEUED, SG_MSG_SENDING,
                                         SG_MSG_SENT, SG_MSG_DELIVERED};
  expect_msg_events(&mg, want, 4);
  /* Timed when applied: the delivered event does not precede 'sent'. */
  int64_t t;
  assert_int_equal(events_of(c, mid, 1, SG_MSG_DELIVERED, &t), 1);
  assert_int_equal(t, 1700000002000);
  /* Webhooks for 'sent' and 'delivered', as if the receipt came then. */
  assert_int_equal(webhooks_pending(c), 2);

  /* The same id on another connector is another receipt's key. */
  char mid2[SG_ID_LEN + 1];
  sg_store_claimed_t p2 = submit_claim(c, "smsc-a", "+14155550101", mid2);
  sent_wait(c, &p2, "78", &ig);
  assert_false(ig.items[0].receipt_applied);
  assert_int_equal(ig.items[0].part_status, SG_MSG_SENT);
  assert_int_equal(q1(c, "SELECT count(*) FROM unmatched_receipts WHERE "
                         "connector = 'smsc-b' AND smsc_id = '78'"),
                   1);
}

/* A failure held, applied to a part of a message of two. */
static void held_failure_two_parts(void **state) {
  ctx_t *c = *state;
  open_store(c);
  tmsg_t m;
  tmsg_init(&m, "+14155550102", 2, "smsc-a");
  assert_int_equal(submit_wait(c, &m, 1, NULL, NULL), 0);
  claim_got_t cg;
  claim_wait(c, "smsc-a", 2, &cg);
  assert_int_equal(cg.n, 2);
  hold_one(c, "smsc-a", "f2", SG_MSG_UNDELIVERABLE, "stat:UNDELIV err:011");
  sg_store_result_in_t r[2] = {{.part_id = cg.parts[0].part_id,
                                .attempt = cg.parts[0].attempt,
                                .outcome = SG_STORE_SENT,
                                .smsc_id = "f1"},
                               {.part_id = cg.parts[1].part_id,
                                .attempt = cg.parts[1].attempt,
                                .outcome = SG_STORE_SENT,
                                .smsc_id = "f2"}};
  items_got_t ig;
  results_wait(c, r, 2, &ig);
  assert_false(ig.items[0].receipt_applied);
  assert_true(ig.items[1].receipt_applied);
  assert_int_equal(ig.items[1].part_status, SG_MSG_UNDELIVERABLE);
  assert_int_equal(ig.items[1].msg_status, SG_MSG_UNDELIVERABLE);
  msg_got_t mg;
  get_wait(c, m.m.id, 0, &mg);
  assert_int_equal(mg.part_status[0], SG_MSG_SENT);
  assert_int_equal(mg.part_status[1], SG_MSG_UNDELIVERABLE);
  assert_int_equal(mg.status_of_msg, SG_MSG_UNDELIVERABLE);
  assert_int_equal(q1(c, "SELECT error_code FROM parts WHERE seq = 2"), 11);
  assert_int_equal(q1(c, "SELECT count(*) FROM unmatched_receipts"), 0);
}

/* A repeated receipt for a held id: the newest wins, except that a report
 * en route never replaces a final one; one row throughout. */
static void duplicate_for_held_id(void **state) {
  ctx_t *c = *state;
  open_store(c);
  hold_one(c, "smsc-a", "d1", SG_MSG_SENT, "stat:ENROUTE");
  hold_one(c, "smsc-a", "d1", SG_MSG_UNDELIVERABLE, "stat:UNDELIV");
  hold_one(c, "smsc-a", "d1", SG_MSG_SENT, "stat:ENROUTE again");
  hold_one(c, "smsc-a", "d1", SG_MSG_UNDELIVERABLE, "stat:UNDELIV");
  assert_int_equal(q1(c, "SELECT count(*) FROM unmatched_receipts"), 1);
  assert_string_equal(q1s(c, "SELECT status FROM unmatched_receipts"),
                      "undeliverable");
  hold_one(c, "smsc-a", "d1", SG_MSG_DELIVERED, "stat:DELIVRD"); /* newest */
  assert_string_equal(q1s(c, "SELECT detail FROM unmatched_receipts"),
                      "stat:DELIVRD");
  assert_int_equal(q1(c, "SELECT count(*) FROM unmatched_receipts"), 1);

  char mid[SG_ID_LEN + 1];
  sg_store_claimed_t p = submit_claim(c, "smsc-a", "+14155550103", mid);
  items_got_t ig;
  sent_wait(c, &p, "d1", &ig);
  assert_true(ig.items[0].receipt_applied);
  assert_int_equal(ig.items[0].msg_status, SG_MSG_DELIVERED);
  assert_int_equal(q1(c, "SELECT count(*) FROM unmatched_receipts"), 0);

  /* Now the part is known: a repeat matches it and changes nothing. */
  sg_store_receipt_in_t d = {
      .connector = "smsc-a", .smsc_id = "d1", .status = SG_MSG_DELIVERED};
  receipts_wait(c, &d, 1, &ig);
  assert_false(ig.items[0].held);
  assert_false(ig.items[0].msg_changed);
  assert_int_equal(q1(c, "SELECT count(*) FROM unmatched_receipts"), 0);
}

/* Maintenance deletes what was held longer than unmatched_keep_ms. */
static void expiry(void **state) {
  ctx_t *c = *state;
  sg_store_config_t cfg = test_config(c);
  cfg.unmatched_keep_ms = 600000; /* 10 minutes */
  assert_int_equal(open_with(c, &cfg), 0);
  assert_int_equal(maintain_wait(c), 0); /* none held: nothing to do */
  hold_one(c, "smsc-a", "old", SG_MSG_DELIVERED, NULL);
  atomic_store(&fake_now, T0 + 300000);
  hold_one(c, "smsc-a", "young", SG_MSG_DELIVERED, NULL);
  assert_int_equal(maintain_wait(c), 0);
  atomic_store(&fake_now, T0 + 600001);
  assert_int_equal(maintain_wait(c), 1);
  assert_string_equal(q1s(c, "SELECT smsc_id FROM unmatched_receipts"),
                      "young");
  atomic_store(&fake_now, T0 + 900001);
  assert_int_equal(maintain_wait(c), 1);
  assert_int_equal(maintain_wait(c), 0);
  assert_int_equal(q1(c, "SELECT count(*) FROM unmatched_receipts"), 0);

  /* Its part's result, too late: the part is only sent. */
  char mid[SG_ID_LEN + 1];
  sg_store_claimed_t p = submit_claim(c, "smsc-a", "+14155550104", mid);
  items_got_t ig;
  sent_wait(c, &p, "old", &ig);
  assert_false(ig.items[0].receipt_applied);
  assert_int_equal(ig.items[0].part_status, SG_MSG_SENT);
}

/* What was held is known after a restart (the count is read at open). */
static void held_across_reopen(void **state) {
  ctx_t *c = *state;
  open_store(c);
  char mid[SG_ID_LEN + 1];
  sg_store_claimed_t p = submit_claim(c, "smsc-a", "+14155550105", mid);
  hold_one(c, "smsc-a", "r1", SG_MSG_DELIVERED, NULL);
  close_store(c);
  open_store(c);
  /* The claim's lease is gone with the restart: claim it again. */
  claim_got_t cg;
  claim_wait(c, "smsc-a", 1, &cg);
  assert_int_equal(cg.n, 1);
  assert_int_equal(cg.parts[0].part_id, p.part_id);
  items_got_t ig;
  sent_wait(c, &cg.parts[0], "r1", &ig);
  assert_true(ig.items[0].receipt_applied);
  assert_int_equal(ig.items[0].msg_status, SG_MSG_DELIVERED);
}

/* One commit applies a held receipt to a send result, holds another and
 * reruns past a third request's failure (a repeated message id, which on
 * PostgreSQL shows only when the receipts request after it reads): the
 * failed request alone gets its error, each receipt is held or applied
 * once, and what the writer counts as held stays right for the results
 * after it (counted too low, a result would not look for its receipt). */
static void held_in_a_rerun_group(void **state) {
  ctx_t *c = *state;
  sg_store_config_t cfg = test_config(c);
  cfg.max_wait_us = 300000; /* the three requests share a commit */
  assert_int_equal(open_with(c, &cfg), 0);
  char mid1[SG_ID_LEN + 1], mid2[SG_ID_LEN + 1];
  sg_store_claimed_t p1 = submit_claim(c, "smsc-a", "+14155550110", mid1);
  items_got_t ig;
  sent_wait(c, &p1, "s1", &ig);
  sg_store_claimed_t p2 = submit_claim(c, "smsc-a", "+14155550111", mid2);
  hold_one(c, "smsc-a", "h0", SG_MSG_DELIVERED, NULL);
  hold_one(c, "smsc-a", "h9", SG_MSG_DELIVERED, NULL);
  sg_store_stats_t st0;
  sg_store_get_stats(c->st, &st0);

  sg_store_result_in_t r = {.part_id = p2.part_id,
                            .attempt = p2.attempt,
                            .outcome = SG_STORE_SENT,
                            .smsc_id = "h0"};
  items_got_t sg = {0}, rg = {0};
  assert_int_equal(sg_store_record_results(c->st, &r, 1, items_cb, &sg), 0);
  tmsg_t dup;
  tmsg_init(&dup, "+14155550112", 1, "smsc-a");
  memcpy(dup.m.id, mid1, sizeof dup.m.id); /* taken */
  sg_store_msg_in_t in = dup.m;
  in.parts = dup.parts;
  sg_store_batch_t b = {.account_id = 1, .msgs = &in, .n_msgs = 1};
  sg_id_new(b.batch_id);
  got_t g = {0};
  assert_int_equal(sg_store_submit(c->st, &b, submit_cb, &g), 0);
  sg_store_receipt_in_t d[2] = {
      {.connector = "smsc-a", .smsc_id = "s1", .status = SG_MSG_DELIVERED},
      {.connector = "smsc-a", .smsc_id = "h1", .status = SG_MSG_DELIVERED}};
  assert_int_equal(sg_store_record_receipts(c->st, d, 2, items_cb, &rg), 0);
  while (g.calls + rg.calls + sg.calls < 3)
    uv_run(&c->loop, UV_RUN_ONCE);

  assert_int_equal(sg.status, 0);
  assert_int_equal(sg.items[0].status, 0);
  assert_true(sg.items[0].receipt_applied);
  assert_int_equal(sg.items[0].msg_status, SG_MSG_DELIVERED);
  assert_int_equal(g.status, SG_EEXIST);
  assert_int_equal(rg.status, 0);
  assert_int_equal(rg.items[0].status, 0);
  assert_false(rg.items[0].held);
  assert_int_equal(rg.items[0].msg_status, SG_MSG_DELIVERED);
  assert_true(rg.items[0].msg_changed);
  assert_string_equal(rg.items[0].message_id, mid1);
  assert_true(rg.items[1].held);
  sg_store_stats_t st1;
  sg_store_get_stats(c->st, &st1);
  assert_int_equal(st1.failed_commits, st0.failed_commits);
  if (c->url[0] != '\0') /* SQLite refuses the id before writing a row */
    assert_true(st1.reruns > st0.reruns);
  assert_int_equal(q1(c, "SELECT count(*) FROM unmatched_receipts"), 2);
  assert_int_equal(q1(c, "SELECT count(*) FROM messages"), 2);
  /* On SQLite a one-part message's final status from a receipt is its
   * part's (sqlite_write.c, stored_status). */
  assert_int_equal(
      q1(c, "SELECT count(*) FROM messages m WHERE m.status = 'delivered' OR "
            "(m.status = 'queued' AND m.parts_total = 1 AND EXISTS (SELECT 1 "
            "FROM parts p WHERE p.message_id = m.id AND p.status = "
            "'delivered'))"),
      2);
  assert_int_equal(events_of(c, mid1, 1, SG_MSG_DELIVERED, NULL) +
                       events_of(c, mid2, 1, SG_MSG_DELIVERED, NULL),
                   2);

  /* Still held after that group (h9, h1): each applied by its result. */
  static const char *const ids[] = {"h9", "h1"};
  for (int i = 0; i < 2; i++) {
    char mid[SG_ID_LEN + 1];
    sg_store_claimed_t p =
        submit_claim(c, "smsc-a", i ? "+14155550114" : "+14155550113", mid);
    sent_wait(c, &p, ids[i], &ig);
    assert_true(ig.items[0].receipt_applied);
    assert_int_equal(ig.items[0].msg_status, SG_MSG_DELIVERED);
  }
  assert_int_equal(q1(c, "SELECT count(*) FROM unmatched_receipts"), 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(held_then_applied, setup, teardown),
      cmocka_unit_test_setup_teardown(held_failure_two_parts, setup, teardown),
      cmocka_unit_test_setup_teardown(duplicate_for_held_id, setup, teardown),
      cmocka_unit_test_setup_teardown(expiry, setup, teardown),
      cmocka_unit_test_setup_teardown(held_across_reopen, setup, teardown),
      cmocka_unit_test_setup_teardown(held_in_a_rerun_group, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
