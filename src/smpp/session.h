/* session.h - the SMPP 3.4 session state machine, for both ends of a link:
 * the ESME role (smsgate's connectors to operators) and the SMSC role (the
 * SMSC simulator and smsgate's own SMPP server).
 *
 * Sans-I/O. A session has no socket, no timer and no clock. Its owner (the
 * "driver", e.g. a libuv TCP handle) feeds it:
 *   - the octets read from the peer:        sg_smpp_session_input();
 *   - the time, as a monotonic millisecond  sg_smpp_session_tick(), and asks
 *     count it passes to every call:        sg_smpp_session_next_deadline();
 *   - commands: bind, outbind, accept/reject a bind, send a request,
 *     respond, unbind, close;
 * and the session gives back:
 *   - octets to write to the peer, in one internal output buffer the driver
 *     drains (sg_smpp_session_output()/sg_smpp_session_consume()), so that
 *     every PDU produced between two writes leaves in one write;
 *   - events, through one callback (sg_smpp_event_cb): bound, bind failed,
 *     request received, response received (matched to the caller's
 *     context), no response (timeout or close), late response, unknown
 *     response, dead peer, unbound, protocol error, closed.
 *
 * A typical driver:
 *
 *   sg_smpp_session_new(SG_SMPP_ROLE_ESME, &cfg, on_event, conn, now, &s);
 *   sg_smpp_session_bind(s, SG_SMPP_BIND_TRX, &params, now);
 *   read_cb:   sg_smpp_session_input(s, buf, nread, now); flush(); rearm();
 *   timer_cb:  sg_smpp_session_tick(s, now); flush(); rearm();
 *   submit:    seq = sg_smpp_session_send_request(s, &pdu, msg, now);
 *              (SG_EBUSY: the window is full, wait for a RESPONSE or
 *              NO_RESPONSE event) flush(); rearm();
 *   flush():   if no write is in flight and
 *              (n = sg_smpp_session_output(s, &p)) > 0, write p[0..n);
 *              when the write completes, sg_smpp_session_consume(s, n) and
 *              flush() again;
 *   rearm():   d = sg_smpp_session_next_deadline(s); start the timer for
 *              d - now (0 if in the past) or stop it (SG_SMPP_NO_DEADLINE);
 *   on CLOSED: finish writing what output remains (it may hold a final
 *              generic_nack or unbind_resp), then close the socket and
 *              sg_smpp_session_free(s).
 *
 * States (section 2.2 of SMPP 3.4, modelled like libosmocore's osmo_fsm:
 * session_fsm.c holds, per state, the inputs it accepts and the states it
 * may go to):
 *
 *   OPEN       connected, not bound. ESME: call bind (or wait for an
 *              outbind). SMSC: waits for a bind; after bind_timeout_ms
 *              without one the session closes (SG_ETIMEDOUT).
 *   OUTBOUND   SMSC only: outbind sent, waiting for the ESME's bind (same
 *              bind_timeout_ms).
 *   BINDING    ESME: bind sent, waiting for bind_*_resp (bind_timeout_ms).
 *              SMSC: a bind arrived and the owner has been asked
 *              (SG_SMPP_EV_BIND_REQUEST); waiting for accept/reject
 *              (decide_timeout_ms; then the session answers the bind
 *              with ESME_RBINDFAIL and closes).
 *   BOUND_TX / BOUND_RX / BOUND_TRX
 *              bound as transmitter, receiver or transceiver. Requests flow
 *              as section 2.3 allows for the bind type (table below).
 *   UNBINDING  unbind sent, waiting for unbind_resp (response_timeout_ms);
 *              responses to earlier requests are still matched.
 *   CLOSED     final. No more input is taken, no more commands accepted.
 *              Output already produced stays readable.
 *
 *   OPEN --bind--> BINDING --bind_resp ok / accept--> BOUND_*
 *   OPEN --outbind (SMSC)--> OUTBOUND --bind received--> BINDING
 *   BINDING --bind_resp error / reject--> OPEN
 *   BINDING (SMSC) --no decision in decide_timeout_ms: bind_*_resp
 *                    ESME_RBINDFAIL--> CLOSED
 *   BOUND_* --unbind sent--> UNBINDING --unbind_resp--> CLOSED
 *   BOUND_* / UNBINDING --unbind received (answered)--> CLOSED
 *   any --close, dead peer, fatal protocol error, timer--> CLOSED
 *
 * Who may send what, in which state (section 2.3, table 2-1). A request
 * received against this table is answered by the session itself with
 * ESME_RINVBNDSTS (a bind while bound: ESME_RALYBND) and never reaches the
 * owner; a request the owner tries to send against it fails with
 * SG_ESTATE:
 *
 *   submit_sm, submit_multi,      from the ESME in BOUND_TX, BOUND_TRX
 *   query_sm, cancel_sm,
 *   replace_sm
 *   deliver_sm,                   from the SMSC in BOUND_RX, BOUND_TRX
 *   alert_notification
 *   data_sm                       from the ESME in BOUND_TX, BOUND_TRX;
 *                                 from the SMSC in BOUND_RX, BOUND_TRX
 *   enquire_link                  both, in BOUND_*; the session answers
 *                                 one in every state but CLOSED (SMPP 5.0
 *                                 allows it before bind)
 *   unbind                        both, in BOUND_*
 *   bind_*                        from the ESME in OPEN (the session's own)
 *   outbind                       from the SMSC in OPEN (the session's own)
 *
 * Sequence numbers (section 3.2): requests are numbered from
 * config.first_sequence (1 by default) upwards; after 0x7FFFFFFF comes 1.
 * A number may be skipped (never repeated) when its in-flight slot is still
 * busy, so numbers stay unique among requests in flight.
 *
 * Re-entrancy. From inside the event callback the owner MAY call every
 * function of this header on the same session: send requests, respond,
 * bind, accept/reject, unbind, close, read output, and even
 * sg_smpp_session_free() (the memory is released when the outermost
 * session call returns; no further event fires). It may NOT call
 * sg_smpp_session_input() or sg_smpp_session_tick() (they return
 * SG_ESTATE). After the owner closes the session from a callback, the rest
 * of the octets being processed are dropped and only the events that the
 * close itself produces (NO_RESPONSE for requests in flight, CLOSED) fire.
 *
 * Threads: a session belongs to one thread (its loop); sessions share
 * nothing, so different sessions may live on different threads.
 *
 * Allocation: the session object and its in-flight table when it is
 * created; its two output buffers, and the input buffer that holds a PDU
 * split across reads, when they first need to grow. All through
 * core/alloc.h; nothing is allocated per PDU.
 */
