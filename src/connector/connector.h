/* connector.h - the interface between the engine and the ways out to
 * operators (SMPP client, GSM modem, HTTP upstream).
 *
 * A connector takes message parts ready to go (addresses, encoding, UDH and
 * user data already chosen by core/segment.h) and reports, for each, one
 * outcome; it delivers receipts and inbound messages to its owner and waits
 * for the owner to say they are stored before it acknowledges them to the
 * operator. It knows nothing of the store, of accounts or of routes: the
 * engine reaches it only through this header.
 *
 * Threading: every function here, and every callback, runs on the libuv
 * loop the connector was created on. Callbacks may call back into the
 * connector (submit, ack, pause) from inside the callback.
 */
#ifndef SG_CONNECTOR_CONNECTOR_H
#define SG_CONNECTOR_CONNECTOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/error.h"
#include "core/segment.h"

typedef struct sg_connector sg_connector_t;

/* Type of number / numbering plan of an address (SMPP 3.4 section 5.2.5 and
 * 5.2.6, the same values as TS 23.040 9.1.2.5). */
typedef struct sg_conn_addr {
  uint8_t ton;   /* 0 unknown, 1 international, 2 national, 3 network
                    specific, 4 subscriber, 5 alphanumeric, 6 abbreviated */
  uint8_t npi;   /* 0 unknown, 1 E.164 (ISDN), ... */
  char addr[21]; /* digits without '+', or alphanumeric text (<= 11) */
} sg_conn_addr_t;

/* One part to send. The connector copies what it needs during
 * sg_connector_submit(); the caller's memory may be reused afterwards. */
typedef struct sg_conn_part {
  uint64_t id; /* the owner's id of this part, echoed in outcomes */
  sg_conn_addr_t src;
  sg_conn_addr_t dst;
  sg_encoding_t encoding;
  uint8_t lang_locking; /* GSM7 national tables, carried in the UDH */
  uint8_t lang_single;
  const uint8_t *udh; /* UDH with UDHL first, or NULL */
  size_t udh_len;
  const uint8_t *ud; /* unpacked septets (GSM7) or octets */
  size_t ud_len;
  /* Concatenation as data, for connectors that send it as SAR TLVs or as
   * one message_payload instead of a UDH: reference, total, sequence (1..).
   * total == 1 for a single part. */
  uint16_t concat_ref;
  uint8_t concat_total;
  uint8_t concat_seq;
  bool want_report;    /* ask the operator for a delivery receipt */
  uint8_t priority;    /* 0 (normal) .. 3 (highest) */
  int64_t validity_ms; /* absolute expiry, Unix ms; 0 = operator default */
  int64_t schedule_ms; /* absolute delivery time, Unix ms; 0 = now */
  /* The owner's id of the message the part belongs to (NUL-terminated,
   * borrowed like the rest), or NULL; for connectors that send it, such
   * as an HTTP provider's request template. */
  const char *message_id;
} sg_conn_part_t;

/* What became of one submitted part. */
typedef enum sg_conn_outcome {
  SG_CONN_SENT = 0, /* the operator took it; smsc_id set */
  SG_CONN_TEMPFAIL, /* temporary errors exhausted the connector's retries;
                       the engine may fail over or retry later */
  SG_CONN_PERMFAIL, /* the operator refused it for good (bad number ...) */
  SG_CONN_UNKNOWN   /* no answer (timeout, lost link) and it could not be
                       resent: the operator may or may not have it */
} sg_conn_outcome_t;

typedef struct sg_conn_result {
  uint64_t id; /* sg_conn_part_t.id */
  sg_conn_outcome_t outcome;
  char smsc_id[66];        /* SENT: the connector's key of the operator's
                              message id (its id matching setting), what
                              the connector's receipts carry */
  char smsc_raw_id[66];    /* SENT: the operator's message id as it gave
                              it, for display */
  uint32_t status;         /* protocol status (ESME_R*, CMS ERROR, HTTP) */
  const char *status_text; /* its description (static), or NULL */
  unsigned attempts;       /* how many times it was sent */
} sg_conn_result_t;

/* Delivery states, as SMPP message_state (section 5.2.28). */
typedef enum sg_conn_dlr_state {
  SG_DLR_ENROUTE = 1,
  SG_DLR_DELIVERED = 2,
  SG_DLR_EXPIRED = 3,
  SG_DLR_DELETED = 4,
  SG_DLR_UNDELIVERABLE = 5,
  SG_DLR_ACCEPTED = 6,
  SG_DLR_UNKNOWN = 7,
  SG_DLR_REJECTED = 8
} sg_conn_dlr_state_t;

/* A delivery receipt for a part. smsc_id is normalised by the connector's
 * id matching setting (see the connector's configuration), so the engine
 * can look it up as stored from sg_conn_result_t.smsc_id. */
