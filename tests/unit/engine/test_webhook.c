/* Tests for the webhook client: the signature (RFC 4231 vectors, checked
 * again with OpenSSL on what arrives), the verdict on each kind of answer
 * (2xx, 5xx, 408, 429 with Retry-After, 404, a redirect, a timeout, a
 * refused connection), the SSRF refusal of every loopback spelling with
 * no connection reaching the receiver, the bounded queue, connection
 * reuse, the back-off schedule and shutting down with posts in flight.
 *
 * The receiver is the gateway's own HTTP server on 127.0.0.1, on the same
 * libuv loop as the client, so the tests need no thread. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <netinet/in.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <uv.h>

#include "core/alloc.h"
#include "core/error.h"
#include "engine/webhook.h"
#include "engine/webhook_thread.h"
#include "ingress/http_server.h"

/* ---- pure parts ---------------------------------------------------------- */

/* RFC 4231 section 4: test cases 1, 2, 6 and 7 (keys of 20, 4 and 131
 * bytes: shorter and longer than the SHA-256 block). */
static void sign_rfc4231(void **state) {
  uint8_t key1[20], key6[131];
  memset(key1, 0x0b, sizeof key1);
  memset(key6, 0xaa, sizeof key6);
  static const char data7[] =
      "This is a test using a larger than block-size key and a larger than "
      "block-size data. The key needs to be hashed before being used by the "
      "HMAC algorithm.";
  struct {
    const uint8_t *key;
    size_t key_len;
    const char *data;
    const char *want;
  } v[] = {
      {key1, sizeof key1, "Hi There",
       "sha256="
       "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"},
      {(const uint8_t *)"Jefe", 4, "what do ya want for nothing?",
       "sha256="
       "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"},
      {key6, sizeof key6,
       "Test Using Larger Than Block-Size Key - Hash Key First",
       "sha256="
       "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"},
      {key6, sizeof key6, data7,
       "sha256="
       "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2"},
  };
  char out[SG_WEBHOOK_SIGNATURE_LEN + 1];
  for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
    assert_int_equal(sg_webhook_sign(v[i].key, v[i].key_len, v[i].data,
                                     strlen(v[i].data), out),
                     0);
    assert_string_equal(out, v[i].want);
    assert_true(sg_webhook_verify(v[i].key, v[i].key_len, v[i].data,
                                  strlen(v[i].data), v[i].want));
  }
  /* Any change in key, body or header fails verification. */
  const char *good = v[1].want;
  assert_false(sg_webhook_verify((const uint8_t *)"Jeff", 4, v[1].data,
                                 strlen(v[1].data), good));
  assert_false(sg_webhook_verify((const uint8_t *)"Jefe", 4, "what do ya want",
                                 15, good));
  char bad[SG_WEBHOOK_SIGNATURE_LEN + 2];
  snprintf(bad, sizeof bad, "%s", good);
  bad[SG_WEBHOOK_SIGNATURE_LEN - 1] ^= 1;
  assert_false(sg_webhook_verify((const uint8_t *)"Jefe", 4, v[1].data,
                                 strlen(v[1].data), bad));
  assert_false(sg_webhook_verify((const uint8_t *)"Jefe", 4, v[1].data,
                                 strlen(v[1].data), good + 7)); /* no prefix */
  snprintf(bad, sizeof bad, "%sa", good);
  assert_false(sg_webhook_verify((const uint8_t *)"Jefe", 4, v[1].data,
                                 strlen(v[1].data), bad)); /* too long */
  assert_false(sg_webhook_verify((const uint8_t *)"Jefe", 4, v[1].data,
                                 strlen(v[1].data), NULL));
  /* An empty key and body are valid inputs. */
  assert_int_equal(sg_webhook_sign(NULL, 0, NULL, 0, out), 0);
  assert_string_equal(out, "sha256=b613679a0814d9ec772f95d778c35fc5ff1697c493"
                           "715653c6c712144292c5ad");
  assert_int_equal(sg_webhook_sign(NULL, 3, "x", 1, out), SG_EINVAL);
}

/* The thread keeps the states of the last secret: a run of signatures
 * that changes secret (short, one block, one of the same length that differs
 * in its last octet, longer than a block, longer than what is kept, empty)
 * and body length (across the block boundaries of the inner hash) must
 * match OpenSSL's one-shot HMAC at every step. */
static void sign_rekeyed_matches_openssl(void **state) {
  (void)state;
  static uint8_t k64[64], k65[65], k256[256], k300[300], body[300];
  for (size_t i = 0; i < sizeof k300; i++) {
    k300[i] = (uint8_t)(i * 7 + 1);
    body[i] = (uint8_t)(i * 13 + 5);
  }
  memcpy(k64, k300, sizeof k64);
  memcpy(k65, k300, sizeof k65);
  memcpy(k256, k300, sizeof k256);
  uint8_t k64b[64];
  memcpy(k64b, k64, sizeof k64b);
  k64b[63] ^= 1; /* same length, last octet differs */
  struct {
    const uint8_t *key;
    size_t len;
  } keys[] = {{(const uint8_t *)"s3cret", 6},
              {k64, 64},
              {k64b, 64},
              {k65, 65},
              {k256, 256},
              {k300, 300},
              {(const uint8_t *)"s3cret", 6},
              {NULL, 0}};
  char out[SG_WEBHOOK_SIGNATURE_LEN + 1], want[SG_WEBHOOK_SIGNATURE_LEN + 1];
  for (size_t len = 0; len <= 200; len++) {
    /* each secret twice in a row (kept), then the next one */
    size_t ki = (len / 2) % (sizeof keys / sizeof keys[0]);
    const uint8_t *key = keys[ki].key;
    size_t klen = keys[ki].len;
    assert_int_equal(sg_webhook_sign(key, klen, body, len, out), 0);
    if (klen == 0) { /* OpenSSL's HMAC refuses an empty key */
      if (len == 0)
        assert_string_equal(out, "sha256=b613679a0814d9ec772f95d778c35fc5ff16"
                                 "97c493715653c6c712144292c5ad");
      continue;
    }
    uint8_t mac[32];
    unsigned mac_len = 0;
    assert_non_null(
        HMAC(EVP_sha256(), key, (int)klen, body, len, mac, &mac_len));
    assert_int_equal(mac_len, 32);
    memcpy(want, "sha256=", 7);
    for (unsigned i = 0; i < 32; i++)
      snprintf(want + 7 + 2 * i, 3, "%02x", mac[i]);
    assert_string_equal(out, want);
  }
}

