/* postgres_msg.c - what every status change of the PostgreSQL store goes
 * through, on the writer's connection inside the group's transaction: the
 * event row, the message status derived again from its parts, and what a
 * new message status queues (its webhook, its SMPP receipt, its Kannel
 * dlr-url call), as sqlite_write.c, sqlite_smpp_out.c, sqlite_kannel.c and
 * sqlite_presplit.c do on SQLite, with the same rows.
 *
 * This file must never begin or end a transaction nor touch the loop.
 */
#include <stdio.h>
#include <string.h>

#include "core/error.h"
#include "core/kannel.h"
#include "store/postgres_msg.h"

int sg__pg_event(sg__pg_conn_t *c, const char *mid, unsigned seq,
                 sg_msg_status_t status, int32_t code, const char *detail,
                 int64_t t, int64_t *id) {
  sg__pg_params_t p = {0};
  sg__pg_p_text(&p, mid);
  sg__pg_p_opt_i64(&p, seq);
  sg__pg_p_text(&p, sg_store_status_name(status));
  sg__pg_p_opt_i64(&p, code);
  sg__pg_p_text(&p, detail);
  sg__pg_p_i64(&p, t);
  if (id == NULL)
    return sg__pg_do(c,
                     "INSERT INTO events (message_id, part_seq, status, "
                     "error_code, detail, time_ms) VALUES ($1,$2,$3,$4,$5,$6)",
                     &p, NULL);
  int rc;
  PGresult *res = sg__pg_run(c,
                             "INSERT INTO events (message_id, part_seq, "
                             "status, error_code, detail, time_ms) VALUES "
                             "($1,$2,$3,$4,$5,$6) RETURNING id",
                             &p, &rc);
  if (rc == 0)
    *id = sg__pg_i64(res, 0, 0);
  PQclear(res);
  return rc;
}

int sg__pg_webhook(sg__pg_conn_t *c, int64_t account, const char *mid,
                   int64_t event_id, const char *inbound_id, const char *url,
                   const uint8_t *payload, size_t len, int64_t now,
                   int64_t *id) {
  sg__pg_params_t p = {0};
  sg__pg_p_opt_i64(&p, account > 0 ? account : 0);
  sg__pg_p_text(&p, mid);
  sg__pg_p_opt_i64(&p, event_id > 0 ? event_id : 0);
  sg__pg_p_text(&p, inbound_id);
  sg__pg_p_text(&p, url);
  sg__pg_p_blob(&p, payload, len);
  sg__pg_p_i64(&p, now);
  int rc;
  PGresult *res = sg__pg_run(
      c,
      "INSERT INTO webhooks (account_id, message_id, event_id, inbound_id, "
      "url, payload, status, next_attempt_ms, created_ms, updated_ms) VALUES "
      "($1,$2,$3,$4,$5,$6,'pending',$7,$7,$7) RETURNING id",
      &p, &rc);
  if (rc == 0 && id != NULL)
    *id = sg__pg_i64(res, 0, 0);
  PQclear(res);
  return rc;
}

int sg__pg_derive(sg__pg_conn_t *c, const char *mid, sg_msg_status_t *out) {
  sg__pg_params_t p = {0};
  sg__pg_p_text(&p, mid);
  int rc;
  PGresult *res =
      sg__pg_run(c, "SELECT status FROM parts WHERE message_id = $1", &p, &rc);
  sg_msg_status_t st[SG_SEG_MAX_PARTS];
  size_t n = 0;
  for (int i = 0; rc == 0 && i < PQntuples(res) && n < SG_SEG_MAX_PARTS; i++)
    st[n++] = sg__pg_status(res, i, 0);
  PQclear(res);
  if (rc < 0)
    return rc;
  *out = sg_store_status_derive(st, n);
  return n == 0 ? SG_ENOENT : 0;
}

/* ---- SMPP receipts and pre-split parts ----------------------------------- */

/* A receipt row when the message came over SMPP and asked for one:
 * registered_delivery 01 always, 10 on a failure only. */
