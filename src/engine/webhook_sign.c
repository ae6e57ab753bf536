/* webhook_sign.c - the X-Smsgate-Signature of a webhook body: HMAC-SHA256
 * (RFC 2104) over OpenSSL's SHA-256, which uses the CPU's SHA instructions
 * where it has them (about a fifth of libsodium's portable SHA-256 per
 * 650-octet body here).
 *
 * Each thread keeps the SHA-256 states of the last secret it signed with
 * after its two padded key blocks (the inner ipad and the outer opad
 * block), so a signature is two plain copies of those states and the
 * hashing of the body and of the inner digest: no key schedule, no
 * allocation. OpenSSL's EVP_MAC does the same work but frees and allocates
 * its digest contexts on every init and final (3.3 k instructions a
 * signature, a fifth of it). The states are key material: they are
 * cleansed when the thread ends or re-keys. Must never keep a secret
 * beyond the thread's states or sign anything but the body given.
 */
/* SHA256_Init/Update/Final are deprecated in OpenSSL 3.0 in favour of EVP,
 * whose context copies cost what is saved here; they remain in 3.x. */
#define OPENSSL_SUPPRESS_DEPRECATED
#include <openssl/crypto.h>
#include <openssl/sha.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "core/alloc.h"
#include "core/error.h"
#include "engine/webhook.h"

/* Secrets longer than this are prepared for each signature, not kept. */
#define SIGN_KEY_MAX 256

typedef struct sign_key {
  SHA256_CTX inner, outer; /* after the ipad and the opad block */
  size_t len;              /* SIZE_MAX: no key yet */
  uint8_t key[SIGN_KEY_MAX];
} sign_key_t;

static pthread_once_t once = PTHREAD_ONCE_INIT;
static pthread_key_t tkey; /* the thread's sign_key_t */
static bool tkey_ok;

static void key_free(void *p) {
  if (p == NULL)
    return;
  OPENSSL_cleanse(p, sizeof(sign_key_t));
  sg_free(p);
}

static void init_once(void) {
  tkey_ok = pthread_key_create(&tkey, key_free) == 0;
}

/* k's states for secret (RFC 2104 section 2: a key longer than the block
 * is hashed first, a shorter one padded with zeros). */
static void key_prepare(sign_key_t *k, const uint8_t *secret, size_t len) {
  uint8_t block[SHA256_CBLOCK] = {0}, pad[SHA256_CBLOCK];
  if (len > SHA256_CBLOCK)
    SHA256(secret, len, block);
  else if (len > 0)
    memcpy(block, secret, len);
  for (size_t i = 0; i < SHA256_CBLOCK; i++)
    pad[i] = block[i] ^ 0x36;
  SHA256_Init(&k->inner);
  SHA256_Update(&k->inner, pad, sizeof pad);
  for (size_t i = 0; i < SHA256_CBLOCK; i++)
    pad[i] = block[i] ^ 0x5c;
  SHA256_Init(&k->outer);
  SHA256_Update(&k->outer, pad, sizeof pad);
  OPENSSL_cleanse(block, sizeof block);
  OPENSSL_cleanse(pad, sizeof pad);
}

/* The thread's states keyed by secret, made or re-keyed as needed; NULL
 * when the secret is too long to keep or there is no memory for them (the
 * caller prepares its own then). */
static const sign_key_t *thread_key(const uint8_t *secret, size_t len) {
  pthread_once(&once, init_once);
  if (!tkey_ok || len > SIGN_KEY_MAX)
    return NULL;
  sign_key_t *k = pthread_getspecific(tkey);
  if (k != NULL && k->len == len &&
      (len == 0 || CRYPTO_memcmp(k->key, secret, len) == 0))
    return k;
  if (k == NULL) {
    if ((k = sg_malloc(sizeof *k)) == NULL)
      return NULL;
    if (pthread_setspecific(tkey, k) != 0) {
      sg_free(k);
      return NULL;
    }
  }
  OPENSSL_cleanse(k, sizeof *k); /* the last secret's */
  key_prepare(k, secret, len);
  if (len > 0)
    memcpy(k->key, secret, len);
  k->len = len;
  return k;
}

/* mac in lower-case hex with its NUL, two digits an octet from a table of
 * the 256 pairs. libsodium's constant-time sodium_bin2hex cost 0.8 k
 * instructions a signature, a digit at a time from a table of 16 0.38 k;
 * the MAC is sent in the clear, and a check compares the hex with
 * sodium_memcmp. */
static void to_hex(char *out, const uint8_t *mac, size_t n) {
  static const char pairs[513] =
      "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
      "202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f"
      "404142434445464748494a4b4c4d4e4f505152535455565758595a5b5c5d5e5f"
      "606162636465666768696a6b6c6d6e6f707172737475767778797a7b7c7d7e7f"
      "808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f"
      "a0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7b8b9babbbcbdbebf"
      "c0c1c2c3c4c5c6c7c8c9cacbcccdcecfd0d1d2d3d4d5d6d7d8d9dadbdcdddedf"
      "e0e1e2e3e4e5e6e7e8e9eaebecedeeeff0f1f2f3f4f5f6f7f8f9fafbfcfdfeff";
  for (size_t i = 0; i < n; i++)
    memcpy(out + 2 * i, pairs + 2 * mac[i], 2);
  out[2 * n] = '\0';
}

int sg_webhook_sign(const uint8_t *secret, size_t secret_len, const void *body,
                    size_t len, char out[SG_WEBHOOK_SIGNATURE_LEN + 1]) {
  if ((secret == NULL && secret_len > 0) || (body == NULL && len > 0) ||
      out == NULL)
    return SG_EINVAL;
  sign_key_t own;
  const sign_key_t *k = thread_key(secret, secret_len);
  if (k == NULL) {
    key_prepare(&own, secret, secret_len);
    k = &own;
  }
  /* After each Final the copy holds a digest, not a keyed state. */
  uint8_t mac[SHA256_DIGEST_LENGTH];
  SHA256_CTX c = k->inner;
  if (len > 0)
    SHA256_Update(&c, body, len);
  SHA256_Final(mac, &c);
  c = k->outer;
  SHA256_Update(&c, mac, sizeof mac);
  SHA256_Final(mac, &c);
  if (k == &own)
    OPENSSL_cleanse(&own, sizeof own);
  memcpy(out, "sha256=", 7);
  to_hex(out + 7, mac, sizeof mac);
  return 0;
}
