/* pg_ops.c - the PostgreSQL side of store_ops.c: the connectors' queues
 * counted by status, a connector's queued parts purged, and a message that
 * ended badly queued again, with the rows and answers of sqlite_ops.c.
 *
 * Writes run on the writer inside the group's transaction and go through
 * the same event, status derivation and webhook path as every other change
 * of a part (postgres_msg.c: sg__pg_event and sg__pg_rederive); reads run
 * on a reader. The purge takes its parts FOR UPDATE SKIP LOCKED, as the
 * claims of other nodes do. This file must never begin or end a
 * transaction, and never touch a part that a connector holds ('sending')
 * or answered ('sent').
 */
#include <stdio.h>
#include <string.h>

#include "core/error.h"
#include "store/ops_int.h"
#include "store/pg_kinds.h"
#include "store/postgres_msg.h"

/* ---- queues and outcomes (read) ------------------------------------------ */

static int queues(sg__pg_conn_t *c, sg__store_req_t *r, sg__ops_req_t *m) {
  sg__pg_params_t p = {0};
  sg__pg_p_text(&p, m->connector);
  sg__pg_p_i64(&p, SG_STORE_QUEUE_ROWS_MAX);
  int rc;
  PGresult *res = sg__pg_run(
      c,
      "SELECT p.connector, p.status, count(*), min(m.created_ms) FROM parts "
      "p JOIN messages m ON m.id = p.message_id WHERE p.status IN "
      "('scheduled', 'queued', 'sending', 'sent') AND ($1::text IS NULL OR "
      "p.connector = $1) GROUP BY p.connector, p.status ORDER BY p.connector "
      "COLLATE \"C\", p.status COLLATE \"C\" LIMIT $2",
      &p, &rc);
  size_t n = rc == 0 ? (size_t)PQntuples(res) : 0;
  m->rows = sg__arena_alloc(&r->arena, (n ? n : 1) * sizeof *m->rows);
  bool ok = m->rows != NULL;
  for (size_t i = 0; ok && i < n; i++) {
    sg_store_queue_row_t *row = &m->rows[m->n_rows++];
    row->connector = sg__pg_text(&r->arena, res, (int)i, 0, &ok);
    row->status = sg__pg_status(res, (int)i, 1);
    row->parts = (uint64_t)sg__pg_i64(res, (int)i, 2);
    row->oldest_ms = sg__pg_i64(res, (int)i, 3);
  }
  PQclear(res);
  return rc < 0 ? rc : ok ? 0 : SG_ENOMEM;
}

static int outcomes(sg__pg_conn_t *c, sg__store_req_t *r, sg__ops_req_t *m) {
  sg__pg_params_t p = {0};
  sg__pg_p_i64(&p, SG_STORE_QUEUE_ROWS_MAX);
  int rc;
  PGresult *res = sg__pg_run(
      c,
      "SELECT m.account_id, p.connector, p.status, coalesce(p.error_code, 0), "
      "count(*) AS n FROM parts p JOIN messages m ON m.id = p.message_id "
      "WHERE p.status IN ('sent', 'delivered', 'undeliverable', 'expired', "
      "'rejected', 'failed', 'canceled') GROUP BY 1, 2, 3, 4 ORDER BY n DESC "
      "LIMIT $1",
      &p, &rc);
  size_t n = rc == 0 ? (size_t)PQntuples(res) : 0;
  m->outcomes = sg__arena_alloc(&r->arena, (n ? n : 1) * sizeof *m->outcomes);
  bool ok = m->outcomes != NULL;
  for (size_t i = 0; ok && i < n; i++) {
    sg_store_outcome_row_t *o = &m->outcomes[m->n_outcomes++];
    o->account_id = sg__pg_i64(res, (int)i, 0);
    o->connector = sg__pg_text(&r->arena, res, (int)i, 1, &ok);
    o->status = sg__pg_status(res, (int)i, 2);
    o->error_code = (int32_t)sg__pg_i64(res, (int)i, 3);
    o->parts = (uint64_t)sg__pg_i64(res, (int)i, 4);
  }
  PQclear(res);
  return rc < 0 ? rc : ok ? 0 : SG_ENOMEM;
}

