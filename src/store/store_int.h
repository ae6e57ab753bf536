/* store_int.h - what the store front (store.c) and its backends share: the
 * request every public call becomes, the arena that owns a request's copies
 * and results, and the backend operations. Not for use outside src/store/.
 */
#ifndef SG_STORE_STORE_INT_H
#define SG_STORE_STORE_INT_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store/nodes.h"
#include "store/store.h"

/* ---- arena -------------------------------------------------------------- */

/* A bump allocator that owns everything of one request: the copies of its
 * arguments and the results handed to its callback, freed at once. Used by
 * one thread at a time (the hand-over between threads is under a mutex). */
typedef struct sg__arena_chunk sg__arena_chunk_t;
typedef struct sg__arena {
  sg__arena_chunk_t *head;
} sg__arena_t;

/* Zeroed, 16-byte aligned memory, or NULL (out of memory). n may be 0. */
void *sg__arena_alloc(sg__arena_t *a, size_t n);
/* The same, not zeroed: for an array of which the caller fills (and
 * zeroes) only the entries it uses. */
void *sg__arena_alloc_raw(sg__arena_t *a, size_t n);
/* Copies; NULL in gives NULL out (not an error). *ok is cleared on failure
 * to allocate (it is never set). */
char *sg__arena_strdup(sg__arena_t *a, const char *s, bool *ok);
char *sg__arena_strndup(sg__arena_t *a, const char *s, size_t n, bool *ok);
void *sg__arena_memdup(sg__arena_t *a, const void *p, size_t n, bool *ok);
/* Makes room for item n (n + 1 items of `size` octets) in `items`, an
 * array in the arena of *cap items of which the first n are used (NULL and
 * 0 for none yet): returns items when it has the room, else a new zeroed
 * array of the capacity sg_grow_cap counts from *cap and first, with the n
 * items copied (the old array stays in the arena until it is freed), and
 * sets *cap. NULL, with *cap as it was, when out of memory. */
void *sg__arena_grow(sg__arena_t *a, void *items, size_t n, size_t *cap,
                     size_t first, size_t size);
void sg__arena_free(sg__arena_t *a);

/* ---- requests ----------------------------------------------------------- */

typedef enum sg__req_kind {
  /* writes: one transaction per group on the writer */
  SG__REQ_SUBMIT = 0,
  SG__REQ_CLAIM,
  SG__REQ_RESULTS,
  SG__REQ_RECEIPTS,
  SG__REQ_CANCEL,
  SG__REQ_WEBHOOK_ENQUEUE,
  SG__REQ_WEBHOOK_CLAIM,
  SG__REQ_WEBHOOK_FINISH,
  SG__REQ_INBOUND_INSERT,
  SG__REQ_ACCOUNT_CREATE,
  SG__REQ_APIKEY_CREATE,
  SG__REQ_APIKEY_REVOKE,
  SG__REQ_MAINTAIN,
  SG__REQ_SMPP_OUT_CLAIM,
  SG__REQ_SMPP_OUT_FINISH,
  SG__REQ_MO_WRITE, /* store_mo.c: inbound parts, delivery, opt-outs */
  SG__REQ_ADMIN_WRITE, /* store_admin.c: accounts and keys at run time */
  SG__REQ_LIMITS_WRITE, /* store_limits.c: balance credits */
  SG__REQ_SETTING_PUT, /* store_setting.c */
  SG__REQ_INR_WRITE, /* store_inrules.c: inbound rules, reply counts */
  SG__REQ_OPS_WRITE, /* store_ops.c: queue purge, message retry */
  SG__REQ_CONTACTS_WRITE, /* store_contacts.c: contacts, lists, templates */
  SG__REQ_PRESPLIT, /* store_presplit.c: a customer's pre-split part */
  SG__REQ_CAMPAIGN_WRITE, /* store_campaigns.c: campaigns */
  SG__REQ_NODE_BEAT, /* store_nodes.c: a node's heartbeat, dead nodes */
  /* reads */
  SG__REQ_GET_MESSAGE,
  SG__REQ_LIST_MESSAGES,
  SG__REQ_COUNTS,
  SG__REQ_INBOUND_LIST,
  SG__REQ_APIKEY_LOOKUP,
  SG__REQ_ACCOUNT_BY_NAME,
  SG__REQ_MO_READ, /* store_mo.c: due parts, inbound search, opt-outs */
  SG__REQ_ADMIN_READ, /* store_admin.c: accounts and keys at run time */
  SG__REQ_LIMITS_READ, /* store_limits.c: usage and balances */
  SG__REQ_SETTING_GET, /* store_setting.c */
  SG__REQ_INR_READ, /* store_inrules.c: inbound rules, reply counts */
  SG__REQ_CONTACTS_READ, /* store_contacts.c */
  SG__REQ_CAMPAIGN_READ, /* store_campaigns.c */
  SG__REQ_WAITING_PARTS,
  SG__REQ_OPS_READ, /* store_ops.c: the connectors' queues */
  SG__REQ_TRAFFIC_READ /* store_traffic.c: traffic per time bucket */
} sg__req_kind_t;

