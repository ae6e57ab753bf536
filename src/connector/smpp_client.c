/* smpp_client.c - the SMPP client connector's life cycle: configuration,
 * the binds (one smpp_link each) with their connection, bind and
 * reconnection back-off, the routing of session events to the send path
 * (smpp_client_tx.c) and the receive path (smpp_client_rx.c), pause, stop,
 * state and counters.
 *
 * It must never block the loop, never touch a socket itself (smpp_link.h
 * does), and never call an owner callback from inside the owner's own call
 * into the connector (submit, ack, pause, stop): such work goes through
 * the idle handle.
 */
#include <stdio.h>
#include <string.h>

#include "connector/smpp_client_int.h"
#include "core/alloc.h"
#include "core/error.h"

static const sg_connector_ops_t k_ops;

/* ---- Small helpers ------------------------------------------------------ */

static void idle_cb(uv_idle_t *h);

uint64_t sg__sc_now(const sg__sc_client_t *c) {
  return uv_now(c->loop);
}

int64_t sg__sc_wall_ms(void) {
  uv_timeval64_t tv;
  if (uv_gettimeofday(&tv) != 0)
    return 0;
  return tv.tv_sec * 1000 + tv.tv_usec / 1000;
}

uint64_t sg__sc_random(sg__sc_client_t *c) {
  uint64_t x = c->rng; /* xorshift64 */
  x ^= x << 13;
  x ^= x >> 7;
  x ^= x << 17;
  c->rng = x;
  return x;
}

void sg__sc_soon(sg__sc_client_t *c) {
  if (c->started && !uv_is_closing((uv_handle_t *)&c->idle) &&
      !uv_is_active((uv_handle_t *)&c->idle))
    uv_idle_start(&c->idle, idle_cb);
}

bool sg__sc_bind_can_submit(const sg__sc_bind_t *b) {
  if (b->link == NULL || !b->bound || !b->writable)
    return false;
  if (b->type != SG_SMPP_BIND_TX && b->type != SG_SMPP_BIND_TRX)
    return false;
  return sg_smpp_session_window_free(sg_smpp_link_session(b->link)) > 0;
}

/* ---- Configuration ------------------------------------------------------ */

void sg_smpp_client_config_default(sg_smpp_client_config_t *cfg) {
  *cfg = (sg_smpp_client_config_t){
      .name = "smpp",
      .tls_verify = true,
      .connect_timeout_ms = 10000,
      .bind_type = SG_SMPP_BIND_TRX,
      .binds = 1,
      .window = 10,
      .response_timeout_ms = 30000,
      .bind_timeout_ms = 10000,
      .enquire_link_interval_ms = 30000,
      .enquire_link_timeout_ms = 10000,
      .first_sequence = 1,
      .inbound_window = 1000,
      .reconnect_min_ms = 1000,
      .reconnect_max_ms = 60000,
      .max_queue = 10000,
      .rate_floor = 1,
      .max_temp_retries = 3,
      .retry_min_ms = 1000,
      .retry_max_ms = 60000,
      .max_unknown_retries = 1,
      .gsm7_data_coding = 0x00,
      .id_mode = SG_MSGID_AUTO,
      .dlr_hold_ms = 2000,
  };
}

/* The string fields of the config and their SMPP maxima (without NUL);
 * 0 means no SMPP limit. */
#define SC_STRINGS(X)                                                          \
  X(name, 63)                                                                  \
  X(host, 0)                                                                   \
  X(tls_ca_file, 0)                                                            \
  X(tls_server_name, 0) X(tls_cert_file, 0) X(tls_key_file, 0)                 \
      X(system_id, 15) X(password, 8) X(system_type, 12) X(address_range, 40)  \
          X(service_type, 5)

