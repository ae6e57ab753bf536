/* smpp_server_int.h - what the files of the SMPP server share: its state,
 * and the pure helpers (limits, mapping) that the unit tests drive
 * directly. Not for use outside src/ingress/smpp_server*.c and tests.
 */
#ifndef SG_INGRESS_SMPP_SERVER_INT_H
#define SG_INGRESS_SMPP_SERVER_INT_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include "connector/smpp_link.h"
#include "core/cidr.h"
#include "ingress/smpp_server.h"
#include "smpp/receipt.h"

#define SG_SMPPS_VERIFY_MAX 2    /* password checks running at once */
#define SG_SMPPS_VERIFY_QUEUE 64 /* binds waiting for a check */
#define SG_SMPPS_FAIL_SLOTS 1024 /* source addresses remembered */
#define SG_SMPPS_FAIL_WINDOW_MS 60000
#define SG_SMPPS_INBOUND_DEFAULT 1000 /* unanswered requests per bind */
#define SG_SMPPS_CLAIM_MAX 1000
#define SG_SMPPS_TICK_MS 100

/* ---- pure helpers (smpp_server_map.c) ------------------------------------ */

/* Failed binds per source address: an open-addressed table of fixed size;
 * a new address takes the slot of the oldest when its probe run is full,
 * so memory never grows with the number of addresses. */
typedef struct sg__smpps_fail_slot {
  uint8_t addr[16]; /* IPv4 as ::ffff:a.b.c.d */
  int64_t window_start_ms;
  uint32_t failures;
  bool used;
} sg__smpps_fail_slot_t;

typedef struct sg__smpps_fail_table {
  sg__smpps_fail_slot_t slot[SG_SMPPS_FAIL_SLOTS];
} sg__smpps_fail_table_t;

/* The address of sa as 16 octets (IPv4 mapped); false for other families. */
bool sg__smpps_addr_key(const struct sockaddr *sa, uint8_t out[16]);
/* Whether addr has `max` or more failures within the window ending now. */
bool sg__smpps_fail_over(const sg__smpps_fail_table_t *t,
                         const uint8_t addr[16], uint32_t max, int64_t now_ms);
/* Counts one failure of addr at now_ms. */
void sg__smpps_fail_add(sg__smpps_fail_table_t *t, const uint8_t addr[16],
                        int64_t now_ms);

/* A token bucket of `rate` tokens per second and a burst of one second's
 * worth. */
typedef struct sg__smpps_bucket {
  double tokens;
  int64_t last_ms;
  bool started;
} sg__smpps_bucket_t;

/* Takes n tokens when there are enough (true), else takes none (false).
 * rate 0 is no limit. */
bool sg__smpps_bucket_take(sg__smpps_bucket_t *b, uint32_t rate, uint32_t n,
                           int64_t now_ms);

/* The content of a submit_sm / data_sm / submit_multi as smsgate takes it.
 * Either text (UTF-8, to be encoded and split by the engine with
 * `encoding`), or one pre-split part kept as it came (raw), or binary. */
typedef struct sg__smpps_content {
  bool is_raw;            /* send raw as it came */
  bool is_binary;         /* binary[0..binary_len) is the body (8-bit data) */
  sg_encoding_t encoding; /* of the text / raw part */
  char text[SG_SEG_MAX_PARTS * SG_SEG_UD_MAX * 4]; /* UTF-8 */
  size_t text_len;
  const uint8_t *binary;
  size_t binary_len;
  uint8_t udh[SG_SEG_UDH_MAX];
  size_t udh_len;
  uint8_t ud[SG_SEG_UD_MAX];
  size_t ud_len;
} sg__smpps_content_t;

/* What arrives: the message octets (short_message or message_payload),
 * data_coding, esm_class and, when all three sar_* TLVs are present, the
 * SAR values (sar_total 0: none). */
typedef struct sg__smpps_sm {
  const uint8_t *sm;
  size_t sm_len;
  uint8_t data_coding;
  uint8_t esm_class;
  uint16_t sar_ref;
  uint8_t sar_total, sar_seq;
} sg__smpps_sm_t;

