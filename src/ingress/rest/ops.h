/* ops.h - the REST handlers of the operators' actions (ops.c), admin keys
 * only:
 *   POST /v1/connectors/{name}/reconnect  drop the binds, connect again now
 *   GET  /v1/queues                        every connector's queue
 *   GET  /v1/queues/{name}                 one
 *   POST /v1/queues/{name}/purge           {"confirm": name, "reason"}
 *   POST /v1/messages/{id}/retry           a message that ended badly, again
 *   POST /v1/messages/{id}/cancel          any account's unsent message
 * Not a public header: only the REST files include it.
 */
#ifndef SG_INGRESS_REST_OPS_H
#define SG_INGRESS_REST_OPS_H

#include "ingress/http_server.h"

void sg__rest_connector_reconnect_cb(sg_http_req_t *req, void *data);
void sg__rest_queues_list_cb(sg_http_req_t *req, void *data);
void sg__rest_queue_get_cb(sg_http_req_t *req, void *data);
void sg__rest_queue_purge_cb(sg_http_req_t *req, void *data);
void sg__rest_message_retry_cb(sg_http_req_t *req, void *data);
void sg__rest_message_admin_cancel_cb(sg_http_req_t *req, void *data);

#endif
