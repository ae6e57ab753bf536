/* pg_presplit.c - the PostgreSQL side of customers' pre-split parts
 * (store.h "customers' pre-split parts"), with the rows and answers of
 * sqlite_presplit.c: a part finds its message (named, or by its group's
 * key while the group waits) and is added to it at its own seq, or creates
 * it; and a wait that ran out records the missing parts as failed. (A
 * message with parts still missing is never derived 'delivered', and a
 * part that ends queues its own SMPP receipt: postgres_msg.c does both.)
 *
 * Runs on the writer inside the group's transaction; the message a part
 * joins is locked FOR UPDATE first, so that two parts of one message taken
 * by writers of two nodes see each other. It must never begin or end a
 * transaction, and a request it refuses (a duplicate or out-of-range seq, a
 * canceled message) must be refused before anything is written.
 */
#include <stdio.h>
#include <string.h>

#include "core/error.h"
#include "store/pg_kinds.h"
#include "store/postgres_msg.h"

#define EXPIRE_MAX 100 /* waits ended per maintenance pass */

/* What the part's message is, when it exists. */
typedef struct target {
  int64_t account_id;
  unsigned total, have;
  bool seq_taken;
  sg_msg_status_t status;
  int64_t send_at_ms;
} target_t;

/* Reads (and locks) message mid as a target for part seq: 0, or
 * SG_ENOENT. */
static int read_target(sg__pg_conn_t *c, const char *mid, unsigned seq,
                       target_t *t) {
  sg__pg_params_t p = {0};
  sg__pg_p_text(&p, mid);
  sg__pg_p_i64(&p, seq);
  int rc;
  PGresult *res = sg__pg_run(
      c,
      "SELECT account_id, parts_total, status, send_at_ms, (SELECT count(*) "
      "FROM parts WHERE message_id = $1), (SELECT count(*) FROM parts WHERE "
      "message_id = $1 AND seq = $2) FROM messages WHERE id = $1 FOR UPDATE",
      &p, &rc);
  bool found = rc == 0 && PQntuples(res) > 0;
  if (found) {
    t->account_id = sg__pg_i64(res, 0, 0);
    t->total = (unsigned)sg__pg_i64(res, 0, 1);
    t->status = sg__pg_status(res, 0, 2);
    t->send_at_ms = sg__pg_i64(res, 0, 3);
    t->have = (unsigned)sg__pg_i64(res, 0, 4);
    t->seq_taken = sg__pg_i64(res, 0, 5) > 0;
  }
  PQclear(res);
  return rc < 0 ? rc : found ? 0 : SG_ENOENT;
}

/* The message of the part's group whose wait is open, into mid ("" when
 * none). */
static int find_group(sg__pg_conn_t *c, const sg_store_batch_t *b,
                      const sg_store_presplit_t *ps, int64_t now,
                      char mid[SG_ID_LEN + 1]) {
  const sg_store_msg_in_t *m = &b->msgs[0];
  sg__pg_params_t p = {0};
  sg__pg_p_i64(&p, b->account_id);
  sg__pg_p_text(&p, m->recipient);
  sg__pg_p_i64(&p, ps->ref);
  sg__pg_p_i64(&p, ps->total);
  sg__pg_p_text(&p, m->sender);
  sg__pg_p_i64(&p, now);
  int rc;
  PGresult *res = sg__pg_run(
      c,
      "SELECT message_id FROM presplit_groups WHERE account_id = $1 AND "
      "recipient = $2 AND ref = $3 AND total = $4 AND sender = $5 AND "
      "wait_until_ms > $6 ORDER BY wait_until_ms DESC LIMIT 1",
      &p, &rc);
  mid[0] = '\0';
  if (rc == 0 && PQntuples(res) > 0)
    snprintf(mid, SG_ID_LEN + 1, "%s", PQgetvalue(res, 0, 0));
  PQclear(res);
  return rc;
}

