/* Tests for the SMPP session state machine: an ESME-role and an SMSC-role
 * session driven against each other in memory with a fake clock (binds of
 * each type, rejection, outbind, request/response matching, the window,
 * timeouts and late responses, enquire_link, unbind both ways, sequence
 * wrap), and single sessions fed hand-made octets (wrong-state requests,
 * garbage, bad command_length, every split of the input), with golden
 * vectors from the section 4 layouts. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "core/alloc.h"
#include "smpp/session.h"

/* ---- Helpers ------------------------------------------------------------- */

static size_t unhex(const char *hex, uint8_t *out, size_t cap) {
  size_t n = 0;
  int hi = -1;
  for (const char *p = hex; *p != '\0'; p++) {
    int v;
    if (*p >= '0' && *p <= '9')
      v = *p - '0';
    else if (*p >= 'a' && *p <= 'f')
      v = *p - 'a' + 10;
    else if (*p >= 'A' && *p <= 'F')
      v = *p - 'A' + 10;
    else
      continue;
    if (hi < 0) {
      hi = v;
    } else {
      assert_true(n < cap);
      out[n++] = (uint8_t)(hi << 4 | v);
      hi = -1;
    }
  }
  assert_int_equal(hi, -1);
  return n;
}

/* bind_transmitter (4.1.1): system_id "smppclient1", password "password",
 * system_type "", interface_version 0x34, addr_ton 0, addr_npi 0,
 * address_range "", sequence_number 1. */
#define HEX_BIND_TRANSMITTER                                                   \
  "0000002A 00000002 00000000 00000001"                                        \
  "736D7070636C69656E743100 70617373776F726400 00 34 00 00 00"
/* bind_transmitter_resp: system_id "SMSC", sc_interface_version 0x34. */
#define HEX_BIND_TRANSMITTER_RESP                                              \
  "0000001A 80000002 00000000 00000001 534D534300 0210 0001 34"

typedef struct rec_ev {
  sg_smpp_event_type_t type;
  uint32_t command_id, command_status, seq, req_cmd;
  sg_smpp_bind_type_t bind_type;
  int error;
  void *ctx;
  bool has_pdu;
  char text[66]; /* system_id or message_id of the PDU */
} rec_ev_t;

/* One end of the link: a session, what it reported, and how it behaves. */
typedef struct peer {
  sg_smpp_session_t *s;
  rec_ev_t ev[512];
  int n;
  /* SMSC: answer binds (0: accept, else reject with this status), or
   * leave them pending when manual_bind. */
  uint32_t reject_status;
  bool manual_bind;
  /* answer every request at once (message_id "M<seq>") */
  bool auto_respond;
  /* ESME: answer an outbind with a bind of this type */
  sg_smpp_bind_type_t outbind_answer;
  /* re-entrancy: on this event type, close / free the session */
  sg_smpp_event_type_t close_on, free_on;
  bool freed;
} peer_t;

static void record(peer_t *p, const sg_smpp_event_t *ev) {
  assert_true(p->n < (int)(sizeof p->ev / sizeof p->ev[0]));
  rec_ev_t *r = &p->ev[p->n++];
  memset(r, 0, sizeof *r);
  r->type = ev->type;
  r->command_id = ev->command_id;
  r->command_status = ev->command_status;
  r->seq = ev->sequence_number;
  r->req_cmd = ev->request_command_id;
  r->bind_type = ev->bind_type;
  r->error = ev->error;
  r->ctx = ev->ctx;
  r->has_pdu = ev->pdu != NULL;
  if (ev->pdu == NULL)
    return;
  switch (ev->pdu->command_id) {
  case SG_SMPP_SUBMIT_SM_RESP:
  case SG_SMPP_DELIVER_SM_RESP:
    snprintf(r->text, sizeof r->text, "%s",
             ev->pdu->body.submit_sm_resp.message_id);
    break;
  case SG_SMPP_BIND_TRANSMITTER:
  case SG_SMPP_BIND_RECEIVER:
  case SG_SMPP_BIND_TRANSCEIVER:
  case SG_SMPP_OUTBIND:
    snprintf(r->text, sizeof r->text, "%s/%s",
             ev->pdu->body.bind_transmitter.system_id,
             ev->pdu->body.bind_transmitter.password);
    break;
  case SG_SMPP_BIND_TRANSMITTER_RESP:
  case SG_SMPP_BIND_RECEIVER_RESP:
  case SG_SMPP_BIND_TRANSCEIVER_RESP:
    snprintf(r->text, sizeof r->text, "%s",
             ev->pdu->body.bind_transmitter_resp.system_id);
    break;
  case SG_SMPP_SUBMIT_SM:
  case SG_SMPP_DELIVER_SM:
    snprintf(r->text, sizeof r->text, "%.*s", ev->pdu->body.submit_sm.sm_length,
             (const char *)ev->pdu->body.submit_sm.short_message);
    break;
  default:
    break;
  }
}

static const sg_smpp_bind_params_t bind_params = {.system_id = "smppclient1",
                                                  .password = "password"};

static void auto_respond(sg_smpp_session_t *s, const sg_smpp_event_t *ev) {
  static sg_smpp_pdu_t resp;
  sg_smpp_pdu_init(&resp, sg_smpp_response_id(ev->command_id),
                   ev->sequence_number);
  if (resp.command_id == SG_SMPP_SUBMIT_SM_RESP)
    snprintf(resp.body.submit_sm_resp.message_id,
             sizeof resp.body.submit_sm_resp.message_id, "M%u",
             (unsigned)ev->sequence_number);
  assert_int_equal(sg_smpp_session_respond(s, &resp), 0);
}

static void on_event(sg_smpp_session_t *s, const sg_smpp_event_t *ev,
                     void *user) {
  peer_t *p = user;
  assert_ptr_equal(p->s, s);
  record(p, ev);
  if (ev->type == SG_SMPP_EV_BIND_REQUEST && !p->manual_bind) {
    if (p->reject_status != 0)
      assert_int_equal(sg_smpp_session_reject_bind(s, p->reject_status, 0), 0);
    else
      assert_int_equal(sg_smpp_session_accept_bind(s, "SMSC", 0), 0);
  }
  if (ev->type == SG_SMPP_EV_OUTBIND && p->outbind_answer != 0)
    assert_int_equal(
        sg_smpp_session_bind(s, p->outbind_answer, &bind_params, 0), 0);
  if (ev->type == SG_SMPP_EV_REQUEST && p->auto_respond &&
      sg_smpp_response_id(ev->command_id) != 0)
    auto_respond(s, ev);
  if (p->close_on != 0 && ev->type == p->close_on)
    sg_smpp_session_close(s, SG_ECLOSED);
  if (p->free_on != 0 && ev->type == p->free_on) {
    /* input/tick from inside a callback are refused */
    assert_int_equal(sg_smpp_session_tick(s, 0), SG_ESTATE);
    assert_int_equal(sg_smpp_session_input(s, (const uint8_t *)"", 1, 0),
                     SG_ESTATE);
    sg_smpp_session_free(s);
    p->freed = true;
  }
}

static void peer_open(peer_t *p, sg_smpp_role_t role,
                      const sg_smpp_session_config_t *cfg, uint64_t now) {
  memset(p, 0, sizeof *p);
  assert_int_equal(sg_smpp_session_new(role, cfg, on_event, p, now, &p->s), 0);
}

static void peer_close(peer_t *p) {
  if (!p->freed)
    sg_smpp_session_free(p->s);
}

/* Moves the output of `from` into `to`, `chunk` octets per input call.
 * Returns whether anything moved. */
static bool move(peer_t *from, peer_t *to, uint64_t now, size_t chunk) {
  static uint8_t buf[1 << 20];
  if (from->freed)
    return false;
  const uint8_t *p;
  size_t n = sg_smpp_session_output(from->s, &p);
  if (n == 0)
    return false;
  assert_true(n <= sizeof buf);
  memcpy(buf, p, n);
  sg_smpp_session_consume(from->s, n);
  for (size_t off = 0; off < n && !to->freed; off += chunk) {
    if (sg_smpp_session_state(to->s) == SG_SMPP_STATE_CLOSED)
      break;
    size_t k = n - off < chunk ? n - off : chunk;
    assert_int_equal(sg_smpp_session_input(to->s, buf + off, k, now), 0);
  }
  return true;
}

static void pump_chunked(peer_t *a, peer_t *b, uint64_t now, size_t chunk) {
  for (int i = 0; i < 10000; i++) {
    bool moved = move(a, b, now, chunk);
    moved = move(b, a, now, chunk) || moved;
    if (!moved)
      return;
  }
  fail_msg("pump does not settle");
}

static void pump(peer_t *a, peer_t *b, uint64_t now) {
  pump_chunked(a, b, now, SIZE_MAX);
}

/* Takes all output of a session (decoded) without delivering it. */
static int drain(peer_t *p, sg_smpp_pdu_t *out, int max) {
  static uint8_t buf[1 << 16];
  const uint8_t *d;
  size_t len = 0, n;
  while ((n = sg_smpp_session_output(p->s, &d)) > 0) {
    assert_true(len + n <= sizeof buf);
    memcpy(buf + len, d, n);
    len += n;
    sg_smpp_session_consume(p->s, n);
  }
  int count = 0;
  size_t pos = 0;
  while (pos < len) {
    long k = sg_smpp_frame(buf + pos, len - pos, 0);
    assert_true(k > 0);
    assert_true(count < max);
    assert_int_equal(
        sg_smpp_pdu_decode(buf + pos, (size_t)k, &out[count], NULL, NULL), 0);
    count++;
    pos += (size_t)k;
  }
  return count;
}

/* Takes all output as raw octets. */
static size_t drain_raw(peer_t *p, uint8_t *buf, size_t cap) {
  const uint8_t *d;
  size_t len = 0, n;
  while ((n = sg_smpp_session_output(p->s, &d)) > 0) {
    assert_true(len + n <= cap);
    memcpy(buf + len, d, n);
    len += n;
    sg_smpp_session_consume(p->s, n);
  }
  return len;
}

static void feed_hex(peer_t *p, const char *hex, uint64_t now) {
  uint8_t buf[4096];
  size_t n = unhex(hex, buf, sizeof buf);
  assert_int_equal(sg_smpp_session_input(p->s, buf, n, now), 0);
}

static void feed_pdu(peer_t *p, const sg_smpp_pdu_t *pdu, uint64_t now) {
  uint8_t buf[4096];
  size_t n;
  assert_int_equal(sg_smpp_pdu_encode(pdu, buf, sizeof buf, &n), 0);
  assert_int_equal(sg_smpp_session_input(p->s, buf, n, now), 0);
}

static int count_events(const peer_t *p, sg_smpp_event_type_t type) {
  int c = 0;
  for (int i = 0; i < p->n; i++)
    c += p->ev[i].type == type;
  return c;
}

static const rec_ev_t *last_event(const peer_t *p) {
  assert_true(p->n > 0);
  return &p->ev[p->n - 1];
}

