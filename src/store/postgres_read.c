/* postgres_read.c - the read requests of the PostgreSQL store, run by a
 * reader thread on its own connection, each in one REPEATABLE READ, READ
 * ONLY transaction so that a message, its parts and its events come from
 * the same snapshot; the answers are those of sqlite_read.c.
 *
 * Results are copied into the request's arena before the PGresult is
 * freed. This file must never write to the database nor touch the loop.
 */
#include <stdio.h>
#include <string.h>

#include "core/error.h"
#include "store/pg_int.h"
#include "store/postgres_misc.h"

static int read_parts(sg__pg_conn_t *c, sg__store_req_t *r) {
  sg_store_message_t *m = &r->out.message;
  sg__pg_params_t p = {0};
  sg__pg_p_text(&p, m->id);
  int rc;
  PGresult *res = sg__pg_run(c,
                             "SELECT id, seq, connector, status, "
                             "coalesce(smsc_raw, smsc_id), error_code, error, "
                             "attempts, next_attempt_ms, updated_ms FROM "
                             "parts WHERE message_id = $1 ORDER BY seq",
                             &p, &rc);
  size_t n = rc == 0 ? (size_t)PQntuples(res) : 0;
  sg_store_part_t *parts =
      sg__arena_alloc(&r->arena, (n ? n : 1) * sizeof *parts);
  bool ok = parts != NULL;
  for (size_t i = 0; ok && i < n; i++) {
    sg_store_part_t *pt = &parts[i];
    int row = (int)i;
    pt->part_id = sg__pg_i64(res, row, 0);
    pt->seq = (unsigned)sg__pg_i64(res, row, 1);
    pt->connector = sg__pg_text(&r->arena, res, row, 2, &ok);
    pt->status = sg__pg_status(res, row, 3);
    pt->smsc_id = sg__pg_text(&r->arena, res, row, 4, &ok);
    pt->error_code = (int32_t)sg__pg_i64(res, row, 5);
    pt->error = sg__pg_text(&r->arena, res, row, 6, &ok);
    pt->attempts = (unsigned)sg__pg_i64(res, row, 7);
    pt->next_attempt_ms = sg__pg_i64(res, row, 8);
    pt->updated_ms = sg__pg_i64(res, row, 9);
  }
  PQclear(res);
  m->parts = n ? parts : NULL;
  m->n_parts = n;
  return rc < 0 ? rc : ok ? 0 : SG_ENOMEM;
}

static int read_events(sg__pg_conn_t *c, sg__store_req_t *r) {
  sg_store_message_t *m = &r->out.message;
  sg__pg_params_t p = {0};
  sg__pg_p_text(&p, m->id);
  int rc;
  PGresult *res = sg__pg_run(c,
                             "SELECT id, part_seq, status, error_code, "
                             "detail, time_ms FROM events WHERE message_id = "
                             "$1 ORDER BY id",
                             &p, &rc);
  size_t n = rc == 0 ? (size_t)PQntuples(res) : 0;
  sg_store_event_t *ev = sg__arena_alloc(&r->arena, (n ? n : 1) * sizeof *ev);
  bool ok = ev != NULL;
  for (size_t i = 0; ok && i < n; i++) {
    int row = (int)i;
    ev[i].id = sg__pg_i64(res, row, 0);
    ev[i].part_seq = (unsigned)sg__pg_i64(res, row, 1);
    ev[i].status = sg__pg_status(res, row, 2);
    ev[i].error_code = (int32_t)sg__pg_i64(res, row, 3);
    ev[i].detail = sg__pg_text(&r->arena, res, row, 4, &ok);
    ev[i].time_ms = sg__pg_i64(res, row, 5);
  }
  PQclear(res);
  m->events = n ? ev : NULL;
  m->n_events = n;
  return rc < 0 ? rc : ok ? 0 : SG_ENOMEM;
}

static int get_message(sg__pg_conn_t *c, sg__store_req_t *r) {
  sg__pg_params_t p = {0};
  sg__pg_p_text(&p, r->in.msg.id);
  int rc;
  PGresult *res = sg__pg_run(
      c, "SELECT " SG__PG_MSG_COLS " FROM messages WHERE id = $1", &p, &rc);
  if (rc == 0 && PQntuples(res) != 1)
    rc = SG_ENOENT;
  bool ok = true;
  if (rc == 0)
    sg__pg_read_message(&r->arena, res, 0, &r->out.message, &ok);
  PQclear(res);
  if (rc < 0 || !ok)
    return rc < 0 ? rc : SG_ENOMEM;
  if (r->in.msg.account_id != 0 &&
      r->out.message.account_id != r->in.msg.account_id)
    return SG_ENOENT;
  rc = read_parts(c, r);
  return rc < 0 ? rc : read_events(c, r);
}

/* ---- lists --------------------------------------------------------------- */

