/* engine.c - the engine's life cycle (new, start, stop, free), its accounts
 * and their authentication, the timers that drive maintenance and wake the
 * dispatcher, metrics, health and logging.
 *
 * This file owns the loop handles and the order of start and stop; it must
 * never block the loop (every store call is asynchronous) nor talk to a
 * connector directly (dispatch.c does) nor touch a store row itself.
 */
#include "engine/engine.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "core/alloc.h"
#include "core/error.h"
#include "engine/engine_int.h"
#include "engine/limits_int.h"
#include "engine/reload.h"
#include "engine/velocity_int.h"

/* ---- small helpers ------------------------------------------------------- */

static int64_t wall_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t sg__now_ms(sg_engine_t *e) {
  if (e->tun.clock_ms != NULL)
    return e->tun.clock_ms(e->tun.clock_data);
  return wall_ms();
}

void sg__log(sg_engine_t *e, sg_engine_log_level_t level, const char *fmt,
             ...) {
  if (e->log_cb == NULL || level < e->log_level)
    return;
  char line[512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(line, sizeof line, fmt, ap);
  va_end(ap);
  e->log_cb(e->log_data, level, line);
}

void sg_engine_set_log(sg_engine_t *e, sg_engine_log_level_t min_level,
                       sg_engine_log_cb cb, void *data) {
  if (e == NULL)
    return;
  e->log_level = min_level;
  e->log_cb = cb;
  e->log_data = data;
}

void sg__vec_init(sg__vec_t *v, size_t size) {
  memset(v, 0, sizeof *v);
  v->size = size;
}

void *sg__vec_push(sg__vec_t *v) {
  if (v->n == v->cap) {
    void *p = sg_grow(v->items, &v->cap, v->n + 1, 16, v->size);
    if (p == NULL)
      return NULL;
    v->items = p;
  }
  void *it = (char *)v->items + v->n++ * v->size;
  memset(it, 0, v->size);
  return it;
}

void sg__vec_free(sg__vec_t *v) {
  sg_free(v->items);
  v->items = NULL;
  v->n = v->cap = 0;
}

static const uint32_t lat_bounds[SG_ENGINE_LAT_BUCKETS] = {
    1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, UINT32_MAX};

static void latency_init(sg_engine_latency_t *l) {
  memset(l, 0, sizeof *l);
  memcpy(l->bounds, lat_bounds, sizeof lat_bounds);
}

void sg__latency_add(sg_engine_latency_t *l, int64_t ms) {
  if (ms < 0)
    ms = 0;
  for (size_t i = 0; i < SG_ENGINE_LAT_BUCKETS; i++)
    if ((uint64_t)ms <= l->bounds[i])
      l->count[i]++;
  l->n++;
  l->sum_ms += (double)ms;
}

unsigned sg_engine_http_status(int status) {
  switch (status) {
  case 0:
    return 202;
  case SG_EINVAL:
    return 422;
  case SG_EEXIST:
    return 409;
  case SG_ESTATE:
    return 409;
  case SG_EBUSY:
    return 429;
  case SG_ENOENT:
    return 404;
  case SG_EPERM:
    return 403;
  case SG_ENOFUNDS:
    return 402;
  default:
    return 503;
  }
}

/* ---- tuning -------------------------------------------------------------- */

void sg_engine_tuning_default(sg_engine_tuning_t *t) {
  memset(t, 0, sizeof *t);
  t->tick_ms = 1000;
  t->counts_every_ms = 5000;
  t->lease_ms = 300000;
  t->claim_max = 256;
  t->conn_max_claimed = 1024;
  t->max_backlog = 1000000;
  t->max_attempts = 8;
  t->retry_min_ms = 2000;
  t->retry_max_ms = 300000;
  t->failover_after_ms = 30000;
  t->dlr_retry_ms = 2000;
  t->idle_ms = 60000;
  t->idle_claim_ms = 300000;
}

static void tuning_fill(sg_engine_tuning_t *t) {
  sg_engine_tuning_t d;
  sg_engine_tuning_default(&d);
#define SG__DEF(f)                                                             \
  if (t->f == 0)                                                               \
  t->f = d.f
  SG__DEF(tick_ms);
  SG__DEF(counts_every_ms);
  SG__DEF(lease_ms);
  SG__DEF(claim_max);
  SG__DEF(conn_max_claimed);
  SG__DEF(max_backlog);
  SG__DEF(max_attempts);
  SG__DEF(retry_min_ms);
  SG__DEF(retry_max_ms);
  SG__DEF(failover_after_ms);
  SG__DEF(dlr_retry_ms);
  SG__DEF(idle_ms);
  SG__DEF(idle_claim_ms);
#undef SG__DEF
  if (t->claim_max > 1000)
    t->claim_max = 1000;
  if (t->conn_max_claimed < t->claim_max)
    t->conn_max_claimed = t->claim_max;
}

int sg_engine_set_tuning(sg_engine_t *e, const sg_engine_tuning_t *t) {
  if (e == NULL || t == NULL)
    return SG_EINVAL;
  if (e->state != SG__NEW)
    return SG_ESTATE;
  e->tun = *t;
  tuning_fill(&e->tun);
  return 0;
}

/* ---- accounts and authentication ----------------------------------------- */

static void auth_hash(const sg_engine_t *e, const void *a, size_t alen,
                      const void *b, size_t blen, uint8_t out[SG__AUTH_HASH]) {
  crypto_generichash_state h;
  crypto_generichash_init(&h, e->auth_key, sizeof e->auth_key, SG__AUTH_HASH);
  uint8_t la[8];
  for (int i = 0; i < 8; i++)
    la[i] = (uint8_t)((uint64_t)alen >> (8 * i));
  crypto_generichash_update(&h, la, sizeof la);
  crypto_generichash_update(&h, a, alen);
  crypto_generichash_update(&h, b, blen);
  crypto_generichash_final(&h, out, SG__AUTH_HASH);
}

int sg__account_fill(sg_engine_t *e, sg__account_t *a,
                     const sg_config_account_t *ca) {
  a->pub.name = ca->name;
  a->pub.cfg = ca;
  if (ca->default_region[0] != '\0' &&
      !sg_phone_region_known(e->phone_db, ca->default_region))
    return SG_ECONFIG;
  for (size_t d = 0; d < ca->n_destinations; d++)
    if (ca->destinations[d][0] != '+' &&
        !sg_phone_region_known(e->phone_db, ca->destinations[d]))
      return SG_ECONFIG;
  a->has_key = ca->api_key != NULL;
  if (ca->api_key != NULL)
    auth_hash(e, ca->api_key, strlen(ca->api_key), "", 0, a->key_hash);
  a->has_password = ca->password != NULL;
  if (ca->password != NULL)
    auth_hash(e, ca->password, strlen(ca->password), "", 0, a->pw_hash);
  a->has_smpp = ca->smpp.system_id != NULL;
  if (ca->smpp.system_id != NULL) {
    const char *pw = ca->smpp.password ? ca->smpp.password : "";
    auth_hash(e, ca->smpp.system_id, strlen(ca->smpp.system_id), pw,
              strlen(pw), a->smpp_hash);
  }
  return 0;
}

/* Room for the configured accounts and those the API may add (admin.c),
 * so that an account's address never changes. */
static int accounts_init(sg_engine_t *e) {
  const sg_config_t *cfg = e->cfg;
  e->accounts =
      sg_calloc(cfg->n_accounts + SG_ENGINE_API_ACCOUNTS_MAX, sizeof *e->accounts);
  if (e->accounts == NULL)
    return SG_ENOMEM;
  e->accounts_cap = cfg->n_accounts + SG_ENGINE_API_ACCOUNTS_MAX;
  e->n_accounts = cfg->n_accounts;
  for (size_t i = 0; i < cfg->n_accounts; i++)
    if (sg__account_fill(e, &e->accounts[i], &cfg->accounts[i]) != 0)
      return SG_ECONFIG;
  return 0;
}

/* Compares `h` with every account's digest of one kind without stopping at
 * the first match, so the time does not depend on which account matched. */
static int auth_scan(sg_engine_t *e, const uint8_t h[SG__AUTH_HASH],
                     size_t field, const sg_engine_account_t **out) {
  if (e->state != SG__RUNNING && e->state != SG__STOPPING)
    return SG_ESTATE;
  const sg__account_t *found = NULL;
  for (size_t i = 0; i < e->n_accounts; i++) {
    const sg__account_t *a = &e->accounts[i];
    const uint8_t *ah = (const uint8_t *)a + field;
    bool has = field == offsetof(sg__account_t, key_hash)  ? a->has_key
               : field == offsetof(sg__account_t, pw_hash) ? a->has_password
                                                           : a->has_smpp;
    if (sodium_memcmp(ah, h, SG__AUTH_HASH) == 0 && has && found == NULL)
      found = a;
  }
  if (found == NULL)
    return SG_ENOENT;
  if (found->pub.cfg != NULL && found->pub.cfg->disabled)
    return SG_EPERM;
  *out = &found->pub;
  return 0;
}

int sg_engine_auth_api_key(sg_engine_t *e, const char *key, size_t len,
                           const sg_engine_account_t **out) {
  if (e == NULL || key == NULL || out == NULL)
    return SG_EINVAL;
  uint8_t h[SG__AUTH_HASH];
  auth_hash(e, key, len, "", 0, h);
  int rc = auth_scan(e, h, offsetof(sg__account_t, key_hash), out);
  return rc == SG_ENOENT ? sg__admin_auth_key(e, key, len, out) : rc;
}

int sg_engine_auth_password(sg_engine_t *e, const char *name,
                            const char *password, size_t len,
                            const sg_engine_account_t **out) {
  if (e == NULL || name == NULL || password == NULL || out == NULL)
    return SG_EINVAL;
  if (e->state != SG__RUNNING && e->state != SG__STOPPING)
    return SG_ESTATE;
  uint8_t h[SG__AUTH_HASH];
  auth_hash(e, password, len, "", 0, h);
  const sg__account_t *a = NULL;
  for (size_t i = 0; i < e->n_accounts; i++)
    if (strcmp(e->accounts[i].pub.name, name) == 0)
      a = &e->accounts[i];
  /* Compare even when the name is unknown, against the digest itself, so
   * that a wrong name and a wrong password cost the same. */
  const uint8_t *want = a != NULL ? a->pw_hash : h;
  int eq = sodium_memcmp(want, h, SG__AUTH_HASH);
  if (a == NULL || !a->has_password || eq != 0)
    return SG_ENOENT;
  if (a->pub.cfg != NULL && a->pub.cfg->disabled)
    return SG_EPERM;
  *out = &a->pub;
  return 0;
}

int sg_engine_auth_smpp(sg_engine_t *e, const char *system_id,
                        const char *password, const sg_engine_account_t **out) {
  if (e == NULL || system_id == NULL || out == NULL)
    return SG_EINVAL;
  const char *pw = password ? password : "";
  uint8_t h[SG__AUTH_HASH];
  auth_hash(e, system_id, strlen(system_id), pw, strlen(pw), h);
  return auth_scan(e, h, offsetof(sg__account_t, smpp_hash), out);
}

const sg_engine_account_t *sg_engine_account_by_name(sg_engine_t *e,
                                                     const char *name) {
  if (e == NULL || name == NULL || e->state < SG__RUNNING)
    return NULL;
  for (size_t i = 0; i < e->n_accounts; i++)
    if (strcmp(e->accounts[i].pub.name, name) == 0)
      return &e->accounts[i].pub;
  return NULL;
}

const sg_engine_account_t *sg_engine_account_by_id(sg_engine_t *e, int64_t id) {
  if (e == NULL || e->state < SG__RUNNING)
    return NULL;
  for (size_t i = 0; i < e->n_accounts; i++)
    if (e->accounts[i].pub.id == id)
      return &e->accounts[i].pub;
  return NULL;
}

/* ---- new / free ---------------------------------------------------------- */

static void handle_closed_cb(uv_handle_t *h) {
  sg_engine_t *e = h->data;
  e->handles_open--;
}

static void timer_init(sg_engine_t *e, uv_timer_t *t) {
  uv_timer_init(e->loop, t);
  t->data = e;
  e->handles_open++;
}

int sg_engine_new(uv_loop_t *loop, const sg_config_t *cfg, sg_store_t *st,
                  sg_engine_t **out) {
  if (loop == NULL || cfg == NULL || st == NULL || out == NULL)
    return SG_EINVAL;
  if (sodium_init() < 0)
    return SG_EIO;
  sg_engine_t *e = sg_calloc(1, sizeof *e);
  if (e == NULL)
    return SG_ENOMEM;
  e->loop = loop;
  e->cfg = cfg;
  e->st = st;
  e->store_ok = true;
  e->store_ok_logged = true;
  sg_engine_tuning_default(&e->tun);
  e->log_level = SG_ENGINE_LOG_INFO;
  randombytes_buf(e->auth_key, sizeof e->auth_key);
  randombytes_buf(&e->rng, sizeof e->rng);
  e->rng |= 1;
  e->next_ref = (uint8_t)randombytes_uniform(256);
  latency_init(&e->submit_lat);
  latency_init(&e->send_lat);
  sg__vec_init(&e->results, sizeof(sg__result_t));
  sg__vec_init(&e->rcpts, sizeof(sg__rcpt_t));
  sg__vec_init(&e->rcpt_later, sizeof(sg__rcpt_t));
  sg__vec_init(&e->retry_results, sizeof(void *));
  int rc = sg_phone_db_new(&e->phone_db);
  if (rc == 0) {
    e->phone = sg_phone_ctx_new(e->phone_db);
    e->segs = sg_malloc(sizeof *e->segs);
    rc = (e->phone == NULL || e->segs == NULL) ? SG_ENOMEM : 0;
  }
  if (rc == 0)
    rc = accounts_init(e);
  if (rc == 0)
    rc = sg__routes_init(e);
  if (rc == 0) {
    /* Room for the connectors a reload may add (reload.h). */
    e->conns_cap = cfg->n_connectors + SG_ENGINE_RELOAD_CONNS_MAX;
    e->conns = sg_calloc(e->conns_cap, sizeof *e->conns);
    e->conn_metrics = sg_calloc(e->conns_cap, sizeof *e->conn_metrics);
    rc = (e->conns == NULL || e->conn_metrics == NULL) ? SG_ENOMEM : 0;
  }
  if (rc != 0) {
    sg_engine_free(e);
    return rc;
  }
  e->n_conns = cfg->n_connectors;
  for (size_t i = 0; i < e->n_conns; i++) {
    e->conns[i].e = e;
    e->conns[i].index = i;
    e->conns[i].cfg = &cfg->connectors[i];
    e->conns[i].stopped = true;
  }
  *out = e;
  return 0;
}

void sg_engine_free(sg_engine_t *e) {
  if (e == NULL)
    return;
  sg__conns_free(e);
  sg__notifier_free(e);
  sg__inbound_free(e);
  sg__limits_free(e);
  sg__velocity_free(e);
  sg__campaigns_free(e);
  sg__nodes_free(e);
  sg_routes_free(e->routes);
  sg__reload_free(e);
  sg_free(e->conns);
  sg_free(e->conn_metrics);
  sg__admin_free(e);
  sg__imports_free(e);
  sg_free(e->accounts);
  sg_free(e->wake_heap);
  for (size_t i = 0; i < e->retry_results.n; i++)
    sg_free(((void **)e->retry_results.items)[i]);
  sg__vec_free(&e->retry_results);
  sg__vec_free(&e->results);
  sg__vec_free(&e->rcpts);
  sg__vec_free(&e->rcpt_later);
  sg_free(e->segs);
  sg_phone_ctx_free(e->phone);
  sg_phone_db_free(e->phone_db);
  sg_free(e);
}

sg_connector_t *sg_engine_connector(sg_engine_t *e, const char *name) {
  if (e == NULL || name == NULL)
    return NULL;
  for (size_t i = 0; i < e->n_conns; i++)
    if (!e->conns[i].retired && strcmp(e->conns[i].cfg->name, name) == 0)
      return e->conns[i].c;
  return NULL;
}

/* ---- wake heap: when parts become due, and whose ------------------------ */

static void heap_swap(sg__wake_t *a, sg__wake_t *b) {
  sg__wake_t t = *a;
  *a = *b;
  *b = t;
}

static bool heap_push(sg_engine_t *e, sg__wake_t v) {
  if (e->wake_n == e->wake_cap) {
    if (e->wake_cap >= 65536)
      return false;
    sg__wake_t *p =
        sg_grow(e->wake_heap, &e->wake_cap, e->wake_n + 1, 64, sizeof *p);
    if (p == NULL)
      return false;
    e->wake_heap = p;
  }
  size_t i = e->wake_n++;
  e->wake_heap[i] = v;
  while (i > 0 && e->wake_heap[(i - 1) / 2].at > e->wake_heap[i].at) {
    heap_swap(&e->wake_heap[(i - 1) / 2], &e->wake_heap[i]);
    i = (i - 1) / 2;
  }
  return true;
}

static void heap_pop(sg_engine_t *e) {
  e->wake_heap[0] = e->wake_heap[--e->wake_n];
  size_t i = 0;
  for (;;) {
    size_t l = 2 * i + 1, r = l + 1, m = i;
    if (l < e->wake_n && e->wake_heap[l].at < e->wake_heap[m].at)
      m = l;
    if (r < e->wake_n && e->wake_heap[r].at < e->wake_heap[m].at)
      m = r;
    if (m == i)
      break;
    heap_swap(&e->wake_heap[m], &e->wake_heap[i]);
    i = m;
  }
}

static void wake_cb(uv_timer_t *t);

static void wake_arm(sg_engine_t *e) {
  if (e->wake_n == 0 || e->state != SG__RUNNING)
    return;
  int64_t d = e->wake_heap[0].at - sg__now_ms(e);
  uv_timer_start(&e->wake, wake_cb, d > 0 ? (uint64_t)d : 0, 0);
}

/* Wakes the claims of the connectors whose times came, each once: a
 * connector whose parts are not due sleeps on (its claim waits in the
 * store). A time kept for no connector in particular, or one of a
 * connector a reload retired (its parts may be another's of the same
 * name), wakes every connector. */
static void wake_cb(uv_timer_t *t) {
  sg_engine_t *e = t->data;
  int64_t now = sg__now_ms(e);
  bool all = false, any = false;
  while (e->wake_n > 0 && e->wake_heap[0].at <= now) {
    size_t i = e->wake_heap[0].conn;
    heap_pop(e);
    if (i >= e->n_conns || e->conns[i].retired)
      all = true;
    else
      e->conns[i].wake_due = any = true;
  }
  for (size_t i = 0; any && i < e->n_conns; i++) {
    if (!e->conns[i].wake_due)
      continue;
    e->conns[i].wake_due = false;
    if (!all)
      sg__poke(e, i);
  }
  if (all)
    sg__poke_all(e);
  wake_arm(e);
}

void sg__wake_at(sg_engine_t *e, int64_t when_ms, size_t conn) {
  bool earliest = e->wake_n == 0 || when_ms < e->wake_heap[0].at;
  if (!heap_push(e, (sg__wake_t){when_ms, conn})) {
    /* Not kept: the tick wakes every connector until it has passed. */
    if (when_ms > e->wake_lost_ms)
      e->wake_lost_ms = when_ms;
    return;
  }
  if (earliest)
    wake_arm(e);
}

/* ---- start --------------------------------------------------------------- */

static void start_done(sg_engine_t *e, int status);
static void sync_next(sg_engine_t *e);
static void tick_cb(uv_timer_t *t);

static void account_found_cb(sg_store_t *st, int status,
                             const sg_store_account_t *a, void *data);

/* The account's row, created meanwhile by another node that started at the
 * same time on the same database: found now, or the start fails. */
static void account_refound_cb(sg_store_t *st, int status,
                               const sg_store_account_t *a, void *data) {
  sg_engine_t *e = data;
  if (status == SG_ENOENT) {
    sg__op_end(e);
    sg__log(e, SG_ENGINE_LOG_ERROR,
            "account %s: cannot create it: it exists, yet it is not found",
            e->accounts[e->sync_next].pub.name);
    start_done(e, SG_EIO);
    return;
  }
  account_found_cb(st, status, a, data);
}

static void account_created_cb(sg_store_t *st, int status, int64_t id,
                               void *data) {
  sg_engine_t *e = data;
  sg__op_end(e);
  if (status == SG_EEXIST && e->state == SG__STARTING) {
    int rc = sg_store_account_by_name(
        e->st, e->accounts[e->sync_next].pub.name, account_refound_cb, e);
    if (rc == 0) {
      sg__op_begin(e);
      return;
    }
    status = rc;
  }
  if (status != 0) {
    sg__log(e, SG_ENGINE_LOG_ERROR, "account %s: cannot create it: %s",
            e->accounts[e->sync_next].pub.name, sg_strerror(status));
    start_done(e, SG_EIO);
    return;
  }
  e->accounts[e->sync_next].pub.id = id;
  sg__log(e, SG_ENGINE_LOG_INFO, "account %s created (id %lld)",
          e->accounts[e->sync_next].pub.name, (long long)id);
  e->sync_next++;
  sync_next(e);
}

static void account_found_cb(sg_store_t *st, int status,
                             const sg_store_account_t *a, void *data) {
  sg_engine_t *e = data;
  sg__op_end(e);
  sg__account_t *acc = &e->accounts[e->sync_next];
  if (status == 0) {
    acc->pub.id = a->id;
    e->sync_next++;
    sync_next(e);
    return;
  }
  if (status != SG_ENOENT || e->state != SG__STARTING) {
    start_done(e, status == SG_ENOENT ? SG_ECLOSED : SG_EIO);
    return;
  }
  sg_store_account_t na = {0};
  na.name = acc->pub.name;
  na.webhook_url = acc->pub.cfg->callback_url;
  int rc = sg_store_account_create(e->st, &na, account_created_cb, e);
  if (rc != 0) {
    start_done(e, SG_EIO);
    return;
  }
  sg__op_begin(e);
}

/* Finds (or creates) the store row of each configured account in turn. */
static void sync_next(sg_engine_t *e) {
  if (e->state != SG__STARTING) {
    start_done(e, SG_ECLOSED);
    return;
  }
  if (e->sync_next == e->cfg->n_accounts) {
    sg__admin_load(e, start_done);
    return;
  }
  int rc = sg_store_account_by_name(e->st, e->accounts[e->sync_next].pub.name,
                                    account_found_cb, e);
  if (rc != 0) {
    start_done(e, rc == SG_EBUSY ? SG_EBUSY : SG_EIO);
    return;
  }
  sg__op_begin(e);
}

static void start_kick_cb(uv_timer_t *t) {
  sync_next(t->data);
}

static void start_done(sg_engine_t *e, int status) {
  if (status == 0 && e->state == SG__STARTING && e->inbound == NULL) {
    /* Inbound rules and opt-out lists first: nothing may be sent before
     * the opt-outs are known. start_done runs again when they are. */
    status = sg__inbound_new(e, start_done);
    if (status == 0)
      return;
  }
  if (status == 0 && e->state == SG__STARTING && e->limits == NULL) {
    /* Quota usage and balances, before anything may be submitted. */
    status = sg__limits_load(e, start_done);
    if (status == 0)
      return;
  }
  if (status == 0 && e->state == SG__STARTING && e->velocity == NULL) {
    /* Velocity blocks saved before, so that a restart does not lift them. */
    status = sg__velocity_load(e, start_done);
    if (status == 0)
      return;
  }
  if (status == 0 && e->state == SG__STARTING && !e->routes_loaded) {
    /* The routing table saved through the API, if any, before the first
     * message is routed. start_done runs again when it is read. */
    status = sg__routes_load(e, start_done);
    if (status == 0)
      return;
  }
  if (status == 0 && e->state == SG__STARTING) {
    int rc = sg__conns_create(e);
    if (rc == 0)
      rc = sg__notifier_new(e);
    if (rc != 0)
      status = rc;
  }
  if (status == 0 && e->state == SG__STARTING) {
    e->state = SG__RUNNING;
    uv_timer_start(&e->tick, tick_cb, e->tun.tick_ms, e->tun.tick_ms);
    sg__log(e, SG_ENGINE_LOG_INFO,
            "engine running: %zu account(s), %zu connector(s), %zu route(s)",
            e->n_accounts, e->n_conns, sg_routes_count(e->routes));
    sg__poke_all(e);
  }
  sg_engine_start_cb cb = e->start_cb;
  e->start_cb = NULL;
  if (cb != NULL)
    cb(e, status, e->start_ud);
  sg__maybe_stopped(e);
}

int sg_engine_start(sg_engine_t *e, sg_engine_start_cb cb, void *ud) {
  if (e == NULL)
    return SG_EINVAL;
  if (e->state != SG__NEW)
    return SG_ESTATE;
  e->state = SG__STARTING;
  e->start_cb = cb;
  e->start_ud = ud;
  timer_init(e, &e->tick);
  timer_init(e, &e->wake);
  timer_init(e, &e->flush);
  timer_init(e, &e->defer);
  timer_init(e, &e->dlr_retry);
  /* The first store call happens on the next iteration, so that cb never
   * fires inside this call even with no account to sync. */
  uv_timer_start(&e->tick, start_kick_cb, 0, 0);
  return 0;
}

/* ---- the tick: maintenance, counts, failover, idle claims ---------------- */

/* When maintenance and the webhook poll run next while no commit changes
 * a row (tick_cb): at the time maintenance named, and at least once every
 * tun.idle_ms; every tick when it named none (PostgreSQL). */
static void maint_plan(sg_engine_t *e, const sg_store_maint_res_t *res) {
  e->maint_timed = res->timed;
  if (!res->timed)
    return;
  int64_t now = sg__now_ms(e), idle = now + (int64_t)e->tun.idle_ms;
  e->maint_next_ms = res->next_ms > 0 && res->next_ms < idle ? res->next_ms
                                                             : idle;
  if (res->webhook_next_ms > 0 && res->webhook_next_ms < e->webhook_next_ms)
    e->webhook_next_ms = res->webhook_next_ms;
}

/* Whether a pass that last saw `seen` changing commits and is next due at
 * next_ms runs at this tick. */
static bool idle_pass_due(const sg_engine_t *e, uint64_t changing,
                          uint64_t seen, int64_t next_ms, int64_t now) {
  return !e->maint_timed || changing != seen || now >= next_ms;
}

static void maint_cb(sg_store_t *st, int status,
                     const sg_store_maint_res_t *res, void *data) {
  sg_engine_t *e = data;
  sg__op_end(e);
  e->maint_busy = false;
  if (status == 0) {
    bool wrote = res->released || res->expired || res->requeued ||
                 res->webhooks_requeued;
    if (wrote)
      e->store_ok = true;
    if (wrote)
      sg__log(e, SG_ENGINE_LOG_DEBUG,
              "maintenance: %zu released, %zu expired, %zu requeued, %zu "
              "webhooks requeued",
              res->released, res->expired, res->requeued,
              res->webhooks_requeued);
    /* Released messages and parts whose lease ran out wake their
     * connectors by name (a release that names none wakes every one);
     * webhook rows whose lease ran out wake the notifier only. */
    if (res->released && res->n_released_to == 0)
      sg__poke_all(e);
    else
      sg__poke_released(e, res->released_to, res->n_released_to,
                        SG__WAKE_ALL);
    sg__poke_requeued(e, res->requeued, res->requeued_to, res->n_requeued_to,
                      SG__WAKE_ALL);
    maint_plan(e, res);
    if (res->expired || res->webhooks_requeued)
      sg__notifier_poke(e);
    if (res->receipts_expired) {
      e->rcpt_expired += res->receipts_expired;
      sg__log(e, SG_ENGINE_LOG_INFO,
              "maintenance: %zu held receipts matched no part in time, "
              "deleted",
              res->receipts_expired);
    }
  } else {
    e->maint_timed = false; /* every tick until one succeeds */
    if (status == SG_EIO)
      e->store_ok = false;
  }
  sg__maybe_stopped(e);
}

int64_t sg__counts_gap(int64_t every_ms, int64_t took_ms) {
  int64_t gap = took_ms > 36000 ? 3600000 : 100 * took_ms;
  return gap > every_ms ? gap : every_ms;
}

static void counts_cb(sg_store_t *st, int status, const sg_store_counts_t *c,
                      void *data) {
  sg_engine_t *e = data;
  sg__op_end(e);
  e->counts_busy = false;
  int64_t took_ms = (int64_t)((uv_hrtime() - e->counts_t0_ns) / 1000000u);
  e->counts_gap_ms = sg__counts_gap(e->tun.counts_every_ms, took_ms);
  if (status == 0) {
    e->counts = *c;
    e->counts_ms = sg__now_ms(e);
  } else if (status == SG_ETIMEDOUT) {
    /* The figures of the last count stay, and their age grows. One line
     * a timeout: the next count comes a hundred times later. */
    e->counts_timeouts++;
    char kept[64] = "has no figures yet";
    if (e->counts_ms > 0)
      snprintf(kept, sizeof kept, "keeps the figures of %lld s ago",
               (long long)((sg__now_ms(e) - e->counts_ms) / 1000));
    sg__log(e, SG_ENGINE_LOG_WARN,
            "store: the count of messages by status ran past its statement "
            "timeout (%lld ms) and was cancelled; /metrics %s; next count "
            "in %lld s",
            (long long)took_ms, kept, (long long)(e->counts_gap_ms / 1000));
  }
  sg__maybe_stopped(e);
}

/* Says once when the store starts failing to commit (disk full, a file
 * size limit, I/O errors: every write answers 503 meanwhile) and once when
 * it commits again, with how long it failed. */
static void log_store_health(sg_engine_t *e, int64_t now) {
  if (e->store_ok == e->store_ok_logged)
    return;
  e->store_ok_logged = e->store_ok;
  if (!e->store_ok) {
    e->store_failing_since_ms = now;
    sg__log(e, SG_ENGINE_LOG_ERROR,
            "the store fails to commit: new messages are refused (503) and "
            "receipts are left to the operator to send again until it "
            "recovers");
  } else {
    sg__log(e, SG_ENGINE_LOG_WARN, "the store commits again after %lld ms",
            (long long)(now - e->store_failing_since_ms));
  }
}

static void tick_cb(uv_timer_t *t) {
  sg_engine_t *e = t->data;
  if (e->state != SG__RUNNING)
    return;
  int64_t now = sg__now_ms(e);
  log_store_health(e, now);
  sg__store_probe(e);
  /* An idle store is left alone: maintenance runs after a commit that
   * changed rows, at the time it named, or once every idle_ms. */
  sg_store_stats_t ss;
  sg_store_get_stats(e->st, &ss);
  if (!e->maint_busy &&
      idle_pass_due(e, ss.changing, e->maint_changing, e->maint_next_ms,
                    now) &&
      sg_store_maintain(e->st, maint_cb, e) == 0) {
    e->maint_busy = true;
    e->maint_changing = ss.changing;
    sg__op_begin(e);
  }
  int64_t gap = e->counts_gap_ms > (int64_t)e->tun.counts_every_ms
                    ? e->counts_gap_ms
                    : (int64_t)e->tun.counts_every_ms;
  if (!e->counts_busy && now - e->last_counts_ms >= gap &&
      sg_store_counts(e->st, counts_cb, e) == 0) {
    e->counts_busy = true;
    e->counts_t0_ns = uv_hrtime();
    e->last_counts_ms = now;
    sg__op_begin(e);
  }
  sg__retry_failed_writes(e);
  sg__schedule_flush(e); /* anything a busy store sent back */
  sg__failover_pass(e);
  sg__rehome_pass(e);
  sg__conns_rate_tick(e);
  /* A claim waiting in the store ends by itself; a connector with none
   * outstanding claims. While a wake the heap could not keep may be due,
   * every connector's claims are woken, as each tick did before. */
  if (e->wake_lost_ms != 0) {
    sg__poke_all(e);
    if (now > e->wake_lost_ms)
      e->wake_lost_ms = 0;
  } else {
    sg__poke_idle_all(e);
  }
  /* Webhooks due: those of this process's writes are poked as they are
   * written; the rest (retries' rows, a lease ended) when a commit changed
   * rows, when maintenance named their time, or once every idle_ms. */
  if (idle_pass_due(e, ss.changing, e->webhook_changing, e->webhook_next_ms,
                    now)) {
    e->webhook_changing = ss.changing;
    e->webhook_next_ms = now + (int64_t)e->tun.idle_ms;
    sg__notifier_poke(e);
  } else {
    sg__notifier_drain(e); /* a delivery waiting too long goes back */
  }
  sg__inbound_tick(e);
  sg__campaigns_tick(e);
  sg__nodes_tick(e);
}

/* ---- stop ---------------------------------------------------------------- */

void sg__op_begin(sg_engine_t *e) {
  e->pending_ops++;
}

void sg__op_end(sg_engine_t *e) {
  if (e->pending_ops > 0)
    e->pending_ops--;
}

static void close_timer(sg_engine_t *e, uv_timer_t *t) {
  if (!uv_is_closing((uv_handle_t *)t))
    uv_close((uv_handle_t *)t, handle_closed_cb);
}

static void last_close_cb(uv_handle_t *h) {
  sg_engine_t *e = h->data;
  e->handles_open--;
  e->state = SG__STOPPED;
  sg__log(e, SG_ENGINE_LOG_INFO, "engine stopped");
  sg_engine_done_cb cb = e->stop_cb;
  e->stop_cb = NULL;
  if (cb != NULL)
    cb(e, 0, e->stop_ud);
}

void sg__maybe_stopped(sg_engine_t *e) {
  if (e->state != SG__STOPPING || e->start_cb != NULL)
    return;
  if (e->conns_stopping > 0 || e->pending_ops > 0 || e->results.n > 0 ||
      e->rcpts.n > 0 || e->deferred != NULL || e->submits_pending > 0 ||
      !sg__notifier_idle(e))
    return;
  if (uv_is_closing((uv_handle_t *)&e->tick))
    return;
  close_timer(e, &e->wake);
  close_timer(e, &e->flush);
  close_timer(e, &e->defer);
  close_timer(e, &e->dlr_retry);
  uv_close((uv_handle_t *)&e->tick, last_close_cb);
}

int sg_engine_stop(sg_engine_t *e, sg_engine_done_cb cb, void *ud) {
  if (e == NULL)
    return SG_EINVAL;
  if (e->state == SG__NEW) {
    e->state = SG__STOPPED;
    return SG_ESTATE;
  }
  if (e->state >= SG__STOPPING)
    return SG_ESTATE;
  bool starting = e->state == SG__STARTING;
  e->state = SG__STOPPING;
  e->stop_cb = cb;
  e->stop_ud = ud;
  sg__log(e, SG_ENGINE_LOG_INFO, "engine stopping");
  /* While starting, the tick timer holds the first step of the start,
   * which must still run to report the start as failed. */
  if (!starting)
    uv_timer_stop(&e->tick);
  uv_timer_stop(&e->wake);
  uv_timer_stop(&e->dlr_retry);
  /* Receipts waiting for another try are refused now: the operator sends
   * them again to whoever binds next. */
  sg__rcpts_nack_all(e, &e->rcpt_later);
  /* Send results still unwritten get one last try; a failure now leaves
   * their parts to the lease (results_cb no longer keeps them). */
  sg__retry_failed_writes(e);
  for (size_t i = 0; i < e->retry_results.n; i++)
    sg_free(((void **)e->retry_results.items)[i]);
  e->retry_results.n = 0;
  sg__conns_stop(e);
  sg__notifier_stop(e);
  sg__flush_now(e);
  /* A start still syncing accounts ends in start_done, which calls
   * sg__maybe_stopped; otherwise check now (on the next iteration at the
   * latest, through the flush timer). */
  sg__schedule_flush(e);
  return 0;
}

/* ---- metrics and health -------------------------------------------------- */

void sg_engine_metrics(sg_engine_t *e, sg_engine_metrics_t *out) {
  memset(out, 0, sizeof *out);
  if (e == NULL)
    return;
  out->now_ms = sg__now_ms(e);
  out->counts = e->counts;
  out->counts_ms = e->counts_ms;
  out->counts_timeouts = e->counts_timeouts;
  sg_store_get_stats(e->st, &out->store);
  out->requests = e->requests;
  out->requests_failed = e->requests_failed;
  out->accepted = e->accepted;
  out->rejected = e->rejected;
  out->parts_accepted = e->parts_accepted;
  out->dlr_received = e->dlr_received;
  out->dlr_matched = e->dlr_matched;
  out->dlr_unmatched = e->dlr_unmatched;
  out->rcpt_held = e->rcpt_held;
  out->rcpt_applied_later = e->rcpt_applied_later;
  out->rcpt_expired = e->rcpt_expired;
  out->inbound_received = e->inbound_received;
  out->inbound_stored = e->inbound_stored;
  out->submits_pending = e->submits_pending;
  out->submit_latency = e->submit_lat;
  out->send_latency = e->send_lat;
  sg__notifier_metrics(e, out);
  size_t k = 0;
  for (size_t i = 0; i < e->n_conns; i++) {
    const sg__conn_t *c = &e->conns[i];
    if (c->retired)
      continue; /* removed or replaced by a reload */
    sg_engine_conn_metrics_t *m = &e->conn_metrics[k++];
    memset(m, 0, sizeof *m);
    m->name = c->cfg->name;
    m->type = c->cfg->type == SG_CONFIG_CONNECTOR_MODEM  ? "modem"
        : c->cfg->type == SG_CONFIG_CONNECTOR_HTTP ? "http"
                                                   : "smpp";
    m->state = c->state;
    if (c->c != NULL)
      sg_connector_stats(c->c, &m->stats);
    m->claimed = c->used;
    m->waiting = c->wait_len;
    m->backlog = c->backlog;
    m->results_sent = c->results_sent;
    m->results_tempfail = c->results_tempfail;
    m->results_permfail = c->results_permfail;
    m->results_unknown = c->results_unknown;
    m->latency = c->latency;
    m->rate = c->rate;
    if (c->c != NULL)
      m->n_links = sg_connector_links(c->c, m->links, SG_CONN_LINKS_MAX);
  }
  out->connectors = e->conn_metrics;
  out->n_connectors = k;
}

void sg_engine_health(sg_engine_t *e, sg_engine_health_t *out) {
  memset(out, 0, sizeof *out);
  if (e == NULL)
    return;
  out->running = e->state == SG__RUNNING;
  out->store_ok = e->store_ok;
  for (size_t i = 0; i < e->n_conns; i++) {
    if (e->conns[i].retired || e->conns[i].remote)
      continue;
    out->connectors_total++;
    if (e->conns[i].state == SG_CONN_UP)
      out->connectors_up++;
  }
  if (!out->running)
    snprintf(out->reason, sizeof out->reason, "engine not running");
  else if (!out->store_ok)
    snprintf(out->reason, sizeof out->reason, "store failing to commit");
  else if (out->connectors_total > 0 && out->connectors_up == 0)
    snprintf(out->reason, sizeof out->reason, "no connector is up");
  out->ok = out->reason[0] == '\0';
}
