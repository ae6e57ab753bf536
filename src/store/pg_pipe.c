/* pg_pipe.c - libpq's pipeline mode for the PostgreSQL store's writer: the
 * statements of a group go out without waiting for each answer, and the
 * writer waits for the server only when it needs a result (a SELECT, a
 * RETURNING) and once at COMMIT. Every statement sent is remembered with
 * the request it was sent for, so that a failure found later (a repeated
 * message id, say) is charged to that request and the writer can leave it
 * out and run the group again, as it does when a statement fails at once.
 *
 * Only the writer's connection, only inside a group. This file must never
 * begin or end a transaction on its own (the writer sends BEGIN, COMMIT and
 * ROLLBACK through it), nor keep a result past the call that reads it.
 */
#include <stdio.h>
#include <string.h>

#include "core/error.h"
#include "store/pg_int.h"

/* Remembers the first failure of the pipeline and whose it was. */
static void note_failure(sg__pg_conn_t *c, unsigned i, int rc) {
  if (c->pipe.failed_set)
    return;
  c->pipe.failed_set = true;
  c->pipe.failed = c->pipe.owner[i];
  c->pipe.failed_rc = rc;
}

static int broken(sg__pg_conn_t *c) {
  c->broken = true;
  if (c->last_error[0] == '\0')
    snprintf(c->last_error, sizeof c->last_error, "%s", PQerrorMessage(c->pc));
  return SG_EIO;
}

/* Reads the answer of entry i. Returns it (to PQclear) or NULL when the
 * connection broke. */
static PGresult *read_entry(sg__pg_conn_t *c, unsigned i) {
  PGresult *res = PQgetResult(c->pc);
  if (c->pipe.kind[i] == SG__PG_PIPE_SYNC) {
    if (res == NULL) /* tolerate one end marker before the sync */
      res = PQgetResult(c->pc);
    if (res == NULL || PQresultStatus(res) != PGRES_PIPELINE_SYNC) {
      PQclear(res);
      return NULL;
    }
    return res;
  }
  if (res == NULL)
    return NULL;
  /* A statement's answer ends with a NULL; anything else before it (a
   * lost connection's messages) is dropped. */
  for (PGresult *more; (more = PQgetResult(c->pc)) != NULL;)
    PQclear(more);
  return res;
}

/* Checks the answer of entry i: failures are remembered, a prepare that
 * did not happen is forgotten so that it is sent again. */
static void check_entry(sg__pg_conn_t *c, unsigned i, const PGresult *res) {
  ExecStatusType s = PQresultStatus(res);
  bool ok =
      s == PGRES_COMMAND_OK || s == PGRES_TUPLES_OK || s == PGRES_PIPELINE_SYNC;
  if (!ok && c->pipe.kind[i] == SG__PG_PIPE_PREPARE)
    c->stmt_sql[c->pipe.slot[i]] = NULL;
  if (ok) {
    if (c->pipe.kind[i] == SG__PG_PIPE_STMT)
      sg__pg_count(c, res);
    /* A COMMIT's answer says whether it committed ("ROLLBACK" when the
     * transaction had failed), whatever comes after it. */
    if ((int)i == c->pipe.cmd_at && strcmp(PQcmdStatus((PGresult *)res),
                                           "COMMIT") == 0)
      c->pipe.committed = true;
  } else if (s != PGRES_PIPELINE_ABORTED) {
    note_failure(c, i, sg__pg_result_rc(c, res));
  }
}

/* Reads every answer pending; keeps the last one in *last when last is not
 * NULL. 0, or SG_EIO when the connection broke. */
static int read_all(sg__pg_conn_t *c, PGresult **last) {
  int rc = 0;
  if (last != NULL)
    *last = NULL;
  c->pipe.trips++;
  for (unsigned i = 0; i < c->pipe.n; i++) {
    PGresult *res = read_entry(c, i);
    if (res == NULL) {
      rc = broken(c);
      note_failure(c, i, SG_EIO);
      break;
    }
    check_entry(c, i, res);
    if (last != NULL && i + 1 == c->pipe.n)
      *last = res;
    else
      PQclear(res);
  }
  c->pipe.n = 0;
  return rc;
}

