/* Tests for the HTTP server on the libuv loop: routing with {param}
 * segments, query parsing, answers deferred past the handler (a uv_timer
 * standing in for the store's commit), the server's own 400/404/405/413
 * and libmicrohttpd's answers to malformed requests, keep-alive, a client
 * that leaves while its request is suspended, many connections at once,
 * and freeing the server with requests outstanding.
 *
 * The server runs on an in-process loop on 127.0.0.1, on an ephemeral port.
 * The client is a small raw-socket HTTP/1.1 client on a second thread, so
 * that the bytes on the wire are exactly the ones each test means. Client
 * threads only record what they saw; cmocka assertions run on the main
 * thread after the loop has stopped. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <jansson.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <uv.h>

#include "core/alloc.h"
#include "core/error.h"
#include "ingress/http_server.h"

/* ---- a raw HTTP/1.1 client ------------------------------------------- */

typedef struct conn {
  int fd;
  char buf[256 * 1024];
  size_t len;
} conn_t;

typedef struct resp {
  int status; /* 0: connection closed or timed out before a response */
  char head[4096];
  char body[64 * 1024];
  size_t body_len;
} resp_t;

static int cli_connect(conn_t *c, uint16_t port) {
  struct sockaddr_in sa;
  memset(&sa, 0, sizeof sa);
  sa.sin_family = AF_INET;
  sa.sin_port = htons(port);
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  c->len = 0;
  c->fd = socket(AF_INET, SOCK_STREAM, 0);
  if (c->fd < 0)
    return -1;
  struct timeval tv = {5, 0};
  setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  int one = 1;
  setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  return connect(c->fd, (struct sockaddr *)&sa, sizeof sa);
}

static int cli_send(conn_t *c, const char *s, size_t n) {
  while (n > 0) {
    ssize_t w = send(c->fd, s, n, MSG_NOSIGNAL);
    if (w <= 0)
      return -1;
    s += w;
    n -= (size_t)w;
  }
  return 0;
}

static int cli_sends(conn_t *c, const char *s) {
  return cli_send(c, s, strlen(s));
}

static int cli_fill(conn_t *c) {
  if (c->len == sizeof c->buf)
    return -1;
  ssize_t r = recv(c->fd, c->buf + c->len, sizeof c->buf - c->len, 0);
  if (r <= 0)
    return -1;
  c->len += (size_t)r;
  return 0;
}

static const char *head_value(const char *head, const char *name) {
  static _Thread_local char val[512];
  size_t n = strlen(name);
  for (const char *p = strstr(head, "\r\n"); p != NULL;
       p = strstr(p + 2, "\r\n")) {
    if (strncasecmp(p + 2, name, n) == 0 && p[2 + n] == ':') {
      const char *v = p + 3 + n;
      v += strspn(v, " ");
      size_t len = strcspn(v, "\r");
      if (len >= sizeof val)
        len = sizeof val - 1;
      memcpy(val, v, len);
      val[len] = '\0';
      return val;
    }
  }
  return NULL;
}

static char *find_crlfcrlf(char *buf, size_t len) {
  for (size_t i = 0; i + 4 <= len; i++)
    if (memcmp(buf + i, "\r\n\r\n", 4) == 0)
      return buf + i;
  return NULL;
}

/* Reads one response (Content-Length framed; no body when `head_only`). */
static int cli_read(conn_t *c, resp_t *r, bool head_only) {
  char *end;
  memset(r, 0, offsetof(resp_t, body));
  r->body_len = 0;
  while ((end = find_crlfcrlf(c->buf, c->len)) == NULL)
    if (cli_fill(c) < 0)
      return -1;
  size_t hlen = (size_t)(end - c->buf) + 4;
  if (hlen >= sizeof r->head)
    return -1;
  memcpy(r->head, c->buf, hlen);
  r->head[hlen] = '\0';
  if (sscanf(r->head, "HTTP/1.%*d %d", &r->status) != 1)
    return -1;
  const char *cl = head_value(r->head, "Content-Length");
  size_t blen = head_only || cl == NULL ? 0 : strtoul(cl, NULL, 10);
  while (c->len < hlen + blen)
    if (cli_fill(c) < 0)
      return -1;
  if (blen >= sizeof r->body)
    return -1;
  memcpy(r->body, c->buf + hlen, blen);
  r->body[blen] = '\0';
  r->body_len = blen;
  memmove(c->buf, c->buf + hlen + blen, c->len - hlen - blen);
  c->len -= hlen + blen;
  return 0;
}

/* True when the server has closed the connection (EOF or reset). */
static bool cli_closed(conn_t *c, int timeout_ms) {
  struct pollfd p = {c->fd, POLLIN, 0};
  if (poll(&p, 1, timeout_ms) <= 0)
    return false;
  char b;
  ssize_t r = recv(c->fd, &b, 1, MSG_PEEK | MSG_DONTWAIT);
  return r == 0 || (r < 0 && errno == ECONNRESET);
}

static void cli_close(conn_t *c) {
  if (c->fd >= 0)
    close(c->fd);
  c->fd = -1;
}

static double now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static void sleep_ms(int ms) {
  struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
  nanosleep(&ts, NULL);
}

/* ---- the loop side --------------------------------------------------- */

typedef struct fixture fixture_t;
typedef void (*client_fn)(fixture_t *f);

#define MAX_HELD 512

struct fixture {
  uv_loop_t loop;
  uv_async_t done;
  uv_thread_t thread;
  sg_http_server_t *srv;
  uint16_t port;
  client_fn client;
  /* Filled by handlers and callbacks (loop thread). */
  sg_http_req_t *held[MAX_HELD];
  int n_held;
  int max_waiting;
  int cancels;
  int respond_rc[MAX_HELD];
  int n_respond_rc;
  uv_timer_t commit;
  unsigned commit_ms;
  char seen[8][256]; /* what a handler read */
  size_t seen_query_count;
  /* Shared with the client thread. */
  atomic_int arrived;   /* requests handed to handlers */
  atomic_int cancelled; /* cancel callbacks that ran */
  atomic_int responded; /* deferred answers sent */
  /* Filled by the client thread. */
  resp_t resp[10];
  int status[MAX_HELD];
  int client_errors;
  double elapsed_ms;
  bool closed_after;
  bool open_after;
  int fds[4]; /* connections left open by a client thread */
};

static void done_cb(uv_async_t *a) {
  uv_stop(a->loop);
}

static void client_main(void *arg) {
  fixture_t *f = arg;
  f->client(f);
  uv_async_send(&f->done);
}

static void close_walk_cb(uv_handle_t *h, void *arg) {
  if (!uv_is_closing(h))
    uv_close(h, NULL);
}

static void log_stderr(void *data, const char *msg) {
  fprintf(stderr, "mhd: %s\n", msg);
}

static fixture_t *fixture_new(const sg_http_server_cfg_t *cfg) {
  fixture_t *f = calloc(1, sizeof *f);
  assert_non_null(f);
  assert_int_equal(uv_loop_init(&f->loop), 0);
  assert_int_equal(uv_async_init(&f->loop, &f->done, done_cb), 0);
  uv_timer_init(&f->loop, &f->commit);
  f->commit.data = f;
  sg_http_server_cfg_t c = {0};
  if (cfg != NULL)
    c = *cfg;
  c.host = "127.0.0.1";
  c.port = 0;
  if (getenv("SG_TEST_LOG") != NULL)
    c.log_cb = log_stderr;
  assert_int_equal(sg_http_server_new(&f->loop, &c, &f->srv), 0);
  f->port = sg_http_server_port(f->srv);
  assert_true(f->port > 0);
  return f;
}

/* Runs the client on its own thread while the loop serves it. */
static void fixture_run(fixture_t *f, client_fn fn) {
  f->client = fn;
  assert_int_equal(uv_thread_create(&f->thread, client_main, f), 0);
  uv_run(&f->loop, UV_RUN_DEFAULT);
  uv_thread_join(&f->thread);
}

