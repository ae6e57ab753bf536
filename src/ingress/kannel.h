/* kannel.h - Kannel's sendsms interface on smsgate's HTTP server, so that
 * applications written for Kannel's smsbox move over as they are
 * (docs/kannel.md has the mapping and what is not supported).
 *
 * Routes added by sg_kannel_register:
 *   GET  /cgi-bin/sendsms?username=&password=&to=&text=...
 *   POST /cgi-bin/sendsms with
 *        - Content-Type application/x-www-form-urlencoded: the same
 *          arguments in the body (those of the query string count too);
 *        - Content-Type text/plain or application/octet-stream: the body is
 *          the text (octet-stream: 8-bit data) and the arguments come in
 *          X-Kannel-Username, X-Kannel-Password, X-Kannel-To, X-Kannel-From,
 *          X-Kannel-Coding, X-Kannel-DLR-Mask, X-Kannel-DLR-URL, ...
 * Arguments: username (or user), password (or pass), to (numbers separated
 * by spaces), text, from, coding (0 7-bit, 1 8-bit, 2 UCS-2), charset,
 * udh, mclass, validity and deferred (minutes), dlr-mask, dlr-url, smsc,
 * priority (0..3), account.
 *
 * Answers are Kannel's: Content-Type text/html and one line,
 *   202 "0: Accepted for delivery"      every recipient stored
 *   202 "3: Queued for later delivery"  stored, to be sent after `deferred`
 *   403 "Authorization failed for sendsms"
 *   400 "Missing receiver number, rejected", "... field misformed,
 *       rejected" and the other field errors of Kannel's smsbox
 *   503 "Temporal failure, try again later."  (busy, store failing)
 * and, as everywhere, the 202 leaves only after the store committed.
 *
 * This module must never write to the store or reach a connector: it
 * hands every request to sg_engine_submit().
 */
#ifndef SG_INGRESS_KANNEL_H
#define SG_INGRESS_KANNEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "engine/engine.h"
#include "ingress/http_server.h"

/* ---- the pure part: reading a request (kannel_parse.c) ------------------ */

#define SG_KANNEL_UNDEF (-1) /* an integer argument that was not given */
#define SG_KANNEL_ARGS_MAX 64
#define SG_KANNEL_ACCOUNT_MAX 64 /* octets, as Kannel's ACCOUNT_MAX_LEN */

/* One argument as received; value[0..len) may hold NUL octets (a POST
 * body). */
typedef struct sg_kannel_arg {
  const char *name;
  const char *value;
  size_t len;
} sg_kannel_arg_t;

/* The arguments of a sendsms, each the first one given (NULL or
 * SG_KANNEL_UNDEF when absent). Points into the sg_kannel_arg_t values. */
typedef struct sg_kannel_req {
  const char *username, *password;
  const char *to;
  const uint8_t *text;
  size_t text_len;
  const char *from, *charset, *smsc, *account, *dlr_url;
  const char *udh;
  size_t udh_len;
  int coding, mclass, validity, deferred, dlr_mask, priority;
} sg_kannel_req_t;

/* An answer: the HTTP status and Kannel's line (static). */
typedef struct sg_kannel_answer {
  unsigned http;
  const char *text;
} sg_kannel_answer_t;

/* Fills *out from the arguments (names compared exactly, as Kannel does;
 * integers read like sscanf("%d"): leading digits, else undefined). */
void sg_kannel_req_read(const sg_kannel_arg_t *args, size_t n,
                        sg_kannel_req_t *out);

/* The checks Kannel's smsbox makes once the user is authorised, in its
 * order: the receiver, the UDH, account,
 * dlr-url, dlr-mask, mclass, coding, validity, deferred, priority. Returns
 * 0, or SG_EINVAL with *err set (400 and Kannel's line). `post_headers`
 * selects the wording of a POST with X-Kannel headers. */
int sg_kannel_req_check(const sg_kannel_req_t *r, bool post_headers,
                        sg_kannel_answer_t *err);

/* The text of a checked request as UTF-8 for the engine: coding 0 (or
 * none) reads it in `charset` (default UTF-8), coding 2 in `charset`
 * (default UTF-16BE, Kannel's UCS-2). Charsets: UTF-8, ISO-8859-1 (also
 * latin1), UTF-16BE (also UCS-2, UTF-16). Writes out[0..cap) and *len.
 * Returns 0, SG_EILSEQ (not valid in that charset), SG_ENOTSUP (another
 * charset), SG_ENOSPC. Coding 1 (8-bit) is not text: the caller sends the
 * octets as they are. */
int sg_kannel_text_utf8(const sg_kannel_req_t *r, uint8_t *out, size_t cap,
                        size_t *len);

/* Splits an application/x-www-form-urlencoded body into arguments: names
 * and values %-decoded ('+' is a space) into buf (at least 2 * len + 2
 * octets; each name and value NUL-terminated, the value's length in the
 * arg). Returns the number of
 * arguments, SG_EILSEQ for a malformed escape, SG_ERANGE for more than max
 * arguments. */
int sg_kannel_form_parse(const uint8_t *body, size_t len, char *buf,
                         sg_kannel_arg_t *args, size_t max);

/* Splits `to` at spaces (and tabs, CR, LF) into at most max pointers into
 * buf (a copy of `to`, at least strlen(to) + 1 octets). Returns the count
 * (0 for only spaces) or SG_ERANGE for more than max numbers. */
int sg_kannel_split_to(const char *to, char *buf, const char **out, size_t max);

/* ---- the HTTP side (kannel.c) ----------------------------------------- */

typedef struct sg_kannel sg_kannel_t;

/* Adds GET and POST /cgi-bin/sendsms to `srv`, served by `engine` (both
 * borrowed, as in sg_rest_register) on `loop`, whose thread pool checks
 * argon2id passwords (an account `password` written as "$argon2id$...",
 * from `smsgate hash-password`; a password that passed is remembered, so
 * only the first request with it waits). Returns 0 and sets *out,
 * SG_EINVAL, SG_ENOMEM, or the error of sg_http_server_route. */
int sg_kannel_register(uv_loop_t *loop, sg_http_server_t *srv,
                       sg_engine_t *engine, sg_kannel_t **out);

/* Frees the handle, after sg_http_server_free and after the engine's stop
 * completed (no request callback still due); a password check still
 * running on the pool keeps it until it ends (its request is answered 503).
 * NULL is a no-op. */
void sg_kannel_free(sg_kannel_t *k);

#endif
