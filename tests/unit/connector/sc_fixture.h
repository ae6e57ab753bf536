/* sc_fixture.h - the harness of the SMPP client connector tests: one libuv
 * loop, the connector under test with callbacks that record every outcome,
 * receipt and inbound message, the in-tree SMSC simulator (src/sim) on an
 * ephemeral port, and a scripted SMSC ("peer") for what the simulator does
 * not do: chosen error statuses, a receipt sent before its submit_sm_resp,
 * and misbehaving peers on raw TCP (silent, garbage, mute after bind).
 * Header-only, static functions; included by test_smpp_client.c only. */
#ifndef SG_TEST_SC_FIXTURE_H
#define SG_TEST_SC_FIXTURE_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <uv.h>

#include "connector/smpp_client.h"
#include "connector/smpp_link.h"
#include "core/alloc.h"
#include "sim/smsc.h"
#include "smpp/pdu.h"
#include "smpp/session.h"

#define FX_UNUSED __attribute__((unused))
#define FX_MAXR 4096 /* part ids 0..FX_MAXR-1 */
#define FX_MAXD 1024

/* ---- The scripted SMSC -------------------------------------------------- */

typedef enum peer_mode {
  PEER_SESSION = 0, /* an SMSC session that follows the script below */
  PEER_SILENT,      /* raw TCP: reads and never answers (not even bind) */
  PEER_GARBAGE,     /* raw TCP: writes octets that are not SMPP */
  PEER_MUTE,        /* raw TCP: answers the bind, then nothing at all */
  PEER_NACK         /* raw TCP: answers the bind, then every request with
                       generic_nack nack_status */
} peer_mode_t;

typedef struct peer_conn {
  uv_tcp_t tcp;
  struct peer *p;
  uint8_t buf[4096];
  size_t len;
  bool closing;
} peer_conn_t;

typedef struct peer {
  struct fx *f;
  peer_mode_t mode;
  uv_tcp_t server;
  bool listening;
  uint16_t port;
  sg_smpp_link_t *links[16];
  peer_conn_t *raw[16];
  unsigned n_raw;
  /* Script (PEER_SESSION). */
  char perm_dst[21]; /* submits to it get perm_status */
  uint32_t perm_status;
  char temp_dst[21]; /* submits to it get temp_status ... */
  uint32_t temp_status;
  int temp_times;       /* ... the first temp_times times; -1 always */
  bool dlr_before_resp; /* write a receipt before the submit_sm_resp */
  bool receipt_decimal; /* ... with the id in decimal (resp: hex) */
  char silent_dst[21];  /* submits to it are never answered */
  uint64_t id_base;     /* first message id (0: 0xA000) */
  uint32_t nack_status; /* PEER_NACK */
  /* What happened. */
  unsigned connections, binds, submits, temp_answered;
  unsigned receipts_acked, receipts_nacked;
  uint64_t next_id;
  char dsts[FX_MAXD][21]; /* destination of each submit, in order */
  sg_smpp_submit_sm_t last_submit;
  char last_service_type[6];
  /* Answers to the requests the test sent through peer_send(). */
  uint32_t resp_status[64];
  unsigned n_resp;
} peer_t;

/* ---- The fixture -------------------------------------------------------- */

typedef struct fx_result {
  int count;
  int order; /* position among all results, from 1 */
  sg_conn_outcome_t outcome;
  char smsc_id[66];
  uint32_t status;
  const char *text;
  unsigned attempts;
} fx_result_t;

typedef struct fx_dlr {
  char smsc_id[66];
  char smsc_id_alt[66];
  sg_conn_dlr_state_t state;
  uint32_t error;
  int64_t done_ms;
  char src[21], dst[21];
  uint64_t token;
  int results_before; /* results reported when it arrived */
} fx_dlr_t;

typedef struct fx_inbound {
  char src[21], dst[21];
  uint8_t data_coding, esm_class;
  uint8_t udh[16];
  size_t udh_len;
  uint8_t ud[254];
  size_t ud_len;
  uint64_t token;
} fx_inbound_t;

typedef struct fx {
  uv_loop_t loop;
  uv_timer_t tick;
  sg_sim_smsc_t *sim;
  bool sim_stopped;
  char record[128];
  sg_connector_t *c;
  bool stopped;
  peer_t peer;
  /* Recorded callbacks. */
  fx_result_t res[FX_MAXR];
  int n_results;
  fx_dlr_t dlr[FX_MAXD];
  int n_dlr;
  fx_inbound_t in[64];
  int n_in;
  sg_conn_state_t states[64];
  int n_states;
  int ready_calls;
  bool auto_ack;   /* ack receipts and inbound at once */
  bool ack_accept; /* with this verdict */
} fx_t;

