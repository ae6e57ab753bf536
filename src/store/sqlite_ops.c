/* sqlite_ops.c - the SQLite side of store_ops.c: the connectors' queues
 * counted by status, a connector's queued parts purged, and a message that
 * ended badly queued again.
 *
 * Writes run on the writer thread inside the group's transaction and go
 * through the same event, status derivation and webhook path as every
 * other change of a part (sqlite_write.c, sg__sq_part_event and
 * sg__sq_rederive); reads run on a reader connection. Statements are
 * prepared per call: these are operators' requests, not the message path.
 * This file must never begin or end a transaction, and never touch a part
 * that a connector holds ('sending') or answered ('sent').
 */
#include <stdio.h>
#include <string.h>

#include "core/error.h"
#include "store/ops_int.h"
#include "store/sqlite_int.h"
#include "store/sqlite_mcache.h"

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

/* ---- queues (read) ------------------------------------------------------- */

static int queues(sg__sq_conn_t *c, sg__store_req_t *r, sg__ops_req_t *m) {
  sqlite3_stmt *s =
      prep(c, "SELECT p.connector, p.status, count(*), min(m.created_ms) "
              "FROM parts p JOIN messages m ON m.id = p.message_id "
              "WHERE p.status IN ('scheduled', 'queued', 'sending', 'sent') "
              "AND (?1 IS NULL OR p.connector = ?1) "
              "GROUP BY p.connector, p.status ORDER BY p.connector, p.status");
  if (s == NULL)
    return SG_EIO;
  sg__sq_bind_text(s, 1, m->connector);
  size_t cap = 16;
  m->rows = sg__arena_alloc(&r->arena, cap * sizeof *m->rows);
  bool ok = m->rows != NULL;
  int rc = SQLITE_DONE;
  while (ok && (rc = sqlite3_step(s)) == SQLITE_ROW &&
         m->n_rows < SG_STORE_QUEUE_ROWS_MAX) {
    if (m->n_rows == cap) {
      m->rows = sg__arena_grow(&r->arena, m->rows, m->n_rows, &cap, 16,
                               sizeof *m->rows);
      ok = m->rows != NULL;
    }
    sg_store_queue_row_t *row = ok ? &m->rows[m->n_rows++] : NULL;
    if (row == NULL)
      break;
    row->connector = sg__sq_col_text(&r->arena, s, 0, &ok);
    row->status = sg__sq_col_status(s, 1);
    row->parts = (uint64_t)sqlite3_column_int64(s, 2);
    row->oldest_ms = sqlite3_column_int64(s, 3);
  }
  sqlite3_finalize(s);
  if (!ok)
    return SG_ENOMEM;
  return rc == SQLITE_DONE || rc == SQLITE_ROW ? 0 : SG_EIO;
}

/* ---- outcomes (read) ----------------------------------------------------- */

static int outcomes(sg__sq_conn_t *c, sg__store_req_t *r, sg__ops_req_t *m) {
  sqlite3_stmt *s =
      prep(c, "SELECT m.account_id, p.connector, p.status, "
              "coalesce(p.error_code, 0), count(*) AS n "
              "FROM parts p JOIN messages m ON m.id = p.message_id "
              "WHERE p.status IN ('sent', 'delivered', 'undeliverable', "
              "'expired', 'rejected', 'failed', 'canceled') "
              "GROUP BY 1, 2, 3, 4 ORDER BY n DESC LIMIT ?1");
  size_t cap = SG_STORE_QUEUE_ROWS_MAX;
  m->outcomes = sg__arena_alloc(&r->arena, 64 * sizeof *m->outcomes);
  if (s == NULL || m->outcomes == NULL) {
    sqlite3_finalize(s);
    return s == NULL ? SG_EIO : SG_ENOMEM;
  }
  sqlite3_bind_int64(s, 1, (int64_t)cap);
  bool ok = true;
  size_t have = 64;
  int rc = SQLITE_DONE;
  while (ok && (rc = sqlite3_step(s)) == SQLITE_ROW) {
    if (m->n_outcomes == have) {
      sg_store_outcome_row_t *more = sg__arena_grow(
          &r->arena, m->outcomes, m->n_outcomes, &have, 64, sizeof *more);
      if (!(ok = more != NULL))
        break;
      m->outcomes = more;
    }
    sg_store_outcome_row_t *o = &m->outcomes[m->n_outcomes++];
    o->account_id = sqlite3_column_int64(s, 0);
    o->connector = sg__sq_col_text(&r->arena, s, 1, &ok);
    o->status = sg__sq_col_status(s, 2);
    o->error_code = sqlite3_column_int(s, 3);
    o->parts = (uint64_t)sqlite3_column_int64(s, 4);
  }
  sqlite3_finalize(s);
  if (!ok)
    return SG_ENOMEM;
  return rc == SQLITE_DONE ? 0 : SG_EIO;
}