typedef struct sg_conn_dlr {
  char smsc_id[66];
  /* Another key the part may have been stored under, "" if none: in
   * id_mode auto an SMPP connector gives an all-digit id's other reading
   * here, since its two sides learn that the SMSC's ids are hex apart: the
   * decimal key once receipts taught it hex (what the id got when the
   * submit_sm_resp side had not learned it yet), the hex key while only the
   * submit_sm_resp side has (a receipt that overtook every receipt id with
   * a letter). Tried only when smsc_id matches no part. */
  char smsc_id_alt[66];
  sg_conn_dlr_state_t state;
  uint32_t error;     /* network error code, 0 if none */
  int64_t done_ms;    /* when the operator says it ended, Unix ms */
  sg_conn_addr_t src; /* as the operator sent them */
  sg_conn_addr_t dst;
  const char *raw; /* the receipt text, if any (borrowed) */
  size_t raw_len;
} sg_conn_dlr_t;

/* An inbound message (MO), one part as received; reassembly is upstream. */
typedef struct sg_conn_inbound {
  sg_conn_addr_t src;
  sg_conn_addr_t dst;
  uint8_t data_coding; /* as received (SMPP data_coding / TP-DCS) */
  uint8_t esm_class;
  const uint8_t *udh; /* borrowed; NULL when none */
  size_t udh_len;
  const uint8_t *ud; /* borrowed: the user data after the UDH */
  size_t ud_len;
  uint16_t sar_ref; /* SAR TLVs, 0/0/0 when absent */
  uint8_t sar_total;
  uint8_t sar_seq;
  int64_t received_ms;
} sg_conn_inbound_t;

/* Up/down and why, for logs and metrics. */
typedef enum sg_conn_state {
  SG_CONN_DOWN = 0,   /* not connected; retrying */
  SG_CONN_CONNECTING, /* connecting or binding */
  SG_CONN_UP,         /* at least one bind is ready to send */
  SG_CONN_PAUSED,     /* paused by the operator of smsgate */
  SG_CONN_STOPPED     /* stopped; sg_connector_free() may be called */
} sg_conn_state_t;

/* The owner's side. An ack token identifies a received receipt or inbound
 * message; the owner must call sg_connector_ack() with it exactly once,
 * after storing the event (accepted = true) or when it could not
 * (accepted = false: the operator is told to resend, e.g. ESME_RX_T_APPN). */
typedef struct sg_conn_callbacks {
  void (*result_cb)(sg_connector_t *c, void *owner,
                    const sg_conn_result_t *res);
  void (*dlr_cb)(sg_connector_t *c, void *owner, const sg_conn_dlr_t *dlr,
                 uint64_t ack_token);
  void (*inbound_cb)(sg_connector_t *c, void *owner,
                     const sg_conn_inbound_t *msg, uint64_t ack_token);
  void (*state_cb)(sg_connector_t *c, void *owner, sg_conn_state_t state,
                   const char *reason);
  /* Called when a connector that answered SG_EBUSY can take parts again. */
  void (*ready_cb)(sg_connector_t *c, void *owner);
} sg_conn_callbacks_t;

/* Counters for /metrics and the admin API. */
typedef struct sg_conn_stats {
  sg_conn_state_t state;
  unsigned binds_up;
  unsigned binds_total;
  unsigned window_used; /* requests in flight, all binds */
  unsigned queued;      /* parts accepted and not yet sent */
  uint64_t submitted;   /* parts sent (first attempts) */
  uint64_t sent_ok;
  uint64_t temp_errors; /* temporary errors answered by the operator */
  uint64_t perm_errors;
  uint64_t throttled;       /* ESME_RTHROTTLED / ESME_RMSGQFUL answers */
  uint64_t unknown_retries; /* resent after a timeout or a lost link */
  uint64_t timeouts;
  uint64_t reconnects;
  uint64_t dlr_received;
  uint64_t inbound_received;
  double rate_limit; /* parts/s currently allowed; 0 = unlimited */
} sg_conn_stats_t;

/* One physical link of a connector (a GSM modem; each modem of a pool),
 * for /metrics and the admin API. Fields a link does not have are -1 or
 * empty. */
