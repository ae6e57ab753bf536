/* pg_mo.c - the PostgreSQL side of store_mo.c: parts of inbound messages
 * waiting for reassembly, the delivery of a reassembled message with its
 * webhook and opt-out change in one transaction, the inbound search and
 * opt-out lists (tables of migration 0004), with the rows and answers of
 * sqlite_mo.c.
 *
 * Writes run on the writer inside the group's transaction, reads on a
 * reader in its read-only snapshot. A statement that fails here aborts the
 * group's transaction, so "insert unless there" is ON CONFLICT DO NOTHING,
 * never a caught error. This file must never decide anything about a
 * message: the engine does; it stores.
 */
#include <stdio.h>
#include <string.h>

#include "core/error.h"
#include "store/mo_int.h"
#include "store/postgres_msg.h"
#include "store/pg_kinds.h"

#define INBOUND_COLS                                                           \
  "id, account_id, connector, sender, recipient, encoding, is_binary, body, "  \
  "parts, received_ms, created_ms, keyword, incomplete"

static int part_add(sg__pg_conn_t *c, sg__mo_req_t *m) {
  const sg_store_mo_part_t *pt = &m->part;
  sg__pg_params_t p = {0};
  sg__pg_p_text(&p, pt->group);
  sg__pg_p_i64(&p, pt->seq);
  sg__pg_p_i64(&p, pt->total);
  sg__pg_p_text(&p, pt->connector);
  sg__pg_p_text(&p, pt->sender);
  sg__pg_p_text(&p, pt->recipient);
  sg__pg_p_i64(&p, pt->data_coding);
  sg__pg_p_blob(&p, pt->udh, pt->udh_len);
  sg__pg_p_blob(&p, pt->ud ? pt->ud : (const uint8_t *)"", pt->ud_len);
  sg__pg_p_i64(&p, pt->received_ms);
  uint64_t n = 0;
  int rc = sg__pg_do(c,
                     "INSERT INTO inbound_parts (grp, seq, total, connector, "
                     "sender, recipient, data_coding, udh, ud, received_ms) "
                     "VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10) ON CONFLICT "
                     "(grp, seq) DO NOTHING",
                     &p, &n);
  if (rc != 0)
    return rc;
  m->dup = n == 0;
  sg__pg_params_t q = {0};
  sg__pg_p_text(&q, pt->group);
  int64_t have = 0;
  rc = sg__pg_one(c, "SELECT count(*) FROM inbound_parts WHERE grp = $1", &q,
                  &have);
  m->have = (unsigned)have;
  return rc < 0 ? rc : 0;
}

static int insert_inbound(sg__pg_conn_t *c, const sg_store_inbound_t *in,
                          int64_t now) {
  sg__pg_params_t p = {0};
  sg__pg_p_text(&p, in->id);
  sg__pg_p_opt_i64(&p, in->account_id > 0 ? in->account_id : 0);
  sg__pg_p_text(&p, in->connector);
  sg__pg_p_text(&p, in->sender);
  sg__pg_p_text(&p, in->recipient);
  sg__pg_p_i64(&p, in->encoding);
  sg__pg_p_i64(&p, in->binary);
  sg__pg_p_blob(&p, in->body ? in->body : (const uint8_t *)"", in->body_len);
  sg__pg_p_i64(&p, (int64_t)in->parts);
  sg__pg_p_i64(&p, in->received_ms ? in->received_ms : now);
  sg__pg_p_i64(&p, now);
  sg__pg_p_text(&p, in->keyword);
  sg__pg_p_i64(&p, in->incomplete);
  return sg__pg_do(c,
                   "INSERT INTO inbound (" INBOUND_COLS ") VALUES ($1,$2,$3,$4,"
                   "$5,$6,$7,$8,$9,$10,$11,$12,$13)",
                   &p, NULL);
}

