/* session_fsm.c - the SMPP session state machine as data: for every state
 * (SMPP 3.4 section 2.2) the inputs it accepts, the states it may go to and
 * the timer it runs, in the manner of libosmocore's osmo_fsm_state; and for
 * every request the roles and states in which it may be sent (section 2.3,
 * table 2-1). session.c and session_rx.c consult these tables instead of
 * spreading the rules over switch statements. This file holds no session
 * and must never act: it only answers questions.
 */
#include "smpp/session_int.h"

#define IN(x) (1u << SG__IN_##x)
#define ST(x) (1u << SG_SMPP_STATE_##x)
#define BOUND (ST(BOUND_TX) | ST(BOUND_RX) | ST(BOUND_TRX))
#define NOT_CLOSED                                                             \
  (ST(OPEN) | ST(OUTBOUND) | ST(BINDING) | BOUND | ST(UNBINDING))

/* Inputs every live state takes: answers to requests already received,
 * responses (matched or not), enquire_link (section 4.11; SMPP 5.0 allows
 * it before bind as well). */
#define IN_ALWAYS (IN(RESPOND) | IN(RX_RESPONSE) | IN(RX_ENQUIRE))
#define IN_BOUND                                                               \
  (IN_ALWAYS | IN(REQUEST) | IN(UNBIND) | IN(RX_REQUEST) | IN(RX_UNBIND) |     \
   IN(T_ENQUIRE))

static const sg__smpp_state_desc_t states[SG_SMPP_STATE_COUNT_] = {
    [SG_SMPP_STATE_OPEN] = {"OPEN",
                            IN_ALWAYS | IN(BIND) | IN(OUTBIND) | IN(RX_BIND) |
                                IN(RX_OUTBIND) | IN(T_STATE),
                            ST(BINDING) | ST(OUTBOUND) | ST(CLOSED),
                            SG__T_BIND_SMSC},
    [SG_SMPP_STATE_OUTBOUND] = {"OUTBOUND",
                                IN_ALWAYS | IN(RX_BIND) | IN(T_STATE),
                                ST(BINDING) | ST(CLOSED), SG__T_BIND},
    [SG_SMPP_STATE_BINDING] = {"BINDING", IN_ALWAYS | IN(DECIDE) | IN(T_STATE),
                               BOUND | ST(OPEN) | ST(CLOSED), SG__T_BINDING},
    [SG_SMPP_STATE_BOUND_TX] = {"BOUND_TX", IN_BOUND,
                                ST(UNBINDING) | ST(CLOSED), SG__T_NONE},
    [SG_SMPP_STATE_BOUND_RX] = {"BOUND_RX", IN_BOUND,
                                ST(UNBINDING) | ST(CLOSED), SG__T_NONE},
    [SG_SMPP_STATE_BOUND_TRX] = {"BOUND_TRX", IN_BOUND,
                                 ST(UNBINDING) | ST(CLOSED), SG__T_NONE},
    [SG_SMPP_STATE_UNBINDING] = {"UNBINDING",
                                 IN_ALWAYS | IN(RX_UNBIND) | IN(T_STATE),
                                 ST(CLOSED), SG__T_RESPONSE},
    [SG_SMPP_STATE_CLOSED] = {"CLOSED", 0, 0, SG__T_NONE},
};

/* Section 2.3, table 2-1: who sends each request, in which states. */
typedef struct perm {
  uint32_t command_id;
  uint16_t esme_states; /* states in which an ESME may send it */
  uint16_t smsc_states; /* states in which an SMSC may send it */
} perm_t;

#define TX_TRX (ST(BOUND_TX) | ST(BOUND_TRX))
#define RX_TRX (ST(BOUND_RX) | ST(BOUND_TRX))

static const perm_t perms[] = {
    {SG_SMPP_SUBMIT_SM, TX_TRX, 0},
    {SG_SMPP_SUBMIT_MULTI, TX_TRX, 0},
    {SG_SMPP_QUERY_SM, TX_TRX, 0},
    {SG_SMPP_CANCEL_SM, TX_TRX, 0},
    {SG_SMPP_REPLACE_SM, TX_TRX, 0},
    {SG_SMPP_DELIVER_SM, 0, RX_TRX},
    {SG_SMPP_ALERT_NOTIFICATION, 0, RX_TRX},
    {SG_SMPP_DATA_SM, TX_TRX, RX_TRX},
    {SG_SMPP_ENQUIRE_LINK, NOT_CLOSED, NOT_CLOSED},
    {SG_SMPP_UNBIND, BOUND, BOUND},
    {SG_SMPP_BIND_TRANSMITTER, ST(OPEN), 0},
    {SG_SMPP_BIND_RECEIVER, ST(OPEN), 0},
    {SG_SMPP_BIND_TRANSCEIVER, ST(OPEN), 0},
    {SG_SMPP_OUTBIND, 0, ST(OPEN)},
};

const sg__smpp_state_desc_t *sg__smpp_state_desc(sg_smpp_state_t st) {
  return (unsigned)st < SG_SMPP_STATE_COUNT_ ? &states[st]
                                             : &states[SG_SMPP_STATE_CLOSED];
}

