/* engine_int.h - what the files of the engine share: the engine and
 * connector structs and the sg__ functions that cross file boundaries.
 * Nothing outside src/engine includes it.
 */
#ifndef SG_ENGINE_ENGINE_INT_H
#define SG_ENGINE_ENGINE_INT_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <uv.h>

#include "connector/connector.h"
#include "core/phone.h"
#include "core/segment.h"
#include "engine/engine.h"
#include "engine/routes.h"
#include "store/store.h"

struct sg__notifier;
struct sg__inbound;
struct sg__admin;
struct sg__limits;
struct sg__velocity;

/* Keyed BLAKE2b digests of credentials, compared in constant time. */
#define SG__AUTH_HASH 32

typedef struct sg__account {
  sg_engine_account_t pub;
  bool has_key, has_password, has_smpp;
  uint8_t key_hash[SG__AUTH_HASH];
  uint8_t pw_hash[SG__AUTH_HASH];
  uint8_t smpp_hash[SG__AUTH_HASH]; /* of system_id NUL password */
  /* Accepted-messages rate limit (config tps): a one-second window. */
  int64_t tps_window_ms;
  uint32_t tps_count;
} sg__account_t;

/* A part taken from the store and handed (or about to be handed) to a
 * connector. Slots live in a per-connector pool; the connector sees
 * (generation << 32 | slot index) as the part id, so that a result finds
 * its slot at once and a stale id is recognised. */
typedef struct sg__slot {
  bool used;
  uint32_t gen;
  int64_t part_id;
  unsigned attempt;
  int64_t claimed_ms;
  char message_id[SG_ID_LEN + 1];
  unsigned seq;
  char sender[24];
  char recipient[SG_PHONE_E164_MAX + 1];
  sg_conn_part_t part; /* udh and ud point into the arrays below */
  uint8_t udh[SG_SEG_UDH_MAX];
  uint8_t ud[SG_SEG_UD_MAX];
} sg__slot_t;

typedef struct sg__conn {
  sg_engine_t *e;
  size_t index;
  const sg_config_connector_t *cfg;
  sg_connector_t *c;
  sg_conn_state_t state;
  int64_t down_since_ms; /* 0 while up */
  bool stopped;          /* stopped_cb fired (or never started) */
  unsigned claiming;     /* claims outstanding (dispatch.c, claim) */
  bool more;             /* parts may be due: claim when possible */
  bool moving;           /* a failover claim is outstanding */
  bool move_idle;        /* the last came back empty: no other until a
                          * part may be queued for it again (dispatch.c) */
  unsigned claim_asked;  /* max_parts of the outstanding claims, summed */
  bool claim_waits;      /* they may wait in the store (sg_store_claim_wait) */
  bool claim_idle;       /* the last came back empty: one claim at a time
                          * until one brings parts (dispatch.c) */
  bool wake_due;         /* a time of its own came due (engine.c, wake_cb) */
  int64_t next_due_ms;   /* the latest back-off end its empty claim named */
  /* Slot pool and the FIFO of slots claimed but refused (SG_EBUSY) by the
   * connector, waiting for ready_cb. */
  sg__slot_t *slots;
  unsigned n_slots;
  unsigned used;
  unsigned *free_list;
  unsigned n_free;
  unsigned *wait_q;
  unsigned wait_head, wait_len;
  uint64_t backlog;
  uint64_t results_sent, results_tempfail, results_permfail, results_unknown;
  bool paused; /* takes no new parts (route_admin.c) */
  /* Parts sent per second, measured over the tick (route_admin.c). */
  uint64_t rate_prev;
  int64_t rate_prev_ms;
  double rate;
  /* Removed or replaced by a configuration reload (reload.c): takes no
   * new parts, is stopped, and is skipped by name lookups and listings. */
  bool retired;
  sg_engine_latency_t latency; /* claim -> result of this connector's parts */
  /* Removed by a reload: when its queue is looked at again (rehome.c). */
  int64_t rehome_next_ms;
  /* Bound by other nodes, not this one (nodes.c): never opened here; its
   * parts are routed and stored here and claimed by a node that binds it. */
  bool remote;
} sg__conn_t;

