/* smpp_server.c - the SMPP server's life cycle: accounts, listeners (TCP
 * and TLS), one SMPP link in the SMSC role per accepted connection, the
 * events of its session, and an orderly stop.
 *
 * It decides nothing about binds (smpp_server_auth.c), messages
 * (smpp_server_submit.c) or receipts (smpp_server_dlr.c). It must never
 * block the loop: password hashing runs on the thread pool.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "core/error.h"
#include "ingress/smpp_server_int.h"

/* How long a bind waits for its answer (smpp_server_auth.c: the password
 * check on the thread pool, then bind_fail_delay for a refusal). Generous:
 * argon2id takes seconds on a loaded machine or in a sanitizer build, two
 * checks run at once and up to 64 wait, and a slow answer is better than a
 * dropped connection. Past it the session answers ESME_RBINDFAIL itself. */
#define SG_SMPPS_DECIDE_TIMEOUT_MS 120000u

void sg__smpps_log(sg_smpp_server_t *s, int level, const char *fmt, ...) {
  if (s->log_cb == NULL)
    return;
  char line[512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(line, sizeof line, fmt, ap);
  va_end(ap);
  s->log_cb(s->log_data, level, line);
}

/* ---- creation ------------------------------------------------------------ */

static int accounts_init(sg_smpp_server_t *s) {
  const sg_config_t *cfg = s->cfg;
  /* Room for the accounts the API may add (smpp_server_accts.c). */
  s->accts =
      sg_calloc(cfg->n_accounts + SG_ENGINE_API_ACCOUNTS_MAX, sizeof *s->accts);
  if (s->accts == NULL)
    return SG_ENOMEM;
  for (size_t i = 0; i < cfg->n_accounts; i++) {
    const sg_config_account_t *ca = &cfg->accounts[i];
    if (ca->smpp.system_id == NULL)
      continue;
    sg__smpps_acct_t *a = &s->accts[s->n_accts++];
    a->cfg = ca;
    a->hash_status = SG_ESTATE; /* until hashed */
    size_t n = ca->smpp.n_allowed_cidrs;
    if (n == 0)
      continue;
    a->cidrs = sg_calloc(n, sizeof *a->cidrs);
    if (a->cidrs == NULL)
      return SG_ENOMEM;
    for (size_t k = 0; k < n; k++) {
      const char *t = ca->smpp.allowed_cidrs[k];
      if (sg_cidr_parse(t, strlen(t), &a->cidrs[a->n_cidrs]) == 0)
        a->n_cidrs++;
    }
  }
  return 0;
}

static void link_config(sg_smpp_server_t *s) {
  sg_smpp_link_config_t *lc = &s->link_cfg;
  sg_smpp_link_config_default(lc);
  lc->role = SG_SMPP_ROLE_SMSC;
  lc->session.window = SG_SMPP_SESSION_WINDOW_MAX; /* per bind: conn->window */
  lc->session.enquire_link_interval_ms = s->sc->enquire_link_interval_ms;
  lc->session.inbound_window = SG_SMPPS_INBOUND_DEFAULT;
  /* A connection gets 10 s to send a bind (again after a refusal); a bind
   * gets SG_SMPPS_DECIDE_TIMEOUT_MS for its answer, plus bind_fail_delay
   * by which a refusal is held back. */
  lc->session.bind_timeout_ms = 10000;
  lc->session.decide_timeout_ms =
      SG_SMPPS_DECIDE_TIMEOUT_MS + s->sc->bind_fail_delay_ms;
}

static int tls_init(sg_smpp_server_t *s, char *errbuf, size_t errcap) {
  if (s->sc->tls_listen.host == NULL)
    return 0;
  sg_smpp_link_tls_opts_t o;
  sg_smpp_link_tls_opts_default(&o);
  o.role = SG_SMPP_LINK_TLS_SERVER;
  o.cert_file = s->sc->cert;
  o.key_file = s->sc->key;
  return sg_smpp_link_tls_new(&o, &s->tls, errbuf, errcap);
}

int sg_smpp_server_new(uv_loop_t *loop, const sg_config_t *cfg,
                       sg_engine_t *engine, sg_store_t *store,
                       sg_smpp_server_log_cb log_cb, void *log_data,
                       sg_smpp_server_t **out, char *errbuf, size_t errcap) {
  char dummy[1];
  if (errbuf == NULL || errcap == 0) {
    errbuf = dummy;
    errcap = sizeof dummy;
  }
  errbuf[0] = '\0';
  if (loop == NULL || cfg == NULL || engine == NULL || store == NULL ||
      out == NULL || !cfg->smpp_server.enabled)
    return SG_EINVAL;
  sg_smpp_server_t *s = sg_calloc(1, sizeof *s);
  if (s == NULL)
    return SG_ENOMEM;
  s->loop = loop;
  s->cfg = cfg;
  s->sc = &cfg->smpp_server;
  s->engine = engine;
  s->store = store;
  s->log_cb = log_cb;
  s->log_data = log_data;
  link_config(s);
  s->fails = sg_calloc(1, sizeof *s->fails);
  s->pdu = sg_malloc(sizeof *s->pdu);
  s->concat = sg_calloc(1, sizeof *s->concat);
  if (s->concat != NULL)
    s->concat->ttl_ms = s->sc->part_wait_ms;
  int rc = s->fails && s->pdu && s->concat ? accounts_init(s) : SG_ENOMEM;
  if (rc == 0)
    rc = tls_init(s, errbuf, errcap);
  if (rc != 0) {
    sg_smpp_server_free(s);
    return rc;
  }
  *out = s;
  return 0;
}

void sg_smpp_server_free(sg_smpp_server_t *s) {
  if (s == NULL)
    return;
  for (size_t i = 0; i < s->n_accts; i++)
    sg_free(s->accts[i].cidrs);
  sg_free(s->accts);
  sg_free(s->fails);
  sg_free(s->pdu);
  sg_free(s->done);
  sg_free(s->segs);
  sg_free(s->concat);
  sg_smpp_link_tls_free(s->tls);
  sg_free(s);
}

/* ---- connections --------------------------------------------------------- */

static void conn_free(sg__smpps_conn_t *c) {
  sg_smpp_server_t *s = c->srv;
  if (c->prev != NULL)
    c->prev->next = c->next;
  else
    s->conns = c->next;
  if (c->next != NULL)
    c->next->prev = c->prev;
  s->n_conns--;
  sg_free(c);
  sg__smpps_maybe_stopped(s);
}

static void delay_closed_cb(uv_handle_t *h) {
  sg__smpps_conn_t *c = h->data;
  c->delay_init = false;
  sg__smpps_conn_unref(c); /* the timer's reference */
}

/* Stopping: a bound session is unbound once every request it sent has its
 * answer, so that nothing stored goes unanswered (the client would submit
 * it again) and nothing new is taken meanwhile (precheck refuses). */
static void unbind_when_idle(sg__smpps_conn_t *c) {
  if (c->link == NULL || c->unbinding || c->pending_in > 0)
    return;
  c->unbinding = true;
  sg_smpp_session_t *ss = sg_smpp_link_session(c->link);
  if (c->bound && sg_smpp_session_unbind(ss, sg_smpp_link_now(c->link)) == 0)
    sg_smpp_link_kick(c->link);
  else
    sg_smpp_link_close(c->link, SG_ECLOSED);
}

void sg__smpps_conn_unref(sg__smpps_conn_t *c) {
  if (c->refs > 1 && c->srv->stopping)
    unbind_when_idle(c);
  if (--c->refs == 0)
    conn_free(c);
}

static void link_closed_cb(sg_smpp_link_t *l, int reason, void *user) {
  sg__smpps_conn_t *c = user;
  sg__smpps_log(c->srv, SG_CONFIG_LOG_DEBUG, "smpp server: %s closed (%s)",
                c->peer, reason == 0 ? "unbound" : sg_strerror(reason));
  c->link = NULL;
  c->srv->st.connections_active--;
  sg_smpp_link_free(l);
  sg__smpps_conn_unref(c);
}

static void on_closed(sg__smpps_conn_t *c) {
  if (c->delay_init && !uv_is_closing((uv_handle_t *)&c->delay))
    uv_close((uv_handle_t *)&c->delay, delay_closed_cb);
  sg__smpps_bind_gone(c);
}

static void on_event(sg_smpp_link_t *l, const sg_smpp_event_t *ev, void *user) {
  sg__smpps_conn_t *c = user;
  (void)l;
  switch (ev->type) {
  case SG_SMPP_EV_BIND_REQUEST:
    sg__smpps_on_bind(c, ev);
    break;
  case SG_SMPP_EV_REQUEST:
    sg__smpps_on_request(c, ev);
    break;
  case SG_SMPP_EV_RESPONSE:
  case SG_SMPP_EV_NO_RESPONSE:
    sg__smpps_on_response(c, ev);
    break;
  case SG_SMPP_EV_CLOSED:
    on_closed(c);
    break;
  default:
    break;
  }
}

/* "a.b.c.d:port" or "[v6]:port", as the link reports the peer. */
static bool peer_sockaddr(const char *peer, struct sockaddr_storage *out) {
  char host[64];
  const char *colon = strrchr(peer, ':');
  if (colon == NULL)
    return false;
  size_t n = (size_t)(colon - peer);
  const char *h = peer;
  if (n >= 2 && peer[0] == '[' && peer[n - 1] == ']') {
    h = peer + 1;
    n -= 2;
  }
  if (n == 0 || n >= sizeof host)
    return false;
  memcpy(host, h, n);
  host[n] = '\0';
  memset(out, 0, sizeof *out);
  return uv_ip4_addr(host, 0, (struct sockaddr_in *)out) == 0 ||
         uv_ip6_addr(host, 0, (struct sockaddr_in6 *)out) == 0;
}

static void on_connection(uv_stream_t *server, int status) {
  sg_smpp_server_t *s = server->data;
  if (status < 0 || s->stopping)
    return;
  sg__smpps_conn_t *c = sg_calloc(1, sizeof *c);
  if (c == NULL)
    return;
  c->srv = s;
  c->refs = 1;
  sg_smpp_link_callbacks_t cbs = {.event_cb = on_event,
                                  .closed_cb = link_closed_cb};
  sg_smpp_link_config_t lc = s->link_cfg;
  lc.tls = server == (uv_stream_t *)&s->tls_tcp ? s->tls : NULL;
  if (sg_smpp_link_accept(server, &lc, &cbs, c, &c->link) != 0) {
    sg_free(c);
    return;
  }
  c->next = s->conns;
  if (s->conns != NULL)
    s->conns->prev = c;
  s->conns = c;
  s->n_conns++;
  s->st.connections++;
  s->st.connections_active++;
  sg_smpp_link_peer(c->link, c->peer, sizeof c->peer);
  c->peer_known =
      peer_sockaddr(c->peer, &c->peer_sa) &&
      sg__smpps_addr_key((struct sockaddr *)&c->peer_sa, c->peer_key);
  if (s->n_conns > s->sc->max_sessions) {
    s->st.connections_refused++;
    sg__smpps_log(s, SG_CONFIG_LOG_WARN,
                  "smpp server: %s refused: %u connections already", c->peer,
                  s->sc->max_sessions);
    sg_smpp_link_abort(c->link, SG_EBUSY);
  }
}

/* ---- start --------------------------------------------------------------- */

static void handle_closed_cb(uv_handle_t *h) {
  sg_smpp_server_t *s = h->data;
  s->handles_open--;
  sg__smpps_maybe_stopped(s);
}

static int listen_on(sg_smpp_server_t *s, uv_tcp_t *t,
                     const sg_config_listen_t *at, uint16_t *bound, char *err,
                     size_t errcap) {
  uv_tcp_init(s->loop, t);
  t->data = s;
  s->handles_open++;
  struct sockaddr_storage ss;
  const char *host =
      strcmp(at->host, "localhost") == 0 ? "127.0.0.1" : at->host;
  if (uv_ip4_addr(host, at->port, (struct sockaddr_in *)&ss) != 0 &&
      uv_ip6_addr(host, at->port, (struct sockaddr_in6 *)&ss) != 0) {
    snprintf(err, errcap, "bad listening address '%s'", at->host);
    return SG_EINVAL;
  }
  int r = uv_tcp_bind(t, (const struct sockaddr *)&ss, 0);
  if (r == 0)
    r = uv_listen((uv_stream_t *)t, 511, on_connection);
  if (r != 0) {
    snprintf(err, errcap, "cannot listen on %s:%u: %s", at->host,
             (unsigned)at->port, uv_strerror(r));
    return SG_EIO;
  }
  int len = (int)sizeof ss;
  uv_tcp_getsockname(t, (struct sockaddr *)&ss, &len);
  *bound =
      ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
                                     : ((struct sockaddr_in *)&ss)->sin_port);
  return 0;
}