#ifndef SG_SMPP_SESSION_H
#define SG_SMPP_SESSION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/error.h"
#include "smpp/pdu.h"

/* ---- Types ------------------------------------------------------------ */

typedef struct sg_smpp_session sg_smpp_session_t;

typedef enum sg_smpp_role {
  SG_SMPP_ROLE_ESME = 0, /* binds to an SMSC; sends submit_sm */
  SG_SMPP_ROLE_SMSC = 1  /* accepts binds; sends deliver_sm */
} sg_smpp_role_t;

typedef enum sg_smpp_state {
  SG_SMPP_STATE_OPEN = 0,
  SG_SMPP_STATE_OUTBOUND,
  SG_SMPP_STATE_BINDING,
  SG_SMPP_STATE_BOUND_TX,
  SG_SMPP_STATE_BOUND_RX,
  SG_SMPP_STATE_BOUND_TRX,
  SG_SMPP_STATE_UNBINDING,
  SG_SMPP_STATE_CLOSED,
  SG_SMPP_STATE_COUNT_
} sg_smpp_state_t;

/* The three kinds of bind (sections 4.1.1, 4.1.3, 4.1.5). */
typedef enum sg_smpp_bind_type {
  SG_SMPP_BIND_NONE = 0,
  SG_SMPP_BIND_TX = 1, /* bind_transmitter */
  SG_SMPP_BIND_RX = 2, /* bind_receiver */
  SG_SMPP_BIND_TRX = 3 /* bind_transceiver */
} sg_smpp_bind_type_t;

