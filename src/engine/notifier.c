/* notifier.c - status webhooks: deliveries the store queued (in the same
 * transaction as the event that caused them) are claimed, POSTed through
 * engine/webhook.h signed with the account's webhook_secret, and their
 * outcome written back: delivered, to be retried at a time from the
 * configured back-off (webhooks.retry_min_ms doubling up to retry_max_ms),
 * or given up (a permanent refusal, or webhooks.max_age_ms after it was
 * queued). The schedule lives in the store, so a restart loses nothing: a
 * delivery not finished is offered again after the store opens.
 *
 * Claims run ahead of the transfer slots (webhooks.claim_ahead): a claim
 * is answered only after the sync that covers its events, one claim at a
 * time, so with only the free slots to fill the rate was bounded by
 * concurrency / (the claim's round trip), short of the gateway's own rate
 * under load. What a claim brings beyond the free slots waits here, in
 * claim order, copied out of the claim's memory, and goes out as slots
 * free; one that waited longer than a timeout and a minute goes back to
 * the store due at once rather than out late under a lease that another
 * claim may take before its verdict is in.
 *
 * This file must never build or change a payload (the store wrote it with
 * the event, or hands over the event's record, whose payload the webhook
 * client has the store write on the thread that sends it) nor decide what
 * is a private address (webhook.h does).
 */
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "core/alloc.h"
#include "core/error.h"
#include "core/str.h"
#include "engine/engine_int.h"
#include "engine/inrules_int.h"
#include "engine/webhook.h"

/* Post records kept for the next posts once done, as many as may be in
 * flight (webhooks.concurrency) up to this: with dozens of posts in flight
 * malloc's per-thread cache is empty, and each new one took its slow path
 * (0.3 k instructions a post). Sanitizer builds keep none, so that a use
 * after the verdict is still caught. */
#if defined(__SANITIZE_ADDRESS__)
#define SPARE_MAX 0u
#else
#define SPARE_MAX 1024u
#endif

typedef struct post post_t;
typedef struct ahead ahead_t;

typedef struct finish_item {
  int64_t id;
  bool done;
  int64_t next_attempt_ms;
  bool untried; /* handed back before its request went out */
  char error[160];
} finish_item_t;

struct sg__notifier {
  sg_engine_t *e;
  sg_webhook_t *wh;
  unsigned max;      /* posts in flight at most */
  unsigned inflight; /* posted, verdict not yet in */
  unsigned asked;    /* max of the outstanding claim */
  bool claiming;
  bool again; /* poked while claiming */
  bool stopping;
  unsigned finishing; /* finish writes outstanding */
  sg__vec_t done;     /* finish_item_t waiting for the write */
  uint64_t sent, retried, failed;
  post_t *spare; /* done posts kept for the next (->next links them) */
  unsigned nspare;
  unsigned ahead_max;     /* webhooks.claim_ahead */
  ahead_t *qhead, *qtail; /* claimed ahead, in claim order */
  unsigned queued;        /* on that queue */
  sg_spares_t qspares;    /* blocks kept for the next */
};

/* A delivery claimed ahead of a free transfer slot: a copy of the claim's
 * sg_store_webhook_t whose URL and payload or record are in mem. */
struct ahead {
  ahead_t *next;
  size_t cap; /* octets of the block */
  int64_t claimed_ms;
  sg_store_webhook_t w;
  char mem[];
};

/* One POST in flight. */
struct post {
  struct sg__notifier *n;
  post_t *next; /* among the spares */
  int64_t id;
  int64_t created_ms;
  unsigned attempts;
  char url[256];
  int64_t account_id;
  uint8_t *inbound; /* the payload of an inbound webhook (for its reply) */
  size_t inbound_len;
};

static void claim(struct sg__notifier *n);

/* ---- recording outcomes -------------------------------------------------- */

static finish_item_t *finish_push(struct sg__notifier *n, int64_t id,
                                  bool done, int64_t next_ms,
                                  const char *error) {
  finish_item_t *f = sg__vec_push(&n->done);
  if (f == NULL)
    return NULL; /* the lease brings it back */
  f->id = id;
  f->done = done;
  f->next_attempt_ms = next_ms;
  f->untried = false;
  f->error[0] = '\0';
  if (error != NULL)
    snprintf(f->error, sizeof f->error, "%s", error);
  sg__schedule_flush(n->e);
  return f;
}

/* Hands delivery id back to the store unsent, due at next_ms: its claim
 * counted an attempt the receiver never saw, which the store takes back
 * (sg_store_webhook_result_t.untried), keeping its last error. */
