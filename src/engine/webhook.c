/* webhook.c - signed JSON POSTs to user-supplied URLs over libcurl's multi
 * interface on the libuv loop, and the verdict of each attempt.
 *
 * The multi handle is driven the standard way: libcurl tells us which
 * sockets to watch (CURLMOPT_SOCKETFUNCTION -> a uv_poll_t per socket) and
 * when to call it back (CURLMOPT_TIMERFUNCTION -> one uv_timer_t), and we
 * answer with curl_multi_socket_action. Posts beyond max_inflight wait in a
 * FIFO of prepared jobs (body copied, headers signed) and get their easy
 * handle when a slot frees. Every connection goes through the open-socket
 * callback, which refuses non-public addresses (core/netaddr.h) unless the
 * configuration allows them.
 *
 * A post costs no allocation and no system call of ours once the client is
 * warm: finished jobs go back to a pool with their easy handle (its fixed
 * options set once), their body buffer and their header list (nodes and
 * text in the job's own buffers, not curl_slist_append); the last URL that
 * passed the check is remembered; and a socket's uv_poll_t stays started
 * while libcurl keeps its idle connection, so a reused connection costs no
 * epoll_ctl (libuv's uv_poll_start always removes and re-adds the
 * descriptor, so it is called only when the events really change).
 *
 * This module must never block the loop, follow a redirect, speak anything
 * but http and https, use a proxy from the environment, or connect to a
 * private address that the configuration does not allow. It does not retry:
 * the notifier above it keeps the schedule durable.
 */
#include "engine/webhook.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <netinet/in.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/alloc.h"
#include "core/error.h"
#include "core/netaddr.h"
#include "engine/webhook_h1.h"
#include "engine/webhook_thread.h"

#define DEFAULT_TIMEOUT_MS 10000u
#define DEFAULT_CONNECT_TIMEOUT_MS 5000u
#define DEFAULT_MAX_INFLIGHT 32u
#define DEFAULT_MAX_QUEUE 1024u

typedef struct job job_t;

struct job {
  sg_webhook_t *wh;
  job_t *prev, *next;         /* wh->queue, wh->running or wh->pool */
  CURL *easy;                 /* NULL until first started; kept in the pool */
  struct curl_slist *headers; /* hnodes[0], or NULL */
  struct curl_slist *hnodes;  /* header list nodes, pointing into htext */
  size_t hnodes_cap;
  char *htext; /* header lines, each NUL-terminated */
  size_t htext_cap;
  char *url;      /* the URL of this post */
  char *easy_url; /* the URL last set on easy (a copy), or NULL */
  size_t url_cap, easy_url_cap;
  char *body;
  size_t len, body_cap;
  unsigned attempt;
  uint64_t age_ms;
  bool broken;      /* its socket could not be watched: abort it */
  bool get;         /* a GET of url (Kannel dlr-url), no body */
  unsigned refused; /* addresses refused by the SSRF check */
  unsigned allowed; /* addresses allowed */
  sg_webhook_done_cb cb;
  void *data;
  char errbuf[CURL_ERROR_SIZE]; /* libcurl's message */
  char refusal[96];             /* the first address refused, and why */
  size_t answer_len;            /* octets of the answer's body kept */
  char answer[SG_WEBHOOK_ANSWER_MAX];
};

typedef struct job_list {
  job_t *head, *tail;
  size_t n;
} job_list_t;

/* The uv_poll_t of one socket libcurl asked us to watch. When libcurl stops
 * watching a connection that it keeps for reuse, the poll is only stopped
 * (parked) and started again when the connection is reused: setting up a
 * uv_poll_t costs four system calls. It is closed when libcurl closes the
 * socket (CURLOPT_CLOSESOCKETFUNCTION), before the descriptor goes. */
typedef struct sock {
  uv_poll_t poll;
  sg_webhook_t *wh;
  curl_socket_t fd;
  int events;  /* what the started poll watches; 0: stopped */
  bool parked; /* not assigned in the multi handle (libcurl keeps the
                  connection idle); its poll may still watch READABLE, and
                  is stopped when that fires (the peer closed or spoke) */
  struct sock *prev, *next;
} sock_t;

struct sg_webhook {
  sg__webhook_thread_t *mt; /* own_thread: every call goes there */
  sg__webhook_h1_t *h1;     /* http:// URLs, unless cfg->curl_only */
  uv_loop_t *loop;
  CURLM *multi;
  uv_timer_t timer;
  sock_t *socks;
  sock_t **byfd; /* every sock, by descriptor */
  size_t nbyfd;
  /* By descriptor: 1 for a socket made by open_socket_cb (a connection,
   * closed through close_socket_cb). libcurl's other sockets (the threaded
   * resolver's socketpair) it closes itself right after CURL_POLL_REMOVE,
   * so they must never stay watched. */
  uint8_t *conn;
  int open_handles; /* the timer and every sock not yet closed */
  bool closing;
  unsigned broken; /* running jobs marked broken */
  unsigned timeout_ms, connect_timeout_ms, max_inflight, max_queue;
  bool allow_private;
  char *user_agent;
  sg__webhook_url_memo_t good_url; /* the origin that last passed */
  char *built; /* bodies written by a request's build, reused */
  size_t built_cap;
  job_list_t queue, running, pool;
  sg_webhook_stats_t stats;
};

/* ---- pure parts: signature, back-off, verdict ------------------------- */

