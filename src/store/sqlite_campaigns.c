/* sqlite_campaigns.c - the SQLite side of store_campaigns.c (tables of
 * migration 0015): campaigns, their lists, the expansion of the lists into
 * recipients, the release of recipients, and the cancellation of a
 * campaign's queued messages.
 *
 * Writes run on the writer thread inside the group's transaction; a write
 * that fails either fails before it changed a row or is undone by the
 * writer's rerun. Reads run on a reader connection. The expansion moves its
 * cursor in the transaction of the recipients it inserted, so that it is
 * resumable. This file must never count over a campaign's recipients or
 * messages to answer a read: the counters are kept in the campaign's row.
 */
#include <stdio.h>
#include <string.h>

#include "core/error.h"
#include "store/campaigns_int.h"
#include "store/sqlite_int.h"

enum {
  ST_PENDING = 0,
  ST_RELEASING,
  ST_RELEASED,
  ST_OPTOUT,
  ST_INVALID,
  ST_CANCELLED /* never sent: the campaign was cancelled (migration 0022) */
};

#define RCPT_CANCEL_MAX 5000 /* unsent recipients one CANCEL_STEP ends */

static sqlite3_stmt *prep(sg__sq_conn_t *c, const char *sql) {
  sqlite3_stmt *s = NULL;
  if (sqlite3_prepare_v2(c->db, sql, -1, &s, NULL) != SQLITE_OK) {
    sqlite3_finalize(s);
    return NULL;
  }
  return s;
}

/* Runs s to its end and finalizes it. */
static int run_done(sqlite3_stmt *s) {
  if (s == NULL)
    return SG_EIO;
  int rc = sg__sq_step_done(s);
  sqlite3_finalize(s);
  return sg__sq_err(rc);
}

/* The first column of the first row of s as an integer (finalized), or
 * SG_ENOENT when there is no row. */
static int one_int(sqlite3_stmt *s, int64_t *out) {
  if (s == NULL)
    return SG_EIO;
  int rc = sqlite3_step(s);
  if (rc == SQLITE_ROW)
    *out = sqlite3_column_int64(s, 0);
  sqlite3_finalize(s);
  return rc == SQLITE_ROW ? 0 : rc == SQLITE_DONE ? SG_ENOENT : SG_EIO;
}

static void bind_opt_int(sqlite3_stmt *s, int i, int64_t v, bool set) {
  if (set)
    sqlite3_bind_int64(s, i, v);
  else
    sqlite3_bind_null(s, i);
}

/* ---- reading a campaign's row ---------------------------------------------
 */

#define CAMPAIGN_COLS                                                          \
  "id, account_id, name, status, body, template_id, sender, send_at_ms, "      \
  "window_start, window_end, rate_per_minute, validity_ms, callback_url, "     \
  "error, created_ms, updated_ms, started_ms, completed_ms, expanded, "        \
  "next_rel, n_recipients, n_pending, n_optout, n_duplicate, n_invalid, "      \
  "n_queued, n_sent, n_delivered, n_failed, n_canceled"

static uint64_t col_u64(sqlite3_stmt *s, int i) {
  int64_t v = sqlite3_column_int64(s, i);
  return v < 0 ? 0 : (uint64_t)v;
}

static int col_window(sqlite3_stmt *s, int i) {
  return sqlite3_column_type(s, i) == SQLITE_NULL ? -1
                                                  : sqlite3_column_int(s, i);
}

static void read_counts(sqlite3_stmt *s, sg_store_campaign_t *k) {
  k->recipients = col_u64(s, 20);
  k->pending = col_u64(s, 21);
  k->optout = col_u64(s, 22);
  k->duplicate = col_u64(s, 23);
  k->invalid = col_u64(s, 24);
  k->queued = col_u64(s, 25);
  k->sent = col_u64(s, 26);
  k->delivered = col_u64(s, 27);
  k->failed = col_u64(s, 28);
  k->canceled = col_u64(s, 29);
}