#define SG__REQ_FIRST_READ SG__REQ_GET_MESSAGE

/* Any callback type; cast back to the kind's type before the call. */
typedef void (*sg__any_cb)(void);

typedef struct sg__store_req sg__store_req_t;
struct sg__store_req {
  sg__store_req_t *next; /* the backend's queues */
  sg__req_kind_t kind;
  int status; /* set by the backend */
  sg__any_cb cb;
  void *data;
  sg__arena_t arena;
  /* SQLite, writes: when (uv_hrtime µs) it was queued, its group taken by
   * the writer, committed, and released by the log's sync (the stages of
   * sg_store_stats_t) */
  uint64_t t_queued, t_taken, t_committed, t_released;
  bool rerun_skip; /* SQLite writer: left out when its group runs again */
  /* SQLite writer: receipts this request queued, handed to the
   * sg_store_smpp_out_handoff callback once it is durable (in the arena) */
  sg_store_smpp_out_t *handoff;
  size_t n_handoff, cap_handoff;
  /* SQLite writer, a claim open for submitted parts (sqlite_park.c): the
   * wake count when it was queued (a wake of its connector or of all
   * after it answers it), when its wait ends (uv_hrtime ns), its
   * parts' array (of in.claim.max), whether it was opened in the group
   * being run, and whether it is answered at that group's end whatever it
   * took (it found parts, or its passes changed rows) */
  uint64_t park_gen, park_until_ns;
  sg_store_claimed_t *park_parts;
  bool park_fresh, park_group_only;
  union {
    sg_store_batch_t submit; /* deep copy */
    struct {
      const char *connector;
      unsigned max;
      int64_t lease_ms;
      uint32_t wait_ms; /* sg_store_claim_wait; 0: never waits */
    } claim;
    struct {
      sg_store_result_in_t *items;
      size_t n;
    } results;
    struct {
      sg_store_receipt_in_t *items;
      size_t n;
    } receipts;
    struct {
      char id[SG_ID_LEN + 1];
      int64_t account_id;
    } msg; /* cancel, get */
    struct {
      int64_t account_id;
      const char *message_id;
      const char *url;
      const uint8_t *payload;
      size_t len;
    } wh_enqueue;
    struct {
      unsigned max;
      int64_t lease_ms;
    } wh_claim;
    struct {
      sg_store_webhook_result_t *items;
      size_t n;
    } wh_finish;
    struct {
      sg_store_inbound_t msg;
      const char *webhook_url;
    } inbound;
    sg_store_account_t account; /* account create */
    struct {
      int64_t account_id;
      int64_t key_id;
      uint8_t hash[SG_STORE_KEY_HASH_BYTES];
      const char *label;
    } apikey; /* create, revoke, lookup */
    sg_store_filter_t filter;
    struct {
      int64_t account_id;
      char cursor[SG_ID_LEN + 1];
      unsigned limit;
    } inbound_list;
    const char *name; /* account by name */
    struct {
      int64_t account_id;
      unsigned max;
      int64_t lease_ms;
      int64_t max_age_ms;
    } smpp_claim;
    struct {
      sg_store_smpp_out_result_t *items;
      size_t n;
    } smpp_finish;
    struct sg__mo_req *mo; /* SG__REQ_MO_*: in and out (store/mo_int.h) */
    struct sg__admin_req *admin; /* SG__REQ_ADMIN_* (store/admin_int.h) */
    struct sg__limits_req *limits; /* SG__REQ_LIMITS_*: in and out */
    struct {
      const char *name;
      const char *body; /* NULL: delete */
      size_t len;
    } setting; /* SG__REQ_SETTING_*: the body read comes back here too */
    struct sg__inr_req *inr; /* SG__REQ_INR_*: (store/inrules_int.h) */
    struct sg__ops_req *ops; /* SG__REQ_OPS_*: in and out (store/ops_int.h) */
    struct sg__contacts_req *contacts; /* SG__REQ_CONTACTS_* (contacts_int.h) */
    struct sg__campaigns_req *campaigns; /* SG__REQ_CAMPAIGN_* */
    struct sg__traffic_req *traffic; /* SG__REQ_TRAFFIC_READ (traffic_int.h) */
    struct sg__nodes_req *nodes; /* SG__REQ_NODE_BEAT (nodes_int.h) */
    struct {
      const char *connector;
      int64_t since_ms;
      unsigned max;
    } waiting;
    struct {
      sg_store_batch_t batch; /* deep copy */
      sg_store_presplit_t ps;
    } presplit;
  } in;
  union {
    sg_store_submit_res_t submit;
    sg_store_claim_res_t claim;
    struct {
      sg_store_item_res_t *items;
      size_t n;
    } items;
    sg_store_message_t message;
    sg_store_list_res_t list;
    sg_store_counts_t counts;
    struct {
      sg_store_webhook_t *items;
      size_t n;
    } webhooks;
    sg_store_inbound_res_t inbound;
    sg_store_account_t account;
    int64_t id;
    sg_store_maint_res_t maint;
    struct {
      sg_store_smpp_out_t *items;
      size_t n;
      size_t dropped;
    } smpp_out;
    struct {
      const char **ids;
      size_t n;
    } ids;
    sg_store_presplit_res_t presplit;
  } out;
};

