/* test_sink.c - the webhook sink: its request-head parser and status finder
 * on tables of good and malformed input, and the server in-process on a real
 * loop and loopback TCP, fed by a blocking socket: signed, badly signed and
 * unsigned webhooks, pipelining, the counts served as JSON, and the answers
 * to bad requests. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>
#include <cmocka.h>
#include <jansson.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/error.h"
#include "engine/webhook.h"
#include "sim/sink.h"

/* ---- the head parser ------------------------------------------------------
 */

typedef struct head_case {
  const char *in;
  int rc; /* > 0: the head's length is strlen(in) */
  sg_sim_sink_method_t method;
  size_t content_length;
  bool keep_alive, chunked;
} head_case_t;

static void test_parse_head(void **state) {
  (void)state;
  static const head_case_t cases[] = {
      {"POST /hook HTTP/1.1\r\nHost: x\r\nContent-Length: 12\r\n\r\n", 1,
       SG_SIM_SINK_POST, 12, true, false},
      {"GET /count HTTP/1.1\r\n\r\n", 1, SG_SIM_SINK_GET, 0, true, false},
      {"GET / HTTP/1.0\r\n\r\n", 1, SG_SIM_SINK_GET, 0, false, false},
      {"GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n", 1, SG_SIM_SINK_GET,
       0, true, false},
      {"POST / HTTP/1.1\r\nconnection: close\r\ncontent-length:3\r\n\r\n", 1,
       SG_SIM_SINK_POST, 3, false, false},
      {"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n", 1,
       SG_SIM_SINK_POST, 0, true, true},
      {"PUT / HTTP/1.1\r\n\r\n", 1, SG_SIM_SINK_OTHER, 0, true, false},
      /* the same Content-Length twice is allowed (RFC 9112 6.3) */
      {"POST / HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\n", 1,
       SG_SIM_SINK_POST, 5, true, false},
      /* incomplete */
      {"POST / HTTP/1.1\r\nContent-Length: 5\r\n", SG_NEED_MORE, 0, 0, 0, 0},
      {"", SG_NEED_MORE, 0, 0, 0, 0},
      /* malformed */
      {"POST / HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n",
       SG_EPROTO, 0, 0, 0, 0},
      {"POST / HTTP/1.1\r\nContent-Length: -1\r\n\r\n", SG_EPROTO, 0, 0, 0, 0},
      {"POST / HTTP/1.1\r\nContent-Length: \r\n\r\n", SG_EPROTO, 0, 0, 0, 0},
      {"POST / HTTP/1.1\r\nContent-Length: 99999999999999999999999\r\n\r\n",
       SG_EPROTO, 0, 0, 0, 0},
      {"POST / HTTP/2.0\r\n\r\n", SG_EPROTO, 0, 0, 0, 0},
      {"POST /\r\n\r\n", SG_EPROTO, 0, 0, 0, 0},
      {"POST  / HTTP/1.1\r\n\r\n", SG_EPROTO, 0, 0, 0, 0},
      {"POST / HTTP/1.1\nHost: x\r\n\r\n", SG_EPROTO, 0, 0, 0, 0},
      {"POST / HTTP/1.1\r\nNo colon here\r\n\r\n", SG_EPROTO, 0, 0, 0, 0},
      {"POST / HTTP/1.1\r\n: empty name\r\n\r\n", SG_EPROTO, 0, 0, 0, 0},
      {"POST / HTTP/1.1\r\nX: a\x01"
       "b\r\n\r\n",
       SG_EPROTO, 0, 0, 0, 0},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    const head_case_t *c = &cases[i];
    sg_sim_sink_head_t h;
    size_t n = strlen(c->in);
    int rc = sg_sim_sink_parse_head((const uint8_t *)c->in, n, &h);
    if (c->rc > 0) {
      assert_int_equal(rc, (int)n);
      assert_int_equal(h.method, c->method);
      assert_int_equal(h.content_length, c->content_length);
      assert_int_equal(h.keep_alive, c->keep_alive);
      assert_int_equal(h.chunked, c->chunked);
    } else {
      assert_int_equal(rc, c->rc);
    }
  }
}

