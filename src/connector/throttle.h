/* throttle.h - a token bucket with an adaptive rate, for the parts per
 * second a connector may send (operators count parts, not messages).
 *
 * The bucket fills at `rate` tokens per second up to `burst` tokens; each
 * part sent takes one. The rate adapts to the operator's answers the way
 * TCP's congestion window does (additive increase, multiplicative
 * decrease):
 *   - on a throttling answer (SMPP ESME_RTHROTTLED, ESME_RMSGQFUL) the
 *     rate is cut, at most once per `cut_interval_ms`, because the answers
 *     to the whole window in flight arrive together and describe one
 *     event. The first cut of an episode is by `decrease` (default to
 *     half); a later one within the episode by the share of answers since
 *     the previous cut that were throttled (never by more than
 *     `decrease`): an operator that takes R parts a second of the r sent
 *     throttles 1 - R/r of them, and the rate lands on R, the operator's
 *     rate, not below it;
 *   - from `recover_delay_ms` after the first cut it grows by `increase`
 *     of the rate it aims at, per second, until it is back at the
 *     configured limit; a cut within two intervals of the previous one
 *     does not stop the growth: an operator throttling a share s of the
 *     submits whatever the rate holds it where a cut and a second of growth
 *     balance, (1 - s) / s x `increase` of the limit (0.4 of it for a fifth
 *     of the submits throttled), not at the floor.
 * With no configured limit (unlimited) the first cut starts from the rate
 * measured over the last second, and once the rate has recovered to that
 * measurement the limit is lifted again.
 *
 * Pure and clock-free: every call takes the time (monotonic milliseconds)
 * from the caller. No allocation; the struct is embedded.
 */
#ifndef SG_CONNECTOR_THROTTLE_H
#define SG_CONNECTOR_THROTTLE_H

#include <stdbool.h>
#include <stdint.h>

typedef struct sg_throttle_config {
  double limit;              /* parts/s at most; 0 = unlimited */
  double floor;              /* the rate is never cut below this (> 0) */
  double burst_seconds;      /* bucket size as seconds of the rate (>= 1
                                token always); default 0.1 */
  double decrease;           /* factor of a cut, 0 < decrease < 1; 0.5 */
  double increase;           /* per second, as a share of the limit (or of
                                the measured rate); default 0.1: at most
                                10 s back from a cut */
  uint32_t cut_interval_ms;  /* default 1000 */
  uint32_t recover_delay_ms; /* default 1000 */
} sg_throttle_config_t;

typedef struct sg_throttle {
  sg_throttle_config_t cfg;
  double rate;    /* current parts/s; 0 = unlimited */
  double ceiling; /* the rate recovery aims at */
  double step;    /* additive increase per second */
  double tokens;  /* may go below 0 after sg_throttle_take_n */
  double burst;
  uint64_t last_ms; /* last refill */
  uint64_t cut_ms;  /* last cut; 0 = never */
  bool has_cut;
  uint64_t grow_ms; /* last additive step */
  /* The measured rate: parts taken in the current and previous second. */
  uint64_t win_start;
  uint32_t win_count;
  uint32_t prev_count;
  uint64_t cuts; /* number of cuts, for tests and stats */
  /* The operator's answers since the last cut: accepted and throttled. */
  uint32_t ans_ok;
  uint32_t ans_thr;
} sg_throttle_t;

/* Fills *cfg with the defaults above (limit 0, floor 1). */
void sg_throttle_config_default(sg_throttle_config_t *cfg);

/* Initialises *t at now_ms with a full bucket. cfg NULL means defaults;
 * out-of-range fields are replaced by their defaults. Never fails. */
void sg_throttle_init(sg_throttle_t *t, const sg_throttle_config_t *cfg,
                      uint64_t now_ms);

/* How many milliseconds until one token is available (0: now). */
uint64_t sg_throttle_wait_ms(sg_throttle_t *t, uint64_t now_ms);

/* Takes n tokens if at least one is available (the bucket may go into
 * debt for n > 1: a message_payload carrying several parts counts them all)
 * and returns true; returns false, taking nothing, when none is. */
bool sg_throttle_take_n(sg_throttle_t *t, unsigned n, uint64_t now_ms);

/* The operator said "too fast": cut the rate (see above). Each call counts
 * one throttled answer, also when it makes no cut. */
void sg_throttle_cut(sg_throttle_t *t, uint64_t now_ms);

/* The operator accepted n parts (a submit_sm_resp with ESME_ROK): counted
 * with the throttled answers to size the next cut. */
void sg_throttle_accepted(sg_throttle_t *t, unsigned n);

/* The rate now, in parts per second; 0 means unlimited. Applies the
 * additive increase due by now_ms. */
double sg_throttle_rate(sg_throttle_t *t, uint64_t now_ms);

#endif
