/* sqlite_inrules.c - the SQLite side of store_inrules.c (tables of
 * migration 0010): the inbound rules replaced as a whole in one
 * transaction, the counts of the automatic-reply limit, and the webhook row
 * of a rule's URL action written with its inbound message (sqlite_mo.c
 * calls sg__sq_mo_action inside the delivery's transaction).
 *
 * Writes run on the writer thread inside the group's transaction, reads
 * on a reader connection; statements are prepared per call (rules change
 * rarely, a reply count once per automatic reply). This file must never
 * look inside a rule's document: the engine owns its meaning.
 */
#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "core/error.h"
#include "store/inrules_int.h"
#include "store/sqlite_int.h"

#define REPLY_LOAD_MAX 100000

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

/* ---- rules --------------------------------------------------------------- */

static int insert_rule(sg__sq_conn_t *c, sg_store_inrule_t *r, size_t pos,
                       int64_t now) {
  sqlite3_stmt *s = prep(c, "INSERT INTO inbound_rules (id, position, doc, "
                            "updated_ms) VALUES (?1,?2,?3,?4)");
  if (s == NULL)
    return SG_EIO;
  if (r->id > 0)
    sqlite3_bind_int64(s, 1, r->id);
  sqlite3_bind_int64(s, 2, (int64_t)pos);
  sg__sq_bind_text(s, 3, r->doc);
  sqlite3_bind_int64(s, 4, now);
  int rc = run_done(s);
  if (rc == 0)
    r->id = sqlite3_last_insert_rowid(c->db);
  return rc;
}

static int save(sg__sq_conn_t *c, sg__inr_req_t *m, int64_t now) {
  int rc = run_done(prep(c, "DELETE FROM inbound_rules"));
  for (size_t i = 0; rc == 0 && i < m->n; i++)
    rc = insert_rule(c, &m->rules[i], i, now);
  if (rc != 0)
    return rc;
  sqlite3_stmt *s =
      prep(c, "INSERT OR REPLACE INTO inbound_rules_state (id, managed, "
              "updated_ms) VALUES (1, ?1, ?2)");
  if (s == NULL)
    return SG_EIO;
  sqlite3_bind_int(s, 1, m->managed);
  sqlite3_bind_int64(s, 2, now);
  m->saved = true;
  return run_done(s);
}

static int load_state(sg__sq_conn_t *c, sg__inr_req_t *m) {
  sqlite3_stmt *s =
      prep(c, "SELECT managed FROM inbound_rules_state WHERE id = 1");
  if (s == NULL)
    return SG_EIO;
  int rc = sqlite3_step(s);
  m->saved = rc == SQLITE_ROW;
  m->managed = rc == SQLITE_ROW && sqlite3_column_int(s, 0) != 0;
  sqlite3_finalize(s);
  return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : SG_EIO;
}

static int load(sg__sq_conn_t *c, sg__store_req_t *r) {
  sg__inr_req_t *m = r->in.inr;
  int rc = load_state(c, m);
  if (rc != 0)
    return rc;
  sqlite3_stmt *s = prep(c, "SELECT id, doc FROM inbound_rules ORDER BY "
                            "position, id LIMIT ?1");
  m->rules =
      sg__arena_alloc(&r->arena, SG_STORE_INRULES_MAX * sizeof *m->rules);
  if (s == NULL || m->rules == NULL) {
    sqlite3_finalize(s);
    return s == NULL ? SG_EIO : SG_ENOMEM;
  }
  sqlite3_bind_int(s, 1, SG_STORE_INRULES_MAX);
  bool ok = true;
  while (ok && (rc = sqlite3_step(s)) == SQLITE_ROW) {
    sg_store_inrule_t *q = &m->rules[m->n++];
    q->id = sqlite3_column_int64(s, 0);
    q->doc = sg__sq_col_text(&r->arena, s, 1, &ok);
  }
  sqlite3_finalize(s);
  if (!ok)
    return SG_ENOMEM;
  return rc == SQLITE_DONE ? 0 : SG_EIO;
}

/* ---- reply counts -------------------------------------------------------- */

static int reply_set(sg__sq_conn_t *c, sg__inr_req_t *m) {
  sqlite3_stmt *s = prep(c, "DELETE FROM reply_counts WHERE start_ms < ?1");
  if (s == NULL)
    return SG_EIO;
  sqlite3_bind_int64(s, 1, m->since_ms);
  int rc = run_done(s);
  if (rc != 0)
    return rc;
  s = prep(c, "INSERT OR REPLACE INTO reply_counts (pair, start_ms, count) "
              "VALUES (?1,?2,?3)");
  if (s == NULL)
    return SG_EIO;
  sg__sq_bind_text(s, 1, m->reply.pair);
  sqlite3_bind_int64(s, 2, m->reply.start_ms);
  sqlite3_bind_int64(s, 3, m->reply.count);
  return run_done(s);
}

