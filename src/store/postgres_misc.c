/* postgres_misc.c - the PostgreSQL store's requests beside the message
 * path: webhook deliveries (enqueue, claim, finish), incoming messages
 * (insert, list), accounts and API keys of the configuration, settings,
 * the SMPP receipts queue (claim, finish), and balance credits and the
 * usage read (store.h "LIMITS"), with the rows and answers of their SQLite
 * counterparts.
 *
 * Unlike SQLite's, a webhook claim here writes its lease (status 'sending',
 * lease_until_ms) and counts the attempt, so that the nodes sharing a
 * database see who holds a delivery, and stamps its owner (name#epoch,
 * migration 0024), as do SMPP receipt claims; a lease that ran out is taken
 * again by any node's next claim, and a node gives back at start only its
 * own earlier runs' leases (pg_nodes.c), their last attempt uncounted. Write
 * requests run on the writer inside the group's transaction and must never
 * begin or end one; reads run on a reader's connection and must never write.
 */
#include <stdio.h>
#include <string.h>

#include "core/error.h"
#include "store/limits_int.h"
#include "store/postgres_misc.h"
#include "store/postgres_msg.h"
#include "store/pg_kinds.h"

/* ---- webhooks ------------------------------------------------------------ */

/* The owner this node's claims stamp on their leases (migration 0024):
 * "name#epoch", or NULL for a node without a name. */
static const char *lease_owner(const sg__pg_conn_t *c) {
  return c->st->node.owner[0] ? c->st->node.owner : NULL;
}

static int wh_enqueue(sg__pg_conn_t *c, sg__store_req_t *r, int64_t now) {
  return sg__pg_webhook(c, r->in.wh_enqueue.account_id,
                        r->in.wh_enqueue.message_id, 0, NULL,
                        r->in.wh_enqueue.url, r->in.wh_enqueue.payload,
                        r->in.wh_enqueue.len, now, &r->out.id);
}

static int wh_claim(sg__pg_conn_t *c, sg__store_req_t *r, int64_t now) {
  sg__pg_params_t p = {0};
  sg__pg_p_i64(&p, now);
  sg__pg_p_i64(&p, r->in.wh_claim.max);
  sg__pg_p_i64(&p, now + r->in.wh_claim.lease_ms);
  sg__pg_p_text(&p, lease_owner(c));
  int rc;
  PGresult *res = sg__pg_run(
      c,
      "WITH due AS (SELECT id FROM webhooks WHERE (status = 'pending' AND "
      "next_attempt_ms <= $1) OR (status = 'sending' AND lease_until_ms <= "
      "$1) ORDER BY next_attempt_ms, id LIMIT $2 FOR UPDATE SKIP LOCKED) "
      "UPDATE webhooks w SET status = 'sending', attempts = w.attempts + 1, "
      "lease_until_ms = $3, lease_owner = $4, updated_ms = $1 FROM due "
      "WHERE w.id = due.id "
      "RETURNING w.id, w.account_id, w.message_id, w.url, w.payload, "
      "w.attempts, w.created_ms, w.method, w.next_attempt_ms",
      &p, &rc);
  size_t n = rc == 0 ? (size_t)PQntuples(res) : 0;
  sg_store_webhook_t *w = sg__arena_alloc(&r->arena, (n ? n : 1) * sizeof *w);
  int64_t *due = sg__arena_alloc(&r->arena, (n ? n : 1) * sizeof *due);
  bool ok = w != NULL && due != NULL;
  for (size_t i = 0; ok && i < n; i++) {
    int row = (int)i;
    w[i].id = sg__pg_i64(res, row, 0);
    w[i].account_id = sg__pg_i64(res, row, 1);
    w[i].message_id = sg__pg_text(&r->arena, res, row, 2, &ok);
    w[i].url = sg__pg_text(&r->arena, res, row, 3, &ok);
    w[i].payload = sg__pg_blob(&r->arena, res, row, 4, &w[i].payload_len, &ok);
    w[i].attempts = (unsigned)sg__pg_i64(res, row, 5);
    w[i].created_ms = sg__pg_i64(res, row, 6);
    w[i].get = strcmp(PQgetvalue(res, row, 7), "GET") == 0;
    due[i] = sg__pg_i64(res, row, 8);
  }
  PQclear(res);
  if (rc < 0 || !ok)
    return rc < 0 ? rc : SG_ENOMEM;
  /* Oldest due first, as the claim's order (RETURNING keeps none): by
   * next_attempt_ms, then id. */
  for (size_t i = 1; i < n; i++)
    for (size_t j = i;
         j > 0 && (due[j] < due[j - 1] ||
                   (due[j] == due[j - 1] && w[j].id < w[j - 1].id));
         j--) {
      sg_store_webhook_t t = w[j];
      w[j] = w[j - 1];
      w[j - 1] = t;
      int64_t d = due[j];
      due[j] = due[j - 1];
      due[j - 1] = d;
    }
  r->out.webhooks.items = w;
  r->out.webhooks.n = n;
  return 0;
}

