/* smsc.c - the SMSC simulator's life cycle: configuration, listening
 * sockets, one SMPP link (connector/smpp_link.h, SMSC role) per accepted
 * connection, binds and their credentials, and an orderly stop.
 *
 * It decides nothing about messages (smsc_submit.c answers them,
 * smsc_deliver.c sends receipts and MO) and must never block the loop or
 * allocate per message: connections and accounts are the only things it
 * allocates after start.
 */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/alloc.h"
#include "sim/smsc_int.h"

#define STOP_GRACE_MS 1000u
#define HK_INTERVAL_MS 1000u

/* ---- Rings --------------------------------------------------------------- */

void sg__sim_ring_init(sg__sim_ring_t *r, size_t esize) {
  memset(r, 0, sizeof *r);
  r->esize = esize;
}

void sg__sim_ring_free(sg__sim_ring_t *r) {
  sg_free(r->buf);
  r->buf = NULL;
  r->cap = r->head = r->count = 0;
}

/* Doubles the array, unwrapping the entries to its start. */
static int ring_grow(sg__sim_ring_t *r) {
  size_t cap = r->cap != 0 ? r->cap * 2 : 64;
  uint8_t *buf = sg_malloc(cap * r->esize);
  if (buf == NULL)
    return SG_ENOMEM;
  size_t first = r->cap - r->head < r->count ? r->cap - r->head : r->count;
  if (r->count > 0) {
    memcpy(buf, r->buf + r->head * r->esize, first * r->esize);
    memcpy(buf + first * r->esize, r->buf, (r->count - first) * r->esize);
  }
  sg_free(r->buf);
  r->buf = buf;
  r->cap = cap;
  r->head = 0;
  return 0;
}

void *sg__sim_ring_push(sg__sim_ring_t *r) {
  if (r->count == r->cap && ring_grow(r) != 0)
    return NULL;
  size_t i = (r->head + r->count) & (r->cap - 1);
  r->count++;
  return r->buf + i * r->esize;
}

void *sg__sim_ring_front(const sg__sim_ring_t *r) {
  return r->count > 0 ? r->buf + r->head * r->esize : NULL;
}

void sg__sim_ring_pop(sg__sim_ring_t *r) {
  if (r->count == 0)
    return;
  r->head = (r->head + 1) & (r->cap - 1);
  r->count--;
}

/* ---- Small helpers ------------------------------------------------------- */