/* ---- Connector callbacks ------------------------------------------------ */

static void fx_result_cb(sg_connector_t *c, void *owner,
                         const sg_conn_result_t *r) {
  (void)c;
  fx_t *f = owner;
  if (r->id >= FX_MAXR)
    return;
  fx_result_t *x = &f->res[r->id];
  x->count++;
  x->order = ++f->n_results;
  x->outcome = r->outcome;
  memcpy(x->smsc_id, r->smsc_id, sizeof x->smsc_id);
  x->status = r->status;
  x->text = r->status_text;
  x->attempts = r->attempts;
  if (getenv("SC_DEBUG") != NULL)
    fprintf(stderr, "result id=%llu outcome=%d status=0x%x attempts=%u %s\n",
            (unsigned long long)r->id, (int)r->outcome, r->status, r->attempts,
            r->smsc_id);
}

static void fx_dlr_cb(sg_connector_t *c, void *owner, const sg_conn_dlr_t *d,
                      uint64_t token) {
  fx_t *f = owner;
  if (f->n_dlr < FX_MAXD) {
    fx_dlr_t *x = &f->dlr[f->n_dlr++];
    memcpy(x->smsc_id, d->smsc_id, sizeof x->smsc_id);
    memcpy(x->smsc_id_alt, d->smsc_id_alt, sizeof x->smsc_id_alt);
    x->state = d->state;
    x->error = d->error;
    x->done_ms = d->done_ms;
    memcpy(x->src, d->src.addr, sizeof x->src);
    memcpy(x->dst, d->dst.addr, sizeof x->dst);
    x->token = token;
    x->results_before = f->n_results;
  }
  if (f->auto_ack)
    sg_connector_ack(c, token, f->ack_accept);
}

static void fx_inbound_cb(sg_connector_t *c, void *owner,
                          const sg_conn_inbound_t *m, uint64_t token) {
  fx_t *f = owner;
  if (f->n_in < 64) {
    fx_inbound_t *x = &f->in[f->n_in++];
    memcpy(x->src, m->src.addr, sizeof x->src);
    memcpy(x->dst, m->dst.addr, sizeof x->dst);
    x->data_coding = m->data_coding;
    x->esm_class = m->esm_class;
    x->udh_len = m->udh_len < sizeof x->udh ? m->udh_len : 0;
    if (x->udh_len)
      memcpy(x->udh, m->udh, x->udh_len);
    x->ud_len = m->ud_len < sizeof x->ud ? m->ud_len : sizeof x->ud;
    memcpy(x->ud, m->ud, x->ud_len);
    x->token = token;
  }
  if (f->auto_ack)
    sg_connector_ack(c, token, f->ack_accept);
}

static void fx_state_cb(sg_connector_t *c, void *owner, sg_conn_state_t st,
                        const char *reason) {
  (void)c;
  (void)reason;
  fx_t *f = owner;
  if (f->n_states < 64)
    f->states[f->n_states++] = st;
}

static void fx_ready_cb(sg_connector_t *c, void *owner) {
  (void)c;
  ((fx_t *)owner)->ready_calls++;
}

static const sg_conn_callbacks_t fx_cbs = {
    .result_cb = fx_result_cb,
    .dlr_cb = fx_dlr_cb,
    .inbound_cb = fx_inbound_cb,
    .state_cb = fx_state_cb,
    .ready_cb = fx_ready_cb,
};

/* ---- Running the loop --------------------------------------------------- */

static void fx_tick_cb(uv_timer_t *t) {
  (void)t;
}

typedef bool (*fx_pred_t)(fx_t *f, const void *arg);

/* Runs the loop until pred holds or timeout_ms pass; returns pred. */
static FX_UNUSED bool fx_run_until(fx_t *f, fx_pred_t pred, const void *arg,
                                   uint64_t timeout_ms) {
  uv_update_time(&f->loop);
  uint64_t end = uv_now(&f->loop) + timeout_ms;
  while (!pred(f, arg) && uv_now(&f->loop) < end)
    uv_run(&f->loop, UV_RUN_ONCE);
  return pred(f, arg);
}

static bool fx_pred_never(fx_t *f, const void *arg) {
  (void)f;
  (void)arg;
  return false;
}