static const rec_ev_t *find_event(const peer_t *p, sg_smpp_event_type_t type,
                                  int nth) {
  for (int i = 0; i < p->n; i++)
    if (p->ev[i].type == type && nth-- == 0)
      return &p->ev[i];
  fail_msg("event %s #%d not found", sg_smpp_event_name(type), nth);
  return NULL;
}

static void submit_init(sg_smpp_pdu_t *pdu, const char *text) {
  sg_smpp_pdu_init(pdu, SG_SMPP_SUBMIT_SM, 0);
  strcpy(pdu->body.submit_sm.source_addr, "SENDER");
  strcpy(pdu->body.submit_sm.destination_addr, "4915112345678");
  pdu->body.submit_sm.sm_length = (uint8_t)strlen(text);
  memcpy(pdu->body.submit_sm.short_message, text, strlen(text));
}

static sg_smpp_session_config_t test_config(void) {
  sg_smpp_session_config_t cfg;
  sg_smpp_session_config_default(&cfg);
  cfg.enquire_link_interval_ms = 0; /* tests that want it turn it on */
  return cfg;
}

/* ESME and SMSC, bound with `type` through the in-memory link. */
static void bound_pair(peer_t *esme, peer_t *smsc, sg_smpp_bind_type_t type,
                       const sg_smpp_session_config_t *cfg) {
  peer_open(esme, SG_SMPP_ROLE_ESME, cfg, 0);
  peer_open(smsc, SG_SMPP_ROLE_SMSC, cfg, 0);
  assert_int_equal(sg_smpp_session_bind(esme->s, type, &bind_params, 0), 0);
  pump(esme, smsc, 0);
  assert_int_equal(sg_smpp_session_state(esme->s),
                   type == SG_SMPP_BIND_TX   ? SG_SMPP_STATE_BOUND_TX
                   : type == SG_SMPP_BIND_RX ? SG_SMPP_STATE_BOUND_RX
                                             : SG_SMPP_STATE_BOUND_TRX);
  assert_int_equal(sg_smpp_session_state(smsc->s),
                   sg_smpp_session_state(esme->s));
}

/* ---- Binds -----------------------------------------------------------------
 */

static void bind_golden_vectors(void **state) {
  (void)state;
  peer_t esme, smsc;
  sg_smpp_session_config_t cfg = test_config();
  peer_open(&esme, SG_SMPP_ROLE_ESME, &cfg, 0);
  peer_open(&smsc, SG_SMPP_ROLE_SMSC, &cfg, 0);
  assert_int_equal(
      sg_smpp_session_bind(esme.s, SG_SMPP_BIND_TX, &bind_params, 0), 0);
  assert_int_equal(sg_smpp_session_state(esme.s), SG_SMPP_STATE_BINDING);
  uint8_t want[256], got[256];
  size_t wn = unhex(HEX_BIND_TRANSMITTER, want, sizeof want);
  size_t gn = drain_raw(&esme, got, sizeof got);
  assert_int_equal(gn, wn);
  assert_memory_equal(got, want, wn);

  assert_int_equal(sg_smpp_session_input(smsc.s, got, gn, 5), 0);
  assert_int_equal(smsc.n, 2); /* BIND_REQUEST, then BOUND on accept */
  assert_int_equal(smsc.ev[0].type, SG_SMPP_EV_BIND_REQUEST);
  assert_int_equal(smsc.ev[0].bind_type, SG_SMPP_BIND_TX);
  assert_string_equal(smsc.ev[0].text, "smppclient1/password");
  assert_int_equal(smsc.ev[1].type, SG_SMPP_EV_BOUND);
  assert_string_equal(sg_smpp_session_peer_system_id(smsc.s), "smppclient1");
  wn = unhex(HEX_BIND_TRANSMITTER_RESP, want, sizeof want);
  gn = drain_raw(&smsc, got, sizeof got);
  assert_int_equal(gn, wn);
  assert_memory_equal(got, want, wn);

  assert_int_equal(sg_smpp_session_input(esme.s, got, gn, 6), 0);
  const rec_ev_t *e = last_event(&esme);
  assert_int_equal(e->type, SG_SMPP_EV_BOUND);
  assert_int_equal(e->bind_type, SG_SMPP_BIND_TX);
  assert_string_equal(e->text, "SMSC");
  assert_string_equal(sg_smpp_session_peer_system_id(esme.s), "SMSC");
  assert_int_equal(sg_smpp_session_bind_type(esme.s), SG_SMPP_BIND_TX);
  peer_close(&esme);
  peer_close(&smsc);
}

static void bind_each_type(void **state) {
  (void)state;
  static const struct {
    sg_smpp_bind_type_t type;
    sg_smpp_state_t st;
    uint32_t resp;
  } cases[] = {
      {SG_SMPP_BIND_TX, SG_SMPP_STATE_BOUND_TX, SG_SMPP_BIND_TRANSMITTER_RESP},
      {SG_SMPP_BIND_RX, SG_SMPP_STATE_BOUND_RX, SG_SMPP_BIND_RECEIVER_RESP},
      {SG_SMPP_BIND_TRX, SG_SMPP_STATE_BOUND_TRX,
       SG_SMPP_BIND_TRANSCEIVER_RESP},
  };
  sg_smpp_session_config_t cfg = test_config();
  for (size_t i = 0; i < 3; i++) {
    peer_t esme, smsc;
    bound_pair(&esme, &smsc, cases[i].type, &cfg);
    assert_int_equal(sg_smpp_session_state(esme.s), cases[i].st);
    const rec_ev_t *e = find_event(&esme, SG_SMPP_EV_BOUND, 0);
    assert_int_equal(e->command_id, cases[i].resp);
    assert_int_equal(e->bind_type, cases[i].type);
    assert_int_equal(find_event(&smsc, SG_SMPP_EV_BIND_REQUEST, 0)->bind_type,
                     cases[i].type);
    assert_int_equal(sg_smpp_session_bind_type(smsc.s), cases[i].type);
    assert_int_equal(sg_smpp_session_next_deadline(esme.s),
                     SG_SMPP_NO_DEADLINE);
    peer_close(&esme);
    peer_close(&smsc);
  }
}

static void bind_rejected(void **state) {
  (void)state;
  peer_t esme, smsc;
  sg_smpp_session_config_t cfg = test_config();
  peer_open(&esme, SG_SMPP_ROLE_ESME, &cfg, 0);
  peer_open(&smsc, SG_SMPP_ROLE_SMSC, &cfg, 0);
  smsc.reject_status = SG_SMPP_ESME_RINVPASWD;
  assert_int_equal(
      sg_smpp_session_bind(esme.s, SG_SMPP_BIND_TRX, &bind_params, 0), 0);
  pump(&esme, &smsc, 0);
  const rec_ev_t *e = last_event(&esme);
  assert_int_equal(e->type, SG_SMPP_EV_BIND_FAILED);
  assert_int_equal(e->command_id, SG_SMPP_BIND_TRANSCEIVER_RESP);
  assert_int_equal(e->command_status, SG_SMPP_ESME_RINVPASWD);
  assert_int_equal(e->error, SG_EPROTO);
  assert_int_equal(sg_smpp_session_state(esme.s), SG_SMPP_STATE_OPEN);
  assert_int_equal(sg_smpp_session_state(smsc.s), SG_SMPP_STATE_OPEN);
  assert_int_equal(count_events(&smsc, SG_SMPP_EV_BOUND), 0);
  /* the link stays usable: a second bind is accepted */
  smsc.reject_status = 0;
  assert_int_equal(
      sg_smpp_session_bind(esme.s, SG_SMPP_BIND_TRX, &bind_params, 1), 0);
  pump(&esme, &smsc, 1);
  assert_int_equal(sg_smpp_session_state(esme.s), SG_SMPP_STATE_BOUND_TRX);
  assert_int_equal(sg_smpp_session_reject_bind(smsc.s, 0, 1), SG_EINVAL);
  assert_int_equal(sg_smpp_session_reject_bind(smsc.s, 5, 1), SG_ESTATE);
  peer_close(&esme);
  peer_close(&smsc);
}

static void bind_rejected_by_generic_nack(void **state) {
  (void)state;
  peer_t esme;
  sg_smpp_session_config_t cfg = test_config();
  peer_open(&esme, SG_SMPP_ROLE_ESME, &cfg, 0);
  assert_int_equal(
      sg_smpp_session_bind(esme.s, SG_SMPP_BIND_TX, &bind_params, 0), 0);
  feed_hex(&esme, "00000010 80000000 00000003 00000001", 1);
  const rec_ev_t *e = last_event(&esme);
  assert_int_equal(e->type, SG_SMPP_EV_BIND_FAILED);
  assert_int_equal(e->command_id, SG_SMPP_GENERIC_NACK);
  assert_int_equal(e->command_status, SG_SMPP_ESME_RINVCMDID);
  assert_int_equal(sg_smpp_session_state(esme.s), SG_SMPP_STATE_OPEN);
  peer_close(&esme);
}

static void bind_timeout(void **state) {
  (void)state;
  peer_t esme, smsc;
  sg_smpp_session_config_t cfg = test_config();
  cfg.bind_timeout_ms = 5000;
  peer_open(&esme, SG_SMPP_ROLE_ESME, &cfg, 100);
  assert_int_equal(sg_smpp_session_next_deadline(esme.s),
                   SG_SMPP_NO_DEADLINE); /* an ESME waits for its owner */
  assert_int_equal(
      sg_smpp_session_bind(esme.s, SG_SMPP_BIND_TX, &bind_params, 1000), 0);
  assert_int_equal(sg_smpp_session_next_deadline(esme.s), 6000);
  assert_int_equal(sg_smpp_session_tick(esme.s, 5999), 0);
  assert_int_equal(esme.n, 0);
  assert_int_equal(sg_smpp_session_tick(esme.s, 6000), 0);
  assert_int_equal(esme.n, 2);
  assert_int_equal(esme.ev[0].type, SG_SMPP_EV_BIND_FAILED);
  assert_int_equal(esme.ev[0].error, SG_ETIMEDOUT);
  assert_int_equal(esme.ev[1].type, SG_SMPP_EV_CLOSED);
  assert_int_equal(esme.ev[1].error, SG_ETIMEDOUT);
  assert_int_equal(sg_smpp_session_next_deadline(esme.s), SG_SMPP_NO_DEADLINE);
  peer_close(&esme);

  /* SMSC: a connection that never binds is closed (a bind the owner never
   * decides on: bind_decide_timeout). */
  peer_open(&smsc, SG_SMPP_ROLE_SMSC, &cfg, 100);
  assert_int_equal(sg_smpp_session_next_deadline(smsc.s), 5100);
  assert_int_equal(sg_smpp_session_tick(smsc.s, 5100), 0);
  assert_int_equal(last_event(&smsc)->type, SG_SMPP_EV_CLOSED);
  assert_int_equal(last_event(&smsc)->error, SG_ETIMEDOUT);
  peer_close(&smsc);
}

