/* mhd.c - POST /v1/messages on libmicrohttpd, driven from a libuv loop the
 * way src/ingress/http_server.c drives it: MHD_USE_EPOLL |
 * MHD_ALLOW_SUSPEND_RESUME, libmicrohttpd's epoll fd in a uv_poll_t, its
 * timeout in a uv_timer_t, the same connection limit, idle timeout, memory
 * limit (twice the 8 KiB header limit) and strictness, the URI-log and
 * completion callbacks. "hop": the request is suspended, handed to another
 * thread and answered when that thread's uv_async wakes the loop (queue,
 * MHD_resume_connection, MHD_run on the next turn), as when the store's
 * commit comes back; "now": answered from the access callback.
 *
 *   bench_mhd PORT now|hop
 */
#include "uv_common.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <signal.h>

typedef struct req {
  hop_item_t hop;
  struct MHD_Connection *conn;
  size_t body_len;
  bool authorized, started;
  char body[1024];
} req_t;

static uv_loop_t *loop;
static struct MHD_Daemon *mhd;
static uv_timer_t timer;
static uv_poll_t epoll_watch;
static uv_async_t async;
static hop_t hop;
static bool use_hop;
static unsigned long long seq;

static void timer_cb(uv_timer_t *t);

static void drive(void) {
  MHD_UNSIGNED_LONG_LONG ms;
  MHD_run(mhd);
  if (MHD_get_timeout(mhd, &ms) == MHD_YES)
    uv_timer_start(&timer, timer_cb, ms > 86400000 ? 86400000 : ms, 0);
  else
    uv_timer_stop(&timer);
}

static void timer_cb(uv_timer_t *t) {
  (void)t;
  drive();
}

static void epoll_cb(uv_poll_t *p, int status, int events) {
  (void)p, (void)status, (void)events;
  drive();
}

static enum MHD_Result queue_answer(struct MHD_Connection *conn) {
  char body[256];
  int n = answer_body(body, sizeof body, seq++);
  struct MHD_Response *r =
      MHD_create_response_from_buffer((size_t)n, body, MHD_RESPMEM_MUST_COPY);
  if (r == NULL)
    return MHD_NO;
  MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
  enum MHD_Result ok = MHD_queue_response(conn, 202, r);
  MHD_destroy_response(r);
  return ok;
}

static enum MHD_Result queue_status(struct MHD_Connection *conn,
                                    unsigned status) {
  struct MHD_Response *r =
      MHD_create_response_from_buffer(0, NULL, MHD_RESPMEM_PERSISTENT);
  enum MHD_Result ok = MHD_queue_response(conn, status, r);
  MHD_destroy_response(r);
  return ok;
}

static void resume(void *r) {
  req_t *req = r;
  queue_answer(req->conn);
  MHD_resume_connection(req->conn);
}

/* The loop, woken by the hop's thread: answer and resume. */
static void async_cb(uv_async_t *a) {
  (void)a;
  hop_answer_all(&hop, resume);
  /* A resumed connection does not wake the epoll fd: run on the next turn. */
  uv_timer_start(&timer, timer_cb, 0, 0);
}

static void *uri_cb(void *cls, const char *uri, struct MHD_Connection *conn) {
  (void)cls, (void)uri;
  req_t *req = calloc(1, sizeof *req);
  if (req != NULL) {
    req->conn = conn;
    req->hop.req = req;
  }
  return req;
}

static void completed_cb(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe) {
  (void)cls, (void)conn, (void)toe;
  free(*con_cls);
  *con_cls = NULL;
}

static enum MHD_Result access_cb(void *cls, struct MHD_Connection *conn,
                                 const char *url, const char *method,
                                 const char *version, const char *upload_data,
                                 size_t *upload_data_size, void **con_cls) {
  (void)cls, (void)version;
  req_t *req = *con_cls;
  if (req == NULL)
    return MHD_NO;
  if (!req->started) { /* the headers are in */
    req->started = true;
    if (strcmp(method, "POST") != 0 || strcmp(url, BENCH_PATH) != 0)
      return queue_status(conn, 404);
    const char *auth = MHD_lookup_connection_value(
        conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);
    req->authorized = auth != NULL && strcmp(auth, BENCH_KEY) == 0;
    return req->authorized ? MHD_YES : queue_status(conn, 401);
  }
  if (*upload_data_size > 0) {
    size_t n = *upload_data_size;
    if (req->body_len + n > sizeof req->body - 1)
      return queue_status(conn, 413);
    memcpy(req->body + req->body_len, upload_data, n);
    req->body_len += n;
    *upload_data_size = 0;
    return MHD_YES;
  }
  req->body[req->body_len] = '\0';
  if (req->body_len == 0 || req->body[0] != '{')
    return queue_status(conn, 400);
  if (!use_hop)
    return queue_answer(conn);
  MHD_suspend_connection(conn);
  hop_push(&hop, &req->hop);
  return MHD_YES;
}

int main(int argc, char **argv) {
  int port;
  if (!parse_args(argc, argv, &port, &use_hop))
    return 2;
  signal(SIGPIPE, SIG_IGN);
  loop = uv_default_loop();
  struct sockaddr_in sa = {.sin_family = AF_INET,
                           .sin_port = htons((uint16_t)port)};
  inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
  /* Variants measured against this set-up: MHD_TURBO=1 adds
   * MHD_USE_TURBO, MHD_POOL=octets sets the connection memory limit. */
  const char *turbo = getenv("MHD_TURBO"), *pool = getenv("MHD_POOL");
  unsigned flags = MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG;
  if (turbo != NULL && strcmp(turbo, "1") == 0)
    flags |= MHD_USE_TURBO;
  size_t pool_size = pool != NULL ? (size_t)strtoul(pool, NULL, 10) : 0;
  mhd = MHD_start_daemon(
      flags, 0, NULL, NULL, access_cb, NULL, MHD_OPTION_SOCK_ADDR,
      (struct sockaddr *)&sa, MHD_OPTION_CONNECTION_LIMIT, 2000u,
      MHD_OPTION_CONNECTION_TIMEOUT, 30u, MHD_OPTION_CONNECTION_MEMORY_LIMIT,
      pool_size > 0 ? pool_size : (size_t)(2 * 8192),
      MHD_OPTION_STRICT_FOR_CLIENT, (int)1, MHD_OPTION_URI_LOG_CALLBACK, uri_cb,
      NULL, MHD_OPTION_NOTIFY_COMPLETED, completed_cb, NULL, MHD_OPTION_END);
  if (mhd == NULL) {
    fprintf(stderr, "mhd: cannot listen on %d\n", port);
    return 1;
  }
  const union MHD_DaemonInfo *efd =
      MHD_get_daemon_info(mhd, MHD_DAEMON_INFO_EPOLL_FD);
  uv_timer_init(loop, &timer);
  uv_async_init(loop, &async, async_cb);
  uv_poll_init(loop, &epoll_watch, efd->epoll_fd);
  uv_poll_start(&epoll_watch, UV_READABLE, epoll_cb);
  uv_signal_t sig;
  stop_on_sigterm(loop, &sig);
  if (use_hop && hop_start(&hop, hop_wake_loop, &async) != 0)
    return 1;
  printf("mhd (%s) listening on 127.0.0.1:%d\n", argv[2], port);
  fflush(stdout);
  drive();
  uv_run(loop, UV_RUN_DEFAULT);
  MHD_stop_daemon(mhd);
  return 0;
}
