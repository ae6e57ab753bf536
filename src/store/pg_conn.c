/* pg_conn.c - the PostgreSQL store's use of libpq: statement parameters,
 * statements prepared once per connection, results mapped to SG_E* codes,
 * and column readers that copy into a request's arena.
 *
 * Each connection belongs to one thread. This file must never begin or end
 * a transaction on its own, nor keep a result past the call that reads it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "store/pg_int.h"

/* ---- parameters ---------------------------------------------------------- */

static void p_add(sg__pg_params_t *p, const char *v, int len, int fmt) {
  if (p->n >= SG__PG_MAX_PARAMS)
    abort(); /* a statement of this file with too many parameters */
  p->v[p->n] = v;
  p->len[p->n] = len;
  p->fmt[p->n] = fmt;
  p->n++;
}

void sg__pg_p_text(sg__pg_params_t *p, const char *s) {
  p_add(p, s, 0, 0);
}

void sg__pg_p_null(sg__pg_params_t *p) {
  p_add(p, NULL, 0, 0);
}

void sg__pg_p_i64(sg__pg_params_t *p, int64_t v) {
  if (p->n >= SG__PG_MAX_PARAMS)
    abort();
  snprintf(p->num[p->n], sizeof p->num[p->n], "%lld", (long long)v);
  p_add(p, p->num[p->n], 0, 0);
}

void sg__pg_p_opt_i64(sg__pg_params_t *p, int64_t v) {
  if (v == 0)
    sg__pg_p_null(p);
  else
    sg__pg_p_i64(p, v);
}

void sg__pg_p_blob(sg__pg_params_t *p, const void *b, size_t len) {
  if (b == NULL)
    sg__pg_p_null(p);
  else
    p_add(p, len ? b : "", (int)len, 1);
}

/* ---- running statements -------------------------------------------------- */

int sg__pg_result_rc(sg__pg_conn_t *c, const PGresult *res) {
  ExecStatusType s = res ? PQresultStatus(res) : PGRES_FATAL_ERROR;
  if (s == PGRES_COMMAND_OK || s == PGRES_TUPLES_OK)
    return 0;
  const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
  snprintf(c->last_error, sizeof c->last_error, "%s",
           res ? PQresultErrorMessage(res) : PQerrorMessage(c->pc));
  size_t n = strlen(c->last_error);
  while (n > 0 && (c->last_error[n - 1] == '\n' || c->last_error[n - 1] == ' '))
    c->last_error[--n] = '\0';
  snprintf(c->last_state, sizeof c->last_state, "%s", state ? state : "");
  /* Class 08 (connection exception), 57P (the server shutting down or
   * ending this session) or a lost socket: reconnect before the next use. */
  if (PQstatus(c->pc) != CONNECTION_OK ||
      (state != NULL &&
       (strncmp(state, "08", 2) == 0 || strncmp(state, "57P", 3) == 0)))
    c->broken = true;
  /* Class 23, integrity constraint violation: the request's own fault. */
  if (state != NULL && strncmp(state, "23", 2) == 0)
    return SG_EEXIST;
  return SG_EIO;
}

const char *sg__pg_stmt(sg__pg_conn_t *c, const char *sql, char *name,
                        size_t len) {
  unsigned i;
  for (i = 0; i < c->n_stmts; i++)
    if (c->stmt_sql[i] == sql)
      break;
  snprintf(name, len, "sg%u", i);
  if (i < c->n_stmts)
    return name;
  if (i >= SG__PG_STMT_CACHE)
    return NULL;
  if (c->pipe.on) { /* its answer is read with the others' */
    if (c->pipe.n + 2 > SG__PG_PIPE_MAX ||
        !PQsendPrepare(c->pc, name, sql, 0, NULL))
      return NULL;
    c->pipe.kind[c->pipe.n] = SG__PG_PIPE_PREPARE;
    c->pipe.slot[c->pipe.n] = (int16_t)i;
    c->pipe.owner[c->pipe.n++] = c->pipe.cur;
    c->stmt_sql[c->n_stmts++] = sql;
    return name;
  }
  PGresult *res = PQprepare(c->pc, name, sql, 0, NULL);
  bool ok = res != NULL && PQresultStatus(res) == PGRES_COMMAND_OK;
  if (!ok)
    sg__pg_result_rc(c, res);
  PQclear(res);
  if (!ok)
    return NULL;
  c->stmt_sql[c->n_stmts++] = sql;
  return name;
}

/* Whether res is the result of a command that writes rows. */
static bool wrote(const PGresult *res) {
  const char *cmd = PQcmdStatus((PGresult *)res);
  return cmd != NULL &&
         (strncmp(cmd, "INSERT", 6) == 0 || strncmp(cmd, "UPDATE", 6) == 0 ||
          strncmp(cmd, "DELETE", 6) == 0);
}

void sg__pg_count(sg__pg_conn_t *c, const PGresult *res) {
  if (res != NULL && wrote(res))
    c->changes += strtoull(PQcmdTuples((PGresult *)res), NULL, 10);
}