/* SMSC: a bind the owner does not decide on in decide_timeout_ms (a slow
 * password check) is answered ESME_RBINDFAIL by the session, then the
 * session closes; bind_timeout_ms does not cut the wait short, and a
 * decision in time still works. */
static void bind_decide_timeout(void **state) {
  (void)state;
  peer_t esme, smsc;
  sg_smpp_session_config_t cfg = test_config();
  cfg.bind_timeout_ms = 5000;
  cfg.decide_timeout_ms = 60000;
  peer_open(&smsc, SG_SMPP_ROLE_SMSC, &cfg, 0);
  smsc.manual_bind = true;
  feed_hex(&smsc, HEX_BIND_TRANSMITTER, 3000);
  assert_int_equal(sg_smpp_session_state(smsc.s), SG_SMPP_STATE_BINDING);
  assert_int_equal(sg_smpp_session_next_deadline(smsc.s), 63000);
  assert_int_equal(sg_smpp_session_tick(smsc.s, 8000), 0);
  assert_int_equal(sg_smpp_session_tick(smsc.s, 62999), 0);
  assert_int_equal(sg_smpp_session_state(smsc.s), SG_SMPP_STATE_BINDING);
  assert_int_equal(sg_smpp_session_output_pending(smsc.s), 0);
  assert_int_equal(sg_smpp_session_tick(smsc.s, 63000), 0);
  sg_smpp_pdu_t out[2];
  assert_int_equal(drain(&smsc, out, 2), 1);
  assert_int_equal(out[0].command_id, SG_SMPP_BIND_TRANSMITTER_RESP);
  assert_int_equal(out[0].command_status, SG_SMPP_ESME_RBINDFAIL);
  assert_int_equal(out[0].sequence_number, 1);
  assert_int_equal(sg_smpp_session_state(smsc.s), SG_SMPP_STATE_CLOSED);
  assert_int_equal(last_event(&smsc)->type, SG_SMPP_EV_CLOSED);
  assert_int_equal(last_event(&smsc)->error, SG_ETIMEDOUT);
  assert_int_equal(count_events(&smsc, SG_SMPP_EV_BOUND), 0);
  /* the decision that comes too late finds nothing to answer */
  assert_int_equal(sg_smpp_session_accept_bind(smsc.s, "SMSC", 63001),
                   SG_ESTATE);
  assert_int_equal(drain(&smsc, out, 2), 0);
  peer_close(&smsc);

  /* The ESME sees the refusal as it sees any (its own bind_timeout_ms
   * set longer than the SMSC's wait). */
  sg_smpp_session_config_t ecfg = test_config();
  ecfg.bind_timeout_ms = 120000;
  peer_open(&esme, SG_SMPP_ROLE_ESME, &ecfg, 0);
  peer_open(&smsc, SG_SMPP_ROLE_SMSC, &cfg, 0);
  smsc.manual_bind = true;
  assert_int_equal(
      sg_smpp_session_bind(esme.s, SG_SMPP_BIND_TRX, &bind_params, 0), 0);
  pump(&esme, &smsc, 0);
  assert_int_equal(sg_smpp_session_tick(smsc.s, 60000), 0);
  pump(&esme, &smsc, 60000);
  const rec_ev_t *e = find_event(&esme, SG_SMPP_EV_BIND_FAILED, 0);
  assert_int_equal(e->command_id, SG_SMPP_BIND_TRANSCEIVER_RESP);
  assert_int_equal(e->command_status, SG_SMPP_ESME_RBINDFAIL);
  assert_int_equal(e->error, SG_EPROTO);
  assert_int_equal(sg_smpp_session_state(esme.s), SG_SMPP_STATE_OPEN);
  peer_close(&esme);
  peer_close(&smsc);

  /* A decision just in time (after bind_timeout_ms) binds. */
  peer_open(&esme, SG_SMPP_ROLE_ESME, &ecfg, 0);
  peer_open(&smsc, SG_SMPP_ROLE_SMSC, &cfg, 0);
  smsc.manual_bind = true;
  assert_int_equal(
      sg_smpp_session_bind(esme.s, SG_SMPP_BIND_TX, &bind_params, 0), 0);
  pump(&esme, &smsc, 0);
  assert_int_equal(sg_smpp_session_tick(smsc.s, 59999), 0);
  assert_int_equal(sg_smpp_session_state(smsc.s), SG_SMPP_STATE_BINDING);
  assert_int_equal(sg_smpp_session_accept_bind(smsc.s, "SMSC", 59999), 0);
  pump(&esme, &smsc, 59999);
  assert_int_equal(sg_smpp_session_state(esme.s), SG_SMPP_STATE_BOUND_TX);
  assert_int_equal(sg_smpp_session_state(smsc.s), SG_SMPP_STATE_BOUND_TX);
  assert_int_equal(sg_smpp_session_tick(smsc.s, 200000), 0);
  assert_int_equal(sg_smpp_session_state(smsc.s), SG_SMPP_STATE_BOUND_TX);
  peer_close(&esme);
  peer_close(&smsc);

  /* decide_timeout_ms 0: the owner is waited for without end. */
  cfg.decide_timeout_ms = 0;
  peer_open(&smsc, SG_SMPP_ROLE_SMSC, &cfg, 0);
  smsc.manual_bind = true;
  feed_hex(&smsc, HEX_BIND_TRANSMITTER, 0);
  assert_int_equal(sg_smpp_session_next_deadline(smsc.s), SG_SMPP_NO_DEADLINE);
  assert_int_equal(sg_smpp_session_tick(smsc.s, 10000000), 0);
  assert_int_equal(sg_smpp_session_state(smsc.s), SG_SMPP_STATE_BINDING);
  assert_int_equal(
      sg_smpp_session_reject_bind(smsc.s, SG_SMPP_ESME_RINVPASWD, 10000000), 0);
  assert_int_equal(drain(&smsc, out, 2), 1);
  assert_int_equal(out[0].command_status, SG_SMPP_ESME_RINVPASWD);
  peer_close(&smsc);
}

static void bind_decided_later(void **state) {
  (void)state;
  peer_t esme, smsc;
  sg_smpp_session_config_t cfg = test_config();
  peer_open(&esme, SG_SMPP_ROLE_ESME, &cfg, 0);
  peer_open(&smsc, SG_SMPP_ROLE_SMSC, &cfg, 0);
  smsc.manual_bind = true;
  assert_int_equal(
      sg_smpp_session_bind(esme.s, SG_SMPP_BIND_RX, &bind_params, 0), 0);
  pump(&esme, &smsc, 0);
  assert_int_equal(sg_smpp_session_state(smsc.s), SG_SMPP_STATE_BINDING);
  assert_int_equal(sg_smpp_session_state(esme.s), SG_SMPP_STATE_BINDING);
  /* while the owner decides, requests are refused (and a second bind) */
  sg_smpp_pdu_t pdu;
  submit_init(&pdu, "x");
  pdu.sequence_number = 77;
  feed_pdu(&smsc, &pdu, 1);
  sg_smpp_pdu_t out[4];
  assert_int_equal(drain(&smsc, out, 4), 1);
  assert_int_equal(out[0].command_id, SG_SMPP_SUBMIT_SM_RESP);
  assert_int_equal(out[0].command_status, SG_SMPP_ESME_RINVBNDSTS);
  assert_int_equal(out[0].sequence_number, 77);
  assert_int_equal(sg_smpp_session_accept_bind(smsc.s, "later", 2), 0);
  pump(&esme, &smsc, 2);
  assert_int_equal(sg_smpp_session_state(esme.s), SG_SMPP_STATE_BOUND_RX);
  assert_string_equal(find_event(&esme, SG_SMPP_EV_BOUND, 0)->text, "later");
  assert_int_equal(sg_smpp_session_accept_bind(smsc.s, "again", 2), SG_ESTATE);
  peer_close(&esme);
  peer_close(&smsc);
}

static void second_bind_already_bound(void **state) {
  (void)state;
  peer_t esme, smsc;
  sg_smpp_session_config_t cfg = test_config();
  bound_pair(&esme, &smsc, SG_SMPP_BIND_TX, &cfg);
  assert_int_equal(
      sg_smpp_session_bind(esme.s, SG_SMPP_BIND_TX, &bind_params, 0),
      SG_ESTATE);
  uint8_t bind[64];
  size_t n = unhex(HEX_BIND_TRANSMITTER, bind, sizeof bind);
  bind[15] = 9; /* sequence_number 9 */
  assert_int_equal(sg_smpp_session_input(smsc.s, bind, n, 1), 0);
  sg_smpp_pdu_t out[2];
  assert_int_equal(drain(&smsc, out, 2), 1);
  assert_int_equal(out[0].command_id, SG_SMPP_BIND_TRANSMITTER_RESP);
  assert_int_equal(out[0].command_status, SG_SMPP_ESME_RALYBND);
  assert_int_equal(out[0].sequence_number, 9);
  assert_int_equal(last_event(&smsc)->type, SG_SMPP_EV_PROTOCOL_ERROR);
  assert_int_equal(last_event(&smsc)->command_status, SG_SMPP_ESME_RALYBND);
  assert_int_equal(sg_smpp_session_state(smsc.s), SG_SMPP_STATE_BOUND_TX);
  peer_close(&esme);
  peer_close(&smsc);
}

static void outbind(void **state) {
  (void)state;
  peer_t esme, smsc;
  sg_smpp_session_config_t cfg = test_config();
  peer_open(&esme, SG_SMPP_ROLE_ESME, &cfg, 0);
  peer_open(&smsc, SG_SMPP_ROLE_SMSC, &cfg, 0);
  esme.outbind_answer = SG_SMPP_BIND_RX;
  assert_int_equal(sg_smpp_session_outbind(smsc.s, "SMSC", "secret", 0), 0);
  assert_int_equal(sg_smpp_session_state(smsc.s), SG_SMPP_STATE_OUTBOUND);
  assert_int_equal(sg_smpp_session_outbind(esme.s, "x", "y", 0), SG_ESTATE);
  assert_int_equal(sg_smpp_session_outbind(smsc.s, "x", "y", 0), SG_ESTATE);
  pump(&esme, &smsc, 0);
  assert_int_equal(esme.ev[0].type, SG_SMPP_EV_OUTBIND);
  assert_string_equal(esme.ev[0].text, "SMSC/secret");
  assert_int_equal(find_event(&smsc, SG_SMPP_EV_BIND_REQUEST, 0)->bind_type,
                   SG_SMPP_BIND_RX);
  assert_int_equal(sg_smpp_session_state(esme.s), SG_SMPP_STATE_BOUND_RX);
  assert_int_equal(sg_smpp_session_state(smsc.s), SG_SMPP_STATE_BOUND_RX);
  /* an SMSC ignores an outbind (it has no response), reporting it */
  feed_hex(&smsc, "00000017 0000000B 00000000 00000005 41424300 707700", 1);
  sg_smpp_pdu_t out[2];
  assert_int_equal(drain(&smsc, out, 2), 0);
  assert_int_equal(last_event(&smsc)->type, SG_SMPP_EV_PROTOCOL_ERROR);
  assert_int_equal(last_event(&smsc)->command_id, SG_SMPP_OUTBIND);
  peer_close(&esme);
  peer_close(&smsc);
}

