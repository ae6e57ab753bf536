/* rest.c - the REST API's registration on the HTTP server, its
 * authentication (Authorization: Bearer <api key>), the way every error is
 * answered, /healthz and /readyz.
 *
 * Handlers run on the loop and never block: authentication is a keyed-hash
 * look-up in the engine, everything else goes to the engine and is
 * answered from its callback. This module must never write to the store
 * or reach a connector: the engine does that for every ingress.
 */
#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "core/error.h"
#include "ingress/rest/metrics_ops.h"
#include "ingress/rest/nodes.h"
#include "ingress/rest/openapi.h"
#include "ingress/rest/ops.h"
#include "ingress/rest/contacts_int.h"
#include "ingress/rest/rest_int.h"
#include "ingress/rest/traffic_int.h"
#include "ingress/web/web.h"

/* ---- answering ----------------------------------------------------------- */

void sg__rest_json(sg_http_req_t *req, unsigned status, json_t *obj) {
  char *text = obj != NULL ? json_dumps(obj, JSON_COMPACT) : NULL;
  json_decref(obj);
  if (text == NULL) {
    sg_http_respond_error(req, 500, "internal", "out of memory", NULL);
    return;
  }
  sg_http_respond(req, status, "application/json", text, strlen(text), NULL);
  sg_free(text);
}

/* The error body with extra headers (NULL-terminated name, value pairs). */
static void error_with_headers(sg_http_req_t *req, unsigned status,
                               const char *code, const char *message,
                               const char *field, const char *const *headers) {
  json_t *body = json_pack("{s:{s:s, s:s, s:s?}}", "error", "code", code,
                           "message", message, "field", field);
  char *text = body != NULL ? json_dumps(body, JSON_COMPACT) : NULL;
  json_decref(body);
  if (text == NULL) {
    sg_http_respond_error(req, status, code, message, field);
    return;
  }
  sg_http_respond(req, status, "application/json", text, strlen(text), headers);
  sg_free(text);
}

void sg__rest_error(sg_http_req_t *req, unsigned status, const char *code,
                    const char *message, const char *field,
                    unsigned retry_after_s) {
  char ra[16];
  snprintf(ra, sizeof(ra), "%u", retry_after_s);
  const char *retry[] = {"Retry-After", ra, NULL};
  /* RFC 6750 section 3: a 401 names the scheme the client should use. */
  const char *bearer[] = {"WWW-Authenticate", "Bearer realm=\"smsgate\"", NULL};
  const char *const *headers = retry_after_s > 0 ? retry
                               : status == 401   ? bearer
                                                 : NULL;
  error_with_headers(req, status, code, message, field, headers);
}

void sg__rest_parse_error(sg_http_req_t *req, const sg_rest_err_t *err) {
  sg__rest_error(req, err->http, err->code, err->message,
                 err->field[0] != '\0' ? err->field : NULL, 0);
}

void sg__rest_engine_error(sg_http_req_t *req, int status) {
  switch (status) {
  case SG_ENOENT:
    sg__rest_error(req, 404, "not_found", "no such message", NULL, 0);
    break;
  case SG_EBUSY:
    sg__rest_error(req, 429, "busy",
                   "the gateway is busy; retry after the Retry-After delay",
                   NULL, 1);
    break;
  case SG_ENOMEM:
    sg__rest_error(req, 503, "unavailable", "out of memory", NULL, 1);
    break;
  case SG_EIO:
    sg__rest_error(req, 503, "store_unavailable",
                   "the message store failed; nothing was changed", NULL, 1);
    break;
  default:
    sg__rest_error(req, 503, "unavailable",
                   "the gateway is starting or stopping", NULL, 1);
  }
}

/* ---- authentication ------------------------------------------------------ */

const sg_engine_account_t *sg__rest_auth(sg_rest_t *rest, sg_http_req_t *req) {
  const char *key = NULL;
  size_t len = 0;
  const sg_engine_account_t *acct = NULL;
  /* The web page's session cookie stands for a key (ingress/web/web.h). */
  if (sg_http_req_header(req, "Authorization") == NULL) {
    int wrc = sg__web_auth(rest->web, req, &acct);
    if (wrc <= 0)
      return wrc == 0 ? acct : NULL;
  }
  int rc = sg_rest_parse_bearer(sg_http_req_header(req, "Authorization"), &key,
                                &len);
  if (rc == SG_ENOENT) {
    sg__rest_error(req, 401, "unauthorized",
                   "send the API key as 'Authorization: Bearer <api key>'",
                   NULL, 0);
    return NULL;
  }
  if (rc != 0) {
    sg__rest_error(req, 401, "unauthorized",
                   "the Authorization header must be 'Bearer <api key>'", NULL,
                   0);
    return NULL;
  }
  rc = sg_engine_auth_api_key(rest->engine, key, len, &acct);
  if (rc == 0)
    return acct;
  if (rc == SG_ENOENT)
    sg__rest_error(req, 401, "invalid_api_key", "the API key is not valid",
                   NULL, 0);
  else if (rc == SG_EPERM)
    sg__rest_error(req, 403, "account_disabled",
                   "the account of this API key is disabled", NULL, 0);
  else
    sg__rest_engine_error(req, rc);
  return NULL;
}

