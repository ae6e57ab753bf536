/* Tests for the statements the SQLite writer runs per message
 * (store/sqlite_write.c), on a bare connection with the store's schema: a
 * sendsms message's row takes its dlr-url, dlr-mask and webhook filter in
 * its INSERT (one change: no UPDATE after it), and a message without them
 * keeps the columns' defaults. */
#include "store/store_fixture.h"

#include "store/migrations.h"
#include "store/sqlite_int.h"
#include "store/sqlite_mcache.h"

typedef struct bare {
  sg__sq_conn_t c;
  sg_store_t st;
} bare_t;

static void bare_open(bare_t *b, const char *memory) {
  memset(b, 0, sizeof *b);
  if (memory != NULL)
    setenv("SG_STORE_MESSAGE_MEMORY", memory, 1);
  else
    unsetenv("SG_STORE_MESSAGE_MEMORY");
  assert_int_equal(sqlite3_open(":memory:", &b->c.db), SQLITE_OK);
  for (size_t i = 0; i < sg__sqlite_migrations_count; i++)
    assert_int_equal(
        sqlite3_exec(b->c.db, sg__sqlite_migrations[i].sql, NULL, NULL, NULL),
        SQLITE_OK);
  b->st.cfg.webhook_statuses =
      SG_MSG_BIT(SG_MSG_SENT) | SG_MSG_BIT(SG_MSG_DELIVERED);
  b->c.st = &b->st;
}

static void bare_close(bare_t *b) {
  sg__sq_wh_close(&b->c);
  sg__sq_mc_close(&b->c);
  sg__sq_smpp_out_close(&b->c);
  sg__sq_orphan_close(&b->c);
  sg__jbuf_free(&b->c.json);
  for (int i = 0; i < SG__Q_COUNT; i++)
    sqlite3_finalize(b->c.q[i]);
  sqlite3_close(b->c.db);
  unsetenv("SG_STORE_MESSAGE_MEMORY");
}

static void exec(bare_t *b, const char *sql) {
  assert_int_equal(sqlite3_exec(b->c.db, sql, NULL, NULL, NULL), SQLITE_OK);
}

/* Runs r in a transaction of its own, committed. */
static void run(bare_t *b, sg__store_req_t *r, int64_t now) {
  exec(b, "BEGIN IMMEDIATE");
  assert_int_equal(sg__sq_run_write(&b->c, r, now), 0);
  exec(b, "COMMIT");
  sg__sq_wh_tx_end(&b->c, true);
  sg__sq_mc_tx_end(&b->c, true);
}

/* Submits message id of one part to c1, with m's Kannel fields; returns
 * the rows it changed. */
static int64_t submit(bare_t *b, const char *id, const char *dlr_url,
                      uint8_t dlr_mask, uint32_t webhook_statuses) {
  static const uint8_t ud[] = {1, 2, 3};
  sg_store_part_in_t p = {
      .connector = "c1", .ud = ud, .ud_len = 3, .concat_total = 1};
  sg_store_msg_in_t m = {.sender = "Shop",
                         .recipient = "+79001234567",
                         .body = (const uint8_t *)"hi",
                         .body_len = 2,
                         .dlr_wanted = true,
                         .dlr_url = dlr_url,
                         .dlr_mask = dlr_mask,
                         .webhook_statuses = webhook_statuses,
                         .parts = &p,
                         .n_parts = 1};
  snprintf(m.id, sizeof m.id, "%s", id);
  sg__store_req_t r;
  memset(&r, 0, sizeof r);
  r.kind = SG__REQ_SUBMIT;
  snprintf(r.in.submit.batch_id, sizeof r.in.submit.batch_id, "b-%s", id);
  r.in.submit.account_id = 1;
  r.in.submit.msgs = &m;
  r.in.submit.n_msgs = 1;
  int64_t before = sqlite3_total_changes64(b->c.db);
  run(b, &r, 1000);
  sg__arena_free(&r.arena);
  return sqlite3_total_changes64(b->c.db) - before;
}

/* quote() of message id's dlr_url, dlr_mask and webhook_statuses. */
static void kannel_cols(bare_t *b, const char *id, char *out, size_t n) {
  sqlite3_stmt *s;
  assert_int_equal(sqlite3_prepare_v2(b->c.db,
                                      "SELECT quote(dlr_url) || ' ' || "
                                      "quote(dlr_mask) || ' ' || "
                                      "quote(webhook_statuses) FROM messages "
                                      "WHERE id = ?1",
                                      -1, &s, NULL),
                   SQLITE_OK);
  sqlite3_bind_text(s, 1, id, -1, SQLITE_STATIC);
  assert_int_equal(sqlite3_step(s), SQLITE_ROW);
  snprintf(out, n, "%s", (const char *)sqlite3_column_text(s, 0));
  sqlite3_finalize(s);
}

static void kannel_fields_in_the_insert(void **state) {
  (void)state;
  bare_t b;
  char cols[256];
  bare_open(&b, NULL);
  /* The message, its part and its event: three rows, no UPDATE. */
  assert_int_equal(submit(&b, "k1", "http://127.0.0.1:9/d?s=%d", 3,
                          SG_MSG_BIT(SG_MSG_DELIVERED)),
                   3);
  kannel_cols(&b, "k1", cols, sizeof cols);
  assert_string_equal(cols, "'http://127.0.0.1:9/d?s=%d' 3 32");
  /* A webhook filter alone; a mask without a URL is not kept. */
  assert_int_equal(submit(&b, "k2", NULL, 3, SG_MSG_BIT(SG_MSG_SENT)), 3);
  kannel_cols(&b, "k2", cols, sizeof cols);
  assert_string_equal(cols, "NULL 0 16");
  assert_int_equal(submit(&b, "k3", NULL, 0, 0), 3);
  kannel_cols(&b, "k3", cols, sizeof cols);
  assert_string_equal(cols, "NULL 0 NULL");
  bare_close(&b);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(kannel_fields_in_the_insert),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
