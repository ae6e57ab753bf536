/* Tests for the webhook client's own HTTP/1.1 transport (http:// URLs),
 * against a scripted TCP peer on 127.0.0.1 on the same loop: the request
 * as it goes on the wire (request line, Host, signature, length, body; a
 * GET without body), an answer sent one octet per write, a chunked answer,
 * an answer delimited by the close, bad status lines, octets after the
 * answer, a kept connection that the peer closes while idle and one it
 * closes on the next request without answering, a peer that never answers
 * (timeout), a redirect that is not followed, Retry-After, and every
 * loopback spelling refused with nothing reaching the peer. With a pipeline
 * (cfg.pipeline): requests written together on one connection, and a
 * connection closed with requests still unanswered, which run again on a
 * new one. */
#define _GNU_SOURCE /* memmem */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include "core/error.h"
#include "engine/webhook.h"

#define SECRET "s3cret"
#define BODY "{\"status\":\"delivered\"}"
#define MAX_REQ 16

enum { ANSWER, BYTEWISE, SILENT, CLOSE_AT_ONCE };

typedef struct act {
  int mode;
  const char *answer;
  bool close_after; /* close once the answer is out */
} act_t;

typedef struct peer peer_t;

typedef struct pconn {
  uv_tcp_t tcp;
  uv_timer_t drip;
  peer_t *p;
  char in[8192];
  size_t in_len;
  const char *out;
  size_t out_len, out_at;
  bool close_after;
  int open;
} pconn_t;

struct peer {
  uv_loop_t loop;
  uv_tcp_t listener;
  uint16_t port;
  const act_t *script; /* per request, by number; the last repeats */
  size_t n_script;
  int conns, reqs, most_in_a_read;
  char req[MAX_REQ][2048];
  pconn_t *live[MAX_REQ];
  sg_webhook_t *wh;
  sg_webhook_result_t res[MAX_REQ];
  char detail[MAX_REQ][160], body[MAX_REQ][64], ctype[MAX_REQ][64];
  int n_res, want;
  uv_timer_t guard;
  bool timed_out;
};

static void pconn_closed_cb(uv_handle_t *h) {
  pconn_t *c = h->data;
  if (--c->open == 0)
    free(c);
}

static void pconn_close(pconn_t *c) {
  if (uv_is_closing((uv_handle_t *)&c->tcp))
    return;
  for (int i = 0; i < MAX_REQ; i++)
    if (c->p->live[i] == c)
      c->p->live[i] = NULL;
  uv_close((uv_handle_t *)&c->tcp, pconn_closed_cb);
  uv_close((uv_handle_t *)&c->drip, pconn_closed_cb);
}

static void drip_cb(uv_timer_t *t) {
  pconn_t *c = t->data;
  uv_buf_t b = uv_buf_init((char *)c->out + c->out_at, 1);
  if (uv_try_write((uv_stream_t *)&c->tcp, &b, 1) == 1)
    c->out_at++;
  if (c->out_at == c->out_len) {
    uv_timer_stop(t);
    if (c->close_after)
      pconn_close(c);
  }
}

/* Where the request in c->in ends (head and Content-Length body), or 0. */
static size_t request_end(const pconn_t *c) {
  const char *e = memmem(c->in, c->in_len, "\r\n\r\n", 4);
  if (e == NULL)
    return 0;
  size_t head = (size_t)(e - c->in) + 4, len = 0;
  const char *cl = memmem(c->in, head, "Content-Length: ", 16);
  if (cl != NULL)
    len = strtoul(cl + 16, NULL, 10);
  return c->in_len >= head + len ? head + len : 0;
}

static void act_on(pconn_t *c, const act_t *a) {
  if (a->mode == SILENT)
    return;
  if (a->mode == CLOSE_AT_ONCE) {
    pconn_close(c);
    return;
  }
  c->out = a->answer;
  c->out_len = strlen(a->answer);
  c->out_at = 0;
  c->close_after = a->close_after;
  if (a->mode == BYTEWISE) {
    uv_timer_start(&c->drip, drip_cb, 1, 1);
    return;
  }
  uv_buf_t b = uv_buf_init((char *)c->out, (unsigned)c->out_len);
  assert_int_equal(uv_try_write((uv_stream_t *)&c->tcp, &b, 1), c->out_len);
  if (c->close_after)
    pconn_close(c);
}

