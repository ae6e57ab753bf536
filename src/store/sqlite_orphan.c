/* sqlite_orphan.c - delivery receipts that matched no part, in the SQLite
 * store (store.h, sg_store_record_receipts).
 *
 * An operator may send a receipt before smsgate has committed the
 * submit_sm_resp it follows, or for a submission whose response was lost
 * and whose part was sent again under another id. Such a receipt is stored
 * in unmatched_receipts by the transaction that looked it up, so that the
 * operator can be answered at once; the SENT result that later names its
 * (connector, smsc_id) applies it in its own transaction, as if it had
 * arrived then, and deletes it; maintenance deletes the ones nobody named
 * within unmatched_keep_ms. The writer keeps the number held in memory, so
 * that a send result looks for a held receipt only while there is one.
 *
 * Runs on the writer thread inside the group's transaction, like
 * sqlite_write.c: it must never begin or end a transaction nor touch the
 * loop, and the count it keeps must follow the transaction (a rollback
 * forgets the changes it made).
 */
#include <string.h>

#include "core/alloc.h"
#include "core/error.h"
#include "store/sqlite_int.h"

#define EXPIRE_MAX 1000 /* held receipts deleted per maintenance pass */

enum { Q_COUNT, Q_INSERT, Q_REPLACE, Q_FIND, Q_HELD, Q_DELETE, Q_EXPIRE, Q_N };

static const char *const orph_sql[Q_N] = {
    [Q_COUNT] = "SELECT count(*) FROM unmatched_receipts",
    [Q_INSERT] = "INSERT INTO unmatched_receipts (connector, smsc_id, status, "
                 "error_code, detail, done_ms, received_ms) VALUES (?1, ?2, "
                 "?3, ?4, ?5, ?6, ?7) ON CONFLICT DO NOTHING",
    /* A repeated receipt: the newest wins, but a report en route never
     * replaces a final one. */
    [Q_REPLACE] = "UPDATE unmatched_receipts SET status = ?3, error_code = "
                  "?4, detail = ?5, done_ms = ?6, received_ms = ?7 WHERE "
                  "connector = ?1 AND smsc_id = ?2 AND (?3 <> 'sent' OR "
                  "status = 'sent')",
    [Q_FIND] = "SELECT u.connector, u.status, u.error_code, u.detail, "
               "u.done_ms FROM parts p JOIN unmatched_receipts u ON "
               "u.connector = p.connector AND u.smsc_id = ?2 WHERE p.id = ?1",
    [Q_HELD] = "SELECT 1 FROM unmatched_receipts WHERE connector = ?1 AND "
               "smsc_id = ?2",
    [Q_DELETE] = "DELETE FROM unmatched_receipts WHERE connector = ?1 AND "
                 "smsc_id = ?2",
    [Q_EXPIRE] = "DELETE FROM unmatched_receipts WHERE (connector, smsc_id) "
                 "IN (SELECT connector, smsc_id FROM unmatched_receipts WHERE "
                 "received_ms < ?1 ORDER BY received_ms LIMIT ?2)",
};

struct sg__sq_orph {
  sqlite3_stmt *q[Q_N];
  bool counted;  /* held is known */
  int64_t held;  /* rows at the last commit */
  int64_t delta; /* rows added (or removed) by the open transaction */
};

static int step_rc(sqlite3_stmt *s) {
  return s == NULL ? SG_EIO : sg__sq_err(sg__sq_step_done(s));
}

static sqlite3_stmt *stmt(sg__sq_conn_t *c, int q) {
  struct sg__sq_orph *o = c->orph;
  if (o->q[q] == NULL)
    o->q[q] = sg__sq_prepare(c, orph_sql[q]);
  else
    sqlite3_reset(o->q[q]);
  if (o->q[q] != NULL)
    sqlite3_clear_bindings(o->q[q]);
  return o->q[q];
}

/* The state of c, created and counted on first use. */
static struct sg__sq_orph *orph(sg__sq_conn_t *c, int *rc) {
  if (c->orph == NULL && (c->orph = sg_calloc(1, sizeof *c->orph)) == NULL) {
    *rc = SG_ENOMEM;
    return NULL;
  }
  struct sg__sq_orph *o = c->orph;
  if (o->counted)
    return o;
  sqlite3_stmt *s = stmt(c, Q_COUNT);
  if (s == NULL || sqlite3_step(s) != SQLITE_ROW) {
    if (s != NULL)
      sqlite3_reset(s);
    *rc = SG_EIO;
    return NULL;
  }
  o->held = sqlite3_column_int64(s, 0);
  o->delta = 0;
  o->counted = true;
  sqlite3_reset(s);
  return o;
}

void sg__sq_orphan_tx_end(sg__sq_conn_t *c, bool committed) {
  struct sg__sq_orph *o = c->orph;
  if (o == NULL)
    return;
  if (committed)
    o->held += o->delta;
  if (o->held < 0)
    o->held = 0;
  o->delta = 0;
}

void sg__sq_orphan_close(sg__sq_conn_t *c) {
  struct sg__sq_orph *o = c->orph;
  if (o == NULL)
    return;
  for (int i = 0; i < Q_N; i++)
    sqlite3_finalize(o->q[i]);
  sg_free(o);
  c->orph = NULL;
}

