/* sqlite_pair.c - a part's SENT result and its final receipt in one group
 * of the SQLite writer: the part's row written once (sqlite_pair.h).
 *
 * The pairs are found before each run of the group (a rerun finds them
 * again: the rollback undid the rows). A pair is an entry of an array in
 * the order of the group's SENT results, found through two small open
 * hash tables: by the operator's id and by the part. The entries' strings
 * and pointers are the group's requests', valid while the group runs.
 *
 * The cost does not grow with the largest group seen: a slot of the hash
 * tables is in use only when it carries the current generation (a new
 * scan only counts one up), the entries still waiting for their receipt
 * are the ones after `ended` (ending every wait walks those only), the
 * group's end looks at the entries only while one is written and not
 * taken, and the tables shrink after a run of groups that needed far
 * less.
 */
#include "store/sqlite_pair.h"

#include <string.h>

#include "core/alloc.h"
#include "core/error.h"
#include "store/sqlite_int.h"

#define MIN_CAP 64u
#define SHRINK_AFTER 64u /* groups in a row that needed an 8th of cap */

typedef struct pair {
  const sg_store_result_in_t *sent; /* NULL: the entry is dead */
  const sg_store_receipt_in_t *rx;  /* NULL: no receipt yet */
  int64_t part;                     /* written final (not put back); 0: not */
  bool taken;                       /* the receipt took it */
} pair_t;

typedef struct slot {
  uint32_t gen; /* in use when the table's generation */
  uint32_t i;   /* the entry */
} slot_t;

struct sg__sq_pair {
  pair_t *e;       /* n entries in use, room for cap / 2 */
  slot_t *by_key;  /* cap slots: by the operator's id */
  slot_t *by_part; /* cap slots: by the part */
  size_t n;
  size_t cap;     /* a power of two, or 0 */
  uint32_t gen;   /* of the slots in use */
  size_t ended;   /* entries before it wait no more */
  size_t waiting; /* entries that wait for their receipt */
  size_t written; /* entries written final, not put back */
  size_t untaken; /* of those, not taken by their receipt */
  unsigned small; /* groups in a row that needed far less than cap */
};

static uint32_t hash_str(const char *s) {
  uint32_t h = 2166136261u; /* FNV-1a */
  for (; *s; s++)
    h = (h ^ (uint8_t)*s) * 16777619u;
  return h;
}

static uint32_t hash_id(int64_t id) {
  uint64_t x = (uint64_t)id * 0x9E3779B97F4A7C15u;
  return (uint32_t)(x >> 32);
}

static bool waits(const pair_t *e) {
  return e->sent != NULL && e->rx == NULL;
}

static void end_wait(struct sg__sq_pair *p, pair_t *e) {
  e->sent = NULL;
  p->waiting--;
}

/* The entry of operator id s that waits for its receipt, or NULL. */
static pair_t *waiting_key(struct sg__sq_pair *p, const char *s) {
  size_t m = p->cap - 1;
  for (size_t i = hash_str(s) & m; p->by_key[i].gen == p->gen;
       i = (i + 1) & m) {
    pair_t *e = &p->e[p->by_key[i].i];
    if (waits(e) && strcmp(e->sent->smsc_id, s) == 0)
      return e;
  }
  return NULL;
}

/* The entry of part id that waits for its receipt, or NULL. */
static pair_t *waiting_part(struct sg__sq_pair *p, int64_t id) {
  size_t m = p->cap - 1;
  for (size_t i = hash_id(id) & m; p->by_part[i].gen == p->gen;
       i = (i + 1) & m) {
    pair_t *e = &p->e[p->by_part[i].i];
    if (waits(e) && e->sent->part_id == id)
      return e;
  }
  return NULL;
}

static void put(struct sg__sq_pair *p, slot_t *t, uint32_t h, size_t ei) {
  size_t m = p->cap - 1;
  size_t i = h & m;
  while (t[i].gen == p->gen)
    i = (i + 1) & m;
  t[i].gen = p->gen;
  t[i].i = (uint32_t)ei;
}

static pair_t *add(struct sg__sq_pair *p, const sg_store_result_in_t *x) {
  size_t ei = p->n++;
  p->e[ei] = (pair_t){x, NULL, 0, false};
  p->waiting++;
  put(p, p->by_key, hash_str(x->smsc_id), ei);
  put(p, p->by_part, hash_id(x->part_id), ei);
  return &p->e[ei];
}

