/* webhook.h - the HTTP client half of the notifier: signed JSON POSTs to
 * callback URLs, on the libuv loop, with a verdict per attempt.
 *
 * http:// URLs go through smsgate's own HTTP/1.1 client (engine/
 * webhook_h1.h) unless cfg->curl_only; https:// and the rest through
 * libcurl's multi interface on the loop (curl_multi_socket_action, its
 * sockets in uv_poll_t handles, its timer in a uv_timer_t). Either way
 * connections to a host are kept alive and reused. At most max_inflight transfers run
 * at once and up to max_queue more wait in a FIFO; past that, posting fails
 * with SG_EBUSY (back-pressure: every queue is bounded).
 *
 * Each POST carries Content-Type: application/json and
 * X-Smsgate-Signature: sha256=<hex of HMAC-SHA256(secret, body)>, so that a
 * receiver can check that the body came from this gateway unchanged.
 *
 * Callback URLs come from users, so the module refuses to reach anything
 * but public addresses unless allow_private is set: the check is made on
 * every address about to be connected to (libcurl's open-socket callback,
 * or before uv_tcp_connect in the HTTP/1.1 client),
 * which covers every spelling of an address and DNS answers that change
 * between look-ups (see core/netaddr.h). Redirects are not followed, only
 * http and https are spoken, and proxies from the environment are ignored.
 *
 * The module does not retry by itself: it reports, per attempt, whether the
 * event was delivered, should be retried (and when), or will never be
 * taken; the notifier keeps the schedule durable in the store.
 */
#ifndef SG_ENGINE_WEBHOOK_H
#define SG_ENGINE_WEBHOOK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

typedef struct sg_webhook sg_webhook_t;

#define SG_WEBHOOK_SIGNATURE_HEADER "X-Smsgate-Signature"
/* "sha256=" and 64 lower-case hex digits, without the NUL. */
#define SG_WEBHOOK_SIGNATURE_LEN 71

/* Retry schedule: the delay after failed attempt n is
 * min(10 s * 2^(n-1), 1 h) less up to 20 % jitter, and an event is given up
 * once the next attempt would come more than 24 h after the first. */
#define SG_WEBHOOK_BACKOFF_BASE_MS 10000ull
#define SG_WEBHOOK_BACKOFF_MAX_MS 3600000ull
#define SG_WEBHOOK_MAX_AGE_MS 86400000ull

/* Octets of an answer's body kept for the caller (an inbound webhook's
 * reply, engine.h "INBOUND"). */
#define SG_WEBHOOK_ANSWER_MAX 4096
/* The deepest pipeline (sg_webhook_cfg_t.pipeline). */
#define SG_WEBHOOK_PIPELINE_MAX 32

typedef enum sg_webhook_outcome {
  SG_WEBHOOK_DELIVERED = 0, /* 2xx */
  SG_WEBHOOK_RETRY = 1,     /* 5xx, 408, 429, timeout, network error:
                               try again after retry_in_ms */
  SG_WEBHOOK_PERMANENT = 2, /* other 4xx, 3xx (not followed), refused
                               destination: retrying will not help */
  SG_WEBHOOK_EXPIRED = 3    /* would be retried, but the next attempt would
                               fall past SG_WEBHOOK_MAX_AGE_MS */
} sg_webhook_outcome_t;

typedef enum sg_webhook_reason {
  SG_WEBHOOK_R_OK = 0,      /* a 2xx answer */
  SG_WEBHOOK_R_HTTP_STATUS, /* another answer, see http_status */
  SG_WEBHOOK_R_REDIRECT,    /* a 3xx answer; redirects are not followed */
  SG_WEBHOOK_R_REFUSED,     /* every address of the host is private */
  SG_WEBHOOK_R_TIMEOUT,     /* connect or whole-request timeout */
  SG_WEBHOOK_R_CONNECT,     /* name not resolved, connection refused */
  SG_WEBHOOK_R_TRANSPORT,   /* TLS, reset, truncated answer, other */
  SG_WEBHOOK_R_SHUTDOWN     /* sg_webhook_free ran first */
} sg_webhook_reason_t;

typedef struct sg_webhook_result {
  sg_webhook_outcome_t outcome;
  sg_webhook_reason_t reason;
  long http_status;     /* 0 when no answer came */
  uint64_t retry_in_ms; /* for SG_WEBHOOK_RETRY: when to try again */
  unsigned attempt;     /* as posted */
  double elapsed_ms;    /* of this attempt, from its start */
  const char *detail;   /* libcurl's message or ""; valid during the call */
  /* The first SG_WEBHOOK_ANSWER_MAX octets of the answer's body (not
   * NUL-terminated; NULL/0 when there was no answer); valid during the
   * call. */
  const char *body;
  size_t body_len;
  /* The answer's Content-Type, or NULL; valid during the call. */
  const char *content_type;
} sg_webhook_result_t;

/* Called once per accepted post, on the loop thread. */
typedef void (*sg_webhook_done_cb)(void *data, const sg_webhook_result_t *res);

