/* nodes.c - this smsgate among several nodes on one database
 * (docs/scaling.md): the heartbeat written through the store every
 * node.heartbeat (store/nodes.h: the same write gives back the parts of
 * dead nodes), the node list it reads back for GET /v1/nodes and /metrics,
 * which connectors this node binds, and the share of a rate limit that is
 * this node's while others are alive.
 *
 * Limits are split, not counted in the database: an account's tps and a
 * connector bound by several nodes get limit / live nodes each, rounded
 * up, so that no message costs a database round trip for its limit. This
 * file must never block the loop nor touch a connector beyond retuning
 * its rate.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "connector/smpp_client.h"
#include "core/alloc.h"
#include "core/error.h"
#include "engine/engine_int.h"
#include "store/nodes.h"

typedef struct sg__nodes {
  bool busy;
  int64_t last_ms;    /* when the latest heartbeat was sent */
  int64_t last_ok_ms; /* when the latest heartbeat written was sent */
  /* The latest heartbeat came more than dead_after after the one before:
   * the other nodes may have given this node's leases back. No claims
   * until a heartbeat comes on time again. */
  bool reconciling;
  uint64_t late;    /* heartbeats that came late so, ever */
  int64_t as_of_ms; /* when the list below was read */
  sg_engine_node_t *list;
  size_t n, cap;
  size_t live; /* alive nodes in the list, at least 1 */
  uint64_t released;
  uint64_t failed;
  bool superseded;     /* logged once */
  uint32_t *conn_rate; /* per connector: the rate last applied */
  size_t conn_rate_n;
} sg__nodes_t;

static bool enabled(const sg_engine_t *e) {
  return sg_store_node_name(e->st)[0] != '\0';
}

/* Alone on its database (SQLite: one node a file): no other node reads
 * its heartbeat nor gives its leases back, so it beats once every
 * tun.idle_ms at most as often as node.heartbeat (for the list of GET
 * /v1/nodes and /metrics), and a late one never holds its claims back. */
static bool lone(const sg_engine_t *e) {
  return !sg_store_shared(e->st);
}

bool sg__nodes_holds(sg_engine_t *e, size_t i) {
  sg__conn_t *c = &e->conns[i];
  const char *me = sg_store_node_name(e->st);
  c->remote = !sg_config_connector_on_node(c->cfg, me[0] ? me : NULL);
  if (c->remote)
    sg__log(e, SG_ENGINE_LOG_INFO,
            "connector %s: bound by another node, not by this one (%s); "
            "its parts are routed here and sent there",
            c->cfg->name, me[0] ? me : "no node name");
  return !c->remote;
}

/* Whether name is an item of the comma-separated list. */
static bool in_list(const char *list, const char *name) {
  size_t n = strlen(name);
  for (const char *p = list; *p != '\0';) {
    const char *end = strchr(p, ',');
    size_t len = end != NULL ? (size_t)(end - p) : strlen(p);
    if (len == n && memcmp(p, name, n) == 0)
      return true;
    if (end == NULL)
      break;
    p = end + 1;
  }
  return false;
}

/* Live nodes that say they bind connector `name`. */
static size_t holders(const sg__nodes_t *s, const char *name) {
  size_t k = 0;
  for (size_t i = 0; i < s->n; i++)
    if (s->list[i].alive && in_list(s->list[i].connectors, name))
      k++;
  return k;
}

bool sg__nodes_conn_live(const sg_engine_t *e, size_t i) {
  const sg__nodes_t *s = e->nodes;
  if (s == NULL || s->as_of_ms == 0)
    return true; /* not known yet: route as the configuration says */
  return holders(s, e->conns[i].cfg->name) > 0;
}

static uint32_t share(uint32_t limit, size_t parts) {
  if (limit == 0 || parts <= 1)
    return limit;
  return (uint32_t)((limit + parts - 1) / parts);
}

uint32_t sg__nodes_share(const sg_engine_t *e, uint32_t limit) {
  return share(limit, e->nodes != NULL ? e->nodes->live : 1);
}

/* The comma-separated connectors this node binds. */
static void held(const sg_engine_t *e, char *out, size_t cap) {
  size_t used = 0;
  out[0] = '\0';
  for (size_t i = 0; i < e->n_conns; i++) {
    const sg__conn_t *c = &e->conns[i];
    if (c->remote || c->retired)
      continue;
    int n =
        snprintf(out + used, cap - used, "%s%s", used ? "," : "", c->cfg->name);
    if (n < 0 || (size_t)n >= cap - used) {
      out[used] = '\0';
      break;
    }
    used += (size_t)n;
  }
}

