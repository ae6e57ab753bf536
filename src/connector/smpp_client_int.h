/* smpp_client_int.h - the inside of the SMPP client connector, shared by
 * smpp_client.c (life cycle, binds, reconnection, session events),
 * smpp_client_tx.c (the queue, messages of several parts, submit_sm and
 * its outcomes) and smpp_client_rx.c (receipts, inbound messages, acks).
 * Internal to src/connector: nothing else may include it.
 */
#ifndef SG_CONNECTOR_SMPP_CLIENT_INT_H
#define SG_CONNECTOR_SMPP_CLIENT_INT_H

#include <uv.h>

#include "connector/smpp_client.h"
#include "connector/smpp_link.h"
#include "connector/throttle.h"
#include "smpp/pdu.h"

/* ---- Intrusive circular lists ------------------------------------------ */

typedef struct sg__sc_node {
  struct sg__sc_node *prev, *next;
} sg__sc_node_t;

static inline void sg__sc_list_init(sg__sc_node_t *h) {
  h->prev = h->next = h;
}
static inline bool sg__sc_list_empty(const sg__sc_node_t *h) {
  return h->next == h;
}
static inline void sg__sc_list_unlink(sg__sc_node_t *n) {
  n->prev->next = n->next;
  n->next->prev = n->prev;
  n->prev = n->next = n;
}
static inline void sg__sc_list_push_back(sg__sc_node_t *h, sg__sc_node_t *n) {
  n->prev = h->prev;
  n->next = h;
  h->prev->next = n;
  h->prev = n;
}
static inline void sg__sc_list_push_front(sg__sc_node_t *h, sg__sc_node_t *n) {
  n->next = h->next;
  n->prev = h;
  h->next->prev = n;
  h->next = n;
}

#define SG__SC_CONTAINER(ptr, type, member)                                    \
  ((type *)(void *)((char *)(ptr)-offsetof(type, member)))

/* ---- Jobs: what one submit_sm carries ---------------------------------- */

/* Where a job is. QUEUED_MASK are the states counted in stats.queued. */
typedef enum sg__sc_where {
  SG__SC_NEW = 0, /* being built */
  SG__SC_READY,   /* in c->ready[priority], may be sent now */
  SG__SC_RETRY,   /* in c->retry, until not_before */
  SG__SC_BLOCKED, /* in its message's list, behind an earlier part */
  SG__SC_COLLECT, /* payload mode: waiting for the message's other parts */
  SG__SC_FLIGHT,  /* sent, in c->flight, waiting for the response */
  SG__SC_DONE     /* in c->done, its outcome decided, to be reported */
} sg__sc_where_t;

#define SG__SC_QUEUED(w)                                                       \
  ((w) == SG__SC_READY || (w) == SG__SC_RETRY || (w) == SG__SC_BLOCKED ||      \
   (w) == SG__SC_COLLECT)

typedef struct sg__sc_msg sg__sc_msg_t;
typedef struct sg__sc_bind sg__sc_bind_t;

typedef struct sg__sc_job {
  sg__sc_node_t node;  /* in ready/retry/flight/done or its message */
  sg__sc_msg_t *msg;   /* the message of several parts, or NULL */
  sg__sc_bind_t *bind; /* in flight on */
  uint8_t where;       /* sg__sc_where_t */
  uint8_t priority;    /* 0..3 */
  bool active_part;    /* the part of its message allowed to leave now */
  bool payload;        /* every part of a message, in message_payload */
  bool want_report;
  uint8_t encoding; /* sg_encoding_t */
  uint16_t concat_ref;
  uint8_t concat_total;
  uint8_t concat_seq;
  sg_conn_addr_t src, dst;
  int64_t validity_ms, schedule_ms;
  unsigned attempts, temp_retries, unknown_retries;
  uint64_t not_before; /* RETRY: loop time to send again */
  uint64_t ord;        /* FLIGHT: send order (receipts wait on it) */
  /* DONE: the outcome to report. */
  uint8_t outcome;
  uint32_t status;
  const char *status_text;
  /* The owner's part ids: one, or every part of a message_payload. */
  uint32_t n_ids;
  uint64_t *ids;
  uint64_t id_one;
  /* The UDH (UDHL first) and the user data, unpacked septets or octets. */
  uint32_t udh_len;
  uint32_t ud_len;
  uint8_t data[];
} sg__sc_job_t;

