/* sqlite_whq.c - the SQLite writer's in-memory queue of the webhook
 * deliveries of message status changes (sqlite_whq.h), and the watermark
 * that makes it survive a crash.
 *
 * Deliveries sit in a ring in the order of their events' ids (ids grow
 * with every insert: events are never deleted). A delivery finished in
 * the middle leaves a hole that the head passes once everything before it
 * is finished; the ring's size and the bytes it holds bound it, and a
 * delivery that does not fit gets its row as before. The watermark is the
 * id just below the oldest delivery not finished (or, with none held, the
 * newest event): written in the transaction of a group whenever it moved
 * (a one-row UPDATE a group, not a message), so a store left alone is not
 * written again later, and it never passes a delivery that is neither
 * taken nor written as a row.
 *
 * Every change made inside a transaction is undone when it rolls back: the
 * deliveries it queued are dropped, its claims and finishes are undone. It
 * must never write a row but the watermark and the row of a delivery that
 * ends in memory with a retry or a give-up.
 */
#include "store/sqlite_whq.h"

#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/error.h"
#include "store/sqlite_int.h"

#define SLOTS_DEFAULT 16384u  /* deliveries held at most */
#define BYTES_MAX (16u << 20) /* their strings and payloads at most */
#define ROWS_EVERY_MS 1000    /* rows get a share of a full claim */
#define SPILLS_MAX 64         /* deliveries spilled a transaction at most */
#define SPILL_AFTER_MS 1000   /* out that long, a full queue spills it */

enum { Q_MARK_GET, Q_MARK_SET, Q_EVENTS, Q_ROW, Q_MAX_EVENT, Q_N };

static const char *const whq_sql[Q_N] = {
    [Q_MARK_GET] = "SELECT event_id FROM webhook_mark",
    [Q_MARK_SET] = "UPDATE webhook_mark SET event_id = ?1",
    /* The message events after the watermark whose delivery has no row. */
    [Q_EVENTS] =
        "SELECT e.id, e.message_id, e.status, e.error_code, e.detail, "
        "e.time_ms, m.batch_id, m.account_id, m.sender, m.recipient, "
        "m.client_ref, m.callback_url, m.webhook_statuses, m.dlr_url, "
        "m.dlr_mask FROM events e JOIN messages m ON m.id = e.message_id "
        "WHERE e.id > ?1 AND e.part_seq IS NULL AND m.parts_total = 1 AND "
        "(m.callback_url IS NOT NULL OR m.dlr_url IS NOT NULL) AND NOT "
        "EXISTS (SELECT 1 FROM webhooks w WHERE w.id = -e.id) ORDER BY e.id",
    [Q_ROW] = "INSERT INTO webhooks (id, account_id, message_id, event_id, "
              "url, payload, status, attempts, next_attempt_ms, last_error, "
              "created_ms, updated_ms, method) VALUES (?1,?2,?3,?4,?5,?6,?7,"
              "?8,?9,?10,?11,?12,?13)",
    [Q_MAX_EVENT] = "SELECT coalesce(max(id), 0) FROM events",
};

typedef struct ent {
  int64_t event_id;
  int64_t account_id;
  int64_t created_ms;
  int64_t until_ms;   /* the lease; 0: not handed out */
  int64_t prev_until; /* as before this transaction's claim */
  int64_t out_ms;     /* when it was last handed out */
  uint64_t lease_tx;  /* the transaction of the last claim */
  uint64_t fin_tx;    /* the transaction that finished it */
  unsigned tries;     /* claims so far */
  unsigned prev_tries;
  bool fin;   /* taken, or written as a row */
  bool get;   /* a Kannel dlr-url call (no payload) */
  bool rec;   /* the blob ends with the status change's record (its
                 payload is written from it off the writer) */
  char *blob; /* message id NUL url NUL payload or record; NULL once freed */
  uint32_t mid_len, url_len, len;
} ent_t;

