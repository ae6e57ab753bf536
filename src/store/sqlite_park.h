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

/* The waiting claims of the writer (in sg__sq_conn_t). The engine keeps
 * two a connector (dispatch.c, CLAIMS_WAITING), so the list grows with the
 * connectors; only when it cannot grow (out of memory) is a claim that
 * finds nothing answered at once, as a claim that does not wait. */
typedef struct sg__sq_park {
  sg__store_req_t **r;
  size_t cap; /* entries of r */
  unsigned n;
  uint64_t gen; /* the wake count when the writer took its group */
} sg__sq_park_t;

/* Claim r selected what was due (r->out.claim.n_parts of them, in
 * r->park_parts of r->in.claim.max entries): with room left it takes the
 * parts of the submits that run after it in the group, and, when may_wait
 * (it found nothing and its passes changed nothing), those of the groups
 * that follow, for r->in.claim.wait_ms; unless it asks for no wait, was
 * woken since it was queued, or the list cannot grow. True when it is open;
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
 * whose time ran out by now_ns (uv_hrtime), those woken since they were
 * queued (queued before the wake count `gen`), or every one when all. */
sg__store_req_t *sg__sq_park_due(sg__sq_conn_t *c, uint64_t now_ns,
                                 uint64_t gen, bool all, unsigned *n);

/* Frees the list (its claims answered before: sg__sq_park_due, all). */
void sg__sq_park_close(sg__sq_conn_t *c);

/* When the first wait runs out (uv_hrtime ns); 0: no claim waits. */
uint64_t sg__sq_park_next(const sg__sq_conn_t *c);

#endif
