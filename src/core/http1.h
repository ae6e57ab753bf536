/* http1.h - the client side of HTTP/1.1 as pure code: an incremental parser
 * of one response (RFC 9112) and a parser of the http:// URLs that the
 * webhook client speaks to itself.
 *
 * No I/O, no logging, no allocation: the caller owns the parser state and
 * the buffer that keeps the start of the body. The parser takes the bytes
 * of a connection in pieces of any size (a response split at every byte
 * gives the same result as one piece) and says when the response ends:
 * by Content-Length, by the chunked coding, or, for a response with
 * neither, when the peer closes the connection.
 */
#ifndef SG_CORE_HTTP1_H
#define SG_CORE_HTTP1_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The most octets of a response head (status line and header fields), and
 * of a chunk-size line or the trailer section. */
#define SG_HTTP1_HEAD_MAX 8192
#define SG_HTTP1_VALUE_MAX 128 /* Content-Type and Retry-After kept */

typedef struct sg_http1_resp {
  /* Results, valid once sg_http1_resp_feed returned > 0 (the head's fields
   * as soon as the head is complete). */
  int status;      /* 200 ... 599 (interim 1xx answers are skipped) */
  bool keep_alive; /* the connection may carry another request */
  char content_type[SG_HTTP1_VALUE_MAX]; /* "" when absent */
  char retry_after[SG_HTTP1_VALUE_MAX];  /* "" when absent */
  size_t body_len;                       /* octets kept in body */
  /* Set by sg_http1_resp_init. */
  uint8_t *body; /* caller-owned; the first body_cap octets are kept */
  size_t body_cap;
  /* Internal state. */
  int state;
  bool chunked, until_close, head_only;
  uint64_t remaining; /* of the body or of the current chunk */
  size_t head_len, line_start;
  char head[SG_HTTP1_HEAD_MAX];
} sg_http1_resp_t;

/* Prepares r for one response to a request whose method was not HEAD;
 * body/body_cap (NULL/0 allowed) receive the start of the body. */
void sg_http1_resp_init(sg_http1_resp_t *r, uint8_t *body, size_t body_cap);

/* Feeds the next len octets of the connection. Returns n > 0 when the
 * response ended after the first n of them (octets past n belong to no
 * response of ours); SG_NEED_MORE when all were taken and more are needed;
 * SG_EPROTO for a response that breaks RFC 9112 (bad status line or
 * version, a header field without a colon or folded, a bad or conflicting
 * Content-Length, a bad chunk size, 101 Switching Protocols), or
 * SG_ETOOLONG for a head, chunk-size line or trailer section longer than
 * SG_HTTP1_HEAD_MAX. After an error or the end, feeding again returns
 * SG_ESTATE. */
int sg_http1_resp_feed(sg_http1_resp_t *r, const uint8_t *buf, size_t len);

/* The peer closed the connection. Returns 1 when that ends the response (a
 * body delimited by the close; keep_alive is then false), SG_ETRUNC when
 * the response was not complete, SG_ESTATE when it had already ended or
 * failed. */
int sg_http1_resp_eof(sg_http1_resp_t *r);

/* The parts of an http:// URL that a request needs. Pointers point into
 * the URL given to sg_http1_url_parse. */
typedef struct sg_http1_url {
  char host[256];        /* without brackets for IPv6, NUL-terminated */
  uint16_t port;         /* 80 when not given */
  const char *authority; /* for the Host field: host[:port] as written */
  size_t authority_len;
  /* Path and query as written, without the fragment. When empty or not
   * starting with '/', the request target is "/" followed by it. */
  const char *target;
  size_t target_len;
} sg_http1_url_t;

/* Splits url ("http://host[:port][/path][?query][#fragment]", the scheme
 * in any case; host a name, an IPv4 address or a bracketed IPv6 address).
 * Returns 0; SG_ENOTSUP for a URL this parser leaves to a fuller client
 * (another scheme, user information, a host with percent-encoding or
 * octets outside ASCII letters, digits, '-' and '.'); SG_EINVAL for a URL
 * that is not valid (empty host, bad port, space or control octets). */
int sg_http1_url_parse(const char *url, sg_http1_url_t *out);

#endif
