/* store.h - the only way the engine touches persistence.
 *
 * Behind this header is SQLite (store/sqlite*.c: a writer thread with group
 * commit, reader threads on their own connections) and, later, PostgreSQL
 * (libpq pipeline mode on the loop). Nothing here names either: the engine
 * picks one with sg_store_config_t.url and never sees which it got.
 *
 * DURABILITY CONTRACT
 *   1. A write's callback fires only after the transaction that holds it has
 *      committed. A callback with status 0 means: what the request wrote is
 *      durable (with the SQLite default synchronous=FULL, it survives a power
 *      loss; with synchronous=NORMAL it survives a crash of smsgate, and a
 *      power loss may take back the last commits).
 *   2. Therefore the engine acknowledges a message to its sender (HTTP 202,
 *      submit_sm_resp, Kannel "0: Accepted"), and a receipt or an inbound
 *      message to the operator, only from inside that callback or after it.
 *   3. A write either commits entirely or not at all: a request's rows are
 *      never half-written. When the transaction fails (disk full, I/O
 *      error), every request in it fails with SG_EIO and nothing of any of
 *      them is written; the engine answers 503 and the store tries afresh
 *      with the next group. (One exception, SQLite with synchronous=FULL:
 *      when the log's sync fails after the COMMIT, the refused submits'
 *      messages stay as rows marked 'failed', never sent; see READS.)
 *   4. Nothing acknowledged is lost across a crash. Parts that were being
 *      sent when smsgate stopped ('sending') are queued again at the next
 *      start: delivery is at-least-once, and a crash may re-send what was in
 *      flight on a connector's window.
 *
 * THREADS AND CALLBACKS
 *   Every function here is called on the loop given to sg_store_open, and
 *   every callback runs on that loop, never inside the call that queued it.
 *   Requests are asynchronous: the function copies what it needs from its
 *   arguments (the caller's memory may be reused at once) and returns 0, or
 *   fails at once with a negative SG_E* code, and then its callback is never
 *   called. Pointers handed to a callback are valid only during the callback.
 *   Callbacks of writes run in the order the writes were queued (but for
 *   claims that stay open for submitted parts, sg_store_claim_wait); a read
 *   queued after a write's callback fired sees that write.
 *
 * BACK-PRESSURE
 *   Writes wait in a bounded queue (sg_store_config_t.max_pending_writes).
 *   Over it, a write fails at once with SG_EBUSY: ingress answers 429 with
 *   Retry-After (REST) or ESME_RTHROTTLED (SMPP) instead of letting latency
 *   grow. Reads have their own bound and fail the same way.
 *
 * READS (SQLite)
 *   Writes (claims included) go through the one writer thread and its group
 *   commit. Reads run on a small pool of reader threads
 *   (sg_store_config_t.readers), each with its own read-only connection and
 *   one read transaction per request: WAL lets them read while the writer
 *   commits, so a search never delays an acknowledgement. A checkpointer
 *   thread copies the write-ahead log back into the file beside the writer.
 *   With synchronous=FULL the log's sync runs beside the writer's next group
 *   (sqlite_sync.c): a read may see a write whose callback has not fired
 *   yet, and whose sync may still fail (it is then refused with SG_EIO and
 *   its messages end 'failed'). Act on a write only in its callback.
 *
 * STATUS
 *   Lifecycle: scheduled -> queued -> sending -> sent -> delivered, or one of
 *   the final failures undeliverable | expired | rejected | failed, or
 *   canceled (by its owner, before sending). The status of a message is
 *   derived from its parts by sg_store_status_derive(), and every change of
 *   it is an event (sg_store_event_t, part_seq 0). A part's own changes are
 *   events too when they carry news of that part: sent (with the operator's
 *   id), a retry, a failure, an expiry, a receipt, a return to the queue
 *   after a lease ran out or a restart. Claiming (sending), the release of a
 *   scheduled message and a cancel move all its parts together and are
 *   recorded once, on the message.
 *
 * WEBHOOKS
 *   When a message's status becomes one in sg_store_config_t.webhook_statuses
 *   and the message has a callback_url, the transaction that records the
 *   event also queues a webhook delivery of this JSON object (keys in this
 *   order, absent ones left out):
 *     {"event": "message.status", "message_id", "batch_id", "status",
 *      "to", "from", "client_ref", "part": seq of the part that caused it,
 *      "error_code", "detail", "parts", "timestamp": RFC 3339 UTC with ms}
 *   and an inbound message with a webhook_url queues:
 *     {"event": "message.inbound", "id", "from", "to", "encoding",
 *      "text" (UTF-8) or "payload_hex", "parts", "connector", "timestamp"}
 *   The notifier signs and POSTs the payload as it is. A message's own
 *   webhook_statuses (sg_store_msg_in_t) narrows the statuses further.
 *
 * KANNEL DLR-URL
 *   A message with a dlr_url gets, in the transaction of each status
 *   change whose Kannel report type (core/kannel.h) is in its dlr_mask, a
 *   webhook row whose url is the dlr_url with its escape codes expanded
 *   and whose `get` flag is set: the notifier GETs it, unsigned, and
 *   retries it like the others. The types: sent 8 (SMSC success);
 *   delivered 1; undeliverable and expired 2; rejected and failed 16 when
 *   the message had not been sent, else 2. Other statuses call nothing.
 */
#ifndef SG_STORE_STORE_H
#define SG_STORE_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "core/id.h"
#include "core/segment.h"

typedef struct sg_store sg_store_t;

/* ---- statuses ---------------------------------------------------------- */

typedef enum sg_msg_status {
  SG_MSG_NONE = 0, /* "any" in a filter; never a stored status */
  SG_MSG_SCHEDULED = 1,
  SG_MSG_QUEUED = 2,
  SG_MSG_SENDING = 3,
  SG_MSG_SENT = 4,
  SG_MSG_DELIVERED = 5,
  SG_MSG_UNDELIVERABLE = 6,
  SG_MSG_EXPIRED = 7,
  SG_MSG_REJECTED = 8,
  SG_MSG_FAILED = 9,
  SG_MSG_CANCELED = 10
} sg_msg_status_t;
#define SG_MSG_STATUS_COUNT 11

/* Bit of a status in a status mask. */
#define SG_MSG_BIT(s) (1u << (unsigned)(s))

/* Lower-case name ("queued"), "none" for NONE, NULL outside the enum. */
const char *sg_store_status_name(sg_msg_status_t s);
/* Parses a name; returns 0 or SG_EINVAL ("none" is refused). */
int sg_store_status_parse(const char *name, sg_msg_status_t *out);
/* True for delivered, undeliverable, expired, rejected, failed, canceled. */
bool sg_store_status_final(sg_msg_status_t s);

/* The status of a message whose parts have the statuses st[0..n):
 *  - if any part ended in a failure (undeliverable, expired, rejected,
 *    failed), the worst of them, worst first: rejected, undeliverable,
 *    failed, expired (the operator's refusal says most, the validity running
 *    out least);
 *  - else if every part is canceled: canceled; if every part is delivered:
 *    delivered;
 *  - else the least advanced of the others, in the order scheduled, queued,
 *    sending, sent (a delivered or canceled part counts as sent here).
 * Returns SG_MSG_NONE for n == 0. Pure. */
sg_msg_status_t sg_store_status_derive(const sg_msg_status_t *st, size_t n);

/* ---- opening and closing ----------------------------------------------- */

typedef struct sg_store_config {
  /* "sqlite:PATH" or a plain PATH: a SQLite file (created when missing).
   * "postgres://..." or "postgresql://...": PostgreSQL, a libpq URI
   * (store/postgres.c; see sg_store_info_t.missing). */
  const char *url;
  /* true: url is PostgreSQL's whatever it starts with, a libpq URI or a
   * key=value string ("host=db dbname=smsgate password=..."), as the
   * configuration's store.driver: postgres says. */
  bool postgres;
  /* SQLite: true for synchronous=NORMAL (faster commits; a power loss may
   * lose the last acknowledged commits, a crash of smsgate loses nothing).
   * The default, false, is synchronous=FULL: every commit reaches the disk
   * before its callbacks run. */
  bool sync_normal;
  /* SQLite with synchronous=FULL: true (the default, and what a zeroed
   * config means) leaves each commit's fdatasync of the log to a sync
   * thread while the writer runs the next group; callbacks still run only
   * after their sync. Set no_sync_pipeline to sync inside the commit. The
   * environment variable SG_STORE_SYNC_PIPELINE (0 or 1), when set,
   * overrides this. */
  bool no_sync_pipeline;
  /* Run PRAGMA quick_check at open (default true through
   * sg_store_config_init): a corrupt or truncated file is refused with a
   * clear error. It reads the whole file: about a second per few GB. */
  bool quick_check;
  unsigned max_batch;          /* writes per transaction; default 1000 */
  unsigned max_wait_us;        /* how long the writer may wait for more
                                  writes after the first (0, the default:
                                  commit what is there; writes that arrive
                                  during a commit form the next group) */
  unsigned max_pending_writes; /* queue bound; default 10000 */
  unsigned max_pending_reads;  /* queue bound; default 1000 */
  unsigned readers;            /* reader threads; default 2, at least 1 */
  /* Statuses of a message that queue a webhook when it has a callback_url.
   * Default: sent and every final status. */
  uint32_t webhook_statuses;
  /* How long a receipt that matched no part is held for the send result
   * that may still name it; maintenance deletes older ones. Default 1 h. */
  int64_t unmatched_keep_ms;
  /* How long the per-minute traffic counts (store/traffic.h) are kept;
   * maintenance deletes the minutes older than that. Default 400 days. */
  int64_t traffic_keep_ms;
  /* PostgreSQL: the statement timeout of each query of sg_store_counts
   * (a scan of messages and of parts), set for its read transaction
   * only. A count that passes it is cancelled by the server and answered
   * SG_ETIMEDOUT, so that it never holds its snapshot (and VACUUM's
   * horizon) for longer. 0: the default, 10 s; negative: none. SQLite
   * counts from the writer's memory and ignores it. */
  int64_t count_timeout_ms;
  /* Clock of the store (Unix ms), called from the store's threads; NULL is
   * the wall clock. Tests set it to make scheduling deterministic. */
  int64_t (*clock_ms)(void *clock_data);
  void *clock_data;
  /* SQLite test seam: route the file through a VFS that can fail writes on
   * demand (sg_store_sqlite_fail_next in store/sqlite.h). Off in service. */
  bool fault_injection;
  /* This node among several on one database (store/nodes.h): its name
   * (NULL: none; claims then carry no owner), the version and the REST
   * address it shows to the others (NULL: ""). Borrowed during open. */
  const char *node_name;
  const char *node_version;
  const char *node_address;
} sg_store_config_t;

