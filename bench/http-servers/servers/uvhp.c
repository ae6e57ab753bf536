/* uvhp.c - POST /v1/messages on a bare libuv loop with http-parser: the
 * least an HTTP/1.1 server on smsgate's loop could cost (read, parse,
 * write, nothing else). It is a measuring floor, not a server to use: no
 * limits, no timeouts, no pipelining, no chunked answers, no TLS. "hop":
 * the request is handed to another thread and answered when its uv_async
 * wakes the loop; "now": answered when the message is complete.
 *
 *   bench_uvhp PORT now|hop
 */
#include "uv_common.h"

#include <http_parser.h>
#include <signal.h>
#include <strings.h>

typedef struct conn {
  uv_tcp_t tcp;
  http_parser parser;
  hop_item_t hop;
  bool authorized, waiting, closing;
  size_t body_len;
  char field[32];
  char value[64];
  size_t field_len, value_len;
  char body[1024];
  char in[16384];
} conn_t;

typedef struct wreq {
  uv_write_t w;
  char data[512];
} wreq_t;

static uv_loop_t *loop;
static uv_async_t async;
static http_parser_settings settings;
static hop_t hop;
static bool use_hop;
static unsigned long long seq;

static void write_cb(uv_write_t *w, int status) {
  (void)status;
  free(w);
}

static void close_cb(uv_handle_t *h) {
  conn_t *c = h->data;
  if (!c->waiting)
    free(c);
  else
    c->closing = true; /* freed when the hop hands it back */
}

static void conn_close(conn_t *c) {
  if (!uv_is_closing((uv_handle_t *)&c->tcp))
    uv_close((uv_handle_t *)&c->tcp, close_cb);
}

static void send_answer(conn_t *c, unsigned status) {
  char body[256], head[512];
  int bn = status == 202 ? answer_body(body, sizeof body, seq++) : 0;
  int hn = snprintf(head, sizeof head,
                    "HTTP/1.1 %u %s\r\nContent-Type: application/json\r\n"
                    "Content-Length: %d\r\n\r\n%.*s",
                    status, status == 202 ? "Accepted" : "Error", bn, bn, body);
  uv_buf_t b = uv_buf_init(head, (unsigned)hn);
  int k = uv_try_write((uv_stream_t *)&c->tcp, &b, 1);
  if (k == hn)
    return;
  if (k < 0 && k != UV_EAGAIN) {
    conn_close(c);
    return;
  }
  if (k < 0)
    k = 0;
  wreq_t *w = malloc(sizeof *w);
  memcpy(w->data, head + k, (size_t)(hn - k));
  b = uv_buf_init(w->data, (unsigned)(hn - k));
  if (uv_write(&w->w, (uv_stream_t *)&c->tcp, &b, 1, write_cb) != 0) {
    free(w);
    conn_close(c);
  }
}

static int on_message_begin(http_parser *p) {
  conn_t *c = p->data;
  c->authorized = false;
  c->body_len = c->field_len = c->value_len = 0;
  return 0;
}

/* Marks the request authorized once the Authorization header's value is
 * complete: called when the next field starts and at the headers' end. */
static void check_header(conn_t *c) {
  if (c->field_len == 13 && strncasecmp(c->field, "authorization", 13) == 0 &&
      c->value_len == strlen(BENCH_KEY) &&
      memcmp(c->value, BENCH_KEY, c->value_len) == 0)
    c->authorized = true;
}

static int on_header_field(http_parser *p, const char *at, size_t n) {
  conn_t *c = p->data;
  if (c->value_len > 0) { /* a new field: the previous one is complete */
    check_header(c);
    c->field_len = c->value_len = 0;
  }
  if (c->field_len + n < sizeof c->field) {
    memcpy(c->field + c->field_len, at, n);
    c->field_len += n;
  }
  return 0;
}