struct sg__sq_whq {
  ent_t *e;
  size_t cap; /* slots, a power of two (0: memory is off) */
  size_t bytes;
  uint64_t head, tail; /* e[head & mask] .. e[(tail - 1) & mask] */
  uint64_t tail0;      /* tail when the transaction began */
  uint64_t fresh;      /* first delivery never handed out */
  uint64_t fresh0;
  int64_t retry_at; /* no lease runs out before (a lower bound) */
  int64_t rows_at;  /* when rows next get their share of a full claim */
  uint64_t tx;
  uint64_t *touched; /* slots claimed or finished in this transaction */
  size_t n_touched, cap_touched;
  int64_t hi, hi_tx;     /* newest event: committed, and in this transaction */
  int64_t mark, mark_tx; /* the watermark stored; and as written now (0) */
  unsigned spills_tx;    /* deliveries spilled in this transaction */
  _Atomic uint64_t pending;
  sqlite3_stmt *q[Q_N];
};

static sqlite3_stmt *stmt(sg__sq_conn_t *c, int q) {
  struct sg__sq_whq *w = c->whq;
  if (w->q[q] == NULL)
    w->q[q] = sg__sq_prepare(c, whq_sql[q]);
  else
    sqlite3_reset(w->q[q]);
  if (w->q[q] != NULL)
    sqlite3_clear_bindings(w->q[q]);
  return w->q[q];
}

static ent_t *at(struct sg__sq_whq *w, uint64_t i) {
  return &w->e[i & (w->cap - 1)];
}

int sg__sq_whq_part(int to) {
  switch (to) {
  case SG_MSG_SENDING:
  case SG_MSG_CANCELED:
    return 0;
  case SG_MSG_SENT:
  case SG_MSG_DELIVERED:
  case SG_MSG_UNDELIVERABLE:
  case SG_MSG_EXPIRED:
  case SG_MSG_REJECTED:
  case SG_MSG_FAILED:
    return 1;
  default:
    return -1;
  }
}

/* The ring's size from SG_STORE_WEBHOOK_MEMORY (deliveries; 0 turns it
 * off, for comparisons and tests), else SLOTS_DEFAULT. */
static size_t slots_wanted(void) {
  const char *v = getenv("SG_STORE_WEBHOOK_MEMORY");
  unsigned long n = SLOTS_DEFAULT;
  if (v != NULL && v[0] != '\0') {
    char *end;
    n = strtoul(v, &end, 10);
    if (*end != '\0' || n > (1ul << 20))
      n = SLOTS_DEFAULT;
  }
  size_t cap = 0;
  if (n > 0)
    for (cap = 1; cap < n; cap *= 2)
      ;
  return cap;
}

/* ---- holding ------------------------------------------------------------- */

static void drop(struct sg__sq_whq *w, ent_t *x) {
  if (x->blob != NULL) {
    w->bytes -= (size_t)x->mid_len + x->url_len + x->len + 2;
    sg_free(x->blob);
    x->blob = NULL;
    atomic_fetch_sub(&w->pending, 1);
  }
}

/* Holds a delivery: a status change's, whose blob ends with the record of
 * ev (sg__store_status_pack), or with ev NULL a GET of url. */
static int push(sg__sq_conn_t *c, int64_t event_id, int64_t account_id,
                const char *mid, const char *url, const sg__status_event_t *ev,
                bool get, int64_t now) {
  struct sg__sq_whq *w = c->whq;
  size_t mid_len = strlen(mid), url_len = strlen(url);
  size_t len = ev != NULL ? sg__store_status_pack(ev, NULL, 0) : 0;
  size_t need = mid_len + url_len + len + 2;
  if (w->tail - w->head >= w->cap || w->bytes + need > BYTES_MAX ||
      len > UINT32_MAX || url_len > UINT32_MAX)
    return 0;
  if (w->e == NULL && (w->e = sg_calloc(w->cap, sizeof *w->e)) == NULL)
    return 0;
  char *blob = sg_malloc(need);
  if (blob == NULL)
    return 0; /* the row, then */
  memcpy(blob, mid, mid_len + 1);
  memcpy(blob + mid_len + 1, url, url_len + 1);
  if (ev != NULL)
    sg__store_status_pack(ev, (uint8_t *)blob + mid_len + url_len + 2, len);
  ent_t *x = at(w, w->tail++);
  *x = (ent_t){.event_id = event_id,
               .account_id = account_id,
               .created_ms = now,
               .blob = blob,
               .get = get,
               .rec = ev != NULL,
               .mid_len = (uint32_t)mid_len,
               .url_len = (uint32_t)url_len,
               .len = (uint32_t)len};
  w->bytes += need;
  atomic_fetch_add(&w->pending, 1);
  return 1;
}

