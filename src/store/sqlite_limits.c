/* sqlite_limits.c - the SQLite side of store.h "LIMITS" (tables of
 * migration 0008): the usage and charge of a submitted batch, inside the
 * transaction that stores its messages; balance credits; and the read of
 * every account's usage and balance.
 *
 * The two statements of a submit are kept prepared on the writer's
 * connection (SG__Q_LIM_*); the rare credits and reads prepare theirs per
 * call. The charge is taken at once (it may be refused); the usage counts
 * of a group's submits are added up in memory and written once per
 * account and period just before the group's COMMIT (sg__sq_limits_flush),
 * like the traffic counts, and forgotten when the transaction rolls back. This file must never decide whether a message may be sent (the
 * engine holds quota and balance on the loop); it refuses only a charge
 * the balance cannot cover, so that a balance never goes below zero.
 */
#include <string.h>

#include "core/error.h"
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

/* ---- the batch's charge and usage ---------------------------------------- */

static int charge(sg__sq_conn_t *c, int64_t account, int64_t micro,
                  int64_t now) {
  sqlite3_stmt *s = sg__sq_stmt(c, SG__Q_LIM_CHARGE);
  if (s == NULL)
    return SG_EIO;
  sqlite3_bind_int64(s, 1, account);
  sqlite3_bind_int64(s, 2, micro);
  sqlite3_bind_int64(s, 3, now);
  int rc = sg__sq_err(sg__sq_step_done(s));
  if (rc == 0 && sqlite3_changes(c->db) == 0)
    return SG_ENOSPC; /* nothing written: the writer needs no rerun */
  return rc;
}

#define LU_SLOTS (sizeof((sg__sq_conn_t *)0)->lu.e / \
                  sizeof((sg__sq_conn_t *)0)->lu.e[0])

int sg__sq_limits_flush(sg__sq_conn_t *c) {
  int rc = 0;
  for (unsigned i = 0; rc == 0 && i < c->lu.n; i++) {
    sqlite3_stmt *s = sg__sq_stmt(c, SG__Q_LIM_COUNT);
    if (s == NULL)
      return SG_EIO;
    sqlite3_bind_int64(s, 1, c->lu.e[i].account_id);
    sg__sq_bind_text(s, 2, c->lu.e[i].period);
    sqlite3_bind_int64(s, 3, c->lu.e[i].parts);
    rc = sg__sq_err(sg__sq_step_done(s));
  }
  c->lu.n = 0;
  return rc;
}

void sg__sq_limits_discard(sg__sq_conn_t *c) {
  c->lu.n = 0;
}

/* Adds parts to the account's usage of period, in the group's counts. */
static int count(sg__sq_conn_t *c, int64_t account, const char *period,
                 uint32_t parts) {
  unsigned i = 0;
  while (i < c->lu.n && (c->lu.e[i].account_id != account ||
                         strcmp(c->lu.e[i].period, period) != 0))
    i++;
  if (i == c->lu.n) {
    if (c->lu.n == LU_SLOTS) {
      int rc = sg__sq_limits_flush(c); /* still inside the transaction */
      if (rc < 0)
        return rc;
      i = 0;
    }
    if (strlen(period) >= sizeof c->lu.e[i].period)
      return SG_EINVAL;
    c->lu.e[i].account_id = account;
    c->lu.e[i].parts = 0;
    strcpy(c->lu.e[i].period, period);
    c->lu.n = i + 1;
  }
  c->lu.e[i].parts += parts;
  return 0;
}

int sg__sq_limits_submit(sg__sq_conn_t *c, const sg_store_batch_t *b,
                         int64_t now) {
  /* Before anything is written: when it is refused, nothing has been. */
  return b->charge_micro > 0 ? charge(c, b->account_id, b->charge_micro, now)
                             : 0;
}

int sg__sq_limits_usage(sg__sq_conn_t *c, const sg_store_batch_t *b) {
  int rc = 0;
  if (b->usage_parts > 0 && b->usage_day[0] != '\0')
    rc = count(c, b->account_id, b->usage_day, b->usage_parts);
  if (rc == 0 && b->usage_parts > 0 && b->usage_month[0] != '\0')
    rc = count(c, b->account_id, b->usage_month, b->usage_parts);
  return rc;
}

