/* submit_json.c - the body of a submit's answer (202), written straight
 * into one buffer.
 *
 * Building it as a tree of jansson objects and dumping it cost about a
 * dozen allocations per message on the loop; this writes the same bytes as
 * json_dumps(JSON_COMPACT | JSON_ENSURE_ASCII) of that tree (keys in the
 * same order, every character above U+007F as \uXXXX, surrogate pairs
 * above U+FFFF) with one growing buffer. It must never write anything but
 * valid JSON: a string that is not valid UTF-8 fails the whole body.
 */
#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "core/error.h"
#include "engine/engine_int.h"

typedef struct jw {
  char *p;
  size_t len, cap;
  bool bad; /* stop writing: err says why */
  int err;  /* SG_ENOMEM, or SG_EINVAL (a NULL or invalid UTF-8 string) */
} jw_t;

static void fail(jw_t *w, int err) {
  if (!w->bad)
    w->err = err;
  w->bad = true;
}

static void put(jw_t *w, const char *s, size_t n) {
  if (w->bad)
    return;
  if (w->len + n + 1 > w->cap) {
    char *p = sg_grow(w->p, &w->cap, w->len + n + 1, 256, 1);
    if (p == NULL) {
      fail(w, SG_ENOMEM);
      return;
    }
    w->p = p;
  }
  memcpy(w->p + w->len, s, n);
  w->len += n;
  w->p[w->len] = '\0';
}

static void put_str(jw_t *w, const char *s) {
  put(w, s, strlen(s));
}

/* The code point at s[0..n) (n > 0) and its length in *used, or -1 when
 * the sequence is not valid UTF-8 (RFC 3629: no overlong forms, no
 * surrogates, nothing above U+10FFFF). */
static long utf8_next(const unsigned char *s, size_t n, size_t *used) {
  unsigned c = s[0];
  size_t k = c < 0x80             ? 1
             : (c & 0xE0) == 0xC0 ? 2
             : (c & 0xF0) == 0xE0 ? 3
             : (c & 0xF8) == 0xF0 ? 4
                                  : 0;
  if (k == 0 || k > n)
    return -1;
  unsigned long cp = k == 1 ? c : c & (0x7Fu >> k);
  for (size_t i = 1; i < k; i++) {
    if ((s[i] & 0xC0) != 0x80)
      return -1;
    cp = (cp << 6) | (s[i] & 0x3Fu);
  }
  static const unsigned long min[5] = {0, 0, 0x80, 0x800, 0x10000};
  if (cp < min[k] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
    return -1;
  *used = k;
  return (long)cp;
}

/* A JSON string, escaped as jansson escapes with JSON_ENSURE_ASCII. */
static void put_json_str(jw_t *w, const char *s) {
  if (s == NULL) {
    fail(w, SG_EINVAL);
    return;
  }
  const unsigned char *u = (const unsigned char *)s;
  size_t n = strlen(s), i = 0;
  put(w, "\"", 1);
  while (i < n && !w->bad) {
    size_t run = i; /* characters that go as they are */
    while (run < n && u[run] >= 0x20 && u[run] < 0x80 && u[run] != '"' &&
           u[run] != '\\')
      run++;
    put(w, s + i, run - i);
    if ((i = run) >= n)
      break;
    size_t used = 1;
    long cp = utf8_next(u + i, n - i, &used);
    char esc[32];
    if (cp < 0) {
      fail(w, SG_EINVAL);
      break;
    }
    switch (cp) {
    case '"':
      put(w, "\\\"", 2);
      break;
    case '\\':
      put(w, "\\\\", 2);
      break;
    case '\b':
      put(w, "\\b", 2);
      break;
    case '\f':
      put(w, "\\f", 2);
      break;
    case '\n':
      put(w, "\\n", 2);
      break;
    case '\r':
      put(w, "\\r", 2);
      break;
    case '\t':
      put(w, "\\t", 2);
      break;
    default:
      if (cp > 0xFFFF) { /* a surrogate pair */
        unsigned v = (unsigned)(cp - 0x10000);
        snprintf(esc, sizeof esc, "\\u%04X\\u%04X", 0xD800u | (v >> 10),
                 0xDC00u | (v & 0x3FFu));
      } else {
        snprintf(esc, sizeof esc, "\\u%04X", (unsigned)cp);
      }
      put_str(w, esc);
    }
    i += used;
  }
  put(w, "\"", 1);
}

/* A key with its quotes, colon and the comma before it when there is one:
 * a literal of plain ASCII, which needs no escaping. */
#define PUT_KEY(w, lit) put((w), (lit), sizeof(lit) - 1)

/* A decimal number. */
static void put_uint(jw_t *w, unsigned v) {
  char d[16];
  size_t i = sizeof d;
  do
    d[--i] = (char)('0' + v % 10);
  while ((v /= 10) != 0);
  put(w, d + i, sizeof d - i);
}

/* A key (as PUT_KEY) and its value, a string. */
#define PUT_STR(w, lit, s) (PUT_KEY((w), (lit)), put_json_str((w), (s)))

static void put_item(jw_t *w, const sg_submit_item_t *it) {
  if (it->status == 0) {
    PUT_STR(w, "{\"id\":", it->id);
    PUT_STR(w, ",\"to\":", it->to);
    PUT_KEY(w, ",\"parts\":");
    put_uint(w, it->parts);
    PUT_STR(w, ",\"encoding\":", sg_encoding_name(it->encoding));
    PUT_STR(w, ",\"status\":", sg_store_status_name(it->msg_status));
  } else {
    PUT_STR(w, "{\"to\":", it->input);
    PUT_STR(w, ",\"input\":", it->input);
    PUT_STR(w, ",\"status\":\"rejected\",\"error\":{\"code\":", it->error_code);
    PUT_STR(w, ",\"message\":", it->reason);
    put(w, "}", 1);
  }
  put(w, "}", 1);
}

int sg__submit_json(const char *batch_id, const sg_submit_item_t *items,
                    size_t n, char **out, size_t *len) {
  jw_t w = {NULL, 0, 0, false, 0};
  PUT_KEY(&w, "{\"batch_id\":");
  put_json_str(&w, batch_id);
  put_str(&w, ",\"messages\":[");
  for (size_t i = 0; i < n && !w.bad; i++) {
    if (i > 0)
      put(&w, ",", 1);
    put_item(&w, &items[i]);
  }
  put(&w, "]}", 2);
  if (w.bad) {
    sg_free(w.p);
    return w.err;
  }
  *out = w.p;
  *len = w.len;
  return 0;
}