/* Fills *cfg with the defaults for the given url (borrowed). */
void sg_store_config_init(sg_store_config_t *cfg, const char *url);

/* Opens the store, synchronously (call it before the loop serves traffic):
 * checks the file (quick_check), applies the migrations the file lacks in
 * one transaction, refuses a database newer than this binary, puts parts and
 * webhooks left 'sending' by a crash back in the queue, and starts the
 * store's threads. On failure returns a negative code and writes a sentence
 * for the operator into err[0..errlen) (may be NULL):
 *   SG_EIO      the file cannot be opened or written, or is corrupt;
 *   SG_ENOTSUP  the database schema is newer than this binary, or the url
 *               names a backend that is not built;
 *   SG_EINVAL   a bad url or setting; SG_ENOMEM.
 * On success *out is the store; close it with sg_store_close. */
int sg_store_open(uv_loop_t *loop, const sg_store_config_t *cfg,
                  sg_store_t **out, char *err, size_t errlen);

/* What sg_store_open found, for the start-up log line. */
typedef struct sg_store_info {
  const char *backend;     /* "sqlite" */
  unsigned schema_version; /* after the migrations */
  unsigned migrated;       /* migrations applied by this open */
  uint64_t requeued_parts; /* 'sending' parts put back in the queue */
  uint64_t requeued_webhooks;
  /* The request kinds this backend does not run yet, comma-separated
   * ("webhook_claim, inbound_insert"), or NULL: it runs them all. A call
   * of such a kind fails at once with SG_ENOTSUP. */
  const char *missing;
} sg_store_info_t;
void sg_store_get_info(const sg_store_t *st, sg_store_info_t *info);

typedef void (*sg_store_close_cb)(void *data);

/* Stops taking requests (later calls fail with SG_ECLOSED), lets the writer
 * commit what is queued and the readers answer theirs, and runs every
 * callback still due, from inside this call (which therefore waits for the
 * store's threads: call it at shut-down). Then, on a later turn of the
 * loop, frees the store and calls close_cb (may be NULL). Safe with
 * st == NULL (close_cb is then not called); a second call does nothing. */
void sg_store_close(sg_store_t *st, sg_store_close_cb close_cb, void *data);

/* Counters of the store's own work, for /metrics and benchmarks. Loop
 * thread; no I/O. */
#define SG_STORE_COMMIT_BUCKETS 12
#define SG_STORE_BATCH_BUCKETS 10
#define SG_STORE_STAGE_BUCKETS 22
/* The stages of a submit, each a histogram (sg_store_stats_t): */
typedef enum sg_store_stage {
  SG_STORE_STAGE_QUEUE,    /* queued until the writer takes its group */
  SG_STORE_STAGE_RUN,      /* the group's BEGIN..COMMIT (the log written) */
  SG_STORE_STAGE_SYNC,     /* its COMMIT until the log's sync released it */
  SG_STORE_STAGE_HANDOFF,  /* released until its callback ran on the loop */
  SG_STORE_STAGE_TOTAL,    /* queued until its callback ran */
  SG_STORE_STAGE_FSYNC,    /* one fdatasync() of the log (per sync) */
  SG_STORE_STAGE_CKPT,     /* one checkpoint of the checkpointer thread */
  SG_STORE_STAGE_RECEIPTS, /* a receipts request: queued until its callback
                              ran (the store's part of a deliver_sm's
                              answer time) */
  SG_STORE_STAGES
} sg_store_stage_t;
typedef struct sg_store_stats {
  uint64_t commits;         /* write transactions committed */
  uint64_t failed_commits;  /* transactions that failed (SG_EIO) */
  uint64_t writes;          /* write requests committed */
  uint64_t changing;        /* commits that changed a row (SQLite; every
                               commit on PostgreSQL) */
  uint64_t reads;           /* read requests answered */
  unsigned max_group;       /* largest number of writes in one commit */
  uint64_t commit_us_total; /* time spent in BEGIN..COMMIT */
  uint64_t checkpoints;     /* SQLite: times the log went back to the file */
  unsigned pending_writes;  /* queued, not yet taken by the writer */
  unsigned pending_reads;
  uint64_t reruns; /* SQLite: groups run again to undo a request that failed
                      after writing (see sg_store_submit's atomicity) */
  uint64_t writer_cpu_us;       /* SQLite: CPU time (user + system) the writer
                                   thread spent in BEGIN..COMMIT */
  uint64_t lost_races;          /* PostgreSQL: groups run again, whole, after a
                                   deadlock or serialization failure */
  uint64_t races_lost_for_good; /* PostgreSQL: groups that still lost at
                                   their last try (SG_EIO to each request) */
  /* Histograms, one count per bucket (not cumulative), the last bucket for
   * what is above every bound: commit_hist[i] counts the transactions
   * (committed or failed) that took at most sg_store_commit_bounds_us[i];
   * batch_hist[i] the committed ones of at most sg_store_batch_bounds[i]
   * write requests. Their sums are commit_us_total and writes. */
  uint64_t commit_hist[SG_STORE_COMMIT_BUCKETS + 1];
  uint64_t batch_hist[SG_STORE_BATCH_BUCKETS + 1];
  /* Where a submit's time goes, by stage (SQLite; sg_store_stage_t), in
   * the same per-bucket form over sg_store_stage_bounds_us; stage_us[s] is
   * the sum of stage s. */
  uint64_t stage_hist[SG_STORE_STAGES][SG_STORE_STAGE_BUCKETS + 1];
  uint64_t stage_us[SG_STORE_STAGES];
} sg_store_stats_t;
void sg_store_get_stats(sg_store_t *st, sg_store_stats_t *stats);

/* Upper bounds of the commit duration buckets (microseconds, 0.5 ms to
 * 2 s) and of the batch size buckets (write requests per commit), both
 * increasing. */
extern const uint32_t sg_store_commit_bounds_us[SG_STORE_COMMIT_BUCKETS];
extern const uint32_t sg_store_batch_bounds[SG_STORE_BATCH_BUCKETS];
/* Upper bounds of the stage buckets (microseconds, 0.1 ms to 100 ms), and
 * the stages' names as /metrics labels them. */
extern const uint32_t sg_store_stage_bounds_us[SG_STORE_STAGE_BUCKETS];
extern const char *const sg_store_stage_names[SG_STORE_STAGES];

/* The stage bucket of a duration: the index of the first bound >= us, or
 * SG_STORE_STAGE_BUCKETS. */
unsigned sg_store_stage_bucket(uint64_t us);
/* Counts one duration of stage s into stats. Same rule as below. */
void sg_store_stats_note_stage(sg_store_stats_t *stats, sg_store_stage_t s,
                               uint64_t took_us);

/* Counts one transaction into stats: its duration always, and when it
 * committed (ok) its n requests into commits, writes, max_group and the
 * batch histogram. For a backend's writer, under whatever lock guards its
 * stats; a few compares, no allocation. */
void sg_store_stats_note_commit(sg_store_stats_t *stats, bool ok,
                                uint64_t took_us, unsigned n);

/* ---- hashing secrets (pure helpers, any thread) ------------------------ */

#define SG_STORE_KEY_HASH_BYTES 32
#define SG_STORE_SECRET_BYTES 32
#define SG_STORE_PWHASH_MAX 128

/* The hash under which an API key is stored and looked up: keyed BLAKE2b
 * (libsodium crypto_generichash) of the key with the server's secret, so a
 * stolen database does not reveal keys, and a lookup is one index probe.
 * Returns 0, SG_EINVAL for NULL arguments, SG_EIO if libsodium failed to
 * start. */
int sg_store_key_hash(const uint8_t secret[SG_STORE_SECRET_BYTES],
                      const char *key, size_t len,
                      uint8_t out[SG_STORE_KEY_HASH_BYTES]);

/* argon2id (crypto_pwhash_str, "interactive" limits) of a password into
 * out[0..SG_STORE_PWHASH_MAX) as a NUL-terminated string that holds its salt
 * and parameters. Slow on purpose (tens of ms, 64 MB): never call it on the
 * loop; use a worker (uv_queue_work). Returns 0, SG_EINVAL, SG_ENOMEM. */
int sg_store_password_hash(const char *pw, size_t len,
                           char out[SG_STORE_PWHASH_MAX]);
/* Checks a password against a hash from sg_store_password_hash, in constant
 * time. Same cost and threading rule. Returns 0 when it matches, SG_ENOENT
 * when it does not, SG_EINVAL for a malformed hash. */