/* A failed attempt is written only while the delivery is still leased by
 * this node ($4: its owner): once another node took it again (the lease
 * ran out, or this node was found dead), that node's attempt decides. A
 * delivery done is deleted whoever holds it: the receiver has it. */
#define WH_MINE "status = 'sending' AND lease_owner IS NOT DISTINCT FROM $4"

static int wh_finish(sg__pg_conn_t *c, sg__store_req_t *r, int64_t now) {
  int rc = 0;
  for (size_t i = 0; rc == 0 && i < r->in.wh_finish.n; i++) {
    const sg_store_webhook_result_t *x = &r->in.wh_finish.items[i];
    sg__pg_params_t p = {0};
    sg__pg_p_i64(&p, x->id);
    if (x->done) {
      rc = sg__pg_do(c, "DELETE FROM webhooks WHERE id = $1", &p, NULL);
      continue;
    }
    /* $6: handed back unsent (untried): the claim's attempt is taken
     * back and the last error kept. */
    sg__pg_p_text(&p, x->error);
    sg__pg_p_i64(&p, now);
    sg__pg_p_text(&p, lease_owner(c));
    sg__pg_p_i64(&p, x->next_attempt_ms);
    sg__pg_p_i64(&p, x->untried);
    if (x->next_attempt_ms > 0) {
      rc = sg__pg_do(c,
                     "UPDATE webhooks SET status = 'pending', "
                     "next_attempt_ms = $5, last_error = CASE WHEN $6::int "
                     "= 0 THEN $2 ELSE last_error END, attempts = "
                     "greatest(attempts - $6::int, 0), lease_until_ms = "
                     "NULL, lease_owner = NULL, updated_ms = $3 WHERE id = "
                     "$1 AND " WH_MINE,
                     &p, NULL);
    } else {
      rc = sg__pg_do(c,
                     "UPDATE webhooks SET status = 'failed', last_error = "
                     "CASE WHEN $6::int = 0 THEN $2 ELSE last_error END, "
                     "attempts = greatest(attempts - $6::int, 0), "
                     "lease_until_ms = NULL, lease_owner = NULL, updated_ms "
                     "= $3 WHERE id = $1 AND $5::bigint = 0 AND " WH_MINE,
                     &p, NULL);
    }
  }
  return rc;
}

/* ---- inbound ------------------------------------------------------------- */

#define INBOUND_COLS                                                           \
  "id, account_id, connector, sender, recipient, encoding, is_binary, body, "  \
  "parts, received_ms, created_ms"