/* The value sg_smpp_session_next_deadline() returns when no timer runs. */
#define SG_SMPP_NO_DEADLINE UINT64_MAX

/* Largest window (config.window). */
#define SG_SMPP_SESSION_WINDOW_MAX 8192u

/* interface_version / sc_interface_version for SMPP 3.4 (section 5.2.4). */
#define SG_SMPP_INTERFACE_VERSION 0x34u

/* Session settings. Fill with sg_smpp_session_config_default() and change
 * what you need; the session copies the struct. A timer set to 0 is off. */
typedef struct sg_smpp_session_config {
  /* Most requests of the owner in flight (sent, not yet answered or timed
   * out); sg_smpp_session_send_request() returns SG_EBUSY beyond it.
   * 1..SG_SMPP_SESSION_WINDOW_MAX. Default 10. The session's own requests
   * (bind, unbind, enquire_link, outbind) do not count. */
  uint32_t window;
  /* Time a request may wait for its response before the owner gets
   * SG_SMPP_EV_NO_RESPONSE (SG_ETIMEDOUT) and its window slot is freed.
   * Also bounds the wait for unbind_resp. Default 30000. */
  uint32_t response_timeout_ms;
  /* ESME: time to wait for bind_*_resp. SMSC: time a connection may stay
   * in OPEN or OUTBOUND without a bind. Default 10000. */
  uint32_t bind_timeout_ms;
  /* SMSC: time a bind may wait in BINDING for the owner's
   * sg_smpp_session_accept_bind() / reject_bind() (the owner may check a
   * password on a thread pool, slow on a loaded machine). When it runs out
   * the session answers the bind itself with ESME_RBINDFAIL and then closes
   * (SG_SMPP_EV_CLOSED, SG_ETIMEDOUT): the ESME gets an answer instead of a
   * dropped connection, and the owner's decision, still on its way, can no
   * longer meet a later bind on the same connection. Default 10000; 0:
   * wait forever. */
  uint32_t decide_timeout_ms;
  /* When bound and nothing has been received from the peer for this long,
   * send enquire_link (section 4.11). Default 30000; 0: never. */
  uint32_t enquire_link_interval_ms;
  /* If nothing at all (no enquire_link_resp, no other PDU) is received
   * within this time after that enquire_link: SG_SMPP_EV_DEAD_PEER, then
   * the session closes with SG_ETIMEDOUT. Default 10000; 0: wait forever. */
  uint32_t enquire_link_timeout_ms;
  /* Most requests received from the peer and not yet answered by the
   * owner. Beyond it, requests are answered at once by the session with
   * inbound_full_status and never reach the owner (back-pressure, DESIGN
   * "Back-pressure"). Default 0: no limit. */
  uint32_t inbound_window;
  uint32_t inbound_full_status; /* default ESME_RTHROTTLED */
  /* Largest command_length accepted; a larger one is answered with
   * generic_nack ESME_RINVCMDLEN and the session closes.
   * Default SG_SMPP_MAX_PDU_DEFAULT. */
  uint32_t max_pdu_len;
  /* sg_smpp_pdu_decode() flags for received PDUs (SG_SMPP_DECODE_*). */
  unsigned decode_flags;
  /* The first sequence_number used, 1..0x7FFFFFFF. Default 1. */
  uint32_t first_sequence;
} sg_smpp_session_config_t;

/* What the ESME role sends in its bind (section 4.1.1). Strings are copied;
 * NULL means "" (NULL / empty C-Octet String). */
typedef struct sg_smpp_bind_params {
  const char *system_id;     /* up to 15 characters */
  const char *password;      /* up to 8 characters */
  const char *system_type;   /* up to 12 characters */
  uint8_t interface_version; /* 0 means SG_SMPP_INTERFACE_VERSION */
  uint8_t addr_ton;
  uint8_t addr_npi;
  const char *address_range; /* up to 40 characters */
} sg_smpp_bind_params_t;

/* ---- Events ----------------------------------------------------------- */

