/* webhook_h1.h - the webhook client's own HTTP/1.1 transport for http://
 * URLs (internal to engine/webhook.c, which hands it every post whose URL
 * it can take and keeps libcurl for the rest, https:// above all).
 *
 * Connections are kept alive and reused per origin (host and port); one
 * request at a time per connection, or up to cfg->pipeline of them written
 * ahead (HTTP/1.1 pipelining, answers read in order), those queued in one
 * loop iteration in one write. Names are resolved with
 * uv_getaddrinfo and every address is checked (core/netaddr.h) before it is
 * connected to, so the private-address rule holds for the address actually
 * connected to, as in libcurl's open-socket callback. Redirects are never
 * followed. A request that meets a kept connection closed by the peer
 * before any octet of its answer is sent once more on a new connection, as
 * libcurl does.
 *
 * The verdict of each attempt is made by the same functions as libcurl's
 * (below), so the notifier cannot tell the two transports apart.
 */
#ifndef SG_ENGINE_WEBHOOK_H1_H
#define SG_ENGINE_WEBHOOK_H1_H

#include "engine/webhook.h"

typedef struct sg__webhook_h1 sg__webhook_h1_t;

/* Creates the transport on `loop`; cfg's fields are used as given (the
 * caller fills the defaults; own_thread is ignored). Returns 0 with *out
 * set, SG_EINVAL or SG_ENOMEM. */
int sg__webhook_h1_new(uv_loop_t *loop, const sg_webhook_cfg_t *cfg,
                       sg__webhook_h1_t **out);

/* As sg_webhook_post. Returns SG_ENOTSUP, with nothing done, for a URL that
 * this transport leaves to libcurl (see sg_http1_url_parse); SG_EINVAL for
 * a header line with CR or LF or without a colon; SG_EBUSY; SG_ENOMEM. */
int sg__webhook_h1_post(sg__webhook_h1_t *c, const sg_webhook_req_t *req,
                        sg_webhook_done_cb cb, void *data);

void sg__webhook_h1_stats(const sg__webhook_h1_t *c, sg_webhook_stats_t *out);

/* Every post in flight or queued gets its SHUTDOWN verdict now; the
 * transport is released once the loop has run its handles' close
 * callbacks. NULL is a no-op. */
void sg__webhook_h1_free(sg__webhook_h1_t *c);

/* ---- verdicts, shared with the libcurl transport (in webhook.c) ---- */

/* Outcome and reason of an HTTP answer with this status. */
void sg__webhook_judge_status(long status, sg_webhook_result_t *res);

/* For a RETRY: retry_in_ms from the back-off of `attempt` or the
 * receiver's Retry-After (ms, 0 when none) if longer; EXPIRED when that
 * falls past SG_WEBHOOK_MAX_AGE_MS from the first attempt. */
void sg__webhook_schedule_retry(unsigned attempt, uint64_t age_ms,
                                uint64_t retry_after_ms,
                                sg_webhook_result_t *res);

/* Adds one verdict to the counters. */
void sg__webhook_count(sg_webhook_stats_t *st, const sg_webhook_result_t *res);

#endif
