/* fuzz.c - libFuzzer target for the SMPP session state machine.
 *
 * Input: one control octet, then a byte stream from the peer. The stream is
 * fed to two sessions, one in the SMSC role (accepting every bind,
 * answering every request) and one in the ESME role (which has sent
 * bind_transceiver with sequence_number 1, so a bind_*_resp in the stream
 * binds it, and answers deliver_sm), in pieces whose sizes come from the
 * control octet. Between pieces the fake clock advances, timers run, and
 * each session sends a request when it may. Checked after every step:
 *   - everything a session writes frames and decodes as SMPP 3.4;
 *   - the window is never exceeded;
 *   - every request the owner sent is settled exactly once (RESPONSE or
 *     NO_RESPONSE) or still in flight, and after the final close none is;
 *   - after a tick no deadline is left in the past;
 *   - CLOSED is reported once, and a closed session has no deadline.
 * Any violation aborts. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "smpp/session.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define WINDOW 4

typedef struct harness {
  sg_smpp_session_t *s;
  uint64_t sent, settled, closed_events;
  sg_smpp_pdu_t resp;
} harness_t;

static sg_smpp_pdu_t decoded;

static void answer(harness_t *h, const sg_smpp_event_t *ev) {
  uint32_t id = sg_smpp_response_id(ev->command_id);
  if (id == 0)
    return;
  sg_smpp_pdu_init(&h->resp, id, ev->sequence_number);
  if (id == SG_SMPP_SUBMIT_SM_RESP)
    memcpy(h->resp.body.submit_sm_resp.message_id, "abc", 4);
  if (sg_smpp_session_respond(h->s, &h->resp) != 0)
    abort();
}

static void on_event(sg_smpp_session_t *s, const sg_smpp_event_t *ev,
                     void *user) {
  harness_t *h = user;
  switch (ev->type) {
  case SG_SMPP_EV_BIND_REQUEST:
    if (sg_smpp_session_accept_bind(s, "SIM", 0) != 0)
      abort();
    break;
  case SG_SMPP_EV_REQUEST:
    answer(h, ev);
    break;
  case SG_SMPP_EV_RESPONSE:
  case SG_SMPP_EV_NO_RESPONSE:
    if (ev->ctx != h)
      abort();
    h->settled++;
    break;
  case SG_SMPP_EV_CLOSED:
    h->closed_events++;
    break;
  default:
    break;
  }
}

/* Everything the session wrote must be well-formed SMPP. */
static void check_output(harness_t *h) {
  const uint8_t *p;
  size_t n;
  while ((n = sg_smpp_session_output(h->s, &p)) > 0) {
    size_t pos = 0;
    while (pos < n) {
      long k = sg_smpp_frame(p + pos, n - pos, 0);
      if (k <= 0 ||
          sg_smpp_pdu_decode(p + pos, (size_t)k, &decoded, NULL, NULL) != 0)
        abort();
      pos += (size_t)k;
    }
    sg_smpp_session_consume(h->s, n);
  }
}

static void check_invariants(harness_t *h) {
  uint32_t in_flight = sg_smpp_session_in_flight(h->s);
  if (in_flight > WINDOW || h->settled + in_flight != h->sent)
    abort();
  bool closed = sg_smpp_session_state(h->s) == SG_SMPP_STATE_CLOSED;
  if (h->closed_events != (closed ? 1u : 0u))
    abort();
  if (closed && (in_flight != 0 ||
                 sg_smpp_session_next_deadline(h->s) != SG_SMPP_NO_DEADLINE))
    abort();
}

static void maybe_send(harness_t *h, uint32_t command_id, uint64_t now) {
  static sg_smpp_pdu_t pdu;
  if (!sg_smpp_session_can_send(h->s, command_id))
    return;
  sg_smpp_pdu_init(&pdu, command_id, 0);
  pdu.body.submit_sm.sm_length = 2;
  memcpy(pdu.body.submit_sm.short_message, "hi", 2);
  long seq = sg_smpp_session_send_request(h->s, &pdu, h, now);
  if (seq > 0)
    h->sent++;
  else if (seq != SG_EBUSY)
    abort();
}

static void run(sg_smpp_role_t role, unsigned ctl, const uint8_t *stream,
                size_t len) {
  static const sg_smpp_bind_params_t bind = {.system_id = "fuzz"};
  sg_smpp_session_config_t cfg;
  sg_smpp_session_config_default(&cfg);
  cfg.window = WINDOW;
  cfg.response_timeout_ms = 50;
  cfg.bind_timeout_ms = 400;
  cfg.enquire_link_interval_ms = 30;
  cfg.enquire_link_timeout_ms = 20;
  cfg.inbound_window = (ctl & 0x80) ? 2 : 0;
  cfg.max_pdu_len = (ctl & 0x40) ? 300 : SG_SMPP_MAX_PDU_DEFAULT;
  harness_t h = {0};
  uint64_t now = 0;
  if (sg_smpp_session_new(role, &cfg, on_event, &h, now, &h.s) != 0)
    abort();
  if (role == SG_SMPP_ROLE_ESME &&
      sg_smpp_session_bind(h.s, SG_SMPP_BIND_TRX, &bind, now) != 0)
    abort();
  uint32_t rnd = ctl * 2654435761u + 1;
  uint32_t own =
      role == SG_SMPP_ROLE_ESME ? SG_SMPP_SUBMIT_SM : SG_SMPP_DELIVER_SM;
  for (size_t pos = 0; pos < len;) {
    rnd = rnd * 1103515245u + 12345u;
    size_t piece = 1 + (rnd >> 16) % ((ctl & 0x3F) + 1);
    if (piece > len - pos)
      piece = len - pos;
    int rc = sg_smpp_session_input(h.s, stream + pos, piece, now);
    if (rc != 0 && rc != SG_ESTATE)
      abort();
    pos += piece;
    now += (rnd >> 8) % 16;
    if (sg_smpp_session_tick(h.s, now) != 0 ||
        sg_smpp_session_next_deadline(h.s) <= now)
      abort();
    maybe_send(&h, own, now);
    check_output(&h);
    check_invariants(&h);
  }
  sg_smpp_session_close(h.s, SG_ECLOSED);
  check_output(&h);
  check_invariants(&h);
  sg_smpp_session_free(h.s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size == 0)
    return 0;
  run(SG_SMPP_ROLE_SMSC, data[0], data + 1, size - 1);
  run(SG_SMPP_ROLE_ESME, data[0], data + 1, size - 1);
  return 0;
}
