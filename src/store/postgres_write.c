/* postgres_write.c - the write requests of the PostgreSQL store on the
 * message path (submit, claim, results, receipts, cancel, maintenance) and
 * recovery at open, each run by the writer thread inside the group's
 * transaction (postgres.c), with the same rows and the same answers as
 * sqlite_write.c.
 *
 * Claims take due parts with FOR UPDATE SKIP LOCKED, so that writers on
 * several nodes never claim the same part, and stamp each with its lease,
 * its owner and a new fence (migration 0002). A request returns a
 * request-level error (SG_EEXIST, SG_ENOENT, SG_ESTATE, SG_ENOSPC,
 * SG_ENOMEM), whose rows the writer undoes, or SG_EIO, which fails the whole
 * transaction. This file must never begin or end a transaction nor touch
 * the loop.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "store/postgres_misc.h"
#include "store/postgres_msg.h"
#include "store/pg_kinds.h"
#include "store/pg_nodes.h"
#include "store/pg_orphan.h"

#define PASS_MAX 1000 /* rows per release / expire / requeue pass */

/* ---- submit -------------------------------------------------------------- */

/* 1 when the request is a replay of the key's (the result is set), 0 to go
 * on, or an error (SG_EEXIST: another request under the same key). */
static int idem_check(sg__pg_conn_t *c, sg__store_req_t *r, int64_t now) {
  const sg_store_batch_t *b = &r->in.submit;
  sg__pg_params_t p = {0};
  sg__pg_p_i64(&p, b->account_id);
  sg__pg_p_text(&p, b->idem_key);
  int rc;
  PGresult *res = sg__pg_run(c,
                             "SELECT request_hash, response, expires_ms FROM "
                             "idempotency_keys WHERE account_id = $1 AND key "
                             "= $2",
                             &p, &rc);
  if (rc < 0 || PQntuples(res) == 0) {
    PQclear(res);
    return rc;
  }
  bool live = sg__pg_i64(res, 0, 2) > now, ok = true;
  size_t hlen;
  const uint8_t *h = sg__pg_blob(&r->arena, res, 0, 0, &hlen, &ok);
  bool same = ok && h != NULL && hlen == b->request_hash_len &&
              memcmp(h, b->request_hash, hlen) == 0;
  if (live && same) {
    r->out.submit.replayed = true;
    r->out.submit.response =
        sg__pg_blob(&r->arena, res, 0, 1, &r->out.submit.response_len, &ok);
  }
  PQclear(res);
  if (!ok)
    return SG_ENOMEM;
  if (live)
    return same ? 1 : SG_EEXIST;
  /* An expired record: forget it, the key is free again. */
  return sg__pg_do(
      c, "DELETE FROM idempotency_keys WHERE account_id = $1 AND key = $2", &p,
      NULL);
}

static int idem_put(sg__pg_conn_t *c, const sg_store_batch_t *b, int64_t now) {
  sg__pg_params_t p = {0};
  sg__pg_p_i64(&p, b->account_id);
  sg__pg_p_text(&p, b->idem_key);
  sg__pg_p_blob(&p, b->request_hash, b->request_hash_len);
  sg__pg_p_blob(&p, b->response, b->response_len);
  sg__pg_p_i64(&p, now);
  sg__pg_p_i64(&p, now + b->idem_ttl_ms);
  return sg__pg_do(c,
                   "INSERT INTO idempotency_keys (account_id, key, "
                   "request_hash, response, created_ms, expires_ms) VALUES "
                   "($1,$2,$3,$4,$5,$6)",
                   &p, NULL);
}

/* The batch's charge and usage (sqlite_limits.c): the charge first, so that
 * a refused one has written nothing. */
static int limits_submit(sg__pg_conn_t *c, const sg_store_batch_t *b,
                         int64_t now) {
  int rc = 0;
  if (b->charge_micro > 0) {
    sg__pg_params_t p = {0};
    sg__pg_p_i64(&p, b->account_id);
    sg__pg_p_i64(&p, b->charge_micro);
    sg__pg_p_i64(&p, now);
    uint64_t n = 0;
    rc = sg__pg_do(c,
                   "UPDATE account_balance SET micro = micro - $2, updated_ms "
                   "= $3 WHERE account_id = $1 AND micro >= $2",
                   &p, &n);
    if (rc == 0 && n == 0)
      return SG_ENOSPC;
  }
  const char *periods[2] = {b->usage_day, b->usage_month};
  for (int i = 0; rc == 0 && i < 2 && b->usage_parts > 0; i++) {
    if (periods[i][0] == '\0')
      continue;
    sg__pg_params_t p = {0};
    sg__pg_p_i64(&p, b->account_id);
    sg__pg_p_text(&p, periods[i]);
    sg__pg_p_i64(&p, b->usage_parts);
    rc = sg__pg_do(c,
                   "INSERT INTO account_usage (account_id, period, parts) "
                   "VALUES ($1, $2, $3) ON CONFLICT (account_id, period) DO "
                   "UPDATE SET parts = account_usage.parts + excluded.parts",
                   &p, NULL);
  }
  return rc;
}

