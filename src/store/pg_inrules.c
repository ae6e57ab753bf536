/* pg_inrules.c - the PostgreSQL side of store_inrules.c (tables of
 * migration 0010): the inbound rules replaced as a whole in one
 * transaction, the counts of the automatic-reply limit, and the webhook
 * row of a rule's URL action written with its inbound message (pg_mo.c
 * calls sg__pg_mo_action inside the delivery's transaction); the rows and
 * answers of sqlite_inrules.c.
 *
 * Writes run on the writer inside the group's transaction, reads on a
 * reader. This file must never look inside a rule's document: the engine
 * owns its meaning.
 */
#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "core/error.h"
#include "store/inrules_int.h"
#include "store/pg_kinds.h"

#define REPLY_LOAD_MAX 100000

/* ---- rules --------------------------------------------------------------- */

/* A rule keeps its id (ids come from the identity column, so one given
 * back never meets a later default); a new one gets the next. */
static int insert_rule(sg__pg_conn_t *c, sg_store_inrule_t *rule, size_t pos,
                       int64_t now) {
  sg__pg_params_t p = {0};
  sg__pg_p_i64(&p, (int64_t)pos);
  sg__pg_p_text(&p, rule->doc);
  sg__pg_p_i64(&p, now);
  int64_t id = 0;
  int rc;
  if (rule->id > 0) {
    sg__pg_p_i64(&p, rule->id);
    rc = sg__pg_one(c,
                    "INSERT INTO inbound_rules (id, position, doc, updated_ms) "
                    "VALUES ($4,$1,$2,$3) RETURNING id",
                    &p, &id);
  } else {
    rc = sg__pg_one(c,
                    "INSERT INTO inbound_rules (position, doc, updated_ms) "
                    "VALUES ($1,$2,$3) RETURNING id",
                    &p, &id);
  }
  if (rc == 1)
    rule->id = id;
  return rc < 0 ? rc : rc == 1 ? 0 : SG_EIO;
}

static int save(sg__pg_conn_t *c, sg__inr_req_t *m, int64_t now) {
  int rc = sg__pg_do(c, "DELETE FROM inbound_rules", NULL, NULL);
  for (size_t i = 0; rc == 0 && i < m->n; i++)
    rc = insert_rule(c, &m->rules[i], i, now);
  if (rc != 0)
    return rc;
  sg__pg_params_t p = {0};
  sg__pg_p_i64(&p, m->managed);
  sg__pg_p_i64(&p, now);
  m->saved = true;
  return sg__pg_do(c,
                   "INSERT INTO inbound_rules_state (id, managed, updated_ms) "
                   "VALUES (1, $1, $2) ON CONFLICT (id) DO UPDATE SET managed "
                   "= excluded.managed, updated_ms = excluded.updated_ms",
                   &p, NULL);
}

static int load(sg__pg_conn_t *c, sg__store_req_t *r) {
  sg__inr_req_t *m = r->in.inr;
  int64_t managed = 0;
  int rc = sg__pg_one(c, "SELECT managed FROM inbound_rules_state WHERE id = 1",
                      NULL, &managed);
  if (rc < 0)
    return rc;
  m->saved = rc == 1;
  m->managed = rc == 1 && managed != 0;
  sg__pg_params_t p = {0};
  sg__pg_p_i64(&p, SG_STORE_INRULES_MAX);
  PGresult *res = sg__pg_run(c,
                             "SELECT id, doc FROM inbound_rules ORDER BY "
                             "position, id LIMIT $1",
                             &p, &rc);
  m->rules =
      sg__arena_alloc(&r->arena, SG_STORE_INRULES_MAX * sizeof *m->rules);
  bool ok = m->rules != NULL;
  size_t n = rc == 0 ? (size_t)PQntuples(res) : 0;
  for (size_t i = 0; ok && i < n; i++) {
    sg_store_inrule_t *q = &m->rules[m->n++];
    q->id = sg__pg_i64(res, (int)i, 0);
    q->doc = sg__pg_text(&r->arena, res, (int)i, 1, &ok);
  }
  PQclear(res);
  return rc < 0 ? rc : ok ? 0 : SG_ENOMEM;
}

