/* http1.c - an incremental HTTP/1.1 response parser and an http:// URL
 * splitter for the webhook client (RFC 9112, RFC 3986).
 *
 * The parser keeps the head in its own buffer until the empty line, then
 * reads the status line and the few fields that matter to a client that
 * sends one request at a time: Content-Length, Transfer-Encoding,
 * Connection, Content-Type and Retry-After. The body is counted (by length,
 * by chunk or until the close) and only its start is kept.
 *
 * This module must never do I/O, allocate, log, or accept a response whose
 * framing is ambiguous (conflicting lengths, folded fields, a chunk size
 * that does not parse): a wrong frame would hand the next answer on a kept
 * connection to the wrong request.
 */
#include "core/http1.h"

#include <string.h>
#include <strings.h>

#include "core/error.h"

enum {
  S_HEAD,
  S_BODY_LEN,
  S_BODY_CLOSE,
  S_CHUNK_SIZE,
  S_CHUNK_DATA,
  S_CHUNK_CR,
  S_CHUNK_LF,
  S_TRAILER,
  S_DONE,
  S_ERROR
};

void sg_http1_resp_init(sg_http1_resp_t *r, uint8_t *body, size_t body_cap) {
  r->status = 0;
  r->keep_alive = false;
  r->content_type[0] = r->retry_after[0] = '\0';
  r->body_len = 0;
  r->body = body;
  r->body_cap = body ? body_cap : 0;
  r->state = S_HEAD;
  r->chunked = r->until_close = r->head_only = false;
  r->remaining = 0;
  r->head_len = r->line_start = 0;
}

/* ---- the head ------------------------------------------------------------ */

typedef struct fields {
  bool has_len, has_te, te_chunked, conn_close, conn_keep;
  uint64_t len;
} fields_t;

/* RFC 9110 section 5.6.2: ALPHA, DIGIT and "!#$%&'*+-.^_`|~", one bit
 * each for the ASCII octets (a strchr a character cost a field name 0.1 k
 * instructions). */
static bool is_tchar(unsigned char c) {
  static const uint32_t bits[4] = {0x00000000, 0x03ff6cfa, 0xc7fffffe,
                                   0x57ffffff};
  return c < 128 && (bits[c >> 5] >> (c & 31) & 1) != 0;
}

/* True when the comma-separated list v[0..n) holds `token` (any case). */
static bool list_has(const char *v, size_t n, const char *token) {
  size_t k = strlen(token);
  for (size_t i = 0; i < n;) {
    while (i < n && (v[i] == ' ' || v[i] == '\t' || v[i] == ','))
      i++;
    size_t s = i;
    while (i < n && v[i] != ',')
      i++;
    size_t e = i;
    while (e > s && (v[e - 1] == ' ' || v[e - 1] == '\t'))
      e--;
    if (e - s == k && strncasecmp(v + s, token, k) == 0)
      return true;
  }
  return false;
}

/* True when the last coding of the list v[0..n) is "chunked". */
static bool last_is_chunked(const char *v, size_t n) {
  size_t e = n;
  while (e > 0 && (v[e - 1] == ' ' || v[e - 1] == '\t'))
    e--;
  size_t s = e;
  while (s > 0 && v[s - 1] != ',' && v[s - 1] != ' ' && v[s - 1] != '\t')
    s--;
  return e - s == 7 && strncasecmp(v + s, "chunked", 7) == 0;
}

static int parse_length(const char *v, size_t n, fields_t *f) {
  uint64_t x = 0;
  if (n == 0 || n > 18)
    return SG_EPROTO;
  for (size_t i = 0; i < n; i++) {
    if (v[i] < '0' || v[i] > '9')
      return SG_EPROTO;
    x = x * 10 + (uint64_t)(v[i] - '0');
  }
  if (f->has_len && f->len != x)
    return SG_EPROTO;
  f->has_len = true;
  f->len = x;
  return 0;
}

static void keep_value(char *dst, const char *v, size_t n) {
  if (n >= SG_HTTP1_VALUE_MAX)
    n = SG_HTTP1_VALUE_MAX - 1;
  memcpy(dst, v, n);
  dst[n] = '\0';
}