/* Copies every string of src into one allocation and points dst at it. */
static int copy_strings(sg__sc_client_t *c,
                        const sg_smpp_client_config_t *src) {
  size_t total = 0;
#define SC_LEN(f, max)                                                         \
  if (src->f != NULL) {                                                        \
    size_t n = strlen(src->f);                                                 \
    if ((max) > 0 && n > (max))                                                \
      return SG_EINVAL;                                                        \
    total += n + 1;                                                            \
  }
  SC_STRINGS(SC_LEN)
#undef SC_LEN
  c->strings = sg_malloc(total + 1);
  if (c->strings == NULL)
    return SG_ENOMEM;
  char *p = c->strings;
#define SC_COPY(f, max)                                                        \
  if (src->f != NULL) {                                                        \
    size_t n = strlen(src->f) + 1;                                             \
    memcpy(p, src->f, n);                                                      \
    c->cfg.f = p;                                                              \
    p += n;                                                                    \
  }
  SC_STRINGS(SC_COPY)
#undef SC_COPY
  return 0;
}

static int check_config(const sg_smpp_client_config_t *cfg,
                        const sg_conn_callbacks_t *cb) {
  if (cfg->host == NULL || cfg->host[0] == '\0' || cfg->port == 0)
    return SG_EINVAL;
  unsigned n = cfg->binds + cfg->rx_binds;
  if (n == 0 || n > SG_SMPP_CLIENT_BINDS_MAX)
    return SG_EINVAL;
  if (cfg->bind_type < SG_SMPP_BIND_TX || cfg->bind_type > SG_SMPP_BIND_TRX)
    return SG_EINVAL;
  if (cfg->rx_binds > 0 && cfg->bind_type != SG_SMPP_BIND_TX)
    return SG_EINVAL;
  if (cfg->window == 0 || cfg->window > SG_SMPP_SESSION_WINDOW_MAX)
    return SG_EINVAL;
  if (cfg->long_mode > SG_SMPP_LONG_PAYLOAD || cfg->max_queue == 0)
    return SG_EINVAL;
  if (cfg->n_status_overrides > 0 && cfg->status_overrides == NULL)
    return SG_EINVAL;
  if (cb->result_cb == NULL || cb->dlr_cb == NULL || cb->inbound_cb == NULL)
    return SG_EINVAL;
  return 0;
}

static int make_tls(sg__sc_client_t *c) {
  sg_smpp_link_tls_opts_t o;
  sg_smpp_link_tls_opts_default(&o);
  o.role = SG_SMPP_LINK_TLS_CLIENT;
  o.verify = c->cfg.tls_verify;
  o.ca_file = c->cfg.tls_ca_file;
  o.cert_file = c->cfg.tls_cert_file;
  o.key_file = c->cfg.tls_key_file;
  char err[256];
  return sg_smpp_link_tls_new(&o, &c->tls, err, sizeof err);
}

static void init_lists(sg__sc_client_t *c) {
  for (int i = 0; i < 4; i++)
    sg__sc_list_init(&c->ready[i]);
  sg__sc_list_init(&c->retry);
  sg__sc_list_init(&c->flight);
  sg__sc_list_init(&c->done);
  sg__sc_list_init(&c->msgs);
  sg__sc_list_init(&c->held);
}

static void init_binds(sg__sc_client_t *c) {
  for (unsigned i = 0; i < c->n_binds; i++) {
    sg__sc_bind_t *b = &c->binds[i];
    b->c = c;
    b->idx = i;
    b->type = i < c->cfg.binds ? c->cfg.bind_type : SG_SMPP_BIND_RX;
    b->writable = true;
  }
}

static void client_release(sg__sc_client_t *c) {
  sg_smpp_link_tls_free(c->tls);
  sg_free(c->binds);
  sg_free(c->overrides);
  sg_free(c->strings);
  sg_free(c->scratch);
  sg_free(c);
}