static void fixture_stats(fixture_t *f, sg_http_server_stats_t *st) {
  sg_http_server_stats(f->srv, st);
}

/* Frees the server and checks that every handle and request is released
 * (the loop closes cleanly; ASan reports any leak). */
static void fixture_free(fixture_t *f) {
  sg_http_server_free(f->srv);
  uv_run(&f->loop, UV_RUN_NOWAIT);
  uv_walk(&f->loop, close_walk_cb, NULL);
  uv_run(&f->loop, UV_RUN_DEFAULT);
  assert_int_equal(uv_loop_close(&f->loop), 0);
  free(f);
}

static void note_waiting(fixture_t *f) {
  sg_http_server_stats_t st;
  fixture_stats(f, &st);
  if ((int)st.waiting > f->max_waiting)
    f->max_waiting = (int)st.waiting;
}

/* Echoes what the request looked like as JSON. */
static void echo_handler(sg_http_req_t *req, void *data) {
  fixture_t *f = data;
  size_t blen;
  const uint8_t *body = sg_http_req_body(req, &blen);
  const char *id = sg_http_req_param(req, "id");
  const char *ua = sg_http_req_header(req, "x-test");
  json_t *o =
      json_pack("{s:s, s:s, s:s?, s:s?, s:s#}", "method",
                sg_http_req_method(req), "path", sg_http_req_path(req), "id",
                id, "x_test", ua, "body", (const char *)body, (int)blen);
  char *s = json_dumps(o, JSON_COMPACT);
  json_decref(o);
  atomic_fetch_add(&f->arrived, 1);
  sg_http_respond(req, 200, "application/json", s, strlen(s),
                  (const char *[]){"X-Route", "echo", NULL});
  free(s);
}

static void keys_handler(sg_http_req_t *req, void *data) {
  char buf[256];
  snprintf(buf, sizeof buf, "%s|%s", sg_http_req_param(req, "acct"),
           sg_http_req_param(req, "key"));
  sg_http_respond(req, 200, "text/plain", buf, strlen(buf), NULL);
}

/* Answers with the client's address. */
static void peer_handler(sg_http_req_t *req, void *data) {
  char ip[INET6_ADDRSTRLEN] = "?";
  const struct sockaddr *sa = sg_http_req_peer(req);
  if (sa->sa_family == AF_INET6)
    inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)sa)->sin6_addr, ip,
              sizeof ip);
  else if (sa->sa_family == AF_INET)
    inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, ip,
              sizeof ip);
  sg_http_respond(req, 200, "text/plain", ip, strlen(ip), NULL);
}

static void fixed_handler(sg_http_req_t *req, void *data) {
  sg_http_respond(req, 200, "text/plain", data, strlen(data), NULL);
}

static void routes_echo(fixture_t *f) {
  assert_int_equal(
      sg_http_server_route(f->srv, "GET", "/v1/messages/{id}", echo_handler, f),
      0);
  assert_int_equal(sg_http_server_route(f->srv, "GET",
                                        "/v1/accounts/{acct}/keys/{key}",
                                        keys_handler, f),
                   0);
  assert_int_equal(
      sg_http_server_route(f->srv, "POST", "/v1/messages", echo_handler, f), 0);
  assert_int_equal(
      sg_http_server_route(f->srv, "GET", "/v1/messages", echo_handler, f), 0);
  assert_int_equal(sg_http_server_route(f->srv, "DELETE", "/v1/messages/{id}",
                                        echo_handler, f),
                   0);
  /* Shadowed by the {id} route registered first. */
  assert_int_equal(sg_http_server_route(f->srv, "GET", "/v1/messages/latest",
                                        fixed_handler, "latest"),
                   0);
  assert_int_equal(
      sg_http_server_route(f->srv, "GET", "/", fixed_handler, "root"), 0);
}

/* ---- routing --------------------------------------------------------- */

static void client_routing(fixture_t *f) {
  conn_t *c = calloc(1, sizeof *c);
  static const char *const reqs[] = {
      "GET /v1/messages/01HX%2Fab%20c?x=1 HTTP/1.1\r\nHost: t\r\n"
      "X-Test: yes\r\n\r\n",
      "GET /v1/accounts/acme/keys/k%C3%A9y HTTP/1.1\r\nHost: t\r\n\r\n",
      "GET /v1/messages/latest HTTP/1.1\r\nHost: t\r\n\r\n",
      "GET / HTTP/1.1\r\nHost: t\r\n\r\n",
      "POST /v1/messages HTTP/1.1\r\nHost: t\r\nContent-Length: 11\r\n\r\n"
      "{\"to\":\"1\"}\n",
      "GET http://t/v1/messages/abs HTTP/1.1\r\nHost: t\r\n\r\n",
  };
  if (cli_connect(c, f->port) < 0) {
    f->client_errors++;
  } else {
    for (size_t i = 0; i < sizeof reqs / sizeof reqs[0]; i++)
      if (cli_sends(c, reqs[i]) < 0 || cli_read(c, &f->resp[i], false) < 0)
        f->client_errors++;
  }
  cli_close(c);
  free(c);
}

static void routing_with_params(void **state) {
  fixture_t *f = fixture_new(NULL);
  routes_echo(f);
  fixture_run(f, client_routing);
  assert_int_equal(f->client_errors, 0);

  json_t *o = json_loads(f->resp[0].body, 0, NULL);
  assert_non_null(o);
  assert_int_equal(f->resp[0].status, 200);
  assert_string_equal(json_string_value(json_object_get(o, "id")), "01HX/ab c");
  assert_string_equal(json_string_value(json_object_get(o, "path")),
                      "/v1/messages/01HX%2Fab%20c");
  assert_string_equal(json_string_value(json_object_get(o, "method")), "GET");
  assert_string_equal(json_string_value(json_object_get(o, "x_test")), "yes");
  assert_string_equal(head_value(f->resp[0].head, "X-Route"), "echo");
  assert_string_equal(head_value(f->resp[0].head, "Content-Type"),
                      "application/json");
  json_decref(o);

  assert_string_equal(f->resp[1].body, "acme|k\xC3\xA9y");
  assert_true(strstr(f->resp[2].body, "\"id\":\"latest\"") != NULL);
  assert_string_equal(f->resp[3].body, "root");

  o = json_loads(f->resp[4].body, 0, NULL);
  assert_non_null(o);
  assert_string_equal(json_string_value(json_object_get(o, "method")), "POST");
  assert_string_equal(json_string_value(json_object_get(o, "body")),
                      "{\"to\":\"1\"}\n");
  assert_true(json_is_null(json_object_get(o, "id")));
  json_decref(o);

  /* absolute-form request target (RFC 9112 section 3.2.2) */
  assert_true(strstr(f->resp[5].body, "\"id\":\"abs\"") != NULL);

  sg_http_server_stats_t st;
  fixture_stats(f, &st);
  assert_int_equal(st.connections_accepted, 1);
  assert_int_equal(st.requests, 6);
  assert_int_equal(st.rejected, 0);
  fixture_free(f);
}

static void bad_patterns(void **state) {
  fixture_t *f = fixture_new(NULL);
  static const char *const bad[] = {
      "",        "v1/x",    "/v1//x",     "/v1/x/",    "/v1/{}",
      "/v1/{id", "/v1/id}", "/v1/{a{b}}", "/v1/a%20b", "//"};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
    if (sg_http_server_route(f->srv, "GET", bad[i], fixed_handler, "x") !=
        SG_EINVAL)
      fail_msg("pattern \"%s\" accepted", bad[i]);
  assert_int_equal(sg_http_server_route(f->srv, "", "/x", fixed_handler, "x"),
                   SG_EINVAL);
  assert_int_equal(sg_http_server_route(f->srv, "GET", "/x", NULL, NULL),
                   SG_EINVAL);
  assert_int_equal(
      sg_http_server_route(f->srv, "GET", "/v1/{a}/{b}", fixed_handler, "x"),
      0);
  fixture_free(f);
}