void sg__sim_log(const sg_sim_smsc_t *sim, const char *fmt, ...) {
  if (sim->cfg.log_cb == NULL)
    return;
  char line[512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(line, sizeof line, fmt, ap);
  va_end(ap);
  sim->cfg.log_cb(sim->cfg.log_user, line);
}

/* xorshift64*: fast, seedable, good enough for fault injection. */
double sg__sim_rand(sg_sim_smsc_t *sim) {
  uint64_t x = sim->rng;
  x ^= x >> 12;
  x ^= x << 25;
  x ^= x >> 27;
  sim->rng = x;
  return (double)((x * 0x2545F4914F6CDD1DULL) >> 11) * 0x1.0p-53;
}

void sg__sim_count_status(sg_sim_smsc_t *sim, uint32_t status) {
  sg_sim_smsc_stats_t *st = &sim->st;
  if (status == SG_SMPP_ESME_ROK)
    st->resp_ok++;
  else if (status == SG_SMPP_ESME_RTHROTTLED)
    st->resp_throttled++;
  else
    st->resp_error++;
  for (unsigned i = 0; i < st->n_status; i++) {
    if (st->status[i].status == status) {
      st->status[i].count++;
      return;
    }
  }
  if (st->n_status < SG_SIM_STATUS_SLOTS) {
    st->status[st->n_status].status = status;
    st->status[st->n_status].count = 1;
    st->n_status++;
  }
}

sg__sim_conn_t *sg__sim_conn_get(const sg_sim_smsc_t *sim, uint32_t slot,
                                 uint32_t gen) {
  if (slot >= sim->n_slots || sim->gens[slot] != gen)
    return NULL;
  return sim->conns[slot];
}

bool sg__sim_conn_receives(const sg__sim_conn_t *c) {
  return c->bound && !c->hung &&
         (c->bind == SG_SMPP_BIND_RX || c->bind == SG_SMPP_BIND_TRX);
}

/* ---- Configuration ------------------------------------------------------- */

void sg_sim_smsc_config_default(sg_sim_smsc_config_t *cfg) {
  memset(cfg, 0, sizeof *cfg);
  cfg->host = "127.0.0.1";
  cfg->port = 2775;
  cfg->smsc_system_id = "smsgate-sim";
  cfg->window = 100;
  cfg->id_format = SG_SIM_ID_HEX;
  cfg->receipt_id_format = SG_SIM_ID_SAME;
  cfg->first_sequence = 1;
  cfg->dlr_delay_ms = 100;
  cfg->mo_from = "+79001234567";
  cfg->mo_to = "100";
  cfg->mo_text = "MO test";
  cfg->tls_port = 3550;
  cfg->seed = 1;
  sg_smpp_session_config_t s;
  sg_smpp_session_config_default(&s);
  cfg->enquire_link_interval_ms = s.enquire_link_interval_ms;
  cfg->bind_timeout_ms = s.bind_timeout_ms;
  cfg->response_timeout_ms = s.response_timeout_ms;
  cfg->max_pending_receipts = 1000000;
  cfg->receipt_retries = 10;
  cfg->receipt_retry_ms = 1000;
}

static bool prob_ok(double p) {
  return p >= 0.0 && p <= 1.0;
}

static int check_config(const sg_sim_smsc_config_t *c) {
  if (!prob_ok(c->nack) || !prob_ok(c->late) || c->first_sequence == 0 ||
      c->first_sequence > 0x7FFFFFFFu || c->receipt_id_format > SG_SIM_ID_SAME)
    return SG_EINVAL;
  if (!prob_ok(c->throttle) || !prob_ok(c->drop_prob) || !(c->mo_rate >= 0) ||
      c->window == 0 || c->window > SG_SMPP_SESSION_WINDOW_MAX ||
      (c->tls_cert == NULL) != (c->tls_key == NULL) || c->host == NULL ||
      c->id_format > SG_SIM_ID_HEX_UPPER)
    return SG_EINVAL;
  uint32_t sum = 0;
  for (unsigned i = 0; i < c->dlr_mix.n && i < SG_SIM_MIX_MAX; i++)
    sum += c->dlr_mix.e[i].weight;
  if (c->dlr_mix.n > SG_SIM_MIX_MAX || (c->dlr_mix.n > 0 && sum == 0))
    return SG_EINVAL;
  if ((c->system_id != NULL && strlen(c->system_id) > 15) ||
      (c->password != NULL && strlen(c->password) > 8))
    return SG_EINVAL;
  return 0;
}

/* Copies every string of the configuration into one block. */
static int copy_strings(sg_sim_smsc_t *sim) {
  const char **f[] = {&sim->cfg.host,     &sim->cfg.system_id,
                      &sim->cfg.password, &sim->cfg.smsc_system_id,
                      &sim->cfg.mo_from,  &sim->cfg.mo_to,
                      &sim->cfg.mo_text,  &sim->cfg.record_path,
                      &sim->cfg.tls_cert, &sim->cfg.tls_key};
  size_t n = sizeof f / sizeof f[0], total = 0;
  for (size_t i = 0; i < n; i++)
    total += *f[i] != NULL ? strlen(*f[i]) + 1 : 0;
  sim->strings = sg_malloc(total + 1);
  if (sim->strings == NULL)
    return SG_ENOMEM;
  char *p = sim->strings;
  for (size_t i = 0; i < n; i++) {
    if (*f[i] == NULL)
      continue;
    size_t len = strlen(*f[i]) + 1;
    memcpy(p, *f[i], len);
    *f[i] = p;
    p += len;
  }
  return 0;
}

static void setup_link_config(sg_sim_smsc_t *sim) {
  sg_smpp_link_config_t *lc = &sim->link_cfg;
  sg_smpp_link_config_default(lc);
  lc->role = SG_SMPP_ROLE_SMSC;
  lc->session.window = sim->cfg.window;
  lc->session.enquire_link_interval_ms = sim->cfg.enquire_link_interval_ms;
  lc->session.bind_timeout_ms = sim->cfg.bind_timeout_ms;
  lc->session.response_timeout_ms = sim->cfg.response_timeout_ms;
  lc->session.first_sequence = sim->cfg.first_sequence;
}

static int setup_tls(sg_sim_smsc_t *sim, char *errbuf, size_t errcap) {
  if (sim->cfg.tls_cert == NULL)
    return 0;
  sg_smpp_link_tls_opts_t o;
  sg_smpp_link_tls_opts_default(&o);
  o.role = SG_SMPP_LINK_TLS_SERVER;
  o.cert_file = sim->cfg.tls_cert;
  o.key_file = sim->cfg.tls_key;
  return sg_smpp_link_tls_new(&o, &sim->tls, errbuf, errcap);
}

int sg_sim_smsc_new(uv_loop_t *loop, const sg_sim_smsc_config_t *cfg,
                    sg_sim_smsc_t **out) {
  if (loop == NULL || cfg == NULL || out == NULL)
    return SG_EINVAL;
  int rc = check_config(cfg);
  if (rc != 0)
    return rc;
  sg_sim_smsc_t *sim = sg_calloc(1, sizeof *sim);
  if (sim == NULL)
    return SG_ENOMEM;
  sim->loop = loop;
  sim->cfg = *cfg;
  if (sim->cfg.dlr_mix.n == 0) {
    sim->cfg.dlr_mix.n = 1;
    sim->cfg.dlr_mix.e[0].stat = SG_RECEIPT_DELIVRD;
    sim->cfg.dlr_mix.e[0].weight = 1;
    sim->cfg.dlr_mix.e[0].err = 0;
  }
  for (unsigned i = 0; i < sim->cfg.dlr_mix.n; i++)
    sim->mix_total += sim->cfg.dlr_mix.e[i].weight;
  sim->rng = cfg->seed != 0 ? cfg->seed : 1;
  sim->next_id =
      cfg->id_start != 0 ? cfg->id_start : (uint64_t)time(NULL) * 1000000u;
  sg__sim_ring_init(&sim->receipts, sizeof(sg__sim_receipt_t));
  sg__sim_ring_init(&sim->resps, sizeof(sg__sim_resp_t));
  sg__sim_ring_init(&sim->lates, sizeof(sg__sim_resp_t));
  sg__sim_ring_init(&sim->mos, sizeof(sg__sim_mo_t));
  setup_link_config(sim);
  rc = copy_strings(sim);
  if (rc == 0) {
    sim->pdu = sg_malloc(sizeof *sim->pdu);
    rc = sim->pdu != NULL ? 0 : SG_ENOMEM;
  }
  if (rc != 0) {
    sg_sim_smsc_free(sim);
    return rc;
  }
  *out = sim;
  return 0;
}

/* ---- Connections --------------------------------------------------------- */

static int slot_alloc(sg_sim_smsc_t *sim, sg__sim_conn_t *c) {
  for (uint32_t i = 0; i < sim->n_slots; i++) {
    if (sim->conns[i] == NULL) {
      sim->conns[i] = c;
      c->slot = i;
      c->gen = ++sim->gens[i];
      return 0;
    }
  }
  size_t n = sim->n_slots, m = n; /* two arrays of one capacity */
  sg__sim_conn_t **conns = sg_grow(sim->conns, &n, n + 1, 16, sizeof *conns);
  if (conns == NULL)
    return SG_ENOMEM;
  sim->conns = conns;
  uint32_t *gens = sg_grow(sim->gens, &m, m + 1, 16, sizeof *gens);
  if (gens == NULL)
    return SG_ENOMEM;
  sim->gens = gens;
  for (uint32_t i = sim->n_slots; i < n; i++) {
    conns[i] = NULL;
    gens[i] = 0;
  }
  sim->n_slots = (uint32_t)n;
  return slot_alloc(sim, c);
}

static void maybe_stopped(sg_sim_smsc_t *sim);
static void close_handle(sg_sim_smsc_t *sim, uv_handle_t *h);

static void link_closed_cb(sg_smpp_link_t *l, int reason, void *user) {
  sg__sim_conn_t *c = user;
  sg_sim_smsc_t *sim = c->sim;
  sg__sim_log(sim, "%s: closed (%s)", c->peer,
              reason == 0 ? "unbound" : sg_strerror(reason));
  sim->conns[c->slot] = NULL;
  sim->st.connections_active--;
  sg_smpp_link_free(l);
  sg_free(c);
  maybe_stopped(sim);
  /* Receipts that waited for this connection's window (it was closing,
   * and no response will come from it now) go to another receiver. */
  if (!sim->stopping)
    sg__sim_pump(sim);
}

void sg__sim_drop(sg__sim_conn_t *c, const char *why) {
  c->sim->st.drops++;
  if (c->sim->cfg.drop_reset) {
    /* A reset: what was not yet written is lost with the connection. */
    c->sim->st.resets++;
    sg__sim_log(c->sim, "%s: reset (%s)", c->peer, why);
    sg_smpp_link_reset(c->link, SG_ECLOSED);
    return;
  }
  sg__sim_log(c->sim, "%s: dropped (%s)", c->peer, why);
  /* No unbind and nothing more is read; answers already made still go
   * out, so "drop at the Nth request" leaves exactly N-1 answered. */
  sg_smpp_link_close(c->link, SG_ECLOSED);
}

void sg__sim_hang(sg__sim_conn_t *c) {
  c->sim->st.hangs++;
  c->hung = true;
  sg__sim_log(c->sim, "%s: stops answering", c->peer);
  sg_smpp_link_freeze(c->link);
}

unsigned sg_sim_smsc_drop(sg_sim_smsc_t *sim) {
  unsigned n = 0;
  for (uint32_t i = 0; i < sim->n_slots; i++) {
    sg__sim_conn_t *c = sim->conns[i];
    if (c != NULL && sg_smpp_link_is_up(c->link)) {
      sg__sim_drop(c, "on command");
      n++;
    }
  }
  return n;
}

/* ---- Binds --------------------------------------------------------------- */

static uint16_t acct_find(sg_sim_smsc_t *sim, const char *system_id) {
  for (uint16_t i = 0; i < sim->n_accts; i++)
    if (strcmp(sim->accts[i].system_id, system_id) == 0)
      return i;
  return SG__SIM_NO_ACCT;
}

static uint16_t acct_intern(sg_sim_smsc_t *sim, const char *system_id) {
  uint16_t a = acct_find(sim, system_id);
  if (a != SG__SIM_NO_ACCT || sim->n_accts >= SG__SIM_ACCT_MAX)
    return a;
  if (sim->accts == NULL) {
    sim->accts = sg_calloc(SG__SIM_ACCT_MAX, sizeof *sim->accts);
    if (sim->accts == NULL)
      return SG__SIM_NO_ACCT;
  }
  sg__sim_acct_t *ac = &sim->accts[sim->n_accts];
  snprintf(ac->system_id, sizeof ac->system_id, "%s", system_id);
  ac->rx_slot = SG__SIM_NO_SLOT;
  return sim->n_accts++;
}

/* Checks the credentials and the bind limit (section 4.1: a wrong
 * system_id is ESME_RINVSYSID, a wrong password ESME_RINVPASWD). */
static uint32_t bind_status(sg_sim_smsc_t *sim, const sg_smpp_pdu_t *pdu) {
  const sg_smpp_body_bind_t *b = &pdu->body.bind_transmitter;
  if (sim->stopping)
    return SG_SMPP_ESME_RBINDFAIL;
  if (sim->cfg.system_id != NULL && strcmp(b->system_id, sim->cfg.system_id))
    return SG_SMPP_ESME_RINVSYSID;
  if (sim->cfg.password != NULL && strcmp(b->password, sim->cfg.password))
    return SG_SMPP_ESME_RINVPASWD;
  if (sim->cfg.max_binds != 0 && sim->st.binds_active >= sim->cfg.max_binds)
    return SG_SMPP_ESME_RBINDFAIL;
  return SG_SMPP_ESME_ROK;
}

static void on_bind_request(sg__sim_conn_t *c, const sg_smpp_event_t *ev) {
  sg_sim_smsc_t *sim = c->sim;
  sg_smpp_session_t *s = sg_smpp_link_session(c->link);
  uint64_t now = sg_smpp_link_now(c->link);
  uint32_t st = bind_status(sim, ev->pdu);
  uint16_t acct = SG__SIM_NO_ACCT;
  if (st == SG_SMPP_ESME_ROK) {
    acct = acct_intern(sim, ev->pdu->body.bind_transmitter.system_id);
    if (acct == SG__SIM_NO_ACCT)
      st = SG_SMPP_ESME_RBINDFAIL;
  }
  if (st != SG_SMPP_ESME_ROK) {
    sim->st.bind_failures++;
    sg__sim_log(sim, "%s: %s as '%s' refused: %s", c->peer,
                sg_smpp_bind_type_name(ev->bind_type),
                ev->pdu->body.bind_transmitter.system_id,
                sg_smpp_status_name(st));
    sg_smpp_session_reject_bind(s, st, now);
    return;
  }
  c->acct = acct;
  sg_smpp_session_accept_bind(s, sim->cfg.smsc_system_id, now);
}

static void on_bound(sg__sim_conn_t *c, const sg_smpp_event_t *ev) {
  sg_sim_smsc_t *sim = c->sim;
  c->bound = true;
  c->bind = ev->bind_type;
  sim->st.binds++;
  sim->st.binds_active++;
  sg__sim_log(sim, "%s: bound %s as '%s'", c->peer,
              sg_smpp_bind_type_name(c->bind), sim->accts[c->acct].system_id);
  if (sg__sim_conn_receives(c))
    sg__sim_pump(sim); /* receipts may have waited for a receiver */
}

static void on_event(sg_smpp_link_t *l, const sg_smpp_event_t *ev, void *user) {
  sg__sim_conn_t *c = user;
  (void)l;
  switch (ev->type) {
  case SG_SMPP_EV_REQUEST:
    sg__sim_on_request(c, ev);
    break;
  case SG_SMPP_EV_RESPONSE:
  case SG_SMPP_EV_NO_RESPONSE:
    sg__sim_on_response(c, ev);
    break;
  case SG_SMPP_EV_BIND_REQUEST:
    on_bind_request(c, ev);
    break;
  case SG_SMPP_EV_BOUND:
    on_bound(c, ev);
    break;
  case SG_SMPP_EV_UNBOUND:
    c->sim->st.unbinds++;
    break;
  case SG_SMPP_EV_PROTOCOL_ERROR:
    c->sim->st.protocol_errors++;
    break;
  case SG_SMPP_EV_CLOSED:
    if (c->bound)
      c->sim->st.binds_active--;
    c->bound = false;
    /* What waited for this bind's window goes elsewhere, or waits. */
    sg__sim_pump(c->sim);
    break;
  default:
    break;
  }
}

static void on_connection(uv_stream_t *server, int status) {
  sg_sim_smsc_t *sim = server->data;
  if (status < 0 || sim->stopping)
    return;
  sg__sim_conn_t *c = sg_calloc(1, sizeof *c);
  if (c == NULL || slot_alloc(sim, c) != 0) {
    sg_free(c);
    return;
  }
  c->sim = sim;
  c->acct = SG__SIM_NO_ACCT;
  sg_smpp_link_callbacks_t cbs = {.event_cb = on_event,
                                  .closed_cb = link_closed_cb};
  sg_smpp_link_config_t lc = sim->link_cfg;
  lc.tls = server == (uv_stream_t *)&sim->tls_listener ? sim->tls : NULL;
  if (sg_smpp_link_accept(server, &lc, &cbs, c, &c->link) != 0) {
    sim->conns[c->slot] = NULL;
    sg_free(c);
    return;
  }
  sg_smpp_link_peer(c->link, c->peer, sizeof c->peer);
  sim->st.connections++;
  sim->st.connections_active++;
}

/* ---- Start --------------------------------------------------------------- */

static void handle_closed_cb(uv_handle_t *h) {
  sg_sim_smsc_t *sim = h->data;
  sim->handles_open--;
  maybe_stopped(sim);
}

static int listen_on(sg_sim_smsc_t *sim, uv_tcp_t *t, uint16_t port,
                     uint16_t *bound, char *errbuf, size_t errcap) {
  uv_tcp_init(sim->loop, t);
  t->data = sim;
  sim->handles_open++;
  struct sockaddr_storage ss;
  if (uv_ip4_addr(sim->cfg.host, port, (struct sockaddr_in *)&ss) != 0 &&
      uv_ip6_addr(sim->cfg.host, port, (struct sockaddr_in6 *)&ss) != 0) {
    snprintf(errbuf, errcap, "bad listening address '%s'", sim->cfg.host);
    return SG_EINVAL;
  }
  int r = uv_tcp_bind(t, (const struct sockaddr *)&ss, 0);
  if (r == 0)
    r = uv_listen((uv_stream_t *)t, 511, on_connection);
  if (r != 0) {
    snprintf(errbuf, errcap, "cannot listen on %s:%u: %s", sim->cfg.host,
             (unsigned)port, uv_strerror(r));
    return SG_EIO;
  }
  int len = (int)sizeof ss;
  uv_tcp_getsockname(t, (struct sockaddr *)&ss, &len);
  *bound =
      ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
                                     : ((struct sockaddr_in *)&ss)->sin_port);
  return 0;
}

