/* smpp_client.h - the SMPP 3.4 client connector (ESME role): smsgate's way
 * out to an operator's SMSC, implementing connector.h.
 *
 * One connector holds one or more binds (sessions, each on its own TCP or
 * TLS connection through smpp_link.h) to the same SMSC and spreads the
 * parts it is given over them: each part goes to the bind with the most
 * free window. Per connector:
 *   - a throughput limit in parts per second (connector/throttle.h), on
 *     top of each bind's window, cut when the SMSC answers ESME_RTHROTTLED
 *     or ESME_RMSGQFUL and grown back gradually;
 *   - the handling of every submit_sm_resp status as data
 *     (connector/smpp_errclass.h): throttled -> resend, in order; temporary
 *     -> resend after a back-off, max_temp_retries times, then TEMPFAIL;
 *     permanent -> PERMFAIL with the status and its text;
 *   - a request that got no answer (response timeout, lost connection) is
 *     "unknown": it is resent, on whichever bind is up next,
 *     max_unknown_retries times (stats.unknown_retries counts them); after
 *     that its outcome is UNKNOWN;
 *   - reconnection with exponential back-off and jitter, per bind.
 *
 * Messages of several parts. Parts with concat_total > 1 and the same
 * concat_ref, submitted one after the other (the same destination), are one
 * message. Its parts leave strictly in order: a part is sent only once the
 * part before it was accepted (SENT) or its fate is UNKNOWN, so a resend of
 * one part can never overtake or be overtaken by another; other messages
 * keep flowing meanwhile. When a part fails (PERMFAIL or TEMPFAIL), the
 * parts after it are not sent: each gets the same outcome, status and text
 * with attempts 0 (the message cannot be reassembled anyway, and the
 * engine retries or fails over the whole message).
 * long_mode chooses how such a message goes out:
 *   UDH      each part with its UDH in short_message, esm_class UDHI (0x40)
 *            (the default; what handsets reassemble);
 *   SAR      each part without the concatenation IEs (other IEs, such as
 *            national language shifts, stay in a UDH), with the TLVs
 *            sar_msg_ref_num, sar_total_segments, sar_segment_seqnum
 *            (SMPP 3.4 sections 5.3.2.22-24);
 *   PAYLOAD  all parts as one submit_sm whose message_payload TLV (section
 *            5.3.2.32) holds the user data of every part in order (after
 *            the first part's UDH without its concatenation IEs, if any is
 *            left); the SMSC splits it. Sent when the last part has been
 *            submitted (or when a submit of another message shows that no
 *            more parts of it will come). All its parts share one outcome
 *            and one smsc_id; the token bucket counts every part.
 *
 * submit_sm fields (SMPP 3.4 section 4.4.1): source and destination TON,
 * NPI and address as in the part (see sg_smpp_addr_from_text());
 * esm_class 0x40 when short_message (or message_payload) starts with a UDH,
 * else 0; priority_flag the part's priority; registered_delivery 1 when a
 * report is wanted, else 0; data_coding gsm7_data_coding (default 0x00, the
 * SMSC default alphabet) for GSM 7-bit, 0x08 for UCS-2, 0x04 for 8-bit;
 * GSM 7-bit user data as unpacked septets (one per octet, the default) or
 * packed (gsm7_packed: after the UDH and its fill bits, TS 23.040
 * 9.2.3.24); schedule_delivery_time and validity_period in the absolute
 * SMPP time format in UTC ("YYMMDDhhmmsst00+", smpp/smpptime.h), or the
 * validity as a relative time when validity_relative is set (absolute
 * beyond the 99 days a relative time can say). A validity already past
 * when the part would be sent fails it (PERMFAIL, ESME_RINVEXPIRY) without
 * sending; a schedule time already past is sent as "deliver now". Parts of
 * a higher priority leave before those of a lower one.
 *
 * Incoming deliver_sm and data_sm (SMPP 3.4 sections 4.6, 4.7):
 *   - a delivery receipt or notification (esm_class message type bits
 *     0x3C not zero: 0x04 SMSC delivery receipt, 0x08 SME delivery
 *     acknowledgement, 0x10 SME manual/user acknowledgement, 0x20
 *     intermediate delivery notification, section 5.2.12) becomes dlr_cb.
 *     The id and state come from the receipted_message_id and
 *     message_state TLVs when present (network_error_code gives the
 *     error: its last two octets), else from the receipt text
 *     (smpp/receipt.h) in short_message or message_payload; the text's
 *     done date (read as UTC) gives done_ms (the time of arrival when it
 *     has none), its err the error when no TLV does. A receipt with no id
 *     at all is answered ESME_RX_P_APPN (it can never be matched) and not
 *     reported;
 *   - anything else becomes inbound_cb at once, with its UDH split off
 *     (esm_class UDHI) and its SAR TLVs. One whose UDHL runs past the user
 *     data is answered ESME_RINVESMCLASS, one whose address does not fit
 *     sg_conn_addr_t (a data_sm may carry 64 characters) ESME_RINVSRCADR
 *     or ESME_RINVDSTADR, and neither is reported.
 * Neither is answered before the owner calls sg_connector_ack(): accepted
 * -> ESME_ROK; not accepted -> ESME_RX_T_APPN (the SMSC resends). If the
 * session closes first, the ack is ignored and nothing is answered: the
 * SMSC resends on the next bind.
 *
 * Message ids. The smsc_id of a SENT result and of a receipt are both the
 * canonical key of sg_msgid_key() (smpp/msgid.h) under id_mode (the
 * receipt's under receipt_id_mode when that is set), so the engine matches
 * them as plain strings. In AUTO, each side (results, receipts) switches
 * to HEX for good at its first id that is a hex number with a letter, so
 * that an SMSC with hex ids keeps matching when an id happens to have no
 * letter; an all-digit receipt id that the two sides would read apart
 * carries the other reading as sg_conn_dlr_t.smsc_id_alt, and a receipt's
 * id is read when the receipt is passed on (after the hold below). An id that is not valid in the mode (a non-hex id
 * in HEX mode) or whose key does not fit smsc_id falls back to the NOCASE
 * key of the id. A receipt that arrives before the submit_sm_resp of its
 * part has been handled (SMSCs send deliver_sm quickly, and on another bind
 * possibly) is held, not passed on: while any submit_sm sent before the
 * receipt arrived is still waiting for its response (on any bind), the
 * receipt waits too, for at most dlr_hold_ms; then receipts are passed on
 * in the order they arrived.
 *
 * Threading: everything runs on the loop given to sg_smpp_client_new();
 * see connector.h.
 */