/* One field line (without its line ending). */
static int parse_field(sg_http1_resp_t *r, const char *l, size_t n,
                       fields_t *f) {
  size_t c = 0;
  while (c < n && is_tchar((unsigned char)l[c]))
    c++;
  if (c == 0 || c == n || l[c] != ':')
    return SG_EPROTO; /* no name, no colon, space before it, or folded */
  const char *v = l + c + 1;
  size_t vn = n - c - 1;
  while (vn > 0 && (*v == ' ' || *v == '\t'))
    v++, vn--;
  while (vn > 0 && (v[vn - 1] == ' ' || v[vn - 1] == '\t'))
    vn--;
  for (size_t i = 0; i < vn; i++)
    if ((unsigned char)v[i] < 0x20 && v[i] != '\t')
      return SG_EPROTO;
  if (c == 14 && strncasecmp(l, "content-length", 14) == 0)
    return parse_length(v, vn, f);
  if (c == 17 && strncasecmp(l, "transfer-encoding", 17) == 0) {
    f->has_te = true;
    f->te_chunked = last_is_chunked(v, vn);
  } else if (c == 10 && strncasecmp(l, "connection", 10) == 0) {
    f->conn_close |= list_has(v, vn, "close");
    f->conn_keep |= list_has(v, vn, "keep-alive");
  } else if (c == 12 && strncasecmp(l, "content-type", 12) == 0) {
    keep_value(r->content_type, v, vn);
  } else if (c == 11 && strncasecmp(l, "retry-after", 11) == 0) {
    keep_value(r->retry_after, v, vn);
  }
  return 0;
}

/* "HTTP/1.x SSS[ reason]"; returns the minor version or SG_EPROTO. */
static int parse_status_line(sg_http1_resp_t *r, const char *l, size_t n) {
  if (n < 12 || memcmp(l, "HTTP/1.", 7) != 0 || (l[7] != '0' && l[7] != '1') ||
      l[8] != ' ')
    return SG_EPROTO;
  int st = 0;
  for (int i = 9; i < 12; i++) {
    if (l[i] < '0' || l[i] > '9')
      return SG_EPROTO;
    st = st * 10 + (l[i] - '0');
  }
  if (st < 100 || (n > 12 && l[12] != ' '))
    return SG_EPROTO;
  r->status = st;
  return l[7] - '0';
}

/* Chooses how the body is delimited (RFC 9112 section 6.3). */
static int frame_body(sg_http1_resp_t *r, const fields_t *f, int minor) {
  r->keep_alive = minor == 1 ? !f->conn_close : f->conn_keep && !f->conn_close;
  if (r->status == 204 || r->status == 304) {
    r->state = S_DONE;
  } else if (f->has_te) {
    if (f->has_len)
      r->keep_alive = false; /* a sender that sends both is not trusted */
    if (f->te_chunked) {
      r->chunked = true;
      r->state = S_CHUNK_SIZE;
    } else {
      r->until_close = true;
      r->keep_alive = false;
      r->state = S_BODY_CLOSE;
    }
  } else if (f->has_len) {
    r->remaining = f->len;
    r->state = f->len == 0 ? S_DONE : S_BODY_LEN;
  } else {
    r->until_close = true;
    r->keep_alive = false;
    r->state = S_BODY_CLOSE;
  }
  return 0;
}

/* The head is complete in r->head[0..head_len): its lines end in LF. */
static int parse_head(sg_http1_resp_t *r) {
  fields_t f;
  memset(&f, 0, sizeof f);
  r->content_type[0] = r->retry_after[0] = '\0';
  int minor = -1;
  for (size_t at = 0; at < r->head_len;) {
    const char *l = r->head + at;
    const char *nl = memchr(l, '\n', r->head_len - at);
    size_t n = (size_t)(nl - l);
    at += n + 1;
    if (n > 0 && l[n - 1] == '\r')
      n--;
    if (n == 0)
      break; /* the empty line */
    int rc = minor < 0 ? (minor = parse_status_line(r, l, n))
                       : parse_field(r, l, n, &f);
    if (rc < 0)
      return rc;
  }
  if (r->status == 101)
    return SG_EPROTO;  /* never asked for */
  if (r->status < 200) /* interim: the real answer follows */
    return 0;
  return frame_body(r, &f, minor);
}

/* Collects head octets up to the empty line, a line (or what there is of
 * it) at a time. Returns octets taken, or < 0. */