static int on_header_value(http_parser *p, const char *at, size_t n) {
  conn_t *c = p->data;
  if (c->value_len + n < sizeof c->value) {
    memcpy(c->value + c->value_len, at, n);
    c->value_len += n;
  }
  return 0;
}

static int on_headers_complete(http_parser *p) {
  check_header(p->data);
  return 0;
}

static int on_body(http_parser *p, const char *at, size_t n) {
  conn_t *c = p->data;
  if (c->body_len + n >= sizeof c->body)
    return -1;
  memcpy(c->body + c->body_len, at, n);
  c->body_len += n;
  return 0;
}

static int on_message_complete(http_parser *p) {
  conn_t *c = p->data;
  if (p->method != HTTP_POST || !c->authorized || c->body_len == 0 ||
      c->body[0] != '{') {
    send_answer(c, c->authorized ? 400 : 401);
    return 0;
  }
  if (!use_hop) {
    send_answer(c, 202);
    return 0;
  }
  c->waiting = true;
  hop_push(&hop, &c->hop);
  return 0;
}

static void alloc_cb(uv_handle_t *h, size_t hint, uv_buf_t *b) {
  (void)hint;
  conn_t *c = h->data;
  *b = uv_buf_init(c->in, sizeof c->in);
}

static void read_cb(uv_stream_t *s, ssize_t n, const uv_buf_t *b) {
  conn_t *c = s->data;
  if (n < 0) {
    conn_close(c);
    return;
  }
  if (n == 0)
    return;
  size_t used = http_parser_execute(&c->parser, &settings, b->base, (size_t)n);
  if (used != (size_t)n || c->parser.http_errno != HPE_OK)
    conn_close(c);
}

static void answer_held(void *r) {
  conn_t *c = r;
  c->waiting = false;
  if (c->closing)
    free(c);
  else
    send_answer(c, 202);
}

static void async_cb(uv_async_t *a) {
  (void)a;
  hop_answer_all(&hop, answer_held);
}

static void on_accept(uv_stream_t *listener, int status) {
  if (status != 0)
    return;
  conn_t *c = calloc(1, sizeof *c);
  uv_tcp_init(loop, &c->tcp);
  c->tcp.data = c;
  c->hop.req = c;
  if (uv_accept(listener, (uv_stream_t *)&c->tcp) != 0) {
    conn_close(c);
    return;
  }
  uv_tcp_nodelay(&c->tcp, 1);
  http_parser_init(&c->parser, HTTP_REQUEST);
  c->parser.data = c;
  uv_read_start((uv_stream_t *)&c->tcp, alloc_cb, read_cb);
}

int main(int argc, char **argv) {
  int port;
  if (!parse_args(argc, argv, &port, &use_hop))
    return 2;
  signal(SIGPIPE, SIG_IGN);
  loop = uv_default_loop();
  settings.on_message_begin = on_message_begin;
  settings.on_header_field = on_header_field;
  settings.on_header_value = on_header_value;
  settings.on_headers_complete = on_headers_complete;
  settings.on_body = on_body;
  settings.on_message_complete = on_message_complete;
  static uv_tcp_t listener;
  struct sockaddr_in sa;
  uv_tcp_init(loop, &listener);
  uv_ip4_addr("127.0.0.1", port, &sa);
  if (uv_tcp_bind(&listener, (struct sockaddr *)&sa, 0) != 0 ||
      uv_listen((uv_stream_t *)&listener, 1024, on_accept) != 0) {
    fprintf(stderr, "uvhp: cannot listen on %d\n", port);
    return 1;
  }
  uv_async_init(loop, &async, async_cb);
  uv_signal_t sig;
  stop_on_sigterm(loop, &sig);
  if (use_hop && hop_start(&hop, hop_wake_loop, &async) != 0)
    return 1;
  printf("uv+http-parser (%s) listening on 127.0.0.1:%d\n", argv[2], port);
  fflush(stdout);
  uv_run(loop, UV_RUN_DEFAULT);
  return 0;
}