static void backoff_schedule(void **state) {
  /* Nominal: 10 s doubling, capped at 1 h. */
  static const uint64_t nominal[] = {10000,   20000,   40000,   80000,
                                     160000,  320000,  640000,  1280000,
                                     2560000, 3600000, 3600000, 3600000};
  for (unsigned a = 1; a <= 12; a++) {
    uint64_t d = nominal[a - 1];
    assert_int_equal(sg_webhook_backoff(a, 0), d);
    assert_int_equal(sg_webhook_backoff(a, (uint32_t)(d / 5)), d - d / 5);
    assert_int_equal(sg_webhook_backoff(a, (uint32_t)(d / 5 + 1)), d);
    for (uint32_t r = 1; r < 2000000000u; r = r * 7 + 12345) {
      uint64_t j = sg_webhook_backoff(a, r);
      assert_true(j <= d && j >= d - d / 5);
    }
  }
  assert_int_equal(sg_webhook_backoff(0, 0), 10000);
  assert_int_equal(sg_webhook_backoff(64, 0), 3600000);
  assert_int_equal(sg_webhook_backoff(UINT32_MAX, UINT32_MAX),
                   3600000 - UINT32_MAX % 720001);
  /* With the longest delays, an event gets 32 attempts in its 24 hours:
   * 9 doubling delays (5,110 s), then 22 of an hour. */
  uint64_t t = 0;
  unsigned attempts = 1;
  while (t + sg_webhook_backoff(attempts, 0) <= SG_WEBHOOK_MAX_AGE_MS)
    t += sg_webhook_backoff(attempts++, 0);
  assert_int_equal(attempts, 32);
  assert_string_equal(sg_webhook_outcome_name(SG_WEBHOOK_EXPIRED), "expired");
  assert_string_equal(sg_webhook_reason_name(SG_WEBHOOK_R_REFUSED), "refused");
  assert_string_equal(sg_webhook_reason_name((sg_webhook_reason_t)42),
                      "unknown");
}

/* ---- the receiver ----------------------------------------------------------
 */

#define MAX_RESULTS 32
#define SECRET "whsec_3f1c0e9a"

typedef struct fixture {
  uv_loop_t loop;
  uv_timer_t guard, release;
  sg_http_server_t *srv;
  sg_webhook_t *wh;
  uint16_t port;
  /* receiver side */
  int hits_ok, hits_slow, hits_redirect_target;
  int held_now, held_max;
  sg_http_req_t *held[MAX_RESULTS];
  int n_held;
  char body[1024];
  char sig[128], ctype[128], agent[128], event[128], expect[64];
  bool sig_ok_openssl;
  /* client side */
  sg_webhook_result_t res[MAX_RESULTS];
  char detail[MAX_RESULTS][256];
  char answer[MAX_RESULTS][64]; /* the answer's body, copied in done_cb */
  int n_res, want_res;
  bool timed_out;
} fixture_t;

static void check_signature_openssl(fixture_t *f, const char *body,
                                    size_t len) {
  uint8_t mac[32];
  unsigned mac_len = 0;
  char hex[7 + 65] = "sha256=";
  HMAC(EVP_sha256(), SECRET, (int)strlen(SECRET), (const uint8_t *)body, len,
       mac, &mac_len);
  for (unsigned i = 0; i < mac_len; i++)
    snprintf(hex + 7 + 2 * i, 3, "%02x", mac[i]);
  f->sig_ok_openssl = mac_len == 32 && strcmp(hex, f->sig) == 0;
}

static void copy_header(sg_http_req_t *req, const char *name, char *out,
                        size_t size) {
  const char *v = sg_http_req_header(req, name);
  snprintf(out, size, "%s", v ? v : "(none)");
}

static void ok_handler(sg_http_req_t *req, void *data) {
  fixture_t *f = data;
  size_t len;
  const uint8_t *body = sg_http_req_body(req, &len);
  f->hits_ok++;
  snprintf(f->body, sizeof f->body, "%.*s", (int)len, (const char *)body);
  copy_header(req, SG_WEBHOOK_SIGNATURE_HEADER, f->sig, sizeof f->sig);
  copy_header(req, "Content-Type", f->ctype, sizeof f->ctype);
  copy_header(req, "User-Agent", f->agent, sizeof f->agent);
  copy_header(req, "X-Smsgate-Event", f->event, sizeof f->event);
  copy_header(req, "Expect", f->expect, sizeof f->expect);
  check_signature_openssl(f, (const char *)body, len);
  sg_http_respond(req, 204, NULL, NULL, 0, NULL);
}

static void status_handler(sg_http_req_t *req, void *data) {
  unsigned status = (unsigned)atoi(sg_http_req_param(req, "code"));
  const char *retry = sg_http_req_query(req, "retry_after");
  const char *hdrs[] = {"Retry-After", retry, NULL};
  sg_http_respond(req, status, "text/plain", "no", 2, retry ? hdrs : NULL);
}

/* Answers {"reply":"answer N"} for /answer/N (an inbound webhook's reply). */
static void answer_handler(sg_http_req_t *req, void *data) {
  (void)data;
  char body[64];
  int n = snprintf(body, sizeof body, "{\"reply\":\"answer %s\"}",
                   sg_http_req_param(req, "n"));
  sg_http_respond(req, 200, "application/json", body, (size_t)n, NULL);
}

static void redirect_handler(sg_http_req_t *req, void *data) {
  fixture_t *f = data;
  char loc[128];
  snprintf(loc, sizeof loc, "http://127.0.0.1:%u/target", f->port);
  sg_http_respond(req, 302, "text/plain", "moved", 5,
                  (const char *[]){"Location", loc, NULL});
}

static void target_handler(sg_http_req_t *req, void *data) {
  fixture_t *f = data;
  f->hits_redirect_target++;
  sg_http_respond(req, 200, NULL, NULL, 0, NULL);
}

