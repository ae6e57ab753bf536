/* sink_http.c - the pure parts of the webhook sink: the head of one HTTP/1.1
 * request (RFC 9112), the "status" of a webhook body, and the counts as
 * JSON.
 *
 * Only what the sink needs is read from a head: the method, the version,
 * Content-Length, Transfer-Encoding, Connection and X-Smsgate-Signature.
 * This file must never allocate, do I/O or keep state between calls.
 */
#include "sim/sink.h"

#include <stdio.h>
#include <string.h>

#include "core/error.h"

/* The end of the head (after "\r\n\r\n"), or 0 when not there yet. */
static size_t head_end(const uint8_t *buf, size_t len) {
  for (size_t i = 3; i < len; i++)
    if (buf[i] == '\n' && buf[i - 1] == '\r' && buf[i - 2] == '\n' &&
        buf[i - 3] == '\r')
      return i + 1;
  return 0;
}

static bool name_is(const uint8_t *p, size_t n, const char *name) {
  size_t k = strlen(name);
  if (n != k)
    return false;
  for (size_t i = 0; i < k; i++) {
    uint8_t c = p[i];
    if (c >= 'A' && c <= 'Z')
      c = (uint8_t)(c - 'A' + 'a');
    if (c != (uint8_t)name[i])
      return false;
  }
  return true;
}

/* tchar (RFC 9110 section 5.6.2) by table: a strchr per octet of every
 * field name was a quarter of the sink's parse of a head. */
static const bool tchar[256] = {
    ['!'] = 1, ['#'] = 1, ['$'] = 1, ['%'] = 1, ['&'] = 1, ['\''] = 1,
    ['*'] = 1, ['+'] = 1, ['-'] = 1, ['.'] = 1, ['^'] = 1, ['_'] = 1,
    ['`'] = 1, ['|'] = 1, ['~'] = 1, ['0'] = 1, ['1'] = 1, ['2'] = 1,
    ['3'] = 1, ['4'] = 1, ['5'] = 1, ['6'] = 1, ['7'] = 1, ['8'] = 1,
    ['9'] = 1, ['A'] = 1, ['B'] = 1, ['C'] = 1, ['D'] = 1, ['E'] = 1,
    ['F'] = 1, ['G'] = 1, ['H'] = 1, ['I'] = 1, ['J'] = 1, ['K'] = 1,
    ['L'] = 1, ['M'] = 1, ['N'] = 1, ['O'] = 1, ['P'] = 1, ['Q'] = 1,
    ['R'] = 1, ['S'] = 1, ['T'] = 1, ['U'] = 1, ['V'] = 1, ['W'] = 1,
    ['X'] = 1, ['Y'] = 1, ['Z'] = 1, ['a'] = 1, ['b'] = 1, ['c'] = 1,
    ['d'] = 1, ['e'] = 1, ['f'] = 1, ['g'] = 1, ['h'] = 1, ['i'] = 1,
    ['j'] = 1, ['k'] = 1, ['l'] = 1, ['m'] = 1, ['n'] = 1, ['o'] = 1,
    ['p'] = 1, ['q'] = 1, ['r'] = 1, ['s'] = 1, ['t'] = 1, ['u'] = 1,
    ['v'] = 1, ['w'] = 1, ['x'] = 1, ['y'] = 1, ['z'] = 1};

static bool is_tchar(uint8_t c) {
  return tchar[c];
}

/* "METHOD SP target SP HTTP/1.x" (RFC 9112 section 3). */
static int request_line(const uint8_t *p, size_t n, sg_sim_sink_head_t *out,
                        bool *http11) {
  size_t i = 0;
  while (i < n && is_tchar(p[i]))
    i++;
  if (i == 0 || i >= n || p[i] != ' ')
    return SG_EPROTO;
  if (i == 3 && memcmp(p, "GET", 3) == 0)
    out->method = SG_SIM_SINK_GET;
  else if (i == 4 && memcmp(p, "POST", 4) == 0)
    out->method = SG_SIM_SINK_POST;
  else
    out->method = SG_SIM_SINK_OTHER;
  size_t t = ++i;
  while (i < n && p[i] > ' ' && p[i] < 0x7f)
    i++;
  if (i == t || i >= n || p[i] != ' ')
    return SG_EPROTO;
  out->target = p + t;
  out->target_len = i - t;
  i++;
  if (n - i != 8 || memcmp(p + i, "HTTP/1.", 7) != 0 ||
      (p[i + 7] != '0' && p[i + 7] != '1'))
    return SG_EPROTO;
  *http11 = p[i + 7] == '1';
  return 0;
}

static int content_length(const uint8_t *v, size_t n, size_t *out) {
  size_t x = 0;
  if (n == 0)
    return SG_EPROTO;
  for (size_t i = 0; i < n; i++) {
    if (v[i] < '0' || v[i] > '9' || x > SIZE_MAX / 10 - 1)
      return SG_EPROTO;
    x = x * 10 + (size_t)(v[i] - '0');
  }
  *out = x;
  return 0;
}

/* Case-insensitive "does the value list this token". */
static bool has_token(const uint8_t *v, size_t n, const char *tok) {
  size_t k = strlen(tok);
  for (size_t i = 0; i + k <= n; i++)
    if (name_is(v + i, k, tok) &&
        (i == 0 || v[i - 1] == ' ' || v[i - 1] == ',') &&
        (i + k == n || v[i + k] == ' ' || v[i + k] == ','))
      return true;
  return false;
}