static int inbound_insert(sg__pg_conn_t *c, sg__store_req_t *r, int64_t now) {
  sg_store_inbound_t *m = &r->in.inbound.msg;
  m->created_ms = now;
  sg__pg_params_t p = {0};
  sg__pg_p_text(&p, m->id);
  sg__pg_p_opt_i64(&p, m->account_id > 0 ? m->account_id : 0);
  sg__pg_p_text(&p, m->connector);
  sg__pg_p_text(&p, m->sender);
  sg__pg_p_text(&p, m->recipient);
  sg__pg_p_i64(&p, m->encoding);
  sg__pg_p_i64(&p, m->binary);
  sg__pg_p_blob(&p, m->body, m->body_len);
  sg__pg_p_i64(&p, (int64_t)m->parts);
  sg__pg_p_i64(&p, m->received_ms ? m->received_ms : now);
  sg__pg_p_i64(&p, now);
  int rc = sg__pg_do(c,
                     "INSERT INTO inbound (" INBOUND_COLS ") VALUES ($1,$2,$3,"
                     "$4,$5,$6,$7,$8,$9,$10,$11)",
                     &p, NULL);
  if (rc < 0 || r->in.inbound.webhook_url == NULL)
    return rc;
  if ((rc = sg__store_inbound_payload(&c->json, m)) < 0)
    return rc;
  return sg__pg_webhook(c, m->account_id, NULL, 0, m->id,
                        r->in.inbound.webhook_url, (const uint8_t *)c->json.p,
                        c->json.len, now, &r->out.id);
}

static int inbound_list(sg__pg_conn_t *c, sg__store_req_t *r) {
  unsigned limit = r->in.inbound_list.limit;
  sg__pg_params_t p = {0};
  sg__pg_p_opt_i64(&p, r->in.inbound_list.account_id);
  sg__pg_p_text(&p, r->in.inbound_list.cursor[0] != '\0'
                        ? r->in.inbound_list.cursor
                        : NULL);
  sg__pg_p_i64(&p, (int64_t)limit + 1);
  int rc;
  PGresult *res = sg__pg_run(c,
                             "SELECT " INBOUND_COLS " FROM inbound WHERE "
                             "($1::bigint IS NULL OR account_id = $1) AND "
                             "($2::text IS NULL OR id < $2) ORDER BY id DESC "
                             "LIMIT $3",
                             &p, &rc);
  size_t rows = rc == 0 ? (size_t)PQntuples(res) : 0;
  size_t n = rows > limit ? limit : rows;
  sg_store_inbound_t *msgs =
      sg__arena_alloc(&r->arena, (limit ? limit : 1) * sizeof *msgs);
  bool ok = msgs != NULL;
  for (size_t i = 0; ok && i < n; i++) {
    sg_store_inbound_t *m = &msgs[i];
    int row = (int)i;
    snprintf(m->id, sizeof m->id, "%s", PQgetvalue(res, row, 0));
    m->account_id = sg__pg_i64(res, row, 1);
    m->connector = sg__pg_text(&r->arena, res, row, 2, &ok);
    m->sender = sg__pg_text(&r->arena, res, row, 3, &ok);
    m->recipient = sg__pg_text(&r->arena, res, row, 4, &ok);
    m->encoding = (sg_encoding_t)sg__pg_i64(res, row, 5);
    m->binary = sg__pg_i64(res, row, 6) != 0;
    m->body = sg__pg_blob(&r->arena, res, row, 7, &m->body_len, &ok);
    m->parts = (unsigned)sg__pg_i64(res, row, 8);
    m->received_ms = sg__pg_i64(res, row, 9);
    m->created_ms = sg__pg_i64(res, row, 10);
  }
  PQclear(res);
  if (rc < 0 || !ok)
    return rc < 0 ? rc : SG_ENOMEM;
  r->out.inbound.msgs = msgs;
  r->out.inbound.n = n;
  if (rows > n && n > 0)
    memcpy(r->out.inbound.next_cursor, msgs[n - 1].id, SG_ID_LEN + 1);
  return 0;
}

/* ---- accounts and keys of the configuration ------------------------------ */

static int account_create(sg__pg_conn_t *c, sg__store_req_t *r, int64_t now) {
  const sg_store_account_t *a = &r->in.account;
  sg__pg_params_t p = {0};
  sg__pg_p_text(&p, a->name);
  sg__pg_p_text(&p, a->password_hash);
  sg__pg_p_text(&p, a->webhook_url);
  sg__pg_p_i64(&p, a->disabled);
  sg__pg_p_i64(&p, now);
  int rc;
  PGresult *res = sg__pg_run(c,
                             "INSERT INTO accounts (name, password_hash, "
                             "webhook_url, disabled, created_ms) VALUES ($1,"
                             "$2,$3,$4,$5) RETURNING id",
                             &p, &rc);
  if (rc == 0)
    r->out.id = sg__pg_i64(res, 0, 0);
  PQclear(res);
  return rc;
}