/* Holds every request until release_cb answers it. */
static void slow_handler(sg_http_req_t *req, void *data) {
  fixture_t *f = data;
  f->hits_slow++;
  f->held[f->n_held++] = req;
  if (++f->held_now > f->held_max)
    f->held_max = f->held_now;
}

static void release_cb(uv_timer_t *t) {
  fixture_t *f = t->data;
  for (int i = 0; i < f->n_held; i++) {
    sg_http_respond(f->held[i], 200, NULL, NULL, 0, NULL);
    f->held_now--;
  }
  f->n_held = 0;
}

static void guard_cb(uv_timer_t *t) {
  fixture_t *f = t->data;
  f->timed_out = true;
  uv_stop(&f->loop);
}

/* The receiver's idle timeout for the next fixture_new (0: its default). */
static unsigned g_idle_timeout_s;
/* Whether fixture_new makes the client with own_thread (set per test by
 * threaded_setup). */
static bool g_own_thread;

static fixture_t *fixture_new(bool allow_private, unsigned timeout_ms,
                              unsigned max_inflight, unsigned max_queue) {
  fixture_t *f = calloc(1, sizeof *f);
  assert_non_null(f);
  assert_int_equal(uv_loop_init(&f->loop), 0);
  uv_timer_init(&f->loop, &f->guard);
  uv_timer_init(&f->loop, &f->release);
  f->guard.data = f->release.data = f;
  sg_http_server_cfg_t scfg = {.host = "127.0.0.1",
                               .idle_timeout_s = g_idle_timeout_s};
  assert_int_equal(sg_http_server_new(&f->loop, &scfg, &f->srv), 0);
  f->port = sg_http_server_port(f->srv);
  assert_int_equal(sg_http_server_route(f->srv, "POST", "/ok", ok_handler, f),
                   0);
  assert_int_equal(
      sg_http_server_route(f->srv, "POST", "/answer/{n}", answer_handler, f),
      0);
  assert_int_equal(
      sg_http_server_route(f->srv, "POST", "/status/{code}", status_handler, f),
      0);
  assert_int_equal(
      sg_http_server_route(f->srv, "POST", "/redirect", redirect_handler, f),
      0);
  assert_int_equal(
      sg_http_server_route(f->srv, "POST", "/target", target_handler, f), 0);
  assert_int_equal(
      sg_http_server_route(f->srv, "GET", "/target", target_handler, f), 0);
  assert_int_equal(
      sg_http_server_route(f->srv, "POST", "/slow", slow_handler, f), 0);
  sg_webhook_cfg_t wcfg = {.allow_private = allow_private,
                           .timeout_ms = timeout_ms,
                           .max_inflight = max_inflight,
                           .max_queue = max_queue,
                           .own_thread = g_own_thread};
  assert_int_equal(sg_webhook_new(&f->loop, &wcfg, &f->wh), 0);
  return f;
}

static void close_walk_cb(uv_handle_t *h, void *arg) {
  if (!uv_is_closing(h))
    uv_close(h, NULL);
}

static void fixture_free(fixture_t *f) {
  release_cb(&f->release);
  sg_webhook_free(f->wh);
  sg_http_server_free(f->srv);
  uv_walk(&f->loop, close_walk_cb, NULL);
  uv_run(&f->loop, UV_RUN_DEFAULT);
  assert_int_equal(uv_loop_close(&f->loop), 0);
  free(f);
}

static void done_cb(void *data, const sg_webhook_result_t *res) {
  fixture_t *f = data;
  if (f->n_res < MAX_RESULTS) {
    snprintf(f->detail[f->n_res], sizeof f->detail[0], "%s", res->detail);
    snprintf(f->answer[f->n_res], sizeof f->answer[0], "%.*s",
             (int)res->body_len, res->body != NULL ? res->body : "");
    f->res[f->n_res++] = *res;
  }
  if (f->n_res >= f->want_res)
    uv_stop(&f->loop);
}

/* Runs the loop until `n` more verdicts are in (or 10 s pass). */
static void wait_results(fixture_t *f, int n) {
  f->want_res = f->n_res + n;
  f->timed_out = false;
  uv_timer_start(&f->guard, guard_cb, 10000, 0);
  while (f->n_res < f->want_res && !f->timed_out)
    uv_run(&f->loop, UV_RUN_DEFAULT);
  uv_timer_stop(&f->guard);
  assert_false(f->timed_out);
}

/* Lets the loop run for `ms` (for things that must not happen). */
static void settle(fixture_t *f, unsigned ms) {
  uv_timer_start(&f->guard, guard_cb, ms, 0);
  uv_run(&f->loop, UV_RUN_DEFAULT);
}

static int post(fixture_t *f, const char *path_or_url, unsigned attempt,
                uint64_t age_ms) {
  char url[256];
  if (strncmp(path_or_url, "http", 4) == 0 || strchr(path_or_url, ':'))
    snprintf(url, sizeof url, "%s", path_or_url);
  else
    snprintf(url, sizeof url, "http://127.0.0.1:%u%s", f->port, path_or_url);
  static const char body[] =
      "{\"type\":\"message.delivered\",\"id\":\"01J2Z\",\"status\":"
      "\"delivered\"}";
  sg_webhook_req_t req = {.url = url,
                          .body = body,
                          .len = sizeof body - 1,
                          .secret = (const uint8_t *)SECRET,
                          .secret_len = strlen(SECRET),
                          .headers =
                              (const char *[]){"X-Smsgate-Event: evt-1", NULL},
                          .attempt = attempt,
                          .age_ms = age_ms};
  return sg_webhook_post(f->wh, &req, done_cb, f);
}

static uint64_t accepted(fixture_t *f) {
  sg_http_server_stats_t st;
  sg_http_server_stats(f->srv, &st);
  return st.connections_accepted;
}

/* ---- verdicts
 * ---------------------------------------------------------------- */