static int spill(sg__sq_conn_t *c, int64_t now);

static int offer(sg__sq_conn_t *c, int64_t event_id, int64_t account_id,
                 const char *message_id, const char *url,
                 const sg__status_event_t *ev, bool get, int64_t now) {
  struct sg__sq_whq *w = c->whq;
  if (w == NULL || w->cap == 0 || event_id <= w->mark || event_id <= w->mark_tx)
    return 0;
  /* Kept in the order of the events (finish looks them up by halving). */
  if (w->tail > w->head && at(w, w->tail - 1)->event_id >= event_id)
    return 0;
  int rc = push(c, event_id, account_id, message_id, url, ev, get, now);
  if (rc == 0 && w->spills_tx < SPILLS_MAX) { /* full: make room for later */
    w->spills_tx++;
    int s = spill(c, now);
    if (s < 0)
      return s;
  }
  return rc;
}

int sg__sq_whq_offer(sg__sq_conn_t *c, int64_t event_id, int64_t account_id,
                     const char *message_id, const char *url,
                     const sg__status_event_t *ev, int64_t now) {
  return offer(c, event_id, account_id, message_id, url, ev, false, now);
}

int sg__sq_whq_offer_get(sg__sq_conn_t *c, int64_t event_id, int64_t account_id,
                         const char *message_id, const char *url, int64_t now) {
  return offer(c, event_id, account_id, message_id, url, NULL, true, now);
}

void sg__sq_whq_event(sg__sq_conn_t *c, int64_t event_id) {
  struct sg__sq_whq *w = c->whq;
  if (w != NULL && event_id > w->hi_tx)
    w->hi_tx = event_id;
}

int64_t sg__sq_whq_newest(const sg__sq_conn_t *c) {
  const struct sg__sq_whq *w = c->whq;
  return w != NULL ? w->hi_tx : -1;
}

uint64_t sg__sq_whq_pending(const sg__sq_conn_t *c) {
  struct sg__sq_whq *w = c->whq;
  return w != NULL ? atomic_load(&w->pending) : 0;
}

static int touch(struct sg__sq_whq *w, uint64_t i) {
  if (w->n_touched == w->cap_touched) {
    uint64_t *t =
        sg_grow(w->touched, &w->cap_touched, w->n_touched + 1, 256, sizeof *t);
    if (t == NULL)
      return SG_ENOMEM;
    w->touched = t;
  }
  w->touched[w->n_touched++] = i;
  return 0;
}

/* ---- claim --------------------------------------------------------------- */

/* Fills every field of o (the claim's array is not zeroed). */
static bool copy_out(sg__arena_t *a, const ent_t *x, sg_store_webhook_t *o) {
  bool ok = true;
  o->id = -x->event_id;
  o->account_id = x->account_id;
  o->message_id = sg__arena_strndup(a, x->blob, x->mid_len, &ok);
  o->url = sg__arena_strndup(a, x->blob + x->mid_len + 1, x->url_len, &ok);
  const char *tail = x->blob + x->mid_len + x->url_len + 2;
  if (x->rec) { /* the thread that sends it writes its payload */
    o->payload = NULL;
    o->payload_len = 0;
    o->event = sg__arena_memdup(a, tail, x->len, &ok);
    o->event_len = x->len;
  } else { /* a GET has no payload: the blob ends with its URL's NUL */
    o->payload = x->len ? sg__arena_memdup(a, tail, x->len, &ok)
                        : sg__arena_memdup(a, "", 1, &ok);
    o->payload_len = x->len;
    o->event = NULL;
    o->event_len = 0;
  }
  o->attempts = x->tries;
  o->created_ms = x->created_ms;
  o->get = x->get;
  return ok;
}

/* Hands delivery i out into o; a failure changes nothing. */
static int take(struct sg__sq_whq *w, sg__arena_t *a, uint64_t i,
                sg_store_webhook_t *o, int64_t now, int64_t until) {
  ent_t *x = at(w, i);
  if (!copy_out(a, x, o) || (x->lease_tx != w->tx && touch(w, i) < 0))
    return SG_ENOMEM;
  if (x->lease_tx != w->tx) {
    x->prev_until = x->until_ms;
    x->prev_tries = x->tries;
    x->lease_tx = w->tx;
  }
  x->until_ms = until;
  x->out_ms = now;
  o->attempts = ++x->tries;
  if (until < w->retry_at)
    w->retry_at = until;
  return 0;
}