int sg_smpp_client_new(uv_loop_t *loop, const sg_smpp_client_config_t *cfg,
                       const sg_conn_callbacks_t *cb, void *owner,
                       sg_connector_t **out) {
  if (loop == NULL || cfg == NULL || cb == NULL || out == NULL)
    return SG_EINVAL;
  int rc = check_config(cfg, cb);
  if (rc != 0)
    return rc;
  sg__sc_client_t *c = sg_calloc(1, sizeof *c);
  if (c == NULL)
    return SG_ENOMEM;
  c->cfg = *cfg;
  c->loop = loop;
  c->n_binds = cfg->binds + cfg->rx_binds;
  rc = copy_strings(c, cfg);
  if (rc == 0) {
    c->binds = sg_calloc(c->n_binds, sizeof *c->binds);
    size_t n = cfg->n_status_overrides;
    c->overrides = n ? sg_calloc(n, sizeof *c->overrides) : NULL;
    if (c->binds == NULL || (n > 0 && c->overrides == NULL))
      rc = SG_ENOMEM;
    else if (n > 0)
      memcpy(c->overrides, cfg->status_overrides, n * sizeof *c->overrides);
    c->cfg.status_overrides = c->overrides;
  }
  if (rc == 0 && cfg->tls)
    rc = make_tls(c);
  if (rc != 0) {
    client_release(c);
    return rc;
  }
  c->base.ops = &k_ops;
  c->base.cb = *cb;
  c->base.owner = owner;
  snprintf(c->base.name, sizeof c->base.name, "%s",
           c->cfg.name != NULL ? c->cfg.name : "smpp");
  c->rng = (uint64_t)uv_hrtime() ^ (uint64_t)(uintptr_t)c ^ 0x9E3779B97F4A7C15u;
  if (c->rng == 0)
    c->rng = 1;
  init_lists(c);
  init_binds(c);
  c->state = SG_CONN_DOWN;
  *out = &c->base;
  return 0;
}

/* ---- State -------------------------------------------------------------- */

static sg_conn_state_t compute_state(const sg__sc_client_t *c) {
  if (c->stopped)
    return SG_CONN_STOPPED;
  if (c->paused)
    return SG_CONN_PAUSED;
  bool any_tx = false, tx_up = false, any_up = false, any_link = false;
  for (unsigned i = 0; i < c->n_binds; i++) {
    const sg__sc_bind_t *b = &c->binds[i];
    bool tx = b->type != SG_SMPP_BIND_RX;
    any_tx |= tx;
    any_up |= b->bound;
    tx_up |= tx && b->bound;
    any_link |= b->link != NULL;
  }
  if (any_tx ? tx_up : any_up)
    return SG_CONN_UP;
  return any_link ? SG_CONN_CONNECTING : SG_CONN_DOWN;
}

void sg__sc_update_state(sg__sc_client_t *c, const char *reason) {
  sg_conn_state_t st = compute_state(c);
  if (st == c->state)
    return;
  c->state = st;
  if (c->base.cb.state_cb != NULL)
    c->base.cb.state_cb(&c->base, c->base.owner, st, reason);
}

/* ---- Binds: connect, bind, reconnect ------------------------------------ */

static void link_event_cb(sg_smpp_link_t *l, const sg_smpp_event_t *ev,
                          void *user);
static void link_closed_cb(sg_smpp_link_t *l, int reason, void *user);
static void link_connected_cb(sg_smpp_link_t *l, void *user);
static void link_writable_cb(sg_smpp_link_t *l, bool writable, void *user);
static void maybe_finish_stop(sg__sc_client_t *c);

static void link_config(const sg__sc_client_t *c, sg_smpp_link_config_t *lc) {
  sg_smpp_link_config_default(lc);
  lc->role = SG_SMPP_ROLE_ESME;
  lc->connect_timeout_ms = c->cfg.connect_timeout_ms;
  lc->tls = c->tls;
  lc->tls_server_name = c->cfg.tls_server_name;
  sg_smpp_session_config_t *s = &lc->session;
  s->window = c->cfg.window;
  s->response_timeout_ms = c->cfg.response_timeout_ms;
  s->bind_timeout_ms = c->cfg.bind_timeout_ms;
  s->enquire_link_interval_ms = c->cfg.enquire_link_interval_ms;
  s->enquire_link_timeout_ms = c->cfg.enquire_link_timeout_ms;
  s->first_sequence = c->cfg.first_sequence;
  s->inbound_window = c->cfg.inbound_window;
  s->inbound_full_status = SG_SMPP_ESME_RTHROTTLED;
}

