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
 * With a pipeline deeper than 1 (sg_webhook_cfg_t.pipeline), a connection
 * carries a queue of up to that many requests: a post goes to a connection
 * to the same origin whose requests of this loop iteration are not written
 * yet and that has room behind them, else to an idle connection, else to
 * an open (or opening) one with room in its pipeline (the "room" list),
 * else to a new one. Requests queued on a connection during one loop
 * iteration are written together in one write from a uv_idle_t run before the
 * loop next waits, and the answers, which come in the order of the requests
 * (RFC 9112 section 9.3.2), are parsed one after the other out of each read.
 * When a connection ends (closed by the peer, "Connection: close", a bad
 * answer, the timeout of its first request), the requests behind the one being
 * answered have no answer and no verdict: they run again on other connections,
 * keeping their deadlines. A connection that could not be opened fails all of
 * its requests alike, as it would have failed each.
 *
 * One timer per connection holds the deadline of its first request: the
 * connect timeout until connected, then what is left of the whole timeout.
 *
 * This module must never block the loop, follow a redirect, write more
 * requests ahead on a connection than the pipeline allows (one: none before
 * the answer has ended), give a request a verdict without its own answer
 * or failure, connect to an address the private-address rule refuses, or
 * decide a verdict in a way that differs from the libcurl transport (both
 * use the functions in webhook_h1.h).
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
  bool started;                 /* t0_ns and deadline are set */
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
  conn_t *prev, *next;   /* c->conns */
  conn_t *iprev, *inext; /* c->idle, while idle */
  conn_t *rprev, *rnext; /* c->room, while in it */
  hjob_t *job;           /* the first request it carries, or NULL */
  hjob_t *jtail;         /* the last (job's ->next links them) */
  hjob_t *unsent;        /* the first not yet written, or NULL */
  unsigned njobs;
  struct addrinfo *ai, *ai_next; /* addresses left to try */
  struct addrinfo lit_ai;        /* the host is an IP literal */
  struct sockaddr_storage lit_sa;
  int state, last_err;
  bool tcp_open, gai_pending, closing, reused, writing, in_room;
  size_t got;          /* octets of the current answer */
  uint64_t idle_since; /* uv_now when it last became idle */
  char host[256];
  uint16_t port;
  sg_http1_resp_t resp;
};

