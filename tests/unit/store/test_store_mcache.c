/* Tests for the SQLite writer's copy of the message rows it wrote
 * (store/sqlite_mcache.c), on a bare connection with the store's schema:
 * a one-part message's life (submit, claim, SENT, receipt) derives its
 * statuses without reading its row, and writes the same events, rows and
 * webhook payloads as with the copy turned off
 * (SG_STORE_MESSAGE_MEMORY=0), which reads the row at each change; a
 * rolled-back transaction leaves no status behind in the copy. */
#include "store/store_fixture.h"

#include "store/store_bare.h"

/* The webhook statuses of the bare connections. */
static const uint32_t HOOKED =
    SG_MSG_BIT(SG_MSG_SENT) | SG_MSG_BIT(SG_MSG_DELIVERED) |
    SG_MSG_BIT(SG_MSG_SENDING) | SG_MSG_BIT(SG_MSG_UNDELIVERABLE);

static void submit(bare_t *b, const char *id, unsigned parts, int64_t now) {
  static const uint8_t ud[] = {1, 2, 3};
  sg_store_part_in_t p[2] = {
      {.connector = "c1", .ud = ud, .ud_len = 3, .concat_total = 2},
      {.connector = "c1", .ud = ud, .ud_len = 3, .concat_total = 2}};
  sg_store_msg_in_t m = {.sender = "Shop",
                         .recipient = "+79001234567",
                         .body = (const uint8_t *)"hi \"you\"",
                         .body_len = 8,
                         .callback_url = "http://127.0.0.1:9/hook",
                         .client_ref = "ref-1",
                         .dlr_wanted = true,
                         .parts = p,
                         .n_parts = parts};
  snprintf(m.id, sizeof m.id, "%s", id);
  if (parts == 1)
    p[0].concat_total = 1;
  sg__store_req_t r;
  bare_submit_req(&r, &m, NULL);
  bare_run(b, &r, now, true);
  sg__arena_free(&r.arena);
}

/* Claims up to 8 parts of c1; their ids in ids. */
static size_t claim(bare_t *b, int64_t now, bool commit, int64_t *ids) {
  sg__store_req_t r;
  bare_claim_req(&r);
  bare_run(b, &r, now, commit);
  size_t n = r.out.claim.n_parts;
  for (size_t i = 0; i < n; i++)
    ids[i] = r.out.claim.parts[i].part_id;
  sg__arena_free(&r.arena);
  return n;
}

static void one_life(bare_t *b) {
  int64_t ids[8];
  submit(b, "m1", 1, 1000);
  assert_int_equal(claim(b, 2000, true, ids), 1);
  sg_store_result_in_t res = {.part_id = ids[0],
                              .attempt = 1,
                              .outcome = SG_STORE_SENT,
                              .smsc_id = "abc1"};
  sg__store_req_t r;
  memset(&r, 0, sizeof r);
  r.kind = SG__REQ_RESULTS;
  r.in.results.items = &res;
  r.in.results.n = 1;
  bare_run(b, &r, 3000, true);
  assert_int_equal(r.out.items.items[0].status, 0);
  assert_int_equal(r.out.items.items[0].msg_status, SG_MSG_SENT);
  sg__arena_free(&r.arena);
  sg_store_receipt_in_t rc = {.connector = "c1",
                              .smsc_id = "abc1",
                              .status = SG_MSG_UNDELIVERABLE,
                              .error_code = 11,
                              .detail = "stat:UNDELIV err:011 \"x\"",
                              .done_ms = 3500};
  memset(&r, 0, sizeof r);
  r.kind = SG__REQ_RECEIPTS;
  r.in.receipts.items = &rc;
  r.in.receipts.n = 1;
  bare_run(b, &r, 4000, true);
  assert_int_equal(r.out.items.items[0].msg_status, SG_MSG_UNDELIVERABLE);
  sg__arena_free(&r.arena);
}

