/* smsc.h - the SMSC simulator: an SMPP 3.4 server (SMSC role) for demos,
 * tests and benchmarks, hosted on a libuv loop (`smsgate sim smsc`, the
 * embedded default of `smsgate serve`, and in-process tests).
 *
 * What it does:
 *   - accepts binds (transmitter, receiver, transceiver) with any
 *     credentials, or only with the configured system_id and password
 *     (ESME_RINVSYSID / ESME_RINVPASWD otherwise), up to max_binds at once
 *     (ESME_RBINDFAIL beyond);
 *   - answers submit_sm, data_sm and submit_multi with a new message_id
 *     (a counter, written in hex or decimal), or with ESME_RTHROTTLED for a
 *     configurable fraction of them, after a configurable latency;
 *   - sends a delivery receipt (deliver_sm, esm_class 0x04, SMPP 3.4
 *     section 5.2.12) for every accepted message whose registered_delivery
 *     asks for one (section 5.2.17), after dlr_delay_ms, with an outcome
 *     drawn from dlr_mix; the receipt carries the Appendix B text
 *     (smpp/receipt.h) and the receipted_message_id, message_state and
 *     network_error_code TLVs (sections 5.3.2.12, 5.3.2.35, 5.3.2.31). It
 *     goes to the connection the message came on when that is a
 *     transceiver, else to a receiver or transceiver bind of the same
 *     system_id; while there is none it waits;
 *   - originates MO messages (deliver_sm) on command or at a steady rate,
 *     single or concatenated (UDH), GSM 7-bit or UCS-2 (core/segment.h),
 *     to the receiver and transceiver binds in turn;
 *   - drops connections on command, with a probability per request
 *     received, or after every N requests of a connection, closing them
 *     or resetting them (TCP RST);
 *   - operator faults on demand: a connection that stops answering at its
 *     Nth request (open, silent, reading nothing), submits answered with
 *     generic_nack, responses that come after the client's timeout,
 *     receipts that come before their submit_sm_resp, receipt ids written
 *     otherwise than the submit_sm_resp's, and its own sequence_numbers
 *     starting anywhere (near 0x7FFFFFFF, to see them wrap);
 *   - records every accepted message to a file (see record_path);
 *   - counts everything (sg_sim_smsc_stats, sg_sim_smsc_stats_json).
 *
 * Cost: no allocation per message. Pending receipts, delayed responses and
 * queued MO parts wait in growable rings ordered by due time, served by one
 * timer each, never one timer per message.
 *
 * Threading: everything runs on the loop given to sg_sim_smsc_new().
 */
#ifndef SG_SIM_SMSC_H
#define SG_SIM_SMSC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <uv.h>

#include "core/segment.h"
#include "smpp/receipt.h"

typedef struct sg_sim_smsc sg_sim_smsc_t;

/* How message ids are written. */
typedef enum sg_sim_id_format {
  SG_SIM_ID_HEX = 0,       /* lower-case hexadecimal, no prefix, no padding */
  SG_SIM_ID_DEC = 1,       /* decimal */
  SG_SIM_ID_HEX_UPPER = 2, /* upper-case hexadecimal */
  /* receipt_id_format only: as id_format */
  SG_SIM_ID_SAME = 3
} sg_sim_id_format_t;

/* The outcomes of receipts and their weights: "DELIVRD=90,UNDELIV=5,
 * EXPIRED=3,REJECTD=2". Each entry may name the err value of its receipts
 * (and network_error_code): "UNDELIV=5:13". */
#define SG_SIM_MIX_MAX 8
typedef struct sg_sim_dlr_mix {
  unsigned n;
  struct {
    sg_receipt_stat_t stat;
    uint32_t weight;
    uint16_t err; /* err:NNN of the text, network_error_code's error */
  } e[SG_SIM_MIX_MAX];
} sg_sim_dlr_mix_t;

/* Parses a mix as above. Stat names are those of Appendix B (DELIVRD,
 * EXPIRED, DELETED, UNDELIV, ACCEPTD, UNKNOWN, REJECTD, ENROUTE), any case;
 * weights are integers 0..1000000 with a positive sum; without ":err" the
 * err is 0 for DELIVRD/ACCEPTD/ENROUTE, 1 for UNDELIV ("unknown
 * subscriber"), 27 for EXPIRED ("absent subscriber"), 11 for REJECTD and 0
 * otherwise; err at most 999. Returns 0, or SG_EINVAL with *out untouched. */
int sg_sim_dlr_mix_parse(const char *text, sg_sim_dlr_mix_t *out);

