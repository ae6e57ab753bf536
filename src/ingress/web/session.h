/* session.h - the web page's sessions, their cookie, CSRF tokens and the
 * per-address limit of failed logins, as plain data with no I/O.
 *
 * A session is a random 256-bit token, sent to the browser once in the
 * cookie `sg_session` (base64url, 43 characters). The table keeps only the
 * token's BLAKE2b hash, so a copy of the table (or of the store document
 * it is saved as) lets nobody in. The CSRF token of a session is derived
 * from the session token itself (a BLAKE2b keyed by a fixed domain), so it
 * needs no storage, survives a restart with its session, and cannot be
 * computed from the stored hash. Everything here is loop-thread only and
 * allocates through core/alloc.h.
 */
#ifndef SG_INGRESS_WEB_SESSION_H
#define SG_INGRESS_WEB_SESSION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#define SG_WEB_COOKIE "sg_session"
#define SG_WEB_TOKEN_LEN 43    /* base64url of 32 octets, no padding */
#define SG_WEB_HASH_LEN 32     /* stored BLAKE2b of a token */
#define SG_WEB_ACCOUNT_MAX 128 /* octets of an account name, NUL included */
#define SG_WEB_SESSIONS_MAX 10000
#define SG_WEB_SESSION_TTL_MS (12 * 3600 * 1000LL)

typedef struct sg_web_session {
  uint8_t hash[SG_WEB_HASH_LEN];
  char account[SG_WEB_ACCOUNT_MAX];
  int64_t created_ms, expires_ms;
} sg_web_session_t;

typedef struct sg_web_sessions {
  sg_web_session_t *v;
  size_t n, cap;
} sg_web_sessions_t;

/* Frees the table's memory; the table is then empty and usable again. */
void sg_web_sessions_clear(sg_web_sessions_t *t);

/* Opens a session for `account` until now_ms + ttl_ms, dropping expired
 * sessions first and, when the table is full, the one that expires
 * soonest. Writes the new token (SG_WEB_TOKEN_LEN characters and a NUL)
 * into token. Returns 0, SG_EINVAL (NULL, an empty or over-long account,
 * ttl_ms <= 0), SG_ENOMEM. */
int sg_web_session_new(sg_web_sessions_t *t, const char *account,
                       int64_t now_ms, int64_t ttl_ms,
                       char token[SG_WEB_TOKEN_LEN + 1]);

/* The live session of a token (as the cookie carries it), or NULL: an
 * unknown token, one of the wrong length or alphabet, or an expired
 * session (which is removed). The pointer is valid until the table
 * changes. */
const sg_web_session_t *sg_web_session_find(sg_web_sessions_t *t,
                                            const char *token, int64_t now_ms);

/* Adds a copy of s (a session read back from the store) to the table.
 * Returns 0, SG_ENOMEM. */
int sg_web_session_add(sg_web_sessions_t *t, const sg_web_session_t *s);

/* Ends the session of a token. Returns 0, or SG_ENOENT when none. */
int sg_web_session_end(sg_web_sessions_t *t, const char *token);

/* Ends every session of an account (its password or key changed, or it
 * was removed). Returns how many ended. */
size_t sg_web_session_end_account(sg_web_sessions_t *t, const char *account);

/* Writes the CSRF token of a session token (SG_WEB_TOKEN_LEN characters
 * and a NUL). Returns 0, or SG_EINVAL for a malformed token. */
int sg_web_csrf_token(const char *token, char out[SG_WEB_TOKEN_LEN + 1]);

/* Whether `sent` (the X-CSRF-Token header; NULL when absent) is the CSRF
 * token of the session token. Constant time in the token's contents. */
bool sg_web_csrf_ok(const char *token, const char *sent);

/* Finds cookie `name` in a Cookie header (RFC 6265 section 5.4:
 * "a=1; b=2") and copies its value into out[0..cap). Returns 0, SG_ENOENT
 * (no header or no such cookie), SG_ENOSPC (the value does not fit). The
 * first cookie of that name wins. */
int sg_web_cookie_value(const char *header, const char *name, char *out,
                        size_t cap);

/* The table as a JSON document for the store:
 *   {"v": 1, "sessions": [{"hash": hex, "account", "created_ms",
 *    "expires_ms"}, ...]}
 * Sessions expired at now_ms are left out. Returns a NUL-terminated string
 * to free with sg_free, or NULL when out of memory. */
char *sg_web_sessions_dump(const sg_web_sessions_t *t, int64_t now_ms);

/* Replaces the table with the sessions of a document made by
 * sg_web_sessions_dump that are live at now_ms. Malformed entries are
 * skipped and counted in *skipped (may be NULL). Returns 0, SG_EPROTO (not
 * such a document: the table is left empty), SG_ENOMEM. */
int sg_web_sessions_load(sg_web_sessions_t *t, const char *doc, size_t len,
                         int64_t now_ms, size_t *skipped);

/* ---- failed logins per source address ----------------------------------
 * At most SG_WEB_LOGIN_FAILS failures per address within
 * SG_WEB_LOGIN_WINDOW_MS; beyond that logins from it are refused (429)
 * without looking at the credentials until the window ends. IPv6
 * addresses count by their /64, so one host cannot rotate through its
 * own prefix. A fixed table: when full, the oldest window is reused. */

#define SG_WEB_LOGIN_FAILS 10
#define SG_WEB_LOGIN_WINDOW_MS 60000
#define SG_WEB_LOGIN_SLOTS 1024

typedef struct sg_web_login_slot {
  uint8_t addr[16];
  int64_t start_ms;
  unsigned fails;
  bool used;
} sg_web_login_slot_t;

typedef struct sg_web_login_limit {
  sg_web_login_slot_t slot[SG_WEB_LOGIN_SLOTS];
} sg_web_login_limit_t;

/* 0 when a login from `peer` may be tried; else the seconds until it may
 * (>= 1). A NULL peer or another family than AF_INET/AF_INET6 is never
 * limited. */
unsigned sg_web_login_blocked(const sg_web_login_limit_t *l,
                              const struct sockaddr *peer, int64_t now_ms);

/* Counts a failed login from `peer`. */
void sg_web_login_failed(sg_web_login_limit_t *l, const struct sockaddr *peer,
                         int64_t now_ms);

#endif