/* Every filter in one statement: a NULL parameter leaves its condition out
 * ($1 account .. $7 to, $8 limit). */
static int list_messages(sg__pg_conn_t *c, sg__store_req_t *r) {
  const sg_store_filter_t *f = &r->in.filter;
  sg_store_list_res_t *out = &r->out.list;
  sg__pg_params_t p = {0};
  sg__pg_p_opt_i64(&p, f->account_id);
  sg__pg_p_text(&p, f->status ? sg_store_status_name(f->status) : NULL);
  sg__pg_p_text(&p, f->recipient);
  sg__pg_p_text(&p, f->batch_id);
  sg__pg_p_text(&p, f->cursor);
  sg__pg_p_opt_i64(&p, f->from_ms);
  sg__pg_p_opt_i64(&p, f->to_ms);
  sg__pg_p_i64(&p, (int64_t)f->limit + 1); /* one more: is there a next? */
  int rc;
  PGresult *res = sg__pg_run(
      c,
      "SELECT " SG__PG_MSG_COLS " FROM messages WHERE ($1::bigint IS NULL OR "
      "account_id = $1) AND ($2::text IS NULL OR status = $2) AND ($3::text "
      "IS NULL OR recipient = $3) AND ($4::text IS NULL OR batch_id = $4) "
      "AND ($5::text IS NULL OR id < $5) AND ($6::bigint IS NULL OR "
      "created_ms >= $6) AND ($7::bigint IS NULL OR created_ms < $7) ORDER "
      "BY id DESC LIMIT $8",
      &p, &rc);
  size_t rows = rc == 0 ? (size_t)PQntuples(res) : 0;
  size_t n = rows > f->limit ? f->limit : rows;
  sg_store_message_t *msgs =
      sg__arena_alloc(&r->arena, (f->limit ? f->limit : 1) * sizeof *msgs);
  bool ok = msgs != NULL;
  for (size_t i = 0; ok && i < n; i++)
    sg__pg_read_message(&r->arena, res, (int)i, &msgs[i], &ok);
  PQclear(res);
  if (rc < 0 || !ok)
    return rc < 0 ? rc : SG_ENOMEM;
  out->msgs = msgs;
  out->n = n;
  if (rows > n && n > 0)
    memcpy(out->next_cursor, msgs[n - 1].id, sizeof out->next_cursor);
  return 0;
}

/* ---- counts, accounts ---------------------------------------------------- */

static int count_by_status(sg__pg_conn_t *c, const char *sql,
                           uint64_t by_status[SG_MSG_STATUS_COUNT]) {
  int rc;
  PGresult *res = sg__pg_run(c, sql, NULL, &rc);
  for (int i = 0; rc == 0 && i < PQntuples(res); i++)
    by_status[sg__pg_status(res, i, 0)] += (uint64_t)sg__pg_i64(res, i, 1);
  PQclear(res);
  return rc;
}

static int counts(sg__pg_conn_t *c, sg__store_req_t *r) {
  sg_store_counts_t *k = &r->out.counts;
  int rc = count_by_status(
      c, "SELECT status, count(*) FROM messages GROUP BY status", k->messages);
  if (rc == 0)
    rc = count_by_status(
        c, "SELECT status, count(*) FROM parts GROUP BY status", k->parts);
  if (rc < 0)
    return rc;
  PGresult *res = sg__pg_run(
      c,
      "SELECT (SELECT count(*) FROM webhooks WHERE status IN ('pending', "
      "'sending')), (SELECT count(*) FROM webhooks WHERE status = 'failed'), "
      "(SELECT count(*) FROM inbound)",
      NULL, &rc);
  if (rc == 0) {
    k->webhooks_pending = (uint64_t)sg__pg_i64(res, 0, 0);
    k->webhooks_failed = (uint64_t)sg__pg_i64(res, 0, 1);
    k->inbound = (uint64_t)sg__pg_i64(res, 0, 2);
  }
  PQclear(res);
  return rc;
}