static int apikey(sg__pg_conn_t *c, sg__store_req_t *r, int64_t now) {
  sg__pg_params_t p = {0};
  int rc;
  if (r->kind == SG__REQ_APIKEY_REVOKE) {
    sg__pg_p_i64(&p, r->in.apikey.key_id);
    sg__pg_p_i64(&p, now);
    uint64_t n = 0;
    rc = sg__pg_do(c,
                   "UPDATE api_keys SET revoked_ms = $2 WHERE id = $1 AND "
                   "revoked_ms IS NULL",
                   &p, &n);
    return rc == 0 && n == 0 ? SG_ENOENT : rc;
  }
  sg__pg_p_i64(&p, r->in.apikey.account_id);
  sg__pg_p_blob(&p, r->in.apikey.hash, SG_STORE_KEY_HASH_BYTES);
  sg__pg_p_text(&p, r->in.apikey.label);
  sg__pg_p_i64(&p, now);
  PGresult *res = sg__pg_run(c,
                             "INSERT INTO api_keys (account_id, key_hash, "
                             "label, created_ms) SELECT $1, $2, $3, $4 WHERE "
                             "EXISTS (SELECT 1 FROM accounts WHERE id = $1) "
                             "RETURNING id",
                             &p, &rc);
  if (rc == 0 && PQntuples(res) != 1)
    rc = SG_ENOENT;
  if (rc == 0)
    r->out.id = sg__pg_i64(res, 0, 0);
  PQclear(res);
  return rc;
}

/* ---- settings ------------------------------------------------------------ */

static int setting_put(sg__pg_conn_t *c, sg__store_req_t *r, int64_t now) {
  sg__pg_params_t p = {0};
  sg__pg_p_text(&p, r->in.setting.name);
  if (r->in.setting.body == NULL)
    return sg__pg_do(c, "DELETE FROM settings WHERE name = $1", &p, NULL);
  /* The body's bytes as they are (text's binary format): it need not end
   * with a NUL. */
  sg__pg_p_blob(&p, r->in.setting.body, r->in.setting.len);
  sg__pg_p_i64(&p, now);
  return sg__pg_do(c,
                   "INSERT INTO settings (name, body, updated_ms) VALUES ($1, "
                   "$2, $3) ON CONFLICT (name) DO UPDATE SET body = "
                   "excluded.body, updated_ms = excluded.updated_ms",
                   &p, NULL);
}

static int setting_get(sg__pg_conn_t *c, sg__store_req_t *r) {
  sg__pg_params_t p = {0};
  sg__pg_p_text(&p, r->in.setting.name);
  int rc;
  PGresult *res =
      sg__pg_run(c, "SELECT body FROM settings WHERE name = $1", &p, &rc);
  if (rc == 0 && PQntuples(res) != 1)
    rc = SG_ENOENT;
  bool ok = true;
  if (rc == 0) {
    size_t n = (size_t)PQgetlength(res, 0, 0);
    r->in.setting.body =
        sg__arena_strndup(&r->arena, PQgetvalue(res, 0, 0), n, &ok);
    r->in.setting.len = n;
  }
  PQclear(res);
  return rc < 0 ? rc : ok ? 0 : SG_ENOMEM;
}

/* ---- SMPP receipts ------------------------------------------------------- */

