/* parse.c - reads the JSON body of POST /v1/messages and
 * POST /v1/messages/preview into sg_rest_send_t, strictly: every field is
 * known, of its type and in its range, or the request is refused with an
 * error that names the field and says what was expected.
 *
 * Only syntax and ranges are checked here. What needs the account or the
 * phone-number rules (is the number valid, is the sender allowed, how many
 * parts does the text need) is the engine's decision, made once for every
 * ingress. This file must never do I/O, log, or read the clock.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>
#include <sodium.h>

#include "core/alloc.h"
#include "core/error.h"
#include "ingress/rest/parse.h"

static void set_err(sg_rest_err_t *err, unsigned http, const char *code,
                    const char *field, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

/* Copies UTF-8 src into dst[0..cap) with a NUL, cut before a character
 * that would not fit whole. */
static void copy_utf8(char *dst, size_t cap, const char *src) {
  size_t n = strlen(src);
  if (n >= cap) {
    n = cap - 1;
    while (n > 0 && ((unsigned char)src[n] & 0xC0) == 0x80)
      n--;
  }
  memcpy(dst, src, n);
  dst[n] = '\0';
}

static void set_err(sg_rest_err_t *err, unsigned http, const char *code,
                    const char *field, const char *fmt, ...) {
  va_list ap;
  err->http = http;
  err->code = code;
  copy_utf8(err->field, sizeof(err->field), field != NULL ? field : "");
  va_start(ap, fmt);
  vsnprintf(err->message, sizeof(err->message), fmt, ap);
  va_end(ap);
}

/* ---- one reader per field ------------------------------------------------ */

typedef int (*field_fn)(json_t *v, sg_rest_send_t *out, int64_t now_ms,
                        sg_rest_err_t *err);

/* A string of 0..max octets (min_len 1: not empty). */
static int read_string(json_t *v, const char *name, size_t min_len, size_t max,
                       const char **s, size_t *len, sg_rest_err_t *err) {
  if (!json_is_string(v)) {
    set_err(err, 422, "invalid_type", name, "'%s' must be a string", name);
    return SG_EINVAL;
  }
  size_t n = json_string_length(v);
  if (n < min_len || n > max) {
    set_err(err, 422, "invalid_value", name,
            n < min_len ? "'%s' must not be empty"
                        : "'%s' is longer than %zu octets",
            name, max);
    return SG_EINVAL;
  }
  *s = json_string_value(v);
  if (len != NULL)
    *len = n;
  return 0;
}

static int read_bool(json_t *v, const char *name, bool *out,
                     sg_rest_err_t *err) {
  if (!json_is_boolean(v)) {
    set_err(err, 422, "invalid_type", name, "'%s' must be true or false", name);
    return SG_EINVAL;
  }
  *out = json_is_true(v);
  return 0;
}

/* One recipient, array element i (or the single string when i < 0). */
static int read_recipient(json_t *v, long i, const char **out,
                          sg_rest_err_t *err) {
  char field[32];
  if (i < 0)
    snprintf(field, sizeof(field), "to");
  else
    snprintf(field, sizeof(field), "to[%ld]", i);
  if (!json_is_string(v) || json_string_length(v) == 0 ||
      json_string_length(v) > SG_REST_RECIPIENT_MAX) {
    set_err(err, 422, json_is_string(v) ? "invalid_value" : "invalid_type",
            field, "'%s' must be a phone number: a string of 1 to %d octets",
            field, SG_REST_RECIPIENT_MAX);
    return SG_EINVAL;
  }
  *out = json_string_value(v);
  return 0;
}

static int f_to(json_t *v, sg_rest_send_t *out, int64_t now_ms,
                sg_rest_err_t *err) {
  (void)now_ms;
  size_t n = json_is_array(v) ? json_array_size(v) : 1;
  if (!json_is_array(v) && !json_is_string(v)) {
    set_err(err, 422, "invalid_type", "to",
            "'to' must be a phone number or an array of them");
    return SG_EINVAL;
  }
  if (n == 0 || n > SG_REST_MAX_RECIPIENTS) {
    set_err(err, 422, "invalid_value", "to",
            "'to' must hold 1 to %d recipients, not %zu",
            SG_REST_MAX_RECIPIENTS, n);
    return SG_EINVAL;
  }
  out->to = sg_calloc(n, sizeof(*out->to));
  if (out->to == NULL)
    return SG_ENOMEM;
  out->n_to = n;
  if (!json_is_array(v))
    return read_recipient(v, -1, &out->to[0], err);
  for (size_t i = 0; i < n; i++)
    if (read_recipient(json_array_get(v, i), (long)i, &out->to[i], err) != 0)
      return SG_EINVAL;
  return 0;
}

