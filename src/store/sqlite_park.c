/* sqlite_park.c - claims that wait in the SQLite writer for parts.
 *
 * A connector's claim takes what is due first (a backlog); with room left
 * it stays open for the submits that run after it in its group (claims
 * run first), and one that found nothing waits in the writer for the
 * groups that follow, instead of being answered empty. Each submitted part
 * due at once for that connector is written 'sending', with the claim's
 * lease and attempts 1 (sqlite_write.c, insert_message), exactly as the
 * claim's UPDATE would have left it, and handed to the claim, which is
 * answered with the group that took it, after its commit. A part so taken
 * never enters `parts_due`, is never selected and never updated by a
 * claim, and reaches its connector one trip through the writer sooner.
 *
 * What a claim holds is what the open transaction wrote: a rollback takes
 * the parts back (sg__sq_park_rollback), and a crash after the commit
 * leaves the parts 'sending' with their lease, which the requeue at start
 * puts back in the queue, as for any claim. This file must never write a
 * row: it only keeps the list.
 *
 * A wake (sg_store_claim_wake) names a connector, or none for all: the
 * writer answers the claims of that connector queued before it, and no
 * other, so that pausing or poking one connector leaves the others'
 * claims waiting. Each request carries the wake count at its queueing
 * (park_gen); the writer keeps, for each connector named, the count of its
 * latest wake: a claim is woken when that, or the latest wake of all, is
 * past its own count.
 */
#include "store/sqlite_park.h"

#include <string.h>

#include "core/alloc.h"
#include "core/error.h"
#include "store/sqlite_int.h"

/* ---- wakes ---------------------------------------------------------- */

static sg__sq_woken_t *wakes_find(const sg__sq_wakes_t *w, const char *name) {
  for (size_t i = 0; i < w->n; i++)
    if (strcmp(w->w[i].connector, name) == 0)
      return &w->w[i];
  return NULL;
}

static void wakes_clear(sg__sq_wakes_t *w) {
  for (size_t i = 0; i < w->n; i++)
    sg_free(w->w[i].connector);
  w->n = 0;
}

/* Keeps wake gen of `name`, not in w yet, under its own entry; the name
 * is *own when given (then taken: set to NULL), else copied. False when it
 * cannot be kept (the list at its bound, or out of memory). */
static bool wakes_keep(sg__sq_wakes_t *w, const char *name, char **own,
                       uint64_t gen) {
  if (w->n >= SG__SQ_WAKES_MAX)
    return false;
  if (w->n == w->cap) {
    sg__sq_woken_t *g = sg_grow(w->w, &w->cap, w->n + 1u, 16, sizeof *g);
    if (g == NULL)
      return false;
    w->w = g;
  }
  char *copy = own != NULL ? *own : sg_strdup(name);
  if (copy == NULL)
    return false;
  if (own != NULL)
    *own = NULL;
  w->w[w->n++] = (sg__sq_woken_t){copy, gen};
  return true;
}

/* Notes wake gen of `name` (NULL: of all) in w; *own, when given, is the
 * name's copy to take. */
static void wakes_note(sg__sq_wakes_t *w, const char *name, char **own,
                       uint64_t gen) {
  if (name != NULL) {
    sg__sq_woken_t *x = wakes_find(w, name);
    if (x != NULL) {
      if (gen > x->gen)
        x->gen = gen;
      return;
    }
    if (wakes_keep(w, name, own, gen))
      return;
    /* Counted as a wake of all, with every name before it: it wakes more
     * claims than it must, never fewer, and the list stays bounded. */
    for (size_t i = 0; i < w->n; i++)
      if (w->w[i].gen > gen)
        gen = w->w[i].gen;
    wakes_clear(w);
  }
  if (gen > w->all)
    w->all = gen;
}

void sg__sq_wakes_add(sg__sq_wakes_t *w, const char *connector, uint64_t gen) {
  wakes_note(w, connector, NULL, gen);
}

void sg__sq_wakes_free(sg__sq_wakes_t *w) {
  wakes_clear(w);
  sg_free(w->w);
  memset(w, 0, sizeof *w);
}

void sg__sq_park_take_wakes(sg__sq_conn_t *c, sg__sq_wakes_t *pending,
                            uint64_t gen) {
  sg__sq_park_t *k = &c->park;
  if (pending->all > 0)
    wakes_note(&k->woken, NULL, NULL, pending->all);
  pending->all = 0;
  for (size_t i = 0; i < pending->n; i++) {
    sg__sq_woken_t *x = &pending->w[i];
    wakes_note(&k->woken, x->connector, &x->connector, x->gen);
    sg_free(x->connector); /* NULL when taken */
  }
  pending->n = 0;
  k->gen = gen;
}

/* Whether claim r was woken since it was queued: by a wake of every claim
 * or of its connector that the writer has seen. */
static bool woken(const sg__sq_park_t *k, const sg__store_req_t *r) {
  if (r->park_gen >= k->gen)
    return false; /* no wake since it was queued */
  if (k->woken.all > r->park_gen)
    return true;
  const sg__sq_woken_t *x = wakes_find(&k->woken, r->in.claim.connector);
  return x != NULL && x->gen > r->park_gen;
}

/* ---- the list ------------------------------------------------------- */

