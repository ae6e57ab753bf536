/* session.c - the SMPP 3.4 session: life cycle, the owner's commands, the
 * input loop and the timers (see session.h for the contract).
 *
 * The session is a state machine without I/O: it never touches a socket,
 * a clock or a timer, never logs and never blocks. Time comes in as now_ms,
 * octets come in through sg_smpp_session_input() and leave through the
 * output buffers of session_io.c; everything else is an event. The rules of
 * which state takes what live in the tables of session_fsm.c; received PDUs
 * are handled in session_rx.c.
 */
#include <assert.h>
#include <string.h>

#include "core/alloc.h"
#include "smpp/session_int.h"
#include "smpp/wire.h"

/* ---- Re-entrancy ----------------------------------------------------------
 */

/* Every public function that may fire events runs between enter() and
 * leave(), so that sg_smpp_session_free() from inside a callback only marks
 * the session and the outermost call releases it on the way out. */
static void enter(sg_smpp_session_t *s) {
  s->depth++;
}

static void destroy(sg_smpp_session_t *s) {
  sg_smpp_reader_close(&s->reader);
  sg__smpp_out_free(s);
  sg_free(s->slots);
  sg_free(s);
}

static void leave(sg_smpp_session_t *s) {
  if (--s->depth == 0 && s->doomed)
    destroy(s);
}

void sg__smpp_emit(sg_smpp_session_t *s, sg_smpp_event_t *ev) {
  if (!s->doomed)
    s->cb(s, ev, s->user);
}

/* ---- Transitions ----------------------------------------------------------
 */

static uint64_t after(uint64_t now_ms, uint32_t ms) {
  return ms == 0 ? SG_SMPP_NO_DEADLINE : now_ms + ms;
}

/* Enters `next` and starts its timer (session_fsm.c says which). A
 * transition the table does not list is a bug in this module. */
void sg__smpp_goto(sg_smpp_session_t *s, sg_smpp_state_t next,
                   uint64_t now_ms) {
  assert(next == s->state ||
         (sg__smpp_state_desc(s->state)->out_mask & (1u << next)) != 0);
  s->state = next;
  switch (sg__smpp_state_desc(next)->timer) {
  case SG__T_BIND_SMSC:
    s->state_deadline = s->role == SG_SMPP_ROLE_SMSC
                            ? after(now_ms, s->cfg.bind_timeout_ms)
                            : SG_SMPP_NO_DEADLINE;
    break;
  case SG__T_BIND:
    s->state_deadline = after(now_ms, s->cfg.bind_timeout_ms);
    break;
  case SG__T_BINDING:
    s->state_deadline =
        after(now_ms, s->role == SG_SMPP_ROLE_SMSC ? s->cfg.decide_timeout_ms
                                                   : s->cfg.bind_timeout_ms);
    break;
  case SG__T_RESPONSE:
    s->state_deadline = after(now_ms, s->cfg.response_timeout_ms);
    break;
  default:
    s->state_deadline = SG_SMPP_NO_DEADLINE;
  }
  if (sg__smpp_state_bind_type(next) != SG_SMPP_BIND_NONE)
    s->last_rx_ms = now_ms; /* the idle timer starts at bind */
}

/* Reports every request in flight as without response, oldest first. */
static void abandon_in_flight(sg_smpp_session_t *s) {
  sg__smpp_slot_t *slot;
  while (!s->doomed && (slot = sg__smpp_slot_oldest(s)) != NULL) {
    sg_smpp_event_t ev = {.type = SG_SMPP_EV_NO_RESPONSE,
                          .command_id = slot->command_id,
                          .sequence_number = slot->seq,
                          .request_command_id = slot->command_id,
                          .error = SG_ECLOSED,
                          .ctx = slot->ctx};
    sg__smpp_slot_retire(s, slot, SG__SLOT_FREE);
    sg__smpp_emit(s, &ev);
  }
}

void sg__smpp_drained(sg_smpp_session_t *s) {
  if (s->peer_unbound && s->in_flight == 0 &&
      s->state == SG_SMPP_STATE_UNBINDING)
    sg__smpp_close(s, 0);
}