/* A connector result waiting to be written (strings owned). */
typedef struct sg__result {
  sg_store_result_in_t in;
  size_t conn;
  char smsc_id[66];
  char smsc_raw_id[66];
  char detail[160];
  char message_id[SG_ID_LEN + 1];
  unsigned seq;
  int poke;        /* connector the part moved to, -1: none */
  int64_t wake_ms; /* when it is due again (a back-off), 0: none */
} sg__result_t;

/* A receipt waiting to be written, with the connector's ack token. It is
 * matched under key_conn's name: its own connector's (conn), or, for a copy
 * (which acknowledges nothing), another connector bound to the same SMSC
 * account (dlr.c). */
typedef struct sg__rcpt {
  sg_store_receipt_in_t in;
  size_t conn;
  size_t key_conn;
  bool copy;
  uint64_t token;
  unsigned tries;
  char smsc_id[66];
  char smsc_id_alt[66]; /* sg_conn_dlr_t's, tried after smsc_id */
  char detail[200];
} sg__rcpt_t;

/* A growable array of results or receipts (items of `size` bytes). */
typedef struct sg__vec {
  void *items;
  size_t n, cap, size;
} sg__vec_t;

typedef enum sg__state {
  SG__NEW = 0,
  SG__STARTING,
  SG__RUNNING,
  SG__STOPPING,
  SG__STOPPED
} sg__state_t;

struct sg_submit_ctx;

struct sg_engine {
  uv_loop_t *loop;
  const sg_config_t *cfg;
  sg_store_t *st;
  sg_engine_tuning_t tun;
  sg__state_t state;

  sg_phone_db_t *phone_db;
  sg_phone_ctx_t *phone;
  sg_segments_t *segs; /* one, reused by every submit and preview */
  uint8_t next_ref;    /* concatenation references, per message */
  uint64_t rng;        /* xorshift state for weighted routes */
  /* The routing table in use (route.c, route_admin.c). */
  sg_routes_t *routes;
  sg_routes_env_t routes_env;
  int64_t routes_next_id;
  bool routes_loaded;     /* the store's saved table was looked for */
  bool routes_from_store; /* the table in use is the saved one */
  bool routes_saving;     /* a change is being written */

  sg__account_t *accounts;
  size_t n_accounts;
  size_t sync_next; /* start: the account being found or created */
  uint8_t auth_key[32];

  sg__conn_t *conns;
  size_t n_conns;
  size_t conns_stopping;

  uv_timer_t tick, wake, flush, defer, dlr_retry;
  int64_t last_counts_ms;
  uint64_t counts_t0_ns; /* when the count in flight was asked for */
  int64_t counts_gap_ms; /* from the last count to the next (counts_gap) */
  bool maint_busy, counts_busy;
  /* Min-heap of the Unix ms times at which parts become due (scheduled
   * sends, retries), each with its connector; the wake timer is armed for
   * the earliest and wakes those connectors only. */
  struct sg__wake *wake_heap;
  size_t wake_n, wake_cap;
  int64_t wake_lost_ms; /* the latest time the full heap could not keep */
  /* The idle store (engine.c, tick_cb): maintenance and the webhook poll
   * run when a commit changed rows since they last ran, or at the time
   * maintenance named, else once every tun.idle_ms. */
  bool maint_timed;           /* the last maintenance said when (SQLite) */
  int64_t maint_next_ms;      /* when maintenance runs again at the latest */
  uint64_t maint_changing;    /* the store's changing commits it saw */
  int64_t webhook_next_ms;    /* when the webhook poll runs at the latest */
  uint64_t webhook_changing;  /* the changing commits the poll saw */