static FX_UNUSED void fx_run_for(fx_t *f, uint64_t ms) {
  fx_run_until(f, fx_pred_never, NULL, ms);
}

static FX_UNUSED bool fx_pred_results(fx_t *f, const void *arg) {
  return f->n_results >= *(const int *)arg;
}

static FX_UNUSED bool fx_pred_dlrs(fx_t *f, const void *arg) {
  return f->n_dlr >= *(const int *)arg;
}

static FX_UNUSED bool fx_pred_up(fx_t *f, const void *arg) {
  (void)arg;
  sg_conn_stats_t st;
  sg_connector_stats(f->c, &st);
  return st.state == SG_CONN_UP && st.binds_up == st.binds_total;
}

static FX_UNUSED bool fx_pred_stopped(fx_t *f, const void *arg) {
  (void)arg;
  return f->stopped && (f->sim == NULL || f->sim_stopped);
}

/* ---- Setup and teardown ------------------------------------------------- */

static FX_UNUSED fx_t *fx_new(void) {
  fx_t *f = calloc(1, sizeof *f);
  if (f == NULL || uv_loop_init(&f->loop) != 0)
    abort();
  uv_timer_init(&f->loop, &f->tick);
  uv_timer_start(&f->tick, fx_tick_cb, 5, 5);
  f->auto_ack = true;
  f->ack_accept = true;
  f->peer.f = f;
  return f;
}

/* Starts the simulator on an ephemeral port with cfg (NULL: defaults). */
static FX_UNUSED void fx_sim(fx_t *f, sg_sim_smsc_config_t *cfg) {
  sg_sim_smsc_config_t d;
  if (cfg == NULL) {
    sg_sim_smsc_config_default(&d);
    cfg = &d;
  }
  cfg->port = 0;
  cfg->tls_port = 0;
  cfg->host = "127.0.0.1";
  if (sg_sim_smsc_new(&f->loop, cfg, &f->sim) != 0)
    abort();
  char err[256];
  if (sg_sim_smsc_start(f->sim, err, sizeof err) != 0) {
    fprintf(stderr, "sim: %s\n", err);
    abort();
  }
}

static FX_UNUSED void fx_config(const fx_t *f, uint16_t port,
                                sg_smpp_client_config_t *cfg) {
  (void)f;
  sg_smpp_client_config_default(cfg);
  cfg->host = "127.0.0.1";
  cfg->port = port;
  cfg->system_id = "test";
  cfg->password = "secret";
  cfg->reconnect_min_ms = 20;
  cfg->reconnect_max_ms = 100;
  cfg->retry_min_ms = 10;
  cfg->retry_max_ms = 40;
}

static FX_UNUSED void fx_connect(fx_t *f, const sg_smpp_client_config_t *cfg) {
  if (sg_smpp_client_new(&f->loop, cfg, &fx_cbs, f, &f->c) != 0)
    abort();
  if (sg_connector_start(f->c) != 0)
    abort();
}

static void fx_stopped_cb(sg_connector_t *c) {
  fx_t *f = c->owner;
  f->stopped = true;
}

static void fx_sim_stopped_cb(sg_sim_smsc_t *sim, void *user) {
  (void)sim;
  ((fx_t *)user)->sim_stopped = true;
}

static void peer_close_all(peer_t *p);

static void fx_walk_cb(uv_handle_t *h, void *arg) {
  (void)arg;
  fprintf(stderr, "handle left open: type %d\n", (int)h->type);
}

/* Stops the connector (if any), the simulator and the peer, frees them and
 * checks that every handle was closed. */
static FX_UNUSED void fx_free(fx_t *f) {
  if (f->c != NULL && !f->stopped)
    sg_connector_stop(f->c, fx_stopped_cb);
  if (f->sim != NULL)
    sg_sim_smsc_stop(f->sim, fx_sim_stopped_cb, f);
  peer_close_all(&f->peer);
  if (f->c == NULL)
    f->stopped = true;
  if (!fx_run_until(f, fx_pred_stopped, NULL, 5000))
    fprintf(stderr, "teardown did not finish\n");
  sg_connector_free(f->c);
  sg_sim_smsc_free(f->sim);
  uv_close((uv_handle_t *)&f->tick, NULL);
  for (int i = 0; i < 3000 && uv_run(&f->loop, UV_RUN_NOWAIT) != 0; i++)
    usleep(1000);
  if (uv_loop_close(&f->loop) != 0) {
    uv_walk(&f->loop, fx_walk_cb, NULL);
    fprintf(stderr, "loop not empty at teardown\n");
    abort();
  }
  if (f->record[0] != '\0')
    unlink(f->record);
  free(f);
}