static void delivered_and_signed(void **state) {
  fixture_t *f = fixture_new(true, 0, 0, 0);
  assert_int_equal(post(f, "/ok", 1, 0), 0);
  wait_results(f, 1);
  assert_int_equal(f->res[0].outcome, SG_WEBHOOK_DELIVERED);
  assert_int_equal(f->res[0].reason, SG_WEBHOOK_R_OK);
  assert_int_equal(f->res[0].http_status, 204);
  assert_int_equal(f->res[0].attempt, 1);
  assert_true(f->res[0].elapsed_ms > 0);
  assert_int_equal(f->hits_ok, 1);
  assert_string_equal(f->body,
                      "{\"type\":\"message.delivered\",\"id\":\"01J2Z\","
                      "\"status\":\"delivered\"}");
  assert_string_equal(f->ctype, "application/json");
  assert_string_equal(f->event, "evt-1");
  assert_string_equal(f->expect, "(none)");
  assert_true(strncmp(f->agent, "smsgate/", 8) == 0);
  assert_true(f->sig_ok_openssl); /* an independent HMAC agrees */
  assert_true(sg_webhook_verify((const uint8_t *)SECRET, strlen(SECRET),
                                f->body, strlen(f->body), f->sig));
  sg_webhook_stats_t st;
  sg_webhook_stats(f->wh, &st);
  assert_int_equal(st.delivered, 1);
  assert_int_equal(st.inflight, 0);
  fixture_free(f);
}

static void server_error_is_retryable(void **state) {
  fixture_t *f = fixture_new(true, 0, 0, 0);
  assert_int_equal(post(f, "/status/500", 1, 0), 0);
  assert_int_equal(post(f, "/status/503", 3, 60000), 0);
  assert_int_equal(post(f, "/status/408", 1, 0), 0);
  assert_int_equal(post(f, "/status/429?retry_after=120", 1, 0), 0);
  assert_int_equal(post(f, "/status/502?retry_after=999999", 1, 0), 0);
  wait_results(f, 5);
  for (int i = 0; i < 5; i++) {
    sg_webhook_result_t *r = NULL;
    for (int k = 0; k < 5; k++) /* verdicts may come in any order */
      if ((i == 0 && f->res[k].http_status == 500) ||
          (i == 1 && f->res[k].http_status == 503) ||
          (i == 2 && f->res[k].http_status == 408) ||
          (i == 3 && f->res[k].http_status == 429) ||
          (i == 4 && f->res[k].http_status == 502))
        r = &f->res[k];
    assert_non_null(r);
    assert_int_equal(r->outcome, SG_WEBHOOK_RETRY);
    assert_int_equal(r->reason, SG_WEBHOOK_R_HTTP_STATUS);
    if (i == 1) { /* third attempt: 40 s less up to 20 % */
      assert_int_equal(r->attempt, 3);
      assert_in_range(r->retry_in_ms, 32000, 40000);
    } else if (i == 3) { /* Retry-After beyond the back-off wins */
      assert_int_equal(r->retry_in_ms, 120000);
    } else if (i == 4) { /* but is capped at the back-off maximum */
      assert_int_equal(r->retry_in_ms, SG_WEBHOOK_BACKOFF_MAX_MS);
    } else {
      assert_in_range(r->retry_in_ms, 8000, 10000);
    }
  }
  fixture_free(f);
}

static void client_error_is_permanent(void **state) {
  fixture_t *f = fixture_new(true, 0, 0, 0);
  assert_int_equal(post(f, "/status/404", 1, 0), 0);
  wait_results(f, 1);
  assert_int_equal(post(f, "/status/400", 1, 0), 0);
  wait_results(f, 1);
  assert_int_equal(post(f, "/status/410", 1, 0), 0);
  wait_results(f, 1);
  assert_int_equal(post(f, "/nowhere", 1, 0), 0); /* the server's own 404 */
  wait_results(f, 1);
  static const long want[] = {404, 400, 410, 404};
  for (int i = 0; i < 4; i++) {
    assert_int_equal(f->res[i].outcome, SG_WEBHOOK_PERMANENT);
    assert_int_equal(f->res[i].reason, SG_WEBHOOK_R_HTTP_STATUS);
    assert_int_equal(f->res[i].http_status, want[i]);
    assert_int_equal(f->res[i].retry_in_ms, 0);
  }
  fixture_free(f);
}

static void expired_after_max_age(void **state) {
  fixture_t *f = fixture_new(true, 0, 0, 0);
  /* 30th attempt, 23 h 59 min 55 s after the first: the next would be
   * more than 24 h after it. */
  assert_int_equal(post(f, "/status/500", 30, SG_WEBHOOK_MAX_AGE_MS - 5000), 0);
  wait_results(f, 1);
  assert_int_equal(f->res[0].outcome, SG_WEBHOOK_EXPIRED);
  assert_int_equal(f->res[0].http_status, 500);
  /* A 4xx stays permanent even then. */
  assert_int_equal(post(f, "/status/404", 30, SG_WEBHOOK_MAX_AGE_MS - 5000), 0);
  wait_results(f, 1);
  assert_int_equal(f->res[1].outcome, SG_WEBHOOK_PERMANENT);
  fixture_free(f);
}

static void redirect_not_followed(void **state) {
  fixture_t *f = fixture_new(true, 0, 0, 0);
  assert_int_equal(post(f, "/redirect", 1, 0), 0);
  wait_results(f, 1);
  assert_int_equal(f->res[0].outcome, SG_WEBHOOK_PERMANENT);
  assert_int_equal(f->res[0].reason, SG_WEBHOOK_R_REDIRECT);
  assert_int_equal(f->res[0].http_status, 302);
  settle(f, 50);
  assert_int_equal(f->hits_redirect_target, 0);
  fixture_free(f);
}

static void timeout_is_retryable(void **state) {
  fixture_t *f = fixture_new(true, 300, 0, 0);
  assert_int_equal(post(f, "/slow", 1, 0), 0);
  wait_results(f, 1);
  assert_int_equal(f->hits_slow, 1);
  assert_int_equal(f->res[0].outcome, SG_WEBHOOK_RETRY);
  assert_int_equal(f->res[0].reason, SG_WEBHOOK_R_TIMEOUT);
  assert_int_equal(f->res[0].http_status, 0);
  assert_true(f->res[0].elapsed_ms >= 290 && f->res[0].elapsed_ms < 3000);
  assert_in_range(f->res[0].retry_in_ms, 8000, 10000);
  assert_true(strlen(f->detail[0]) > 0);
  fixture_free(f);
}

