/* session.c - the web page's session table, session and CSRF tokens, the
 * Cookie header reader and the limit of failed logins per address
 * (session.h).
 *
 * Plain data: no I/O, no clock (the caller passes the time), no logging.
 * It must never keep a session token itself, only its hash, and never
 * compare a secret with memcmp.
 */
#include <stdio.h>
#include <string.h>

#include <jansson.h>
#include <netinet/in.h>
#include <sodium.h>

#include "core/alloc.h"
#include "core/error.h"
#include "ingress/web/session.h"

/* Domain keys of the two hashes of a token (BLAKE2b keys, 16 octets at
 * least), so that the stored hash and the CSRF token never coincide. */
static const uint8_t k_hash_key[] = "smsgate web session id v1";
static const uint8_t k_csrf_key[] = "smsgate web csrf token v1";

#define B64 sodium_base64_VARIANT_URLSAFE_NO_PADDING

/* Decodes a token into its 32 octets. false for any other length or a
 * character outside base64url. */
static bool token_bytes(const char *token, uint8_t out[32]) {
  if (token == NULL || strlen(token) != SG_WEB_TOKEN_LEN)
    return false;
  size_t n = 0;
  return sodium_base642bin(out, 32, token, SG_WEB_TOKEN_LEN, NULL, &n, NULL,
                           B64) == 0 &&
         n == 32;
}

static bool token_hash(const char *token, uint8_t out[SG_WEB_HASH_LEN]) {
  uint8_t raw[32];
  if (!token_bytes(token, raw))
    return false;
  crypto_generichash(out, SG_WEB_HASH_LEN, raw, sizeof raw, k_hash_key,
                     sizeof k_hash_key - 1);
  sodium_memzero(raw, sizeof raw);
  return true;
}

void sg_web_sessions_clear(sg_web_sessions_t *t) {
  if (t == NULL)
    return;
  sg_free(t->v);
  memset(t, 0, sizeof *t);
}

static void remove_at(sg_web_sessions_t *t, size_t i) {
  t->v[i] = t->v[t->n - 1];
  t->n--;
}

static void sweep(sg_web_sessions_t *t, int64_t now_ms) {
  for (size_t i = t->n; i-- > 0;)
    if (t->v[i].expires_ms <= now_ms)
      remove_at(t, i);
}

/* Room for one more: grows the array, or drops the session that expires
 * soonest once SG_WEB_SESSIONS_MAX are open. */
static int make_room(sg_web_sessions_t *t) {
  if (t->n >= SG_WEB_SESSIONS_MAX) {
    size_t k = 0;
    for (size_t i = 1; i < t->n; i++)
      if (t->v[i].expires_ms < t->v[k].expires_ms)
        k = i;
    remove_at(t, k);
  }
  if (t->n < t->cap)
    return 0;
  sg_web_session_t *v = sg_grow(t->v, &t->cap, t->n + 1, 16, sizeof *v);
  if (v == NULL)
    return SG_ENOMEM;
  t->v = v;
  return 0;
}

static bool account_ok(const char *account) {
  return account != NULL && account[0] != '\0' &&
         strlen(account) < SG_WEB_ACCOUNT_MAX;
}

int sg_web_session_new(sg_web_sessions_t *t, const char *account,
                       int64_t now_ms, int64_t ttl_ms,
                       char token[SG_WEB_TOKEN_LEN + 1]) {
  if (t == NULL || token == NULL || !account_ok(account) || ttl_ms <= 0)
    return SG_EINVAL;
  sweep(t, now_ms);
  int rc = make_room(t);
  if (rc != 0)
    return rc;
  uint8_t raw[32];
  randombytes_buf(raw, sizeof raw);
  sodium_bin2base64(token, SG_WEB_TOKEN_LEN + 1, raw, sizeof raw, B64);
  sodium_memzero(raw, sizeof raw);
  sg_web_session_t *s = &t->v[t->n];
  memset(s, 0, sizeof *s);
  token_hash(token, s->hash);
  snprintf(s->account, sizeof s->account, "%s", account);
  s->created_ms = now_ms;
  s->expires_ms = now_ms + ttl_ms;
  t->n++;
  return 0;
}

int sg_web_session_add(sg_web_sessions_t *t, const sg_web_session_t *s) {
  if (t == NULL || s == NULL)
    return SG_EINVAL;
  int rc = make_room(t);
  if (rc == 0)
    t->v[t->n++] = *s;
  return rc;
}

static size_t index_of(const sg_web_sessions_t *t, const uint8_t *h) {
  for (size_t i = 0; i < t->n; i++)
    if (memcmp(t->v[i].hash, h, SG_WEB_HASH_LEN) == 0)
      return i;
  return (size_t)-1;
}