  sg__vec_t results;              /* sg__result_t waiting for the flush */
  sg__vec_t rcpts;                /* sg__rcpt_t waiting for the flush */
  sg__vec_t rcpt_later;           /* unmatched, to be tried again */
  sg__vec_t retry_results;        /* result batches whose write failed */
  struct sg_submit_ctx *deferred; /* whole-request errors to report */
  struct sg_submit_ctx *deferred_tail;

  unsigned pending_ops; /* store requests outstanding */
  unsigned handles_open;
  bool store_ok;
  bool store_ok_logged; /* the state the log last reported */
  int64_t store_failing_since_ms;
  bool probe_busy; /* store_probe.c: a probe write in flight */

  struct sg__notifier *notifier;
  struct sg__inbound *inbound; /* inbound.c */
  struct sg__admin *admin;     /* admin.c: accounts and keys at run time */
  struct sg__limits *limits;   /* limits.c: quota and balance holds */
  struct sg__velocity *velocity; /* velocity.c: per-prefix counts, blocks */
  struct sg__inrules *inrules; /* inrules.c */
  struct sg__campaigns *campaigns; /* campaigns.c: the campaign runner */
  struct sg__nodes *nodes; /* nodes.c: heartbeat and the node list */

  sg_engine_start_cb start_cb;
  void *start_ud;
  sg_engine_done_cb stop_cb;
  void *stop_ud;

  sg_engine_log_cb log_cb;
  void *log_data;
  sg_engine_log_level_t log_level;

  /* Metrics. */
  sg_store_counts_t counts;
  int64_t counts_ms;
  uint64_t counts_timeouts; /* counts the store cancelled (SG_ETIMEDOUT) */
  uint64_t requests, requests_failed, accepted, rejected, parts_accepted;
  uint64_t dlr_received, dlr_matched, dlr_unmatched;
  uint64_t rcpt_held, rcpt_applied_later, rcpt_expired; /* durable unmatched */
  uint64_t inbound_received, inbound_stored;
  unsigned submits_pending;
  sg_engine_latency_t submit_lat, send_lat;
  sg_engine_conn_metrics_t *conn_metrics;

  /* Room in e->accounts and e->conns (reload.c adds to both), and the
   * configurations a reload replaced, kept until the engine is freed. */
  size_t accounts_cap, conns_cap;
  struct sg__reload *reload;
  struct sg__imports *imports; /* contacts_import.c: CSV imports */
};

/* ---- engine.c ------------------------------------------------------------ */

int64_t sg__now_ms(sg_engine_t *e);
/* ---- nodes (nodes.c) ---------------------------------------------------- */

/* Every tick: the node's heartbeat when one is due (store/nodes.h). */
void sg__nodes_tick(sg_engine_t *e);
void sg__nodes_free(sg_engine_t *e);
/* Whether this node binds connector i (its `node`/`nodes` keys); when not,
 * marks it remote. */
bool sg__nodes_holds(sg_engine_t *e, size_t i);
/* A remote connector is usable while a live node says it binds it (true
 * before the first heartbeat answered). */
bool sg__nodes_conn_live(const sg_engine_t *e, size_t i);
/* This node's share of a limit shared by all live nodes: limit divided by
 * the live nodes, rounded up (0 stays 0: no limit). */
uint32_t sg__nodes_share(const sg_engine_t *e, uint32_t limit);
/* How old another node's heartbeat may be before this node declares it
 * dead: dead_after, plus how late this node's own heartbeat is (own_gap,
 * the time since its last heartbeat written, beyond heartbeat_ms, the
 * interval at which heartbeats are written when on time): a stall
 * of the database or of this node's loop stalled every node's heartbeat
 * alike, and must not make the others dead in this node's eyes. */
int64_t sg__nodes_dead_after(int64_t dead_after_ms, int64_t heartbeat_ms,
                             int64_t own_gap_ms);
