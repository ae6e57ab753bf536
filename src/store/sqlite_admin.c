/* sqlite_admin.c - the SQLite side of store_admin.c: accounts created
 * through the API and API keys (tables of 0001 with the columns of
 * migration 0007).
 *
 * Writes run on the writer thread inside the group's transaction, reads on
 * a reader connection. These requests are rare (an operator's action, one
 * load at start): statements are prepared per call. The Idempotency-Key
 * records of admin creations (migration 0017) are written inside the
 * request of the change they record, so the writer's rollback of a failed
 * request takes both away. This file must never decide anything about an
 * account or a key, nor whether a request is a replay: the engine does; it
 * stores.
 */
#include <string.h>

#include "core/error.h"
#include "store/admin_int.h"
#include "store/limits_int.h"
#include "store/sqlite_int.h"

static sqlite3_stmt *prep(sg__sq_conn_t *c, const char *sql) {
  sqlite3_stmt *s = NULL;
  if (sqlite3_prepare_v2(c->db, sql, -1, &s, NULL) != SQLITE_OK) {
    sqlite3_finalize(s);
    return NULL;
  }
  return s;
}

/* Steps s to its end and finalizes it: 0, SG_EEXIST or SG_EIO. */
static int run_done(sqlite3_stmt *s) {
  if (s == NULL)
    return SG_EIO;
  int rc = sg__sq_step_done(s);
  sqlite3_finalize(s);
  return sg__sq_err(rc);
}

/* 1 when the query (one int64 parameter) finds a row, 0 when not, or
 * SG_EIO. */
static int exists(sg__sq_conn_t *c, const char *sql, int64_t v) {
  sqlite3_stmt *s = prep(c, sql);
  if (s == NULL)
    return SG_EIO;
  sqlite3_bind_int64(s, 1, v);
  int rc = sqlite3_step(s);
  sqlite3_finalize(s);
  return rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : SG_EIO;
}

static int account_create(sg__sq_conn_t *c, sg__admin_req_t *m, int64_t now) {
  const sg_store_admin_account_t *a = &m->account;
  sqlite3_stmt *s = prep(
      c, "INSERT INTO accounts (name, disabled, created_ms, spec, "
         "smpp_password_hash, updated_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?3)");
  if (s == NULL)
    return SG_EIO;
  sg__sq_bind_text(s, 1, a->name);
  sqlite3_bind_int(s, 2, a->disabled);
  sqlite3_bind_int64(s, 3, now);
  sg__sq_bind_text(s, 4, a->spec);
  sg__sq_bind_text(s, 5, a->smpp_password_hash);
  int rc = run_done(s);
  m->id = rc == 0 ? sqlite3_last_insert_rowid(c->db) : 0;
  return rc;
}

static int account_update(sg__sq_conn_t *c, sg__admin_req_t *m, int64_t now) {
  const sg_store_admin_account_t *a = &m->account;
  sqlite3_stmt *s = prep(
      c, "UPDATE accounts SET spec = ?2, smpp_password_hash = ?3, disabled = "
         "?4, updated_ms = ?5 WHERE id = ?1 AND spec IS NOT NULL");
  if (s == NULL)
    return SG_EIO;
  sqlite3_bind_int64(s, 1, a->id);
  sg__sq_bind_text(s, 2, a->spec);
  sg__sq_bind_text(s, 3, a->smpp_password_hash);
  sqlite3_bind_int(s, 4, a->disabled);
  sqlite3_bind_int64(s, 5, now);
  int rc = run_done(s);
  if (rc == 0 && sqlite3_changes(c->db) == 0)
    return SG_ENOENT;
  m->id = a->id;
  return rc;
}

/* Revokes key id at `when` unless it is revoked earlier already. */
static int key_revoke(sg__sq_conn_t *c, int64_t id, int64_t when) {
  int rc = exists(c, "SELECT 1 FROM api_keys WHERE id = ?1", id);
  if (rc <= 0)
    return rc == 0 ? SG_ENOENT : rc;
  sqlite3_stmt *s =
      prep(c, "UPDATE api_keys SET revoked_ms = ?2 WHERE id = ?1 AND "
              "(revoked_ms IS NULL OR revoked_ms > ?2)");
  if (s == NULL)
    return SG_EIO;
  sqlite3_bind_int64(s, 1, id);
  sqlite3_bind_int64(s, 2, when);
  return run_done(s);
}