static int optout_write(sg__pg_conn_t *c, int64_t account, const char *number,
                        bool add, const char *source, int64_t now,
                        int64_t *changed) {
  sg__pg_params_t p = {0};
  sg__pg_p_i64(&p, account);
  sg__pg_p_text(&p, number);
  if (add) {
    sg__pg_p_text(&p, source);
    sg__pg_p_i64(&p, now);
  }
  uint64_t n = 0;
  int rc = sg__pg_do(c,
                     add ? "INSERT INTO optouts (account_id, number, source, "
                           "created_ms) VALUES ($1,$2,$3,$4) ON CONFLICT "
                           "(account_id, number) DO NOTHING"
                         : "DELETE FROM optouts WHERE account_id = $1 AND "
                           "number = $2",
                     &p, &n);
  if (rc == 0)
    *changed = n > 0 ? 1 : 0;
  return rc;
}

static int queue_smpp_mo(sg__pg_conn_t *c, int64_t account, const char *id,
                         int64_t now) {
  sg__pg_params_t p = {0};
  sg__pg_p_i64(&p, account);
  sg__pg_p_text(&p, id);
  sg__pg_p_i64(&p, now);
  return sg__pg_do(
      c,
      "INSERT INTO smpp_out (account_id, message_id, status, "
      "done_ms, created_ms, kind) VALUES ($1, $2, 'mo', $3, $3, 1)",
      &p, NULL);
}

static int deliver(sg__pg_conn_t *c, sg__store_req_t *r, int64_t now) {
  sg__mo_req_t *m = r->in.mo;
  sg_store_mo_deliver_t *d = &m->deliver;
  int rc;
  if (d->group != NULL) { /* the parts go with the message, or it is late */
    sg__pg_params_t p = {0};
    sg__pg_p_text(&p, d->group);
    uint64_t n = 0;
    if ((rc = sg__pg_do(c, "DELETE FROM inbound_parts WHERE grp = $1", &p,
                        &n)) != 0)
      return rc;
    if (n == 0)
      return SG_ENOENT;
  }
  d->msg.created_ms = now;
  if ((rc = insert_inbound(c, &d->msg, now)) != 0)
    return rc;
  int64_t changed = 0;
  if (d->optout != 0 &&
      (rc = optout_write(c, d->msg.account_id, d->optout_number, d->optout > 0,
                         "keyword", now, &changed)) != 0)
    return rc;
  if (d->action_url != NULL && (rc = sg__pg_mo_action(c, d, now)) != 0)
    return rc;
  if (d->smpp_out &&
      (rc = queue_smpp_mo(c, d->msg.account_id, d->msg.id, now)) != 0)
    return rc;
  if (d->webhook_url == NULL)
    return 0;
  if ((rc = sg__store_inbound_payload(&c->json, &d->msg)) < 0)
    return rc;
  return sg__pg_webhook(c, d->msg.account_id, NULL, 0, d->msg.id,
                        d->webhook_url, (const uint8_t *)c->json.p, c->json.len,
                        now, &m->id);
}

int sg__pg_mo_write(sg__pg_conn_t *c, sg__store_req_t *r, int64_t now) {
  sg__mo_req_t *m = r->in.mo;
  switch (m->op) {
  case SG__MO_PART_ADD:
    return part_add(c, m);
  case SG__MO_DELIVER:
    return deliver(c, r, now);
  case SG__MO_OPTOUT_SET:
    return optout_write(c, m->optout.account_id, m->optout.number,
                        m->optout.add, m->optout.source, now, &m->id);
  default:
    return SG_EINVAL;
  }
}

/* ---- reads --------------------------------------------------------------- */