bool sg_webhook_verify(const uint8_t *secret, size_t secret_len,
                       const void *body, size_t len, const char *header) {
  char want[SG_WEBHOOK_SIGNATURE_LEN + 1];
  if (header == NULL || strlen(header) != SG_WEBHOOK_SIGNATURE_LEN ||
      sg_webhook_sign(secret, secret_len, body, len, want) < 0)
    return false;
  return sodium_memcmp(want, header, SG_WEBHOOK_SIGNATURE_LEN) == 0;
}

uint64_t sg_webhook_backoff(unsigned attempt, uint32_t rnd) {
  uint64_t d = SG_WEBHOOK_BACKOFF_BASE_MS;
  for (unsigned i = 1; i < attempt && d < SG_WEBHOOK_BACKOFF_MAX_MS; i++)
    d *= 2;
  if (d > SG_WEBHOOK_BACKOFF_MAX_MS)
    d = SG_WEBHOOK_BACKOFF_MAX_MS;
  return d - rnd % (d / 5 + 1);
}

const char *sg_webhook_outcome_name(sg_webhook_outcome_t o) {
  static const char *const names[] = {"delivered", "retry", "permanent",
                                      "expired"};
  return (unsigned)o < 4 ? names[o] : "unknown";
}

const char *sg_webhook_reason_name(sg_webhook_reason_t r) {
  static const char *const names[] = {"ok",        "http_status", "redirect",
                                      "refused",   "timeout",     "connect",
                                      "transport", "shutdown"};
  return (unsigned)r < sizeof names / sizeof names[0] ? names[r] : "unknown";
}

/* The verdict on an HTTP answer (RFC 9110 section 15). 408 and 429 say
 * "later"; every other 4xx says the request itself is wrong. */
void sg__webhook_judge_status(long status, sg_webhook_result_t *res) {
  res->http_status = status;
  if (status >= 200 && status <= 299) {
    res->outcome = SG_WEBHOOK_DELIVERED;
    res->reason = SG_WEBHOOK_R_OK;
  } else if (status >= 300 && status <= 399) {
    res->outcome = SG_WEBHOOK_PERMANENT;
    res->reason = SG_WEBHOOK_R_REDIRECT;
  } else {
    res->reason = SG_WEBHOOK_R_HTTP_STATUS;
    res->outcome = status >= 500 || status == 408 || status == 429
                       ? SG_WEBHOOK_RETRY
                       : SG_WEBHOOK_PERMANENT;
  }
}

/* The verdict on a transfer that got no answer. */
static void judge_error(const job_t *job, CURLcode code,
                        sg_webhook_result_t *res) {
  res->outcome = SG_WEBHOOK_RETRY;
  if (job->refused > 0 && job->allowed == 0) {
    res->outcome = SG_WEBHOOK_PERMANENT;
    res->reason = SG_WEBHOOK_R_REFUSED;
    res->detail = job->refusal;
    return;
  }
  switch (code) {
  case CURLE_OPERATION_TIMEDOUT:
    res->reason = SG_WEBHOOK_R_TIMEOUT;
    break;
  case CURLE_COULDNT_RESOLVE_HOST:
  case CURLE_COULDNT_CONNECT:
    res->reason = SG_WEBHOOK_R_CONNECT;
    break;
  case CURLE_UNSUPPORTED_PROTOCOL:
  case CURLE_URL_MALFORMAT:
    res->outcome = SG_WEBHOOK_PERMANENT;
    res->reason = SG_WEBHOOK_R_TRANSPORT;
    break;
  default:
    res->reason = SG_WEBHOOK_R_TRANSPORT;
    break;
  }
}

/* When to retry: the back-off, or the receiver's Retry-After if longer
 * (capped at the back-off maximum); EXPIRED past the maximum age. */
void sg__webhook_schedule_retry(unsigned attempt, uint64_t age_ms,
                                uint64_t retry_after_ms,
                                sg_webhook_result_t *res) {
  if (res->outcome != SG_WEBHOOK_RETRY)
    return;
  uint64_t d = sg_webhook_backoff(attempt, randombytes_random());
  if (retry_after_ms > SG_WEBHOOK_BACKOFF_MAX_MS)
    retry_after_ms = SG_WEBHOOK_BACKOFF_MAX_MS;
  if (retry_after_ms > d)
    d = retry_after_ms;
  res->retry_in_ms = d;
  if (age_ms + d > SG_WEBHOOK_MAX_AGE_MS)
    res->outcome = SG_WEBHOOK_EXPIRED;
}

/* ---- jobs ---------------------------------------------------------------- */

static void list_push(job_list_t *l, job_t *j) {
  j->next = NULL;
  j->prev = l->tail;
  if (l->tail != NULL)
    l->tail->next = j;
  else
    l->head = j;
  l->tail = j;
  l->n++;
}

static void list_remove(job_list_t *l, job_t *j) {
  if (j->prev != NULL)
    j->prev->next = j->next;
  else
    l->head = j->next;
  if (j->next != NULL)
    j->next->prev = j->prev;
  else
    l->tail = j->prev;
  l->n--;
}

static void job_free(job_t *job) {
  if (job->easy != NULL)
    curl_easy_cleanup(job->easy);
  sg_free(job->hnodes);
  sg_free(job->htext);
  sg_free(job->url);
  sg_free(job->easy_url);
  sg_free(job->body);
  sg_free(job);
}

/* Keeps a finished job, its easy handle and buffers for the next post (up
 * to one per transfer slot), or frees it. */