static int smpp_out_queue(sg__pg_conn_t *c, const char *mid,
                          sg_msg_status_t status, int32_t code, int64_t now) {
  sg__pg_params_t p = {0};
  sg__pg_p_text(&p, mid);
  sg__pg_p_text(&p, sg_store_status_name(status));
  sg__pg_p_opt_i64(&p, code);
  sg__pg_p_i64(&p, now);
  sg__pg_p_i64(&p, status != SG_MSG_DELIVERED);
  return sg__pg_do(
      c,
      "INSERT INTO smpp_out (account_id, message_id, status, error_code, "
      "done_ms, created_ms) SELECT account_id, message_id, $2, $3::int, "
      "$4::bigint, $4::bigint FROM smpp_origin WHERE message_id = $1 AND "
      "presplit = 0 AND ((registered_delivery & 3) = 1 OR "
      "((registered_delivery & 3) = 2 AND $5::int <> 0))",
      &p, NULL);
}

/* A pre-split message's part that ended queues its own receipt; its
 * missing parts hold back 'delivered' (sqlite_presplit.c). */
static int presplit_derived(sg__pg_conn_t *c, const char *mid, unsigned total,
                            sg_msg_status_t part_to, unsigned seq, int32_t code,
                            int64_t now, sg_msg_status_t *to) {
  int rc = 0;
  if (seq > 0 && sg_store_status_final(part_to) && part_to != SG_MSG_CANCELED) {
    bool failure = part_to != SG_MSG_DELIVERED;
    sg__pg_params_t p = {0};
    sg__pg_p_text(&p, mid);
    sg__pg_p_text(&p, sg_store_status_name(part_to));
    sg__pg_p_opt_i64(&p, failure ? code : 0);
    sg__pg_p_i64(&p, now);
    sg__pg_p_i64(&p, failure);
    sg__pg_p_i64(&p, seq);
    rc = sg__pg_do(
        c,
        "INSERT INTO smpp_out (account_id, message_id, status, error_code, "
        "done_ms, created_ms, part_seq) SELECT account_id, message_id, $2, "
        "$3::int, $4::bigint, $4::bigint, $6::int FROM smpp_origin WHERE "
        "message_id = $1 AND presplit = 1 AND ((registered_delivery & 3) = "
        "1 OR ((registered_delivery & 3) = 2 AND $5::int <> 0))",
        &p, NULL);
  }
  if (rc == 0 && *to == SG_MSG_DELIVERED) {
    sg__pg_params_t p = {0};
    sg__pg_p_text(&p, mid);
    PGresult *res = sg__pg_run(
        c, "SELECT count(*) FROM parts WHERE message_id = $1", &p, &rc);
    if (rc == 0 && sg__pg_i64(res, 0, 0) < (int64_t)total)
      *to = SG_MSG_SENDING; /* the rest may still come */
    PQclear(res);
  }
  return rc;
}

/* ---- Kannel dlr-url ------------------------------------------------------ */

/* Kannel's report type of a change, 0 for none (as sqlite_kannel.c). */
static int report_type(sg_msg_status_t before, sg_msg_status_t after) {
  bool was_sent = before == SG_MSG_SENT || before == SG_MSG_DELIVERED;
  switch (after) {
  case SG_MSG_SENT:
    return SG_KANNEL_DLR_SMSC_OK;
  case SG_MSG_DELIVERED:
    return SG_KANNEL_DLR_DELIVERED;
  case SG_MSG_UNDELIVERABLE:
  case SG_MSG_EXPIRED:
    return SG_KANNEL_DLR_FAILED;
  case SG_MSG_REJECTED:
  case SG_MSG_FAILED:
    return was_sent ? SG_KANNEL_DLR_FAILED : SG_KANNEL_DLR_SMSC_FAIL;
  default:
    return 0;
  }
}

#define URL_MAX 8192

static int kannel_vars(sg__pg_conn_t *c, sg__arena_t *a, const char *mid,
                       unsigned seq, sg_kannel_dlr_vars_t *v) {
  sg__pg_params_t p = {0};
  sg__pg_p_text(&p, mid);
  sg__pg_p_i64(&p, seq > 0 ? seq : 1);
  int rc;
  PGresult *res = sg__pg_run(
      c,
      "SELECT a.name, p.connector, p.smsc_id, m.encoding FROM messages m "
      "LEFT JOIN accounts a ON a.id = m.account_id LEFT JOIN parts p ON "
      "p.message_id = m.id AND p.seq = $2::int WHERE m.id = $1",
      &p, &rc);
  bool ok = true;
  if (rc == 0 && PQntuples(res) == 1) {
    v->service = sg__pg_text(a, res, 0, 0, &ok);
    v->smsc = sg__pg_text(a, res, 0, 1, &ok);
    v->smsc_id = sg__pg_text(a, res, 0, 2, &ok);
    int enc = (int)sg__pg_i64(res, 0, 3);
    v->coding = enc == SG_ENC_UCS2 ? 2 : enc == SG_ENC_8BIT ? 1 : 0;
  }
  PQclear(res);
  return rc < 0 ? rc : ok ? 0 : SG_ENOMEM;
}