int sg_store_password_verify(const char *hash, const char *pw, size_t len);

/* ---- submitting messages ----------------------------------------------- */

#define SG_STORE_BATCH_MAX 10000 /* messages in one sg_store_submit */
#define SG_STORE_NAME_MAX 64     /* connector names */

/* One part (segment) of a message, already encoded (core/segment.h). */
typedef struct sg_store_part_in {
  const char *connector;  /* where it will be sent (the route's choice) */
  sg_encoding_t encoding; /* GSM7, UCS2 or 8BIT */
  uint8_t lang_locking;
  uint8_t lang_single;
  const uint8_t *udh; /* with its UDHL octet, or NULL */
  size_t udh_len;
  const uint8_t *ud; /* unpacked septets (GSM7) or octets */
  size_t ud_len;
  uint16_t concat_ref; /* 0 / 1 for a single part */
  uint8_t concat_total;
} sg_store_part_in_t;

typedef struct sg_store_msg_in {
  char id[SG_ID_LEN + 1]; /* from sg_id_new */
  const char *sender;     /* as it will be sent (number or alphanumeric) */
  const char *recipient;  /* E.164: '+' and 1..15 digits */
  sg_encoding_t encoding;
  bool binary; /* body is a binary payload, not UTF-8 text */
  const uint8_t *body;
  size_t body_len;
  int64_t validity_ms;      /* absolute expiry (Unix ms), 0: none */
  int64_t send_at_ms;       /* scheduled time (Unix ms), 0: at once */
  const char *callback_url; /* NULL: no webhooks (the engine fills in the
                               account's default before submitting) */
  const char *client_ref;
  uint8_t priority; /* 0 normal .. 3 highest; higher is sent first */
  bool dlr_wanted;
  /* Kannel dlr-url (a template of core/kannel.h escape codes) and the
   * dlr-mask bits it is called for; NULL / 0: none. See "KANNEL DLR-URL"
   * below. */
  const char *dlr_url;
  uint8_t dlr_mask;
  /* Statuses (SG_MSG_BIT) that queue this message's JSON webhooks; 0: the
   * store's webhook_statuses. */
  uint32_t webhook_statuses;
  const sg_store_part_in_t *parts; /* in order: parts[0] is seq 1 */
  size_t n_parts;                  /* 1 .. SG_SEG_MAX_PARTS */
  /* Set for a message that came in over smsgate's SMPP server: kept with
   * it, so that its final status queues a receipt (see "SMPP RECEIPTS"
   * below). NULL otherwise. */
  const struct sg_store_smpp_origin *smpp;
} sg_store_msg_in_t;

typedef struct sg_store_batch {
  char batch_id[SG_ID_LEN + 1];
  int64_t account_id;
  const sg_store_msg_in_t *msgs;
  size_t n_msgs; /* 1 .. SG_STORE_BATCH_MAX */
  /* Idempotency: when idem_key is not NULL, the batch is stored only if the
   * account has no live record of that key; the record (request_hash,
   * response, expiry idem_ttl_ms from now) is written in the same
   * transaction. request_hash identifies the request (e.g. a hash of its
   * body), response is what the caller answers (e.g. the 202 body). */
  const char *idem_key;
  const uint8_t *request_hash;
  size_t request_hash_len;
  const uint8_t *response;
  size_t response_len;
  int64_t idem_ttl_ms; /* 0: 24 hours */
  /* LIMITS (below), written in the same transaction as the messages, and
   * only when they are stored (not on a replay): usage_parts > 0 adds that
   * many parts to the account's usage of the UTC day usage_day and month
   * usage_month; charge_micro > 0 takes that much from its balance, and
   * when the balance is less the batch fails with SG_ENOSPC and nothing of
   * it is written. */
  char usage_day[11];  /* "2026-11-26", or "" */
  char usage_month[8]; /* "2026-11", or "" */
  uint32_t usage_parts;
  int64_t charge_micro;
} sg_store_batch_t;

typedef struct sg_store_submit_res {
  /* True when the idempotency key was already recorded with the same
   * request_hash: nothing was stored, and response is the one recorded. */
  bool replayed;
  const uint8_t *response;
  size_t response_len;
} sg_store_submit_res_t;

/* status 0: stored (res->replayed false) or replayed; SG_EEXIST: the key is
 * recorded for another request (409), or a message id is taken; SG_EIO: the
 * transaction failed, nothing stored (503). res is NULL unless status is 0. */
typedef void (*sg_store_submit_cb)(sg_store_t *st, int status,
                                   const sg_store_submit_res_t *res,
                                   void *data);

/* Stores the messages of a batch with their parts and a first event each
 * ('queued', or 'scheduled' when send_at_ms is later than now), all in one
 * transaction, and the idempotency record with them: however many messages
 * it has, a batch is stored whole or, on any error, not at all. Fails at
 * once with
 * SG_EINVAL (an id that is not a ULID, a recipient that is not E.164, no
 * parts, a part without a connector or user data, counts over the maxima),
 * SG_EBUSY (queue full), SG_ECLOSED, SG_ENOMEM. */
int sg_store_submit(sg_store_t *st, const sg_store_batch_t *batch,
                    sg_store_submit_cb cb, void *data);

/* ---- sending: claim, results, receipts --------------------------------- */

/* A part handed out for sending, with what the connector needs. */
typedef struct sg_store_claimed {
  int64_t part_id;  /* echo it in sg_store_result_in_t */
  unsigned attempt; /* 1 for the first claim; echo it too */
  char message_id[SG_ID_LEN + 1];
  unsigned seq;
  const char *connector;
  const char *sender;
  const char *recipient;
  sg_encoding_t encoding;
  uint8_t lang_locking;
  uint8_t lang_single;
  const uint8_t *udh;
  size_t udh_len;
  const uint8_t *ud;
  size_t ud_len;
  uint16_t concat_ref;
  uint8_t concat_total;
  uint8_t priority;
  bool dlr_wanted;
  int64_t validity_ms; /* 0: none */
  int64_t account_id;  /* of its message (opt-outs are checked at sending) */
} sg_store_claimed_t;

typedef struct sg_store_claim_res {
  const sg_store_claimed_t *parts;
  size_t n_parts;
  size_t released; /* scheduled messages that came due (any connector) */
  size_t expired;  /* parts whose validity ran out before sending */
  size_t requeued; /* 'sending' parts whose lease ran out */
  /* The claim was open for submitted parts (sg_store_claim_wait): it took
   * those of its group after what was due, or found nothing and waited
   * for the next groups' until its time ran out or sg_store_claim_wake.
   * The caller may claim again at once. */
  bool waited;
  /* The connectors of the messages `released` made due, each named once
   * (in the request's memory); none when the backend does not say
   * (PostgreSQL): then any connector's may be. */
  const char *const *released_to;
  size_t n_released_to;
  /* The connectors of the parts `requeued` (their lease ran out), each
   * named once, as released_to: none when the backend does not say
   * (PostgreSQL), then any connector's may be. */
  const char *const *requeued_to;
  size_t n_requeued_to;
  /* Answered with no part (SQLite): the earliest later time at which a
   * queued part of this connector comes due (its back-off ends), 0 when
   * none is waiting for its time. The caller wakes the connector then. */
  int64_t next_ms;
} sg_store_claim_res_t;

typedef void (*sg_store_claim_cb)(sg_store_t *st, int status,
                                  const sg_store_claim_res_t *res, void *data);

/* In one write transaction: releases scheduled messages whose time came
 * (scheduled -> queued), expires unsent parts whose validity passed
 * (-> expired, with events and derived message status), puts parts whose
 * lease ran out back in the queue, then takes up to max_parts queued parts
 * of `connector` that are due (next attempt time reached), highest priority
 * first, then oldest: each becomes 'sending' with attempts + 1 and a lease
 * of lease_ms (0: 5 minutes), after which another claim may take it again.
 * The passes before the take work on at most 1000 rows each.
 * Fails at once with SG_EINVAL (no connector, max_parts 0 or > 1000),
 * SG_EBUSY, SG_ECLOSED, SG_ENOMEM. */
int sg_store_claim(sg_store_t *st, const char *connector, unsigned max_parts,
                   int64_t lease_ms, sg_store_claim_cb cb, void *data);

/* Largest wait_ms of sg_store_claim_wait. */
#define SG_STORE_CLAIM_WAIT_MAX_MS 600000

/* As sg_store_claim (what is due is taken first, by the same rules), but
 * the claim stays open for submitted parts: with room left, it takes those
 * of the submits of its own transaction (the writer runs such claims
 * before the group's other requests), and one that found nothing due (and
 * whose passes released, expired and requeued nothing) waits in the store
 * for up to wait_ms, taking those of the transactions that follow, instead
 * of being answered empty at once. A submitted part due at once for
 * `connector` (not scheduled, not a customer's pre-split part) is written
 * 'sending' with the claim's lease and attempts 1 in the submit's own
 * transaction, exactly as a claim would have left it (its event, webhook,
 * counts included), and handed to the claim; never more than max_parts in
 * all. cb fires after the transaction that gave it parts committed, after
 * the callbacks of that transaction's other writes (the submits), so it
 * may come after those of writes queued after it; a claim that waited and
 * got none fires with no part at wait_ms (up to a quarter of it sooner,
 * with another claim whose time ran out), at sg_store_claim_wake, and when
 * the store closes. res->waited tells that it was open: the caller may
 * claim again at once. Only the SQLite store keeps claims open (one or two
 * a connector are enough); PostgreSQL answers at once, as sg_store_claim.
 * Such a claim runs before the writes queued before it in its group: a
 * cancel queued just before it may find the parts it takes 'sending', no
 * longer cancellable, where run in order it would have canceled them.
 * wait_ms 0 is sg_store_claim. Fails at once as sg_store_claim, and with
 * SG_EINVAL for wait_ms over SG_STORE_CLAIM_WAIT_MAX_MS. */
