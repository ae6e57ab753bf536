/* sqlite_park.h - claims that wait in the SQLite writer for the parts of
 * the next submits (sqlite_park.c). Writer thread only. Not for use
 * outside src/store/.
 */
#ifndef SG_STORE_SQLITE_PARK_H
#define SG_STORE_SQLITE_PARK_H

#include <stdbool.h>
#include <stdint.h>

#include "store/store_int.h"

typedef struct sg__sq_conn sg__sq_conn_t;

/* Wakes of waiting claims (sg_store_claim_wake): the latest wake count of
 * each connector named, and of the wakes of all (`all`). The store keeps
 * one, under its lock, for the wakes the loop made since the writer last
 * looked (sg__sq_wakes_add), and the writer one of its own (in
 * sg__sq_park_t), into which it moves them (sg__sq_park_take_wakes). */
typedef struct sg__sq_woken {
  char *connector;
  uint64_t gen;
} sg__sq_woken_t;

typedef struct sg__sq_wakes {
  sg__sq_woken_t *w;
  size_t n, cap;
  uint64_t all; /* the wake count of the last wake of every claim */
} sg__sq_wakes_t;

/* Connectors a list of wakes names at most: past that it is emptied and
 * counted as a wake of all at its latest count (a claim may be woken that
 * need not be, never one left waiting that should not). */
#define SG__SQ_WAKES_MAX 1024

/* Notes wake number gen of `connector` (NULL: of every claim) in w, which
 * copies the name; a name that cannot be copied counts as a wake of all.
 * Loop thread, under the store's lock. */
void sg__sq_wakes_add(sg__sq_wakes_t *w, const char *connector, uint64_t gen);

/* Frees w's names and array. */
void sg__sq_wakes_free(sg__sq_wakes_t *w);

/* The waiting claims of the writer (in sg__sq_conn_t). The engine keeps
 * two a connector (dispatch.c, CLAIMS_WAITING), so the list grows with the
 * connectors; only when it cannot grow (out of memory) is a claim that
 * finds nothing answered at once, as a claim that does not wait. */
typedef struct sg__sq_park {
  sg__store_req_t **r;
  size_t cap; /* entries of r */
  unsigned n;
  uint64_t gen;         /* the wake count when the writer took its group */
  sg__sq_wakes_t woken; /* the latest wake of each connector, up to gen */
} sg__sq_park_t;

/* Moves the wakes of `pending` (the store's, emptied) into the writer's,
 * and sets its count to gen. Writer thread, under the store's lock. */
void sg__sq_park_take_wakes(sg__sq_conn_t *c, sg__sq_wakes_t *pending,
                            uint64_t gen);

/* Claim r selected what was due (r->out.claim.n_parts of them, in
 * r->park_parts of r->in.claim.max entries): with room left it takes the
 * parts of the submits that run after it in the group, and, when may_wait
 * (it found nothing and its passes changed nothing), those of the groups
 * that follow, for r->in.claim.wait_ms; unless it asks for no wait, was
 * woken since it was queued (a wake of its connector or of all), or the
 * list cannot grow. True when it is open;
 * then r->out.claim.waited is set. */
bool sg__sq_park_begin(sg__sq_conn_t *c, sg__store_req_t *r, bool may_wait);

/* A waiting claim of `connector` with room for one more part, or NULL. */
sg__store_req_t *sg__sq_park_for(sg__sq_conn_t *c, const char *connector);

/* Hands part p, just written 'sending' for claim r, to r: its strings and
 * octets are copied into r's arena. 0 or SG_ENOMEM. */
int sg__sq_park_add(sg__store_req_t *r, const sg_store_claimed_t *p);

/* The group's transaction rolled back: the claims that began to wait in it
 * leave the list (they are run again with the group, or answered with it),
 * the others forget the parts it gave them and wait on. */
void sg__sq_park_rollback(sg__sq_conn_t *c);

/* The group (n requests) committed: a claim opened in it leaves the group;
 * an open claim that has parts or may not wait past the group leaves the
 * list and is answered with the group (appended to it, after the submits
 * that gave them), the others wait on. Returns the group's head (NULL when
 * it held only claims that now wait) and updates *n. */
sg__store_req_t *sg__sq_park_commit(sg__sq_conn_t *c, sg__store_req_t *group,
                                    unsigned *n);

/* Takes off the list, as a list of *n claims to answer with no part, those
 * whose time ran out by now_ns (uv_hrtime; when one did, also those whose
 * time runs out within a quarter of their wait), those woken since they were
 * queued (by a wake of their connector or of all, up to the writer's
 * count), or every one when all. */
sg__store_req_t *sg__sq_park_due(sg__sq_conn_t *c, uint64_t now_ns, bool all,
                                 unsigned *n);

/* Frees the list and the writer's wakes (its claims answered before:
 * sg__sq_park_due, all). */
void sg__sq_park_close(sg__sq_conn_t *c);

/* When the first wait runs out (uv_hrtime ns); 0: no claim waits. */
uint64_t sg__sq_park_next(const sg__sq_conn_t *c);

#endif