static void part_row(sg__arena_t *a, const PGresult *res, int row,
                     sg_store_mo_part_t *pt, bool *ok) {
  pt->group = sg__pg_text(a, res, row, 0, ok);
  pt->seq = (unsigned)sg__pg_i64(res, row, 1);
  pt->total = (unsigned)sg__pg_i64(res, row, 2);
  pt->connector = sg__pg_text(a, res, row, 3, ok);
  pt->sender = sg__pg_text(a, res, row, 4, ok);
  pt->recipient = sg__pg_text(a, res, row, 5, ok);
  pt->data_coding = (uint8_t)sg__pg_i64(res, row, 6);
  pt->udh = sg__pg_blob(a, res, row, 7, &pt->udh_len, ok);
  pt->ud = sg__pg_blob(a, res, row, 8, &pt->ud_len, ok);
  pt->received_ms = sg__pg_i64(res, row, 9);
}

static int due(sg__pg_conn_t *c, sg__store_req_t *r) {
  sg__mo_req_t *m = r->in.mo;
  sg__pg_params_t p = {0};
  sg__pg_p_i64(&p, m->due.stale_before_ms);
  sg__pg_p_i64(&p, m->due.max_groups);
  int rc;
  PGresult *res = sg__pg_run(
      c,
      "SELECT grp, seq, total, connector, sender, recipient, data_coding, "
      "udh, ud, received_ms FROM inbound_parts WHERE grp IN (SELECT grp FROM "
      "inbound_parts GROUP BY grp HAVING count(*) >= max(total) OR "
      "min(received_ms) < $1 ORDER BY min(id) LIMIT $2) ORDER BY grp, seq",
      &p, &rc);
  size_t n = rc == 0 ? (size_t)PQntuples(res) : 0;
  bool ok = true;
  if (n > 0) {
    m->parts = sg__arena_alloc(&r->arena, n * sizeof *m->parts);
    ok = m->parts != NULL;
  }
  for (size_t i = 0; ok && i < n; i++)
    part_row(&r->arena, res, (int)i, &m->parts[m->n_parts++], &ok);
  PQclear(res);
  return rc < 0 ? rc : ok ? 0 : SG_ENOMEM;
}

static void inbound_row(sg__arena_t *a, const PGresult *res, int row,
                        sg_store_inbound_t *in, bool *ok) {
  snprintf(in->id, sizeof in->id, "%s", PQgetvalue(res, row, 0));
  in->account_id = sg__pg_i64(res, row, 1);
  in->connector = sg__pg_text(a, res, row, 2, ok);
  in->sender = sg__pg_text(a, res, row, 3, ok);
  in->recipient = sg__pg_text(a, res, row, 4, ok);
  in->encoding = (sg_encoding_t)sg__pg_i64(res, row, 5);
  in->binary = sg__pg_i64(res, row, 6) != 0;
  in->body = sg__pg_blob(a, res, row, 7, &in->body_len, ok);
  in->parts = (unsigned)sg__pg_i64(res, row, 8);
  in->received_ms = sg__pg_i64(res, row, 9);
  in->created_ms = sg__pg_i64(res, row, 10);
  in->keyword = sg__pg_text(a, res, row, 11, ok);
  in->incomplete = sg__pg_i64(res, row, 12) != 0;
}