static int kannel_dlr(sg__pg_conn_t *c, sg__arena_t *a, const sg__pg_msg_t *m,
                      sg_msg_status_t to, const sg__pg_cause_t *why,
                      int64_t event_id, int64_t now) {
  int type = report_type(m->status, to);
  if (type == 0 || !(m->dlr_mask & (unsigned)type) || m->dlr_url == NULL)
    return 0;
  sg_kannel_dlr_vars_t v = {.type = type,
                            .from = m->ev.from,
                            .to = m->ev.to,
                            .msg_id = m->ev.message_id,
                            .account = m->ev.client_ref,
                            .dlr_url = m->dlr_url,
                            .time_s = now / 1000,
                            .mclass = -1};
  int rc = kannel_vars(c, a, m->ev.message_id, why->seq, &v);
  if (rc < 0)
    return rc;
  bool ok = true;
  char buf[512];
  if (type == SG_KANNEL_DLR_SMSC_OK) {
    v.answer = "ACK/";
  } else if (type != SG_KANNEL_DLR_SMSC_FAIL) {
    v.answer = why->detail;
  } else {
    snprintf(buf, sizeof buf, "NACK/%ld/%s", (long)why->error_code,
             why->detail != NULL ? why->detail : "");
    v.answer = sg__arena_strdup(a, buf, &ok);
  }
  char *url = sg__arena_alloc(a, URL_MAX);
  if (!ok || url == NULL)
    return SG_ENOMEM;
  rc = sg_kannel_dlr_expand(m->dlr_url, strlen(m->dlr_url), &v, url, URL_MAX);
  if (rc == SG_ENOSPC)
    url[URL_MAX - 1] = '\0';
  else if (rc < 0)
    return rc;
  sg__pg_params_t p = {0};
  sg__pg_p_opt_i64(&p, m->account_id > 0 ? m->account_id : 0);
  sg__pg_p_text(&p, m->ev.message_id);
  sg__pg_p_opt_i64(&p, event_id > 0 ? event_id : 0);
  sg__pg_p_text(&p, url);
  sg__pg_p_i64(&p, now);
  return sg__pg_do(c,
                   "INSERT INTO webhooks (account_id, message_id, event_id, "
                   "url, payload, status, next_attempt_ms, created_ms, "
                   "updated_ms, method) VALUES ($1,$2,$3,$4,'\\x'::bytea,"
                   "'pending',$5,$5,$5,'GET')",
                   &p, NULL);
}

/* ---- the message status -------------------------------------------------- */

/* The status change of a message without a Kannel dlr-url in one
 * statement: the row, its event, its SMPP receipt when final and asked
 * for, and its webhook when url is not NULL. Sent, not waited for. */
