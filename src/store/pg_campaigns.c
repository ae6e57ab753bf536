/* pg_campaigns.c - the PostgreSQL side of store_campaigns.c (tables of
 * migration 0015): campaigns, their lists, the expansion of the lists into
 * recipients, the release of recipients, and the cancellation of a
 * campaign's queued messages, with the rows and answers of
 * sqlite_campaigns.c. The progress counters are kept by the migration's
 * triggers on messages.
 *
 * Writes run on the writer inside the group's transaction; a write that
 * fails either fails before it changed a row or is undone by the writer's
 * rerun. Reads run on a reader. The expansion moves its cursor in the
 * transaction of the recipients it inserted, so that it is resumable; the
 * campaign's row is locked FOR UPDATE by the writes that read it first,
 * as the writers of several nodes may share a campaign. This file must
 * never count over a campaign's recipients or messages to answer a read:
 * the counters are kept in the campaign's row.
 */
#include <stdio.h>
#include <string.h>

#include "core/error.h"
#include "store/campaigns_int.h"
#include "store/pg_kinds.h"
#include "store/postgres_msg.h"

enum {
  ST_PENDING = 0,
  ST_RELEASING,
  ST_RELEASED,
  ST_OPTOUT,
  ST_INVALID,
  ST_CANCELLED /* never sent: the campaign was cancelled (migration 0022) */
};

#define RCPT_CANCEL_MAX 5000 /* unsent recipients one CANCEL_STEP ends */

/* sg__pg_one's answer as 0, SG_ENOENT (no row) or the error. */
static int one(sg__pg_conn_t *c, const char *sql, const sg__pg_params_t *p,
               int64_t *v) {
  int rc = sg__pg_one(c, sql, p, v);
  return rc < 0 ? rc : rc == 1 ? 0 : SG_ENOENT;
}

/* ---- reading a campaign's row -------------------------------------------- */

#define CAMPAIGN_COLS                                                          \
  "id, account_id, name, status, body, template_id, sender, send_at_ms, "      \
  "window_start, window_end, rate_per_minute, validity_ms, callback_url, "     \
  "error, created_ms, updated_ms, started_ms, completed_ms, expanded, "        \
  "next_rel, n_recipients, n_pending, n_optout, n_duplicate, n_invalid, "      \
  "n_queued, n_sent, n_delivered, n_failed, n_canceled"

static uint64_t col_u64(const PGresult *res, int row, int i) {
  int64_t v = sg__pg_i64(res, row, i);
  return v < 0 ? 0 : (uint64_t)v;
}

static int col_window(const PGresult *res, int row, int i) {
  return sg__pg_null(res, row, i) ? -1 : (int)sg__pg_i64(res, row, i);
}

static void read_counts(const PGresult *res, int row, sg_store_campaign_t *k) {
  k->recipients = col_u64(res, row, 20);
  k->pending = col_u64(res, row, 21);
  k->optout = col_u64(res, row, 22);
  k->duplicate = col_u64(res, row, 23);
  k->invalid = col_u64(res, row, 24);
  k->queued = col_u64(res, row, 25);
  k->sent = col_u64(res, row, 26);
  k->delivered = col_u64(res, row, 27);
  k->failed = col_u64(res, row, 28);
  k->canceled = col_u64(res, row, 29);
}

static void read_campaign(sg__arena_t *a, const PGresult *res, int row,
                          sg_store_campaign_t *k, bool *ok) {
  snprintf(k->id, sizeof k->id, "%s", PQgetvalue(res, row, 0));
  k->account_id = sg__pg_i64(res, row, 1);
  k->name = sg__pg_text(a, res, row, 2, ok);
  if (sg_campaign_status_parse(PQgetvalue(res, row, 3), &k->status) != 0)
    k->status = SG_CAMPAIGN_PAUSED;
  k->body = sg__pg_text(a, res, row, 4, ok);
  k->template_id = sg__pg_i64(res, row, 5);
  k->sender = sg__pg_text(a, res, row, 6, ok);
  k->send_at_ms = sg__pg_i64(res, row, 7);
  k->window_start = col_window(res, row, 8);
  k->window_end = col_window(res, row, 9);
  k->rate_per_minute = (uint32_t)sg__pg_i64(res, row, 10);
  k->validity_ms = sg__pg_i64(res, row, 11);
  k->callback_url = sg__pg_text(a, res, row, 12, ok);
  k->error = sg__pg_text(a, res, row, 13, ok);
  k->created_ms = sg__pg_i64(res, row, 14);
  k->updated_ms = sg__pg_i64(res, row, 15);
  k->started_ms = sg__pg_i64(res, row, 16);
  k->completed_ms = sg__pg_i64(res, row, 17);
  k->expanded = sg__pg_i64(res, row, 18) != 0;
  k->next_rel = sg__pg_i64(res, row, 19);
  read_counts(res, row, k);
}

