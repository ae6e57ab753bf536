/* http_conn.h - the connector to HTTP providers (connector type http): each
 * part is one HTTP request made from the configured template
 * (core/httptpl.h), its answer read by the configured rule into the
 * provider's message id or a temporary or permanent failure, and the
 * provider's delivery receipts, posted to smsgate's receipt endpoint, read
 * by the configured mapping and handed to the owner like any connector's.
 *
 * Requests go through libcurl's multi interface driven by the connector's
 * libuv loop (http and https, kept connections), at most `window` at a
 * time and at most `tps` a second; a temporary failure is retried with
 * back-off up to `max_retries` times, and parts of one message leave in
 * order, also across retries.
 *
 * Threading: the loop thread only, like connector.h.
 */
#ifndef SG_CONNECTOR_HTTP_CONN_H
#define SG_CONNECTOR_HTTP_CONN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <uv.h>

#include "connector/connector.h"
#include "core/config_http.h"

typedef struct sg_http_conn_config {
  const char *name;
  const sg_config_conn_http_t *http; /* copied by sg_http_conn_new */
  uint32_t window;                   /* requests in flight; default 10 */
  uint32_t tps;                      /* requests a second; 0 = no limit */
  uint32_t timeout_ms;               /* whole request; default 30 s */
  uint32_t connect_timeout_ms;       /* default 10 s, at most timeout_ms */
  uint32_t max_retries;              /* temporary failures retried; default 3 */
  uint32_t retry_min_ms;             /* first back-off, doubling; default 1 s */
  uint32_t retry_max_ms;             /* longest back-off; default 60 s */
  /* Transport failures in a row (connection refused, no answer in time)
   * after which the connector reports itself DOWN; default 3. While DOWN
   * it takes no parts (those waiting go back to the owner as TEMPFAIL) and
   * probes the provider's host with a connection alone, after
   * probe_min_ms, doubling up to probe_max_ms, until one is taken: then UP
   * again. Defaults 1 s and 30 s. */
  uint32_t down_after;
  uint32_t probe_min_ms, probe_max_ms;
} sg_http_conn_config_t;

/* Fills *cfg with the defaults above (name and http NULL). */
void sg_http_conn_config_default(sg_http_conn_config_t *cfg);

/* Creates a stopped connector (start it with sg_connector_start). The
 * configuration's templates, patterns and paths are compiled here; one the
 * configuration check would have refused gives SG_ECONFIG. Returns 0 with
 * *out set, SG_EINVAL, SG_ECONFIG or SG_ENOMEM. No callback fires. */
int sg_http_conn_new(uv_loop_t *loop, const sg_http_conn_config_t *cfg,
                     const sg_conn_callbacks_t *cbs, void *owner,
                     sg_connector_t **out);

/* Whether c is a connector of this kind. */
bool sg_http_conn_is(const sg_connector_t *c);

/* ---- receipts posted to smsgate ------------------------------------------ */

/* One request to /v1/hooks/provider/{connector}, as the HTTP server has it.
 * Every pointer is borrowed for the duration of sg_http_conn_receipt. */
typedef struct sg_http_hook_req {
  const char *method;       /* "GET" or "POST" */
  const char *query;        /* raw query string, not decoded; "" if none */
  const char *content_type; /* NULL when absent */
  const uint8_t *body;
  size_t body_len;
  const char *(*header)(void *data, const char *name); /* NULL: absent */
  void *header_data;
} sg_http_hook_req_t;

/* Why a receipt was refused: the HTTP status to answer with, the error
 * code and message of the JSON error body, and the field at fault. */
typedef struct sg_http_hook_err {
  unsigned status; /* 400, 401, 415, 422, 503 */
  const char *code;
  char message[192];
  char field[80]; /* "" when none */
} sg_http_hook_err_t;

/* Called once per accepted receipt, on the loop, when the owner stored it
 * (stored = true: answer 2xx) or could not (false: answer 503 so that the
 * provider sends it again). */
typedef void (*sg_http_hook_done_cb)(void *data, bool stored);

/* Reads a receipt by the connector's mapping (shared secret, HMAC, id,
 * status word, error) and hands it to the owner's dlr_cb. Returns 0 when it
 * was handed on (done_cb fires exactly once, usually later; from inside
 * this call only when the owner refused the receipt at once); otherwise a
 * negative SG_E* code with *err filled and no callback: SG_EPERM (bad or
 * missing secret or signature), SG_EINVAL (a field missing or malformed, an
 * unknown status word), SG_ESTATE (stopping). */
int sg_http_conn_receipt(sg_connector_t *c, const sg_http_hook_req_t *req,
                         sg_http_hook_done_cb done_cb, void *data,
                         sg_http_hook_err_t *err);

#endif