static void read_campaign(sg__arena_t *a, sqlite3_stmt *s,
                          sg_store_campaign_t *k, bool *ok) {
  const char *id = (const char *)sqlite3_column_text(s, 0);
  snprintf(k->id, sizeof k->id, "%s", id != NULL ? id : "");
  k->account_id = sqlite3_column_int64(s, 1);
  k->name = sg__sq_col_text(a, s, 2, ok);
  const char *st = (const char *)sqlite3_column_text(s, 3);
  if (sg_campaign_status_parse(st, &k->status) != 0)
    k->status = SG_CAMPAIGN_PAUSED;
  k->body = sg__sq_col_text(a, s, 4, ok);
  k->template_id = sqlite3_column_int64(s, 5);
  k->sender = sg__sq_col_text(a, s, 6, ok);
  k->send_at_ms = sqlite3_column_int64(s, 7);
  k->window_start = col_window(s, 8);
  k->window_end = col_window(s, 9);
  k->rate_per_minute = (uint32_t)sqlite3_column_int64(s, 10);
  k->validity_ms = sqlite3_column_int64(s, 11);
  k->callback_url = sg__sq_col_text(a, s, 12, ok);
  k->error = sg__sq_col_text(a, s, 13, ok);
  k->created_ms = sqlite3_column_int64(s, 14);
  k->updated_ms = sqlite3_column_int64(s, 15);
  k->started_ms = sqlite3_column_int64(s, 16);
  k->completed_ms = sqlite3_column_int64(s, 17);
  k->expanded = sqlite3_column_int(s, 18) != 0;
  k->next_rel = sqlite3_column_int64(s, 19);
  read_counts(s, k);
}

static int read_lists(sg__sq_conn_t *c, sg__arena_t *a,
                      sg_store_campaign_t *k) {
  sqlite3_stmt *s = prep(c, "SELECT list_id FROM campaign_lists WHERE "
                            "campaign_id = ?1 ORDER BY pos");
  if (s == NULL)
    return SG_EIO;
  sg__sq_bind_text(s, 1, k->id);
  int64_t *ids = sg__arena_alloc(a, SG_STORE_CAMPAIGN_LISTS_MAX * sizeof *ids);
  size_t n = 0;
  int rc;
  while (ids != NULL && (rc = sqlite3_step(s)) == SQLITE_ROW &&
         n < SG_STORE_CAMPAIGN_LISTS_MAX)
    ids[n++] = sqlite3_column_int64(s, 0);
  sqlite3_finalize(s);
  if (ids == NULL)
    return SG_ENOMEM;
  k->lists = ids;
  k->n_lists = n;
  return 0;
}

/* Reads campaign id (of account, 0: any) into a one-row result. */
static int get_one(sg__sq_conn_t *c, sg__store_req_t *r, const char *id,
                   int64_t account, bool lists) {
  sg__campaigns_req_t *q = r->in.campaigns;
  sqlite3_stmt *s = prep(c, "SELECT " CAMPAIGN_COLS " FROM campaigns WHERE "
                            "id = ?1 AND (?2 = 0 OR account_id = ?2)");
  if (s == NULL)
    return SG_EIO;
  sg__sq_bind_text(s, 1, id);
  sqlite3_bind_int64(s, 2, account);
  sg_store_campaign_t *k = sg__arena_alloc(&r->arena, sizeof *k);
  bool ok = k != NULL;
  int rc = sqlite3_step(s);
  if (ok && rc == SQLITE_ROW)
    read_campaign(&r->arena, s, k, &ok);
  sqlite3_finalize(s);
  if (!ok)
    return SG_ENOMEM;
  if (rc != SQLITE_ROW)
    return rc == SQLITE_DONE ? SG_ENOENT : SG_EIO;
  q->res.campaigns = k;
  q->res.n_campaigns = 1;
  return lists ? read_lists(c, &r->arena, k) : 0;
}

/* ---- create -------------------------------------------------------------- */

static int check_refs(sg__sq_conn_t *c, sg__campaigns_req_t *q,
                      const char **body) {
  const sg_store_campaign_in_t *in = &q->op.in;
  for (size_t i = 0; i < in->n_lists; i++) {
    sqlite3_stmt *s = prep(c, "SELECT id FROM contact_lists WHERE id = ?1 "
                              "AND account_id = ?2");
    if (s != NULL) {
      sqlite3_bind_int64(s, 1, in->lists[i]);
      sqlite3_bind_int64(s, 2, q->op.account_id);
    }
    int64_t v;
    int rc = one_int(s, &v);
    if (rc != 0) {
      q->res.bad_list = in->lists[i];
      return rc;
    }
  }
  *body = in->body;
  return 0;
}

static int insert_lists(sg__sq_conn_t *c, const sg_store_campaign_in_t *in) {
  int rc = 0;
  for (size_t i = 0; rc == 0 && i < in->n_lists; i++) {
    sqlite3_stmt *s = prep(c, "INSERT INTO campaign_lists (campaign_id, pos, "
                              "list_id) VALUES (?1, ?2, ?3)");
    if (s != NULL) {
      sg__sq_bind_text(s, 1, in->id);
      sqlite3_bind_int64(s, 2, (int64_t)i);
      sqlite3_bind_int64(s, 3, in->lists[i]);
    }
    rc = run_done(s);
  }
  return rc;
}