const sg_engine_account_t *sg__rest_admin(sg_rest_t *rest,
                                          sg_http_req_t *req) {
  const sg_engine_account_t *acct = sg__rest_auth(rest, req);
  if (acct == NULL || (acct->cfg != NULL && acct->cfg->admin))
    return acct;
  sg__rest_error(req, 403, "admin_required",
                 "this endpoint needs the API key of an account with "
                 "'admin: true'",
                 NULL, 0);
  return NULL;
}

/* ---- /healthz ------------------------------------------------------------ */

/* 200 "ok" when the gateway takes and sends messages; 200 "degraded" when
 * it takes them but no connector is up (they wait in the store); 503 when
 * it cannot take them (not running, or the store failing). */
static void healthz_cb(sg_http_req_t *req, void *data) {
  sg_rest_t *rest = data;
  sg_engine_health_t h;
  memset(&h, 0, sizeof(h));
  sg_engine_health(rest->engine, &h);
  bool takes = h.running && h.store_ok;
  const char *status = h.ok ? "ok" : takes ? "degraded" : "unavailable";
  json_t *o = json_pack("{s:s, s:b, s:b, s:I, s:I}", "status", status,
                        "running", h.running, "store_ok", h.store_ok,
                        "connectors_up", (json_int_t)h.connectors_up,
                        "connectors_total", (json_int_t)h.connectors_total);
  if (o != NULL && !h.ok &&
      json_object_set_new(o, "reason", json_string(h.reason)) != 0) {
    json_decref(o);
    o = NULL;
  }
  sg__rest_json(req, takes ? 200 : 503, o);
}

/* ---- /readyz ------------------------------------------------------------- */

/* For a load balancer or an orchestrator: 200 only when a message sent now
 * would go out now (running, the store committing, a connector up); else
 * 503 with the reason. /healthz stays 200 while messages are still taken. */
static void readyz_cb(sg_http_req_t *req, void *data) {
  sg_rest_t *rest = data;
  sg_engine_health_t h;
  memset(&h, 0, sizeof(h));
  sg_engine_health(rest->engine, &h);
  json_t *o = h.ok ? json_pack("{s:s}", "status", "ready")
                   : json_pack("{s:s, s:s}", "status", "not_ready", "reason",
                               h.reason);
  sg__rest_json(req, h.ok ? 200 : 503, o);
}

/* ---- registration -------------------------------------------------------- */