/* ---- Requests and responses ------------------------------------------------
 */

static void submit_response_matching(void **state) {
  (void)state;
  peer_t esme, smsc;
  sg_smpp_session_config_t cfg = test_config();
  bound_pair(&esme, &smsc, SG_SMPP_BIND_TRX, &cfg);
  int ctx[5];
  long seq[5];
  sg_smpp_pdu_t pdu;
  for (int i = 0; i < 5; i++) {
    char text[16];
    snprintf(text, sizeof text, "msg%d", i);
    submit_init(&pdu, text);
    pdu.sequence_number = 12345; /* ignored */
    seq[i] = sg_smpp_session_send_request(esme.s, &pdu, &ctx[i], 10);
    assert_int_equal(seq[i], 2 + i); /* 1 was the bind */
  }
  assert_int_equal(sg_smpp_session_in_flight(esme.s), 5);
  assert_int_equal(sg_smpp_session_window_free(esme.s), 5);
  /* the SMSC answers in reverse order */
  smsc.manual_bind = true;
  pump(&esme, &smsc, 11);
  assert_int_equal(count_events(&smsc, SG_SMPP_EV_REQUEST), 5);
  assert_int_equal(sg_smpp_session_inbound_pending(smsc.s), 5);
  for (int i = 4; i >= 0; i--) {
    const rec_ev_t *r = find_event(&smsc, SG_SMPP_EV_REQUEST, i);
    char want[16];
    snprintf(want, sizeof want, "msg%d", i);
    assert_string_equal(r->text, want);
    assert_int_equal(r->seq, seq[i]);
    sg_smpp_pdu_t resp;
    sg_smpp_pdu_init(&resp, SG_SMPP_SUBMIT_SM_RESP, r->seq);
    snprintf(resp.body.submit_sm_resp.message_id, 65, "id-%d", i);
    assert_int_equal(sg_smpp_session_respond(smsc.s, &resp), 0);
  }
  assert_int_equal(sg_smpp_session_inbound_pending(smsc.s), 0);
  pump(&esme, &smsc, 12);
  assert_int_equal(count_events(&esme, SG_SMPP_EV_RESPONSE), 5);
  for (int k = 0; k < 5; k++) {
    const rec_ev_t *r = find_event(&esme, SG_SMPP_EV_RESPONSE, k);
    int i = 4 - k;
    assert_ptr_equal(r->ctx, &ctx[i]);
    assert_int_equal(r->seq, seq[i]);
    assert_int_equal(r->req_cmd, SG_SMPP_SUBMIT_SM);
    assert_int_equal(r->command_id, SG_SMPP_SUBMIT_SM_RESP);
    assert_int_equal(r->command_status, 0);
    char want[16];
    snprintf(want, sizeof want, "id-%d", i);
    assert_string_equal(r->text, want);
  }
  assert_int_equal(sg_smpp_session_in_flight(esme.s), 0);
  sg_smpp_session_stats_t st;
  sg_smpp_session_stats(esme.s, &st);
  assert_int_equal(st.requests_out, 5);
  assert_int_equal(st.responses_matched, 5);
  assert_int_equal(st.pdus_out, 6);
  assert_int_equal(st.pdus_in, 6);
  peer_close(&esme);
  peer_close(&smsc);
}

static void deliver_sm_to_receiver(void **state) {
  (void)state;
  peer_t esme, smsc;
  sg_smpp_session_config_t cfg = test_config();
  bound_pair(&esme, &smsc, SG_SMPP_BIND_RX, &cfg);
  esme.auto_respond = true;
  sg_smpp_pdu_t pdu;
  submit_init(&pdu, "id:1 stat:DELIVRD");
  pdu.command_id = SG_SMPP_DELIVER_SM; /* same layout */
  pdu.body.deliver_sm.esm_class = 0x04;
  long seq = sg_smpp_session_send_request(smsc.s, &pdu, &smsc, 0);
  assert_true(seq > 0);
  /* a receiver cannot submit; an SMSC cannot submit */
  submit_init(&pdu, "x");
  assert_int_equal(sg_smpp_session_send_request(esme.s, &pdu, NULL, 0),
                   SG_ESTATE);
  assert_int_equal(sg_smpp_session_send_request(smsc.s, &pdu, NULL, 0),
                   SG_ESTATE);
  pump(&esme, &smsc, 1);
  assert_string_equal(find_event(&esme, SG_SMPP_EV_REQUEST, 0)->text,
                      "id:1 stat:DELIVRD");
  const rec_ev_t *r = find_event(&smsc, SG_SMPP_EV_RESPONSE, 0);
  assert_int_equal(r->command_id, SG_SMPP_DELIVER_SM_RESP);
  assert_ptr_equal(r->ctx, &smsc);
  peer_close(&esme);
  peer_close(&smsc);
}

static void window_full(void **state) {
  (void)state;
  peer_t esme, smsc;
  sg_smpp_session_config_t cfg = test_config();
  cfg.window = 3;
  bound_pair(&esme, &smsc, SG_SMPP_BIND_TX, &cfg);
  sg_smpp_pdu_t pdu;
  submit_init(&pdu, "w");
  for (int i = 0; i < 3; i++)
    assert_true(sg_smpp_session_send_request(esme.s, &pdu, NULL, 0) > 0);
  size_t before = sg_smpp_session_output_pending(esme.s);
  assert_int_equal(sg_smpp_session_send_request(esme.s, &pdu, NULL, 0),
                   SG_EBUSY);
  assert_int_equal(sg_smpp_session_output_pending(esme.s), before);
  assert_int_equal(sg_smpp_session_window_free(esme.s), 0);
  smsc.auto_respond = true;
  pump(&esme, &smsc, 1);
  assert_int_equal(count_events(&esme, SG_SMPP_EV_RESPONSE), 3);
  assert_int_equal(sg_smpp_session_window_free(esme.s), 3);
  assert_int_equal(sg_smpp_session_send_request(esme.s, &pdu, NULL, 1), 5);
  peer_close(&esme);
  peer_close(&smsc);
}

static void generic_nack_fails_request(void **state) {
  (void)state;
  peer_t esme, smsc;
  sg_smpp_session_config_t cfg = test_config();
  bound_pair(&esme, &smsc, SG_SMPP_BIND_TX, &cfg);
  sg_smpp_pdu_t pdu;
  submit_init(&pdu, "n");
  int ctx;
  assert_int_equal(sg_smpp_session_send_request(esme.s, &pdu, &ctx, 0), 2);
  feed_hex(&esme, "00000010 80000000 00000058 00000002", 1);
  const rec_ev_t *r = last_event(&esme);
  assert_int_equal(r->type, SG_SMPP_EV_RESPONSE);
  assert_int_equal(r->command_id, SG_SMPP_GENERIC_NACK);
  assert_int_equal(r->command_status, SG_SMPP_ESME_RTHROTTLED);
  assert_int_equal(r->req_cmd, SG_SMPP_SUBMIT_SM);
  assert_ptr_equal(r->ctx, &ctx);
  assert_int_equal(sg_smpp_session_in_flight(esme.s), 0);
  peer_close(&esme);
  peer_close(&smsc);
}

static void unknown_and_mismatched_responses(void **state) {
  (void)state;
  peer_t esme, smsc;
  sg_smpp_session_config_t cfg = test_config();
  bound_pair(&esme, &smsc, SG_SMPP_BIND_TX, &cfg);
  sg_smpp_pdu_t pdu;
  submit_init(&pdu, "u");
  assert_int_equal(sg_smpp_session_send_request(esme.s, &pdu, NULL, 0), 2);
  /* no request 999 */
  feed_hex(&esme, "00000011 80000004 00000000 000003E7 00", 1);
  assert_int_equal(last_event(&esme)->type, SG_SMPP_EV_UNKNOWN_RESPONSE);
  assert_int_equal(last_event(&esme)->seq, 999);
  /* seq 2 is a submit_sm: a deliver_sm_resp does not answer it */
  feed_hex(&esme, "00000011 80000005 00000000 00000002 00", 1);
  assert_int_equal(last_event(&esme)->type, SG_SMPP_EV_UNKNOWN_RESPONSE);
  assert_int_equal(sg_smpp_session_in_flight(esme.s), 1);
  sg_smpp_session_stats_t st;
  sg_smpp_session_stats(esme.s, &st);
  assert_int_equal(st.unknown_responses, 2);
  /* a response whose body is bad still settles its request */
  feed_hex(&esme, "00000012 80000004 00000000 00000002 4142", 1);
  assert_int_equal(esme.ev[esme.n - 2].type, SG_SMPP_EV_PROTOCOL_ERROR);
  const rec_ev_t *r = last_event(&esme);
  assert_int_equal(r->type, SG_SMPP_EV_RESPONSE);
  assert_int_equal(r->error, SG_EPROTO);
  assert_false(r->has_pdu);
  assert_int_equal(sg_smpp_session_in_flight(esme.s), 0);
  sg_smpp_pdu_t out[2];
  assert_int_equal(drain(&esme, out, 2), 1); /* the submit_sm */
  assert_int_equal(out[0].command_id, SG_SMPP_SUBMIT_SM);
  assert_int_equal(out[0].sequence_number, 2);
  peer_close(&esme);
  peer_close(&smsc);
}

/* ---- Timers
 * ------------------------------------------------------------------ */