/* Decodes a message into *out (SMPP 3.4 section 5.2.19 data_coding: 0 and
 * 1 as GSM 03.38 unpacked septets, 3 Latin-1, 8 UCS-2, 2 and 4 binary,
 * 0xF0-0xF3 GSM, 0xF4-0xF7 binary). With esm_class UDHI (0x40) the UDH is
 * kept and the part goes raw; SAR values become a 16-bit concatenation IE
 * (IEI 0x08) in front of the part. Returns ESME_ROK or the status to
 * answer: RINVMSGLEN (empty, or a UDH longer than the message),
 * RINVESMCLASS (UDHI with SAR), RSUBMITFAIL (an unknown data_coding,
 * septets above 0x7F, a raw part over smsgate's part limits). */
uint32_t sg__smpps_content(const sg__smpps_sm_t *in, sg__smpps_content_t *out);

/* The ESME_R* status for a whole-request engine failure. */
uint32_t sg__smpps_submit_status(int status, const char *error_code,
                                 const char *error_field);
/* The ESME_R* status for one rejected recipient (error_code of its item). */
uint32_t sg__smpps_item_status(const char *error_code);
/* message_state (section 5.2.28) and receipt stat of a message status. */
uint8_t sg__smpps_message_state(sg_msg_status_t st);
sg_receipt_stat_t sg__smpps_receipt_stat(sg_msg_status_t st);

/* Parts of messages a customer split itself (a concatenation UDH, or SAR
 * TLVs), grouped so that the parts of one message share one batch id: a
 * fixed table (memory never grows with traffic) keyed by the account,
 * source and destination addresses, reference and total. A group is
 * forgotten when all its parts arrived, SG_SMPPS_CONCAT_TTL_MS after its
 * last part, or when its slot is needed and it is the oldest of its probe
 * run; a part that comes after that starts a new group. */
#define SG_SMPPS_CONCAT_SLOTS 1024
#define SG_SMPPS_CONCAT_PROBE 16
#define SG_SMPPS_CONCAT_TTL_MS (10 * 60 * 1000)
#define SG_SMPPS_CONCAT_KEY 96

typedef struct sg__smpps_concat_slot {
  char key[SG_SMPPS_CONCAT_KEY];
  char batch[SG_ID_LEN + 1];
  char msg[SG_ID_LEN + 1]; /* the stored message of the group, "" until
                              its first part is stored */
  int64_t last_ms;
  uint8_t seen[32]; /* bit per sequence number 0..255 */
  unsigned n_seen;
  bool used;
} sg__smpps_concat_slot_t;

typedef struct sg__smpps_concat {
  sg__smpps_concat_slot_t slot[SG_SMPPS_CONCAT_SLOTS];
  int64_t ttl_ms; /* 0: SG_SMPPS_CONCAT_TTL_MS (smpp_server.part_wait) */
} sg__smpps_concat_t;

/* The key of a part's group into out[SG_SMPPS_CONCAT_KEY]: false when the
 * addresses make it too long (the part is then not grouped). */
bool sg__smpps_concat_key(size_t account, const char *src, const char *dst,
                          uint16_t ref, unsigned total, char *out);
/* Writes into batch the batch id of the group of part seq (1..total) of
 * the group `key`: the group's when it is known, else a new id that the
 * group keeps. Returns 0, or SG_E* from sg_id_new (batch then unset). */
int sg__smpps_concat_batch(sg__smpps_concat_t *t, const char *key,
                           unsigned total, unsigned seq, int64_t now_ms,
                           char batch[SG_ID_LEN + 1]);
/* The stored message of group `key` into msg ("" when the group is not
 * live or its message is not known yet). */
void sg__smpps_concat_msg(const sg__smpps_concat_t *t, const char *key,
                          int64_t now_ms, char msg[SG_ID_LEN + 1]);
/* Remembers msg as the stored message of group `key`, if it is live. */
void sg__smpps_concat_set_msg(sg__smpps_concat_t *t, const char *key,
                              int64_t now_ms, const char *msg);

/* Whether udh (UDHL first) has a concatenation IE whose total or
 * sequence is 0 or whose sequence is above its total (which TS 23.040
 * 9.2.3.24.1 tells a receiver to ignore, so smsgate refuses the part).
 * Pure. */
bool sg__smpps_concat_ie_bad(const uint8_t *udh, size_t len);