const sg_web_session_t *sg_web_session_find(sg_web_sessions_t *t,
                                            const char *token, int64_t now_ms) {
  uint8_t h[SG_WEB_HASH_LEN];
  if (t == NULL || !token_hash(token, h))
    return NULL;
  size_t i = index_of(t, h);
  if (i == (size_t)-1)
    return NULL;
  if (t->v[i].expires_ms <= now_ms) {
    remove_at(t, i);
    return NULL;
  }
  return &t->v[i];
}

int sg_web_session_end(sg_web_sessions_t *t, const char *token) {
  uint8_t h[SG_WEB_HASH_LEN];
  if (t == NULL || !token_hash(token, h))
    return SG_ENOENT;
  size_t i = index_of(t, h);
  if (i == (size_t)-1)
    return SG_ENOENT;
  remove_at(t, i);
  return 0;
}

size_t sg_web_session_end_account(sg_web_sessions_t *t, const char *account) {
  size_t ended = 0;
  for (size_t i = t != NULL ? t->n : 0; account != NULL && i-- > 0;)
    if (strcmp(t->v[i].account, account) == 0) {
      remove_at(t, i);
      ended++;
    }
  return ended;
}

/* ---- CSRF ---------------------------------------------------------------- */

int sg_web_csrf_token(const char *token, char out[SG_WEB_TOKEN_LEN + 1]) {
  uint8_t raw[32], mac[32];
  if (out == NULL || !token_bytes(token, raw))
    return SG_EINVAL;
  crypto_generichash(mac, sizeof mac, raw, sizeof raw, k_csrf_key,
                     sizeof k_csrf_key - 1);
  sodium_memzero(raw, sizeof raw);
  sodium_bin2base64(out, SG_WEB_TOKEN_LEN + 1, mac, sizeof mac, B64);
  return 0;
}

bool sg_web_csrf_ok(const char *token, const char *sent) {
  char want[SG_WEB_TOKEN_LEN + 1];
  if (sent == NULL || strlen(sent) != SG_WEB_TOKEN_LEN ||
      sg_web_csrf_token(token, want) != 0)
    return false;
  return sodium_memcmp(want, sent, SG_WEB_TOKEN_LEN) == 0;
}

/* ---- Cookie header ------------------------------------------------------- */

static const char *skip_ws(const char *p) {
  while (*p == ' ' || *p == '\t')
    p++;
  return p;
}

int sg_web_cookie_value(const char *header, const char *name, char *out,
                        size_t cap) {
  if (header == NULL || name == NULL || out == NULL || cap == 0)
    return SG_ENOENT;
  size_t nlen = strlen(name);
  for (const char *p = header; *p != '\0';) {
    p = skip_ws(p);
    const char *end = strchr(p, ';');
    size_t pair = end != NULL ? (size_t)(end - p) : strlen(p);
    const char *eq = memchr(p, '=', pair);
    if (eq != NULL && (size_t)(eq - p) == nlen && memcmp(p, name, nlen) == 0) {
      const char *v = eq + 1;
      size_t vlen = pair - nlen - 1;
      while (vlen > 0 && (v[vlen - 1] == ' ' || v[vlen - 1] == '\t'))
        vlen--;
      if (vlen >= 2 && v[0] == '"' && v[vlen - 1] == '"') {
        v++;
        vlen -= 2;
      }
      if (vlen >= cap)
        return SG_ENOSPC;
      memcpy(out, v, vlen);
      out[vlen] = '\0';
      return 0;
    }
    p += pair;
    if (*p == ';')
      p++;
  }
  return SG_ENOENT;
}

/* ---- the stored document ------------------------------------------------- */

char *sg_web_sessions_dump(const sg_web_sessions_t *t, int64_t now_ms) {
  json_t *arr = json_array();
  json_t *doc = json_pack("{s:i, s:o}", "v", 1, "sessions", arr);
  if (doc == NULL)
    return NULL;
  for (size_t i = 0; t != NULL && i < t->n; i++) {
    const sg_web_session_t *s = &t->v[i];
    if (s->expires_ms <= now_ms)
      continue;
    char hex[SG_WEB_HASH_LEN * 2 + 1];
    sodium_bin2hex(hex, sizeof hex, s->hash, SG_WEB_HASH_LEN);
    json_t *o = json_pack("{s:s, s:s, s:I, s:I}", "hash", hex, "account",
                          s->account, "created_ms", (json_int_t)s->created_ms,
                          "expires_ms", (json_int_t)s->expires_ms);
    if (o == NULL || json_array_append_new(arr, o) != 0) {
      json_decref(doc);
      return NULL;
    }
  }
  char *text = json_dumps(doc, JSON_COMPACT);
  json_decref(doc);
  return text;
}

