/* sqlite_webhook.c - the claim and the finish of webhook deliveries in the
 * SQLite store, run by the writer thread inside the group's transaction.
 *
 * The deliveries of one-part messages' status changes are held in the
 * writer's memory (sqlite_whq.c): a claim hands them out first and a
 * finish of one of them (id < 0) goes there. What follows is about rows.
 *
 * A delivery is written once, 'pending', by the transaction that queues it,
 * and written once more when it ends: deleted when the receiver took it,
 * updated for a retry or when it is given up. The claim writes nothing: the
 * lease of a claimed delivery (its id and the time it runs out) is kept in
 * memory by the writer, and a claim skips rows under a live lease. After a
 * crash or a stop no lease is left and every delivery that was not finished
 * is offered again: at-least-once, as the durability contract allows. A
 * lease taken by a transaction that is rolled back is forgotten with it
 * (sqlite.c calls sg__sq_wh_tx_end after each commit and rollback), so a
 * claim that failed hides nothing.
 *
 * This file must never begin or end a transaction, nor build or change a
 * payload.
 */
#include <string.h>

#include "core/alloc.h"
#include "core/error.h"
#include "store/sqlite_int.h"
#include "store/sqlite_lease.h"
#include "store/sqlite_whq.h"

enum { Q_DUE, Q_ROW, Q_DELETE, Q_RETRY, Q_FAIL, Q_N };

static const char *const wh_sql[Q_N] = {
    /* Index only: skipping a leased row costs no read of its payload. */
    [Q_DUE] = "SELECT id FROM webhooks INDEXED BY webhooks_due WHERE status "
              "= 'pending' AND next_attempt_ms <= ?1 ORDER BY "
              "next_attempt_ms, id LIMIT ?2",
    [Q_ROW] = "SELECT account_id, message_id, url, payload, attempts, "
              "created_ms, method FROM webhooks WHERE id = ?1 AND status = "
              "'pending'",
    [Q_DELETE] = "DELETE FROM webhooks WHERE id = ?1",
    /* ?6: handed back unsent (untried), its last error kept */
    [Q_RETRY] = "UPDATE webhooks SET status = 'pending', next_attempt_ms = "
                "?2, last_error = CASE WHEN ?6 THEN last_error ELSE ?3 END, "
                "attempts = attempts + ?5, lease_until_ms = NULL, updated_ms "
                "= ?4 WHERE id = ?1",
    [Q_FAIL] = "UPDATE webhooks SET status = 'failed', last_error = ?2, "
               "attempts = attempts + ?4, lease_until_ms = NULL, updated_ms = "
               "?3 WHERE id = ?1",
};

struct sg__sq_whl {
  sg__sq_leases_t l;
  sqlite3_stmt *q[Q_N];
};

/* ---- transactions ------------------------------------------------------- */

void sg__sq_wh_tx_end(sg__sq_conn_t *c, bool committed) {
  struct sg__sq_whl *w = c->whl;
  sg__sq_whq_tx_end(c, committed);
  if (w != NULL)
    sg__sq_lease_tx_end(&w->l, committed);
}

static struct sg__sq_whl *whl(sg__sq_conn_t *c) {
  if (c->whl == NULL)
    c->whl = sg_calloc(1, sizeof *c->whl);
  return c->whl;
}

static sqlite3_stmt *stmt(sg__sq_conn_t *c, int q) {
  struct sg__sq_whl *w = c->whl;
  if (w->q[q] == NULL)
    w->q[q] = sg__sq_prepare(c, wh_sql[q]);
  else
    sqlite3_reset(w->q[q]);
  if (w->q[q] != NULL)
    sqlite3_clear_bindings(w->q[q]);
  return w->q[q];
}

void sg__sq_wh_close(sg__sq_conn_t *c) {
  struct sg__sq_whl *w = c->whl;
  sg__sq_whq_close(c);
  if (w == NULL)
    return;
  for (int i = 0; i < Q_N; i++)
    sqlite3_finalize(w->q[i]);
  sg__sq_lease_free(&w->l);
  sg_free(w);
  c->whl = NULL;
}

