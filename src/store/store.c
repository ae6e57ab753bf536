/* store.c - the front of the store: statuses and their derivation, opening
 * the backend a url names, closing, request memory (the arena) and handing
 * finished requests to their callbacks on the loop, and the secret hashing
 * helpers (libsodium).
 *
 * It holds no SQL and no thread: backends (sqlite.c, postgres.c) run
 * the requests. It must never call a callback from inside the public call
 * that queued its request, nor block the loop.
 */
#include "store/store_int.h"

#include <sodium.h>
#include <stdalign.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "core/alloc.h"
#include "core/error.h"
#include "core/isotime.h"

/* ---- statuses ------------------------------------------------------------ */

static const char *const status_names[SG_MSG_STATUS_COUNT] = {
    "none",          "scheduled", "queued",   "sending", "sent",    "delivered",
    "undeliverable", "expired",   "rejected", "failed",  "canceled"};

const char *sg_store_status_name(sg_msg_status_t s) {
  if ((unsigned)s >= SG_MSG_STATUS_COUNT)
    return NULL;
  return status_names[s];
}

int sg_store_status_parse(const char *name, sg_msg_status_t *out) {
  if (name == NULL)
    return SG_EINVAL;
  for (unsigned i = 1; i < SG_MSG_STATUS_COUNT; i++)
    if (strcmp(name, status_names[i]) == 0) {
      *out = (sg_msg_status_t)i;
      return 0;
    }
  return SG_EINVAL;
}

bool sg_store_status_final(sg_msg_status_t s) {
  return s >= SG_MSG_DELIVERED && s <= SG_MSG_CANCELED;
}

/* How bad a final failure is (0: not a failure). */
static int failure_rank(sg_msg_status_t s) {
  switch (s) {
  case SG_MSG_REJECTED:
    return 4;
  case SG_MSG_UNDELIVERABLE:
    return 3;
  case SG_MSG_FAILED:
    return 2;
  case SG_MSG_EXPIRED:
    return 1;
  default:
    return 0;
  }
}

/* How far a part that has not failed has come. */
static int progress(sg_msg_status_t s) {
  switch (s) {
  case SG_MSG_SCHEDULED:
    return 0;
  case SG_MSG_QUEUED:
    return 1;
  case SG_MSG_SENDING:
    return 2;
  default:
    return 3; /* sent, delivered, canceled */
  }
}

sg_msg_status_t sg_store_status_derive(const sg_msg_status_t *st, size_t n) {
  static const sg_msg_status_t by_progress[] = {SG_MSG_SCHEDULED, SG_MSG_QUEUED,
                                                SG_MSG_SENDING, SG_MSG_SENT};
  if (n == 0)
    return SG_MSG_NONE;
  sg_msg_status_t worst = SG_MSG_NONE;
  bool all_delivered = true, all_canceled = true;
  int least = 3;
  for (size_t i = 0; i < n; i++) {
    if (failure_rank(st[i]) > failure_rank(worst))
      worst = st[i];
    all_delivered = all_delivered && st[i] == SG_MSG_DELIVERED;
    all_canceled = all_canceled && st[i] == SG_MSG_CANCELED;
    if (progress(st[i]) < least)
      least = progress(st[i]);
  }
  if (worst != SG_MSG_NONE)
    return worst;
  if (all_canceled)
    return SG_MSG_CANCELED;
  if (all_delivered)
    return SG_MSG_DELIVERED;
  return by_progress[least];
}

/* ---- arena --------------------------------------------------------------- */

struct sg__arena_chunk {
  sg__arena_chunk_t *next;
  size_t used;
  size_t cap;
  alignas(16) unsigned char data[];
};

#define ARENA_CHUNK 4096