static void finish_unsent(struct sg__notifier *n, int64_t id,
                          int64_t next_ms, const char *why) {
  finish_item_t *f = finish_push(n, id, false, next_ms, why);
  if (f != NULL)
    f->untried = true;
}

static void finish_cb(sg_store_t *st, int status, void *data) {
  struct sg__notifier *n = data;
  sg_engine_t *e = n->e;
  sg__op_end(e);
  n->finishing--;
  if (status != 0)
    sg__log(e, SG_ENGINE_LOG_ERROR,
            "could not record webhook outcomes: %s (they are sent again "
            "when their lease runs out)",
            sg_strerror(status));
  sg__maybe_stopped(e);
}

/* Writes the outcomes gathered so far (called by the engine's flush). */
static void finish_flush(struct sg__notifier *n) {
  while (n->done.n > 0) {
    size_t k = n->done.n < 1000 ? n->done.n : 1000;
    sg_store_webhook_result_t *r = sg_calloc(k, sizeof *r);
    if (r == NULL)
      return;
    const finish_item_t *f = n->done.items;
    for (size_t i = 0; i < k; i++) {
      r[i].id = f[i].id;
      r[i].done = f[i].done;
      r[i].next_attempt_ms = f[i].next_attempt_ms;
      r[i].untried = f[i].untried;
      r[i].error = f[i].error[0] ? f[i].error : NULL;
    }
    int rc = sg_store_webhook_finish(n->e->st, r, k, finish_cb, n);
    sg_free(r);
    if (rc == SG_EBUSY || rc == SG_ENOMEM)
      return; /* kept for the next flush */
    if (rc == 0) {
      n->finishing++;
      sg__op_begin(n->e);
    }
    memmove(n->done.items, (finish_item_t *)n->done.items + k,
            (n->done.n - k) * sizeof(finish_item_t));
    n->done.n -= k;
  }
}

/* ---- posting ------------------------------------------------------------- */

/* The next attempt after failed attempt `attempts`, or 0 to give up. */
static int64_t next_attempt(const sg_engine_t *e, const post_t *p,
                            int64_t now) {
  const sg_config_webhooks_t *w = &e->cfg->webhooks;
  uint64_t d = w->retry_min_ms ? w->retry_min_ms : 1000;
  uint64_t cap = w->retry_max_ms ? w->retry_max_ms : 600000;
  for (unsigned i = 1; i < p->attempts && d < cap; i++)
    d *= 2;
  if (d > cap)
    d = cap;
  d -= randombytes_uniform((uint32_t)(d / 5 + 1)); /* spread retries */
  uint64_t max_age = w->max_age_ms ? w->max_age_ms : 86400000u;
  if ((uint64_t)(now + (int64_t)d - p->created_ms) > max_age)
    return 0;
  return now + (int64_t)d;
}

/* A zeroed post record, a kept one if there is one; NULL without memory. */
static post_t *post_new(struct sg__notifier *n) {
  post_t *p = n->spare;
  if (p != NULL) {
    n->spare = p->next;
    n->nspare--;
  } else if ((p = sg_malloc(sizeof *p)) == NULL) {
    return NULL;
  }
  memset(p, 0, sizeof *p);
  return p;
}

/* Frees p's payload copy and keeps p for the next post, or frees it. */
static void post_release(struct sg__notifier *n, post_t *p) {
  sg_free(p->inbound);
  if (n->nspare >= n->max || n->nspare + 1 > SPARE_MAX) { /* may be 0 */
    sg_free(p);
    return;
  }
  p->next = n->spare;
  n->spare = p;
  n->nspare++;
}