int sg_store_claim_wait(sg_store_t *st, const char *connector,
                        unsigned max_parts, int64_t lease_ms, uint32_t wait_ms,
                        sg_store_claim_cb cb, void *data);

/* Answers the claims of `connector` waiting in the store
 * (sg_store_claim_wait), and those queued before this call, soon and with
 * no part that they have not taken yet: for a connector that went down,
 * was paused or removed, or for parts moved to it or due on it that no
 * submit brings. The other connectors' claims wait on. connector NULL
 * answers every connector's: for parts that came due by time on any, and
 * before a stop. The name is copied. Loop thread; does nothing on a store
 * that does not wait or is closing. */
void sg_store_claim_wake(sg_store_t *st, const char *connector);

/* Whether claims may wait in this store (sg_store_claim_wait): SQLite. */
bool sg_store_claims_wait(const sg_store_t *st);

/* Whether other nodes may write the same database (PostgreSQL): then work
 * may come due that no write of this process announced. A SQLite file has
 * one node, whose writes are all the store's. */
bool sg_store_shared(const sg_store_t *st);

typedef enum sg_store_outcome {
  SG_STORE_SENT = 0,  /* the operator took it: smsc_id set */
  SG_STORE_RETRY = 1, /* back to the queue until next_attempt_ms */
  SG_STORE_FAILED = 2 /* final: final_status */
} sg_store_outcome_t;

/* The outcome of sending one claimed part. */
typedef struct sg_store_result_in {
  int64_t part_id;
  unsigned attempt; /* as claimed: a late result of an older claim is
                       refused (SG_ESTATE) */
  sg_store_outcome_t outcome;
  const char *smsc_id;          /* SENT: the connector's key for the id */
  const char *smsc_raw_id;      /* SENT: the id as the operator gave it,
                                   shown by reads; NULL: smsc_id */
  sg_msg_status_t final_status; /* FAILED: FAILED (default), REJECTED or
                                   UNDELIVERABLE */
  int64_t next_attempt_ms;      /* RETRY: absolute time; 0 at once */
  const char *connector;        /* RETRY: move it there; NULL: keep */
  int32_t error_code;           /* protocol status (ESME_R*, CMS ...), 0 */
  const char *detail;           /* text for the event, or NULL */
} sg_store_result_in_t;

/* What one item of a result or receipt batch did. */
typedef struct sg_store_item_res {
  int status; /* 0, or SG_ENOENT (no such part/receipt
                 match), SG_ESTATE (the part is not in a state
                 for it) */
  char message_id[SG_ID_LEN + 1];
  unsigned seq;
  sg_msg_status_t part_status; /* after the item */
  sg_msg_status_t msg_status;  /* after the item */
  bool msg_changed;            /* the message status changed */
  bool held;            /* receipts: it matched no part and was stored, to
                           be applied by the send result that names its
                           smsc_id (status 0: answer the operator) */
  bool receipt_applied; /* results: a held receipt for the part's smsc_id
                           was applied with it (part_status, msg_status and
                           msg_changed are after it) */
} sg_store_item_res_t;

/* status is 0 (each item has its own status) or SG_EIO; items is NULL on
 * SG_EIO. */
typedef void (*sg_store_items_cb)(sg_store_t *st, int status,
                                  const sg_store_item_res_t *items, size_t n,
                                  void *data);

/* Records the outcomes of n (1..1000) sent parts in one transaction: SENT
 * makes a part 'sent' and remembers (connector, smsc_id) for its receipt,
 * and applies the receipt held for that key if one arrived first (as
 * sg_store_record_receipts would have then; the item says receipt_applied);
 * RETRY queues it again at next_attempt_ms (possibly on another connector);
 * FAILED ends it. Each writes a part event and updates the message status
 * (events and webhooks as in the header). Fails at once with SG_EINVAL (SENT
 * without smsc_id, FAILED with a status that is not a failure),
 * SG_EBUSY, SG_ECLOSED, SG_ENOMEM. */
int sg_store_record_results(sg_store_t *st, const sg_store_result_in_t *r,
                            size_t n, sg_store_items_cb cb, void *data);

/* A delivery receipt, with what the engine made of the operator's state. */
typedef struct sg_store_receipt_in {
  const char *connector;
  const char *smsc_id;    /* as the connector keys it (like SENT's) */
  sg_msg_status_t status; /* SENT (an intermediate report, such as en
                             route or accepted: an event of the part, whose
                             status stays), DELIVERED, UNDELIVERABLE,
                             EXPIRED, REJECTED or FAILED */
  int32_t error_code;     /* network error, 0 */
  const char *detail;     /* e.g. the receipt text, or NULL */
  int64_t done_ms;        /* the operator's time of the event, 0: now */
} sg_store_receipt_in_t;

/* Matches n (1..1000) receipts by (connector, smsc_id) to their parts (the
 * newest part with that key) and records them in one transaction: the part
 * takes the receipt's status, an event is written, and the message status is
 * derived again. A receipt for no known part (it may have overtaken its
 * submit result) is held: stored in the same transaction, keyed by
 * (connector, smsc_id), and the item has status 0 and held true; the send
 * result that later records that smsc_id for a part of that connector
 * applies it (sg_store_record_results) and the store's maintenance deletes
 * it after sg_store_config_t.unmatched_keep_ms. A repeated receipt for a
 * held id replaces it, except that an intermediate one (SENT) never
 * replaces a final one. A backend that cannot hold gives such an item
 * SG_ENOENT instead (try again later, or nack it). A
 * final receipt that repeats the part's status, or any receipt for a
 * canceled part, writes nothing (status 0, msg_changed false). Fails at
 * once like sg_store_record_results, and with SG_EINVAL for a status not
 * listed above. */
int sg_store_record_receipts(sg_store_t *st, const sg_store_receipt_in_t *r,
                             size_t n, sg_store_items_cb cb, void *data);

/* Cancels a message that has not been sent: every part still 'scheduled' or
 * 'queued' (and none beyond) becomes 'canceled'. account_id 0 is any
 * account; another account's message is SG_ENOENT. The callback's single
 * item has status 0, SG_ENOENT, or SG_ESTATE (a part is already being sent
 * or was sent, or the message ended). */
int sg_store_cancel(sg_store_t *st, const char *message_id, int64_t account_id,
                    sg_store_items_cb cb, void *data);

/* ---- reading messages --------------------------------------------------- */

typedef struct sg_store_part {
  int64_t part_id;
  unsigned seq;
  const char *connector;
  sg_msg_status_t status;
  const char *smsc_id; /* the operator's id as it gave it (the key a
                          receipt is matched on, for parts stored
                          without it); NULL until sent */
  int32_t error_code;
  const char *error; /* NULL when none */
  unsigned attempts;
  int64_t next_attempt_ms;
  int64_t updated_ms;
} sg_store_part_t;

typedef struct sg_store_event {
  int64_t id; /* increasing along the list; a part's event may have the id
                 of the message event right after it, which it caused (the
                 SQLite store keeps the two in one row); 0 for the events
                 the SQLite store shows from a message's rows, not from a
                 row of events (its first 'queued', the 'sending' of
                 its parts taken at its submit, and the 'sent' of a
                 message of one part that no delivery refers to, with its
                 part's); the others increase */
  unsigned part_seq; /* 0: the message itself */
  sg_msg_status_t status;
  int32_t error_code;
  const char *detail; /* NULL when none */
  int64_t time_ms;
} sg_store_event_t;

typedef struct sg_store_message {
  char id[SG_ID_LEN + 1];
  char batch_id[SG_ID_LEN + 1];
  int64_t account_id;
  const char *sender;
  const char *recipient;
  sg_encoding_t encoding;
  bool binary;
  const uint8_t *body;
  size_t body_len;
  int64_t validity_ms;      /* 0: none */
  int64_t send_at_ms;       /* 0: none */
  const char *callback_url; /* NULL when none */
  const char *client_ref;   /* NULL when none */
  uint8_t priority;
  bool dlr_wanted;
  sg_msg_status_t status;
  int32_t error_code;
  unsigned parts_total;
  int64_t created_ms;
  int64_t updated_ms;
  /* Only from sg_store_get_message (NULL/0 in lists): */
  const sg_store_part_t *parts;
  size_t n_parts;
  const sg_store_event_t *events; /* oldest first */
  size_t n_events;
} sg_store_message_t;

typedef void (*sg_store_message_cb)(sg_store_t *st, int status,
                                    const sg_store_message_t *msg, void *data);

/* Reads one message with its parts and events. account_id 0 is any account;
 * another account's message is SG_ENOENT, like a missing one. Fails at once
 * with SG_EINVAL (not an id), SG_EBUSY, SG_ECLOSED, SG_ENOMEM. */
int sg_store_get_message(sg_store_t *st, const char *id, int64_t account_id,
                         sg_store_message_cb cb, void *data);

#define SG_STORE_LIST_MAX 1000
#define SG_STORE_LIST_DEFAULT 50