void sg__smpp_close(sg_smpp_session_t *s, int reason) {
  if (s->state == SG_SMPP_STATE_CLOSED)
    return;
  s->state = SG_SMPP_STATE_CLOSED;
  s->state_deadline = SG_SMPP_NO_DEADLINE;
  s->elink_seq = s->bind_seq = s->unbind_seq = 0;
  abandon_in_flight(s);
  sg_smpp_event_t ev = {.type = SG_SMPP_EV_CLOSED, .error = reason};
  sg__smpp_emit(s, &ev);
}

/* ---- Life cycle -----------------------------------------------------------
 */

void sg_smpp_session_config_default(sg_smpp_session_config_t *cfg) {
  memset(cfg, 0, sizeof *cfg);
  cfg->window = 10;
  cfg->response_timeout_ms = 30000;
  cfg->bind_timeout_ms = 10000;
  cfg->decide_timeout_ms = 10000;
  cfg->enquire_link_interval_ms = 30000;
  cfg->enquire_link_timeout_ms = 10000;
  cfg->inbound_full_status = SG_SMPP_ESME_RTHROTTLED;
  cfg->max_pdu_len = SG_SMPP_MAX_PDU_DEFAULT;
  cfg->first_sequence = 1;
}

static bool config_valid(const sg_smpp_session_config_t *c) {
  return c->window >= 1 && c->window <= SG_SMPP_SESSION_WINDOW_MAX &&
         c->first_sequence >= 1 && c->first_sequence <= SG__SMPP_SEQ_MAX &&
         c->max_pdu_len >= SG_SMPP_HEADER_LEN;
}

int sg_smpp_session_new(sg_smpp_role_t role,
                        const sg_smpp_session_config_t *cfg,
                        sg_smpp_event_cb cb, void *user, uint64_t now_ms,
                        sg_smpp_session_t **out) {
  sg_smpp_session_config_t c;
  if (cfg == NULL)
    sg_smpp_session_config_default(&c);
  else
    c = *cfg;
  if (out == NULL || cb == NULL || !config_valid(&c) ||
      (role != SG_SMPP_ROLE_ESME && role != SG_SMPP_ROLE_SMSC))
    return SG_EINVAL;
  /* Not sg_calloc: the two PDU structs are large and need no clearing. */
  sg_smpp_session_t *s = sg_malloc(sizeof *s);
  if (s == NULL)
    return SG_ENOMEM;
  memset(s, 0, offsetof(sg_smpp_session_t, rx));
  s->role = role;
  s->cfg = c;
  s->cb = cb;
  s->user = user;
  s->next_seq = c.first_sequence;
  s->decode_opts.max_len = c.max_pdu_len;
  s->decode_opts.flags = c.decode_flags;
  sg_smpp_reader_init(&s->reader, c.max_pdu_len);
  if (sg__smpp_slots_init(s) != 0) {
    sg_free(s);
    return SG_ENOMEM;
  }
  s->state = SG_SMPP_STATE_OPEN;
  sg__smpp_goto(s, SG_SMPP_STATE_OPEN, now_ms);
  *out = s;
  return 0;
}

void sg_smpp_session_free(sg_smpp_session_t *s) {
  if (s == NULL)
    return;
  if (s->depth > 0) {
    s->doomed = true;
    return;
  }
  destroy(s);
}

void sg_smpp_session_close(sg_smpp_session_t *s, int reason) {
  enter(s);
  sg__smpp_close(s, reason);
  leave(s);
}

/* ---- Input ----------------------------------------------------------------
 */

/* A command_length out of bounds: the stream cannot be resynchronised
 * (section 3.2). Answer generic_nack ESME_RINVCMDLEN and close. */