static void hk_timer_cb(uv_timer_t *t) {
  sg_sim_smsc_flush_record(t->data);
}

static void init_timer(sg_sim_smsc_t *sim, uv_timer_t *t) {
  uv_timer_init(sim->loop, t);
  t->data = sim;
  sim->handles_open++;
}

int sg_sim_smsc_start(sg_sim_smsc_t *sim, char *errbuf, size_t errcap) {
  char dummy[1];
  if (errbuf == NULL || errcap == 0) {
    errbuf = dummy;
    errcap = sizeof dummy;
  }
  errbuf[0] = '\0';
  if (sim->started || sim->stopping)
    return SG_ESTATE;
  sim->started = true;
  sim->started_at = uv_now(sim->loop);
  init_timer(sim, &sim->dlr_timer);
  init_timer(sim, &sim->resp_timer);
  init_timer(sim, &sim->late_timer);
  init_timer(sim, &sim->mo_timer);
  init_timer(sim, &sim->hk_timer);
  init_timer(sim, &sim->stop_timer);
  int rc = setup_tls(sim, errbuf, errcap);
  if (rc == 0)
    rc = sg__sim_record_open(sim, errbuf, errcap);
  if (rc == 0) {
    sim->listening = true; /* the handle exists from here on */
    rc = listen_on(sim, &sim->listener, sim->cfg.port, &sim->port, errbuf,
                   errcap);
  }
  if (rc == 0 && sim->tls != NULL) {
    sim->tls_listening = true;
    rc = listen_on(sim, &sim->tls_listener, sim->cfg.tls_port, &sim->tls_port,
                   errbuf, errcap);
  }
  if (rc != 0) {
    /* Stop listening now; sg_sim_smsc_stop() closes the rest. */
    if (sim->listening)
      close_handle(sim, (uv_handle_t *)&sim->listener);
    if (sim->tls_listening)
      close_handle(sim, (uv_handle_t *)&sim->tls_listener);
    return rc;
  }
  uv_timer_start(&sim->hk_timer, hk_timer_cb, HK_INTERVAL_MS, HK_INTERVAL_MS);
  uv_unref((uv_handle_t *)&sim->hk_timer);
  sg_sim_smsc_set_mo_rate(sim, sim->cfg.mo_rate);
  return 0;
}

