/* webhook_h1.c - signed webhook POSTs to http:// URLs over kept-alive
 * HTTP/1.1 connections on the libuv loop, without libcurl.
 *
 * A post becomes one buffer holding the whole request (head, signature and
 * body), built once when it is posted. Running it takes an idle connection
 * to the same host and port, or opens one: uv_getaddrinfo (or the address
 * itself when the host is an IP literal), the private-address check on each
 * address, uv_tcp_connect to the first that is allowed and answers. The
 * request goes out with uv_try_write; the answer is parsed as it arrives
 * (core/http1.h) and its connection goes back to the idle list when the
 * answer allows. Reading stays started on idle connections, so a reused
 * connection costs one send and one recv and no epoll_ctl; an idle
 * connection that becomes readable has been closed (or spoken on) by the
 * peer and is closed.
 *
 * One timer per connection holds the attempt's deadline: the connect
 * timeout until connected, then what is left of the whole timeout.
 *
 * This module must never block the loop, follow a redirect, send a second
 * request on a connection before the first answer has ended, connect to an
 * address the private-address rule refuses, or decide a verdict in a way
 * that differs from the libcurl transport (both use the functions in
 * webhook_h1.h).
 */
#include "engine/webhook_h1.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "core/alloc.h"
#include "core/error.h"
#include "core/http1.h"
#include "core/netaddr.h"

/* A connection idle for longer is not reused (libcurl's default maximum
 * age of a kept connection). */
#define IDLE_MAX_MS 118000u

typedef struct hjob hjob_t;
typedef struct conn conn_t;

struct hjob {
  hjob_t *next; /* in the queue or the pool */
  sg__webhook_h1_t *c;
  sg_webhook_done_cb cb;
  void *data;
  char *req; /* the whole request */
  size_t req_len, req_cap;
  char host[256];
  uint16_t port;
  unsigned attempt;
  uint64_t age_ms;
  uint64_t t0_ns;               /* uv_hrtime at the start */
  uint64_t deadline;            /* uv_now when it times out */
  bool again;                   /* already sent again on a new connection */
  sg_webhook_outcome_t outcome; /* of a verdict waiting in c->later */
  sg_webhook_reason_t reason;
  unsigned refused, allowed;
  char detail[160];
  uint8_t answer[SG_WEBHOOK_ANSWER_MAX];
};

enum { C_RESOLVING, C_CONNECTING, C_BUSY, C_IDLE };

struct conn {
  uv_tcp_t tcp;
  uv_timer_t timer;
  uv_connect_t creq;
  uv_write_t wreq;
  uv_getaddrinfo_t gai;
  sg__webhook_h1_t *c;
  conn_t *prev, *next;           /* c->conns */
  conn_t *iprev, *inext;         /* c->idle, while idle */
  hjob_t *job;                   /* the request it carries, or NULL */
  struct addrinfo *ai, *ai_next; /* addresses left to try */
  struct addrinfo lit_ai;        /* the host is an IP literal */
  struct sockaddr_storage lit_sa;
  int state, last_err;
  bool tcp_open, gai_pending, closing, reused;
  size_t got;          /* octets of the current answer */
  uint64_t idle_since; /* uv_now when it last became idle */
  char host[256];
  uint16_t port;
  sg_http1_resp_t resp;
};

struct sg__webhook_h1 {
  uv_loop_t *loop;
  conn_t *conns, *idle;
  size_t nconns, nidle, running;
  struct {
    hjob_t *head, *tail;
    size_t n;
  } queue;
  hjob_t *pool;
  size_t npool;
  /* Verdicts reached inside sg__webhook_h1_post wait for this timer: a
   * callback never fires from inside the post. */
  uv_timer_t later_timer;
  hjob_t *later;
  bool in_post, timer_open;
  unsigned timeout_ms, connect_timeout_ms, max_inflight, max_queue;
  bool allow_private, closing;
  char *user_agent;
  size_t ua_len;
  sg_webhook_stats_t stats;
  char rbuf[65536]; /* reads are handled as soon as they are made */
};

static void start_job(sg__webhook_h1_t *c, hjob_t *job);
static void start_queued(sg__webhook_h1_t *c);
static void conn_close(conn_t *k);
static void try_next(conn_t *k);

/* ---- jobs ---------------------------------------------------------------- */