static void smpp_row(sg__arena_t *a, const PGresult *r, int i,
                     sg_store_smpp_out_t *o, bool *ok) {
  memset(o, 0, sizeof *o);
  o->id = sg__pg_i64(r, i, 0);
  snprintf(o->message_id, sizeof o->message_id, "%s", PQgetvalue(r, i, 1));
  o->status = sg__pg_status(r, i, 2);
  o->error_code = (int32_t)sg__pg_i64(r, i, 3);
  o->done_ms = sg__pg_i64(r, i, 4);
  o->attempts = (unsigned)sg__pg_i64(r, i, 5) + 1;
  o->origin.registered_delivery = (uint8_t)sg__pg_i64(r, i, 6);
  o->origin.source_ton = (uint8_t)sg__pg_i64(r, i, 7);
  o->origin.source_npi = (uint8_t)sg__pg_i64(r, i, 8);
  o->origin.source_addr = sg__pg_text(a, r, i, 9, ok);
  o->origin.dest_ton = (uint8_t)sg__pg_i64(r, i, 10);
  o->origin.dest_npi = (uint8_t)sg__pg_i64(r, i, 11);
  o->origin.dest_addr = sg__pg_text(a, r, i, 12, ok);
  o->submit_ms = sg__pg_i64(r, i, 13);
  o->body = sg__pg_blob(a, r, i, 14, &o->body_len, ok);
  o->binary = sg__pg_i64(r, i, 15) != 0;
  o->recipient = sg__pg_text(a, r, i, 16, ok);
  o->mo = sg__pg_i64(r, i, 17) == 1;
  o->part_seq = (unsigned)sg__pg_i64(r, i, 20);
  if (o->mo) {
    o->status = SG_MSG_NONE;
    o->sender = sg__pg_text(a, r, i, 18, ok);
    o->received_ms = sg__pg_i64(r, i, 19);
  }
}

static int smpp_claim(sg__pg_conn_t *c, sg__store_req_t *r, int64_t now) {
  r->out.smpp_out.dropped = 0;
  int rc = 0;
  if (r->in.smpp_claim.max_age_ms > 0) {
    sg__pg_params_t p = {0};
    sg__pg_p_i64(&p, r->in.smpp_claim.account_id);
    sg__pg_p_i64(&p, now - r->in.smpp_claim.max_age_ms);
    uint64_t n = 0;
    rc = sg__pg_do(c,
                   "DELETE FROM smpp_out WHERE account_id = $1 AND "
                   "created_ms < $2",
                   &p, &n);
    r->out.smpp_out.dropped = (size_t)n;
  }
  if (rc < 0)
    return rc;
  sg__pg_params_t p = {0};
  sg__pg_p_i64(&p, r->in.smpp_claim.account_id);
  sg__pg_p_i64(&p, now);
  sg__pg_p_i64(&p, r->in.smpp_claim.max);
  PGresult *res = sg__pg_run(
      c,
      "SELECT o.id, o.message_id, o.status, o.error_code, o.done_ms, "
      "o.attempts, g.registered_delivery, g.source_ton, g.source_npi, "
      "g.source_addr, g.dest_ton, g.dest_npi, g.dest_addr, g.submit_ms, "
      "CASE o.kind WHEN 1 THEN i.body ELSE substr(m.body, 1, 80) END, "
      "CASE o.kind WHEN 1 THEN i.is_binary ELSE m.is_binary END, "
      "CASE o.kind WHEN 1 THEN i.recipient ELSE m.recipient END, o.kind, "
      "i.sender, i.received_ms, o.part_seq FROM smpp_out o "
      "LEFT JOIN smpp_origin g ON o.kind = 0 AND g.message_id = o.message_id "
      "LEFT JOIN messages m ON o.kind = 0 AND m.id = o.message_id "
      "LEFT JOIN inbound i ON o.kind = 1 AND i.id = o.message_id "
      "WHERE o.account_id = $1 AND (o.lease_until_ms IS NULL OR "
      "o.lease_until_ms <= $2) AND (g.message_id IS NOT NULL AND m.id IS NOT "
      "NULL OR i.id IS NOT NULL) ORDER BY o.id LIMIT $3 FOR UPDATE OF o SKIP "
      "LOCKED",
      &p, &rc);
  size_t n = rc == 0 ? (size_t)PQntuples(res) : 0;
  sg_store_smpp_out_t *out =
      sg__arena_alloc(&r->arena, (n ? n : 1) * sizeof *out);
  bool ok = out != NULL;
  for (size_t i = 0; ok && i < n; i++)
    smpp_row(&r->arena, res, (int)i, &out[i], &ok);
  PQclear(res);
  if (rc < 0 || !ok)
    return rc < 0 ? rc : SG_ENOMEM;
  r->out.smpp_out.items = out;
  r->out.smpp_out.n = n;
  for (size_t i = 0; rc == 0 && i < n; i++) {
    sg__pg_params_t q = {0};
    sg__pg_p_i64(&q, out[i].id);
    sg__pg_p_i64(&q, now + r->in.smpp_claim.lease_ms);
    sg__pg_p_text(&q, lease_owner(c));
    rc = sg__pg_do(c,
                   "UPDATE smpp_out SET lease_until_ms = $2, lease_owner = "
                   "$3, attempts = attempts + 1 WHERE id = $1",
                   &q, NULL);
  }
  return rc;
}