static inline bool sg__req_is_write(const sg__store_req_t *r) {
  return r->kind < SG__REQ_FIRST_READ;
}

/* ---- backends ------------------------------------------------------------ */

typedef struct sg__store_backend {
  const char *name;
  /* Takes ownership of req on success (returns 0): the backend runs it and
   * hands it to sg__store_complete on the loop. On failure (SG_EBUSY,
   * SG_ENOMEM) req stays the caller's. */
  int (*queue)(sg_store_t *st, sg__store_req_t *req);
  /* Finishes what is queued, delivers it through sg__store_complete, stops
   * the backend's threads and handles, then calls done(st) on the loop. */
  void (*close)(sg_store_t *st, void (*done)(sg_store_t *st));
  void (*stats)(sg_store_t *st, sg_store_stats_t *out);
  /* sg_store_claim_wake; NULL: the backend's claims never wait */
  void (*claim_wake)(sg_store_t *st, const char *connector);
} sg__store_backend_t;

/* This node (store/nodes.h): set at open, read-only afterwards. */
typedef struct sg__store_node {
  char name[SG_STORE_NODE_NAME_MAX + 1]; /* "": no node name */
  char version[32];
  char address[128];
  int64_t epoch;
  char owner[SG_STORE_NODE_NAME_MAX + 24]; /* "name#epoch"; "": none */
} sg__store_node_t;

struct sg_store {
  uv_loop_t *loop;
  const sg__store_backend_t *be;
  void *impl;            /* the backend's state */
  sg_store_config_t cfg; /* url not kept */
  sg_store_info_t info;
  bool closing;
  sg_store_close_cb close_cb;
  void *close_data;
  /* sg_store_smpp_out_handoff: the callback (loop thread), and whether one
   * is set (read by the SQLite writer) */
  sg_store_smpp_handoff_cb handoff_cb;
  void *handoff_data;
  atomic_bool handoff_on;
  sg__store_node_t node;
};

/* store_req.c: the checks and the deep copy of a batch of sg_store_submit,
 * for the requests that carry one (store_presplit.c). */
bool sg__store_batch_valid(const sg_store_batch_t *b);
bool sg__store_batch_copy(sg__arena_t *a, sg_store_batch_t *d,
                          const sg_store_batch_t *s);

/* Runs the callback of a finished SG__REQ_ADMIN_* request (store_admin.c). */
void sg__admin_complete(sg_store_t *st, sg__store_req_t *req);

/* Runs the callback of a finished SG__REQ_MO_* request (store_mo.c). */
void sg__mo_complete(sg_store_t *st, sg__store_req_t *req);
/* Runs the callback of a finished SG__REQ_LIMITS_* request
 * (store_limits.c). */
void sg__limits_complete(sg_store_t *st, sg__store_req_t *req);
/* The same for SG__REQ_INR_* (store_inrules.c). */
void sg__inr_complete(sg_store_t *st, sg__store_req_t *req);
/* The same for SG__REQ_OPS_* (store_ops.c). */
void sg__ops_complete(sg_store_t *st, sg__store_req_t *req);
/* The same for SG__REQ_CONTACTS_* (store_contacts.c). */
void sg__contacts_complete(sg_store_t *st, sg__store_req_t *req);
/* The same for SG__REQ_CAMPAIGN_* (store_campaigns.c). */
void sg__campaigns_complete(sg_store_t *st, sg__store_req_t *req);
/* The same for SG__REQ_TRAFFIC_READ (store_traffic.c). */
void sg__traffic_complete(sg_store_t *st, sg__store_req_t *req);
/* The same for SG__REQ_NODE_BEAT (store_nodes.c). */
void sg__nodes_complete(sg_store_t *st, sg__store_req_t *req);
/* Copies the node name, version and address of cfg into st->node at open,
 * before the backend opens (store_nodes.c): 0 or SG_EINVAL (a name that is
 * too long or not a node name). */