static void job_release(hjob_t *job) {
  sg__webhook_h1_t *c = job->c;
  if (c->closing || c->npool >= c->max_inflight) {
    sg_free(job->req);
    sg_free(job);
    return;
  }
  job->next = c->pool;
  c->pool = job;
  c->npool++;
}

/* Hands the verdict to the caller; the job is in no list and on no
 * connection any more. */
static void job_finish(hjob_t *job, sg_webhook_result_t *res) {
  sg__webhook_h1_t *c = job->c;
  res->attempt = job->attempt;
  res->elapsed_ms = (double)(uv_hrtime() - job->t0_ns) / 1e6;
  if (res->detail == NULL)
    res->detail = job->detail;
  c->running--;
  c->stats.inflight = c->running;
  sg__webhook_count(&c->stats, res);
  job->cb(job->data, res);
  job_release(job);
  start_queued(c);
}

static void later_cb(uv_timer_t *t) {
  sg__webhook_h1_t *c = t->data;
  hjob_t *job = c->later;
  c->later = NULL;
  for (hjob_t *next; job != NULL; job = next) {
    next = job->next;
    sg_webhook_result_t res = {.outcome = job->outcome, .reason = job->reason};
    if (job->reason != SG_WEBHOOK_R_SHUTDOWN)
      sg__webhook_schedule_retry(job->attempt, job->age_ms, 0, &res);
    job_finish(job, &res);
  }
}

/* A verdict without an answer. */
static void job_fail(hjob_t *job, sg_webhook_outcome_t outcome,
                     sg_webhook_reason_t reason) {
  sg__webhook_h1_t *c = job->c;
  if (c->in_post) {
    job->outcome = outcome;
    job->reason = reason;
    job->next = c->later;
    c->later = job;
    uv_timer_start(&c->later_timer, later_cb, 0, 0);
    return;
  }
  sg_webhook_result_t res = {.outcome = outcome, .reason = reason};
  if (reason != SG_WEBHOOK_R_SHUTDOWN) /* that one comes back at once */
    sg__webhook_schedule_retry(job->attempt, job->age_ms, 0, &res);
  job_finish(job, &res);
}

/* Retry-After (RFC 9110 section 10.2.3): delay-seconds or an HTTP-date. */
static uint64_t retry_after_ms(const char *v) {
  if (v[0] == '\0')
    return 0;
  if (v[0] >= '0' && v[0] <= '9') {
    uint64_t s = 0;
    for (; *v >= '0' && *v <= '9' && s < 100000000; v++)
      s = s * 10 + (uint64_t)(*v - '0');
    return *v == '\0' ? s * 1000 : 0;
  }
  time_t t = curl_getdate(v, NULL), now = time(NULL);
  return t > now ? (uint64_t)(t - now) * 1000 : 0;
}

static void job_answered(hjob_t *job, const sg_http1_resp_t *r) {
  sg_webhook_result_t res = {0};
  sg__webhook_judge_status(r->status, &res);
  sg__webhook_schedule_retry(job->attempt, job->age_ms,
                             retry_after_ms(r->retry_after), &res);
  res.body = (const char *)job->answer;
  res.body_len = r->body_len;
  res.content_type = r->content_type[0] ? r->content_type : NULL;
  job_finish(job, &res);
}

/* ---- connections --------------------------------------------------------- */

static void client_maybe_free(sg__webhook_h1_t *c) {
  if (!c->closing || c->nconns > 0 || c->timer_open)
    return;
  sg_free(c->user_agent);
  sg_free(c);
}

static void conn_maybe_free(conn_t *k) {
  sg__webhook_h1_t *c = k->c;
  if (!k->closing || k->tcp_open || k->gai_pending || k->timer.data != NULL)
    return;
  if (k->ai != NULL && k->ai != &k->lit_ai)
    uv_freeaddrinfo(k->ai);
  if (k->prev != NULL)
    k->prev->next = k->next;
  else
    c->conns = k->next;
  if (k->next != NULL)
    k->next->prev = k->prev;
  sg_free(k);
  c->nconns--;
  client_maybe_free(c);
}

static void timer_closed_cb(uv_handle_t *h) {
  conn_t *k = h->data;
  k->timer.data = NULL;
  conn_maybe_free(k);
}

static void tcp_closed_cb(uv_handle_t *h) {
  conn_t *k = h->data;
  k->tcp_open = false;
  if (k->closing)
    conn_maybe_free(k);
  else
    try_next(k); /* a failed connect: the next address */
}

