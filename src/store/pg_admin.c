/* pg_admin.c - the PostgreSQL side of store_admin.c: accounts created
 * through the API and API keys (tables of 0001 with the columns of
 * migration 0007), with the rows and answers of sqlite_admin.c.
 *
 * Writes run on the writer inside the group's transaction, the load on a
 * reader in its read-only snapshot (so its counts and rows agree). This
 * file must never decide anything about an account or a key: the engine
 * does; it stores.
 */
#include <string.h>

#include "core/error.h"
#include "store/admin_int.h"
#include "store/limits_int.h"
#include "store/pg_kinds.h"
#include "store/store_admin_idem.h"

/* 1 when the row with id v exists, 0 when not, or the error. */
static int exists(sg__pg_conn_t *c, const char *sql, int64_t v) {
  sg__pg_params_t p = {0};
  sg__pg_p_i64(&p, v);
  int64_t one = 0;
  return sg__pg_one(c, sql, &p, &one);
}

static int account_create(sg__pg_conn_t *c, sg__admin_req_t *m, int64_t now) {
  const sg_store_admin_account_t *a = &m->account;
  sg__pg_params_t p = {0};
  sg__pg_p_text(&p, a->name);
  sg__pg_p_i64(&p, a->disabled);
  sg__pg_p_i64(&p, now);
  sg__pg_p_text(&p, a->spec);
  sg__pg_p_text(&p, a->smpp_password_hash);
  int64_t id = 0;
  int rc = sg__pg_one(c,
                      "INSERT INTO accounts (name, disabled, created_ms, spec, "
                      "smpp_password_hash, updated_ms) VALUES ($1, $2, $3, $4, "
                      "$5, $3) RETURNING id",
                      &p, &id);
  m->id = rc == 1 ? id : 0;
  return rc < 0 ? rc : rc == 1 ? 0 : SG_EIO;
}

static int account_update(sg__pg_conn_t *c, sg__admin_req_t *m, int64_t now) {
  const sg_store_admin_account_t *a = &m->account;
  sg__pg_params_t p = {0};
  sg__pg_p_i64(&p, a->id);
  sg__pg_p_text(&p, a->spec);
  sg__pg_p_text(&p, a->smpp_password_hash);
  sg__pg_p_i64(&p, a->disabled);
  sg__pg_p_i64(&p, now);
  uint64_t n = 0;
  int rc = sg__pg_do(c,
                     "UPDATE accounts SET spec = $2, smpp_password_hash = $3, "
                     "disabled = $4, updated_ms = $5 WHERE id = $1 AND spec IS "
                     "NOT NULL",
                     &p, &n);
  if (rc == 0 && n == 0)
    return SG_ENOENT;
  m->id = a->id;
  return rc;
}

/* Revokes key id at `when` unless it is revoked earlier already. */
static int key_revoke(sg__pg_conn_t *c, int64_t id, int64_t when) {
  int rc = exists(c, "SELECT 1 FROM api_keys WHERE id = $1", id);
  if (rc <= 0)
    return rc == 0 ? SG_ENOENT : rc;
  sg__pg_params_t p = {0};
  sg__pg_p_i64(&p, id);
  sg__pg_p_i64(&p, when);
  return sg__pg_do(c,
                   "UPDATE api_keys SET revoked_ms = $2 WHERE id = $1 AND "
                   "(revoked_ms IS NULL OR revoked_ms > $2)",
                   &p, NULL);
}

static int key_put(sg__pg_conn_t *c, sg__admin_req_t *m, int64_t now) {
  const sg_store_key_t *k = &m->key;
  int rc = exists(c, "SELECT 1 FROM accounts WHERE id = $1", k->account_id);
  if (rc <= 0)
    return rc == 0 ? SG_ENOENT : rc;
  /* The revocation first: a failure then writes nothing. */
  if (m->revoke_id != 0 &&
      (rc = key_revoke(c, m->revoke_id, m->revoke_ms)) != 0)
    return rc;
  sg__pg_params_t p = {0};
  sg__pg_p_i64(&p, k->account_id);
  sg__pg_p_blob(&p, k->hash, SG_STORE_KEY_HASH_BYTES);
  sg__pg_p_text(&p, k->label);
  sg__pg_p_i64(&p, now);
  sg__pg_p_text(&p, k->public_id);
  int64_t id = 0;
  rc = sg__pg_one(c,
                  "INSERT INTO api_keys (account_id, key_hash, label, "
                  "created_ms, public_id) VALUES ($1, $2, $3, $4, $5) "
                  "RETURNING id",
                  &p, &id);
  m->id = rc == 1 ? id : 0;
  return rc < 0 ? rc : rc == 1 ? 0 : SG_EIO;
}