/* A connector that several nodes bind sends at its tps shared by those
 * of them that are alive. */
static void retune(sg_engine_t *e, sg__nodes_t *s) {
  if (s->conn_rate_n < e->n_conns) {
    uint32_t *r = sg_realloc(s->conn_rate, e->n_conns * sizeof *r);
    if (r == NULL)
      return;
    for (size_t i = s->conn_rate_n; i < e->n_conns; i++)
      r[i] = e->conns[i].cfg->tps;
    s->conn_rate = r;
    s->conn_rate_n = e->n_conns;
  }
  for (size_t i = 0; i < e->n_conns; i++) {
    sg__conn_t *c = &e->conns[i];
    if (c->remote || c->retired || c->c == NULL || c->cfg->tps == 0 ||
        c->cfg->n_nodes < 2 || c->cfg->type != SG_CONFIG_CONNECTOR_SMPP)
      continue;
    size_t k = holders(s, c->cfg->name);
    uint32_t want = share(c->cfg->tps, k > 0 ? k : 1);
    if (want == s->conn_rate[i])
      continue;
    if (sg_smpp_client_retune(c->c, want, c->cfg->max_retries) == 0) {
      s->conn_rate[i] = want;
      sg__log(e, SG_ENGINE_LOG_INFO,
              "connector %s: %u submits/s here, its tps %u shared by %zu "
              "live node(s)",
              c->cfg->name, want, c->cfg->tps, k > 0 ? k : 1);
    }
  }
}

static void copy_node(sg_engine_node_t *d, const sg_store_node_t *n,
                      const sg_store_t *st) {
  memset(d, 0, sizeof *d);
  snprintf(d->name, sizeof d->name, "%s", n->name ? n->name : "");
  d->epoch = n->epoch;
  d->started_ms = n->started_ms;
  d->heartbeat_ms = n->heartbeat_ms;
  snprintf(d->version, sizeof d->version, "%s", n->version ? n->version : "");
  snprintf(d->address, sizeof d->address, "%s", n->address ? n->address : "");
  snprintf(d->connectors, sizeof d->connectors, "%s",
           n->connectors ? n->connectors : "");
  d->leased_parts = n->leased_parts;
  d->alive = n->alive;
  d->self = strcmp(d->name, sg_store_node_name(st)) == 0 &&
            n->epoch == sg_store_node_epoch(st);
}

static void take_list(sg_engine_t *e, sg__nodes_t *s,
                      const sg_store_beat_res_t *res) {
  if (res->n > s->cap) {
    sg_engine_node_t *l = sg_realloc(s->list, res->n * sizeof *l);
    if (l == NULL)
      return; /* keep the previous list */
    s->list = l;
    s->cap = res->n;
  }
  s->n = res->n;
  s->live = 0;
  for (size_t i = 0; i < res->n; i++) {
    copy_node(&s->list[i], &res->nodes[i], e->st);
    s->live += s->list[i].alive;
  }
  if (s->live == 0)
    s->live = 1;
  s->as_of_ms = sg__now_ms(e);
}

int64_t sg__nodes_dead_after(int64_t dead_after_ms, int64_t heartbeat_ms,
                             int64_t own_gap_ms) {
  if (dead_after_ms <= 0 || heartbeat_ms < 0 || own_gap_ms <= heartbeat_ms)
    return dead_after_ms;
  int64_t late = own_gap_ms - heartbeat_ms;
  return late < INT64_MAX - dead_after_ms ? dead_after_ms + late : INT64_MAX;
}

bool sg__nodes_claim_ok(int64_t now_ms, int64_t last_ok_ms,
                        int64_t dead_after_ms, bool reconciling) {
  if (reconciling)
    return false;
  return last_ok_ms == 0 || now_ms - last_ok_ms <= dead_after_ms;
}

bool sg__nodes_may_claim(sg_engine_t *e) {
  const sg__nodes_t *s = e->nodes;
  if (s == NULL || !enabled(e) || lone(e))
    return true;
  return sg__nodes_claim_ok(sg__now_ms(e), s->last_ok_ms,
                            (int64_t)e->cfg->node.dead_after_ms,
                            s->reconciling);
}

/* A heartbeat written: whether it came so late that the others may have
 * declared this node dead, and so whether it may claim again. */