static ent_t *find(struct sg__sq_whq *w, int64_t event_id, uint64_t *idx);

/* A claim that fails hands nothing out: what it took is due again at
 * once, as if its lease had run out, and the attempt is not counted. */
static void untake(struct sg__sq_whq *w, const sg_store_webhook_t *o,
                   size_t n) {
  uint64_t i;
  for (size_t k = 0; k < n; k++) {
    ent_t *x = find(w, -o[k].id, &i);
    if (x != NULL) {
      x->until_ms = 1;
      x->tries--;
    }
  }
  w->retry_at = INT64_MIN;
}

size_t sg__sq_whq_rows_share(const sg__sq_conn_t *c, size_t max, int64_t now) {
  const struct sg__sq_whq *w = c->whq;
  if (w == NULL || w->head == w->tail || now < w->rows_at)
    return 0;
  return max / 4 > 0 ? max / 4 : 1;
}

void sg__sq_whq_rows_served(sg__sq_conn_t *c, int64_t now) {
  if (c->whq != NULL)
    c->whq->rows_at = now + ROWS_EVERY_MS;
}

int sg__sq_whq_claim(sg__sq_conn_t *c, sg__arena_t *a, sg_store_webhook_t *o,
                     size_t max, int64_t now, int64_t until) {
  struct sg__sq_whq *w = c->whq;
  if (w == NULL || w->head == w->tail)
    return 0;
  size_t n = 0;
  int rc = 0;
  if (w->fresh < w->head)
    w->fresh = w->head;
  /* Leases that ran out are looked for only when one may have. */
  if (now >= w->retry_at) {
    int64_t next = INT64_MAX;
    for (uint64_t i = w->head; rc == 0 && i < w->fresh; i++) {
      ent_t *x = at(w, i);
      if (x->fin || x->until_ms == 0)
        continue;
      if (x->until_ms > now) {
        next = x->until_ms < next ? x->until_ms : next;
        continue;
      }
      if (n == max) {
        next = now; /* more to take next time */
        continue;
      }
      rc = take(w, a, i, &o[n], now, until);
      n += rc == 0;
    }
    w->retry_at = next < until ? next : until;
  }
  while (rc == 0 && n < max && w->fresh < w->tail) {
    ent_t *x = at(w, w->fresh++);
    if (x->fin)
      continue;
    rc = take(w, a, w->fresh - 1, &o[n], now, until);
    n += rc == 0;
  }
  if (rc < 0)
    untake(w, o, n);
  return rc < 0 ? rc : (int)n;
}

int64_t sg__sq_whq_next(const sg__sq_conn_t *c, int64_t now) {
  const struct sg__sq_whq *w = c->whq;
  int64_t t = 0;
  for (uint64_t i = w != NULL ? w->head : 0; w != NULL && i < w->fresh; i++) {
    const ent_t *x = at((struct sg__sq_whq *)w, i);
    if (x->fin || x->until_ms == 0)
      continue; /* finished, or never handed out */
    int64_t due = x->until_ms > now ? x->until_ms : now;
    if (t == 0 || due < t)
      t = due;
  }
  return t;
}

/* ---- finish -------------------------------------------------------------- */

static ent_t *find(struct sg__sq_whq *w, int64_t event_id, uint64_t *idx) {
  uint64_t lo = w->head, hi = w->tail;
  while (lo < hi) {
    uint64_t mid = lo + (hi - lo) / 2;
    int64_t id = at(w, mid)->event_id;
    if (id == event_id) {
      *idx = mid;
      return at(w, mid);
    }
    if (id < event_id)
      lo = mid + 1;
    else
      hi = mid;
  }
  return NULL;
}

/* The row of a delivery held in memory: for a retry or a give-up, or when
 * it leaves memory while it is out (spill). */
