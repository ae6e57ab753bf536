/* pg_nodes.c - the nodes that share one PostgreSQL database (store/nodes.h,
 * migration 0023): a node's registration at open, which takes its epoch
 * from the sequence node_epoch and gives back the parts its earlier runs
 * left leased; and its heartbeat, which also gives back the parts leased by
 * dead nodes, counts each node's leases and lists the nodes. The webhook
 * deliveries and SMPP receipts a node leases carry its owner as parts do
 * (migration 0024), and go back with them.
 *
 * Parts are given back as the lease pass of postgres_write.c does it:
 * 'queued' again with an event, the message derived again; their attempt
 * stays, so that a late result of the node that lost them is refused (the
 * part is no longer 'sending' under that attempt). Every statement runs
 * inside the writer's transaction; the rows taken are locked FOR UPDATE
 * SKIP LOCKED, so two nodes' passes never take the same part. This file
 * must never begin or end a transaction nor touch the loop.
 */
#include <stdio.h>
#include <string.h>

#include "core/error.h"
#include "store/nodes_int.h"
#include "store/pg_int.h"
#include "store/pg_kinds.h"
#include "store/pg_nodes.h"
#include "store/postgres_msg.h"

#define RELEASE_MAX 1000                      /* parts given back per pass */
#define NODE_KEEP_MS (7LL * 24 * 3600 * 1000) /* rows of long-gone nodes */

/* Gives back the 'sending' parts that sql selects with p (id, message_id,
 * seq; at most RELEASE_MAX), adding their number to *n. */
static int release(sg__pg_conn_t *c, sg__arena_t *a, const char *sql,
                   const sg__pg_params_t *p, int64_t now, const char *detail,
                   uint64_t *n) {
  int rc;
  PGresult *res = sg__pg_run(c, sql, p, &rc);
  size_t k = rc == 0 ? (size_t)PQntuples(res) : 0;
  sg__pg_part_t *parts = sg__arena_alloc(a, (k ? k : 1) * sizeof *parts);
  bool ok = parts != NULL;
  for (size_t i = 0; ok && i < k; i++) {
    parts[i].id = sg__pg_i64(res, (int)i, 0);
    parts[i].mid = sg__pg_text(a, res, (int)i, 1, &ok);
    parts[i].seq = (unsigned)sg__pg_i64(res, (int)i, 2);
  }
  PQclear(res);
  if (rc < 0 || !ok)
    return rc < 0 ? rc : SG_ENOMEM;
  rc = sg__pg_parts_requeue(c, a, parts, k, now, detail);
  if (rc == 0)
    *n += k;
  return rc;
}

/* Gives back the webhook deliveries ('pending' again) and the SMPP
 * receipts (free for the next claim) that were leased under the owners
 * that wh_sql (with wp) and out_sql (with op) select, adding the
 * deliveries' number to *n. The rows are taken FOR UPDATE SKIP LOCKED: a pass
 * of another node never waits for this one, nor the other way round. */
static int release_leases(sg__pg_conn_t *c, const char *wh_sql,
                          const sg__pg_params_t *wp, const char *out_sql,
                          const sg__pg_params_t *op, uint64_t *n) {
  uint64_t k = 0;
  int rc = sg__pg_do(c, wh_sql, wp, &k);
  if (rc == 0)
    rc = sg__pg_do(c, out_sql, op, NULL);
  if (rc == 0)
    *n += k;
  return rc;
}

/* ---- registration at open ------------------------------------------------ */

