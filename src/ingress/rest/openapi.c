/* openapi.c - serves the OpenAPI 3.1 description of the REST API at
 * GET /v1/openapi.json. The document is docs/openapi.json, embedded at
 * build time, so the file in the repository and the one served are the
 * same; tests/unit/ingress/test_openapi.c checks it against the live route
 * table. This file must never build or change the document at run time.
 */
#include "ingress/rest/openapi.h"

const char *sg_rest_openapi(size_t *len) {
  if (len != NULL)
    *len = sg__rest_openapi_doc_len;
  return sg__rest_openapi_doc;
}

void sg__rest_openapi_cb(sg_http_req_t *req, void *data) {
  (void)data;
  sg_http_respond(req, 200, "application/json", sg__rest_openapi_doc,
                  sg__rest_openapi_doc_len, NULL);
}