static void bad_length(sg_smpp_session_t *s, const uint8_t *hdr, size_t avail) {
  uint32_t seq = avail >= SG_SMPP_HEADER_LEN ? sg__smpp_rd32(hdr + 12) : 0;
  sg_smpp_decode_err_t err = {.fault = SG_SMPP_FAULT_CMD_LENGTH,
                              .command_status = SG_SMPP_ESME_RINVCMDLEN,
                              .header_valid = false};
  s->rx.command_id = avail >= 8 ? sg__smpp_rd32(hdr + 4) : 0;
  s->rx.command_status = 0;
  s->rx.sequence_number = seq;
  sg__smpp_rx_answer(s, SG_SMPP_GENERIC_NACK, SG_SMPP_ESME_RINVCMDLEN, seq);
  if (!sg__smpp_stopped(s)) {
    sg_smpp_event_t ev = {.type = SG_SMPP_EV_PROTOCOL_ERROR,
                          .command_id = s->rx.command_id,
                          .command_status = SG_SMPP_ESME_RINVCMDLEN,
                          .sequence_number = seq,
                          .error = SG_ERANGE,
                          .decode_err = &err};
    sg__smpp_emit(s, &ev);
  }
  sg__smpp_close(s, SG_ERANGE);
}

/* Handles the whole PDUs at the front of data[0..len) in place; returns
 * how many octets they took. Stops at a partial PDU, a bad length (after
 * closing) or when the session stops. */
static size_t input_direct(sg_smpp_session_t *s, const uint8_t *data,
                           size_t len, uint64_t now_ms) {
  size_t pos = 0;
  while (pos < len && !sg__smpp_stopped(s)) {
    long n = sg_smpp_frame(data + pos, len - pos, s->cfg.max_pdu_len);
    if (n == SG_NEED_MORE)
      break;
    if (n < 0) {
      bad_length(s, data + pos, len - pos);
      break;
    }
    sg__smpp_rx_pdu(s, data + pos, (size_t)n, now_ms);
    pos += (size_t)n;
  }
  return pos;
}

/* How many more octets the PDU started in the reader needs: enough for its
 * command_length first, then the rest of it. */
static size_t reader_wants(const sg_smpp_reader_t *r) {
  size_t have = sg_smpp_reader_pending(r);
  if (have < 4)
    return 4 - have;
  uint32_t total = sg__smpp_rd32(r->buf + r->start);
  return total > have ? total - have : 0;
}

/* Completes the PDU split across calls by copying only its missing part
 * into the reader. Returns the octets of data taken, or -1 once the
 * session stopped (bad length, close, out of memory). */
static long input_complete(sg_smpp_session_t *s, const uint8_t *data,
                           size_t len, uint64_t now_ms) {
  size_t pos = 0;
  while (sg_smpp_reader_pending(&s->reader) > 0) {
    size_t want = reader_wants(&s->reader);
    size_t take = want < len - pos ? want : len - pos;
    if (sg_smpp_reader_feed(&s->reader, data + pos, take) == SG_ENOMEM) {
      sg__smpp_close(s, SG_ENOMEM);
      return -1;
    }
    pos += take;
    const uint8_t *pdu;
    long n = sg_smpp_reader_next(&s->reader, &pdu);
    if (n == SG_NEED_MORE && pos == len)
      break;
    if (n < 0) {
      const sg_smpp_reader_t *r = &s->reader;
      bad_length(s, r->buf + r->start, r->end - r->start);
      return -1;
    }
    if (n > 0)
      sg__smpp_rx_pdu(s, pdu, (size_t)n, now_ms);
    if (sg__smpp_stopped(s))
      return -1;
  }
  return (long)pos;
}

static int input_run(sg_smpp_session_t *s, const uint8_t *data, size_t len,
                     uint64_t now_ms) {
  long pos = input_complete(s, data, len, now_ms);
  if (pos < 0 || (size_t)pos == len)
    return 0;
  size_t done = (size_t)pos;
  done += input_direct(s, data + done, len - done, now_ms);
  if (sg__smpp_stopped(s) || done == len)
    return 0;
  if (sg_smpp_reader_feed(&s->reader, data + done, len - done) != 0) {
    sg__smpp_close(s, SG_ENOMEM);
    return SG_ENOMEM;
  }
  return 0;
}

int sg_smpp_session_input(sg_smpp_session_t *s, const uint8_t *data, size_t len,
                          uint64_t now_ms) {
  if (s->depth > 0 || s->state == SG_SMPP_STATE_CLOSED)
    return SG_ESTATE;
  if (len == 0)
    return 0;
  enter(s);
  s->last_rx_ms = now_ms;
  int rc = input_run(s, data, len, now_ms);
  leave(s);
  return rc;
}

