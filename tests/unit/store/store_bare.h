/* A bare SQLite writer connection for the store's unit tests: an in-memory
 * database with the store's schema, driven through sg__sq_run_write one
 * request at a time, without the writer thread, so that a test can look at
 * the rows and count the statements a request runs. Include after
 * store_fixture.h. */
#ifndef SG_TEST_STORE_BARE_H
#define SG_TEST_STORE_BARE_H

#include "store/migrations.h"
#include "store/sqlite_int.h"
#include "store/sqlite_mcache.h"
#include "store/sqlite_pair.h"

typedef struct bare {
  sg__sq_conn_t c;
  sg_store_t st;
} bare_t;

/* memory: SG_STORE_MESSAGE_MEMORY's value, NULL for the default;
 * statuses: the webhook statuses configured (SG_MSG_BIT of each). */
static inline void bare_open(bare_t *b, const char *memory, uint32_t statuses) {
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
  b->st.cfg.webhook_statuses = statuses;
  b->c.st = &b->st;
}

static inline void bare_close(bare_t *b) {
  sg__sq_wh_close(&b->c);
  sg__sq_mc_close(&b->c);
  sg__sq_pair_close(&b->c);
  sg__sq_smpp_out_close(&b->c);
  sg__sq_orphan_close(&b->c);
  sg__sq_campaigns_close(&b->c);
  sg__sq_park_close(&b->c);
  sg__jbuf_free(&b->c.json);
  for (int i = 0; i < SG__Q_COUNT; i++)
    sqlite3_finalize(b->c.q[i]);
  sqlite3_close(b->c.db);
  unsetenv("SG_STORE_MESSAGE_MEMORY");
}

static inline void bare_exec(bare_t *b, const char *sql) {
  assert_int_equal(sqlite3_exec(b->c.db, sql, NULL, NULL, NULL), SQLITE_OK);
}

/* The text of the first column of sql's one row, into out. */
static inline void bare_line(bare_t *b, const char *sql, char *out, size_t n) {
  sqlite3_stmt *s;
  assert_int_equal(sqlite3_prepare_v2(b->c.db, sql, -1, &s, NULL), SQLITE_OK);
  assert_int_equal(sqlite3_step(s), SQLITE_ROW);
  snprintf(out, n, "%s", (const char *)sqlite3_column_text(s, 0));
  sqlite3_finalize(s);
}

/* Runs r in a transaction of its own, committed or rolled back. */
static inline void bare_run(bare_t *b, sg__store_req_t *r, int64_t now,
                            bool commit) {
  bare_exec(b, "BEGIN IMMEDIATE");
  assert_int_equal(sg__sq_run_write(&b->c, r, now), 0);
  bare_exec(b, commit ? "COMMIT" : "ROLLBACK");
  sg__sq_wh_tx_end(&b->c, commit);
  sg__sq_mc_tx_end(&b->c, commit);
}

/* Message id with the one part p of connector c1: "hi" from Shop to
 * +79001234567, nothing else asked for. */
static inline sg_store_msg_in_t bare_msg(const char *id,
                                         sg_store_part_in_t *p) {
  static const uint8_t ud[] = {1, 2, 3};
  *p = (sg_store_part_in_t){
      .connector = "c1", .ud = ud, .ud_len = 3, .concat_total = 1};
  sg_store_msg_in_t m = {.sender = "Shop",
                         .recipient = "+79001234567",
                         .body = (const uint8_t *)"hi",
                         .body_len = 2,
                         .parts = p,
                         .n_parts = 1};
  snprintf(m.id, sizeof m.id, "%s", id);
  return m;
}

/* r: account 1's submit of m, in batch (NULL: "b-" and m's id); run it,
 * then free its arena. */
static inline void bare_submit_req(sg__store_req_t *r, sg_store_msg_in_t *m,
                                   const char *batch) {
  memset(r, 0, sizeof *r);
  r->kind = SG__REQ_SUBMIT;
  if (batch != NULL)
    snprintf(r->in.submit.batch_id, sizeof r->in.submit.batch_id, "%s", batch);
  else
    snprintf(r->in.submit.batch_id, sizeof r->in.submit.batch_id, "b-%.*s",
             (int)sizeof r->in.submit.batch_id - 3, m->id);
  r->in.submit.account_id = 1;
  r->in.submit.msgs = m;
  r->in.submit.n_msgs = 1;
}

/* r: a claim of up to 8 parts of connector c1, leased for a minute; run
 * it, then free its arena. */
static inline void bare_claim_req(sg__store_req_t *r) {
  memset(r, 0, sizeof *r);
  r->kind = SG__REQ_CLAIM;
  r->in.claim.connector = "c1";
  r->in.claim.max = 8;
  r->in.claim.lease_ms = 60000;
}

#endif