int sg__pg_node_register(sg__pg_conn_t *c, sg_store_t *st, int64_t now,
                         uint64_t *requeued) {
  sg__store_node_t *me = &st->node;
  if (me->name[0] == '\0')
    return 0;
  sg__pg_params_t p = {0};
  sg__pg_p_text(&p, me->name);
  sg__pg_p_i64(&p, now);
  sg__pg_p_text(&p, me->version);
  sg__pg_p_text(&p, me->address);
  int64_t epoch = 0;
  int rc = sg__pg_one(
      c,
      "INSERT INTO nodes (name, epoch, started_ms, heartbeat_ms, version, "
      "address) VALUES ($1, nextval('node_epoch'), $2, $2, $3, $4) ON "
      "CONFLICT (name) DO UPDATE SET epoch = excluded.epoch, started_ms = "
      "excluded.started_ms, heartbeat_ms = excluded.heartbeat_ms, version = "
      "excluded.version, address = excluded.address RETURNING epoch",
      &p, &epoch);
  if (rc <= 0)
    return rc < 0 ? rc : SG_EIO;
  me->epoch = epoch;
  sg__store_node_owner(me->name, epoch, me->owner, sizeof me->owner);
  /* Its earlier runs' leases: that process is gone (this one has its
   * name), so their parts go back now, not when the leases run out. */
  sg__arena_t a = {NULL};
  sg__pg_params_t q = {0};
  sg__pg_p_text(&q, me->name);
  sg__pg_p_text(&q, me->owner);
  sg__pg_p_i64(&q, RELEASE_MAX);
  uint64_t before;
  do {
    before = *requeued;
    rc = release(c, &a,
                 "SELECT id, message_id, seq FROM parts WHERE status = "
                 "'sending' AND left(lease_owner, length($1) + 1) = $1 || "
                 "'#' AND lease_owner <> $2 LIMIT $3 FOR UPDATE SKIP LOCKED",
                 &q, now, "requeued at start after a stop while sending",
                 requeued);
    sg__arena_free(&a);
  } while (rc == 0 && *requeued - before == RELEASE_MAX);
  /* And their webhook deliveries and SMPP receipts, the deliveries' last
   * attempt (cut short by the stop) uncounted. Other nodes' leases stay
   * theirs. */
  sg__pg_params_t w = {0};
  sg__pg_p_text(&w, me->name);
  sg__pg_p_text(&w, me->owner);
  sg__pg_p_i64(&w, now);
  if (rc == 0) /* receipts: q, at most RELEASE_MAX (the rest run out) */
    rc = release_leases(
        c,
        "UPDATE webhooks SET status = 'pending', lease_until_ms = NULL, "
        "lease_owner = NULL, attempts = greatest(attempts - 1, 0), "
        "updated_ms = $3 WHERE id IN (SELECT id FROM webhooks WHERE status "
        "= 'sending' AND left(lease_owner, length($1) + 1) = $1 || '#' AND "
        "lease_owner <> $2 FOR UPDATE SKIP LOCKED)",
        &w,
        "UPDATE smpp_out SET lease_until_ms = NULL, lease_owner = NULL "
        "WHERE id IN (SELECT id FROM smpp_out WHERE lease_until_ms IS NOT "
        "NULL AND left(lease_owner, length($1) + 1) = $1 || '#' AND "
        "lease_owner <> $2 LIMIT $3 FOR UPDATE SKIP LOCKED)",
        &q, &st->info.requeued_webhooks);
  return rc;
}

/* ---- heartbeat ----------------------------------------------------------- */

/* Writes the heartbeat; when this epoch's row is gone, puts it back, or
 * finds that a newer start of the same name holds it. */
static int beat_write(sg__pg_conn_t *c, const sg__store_node_t *me,
                      const sg_store_beat_t *in, int64_t now, bool *superseded,
                      int64_t *gap) {
  sg__pg_params_t p = {0};
  sg__pg_p_text(&p, me->name);
  sg__pg_p_i64(&p, me->epoch);
  sg__pg_p_i64(&p, now);
  sg__pg_p_text(&p, in->connectors);
  sg__pg_p_text(&p, in->address);
  uint64_t n = 0;
  int64_t prev = 0;
  /* The previous heartbeat comes back with the update: now minus it is the
   * gap the other nodes saw. */
  int rc = sg__pg_one(c,
                      "UPDATE nodes n SET heartbeat_ms = $3, connectors = $4, "
                      "address = COALESCE($5, n.address) FROM (SELECT "
                      "heartbeat_ms FROM nodes WHERE name = $1 AND epoch = $2) "
                      "o WHERE n.name = $1 AND n.epoch = $2 RETURNING "
                      "o.heartbeat_ms",
                      &p, &prev);
  if (rc < 0)
    return rc;
  if (rc == 1) {
    *gap = now > prev ? now - prev : 0;
    return 0;
  }
  sg__pg_params_t q = {0};
  sg__pg_p_text(&q, me->name);
  sg__pg_p_i64(&q, me->epoch);
  sg__pg_p_i64(&q, now);
  sg__pg_p_text(&q, in->connectors);
  sg__pg_p_text(&q, me->version);
  sg__pg_p_text(&q, in->address != NULL ? in->address : me->address);
  rc = sg__pg_do(c,
                 "INSERT INTO nodes (name, epoch, started_ms, heartbeat_ms, "
                 "connectors, version, address) VALUES ($1, $2, $3, $3, $4, "
                 "$5, $6) ON CONFLICT (name) DO NOTHING",
                 &q, &n);
  *superseded = rc == 0 && n == 0;
  return rc;
}