static void test_parse_head_signature_and_body_after(void **state) {
  (void)state;
  const char *in = "POST /h HTTP/1.1\r\nX-Smsgate-Signature:  sha256=ab  \r\n"
                   "Content-Length: 2\r\n\r\n{}POST";
  sg_sim_sink_head_t h;
  int rc = sg_sim_sink_parse_head((const uint8_t *)in, strlen(in), &h);
  assert_int_equal(rc, (int)strlen(in) - 6);
  assert_int_equal(h.signature_len, 9);
  assert_memory_equal(h.signature, "sha256=ab", 9);
}

static void test_parse_head_too_long(void **state) {
  (void)state;
  size_t n = SG_SIM_SINK_MAX_HEAD + 100;
  char *big = malloc(n);
  assert_non_null(big);
  memcpy(big, "GET / HTTP/1.1\r\nX: ", 19);
  memset(big + 19, 'a', n - 19);
  sg_sim_sink_head_t h;
  assert_int_equal(sg_sim_sink_parse_head((uint8_t *)big, n, &h), SG_ETOOLONG);
  /* shorter than the limit and unfinished: wait */
  assert_int_equal(sg_sim_sink_parse_head((uint8_t *)big, 1000, &h),
                   SG_NEED_MORE);
  free(big);
}

static void test_status(void **state) {
  (void)state;
  static const struct {
    const char *body, *want;
  } cases[] = {
      {"{\"event\":\"message.status\",\"status\":\"delivered\",\"to\":\"+7\"}",
       "delivered"},
      {"{\"status\":\"sent\"}", "sent"},
      {"{\"status\": \"sent\"}", NULL}, /* not compact: not found */
      {"{\"status\":\"\"}", NULL},
      {"{\"status\":\"unterminated", NULL},
      {"{\"detail\":\"x\"}", NULL},
      {"", NULL},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    const uint8_t *v = NULL;
    size_t n = sg_sim_sink_status((const uint8_t *)cases[i].body,
                                  strlen(cases[i].body), &v);
    if (cases[i].want == NULL) {
      assert_int_equal(n, 0);
    } else {
      assert_int_equal(n, strlen(cases[i].want));
      assert_memory_equal(v, cases[i].want, n);
    }
  }
}

static void test_counts_json(void **state) {
  (void)state;
  sg_sim_sink_counts_t c;
  memset(&c, 0, sizeof c);
  c.total = 5;
  c.bad_signature = 1;
  c.n_statuses = 2;
  strcpy(c.status[0].name, "sent");
  c.status[0].n = 3;
  strcpy(c.status[1].name, "delivered");
  c.status[1].n = 2;
  c.last_ms = 1700000000123;
  char buf[512];
  size_t n = sg_sim_sink_counts_json(&c, buf, sizeof buf);
  assert_int_equal(n, strlen(buf));
  assert_string_equal(
      buf, "{\"total\":5,\"delivered\":2,\"by_status\":{\"sent\":3,"
           "\"delivered\":2},\"bad_signature\":1,\"bad_request\":0,"
           "\"no_status\":0,\"other\":0,\"first_ms\":0,\"last_any_ms\":0,"
           "\"last_ms\":1700000000123,\"connections\":0,\"callbacks\":0,"
           "\"last_callback_ms\":0}");
  /* too small: the length needed, and still a terminated prefix */
  char small[16];
  assert_int_equal(sg_sim_sink_counts_json(&c, small, sizeof small), n);
  assert_int_equal(strlen(small), sizeof small - 1);
}

/* ---- the server ------------------------------------------------------------
 */

typedef struct fx {
  uv_loop_t loop;
  sg_sim_sink_t *sink;
  int fd;
} fx_t;

static const char SECRET[] = "webhook-secret";

