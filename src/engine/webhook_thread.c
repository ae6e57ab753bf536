/* webhook_thread.c - the webhook client on a thread of its own: posts cross
 * from the caller's loop to a worker loop through a locked queue and a
 * uv_async_t, verdicts come back the same way.
 *
 * Each post is copied once, into one allocation that carries it there and
 * its verdict back. Wake-ups coalesce (uv_async_send), so a burst of posts
 * or verdicts costs one wake-up and one lock round on each side.
 *
 * This file must never call back into the caller from the worker thread,
 * touch the caller's loop from the worker (except uv_async_send), or make
 * a decision about a webhook: the worker's sg_webhook_t judges every
 * attempt exactly as it does on the caller's loop.
 */
#include "engine/webhook_thread.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif

#include "core/alloc.h"
#include "core/error.h"

#define DEFAULT_MAX_INFLIGHT 32u
#define DEFAULT_MAX_QUEUE 1024u
/* Post blocks kept on the caller's side for the next posts once their
 * verdict is delivered (sg_spares, up to SG_SPARES_MAX), as many as may be
 * in flight (max_inflight): a block is about 1 KiB with its body, and with
 * dozens in flight each new one took malloc's slow path. A new block has a
 * step of 256 octets to spare past its post, so that a kept one fits the
 * next post of about the same size (the bodies of one event's statuses
 * differ by a few dozen octets). */
#define BLOCK_STEP 256u

typedef struct msg msg_t;

struct msg {
  msg_t *next;
  size_t cap; /* octets of the block */
  sg__webhook_thread_t *t;
  sg_webhook_done_cb cb;
  void *data;
  sg_webhook_req_t req; /* pointers into mem */
  sg_webhook_result_t res;
  char detail[256];
  char *answer;    /* a copy of res.body: the worker's buffer is reused */
  char ctype[128]; /* a copy of res.content_type */
  void *mem[];     /* header pointers, url, body, secret and header lines */
};

typedef struct queue {
  msg_t *head, *tail;
} queue_t;

struct sg__webhook_thread {
  uv_loop_t *loop; /* the caller's */
  uv_async_t wake_caller;
  /* worker side */
  uv_loop_t wloop;
  uv_async_t wake_worker;
  sg_webhook_t *wh;
  uv_thread_t tid;
  /* shared, under lock */
  uv_mutex_t lock;
  queue_t inbox, outbox;
  bool stop;
  /* caller side */
  size_t pending; /* posted, verdict not yet delivered */
  size_t max_inflight, max_pending;
  sg_webhook_stats_t stats;        /* verdicts as delivered here */
  sg__webhook_url_memo_t good_url; /* as the client checks URLs */
  sg_spares_t spares; /* delivered blocks kept for the next posts */
  bool closing;
};

static void push(queue_t *q, msg_t *m) {
  m->next = NULL;
  if (q->tail != NULL)
    q->tail->next = m;
  else
    q->head = m;
  q->tail = m;
}

/* Takes the whole queue (the caller holds the lock). */
static msg_t *take_all(queue_t *q) {
  msg_t *m = q->head;
  q->head = q->tail = NULL;
  return m;
}

/* ---- worker thread -------------------------------------------------------- */

/* Hands a verdict back to the caller's loop. */
static void reply(msg_t *m) {
  sg__webhook_thread_t *t = m->t;
  uv_mutex_lock(&t->lock);
  push(&t->outbox, m);
  uv_mutex_unlock(&t->lock);
  uv_async_send(&t->wake_caller);
}

static void worker_done_cb(void *data, const sg_webhook_result_t *res) {
  msg_t *m = data;
  m->res = *res;
  m->res.detail = NULL;
  if (res->detail != NULL) {
    size_t n = strlen(res->detail);
    if (n >= sizeof m->detail)
      n = sizeof m->detail - 1;
    memcpy(m->detail, res->detail, n);
    m->detail[n] = '\0';
  }
  m->res.body = NULL;
  m->res.body_len = 0;
  m->res.content_type = NULL;
  if (res->content_type != NULL) {
    snprintf(m->ctype, sizeof m->ctype, "%s", res->content_type);
    m->res.content_type = m->ctype;
  }
  if (res->body != NULL && res->body_len > 0 &&
      (m->answer = sg_malloc(res->body_len + 1)) != NULL) {
    memcpy(m->answer, res->body, res->body_len);
    m->answer[res->body_len] = '\0';
    m->res.body = m->answer;
    m->res.body_len = res->body_len;
  }
  reply(m);
}

static void fail(msg_t *m, sg_webhook_outcome_t outcome,
                 sg_webhook_reason_t reason, const char *why) {
  memset(&m->res, 0, sizeof m->res);
  m->res.outcome = outcome;
  m->res.reason = reason;
  m->res.attempt = m->req.attempt;
  snprintf(m->detail, sizeof m->detail, "%s", why);
  reply(m);
}