typedef enum sg_smpp_event_type {
  /* SMSC: a bind_transmitter/receiver/transceiver arrived in OPEN or
   * OUTBOUND. pdu: the bind (system_id, password, system_type, ...);
   * bind_type; sequence_number. State is now BINDING. Answer, now or later,
   * with sg_smpp_session_accept_bind() or sg_smpp_session_reject_bind(). */
  SG_SMPP_EV_BIND_REQUEST = 1,
  /* The session is bound. ESME: bind_*_resp with ESME_ROK arrived (pdu:
   * that response; its system_id is the SMSC's). SMSC: the owner accepted
   * (pdu NULL). bind_type tells which; state is BOUND_TX/RX/TRX. */
  SG_SMPP_EV_BOUND,
  /* ESME: the bind failed. command_status holds the SMSC's status (from
   * bind_*_resp or generic_nack; pdu points to it) and error is SG_EPROTO,
   * or error is SG_ETIMEDOUT (no answer in bind_timeout_ms; the session
   * closes right after). On a refusal (a non-zero status), state is OPEN
   * again: bind again or close. An answer that does not decode (pdu NULL)
   * or a generic_nack with ESME_ROK leaves the link in doubt: the session
   * closes right after (SG_EPROTO). */
  SG_SMPP_EV_BIND_FAILED,
  /* ESME: an outbind arrived in OPEN (section 4.1.7; pdu: system_id,
   * password of the SMSC). Answer with sg_smpp_session_bind(). */
  SG_SMPP_EV_OUTBIND,
  /* A request from the peer that is allowed in this state (submit_sm,
   * deliver_sm, data_sm, query_sm, ... alert_notification). pdu: the decoded
   * request; sequence_number and command_id are its. Answer every request
   * that has a response with sg_smpp_session_respond() or
   * sg_smpp_session_respond_status() (now or later, in any order);
   * alert_notification has none. enquire_link and unbind are answered by
   * the session and never reported as requests. */
  SG_SMPP_EV_REQUEST,
  /* The response to one of the owner's requests. ctx: the context given to
   * sg_smpp_session_send_request(); request_command_id: what was sent;
   * command_id: the response's (the request's *_resp, or generic_nack);
   * command_status: its status (a generic_nack's status fails the request);
   * pdu: the decoded response. If the response's header matched but its
   * body did not decode, pdu is NULL and error is SG_EPROTO (command_status
   * is still the header's; a SG_SMPP_EV_PROTOCOL_ERROR precedes it). A
   * response whose command_id is neither the request's *_resp nor
   * generic_nack does not match (SG_SMPP_EV_UNKNOWN_RESPONSE). The window
   * slot is free again. */
  SG_SMPP_EV_RESPONSE,
  /* One of the owner's requests will get no (timely) response: its outcome
   * is UNKNOWN (the peer may or may not have acted on it). error is
   * SG_ETIMEDOUT (response_timeout_ms passed) or SG_ECLOSED (the session
   * closed with it in flight). ctx, sequence_number, request_command_id
   * identify it. The window slot is free again; ctx is never mentioned
   * again, except by a SG_SMPP_EV_LATE_RESPONSE for a timed-out request. */
  SG_SMPP_EV_NO_RESPONSE,
  /* A response arrived for a request that had already timed out
   * (SG_SMPP_EV_NO_RESPONSE with SG_ETIMEDOUT). Reported once; never also
   * as SG_SMPP_EV_RESPONSE. ctx holds the same VALUE as before, for
   * identification only: the session never dereferences it, and if the
   * owner released what it pointed to, it must not either. The session
   * remembers timed-out requests until their slot is reused by a later
   * request (at least `window` requests later); a response later than that
   * is reported as SG_SMPP_EV_UNKNOWN_RESPONSE. */
  SG_SMPP_EV_LATE_RESPONSE,
  /* A response (or generic_nack) whose sequence_number matches no request
   * of this session. pdu: it. Ignored otherwise (counted in stats). */
  SG_SMPP_EV_UNKNOWN_RESPONSE,
  /* The enquire_link sent on an idle link got no answer, and nothing else
   * arrived, within enquire_link_timeout_ms. The session closes right
   * after (SG_SMPP_EV_CLOSED with SG_ETIMEDOUT). */
  SG_SMPP_EV_DEAD_PEER,
  /* The session was unbound: the peer answered our unbind (pdu: the
   * unbind_resp), or the peer sent unbind and the session answered it with
   * unbind_resp ESME_ROK (pdu: the unbind). SG_SMPP_EV_CLOSED (error 0)
   * follows at once. */
  SG_SMPP_EV_UNBOUND,
  /* The session rejected something the peer sent, for the log and the
   * counters: command_status is what it answered (0 when nothing was sent,
   * e.g. a malformed response); decode_err is set when the PDU did not
   * decode (NULL when it decoded but was wrong for the state: then pdu is
   * set); command_id and sequence_number are from the header when known.
   * error is SG_EPROTO, or SG_ERANGE for a command_length out of bounds,
   * after which the session closes. */
  SG_SMPP_EV_PROTOCOL_ERROR,
  /* The session is CLOSED, once per session. error is 0 after an unbind,
   * else why: SG_ECLOSED (or whatever the owner passed to
   * sg_smpp_session_close()), SG_ETIMEDOUT (bind, unbind or enquire_link
   * timer), SG_ERANGE (bad command_length), SG_ENOMEM (output could not
   * grow). Every request in flight was reported as SG_SMPP_EV_NO_RESPONSE
   * (SG_ECLOSED) just before. Write the remaining output, then close the
   * connection. */
  SG_SMPP_EV_CLOSED
} sg_smpp_event_type_t;