static void idle_remove(conn_t *k) {
  sg__webhook_h1_t *c = k->c;
  if (k->iprev != NULL)
    k->iprev->inext = k->inext;
  else
    c->idle = k->inext;
  if (k->inext != NULL)
    k->inext->iprev = k->iprev;
  k->iprev = k->inext = NULL;
  c->nidle--;
}

static void idle_push(conn_t *k) {
  sg__webhook_h1_t *c = k->c;
  k->state = C_IDLE;
  k->idle_since = uv_now(c->loop);
  k->iprev = NULL;
  k->inext = c->idle;
  if (c->idle != NULL)
    c->idle->iprev = k;
  c->idle = k;
  c->nidle++;
}

/* Closes the connection; its job, if any, must have been taken off. */
static void conn_close(conn_t *k) {
  if (k->closing)
    return;
  k->closing = true;
  if (k->state == C_IDLE)
    idle_remove(k);
  if (k->gai_pending)
    uv_cancel((uv_req_t *)&k->gai);
  if (k->tcp_open)
    uv_close((uv_handle_t *)&k->tcp, tcp_closed_cb);
  uv_close((uv_handle_t *)&k->timer, timer_closed_cb);
}

static hjob_t *conn_take_job(conn_t *k) {
  hjob_t *job = k->job;
  k->job = NULL;
  uv_timer_stop(&k->timer);
  return job;
}

static void timer_cb(uv_timer_t *t) {
  conn_t *k = t->data;
  hjob_t *job = conn_take_job(k);
  conn_close(k);
  if (job == NULL)
    return;
  snprintf(job->detail, sizeof job->detail,
           k->state == C_BUSY ? "no complete answer within the timeout"
                              : "could not connect within the timeout");
  job_fail(job, SG_WEBHOOK_RETRY, SG_WEBHOOK_R_TIMEOUT);
}

/* Arms the timer for the connect phase (connecting) or the rest. */
static void arm(conn_t *k, bool connecting) {
  hjob_t *job = k->job;
  uint64_t now = uv_now(k->c->loop);
  uint64_t left = job->deadline > now ? job->deadline - now : 0;
  if (connecting && k->c->connect_timeout_ms < left)
    left = k->c->connect_timeout_ms;
  uv_timer_start(&k->timer, timer_cb, left, 0);
}

static int is_stale(int err) {
  return err == UV_EOF || err == UV_ECONNRESET || err == UV_EPIPE;
}

/* The connection broke while carrying a request. */
static void conn_broke(conn_t *k, int err, const char *what) {
  hjob_t *job = conn_take_job(k);
  bool reused = k->reused, got = k->got > 0;
  conn_close(k);
  if (job == NULL)
    return;
  if (reused && !got && is_stale(err) && !job->again) {
    job->again = true; /* the peer had closed the kept connection */
    start_job(job->c, job);
    return;
  }
  snprintf(job->detail, sizeof job->detail, "%s: %s", what,
           err == UV_EOF ? "connection closed" : uv_strerror(err));
  job_fail(job, SG_WEBHOOK_RETRY, SG_WEBHOOK_R_TRANSPORT);
}

static void answered(conn_t *k) {
  hjob_t *job = conn_take_job(k);
  sg__webhook_h1_t *c = k->c;
  k->reused = true;
  if (k->resp.keep_alive && !c->closing && c->nidle < c->max_inflight)
    idle_push(k);
  else
    conn_close(k);
  job_answered(job, &k->resp);
}

static void alloc_cb(uv_handle_t *h, size_t hint, uv_buf_t *buf) {
  conn_t *k = h->data;
  (void)hint;
  *buf = uv_buf_init(k->c->rbuf, sizeof k->c->rbuf);
}

static void read_cb(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf) {
  conn_t *k = s->data;
  if (nread == 0 || k->closing)
    return;
  if (k->job == NULL) { /* idle: the peer closed it or spoke out of turn */
    conn_close(k);
    return;
  }
  if (nread < 0) {
    if (nread == UV_EOF && sg_http1_resp_eof(&k->resp) == 1)
      answered(k);
    else
      conn_broke(k, (int)nread, "reading the answer");
    return;
  }
  k->got += (size_t)nread;
  int rc =
      sg_http1_resp_feed(&k->resp, (const uint8_t *)buf->base, (size_t)nread);
  if (rc > 0) {
    if ((size_t)rc < (size_t)nread)
      k->resp.keep_alive = false; /* octets no request asked for */
    answered(k);
  } else if (rc < 0) {
    hjob_t *job = conn_take_job(k);
    conn_close(k);
    snprintf(job->detail, sizeof job->detail, "bad answer: %s",
             sg_strerror(rc));
    job_fail(job, SG_WEBHOOK_RETRY, SG_WEBHOOK_R_TRANSPORT);
  }
}