static void bind_receipt(sqlite3_stmt *s, const sg_store_receipt_in_t *x,
                         int64_t now) {
  sg__sq_bind_text(s, 1, x->connector);
  sg__sq_bind_text(s, 2, x->smsc_id);
  sg__sq_bind_text(s, 3, sg_store_status_name(x->status));
  if (x->error_code != 0)
    sqlite3_bind_int(s, 4, x->error_code);
  sg__sq_bind_text(s, 5, x->detail);
  sg__sq_bind_opt_ms(s, 6, x->done_ms);
  sqlite3_bind_int64(s, 7, now);
}

int sg__sq_orphan_hold(sg__sq_conn_t *c, const sg_store_receipt_in_t *x,
                       int64_t now, sg_store_item_res_t *item) {
  int rc = 0;
  struct sg__sq_orph *o = orph(c, &rc);
  if (o == NULL)
    return rc;
  sqlite3_stmt *s = stmt(c, Q_INSERT);
  if (s == NULL)
    return SG_EIO;
  bind_receipt(s, x, now);
  if ((rc = step_rc(s)) < 0)
    return rc;
  if (sqlite3_changes(c->db) > 0) {
    o->delta++;
  } else {
    if ((s = stmt(c, Q_REPLACE)) == NULL)
      return SG_EIO;
    bind_receipt(s, x, now);
    if ((rc = step_rc(s)) < 0)
      return rc;
  }
  item->held = true;
  item->part_status = SG_MSG_NONE;
  item->msg_status = SG_MSG_NONE;
  return 0;
}

/* Reads the receipt held for (the connector of part_id, smsc_id) into *x
 * (strings in the arena): 1 when there is one, 0 when not, or an error. */
static int find(sg__sq_conn_t *c, sg__arena_t *a, int64_t part_id,
                const char *smsc_id, sg_store_receipt_in_t *x) {
  sqlite3_stmt *s = stmt(c, Q_FIND);
  if (s == NULL)
    return SG_EIO;
  sqlite3_bind_int64(s, 1, part_id);
  sg__sq_bind_text(s, 2, smsc_id);
  int rc = sqlite3_step(s);
  if (rc != SQLITE_ROW) {
    sqlite3_reset(s);
    return rc == SQLITE_DONE ? 0 : SG_EIO;
  }
  bool ok = true;
  memset(x, 0, sizeof *x);
  x->connector = sg__sq_col_text(a, s, 0, &ok);
  x->smsc_id = smsc_id;
  x->status = sg__sq_col_status(s, 1);
  x->error_code = (int32_t)sqlite3_column_int(s, 2);
  x->detail = sg__sq_col_text(a, s, 3, &ok);
  x->done_ms = sqlite3_column_int64(s, 4);
  sqlite3_reset(s);
  return ok ? 1 : SG_ENOMEM;
}

int sg__sq_orphan_apply(sg__sq_conn_t *c, sg__arena_t *a, int64_t part_id,
                        const char *mid, unsigned seq, const char *smsc_id,
                        int64_t now, sg_store_item_res_t *item) {
  int rc = 0;
  struct sg__sq_orph *o = orph(c, &rc);
  if (o == NULL)
    return rc;
  if (o->held + o->delta <= 0 || smsc_id == NULL)
    return 0; /* the common case: nothing held, nothing to look for */
  sg_store_receipt_in_t x;
  if ((rc = find(c, a, part_id, smsc_id, &x)) <= 0)
    return rc;
  sqlite3_stmt *s = stmt(c, Q_DELETE);
  if (s == NULL)
    return SG_EIO;
  sg__sq_bind_text(s, 1, x.connector);
  sg__sq_bind_text(s, 2, smsc_id);
  if ((rc = step_rc(s)) < 0)
    return rc;
  o->delta--;
  bool changed = item->msg_changed;
  rc = sg__sq_receipt_apply(c, a, part_id, mid, seq, &x, now, item);
  item->msg_changed = item->msg_changed || changed;
  item->receipt_applied = rc == 0;
  return rc;
}

int sg__sq_orphan_held(sg__sq_conn_t *c, const char *connector,
                       const char *smsc_id) {
  int rc = 0;
  const struct sg__sq_orph *o = orph(c, &rc);
  if (o == NULL)
    return rc;
  if (o->held + o->delta <= 0 || smsc_id == NULL)
    return 0; /* the common case: nothing held, nothing to look for */
  sqlite3_stmt *s = stmt(c, Q_HELD);
  if (s == NULL)
    return SG_EIO;
  sg__sq_bind_text(s, 1, connector);
  sg__sq_bind_text(s, 2, smsc_id);
  rc = sqlite3_step(s);
  sqlite3_reset(s);
  return rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : SG_EIO;
}

int sg__sq_orphan_expire(sg__sq_conn_t *c, int64_t now, size_t *n) {
  int rc = 0;
  struct sg__sq_orph *o = orph(c, &rc);
  *n = 0;
  if (o == NULL)
    return rc;
  if (o->held + o->delta <= 0)
    return 0;
  sqlite3_stmt *s = stmt(c, Q_EXPIRE);
  if (s == NULL)
    return SG_EIO;
  sqlite3_bind_int64(s, 1, now - c->st->cfg.unmatched_keep_ms);
  sqlite3_bind_int(s, 2, EXPIRE_MAX);
  if ((rc = step_rc(s)) < 0)
    return rc;
  *n = (size_t)sqlite3_changes(c->db);
  o->delta -= (int64_t)*n;
  return 0;
}