static int find_account(sg__pg_conn_t *c, sg__store_req_t *r) {
  bool by_key = r->kind == SG__REQ_APIKEY_LOOKUP;
  sg__pg_params_t p = {0};
  if (by_key)
    sg__pg_p_blob(&p, r->in.apikey.hash, SG_STORE_KEY_HASH_BYTES);
  else
    sg__pg_p_text(&p, r->in.name);
  int rc;
  PGresult *res = sg__pg_run(
      c,
      by_key ? "SELECT a.id, a.name, a.password_hash, a.webhook_url, "
               "a.disabled, a.created_ms, k.id FROM api_keys k JOIN accounts "
               "a ON a.id = k.account_id WHERE k.key_hash = $1 AND "
               "k.revoked_ms IS NULL"
             : "SELECT id, name, password_hash, webhook_url, disabled, "
               "created_ms, 0 FROM accounts WHERE name = $1",
      &p, &rc);
  if (rc == 0 && PQntuples(res) != 1)
    rc = SG_ENOENT;
  bool ok = true;
  sg_store_account_t *a = &r->out.account;
  if (rc == 0) {
    a->id = sg__pg_i64(res, 0, 0);
    a->name = sg__pg_text(&r->arena, res, 0, 1, &ok);
    a->password_hash = sg__pg_text(&r->arena, res, 0, 2, &ok);
    a->webhook_url = sg__pg_text(&r->arena, res, 0, 3, &ok);
    a->disabled = sg__pg_i64(res, 0, 4) != 0;
    a->created_ms = sg__pg_i64(res, 0, 5);
    a->key_id = sg__pg_i64(res, 0, 6);
  }
  PQclear(res);
  return rc < 0 ? rc : ok ? 0 : SG_ENOMEM;
}

/* A connector's parts still waiting for a receipt, by smsc_id. */
static int waiting_parts(sg__pg_conn_t *c, sg__store_req_t *r) {
  sg__pg_params_t p = {0};
  sg__pg_p_text(&p, r->in.waiting.connector);
  sg__pg_p_i64(&p, r->in.waiting.since_ms);
  sg__pg_p_i64(&p, r->in.waiting.max);
  int rc;
  PGresult *res = sg__pg_run(c,
                             "SELECT smsc_id FROM parts WHERE connector = $1 "
                             "AND smsc_id IS NOT NULL AND status = 'sent' AND "
                             "updated_ms >= $2 ORDER BY updated_ms DESC "
                             "LIMIT $3",
                             &p, &rc);
  size_t n = rc == 0 ? (size_t)PQntuples(res) : 0;
  const char **ids = sg__arena_alloc(&r->arena, (n ? n : 1) * sizeof *ids);
  bool ok = ids != NULL;
  for (size_t i = 0; ok && i < n; i++)
    ids[i] = sg__pg_text(&r->arena, res, (int)i, 0, &ok);
  PQclear(res);
  r->out.ids.ids = ids;
  r->out.ids.n = ok ? n : 0;
  return rc < 0 ? rc : ok ? 0 : SG_ENOMEM;
}

static int dispatch(sg__pg_conn_t *c, sg__store_req_t *r) {
  switch (r->kind) {
  case SG__REQ_GET_MESSAGE:
    return get_message(c, r);
  case SG__REQ_LIST_MESSAGES:
    return list_messages(c, r);
  case SG__REQ_COUNTS:
    return counts(c, r);
  case SG__REQ_APIKEY_LOOKUP:
  case SG__REQ_ACCOUNT_BY_NAME:
    return find_account(c, r);
  case SG__REQ_WAITING_PARTS:
    return waiting_parts(c, r);
  default:
    return sg__pg_misc_read(c, r);
  }
}

/* The statement timeout of a read of kind `kind`, in ms (0: none). Only
 * the counts of /metrics get one: they scan the two largest tables in the
 * background, every few seconds, and nobody waits for them, so on a huge
 * table one could hold its snapshot (and VACUUM's horizon) for minutes.
 * The other reads are bounded by their indexes and a LIMIT (lists, a
 * message, waiting parts), or read traffic_minutes (one row per account
 * and minute) and the campaigns' own rows, and someone waits for their
 * answer; the traffic pruning is a write, at most 1,000 rows a pass
 * through the index on minute (pg_trafficp.c). */
static int64_t read_timeout_ms(const sg__pg_conn_t *c, sg__req_kind_t kind) {
  if (kind != SG__REQ_COUNTS)
    return 0;
  int64_t t = c->st->cfg.count_timeout_ms;
  return t == 0 ? 10000 : t < 0 ? 0 : t;
}

int sg__pg_run_read(sg__pg_conn_t *c, sg__store_req_t *r) {
  /* SET LOCAL, in the same round trip as BEGIN: the timeout ends with the
   * transaction, so the connection's other reads (and the reader after a
   * reconnect) never inherit it. */
  char begin[128] = "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY";
  int64_t timeout = read_timeout_ms(c, r->kind);
  if (timeout > 0)
    snprintf(begin + strlen(begin), sizeof begin - strlen(begin),
             "; SET LOCAL statement_timeout = %lld", (long long)timeout);
  if (sg__pg_cmd(c, begin) != 0)
    return SG_EIO;
  int rc = dispatch(c, r);
  /* 57014, query_canceled: the statement timeout fired. */
  if (rc == SG_EIO && timeout > 0 && strcmp(c->last_state, "57014") == 0)
    rc = SG_ETIMEDOUT;
  /* A read transaction has nothing to keep: end it either way. */
  if (sg__pg_cmd(c, "COMMIT") != 0)
    sg__pg_cmd(c, "ROLLBACK");
  return rc;
}
