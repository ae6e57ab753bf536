/* reload.c - POST /v1/admin/reload (rest/reload.h): the admin check, then
 * the reload function the program gave, whose JSON answer goes back as it
 * is.
 *
 * This file must never read a configuration file or change the engine
 * itself; it only passes the request on and the answer back.
 */
#include "ingress/rest/reload.h"

#include <string.h>

#include "core/alloc.h"
#include "core/error.h"
#include "ingress/rest/rest_int.h"

struct sg_rest_reload {
  sg_rest_t *rest;
  sg_rest_reload_fn fn;
  void *data;
};

static void answer_cb(void *ud, unsigned status, const char *body) {
  sg_http_req_t *req = ud;
  sg_http_respond(req, status, "application/json", body,
                  body != NULL ? strlen(body) : 0, NULL);
}

static void reload_cb(sg_http_req_t *req, void *data) {
  sg_rest_reload_t *h = data;
  if (sg__rest_admin(h->rest, req) == NULL)
    return;
  h->fn(h->data, answer_cb, req);
}

int sg_rest_reload_register(sg_http_server_t *srv, sg_rest_t *rest,
                            sg_rest_reload_fn fn, void *data,
                            sg_rest_reload_t **out) {
  if (srv == NULL || rest == NULL || fn == NULL || out == NULL)
    return SG_EINVAL;
  sg_rest_reload_t *h = sg_malloc(sizeof *h);
  if (h == NULL)
    return SG_ENOMEM;
  *h = (sg_rest_reload_t){rest, fn, data};
  int rc = sg_http_server_route(srv, "POST", "/v1/admin/reload", reload_cb, h);
  if (rc != 0) {
    sg_free(h);
    return rc;
  }
  *out = h;
  return 0;
}

void sg_rest_reload_free(sg_rest_reload_t *r) {
  sg_free(r);
}