#ifndef SG_CONNECTOR_SMPP_CLIENT_H
#define SG_CONNECTOR_SMPP_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <uv.h>

#include "connector/connector.h"
#include "connector/smpp_errclass.h"
#include "smpp/msgid.h"
#include "smpp/session.h"

/* How a message of several parts is sent (see above). */
typedef enum sg_smpp_long_mode {
  SG_SMPP_LONG_UDH = 0,
  SG_SMPP_LONG_SAR = 1,
  SG_SMPP_LONG_PAYLOAD = 2
} sg_smpp_long_mode_t;

/* Most binds of one connector. */
#define SG_SMPP_CLIENT_BINDS_MAX 64

/* The connector's settings. Fill with sg_smpp_client_config_default() and
 * change what you need; sg_smpp_client_new() copies everything (strings
 * and the override array too). */
typedef struct sg_smpp_client_config {
  const char *name; /* for logs and stats; default "smpp" */
  /* Where. */
  const char *host;            /* name or IP address; required */
  uint16_t port;               /* required */
  bool tls;                    /* SMPP over TLS */
  bool tls_verify;             /* verify the SMSC's certificate (default on) */
  const char *tls_ca_file;     /* PEM CAs to trust; NULL: the system's */
  const char *tls_server_name; /* name to verify and send as SNI; NULL: host */
  const char *tls_cert_file;   /* optional client certificate and key (PEM) */
  const char *tls_key_file;
  uint32_t connect_timeout_ms; /* TCP + TLS; default 10000 */
  /* The bind (SMPP 3.4 section 4.1). */
  sg_smpp_bind_type_t bind_type; /* default SG_SMPP_BIND_TRX */
  unsigned binds;                /* sessions of bind_type; default 1 */
  /* Extra bind_receiver sessions, for SMSCs that send receipts on a
   * receiver bind while binds of type TX carry the traffic. Default 0. */
  unsigned rx_binds;
  const char *system_id;   /* up to 15 characters */
  const char *password;    /* up to 8 */
  const char *system_type; /* up to 12; default "" */
  uint8_t addr_ton;        /* the bind's address range; default 0/0/"" */
  uint8_t addr_npi;
  const char *address_range;
  /* Sessions. */
  uint32_t window;              /* requests in flight per bind; default 10 */
  uint32_t response_timeout_ms; /* default 30000 */
  uint32_t bind_timeout_ms;     /* default 10000 */
  uint32_t enquire_link_interval_ms; /* default 30000 */
  uint32_t enquire_link_timeout_ms;  /* default 10000 */
  uint32_t first_sequence; /* of each session's requests; default 1 */
  /* Receipts and inbound messages not yet acked by the owner, per bind;
   * beyond it the session answers ESME_RTHROTTLED. Default 1000. */
  uint32_t inbound_window;
  /* Reconnecting: the delay before connect attempt n (n = 0 right after a
   * bound session was lost) is min(reconnect_max_ms, reconnect_min_ms *
   * 2^n), of which a random half is taken off (jitter). Defaults 1000 and
   * 60000. */
  uint32_t reconnect_min_ms;
  uint32_t reconnect_max_ms;
  /* Traffic. */
  unsigned max_queue;        /* parts held, not yet sent; default 10000 */
  double rate_limit;         /* parts per second; 0 = unlimited (default) */
  double rate_floor;         /* the adaptive rate never goes below; 1 */
  unsigned max_temp_retries; /* resends after temporary errors; default 3 */
  uint32_t retry_min_ms;     /* back-off of those: min(retry_max_ms, */
  uint32_t retry_max_ms;     /* retry_min_ms * 2^n) with jitter; 1000, 60000 */
  unsigned max_unknown_retries; /* resends after no answer; default 1 */
  /* submit_sm. */
  const char *service_type;      /* up to 5 characters; default "" */
  sg_smpp_long_mode_t long_mode; /* default UDH */
  bool gsm7_packed;              /* GSM 7-bit packed in short_message */
  uint8_t gsm7_data_coding;      /* data_coding for GSM 7-bit; default 0x00 */
  bool validity_relative;        /* validity_period as a relative time */
  /* Overrides of the status classification, copied. */
  const sg_smpp_errclass_override_t *status_overrides;
  size_t n_status_overrides;
  /* Receipts. */
  sg_msgid_mode_t id_mode;  /* default SG_MSGID_AUTO */
  bool receipt_id_mode_set; /* use receipt_id_mode for receipt ids */
  sg_msgid_mode_t receipt_id_mode;
  uint32_t dlr_hold_ms; /* default 2000; 0: never hold */
} sg_smpp_client_config_t;

