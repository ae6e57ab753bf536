/* config_node.c - the `node` section (this smsgate among several on one
 * PostgreSQL database: its name, how often it says it is alive and after
 * how long a silent node counts as dead) and the `node` / `nodes` keys of
 * a connector that say which nodes bind it (docs/scaling.md).
 *
 * Like config_schema.c it only reads and checks; membership and leases are
 * the store's and the engine's (store/pg_nodes.c, engine/nodes.c). It must
 * never hold state of its own.
 */
#include <stddef.h>
#include <string.h>
#include <unistd.h>

#include "core/config_int.h"

#define N sg_config_node_t
static const sg__cfg_field_t node_fields[] = {
    {"name", SG__CFG_T_NAME, 0, offsetof(N, name), 0, 1, 64, NULL, NULL},
    {"heartbeat", SG__CFG_T_DURATION, 0, offsetof(N, heartbeat_ms), 0, 100,
     60000, NULL, NULL},
    {"dead_after", SG__CFG_T_DURATION, 0, offsetof(N, dead_after_ms), 0, 500,
     3600000, NULL, NULL},
};
#undef N

void sg__cfg_init_node(void *obj) {
  sg_config_node_t *n = obj;
  n->name = NULL;
  n->heartbeat_ms = 2000;
  n->dead_after_ms = 10000;
}

/* A node is dead after dead_after without a heartbeat: one late heartbeat
 * must not be enough to count a live node as dead. */
static void check_node(sg__cfg_ctx_t *c, void *obj, const sg__cfg_node_t *map) {
  const sg_config_node_t *n = obj;
  const sg__cfg_node_t *at = sg__cfg_map_get(map, "dead_after");
  if (at == NULL)
    at = sg__cfg_map_get(map, "heartbeat");
  if ((uint64_t)n->dead_after_ms < 2ull * n->heartbeat_ms &&
      (at == NULL || !at->reported))
    sg__cfg_error(c, at != NULL ? at : map,
                  "dead_after must be at least twice heartbeat");
}

const sg__cfg_section_t sg__cfg_node_section = {
    node_fields, sizeof node_fields / sizeof node_fields[0],
    sizeof(sg_config_node_t), sg__cfg_init_node, check_node};

void sg__cfg_check_connector_nodes(sg__cfg_ctx_t *c, sg_config_connector_t *k,
                                   const sg__cfg_node_t *map) {
  const sg__cfg_node_t *list = sg__cfg_map_get(map, "nodes");
  if (k->node != NULL && list != NULL) {
    sg__cfg_error(c, list, "give either \"node\" or \"nodes\", not both");
    return;
  }
  for (size_t i = 0; i < k->n_nodes; i++)
    if (!sg__cfg_valid_name(k->nodes[i], strlen(k->nodes[i])))
      sg__cfg_error(c, sg__cfg_seq_at(list, i),
                    "expected a name of 1-64 letters, digits, '_', '.' or "
                    "'-', got \"%.64s\"",
                    k->nodes[i]);
}

bool sg_config_connector_on_node(const sg_config_connector_t *k,
                                 const char *node) {
  if (k->node == NULL && k->n_nodes == 0)
    return true;
  if (node == NULL)
    return false;
  if (k->node != NULL)
    return strcmp(k->node, node) == 0;
  for (size_t i = 0; i < k->n_nodes; i++)
    if (strcmp(k->nodes[i], node) == 0)
      return true;
  return false;
}

const char *sg_config_node_name(const sg_config_t *cfg, char *out, size_t cap) {
  if (cap == 0)
    return out;
  if (cfg != NULL && cfg->node.name != NULL) {
    size_t n = strlen(cfg->node.name);
    n = n < cap - 1 ? n : cap - 1;
    memcpy(out, cfg->node.name, n);
    out[n] = '\0';
    return out;
  }
  char host[256];
  if (gethostname(host, sizeof host) != 0 || host[0] == '\0')
    memcpy(host, "smsgate", sizeof "smsgate");
  host[sizeof host - 1] = '\0';
  size_t n = strlen(host);
  n = n < 64 ? n : 64;
  n = n < cap - 1 ? n : cap - 1;
  memcpy(out, host, n);
  out[n] = '\0';
  return out;
}