static int write_row(sg__sq_conn_t *c, const ent_t *x, const char *status,
                     unsigned attempts, int64_t next_ms, const char *error,
                     int64_t now) {
  const char *payload = x->blob + x->mid_len + x->url_len + 2;
  size_t len = x->len;
  if (x->rec) { /* a row holds the payload itself: written now */
    sg__status_event_t ev;
    int rc = sg__store_status_unpack((const uint8_t *)payload, len, &ev);
    if (rc == 0)
      rc = sg__store_status_payload(&c->json, &ev);
    if (rc < 0)
      return rc;
    payload = c->json.p;
    len = c->json.len;
  }
  sqlite3_stmt *s = stmt(c, Q_ROW);
  if (s == NULL)
    return SG_EIO;
  sqlite3_bind_int64(s, 1, -x->event_id);
  if (x->account_id > 0)
    sqlite3_bind_int64(s, 2, x->account_id);
  sqlite3_bind_text(s, 3, x->blob, (int)x->mid_len, SQLITE_STATIC);
  sqlite3_bind_int64(s, 4, x->event_id);
  sqlite3_bind_text(s, 5, x->blob + x->mid_len + 1, (int)x->url_len,
                    SQLITE_STATIC);
  sqlite3_bind_blob(s, 6, payload, (int)len, SQLITE_STATIC);
  sqlite3_bind_text(s, 7, status, -1, SQLITE_STATIC);
  sqlite3_bind_int(s, 8, (int)attempts);
  sqlite3_bind_int64(s, 9, next_ms);
  sg__sq_bind_text(s, 10, error);
  sqlite3_bind_int64(s, 11, x->created_ms);
  sqlite3_bind_int64(s, 12, now);
  sqlite3_bind_text(s, 13, x->get ? "GET" : "POST", -1, SQLITE_STATIC);
  return sg__sq_err(sg__sq_step_done(s));
}

static void finished(struct sg__sq_whq *w, ent_t *x) {
  x->fin = true;
  x->fin_tx = w->tx;
}

/* The queue is full: when the oldest delivery not finished is out with a
 * sender (a slow receiver holds the head while the ones after it end), it
 * goes on as a row under its lease (sqlite_lease.h), so that the head can
 * move at the commit. Its finish then finds the row. */
static int spill(sg__sq_conn_t *c, int64_t now) {
  struct sg__sq_whq *w = c->whq;
  uint64_t i = w->head;
  while (i < w->tail0 && at(w, i)->fin)
    i++;
  ent_t *x = i < w->tail0 ? at(w, i) : NULL;
  if (x == NULL || x->until_ms == 0 || now - x->out_ms < SPILL_AFTER_MS)
    return 0; /* not held up: the new delivery gets its row instead */
  int rc = write_row(c, x, "pending", 0, x->created_ms, NULL, now);
  if (rc == 0)
    rc = sg__sq_wh_adopt(c, -x->event_id, x->until_ms, x->tries, now);
  if (rc == 0)
    rc = touch(w, i);
  if (rc == 0)
    finished(w, x);
  return rc;
}

int sg__sq_whq_finish(sg__sq_conn_t *c, const sg_store_webhook_result_t *r,
                      int64_t now) {
  struct sg__sq_whq *w = c->whq;
  uint64_t i;
  ent_t *x = w != NULL && r->id < 0 ? find(w, -r->id, &i) : NULL;
  if (x == NULL)
    return 0;
  if (x->fin)
    return 0; /* finished already (or spilled): its row, if any, decides */
  bool retry = r->next_attempt_ms > 0;
  /* Handed back unsent: its claim's try is taken back, as untake does,
   * and no error is recorded (none was seen). */
  unsigned tries = r->untried ? (x->tries > 0 ? x->tries - 1 : 0)
                              : (x->tries > 0 ? x->tries : 1);
  int rc = r->done ? 0
                   : write_row(c, x, retry ? "pending" : "failed", tries,
                               retry ? r->next_attempt_ms : now,
                               r->untried ? NULL : r->error, now);
  if (rc == 0)
    rc = touch(w, i);
  if (rc < 0)
    return rc;
  finished(w, x);
  return 1;
}

/* ---- the watermark ------------------------------------------------------- */

int sg__sq_whq_mark(sg__sq_conn_t *c) {
  struct sg__sq_whq *w = c->whq;
  if (w == NULL)
    return 0;
  uint64_t i = w->head;
  while (i < w->tail && at(w, i)->fin)
    i++;
  int64_t m = i < w->tail ? at(w, i)->event_id - 1 : w->hi_tx;
  if (m <= w->mark)
    return 0;
  sqlite3_stmt *s = stmt(c, Q_MARK_SET);
  if (s == NULL)
    return SG_EIO;
  sqlite3_bind_int64(s, 1, m);
  if (sg__sq_step_done(s) != SQLITE_OK)
    return SG_EIO;
  w->mark_tx = m;
  return 0;
}