/* The first tick tells the caller that the server started (never from
 * inside sg_smpp_server_start); a server that could not listen stops
 * ticking there. */
static void tick_cb(uv_timer_t *t) {
  sg_smpp_server_t *s = t->data;
  if (!s->start_told) {
    s->start_told = true;
    if (s->start_rc != 0)
      uv_timer_stop(t);
    if (s->started_cb != NULL)
      s->started_cb(s, s->start_rc, s->start_err, s->started_data);
    if (s->start_rc != 0)
      return;
  }
  sg__smpps_flush_done(s);
  sg__smpps_pump(s);
}

/* Called when the passwords are hashed (smpp_server_auth.c): from now on
 * binds are checked against the hashes. */
void sg__smpps_hashed(sg_smpp_server_t *s, size_t n);
void sg__smpps_accounts_follow(sg_smpp_server_t *s);
void sg__smpps_hashed(sg_smpp_server_t *s, size_t n) {
  for (size_t i = 0; i < s->n_accts; i++) {
    sg__smpps_acct_t *a = &s->accts[i];
    if (a->hash_status != 0 && a->hash_status != SG_ENOENT)
      sg__smpps_log(s, SG_CONFIG_LOG_ERROR,
                    "smpp server: account %s cannot bind: %s", a->cfg->name,
                    sg_strerror(a->hash_status));
  }
  sg__smpps_log(s, SG_CONFIG_LOG_INFO,
                "smpp server: %zu configured password(s) hashed; binds are "
                "checked against the hashes",
                n);
}