/* The part as it came, at its own seq of message mid. */
static int insert_part(sg__pg_conn_t *c, const char *mid,
                       const sg_store_msg_in_t *m,
                       const sg_store_presplit_t *ps, sg_msg_status_t status,
                       int64_t now) {
  const sg_store_part_in_t *pt = &m->parts[0];
  sg__pg_params_t p = {0};
  sg__pg_p_text(&p, mid);
  sg__pg_p_i64(&p, ps->seq);
  sg__pg_p_text(&p, pt->connector);
  sg__pg_p_i64(&p, pt->encoding);
  sg__pg_p_i64(&p, pt->lang_locking);
  sg__pg_p_i64(&p, pt->lang_single);
  sg__pg_p_blob(&p, pt->udh, pt->udh_len);
  sg__pg_p_blob(&p, pt->ud, pt->ud_len);
  sg__pg_p_i64(&p, ps->ref);
  sg__pg_p_i64(&p, ps->total);
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

/* The group row: its wait moved to wait_ms from now, or gone when the
 * message is whole. */
static int put_group(sg__pg_conn_t *c, const char *mid,
                     const sg_store_batch_t *b, const sg_store_presplit_t *ps,
                     bool whole, int64_t now) {
  const sg_store_msg_in_t *m = &b->msgs[0];
  sg__pg_params_t p = {0};
  sg__pg_p_text(&p, mid);
  if (whole)
    return sg__pg_do(c, "DELETE FROM presplit_groups WHERE message_id = $1", &p,
                     NULL);
  sg__pg_p_i64(&p, b->account_id);
  sg__pg_p_text(&p, m->sender);
  sg__pg_p_text(&p, m->recipient);
  sg__pg_p_i64(&p, ps->ref);
  sg__pg_p_i64(&p, ps->total);
  sg__pg_p_i64(&p, now + ps->wait_ms);
  return sg__pg_do(
      c,
      "INSERT INTO presplit_groups (message_id, account_id, sender, "
      "recipient, ref, total, wait_until_ms) VALUES ($1,$2,$3,$4,$5,$6,$7) "
      "ON CONFLICT (message_id) DO UPDATE SET wait_until_ms = "
      "excluded.wait_until_ms",
      &p, NULL);
}

/* The SMPP origin of a new message, marked pre-split (its receipts go per
 * part). */
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
                   "source_addr, dest_ton, dest_npi, dest_addr, submit_ms, "
                   "presplit) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,1)",
                   &p, NULL);
}

static int insert_message(sg__pg_conn_t *c, const sg_store_batch_t *b,
                          const sg_store_presplit_t *ps, sg_msg_status_t status,
                          int64_t now) {
  const sg_store_msg_in_t *m = &b->msgs[0];
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
  sg__pg_p_i64(&p, ps->total);
  sg__pg_p_i64(&p, now);
  sg__pg_p_text(&p, m->dlr_url);
  sg__pg_p_i64(&p, m->dlr_url != NULL ? m->dlr_mask : 0);
  sg__pg_p_opt_i64(&p, m->webhook_statuses);
  return sg__pg_do(
      c,
      "INSERT INTO messages (id, batch_id, account_id, sender, recipient, "
      "encoding, is_binary, body, validity_ms, send_at_ms, callback_url, "
      "client_ref, priority, dlr_wanted, status, parts_total, created_ms, "
      "updated_ms, dlr_url, dlr_mask, webhook_statuses) VALUES ($1,$2,$3,$4,"
      "$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,$16,$17,$17,$18,$19,$20)",
      &p, NULL);
}

/* A new message of ps->total parts holding this one part. */
static int create(sg__pg_conn_t *c, const sg_store_batch_t *b,
                  const sg_store_presplit_t *ps, int64_t now) {
  const sg_store_msg_in_t *m = &b->msgs[0];
  sg_msg_status_t status =
      m->send_at_ms > now ? SG_MSG_SCHEDULED : SG_MSG_QUEUED;
  int rc = insert_message(c, b, ps, status, now);
  if (rc == 0)
    rc = insert_part(c, m->id, m, ps, status, now);
  if (rc == 0 && m->smpp != NULL)
    rc = insert_origin(c, b->account_id, m, now);
  if (rc == 0)
    rc = sg__pg_event(c, m->id, 0, status, 0, NULL, now, NULL);
  return rc == 0 ? put_group(c, m->id, b, ps, false, now) : rc;
}

/* Why message t cannot take part ps (0: it can). */
static int refusal(const target_t *t, const sg_store_presplit_t *ps) {
  if (t->status == SG_MSG_CANCELED)
    return SG_ESTATE;
  if (ps->seq > t->total)
    return SG_ERANGE;
  return t->seq_taken ? SG_EEXIST : 0;
}

static int rederive(sg__pg_conn_t *c, sg__arena_t *a, const char *mid,
                    unsigned seq, const char *detail, int64_t now) {
  const sg__pg_cause_t why = {seq, 0, detail, 0};
  return sg__pg_rederive(c, a, mid, SG_MSG_NONE, &why, now, NULL, NULL);
}

/* Adds the part to message mid (t read, refusal() passed). */
static int add(sg__pg_conn_t *c, sg__arena_t *a, const char *mid,
               const target_t *t, const sg_store_batch_t *b,
               const sg_store_presplit_t *ps, int64_t now) {
  sg_msg_status_t status =
      t->send_at_ms > now ? SG_MSG_SCHEDULED : SG_MSG_QUEUED;
  int rc = insert_part(c, mid, &b->msgs[0], ps, status, now);
  if (rc == 0)
    rc = sg__pg_event(c, mid, ps->seq, status, 0, "part arrived", now, NULL);
  if (rc == 0)
    rc = rederive(c, a, mid, ps->seq, "part arrived", now);
  if (rc == 0)
    rc = put_group(c, mid, b, ps, t->have + 1 >= t->total, now);
  return rc;
}

/* The batch's charge and usage, as a submit's (postgres_write.c): the
 * charge first, so that a refused one has written nothing. */