void sg__sq_whq_tx_end(sg__sq_conn_t *c, bool committed) {
  struct sg__sq_whq *w = c->whq;
  if (w == NULL)
    return;
  for (size_t k = 0; k < w->n_touched; k++) {
    uint64_t i = w->touched[k];
    if (i >= w->tail0 || i < w->head)
      continue; /* queued by this transaction: dropped below if undone */
    ent_t *x = at(w, i);
    if (x->fin && x->fin_tx == w->tx) {
      if (committed)
        drop(w, x);
      else
        x->fin = false;
    }
    if (!committed && x->lease_tx == w->tx) {
      x->until_ms = x->prev_until;
      x->tries = x->prev_tries;
      x->lease_tx = 0;
    }
  }
  w->n_touched = 0;
  if (committed) {
    for (uint64_t i = w->tail0; i < w->tail; i++)
      if (at(w, i)->fin)
        drop(w, at(w, i));
    while (w->head < w->tail && at(w, w->head)->fin) {
      drop(w, at(w, w->head));
      w->head++;
    }
    w->hi = w->hi_tx;
    if (w->mark_tx > w->mark)
      w->mark = w->mark_tx;
  } else {
    while (w->tail > w->tail0)
      drop(w, at(w, --w->tail));
    w->fresh = w->fresh0 < w->tail ? w->fresh0 : w->tail;
    w->retry_at = INT64_MIN; /* a restored lease may have run out */
    w->hi_tx = w->hi;
  }
  w->mark_tx = 0;
  w->spills_tx = 0;
  w->tail0 = w->tail;
  if (w->fresh < w->head)
    w->fresh = w->head;
  w->fresh0 = w->fresh;
  w->tx++;
}

/* ---- open and close ------------------------------------------------------ */

static int64_t one_int(sg__sq_conn_t *c, int q, int *rc) {
  sqlite3_stmt *s = stmt(c, q);
  if (s == NULL) {
    *rc = SG_EIO;
    return 0;
  }
  int64_t v = 0;
  int r = sqlite3_step(s);
  if (r == SQLITE_ROW)
    v = sqlite3_column_int64(s, 0);
  else if (r != SQLITE_DONE)
    *rc = SG_EIO;
  sqlite3_reset(s);
  return v;
}

/* The Kannel dlr-url call of the event the query is on (a message with no
 * callback URL), as sqlite_kannel.c held it at commit. */
static int rebuild_get(sg__sq_conn_t *c, sqlite3_stmt *s, uint64_t *n) {
  sg__arena_t a = {NULL};
  sg__sq_dlr_ev_t ev = {
      .message_id = (const char *)sqlite3_column_text(s, 1),
      .account_id = sqlite3_column_int64(s, 7),
      .from = (const char *)sqlite3_column_text(s, 8),
      .to = (const char *)sqlite3_column_text(s, 9),
      .client_ref = (const char *)sqlite3_column_text(s, 10),
      .dlr_url = (const char *)sqlite3_column_text(s, 13),
      .dlr_mask = (unsigned)sqlite3_column_int(s, 14),
      .before = SG_MSG_NONE, /* the held statuses do not depend on it */
      .after = sg__sq_col_status(s, 2),
      .seq = 1,
      .error_code = sqlite3_column_int(s, 3),
      .detail = (const char *)sqlite3_column_text(s, 4),
      .event_id = sqlite3_column_int64(s, 0),
      .memory = true};
  int64_t t = sqlite3_column_int64(s, 5);
  if (ev.message_id == NULL)
    return SG_ENOMEM;
  const char *url;
  int rc = sg__sq_kannel_held_url(c, &a, &ev, t, &url);
  if (rc == 1) {
    (*n)++;
    rc = 0;
    if (push(c, ev.event_id, ev.account_id, ev.message_id, url, NULL, true,
             t) != 1) { /* no room: its row, as at commit */
      sqlite3_stmt *r = sg__sq_stmt(c, SG__Q_WEBHOOK_INSERT_GET);
      if (r == NULL)
        rc = SG_EIO;
      else {
        if (ev.account_id > 0)
          sqlite3_bind_int64(r, 1, ev.account_id);
        sg__sq_bind_text(r, 2, ev.message_id);
        sqlite3_bind_int64(r, 3, ev.event_id);
        sg__sq_bind_text(r, 4, url);
        sqlite3_bind_int64(r, 5, t);
        sqlite3_bind_int64(r, 6, -ev.event_id);
        rc = sg__sq_err(sg__sq_step_done(r));
      }
    }
  }
  sg__arena_free(&a);
  return rc;
}