static int insert_part(sg__pg_conn_t *c, const sg_store_msg_in_t *m,
                       unsigned seq, sg_msg_status_t status, int64_t now) {
  const sg_store_part_in_t *pt = &m->parts[seq - 1];
  sg__pg_params_t p = {0};
  sg__pg_p_text(&p, m->id);
  sg__pg_p_i64(&p, seq);
  sg__pg_p_text(&p, pt->connector);
  sg__pg_p_i64(&p, pt->encoding);
  sg__pg_p_i64(&p, pt->lang_locking);
  sg__pg_p_i64(&p, pt->lang_single);
  sg__pg_p_blob(&p, pt->udh, pt->udh_len);
  sg__pg_p_blob(&p, pt->ud, pt->ud_len);
  sg__pg_p_i64(&p, pt->concat_ref);
  sg__pg_p_i64(&p, pt->concat_total ? pt->concat_total : 1);
  sg__pg_p_i64(&p, m->priority);
  sg__pg_p_opt_i64(&p, m->validity_ms);
  sg__pg_p_text(&p, sg_store_status_name(status));
  sg__pg_p_i64(&p, now);
  return sg__pg_do(c,
                   "INSERT INTO parts (message_id, seq, connector, encoding, "
                   "lang_locking, lang_single, udh, ud, concat_ref, "
                   "concat_total, priority, expires_ms, status, updated_ms) "
                   "VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14)",
                   &p, NULL);
}

static int insert_origin(sg__pg_conn_t *c, int64_t account,
                         const sg_store_msg_in_t *m, int64_t now) {
  const sg_store_smpp_origin_t *o = m->smpp;
  sg__pg_params_t p = {0};
  sg__pg_p_text(&p, m->id);
  sg__pg_p_i64(&p, account);
  sg__pg_p_i64(&p, o->registered_delivery);
  sg__pg_p_i64(&p, o->source_ton);
  sg__pg_p_i64(&p, o->source_npi);
  sg__pg_p_text(&p, o->source_addr);
  sg__pg_p_i64(&p, o->dest_ton);
  sg__pg_p_i64(&p, o->dest_npi);
  sg__pg_p_text(&p, o->dest_addr);
  sg__pg_p_i64(&p, now);
  return sg__pg_do(c,
                   "INSERT INTO smpp_origin (message_id, account_id, "
                   "registered_delivery, source_ton, source_npi, "
                   "source_addr, dest_ton, dest_npi, dest_addr, submit_ms) "
                   "VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10)",
                   &p, NULL);
}

/* A message of one part without SMPP origin: the message, its part and
 * its event in one statement; p holds the message's parameters
 * (insert_message's $1..$20). */
static int insert_one_part(sg__pg_conn_t *c, const sg_store_msg_in_t *m,
                           sg__pg_params_t *p) {
  const sg_store_part_in_t *pt = &m->parts[0];
  sg__pg_p_text(p, pt->connector);
  sg__pg_p_i64(p, pt->encoding);
  sg__pg_p_i64(p, pt->lang_locking);
  sg__pg_p_i64(p, pt->lang_single);
  sg__pg_p_blob(p, pt->udh, pt->udh_len);
  sg__pg_p_blob(p, pt->ud, pt->ud_len);
  sg__pg_p_i64(p, pt->concat_ref);
  sg__pg_p_i64(p, pt->concat_total ? pt->concat_total : 1);
  return sg__pg_send(
      c,
      "WITH m AS (INSERT INTO messages (id, batch_id, account_id, sender, "
      "recipient, encoding, is_binary, body, validity_ms, send_at_ms, "
      "callback_url, client_ref, priority, dlr_wanted, status, parts_total, "
      "created_ms, updated_ms, dlr_url, dlr_mask, webhook_statuses) VALUES "
      "($1,$2,$3,$4,$5,$6,$7,$8,$9::bigint,$10,$11,$12,$13::int,$14,"
      "$15::text,$16,$17::bigint,$17::bigint,$18,$19,$20)), p AS (INSERT "
      "INTO parts (message_id, seq, connector, encoding, lang_locking, "
      "lang_single, udh, ud, concat_ref, concat_total, priority, expires_ms, "
      "status, updated_ms) VALUES ($1, 1, $21, $22, $23, $24, $25, $26, $27, "
      "$28, $13::int, $9::bigint, $15::text, $17::bigint)) INSERT INTO "
      "events (message_id, part_seq, status, time_ms) VALUES ($1, NULL, "
      "$15::text, $17::bigint)",
      p);
}

static int insert_message(sg__pg_conn_t *c, const sg_store_batch_t *b,
                          const sg_store_msg_in_t *m, int64_t now) {
  sg_msg_status_t status =
      m->send_at_ms > now ? SG_MSG_SCHEDULED : SG_MSG_QUEUED;
  sg__pg_params_t p = {0};
  sg__pg_p_text(&p, m->id);
  sg__pg_p_text(&p, b->batch_id);
  sg__pg_p_i64(&p, b->account_id);
  sg__pg_p_text(&p, m->sender);
  sg__pg_p_text(&p, m->recipient);
  sg__pg_p_i64(&p, m->encoding);
  sg__pg_p_i64(&p, m->binary);
  sg__pg_p_blob(&p, m->body, m->body_len);
  sg__pg_p_opt_i64(&p, m->validity_ms);
  sg__pg_p_opt_i64(&p, m->send_at_ms);
  sg__pg_p_text(&p, m->callback_url);
  sg__pg_p_text(&p, m->client_ref);
  sg__pg_p_i64(&p, m->priority);
  sg__pg_p_i64(&p, m->dlr_wanted);
  sg__pg_p_text(&p, sg_store_status_name(status));
  sg__pg_p_i64(&p, (int64_t)m->n_parts);
  sg__pg_p_i64(&p, now);
  sg__pg_p_text(&p, m->dlr_url);
  sg__pg_p_i64(&p, m->dlr_url != NULL ? m->dlr_mask : 0);
  sg__pg_p_opt_i64(&p, m->webhook_statuses);
  if (m->n_parts == 1 && m->smpp == NULL)
    return insert_one_part(c, m, &p);
  int rc = sg__pg_do(
      c,
      "INSERT INTO messages (id, batch_id, account_id, sender, recipient, "
      "encoding, is_binary, body, validity_ms, send_at_ms, callback_url, "
      "client_ref, priority, dlr_wanted, status, parts_total, created_ms, "
      "updated_ms, dlr_url, dlr_mask, webhook_statuses) VALUES ($1,$2,$3,$4,"
      "$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,$16,$17,$17,$18,$19,$20)",
      &p, NULL);
  for (unsigned seq = 1; rc == 0 && seq <= m->n_parts; seq++)
    rc = insert_part(c, m, seq, status, now);
  if (rc == 0 && m->smpp != NULL)
    rc = insert_origin(c, b->account_id, m, now);
  if (rc == 0)
    rc = sg__pg_event(c, m->id, 0, status, 0, NULL, now, NULL);
  return rc;
}

