/* session_rx.c - what an SMPP session does with each PDU its peer sends:
 * decode it, check it against the state table (session_fsm.c), answer what
 * the session answers itself (enquire_link, unbind, generic_nack, requests
 * wrong for the state), match responses to requests, and tell the owner
 * the rest through events.
 *
 * A PDU that fails here is answered and reported, never passed on to the
 * owner as if it were valid. This file must never read a socket or a
 * clock: the framed octets and "now" come from session.c.
 */
#include <string.h>

#include "smpp/session_int.h"

/* ---- Answers and errors ---------------------------------------------------
 */

void sg__smpp_rx_answer(sg_smpp_session_t *s, uint32_t command_id,
                        uint32_t command_status, uint32_t seq) {
  if (sg__smpp_out_header(s, command_id, command_status, seq) != 0) {
    sg__smpp_close(s, SG_ENOMEM);
    return;
  }
  if (command_status != 0) {
    s->stats.rejected_in++;
    if (command_id == SG_SMPP_GENERIC_NACK)
      s->stats.generic_nacks_out++;
  }
}

static void protocol_error(sg_smpp_session_t *s, uint32_t status,
                           const sg_smpp_decode_err_t *err, int error) {
  sg_smpp_event_t ev = {.type = SG_SMPP_EV_PROTOCOL_ERROR,
                        .command_id = s->rx.command_id,
                        .command_status = status,
                        .sequence_number = s->rx.sequence_number,
                        .error = error,
                        .pdu = err == NULL ? &s->rx : NULL,
                        .decode_err = err};
  sg__smpp_emit(s, &ev);
}

/* A PDU that decoded but is wrong for this role or state: answered with
 * `status` when it has a response (section 4: the response of the request
 * with the error status), reported either way. */
static void reject(sg_smpp_session_t *s, uint32_t status) {
  uint32_t resp = sg_smpp_response_id(s->rx.command_id);
  if (resp != 0)
    sg__smpp_rx_answer(s, resp, status, s->rx.sequence_number);
  if (!sg__smpp_stopped(s))
    protocol_error(s, resp != 0 ? status : 0, NULL, SG_EPROTO);
}

/* ---- Responses --------------------------------------------------------------
 */

static bool answers(uint32_t request_id, uint32_t response_id) {
  return response_id == SG_SMPP_GENERIC_NACK ||
         response_id == sg_smpp_response_id(request_id);
}

static void rx_bind_resp(sg_smpp_session_t *s, int error, uint64_t now_ms) {
  const sg_smpp_pdu_t *p = &s->rx;
  bool nack = p->command_id == SG_SMPP_GENERIC_NACK;
  s->bind_seq = 0;
  if (error == 0 && !nack && p->command_status == SG_SMPP_ESME_ROK) {
    memcpy(s->peer_system_id, p->body.bind_transmitter_resp.system_id,
           sizeof s->peer_system_id);
    sg__smpp_goto(s, sg__smpp_bound_state(s->bind_type), now_ms);
    sg_smpp_event_t ev = {.type = SG_SMPP_EV_BOUND,
                          .command_id = p->command_id,
                          .sequence_number = p->sequence_number,
                          .bind_type = s->bind_type,
                          .pdu = p};
    sg__smpp_emit(s, &ev);
    return;
  }
  /* A clear refusal leaves the link usable; anything else (an undecodable
   * answer, a nack saying ROK) leaves its state unknown, so close. */
  bool refused = error == 0 && p->command_status != SG_SMPP_ESME_ROK;
  if (refused)
    sg__smpp_goto(s, SG_SMPP_STATE_OPEN, now_ms);
  sg_smpp_event_t ev = {.type = SG_SMPP_EV_BIND_FAILED,
                        .command_id = p->command_id,
                        .command_status = p->command_status,
                        .sequence_number = p->sequence_number,
                        .bind_type = s->bind_type,
                        .error = SG_EPROTO,
                        .pdu = error == 0 ? p : NULL};
  sg__smpp_emit(s, &ev);
  if (!refused)
    sg__smpp_close(s, SG_EPROTO);
}

static void rx_unbind_resp(sg_smpp_session_t *s, int error) {
  s->unbind_seq = 0;
  if (error != 0 || s->rx.command_id == SG_SMPP_GENERIC_NACK) {
    sg__smpp_close(s, SG_EPROTO);
    return;
  }
  sg_smpp_event_t ev = {.type = SG_SMPP_EV_UNBOUND,
                        .command_id = s->rx.command_id,
                        .command_status = s->rx.command_status,
                        .sequence_number = s->rx.sequence_number,
                        .pdu = &s->rx};
  sg__smpp_emit(s, &ev);
  sg__smpp_close(s, 0);
}

/* A response to one of the owner's requests, in time or late. The slot is
 * freed before the event so that the owner may reuse it from the callback. */