static void connection_refused_is_retryable(void **state) {
  /* A port with nothing listening: bind one, note it, close it. */
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in sa = {.sin_family = AF_INET};
  socklen_t sl = sizeof sa;
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof sa), 0);
  assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &sl), 0);
  close(fd);
  fixture_t *f = fixture_new(true, 0, 0, 0);
  char url[64];
  snprintf(url, sizeof url, "http://127.0.0.1:%u/ok", ntohs(sa.sin_port));
  assert_int_equal(post(f, url, 2, 0), 0);
  wait_results(f, 1);
  assert_int_equal(f->res[0].outcome, SG_WEBHOOK_RETRY);
  assert_int_equal(f->res[0].reason, SG_WEBHOOK_R_CONNECT);
  assert_in_range(f->res[0].retry_in_ms, 16000, 20000);
  fixture_free(f);
}

/* ---- SSRF
 * ------------------------------------------------------------------------ */

static void loopback_refused_unless_allowed(void **state) {
  fixture_t *f = fixture_new(false, 0, 0, 0);
  static const char *const hosts[] = {
      "127.0.0.1",  "localhost",       "127.1",      "0x7f.1",
      "2130706433", "0177.0.0.1",      "0x7f000001", "[::ffff:127.0.0.1]",
      "[::1]",      "[::ffff:7f00:1]", "0.0.0.0",    "0"};
  const int n = sizeof hosts / sizeof hosts[0];
  for (int i = 0; i < n; i++) {
    char url[128];
    snprintf(url, sizeof url, "http://%s:%u/ok", hosts[i], f->port);
    if (post(f, url, 1, 0) != 0)
      fail_msg("%s: not posted", url);
  }
  wait_results(f, n);
  settle(f, 50);
  for (int i = 0; i < n; i++) {
    if (f->res[i].outcome != SG_WEBHOOK_PERMANENT ||
        f->res[i].reason != SG_WEBHOOK_R_REFUSED)
      fail_msg("verdict %d: %s/%s (%s)", i,
               sg_webhook_outcome_name(f->res[i].outcome),
               sg_webhook_reason_name(f->res[i].reason), f->detail[i]);
    assert_true(strstr(f->detail[i], "refused to connect to") != NULL);
  }
  assert_int_equal(accepted(f), 0); /* nothing reached the receiver */
  assert_int_equal(f->hits_ok, 0);
  sg_webhook_stats_t st;
  sg_webhook_stats(f->wh, &st);
  assert_int_equal(st.refused, n);
  fixture_free(f);

  f = fixture_new(true, 0, 0, 0);
  assert_int_equal(post(f, "/ok", 1, 0), 0);
  char url[128];
  snprintf(url, sizeof url, "http://localhost:%u/ok", f->port);
  assert_int_equal(post(f, url, 1, 0), 0);
  wait_results(f, 2);
  assert_int_equal(f->res[0].outcome, SG_WEBHOOK_DELIVERED);
  assert_int_equal(f->res[1].outcome, SG_WEBHOOK_DELIVERED);
  assert_int_equal(f->hits_ok, 2);
  assert_true(accepted(f) >= 1);
  fixture_free(f);
}

static void bad_urls_rejected(void **state) {
  fixture_t *f = fixture_new(true, 0, 0, 0);
  static const char *const bad[] = {"ftp://127.0.0.1/x",
                                    "file:///etc/passwd",
                                    "gopher://127.0.0.1:70/",
                                    "dict://127.0.0.1:11211/",
                                    "not a url",
                                    "",
                                    "http://"};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    sg_webhook_req_t req = {.url = bad[i], .body = "{}", .len = 2};
    if (sg_webhook_post(f->wh, &req, done_cb, f) != SG_EINVAL)
      fail_msg("%s accepted", bad[i]);
  }
  char url[64];
  snprintf(url, sizeof url, "http://127.0.0.1:%u/ok", f->port);
  sg_webhook_req_t req = {
      .url = url,
      .body = "{}",
      .len = 2,
      .headers = (const char *[]){"X-Evil: a\r\nX-Injected: b", NULL}};
  assert_int_equal(sg_webhook_post(f->wh, &req, done_cb, f), SG_EINVAL);
  req.headers = (const char *[]){"no colon", NULL};
  assert_int_equal(sg_webhook_post(f->wh, &req, done_cb, f), SG_EINVAL);
  settle(f, 20);
  assert_int_equal(f->n_res, 0); /* no callback for a refused post */
  fixture_free(f);
}

static void url_origin_len(void **state) {
  (void)state;
  static const struct {
    const char *url;
    size_t len;
  } v[] = {{"http://127.0.0.1:8080/dlr?x=1", 21},
           {"https://u:p@sink.example:8443?q", 29},
           {"http://h#f", 8},
           {"http://h", 8},
           {"HTTP://[::1]:9/", 14},
           {"http:///x", 0}, /* no authority */
           {"http://", 0},
           {"http:/h/x", 0},
           {"://h/x", 0},
           {"a?b://h/", 0},
           {"", 0}};
  for (size_t i = 0; i < sizeof v / sizeof v[0]; i++)
    if (sg__webhook_url_origin_len(v[i].url) != v[i].len)
      fail_msg("%s: %zu, not %zu", v[i].url,
               sg__webhook_url_origin_len(v[i].url), v[i].len);
}

/* A URL whose scheme and authority passed before is taken without libcurl
 * only when its rest is one libcurl takes too; any other is checked whole,
 * as an expanded dlr-url with a placeholder in its host or port. */