static int take_head(sg_http1_resp_t *r, const uint8_t *buf, size_t len) {
  for (size_t i = 0; i < len;) {
    const uint8_t *lf = memchr(buf + i, '\n', len - i);
    size_t end = lf != NULL ? (size_t)(lf - buf) + 1 : len;
    if (end - i > sizeof r->head - r->head_len)
      return SG_ETOOLONG;
    memcpy(r->head + r->head_len, buf + i, end - i);
    r->head_len += end - i;
    i = end;
    if (lf == NULL)
      break;
    size_t n = r->head_len - 1 - r->line_start;
    bool empty = n == 0 || (n == 1 && r->head[r->line_start] == '\r');
    r->line_start = r->head_len;
    if (empty && r->head_len > 2) {
      int rc = parse_head(r);
      if (rc < 0)
        return rc;
      r->head_len = r->line_start = 0; /* for chunk-size and trailer lines */
      return (int)i;
    }
    if (empty)
      return SG_EPROTO; /* no status line */
  }
  return (int)len;
}

/* ---- the body ------------------------------------------------------------ */

static void keep_body(sg_http1_resp_t *r, const uint8_t *p, size_t n) {
  size_t room = r->body_cap - r->body_len;
  if (n > room)
    n = room;
  if (n > 0)
    memcpy(r->body + r->body_len, p, n);
  r->body_len += n;
}

static int hexval(char c) {
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}

/* "1a3[;ext...]" in head[0..n): the chunk's size (RFC 9112 section 7.1). */
static int parse_chunk_size(sg_http1_resp_t *r, size_t n) {
  uint64_t x = 0;
  size_t i = 0;
  for (; i < n && hexval(r->head[i]) >= 0; i++) {
    if (i >= 15)
      return SG_EPROTO;
    x = x * 16 + (uint64_t)hexval(r->head[i]);
  }
  if (i == 0)
    return SG_EPROTO;
  while (i < n && (r->head[i] == ' ' || r->head[i] == '\t'))
    i++;
  if (i < n && r->head[i] != ';')
    return SG_EPROTO;
  r->remaining = x;
  r->state = x == 0 ? S_TRAILER : S_CHUNK_DATA;
  return 0;
}

/* Collects one line into head (chunk size) or counts it (trailer).
 * Returns octets taken, or < 0; *line_done when its LF was taken. */
static int take_line(sg_http1_resp_t *r, const uint8_t *buf, size_t len,
                     bool *line_done) {
  *line_done = false;
  for (size_t i = 0; i < len; i++) {
    if (r->head_len == sizeof r->head)
      return SG_ETOOLONG;
    r->head[r->head_len++] = (char)buf[i];
    if (buf[i] == '\n') {
      *line_done = true;
      return (int)(i + 1);
    }
  }
  return (int)len;
}

/* Octets of one line in head[line_start..head_len), without CRLF/LF. */
static size_t line_len(const sg_http1_resp_t *r) {
  size_t n = r->head_len - r->line_start - 1;
  if (n > 0 && r->head[r->head_len - 2] == '\r')
    n--;
  return n;
}

static int step_chunk_line(sg_http1_resp_t *r, const uint8_t *buf, size_t len) {
  bool done;
  int k = take_line(r, buf, len, &done);
  if (k < 0 || !done)
    return k;
  int rc;
  if (r->state == S_CHUNK_SIZE) {
    rc = parse_chunk_size(r, line_len(r));
    r->head_len = r->line_start = 0;
  } else { /* a trailer line; the empty one ends the response */
    if (line_len(r) == 0)
      r->state = S_DONE;
    r->line_start = r->head_len; /* the section stays bounded */
    rc = 0;
  }
  return rc < 0 ? rc : k;
}

static int step_data(sg_http1_resp_t *r, const uint8_t *buf, size_t len) {
  size_t k = r->remaining < len ? (size_t)r->remaining : len;
  if (r->state == S_BODY_CLOSE)
    k = len;
  keep_body(r, buf, k);
  if (r->state == S_BODY_CLOSE)
    return (int)k;
  r->remaining -= k;
  if (r->remaining == 0)
    r->state = r->state == S_BODY_LEN ? S_DONE : S_CHUNK_CR;
  return (int)k;
}