/* ---- Parts -------------------------------------------------------------- */

/* A part with GSM 7-bit text (as septets: ASCII letters and digits are the
 * same code in the default alphabet). */
static FX_UNUSED sg_conn_part_t fx_part(uint64_t id, const char *dst,
                                        const char *text) {
  sg_conn_part_t p = {.id = id, .encoding = SG_ENC_GSM7};
  sg_smpp_addr_from_text("+15550001", &p.src);
  sg_smpp_addr_from_text(dst, &p.dst);
  p.ud = (const uint8_t *)text;
  p.ud_len = strlen(text);
  p.concat_total = 1;
  return p;
}

/* ---- The scripted peer: session mode ------------------------------------ */

static void peer_link_closed_cb(sg_smpp_link_t *l, int reason, void *user) {
  (void)reason;
  peer_t *p = user;
  for (unsigned i = 0; i < 16; i++)
    if (p->links[i] == l)
      p->links[i] = NULL;
  sg_smpp_link_free(l);
}

/* A delivery receipt for `id` (SMPP 3.4 section 5.2.12, Appendix B). */
static void peer_send_receipt(sg_smpp_link_t *l, const char *id,
                              const char *dst) {
  static sg_smpp_pdu_t pdu;
  sg_smpp_pdu_init(&pdu, SG_SMPP_DELIVER_SM, 0);
  sg_smpp_deliver_sm_t *d = &pdu.body.deliver_sm;
  d->esm_class = 0x04;
  d->source_addr_ton = 1;
  d->source_addr_npi = 1;
  snprintf(d->source_addr, sizeof d->source_addr, "%s", dst);
  snprintf(d->destination_addr, sizeof d->destination_addr, "15550001");
  int n = snprintf((char *)d->short_message, sizeof d->short_message,
                   "id:%s sub:001 dlvrd:001 submit date:2401021530 done "
                   "date:2401021531 stat:DELIVRD err:000 text:hello",
                   id);
  d->sm_length = (uint8_t)n;
  sg_smpp_tlv_set_cstr(&pdu, SG_SMPP_TLV_RECEIPTED_MESSAGE_ID, id);
  sg_smpp_tlv_set_int(&pdu, SG_SMPP_TLV_MESSAGE_STATE, 2, 0);
  sg_smpp_link_send(l, &pdu, NULL);
}

static uint32_t peer_status_for(peer_t *p, const char *dst) {
  if (p->perm_dst[0] && strcmp(dst, p->perm_dst) == 0)
    return p->perm_status;
  if (p->temp_dst[0] && strcmp(dst, p->temp_dst) == 0 &&
      (p->temp_times < 0 || (int)p->temp_answered < p->temp_times)) {
    p->temp_answered++;
    return p->temp_status;
  }
  return 0;
}

static void peer_on_submit(peer_t *p, sg_smpp_link_t *l,
                           const sg_smpp_event_t *ev) {
  const sg_smpp_submit_sm_t *sm = &ev->pdu->body.submit_sm;
  p->last_submit = *sm;
  if (p->submits < FX_MAXD)
    memcpy(p->dsts[p->submits], sm->destination_addr, 21);
  p->submits++;
  if (p->silent_dst[0] && strcmp(sm->destination_addr, p->silent_dst) == 0)
    return;
  uint32_t st = peer_status_for(p, sm->destination_addr);
  if (st != 0) {
    sg_smpp_link_respond_status(l, SG_SMPP_SUBMIT_SM, ev->sequence_number, st);
    return;
  }
  char id[32], dec[32];
  unsigned long long v = (p->id_base ? p->id_base : 0xA000) + p->next_id++;
  snprintf(id, sizeof id, "%llX", v);
  snprintf(dec, sizeof dec, "%llu", v);
  if (p->dlr_before_resp && sm->registered_delivery)
    peer_send_receipt(l, p->receipt_decimal ? dec : id, sm->destination_addr);
  sg_smpp_pdu_t resp;
  sg_smpp_pdu_init(&resp, SG_SMPP_SUBMIT_SM_RESP, ev->sequence_number);
  snprintf(resp.body.submit_sm_resp.message_id,
           sizeof resp.body.submit_sm_resp.message_id, "%s", id);
  sg_smpp_link_respond(l, &resp);
}