int sg__sq_wh_adopt(sg__sq_conn_t *c, int64_t id, int64_t until, unsigned tries,
                    int64_t now) {
  if (whl(c) == NULL)
    return SG_ENOMEM;
  return sg__sq_lease_set(&c->whl->l, id, until, now, tries);
}

size_t sg__sq_wh_leases(const sg__sq_conn_t *c) {
  return c->whl != NULL ? c->whl->l.n : 0;
}

/* ---- claim --------------------------------------------------------------- */

/* The ids of up to max due deliveries that no live lease holds, oldest due
 * first. */
static int due_ids(sg__sq_conn_t *c, unsigned max, int64_t now, int64_t *ids,
                   size_t *n) {
  sqlite3_stmt *s = stmt(c, Q_DUE);
  if (s == NULL)
    return SG_EIO;
  sqlite3_bind_int64(s, 1, now);
  sqlite3_bind_int64(s, 2, (int64_t)max + (int64_t)c->whl->l.n);
  int rc;
  *n = 0;
  while (*n < max && (rc = sqlite3_step(s)) == SQLITE_ROW) {
    int64_t id = sqlite3_column_int64(s, 0);
    if (!sg__sq_lease_held(&c->whl->l, id, now))
      ids[(*n)++] = id;
  }
  if (*n < max && rc != SQLITE_DONE) {
    sqlite3_reset(s);
    return SG_EIO;
  }
  sqlite3_reset(s);
  return 0;
}

int sg__sq_wh_next(sg__sq_conn_t *c, int64_t now, int64_t *next) {
  if (whl(c) == NULL)
    return SG_ENOMEM;
  int64_t id;
  size_t n = 0;
  int rc = due_ids(c, 1, now, &id, &n);
  if (rc < 0)
    return rc;
  int64_t t = n > 0 ? now : 0; /* due and not out: at once */
  int64_t leased = sg__sq_lease_min(&c->whl->l, now);
  int64_t ring = sg__sq_whq_next(c, now);
  if (leased > 0 && (t == 0 || leased < t))
    t = leased;
  if (ring > 0 && (t == 0 || ring < t))
    t = ring;
  *next = t;
  return 0;
}

/* Reads row id into *w; 1 when it is no longer pending. */
static int read_row(sg__sq_conn_t *c, sg__arena_t *a, int64_t id,
                    sg_store_webhook_t *w) {
  sqlite3_stmt *s = stmt(c, Q_ROW);
  if (s == NULL)
    return SG_EIO;
  sqlite3_bind_int64(s, 1, id);
  int rc = sqlite3_step(s);
  if (rc != SQLITE_ROW) {
    sqlite3_reset(s);
    return rc == SQLITE_DONE ? 1 : SG_EIO;
  }
  bool ok = true;
  w->id = id;
  w->account_id = sqlite3_column_int64(s, 0);
  w->message_id = sg__sq_col_text(a, s, 1, &ok);
  w->url = sg__sq_col_text(a, s, 2, &ok);
  w->payload = sg__sq_col_blob(a, s, 3, &w->payload_len, &ok);
  w->event = NULL; /* a row holds its payload */
  w->event_len = 0;
  w->attempts = (unsigned)sqlite3_column_int(s, 4); /* + this run's tries */
  w->created_ms = sqlite3_column_int64(s, 5);
  const unsigned char *method = sqlite3_column_text(s, 6);
  w->get = method != NULL && strcmp((const char *)method, "GET") == 0;
  sqlite3_reset(s);
  return ok ? 0 : SG_ENOMEM;
}

/* Leases up to want due rows into w[*n...], *n counting them. */
static int claim_rows(sg__sq_conn_t *c, sg__store_req_t *r, size_t want,
                      int64_t now, int64_t until, sg_store_webhook_t *w,
                      int64_t *ids, size_t *n) {
  size_t k = 0;
  int rc = due_ids(c, (unsigned)want, now, ids, &k);
  for (size_t i = 0; rc == 0 && i < k; i++) {
    unsigned tries;
    rc = read_row(c, &r->arena, ids[i], &w[*n]);
    if (rc == 0)
      rc = sg__sq_lease_take(&c->whl->l, ids[i], until, now, &tries);
    if (rc == 0)
      w[(*n)++].attempts += tries;
    else if (rc == 1)
      rc = 0;
  }
  return rc;
}

