/* bench_http.c - how many POSTs per second the HTTP server answers when each
 * answer waits for a simulated 1 ms store commit, on one loop.
 *
 * The server (src/ingress/http_server.c) runs on a libuv loop in the main
 * thread with one route, POST /v1/messages, whose handler keeps the request
 * and answers 202 when the commit timer fires: requests that arrive while a
 * commit is pending join the next one, as the store's group commit does
 * (DESIGN.md "Threads and loops"). A load client in a second thread keeps
 * `--conns` keep-alive connections busy, each sending its next request as
 * soon as the previous answer is in (closed loop), with its own epoll set.
 * Each row runs for `--secs` seconds after a short warm-up; the table shows
 * requests per second and the latency percentiles the client saw.
 *
 *   bench_http [--secs S] [--commit-ms M] [--conns N[,N...]]
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <uv.h>

#include "ingress/http_server.h"

#define MAX_CONNS 1024
#define MAX_SAMPLES (1u << 22)
#define BODY                                                                   \
  "{\"to\":\"+447700900123\",\"from\":\"smsgate\",\"text\":\"hello\"}"

/* ---- server side ------------------------------------------------------ */

typedef struct server {
  uv_loop_t *loop;
  sg_http_server_t *srv;
  uv_timer_t commit;
  uint64_t commit_ms;
  sg_http_req_t **batch;
  size_t n_batch, cap_batch;
  uint64_t commits;
  uv_async_t stop;
} server_t;

static void commit_cb(uv_timer_t *t) {
  server_t *s = t->data;
  static const char answer[] =
      "{\"batch_id\":\"b1\",\"messages\":[{\"id\":\"01J\",\"status\":"
      "\"queued\"}]}";
  for (size_t i = 0; i < s->n_batch; i++)
    sg_http_respond(s->batch[i], 202, "application/json", answer,
                    sizeof answer - 1, NULL);
  s->n_batch = 0;
  s->commits++;
}

static void post_handler(sg_http_req_t *req, void *data) {
  server_t *s = data;
  if (s->n_batch == s->cap_batch) {
    size_t cap = s->cap_batch ? s->cap_batch * 2 : 1024;
    sg_http_req_t **b = realloc(s->batch, cap * sizeof *b);
    if (b == NULL) {
      sg_http_respond_error(req, 503, "unavailable", "out of memory", NULL);
      return;
    }
    s->batch = b;
    s->cap_batch = cap;
  }
  s->batch[s->n_batch++] = req;
  if (!uv_is_active((uv_handle_t *)&s->commit))
    uv_timer_start(&s->commit, commit_cb, s->commit_ms, 0);
}

static void stop_cb(uv_async_t *a) {
  uv_stop(a->loop);
}

/* ---- load client ------------------------------------------------------ */

typedef struct cconn {
  int fd;
  double sent_at;
  size_t have;
  char buf[2048];
} cconn_t;

typedef struct load {
  uint16_t port;
  int conns;
  double secs;
  uint64_t done;
  uint64_t errors;
  double elapsed;
  float *lat_us; /* samples in the measured window */
  size_t n_lat;
  server_t *server;
} load_t;

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static char request[512];
static size_t request_len;

static void make_request(void) {
  int n = snprintf(request, sizeof request,
                   "POST /v1/messages HTTP/1.1\r\nHost: bench\r\n"
                   "Content-Type: application/json\r\n"
                   "Content-Length: %zu\r\n\r\n%s",
                   sizeof BODY - 1, BODY);
  request_len = (size_t)n;
}

static int send_request(cconn_t *c) {
  c->sent_at = now_s();
  return send(c->fd, request, request_len, MSG_NOSIGNAL) == (ssize_t)request_len
             ? 0
             : -1;
}