static int f_from(json_t *v, sg_rest_send_t *out, int64_t now_ms,
                  sg_rest_err_t *err) {
  (void)now_ms;
  return read_string(v, "from", 0, SG_REST_SENDER_MAX, &out->from, NULL, err);
}

static int f_text(json_t *v, sg_rest_send_t *out, int64_t now_ms,
                  sg_rest_err_t *err) {
  (void)now_ms;
  return read_string(v, "text", 1, SIZE_MAX, &out->text, &out->text_len, err);
}

static int f_encoding(json_t *v, sg_rest_send_t *out, int64_t now_ms,
                      sg_rest_err_t *err) {
  (void)now_ms;
  if (!json_is_string(v) ||
      sg_encoding_parse(json_string_value(v), &out->encoding) != 0 ||
      out->encoding == SG_ENC_8BIT) {
    set_err(err, 422, json_is_string(v) ? "invalid_value" : "invalid_type",
            "encoding", "'encoding' must be \"auto\", \"gsm7\" or \"ucs2\"");
    return SG_EINVAL;
  }
  return 0;
}

static int f_national(json_t *v, sg_rest_send_t *out, int64_t now_ms,
                      sg_rest_err_t *err) {
  (void)now_ms;
  return read_bool(v, "national", &out->national, err);
}

static int f_smart(json_t *v, sg_rest_send_t *out, int64_t now_ms,
                   sg_rest_err_t *err) {
  (void)now_ms;
  return read_bool(v, "smart", &out->smart, err);
}

static int f_dlr(json_t *v, sg_rest_send_t *out, int64_t now_ms,
                 sg_rest_err_t *err) {
  (void)now_ms;
  return read_bool(v, "dlr", &out->dlr, err);
}

/* http:// or https://, then a host (not empty), and no white space or
 * control characters anywhere. */
static bool url_ok(const char *s) {
  size_t skip = strncasecmp(s, "http://", 7) == 0    ? 7
                : strncasecmp(s, "https://", 8) == 0 ? 8
                                                     : 0;
  if (skip == 0 || s[skip] == '\0' || strchr("/?#:@", s[skip]) != NULL)
    return false;
  for (const unsigned char *p = (const unsigned char *)s; *p != '\0'; p++)
    if (*p <= 0x20 || *p == 0x7F)
      return false;
  return true;
}

static int f_callback_url(json_t *v, sg_rest_send_t *out, int64_t now_ms,
                          sg_rest_err_t *err) {
  (void)now_ms;
  if (read_string(v, "callback_url", 1, SG_REST_URL_MAX, &out->callback_url,
                  NULL, err) != 0)
    return SG_EINVAL;
  if (!url_ok(out->callback_url)) {
    set_err(err, 422, "invalid_value", "callback_url",
            "'callback_url' must be an http:// or https:// URL with a host");
    return SG_EINVAL;
  }
  return 0;
}

static int f_send_at(json_t *v, sg_rest_send_t *out, int64_t now_ms,
                     sg_rest_err_t *err) {
  if (!json_is_string(v) ||
      sg_rest_parse_time(json_string_value(v), json_string_length(v),
                         &out->send_at_ms) != 0) {
    set_err(err, 422, json_is_string(v) ? "invalid_value" : "invalid_type",
            "send_at",
            "'send_at' must be an RFC 3339 time such as "
            "\"2025-01-31T12:00:00Z\" or \"2025-01-31T15:00:00+03:00\"");
    return SG_EINVAL;
  }
  if (out->send_at_ms - now_ms > SG_REST_SEND_AT_MAX_MS) {
    set_err(err, 422, "invalid_value", "send_at",
            "'send_at' is more than 366 days ahead");
    return SG_EINVAL;
  }
  return 0;
}