static int read_lists(sg__pg_conn_t *c, sg__arena_t *a,
                      sg_store_campaign_t *k) {
  sg__pg_params_t p = {0};
  sg__pg_p_text(&p, k->id);
  int rc;
  PGresult *res = sg__pg_run(c,
                             "SELECT list_id FROM campaign_lists WHERE "
                             "campaign_id = $1 ORDER BY pos",
                             &p, &rc);
  int64_t *ids = sg__arena_alloc(a, SG_STORE_CAMPAIGN_LISTS_MAX * sizeof *ids);
  size_t n = rc == 0 ? (size_t)PQntuples(res) : 0;
  if (n > SG_STORE_CAMPAIGN_LISTS_MAX)
    n = SG_STORE_CAMPAIGN_LISTS_MAX;
  for (size_t i = 0; ids != NULL && i < n; i++)
    ids[i] = sg__pg_i64(res, (int)i, 0);
  PQclear(res);
  if (rc < 0 || ids == NULL)
    return rc < 0 ? rc : SG_ENOMEM;
  k->lists = ids;
  k->n_lists = n;
  return 0;
}

/* Reads campaign id (of account, 0: any) into a one-row result. */
static int get_one(sg__pg_conn_t *c, sg__store_req_t *r, const char *id,
                   int64_t account, bool lists) {
  sg__campaigns_req_t *q = r->in.campaigns;
  sg__pg_params_t p = {0};
  sg__pg_p_text(&p, id);
  sg__pg_p_i64(&p, account);
  int rc;
  PGresult *res = sg__pg_run(c,
                             "SELECT " CAMPAIGN_COLS " FROM campaigns WHERE "
                             "id = $1 AND ($2::bigint = 0 OR account_id = $2)",
                             &p, &rc);
  sg_store_campaign_t *k = sg__arena_alloc(&r->arena, sizeof *k);
  bool found = rc == 0 && PQntuples(res) > 0, ok = k != NULL;
  if (found && ok)
    read_campaign(&r->arena, res, 0, k, &ok);
  PQclear(res);
  if (rc < 0)
    return rc;
  if (!ok)
    return SG_ENOMEM;
  if (!found)
    return SG_ENOENT;
  q->res.campaigns = k;
  q->res.n_campaigns = 1;
  return lists ? read_lists(c, &r->arena, k) : 0;
}

/* ---- create -------------------------------------------------------------- */

/* 0 when the lists and the template (when one is named and no body is)
 * are the account's; else SG_ENOENT with res.bad_list the missing list (0:
 * the template). Checked before anything is written, since a failed
 * statement would end the group's transaction. */
static int check_refs(sg__pg_conn_t *c, sg__campaigns_req_t *q) {
  const sg_store_campaign_in_t *in = &q->op.in;
  int64_t v = 0;
  for (size_t i = 0; i < in->n_lists; i++) {
    sg__pg_params_t p = {0};
    sg__pg_p_i64(&p, in->lists[i]);
    sg__pg_p_i64(&p, q->op.account_id);
    int rc = one(c,
                 "SELECT id FROM contact_lists WHERE id = $1 AND account_id "
                 "= $2",
                 &p, &v);
    if (rc != 0) {
      q->res.bad_list = in->lists[i];
      return rc;
    }
  }
  if (in->body != NULL || in->template_id <= 0)
    return 0;
  sg__pg_params_t p = {0};
  sg__pg_p_i64(&p, in->template_id);
  sg__pg_p_i64(&p, q->op.account_id);
  int rc = one(c, "SELECT 1 FROM templates WHERE id = $1 AND account_id = $2",
               &p, &v);
  if (rc == SG_ENOENT)
    q->res.bad_list = 0;
  return rc;
}

static int insert_lists(sg__pg_conn_t *c, const sg_store_campaign_in_t *in) {
  int rc = 0;
  for (size_t i = 0; rc == 0 && i < in->n_lists; i++) {
    sg__pg_params_t p = {0};
    sg__pg_p_text(&p, in->id);
    sg__pg_p_i64(&p, (int64_t)i);
    sg__pg_p_i64(&p, in->lists[i]);
    rc = sg__pg_do(c,
                   "INSERT INTO campaign_lists (campaign_id, pos, list_id) "
                   "VALUES ($1, $2, $3)",
                   &p, NULL);
  }
  return rc;
}