/* One message of several parts (see smpp_client.h, "Messages of several
 * parts"). Parts not yet allowed to leave wait in `parts`, in order. */
struct sg__sc_msg {
  sg__sc_node_t node;  /* in c->msgs */
  sg__sc_node_t parts; /* BLOCKED or COLLECT jobs */
  uint16_t ref;
  uint8_t total;
  unsigned have; /* parts submitted so far */
  sg_conn_addr_t dst;
  bool open;   /* more parts may come */
  bool active; /* one part is READY, RETRY or FLIGHT */
  bool failed; /* a part failed: the rest fail the same way */
  uint8_t fail_outcome;
  uint32_t fail_status;
  const char *fail_text;
  unsigned jobs; /* jobs pointing here */
};

/* ---- Binds -------------------------------------------------------------- */

struct sg__sc_bind {
  struct sg__sc_client *c;
  unsigned idx;
  sg_smpp_bind_type_t type;
  sg_smpp_link_t *link; /* NULL while waiting to reconnect */
  bool bound;           /* the session is BOUND_* */
  bool was_bound;       /* this connection reached BOUND */
  bool connected_once;  /* for stats.reconnects */
  bool writable;
  bool unbind_when_drained; /* stopping: unbind once nothing is in flight */
  uint16_t gen;             /* session generation, in ack tokens */
  const char *why;          /* why the bind failed (static), for state_cb */
  unsigned failures;        /* consecutive failed attempts (back-off) */
  uv_timer_t timer;         /* reconnect */
  bool timer_init;
};

/* ---- Receipts held for an unanswered submit ----------------------------- */

typedef struct sg__sc_held {
  sg__sc_node_t node;
  uint64_t mark;    /* c->ord when it arrived */
  uint64_t expires; /* loop time */
  uint64_t token;
  unsigned bind_idx;
  uint16_t gen;
  sg_conn_dlr_t dlr; /* raw points into text[]; keyed when released */
  char *id;          /* the receipt's id, after the raw text in text[] */
  size_t id_len;
  char text[];
} sg__sc_held_t;

/* ---- The connector ------------------------------------------------------ */

typedef struct sg__sc_client {
  sg_connector_t base; /* first: connector.h */
  uv_loop_t *loop;
  sg_smpp_client_config_t cfg; /* strings point into `strings` */
  char *strings;
  sg_smpp_errclass_override_t *overrides;
  sg_smpp_link_tls_t *tls;

  sg__sc_bind_t *binds;
  unsigned n_binds;

  /* Jobs. */
  sg__sc_node_t ready[4]; /* by priority, 3 served first */
  sg__sc_node_t retry;    /* by not_before */
  sg__sc_node_t flight;   /* by ord */
  sg__sc_node_t done;     /* outcomes to report from the idle callback */
  sg__sc_node_t msgs;     /* sg__sc_msg_t with parts waiting */
  sg__sc_msg_t *open_msg; /* the message the next part may belong to */
  uint64_t ord;
  unsigned queued;    /* parts in QUEUED states */
  unsigned in_flight; /* parts in FLIGHT */
  bool want_ready;    /* SG_EBUSY was returned */

  sg__sc_node_t held; /* sg__sc_held_t, in arrival order */
  unsigned n_held;

  sg_throttle_t throttle;
  sg_smpp_pdu_t pdu; /* scratch for submit_sm */
  uint8_t *scratch;  /* packed / payload octets */
  size_t scratch_cap;
  uint64_t rng;

  /* Handles (initialised by start). */
  uv_timer_t timer;   /* retries, tokens, held receipts */
  uint64_t timer_due; /* loop time it is set for; UINT64_MAX: stopped */
  uv_idle_t idle;     /* deferred work of submit/ack/stop */
  bool started;
  bool stopping;
  bool stopped;
  bool paused;
  bool pumping;
  bool pump_again;
  unsigned handles_open;
  void (*stopped_cb)(sg_connector_t *c);

  sg_conn_state_t state;
  sg_conn_stats_t stats;
  sg_smpp_client_xstats_t xstats;

  /* AUTO id modes learn that a side's ids are hex from the first id with a
   * hex letter (see sg__sc_id_mode). */
  bool resp_ids_hex;
  bool receipt_ids_hex;
} sg__sc_client_t;

