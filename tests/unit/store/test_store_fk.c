/* test_store_fk.c - the store's writer runs with foreign_keys=OFF
 * (store/sqlite.c), the parents of child rows being checked by the store's
 * code: no migration may declare a REFERENCES that asks SQLite to act (ON
 * DELETE / ON UPDATE CASCADE, SET NULL, SET DEFAULT, RESTRICT), which would
 * silently not happen; and the store refuses the child rows the foreign
 * keys used to refuse (an API key of no account).
 */
#include "store_fixture.h"

#include "store/migrations.h"

/* Every migration, in order, on a database in memory. */
static sqlite3 *migrated(void) {
  sqlite3 *db = NULL;
  assert_int_equal(sqlite3_open(":memory:", &db), SQLITE_OK);
  for (size_t i = 0; i < sg__sqlite_migrations_count; i++) {
    char *err = NULL;
    int rc = sqlite3_exec(db, sg__sqlite_migrations[i].sql, NULL, NULL, &err);
    if (rc != SQLITE_OK)
      fail_msg("migration %u (%s): %s", sg__sqlite_migrations[i].version,
               sg__sqlite_migrations[i].name, err ? err : "?");
  }
  return db;
}

static void no_reference_asks_for_an_action(void **state) {
  (void)state;
  sqlite3 *db = migrated();
  sqlite3_stmt *s = NULL;
  assert_int_equal(
      sqlite3_prepare_v2(db,
                         "SELECT m.name, f.\"table\", f.on_update, "
                         "f.on_delete FROM sqlite_schema AS m, "
                         "pragma_foreign_key_list(m.name) AS f "
                         "WHERE m.type = 'table'",
                         -1, &s, NULL),
      SQLITE_OK);
  int refs = 0;
  while (sqlite3_step(s) == SQLITE_ROW) {
    const char *child = (const char *)sqlite3_column_text(s, 0);
    const char *parent = (const char *)sqlite3_column_text(s, 1);
    const char *upd = (const char *)sqlite3_column_text(s, 2);
    const char *del = (const char *)sqlite3_column_text(s, 3);
    if (strcmp(upd, "NO ACTION") != 0 || strcmp(del, "NO ACTION") != 0)
      fail_msg("%s REFERENCES %s ON UPDATE %s ON DELETE %s: the writer runs "
               "with foreign_keys=OFF, so do it in the store's code",
               child, parent, upd, del);
    refs++;
  }
  sqlite3_finalize(s);
  assert_true(refs >= 3); /* api_keys, parts and events at least */
  sqlite3_close(db);
}

typedef struct id_got {
  int calls;
  int status;
  int64_t id;
} id_got_t;

static void id_cb(sg_store_t *st, int status, int64_t id, void *data) {
  (void)st;
  id_got_t *g = data;
  g->status = status;
  g->id = id;
  g->calls++;
}

/* The foreign keys were off; the store still refuses a key of no account
 * and writes nothing for it. */
static void a_key_of_no_account_is_refused(void **state) {
  ctx_t *c = *state;
  open_store(c);
  static const uint8_t secret[SG_STORE_SECRET_BYTES] = {7};
  uint8_t h[SG_STORE_KEY_HASH_BYTES];
  assert_int_equal(sg_store_key_hash(secret, "sk_x", 4, h), 0);
  id_got_t g = {0};
  assert_int_equal(sg_store_apikey_create(c->st, 424242, h, "x", id_cb, &g), 0);
  run_until(c, &g.calls, 1);
  assert_int_equal(g.status, SG_ENOENT);
  close_store(c);
  sqlite3 *db = NULL;
  assert_int_equal(sqlite3_open(c->path, &db), SQLITE_OK);
  sqlite3_stmt *s = NULL;
  assert_int_equal(
      sqlite3_prepare_v2(db, "SELECT count(*) FROM api_keys", -1, &s, NULL),
      SQLITE_OK);
  assert_int_equal(sqlite3_step(s), SQLITE_ROW);
  assert_int_equal(sqlite3_column_int(s, 0), 0);
  sqlite3_finalize(s);
  sqlite3_close(db);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(no_reference_asks_for_an_action),
      cmocka_unit_test_setup_teardown(a_key_of_no_account_is_refused, setup,
                                      teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
