/* webhook_sign.c - the X-Smsgate-Signature of a webhook body: HMAC-SHA256
 * through OpenSSL, which uses the CPU's SHA instructions where it has them
 * (about a fifth of libsodium's portable SHA-256 per 650-octet body here).
 *
 * Each thread keeps one HMAC context keyed by the last secret it signed
 * with, so a post costs no key schedule and no allocation; the context is
 * freed when the thread ends. If OpenSSL fails (it allocates), the
 * signature comes from libsodium instead: the same octets, never an error.
 * Must never keep a secret beyond its context or sign anything but the
 * body given.
 */
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <sodium.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "core/error.h"
#include "engine/webhook.h"

/* Secrets longer than this are signed without the per-thread context. */
#define SIGN_KEY_MAX 256

typedef struct sign_ctx {
  EVP_MAC_CTX *mac; /* keyed by key[0..len) */
  size_t len;
  uint8_t key[SIGN_KEY_MAX];
} sign_ctx_t;

static pthread_once_t once = PTHREAD_ONCE_INIT;
static EVP_MAC *hmac;     /* fetched once, never freed */
static pthread_key_t key; /* the thread's sign_ctx_t */
static bool key_ok;

static void ctx_free(void *p) {
  sign_ctx_t *c = p;
  if (c == NULL)
    return;
  EVP_MAC_CTX_free(c->mac);
  OPENSSL_cleanse(c->key, sizeof c->key);
  OPENSSL_free(c);
}

static void init_once(void) {
  hmac = EVP_MAC_fetch(NULL, "HMAC", NULL);
  key_ok = pthread_key_create(&key, ctx_free) == 0;
}

/* The thread's context keyed by secret, made or re-keyed as needed; NULL
 * when OpenSSL cannot give one. */
static EVP_MAC_CTX *thread_ctx(const uint8_t *secret, size_t len) {
  pthread_once(&once, init_once);
  /* OpenSSL refuses an empty key: libsodium signs with that one. */
  if (hmac == NULL || !key_ok || len == 0 || len > SIGN_KEY_MAX)
    return NULL;
  sign_ctx_t *c = pthread_getspecific(key);
  if (c != NULL && c->len == len && CRYPTO_memcmp(c->key, secret, len) == 0)
    return EVP_MAC_init(c->mac, NULL, 0, NULL) == 1 ? c->mac : NULL;
  if (c == NULL) {
    c = OPENSSL_zalloc(sizeof *c);
    if (c == NULL)
      return NULL;
    c->mac = EVP_MAC_CTX_new(hmac);
    if (c->mac == NULL || pthread_setspecific(key, c) != 0) {
      ctx_free(c);
      return NULL;
    }
  }
  char digest[] = "SHA256";
  OSSL_PARAM params[] = {
      OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0),
      OSSL_PARAM_construct_end()};
  c->len = SIZE_MAX; /* matches no secret until the key is in */
  if (EVP_MAC_init(c->mac, secret, len, params) != 1)
    return NULL;
  memcpy(c->key, secret, len);
  c->len = len;
  return c->mac;
}

static int sign_sodium(const uint8_t *secret, size_t secret_len,
                       const void *body, size_t len, uint8_t *mac) {
  crypto_auth_hmacsha256_state st;
  static const uint8_t empty[1];
  /* libsodium declares both pointers non-null, even for length 0. */
  crypto_auth_hmacsha256_init(&st, secret ? secret : empty, secret_len);
  crypto_auth_hmacsha256_update(&st, body ? body : empty, len);
  crypto_auth_hmacsha256_final(&st, mac);
  sodium_memzero(&st, sizeof st);
  return 0;
}

/* mac in lower-case hex with its NUL. libsodium's constant-time
 * sodium_bin2hex cost 0.8 k instructions a signature; the MAC is sent in
 * the clear, and a check compares the hex with sodium_memcmp, so a table
 * of 16 octets (one cache line) serves. */
static void to_hex(char *out, const uint8_t *mac, size_t n) {
  static const char digits[] = "0123456789abcdef";
  for (size_t i = 0; i < n; i++) {
    out[2 * i] = digits[mac[i] >> 4];
    out[2 * i + 1] = digits[mac[i] & 15];
  }
  out[2 * n] = '\0';
}

int sg_webhook_sign(const uint8_t *secret, size_t secret_len, const void *body,
                    size_t len, char out[SG_WEBHOOK_SIGNATURE_LEN + 1]) {
  uint8_t mac[crypto_auth_hmacsha256_BYTES];
  if ((secret == NULL && secret_len > 0) || (body == NULL && len > 0) ||
      out == NULL)
    return SG_EINVAL;
  EVP_MAC_CTX *c = thread_ctx(secret, secret_len);
  size_t n = 0;
  if (c == NULL || (len > 0 && EVP_MAC_update(c, body, len) != 1) ||
      EVP_MAC_final(c, mac, &n, sizeof mac) != 1 || n != sizeof mac)
    sign_sodium(secret, secret_len, body, len, mac);
  memcpy(out, "sha256=", 7);
  to_hex(out + 7, mac, sizeof mac);
  return 0;
}