static void response_timeout_and_late_response(void **state) {
  (void)state;
  peer_t esme, smsc;
  sg_smpp_session_config_t cfg = test_config();
  cfg.response_timeout_ms = 1000;
  cfg.window = 2;
  bound_pair(&esme, &smsc, SG_SMPP_BIND_TX, &cfg);
  smsc.manual_bind = true;
  sg_smpp_pdu_t pdu;
  submit_init(&pdu, "t");
  int a, b;
  assert_int_equal(sg_smpp_session_send_request(esme.s, &pdu, &a, 100), 2);
  assert_int_equal(sg_smpp_session_send_request(esme.s, &pdu, &b, 300), 3);
  assert_int_equal(sg_smpp_session_next_deadline(esme.s), 1100);
  pump(&esme, &smsc, 300);
  assert_int_equal(sg_smpp_session_tick(esme.s, 1099), 0);
  assert_int_equal(count_events(&esme, SG_SMPP_EV_NO_RESPONSE), 0);
  assert_int_equal(sg_smpp_session_tick(esme.s, 1100), 0);
  const rec_ev_t *r = last_event(&esme);
  assert_int_equal(r->type, SG_SMPP_EV_NO_RESPONSE);
  assert_int_equal(r->error, SG_ETIMEDOUT);
  assert_ptr_equal(r->ctx, &a);
  assert_int_equal(r->seq, 2);
  assert_int_equal(r->req_cmd, SG_SMPP_SUBMIT_SM);
  assert_int_equal(sg_smpp_session_window_free(esme.s), 1);
  assert_int_equal(sg_smpp_session_next_deadline(esme.s), 1300);
  /* the peer answers both: 2 is late, 3 is in time */
  sg_smpp_session_respond_status(smsc.s, SG_SMPP_SUBMIT_SM, 2, 0);
  sg_smpp_session_respond_status(smsc.s, SG_SMPP_SUBMIT_SM, 3,
                                 SG_SMPP_ESME_RSUBMITFAIL);
  pump(&esme, &smsc, 1200);
  r = find_event(&esme, SG_SMPP_EV_LATE_RESPONSE, 0);
  assert_ptr_equal(r->ctx, &a);
  assert_int_equal(r->seq, 2);
  r = find_event(&esme, SG_SMPP_EV_RESPONSE, 0);
  assert_ptr_equal(r->ctx, &b);
  assert_int_equal(r->command_status, SG_SMPP_ESME_RSUBMITFAIL);
  assert_int_equal(count_events(&esme, SG_SMPP_EV_RESPONSE), 1);
  /* the same late answer again matches nothing */
  feed_hex(&esme, "00000011 80000004 00000000 00000002 00", 1300);
  assert_int_equal(last_event(&esme)->type, SG_SMPP_EV_UNKNOWN_RESPONSE);
  assert_int_equal(sg_smpp_session_next_deadline(esme.s), SG_SMPP_NO_DEADLINE);
  sg_smpp_session_stats_t st;
  sg_smpp_session_stats(esme.s, &st);
  assert_int_equal(st.timeouts, 1);
  assert_int_equal(st.late_responses, 1);
  assert_int_equal(st.unknown_responses, 1);
  peer_close(&esme);
  peer_close(&smsc);
}

static void enquire_link_idle_and_dead_peer(void **state) {
  (void)state;
  peer_t esme, smsc;
  sg_smpp_session_config_t cfg = test_config();
  cfg.enquire_link_interval_ms = 1000;
  cfg.enquire_link_timeout_ms = 500;
  bound_pair(&esme, &smsc, SG_SMPP_BIND_TRX, &cfg);
  assert_int_equal(sg_smpp_session_next_deadline(esme.s), 1000);
  assert_int_equal(sg_smpp_session_tick(esme.s, 999), 0);
  assert_int_equal(sg_smpp_session_output_pending(esme.s), 0);
  assert_int_equal(sg_smpp_session_tick(esme.s, 1000), 0);
  uint8_t got[64], want[64];
  size_t gn = drain_raw(&esme, got, sizeof got);
  size_t wn = unhex("00000010 00000015 00000000 00000002", want, sizeof want);
  assert_int_equal(gn, wn);
  assert_memory_equal(got, want, wn);
  assert_int_equal(sg_smpp_session_next_deadline(esme.s), 1500);
  /* the SMSC answers; its idle timer restarted when the PDU arrived */
  assert_int_equal(sg_smpp_session_input(smsc.s, got, gn, 1010), 0);
  gn = drain_raw(&smsc, got, sizeof got);
  wn = unhex("00000010 80000015 00000000 00000002", want, sizeof want);
  assert_int_equal(gn, wn);
  assert_memory_equal(got, want, wn);
  assert_int_equal(sg_smpp_session_next_deadline(smsc.s), 2010);
  assert_int_equal(sg_smpp_session_input(esme.s, got, gn, 1020), 0);
  assert_int_equal(sg_smpp_session_next_deadline(esme.s), 2020);
  assert_int_equal(esme.n, 1); /* BOUND only: no event for enquire_link */
  /* now the SMSC is gone: nothing comes back */
  assert_int_equal(sg_smpp_session_tick(esme.s, 2020), 0);
  assert_int_equal(drain_raw(&esme, got, sizeof got), 16);
  assert_int_equal(sg_smpp_session_tick(esme.s, 2519), 0);
  assert_int_equal(sg_smpp_session_state(esme.s), SG_SMPP_STATE_BOUND_TRX);
  assert_int_equal(sg_smpp_session_tick(esme.s, 2520), 0);
  assert_int_equal(esme.ev[1].type, SG_SMPP_EV_DEAD_PEER);
  assert_int_equal(esme.ev[2].type, SG_SMPP_EV_CLOSED);
  assert_int_equal(esme.ev[2].error, SG_ETIMEDOUT);
  sg_smpp_session_stats_t st;
  sg_smpp_session_stats(esme.s, &st);
  assert_int_equal(st.enquire_links_out, 2);
  peer_close(&esme);
  peer_close(&smsc);
}

static void enquire_link_traffic_is_life(void **state) {
  (void)state;
  peer_t esme, smsc;
  sg_smpp_session_config_t cfg = test_config();
  cfg.enquire_link_interval_ms = 1000;
  cfg.enquire_link_timeout_ms = 500;
  bound_pair(&esme, &smsc, SG_SMPP_BIND_TRX, &cfg);
  assert_int_equal(sg_smpp_session_tick(esme.s, 1000), 0);
  uint8_t got[64];
  assert_int_equal(drain_raw(&esme, got, sizeof got), 16);
  /* the peer ignores the enquire_link but sends a deliver_sm */
  sg_smpp_pdu_t pdu;
  submit_init(&pdu, "mo");
  pdu.command_id = SG_SMPP_DELIVER_SM;
  pdu.sequence_number = 40;
  feed_pdu(&esme, &pdu, 1200);
  assert_int_equal(sg_smpp_session_tick(esme.s, 1500), 0);
  assert_int_equal(sg_smpp_session_state(esme.s), SG_SMPP_STATE_BOUND_TRX);
  assert_int_equal(count_events(&esme, SG_SMPP_EV_DEAD_PEER), 0);
  assert_int_equal(sg_smpp_session_next_deadline(esme.s), 2200);
  peer_close(&esme);
  peer_close(&smsc);
}

/* A peer found alive at the dead-peer check, on a link whose interval is
 * shorter than the timeout: the next enquire_link goes in the same tick,
 * so that no deadline is left in the past. */
static void enquire_link_short_interval(void **state) {
  (void)state;
  peer_t esme, smsc;
  sg_smpp_session_config_t cfg = test_config();
  cfg.enquire_link_interval_ms = 10;
  cfg.enquire_link_timeout_ms = 1000;
  bound_pair(&esme, &smsc, SG_SMPP_BIND_TX, &cfg);
  assert_int_equal(sg_smpp_session_tick(esme.s, 10), 0);
  uint8_t got[64];
  assert_int_equal(drain_raw(&esme, got, sizeof got), 16);
  feed_hex(&esme, "00000011 80000004 00000000 00000063 00", 20);
  assert_int_equal(sg_smpp_session_next_deadline(esme.s), 1010);
  assert_int_equal(sg_smpp_session_tick(esme.s, 1010), 0);
  assert_int_equal(sg_smpp_session_next_deadline(esme.s), 2010);
  assert_int_equal(drain_raw(&esme, got, sizeof got), 16);
  assert_int_equal(got[15], 3); /* a new enquire_link, sequence_number 3 */
  assert_int_equal(sg_smpp_session_state(esme.s), SG_SMPP_STATE_BOUND_TX);
  peer_close(&esme);
  peer_close(&smsc);
}

static void enquire_link_answered_in_any_live_state(void **state) {
  (void)state;
  peer_t smsc;
  sg_smpp_session_config_t cfg = test_config();
  peer_open(&smsc, SG_SMPP_ROLE_SMSC, &cfg, 0);
  feed_hex(&smsc, "00000010 00000015 00000000 0000002A", 0);
  uint8_t got[64], want[64];
  size_t gn = drain_raw(&smsc, got, sizeof got);
  size_t wn = unhex("00000010 80000015 00000000 0000002A", want, sizeof want);
  assert_int_equal(gn, wn);
  assert_memory_equal(got, want, wn);
  assert_int_equal(smsc.n, 0);
  peer_close(&smsc);
}

/* ---- Unbind and close
 * -------------------------------------------------------- */

static void unbind_from_esme(void **state) {
  (void)state;
  peer_t esme, smsc;
  sg_smpp_session_config_t cfg = test_config();
  bound_pair(&esme, &smsc, SG_SMPP_BIND_TRX, &cfg);
  sg_smpp_pdu_t pdu;
  submit_init(&pdu, "u");
  int ctx;
  assert_int_equal(sg_smpp_session_send_request(esme.s, &pdu, &ctx, 0), 2);
  assert_int_equal(sg_smpp_session_unbind(esme.s, 0), 0);
  assert_int_equal(sg_smpp_session_state(esme.s), SG_SMPP_STATE_UNBINDING);
  assert_int_equal(sg_smpp_session_send_request(esme.s, &pdu, NULL, 0),
                   SG_ESTATE);
  assert_int_equal(sg_smpp_session_unbind(esme.s, 0), SG_ESTATE);
  smsc.manual_bind = true;
  pump(&esme, &smsc, 1);
  /* the SMSC answered the unbind and closed without answering the submit */
  const rec_ev_t *e = find_event(&smsc, SG_SMPP_EV_UNBOUND, 0);
  assert_int_equal(e->command_id, SG_SMPP_UNBIND);
  assert_int_equal(last_event(&smsc)->type, SG_SMPP_EV_CLOSED);
  assert_int_equal(last_event(&smsc)->error, 0);
  assert_int_equal(sg_smpp_session_state(smsc.s), SG_SMPP_STATE_CLOSED);
  int n = esme.n;
  assert_int_equal(esme.ev[n - 3].type, SG_SMPP_EV_UNBOUND);
  assert_int_equal(esme.ev[n - 3].command_id, SG_SMPP_UNBIND_RESP);
  assert_int_equal(esme.ev[n - 2].type, SG_SMPP_EV_NO_RESPONSE);
  assert_int_equal(esme.ev[n - 2].error, SG_ECLOSED);
  assert_ptr_equal(esme.ev[n - 2].ctx, &ctx);
  assert_int_equal(esme.ev[n - 1].type, SG_SMPP_EV_CLOSED);
  assert_int_equal(esme.ev[n - 1].error, 0);
  assert_int_equal(sg_smpp_session_input(esme.s, (const uint8_t *)"x", 1, 2),
                   SG_ESTATE);
  peer_close(&esme);
  peer_close(&smsc);
}