/* ---- query ------------------------------------------------------------ */

static void query_handler(sg_http_req_t *req, void *data) {
  fixture_t *f = data;
  const char *v;
  snprintf(f->seen[0], sizeof f->seen[0], "%s",
           (v = sg_http_req_query(req, "to")) ? v : "(null)");
  snprintf(f->seen[1], sizeof f->seen[1], "%s",
           (v = sg_http_req_query(req, "text")) ? v : "(null)");
  snprintf(f->seen[2], sizeof f->seen[2], "%s",
           (v = sg_http_req_query(req, "flag")) ? v : "(null)");
  snprintf(f->seen[3], sizeof f->seen[3], "%s",
           (v = sg_http_req_query(req, "missing")) ? v : "(null)");
  f->seen_query_count = sg_http_req_query_count(req);
  size_t used = 0;
  for (size_t i = 0; i < f->seen_query_count; i++) {
    const char *n, *val;
    if (sg_http_req_query_at(req, i, &n, &val) == 0)
      used += (size_t)snprintf(f->seen[4] + used, sizeof f->seen[4] - used,
                               "[%s=%s]", n, val);
  }
  const char *n, *val;
  snprintf(f->seen[5], sizeof f->seen[5], "%d",
           sg_http_req_query_at(req, f->seen_query_count, &n, &val));
  sg_http_respond(req, 204, NULL, NULL, 0, NULL);
}

static void client_query(fixture_t *f) {
  conn_t *c = calloc(1, sizeof *c);
  static const char *const reqs[] = {
      ("GET /q?to=%2B4479&to=2&text=hello+world%21&flag&&empty=&%3D=%26 "
       "HTTP/1.1\r\nHost: t\r\n\r\n"),
      "GET /q?to=%zz HTTP/1.1\r\nHost: t\r\n\r\n",
      "GET /q?to=%4 HTTP/1.1\r\nHost: t\r\n\r\n",
      "GET /q?to=a%00b HTTP/1.1\r\nHost: t\r\n\r\n",
      "GET /q%ZZ HTTP/1.1\r\nHost: t\r\n\r\n",
      "GET /q HTTP/1.1\r\nHost: t\r\n\r\n",
  };
  for (size_t i = 0; i < sizeof reqs / sizeof reqs[0]; i++) {
    if (cli_connect(c, f->port) < 0 || cli_sends(c, reqs[i]) < 0 ||
        cli_read(c, &f->resp[i], false) < 0)
      f->client_errors++;
    cli_close(c);
  }
  free(c);
}

static void query_parsing(void **state) {
  fixture_t *f = fixture_new(NULL);
  assert_int_equal(sg_http_server_route(f->srv, "GET", "/q", query_handler, f),
                   0);
  fixture_run(f, client_query);
  assert_int_equal(f->client_errors, 0);
  assert_int_equal(f->resp[0].status, 204);
  /* The last request (/q, no query) overwrote seen[]: check it first. */
  assert_int_equal(f->resp[5].status, 204);
  assert_string_equal(f->seen[0], "(null)");
  assert_int_equal(f->seen_query_count, 0);
  assert_string_equal(f->seen[5], "-5"); /* SG_ERANGE */
  for (int i = 1; i <= 4; i++) {
    assert_int_equal(f->resp[i].status, 400);
    json_t *o = json_loads(f->resp[i].body, 0, NULL);
    assert_non_null(o);
    assert_string_equal(
        json_string_value(json_object_get(json_object_get(o, "error"), "code")),
        "bad_request");
    json_decref(o);
  }
  fixture_free(f);
}

/* The first request alone, to see what the handler read. */
static const char *error_code(const resp_t *r);

/* A raw route's handler reads the query itself: the server neither
 * decodes it nor refuses a malformed one there, as it does elsewhere. */
static void client_raw_query(fixture_t *f) {
  conn_t *c = calloc(1, sizeof *c);
  static const char *const reqs[] = {
      "GET /r?to=%zz HTTP/1.1\r\nHost: t\r\n\r\n",
      "GET /r?to=a%00b&text=x HTTP/1.1\r\nHost: t\r\n\r\n",
      "GET /q?to=%zz HTTP/1.1\r\nHost: t\r\n\r\n",
      "GET /nowhere?to=%zz HTTP/1.1\r\nHost: t\r\n\r\n",
  };
  for (size_t i = 0; i < sizeof reqs / sizeof reqs[0]; i++) {
    if (cli_connect(c, f->port) < 0 || cli_sends(c, reqs[i]) < 0 ||
        cli_read(c, &f->resp[i], false) < 0)
      f->client_errors++;
    cli_close(c);
  }
  free(c);
}

static void raw_route_query_left_to_handler(void **state) {
  fixture_t *f = fixture_new(NULL);
  assert_int_equal(
      sg_http_server_route_raw(f->srv, "GET", "/r", query_handler, f), 0);
  assert_int_equal(sg_http_server_route(f->srv, "GET", "/q", query_handler, f),
                   0);
  fixture_run(f, client_raw_query);
  assert_int_equal(f->client_errors, 0);
  assert_int_equal(f->resp[0].status, 204);
  assert_int_equal(f->resp[1].status, 204);
  assert_int_equal(f->seen_query_count, 0); /* not decoded for /r */
  assert_string_equal(f->seen[1], "(null)");
  assert_int_equal(f->resp[2].status, 400);
  assert_string_equal(error_code(&f->resp[2]), "bad_request");
  assert_int_equal(f->resp[3].status, 400); /* before the 404, as before */
  fixture_free(f);
}

static void client_query_one(fixture_t *f) {
  conn_t *c = calloc(1, sizeof *c);
  if (cli_connect(c, f->port) < 0 ||
      cli_sends(c, "GET /q?to=%2B4479&to=2&text=hello+world%21&flag&&empty=&"
                   "%3D=%26 HTTP/1.1\r\nHost: t\r\n\r\n") < 0 ||
      cli_read(c, &f->resp[0], false) < 0)
    f->client_errors++;
  cli_close(c);
  free(c);
}

static void query_values(void **state) {
  fixture_t *f = fixture_new(NULL);
  assert_int_equal(sg_http_server_route(f->srv, "GET", "/q", query_handler, f),
                   0);
  fixture_run(f, client_query_one);
  assert_int_equal(f->client_errors, 0);
  assert_int_equal(f->resp[0].status, 204);
  assert_string_equal(f->seen[0], "+4479"); /* the first of two */
  assert_string_equal(f->seen[1], "hello world!");
  assert_string_equal(f->seen[2], "");
  assert_string_equal(f->seen[3], "(null)");
  assert_int_equal(f->seen_query_count, 6); /* the empty piece is skipped */
  assert_string_equal(
      f->seen[4], "[to=+4479][to=2][text=hello world!][flag=][empty=][==&]");
  fixture_free(f);
}

/* ---- deferred answers -------------------------------------------------- */

static void commit_cb(uv_timer_t *t) {
  fixture_t *f = t->data;
  for (int i = 0; i < f->n_held; i++) {
    size_t blen;
    const uint8_t *body = sg_http_req_body(f->held[i], &blen);
    char out[512];
    int n = snprintf(out, sizeof out, "{\"accepted\":%zu,\"echo\":\"%s\"}",
                     blen, (const char *)body);
    f->respond_rc[f->n_respond_rc++] =
        sg_http_respond(f->held[i], 202, "application/json", out, (size_t)n,
                        (const char *[]){"X-Commit", "1", NULL});
    atomic_fetch_add(&f->responded, 1);
  }
  f->n_held = 0;
}

/* Holds the request until the simulated commit fires. */
static void deferred_handler(sg_http_req_t *req, void *data) {
  fixture_t *f = data;
  f->held[f->n_held++] = req;
  atomic_fetch_add(&f->arrived, 1);
  note_waiting(f);
  if (!uv_is_active((uv_handle_t *)&f->commit))
    uv_timer_start(&f->commit, commit_cb, f->commit_ms, 0);
}

