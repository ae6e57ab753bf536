/* smpp_link.c - drives one SMPP session (smpp/session.h) over one libuv TCP
 * connection, optionally through TLS (smpp_link_tls.c), for the SMPP client
 * connector, the SMPP server and the SMSC simulator.
 *
 * The link is plumbing only: it moves octets between the socket and the
 * session, keeps the session's one timer, and hands every session event to
 * its owner. It must never interpret PDUs, keep per-message state, allocate
 * per PDU or per write, or write once per PDU: output is flushed once per
 * read, tick or loop iteration, with a synchronous write attempt first and
 * at most one uv_write outstanding.
 */
#include <string.h>

#include "connector/smpp_link_int.h"
#include "core/alloc.h"

#define DEFAULT_CONNECT_TIMEOUT 10000u
#define DEFAULT_HIGH_WATER (1u << 20)
#define DEFAULT_LOW_WATER (256u << 10)
#define DEFAULT_LINGER 2000u
#define DEFAULT_READ_BUFFER 65536u
#define MIN_READ_BUFFER 4096u

static void flush(sg_smpp_link_t *l);
static void close_handles(sg_smpp_link_t *l);

/* ---- Configuration ------------------------------------------------------- */

void sg_smpp_link_config_default(sg_smpp_link_config_t *cfg) {
  memset(cfg, 0, sizeof *cfg);
  sg_smpp_session_config_default(&cfg->session);
  cfg->role = SG_SMPP_ROLE_ESME;
  cfg->connect_timeout_ms = DEFAULT_CONNECT_TIMEOUT;
  cfg->write_high_water = DEFAULT_HIGH_WATER;
  cfg->write_low_water = DEFAULT_LOW_WATER;
  cfg->close_linger_ms = DEFAULT_LINGER;
  cfg->read_buffer = DEFAULT_READ_BUFFER;
}

/* ---- Small helpers ------------------------------------------------------- */

uint64_t sg_smpp_link_now(const sg_smpp_link_t *l) {
  return uv_now(l->loop);
}

sg_smpp_session_t *sg_smpp_link_session(const sg_smpp_link_t *l) {
  return l->session;
}

void *sg_smpp_link_user(const sg_smpp_link_t *l) {
  return l->user;
}

void sg_smpp_link_set_user(sg_smpp_link_t *l, void *user) {
  l->user = user;
}

void sg_smpp_link_stats(const sg_smpp_link_t *l, sg_smpp_link_stats_t *out) {
  *out = l->st;
}

bool sg_smpp_link_is_up(const sg_smpp_link_t *l) {
  return l->state == SG__LINK_UP;
}

size_t sg_smpp_link_write_pending(const sg_smpp_link_t *l) {
  size_t n = sg_smpp_session_output_pending(l->session);
  if (l->tls != NULL)
    n += sg__link_tls_pending(l);
  return n;
}

bool sg_smpp_link_writable(const sg_smpp_link_t *l) {
  return l->state <= SG__LINK_UP && l->writable;
}

const char *sg_smpp_link_peer(const sg_smpp_link_t *l, char *buf, size_t cap) {
  struct sockaddr_storage ss;
  int len = (int)sizeof ss;
  if (cap > 0)
    buf[0] = '\0';
  if (!l->tcp_open || cap == 0 ||
      uv_tcp_getpeername(&l->tcp, (struct sockaddr *)&ss, &len) != 0)
    return buf;
  char ip[64];
  if (ss.ss_family == AF_INET6) {
    const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)&ss;
    uv_ip6_name(a, ip, sizeof ip);
    snprintf(buf, cap, "[%s]:%u", ip, (unsigned)ntohs(a->sin6_port));
  } else {
    const struct sockaddr_in *a = (const struct sockaddr_in *)&ss;
    uv_ip4_name(a, ip, sizeof ip);
    snprintf(buf, cap, "%s:%u", ip, (unsigned)ntohs(a->sin_port));
  }
  return buf;
}

/* ---- Session events and timer -------------------------------------------- */

/* Every session event goes to the owner; CLOSED also starts the link's own
 * end: write what remains, then close the socket. */