static int status_cte(sg__pg_conn_t *c, const sg__pg_msg_t *m,
                      sg_msg_status_t to, int32_t code, const char *detail,
                      const char *url, int64_t now) {
  sg__pg_params_t p = {0};
  sg__pg_p_text(&p, m->ev.message_id);
  sg__pg_p_text(&p, sg_store_status_name(to));
  sg__pg_p_opt_i64(&p, code);
  sg__pg_p_i64(&p, now);
  sg__pg_p_text(&p, detail);
  sg__pg_p_i64(&p, sg_store_status_final(to));
  sg__pg_p_i64(&p, to != SG_MSG_DELIVERED);
  sg__pg_p_opt_i64(&p, m->account_id > 0 ? m->account_id : 0);
  sg__pg_p_text(&p, url);
  if (url != NULL)
    sg__pg_p_blob(&p, c->json.p, c->json.len);
  else
    sg__pg_p_null(&p);
  return sg__pg_send(
      c,
      "WITH u AS (UPDATE messages SET status = $2, error_code = "
      "COALESCE($3::int, error_code), updated_ms = $4::bigint WHERE id = $1), "
      "e AS (INSERT INTO events (message_id, part_seq, status, error_code, "
      "detail, time_ms) VALUES ($1, NULL, $2, $3::int, $5, $4::bigint) "
      "RETURNING id), s AS (INSERT INTO smpp_out (account_id, message_id, "
      "status, error_code, done_ms, created_ms) SELECT account_id, "
      "message_id, $2, $3::int, $4::bigint, $4::bigint FROM smpp_origin "
      "WHERE $6::int <> 0 AND message_id = $1 AND presplit = 0 AND "
      "((registered_delivery & 3) = 1 OR ((registered_delivery & 3) = 2 AND "
      "$7::int <> 0))) INSERT INTO webhooks (account_id, message_id, "
      "event_id, url, payload, status, next_attempt_ms, created_ms, "
      "updated_ms) SELECT $8::bigint, $1, e.id, $9::text, $10::bytea, "
      "'pending', $4::bigint, $4::bigint, $4::bigint FROM e WHERE $9::text "
      "IS NOT NULL",
      &p);
}

/* Records a new message status: the row, its event, its SMPP receipt, its
 * Kannel dlr-url call and its webhook when one is wanted. */
static int set_status(sg__pg_conn_t *c, sg__arena_t *a, sg__pg_msg_t *m,
                      sg_msg_status_t to, const sg__pg_cause_t *why,
                      int64_t now) {
  bool failure = sg_store_status_final(to) && to != SG_MSG_DELIVERED &&
                 to != SG_MSG_CANCELED;
  int32_t code = failure ? why->error_code : 0;
  uint32_t wanted =
      m->webhook_statuses ? m->webhook_statuses : c->st->cfg.webhook_statuses;
  bool hook = m->callback_url != NULL && (wanted & SG_MSG_BIT(to));
  int rc;
  if (hook) {
    m->ev.status = to;
    m->ev.part = why->seq;
    m->ev.error_code = code;
    m->ev.detail = why->detail;
    m->ev.time_ms = now;
    if ((rc = sg__store_status_payload(&c->json, &m->ev)) < 0)
      return rc;
  }
  if (m->dlr_url == NULL)
    return status_cte(c, m, to, code, why->detail,
                      hook ? m->callback_url : NULL, now);
  /* With a dlr-url: its call needs the event's id, and comes before the
   * webhook, as on SQLite. */
  sg__pg_params_t p = {0};
  sg__pg_p_text(&p, m->ev.message_id);
  sg__pg_p_text(&p, sg_store_status_name(to));
  sg__pg_p_opt_i64(&p, code);
  sg__pg_p_i64(&p, now);
  rc = sg__pg_do(c,
                 "UPDATE messages SET status = $2, error_code = "
                 "COALESCE($3::int, error_code), updated_ms = $4 WHERE "
                 "id = $1",
                 &p, NULL);
  int64_t event_id = 0;
  if (rc == 0)
    rc = sg__pg_event(c, m->ev.message_id, 0, to, code, why->detail, now,
                      &event_id);
  if (rc == 0 && sg_store_status_final(to))
    rc = smpp_out_queue(c, m->ev.message_id, to, code, now);
  if (rc == 0)
    rc = kannel_dlr(c, a, m, to, why, event_id, now);
  if (rc < 0 || !hook)
    return rc;
  /* kannel_dlr does not touch c->json: the payload made above stands. */
  return sg__pg_webhook(c, m->account_id, m->ev.message_id, event_id, NULL,
                        m->callback_url, (const uint8_t *)c->json.p,
                        c->json.len, now, NULL);
}

int sg__pg_msg_row(sg__arena_t *a, const PGresult *r, int row, int col,
                   sg__pg_msg_t *m) {
  bool ok = true;
  memset(m, 0, sizeof *m);
  m->status = sg__pg_status(r, row, col);
  m->ev.batch_id = sg__pg_text(a, r, row, col + 1, &ok);
  m->account_id = sg__pg_i64(r, row, col + 2);
  m->ev.from = sg__pg_text(a, r, row, col + 3, &ok);
  m->ev.to = sg__pg_text(a, r, row, col + 4, &ok);
  m->ev.client_ref = sg__pg_text(a, r, row, col + 5, &ok);
  m->callback_url = sg__pg_text(a, r, row, col + 6, &ok);
  m->ev.parts = (unsigned)sg__pg_i64(r, row, col + 7);
  m->dlr_url = sg__pg_text(a, r, row, col + 8, &ok);
  m->dlr_mask = (unsigned)sg__pg_i64(r, row, col + 9);
  m->webhook_statuses = (uint32_t)sg__pg_i64(r, row, col + 10);
  return ok ? 0 : SG_ENOMEM;
}