typedef struct sg_store_filter {
  int64_t account_id;     /* 0: every account */
  sg_msg_status_t status; /* NONE: any */
  const char *recipient;  /* exact E.164, or NULL */
  const char *batch_id;   /* or NULL */
  int64_t from_ms;        /* created at or after; 0: no bound */
  int64_t to_ms;          /* created before; 0: no bound */
  const char *cursor;     /* next_cursor of the previous page, or NULL */
  unsigned limit;         /* 1..SG_STORE_LIST_MAX; 0: the default */
} sg_store_filter_t;

typedef struct sg_store_list_res {
  const sg_store_message_t *msgs; /* newest first */
  size_t n;
  /* The cursor of the next page, "" when this is the last page. Keyset
   * pagination on the id: a page holds the ids below the cursor, so pages
   * stay stable while new messages arrive. */
  char next_cursor[SG_ID_LEN + 1];
} sg_store_list_res_t;

typedef void (*sg_store_list_cb)(sg_store_t *st, int status,
                                 const sg_store_list_res_t *res, void *data);

/* Lists messages matching every given filter, newest first. Fails at once
 * with SG_EINVAL (a cursor or batch id that is not an id, limit too big, a
 * status outside the enum), SG_EBUSY, SG_ECLOSED, SG_ENOMEM. */
int sg_store_list_messages(sg_store_t *st, const sg_store_filter_t *f,
                           sg_store_list_cb cb, void *data);

/* ---- parts waiting for their receipt (GSM modems) ------------------------ */

#define SG_STORE_WAITING_MAX 4096

typedef void (*sg_store_smsc_ids_cb)(sg_store_t *st, int status,
                                     const char *const *smsc_ids, size_t n,
                                     void *data);

/* The smsc_ids of the connector's parts that are 'sent' (so still waiting
 * for a receipt) and were last updated at or after since_ms, newest first,
 * at most max (1..SG_STORE_WAITING_MAX). A connector whose operator ids do
 * not survive a restart (a GSM modem's TP-MR) learns them again from this.
 * Fails at once with SG_EINVAL, SG_EBUSY, SG_ECLOSED, SG_ENOMEM. */
int sg_store_waiting_parts(sg_store_t *st, const char *connector,
                           int64_t since_ms, unsigned max,
                           sg_store_smsc_ids_cb cb, void *data);

/* Message counts, for /metrics. */
typedef struct sg_store_counts {
  uint64_t messages[SG_MSG_STATUS_COUNT]; /* by status */
  uint64_t parts[SG_MSG_STATUS_COUNT];
  uint64_t webhooks_pending; /* pending or being sent */
  uint64_t webhooks_failed;  /* given up */
  uint64_t inbound;
} sg_store_counts_t;

typedef void (*sg_store_counts_cb)(sg_store_t *st, int status,
                                   const sg_store_counts_t *c, void *data);

/* Counts rows by status (messages and parts: a scan of their tables; run it
 * every few seconds at most, never per request; webhooks: their partial
 * indexes). On PostgreSQL a count that runs past count_timeout_ms is
 * cancelled and answered SG_ETIMEDOUT (nothing else changes; the caller
 * keeps its last figures). */
int sg_store_counts(sg_store_t *st, sg_store_counts_cb cb, void *data);

/* ---- webhooks ----------------------------------------------------------- */

typedef struct sg_store_webhook {
  int64_t id;
  int64_t account_id;     /* 0: none */
  const char *message_id; /* NULL when not about a message */
  const char *url;
  const uint8_t *payload; /* NULL when event is set */
  size_t payload_len;
  /* A delivery whose payload the store has not written (SQLite writes the
   * payload of a status change it holds in memory only when the delivery
   * becomes a row): the status change as a record of event_len octets,
   * from which sg_store_webhook_payload writes the payload. NULL when
   * payload is set. */
  const uint8_t *event;
  size_t event_len;
  unsigned attempts; /* including this one */
  int64_t created_ms;
  bool get; /* a Kannel dlr-url: GET url (expanded), no body, unsigned */
} sg_store_webhook_t;

/* Writes the payload of a delivery's record (sg_store_webhook_t.event,
 * event_len octets) into *buf, which the caller keeps and may reuse: it is
 * grown with sg_realloc as needed (*buf NULL and *cap 0 to begin; the
 * caller frees it with sg_free). The payload is byte for byte the one the
 * store writes into a row for the same status change. Any thread, no
 * store needed, so that the thread that sends a delivery can write its
 * body. Returns 0 with *len set, SG_EINVAL for octets that are not such a
 * record, or SG_ENOMEM (*buf stays the caller's either way). */
int sg_store_webhook_payload(const void *event, size_t event_len, char **buf,
                             size_t *cap, size_t *len);

typedef void (*sg_store_webhooks_cb)(sg_store_t *st, int status,
                                     const sg_store_webhook_t *w, size_t n,
                                     void *data);

/* status 0 or a negative code; id is the new row's id (0 on failure). */
typedef void (*sg_store_id_cb)(sg_store_t *st, int status, int64_t id,
                               void *data);

/* Queues a webhook delivery due at once (for what the store does not queue
 * by itself). account_id 0 and message_id NULL are allowed. */
int sg_store_webhook_enqueue(sg_store_t *st, int64_t account_id,
                             const char *message_id, const char *url,
                             const uint8_t *payload, size_t len,
                             sg_store_id_cb cb, void *data);

/* Takes up to max (1..1000) due deliveries, oldest due first (SQLite: those
 * its writer holds in memory first, with a quarter of the claim left to
 * rows once a second), each under a lease of lease_ms (0: 5 minutes); when the
 * lease runs out unanswered, a later claim takes it again. attempts counts this
 * one. The lease is kept in the store's memory and the claim writes nothing:
 * after a crash or a stop, every delivery not finished is due again
 * (at-least-once), and an attempt that was not finished before a restart is not
 * counted. */
int sg_store_webhook_claim(sg_store_t *st, unsigned max, int64_t lease_ms,
                           sg_store_webhooks_cb cb, void *data);

typedef struct sg_store_webhook_result {
  int64_t id;
  bool done;               /* taken by the receiver */
  int64_t next_attempt_ms; /* when not done: retry then; 0: give up
                              ('failed') */
  const char *error;       /* why it failed, or NULL */
  /* Not done and never sent (handed back before its request went out):
   * the attempt its claim counted is taken back, and the delivery's
   * last_error stays what it was (error is not recorded). */
  bool untried;
} sg_store_webhook_result_t;

typedef void (*sg_store_done_cb)(sg_store_t *st, int status, void *data);

/* Records the outcome of n (1..1000) claimed deliveries: a delivery the
 * receiver took is deleted (the message's events keep its history); one to
 * retry is due again at next_attempt_ms; one given up stays as 'failed'
 * (counted in sg_store_counts_t.webhooks_failed). Unknown ids are
 * ignored. (SQLite holds the deliveries of one-part messages' status
 * changes in its writer's memory, ids below 0, and writes a row only for
 * a retry or a give-up; docs/architecture.md, "Webhook deliveries".) */
int sg_store_webhook_finish(sg_store_t *st, const sg_store_webhook_result_t *r,
                            size_t n, sg_store_done_cb cb, void *data);

/* ---- SMPP RECEIPTS ------------------------------------------------------
 *
 * A message stored with an smpp origin whose registered_delivery asks for
 * a final receipt (SMPP 3.4 section 5.2.17: bits 1..0 = 01 on any final
 * outcome, 10 on failure only) gets one row in a durable queue in the same
 * transaction that records its final status. The SMPP server claims the
 * rows of a bound account, oldest first, under a lease, sends each as a
 * deliver_sm and finishes it when the customer answered.
 * Incoming messages for an account that takes them over SMPP
 * (sg_store_mo_deliver_t.smpp_out) wait in the same queue, in the order
 * they were stored among the receipts, and are claimed the same way. */

typedef struct sg_store_smpp_origin {
  uint8_t registered_delivery;
  uint8_t source_ton, source_npi;
  const char *source_addr; /* as the customer sent them */
  uint8_t dest_ton, dest_npi;
  const char *dest_addr; /* "": the message's recipient (submit_multi) */
} sg_store_smpp_origin_t;

/* One receipt owed to a customer. */
typedef struct sg_store_smpp_out {
  int64_t id;
  char message_id[SG_ID_LEN + 1];
  sg_msg_status_t status; /* the message's final status */
  int32_t error_code;     /* 0: none */
  int64_t submit_ms;      /* when the message was stored */
  int64_t done_ms;        /* when it got its final status */
  unsigned attempts;      /* claims, including this one, as far as the store
                             knows: a claim whose lease died with the process
                             (a crash or a restart) is not counted */
  sg_store_smpp_origin_t origin;
  const uint8_t *body; /* the message's body (UTF-8 text unless binary) */
  size_t body_len;
  bool binary;
  const char *recipient; /* E.164, for an origin whose dest_addr is "" */
  /* mo true: not a receipt but an incoming message for the customer
   * (sg_store_mo_deliver_t.smpp_out): message_id is its inbound id, body
   * its whole text (or payload when binary), sender and recipient its
   * addresses as stored, received_ms when it arrived; status, error_code,
   * submit_ms, done_ms and origin are left 0. */
  bool mo;
  const char *sender;
  int64_t received_ms;
  /* > 0: the receipt of this part of a message stored from a customer's
   * pre-split parts; status and error_code are the part's. */
  unsigned part_seq;
  /* The account it is owed to: set in hand-offs (below), 0 in claims,
   * which name it themselves. */
  int64_t account_id;
} sg_store_smpp_out_t;

/* status 0 or a negative code; out[0..n) are valid during the call only.
 * dropped: rows of the account older than max_age_ms deleted by this
 * claim. */