int sg__store_node_init(sg_store_t *st, const sg_store_config_t *cfg);

/* Runs a finished request's callback on the loop and frees the request. */
void sg__store_complete(sg_store_t *st, sg__store_req_t *req);
/* Frees a request that never reached a backend, without a callback. */
void sg__store_req_free(sg__store_req_t *req);

/* Starts a request of `kind` after the common checks (SG_EINVAL for a
 * NULL st or cb, SG_ECLOSED), with `extra` zeroed octets for the kind's
 * own arguments in its arena at *ext (none when 0): 0, or SG_ENOMEM with
 * nothing left allocated. */
int sg__store_req_begin(sg_store_t *st, sg__req_kind_t kind, sg__any_cb cb,
                        void *data, size_t extra, sg__store_req_t **out,
                        void **ext);

/* Hands r to the backend; when !ok (building it ran out of memory), the
 * store is closing or the backend refuses it, frees it and returns
 * SG_ENOMEM, SG_ECLOSED or the backend's error. */
int sg__store_req_queue(sg_store_t *st, sg__store_req_t *r, bool ok);

/* The SQLite backend (store/sqlite.c): opens path for st (whose loop and cfg
 * are set), sets st->be, st->impl and st->info. */
int sg__sqlite_open(sg_store_t *st, const char *path, char *err, size_t errlen);
/* The PostgreSQL backend (store/postgres.c): the same for a libpq URI. */
int sg__pg_open(sg_store_t *st, const char *url, char *err, size_t errlen);

/* ---- webhook payloads (store_payload.c) -----------------------------------
 */

/* A message status change, as its webhook tells it. */
typedef struct sg__status_event {
  const char *message_id;
  const char *batch_id;
  sg_msg_status_t status;
  const char *to;
  const char *from;
  const char *client_ref; /* or NULL */
  unsigned part;          /* seq of the part that caused it, 0: none */
  int32_t error_code;     /* 0: none */
  const char *detail;     /* or NULL */
  unsigned parts;
  int64_t time_ms;
} sg__status_event_t;

/* A growable output buffer, kept by its user (the writer thread) and
 * reused for every document. */
typedef struct sg__jbuf {
  char *p; /* the document, p[0..len), not NUL-terminated */
  size_t len;
  size_t cap;
  bool oom; /* a growth failed: the document is incomplete */
} sg__jbuf_t;

/* Frees the buffer's memory and empties it (it stays usable). */
void sg__jbuf_free(sg__jbuf_t *b);

/* The JSON documents of store.h "WEBHOOKS", written over the contents of b
 * (b->p[0..b->len), valid until b's next use). Return 0 or SG_ENOMEM. Any
 * thread; b is the caller's. */
int sg__store_status_payload(sg__jbuf_t *b, const sg__status_event_t *e);
int sg__store_inbound_payload(sg__jbuf_t *b, const sg_store_inbound_t *in);

/* The status change e as a record of octets that holds its strings
 * (sg_store_webhook_t.event): written into out[0..cap) when it fits.
 * Returns the record's size, whether it was written or not. Any thread. */
size_t sg__store_status_pack(const sg__status_event_t *e, uint8_t *out,
                             size_t cap);

/* The status change of record p[0..n) (sg__store_status_pack): e's strings
 * point into p. 0, or SG_EINVAL when p is not such a record. */
int sg__store_status_unpack(const uint8_t *p, size_t n, sg__status_event_t *e);

/* The store's clock. */
int64_t sg__store_now(const sg_store_t *st);

/* Writes an RFC 3339 UTC time with milliseconds ("2024-05-01T12:00:00.123Z")
 * into out (at least 25 bytes). */
void sg__store_rfc3339(int64_t ms, char out[32]);

/* Copies the string s (NULL: "") into out[0..size), cut to size - 1 bytes
 * and NUL-terminated, as snprintf(out, size, "%s", s) does, without
 * snprintf's format parsing (the writer copies ids on every result). */
static inline void sg__store_copy_str(char *out, size_t size, const char *s) {
  size_t n = 0;
  if (s != NULL)
    while (n + 1 < size && s[n] != '\0')
      n++;
  for (size_t i = 0; i < n; i++)
    out[i] = s[i];
  out[n] = '\0';
}

#endif