typedef struct sg_webhook_cfg {
  unsigned timeout_ms;         /* whole attempt; 0: 10 s */
  unsigned connect_timeout_ms; /* 0: 5 s */
  unsigned max_inflight;       /* transfers at once; 0: 32 */
  unsigned max_queue;          /* posts waiting for a slot; 0: 1024 */
  /* Requests written ahead on one kept-alive connection to an http://
   * receiver before the first is answered (HTTP/1.1 pipelining, built-in
   * transport only); 0 or 1: one at a time. At most
   * SG_WEBHOOK_PIPELINE_MAX. */
  unsigned pipeline;
  bool allow_private;          /* allow loopback, private, link-local ... */
  const char *user_agent;      /* NULL: "smsgate/<version>" */
  bool own_thread; /* run libcurl on a thread of its own (see below) */
  /* http:// URLs go through smsgate's own HTTP/1.1 client (engine/
   * webhook_h1.h) and everything else through libcurl; true sends every
   * URL through libcurl. */
  bool curl_only;
} sg_webhook_cfg_t;

/* Writes a request's body from src[0..src_len) into *buf (grown with
 * sg_realloc as needed; kept by the client from request to request), its
 * length into *len. 0 or a negative code. */
typedef int (*sg_webhook_body_fn)(const void *src, size_t src_len, char **buf,
                                  size_t *cap, size_t *len);

typedef struct sg_webhook_req {
  const char *url;  /* http:// or https:// */
  const void *body; /* the JSON document; copied */
  size_t len;
  /* Or, with body NULL and len 0: the body is written by build from
   * src[0..src_len) (copied) when the request is prepared, on the thread
   * that sends it (with own_thread, the worker), and then signed and sent
   * as a body given as it is. A build that fails fails the post as
   * out of memory does. */
  sg_webhook_body_fn build;
  const void *src;
  size_t src_len;
  const uint8_t *secret; /* HMAC key; used before sg_webhook_post returns */
  size_t secret_len;
  const char *const *headers; /* NULL or NULL-terminated "Name: value"
                                 lines, e.g. an event id; copied */
  unsigned attempt;           /* 1 for the first attempt of this event */
  uint64_t age_ms;            /* since the first attempt; 0 for the first */
  bool get; /* GET url instead (a Kannel dlr-url): body, secret, the
               Content-Type and the signature are left out */
} sg_webhook_req_t;

typedef struct sg_webhook_stats {
  uint64_t inflight, queued;
  uint64_t delivered, retried, permanent, expired, refused;
} sg_webhook_stats_t;

/* Creates a client on `loop`. Returns 0 with *out set, SG_EINVAL,
 * SG_ENOMEM, or SG_EIO when libcurl or libsodium cannot be initialised.
 *
 * With cfg->own_thread, libcurl runs on a worker thread with a loop of its
 * own and `loop` only copies posts there and takes verdicts back (one
 * wake-up per batch); callbacks still fire on `loop`, and every contract
 * below holds, except that a post the worker cannot start (out of memory)
 * gets a RETRY verdict instead of an error from sg_webhook_post, and the
 * stats count verdicts as they reach `loop`. */
int sg_webhook_new(uv_loop_t *loop, const sg_webhook_cfg_t *cfg,
                   sg_webhook_t **out);

/* Signs and sends req->body to req->url; `cb` fires once with the verdict,
 * on the loop thread, never from inside this call. Returns 0;
 * SG_EINVAL for a URL that does not parse or is not http/https, or a header
 * line with CR or LF; SG_EBUSY when max_inflight transfers run and
 * max_queue wait already; SG_ENOMEM. On an error `cb` is never called. */
int sg_webhook_post(sg_webhook_t *wh, const sg_webhook_req_t *req,
                    sg_webhook_done_cb cb, void *data);

void sg_webhook_stats(const sg_webhook_t *wh, sg_webhook_stats_t *out);

/* Aborts what is in flight and queued (each callback fires at once, with
 * SG_WEBHOOK_RETRY, reason SG_WEBHOOK_R_SHUTDOWN and retry_in_ms 0) and
 * releases the client once the loop has run the close callbacks of its
 * handles. Not from inside a callback of this client. NULL is a no-op. */
void sg_webhook_free(sg_webhook_t *wh);

/* Writes "sha256=<64 hex digits>" and a NUL into out: HMAC-SHA256 (RFC
 * 2104, FIPS 180-4) of body under secret (any length, NULL when 0).
 * Returns 0 or SG_EINVAL. Any thread; each thread keeps an HMAC context
 * keyed by the last secret it used (engine/webhook_sign.c). */
int sg_webhook_sign(const uint8_t *secret, size_t secret_len, const void *body,
                    size_t len, char out[SG_WEBHOOK_SIGNATURE_LEN + 1]);

/* True when `header` (the value of X-Smsgate-Signature) is the signature of
 * body under secret; the comparison takes constant time. For receivers and
 * tests. */
bool sg_webhook_verify(const uint8_t *secret, size_t secret_len,
                       const void *body, size_t len, const char *header);

/* The delay before the attempt after failed attempt `attempt` (1 = the
 * first; 0 counts as 1): nominal d = min(SG_WEBHOOK_BACKOFF_BASE_MS *
 * 2^(attempt-1), SG_WEBHOOK_BACKOFF_MAX_MS), less rnd % (d / 5 + 1), so in
 * [0.8 d, d]: clients that failed together do not come back together. Pure:
 * the caller supplies the random number. */
uint64_t sg_webhook_backoff(unsigned attempt, uint32_t rnd);

/* Static names for logs: "delivered", "retry", ...; "refused", ... */
const char *sg_webhook_outcome_name(sg_webhook_outcome_t o);
const char *sg_webhook_reason_name(sg_webhook_reason_t r);

#endif