PGresult *sg__pg_run(sg__pg_conn_t *c, const char *sql,
                     const sg__pg_params_t *p, int *rc) {
  static const sg__pg_params_t none = {0};
  if (c->pipe.on)
    return sg__pg_pipe_run(c, sql, p, rc);
  if (p == NULL)
    p = &none;
  char buf[16];
  const char *name = sg__pg_stmt(c, sql, buf, sizeof buf);
  PGresult *res;
  if (name != NULL)
    res = PQexecPrepared(c->pc, name, p->n, p->v, p->len, p->fmt, 0);
  else
    res = PQexecParams(c->pc, sql, p->n, NULL, p->v, p->len, p->fmt, 0);
  *rc = sg__pg_result_rc(c, res);
  if (*rc == 0)
    sg__pg_count(c, res);
  if (res == NULL) /* out of memory in libpq: an empty failed result */
    res = PQmakeEmptyPGresult(c->pc, PGRES_FATAL_ERROR);
  return res;
}

int sg__pg_do(sg__pg_conn_t *c, const char *sql, const sg__pg_params_t *p,
              uint64_t *n) {
  if (n == NULL && c->pipe.on)
    return sg__pg_send(c, sql, p);
  int rc;
  PGresult *res = sg__pg_run(c, sql, p, &rc);
  if (n != NULL) {
    const char *t = rc == 0 ? PQcmdTuples(res) : NULL;
    *n = t != NULL && t[0] != '\0' ? strtoull(t, NULL, 10) : 0;
  }
  PQclear(res);
  return rc;
}

int sg__pg_cmd(sg__pg_conn_t *c, const char *sql) {
  PGresult *res = PQexec(c->pc, sql);
  int rc = sg__pg_result_rc(c, res);
  PQclear(res);
  return rc;
}

/* ---- columns ------------------------------------------------------------- */

bool sg__pg_null(const PGresult *r, int row, int col) {
  return PQgetisnull(r, row, col) != 0;
}

int64_t sg__pg_i64(const PGresult *r, int row, int col) {
  if (PQgetisnull(r, row, col))
    return 0;
  return strtoll(PQgetvalue(r, row, col), NULL, 10);
}

const char *sg__pg_text(sg__arena_t *a, const PGresult *r, int row, int col,
                        bool *ok) {
  if (PQgetisnull(r, row, col))
    return NULL;
  return sg__arena_strndup(a, PQgetvalue(r, row, col),
                           (size_t)PQgetlength(r, row, col), ok);
}

const uint8_t *sg__pg_blob(sg__arena_t *a, const PGresult *r, int row, int col,
                           size_t *len, bool *ok) {
  *len = 0;
  if (PQgetisnull(r, row, col))
    return NULL;
  size_t n = 0;
  unsigned char *raw =
      PQunescapeBytea((const unsigned char *)PQgetvalue(r, row, col), &n);
  if (raw == NULL) {
    *ok = false;
    return NULL;
  }
  uint8_t *out = sg__arena_alloc(a, n); /* an empty blob is not NULL */
  if (out == NULL)
    *ok = false;
  else if (n > 0)
    memcpy(out, raw, n);
  PQfreemem(raw);
  *len = out != NULL ? n : 0;
  return out;
}

sg_msg_status_t sg__pg_status(const PGresult *r, int row, int col) {
  sg_msg_status_t st = SG_MSG_NONE;
  if (!PQgetisnull(r, row, col))
    sg_store_status_parse(PQgetvalue(r, row, col), &st);
  return st;
}

void sg__pg_read_message(sg__arena_t *a, const PGresult *r, int row,
                         sg_store_message_t *m, bool *ok) {
  snprintf(m->id, sizeof m->id, "%s", PQgetvalue(r, row, 0));
  snprintf(m->batch_id, sizeof m->batch_id, "%s", PQgetvalue(r, row, 1));
  m->account_id = sg__pg_i64(r, row, 2);
  m->sender = sg__pg_text(a, r, row, 3, ok);
  m->recipient = sg__pg_text(a, r, row, 4, ok);
  m->encoding = (sg_encoding_t)sg__pg_i64(r, row, 5);
  m->binary = sg__pg_i64(r, row, 6) != 0;
  m->body = sg__pg_blob(a, r, row, 7, &m->body_len, ok);
  m->validity_ms = sg__pg_i64(r, row, 8);
  m->send_at_ms = sg__pg_i64(r, row, 9);
  m->callback_url = sg__pg_text(a, r, row, 10, ok);
  m->client_ref = sg__pg_text(a, r, row, 11, ok);
  m->priority = (uint8_t)sg__pg_i64(r, row, 12);
  m->dlr_wanted = sg__pg_i64(r, row, 13) != 0;
  m->status = sg__pg_status(r, row, 14);
  m->error_code = (int32_t)sg__pg_i64(r, row, 15);
  m->parts_total = (unsigned)sg__pg_i64(r, row, 16);
  m->created_ms = sg__pg_i64(r, row, 17);
  m->updated_ms = sg__pg_i64(r, row, 18);
}