/* One "name: value" line (RFC 9112 section 5). */
static int header_line(const uint8_t *p, size_t n, sg_sim_sink_head_t *out,
                       bool *seen_len, int *conn) {
  size_t c = 0;
  while (c < n && is_tchar(p[c]))
    c++;
  if (c == 0 || c >= n || p[c] != ':')
    return SG_EPROTO;
  size_t v = c + 1, e = n;
  while (v < e && (p[v] == ' ' || p[v] == '\t'))
    v++;
  while (e > v && (p[e - 1] == ' ' || p[e - 1] == '\t'))
    e--;
  for (size_t i = v; i < e; i++)
    if (p[i] < ' ' && p[i] != '\t')
      return SG_EPROTO;
  if (name_is(p, c, "content-length")) {
    size_t x;
    if (content_length(p + v, e - v, &x) < 0 ||
        (*seen_len && x != out->content_length))
      return SG_EPROTO;
    out->content_length = x;
    *seen_len = true;
  } else if (name_is(p, c, "transfer-encoding")) {
    out->chunked = true;
  } else if (name_is(p, c, "connection")) {
    if (has_token(p + v, e - v, "close"))
      *conn = -1;
    else if (has_token(p + v, e - v, "keep-alive") && *conn == 0)
      *conn = 1;
  } else if (name_is(p, c, "x-smsgate-signature")) {
    out->signature = p + v;
    out->signature_len = e - v;
  }
  return 0;
}

int sg_sim_sink_parse_head(const uint8_t *buf, size_t len,
                           sg_sim_sink_head_t *out) {
  size_t end = head_end(
      buf, len < SG_SIM_SINK_MAX_HEAD + 1 ? len : SG_SIM_SINK_MAX_HEAD + 1);
  if (end == 0)
    return len > SG_SIM_SINK_MAX_HEAD ? SG_ETOOLONG : SG_NEED_MORE;
  memset(out, 0, sizeof *out);
  bool http11 = false, seen_len = false;
  int conn = 0, rc = 0;
  size_t at = 0, line = 0;
  while (rc == 0 && at < end - 2) {
    const uint8_t *nl = memchr(buf + at, '\n', end - at);
    size_t n = (size_t)(nl - (buf + at));
    if (n == 0 || buf[at + n - 1] != '\r')
      return SG_EPROTO; /* bare LF */
    n--;
    if (line++ == 0)
      rc = request_line(buf + at, n, out, &http11);
    else
      rc = header_line(buf + at, n, out, &seen_len, &conn);
    at += n + 2;
  }
  if (rc < 0)
    return rc;
  out->keep_alive = http11 ? conn >= 0 : conn > 0;
  return (int)end;
}

size_t sg_sim_sink_status(const uint8_t *body, size_t len,
                          const uint8_t **value) {
  static const char key[] = "\"status\":\"";
  const size_t k = sizeof key - 1;
  for (size_t i = 0; i + k <= len; i++) {
    if (body[i] != '"' || memcmp(body + i, key, k) != 0)
      continue;
    const uint8_t *v = body + i + k;
    const uint8_t *q = memchr(v, '"', len - i - k);
    if (q == NULL || q == v)
      return 0;
    *value = v;
    return (size_t)(q - v);
  }
  return 0;
}

/* Appends like snprintf, counting what would be needed past cap. */
typedef struct out {
  char *buf;
  size_t cap, n;
} out_t;

static void put(out_t *o, const char *fmt, const char *s,
                unsigned long long v) {
  size_t room = o->n < o->cap ? o->cap - o->n : 0;
  int k = s != NULL ? snprintf(o->buf + (room ? o->n : 0), room, fmt, s, v)
                    : snprintf(o->buf + (room ? o->n : 0), room, fmt, v);
  if (k > 0)
    o->n += (size_t)k;
}

size_t sg_sim_sink_counts_json(const sg_sim_sink_counts_t *c, char *buf,
                               size_t cap) {
  char none[1];
  out_t o = {cap ? buf : none, cap, 0};
  uint64_t delivered = 0;
  for (size_t i = 0; i < c->n_statuses; i++)
    if (strcmp(c->status[i].name, "delivered") == 0)
      delivered = c->status[i].n;
  put(&o, "{\"total\":%llu", NULL, c->total);
  put(&o, ",\"delivered\":%llu,\"by_status\":{", NULL, delivered);
  for (size_t i = 0; i < c->n_statuses; i++)
    put(&o, i ? ",\"%s\":%llu" : "\"%s\":%llu", c->status[i].name,
        c->status[i].n);
  put(&o, "},\"bad_signature\":%llu", NULL, c->bad_signature);
  put(&o, ",\"bad_request\":%llu", NULL, c->bad_request);
  put(&o, ",\"no_status\":%llu", NULL, c->no_status);
  put(&o, ",\"other\":%llu", NULL, c->other);
  put(&o, ",\"first_ms\":%llu", NULL, (unsigned long long)c->first_ms);
  put(&o, ",\"last_any_ms\":%llu", NULL, (unsigned long long)c->last_any_ms);
  put(&o, ",\"last_ms\":%llu", NULL, (unsigned long long)c->last_ms);
  put(&o, ",\"connections\":%llu", NULL, c->connections);
  put(&o, ",\"callbacks\":%llu", NULL, c->callbacks);
  put(&o, ",\"last_callback_ms\":%llu}", NULL,
      (unsigned long long)c->last_callback_ms);
  return o.n;
}
