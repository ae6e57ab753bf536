/* route.c - the engine's side of routing: the table in use (routes.h),
 * built from the configuration at creation and replaced at run time by
 * route_admin.c, and the connectors' state that decides which of a route's
 * connectors may take a part now (up and not paused).
 *
 * Pure decisions over the table and the connectors' current state: this
 * file must never call the store or a connector.
 */
#include <string.h>

#include "engine/engine_int.h"

bool sg__conn_usable(const sg_engine_t *e, size_t i) {
  if (e->conns[i].remote) /* bound by another node */
    return !e->conns[i].paused && !e->conns[i].retired &&
           sg__nodes_conn_live(e, i);
  return e->conns[i].state == SG_CONN_UP && !e->conns[i].paused &&
         !e->conns[i].retired;
}

static bool usable_cb(size_t conn, void *data) {
  return sg__conn_usable(data, conn);
}

sg_config_msg_type_t sg__route_type(sg_encoding_t enc) {
  switch (enc) {
  case SG_ENC_UCS2:
    return SG_CONFIG_MSG_UNICODE;
  case SG_ENC_8BIT:
    return SG_CONFIG_MSG_BINARY;
  default:
    return SG_CONFIG_MSG_TEXT;
  }
}

int sg__routes_init(sg_engine_t *e) {
  e->routes_env = (sg_routes_env_t){e->cfg->connectors, e->cfg->n_connectors,
                                    e->cfg->accounts, e->cfg->n_accounts};
  e->routes_next_id = (int64_t)e->cfg->n_routes + 1;
  return sg_routes_from_config(e->cfg, &e->routes_env, &e->routes);
}

int sg__route_find(const sg_engine_t *e, const char *recipient,
                   const char *account, const char *sender,
                   sg_config_msg_type_t type) {
  sg_route_msg_t m = {recipient, account, sender, type};
  return sg_routes_find(e->routes, &m);
}

size_t sg__route_pick(sg_engine_t *e, int ri, const char *recipient) {
  return sg_routes_pick(e->routes, (size_t)ri, recipient, usable_cb, e,
                        &e->rng);
}

int sg__route_alternative(const sg_engine_t *e, const char *recipient,
                          const char *sender, size_t from) {
  return sg_routes_alternative(e->routes, recipient, sender, from, usable_cb,
                               (void *)e);
}

bool sg__route_has_alternative(const sg_engine_t *e, size_t ci) {
  return sg_routes_has_alternative(e->routes, ci, usable_cb, (void *)e);
}