static const sg_smpp_link_callbacks_t k_link_cbs = {
    .connected_cb = link_connected_cb,
    .event_cb = link_event_cb,
    .writable_cb = link_writable_cb,
    .closed_cb = link_closed_cb,
};

static void schedule_reconnect(sg__sc_bind_t *b);

static void bind_connect(sg__sc_bind_t *b) {
  sg__sc_client_t *c = b->c;
  sg_smpp_link_config_t lc;
  link_config(c, &lc);
  b->bound = b->was_bound = false;
  b->writable = true;
  if (b->connected_once)
    c->stats.reconnects++;
  b->connected_once = true;
  int rc = sg_smpp_link_connect(c->loop, c->cfg.host, c->cfg.port, &lc,
                                &k_link_cbs, b, &b->link);
  if (rc != 0) {
    b->link = NULL;
    c->xstats.connect_failures++;
    b->failures++;
    schedule_reconnect(b);
  }
  sg__sc_update_state(c, rc != 0 ? "connect failed" : "connecting");
}

static void reconnect_timer_cb(uv_timer_t *t) {
  sg__sc_bind_t *b = SG__SC_CONTAINER(t, sg__sc_bind_t, timer);
  if (!b->c->stopping && b->link == NULL)
    bind_connect(b);
}

/* The delay before the next attempt: min(max, min * 2^failures), of which
 * a random part of up to one half is taken off. */
static void schedule_reconnect(sg__sc_bind_t *b) {
  sg__sc_client_t *c = b->c;
  uint64_t d = c->cfg.reconnect_min_ms ? c->cfg.reconnect_min_ms : 1;
  for (unsigned i = 0; i < b->failures && d < c->cfg.reconnect_max_ms; i++)
    d *= 2;
  if (c->cfg.reconnect_max_ms > 0 && d > c->cfg.reconnect_max_ms)
    d = c->cfg.reconnect_max_ms;
  d -= sg__sc_random(c) % (d / 2 + 1);
  uv_timer_start(&b->timer, reconnect_timer_cb, d, 0);
}

static void bind_params(const sg__sc_client_t *c, sg_smpp_bind_params_t *p) {
  *p = (sg_smpp_bind_params_t){
      .system_id = c->cfg.system_id,
      .password = c->cfg.password,
      .system_type = c->cfg.system_type,
      .interface_version = SG_SMPP_INTERFACE_VERSION,
      .addr_ton = c->cfg.addr_ton,
      .addr_npi = c->cfg.addr_npi,
      .address_range = c->cfg.address_range,
  };
}

static void link_connected_cb(sg_smpp_link_t *l, void *user) {
  sg__sc_bind_t *b = user;
  sg_smpp_bind_params_t p;
  bind_params(b->c, &p);
  int rc = sg_smpp_session_bind(sg_smpp_link_session(l), b->type, &p,
                                sg_smpp_link_now(l));
  if (rc != 0)
    sg_smpp_link_close(l, rc);
  else
    sg_smpp_link_kick(l);
}

static void link_writable_cb(sg_smpp_link_t *l, bool writable, void *user) {
  (void)l;
  sg__sc_bind_t *b = user;
  b->writable = writable;
  if (writable)
    sg__sc_pump(b->c);
}

static void on_bound(sg__sc_bind_t *b) {
  b->bound = b->was_bound = true;
  b->failures = 0;
  sg__sc_update_state(b->c, "bound");
  sg__sc_pump(b->c);
}