typedef struct sg_smpp_event {
  sg_smpp_event_type_t type;
  uint32_t command_id;           /* of `pdu`, or of the request concerned */
  uint32_t command_status;       /* see each event */
  uint32_t sequence_number;      /* of the PDU or request concerned */
  uint32_t request_command_id;   /* RESPONSE, NO_RESPONSE, LATE_RESPONSE */
  sg_smpp_bind_type_t bind_type; /* BIND_REQUEST, BOUND */
  int error;                     /* 0 or SG_E*, see each event */
  void *ctx;                     /* the owner's request context, or NULL */
  /* The PDU concerned, or NULL. Borrowed: it and every TLV value it points
   * to are valid only until the callback returns. */
  const sg_smpp_pdu_t *pdu;
  const sg_smpp_decode_err_t *decode_err; /* PROTOCOL_ERROR only */
} sg_smpp_event_t;

/* The event callback: called from inside the session functions of the
 * thread that owns it (see "Re-entrancy" above). `user` is what was given
 * to sg_smpp_session_new(). */
typedef void (*sg_smpp_event_cb)(sg_smpp_session_t *s,
                                 const sg_smpp_event_t *ev, void *user);

/* Counters, for metrics and tests. */
typedef struct sg_smpp_session_stats {
  uint64_t pdus_in;           /* PDUs framed from the input */
  uint64_t pdus_out;          /* PDUs written to the output */
  uint64_t requests_in;       /* requests reported as SG_SMPP_EV_REQUEST */
  uint64_t requests_out;      /* owner requests sent */
  uint64_t responses_matched; /* SG_SMPP_EV_RESPONSE */
  uint64_t timeouts;          /* SG_SMPP_EV_NO_RESPONSE, SG_ETIMEDOUT */
  uint64_t late_responses;    /* SG_SMPP_EV_LATE_RESPONSE */
  uint64_t unknown_responses; /* SG_SMPP_EV_UNKNOWN_RESPONSE */
  uint64_t rejected_in;       /* PDUs the session answered with an error */
  uint64_t generic_nacks_out; /* of which generic_nack */
  uint64_t throttled_in;      /* of which inbound_full_status */
  uint64_t enquire_links_out; /* sent by the session on idle links */
} sg_smpp_session_stats_t;

/* ---- Life cycle ------------------------------------------------------- */

/* Fills *cfg with the defaults listed in sg_smpp_session_config_t. */
void sg_smpp_session_config_default(sg_smpp_session_config_t *cfg);

