/* sqlite_nodes.c - the SQLite side of store/nodes.h (migration 0023).
 *
 * A SQLite file has one node at a time (the writer holds the file), so
 * there is no lease of another node to give back: registration at open
 * writes the node's row with the next epoch, and the heartbeat writes its
 * time and lists the rows, the node's leased parts being the parts
 * 'sending'. Statements are prepared per call (one call per heartbeat).
 * This file must never begin or end a transaction.
 */
#include <string.h>

#include "core/error.h"
#include "store/nodes_int.h"
#include "store/sqlite_int.h"

static int run(sg__sq_conn_t *c, const char *sql, const char *t1, int64_t i2,
               int64_t i3, const char *t4, const char *t5, const char *t6) {
  sqlite3_stmt *s = NULL;
  if (sqlite3_prepare_v2(c->db, sql, -1, &s, NULL) != SQLITE_OK) {
    sqlite3_finalize(s);
    return SG_EIO;
  }
  sg__sq_bind_text(s, 1, t1);
  sqlite3_bind_int64(s, 2, i2);
  sqlite3_bind_int64(s, 3, i3);
  sg__sq_bind_text(s, 4, t4);
  sg__sq_bind_text(s, 5, t5);
  sg__sq_bind_text(s, 6, t6);
  int rc = sg__sq_step_done(s);
  sqlite3_finalize(s);
  return sg__sq_err(rc);
}

int sg__sq_node_register(sg__sq_conn_t *c, sg_store_t *st, int64_t now) {
  sg__store_node_t *me = &st->node;
  if (me->name[0] == '\0')
    return 0;
  sqlite3_stmt *s = NULL;
  if (sqlite3_prepare_v2(c->db, "SELECT coalesce(max(epoch), 0) + 1 FROM nodes",
                         -1, &s, NULL) != SQLITE_OK ||
      sqlite3_step(s) != SQLITE_ROW) {
    sqlite3_finalize(s);
    return SG_EIO;
  }
  me->epoch = sqlite3_column_int64(s, 0);
  sqlite3_finalize(s);
  sg__store_node_owner(me->name, me->epoch, me->owner, sizeof me->owner);
  return run(c,
             "INSERT INTO nodes (name, epoch, started_ms, heartbeat_ms, "
             "version, address) VALUES (?1, ?2, ?3, ?3, ?5, ?6) ON CONFLICT "
             "(name) DO UPDATE SET epoch = excluded.epoch, started_ms = "
             "excluded.started_ms, heartbeat_ms = excluded.heartbeat_ms, "
             "version = excluded.version, address = excluded.address",
             me->name, me->epoch, now, NULL, me->version, me->address);
}

static int list(sg__sq_conn_t *c, sg__arena_t *a, int64_t dead_before,
                const sg__store_node_t *me, sg_store_beat_res_t *out) {
  sqlite3_stmt *s = NULL;
  if (sqlite3_prepare_v2(c->db,
                         "SELECT name, epoch, started_ms, heartbeat_ms, "
                         "version, address, connectors, (SELECT count(*) "
                         "FROM parts WHERE status = 'sending') FROM nodes "
                         "ORDER BY name",
                         -1, &s, NULL) != SQLITE_OK) {
    sqlite3_finalize(s);
    return SG_EIO;
  }
  size_t n = 0, cap = 0;
  sg_store_node_t *nodes = NULL;
  bool ok = true;
  int rc;
  while (ok && (rc = sqlite3_step(s)) == SQLITE_ROW) {
    if (n == cap) {
      nodes = sg__arena_grow(a, nodes, n, &cap, 4, sizeof *nodes);
      if (!(ok = nodes != NULL))
        break;
    }
    sg_store_node_t *nd = &nodes[n++];
    nd->name = sg__sq_col_text(a, s, 0, &ok);
    nd->epoch = sqlite3_column_int64(s, 1);
    nd->started_ms = sqlite3_column_int64(s, 2);
    nd->heartbeat_ms = sqlite3_column_int64(s, 3);
    nd->version = sg__sq_col_text(a, s, 4, &ok);
    nd->address = sg__sq_col_text(a, s, 5, &ok);
    nd->connectors = sg__sq_col_text(a, s, 6, &ok);
    nd->alive = nd->heartbeat_ms > dead_before;
    /* Parts 'sending' are this node's: the only one that writes. */
    if (ok && strcmp(nd->name, me->name) == 0 && nd->epoch == me->epoch)
      nd->leased_parts = (uint64_t)sqlite3_column_int64(s, 7);
  }
  sqlite3_finalize(s);
  if (!ok)
    return SG_ENOMEM;
  if (rc != SQLITE_DONE)
    return SG_EIO;
  out->nodes = nodes;
  out->n = n;
  return 0;
}

int sg__sq_node_beat(sg__sq_conn_t *c, sg__store_req_t *r, int64_t now) {
  sg__nodes_req_t *q = r->in.nodes;
  const sg__store_node_t *me = &c->st->node;
  if (me->name[0] == '\0')
    return SG_EINVAL;
  /* The gap since this node's previous heartbeat, as nodes.h says. */
  sqlite3_stmt *s = NULL;
  if (sqlite3_prepare_v2(c->db,
                         "SELECT heartbeat_ms FROM nodes WHERE name = ?1 AND "
                         "epoch = ?2",
                         -1, &s, NULL) != SQLITE_OK) {
    sqlite3_finalize(s);
    return SG_EIO;
  }
  sg__sq_bind_text(s, 1, me->name);
  sqlite3_bind_int64(s, 2, me->epoch);
  int step = sqlite3_step(s);
  if (step == SQLITE_ROW) {
    int64_t prev = sqlite3_column_int64(s, 0);
    q->out.gap_ms = now > prev ? now - prev : 0;
  }
  sqlite3_finalize(s);
  if (step != SQLITE_ROW && step != SQLITE_DONE)
    return SG_EIO;
  int rc = run(c,
               "INSERT INTO nodes (name, epoch, started_ms, heartbeat_ms, "
               "connectors, version, address) VALUES (?1, ?2, ?3, ?3, ?4, "
               "?5, ?6) ON CONFLICT (name) DO UPDATE SET heartbeat_ms = "
               "excluded.heartbeat_ms, connectors = excluded.connectors, "
               "address = excluded.address WHERE nodes.epoch = ?2",
               me->name, me->epoch, now, q->in.connectors, me->version,
               q->in.address != NULL ? q->in.address : me->address);
  if (rc == 0 && sqlite3_changes(c->db) == 0)
    q->out.superseded = true;
  return rc < 0 ? rc
                : list(c, &r->arena, now - q->in.dead_after_ms, me, &q->out);
}