static void post_done_cb(void *data, const sg_webhook_result_t *res) {
  post_t *p = data;
  struct sg__notifier *n = p->n;
  sg_engine_t *e = n->e;
  int64_t now = sg__now_ms(e);
  n->inflight--;
  if (res->outcome == SG_WEBHOOK_DELIVERED) {
    n->sent++;
    finish_push(n, p->id, true, 0, NULL);
    if (p->inbound != NULL)
      sg__inbound_answer(e, p->account_id, p->inbound, p->inbound_len, res);
    /* One line per webhook is for debugging: at the rates the gateway
     * takes, it would be most of the log. */
    sg__log(e, SG_ENGINE_LOG_DEBUG, "webhook %lld delivered to %s",
            (long long)p->id, p->url);
  } else if (res->reason == SG_WEBHOOK_R_SHUTDOWN) {
    finish_push(n, p->id, false, now, "stopped before an answer");
  } else {
    char why[160], code[24] = "";
    if (res->http_status != 0)
      snprintf(code, sizeof code, " (HTTP %ld)", res->http_status);
    snprintf(why, sizeof why, "%s%s%s%s", sg_webhook_reason_name(res->reason),
             code, res->detail && res->detail[0] ? ": " : "",
             res->detail ? res->detail : "");
    int64_t next =
        res->outcome == SG_WEBHOOK_RETRY ? next_attempt(e, p, now) : 0;
    if (next > 0)
      n->retried++;
    else
      n->failed++;
    finish_push(n, p->id, false, next, why);
    sg__log(e, next > 0 ? SG_ENGINE_LOG_WARN : SG_ENGINE_LOG_ERROR,
            "webhook %lld to %s: %s (attempt %u); %s", (long long)p->id, p->url,
            why, p->attempts, next > 0 ? "will retry" : "given up");
  }
  post_release(n, p);
  claim(n);
  sg__maybe_stopped(e);
}

static const sg_config_account_t *account_cfg(const sg_engine_t *e,
                                              int64_t id) {
  for (size_t i = 0; i < e->n_accounts; i++)
    if (e->accounts[i].pub.id == id)
      return e->accounts[i].pub.cfg;
  return NULL;
}

/* "X-Smsgate-Webhook-Id: " and id in decimal into out (64 octets), as
 * snprintf("%lld") writes it, without the format interpreter (about 700
 * instructions a delivery). */
static void id_header(char out[64], int64_t id) {
  static const char name[] = "X-Smsgate-Webhook-Id: ";
  memcpy(out, name, sizeof name - 1);
  sg_fmt_i64(out + sizeof name - 1, id);
}

static void post_one(struct sg__notifier *n, const sg_store_webhook_t *w,
                     int64_t now) {
  sg_engine_t *e = n->e;
  if (n->stopping) {
    finish_unsent(n, w->id, now, "stopped before sending");
    return;
  }
  post_t *p = post_new(n);
  if (p == NULL) {
    finish_unsent(n, w->id, now + 1000, "out of memory");
    return;
  }
  p->n = n;
  p->id = w->id;
  p->created_ms = w->created_ms;
  p->attempts = w->attempts;
  sg_strlcpy(p->url, w->url, sizeof p->url);
  p->account_id = w->account_id;
  static const char mo[] = "{\"event\":\"message.inbound\"";
  if (w->payload_len > sizeof mo - 1 &&
      memcmp(w->payload, mo, sizeof mo - 1) == 0 &&
      (p->inbound = sg_malloc(w->payload_len)) != NULL) {
    memcpy(p->inbound, w->payload, w->payload_len);
    p->inbound_len = w->payload_len;
  }
  const sg_config_account_t *a = account_cfg(e, w->account_id);
  const char *secret = a != NULL ? a->webhook_secret : NULL;
  char idh[64];
  id_header(idh, w->id);
  const char *hdrs[] = {idh, NULL};
  sg_webhook_req_t req = {
      .url = w->url,
      .body = w->event != NULL ? NULL : w->payload,
      .len = w->event != NULL ? 0 : w->payload_len,
      .build = w->event != NULL ? sg_store_webhook_payload : NULL,
      .src = w->event,
      .src_len = w->event_len,
      .secret = (const uint8_t *)secret,
      .secret_len = secret ? strlen(secret) : 0,
      .headers = hdrs,
      .attempt = w->attempts,
      .age_ms = now > w->created_ms ? (uint64_t)(now - w->created_ms) : 0,
      .get = w->get,
  };
  int rc = sg_webhook_post(n->wh, &req, post_done_cb, p);
  if (rc == 0) {
    n->inflight++;
    return;
  }
  post_release(n, p);
  if (rc == SG_EINVAL) {
    n->failed++;
    finish_push(n, w->id, false, 0, "the callback URL cannot be used");
    sg__log(e, SG_ENGINE_LOG_ERROR, "webhook %lld: bad URL %s; given up",
            (long long)w->id, w->url);
  } else {
    finish_push(n, w->id, false, now + 1000, sg_strerror(rc));
  }
}

/* ---- claimed ahead ------------------------------------------------------- */

/* A new block has this much to spare past its delivery, so that a kept
 * one fits the next of about the same size. */
#define AHEAD_STEP 256u

static int64_t attempt_ms(const sg_engine_t *e) {
  return e->cfg->webhooks.timeout_ms ? e->cfg->webhooks.timeout_ms : 10000;
}