static int create(sg__sq_conn_t *c, sg__store_req_t *r, int64_t now) {
  sg__campaigns_req_t *q = r->in.campaigns;
  const sg_store_campaign_in_t *in = &q->op.in;
  const char *body = NULL;
  int rc = check_refs(c, q, &body);
  if (rc != 0)
    return rc;
  sqlite3_stmt *s = prep(
      c, "INSERT INTO campaigns (id, account_id, name, status, body, "
         "template_id, sender, send_at_ms, window_start, window_end, "
         "rate_per_minute, validity_ms, callback_url, created_ms, updated_ms) "
         "VALUES (?1, ?2, ?3, 'scheduled', COALESCE(?4, (SELECT body FROM "
         "templates WHERE id = ?5 AND account_id = ?2)), ?5, ?6, ?7, ?8, ?9, "
         "?10, ?11, ?12, ?13, ?13)");
  if (s == NULL)
    return SG_EIO;
  sg__sq_bind_text(s, 1, in->id);
  sqlite3_bind_int64(s, 2, q->op.account_id);
  sg__sq_bind_text(s, 3, in->name);
  sg__sq_bind_text(s, 4, body);
  bind_opt_int(s, 5, in->template_id, in->template_id > 0);
  sg__sq_bind_text(s, 6, in->sender);
  sg__sq_bind_opt_ms(s, 7, in->send_at_ms);
  bind_opt_int(s, 8, in->window_start, in->window_start >= 0);
  bind_opt_int(s, 9, in->window_end, in->window_start >= 0);
  sqlite3_bind_int64(s, 10, in->rate_per_minute);
  sqlite3_bind_int64(s, 11, in->validity_ms);
  sg__sq_bind_text(s, 12, in->callback_url);
  sqlite3_bind_int64(s, 13, now);
  rc = sqlite3_step(s);
  sqlite3_finalize(s);
  if (rc != SQLITE_DONE) {
    /* body NOT NULL: the template is missing or another account's. */
    if ((rc & 0xff) == SQLITE_CONSTRAINT && in->template_id > 0 &&
        body == NULL) {
      sqlite3_stmt *t = prep(c, "SELECT 1 FROM templates WHERE id = ?1 AND "
                                "account_id = ?2");
      int64_t v;
      if (t != NULL) {
        sqlite3_bind_int64(t, 1, in->template_id);
        sqlite3_bind_int64(t, 2, q->op.account_id);
      }
      if (one_int(t, &v) == SG_ENOENT) {
        q->res.bad_list = 0;
        return SG_ENOENT;
      }
    }
    return sg__sq_err(rc);
  }
  rc = sg__sq_campaign_known(c, in->id); /* counted from the first */
  if (rc == 0)
    rc = insert_lists(c, in);
  return rc != 0 ? rc : get_one(c, r, in->id, 0, true);
}

/* ---- status changes ------------------------------------------------------ */

static const char *status_sql(sg_store_campop_kind_t k) {
  switch (k) {
  case SG_STORE_CAMPAIGN_START:
    return "UPDATE campaigns SET status = 'running', started_ms = "
           "COALESCE(started_ms, ?3), updated_ms = ?3 WHERE id = ?1 AND "
           "(?2 = 0 OR account_id = ?2) AND status = 'scheduled'";
  case SG_STORE_CAMPAIGN_PAUSE:
    return "UPDATE campaigns SET status = 'paused', error = ?4, updated_ms = "
           "?3 WHERE id = ?1 AND (?2 = 0 OR account_id = ?2) AND status IN "
           "('scheduled', 'running')";
  case SG_STORE_CAMPAIGN_RESUME:
    return "UPDATE campaigns SET status = CASE WHEN started_ms IS NULL THEN "
           "'scheduled' ELSE 'running' END, error = NULL, updated_ms = ?3 "
           "WHERE id = ?1 AND (?2 = 0 OR account_id = ?2) AND status = "
           "'paused'";
  case SG_STORE_CAMPAIGN_CANCEL:
    return "UPDATE campaigns SET status = 'cancelled', cancel_open = 1, "
           "completed_ms = ?3, updated_ms = ?3 WHERE id = ?1 AND (?2 = 0 OR "
           "account_id = ?2) AND status IN ('scheduled', 'running', 'paused')";
  default: /* COMPLETE */
    return "UPDATE campaigns SET status = 'completed', completed_ms = ?3, "
           "updated_ms = ?3 WHERE id = ?1 AND (?2 = 0 OR account_id = ?2) "
           "AND status = 'running' AND expanded = 1 AND n_pending = 0 AND "
           "n_queued = 0";
  }
}

