/* rehome.c - the parts a configuration reload left behind on a connector it
 * removed: each queued part is put on a connector of the route the new
 * configuration gives its message (as failover does: the first usable in
 * the route's order, else the first, where it waits), or, when no route
 * matches any more, failed with a reason that names the removed connector
 * (an event, the webhook, SMPP and Kannel receipts as for any failure).
 *
 * A removed connector is looked at once it has stopped (the parts it had in
 * flight got their answers, which the store matches under its name, kept
 * for as long as the engine runs), and again every few seconds: scheduled
 * parts fall due and parts whose lease ran out come back to its queue
 * later. A connector re-bound by a reload keeps its name on a new index, so
 * a retired connector whose name is in use again is never touched.
 *
 * It must never change a part itself: it claims parts and writes results
 * through the dispatcher's result buffer (dispatch.c), like failover.
 */
#include <stdio.h>
#include <string.h>

#include "core/error.h"
#include "engine/engine_int.h"

#define REHOME_EVERY_MS 5000 /* a retired connector with nothing due */

/* Whether connector i was removed (not re-bound): retired and no running
 * connector has its name. */
static bool removed(const sg_engine_t *e, size_t i) {
  if (!e->conns[i].retired)
    return false;
  for (size_t k = 0; k < e->n_conns; k++)
    if (!e->conns[k].retired &&
        strcmp(e->conns[k].cfg->name, e->conns[i].cfg->name) == 0)
      return false;
  return true;
}

static const char *account_name(const sg_engine_t *e, int64_t id) {
  for (size_t i = 0; i < e->n_accounts; i++)
    if (e->accounts[i].pub.id == id)
      return e->accounts[i].pub.name;
  return NULL;
}

/* The result of one claimed part: moved to a connector of its new route,
 * or failed. Returns whether it moved. */
static bool rehome_part(sg__conn_t *c, const sg_store_claimed_t *p) {
  sg_engine_t *e = c->e;
  sg__slot_t tmp;
  memset(&tmp, 0, sizeof tmp);
  tmp.part_id = p->part_id;
  tmp.attempt = p->attempt;
  memcpy(tmp.message_id, p->message_id, sizeof tmp.message_id);
  tmp.seq = p->seq;
  sg__result_t *r = sg__result_new(c, &tmp);
  if (r == NULL)
    return false; /* its lease brings it back */
  int ri = sg__route_find(e, p->recipient, account_name(e, p->account_id),
                          p->sender, sg__route_type(p->encoding));
  if (ri < 0) {
    r->in.outcome = SG_STORE_FAILED;
    r->in.final_status = SG_MSG_FAILED;
    snprintf(r->detail, sizeof r->detail,
             "connector %s was removed by a configuration reload and no "
             "route matches %s",
             c->cfg->name, p->recipient);
    return false;
  }
  size_t to = sg__route_pick(e, ri, p->recipient);
  r->in.outcome = SG_STORE_RETRY;
  r->in.connector = e->conns[to].cfg->name;
  r->in.next_attempt_ms = 0;
  r->poke = (int)to;
  snprintf(r->detail, sizeof r->detail,
           "connector %s was removed by a configuration reload; moved to %s",
           c->cfg->name, e->conns[to].cfg->name);
  return true;
}

static void rehome_cb(sg_store_t *st, int status,
                      const sg_store_claim_res_t *res, void *data) {
  (void)st;
  sg__conn_t *c = data;
  sg_engine_t *e = c->e;
  sg__op_end(e);
  c->moving = false;
  if (status != 0 || e->state != SG__RUNNING) {
    sg__maybe_stopped(e); /* claimed parts, if any, come back by lease */
    return;
  }
  size_t moved = 0;
  for (size_t i = 0; i < res->n_parts; i++)
    moved += rehome_part(c, &res->parts[i]);
  c->backlog = c->backlog > res->n_parts ? c->backlog - res->n_parts : 0;
  if (res->n_parts > 0)
    sg__log(e, SG_ENGINE_LOG_WARN,
            "connector %s was removed: %zu queued part(s) moved to the "
            "connectors of their routes, %zu failed (no route)",
            c->cfg->name, moved, res->n_parts - moved);
  /* A full claim may have left more: the next pass comes at once. */
  c->rehome_next_ms =
      res->n_parts >= e->tun.claim_max ? 0 : sg__now_ms(e) + REHOME_EVERY_MS;
  if (c->rehome_next_ms == 0)
    sg__rehome_pass(e);
  sg__maybe_stopped(e);
}

void sg__rehome_pass(sg_engine_t *e) {
  if (e->state != SG__RUNNING)
    return;
  int64_t now = sg__now_ms(e);
  for (size_t i = 0; i < e->n_conns; i++) {
    sg__conn_t *c = &e->conns[i];
    if (!c->stopped || c->moving || c->claiming || now < c->rehome_next_ms ||
        !removed(e, i))
      continue;
    if (sg_store_claim(e->st, c->cfg->name, e->tun.claim_max, e->tun.lease_ms,
                       rehome_cb, c) == 0) {
      c->moving = true;
      sg__op_begin(e);
    }
  }
}
