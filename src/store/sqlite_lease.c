/* sqlite_lease.c - the writer's in-memory lease table (sqlite_lease.h),
 * shared by the webhook deliveries (sqlite_webhook.c) and the receipts
 * owed to SMPP customers (sqlite_smpp_out.c).
 *
 * It must never touch the database: a lease lives and dies in memory.
 */
#include "store/sqlite_lease.h"

#include "core/alloc.h"
#include "core/error.h"

static size_t slot_of(const sg__sq_leases_t *l, int64_t id) {
  uint64_t h = (uint64_t)id * 0x9E3779B97F4A7C15u;
  return (size_t)(h >> 17) & (l->cap - 1);
}

static sg__sq_lease_t *find(const sg__sq_leases_t *l, int64_t id) {
  if (l->cap == 0)
    return NULL;
  for (size_t i = slot_of(l, id);; i = (i + 1) & (l->cap - 1)) {
    if (l->slot[i].id == id)
      return &l->slot[i];
    if (l->slot[i].id == 0)
      return NULL;
  }
}

/* Removes slot i and shifts the rest of its cluster back (no tombstones). */
static void remove_at(sg__sq_leases_t *l, size_t i) {
  size_t mask = l->cap - 1;
  for (size_t j = (i + 1) & mask; l->slot[j].id != 0; j = (j + 1) & mask) {
    size_t home = slot_of(l, l->slot[j].id);
    /* j's entry may move to i when its home is not in (i, j]. */
    if (((j - home) & mask) >= ((j - i) & mask)) {
      l->slot[i] = l->slot[j];
      i = j;
    }
  }
  l->slot[i].id = 0;
  l->n--;
}

static void put(sg__sq_leases_t *l, const sg__sq_lease_t *e) {
  size_t i = slot_of(l, e->id);
  while (l->slot[i].id != 0 && l->slot[i].id != e->id)
    i = (i + 1) & (l->cap - 1);
  if (l->slot[i].id == 0)
    l->n++;
  l->slot[i] = *e;
}

/* Drops the leases that ran out, or (by_tx) those of the current
 * transaction. Slots are walked from a free one, so that shifting back
 * never moves an entry the walk has yet to see past it. */
static void sweep(sg__sq_leases_t *l, bool by_tx, int64_t now) {
  size_t start = 0;
  while (start < l->cap && l->slot[start].id != 0)
    start++;
  for (size_t k = 0; k < l->cap; k++) {
    size_t i = (start + k) & (l->cap - 1);
    while (l->slot[i].id != 0 &&
           (by_tx ? l->slot[i].tx == l->tx : l->slot[i].until_ms <= now))
      remove_at(l, i);
  }
}

static int grow(sg__sq_leases_t *l, int64_t now) {
  if (l->cap > 0)
    sweep(l, false, now);
  if ((l->n + 1) * 4 <= l->cap * 3)
    return 0;
  size_t cap = l->cap ? l->cap * 2 : 256;
  sg__sq_lease_t *old = l->slot;
  size_t old_cap = l->cap;
  sg__sq_lease_t *s = sg_calloc(cap, sizeof *s);
  if (s == NULL)
    return SG_ENOMEM;
  l->slot = s;
  l->cap = cap;
  l->n = 0;
  for (size_t i = 0; i < old_cap; i++)
    if (old[i].id != 0)
      put(l, &old[i]);
  sg_free(old);
  return 0;
}

int sg__sq_lease_take(sg__sq_leases_t *l, int64_t id, int64_t until,
                      int64_t now, unsigned *tries) {
  const sg__sq_lease_t *old = find(l, id);
  *tries = old != NULL ? old->tries + 1 : 1;
  if (old == NULL && (l->n + 1) * 4 > l->cap * 3 && grow(l, now) < 0)
    return SG_ENOMEM;
  put(l, &(sg__sq_lease_t){
             .id = id, .until_ms = until, .tx = l->tx, .tries = *tries});
  return 0;
}

int sg__sq_lease_set(sg__sq_leases_t *l, int64_t id, int64_t until,
                     int64_t now, unsigned tries) {
  if (find(l, id) == NULL && (l->n + 1) * 4 > l->cap * 3 && grow(l, now) < 0)
    return SG_ENOMEM;
  put(l, &(sg__sq_lease_t){
             .id = id, .until_ms = until, .tx = l->tx, .tries = tries});
  return 0;
}

void sg__sq_lease_drop(sg__sq_leases_t *l, int64_t id) {
  sg__sq_lease_t *e = find(l, id);
  if (e != NULL)
    remove_at(l, (size_t)(e - l->slot));
}

bool sg__sq_lease_held(const sg__sq_leases_t *l, int64_t id, int64_t now) {
  const sg__sq_lease_t *e = find(l, id);
  return e != NULL && e->until_ms > now;
}

int64_t sg__sq_lease_min(const sg__sq_leases_t *l, int64_t now) {
  int64_t t = 0;
  for (size_t i = 0; i < l->cap; i++)
    if (l->slot[i].id != 0 && l->slot[i].until_ms > now &&
        (t == 0 || l->slot[i].until_ms < t))
      t = l->slot[i].until_ms;
  return t;
}

unsigned sg__sq_lease_tries(const sg__sq_leases_t *l, int64_t id) {
  const sg__sq_lease_t *e = find(l, id);
  return e != NULL ? e->tries : 1;
}

void sg__sq_lease_tx_end(sg__sq_leases_t *l, bool committed) {
  if (!committed && l->cap > 0)
    sweep(l, true, 0);
  l->tx++;
}

void sg__sq_lease_free(sg__sq_leases_t *l) {
  sg_free(l->slot);
  l->slot = NULL;
  l->cap = l->n = 0;
}