static int key_put(sg__sq_conn_t *c, sg__admin_req_t *m, int64_t now) {
  const sg_store_key_t *k = &m->key;
  int rc = exists(c, "SELECT 1 FROM accounts WHERE id = ?1", k->account_id);
  if (rc <= 0)
    return rc == 0 ? SG_ENOENT : rc;
  /* The revocation first: a failure then writes nothing. */
  if (m->revoke_id != 0 &&
      (rc = key_revoke(c, m->revoke_id, m->revoke_ms)) != 0)
    return rc;
  sqlite3_stmt *s =
      prep(c, "INSERT INTO api_keys (account_id, key_hash, label, created_ms, "
              "public_id) VALUES (?1, ?2, ?3, ?4, ?5)");
  if (s == NULL)
    return SG_EIO;
  sqlite3_bind_int64(s, 1, k->account_id);
  sg__sq_bind_blob(s, 2, k->hash, SG_STORE_KEY_HASH_BYTES);
  sg__sq_bind_text(s, 3, k->label);
  sqlite3_bind_int64(s, 4, now);
  sg__sq_bind_text(s, 5, k->public_id);
  rc = run_done(s);
  m->id = rc == 0 ? sqlite3_last_insert_rowid(c->db) : 0;
  return rc;
}

/* ---- Idempotency-Key records (store_admin_idem.h, migration 0017) ------ */

/* SG__ADMIN_CREDIT: the credit of m->key.account_id by m->amount, as
 * sg__sq_limits_write does it, its balance after it put into
 * m->idem->balance. 0, SG_ERANGE or SG_EIO. */