/* Creates a session in state OPEN for a freshly connected link, with the
 * given role. cfg may be NULL (defaults); it is copied. cb must not be
 * NULL; user is passed back to it. now_ms starts the SMSC's bind timer.
 * Fires no event. Returns 0 and sets *out, SG_EINVAL (bad argument or
 * config: window 0 or above SG_SMPP_SESSION_WINDOW_MAX, first_sequence 0 or
 * above 0x7FFFFFFF, max_pdu_len below 16), or SG_ENOMEM. */
int sg_smpp_session_new(sg_smpp_role_t role,
                        const sg_smpp_session_config_t *cfg,
                        sg_smpp_event_cb cb, void *user, uint64_t now_ms,
                        sg_smpp_session_t **out);

/* Releases the session and everything it owns (including unread output).
 * Fires no event: contexts of requests still in flight are not reported,
 * so call sg_smpp_session_close() first if the owner needs them back.
 * May be called from inside the event callback (then the memory goes when
 * the outermost session call returns). NULL is a no-op. */
void sg_smpp_session_free(sg_smpp_session_t *s);

/* Closes the session at once (no unbind): state CLOSED, every request in
 * flight reported as SG_SMPP_EV_NO_RESPONSE (SG_ECLOSED), then
 * SG_SMPP_EV_CLOSED with `reason` (e.g. SG_ECLOSED when the peer closed
 * the connection, SG_EIO on a socket error). Output already produced stays
 * readable. A no-op (no event) when already CLOSED. */
void sg_smpp_session_close(sg_smpp_session_t *s, int reason);

/* ---- Input and time --------------------------------------------------- */

/* Consumes octets read from the peer: frames PDUs (the octets are copied
 * only when a PDU is split across calls), decodes and handles each one,
 * firing the events above and producing answers in the output. Any split
 * of the stream gives the same result.
 *
 * A PDU that does not decode is answered as sg_smpp_reject_command_id()
 * says (generic_nack, or the request's response, with the decoder's
 * command_status). A command_length below 16 or above max_pdu_len is
 * answered with generic_nack ESME_RINVCMDLEN and closes the session
 * (SG_ERANGE), as the stream cannot be resynchronised. now_ms restarts the
 * idle (enquire_link) timer.
 *
 * Returns 0 (also when the session closed while handling the input: watch
 * for SG_SMPP_EV_CLOSED), SG_ESTATE if CLOSED already or called from
 * inside a callback, or SG_ENOMEM (the session is then closed). */
int sg_smpp_session_input(sg_smpp_session_t *s, const uint8_t *data, size_t len,
                          uint64_t now_ms);

/* Runs the timers that are due at now_ms: response timeouts
 * (SG_SMPP_EV_NO_RESPONSE), the bind and unbind timers, the idle
 * enquire_link and its dead-peer timer. Cheap when nothing is due: call it
 * when the timer from sg_smpp_session_next_deadline() fires, or more often.
 * Returns 0, or SG_ESTATE if called from inside a callback. */
int sg_smpp_session_tick(sg_smpp_session_t *s, uint64_t now_ms);

/* The earliest time (same clock as now_ms) at which
 * sg_smpp_session_tick() has work, or SG_SMPP_NO_DEADLINE. O(1). Ask again
 * after every call into the session: sending a request or receiving octets
 * may move it. */
uint64_t sg_smpp_session_next_deadline(const sg_smpp_session_t *s);

/* ---- Output ----------------------------------------------------------- */

/* Points *data at the octets waiting to be written and returns how many
 * (0: nothing to write, *data NULL). The region stays valid and unchanged
 * until sg_smpp_session_consume() or sg_smpp_session_free(), even if the
 * session produces more output meanwhile (that goes to a second buffer and
 * is returned by a later call), so it can be handed to an asynchronous
 * write as it is. Calling it again before consuming returns the same
 * region. */
size_t sg_smpp_session_output(sg_smpp_session_t *s, const uint8_t **data);

/* Marks the first n octets of the region returned by
 * sg_smpp_session_output() as written (n may be less than its length, for
 * a partial write; more is clamped). */