typedef struct sg_sim_smsc_config {
  const char *host; /* listening address; default "127.0.0.1" */
  uint16_t port;    /* default 2775; 0: any free port (see
                       sg_sim_smsc_port) */
  /* Credentials; NULL accepts any system_id / any password. */
  const char *system_id;
  const char *password;
  const char *smsc_system_id;   /* sent in bind_*_resp; default "smsgate-sim" */
  unsigned max_binds;           /* bound sessions at once; 0: no limit */
  uint32_t window;              /* the simulator's own window for deliver_sm;
                                   default 100 */
  sg_sim_id_format_t id_format; /* default SG_SIM_ID_HEX */
  /* First message id; 0 (default): the current Unix time in seconds times
   * 1,000,000, so ids stay unique across restarts below 1,000,000 ids/s. */
  uint64_t id_start;
  uint32_t dlr_delay_ms;    /* default 100; 0: at once */
  sg_sim_dlr_mix_t dlr_mix; /* default DELIVRD=100 (n == 0 means that) */
  double throttle;          /* fraction of submits answered ESME_RTHROTTLED,
                               0..1; default 0 */
  uint32_t latency_ms;      /* delay before each response; default 0 */
  double drop_prob;         /* probability, per request received, of
                               dropping its connection (unanswered) */
  uint64_t drop_every;      /* drop a connection at its Nth request; 0 off */
  bool drop_reset;          /* drops close with a TCP reset (RST), losing
                               answers not yet written; default off */
  /* At a connection's Nth request (that request included) it stops
   * answering: nothing more is read or written, no receipt goes to it,
   * and the socket stays open until the peer gives up (its enquire_link
   * or response timeout) or the simulator's own session timers end it.
   * 0 (default): off. */
  uint64_t hang_every;
  double nack;      /* fraction of submits answered with generic_nack
                       (ESME_RSYSERR) instead of submit_sm_resp: not
                       taken, not recorded; 0..1, default 0 */
  double late;      /* fraction of submits taken (recorded, receipt
                       queued) whose response comes late_ms late;
                       0..1, default 0 */
  uint32_t late_ms; /* default 0: a late response is never sent */
  /* Receipts wait dlr_delay_ms from the submit, not from its response:
   * with latency_ms above dlr_delay_ms they come before their
   * submit_sm_resp. Default off (after latency_ms + dlr_delay_ms). */
  bool dlr_early;
  /* How receipts write the message id (their text's id: and the
   * receipted_message_id TLV); SG_SIM_ID_SAME (default): as id_format. */
  sg_sim_id_format_t receipt_id_format;
  /* The first sequence_number of each session's own requests
   * (deliver_sm, enquire_link), 1..0x7FFFFFFF; default 1. */
  uint32_t first_sequence;
  double mo_rate;      /* MO messages per second; 0 (default): off */
  const char *mo_from; /* MO sender; default "+79001234567" */
  const char *mo_to;   /* MO recipient; default "100" */
  const char *mo_text; /* MO text; default "MO test" */
  /* Record every accepted message, one line per submit_sm / data_sm (per
   * destination of a submit_multi), to this file (appended); NULL: off.
   *   id=<message_id> src=<source_addr> dst=<destination_addr>
   *   dc=<data_coding> esm=<esm_class> ref=<r> seq=<s> total=<t>
   *   rd=<registered_delivery> sm=<hex of short_message or message_payload>
   * with "-" for an empty address and ref/seq/total from the SAR TLVs or
   * the concatenation UDH (IEI 0x00 / 0x08), 0/1/1 for a single message.
   * Lines are buffered and written at least every stats interval, on
   * sg_sim_smsc_flush_record() and on stop. */
  const char *record_path;
  /* SMPP over TLS on a second port, when both files are given. */
  const char *tls_cert;
  const char *tls_key;
  uint16_t tls_port; /* default 3550; 0: any free port */
  uint64_t seed;     /* random draws (throttle, drops, mix); default 1 */
  /* Session timers (smpp/session.h); defaults as there. */
  uint32_t enquire_link_interval_ms;
  uint32_t bind_timeout_ms;
  uint32_t response_timeout_ms;
  /* Receipts that may wait at once (for a busy or absent receiver);
   * beyond it new ones are dropped and counted. Default 1,000,000. */
  size_t max_pending_receipts;
  /* A receipt answered with an error, or left unanswered (timeout, the
   * connection closed), is sent again, as SMSCs do: up to receipt_retries
   * more times (default 10; 0: never). One refused with an error status
   * waits receipt_retry_ms, doubling each time up to 60 s (default 1000);
   * one whose connection ended goes to the next receiver at once. */
  uint32_t receipt_retries;
  uint32_t receipt_retry_ms;
  /* One line per bind, unbind, drop and error; NULL: silent. */
  void (*log_cb)(void *user, const char *line);
  void *log_user;
} sg_sim_smsc_config_t;