/* Every row the life wrote, one line a row. */
static char *dump(bare_t *b) {
  static const char *const q[] = {
      "SELECT quote(status) || quote(error_code) || quote(updated_ms) FROM "
      "messages",
      "SELECT quote(status) || quote(smsc_id) || quote(error_code) || "
      "quote(error) || quote(attempts) || quote(updated_ms) FROM parts",
      "SELECT quote(id) || quote(part_seq) || quote(status) || "
      "quote(error_code) || quote(detail) || quote(time_ms) || "
      "quote(fold_seq) || quote(fold_error_code) || quote(fold_detail) || "
      "quote(fold_time_ms) FROM events ORDER BY id",
      "SELECT quote(id) || quote(account_id) || quote(event_id) || quote(url) "
      "|| CAST(payload AS TEXT) FROM webhooks ORDER BY id"};
  size_t cap = 8192, len = 0;
  char *out = calloc(1, cap);
  for (size_t i = 0; i < sizeof q / sizeof q[0]; i++) {
    sqlite3_stmt *s;
    assert_int_equal(sqlite3_prepare_v2(b->c.db, q[i], -1, &s, NULL),
                     SQLITE_OK);
    while (sqlite3_step(s) == SQLITE_ROW)
      len += (size_t)snprintf(out + len, cap - len, "%s\n",
                              (const char *)sqlite3_column_text(s, 0));
    sqlite3_finalize(s);
    assert_true(len < cap);
  }
  return out;
}

/* How many times the writer read a message row to derive its status. */
static int row_reads(bare_t *b) {
  sqlite3_stmt *s = b->c.q[SG__Q_MSG_FOR_EVENT];
  return s == NULL ? 0 : sqlite3_stmt_status(s, SQLITE_STMTSTATUS_RUN, 0);
}

static void life_reads_no_row_and_writes_the_same(void **state) {
  (void)state;
  bare_t held, read;
  bare_open(&held, NULL, HOOKED);
  one_life(&held);
  bare_open(&read, "0", HOOKED);
  one_life(&read);
  assert_int_equal(row_reads(&held), 0);
  assert_int_equal(row_reads(&read), 3); /* claim, result, receipt */
  char *a = dump(&held), *b = dump(&read);
  assert_string_equal(a, b);
  /* What the life wrote: the message's four events, its webhooks. */
  assert_non_null(strstr(a, "'undeliverable'11"));
  assert_non_null(strstr(a, "\"status\":\"sending\""));
  assert_non_null(strstr(a, "\"status\":\"sent\""));
  assert_non_null(strstr(a, "\"status\":\"undeliverable\""));
  free(a);
  free(b);
  bare_close(&held);
  bare_close(&read);
}

static void rollback_leaves_no_status(void **state) {
  (void)state;
  bare_t b;
  int64_t ids[8];
  bare_open(&b, NULL, HOOKED);
  submit(&b, "m2", 2, 1000); /* two parts: the claim writes the row */
  assert_int_equal(claim(&b, 2000, false, ids), 2);
  assert_int_equal(claim(&b, 2100, true, ids), 2);
  sqlite3_stmt *s;
  assert_int_equal(
      sqlite3_prepare_v2(b.c.db,
                         "SELECT (SELECT status FROM messages), (SELECT "
                         "count(*) FROM events WHERE part_seq IS NULL AND "
                         "status = 'sending')",
                         -1, &s, NULL),
      SQLITE_OK);
  assert_int_equal(sqlite3_step(s), SQLITE_ROW);
  assert_string_equal((const char *)sqlite3_column_text(s, 0), "sending");
  assert_int_equal(sqlite3_column_int(s, 1), 1);
  sqlite3_finalize(s);
  bare_close(&b);
}

/* The table itself: full at its count, entries found after others left
 * (deletion moves the following entries back), statuses kept. */
static void table_holds_what_it_took(void **state) {
  (void)state;
  sg__sq_conn_t c;
  memset(&c, 0, sizeof c);
  setenv("SG_STORE_MESSAGE_MEMORY", "64", 1);
  char id[100][SG_ID_LEN + 1];
  sg__sq_mrow_t r = {.status = SG_MSG_QUEUED,
                     .batch_id = "b",
                     .sender = "s",
                     .recipient = "+7900",
                     .parts = 1};
  for (int i = 0; i < 100; i++) {
    snprintf(id[i], sizeof id[i], "m%d", i * 7919);
    r.account_id = i;
    sg__sq_mc_put(&c, id[i], &r);
  }
  for (int round = 0; round < 3; round++) {
    for (int i = 0; i < 100; i++) {
      const sg__sq_mrow_t *h = sg__sq_mc_get(&c, id[i]);
      bool held =
          i < 64 && (round == 0 || i % 3 != 0) && (round < 2 || i % 5 != 0);
      if (!held) {
        assert_null(h);
        continue;
      }
      assert_non_null(h);
      assert_int_equal(h->account_id, i);
      assert_string_equal(h->recipient, "+7900");
      assert_null(h->client_ref);
      assert_int_equal(h->status, round == 0 ? SG_MSG_QUEUED : SG_MSG_SENDING);
    }
    for (int i = 0; i < 64; i++) /* every third, then every fifth, ends */
      sg__sq_mc_status(&c, id[i],
                       i % (round == 0 ? 3 : 5) == 0 ? SG_MSG_DELIVERED
                                                     : SG_MSG_SENDING);
  }
  sg__sq_mc_tx_end(&c, true);
  assert_non_null(sg__sq_mc_get(&c, id[1]));
  sg__sq_mc_tx_end(&c, false);
  assert_null(sg__sq_mc_get(&c, id[1]));
  sg__sq_mc_close(&c);
  unsetenv("SG_STORE_MESSAGE_MEMORY");
}