/* A server whose POST `path` is held until the simulated commit, which
 * answers every held request `commit_ms` after the first arrives. */
static fixture_t *fixture_deferred(const sg_http_server_cfg_t *cfg,
                                   const char *path, unsigned commit_ms) {
  fixture_t *f = fixture_new(cfg);
  f->commit_ms = commit_ms;
  assert_int_equal(
      sg_http_server_route(f->srv, "POST", path, deferred_handler, f), 0);
  return f;
}

static void client_deferred(fixture_t *f) {
  conn_t *c = calloc(1, sizeof *c);
  double t0 = now_ms();
  if (cli_connect(c, f->port) < 0 ||
      cli_sends(c, "POST /v1/messages HTTP/1.1\r\nHost: t\r\n"
                   "Content-Length: 5\r\n\r\nhello") < 0 ||
      cli_read(c, &f->resp[0], false) < 0)
    f->client_errors++;
  f->elapsed_ms = now_ms() - t0;
  cli_close(c);
  free(c);
}

static void deferred_response(void **state) {
  fixture_t *f = fixture_deferred(NULL, "/v1/messages", 50);
  fixture_run(f, client_deferred);
  assert_int_equal(f->client_errors, 0);
  assert_int_equal(f->resp[0].status, 202);
  assert_string_equal(f->resp[0].body, "{\"accepted\":5,\"echo\":\"hello\"}");
  assert_string_equal(head_value(f->resp[0].head, "X-Commit"), "1");
  assert_string_equal(head_value(f->resp[0].head, "Content-Type"),
                      "application/json");
  assert_true(f->elapsed_ms >= 45.0); /* not before the commit */
  assert_int_equal(f->n_respond_rc, 1);
  assert_int_equal(f->respond_rc[0], 0);
  sg_http_server_stats_t st;
  fixture_stats(f, &st);
  assert_int_equal(st.waiting, 0);
  assert_int_equal(st.cancelled, 0);
  assert_int_equal(f->max_waiting, 1);
  fixture_free(f);
}

/* ---- errors ------------------------------------------------------------- */

static const char *error_code(const resp_t *r) {
  static char code[64];
  json_t *o = json_loads(r->body, 0, NULL);
  const char *s =
      json_string_value(json_object_get(json_object_get(o, "error"), "code"));
  snprintf(code, sizeof code, "%s", s ? s : "(none)");
  json_decref(o);
  return code;
}

static void client_errors(fixture_t *f) {
  conn_t *c = calloc(1, sizeof *c);
  char big[2048];
  memset(big, 'a', sizeof big);
  struct {
    const char *req;
    bool more; /* bytes after the head */
  } cases[] = {
      {"GET /v1/nothing HTTP/1.1\r\nHost: t\r\n\r\n", false},
      {"PUT /v1/messages HTTP/1.1\r\nHost: t\r\nContent-Length: 2\r\n\r\n{}",
       false},
      {"POST /v1/messages HTTP/1.1\r\nHost: t\r\nContent-Length: 1025\r\n\r\n",
       false},
      {"POST /v1/messages HTTP/1.1\r\nHost: t\r\n"
       "Transfer-Encoding: chunked\r\n\r\n",
       true},
      {"THIS IS NOT HTTP\r\n\r\n", false},
      {"GET /v1/messages HTTP/1.1\r\n\r\n", false}, /* no Host */
      {"GET /v1/messages HTTP/1.1\r\nHost: t\r\nX-Big: ", true},
      {"GET /v1/messages/%GG HTTP/1.1\r\nHost: t\r\n\r\n", false},
      {"POST /v1/messages HTTP/1.1\r\nHost: t\r\n"
       "Transfer-Encoding: chunked\r\n\r\n",
       true},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    if (cli_connect(c, f->port) < 0 || cli_sends(c, cases[i].req) < 0) {
      f->client_errors++;
      continue;
    }
    if (i == 3 || i == 8) { /* 2 or 4 chunks of 600: past max_body = 1024,
                               and for i == 8 past twice that */
      char chunk[700];
      memset(chunk, 'x', sizeof chunk);
      for (int k = 0; k < (i == 3 ? 2 : 4); k++) {
        cli_sends(c, "258\r\n");
        cli_send(c, chunk, 600);
        cli_sends(c, "\r\n");
      }
      cli_sends(c, "0\r\n\r\n");
    }
    if (i == 6) { /* a header past max_header_size */
      cli_send(c, big, sizeof big);
      cli_send(c, big, sizeof big);
      cli_sends(c, "\r\n\r\n");
    }
    if (cli_read(c, &f->resp[i], false) < 0)
      f->resp[i].status = 0;
    cli_close(c);
  }
  free(c);
}

static void error_answers(void **state) {
  sg_http_server_cfg_t cfg = {.max_body = 1024, .max_header_size = 1024};
  fixture_t *f = fixture_new(&cfg);
  routes_echo(f);
  fixture_run(f, client_errors);
  assert_int_equal(f->client_errors, 0);

  assert_int_equal(f->resp[0].status, 404);
  assert_string_equal(error_code(&f->resp[0]), "not_found");
  assert_string_equal(head_value(f->resp[0].head, "Content-Type"),
                      "application/json");

  assert_int_equal(f->resp[1].status, 405);
  assert_string_equal(error_code(&f->resp[1]), "method_not_allowed");
  assert_string_equal(head_value(f->resp[1].head, "Allow"), "POST, GET, HEAD");

  assert_int_equal(f->resp[2].status, 413);
  assert_string_equal(error_code(&f->resp[2]), "body_too_large");
  assert_int_equal(f->resp[3].status, 413); /* chunked, found while reading */
  assert_string_equal(error_code(&f->resp[3]), "body_too_large");

  assert_int_equal(f->resp[4].status, 400); /* libmicrohttpd's own */
  assert_int_equal(f->resp[5].status, 400); /* HTTP/1.1 without Host */
  assert_true(f->resp[6].status == 431 || f->resp[6].status == 413 ||
              f->resp[6].status == 400);
  assert_int_equal(f->resp[7].status, 400);
  assert_string_equal(error_code(&f->resp[7]), "bad_request");
  assert_int_equal(f->resp[8].status, 0); /* closed without an answer */

  sg_http_server_stats_t st;
  fixture_stats(f, &st);
  assert_int_equal(st.requests, 0); /* no handler saw any of them */
  assert_int_equal(st.rejected, 5);
  fixture_free(f);
}

static void client_error_body(fixture_t *f) {
  conn_t *c = calloc(1, sizeof *c);
  for (int i = 0; i < 3; i++)
    if (cli_connect(c, f->port) < 0 ||
        cli_sends(c, "GET /e HTTP/1.1\r\nHost: t\r\n\r\n") < 0 ||
        cli_read(c, &f->resp[i], false) < 0)
      f->client_errors++;
  cli_close(c);
  free(c);
}

static int error_variant;

static void error_handler(sg_http_req_t *req, void *data) {
  fixture_t *f = data;
  int v = error_variant++;
  if (v == 0)
    f->respond_rc[v] = sg_http_respond_error(
        req, 422, "invalid_number", "\"to\" is not a phone number", "to");
  else if (v == 1)
    f->respond_rc[v] =
        sg_http_respond_error(req, 503, "unavailable", "try later", NULL);
  else /* a header with CR LF: refused, a 500 goes out */
    f->respond_rc[v] =
        sg_http_respond(req, 200, "text/plain", "x", 1,
                        (const char *[]){"X-Bad", "a\r\nSet-Cookie: x", NULL});
}