static void job_release(job_t *job) {
  sg_webhook_t *wh = job->wh;
  if (wh->closing || wh->pool.n >= wh->max_inflight) {
    job_free(job);
    return;
  }
  job->cb = NULL;
  job->data = NULL;
  list_push(&wh->pool, job);
}

void sg__webhook_count(sg_webhook_stats_t *st, const sg_webhook_result_t *res) {
  switch (res->outcome) {
  case SG_WEBHOOK_DELIVERED:
    st->delivered++;
    break;
  case SG_WEBHOOK_RETRY:
    st->retried++;
    break;
  case SG_WEBHOOK_PERMANENT:
    st->permanent++;
    break;
  case SG_WEBHOOK_EXPIRED:
    st->expired++;
    break;
  }
  if (res->reason == SG_WEBHOOK_R_REFUSED)
    st->refused++;
}

/* Reports `res` for a job that is in no list any more, and frees it. */
static void job_finish(job_t *job, sg_webhook_result_t *res) {
  res->attempt = job->attempt;
  if (res->detail == NULL)
    res->detail = job->errbuf;
  sg__webhook_count(&job->wh->stats, res);
  job->cb(job->data, res);
  job_release(job);
}

static void job_abort(job_t *job, sg_webhook_reason_t reason) {
  sg_webhook_result_t res = {.outcome = SG_WEBHOOK_RETRY, .reason = reason};
  job_finish(job, &res);
}

static void job_done(job_t *job, CURLcode code) {
  sg_webhook_result_t res = {0};
  long status = 0;
  curl_off_t retry_after = 0, total_us = 0;
  curl_easy_getinfo(job->easy, CURLINFO_RESPONSE_CODE, &status);
  curl_easy_getinfo(job->easy, CURLINFO_TOTAL_TIME_T, &total_us);
  res.elapsed_ms = (double)total_us / 1000.0;
  if (code == CURLE_OK && status > 0) {
    sg__webhook_judge_status(status, &res);
    curl_easy_getinfo(job->easy, CURLINFO_RETRY_AFTER, &retry_after);
  } else {
    judge_error(job, code, &res);
  }
  if (job->errbuf[0] == '\0' && code != CURLE_OK)
    snprintf(job->errbuf, sizeof job->errbuf, "%s", curl_easy_strerror(code));
  sg__webhook_schedule_retry(job->attempt, job->age_ms,
                             retry_after > 0 ? (uint64_t)retry_after * 1000 : 0,
                             &res);
  res.body = job->answer;
  res.body_len = job->answer_len;
  char *ct = NULL;
  if (curl_easy_getinfo(job->easy, CURLINFO_CONTENT_TYPE, &ct) == CURLE_OK)
    res.content_type = ct;
  job_finish(job, &res);
}

/* ---- libcurl callbacks --------------------------------------------------- */

static void describe_refusal(job_t *job, const struct sockaddr *sa) {
  char ip[INET6_ADDRSTRLEN] = "?";
  if (sa->sa_family == AF_INET)
    inet_ntop(AF_INET,
              &((const struct sockaddr_in *)(const void *)sa)->sin_addr, ip,
              sizeof ip);
  else if (sa->sa_family == AF_INET6)
    inet_ntop(AF_INET6,
              &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr, ip,
              sizeof ip);
  snprintf(job->refusal, sizeof job->refusal,
           "refused to connect to %s: %s address", ip,
           sg_net_addr_class_name(sg_net_addr_classify(sa)));
}

/* Every connection libcurl opens comes through here with the address it is
 * about to connect to: the SSRF check. */
static bool byfd_fit(sg_webhook_t *wh, curl_socket_t fd);

static curl_socket_t open_socket_cb(void *clientp, curlsocktype purpose,
                                    struct curl_sockaddr *addr) {
  job_t *job = clientp;
  if (purpose != CURLSOCKTYPE_IPCXN)
    return CURL_SOCKET_BAD;
  if (!job->wh->allow_private && sg_net_addr_is_private(&addr->addr)) {
    if (job->refused++ == 0)
      describe_refusal(job, &addr->addr);
    return CURL_SOCKET_BAD;
  }
  job->allowed++;
  curl_socket_t fd =
      socket(addr->family, addr->socktype | SOCK_CLOEXEC, addr->protocol);
  if (fd >= 0 && byfd_fit(job->wh, fd))
    job->wh->conn[fd] = 1; /* else it is never parked: only slower */
  return fd;
}

/* Keeps the start of the answer's body (an inbound webhook may answer
 * with a reply); the rest is read and dropped. */
static size_t answer_cb(char *ptr, size_t size, size_t n, void *userdata) {
  job_t *job = userdata;
  size_t len = size * n, room = sizeof job->answer - job->answer_len;
  size_t k = len < room ? len : room;
  memcpy(job->answer + job->answer_len, ptr, k);
  job->answer_len += k;
  return len;
}

static void check_done(sg_webhook_t *wh);
static void start_queued(sg_webhook_t *wh);
static void poll_cb(uv_poll_t *h, int status, int events);

static void on_timeout(uv_timer_t *t) {
  sg_webhook_t *wh = t->data;
  int running;
  curl_multi_socket_action(wh->multi, CURL_SOCKET_TIMEOUT, 0, &running);
  check_done(wh);
}

static void sock_close_cb(uv_handle_t *h) {
  sock_t *sk = h->data;
  sg_webhook_t *wh = sk->wh;
  sg_free(sk);
  if (--wh->open_handles == 0 && wh->closing)
    sg_free(wh);
}