int sg__sq_ops_read(sg__sq_conn_t *c, sg__store_req_t *r) {
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

typedef struct part_key {
  int64_t id;
  const char *mid;
  unsigned seq;
} part_key_t;

/* Up to max queued parts of the connector, oldest first; *more when there
 * are others. */
static int purge_select(sg__sq_conn_t *c, sg__store_req_t *r, sg__ops_req_t *m,
                        part_key_t **out, size_t *n) {
  sqlite3_stmt *s = prep(c, "SELECT id, message_id, seq FROM parts "
                            "WHERE connector = ?1 AND status = 'queued' "
                            "ORDER BY id LIMIT ?2");
  part_key_t *k = sg__arena_alloc(&r->arena, m->max * sizeof *k);
  if (s == NULL || k == NULL) {
    sqlite3_finalize(s);
    return s == NULL ? SG_EIO : SG_ENOMEM;
  }
  sg__sq_bind_text(s, 1, m->connector);
  sqlite3_bind_int64(s, 2, (int64_t)m->max + 1);
  bool ok = true;
  int rc = SQLITE_DONE;
  *n = 0;
  while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
    if (*n == m->max) {
      m->purge.more = true;
      break;
    }
    k[*n].id = sqlite3_column_int64(s, 0);
    k[*n].mid = sg__sq_col_text(&r->arena, s, 1, &ok);
    k[*n].seq = (unsigned)sqlite3_column_int(s, 2);
    (*n)++;
  }
  sqlite3_finalize(s);
  *out = k;
  if (!ok)
    return SG_ENOMEM;
  return rc == SQLITE_DONE || rc == SQLITE_ROW ? 0 : SG_EIO;
}

static int purge_part(sg__sq_conn_t *c, const part_key_t *k, const char *reason,
                      int64_t now) {
  /* before the part changes: sg__sq_rederive takes the row's status */
  if (sg__sq_msg_settle(c, k->mid) < 0)
    return SG_EIO;
  sqlite3_stmt *s = prep(c, "UPDATE parts SET status = 'failed', error = ?2, "
                            "lease_until_ms = NULL, updated_ms = ?3 "
                            "WHERE id = ?1 AND status = 'queued'");
  if (s == NULL)
    return SG_EIO;
  sqlite3_bind_int64(s, 1, k->id);
  sg__sq_bind_text(s, 2, reason);
  sqlite3_bind_int64(s, 3, now);
  int rc = run_done(s);
  if (rc < 0)
    return rc;
  sg__sq_counts_part(c, SG_MSG_QUEUED, SG_MSG_FAILED, sqlite3_changes(c->db));
  return sg__sq_part_event(c, k->mid, k->seq, SG_MSG_FAILED, 0, reason, now);
}