/* ---- Idempotency-Key records (store_admin_idem.h, migration 0017) ------ */

/* SG__ADMIN_CREDIT: the credit of m->key.account_id by m->amount, as a
 * SG__REQ_LIMITS_WRITE does it, its balance after it into
 * m->idem->balance. */
static int admin_credit(sg__pg_conn_t *c, sg__admin_req_t *m, int64_t now) {
  sg__limits_req_t l;
  memset(&l, 0, sizeof l);
  l.account_id = m->key.account_id;
  l.amount = m->amount;
  int rc = sg__pg_credit(c, &l, now);
  if (rc == 0)
    m->idem->balance = l.balance;
  return rc;
}

/* Inserts m->idem (after deleting expired records), inside the transaction
 * of the change it records. A record of that key written meanwhile by
 * another node fails the insert, and the group with it. */
static int admin_idem_put(sg__pg_conn_t *c, sg__admin_req_t *m, int64_t now) {
  const sg_store_admin_idem_t *d = m->idem;
  sg__pg_params_t p = {0};
  sg__pg_p_i64(&p, now);
  int rc = sg__pg_do(c, "DELETE FROM admin_idempotency WHERE expires_ms <= $1",
                     &p, NULL);
  if (rc != 0)
    return rc;
  sg__pg_params_t q = {0};
  sg__pg_p_i64(&q, d->account_id);
  sg__pg_p_text(&q, d->key);
  sg__pg_p_blob(&q, d->hash, sizeof d->hash);
  sg__pg_p_text(&q, d->result);
  sg__pg_p_i64(&q, d->amount);
  sg__pg_p_i64(&q, d->balance);
  sg__pg_p_i64(&q, now);
  sg__pg_p_i64(&q, now + SG_STORE_ADMIN_IDEM_TTL_MS);
  return sg__pg_do(c,
                   "INSERT INTO admin_idempotency (account_id, key, "
                   "request_hash, result, amount, balance, created_ms, "
                   "expires_ms) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                   &q, NULL);
}

/* Reads the record of m->idem's (account_id, key), unexpired at `now`,
 * into m->idem: 0, SG_ENOENT or the statement's error. */
static int admin_idem_get(sg__pg_conn_t *c, sg__store_req_t *r,
                          sg__admin_req_t *m, int64_t now) {
  sg_store_admin_idem_t *d = m->idem;
  sg__pg_params_t p = {0};
  sg__pg_p_i64(&p, d->account_id);
  sg__pg_p_text(&p, d->key);
  sg__pg_p_i64(&p, now);
  int rc;
  PGresult *res = sg__pg_run(c,
                             "SELECT request_hash, result, amount, balance, "
                             "created_ms FROM admin_idempotency WHERE "
                             "account_id = $1 AND key = $2 AND expires_ms > $3",
                             &p, &rc);
  if (rc == 0 && PQntuples(res) == 1) {
    bool ok = true;
    size_t hlen = 0;
    const uint8_t *h = sg__pg_blob(&r->arena, res, 0, 0, &hlen, &ok);
    if (h != NULL && hlen == sizeof d->hash)
      memcpy(d->hash, h, sizeof d->hash);
    const char *v = PQgetvalue(res, 0, 1);
    size_t n = (size_t)PQgetlength(res, 0, 1);
    if (n < sizeof d->result) {
      memcpy(d->result, v, n);
      d->result[n] = '\0';
    }
    d->amount = sg__pg_i64(res, 0, 2);
    d->balance = sg__pg_i64(res, 0, 3);
    d->created_ms = sg__pg_i64(res, 0, 4);
    rc = ok ? 0 : SG_ENOMEM;
  } else if (rc == 0) {
    rc = SG_ENOENT;
  }
  PQclear(res);
  return rc;
}

static int admin_op(sg__pg_conn_t *c, sg__admin_req_t *m, int64_t now) {
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
int sg__pg_admin_write(sg__pg_conn_t *c, sg__store_req_t *r, int64_t now) {
  sg__admin_req_t *m = r->in.admin;
  int rc = admin_op(c, m, now);
  if (rc == 0 && m->idem != NULL)
    rc = admin_idem_put(c, m, now);
  return rc;
}

/* ---- load ---------------------------------------------------------------- */

static int load_accounts(sg__pg_conn_t *c, sg__store_req_t *r,
                         sg__admin_req_t *m) {
  int rc;
  PGresult *res = sg__pg_run(c,
                             "SELECT id, name, spec, smpp_password_hash, "
                             "disabled, created_ms, coalesce(updated_ms, "
                             "created_ms) FROM accounts WHERE spec IS NOT "
                             "NULL ORDER BY id",
                             NULL, &rc);
  size_t n = rc == 0 ? (size_t)PQntuples(res) : 0;
  m->accts = rc == 0
                 ? sg__arena_alloc(&r->arena, (n ? n : 1) * sizeof *m->accts)
                 : NULL;
  bool ok = m->accts != NULL;
  for (size_t i = 0; ok && i < n; i++) {
    sg_store_admin_account_t *a = &m->accts[m->n_accts++];
    int row = (int)i;
    a->id = sg__pg_i64(res, row, 0);
    a->name = sg__pg_text(&r->arena, res, row, 1, &ok);
    a->spec = sg__pg_text(&r->arena, res, row, 2, &ok);
    a->smpp_password_hash = sg__pg_text(&r->arena, res, row, 3, &ok);
    a->disabled = sg__pg_i64(res, row, 4) != 0;
    a->created_ms = sg__pg_i64(res, row, 5);
    a->updated_ms = sg__pg_i64(res, row, 6);
  }
  PQclear(res);
  return rc < 0 ? rc : ok ? 0 : SG_ENOMEM;
}

static void key_row(sg__arena_t *a, const PGresult *res, int row,
                    sg_store_key_t *k, bool *ok) {
  k->id = sg__pg_i64(res, row, 0);
  const char *pid = PQgetvalue(res, row, 1);
  size_t plen = (size_t)PQgetlength(res, row, 1);
  if (!sg__pg_null(res, row, 1) && plen < sizeof k->public_id)
    memcpy(k->public_id, pid, plen);
  k->account_id = sg__pg_i64(res, row, 2);
  k->label = sg__pg_text(a, res, row, 3, ok);
  size_t hlen = 0;
  const uint8_t *h = sg__pg_blob(a, res, row, 4, &hlen, ok);
  if (h != NULL && hlen == SG_STORE_KEY_HASH_BYTES)
    memcpy(k->hash, h, SG_STORE_KEY_HASH_BYTES);
  k->created_ms = sg__pg_i64(res, row, 5);
  k->revoked_ms = sg__pg_i64(res, row, 6);
}

static int load_keys(sg__pg_conn_t *c, sg__store_req_t *r, sg__admin_req_t *m) {
  int rc;
  PGresult *res = sg__pg_run(c,
                             "SELECT id, public_id, account_id, label, "
                             "key_hash, created_ms, coalesce(revoked_ms, 0) "
                             "FROM api_keys WHERE public_id IS NOT NULL ORDER "
                             "BY id",
                             NULL, &rc);
  size_t n = rc == 0 ? (size_t)PQntuples(res) : 0;
  m->keys = rc == 0 ? sg__arena_alloc(&r->arena, (n ? n : 1) * sizeof *m->keys)
                    : NULL;
  bool ok = m->keys != NULL;
  for (size_t i = 0; ok && i < n; i++)
    key_row(&r->arena, res, (int)i, &m->keys[m->n_keys++], &ok);
  PQclear(res);
  return rc < 0 ? rc : ok ? 0 : SG_ENOMEM;
}

int sg__pg_admin_read(sg__pg_conn_t *c, sg__store_req_t *r) {
  sg__admin_req_t *m = r->in.admin;
  if (m->op == SG__ADMIN_IDEM_GET)
    return admin_idem_get(c, r, m, m->at_ms);
  if (m->op != SG__ADMIN_LOAD)
    return SG_EINVAL;
  /* A read runs again on a new connection after a cut one: from zero. */
  m->n_accts = m->n_keys = 0;
  int rc = load_accounts(c, r, m);
  return rc == 0 ? load_keys(c, r, m) : rc;
}