/* One entry of the document into s; false when malformed. */
static bool entry_of(json_t *o, sg_web_session_t *s) {
  const char *hex = NULL, *account = NULL;
  json_int_t created = 0, expires = 0;
  if (json_unpack(o, "{s:s, s:s, s:I, s:I}", "hash", &hex, "account", &account,
                  "created_ms", &created, "expires_ms", &expires) != 0 ||
      !account_ok(account) || strlen(hex) != SG_WEB_HASH_LEN * 2)
    return false;
  size_t n = 0;
  memset(s, 0, sizeof *s);
  if (sodium_hex2bin(s->hash, SG_WEB_HASH_LEN, hex, strlen(hex), NULL, &n,
                     NULL) != 0 ||
      n != SG_WEB_HASH_LEN)
    return false;
  snprintf(s->account, sizeof s->account, "%s", account);
  s->created_ms = created;
  s->expires_ms = expires;
  return true;
}

int sg_web_sessions_load(sg_web_sessions_t *t, const char *doc, size_t len,
                         int64_t now_ms, size_t *skipped) {
  size_t bad = 0;
  sg_web_sessions_clear(t);
  json_t *root = json_loadb(doc, len, JSON_REJECT_DUPLICATES, NULL);
  json_t *arr = json_object_get(root, "sessions");
  int rc =
      json_is_array(arr) && json_integer_value(json_object_get(root, "v")) == 1
          ? 0
          : SG_EPROTO;
  for (size_t i = 0; rc == 0 && i < json_array_size(arr); i++) {
    sg_web_session_t s;
    if (!entry_of(json_array_get(arr, i), &s)) {
      bad++;
      continue;
    }
    if (s.expires_ms <= now_ms)
      continue;
    rc = make_room(t);
    if (rc == 0)
      t->v[t->n++] = s;
  }
  json_decref(root);
  if (rc != 0)
    sg_web_sessions_clear(t);
  if (skipped != NULL)
    *skipped = bad;
  return rc;
}

/* ---- failed logins ------------------------------------------------------- */

/* The address as 16 octets (IPv4 mapped; IPv6 cut to its /64). */
static bool addr_key(const struct sockaddr *peer, uint8_t out[16]) {
  memset(out, 0, 16);
  if (peer == NULL)
    return false;
  if (peer->sa_family == AF_INET) {
    const struct sockaddr_in *a = (const struct sockaddr_in *)peer;
    out[10] = out[11] = 0xff;
    memcpy(out + 12, &a->sin_addr, 4);
    return true;
  }
  if (peer->sa_family == AF_INET6) {
    const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)peer;
    memcpy(out, &a->sin6_addr, 8);
    return true;
  }
  return false;
}

static const sg_web_login_slot_t *
slot_of(const sg_web_login_limit_t *l, const uint8_t key[16], int64_t now_ms) {
  for (size_t i = 0; i < SG_WEB_LOGIN_SLOTS; i++) {
    const sg_web_login_slot_t *s = &l->slot[i];
    if (s->used && memcmp(s->addr, key, 16) == 0 &&
        now_ms - s->start_ms < SG_WEB_LOGIN_WINDOW_MS)
      return s;
  }
  return NULL;
}

unsigned sg_web_login_blocked(const sg_web_login_limit_t *l,
                              const struct sockaddr *peer, int64_t now_ms) {
  uint8_t key[16];
  if (l == NULL || !addr_key(peer, key))
    return 0;
  const sg_web_login_slot_t *s = slot_of(l, key, now_ms);
  if (s == NULL || s->fails < SG_WEB_LOGIN_FAILS)
    return 0;
  int64_t left = s->start_ms + SG_WEB_LOGIN_WINDOW_MS - now_ms;
  return (unsigned)((left + 999) / 1000);
}

void sg_web_login_failed(sg_web_login_limit_t *l, const struct sockaddr *peer,
                         int64_t now_ms) {
  uint8_t key[16];
  if (l == NULL || !addr_key(peer, key))
    return;
  sg_web_login_slot_t *s = (sg_web_login_slot_t *)slot_of(l, key, now_ms);
  if (s == NULL) {
    /* A slot of the same address whose window ended, a free one, or the
     * oldest. */
    s = &l->slot[0];
    for (size_t i = 0; i < SG_WEB_LOGIN_SLOTS; i++) {
      sg_web_login_slot_t *c = &l->slot[i];
      if (!c->used || memcmp(c->addr, key, 16) == 0) {
        s = c;
        break;
      }
      if (c->start_ms < s->start_ms)
        s = c;
    }
    memcpy(s->addr, key, 16);
    s->used = true;
    s->start_ms = now_ms;
    s->fails = 0;
  }
  s->fails++;
}