static void unbind_from_smsc(void **state) {
  (void)state;
  peer_t esme, smsc;
  sg_smpp_session_config_t cfg = test_config();
  bound_pair(&esme, &smsc, SG_SMPP_BIND_RX, &cfg);
  assert_int_equal(sg_smpp_session_unbind(smsc.s, 0), 0);
  pump(&esme, &smsc, 0);
  assert_int_equal(find_event(&esme, SG_SMPP_EV_UNBOUND, 0)->command_id,
                   SG_SMPP_UNBIND);
  assert_int_equal(find_event(&smsc, SG_SMPP_EV_UNBOUND, 0)->command_id,
                   SG_SMPP_UNBIND_RESP);
  assert_int_equal(sg_smpp_session_state(esme.s), SG_SMPP_STATE_CLOSED);
  assert_int_equal(sg_smpp_session_state(smsc.s), SG_SMPP_STATE_CLOSED);
  assert_int_equal(count_events(&esme, SG_SMPP_EV_CLOSED), 1);
  assert_int_equal(count_events(&smsc, SG_SMPP_EV_CLOSED), 1);
  peer_close(&esme);
  peer_close(&smsc);
}

/* An SMSC may unbind with our submit in flight and answer it right after
 * its unbind: the answer must still be matched (else the owner resends a
 * message the SMSC took), and the session closes once nothing is left. */
static void unbind_from_smsc_with_request_in_flight(void **state) {
  (void)state;
  peer_t esme, smsc;
  sg_smpp_session_config_t cfg = test_config();
  cfg.response_timeout_ms = 700;
  bound_pair(&esme, &smsc, SG_SMPP_BIND_TRX, &cfg);
  sg_smpp_pdu_t pdu;
  submit_init(&pdu, "u1");
  int ctx1, ctx2;
  long seq1 = sg_smpp_session_send_request(esme.s, &pdu, &ctx1, 0);
  submit_init(&pdu, "u2");
  long seq2 = sg_smpp_session_send_request(esme.s, &pdu, &ctx2, 0);
  assert_true(seq1 > 0 && seq2 > 0);
  pump(&esme, &smsc, 0); /* the SMSC has both, answers neither yet */
  assert_int_equal(count_events(&smsc, SG_SMPP_EV_REQUEST), 2);
  assert_int_equal(sg_smpp_session_unbind(smsc.s, 0), 0);
  sg_smpp_pdu_t resp;
  sg_smpp_pdu_init(&resp, SG_SMPP_SUBMIT_SM_RESP, (uint32_t)seq1);
  snprintf(resp.body.submit_sm_resp.message_id,
           sizeof resp.body.submit_sm_resp.message_id, "M1");
  assert_int_equal(sg_smpp_session_respond(smsc.s, &resp), 0);
  pump(&esme, &smsc, 10);
  /* the ESME answered the unbind, matched the late answer, and waits for
   * the other one */
  assert_int_equal(find_event(&esme, SG_SMPP_EV_UNBOUND, 0)->command_id,
                   SG_SMPP_UNBIND);
  const rec_ev_t *r = find_event(&esme, SG_SMPP_EV_RESPONSE, 0);
  assert_ptr_equal(r->ctx, &ctx1);
  assert_string_equal(r->text, "M1");
  assert_int_equal(sg_smpp_session_state(esme.s), SG_SMPP_STATE_UNBINDING);
  assert_int_equal(sg_smpp_session_send_request(esme.s, &pdu, NULL, 10),
                   SG_ESTATE);
  /* the second never comes: at the response timeout it is reported
   * without response and the session closes */
  assert_int_equal(sg_smpp_session_tick(esme.s, 10 + 700), 0);
  const rec_ev_t *nr = find_event(&esme, SG_SMPP_EV_NO_RESPONSE, 0);
  assert_ptr_equal(nr->ctx, &ctx2);
  assert_int_equal(last_event(&esme)->type, SG_SMPP_EV_CLOSED);
  assert_int_equal(sg_smpp_session_state(esme.s), SG_SMPP_STATE_CLOSED);
  assert_int_equal(count_events(&esme, SG_SMPP_EV_CLOSED), 1);
  peer_close(&esme);
  peer_close(&smsc);
}

static void unbind_timeout(void **state) {
  (void)state;
  peer_t esme, smsc;
  sg_smpp_session_config_t cfg = test_config();
  cfg.response_timeout_ms = 700;
  bound_pair(&esme, &smsc, SG_SMPP_BIND_TX, &cfg);
  assert_int_equal(sg_smpp_session_unbind(esme.s, 50), 0);
  assert_int_equal(sg_smpp_session_next_deadline(esme.s), 750);
  assert_int_equal(sg_smpp_session_tick(esme.s, 750), 0);
  assert_int_equal(last_event(&esme)->type, SG_SMPP_EV_CLOSED);
  assert_int_equal(last_event(&esme)->error, SG_ETIMEDOUT);
  peer_close(&esme);
  peer_close(&smsc);
}

static void unbind_before_bind_rejected(void **state) {
  (void)state;
  peer_t smsc;
  sg_smpp_session_config_t cfg = test_config();
  peer_open(&smsc, SG_SMPP_ROLE_SMSC, &cfg, 0);
  assert_int_equal(sg_smpp_session_unbind(smsc.s, 0), SG_ESTATE);
  feed_hex(&smsc, "00000010 00000006 00000000 00000003", 0);
  sg_smpp_pdu_t out[2];
  assert_int_equal(drain(&smsc, out, 2), 1);
  assert_int_equal(out[0].command_id, SG_SMPP_UNBIND_RESP);
  assert_int_equal(out[0].command_status, SG_SMPP_ESME_RINVBNDSTS);
  assert_int_equal(sg_smpp_session_state(smsc.s), SG_SMPP_STATE_OPEN);
  peer_close(&smsc);
}

static void close_reports_in_flight(void **state) {
  (void)state;
  peer_t esme, smsc;
  sg_smpp_session_config_t cfg = test_config();
  bound_pair(&esme, &smsc, SG_SMPP_BIND_TX, &cfg);
  sg_smpp_pdu_t pdu;
  submit_init(&pdu, "c");
  int ctx[3];
  for (int i = 0; i < 3; i++)
    assert_true(sg_smpp_session_send_request(esme.s, &pdu, &ctx[i], 0) > 0);
  int n0 = esme.n;
  sg_smpp_session_close(esme.s, SG_EIO);
  assert_int_equal(esme.n, n0 + 4);
  for (int i = 0; i < 3; i++) {
    assert_int_equal(esme.ev[n0 + i].type, SG_SMPP_EV_NO_RESPONSE);
    assert_int_equal(esme.ev[n0 + i].error, SG_ECLOSED);
    assert_ptr_equal(esme.ev[n0 + i].ctx, &ctx[i]);
  }
  assert_int_equal(esme.ev[n0 + 3].type, SG_SMPP_EV_CLOSED);
  assert_int_equal(esme.ev[n0 + 3].error, SG_EIO);
  sg_smpp_session_close(esme.s, SG_EIO); /* no-op */
  assert_int_equal(esme.n, n0 + 4);
  assert_int_equal(sg_smpp_session_in_flight(esme.s), 0);
  /* output produced before the close is still there */
  assert_int_equal(sg_smpp_session_output_pending(esme.s),
                   3 * (size_t)sg_smpp_pdu_size(&pdu));
  peer_close(&esme);
  peer_close(&smsc);
}

/* ---- Sequence numbers
 * -------------------------------------------------------- */

static void sequence_wrap(void **state) {
  (void)state;
  peer_t esme, smsc;
  sg_smpp_session_config_t cfg = test_config();
  cfg.first_sequence = 0x7FFFFFFE;
  peer_open(&esme, SG_SMPP_ROLE_ESME, &cfg, 0);
  peer_open(&smsc, SG_SMPP_ROLE_SMSC, NULL, 0);
  assert_int_equal(
      sg_smpp_session_bind(esme.s, SG_SMPP_BIND_TX, &bind_params, 0), 0);
  pump(&esme, &smsc, 0);
  assert_int_equal(find_event(&smsc, SG_SMPP_EV_BIND_REQUEST, 0)->seq,
                   0x7FFFFFFE);
  smsc.auto_respond = true;
  sg_smpp_pdu_t pdu;
  submit_init(&pdu, "s");
  int ctx[3];
  assert_int_equal(sg_smpp_session_send_request(esme.s, &pdu, &ctx[0], 0),
                   0x7FFFFFFF);
  assert_int_equal(sg_smpp_session_send_request(esme.s, &pdu, &ctx[1], 0), 1);
  assert_int_equal(sg_smpp_session_send_request(esme.s, &pdu, &ctx[2], 0), 2);
  pump(&esme, &smsc, 1);
  for (int i = 0; i < 3; i++) {
    const rec_ev_t *r = find_event(&esme, SG_SMPP_EV_RESPONSE, i);
    assert_ptr_equal(r->ctx, &ctx[i]);
  }
  assert_string_equal(find_event(&esme, SG_SMPP_EV_RESPONSE, 0)->text,
                      "M2147483647");
  peer_close(&esme);
  peer_close(&smsc);
  cfg.first_sequence = 0x80000000u;
  sg_smpp_session_t *s;
  assert_int_equal(
      sg_smpp_session_new(SG_SMPP_ROLE_ESME, &cfg, on_event, NULL, 0, &s),
      SG_EINVAL);
}

static void sequence_skips_busy_slot(void **state) {
  (void)state;
  peer_t esme, smsc;
  sg_smpp_session_config_t cfg = test_config();
  cfg.window = 2; /* 64 slots */
  bound_pair(&esme, &smsc, SG_SMPP_BIND_TX, &cfg);
  sg_smpp_pdu_t pdu;
  submit_init(&pdu, "k");
  int stuck;
  assert_int_equal(sg_smpp_session_send_request(esme.s, &pdu, &stuck, 0), 2);
  /* 62 more requests, each answered: 3..64, then 65 maps to slot 1, 66
   * would map to slot 2 (busy with request 2) and is skipped. */
  for (uint32_t seq = 3; seq <= 65; seq++) {
    assert_int_equal(sg_smpp_session_send_request(esme.s, &pdu, NULL, 0), seq);
    char hex[64];
    snprintf(hex, sizeof hex, "00000011 80000004 00000000 %08X 00",
             (unsigned)seq);
    feed_hex(&esme, hex, 0);
    assert_int_equal(last_event(&esme)->type, SG_SMPP_EV_RESPONSE);
  }
  assert_int_equal(sg_smpp_session_send_request(esme.s, &pdu, NULL, 0), 67);
  feed_hex(&esme, "00000011 80000004 00000000 00000002 00", 0);
  assert_ptr_equal(last_event(&esme)->ctx, &stuck);
  peer_close(&esme);
  peer_close(&smsc);
}

/* ---- Wrong state, garbage
 * ------------------------------------------------------ */

