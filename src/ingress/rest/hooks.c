/* hooks.c - the receipt endpoint of HTTP providers,
 * GET|POST /v1/hooks/provider/{connector}: the request goes to the
 * connector of that name (connector/http_conn.h), which checks its secret
 * and reads it by the configured mapping; the answer waits until the
 * engine stored the receipt (200), or says why it was refused (4xx with
 * the JSON error naming the field) or could not be stored (503, so that
 * the provider sends it again).
 *
 * No API key: providers authenticate with the connector's shared secret
 * or HMAC. It must never answer 2xx before the store committed.
 */
#include <string.h>

#include "connector/http_conn.h"
#include "core/error.h"
#include "ingress/rest/rest_int.h"

static const char *req_header(void *data, const char *name) {
  return sg_http_req_header(data, name);
}

static void stored_cb(void *data, bool stored) {
  sg_http_req_t *req = data;
  static const char ok[] = "{\"status\":\"stored\"}";
  if (stored)
    sg_http_respond(req, 200, "application/json", ok, sizeof ok - 1, NULL);
  else
    sg__rest_error(req, 503, "store_failed",
                   "the receipt could not be stored; send it again", NULL, 5);
}

void sg__rest_provider_hook_cb(sg_http_req_t *req, void *data) {
  sg_rest_t *rest = data;
  const char *name = sg_http_req_param(req, "connector");
  sg_connector_t *c = sg_engine_connector(rest->engine, name);
  if (c == NULL || !sg_http_conn_is(c)) {
    sg__rest_error(req, 404, "not_found",
                   "no connector of type http has this name", "connector", 0);
    return;
  }
  sg_http_hook_req_t q;
  memset(&q, 0, sizeof q);
  q.method = sg_http_req_method(req);
  q.query = sg_http_req_query_raw(req);
  q.content_type = sg_http_req_header(req, "Content-Type");
  q.body = sg_http_req_body(req, &q.body_len);
  q.header = req_header;
  q.header_data = req;
  sg_http_hook_err_t err;
  int rc = sg_http_conn_receipt(c, &q, stored_cb, req, &err);
  if (rc != 0)
    sg__rest_error(req, err.status ? err.status : 400,
                   err.code ? err.code : "invalid_request", err.message,
                   err.field[0] ? err.field : NULL, err.status == 503 ? 5 : 0);
}