static void write_cb(uv_write_t *w, int status) {
  conn_t *k = w->data;
  if (status < 0 && !k->closing && k->job != NULL)
    conn_broke(k, status, "sending the request");
}

/* Sends the job's request on a connected connection. */
static void conn_send(conn_t *k) {
  hjob_t *job = k->job;
  k->state = C_BUSY;
  k->got = 0;
  sg_http1_resp_init(&k->resp, job->answer, sizeof job->answer);
  uv_buf_t b = uv_buf_init(job->req, (unsigned)job->req_len);
  int n = uv_try_write((uv_stream_t *)&k->tcp, &b, 1);
  if (n == (int)job->req_len)
    return;
  if (n < 0 && n != UV_EAGAIN) {
    conn_broke(k, n, "sending the request");
    return;
  }
  if (n > 0) {
    b.base += n;
    b.len -= (size_t)n;
  }
  k->wreq.data = k;
  int rc = uv_write(&k->wreq, (uv_stream_t *)&k->tcp, &b, 1, write_cb);
  if (rc < 0)
    conn_broke(k, rc, "sending the request");
}

static void connect_cb(uv_connect_t *req, int status) {
  conn_t *k = req->data;
  if (k->closing)
    return;
  if (status < 0) {
    k->last_err = status;
    uv_close((uv_handle_t *)&k->tcp, tcp_closed_cb); /* then try_next */
    return;
  }
  int rc = uv_read_start((uv_stream_t *)&k->tcp, alloc_cb, read_cb);
  if (rc < 0) {
    conn_broke(k, rc, "connecting");
    return;
  }
  uv_tcp_nodelay(&k->tcp, 1);
  arm(k, false);
  conn_send(k);
}

static void describe_refusal(hjob_t *job, const struct sockaddr *sa) {
  char ip[INET6_ADDRSTRLEN] = "?";
  if (sa->sa_family == AF_INET)
    uv_ip4_name((const struct sockaddr_in *)(const void *)sa, ip, sizeof ip);
  else if (sa->sa_family == AF_INET6)
    uv_ip6_name((const struct sockaddr_in6 *)(const void *)sa, ip, sizeof ip);
  snprintf(job->detail, sizeof job->detail,
           "refused to connect to %s: %s address", ip,
           sg_net_addr_class_name(sg_net_addr_classify(sa)));
}

/* Gives up connecting: every address failed or was refused. */
static void connect_failed(conn_t *k) {
  hjob_t *job = conn_take_job(k);
  conn_close(k);
  if (job->refused > 0 && job->allowed == 0) {
    job_fail(job, SG_WEBHOOK_PERMANENT, SG_WEBHOOK_R_REFUSED);
    return;
  }
  snprintf(job->detail, sizeof job->detail,
           "could not connect to %.100s:%u: %s", job->host, job->port,
           k->last_err ? uv_strerror(k->last_err) : "no address");
  job_fail(job, SG_WEBHOOK_RETRY, SG_WEBHOOK_R_CONNECT);
}

/* Connects to the next address that the private-address rule allows. */
static void try_next(conn_t *k) {
  hjob_t *job = k->job;
  sg__webhook_h1_t *c = k->c;
  for (struct addrinfo *a; (a = k->ai_next) != NULL;) {
    k->ai_next = a->ai_next;
    if (a->ai_family != AF_INET && a->ai_family != AF_INET6)
      continue;
    if (!c->allow_private && sg_net_addr_is_private(a->ai_addr)) {
      if (job->refused++ == 0)
        describe_refusal(job, a->ai_addr);
      continue;
    }
    job->allowed++;
    int rc = uv_tcp_init(c->loop, &k->tcp);
    if (rc == 0) {
      k->tcp.data = k;
      k->tcp_open = true;
      k->creq.data = k;
      rc = uv_tcp_connect(&k->creq, &k->tcp, a->ai_addr, connect_cb);
      if (rc == 0)
        return;
      k->last_err = rc;
      uv_close((uv_handle_t *)&k->tcp, tcp_closed_cb);
      return;
    }
    k->last_err = rc;
  }
  connect_failed(k);
}