static const struct {
  const char *method;
  const char *pattern;
  sg_http_handler_cb cb;
} routes[] = {
    {"POST", "/v1/messages/preview", sg__rest_preview_cb},
    {"POST", "/v1/messages", sg__rest_send_cb},
    {"GET", "/v1/messages", sg__rest_list_cb},
    {"GET", "/v1/messages/{id}", sg__rest_get_cb},
    {"DELETE", "/v1/messages/{id}", sg__rest_cancel_cb},
    {"GET", "/v1/inbound", sg__rest_inbound_cb},
    {"GET", "/v1/optouts", sg__rest_optouts_list_cb},
    {"POST", "/v1/optouts", sg__rest_optouts_add_cb},
    {"DELETE", "/v1/optouts/{number}", sg__rest_optouts_delete_cb},
    {"GET", "/v1/accounts", sg__rest_accounts_list_cb},
    {"POST", "/v1/accounts", sg__rest_accounts_create_cb},
    {"GET", "/v1/accounts/{name}", sg__rest_accounts_get_cb},
    {"PATCH", "/v1/accounts/{name}", sg__rest_accounts_patch_cb},
    {"DELETE", "/v1/accounts/{name}", sg__rest_accounts_delete_cb},
    {"GET", "/v1/keys", sg__rest_keys_list_cb},
    {"POST", "/v1/keys", sg__rest_keys_create_cb},
    {"DELETE", "/v1/keys/{id}", sg__rest_keys_revoke_cb},
    {"POST", "/v1/keys/{id}/rotate", sg__rest_keys_rotate_cb},
    {"GET", "/v1/balance", sg__rest_balance_cb},
    {"POST", "/v1/accounts/{name}/credit", sg__rest_credit_cb},
    {"GET", "/v1/velocity/blocks", sg__rest_velocity_blocks_cb},
    {"DELETE", "/v1/velocity/blocks/{account}/{prefix}",
     sg__rest_velocity_unblock_cb},
    {"GET", "/v1/routes", sg__rest_routes_list_cb},
    {"PUT", "/v1/routes", sg__rest_routes_put_cb},
    {"POST", "/v1/routes", sg__rest_routes_add_cb},
    {"POST", "/v1/routes/reset", sg__rest_routes_reset_cb},
    {"POST", "/v1/routes/test", sg__rest_routes_test_cb},
    {"GET", "/v1/routes/{id}", sg__rest_route_get_cb},
    {"PUT", "/v1/routes/{id}", sg__rest_route_put_cb},
    {"DELETE", "/v1/routes/{id}", sg__rest_route_delete_cb},
    {"GET", "/v1/connectors", sg__rest_connectors_list_cb},
    {"GET", "/v1/connectors/{name}", sg__rest_connector_get_cb},
    {"POST", "/v1/connectors/{name}/pause", sg__rest_connector_pause_cb},
    {"POST", "/v1/connectors/{name}/resume", sg__rest_connector_resume_cb},
    {"GET", "/v1/inbound/rules", sg__rest_inrules_list_cb},
    {"POST", "/v1/inbound/rules", sg__rest_inrules_add_cb},
    {"PUT", "/v1/inbound/rules", sg__rest_inrules_replace_cb},
    {"GET", "/v1/inbound/rules/{id}", sg__rest_inrules_get_cb},
    {"PUT", "/v1/inbound/rules/{id}", sg__rest_inrules_set_cb},
    {"DELETE", "/v1/inbound/rules/{id}", sg__rest_inrules_delete_cb},
    {"GET", "/healthz", healthz_cb},
    {"GET", "/readyz", readyz_cb},
    {"GET", "/metrics", sg__rest_metrics_cb},
    {"GET", "/v1/openapi.json", sg__rest_openapi_cb},
    {"POST", "/v1/connectors/{name}/reconnect",
     sg__rest_connector_reconnect_cb},
    {"GET", "/v1/queues", sg__rest_queues_list_cb},
    {"GET", "/v1/queues/{name}", sg__rest_queue_get_cb},
    {"POST", "/v1/queues/{name}/purge", sg__rest_queue_purge_cb},
    {"POST", "/v1/messages/{id}/retry", sg__rest_message_retry_cb},
    {"POST", "/v1/messages/{id}/cancel", sg__rest_message_admin_cancel_cb},
    {"GET", "/v1/hooks/provider/{connector}", sg__rest_provider_hook_cb},
    {"POST", "/v1/hooks/provider/{connector}", sg__rest_provider_hook_cb},
};

int sg_rest_register(sg_http_server_t *srv, sg_engine_t *engine,
                     sg_rest_t **out) {
  if (srv == NULL || engine == NULL || out == NULL)
    return SG_EINVAL;
  sg_rest_json_init();
  sg_rest_t *rest = sg_calloc(1, sizeof(*rest));
  if (rest == NULL)
    return SG_ENOMEM;
  rest->srv = srv;
  rest->engine = engine;
  rest->segs = sg_malloc(sizeof(*rest->segs));
  if (rest->segs == NULL) {
    sg_free(rest);
    return SG_ENOMEM;
  }
  for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++) {
    int rc = sg_http_server_route(srv, routes[i].method, routes[i].pattern,
                                  routes[i].cb, rest);
    if (rc != 0) {
      sg_rest_free(rest);
      return rc;
    }
  }
  int crc = sg__rest_contacts_register(rest); /* contacts, lists, templates */
  if (crc == 0)
    crc = sg__rest_campaigns_register(rest); /* campaigns */
  if (crc == 0)
    crc = sg__rest_traffic_register(rest); /* GET /v1/stats/traffic */
  if (crc == 0)
    crc = sg__rest_nodes_register(rest); /* GET /v1/nodes */
  if (crc != 0) {
    sg_rest_free(rest);
    return crc;
  }
  int wrc = sg__web_register(srv, engine, &rest->web); /* the web page */
  if (wrc != 0) {
    sg_rest_free(rest);
    return wrc;
  }
  *out = rest;
  return 0;
}

void sg_rest_free(sg_rest_t *rest) {
  if (rest == NULL)
    return;
  sg__rest_metrics_ops_free(rest);
  sg__web_free(rest->web);
  sg_free(rest->segs);
  sg_free(rest);
}
