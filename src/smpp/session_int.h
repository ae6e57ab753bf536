/* session_int.h - the inside of sg_smpp_session_t, shared by session.c
 * (commands, input, timers), session_fsm.c (the state and permission
 * tables) and session_io.c (output buffers and the in-flight table).
 * Internal to src/smpp: nothing outside may include it. */
#ifndef SG_SMPP_SESSION_INT_H
#define SG_SMPP_SESSION_INT_H

#include "smpp/session.h"

/* Largest sequence_number (section 3.2: 0x00000001 to 0x7FFFFFFF). */
#define SG__SMPP_SEQ_MAX 0x7FFFFFFFu
#define SG__SMPP_NIL UINT32_MAX

/* ---- The state machine (session_fsm.c) -------------------------------- */

/* What a state may be asked to handle: the owner's commands, the kinds of
 * PDU the peer may send, and the timers. A state's table row names the
 * inputs it accepts; anything else is refused (SG_ESTATE for a command,
 * ESME_RINVBNDSTS / ESME_RALYBND for a PDU). */
typedef enum sg__smpp_input {
  SG__IN_BIND = 0,    /* owner: bind_* (ESME) */
  SG__IN_OUTBIND,     /* owner: outbind (SMSC) */
  SG__IN_DECIDE,      /* owner: accept or reject a bind (SMSC) */
  SG__IN_REQUEST,     /* owner: an ordinary request (table 2-1 refines) */
  SG__IN_RESPOND,     /* owner: a response to a peer's request */
  SG__IN_UNBIND,      /* owner: unbind */
  SG__IN_RX_BIND,     /* peer: bind_* */
  SG__IN_RX_OUTBIND,  /* peer: outbind */
  SG__IN_RX_REQUEST,  /* peer: an ordinary request (table 2-1 refines) */
  SG__IN_RX_ENQUIRE,  /* peer: enquire_link */
  SG__IN_RX_UNBIND,   /* peer: unbind */
  SG__IN_RX_RESPONSE, /* peer: any response or generic_nack */
  SG__IN_T_STATE,     /* the state's own timer (bind, unbind) */
  SG__IN_T_ENQUIRE,   /* the idle / dead-peer timer */
  SG__IN_COUNT_
} sg__smpp_input_t;

/* Which timer a state runs from the moment it is entered. */
typedef enum sg__smpp_timer {
  SG__T_NONE = 0,
  SG__T_BIND,      /* bind_timeout_ms */
  SG__T_BIND_SMSC, /* bind_timeout_ms, in the SMSC role only */
  SG__T_BINDING,   /* ESME: bind_timeout_ms; SMSC: decide_timeout_ms */
  SG__T_RESPONSE   /* response_timeout_ms */
} sg__smpp_timer_t;

typedef struct sg__smpp_state_desc {
  const char *name;
  uint32_t in_mask;  /* 1 << sg__smpp_input_t accepted */
  uint32_t out_mask; /* 1 << sg_smpp_state_t it may go to */
  sg__smpp_timer_t timer;
} sg__smpp_state_desc_t;

const sg__smpp_state_desc_t *sg__smpp_state_desc(sg_smpp_state_t st);
bool sg__smpp_fsm_accepts(sg_smpp_state_t st, sg__smpp_input_t in);
/* Whether a session of `role` may send request command_id in state st
 * (SMPP 3.4 table 2-1, see session.h). */
bool sg__smpp_fsm_may_send(sg_smpp_role_t role, sg_smpp_state_t st,
                           uint32_t command_id);
/* Whether command_id is a request the session only sends itself. */
bool sg__smpp_fsm_session_owned(uint32_t command_id);
/* BOUND_TX/RX/TRX for a bind type, and back (OPEN / NONE otherwise). */
sg_smpp_state_t sg__smpp_bound_state(sg_smpp_bind_type_t t);
sg_smpp_bind_type_t sg__smpp_state_bind_type(sg_smpp_state_t st);

/* ---- The session -------------------------------------------------------- */

/* One request of the owner, in flight or timed out. Slot i holds the
 * request whose sequence_number & mask == i (verified against seq). */
enum { SG__SLOT_FREE = 0, SG__SLOT_IN_FLIGHT, SG__SLOT_TIMED_OUT };
typedef struct sg__smpp_slot {
  uint32_t seq;
  uint32_t command_id;
  uint32_t prev, next; /* send-order list of slots in flight */
  uint8_t state;       /* SG__SLOT_* */
  uint64_t deadline;
  void *ctx;
} sg__smpp_slot_t;

/* One output buffer; see session_io.c. */
typedef struct sg__smpp_outbuf {
  uint8_t *buf;
  size_t cap;
  size_t off; /* consumed octets (the flight buffer only) */
  size_t len; /* octets written */
} sg__smpp_outbuf_t;