static int run_submit(sg__pg_conn_t *c, sg__store_req_t *r, int64_t now) {
  const sg_store_batch_t *b = &r->in.submit;
  int rc = 0;
  if (b->idem_key != NULL && (rc = idem_check(c, r, now)) != 0)
    return rc > 0 ? 0 : rc;
  if ((b->usage_parts > 0 || b->charge_micro > 0) &&
      (rc = limits_submit(c, b, now)) != 0)
    return rc;
  for (size_t i = 0; rc == 0 && i < b->n_msgs; i++)
    rc = insert_message(c, b, &b->msgs[i], now);
  if (rc == 0 && b->idem_key != NULL)
    rc = idem_put(c, b, now);
  return rc;
}

/* ---- the passes before a claim ------------------------------------------- */

/* Up to PASS_MAX (id, message_id, seq) rows of sql run with $1 = t and
 * $2 = PASS_MAX. */
static int collect_parts(sg__pg_conn_t *c, sg__arena_t *a, const char *sql,
                         int64_t t, sg__pg_part_t **out, size_t *n) {
  sg__pg_params_t p = {0};
  sg__pg_p_i64(&p, t);
  sg__pg_p_i64(&p, PASS_MAX);
  int rc;
  PGresult *res = sg__pg_run(c, sql, &p, &rc);
  size_t k = rc == 0 ? (size_t)PQntuples(res) : 0;
  sg__pg_part_t *refs = sg__arena_alloc(a, (k ? k : 1) * sizeof *refs);
  bool ok = refs != NULL;
  for (size_t i = 0; ok && i < k; i++) {
    refs[i].id = sg__pg_i64(res, (int)i, 0);
    refs[i].mid = sg__pg_text(a, res, (int)i, 1, &ok);
    refs[i].seq = (unsigned)sg__pg_i64(res, (int)i, 2);
  }
  PQclear(res);
  *out = refs;
  *n = k;
  return rc < 0 ? rc : ok ? 0 : SG_ENOMEM;
}

static int release_scheduled(sg__pg_conn_t *c, sg__arena_t *a, int64_t now,
                             size_t *n) {
  static const sg__pg_cause_t why = {0, 0, "scheduled time reached", 0};
  sg__pg_params_t p = {0};
  sg__pg_p_i64(&p, now);
  sg__pg_p_i64(&p, PASS_MAX);
  int rc;
  PGresult *res = sg__pg_run(c,
                             "SELECT id FROM messages WHERE status = "
                             "'scheduled' AND send_at_ms <= $1 ORDER BY "
                             "send_at_ms LIMIT $2 FOR UPDATE SKIP LOCKED",
                             &p, &rc);
  size_t k = rc == 0 ? (size_t)PQntuples(res) : 0;
  const char **ids = sg__arena_alloc(a, (k ? k : 1) * sizeof *ids);
  bool ok = ids != NULL;
  for (size_t i = 0; ok && i < k; i++)
    ids[i] = sg__pg_text(a, res, (int)i, 0, &ok);
  PQclear(res);
  if (rc < 0 || !ok)
    return rc < 0 ? rc : SG_ENOMEM;
  for (size_t i = 0; rc == 0 && i < k; i++) {
    sg__pg_params_t q = {0};
    sg__pg_p_text(&q, ids[i]);
    sg__pg_p_i64(&q, now);
    rc = sg__pg_do(c,
                   "UPDATE parts SET status = 'queued', updated_ms = $2 "
                   "WHERE message_id = $1 AND status = 'scheduled'",
                   &q, NULL);
    if (rc == 0)
      rc = sg__pg_rederive(c, a, ids[i], SG_MSG_NONE, &why, now, NULL, NULL);
  }
  if (rc == 0)
    *n += k;
  return rc;
}

static int expire(sg__pg_conn_t *c, sg__arena_t *a, int64_t now, size_t *n) {
  sg__pg_part_t *refs;
  size_t k;
  int rc = collect_parts(c, a,
                         "SELECT id, message_id, seq FROM parts WHERE "
                         "expires_ms IS NOT NULL AND status IN ('queued', "
                         "'scheduled') AND expires_ms <= $1 LIMIT $2 FOR "
                         "UPDATE SKIP LOCKED",
                         now, &refs, &k);
  for (size_t i = 0; rc == 0 && i < k; i++) {
    sg__pg_cause_t why = {refs[i].seq, 0,
                          "validity period ended before sending", 0};
    rc = sg__pg_part_change(c, a, &refs[i], SG_MSG_EXPIRED, &why, now, NULL);
  }
  if (rc == 0)
    *n += k;
  return rc;
}