/* Listens at once: the accounts' hashes are made meanwhile on the thread
 * pool, and a bind that comes before its account's hash is checked
 * against the configured password (smpp_server_auth.c). */
static void start_listening(sg_smpp_server_t *s) {
  int rc = 0;
  for (size_t i = 0; i < s->n_accts; i++) {
    sg__smpps_acct_t *a = &s->accts[i];
    a->eng = sg_engine_account_by_name(s->engine, a->cfg->name);
    if (a->eng == NULL)
      sg__smpps_log(s, SG_CONFIG_LOG_ERROR,
                    "smpp server: account %s cannot bind: not known to the "
                    "engine",
                    a->cfg->name);
  }
  sg__smpps_accounts_follow(s);
  if (s->sc->listen.host != NULL) {
    s->tcp_on = true;
    rc = listen_on(s, &s->tcp, &s->sc->listen, &s->port, s->start_err,
                   sizeof s->start_err);
  }
  if (rc == 0 && s->sc->tls_listen.host != NULL) {
    s->tls_on = true;
    rc = listen_on(s, &s->tls_tcp, &s->sc->tls_listen, &s->tls_port,
                   s->start_err, sizeof s->start_err);
  }
  s->start_rc = rc;
  uv_timer_init(s->loop, &s->tick);
  s->tick.data = s;
  s->handles_open++;
  uv_timer_start(&s->tick, tick_cb, 0, SG_SMPPS_TICK_MS);
}