typedef void (*sg_store_smpp_out_cb)(sg_store_t *st, int status,
                                     const sg_store_smpp_out_t *out, size_t n,
                                     size_t dropped, void *data);

/* In one write transaction: deletes the account's receipts created more
 * than max_age_ms ago (0: keep all), then takes up to max (1..1000) of its
 * receipts not claimed or whose lease ran out, oldest first, and leases
 * them for lease_ms (0: 60 s). The lease is kept in memory, not written:
 * after a restart every receipt not finished is offered again. A receipt
 * whose message is gone is deleted, not handed out. Fails at once with
 * SG_EINVAL, SG_EBUSY,
 * SG_ECLOSED, SG_ENOMEM. */
int sg_store_smpp_out_claim(sg_store_t *st, int64_t account_id, unsigned max,
                            int64_t lease_ms, int64_t max_age_ms,
                            sg_store_smpp_out_cb cb, void *data);

typedef struct sg_store_smpp_out_result {
  int64_t id;
  bool done; /* true: the customer took it (the row goes); false: it waits
                for the next claim */
} sg_store_smpp_out_result_t;

/* Records the outcome of n (1..1000) claimed receipts. Unknown ids are
 * ignored. */
int sg_store_smpp_out_finish(sg_store_t *st,
                             const sg_store_smpp_out_result_t *r, size_t n,
                             sg_store_done_cb cb, void *data);

/* RECEIPTS STRAIGHT FROM THEIR COMMIT (SQLite). While a hand-off is set,
 * each receipt row the SQLite writer queues for a final status is also
 * leased, in the same transaction, for SG_STORE_HANDOFF_LEASE_MS, and once
 * that transaction is durable (after its sync, with the callbacks of its
 * requests) it is handed to cb on the loop thread: the row a claim would
 * give, with account_id set; rows[0..n) are valid during the call only.
 * cb sends what it can and finishes those with sg_store_smpp_out_finish
 * as it would claimed ones; a row it leaves alone stays in the queue and
 * is offered to claims when its lease runs out, and after a restart (no
 * lease outlives the process). A transaction that fails hands nothing.
 * cb NULL stops the hand-offs (rows already leased wait for their lease to
 * end). The PostgreSQL store never calls cb: its receipts are claimed.
 * Loop thread. */
#define SG_STORE_HANDOFF_LEASE_MS 2000
typedef void (*sg_store_smpp_handoff_cb)(sg_store_t *st,
                                         const sg_store_smpp_out_t *rows,
                                         size_t n, void *data);
void sg_store_smpp_out_handoff(sg_store_t *st, sg_store_smpp_handoff_cb cb,
                               void *data);

/* ---- inbound messages ---------------------------------------------------- */

typedef struct sg_store_inbound {
  char id[SG_ID_LEN + 1];
  int64_t account_id;    /* 0: not routed to an account */
  const char *connector; /* where it came from, or NULL */
  const char *sender;
  const char *recipient;
  sg_encoding_t encoding;
  bool binary;
  const uint8_t *body; /* UTF-8 text (reassembled) or the payload */
  size_t body_len;
  unsigned parts;
  int64_t received_ms;
  int64_t created_ms; /* set by the store; ignored on insert */
  /* Set by sg_store_mo_deliver and read back by sg_store_inbound_search
   * (NULL / false from the older calls): */
  const char *keyword; /* first word of the text, upper case, or NULL */
  bool incomplete;     /* parts were missing when reassembly timed out */
} sg_store_inbound_t;

/* Stores one (reassembled) inbound message and, when webhook_url is not
 * NULL, queues its webhook in the same transaction. Acknowledge the message
 * to the operator only in the callback. The callback's id is the id of the
 * queued webhook (0 without webhook_url); SG_EEXIST for a taken message
 * id. Fails at once with SG_EINVAL (not an id, no sender or recipient). */
int sg_store_inbound_insert(sg_store_t *st, const sg_store_inbound_t *in,
                            const char *webhook_url, sg_store_id_cb cb,
                            void *data);

typedef struct sg_store_inbound_res {
  const sg_store_inbound_t *msgs; /* newest first */
  size_t n;
  char next_cursor[SG_ID_LEN + 1]; /* "" on the last page */
} sg_store_inbound_res_t;

typedef void (*sg_store_inbound_cb)(sg_store_t *st, int status,
                                    const sg_store_inbound_res_t *res,
                                    void *data);

/* Lists inbound messages of an account (0: all), newest first, keyset
 * pagination as in sg_store_list_messages. */
int sg_store_inbound_list(sg_store_t *st, int64_t account_id,
                          const char *cursor, unsigned limit,
                          sg_store_inbound_cb cb, void *data);

/* ---- accounts and API keys ---------------------------------------------- */

typedef struct sg_store_account {
  int64_t id;
  const char *name;
  const char *password_hash; /* NULL: no password log-in */
  const char *webhook_url;   /* NULL: none */
  bool disabled;
  int64_t created_ms;
  int64_t key_id; /* the API key that found it, else 0 */
} sg_store_account_t;

typedef void (*sg_store_account_cb)(sg_store_t *st, int status,
                                    const sg_store_account_t *a, void *data);

/* Creates an account (id, created_ms and key_id of *a are ignored); the
 * callback gets its id, or SG_EEXIST for a taken name. */
int sg_store_account_create(sg_store_t *st, const sg_store_account_t *a,
                            sg_store_id_cb cb, void *data);

/* Stores an API key of an account by its sg_store_key_hash; the callback
 * gets the key's id, SG_ENOENT for no such account, SG_EEXIST for a hash
 * already stored. */
int sg_store_apikey_create(sg_store_t *st, int64_t account_id,
                           const uint8_t hash[SG_STORE_KEY_HASH_BYTES],
                           const char *label, sg_store_id_cb cb, void *data);

/* Revokes a key (lookups stop finding it). SG_ENOENT for no such key. */
int sg_store_apikey_revoke(sg_store_t *st, int64_t key_id, sg_store_done_cb cb,
                           void *data);

/* Finds the account of a live API key by its hash (one index probe); the
 * callback gets SG_ENOENT for an unknown or revoked key. A disabled account
 * is returned with disabled set: refusing it is the caller's decision. */
int sg_store_apikey_lookup(sg_store_t *st,
                           const uint8_t hash[SG_STORE_KEY_HASH_BYTES],
                           sg_store_account_cb cb, void *data);

/* Finds an account by name (for password log-in); SG_ENOENT when none. */
int sg_store_account_by_name(sg_store_t *st, const char *name,
                             sg_store_account_cb cb, void *data);

/* ---- ACCOUNTS AND KEYS AT RUN TIME ------------------------------------------
 *
 * Accounts created through the API (store/store_admin.c, migration 0007)
 * keep their settings as a JSON object (`spec`, the account keys of
 * docs/configuration.md) that the engine checks and reads; the store only
 * keeps it. A row without a spec is an account of the configuration file.
 * API keys are kept as their sg_store_key_hash only, with a short public id
 * that users see. A key's revoked_ms may lie in the future: the key stays
 * valid until then (a rotation's grace period).
 */

typedef struct sg_store_admin_account {
  int64_t id;                     /* ignored by create */
  const char *name;               /* 1..64 of the configuration's names */
  const char *spec;               /* JSON object; NULL: a configured one */
  const char *smpp_password_hash; /* argon2id, or NULL */
  bool disabled;
  int64_t created_ms; /* set by the store */
  int64_t updated_ms; /* set by the store */
} sg_store_admin_account_t;

#define SG_STORE_KEY_ID_MAX 32 /* octets of a public key id, NUL included */

typedef struct sg_store_key {
  int64_t id; /* the row id; ignored by create */
  char public_id[SG_STORE_KEY_ID_MAX];
  int64_t account_id;
  const char *label; /* or NULL */
  uint8_t hash[SG_STORE_KEY_HASH_BYTES];
  int64_t created_ms; /* set by the store on create */
  int64_t revoked_ms; /* 0: not revoked */
} sg_store_key_t;

/* Creates (create true: SG_EEXIST when the name is taken by any account,
 * configured or not) or updates (spec, smpp_password_hash, disabled of the
 * API account a->id: SG_ENOENT when there is no such API account) an
 * account; the callback gets its id. Fails at once with SG_EINVAL (a bad
 * name, no spec, id <= 0 for an update), SG_EBUSY, SG_ECLOSED, SG_ENOMEM. */
int sg_store_account_put(sg_store_t *st, const sg_store_admin_account_t *a,
                         bool create, sg_store_id_cb cb, void *data);

/* The accounts created through the API (by id) and every key with a public
 * id (by id, revoked ones too). Pointers are valid during the call. */
typedef void (*sg_store_admin_load_cb)(sg_store_t *st, int status,
                                       const sg_store_admin_account_t *accts,
                                       size_t n_accts,
                                       const sg_store_key_t *keys,
                                       size_t n_keys, void *data);

/* Reads what sg_store_admin_load_cb lists, in one read transaction. */
int sg_store_admin_load(sg_store_t *st, sg_store_admin_load_cb cb, void *data);

/* Stores a new key (public_id, account_id, label, hash); when revoke_id is
 * not 0, in the same transaction sets that key's revoked_ms to revoke_ms
 * (a rotation). The callback gets the new key's row id; SG_ENOENT for no
 * such account or key to revoke, SG_EEXIST for a taken public id or hash. */
int sg_store_key_put(sg_store_t *st, const sg_store_key_t *k, int64_t revoke_id,
                     int64_t revoke_ms, sg_store_id_cb cb, void *data);

