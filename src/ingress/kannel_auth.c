/* kannel_auth.c - the password check of Kannel sendsms requests when the
 * account's configured password is an argon2id hash ("$argon2id$...", from
 * `smsgate hash-password`), so that the configuration file need not hold
 * the password itself.
 *
 * argon2id is slow on purpose (tens of ms, 64 MB): the check runs on
 * libuv's thread pool, at most AUTH_INFLIGHT at once (more wait for a
 * 503, so wrong passwords cannot take the pool), and a password that
 * passed is remembered as a keyed BLAKE2b hash (a random key per process)
 * so that the next requests with it are answered at once. Plain
 * passwords stay with the engine's keyed-hash check. This file must never
 * run argon2id on the loop thread.
 */
#include <string.h>

#include <sodium.h>

#include "core/alloc.h"
#include "core/error.h"
#include "ingress/kannel_int.h"

#define AUTH_INFLIGHT 4
#define ARGON2_PREFIX "$argon2id$"

typedef struct auth_work {
  uv_work_t work;
  sg__kannel_auth_t *a;
  const sg_engine_account_t *acct;
  char *hash, *password;
  size_t len;
  int status;
  sg__kannel_auth_cb cb;
  void *ud;
} auth_work_t;

void sg__kannel_auth_init(sg__kannel_auth_t *a, uv_loop_t *loop) {
  memset(a, 0, sizeof *a);
  a->loop = loop;
  randombytes_buf(a->key, sizeof a->key);
}

/* Keyed by the account and its hash too: a password changed through the
 * API no longer matches what was remembered of the old one. */
static void key_of(const sg__kannel_auth_t *a, int64_t account_id,
                   const char *conf, const char *pw, size_t len,
                   uint8_t out[SG__KANNEL_AUTH_HASH]) {
  crypto_generichash_state h;
  crypto_generichash_init(&h, a->key, sizeof a->key, SG__KANNEL_AUTH_HASH);
  crypto_generichash_update(&h, (const uint8_t *)&account_id,
                            sizeof account_id);
  crypto_generichash_update(&h, (const uint8_t *)conf, strlen(conf) + 1);
  crypto_generichash_update(&h, (const uint8_t *)pw, len);
  crypto_generichash_final(&h, out, SG__KANNEL_AUTH_HASH);
}

static bool cached(const sg__kannel_auth_t *a, const uint8_t *k) {
  bool hit = false;
  for (size_t i = 0; i < a->n_cache; i++)
    hit |= sodium_memcmp(a->cache[i], k, SG__KANNEL_AUTH_HASH) == 0;
  return hit;
}

static void remember(sg__kannel_auth_t *a, const uint8_t *k) {
  if (cached(a, k))
    return;
  memcpy(a->cache[a->next], k, SG__KANNEL_AUTH_HASH);
  a->next = (a->next + 1) % SG__KANNEL_AUTH_CACHE;
  if (a->n_cache < SG__KANNEL_AUTH_CACHE)
    a->n_cache++;
}

static void work_cb(uv_work_t *w) {
  auth_work_t *x = w->data;
  x->status = sg_store_password_verify(x->hash, x->password, x->len);
}

static void work_free(auth_work_t *x) {
  if (x->password != NULL)
    sodium_memzero(x->password, x->len);
  sg_free(x->password);
  sg_free(x->hash);
  sg_free(x);
}

static void after_cb(uv_work_t *w, int status) {
  auth_work_t *x = w->data;
  sg__kannel_auth_t *a = x->a;
  a->inflight--;
  int rc = status != 0 ? SG_EIO : x->status;
  if (a->closing) {
    rc = SG_ECLOSED;
  } else if (rc == 0) {
    uint8_t k[SG__KANNEL_AUTH_HASH];
    key_of(a, x->acct->id, x->hash, x->password, x->len, k);
    remember(a, k);
  }
  x->cb(rc == 0 ? x->acct : NULL, rc == SG_EINVAL ? SG_ENOENT : rc, x->ud);
  work_free(x);
  if (a->closing && a->inflight == 0 && a->on_idle != NULL)
    a->on_idle(a->idle_data);
}

int sg__kannel_auth(sg__kannel_auth_t *a, sg_engine_t *e, const char *name,
                    const char *pw, const sg_engine_account_t **out,
                    sg__kannel_auth_cb cb, void *ud) {
  const sg_engine_account_t *acct = sg_engine_account_by_name(e, name);
  const char *conf =
      acct != NULL && acct->cfg != NULL ? acct->cfg->password : NULL;
  size_t len = strlen(pw);
  if (conf == NULL || strncmp(conf, ARGON2_PREFIX, strlen(ARGON2_PREFIX)) != 0)
    return sg_engine_auth_password(e, name, pw, len, out);
  if (acct->cfg->disabled)
    return SG_EPERM;
  uint8_t k[SG__KANNEL_AUTH_HASH];
  key_of(a, acct->id, conf, pw, len, k);
  if (cached(a, k)) {
    *out = acct;
    return 0;
  }
  if (a->inflight >= AUTH_INFLIGHT)
    return SG_EBUSY;
  auth_work_t *x = sg_calloc(1, sizeof *x);
  if (x == NULL)
    return SG_ENOMEM;
  x->a = a;
  x->acct = acct;
  x->cb = cb;
  x->ud = ud;
  x->len = len;
  x->hash = sg_strdup(conf);
  x->password = sg_malloc(len + 1);
  if (x->hash == NULL || x->password == NULL) {
    work_free(x);
    return SG_ENOMEM;
  }
  memcpy(x->password, pw, len + 1);
  x->work.data = x;
  if (uv_queue_work(a->loop, &x->work, work_cb, after_cb) != 0) {
    work_free(x);
    return SG_EIO;
  }
  a->inflight++;
  return 1;
}

bool sg__kannel_auth_close(sg__kannel_auth_t *a, void (*on_idle)(void *),
                           void *data) {
  a->closing = true;
  a->on_idle = on_idle;
  a->idle_data = data;
  return a->inflight == 0;
}