struct sg_smpp_session {
  sg_smpp_role_t role;
  sg_smpp_state_t state;
  sg_smpp_session_config_t cfg;
  sg_smpp_event_cb cb;
  void *user;

  /* Re-entrancy: depth of session calls on the stack; doomed once freed
   * from inside a callback. */
  unsigned depth;
  bool doomed;

  uint32_t next_seq;
  uint64_t state_deadline; /* the state's timer or SG_SMPP_NO_DEADLINE */

  /* The session's own requests; at most one of each outstanding. */
  uint32_t bind_seq;
  sg_smpp_bind_type_t bind_type; /* requested or being decided */
  uint8_t peer_interface_version;
  uint32_t unbind_seq;
  /* The peer unbound while requests were in flight: UNBINDING waits for
   * their answers (they may follow the unbind on the wire) and closes when
   * none is left or response_timeout_ms has passed. */
  bool peer_unbound;
  uint32_t elink_seq; /* 0: no enquire_link of ours outstanding */
  uint64_t elink_sent_ms;
  uint64_t last_rx_ms;

  /* The owner's requests: slots[seq & mask], in send order from head. */
  sg__smpp_slot_t *slots;
  uint32_t mask;
  uint32_t head, tail;
  uint32_t in_flight;
  uint32_t inbound_pending;

  /* Output: two buffers, one being written by the driver (flight), one
   * being filled (flight ^ 1). */
  sg__smpp_outbuf_t out[2];
  unsigned flight;

  sg_smpp_reader_t reader;
  char peer_system_id[16];
  sg_smpp_session_stats_t stats;
  sg_smpp_decode_opts_t decode_opts;
  sg_smpp_pdu_t rx; /* the PDU being handled */
  sg_smpp_pdu_t tx; /* scratch for the session's own PDUs */
};

/* ---- Output and the in-flight table (session_io.c) --------------------- */

/* Encodes pdu at the end of the fill buffer; *at gets its offset there (for
 * patching sequence_number). Returns 0, an encode error or SG_ENOMEM. */
int sg__smpp_out_pdu(sg_smpp_session_t *s, const sg_smpp_pdu_t *pdu,
                     size_t *at);
/* Appends a header-only PDU. Returns 0 or SG_ENOMEM. */
int sg__smpp_out_header(sg_smpp_session_t *s, uint32_t command_id,
                        uint32_t command_status, uint32_t seq);
/* Overwrites sequence_number of the PDU written at offset `at`. */
void sg__smpp_out_patch_seq(sg_smpp_session_t *s, size_t at, uint32_t seq);
void sg__smpp_out_free(sg_smpp_session_t *s);

/* Allocates the table for cfg.window. Returns 0 or SG_ENOMEM. */
int sg__smpp_slots_init(sg_smpp_session_t *s);
/* The next sequence_number whose slot holds no request in flight. */
uint32_t sg__smpp_seq_next(sg_smpp_session_t *s);
/* Records request seq as in flight until deadline (at the list's tail). */
void sg__smpp_slot_add(sg_smpp_session_t *s, uint32_t seq, uint32_t command_id,
                       void *ctx, uint64_t deadline);
/* The slot of seq if it holds that request (in flight or timed out). */
sg__smpp_slot_t *sg__smpp_slot_find(sg_smpp_session_t *s, uint32_t seq);
/* Takes an in-flight slot off the list; it becomes `state`. */
void sg__smpp_slot_retire(sg_smpp_session_t *s, sg__smpp_slot_t *slot,
                          uint8_t state);
/* The oldest request in flight, or NULL. */
sg__smpp_slot_t *sg__smpp_slot_oldest(sg_smpp_session_t *s);

/* ---- Events and transitions (session.c) --------------------------------- */

void sg__smpp_emit(sg_smpp_session_t *s, sg_smpp_event_t *ev);
void sg__smpp_goto(sg_smpp_session_t *s, sg_smpp_state_t next, uint64_t now_ms);
/* Closes from the inside (protocol error, timer): as
 * sg_smpp_session_close() without the re-entrancy bookkeeping. */
/* Closes a session the peer unbound once its last answer came. */
void sg__smpp_drained(sg_smpp_session_t *s);
void sg__smpp_close(sg_smpp_session_t *s, int reason);
/* Whether the handling of the current input must stop. */
static inline bool sg__smpp_stopped(const sg_smpp_session_t *s) {
  return s->doomed || s->state == SG_SMPP_STATE_CLOSED;
}

/* ---- Received PDUs (session_rx.c) --------------------------------------- */

/* Handles one framed PDU buf[0..len). */
void sg__smpp_rx_pdu(sg_smpp_session_t *s, const uint8_t *buf, size_t len,
                     uint64_t now_ms);
/* Appends an answer the session makes itself; on SG_ENOMEM closes. */
void sg__smpp_rx_answer(sg_smpp_session_t *s, uint32_t command_id,
                        uint32_t command_status, uint32_t seq);

#endif