/* ---- Timers ---------------------------------------------------------------
 */

static uint64_t elink_deadline(const sg_smpp_session_t *s) {
  if (s->elink_seq != 0)
    return after(s->elink_sent_ms, s->cfg.enquire_link_timeout_ms);
  if (!sg__smpp_fsm_accepts(s->state, SG__IN_T_ENQUIRE))
    return SG_SMPP_NO_DEADLINE;
  return after(s->last_rx_ms, s->cfg.enquire_link_interval_ms);
}

uint64_t sg_smpp_session_next_deadline(const sg_smpp_session_t *s) {
  if (s->state == SG_SMPP_STATE_CLOSED)
    return SG_SMPP_NO_DEADLINE;
  uint64_t d = s->state_deadline, e = elink_deadline(s);
  if (e < d)
    d = e;
  if (s->head != SG__SMPP_NIL && s->slots[s->head].deadline < d)
    d = s->slots[s->head].deadline;
  return d;
}

/* Response timeouts: the list is in deadline order, so only its head is
 * looked at. The slot stays TIMED_OUT to recognise a late response. */
static void tick_requests(sg_smpp_session_t *s, uint64_t now_ms) {
  sg__smpp_slot_t *slot;
  while (!sg__smpp_stopped(s) && (slot = sg__smpp_slot_oldest(s)) != NULL &&
         slot->deadline <= now_ms) {
    sg_smpp_event_t ev = {.type = SG_SMPP_EV_NO_RESPONSE,
                          .command_id = slot->command_id,
                          .sequence_number = slot->seq,
                          .request_command_id = slot->command_id,
                          .error = SG_ETIMEDOUT,
                          .ctx = slot->ctx};
    s->stats.timeouts++;
    sg__smpp_slot_retire(s, slot, SG__SLOT_TIMED_OUT);
    sg__smpp_emit(s, &ev);
  }
}

/* SMSC: the owner did not decide on the bind in decide_timeout_ms. The
 * ESME gets bind_*_resp ESME_RBINDFAIL (section 4.1: every bind is
 * answered), then the session closes so that the decision, if it still
 * comes, meets no later bind on this connection. The answer stays in the
 * output for the driver to write before it closes the socket. */
static void decide_timed_out(sg_smpp_session_t *s) {
  uint32_t resp = sg_smpp_bind_command_id(s->bind_type) | SG_SMPP_RESP_BIT;
  if (sg__smpp_out_header(s, resp, SG_SMPP_ESME_RBINDFAIL, s->bind_seq) != 0) {
    sg__smpp_close(s, SG_ENOMEM);
    return;
  }
  s->stats.rejected_in++;
  s->bind_seq = 0;
  sg__smpp_close(s, SG_ETIMEDOUT);
}

static void tick_state(sg_smpp_session_t *s, uint64_t now_ms) {
  if (s->state_deadline > now_ms)
    return;
  s->state_deadline = SG_SMPP_NO_DEADLINE;
  if (s->state == SG_SMPP_STATE_BINDING && s->role == SG_SMPP_ROLE_SMSC) {
    decide_timed_out(s);
    return;
  }
  if (s->state == SG_SMPP_STATE_BINDING && s->role == SG_SMPP_ROLE_ESME) {
    sg_smpp_event_t ev = {.type = SG_SMPP_EV_BIND_FAILED,
                          .command_id = sg_smpp_bind_command_id(s->bind_type),
                          .sequence_number = s->bind_seq,
                          .bind_type = s->bind_type,
                          .error = SG_ETIMEDOUT};
    sg__smpp_emit(s, &ev);
  }
  sg__smpp_close(s, SG_ETIMEDOUT);
}

/* Section 4.11: enquire_link on a link idle for the interval; if nothing
 * at all comes back in time, the peer is dead. */
