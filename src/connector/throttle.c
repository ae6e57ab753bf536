/* throttle.c - the adaptive token bucket of throttle.h: how many parts per
 * second a connector may send, cut when the operator answers "throttled"
 * and grown back gradually.
 *
 * Arithmetic on the caller's clock only: it never reads time, sleeps,
 * allocates or logs.
 */
#include "connector/throttle.h"

#include <math.h>
#include <stddef.h>

void sg_throttle_config_default(sg_throttle_config_t *cfg) {
  *cfg = (sg_throttle_config_t){.limit = 0,
                                .floor = 1,
                                .burst_seconds = 0.1,
                                .decrease = 0.5,
                                .increase = 0.1,
                                .cut_interval_ms = 1000,
                                .recover_delay_ms = 1000};
}

static void sanitize(sg_throttle_config_t *c) {
  sg_throttle_config_t d;
  sg_throttle_config_default(&d);
  if (!(c->limit >= 0) || !isfinite(c->limit))
    c->limit = 0;
  if (!(c->floor > 0) || !isfinite(c->floor))
    c->floor = d.floor;
  if (c->limit > 0 && c->floor > c->limit)
    c->floor = c->limit;
  if (!(c->burst_seconds > 0) || !isfinite(c->burst_seconds))
    c->burst_seconds = d.burst_seconds;
  if (!(c->decrease > 0 && c->decrease < 1))
    c->decrease = d.decrease;
  if (!(c->increase > 0) || !isfinite(c->increase))
    c->increase = d.increase;
}

/* The ceiling of an unlimited throttle, as a multiple of the rate the
 * operator accepted between two cuts of an episode (see sg_throttle_cut). */
static const double k_follow = 4.0;

static void set_rate(sg_throttle_t *t, double rate) {
  t->rate = rate;
  t->burst = rate > 0 ? fmax(1.0, rate * t->cfg.burst_seconds) : 1.0;
  if (t->tokens > t->burst)
    t->tokens = t->burst;
}

void sg_throttle_init(sg_throttle_t *t, const sg_throttle_config_t *cfg,
                      uint64_t now_ms) {
  *t = (sg_throttle_t){0};
  if (cfg != NULL)
    t->cfg = *cfg;
  else
    sg_throttle_config_default(&t->cfg);
  sanitize(&t->cfg);
  t->tokens = 1e300; /* clamped by set_rate */
  set_rate(t, t->cfg.limit);
  t->ceiling = t->cfg.limit;
  t->last_ms = now_ms;
  t->win_start = now_ms;
}

/* The additive increase due by now: linear from grow_ms at `step` per
 * second, until the ceiling; there the configured limit applies again. */
static void grow(sg_throttle_t *t, uint64_t now_ms) {
  if (t->rate <= 0 || t->rate == t->cfg.limit || now_ms <= t->grow_ms)
    return;
  double r = t->rate + t->step * (double)(now_ms - t->grow_ms) / 1000.0;
  t->grow_ms = now_ms;
  if (r >= t->ceiling)
    set_rate(t, t->cfg.limit); /* 0 again when unlimited */
  else
    set_rate(t, r);
}

static void refill(sg_throttle_t *t, uint64_t now_ms) {
  grow(t, now_ms);
  if (t->rate > 0 && now_ms > t->last_ms) {
    t->tokens += t->rate * (double)(now_ms - t->last_ms) / 1000.0;
    if (t->tokens > t->burst)
      t->tokens = t->burst;
  }
  if (now_ms > t->last_ms)
    t->last_ms = now_ms;
}

/* Counts parts per one-second window, for the first cut when unlimited. */
static void measure(sg_throttle_t *t, unsigned n, uint64_t now_ms) {
  if (now_ms - t->win_start >= 1000) {
    t->prev_count = now_ms - t->win_start < 2000 ? t->win_count : 0;
    t->win_start = now_ms;
    t->win_count = 0;
  }
  t->win_count += n;
}