static void url_memo_checks_as_libcurl(void **state) {
  (void)state;
  sg__webhook_url_memo_t m = {0};
  assert_int_equal(sg__webhook_url_check_memo(&m, "http://10.0.0.1:80/d?s=1"),
                   0);
  assert_int_equal(m.len, strlen("http://10.0.0.1:80"));
  assert_int_equal(m.whole, strlen("http://10.0.0.1:80/d?s=1"));
  assert_int_equal(sg__webhook_url_check_memo(&m, "http://10.0.0.1:80/d?s=1"),
                   0); /* the same URL: one comparison */
  assert_int_equal(sg__webhook_url_check_memo(&m, "http://10.0.0.1:80/d?s=2"),
                   0);
  assert_int_equal(m.whole, strlen("http://10.0.0.1:80/d?s=2"));
  assert_string_equal(m.origin, "http://10.0.0.1:80/d?s=2");
  static const char *const bad[] = {
      "http://10.0.0.1:80/d?s=a b",  /* a space in the rest */
      "http://10.0.0.1:80/d?s=\x01", /* a control octet */
      "http://10.0.0.1:80/d?s=\x7f", /* DEL */
      "http://10.0.0.1:80x/d?s=1",   /* the port changed: whole */
      "http://10.0.0.1:99999/d?s=1", /* a port out of range */
      "http://10.0.0.1:80 /d",       /* a space in the authority */
      "ftp://10.0.0.1:80/d?s=1",     /* the scheme changed */
      "http://10.0.0.1:80:81/d",     /* two ports */
      "http://[10.0.0.1:80/d"};      /* an unclosed bracket */
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
    if (sg__webhook_url_check_memo(&m, bad[i]) != SG_EINVAL)
      fail_msg("%s accepted", bad[i]);
  /* A refused URL leaves the memo as it was. */
  assert_int_equal(m.len, strlen("http://10.0.0.1:80"));
  assert_string_equal(m.origin, "http://10.0.0.1:80/d?s=2");
  /* A URL that is the last one passed but for an octet past its end, or one
   * short of it, is not taken as it. */
  assert_int_equal(sg__webhook_url_check_memo(&m, "http://10.0.0.1:80/d?s=2 "),
                   SG_EINVAL);
  assert_int_equal(sg__webhook_url_check_memo(&m, "http://10.0.0.1:80/d?s="),
                   0);
  assert_int_equal(m.whole, strlen("http://10.0.0.1:80/d?s="));
  /* Random rests after fixed origins and random origins after a pass: the
   * memo answers as libcurl, octet for octet. */
  static const char alpha[] =
      "/?#%:@[]\\.-_~!$&'()*+,;=aZ09 \t\x7f\x80\xff\"<>{}|^`";
  static const char *const origins[] = {
      "http://127.0.0.1:8080", "https://a.example", "http://u:p@h.example:1",
      "HTTP://[::1]:9", "http://h"};
  uint32_t x = 12345;
  for (int k = 0; k < 20000; k++) {
    char url[128], rest[40];
    x = x * 1103515245u + 12345u;
    size_t n = (x >> 16) % 24;
    for (size_t i = 0; i < n; i++) {
      x = x * 1103515245u + 12345u;
      uint32_t r = x >> 8;
      rest[i] = r % 4 == 0 ? (char)(1 + (r >> 2) % 255)
                           : alpha[(r >> 2) % (sizeof alpha - 1)];
    }
    rest[n] = '\0';
    if (k % 2 == 0) /* an origin that passed, then a random rest */
      snprintf(url, sizeof url, "%s%s%s", origins[k / 2 % 5],
               n > 0 && k % 8 != 0 ? "/" : "", rest);
    else /* random all through, the memo holding the last that passed */
      snprintf(url, sizeof url, "http://%s", rest);
    if (k % 2 == 0)
      assert_int_equal(sg__webhook_url_check_memo(&m, origins[k / 2 % 5]), 0);
    int whole = sg__webhook_url_check(url);
    if (sg__webhook_url_check_memo(&m, url) != whole)
      fail_msg("%s: memo and libcurl differ (libcurl %d)", url, whole);
  }
  sg__webhook_url_memo_close(&m);
  assert_null(m.origin);
}

/* ---- queue, concurrency, reuse, shutdown
 * ---------------------------------------- */

static void bounded_queue_and_concurrency(void **state) {
  fixture_t *f = fixture_new(true, 0, 2, 3);
  for (int i = 0; i < 5; i++)
    assert_int_equal(post(f, "/slow", 1, 0), 0);
  assert_int_equal(post(f, "/slow", 1, 0), SG_EBUSY);
  sg_webhook_stats_t st;
  sg_webhook_stats(f->wh, &st);
  assert_int_equal(st.inflight, 2);
  assert_int_equal(st.queued, 3);
  /* Answer whatever has arrived every 30 ms. */
  uv_timer_start(&f->release, release_cb, 30, 30);
  wait_results(f, 5);
  uv_timer_stop(&f->release);
  for (int i = 0; i < 5; i++)
    assert_int_equal(f->res[i].outcome, SG_WEBHOOK_DELIVERED);
  assert_int_equal(f->hits_slow, 5);
  assert_int_equal(f->held_max, 2); /* never more than max_inflight */
  /* Two slots, kept alive: at most two connections for five posts. */
  assert_in_range(accepted(f), 1, 2);
  sg_webhook_stats(f->wh, &st);
  assert_int_equal(st.queued, 0);
  assert_int_equal(st.delivered, 5);
  fixture_free(f);
}

static void connection_reused(void **state) {
  fixture_t *f = fixture_new(true, 0, 0, 0);
  for (int i = 0; i < 8; i++) {
    assert_int_equal(post(f, "/ok", 1, 0), 0);
    wait_results(f, 1);
    assert_int_equal(f->res[i].outcome, SG_WEBHOOK_DELIVERED);
  }
  assert_int_equal(f->hits_ok, 8);
  assert_int_equal(accepted(f), 1);
  fixture_free(f);
}

/* Posts whose bodies grow and shrink, whose URLs and extra headers change
 * from one to the next, on pooled jobs and easy handles: each arrives with
 * its own body, signature and header, and each verdict matches its URL. */
static void pooled_jobs_carry_their_own_post(void **state) {
  fixture_t *f = fixture_new(true, 0, 2, 0);
  static const size_t lens[] = {10, 700, 3, 0, 900, 64, 1, 500};
  char body[1024], url[128], event[64];
  for (int i = 0; i < 16; i++) {
    size_t len = lens[i % 8];
    for (size_t k = 0; k < len; k++)
      body[k] = (char)('a' + (i + k) % 26);
    body[len] = '\0';
    bool fail = i % 3 == 2;
    snprintf(url, sizeof url, "http://127.0.0.1:%u%s", f->port,
             fail ? "/status/503" : "/ok");
    snprintf(event, sizeof event, "X-Smsgate-Event: evt-%d", i);
    sg_webhook_req_t req = {.url = url,
                            .body = body,
                            .len = len,
                            .secret = (const uint8_t *)SECRET,
                            .secret_len = strlen(SECRET),
                            .headers = (const char *[]){event, NULL},
                            .attempt = 1};
    int hits = f->hits_ok;
    assert_int_equal(sg_webhook_post(f->wh, &req, done_cb, f), 0);
    wait_results(f, 1);
    const sg_webhook_result_t *r = &f->res[f->n_res - 1];
    if (fail) {
      assert_int_equal(r->outcome, SG_WEBHOOK_RETRY);
      assert_int_equal(r->http_status, 503);
      assert_int_equal(f->hits_ok, hits);
    } else {
      assert_int_equal(r->outcome, SG_WEBHOOK_DELIVERED);
      assert_int_equal(f->hits_ok, hits + 1);
      assert_string_equal(f->body, body);
      assert_true(f->sig_ok_openssl);
      assert_string_equal(f->event, event + strlen("X-Smsgate-Event: "));
      assert_string_equal(f->ctype, "application/json");
      assert_string_equal(f->expect, "(none)");
    }
    if (f->n_res == MAX_RESULTS)
      f->n_res = 0;
  }
  assert_int_equal(accepted(f), 1); /* one connection for all of them */
  fixture_free(f);
}

