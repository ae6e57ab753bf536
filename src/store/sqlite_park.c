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
 */
#include "store/sqlite_park.h"

#include <string.h>

#include "core/alloc.h"
#include "core/error.h"
#include "store/sqlite_int.h"

bool sg__sq_park_begin(sg__sq_conn_t *c, sg__store_req_t *r, bool may_wait) {
  sg__sq_park_t *k = &c->park;
  if (r->in.claim.wait_ms == 0 || r->park_gen != k->gen ||
      r->park_parts == NULL || r->out.claim.n_parts >= r->in.claim.max)
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

sg__store_req_t *sg__sq_park_due(sg__sq_conn_t *c, uint64_t now_ns,
                                 uint64_t gen, bool all, unsigned *n) {
  sg__sq_park_t *k = &c->park;
  sg__store_req_t *head = NULL, *tail = NULL;
  *n = 0;
  for (unsigned i = 0; i < k->n;) {
    sg__store_req_t *r = k->r[i];
    if (!all && r->park_until_ns > now_ns && r->park_gen == gen) {
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