/* Fills *cfg with the defaults listed above (host NULL, port 0). */
void sg_smpp_client_config_default(sg_smpp_client_config_t *cfg);

/* Creates an SMPP client connector on `loop`, not yet connected (call
 * sg_connector_start()). cfg is copied; cb is copied (result_cb, dlr_cb,
 * inbound_cb are required; state_cb and ready_cb may be NULL); owner is
 * passed back to every callback. With cfg->tls the TLS context is created
 * now, so that a CA file that does not load fails here.
 * Returns 0 and sets *out, SG_EINVAL (NULL argument, missing host, port 0,
 * binds + rx_binds 0 or above SG_SMPP_CLIENT_BINDS_MAX, a window outside
 * 1..SG_SMPP_SESSION_WINDOW_MAX, a string longer than its SMPP maximum,
 * rx_binds with a bind_type that is not TX, a missing callback),
 * SG_ECONFIG (the TLS files could not be loaded) or SG_ENOMEM. No callback
 * fires on error.
 *
 * A connector whose bind_type is SG_SMPP_BIND_RX only receives:
 * sg_connector_submit() answers SG_ESTATE.
 *
 * Life cycle: sg_connector_start() connects every bind; sg_connector_stop()
 * unbinds each (responses still arriving are matched, for at most
 * response_timeout_ms), reports every part not yet resolved, closes every
 * handle and then calls stopped_cb; only then may sg_connector_free() be
 * called (from inside stopped_cb too). A connector that was never started
 * may be freed at once. */