int sg__sq_wh_claim(sg__sq_conn_t *c, sg__store_req_t *r, int64_t now) {
  unsigned max = r->in.wh_claim.max;
  if (whl(c) == NULL)
    return SG_ENOMEM;
  /* Not zeroed: every entry handed out is filled whole (copy_out in
   * sqlite_whq.c, read_row), and a claim asks for up to 1,000 whatever
   * comes (the notifier claims ahead of its free slots). */
  sg_store_webhook_t *w = sg__arena_alloc_raw(&r->arena, max * sizeof *w);
  int64_t *ids = sg__arena_alloc_raw(&r->arena, max * sizeof *ids);
  if (w == NULL || ids == NULL)
    return SG_ENOMEM;
  size_t n = 0;
  int64_t until = now + r->in.wh_claim.lease_ms;
  /* The deliveries in memory first (no B-tree work), less the rows' share
   * when it is their turn (sqlite_whq.h); then rows; then memory again for
   * what the rows left of their share. */
  size_t share = sg__sq_whq_rows_share(c, max, now);
  if (share > 0)
    sg__sq_whq_rows_served(c, now);
  int rc = sg__sq_whq_claim(c, &r->arena, w, max - share, now, until);
  if (rc >= 0) {
    n = (size_t)rc;
    rc = n < max ? claim_rows(c, r, max - n, now, until, w, ids, &n) : 0;
  }
  if (rc == 0 && share > 0 && n < max) {
    rc = sg__sq_whq_claim(c, &r->arena, w + n, max - n, now, until);
    if (rc >= 0) {
      n += (size_t)rc;
      rc = 0;
    }
  }
  /* A claim that fails hands nothing out: it must hold no lease either. */
  for (size_t i = 0; rc < 0 && i < n; i++)
    sg__sq_lease_drop(&c->whl->l, w[i].id);
  r->out.webhooks.items = w;
  r->out.webhooks.n = rc < 0 ? 0 : n;
  return rc;
}

/* ---- finish -------------------------------------------------------------- */

static int finish_one(sg__sq_conn_t *c, const sg_store_webhook_result_t *x,
                      int64_t now) {
  int mem = x->id < 0 ? sg__sq_whq_finish(c, x, now) : 0;
  if (mem != 0) /* it was in memory: taken, or its row written */
    return mem < 0 ? mem : 0;
  unsigned tries = sg__sq_lease_tries(&c->whl->l, x->id);
  if (x->untried && tries > 0) /* its claim's try is taken back */
    tries--;
  sqlite3_stmt *s;
  if (x->done) {
    if ((s = stmt(c, Q_DELETE)) == NULL)
      return SG_EIO;
  } else if (x->next_attempt_ms > 0) {
    if ((s = stmt(c, Q_RETRY)) == NULL)
      return SG_EIO;
    sqlite3_bind_int64(s, 2, x->next_attempt_ms);
    sg__sq_bind_text(s, 3, x->error);
    sqlite3_bind_int64(s, 4, now);
    sqlite3_bind_int(s, 5, (int)tries);
    sqlite3_bind_int(s, 6, x->untried);
  } else {
    if ((s = stmt(c, Q_FAIL)) == NULL)
      return SG_EIO;
    sg__sq_bind_text(s, 2, x->error);
    sqlite3_bind_int64(s, 3, now);
    sqlite3_bind_int(s, 4, (int)tries);
  }
  sqlite3_bind_int64(s, 1, x->id);
  int rc = sg__sq_err(sg__sq_step_done(s));
  if (rc == 0)
    sg__sq_lease_drop(&c->whl->l, x->id);
  return rc;
}

int sg__sq_wh_finish(sg__sq_conn_t *c, sg__store_req_t *r, int64_t now) {
  if (whl(c) == NULL)
    return SG_ENOMEM;
  int rc = 0;
  for (size_t i = 0; rc == 0 && i < r->in.wh_finish.n; i++)
    rc = finish_one(c, &r->in.wh_finish.items[i], now);
  return rc;
}
