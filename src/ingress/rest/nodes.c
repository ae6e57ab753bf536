/* nodes.c - GET /v1/nodes (admin): the smsgate nodes that share this
 * node's database, as its latest heartbeat read them (engine/nodes.c):
 * each with its state (alive or dead), start, last heartbeat, epoch, the
 * connectors it binds and the parts it holds leased; and the same figures
 * as the smsgate_node_* families of /metrics.
 *
 * It reads the engine's copy, never the store: a scrape or a page costs no
 * database round trip, and the list is at most one heartbeat old (as_of
 * says when it was read). Node names are checked when a node starts
 * ([A-Za-z0-9_.-]), so they are printed as labels as they are.
 */
#include "ingress/rest/nodes.h"

#include <string.h>

#include "engine/engine.h"

/* The comma-separated list as a JSON array. */
static json_t *names(const char *list) {
  json_t *a = json_array();
  for (const char *p = list; a != NULL && *p != '\0';) {
    const char *end = strchr(p, ',');
    size_t len = end != NULL ? (size_t)(end - p) : strlen(p);
    if (len > 0)
      json_array_append_new(a, json_stringn(p, len));
    if (end == NULL)
      break;
    p = end + 1;
  }
  return a;
}

static json_t *node_json(const sg_engine_node_t *n, int64_t as_of) {
  int64_t age = as_of - n->heartbeat_ms;
  return json_pack("{s:s, s:s, s:b, s:I, s:o, s:o, s:I, s:s, s:s, s:o, s:I}",
                   "name", n->name, "state", n->alive ? "alive" : "dead",
                   "self", n->self, "epoch", (json_int_t)n->epoch, "started",
                   sg__rest_time_json(n->started_ms), "last_heartbeat",
                   sg__rest_time_json(n->heartbeat_ms), "heartbeat_age_ms",
                   (json_int_t)(age > 0 ? age : 0), "version", n->version,
                   "address", n->address, "connectors", names(n->connectors),
                   "leased_parts", (json_int_t)n->leased_parts);
}

static void nodes_cb(sg_http_req_t *req, void *data) {
  sg_rest_t *rest = data;
  if (sg__rest_admin(rest, req) == NULL)
    return;
  sg_engine_nodes_t v;
  sg_engine_nodes(rest->engine, &v);
  json_t *arr = json_array();
  for (size_t i = 0; arr != NULL && i < v.n; i++)
    if (json_array_append_new(arr, node_json(&v.nodes[i], v.as_of_ms)) != 0) {
      json_decref(arr);
      arr = NULL;
    }
  sg__rest_json(
      req, 200,
      arr == NULL ? NULL
                  : json_pack("{s:s, s:I, s:I, s:o, s:I, s:o}", "self", v.self,
                              "epoch", (json_int_t)v.epoch, "dead_after_ms",
                              (json_int_t)v.dead_after_ms, "as_of",
                              sg__rest_time_json(v.as_of_ms), "released_parts",
                              (json_int_t)v.released, "nodes", arr));
}

int sg__rest_nodes_register(sg_rest_t *rest) {
  return sg_http_server_route(rest->srv, "GET", "/v1/nodes", nodes_cb, rest);
}

static void family(sg__rest_buf_t *b, const char *name, const char *type,
                   const char *help) {
  sg__rest_buf_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name,
                      type);
}

void sg__rest_metrics_nodes(sg__rest_buf_t *b, sg_rest_t *rest) {
  sg_engine_nodes_t v;
  sg_engine_nodes(rest->engine, &v);
  if (!v.enabled)
    return;
  family(b, "smsgate_node_alive", "gauge",
         "1 while the node's heartbeat is within dead_after, else 0.");
  for (size_t i = 0; i < v.n; i++)
    sg__rest_buf_printf(b, "smsgate_node_alive{node=\"%s\"} %d\n",
                        v.nodes[i].name, v.nodes[i].alive ? 1 : 0);
  family(b, "smsgate_node_heartbeat_age_seconds", "gauge",
         "Time since the node's last heartbeat, when this node last read "
         "it. A lone node on SQLite beats once a minute while idle, so "
         "its age may pass dead_after while it is alive: alert on "
         "smsgate_node_alive.");
  for (size_t i = 0; i < v.n; i++) {
    int64_t age = v.as_of_ms - v.nodes[i].heartbeat_ms;
    sg__rest_buf_printf(b,
                        "smsgate_node_heartbeat_age_seconds{node=\"%s\"} "
                        "%.3f\n",
                        v.nodes[i].name, age > 0 ? (double)age / 1000.0 : 0.0);
  }
  family(b, "smsgate_node_leased_parts", "gauge",
         "Parts the node holds leased ('sending') under its current epoch.");
  for (size_t i = 0; i < v.n; i++)
    sg__rest_buf_printf(b, "smsgate_node_leased_parts{node=\"%s\"} %llu\n",
                        v.nodes[i].name,
                        (unsigned long long)v.nodes[i].leased_parts);
  family(b, "smsgate_node_released_parts_total", "counter",
         "Parts of dead nodes this node put back in the queue.");
  sg__rest_buf_printf(b, "smsgate_node_released_parts_total %llu\n",
                      (unsigned long long)v.released);
  family(b, "smsgate_node_heartbeats_failed_total", "counter",
         "Heartbeats this node's store failed to write.");
  sg__rest_buf_printf(b, "smsgate_node_heartbeats_failed_total %llu\n",
                      (unsigned long long)v.beats_failed);
  family(b, "smsgate_node_heartbeats_late_total", "counter",
         "Heartbeats of this node written more than dead_after after the one "
         "before (the other nodes may have given its leases back).");
  sg__rest_buf_printf(b, "smsgate_node_heartbeats_late_total %llu\n",
                      (unsigned long long)v.beats_late);
  family(b, "smsgate_node_claims_held", "gauge",
         "1 while this node claims nothing: its heartbeat is late, or came "
         "late and the next one is not written yet.");
  sg__rest_buf_printf(b, "smsgate_node_claims_held %d\n",
                      v.claims_held ? 1 : 0);
}