/* How long a delivery may wait for a slot after its claim: its attempt
 * then still has two timeouts of its lease (3 timeouts and a minute)
 * left, one for the attempt and one for its verdict to reach the store. */
static int64_t ahead_wait_max(const sg_engine_t *e) {
  if (e->tun.webhook_wait_max_ms != 0)
    return e->tun.webhook_wait_max_ms;
  return attempt_ms(e) + 60000;
}

static int64_t lease_ms(const sg_engine_t *e) {
  return attempt_ms(e) * 3 + 60000;
}

/* A block of at least need octets, a kept one if there is one; NULL
 * without memory. */
static ahead_t *ahead_new(struct sg__notifier *n, size_t need) {
  size_t cap = 0;
  ahead_t *q = sg_spares_take(&n->qspares, sizeof *q + need, AHEAD_STEP, &cap);
  if (q != NULL)
    q->cap = cap;
  return q;
}

static void ahead_release(struct sg__notifier *n, ahead_t *q) {
  sg_spares_keep(&n->qspares, q, q->cap, n->ahead_max);
}

/* Copies w (its URL and its payload or record) to the tail of the queue. */
static void ahead_push(struct sg__notifier *n, const sg_store_webhook_t *w,
                       int64_t now) {
  size_t url_len = strlen(w->url) + 1;
  const uint8_t *src = w->event != NULL ? w->event : w->payload;
  size_t len = w->event != NULL ? w->event_len : w->payload_len;
  ahead_t *q = ahead_new(n, url_len + len);
  if (q == NULL) {
    finish_unsent(n, w->id, now + 1000, "out of memory");
    return;
  }
  q->next = NULL;
  q->claimed_ms = now;
  q->w = *w;
  q->w.message_id = NULL; /* not kept: posting does not read it */
  memcpy(q->mem, w->url, url_len);
  q->w.url = q->mem;
  uint8_t *copy = (uint8_t *)q->mem + url_len;
  if (len > 0)
    memcpy(copy, src, len);
  if (w->event != NULL)
    q->w.event = copy;
  else if (w->payload != NULL)
    q->w.payload = copy;
  if (n->qtail != NULL)
    n->qtail->next = q;
  else
    n->qhead = q;
  n->qtail = q;
  n->queued++;
}

static ahead_t *ahead_pop(struct sg__notifier *n) {
  ahead_t *q = n->qhead;
  n->qhead = q->next;
  if (n->qhead == NULL)
    n->qtail = NULL;
  n->queued--;
  return q;
}

/* Hands back to the store, due at once, every delivery that waited past
 * ahead_wait_max (all of them when stopping): they are at the head, the
 * queue being in claim order. Then posts what waits, oldest first, while
 * slots are free. Runs on every verdict, claim and tick, so a delivery is
 * handed back within a tick of its time even while no slot frees. */
static void ahead_drain(struct sg__notifier *n) {
  if (n->qhead == NULL)
    return;
  sg_engine_t *e = n->e;
  int64_t now = sg__now_ms(e);
  int64_t wait_max = ahead_wait_max(e);
  unsigned back = 0;
  while (n->qhead != NULL &&
         (n->stopping || now - n->qhead->claimed_ms > wait_max)) {
    ahead_t *q = ahead_pop(n);
    finish_unsent(n, q->w.id, now,
                  n->stopping ? "stopped before sending"
                              : "waited too long for a request slot");
    ahead_release(n, q);
    back++;
  }
  if (back > 0 && !n->stopping)
    sg__log(e, SG_ENGINE_LOG_WARN,
            "%u webhook deliveries waited more than %lld ms for a request "
            "slot (slow receivers?): handed back to the store, due at once",
            back, (long long)wait_max);
  while (n->qhead != NULL && n->inflight < n->max) {
    ahead_t *q = ahead_pop(n);
    post_one(n, &q->w, now);
    ahead_release(n, q);
  }
}

/* ---- claiming ------------------------------------------------------------ */

static void claim_cb(sg_store_t *st, int status, const sg_store_webhook_t *w,
                     size_t k, void *data) {
  struct sg__notifier *n = data;
  sg_engine_t *e = n->e;
  sg__op_end(e);
  n->claiming = false;
  int64_t now = sg__now_ms(e);
  /* In claim order: straight out while slots are free and nothing waits,
   * else behind what waits. */
  ahead_drain(n);
  for (size_t i = 0; status == 0 && i < k; i++) {
    if (n->qhead == NULL && (n->inflight < n->max || n->stopping))
      post_one(n, &w[i], now);
    else
      ahead_push(n, &w[i], now);
  }
  if (status == 0 && k > 0 && k == n->asked)
    n->again = true;
  if (n->again) {
    n->again = false;
    claim(n);
  }
  sg__maybe_stopped(e);
}