struct sg__webhook_h1 {
  uv_loop_t *loop;
  conn_t *conns, *idle, *room;
  size_t nconns, nidle, running;
  unsigned depth; /* requests at most on one connection */
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
  /* Writes the requests queued on connections during the iteration. */
  uv_idle_t flush_idle;
  bool in_post, timer_open, flush_open;
  unsigned timeout_ms, connect_timeout_ms, max_inflight, max_queue;
  bool allow_private, closing;
  char *user_agent;
  size_t ua_len;
  /* The last URL parsed (a copy) and its parts, pointing into the copy:
   * the posts to one receiver parse its URL once. */
  char *memo_url;
  size_t memo_len, memo_cap;
  sg_http1_url_t memo;
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
  if (!c->closing || c->nconns > 0 || c->timer_open || c->flush_open)
    return;
  sg_free(c->memo_url);
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

/* Keeps k in c->room exactly while another request may be queued on it. */
static void room_update(conn_t *k) {
  sg__webhook_h1_t *c = k->c;
  bool want = c->depth > 1 && !k->closing && k->state != C_IDLE &&
              k->njobs > 0 && k->njobs < c->depth;
  if (want == k->in_room)
    return;
  k->in_room = want;
  if (want) {
    k->rprev = NULL;
    k->rnext = c->room;
    if (c->room != NULL)
      c->room->rprev = k;
    c->room = k;
    return;
  }
  if (k->rprev != NULL)
    k->rprev->rnext = k->rnext;
  else
    c->room = k->rnext;
  if (k->rnext != NULL)
    k->rnext->rprev = k->rprev;
  k->rprev = k->rnext = NULL;
}

/* Closes the connection; its requests must have been taken off. */
static void conn_close(conn_t *k) {
  if (k->closing)
    return;
  k->closing = true;
  room_update(k);
  if (k->state == C_IDLE)
    idle_remove(k);
  if (k->gai_pending)
    uv_cancel((uv_req_t *)&k->gai);
  if (k->tcp_open)
    uv_close((uv_handle_t *)&k->tcp, tcp_closed_cb);
  uv_close((uv_handle_t *)&k->timer, timer_closed_cb);
}

/* Takes the first request off k. */
static hjob_t *conn_take_job(conn_t *k) {
  hjob_t *job = k->job;
  uv_timer_stop(&k->timer);
  if (job == NULL)
    return NULL;
  k->job = job->next;
  if (k->job == NULL)
    k->jtail = NULL;
  if (k->unsent == job)
    k->unsent = k->job;
  job->next = NULL;
  k->njobs--;
  room_update(k);
  return job;
}

/* Takes every request off k: a list in their order. */
static hjob_t *conn_take_all(conn_t *k) {
  hjob_t *all = k->job;
  k->job = k->jtail = k->unsent = NULL;
  k->njobs = 0;
  uv_timer_stop(&k->timer);
  room_update(k);
  return all;
}

/* Runs again on other connections the requests of a connection that ended
 * before their answers began: they have had no verdict. One whose time is
 * up already, or all but up (under a tenth of the timeout left: posted a
 * moment after the one that timed out before it, it could not be answered
 * on a new connection either), gets its timeout instead. */
static void requeue(sg__webhook_h1_t *c, hjob_t *list) {
  for (hjob_t *next; list != NULL; list = next) {
    next = list->next;
    list->next = NULL;
    if (uv_now(c->loop) + c->timeout_ms / 10 >= list->deadline) {
      snprintf(list->detail, sizeof list->detail,
               "no complete answer within the timeout");
      job_fail(list, SG_WEBHOOK_RETRY, SG_WEBHOOK_R_TIMEOUT);
      continue;
    }
    start_job(c, list);
  }
}

/* The same verdict for every request of a connection that could not be
 * opened (none of them was sent): the first one's, with its detail. */
static void fail_all(conn_t *k, sg_webhook_outcome_t outcome,
                     sg_webhook_reason_t reason) {
  hjob_t *first = k->job, *all = conn_take_all(k);
  conn_close(k);
  for (hjob_t *next; all != NULL; all = next) {
    next = all->next;
    all->next = NULL;
    if (all != first)
      memcpy(all->detail, first->detail, sizeof all->detail);
    job_fail(all, outcome, reason);
  }
}

static void timer_cb(uv_timer_t *t) {
  conn_t *k = t->data;
  if (k->job == NULL) {
    conn_close(k);
    return;
  }
  if (k->state != C_BUSY) {
    snprintf(k->job->detail, sizeof k->job->detail,
             "could not connect within the timeout");
    fail_all(k, SG_WEBHOOK_RETRY, SG_WEBHOOK_R_TIMEOUT);
    return;
  }
  hjob_t *job = conn_take_job(k), *rest = conn_take_all(k);
  conn_close(k);
  requeue(k->c, rest);
  snprintf(job->detail, sizeof job->detail,
           "no complete answer within the timeout");
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

/* The connection broke while carrying requests: the first one's attempt
 * failed (or is sent once more, below); the others run again. */
static void conn_broke(conn_t *k, int err, const char *what) {
  hjob_t *job = conn_take_job(k), *rest = conn_take_all(k);
  bool reused = k->reused, got = k->got > 0;
  conn_close(k);
  if (job != NULL) {
    if (reused && !got && is_stale(err) && !job->again) {
      job->again = true; /* the peer had closed the kept connection */
      start_job(job->c, job);
    } else {
      snprintf(job->detail, sizeof job->detail, "%s: %s", what,
               err == UV_EOF ? "connection closed" : uv_strerror(err));
      job_fail(job, SG_WEBHOOK_RETRY, SG_WEBHOOK_R_TRANSPORT);
    }
  }
  requeue(k->c, rest);
}

/* Readies the parser and the deadline for k's first request. */
static void head_begin(conn_t *k) {
  k->got = 0;
  sg_http1_resp_init(&k->resp, k->job->answer, sizeof k->job->answer);
  arm(k, false);
}

/* The first request's answer has ended (in k->resp). */
static void answered(conn_t *k) {
  hjob_t *job = conn_take_job(k), *rest = NULL;
  sg__webhook_h1_t *c = k->c;
  k->reused = true;
  if (!k->resp.keep_alive || c->closing) {
    rest = conn_take_all(k);
    conn_close(k);
  } else if (k->job == NULL) {
    if (c->nidle < c->max_inflight)
      idle_push(k);
    else
      conn_close(k);
  }
  bool next = k->job != NULL;
  requeue(c, rest); /* "Connection: close" with requests behind */
  job_answered(job, &k->resp);
  if (next && !k->closing)
    head_begin(k);
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
  const uint8_t *p = (const uint8_t *)buf->base;
  size_t left = (size_t)nread;
  while (left > 0 && !k->closing) {
    if (k->job == NULL || k->job == k->unsent) {
      /* octets before any request was written: not an answer of ours */
      hjob_t *all = conn_take_all(k);
      conn_close(k);
      requeue(k->c, all);
      return;
    }
    int rc = sg_http1_resp_feed(&k->resp, p, left);
    if (rc == SG_NEED_MORE) {
      k->got += left;
      return;
    }
    if (rc < 0) {
      hjob_t *job = conn_take_job(k), *rest = conn_take_all(k);
      conn_close(k);
      requeue(k->c, rest);
      snprintf(job->detail, sizeof job->detail, "bad answer: %s",
               sg_strerror(rc));
      job_fail(job, SG_WEBHOOK_RETRY, SG_WEBHOOK_R_TRANSPORT);
      return;
    }
    k->got += (size_t)rc;
    p += rc;
    left -= (size_t)rc;
    if (left > 0 && k->job->next == NULL)
      k->resp.keep_alive = false; /* octets no request asked for */
    answered(k);
  }
}

static void conn_flush(conn_t *k);

static void write_cb(uv_write_t *w, int status) {
  conn_t *k = w->data;
  k->writing = false;
  if (k->closing)
    return;
  if (status < 0 && k->job != NULL)
    conn_broke(k, status, "sending the request");
  else
    conn_flush(k); /* what was queued meanwhile */
}

/* Writes the requests queued on a connected connection and not yet
 * written, all in one write: uv_try_write, then uv_write for the rest. */
static void conn_flush(conn_t *k) {
  if (k->closing || k->state != C_BUSY || k->writing || k->unsent == NULL)
    return;
  uv_buf_t b[SG_WEBHOOK_PIPELINE_MAX];
  unsigned n = 0;
  for (hjob_t *j = k->unsent; j != NULL && n < SG_WEBHOOK_PIPELINE_MAX;
       j = j->next)
    b[n++] = uv_buf_init(j->req, (unsigned)j->req_len);
  k->unsent = NULL; /* njobs <= depth <= SG_WEBHOOK_PIPELINE_MAX */
  int w = uv_try_write((uv_stream_t *)&k->tcp, b, n);
  if (w < 0 && w != UV_EAGAIN) {
    conn_broke(k, w, "sending the request");
    return;
  }
  size_t skip = w > 0 ? (size_t)w : 0;
  unsigned i = 0;
  while (i < n && skip >= b[i].len)
    skip -= b[i++].len;
  if (i == n)
    return;
  b[i].base += skip;
  b[i].len -= skip;
  k->wreq.data = k;
  k->writing = true;
  int rc = uv_write(&k->wreq, (uv_stream_t *)&k->tcp, b + i, n - i, write_cb);
  if (rc < 0) {
    k->writing = false;
    conn_broke(k, rc, "sending the request");
  }
}

static void flush_cb(uv_idle_t *h) {
  sg__webhook_h1_t *c = h->data;
  uv_idle_stop(h);
  for (conn_t *k = c->conns, *next; k != NULL; k = next) {
    next = k->next; /* a closed connection stays listed until freed */
    conn_flush(k);
  }
}

/* Queues job on k; a connected k writes it at once with a pipeline of 1,
 * else before the loop next waits. */
static void conn_push(conn_t *k, hjob_t *job) {
  sg__webhook_h1_t *c = k->c;
  job->next = NULL;
  if (k->jtail != NULL)
    k->jtail->next = job;
  else
    k->job = job;
  k->jtail = job;
  k->njobs++;
  if (k->unsent == NULL)
    k->unsent = job;
  room_update(k);
  if (k->state != C_BUSY)
    return; /* written once connected */
  if (k->job == job)
    head_begin(k);
  if (c->depth <= 1)
    conn_flush(k);
  else
    uv_idle_start(&c->flush_idle, flush_cb);
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
  k->state = C_BUSY;
  room_update(k);
  head_begin(k);
  conn_flush(k);
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
  hjob_t *job = k->job;
  if (job->refused > 0 && job->allowed == 0) {
    fail_all(k, SG_WEBHOOK_PERMANENT, SG_WEBHOOK_R_REFUSED);
    return;
  }
  snprintf(job->detail, sizeof job->detail,
           "could not connect to %.100s:%u: %s", job->host, job->port,
           k->last_err ? uv_strerror(k->last_err) : "no address");
  fail_all(k, SG_WEBHOOK_RETRY, SG_WEBHOOK_R_CONNECT);
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
    hjob_t *job = k->job;
    snprintf(job->detail, sizeof job->detail, "could not resolve %.100s: %s",
             job->host, uv_strerror(status));
    fail_all(k, SG_WEBHOOK_RETRY, SG_WEBHOOK_R_CONNECT);
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
  k->state = C_RESOLVING;
  k->job = k->jtail = k->unsent = job;
  k->njobs = 1;
  job->next = NULL;
  k->next = c->conns;
  if (c->conns != NULL)
    c->conns->prev = k;
  c->conns = k;
  c->nconns++;
  uv_timer_init(c->loop, &k->timer);
  k->timer.data = k;
  room_update(k); /* more requests may queue while it connects */
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
  snprintf(job->detail, sizeof job->detail, "could not resolve %.100s: %s",
           job->host, uv_strerror(rc));
  fail_all(k, SG_WEBHOOK_RETRY, SG_WEBHOOK_R_CONNECT);
}

static bool same_origin(const conn_t *k, const hjob_t *job) {
  return k->port == job->port && strcmp(k->host, job->host) == 0;
}

/* Runs job: on a connection to its origin with requests not yet written
 * and room behind them (it goes out in the same write), else on an idle
 * one, else on one with room in its pipeline, else on a new one. Filling
 * the write that is being gathered before taking an idle connection makes
 * the posts of one loop iteration one write and one read on as few
 * connections as the pipeline allows, rather than a write on each idle
 * connection. */
static void start_job(sg__webhook_h1_t *c, hjob_t *job) {
  if (!job->started) {
    job->started = true;
    job->t0_ns = uv_hrtime();
    uv_update_time(c->loop); /* the loop's time may be old: a post can come
                                long after the loop last woke */
    job->deadline = uv_now(c->loop) + c->timeout_ms;
  }
  for (conn_t *k = c->room; k != NULL; k = k->rnext)
    if (k->unsent != NULL && same_origin(k, job)) {
      conn_push(k, job);
      return;
    }
  uint64_t now = uv_now(c->loop);
  for (conn_t *k = c->idle, *next; k != NULL; k = next) {
    next = k->inext;
    if (now - k->idle_since > IDLE_MAX_MS) {
      conn_close(k); /* a peer gone without a word would time us out */
      continue;
    }
    if (same_origin(k, job)) {
      idle_remove(k);
      k->state = C_BUSY;
      conn_push(k, job);
      return;
    }
  }
  for (conn_t *k = c->room; k != NULL; k = k->rnext)
    if (same_origin(k, job)) {
      conn_push(k, job);
      return;
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

/* n in decimal, without snprintf (0.75 k instructions a request). */
static void put_size(out_t *o, size_t n) {
  char d[20];
  size_t k = 0;
  do {
    d[k++] = (char)('0' + n % 10);
    n /= 10;
  } while (n > 0);
  while (k > 0)
    o->p[o->n++] = d[--k];
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
  if (!req->get) {
    puts_(&o, "Content-Length: ");
    put_size(&o, req->len);
    puts_(&o, "\r\n");
  }
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

/* The parts of u's pointers from one copy of a URL moved to another. */
static void url_rebase(sg_http1_url_t *u, const char *from, const char *to) {
  u->authority = to + (u->authority - from);
  u->target = to + (u->target - from);
}

/* sg_http1_url_parse, from the memo when url is the last one parsed (its
 * parse was a thirtieth of the webhook thread's instructions a post). */
static int url_parse(sg__webhook_h1_t *c, const char *url, sg_http1_url_t *u) {
  size_t n = strlen(url);
  if (c->memo_url != NULL && n == c->memo_len &&
      memcmp(url, c->memo_url, n) == 0) {
    *u = c->memo;
    url_rebase(u, c->memo_url, url);
    return 0;
  }
  int rc = sg_http1_url_parse(url, u);
  if (rc < 0)
    return rc;
  if (n + 1 > c->memo_cap) {
    char *m = sg_realloc(c->memo_url, n + 1);
    if (m == NULL)
      return 0; /* parsed; only the memo is not kept */
    c->memo_url = m;
    c->memo_cap = n + 1;
  }
  memcpy(c->memo_url, url, n + 1);
  c->memo_len = n;
  c->memo = *u;
  url_rebase(&c->memo, url, c->memo_url);
  return 0;
}

int sg__webhook_h1_post(sg__webhook_h1_t *c, const sg_webhook_req_t *req,
                        sg_webhook_done_cb cb, void *data) {
  sg_http1_url_t u;
  int rc = url_parse(c, req->url, &u);
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
  job->again = job->started = false;
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
  c->depth = cfg->pipeline > 1 ? cfg->pipeline : 1;
  if (c->depth > SG_WEBHOOK_PIPELINE_MAX) {
    sg_free(c->user_agent);
    sg_free(c);
    return SG_EINVAL;
  }
  uv_timer_init(loop, &c->later_timer);
  c->later_timer.data = c;
  c->timer_open = true;
  uv_idle_init(loop, &c->flush_idle);
  c->flush_idle.data = c;
  c->flush_open = true;
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

static void flush_closed_cb(uv_handle_t *h) {
  sg__webhook_h1_t *c = h->data;
  c->flush_open = false;
  client_maybe_free(c);
}

void sg__webhook_h1_free(sg__webhook_h1_t *c) {
  if (c == NULL || c->closing)
    return;
  c->closing = true;
  for (conn_t *k = c->conns; k != NULL; k = k->next) {
    hjob_t *all = conn_take_all(k);
    conn_close(k);
    for (hjob_t *next; all != NULL; all = next) {
      next = all->next;
      all->next = NULL;
      job_fail(all, SG_WEBHOOK_RETRY, SG_WEBHOOK_R_SHUTDOWN);
    }
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
  uv_close((uv_handle_t *)&c->flush_idle, flush_closed_cb);
}
