/* store_payload.c - the JSON bodies of the webhooks the store queues (the
 * format is in store.h, "WEBHOOKS"), written by a small JSON writer into a
 * buffer the caller keeps and reuses, so that a status change costs no
 * allocation and no document tree.
 *
 * Every backend queues the same documents, so they are made here, once. The
 * output is compact JSON (no spaces), keys in the documented order; a string
 * is escaped as RFC 8259 section 7 asks ('"', '\\' and the control
 * characters; \b \f \n \r \t by name, the others as \u00XX), other
 * characters are written as they are (UTF-8). A string that is not valid
 * UTF-8 cannot be JSON text: an optional key with such a value is left out,
 * and an inbound text that is not UTF-8 goes out as payload_hex. It must
 * never do I/O or allocate but through the buffer.
 */
#include "store/store_int.h"

#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "core/error.h"
#include "core/utf8.h"

void sg__jbuf_free(sg__jbuf_t *b) {
  sg_free(b->p);
  memset(b, 0, sizeof *b);
}

/* Makes room for n more bytes; false (and b->oom) when it cannot. */
static bool reserve(sg__jbuf_t *b, size_t n) {
  if (b->oom)
    return false;
  if (b->cap - b->len >= n)
    return true;
  char *p = sg_grow(b->p, &b->cap, b->len + n, 256, 1);
  if (p == NULL) {
    b->oom = true;
    return false;
  }
  b->p = p;
  return true;
}

static void put(sg__jbuf_t *b, const char *s, size_t n) {
  if (reserve(b, n)) {
    memcpy(b->p + b->len, s, n);
    b->len += n;
  }
}

static void put_lit(sg__jbuf_t *b, const char *s) {
  put(b, s, strlen(s));
}

/* The escaped form of one byte of a string, or NULL when it stands as it
 * is; esc receives \u00XX forms. */
static const char *escape_of(uint8_t c, char esc[8]) {
  switch (c) {
  case '"':
    return "\\\"";
  case '\\':
    return "\\\\";
  case '\b':
    return "\\b";
  case '\f':
    return "\\f";
  case '\n':
    return "\\n";
  case '\r':
    return "\\r";
  case '\t':
    return "\\t";
  default:
    break;
  }
  if (c >= 0x20)
    return NULL;
  snprintf(esc, 8, "\\u%04X", c);
  return esc;
}

/* How many octets at the start of s[0..n) are ASCII that stands in a JSON
 * string as it is (not '"', '\\' or a control character). Most strings of
 * a payload (ids, statuses, times, URLs) are that from end to end and then
 * need neither the UTF-8 check nor the escaping pass; eight octets are
 * looked at a time. */
static size_t plain_ascii(const char *s, size_t n) {
  const uint64_t ones = 0x0101010101010101ULL, high = 0x8080808080808080ULL;
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    uint64_t x;
    memcpy(&x, s + i, 8);
    uint64_t q = x ^ (ones * '"'), bs = x ^ (ones * '\\');
    /* A high bit of any term: an octet >= 0x80, < 0x20, '"' or '\\'. */
    if ((x | (x - ones * 0x20) | ((q - ones) & ~q) | ((bs - ones) & ~bs)) &
        high)
      break;
  }
  while (i < n) {
    uint8_t c = (uint8_t)s[i];
    if (c < 0x20 || c >= 0x80 || c == '"' || c == '\\')
      break;
    i++;
  }
  return i;
}

/* A JSON string of s[0..n), which must be valid UTF-8; s[0..plain) needs
 * no escape (plain_ascii). */
static void put_string(sg__jbuf_t *b, const char *s, size_t n, size_t plain) {
  put(b, "\"", 1);
  size_t run = 0; /* start of the bytes not yet written */
  char esc[8];
  for (size_t i = plain; i < n; i++) {
    const char *e = escape_of((uint8_t)s[i], esc);
    if (e == NULL)
      continue;
    put(b, s + run, i - run);
    put_lit(b, e);
    run = i + 1;
  }
  put(b, s + run, n - run);
  put(b, "\"", 1);
}

static bool is_utf8(const char *s, size_t n) {
  return sg_utf8_count((const uint8_t *)s, n, NULL, NULL) == 0;
}