static void worker_post(sg__webhook_thread_t *t, msg_t *m) {
  int rc = sg_webhook_post(t->wh, &m->req, worker_done_cb, m);
  if (rc == SG_EINVAL)
    fail(m, SG_WEBHOOK_PERMANENT, SG_WEBHOOK_R_TRANSPORT,
         "the request cannot be sent");
  else if (rc < 0)
    fail(m, SG_WEBHOOK_RETRY, SG_WEBHOOK_R_TRANSPORT, sg_strerror(rc));
}

static void worker_stop(sg__webhook_thread_t *t, msg_t *left) {
  /* In flight and queued in the client: SHUTDOWN verdicts, at once. */
  sg_webhook_free(t->wh);
  t->wh = NULL;
  for (msg_t *next; left != NULL; left = next) {
    next = left->next;
    fail(left, SG_WEBHOOK_RETRY, SG_WEBHOOK_R_SHUTDOWN, "");
  }
  uv_close((uv_handle_t *)&t->wake_worker, NULL);
}

static void wake_worker_cb(uv_async_t *a) {
  sg__webhook_thread_t *t = a->data;
  uv_mutex_lock(&t->lock);
  msg_t *m = take_all(&t->inbox);
  bool stop = t->stop;
  uv_mutex_unlock(&t->lock);
  if (stop) {
    worker_stop(t, m);
    return;
  }
  for (msg_t *next; m != NULL; m = next) {
    next = m->next;
    worker_post(t, m);
  }
}

static void worker_main(void *arg) {
  sg__webhook_thread_t *t = arg;
#ifdef __linux__
  prctl(PR_SET_NAME, "sg-webhook", 0, 0, 0); /* for top, perf and ps */
#endif
  uv_run(&t->wloop, UV_RUN_DEFAULT);
}

/* ---- caller side ---------------------------------------------------------- */