static void respond_error_format(void **state) {
  fixture_t *f = fixture_new(NULL);
  error_variant = 0;
  assert_int_equal(sg_http_server_route(f->srv, "GET", "/e", error_handler, f),
                   0);
  fixture_run(f, client_error_body);
  assert_int_equal(f->client_errors, 0);
  assert_int_equal(f->resp[0].status, 422);
  json_error_t je;
  json_t *o = json_loads(f->resp[0].body, JSON_REJECT_DUPLICATES, &je);
  assert_non_null(o);
  json_t *e = json_object_get(o, "error");
  assert_int_equal(json_object_size(o), 1);
  assert_int_equal(json_object_size(e), 3);
  assert_string_equal(json_string_value(json_object_get(e, "code")),
                      "invalid_number");
  assert_string_equal(json_string_value(json_object_get(e, "message")),
                      "\"to\" is not a phone number");
  assert_string_equal(json_string_value(json_object_get(e, "field")), "to");
  json_decref(o);
  assert_string_equal(f->resp[1].body,
                      "{\"error\":{\"code\":\"unavailable\",\"message\":"
                      "\"try later\",\"field\":null}}");
  assert_int_equal(f->resp[2].status, 500);
  assert_null(head_value(f->resp[2].head, "Set-Cookie"));
  assert_int_equal(f->respond_rc[0], 0);
  assert_int_equal(f->respond_rc[1], 0);
  assert_int_equal(f->respond_rc[2], SG_EINVAL);
  fixture_free(f);
}

/* ---- keep-alive -----------------------------------------------------------
 */

static void client_keepalive(fixture_t *f) {
  conn_t *c = calloc(1, sizeof *c);
  static const char *const reqs[] = {
      "GET /v1/messages/a HTTP/1.1\r\nHost: t\r\n\r\n",
      "POST /v1/later HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\n\r\nabc",
      "GET /v1/unknown HTTP/1.1\r\nHost: t\r\n\r\n",
      "HEAD /v1/messages/b HTTP/1.1\r\nHost: t\r\n\r\n",
      "GET /v1/messages/c HTTP/1.1\r\nHost: t\r\n\r\n",
  };
  if (cli_connect(c, f->port) < 0) {
    f->client_errors++;
  } else {
    for (size_t i = 0; i < sizeof reqs / sizeof reqs[0]; i++)
      if (cli_sends(c, reqs[i]) < 0 || cli_read(c, &f->resp[i], i == 3) < 0)
        f->client_errors++;
    /* Pipelined: two requests in one write, answered in order. */
    if (cli_sends(c, "GET /v1/messages/p1 HTTP/1.1\r\nHost: t\r\n\r\n"
                     "GET /v1/messages/p2 HTTP/1.1\r\nHost: t\r\n\r\n") < 0 ||
        cli_read(c, &f->resp[5], false) < 0 ||
        cli_read(c, &f->resp[6], false) < 0)
      f->client_errors++;
    f->open_after = !cli_closed(c, 100);
  }
  cli_close(c);
  free(c);
}

static void keep_alive(void **state) {
  fixture_t *f = fixture_new(NULL);
  f->commit_ms = 5;
  routes_echo(f);
  assert_int_equal(
      sg_http_server_route(f->srv, "POST", "/v1/later", deferred_handler, f),
      0);
  fixture_run(f, client_keepalive);
  assert_int_equal(f->client_errors, 0);
  assert_int_equal(f->resp[0].status, 200);
  assert_int_equal(f->resp[1].status, 202);
  assert_string_equal(f->resp[1].body, "{\"accepted\":3,\"echo\":\"abc\"}");
  assert_int_equal(f->resp[2].status, 404);
  assert_int_equal(f->resp[3].status, 200); /* HEAD via the GET route */
  assert_int_equal(f->resp[3].body_len, 0);
  assert_non_null(head_value(f->resp[3].head, "Content-Length"));
  assert_true(strstr(f->resp[4].body, "\"id\":\"c\"") != NULL);
  assert_true(strstr(f->resp[5].body, "\"id\":\"p1\"") != NULL);
  assert_true(strstr(f->resp[6].body, "\"id\":\"p2\"") != NULL);
  assert_true(f->open_after);
  sg_http_server_stats_t st;
  fixture_stats(f, &st);
  assert_int_equal(st.connections_accepted, 1);
  assert_int_equal(st.requests, 6);
  assert_int_equal(st.rejected, 1);
  fixture_free(f);
}

/* ---- the header limit and the connection pool --------------------------
 */

/* A POST /v1/later whose request line, headers and blank line take exactly
 * `total` octets in `lines` header lines (Host and Content-Length among
 * them), with the body "abc". */
static int big_head_post(char *out, size_t cap, size_t total, int lines) {
  const char *start = "POST /v1/later HTTP/1.1\r\nHost: t\r\n"
                      "Content-Length: 3\r\n";
  size_t len = strlen(start);
  if (len + 2 + 4 > cap || total >= cap || lines < 3)
    return -1;
  memcpy(out, start, len);
  size_t left = total - len - 2; /* the blank line */
  int extra = lines - 2;
  for (int i = 0; i < extra; i++) {
    size_t n = i < extra - 1 ? left / (size_t)(extra - i) : left;
    int h = snprintf(out + len, cap - len, "X-Pad-%02d: ", i);
    if (h < 0 || (size_t)h + 3 > n)
      return -1;
    memset(out + len + h, 'p', n - (size_t)h - 2);
    memcpy(out + len + n - 2, "\r\n", 2);
    len += n;
    left -= n;
  }
  memcpy(out + len, "\r\n", 2);
  len += 2;
  if (len != total)
    return -1;
  memcpy(out + len, "abc", 4);
  return (int)len + 3;
}

static void client_big_heads(fixture_t *f) {
  conn_t *c = calloc(1, sizeof *c);
  static char req[8192];
  int n;
  if (cli_connect(c, f->port) < 0) {
    f->client_errors++;
    free(c);
    return;
  }
  /* Two requests at the header limit, in 30 lines, each answered after its
   * connection was suspended and resumed, on one connection. */
  for (int i = 0; i < 2; i++)
    if ((n = big_head_post(req, sizeof req, 2048, 30)) < 0 ||
        cli_send(c, req, (size_t)n) < 0 || cli_read(c, &f->resp[i], false) < 0)
      f->client_errors++;
  /* Then a small one on the same connection. */
  if (cli_sends(c, "POST /v1/later HTTP/1.1\r\nHost: t\r\n"
                   "Content-Length: 3\r\n\r\nxyz") < 0 ||
      cli_read(c, &f->resp[2], false) < 0)
    f->client_errors++;
  /* Past the limit and its slack: refused before any handler sees it. */
  if ((n = big_head_post(req, sizeof req, 3 * 2048 + 1024, 30)) < 0 ||
      cli_send(c, req, (size_t)n) < 0 || cli_read(c, &f->resp[3], false) < 0)
    f->client_errors++;
  f->open_after = !cli_closed(c, 2000);
  cli_close(c);
  free(c);
}

static void header_limit_with_suspended_answers(void **state) {
  sg_http_server_cfg_t cfg = {.max_header_size = 2048};
  fixture_t *f = fixture_deferred(&cfg, "/v1/later", 5);
  fixture_run(f, client_big_heads);
  assert_int_equal(f->client_errors, 0);
  for (int i = 0; i < 2; i++) {
    assert_int_equal(f->resp[i].status, 202);
    assert_string_equal(f->resp[i].body, "{\"accepted\":3,\"echo\":\"abc\"}");
    assert_string_equal(head_value(f->resp[i].head, "X-Commit"), "1");
  }
  assert_int_equal(f->resp[2].status, 202);
  assert_string_equal(f->resp[2].body, "{\"accepted\":3,\"echo\":\"xyz\"}");
  assert_int_equal(f->resp[3].status, 431);
  assert_false(f->open_after); /* libmicrohttpd closes after its 431 */
  sg_http_server_stats_t st;
  fixture_stats(f, &st);
  assert_int_equal(st.connections_accepted, 1);
  assert_int_equal(st.requests, 3);
  assert_int_equal(st.waiting, 0);
  fixture_free(f);
}

/* The allocator's count as each request reaches its handler. */
static unsigned long g_alloc_seen[10];
static int g_n_alloc_seen;