static int set_status(sg__sq_conn_t *c, sg__store_req_t *r, int64_t now) {
  sg__campaigns_req_t *q = r->in.campaigns;
  sqlite3_stmt *s = prep(c, status_sql(q->op.kind));
  if (s == NULL)
    return SG_EIO;
  sg__sq_bind_text(s, 1, q->op.id);
  sqlite3_bind_int64(s, 2, q->op.account_id);
  sqlite3_bind_int64(s, 3, now);
  if (q->op.kind == SG_STORE_CAMPAIGN_PAUSE)
    sg__sq_bind_text(s, 4, q->op.error);
  int rc = run_done(s);
  if (rc != 0)
    return rc;
  bool changed = sqlite3_changes(c->db) > 0;
  rc = get_one(c, r, q->op.id, q->op.account_id, false);
  return rc != 0 ? rc : changed ? 0 : SG_ESTATE;
}

/* ---- expansion ----------------------------------------------------------- */

typedef struct expand_st {
  int64_t account;
  int64_t pos, after;
  bool expanded;
  uint64_t taken, pending, optout, dup;
} expand_st_t;

static int expand_load(sg__sq_conn_t *c, const char *id, expand_st_t *x) {
  sqlite3_stmt *s = prep(c, "SELECT account_id, exp_pos, exp_after, expanded, "
                            "status FROM campaigns WHERE id = ?1");
  if (s == NULL)
    return SG_EIO;
  sg__sq_bind_text(s, 1, id);
  int rc = sqlite3_step(s);
  bool live = false;
  if (rc == SQLITE_ROW) {
    x->account = sqlite3_column_int64(s, 0);
    x->pos = sqlite3_column_int64(s, 1);
    x->after = sqlite3_column_int64(s, 2);
    x->expanded = sqlite3_column_int(s, 3) != 0;
    const char *st = (const char *)sqlite3_column_text(s, 4);
    live =
        st != NULL && (strcmp(st, "running") == 0 || strcmp(st, "paused") == 0);
  }
  sqlite3_finalize(s);
  if (rc != SQLITE_ROW)
    return rc == SQLITE_DONE ? SG_ENOENT : SG_EIO;
  return live ? 0 : SG_ESTATE;
}

/* The list at position x->pos, or 0 when the lists are done. */
static int list_at(sg__sq_conn_t *c, const char *id, int64_t pos,
                   int64_t *list) {
  sqlite3_stmt *s = prep(c, "SELECT list_id FROM campaign_lists WHERE "
                            "campaign_id = ?1 AND pos = ?2");
  if (s != NULL) {
    sg__sq_bind_text(s, 1, id);
    sqlite3_bind_int64(s, 2, pos);
  }
  int rc = one_int(s, list);
  if (rc == SG_ENOENT) {
    *list = 0;
    return 0;
  }
  return rc;
}

static int insert_rcpt(sqlite3_stmt *ins, sg__sq_conn_t *c, const char *id,
                       sqlite3_stmt *row, expand_st_t *x) {
  bool optout = sqlite3_column_int(row, 2) != 0;
  sqlite3_reset(ins);
  sg__sq_bind_text(ins, 1, id);
  sqlite3_bind_value(ins, 2, sqlite3_column_value(row, 1));
  sqlite3_bind_int64(ins, 3, sqlite3_column_int64(row, 0));
  sqlite3_bind_int(ins, 4, optout ? ST_OPTOUT : ST_PENDING);
  int rc = sqlite3_step(ins);
  if (rc != SQLITE_DONE)
    return SG_EIO;
  x->taken++;
  if (sqlite3_changes(c->db) == 0)
    x->dup++;
  else if (optout)
    x->optout++;
  else
    x->pending++;
  return 0;
}

/* Takes up to `budget` members of `list` after x->after; *n is how many. */
static int expand_list(sg__sq_conn_t *c, const char *id, int64_t list,
                       unsigned budget, expand_st_t *x, unsigned *n) {
  sqlite3_stmt *sel = prep(
      c, "SELECT m.contact_id, c.number, EXISTS (SELECT 1 FROM optouts o "
         "WHERE o.account_id = c.account_id AND o.number = c.number) FROM "
         "list_members m JOIN contacts c ON c.id = m.contact_id WHERE "
         "m.list_id = ?1 AND m.contact_id > ?2 ORDER BY m.contact_id LIMIT ?3");
  sqlite3_stmt *ins = prep(c, "INSERT INTO campaign_recipients (campaign_id, "
                              "number, contact_id, state) VALUES (?1, ?2, ?3, "
                              "?4) ON CONFLICT DO NOTHING");
  int rc = sel != NULL && ins != NULL ? 0 : SG_EIO;
  *n = 0;
  if (rc == 0) {
    sqlite3_bind_int64(sel, 1, list);
    sqlite3_bind_int64(sel, 2, x->after);
    sqlite3_bind_int64(sel, 3, budget);
  }
  int step;
  while (rc == 0 && (step = sqlite3_step(sel)) == SQLITE_ROW) {
    rc = insert_rcpt(ins, c, id, sel, x);
    x->after = sqlite3_column_int64(sel, 0);
    (*n)++;
  }
  if (rc == 0 && step != SQLITE_DONE)
    rc = SG_EIO;
  sqlite3_finalize(sel);
  sqlite3_finalize(ins);
  return rc;
}

