/* modem_pool.c - one connector over several GSM modems (a pool): each
 * modem is a modem connector of its own (modem.c, with its own TP-MR
 * counter, report matching and inbound messages); the pool holds the
 * parts, hands each to the least busy modem that is ready and not failing,
 * and speaks for all of them to its owner through connector.h.
 *
 * Health: a modem that is not ready takes nothing; when it goes down, the
 * parts it held and never wrote come back to the pool for the others. A
 * modem whose sends failed (temporary error or no answer) three times in a
 * row rests for POOL_REST_MS unless no other modem is ready. A part stays
 * on a modem only once written to it without an answer: moving it could
 * send it twice.
 *
 * It must never lose a part: each gets exactly one result_cb (the modem's,
 * or TEMPFAIL from the pool at stop), and acks go back to the modem that
 * raised the event (its index is in the token's top byte).
 */
#include "connector/modem_int.h"

#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "core/error.h"

#define POOL_FAILS_MAX 3
#define POOL_REST_MS 60000
#define POOL_PER_MODEM 2 /* parts in a modem's hands: one sent, one next */
#define TOKEN_SHIFT 56

typedef struct pool pool_t;

typedef struct member {
  pool_t *pool;
  sg_connector_t *c;
  unsigned idx;
  unsigned fails;      /* sends failed in a row */
  uint64_t rest_until; /* loop ms */
  bool stopped;
} member_t;

struct pool {
  sg_connector_t base; /* first */
  uv_loop_t *loop;
  member_t m[SG_MODEM_POOL_MAX];
  size_t n;
  sg__mpart_t *q;
  size_t q_head, q_len, q_max;
  uv_timer_t kick;
  bool kick_open, paused, stopping, said_busy;
  sg_conn_state_t state;
  void (*stopped_cb)(sg_connector_t *c);
};

static const sg_connector_ops_t pool_ops;

bool sg__modem_is_pool(const sg_connector_t *c) {
  return c->ops == &pool_ops;
}

sg_connector_t *sg__modem_pool_member(const sg_connector_t *c, size_t i) {
  const pool_t *p = (const pool_t *)c;
  return i < p->n ? p->m[i].c : NULL;
}

static bool member_up(const member_t *mb) {
  return ((const sg__modem_t *)mb->c)->state == SG__MS_READY;
}

static size_t member_load(const member_t *mb) {
  return ((const sg__modem_t *)mb->c)->q_len;
}

/* The least busy modem that is ready, preferring those not resting. */
static member_t *choose(pool_t *p, uint64_t now) {
  member_t *best = NULL;
  bool best_rests = true;
  for (size_t i = 0; i < p->n; i++) {
    member_t *mb = &p->m[i];
    if (!member_up(mb) || member_load(mb) >= POOL_PER_MODEM)
      continue;
    bool rests = mb->rest_until > now;
    if (best == NULL || (best_rests && !rests) ||
        (rests == best_rests && member_load(mb) < member_load(best)))
      best = mb, best_rests = rests;
  }
  if (best != NULL && best_rests)
    for (size_t i = 0; i < p->n; i++)
      if (member_up(&p->m[i]) && p->m[i].rest_until <= now)
        return NULL; /* a healthy one is busy: wait for it */
  return best;
}

static void kick_cb(uv_timer_t *t);

static void kick_after(pool_t *p, uint64_t ms) {
  if (!p->stopping)
    uv_timer_start(&p->kick, kick_cb, ms, 0);
}

static void pump(pool_t *p) {
  uint64_t now = uv_now(p->loop);
  while (p->q_len > 0 && !p->paused && !p->stopping) {
    member_t *mb = choose(p, now);
    if (mb == NULL)
      break;
    sg__mpart_t *mp = &p->q[p->q_head];
    if (sg_connector_submit(mb->c, &mp->p) != 0)
      break;
    p->q_head = (p->q_head + 1) % p->q_max;
    p->q_len--;
  }
  if (p->q_len > 0 && !p->stopping) /* resting modems come back in time */
    kick_after(p, 1000);
  if (p->said_busy && p->q_len < p->q_max && !p->stopping) {
    p->said_busy = false;
    if (p->base.cb.ready_cb != NULL)
      p->base.cb.ready_cb(&p->base, p->base.owner);
  }
}