/* Sends sql with p and remembers the entry. */
static int send_stmt(sg__pg_conn_t *c, const char *sql,
                     const sg__pg_params_t *p) {
  static const sg__pg_params_t none = {0};
  if (p == NULL)
    p = &none;
  if (c->pipe.n + 3 > SG__PG_PIPE_MAX) {
    /* Bounded: read what is there before sending more. */
    if (PQsendFlushRequest(c->pc) != 1 || PQflush(c->pc) != 0 ||
        read_all(c, NULL) != 0)
      return broken(c);
  }
  char buf[16];
  const char *name = sg__pg_stmt(c, sql, buf, sizeof buf);
  int ok =
      name != NULL
          ? PQsendQueryPrepared(c->pc, name, p->n, p->v, p->len, p->fmt, 0)
          : PQsendQueryParams(c->pc, sql, p->n, NULL, p->v, p->len, p->fmt, 0);
  if (ok != 1)
    return broken(c);
  c->pipe.kind[c->pipe.n] = SG__PG_PIPE_STMT;
  c->pipe.owner[c->pipe.n++] = c->pipe.cur;
  c->pipe.stmts++;
  return 0;
}

int sg__pg_send(sg__pg_conn_t *c, const char *sql, const sg__pg_params_t *p) {
  if (!c->pipe.on)
    return sg__pg_do(c, sql, p, NULL);
  int rc = send_stmt(c, sql, p);
  if (rc == 0)
    c->pipe.sent++;
  return rc;
}

PGresult *sg__pg_pipe_run(sg__pg_conn_t *c, const char *sql,
                          const sg__pg_params_t *p, int *rc) {
  PGresult *res = NULL;
  *rc = send_stmt(c, sql, p);
  if (*rc == 0 && (PQsendFlushRequest(c->pc) != 1 || PQflush(c->pc) != 0))
    *rc = broken(c);
  if (*rc == 0)
    *rc = read_all(c, &res);
  if (*rc == 0 && res != NULL)
    *rc = sg__pg_result_rc(c, res);
  if (res == NULL) /* an empty failed result, as sg__pg_run promises */
    res = PQmakeEmptyPGresult(c->pc, PGRES_FATAL_ERROR);
  if (*rc == 0 && res == NULL)
    *rc = SG_ENOMEM;
  return res;
}

int sg__pg_pipe_begin(sg__pg_conn_t *c) {
  sg__pg_pipe_clear(c);
  c->pipe.n = 0;
  c->pipe.cmd_at = -1;
  c->pipe.committed = false;
  c->pipe.cur = NULL;
  if (PQenterPipelineMode(c->pc) != 1)
    return broken(c);
  c->pipe.on = true;
  return send_stmt(c, "BEGIN", NULL);
}

int sg__pg_pipe_sync(sg__pg_conn_t *c, const char *cmd) {
  const void *cur = c->pipe.cur;
  c->pipe.cur = NULL; /* cmd's own failure is nobody's request */
  c->pipe.committed = false;
  c->pipe.cmd_at = -1;
  int rc = 0;
  if (cmd != NULL) {
    rc = send_stmt(c, cmd, NULL);
    if (rc == 0) /* the last entry (send_stmt may have read the others) */
      c->pipe.cmd_at = (int)c->pipe.n - 1;
  }
  c->pipe.cur = cur;
  if (rc == 0 && PQpipelineSync(c->pc) != 1)
    rc = broken(c);
  if (rc == 0) {
    c->pipe.kind[c->pipe.n] = SG__PG_PIPE_SYNC;
    c->pipe.owner[c->pipe.n++] = NULL;
    rc = read_all(c, NULL);
  }
  c->pipe.cmd_at = -1;
  /* The server answered COMMIT and then went away before the sync (a fast
   * shutdown ends a session as soon as its command is done): the
   * transaction is committed, and the connection is reset before its next
   * use. Failing the requests would leave their rows (a claim's leases)
   * with a node that does not know it holds them. */
  if (c->pipe.committed && strcmp(cmd != NULL ? cmd : "", "COMMIT") == 0) {
    sg__pg_pipe_clear(c);
    c->pipe.n = 0;
    return 0;
  }
  if (rc == 0 && c->pipe.failed_set)
    rc = c->pipe.failed != NULL ? 1 : SG_EIO;
  return rc;
}

void sg__pg_pipe_end(sg__pg_conn_t *c) {
  if (c->pipe.on && PQexitPipelineMode(c->pc) != 1)
    c->broken = true; /* answers left unread: reset before the next use */
  c->pipe.on = false;
  c->pipe.n = 0;
  c->pipe.cur = NULL;
}

void sg__pg_pipe_clear(sg__pg_conn_t *c) {
  c->pipe.failed_set = false;
  c->pipe.failed = NULL;
  c->pipe.failed_rc = 0;
}