/* ---- smpp_client.c ------------------------------------------------------ */

/* The mode to key id[0..len) with: `mode` itself unless it is AUTO; in AUTO,
 * HEX once this side has shown an id that is a hex number with a letter
 * (*learned is then set for good), so that a later all-digit hex id is read
 * as hex too. */
sg_msgid_mode_t sg__sc_id_mode(sg_msgid_mode_t mode, bool *learned,
                               const char *id, size_t len);

/* Loop time (ms) and wall-clock time (Unix ms). */
uint64_t sg__sc_now(const sg__sc_client_t *c);
int64_t sg__sc_wall_ms(void);
/* A random number (xorshift), for jitter. */
uint64_t sg__sc_random(sg__sc_client_t *c);
/* Asks for the idle callback (deferred work) to run. */
void sg__sc_soon(sg__sc_client_t *c);
/* Recomputes the connector state and reports a change to state_cb. */
void sg__sc_update_state(sg__sc_client_t *c, const char *reason);
/* Stopping: unbinds b once its last request in flight is answered. */
void sg__sc_bind_drained(sg__sc_bind_t *b);
/* Whether the bind can take a submit_sm now. */
bool sg__sc_bind_can_submit(const sg__sc_bind_t *b);

/* ---- smpp_client_tx.c --------------------------------------------------- */

int sg__sc_submit(sg_connector_t *conn, const sg_conn_part_t *part);
/* Sends what the queue, the binds and the rate allow; re-arms the timer. */
void sg__sc_pump(sg__sc_client_t *c);
/* Reports the outcomes waiting in c->done. */
void sg__sc_flush_done(sg__sc_client_t *c);
/* SG_SMPP_EV_RESPONSE / SG_SMPP_EV_NO_RESPONSE for a submit_sm. */
void sg__sc_on_response(sg__sc_bind_t *b, const sg_smpp_event_t *ev);
void sg__sc_on_no_response(sg__sc_bind_t *b, const sg_smpp_event_t *ev);
/* Stop: every queued part to c->done as TEMPFAIL. */
void sg__sc_fail_queued(sg__sc_client_t *c, const char *why);
/* Sets c->timer for the earliest of: a retry, a held receipt's expiry, the
 * next token when parts are ready. */
void sg__sc_arm_timer(sg__sc_client_t *c);
/* Timer callback work: retries due, tokens, expired receipts. */
void sg__sc_on_timer(sg__sc_client_t *c);
/* Frees every job and message (connector free). */
void sg__sc_free_jobs(sg__sc_client_t *c);

/* ---- smpp_client_rx.c --------------------------------------------------- */

/* SG_SMPP_EV_REQUEST: deliver_sm, data_sm, alert_notification. */
void sg__sc_on_request(sg__sc_bind_t *b, const sg_smpp_event_t *ev);
void sg__sc_ack(sg_connector_t *conn, uint64_t token, bool accepted);
/* Passes on the held receipts no longer waiting for a response (and, with
 * `expire`, those past dlr_hold_ms). */
void sg__sc_release_held(sg__sc_client_t *c, bool expire);
/* Drops the receipts held from a session that closed (never answered: the
 * SMSC resends them). */
void sg__sc_drop_held(sg__sc_client_t *c, unsigned bind_idx, uint16_t gen);

#endif