uint16_t sg_sim_smsc_port(const sg_sim_smsc_t *sim) {
  return sim->port;
}
uint16_t sg_sim_smsc_tls_port(const sg_sim_smsc_t *sim) {
  return sim->tls_port;
}

/* ---- Stop ---------------------------------------------------------------- */

static void close_handle(sg_sim_smsc_t *sim, uv_handle_t *h) {
  (void)sim;
  if (!uv_is_closing(h))
    uv_close(h, handle_closed_cb);
}

/* Once every connection is gone, close the timers; once they are closed,
 * the stop is complete. */
static void maybe_stopped(sg_sim_smsc_t *sim) {
  if (!sim->stopping || sim->stopped || sim->st.connections_active > 0)
    return;
  if (sim->started && !uv_is_closing((uv_handle_t *)&sim->dlr_timer)) {
    close_handle(sim, (uv_handle_t *)&sim->dlr_timer);
    close_handle(sim, (uv_handle_t *)&sim->resp_timer);
    close_handle(sim, (uv_handle_t *)&sim->late_timer);
    close_handle(sim, (uv_handle_t *)&sim->mo_timer);
    close_handle(sim, (uv_handle_t *)&sim->hk_timer);
    close_handle(sim, (uv_handle_t *)&sim->stop_timer);
  }
  if (sim->handles_open > 0)
    return;
  sim->stopped = true;
  sg_sim_smsc_flush_record(sim);
  if (sim->stopped_cb != NULL)
    sim->stopped_cb(sim, sim->stopped_user);
}