/* Sets the revoked_ms of key key_id (the row id) to revoked_ms if the key
 * was live or revoked later than that; SG_ENOENT for no such key. */
int sg_store_key_revoke(sg_store_t *st, int64_t key_id, int64_t revoked_ms,
                        sg_store_done_cb cb, void *data);

/* ---- housekeeping -------------------------------------------------------- */

typedef struct sg_store_maint_res {
  size_t released;         /* scheduled messages released */
  size_t expired;          /* parts expired */
  size_t requeued;          /* parts whose lease ran out */
  size_t webhooks_requeued; /* webhook rows whose lease ran out */
  size_t purged;           /* idempotency records past their expiry */
  size_t receipts_expired; /* held receipts older than unmatched_keep_ms,
                              deleted */
  size_t traffic_pruned;   /* traffic minutes older than traffic_keep_ms,
                              deleted */
  /* The connectors of the messages released and of the parts requeued,
   * as in sg_store_claim_res_t. */
  const char *const *released_to;
  size_t n_released_to;
  const char *const *requeued_to;
  size_t n_requeued_to;
  /* timed (SQLite): next_ms is the earliest later time at which a part's
   * lease or validity ends or a scheduled message comes due (0: none), and
   * webhook_next_ms that at which a webhook delivery is due again: a row
   * waiting for its next attempt, the end of a delivery's lease (kept in
   * the writer's memory), or now for a due one no lease holds (0: none;
   * the tick's webhook claim takes what is due, maintenance need not run).
   * Until
   * then, and while no write changes a row (sg_store_stats_t.changing),
   * a pass would find none of that; the purges and the expiry of held
   * receipts and pre-split parts are housekeeping that may wait. Not
   * timed (PostgreSQL, where other nodes add work): run it every tick. */
  bool timed;
  int64_t next_ms;
  int64_t webhook_next_ms;
} sg_store_maint_res_t;

typedef void (*sg_store_maint_cb)(sg_store_t *st, int status,
                                  const sg_store_maint_res_t *res, void *data);

/* One write transaction of the passes sg_store_claim makes before taking
 * parts (release, expire, requeue), for every connector, plus a purge of
 * expired idempotency records, of receipts held longer than
 * unmatched_keep_ms and of traffic minutes older than traffic_keep_ms (at
 * most 1000 rows of each per pass). The engine runs
 * it from its tick so that messages of a connector that is down still
 * expire and their webhooks still go out: every tick while commits change
 * rows or when the answer is not timed, else at the answer's next_ms or
 * once a minute (engine.c, tick_cb). */
int sg_store_maintain(sg_store_t *st, sg_store_maint_cb cb, void *data);

/* ---- inbound reassembly, delivery and opt-outs ---------------------------
 *
 * INBOUND REASSEMBLY AND OPT-OUTS
 *   A part of a concatenated inbound message is stored as received
 *   (sg_store_mo_part_add) before the operator is acknowledged. The engine
 *   names the message a part belongs to by a group key; a second part with
 *   the same (group, seq) is a duplicate and writes nothing. When a group
 *   has all its parts, or its first part is older than the reassembly
 *   timeout, sg_store_mo_due hands its parts out and sg_store_mo_deliver
 *   stores the message they make and deletes them in one transaction (so a
 *   crash between the two loses nothing and delivers nothing twice: a
 *   second deliver of the same group finds no parts and writes nothing).
 *   Parts survive a restart as rows, so does their age.
 *   An account's opt-out list is a set of E.164 numbers; a STOP keyword
 *   adds the sender in the transaction that stores the message.
 */

typedef struct sg_store_mo_part {
  const char *group;     /* the message's key, chosen by the engine (<= 255) */
  unsigned seq;          /* 1..total */
  unsigned total;        /* 2..255 */
  const char *connector; /* or NULL */
  const char *sender;
  const char *recipient;
  uint8_t data_coding;
  const uint8_t *udh; /* UDHL first, or NULL */
  size_t udh_len;
  const uint8_t *ud;
  size_t ud_len;
  int64_t received_ms;
} sg_store_mo_part_t;

/* status 0 with dup false: stored; dup true: that (group, seq) was stored
 * already and nothing was written. have: the group's parts stored now. */
typedef void (*sg_store_mo_part_cb)(sg_store_t *st, int status, bool dup,
                                    unsigned have, void *data);

/* Stores one part of a concatenated inbound message. Acknowledge the part
 * to the operator only in the callback. Fails at once with SG_EINVAL (no
 * group, sender or recipient; seq outside 1..total; total outside 2..255),
 * SG_EBUSY, SG_ECLOSED, SG_ENOMEM. */
int sg_store_mo_part_add(sg_store_t *st, const sg_store_mo_part_t *p,
                         sg_store_mo_part_cb cb, void *data);

/* parts: grouped by group, each group in seq order. */
typedef void (*sg_store_mo_parts_cb)(sg_store_t *st, int status,
                                     const sg_store_mo_part_t *parts, size_t n,
                                     void *data);

/* Reads the parts of up to max_groups (1..100) groups that are ready:
 * every part of them is stored, or their first part was received before
 * stale_before_ms (0: only complete groups). A read: it changes nothing. */
int sg_store_mo_due(sg_store_t *st, int64_t stale_before_ms,
                    unsigned max_groups, sg_store_mo_parts_cb cb, void *data);

typedef struct sg_store_mo_deliver {
  sg_store_inbound_t msg;  /* the message, with keyword and incomplete */
  const char *group;       /* the parts it was made of, deleted with it;
                              NULL for a message of one part */
  const char *webhook_url; /* its webhook (store.h "WEBHOOKS"), or NULL */
  /* Opt-out change of (msg.account_id, optout_number) in the same
   * transaction: +1 adds it, -1 removes it, 0 none. */
  int optout;
  const char *optout_number;
  /* A rule's URL action (store.h "INBOUND RULES AND REPLY COUNTS"): when
   * not NULL, a second webhook row in the same transaction, to this URL
   * (already expanded): a GET without body or signature when action_get,
   * else a signed POST. Its payload is the inbound one with "rule":
   * rule_id added at the end, so that the answer can find its rule. */
  const char *action_url;
  bool action_get;
  int64_t rule_id;
  /* true: also queue the message for the account's SMPP receivers, in the
   * queue of "SMPP RECEIPTS" (a row with mo set), in the same transaction.
   * Needs an account. */
  bool smpp_out;
} sg_store_mo_deliver_t;

/* Stores a (reassembled) inbound message with what the rules made of it,
 * deletes its parts, queues its webhook and applies the opt-out change,
 * in one transaction. The callback's id is the webhook's (0 without one);
 * SG_ENOENT when group is set and none of its parts is left (another
 * deliver took them: nothing written), SG_EEXIST for a taken id. Fails at
 * once as sg_store_inbound_insert, and SG_EINVAL for an opt-out change
 * without an account or number. */
int sg_store_mo_deliver(sg_store_t *st, const sg_store_mo_deliver_t *d,
                        sg_store_id_cb cb, void *data);

typedef struct sg_store_inbound_filter {
  int64_t account_id;    /* 0: every account */
  const char *sender;    /* exact, or NULL */
  const char *recipient; /* exact, or NULL */
  const char *keyword;   /* exact (upper case), or NULL */
  int64_t since_ms;      /* received at or after; 0: no bound */
  int64_t until_ms;      /* received before; 0: no bound */
  const char *cursor;    /* next_cursor of the previous page, or NULL */
  unsigned limit;        /* 1..SG_STORE_LIST_MAX; 0: the default */
} sg_store_inbound_filter_t;

/* Lists inbound messages matching every given filter, newest first, keyset
 * pagination on the id as sg_store_list_messages. Fails at once with
 * SG_EINVAL (a cursor that is not an id, limit too big). */
int sg_store_inbound_search(sg_store_t *st, const sg_store_inbound_filter_t *f,
                            sg_store_inbound_cb cb, void *data);

#define SG_STORE_NUMBER_MAX 32 /* octets of an opt-out number, NUL included */

/* Adds (add true) or removes a number of an account's opt-out list; source
 * says why ("keyword", "api"). The callback's id is 1 when the list
 * changed, 0 when it already was so. Fails at once with SG_EINVAL (account
 * 0, an empty number or one of SG_STORE_NUMBER_MAX octets or more). */
int sg_store_optout_set(sg_store_t *st, int64_t account_id, const char *number,
                        bool add, const char *source, sg_store_id_cb cb,
                        void *data);

typedef struct sg_store_optout {
  int64_t account_id;
  const char *number;
  const char *source;
  int64_t created_ms;
} sg_store_optout_t;

typedef struct sg_store_optout_res {
  const sg_store_optout_t *items; /* by number */
  size_t n;
  char next_cursor[SG_STORE_NUMBER_MAX]; /* "" on the last page */
} sg_store_optout_res_t;

typedef void (*sg_store_optout_cb)(sg_store_t *st, int status,
                                   const sg_store_optout_res_t *res,
                                   void *data);

/* Lists an account's opt-outs in number order: all, or the one `number`
 * (when not NULL); cursor is the last number of the previous page. */
int sg_store_optout_list(sg_store_t *st, int64_t account_id, const char *number,
                         const char *cursor, unsigned limit,
                         sg_store_optout_cb cb, void *data);

/* ---- LIMITS: quota usage and prepaid balance ---------------------------
 * Usage is counted in parts per account and UTC period (a day
 * "2026-11-26", a month "2026-11") by sg_store_submit (usage_* of the
 * batch); the balance, in integer micro-units (1.00 = 1000000), is taken by
 * sg_store_submit (charge_micro) and given by sg_store_balance_credit. An
 * account that was never credited has no balance (has_balance false), which
 * pays for nothing. */