/* The id a customer gets for part seq of a message stored from its
 * pre-split parts: "<message id>-<seq>" (e.g. "01JD...Q-2"), written into
 * out[cap]; it is what submit_sm_resp, the part's receipt
 * (receipted_message_id and "id:") and query_sm/cancel_sm carry. */
void sg__smpps_part_id(const char *mid, unsigned seq, char *out, size_t cap);
/* Splits an id a customer gives back: a message id (seq 0) or a part id
 * (seq 1..255). Returns 0, or -1 when it is neither. Pure. */
int sg__smpps_split_id(const char *in, char mid[SG_ID_LEN + 1],
                       unsigned *seq);

/* ---- the server ---------------------------------------------------------- */

typedef struct sg__smpps_conn sg__smpps_conn_t;

typedef struct sg__smpps_acct {
  const sg_config_account_t *cfg;
  const sg_engine_account_t *eng; /* NULL until started */
  char pw_hash[SG_STORE_PWHASH_MAX];
  int hash_status; /* 0 ok, SG_ESTATE being hashed (binds are checked
                      against cfg->smpp.password), else it cannot bind */
  sg_cidr_t *cidrs;
  size_t n_cidrs;
  uint32_t binds; /* bound or binding */
  sg__smpps_bucket_t bucket;
  /* receipts */
  bool claiming;
  bool more;          /* the last claim was full: claim again soon */
  unsigned in_flight; /* deliver_sm sent, unanswered */
} sg__smpps_acct_t;

struct sg__smpps_conn {
  sg_smpp_server_t *srv;
  sg_smpp_link_t *link; /* NULL once closed */
  sg__smpps_conn_t *next, *prev;
  struct sockaddr_storage peer_sa;
  char peer[64];
  uint8_t peer_key[16];
  bool peer_known;
  sg__smpps_acct_t *acct; /* set at bind time */
  bool bound, receives;
  bool unbinding; /* stopping: unbind sent or the link closed */
  uint32_t refs;       /* submits and password checks outstanding + 1 */
  uint32_t pending_in; /* requests being answered */
  uint32_t in_flight;  /* deliver_sm unanswered */
  uint32_t window;     /* of this bind */
  /* A refused bind waits here until bind_fail_delay passed. */
  uv_timer_t delay;
  bool delay_init;
  uint32_t delayed_status;
  uint32_t bind_cmd; /* the bind_* being decided */
  /* The bind being verified. */
  char password[9];
  bool verifying;
};

typedef struct sg__smpps_verify {
  uv_work_t work;
  sg__smpps_conn_t *conn;
  sg__smpps_acct_t *acct; /* NULL: no account may bind so (unknown id) */
  char password[9];
  char hash[SG_STORE_PWHASH_MAX]; /* checked against: the account's, or
                                     another's for an unknown system_id */
  char system_id[16];
  int result;
  struct sg__smpps_verify *next; /* waiting list */
} sg__smpps_verify_t;

struct sg_smpp_server {
  uv_loop_t *loop;
  const sg_config_t *cfg;
  const sg_config_smpp_server_t *sc;
  sg_engine_t *engine;
  sg_store_t *store;
  sg_smpp_server_log_cb log_cb;
  void *log_data;
  sg_smpp_link_tls_t *tls;
  sg_smpp_link_config_t link_cfg;
  uv_tcp_t tcp, tls_tcp;
  bool tcp_on, tls_on;
  uint16_t port, tls_port;
  uv_timer_t tick;
  unsigned handles_open;
  sg__smpps_acct_t *accts;
  size_t n_accts;
  sg__smpps_conn_t *conns; /* every open connection */
  uint32_t n_conns;
  sg__smpps_fail_table_t *fails;
  /* password checks */
  unsigned verifying;
  sg__smpps_verify_t *wait_head, *wait_tail;
  unsigned n_waiting;
  unsigned work_out; /* uv_work_t outstanding (hashes and checks) */
  /* receipts answered, to be recorded in one store write */
  sg_store_smpp_out_result_t *done;
  size_t n_done, cap_done;
  unsigned store_out; /* store requests outstanding */
  bool started, stopping;
  bool start_told;     /* started_cb fired */
  int start_rc;        /* of listening, told by the first tick */
  char start_err[256]; /* why listening failed */
  /* Key of the digests that compare a bind's password with the configured
   * one while its account's hash is being made (smpp_server_auth.c). */
  uint8_t pw_key[32];
  sg_smpp_server_started_cb started_cb;
  void *started_data;
  sg_smpp_server_stopped_cb stopped_cb;
  void *stopped_data;
  sg_smpp_pdu_t *pdu; /* scratch for deliver_sm */
  char receipt_id[SG_RECEIPT_ID_MAX + 1]; /* its receipted_message_id */
  sg_segments_t *segs; /* scratch for incoming messages, made on first use */
  sg__smpps_concat_t *concat; /* groups of customers' pre-split parts */
  uint8_t mo_ref;      /* concatenation reference of the next one */
  sg_smpp_server_stats_t st;
};