static void on_session_event(sg_smpp_session_t *s, const sg_smpp_event_t *ev,
                             void *user) {
  sg_smpp_link_t *l = user;
  (void)s;
  if (ev->type == SG_SMPP_EV_CLOSED) {
    l->session_closed = true;
    l->reason = ev->error;
  }
  l->cb.event_cb(l, ev, l->user);
  if (ev->type == SG_SMPP_EV_CLOSED)
    sg__link_drain(l);
}

static void timer_cb(uv_timer_t *t);

/* Starts, moves or stops the deadline timer to match the session. */
static void rearm(sg_smpp_link_t *l) {
  if (l->state >= SG__LINK_CLOSING)
    return;
  uint64_t d = sg_smpp_session_next_deadline(l->session);
  if (d == l->armed)
    return;
  l->armed = d;
  if (d == SG_SMPP_NO_DEADLINE) {
    uv_timer_stop(&l->timer);
    return;
  }
  uint64_t now = uv_now(l->loop);
  uv_timer_start(&l->timer, timer_cb, d > now ? d - now : 0, 0);
}

static void timer_cb(uv_timer_t *t) {
  sg_smpp_link_t *l = t->data;
  uint64_t now = uv_now(l->loop);
  l->armed = SG_SMPP_NO_DEADLINE;
  sg_smpp_session_tick(l->session, now);
  flush(l);
  rearm(l);
  /* A deadline the tick left in the past would spin the loop: wait 1 ms. */
  if (l->armed != SG_SMPP_NO_DEADLINE && l->armed <= now &&
      l->state < SG__LINK_CLOSING)
    uv_timer_start(&l->timer, timer_cb, 1, 0);
}

/* ---- Back-pressure ------------------------------------------------------- */

static void update_pressure(sg_smpp_link_t *l) {
  if (l->state > SG__LINK_UP)
    return;
  size_t pending = sg_smpp_link_write_pending(l);
  if (l->writable && pending > l->cfg.write_high_water) {
    l->writable = false;
    if (l->reading) {
      uv_read_stop((uv_stream_t *)&l->tcp);
      l->reading = false;
      l->st.read_pauses++;
    }
    if (l->cb.writable_cb != NULL)
      l->cb.writable_cb(l, false, l->user);
  } else if (!l->writable && pending <= l->cfg.write_low_water) {
    l->writable = true;
    sg__link_start_reading(l);
    if (l->cb.writable_cb != NULL && l->state == SG__LINK_UP)
      l->cb.writable_cb(l, true, l->user);
  }
}

/* ---- Writing ------------------------------------------------------------- */

static void write_cb(uv_write_t *req, int status);

/* Fails the connection after a socket error: nothing more can be written. */
void sg__link_fail(sg_smpp_link_t *l, int reason) {
  l->abort = true;
  if (!l->session_closed)
    sg_smpp_session_close(l->session, reason); /* CLOSED -> drain -> close */
  else if (l->state < SG__LINK_DRAINING)
    sg__link_drain(l);
  else
    close_handles(l); /* failed while draining: give up the rest */
}

/* Writes buf[0..n): synchronously as far as the kernel takes it, the rest
 * with one uv_write. Returns the octets written at once (<= n), or a
 * negative SG_E* code after failing the link. Sets l->write_len when a
 * uv_write was queued. */
long sg__link_write(sg_smpp_link_t *l, const uint8_t *buf, size_t n) {
  uv_buf_t b = uv_buf_init((char *)buf, (unsigned)n);
  int r = uv_try_write((uv_stream_t *)&l->tcp, &b, 1);
  l->st.writes++;
  if (r < 0 && r != UV_EAGAIN) {
    sg__link_fail(l, SG_EIO);
    return SG_EIO;
  }
  size_t done = r > 0 ? (size_t)r : 0;
  l->st.bytes_out += done;
  if (done == n)
    return (long)done;
  b = uv_buf_init((char *)buf + done, (unsigned)(n - done));
  l->st.writes++;
  if (uv_write(&l->wreq, (uv_stream_t *)&l->tcp, &b, 1, write_cb) != 0) {
    sg__link_fail(l, SG_EIO);
    return SG_EIO;
  }
  l->write_len = n - done;
  return (long)done;
}

/* Plain TCP: hand the session's output regions to the socket until it is
 * empty or the kernel stops taking it. */