static void rx_matched(sg_smpp_session_t *s, sg__smpp_slot_t *slot, int error) {
  bool late = slot->state == SG__SLOT_TIMED_OUT;
  sg_smpp_event_t ev = {.type = late ? SG_SMPP_EV_LATE_RESPONSE
                                     : SG_SMPP_EV_RESPONSE,
                        .command_id = s->rx.command_id,
                        .command_status = s->rx.command_status,
                        .sequence_number = s->rx.sequence_number,
                        .request_command_id = slot->command_id,
                        .error = error,
                        .ctx = slot->ctx,
                        .pdu = error == 0 ? &s->rx : NULL};
  if (late)
    s->stats.late_responses++;
  else
    s->stats.responses_matched++;
  sg__smpp_slot_retire(s, slot, SG__SLOT_FREE);
  sg__smpp_emit(s, &ev);
}

static void rx_unknown(sg_smpp_session_t *s, int error) {
  s->stats.unknown_responses++;
  sg_smpp_event_t ev = {.type = SG_SMPP_EV_UNKNOWN_RESPONSE,
                        .command_id = s->rx.command_id,
                        .command_status = s->rx.command_status,
                        .sequence_number = s->rx.sequence_number,
                        .error = error,
                        .pdu = error == 0 ? &s->rx : NULL};
  sg__smpp_emit(s, &ev);
}

/* Routes a response (header in s->rx; body valid unless error) to what it
 * answers: the session's own bind, unbind or enquire_link, or a slot. */
static void rx_response(sg_smpp_session_t *s, int error, uint64_t now_ms) {
  uint32_t seq = s->rx.sequence_number, cmd = s->rx.command_id;
  uint32_t bind_id = sg_smpp_bind_command_id(s->bind_type);
  if (s->bind_seq != 0 && seq == s->bind_seq && answers(bind_id, cmd) &&
      s->state == SG_SMPP_STATE_BINDING && s->role == SG_SMPP_ROLE_ESME) {
    rx_bind_resp(s, error, now_ms);
    return;
  }
  if (s->unbind_seq != 0 && seq == s->unbind_seq &&
      answers(SG_SMPP_UNBIND, cmd)) {
    rx_unbind_resp(s, error);
    return;
  }
  if (s->elink_seq != 0 && seq == s->elink_seq &&
      answers(SG_SMPP_ENQUIRE_LINK, cmd)) {
    s->elink_seq = 0;
    return;
  }
  sg__smpp_slot_t *slot = sg__smpp_slot_find(s, seq);
  if (slot != NULL && answers(slot->command_id, cmd)) {
    rx_matched(s, slot, error);
    if (!sg__smpp_stopped(s))
      sg__smpp_drained(s);
  } else {
    rx_unknown(s, error);
  }
}

/* ---- Requests ---------------------------------------------------------------
 */

static void rx_enquire(sg_smpp_session_t *s) {
  sg__smpp_rx_answer(s, SG_SMPP_ENQUIRE_LINK_RESP, SG_SMPP_ESME_ROK,
                     s->rx.sequence_number);
}

/* Section 4.2: answer unbind_resp, then the session is over. */
static void rx_unbind(sg_smpp_session_t *s, uint64_t now_ms) {
  if (!sg__smpp_fsm_accepts(s->state, SG__IN_RX_UNBIND)) {
    reject(s, SG_SMPP_ESME_RINVBNDSTS);
    return;
  }
  sg__smpp_rx_answer(s, SG_SMPP_UNBIND_RESP, SG_SMPP_ESME_ROK,
                     s->rx.sequence_number);
  if (sg__smpp_stopped(s))
    return;
  sg_smpp_event_t ev = {.type = SG_SMPP_EV_UNBOUND,
                        .command_id = s->rx.command_id,
                        .sequence_number = s->rx.sequence_number,
                        .pdu = &s->rx};
  sg__smpp_emit(s, &ev);
  if (sg__smpp_stopped(s))
    return;
  if (s->in_flight == 0) {
    sg__smpp_close(s, 0);
    return;
  }
  /* Answers to our requests may follow the peer's unbind on the wire; an
   * SMSC that took a message and whose answer we dropped would get it again
   * when the owner resends it on the next bind. Wait for them. */
  s->peer_unbound = true;
  s->unbind_seq = 0;
  s->elink_seq = 0;
  if (s->state != SG_SMPP_STATE_UNBINDING)
    sg__smpp_goto(s, SG_SMPP_STATE_UNBINDING, now_ms);
}

/* SMSC: a bind goes to the owner for its decision (BINDING). A second bind
 * once one is pending or made gets ESME_RALYBND (section 5.1.3). */
static void rx_bind(sg_smpp_session_t *s, uint64_t now_ms) {
  const sg_smpp_pdu_t *p = &s->rx;
  if (s->role != SG_SMPP_ROLE_SMSC) {
    reject(s, SG_SMPP_ESME_RINVBNDSTS);
    return;
  }
  if (!sg__smpp_fsm_accepts(s->state, SG__IN_RX_BIND)) {
    reject(s, SG_SMPP_ESME_RALYBND);
    return;
  }
  s->bind_type = sg_smpp_bind_type_of(p->command_id);
  s->bind_seq = p->sequence_number;
  s->peer_interface_version = p->body.bind_transmitter.interface_version;
  memcpy(s->peer_system_id, p->body.bind_transmitter.system_id,
         sizeof s->peer_system_id);
  sg__smpp_goto(s, SG_SMPP_STATE_BINDING, now_ms);
  sg_smpp_event_t ev = {.type = SG_SMPP_EV_BIND_REQUEST,
                        .command_id = p->command_id,
                        .sequence_number = p->sequence_number,
                        .bind_type = s->bind_type,
                        .pdu = p};
  sg__smpp_emit(s, &ev);
}