void sg__smpps_log(sg_smpp_server_t *s, int level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Connection references: a submit or check in flight keeps the
 * connection (not its link) alive. */
void sg__smpps_conn_unref(sg__smpps_conn_t *c);

/* smpp_server_auth.c */
void sg__smpps_on_bind(sg__smpps_conn_t *c, const sg_smpp_event_t *ev);
int sg__smpps_hash_accounts(sg_smpp_server_t *s);
void sg__smpps_bind_gone(sg__smpps_conn_t *c);

/* smpp_server_submit.c */
void sg__smpps_on_request(sg__smpps_conn_t *c, const sg_smpp_event_t *ev);

/* What a deliver_sm in flight stands for: a row of the smpp_out queue (a
 * receipt, or a part of an incoming message when mo is set). */
typedef struct sg__smpps_mo_row sg__smpps_mo_row_t;
typedef struct sg__smpps_out_ctx {
  int64_t row;
  sg__smpps_acct_t *acct;
  sg__smpps_mo_row_t *mo; /* NULL for a receipt */
} sg__smpps_out_ctx_t;

/* smpp_server_dlr.c */
void sg__smpps_pump(sg_smpp_server_t *s);
/* Queues the outcome of a claimed row for the next store write: done
 * (the customer took it; the row goes) or not (it waits for a claim). */
void sg__smpps_record(sg_smpp_server_t *s, int64_t row, bool done);
/* The receiving bind of the account with the most room, or NULL. */
sg__smpps_conn_t *sg__smpps_target(sg_smpp_server_t *s,
                                   const sg__smpps_acct_t *a);
void sg__smpps_on_response(sg__smpps_conn_t *c, const sg_smpp_event_t *ev);
/* The store's hand-off (sg_store_smpp_out_handoff): receipts sent straight
 * from the commit that queued them, to a receiving bind of their account
 * with room; the others are left to the claims. */
void sg__smpps_handoff_cb(sg_store_t *st, const sg_store_smpp_out_t *rows,
                          size_t n, void *data);
void sg__smpps_flush_done(sg_smpp_server_t *s);
void sg__smpps_maybe_stopped(sg_smpp_server_t *s);

/* smpp_server_mo.c: incoming messages for the customer. */
/* Sends a claimed row with mo set as one deliver_sm per part, all on one
 * receiving bind; records the row as not sent when that is impossible. */
void sg__smpps_send_mo(sg_smpp_server_t *s, sg__smpps_acct_t *a,
                       const sg_store_smpp_out_t *o);
/* The answer to one part of x->mo; the row is recorded (done only when
 * every part was taken) once every part is answered. */
void sg__smpps_mo_answered(sg_smpp_server_t *s, sg__smpps_out_ctx_t *x,
                           bool ok);

/* The deliver_sm of part i of an incoming message: addresses from
 * sender/recipient ("+digits": TON 1 NPI 1; digits: TON 0 NPI 1;
 * anything else: alphanumeric, TON 5 NPI 0), data_coding 0 (GSM 03.38,
 * unpacked septets), 8 (UCS-2) or 4 (8-bit data) after segs->encoding,
 * the part's UDH with esm_class UDHI (0x40). Pure. Returns 0, or
 * SG_EINVAL when the part does not fit short_message. */
int sg__smpps_mo_pdu(const char *sender, const char *recipient,
                     const sg_segments_t *segs, unsigned i, sg_smpp_pdu_t *p);

#endif