int sg_smpp_server_start(sg_smpp_server_t *s, sg_smpp_server_started_cb cb,
                         void *data) {
  if (s == NULL || s->started)
    return SG_ESTATE;
  s->started = true;
  s->started_cb = cb;
  s->started_data = data;
  sg_store_smpp_out_handoff(s->store, sg__smpps_handoff_cb, s);
  start_listening(s);
  if (sg__smpps_hash_accounts(s) != 0)
    for (size_t i = 0; i < s->n_accts; i++)
      if (s->accts[i].hash_status == SG_ESTATE)
        s->accts[i].hash_status = SG_EIO; /* hashes never come: refused */
  return 0;
}

uint16_t sg_smpp_server_port(const sg_smpp_server_t *s, bool tls) {
  return tls ? s->tls_port : s->port;
}

void sg_smpp_server_stats(const sg_smpp_server_t *s,
                          sg_smpp_server_stats_t *out) {
  *out = s->st;
}

/* ---- stop ---------------------------------------------------------------- */

void sg__smpps_maybe_stopped(sg_smpp_server_t *s) {
  if (!s->stopping || s->stopped_cb == NULL || s->conns != NULL ||
      s->handles_open > 0 || s->work_out > 0 || s->store_out > 0)
    return;
  if (s->n_done > 0) {
    sg__smpps_flush_done(s);
    if (s->store_out > 0)
      return;
  }
  sg_smpp_server_stopped_cb cb = s->stopped_cb;
  s->stopped_cb = NULL;
  cb(s, s->stopped_data);
}

static void close_handle(sg_smpp_server_t *s, uv_handle_t *h, bool on) {
  if (on && !uv_is_closing(h))
    uv_close(h, handle_closed_cb);
  (void)s;
}

void sg_smpp_server_stop(sg_smpp_server_t *s, sg_smpp_server_stopped_cb cb,
                         void *data) {
  if (s->stopping)
    return;
  s->stopping = true;
  sg_engine_on_account_changed(s->engine, NULL, NULL);
  sg_store_smpp_out_handoff(s->store, NULL, NULL);
  s->stopped_cb = cb;
  s->stopped_data = data;
  close_handle(s, (uv_handle_t *)&s->tcp, s->tcp_on);
  close_handle(s, (uv_handle_t *)&s->tls_tcp, s->tls_on);
  close_handle(s, (uv_handle_t *)&s->tick, s->tick.data == s);
  if (s->started && !s->start_told) {
    s->start_told = true; /* stopped before its first tick */
    if (s->started_cb != NULL)
      s->started_cb(s, SG_ECLOSED, "", s->started_data);
  }
  for (sg__smpps_conn_t *c = s->conns; c != NULL; c = c->next)
    unbind_when_idle(c); /* or when its last answer leaves */
  sg__smpps_maybe_stopped(s);
}