static void submit_before_bind(void **state) {
  (void)state;
  peer_t esme, smsc;
  sg_smpp_session_config_t cfg = test_config();
  peer_open(&esme, SG_SMPP_ROLE_ESME, &cfg, 0);
  peer_open(&smsc, SG_SMPP_ROLE_SMSC, &cfg, 0);
  sg_smpp_pdu_t pdu;
  submit_init(&pdu, "early");
  assert_int_equal(sg_smpp_session_send_request(esme.s, &pdu, NULL, 0),
                   SG_ESTATE);
  assert_false(sg_smpp_session_can_send(esme.s, SG_SMPP_SUBMIT_SM));
  pdu.sequence_number = 7;
  feed_pdu(&smsc, &pdu, 0);
  uint8_t got[64], want[64];
  size_t gn = drain_raw(&smsc, got, sizeof got);
  size_t wn = unhex("00000010 80000004 00000004 00000007", want, sizeof want);
  assert_int_equal(gn, wn);
  assert_memory_equal(got, want, wn);
  assert_int_equal(smsc.n, 1);
  assert_int_equal(smsc.ev[0].type, SG_SMPP_EV_PROTOCOL_ERROR);
  assert_int_equal(smsc.ev[0].command_status, SG_SMPP_ESME_RINVBNDSTS);
  assert_true(smsc.ev[0].has_pdu);
  assert_int_equal(count_events(&smsc, SG_SMPP_EV_REQUEST), 0);
  /* session-owned PDUs cannot be sent as requests */
  sg_smpp_pdu_init(&pdu, SG_SMPP_UNBIND, 0);
  assert_int_equal(sg_smpp_session_send_request(esme.s, &pdu, NULL, 0),
                   SG_EINVAL);
  sg_smpp_pdu_init(&pdu, SG_SMPP_SUBMIT_SM_RESP, 0);
  assert_int_equal(sg_smpp_session_send_request(esme.s, &pdu, NULL, 0),
                   SG_EINVAL);
  peer_close(&esme);
  peer_close(&smsc);
}

static void deliver_sm_on_transmitter_rejected(void **state) {
  (void)state;
  peer_t esme, smsc;
  sg_smpp_session_config_t cfg = test_config();
  bound_pair(&esme, &smsc, SG_SMPP_BIND_TX, &cfg);
  sg_smpp_pdu_t pdu;
  submit_init(&pdu, "dlr");
  pdu.command_id = SG_SMPP_DELIVER_SM;
  assert_int_equal(sg_smpp_session_send_request(smsc.s, &pdu, NULL, 0),
                   SG_ESTATE);
  pdu.sequence_number = 0x1234;
  feed_pdu(&esme, &pdu, 0);
  sg_smpp_pdu_t out[2];
  assert_int_equal(drain(&esme, out, 2), 1);
  assert_int_equal(out[0].command_id, SG_SMPP_DELIVER_SM_RESP);
  assert_int_equal(out[0].command_status, SG_SMPP_ESME_RINVBNDSTS);
  assert_int_equal(out[0].sequence_number, 0x1234);
  assert_true(out[0].body_omitted);
  assert_int_equal(count_events(&esme, SG_SMPP_EV_REQUEST), 0);
  /* and submit_sm sent to an ESME is wrong whatever the state */
  submit_init(&pdu, "x");
  pdu.sequence_number = 5;
  feed_pdu(&esme, &pdu, 0);
  assert_int_equal(drain(&esme, out, 2), 1);
  assert_int_equal(out[0].command_status, SG_SMPP_ESME_RINVBNDSTS);
  sg_smpp_session_stats_t st;
  sg_smpp_session_stats(esme.s, &st);
  assert_int_equal(st.rejected_in, 2);
  peer_close(&esme);
  peer_close(&smsc);
}

static void garbage_generic_nack(void **state) {
  (void)state;
  peer_t smsc;
  sg_smpp_session_config_t cfg = test_config();
  peer_open(&smsc, SG_SMPP_ROLE_SMSC, &cfg, 0);
  /* unknown command_id 0x00000099: generic_nack ESME_RINVCMDID, same seq */
  feed_hex(&smsc, "00000014 00000099 00000000 00000011 DEADBEEF", 0);
  uint8_t got[64], want[64];
  size_t gn = drain_raw(&smsc, got, sizeof got);
  size_t wn = unhex("00000010 80000000 00000003 00000011", want, sizeof want);
  assert_int_equal(gn, wn);
  assert_memory_equal(got, want, wn);
  const rec_ev_t *e = last_event(&smsc);
  assert_int_equal(e->type, SG_SMPP_EV_PROTOCOL_ERROR);
  assert_int_equal(e->command_status, SG_SMPP_ESME_RINVCMDID);
  assert_int_equal(e->command_id, 0x99);
  assert_int_equal(sg_smpp_session_state(smsc.s), SG_SMPP_STATE_OPEN);
  /* a bind whose system_id runs past its 16 octets: bind_transmitter_resp
   * with the field's own status */
  feed_hex(&smsc,
           "0000002B 00000002 00000000 00000012"
           "414141414141414141414141414141414141414100 00 00 34 00 00 00",
           0);
  sg_smpp_pdu_t out[2];
  assert_int_equal(drain(&smsc, out, 2), 1);
  assert_int_equal(out[0].command_id, SG_SMPP_BIND_TRANSMITTER_RESP);
  assert_int_equal(out[0].command_status, SG_SMPP_ESME_RINVSYSID);
  assert_int_equal(out[0].sequence_number, 0x12);
  assert_int_equal(sg_smpp_session_state(smsc.s), SG_SMPP_STATE_OPEN);
  /* enquire_link with octets after its header: its own response with
   * ESME_RINVCMDLEN (a known request whose body is wrong) */
  feed_hex(&smsc, "00000014 00000015 00000000 00000031 00000000", 0);
  gn = drain_raw(&smsc, got, sizeof got);
  wn = unhex("00000010 80000015 00000002 00000031", want, sizeof want);
  assert_int_equal(gn, wn);
  assert_memory_equal(got, want, wn);
  assert_int_equal(last_event(&smsc)->command_status, SG_SMPP_ESME_RINVCMDLEN);
  /* a malformed response gets nothing back */
  feed_hex(&smsc, "00000012 80000004 00000000 00000013 4142", 0);
  assert_int_equal(drain(&smsc, out, 2), 0);
  assert_int_equal(last_event(&smsc)->type, SG_SMPP_EV_UNKNOWN_RESPONSE);
  sg_smpp_session_stats_t st;
  sg_smpp_session_stats(smsc.s, &st);
  assert_int_equal(st.generic_nacks_out, 1);
  assert_int_equal(st.rejected_in, 3);
  peer_close(&smsc);
}

static void bad_command_length_closes(void **state) {
  (void)state;
  static const char *const cases[] = {
      "00000008 00000004 00000000 00000021", /* below 16 */
      "00010001 00000004 00000000 00000021", /* above 65536 */
      "FFFFFFFF 00000004 00000000 00000021",
  };
  for (size_t i = 0; i < 3; i++) {
    peer_t smsc;
    sg_smpp_session_config_t cfg = test_config();
    peer_open(&smsc, SG_SMPP_ROLE_SMSC, &cfg, 0);
    feed_hex(&smsc, cases[i], 0);
    uint8_t got[64], want[64];
    size_t gn = drain_raw(&smsc, got, sizeof got);
    size_t wn = unhex("00000010 80000000 00000002 00000021", want, sizeof want);
    assert_int_equal(gn, wn);
    assert_memory_equal(got, want, wn);
    assert_int_equal(smsc.n, 2);
    assert_int_equal(smsc.ev[0].type, SG_SMPP_EV_PROTOCOL_ERROR);
    assert_int_equal(smsc.ev[0].error, SG_ERANGE);
    assert_int_equal(smsc.ev[1].type, SG_SMPP_EV_CLOSED);
    assert_int_equal(smsc.ev[1].error, SG_ERANGE);
    assert_int_equal(sg_smpp_session_state(smsc.s), SG_SMPP_STATE_CLOSED);
    peer_close(&smsc);
  }
  /* a smaller configured maximum, and a length seen before the rest */
  peer_t smsc;
  sg_smpp_session_config_t cfg = test_config();
  cfg.max_pdu_len = 64;
  peer_open(&smsc, SG_SMPP_ROLE_SMSC, &cfg, 0);
  feed_hex(&smsc, "0000", 0);
  assert_int_equal(smsc.n, 0);
  feed_hex(&smsc, "0041", 0);
  assert_int_equal(last_event(&smsc)->type, SG_SMPP_EV_CLOSED);
  uint8_t got[64], want[64];
  size_t gn = drain_raw(&smsc, got, sizeof got);
  size_t wn = unhex("00000010 80000000 00000002 00000000", want, sizeof want);
  assert_int_equal(gn, wn);
  assert_memory_equal(got, want, wn);
  peer_close(&smsc);
}

/* ---- Splitting, re-entrancy, output
 * ---------------------------------------------- */

/* One scenario run over a link that delivers `chunk` octets per input
 * call; returns the event log of both ends. */
static void split_scenario(size_t chunk, peer_t *esme, peer_t *smsc) {
  sg_smpp_session_config_t cfg = test_config();
  peer_open(esme, SG_SMPP_ROLE_ESME, &cfg, 0);
  peer_open(smsc, SG_SMPP_ROLE_SMSC, &cfg, 0);
  smsc->auto_respond = true;
  esme->auto_respond = true;
  assert_int_equal(
      sg_smpp_session_bind(esme->s, SG_SMPP_BIND_TRX, &bind_params, 0), 0);
  pump_chunked(esme, smsc, 0, chunk);
  sg_smpp_pdu_t pdu;
  for (int i = 0; i < 4; i++) {
    submit_init(&pdu, i % 2 ? "split" : "a much longer message text");
    if (i == 2)
      sg_smpp_tlv_set_bytes(&pdu, 0x1403, "vendor", 6);
    assert_true(sg_smpp_session_send_request(esme->s, &pdu, NULL, 1) > 0);
    pdu.command_id = SG_SMPP_DELIVER_SM;
    assert_true(sg_smpp_session_send_request(smsc->s, &pdu, NULL, 1) > 0);
  }
  pump_chunked(esme, smsc, 1, chunk);
  assert_int_equal(sg_smpp_session_unbind(esme->s, 2), 0);
  pump_chunked(esme, smsc, 2, chunk);
}

static void input_split_at_every_byte(void **state) {
  (void)state;
  static peer_t e1, s1, e2, s2;
  split_scenario(SIZE_MAX, &e1, &s1);
  assert_int_equal(count_events(&e1, SG_SMPP_EV_RESPONSE), 4);
  assert_int_equal(count_events(&s1, SG_SMPP_EV_RESPONSE), 4);
  assert_int_equal(count_events(&e1, SG_SMPP_EV_CLOSED), 1);
  for (size_t chunk = 1; chunk <= 17; chunk++) {
    split_scenario(chunk, &e2, &s2);
    assert_int_equal(e1.n, e2.n);
    assert_int_equal(s1.n, s2.n);
    assert_memory_equal(e1.ev, e2.ev, sizeof e1.ev[0] * (size_t)e1.n);
    assert_memory_equal(s1.ev, s2.ev, sizeof s1.ev[0] * (size_t)s1.n);
    peer_close(&e2);
    peer_close(&s2);
  }
  peer_close(&e1);
  peer_close(&s1);
}