int sg__pg_ops_read(sg__pg_conn_t *c, sg__store_req_t *r) {
  sg__ops_req_t *m = r->in.ops;
  m->rows = NULL;
  m->n_rows = 0;
  m->outcomes = NULL;
  m->n_outcomes = 0;
  switch (m->op) {
  case SG__OPS_QUEUES:
    return queues(c, r, m);
  case SG__OPS_OUTCOMES:
    return outcomes(c, r, m);
  default:
    return SG_EINVAL;
  }
}

/* ---- purge (write) ------------------------------------------------------- */

/* Up to max queued parts of the connector, oldest first, locked; *more
 * when there are others. */
static int purge_select(sg__pg_conn_t *c, sg__store_req_t *r, sg__ops_req_t *m,
                        sg__pg_part_t **out, size_t *n) {
  sg__pg_params_t p = {0};
  sg__pg_p_text(&p, m->connector);
  sg__pg_p_i64(&p, (int64_t)m->max + 1);
  int rc;
  PGresult *res = sg__pg_run(c,
                             "SELECT id, message_id, seq FROM parts WHERE "
                             "connector = $1 AND status = 'queued' ORDER BY "
                             "id LIMIT $2 FOR UPDATE SKIP LOCKED",
                             &p, &rc);
  size_t rows = rc == 0 ? (size_t)PQntuples(res) : 0;
  sg__pg_part_t *k =
      sg__arena_alloc(&r->arena, (m->max ? m->max : 1) * sizeof *k);
  bool ok = k != NULL;
  *n = 0;
  for (size_t i = 0; ok && i < rows; i++) {
    if (*n == m->max) {
      m->purge.more = true;
      break;
    }
    k[*n].id = sg__pg_i64(res, (int)i, 0);
    k[*n].mid = sg__pg_text(&r->arena, res, (int)i, 1, &ok);
    k[*n].seq = (unsigned)sg__pg_i64(res, (int)i, 2);
    (*n)++;
  }
  PQclear(res);
  *out = k;
  return rc < 0 ? rc : ok ? 0 : SG_ENOMEM;
}

static int purge_part(sg__pg_conn_t *c, const sg__pg_part_t *k,
                      const char *reason, int64_t now) {
  sg__pg_params_t p = {0};
  sg__pg_p_i64(&p, k->id);
  sg__pg_p_text(&p, reason);
  sg__pg_p_i64(&p, now);
  int rc = sg__pg_do(c,
                     "UPDATE parts SET status = 'failed', error = $2, "
                     "lease_until_ms = NULL, updated_ms = $3 WHERE id = $1 "
                     "AND status = 'queued'",
                     &p, NULL);
  return rc < 0 ? rc
                : sg__pg_event(c, k->mid, k->seq, SG_MSG_FAILED, 0, reason, now,
                               NULL);
}

static int rederive(sg__pg_conn_t *c, sg__arena_t *a, const char *mid,
                    const char *detail, int64_t now, sg_msg_status_t *out) {
  const sg__pg_cause_t why = {0, 0, detail, 0};
  return sg__pg_rederive(c, a, mid, SG_MSG_NONE, &why, now, out, NULL);
}

static int run_purge(sg__pg_conn_t *c, sg__store_req_t *r, sg__ops_req_t *m,
                     int64_t now) {
  sg__pg_part_t *k = NULL;
  size_t n = 0;
  int rc = purge_select(c, r, m, &k, &n);
  for (size_t i = 0; rc == 0 && i < n; i++)
    rc = purge_part(c, &k[i], m->reason, now);
  /* The parts of one message were stored together, so they are next to
   * each other in id order: derive each message once. */
  for (size_t i = 0; rc == 0 && i < n; i++) {
    if (i > 0 && strcmp(k[i].mid, k[i - 1].mid) == 0)
      continue;
    rc = rederive(c, &r->arena, k[i].mid, m->reason, now, NULL);
    m->purge.messages++;
  }
  m->purge.parts = rc == 0 ? n : 0;
  return rc;
}