static void resolved_cb(uv_getaddrinfo_t *g, int status, struct addrinfo *res) {
  conn_t *k = g->data;
  k->gai_pending = false;
  k->ai = k->ai_next = res;
  if (k->closing) {
    conn_maybe_free(k);
    return;
  }
  if (status < 0) {
    hjob_t *job = conn_take_job(k);
    conn_close(k);
    snprintf(job->detail, sizeof job->detail, "could not resolve %.100s: %s",
             job->host, uv_strerror(status));
    job_fail(job, SG_WEBHOOK_RETRY, SG_WEBHOOK_R_CONNECT);
    return;
  }
  k->state = C_CONNECTING;
  try_next(k);
}

/* The host as an address, when it is one. */
static bool literal(conn_t *k) {
  struct sockaddr_in *s4 = (struct sockaddr_in *)(void *)&k->lit_sa;
  struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)(void *)&k->lit_sa;
  memset(&k->lit_ai, 0, sizeof k->lit_ai);
  if (uv_ip4_addr(k->host, k->port, s4) == 0) {
    k->lit_ai.ai_family = AF_INET;
    k->lit_ai.ai_addrlen = sizeof *s4;
  } else if (uv_ip6_addr(k->host, k->port, s6) == 0) {
    k->lit_ai.ai_family = AF_INET6;
    k->lit_ai.ai_addrlen = sizeof *s6;
  } else {
    return false;
  }
  k->lit_ai.ai_socktype = SOCK_STREAM;
  k->lit_ai.ai_addr = (struct sockaddr *)&k->lit_sa;
  k->ai = k->ai_next = &k->lit_ai;
  return true;
}

/* A new connection for job; the job fails on its own if it cannot start. */
static void conn_open(sg__webhook_h1_t *c, hjob_t *job) {
  conn_t *k = sg_calloc(1, sizeof *k);
  if (k == NULL) {
    snprintf(job->detail, sizeof job->detail, "out of memory");
    job_fail(job, SG_WEBHOOK_RETRY, SG_WEBHOOK_R_TRANSPORT);
    return;
  }
  k->c = c;
  memcpy(k->host, job->host, sizeof k->host);
  k->port = job->port;
  k->job = job;
  k->next = c->conns;
  if (c->conns != NULL)
    c->conns->prev = k;
  c->conns = k;
  c->nconns++;
  uv_timer_init(c->loop, &k->timer);
  k->timer.data = k;
  arm(k, true);
  if (literal(k)) {
    k->state = C_CONNECTING;
    try_next(k);
    return;
  }
  char port[8];
  snprintf(port, sizeof port, "%u", k->port);
  struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM};
  k->state = C_RESOLVING;
  k->gai.data = k;
  int rc = uv_getaddrinfo(c->loop, &k->gai, resolved_cb, k->host, port, &hints);
  if (rc == 0) {
    k->gai_pending = true;
    return;
  }
  conn_take_job(k);
  conn_close(k);
  snprintf(job->detail, sizeof job->detail, "could not resolve %.100s: %s",
           job->host, uv_strerror(rc));
  job_fail(job, SG_WEBHOOK_RETRY, SG_WEBHOOK_R_CONNECT);
}

/* Runs job: on an idle connection to its origin, or a new one. */
static void start_job(sg__webhook_h1_t *c, hjob_t *job) {
  if (!job->again) {
    job->t0_ns = uv_hrtime();
    uv_update_time(c->loop); /* the loop's time may be old: a post can come
                                long after the loop last woke */
    job->deadline = uv_now(c->loop) + c->timeout_ms;
  }
  uint64_t now = uv_now(c->loop);
  for (conn_t *k = c->idle, *next; k != NULL; k = next) {
    next = k->inext;
    if (now - k->idle_since > IDLE_MAX_MS) {
      conn_close(k); /* a peer gone without a word would time us out */
      continue;
    }
    if (k->port == job->port && strcmp(k->host, job->host) == 0) {
      idle_remove(k);
      k->job = job;
      arm(k, false);
      conn_send(k);
      return;
    }
  }
  conn_open(c, job);
}

