/* Tests for the HTTP/1.1 response parser and the http:// URL splitter:
 * every good response is fed whole, split in two at every octet and one
 * octet at a time, and must give the same status, framing, kept body and
 * fields each way; responses that break RFC 9112 must fail however they
 * are split; a body delimited by the close ends only at EOF; and URLs are
 * split or left to libcurl as documented. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "core/error.h"
#include "core/http1.h"

typedef struct good {
  const char *in;
  int status;
  bool keep_alive;
  const char *body; /* as kept (the first 16 octets at most) */
  const char *ctype;
  const char *retry_after;
  size_t extra; /* octets after the response */
} good_t;

static const good_t goods[] = {
    {"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", 200, true, "ok", "", "",
     0},
    {"HTTP/1.1 204 No Content\r\n\r\n", 204, true, "", "", "", 0},
    {"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n", 200,
     false, "", "", "", 0},
    {"HTTP/1.0 200 OK\r\nContent-Length: 1\r\n\r\nx", 200, false, "x", "", "",
     0},
    {"HTTP/1.0 200 OK\r\nConnection: Keep-Alive\r\nContent-Length: 1\r\n\r\nx",
     200, true, "x", "", "", 0},
    /* chunked, with an extension, upper-case hex and a trailer */
    {"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Type: "
     "text/plain; charset=utf-8\r\n\r\n5;x=y\r\nhello\r\nA\r\n, world!!!"
     "\r\n0\r\nX-Trailer: 1\r\n\r\n",
     200, true, "hello, world!!!", "text/plain; charset=utf-8", "", 0},
    /* bare LF line endings are taken */
    {"HTTP/1.1 503 Busy\nRetry-After: 7\nContent-Length: 3\n\nabc", 503, true,
     "abc", "", "7", 0},
    /* an interim 100 Continue before the answer */
    {"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: "
     "0\r\n\r\n",
     201, true, "", "", "", 0},
    /* octets after the response belong to no request */
    {"HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nxHTTP/1.1", 200, true, "x",
     "", "", 8},
    /* the body is counted past what is kept */
    {"HTTP/1.1 500 Oops\r\ncontent-length: 20\r\n\r\n0123456789abcdefghij", 500,
     true, "0123456789abcdef", "", "", 0},
    /* identical Content-Length twice; a status line without a reason */
    {"HTTP/1.1 404\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\n-", 404,
     true, "-", "", "", 0},
    /* Transfer-Encoding overrides Content-Length; the connection is not
     * kept */
    {"HTTP/1.1 200 OK\r\nContent-Length: 99\r\nTransfer-Encoding: "
     "chunked\r\n\r\n1\r\nz\r\n0\r\n\r\n",
     200, false, "z", "", "", 0},
    {"HTTP/1.1 429 Slow\r\nRetry-After:  Wed, 21 Oct 2026 07:28:00 GMT \r\n"
     "Content-Length: 0\r\n\r\n",
     429, true, "", "", "Wed, 21 Oct 2026 07:28:00 GMT", 0},
    {"HTTP/1.1 304 Not Modified\r\nContent-Length: 50\r\n\r\n", 304, true, "",
     "", "", 0},
};

/* Feeds `in` in pieces of `step` octets (0: whole) after the first `split`
 * octets; returns the feed result that ended it and the total consumed. */
static int feed(sg_http1_resp_t *r, uint8_t *body, const char *in, size_t split,
                size_t step, size_t *used) {
  size_t len = strlen(in), at = 0;
  sg_http1_resp_init(r, body, 16);
  *used = 0;
  while (at < len) {
    size_t n = at == 0 && split > 0 ? split : (step ? step : len - at);
    if (n > len - at)
      n = len - at;
    int rc = sg_http1_resp_feed(r, (const uint8_t *)in + at, n);
    if (rc != SG_NEED_MORE) {
      *used = at + (rc > 0 ? (size_t)rc : 0);
      return rc;
    }
    at += n;
  }
  *used = at;
  return SG_NEED_MORE;
}