static void kick_cb(uv_timer_t *t) {
  pump(t->data);
}

/* Parts a modem gives back go first, in their order. */
static void requeue(pool_t *p, const sg__mpart_t *parts, size_t n) {
  for (size_t i = n; i-- > 0;) {
    if (p->q_len >= p->q_max)
      break; /* cannot happen: the pool gave them out of its own room */
    p->q_head = (p->q_head + p->q_max - 1) % p->q_max;
    sg__mpart_t *mp = &p->q[p->q_head];
    *mp = parts[i];
    mp->p.udh = mp->udh;
    mp->p.ud = mp->ud;
    p->q_len++;
  }
}

static sg_conn_state_t pool_state(const pool_t *p) {
  sg_conn_state_t s = SG_CONN_DOWN;
  for (size_t i = 0; i < p->n; i++) {
    const sg__modem_t *m = (const sg__modem_t *)p->m[i].c;
    if (m->state == SG__MS_READY)
      return SG_CONN_UP;
    if (m->state == SG__MS_INIT)
      s = SG_CONN_CONNECTING;
  }
  return s;
}

/* ---- The modems' callbacks ----------------------------------------------- */

static void m_result(sg_connector_t *c, void *owner,
                     const sg_conn_result_t *r) {
  member_t *mb = owner;
  pool_t *p = mb->pool;
  (void)c;
  if (r->outcome == SG_CONN_SENT)
    mb->fails = 0;
  else if (r->outcome != SG_CONN_PERMFAIL && ++mb->fails >= POOL_FAILS_MAX)
    mb->rest_until = uv_now(p->loop) + POOL_REST_MS;
  p->base.cb.result_cb(&p->base, p->base.owner, r);
  kick_after(p, 0);
}

static uint64_t pool_token(const member_t *mb, uint64_t token) {
  return token | (uint64_t)(mb->idx + 1) << TOKEN_SHIFT;
}

static void m_dlr(sg_connector_t *c, void *owner, const sg_conn_dlr_t *d,
                  uint64_t token) {
  member_t *mb = owner;
  pool_t *p = mb->pool;
  if (p->base.cb.dlr_cb == NULL) {
    sg_connector_ack(c, token, true);
    return;
  }
  p->base.cb.dlr_cb(&p->base, p->base.owner, d, pool_token(mb, token));
}

static void m_inbound(sg_connector_t *c, void *owner,
                      const sg_conn_inbound_t *in, uint64_t token) {
  member_t *mb = owner;
  pool_t *p = mb->pool;
  if (p->base.cb.inbound_cb == NULL) {
    sg_connector_ack(c, token, false);
    return;
  }
  p->base.cb.inbound_cb(&p->base, p->base.owner, in, pool_token(mb, token));
}

static void m_state(sg_connector_t *c, void *owner, sg_conn_state_t s,
                    const char *why) {
  member_t *mb = owner;
  pool_t *p = mb->pool;
  if (s != SG_CONN_UP && !p->stopping) {
    sg__mpart_t back[POOL_PER_MODEM + 1];
    size_t n = sg__modem_take_back((sg__modem_t *)c, back,
                                   sizeof back / sizeof back[0]);
    requeue(p, back, n);
  }
  if (s == SG_CONN_UP)
    mb->fails = 0;
  sg_conn_state_t ps = pool_state(p);
  if (ps != p->state && !p->stopping) {
    p->state = ps;
    char b[160];
    snprintf(b, sizeof b, "%s: %s", c->name, why != NULL ? why : "");
    if (p->base.cb.state_cb != NULL)
      p->base.cb.state_cb(&p->base, p->base.owner, ps, b);
  }
  kick_after(p, 0);
}

static void m_ready(sg_connector_t *c, void *owner) {
  member_t *mb = owner;
  (void)c;
  kick_after(mb->pool, 0);
}