static void sock_close(sock_t *sk) {
  sg_webhook_t *wh = sk->wh;
  if (sk->prev != NULL)
    sk->prev->next = sk->next;
  else
    wh->socks = sk->next;
  if (sk->next != NULL)
    sk->next->prev = sk->prev;
  if ((size_t)sk->fd < wh->nbyfd && wh->byfd[sk->fd] == sk)
    wh->byfd[sk->fd] = NULL;
  uv_poll_stop(&sk->poll);
  uv_close((uv_handle_t *)&sk->poll, sock_close_cb);
}

/* Starts or changes the poll only when the events differ: each
 * uv_poll_start costs an epoll_ctl DEL and an ADD. */
static int sock_watch(sock_t *sk, int events) {
  if (sk->events == events)
    return 0;
  if (events == 0) {
    uv_poll_stop(&sk->poll);
    sk->events = 0;
    return 0;
  }
  int rc = uv_poll_start(&sk->poll, events, poll_cb);
  sk->events = rc == 0 ? events : 0;
  return rc;
}

static void poll_cb(uv_poll_t *h, int status, int events) {
  sock_t *sk = h->data;
  sg_webhook_t *wh = sk->wh;
  int flags = 0, running;
  if (sk->parked) {
    /* An idle kept connection became readable: the peer closed it (or
     * spoke out of turn). libcurl finds out when it next checks the
     * connection; stop watching until then. */
    sock_watch(sk, 0);
    return;
  }
  if (status < 0)
    flags = CURL_CSELECT_ERR;
  if (events & UV_READABLE)
    flags |= CURL_CSELECT_IN;
  if (events & UV_WRITABLE)
    flags |= CURL_CSELECT_OUT;
  curl_multi_socket_action(wh->multi, sk->fd, flags, &running);
  check_done(wh);
}

/* The parked sock of fd, unparked and assigned to it again, or NULL. */
static sock_t *sock_unpark(sg_webhook_t *wh, curl_socket_t fd) {
  sock_t *sk = (size_t)fd < wh->nbyfd ? wh->byfd[fd] : NULL;
  if (sk == NULL || !sk->parked)
    return NULL;
  sk->parked = false;
  curl_multi_assign(wh->multi, fd, sk);
  return sk;
}

/* Makes room for fd in wh->byfd; false when out of memory. */
static bool byfd_fit(sg_webhook_t *wh, curl_socket_t fd) {
  if ((size_t)fd < wh->nbyfd)
    return true;
  size_t n = wh->nbyfd ? wh->nbyfd : 64;
  while (n <= (size_t)fd)
    n *= 2;
  uint8_t *c = sg_realloc(wh->conn, n);
  if (c == NULL)
    return false;
  wh->conn = c;
  sock_t **t = sg_realloc(wh->byfd, n * sizeof *t);
  if (t == NULL)
    return false;
  memset(t + wh->nbyfd, 0, (n - wh->nbyfd) * sizeof *t);
  memset(c + wh->nbyfd, 0, n - wh->nbyfd);
  wh->byfd = t;
  wh->nbyfd = n;
  return true;
}

static sock_t *sock_new(sg_webhook_t *wh, curl_socket_t fd) {
  sock_t *sk = sock_unpark(wh, fd);
  if (sk != NULL)
    return sk;
  if (fd < 0 || !byfd_fit(wh, fd))
    return NULL;
  sk = sg_calloc(1, sizeof *sk);
  if (sk == NULL)
    return NULL;
  if (uv_poll_init_socket(wh->loop, &sk->poll, fd) != 0) {
    sg_free(sk);
    return NULL;
  }
  sk->poll.data = sk;
  sk->wh = wh;
  sk->fd = fd;
  sk->next = wh->socks;
  if (wh->socks != NULL)
    wh->socks->prev = sk;
  wh->socks = sk;
  wh->byfd[fd] = sk;
  wh->open_handles++;
  curl_multi_assign(wh->multi, fd, sk);
  return sk;
}

/* A socket that cannot be watched (no memory) would leave its transfer
 * stuck. libcurl asks for sockets only from curl_multi_socket_action, after
 * which check_done runs and aborts the transfer. */
static int socket_failed(sg_webhook_t *wh, CURL *easy) {
  char *priv = NULL;
  curl_easy_getinfo(easy, CURLINFO_PRIVATE, &priv);
  job_t *job = (job_t *)(void *)priv;
  if (job != NULL && !job->broken) {
    job->broken = true;
    wh->broken++;
    snprintf(job->errbuf, sizeof job->errbuf,
             "cannot watch the connection (out of memory)");
  }
  return 0;
}

/* CURLMOPT_SOCKETFUNCTION: watch, re-watch or forget a socket. */
static int socket_cb(CURL *easy, curl_socket_t fd, int what, void *userp,
                     void *socketp) {
  sg_webhook_t *wh = userp;
  sock_t *sk = socketp;
  if (what == CURL_POLL_REMOVE) {
    if (sk != NULL && !wh->closing) { /* closing: already closed */
      curl_multi_assign(wh->multi, fd, NULL);
      if ((size_t)fd >= wh->nbyfd || !wh->conn[fd]) {
        sock_close(sk); /* libcurl closes it now, not through us */
        return 0;
      }
      /* Keep watching an idle connection for reading, so that its reuse
       * costs nothing; never for writing (that would fire at once). */
      if (sk->events != UV_READABLE)
        sock_watch(sk, 0);
      sk->parked = true;
    }
    return 0;
  }
  if (wh->closing)
    return 0;
  if (sk == NULL && (sk = sock_new(wh, fd)) == NULL)
    return socket_failed(wh, easy);
  int events = ((what & CURL_POLL_IN) ? UV_READABLE : 0) |
               ((what & CURL_POLL_OUT) ? UV_WRITABLE : 0);
  if (sock_watch(sk, events) != 0)
    return socket_failed(wh, easy);
  return 0;
}