static fx_t *start(unsigned answer_status, bool with_secret) {
  fx_t *f = calloc(1, sizeof *f);
  assert_non_null(f);
  assert_int_equal(uv_loop_init(&f->loop), 0);
  sg_sim_sink_config_t cfg = {.answer_status = answer_status};
  if (with_secret) {
    cfg.secret = (const uint8_t *)SECRET;
    cfg.secret_len = strlen(SECRET);
  }
  char err[128];
  assert_int_equal(sg_sim_sink_new(&f->loop, &cfg, &f->sink, err, sizeof err),
                   0);
  uint16_t port = sg_sim_sink_port(f->sink);
  assert_true(port != 0);
  f->fd = socket(AF_INET, SOCK_STREAM, 0);
  assert_true(f->fd >= 0);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  /* The kernel completes the handshake before the loop accepts. */
  assert_int_equal(connect(f->fd, (struct sockaddr *)&a, sizeof a), 0);
  return f;
}

static void stop(fx_t *f) {
  if (f->fd >= 0)
    close(f->fd);
  sg_sim_sink_free(f->sink);
  assert_int_equal(uv_run(&f->loop, UV_RUN_DEFAULT), 0);
  assert_int_equal(uv_loop_close(&f->loop), 0);
  free(f);
}

static void send_all(fx_t *f, const char *p, size_t n) {
  while (n > 0) {
    ssize_t k = send(f->fd, p, n, 0);
    assert_true(k > 0);
    p += k;
    n -= (size_t)k;
  }
}

/* Runs the loop until `want` bytes (or the peer's close, want 0) have come
 * back, for at most about `ms` milliseconds; returns what came,
 * NUL-terminated (caller frees). */
static char *receive_for(fx_t *f, size_t want, size_t *got, int ms) {
  char *buf = calloc(1, 65536);
  size_t n = 0;
  assert_non_null(buf);
  for (int i = 0; i < ms; i++) {
    uv_run(&f->loop, UV_RUN_NOWAIT);
    ssize_t k = recv(f->fd, buf + n, 65535 - n, MSG_DONTWAIT);
    if (k > 0)
      n += (size_t)k;
    if (k == 0 || (want > 0 && n >= want))
      break;
    usleep(1000);
  }
  *got = n;
  return buf;
}

static char *receive(fx_t *f, size_t want, size_t *got) {
  return receive_for(f, want, got, 5000);
}

static size_t post(char *out, size_t cap, const char *body, const char *sig,
                   const char *extra) {
  int n = snprintf(out, cap,
                   "POST /hook HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                   "Content-Type: application/json\r\n%s%s%s%s"
                   "Content-Length: %zu\r\n\r\n%s",
                   sig ? "X-Smsgate-Signature: " : "", sig ? sig : "",
                   sig ? "\r\n" : "", extra ? extra : "", strlen(body), body);
  assert_true(n > 0 && (size_t)n < cap);
  return (size_t)n;
}

static const char OK[] = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n";