static void pconn_alloc_cb(uv_handle_t *h, size_t hint, uv_buf_t *buf) {
  pconn_t *c = h->data;
  (void)hint;
  *buf = uv_buf_init(c->in + c->in_len, (unsigned)(sizeof c->in - c->in_len));
}

static void pconn_read_cb(uv_stream_t *s, ssize_t n, const uv_buf_t *buf) {
  pconn_t *c = s->data;
  peer_t *p = c->p;
  (void)buf;
  if (n < 0) {
    pconn_close(c);
    return;
  }
  c->in_len += (size_t)n;
  size_t end;
  int in_this_read = 0;
  while ((end = request_end(c)) > 0) {
    if (++in_this_read > p->most_in_a_read)
      p->most_in_a_read = in_this_read;
    int k = p->reqs++;
    if (k < MAX_REQ) {
      snprintf(p->req[k], sizeof p->req[k], "%.*s", (int)end, c->in);
      p->live[k] = c;
    }
    memmove(c->in, c->in + end, c->in_len - end);
    c->in_len -= end;
    size_t i = (size_t)k < p->n_script ? (size_t)k : p->n_script - 1;
    act_on(c, &p->script[i]);
    if (uv_is_closing((uv_handle_t *)&c->tcp))
      return;
  }
}

static void accept_cb(uv_stream_t *l, int status) {
  peer_t *p = l->data;
  assert_int_equal(status, 0);
  pconn_t *c = calloc(1, sizeof *c);
  c->p = p;
  c->open = 2;
  uv_tcp_init(&p->loop, &c->tcp);
  uv_timer_init(&p->loop, &c->drip);
  c->tcp.data = c->drip.data = c;
  assert_int_equal(uv_accept(l, (uv_stream_t *)&c->tcp), 0);
  uv_tcp_nodelay(&c->tcp, 1);
  p->conns++;
  uv_read_start((uv_stream_t *)&c->tcp, pconn_alloc_cb, pconn_read_cb);
}

static void guard_cb(uv_timer_t *t) {
  peer_t *p = t->data;
  p->timed_out = true;
  uv_stop(&p->loop);
}

static unsigned pipeline; /* cfg.pipeline of the next peer_new */

static peer_t *peer_new(const act_t *script, size_t n, unsigned timeout_ms,
                        bool allow_private) {
  peer_t *p = calloc(1, sizeof *p);
  assert_int_equal(uv_loop_init(&p->loop), 0);
  p->script = script;
  p->n_script = n;
  uv_tcp_init(&p->loop, &p->listener);
  p->listener.data = p;
  struct sockaddr_in sa;
  uv_ip4_addr("127.0.0.1", 0, &sa);
  assert_int_equal(uv_tcp_bind(&p->listener, (const struct sockaddr *)&sa, 0),
                   0);
  assert_int_equal(uv_listen((uv_stream_t *)&p->listener, 16, accept_cb), 0);
  int len = sizeof sa;
  uv_tcp_getsockname(&p->listener, (struct sockaddr *)&sa, &len);
  p->port = ntohs(sa.sin_port);
  uv_timer_init(&p->loop, &p->guard);
  p->guard.data = p;
  sg_webhook_cfg_t cfg = {.allow_private = allow_private,
                          .timeout_ms = timeout_ms,
                          .pipeline = pipeline,
                          .user_agent = "test-agent"};
  assert_int_equal(sg_webhook_new(&p->loop, &cfg, &p->wh), 0);
  return p;
}