static int open_conn(cconn_t *c, uint16_t port, int ep) {
  struct sockaddr_in sa = {0};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(port);
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  c->fd = socket(AF_INET, SOCK_STREAM, 0);
  int one = 1;
  setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  if (c->fd < 0 || connect(c->fd, (struct sockaddr *)&sa, sizeof sa) < 0)
    return -1;
  struct epoll_event ev = {.events = EPOLLIN, .data.ptr = c};
  c->have = 0;
  return epoll_ctl(ep, EPOLL_CTL_ADD, c->fd, &ev);
}

/* Consumes complete responses from c->buf; returns how many, -1 on error. */
static int take_responses(cconn_t *c) {
  int n = 0;
  for (;;) {
    char *end = NULL;
    for (size_t i = 0; i + 4 <= c->have; i++)
      if (memcmp(c->buf + i, "\r\n\r\n", 4) == 0) {
        end = c->buf + i + 4;
        break;
      }
    if (end == NULL)
      return n;
    if (strncmp(c->buf, "HTTP/1.1 202", 12) != 0)
      return -1;
    char *cl = strstr(c->buf, "Content-Length: ");
    size_t blen = cl && cl < end ? strtoul(cl + 16, NULL, 10) : 0;
    size_t total = (size_t)(end - c->buf) + blen;
    if (c->have < total)
      return n;
    memmove(c->buf, c->buf + total, c->have - total);
    c->have -= total;
    n++;
  }
}

static void record(load_t *l, cconn_t *c, double t, bool measuring) {
  if (!measuring)
    return;
  l->done++;
  if (l->n_lat < MAX_SAMPLES)
    l->lat_us[l->n_lat++] = (float)((t - c->sent_at) * 1e6);
}

static void on_readable(load_t *l, cconn_t *c, bool measuring) {
  ssize_t r = recv(c->fd, c->buf + c->have, sizeof c->buf - c->have, 0);
  if (r <= 0) {
    l->errors++;
    return;
  }
  c->have += (size_t)r;
  int n = take_responses(c);
  if (n < 0) {
    l->errors++;
    c->have = 0;
    return;
  }
  double t = now_s();
  for (int i = 0; i < n; i++)
    record(l, c, t, measuring);
  if (n > 0 && send_request(c) < 0)
    l->errors++;
}

static void load_main(void *arg) {
  load_t *l = arg;
  cconn_t *c = calloc((size_t)l->conns, sizeof *c);
  int ep = epoll_create1(0);
  for (int i = 0; i < l->conns; i++)
    if (open_conn(&c[i], l->port, ep) < 0 || send_request(&c[i]) < 0)
      l->errors++;
  double warm_end = now_s() + 0.3, end = warm_end + l->secs;
  struct epoll_event evs[256];
  for (;;) {
    double t = now_s();
    if (t >= end || l->errors > 0)
      break;
    int n = epoll_wait(ep, evs, 256, 100);
    bool measuring = t >= warm_end;
    for (int i = 0; i < n; i++)
      on_readable(l, evs[i].data.ptr, measuring);
  }
  l->elapsed = l->secs;
  for (int i = 0; i < l->conns; i++)
    close(c[i].fd);
  close(ep);
  free(c);
  uv_async_send(&l->server->stop);
}

/* ---- table ------------------------------------------------------------ */

static int cmp_float(const void *a, const void *b) {
  float x = *(const float *)a, y = *(const float *)b;
  return (x > y) - (x < y);
}

static double pct(const float *v, size_t n, double p) {
  if (n == 0)
    return 0;
  size_t i = (size_t)(p * (double)(n - 1));
  return v[i];
}