static bool final_receipt(const sg_store_receipt_in_t *x) {
  return x->status != SG_MSG_SENT && x->status != SG_MSG_CANCELED &&
         sg_store_status_final(x->status);
}

/* A request that cannot read a part between its SENT result and its
 * receipt: nothing but a 'queued' part is claimed, and the other results
 * and receipts are other parts' (a same key or part ends the wait). */
static bool neutral(const sg__store_req_t *r) {
  switch (r->kind) {
  case SG__REQ_SUBMIT:
  case SG__REQ_CLAIM:
  case SG__REQ_WEBHOOK_ENQUEUE:
  case SG__REQ_WEBHOOK_CLAIM:
  case SG__REQ_WEBHOOK_FINISH:
    return true;
  default:
    return false;
  }
}

/* Ends every wait: the entries since the last time only. */
static void end_waits(struct sg__sq_pair *p) {
  for (size_t i = p->ended; p->waiting > 0 && i < p->n; i++)
    if (waits(&p->e[i]))
      end_wait(p, &p->e[i]);
  p->ended = p->n;
}

static void release(struct sg__sq_pair *p) {
  sg_free(p->e);
  sg_free(p->by_key);
  sg_free(p->by_part);
  p->e = NULL;
  p->by_key = p->by_part = NULL;
  p->cap = 0;
}

/* Room for n entries: false when out of memory (then none). */
static bool room(struct sg__sq_pair *p, size_t n) {
  size_t cap = MIN_CAP;
  while (cap < 2 * n + 1)
    cap *= 2;
  if (cap <= p->cap) {
    p->small = cap * 8 <= p->cap ? p->small + 1 : 0;
    if (p->small < SHRINK_AFTER)
      return true;
  }
  release(p); /* grows, or shrinks after a run of small groups */
  p->small = 0;
  p->e = sg_malloc(cap / 2 * sizeof *p->e);
  p->by_key = sg_calloc(cap, sizeof *p->by_key);
  p->by_part = sg_calloc(cap, sizeof *p->by_part);
  if (p->e == NULL || p->by_key == NULL || p->by_part == NULL) {
    release(p);
    return false;
  }
  p->cap = cap;
  p->gen = 0; /* the slots were zeroed: generation 1 is next */
  return true;
}

/* A new generation: every slot free. */
static void clear(struct sg__sq_pair *p) {
  if (++p->gen == 0) { /* wrapped: the old stamps could look current */
    memset(p->by_key, 0, p->cap * sizeof *p->by_key);
    memset(p->by_part, 0, p->cap * sizeof *p->by_part);
    p->gen = 1;
  }
}

void sg__sq_pair_scan(sg__sq_conn_t *c, sg__store_req_t *group) {
  size_t n = 0;
  for (sg__store_req_t *r = group; r != NULL; r = r->next)
    if (!r->rerun_skip && r->kind == SG__REQ_RESULTS)
      n += r->in.results.n;
  struct sg__sq_pair *p = c->pair;
  if (p == NULL && n > 0 && (p = c->pair = sg_calloc(1, sizeof *p)) == NULL)
    return;
  if (p == NULL)
    return;
  p->n = p->ended = p->waiting = p->written = p->untaken = 0;
  if (n == 0 || !room(p, n))
    return;
  clear(p);
  for (sg__store_req_t *r = group; r != NULL; r = r->next) {
    if (r->rerun_skip)
      continue;
    if (r->kind == SG__REQ_RESULTS) {
      for (size_t i = 0; i < r->in.results.n; i++) {
        const sg_store_result_in_t *x = &r->in.results.items[i];
        /* a later result for the part finds it no longer 'sending' */
        pair_t *e = p->waiting > 0 ? waiting_part(p, x->part_id) : NULL;
        if (e != NULL)
          end_wait(p, e);
        if (x->outcome != SG_STORE_SENT || x->smsc_id == NULL)
          continue;
        e = p->waiting > 0 ? waiting_key(p, x->smsc_id) : NULL;
        if (e != NULL) /* a later SENT of the same id: its receipt's part */
          end_wait(p, e);
        add(p, x);
      }
    } else if (r->kind == SG__REQ_RECEIPTS) {
      for (size_t i = 0; p->waiting > 0 && i < r->in.receipts.n; i++) {
        const sg_store_receipt_in_t *x = &r->in.receipts.items[i];
        pair_t *e = x->smsc_id != NULL ? waiting_key(p, x->smsc_id) : NULL;
        if (e == NULL)
          continue;
        if (final_receipt(x)) {
          e->rx = x;
          p->waiting--;
        } else {
          end_wait(p, e); /* a report between: the part stays 'sent' */
        }
      }
    } else if (!neutral(r)) {
      end_waits(p);
    }
  }
  end_waits(p);
}