static void peer_free(peer_t *p) {
  sg_webhook_free(p->wh);
  uv_close((uv_handle_t *)&p->listener, NULL);
  uv_close((uv_handle_t *)&p->guard, NULL);
  uv_run(&p->loop, UV_RUN_NOWAIT);
  for (int i = 0; i < MAX_REQ; i++)
    if (p->live[i] != NULL)
      pconn_close(p->live[i]);
  uv_run(&p->loop, UV_RUN_DEFAULT);
  assert_int_equal(uv_loop_close(&p->loop), 0);
  free(p);
}

static void done_cb(void *data, const sg_webhook_result_t *res) {
  peer_t *p = data;
  int i = p->n_res++;
  if (i < MAX_REQ) {
    p->res[i] = *res;
    snprintf(p->detail[i], sizeof p->detail[i], "%s", res->detail);
    snprintf(p->body[i], sizeof p->body[i], "%.*s", (int)res->body_len,
             res->body ? res->body : "");
    snprintf(p->ctype[i], sizeof p->ctype[i], "%s",
             res->content_type ? res->content_type : "");
  }
  if (p->n_res >= p->want)
    uv_stop(&p->loop);
}

static void post_url(peer_t *p, const char *url, bool get) {
  static const char *const hdrs[] = {"X-Smsgate-Webhook-Id: 42", NULL};
  sg_webhook_req_t req = {.url = url,
                          .body = BODY,
                          .len = sizeof BODY - 1,
                          .secret = (const uint8_t *)SECRET,
                          .secret_len = sizeof SECRET - 1,
                          .headers = hdrs,
                          .attempt = 1,
                          .get = get};
  assert_int_equal(sg_webhook_post(p->wh, &req, done_cb, p), 0);
}

static void post(peer_t *p, const char *path) {
  char url[128];
  snprintf(url, sizeof url, "http://127.0.0.1:%u%s", p->port, path);
  post_url(p, url, false);
}

/* Runs the loop until `n` more verdicts are in (5 s at most). */
static void wait_for(peer_t *p, int n) {
  p->want = p->n_res + n;
  uv_timer_start(&p->guard, guard_cb, 5000, 0);
  while (p->n_res < p->want && !p->timed_out)
    uv_run(&p->loop, UV_RUN_DEFAULT);
  uv_timer_stop(&p->guard);
  assert_false(p->timed_out);
}

static void settle(peer_t *p, unsigned ms) {
  uv_timer_start(&p->guard, guard_cb, ms, 0);
  uv_run(&p->loop, UV_RUN_DEFAULT);
  p->timed_out = false;
}

#define OK200 "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello"

static void request_on_the_wire(void **state) {
  (void)state;
  static const act_t s[] = {{ANSWER, OK200, false}};
  peer_t *p = peer_new(s, 1, 0, true);
  post(p, "/hook?a=1#frag");
  wait_for(p, 1);
  char sig[SG_WEBHOOK_SIGNATURE_LEN + 1];
  sg_webhook_sign((const uint8_t *)SECRET, sizeof SECRET - 1, BODY,
                  sizeof BODY - 1, sig);
  char want[1024];
  snprintf(want, sizeof want,
           "POST /hook?a=1 HTTP/1.1\r\nHost: 127.0.0.1:%u\r\n"
           "User-Agent: test-agent\r\nAccept: */*\r\n"
           "Content-Type: application/json\r\nX-Smsgate-Signature: %s\r\n"
           "X-Smsgate-Webhook-Id: 42\r\nContent-Length: %zu\r\n\r\n%s",
           p->port, sig, sizeof BODY - 1, BODY);
  assert_string_equal(p->req[0], want);
  assert_int_equal(p->res[0].outcome, SG_WEBHOOK_DELIVERED);
  assert_int_equal(p->res[0].http_status, 200);
  assert_string_equal(p->body[0], "hello");
  /* a GET (a Kannel dlr-url) carries no body, type or signature */
  char url[128];
  snprintf(url, sizeof url, "http://127.0.0.1:%u?x=%%20", p->port);
  post_url(p, url, true);
  wait_for(p, 1);
  snprintf(want, sizeof want,
           "GET /?x=%%20 HTTP/1.1\r\nHost: 127.0.0.1:%u\r\n"
           "User-Agent: test-agent\r\nAccept: */*\r\n"
           "X-Smsgate-Webhook-Id: 42\r\n\r\n",
           p->port);
  assert_string_equal(p->req[1], want);
  assert_int_equal(p->conns, 1); /* the connection was kept */
  /* the first URL again, after another: the same request (the client
   * keeps the last URL's parse) */
  post(p, "/hook?a=1#frag");
  wait_for(p, 1);
  assert_string_equal(p->req[2], p->req[0]);
  post(p, "/hook?a=1#frag");
  wait_for(p, 1);
  assert_string_equal(p->req[3], p->req[0]);
  peer_free(p);
}

