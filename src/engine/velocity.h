/* velocity.h - an account's velocity limit per destination prefix, as the
 * operator sees and changes it (docs/configuration.md "Velocity").
 *
 * SMS pumping (artificially inflated traffic) floods one number range,
 * often a premium one, from one account. With `velocity` set on an
 * account, sg_engine_submit() counts the account's recipients per prefix
 * (the first prefix_digits digits of the E.164 number) in a one-minute
 * window. Past per_minute, a recipient of that prefix is refused with
 * "velocity_limited" (SG_EBUSY: REST 429, SMPP ESME_RTHROTTLED, Kannel
 * 503); after block_after such refusals, each within a minute of the one
 * before, the prefix is blocked for the account: its recipients are
 * refused with "velocity_blocked" (SG_EPERM: REST 403, SMPP
 * ESME_RINVDSTADR, Kannel 403) until block_for has passed or an
 * administrator lifts the block. A block is logged (warn), counted
 * (smsgate_velocity_blocks_total) and kept in the store, so a restart
 * does not lift it.
 *
 * Loop thread only, like the rest of the engine.
 */
#ifndef SG_ENGINE_VELOCITY_H
#define SG_ENGINE_VELOCITY_H

#include <stddef.h>
#include <stdint.h>

#include "engine/engine.h"

/* The most digits of a prefix: E.164 numbers have at most 15. */
#define SG_VELOCITY_PREFIX_MAX 15

typedef struct sg_engine_velocity_block {
  const sg_engine_account_t *account;
  char prefix[SG_VELOCITY_PREFIX_MAX + 2]; /* "+" and the digits */
  int64_t since_ms;                        /* Unix ms of the block */
  int64_t until_ms;                        /* 0: until lifted */
  uint32_t strikes;                        /* refusals that led to the block */
} sg_engine_velocity_block_t;

typedef struct sg_engine_velocity_stats {
  uint64_t limited; /* recipients refused with velocity_limited */
  uint64_t refused; /* recipients refused with velocity_blocked */
  uint64_t blocks;  /* prefixes blocked since start */
  size_t blocked;   /* prefixes blocked now */
  size_t tracked;   /* (account, prefix) pairs being counted */
} sg_engine_velocity_stats_t;

/* Copies up to cap of the blocks in force into out (oldest first) and
 * returns how many there are (which may be more than cap). out may be
 * NULL when cap is 0. Synchronous, no I/O; 0 before sg_engine_start. */
size_t sg_engine_velocity_blocks(sg_engine_t *e,
                                 sg_engine_velocity_block_t *out, size_t cap);

/* Fills *out with the counters above; zeros before sg_engine_start. */
void sg_engine_velocity_stats(sg_engine_t *e, sg_engine_velocity_stats_t *out);

/* status 0 once the lifted block is durable, or SG_EIO (the block is
 * lifted in memory but may come back after a restart). */
typedef void (*sg_engine_unblock_cb)(sg_engine_t *e, int status, void *ud);

/* Lifts account a's block of prefix ("+" and digits, or the digits alone)
 * and starts its counts again; cb fires after the store saved the blocks
 * that remain, on the loop, never inside this call. Returns 0 (cb will
 * fire), SG_EINVAL (NULL argument or a prefix that is not 1-15 digits),
 * SG_ENOENT (no such block: cb never fires), SG_ECLOSED, SG_EBUSY. */
int sg_engine_velocity_unblock(sg_engine_t *e, const sg_engine_account_t *a,
                               const char *prefix, sg_engine_unblock_cb cb,
                               void *ud);

#endif