static int create(sg__pg_conn_t *c, sg__store_req_t *r, int64_t now) {
  sg__campaigns_req_t *q = r->in.campaigns;
  const sg_store_campaign_in_t *in = &q->op.in;
  int rc = check_refs(c, q);
  if (rc != 0)
    return rc;
  sg__pg_params_t p = {0};
  sg__pg_p_text(&p, in->id);
  sg__pg_p_i64(&p, q->op.account_id);
  sg__pg_p_text(&p, in->name);
  sg__pg_p_text(&p, in->body);
  sg__pg_p_opt_i64(&p, in->template_id > 0 ? in->template_id : 0);
  sg__pg_p_text(&p, in->sender);
  sg__pg_p_opt_i64(&p, in->send_at_ms);
  if (in->window_start >= 0) {
    sg__pg_p_i64(&p, in->window_start);
    sg__pg_p_i64(&p, in->window_end);
  } else {
    sg__pg_p_null(&p);
    sg__pg_p_null(&p);
  }
  sg__pg_p_i64(&p, in->rate_per_minute);
  sg__pg_p_i64(&p, in->validity_ms);
  sg__pg_p_text(&p, in->callback_url);
  sg__pg_p_i64(&p, now);
  rc = sg__pg_do(
      c,
      "INSERT INTO campaigns (id, account_id, name, status, body, "
      "template_id, sender, send_at_ms, window_start, window_end, "
      "rate_per_minute, validity_ms, callback_url, created_ms, updated_ms) "
      "VALUES ($1, $2, $3, 'scheduled', COALESCE($4::text, (SELECT body FROM "
      "templates WHERE id = $5 AND account_id = $2)), $5, $6, $7, $8, $9, "
      "$10, $11, $12, $13, $13)",
      &p, NULL);
  if (rc == 0)
    rc = insert_lists(c, in);
  return rc != 0 ? rc : get_one(c, r, in->id, 0, true);
}

/* ---- status changes ------------------------------------------------------ */

static const char *status_sql(sg_store_campop_kind_t k) {
  switch (k) {
  case SG_STORE_CAMPAIGN_START:
    return "UPDATE campaigns SET status = 'running', started_ms = "
           "COALESCE(started_ms, $3), updated_ms = $3 WHERE id = $1 AND "
           "($2::bigint = 0 OR account_id = $2) AND status = 'scheduled' AND "
           "$4::text IS NULL";
  case SG_STORE_CAMPAIGN_PAUSE:
    return "UPDATE campaigns SET status = 'paused', error = $4, updated_ms = "
           "$3 WHERE id = $1 AND ($2::bigint = 0 OR account_id = $2) AND "
           "status IN ('scheduled', 'running')";
  case SG_STORE_CAMPAIGN_RESUME:
    return "UPDATE campaigns SET status = CASE WHEN started_ms IS NULL THEN "
           "'scheduled' ELSE 'running' END, error = NULL, updated_ms = $3 "
           "WHERE id = $1 AND ($2::bigint = 0 OR account_id = $2) AND status "
           "= 'paused' AND $4::text IS NULL";
  case SG_STORE_CAMPAIGN_CANCEL:
    return "UPDATE campaigns SET status = 'cancelled', cancel_open = 1, "
           "completed_ms = $3, updated_ms = $3 WHERE id = $1 AND ($2::bigint "
           "= 0 OR account_id = $2) AND status IN ('scheduled', 'running', "
           "'paused') AND $4::text IS NULL";
  default: /* COMPLETE */
    return "UPDATE campaigns SET status = 'completed', completed_ms = $3, "
           "updated_ms = $3 WHERE id = $1 AND ($2::bigint = 0 OR account_id "
           "= $2) AND status = 'running' AND expanded = 1 AND n_pending = 0 "
           "AND n_queued = 0 AND $4::text IS NULL";
  }
}

static int set_status(sg__pg_conn_t *c, sg__store_req_t *r, int64_t now) {
  sg__campaigns_req_t *q = r->in.campaigns;
  sg__pg_params_t p = {0};
  sg__pg_p_text(&p, q->op.id);
  sg__pg_p_i64(&p, q->op.account_id);
  sg__pg_p_i64(&p, now);
  sg__pg_p_text(&p, q->op.kind == SG_STORE_CAMPAIGN_PAUSE ? q->op.error : NULL);
  uint64_t n = 0;
  int rc = sg__pg_do(c, status_sql(q->op.kind), &p, &n);
  if (rc != 0)
    return rc;
  rc = get_one(c, r, q->op.id, q->op.account_id, false);
  return rc != 0 ? rc : n > 0 ? 0 : SG_ESTATE;
}

/* ---- expansion ----------------------------------------------------------- */

typedef struct expand_st {
  int64_t account;
  int64_t pos, after;
  bool expanded;
  uint64_t taken, pending, optout, dup;
} expand_st_t;