static void flush_plain(sg_smpp_link_t *l) {
  const uint8_t *p;
  size_t n;
  while (l->write_len == 0 &&
         (n = sg_smpp_session_output(l->session, &p)) > 0) {
    l->st.flushes++;
    long done = sg__link_write(l, p, n);
    if (done < 0)
      return;
    sg_smpp_session_consume(l->session, (size_t)done);
  }
}

static void write_cb(uv_write_t *req, int status) {
  sg_smpp_link_t *l = req->data;
  size_t n = l->write_len;
  l->write_len = 0;
  if (status < 0) {
    if (status != UV_ECANCELED)
      sg__link_fail(l, SG_EIO);
    return;
  }
  l->st.bytes_out += n;
  if (l->tls != NULL)
    sg__link_tls_written(l, n);
  else
    sg_smpp_session_consume(l->session, n);
  flush(l);
  rearm(l);
}

/* A lingering close. Closing a socket whose peer has sent octets we did
 * not read makes the kernel answer with a reset (RST), and some peers'
 * stacks (Windows' among them) drop what they received but the
 * application had not read yet when a reset arrives: a client that sent a
 * bad PDU followed by more would see the connection die instead of its
 * generic_nack. So once everything is written we send our FIN, read and
 * discard until the peer's EOF, and only then close; the guard
 * (close_linger_ms) bounds the wait. */
static void linger_read_cb(uv_stream_t *st, ssize_t nread,
                           const uv_buf_t *buf) {
  sg_smpp_link_t *l = st->data;
  (void)buf;
  if (nread < 0) {
    l->reading = false;
    uv_read_stop(st);
    close_handles(l);
  }
}

static void alloc_cb(uv_handle_t *h, size_t hint, uv_buf_t *buf);

static void shutdown_cb(uv_shutdown_t *req, int status) {
  sg_smpp_link_t *l = req->handle->data;
  if (status < 0 && status != UV_ECANCELED)
    close_handles(l);
}

/* True while a lingering close is under way (close_handles comes later). */
static bool linger(sg_smpp_link_t *l) {
  if (l->shut)
    return true;
  /* Only a server lingers (its clients are the ones that send a bad PDU
   * with more behind it), and never for a peer that stopped answering: it
   * would not read our FIN either, and its connector would wait
   * close_linger_ms longer to bind again. */
  if (l->abort || l->eof || l->cfg.close_linger_ms == 0 ||
      l->cfg.role != SG_SMPP_ROLE_SMSC || l->reason == SG_ETIMEDOUT)
    return false;
  l->sreq.data = l;
  if (uv_shutdown(&l->sreq, (uv_stream_t *)&l->tcp, shutdown_cb) != 0)
    return false;
  l->shut = true;
  if (l->reading)
    uv_read_stop((uv_stream_t *)&l->tcp);
  l->reading = uv_read_start((uv_stream_t *)&l->tcp, alloc_cb,
                             linger_read_cb) == 0;
  if (!l->reading)
    return false; /* cannot read: close at once (the FIN is queued) */
  return true;
}

/* Writes what is waiting, updates back-pressure, and finishes a drain. */
static void flush(sg_smpp_link_t *l) {
  if (!l->tcp_open || l->state >= SG__LINK_CLOSING || l->frozen)
    return;
  if (l->state >= SG__LINK_UP || l->tls != NULL) {
    if (l->tls != NULL)
      sg__link_tls_flush(l);
    else
      flush_plain(l);
  }
  update_pressure(l);
  if (l->state == SG__LINK_DRAINING && l->write_len == 0 &&
      sg_smpp_link_write_pending(l) == 0) {
    if (l->tls != NULL && !l->abort && sg__link_tls_shutdown(l) > 0)
      return; /* close_notify is being written; its write_cb comes back */
    if (linger(l))
      return;
    close_handles(l);
  }
}

void sg_smpp_link_flush(sg_smpp_link_t *l) {
  flush(l);
  rearm(l);
}

/* ---- The once-per-iteration flush ---------------------------------------- */

static void connected(sg_smpp_link_t *l);

static void prepare_cb(uv_prepare_t *p) {
  sg_smpp_link_t *l = p->data;
  uv_prepare_stop(p);
  l->kicked = false;
  if (l->connect_pending) {
    l->connect_pending = false;
    connected(l);
  }
  flush(l);
  rearm(l);
}