/* ---- credits ------------------------------------------------------------- */

static int balance_of(sg__sq_conn_t *c, int64_t account, int64_t *out) {
  sqlite3_stmt *s =
      prep(c, "SELECT micro FROM account_balance WHERE account_id = ?1");
  if (s == NULL)
    return SG_EIO;
  sqlite3_bind_int64(s, 1, account);
  int rc = sqlite3_step(s);
  *out = rc == SQLITE_ROW ? sqlite3_column_int64(s, 0) : 0;
  sqlite3_finalize(s);
  return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : SG_EIO;
}

static int credit(sg__sq_conn_t *c, sg__limits_req_t *l, int64_t now) {
  int64_t before;
  int rc = balance_of(c, l->account_id, &before);
  if (rc != 0)
    return rc;
  int64_t after = before + l->amount; /* both within +-2^60: no overflow */
  if (after < 0 || after > SG_STORE_BALANCE_MAX)
    return SG_ERANGE;
  sqlite3_stmt *s =
      prep(c, "INSERT INTO account_balance (account_id, micro, updated_ms) "
              "VALUES (?1, ?2, ?3) ON CONFLICT (account_id) DO UPDATE SET "
              "micro = excluded.micro, updated_ms = excluded.updated_ms");
  if (s == NULL)
    return SG_EIO;
  sqlite3_bind_int64(s, 1, l->account_id);
  sqlite3_bind_int64(s, 2, after);
  sqlite3_bind_int64(s, 3, now);
  if ((rc = run_done(s)) != 0)
    return rc;
  s = prep(c, "INSERT INTO balance_credits (account_id, amount, balance, "
              "time_ms) VALUES (?1, ?2, ?3, ?4)");
  if (s == NULL)
    return SG_EIO;
  sqlite3_bind_int64(s, 1, l->account_id);
  sqlite3_bind_int64(s, 2, l->amount);
  sqlite3_bind_int64(s, 3, after);
  sqlite3_bind_int64(s, 4, now);
  if ((rc = run_done(s)) == 0)
    l->balance = after;
  return rc;
}

int sg__sq_limits_write(sg__sq_conn_t *c, sg__store_req_t *r, int64_t now) {
  return credit(c, r->in.limits, now);
}

/* ---- usage and balances -------------------------------------------------- */

int sg__sq_limits_read(sg__sq_conn_t *c, sg__store_req_t *r) {
  sg__limits_req_t *l = r->in.limits;
  sqlite3_stmt *s = prep(
      c, "SELECT a.id, "
         "(SELECT parts FROM account_usage u WHERE u.account_id = a.id AND "
         "u.period = ?1), "
         "(SELECT parts FROM account_usage u WHERE u.account_id = a.id AND "
         "u.period = ?2), "
         "(SELECT micro FROM account_balance b WHERE b.account_id = a.id) "
         "FROM accounts a ORDER BY a.id");
  if (s == NULL)
    return SG_EIO;
  sg__sq_bind_text(s, 1, l->day);
  sg__sq_bind_text(s, 2, l->month);
  size_t cap = 16;
  l->rows = sg__arena_alloc(&r->arena, cap * sizeof *l->rows);
  int rc = SQLITE_DONE;
  while (l->rows != NULL && (rc = sqlite3_step(s)) == SQLITE_ROW) {
    if (l->n_rows == cap) {
      l->rows = sg__arena_grow(&r->arena, l->rows, l->n_rows, &cap, 16,
                               sizeof *l->rows);
      if (l->rows == NULL)
        break;
    }
    sg_store_usage_t *u = &l->rows[l->n_rows++];
    u->account_id = sqlite3_column_int64(s, 0);
    u->day_parts = (uint64_t)sqlite3_column_int64(s, 1);
    u->month_parts = (uint64_t)sqlite3_column_int64(s, 2);
    u->has_balance = sqlite3_column_type(s, 3) != SQLITE_NULL;
    u->balance_micro = sqlite3_column_int64(s, 3);
  }
  sqlite3_finalize(s);
  if (l->rows == NULL)
    return SG_ENOMEM;
  return rc == SQLITE_DONE ? 0 : SG_EIO;
}