static int smpp_finish(sg__pg_conn_t *c, sg__store_req_t *r) {
  int rc = 0;
  for (size_t i = 0; rc == 0 && i < r->in.smpp_finish.n; i++) {
    const sg_store_smpp_out_result_t *x = &r->in.smpp_finish.items[i];
    sg__pg_params_t p = {0};
    sg__pg_p_i64(&p, x->id);
    if (x->done) {
      rc = sg__pg_do(c, "DELETE FROM smpp_out WHERE id = $1", &p, NULL);
      continue;
    }
    /* Given back only while this node still holds it (as WH_MINE). */
    sg__pg_p_text(&p, lease_owner(c));
    rc = sg__pg_do(c,
                   "UPDATE smpp_out SET lease_until_ms = NULL, lease_owner "
                   "= NULL WHERE id = $1 AND lease_owner IS NOT DISTINCT "
                   "FROM $2",
                   &p, NULL);
  }
  return rc;
}

/* ---- limits -------------------------------------------------------------- */

/* A credit: the balance row is locked first, so that credits and charges
 * of other nodes wait for it. */
int sg__pg_credit(sg__pg_conn_t *c, sg__limits_req_t *l, int64_t now) {
  sg__pg_params_t p = {0};
  sg__pg_p_i64(&p, l->account_id);
  int rc;
  PGresult *res = sg__pg_run(c,
                             "SELECT micro FROM account_balance WHERE "
                             "account_id = $1 FOR UPDATE",
                             &p, &rc);
  int64_t before = rc == 0 && PQntuples(res) == 1 ? sg__pg_i64(res, 0, 0) : 0;
  PQclear(res);
  if (rc < 0)
    return rc;
  int64_t after = before + l->amount; /* both within +-2^60: no overflow */
  if (after < 0 || after > SG_STORE_BALANCE_MAX)
    return SG_ERANGE;
  sg__pg_p_i64(&p, after);
  sg__pg_p_i64(&p, now);
  rc = sg__pg_do(c,
                 "INSERT INTO account_balance (account_id, micro, updated_ms) "
                 "VALUES ($1, $2, $3) ON CONFLICT (account_id) DO UPDATE SET "
                 "micro = excluded.micro, updated_ms = excluded.updated_ms",
                 &p, NULL);
  sg__pg_params_t q = {0};
  sg__pg_p_i64(&q, l->account_id);
  sg__pg_p_i64(&q, l->amount);
  sg__pg_p_i64(&q, after);
  sg__pg_p_i64(&q, now);
  if (rc == 0)
    rc = sg__pg_do(c,
                   "INSERT INTO balance_credits (account_id, amount, balance, "
                   "time_ms) VALUES ($1, $2, $3, $4)",
                   &q, NULL);
  if (rc == 0)
    l->balance = after;
  return rc;
}

