/* sqlite_setting.c - the SQLite side of store_setting.c: the `settings`
 * table of migration 0009, one row per name.
 *
 * A handful of statements per administrative change, prepared per call.
 * This file must never interpret a document: it stores text.
 */
#include <string.h>

#include "core/error.h"
#include "store/sqlite_int.h"

int sg__sq_setting_put(sg__sq_conn_t *c, sg__store_req_t *r, int64_t now) {
  const char *sql = r->in.setting.body != NULL
                        ? "INSERT INTO settings (name, body, updated_ms) "
                          "VALUES (?1, ?2, ?3) ON CONFLICT (name) DO UPDATE "
                          "SET body = excluded.body, updated_ms = "
                          "excluded.updated_ms"
                        : "DELETE FROM settings WHERE name = ?1";
  sqlite3_stmt *s = NULL;
  if (sqlite3_prepare_v2(c->db, sql, -1, &s, NULL) != SQLITE_OK) {
    sqlite3_finalize(s);
    return SG_EIO;
  }
  sg__sq_bind_text(s, 1, r->in.setting.name);
  if (r->in.setting.body != NULL) {
    sqlite3_bind_text(s, 2, r->in.setting.body, (int)r->in.setting.len,
                      SQLITE_STATIC);
    sqlite3_bind_int64(s, 3, now);
  }
  int rc = sg__sq_step_done(s);
  sqlite3_finalize(s);
  return sg__sq_err(rc);
}

int sg__sq_setting_get(sg__sq_conn_t *c, sg__store_req_t *r) {
  sqlite3_stmt *s = NULL;
  if (sqlite3_prepare_v2(c->db, "SELECT body FROM settings WHERE name = ?1", -1,
                         &s, NULL) != SQLITE_OK) {
    sqlite3_finalize(s);
    return SG_EIO;
  }
  sg__sq_bind_text(s, 1, r->in.setting.name);
  int rc = sqlite3_step(s);
  bool ok = true;
  if (rc == SQLITE_ROW) {
    const char *b = (const char *)sqlite3_column_text(s, 0);
    size_t n = (size_t)sqlite3_column_bytes(s, 0);
    r->in.setting.body = sg__arena_strndup(&r->arena, b ? b : "", n, &ok);
    r->in.setting.len = n;
  }
  sqlite3_finalize(s);
  if (rc == SQLITE_DONE)
    return SG_ENOENT;
  if (rc != SQLITE_ROW)
    return SG_EIO;
  return ok ? 0 : SG_ENOMEM;
}
