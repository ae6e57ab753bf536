/* test_store_walbuf.c - the VFS that gathers a transaction's WAL writes
 * (store/sqlite_walbuf.c): what reaches the file is what SQLite wrote, in
 * fewer calls; another connection sees each commit as soon as it returns;
 * a transaction larger than the buffer, a log that starts over after a
 * checkpoint, and a database reopened after the writer closed without a
 * checkpoint (as after a crash) keep every committed row.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "store/sqlite_int.h"

typedef struct ctx {
  char dir[64];
  char path[96];
  sg__sq_walbuf_t wb;
  sqlite3 *w; /* through the VFS, synchronous=FULL */
  sqlite3 *r; /* the default VFS */
} ctx_t;

static void exec_ok(sqlite3 *db, const char *sql) {
  char *msg = NULL;
  int rc = sqlite3_exec(db, sql, NULL, NULL, &msg);
  if (rc != SQLITE_OK)
    fail_msg("%s: %s", sql, msg ? msg : sqlite3_errstr(rc));
}

static int64_t one_int(sqlite3 *db, const char *sql) {
  sqlite3_stmt *s = NULL;
  assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &s, NULL), SQLITE_OK);
  assert_int_equal(sqlite3_step(s), SQLITE_ROW);
  int64_t v = sqlite3_column_int64(s, 0);
  sqlite3_finalize(s);
  return v;
}

static void open_writer(ctx_t *c) {
  assert_int_equal(sqlite3_open_v2(c->path, &c->w,
                                   SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE,
                                   c->wb.vfs_name),
                   SQLITE_OK);
  exec_ok(c->w, "PRAGMA journal_mode=WAL");
  exec_ok(c->w, "PRAGMA synchronous=FULL");
  exec_ok(c->w, "PRAGMA wal_autocheckpoint=0");
}

static int setup(void **state) {
  ctx_t *c = calloc(1, sizeof *c);
  snprintf(c->dir, sizeof c->dir, "/tmp/sg-walbuf-XXXXXX");
  if (mkdtemp(c->dir) == NULL)
    return -1;
  snprintf(c->path, sizeof c->path, "%s/t.db", c->dir);
  if (sg__sq_walbuf_register(&c->wb, NULL) != 0)
    return -1;
  open_writer(c);
  exec_ok(c->w, "CREATE TABLE t (id INTEGER PRIMARY KEY, v BLOB NOT NULL)");
  if (sqlite3_open_v2(c->path, &c->r, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK)
    return -1;
  *state = c;
  return 0;
}

static int teardown(void **state) {
  ctx_t *c = *state;
  sqlite3_close(c->r);
  sqlite3_close(c->w);
  sg__sq_walbuf_unregister(&c->wb);
  char cmd[128];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", c->dir);
  if (system(cmd) != 0)
    return -1;
  free(c);
  return 0;
}

/* Inserts n rows of `size` bytes in one transaction. */
static void insert_rows(sqlite3 *db, int n, int size) {
  char sql[128];
  snprintf(sql, sizeof sql,
           "WITH RECURSIVE k(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM k "
           "WHERE i < %d) INSERT INTO t (v) SELECT randomblob(%d) FROM k",
           n, size);
  exec_ok(db, sql);
}

/* Many small commits: each is seen by the reader at once, and the writes of
 * a commit went out in fewer calls than SQLite made. */
static void commits_are_seen_at_once(void **state) {
  ctx_t *c = *state;
  uint64_t w0 = c->wb.writes, f0 = c->wb.flushes;
  for (int i = 1; i <= 50; i++) {
    exec_ok(c->w, "BEGIN IMMEDIATE");
    insert_rows(c->w, 20, 300);
    exec_ok(c->w, "COMMIT");
    assert_int_equal(one_int(c->r, "SELECT count(*) FROM t"), i * 20);
  }
  uint64_t writes = c->wb.writes - w0, flushes = c->wb.flushes - f0;
  /* two per frame (header and page), at least two pages per commit */
  assert_true(writes >= 50 * 4);
  assert_true(flushes >= 50); /* at least one per commit (its sync) */
  assert_true(flushes * 2 <= writes);
  assert_string_equal(sqlite3_errmsg(c->w), "not an error");
}

/* A transaction of several MB (many times the buffer) and a log that
 * starts over after a checkpoint; then the file is checked whole. */
static void large_transactions_and_restarts(void **state) {
  ctx_t *c = *state;
  exec_ok(c->w, "BEGIN IMMEDIATE");
  insert_rows(c->w, 6000, 1000);
  exec_ok(c->w, "COMMIT");
  assert_int_equal(one_int(c->r, "SELECT count(*) FROM t"), 6000);
  for (int round = 0; round < 3; round++) {
    assert_int_equal(sqlite3_wal_checkpoint_v2(
                         c->w, NULL, SQLITE_CHECKPOINT_RESTART, NULL, NULL),
                     SQLITE_OK);
    exec_ok(c->w, "BEGIN IMMEDIATE");
    insert_rows(c->w, 500, 200);
    exec_ok(c->w, "UPDATE t SET v = randomblob(50) WHERE id % 7 = 0");
    exec_ok(c->w, "COMMIT");
    assert_int_equal(one_int(c->r, "SELECT count(*) FROM t"),
                     6000 + 500 * (round + 1));
  }
  sqlite3_stmt *s = NULL;
  assert_int_equal(
      sqlite3_prepare_v2(c->r, "PRAGMA integrity_check", -1, &s, NULL),
      SQLITE_OK);
  assert_int_equal(sqlite3_step(s), SQLITE_ROW);
  assert_string_equal((const char *)sqlite3_column_text(s, 0), "ok");
  sqlite3_finalize(s);
}

/* A rolled-back transaction leaves nothing; the frames of the commits
 * around it are all there after the writer closes without a checkpoint
 * and the database is opened again from its log. */
static void survives_reopen_from_the_log(void **state) {
  ctx_t *c = *state;
  exec_ok(c->w, "BEGIN IMMEDIATE");
  insert_rows(c->w, 300, 500);
  exec_ok(c->w, "COMMIT");
  exec_ok(c->w, "BEGIN IMMEDIATE");
  insert_rows(c->w, 300, 500);
  exec_ok(c->w, "ROLLBACK");
  exec_ok(c->w, "BEGIN IMMEDIATE");
  insert_rows(c->w, 200, 500);
  exec_ok(c->w, "COMMIT");
  int64_t sum = one_int(c->w, "SELECT sum(length(v)) FROM t");
  /* Closed without the checkpoint of a clean close: the rows are read
   * back from the log, as after a crash. */
  sqlite3_db_config(c->w, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, NULL);
  sqlite3_close(c->w);
  c->w = NULL;
  sqlite3 *db = NULL;
  assert_int_equal(sqlite3_open_v2(c->path, &db, SQLITE_OPEN_READONLY, NULL),
                   SQLITE_OK);
  assert_int_equal(one_int(db, "SELECT count(*) FROM t"), 500);
  assert_int_equal(one_int(db, "SELECT sum(length(v)) FROM t"), sum);
  sqlite3_close(db);
  open_writer(c);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(commits_are_seen_at_once, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(large_transactions_and_restarts, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(survives_reopen_from_the_log, setup,
                                      teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