static int expand_load(sg__pg_conn_t *c, const char *id, expand_st_t *x) {
  sg__pg_params_t p = {0};
  sg__pg_p_text(&p, id);
  int rc;
  PGresult *res = sg__pg_run(c,
                             "SELECT account_id, exp_pos, exp_after, "
                             "expanded, status FROM campaigns WHERE id = $1 "
                             "FOR UPDATE",
                             &p, &rc);
  bool found = rc == 0 && PQntuples(res) > 0, live = false;
  if (found) {
    x->account = sg__pg_i64(res, 0, 0);
    x->pos = sg__pg_i64(res, 0, 1);
    x->after = sg__pg_i64(res, 0, 2);
    x->expanded = sg__pg_i64(res, 0, 3) != 0;
    const char *st = PQgetvalue(res, 0, 4);
    live = strcmp(st, "running") == 0 || strcmp(st, "paused") == 0;
  }
  PQclear(res);
  if (rc < 0)
    return rc;
  if (!found)
    return SG_ENOENT;
  return live ? 0 : SG_ESTATE;
}

/* The list at position pos, or 0 when the lists are done. */
static int list_at(sg__pg_conn_t *c, const char *id, int64_t pos,
                   int64_t *list) {
  sg__pg_params_t p = {0};
  sg__pg_p_text(&p, id);
  sg__pg_p_i64(&p, pos);
  int rc = one(c,
               "SELECT list_id FROM campaign_lists WHERE campaign_id = $1 AND "
               "pos = $2",
               &p, list);
  if (rc == SG_ENOENT) {
    *list = 0;
    return 0;
  }
  return rc;
}

static int insert_rcpt(sg__pg_conn_t *c, const char *id, const PGresult *res,
                       int row, expand_st_t *x) {
  bool optout = PQgetvalue(res, row, 2)[0] == 't';
  sg__pg_params_t p = {0};
  sg__pg_p_text(&p, id);
  sg__pg_p_text(&p, PQgetvalue(res, row, 1));
  sg__pg_p_i64(&p, sg__pg_i64(res, row, 0));
  sg__pg_p_i64(&p, optout ? ST_OPTOUT : ST_PENDING);
  uint64_t n = 0;
  int rc = sg__pg_do(c,
                     "INSERT INTO campaign_recipients (campaign_id, number, "
                     "contact_id, state) VALUES ($1, $2, $3, $4) ON CONFLICT "
                     "DO NOTHING",
                     &p, &n);
  if (rc != 0)
    return rc;
  x->taken++;
  if (n == 0)
    x->dup++;
  else if (optout)
    x->optout++;
  else
    x->pending++;
  return 0;
}

/* Takes up to `budget` members of `list` after x->after; *n is how many. */
static int expand_list(sg__pg_conn_t *c, const char *id, int64_t list,
                       unsigned budget, expand_st_t *x, unsigned *n) {
  sg__pg_params_t p = {0};
  sg__pg_p_i64(&p, list);
  sg__pg_p_i64(&p, x->after);
  sg__pg_p_i64(&p, budget);
  int rc;
  PGresult *res = sg__pg_run(
      c,
      "SELECT m.contact_id, c.number, EXISTS (SELECT 1 FROM optouts o WHERE "
      "o.account_id = c.account_id AND o.number = c.number) FROM "
      "list_members m JOIN contacts c ON c.id = m.contact_id WHERE m.list_id "
      "= $1 AND m.contact_id > $2 ORDER BY m.contact_id LIMIT $3",
      &p, &rc);
  int rows = rc == 0 ? PQntuples(res) : 0;
  *n = 0;
  for (int i = 0; rc == 0 && i < rows; i++) {
    rc = insert_rcpt(c, id, res, i, x);
    x->after = sg__pg_i64(res, i, 0);
    (*n)++;
  }
  PQclear(res);
  return rc;
}

static int expand_save(sg__pg_conn_t *c, const char *id, const expand_st_t *x,
                       int64_t now) {
  sg__pg_params_t p = {0};
  sg__pg_p_text(&p, id);
  sg__pg_p_i64(&p, x->pos);
  sg__pg_p_i64(&p, x->after);
  sg__pg_p_i64(&p, x->expanded ? 1 : 0);
  sg__pg_p_i64(&p, (int64_t)x->taken);
  sg__pg_p_i64(&p, (int64_t)x->pending);
  sg__pg_p_i64(&p, (int64_t)x->optout);
  sg__pg_p_i64(&p, (int64_t)x->dup);
  sg__pg_p_i64(&p, now);
  return sg__pg_do(c,
                   "UPDATE campaigns SET exp_pos = $2, exp_after = $3, "
                   "expanded = $4, n_recipients = n_recipients + $5, "
                   "n_pending = n_pending + $6, n_optout = n_optout + $7, "
                   "n_duplicate = n_duplicate + $8, updated_ms = $9 WHERE id "
                   "= $1",
                   &p, NULL);
}