static void stop_timer_cb(uv_timer_t *t) {
  sg_sim_smsc_t *sim = t->data;
  for (uint32_t i = 0; i < sim->n_slots; i++)
    if (sim->conns[i] != NULL)
      sg_smpp_link_abort(sim->conns[i]->link, SG_ECLOSED);
}

/* Unbinds the bound, closes the others. */
static void end_connections(sg_sim_smsc_t *sim) {
  for (uint32_t i = 0; i < sim->n_slots; i++) {
    sg__sim_conn_t *c = sim->conns[i];
    if (c == NULL)
      continue;
    sg_smpp_session_t *s = sg_smpp_link_session(c->link);
    if (c->hung)
      sg_smpp_link_abort(c->link, SG_ECLOSED);
    else if (c->bound &&
             sg_smpp_session_unbind(s, sg_smpp_link_now(c->link)) == 0)
      sg_smpp_link_kick(c->link);
    else
      sg_smpp_link_close(c->link, SG_ECLOSED);
  }
}

void sg_sim_smsc_stop(sg_sim_smsc_t *sim,
                      void (*stopped_cb)(sg_sim_smsc_t *sim, void *user),
                      void *user) {
  if (sim->stopping)
    return;
  sim->stopping = true;
  sim->stopped_cb = stopped_cb;
  sim->stopped_user = user;
  if (!sim->started) {
    /* Nothing runs: one closed timer brings the callback. */
    init_timer(sim, &sim->stop_timer);
    close_handle(sim, (uv_handle_t *)&sim->stop_timer);
    return;
  }
  if (sim->listening)
    close_handle(sim, (uv_handle_t *)&sim->listener);
  if (sim->tls_listening)
    close_handle(sim, (uv_handle_t *)&sim->tls_listener);
  uv_timer_stop(&sim->mo_timer);
  end_connections(sim);
  if (sim->st.connections_active > 0) {
    uv_timer_start(&sim->stop_timer, stop_timer_cb, STOP_GRACE_MS, 0);
    return;
  }
  maybe_stopped(sim);
}