int sg__pg_parts_requeue(sg__pg_conn_t *c, sg__arena_t *a,
                         const sg__pg_part_t *pts, size_t k, int64_t now,
                         const char *detail) {
  int rc = 0;
  for (size_t i = 0; rc == 0 && i < k; i++) {
    sg__pg_cause_t why = {pts[i].seq, 0, detail, 0};
    sg__pg_params_t p = {0};
    sg__pg_p_i64(&p, pts[i].id);
    sg__pg_p_i64(&p, now);
    rc = sg__pg_do(c,
                   "UPDATE parts SET status = 'queued', lease_until_ms = "
                   "NULL, lease_owner = NULL, updated_ms = $2 WHERE id = $1",
                   &p, NULL);
    if (rc == 0)
      rc = sg__pg_event(c, pts[i].mid, pts[i].seq, SG_MSG_QUEUED, 0, detail,
                        now, NULL);
    if (rc == 0)
      rc = sg__pg_rederive(c, a, pts[i].mid, SG_MSG_QUEUED, &why, now, NULL,
                           NULL);
  }
  return rc;
}

/* Puts the 'sending' parts whose lease ended before t back in the queue.
 * own: only the leases of this node (at start; NULL owner: a node that
 * names none). */
static int requeue(sg__pg_conn_t *c, sg__arena_t *a, int64_t t, bool own,
                   int64_t now, const char *detail, size_t *n) {
  sg__pg_part_t *refs;
  size_t k;
  int rc = collect_parts(
      c, a,
      own ? "SELECT id, message_id, seq FROM parts WHERE status = 'sending' "
            "AND lease_until_ms <= $1 AND lease_owner IS NULL LIMIT $2 FOR "
            "UPDATE SKIP LOCKED"
          : "SELECT id, message_id, seq FROM parts WHERE status = 'sending' "
            "AND lease_until_ms <= $1 LIMIT $2 FOR UPDATE SKIP LOCKED",
      t, &refs, &k);
  if (rc == 0)
    rc = sg__pg_parts_requeue(c, a, refs, k, now, detail);
  if (rc == 0)
    *n += k;
  return rc;
}

/* Gives deliveries whose lease ended before `before` back ('pending'). At
 * start (at_start) only the leases without an owner, their last attempt,
 * cut short by the stop, not counted, as on SQLite where a claim writes
 * nothing: a named node's leases are given back by pg_nodes.c, when that
 * name starts again or the node is dead. */
static int requeue_webhooks(sg__pg_conn_t *c, int64_t before, bool at_start,
                            int64_t now, size_t *n) {
  sg__pg_params_t p = {0};
  sg__pg_p_i64(&p, before);
  sg__pg_p_i64(&p, PASS_MAX);
  sg__pg_p_i64(&p, now);
  sg__pg_p_i64(&p, at_start);
  uint64_t k = 0;
  int rc = sg__pg_do(c,
                     "UPDATE webhooks SET status = 'pending', lease_until_ms "
                     "= NULL, lease_owner = NULL, attempts = "
                     "greatest(attempts - $4::int, 0), updated_ms = $3 WHERE "
                     "id IN (SELECT id FROM webhooks WHERE status = 'sending' "
                     "AND lease_until_ms <= $1 AND ($4::int = 0 OR "
                     "lease_owner IS NULL) LIMIT $2 FOR UPDATE SKIP LOCKED)",
                     &p, &k);
  if (rc == 0)
    *n += (size_t)k;
  return rc;
}

int sg__pg_recover(sg__pg_conn_t *c, int64_t now, uint64_t *parts,
                   uint64_t *webhooks) {
  sg__arena_t a = {NULL};
  size_t np = 0, nw = 0, before;
  int rc = 0;
  do {
    before = np;
    rc = requeue(c, &a, INT64_MAX, true, now,
                 "requeued at start after a stop while sending", &np);
    sg__arena_free(&a);
  } while (rc == 0 && np - before == PASS_MAX);
  do {
    before = nw;
    rc = rc == 0 ? requeue_webhooks(c, INT64_MAX, true, now, &nw) : rc;
  } while (rc == 0 && nw - before == PASS_MAX);
  if (rc == 0) /* receipts leased to SMPP sessions of an unnamed run */
    rc = sg__pg_do(c,
                   "UPDATE smpp_out SET lease_until_ms = NULL WHERE "
                   "lease_until_ms IS NOT NULL AND lease_owner IS NULL",
                   NULL, NULL);
  *parts = np;
  *webhooks = nw;
  return rc;
}

/* ---- claim --------------------------------------------------------------- */

static int cmp_claimed(const void *x, const void *y) {
  const sg_store_claimed_t *a = x, *b = y;
  if (a->priority != b->priority)
    return a->priority > b->priority ? -1 : 1;
  return a->part_id < b->part_id ? -1 : a->part_id > b->part_id;
}

static void read_claimed(sg__arena_t *a, const PGresult *r, int i,
                         sg_store_claimed_t *p, bool *ok) {
  p->part_id = sg__pg_i64(r, i, 0);
  p->attempt = (unsigned)sg__pg_i64(r, i, 1);
  snprintf(p->message_id, sizeof p->message_id, "%s", PQgetvalue(r, i, 2));
  p->seq = (unsigned)sg__pg_i64(r, i, 3);
  p->connector = sg__pg_text(a, r, i, 4, ok);
  p->sender = sg__pg_text(a, r, i, 5, ok);
  p->recipient = sg__pg_text(a, r, i, 6, ok);
  p->encoding = (sg_encoding_t)sg__pg_i64(r, i, 7);
  p->lang_locking = (uint8_t)sg__pg_i64(r, i, 8);
  p->lang_single = (uint8_t)sg__pg_i64(r, i, 9);
  p->udh = sg__pg_blob(a, r, i, 10, &p->udh_len, ok);
  p->ud = sg__pg_blob(a, r, i, 11, &p->ud_len, ok);
  p->concat_ref = (uint16_t)sg__pg_i64(r, i, 12);
  p->concat_total = (uint8_t)sg__pg_i64(r, i, 13);
  p->priority = (uint8_t)sg__pg_i64(r, i, 14);
  p->dlr_wanted = sg__pg_i64(r, i, 15) != 0;
  p->validity_ms = sg__pg_i64(r, i, 16);
  p->account_id = sg__pg_i64(r, i, 17);
}