int sg_smpp_client_new(uv_loop_t *loop, const sg_smpp_client_config_t *cfg,
                       const sg_conn_callbacks_t *cb, void *owner,
                       sg_connector_t **out);

/* Counters beyond sg_conn_stats_t, for tests and the admin API. */
typedef struct sg_smpp_client_xstats {
  uint64_t dlr_held;         /* receipts held for an unanswered submit */
  uint64_t dlr_hold_expired; /* of which released by dlr_hold_ms */
  uint64_t dlr_unusable;     /* receipts without an id (ESME_RX_P_APPN) */
  uint64_t acks_ignored;     /* acks for a session that had closed */
  uint64_t late_responses;   /* responses after the response timeout */
  uint64_t protocol_errors;  /* SG_SMPP_EV_PROTOCOL_ERROR */
  uint64_t bind_failures;    /* bind refused or not answered */
  uint64_t connect_failures; /* connection (or TLS) not established */
  uint64_t rate_cuts;        /* times the rate was cut */
} sg_smpp_client_xstats_t;

/* Fills *out for a connector made by sg_smpp_client_new(). Returns 0, or
 * SG_EINVAL when c is not an SMPP client connector. */
int sg_smpp_client_xstats(const sg_connector_t *c,
                          sg_smpp_client_xstats_t *out);

/* Changes the rate limit (parts per second over all binds, 0: none) and
 * the retries of a temporarily refused part of a client made by
 * sg_smpp_client_new(), while it runs, as a configuration reload asks:
 * the binds, their windows and the parts in flight are left as they are;
 * the token bucket starts again full at the new rate. Loop thread.
 * Returns 0, or SG_EINVAL when c is not an SMPP client connector. */
int sg_smpp_client_retune(sg_connector_t *c, uint32_t rate_limit,
                          uint32_t max_temp_retries);

/* The key the connector reports as smsc_id for an SMSC message id
 * id[0..len) under `mode` (see "Message ids" above): sg_msgid_key()'s
 * canonical key, or, when the id is not valid in the mode or its key does
 * not fit, the NOCASE key of its first 64 octets; "" for an empty id.
 * out holds at most 65 characters and a NUL. For the engine or an API that
 * looks a message up by an id a user typed. Pure. */
void sg_smpp_client_id_key(const char *id, size_t len, sg_msgid_mode_t mode,
                           char out[66]);

/* Builds an SMPP address from the text a user or an application wrote,
 * with the type of number and numbering plan that SMSCs expect (SMPP 3.4
 * sections 5.2.5 and 5.2.6). The rules, as Kannel's "autodetect" does and
 * as operators document them (short codes as network specific):
 *   "+" and 1-20 digits    -> TON 1 international, NPI 1 E.164, digits
 *                             without the '+' ("+79001234567");
 *   3-8 digits             -> TON 3 network specific, NPI 0 unknown: a
 *                             short code ("7575", "88001");
 *   9-20 digits            -> TON 2 national, NPI 1 E.164 (Kannel's and
 *                             Jasmin's default for a sender without '+':
 *                             write international numbers with '+');
 *   1-2 digits             -> TON 0 unknown, NPI 0 unknown;
 *   other text of 1-11     -> TON 5 alphanumeric, NPI 0 unknown, as it is
 *   printable ASCII           ("MyShop", "INFO-24"): TS 23.040 9.1.2.5
 *   characters                allows 11 characters (GSM 7-bit in 7 octets).
 * Spaces, '-', '.', '(' and ')' between the digits of a number are dropped
 * ("+7 (900) 123-45-67"); any other text ("MyShop", "+Bank", "Info 24") is
 * alphanumeric and kept exactly as written. Returns 0 with *out set,
 * SG_EINVAL for NULL, an empty text (or only separators), or octets that
 * are not printable ASCII, SG_ETOOLONG for a number of more than 20 digits
 * or alphanumeric text of more than 11 characters. */
int sg_smpp_addr_from_text(const char *text, sg_conn_addr_t *out);

#endif