static void run_row(server_t *s, int conns, double secs) {
  load_t l = {0};
  l.port = sg_http_server_port(s->srv);
  l.conns = conns;
  l.secs = secs;
  l.server = s;
  l.lat_us = malloc(MAX_SAMPLES * sizeof(float));
  uint64_t commits0 = s->commits;
  struct timespec cpu0, cpu1;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &cpu0);
  uv_thread_t th;
  uv_thread_create(&th, load_main, &l);
  uv_run(s->loop, UV_RUN_DEFAULT);
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &cpu1);
  uv_thread_join(&th);
  /* Let the server see the closed connections before the next row. */
  for (int i = 0; i < 50; i++)
    uv_run(s->loop, UV_RUN_NOWAIT);
  qsort(l.lat_us, l.n_lat, sizeof(float), cmp_float);
  uint64_t commits = s->commits - commits0;
  double cpu = (double)(cpu1.tv_sec - cpu0.tv_sec) +
               (double)(cpu1.tv_nsec - cpu0.tv_nsec) / 1e9;
  /* Server CPU per request, over warm-up and measurement alike. */
  double per_req = cpu / ((double)l.done * (l.secs + 0.3) / l.secs) * 1e6;
  printf("| %5d | %9.0f | %6.1f | %8.2f | %8.2f | %8.2f | %9.1f | %6llu |\n",
         conns, (double)l.done / l.elapsed, per_req,
         pct(l.lat_us, l.n_lat, 0.50) / 1e3, pct(l.lat_us, l.n_lat, 0.99) / 1e3,
         pct(l.lat_us, l.n_lat, 0.999) / 1e3,
         commits ? (double)l.done / (double)commits : 0.0,
         (unsigned long long)l.errors);
  fflush(stdout);
  free(l.lat_us);
}

int main(int argc, char **argv) {
  double secs = 2.0;
  unsigned commit_ms = 1;
  const char *conns = "16,64,256";
  for (int i = 1; i + 1 < argc; i += 2) {
    if (strcmp(argv[i], "--secs") == 0)
      secs = atof(argv[i + 1]);
    else if (strcmp(argv[i], "--commit-ms") == 0)
      commit_ms = (unsigned)atoi(argv[i + 1]);
    else if (strcmp(argv[i], "--conns") == 0)
      conns = argv[i + 1];
    else {
      fprintf(stderr, "usage: %s [--secs S] [--commit-ms M] [--conns N,..]\n",
              argv[0]);
      return 2;
    }
  }
  uv_loop_t loop;
  uv_loop_init(&loop);
  server_t s = {0};
  s.loop = &loop;
  s.commit_ms = commit_ms;
  sg_http_server_cfg_t cfg = {.host = "127.0.0.1", .max_connections = 2048};
  if (sg_http_server_new(&loop, &cfg, &s.srv) < 0 ||
      sg_http_server_route(s.srv, "POST", "/v1/messages", post_handler, &s) <
          0) {
    fprintf(stderr, "cannot start the server\n");
    return 1;
  }
  uv_timer_init(&loop, &s.commit);
  s.commit.data = &s;
  uv_async_init(&loop, &s.stop, stop_cb);
  make_request();
  printf("POST /v1/messages, 202 after a %llu ms simulated group commit, "
         "%.1f s per row, one loop\n\n",
         (unsigned long long)s.commit_ms, secs);
  printf("| conns |   req/s   | us/req | p50 (ms) | p99 (ms) | p99.9 ms "
         "| req/commit | errors |\n");
  printf("|------:|----------:|-------:|---------:|---------:|---------:"
         "|----------:|-------:|\n");
  for (const char *p = conns; *p;) {
    int n = atoi(p);
    if (n > 0 && n <= MAX_CONNS)
      run_row(&s, n, secs);
    p += strcspn(p, ",");
    p += *p == ',';
  }
  sg_http_server_free(s.srv);
  /* Requests of the last row still waiting for the commit: a handler must
   * answer what it holds even after the free (SG_ECLOSED), or it leaks. */
  uv_timer_stop(&s.commit);
  commit_cb(&s.commit);
  uv_close((uv_handle_t *)&s.commit, NULL);
  uv_close((uv_handle_t *)&s.stop, NULL);
  uv_run(&loop, UV_RUN_DEFAULT);
  uv_loop_close(&loop);
  free(s.batch);
  return 0;
}