static void answer_split_at_every_octet(void **state) {
  (void)state;
  static const act_t s[] = {
      {BYTEWISE, OK200, false},
      {BYTEWISE,
       "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Type: "
       "text/plain\r\n\r\n3\r\nabc\r\n2;e=1\r\nde\r\n0\r\n\r\n",
       false}};
  peer_t *p = peer_new(s, 2, 0, true);
  post(p, "/a");
  wait_for(p, 1);
  post(p, "/b");
  wait_for(p, 1);
  assert_int_equal(p->res[0].outcome, SG_WEBHOOK_DELIVERED);
  assert_string_equal(p->body[0], "hello");
  assert_int_equal(p->res[1].outcome, SG_WEBHOOK_DELIVERED);
  assert_string_equal(p->body[1], "abcde");
  assert_string_equal(p->ctype[1], "text/plain");
  assert_int_equal(p->conns, 1);
  peer_free(p);
}

static void answer_delimited_by_close(void **state) {
  (void)state;
  static const act_t s[] = {
      {ANSWER, "HTTP/1.1 200 OK\r\n\r\nuntil-close", true},
      {ANSWER, OK200, false}};
  peer_t *p = peer_new(s, 2, 0, true);
  post(p, "/a");
  wait_for(p, 1);
  assert_int_equal(p->res[0].outcome, SG_WEBHOOK_DELIVERED);
  assert_string_equal(p->body[0], "until-close");
  post(p, "/b");
  wait_for(p, 1);
  assert_int_equal(p->res[1].outcome, SG_WEBHOOK_DELIVERED);
  assert_int_equal(p->conns, 2);
  peer_free(p);
}

static void bad_answers(void **state) {
  (void)state;
  static const char *const bad[] = {
      "HTTP/1.1 2x0 OK\r\nContent-Length: 0\r\n\r\n",
      "HTTP/9.9 200 OK\r\nContent-Length: 0\r\n\r\n", "garbage\r\n\r\n",
      "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nx",
      "HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\nshort"};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    act_t s[] = {{ANSWER, bad[i], true}};
    peer_t *p = peer_new(s, 1, 0, true);
    post(p, "/x");
    wait_for(p, 1);
    if (p->res[0].outcome != SG_WEBHOOK_RETRY ||
        p->res[0].reason != SG_WEBHOOK_R_TRANSPORT)
      fail_msg("%s: %s/%s", bad[i], sg_webhook_outcome_name(p->res[0].outcome),
               sg_webhook_reason_name(p->res[0].reason));
    assert_true(p->res[0].retry_in_ms >= 8000);
    assert_true(strstr(p->detail[0], "answer") != NULL);
    peer_free(p);
  }
}

static void octets_after_answer_end_the_connection(void **state) {
  (void)state;
  static const act_t s[] = {{ANSWER, OK200 "HTTP/1.1 200 OK\r\n", false},
                            {ANSWER, OK200, false}};
  peer_t *p = peer_new(s, 2, 0, true);
  post(p, "/a");
  wait_for(p, 1);
  post(p, "/b");
  wait_for(p, 1);
  assert_int_equal(p->res[0].outcome, SG_WEBHOOK_DELIVERED);
  assert_int_equal(p->res[1].outcome, SG_WEBHOOK_DELIVERED);
  assert_int_equal(p->conns, 2);
  peer_free(p);
}

