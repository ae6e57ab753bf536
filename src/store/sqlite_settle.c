/* sqlite_settle.c - the idle SQLite writer settles one-part message rows.
 *
 * A one-part message's final status stays on its part while its row keeps
 * 'queued' (sqlite_write.c, stored_status); readers show the part's status
 * through SG__SQ_MSG_STATUS. That saves the row's write on the busy path
 * but makes every read that filters or groups by status probe the part of
 * each such row. When the writer has had no request for a while
 * (sqlite.c, settle_idle), it writes the carried status into the rows, a
 * batch per transaction, exactly as MSG_SETTLE does before a later change:
 * the expressions answer the same before and after, and no count, event
 * or webhook moves. A batch that fails rolls back whole and changes
 * nothing, here either; a crash between batches leaves rows settled and
 * rows not, read alike.
 *
 * No index holds the rows by status (migration 0002 dropped it), so a pass
 * walks the table in id order from a cursor kept in memory (from the first
 * row at open), `max` rows a batch, and goes on from there at the next
 * pass: the rows behind the cursor are not looked at again. A row whose
 * part had not ended when the cursor passed it (in flight, or 'queued'
 * behind a connector that is down) is noted when its part ends on it
 * (sqlite_write.c, set_msg_status: sg__sq_settle_note), and so is a row
 * the operator's retry queued again and that ends again; each pass first
 * settles the rows noted, which then leave the list, so that no row is
 * looked at more than once for each time it ends. When the list is full
 * (WAIT_MAX), the pass after the next walks the table from the first row
 * again. Writer thread only.
 */
#include "store/sqlite_settle.h"

#include <string.h>

#include "core/alloc.h"
#include "core/error.h"
#include "store/sqlite_int.h"

#define WAIT_MAX 65536

struct sg__sq_settle {
  char *cursor; /* every row up to this id was looked at; NULL: none */
  char **wait;  /* rows noted when their part ended behind the cursor */
  size_t n_wait, cap_wait;
  size_t next;   /* the pass's place in wait */
  bool scanning; /* the pass is past its wait list */
  bool rescan;   /* the list was full: walk from the first row next */
};

sg__sq_settle_t *sg__sq_settle_new(void) {
  return sg_calloc(1, sizeof(sg__sq_settle_t));
}

void sg__sq_settle_free(sg__sq_settle_t *s) {
  if (s == NULL)
    return;
  for (size_t i = 0; i < s->n_wait; i++)
    sg_free(s->wait[i]);
  sg_free(s->wait);
  sg_free(s->cursor);
  sg_free(s);
}

/* Room for one more entry in the list; false when it may not grow. */
static bool wait_room(sg__sq_settle_t *s) {
  if (s->n_wait < s->cap_wait)
    return true;
  if (s->n_wait >= WAIT_MAX)
    return false;
  size_t cap = s->cap_wait ? s->cap_wait * 2 : 256;
  char **w = sg_realloc(s->wait, cap * sizeof *w);
  if (w == NULL)
    return false;
  s->wait = w;
  s->cap_wait = cap;
  return true;
}

void sg__sq_settle_note(sg__sq_settle_t *s, const char *mid) {
  if (s == NULL || mid == NULL)
    return;
  /* Not yet walked: the walk finds it. A row noted twice is looked at
   * twice; the second look finds it settled. */
  if (s->cursor == NULL || strcmp(mid, s->cursor) > 0)
    return;
  char *id = wait_room(s) ? sg_strdup(mid) : NULL;
  if (id == NULL) {
    s->rescan = true; /* the walk from the first row finds it */
    return;
  }
  s->wait[s->n_wait++] = id;
}

/* Settles the row of mid if it is a one-part 'queued' row whose part
 * carries a final status: 1 when it did, 0 when not, or an error. */
static int settle_one(sg__sq_conn_t *c, const char *mid) {
  int rc = sg__sq_msg_settle(c, mid);
  if (rc < 0)
    return rc;
  return sqlite3_changes(c->db) > 0;
}

/* The list's next `max` rows (*k of them), which leave it once the
 * transaction committed: each was noted when its part ended. */
