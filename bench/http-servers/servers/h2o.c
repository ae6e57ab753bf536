/* h2o.c - POST /v1/messages on h2o 2.2.5 (Debian's libh2o), built twice:
 * on libuv (libh2o: the loop library smsgate runs on, so the server could
 * share smsgate's loop) and on h2o's own epoll loop (libh2o-evloop, built
 * with -DH2O_USE_EPOLL=1). "hop": the handler keeps the request, hands it
 * to another thread, and answers it when that thread wakes the loop (a
 * uv_async on libuv, h2o's multithread queue on evloop), as when the
 * store's commit comes back; "now": answered from the handler.
 *
 *   bench_h2o_uv PORT now|hop      bench_h2o_evloop PORT now|hop
 */
#include "common.h"

#include <arpa/inet.h>
#include <h2o.h>
#include <netinet/in.h>
#include <signal.h>
#include <unistd.h>
#if H2O_USE_LIBUV
#include "uv_common.h"
#else
#include <h2o/multithread.h>
#include <sys/socket.h>
#endif

typedef struct pending {
  hop_item_t hop;
#if !H2O_USE_LIBUV
  h2o_multithread_message_t msg;
#endif
  h2o_req_t *req;
} pending_t;

static h2o_globalconf_t config;
static h2o_context_t ctx;
static h2o_accept_ctx_t accept_ctx;
static hop_t hop;
static bool use_hop;
static unsigned long long seq;

static void answer(h2o_req_t *req) {
  char *body = h2o_mem_alloc_pool(&req->pool, 256);
  int n = answer_body(body, 256, seq++);
  req->res.status = 202;
  req->res.reason = "Accepted";
  req->res.content_length = (size_t)n; /* else h2o closes after the answer */
  h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CONTENT_TYPE, NULL,
                 H2O_STRLIT("application/json"));
  h2o_send_inline(req, body, (size_t)n);
}

static int on_req(h2o_handler_t *self, h2o_req_t *req) {
  (void)self;
  if (!h2o_memis(req->method.base, req->method.len, H2O_STRLIT("POST")) ||
      !h2o_memis(req->path_normalized.base, req->path_normalized.len,
                 H2O_STRLIT(BENCH_PATH)))
    return -1; /* h2o answers 404 */
  ssize_t i = h2o_find_header(&req->headers, H2O_TOKEN_AUTHORIZATION, -1);
  if (i < 0 ||
      !h2o_memis(req->headers.entries[i].value.base,
                 req->headers.entries[i].value.len, H2O_STRLIT(BENCH_KEY))) {
    h2o_send_error_generic(req, 401, "Unauthorized", "bad key", 0);
    return 0;
  }
  if (req->entity.base == NULL || req->entity.len == 0 ||
      req->entity.base[0] != '{') {
    h2o_send_error_generic(req, 400, "Bad Request", "bad body", 0);
    return 0;
  }
  if (!use_hop) {
    answer(req);
    return 0;
  }
  /* Lives as long as the request. */
  pending_t *p = h2o_mem_alloc_pool(&req->pool, sizeof *p);
  memset(p, 0, sizeof *p);
  p->req = req;
  p->hop.req = p;
  hop_push(&hop, &p->hop);
  return 0;
}

#if H2O_USE_LIBUV
static uv_async_t async;

static void answer_pending(void *p) {
  answer(((pending_t *)p)->req);
}

static void async_cb(uv_async_t *a) {
  (void)a;
  hop_answer_all(&hop, answer_pending);
}

static void on_accept(uv_stream_t *listener, int status) {
  if (status != 0)
    return;
  uv_tcp_t *conn = malloc(sizeof *conn);
  uv_tcp_init(listener->loop, conn);
  if (uv_accept(listener, (uv_stream_t *)conn) != 0) {
    uv_close((uv_handle_t *)conn, (uv_close_cb)free);
    return;
  }
  uv_tcp_nodelay(conn, 1);
  h2o_accept(&accept_ctx,
             h2o_uv_socket_create((uv_stream_t *)conn, (uv_close_cb)free));
}