static int expand(sg__pg_conn_t *c, sg__store_req_t *r, int64_t now) {
  sg__campaigns_req_t *q = r->in.campaigns;
  const char *id = q->op.id;
  expand_st_t x = {0};
  int rc = expand_load(c, id, &x);
  if (rc != 0 || (q->op.account_id != 0 && x.account != q->op.account_id))
    return rc != 0 ? rc : SG_ENOENT;
  unsigned budget = q->op.limit;
  while (rc == 0 && !x.expanded && budget > 0) {
    int64_t list;
    unsigned n = 0;
    rc = list_at(c, id, x.pos, &list);
    if (rc == 0 && list == 0)
      x.expanded = true;
    else if (rc == 0)
      rc = expand_list(c, id, list, budget, &x, &n);
    if (rc == 0 && !x.expanded && n < budget) {
      x.pos++; /* this list is done */
      x.after = 0;
    }
    budget -= n;
  }
  /* A chunk that ends exactly at a list's end finds that out next time. */
  if (rc == 0)
    rc = expand_save(c, id, &x, now);
  q->res.changed = (size_t)x.taken;
  q->res.expanded = x.expanded;
  return rc;
}

/* ---- release ------------------------------------------------------------- */

static int take(sg__pg_conn_t *c, sg__store_req_t *r, int64_t now) {
  sg__campaigns_req_t *q = r->in.campaigns;
  int64_t rel = 0;
  sg__pg_params_t p = {0};
  sg__pg_p_text(&p, q->op.id);
  sg__pg_p_i64(&p, q->op.account_id);
  int rc = one(c,
               "SELECT next_rel FROM campaigns WHERE id = $1 AND ($2::bigint "
               "= 0 OR account_id = $2) FOR UPDATE",
               &p, &rel);
  for (size_t i = 0; rc == 0 && i < q->op.n_ids; i++) {
    sg__pg_params_t u = {0};
    sg__pg_p_text(&u, q->op.id);
    sg__pg_p_i64(&u, q->op.ids[i]);
    sg__pg_p_i64(&u, rel);
    uint64_t n = 0;
    rc = sg__pg_do(c,
                   "UPDATE campaign_recipients SET state = 1, rel = $3 WHERE "
                   "id = $2 AND campaign_id = $1 AND state = 0",
                   &u, &n);
    q->res.changed += (size_t)n;
  }
  if (rc != 0)
    return rc;
  sg__pg_params_t s = {0};
  sg__pg_p_text(&s, q->op.id);
  sg__pg_p_i64(&s, now);
  q->res.rel = rel;
  return sg__pg_do(c,
                   "UPDATE campaigns SET next_rel = next_rel + 1, updated_ms = "
                   "$2 WHERE id = $1",
                   &s, NULL);
}

/* Marks rel's recipients of ids[] invalid; *n is how many. */
static int mark_invalid(sg__pg_conn_t *c, const sg_store_campop_t *op,
                        int64_t *n) {
  int rc = 0;
  for (size_t i = 0; rc == 0 && i < op->n_ids; i++) {
    sg__pg_params_t p = {0};
    sg__pg_p_text(&p, op->id);
    sg__pg_p_i64(&p, op->rel);
    sg__pg_p_i64(&p, op->ids[i]);
    uint64_t k = 0;
    rc = sg__pg_do(c,
                   "UPDATE campaign_recipients SET state = 4 WHERE id = $3 "
                   "AND campaign_id = $1 AND rel = $2 AND state = 1",
                   &p, &k);
    *n += (int64_t)k;
  }
  return rc;
}

static int released(sg__pg_conn_t *c, sg__store_req_t *r, int64_t now) {
  sg__campaigns_req_t *q = r->in.campaigns;
  int64_t invalid = 0;
  int rc = mark_invalid(c, &q->op, &invalid);
  if (rc != 0)
    return rc;
  sg__pg_params_t p = {0};
  sg__pg_p_text(&p, q->op.id);
  sg__pg_p_i64(&p, q->op.rel);
  uint64_t n = 0;
  rc = sg__pg_do(c,
                 "UPDATE campaign_recipients SET state = 2 WHERE campaign_id "
                 "= $1 AND rel = $2 AND state = 1",
                 &p, &n);
  if (rc != 0)
    return rc;
  int64_t total = invalid + (int64_t)n;
  q->res.changed = (size_t)total;
  sg__pg_params_t s = {0};
  sg__pg_p_text(&s, q->op.id);
  sg__pg_p_i64(&s, total);
  sg__pg_p_i64(&s, invalid);
  sg__pg_p_i64(&s, now);
  return sg__pg_do(c,
                   "UPDATE campaigns SET n_pending = n_pending - $2, "
                   "n_invalid = n_invalid + $3, updated_ms = $4 WHERE id = $1",
                   &s, NULL);
}