/* The receiver closes the idle kept connection: the client notices (its
 * poll of the idle socket fires and is stopped) and the next post opens a
 * new connection. */
static void idle_connection_closed_by_receiver(void **state) {
  g_idle_timeout_s = 1;
  fixture_t *f = fixture_new(true, 0, 0, 0);
  g_idle_timeout_s = 0;
  assert_int_equal(post(f, "/ok", 1, 0), 0);
  wait_results(f, 1);
  settle(f, 2500); /* past the receiver's idle timeout */
  assert_int_equal(post(f, "/ok", 1, 0), 0);
  wait_results(f, 1);
  assert_int_equal(f->res[0].outcome, SG_WEBHOOK_DELIVERED);
  assert_int_equal(f->res[1].outcome, SG_WEBHOOK_DELIVERED);
  assert_int_equal(f->hits_ok, 2);
  assert_int_equal(accepted(f), 2);
  fixture_free(f);
}

static void shutdown_with_posts_pending(void **state) {
  fixture_t *f = fixture_new(true, 0, 1, 4);
  for (int i = 0; i < 3; i++)
    assert_int_equal(post(f, "/slow", 1, 0), 0);
  settle(f, 50); /* the first one is in flight, held by the receiver */
  assert_int_equal(f->hits_slow, 1);
  f->want_res = 100;
  sg_webhook_free(f->wh);
  assert_int_equal(f->n_res, 3); /* every callback fired at once */
  for (int i = 0; i < 3; i++) {
    assert_int_equal(f->res[i].outcome, SG_WEBHOOK_RETRY);
    assert_int_equal(f->res[i].reason, SG_WEBHOOK_R_SHUTDOWN);
    assert_int_equal(f->res[i].retry_in_ms, 0);
  }
  f->wh = NULL;
  fixture_free(f);
}

/* The Nth allocation fails (and every later one, the receiver's too): a
 * post is refused with SG_ENOMEM or gets exactly one verdict, and nothing
 * leaks. */
static void allocation_failures(void **state) {
  int refused = 0, delivered = 0;
  for (long n = 0; n < 20; n++) {
    fixture_t *f = fixture_new(true, 2000, 0, 0);
    sg_alloc_fail_after(n);
    int rc = post(f, "/ok", 1, 0);
    if (rc == 0)
      wait_results(f, 1);
    sg_alloc_fail_after(-1);
    if (rc < 0) {
      assert_int_equal(rc, SG_ENOMEM);
      assert_int_equal(f->n_res, 0);
      refused++;
    } else {
      assert_int_equal(f->n_res, 1);
      delivered += f->res[0].outcome == SG_WEBHOOK_DELIVERED;
    }
    settle(f, 10);
    assert_int_equal(post(f, "/ok", 1, 0), 0); /* works again */
    wait_results(f, 1);
    assert_int_equal(f->res[f->n_res - 1].outcome, SG_WEBHOOK_DELIVERED);
    fixture_free(f);
  }
  assert_true(refused > 0);
  assert_true(delivered > 0);
}

/* Every verdict carries its own answer's body: also when many transfers
 * finish together, and when a pooled job is used again. */
static void answers_kept_per_post(void **state) {
  (void)state;
  fixture_t *f = fixture_new(true, 0, 0, 0);
  enum { ROUNDS = 3, N = 8 };
  bool seen[ROUNDS * N] = {false};
  for (int r = 0; r < ROUNDS; r++) {
    for (int i = 0; i < N; i++) {
      char path[32];
      snprintf(path, sizeof path, "/answer/%d", r * N + i);
      assert_int_equal(post(f, path, 1, 0), 0);
    }
    wait_results(f, N);
  }
  for (int i = 0; i < ROUNDS * N; i++) {
    int k = -1;
    assert_int_equal(f->res[i].outcome, SG_WEBHOOK_DELIVERED);
    assert_int_equal(sscanf(f->answer[i], "{\"reply\":\"answer %d\"}", &k), 1);
    assert_true(k >= i / N * N && k < (i / N + 1) * N && !seen[k]);
    seen[k] = true;
  }
  fixture_free(f);
}

/* ---- a body written by the request's build --------------------------- */

static uv_thread_t g_build_thread; /* where the last build ran */
static int g_builds;

/* {"n":"<src>"}: src as it came (copied with the request); "fail" fails. */
static int test_build(const void *src, size_t src_len, char **buf, size_t *cap,
                      size_t *len) {
  g_build_thread = uv_thread_self();
  g_builds++;
  if (src_len == 4 && memcmp(src, "fail", 4) == 0)
    return SG_ENOMEM;
  size_t need = src_len + 8;
  if (*cap < need) {
    char *p = sg_realloc(*buf, need);
    if (p == NULL)
      return SG_ENOMEM;
    *buf = p;
    *cap = need;
  }
  memcpy(*buf, "{\"n\":\"", 6);
  memcpy(*buf + 6, src, src_len);
  memcpy(*buf + 6 + src_len, "\"}", 2);
  *len = src_len + 8;
  return 0;
}