void sg_smpp_link_kick(sg_smpp_link_t *l) {
  if (l->kicked || l->state >= SG__LINK_CLOSING)
    return;
  l->kicked = true;
  uv_prepare_start(&l->prepare, prepare_cb);
}

long sg_smpp_link_send(sg_smpp_link_t *l, const sg_smpp_pdu_t *pdu, void *ctx) {
  if (l->state > SG__LINK_UP)
    return SG_ESTATE;
  long seq =
      sg_smpp_session_send_request(l->session, pdu, ctx, uv_now(l->loop));
  sg_smpp_link_kick(l);
  return seq;
}

int sg_smpp_link_respond(sg_smpp_link_t *l, const sg_smpp_pdu_t *resp) {
  int rc = sg_smpp_session_respond(l->session, resp);
  sg_smpp_link_kick(l);
  return rc;
}

int sg_smpp_link_respond_nack(sg_smpp_link_t *l, uint32_t sequence_number,
                              uint32_t command_status) {
  int rc = sg_smpp_session_respond_nack(l->session, sequence_number,
                                        command_status);
  sg_smpp_link_kick(l);
  return rc;
}

int sg_smpp_link_respond_status(sg_smpp_link_t *l, uint32_t request_command_id,
                                uint32_t sequence_number,
                                uint32_t command_status) {
  int rc = sg_smpp_session_respond_status(l->session, request_command_id,
                                          sequence_number, command_status);
  sg_smpp_link_kick(l);
  return rc;
}

/* ---- Reading ------------------------------------------------------------- */

static void alloc_cb(uv_handle_t *h, size_t hint, uv_buf_t *buf) {
  sg_smpp_link_t *l = h->data;
  (void)hint;
  *buf = uv_buf_init((char *)l->rbuf, (unsigned)l->rcap);
}

/* Plaintext octets from the peer go to the session; answers are flushed
 * at once, so every PDU answered from one read leaves in one write. */
void sg__link_input(sg_smpp_link_t *l, const uint8_t *data, size_t n) {
  if (l->session_closed || n == 0)
    return;
  sg_smpp_session_input(l->session, data, n, uv_now(l->loop));
}

static void read_cb(uv_stream_t *st, ssize_t nread, const uv_buf_t *buf) {
  sg_smpp_link_t *l = st->data;
  (void)buf;
  if (nread == 0)
    return;
  if (nread < 0) {
    /* EOF: the peer is gone; what we still have to say may yet reach it
     * (it may only have shut down its side). Anything else: abort. */
    l->reading = false;
    uv_read_stop(st);
    if (nread == UV_EOF) {
      l->eof = true;
      if (!l->session_closed)
        sg_smpp_session_close(l->session, SG_ECLOSED);
    } else {
      sg__link_fail(l, SG_EIO);
    }
    flush(l);
    return;
  }
  l->st.reads++;
  l->st.bytes_in += (uint64_t)nread;
  if (l->tls != NULL)
    sg__link_tls_input(l, l->rbuf, (size_t)nread);
  else
    sg__link_input(l, l->rbuf, (size_t)nread);
  flush(l);
  rearm(l);
}

void sg__link_start_reading(sg_smpp_link_t *l) {
  if (l->reading || !l->tcp_open || l->state > SG__LINK_UP ||
      !l->read_allowed || !l->writable)
    return;
  if (uv_read_start((uv_stream_t *)&l->tcp, alloc_cb, read_cb) == 0)
    l->reading = true;
}

/* ---- Connected and closing ----------------------------------------------- */

/* The connection is usable: stop the connect timer, tell the owner, and
 * start moving octets. */
static void connected(sg_smpp_link_t *l) {
  if (l->state >= SG__LINK_UP)
    return;
  l->state = SG__LINK_UP;
  uv_timer_stop(&l->guard);
  l->read_allowed = true;
  sg__link_start_reading(l);
  if (l->cb.connected_cb != NULL && !l->session_closed)
    l->cb.connected_cb(l, l->user);
  flush(l);
  rearm(l);
}

void sg__link_connected(sg_smpp_link_t *l) {
  connected(l);
}