static void tick_enquire(sg_smpp_session_t *s, uint64_t now_ms) {
  if (elink_deadline(s) > now_ms)
    return;
  if (s->elink_seq != 0) {
    if (s->last_rx_ms > s->elink_sent_ms) { /* alive, only not answering */
      s->elink_seq = 0;
      return;
    }
    sg_smpp_event_t ev = {.type = SG_SMPP_EV_DEAD_PEER,
                          .command_id = SG_SMPP_ENQUIRE_LINK,
                          .sequence_number = s->elink_seq};
    sg__smpp_emit(s, &ev);
    sg__smpp_close(s, SG_ETIMEDOUT);
    return;
  }
  uint32_t seq = sg__smpp_seq_next(s);
  if (sg__smpp_out_header(s, SG_SMPP_ENQUIRE_LINK, 0, seq) != 0) {
    sg__smpp_close(s, SG_ENOMEM);
    return;
  }
  s->stats.enquire_links_out++;
  s->elink_seq = seq;
  s->elink_sent_ms = now_ms;
}

int sg_smpp_session_tick(sg_smpp_session_t *s, uint64_t now_ms) {
  if (s->depth > 0)
    return SG_ESTATE;
  enter(s);
  tick_requests(s, now_ms);
  if (!sg__smpp_stopped(s))
    sg__smpp_drained(s);
  if (!sg__smpp_stopped(s))
    tick_state(s, now_ms);
  /* Twice: a dead-peer check that finds the peer alive may make the idle
   * timer due at once; after tick() no deadline is left in the past. */
  for (int i = 0; i < 2 && !sg__smpp_stopped(s); i++)
    tick_enquire(s, now_ms);
  leave(s);
  return 0;
}

/* ---- Commands -------------------------------------------------------------
 */

/* Copies a C-Octet String into a field of `size` octets (NUL included). */
static int put_cstr(char *dst, size_t size, const char *src) {
  size_t n = src != NULL ? strlen(src) : 0;
  if (n >= size)
    return SG_ETOOLONG;
  if (n > 0)
    memcpy(dst, src, n);
  dst[n] = '\0';
  return 0;
}

static int fill_bind(sg_smpp_pdu_t *pdu, const sg_smpp_bind_params_t *p) {
  sg_smpp_bind_transmitter_t *b = &pdu->body.bind_transmitter;
  if (put_cstr(b->system_id, sizeof b->system_id, p->system_id) != 0 ||
      put_cstr(b->password, sizeof b->password, p->password) != 0 ||
      put_cstr(b->system_type, sizeof b->system_type, p->system_type) != 0 ||
      put_cstr(b->address_range, sizeof b->address_range, p->address_range) !=
          0)
    return SG_ETOOLONG;
  b->interface_version = p->interface_version != 0 ? p->interface_version
                                                   : SG_SMPP_INTERFACE_VERSION;
  b->addr_ton = p->addr_ton;
  b->addr_npi = p->addr_npi;
  return 0;
}

/* Encodes s->tx with a fresh sequence_number. Returns it, or < 0. */
static long send_own(sg_smpp_session_t *s) {
  uint32_t seq = sg__smpp_seq_next(s);
  s->tx.sequence_number = seq;
  size_t at;
  int rc = sg__smpp_out_pdu(s, &s->tx, &at);
  return rc != 0 ? rc : (long)seq;
}

int sg_smpp_session_bind(sg_smpp_session_t *s, sg_smpp_bind_type_t type,
                         const sg_smpp_bind_params_t *params, uint64_t now_ms) {
  uint32_t id = sg_smpp_bind_command_id(type);
  if (id == 0 || params == NULL)
    return SG_EINVAL;
  if (s->role != SG_SMPP_ROLE_ESME ||
      !sg__smpp_fsm_accepts(s->state, SG__IN_BIND))
    return SG_ESTATE;
  sg_smpp_pdu_init(&s->tx, id, 0);
  int rc = fill_bind(&s->tx, params);
  if (rc != 0)
    return rc;
  long seq = send_own(s);
  if (seq < 0)
    return (int)seq;
  s->bind_seq = (uint32_t)seq;
  s->bind_type = type;
  sg__smpp_goto(s, SG_SMPP_STATE_BINDING, now_ms);
  return 0;
}