/* CURLOPT_CLOSESOCKETFUNCTION: forgets the socket's poll, then closes it. */
static int close_socket_cb(void *clientp, curl_socket_t fd) {
  sg_webhook_t *wh = clientp;
  sock_t *sk = (size_t)fd < wh->nbyfd ? wh->byfd[fd] : NULL;
  if ((size_t)fd < wh->nbyfd)
    wh->conn[fd] = 0;
  if (sk != NULL) {
    if (!sk->parked)
      curl_multi_assign(wh->multi, fd, NULL);
    sock_close(sk);
  }
  return close(fd);
}

/* CURLMOPT_TIMERFUNCTION: libcurl wants to be called in timeout_ms
 * (-1: never). It must not be called from here, so a timer does it. */
static int timer_cb(CURLM *multi, long timeout_ms, void *userp) {
  sg_webhook_t *wh = userp;
  if (timeout_ms < 0)
    uv_timer_stop(&wh->timer);
  else if (!wh->closing)
    uv_timer_start(&wh->timer, on_timeout, (uint64_t)timeout_ms, 0);
  return 0;
}

static void abort_broken(sg_webhook_t *wh) {
  job_t *job = wh->running.head;
  while (wh->broken > 0 && job != NULL) {
    job_t *next = job->next;
    if (job->broken) {
      wh->broken--;
      list_remove(&wh->running, job);
      wh->stats.inflight = wh->running.n;
      curl_multi_remove_handle(wh->multi, job->easy);
      job_abort(job, SG_WEBHOOK_R_TRANSPORT);
    }
    job = next;
  }
}

static void check_done(sg_webhook_t *wh) {
  CURLMsg *msg;
  int left;
  while ((msg = curl_multi_info_read(wh->multi, &left)) != NULL) {
    if (msg->msg != CURLMSG_DONE)
      continue;
    char *priv = NULL;
    CURLcode code = msg->data.result;
    curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, &priv);
    job_t *job = (job_t *)(void *)priv;
    curl_multi_remove_handle(wh->multi, msg->easy_handle);
    list_remove(&wh->running, job);
    wh->broken -= job->broken;
    wh->stats.inflight = wh->running.n;
    job_done(job, code);
  }
  abort_broken(wh);
  start_queued(wh);
}

/* ---- starting transfers -------------------------------------------------- */

/* Options that stay the same for every post of this client and job. */
static int setup_easy_once(sg_webhook_t *wh, job_t *job, CURL *e) {
  CURLcode rc = CURLE_OK;
#define SET(opt, val)                                                          \
  do {                                                                         \
    if (rc == CURLE_OK)                                                        \
      rc = curl_easy_setopt(e, opt, val);                                      \
  } while (0)
  SET(CURLOPT_USERAGENT, wh->user_agent);
  SET(CURLOPT_TIMEOUT_MS, (long)wh->timeout_ms);
  SET(CURLOPT_CONNECTTIMEOUT_MS, (long)wh->connect_timeout_ms);
  SET(CURLOPT_FOLLOWLOCATION, 0L);
  SET(CURLOPT_PROTOCOLS_STR, "http,https");
  SET(CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
  SET(CURLOPT_PROXY, ""); /* no proxy from the environment */
  SET(CURLOPT_NOSIGNAL, 1L);
  SET(CURLOPT_OPENSOCKETFUNCTION, open_socket_cb);
  SET(CURLOPT_OPENSOCKETDATA, job);
  SET(CURLOPT_CLOSESOCKETFUNCTION, close_socket_cb);
  SET(CURLOPT_CLOSESOCKETDATA, wh);
  SET(CURLOPT_WRITEFUNCTION, answer_cb);
  SET(CURLOPT_WRITEDATA, job);
  SET(CURLOPT_PRIVATE, job);
  SET(CURLOPT_ERRORBUFFER, job->errbuf);
#undef SET
  return rc == CURLE_OK ? 0 : SG_EINVAL;
}

/* Makes *buf hold at least n bytes (contents kept); false when out of
 * memory. */
static bool fit(char **buf, size_t *cap, size_t n) {
  if (n <= *cap)
    return true;
  char *b = sg_grow(*buf, cap, n, 64, 1);
  if (b == NULL)
    return false;
  *buf = b;
  return true;
}

/* The options of this post: URL (only when it changed: setting it copies
 * it), body and headers. */
static int setup_easy(sg_webhook_t *wh, job_t *job) {
  if (job->easy == NULL) {
    CURL *e = curl_easy_init();
    if (e == NULL)
      return SG_ENOMEM;
    if (setup_easy_once(wh, job, e) < 0) {
      curl_easy_cleanup(e);
      return SG_EINVAL;
    }
    job->easy = e;
  }
  CURL *e = job->easy;
  CURLcode rc = CURLE_OK;
  if (job->easy_url == NULL || strcmp(job->easy_url, job->url) != 0) {
    size_t n = strlen(job->url) + 1;
    if (!fit(&job->easy_url, &job->easy_url_cap, n))
      return SG_ENOMEM;
    rc = curl_easy_setopt(e, CURLOPT_URL, job->url);
    if (rc == CURLE_OK)
      memcpy(job->easy_url, job->url, n);
    else
      job->easy_url[0] = '\0';
  }
  /* Handles are reused: the method is set on every post. */
  if (rc == CURLE_OK && job->get)
    rc = curl_easy_setopt(e, CURLOPT_HTTPGET, 1L);
  if (rc == CURLE_OK && !job->get)
    rc = curl_easy_setopt(e, CURLOPT_POST, 1L);
  if (rc == CURLE_OK && !job->get)
    rc = curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)job->len);
  if (rc == CURLE_OK && !job->get)
    rc = curl_easy_setopt(e, CURLOPT_POSTFIELDS, job->body);
  if (rc == CURLE_OK)
    rc = curl_easy_setopt(e, CURLOPT_HTTPHEADER, job->headers);
  if (rc == CURLE_OUT_OF_MEMORY)
    return SG_ENOMEM;
  return rc == CURLE_OK ? 0 : SG_EINVAL;
}