/* The delivery of the event the query is on, in memory or as its row. */
static int rebuild_one(sg__sq_conn_t *c, sqlite3_stmt *s, int64_t now,
                       uint64_t *n) {
  if (sqlite3_column_type(s, 11) == SQLITE_NULL)
    return rebuild_get(c, s, n);
  sg_msg_status_t to = sg__sq_col_status(s, 2);
  uint32_t wanted = (uint32_t)sqlite3_column_int64(s, 12);
  if (wanted == 0)
    wanted = c->st->cfg.webhook_statuses;
  int part = sg__sq_whq_part((int)to);
  if (part < 0 || !(wanted & SG_MSG_BIT(to)))
    return 0;
  bool failure = sg_store_status_final(to) && to != SG_MSG_DELIVERED &&
                 to != SG_MSG_CANCELED;
  sg__status_event_t ev = {
      .message_id = (const char *)sqlite3_column_text(s, 1),
      .batch_id = (const char *)sqlite3_column_text(s, 6),
      .status = to,
      .to = (const char *)sqlite3_column_text(s, 9),
      .from = (const char *)sqlite3_column_text(s, 8),
      .client_ref = (const char *)sqlite3_column_text(s, 10),
      .part = (unsigned)part,
      .error_code = failure ? sqlite3_column_int(s, 3) : 0,
      .detail = (const char *)sqlite3_column_text(s, 4),
      .parts = 1,
      .time_ms = sqlite3_column_int64(s, 5)};
  int64_t id = sqlite3_column_int64(s, 0);
  int64_t account = sqlite3_column_int64(s, 7);
  const char *url = (const char *)sqlite3_column_text(s, 11);
  if (ev.message_id == NULL || url == NULL)
    return SG_ENOMEM;
  (*n)++;
  if (push(c, id, account, ev.message_id, url, &ev, false, ev.time_ms) == 1)
    return 0;
  /* No room: its row, as a status change that finds the queue full. */
  int rc = sg__store_status_payload(&c->json, &ev);
  if (rc < 0)
    return rc;
  return sg__sq_webhook_row(c, id, account, ev.message_id, url,
                            (const uint8_t *)c->json.p, c->json.len,
                            ev.time_ms);
}

int sg__sq_whq_rebuild(sg__sq_conn_t *c, int64_t now, uint64_t *n) {
  struct sg__sq_whq *w = c->whq;
  if (w == NULL && (w = c->whq = sg_calloc(1, sizeof *w)) == NULL)
    return SG_ENOMEM;
  w->cap = slots_wanted();
  w->retry_at = INT64_MIN;
  w->tx = 1; /* 0 marks a delivery no transaction claimed */
  int rc = 0;
  w->mark = one_int(c, Q_MARK_GET, &rc);
  int64_t hi = one_int(c, Q_MAX_EVENT, &rc);
  sqlite3_stmt *s = rc == 0 ? stmt(c, Q_EVENTS) : NULL;
  if (s == NULL)
    return SG_EIO;
  sqlite3_bind_int64(s, 1, w->mark);
  int r;
  while (rc == 0 && (r = sqlite3_step(s)) == SQLITE_ROW)
    rc = rebuild_one(c, s, now, n);
  if (rc == 0 && r != SQLITE_DONE)
    rc = SG_EIO;
  sqlite3_reset(s);
  w->hi = w->hi_tx = hi;
  w->tail0 = w->tail;
  w->fresh = w->fresh0 = w->head; /* none handed out yet */
  return rc;
}

void sg__sq_whq_close(sg__sq_conn_t *c) {
  struct sg__sq_whq *w = c->whq;
  if (w == NULL)
    return;
  for (uint64_t i = w->head; i < w->tail; i++)
    drop(w, at(w, i));
  for (int i = 0; i < Q_N; i++)
    sqlite3_finalize(w->q[i]);
  sg_free(w->e);
  sg_free(w->touched);
  sg_free(w);
  c->whq = NULL;
}