static void on_closed(sg__sc_bind_t *b) {
  sg__sc_client_t *c = b->c;
  b->bound = false;
  sg__sc_drop_held(c, b->idx, b->gen);
  b->gen++;
  sg__sc_release_held(c, false);
}

static void link_event_cb(sg_smpp_link_t *l, const sg_smpp_event_t *ev,
                          void *user) {
  (void)l;
  sg__sc_bind_t *b = user;
  sg__sc_client_t *c = b->c;
  switch (ev->type) {
  case SG_SMPP_EV_BOUND:
    on_bound(b);
    break;
  case SG_SMPP_EV_BIND_FAILED:
    c->xstats.bind_failures++;
    b->why = ev->error == SG_ETIMEDOUT
                 ? "bind not answered"
                 : sg_smpp_status_text(ev->command_status);
    if (ev->error != SG_ETIMEDOUT)
      sg_smpp_link_close(l, SG_EPROTO); /* refused: back off, then again */
    break;
  case SG_SMPP_EV_REQUEST:
    sg__sc_on_request(b, ev);
    break;
  case SG_SMPP_EV_RESPONSE:
    sg__sc_on_response(b, ev);
    break;
  case SG_SMPP_EV_NO_RESPONSE:
    sg__sc_on_no_response(b, ev);
    break;
  case SG_SMPP_EV_LATE_RESPONSE:
    c->xstats.late_responses++;
    break;
  case SG_SMPP_EV_PROTOCOL_ERROR:
    c->xstats.protocol_errors++;
    break;
  case SG_SMPP_EV_UNBOUND:
    /* Our own unbind is answered only while stopping; else the SMSC
     * unbound, and the close that follows has no error to tell. */
    if (!c->stopping)
      b->why = "unbound by the SMSC";
    break;
  case SG_SMPP_EV_CLOSED:
    on_closed(b);
    break;
  default: /* OUTBIND, UNKNOWN_RESPONSE, DEAD_PEER */
    break;
  }
}

static void link_closed_cb(sg_smpp_link_t *l, int reason, void *user) {
  sg__sc_bind_t *b = user;
  sg__sc_client_t *c = b->c;
  bool was_bound = b->was_bound;
  sg_smpp_link_free(l);
  b->link = NULL;
  b->bound = false;
  if (c->stopping) {
    maybe_finish_stop(c);
    return;
  }
  if (was_bound) {
    b->failures = 0; /* a working link was lost: come back quickly */
  } else {
    b->failures++;
    if (reason == SG_EIO || reason == SG_ENOENT || reason == SG_ETIMEDOUT)
      c->xstats.connect_failures++;
  }
  schedule_reconnect(b);
  sg__sc_update_state(c, b->why != NULL ? b->why : sg_strerror(reason));
  b->why = NULL;
  sg__sc_pump(c); /* parts whose answer was lost may go on other binds */
}

/* ---- Handles ------------------------------------------------------------ */

static void idle_cb(uv_idle_t *h) {
  sg__sc_client_t *c = h->data;
  uv_idle_stop(h);
  sg__sc_flush_done(c);
  sg__sc_pump(c);
  maybe_finish_stop(c);
}

static int start_handles(sg__sc_client_t *c) {
  uv_timer_init(c->loop, &c->timer);
  c->timer.data = c;
  c->timer_due = UINT64_MAX;
  uv_idle_init(c->loop, &c->idle);
  c->idle.data = c;
  c->handles_open = 2;
  for (unsigned i = 0; i < c->n_binds; i++) {
    uv_timer_init(c->loop, &c->binds[i].timer);
    c->binds[i].timer.data = c;
    c->binds[i].timer_init = true;
    c->handles_open++;
  }
  return 0;
}