static void test_signed_webhooks_counted(void **state) {
  (void)state;
  fx_t *f = start(0, true);
  const char *b1 = "{\"event\":\"message.status\",\"status\":\"sent\"}";
  const char *b2 = "{\"event\":\"message.status\",\"status\":\"delivered\"}";
  char s1[SG_WEBHOOK_SIGNATURE_LEN + 1], s2[SG_WEBHOOK_SIGNATURE_LEN + 1];
  assert_int_equal(sg_webhook_sign((const uint8_t *)SECRET, strlen(SECRET), b1,
                                   strlen(b1), s1),
                   0);
  /* signed with another secret: counted, and counted as bad */
  assert_int_equal(
      sg_webhook_sign((const uint8_t *)"other", 5, b2, strlen(b2), s2), 0);
  char req[4096];
  size_t n = post(req, sizeof req, b1, s1, NULL);
  n += post(req + n, sizeof req - n, b2, s2, NULL);   /* pipelined */
  n += post(req + n, sizeof req - n, b2, NULL, NULL); /* unsigned */
  n += post(req + n, sizeof req - n, "{}", s1, NULL); /* no status */
  send_all(f, req, n);
  size_t got;
  char *r = receive(f, 4 * strlen(OK), &got);
  assert_int_equal(got, 4 * strlen(OK));
  for (int i = 0; i < 4; i++)
    assert_memory_equal(r + i * strlen(OK), OK, strlen(OK));
  free(r);

  sg_sim_sink_counts_t c;
  sg_sim_sink_counts(f->sink, &c);
  assert_int_equal(c.total, 4);
  assert_int_equal(c.bad_signature, 3);
  assert_int_equal(c.no_status, 1);
  assert_int_equal(c.n_statuses, 2);
  assert_string_equal(c.status[0].name, "sent");
  assert_int_equal(c.status[0].n, 1);
  assert_string_equal(c.status[1].name, "delivered");
  assert_int_equal(c.status[1].n, 2);
  assert_true(c.last_ms > 0 && c.first_ms > 0);

  /* The counts over the same connection, as JSON. */
  send_all(f, "GET /count HTTP/1.1\r\n\r\n", 23);
  r = receive(f, 1, &got);
  for (int i = 0; i < 500 && strstr(r, "\"connections\"") == NULL; i++) {
    char *more = receive_for(f, 1, &got, 10);
    size_t n0 = strlen(r);
    r = realloc(r, n0 + got + 1);
    memcpy(r + n0, more, got + 1);
    free(more);
  }
  const char *body = strstr(r, "\r\n\r\n");
  assert_non_null(body);
  assert_memory_equal(r, "HTTP/1.1 200 OK\r\n", 17);
  json_error_t je;
  json_t *j = json_loads(body + 4, 0, &je);
  assert_non_null(j);
  assert_int_equal(json_integer_value(json_object_get(j, "total")), 4);
  assert_int_equal(json_integer_value(json_object_get(j, "delivered")), 2);
  assert_int_equal(json_integer_value(json_object_get(j, "bad_signature")), 3);
  assert_int_equal(json_integer_value(json_object_get(
                       json_object_get(j, "by_status"), "sent")),
                   1);
  json_decref(j);
  free(r);
  stop(f);
}

/* Kannel dlr-url callbacks: GET /dlr... counted, recorded with their query
 * and time, answered 200 on the kept connection; other GETs still answer
 * the counts. */
static void test_dlr_callbacks_recorded(void **state) {
  (void)state;
  fx_t *f = calloc(1, sizeof *f);
  assert_non_null(f);
  assert_int_equal(uv_loop_init(&f->loop), 0);
  char *rec = NULL;
  size_t rec_len = 0;
  FILE *mem = open_memstream(&rec, &rec_len);
  assert_non_null(mem);
  sg_sim_sink_config_t cfg = {.record = mem};
  assert_int_equal(sg_sim_sink_new(&f->loop, &cfg, &f->sink, NULL, 0), 0);
  f->fd = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in a = {.sin_family = AF_INET,
                          .sin_port = htons(sg_sim_sink_port(f->sink))};
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  assert_int_equal(connect(f->fd, (struct sockaddr *)&a, sizeof a), 0);
  const char *req = "GET /dlr?seq=7&type=1 HTTP/1.1\r\nHost: x\r\n\r\n"
                    "GET /dlr HTTP/1.1\r\n\r\n";
  send_all(f, req, strlen(req));
  size_t got;
  char *r = receive(f, 2 * strlen(OK), &got);
  assert_int_equal(got, 2 * strlen(OK));
  assert_memory_equal(r, OK, strlen(OK));
  assert_memory_equal(r + strlen(OK), OK, strlen(OK));
  free(r);
  sg_sim_sink_counts_t c;
  sg_sim_sink_counts(f->sink, &c);
  assert_int_equal(c.callbacks, 2);
  assert_int_equal(c.total, 0);
  assert_true(c.last_callback_ms > 1700000000000);
  sg_sim_sink_flush(f->sink);
  assert_memory_equal(rec, "seq=7&type=1 ", 13);
  long long t1 = strtoll(rec + 13, NULL, 10);
  assert_true(t1 > 1700000000000 && t1 <= c.last_callback_ms);
  /* the second has no query: an empty first field */
  const char *second = strchr(rec, '\n') + 1;
  assert_int_equal(second[0], ' ');
  assert_int_equal(strtoll(second + 1, NULL, 10), c.last_callback_ms);
  stop(f);
  fclose(mem);
  free(rec);
}

