/* rest_int.h - what the files of the REST API share:
 *   rest.c      registration, authentication, answering, /healthz
 *   messages.c  the /v1/messages handlers
 *   inbound.c   /v1/inbound and /v1/optouts
 *   admin.c     /v1/accounts and /v1/keys (admin keys only)
 *   routes.c    /v1/routes and /v1/connectors (admin keys)
 *   inrules.c   /v1/inbound/rules (admin)
 *   json.c      JSON of messages, parts, events and segments
 *   metrics.c   /metrics in the Prometheus text format
 *   parse.c, query.c, syntax.c  reading requests (parse.h)
 * Not a public header: only these files include it.
 */
#ifndef SG_INGRESS_REST_INT_H
#define SG_INGRESS_REST_INT_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "core/segment.h"
#include "engine/engine.h"
#include "ingress/http_server.h"
#include "ingress/rest/parse.h"
#include "ingress/rest/rest.h"
#include "store/store.h"

struct sg_rest {
  sg_http_server_t *srv;
  sg_engine_t *engine;
  /* Segmentation buffer of previews (large: allocated once; previews are
   * synchronous on the loop, so one is enough). */
  sg_segments_t *segs;
  /* The store figures of /metrics, read every 10 s (metrics_ops.c). */
  struct sg__rest_mcache *mcache;
  /* The web page and its sessions (ingress/web/web.h); NULL when
   * http.web is false. */
  struct sg__web *web;
};

/* ---- answering (rest.c) -------------------------------------------------- */

/* Answers with the JSON error body; retry_after_s > 0 adds Retry-After. */
void sg__rest_error(sg_http_req_t *req, unsigned status, const char *code,
                    const char *message, const char *field,
                    unsigned retry_after_s);

/* Answers a request that failed to parse (sg_rest_err_t). */
void sg__rest_parse_error(sg_http_req_t *req, const sg_rest_err_t *err);

/* Answers with a store/engine error code (SG_ENOENT 404, SG_EBUSY 429,
 * SG_EIO and the rest 503). */
void sg__rest_engine_error(sg_http_req_t *req, int status);

/* Answers `status` with the JSON of `obj` (a reference is taken and
 * released); 500 when obj is NULL (out of memory while building it). */
void sg__rest_json(sg_http_req_t *req, unsigned status, json_t *obj);

/* Authenticates the request. Returns the account, or NULL after answering
 * 401 (no or unknown key) or 503 (the engine is not started yet). */
const sg_engine_account_t *sg__rest_auth(sg_rest_t *rest, sg_http_req_t *req);
/* sg__rest_auth for the admin endpoints (accounts, keys, routes,
 * connectors): also answers 403 admin_required, and returns NULL, unless the
 * key's account has `admin: true`. */
const sg_engine_account_t *sg__rest_admin(sg_rest_t *rest, sg_http_req_t *req);

/* ---- handlers (messages.c) ----------------------------------------------- */

void sg__rest_send_cb(sg_http_req_t *req, void *data);
void sg__rest_preview_cb(sg_http_req_t *req, void *data);
void sg__rest_list_cb(sg_http_req_t *req, void *data);
void sg__rest_get_cb(sg_http_req_t *req, void *data);
void sg__rest_cancel_cb(sg_http_req_t *req, void *data);

/* ---- handlers (inbound.c) ------------------------------------------------ */

void sg__rest_inbound_cb(sg_http_req_t *req, void *data);
void sg__rest_optouts_list_cb(sg_http_req_t *req, void *data);
void sg__rest_optouts_add_cb(sg_http_req_t *req, void *data);
void sg__rest_optouts_delete_cb(sg_http_req_t *req, void *data);

/* ---- handlers (admin.c) -------------------------------------------------- */