/* ---- cancelling queued messages ------------------------------------------ */

static int cancel_message(sg__pg_conn_t *c, sg__arena_t *a, const char *mid,
                          int64_t now) {
  static const sg__pg_cause_t why = {0, 0, "campaign cancelled", 0};
  sg__pg_params_t p = {0};
  sg__pg_p_text(&p, mid);
  sg__pg_p_i64(&p, now);
  int rc = sg__pg_do(c,
                     "UPDATE parts SET status = 'canceled', updated_ms = $2 "
                     "WHERE message_id = $1 AND status IN ('queued', "
                     "'scheduled')",
                     &p, NULL);
  return rc != 0
             ? rc
             : sg__pg_rederive(c, a, mid, SG_MSG_NONE, &why, now, NULL, NULL);
}

/* Runs an UPDATE of campaign_recipients binding the campaign id as $1
 * and, when limit > 0, a limit as $2; *n counts the rows changed. */
static int rcpt_update(sg__pg_conn_t *c, const char *sql, const char *id,
                       int64_t limit, int64_t *n) {
  sg__pg_params_t p = {0};
  sg__pg_p_text(&p, id);
  if (limit > 0)
    sg__pg_p_i64(&p, limit);
  uint64_t changed = 0;
  int rc = sg__pg_do(c, sql, &p, &changed);
  *n = rc == 0 ? (int64_t)changed : 0;
  return rc;
}

/* As sqlite_campaigns.c's: once no queued message is left, the recipients
 * still taken are released if their message was stored, and the unsent
 * ones become cancelled (RCPT_CANCEL_MAX a call), counted in n_canceled
 * instead of n_pending; when none is left, cancel_open = 0. */
static int cancel_rcpts(sg__pg_conn_t *c, const char *id, bool *more) {
  int64_t open = 0, released = 0, taken = 0, pending = 0;
  sg__pg_params_t q = {0};
  sg__pg_p_text(&q, id);
  int rc = one(c, "SELECT cancel_open FROM campaigns WHERE id = $1", &q,
               &open);
  if (rc != 0 || open != 1)
    return rc == SG_ENOENT ? 0 : rc; /* no cancel open: nothing to end */
  rc = rcpt_update(
      c,
      "UPDATE campaign_recipients r SET state = 2 WHERE r.campaign_id = $1 "
      "AND r.state = 1 AND EXISTS (SELECT 1 FROM messages m WHERE "
      "m.recipient = r.number AND m.batch_id = $1)",
      id, 0, &released);
  if (rc == 0)
    rc = rcpt_update(c,
                     "UPDATE campaign_recipients SET state = 5 WHERE "
                     "campaign_id = $1 AND state = 1",
                     id, 0, &taken);
  if (rc == 0)
    rc = rcpt_update(c,
                     "UPDATE campaign_recipients SET state = 5 WHERE id IN "
                     "(SELECT id FROM campaign_recipients WHERE campaign_id = "
                     "$1 AND state = 0 ORDER BY id LIMIT $2)",
                     id, RCPT_CANCEL_MAX, &pending);
  if (rc != 0)
    return rc;
  *more = pending == RCPT_CANCEL_MAX;
  sg__pg_params_t p = {0};
  sg__pg_p_text(&p, id);
  sg__pg_p_i64(&p, released + taken + pending);
  sg__pg_p_i64(&p, taken + pending);
  sg__pg_p_i64(&p, *more ? 1 : 0);
  return sg__pg_do(c,
                   "UPDATE campaigns SET n_pending = n_pending - $2, "
                   "n_canceled = n_canceled + $3, cancel_open = $4 WHERE id "
                   "= $1",
                   &p, NULL);
}