static int accept_bind(sg_smpp_session_t *s, const char *system_id,
                       uint64_t now_ms) {
  uint32_t resp = sg_smpp_bind_command_id(s->bind_type) | SG_SMPP_RESP_BIT;
  sg_smpp_pdu_init(&s->tx, resp, s->bind_seq);
  sg_smpp_bind_transmitter_resp_t *b = &s->tx.body.bind_transmitter_resp;
  if (put_cstr(b->system_id, sizeof b->system_id, system_id) != 0)
    return SG_ETOOLONG;
  /* Section 5.3.2.25: sc_interface_version tells a 3.4 ESME our version. */
  if (s->peer_interface_version >= SG_SMPP_INTERFACE_VERSION &&
      sg_smpp_tlv_set_int(&s->tx, SG_SMPP_TLV_SC_INTERFACE_VERSION,
                          SG_SMPP_INTERFACE_VERSION, 1) != 0)
    return SG_EINVAL;
  size_t at;
  int rc = sg__smpp_out_pdu(s, &s->tx, &at);
  if (rc != 0)
    return rc;
  s->bind_seq = 0;
  sg__smpp_goto(s, sg__smpp_bound_state(s->bind_type), now_ms);
  sg_smpp_event_t ev = {.type = SG_SMPP_EV_BOUND,
                        .command_id = resp,
                        .sequence_number = s->tx.sequence_number,
                        .bind_type = s->bind_type};
  sg__smpp_emit(s, &ev);
  return 0;
}

int sg_smpp_session_accept_bind(sg_smpp_session_t *s, const char *system_id,
                                uint64_t now_ms) {
  if (s->role != SG_SMPP_ROLE_SMSC ||
      !sg__smpp_fsm_accepts(s->state, SG__IN_DECIDE))
    return SG_ESTATE;
  enter(s);
  int rc = accept_bind(s, system_id, now_ms);
  leave(s);
  return rc;
}

int sg_smpp_session_reject_bind(sg_smpp_session_t *s, uint32_t command_status,
                                uint64_t now_ms) {
  if (command_status == SG_SMPP_ESME_ROK)
    return SG_EINVAL;
  if (s->role != SG_SMPP_ROLE_SMSC ||
      !sg__smpp_fsm_accepts(s->state, SG__IN_DECIDE))
    return SG_ESTATE;
  uint32_t resp = sg_smpp_bind_command_id(s->bind_type) | SG_SMPP_RESP_BIT;
  if (sg__smpp_out_header(s, resp, command_status, s->bind_seq) != 0)
    return SG_ENOMEM;
  s->bind_seq = 0;
  s->bind_type = SG_SMPP_BIND_NONE;
  s->peer_system_id[0] = '\0';
  sg__smpp_goto(s, SG_SMPP_STATE_OPEN, now_ms);
  return 0;
}

int sg_smpp_session_outbind(sg_smpp_session_t *s, const char *system_id,
                            const char *password, uint64_t now_ms) {
  if (s->role != SG_SMPP_ROLE_SMSC ||
      !sg__smpp_fsm_accepts(s->state, SG__IN_OUTBIND))
    return SG_ESTATE;
  sg_smpp_pdu_init(&s->tx, SG_SMPP_OUTBIND, 0);
  sg_smpp_outbind_t *b = &s->tx.body.outbind;
  if (put_cstr(b->system_id, sizeof b->system_id, system_id) != 0 ||
      put_cstr(b->password, sizeof b->password, password) != 0)
    return SG_ETOOLONG;
  long seq = send_own(s);
  if (seq < 0)
    return (int)seq;
  sg__smpp_goto(s, SG_SMPP_STATE_OUTBOUND, now_ms);
  return 0;
}

long sg_smpp_session_send_request(sg_smpp_session_t *s,
                                  const sg_smpp_pdu_t *pdu, void *ctx,
                                  uint64_t now_ms) {
  uint32_t id = pdu->command_id;
  if (sg_smpp_is_response(id) || !sg_smpp_command_known(id) ||
      sg__smpp_fsm_session_owned(id))
    return SG_EINVAL;
  if (!sg_smpp_session_can_send(s, id))
    return SG_ESTATE;
  bool answered = sg_smpp_response_id(id) != 0;
  if (answered && s->in_flight >= s->cfg.window)
    return SG_EBUSY;
  size_t at;
  int rc = sg__smpp_out_pdu(s, pdu, &at);
  if (rc != 0)
    return rc;
  uint32_t seq = sg__smpp_seq_next(s);
  sg__smpp_out_patch_seq(s, at, seq);
  if (answered)
    sg__smpp_slot_add(s, seq, id, ctx,
                      after(now_ms, s->cfg.response_timeout_ms));
  s->stats.requests_out++;
  return (long)seq;
}