void sg_sim_smsc_free(sg_sim_smsc_t *sim) {
  if (sim == NULL)
    return;
  if (sim->record != NULL)
    fclose(sim->record);
  sg__sim_ring_free(&sim->receipts);
  sg_free(sim->inflight);
  sg_free(sim->inflight_free);
  sg__sim_ring_free(&sim->resps);
  sg__sim_ring_free(&sim->lates);
  sg__sim_ring_free(&sim->mos);
  sg_smpp_link_tls_free(sim->tls);
  sg_free(sim->conns);
  sg_free(sim->gens);
  sg_free(sim->accts);
  sg_free(sim->pdu);
  sg_free(sim->segs);
  sg_free(sim->strings);
  sg_free(sim);
}

/* Values under 16 have a bucket each; above, 16 buckets a power of two. */
static unsigned hist_index(uint64_t v) {
  if (v < 16)
    return (unsigned)v;
  unsigned e = 63u - (unsigned)__builtin_clzll(v); /* 4.. */
  unsigned i = 16 + (e - 4) * 16 + (unsigned)((v >> (e - 4)) & 15);
  return i < SG__SIM_HIST_BUCKETS ? i : SG__SIM_HIST_BUCKETS - 1;
}

static uint64_t hist_upper(unsigned i) {
  if (i < 16)
    return i;
  unsigned e = (i - 16) / 16 + 4, m = (i - 16) % 16;
  return ((uint64_t)(16 + m) << (e - 4)) + ((uint64_t)1 << (e - 4)) - 1;
}