static void test_body_in_pieces(void **state) {
  (void)state;
  fx_t *f = start(0, true);
  const char *b = "{\"status\":\"delivered\"}";
  char sig[SG_WEBHOOK_SIGNATURE_LEN + 1], req[1024];
  sg_webhook_sign((const uint8_t *)SECRET, strlen(SECRET), b, strlen(b), sig);
  size_t n = post(req, sizeof req, b, sig, NULL);
  size_t got;
  for (size_t i = 0; i < n; i += 7) { /* 7 bytes at a time */
    send_all(f, req + i, n - i < 7 ? n - i : 7);
    char *r = receive_for(f, 1, &got, i + 7 < n ? 5 : 5000);
    if (i + 7 < n)
      assert_int_equal(got, 0);
    else
      assert_string_equal(r, OK);
    free(r);
  }
  sg_sim_sink_counts_t c;
  sg_sim_sink_counts(f->sink, &c);
  assert_int_equal(c.total, 1);
  assert_int_equal(c.bad_signature, 0);
  stop(f);
}

static void test_without_secret_nothing_is_bad(void **state) {
  (void)state;
  fx_t *f = start(503, false);
  char req[1024];
  size_t n = post(req, sizeof req, "{\"status\":\"failed\"}", NULL,
                  "Connection: close\r\n");
  send_all(f, req, n);
  size_t got;
  char *r = receive(f, 0, &got); /* until the sink closes */
  assert_string_equal(r, "HTTP/1.1 503 Service Unavailable\r\n"
                         "Content-Length: 0\r\nConnection: close\r\n\r\n");
  free(r);
  sg_sim_sink_counts_t c;
  sg_sim_sink_counts(f->sink, &c);
  assert_int_equal(c.total, 1);
  assert_int_equal(c.bad_signature, 0);
  stop(f);
}

static void expect_refused(const char *req, const char *status_line) {
  fx_t *f = start(0, true);
  send_all(f, req, strlen(req));
  size_t got;
  char *r = receive(f, 0, &got);
  assert_true(got > strlen(status_line));
  assert_memory_equal(r, status_line, strlen(status_line));
  assert_non_null(strstr(r, "Connection: close\r\n"));
  free(r);
  sg_sim_sink_counts_t c;
  sg_sim_sink_counts(f->sink, &c);
  assert_int_equal(c.total, 0);
  assert_int_equal(c.bad_request, 1);
  stop(f);
}

static void test_bad_requests(void **state) {
  (void)state;
  expect_refused("POST / HTTP/1.1\nbare: lf\r\n\r\n",
                 "HTTP/1.1 400 Bad Request\r\n");
  expect_refused("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
                 "2\r\n{}\r\n0\r\n\r\n",
                 "HTTP/1.1 411 Length Required\r\n");
  expect_refused("POST / HTTP/1.1\r\nContent-Length: 99999999\r\n\r\n",
                 "HTTP/1.1 413 Content Too Large\r\n");
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_parse_head),
      cmocka_unit_test(test_parse_head_signature_and_body_after),
      cmocka_unit_test(test_parse_head_too_long),
      cmocka_unit_test(test_status),
      cmocka_unit_test(test_counts_json),
      cmocka_unit_test(test_signed_webhooks_counted),
      cmocka_unit_test(test_dlr_callbacks_recorded),
      cmocka_unit_test(test_body_in_pieces),
      cmocka_unit_test(test_without_secret_nothing_is_bad),
      cmocka_unit_test(test_bad_requests),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
