/* sqlite_pair.c - a part's SENT result and its final receipt in one group
 * of the SQLite writer: the part's row written once (sqlite_pair.h).
 *
 * The pairs are found before each run of the group (a rerun finds them
 * again: the rollback undid the rows). A pair is an entry of a small open
 * hash table keyed by the operator's id; its strings and pointers are the
 * group's requests', valid while the group runs.
 */
#include "store/sqlite_pair.h"

#include <string.h>

#include "core/alloc.h"
#include "core/error.h"
#include "store/sqlite_int.h"

typedef struct pair {
  const sg_store_result_in_t *sent; /* NULL: the entry is dead */
  const sg_store_receipt_in_t *rx;  /* NULL: no receipt yet */
  int64_t part;                     /* written final; 0: not */
  bool taken;                       /* the receipt took it */
  uint32_t h;
} pair_t;

struct sg__sq_pair {
  pair_t *e;
  size_t cap; /* a power of two, or 0 */
  size_t n;   /* entries in use */
};

static uint32_t hash(const char *s) {
  uint32_t h = 2166136261u; /* FNV-1a */
  for (; *s; s++)
    h = (h ^ (uint8_t)*s) * 16777619u;
  return h | 1; /* 0 marks a free slot */
}

/* The entry of key s that waits for its receipt, or NULL. */
static pair_t *waiting(struct sg__sq_pair *p, const char *s, uint32_t h) {
  for (size_t i = h & (p->cap - 1);; i = (i + 1) & (p->cap - 1)) {
    pair_t *e = &p->e[i];
    if (e->h == 0)
      return NULL;
    if (e->h == h && e->sent != NULL && e->rx == NULL &&
        strcmp(e->sent->smsc_id, s) == 0)
      return e;
  }
}

static pair_t *add(struct sg__sq_pair *p, uint32_t h) {
  size_t i = h & (p->cap - 1);
  while (p->e[i].h != 0)
    i = (i + 1) & (p->cap - 1);
  p->n++;
  p->e[i].h = h;
  return &p->e[i];
}

static bool final_receipt(const sg_store_receipt_in_t *x) {
  return x->status != SG_MSG_SENT && x->status != SG_MSG_CANCELED &&
         sg_store_status_final(x->status);
}

/* A request that cannot read a part between its SENT result and its
 * receipt: nothing but a 'queued' part is claimed, and the other results
 * and receipts are other parts' (a same key ends the wait). */
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

static void end_waits(struct sg__sq_pair *p) {
  for (size_t i = 0; i < p->cap; i++)
    if (p->e[i].h != 0 && p->e[i].rx == NULL)
      p->e[i].sent = NULL;
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
  if (p->n > 0)
    memset(p->e, 0, p->cap * sizeof *p->e);
  p->n = 0;
  if (n == 0)
    return;
  size_t cap = p->cap ? p->cap : 64;
  while (cap < 2 * n + 1)
    cap *= 2;
  if (cap > p->cap) {
    pair_t *e = sg_calloc(cap, sizeof *e);
    if (e == NULL)
      return;
    sg_free(p->e);
    p->e = e;
    p->cap = cap;
  }
  for (sg__store_req_t *r = group; r != NULL; r = r->next) {
    if (r->rerun_skip)
      continue;
    if (r->kind == SG__REQ_RESULTS) {
      for (size_t i = 0; i < r->in.results.n; i++) {
        const sg_store_result_in_t *x = &r->in.results.items[i];
        if (x->outcome != SG_STORE_SENT || x->smsc_id == NULL)
          continue;
        uint32_t h = hash(x->smsc_id);
        pair_t *e = waiting(p, x->smsc_id, h);
        if (e == NULL)
          e = add(p, h);
        e->sent = x; /* a later SENT of the same id: its receipt's part */
      }
    } else if (r->kind == SG__REQ_RECEIPTS) {
      for (size_t i = 0; i < r->in.receipts.n; i++) {
        const sg_store_receipt_in_t *x = &r->in.receipts.items[i];
        if (x->smsc_id == NULL)
          continue;
        pair_t *e = waiting(p, x->smsc_id, hash(x->smsc_id));
        if (e == NULL)
          continue;
        if (final_receipt(x)) {
          e->rx = x;
        } else {
          e->sent = NULL; /* a report between: the part stays 'sent' */
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
  uint32_t h = hash(key);
  for (size_t i = h & (p->cap - 1);; i = (i + 1) & (p->cap - 1)) {
    pair_t *e = &p->e[i];
    if (e->h == 0)
      return NULL;
    if (e->sent != NULL && e->rx != NULL &&
        (sent != NULL ? e->sent == sent : e->rx == rx))
      return e;
  }
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
  if (e != NULL)
    e->part = part_id;
}

int64_t sg__sq_pair_part(sg__sq_conn_t *c, const sg_store_receipt_in_t *x) {
  pair_t *e = by_receipt(c, x);
  return e != NULL && !e->taken ? e->part : 0;
}

void sg__sq_pair_take(sg__sq_conn_t *c, const sg_store_receipt_in_t *x) {
  pair_t *e = by_receipt(c, x);
  if (e != NULL)
    e->taken = true;
}

static int undo(sg__sq_conn_t *c, pair_t *e) {
  e->taken = true;
  sqlite3_stmt *s = sg__sq_stmt(c, SG__Q_PART_UNEND);
  if (s == NULL)
    return SG_EIO;
  sqlite3_bind_int64(s, 1, e->part);
  return sg__sq_err(sg__sq_step_done(s));
}

int sg__sq_pair_undo(sg__sq_conn_t *c, const sg_store_receipt_in_t *x) {
  pair_t *e = by_receipt(c, x);
  return e != NULL && e->part != 0 && !e->taken ? undo(c, e) : 0;
}

int sg__sq_pair_end(sg__sq_conn_t *c) {
  struct sg__sq_pair *p = c->pair;
  int rc = 0;
  for (size_t i = 0; p != NULL && p->n > 0 && i < p->cap && rc == 0; i++)
    if (p->e[i].h != 0 && p->e[i].part != 0 && !p->e[i].taken)
      rc = undo(c, &p->e[i]);
  return rc;
}

void sg__sq_pair_close(sg__sq_conn_t *c) {
  if (c->pair == NULL)
    return;
  sg_free(c->pair->e);
  sg_free(c->pair);
  c->pair = NULL;
}