static void count(sg_webhook_stats_t *st, const sg_webhook_result_t *res) {
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

/* Keeps m for the next post, or frees it. */
static void msg_release(sg__webhook_thread_t *t, msg_t *m) {
  sg_spares_keep(&t->spares, m, m->cap, t->closing ? 0 : t->max_inflight);
}

static void deliver(sg__webhook_thread_t *t, msg_t *m) {
  for (msg_t *next; m != NULL; m = next) {
    next = m->next;
    t->pending--;
    count(&t->stats, &m->res);
    m->res.detail = m->detail;
    m->cb(m->data, &m->res);
    sg_free(m->answer);
    msg_release(t, m);
  }
}

static void wake_caller_cb(uv_async_t *a) {
  sg__webhook_thread_t *t = a->data;
  uv_mutex_lock(&t->lock);
  msg_t *m = take_all(&t->outbox);
  uv_mutex_unlock(&t->lock);
  deliver(t, m);
}

/* A block of at least size octets: the kept one on top if it is large
 * enough, else a new one (the kept one is freed then). */
static msg_t *msg_block(sg__webhook_thread_t *t, size_t size) {
  size_t cap = 0;
  msg_t *m = sg_spares_take(&t->spares, size, BLOCK_STEP, &cap);
  if (m != NULL)
    m->cap = cap;
  return m;
}

/* One block holding the post: the msg, then URL, body, secret, the header
 * pointer array and the header lines. */
static msg_t *msg_new(sg__webhook_thread_t *t, const sg_webhook_req_t *req) {
  size_t url = strlen(req->url) + 1, nh = 0, htext = 0;
  for (; req->headers != NULL && req->headers[nh] != NULL; nh++)
    htext += strlen(req->headers[nh]) + 1;
  size_t ptrs = req->headers != NULL ? (nh + 1) * sizeof(char *) : 0;
  /* A body to write (req->build) is written by the worker: its source is
   * what crosses. */
  size_t blen = req->build != NULL ? req->src_len : req->len;
  size_t size = sizeof(msg_t) + ptrs + url + blen + 1 + req->secret_len + htext;
  msg_t *m = msg_block(t, size);
  if (m == NULL)
    return NULL;
  size_t cap = m->cap;
  memset(m, 0, sizeof *m);
  m->cap = cap;
  char *at = (char *)m->mem;
  const char **hp = NULL;
  /* the pointer array first, aligned as the allocation is */
  if (ptrs > 0) {
    hp = (const char **)(void *)at;
    at += ptrs;
  }
  m->req = *req;
  memcpy(at, req->url, url);
  m->req.url = at;
  at += url;
  if (blen > 0)
    memcpy(at, req->build != NULL ? req->src : req->body, blen);
  at[blen] = '\0';
  if (req->build != NULL)
    m->req.src = at;
  else
    m->req.body = at;
  at += blen + 1;
  if (req->secret_len > 0)
    memcpy(at, req->secret, req->secret_len);
  m->req.secret = (const uint8_t *)at;
  at += req->secret_len;
  for (size_t i = 0; i < nh; i++) {
    size_t k = strlen(req->headers[i]) + 1;
    memcpy(at, req->headers[i], k);
    hp[i] = at;
    at += k;
  }
  if (hp != NULL)
    hp[nh] = NULL;
  m->req.headers = hp;
  return m;
}

static int check_headers(const char *const *h) {
  for (size_t i = 0; h != NULL && h[i] != NULL; i++)
    if (strpbrk(h[i], "\r\n") != NULL || strchr(h[i], ':') == NULL)
      return SG_EINVAL;
  return 0;
}

int sg__webhook_thread_post(sg__webhook_thread_t *t,
                            const sg_webhook_req_t *req, sg_webhook_done_cb cb,
                            void *data) {
  int rc;
  if (t->closing)
    return SG_EINVAL;
  if ((rc = sg__webhook_url_check_memo(&t->good_url, req->url)) < 0 ||
      (rc = check_headers(req->headers)) < 0)
    return rc;
  if (t->pending >= t->max_pending)
    return SG_EBUSY;
  msg_t *m = msg_new(t, req);
  if (m == NULL)
    return SG_ENOMEM;
  m->t = t;
  m->cb = cb;
  m->data = data;
  t->pending++;
  uv_mutex_lock(&t->lock);
  bool first = t->inbox.head == NULL;
  push(&t->inbox, m);
  uv_mutex_unlock(&t->lock);
  if (first) /* else a wake-up is on its way */
    uv_async_send(&t->wake_worker);
  return 0;
}

void sg__webhook_thread_stats(sg__webhook_thread_t *t,
                              sg_webhook_stats_t *out) {
  *out = t->stats;
  out->inflight = t->pending < t->max_inflight ? t->pending : t->max_inflight;
  out->queued = t->pending - out->inflight;
}

/* ---- lifetime ------------------------------------------------------------- */

static void caller_close_cb(uv_handle_t *h) {
  sg__webhook_thread_t *t = h->data;
  sg__webhook_url_memo_close(&t->good_url);
  sg_spares_free(&t->spares);
  sg_free(t);
}

int sg__webhook_thread_new(uv_loop_t *loop, const sg_webhook_cfg_t *cfg,
                           sg__webhook_thread_t **out) {
  sg__webhook_thread_t *t = sg_calloc(1, sizeof *t);
  if (t == NULL)
    return SG_ENOMEM;
  t->loop = loop;
  t->max_inflight =
      cfg->max_inflight ? cfg->max_inflight : DEFAULT_MAX_INFLIGHT;
  t->max_pending =
      t->max_inflight + (cfg->max_queue ? cfg->max_queue : DEFAULT_MAX_QUEUE);
  if (uv_loop_init(&t->wloop) != 0) {
    sg_free(t);
    return SG_EIO;
  }
  sg_webhook_cfg_t wc = *cfg;
  wc.own_thread = false;
  int rc = sg_webhook_new(&t->wloop, &wc, &t->wh);
  if (rc != 0) {
    uv_loop_close(&t->wloop);
    sg_free(t);
    return rc;
  }
  uv_mutex_init(&t->lock);
  uv_async_init(&t->wloop, &t->wake_worker, wake_worker_cb);
  t->wake_worker.data = t;
  uv_async_init(loop, &t->wake_caller, wake_caller_cb);
  t->wake_caller.data = t;
  if (uv_thread_create(&t->tid, worker_main, t) != 0) {
    worker_stop(t, NULL); /* on this thread: the worker never ran */
    uv_run(&t->wloop, UV_RUN_DEFAULT);
    uv_loop_close(&t->wloop);
    uv_mutex_destroy(&t->lock);
    t->closing = true;
    uv_close((uv_handle_t *)&t->wake_caller, caller_close_cb);
    return SG_EIO;
  }
  *out = t;
  return 0;
}

void sg__webhook_thread_free(sg__webhook_thread_t *t) {
  if (t == NULL || t->closing)
    return;
  t->closing = true;
  uv_mutex_lock(&t->lock);
  t->stop = true;
  uv_mutex_unlock(&t->lock);
  uv_async_send(&t->wake_worker);
  uv_thread_join(&t->tid);
  uv_loop_close(&t->wloop);
  /* Every post has its verdict in the outbox now. */
  uv_mutex_lock(&t->lock);
  msg_t *m = take_all(&t->outbox);
  uv_mutex_unlock(&t->lock);
  deliver(t, m);
  uv_mutex_destroy(&t->lock);
  uv_close((uv_handle_t *)&t->wake_caller, caller_close_cb);
}
