/* reload.h - POST /v1/admin/reload: puts the configuration file in force
 * again while the gateway runs (engine/reload.h says what changes).
 *
 * The REST API does not read files: whoever runs the gateway (cli/serve.c)
 * gives the function that loads the file and reloads the engine, and this
 * route answers with what it reports. Admin keys only (403
 * admin_required).
 */
#ifndef SG_INGRESS_REST_RELOAD_H
#define SG_INGRESS_REST_RELOAD_H

#include "ingress/http_server.h"
#include "ingress/rest/rest.h"

/* The answer of one reload: an HTTP status (200 applied, 422 refused,
 * 409 another reload running, 503 not possible now) and its JSON body. */
typedef void (*sg_rest_reload_answer_cb)(void *ud, unsigned status,
                                         const char *body);

/* Loads and applies the configuration, then calls answer(ud, ...) once,
 * on the loop thread (possibly inside the call). */
typedef void (*sg_rest_reload_fn)(void *data, sg_rest_reload_answer_cb answer,
                                  void *ud);

typedef struct sg_rest_reload sg_rest_reload_t;

/* Adds POST /v1/admin/reload to srv, answered through fn(data, ...) after
 * the admin check of rest's engine; *out is the route's state, freed with
 * sg_rest_reload_free after srv. rest and data must outlive srv's
 * requests. Returns 0, SG_EINVAL, SG_ENOMEM or an SG_E* code of
 * sg_http_server_route (nothing to free then). */
int sg_rest_reload_register(sg_http_server_t *srv, sg_rest_t *rest,
                            sg_rest_reload_fn fn, void *data,
                            sg_rest_reload_t **out);

/* NULL is a no-op. */
void sg_rest_reload_free(sg_rest_reload_t *r);

#endif
