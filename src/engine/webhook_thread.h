/* webhook_thread.h - the webhook client on its own thread (internal to
 * engine/webhook.c, which hands every call of an sg_webhook_t made with
 * own_thread to these functions).
 *
 * The caller's loop only copies each post into a queue and wakes the worker;
 * a worker thread runs an ordinary sg_webhook_t (libcurl multi) on a loop of
 * its own and hands the verdicts back through a second queue, whose
 * callbacks fire on the caller's loop. So the caller's loop pays for a copy
 * and a wake-up per batch instead of libcurl's work per POST.
 */
#ifndef SG_ENGINE_WEBHOOK_THREAD_H
#define SG_ENGINE_WEBHOOK_THREAD_H

#include "engine/webhook.h"

typedef struct sg__webhook_thread sg__webhook_thread_t;

/* Starts the worker thread with a client made from cfg (own_thread
 * ignored). Returns 0 with *out set, or SG_ENOMEM / SG_EIO. */
int sg__webhook_thread_new(uv_loop_t *loop, const sg_webhook_cfg_t *cfg,
                           sg__webhook_thread_t **out);

/* As sg_webhook_post, from the caller's loop thread. A URL that libcurl
 * cannot parse or is not http/https, and a header with CR or LF, are
 * refused here (SG_EINVAL); SG_EBUSY when max_inflight + max_queue posts
 * await their verdict. Any later failure comes back as a verdict. */
int sg__webhook_thread_post(sg__webhook_thread_t *t,
                            const sg_webhook_req_t *req, sg_webhook_done_cb cb,
                            void *data);

/* 0 when url parses (libcurl's URL API) and is http or https, SG_EINVAL
 * otherwise, SG_ENOMEM. Thread-safe; in webhook.c. */
int sg__webhook_url_check(const char *url);

/* The last URL that passed a check and the length of its scheme and
 * authority, for sg__webhook_url_check_memo; zeroed is empty. One per
 * thread. */
typedef struct sg__webhook_url_memo {
  char *origin; /* the URL with its NUL (whole octets), or its origin only */
  size_t len;   /* of the scheme and authority; 0: none kept */
  size_t whole; /* of the whole URL kept; 0: the origin only */
  size_t cap;
} sg__webhook_url_memo_t;

/* The length of url's scheme and authority ("https://user@host:8443"),
 * ended as libcurl ends them, at the first '/', '?' or '#' after "://";
 * 0 when url does not start with a scheme and "://" or the authority is
 * empty. Pure; in webhook.c. */
size_t sg__webhook_url_origin_len(const char *url);

/* As sg__webhook_url_check, without libcurl for a URL whose scheme and
 * authority are exactly those of the last URL that passed (m) and whose
 * rest has no octet libcurl refuses (a control octet, a space, DEL): an
 * expanded dlr-url whose placeholders all sit after the host passes at
 * the cost of a comparison, and the very URL that passed last at the cost
 * of one memcmp. Any other URL, a placeholder in its host or port among
 * them, is checked whole, and remembered in m when it passes.
 * The private-network refusal is not here: it is made on the addresses
 * the host resolves to, when connecting. In webhook.c. */
int sg__webhook_url_check_memo(sg__webhook_url_memo_t *m, const char *url);

/* Frees m's copy; m is empty again. */
void sg__webhook_url_memo_close(sg__webhook_url_memo_t *m);

/* Counted on the caller's side: inflight is min(awaiting a verdict,
 * max_inflight), the rest queued. */
void sg__webhook_thread_stats(sg__webhook_thread_t *t, sg_webhook_stats_t *out);

/* Stops and joins the worker; every post without a verdict gets one now
 * (SG_WEBHOOK_R_SHUTDOWN unless its answer had come), on this thread,
 * before this returns. The rest is released once the loop has run the
 * close callback of the wake-up handle. */
void sg__webhook_thread_free(sg__webhook_thread_t *t);

#endif