static const sg_conn_callbacks_t member_cbs = {
    .result_cb = m_result,
    .dlr_cb = m_dlr,
    .inbound_cb = m_inbound,
    .state_cb = m_state,
    .ready_cb = m_ready,
};

/* ---- Connector operations ------------------------------------------------ */

static int pool_start(sg_connector_t *c) {
  pool_t *p = (pool_t *)c;
  if (p->stopping)
    return SG_ESTATE;
  for (size_t i = 0; i < p->n; i++) {
    int rc = sg_connector_start(p->m[i].c);
    if (rc != 0)
      return rc;
  }
  return 0;
}

static int pool_submit(sg_connector_t *c, const sg_conn_part_t *part) {
  pool_t *p = (pool_t *)c;
  if (p->stopping)
    return SG_ESTATE;
  if (part->ud_len > sizeof p->q[0].ud || part->udh_len > SG_TPDU_UD_MAX ||
      (part->udh_len > 0 && part->udh == NULL) ||
      (part->ud_len > 0 && part->ud == NULL))
    return SG_EINVAL;
  if (p->q_len >= p->q_max) {
    p->said_busy = true;
    return SG_EBUSY;
  }
  sg__mpart_t *mp = &p->q[(p->q_head + p->q_len) % p->q_max];
  memset(mp, 0, sizeof *mp);
  mp->p = *part;
  if (part->udh_len > 0)
    memcpy(mp->udh, part->udh, part->udh_len);
  if (part->ud_len > 0)
    memcpy(mp->ud, part->ud, part->ud_len);
  mp->p.udh = mp->udh;
  mp->p.ud = mp->ud;
  p->q_len++;
  kick_after(p, 0);
  return 0;
}

static void pool_ack(sg_connector_t *c, uint64_t token, bool accepted) {
  pool_t *p = (pool_t *)c;
  uint64_t idx = token >> TOKEN_SHIFT;
  if (idx == 0 || idx > p->n)
    return;
  sg_connector_ack(p->m[idx - 1].c, token & ((1ull << TOKEN_SHIFT) - 1),
                   accepted);
}

static void pool_pause(sg_connector_t *c, bool paused) {
  pool_t *p = (pool_t *)c;
  p->paused = paused;
  if (!paused)
    kick_after(p, 0);
}

static void maybe_stopped(pool_t *p) {
  if (p->kick_open)
    return;
  for (size_t i = 0; i < p->n; i++)
    if (!p->m[i].stopped)
      return;
  if (p->stopped_cb != NULL) {
    void (*cb)(sg_connector_t *) = p->stopped_cb;
    p->stopped_cb = NULL;
    cb(&p->base);
  }
}

static void member_stopped(sg_connector_t *c) {
  member_t *mb = c->owner;
  mb->stopped = true;
  maybe_stopped(mb->pool);
}

static void kick_closed(uv_handle_t *h) {
  pool_t *p = h->data;
  p->kick_open = false;
  maybe_stopped(p);
}

static void pool_stop(sg_connector_t *c, void (*stopped_cb)(sg_connector_t *)) {
  pool_t *p = (pool_t *)c;
  if (p->stopping)
    return;
  p->stopping = true;
  p->stopped_cb = stopped_cb;
  while (p->q_len > 0) { /* never given to a modem: never sent */
    sg_conn_result_t r;
    memset(&r, 0, sizeof r);
    r.id = p->q[p->q_head].p.id;
    r.outcome = SG_CONN_TEMPFAIL;
    r.attempts = p->q[p->q_head].attempts;
    p->q_head = (p->q_head + 1) % p->q_max;
    p->q_len--;
    p->base.cb.result_cb(&p->base, p->base.owner, &r);
  }
  uv_close((uv_handle_t *)&p->kick, kick_closed);
  for (size_t i = 0; i < p->n; i++)
    sg_connector_stop(p->m[i].c, member_stopped);
}

