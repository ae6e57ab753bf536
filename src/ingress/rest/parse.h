/* parse.h - reading the requests of the REST API v1: the JSON body of
 * POST /v1/messages (and /v1/messages/preview), the query of
 * GET /v1/messages, and the small syntaxes they use (RFC 3339 times,
 * durations, the bearer token, idempotency keys, E.164 numbers).
 *
 * Everything here is pure: no I/O, no logging, no clock (the caller passes
 * "now"). sg_rest_parse_send allocates (jansson, through core/alloc.h once
 * sg_rest_json_init was called) and hands the memory to the caller in
 * sg_rest_send_t; the other functions allocate nothing.
 *
 * A request that is refused is described by sg_rest_err_t, ready to become
 * the JSON error body {"error": {"code", "message", "field"}} with its HTTP
 * status: 400 when the body is not JSON at all, 422 when it is JSON but a
 * field is missing, unknown, of the wrong type or out of range. `field`
 * names the field as the client wrote it ("text", "to[3]"), or is empty
 * when the error is about the whole body.
 */
#ifndef SG_INGRESS_REST_PARSE_H
#define SG_INGRESS_REST_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/id.h"
#include "core/phone.h"
#include "core/segment.h"
#include "store/store.h"

/* Bounds of a send request (beyond them: 422). */
#define SG_REST_MAX_RECIPIENTS 10000
#define SG_REST_RECIPIENT_MAX 64   /* octets of one recipient as written */
#define SG_REST_SENDER_MAX 32      /* octets of `from` as written */
#define SG_REST_CLIENT_REF_MAX 128 /* octets */
#define SG_REST_URL_MAX 2048       /* octets of callback_url */
#define SG_REST_IDEM_KEY_MAX 255   /* octets of an Idempotency-Key */
#define SG_REST_PRIORITY_MAX 3
#define SG_REST_VALIDITY_MAX_S (365LL * 86400)        /* one year */
#define SG_REST_SEND_AT_MAX_MS (366LL * 86400 * 1000) /* ahead of now */
#define SG_REST_HASH_BYTES 32

typedef struct sg_rest_err {
  unsigned http;     /* 400 or 422 */
  const char *code;  /* "invalid_json", "missing_field", "unknown_field",
                        "invalid_type", "invalid_value" (static) */
  char field[48];    /* "" when about the whole body */
  char message[256]; /* an English sentence */
} sg_rest_err_t;

/* A parsed send request. The strings point into `root` (the parsed JSON),
 * which the struct owns: they live until sg_rest_send_free. */
typedef struct sg_rest_send {
  void *root;      /* json_t *, owned */
  bool block;      /* the tree is in this thread's parse block (parse.c) */
  const char **to; /* n_to recipients as written, owned array */
  size_t n_to;
  const char *from; /* NULL: not given */
  const char *text; /* NULL only for a preview without text */
  size_t text_len;
  sg_encoding_t encoding; /* AUTO unless given */
  bool national;
  bool smart;
  const char *callback_url; /* NULL: not given */
  int64_t send_at_ms;       /* Unix ms; 0: not given */
  int64_t validity_ms;      /* a duration; 0: not given */
  const char *client_ref;   /* NULL: not given */
  uint8_t priority;         /* 0 unless given */
  bool dlr;                 /* true unless "dlr": false */
  /* SHA-256 of the request's canonical JSON (keys sorted, no white
   * space): two bodies that say the same thing hash the same, so an
   * idempotent retry that re-serialises the body still matches. Zero
   * until sg_rest_send_hash fills it. */
  uint8_t hash[SG_REST_HASH_BYTES];
} sg_rest_send_t;

/* Which body is being read: a send needs `to` and `text`; a preview needs
 * only `text` (recipients, when present, are checked but not used). */
typedef enum sg_rest_send_kind {
  SG_REST_SEND = 0,
  SG_REST_PREVIEW = 1
} sg_rest_send_kind_t;

/* Makes jansson allocate through core/alloc.h (sg_malloc, sg_free) and
 * lets sg_rest_parse_send tell a failed allocation (SG_ENOMEM) from a
 * syntax error, which jansson does not always do. Changes jansson's global
 * allocator: call once at start-up, before any JSON value exists.
 * sg_rest_register calls it. */
void sg_rest_json_init(void);