/* A key as the member functions take it: its quoted form with the colon,
 * and that form's length, made at compile time (a payload's keys were a
 * third of its calls of put and strlen). */
#define KEY(k) "\"" k "\":", sizeof("\"" k "\":") - 1

/* ,"key": (the comma unless it is the first member); key as KEY makes
 * it. */
static void put_key(sg__jbuf_t *b, const char *key, size_t n) {
  if (!reserve(b, n + 1))
    return;
  if (b->len > 1)
    b->p[b->len++] = ',';
  memcpy(b->p + b->len, key, n);
  b->len += n;
}

/* "key":"v" when v is set and valid UTF-8, else nothing. */
static void member_str(sg__jbuf_t *b, const char *key, size_t key_len,
                       const char *v) {
  if (v == NULL)
    return;
  size_t n = strlen(v);
  size_t plain = plain_ascii(v, n); /* an ASCII prefix is valid UTF-8 */
  if (plain < n && !is_utf8(v + plain, n - plain))
    return;
  put_key(b, key, key_len);
  if (plain < n) {
    put_string(b, v, n, plain);
    return;
  }
  if (!reserve(b, n + 2)) /* no escape: quotes and the octets */
    return;
  b->p[b->len++] = '"';
  memcpy(b->p + b->len, v, n);
  b->len += n;
  b->p[b->len++] = '"';
}

/* v in decimal, written from its end (not snprintf: a tenth of a
 * payload's cost). */
static void member_int(sg__jbuf_t *b, const char *key, size_t key_len,
                       long long v) {
  char num[24];
  char *p = num + sizeof num;
  unsigned long long u =
      v < 0 ? 0ULL - (unsigned long long)v : (unsigned long long)v;
  do {
    *--p = (char)('0' + u % 10);
    u /= 10;
  } while (u > 0);
  if (v < 0)
    *--p = '-';
  put_key(b, key, key_len);
  put(b, p, (size_t)(num + sizeof num - p));
}

static void begin(sg__jbuf_t *b) {
  b->len = 0;
  b->oom = false;
  put(b, "{", 1);
}

static int end(sg__jbuf_t *b) {
  put(b, "}", 1);
  return b->oom ? SG_ENOMEM : 0;
}

int sg__store_status_payload(sg__jbuf_t *b, const sg__status_event_t *e) {
  char ts[32];
  sg__store_rfc3339(e->time_ms, ts);
  begin(b);
  member_str(b, KEY("event"), "message.status");
  member_str(b, KEY("message_id"), e->message_id);
  member_str(b, KEY("batch_id"), e->batch_id);
  member_str(b, KEY("status"), sg_store_status_name(e->status));
  member_str(b, KEY("to"), e->to);
  member_str(b, KEY("from"), e->from);
  member_str(b, KEY("client_ref"), e->client_ref);
  if (e->part > 0)
    member_int(b, KEY("part"), e->part);
  if (e->error_code != 0)
    member_int(b, KEY("error_code"), e->error_code);
  member_str(b, KEY("detail"), e->detail);
  member_int(b, KEY("parts"), e->parts);
  member_str(b, KEY("timestamp"), ts);
  return end(b);
}

/* ---- a status change as a record ---------------------------------------
 *
 * The record is what sg__store_status_payload reads, in one flat run of
 * octets that can be copied to another thread: the numbers (little-endian
 * as the machine keeps them: the record never leaves the process), a bit
 * per string that is set, then each set string with its NUL. It keeps NULL
 * apart from "", so the payload written from it is the one written from
 * the event. */

enum { REC_FIXED = 8 + 4 + 4 + 4 + 1 + 1, REC_STRINGS = 6 };

static const char **rec_str(sg__status_event_t *e, int i) {
  const char **s[REC_STRINGS] = {&e->message_id, &e->batch_id,   &e->to,
                                 &e->from,       &e->client_ref, &e->detail};
  return s[i];
}