static void count_handler(sg_http_req_t *req, void *data) {
  (void)data;
  if (g_n_alloc_seen < 10)
    g_alloc_seen[g_n_alloc_seen++] = sg_alloc_count();
  sg_http_respond(req, 200, "text/plain", "ok", 2, NULL);
}

static void client_gets_and_posts(fixture_t *f) {
  conn_t *c = calloc(1, sizeof *c);
  if (cli_connect(c, f->port) < 0) {
    f->client_errors++;
  } else {
    for (int i = 0; i < 10; i++)
      if (cli_sends(c, i < 5 ? "GET /n HTTP/1.1\r\nHost: t\r\n\r\n"
                             : "POST /n HTTP/1.1\r\nHost: t\r\n"
                               "Content-Length: 3\r\n\r\nabc") < 0 ||
          cli_read(c, &f->resp[i], false) < 0)
        f->client_errors++;
  }
  cli_close(c);
  free(c);
}

/* A request object is kept for the next request once done, with its body
 * buffer: requests after the first on a kept-alive connection allocate
 * nothing of the server's (their strings fit the object's own arena),
 * and bodies after the first none either. */
static void request_objects_reused(void **state) {
  (void)state;
  fixture_t *f = fixture_new(NULL);
  assert_int_equal(
      sg_http_server_route(f->srv, "GET", "/n", count_handler, NULL), 0);
  assert_int_equal(
      sg_http_server_route(f->srv, "POST", "/n", count_handler, NULL), 0);
  g_n_alloc_seen = 0;
  fixture_run(f, client_gets_and_posts);
  assert_int_equal(f->client_errors, 0);
  assert_int_equal(g_n_alloc_seen, 10);
  for (int i = 0; i < 10; i++)
    assert_int_equal(f->resp[i].status, 200);
#if !defined(__SANITIZE_ADDRESS__) /* sanitizer builds keep no object */
  for (int i = 2; i < 10; i++)
    if (i != 5) /* the first body */
      assert_int_equal(g_alloc_seen[i] - g_alloc_seen[i - 1], 0);
  assert_int_equal(g_alloc_seen[5] - g_alloc_seen[4], 1);
#endif
  fixture_free(f);
}

/* ---- draining ------------------------------------------------------------ */

static atomic_int g_drained; /* 0: not yet, 1: idle, 2: timed out */
static atomic_int g_draining; /* the handler has started the drain */

static void drained_cb(sg_http_server_t *srv, bool idle, void *data) {
  (void)srv;
  (void)data;
  atomic_store(&g_drained, idle ? 1 : 2);
}

/* Holds the request, starts the drain, and answers after commit_ms. */
static void draining_handler(sg_http_req_t *req, void *data) {
  fixture_t *f = data;
  f->held[f->n_held++] = req;
  f->respond_rc[f->n_respond_rc++] =
      sg_http_server_drain(f->srv, 5000, drained_cb, f);
  atomic_store(&g_draining, 1);
  uv_timer_start(&f->commit, commit_cb, f->commit_ms, 0);
}

static void client_drain(fixture_t *f) {
  conn_t *kept = calloc(1, sizeof *kept), *held = calloc(1, sizeof *held),
         *late = calloc(1, sizeof *late);
  /* a kept-alive connection, opened before the drain */
  if (cli_connect(kept, f->port) < 0 ||
      cli_sends(kept, "GET /v1/messages/a HTTP/1.1\r\nHost: t\r\n\r\n") < 0 ||
      cli_read(kept, &f->resp[0], false) < 0)
    f->client_errors++;
  if (cli_connect(held, f->port) < 0 ||
      cli_sends(held, "POST /v1/hold HTTP/1.1\r\nHost: t\r\n"
                      "Content-Length: 5\r\n\r\nhello") < 0)
    f->client_errors++;
  for (int i = 0; i < 2000 && atomic_load(&g_draining) == 0; i++)
    usleep(1000);
  /* draining now: no new connection, 503 on the kept one */
  f->open_after = cli_connect(late, f->port) == 0;
  if (cli_sends(kept, "GET /v1/messages/b HTTP/1.1\r\nHost: t\r\n\r\n") < 0 ||
      cli_read(kept, &f->resp[1], false) < 0)
    f->client_errors++;
  /* the request in flight still gets its answer */
  if (cli_read(held, &f->resp[2], false) < 0)
    f->client_errors++;
  for (int i = 0; i < 2000 && atomic_load(&g_drained) == 0; i++)
    usleep(1000);
  cli_close(kept);
  cli_close(held);
  if (f->open_after)
    cli_close(late);
  free(kept);
  free(held);
  free(late);
}

static void drain_answers_what_is_in_flight(void **state) {
  (void)state;
  fixture_t *f = fixture_new(NULL);
  f->commit_ms = 150;
  atomic_store(&g_drained, 0);
  atomic_store(&g_draining, 0);
  routes_echo(f);
  assert_int_equal(
      sg_http_server_route(f->srv, "POST", "/v1/hold", draining_handler, f), 0);
  fixture_run(f, client_drain);
  assert_int_equal(f->client_errors, 0);
  assert_int_equal(f->respond_rc[0], 0); /* the drain started */
  assert_int_equal(f->resp[0].status, 200);
  assert_false(f->open_after); /* the listener is closed */
  assert_int_equal(f->resp[1].status, 503);
  assert_string_equal(error_code(&f->resp[1]), "stopping");
  assert_int_equal(f->resp[2].status, 202);
  assert_string_equal(f->resp[2].body, "{\"accepted\":5,\"echo\":\"hello\"}");
  assert_int_equal(atomic_load(&g_drained), 1);
  /* a second drain, and a drain of nothing, are refused */
  assert_int_equal(sg_http_server_drain(f->srv, 10, drained_cb, f), SG_ESTATE);
  assert_int_equal(sg_http_server_drain(NULL, 10, drained_cb, f), SG_EINVAL);
  fixture_free(f);
}

/* ---- a client that leaves while suspended ---------------------------------
 */

static void late_cb(uv_timer_t *t) {
  fixture_t *f = t->data;
  for (int i = 0; i < f->n_held; i++)
    f->respond_rc[f->n_respond_rc++] =
        sg_http_respond(f->held[i], 202, "text/plain", "late", 4, NULL);
  f->n_held = 0;
  atomic_fetch_add(&f->responded, 1);
}

static void on_cancel(sg_http_req_t *req, void *data) {
  fixture_t *f = data;
  f->cancels++;
  assert_true(sg_http_req_cancelled(req));
  /* The request and its data are still readable after the client left. */
  size_t blen;
  const uint8_t *b = sg_http_req_body(req, &blen);
  snprintf(f->seen[0], sizeof f->seen[0], "%.*s|%s", (int)blen, (const char *)b,
           sg_http_req_header(req, "X-Test"));
  atomic_fetch_add(&f->cancelled, 1);
  /* Answer later, as a commit would. */
  uv_timer_start(&f->commit, late_cb, 10, 0);
}

static void holding_handler(sg_http_req_t *req, void *data) {
  fixture_t *f = data;
  f->held[f->n_held++] = req;
  if (strcmp(sg_http_req_path(req), "/hold/cb") == 0)
    sg_http_req_on_cancel(req, on_cancel, f);
  assert_false(sg_http_req_cancelled(req));
  atomic_fetch_add(&f->arrived, 1);
}

static bool wait_for(atomic_int *v, int want, int timeout_ms) {
  double end = now_ms() + timeout_ms;
  while (atomic_load(v) < want) {
    if (now_ms() > end)
      return false;
    sleep_ms(2);
  }
  return true;
}

static void client_abort(fixture_t *f) {
  conn_t *c = calloc(1, sizeof *c);
  if (cli_connect(c, f->port) < 0 ||
      cli_sends(c, "POST /hold/cb HTTP/1.1\r\nHost: t\r\nX-Test: abc\r\n"
                   "Content-Length: 4\r\n\r\nbody") < 0)
    f->client_errors++;
  if (!wait_for(&f->arrived, 1, 3000))
    f->client_errors++;
  cli_close(c); /* gone while the request is suspended */
  if (!wait_for(&f->cancelled, 1, 3000) || !wait_for(&f->responded, 1, 3000))
    f->client_errors++;
  /* The server still serves others. */
  if (cli_connect(c, f->port) < 0 ||
      cli_sends(c, "GET /v1/messages/x HTTP/1.1\r\nHost: t\r\n\r\n") < 0 ||
      cli_read(c, &f->resp[0], false) < 0)
    f->client_errors++;
  cli_close(c);
  free(c);
}

