/* test_store_schema2.c - migration 0002: a database of schema 1 with rows in
 * it upgrades in place; the operator's own message id is kept beside the
 * connector's key of it and shown by reads, while receipts still match the
 * key; lists filtered by status and the counts work without the indexes
 * 0002 dropped.
 */
#include "store_fixture.h"

#include "store/migrations.h"

#define MID "01HW0000000000000000000000"

/* A file as smsgate with schema 1 left it: a message sent (its part keyed
 * "11259375"), and webhooks pending, sending, done and failed. */
static void make_schema1_file(const ctx_t *c) {
  assert_true(sg__sqlite_migrations_count >= 2);
  assert_int_equal(sg__sqlite_migrations[0].version, 1);
  raw_exec(c, sg__sqlite_migrations[0].sql);
  raw_exec(c,
           "CREATE TABLE schema_version (version INTEGER PRIMARY KEY, name "
           "TEXT NOT NULL, applied_ms INTEGER NOT NULL);"
           "INSERT INTO schema_version VALUES (1, 'init', 0);"
           "INSERT INTO messages (id, batch_id, account_id, sender, recipient,"
           " encoding, body, status, parts_total, created_ms, updated_ms) "
           "VALUES ('" MID "', '01HW0000000000000000000001', 1, 'S', "
           "'+14155550100', 0, 'hi', 'sent', 1, 1, 1);"
           "INSERT INTO parts (message_id, seq, connector, encoding, ud, "
           "status, smsc_id, updated_ms) VALUES ('" MID "', 1, 'smsc-a', 0, "
           "x'6869', 'sent', '11259375', 1);"
           "INSERT INTO webhooks (url, payload, status, next_attempt_ms, "
           "created_ms, updated_ms, lease_until_ms) VALUES "
           "('http://x/', '{}', 'pending', 0, 1, 1, NULL),"
           "('http://x/', '{}', 'sending', 0, 1, 1, 99),"
           "('http://x/', '{}', 'done', 0, 1, 1, NULL),"
           "('http://x/', '{}', 'failed', 0, 1, 1, NULL);");
}

static void upgrade_from_schema1(void **state) {
  ctx_t *c = *state;
  make_schema1_file(c);
  open_store(c);
  sg_store_info_t info;
  sg_store_get_info(c->st, &info);
  /* Versions may have gaps: the newest is the last entry's. */
  assert_int_equal(
      info.schema_version,
      sg__sqlite_migrations[sg__sqlite_migrations_count - 1].version);
  assert_int_equal(info.migrated, sg__sqlite_migrations_count - 1);
  /* Recovery ran after the migration: the 'sending' webhook is pending. */
  assert_int_equal(info.requeued_webhooks, 1);

  /* A part stored without the operator's id shows its key. */
  msg_got_t mg;
  get_wait(c, MID, 0, &mg);
  assert_int_equal(mg.status, 0);
  assert_int_equal(mg.status_of_msg, SG_MSG_SENT);
  assert_string_equal(mg.smsc_id[0], "11259375");

  /* Its receipt still matches the key. */
  sg_store_receipt_in_t rc = {.connector = "smsc-a",
                              .smsc_id = "11259375",
                              .status = SG_MSG_DELIVERED};
  items_got_t ig;
  receipts_wait(c, &rc, 1, &ig);
  assert_int_equal(ig.items[0].status, 0);
  assert_int_equal(ig.items[0].msg_status, SG_MSG_DELIVERED);

  counts_got_t k;
  counts_wait(c, &k);
  assert_int_equal(k.k.messages[SG_MSG_DELIVERED], 1);
  assert_int_equal(k.k.parts[SG_MSG_DELIVERED], 1);
  assert_int_equal(k.k.webhooks_pending, 2);
  assert_int_equal(k.k.webhooks_failed, 1);
  close_store(c);

  assert_int_equal(q1(c, "SELECT count(*) FROM sqlite_master WHERE name IN "
                         "('messages_status', 'webhooks_status')"),
                   0);
  assert_int_equal(q1(c, "SELECT count(*) FROM sqlite_master WHERE name = "
                         "'webhooks_failed'"),
                   1);
  assert_int_equal(q1(c, "SELECT count(*) FROM pragma_table_info('parts') "
                         "WHERE name = 'smsc_raw'"),
                   1);
  assert_int_equal(
      q1(c, "SELECT count(*) FROM schema_version WHERE version = 2"), 1);
  assert_string_equal(q1s(c, "PRAGMA integrity_check"), "ok");
}

typedef struct list_got {
  int calls;
  size_t n;
  char ids[8][SG_ID_LEN + 1];
} list_got_t;