static void guard_cb(uv_timer_t *t) {
  sg_smpp_link_t *l = t->data;
  if (l->state < SG__LINK_UP) {
    l->connect_error = SG_ETIMEDOUT;
    sg__link_fail(l, SG_ETIMEDOUT);
  } else if (l->state == SG__LINK_DRAINING) {
    l->abort = true; /* linger over: close whatever is left unwritten */
    close_handles(l);
  }
}

/* The session is closed: finish writing (bounded by close_linger_ms)
 * unless aborting or never connected, then close the handles. */
void sg__link_drain(sg_smpp_link_t *l) {
  if (l->state >= SG__LINK_DRAINING)
    return;
  bool was_up = l->state == SG__LINK_UP;
  l->state = SG__LINK_DRAINING;
  if (l->abort || !was_up || !l->tcp_open) {
    close_handles(l);
    return;
  }
  uv_timer_stop(&l->timer);
  if (l->cfg.close_linger_ms > 0)
    uv_timer_start(&l->guard, guard_cb, l->cfg.close_linger_ms, 0);
  l->kicked = true;
  uv_prepare_start(&l->prepare, prepare_cb);
}

static void maybe_closed(sg_smpp_link_t *l) {
  if (l->handles_open > 0 || l->gai_pending || l->state != SG__LINK_CLOSING)
    return;
  l->state = SG__LINK_CLOSED;
  l->cb.closed_cb(l, l->reason, l->user);
}

static void handle_closed_cb(uv_handle_t *h) {
  sg_smpp_link_t *l = h->data;
  l->handles_open--;
  maybe_closed(l);
}

static void close_handles(sg_smpp_link_t *l) {
  if (l->state >= SG__LINK_CLOSING)
    return;
  l->state = SG__LINK_CLOSING;
  if (l->gai_pending)
    uv_cancel((uv_req_t *)&l->gai);
  if (!l->reset || uv_tcp_close_reset(&l->tcp, handle_closed_cb) != 0)
    uv_close((uv_handle_t *)&l->tcp, handle_closed_cb);
  uv_close((uv_handle_t *)&l->timer, handle_closed_cb);
  uv_close((uv_handle_t *)&l->guard, handle_closed_cb);
  uv_close((uv_handle_t *)&l->prepare, handle_closed_cb);
  l->tcp_open = false;
}

void sg__link_gai_done(sg_smpp_link_t *l) {
  l->gai_pending = false;
  maybe_closed(l);
}

void sg_smpp_link_close(sg_smpp_link_t *l, int reason) {
  if (l == NULL || l->state >= SG__LINK_DRAINING || l->session_closed)
    return;
  sg_smpp_session_close(l->session, reason != 0 ? reason : SG_ECLOSED);
}

void sg_smpp_link_abort(sg_smpp_link_t *l, int reason) {
  if (l == NULL || l->state >= SG__LINK_CLOSING)
    return;
  l->abort = true;
  if (!l->session_closed)
    sg_smpp_session_close(l->session, reason != 0 ? reason : SG_ECLOSED);
  else
    close_handles(l);
}

void sg_smpp_link_reset(sg_smpp_link_t *l, int reason) {
  if (l == NULL || l->state >= SG__LINK_CLOSING)
    return;
  l->reset = true;
  sg_smpp_link_abort(l, reason);
}

void sg_smpp_link_freeze(sg_smpp_link_t *l) {
  if (l == NULL || l->state >= SG__LINK_CLOSING)
    return;
  l->frozen = true;
  l->abort = true; /* a later close writes nothing either */
  l->read_allowed = false;
  if (l->reading) {
    uv_read_stop((uv_stream_t *)&l->tcp);
    l->reading = false;
  }
}

/* ---- Creation ------------------------------------------------------------ */

/* Allocates a link with its buffers, session and (not yet open) handles.
 * On failure nothing is left. */