static int client_start(sg_connector_t *conn) {
  sg__sc_client_t *c = (sg__sc_client_t *)conn;
  if (c->started || c->stopping)
    return SG_ESTATE;
  c->scratch_cap = 65536;
  c->scratch = sg_malloc(c->scratch_cap);
  if (c->scratch == NULL)
    return SG_ENOMEM;
  sg_throttle_config_t tc;
  sg_throttle_config_default(&tc);
  tc.limit = c->cfg.rate_limit;
  tc.floor = c->cfg.rate_floor;
  sg_throttle_init(&c->throttle, &tc, uv_now(c->loop));
  start_handles(c);
  c->started = true;
  for (unsigned i = 0; i < c->n_binds; i++)
    bind_connect(&c->binds[i]);
  return 0;
}

/* ---- Pause, stop, free -------------------------------------------------- */

static void client_pause(sg_connector_t *conn, bool paused) {
  sg__sc_client_t *c = (sg__sc_client_t *)conn;
  if (c->stopping || c->paused == paused)
    return;
  c->paused = paused;
  sg__sc_update_state(c, paused ? "paused" : "resumed");
  if (!paused)
    sg__sc_soon(c);
}

static void handle_closed_cb(uv_handle_t *h) {
  sg__sc_client_t *c = h->data;
  if (--c->handles_open > 0)
    return;
  c->stopped = true;
  sg__sc_update_state(c, "stopped");
  if (c->stopped_cb != NULL)
    c->stopped_cb(&c->base); /* may free c: nothing after this */
}

static void close_handles(sg__sc_client_t *c) {
  uv_close((uv_handle_t *)&c->timer, handle_closed_cb);
  uv_close((uv_handle_t *)&c->idle, handle_closed_cb);
  for (unsigned i = 0; i < c->n_binds; i++)
    uv_close((uv_handle_t *)&c->binds[i].timer, handle_closed_cb);
}

/* Once every link is closed and every outcome reported, close the handles;
 * the last close callback calls stopped_cb. */
static void maybe_finish_stop(sg__sc_client_t *c) {
  if (!c->stopping || uv_is_closing((uv_handle_t *)&c->timer))
    return;
  for (unsigned i = 0; i < c->n_binds; i++)
    if (c->binds[i].link != NULL)
      return;
  sg__sc_flush_done(c);
  while (!sg__sc_list_empty(&c->held))
    sg__sc_drop_held(c, UINT32_MAX, 0);
  close_handles(c);
}

static void unbind_or_close(sg__sc_bind_t *b) {
  sg_smpp_session_t *s = sg_smpp_link_session(b->link);
  if (b->bound && sg_smpp_session_unbind(s, sg_smpp_link_now(b->link)) == 0)
    sg_smpp_link_kick(b->link);
  else
    sg_smpp_link_close(b->link, SG_ECLOSED);
}

/* Stop: a bind with requests in flight waits for their answers (at most
 * response_timeout_ms) before it unbinds, because many SMSCs answer the
 * unbind at once and close, leaving those requests unknown. */
static void stop_bind(sg__sc_bind_t *b) {
  uv_timer_stop(&b->timer);
  if (b->link == NULL)
    return;
  if (b->bound && sg_smpp_session_in_flight(sg_smpp_link_session(b->link)))
    b->unbind_when_drained = true;
  else
    unbind_or_close(b);
}

void sg__sc_bind_drained(sg__sc_bind_t *b) {
  if (!b->unbind_when_drained || b->link == NULL ||
      sg_smpp_session_in_flight(sg_smpp_link_session(b->link)) > 0)
    return;
  b->unbind_when_drained = false;
  unbind_or_close(b);
}

static void client_stop(sg_connector_t *conn,
                        void (*stopped_cb)(sg_connector_t *c)) {
  sg__sc_client_t *c = (sg__sc_client_t *)conn;
  if (c->stopping)
    return;
  c->stopping = true;
  c->stopped_cb = stopped_cb;
  if (!c->started) {
    /* Nothing runs: one handle, closed at once, makes stopped_cb async. */
    uv_idle_init(c->loop, &c->idle);
    c->idle.data = c;
    c->handles_open = 1;
    uv_close((uv_handle_t *)&c->idle, handle_closed_cb);
    return;
  }
  sg__sc_fail_queued(c, "connector stopped");
  for (unsigned i = 0; i < c->n_binds; i++)
    stop_bind(&c->binds[i]);
  sg__sc_soon(c); /* reports the outcomes, then maybe_finish_stop */
}