void sg_smpp_session_consume(sg_smpp_session_t *s, size_t n);

/* All octets produced and not yet consumed (both buffers). A driver can
 * stop reading from the peer while this is above its high-water mark. */
size_t sg_smpp_session_output_pending(const sg_smpp_session_t *s);

/* ---- Commands --------------------------------------------------------- */

/* ESME: sends bind_transmitter/receiver/transceiver (section 4.1) with
 * `params`, in OPEN (also after an outbind). State becomes BINDING; then
 * SG_SMPP_EV_BOUND or SG_SMPP_EV_BIND_FAILED follows from input or tick.
 * Returns 0, SG_ESTATE (SMSC role, or not OPEN), SG_EINVAL (bad type or
 * params NULL), SG_ETOOLONG (a string above its spec maximum) or
 * SG_ENOMEM. */
int sg_smpp_session_bind(sg_smpp_session_t *s, sg_smpp_bind_type_t type,
                         const sg_smpp_bind_params_t *params, uint64_t now_ms);

/* SMSC: accepts the bind reported by SG_SMPP_EV_BIND_REQUEST. Sends
 * bind_*_resp ESME_ROK with system_id (the SMSC's, NULL means "") and,
 * when the ESME's interface_version is 0x34 or above, the
 * sc_interface_version TLV (section 5.3.2.25). State becomes BOUND_*, and
 * SG_SMPP_EV_BOUND fires before this returns. Returns 0, SG_ESTATE (not
 * BINDING in the SMSC role), SG_ETOOLONG or SG_ENOMEM. */
int sg_smpp_session_accept_bind(sg_smpp_session_t *s, const char *system_id,
                                uint64_t now_ms);

/* SMSC: rejects the bind reported by SG_SMPP_EV_BIND_REQUEST with
 * command_status (non-zero, e.g. ESME_RINVPASWD, ESME_RBINDFAIL). Sends
 * bind_*_resp with that status and no body. State becomes OPEN again (the
 * ESME may retry until bind_timeout_ms; the owner may close). Returns 0,
 * SG_EINVAL (status 0), SG_ESTATE or SG_ENOMEM. */
int sg_smpp_session_reject_bind(sg_smpp_session_t *s, uint32_t command_status,
                                uint64_t now_ms);

/* SMSC: sends outbind (section 4.1.7) in OPEN, asking the ESME to bind.
 * State becomes OUTBOUND; the ESME's bind then arrives as
 * SG_SMPP_EV_BIND_REQUEST. Returns 0, SG_ESTATE, SG_ETOOLONG or SG_ENOMEM. */
int sg_smpp_session_outbind(sg_smpp_session_t *s, const char *system_id,
                            const char *password, uint64_t now_ms);

/* Sends one request of the owner: submit_sm, deliver_sm, data_sm,
 * query_sm, cancel_sm, replace_sm, submit_multi, alert_notification or
 * enquire_link, allowed for this role and state (table above). The
 * session sets its sequence_number (pdu->sequence_number is ignored; pdu is
 * not modified and is not kept: its TLV values may go once this returns)
 * and starts its response timer. ctx is the owner's, returned with the
 * response events; the session never dereferences it.
 *
 * Returns the sequence_number (> 0) or: SG_EBUSY when `window` requests
 * are in flight (nothing was sent; retry after a RESPONSE or NO_RESPONSE
 * event); SG_ESTATE when not allowed now; SG_EINVAL for a response, an
 * unknown command_id, or a PDU the session sends itself (bind_*, unbind,
 * outbind, generic_nack); any error of sg_smpp_pdu_encode() for a PDU that
 * does not encode; SG_ENOMEM. On error no event fires. alert_notification
 * takes no window slot and gets no response events. */
long sg_smpp_session_send_request(sg_smpp_session_t *s,
                                  const sg_smpp_pdu_t *pdu, void *ctx,
                                  uint64_t now_ms);