static int f_validity(json_t *v, sg_rest_send_t *out, int64_t now_ms,
                      sg_rest_err_t *err) {
  (void)now_ms;
  int64_t ms = -1;
  if (json_is_integer(v) && json_integer_value(v) > 0 &&
      json_integer_value(v) <= SG_REST_VALIDITY_MAX_S)
    ms = (int64_t)json_integer_value(v) * 1000;
  else if (json_is_string(v) &&
           sg_rest_parse_duration(json_string_value(v), json_string_length(v),
                                  &ms) != 0)
    ms = -1;
  if (ms < 1000 || ms > SG_REST_VALIDITY_MAX_S * 1000) {
    set_err(err, 422,
            json_is_integer(v) || json_is_string(v) ? "invalid_value"
                                                    : "invalid_type",
            "validity",
            "'validity' must be whole seconds from 1 to %lld, or a duration "
            "such as \"90s\", \"2h\" or \"1h30m\" within that range",
            (long long)SG_REST_VALIDITY_MAX_S);
    return SG_EINVAL;
  }
  out->validity_ms = ms;
  return 0;
}

static int f_client_ref(json_t *v, sg_rest_send_t *out, int64_t now_ms,
                        sg_rest_err_t *err) {
  (void)now_ms;
  return read_string(v, "client_ref", 0, SG_REST_CLIENT_REF_MAX,
                     &out->client_ref, NULL, err);
}

static int f_priority(json_t *v, sg_rest_send_t *out, int64_t now_ms,
                      sg_rest_err_t *err) {
  (void)now_ms;
  if (!json_is_integer(v) || json_integer_value(v) < 0 ||
      json_integer_value(v) > SG_REST_PRIORITY_MAX) {
    set_err(err, 422, json_is_integer(v) ? "invalid_value" : "invalid_type",
            "priority", "'priority' must be an integer from 0 to %d",
            SG_REST_PRIORITY_MAX);
    return SG_EINVAL;
  }
  out->priority = (uint8_t)json_integer_value(v);
  return 0;
}

static const struct {
  const char *name;
  field_fn fn;
} fields[] = {
    {"to", f_to},
    {"from", f_from},
    {"text", f_text},
    {"encoding", f_encoding},
    {"national", f_national},
    {"smart", f_smart},
    {"callback_url", f_callback_url},
    {"send_at", f_send_at},
    {"validity", f_validity},
    {"client_ref", f_client_ref},
    {"priority", f_priority},
    {"dlr", f_dlr},
};

#define N_FIELDS (sizeof(fields) / sizeof(fields[0]))
#define FIELD_LIST                                                             \
  "to, from, text, encoding, national, smart, callback_url, send_at, "         \
  "validity, client_ref, priority, dlr"

/* ---- the body ------------------------------------------------------------ */

/* Set when an allocation made for jansson failed on this thread: jansson
 * reports some failed allocations as syntax errors, and a valid body must
 * not be answered 400 because memory ran short. */
static _Thread_local bool json_alloc_failed;

/* A send body's tree (about sixteen small allocations: the object, its
 * hash table, a pair and a string for each field, the lexer's buffer) is
 * built in one block per thread when the block is free, and given back
 * whole by sg_rest_send_free: the tree lives only while one request is
 * read, so a malloc and a free of each node is work for nothing. What does
 * not fit goes to sg_malloc as before. A free of a node inside the block
 * does nothing. Sanitizer builds use no block, so that ASan still sees
 * each node. */
#if defined(__SANITIZE_ADDRESS__)
#define JSON_BLOCK 0u
#else
#define JSON_BLOCK 4096u
#endif

typedef struct json_block {
  bool busy;    /* a parsed body's tree is in it (sg_rest_send_t.block) */
  bool filling; /* jansson's allocations go to it (inside json_loadb) */
  size_t used;
  _Alignas(max_align_t) unsigned char mem[JSON_BLOCK > 0 ? JSON_BLOCK : 1];
} json_block_t;

static _Thread_local json_block_t json_block;

static bool in_block(const void *p) {
  const unsigned char *b = json_block.mem;
  return JSON_BLOCK > 0 && (const unsigned char *)p >= b &&
         (const unsigned char *)p < b + JSON_BLOCK;
}

static void *json_malloc(size_t size) {
  json_block_t *jb = &json_block;
  if (jb->filling) {
    size_t n = (size + (_Alignof(max_align_t) - 1)) &
               ~(size_t)(_Alignof(max_align_t) - 1);
    if (n >= size && n <= JSON_BLOCK - jb->used) {
      void *p = jb->mem + jb->used;
      jb->used += n;
      return p;
    }
  }
  void *p = sg_malloc(size);
  if (p == NULL) {
    json_alloc_failed = true;
    /* jansson's lexer drops a byte it could not save and goes on; it must
     * not then find room in the block for a string it did not save whole:
     * after a failure, every allocation is the allocator's, as before. */
    jb->filling = false;
  }
  return p;
}

static void json_free(void *p) {
  if (!in_block(p))
    sg_free(p);
}