/* Three one-part messages claimed together; B is sent as "X", then C as
 * `c_id`, then A, late, as "X" again (an operator that reuses its ids);
 * the receipt of "X" is B's, the largest part id (PART_BY_SMSC), whether
 * or not C's entry pushed B's out of the memory in between. Returns
 * whether A's message (rather than B's) took the receipt. */
static bool receipt_goes_to_a(ctx_t *c, const char *c_id) {
  tmsg_t m[3];
  for (int i = 0; i < 3; i++) {
    tmsg_init(&m[i], "+14155550171", 1, "smsc-a");
    assert_int_equal(submit_wait(c, &m[i], 1, NULL, NULL), 0);
  }
  claim_got_t cg;
  claim_wait(c, "smsc-a", 4, &cg);
  assert_int_equal(cg.n, 3);
  sg_store_claimed_t *p[3];
  for (int i = 0; i < 3; i++)
    for (int j = 0; j < 3; j++)
      if (strcmp(cg.parts[j].message_id, m[i].m.id) == 0)
        p[i] = &cg.parts[j];
  assert_true(p[0]->part_id < p[1]->part_id && p[1]->part_id < p[2]->part_id);
  const int order[3] = {1, 2, 0};
  const char *ids[3] = {"X", c_id, "X"};
  for (int k = 0; k < 3; k++) {
    sg_store_result_in_t r = {.part_id = p[order[k]]->part_id,
                              .attempt = p[order[k]]->attempt,
                              .outcome = SG_STORE_SENT,
                              .smsc_id = ids[k]};
    items_got_t ig;
    results_wait(c, &r, 1, &ig);
    assert_int_equal(ig.items[0].status, 0);
  }
  sg_store_receipt_in_t d = {.connector = "smsc-a",
                             .smsc_id = "X",
                             .status = SG_MSG_DELIVERED,
                             .detail = "receipt",
                             .done_ms = T0 + 9000};
  items_got_t ig;
  receipts_wait(c, &d, 1, &ig);
  assert_int_equal(ig.items[0].status, 0);
  msg_got_t a, b;
  get_wait(c, m[0].m.id, 0, &a);
  get_wait(c, m[1].m.id, 0, &b);
  bool to_a = a.status_of_msg == SG_MSG_DELIVERED;
  assert_int_equal(to_a ? b.status_of_msg : a.status_of_msg, SG_MSG_SENT);
  return to_a;
}

/* Which part a receipt of a reused operator id goes to does not depend on
 * what the memory let go: with C's id in another slot than "X" and in the
 * same one, B's message takes it. */
static void smsc_collision(void **state) {
  ctx_t *c = *state;
  unsetenv("SG_STORE_MESSAGE_MEMORY");
  open_store(c);
  unsigned x = sg__sq_mc_smsc_slot("smsc-a", "X");
  char other[16], same[16];
  int k = 0;
  do
    snprintf(other, sizeof other, "Y%d", k++);
  while (sg__sq_mc_smsc_slot("smsc-a", other) == x);
  k = 0;
  do
    snprintf(same, sizeof same, "Y%d", k++);
  while (sg__sq_mc_smsc_slot("smsc-a", same) != x);
  assert_false(receipt_goes_to_a(c, other));
  close_store(c);
  remove_db_files(c);
  open_store(c);
  assert_false(receipt_goes_to_a(c, same));
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(life_reads_no_row_and_writes_the_same),
      cmocka_unit_test(rollback_leaves_no_status),
      cmocka_unit_test(table_holds_what_it_took),
      cmocka_unit_test_setup_teardown(smsc_collision, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