void sg__rest_accounts_list_cb(sg_http_req_t *req, void *data);
void sg__rest_accounts_create_cb(sg_http_req_t *req, void *data);
void sg__rest_accounts_get_cb(sg_http_req_t *req, void *data);
void sg__rest_accounts_patch_cb(sg_http_req_t *req, void *data);
void sg__rest_accounts_delete_cb(sg_http_req_t *req, void *data);
void sg__rest_keys_list_cb(sg_http_req_t *req, void *data);
void sg__rest_keys_create_cb(sg_http_req_t *req, void *data);
void sg__rest_keys_revoke_cb(sg_http_req_t *req, void *data);
void sg__rest_keys_rotate_cb(sg_http_req_t *req, void *data);
/* ---- handlers (limits.c) ------------------------------------------------- */

void sg__rest_balance_cb(sg_http_req_t *req, void *data);
void sg__rest_credit_cb(sg_http_req_t *req, void *data);
/* ---- handlers (velocity.c) ----------------------------------------------- */

void sg__rest_velocity_blocks_cb(sg_http_req_t *req, void *data);
void sg__rest_velocity_unblock_cb(sg_http_req_t *req, void *data);
/* ---- handlers (routes.c) ------------------------------------------------- */

void sg__rest_routes_list_cb(sg_http_req_t *req, void *data);
void sg__rest_routes_put_cb(sg_http_req_t *req, void *data);
void sg__rest_routes_add_cb(sg_http_req_t *req, void *data);
void sg__rest_routes_reset_cb(sg_http_req_t *req, void *data);
void sg__rest_routes_test_cb(sg_http_req_t *req, void *data);
void sg__rest_route_get_cb(sg_http_req_t *req, void *data);
void sg__rest_route_put_cb(sg_http_req_t *req, void *data);
void sg__rest_route_delete_cb(sg_http_req_t *req, void *data);
void sg__rest_connectors_list_cb(sg_http_req_t *req, void *data);
void sg__rest_connector_get_cb(sg_http_req_t *req, void *data);
void sg__rest_connector_pause_cb(sg_http_req_t *req, void *data);
void sg__rest_connector_resume_cb(sg_http_req_t *req, void *data);
/* ---- handlers (hooks.c): receipts of HTTP providers, no API key ---------- */

void sg__rest_provider_hook_cb(sg_http_req_t *req, void *data);
/* ---- handlers (inrules.c): /v1/inbound/rules, admin only ----------------- */

void sg__rest_inrules_list_cb(sg_http_req_t *req, void *data);
void sg__rest_inrules_add_cb(sg_http_req_t *req, void *data);
void sg__rest_inrules_replace_cb(sg_http_req_t *req, void *data);
void sg__rest_inrules_get_cb(sg_http_req_t *req, void *data);
void sg__rest_inrules_set_cb(sg_http_req_t *req, void *data);
void sg__rest_inrules_delete_cb(sg_http_req_t *req, void *data);

/* ---- campaigns (campaigns.c): registers /v1/campaigns ------------------- */

int sg__rest_campaigns_register(sg_rest_t *rest);

/* ---- metrics (metrics.c) ------------------------------------------------- */

void sg__rest_metrics_cb(sg_http_req_t *req, void *data);

/* ---- JSON (json.c) ------------------------------------------------------- */

/* A message as the API shows it; with `detail` also its "segments" (one
 * per part: seq, status, smsc_id, ...) and "events". NULL when out of
 * memory. */
json_t *sg__rest_message_json(const sg_store_message_t *m, bool detail);

/* An RFC 3339 string of a Unix ms time, or JSON null for 0. */
json_t *sg__rest_time_json(int64_t ms);

/* ---- text buffer (metrics.c) --------------------------------------------- */

typedef struct sg__rest_buf {
  char *p;
  size_t len, cap;
  bool oom;
} sg__rest_buf_t;

/* Appends formatted text; on out of memory sets oom and keeps what it has. */
void sg__rest_buf_printf(sg__rest_buf_t *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* The families of the connectors' links (GSM modems): smsgate_modem_*
 * (metrics_modem.c). */
void sg__rest_metrics_links(sg__rest_buf_t *b, const sg_engine_metrics_t *m);

/* The smsgate_velocity_* families (velocity.c). */
void sg__rest_metrics_velocity(sg__rest_buf_t *b, sg_rest_t *rest);

#endif