/* The time from one store count (sg_store_counts, for /metrics) to the
 * next: every_ms, or a hundred times what the last one took (took_ms) when
 * that is longer, so that counting stays under 1 % of the time whatever
 * the store's count costs (PostgreSQL counts its tables: 100-200 ms at
 * 300,000 rows, and growing with them), at most an hour. */
int64_t sg__counts_gap(int64_t every_ms, int64_t took_ms);
/* Whether a node may claim: not while its last heartbeat written (at
 * last_ok_ms) is older than dead_after, since the others may then take its
 * parts, nor while it reconciles after a heartbeat that came late. */
bool sg__nodes_claim_ok(int64_t now_ms, int64_t last_ok_ms,
                        int64_t dead_after_ms, bool reconciling);
/* sg__nodes_claim_ok for this node now (true without a node name). */
bool sg__nodes_may_claim(sg_engine_t *e);

void sg__log(sg_engine_t *e, sg_engine_log_level_t level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Counts a store request made (op_begin) and answered (op_end); the end of
 * the last one lets a stop complete. */
void sg__op_begin(sg_engine_t *e);
void sg__op_end(sg_engine_t *e);
void sg__maybe_stopped(sg_engine_t *e);
void sg__latency_add(sg_engine_latency_t *l, int64_t ms);
/* A time in the wake heap, with the connector (index in e->conns) whose
 * parts come due then, or SG__WAKE_ALL. */
#define SG__WAKE_ALL SIZE_MAX
typedef struct sg__wake {
  int64_t at;
  size_t conn;
} sg__wake_t;

/* Parts of connector `conn` (SG__WAKE_ALL: of any) become due at
 * `when_ms`: its claims are woken then (wake_cb). */
void sg__wake_at(sg_engine_t *e, int64_t when_ms, size_t conn);

/* Growable arrays. */
void sg__vec_init(sg__vec_t *v, size_t size);
void *sg__vec_push(sg__vec_t *v); /* zeroed new item, or NULL */
void sg__vec_free(sg__vec_t *v);

/* ---- route.c ------------------------------------------------------------- */

/* Builds the table from the configuration (sg_engine_new). */
int sg__routes_init(sg_engine_t *e);
/* Connector i is up and not paused: it may take new parts. */
bool sg__conn_usable(const sg_engine_t *e, size_t i);
/* The route type of a message of that encoding. */
sg_config_msg_type_t sg__route_type(sg_encoding_t enc);
/* The best route for a recipient (E.164), account name, sender and type,
 * or -1. */
int sg__route_find(const sg_engine_t *e, const char *recipient,
                   const char *account, const char *sender,
                   sg_config_msg_type_t type);
/* A connector of route r for a new message to recipient (routes.h
 * sg_routes_pick). Returns an index into e->conns. */
size_t sg__route_pick(sg_engine_t *e, int r, const char *recipient);
/* Another usable connector for a part now on `from` (failover), or -1. */
int sg__route_alternative(const sg_engine_t *e, const char *recipient,
                          const char *sender, size_t from);
/* Whether some route through ci has another usable connector. */
bool sg__route_has_alternative(const sg_engine_t *e, size_t ci);

/* ---- route_admin.c ------------------------------------------------------- */

/* Loads the saved routing table and paused connectors from the store;
 * loaded(e, status) fires when done (never inside this call). Returns 0
 * or an error (loaded is not called then). */
int sg__routes_load(sg_engine_t *e, void (*loaded)(sg_engine_t *e, int st));
/* Updates each connector's rate (the tick). */
void sg__conns_rate_tick(sg_engine_t *e);

/* ---- dispatch.c ---------------------------------------------------------- */

int sg__conns_create(sg_engine_t *e);
/* modem_conn.c: creates the modem connector of `c` (type modem) into c->c;
 * returns 0 or an SG_E* code. */
int sg__modem_conn_new(sg_engine_t *e, sg__conn_t *c,
                       const sg_conn_callbacks_t *cbs);
/* http_conn.c: creates the connector of an HTTP provider from its
 * configuration (connector/http_conn.h). 0 or the connector's error. */
int sg__http_conn_new(sg_engine_t *e, sg__conn_t *c,
                      const sg_conn_callbacks_t *cbs);
void sg__conns_stop(sg_engine_t *e);
/* Creates and starts the connector of e->conns[i] (its cfg set). */
int sg__conn_open(sg_engine_t *e, size_t i);
/* Stops connector i for good (a reload removed or replaced it): it takes
 * no new parts, finishes or gives back those it holds, and closes. */
void sg__conn_retire(sg_engine_t *e, size_t i);
void sg__conns_free(sg_engine_t *e);
/* There may be parts due on connector i (or on all): claim when possible;
 * a claim of it waiting in the store is answered now, so that the next
 * claim finds them (parts due by time, moved, given back). */
void sg__poke(sg_engine_t *e, size_t i);
/* Pokes the connectors named (a release's sg_store_claim_res_t
 * released_to), but connector `except` (SIZE_MAX: none). */
void sg__poke_released(sg_engine_t *e, const char *const *names, size_t n,
                       size_t except);
/* Pokes the connectors of `requeued` parts whose lease ran out: those
 * named (names[0..n)), every one when none is named (the backend does not
 * say), but connector `except` (SIZE_MAX: none). */
void sg__poke_requeued(sg_engine_t *e, size_t requeued,
                       const char *const *names, size_t n, size_t except);
void sg__poke_all(sg_engine_t *e);
/* The same without waking a waiting claim: for parts just submitted, which
 * a waiting claim takes itself, and for the tick's idle claims (a waiting
 * claim is answered at its own time, the tick's). */
void sg__poke_submitted(sg_engine_t *e, size_t i);
void sg__poke_idle_all(sg_engine_t *e);
/* Connector c went down, was paused or removed, or the engine stops: its
 * claim waiting in the store, if any, is answered now. */
void sg__claim_wake(sg_engine_t *e, sg__conn_t *c);
/* The periodic failover pass over connectors that are down. */
void sg__failover_pass(sg_engine_t *e);
/* A result for claimed part s of connector c, buffered for the next flush
 * (in->outcome and the rest to be filled by the caller), or NULL when out
 * of memory (the part then comes back when its lease runs out). */
sg__result_t *sg__result_new(sg__conn_t *c, const sg__slot_t *s);
/* rehome.c: the queued parts of connectors a reload removed go to their
 * new routes' connectors, or fail when no route matches (every tick). */
void sg__rehome_pass(sg_engine_t *e);
/* Writes buffered results and receipts now. */
void sg__flush_now(sg_engine_t *e);
void sg__schedule_flush(sg_engine_t *e);
void sg__retry_failed_writes(sg_engine_t *e);

/* ---- dlr.c --------------------------------------------------------------- */

void sg__dlr_cb(sg_connector_t *c, void *owner, const sg_conn_dlr_t *dlr,
                uint64_t token);
/* Writes buffered receipts (called by the flush, after the results). */
void sg__rcpts_flush(sg_engine_t *e);
/* Moves receipts due for another try back to the write buffer. */
void sg__rcpts_retry(sg_engine_t *e);
void sg__rcpts_nack_all(sg_engine_t *e, sg__vec_t *v);

/* ---- inbound.c ----------------------------------------------------------- */

/* A connector's inbound part: stored, then acknowledged (inbound.c). */
void sg__inbound_cb(sg_connector_t *c, void *owner,
                    const sg_conn_inbound_t *msg, uint64_t token);
/* Compiles the inbound rules and loads the opt-out lists from the store;
 * loaded(e, status) fires when done (possibly inside this call). Returns 0
 * or an error (loaded is not called then). */
int sg__inbound_new(sg_engine_t *e, void (*loaded)(sg_engine_t *e, int st));
void sg__inbound_free(sg_engine_t *e);
/* The reassembly pass: messages whose parts are all in, or timed out. */
void sg__inbound_tick(sg_engine_t *e);
/* The campaign runner (campaigns.c): moves every campaign on (loads them
 * from the store on the first tick); frees its state. */
void sg__campaigns_tick(sg_engine_t *e);
void sg__campaigns_free(sg_engine_t *e);

/* store_probe.c: while the store is failing, writes one small row per tick
 * to learn when it commits again (a transaction that writes nothing, such
 * as an idle claim, proves nothing about a full disk). */
void sg__store_probe(sg_engine_t *e);
/* Whether number (E.164) is on the account's opt-out list. */
bool sg__optout_has(const sg_engine_t *e, int64_t account, const char *number);
/* The dispatcher's check: opted out, and not a STOP confirmation. */
bool sg__optout_blocks(const sg_engine_t *e, int64_t account,
                       const char *number, const char *message_id);
/* An inbound webhook (payload as stored) was answered 2xx with body: send
 * its {"reply": "..."} back to the sender. */
void sg__inbound_reply(sg_engine_t *e, int64_t account_id,
                       const uint8_t *payload, size_t plen, const char *body,
                       size_t blen);

/* ---- admin.c and the accounts of engine.c --------------------------------- */

/* Fills a's credential digests from its settings ca (engine.c); SG_ECONFIG
 * for an unknown default_region. */
int sg__account_fill(sg_engine_t *e, sg__account_t *a,
                     const sg_config_account_t *ca);
/* Loads the accounts and keys created through the API, after the
 * configured accounts are synced; done(e, status) fires when finished. */
void sg__admin_load(sg_engine_t *e, void (*done)(sg_engine_t *e, int status));
/* Finds the account of an API key made through the API (constant time
 * over the keys): 0, SG_ENOENT, SG_EPERM (account disabled). */
int sg__admin_auth_key(sg_engine_t *e, const char *key, size_t len,
                       const sg_engine_account_t **out);
void sg__admin_free(sg_engine_t *e);
/* Tells the account listener (the SMPP server) that account a changed
 * (reload.c: disabled or removed by a reload). */
void sg__admin_notify(sg_engine_t *e, const sg_engine_account_t *a);

/* ---- reload.c ------------------------------------------------------------ */

/* Frees what reloads kept (sg_engine_free). */
void sg__reload_free(sg_engine_t *e);
/* Frees the CSV imports and their records (contacts_import.c). */
void sg__imports_free(sg_engine_t *e);

/* ---- submit.c ------------------------------------------------------------ */

void sg__deferred_run(sg_engine_t *e);

/* ---- notifier.c ---------------------------------------------------------- */

int sg__notifier_new(sg_engine_t *e);
/* Claims due deliveries now (after a status change, on the tick). */
/* Hands back the deliveries claimed ahead that waited too long for a
 * request slot and posts what waits while slots are free, without a claim
 * (each tick). */
void sg__notifier_drain(sg_engine_t *e);
void sg__notifier_poke(sg_engine_t *e);
/* Writes the gathered delivery outcomes (part of the engine's flush). */
void sg__notifier_flush(sg_engine_t *e);
/* Abandons requests in flight (their lease brings them back) and closes;
 * sg__maybe_stopped is called when done. */
void sg__notifier_stop(sg_engine_t *e);
bool sg__notifier_idle(const sg_engine_t *e);
void sg__notifier_free(sg_engine_t *e);
void sg__notifier_metrics(const sg_engine_t *e, sg_engine_metrics_t *out);

/* The 202 body of a submit (submit_json.c): {"batch_id", "messages": [one
 * object per item]}, the bytes json_dumps(JSON_COMPACT | JSON_ENSURE_ASCII)
 * made of the same tree. *out is the caller's (sg_free). Returns 0,
 * SG_ENOMEM, or SG_EINVAL (a string that is NULL or not UTF-8). */
int sg__submit_json(const char *batch_id, const sg_submit_item_t *items,
                    size_t n, char **out, size_t *len);

#endif