void sg_rest_json_init(void) {
  json_set_alloc_funcs(json_malloc, json_free);
}

static int load_object(const uint8_t *body, size_t len, json_t **root,
                       bool *block, sg_rest_err_t *err) {
  json_error_t jerr;
  if (len == 0) {
    set_err(err, 400, "invalid_json", NULL,
            "the request body is empty: send a JSON object");
    return SG_EINVAL;
  }
  json_alloc_failed = false;
  json_block_t *jb = &json_block;
  bool use_block = JSON_BLOCK > 0 && !jb->busy;
  if (use_block) {
    jb->filling = true;
    jb->used = 0;
  }
  *root = json_loadb((const char *)body, len,
                     JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &jerr);
  jb->filling = false;
  /* The block is the tree's until sg_rest_send_free, if the tree is in it. */
  *block = use_block && *root != NULL && jb->used > 0;
  jb->busy = *block;
  if (*root == NULL) {
    if (json_alloc_failed || json_error_code(&jerr) == json_error_out_of_memory)
      return SG_ENOMEM;
    /* jansson quotes the input near the error, which may be any bytes:
     * keep printable ASCII so that the error body is valid JSON. */
    for (char *p = jerr.text; *p != '\0'; p++)
      if ((unsigned char)*p < 0x20 || (unsigned char)*p > 0x7E)
        *p = '?';
    set_err(err, 400, "invalid_json", NULL,
            "the body is not valid JSON: %s (line %d, column %d)", jerr.text,
            jerr.line, jerr.column);
    return SG_EINVAL;
  }
  if (!json_is_object(*root)) {
    set_err(err, 400, "invalid_json", NULL, "the body must be a JSON object");
    return SG_EINVAL;
  }
  return 0;
}

static int read_fields(json_t *root, sg_rest_send_t *out, int64_t now_ms,
                       sg_rest_err_t *err) {
  const char *key;
  json_t *v;
  json_object_foreach(root, key, v) {
    size_t f = 0;
    while (f < N_FIELDS && strcmp(fields[f].name, key) != 0)
      f++;
    if (f == N_FIELDS) {
      char shown[40];
      copy_utf8(shown, sizeof(shown), key);
      set_err(err, 422, "unknown_field", shown,
              "unknown field '%s'; the fields are " FIELD_LIST, shown);
      return SG_EINVAL;
    }
    if (json_is_null(v))
      continue;
    int rc = fields[f].fn(v, out, now_ms, err);
    if (rc != 0)
      return rc;
  }
  return 0;
}

static int check_required(const sg_rest_send_t *out, sg_rest_send_kind_t kind,
                          sg_rest_err_t *err) {
  if (kind == SG_REST_SEND && out->n_to == 0) {
    set_err(err, 422, "missing_field", "to",
            "'to' is required: a phone number or an array of them");
    return SG_EINVAL;
  }
  if (out->text == NULL) {
    set_err(err, 422, "missing_field", "text", "'text' is required");
    return SG_EINVAL;
  }
  return 0;
}

int sg_rest_send_hash(sg_rest_send_t *req) {
  if (req == NULL || req->root == NULL)
    return SG_EINVAL;
  char *canon = json_dumps(req->root, JSON_COMPACT | JSON_SORT_KEYS);
  if (canon == NULL)
    return SG_ENOMEM;
  crypto_hash_sha256(req->hash, (const unsigned char *)canon, strlen(canon));
  sg_free(canon);
  return 0;
}

int sg_rest_parse_send(const uint8_t *body, size_t len,
                       sg_rest_send_kind_t kind, int64_t now_ms,
                       sg_rest_send_t *out, sg_rest_err_t *err) {
  json_t *root = NULL;
  memset(out, 0, sizeof(*out));
  out->dlr = true;
  bool block = false;
  int rc = load_object(body, len, &root, &block, err);
  out->block = block;
  if (rc == 0) {
    out->root = root;
    rc = read_fields(root, out, now_ms, err);
  }
  if (rc == 0)
    rc = check_required(out, kind, err);
  if (rc != 0) {
    out->root = root; /* sg_rest_send_free frees it, and the block */
    sg_rest_send_free(out);
  }
  return rc;
}

void sg_rest_send_free(sg_rest_send_t *req) {
  if (req == NULL)
    return;
  json_decref((json_t *)req->root);
  if (req->block)
    json_block.busy = false;
  sg_free((void *)req->to);
  memset(req, 0, sizeof(*req));
}