bool sg__smpp_fsm_accepts(sg_smpp_state_t st, sg__smpp_input_t in) {
  return (sg__smpp_state_desc(st)->in_mask & (1u << in)) != 0;
}

bool sg__smpp_fsm_may_send(sg_smpp_role_t role, sg_smpp_state_t st,
                           uint32_t command_id) {
  for (size_t i = 0; i < sizeof perms / sizeof perms[0]; i++) {
    if (perms[i].command_id != command_id)
      continue;
    uint16_t mask =
        role == SG_SMPP_ROLE_ESME ? perms[i].esme_states : perms[i].smsc_states;
    return (mask & (1u << st)) != 0;
  }
  return false;
}

bool sg__smpp_fsm_session_owned(uint32_t command_id) {
  return command_id == SG_SMPP_BIND_TRANSMITTER ||
         command_id == SG_SMPP_BIND_RECEIVER ||
         command_id == SG_SMPP_BIND_TRANSCEIVER ||
         command_id == SG_SMPP_UNBIND || command_id == SG_SMPP_OUTBIND ||
         command_id == SG_SMPP_GENERIC_NACK;
}

sg_smpp_state_t sg__smpp_bound_state(sg_smpp_bind_type_t t) {
  switch (t) {
  case SG_SMPP_BIND_TX:
    return SG_SMPP_STATE_BOUND_TX;
  case SG_SMPP_BIND_RX:
    return SG_SMPP_STATE_BOUND_RX;
  case SG_SMPP_BIND_TRX:
    return SG_SMPP_STATE_BOUND_TRX;
  default:
    return SG_SMPP_STATE_OPEN;
  }
}

sg_smpp_bind_type_t sg__smpp_state_bind_type(sg_smpp_state_t st) {
  switch (st) {
  case SG_SMPP_STATE_BOUND_TX:
    return SG_SMPP_BIND_TX;
  case SG_SMPP_STATE_BOUND_RX:
    return SG_SMPP_BIND_RX;
  case SG_SMPP_STATE_BOUND_TRX:
    return SG_SMPP_BIND_TRX;
  default:
    return SG_SMPP_BIND_NONE;
  }
}

/* ---- Names -------------------------------------------------------------- */

const char *sg_smpp_state_name(sg_smpp_state_t state) {
  return (unsigned)state < SG_SMPP_STATE_COUNT_ ? states[state].name
                                                : "UNKNOWN";
}

static const char *const event_names[] = {
    [SG_SMPP_EV_BIND_REQUEST] = "BIND_REQUEST",
    [SG_SMPP_EV_BOUND] = "BOUND",
    [SG_SMPP_EV_BIND_FAILED] = "BIND_FAILED",
    [SG_SMPP_EV_OUTBIND] = "OUTBIND",
    [SG_SMPP_EV_REQUEST] = "REQUEST",
    [SG_SMPP_EV_RESPONSE] = "RESPONSE",
    [SG_SMPP_EV_NO_RESPONSE] = "NO_RESPONSE",
    [SG_SMPP_EV_LATE_RESPONSE] = "LATE_RESPONSE",
    [SG_SMPP_EV_UNKNOWN_RESPONSE] = "UNKNOWN_RESPONSE",
    [SG_SMPP_EV_DEAD_PEER] = "DEAD_PEER",
    [SG_SMPP_EV_UNBOUND] = "UNBOUND",
    [SG_SMPP_EV_PROTOCOL_ERROR] = "PROTOCOL_ERROR",
    [SG_SMPP_EV_CLOSED] = "CLOSED",
};

const char *sg_smpp_event_name(sg_smpp_event_type_t type) {
  if ((unsigned)type >= sizeof event_names / sizeof event_names[0] ||
      event_names[type] == NULL)
    return "UNKNOWN";
  return event_names[type];
}

const char *sg_smpp_bind_type_name(sg_smpp_bind_type_t type) {
  uint32_t id = sg_smpp_bind_command_id(type);
  return id != 0 ? sg_smpp_command_name(id) : "none";
}

uint32_t sg_smpp_bind_command_id(sg_smpp_bind_type_t type) {
  switch (type) {
  case SG_SMPP_BIND_TX:
    return SG_SMPP_BIND_TRANSMITTER;
  case SG_SMPP_BIND_RX:
    return SG_SMPP_BIND_RECEIVER;
  case SG_SMPP_BIND_TRX:
    return SG_SMPP_BIND_TRANSCEIVER;
  default:
    return 0;
  }
}

sg_smpp_bind_type_t sg_smpp_bind_type_of(uint32_t command_id) {
  switch (command_id & ~SG_SMPP_RESP_BIT) {
  case SG_SMPP_BIND_TRANSMITTER:
    return SG_SMPP_BIND_TX;
  case SG_SMPP_BIND_RECEIVER:
    return SG_SMPP_BIND_RX;
  case SG_SMPP_BIND_TRANSCEIVER:
    return SG_SMPP_BIND_TRX;
  default:
    return SG_SMPP_BIND_NONE;
  }
}
