/* rest.h - the REST API v1 of smsgate (DESIGN.md "REST API (v1)"): JSON over
 * the HTTP server of ingress/http_server.h, every operation handed to the
 * engine (engine/engine.h).
 *
 * Routes added by sg_rest_register:
 *   POST   /v1/messages           send (202 after the store committed)
 *   POST   /v1/messages/preview   encoding and parts of a text; stores nothing
 *   GET    /v1/messages           list, filtered, cursor-paginated
 *   GET    /v1/messages/{id}      one message: status, parts, events
 *   DELETE /v1/messages/{id}      cancel a message not yet sent
 *   GET    /healthz               200 {"status": "ok"} when messages are taken
 *                                  and sent; 200 "degraded" when they are taken
 *                                  but no connector is up; 503 "unavailable"
 *                                  when the engine or the store is not working
 *                                  (no authentication)
 *   GET    /metrics               Prometheus text, names smsgate_* (no
 *                                  authentication)
 * Every /v1 route needs "Authorization: Bearer <api key>" (401 without a
 * valid one). Errors are {"error": {"code", "message", "field"}} with 400
 * (not JSON), 401, 404, 409 (idempotency key reused for another request,
 * or a message already sent), 413 (body over http.max_body, answered by the
 * server), 422 (a field), 429 (over a limit: Retry-After), 503 (store or
 * engine unavailable: Retry-After). A request that fails changes nothing.
 *
 * Bodies (parse.h has every request field and its range):
 *   202 of a send, one entry per recipient, in order (the engine's body,
 *   replayed as it was for a repeated Idempotency-Key, with the header
 *   Idempotent-Replayed: true):
 *     {"batch_id", "messages": [{"id", "to", "parts", "encoding",
 *      "status"} or {"input", "error": {"code", "message"}}, ...]}
 *   a message (GET, DELETE): {"id", "batch_id", "status", "to", "from",
 *     "text" (or "payload_hex"), "encoding", "parts" (a count),
 *     "error_code", "client_ref", "callback_url", "priority", "dlr",
 *     "send_at", "expires_at", "created_at", "updated_at", "segments":
 *     [{"seq", "status", "connector", "smsc_id", "attempts", "error_code",
 *     "error", "next_attempt_at", "updated_at"}], "events": [{"status",
 *     "part" (null: the message), "error_code", "detail", "timestamp"}]}
 *     with times in RFC 3339 UTC to the millisecond, null when unset;
 *   a list: {"data": [messages without segments and events],
 *     "next_cursor": id or null};
 *   a preview: sg_rest_segments_json below.
 *
 * Everything runs on the loop of the server and the engine, which must be
 * the same loop.
 */
#ifndef SG_INGRESS_REST_REST_H
#define SG_INGRESS_REST_REST_H

#include <jansson.h>

#include "core/segment.h"
#include "engine/engine.h"
#include "ingress/http_server.h"

typedef struct sg_rest sg_rest_t;

/* Adds every route above to `srv`, served by `engine` (both borrowed: they
 * must outlive the returned handle, and the server must not receive
 * requests after it is freed). Call before the loop serves traffic.
 * Returns 0 and sets *out (free it with sg_rest_free), SG_EINVAL for a
 * NULL argument, SG_ENOMEM, or the error of sg_http_server_route (routes
 * already added stay, pointing at a handle that is then freed: free the
 * server too). Also makes jansson allocate through core/alloc.h
 * (sg_rest_json_init in ingress/rest/parse.h). */
int sg_rest_register(sg_http_server_t *srv, sg_engine_t *engine,
                     sg_rest_t **out);

/* Frees the handle. Call it after sg_http_server_free (so no handler runs
 * again) and after sg_engine_stop's callback has fired (so no engine
 * callback of a request is still due). NULL is a no-op. */
void sg_rest_free(sg_rest_t *rest);

/* The encoding and parts of a segmented text as JSON, the body of
 * POST /v1/messages/preview and the output of `smsgate segments`:
 *   {"encoding", "national": null | {"locking", "single"}, "characters",
 *    "units", "replaced", "parts", "segments": [{"udh", "user_data",
 *    "tp_ud", "tp_udl", "units", "characters"}, ...]}
 * with hex strings for the octets (TS 23.040 TP-UD packed with its fill
 * bits). Returns a new reference, or NULL when out of memory. */
json_t *sg_rest_segments_json(const sg_segments_t *s);

#endif