int sg__link_new(uv_loop_t *loop, const sg_smpp_link_config_t *cfg,
                 const sg_smpp_link_callbacks_t *cbs, void *user,
                 sg_smpp_link_t **out) {
  if (loop == NULL || cfg == NULL || cbs == NULL || cbs->event_cb == NULL ||
      cbs->closed_cb == NULL || out == NULL)
    return SG_EINVAL;
  sg_smpp_link_t *l = sg_calloc(1, sizeof *l);
  if (l == NULL)
    return SG_ENOMEM;
  l->loop = loop;
  l->cfg = *cfg;
  l->cfg.tls = NULL;
  l->cfg.tls_server_name = NULL;
  if (l->cfg.read_buffer < MIN_READ_BUFFER)
    l->cfg.read_buffer = MIN_READ_BUFFER;
  if (l->cfg.write_low_water > l->cfg.write_high_water)
    l->cfg.write_low_water = l->cfg.write_high_water;
  l->cb = *cbs;
  l->user = user;
  l->writable = true;
  l->armed = SG_SMPP_NO_DEADLINE;
  l->rcap = l->cfg.read_buffer;
  l->rbuf = sg_malloc(l->rcap);
  int rc = l->rbuf != NULL ? 0 : SG_ENOMEM;
  if (rc == 0)
    rc = sg_smpp_session_new(cfg->role, &cfg->session, on_session_event, l,
                             uv_now(loop), &l->session);
  if (rc != 0) {
    sg_smpp_link_free(l);
    return rc;
  }
  *out = l;
  return 0;
}

/* Initialises the four handles (all on the loop, none active). */
int sg__link_init_handles(sg_smpp_link_t *l) {
  if (uv_tcp_init(l->loop, &l->tcp) != 0)
    return SG_EIO;
  uv_timer_init(l->loop, &l->timer);
  uv_timer_init(l->loop, &l->guard);
  uv_prepare_init(l->loop, &l->prepare);
  l->tcp.data = l->timer.data = l->guard.data = l->prepare.data = l;
  l->wreq.data = l;
  l->handles_open = 4;
  l->tcp_open = true;
  return 0;
}

/* Undoes sg__link_init_handles() when creation fails after it: the handles
 * are closed and the link freed once their callbacks have run, with no
 * owner callback. */
static void abandon_cb(uv_handle_t *h) {
  sg_smpp_link_t *l = h->data;
  if (--l->handles_open == 0)
    sg_smpp_link_free(l);
}

void sg__link_abandon(sg_smpp_link_t *l) {
  l->state = SG__LINK_CLOSED;
  uv_close((uv_handle_t *)&l->tcp, abandon_cb);
  uv_close((uv_handle_t *)&l->timer, abandon_cb);
  uv_close((uv_handle_t *)&l->guard, abandon_cb);
  uv_close((uv_handle_t *)&l->prepare, abandon_cb);
}

void sg__link_start_guard(sg_smpp_link_t *l) {
  if (l->cfg.connect_timeout_ms > 0)
    uv_timer_start(&l->guard, guard_cb, l->cfg.connect_timeout_ms, 0);
}

int sg_smpp_link_accept(uv_stream_t *server, const sg_smpp_link_config_t *cfg,
                        const sg_smpp_link_callbacks_t *cbs, void *user,
                        sg_smpp_link_t **out) {
  if (server == NULL)
    return SG_EINVAL;
  if (cfg != NULL && cfg->tls != NULL &&
      sg__link_tls_role(cfg->tls) != SG_SMPP_LINK_TLS_SERVER)
    return SG_EINVAL;
  sg_smpp_link_t *l;
  int rc = sg__link_new(server->loop, cfg, cbs, user, &l);
  if (rc == 0 && cfg->tls != NULL) {
    rc = sg__link_tls_attach(l, cfg->tls, NULL);
    if (rc != 0)
      sg_smpp_link_free(l);
  }
  if (rc != 0)
    return rc;
  if (sg__link_init_handles(l) != 0) {
    sg_smpp_link_free(l);
    return SG_EIO;
  }
  if (uv_accept(server, (uv_stream_t *)&l->tcp) != 0) {
    sg__link_abandon(l);
    return SG_EIO;
  }
  uv_tcp_nodelay(&l->tcp, 1);
  if (l->tls != NULL) {
    l->state = SG__LINK_HANDSHAKE;
    l->read_allowed = true;
    sg__link_start_guard(l);
    sg__link_start_reading(l);
  } else {
    l->state = SG__LINK_HANDSHAKE;
    l->connect_pending = true;
    sg_smpp_link_kick(l);
  }
  *out = l;
  return 0;
}

void sg_smpp_link_free(sg_smpp_link_t *l) {
  if (l == NULL)
    return;
  sg__link_tls_detach(l);
  sg_smpp_session_free(l->session);
  sg_free(l->rbuf);
  sg_free(l->host);
  sg_free(l);
}
