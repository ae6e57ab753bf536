/* openapi.h - the OpenAPI 3.1 description of the REST API, docs/openapi.json
 * compiled into the binary at build time (cmake/embed_file.cmake), and its
 * handler, GET /v1/openapi.json.
 */
#ifndef SG_INGRESS_REST_OPENAPI_H
#define SG_INGRESS_REST_OPENAPI_H

#include <stddef.h>

#include "ingress/http_server.h"

/* The document's octets (NUL-terminated) and their number; generated. */
extern const char sg__rest_openapi_doc[];
extern const size_t sg__rest_openapi_doc_len;

/* The document as served: *len octets of JSON, static, never NULL. Any
 * thread. */
const char *sg_rest_openapi(size_t *len);

/* GET /v1/openapi.json: answers the document, no key needed (it holds no
 * secret and tells a client how to call the API). */
void sg__rest_openapi_cb(sg_http_req_t *req, void *data);

#endif