int sg_smpp_session_respond(sg_smpp_session_t *s, const sg_smpp_pdu_t *resp) {
  if (!sg_smpp_is_response(resp->command_id) ||
      resp->command_id == SG_SMPP_GENERIC_NACK)
    return SG_EINVAL;
  if (!sg__smpp_fsm_accepts(s->state, SG__IN_RESPOND))
    return SG_ESTATE;
  size_t at;
  int rc = sg__smpp_out_pdu(s, resp, &at);
  if (rc != 0)
    return rc;
  if (s->inbound_pending > 0)
    s->inbound_pending--;
  return 0;
}

int sg_smpp_session_respond_status(sg_smpp_session_t *s,
                                   uint32_t request_command_id,
                                   uint32_t sequence_number,
                                   uint32_t command_status) {
  uint32_t id = sg_smpp_response_id(request_command_id);
  if (id == 0)
    return SG_EINVAL;
  sg_smpp_pdu_init(&s->tx, id, sequence_number);
  s->tx.command_status = command_status;
  /* Section 4.4.2: no body on an error; a body-less PDU has none anyway. */
  s->tx.body_omitted = command_status != SG_SMPP_ESME_ROK;
  return sg_smpp_session_respond(s, &s->tx);
}

int sg_smpp_session_respond_nack(sg_smpp_session_t *s, uint32_t sequence_number,
                                 uint32_t command_status) {
  if (!sg__smpp_fsm_accepts(s->state, SG__IN_RESPOND))
    return SG_ESTATE;
  int rc = sg__smpp_out_header(s, SG_SMPP_GENERIC_NACK, command_status,
                               sequence_number);
  if (rc != 0)
    return rc;
  s->stats.generic_nacks_out++;
  if (s->inbound_pending > 0)
    s->inbound_pending--;
  return 0;
}

int sg_smpp_session_unbind(sg_smpp_session_t *s, uint64_t now_ms) {
  if (!sg__smpp_fsm_accepts(s->state, SG__IN_UNBIND))
    return SG_ESTATE;
  uint32_t seq = sg__smpp_seq_next(s);
  if (sg__smpp_out_header(s, SG_SMPP_UNBIND, 0, seq) != 0)
    return SG_ENOMEM;
  s->unbind_seq = seq;
  s->elink_seq = 0;
  sg__smpp_goto(s, SG_SMPP_STATE_UNBINDING, now_ms);
  return 0;
}

/* ---- Introspection --------------------------------------------------------
 */

sg_smpp_state_t sg_smpp_session_state(const sg_smpp_session_t *s) {
  return s->state;
}

sg_smpp_role_t sg_smpp_session_role(const sg_smpp_session_t *s) {
  return s->role;
}

sg_smpp_bind_type_t sg_smpp_session_bind_type(const sg_smpp_session_t *s) {
  if (s->state == SG_SMPP_STATE_UNBINDING)
    return s->bind_type;
  return sg__smpp_state_bind_type(s->state);
}

bool sg_smpp_session_can_send(const sg_smpp_session_t *s, uint32_t command_id) {
  return sg__smpp_fsm_accepts(s->state, SG__IN_REQUEST) &&
         sg__smpp_fsm_may_send(s->role, s->state, command_id);
}

uint32_t sg_smpp_session_in_flight(const sg_smpp_session_t *s) {
  return s->in_flight;
}

uint32_t sg_smpp_session_window_free(const sg_smpp_session_t *s) {
  return s->in_flight < s->cfg.window ? s->cfg.window - s->in_flight : 0;
}

uint32_t sg_smpp_session_inbound_pending(const sg_smpp_session_t *s) {
  return s->inbound_pending;
}

const char *sg_smpp_session_peer_system_id(const sg_smpp_session_t *s) {
  return s->peer_system_id;
}

void sg_smpp_session_stats(const sg_smpp_session_t *s,
                           sg_smpp_session_stats_t *out) {
  *out = s->stats;
}