#define SG_CONN_LINKS_MAX 16
typedef struct sg_conn_link {
  char name[80];         /* the device: "/dev/ttyUSB0", "tcp://host:port" */
  sg_conn_state_t state; /* UP: ready to send */
  bool healthy;          /* takes parts (not down, not resting after errors) */
  int signal_rssi;       /* AT+CSQ <rssi>: 0..31, 99 unknown, -1 never read */
  int signal_dbm;        /* from it: -113 + 2 * rssi, 0 when unknown */
  int reg_stat;          /* +CREG/+CEREG <stat> that counts, -1 never read */
  bool registered;       /* home (1) or roaming (5) on either */
  char operator_[64];    /* AT+COPS? */
  unsigned queued;       /* parts in hand */
  uint64_t sent;         /* parts the network took */
  uint64_t received;     /* inbound messages and status reports */
  uint64_t errors;       /* +CMS ERRORs and commands without an answer */
  uint64_t resets;       /* device closed and opened again */
} sg_conn_link_t;

/* The name of a +CREG/+CEREG <stat> (3GPP TS 27.007 7.2). */
static inline const char *sg_conn_reg_name(int stat) {
  static const char *const names[] = {"not_registered", "home",
                                      "searching",      "denied",
                                      "unknown",        "roaming"};
  return stat >= 0 && stat <= 5 ? names[stat] : "unknown";
}

/* The operations every kind of connector implements. */
typedef struct sg_connector_ops {
  const char *type; /* "smpp", "modem", "http" */
  int (*start)(sg_connector_t *c);
  int (*submit)(sg_connector_t *c, const sg_conn_part_t *part);
  void (*ack)(sg_connector_t *c, uint64_t token, bool accepted);
  void (*pause)(sg_connector_t *c, bool paused);
  void (*stop)(sg_connector_t *c, void (*stopped_cb)(sg_connector_t *c));
  void (*stats)(const sg_connector_t *c, sg_conn_stats_t *out);
  void (*free)(sg_connector_t *c);
  /* Optional (NULL: none): fills up to cap links, returns how many. */
  size_t (*links)(const sg_connector_t *c, sg_conn_link_t *out, size_t cap);
  /* Optional (NULL: not supported): drops every connection now and opens
   * it again at once, as after a lost link; see sg_connector_reconnect. */
  int (*reconnect)(sg_connector_t *c);
} sg_connector_ops_t;

/* The common head of every connector; implementations embed it first. */
struct sg_connector {
  const sg_connector_ops_t *ops;
  char name[64];
  sg_conn_callbacks_t cb;
  void *owner;
};

/* Starts connecting. Returns 0 or a negative SG_E* code (nothing started,
 * no callback fires). */
static inline int sg_connector_start(sg_connector_t *c) {
  return c->ops->start(c);
}

/* Queues one part. Returns 0 (exactly one result_cb follows, later, never
 * from inside this call), SG_EBUSY (the connector's queue is full: try again
 * after ready_cb; no result_cb for this part), SG_ESTATE (stopped) or
 * SG_EINVAL. Parts of one message submitted in order leave in that order,
 * also across retries. */
static inline int sg_connector_submit(sg_connector_t *c,
                                      const sg_conn_part_t *part) {
  return c->ops->submit(c, part);
}

/* Acknowledges a receipt or inbound message (see sg_conn_callbacks_t). */
static inline void sg_connector_ack(sg_connector_t *c, uint64_t token,
                                    bool accepted) {
  c->ops->ack(c, token, accepted);
}

/* Stops or restarts taking parts off the queue; binds stay up. */
static inline void sg_connector_pause(sg_connector_t *c, bool paused) {
  c->ops->pause(c, paused);
}

/* Unbinds and closes. Parts still queued or in flight get their result_cb
 * (TEMPFAIL for never sent, UNKNOWN for in flight) before stopped_cb. */
static inline void sg_connector_stop(sg_connector_t *c,
                                     void (*stopped_cb)(sg_connector_t *c)) {
  c->ops->stop(c, stopped_cb);
}

static inline void sg_connector_stats(const sg_connector_t *c,
                                      sg_conn_stats_t *out) {
  c->ops->stats(c, out);
}

/* The connector's physical links (its modems) into out[0..cap); returns
 * how many were filled, 0 for a connector without such links. */
static inline size_t sg_connector_links(const sg_connector_t *c,
                                        sg_conn_link_t *out, size_t cap) {
  return c->ops->links != NULL ? c->ops->links(c, out, cap) : 0;
}

/* Closes each of the connector's connections (an SMPP bind is unbound
 * first; parts in flight get their usual outcome, UNKNOWN for those not
 * answered) and connects again at once, without the back-off. For an
 * operator who knows the peer changed. Returns 0, SG_ENOTSUP (this kind of
 * connector cannot), SG_ESTATE (not started, or stopping). Loop thread. */
static inline int sg_connector_reconnect(sg_connector_t *c) {
  return c->ops->reconnect != NULL ? c->ops->reconnect(c) : SG_ENOTSUP;
}

/* Frees a stopped connector. NULL is a no-op. */
static inline void sg_connector_free(sg_connector_t *c) {
  if (c != NULL)
    c->ops->free(c);
}

#endif
