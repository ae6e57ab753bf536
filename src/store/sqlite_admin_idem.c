/* sqlite_admin_idem.c - the SQLite side of store_admin_idem.c: a credit
 * run as an admin write, the Idempotency-Key record inserted after the
 * change it records (inside the same request, so the writer's rollback of
 * a failed request takes both away), and the record read back.
 *
 * Statements are prepared per call: these requests are an operator's
 * rare actions. It must never decide whether a request is a replay: the
 * engine does, from the record it reads.
 */
#include "store/sqlite_admin_idem.h"

#include <string.h>

#include "core/error.h"

static sqlite3_stmt *prep(sg__sq_conn_t *c, const char *sql) {
  sqlite3_stmt *s = NULL;
  if (sqlite3_prepare_v2(c->db, sql, -1, &s, NULL) != SQLITE_OK) {
    sqlite3_finalize(s);
    return NULL;
  }
  return s;
}

static int run_done(sqlite3_stmt *s) {
  if (s == NULL)
    return SG_EIO;
  int rc = sg__sq_step_done(s);
  sqlite3_finalize(s);
  return sg__sq_err(rc);
}

int sg__sq_admin_credit(sg__sq_conn_t *c, sg__admin_req_t *m, int64_t now) {
  sg__limits_req_t l;
  memset(&l, 0, sizeof l);
  l.account_id = m->key.account_id;
  l.amount = m->amount;
  sg__store_req_t inner;
  memset(&inner, 0, sizeof inner);
  inner.kind = SG__REQ_LIMITS_WRITE;
  inner.in.limits = &l;
  int rc = sg__sq_limits_write(c, &inner, now);
  if (rc == 0)
    m->idem->balance = l.balance;
  return rc;
}

int sg__sq_admin_idem_put(sg__sq_conn_t *c, sg__admin_req_t *m, int64_t now) {
  const sg_store_admin_idem_t *d = m->idem;
  sqlite3_stmt *s =
      prep(c, "DELETE FROM admin_idempotency WHERE expires_ms <= ?1");
  if (s == NULL)
    return SG_EIO;
  sqlite3_bind_int64(s, 1, now);
  int rc = run_done(s);
  if (rc != 0)
    return rc;
  s = prep(c, "INSERT INTO admin_idempotency (account_id, key, request_hash, "
              "result, amount, balance, created_ms, expires_ms) VALUES (?1, "
              "?2, ?3, ?4, ?5, ?6, ?7, ?8)");
  if (s == NULL)
    return SG_EIO;
  sqlite3_bind_int64(s, 1, d->account_id);
  sg__sq_bind_text(s, 2, d->key);
  sg__sq_bind_blob(s, 3, d->hash, sizeof d->hash);
  sg__sq_bind_text(s, 4, d->result);
  sqlite3_bind_int64(s, 5, d->amount);
  sqlite3_bind_int64(s, 6, d->balance);
  sqlite3_bind_int64(s, 7, now);
  sqlite3_bind_int64(s, 8, now + SG_STORE_ADMIN_IDEM_TTL_MS);
  return run_done(s);
}

int sg__sq_admin_idem_get(sg__sq_conn_t *c, sg__admin_req_t *m, int64_t now) {
  sg_store_admin_idem_t *d = m->idem;
  sqlite3_stmt *s =
      prep(c, "SELECT request_hash, result, amount, balance, created_ms FROM "
              "admin_idempotency WHERE account_id = ?1 AND key = ?2 AND "
              "expires_ms > ?3");
  if (s == NULL)
    return SG_EIO;
  sqlite3_bind_int64(s, 1, d->account_id);
  sg__sq_bind_text(s, 2, d->key);
  sqlite3_bind_int64(s, 3, now);
  int rc = sqlite3_step(s);
  if (rc == SQLITE_ROW) {
    if (sqlite3_column_bytes(s, 0) == (int)sizeof d->hash)
      memcpy(d->hash, sqlite3_column_blob(s, 0), sizeof d->hash);
    const unsigned char *res = sqlite3_column_text(s, 1);
    size_t n = (size_t)sqlite3_column_bytes(s, 1);
    if (res != NULL && n < sizeof d->result)
      memcpy(d->result, res, n + 1);
    d->amount = sqlite3_column_int64(s, 2);
    d->balance = sqlite3_column_int64(s, 3);
    d->created_ms = sqlite3_column_int64(s, 4);
  }
  sqlite3_finalize(s);
  return rc == SQLITE_ROW ? 0 : rc == SQLITE_DONE ? SG_ENOENT : SG_EIO;
}