static void peer_event_cb(sg_smpp_link_t *l, const sg_smpp_event_t *ev,
                          void *user) {
  peer_t *p = user;
  sg_smpp_session_t *s = sg_smpp_link_session(l);
  if (ev->type == SG_SMPP_EV_BIND_REQUEST) {
    p->binds++;
    sg_smpp_session_accept_bind(s, "peer", sg_smpp_link_now(l));
  } else if (ev->type == SG_SMPP_EV_REQUEST &&
             ev->command_id == SG_SMPP_SUBMIT_SM) {
    peer_on_submit(p, l, ev);
  } else if (ev->type == SG_SMPP_EV_REQUEST) {
    sg_smpp_link_respond_status(l, ev->command_id, ev->sequence_number, 0);
  } else if (ev->type == SG_SMPP_EV_RESPONSE && ev->ctx == p) {
    if (p->n_resp < 64)
      p->resp_status[p->n_resp++] = ev->command_status;
  } else if (ev->type == SG_SMPP_EV_RESPONSE &&
             ev->request_command_id == SG_SMPP_DELIVER_SM) {
    if (ev->command_status == 0)
      p->receipts_acked++;
    else
      p->receipts_nacked++;
  }
}

/* Sends a request of the test's on the first open link; its answer's
 * status lands in resp_status[]. */
static FX_UNUSED void peer_send(fx_t *f, const sg_smpp_pdu_t *pdu) {
  for (unsigned i = 0; i < 16; i++)
    if (f->peer.links[i] != NULL) {
      if (sg_smpp_link_send(f->peer.links[i], pdu, &f->peer) < 0)
        abort();
      return;
    }
  abort();
}

/* ---- The scripted peer: raw modes --------------------------------------- */

static void raw_closed_cb(uv_handle_t *h) {
  free(h->data);
}

static void raw_close(peer_conn_t *pc) {
  if (pc->closing)
    return;
  pc->closing = true;
  for (unsigned i = 0; i < 16; i++)
    if (pc->p->raw[i] == pc)
      pc->p->raw[i] = NULL;
  pc->tcp.data = pc;
  uv_close((uv_handle_t *)&pc->tcp, raw_closed_cb);
}

static void raw_alloc_cb(uv_handle_t *h, size_t hint, uv_buf_t *buf) {
  (void)hint;
  peer_conn_t *pc = h->data;
  buf->base = (char *)pc->buf + pc->len;
  buf->len = sizeof pc->buf - pc->len;
  if (buf->len == 0) {
    pc->len = 0; /* a silent peer forgets what it read */
    buf->base = (char *)pc->buf;
    buf->len = sizeof pc->buf;
  }
}

static void raw_write_cb(uv_write_t *w, int status) {
  (void)status;
  free(w);
}

static void raw_write(peer_conn_t *pc, const void *data, size_t n) {
  uv_write_t *w = malloc(sizeof *w + n);
  memcpy(w + 1, data, n);
  uv_buf_t b = uv_buf_init((char *)(w + 1), (unsigned)n);
  if (uv_write(w, (uv_stream_t *)&pc->tcp, &b, 1, raw_write_cb) != 0)
    free(w);
}

/* MUTE and NACK: answer a bind with its resp (ESME_ROK); NACK answers
 * every other request with a generic_nack, MUTE ignores it. */
static void raw_mute_input(peer_conn_t *pc) {
  static sg_smpp_pdu_t pdu;
  long n;
  while ((n = sg_smpp_frame(pc->buf, pc->len, 0)) > 0) {
    int rc = sg_smpp_pdu_decode(pc->buf, (size_t)n, &pdu, NULL, NULL);
    if (rc == 0 && pc->p->mode == PEER_NACK &&
        sg_smpp_bind_type_of(pdu.command_id) == SG_SMPP_BIND_NONE &&
        !sg_smpp_is_response(pdu.command_id)) {
      uint8_t h[16] = {0, 0, 0, 16, 0x80, 0, 0, 0};
      uint32_t st = pc->p->nack_status, seq = pdu.sequence_number;
      for (int i = 0; i < 4; i++) {
        h[8 + i] = (uint8_t)(st >> (24 - 8 * i));
        h[12 + i] = (uint8_t)(seq >> (24 - 8 * i));
      }
      raw_write(pc, h, sizeof h);
    } else if (rc == 0 &&
               sg_smpp_bind_type_of(pdu.command_id) != SG_SMPP_BIND_NONE) {
      sg_smpp_pdu_t resp;
      sg_smpp_pdu_init(&resp, pdu.command_id | SG_SMPP_RESP_BIT,
                       pdu.sequence_number);
      strcpy(resp.body.bind_transceiver_resp.system_id, "mute");
      uint8_t out[64];
      size_t len;
      if (sg_smpp_pdu_encode(&resp, out, sizeof out, &len) == 0)
        raw_write(pc, out, len);
    }
    memmove(pc->buf, pc->buf + n, pc->len - (size_t)n);
    pc->len -= (size_t)n;
  }
}