/* A claimed part with its message's row, for sorting both together. */
typedef struct claim_row {
  sg_store_claimed_t p;
  sg__pg_msg_t m;
} claim_row_t;

static int cmp_claim_rows(const void *x, const void *y) {
  return cmp_claimed(&((const claim_row_t *)x)->p,
                     &((const claim_row_t *)y)->p);
}

/* Takes the due parts in one statement: locked rows another node holds
 * are skipped, each taken part gets its lease and a new fence. Their
 * messages' rows come with them, in claim order in *rows. */
static int take_due(sg__pg_conn_t *c, sg__store_req_t *r, int64_t now,
                    claim_row_t **rows) {
  sg_store_claim_res_t *res = &r->out.claim;
  sg__pg_params_t p = {0};
  sg__pg_p_text(&p, r->in.claim.connector);
  sg__pg_p_i64(&p, now);
  sg__pg_p_i64(&p, r->in.claim.max);
  sg__pg_p_i64(&p, now + r->in.claim.lease_ms);
  /* This node's "name#epoch" (pg_nodes.c), NULL without a node name. */
  sg__pg_p_text(&p, c->st->node.owner[0] ? c->st->node.owner : NULL);
  int rc;
  PGresult *q = sg__pg_run(
      c,
      "WITH due AS (SELECT id FROM parts WHERE connector = $1 AND status = "
      "'queued' AND next_attempt_ms <= $2 ORDER BY priority DESC, id LIMIT "
      "$3 FOR UPDATE SKIP LOCKED) UPDATE parts p SET status = 'sending', "
      "attempts = p.attempts + 1, lease_until_ms = $4, lease_owner = $5, "
      "fence = nextval('parts_fence'), updated_ms = $2 FROM due, messages m "
      "WHERE p.id = due.id AND m.id = p.message_id RETURNING p.id, "
      "p.attempts, p.message_id, p.seq, p.connector, m.sender, m.recipient, "
      "p.encoding, p.lang_locking, p.lang_single, p.udh, p.ud, p.concat_ref, "
      "p.concat_total, p.priority, m.dlr_wanted, p.expires_ms, m.account_id, "
      SG__PG_MSG_ROW_M,
      &p, &rc);
  size_t n = rc == 0 ? (size_t)PQntuples(q) : 0;
  sg_store_claimed_t *parts =
      sg__arena_alloc(&r->arena, (n ? n : 1) * sizeof *parts);
  claim_row_t *cr = sg__arena_alloc(&r->arena, (n ? n : 1) * sizeof *cr);
  bool ok = parts != NULL && cr != NULL;
  for (size_t i = 0; ok && i < n; i++) {
    read_claimed(&r->arena, q, (int)i, &cr[i].p, &ok);
    ok = ok && sg__pg_msg_row(&r->arena, q, (int)i, 18, &cr[i].m) == 0;
  }
  PQclear(q);
  if (rc < 0 || !ok)
    return rc < 0 ? rc : SG_ENOMEM;
  qsort(cr, n, sizeof *cr, cmp_claim_rows);
  for (size_t i = 0; i < n; i++) {
    parts[i] = cr[i].p;
    cr[i].m.ev.message_id = parts[i].message_id;
  }
  res->parts = parts;
  res->n_parts = n;
  *rows = cr;
  return 0;
}

static int run_claim(sg__pg_conn_t *c, sg__store_req_t *r, int64_t now) {
  static const sg__pg_cause_t why = {0, 0, NULL, 0};
  sg_store_claim_res_t *res = &r->out.claim;
  claim_row_t *rows = NULL;
  int rc = release_scheduled(c, &r->arena, now, &res->released);
  if (rc == 0)
    rc = expire(c, &r->arena, now, &res->expired);
  if (rc == 0)
    rc = requeue(c, &r->arena, now, false, now,
                 "lease ran out without a result", &res->requeued);
  if (rc == 0)
    rc = take_due(c, r, now, &rows);
  /* Each message once, after its last part (parts of one message are
   * adjacent in the claim's order). */
  for (size_t i = 0; rc == 0 && i < res->n_parts; i++) {
    bool last = i + 1 == res->n_parts || strcmp(res->parts[i + 1].message_id,
                                                res->parts[i].message_id) != 0;
    if (last)
      rc = sg__pg_rederive_row(c, &r->arena, &rows[i].m, SG_MSG_SENDING, &why,
                               now, NULL, NULL);
  }
  return rc;
}

/* ---- results and receipts ------------------------------------------------ */

/* Locks part id and reads it with its message's row (into *m). */
static int load_part(sg__pg_conn_t *c, sg__arena_t *a, int64_t id,
                     sg__pg_part_t *pt, sg_store_item_res_t *item,
                     unsigned *attempts, sg__pg_msg_t *m) {
  sg__pg_params_t p = {0};
  sg__pg_p_i64(&p, id);
  int rc;
  PGresult *res = sg__pg_run(c,
                             "SELECT p.message_id, p.seq, p.status, "
                             "p.attempts, p.lease_owner, " SG__PG_MSG_ROW_M
                             " FROM parts p JOIN messages m ON m.id = "
                             "p.message_id WHERE p.id = $1 FOR UPDATE OF p",
                             &p, &rc);
  if (rc == 0 && PQntuples(res) != 1)
    rc = SG_ENOENT;
  bool ok = true;
  if (rc == 0) {
    pt->id = id;
    pt->mid = sg__pg_text(a, res, 0, 0, &ok);
    pt->seq = (unsigned)sg__pg_i64(res, 0, 1);
    item->part_status = sg__pg_status(res, 0, 2);
    *attempts = (unsigned)sg__pg_i64(res, 0, 3);
    /* Another node's newer claim holds it: fenced off, as a stale
     * attempt is (pg_nodes.c). */
    if (!sg__pg_node_fence_ok(c->st, sg__pg_null(res, 0, 4)
                                         ? NULL
                                         : PQgetvalue(res, 0, 4)))
      *attempts = 0;
    ok = ok && sg__pg_msg_row(a, res, 0, 5, m) == 0;
    m->ev.message_id = pt->mid;
  }
  PQclear(res);
  if (rc < 0 || !ok)
    return rc < 0 ? rc : SG_ENOMEM;
  snprintf(item->message_id, sizeof item->message_id, "%s", pt->mid);
  item->seq = pt->seq;
  return 0;
}