size_t sg__store_status_pack(const sg__status_event_t *e, uint8_t *out,
                             size_t cap) {
  sg__status_event_t c = *e;
  size_t len[REC_STRINGS], need = REC_FIXED;
  uint8_t set = 0;
  for (int i = 0; i < REC_STRINGS; i++) {
    const char *v = *rec_str(&c, i);
    len[i] = v != NULL ? strlen(v) + 1 : 0;
    set |= v != NULL ? (uint8_t)(1u << i) : 0;
    need += len[i];
  }
  if (out == NULL || cap < need)
    return need;
  uint32_t part = e->part, parts = e->parts;
  memcpy(out, &e->time_ms, 8);
  memcpy(out + 8, &e->error_code, 4);
  memcpy(out + 12, &part, 4);
  memcpy(out + 16, &parts, 4);
  out[20] = (uint8_t)e->status;
  out[21] = set;
  uint8_t *at = out + REC_FIXED;
  for (int i = 0; i < REC_STRINGS; i++) {
    if (len[i] > 0)
      memcpy(at, *rec_str(&c, i), len[i]);
    at += len[i];
  }
  return need;
}

int sg__store_status_unpack(const uint8_t *p, size_t n, sg__status_event_t *e) {
  if (p == NULL || n < REC_FIXED || p[20] >= SG_MSG_STATUS_COUNT ||
      p[21] >> REC_STRINGS != 0)
    return SG_EINVAL;
  uint32_t part, parts;
  memset(e, 0, sizeof *e);
  memcpy(&e->time_ms, p, 8);
  memcpy(&e->error_code, p + 8, 4);
  memcpy(&part, p + 12, 4);
  memcpy(&parts, p + 16, 4);
  e->part = part;
  e->parts = parts;
  e->status = (sg_msg_status_t)p[20];
  size_t at = REC_FIXED;
  for (int i = 0; i < REC_STRINGS; i++) {
    if (!(p[21] & (1u << i)))
      continue;
    const uint8_t *end = at < n ? memchr(p + at, '\0', n - at) : NULL;
    if (end == NULL)
      return SG_EINVAL;
    *rec_str(e, i) = (const char *)p + at;
    at = (size_t)(end - p) + 1;
  }
  return at == n ? 0 : SG_EINVAL;
}

int sg_store_webhook_payload(const void *event, size_t event_len, char **buf,
                             size_t *cap, size_t *len) {
  sg__status_event_t e;
  int rc = sg__store_status_unpack(event, event_len, &e);
  if (rc < 0)
    return rc;
  sg__jbuf_t b = {.p = *buf, .cap = *cap};
  rc = sg__store_status_payload(&b, &e);
  *buf = b.p; /* grown or not, it stays the caller's */
  *cap = b.cap;
  *len = rc == 0 ? b.len : 0;
  return rc;
}

/* "payload_hex":"..." in lower-case hex. */
static void member_hex(sg__jbuf_t *b, const uint8_t *p, size_t n) {
  static const char digits[] = "0123456789abcdef";
  put_key(b, KEY("payload_hex"));
  put(b, "\"", 1);
  if (reserve(b, 2 * n)) {
    for (size_t i = 0; i < n; i++) {
      b->p[b->len++] = digits[p[i] >> 4];
      b->p[b->len++] = digits[p[i] & 15];
    }
  }
  put(b, "\"", 1);
}

int sg__store_inbound_payload(sg__jbuf_t *b, const sg_store_inbound_t *in) {
  char ts[32];
  sg__store_rfc3339(in->received_ms, ts);
  begin(b);
  member_str(b, KEY("event"), "message.inbound");
  member_str(b, KEY("id"), in->id);
  member_str(b, KEY("from"), in->sender);
  member_str(b, KEY("to"), in->recipient);
  member_str(b, KEY("encoding"), sg_encoding_name(in->encoding));
  const char *text = (const char *)in->body;
  if (!in->binary && (in->body_len == 0 || text != NULL) &&
      is_utf8(text ? text : "", in->body_len)) {
    put_key(b, KEY("text"));
    put_string(b, text ? text : "", in->body_len, 0);
  } else {
    member_hex(b, in->body, in->body_len);
  }
  member_int(b, KEY("parts"), in->parts);
  if (in->incomplete) {
    put_key(b, KEY("incomplete"));
    put_lit(b, "true");
  }
  member_str(b, KEY("keyword"), in->keyword);
  member_str(b, KEY("connector"), in->connector);
  member_str(b, KEY("timestamp"), ts);
  return end(b);
}