uint64_t sg_throttle_wait_ms(sg_throttle_t *t, uint64_t now_ms) {
  refill(t, now_ms);
  if (t->rate <= 0 || t->tokens >= 1.0)
    return 0;
  double ms = ceil((1.0 - t->tokens) * 1000.0 / t->rate);
  return ms < 1 ? 1 : (uint64_t)ms;
}

bool sg_throttle_take_n(sg_throttle_t *t, unsigned n, uint64_t now_ms) {
  refill(t, now_ms);
  if (t->rate > 0) {
    if (t->tokens < 1.0)
      return false;
    t->tokens -= n;
  }
  measure(t, n, now_ms);
  return true;
}

/* The factor of a cut within an episode: by the share of answers since
 * the previous cut that were throttled, at most by cfg.decrease. Over fewer
 * than 8 answers the share says little, and the cut is cfg.decrease. */
static double cut_factor(const sg_throttle_t *t, bool episode) {
  uint32_t n = t->ans_ok + t->ans_thr;
  if (!episode || n < 8)
    return t->cfg.decrease;
  double keep = (double)t->ans_ok / (double)n;
  return fmax(t->cfg.decrease, keep);
}

void sg_throttle_accepted(sg_throttle_t *t, unsigned n) {
  t->ans_ok = t->ans_ok + n < t->ans_ok ? UINT32_MAX : t->ans_ok + n;
}

void sg_throttle_cut(sg_throttle_t *t, uint64_t now_ms) {
  refill(t, now_ms);
  if (t->ans_thr < UINT32_MAX)
    t->ans_thr++;
  if (t->has_cut && now_ms - t->cut_ms < t->cfg.cut_interval_ms)
    return;
  /* A cut within two intervals of the last one belongs to the same
   * episode: growth goes on from now, as TCP's window grows between losses.
   * Waiting recover_delay_ms after each of them would let an operator that
   * throttles a share of the submits at any rate (every second a cut, never
   * a quiet second) push the rate down to the floor and keep it there; this
   * way it settles where a cut and a second of growth balance. */
  bool episode =
      t->has_cut && now_ms - t->cut_ms < 2ull * t->cfg.cut_interval_ms;
  double from = t->rate;
  if (from <= 0) {
    /* Unlimited: start from what was actually sent. */
    measure(t, 0, now_ms);
    /* The last whole second, or the current one scaled up (counted over
     * at least 50 ms, so that a cut right after the start does not read a
     * handful of parts as the rate). */
    uint64_t el = now_ms - t->win_start < 50 ? 50 : now_ms - t->win_start;
    double seen = fmax((double)t->prev_count, t->win_count * 1000.0 / el);
    from = fmax(seen, t->cfg.floor);
    t->ceiling = from;
  } else if (t->cfg.limit > 0) {
    t->ceiling = t->cfg.limit;
  } else if (episode) {
    /* Unlimited, within an episode: the ceiling follows what the operator
     * takes. Measured at the first cut from a few parts (right after the
     * start of a burst) it may be far below the traffic; an operator that
     * throttles a share at any rate would then hold the rate near a fixed
     * fraction of that early sample for good. Raised to k_follow times the
     * accepted rate, the growth of each second outweighs the cut by the
     * share (0.2 of it at a fifth throttled), so the rate climbs until it
     * reaches the ceiling and the limit is lifted; an operator with a rate
     * limit R holds it near R, the ceiling near k_follow x R. */
    double ok_per_s = t->ans_ok * 1000.0 / (double)(now_ms - t->cut_ms);
    t->ceiling = fmax(t->ceiling, k_follow * ok_per_s);
  }
  t->step = t->ceiling * t->cfg.increase;
  set_rate(t, fmax(t->cfg.floor, from * cut_factor(t, episode)));
  if (t->tokens > 1.0)
    t->tokens = 1.0; /* no burst right after being told to slow down */
  t->has_cut = true;
  t->cut_ms = now_ms;
  t->grow_ms = episode ? now_ms : now_ms + t->cfg.recover_delay_ms;
  t->ans_ok = 0;
  t->ans_thr = 0;
  t->cuts++;
}

double sg_throttle_rate(sg_throttle_t *t, uint64_t now_ms) {
  grow(t, now_ms);
  return t->rate;
}