/* The part's new state after a result and its event, in one statement. */
static int result_write(sg__pg_conn_t *c, const sg_store_result_in_t *x,
                        const sg__pg_part_t *pt, int64_t now) {
  bool sent = x->outcome == SG_STORE_SENT;
  const char *sent_id = x->smsc_raw_id != NULL ? x->smsc_raw_id : x->smsc_id;
  sg__pg_params_t p = {0};
  sg__pg_p_i64(&p, x->part_id);
  sg__pg_p_i64(&p, now);
  sg__pg_p_text(&p, pt->mid);
  sg__pg_p_opt_i64(&p, pt->seq);
  sg__pg_p_opt_i64(&p, x->error_code);
  sg__pg_p_text(&p, sent ? sent_id : x->detail);
  if (sent) {
    sg__pg_p_text(&p, x->smsc_id);
    sg__pg_p_text(&p, x->smsc_raw_id);
    return sg__pg_send(c,
                       "WITH u AS (UPDATE parts SET status = 'sent', smsc_id "
                       "= $7, error_code = NULL, error = NULL, lease_until_ms "
                       "= NULL, lease_owner = NULL, updated_ms = $2, smsc_raw "
                       "= $8 WHERE id = $1) INSERT INTO events (message_id, "
                       "part_seq, status, error_code, detail, time_ms) VALUES "
                       "($3, $4::int, 'sent', $5::int, $6, $2)",
                       &p);
  }
  sg__pg_p_i64(&p, x->next_attempt_ms);
  sg__pg_p_text(&p, x->connector);
  sg__pg_p_text(&p, x->detail);
  return sg__pg_send(c,
                     "WITH u AS (UPDATE parts SET status = 'queued', "
                     "next_attempt_ms = $7, connector = COALESCE($8, "
                     "connector), error_code = $5::int, error = $9, "
                     "lease_until_ms = NULL, lease_owner = NULL, updated_ms = "
                     "$2 WHERE id = $1) INSERT INTO events (message_id, "
                     "part_seq, status, error_code, detail, time_ms) VALUES "
                     "($3, $4::int, 'queued', $5::int, $6, $2)",
                     &p);
}

/* Item pr of a batch read (sg__pg_batch_results) as load_part gives it. */
static int batch_part(const sg__pg_prow_t *pr, sg__pg_part_t *pt,
                      sg_store_item_res_t *item, unsigned *attempts,
                      sg__pg_msg_t *m) {
  if (!pr->found)
    return SG_ENOENT;
  *pt = pr->pt;
  *m = pr->m;
  *attempts = pr->attempts;
  item->part_status = pr->status;
  snprintf(item->message_id, sizeof item->message_id, "%s", pt->mid);
  item->seq = pt->seq;
  return 0;
}

/* pr: the part as the request's batch read found it, or NULL to read it
 * now. */
static int one_result(sg__pg_conn_t *c, sg__arena_t *a,
                      const sg_store_result_in_t *x, int64_t now,
                      sg_store_item_res_t *item, const sg__pg_prow_t *pr) {
  sg__pg_part_t pt;
  sg__pg_msg_t m;
  unsigned attempts = 0;
  int rc = pr != NULL ? batch_part(pr, &pt, item, &attempts, &m)
                      : load_part(c, a, x->part_id, &pt, item, &attempts, &m);
  /* Another node's newer claim holds it: fenced off, as a stale attempt
   * is (pg_nodes.c). load_part checks its own read. */
  if (rc == 0 && pr != NULL && !sg__pg_node_fence_ok(c->st, pr->owner))
    attempts = 0;
  if (rc == SG_ENOENT || (rc == 0 && (item->part_status != SG_MSG_SENDING ||
                                      attempts != x->attempt))) {
    item->status = rc == 0 ? SG_ESTATE : rc;
    return 0;
  }
  if (rc < 0)
    return rc;
  sg__pg_cause_t why = {pt.seq, x->error_code, x->detail, 0};
  sg_msg_status_t to = x->outcome == SG_STORE_FAILED ? x->final_status
                       : x->outcome == SG_STORE_SENT ? SG_MSG_SENT
                                                     : SG_MSG_QUEUED;
  if (x->outcome == SG_STORE_FAILED)
    rc = sg__pg_part_write(c, &pt, to, &why, now);
  else
    rc = result_write(c, x, &pt, now);
  item->part_status = to;
  if (rc == 0)
    rc = sg__pg_rederive_row(c, a, &m, to, &why, now, &item->msg_status,
                             &item->msg_changed);
  if (rc == 0 && x->outcome == SG_STORE_SENT) /* a receipt came first */
    rc = sg__pg_orphan_apply(c, a, &pt, x->smsc_id, now, item);
  return rc;
}

static int alloc_items(sg__store_req_t *r, size_t n) {
  r->out.items.items =
      sg__arena_alloc(&r->arena, (n ? n : 1) * sizeof(sg_store_item_res_t));
  r->out.items.n = n;
  return r->out.items.items == NULL ? SG_ENOMEM : 0;
}