static int step(sg_http1_resp_t *r, const uint8_t *buf, size_t len) {
  switch (r->state) {
  case S_HEAD:
    return take_head(r, buf, len);
  case S_BODY_LEN:
  case S_BODY_CLOSE:
  case S_CHUNK_DATA:
    return step_data(r, buf, len);
  case S_CHUNK_SIZE:
  case S_TRAILER:
    return step_chunk_line(r, buf, len);
  case S_CHUNK_CR: /* the CRLF after a chunk's data; a bare LF is taken */
    if (buf[0] == '\r') {
      r->state = S_CHUNK_LF;
      return 1;
    }
    /* fall through */
  case S_CHUNK_LF:
    if (buf[0] != '\n')
      return SG_EPROTO;
    r->state = S_CHUNK_SIZE;
    return 1;
  default:
    return SG_ESTATE;
  }
}

int sg_http1_resp_feed(sg_http1_resp_t *r, const uint8_t *buf, size_t len) {
  if (r->state == S_DONE || r->state == S_ERROR)
    return SG_ESTATE;
  size_t used = 0;
  while (used < len && r->state != S_DONE) {
    int k = step(r, buf + used, len - used);
    if (k < 0) {
      r->state = S_ERROR;
      return k;
    }
    used += (size_t)k;
  }
  if (r->state == S_DONE)
    return used > 0 ? (int)used : SG_ESTATE;
  return SG_NEED_MORE;
}

int sg_http1_resp_eof(sg_http1_resp_t *r) {
  if (r->state == S_BODY_CLOSE) {
    r->state = S_DONE;
    r->keep_alive = false;
    return 1;
  }
  if (r->state == S_DONE || r->state == S_ERROR)
    return SG_ESTATE;
  r->state = S_ERROR;
  return SG_ETRUNC;
}

/* ---- URLs ---------------------------------------------------------------- */

static bool host_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
         (c >= '0' && c <= '9') || c == '-' || c == '.';
}

static int parse_port(const char *p, size_t n, uint16_t *port) {
  unsigned long x = 0;
  if (n == 0 || n > 5)
    return SG_EINVAL;
  for (size_t i = 0; i < n; i++) {
    if (p[i] < '0' || p[i] > '9')
      return SG_EINVAL;
    x = x * 10 + (unsigned long)(p[i] - '0');
  }
  if (x == 0 || x > 65535)
    return SG_EINVAL;
  *port = (uint16_t)x;
  return 0;
}

/* host[:port] in a[0..n) into out. */
static int parse_authority(const char *a, size_t n, sg_http1_url_t *out) {
  const char *h = a, *colon = NULL;
  size_t hn;
  if (n > 0 && a[0] == '[') {
    const char *rb = memchr(a, ']', n);
    if (rb == NULL)
      return SG_EINVAL;
    h = a + 1;
    hn = (size_t)(rb - h);
    for (size_t i = 0; i < hn; i++)
      if (!(host_char(h[i]) || h[i] == ':'))
        return h[i] == '%' ? SG_ENOTSUP : SG_EINVAL; /* zone ids too */
    if (rb + 1 < a + n && rb[1] != ':')
      return SG_EINVAL;
    colon = rb + 1 < a + n ? rb + 1 : NULL;
  } else {
    colon = memchr(a, ':', n);
    hn = colon ? (size_t)(colon - a) : n;
    for (size_t i = 0; i < hn; i++)
      if (!host_char(h[i]))
        return SG_ENOTSUP; /* percent-encoded or international names */
  }
  if (hn == 0 || hn >= sizeof out->host)
    return SG_EINVAL;
  memcpy(out->host, h, hn);
  out->host[hn] = '\0';
  out->port = 80;
  if (colon != NULL &&
      parse_port(colon + 1, (size_t)(a + n - colon - 1), &out->port) < 0)
    return SG_EINVAL;
  return 0;
}

int sg_http1_url_parse(const char *url, sg_http1_url_t *out) {
  if (url == NULL || out == NULL)
    return SG_EINVAL;
  for (const char *p = url; *p; p++)
    if ((unsigned char)*p <= 0x20 || *p == 0x7f)
      return SG_EINVAL;
  if (strncasecmp(url, "http://", 7) != 0)
    return SG_ENOTSUP;
  const char *a = url + 7;
  size_t an = strcspn(a, "/?#");
  if (memchr(a, '@', an) != NULL)
    return SG_ENOTSUP;
  int rc = parse_authority(a, an, out);
  if (rc < 0)
    return rc;
  out->authority = a;
  out->authority_len = an;
  const char *t = a + an;
  size_t tn = strcspn(t, "#");
  out->target = t;
  out->target_len = tn;
  return 0;
}