void sg__sim_hist_add(sg__sim_hist_t *h, uint64_t v) {
  h->n++;
  h->sum += v;
  if (v > h->max)
    h->max = v;
  h->b[hist_index(v)]++;
}

uint64_t sg__sim_hist_quantile(const sg__sim_hist_t *h, double q) {
  if (h->n == 0)
    return 0;
  uint64_t want = (uint64_t)(q * (double)h->n + 0.5), seen = 0;
  if (want == 0)
    want = 1;
  for (unsigned i = 0; i < SG__SIM_HIST_BUCKETS; i++) {
    seen += h->b[i];
    if (seen >= want && i < SG__SIM_HIST_BUCKETS - 1 && hist_upper(i) < h->max)
      return hist_upper(i);
    if (seen >= want)
      return h->max; /* the top bucket holds everything above */
  }
  return h->max;
}

void sg_sim_smsc_stats(const sg_sim_smsc_t *sim, sg_sim_smsc_stats_t *out) {
  *out = sim->st;
  out->receipts_pending = sim->receipts.count;
  out->mo_pending = sim->mos.count;
  const sg__sim_hist_t *r = &sim->rtt, *w = &sim->wait;
  out->receipt_rtt_n = r->n;
  out->receipt_rtt_us_mean = r->n ? r->sum / r->n : 0;
  out->receipt_rtt_us_p50 = sg__sim_hist_quantile(r, 0.50);
  out->receipt_rtt_us_p99 = sg__sim_hist_quantile(r, 0.99);
  out->receipt_rtt_us_max = r->max;
  out->receipt_wait_ms_mean = w->n ? w->sum / w->n : 0;
  out->receipt_wait_ms_p50 = sg__sim_hist_quantile(w, 0.50);
  out->receipt_wait_ms_p99 = sg__sim_hist_quantile(w, 0.99);
  out->receipt_inflight_mean = w->n ? sim->inflight_sum / w->n : 0;
  out->receipt_inflight_max = sim->inflight_max;
}