/* The parts are read in one statement; an item whose message an earlier
 * item changed reads its own again. */
static int run_results(sg__pg_conn_t *c, sg__store_req_t *r, int64_t now) {
  size_t n = r->in.results.n;
  sg__pg_prow_t *rows = NULL;
  int rc = alloc_items(r, n);
  if (rc == 0)
    rc = sg__pg_batch_results(c, &r->arena, r->in.results.items, n, &rows);
  for (size_t i = 0; rc == 0 && i < n; i++)
    rc = one_result(c, &r->arena, &r->in.results.items[i], now,
                    &r->out.items.items[i],
                    sg__pg_batch_seen(rows, i) ? NULL : &rows[i]);
  return rc;
}

/* Reads the newest part under x's connector and SMSC id with its
 * message's row. 0, SG_ENOENT or the statement's error. */
static int receipt_part(sg__pg_conn_t *c, sg__arena_t *a,
                        const sg_store_receipt_in_t *x, sg__pg_prow_t *pr) {
  sg__pg_params_t p = {0};
  sg__pg_p_text(&p, x->connector);
  sg__pg_p_text(&p, x->smsc_id);
  int rc;
  PGresult *res = sg__pg_run(c,
                             "SELECT p.id, p.message_id, p.seq, p.status, "
                             SG__PG_MSG_ROW_M " FROM parts p JOIN messages m "
                             "ON m.id = p.message_id WHERE p.connector = $1 "
                             "AND p.smsc_id = $2 ORDER BY p.id DESC LIMIT 1",
                             &p, &rc);
  if (rc < 0 || PQntuples(res) != 1) {
    PQclear(res);
    return rc < 0 ? rc : SG_ENOENT;
  }
  bool ok = true;
  memset(pr, 0, sizeof *pr);
  pr->found = true;
  pr->pt.id = sg__pg_i64(res, 0, 0);
  pr->pt.mid = sg__pg_text(a, res, 0, 1, &ok);
  pr->pt.seq = (unsigned)sg__pg_i64(res, 0, 2);
  pr->status = sg__pg_status(res, 0, 3);
  ok = sg__pg_msg_row(a, res, 0, 4, &pr->m) == 0 && ok;
  pr->m.ev.message_id = pr->pt.mid;
  PQclear(res);
  return ok ? 0 : SG_ENOMEM;
}

/* sg__pg_receipt_apply with the message's row m as read with the part, or
 * NULL to read it again (after a change in this transaction). */
static int receipt_apply_row(sg__pg_conn_t *c, sg__arena_t *a,
                             const sg__pg_part_t *ptp,
                             const sg_store_receipt_in_t *x, int64_t now,
                             sg_store_item_res_t *item, sg__pg_msg_t *m) {
  sg__pg_part_t pt = *ptp;
  int rc;
  snprintf(item->message_id, sizeof item->message_id, "%s", pt.mid);
  item->seq = pt.seq;
  if (x->status == SG_MSG_SENT) { /* en route, accepted: news, no change */
    rc = sg__pg_event(c, pt.mid, pt.seq, SG_MSG_SENT, x->error_code, x->detail,
                      x->done_ms ? x->done_ms : now, NULL);
    return rc < 0 ? rc : sg__pg_derive(c, pt.mid, &item->msg_status);
  }
  if (item->part_status == x->status || item->part_status == SG_MSG_CANCELED)
    return sg__pg_derive(c, pt.mid, &item->msg_status);
  sg__pg_cause_t why = {pt.seq, x->error_code, x->detail, x->done_ms};
  item->part_status = x->status;
  rc = sg__pg_part_write(c, &pt, x->status, &why, now);
  if (rc < 0)
    return rc;
  if (m == NULL)
    return sg__pg_rederive(c, a, pt.mid, x->status, &why, now,
                           &item->msg_status, &item->msg_changed);
  return sg__pg_rederive_row(c, a, m, x->status, &why, now, &item->msg_status,
                             &item->msg_changed);
}

/* pr: the part as the request's batch read found it, or NULL to read it
 * now. A receipt for no known part is held (pg_orphan.c). */
static int one_receipt(sg__pg_conn_t *c, sg__arena_t *a,
                       const sg_store_receipt_in_t *x, int64_t now,
                       sg_store_item_res_t *item, const sg__pg_prow_t *pr) {
  sg__pg_prow_t own;
  int rc = 0;
  if (pr == NULL) {
    rc = receipt_part(c, a, x, &own);
    pr = &own;
  }
  if (rc == SG_ENOENT || (rc == 0 && !pr->found))
    return sg__pg_orphan_hold(c, x, now, item);
  if (rc < 0) {
    item->status = SG_ENOENT;
    return rc;
  }
  sg__pg_msg_t m = pr->m;
  item->part_status = pr->status;
  return receipt_apply_row(c, a, &pr->pt, x, now, item, &m);
}

int sg__pg_receipt_apply(sg__pg_conn_t *c, sg__arena_t *a,
                         const sg__pg_part_t *ptp,
                         const sg_store_receipt_in_t *x, int64_t now,
                         sg_store_item_res_t *item) {
  return receipt_apply_row(c, a, ptp, x, now, item, NULL);
}

/* The parts are read in one statement; an item whose message an earlier
 * item changed reads its own again. */
static int run_receipts(sg__pg_conn_t *c, sg__store_req_t *r, int64_t now) {
  size_t n = r->in.receipts.n;
  sg__pg_prow_t *rows = NULL;
  int rc = alloc_items(r, n);
  if (rc == 0)
    rc = sg__pg_batch_receipts(c, &r->arena, r->in.receipts.items, n, &rows);
  for (size_t i = 0; rc == 0 && i < n; i++)
    rc = one_receipt(c, &r->arena, &r->in.receipts.items[i], now,
                     &r->out.items.items[i],
                     sg__pg_batch_seen(rows, i) ? NULL : &rows[i]);
  return rc;
}