static void free_and_close_from_callback(void **state) {
  (void)state;
  peer_t esme, smsc;
  sg_smpp_session_config_t cfg = test_config();
  bound_pair(&esme, &smsc, SG_SMPP_BIND_TRX, &cfg);
  sg_smpp_pdu_t pdu;
  submit_init(&pdu, "f");
  for (int i = 0; i < 3; i++)
    assert_true(sg_smpp_session_send_request(esme.s, &pdu, NULL, 0) > 0);
  smsc.auto_respond = true;
  esme.free_on = SG_SMPP_EV_RESPONSE; /* frees at the first response */
  pump(&esme, &smsc, 0);
  assert_true(esme.freed);
  assert_int_equal(count_events(&esme, SG_SMPP_EV_RESPONSE), 1);
  assert_int_equal(last_event(&esme)->type, SG_SMPP_EV_RESPONSE);
  peer_close(&smsc);

  bound_pair(&esme, &smsc, SG_SMPP_BIND_TRX, &cfg);
  for (int i = 0; i < 3; i++)
    assert_true(sg_smpp_session_send_request(esme.s, &pdu, NULL, 0) > 0);
  smsc.auto_respond = true;
  esme.close_on = SG_SMPP_EV_RESPONSE;
  pump(&esme, &smsc, 0);
  /* one RESPONSE, the other two abandoned by the close, then CLOSED */
  assert_int_equal(count_events(&esme, SG_SMPP_EV_RESPONSE), 1);
  assert_int_equal(count_events(&esme, SG_SMPP_EV_NO_RESPONSE), 2);
  assert_int_equal(last_event(&esme)->type, SG_SMPP_EV_CLOSED);
  assert_int_equal(last_event(&esme)->error, SG_ECLOSED);
  peer_close(&esme);
  peer_close(&smsc);

  /* freed from the CLOSED event of a close the owner itself called */
  bound_pair(&esme, &smsc, SG_SMPP_BIND_TRX, &cfg);
  esme.free_on = SG_SMPP_EV_CLOSED;
  sg_smpp_session_close(esme.s, SG_ECLOSED);
  assert_true(esme.freed);
  peer_close(&smsc);
}

static void output_region_is_stable(void **state) {
  (void)state;
  peer_t esme, smsc;
  sg_smpp_session_config_t cfg = test_config();
  cfg.window = 1000;
  bound_pair(&esme, &smsc, SG_SMPP_BIND_TX, &cfg);
  sg_smpp_pdu_t pdu;
  submit_init(&pdu, "first");
  assert_int_equal(sg_smpp_session_send_request(esme.s, &pdu, NULL, 0), 2);
  const size_t sz = (size_t)sg_smpp_pdu_size(&pdu); /* 57 */
  const uint8_t *p;
  size_t n = sg_smpp_session_output(esme.s, &p);
  assert_int_equal(n, sz);
  assert_int_equal(sz, 57);
  uint8_t copy[57];
  memcpy(copy, p, n);
  /* lots more output while the first region is being "written" */
  for (int i = 0; i < 900; i++)
    assert_true(sg_smpp_session_send_request(esme.s, &pdu, NULL, 0) > 0);
  assert_memory_equal(p, copy, n);
  const uint8_t *again;
  assert_int_equal(sg_smpp_session_output(esme.s, &again), n);
  assert_ptr_equal(again, p);
  sg_smpp_session_consume(esme.s, 10); /* a partial write */
  assert_int_equal(sg_smpp_session_output(esme.s, &again), n - 10);
  assert_ptr_equal(again, p + 10);
  assert_int_equal(sg_smpp_session_output_pending(esme.s), sz - 10 + 900 * sz);
  sg_smpp_session_consume(esme.s, 1000); /* clamped */
  assert_int_equal(sg_smpp_session_output(esme.s, &again), 900 * sz);
  assert_int_equal(again[15], 3); /* the second request's sequence_number */
  sg_smpp_session_consume(esme.s, 900 * sz);
  assert_int_equal(sg_smpp_session_output(esme.s, &again), 0);
  assert_null(again);
  peer_close(&esme);
  peer_close(&smsc);
}

static void inbound_window_throttles(void **state) {
  (void)state;
  peer_t esme, smsc;
  sg_smpp_session_config_t cfg = test_config();
  cfg.inbound_window = 2;
  bound_pair(&esme, &smsc, SG_SMPP_BIND_TX, &cfg);
  smsc.manual_bind = true;
  sg_smpp_pdu_t pdu;
  submit_init(&pdu, "q");
  for (int i = 0; i < 3; i++)
    assert_true(sg_smpp_session_send_request(esme.s, &pdu, NULL, 0) > 0);
  pump(&esme, &smsc, 0);
  assert_int_equal(count_events(&smsc, SG_SMPP_EV_REQUEST), 2);
  const rec_ev_t *r = find_event(&esme, SG_SMPP_EV_RESPONSE, 0);
  assert_int_equal(r->seq, 4);
  assert_int_equal(r->command_status, SG_SMPP_ESME_RTHROTTLED);
  sg_smpp_session_stats_t st;
  sg_smpp_session_stats(smsc.s, &st);
  assert_int_equal(st.throttled_in, 1);
  peer_close(&esme);
  peer_close(&smsc);
}

static void bad_arguments_and_names(void **state) {
  (void)state;
  sg_smpp_session_t *s;
  sg_smpp_session_config_t cfg = test_config();
  cfg.window = 0;
  assert_int_equal(
      sg_smpp_session_new(SG_SMPP_ROLE_ESME, &cfg, on_event, NULL, 0, &s),
      SG_EINVAL);
  cfg.window = SG_SMPP_SESSION_WINDOW_MAX + 1;
  assert_int_equal(
      sg_smpp_session_new(SG_SMPP_ROLE_ESME, &cfg, on_event, NULL, 0, &s),
      SG_EINVAL);
  assert_int_equal(
      sg_smpp_session_new(SG_SMPP_ROLE_ESME, NULL, NULL, NULL, 0, &s),
      SG_EINVAL);
  sg_smpp_session_free(NULL);

  peer_t esme;
  peer_open(&esme, SG_SMPP_ROLE_ESME, NULL, 0);
  sg_smpp_bind_params_t long_id = {.system_id = "0123456789abcdef"};
  assert_int_equal(sg_smpp_session_bind(esme.s, SG_SMPP_BIND_TX, &long_id, 0),
                   SG_ETOOLONG);
  assert_int_equal(
      sg_smpp_session_bind(esme.s, SG_SMPP_BIND_NONE, &bind_params, 0),
      SG_EINVAL);
  assert_int_equal(sg_smpp_session_state(esme.s), SG_SMPP_STATE_OPEN);
  assert_int_equal(sg_smpp_session_output_pending(esme.s), 0);
  assert_int_equal(sg_smpp_session_accept_bind(esme.s, "x", 0), SG_ESTATE);
  assert_int_equal(
      sg_smpp_session_respond_status(esme.s, SG_SMPP_OUTBIND, 1, 0), SG_EINVAL);
  assert_int_equal(sg_smpp_session_role(esme.s), SG_SMPP_ROLE_ESME);
  peer_close(&esme);

  assert_string_equal(sg_smpp_state_name(SG_SMPP_STATE_BOUND_TRX), "BOUND_TRX");
  assert_string_equal(sg_smpp_state_name(SG_SMPP_STATE_OUTBOUND), "OUTBOUND");
  assert_string_equal(sg_smpp_event_name(SG_SMPP_EV_LATE_RESPONSE),
                      "LATE_RESPONSE");
  assert_string_equal(sg_smpp_event_name((sg_smpp_event_type_t)99), "UNKNOWN");
  assert_string_equal(sg_smpp_bind_type_name(SG_SMPP_BIND_RX), "bind_receiver");
  assert_int_equal(sg_smpp_bind_type_of(SG_SMPP_BIND_TRANSCEIVER_RESP),
                   SG_SMPP_BIND_TRX);
  assert_int_equal(sg_smpp_bind_command_id(SG_SMPP_BIND_TX),
                   SG_SMPP_BIND_TRANSMITTER);
}

static void allocation_failures(void **state) {
  (void)state;
  /* fail each allocation of a whole bound exchange in turn: every failure
   * is reported, never a crash or a leak (ASan checks the latter) */
  for (long k = 0; k < 12; k++) {
    sg_smpp_session_t *s = NULL;
    sg_alloc_fail_after(k);
    int rc =
        sg_smpp_session_new(SG_SMPP_ROLE_ESME, NULL, on_event, NULL, 0, &s);
    if (rc != 0) {
      sg_alloc_fail_after(-1);
      assert_int_equal(rc, SG_ENOMEM);
      continue;
    }
    rc = sg_smpp_session_bind(s, SG_SMPP_BIND_TX, &bind_params, 0);
    sg_alloc_fail_after(-1);
    assert_true(rc == 0 || rc == SG_ENOMEM);
    assert_int_equal(sg_smpp_session_state(s),
                     rc == 0 ? SG_SMPP_STATE_BINDING : SG_SMPP_STATE_OPEN);
    sg_smpp_session_free(s);
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(bind_golden_vectors),
      cmocka_unit_test(bind_each_type),
      cmocka_unit_test(bind_rejected),
      cmocka_unit_test(bind_rejected_by_generic_nack),
      cmocka_unit_test(bind_timeout),
      cmocka_unit_test(bind_decide_timeout),
      cmocka_unit_test(bind_decided_later),
      cmocka_unit_test(second_bind_already_bound),
      cmocka_unit_test(outbind),
      cmocka_unit_test(submit_response_matching),
      cmocka_unit_test(deliver_sm_to_receiver),
      cmocka_unit_test(window_full),
      cmocka_unit_test(generic_nack_fails_request),
      cmocka_unit_test(unknown_and_mismatched_responses),
      cmocka_unit_test(response_timeout_and_late_response),
      cmocka_unit_test(enquire_link_idle_and_dead_peer),
      cmocka_unit_test(enquire_link_traffic_is_life),
      cmocka_unit_test(enquire_link_short_interval),
      cmocka_unit_test(enquire_link_answered_in_any_live_state),
      cmocka_unit_test(unbind_from_esme),
      cmocka_unit_test(unbind_from_smsc),
      cmocka_unit_test(unbind_from_smsc_with_request_in_flight),
      cmocka_unit_test(unbind_timeout),
      cmocka_unit_test(unbind_before_bind_rejected),
      cmocka_unit_test(close_reports_in_flight),
      cmocka_unit_test(sequence_wrap),
      cmocka_unit_test(sequence_skips_busy_slot),
      cmocka_unit_test(submit_before_bind),
      cmocka_unit_test(deliver_sm_on_transmitter_rejected),
      cmocka_unit_test(garbage_generic_nack),
      cmocka_unit_test(bad_command_length_closes),
      cmocka_unit_test(input_split_at_every_byte),
      cmocka_unit_test(free_and_close_from_callback),
      cmocka_unit_test(output_region_is_stable),
      cmocka_unit_test(inbound_window_throttles),
      cmocka_unit_test(bad_arguments_and_names),
      cmocka_unit_test(allocation_failures),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