bool sg__sq_park_begin(sg__sq_conn_t *c, sg__store_req_t *r, bool may_wait) {
  sg__sq_park_t *k = &c->park;
  if (r->in.claim.wait_ms == 0 || woken(k, r) || r->park_parts == NULL ||
      r->out.claim.n_parts >= r->in.claim.max)
    return false;
  if (k->n == k->cap) {
    sg__store_req_t **g = sg_grow(k->r, &k->cap, k->n + 1u, 16, sizeof *g);
    if (g == NULL)
      return false; /* answered at once */
    k->r = g;
  }
  r->park_until_ns = uv_hrtime() + (uint64_t)r->in.claim.wait_ms * 1000000u;
  r->park_fresh = true;
  r->park_group_only = !may_wait;
  r->out.claim.waited = true;
  r->out.claim.parts = r->park_parts;
  k->r[k->n++] = r;
  return true;
}

sg__store_req_t *sg__sq_park_for(sg__sq_conn_t *c, const char *connector) {
  const sg__sq_park_t *k = &c->park;
  for (unsigned i = 0; i < k->n; i++) {
    sg__store_req_t *r = k->r[i];
    if (r->out.claim.n_parts < r->in.claim.max &&
        strcmp(r->in.claim.connector, connector) == 0)
      return r;
  }
  return NULL;
}

int sg__sq_park_add(sg__store_req_t *r, const sg_store_claimed_t *p) {
  sg__arena_t *a = &r->arena;
  sg_store_claimed_t *d = &r->park_parts[r->out.claim.n_parts];
  bool ok = true;
  *d = *p;
  d->connector = r->in.claim.connector; /* the same name */
  d->sender = sg__arena_strdup(a, p->sender, &ok);
  d->recipient = sg__arena_strdup(a, p->recipient, &ok);
  d->udh = p->udh != NULL ? sg__arena_memdup(a, p->udh, p->udh_len, &ok) : NULL;
  d->ud = p->ud_len > 0 ? sg__arena_memdup(a, p->ud, p->ud_len, &ok)
                        : sg__arena_alloc(a, 0);
  if (!ok || d->ud == NULL)
    return SG_ENOMEM;
  r->out.claim.n_parts++;
  return 0;
}

/* Removes entry i, keeping the order of the others. */
static void drop(sg__sq_park_t *k, unsigned i) {
  memmove(&k->r[i], &k->r[i + 1], (k->n - i - 1) * sizeof k->r[0]);
  k->n--;
}

void sg__sq_park_rollback(sg__sq_conn_t *c) {
  sg__sq_park_t *k = &c->park;
  for (unsigned i = 0; i < k->n;) {
    sg__store_req_t *r = k->r[i];
    if (r->park_fresh) {
      r->park_fresh = false;
      drop(k, i);
      continue;
    }
    r->out.claim.n_parts = 0;
    i++;
  }
}

sg__store_req_t *sg__sq_park_commit(sg__sq_conn_t *c, sg__store_req_t *group,
                                    unsigned *n) {
  sg__sq_park_t *k = &c->park;
  if (k->n == 0)
    return group;
  /* Claims that began to wait leave the group: they wait on, or they took
   * parts of submits that may come after them in the group (claims run
   * first), and are answered after those below. */
  sg__store_req_t **link = &group, *tail = NULL;
  while (*link != NULL) {
    sg__store_req_t *r = *link;
    if (r->park_fresh) { /* in the list */
      *link = r->next;
      r->next = NULL;
      r->park_fresh = false;
      (*n)--;
      continue;
    }
    tail = r;
    link = &r->next;
  }
  /* Claims that took parts, or that may not wait past their group, are
   * answered with the group, at its end. */
  for (unsigned i = 0; i < k->n;) {
    sg__store_req_t *r = k->r[i];
    if (r->out.claim.n_parts == 0 && !r->park_group_only) {
      i++;
      continue;
    }
    drop(k, i);
    r->next = NULL;
    if (tail != NULL)
      tail->next = r;
    else
      group = r;
    tail = r;
    (*n)++;
  }
  return group;
}

/* Whether the wait of r runs out by now_ns, or within a quarter of its
 * wait_ms after it when `early`. */
static bool ran_out(const sg__store_req_t *r, uint64_t now_ns, bool early) {
  uint64_t slack = early ? (uint64_t)r->in.claim.wait_ms * 250000u : 0;
  return r->park_until_ns <= now_ns + slack;
}

sg__store_req_t *sg__sq_park_due(sg__sq_conn_t *c, uint64_t now_ns, bool all,
                                 unsigned *n) {
  sg__sq_park_t *k = &c->park;
  sg__store_req_t *head = NULL, *tail = NULL;
  *n = 0;
  /* When one claim's wait ran out, those whose wait runs out within a
   * quarter of theirs are answered with it: idle connectors' claims, sent
   * again together, come back in one group and wait side by side, so that
   * idle they cost one commit a tick in all, not one each at its time. */
  bool early = false;
  for (unsigned i = 0; i < k->n && !early; i++)
    early = ran_out(k->r[i], now_ns, false);
  for (unsigned i = 0; i < k->n;) {
    sg__store_req_t *r = k->r[i];
    if (!all && !ran_out(r, now_ns, early) && !woken(k, r)) {
      i++;
      continue;
    }
    drop(k, i);
    r->next = NULL;
    r->status = 0;
    r->out.claim.n_parts = 0;
    if (tail != NULL)
      tail->next = r;
    else
      head = r;
    tail = r;
    (*n)++;
  }
  return head;
}

void sg__sq_park_close(sg__sq_conn_t *c) {
  sg_free(c->park.r);
  sg__sq_wakes_free(&c->park.woken);
  memset(&c->park, 0, sizeof c->park);
}

uint64_t sg__sq_park_next(const sg__sq_conn_t *c) {
  const sg__sq_park_t *k = &c->park;
  uint64_t next = 0;
  for (unsigned i = 0; i < k->n; i++)
    if (next == 0 || k->r[i]->park_until_ns < next)
      next = k->r[i]->park_until_ns;
  return next;
}