static void check_good(const good_t *g, size_t split, size_t step) {
  sg_http1_resp_t r;
  uint8_t body[16];
  size_t used;
  int rc = feed(&r, body, g->in, split, step, &used);
  if (rc <= 0)
    fail_msg("%s (split %zu, step %zu): %d", g->in, split, step, rc);
  assert_int_equal(used, strlen(g->in) - g->extra);
  assert_int_equal(r.status, g->status);
  assert_int_equal(r.keep_alive, g->keep_alive);
  assert_int_equal(r.body_len, strlen(g->body));
  assert_memory_equal(body, g->body, r.body_len);
  assert_string_equal(r.content_type, g->ctype);
  assert_string_equal(r.retry_after, g->retry_after);
  assert_int_equal(sg_http1_resp_feed(&r, (const uint8_t *)"x", 1), SG_ESTATE);
}

static void good_any_split(void **state) {
  (void)state;
  for (size_t i = 0; i < sizeof goods / sizeof goods[0]; i++) {
    size_t len = strlen(goods[i].in);
    check_good(&goods[i], 0, 0);
    check_good(&goods[i], 0, 1);
    for (size_t s = 1; s < len; s++)
      check_good(&goods[i], s, 0);
  }
}

static const struct bad {
  const char *in;
  int err;
} bads[] = {
    {"HTTP/2 200 OK\r\n\r\n", SG_EPROTO},
    {"HTTP/1.2 200 OK\r\n\r\n", SG_EPROTO},
    {"HTTP/1.1 20 OK\r\n\r\n", SG_EPROTO},
    {"HTTP/1.1 2000 OK\r\n\r\n", SG_EPROTO},
    {"HTTP/1.1 099 Low\r\n\r\n", SG_EPROTO},
    {"http/1.1 200 OK\r\n\r\n", SG_EPROTO},
    {"\r\nHTTP/1.1 200 OK\r\n\r\n", SG_EPROTO},
    {"SSH-2.0-OpenSSH_9.2\r\n\r\n", SG_EPROTO},
    {"HTTP/1.1 101 Switching Protocols\r\nUpgrade: x\r\n\r\n", SG_EPROTO},
    {"HTTP/1.1 200 OK\r\nNo-Colon\r\n\r\n", SG_EPROTO},
    {"HTTP/1.1 200 OK\r\nBad Name: x\r\n\r\n", SG_EPROTO},
    {"HTTP/1.1 200 OK\r\nName : x\r\n\r\n", SG_EPROTO},
    {"HTTP/1.1 200 OK\r\nA: b\r\n folded\r\n\r\n", SG_EPROTO},
    {"HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nx",
     SG_EPROTO},
    {"HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n", SG_EPROTO},
    {"HTTP/1.1 200 OK\r\nContent-Length: 1,1\r\n\r\n", SG_EPROTO},
    {"HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999\r\n\r\n",
     SG_EPROTO},
    {"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", SG_EPROTO},
    {"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n\r\n", SG_EPROTO},
    {"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabX\r\n",
     SG_EPROTO},
    {"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
     "10000000000000000\r\n",
     SG_EPROTO},
};

static void bad_any_split(void **state) {
  (void)state;
  for (size_t i = 0; i < sizeof bads / sizeof bads[0]; i++) {
    size_t len = strlen(bads[i].in);
    for (size_t s = 0; s < len; s++) {
      sg_http1_resp_t r;
      uint8_t body[16];
      size_t used;
      int rc = feed(&r, body, bads[i].in, s, s == 0 ? 1 : 0, &used);
      if (rc != bads[i].err)
        fail_msg("%s (split %zu): %d", bads[i].in, s, rc);
      assert_int_equal(sg_http1_resp_feed(&r, (const uint8_t *)"x", 1),
                       SG_ESTATE);
    }
  }
}