static void start_queued(sg__webhook_h1_t *c) {
  while (!c->closing && c->queue.head != NULL && c->running < c->max_inflight) {
    hjob_t *job = c->queue.head;
    c->queue.head = job->next;
    if (c->queue.head == NULL)
      c->queue.tail = NULL;
    c->queue.n--;
    c->stats.queued = c->queue.n;
    c->running++;
    c->stats.inflight = c->running;
    start_job(c, job);
  }
}

/* ---- building a request -------------------------------------------------- */

typedef struct out {
  char *p;
  size_t n;
} out_t;

static void put(out_t *o, const void *s, size_t n) {
  memcpy(o->p + o->n, s, n);
  o->n += n;
}

static void puts_(out_t *o, const char *s) {
  put(o, s, strlen(s));
}

/* Octets of the request line, Host, User-Agent and Accept. */
static size_t head_size(const sg__webhook_h1_t *c, const sg_http1_url_t *u) {
  return sizeof "POST /" + u->target_len +
         sizeof " HTTP/1.1\r\nHost: " + u->authority_len +
         sizeof "\r\nUser-Agent: " + c->ua_len + sizeof "\r\nAccept: */*\r\n";
}

/* Octets of Content-Type, the signature and Content-Length. */
#define BODY_FIELDS                                                            \
  (sizeof "Content-Type: application/json\r\n" +                               \
   sizeof SG_WEBHOOK_SIGNATURE_HEADER ": \r\n" + SG_WEBHOOK_SIGNATURE_LEN +    \
   sizeof "Content-Length: 18446744073709551615\r\n")

static int build(sg__webhook_h1_t *c, hjob_t *job, const sg_webhook_req_t *req,
                 const sg_http1_url_t *u) {
  char sig[SG_WEBHOOK_SIGNATURE_LEN + 1];
  size_t size = head_size(c, u) + sizeof "\r\n" + (req->get ? 0 : BODY_FIELDS);
  for (size_t i = 0; req->headers != NULL && req->headers[i] != NULL; i++)
    size += strlen(req->headers[i]) + 2;
  size += req->get ? 0 : req->len;
  if (!req->get && sg_webhook_sign(req->secret, req->secret_len, req->body,
                                   req->len, sig) < 0)
    return SG_EINVAL;
  if (size > job->req_cap) {
    char *b = sg_realloc(job->req, size);
    if (b == NULL)
      return SG_ENOMEM;
    job->req = b;
    job->req_cap = size;
  }
  out_t o = {job->req, 0};
  puts_(&o, req->get ? "GET " : "POST ");
  if (u->target_len == 0 || u->target[0] != '/')
    put(&o, "/", 1);
  put(&o, u->target, u->target_len);
  puts_(&o, " HTTP/1.1\r\nHost: ");
  put(&o, u->authority, u->authority_len);
  puts_(&o, "\r\nUser-Agent: ");
  put(&o, c->user_agent, c->ua_len);
  puts_(&o, "\r\nAccept: */*\r\n");
  if (!req->get) {
    puts_(&o, "Content-Type: application/json\r\n");
    puts_(&o, SG_WEBHOOK_SIGNATURE_HEADER ": ");
    put(&o, sig, SG_WEBHOOK_SIGNATURE_LEN);
    puts_(&o, "\r\n");
  }
  for (size_t i = 0; req->headers != NULL && req->headers[i] != NULL; i++) {
    puts_(&o, req->headers[i]);
    puts_(&o, "\r\n");
  }
  if (!req->get)
    o.n += (size_t)snprintf(o.p + o.n, size - o.n, "Content-Length: %zu\r\n",
                            req->len);
  puts_(&o, "\r\n");
  if (!req->get && req->len > 0)
    put(&o, req->body, req->len);
  job->req_len = o.n;
  return 0;
}

static int check_headers(const char *const *h) {
  for (size_t i = 0; h != NULL && h[i] != NULL; i++)
    if (strpbrk(h[i], "\r\n") != NULL || strchr(h[i], ':') == NULL)
      return SG_EINVAL;
  return 0;
}

static hjob_t *job_new(sg__webhook_h1_t *c) {
  hjob_t *job = c->pool;
  if (job != NULL) {
    c->pool = job->next;
    c->npool--;
    return job;
  }
  job = sg_calloc(1, sizeof *job);
  if (job != NULL)
    job->c = c;
  return job;
}

