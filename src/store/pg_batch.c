/* pg_batch.c - reads for a whole results or receipts request in one
 * statement: the parts its items name, each with its message's row, so
 * that the writer waits for the server once per request instead of once
 * per item. Arrays go to the server as text ('{...}' literals).
 *
 * Writer thread, inside the group's transaction. This file must never
 * write a row, begin or end a transaction, nor keep a result past the call
 * that reads it.
 */
#include <stdio.h>
#include <string.h>

#include "core/error.h"
#include "store/postgres_msg.h"

/* ---- array literals ------------------------------------------------------ */

typedef struct arr {
  char *p;
  size_t len, cap;
  bool ok;
} arr_t;

static void arr_put(arr_t *a, const char *s, size_t n) {
  if (!a->ok)
    return;
  if (a->len + n + 1 > a->cap) {
    a->ok = false;
    return;
  }
  memcpy(a->p + a->len, s, n);
  a->len += n;
  a->p[a->len] = '\0';
}

/* Room for n elements of at most each bytes once quoted. */
static void arr_init(arr_t *a, sg__arena_t *ar, size_t n, size_t each) {
  a->cap = 3 + n * (each + 1);
  a->p = sg__arena_alloc(ar, a->cap);
  a->len = 0;
  a->ok = a->p != NULL;
  arr_put(a, "{", 1);
}

static void arr_sep(arr_t *a) {
  if (a->len > 1)
    arr_put(a, ",", 1);
}

static void arr_i64(arr_t *a, int64_t v) {
  char buf[24];
  int n = snprintf(buf, sizeof buf, "%lld", (long long)v);
  arr_sep(a);
  arr_put(a, buf, (size_t)n);
}

/* A text element, quoted: backslash and double quote escaped. */
static void arr_text(arr_t *a, const char *s) {
  arr_sep(a);
  if (s == NULL) {
    arr_put(a, "NULL", 4);
    return;
  }
  arr_put(a, "\"", 1);
  for (; *s != '\0'; s++) {
    if (*s == '"' || *s == '\\')
      arr_put(a, "\\", 1);
    arr_put(a, s, 1);
  }
  arr_put(a, "\"", 1);
}

static size_t quoted_max(const char *s) {
  return s != NULL ? 2 * strlen(s) + 2 : 4;
}

/* ---- reading the rows ---------------------------------------------------- */

/* Row i of res into pr: the part's columns from col (id, message_id, seq,
 * status, attempts, lease_owner), then its message's. */
static int read_row(sg__arena_t *a, const PGresult *res, int i, int col,
                    sg__pg_prow_t *pr) {
  bool ok = true;
  pr->pt.id = sg__pg_i64(res, i, col);
  pr->pt.mid = sg__pg_text(a, res, i, col + 1, &ok);
  pr->pt.seq = (unsigned)sg__pg_i64(res, i, col + 2);
  pr->status = sg__pg_status(res, i, col + 3);
  pr->attempts = (unsigned)sg__pg_i64(res, i, col + 4);
  pr->owner = sg__pg_null(res, i, col + 5)
                  ? NULL
                  : sg__pg_text(a, res, i, col + 5, &ok);
  if (!ok || sg__pg_msg_row(a, res, i, col + 6, &pr->m) < 0)
    return SG_ENOMEM;
  pr->m.ev.message_id = pr->pt.mid;
  pr->found = true;
  return 0;
}