static int admin_credit(sg__sq_conn_t *c, sg__admin_req_t *m, int64_t now) {
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

/* Inserts m->idem (after deleting expired records), inside the request of
 * the change it records: 0, SG_EEXIST (a record of that key exists) or
 * SG_EIO. */
static int admin_idem_put(sg__sq_conn_t *c, sg__admin_req_t *m, int64_t now) {
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

static int admin_op(sg__sq_conn_t *c, sg__admin_req_t *m, int64_t now) {
  switch (m->op) {
  case SG__ADMIN_ACCOUNT_CREATE:
    return account_create(c, m, now);
  case SG__ADMIN_ACCOUNT_UPDATE:
    return account_update(c, m, now);
  case SG__ADMIN_KEY_PUT:
    return key_put(c, m, now);
  case SG__ADMIN_KEY_REVOKE:
    return key_revoke(c, m->revoke_id, m->revoke_ms);
  case SG__ADMIN_CREDIT:
    return admin_credit(c, m, now);
  default:
    return SG_EINVAL;
  }
}

/* The change, then its Idempotency-Key record when it has one: a record
 * that cannot be written fails the request, and the writer takes the
 * change away with it. */
int sg__sq_admin_write(sg__sq_conn_t *c, sg__store_req_t *r, int64_t now) {
  sg__admin_req_t *m = r->in.admin;
  int rc = admin_op(c, m, now);
  if (rc == 0 && m->idem != NULL)
    rc = admin_idem_put(c, m, now);
  return rc;
}

/* ---- load ------------------------------------------------------------------
 */

static int count_rows(sg__sq_conn_t *c, const char *sql, size_t *n) {
  sqlite3_stmt *s = prep(c, sql);
  if (s == NULL)
    return SG_EIO;
  int rc = sqlite3_step(s);
  *n = rc == SQLITE_ROW ? (size_t)sqlite3_column_int64(s, 0) : 0;
  sqlite3_finalize(s);
  return rc == SQLITE_ROW ? 0 : SG_EIO;
}

static int load_accounts(sg__sq_conn_t *c, sg__store_req_t *r,
                         sg__admin_req_t *m) {
  size_t n = 0;
  int rc =
      count_rows(c, "SELECT count(*) FROM accounts WHERE spec IS NOT NULL", &n);
  if (rc != 0)
    return rc;
  m->accts = sg__arena_alloc(&r->arena, (n ? n : 1) * sizeof *m->accts);
  sqlite3_stmt *s =
      m->accts == NULL
          ? NULL
          : prep(c, "SELECT id, name, spec, smpp_password_hash, disabled, "
                    "created_ms, coalesce(updated_ms, created_ms) FROM "
                    "accounts WHERE spec IS NOT NULL ORDER BY id");
  if (s == NULL)
    return m->accts == NULL ? SG_ENOMEM : SG_EIO;
  bool ok = true;
  rc = SQLITE_DONE;
  while (m->n_accts < n && (rc = sqlite3_step(s)) == SQLITE_ROW) {
    sg_store_admin_account_t *a = &m->accts[m->n_accts++];
    a->id = sqlite3_column_int64(s, 0);
    a->name = sg__sq_col_text(&r->arena, s, 1, &ok);
    a->spec = sg__sq_col_text(&r->arena, s, 2, &ok);
    a->smpp_password_hash = sg__sq_col_text(&r->arena, s, 3, &ok);
    a->disabled = sqlite3_column_int(s, 4) != 0;
    a->created_ms = sqlite3_column_int64(s, 5);
    a->updated_ms = sqlite3_column_int64(s, 6);
  }
  sqlite3_finalize(s);
  return !ok ? SG_ENOMEM : rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : SG_EIO;
}

static int load_keys(sg__sq_conn_t *c, sg__store_req_t *r, sg__admin_req_t *m) {
  size_t n = 0;
  int rc = count_rows(
      c, "SELECT count(*) FROM api_keys WHERE public_id IS NOT NULL", &n);
  if (rc != 0)
    return rc;
  m->keys = sg__arena_alloc(&r->arena, (n ? n : 1) * sizeof *m->keys);
  sqlite3_stmt *s =
      m->keys == NULL
          ? NULL
          : prep(c, "SELECT id, public_id, account_id, label, key_hash, "
                    "created_ms, coalesce(revoked_ms, 0) FROM api_keys "
                    "WHERE public_id IS NOT NULL ORDER BY id");
  if (s == NULL)
    return m->keys == NULL ? SG_ENOMEM : SG_EIO;
  bool ok = true;
  rc = SQLITE_DONE;
  while (m->n_keys < n && (rc = sqlite3_step(s)) == SQLITE_ROW) {
    sg_store_key_t *k = &m->keys[m->n_keys++];
    k->id = sqlite3_column_int64(s, 0);
    const unsigned char *pid = sqlite3_column_text(s, 1);
    size_t plen = (size_t)sqlite3_column_bytes(s, 1);
    if (pid != NULL && plen < sizeof k->public_id)
      memcpy(k->public_id, pid, plen);
    k->account_id = sqlite3_column_int64(s, 2);
    k->label = sg__sq_col_text(&r->arena, s, 3, &ok);
    if (sqlite3_column_bytes(s, 4) == SG_STORE_KEY_HASH_BYTES)
      memcpy(k->hash, sqlite3_column_blob(s, 4), SG_STORE_KEY_HASH_BYTES);
    k->created_ms = sqlite3_column_int64(s, 5);
    k->revoked_ms = sqlite3_column_int64(s, 6);
  }
  sqlite3_finalize(s);
  return !ok ? SG_ENOMEM : rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : SG_EIO;
}

/* Reads the record of m->idem's (account_id, key) into m->idem: 0,
 * SG_ENOENT (none, or expired at `now`) or SG_EIO. */
static int admin_idem_get(sg__sq_conn_t *c, sg__admin_req_t *m, int64_t now) {
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

int sg__sq_admin_read(sg__sq_conn_t *c, sg__store_req_t *r) {
  sg__admin_req_t *m = r->in.admin;
  if (m->op == SG__ADMIN_IDEM_GET)
    return admin_idem_get(c, m, m->at_ms);
  if (m->op != SG__ADMIN_LOAD)
    return SG_EINVAL;
  int rc = load_accounts(c, r, m);
  return rc == 0 ? load_keys(c, r, m) : rc;
}