int sg__webhook_h1_post(sg__webhook_h1_t *c, const sg_webhook_req_t *req,
                        sg_webhook_done_cb cb, void *data) {
  sg_http1_url_t u;
  int rc = sg_http1_url_parse(req->url, &u);
  if (rc < 0)
    return rc == SG_EINVAL ? SG_ENOTSUP : rc; /* libcurl judges it */
  if ((rc = check_headers(req->headers)) < 0)
    return rc;
  if (c->closing)
    return SG_EINVAL;
  if (c->running >= c->max_inflight && c->queue.n >= c->max_queue)
    return SG_EBUSY;
  hjob_t *job = job_new(c);
  if (job == NULL)
    return SG_ENOMEM;
  if ((rc = build(c, job, req, &u)) < 0) {
    job_release(job);
    return rc;
  }
  job->cb = cb;
  job->data = data;
  job->attempt = req->attempt ? req->attempt : 1;
  job->age_ms = req->age_ms;
  job->again = false;
  job->refused = job->allowed = 0;
  job->detail[0] = '\0';
  memcpy(job->host, u.host, sizeof job->host);
  job->port = u.port;
  job->next = NULL;
  if (c->running < c->max_inflight) {
    c->running++;
    c->stats.inflight = c->running;
    c->in_post = true;
    start_job(c, job);
    c->in_post = false;
    return 0;
  }
  if (c->queue.tail != NULL)
    c->queue.tail->next = job;
  else
    c->queue.head = job;
  c->queue.tail = job;
  c->queue.n++;
  c->stats.queued = c->queue.n;
  return 0;
}

/* ---- lifetime ------------------------------------------------------------ */

int sg__webhook_h1_new(uv_loop_t *loop, const sg_webhook_cfg_t *cfg,
                       sg__webhook_h1_t **out) {
  if (loop == NULL || cfg == NULL || out == NULL || cfg->max_inflight == 0)
    return SG_EINVAL;
  sg__webhook_h1_t *c = sg_calloc(1, sizeof *c);
  if (c == NULL)
    return SG_ENOMEM;
  c->loop = loop;
  c->timeout_ms = cfg->timeout_ms;
  c->connect_timeout_ms = cfg->connect_timeout_ms;
  c->max_inflight = cfg->max_inflight;
  c->max_queue = cfg->max_queue;
  c->allow_private = cfg->allow_private;
  c->user_agent =
      sg_strdup(cfg->user_agent ? cfg->user_agent : "smsgate/" SG_VERSION);
  if (c->user_agent == NULL || strpbrk(c->user_agent, "\r\n") != NULL) {
    int rc = c->user_agent == NULL ? SG_ENOMEM : SG_EINVAL;
    sg_free(c->user_agent);
    sg_free(c);
    return rc;
  }
  c->ua_len = strlen(c->user_agent);
  uv_timer_init(loop, &c->later_timer);
  c->later_timer.data = c;
  c->timer_open = true;
  *out = c;
  return 0;
}

void sg__webhook_h1_stats(const sg__webhook_h1_t *c, sg_webhook_stats_t *out) {
  *out = c->stats;
}

static void later_closed_cb(uv_handle_t *h) {
  sg__webhook_h1_t *c = h->data;
  c->timer_open = false;
  client_maybe_free(c);
}

void sg__webhook_h1_free(sg__webhook_h1_t *c) {
  if (c == NULL || c->closing)
    return;
  c->closing = true;
  for (conn_t *k = c->conns; k != NULL; k = k->next) {
    hjob_t *job = conn_take_job(k);
    conn_close(k);
    if (job != NULL)
      job_fail(job, SG_WEBHOOK_RETRY, SG_WEBHOOK_R_SHUTDOWN);
  }
  while (c->queue.head != NULL) {
    hjob_t *job = c->queue.head;
    c->queue.head = job->next;
    c->running++; /* job_finish counts it out */
    job_fail(job, SG_WEBHOOK_RETRY, SG_WEBHOOK_R_SHUTDOWN);
  }
  c->queue.tail = NULL;
  c->queue.n = 0;
  while (c->pool != NULL) {
    hjob_t *job = c->pool;
    c->pool = job->next;
    sg_free(job->req);
    sg_free(job);
  }
  uv_timer_stop(&c->later_timer);
  later_cb(&c->later_timer); /* verdicts reached already, at once */
  c->stats.inflight = c->stats.queued = 0;
  uv_close((uv_handle_t *)&c->later_timer, later_closed_cb);
}