static void claim(struct sg__notifier *n) {
  sg_engine_t *e = n->e;
  ahead_drain(n);
  if (n->stopping || e->state != SG__RUNNING)
    return;
  if (n->claiming) {
    n->again = true;
    return;
  }
  /* The free slots and the room on the queue of what is claimed ahead. */
  unsigned room = n->max + n->ahead_max;
  if (n->inflight + n->queued >= room)
    return;
  unsigned want = room - n->inflight - n->queued;
  if (want > 1000)
    want = 1000;
  /* The lease outlives an attempt (timeout) and a wait on the queue
   * comfortably. */
  if (sg_store_webhook_claim(e->st, want, lease_ms(e), claim_cb, n) != 0)
    return; /* busy: the tick tries again */
  n->claiming = true;
  n->asked = want;
  sg__op_begin(e);
}

/* ---- life cycle ---------------------------------------------------------- */

int sg__notifier_new(sg_engine_t *e) {
  struct sg__notifier *n = sg_calloc(1, sizeof *n);
  if (n == NULL)
    return SG_ENOMEM;
  const sg_config_webhooks_t *w = &e->cfg->webhooks;
  sg_webhook_cfg_t wc;
  memset(&wc, 0, sizeof wc);
  wc.timeout_ms = w->timeout_ms;
  wc.connect_timeout_ms = w->connect_timeout_ms;
  wc.max_inflight = w->concurrency;
  _Static_assert(SG_CONFIG_WEBHOOK_PIPELINE_MAX == SG_WEBHOOK_PIPELINE_MAX,
                 "webhooks.pipeline's limit is the transport's");
  wc.pipeline = w->pipeline;
  wc.allow_private = w->allow_private_networks;
  wc.own_thread = w->thread;
  wc.curl_only = w->client == SG_CONFIG_WEBHOOK_CURL;
  int rc = sg_webhook_new(e->loop, &wc, &n->wh);
  if (rc != 0) {
    sg_free(n);
    return rc;
  }
  n->e = e;
  n->max = w->concurrency ? w->concurrency : 32;
  n->ahead_max = w->claim_ahead;
  sg__vec_init(&n->done, sizeof(finish_item_t));
  e->notifier = n;
  return 0;
}

void sg__notifier_poke(sg_engine_t *e) {
  if (e->notifier != NULL)
    claim(e->notifier);
}

void sg__notifier_drain(sg_engine_t *e) {
  if (e->notifier != NULL)
    ahead_drain(e->notifier);
}

void sg__notifier_flush(sg_engine_t *e) {
  if (e->notifier != NULL)
    finish_flush(e->notifier);
}

void sg__notifier_stop(sg_engine_t *e) {
  struct sg__notifier *n = e->notifier;
  if (n == NULL || n->stopping)
    return;
  n->stopping = true;
  /* Every post in flight gets its verdict now (SHUTDOWN) and is recorded
   * as due at once, for the next start; so is every delivery claimed
   * ahead. */
  sg_webhook_free(n->wh);
  n->wh = NULL;
  ahead_drain(n);
}

bool sg__notifier_idle(const sg_engine_t *e) {
  const struct sg__notifier *n = e->notifier;
  return n == NULL || (n->inflight == 0 && n->queued == 0 && !n->claiming &&
                       n->done.n == 0 && n->finishing == 0);
}

void sg__notifier_free(sg_engine_t *e) {
  struct sg__notifier *n = e->notifier;
  if (n == NULL)
    return;
  sg_webhook_free(n->wh);
  sg__vec_free(&n->done);
  for (post_t *p = n->spare, *next; p != NULL; p = next) {
    next = p->next;
    sg_free(p);
  }
  /* What still waits on the queue is due again when its lease runs out. */
  for (ahead_t *q = n->qhead, *next; q != NULL; q = next) {
    next = q->next;
    sg_free(q);
  }
  sg_spares_free(&n->qspares);
  sg_free(n);
  e->notifier = NULL;
}

void sg__notifier_metrics(const sg_engine_t *e, sg_engine_metrics_t *out) {
  const struct sg__notifier *n = e->notifier;
  if (n == NULL)
    return;
  out->webhooks_sent = n->sent;
  out->webhooks_retried = n->retried;
  out->webhooks_failed = n->failed;
  out->webhooks_inflight = n->inflight;
  out->webhooks_queued = n->queued;
}