/* ---- cancel -------------------------------------------------------------- */

static int cancel_check(sg__pg_conn_t *c, const sg__store_req_t *r,
                        sg_store_item_res_t *item) {
  sg__pg_params_t p = {0};
  sg__pg_p_text(&p, r->in.msg.id);
  int rc;
  PGresult *res = sg__pg_run(c,
                             "SELECT status, account_id, (SELECT count(*) "
                             "FROM parts WHERE message_id = $1 AND status NOT "
                             "IN ('queued', 'scheduled')) FROM messages WHERE "
                             "id = $1 FOR UPDATE",
                             &p, &rc);
  if (rc == 0 && PQntuples(res) != 1)
    rc = SG_ENOENT;
  int64_t busy = 0;
  if (rc == 0) {
    item->msg_status = sg__pg_status(res, 0, 0);
    if (r->in.msg.account_id != 0 &&
        sg__pg_i64(res, 0, 1) != r->in.msg.account_id)
      rc = SG_ENOENT;
    busy = sg__pg_i64(res, 0, 2);
  }
  PQclear(res);
  if (rc < 0)
    return rc;
  if (item->msg_status != SG_MSG_SCHEDULED && item->msg_status != SG_MSG_QUEUED)
    return SG_ESTATE;
  return busy > 0 ? SG_ESTATE : 0;
}

static int run_cancel(sg__pg_conn_t *c, sg__store_req_t *r, int64_t now) {
  static const sg__pg_cause_t why = {0, 0, "canceled by its sender", 0};
  int rc = alloc_items(r, 1);
  if (rc < 0)
    return rc;
  sg_store_item_res_t *item = &r->out.items.items[0];
  memcpy(item->message_id, r->in.msg.id, sizeof item->message_id);
  rc = cancel_check(c, r, item);
  if (rc == SG_ENOENT || rc == SG_ESTATE) {
    item->status = rc;
    return 0;
  }
  if (rc < 0)
    return rc;
  sg__pg_params_t p = {0};
  sg__pg_p_text(&p, r->in.msg.id);
  sg__pg_p_i64(&p, now);
  rc = sg__pg_do(c,
                 "UPDATE parts SET status = 'canceled', updated_ms = $2 WHERE "
                 "message_id = $1",
                 &p, NULL);
  item->part_status = SG_MSG_CANCELED;
  return rc < 0 ? rc
                : sg__pg_rederive(c, &r->arena, r->in.msg.id, SG_MSG_CANCELED,
                                  &why, now, &item->msg_status,
                                  &item->msg_changed);
}

/* ---- maintenance --------------------------------------------------------- */

/* As sqlite_write.c's, with the pass that ends pre-split waits
 * (pg_presplit.c). */
static int run_maintain(sg__pg_conn_t *c, sg__store_req_t *r, int64_t now) {
  sg_store_maint_res_t *m = &r->out.maint;
  int rc = release_scheduled(c, &r->arena, now, &m->released);
  if (rc == 0)
    rc = expire(c, &r->arena, now, &m->expired);
  if (rc == 0)
    rc = requeue(c, &r->arena, now, false, now,
                 "lease ran out without a result", &m->requeued);
  if (rc == 0)
    rc = requeue_webhooks(c, now, false, now, &m->webhooks_requeued);
  if (rc == 0)
    rc = sg__pg_presplit_expire(c, r, now, &m->expired);
  if (rc == 0)
    rc = sg__pg_orphan_expire(c, now, &m->receipts_expired);
  if (rc == 0)
    rc = sg__pg_traffic_prune(c, now, &m->traffic_pruned);
  if (rc < 0)
    return rc;
  sg__pg_params_t p = {0};
  sg__pg_p_i64(&p, now);
  sg__pg_p_i64(&p, PASS_MAX);
  uint64_t n = 0;
  rc = sg__pg_do(c,
                 "DELETE FROM idempotency_keys WHERE (account_id, key) IN "
                 "(SELECT account_id, key FROM idempotency_keys WHERE "
                 "expires_ms <= $1 LIMIT $2)",
                 &p, &n);
  m->purged = (size_t)n;
  return rc;
}

/* ---- dispatch ------------------------------------------------------------ */

bool sg__pg_kind_done(sg__req_kind_t kind) {
  switch (kind) {
  case SG__REQ_SUBMIT:
  case SG__REQ_CLAIM:
  case SG__REQ_RESULTS:
  case SG__REQ_RECEIPTS:
  case SG__REQ_CANCEL:
  case SG__REQ_MAINTAIN:
  case SG__REQ_GET_MESSAGE:
  case SG__REQ_LIST_MESSAGES:
  case SG__REQ_COUNTS:
  case SG__REQ_APIKEY_LOOKUP:
  case SG__REQ_ACCOUNT_BY_NAME:
  case SG__REQ_WAITING_PARTS:
    return true;
  default:
    return sg__pg_misc_done(kind);
  }
}

int sg__pg_run_write(sg__pg_conn_t *c, sg__store_req_t *r, int64_t now) {
  switch (r->kind) {
  case SG__REQ_SUBMIT:
    return run_submit(c, r, now);
  case SG__REQ_CLAIM:
    return run_claim(c, r, now);
  case SG__REQ_RESULTS:
    return run_results(c, r, now);
  case SG__REQ_RECEIPTS:
    return run_receipts(c, r, now);
  case SG__REQ_CANCEL:
    return run_cancel(c, r, now);
  case SG__REQ_MAINTAIN:
    return run_maintain(c, r, now);
  default:
    return sg__pg_misc_write(c, r, now);
  }
}