static void raw_read_cb(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf) {
  (void)buf;
  peer_conn_t *pc = s->data;
  if (nread < 0) {
    raw_close(pc);
    return;
  }
  pc->len += (size_t)nread;
  if (pc->p->mode == PEER_MUTE || pc->p->mode == PEER_NACK)
    raw_mute_input(pc);
  else if (pc->p->mode == PEER_SILENT)
    pc->len = 0;
}

/* What the garbage peer writes: an HTTP answer (its first four octets read
 * as a command_length of about 1.2 GB), after a well-framed PDU with an
 * unknown command_id. */
static const uint8_t k_garbage[] = {
    0x00, 0x00, 0x00, 0x14, 0x12, 0x34, 0x56, 0x78, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x01, 0xde, 0xad, 0xbe, 0xef, 'H',  'T',  'T',  'P',
    '/',  '1',  '.',  '1',  ' ',  '4',  '0',  '0',  '\r', '\n', '\r', '\n'};

static void raw_accept(peer_t *p) {
  peer_conn_t *pc = calloc(1, sizeof *pc);
  pc->p = p;
  uv_tcp_init(&p->f->loop, &pc->tcp);
  pc->tcp.data = pc;
  if (uv_accept((uv_stream_t *)&p->server, (uv_stream_t *)&pc->tcp) != 0) {
    raw_close(pc);
    return;
  }
  for (unsigned i = 0; i < 16; i++)
    if (p->raw[i] == NULL) {
      p->raw[i] = pc;
      break;
    }
  uv_read_start((uv_stream_t *)&pc->tcp, raw_alloc_cb, raw_read_cb);
  if (p->mode == PEER_GARBAGE)
    raw_write(pc, k_garbage, sizeof k_garbage);
}

static const sg_smpp_link_callbacks_t peer_link_cbs = {
    .event_cb = peer_event_cb,
    .closed_cb = peer_link_closed_cb,
};

static void peer_connection_cb(uv_stream_t *server, int status) {
  peer_t *p = server->data;
  if (status != 0)
    return;
  p->connections++;
  if (p->mode != PEER_SESSION) {
    raw_accept(p);
    return;
  }
  sg_smpp_link_config_t lc;
  sg_smpp_link_config_default(&lc);
  lc.role = SG_SMPP_ROLE_SMSC;
  lc.session.window = 100;
  sg_smpp_link_t *l;
  if (sg_smpp_link_accept(server, &lc, &peer_link_cbs, p, &l) != 0)
    return;
  for (unsigned i = 0; i < 16; i++)
    if (p->links[i] == NULL) {
      p->links[i] = l;
      return;
    }
  sg_smpp_link_close(l, SG_ECLOSED);
}

/* Starts the peer on an ephemeral port of 127.0.0.1. */
static FX_UNUSED void peer_start(fx_t *f, peer_mode_t mode) {
  peer_t *p = &f->peer;
  p->mode = mode;
  uv_tcp_init(&f->loop, &p->server);
  p->server.data = p;
  struct sockaddr_in a;
  uv_ip4_addr("127.0.0.1", 0, &a);
  if (uv_tcp_bind(&p->server, (const struct sockaddr *)&a, 0) != 0 ||
      uv_listen((uv_stream_t *)&p->server, 16, peer_connection_cb) != 0)
    abort();
  struct sockaddr_storage ss;
  int len = sizeof ss;
  uv_tcp_getsockname(&p->server, (struct sockaddr *)&ss, &len);
  p->port = ntohs(((struct sockaddr_in *)&ss)->sin_port);
  p->listening = true;
}

static void peer_close_all(peer_t *p) {
  if (!p->listening)
    return;
  p->listening = false;
  uv_close((uv_handle_t *)&p->server, NULL);
  for (unsigned i = 0; i < 16; i++) {
    if (p->links[i] != NULL)
      sg_smpp_link_close(p->links[i], SG_ECLOSED);
    if (p->raw[i] != NULL)
      raw_close(p->raw[i]);
  }
}

#endif