/* Counters. "submits" counts submit_sm + data_sm + submit_multi. */
#define SG_SIM_STATUS_SLOTS 16
typedef struct sg_sim_smsc_stats {
  uint64_t connections; /* accepted, in total */
  uint64_t connections_active;
  uint64_t binds; /* accepted binds, in total */
  uint64_t binds_active;
  uint64_t bind_failures; /* rejected binds */
  uint64_t unbinds;       /* sessions ended by an unbind */
  uint64_t submits;
  uint64_t submit_sm, data_sm, submit_multi;
  uint64_t resp_ok;        /* answered ESME_ROK */
  uint64_t resp_throttled; /* answered ESME_RTHROTTLED */
  uint64_t resp_error;     /* answered another error */
  /* Responses by command_status: the first SG_SIM_STATUS_SLOTS distinct
   * statuses, then others add to resp_error only. */
  unsigned n_status;
  struct {
    uint32_t status;
    uint64_t count;
  } status[SG_SIM_STATUS_SLOTS];
  uint64_t receipts_sent;      /* deliver_sm receipts written */
  uint64_t receipts_acked;     /* answered ESME_ROK */
  uint64_t receipts_failed;    /* answered with an error, or no answer */
  uint64_t receipts_retried;   /* of those, queued to be sent again */
  uint64_t receipts_pending;   /* waiting (delay, busy or absent receiver) */
  uint64_t receipts_dropped;   /* over max_pending_receipts */
  uint64_t receipts_abandoned; /* failed receipt_retries + 1 times */
  /* The deliver_sm receipts' round trip, from the write of the deliver_sm
   * to the reading of its response (how long the ESME took to answer), in
   * us: the count, the mean and percentiles (to a 16th of a power of two);
   * how long each waited here past its due time (for a window slot), in
   * ms; and the receipts in flight on all binds as each was written. */
  uint64_t receipt_rtt_n;
  uint64_t receipt_rtt_us_mean, receipt_rtt_us_p50, receipt_rtt_us_p99;
  uint64_t receipt_rtt_us_max;
  uint64_t receipt_wait_ms_mean, receipt_wait_ms_p50, receipt_wait_ms_p99;
  uint64_t receipt_inflight_mean, receipt_inflight_max;
  uint64_t mo_sent; /* MO deliver_sm written (parts) */
  uint64_t mo_acked;
  uint64_t mo_failed;
  uint64_t mo_pending;
  uint64_t drops;  /* connections dropped by fault injection */
  uint64_t resets; /* of which closed with a TCP reset */
  uint64_t hangs;  /* connections that stopped answering (hang_every) */
  uint64_t nacks;  /* submits answered with generic_nack */
  uint64_t late;   /* responses held late_ms */
  uint64_t protocol_errors;
} sg_sim_smsc_stats_t;

/* Fills *cfg with the defaults above. */
void sg_sim_smsc_config_default(sg_sim_smsc_config_t *cfg);

/* Creates a simulator on `loop` (not yet listening). cfg is copied
 * (strings too). Returns 0 and sets *out, SG_EINVAL (NULL argument,
 * throttle or drop_prob outside 0..1, mo_rate < 0, an empty dlr mix sum,
 * window 0 or above the session maximum, only one of tls_cert/tls_key)
 * or SG_ENOMEM. */
int sg_sim_smsc_new(uv_loop_t *loop, const sg_sim_smsc_config_t *cfg,
                    sg_sim_smsc_t **out);

/* Loads the TLS certificate and key (when configured), opens the record
 * file, binds and listens (the plain port, and the TLS port), and starts
 * the MO generator. Returns 0, SG_EIO (address in use or not available),
 * SG_EINVAL (bad host, or a TLS setting refused), SG_ECONFIG (TLS files
 * that do not load, the record file), SG_ENOMEM or SG_ESTATE (already
 * started or stopped); errbuf (may be NULL) gets a one-line reason. On
 * error nothing stays listening: call sg_sim_smsc_stop() (it completes on
 * the loop) before sg_sim_smsc_free(). */
int sg_sim_smsc_start(sg_sim_smsc_t *sim, char *errbuf, size_t errcap);

/* The ports actually listened on (useful with port 0), or 0. */
uint16_t sg_sim_smsc_port(const sg_sim_smsc_t *sim);
uint16_t sg_sim_smsc_tls_port(const sg_sim_smsc_t *sim);

/* Stops: closes the listeners, unbinds bound sessions (closing them after
 * at most one second), closes the rest, writes the record file out, and
 * calls stopped_cb (may be NULL) once every handle is closed; then the
 * simulator may be freed. Never from inside this call: at the earliest on
 * the next loop iteration. Also to be called after sg_sim_smsc_start()
 * failed, and allowed before start. A second call is a no-op (only the
 * first stopped_cb fires). */