static int run_purge(sg__sq_conn_t *c, sg__store_req_t *r, sg__ops_req_t *m,
                     int64_t now) {
  part_key_t *k = NULL;
  size_t n = 0;
  int rc = purge_select(c, r, m, &k, &n);
  for (size_t i = 0; rc == 0 && i < n; i++)
    rc = purge_part(c, &k[i], m->reason, now);
  /* The parts of one message were stored together, so they are next to
   * each other in id order: derive each message once. */
  for (size_t i = 0; rc == 0 && i < n; i++) {
    if (i > 0 && strcmp(k[i].mid, k[i - 1].mid) == 0)
      continue;
    rc = sg__sq_rederive(c, &r->arena, k[i].mid, m->reason, now, NULL);
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

static int retry_status(sg__sq_conn_t *c, sg__ops_req_t *m) {
  sqlite3_stmt *s = prep(c, "SELECT " SG__SQ_MSG_STATUS " FROM messages "
                            "WHERE id = ?1"); /* as the API shows it */
  if (s == NULL)
    return SG_EIO;
  sg__sq_bind_text(s, 1, m->id);
  int rc = sqlite3_step(s);
  if (rc == SQLITE_ROW)
    m->retry.before = sg__sq_col_status(s, 0);
  sqlite3_finalize(s);
  if (rc != SQLITE_ROW)
    return rc == SQLITE_DONE ? SG_ENOENT : SG_EIO;
  return ended_badly(m->retry.before) ? 0 : SG_ESTATE;
}

/* The parts to queue again: their events, and the connector of the first. */
static int retry_events(sg__sq_conn_t *c, sg__ops_req_t *m, int64_t now) {
  sqlite3_stmt *s =
      prep(c, "SELECT seq, connector FROM parts WHERE "
              "message_id = ?1 AND status IN " ENDED_BADLY " ORDER BY seq");
  if (s == NULL)
    return SG_EIO;
  sg__sq_bind_text(s, 1, m->id);
  int rc = SQLITE_DONE, erc = 0;
  while (erc == 0 && (rc = sqlite3_step(s)) == SQLITE_ROW) {
    if (m->retry.parts++ == 0)
      snprintf(m->retry.connector, sizeof m->retry.connector, "%s",
               (const char *)sqlite3_column_text(s, 1));
    erc = sg__sq_part_event(c, m->id, (unsigned)sqlite3_column_int(s, 0),
                            SG_MSG_QUEUED, 0, m->reason, now);
  }
  sqlite3_finalize(s);
  if (erc != 0)
    return erc;
  return rc == SQLITE_DONE || rc == SQLITE_ROW ? 0 : SG_EIO;
}

static int run_retry(sg__sq_conn_t *c, sg__store_req_t *r, sg__ops_req_t *m,
                     int64_t now) {
  int rc = retry_status(c, m);
  if (rc == SG_ENOENT || rc == SG_ESTATE) {
    m->outcome = rc;
    return 0;
  }
  /* A one-part message whose part carries its final status: the row
   * says it before the part is queued again (sqlite_write.c). */
  if (rc == 0)
    rc = sg__sq_msg_settle(c, m->id);
  if (rc == 0)
    rc = retry_events(c, m, now);
  /* Parts that ended in different ways: /metrics' counts take the
   * statuses before and after. */
  int64_t moved[SG_MSG_STATUS_COUNT] = {0};
  if (rc == 0)
    rc = sg__sq_counts_tally(c, m->id, -1, moved);
  sqlite3_stmt *s =
      rc < 0 ? NULL
             : prep(c, "UPDATE parts SET status = 'queued', attempts = 0, "
                       "next_attempt_ms = 0, error = NULL, error_code = NULL, "
                       /* a 'sent' mark keeps the operator's id (0031) */
                       "sent_detail = CASE WHEN sent_event IS NOT NULL THEN "
                       "coalesce(sent_detail, smsc_raw, smsc_id) END, "
                       "smsc_id = NULL, smsc_raw = NULL, lease_until_ms = "
                       "NULL, expires_ms = NULL, updated_ms = ?2 WHERE "
                       "message_id = ?1 AND status IN " ENDED_BADLY);
  if (s == NULL)
    return rc < 0 ? rc : SG_EIO;
  sg__sq_bind_text(s, 1, m->id);
  sqlite3_bind_int64(s, 2, now);
  if ((rc = run_done(s)) < 0 ||
      (rc = sg__sq_counts_tally(c, m->id, 1, moved)) < 0)
    return rc;
  sg__sq_counts_parts_moved(c, moved);
  /* The validity has passed for an expired message: retrying it is the
   * operator's decision to send it without one. */
  if ((s = prep(c, "UPDATE messages SET validity_ms = NULL, error_code = "
                   "NULL WHERE id = ?1")) == NULL)
    return SG_EIO;
  sg__sq_bind_text(s, 1, m->id);
  if ((rc = run_done(s)) < 0)
    return rc;
  return sg__sq_rederive(c, &r->arena, m->id, m->reason, now, &m->retry.after);
}

int sg__sq_ops_write(sg__sq_conn_t *c, sg__store_req_t *r, int64_t now) {
  sg__ops_req_t *m = r->in.ops;
  sg__sq_mc_clear(c); /* messages written here, not by write_msg_status */
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