/* ESME: an outbind asks us to bind (section 4.1.7); it has no response. */
static void rx_outbind(sg_smpp_session_t *s) {
  if (s->role != SG_SMPP_ROLE_ESME ||
      !sg__smpp_fsm_accepts(s->state, SG__IN_RX_OUTBIND)) {
    reject(s, 0);
    return;
  }
  sg_smpp_event_t ev = {.type = SG_SMPP_EV_OUTBIND,
                        .command_id = s->rx.command_id,
                        .sequence_number = s->rx.sequence_number,
                        .pdu = &s->rx};
  sg__smpp_emit(s, &ev);
}

/* submit_sm, deliver_sm, data_sm ...: checked against table 2-1 for the
 * peer's role, throttled by inbound_window, then handed to the owner. */
static void rx_ordinary(sg_smpp_session_t *s) {
  const sg_smpp_pdu_t *p = &s->rx;
  sg_smpp_role_t peer =
      s->role == SG_SMPP_ROLE_ESME ? SG_SMPP_ROLE_SMSC : SG_SMPP_ROLE_ESME;
  if (!sg__smpp_fsm_accepts(s->state, SG__IN_RX_REQUEST) ||
      !sg__smpp_fsm_may_send(peer, s->state, p->command_id)) {
    reject(s, SG_SMPP_ESME_RINVBNDSTS);
    return;
  }
  uint32_t resp = sg_smpp_response_id(p->command_id);
  if (resp != 0 && s->cfg.inbound_window != 0 &&
      s->inbound_pending >= s->cfg.inbound_window) {
    s->stats.throttled_in++;
    sg__smpp_rx_answer(s, resp, s->cfg.inbound_full_status, p->sequence_number);
    return;
  }
  if (resp != 0)
    s->inbound_pending++;
  s->stats.requests_in++;
  sg_smpp_event_t ev = {.type = SG_SMPP_EV_REQUEST,
                        .command_id = p->command_id,
                        .sequence_number = p->sequence_number,
                        .pdu = p};
  sg__smpp_emit(s, &ev);
}

static void rx_request(sg_smpp_session_t *s, uint64_t now_ms) {
  switch (s->rx.command_id) {
  case SG_SMPP_ENQUIRE_LINK:
    rx_enquire(s);
    return;
  case SG_SMPP_UNBIND:
    rx_unbind(s, now_ms);
    return;
  case SG_SMPP_BIND_TRANSMITTER:
  case SG_SMPP_BIND_RECEIVER:
  case SG_SMPP_BIND_TRANSCEIVER:
    rx_bind(s, now_ms);
    return;
  case SG_SMPP_OUTBIND:
    rx_outbind(s);
    return;
  default:
    rx_ordinary(s);
    return;
  }
}

/* ---- Entry ------------------------------------------------------------------
 */

/* Section 4.3: a PDU that does not decode gets generic_nack (bad header,
 * unknown command_id) or its own response with the field's status. A
 * response that does not decode still settles the request it answers. */
static void rx_undecodable(sg_smpp_session_t *s,
                           const sg_smpp_decode_err_t *err, uint64_t now_ms) {
  uint32_t cmd = err->header_valid ? s->rx.command_id : 0;
  uint32_t seq = err->header_valid ? s->rx.sequence_number : 0;
  uint32_t answer = sg_smpp_reject_command_id(cmd, err);
  if (!err->header_valid)
    s->rx.command_id = s->rx.sequence_number = s->rx.command_status = 0;
  if (answer != 0)
    sg__smpp_rx_answer(s, answer, err->command_status, seq);
  if (sg__smpp_stopped(s))
    return;
  protocol_error(s, answer != 0 ? err->command_status : 0, err, SG_EPROTO);
  if (!sg__smpp_stopped(s) && err->header_valid && sg_smpp_is_response(cmd) &&
      sg_smpp_command_known(cmd))
    rx_response(s, SG_EPROTO, now_ms);
}

void sg__smpp_rx_pdu(sg_smpp_session_t *s, const uint8_t *buf, size_t len,
                     uint64_t now_ms) {
  sg_smpp_decode_err_t err;
  s->stats.pdus_in++;
  if (sg_smpp_pdu_decode(buf, len, &s->rx, &s->decode_opts, &err) != 0) {
    rx_undecodable(s, &err, now_ms);
    return;
  }
  if (sg_smpp_is_response(s->rx.command_id))
    rx_response(s, 0, now_ms);
  else
    rx_request(s, now_ms);
}