/* Each owner's number of leased parts, then every node. */
static int beat_list(sg__pg_conn_t *c, sg__arena_t *a, int64_t dead_before,
                     sg_store_beat_res_t *out) {
  int rc;
  PGresult *cnt = sg__pg_run(c,
                             "SELECT lease_owner, count(*) FROM parts WHERE "
                             "status = 'sending' AND lease_owner IS NOT NULL "
                             "GROUP BY lease_owner",
                             NULL, &rc);
  if (rc < 0) {
    PQclear(cnt);
    return rc;
  }
  PGresult *res = sg__pg_run(c,
                             "SELECT name, epoch, started_ms, heartbeat_ms, "
                             "version, address, connectors FROM nodes ORDER "
                             "BY name COLLATE \"C\"",
                             NULL, &rc);
  size_t k = rc == 0 ? (size_t)PQntuples(res) : 0;
  sg_store_node_t *nodes = sg__arena_alloc(a, (k ? k : 1) * sizeof *nodes);
  bool ok = nodes != NULL;
  for (size_t i = 0; ok && i < k; i++) {
    sg_store_node_t *nd = &nodes[i];
    int row = (int)i;
    nd->name = sg__pg_text(a, res, row, 0, &ok);
    nd->epoch = sg__pg_i64(res, row, 1);
    nd->started_ms = sg__pg_i64(res, row, 2);
    nd->heartbeat_ms = sg__pg_i64(res, row, 3);
    nd->version = sg__pg_text(a, res, row, 4, &ok);
    nd->address = sg__pg_text(a, res, row, 5, &ok);
    nd->connectors = sg__pg_text(a, res, row, 6, &ok);
    nd->alive = nd->heartbeat_ms > dead_before;
    char owner[SG_STORE_NODE_NAME_MAX + 24];
    sg__store_node_owner(ok ? nd->name : "", nd->epoch, owner, sizeof owner);
    for (int j = 0; ok && j < PQntuples(cnt); j++)
      if (strcmp(PQgetvalue(cnt, j, 0), owner) == 0)
        nd->leased_parts = (uint64_t)sg__pg_i64(cnt, j, 1);
  }
  PQclear(cnt);
  PQclear(res);
  if (rc < 0 || !ok)
    return rc < 0 ? rc : SG_ENOMEM;
  out->nodes = nodes;
  out->n = k;
  return 0;
}

int sg__pg_node_beat(sg__pg_conn_t *c, sg__store_req_t *r, int64_t now) {
  sg__nodes_req_t *q = r->in.nodes;
  const sg__store_node_t *me = &c->st->node;
  if (me->name[0] == '\0')
    return SG_EINVAL;
  /* A group run again after a lost race starts over. */
  memset(&q->out, 0, sizeof q->out);
  int64_t dead_before = now - q->in.dead_after_ms;
  int rc = beat_write(c, me, &q->in, now, &q->out.superseded, &q->out.gap_ms);
  /* Parts whose owner is no live node's current epoch: dead nodes, and
   * starts that a newer start of the same name replaced. */
  sg__pg_params_t p = {0};
  sg__pg_p_i64(&p, dead_before);
  sg__pg_p_i64(&p, RELEASE_MAX);
  if (rc == 0)
    rc = release(c, &r->arena,
                 "SELECT id, message_id, seq FROM parts WHERE status = "
                 "'sending' AND lease_owner IS NOT NULL AND lease_owner NOT "
                 "IN (SELECT name || '#' || epoch FROM nodes WHERE "
                 "heartbeat_ms > $1) LIMIT $2 FOR UPDATE SKIP LOCKED",
                 &p, now, "requeued: the node that was sending it is dead",
                 &q->out.released);
  /* Their webhook deliveries and SMPP receipts too, as if their leases had
   * run out (the attempt counts: it may have reached the receiver). */
  sg__pg_params_t w = {0};
  sg__pg_p_i64(&w, dead_before);
  sg__pg_p_i64(&w, now);
  uint64_t webhooks = 0;
  if (rc == 0)
    rc = release_leases(
        c,
        "UPDATE webhooks SET status = 'pending', lease_until_ms = NULL, "
        "lease_owner = NULL, updated_ms = $2 WHERE id IN (SELECT id FROM "
        "webhooks WHERE status = 'sending' AND lease_owner IS NOT NULL AND "
        "lease_owner NOT IN (SELECT name || '#' || epoch FROM nodes WHERE "
        "heartbeat_ms > $1) FOR UPDATE SKIP LOCKED)",
        &w,
        "UPDATE smpp_out SET lease_until_ms = NULL, lease_owner = NULL "
        "WHERE id IN (SELECT id FROM smpp_out WHERE lease_until_ms IS NOT "
        "NULL AND lease_owner IS NOT NULL AND lease_owner NOT IN (SELECT "
        "name || '#' || epoch FROM nodes WHERE heartbeat_ms > $1) LIMIT $2 "
        "FOR UPDATE SKIP LOCKED)",
        &p, &webhooks);
  if (rc == 0) {
    sg__pg_params_t d = {0};
    sg__pg_p_i64(&d, now - NODE_KEEP_MS);
    rc = sg__pg_do(c, "DELETE FROM nodes WHERE heartbeat_ms < $1", &d, NULL);
  }
  return rc < 0 ? rc : beat_list(c, &r->arena, dead_before, &q->out);
}

bool sg__pg_node_fence_ok(const sg_store_t *st, const char *owner) {
  return owner == NULL || st->node.owner[0] == '\0' ||
         strcmp(owner, st->node.owner) == 0;
}