int sg__pg_rederive_row(sg__pg_conn_t *c, sg__arena_t *a, sg__pg_msg_t *m,
                        sg_msg_status_t part_to, const sg__pg_cause_t *why,
                        int64_t now, sg_msg_status_t *out, bool *changed) {
  const char *mid = m->ev.message_id;
  sg_msg_status_t to = part_to;
  int rc = 0;
  if (m->ev.parts != 1 || part_to == SG_MSG_NONE)
    rc = sg__pg_derive(c, mid, &to);
  if (rc == 0 && m->ev.parts > 1)
    rc = presplit_derived(c, mid, m->ev.parts, part_to, why->seq,
                          why->error_code, now, &to);
  if (rc < 0)
    return rc;
  if (out != NULL)
    *out = to;
  if (changed != NULL)
    *changed = m->status != to;
  if (m->status == to)
    return 0;
  return set_status(c, a, m, to, why, now);
}

int sg__pg_rederive(sg__pg_conn_t *c, sg__arena_t *a, const char *mid,
                    sg_msg_status_t part_to, const sg__pg_cause_t *why,
                    int64_t now, sg_msg_status_t *out, bool *changed) {
  sg__pg_params_t p = {0};
  sg__pg_p_text(&p, mid);
  int rc;
  PGresult *res = sg__pg_run(c,
                             "SELECT " SG__PG_MSG_ROW " FROM messages WHERE "
                             "id = $1",
                             &p, &rc);
  if (rc == 0 && PQntuples(res) != 1)
    rc = SG_ENOENT;
  sg__pg_msg_t m;
  if (rc == 0)
    rc = sg__pg_msg_row(a, res, 0, 0, &m);
  PQclear(res);
  if (rc < 0)
    return rc;
  m.ev.message_id = mid;
  return sg__pg_rederive_row(c, a, &m, part_to, why, now, out, changed);
}

int sg__pg_part_change(sg__pg_conn_t *c, sg__arena_t *a,
                       const sg__pg_part_t *pt, sg_msg_status_t to,
                       const sg__pg_cause_t *why, int64_t now,
                       sg_store_item_res_t *item) {
  int rc = sg__pg_part_write(c, pt, to, why, now);
  if (rc < 0)
    return rc;
  return sg__pg_rederive(c, a, pt->mid, to, why, now,
                         item ? &item->msg_status : NULL,
                         item ? &item->msg_changed : NULL);
}

int sg__pg_part_write(sg__pg_conn_t *c, const sg__pg_part_t *pt,
                      sg_msg_status_t to, const sg__pg_cause_t *why,
                      int64_t now) {
  sg__pg_params_t p = {0};
  sg__pg_p_i64(&p, pt->id);
  sg__pg_p_text(&p, sg_store_status_name(to));
  sg__pg_p_opt_i64(&p, why->error_code);
  sg__pg_p_text(&p, to != SG_MSG_DELIVERED && to != SG_MSG_SENT ? why->detail
                                                                : NULL);
  sg__pg_p_i64(&p, now);
  sg__pg_p_text(&p, pt->mid);
  sg__pg_p_opt_i64(&p, pt->seq);
  sg__pg_p_text(&p, why->detail);
  sg__pg_p_i64(&p, why->event_ms ? why->event_ms : now);
  /* The part and its event in one statement. */
  return sg__pg_send(c,
                     "WITH u AS (UPDATE parts SET status = $2, error_code = "
                     "COALESCE($3::int, error_code), error = COALESCE($4, "
                     "error), lease_until_ms = NULL, lease_owner = NULL, "
                     "updated_ms = $5::bigint WHERE id = $1) INSERT INTO "
                     "events (message_id, part_seq, status, error_code, "
                     "detail, time_ms) VALUES ($6, $7::int, $2, $3::int, $8, "
                     "$9::bigint)",
                     &p);
}