static int expand_save(sg__sq_conn_t *c, const char *id, const expand_st_t *x,
                       int64_t now) {
  sqlite3_stmt *s = prep(
      c, "UPDATE campaigns SET exp_pos = ?2, exp_after = ?3, expanded = ?4, "
         "n_recipients = n_recipients + ?5, n_pending = n_pending + ?6, "
         "n_optout = n_optout + ?7, n_duplicate = n_duplicate + ?8, "
         "updated_ms = ?9 WHERE id = ?1");
  if (s == NULL)
    return SG_EIO;
  sg__sq_bind_text(s, 1, id);
  sqlite3_bind_int64(s, 2, x->pos);
  sqlite3_bind_int64(s, 3, x->after);
  sqlite3_bind_int(s, 4, x->expanded ? 1 : 0);
  sqlite3_bind_int64(s, 5, (int64_t)x->taken);
  sqlite3_bind_int64(s, 6, (int64_t)x->pending);
  sqlite3_bind_int64(s, 7, (int64_t)x->optout);
  sqlite3_bind_int64(s, 8, (int64_t)x->dup);
  sqlite3_bind_int64(s, 9, now);
  return run_done(s);
}

static int expand(sg__sq_conn_t *c, sg__store_req_t *r, int64_t now) {
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

static int take(sg__sq_conn_t *c, sg__store_req_t *r, int64_t now) {
  sg__campaigns_req_t *q = r->in.campaigns;
  int64_t rel = 0;
  sqlite3_stmt *s = prep(c, "SELECT next_rel FROM campaigns WHERE id = ?1 "
                            "AND (?2 = 0 OR account_id = ?2)");
  if (s != NULL) {
    sg__sq_bind_text(s, 1, q->op.id);
    sqlite3_bind_int64(s, 2, q->op.account_id);
  }
  int rc = one_int(s, &rel);
  sqlite3_stmt *u = rc != 0 ? NULL
                            : prep(c, "UPDATE campaign_recipients SET state = "
                                      "1, rel = ?3 WHERE id = ?2 AND "
                                      "campaign_id = ?1 AND state = 0");
  if (rc == 0 && u == NULL)
    rc = SG_EIO;
  for (size_t i = 0; rc == 0 && i < q->op.n_ids; i++) {
    sqlite3_reset(u);
    sg__sq_bind_text(u, 1, q->op.id);
    sqlite3_bind_int64(u, 2, q->op.ids[i]);
    sqlite3_bind_int64(u, 3, rel);
    rc = sqlite3_step(u) == SQLITE_DONE ? 0 : SG_EIO;
    q->res.changed += (size_t)sqlite3_changes(c->db);
  }
  sqlite3_finalize(u);
  if (rc != 0)
    return rc;
  s = prep(c, "UPDATE campaigns SET next_rel = next_rel + 1, updated_ms = ?2 "
              "WHERE id = ?1");
  if (s != NULL) {
    sg__sq_bind_text(s, 1, q->op.id);
    sqlite3_bind_int64(s, 2, now);
  }
  q->res.rel = rel;
  return run_done(s);
}

/* Marks rel's recipients of ids[] invalid; *n is how many. */
static int mark_invalid(sg__sq_conn_t *c, const sg_store_campop_t *op,
                        int64_t *n) {
  if (op->n_ids == 0)
    return 0;
  sqlite3_stmt *u = prep(c, "UPDATE campaign_recipients SET state = 4 WHERE "
                            "id = ?3 AND campaign_id = ?1 AND rel = ?2 AND "
                            "state = 1");
  if (u == NULL)
    return SG_EIO;
  int rc = 0;
  for (size_t i = 0; rc == 0 && i < op->n_ids; i++) {
    sqlite3_reset(u);
    sg__sq_bind_text(u, 1, op->id);
    sqlite3_bind_int64(u, 2, op->rel);
    sqlite3_bind_int64(u, 3, op->ids[i]);
    rc = sqlite3_step(u) == SQLITE_DONE ? 0 : SG_EIO;
    *n += sqlite3_changes(c->db);
  }
  sqlite3_finalize(u);
  return rc;
}

static int released(sg__sq_conn_t *c, sg__store_req_t *r, int64_t now) {
  sg__campaigns_req_t *q = r->in.campaigns;
  int64_t invalid = 0;
  int rc = mark_invalid(c, &q->op, &invalid);
  sqlite3_stmt *s =
      rc != 0 ? NULL
              : prep(c, "UPDATE campaign_recipients SET state = 2 WHERE "
                        "campaign_id = ?1 AND rel = ?2 AND state = 1");
  if (s != NULL) {
    sg__sq_bind_text(s, 1, q->op.id);
    sqlite3_bind_int64(s, 2, q->op.rel);
  }
  if (rc == 0)
    rc = run_done(s);
  if (rc != 0)
    return rc;
  int64_t total = invalid + sqlite3_changes(c->db);
  q->res.changed = (size_t)total;
  s = prep(c, "UPDATE campaigns SET n_pending = n_pending - ?2, n_invalid = "
              "n_invalid + ?3, updated_ms = ?4 WHERE id = ?1");
  if (s != NULL) {
    sg__sq_bind_text(s, 1, q->op.id);
    sqlite3_bind_int64(s, 2, total);
    sqlite3_bind_int64(s, 3, invalid);
    sqlite3_bind_int64(s, 4, now);
  }
  return run_done(s);
}

/* ---- cancelling queued messages ------------------------------------------ */

static int cancel_message(sg__sq_conn_t *c, sg__arena_t *a, const char *mid,
                          int64_t now) {
  /* before the parts change: sg__sq_rederive takes the row's status */
  if (sg__sq_msg_settle(c, mid) < 0)
    return SG_EIO;
  sqlite3_stmt *s = prep(c, "UPDATE parts SET status = 'canceled', updated_ms "
                            "= ?2 WHERE message_id = ?1 AND status IN "
                            "('queued', 'scheduled')");
  if (s != NULL) {
    sg__sq_bind_text(s, 1, mid);
    sqlite3_bind_int64(s, 2, now);
  }
  /* 'queued' or 'scheduled' parts: /metrics' counts take the statuses
   * before and after. */
  int64_t moved[SG_MSG_STATUS_COUNT] = {0};
  int rc = sg__sq_counts_tally(c, mid, -1, moved);
  if (rc < 0) {
    sqlite3_finalize(s);
    return rc;
  }
  rc = run_done(s);
  if (rc == 0 && (rc = sg__sq_counts_tally(c, mid, 1, moved)) == 0)
    sg__sq_counts_parts_moved(c, moved);
  return rc != 0 ? rc
                 : sg__sq_rederive(c, a, mid, "campaign cancelled", now, NULL);
}

/* Runs s (an UPDATE binding the campaign id as ?1 and, if it has one, a
 * limit as ?2) and counts the rows it changed. */
static int rcpt_update(sg__sq_conn_t *c, const char *sql, const char *id,
                       int64_t limit, int64_t *n) {
  sqlite3_stmt *s = prep(c, sql);
  if (s != NULL) {
    sg__sq_bind_text(s, 1, id);
    if (limit > 0)
      sqlite3_bind_int64(s, 2, limit);
  }
  int rc = run_done(s);
  *n = rc == 0 ? sqlite3_changes(c->db) : 0;
  return rc;
}

/* Once no queued message of a cancelled campaign is left: its recipients
 * still taken by a release are released if their message was stored (the
 * submit committed before a crash), and the unsent ones (still pending or
 * taken) become cancelled, RCPT_CANCEL_MAX a call, counted in n_canceled
 * instead of n_pending. *more while some are left; when none is, the
 * cancel is complete (cancel_open = 0) and ACTIVE no longer returns it. */
static int cancel_rcpts(sg__sq_conn_t *c, const char *id, bool *more) {
  int64_t open = 0, released = 0, taken = 0, pending = 0;
  sqlite3_stmt *s =
      prep(c, "SELECT cancel_open FROM campaigns WHERE id = ?1");
  if (s != NULL)
    sg__sq_bind_text(s, 1, id);
  int rc = one_int(s, &open);
  if (rc != 0 || open != 1)
    return rc == SG_ENOENT ? 0 : rc; /* no cancel open: nothing to end */
  rc = rcpt_update(
      c,
      "UPDATE campaign_recipients SET state = 2 WHERE campaign_id = ?1 AND "
      "state = 1 AND EXISTS (SELECT 1 FROM messages m WHERE m.recipient = "
      "campaign_recipients.number AND m.batch_id = ?1)",
      id, 0, &released);
  if (rc == 0)
    rc = rcpt_update(c,
                     "UPDATE campaign_recipients SET state = 5 WHERE "
                     "campaign_id = ?1 AND state = 1",
                     id, 0, &taken);
  if (rc == 0)
    rc = rcpt_update(c,
                     "UPDATE campaign_recipients SET state = 5 WHERE id IN "
                     "(SELECT id FROM campaign_recipients WHERE campaign_id = "
                     "?1 AND state = 0 ORDER BY id LIMIT ?2)",
                     id, RCPT_CANCEL_MAX, &pending);
  if (rc != 0)
    return rc;
  *more = pending == RCPT_CANCEL_MAX;
  s = prep(
      c, "UPDATE campaigns SET n_pending = n_pending - ?2, n_canceled = "
         "n_canceled + ?3, cancel_open = ?4 WHERE id = ?1");
  if (s != NULL) {
    sg__sq_bind_text(s, 1, id);
    sqlite3_bind_int64(s, 2, released + taken + pending);
    sqlite3_bind_int64(s, 3, taken + pending);
    sqlite3_bind_int(s, 4, *more);
  }
  return run_done(s);
}

static int cancel_step(sg__sq_conn_t *c, sg__store_req_t *r, int64_t now) {
  sg__campaigns_req_t *q = r->in.campaigns;
  /* A campaign's id is never one of its messages' ids, so all of them are
   * in messages_batch, which holds only such rows (migration 0029). */
  sqlite3_stmt *s =
      prep(c, "SELECT id FROM messages WHERE batch_id = ?1 AND batch_id <> id "
              "AND id > ?2 AND " SG__SQ_MSG_STATUS
              " IN ('queued', 'scheduled') ORDER BY id LIMIT ?3");
  if (s == NULL)
    return SG_EIO;
  sg__sq_bind_text(s, 1, q->op.id);
  sg__sq_bind_text(s, 2, q->op.after != NULL ? q->op.after : "");
  sqlite3_bind_int64(s, 3, (int64_t)q->op.limit + 1);
  const char **ids =
      sg__arena_alloc(&r->arena, (q->op.limit + 1) * sizeof *ids);
  bool ok = ids != NULL;
  size_t n = 0;
  int rc;
  while (ok && (rc = sqlite3_step(s)) == SQLITE_ROW && n <= q->op.limit)
    ids[n++] = sg__sq_col_text(&r->arena, s, 0, &ok);
  sqlite3_finalize(s);
  if (!ok)
    return SG_ENOMEM;
  q->res.more = n > q->op.limit;
  if (q->res.more)
    n = q->op.limit;
  rc = 0;
  for (size_t i = 0; rc == 0 && i < n; i++)
    rc = cancel_message(c, &r->arena, ids[i], now);
  q->res.changed = rc == 0 ? n : 0;
  if (n > 0)
    snprintf(q->res.next_after, sizeof q->res.next_after, "%s", ids[n - 1]);
  if (rc == 0 && !q->res.more)
    rc = cancel_rcpts(c, q->op.id, &q->res.more);
  return rc;
}

int sg__sq_campaigns_write(sg__sq_conn_t *c, sg__store_req_t *r, int64_t now) {
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

static int read_many(sg__sq_conn_t *c, sg__store_req_t *r, sqlite3_stmt *s,
                     unsigned limit) {
  sg__campaigns_req_t *q = r->in.campaigns;
  sg_store_campaign_t *ks =
      sg__arena_alloc(&r->arena, ((size_t)limit + 1) * sizeof *ks);
  bool ok = ks != NULL;
  size_t n = 0;
  int rc = SQLITE_DONE;
  while (ok && n <= limit && (rc = sqlite3_step(s)) == SQLITE_ROW)
    read_campaign(&r->arena, s, &ks[n++], &ok);
  sqlite3_finalize(s);
  (void)c;
  if (!ok)
    return SG_ENOMEM;
  if (rc != SQLITE_ROW && rc != SQLITE_DONE)
    return SG_EIO;
  if (n > limit) {
    n = limit;
    memcpy(q->res.next_after, ks[n - 1].id, sizeof q->res.next_after);
  }
  q->res.campaigns = ks;
  q->res.n_campaigns = n;
  return 0;
}

static int list(sg__sq_conn_t *c, sg__store_req_t *r) {
  sg__campaigns_req_t *q = r->in.campaigns;
  sqlite3_stmt *s = prep(c, "SELECT " CAMPAIGN_COLS " FROM campaigns WHERE "
                            "(?1 = 0 OR account_id = ?1) AND (?2 IS NULL OR "
                            "id < ?2) ORDER BY id DESC LIMIT ?3");
  if (s == NULL)
    return SG_EIO;
  sqlite3_bind_int64(s, 1, q->op.account_id);
  const char *after = q->op.after;
  sg__sq_bind_text(s, 2, after != NULL && after[0] != '\0' ? after : NULL);
  sqlite3_bind_int64(s, 3, (int64_t)q->op.limit + 1);
  return read_many(c, r, s, q->op.limit);
}

static int active(sg__sq_conn_t *c, sg__store_req_t *r) {
  sg__campaigns_req_t *q = r->in.campaigns;
  sqlite3_stmt *s = prep(c, "SELECT " CAMPAIGN_COLS " FROM campaigns WHERE "
                            "status IN ('scheduled', 'running', 'paused') OR "
                            "cancel_open = 1 ORDER BY id LIMIT ?1");
  if (s == NULL)
    return SG_EIO;
  sqlite3_bind_int64(s, 1, (int64_t)q->op.limit + 1);
  return read_many(c, r, s, q->op.limit);
}

static int read_rcpts(sg__store_req_t *r, sqlite3_stmt *s, unsigned limit,
                      bool contact) {
  sg__campaigns_req_t *q = r->in.campaigns;
  sg_store_campaign_rcpt_t *v =
      sg__arena_alloc(&r->arena, (size_t)limit * sizeof *v);
  bool ok = v != NULL;
  size_t n = 0;
  int rc = SQLITE_DONE;
  while (ok && n < limit && (rc = sqlite3_step(s)) == SQLITE_ROW) {
    v[n].id = sqlite3_column_int64(s, 0);
    v[n].number = sg__sq_col_text(&r->arena, s, 1, &ok);
    v[n].contact_id = sqlite3_column_int64(s, 2);
    if (contact) {
      v[n].name = sg__sq_col_text(&r->arena, s, 3, &ok);
      v[n].fields = sg__sq_col_text(&r->arena, s, 4, &ok);
    }
    n++;
  }
  sqlite3_finalize(s);
  if (!ok)
    return SG_ENOMEM;
  if (rc != SQLITE_ROW && rc != SQLITE_DONE)
    return SG_EIO;
  q->res.rcpts = v;
  q->res.n_rcpts = n;
  return 0;
}

#define RCPT_COLS(contact)                                                     \
  ((contact) ? "r.id, r.number, r.contact_id, c.name, c.fields FROM "          \
               "campaign_recipients r LEFT JOIN contacts c ON c.id = "         \
               "r.contact_id"                                                  \
             : "r.id, r.number, r.contact_id FROM campaign_recipients r")

static int pending(sg__sq_conn_t *c, sg__store_req_t *r) {
  sg__campaigns_req_t *q = r->in.campaigns;
  char sql[320];
  snprintf(sql, sizeof sql,
           "SELECT %s WHERE r.campaign_id = ?1 AND r.state = 0 AND r.id > ?2 "
           "ORDER BY r.id LIMIT ?3",
           RCPT_COLS(q->op.with_contact));
  sqlite3_stmt *s = prep(c, sql);
  if (s == NULL)
    return SG_EIO;
  sg__sq_bind_text(s, 1, q->op.id);
  sqlite3_bind_int64(s, 2, q->op.after_id);
  sqlite3_bind_int64(s, 3, q->op.limit);
  return read_rcpts(r, s, q->op.limit, q->op.with_contact);
}

static int releasing(sg__sq_conn_t *c, sg__store_req_t *r) {
  sg__campaigns_req_t *q = r->in.campaigns;
  sqlite3_stmt *s = prep(c, "SELECT min(rel) FROM campaign_recipients WHERE "
                            "campaign_id = ?1 AND state = 1");
  int64_t rel = 0;
  if (s != NULL)
    sg__sq_bind_text(s, 1, q->op.id);
  int rc = one_int(s, &rel);
  if (rc != 0)
    return rc;
  q->res.rel = rel;
  if (rel == 0)
    return 0; /* min() of nothing is NULL: none taken */
  char sql[320];
  snprintf(sql, sizeof sql,
           "SELECT %s WHERE r.campaign_id = ?1 AND r.state = 1 AND r.rel = ?2 "
           "ORDER BY r.id",
           RCPT_COLS(q->op.with_contact));
  if ((s = prep(c, sql)) == NULL)
    return SG_EIO;
  sg__sq_bind_text(s, 1, q->op.id);
  sqlite3_bind_int64(s, 2, rel);
  return read_rcpts(r, s, SG_STORE_CAMPAIGN_TAKE_MAX, q->op.with_contact);
}

int sg__sq_campaigns_read(sg__sq_conn_t *c, sg__store_req_t *r) {
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