static int cancel_step(sg__pg_conn_t *c, sg__store_req_t *r, int64_t now) {
  sg__campaigns_req_t *q = r->in.campaigns;
  sg__pg_params_t p = {0};
  sg__pg_p_text(&p, q->op.id);
  sg__pg_p_text(&p, q->op.after != NULL ? q->op.after : "");
  sg__pg_p_i64(&p, (int64_t)q->op.limit + 1);
  int rc;
  /* The messages a claim holds are skipped: they are sending already. */
  PGresult *res = sg__pg_run(
      c,
      "SELECT id FROM messages WHERE batch_id = $1 AND id COLLATE \"C\" > "
      "$2::text AND status IN ('queued', 'scheduled') ORDER BY id COLLATE "
      "\"C\" LIMIT $3 FOR UPDATE SKIP LOCKED",
      &p, &rc);
  size_t rows = rc == 0 ? (size_t)PQntuples(res) : 0;
  const char **ids =
      sg__arena_alloc(&r->arena, (q->op.limit + 1) * sizeof *ids);
  bool ok = ids != NULL;
  size_t n = 0;
  for (size_t i = 0; ok && i < rows && n <= q->op.limit; i++)
    ids[n++] = sg__pg_text(&r->arena, res, (int)i, 0, &ok);
  PQclear(res);
  if (rc < 0 || !ok)
    return rc < 0 ? rc : SG_ENOMEM;
  q->res.more = n > q->op.limit;
  if (q->res.more)
    n = q->op.limit;
  for (size_t i = 0; rc == 0 && i < n; i++)
    rc = cancel_message(c, &r->arena, ids[i], now);
  q->res.changed = rc == 0 ? n : 0;
  if (n > 0)
    snprintf(q->res.next_after, sizeof q->res.next_after, "%s", ids[n - 1]);
  if (rc == 0 && !q->res.more)
    rc = cancel_rcpts(c, q->op.id, &q->res.more);
  return rc;
}

int sg__pg_campaigns_write(sg__pg_conn_t *c, sg__store_req_t *r, int64_t now) {
  sg__campaigns_req_t *q = r->in.campaigns;
  memset(&q->res, 0, sizeof q->res);
  switch (q->op.kind) {
  case SG_STORE_CAMPAIGN_CREATE:
    return create(c, r, now);
  case SG_STORE_CAMPAIGN_START:
  case SG_STORE_CAMPAIGN_PAUSE:
  case SG_STORE_CAMPAIGN_RESUME:
  case SG_STORE_CAMPAIGN_CANCEL:
  case SG_STORE_CAMPAIGN_COMPLETE:
    return set_status(c, r, now);
  case SG_STORE_CAMPAIGN_EXPAND:
    return expand(c, r, now);
  case SG_STORE_CAMPAIGN_TAKE:
    return take(c, r, now);
  case SG_STORE_CAMPAIGN_RELEASED:
    return released(c, r, now);
  case SG_STORE_CAMPAIGN_CANCEL_STEP:
    return cancel_step(c, r, now);
  default:
    return SG_EINVAL;
  }
}

/* ---- reads --------------------------------------------------------------- */

static int read_many(sg__store_req_t *r, PGresult *res, int rc,
                     unsigned limit) {
  sg__campaigns_req_t *q = r->in.campaigns;
  sg_store_campaign_t *ks =
      sg__arena_alloc(&r->arena, ((size_t)limit + 1) * sizeof *ks);
  size_t rows = rc == 0 ? (size_t)PQntuples(res) : 0, n = 0;
  bool ok = ks != NULL;
  while (ok && n <= limit && n < rows) {
    read_campaign(&r->arena, res, (int)n, &ks[n], &ok);
    n++;
  }
  PQclear(res);
  if (rc < 0 || !ok)
    return rc < 0 ? rc : SG_ENOMEM;
  if (n > limit) {
    n = limit;
    memcpy(q->res.next_after, ks[n - 1].id, sizeof q->res.next_after);
  }
  q->res.campaigns = ks;
  q->res.n_campaigns = n;
  return 0;
}

static int list(sg__pg_conn_t *c, sg__store_req_t *r) {
  sg__campaigns_req_t *q = r->in.campaigns;
  const char *after = q->op.after;
  sg__pg_params_t p = {0};
  sg__pg_p_i64(&p, q->op.account_id);
  sg__pg_p_text(&p, after != NULL && after[0] != '\0' ? after : NULL);
  sg__pg_p_i64(&p, (int64_t)q->op.limit + 1);
  int rc;
  PGresult *res = sg__pg_run(
      c,
      "SELECT " CAMPAIGN_COLS " FROM campaigns WHERE ($1::bigint = 0 OR "
      "account_id = $1) AND ($2::text IS NULL OR id COLLATE \"C\" < $2::text) "
      "ORDER BY id COLLATE \"C\" DESC LIMIT $3",
      &p, &rc);
  return read_many(r, res, rc, q->op.limit);
}

