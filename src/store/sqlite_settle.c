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
 * pass: the rows behind the cursor are not looked at again, save those
 * whose part had not ended when the cursor passed them (in flight: claimed,
 * sent, waiting for a receipt), which are kept in a list and looked up
 * first at each pass until they are settled or no longer one-part 'queued'
 * rows. When the list is full (WAIT_MAX), the pass after the next walks the
 * table from the first row again. A row that goes back to 'queued' behind
 * the cursor (the operator's retry) joins the list (sg__sq_settle_note).
 * Writer thread only.
 */
#include "store/sqlite_settle.h"

#include <string.h>

#include "core/alloc.h"
#include "core/error.h"
#include "store/sqlite_int.h"

#define WAIT_MAX 65536

struct sg__sq_settle {
  char *cursor; /* every row up to this id was looked at; NULL: none */
  char **wait;  /* rows looked at while their part had not ended */
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

/* Room for n more entries in the list; false when it may not grow. */
static bool wait_room(sg__sq_settle_t *s, size_t n) {
  if (s->n_wait + n <= s->cap_wait)
    return true;
  if (s->n_wait + n > WAIT_MAX)
    return false;
  size_t cap = s->cap_wait ? s->cap_wait : 256;
  while (cap < s->n_wait + n)
    cap *= 2;
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
  /* Not yet walked (the walk finds it), or in the list already. */
  if (s->cursor == NULL || strcmp(mid, s->cursor) > 0)
    return;
  for (size_t i = 0; i < s->n_wait; i++)
    if (strcmp(s->wait[i], mid) == 0)
      return;
  char *id = wait_room(s, 1) ? sg_strdup(mid) : NULL;
  if (id == NULL) {
    s->rescan = true; /* the walk from the first row finds it */
    return;
  }
  s->wait[s->n_wait++] = id;
}

size_t sg__sq_settle_waiting(const sg__sq_settle_t *s) {
  return s->n_wait;
}

/* Settles the row of mid if its part carries a final status: 1 when it
 * did, 0 when the row still waits for its part (one-part, 'queued'), 2
 * when it does not (any other row), or an error. */
static int settle_one(sg__sq_conn_t *c, const char *mid, bool check) {
  int rc = sg__sq_msg_settle(c, mid);
  if (rc < 0)
    return rc;
  if (sqlite3_changes(c->db) > 0)
    return 1;
  if (!check)
    return 0;
  sqlite3_stmt *s = sg__sq_stmt(c, SG__Q_MSG_SETTLE_WAITS);
  if (s == NULL)
    return SG_EIO;
  sg__sq_bind_text(s, 1, mid);
  rc = sqlite3_step(s);
  sqlite3_reset(s);
  sqlite3_clear_bindings(s);
  if (rc != SQLITE_ROW && rc != SQLITE_DONE)
    return SG_EIO;
  return rc == SQLITE_ROW ? 0 : 2;
}

/* The wait list's next `max` rows: those settled or gone leave it once
 * the transaction committed (keep[i] false). */
static int revisit(sg__sq_conn_t *c, sg__sq_settle_t *s, unsigned max,
                   bool *keep, unsigned *k, unsigned *settled) {
  *k = 0;
  int rc = 0;
  for (size_t i = s->next; rc >= 0 && i < s->n_wait && *k < max; i++) {
    rc = settle_one(c, s->wait[i], true);
    keep[(*k)++] = rc == 0;
    *settled += rc == 1;
  }
  return rc < 0 ? rc : 0;
}

/* The next `max` rows after the cursor: *last the last one's id (NULL
 * when none), fresh[] the one-part rows whose part had not ended. */
static int scan(sg__sq_conn_t *c, sg__sq_settle_t *s, unsigned max, char **last,
                char **fresh, unsigned *n_fresh, unsigned *n_rows,
                unsigned *settled) {
  sqlite3_stmt *q = sg__sq_stmt(c, SG__Q_MSG_SETTLE_NEXT);
  if (q == NULL)
    return SG_EIO;
  sqlite3_bind_text(q, 1, s->cursor != NULL ? s->cursor : "", -1,
                    SQLITE_STATIC);
  sqlite3_bind_int64(q, 2, max);
  /* the ids first: the updates change the rows walked */
  char **ids = fresh; /* the candidates, in place */
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
  *n_fresh = 0;
  for (unsigned i = 0; i < n; i++) {
    int r = out < 0 ? 1 : settle_one(c, ids[i], false);
    if (r < 0)
      out = r;
    if (r == 0) {
      ids[(*n_fresh)++] = ids[i]; /* waits for its part */
    } else {
      *settled += r == 1;
      sg_free(ids[i]);
    }
  }
  return out;
}

static void free_all(char **v, unsigned n) {
  for (unsigned i = 0; i < n; i++)
    sg_free(v[i]);
}

int sg__sq_settle_batch(sg__sq_conn_t *c, sg__sq_settle_t *s, unsigned max,
                        unsigned *settled, bool *more) {
  *settled = 0;
  *more = true;
  if (!s->scanning && s->next >= s->n_wait)
    s->scanning = true;
  bool *keep = NULL;
  char **fresh = NULL;
  char *last = NULL;
  unsigned k = 0, n_fresh = 0, n_rows = 0;
  if (s->scanning)
    fresh = sg_calloc(max, sizeof *fresh);
  else
    keep = sg_calloc(max, sizeof *keep);
  if (fresh == NULL && keep == NULL)
    return SG_ENOMEM;
  int rc = sg__sq_exec(c, SG__Q_BEGIN) == SQLITE_OK ? 0 : SG_EIO;
  if (rc == 0)
    rc = s->scanning ? scan(c, s, max, &last, fresh, &n_fresh, &n_rows, settled)
                     : revisit(c, s, max, keep, &k, settled);
  if (rc == 0 && sg__sq_exec(c, SG__Q_COMMIT) != SQLITE_OK)
    rc = SG_EIO;
  if (rc == 0 && s->scanning && n_fresh > 0)
    wait_room(s, n_fresh);
  if (rc < 0) {
    if (!sqlite3_get_autocommit(c->db))
      sg__sq_exec(c, SG__Q_ROLLBACK);
    free_all(fresh, n_fresh);
    *settled = 0;
    s->scanning = false; /* the next pass starts with the list again */
    s->next = 0;
  } else if (!s->scanning) { /* the list's entries settled or gone leave */
    size_t at = s->next;
    for (unsigned i = 0; i < k; i++) {
      char *id = s->wait[s->next + i];
      if (keep[i])
        s->wait[at++] = id;
      else
        sg_free(id);
    }
    memmove(s->wait + at, s->wait + s->next + k,
            (s->n_wait - s->next - k) * sizeof *s->wait);
    s->n_wait -= s->next + k - at;
    s->next = at;
  } else {
    for (unsigned i = 0; i < n_fresh; i++) {
      if (s->n_wait < s->cap_wait)
        s->wait[s->n_wait++] = fresh[i];
      else {
        sg_free(fresh[i]);
        s->rescan = true;
      }
    }
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
  sg_free(fresh);
  sg_free(keep);
  return rc;
}
