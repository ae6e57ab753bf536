/* store_nodes.c - the public side of store/nodes.h: this node's identity,
 * copied at open; the heartbeat request, checked, copied and queued on the
 * backend; and its callback when it comes back.
 *
 * Like the other store_*.c fronts, it must never touch the database or call
 * a callback from inside sg_store_node_beat.
 */
#include "store/nodes_int.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "core/error.h"

static bool name_ok(const char *s) {
  size_t n = strlen(s);
  if (n == 0 || n > SG_STORE_NODE_NAME_MAX)
    return false;
  return strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                   "0123456789_.-") == n;
}

static void copy(char *dst, size_t cap, const char *src) {
  snprintf(dst, cap, "%s", src != NULL ? src : "");
}

int sg__store_node_init(sg_store_t *st, const sg_store_config_t *cfg) {
  memset(&st->node, 0, sizeof st->node);
  st->cfg.node_name = st->cfg.node_version = st->cfg.node_address = NULL;
  if (cfg->node_name == NULL)
    return 0;
  if (!name_ok(cfg->node_name))
    return SG_EINVAL;
  copy(st->node.name, sizeof st->node.name, cfg->node_name);
  copy(st->node.version, sizeof st->node.version, cfg->node_version);
  copy(st->node.address, sizeof st->node.address, cfg->node_address);
  return 0;
}

void sg__store_node_owner(const char *name, int64_t epoch, char *out,
                          size_t cap) {
  snprintf(out, cap, "%s#%" PRId64, name, epoch);
}

const char *sg_store_node_name(const sg_store_t *st) {
  return st != NULL ? st->node.name : "";
}

int64_t sg_store_node_epoch(const sg_store_t *st) {
  return st != NULL ? st->node.epoch : 0;
}

int sg_store_node_beat(sg_store_t *st, const sg_store_beat_t *b,
                       sg_store_beat_cb cb, void *data) {
  if (st == NULL || b == NULL || b->dead_after_ms <= 0 ||
      st->node.name[0] == '\0')
    return SG_EINVAL;
  sg__store_req_t *r;
  void *ext = NULL;
  int rc = sg__store_req_begin(st, SG__REQ_NODE_BEAT, (sg__any_cb)cb, data,
                               sizeof(sg__nodes_req_t), &r, &ext);
  if (rc < 0)
    return rc;
  sg__nodes_req_t *q = ext;
  bool ok = true;
  q->in.dead_after_ms = b->dead_after_ms;
  q->in.connectors = sg__arena_strdup(
      &r->arena, b->connectors != NULL ? b->connectors : "", &ok);
  q->in.address = sg__arena_strdup(&r->arena, b->address, &ok);
  r->in.nodes = q;
  return sg__store_req_queue(st, r, ok);
}

void sg__nodes_complete(sg_store_t *st, sg__store_req_t *r) {
  sg__nodes_req_t *q = r->in.nodes;
  ((sg_store_beat_cb)r->cb)(st, r->status, r->status == 0 ? &q->out : NULL,
                            r->data);
}