int sg__pg_batch_results(sg__pg_conn_t *c, sg__arena_t *a,
                         const sg_store_result_in_t *items, size_t n,
                         sg__pg_prow_t **out) {
  sg__pg_prow_t *rows = sg__arena_alloc(a, (n ? n : 1) * sizeof *rows);
  arr_t ids;
  arr_init(&ids, a, n, 21);
  if (rows == NULL || !ids.ok)
    return SG_ENOMEM;
  memset(rows, 0, (n ? n : 1) * sizeof *rows);
  for (size_t i = 0; i < n; i++)
    arr_i64(&ids, items[i].part_id);
  arr_put(&ids, "}", 1);
  if (!ids.ok)
    return SG_ENOMEM;
  sg__pg_params_t p = {0};
  sg__pg_p_text(&p, ids.p);
  int rc;
  PGresult *res = sg__pg_run(
      c,
      "SELECT p.id, p.message_id, p.seq, p.status, "
      "p.attempts, p.lease_owner, " SG__PG_MSG_ROW_M
      " FROM parts p JOIN messages m ON m.id = p.message_id WHERE p.id = "
      "ANY($1::bigint[]) ORDER BY p.id FOR UPDATE OF p",
      &p, &rc);
  int k = rc == 0 ? PQntuples(res) : 0;
  for (int j = 0; rc == 0 && j < k; j++) {
    int64_t id = sg__pg_i64(res, j, 0);
    for (size_t i = 0; rc == 0 && i < n; i++)
      if (items[i].part_id == id && !rows[i].found)
        rc = read_row(a, res, j, 0, &rows[i]);
  }
  PQclear(res);
  *out = rows;
  return rc;
}

int sg__pg_batch_receipts(sg__pg_conn_t *c, sg__arena_t *a,
                          const sg_store_receipt_in_t *items, size_t n,
                          sg__pg_prow_t **out) {
  sg__pg_prow_t *rows = sg__arena_alloc(a, (n ? n : 1) * sizeof *rows);
  size_t cl = 0, sl = 0;
  for (size_t i = 0; i < n; i++) {
    size_t q = quoted_max(items[i].connector);
    cl = q > cl ? q : cl;
    q = quoted_max(items[i].smsc_id);
    sl = q > sl ? q : sl;
  }
  arr_t conns, smsc;
  arr_init(&conns, a, n, cl);
  arr_init(&smsc, a, n, sl);
  if (rows == NULL || !conns.ok || !smsc.ok)
    return SG_ENOMEM;
  memset(rows, 0, (n ? n : 1) * sizeof *rows);
  for (size_t i = 0; i < n; i++) {
    arr_text(&conns, items[i].connector);
    arr_text(&smsc, items[i].smsc_id);
  }
  arr_put(&conns, "}", 1);
  arr_put(&smsc, "}", 1);
  if (!conns.ok || !smsc.ok)
    return SG_ENOMEM;
  sg__pg_params_t p = {0};
  sg__pg_p_text(&p, conns.p);
  sg__pg_p_text(&p, smsc.p);
  int rc;
  /* The newest part under each (connector, SMSC id), as one receipt's
   * read finds it. */
  PGresult *res = sg__pg_run(
      c,
      "SELECT DISTINCT ON (p.connector, p.smsc_id) p.connector, p.smsc_id, "
      "p.id, p.message_id, p.seq, p.status, p.attempts, p.lease_owner, "
      SG__PG_MSG_ROW_M
      " FROM (SELECT DISTINCT * FROM unnest($1::text[], $2::text[])) AS "
      "k(connector, smsc_id) JOIN parts p ON p.connector = k.connector AND "
      "p.smsc_id = k.smsc_id JOIN messages m ON m.id = p.message_id ORDER BY "
      "p.connector, p.smsc_id, p.id DESC",
      &p, &rc);
  int k = rc == 0 ? PQntuples(res) : 0;
  for (int j = 0; rc == 0 && j < k; j++) {
    const char *conn = PQgetvalue(res, j, 0), *sid = PQgetvalue(res, j, 1);
    for (size_t i = 0; rc == 0 && i < n; i++)
      if (items[i].connector != NULL && items[i].smsc_id != NULL &&
          strcmp(items[i].connector, conn) == 0 &&
          strcmp(items[i].smsc_id, sid) == 0)
        rc = read_row(a, res, j, 2, &rows[i]);
  }
  PQclear(res);
  *out = rows;
  return rc;
}

bool sg__pg_batch_seen(const sg__pg_prow_t *rows, size_t i) {
  if (!rows[i].found)
    return false;
  for (size_t j = 0; j < i; j++)
    if (rows[j].found && strcmp(rows[j].pt.mid, rows[i].pt.mid) == 0)
      return true;
  return false;
}