static int revisit(sg__sq_conn_t *c, sg__sq_settle_t *s, unsigned max,
                   unsigned *k, unsigned *settled) {
  *k = 0;
  for (size_t i = s->next; i < s->n_wait && *k < max; i++, (*k)++) {
    int rc = settle_one(c, s->wait[i]);
    if (rc < 0)
      return rc;
    *settled += (unsigned)rc;
  }
  return 0;
}

/* The next `max` rows after the cursor (*n_rows of them): *last the last
 * one's id (NULL when none). A one-part row whose part has not ended is
 * left: when it ends, behind the cursor then, it is noted. */
static int scan(sg__sq_conn_t *c, sg__sq_settle_t *s, unsigned max, char **last,
                char **ids, unsigned *n_rows, unsigned *settled) {
  sqlite3_stmt *q = sg__sq_stmt(c, SG__Q_MSG_SETTLE_NEXT);
  if (q == NULL)
    return SG_EIO;
  sqlite3_bind_text(q, 1, s->cursor != NULL ? s->cursor : "", -1,
                    SQLITE_STATIC);
  sqlite3_bind_int64(q, 2, max);
  /* the ids first: the updates change the rows walked */
  unsigned n = 0;
  int rc, out = 0;
  *n_rows = 0;
  while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
    const char *id = (const char *)sqlite3_column_text(q, 0);
    (*n_rows)++;
    sg_free(*last);
    if ((*last = sg_strdup(id != NULL ? id : "")) == NULL) {
      out = SG_ENOMEM;
      break;
    }
    if (sqlite3_column_int(q, 1) == 0)
      continue;
    if ((ids[n] = sg_strdup(id != NULL ? id : "")) == NULL) {
      out = SG_ENOMEM;
      break;
    }
    n++;
  }
  if (out == 0 && rc != SQLITE_DONE && rc != SQLITE_ROW)
    out = SG_EIO;
  sqlite3_reset(q);
  sqlite3_clear_bindings(q);
  for (unsigned i = 0; i < n; i++) {
    int r = out < 0 ? 0 : settle_one(c, ids[i]);
    if (r < 0)
      out = r;
    else
      *settled += (unsigned)r;
    sg_free(ids[i]);
  }
  return out;
}

int sg__sq_settle_batch(sg__sq_conn_t *c, sg__sq_settle_t *s, unsigned max,
                        unsigned *settled, bool *more) {
  *settled = 0;
  *more = true;
  if (!s->scanning && s->next >= s->n_wait)
    s->scanning = true;
  char **ids = NULL;
  char *last = NULL;
  unsigned k = 0, n_rows = 0;
  if (s->scanning && (ids = sg_calloc(max, sizeof *ids)) == NULL)
    return SG_ENOMEM;
  int rc = sg__sq_exec(c, SG__Q_BEGIN) == SQLITE_OK ? 0 : SG_EIO;
  if (rc == 0)
    rc = s->scanning ? scan(c, s, max, &last, ids, &n_rows, settled)
                     : revisit(c, s, max, &k, settled);
  if (rc == 0 && sg__sq_exec(c, SG__Q_COMMIT) != SQLITE_OK)
    rc = SG_EIO;
  if (rc < 0) {
    if (!sqlite3_get_autocommit(c->db))
      sg__sq_exec(c, SG__Q_ROLLBACK);
    *settled = 0;
    s->scanning = false; /* the next pass starts with the list again */
    s->next = 0;
  } else if (!s->scanning) { /* the entries looked at leave the list */
    for (unsigned i = 0; i < k; i++)
      sg_free(s->wait[s->next + i]);
    memmove(s->wait + s->next, s->wait + s->next + k,
            (s->n_wait - s->next - k) * sizeof *s->wait);
    s->n_wait -= k;
  } else {
    if (last != NULL) {
      sg_free(s->cursor);
      s->cursor = last;
      last = NULL;
    }
    if (n_rows < max) { /* the pass reached the last row */
      *more = false;
      s->scanning = false;
      s->next = 0;
      if (s->rescan) { /* the walk from the first row finds them again */
        sg_free(s->cursor);
        s->cursor = NULL;
        s->rescan = false;
        for (size_t i = 0; i < s->n_wait; i++)
          sg_free(s->wait[i]);
        s->n_wait = 0;
      }
    }
  }
  sg_free(last);
  sg_free(ids);
  return rc;
}