static void kept_connection_closed_by_peer(void **state) {
  (void)state;
  /* 1: answered, then the peer closes the idle connection;
   * 2: on a new connection, answered and kept;
   * 3: the peer closes that kept connection on reading the request, without
   *    answering: sent once more on a new connection, and answered there. */
  static const act_t s[] = {{ANSWER, OK200, true},
                            {ANSWER, OK200, false},
                            {CLOSE_AT_ONCE, NULL, false},
                            {ANSWER, OK200, false}};
  peer_t *p = peer_new(s, 4, 0, true);
  post(p, "/1");
  wait_for(p, 1);
  settle(p, 50); /* the client sees the close while idle */
  post(p, "/2");
  wait_for(p, 1);
  post(p, "/3");
  wait_for(p, 1);
  for (int i = 0; i < 3; i++)
    assert_int_equal(p->res[i].outcome, SG_WEBHOOK_DELIVERED);
  assert_int_equal(p->reqs, 4);
  assert_int_equal(p->conns, 3);
  peer_free(p);
}

static void silent_peer_times_out(void **state) {
  (void)state;
  static const act_t s[] = {{SILENT, NULL, false}};
  peer_t *p = peer_new(s, 1, 200, true);
  uint64_t t0 = uv_hrtime();
  post(p, "/x");
  wait_for(p, 1);
  double ms = (double)(uv_hrtime() - t0) / 1e6;
  assert_int_equal(p->res[0].outcome, SG_WEBHOOK_RETRY);
  assert_int_equal(p->res[0].reason, SG_WEBHOOK_R_TIMEOUT);
  assert_true(ms >= 190 && ms < 2000);
  /* a peer that answers only the head times out too */
  static const act_t s2[] = {
      {ANSWER, "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc", false}};
  peer_t *q = peer_new(s2, 1, 200, true);
  post(q, "/x");
  wait_for(q, 1);
  assert_int_equal(q->res[0].reason, SG_WEBHOOK_R_TIMEOUT);
  peer_free(q);
  peer_free(p);
}

/* Six posts at once with a pipeline of 4: four requests in one write on one
 * connection, the other two on a second; every answer is its own. Posts
 * on kept connections fill one connection's write before the next. */
static void pipelined_requests_share_a_write(void **state) {
  (void)state;
  static const act_t s[] = {{ANSWER, OK200, false}};
  pipeline = 4;
  peer_t *p = peer_new(s, 1, 0, true);
  pipeline = 0;
  for (int i = 0; i < 6; i++)
    post(p, "/p");
  wait_for(p, 6);
  for (int i = 0; i < 6; i++) {
    assert_int_equal(p->res[i].outcome, SG_WEBHOOK_DELIVERED);
    assert_string_equal(p->body[i], "hello");
  }
  assert_int_equal(p->reqs, 6);
  assert_int_equal(p->conns, 2);
  assert_int_equal(p->most_in_a_read, 4);
  /* the kept connections take the next ones, again several at once */
  for (int i = 0; i < 3; i++)
    post(p, "/q");
  wait_for(p, 3);
  assert_int_equal(p->conns, 2);
  assert_int_equal(p->reqs, 9);
  assert_int_equal(p->most_in_a_read, 4);
  /* with both idle, four posts of one iteration fill one connection's
   * write rather than taking a write on each idle connection */
  p->most_in_a_read = 0;
  for (int i = 0; i < 4; i++)
    post(p, "/r");
  wait_for(p, 4);
  for (int i = 9; i < 13; i++)
    assert_int_equal(p->res[i].outcome, SG_WEBHOOK_DELIVERED);
  assert_int_equal(p->conns, 2);
  assert_int_equal(p->reqs, 13);
  assert_int_equal(p->most_in_a_read, 4);
  peer_free(p);
}

/* The peer answers the first of four pipelined requests and closes: the
 * three it did not answer run again on a new connection, each gets its own
 * answer, none is lost or counted twice. Then a peer that closes at once:
 * only the first request's attempt fails, the three behind it run again. */