static void too_long(void **state) {
  (void)state;
  static char big[SG_HTTP1_HEAD_MAX + 64];
  sg_http1_resp_t r;
  strcpy(big, "HTTP/1.1 200 OK\r\nX: ");
  size_t n = strlen(big);
  memset(big + n, 'a', sizeof big - n - 1);
  sg_http1_resp_init(&r, NULL, 0);
  assert_int_equal(sg_http1_resp_feed(&r, (const uint8_t *)big, sizeof big - 1),
                   SG_ETOOLONG);
  /* a chunk-size line that never ends */
  sg_http1_resp_init(&r, NULL, 0);
  static const char h[] =
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1;";
  assert_int_equal(sg_http1_resp_feed(&r, (const uint8_t *)h, sizeof h - 1),
                   SG_NEED_MORE);
  int rc = SG_NEED_MORE;
  for (int i = 0; i < 2 * SG_HTTP1_HEAD_MAX && rc == SG_NEED_MORE; i++)
    rc = sg_http1_resp_feed(&r, (const uint8_t *)"e", 1);
  assert_int_equal(rc, SG_ETOOLONG);
}

/* A head of exactly SG_HTTP1_HEAD_MAX octets is read, one octet more is
 * too long; fed whole, one octet at a time and in two at every line end. */
static void head_at_limit(void **state) {
  (void)state;
  static char in[SG_HTTP1_HEAD_MAX + 2];
  for (size_t extra = 0; extra <= 1; extra++) {
    size_t len = SG_HTTP1_HEAD_MAX + extra;
    /* "HTTP/1.1 204 No" and o's, fields of 100 octets, the empty line */
    size_t fields = (len - 19) / 100, oo = len - 19 - 100 * fields;
    size_t at = (size_t)snprintf(in, sizeof in, "HTTP/1.1 204 No");
    memset(in + at, 'o', oo);
    at += oo;
    memcpy(in + at, "\r\n", 2);
    at += 2;
    for (size_t f = 0; f < fields; f++, at += 100) {
      memcpy(in + at, "X: ", 3);
      memset(in + at + 3, 'a', 95);
      memcpy(in + at + 98, "\r\n", 2);
    }
    memcpy(in + at, "\r\n", 3);
    assert_int_equal(strlen(in), len);
    for (size_t step = 0; step <= 1; step++) {
      sg_http1_resp_t r;
      size_t used;
      int rc = feed(&r, NULL, in, 0, step, &used);
      if (extra == 0) {
        assert_int_equal(rc, step ? 1 : (int)len);
        assert_int_equal(r.status, 204);
      } else {
        assert_int_equal(rc, SG_ETOOLONG);
      }
    }
    for (size_t s = 1; s < len; s++) {
      if (in[s - 1] != '\n')
        continue;
      sg_http1_resp_t r;
      size_t used;
      int rc = feed(&r, NULL, in, s, 0, &used);
      assert_int_equal(rc, extra == 0 ? (int)(len - s) : SG_ETOOLONG);
    }
  }
}

/* RFC 9110 section 5.6.2: a field name is tchars; every other octet in
 * one is refused. */
static void field_name_octets(void **state) {
  (void)state;
  static const char tchars[] = "!#$%&'*+-.^_`|~0123456789"
                               "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
                               "abcdefghijklmnopqrstuvwxyz";
  for (unsigned c = 1; c < 256; c++) {
    if (c == '\n' || c == ':')
      continue; /* they end the line or the name */
    char in[64];
    int n = snprintf(in, sizeof in, "HTTP/1.1 204 No\r\nX%cy: 1\r\n\r\n", c);
    sg_http1_resp_t r;
    sg_http1_resp_init(&r, NULL, 0);
    int rc = sg_http1_resp_feed(&r, (const uint8_t *)in, (size_t)n);
    bool ok = strchr(tchars, (int)c) != NULL;
    if (rc != (ok ? n : SG_EPROTO))
      fail_msg("octet %u: %d", c, rc);
  }
}