static void list_cb(sg_store_t *st, int status, const sg_store_list_res_t *res,
                    void *data) {
  (void)st;
  list_got_t *g = data;
  assert_int_equal(status, 0);
  g->n = res->n;
  for (size_t i = 0; i < res->n && i < 8; i++)
    memcpy(g->ids[i], res->msgs[i].id, SG_ID_LEN + 1);
  g->calls++;
}

static size_t list_status(ctx_t *c, sg_msg_status_t s, int64_t account,
                          list_got_t *g) {
  sg_store_filter_t f = {.status = s, .account_id = account};
  memset(g, 0, sizeof *g);
  assert_int_equal(sg_store_list_messages(c->st, &f, list_cb, g), 0);
  run_until(c, &g->calls, 1);
  return g->n;
}

/* The API shows the operator's id (hex ABCDEF); receipts match the key
 * (decimal 11259375); the sent event names the operator's id. */
static void operator_id_kept_beside_key(void **state) {
  ctx_t *c = *state;
  open_store(c);
  tmsg_t m[3];
  for (int i = 0; i < 3; i++)
    tmsg_init(&m[i], "+14155550100", 1, "smsc-a");
  m[0].m.callback_url = "http://127.0.0.1:9/hook";
  assert_int_equal(submit_wait(c, m, 3, NULL, NULL), 0);
  claim_got_t cg;
  claim_wait(c, "smsc-a", 2, &cg);
  assert_int_equal(cg.n, 2);
  sg_store_result_in_t r[2] = {
      {.part_id = cg.parts[0].part_id,
       .attempt = cg.parts[0].attempt,
       .outcome = SG_STORE_SENT,
       .smsc_id = "11259375",
       .smsc_raw_id = "ABCDEF"},
      {.part_id = cg.parts[1].part_id,
       .attempt = cg.parts[1].attempt,
       .outcome = SG_STORE_SENT,
       .smsc_id = "key-only"}};
  items_got_t ig;
  results_wait(c, r, 2, &ig);
  assert_int_equal(ig.items[0].status, 0);
  assert_int_equal(ig.items[0].msg_status, SG_MSG_SENT);

  msg_got_t mg;
  get_wait(c, cg.parts[0].message_id, 0, &mg);
  assert_string_equal(mg.smsc_id[0], "ABCDEF");
  assert_string_equal(mg.last_part_detail, "ABCDEF");
  get_wait(c, cg.parts[1].message_id, 0, &mg);
  assert_string_equal(mg.smsc_id[0], "key-only"); /* no raw id given */

  /* The raw id is no key: a receipt by it matches nothing. */
  sg_store_receipt_in_t rc = {.connector = "smsc-a",
                              .smsc_id = "ABCDEF",
                              .status = SG_MSG_DELIVERED};
  receipts_wait(c, &rc, 1, &ig);
  assert_int_equal(ig.items[0].status, 0);
  assert_true(ig.items[0].held);
  rc.smsc_id = "11259375";
  receipts_wait(c, &rc, 1, &ig);
  assert_int_equal(ig.items[0].status, 0);
  assert_true(ig.items[0].msg_changed);
  assert_int_equal(ig.items[0].msg_status, SG_MSG_DELIVERED);
  get_wait(c, cg.parts[0].message_id, 0, &mg);
  assert_int_equal(mg.status_of_msg, SG_MSG_DELIVERED);
  assert_string_equal(mg.smsc_id[0], "ABCDEF");
  /* Events: queued, sending, sent, delivered (a single part's status is
   * taken over without reading the parts again). */
  static const sg_msg_status_t want[] = {SG_MSG_QUEUED, SG_MSG_SENDING,
                                         SG_MSG_SENT, SG_MSG_DELIVERED};
  expect_msg_events(&mg, want, 4);
  /* Two webhooks (sent, delivered) for the one with a callback URL. */
  assert_int_equal(webhooks_pending(c), 2);
  close_store(c);
  assert_string_equal(
      q1s(c, "SELECT smsc_raw || '/' || smsc_id FROM parts WHERE smsc_raw "
             "IS NOT NULL"),
      "ABCDEF/11259375");

  /* Lists by status, with and without an account, need no status index. */
  open_store(c);
  list_got_t lg;
  assert_int_equal(list_status(c, SG_MSG_DELIVERED, 0, &lg), 1);
  assert_string_equal(lg.ids[0], cg.parts[0].message_id);
  assert_int_equal(list_status(c, SG_MSG_SENT, 1, &lg), 1);
  assert_string_equal(lg.ids[0], cg.parts[1].message_id);
  assert_int_equal(list_status(c, SG_MSG_QUEUED, 1, &lg), 1);
  assert_string_equal(lg.ids[0], m[2].m.id);
  assert_int_equal(list_status(c, SG_MSG_QUEUED, 2, &lg), 0);
  assert_int_equal(list_status(c, SG_MSG_FAILED, 0, &lg), 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
      T(upgrade_from_schema1),
      T(operator_id_kept_beside_key),
#undef T
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