static void connection_closed_mid_pipeline(void **state) {
  (void)state;
  static const act_t s[] = {{ANSWER, OK200, true}, {ANSWER, OK200, false}};
  pipeline = 4;
  peer_t *p = peer_new(s, 2, 0, true);
  for (int i = 0; i < 4; i++)
    post(p, "/m");
  wait_for(p, 4);
  settle(p, 50);
  for (int i = 0; i < 4; i++)
    assert_int_equal(p->res[i].outcome, SG_WEBHOOK_DELIVERED);
  assert_int_equal(p->n_res, 4);
  assert_int_equal(p->conns, 2);
  assert_int_equal(p->reqs, 4); /* one on the first, three on the second */
  assert_int_equal(p->most_in_a_read, 3);

  static const act_t s2[] = {{CLOSE_AT_ONCE, NULL, false},
                             {ANSWER, OK200, false}};
  peer_t *q = peer_new(s2, 2, 0, true);
  pipeline = 0;
  for (int i = 0; i < 4; i++)
    post(q, "/c");
  wait_for(q, 4);
  settle(q, 50);
  assert_int_equal(q->n_res, 4);
  int delivered = 0, failed = 0;
  for (int i = 0; i < 4; i++) {
    delivered += q->res[i].outcome == SG_WEBHOOK_DELIVERED;
    failed += q->res[i].outcome == SG_WEBHOOK_RETRY &&
              q->res[i].reason == SG_WEBHOOK_R_TRANSPORT;
  }
  assert_int_equal(delivered, 3);
  assert_int_equal(failed, 1);
  assert_int_equal(q->conns, 2);
  assert_int_equal(q->reqs, 4);
  peer_free(q);
  peer_free(p);
}

/* "Connection: close" on the first answer of three pipelined requests: the
 * two behind it run again on a new connection (RFC 9112 section 9.3.2);
 * three deliveries. Then three requests to a peer that never answers: the
 * first times out, the two behind it run out of their own time on the new
 * connection; three timeouts, no more. */
static void close_answer_and_timeout_mid_pipeline(void **state) {
  (void)state;
  static const act_t s[] = {
      {ANSWER,
       "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 5\r\n\r\nhello",
       false},
      {ANSWER, OK200, false}};
  pipeline = 4;
  peer_t *p = peer_new(s, 2, 0, true);
  for (int i = 0; i < 3; i++)
    post(p, "/k");
  wait_for(p, 3);
  settle(p, 50);
  assert_int_equal(p->n_res, 3);
  for (int i = 0; i < 3; i++)
    assert_int_equal(p->res[i].outcome, SG_WEBHOOK_DELIVERED);
  assert_int_equal(p->conns, 2);
  assert_int_equal(p->reqs, 5); /* 3 on the first, 2 again on the second */

  static const act_t s2[] = {{SILENT, NULL, false}};
  peer_t *q = peer_new(s2, 1, 300, true);
  pipeline = 0;
  for (int i = 0; i < 3; i++)
    post(q, "/t");
  wait_for(q, 3);
  settle(q, 400);
  assert_int_equal(q->n_res, 3);
  for (int i = 0; i < 3; i++) {
    assert_int_equal(q->res[i].outcome, SG_WEBHOOK_RETRY);
    assert_int_equal(q->res[i].reason, SG_WEBHOOK_R_TIMEOUT);
    assert_string_equal(q->detail[i], "no complete answer within the timeout");
  }
  /* Their time was up, or all but (posted a few ms after the first, slower
   * under a sanitizer): not sent again. */
  assert_int_equal(q->conns, 1);
  peer_free(q);
  peer_free(p);
}