static void body_until_close(void **state) {
  (void)state;
  sg_http1_resp_t r;
  uint8_t body[16];
  static const char in[] = "HTTP/1.1 200 OK\r\nContent-Type: a/b\r\n\r\nabc";
  sg_http1_resp_init(&r, body, sizeof body);
  assert_int_equal(sg_http1_resp_feed(&r, (const uint8_t *)in, sizeof in - 1),
                   SG_NEED_MORE);
  assert_int_equal(sg_http1_resp_feed(&r, (const uint8_t *)"de", 2),
                   SG_NEED_MORE);
  assert_int_equal(sg_http1_resp_eof(&r), 1);
  assert_int_equal(r.status, 200);
  assert_false(r.keep_alive);
  assert_int_equal(r.body_len, 5);
  assert_memory_equal(body, "abcde", 5);
  assert_int_equal(sg_http1_resp_eof(&r), SG_ESTATE);
  /* a Transfer-Encoding other than chunked is also read to the close */
  static const char gz[] =
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\nzz";
  sg_http1_resp_init(&r, body, sizeof body);
  assert_int_equal(sg_http1_resp_feed(&r, (const uint8_t *)gz, sizeof gz - 1),
                   SG_NEED_MORE);
  assert_int_equal(sg_http1_resp_eof(&r), 1);
  assert_int_equal(r.body_len, 2);
}

static void truncated(void **state) {
  (void)state;
  static const char *const cut[] = {
      "", "HTTP/1.1 200 OK\r\n",
      "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nab",
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n"};
  for (size_t i = 0; i < sizeof cut / sizeof cut[0]; i++) {
    sg_http1_resp_t r;
    sg_http1_resp_init(&r, NULL, 0);
    if (cut[i][0] != '\0')
      assert_int_equal(
          sg_http1_resp_feed(&r, (const uint8_t *)cut[i], strlen(cut[i])),
          SG_NEED_MORE);
    assert_int_equal(sg_http1_resp_eof(&r), SG_ETRUNC);
  }
}

static void urls(void **state) {
  (void)state;
  sg_http1_url_t u;
  assert_int_equal(sg_http1_url_parse("http://example.com", &u), 0);
  assert_string_equal(u.host, "example.com");
  assert_int_equal(u.port, 80);
  assert_int_equal(u.target_len, 0);
  assert_int_equal(u.authority_len, 11);

  assert_int_equal(
      sg_http1_url_parse("HTTP://Hook.Example:8080/a/b?x=1&y=%20#frag", &u), 0);
  assert_string_equal(u.host, "Hook.Example");
  assert_int_equal(u.port, 8080);
  assert_int_equal(u.target_len, strlen("/a/b?x=1&y=%20"));
  assert_memory_equal(u.target, "/a/b?x=1&y=%20", u.target_len);
  assert_memory_equal(u.authority, "Hook.Example:8080", u.authority_len);
  assert_int_equal(u.authority_len, 17);

  assert_int_equal(sg_http1_url_parse("http://[::1]:9/x", &u), 0);
  assert_string_equal(u.host, "::1");
  assert_int_equal(u.port, 9);
  assert_memory_equal(u.authority, "[::1]:9", u.authority_len);

  assert_int_equal(sg_http1_url_parse("http://h?q", &u), 0);
  assert_memory_equal(u.target, "?q", u.target_len);

  static const char *const other[] = {
      "https://example.com/", "ftp://x/",
      "http://user:pw@x/",    "http://b%C3%BCcher.de/",
      "http://bücher.de/",    "http://[fe80::1%25eth0]/"};
  for (size_t i = 0; i < sizeof other / sizeof other[0]; i++)
    if (sg_http1_url_parse(other[i], &u) != SG_ENOTSUP)
      fail_msg("%s", other[i]);
  static const char *const bad[] = {
      "http://",     "http:///x",    "http://x:0/",  "http://x:65536/",
      "http://x:/",  "http://x:8a/", "http://[::1/", "http://[::1]x/",
      "http://x y/", "http://x/\ty", "http://:80/",  "http://[]/"};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
    if (sg_http1_url_parse(bad[i], &u) != SG_EINVAL)
      fail_msg("%s", bad[i]);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(good_any_split), cmocka_unit_test(bad_any_split),
      cmocka_unit_test(too_long),       cmocka_unit_test(body_until_close),
      cmocka_unit_test(truncated),      cmocka_unit_test(urls),
      cmocka_unit_test(head_at_limit),  cmocka_unit_test(field_name_octets),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