static int reply_load(sg__sq_conn_t *c, sg__store_req_t *r) {
  sg__inr_req_t *m = r->in.inr;
  sqlite3_stmt *s = prep(c, "SELECT pair, start_ms, count FROM reply_counts "
                            "WHERE start_ms >= ?1 ORDER BY start_ms DESC "
                            "LIMIT ?2");
  if (s == NULL)
    return SG_EIO;
  sqlite3_bind_int64(s, 1, m->since_ms);
  sqlite3_bind_int(s, 2, REPLY_LOAD_MAX);
  size_t cap = 0;
  bool ok = true;
  int rc;
  while (ok && (rc = sqlite3_step(s)) == SQLITE_ROW) {
    if (m->n_counts == cap) { /* arena memory: grow by copying */
      sg_store_replycount_t *nc = sg__arena_grow(
          &r->arena, m->counts, m->n_counts, &cap, 64, sizeof *nc);
      if (nc == NULL) {
        ok = false;
        break;
      }
      m->counts = nc;
    }
    sg_store_replycount_t *q = &m->counts[m->n_counts++];
    q->pair = sg__sq_col_text(&r->arena, s, 0, &ok);
    q->start_ms = sqlite3_column_int64(s, 1);
    q->count = (uint32_t)sqlite3_column_int64(s, 2);
  }
  sqlite3_finalize(s);
  if (!ok)
    return SG_ENOMEM;
  return rc == SQLITE_DONE ? 0 : SG_EIO;
}

int sg__sq_inr_write(sg__sq_conn_t *c, sg__store_req_t *r, int64_t now) {
  sg__inr_req_t *m = r->in.inr;
  switch (m->op) {
  case SG__INR_SAVE:
    return save(c, m, now);
  case SG__INR_REPLY_SET:
    return reply_set(c, m);
  default:
    return SG_EINVAL;
  }
}

int sg__sq_inr_read(sg__sq_conn_t *c, sg__store_req_t *r) {
  switch (r->in.inr->op) {
  case SG__INR_LOAD:
    return load(c, r);
  case SG__INR_REPLY_LOAD:
    return reply_load(c, r);
  default:
    return SG_EINVAL;
  }
}

/* ---- a rule's URL action ------------------------------------------------- */

/* The inbound payload with ,"rule":id before its closing brace. */
static int action_payload(sg__sq_conn_t *c, const sg_store_mo_deliver_t *d) {
  int rc = sg__store_inbound_payload(&c->json, &d->msg);
  if (rc < 0)
    return rc;
  sg__jbuf_t *b = &c->json;
  char tail[48];
  int n = snprintf(tail, sizeof tail, ",\"rule\":%lld}", (long long)d->rule_id);
  if (b->len == 0 || b->p[b->len - 1] != '}' || n <= 0)
    return SG_EINVAL;
  if (b->cap < b->len + (size_t)n) {
    char *np = sg_realloc(b->p, b->len + (size_t)n);
    if (np == NULL)
      return SG_ENOMEM;
    b->p = np;
    b->cap = b->len + (size_t)n;
  }
  memcpy(b->p + b->len - 1, tail, (size_t)n);
  b->len += (size_t)n - 1;
  return 0;
}

int sg__sq_mo_action(sg__sq_conn_t *c, const sg_store_mo_deliver_t *d,
                     int64_t now) {
  int rc = action_payload(c, d);
  if (rc != 0)
    return rc;
  sqlite3_stmt *s =
      prep(c, "INSERT INTO webhooks (id, account_id, inbound_id, url, payload, "
              "status, next_attempt_ms, created_ms, updated_ms, method) VALUES "
              "(" SG__SQ_WH_NEW_ID ",?1,?2,?3,?4,'pending',?5,?5,?5,?6)");
  if (s == NULL)
    return SG_EIO;
  if (d->msg.account_id > 0)
    sqlite3_bind_int64(s, 1, d->msg.account_id);
  sg__sq_bind_text(s, 2, d->msg.id);
  sg__sq_bind_text(s, 3, d->action_url);
  sg__sq_bind_blob(s, 4, c->json.p, c->json.len);
  sqlite3_bind_int64(s, 5, now);
  sg__sq_bind_text(s, 6, d->action_get ? "GET" : "POST");
  return run_done(s);
}