/* n octets (rounded up to 16), not zeroed. */
static void *arena_raw(sg__arena_t *a, size_t n) {
  if (n > SIZE_MAX - 15u)
    return NULL;
  n = (n + 15u) & ~(size_t)15u;
  sg__arena_chunk_t *c = a->head;
  if (c == NULL || c->cap - c->used < n) {
    size_t cap = n > ARENA_CHUNK ? n : ARENA_CHUNK;
    if (cap > SIZE_MAX - sizeof *c)
      return NULL;
    c = sg_malloc(sizeof *c + cap);
    if (c == NULL)
      return NULL;
    c->used = 0;
    c->cap = cap;
    c->next = a->head;
    a->head = c;
  }
  void *p = c->data + c->used;
  c->used += n;
  return p;
}

void *sg__arena_alloc_raw(sg__arena_t *a, size_t n) {
  return arena_raw(a, n);
}

void *sg__arena_alloc(sg__arena_t *a, size_t n) {
  void *p = arena_raw(a, n);
  if (p != NULL)
    memset(p, 0, n);
  return p;
}

void *sg__arena_memdup(sg__arena_t *a, const void *p, size_t n, bool *ok) {
  if (p == NULL)
    return NULL;
  void *q = arena_raw(a, n); /* every octet is written: no zeroing */
  if (q == NULL) {
    *ok = false;
    return NULL;
  }
  if (n > 0)
    memcpy(q, p, n);
  return q;
}

void *sg__arena_grow(sg__arena_t *a, void *items, size_t n, size_t *cap,
                     size_t first, size_t size) {
  if (items != NULL && n < *cap)
    return items;
  size_t ncap = n < SIZE_MAX ? sg_grow_cap(*cap, n + 1, first, size) : 0;
  void *p = ncap != 0 ? sg__arena_alloc(a, ncap * size) : NULL;
  if (p == NULL)
    return NULL;
  if (n > 0)
    memcpy(p, items, n * size);
  *cap = ncap;
  return p;
}

char *sg__arena_strndup(sg__arena_t *a, const char *s, size_t n, bool *ok) {
  if (s == NULL)
    return NULL;
  char *q = arena_raw(a, n + 1); /* every octet is written: no zeroing */
  if (q == NULL) {
    *ok = false;
    return NULL;
  }
  memcpy(q, s, n);
  q[n] = '\0';
  return q;
}

char *sg__arena_strdup(sg__arena_t *a, const char *s, bool *ok) {
  return s == NULL ? NULL : sg__arena_strndup(a, s, strlen(s), ok);
}

void sg__arena_free(sg__arena_t *a) {
  sg__arena_chunk_t *c = a->head;
  while (c != NULL) {
    sg__arena_chunk_t *next = c->next;
    sg_free(c);
    c = next;
  }
  a->head = NULL;
}

/* ---- time ---------------------------------------------------------------- */