static void pool_stats(const sg_connector_t *c, sg_conn_stats_t *out) {
  const pool_t *p = (const pool_t *)c;
  memset(out, 0, sizeof *out);
  for (size_t i = 0; i < p->n; i++) {
    sg_conn_stats_t s;
    sg_connector_stats(p->m[i].c, &s);
    out->binds_up += s.binds_up;
    out->binds_total += s.binds_total;
    out->window_used += s.window_used;
    out->queued += s.queued;
    out->submitted += s.submitted;
    out->sent_ok += s.sent_ok;
    out->temp_errors += s.temp_errors;
    out->perm_errors += s.perm_errors;
    out->unknown_retries += s.unknown_retries;
    out->timeouts += s.timeouts;
    out->reconnects += s.reconnects;
    out->dlr_received += s.dlr_received;
    out->inbound_received += s.inbound_received;
  }
  out->queued += (unsigned)p->q_len;
  out->state = p->stopping ? SG_CONN_STOPPED
               : p->paused ? SG_CONN_PAUSED
                           : pool_state(p);
}

static size_t pool_links(const sg_connector_t *c, sg_conn_link_t *out,
                         size_t cap) {
  const pool_t *p = (const pool_t *)c;
  uint64_t now = uv_now(p->loop);
  size_t n = 0;
  for (; n < p->n && n < cap; n++) {
    sg__modem_link((const sg__modem_t *)p->m[n].c, &out[n]);
    out[n].healthy = out[n].healthy && p->m[n].rest_until <= now;
  }
  return n;
}

static void pool_free(sg_connector_t *c) {
  pool_t *p = (pool_t *)c;
  for (size_t i = 0; i < p->n; i++)
    sg_connector_free(p->m[i].c);
  sg_free(p->q);
  sg_free(p);
}

static const sg_connector_ops_t pool_ops = {
    .type = "modem",
    .start = pool_start,
    .submit = pool_submit,
    .ack = pool_ack,
    .pause = pool_pause,
    .stop = pool_stop,
    .stats = pool_stats,
    .free = pool_free,
    .links = pool_links,
};

int sg__modem_pool_new(uv_loop_t *loop, const sg_modem_config_t *cfg,
                       const sg_conn_callbacks_t *cbs, void *owner,
                       sg_connector_t **out) {
  if (cfg->n_devices > SG_MODEM_POOL_MAX || cfg->devices == NULL ||
      cbs == NULL || cbs->result_cb == NULL || cfg->queue_max == 0)
    return SG_EINVAL;
  for (size_t i = 0; i < cfg->n_devices; i++) {
    const char *d = cfg->devices[i];
    char *host = NULL, port[8];
    if (d == NULL || (d[0] != '/' && sg__modem_tcp_parse(d, &host, port) != 0))
      return SG_EINVAL;
    sg_free(host);
  }
  pool_t *p = sg_calloc(1, sizeof *p);
  if (p == NULL)
    return SG_ENOMEM;
  p->q_max = cfg->queue_max;
  p->q = sg_calloc(p->q_max, sizeof *p->q);
  if (p->q == NULL) {
    sg_free(p);
    return SG_ENOMEM;
  }
  p->base.ops = &pool_ops;
  snprintf(p->base.name, sizeof p->base.name, "%s",
           cfg->name != NULL ? cfg->name : "modem");
  p->base.cb = *cbs;
  p->base.owner = owner;
  p->loop = loop;
  for (size_t i = 0; i < cfg->n_devices; i++) {
    sg_modem_config_t mc = *cfg;
    mc.devices = NULL;
    mc.n_devices = 0;
    mc.device = cfg->devices[i];
    mc.queue_max = POOL_PER_MODEM + 1;
    member_t *mb = &p->m[i];
    mb->pool = p;
    mb->idx = (unsigned)i;
    int rc = sg_modem_new(loop, &mc, &member_cbs, mb, &mb->c);
    if (rc != 0) {
      /* The modems made so far were never started: their handles close,
       * then they free themselves. */
      for (size_t k = 0; k < p->n; k++)
        sg_connector_stop(p->m[k].c, sg_connector_free);
      sg_free(p->q);
      sg_free(p);
      return rc;
    }
    p->n++;
  }
  uv_timer_init(loop, &p->kick);
  p->kick.data = p;
  p->kick_open = true;
  *out = &p->base;
  return 0;
}