void sg_sim_smsc_stop(sg_sim_smsc_t *sim,
                      void (*stopped_cb)(sg_sim_smsc_t *sim, void *user),
                      void *user);

/* Frees a simulator that was never started or whose stop completed
 * (stopped_cb fired). NULL is a no-op. */
void sg_sim_smsc_free(sg_sim_smsc_t *sim);

/* A copy of the counters. */
void sg_sim_smsc_stats(const sg_sim_smsc_t *sim, sg_sim_smsc_stats_t *out);

/* The counters as one line of JSON (no newline) into buf: an object with
 * "type":"stats", "final" as given, "uptime_ms", every counter of
 * sg_sim_smsc_stats_t by its name, and "resps" mapping "0x%08x" statuses
 * to counts. Returns the length, or SG_ENOSPC (buf holds nothing useful;
 * 2048 octets always suffice). */
int sg_sim_smsc_stats_json(const sg_sim_smsc_t *sim, bool final, char *buf,
                           size_t cap);

/* ---- Control ------------------------------------------------------------- */

/* Queues an MO message from `from` to `to` with UTF-8 `text`, split and
 * encoded by core/segment.h (encoding AUTO, GSM7 or UCS2; concatenated
 * parts carry an 8-bit reference UDH and esm_class 0x40). It goes to the
 * next receiver or transceiver bind in turn, or to the bind of system_id
 * when that is not NULL. Returns the number of parts (> 0), SG_ENOENT (no
 * such bind), or an error of sg_segment_text(). */
int sg_sim_smsc_mo(sg_sim_smsc_t *sim, const char *system_id, const char *from,
                   const char *to, const char *text, sg_encoding_t encoding);

/* How sg_sim_smsc_mo_ex sends an MO, for tests of reassembly. */
typedef struct sg_sim_mo_opts {
  sg_encoding_t encoding; /* AUTO, GSM7 or UCS2 */
  bool ref16;             /* 16-bit reference (IEI 0x08), else 8-bit */
  bool sar;               /* SAR TLVs (SMPP 3.4 5.3.2.22-24), no UDH */
  /* Send only these parts (1-based, in this order, repeats allowed: a
   * duplicate); n_only 0 sends every part in order. */
  const uint8_t *only;
  size_t n_only;
  /* The concatenation reference to use (low 8 bits unless ref16), for the
   * parts of one message sent by several calls; 0: the next one. */
  uint16_t ref;
} sg_sim_mo_opts_t;

/* As sg_sim_smsc_mo with options (opts NULL: the defaults). Returns the
 * number of parts of the whole message (> 0), whatever was sent of it. */
int sg_sim_smsc_mo_ex(sg_sim_smsc_t *sim, const char *system_id,
                      const char *from, const char *to, const char *text,
                      const sg_sim_mo_opts_t *opts);

/* Drops every connection at once: no unbind, nothing more is read or
 * answered (answers already produced are still written, then the socket
 * closes). Returns how many. */
unsigned sg_sim_smsc_drop(sg_sim_smsc_t *sim);

/* Changes a setting while running; out-of-range values are SG_EINVAL. */
int sg_sim_smsc_set_throttle(sg_sim_smsc_t *sim, double fraction);
int sg_sim_smsc_set_nack(sg_sim_smsc_t *sim, double fraction);
int sg_sim_smsc_set_latency(sg_sim_smsc_t *sim, uint32_t ms);
int sg_sim_smsc_set_dlr_delay(sg_sim_smsc_t *sim, uint32_t ms);
int sg_sim_smsc_set_drop_prob(sg_sim_smsc_t *sim, double p);
int sg_sim_smsc_set_mo_rate(sg_sim_smsc_t *sim, double per_second);
int sg_sim_smsc_set_dlr_mix(sg_sim_smsc_t *sim, const sg_sim_dlr_mix_t *mix);

/* Writes buffered record lines to the file now. */
void sg_sim_smsc_flush_record(sg_sim_smsc_t *sim);

/* Runs one control line (the simulator's stdin protocol):
 *   mo [-u|-g] [-w] [-s] [-p N,N...] [-r REF] FROM TO TEXT...
 *                               an MO (-u UCS-2, -g GSM 7-bit, else auto;
 *                               -w 16-bit reference, -s SAR TLVs, -p only
 *                               these parts, in this order, -r this
 *                               reference)
 *   drop                        drop every connection
 *   stats                       the counters (JSON)
 *   throttle F | latency MS | dlr-delay MS | drop-prob P | mo-rate R
 *   dlr-mix MIX
 *   help
 * Writes a one-line answer (no newline) into reply. Returns 0, or
 * SG_EINVAL for an unknown command or bad arguments (reply says why), or
 * the error of the command. */
int sg_sim_smsc_command(sg_sim_smsc_t *sim, const char *line, char *reply,
                        size_t cap);

#endif