static int start_job(sg_webhook_t *wh, job_t *job) {
  int rc = setup_easy(wh, job);
  if (rc < 0)
    return rc;
  if (curl_multi_add_handle(wh->multi, job->easy) != CURLM_OK)
    return SG_ENOMEM;
  list_push(&wh->running, job);
  wh->stats.inflight = wh->running.n;
  return 0;
}

static void start_queued(sg_webhook_t *wh) {
  while (!wh->closing && wh->queue.head != NULL &&
         wh->running.n < wh->max_inflight) {
    job_t *job = wh->queue.head;
    list_remove(&wh->queue, job);
    wh->stats.queued = wh->queue.n;
    if (start_job(wh, job) < 0)
      job_abort(job, SG_WEBHOOK_R_TRANSPORT);
  }
}

/* Only http and https URLs that libcurl can parse. */
int sg__webhook_url_check(const char *url) {
  CURLU *u = curl_url();
  char *scheme = NULL;
  int rc = SG_EINVAL;
  if (u == NULL)
    return SG_ENOMEM;
  if (curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
      curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) == CURLUE_OK &&
      (strcasecmp(scheme, "http") == 0 || strcasecmp(scheme, "https") == 0))
    rc = 0;
  curl_free(scheme);
  curl_url_cleanup(u);
  return rc;
}

/* RFC 3986 3.1: ALPHA / DIGIT / "+" / "-" / "." */
static bool scheme_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
         (c >= '0' && c <= '9') || c == '+' || c == '-' || c == '.';
}

size_t sg__webhook_url_origin_len(const char *url) {
  size_t n = 0;
  while (scheme_char(url[n]))
    n++;
  if (n == 0 || strncmp(url + n, "://", 3) != 0)
    return 0;
  n += 3;
  size_t host = strcspn(url + n, "/?#"); /* where libcurl ends it */
  return host > 0 ? n + host : 0;
}

/* Past this the rest is not vouched for (libcurl refuses input of 8 MB). */
#define MEMO_REST_MAX 65536

/* Keeps url (of length ul, origin n), which passed, as the last one: whole
 * unless its rest is longer than MEMO_REST_MAX, then its origin. */
static void memo_keep(sg__webhook_url_memo_t *m, const char *url, size_t ul,
                      size_t n) {
  bool whole = ul - n <= MEMO_REST_MAX;
  size_t keep = whole ? ul + 1 : n;
  if (fit(&m->origin, &m->cap, keep)) {
    memcpy(m->origin, url, keep);
    m->len = n;
    m->whole = whole ? ul : 0;
  } else if (n != m->len || memcmp(url, m->origin, n) != 0) {
    m->len = m->whole = 0; /* checked whole again next time */
  } else {
    m->whole = 0; /* the same origin, kept without its rest */
  }
}

int sg__webhook_url_check_memo(sg__webhook_url_memo_t *m, const char *url) {
  size_t ul = strlen(url);
  if (m->whole > 0 && ul == m->whole && memcmp(url, m->origin, ul) == 0)
    return 0; /* the last URL that passed, again */
  size_t n = sg__webhook_url_origin_len(url);
  if (n > 0 && n == m->len && memcmp(url, m->origin, n) == 0) {
    /* libcurl refuses a rest with a control octet or a space, and nothing
     * else in it once the scheme and authority have passed. */
    size_t i = n;
    while (i - n < MEMO_REST_MAX && (unsigned char)url[i] > 0x20 &&
           url[i] != 0x7f)
      i++;
    if (url[i] == '\0') {
      memo_keep(m, url, ul, n);
      return 0;
    }
  }
  int rc = sg__webhook_url_check(url);
  if (rc == 0 && n > 0)
    memo_keep(m, url, ul, n);
  return rc;
}

void sg__webhook_url_memo_close(sg__webhook_url_memo_t *m) {
  sg_free(m->origin);
  m->origin = NULL;
  m->len = m->whole = m->cap = 0;
}

/* Content type, signature, no "Expect: 100-continue", then the caller's:
 * the lines go into job->htext and the list nodes into job->hnodes, both
 * reused from post to post (libcurl only reads the list). */