static int listen_on(uv_loop_t *loop, int port) {
  static uv_tcp_t listener;
  struct sockaddr_in sa;
  uv_tcp_init(loop, &listener);
  uv_ip4_addr("127.0.0.1", port, &sa);
  if (uv_tcp_bind(&listener, (struct sockaddr *)&sa, 0) != 0 ||
      uv_listen((uv_stream_t *)&listener, 1024, on_accept) != 0)
    return -1;
  return 0;
}
#else
static h2o_multithread_receiver_t receiver;
static volatile sig_atomic_t stopping;

static void on_messages(h2o_multithread_receiver_t *r, h2o_linklist_t *list) {
  (void)r;
  while (!h2o_linklist_is_empty(list)) {
    pending_t *p = H2O_STRUCT_FROM_MEMBER(pending_t, msg.link, list->next);
    h2o_linklist_unlink(&p->msg.link);
    answer(p->req);
  }
}

static void deliver(hop_t *h, hop_item_t *items) {
  (void)h;
  while (items != NULL) {
    hop_item_t *next = items->next;
    h2o_multithread_send_message(&receiver, &((pending_t *)items->req)->msg);
    items = next;
  }
}

static void on_accept(h2o_socket_t *listener, const char *err) {
  h2o_socket_t *sock;
  if (err != NULL)
    return;
  while ((sock = h2o_evloop_socket_accept(listener)) != NULL)
    h2o_accept(&accept_ctx, sock);
}

static void on_term(int signum) {
  (void)signum;
  stopping = 1;
}

static int listen_on(h2o_evloop_t *loop, int port) {
  struct sockaddr_in sa = {.sin_family = AF_INET,
                           .sin_port = htons((uint16_t)port)};
  int one = 1, fd = socket(AF_INET, SOCK_STREAM, 0);
  inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
  if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) ||
      bind(fd, (struct sockaddr *)&sa, sizeof sa) != 0 || listen(fd, 1024))
    return -1;
  h2o_socket_t *sock =
      h2o_evloop_socket_create(loop, fd, H2O_SOCKET_FLAG_DONT_READ);
  h2o_socket_read_start(sock, on_accept);
  return 0;
}
#endif

int main(int argc, char **argv) {
  int port;
  if (!parse_args(argc, argv, &port, &use_hop))
    return 2;
  signal(SIGPIPE, SIG_IGN);
  h2o_config_init(&config);
  config.max_request_entity_size = BENCH_MAX_BODY;
  h2o_hostconf_t *host = h2o_config_register_host(
      &config, h2o_iovec_init(H2O_STRLIT("default")), 65535);
  h2o_pathconf_t *path = h2o_config_register_path(host, "/", 0);
  h2o_handler_t *handler = h2o_create_handler(path, sizeof *handler);
  handler->on_req = on_req;
#if H2O_USE_LIBUV
  uv_loop_t *loop = uv_default_loop();
  uv_async_init(loop, &async, async_cb);
  uv_signal_t sig;
  stop_on_sigterm(loop, &sig);
  const char *name = "h2o-uv";
#else
  h2o_evloop_t *loop = h2o_evloop_create();
  signal(SIGTERM, on_term);
  const char *name = "h2o-evloop";
#endif
  h2o_context_init(&ctx, loop, &config);
  accept_ctx.ctx = &ctx;
  accept_ctx.hosts = config.hosts;
#if !H2O_USE_LIBUV
  h2o_multithread_register_receiver(ctx.queue, &receiver, on_messages);
#endif
  if (listen_on(loop, port) != 0) {
    fprintf(stderr, "%s: cannot listen on %d\n", name, port);
    return 1;
  }
#if H2O_USE_LIBUV
  if (use_hop && hop_start(&hop, hop_wake_loop, &async) != 0)
    return 1;
#else
  if (use_hop && hop_start(&hop, deliver, NULL) != 0)
    return 1;
#endif
  printf("%s (%s) listening on 127.0.0.1:%d\n", name, argv[2], port);
  fflush(stdout);
#if H2O_USE_LIBUV
  uv_run(loop, UV_RUN_DEFAULT);
#else
  while (!stopping && h2o_evloop_run(loop, 100) == 0)
    ;
#endif
  return 0;
}