static int limits(sg__pg_conn_t *c, const sg_store_batch_t *b, int64_t now) {
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

int sg__pg_presplit_run(sg__pg_conn_t *c, sg__store_req_t *r, int64_t now) {
  const sg_store_batch_t *b = &r->in.presplit.batch;
  const sg_store_presplit_t *ps = &r->in.presplit.ps;
  sg_store_presplit_res_t *out = &r->out.presplit;
  char mid[SG_ID_LEN + 1];
  int rc = 0;
  if (ps->message_id[0] != '\0')
    memcpy(mid, ps->message_id, sizeof mid);
  else
    rc = find_group(c, b, ps, now, mid);
  target_t t;
  memset(&t, 0, sizeof t);
  if (rc == 0 && mid[0] != '\0') {
    rc = read_target(c, mid, ps->seq, &t);
    if (rc == 0 && t.account_id != b->account_id)
      rc = SG_ENOENT;
    if (rc == 0) /* before anything is written */
      rc = refusal(&t, ps);
  }
  if (rc < 0)
    return rc;
  if ((b->usage_parts > 0 || b->charge_micro > 0) &&
      (rc = limits(c, b, now)) != 0)
    return rc;
  if (mid[0] == '\0') {
    memcpy(out->message_id, b->msgs[0].id, sizeof out->message_id);
    out->created = true;
    rc = create(c, b, ps, now);
  } else {
    memcpy(out->message_id, mid, sizeof out->message_id);
    rc = add(c, &r->arena, mid, &t, b, ps, now);
    out->whole = rc == 0 && t.have + 1 >= t.total;
  }
  out->seq = ps->seq;
  return rc;
}

/* ---- the end of a wait --------------------------------------------------- */

static int insert_missing(sg__pg_conn_t *c, const char *mid, unsigned seq,
                          unsigned total, int64_t now) {
  sg__pg_params_t p = {0};
  sg__pg_p_text(&p, mid);
  sg__pg_p_i64(&p, seq);
  sg__pg_p_i64(&p, total);
  sg__pg_p_i64(&p, now);
  int rc = sg__pg_do(c,
                     "INSERT INTO parts (message_id, seq, connector, encoding, "
                     "ud, concat_total, status, error, updated_ms) VALUES ($1, "
                     "$2, '', 0, '\\x'::bytea, $3, 'failed', 'the part never "
                     "arrived from the customer', $4)",
                     &p, NULL);
  return rc < 0 ? rc
                : sg__pg_event(c, mid, seq, SG_MSG_FAILED, 0,
                               "the part never arrived from the customer", now,
                               NULL);
}

/* Records every part of mid (of total) that never came as failed. */
static int end_wait(sg__pg_conn_t *c, sg__arena_t *a, const char *mid,
                    unsigned total, int64_t now) {
  uint8_t have[256] = {0};
  sg__pg_params_t p = {0};
  sg__pg_p_text(&p, mid);
  int rc;
  PGresult *res =
      sg__pg_run(c, "SELECT seq FROM parts WHERE message_id = $1", &p, &rc);
  for (int i = 0; rc == 0 && i < PQntuples(res); i++) {
    int64_t seq = sg__pg_i64(res, i, 0);
    if (seq > 0 && seq < 256)
      have[seq] = 1;
  }
  PQclear(res);
  for (unsigned seq = 1; rc == 0 && seq <= total && seq < 256; seq++)
    if (!have[seq])
      rc = insert_missing(c, mid, seq, total, now);
  if (rc == 0)
    rc = rederive(c, a, mid, 0, "parts never arrived from the customer", now);
  if (rc == 0)
    rc = sg__pg_do(c, "DELETE FROM presplit_groups WHERE message_id = $1", &p,
                   NULL);
  return rc;
}

int sg__pg_presplit_expire(sg__pg_conn_t *c, sg__store_req_t *r, int64_t now,
                           size_t *n) {
  sg__pg_params_t p = {0};
  sg__pg_p_i64(&p, now);
  sg__pg_p_i64(&p, EXPIRE_MAX);
  int rc;
  PGresult *res = sg__pg_run(c,
                             "SELECT message_id, total FROM presplit_groups "
                             "WHERE wait_until_ms <= $1 ORDER BY "
                             "wait_until_ms LIMIT $2 FOR UPDATE SKIP LOCKED",
                             &p, &rc);
  size_t k = rc == 0 ? (size_t)PQntuples(res) : 0;
  const char *ids[EXPIRE_MAX];
  unsigned totals[EXPIRE_MAX];
  bool ok = true;
  for (size_t i = 0; i < k && i < EXPIRE_MAX; i++) {
    ids[i] = sg__pg_text(&r->arena, res, (int)i, 0, &ok);
    totals[i] = (unsigned)sg__pg_i64(res, (int)i, 1);
  }
  PQclear(res);
  if (rc < 0 || !ok)
    return rc < 0 ? rc : SG_ENOMEM;
  for (size_t i = 0; rc == 0 && i < k; i++)
    rc = end_wait(c, &r->arena, ids[i], totals[i], now);
  if (rc == 0)
    *n += k;
  return rc;
}