static void judge_self(sg_engine_t *e, sg__nodes_t *s,
                       const sg_store_beat_res_t *res) {
  bool held = !lone(e) && !sg__nodes_claim_ok(
                               sg__now_ms(e), s->last_ok_ms,
                               (int64_t)e->cfg->node.dead_after_ms,
                               s->reconciling);
  s->last_ok_ms = s->last_ms;
  if (res->gap_ms > (int64_t)e->cfg->node.dead_after_ms && !lone(e)) {
    s->late++;
    if (!s->reconciling)
      sg__log(e, SG_ENGINE_LOG_WARN,
              "this node's heartbeat came %lld ms after the one before, more "
              "than dead_after (%u ms): the other nodes may have given its "
              "leases back; no claims until its next heartbeat",
              (long long)res->gap_ms, e->cfg->node.dead_after_ms);
    s->reconciling = true;
    return;
  }
  if (s->reconciling)
    sg__log(e, SG_ENGINE_LOG_INFO,
            "this node's heartbeat is on time again: claims resume");
  s->reconciling = false;
  if (held)
    sg__poke_all(e);
}

static void beat_cb(sg_store_t *st, int status, const sg_store_beat_res_t *res,
                    void *data) {
  (void)st;
  sg_engine_t *e = data;
  sg__nodes_t *s = e->nodes;
  sg__op_end(e);
  s->busy = false;
  if (status != 0) {
    s->failed++;
    sg__log(e, SG_ENGINE_LOG_WARN, "node heartbeat: the store failed: %s",
            sg_strerror(status));
    sg__maybe_stopped(e);
    return;
  }
  judge_self(e, s, res);
  take_list(e, s, res);
  if (res->released > 0) {
    s->released += res->released;
    sg__log(e, SG_ENGINE_LOG_WARN,
            "%llu part(s) leased by dead nodes put back in the queue",
            (unsigned long long)res->released);
    sg__poke_all(e);
  }
  if (res->superseded && !s->superseded)
    sg__log(e, SG_ENGINE_LOG_ERROR,
            "another smsgate started under this node's name (%s): its "
            "claims fence this one's off; give each node its own node.name",
            sg_store_node_name(e->st));
  s->superseded = res->superseded;
  retune(e, s);
  sg__maybe_stopped(e);
}

void sg__nodes_tick(sg_engine_t *e) {
  if (!enabled(e))
    return;
  if (e->nodes == NULL && (e->nodes = sg_calloc(1, sizeof *e->nodes)) == NULL)
    return;
  sg__nodes_t *s = e->nodes;
  int64_t now = sg__now_ms(e);
  int64_t beat = (int64_t)e->cfg->node.heartbeat_ms;
  if (lone(e) && beat < (int64_t)e->tun.idle_ms)
    beat = (int64_t)e->tun.idle_ms;
  if (s->busy || (s->last_ms != 0 && now - s->last_ms < beat))
    return;
  if (s->last_ok_ms == 0)
    s->last_ok_ms = now; /* the node registered when the store opened */
  char conns[1024];
  held(e, conns, sizeof conns);
  /* Heartbeats go on the engine's tick: every heartbeat, rounded up to
   * whole ticks, is on time. */
  int64_t tick = e->tun.tick_ms > 0 ? (int64_t)e->tun.tick_ms : 1000;
  int64_t every = (beat + tick - 1) / tick * tick;
  sg_store_beat_t b = {sg__nodes_dead_after((int64_t)e->cfg->node.dead_after_ms,
                                            every, now - s->last_ok_ms),
                       conns, NULL};
  if (sg_store_node_beat(e->st, &b, beat_cb, e) != 0)
    return; /* busy or closing: the next tick tries again */
  s->busy = true;
  s->last_ms = now;
  sg__op_begin(e);
}

void sg__nodes_free(sg_engine_t *e) {
  if (e->nodes == NULL)
    return;
  sg_free(e->nodes->list);
  sg_free(e->nodes->conn_rate);
  sg_free(e->nodes);
  e->nodes = NULL;
}

void sg_engine_nodes(sg_engine_t *e, sg_engine_nodes_t *out) {
  memset(out, 0, sizeof *out);
  out->self = "";
  if (e == NULL || !enabled(e))
    return;
  out->enabled = true;
  out->self = sg_store_node_name(e->st);
  out->epoch = sg_store_node_epoch(e->st);
  out->dead_after_ms = e->cfg->node.dead_after_ms;
  const sg__nodes_t *s = e->nodes;
  if (s == NULL)
    return;
  out->as_of_ms = s->as_of_ms;
  out->released = s->released;
  out->beats_failed = s->failed;
  out->beats_late = s->late;
  out->claims_held = !sg__nodes_may_claim(e);
  out->nodes = s->list;
  out->n = s->n;
}