typedef struct sg_store_usage {
  int64_t account_id;
  uint64_t day_parts;   /* parts counted in the day asked for */
  uint64_t month_parts; /* parts counted in the month asked for */
  bool has_balance;
  int64_t balance_micro;
} sg_store_usage_t;

/* status 0 with one row per account of the store (in id order), or SG_EIO.
 * rows are valid during the callback only. */
typedef void (*sg_store_usage_cb)(sg_store_t *st, int status,
                                  const sg_store_usage_t *rows, size_t n,
                                  void *data);

/* Reads every account's usage in the UTC day `day` and month `month` and
 * its balance (a read: it sees every write whose callback fired). Fails at
 * once with SG_EINVAL (day not 10 octets or month not 7), SG_EBUSY,
 * SG_ECLOSED, SG_ENOMEM. */
int sg_store_usage_get(sg_store_t *st, const char *day, const char *month,
                       sg_store_usage_cb cb, void *data);

/* status 0 with the balance after the change, SG_ERANGE (it would pass
 * SG_STORE_BALANCE_MAX or go below 0: nothing changed), or SG_EIO. */
typedef void (*sg_store_balance_cb)(sg_store_t *st, int status,
                                    int64_t balance_micro, void *data);

#define SG_STORE_BALANCE_MAX ((int64_t)1000000000 * 1000000)

/* Adds amount_micro (not 0; negative to correct a mistake) to the
 * account's balance, creating it at 0 first, and records the top-up in
 * balance_credits, in one transaction. Fails at once with SG_EINVAL
 * (account_id <= 0, amount 0 or beyond +-SG_STORE_BALANCE_MAX), SG_EBUSY,
 * SG_ECLOSED, SG_ENOMEM. */
int sg_store_balance_credit(sg_store_t *st, int64_t account_id,
                            int64_t amount_micro, sg_store_balance_cb cb,
                            void *data);

/* ---- settings -------------------------------------------------------------
 * Small documents the engine keeps across restarts by name (migration
 * 0009): the routing table edited through the API ("routes") and the
 * paused connectors ("paused_connectors"). The store keeps the text as
 * given and never reads it. */

#define SG_STORE_SETTING_NAME_MAX 64    /* octets of a name */
#define SG_STORE_SETTING_MAX (4u << 20) /* octets of a document */

/* status 0 with body[0..len) (valid during the call; NUL-terminated), or
 * SG_ENOENT (nothing saved under that name), SG_EIO. */
typedef void (*sg_store_setting_cb)(sg_store_t *st, int status,
                                    const char *body, size_t len, void *data);

/* Reads the document saved under name. Fails at once with SG_EINVAL (a
 * NULL or empty name, or one of SG_STORE_SETTING_NAME_MAX octets or more),
 * SG_EBUSY, SG_ECLOSED. */
int sg_store_setting_get(sg_store_t *st, const char *name,
                         sg_store_setting_cb cb, void *data);

/* Saves body[0..len) under name, replacing what was there, or deletes it
 * when body is NULL; cb fires after the commit (status 0, SG_EIO). Fails
 * at once as sg_store_setting_get, and with SG_EINVAL for a body over
 * SG_STORE_SETTING_MAX. */
int sg_store_setting_put(sg_store_t *st, const char *name, const char *body,
                         size_t len, sg_store_done_cb cb, void *data);
/* ---- inbound rules and reply counts (migration 0010) ---------------------
 *
 * INBOUND RULES AND REPLY COUNTS
 *   The routing rules of incoming messages, in their order, each a JSON
 *   document that the engine writes and reads (the store never looks
 *   inside). A save replaces every rule in one transaction; a rule keeps
 *   its id across saves, a new one gets an id never given before (also
 *   after deletes). `managed` is kept with them: true once they were set
 *   through the API. Reply counts keep the automatic-reply limit across a
 *   restart: one row per pair of numbers ("from>to"), the start of its
 *   window and the replies sent in it.
 */

#define SG_STORE_INRULES_MAX 1000 /* rules at most */

typedef struct sg_store_inrule {
  int64_t id;      /* in a save, 0: a new rule */
  const char *doc; /* a JSON object, NUL-terminated, at most 64 KiB */
} sg_store_inrule_t;

typedef struct sg_store_inrules_res {
  const sg_store_inrule_t *rules; /* in order */
  size_t n;
  bool saved;   /* the rules were saved at least once */
  bool managed; /* as given to the last save */
} sg_store_inrules_res_t;

typedef void (*sg_store_inrules_cb)(sg_store_t *st, int status,
                                    const sg_store_inrules_res_t *res,
                                    void *data);

/* Reads the rules in order. */
int sg_store_inrules_load(sg_store_t *st, sg_store_inrules_cb cb, void *data);

/* Replaces every rule by rules[0..n) (n <= SG_STORE_INRULES_MAX) in one
 * transaction; the callback gets the rules as stored, with their ids.
 * Fails at once with SG_EINVAL (too many, a NULL or oversized doc, an id
 * given twice or negative), SG_EBUSY, SG_ECLOSED, SG_ENOMEM. */
int sg_store_inrules_save(sg_store_t *st, const sg_store_inrule_t *rules,
                          size_t n, bool managed, sg_store_inrules_cb cb,
                          void *data);

typedef struct sg_store_replycount {
  const char *pair; /* "from>to", at most 127 octets */
  int64_t start_ms; /* start of its window */
  uint32_t count;   /* replies in it */
} sg_store_replycount_t;

typedef void (*sg_store_replycounts_cb)(sg_store_t *st, int status,
                                        const sg_store_replycount_t *rows,
                                        size_t n, void *data);

/* Writes one pair's window and count, and deletes the rows whose window
 * started before expire_before_ms. Fails at once with SG_EINVAL. */
int sg_store_replycount_set(sg_store_t *st, const sg_store_replycount_t *row,
                            int64_t expire_before_ms, sg_store_done_cb cb,
                            void *data);

/* Reads the rows whose window started at or after since_ms (at most
 * 100,000, the newest). */
int sg_store_replycount_load(sg_store_t *st, int64_t since_ms,
                             sg_store_replycounts_cb cb, void *data);

/* Contacts, contact lists and templates: store/contacts.h. */
#include "store/contacts.h"
/* Campaigns: store/campaigns.h. */
#include "store/campaigns.h"
/* ---- customers' pre-split parts ------------------------------------------
 *
 * A message that an SMPP customer split itself arrives as N submit_sm, each
 * one part with its own concatenation UDH (or SAR TLVs), in any order. They
 * are stored as one message of parts_total N: the first part to arrive
 * creates it with that part at its own seq, each later part is added to
 * it. A message waiting for parts is found by (account, sender, recipient,
 * reference, total) while its wait is open: until wait_ms after its latest
 * part. While parts are missing the message is never 'delivered' (it stays
 * 'sending' when every part that came was delivered); when the wait ends
 * (sg_store_maintain), each missing part is recorded as a 'failed' part
 * with no connector and no user data (its connector is "") and the
 * message is derived again. A message whose origin is pre-split gets one
 * SMPP receipt per part, queued when that part ends
 * (sg_store_smpp_out_t.part_seq), instead of one for the message. */

typedef struct sg_store_presplit {
  /* The message to add the part to, when the caller knows it (its group
   * table); "": find it by key, or create it. */
  char message_id[SG_ID_LEN + 1];
  uint16_t ref;    /* the concatenation reference (8 or 16 bits) */
  uint8_t total;   /* parts of the message, 2..255 */
  uint8_t seq;     /* this part, 1-based */
  int64_t wait_ms; /* how long the message waits for its next part, > 0 */
} sg_store_presplit_t;

typedef struct sg_store_presplit_res {
  char message_id[SG_ID_LEN + 1]; /* the message the part is stored in */
  unsigned seq;
  bool created; /* the part created the message */
  bool whole;   /* every part is now stored */
} sg_store_presplit_res_t;

/* status 0, or: SG_EEXIST (part seq of that message is already stored),
 * SG_ERANGE (seq above the stored message's parts_total), SG_ENOENT (the
 * named message does not exist or is another account's), SG_ESTATE (the
 * message was canceled), SG_ENOSPC (the balance), SG_EIO. On any error
 * nothing was written. res is NULL unless status is 0. */
typedef void (*sg_store_presplit_cb)(sg_store_t *st, int status,
                                     const sg_store_presplit_res_t *res,
                                     void *data);

/* Stores one pre-split part, in one transaction: batch holds exactly one
 * message with exactly one part (the part as it came, UDH included), no
 * idempotency key; its limits (usage_parts, charge_micro) are counted as
 * for sg_store_submit. When ps->message_id is set the part is added to
 * that message; else to the account's message of the same sender,
 * recipient, ps->ref and ps->total whose wait is open and which still
 * misses parts; else a new message (batch->msgs[0].id, parts_total
 * ps->total) is created with it. The message's wait is moved to wait_ms
 * from now; when the part completes the message, its wait row goes. The
 * message's other fields (text, validity, callback) are those of the part
 * that created it. Fails at once with SG_EINVAL (a batch sg_store_submit
 * refuses, more than one message or part, total < 2, seq 0 or above
 * total, wait_ms <= 0), SG_EBUSY, SG_ECLOSED, SG_ENOMEM. Loop thread. */
int sg_store_presplit_add(sg_store_t *st, const sg_store_batch_t *batch,
                          const sg_store_presplit_t *ps,
                          sg_store_presplit_cb cb, void *data);

#endif