/* Parses and checks the JSON body body[0..len) of a send request.
 * The fields (any other is refused, naming it):
 *   to            string, or array of 1..10,000 strings (required for a
 *                 send); each non-empty, at most 64 octets
 *   from          string, at most 32 octets
 *   text          string, not empty (required)
 *   encoding      "auto" | "gsm7" | "ucs2"
 *   national      boolean
 *   smart         boolean
 *   callback_url  an http:// or https:// URL with a host, at most 2,048
 *                 octets
 *   send_at       RFC 3339 time, at most 366 days after now_ms
 *   validity      whole seconds 1..31,536,000 as an integer, or a duration
 *                 string such as "90s", "2h", "1h30m", "1d"
 *   client_ref    string, at most 128 octets
 *   priority      integer 0..3
 *   dlr           boolean (default true: ask for delivery receipts)
 * null stands for "not given" for every optional field. Duplicate keys are
 * refused (400), as is a body that is not one JSON object.
 * Returns 0 with *out filled (free it with sg_rest_send_free), SG_EINVAL
 * with *err filled and *out empty, or SG_ENOMEM. */
int sg_rest_parse_send(const uint8_t *body, size_t len,
                       sg_rest_send_kind_t kind, int64_t now_ms,
                       sg_rest_send_t *out, sg_rest_err_t *err);

/* Fills req->hash from the body sg_rest_parse_send parsed into *req. Only
 * a send with an Idempotency-Key needs it (serialising and hashing the
 * body was an eighth of the loop's instructions per POST), so parsing
 * does not do it. Returns 0, SG_EINVAL (nothing parsed) or SG_ENOMEM. */
int sg_rest_send_hash(sg_rest_send_t *req);

/* Releases what sg_rest_parse_send gave *req and empties it; an empty or
 * zeroed struct is a no-op. */
void sg_rest_send_free(sg_rest_send_t *req);

/* ---- GET /v1/messages query ---------------------------------------------- */

/* The filters of a list request. Strings point into the caller's query
 * values or into this struct. */
typedef struct sg_rest_list_query {
  sg_store_filter_t filter;       /* account_id left 0 for the caller */
  char to[SG_PHONE_E164_MAX + 1]; /* the recipient filter, E.164 */
  char batch_id[SG_ID_LEN + 1];
  char cursor[SG_ID_LEN + 1];
} sg_rest_list_query_t;

/* Reads the query arguments names[i]=values[i] (i < n, as decoded) of
 * GET /v1/messages:
 *   status   a status name ("queued", "delivered", ...)
 *   to       an E.164 number ("+79001234567"; a '+' that arrived as a
 *            space, or no '+' at all, is taken as '+')
 *   batch_id a batch id
 *   since    RFC 3339: created at or after
 *   until    RFC 3339: created before
 *   limit    1..1000 (default 50)
 *   cursor   next_cursor of the previous page
 * An argument given twice, an unknown one or a bad value is refused (422
 * naming it). Returns 0 with *out filled, or SG_EINVAL with *err. */
int sg_rest_parse_list_query(const char *const *names,
                             const char *const *values, size_t n,
                             sg_rest_list_query_t *out, sg_rest_err_t *err);

/* ---- syntaxes ------------------------------------------------------------ */

/* An RFC 3339 date-time (section 5.6): "2025-01-31T12:00:00Z",
 * "2025-01-31t12:00:00.5+03:00"; fractions beyond milliseconds are cut.
 * Years 1970..9999. s[0..len). Returns 0 with *ms (Unix ms) or SG_EINVAL. */
int sg_rest_parse_time(const char *s, size_t len, int64_t *ms);

/* Writes Unix ms as RFC 3339 UTC with milliseconds,
 * "2025-01-31T12:00:00.123Z" (24 characters and a NUL). Returns 0, or
 * SG_ERANGE for a time before 1970 or after 9999. */
#define SG_REST_TIME_BUF 25
int sg_rest_format_time(int64_t ms, char out[SG_REST_TIME_BUF]);

/* A duration: one or more <digits><unit> with units d, h, m, s, ms
 * ("90s", "2h", "1h30m", "1500ms"), each unit at most once and in that
 * order. Returns 0 with *ms, SG_EINVAL (syntax, or bare digits without a
 * unit), SG_ERANGE (beyond 2^53 ms). */
int sg_rest_parse_duration(const char *s, size_t len, int64_t *ms);

/* Finds the key of an "Authorization: Bearer <key>" header value (scheme
 * case-insensitive, spaces around the key ignored). Returns 0 with
 * key/len pointing into `value`, SG_ENOENT for NULL or an empty value,
 * SG_EINVAL for another scheme or an empty key. */
int sg_rest_parse_bearer(const char *value, const char **key, size_t *len);

/* Whether an Idempotency-Key header value is acceptable: 1..255 octets of
 * printable ASCII (0x20..0x7E). Returns 0 or SG_EINVAL. */
int sg_rest_check_idem_key(const char *value);

/* Whether s is E.164 as the store keeps it: '+' and 1..15 digits, the
 * first not 0. */
bool sg_rest_is_e164(const char *s);

#endif