/* A bound link is unbound (its close schedules the next connect after
 * reconnect_min_ms, as for a lost link that had worked); a link still
 * connecting is closed the same way; a bind waiting in its back-off
 * connects now. */
static int client_reconnect(sg_connector_t *conn) {
  sg__sc_client_t *c = (sg__sc_client_t *)conn;
  if (!c->started || c->stopping)
    return SG_ESTATE;
  for (unsigned i = 0; i < c->n_binds; i++) {
    sg__sc_bind_t *b = &c->binds[i];
    b->failures = 0;
    if (b->link != NULL) {
      b->why = "reconnect asked by the operator";
      b->was_bound = true; /* come back after the shortest delay */
      unbind_or_close(b);
    } else {
      uv_timer_stop(&b->timer);
      bind_connect(b);
    }
  }
  return 0;
}

static void client_free(sg_connector_t *conn) {
  sg__sc_client_t *c = (sg__sc_client_t *)conn;
  if (c == NULL)
    return;
  sg__sc_free_jobs(c);
  client_release(c);
}

/* ---- Stats -------------------------------------------------------------- */

static void client_stats(const sg_connector_t *conn, sg_conn_stats_t *out) {
  sg__sc_client_t *c = (sg__sc_client_t *)conn;
  *out = c->stats;
  out->state = c->state;
  out->binds_total = c->n_binds;
  out->binds_up = 0;
  out->window_used = 0;
  for (unsigned i = 0; i < c->n_binds; i++) {
    const sg__sc_bind_t *b = &c->binds[i];
    out->binds_up += b->bound;
    if (b->link != NULL)
      out->window_used +=
          sg_smpp_session_in_flight(sg_smpp_link_session(b->link));
  }
  out->queued = c->queued;
  out->rate_limit = c->started ? sg_throttle_rate(&c->throttle, uv_now(c->loop))
                               : c->cfg.rate_limit;
}

int sg_smpp_client_xstats(const sg_connector_t *conn,
                          sg_smpp_client_xstats_t *out) {
  if (conn == NULL || out == NULL || conn->ops != &k_ops)
    return SG_EINVAL;
  const sg__sc_client_t *c = (const sg__sc_client_t *)conn;
  *out = c->xstats;
  out->rate_cuts = c->throttle.cuts;
  return 0;
}

int sg_smpp_client_retune(sg_connector_t *conn, uint32_t rate_limit,
                          uint32_t max_temp_retries) {
  if (conn == NULL || conn->ops != &k_ops)
    return SG_EINVAL;
  sg__sc_client_t *c = (sg__sc_client_t *)conn;
  c->cfg.rate_limit = rate_limit;
  c->cfg.max_temp_retries = max_temp_retries;
  if (c->started) {
    /* A fresh bucket at the new rate; the binds and their windows stay. */
    sg_throttle_config_t tc;
    sg_throttle_config_default(&tc);
    tc.limit = rate_limit;
    tc.floor = c->cfg.rate_floor;
    uint64_t cuts = c->throttle.cuts;
    sg_throttle_init(&c->throttle, &tc, uv_now(c->loop));
    c->throttle.cuts = cuts;
  }
  return 0;
}

static const sg_connector_ops_t k_ops = {
    .type = "smpp",
    .start = client_start,
    .submit = sg__sc_submit,
    .ack = sg__sc_ack,
    .pause = client_pause,
    .stop = client_stop,
    .stats = client_stats,
    .free = client_free,
    .reconnect = client_reconnect,
};