/* The pair of SENT result `sent`, or of receipt `rx` (the other NULL), or
 * NULL. */
static pair_t *find(sg__sq_conn_t *c, const char *key,
                    const sg_store_result_in_t *sent,
                    const sg_store_receipt_in_t *rx) {
  struct sg__sq_pair *p = c->pair;
  if (p == NULL || p->n == 0 || key == NULL)
    return NULL;
  size_t m = p->cap - 1;
  for (size_t i = hash_str(key) & m; p->by_key[i].gen == p->gen;
       i = (i + 1) & m) {
    pair_t *e = &p->e[p->by_key[i].i];
    if (e->sent != NULL && e->rx != NULL &&
        (sent != NULL ? e->sent == sent : e->rx == rx))
      return e;
  }
  return NULL;
}

static pair_t *by_sent(sg__sq_conn_t *c, const sg_store_result_in_t *x) {
  return find(c, x->smsc_id, x, NULL);
}

static pair_t *by_receipt(sg__sq_conn_t *c, const sg_store_receipt_in_t *x) {
  return find(c, x->smsc_id, NULL, x);
}

const sg_store_receipt_in_t *
sg__sq_pair_receipt(sg__sq_conn_t *c, const sg_store_result_in_t *x) {
  pair_t *e = by_sent(c, x);
  return e != NULL ? e->rx : NULL;
}

void sg__sq_pair_written(sg__sq_conn_t *c, const sg_store_result_in_t *x,
                         int64_t part_id) {
  pair_t *e = by_sent(c, x);
  if (e != NULL && e->part == 0) {
    e->part = part_id;
    c->pair->written++;
    c->pair->untaken++;
  }
}

int64_t sg__sq_pair_part(sg__sq_conn_t *c, const sg_store_receipt_in_t *x) {
  pair_t *e = by_receipt(c, x);
  return e != NULL && !e->taken ? e->part : 0;
}

void sg__sq_pair_take(sg__sq_conn_t *c, const sg_store_receipt_in_t *x) {
  pair_t *e = by_receipt(c, x);
  if (e != NULL && e->part != 0 && !e->taken) {
    e->taken = true;
    c->pair->untaken--;
  }
}

/* Puts the part of pair e back to 'sent'; the receipt no longer takes it. */
static int undo(sg__sq_conn_t *c, pair_t *e) {
  struct sg__sq_pair *p = c->pair;
  int64_t part = e->part;
  if (!e->taken)
    p->untaken--;
  e->taken = true;
  e->part = 0;
  p->written--;
  sqlite3_stmt *s = sg__sq_stmt(c, SG__Q_PART_UNEND);
  if (s == NULL)
    return SG_EIO;
  sqlite3_bind_int64(s, 1, part);
  return sg__sq_err(sg__sq_step_done(s));
}

int sg__sq_pair_undo(sg__sq_conn_t *c, const sg_store_receipt_in_t *x) {
  pair_t *e = by_receipt(c, x);
  return e != NULL && e->part != 0 && !e->taken ? undo(c, e) : 0;
}

int sg__sq_pair_failed(sg__sq_conn_t *c, const sg__store_req_t *r) {
  struct sg__sq_pair *p = c->pair;
  if (p == NULL || p->written == 0 || r->kind != SG__REQ_RECEIPTS)
    return 0;
  int rc = 0;
  for (size_t i = 0; rc == 0 && p->written > 0 && i < r->in.receipts.n; i++) {
    pair_t *e = by_receipt(c, &r->in.receipts.items[i]);
    if (e != NULL && e->part != 0)
      rc = undo(c, e);
  }
  return rc < 0 ? SG_EIO : 0;
}

int sg__sq_pair_end(sg__sq_conn_t *c) {
  struct sg__sq_pair *p = c->pair;
  int rc = 0;
  for (size_t i = 0; p != NULL && p->untaken > 0 && i < p->n && rc == 0; i++)
    if (p->e[i].part != 0 && !p->e[i].taken)
      rc = undo(c, &p->e[i]);
  return rc;
}

size_t sg__sq_pair_cap(sg__sq_conn_t *c) {
  return c->pair != NULL ? c->pair->cap : 0;
}

void sg__sq_pair_close(sg__sq_conn_t *c) {
  if (c->pair == NULL)
    return;
  release(c->pair);
  sg_free(c->pair);
  c->pair = NULL;
}
