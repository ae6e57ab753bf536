/* route.c - choosing the connector of a message from the configured routes.
 *
 * A route matches a recipient whose E.164 number starts with its prefix
 * and, when it names them, the account and the sender. Among the routes
 * that match, the longest prefix wins; at equal length a route that names
 * the account, then one that names the sender, is more specific; at equal
 * specificity the first in the file wins (routes are ordered rules). A
 * route lists connectors: with the failover strategy the first that is up
 * takes the message, with weights the ones up share it by weight.
 *
 * Pure decisions over the configuration and the connectors' current state:
 * this file must never call the store or a connector.
 */
#include <string.h>

#include "engine/engine_int.h"

static bool route_matches(const sg_config_route_t *r, const char *recipient,
                          const char *account, const char *sender) {
  size_t pl = strlen(r->prefix);
  if (strncmp(recipient, r->prefix, pl) != 0)
    return false;
  if (r->account != NULL && (account == NULL || strcmp(r->account, account)))
    return false;
  if (r->sender != NULL && (sender == NULL || strcmp(r->sender, sender)))
    return false;
  return true;
}

static long route_score(const sg_config_route_t *r) {
  return (long)strlen(r->prefix) * 4 + (r->account ? 2 : 0) +
         (r->sender ? 1 : 0);
}

int sg__route_find(const sg_engine_t *e, const char *recipient,
                   const char *account, const char *sender) {
  int best = -1;
  long best_score = -1;
  for (size_t i = 0; i < e->cfg->n_routes; i++) {
    const sg_config_route_t *r = &e->cfg->routes[i];
    if (!route_matches(r, recipient, account, sender))
      continue;
    long s = route_score(r);
    if (s > best_score) {
      best = (int)i;
      best_score = s;
    }
  }
  return best;
}

static uint64_t rng_next(sg_engine_t *e) {
  /* xorshift64: spreading load needs no cryptographic quality. */
  uint64_t x = e->rng;
  x ^= x << 13;
  x ^= x >> 7;
  x ^= x << 17;
  e->rng = x;
  return x;
}

static bool conn_up(const sg_engine_t *e, size_t i) {
  return e->conns[i].state == SG_CONN_UP;
}

/* By weight among the entries of r (only those up when up_only). Returns
 * an entry index, or -1 when no entry qualifies. */
static int pick_weighted(sg_engine_t *e, const sg_config_route_t *r,
                         bool up_only) {
  uint64_t total = 0;
  for (size_t k = 0; k < r->n_connectors; k++)
    if (!up_only || conn_up(e, r->connector_index[k]))
      total += r->weights[k];
  if (total == 0)
    return -1;
  uint64_t x = rng_next(e) % total;
  for (size_t k = 0; k < r->n_connectors; k++) {
    if (up_only && !conn_up(e, r->connector_index[k]))
      continue;
    if (x < r->weights[k])
      return (int)k;
    x -= r->weights[k];
  }
  return -1;
}

size_t sg__route_pick(sg_engine_t *e, int ri) {
  const sg_config_route_t *r = &e->cfg->routes[ri];
  if (r->strategy == SG_CONFIG_STRATEGY_WEIGHTED) {
    int k = pick_weighted(e, r, true);
    if (k < 0)
      k = pick_weighted(e, r, false);
    return r->connector_index[k < 0 ? 0 : k];
  }
  for (size_t k = 0; k < r->n_connectors; k++)
    if (conn_up(e, r->connector_index[k]))
      return r->connector_index[k];
  return r->connector_index[0];
}

int sg__route_alternative(const sg_engine_t *e, const char *recipient,
                          const char *sender, size_t from) {
  int best = -1;
  long best_score = -1;
  size_t at = 0;
  for (size_t i = 0; i < e->cfg->n_routes; i++) {
    const sg_config_route_t *r = &e->cfg->routes[i];
    /* The account is not known here (a claimed part does not carry it):
     * a route naming one still counts, as it lists `from`. */
    if (!route_matches(r, recipient, r->account, sender))
      continue;
    for (size_t k = 0; k < r->n_connectors; k++) {
      if (r->connector_index[k] == from && route_score(r) > best_score) {
        best = (int)i;
        best_score = route_score(r);
        at = k;
      }
    }
  }
  if (best < 0)
    return -1;
  const sg_config_route_t *r = &e->cfg->routes[best];
  for (size_t step = 1; step < r->n_connectors; step++) {
    size_t idx = r->connector_index[(at + step) % r->n_connectors];
    if (idx != from && conn_up(e, idx))
      return (int)idx;
  }
  return -1;
}
