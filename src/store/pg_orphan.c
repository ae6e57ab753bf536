/* pg_orphan.c - delivery receipts that matched no part, in the PostgreSQL
 * store: the same rows and answers as sqlite_orphan.c (held in
 * unmatched_receipts by the transaction that looked them up, applied and
 * deleted by the SENT result that names their (connector, smsc_id),
 * deleted by maintenance after unmatched_keep_ms).
 *
 * The writer keeps the number held in memory so that a send result looks
 * for a held receipt only while there is one. Several nodes may share the
 * database: each maintenance pass counts the rows again, so that a node
 * sees the receipts another node held within one pass; the applying
 * statement deletes the row it applies, so two nodes never apply one.
 *
 * Runs on the writer thread inside the group's transaction; it must never
 * begin or end a transaction nor touch the loop.
 */
#include <string.h>

#include "core/error.h"
#include "store/pg_orphan.h"

#define EXPIRE_MAX 1000 /* held receipts deleted per maintenance pass */

/* Counts the rows, inside the open transaction (which may have changed
 * delta of them already). */
static int count(sg__pg_conn_t *c) {
  int rc;
  PGresult *res =
      sg__pg_run(c, "SELECT count(*) FROM unmatched_receipts", NULL, &rc);
  if (rc == 0 && PQntuples(res) == 1) {
    c->orph.held = sg__pg_i64(res, 0, 0) - c->orph.delta;
    c->orph.counted = true;
  }
  PQclear(res);
  return rc < 0 ? rc : (c->orph.counted ? 0 : SG_EIO);
}

void sg__pg_orphan_tx_end(sg__pg_conn_t *c, bool committed) {
  if (committed)
    c->orph.held += c->orph.delta;
  if (c->orph.held < 0)
    c->orph.held = 0;
  c->orph.delta = 0;
}

static void params(sg__pg_params_t *p, const sg_store_receipt_in_t *x,
                   int64_t now) {
  sg__pg_p_text(p, x->connector);
  sg__pg_p_text(p, x->smsc_id);
  sg__pg_p_text(p, sg_store_status_name(x->status));
  sg__pg_p_opt_i64(p, x->error_code);
  sg__pg_p_text(p, x->detail);
  sg__pg_p_opt_i64(p, x->done_ms);
  sg__pg_p_i64(p, now);
}

int sg__pg_orphan_hold(sg__pg_conn_t *c, const sg_store_receipt_in_t *x,
                       int64_t now, sg_store_item_res_t *item) {
  int rc = c->orph.counted ? 0 : count(c);
  if (rc < 0)
    return rc;
  sg__pg_params_t p = {0};
  params(&p, x, now);
  uint64_t n = 0;
  rc = sg__pg_do(c,
                 "INSERT INTO unmatched_receipts (connector, smsc_id, status, "
                 "error_code, detail, done_ms, received_ms) VALUES ($1, $2, "
                 "$3, $4, $5, $6, $7) ON CONFLICT DO NOTHING",
                 &p, &n);
  if (rc < 0)
    return rc;
  if (n > 0) {
    c->orph.delta++;
  } else {
    /* A repeat: the newest wins, but one en route never replaces a final
     * one. */
    rc = sg__pg_do(c,
                   "UPDATE unmatched_receipts SET status = $3, error_code = "
                   "$4, detail = $5, done_ms = $6, received_ms = $7 WHERE "
                   "connector = $1 AND smsc_id = $2 AND ($3 <> 'sent' OR "
                   "status = 'sent')",
                   &p, NULL);
    if (rc < 0)
      return rc;
  }
  item->held = true;
  item->part_status = SG_MSG_NONE;
  item->msg_status = SG_MSG_NONE;
  return 0;
}

int sg__pg_orphan_apply(sg__pg_conn_t *c, sg__arena_t *a,
                        const sg__pg_part_t *pt, const char *smsc_id,
                        int64_t now, sg_store_item_res_t *item) {
  int rc = c->orph.counted ? 0 : count(c);
  if (rc < 0)
    return rc;
  if (c->orph.held + c->orph.delta <= 0 || smsc_id == NULL)
    return 0; /* the common case: nothing held, nothing to look for */
  sg__pg_params_t p = {0};
  sg__pg_p_i64(&p, pt->id);
  sg__pg_p_text(&p, smsc_id);
  PGresult *res = sg__pg_run(
      c,
      "DELETE FROM unmatched_receipts u USING parts p WHERE p.id = $1 AND "
      "u.connector = p.connector AND u.smsc_id = $2 RETURNING u.connector, "
      "u.status, u.error_code, u.detail, u.done_ms",
      &p, &rc);
  if (rc < 0 || PQntuples(res) != 1) {
    PQclear(res);
    return rc;
  }
  bool ok = true;
  sg_store_receipt_in_t x = {.connector = sg__pg_text(a, res, 0, 0, &ok),
                             .smsc_id = smsc_id,
                             .status = sg__pg_status(res, 0, 1),
                             .error_code = (int32_t)sg__pg_i64(res, 0, 2),
                             .detail = sg__pg_text(a, res, 0, 3, &ok),
                             .done_ms = sg__pg_i64(res, 0, 4)};
  PQclear(res);
  if (!ok)
    return SG_ENOMEM;
  c->orph.delta--;
  bool changed = item->msg_changed;
  rc = sg__pg_receipt_apply(c, a, pt, &x, now, item);
  item->msg_changed = item->msg_changed || changed;
  item->receipt_applied = rc == 0;
  return rc;
}

int sg__pg_orphan_expire(sg__pg_conn_t *c, int64_t now, size_t *n) {
  *n = 0;
  int rc = count(c); /* also sees what other nodes held */
  if (rc < 0 || c->orph.held + c->orph.delta <= 0)
    return rc;
  sg__pg_params_t p = {0};
  sg__pg_p_i64(&p, now - c->st->cfg.unmatched_keep_ms);
  sg__pg_p_i64(&p, EXPIRE_MAX);
  uint64_t gone = 0;
  rc = sg__pg_do(c,
                 "DELETE FROM unmatched_receipts WHERE (connector, smsc_id) "
                 "IN (SELECT connector, smsc_id FROM unmatched_receipts "
                 "WHERE received_ms < $1 ORDER BY received_ms LIMIT $2)",
                 &p, &gone);
  if (rc < 0)
    return rc;
  *n = (size_t)gone;
  c->orph.delta -= (int64_t)gone;
  return 0;
}