static int post_built(fixture_t *f, const char *src) {
  char url[64];
  snprintf(url, sizeof url, "http://127.0.0.1:%u/ok", f->port);
  char copy[256]; /* the source must not be needed after the post */
  snprintf(copy, sizeof copy, "%s", src);
  sg_webhook_req_t req = {.url = url,
                          .build = test_build,
                          .src = copy,
                          .src_len = strlen(copy),
                          .secret = (const uint8_t *)SECRET,
                          .secret_len = strlen(SECRET),
                          .attempt = 1};
  int rc = sg_webhook_post(f->wh, &req, done_cb, f);
  memset(copy, 'Z', sizeof copy);
  return rc;
}

/* The body is written by build, on the thread that sends it (the worker
 * with own_thread, the loop without), then sent and signed as a body given
 * as it is; the client's buffer is reused, a longer body grows it. A build
 * that fails sends nothing. A body and a build together are refused. */
static void body_written_by_build(void **state) {
  fixture_t *f = fixture_new(true, 0, 0, 0);
  uv_thread_t self = uv_thread_self();
  g_builds = 0;
  static const char *const srcs[] = {"a", "a longer one, to grow the buffer",
                                     "b"};
  for (int i = 0; i < 3; i++) {
    assert_int_equal(post_built(f, srcs[i]), 0);
    wait_results(f, 1);
    assert_int_equal(f->res[i].outcome, SG_WEBHOOK_DELIVERED);
    char want[128];
    snprintf(want, sizeof want, "{\"n\":\"%s\"}", srcs[i]);
    assert_string_equal(f->body, want);
    assert_string_equal(f->ctype, "application/json");
    assert_true(f->sig_ok_openssl);
    assert_int_equal(uv_thread_equal(&g_build_thread, &self), !g_own_thread);
  }
  assert_int_equal(g_builds, 3);
  assert_int_equal(f->hits_ok, 3);
  /* A build that fails: no request; an error (the loop) or a retry (the
   * worker, which cannot answer the post's call any more). */
  int rc = post_built(f, "fail");
  if (g_own_thread) {
    assert_int_equal(rc, 0);
    wait_results(f, 1);
    assert_int_equal(f->res[3].outcome, SG_WEBHOOK_RETRY);
  } else {
    assert_int_equal(rc, SG_ENOMEM);
  }
  settle(f, 50);
  assert_int_equal(f->hits_ok, 3);
  char url[64];
  snprintf(url, sizeof url, "http://127.0.0.1:%u/ok", f->port);
  sg_webhook_req_t both = {.url = url,
                           .body = "{}",
                           .len = 2,
                           .build = test_build,
                           .src = "x",
                           .src_len = 1};
  assert_int_equal(sg_webhook_post(f->wh, &both, done_cb, f), SG_EINVAL);
  sg_webhook_req_t no_src = {.url = url, .build = test_build, .src_len = 3};
  assert_int_equal(sg_webhook_post(f->wh, &no_src, done_cb, f), SG_EINVAL);
  fixture_free(f);
}

/* Posts one after the other, each awaiting its verdict: with the client on
 * its own thread, a post after the first takes the block the last verdict
 * gave back instead of allocating one, and the receiver and the transport
 * keep theirs: five posts allocate nothing. */
static void thread_posts_reuse_blocks(void **state) {
  (void)state;
#if defined(__SANITIZE_ADDRESS__)
  skip(); /* sanitizer builds keep no block */
#endif
  fixture_t *f = fixture_new(true, 2000, 0, 0);
  for (int i = 0; i < 3; i++) { /* warm: the receiver's and client's pools */
    assert_int_equal(post(f, "/ok", 1, 0), 0);
    wait_results(f, 1);
  }
  sg_alloc_count_reset();
  for (int i = 0; i < 5; i++) {
    assert_int_equal(post(f, "/ok", 1, 0), 0);
    wait_results(f, 1);
  }
  assert_int_equal(sg_alloc_count(), 0);
  assert_int_equal(f->n_res, 8);
  fixture_free(f);
}

static int threaded_setup(void **state) {
  g_own_thread = true;
  return 0;
}

static int threaded_teardown(void **state) {
  g_own_thread = false;
  return 0;
}

/* The same verdicts with libcurl on its own thread. */
#define THREADED(t)                                                            \
  cmocka_unit_test_setup_teardown(t, threaded_setup, threaded_teardown)

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(sign_rfc4231),
      cmocka_unit_test(sign_rekeyed_matches_openssl),
      THREADED(thread_posts_reuse_blocks),
      cmocka_unit_test(backoff_schedule),
      cmocka_unit_test(delivered_and_signed),
      cmocka_unit_test(server_error_is_retryable),
      cmocka_unit_test(client_error_is_permanent),
      cmocka_unit_test(expired_after_max_age),
      cmocka_unit_test(redirect_not_followed),
      cmocka_unit_test(timeout_is_retryable),
      cmocka_unit_test(connection_refused_is_retryable),
      cmocka_unit_test(loopback_refused_unless_allowed),
      cmocka_unit_test(bad_urls_rejected),
      cmocka_unit_test(url_origin_len),
      cmocka_unit_test(url_memo_checks_as_libcurl),
      cmocka_unit_test(bounded_queue_and_concurrency),
      cmocka_unit_test(connection_reused),
      cmocka_unit_test(pooled_jobs_carry_their_own_post),
      cmocka_unit_test(idle_connection_closed_by_receiver),
      cmocka_unit_test(shutdown_with_posts_pending),
      cmocka_unit_test(allocation_failures),
      cmocka_unit_test(answers_kept_per_post),
      cmocka_unit_test(body_written_by_build),
      THREADED(answers_kept_per_post),
      THREADED(body_written_by_build),
      THREADED(delivered_and_signed),
      THREADED(server_error_is_retryable),
      THREADED(client_error_is_permanent),
      THREADED(expired_after_max_age),
      THREADED(redirect_not_followed),
      THREADED(timeout_is_retryable),
      THREADED(connection_refused_is_retryable),
      THREADED(loopback_refused_unless_allowed),
      THREADED(bad_urls_rejected),
      THREADED(bounded_queue_and_concurrency),
      THREADED(connection_reused),
      THREADED(pooled_jobs_carry_their_own_post),
      THREADED(shutdown_with_posts_pending),
  };
  if (getenv("SG_TEST_FILTER") != NULL)
    cmocka_set_test_filter(getenv("SG_TEST_FILTER"));
  return cmocka_run_group_tests(tests, NULL, NULL);
}