static int build_headers(job_t *job, const sg_webhook_req_t *req) {
  char sig[SG_WEBHOOK_SIGNATURE_LEN + 1];
  if (!req->get && sg_webhook_sign(req->secret, req->secret_len, req->body,
                                   req->len, sig) < 0)
    return SG_EINVAL;
  const char *fixed_post[] = {"Content-Type: application/json",
                              SG_WEBHOOK_SIGNATURE_HEADER ": ", "Expect:"};
  const char *fixed_get[] = {"Expect:"}; /* a GET has no body to sign */
  const char **fixed = req->get ? fixed_get : fixed_post;
  size_t n_fixed = req->get ? 1 : 3;
  size_t n_lines = n_fixed, text = req->get ? 0 : SG_WEBHOOK_SIGNATURE_LEN;
  for (size_t i = 0; i < n_fixed; i++)
    text += strlen(fixed[i]) + 1;
  for (size_t i = 0; req->headers != NULL && req->headers[i] != NULL; i++) {
    if (strpbrk(req->headers[i], "\r\n") != NULL ||
        strchr(req->headers[i], ':') == NULL)
      return SG_EINVAL;
    text += strlen(req->headers[i]) + 1;
    n_lines++;
  }
  if (!fit(&job->htext, &job->htext_cap, text))
    return SG_ENOMEM;
  if (n_lines > job->hnodes_cap) {
    struct curl_slist *nodes = sg_realloc(job->hnodes, n_lines * sizeof *nodes);
    if (nodes == NULL)
      return SG_ENOMEM;
    job->hnodes = nodes;
    job->hnodes_cap = n_lines;
  }
  char *at = job->htext;
  for (size_t i = 0; i < n_lines; i++) {
    const char *line = i < n_fixed ? fixed[i] : req->headers[i - n_fixed];
    size_t k = strlen(line);
    job->hnodes[i].data = at;
    job->hnodes[i].next = i + 1 < n_lines ? &job->hnodes[i + 1] : NULL;
    memcpy(at, line, k);
    at += k;
    if (i == 1 && !req->get) {
      memcpy(at, sig, SG_WEBHOOK_SIGNATURE_LEN);
      at += SG_WEBHOOK_SIGNATURE_LEN;
    }
    *at++ = '\0';
  }
  job->headers = &job->hnodes[0];
  return 0;
}

/* A job from the pool (or a new one) holding a copy of req. */
static job_t *job_new(sg_webhook_t *wh, const sg_webhook_req_t *req,
                      sg_webhook_done_cb cb, void *data, int *err) {
  job_t *job = wh->pool.head;
  if (job != NULL) {
    list_remove(&wh->pool, job);
  } else if ((job = sg_calloc(1, sizeof *job)) == NULL) {
    *err = SG_ENOMEM;
    return NULL;
  }
  job->wh = wh;
  job->cb = cb;
  job->data = data;
  job->attempt = req->attempt ? req->attempt : 1;
  job->get = req->get;
  job->age_ms = req->age_ms;
  job->len = req->len;
  job->broken = false;
  job->answer_len = 0;
  job->refused = job->allowed = 0;
  job->errbuf[0] = job->refusal[0] = '\0';
  size_t url_len = strlen(req->url) + 1;
  *err = SG_ENOMEM;
  if (fit(&job->url, &job->url_cap, url_len) &&
      fit(&job->body, &job->body_cap, req->len + 1)) {
    memcpy(job->url, req->url, url_len);
    if (req->len > 0)
      memcpy(job->body, req->body, req->len);
    job->body[req->len] = '\0';
    *err = build_headers(job, req);
  }
  if (*err < 0) {
    job_release(job);
    return NULL;
  }
  return job;
}

int sg_webhook_post(sg_webhook_t *wh, const sg_webhook_req_t *req,
                    sg_webhook_done_cb cb, void *data) {
  int err;
  if (wh == NULL || req == NULL || cb == NULL || req->url == NULL ||
      (req->body == NULL && req->len > 0) || wh->closing ||
      (req->build != NULL &&
       (req->body != NULL || (req->src == NULL && req->src_len > 0))))
    return SG_EINVAL;
  if (wh->mt != NULL)
    return sg__webhook_thread_post(wh->mt, req, cb, data);
  if ((err = sg__webhook_url_check_memo(&wh->good_url, req->url)) < 0)
    return err;
  sg_webhook_req_t built;
  if (req->build != NULL) { /* the body is written here, then as given */
    built = *req;
    built.build = NULL;
    if (req->build(req->src, req->src_len, &wh->built, &wh->built_cap,
                   &built.len) < 0)
      return SG_ENOMEM;
    built.body = wh->built;
    req = &built;
  }
  if (wh->h1 != NULL &&
      (err = sg__webhook_h1_post(wh->h1, req, cb, data)) != SG_ENOTSUP)
    return err;
  if (wh->running.n >= wh->max_inflight && wh->queue.n >= wh->max_queue)
    return SG_EBUSY;
  job_t *job = job_new(wh, req, cb, data, &err);
  if (job == NULL)
    return err;
  if (wh->running.n < wh->max_inflight) {
    if ((err = start_job(wh, job)) < 0) {
      job_release(job);
      return err;
    }
  } else {
    list_push(&wh->queue, job);
    wh->stats.queued = wh->queue.n;
  }
  return 0;
}

/* ---- lifetime ------------------------------------------------------------ */

static int new_threaded(uv_loop_t *loop, const sg_webhook_cfg_t *cfg,
                        sg_webhook_t **out) {
  sg_webhook_t *wh = sg_calloc(1, sizeof *wh);
  if (wh == NULL)
    return SG_ENOMEM;
  int rc = sg__webhook_thread_new(loop, cfg, &wh->mt);
  if (rc != 0) {
    sg_free(wh);
    return rc;
  }
  *out = wh;
  return 0;
}