static int usage(sg__pg_conn_t *c, sg__store_req_t *r) {
  sg__limits_req_t *l = r->in.limits;
  sg__pg_params_t p = {0};
  sg__pg_p_text(&p, l->day);
  sg__pg_p_text(&p, l->month);
  int rc;
  PGresult *res = sg__pg_run(
      c,
      "SELECT a.id, (SELECT parts FROM account_usage u WHERE u.account_id = "
      "a.id AND u.period = $1), (SELECT parts FROM account_usage u WHERE "
      "u.account_id = a.id AND u.period = $2), (SELECT micro FROM "
      "account_balance b WHERE b.account_id = a.id) FROM accounts a ORDER "
      "BY a.id",
      &p, &rc);
  size_t n = rc == 0 ? (size_t)PQntuples(res) : 0;
  l->rows = sg__arena_alloc(&r->arena, (n ? n : 1) * sizeof *l->rows);
  for (size_t i = 0; l->rows != NULL && i < n; i++) {
    sg_store_usage_t *u = &l->rows[i];
    int row = (int)i;
    u->account_id = sg__pg_i64(res, row, 0);
    u->day_parts = (uint64_t)sg__pg_i64(res, row, 1);
    u->month_parts = (uint64_t)sg__pg_i64(res, row, 2);
    u->has_balance = !sg__pg_null(res, row, 3);
    u->balance_micro = sg__pg_i64(res, row, 3);
  }
  PQclear(res);
  if (rc < 0)
    return rc;
  if (l->rows == NULL)
    return SG_ENOMEM;
  l->n_rows = n;
  return 0;
}

/* ---- dispatch ------------------------------------------------------------ */

int sg__pg_misc_write(sg__pg_conn_t *c, sg__store_req_t *r, int64_t now) {
  switch (r->kind) {
  case SG__REQ_WEBHOOK_ENQUEUE:
    return wh_enqueue(c, r, now);
  case SG__REQ_WEBHOOK_CLAIM:
    return wh_claim(c, r, now);
  case SG__REQ_WEBHOOK_FINISH:
    return wh_finish(c, r, now);
  case SG__REQ_INBOUND_INSERT:
    return inbound_insert(c, r, now);
  case SG__REQ_ACCOUNT_CREATE:
    return account_create(c, r, now);
  case SG__REQ_APIKEY_CREATE:
  case SG__REQ_APIKEY_REVOKE:
    return apikey(c, r, now);
  case SG__REQ_SETTING_PUT:
    return setting_put(c, r, now);
  case SG__REQ_SMPP_OUT_CLAIM:
    return smpp_claim(c, r, now);
  case SG__REQ_SMPP_OUT_FINISH:
    return smpp_finish(c, r);
  case SG__REQ_LIMITS_WRITE:
    return sg__pg_credit(c, r->in.limits, now);
  default:
    return sg__pg_kinds_write(c, r, now);
  }
}

int sg__pg_misc_read(sg__pg_conn_t *c, sg__store_req_t *r) {
  switch (r->kind) {
  case SG__REQ_INBOUND_LIST:
    return inbound_list(c, r);
  case SG__REQ_SETTING_GET:
    return setting_get(c, r);
  case SG__REQ_LIMITS_READ:
    return usage(c, r);
  default:
    return sg__pg_kinds_read(c, r);
  }
}

bool sg__pg_misc_done(sg__req_kind_t kind) {
  switch (kind) {
  case SG__REQ_WEBHOOK_ENQUEUE:
  case SG__REQ_WEBHOOK_CLAIM:
  case SG__REQ_WEBHOOK_FINISH:
  case SG__REQ_INBOUND_INSERT:
  case SG__REQ_ACCOUNT_CREATE:
  case SG__REQ_APIKEY_CREATE:
  case SG__REQ_APIKEY_REVOKE:
  case SG__REQ_SETTING_PUT:
  case SG__REQ_SMPP_OUT_CLAIM:
  case SG__REQ_SMPP_OUT_FINISH:
  case SG__REQ_INBOUND_LIST:
  case SG__REQ_SETTING_GET:
  case SG__REQ_LIMITS_WRITE:
  case SG__REQ_LIMITS_READ:
    return true;
  default:
    return sg__pg_kinds_done(kind);
  }
}