/* Answers a request reported by SG_SMPP_EV_REQUEST. resp->command_id must
 * be a response (submit_sm_resp ...), resp->sequence_number the request's;
 * resp->command_status and the body are sent as they are (set body_omitted
 * for an error response without body). Allowed in every state but CLOSED
 * (answers may follow an unbind we sent). Returns 0, SG_ESTATE (CLOSED),
 * SG_EINVAL (not a response), an encode error, or SG_ENOMEM. */
int sg_smpp_session_respond(sg_smpp_session_t *s, const sg_smpp_pdu_t *resp);

/* Answers a request with the response that matches request_command_id
 * (submit_sm -> submit_sm_resp ...) and command_status. A non-zero status
 * sends the header alone (as section 4.4.2 prescribes for submit_sm_resp);
 * ESME_ROK sends an empty body (message_id ""). Returns as
 * sg_smpp_session_respond(); SG_EINVAL when request_command_id has no
 * response. */
int sg_smpp_session_respond_status(sg_smpp_session_t *s,
                                   uint32_t request_command_id,
                                   uint32_t sequence_number,
                                   uint32_t command_status);

/* Answers a request reported by SG_SMPP_EV_REQUEST with a generic_nack
 * (section 4.3) of command_status instead of its own response, as an SMSC
 * does when it cannot take a request it otherwise understood. Counts in
 * generic_nacks_out. Returns as sg_smpp_session_respond(). */
int sg_smpp_session_respond_nack(sg_smpp_session_t *s, uint32_t sequence_number,
                                 uint32_t command_status);

/* Sends unbind (section 4.2) in BOUND_*: state UNBINDING. New requests
 * are refused (SG_ESTATE); responses to those in flight are still matched.
 * On unbind_resp: SG_SMPP_EV_UNBOUND then SG_SMPP_EV_CLOSED (error 0); with
 * no answer within response_timeout_ms: SG_SMPP_EV_CLOSED (SG_ETIMEDOUT).
 * Returns 0, SG_ESTATE or SG_ENOMEM. */
int sg_smpp_session_unbind(sg_smpp_session_t *s, uint64_t now_ms);

/* ---- Introspection ---------------------------------------------------- */

sg_smpp_state_t sg_smpp_session_state(const sg_smpp_session_t *s);
sg_smpp_role_t sg_smpp_session_role(const sg_smpp_session_t *s);
/* Bind type while BOUND_* or UNBINDING, else SG_SMPP_BIND_NONE. */
sg_smpp_bind_type_t sg_smpp_session_bind_type(const sg_smpp_session_t *s);
/* Whether the owner may send request command_id now (role, state). */
bool sg_smpp_session_can_send(const sg_smpp_session_t *s, uint32_t command_id);
/* Owner requests in flight, and free window slots. */
uint32_t sg_smpp_session_in_flight(const sg_smpp_session_t *s);
uint32_t sg_smpp_session_window_free(const sg_smpp_session_t *s);
/* Requests received and not yet answered (see inbound_window). */
uint32_t sg_smpp_session_inbound_pending(const sg_smpp_session_t *s);
/* The peer's system_id: from its bind (SMSC role) or bind_*_resp (ESME
 * role); "" before. Valid as long as the session. */
const char *sg_smpp_session_peer_system_id(const sg_smpp_session_t *s);
/* The counters (a copy). */
void sg_smpp_session_stats(const sg_smpp_session_t *s,
                           sg_smpp_session_stats_t *out);

/* Names, for logs: "BOUND_TRX", "REQUEST", "bind_transceiver". Never NULL. */
const char *sg_smpp_state_name(sg_smpp_state_t state);
const char *sg_smpp_event_name(sg_smpp_event_type_t type);
const char *sg_smpp_bind_type_name(sg_smpp_bind_type_t type);

/* The bind request's command_id for a bind type (its response is that |
 * SG_SMPP_RESP_BIT), or 0 for SG_SMPP_BIND_NONE. */
uint32_t sg_smpp_bind_command_id(sg_smpp_bind_type_t type);
/* The bind type of bind_* or bind_*_resp, or SG_SMPP_BIND_NONE. */
sg_smpp_bind_type_t sg_smpp_bind_type_of(uint32_t command_id);

#endif
