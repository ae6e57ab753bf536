/* http_conn.c - the engine's side of a connector of type http: maps its
 * configuration onto connector/http_conn.h and creates it. The engine then
 * drives it through connector.h like any other connector; its receipts
 * come through the REST receipt endpoint (ingress/rest/hooks.c) into the
 * connector and from there through the usual dlr path.
 *
 * It must never reach into the connector beyond its public header.
 */
#include "connector/http_conn.h"
#include "core/error.h"
#include "engine/engine_int.h"

int sg__http_conn_new(sg_engine_t *e, sg__conn_t *c,
                      const sg_conn_callbacks_t *cbs) {
  const sg_config_connector_t *cc = c->cfg;
  sg_http_conn_config_t hc;
  sg_http_conn_config_default(&hc);
  hc.name = cc->name;
  hc.http = &cc->http;
  hc.window = cc->window;
  hc.tps = cc->tps;
  hc.timeout_ms = cc->response_timeout_ms;
  hc.connect_timeout_ms = cc->bind_timeout_ms;
  hc.max_retries = cc->max_retries;
  hc.retry_min_ms = cc->reconnect_min_ms;
  hc.retry_max_ms = cc->reconnect_max_ms;
  /* While DOWN the provider is probed on the reconnect back-off. */
  hc.probe_min_ms = cc->reconnect_min_ms;
  hc.probe_max_ms = cc->reconnect_max_ms;
  return sg_http_conn_new(e->loop, &hc, cbs, c, &c->c);
}