static int active(sg__pg_conn_t *c, sg__store_req_t *r) {
  sg__campaigns_req_t *q = r->in.campaigns;
  sg__pg_params_t p = {0};
  sg__pg_p_i64(&p, (int64_t)q->op.limit + 1);
  int rc;
  PGresult *res = sg__pg_run(c,
                             "SELECT " CAMPAIGN_COLS " FROM campaigns WHERE "
                             "status IN ('scheduled', 'running', 'paused') "
                             "OR cancel_open = 1 ORDER BY id COLLATE \"C\" "
                             "LIMIT $1",
                             &p, &rc);
  return read_many(r, res, rc, q->op.limit);
}

static int read_rcpts(sg__store_req_t *r, PGresult *res, int rc, unsigned limit,
                      bool contact) {
  sg__campaigns_req_t *q = r->in.campaigns;
  sg_store_campaign_rcpt_t *v =
      sg__arena_alloc(&r->arena, (size_t)(limit ? limit : 1) * sizeof *v);
  size_t rows = rc == 0 ? (size_t)PQntuples(res) : 0, n = 0;
  bool ok = v != NULL;
  for (; ok && n < limit && n < rows; n++) {
    int row = (int)n;
    v[n].id = sg__pg_i64(res, row, 0);
    v[n].number = sg__pg_text(&r->arena, res, row, 1, &ok);
    v[n].contact_id = sg__pg_i64(res, row, 2);
    if (contact) {
      v[n].name = sg__pg_text(&r->arena, res, row, 3, &ok);
      v[n].fields = sg__pg_text(&r->arena, res, row, 4, &ok);
    }
  }
  PQclear(res);
  if (rc < 0 || !ok)
    return rc < 0 ? rc : SG_ENOMEM;
  q->res.rcpts = v;
  q->res.n_rcpts = n;
  return 0;
}

#define RCPT_CONTACT                                                           \
  "r.id, r.number, r.contact_id, c.name, c.fields FROM campaign_recipients "   \
  "r LEFT JOIN contacts c ON c.id = r.contact_id"
#define RCPT_PLAIN "r.id, r.number, r.contact_id FROM campaign_recipients r"
#define PENDING_WHERE                                                          \
  " WHERE r.campaign_id = $1 AND r.state = 0 AND r.id > $2 ORDER BY r.id "     \
  "LIMIT $3"
#define RELEASING_WHERE                                                        \
  " WHERE r.campaign_id = $1 AND r.state = 1 AND r.rel = $2 ORDER BY r.id"

static int pending(sg__pg_conn_t *c, sg__store_req_t *r) {
  sg__campaigns_req_t *q = r->in.campaigns;
  sg__pg_params_t p = {0};
  sg__pg_p_text(&p, q->op.id);
  sg__pg_p_i64(&p, q->op.after_id);
  sg__pg_p_i64(&p, q->op.limit);
  int rc;
  PGresult *res =
      sg__pg_run(c,
                 q->op.with_contact ? "SELECT " RCPT_CONTACT PENDING_WHERE
                                    : "SELECT " RCPT_PLAIN PENDING_WHERE,
                 &p, &rc);
  return read_rcpts(r, res, rc, q->op.limit, q->op.with_contact);
}

static int releasing(sg__pg_conn_t *c, sg__store_req_t *r) {
  sg__campaigns_req_t *q = r->in.campaigns;
  sg__pg_params_t p = {0};
  sg__pg_p_text(&p, q->op.id);
  int64_t rel = 0;
  int rc = one(c,
               "SELECT min(rel) FROM campaign_recipients WHERE campaign_id = "
               "$1 AND state = 1",
               &p, &rel);
  if (rc != 0)
    return rc;
  q->res.rel = rel;
  if (rel == 0)
    return 0; /* min() of nothing is NULL: none taken */
  sg__pg_p_i64(&p, rel);
  PGresult *res =
      sg__pg_run(c,
                 q->op.with_contact ? "SELECT " RCPT_CONTACT RELEASING_WHERE
                                    : "SELECT " RCPT_PLAIN RELEASING_WHERE,
                 &p, &rc);
  return read_rcpts(r, res, rc, SG_STORE_CAMPAIGN_TAKE_MAX, q->op.with_contact);
}

int sg__pg_campaigns_read(sg__pg_conn_t *c, sg__store_req_t *r) {
  sg__campaigns_req_t *q = r->in.campaigns;
  memset(&q->res, 0, sizeof q->res);
  switch (q->op.kind) {
  case SG_STORE_CAMPAIGN_GET:
    return get_one(c, r, q->op.id, q->op.account_id, true);
  case SG_STORE_CAMPAIGN_LIST:
    return list(c, r);
  case SG_STORE_CAMPAIGN_ACTIVE:
    return active(c, r);
  case SG_STORE_CAMPAIGN_PENDING:
    return pending(c, r);
  case SG_STORE_CAMPAIGN_RELEASING:
    return releasing(c, r);
  default:
    return SG_EINVAL;
  }
}
