/* sqlite_lease.h - leases kept in the writer's memory instead of in rows:
 * which rows of a durable queue (webhook deliveries, receipts owed to SMPP
 * customers) are out with a sender, until when, and how often each was
 * handed out since its row was last written.
 *
 * A claim that writes no lease costs no row update; after a crash or a
 * stop no lease is left, and every row that was not finished is offered
 * again (at-least-once, as store.h's durability contract allows). Leases
 * taken by a transaction that rolls back are forgotten with it.
 * Writer thread only.
 */
#ifndef SG_STORE_SQLITE_LEASE_H
#define SG_STORE_SQLITE_LEASE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct sg__sq_lease {
  int64_t id; /* the row's id; 0 marks a free slot (rowids are positive) */
  int64_t until_ms;
  uint64_t tx;    /* the transaction that took it */
  unsigned tries; /* claims since the row was last written */
} sg__sq_lease_t;

/* Open addressing with linear probing. Zero-initialised is empty. */
typedef struct sg__sq_leases {
  sg__sq_lease_t *slot;
  size_t cap; /* a power of two, or 0 */
  size_t n;
  uint64_t tx; /* the transaction under way */
} sg__sq_leases_t;

/* Leases row id until `until`; *tries counts the claims of the row since
 * it was last written, this one included (a lease that ran out and is
 * taken again was an attempt too). 0 or SG_ENOMEM. */
int sg__sq_lease_take(sg__sq_leases_t *l, int64_t id, int64_t until,
                      int64_t now, unsigned *tries);
/* Leases row id until `until` with `tries` claims already made (a
 * delivery that was out from memory and goes on as a row). 0 or
 * SG_ENOMEM. */
int sg__sq_lease_set(sg__sq_leases_t *l, int64_t id, int64_t until,
                     int64_t now, unsigned tries);
/* Forgets row id's lease, if any. */
void sg__sq_lease_drop(sg__sq_leases_t *l, int64_t id);
/* True when a live lease holds row id at `now`. */
bool sg__sq_lease_held(const sg__sq_leases_t *l, int64_t id, int64_t now);
/* The earliest end after `now` of the leases held, 0 when none is live. */
int64_t sg__sq_lease_min(const sg__sq_leases_t *l, int64_t now);
/* Row id's tries under its lease; 1 when it holds none. */
unsigned sg__sq_lease_tries(const sg__sq_leases_t *l, int64_t id);
/* After each commit (committed true) or rollback (false): a rollback
 * forgets the leases its transaction took. */
void sg__sq_lease_tx_end(sg__sq_leases_t *l, bool committed);
/* Frees the table; l is empty again. */
void sg__sq_lease_free(sg__sq_leases_t *l);

#endif