static void client_abort_during_suspension(void **state) {
  fixture_t *f = fixture_new(NULL);
  routes_echo(f);
  assert_int_equal(
      sg_http_server_route(f->srv, "POST", "/hold/{how}", holding_handler, f),
      0);
  fixture_run(f, client_abort);
  assert_int_equal(f->client_errors, 0);
  assert_int_equal(f->cancels, 1);
  assert_string_equal(f->seen[0], "body|abc");
  assert_int_equal(f->n_respond_rc, 1);
  assert_int_equal(f->respond_rc[0], SG_ECLOSED);
  assert_int_equal(f->resp[0].status, 200);
  sg_http_server_stats_t st;
  fixture_stats(f, &st);
  assert_int_equal(st.cancelled, 1);
  assert_int_equal(st.waiting, 0);
  fixture_free(f);
}

/* Without a cancel callback: the late answer is a no-op all the same. */
static void client_abort_nocb(fixture_t *f) {
  conn_t *c = calloc(1, sizeof *c);
  if (cli_connect(c, f->port) < 0 ||
      cli_sends(c, "POST /hold/plain HTTP/1.1\r\nHost: t\r\n"
                   "Content-Length: 0\r\n\r\n") < 0)
    f->client_errors++;
  if (!wait_for(&f->arrived, 1, 3000))
    f->client_errors++;
  struct linger lg = {1, 0}; /* leave with a reset this time */
  setsockopt(c->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
  cli_close(c);
  sleep_ms(400); /* the server notices on its own */
  free(c);
}

static void stats_cb(uv_timer_t *t) {
  fixture_t *f = t->data;
  sg_http_server_stats_t st;
  fixture_stats(f, &st);
  f->cancels = (int)st.cancelled;
  late_cb(t);
}

static void client_abort_without_callback(void **state) {
  fixture_t *f = fixture_new(NULL);
  assert_int_equal(
      sg_http_server_route(f->srv, "POST", "/hold/{how}", holding_handler, f),
      0);
  fixture_run(f, client_abort_nocb);
  assert_int_equal(f->client_errors, 0);
  assert_int_equal(f->n_held, 1);
  assert_true(sg_http_req_cancelled(f->held[0]));
  /* Answer from the loop now that the client is gone. */
  uv_timer_start(&f->commit, stats_cb, 0, 0);
  uv_run(&f->loop, UV_RUN_NOWAIT);
  assert_int_equal(f->cancels, 1);
  assert_int_equal(f->n_respond_rc, 1);
  assert_int_equal(f->respond_rc[0], SG_ECLOSED);
  sg_http_server_stats_t st;
  fixture_stats(f, &st);
  assert_int_equal(st.connections_open, 0);
  fixture_free(f);
}

/* ---- many connections at once ----------------------------------------------
 */

#define N_CONC 200

static void client_many(fixture_t *f) {
  conn_t *c = calloc(N_CONC, sizeof *c);
  char req[256];
  for (int i = 0; i < N_CONC; i++) {
    int n = snprintf(req, sizeof req,
                     "POST /v1/messages HTTP/1.1\r\nHost: t\r\n"
                     "Content-Length: %d\r\n\r\nm%d",
                     1 + snprintf(NULL, 0, "%d", i), i);
    if (cli_connect(&c[i], f->port) < 0 || cli_send(&c[i], req, (size_t)n) < 0)
      f->client_errors++;
  }
  for (int i = 0; i < N_CONC; i++) {
    resp_t *r = malloc(sizeof *r);
    char want[64];
    snprintf(want, sizeof want, "\"echo\":\"m%d\"", i);
    if (cli_read(&c[i], r, false) < 0 || strstr(r->body, want) == NULL)
      f->client_errors++;
    f->status[i] = r->status;
    free(r);
    cli_close(&c[i]);
  }
  free(c);
}

static void many_concurrent_connections(void **state) {
  sg_http_server_cfg_t cfg = {.max_connections = 512};
  fixture_t *f = fixture_deferred(&cfg, "/v1/messages", 30);
  fixture_run(f, client_many);
  assert_int_equal(f->client_errors, 0);
  for (int i = 0; i < N_CONC; i++)
    assert_int_equal(f->status[i], 202);
  for (int i = 0; i < f->n_respond_rc; i++)
    assert_int_equal(f->respond_rc[i], 0);
  assert_int_equal(f->n_respond_rc, N_CONC);
  assert_true(f->max_waiting > 1); /* answers were batched by the commit */
  sg_http_server_stats_t st;
  fixture_stats(f, &st);
  assert_int_equal(st.connections_accepted, N_CONC);
  assert_int_equal(st.requests, N_CONC);
  fixture_free(f);
}

/* ---- limits: connections and idle timeout ----------------------------------
 */

static void client_limits(fixture_t *f) {
  conn_t *c = calloc(3, sizeof *c);
  /* Two connections fill the limit; the third is not served until one of
   * them goes. */
  for (int i = 0; i < 2; i++)
    if (cli_connect(&c[i], f->port) < 0 ||
        cli_sends(&c[i], "GET / HTTP/1.1\r\nHost: t\r\n\r\n") < 0 ||
        cli_read(&c[i], &f->resp[i], false) < 0)
      f->client_errors++;
  if (cli_connect(&c[2], f->port) == 0) {
    cli_sends(&c[2], "GET / HTTP/1.1\r\nHost: t\r\n\r\n");
    struct pollfd p = {c[2].fd, POLLIN, 0};
    f->status[0] = poll(&p, 1, 300); /* 0: nothing served yet */
    if (f->status[0] > 0 && !cli_closed(&c[2], 0))
      f->status[0] = 2; /* served: limit not enforced */
  }
  cli_close(&c[0]);
  cli_close(&c[2]);
  /* The idle connection is closed by the server after idle_timeout_s (the
   * wait is generous: a loaded machine runs the server's timer late). */
  double t0 = now_ms();
  f->closed_after = cli_closed(&c[1], 10000);
  f->elapsed_ms = now_ms() - t0;
  cli_close(&c[1]);
  /* And new connections are served again (counted apart: 100). */
  if (cli_connect(&c[0], f->port) < 0 ||
      cli_sends(&c[0], "GET / HTTP/1.1\r\nHost: t\r\n\r\n") < 0 ||
      cli_read(&c[0], &f->resp[2], false) < 0)
    f->client_errors += 100;
  cli_close(&c[0]);
  free(c);
}

static void connection_limit_and_idle_timeout(void **state) {
  sg_http_server_cfg_t cfg = {.max_connections = 2, .idle_timeout_s = 1};
  fixture_t *f = fixture_new(&cfg);
  assert_int_equal(
      sg_http_server_route(f->srv, "GET", "/", fixed_handler, "root"), 0);
  fixture_run(f, client_limits);
  assert_int_equal(f->client_errors, 0);
  assert_int_equal(f->resp[0].status, 200);
  assert_int_equal(f->resp[1].status, 200);
  assert_int_not_equal(f->status[0], 2);
  assert_true(f->closed_after);
  assert_int_equal(f->resp[2].status, 200);
  fixture_free(f);
}

/* ---- freeing the server with requests outstanding --------------------------
 */

static void client_hold_two(fixture_t *f) {
  conn_t *c = calloc(2, sizeof *c);
  if (cli_connect(&c[0], f->port) < 0 ||
      cli_sends(&c[0], "POST /hold/cb HTTP/1.1\r\nHost: t\r\n"
                       "Content-Length: 1\r\n\r\na") < 0 ||
      cli_connect(&c[1], f->port) < 0 ||
      cli_sends(&c[1], "POST /hold/plain HTTP/1.1\r\nHost: t\r\n"
                       "Content-Length: 1\r\n\r\nb") < 0)
    f->client_errors++;
  if (!wait_for(&f->arrived, 2, 3000))
    f->client_errors++;
  /* The connections stay open while the main thread frees the server. */
  f->fds[0] = c[0].fd;
  f->fds[1] = c[1].fd;
  free(c);
}

static void free_with_requests_outstanding(void **state) {
  fixture_t *f = fixture_new(NULL);
  assert_int_equal(
      sg_http_server_route(f->srv, "POST", "/hold/{how}", holding_handler, f),
      0);
  fixture_run(f, client_hold_two);
  assert_int_equal(f->client_errors, 0);
  assert_int_equal(f->n_held, 2);
  sg_http_server_free(f->srv);
  assert_int_equal(f->cancels, 1); /* the one with a callback, at once */
  for (int i = 0; i < 2; i++) {
    assert_true(sg_http_req_cancelled(f->held[i]));
    assert_int_equal(sg_http_respond(f->held[i], 202, NULL, NULL, 0, NULL),
                     SG_ECLOSED);
  }
  uv_timer_stop(&f->commit);
  f->srv = NULL;
  close(f->fds[0]);
  close(f->fds[1]);
  fixture_free(f);
}

/* ---- listening -------------------------------------------------------------
 */

static void listen_errors_and_reuse(void **state) {
  uv_loop_t loop;
  sg_http_server_t *a = NULL, *b = NULL;
  assert_int_equal(uv_loop_init(&loop), 0);
  sg_http_server_cfg_t cfg = {.host = "127.0.0.1"};
  assert_int_equal(sg_http_server_new(&loop, &cfg, &a), 0);
  cfg.port = sg_http_server_port(a);
  assert_int_equal(sg_http_server_new(&loop, &cfg, &b), SG_EIO); /* in use */
  assert_null(b);
  sg_http_server_free(a);
  uv_run(&loop, UV_RUN_DEFAULT);
  /* With reuse_port two servers (two loops, in real use) share a port. */
  cfg.reuse_port = true;
  cfg.port = 0;
  assert_int_equal(sg_http_server_new(&loop, &cfg, &a), 0);
  cfg.port = sg_http_server_port(a);
  assert_int_equal(sg_http_server_new(&loop, &cfg, &b), 0);
  assert_int_equal(sg_http_server_port(b), cfg.port);
  sg_http_server_free(a);
  sg_http_server_free(b);
  sg_http_server_free(NULL);
  assert_int_equal(sg_http_server_new(&loop, NULL, &a), SG_EINVAL);
  uv_run(&loop, UV_RUN_DEFAULT);
  assert_int_equal(uv_loop_close(&loop), 0);
}

static void client_v6(fixture_t *f) {
  struct sockaddr_in6 sa;
  memset(&sa, 0, sizeof sa);
  sa.sin6_family = AF_INET6;
  sa.sin6_port = htons(f->port);
  sa.sin6_addr = in6addr_loopback;
  conn_t *c = calloc(1, sizeof *c);
  c->fd = socket(AF_INET6, SOCK_STREAM, 0);
  struct timeval tv = {5, 0};
  setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  if (connect(c->fd, (struct sockaddr *)&sa, sizeof sa) < 0 ||
      cli_sends(c, "GET / HTTP/1.1\r\nHost: [::1]\r\n\r\n") < 0 ||
      cli_read(c, &f->resp[0], false) < 0)
    f->client_errors++;
  cli_close(c);
  free(c);
}

static void listen_ipv6(void **state) {
  int probe = socket(AF_INET6, SOCK_STREAM, 0);
  struct sockaddr_in6 sa = {.sin6_family = AF_INET6};
  sa.sin6_addr = in6addr_loopback;
  if (probe < 0 || bind(probe, (struct sockaddr *)&sa, sizeof sa) < 0) {
    if (probe >= 0)
      close(probe);
    skip(); /* no IPv6 loopback here */
  }
  close(probe);
  fixture_t *f = calloc(1, sizeof *f);
  assert_int_equal(uv_loop_init(&f->loop), 0);
  assert_int_equal(uv_async_init(&f->loop, &f->done, done_cb), 0);
  uv_timer_init(&f->loop, &f->commit);
  sg_http_server_cfg_t cfg = {.host = "::1"};
  assert_int_equal(sg_http_server_new(&f->loop, &cfg, &f->srv), 0);
  f->port = sg_http_server_port(f->srv);
  assert_int_equal(sg_http_server_route(f->srv, "GET", "/", peer_handler, f),
                   0);
  fixture_run(f, client_v6);
  assert_int_equal(f->client_errors, 0);
  assert_int_equal(f->resp[0].status, 200);
  assert_string_equal(f->resp[0].body, "::1");
  fixture_free(f);
}

/* ---- allocation failures ----------------------------------------------------
 */

static void client_one_post(fixture_t *f) {
  conn_t *c = calloc(1, sizeof *c);
  /* A long query and headers push the request past the inline arena. */
  char req[4096];
  int n = snprintf(req, sizeof req,
                   "POST /v1/messages?%0300d=%0300d&b=2 HTTP/1.1\r\nHost: t\r\n"
                   "X-Long: %01000d\r\nContent-Length: 5\r\n\r\nhello",
                   1, 2, 3);
  if (cli_connect(c, f->port) < 0 || cli_send(c, req, (size_t)n) < 0 ||
      cli_read(c, &f->resp[0], false) < 0)
    f->resp[0].status = 0; /* closed: allowed when memory runs out */
  cli_close(c);
  free(c);
}

/* The Nth allocation of the server fails (and every later one): each
 * request gets an answer or a closed connection, nothing leaks or
 * crashes, and the server works again once memory is back. */
static void allocation_failures(void **state) {
  int answered = 0, closed = 0;
  for (long n = 0; n < 12; n++) {
    fixture_t *f = fixture_new(NULL);
    f->commit_ms = 1;
    assert_int_equal(sg_http_server_route(f->srv, "POST", "/v1/messages",
                                          deferred_handler, f),
                     0);
    sg_alloc_fail_after(n);
    fixture_run(f, client_one_post);
    sg_alloc_fail_after(-1);
    if (f->resp[0].status == 202)
      answered++;
    else if (f->resp[0].status == 0)
      closed++;
    else
      fail_msg("n=%ld: status %d", n, f->resp[0].status);
    fixture_run(f, client_deferred);
    assert_int_equal(f->resp[0].status, 202);
    fixture_free(f);
  }
  assert_true(closed > 0);   /* the failures were hit */
  assert_true(answered > 0); /* and at some n there were enough */
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(routing_with_params),
      cmocka_unit_test(bad_patterns),
      cmocka_unit_test(query_parsing),
      cmocka_unit_test(query_values),
      cmocka_unit_test(raw_route_query_left_to_handler),
      cmocka_unit_test(deferred_response),
      cmocka_unit_test(error_answers),
      cmocka_unit_test(respond_error_format),
      cmocka_unit_test(keep_alive),
      cmocka_unit_test(header_limit_with_suspended_answers),
      cmocka_unit_test(request_objects_reused),
      cmocka_unit_test(drain_answers_what_is_in_flight),
      cmocka_unit_test(client_abort_during_suspension),
      cmocka_unit_test(client_abort_without_callback),
      cmocka_unit_test(many_concurrent_connections),
      cmocka_unit_test(connection_limit_and_idle_timeout),
      cmocka_unit_test(free_with_requests_outstanding),
      cmocka_unit_test(listen_errors_and_reuse),
      cmocka_unit_test(listen_ipv6),
      cmocka_unit_test(allocation_failures),
  };
  if (getenv("SG_TEST_FILTER") != NULL)
    cmocka_set_test_filter(getenv("SG_TEST_FILTER"));
  return cmocka_run_group_tests(tests, NULL, NULL);
}