/* ---- retry (write) ------------------------------------------------------- */

#define ENDED_BADLY "('failed', 'expired', 'undeliverable', 'rejected')"

static bool ended_badly(sg_msg_status_t s) {
  return s == SG_MSG_FAILED || s == SG_MSG_EXPIRED ||
         s == SG_MSG_UNDELIVERABLE || s == SG_MSG_REJECTED;
}

static int retry_status(sg__pg_conn_t *c, sg__ops_req_t *m) {
  sg__pg_params_t p = {0};
  sg__pg_p_text(&p, m->id);
  int rc;
  PGresult *res = sg__pg_run(
      c, "SELECT status FROM messages WHERE id = $1 FOR UPDATE", &p, &rc);
  bool found = rc == 0 && PQntuples(res) > 0;
  if (found)
    m->retry.before = sg__pg_status(res, 0, 0);
  PQclear(res);
  if (rc < 0)
    return rc;
  if (!found)
    return SG_ENOENT;
  return ended_badly(m->retry.before) ? 0 : SG_ESTATE;
}

/* The parts to queue again: their events, and the connector of the first. */
static int retry_events(sg__pg_conn_t *c, sg__ops_req_t *m, int64_t now) {
  sg__pg_params_t p = {0};
  sg__pg_p_text(&p, m->id);
  int rc;
  PGresult *res =
      sg__pg_run(c,
                 "SELECT seq, connector FROM parts WHERE "
                 "message_id = $1 AND status IN " ENDED_BADLY " ORDER BY seq",
                 &p, &rc);
  int n = rc == 0 ? PQntuples(res) : 0;
  for (int i = 0; rc == 0 && i < n; i++) {
    if (m->retry.parts++ == 0)
      snprintf(m->retry.connector, sizeof m->retry.connector, "%s",
               PQgetvalue(res, i, 1));
    rc = sg__pg_event(c, m->id, (unsigned)sg__pg_i64(res, i, 0), SG_MSG_QUEUED,
                      0, m->reason, now, NULL);
  }
  PQclear(res);
  return rc;
}

static int run_retry(sg__pg_conn_t *c, sg__store_req_t *r, sg__ops_req_t *m,
                     int64_t now) {
  int rc = retry_status(c, m);
  if (rc == SG_ENOENT || rc == SG_ESTATE) {
    m->outcome = rc;
    return 0;
  }
  if (rc == 0)
    rc = retry_events(c, m, now);
  if (rc < 0)
    return rc;
  sg__pg_params_t p = {0};
  sg__pg_p_text(&p, m->id);
  sg__pg_p_i64(&p, now);
  rc = sg__pg_do(c,
                 "UPDATE parts SET status = 'queued', attempts = 0, "
                 "next_attempt_ms = 0, error = NULL, error_code = NULL, "
                 "smsc_id = NULL, smsc_raw = NULL, lease_until_ms = NULL, "
                 "expires_ms = NULL, updated_ms = $2 WHERE message_id = $1 "
                 "AND status IN " ENDED_BADLY,
                 &p, NULL);
  if (rc < 0)
    return rc;
  /* The validity has passed for an expired message: retrying it is the
   * operator's decision to send it without one. */
  sg__pg_params_t q = {0};
  sg__pg_p_text(&q, m->id);
  rc = sg__pg_do(c,
                 "UPDATE messages SET validity_ms = NULL, error_code = NULL "
                 "WHERE id = $1",
                 &q, NULL);
  if (rc < 0)
    return rc;
  return rederive(c, &r->arena, m->id, m->reason, now, &m->retry.after);
}

int sg__pg_ops_write(sg__pg_conn_t *c, sg__store_req_t *r, int64_t now) {
  sg__ops_req_t *m = r->in.ops;
  memset(&m->purge, 0, sizeof m->purge);
  memset(&m->retry, 0, sizeof m->retry);
  m->outcome = 0;
  switch (m->op) {
  case SG__OPS_PURGE:
    return run_purge(c, r, m, now);
  case SG__OPS_RETRY:
    return run_retry(c, r, m, now);
  default:
    return SG_EINVAL;
  }
}