static int search(sg__pg_conn_t *c, sg__store_req_t *r) {
  sg__mo_req_t *m = r->in.mo;
  const sg_store_inbound_filter_t *f = &m->filter;
  sg__pg_params_t p = {0};
  sg__pg_p_opt_i64(&p, f->account_id);
  sg__pg_p_text(&p, f->sender);
  sg__pg_p_text(&p, f->recipient);
  sg__pg_p_text(&p, f->keyword);
  sg__pg_p_opt_i64(&p, f->since_ms);
  sg__pg_p_opt_i64(&p, f->until_ms);
  sg__pg_p_text(&p, f->cursor);
  sg__pg_p_i64(&p, (int64_t)f->limit + 1);
  int rc;
  PGresult *res = sg__pg_run(
      c,
      "SELECT " INBOUND_COLS " FROM inbound WHERE ($1::bigint IS NULL OR "
      "account_id = $1) AND ($2::text IS NULL OR sender = $2) AND ($3::text "
      "IS NULL OR recipient = $3) AND ($4::text IS NULL OR keyword = $4) AND "
      "($5::bigint IS NULL OR received_ms >= $5) AND ($6::bigint IS NULL OR "
      "received_ms < $6) AND ($7::text IS NULL OR id < $7) ORDER BY id DESC "
      "LIMIT $8",
      &p, &rc);
  size_t rows = rc == 0 ? (size_t)PQntuples(res) : 0;
  size_t n = rows > f->limit ? f->limit : rows;
  sg_store_inbound_t *msgs =
      sg__arena_alloc(&r->arena, (f->limit ? f->limit : 1) * sizeof *msgs);
  bool ok = msgs != NULL;
  for (size_t i = 0; ok && i < n; i++)
    inbound_row(&r->arena, res, (int)i, &msgs[i], &ok);
  PQclear(res);
  if (rc < 0 || !ok)
    return rc < 0 ? rc : SG_ENOMEM;
  m->inbound.msgs = msgs;
  m->inbound.n = n;
  if (rows > n && n > 0)
    memcpy(m->inbound.next_cursor, msgs[n - 1].id, SG_ID_LEN + 1);
  return 0;
}

static int optout_list(sg__pg_conn_t *c, sg__store_req_t *r) {
  sg__mo_req_t *m = r->in.mo;
  unsigned limit = m->optout.limit;
  sg__pg_params_t p = {0};
  sg__pg_p_i64(&p, m->optout.account_id);
  int rc;
  PGresult *res;
  if (m->optout.number != NULL) {
    sg__pg_p_text(&p, m->optout.number);
    res = sg__pg_run(c,
                     "SELECT account_id, number, source, created_ms FROM "
                     "optouts WHERE account_id = $1 AND number = $2",
                     &p, &rc);
  } else {
    sg__pg_p_text(&p, m->optout.cursor ? m->optout.cursor : "");
    sg__pg_p_i64(&p, (int64_t)limit + 1);
    /* COLLATE "C": the byte order of SQLite's cursor. */
    res = sg__pg_run(c,
                     "SELECT account_id, number, source, created_ms FROM "
                     "optouts WHERE account_id = $1 AND number > $2 COLLATE "
                     "\"C\" ORDER BY number COLLATE \"C\" LIMIT $3",
                     &p, &rc);
  }
  size_t rows = rc == 0 ? (size_t)PQntuples(res) : 0;
  size_t n = rows > limit ? limit : rows;
  sg_store_optout_t *items =
      sg__arena_alloc(&r->arena, (limit + 1) * sizeof *items);
  bool ok = items != NULL;
  for (size_t i = 0; ok && i < n; i++) {
    sg_store_optout_t *o = &items[i];
    o->account_id = sg__pg_i64(res, (int)i, 0);
    o->number = sg__pg_text(&r->arena, res, (int)i, 1, &ok);
    o->source = sg__pg_text(&r->arena, res, (int)i, 2, &ok);
    o->created_ms = sg__pg_i64(res, (int)i, 3);
  }
  PQclear(res);
  if (rc < 0 || !ok)
    return rc < 0 ? rc : SG_ENOMEM;
  if (rows > n && n > 0)
    snprintf(m->optouts.next_cursor, sizeof m->optouts.next_cursor, "%s",
             items[n - 1].number);
  m->optouts.items = items;
  m->optouts.n = n;
  return 0;
}

int sg__pg_mo_read(sg__pg_conn_t *c, sg__store_req_t *r) {
  /* A read runs again on a new connection after a cut one: from zero. */
  r->in.mo->n_parts = 0;
  switch (r->in.mo->op) {
  case SG__MO_DUE:
    return due(c, r);
  case SG__MO_SEARCH:
    return search(c, r);
  case SG__MO_OPTOUT_LIST:
    return optout_list(c, r);
  default:
    return SG_EINVAL;
  }
}