/* ---- reply counts -------------------------------------------------------- */

static int reply_set(sg__pg_conn_t *c, sg__inr_req_t *m) {
  sg__pg_params_t p = {0};
  sg__pg_p_i64(&p, m->since_ms);
  int rc =
      sg__pg_do(c, "DELETE FROM reply_counts WHERE start_ms < $1", &p, NULL);
  if (rc != 0)
    return rc;
  sg__pg_params_t q = {0};
  sg__pg_p_text(&q, m->reply.pair);
  sg__pg_p_i64(&q, m->reply.start_ms);
  sg__pg_p_i64(&q, m->reply.count);
  return sg__pg_do(c,
                   "INSERT INTO reply_counts (pair, start_ms, count) VALUES "
                   "($1,$2,$3) ON CONFLICT (pair) DO UPDATE SET start_ms = "
                   "excluded.start_ms, count = excluded.count",
                   &q, NULL);
}

static int reply_load(sg__pg_conn_t *c, sg__store_req_t *r) {
  sg__inr_req_t *m = r->in.inr;
  sg__pg_params_t p = {0};
  sg__pg_p_i64(&p, m->since_ms);
  sg__pg_p_i64(&p, REPLY_LOAD_MAX);
  int rc;
  PGresult *res = sg__pg_run(c,
                             "SELECT pair, start_ms, count FROM reply_counts "
                             "WHERE start_ms >= $1 ORDER BY start_ms DESC "
                             "LIMIT $2",
                             &p, &rc);
  size_t n = rc == 0 ? (size_t)PQntuples(res) : 0;
  bool ok = true;
  if (n > 0) {
    m->counts = sg__arena_alloc(&r->arena, n * sizeof *m->counts);
    ok = m->counts != NULL;
  }
  for (size_t i = 0; ok && i < n; i++) {
    sg_store_replycount_t *q = &m->counts[m->n_counts++];
    q->pair = sg__pg_text(&r->arena, res, (int)i, 0, &ok);
    q->start_ms = sg__pg_i64(res, (int)i, 1);
    q->count = (uint32_t)sg__pg_i64(res, (int)i, 2);
  }
  PQclear(res);
  return rc < 0 ? rc : ok ? 0 : SG_ENOMEM;
}

int sg__pg_inr_write(sg__pg_conn_t *c, sg__store_req_t *r, int64_t now) {
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

int sg__pg_inr_read(sg__pg_conn_t *c, sg__store_req_t *r) {
  /* A read runs again on a new connection after a cut one: from zero. */
  r->in.inr->n = 0;
  r->in.inr->n_counts = 0;
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
static int action_payload(sg__pg_conn_t *c, const sg_store_mo_deliver_t *d) {
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

int sg__pg_mo_action(sg__pg_conn_t *c, const sg_store_mo_deliver_t *d,
                     int64_t now) {
  int rc = action_payload(c, d);
  if (rc != 0)
    return rc;
  sg__pg_params_t p = {0};
  sg__pg_p_opt_i64(&p, d->msg.account_id > 0 ? d->msg.account_id : 0);
  sg__pg_p_text(&p, d->msg.id);
  sg__pg_p_text(&p, d->action_url);
  sg__pg_p_blob(&p, c->json.p, c->json.len);
  sg__pg_p_i64(&p, now);
  sg__pg_p_text(&p, d->action_get ? "GET" : "POST");
  return sg__pg_do(c,
                   "INSERT INTO webhooks (account_id, inbound_id, url, "
                   "payload, status, next_attempt_ms, created_ms, updated_ms, "
                   "method) VALUES ($1,$2,$3,$4,'pending',$5,$5,$5,$6)",
                   &p, NULL);
}