int64_t sg__store_now(const sg_store_t *st) {
  if (st->cfg.clock_ms != NULL)
    return st->cfg.clock_ms(st->cfg.clock_data);
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void sg__store_rfc3339(int64_t ms, char out[32]) {
  sg_isotime_ms(ms, out); /* not strftime: a fifth of a payload's cost */
}

/* ---- open, close, stats -------------------------------------------------- */

void sg_store_config_init(sg_store_config_t *cfg, const char *url) {
  memset(cfg, 0, sizeof *cfg);
  cfg->url = url;
  cfg->quick_check = true;
  cfg->max_batch = 1000;
  cfg->max_pending_writes = 10000;
  cfg->max_pending_reads = 1000;
  cfg->readers = 2;
  cfg->unmatched_keep_ms = 3600000;
  cfg->traffic_keep_ms = 400LL * 24 * 3600 * 1000;
  cfg->webhook_statuses =
      SG_MSG_BIT(SG_MSG_SENT) | SG_MSG_BIT(SG_MSG_DELIVERED) |
      SG_MSG_BIT(SG_MSG_UNDELIVERABLE) | SG_MSG_BIT(SG_MSG_EXPIRED) |
      SG_MSG_BIT(SG_MSG_REJECTED) | SG_MSG_BIT(SG_MSG_FAILED) |
      SG_MSG_BIT(SG_MSG_CANCELED);
}

static void set_err(char *err, size_t errlen, const char *msg) {
  if (err != NULL && errlen > 0)
    snprintf(err, errlen, "%s", msg);
}

static bool has_prefix(const char *s, const char *p) {
  return strncmp(s, p, strlen(p)) == 0;
}

/* Fills unset limits with defaults so a zeroed config works too. */
static void normalise_config(sg_store_config_t *c) {
  if (c->max_batch == 0)
    c->max_batch = 1000;
  if (c->max_pending_writes == 0)
    c->max_pending_writes = 10000;
  if (c->max_pending_reads == 0)
    c->max_pending_reads = 1000;
  if (c->readers == 0)
    c->readers = 1;
  c->url = NULL;
}

int sg_store_open(uv_loop_t *loop, const sg_store_config_t *cfg,
                  sg_store_t **out, char *err, size_t errlen) {
  set_err(err, errlen, "");
  if (loop == NULL || cfg == NULL || out == NULL || cfg->url == NULL ||
      cfg->url[0] == '\0') {
    set_err(err, errlen, "store: no database url given");
    return SG_EINVAL;
  }
  const char *url = cfg->url;
  bool postgres = cfg->postgres || has_prefix(url, "postgres://") ||
                  has_prefix(url, "postgresql://");
  if (!postgres && has_prefix(url, "sqlite:"))
    url += strlen("sqlite:");
  if (!postgres && url[0] == '\0') {
    set_err(err, errlen, "store: sqlite: needs a file path");
    return SG_EINVAL;
  }
  sg_store_t *st = sg_calloc(1, sizeof *st);
  if (st == NULL) {
    set_err(err, errlen, "store: out of memory");
    return SG_ENOMEM;
  }
  st->loop = loop;
  st->cfg = *cfg;
  normalise_config(&st->cfg);
  int rc = sg__store_node_init(st, cfg);
  if (rc < 0)
    set_err(err, errlen,
            "store: the node name is not 1 to 64 of A-Z a-z "
            "0-9 _ . -");
  else
    rc = postgres ? sg__pg_open(st, url, err, errlen)
                  : sg__sqlite_open(st, url, err, errlen);
  if (rc < 0) {
    sg_free(st);
    return rc;
  }
  *out = st;
  return 0;
}

void sg_store_get_info(const sg_store_t *st, sg_store_info_t *info) {
  *info = st->info;
}

void sg_store_get_stats(sg_store_t *st, sg_store_stats_t *stats) {
  memset(stats, 0, sizeof *stats);
  st->be->stats(st, stats);
  if (sg_store_shared(st)) /* it cannot tell: any commit may have */
    stats->changing = stats->commits;
}

static void closed(sg_store_t *st) {
  sg_store_close_cb cb = st->close_cb;
  void *data = st->close_data;
  sg_free(st);
  if (cb != NULL)
    cb(data);
}

void sg_store_close(sg_store_t *st, sg_store_close_cb close_cb, void *data) {
  if (st == NULL || st->closing)
    return;
  st->closing = true;
  st->close_cb = close_cb;
  st->close_data = data;
  st->be->close(st, closed);
}

void sg_store_claim_wake(sg_store_t *st, const char *connector) {
  if (st != NULL && !st->closing && st->be != NULL &&
      st->be->claim_wake != NULL)
    st->be->claim_wake(st, connector);
}

bool sg_store_claims_wait(const sg_store_t *st) {
  return st != NULL && st->be != NULL && st->be->claim_wake != NULL;
}

bool sg_store_shared(const sg_store_t *st) {
  return st != NULL && st->be != NULL && strcmp(st->be->name, "sqlite") != 0;
}

/* ---- completion ---------------------------------------------------------- */

void sg__store_req_free(sg__store_req_t *req) {
  if (req == NULL)
    return;
  /* The request lives in its own arena: copy the arena out first. */
  sg__arena_t arena = req->arena;
  sg__arena_free(&arena);
}

/* The typed callbacks of the write kinds. */
static void complete_write(sg_store_t *st, sg__store_req_t *r) {
  bool ok = r->status == 0;
  switch (r->kind) {
  case SG__REQ_SUBMIT:
    ((sg_store_submit_cb)r->cb)(st, r->status, ok ? &r->out.submit : NULL,
                                r->data);
    break;
  case SG__REQ_CLAIM:
    ((sg_store_claim_cb)r->cb)(st, r->status, ok ? &r->out.claim : NULL,
                               r->data);
    break;
  case SG__REQ_RESULTS:
  case SG__REQ_RECEIPTS:
  case SG__REQ_CANCEL:
    ((sg_store_items_cb)r->cb)(st, r->status, ok ? r->out.items.items : NULL,
                               ok ? r->out.items.n : 0, r->data);
    break;
  case SG__REQ_WEBHOOK_CLAIM:
    ((sg_store_webhooks_cb)r->cb)(st, r->status,
                                  ok ? r->out.webhooks.items : NULL,
                                  ok ? r->out.webhooks.n : 0, r->data);
    break;
  case SG__REQ_WEBHOOK_FINISH:
  case SG__REQ_APIKEY_REVOKE:
    ((sg_store_done_cb)r->cb)(st, r->status, r->data);
    break;
  case SG__REQ_MAINTAIN:
    ((sg_store_maint_cb)r->cb)(st, r->status, ok ? &r->out.maint : NULL,
                               r->data);
    break;
  case SG__REQ_SMPP_OUT_CLAIM:
    ((sg_store_smpp_out_cb)r->cb)(
        st, r->status, ok ? r->out.smpp_out.items : NULL,
        ok ? r->out.smpp_out.n : 0, ok ? r->out.smpp_out.dropped : 0, r->data);
    break;
  case SG__REQ_SMPP_OUT_FINISH:
    ((sg_store_done_cb)r->cb)(st, r->status, r->data);
    break;
  case SG__REQ_NODE_BEAT:
    sg__nodes_complete(st, r);
    break;
  case SG__REQ_MO_WRITE:
    sg__mo_complete(st, r);
    break;
  case SG__REQ_ADMIN_WRITE:
    sg__admin_complete(st, r);
    break;
  case SG__REQ_LIMITS_WRITE:
    sg__limits_complete(st, r);
    break;
  case SG__REQ_SETTING_PUT:
    ((sg_store_done_cb)r->cb)(st, r->status, r->data);
    break;
  case SG__REQ_PRESPLIT:
    ((sg_store_presplit_cb)r->cb)(st, r->status, ok ? &r->out.presplit : NULL,
                                  r->data);
    break;
  case SG__REQ_INR_WRITE:
    sg__inr_complete(st, r);
    break;
  case SG__REQ_OPS_WRITE:
    sg__ops_complete(st, r);
    break;
  case SG__REQ_CONTACTS_WRITE:
    sg__contacts_complete(st, r);
    break;
  case SG__REQ_CAMPAIGN_WRITE:
    sg__campaigns_complete(st, r);
    break;
  default: /* the kinds that answer with a row id */
    ((sg_store_id_cb)r->cb)(st, r->status, ok ? r->out.id : 0, r->data);
    break;
  }
}

static void complete_read(sg_store_t *st, sg__store_req_t *r) {
  bool ok = r->status == 0;
  switch (r->kind) {
  case SG__REQ_GET_MESSAGE:
    ((sg_store_message_cb)r->cb)(st, r->status, ok ? &r->out.message : NULL,
                                 r->data);
    break;
  case SG__REQ_LIST_MESSAGES:
    ((sg_store_list_cb)r->cb)(st, r->status, ok ? &r->out.list : NULL, r->data);
    break;
  case SG__REQ_COUNTS:
    ((sg_store_counts_cb)r->cb)(st, r->status, ok ? &r->out.counts : NULL,
                                r->data);
    break;
  case SG__REQ_INBOUND_LIST:
    ((sg_store_inbound_cb)r->cb)(st, r->status, ok ? &r->out.inbound : NULL,
                                 r->data);
    break;
  case SG__REQ_MO_READ:
    sg__mo_complete(st, r);
    break;
  case SG__REQ_ADMIN_READ:
    sg__admin_complete(st, r);
    break;
  case SG__REQ_LIMITS_READ:
    sg__limits_complete(st, r);
    break;
  case SG__REQ_SETTING_GET:
    ((sg_store_setting_cb)r->cb)(st, r->status, ok ? r->in.setting.body : NULL,
                                 ok ? r->in.setting.len : 0, r->data);
    break;
  case SG__REQ_INR_READ:
    sg__inr_complete(st, r);
    break;
  case SG__REQ_OPS_READ:
    sg__ops_complete(st, r);
    break;
  case SG__REQ_CONTACTS_READ:
    sg__contacts_complete(st, r);
    break;
  case SG__REQ_CAMPAIGN_READ:
    sg__campaigns_complete(st, r);
    break;
  case SG__REQ_TRAFFIC_READ:
    sg__traffic_complete(st, r);
    break;
  case SG__REQ_WAITING_PARTS:
    ((sg_store_smsc_ids_cb)r->cb)(
        st, r->status, ok ? (const char *const *)r->out.ids.ids : NULL,
        ok ? r->out.ids.n : 0, r->data);
    break;
  default: /* apikey lookup, account by name */
    ((sg_store_account_cb)r->cb)(st, r->status, ok ? &r->out.account : NULL,
                                 r->data);
    break;
  }
}

void sg__store_complete(sg_store_t *st, sg__store_req_t *req) {
  if (req->cb != NULL) {
    if (sg__req_is_write(req))
      complete_write(st, req);
    else
      complete_read(st, req);
  }
  if (req->status == 0 && req->n_handoff > 0 && st->handoff_cb != NULL)
    st->handoff_cb(st, req->handoff, req->n_handoff, st->handoff_data);
  sg__store_req_free(req);
}

void sg_store_smpp_out_handoff(sg_store_t *st, sg_store_smpp_handoff_cb cb,
                               void *data) {
  if (st == NULL)
    return;
  st->handoff_cb = cb;
  st->handoff_data = data;
  atomic_store(&st->handoff_on, cb != NULL);
}

/* ---- secrets ------------------------------------------------------------- */

static int sodium_ready(void) {
  return sodium_init() < 0 ? SG_EIO : 0;
}

int sg_store_key_hash(const uint8_t secret[SG_STORE_SECRET_BYTES],
                      const char *key, size_t len,
                      uint8_t out[SG_STORE_KEY_HASH_BYTES]) {
  if (secret == NULL || key == NULL || out == NULL)
    return SG_EINVAL;
  if (sodium_ready() < 0)
    return SG_EIO;
  if (crypto_generichash(out, SG_STORE_KEY_HASH_BYTES, (const uint8_t *)key,
                         len, secret, SG_STORE_SECRET_BYTES) != 0)
    return SG_EIO;
  return 0;
}

int sg_store_password_hash(const char *pw, size_t len,
                           char out[SG_STORE_PWHASH_MAX]) {
  _Static_assert(crypto_pwhash_STRBYTES <= SG_STORE_PWHASH_MAX,
                 "password hash buffer too small");
  if (pw == NULL || out == NULL)
    return SG_EINVAL;
  if (sodium_ready() < 0)
    return SG_EIO;
  if (crypto_pwhash_str(out, pw, len, crypto_pwhash_OPSLIMIT_INTERACTIVE,
                        crypto_pwhash_MEMLIMIT_INTERACTIVE) != 0)
    return SG_ENOMEM;
  return 0;
}

int sg_store_password_verify(const char *hash, const char *pw, size_t len) {
  if (hash == NULL || pw == NULL || !has_prefix(hash, "$argon2id$"))
    return SG_EINVAL;
  if (sodium_ready() < 0)
    return SG_EIO;
  return crypto_pwhash_str_verify(hash, pw, len) == 0 ? 0 : SG_ENOENT;
}