int sg_webhook_new(uv_loop_t *loop, const sg_webhook_cfg_t *cfg,
                   sg_webhook_t **out) {
  if (loop == NULL || cfg == NULL || out == NULL)
    return SG_EINVAL;
  if (cfg->own_thread)
    return new_threaded(loop, cfg, out);
  if (sodium_init() < 0 || curl_global_init(CURL_GLOBAL_DEFAULT) != 0)
    return SG_EIO;
  sg_webhook_t *wh = sg_calloc(1, sizeof *wh);
  if (wh == NULL) {
    curl_global_cleanup();
    return SG_ENOMEM;
  }
  wh->loop = loop;
  wh->timeout_ms = cfg->timeout_ms ? cfg->timeout_ms : DEFAULT_TIMEOUT_MS;
  wh->connect_timeout_ms = cfg->connect_timeout_ms ? cfg->connect_timeout_ms
                                                   : DEFAULT_CONNECT_TIMEOUT_MS;
  wh->max_inflight =
      cfg->max_inflight ? cfg->max_inflight : DEFAULT_MAX_INFLIGHT;
  wh->max_queue = cfg->max_queue ? cfg->max_queue : DEFAULT_MAX_QUEUE;
  wh->allow_private = cfg->allow_private;
  wh->user_agent =
      sg_strdup(cfg->user_agent ? cfg->user_agent : "smsgate/" SG_VERSION);
  wh->multi = curl_multi_init();
  if (wh->user_agent == NULL || wh->multi == NULL) {
    curl_multi_cleanup(wh->multi);
    sg_free(wh->user_agent);
    sg_free(wh);
    curl_global_cleanup();
    return SG_ENOMEM;
  }
  curl_multi_setopt(wh->multi, CURLMOPT_SOCKETFUNCTION, socket_cb);
  curl_multi_setopt(wh->multi, CURLMOPT_SOCKETDATA, wh);
  curl_multi_setopt(wh->multi, CURLMOPT_TIMERFUNCTION, timer_cb);
  curl_multi_setopt(wh->multi, CURLMOPT_TIMERDATA, wh);
  /* Keep one idle connection per transfer slot for reuse. */
  curl_multi_setopt(wh->multi, CURLMOPT_MAXCONNECTS, (long)wh->max_inflight);
  uv_timer_init(loop, &wh->timer);
  wh->timer.data = wh;
  wh->open_handles = 1;
  if (!cfg->curl_only) {
    sg_webhook_cfg_t hc = *cfg;
    hc.timeout_ms = wh->timeout_ms;
    hc.connect_timeout_ms = wh->connect_timeout_ms;
    hc.max_inflight = wh->max_inflight;
    hc.max_queue = wh->max_queue;
    int rc = sg__webhook_h1_new(loop, &hc, &wh->h1);
    if (rc != 0) {
      sg_webhook_free(wh);
      return rc;
    }
  }
  *out = wh;
  return 0;
}

void sg_webhook_stats(const sg_webhook_t *wh, sg_webhook_stats_t *out) {
  if (wh->mt != NULL) {
    sg__webhook_thread_stats(wh->mt, out);
    return;
  }
  *out = wh->stats;
  if (wh->h1 != NULL) { /* the two transports' counters add up */
    sg_webhook_stats_t h;
    sg__webhook_h1_stats(wh->h1, &h);
    out->inflight += h.inflight;
    out->queued += h.queued;
    out->delivered += h.delivered;
    out->retried += h.retried;
    out->permanent += h.permanent;
    out->expired += h.expired;
    out->refused += h.refused;
  }
}

static void timer_close_cb(uv_handle_t *h) {
  sg_webhook_t *wh = h->data;
  if (--wh->open_handles == 0)
    sg_free(wh);
}

void sg_webhook_free(sg_webhook_t *wh) {
  if (wh == NULL || wh->closing)
    return;
  if (wh->mt != NULL) {
    sg__webhook_thread_free(wh->mt);
    sg_free(wh);
    return;
  }
  wh->closing = true;
  sg__webhook_h1_free(wh->h1);
  wh->h1 = NULL;
  /* Stop watching before libcurl closes any descriptor, so that no
   * uv_poll_t outlives its descriptor. */
  while (wh->socks != NULL)
    sock_close(wh->socks);
  while (wh->running.head != NULL) {
    job_t *job = wh->running.head;
    list_remove(&wh->running, job);
    curl_multi_remove_handle(wh->multi, job->easy);
    job_abort(job, SG_WEBHOOK_R_SHUTDOWN);
  }
  while (wh->queue.head != NULL) {
    job_t *job = wh->queue.head;
    list_remove(&wh->queue, job);
    job_abort(job, SG_WEBHOOK_R_SHUTDOWN);
  }
  while (wh->pool.head != NULL) {
    job_t *job = wh->pool.head;
    list_remove(&wh->pool, job);
    job_free(job);
  }
  wh->stats.inflight = wh->stats.queued = 0;
  curl_multi_cleanup(wh->multi);
  wh->multi = NULL;
  sg_free(wh->byfd); /* every sock is closed: none to find any more */
  wh->byfd = NULL;
  sg_free(wh->conn);
  wh->conn = NULL;
  wh->nbyfd = 0;
  sg_free(wh->user_agent);
  sg__webhook_url_memo_close(&wh->good_url);
  sg_free(wh->built);
  uv_timer_stop(&wh->timer);
  uv_close((uv_handle_t *)&wh->timer, timer_close_cb);
  curl_global_cleanup();
}