static void redirect_and_retry_after(void **state) {
  (void)state;
  static const act_t s[] = {
      {ANSWER,
       "HTTP/1.1 302 Found\r\nLocation: http://127.0.0.1:1/\r\n"
       "Content-Length: 0\r\n\r\n",
       false},
      {ANSWER,
       "HTTP/1.1 503 Busy\r\nRetry-After: 120\r\nContent-Length: 0\r\n\r\n",
       false},
      {ANSWER, "HTTP/1.1 404 No\r\nContent-Length: 0\r\n\r\n", false}};
  peer_t *p = peer_new(s, 3, 0, true);
  post(p, "/r");
  wait_for(p, 1);
  post(p, "/b");
  wait_for(p, 1);
  post(p, "/n");
  wait_for(p, 1);
  settle(p, 30);
  assert_int_equal(p->res[0].outcome, SG_WEBHOOK_PERMANENT);
  assert_int_equal(p->res[0].reason, SG_WEBHOOK_R_REDIRECT);
  assert_int_equal(p->res[1].outcome, SG_WEBHOOK_RETRY);
  assert_int_equal(p->res[1].retry_in_ms, 120000);
  assert_int_equal(p->res[2].outcome, SG_WEBHOOK_PERMANENT);
  assert_int_equal(p->res[2].http_status, 404);
  assert_int_equal(p->reqs, 3); /* the redirect was not followed */
  peer_free(p);
}

static void private_addresses_refused(void **state) {
  (void)state;
  static const act_t s[] = {{ANSWER, OK200, false}};
  peer_t *p = peer_new(s, 1, 0, false);
  static const char *const hosts[] = {"127.0.0.1", "localhost", "[::1]",
                                      "127.1", "[::ffff:127.0.0.1]"};
  for (size_t i = 0; i < 5; i++) {
    char url[128];
    snprintf(url, sizeof url, "http://%s:%u/x", hosts[i], p->port);
    post_url(p, url, false);
  }
  assert_int_equal(p->n_res, 0); /* never from inside the post */
  wait_for(p, 5);
  settle(p, 30);
  for (int i = 0; i < 5; i++) {
    assert_int_equal(p->res[i].outcome, SG_WEBHOOK_PERMANENT);
    assert_int_equal(p->res[i].reason, SG_WEBHOOK_R_REFUSED);
  }
  assert_int_equal(p->conns, 0);
  peer_free(p);
}

static void refused_port_and_unresolvable(void **state) {
  (void)state;
  static const act_t s[] = {{ANSWER, OK200, false}};
  peer_t *p = peer_new(s, 1, 0, true);
  /* a port nobody listens on: the peer's own, once closed */
  char url[128];
  snprintf(url, sizeof url, "http://127.0.0.1:%u/x", p->port);
  uv_close((uv_handle_t *)&p->listener, NULL);
  p->listener.data = NULL;
  uv_run(&p->loop, UV_RUN_NOWAIT);
  post_url(p, url, false);
  post_url(p, "http://no-such-host.invalid/x", false);
  wait_for(p, 2);
  assert_int_equal(p->res[0].outcome, SG_WEBHOOK_RETRY);
  assert_int_equal(p->res[0].reason, SG_WEBHOOK_R_CONNECT);
  assert_int_equal(p->res[1].outcome, SG_WEBHOOK_RETRY);
  assert_int_equal(p->res[1].reason, SG_WEBHOOK_R_CONNECT);
  sg_webhook_free(p->wh);
  uv_close((uv_handle_t *)&p->guard, NULL);
  uv_run(&p->loop, UV_RUN_DEFAULT);
  assert_int_equal(uv_loop_close(&p->loop), 0);
  free(p);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(request_on_the_wire),
      cmocka_unit_test(answer_split_at_every_octet),
      cmocka_unit_test(answer_delimited_by_close),
      cmocka_unit_test(bad_answers),
      cmocka_unit_test(octets_after_answer_end_the_connection),
      cmocka_unit_test(kept_connection_closed_by_peer),
      cmocka_unit_test(silent_peer_times_out),
      cmocka_unit_test(redirect_and_retry_after),
      cmocka_unit_test(pipelined_requests_share_a_write),
      cmocka_unit_test(connection_closed_mid_pipeline),
      cmocka_unit_test(close_answer_and_timeout_mid_pipeline),
      cmocka_unit_test(private_addresses_refused),
      cmocka_unit_test(refused_port_and_unresolvable),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
