/* dispatch.c - the dispatcher: one queue per connector, fed from the store.
 *
 * For each connector that is up, parts due for sending are claimed from the
 * store (highest priority first, then oldest; the claim also releases
 * scheduled messages whose time came and expires those whose validity ran
 * out), held in a bounded pool of slots and handed to the connector in
 * order. When the connector is full (SG_EBUSY) the rest wait for its
 * ready_cb. Each outcome is written back to the store in batches:
 *   SENT      -> 'sent', with the connector's key of the operator's id, for
 *                the receipt to find it;
 *   TEMPFAIL  -> queued again: at once on another connector of the route
 *                that is up (failover), else on the same one after an
 *                exponential back-off; after max_attempts claims, failed;
 *   UNKNOWN   -> the operator may or may not have it (no answer, lost
 *                link). Delivery is at-least-once: it is queued again like
 *                TEMPFAIL, and its event says the outcome was unknown, so a
 *                duplicate on the handset can be explained;
 *   PERMFAIL  -> 'rejected' with the operator's status and text.
 * A connector that is down for its failover_after has its queued parts
 * moved to another connector of their route that is up, and the parts it
 * had claimed but not yet taken fail over the moment it goes down; a
 * connector that is down never holds up the others.
 * With the SQLite store a claim stays open in the writer for the parts of
 * the next submits (sg_store_claim_wait), two at a time for a connector
 * while parts flow and one while it is idle, each up to a tick: a part then
 * reaches its connector with its submit's commit, not one claim later. A
 * waiting claim is answered at once (sg__claim_wake, a wake of its
 * connector only) when its connector goes down, is paused or removed, or
 * parts come to it that no submit brings; every connector's, in one wake,
 * when the engine stops or parts come due by time.
 *
 * This file must never decide a message's status itself (the store derives
 * it from the parts) nor acknowledge a receipt (dlr.c does).
 */
#include <stdio.h>
#include <string.h>

#include "connector/smpp_client.h"
#include "core/alloc.h"
#include "core/error.h"
#include "core/str.h"
#include "engine/engine_int.h"

/* A batch of results being written. */
typedef struct result_batch {
  sg_engine_t *e;
  unsigned tries;
  size_t n;
  sg__result_t r[];
} result_batch_t;

static void claim(sg__conn_t *c);

/* ---- slots --------------------------------------------------------------- */

static sg__slot_t *slot_get(sg__conn_t *c, uint64_t id) {
  uint32_t si = (uint32_t)(id & 0xffffffffu);
  if (si >= c->n_slots)
    return NULL;
  sg__slot_t *s = &c->slots[si];
  if (!s->used || s->gen != (uint32_t)(id >> 32))
    return NULL;
  return s;
}

static unsigned slot_take(sg__conn_t *c) {
  unsigned si = c->free_list[--c->n_free];
  sg__slot_t *s = &c->slots[si];
  s->used = true;
  s->gen++;
  c->used++;
  return si;
}

static void slot_put(sg__conn_t *c, sg__slot_t *s) {
  s->used = false;
  c->free_list[c->n_free++] = (unsigned)(s - c->slots);
  c->used--;
}

/* ---- results ------------------------------------------------------------- */

static uint64_t backoff_ms(const sg_engine_t *e, unsigned attempt) {
  uint64_t d = e->tun.retry_min_ms;
  for (unsigned i = 1; i < attempt && d < e->tun.retry_max_ms; i++)
    d *= 2;
  return d < e->tun.retry_max_ms ? d : e->tun.retry_max_ms;
}

static sg__result_t *result_new(sg__conn_t *c, const sg__slot_t *s) {
  sg__result_t *r = sg__vec_push(&c->e->results);
  if (r == NULL) {
    /* The part stays 'sending' until its lease runs out, then it is
     * queued again: nothing is lost, it is only late. */
    sg__log(c->e, SG_ENGINE_LOG_ERROR,
            "out of memory: the result of message %s part %u waits for its "
            "lease",
            s->message_id, s->seq);
    return NULL;
  }
  r->in.part_id = s->part_id;
  r->in.attempt = s->attempt;
  r->conn = c->index;
  memcpy(r->message_id, s->message_id, sizeof r->message_id);
  r->seq = s->seq;
  r->poke = -1;
  sg__schedule_flush(c->e);
  return r;
}

/* Queues the part again: elsewhere at once when a connector of its route is
 * up, else here after the back-off; failed after max_attempts. */
static void result_retry(sg__conn_t *c, const sg__slot_t *s, const char *why,
                         uint32_t status) {
  sg_engine_t *e = c->e;
  sg__result_t *r = result_new(c, s);
  if (r == NULL)
    return;
  r->in.error_code = (int32_t)status;
  if (e->state != SG__RUNNING) {
    r->in.outcome = SG_STORE_RETRY;
    snprintf(r->detail, sizeof r->detail, "%s; queued until restart", why);
    return;
  }
  if (s->attempt >= e->tun.max_attempts) {
    r->in.outcome = SG_STORE_FAILED;
    r->in.final_status = SG_MSG_FAILED;
    snprintf(r->detail, sizeof r->detail, "%s; gave up after %u attempts", why,
             s->attempt);
    return;
  }
  r->in.outcome = SG_STORE_RETRY;
  int alt = sg__route_alternative(e, s->recipient, s->sender, c->index);
  if (alt >= 0) {
    r->in.connector = e->conns[alt].cfg->name;
    r->poke = alt;
    snprintf(r->detail, sizeof r->detail, "%s on %s; failing over to %s", why,
             c->cfg->name, e->conns[alt].cfg->name);
    return;
  }
  int64_t at = sg__now_ms(e) + (int64_t)backoff_ms(e, s->attempt);
  r->in.next_attempt_ms = at;
  r->wake_ms = at;
  snprintf(r->detail, sizeof r->detail, "%s; retrying in %llu ms", why,
           (unsigned long long)(at - sg__now_ms(e)));
}

sg__result_t *sg__result_new(sg__conn_t *c, const sg__slot_t *s) {
  return result_new(c, s);
}

static void result_failed(sg__conn_t *c, const sg__slot_t *s,
                          sg_msg_status_t st, uint32_t status,
                          const char *why) {
  sg__result_t *r = result_new(c, s);
  if (r == NULL)
    return;
  r->in.outcome = SG_STORE_FAILED;
  r->in.final_status = st;
  r->in.error_code = (int32_t)status;
  snprintf(r->detail, sizeof r->detail, "%s", why);
}

static void conn_result_cb(sg_connector_t *cn, void *owner,
                           const sg_conn_result_t *res) {
  sg__conn_t *c = owner;
  sg_engine_t *e = c->e;
  sg__slot_t *s = slot_get(c, res->id);
  if (s == NULL) {
    sg__log(e, SG_ENGINE_LOG_WARN, "%s: result for an unknown part id %llx",
            c->cfg->name, (unsigned long long)res->id);
    return;
  }
  sg__latency_add(&e->send_lat, sg__now_ms(e) - s->claimed_ms);
  sg__latency_add(&c->latency, sg__now_ms(e) - s->claimed_ms);
  const char *text = res->status_text ? res->status_text : "";
  char why[120];
  switch (res->outcome) {
  case SG_CONN_SENT: {
    c->results_sent++;
    sg__result_t *r = result_new(c, s);
    if (r != NULL) {
      r->in.outcome = SG_STORE_SENT;
      sg_strlcpy(r->smsc_id, res->smsc_id, sizeof r->smsc_id);
      sg_strlcpy(r->smsc_raw_id, res->smsc_raw_id, sizeof r->smsc_raw_id);
    }
    break;
  }
  case SG_CONN_PERMFAIL:
    c->results_permfail++;
    snprintf(why, sizeof why, "refused by the operator: 0x%08x %s", res->status,
             text);
    result_failed(c, s, SG_MSG_REJECTED, res->status, why);
    break;
  case SG_CONN_TEMPFAIL:
    c->results_tempfail++;
    snprintf(why, sizeof why, "temporary failure 0x%08x %s", res->status, text);
    result_retry(c, s, why, res->status);
    break;
  case SG_CONN_UNKNOWN:
  default:
    c->results_unknown++;
    result_retry(c, s,
                 "no answer from the operator (it may have the part): "
                 "sending again",
                 res->status);
    break;
  }
  slot_put(c, s);
  claim(c);
}

/* ---- writing results ----------------------------------------------------- */

static void results_cb(sg_store_t *st, int status,
                       const sg_store_item_res_t *items, size_t n, void *data);

static int results_write(result_batch_t *b) {
  sg_engine_t *e = b->e;
  sg_store_result_in_t *in = sg_calloc(b->n, sizeof *in);
  if (in == NULL)
    return SG_ENOMEM;
  for (size_t i = 0; i < b->n; i++) {
    sg__result_t *r = &b->r[i];
    in[i] = r->in;
    if (r->in.outcome == SG_STORE_SENT) {
      in[i].smsc_id = r->smsc_id;
      in[i].smsc_raw_id = r->smsc_raw_id[0] ? r->smsc_raw_id : NULL;
    }
    in[i].detail = r->detail[0] ? r->detail : NULL;
  }
  int rc = sg_store_record_results(e->st, in, b->n, results_cb, b);
  sg_free(in); /* the store copied it */
  if (rc == 0)
    sg__op_begin(e);
  return rc;
}

static void results_log(sg_engine_t *e, const result_batch_t *b,
                        const sg_store_item_res_t *items, size_t n) {
  for (size_t i = 0; i < n && i < b->n; i++) {
    const sg__result_t *r = &b->r[i];
    const char *cn = e->conns[r->conn].cfg->name;
    if (items[i].status != 0)
      continue;
    if (r->in.outcome == SG_STORE_SENT)
      sg__log(e, SG_ENGINE_LOG_INFO,
              "message=%s part=%u connector=%s smsc_id=%s: sent",
              r->message_id, r->seq, cn, r->smsc_id);
    else
      sg__log(e,
              r->in.outcome == SG_STORE_RETRY ? SG_ENGINE_LOG_WARN
                                              : SG_ENGINE_LOG_ERROR,
              "message=%s part=%u connector=%s: %s: %s", r->message_id,
              r->seq, cn,
              r->in.outcome == SG_STORE_RETRY ? "queued again" : "failed",
              r->detail);
    if (items[i].receipt_applied)
      sg__log(e, SG_ENGINE_LOG_INFO,
              "message=%s part=%u connector=%s smsc_id=%s: held receipt, "
              "part %s",
              r->message_id, r->seq, cn, r->smsc_id,
              sg_store_status_name(items[i].part_status));
    if (items[i].msg_changed)
      sg__log(e, SG_ENGINE_LOG_INFO, "message=%s: %s", items[i].message_id,
              sg_store_status_name(items[i].msg_status));
  }
}

static void results_cb(sg_store_t *st, int status,
                       const sg_store_item_res_t *items, size_t n, void *data) {
  result_batch_t *b = data;
  sg_engine_t *e = b->e;
  sg__op_end(e);
  if (status == SG_EIO && e->state == SG__RUNNING) {
    /* The parts were sent: their results are kept and written again on
     * every tick for as long as the store fails, since a part left
     * 'sending' would only be sent again when its lease runs out, minutes
     * later and as a duplicate. Nothing new is claimed meanwhile, so what
     * is kept is bounded by the parts that were in flight. */
    e->store_ok = false;
    if (++b->tries == 3)
      sg__log(e, SG_ENGINE_LOG_WARN,
              "could not record %zu send results: %s (tried again every "
              "second until the store commits)",
              b->n, sg_strerror(status));
    void **slot = sg__vec_push(&e->retry_results);
    if (slot != NULL) {
      *slot = b;
      sg__maybe_stopped(e);
      return;
    }
  }
  if (status == 0) {
    e->store_ok = true;
    results_log(e, b, items, n);
    bool changed = false;
    for (size_t i = 0; i < b->n; i++) {
      if (b->r[i].poke >= 0) {
        e->conns[b->r[i].poke].backlog++;
        sg__poke(e, (size_t)b->r[i].poke);
      }
      if (b->r[i].wake_ms > 0)
        sg__wake_at(e, b->r[i].wake_ms, b->r[i].conn);
      if (i < n && items[i].msg_changed)
        changed = true;
      if (i < n && items[i].receipt_applied)
        e->rcpt_applied_later++;
    }
    if (changed)
      sg__notifier_poke(e);
  } else {
    sg__log(e, SG_ENGINE_LOG_ERROR,
            "could not record %zu send results: %s (the parts are sent again "
            "when their lease runs out)",
            b->n, sg_strerror(status));
  }
  sg_free(b);
  sg__maybe_stopped(e);
}

static void results_flush(sg_engine_t *e) {
  while (e->results.n > 0) {
    size_t n = e->results.n < 1000 ? e->results.n : 1000;
    result_batch_t *b = sg_malloc(sizeof *b + n * sizeof(sg__result_t));
    if (b == NULL)
      return; /* the flush timer tries again */
    b->e = e;
    b->tries = 0;
    b->n = n;
    memcpy(b->r, e->results.items, n * sizeof(sg__result_t));
    int rc = results_write(b);
    if (rc != 0) {
      sg_free(b);
      if (rc == SG_EBUSY || rc == SG_ENOMEM)
        return; /* kept; tried again on the next flush */
      sg__log(e, SG_ENGINE_LOG_ERROR, "cannot record send results: %s",
              sg_strerror(rc));
    }
    memmove(e->results.items, (sg__result_t *)e->results.items + n,
            (e->results.n - n) * sizeof(sg__result_t));
    e->results.n -= n;
  }
}

void sg__retry_failed_writes(sg_engine_t *e) {
  size_t n = e->retry_results.n;
  void **items = e->retry_results.items;
  e->retry_results.n = 0;
  for (size_t i = 0; i < n; i++) {
    result_batch_t *b = items[i];
    if (results_write(b) != 0) {
      void **slot = sg__vec_push(&e->retry_results);
      if (slot != NULL)
        *slot = b;
      else
        sg_free(b);
    }
  }
}

static void flush_cb(uv_timer_t *t) {
  sg_engine_t *e = t->data;
  sg__flush_now(e);
  if (e->results.n > 0 || e->rcpts.n > 0)
    uv_timer_start(&e->flush, flush_cb, 50, 0); /* the store was busy */
  sg__maybe_stopped(e);
}

void sg__schedule_flush(sg_engine_t *e) {
  if (e->state >= SG__STOPPED || uv_is_closing((uv_handle_t *)&e->flush))
    return;
  if (!uv_is_active((uv_handle_t *)&e->flush))
    uv_timer_start(&e->flush, flush_cb, 0, 0);
}

void sg__flush_now(sg_engine_t *e) {
  /* Results first: a receipt must find its part already 'sent'. */
  results_flush(e);
  sg__rcpts_flush(e);
  sg__notifier_flush(e);
}

/* ---- claiming and sending ------------------------------------------------ */

/* The address of a part's sender or recipient, with the connector's
 * configured TON/NPI when it sets them. Returns 0 or SG_EINVAL/ETOOLONG. */
static int make_addr(const char *text, int ton, int npi, sg_conn_addr_t *a) {
  memset(a, 0, sizeof *a);
  if (text[0] != '\0') {
    int rc = sg_smpp_addr_from_text(text, a);
    if (rc != 0)
      return rc;
  }
  if (ton != SG_CONFIG_TON_AUTO)
    a->ton = (uint8_t)ton;
  if (npi != SG_CONFIG_TON_AUTO)
    a->npi = (uint8_t)npi;
  return 0;
}

/* Fills slot si from a claimed part. Returns 0 or the address error. */
static int slot_fill(sg__conn_t *c, unsigned si, const sg_store_claimed_t *p) {
  sg__slot_t *s = &c->slots[si];
  const sg_config_connector_t *cc = c->cfg;
  s->part_id = p->part_id;
  s->attempt = p->attempt;
  s->claimed_ms = sg__now_ms(c->e);
  memcpy(s->message_id, p->message_id, sizeof s->message_id);
  s->seq = p->seq;
  sg_strlcpy(s->sender, p->sender ? p->sender : "", sizeof s->sender);
  sg_strlcpy(s->recipient, p->recipient ? p->recipient : "",
             sizeof s->recipient);
  sg_conn_part_t *cp = &s->part;
  memset(cp, 0, sizeof *cp);
  cp->id = ((uint64_t)s->gen << 32) | si;
  int rc = make_addr(s->sender, cc->source_ton, cc->source_npi, &cp->src);
  if (rc == 0)
    rc = make_addr(s->recipient, cc->dest_ton, cc->dest_npi, &cp->dst);
  size_t udh_len = p->udh_len <= SG_SEG_UDH_MAX ? p->udh_len : 0;
  size_t ud_len = p->ud_len <= SG_SEG_UD_MAX ? p->ud_len : SG_SEG_UD_MAX;
  if (udh_len)
    memcpy(s->udh, p->udh, udh_len);
  memcpy(s->ud, p->ud, ud_len);
  cp->encoding = p->encoding;
  cp->lang_locking = p->lang_locking;
  cp->lang_single = p->lang_single;
  cp->udh = udh_len ? s->udh : NULL;
  cp->udh_len = udh_len;
  cp->ud = s->ud;
  cp->ud_len = ud_len;
  cp->concat_ref = p->concat_ref;
  cp->concat_total = p->concat_total ? p->concat_total : 1;
  cp->concat_seq = (uint8_t)p->seq;
  cp->want_report = p->dlr_wanted;
  cp->priority = p->priority;
  cp->validity_ms = p->validity_ms;
  cp->message_id = s->message_id;
  return rc;
}

/* Hands slot si to the connector. Returns false when the connector is
 * full (the slot must wait for ready_cb). */
static bool slot_send(sg__conn_t *c, unsigned si) {
  sg__slot_t *s = &c->slots[si];
  int rc = sg_connector_submit(c->c, &s->part);
  if (rc == 0)
    return true;
  if (rc == SG_EBUSY)
    return false;
  if (rc == SG_ESTATE)
    result_retry(c, s, "connector stopped", 0);
  else if (rc == SG_ENOMEM) /* a shortage passes: the part is not at fault */
    result_retry(c, s, "out of memory handing the part to the connector", 0);
  else
    result_failed(c, s, SG_MSG_FAILED, 0, "the connector refused the part");
  slot_put(c, s);
  return true;
}

static void wait_push(sg__conn_t *c, unsigned si) {
  c->wait_q[(c->wait_head + c->wait_len++) % c->n_slots] = si;
}

/* Sends what waits, in order, until the connector is full again. */
static void wait_drain(sg__conn_t *c) {
  while (c->wait_len > 0) {
    unsigned si = c->wait_q[c->wait_head];
    if (!slot_send(c, si))
      return;
    c->wait_head = (c->wait_head + 1) % c->n_slots;
    c->wait_len--;
  }
}

/* A connector that went down gives back the parts waiting for its room
 * (claimed, never handed to it): they fail over at once to another
 * connector of their route that is up (result_retry), instead of waiting
 * for this one to come back. */
static void wait_give_back(sg__conn_t *c, const char *why) {
  while (c->wait_len > 0) {
    unsigned si = c->wait_q[c->wait_head];
    c->wait_head = (c->wait_head + 1) % c->n_slots;
    c->wait_len--;
    sg__slot_t *s = &c->slots[si];
    result_retry(c, s, why, 0);
    slot_put(c, s);
  }
}

/* Gives a claimed slot back to the queue (engine stopping). */
static void slot_give_back(sg__conn_t *c, unsigned si) {
  sg__slot_t *s = &c->slots[si];
  result_retry(c, s, "not sent", 0);
  slot_put(c, s);
}

/* An outstanding claim of connector c, of want slots. */
typedef struct claim_req {
  sg__conn_t *c;
  unsigned want;
} claim_req_t;

/* What the passes of a claim of connector c (sg_store_claim) changed for
 * others: expiries for the notifier, messages released and parts whose
 * lease ran out (of any connector: whichever claim runs first queues them
 * again) for their connectors, woken by name but `except`; and c's next
 * back-off end, which the wake heap may not hold (a retry from before the
 * start): its claim is woken then. */
static void claim_passes_done(sg__conn_t *c, const sg_store_claim_res_t *res,
                              size_t except) {
  sg_engine_t *e = c->e;
  if (res->expired)
    sg__notifier_poke(e);
  if (res->next_ms > 0 && res->next_ms != c->next_due_ms) {
    c->next_due_ms = res->next_ms;
    sg__wake_at(e, res->next_ms, c->index);
  }
  sg__poke_released(e, res->released_to, res->n_released_to, except);
  sg__poke_requeued(e, res->requeued, res->requeued_to, res->n_requeued_to,
                    except);
}

static void claim_cb(sg_store_t *st, int status,
                     const sg_store_claim_res_t *res, void *data) {
  claim_req_t *q = data;
  sg__conn_t *c = q->c;
  unsigned want = q->want;
  sg_free(q);
  sg_engine_t *e = c->e;
  sg__op_end(e);
  c->claiming--;
  c->claim_asked -= want;
  if (status != 0) {
    if (status == SG_EIO)
      e->store_ok = false;
    c->more = true; /* the tick tries again */
    sg__maybe_stopped(e);
    return;
  }
  if (res->n_parts > 0) /* an empty claim wrote nothing: it proves nothing */
    e->store_ok = true;
  claim_passes_done(c, res, c->index);
  c->backlog = c->backlog > res->n_parts ? c->backlog - res->n_parts : 0;
  for (size_t i = 0; i < res->n_parts; i++) {
    unsigned si = slot_take(c);
    if (slot_fill(c, si, &res->parts[i]) != 0) {
      result_failed(c, &c->slots[si], SG_MSG_REJECTED, 0,
                    "the sender or recipient cannot be addressed");
      slot_put(c, &c->slots[si]);
      continue;
    }
    if (sg__optout_blocks(e, res->parts[i].account_id,
                          res->parts[i].recipient, res->parts[i].message_id)) {
      /* Queued before the STOP arrived: never sent (engine.h INBOUND). */
      result_failed(c, &c->slots[si], SG_MSG_REJECTED, 0,
                    "opted_out: the recipient opted out of this account's "
                    "messages");
      slot_put(c, &c->slots[si]);
      continue;
    }
    /* A claim that waited in the store may be answered after a pause. */
    if (e->state != SG__RUNNING || c->c == NULL || c->retired || c->paused)
      slot_give_back(c, si);
    else if (c->wait_len > 0 || !slot_send(c, si))
      wait_push(c, si);
  }
  /* Claimed while it was up, answered after it went down: what could not
   * be handed to it goes back now, as at the moment it went down (nothing
   * else would move it before the connector comes back). */
  if (c->state == SG_CONN_DOWN && c->wait_len > 0)
    wait_give_back(c, "connector down");
  /* A full claim may have left more; a claim that waited is followed at
   * once by the next, which waits in its turn. One that came back empty
   * found nothing: the connector is idle, and keeps one claim outstanding
   * (not two) until an answer brings parts again. Idle, its claim waits a
   * tick in the store and is claimed again when its time runs out: one
   * claim a tick, where two waited side by side and were answered empty
   * each tick. One that came back empty without waiting (the store did
   * not keep it open: it was woken, or could not be listed) is claimed
   * again only when parts may be due: claiming at once would be answered
   * the same way, over and over. Parts flowing, two claims are out: the
   * second waits in the store while the answer of the first comes back. */
  if ((res->n_parts > 0 && res->n_parts == want) || res->waited)
    c->more = true;
  c->claim_idle = res->n_parts == 0;
  claim(c);
  /* A paused connector's queued parts move once no claim of its own is
   * outstanding (sg__failover_pass skips a connector that claims): the
   * pause woke its claims, whose answers come after the pass it ran. */
  if (c->paused && c->claiming == 0 && e->state == SG__RUNNING)
    sg__failover_pass(e);
  sg__maybe_stopped(e);
}

/* Claims that may be outstanding at once for a connector when the store
 * keeps them waiting (sg_store_claims_wait): while the one answered with a
 * group's parts comes back through the log's sync and the loop, the next
 * one already waits in the writer and takes the following groups' parts
 * (the answer of a group comes one or two groups later). Otherwise one. */
#define CLAIMS_WAITING 2

/* Takes due parts for c from the store when it is up, has room and may
 * have work; returns whether a claim was sent. */
static bool claim_one(sg__conn_t *c) {
  sg_engine_t *e = c->e;
  unsigned most = c->claim_waits && !c->claim_idle ? CLAIMS_WAITING : 1;
  if (e->state != SG__RUNNING || c->claiming >= most || c->moving ||
      (!c->more && c->claiming == 0) || c->state != SG_CONN_UP || c->paused ||
      c->wait_len > 0 || c->retired || !sg__nodes_may_claim(e))
    return false;
  unsigned room = c->n_slots - c->used - c->claim_asked;
  unsigned want = e->tun.claim_max;
  if (room < want && room < c->n_slots / 4)
    return false; /* wait for results to free a useful number of slots */
  if (want > room)
    want = room;
  if (want == 0)
    return false;
  /* A claim that finds nothing waits in the store for the parts of the
   * next submits, up to a tick while parts flow; an idle connector's
   * claim waits tun.idle_claim_ms: what comes due by time wakes it by
   * name (the wake heap, the empty answer's next_ms, a release's
   * connectors), a submit hands it its parts. Only the SQLite store
   * waits: on PostgreSQL, where several nodes share the queues, claims
   * are answered at once. */
  uint32_t wait = c->claim_idle ? e->tun.idle_claim_ms : e->tun.tick_ms;
  if (wait > SG_STORE_CLAIM_WAIT_MAX_MS)
    wait = SG_STORE_CLAIM_WAIT_MAX_MS;
  claim_req_t *q = sg_malloc(sizeof *q);
  if (q == NULL)
    return false; /* the tick pokes again */
  q->c = c;
  q->want = want;
  int rc = sg_store_claim_wait(e->st, c->cfg->name, want, e->tun.lease_ms, wait,
                               claim_cb, q);
  if (rc != 0) {
    sg_free(q);
    return false; /* busy or closing: the tick pokes again */
  }
  c->more = false;
  c->claiming++;
  c->claim_asked += want;
  sg__op_begin(e);
  return true;
}

static void claim(sg__conn_t *c) {
  c->claim_waits = sg_store_claims_wait(c->e->st);
  while (claim_one(c))
    ;
}

void sg__claim_wake(sg_engine_t *e, sg__conn_t *c) {
  if (c->claiming && c->claim_waits)
    sg_store_claim_wake(e->st, c->cfg->name);
}

/* Answers the waiting claims of every connector, in one wake. */
static void claim_wake_all(sg_engine_t *e) {
  for (size_t i = 0; i < e->n_conns; i++)
    if (e->conns[i].claiming && e->conns[i].claim_waits) {
      sg_store_claim_wake(e->st, NULL);
      return;
    }
}

void sg__poke_submitted(sg_engine_t *e, size_t i) {
  e->conns[i].more = true;
  claim(&e->conns[i]);
}

/* A poke by name or of all (not the tick's of the idle ones) says that
 * parts may be queued for the connector: its failover claims run again. */
void sg__poke(sg_engine_t *e, size_t i) {
  e->conns[i].move_idle = false;
  sg__claim_wake(e, &e->conns[i]);
  sg__poke_submitted(e, i);
}

void sg__poke_all(sg_engine_t *e) {
  for (size_t i = 0; i < e->n_conns; i++)
    e->conns[i].move_idle = false;
  claim_wake_all(e);
  sg__poke_idle_all(e);
}

void sg__poke_idle_all(sg_engine_t *e) {
  for (size_t i = 0; i < e->n_conns; i++)
    sg__poke_submitted(e, i);
}

void sg__poke_released(sg_engine_t *e, const char *const *names, size_t n,
                       size_t except) {
  for (size_t k = 0; k < n; k++)
    for (size_t i = 0; i < e->n_conns; i++)
      if (i != except && !e->conns[i].retired &&
          strcmp(e->conns[i].cfg->name, names[k]) == 0) {
        sg__poke(e, i);
        break;
      }
}

void sg__poke_requeued(sg_engine_t *e, size_t requeued,
                       const char *const *names, size_t n, size_t except) {
  if (requeued == 0)
    return;
  if (n > 0) {
    sg__poke_released(e, names, n, except);
    return;
  }
  for (size_t i = 0; i < e->n_conns; i++) /* not named: any may be */
    if (i != except)
      sg__poke(e, i);
}

/* ---- failover of a connector that stays down ----------------------------- */

static void move_cb(sg_store_t *st, int status, const sg_store_claim_res_t *res,
                    void *data) {
  sg__conn_t *c = data;
  sg_engine_t *e = c->e;
  sg__op_end(e);
  c->moving = false;
  if (status != 0) {
    sg__maybe_stopped(e);
    return;
  }
  size_t moved = 0;
  /* Found none: the next failover pass would find none either until a
   * part may be queued for c again (sg__poke, sg__poke_all and
   * batch_committed clear it; c's next back-off end is a wake of its own,
   * below), and an idle store is left alone meanwhile. */
  c->move_idle = res->n_parts == 0;
  claim_passes_done(c, res, SG__WAKE_ALL);
  c->backlog = c->backlog > res->n_parts ? c->backlog - res->n_parts : 0;
  for (size_t i = 0; i < res->n_parts; i++) {
    const sg_store_claimed_t *p = &res->parts[i];
    sg__slot_t tmp;
    memset(&tmp, 0, sizeof tmp);
    tmp.part_id = p->part_id;
    tmp.attempt = p->attempt;
    memcpy(tmp.message_id, p->message_id, sizeof tmp.message_id);
    tmp.seq = p->seq;
    snprintf(tmp.sender, sizeof tmp.sender, "%s", p->sender ? p->sender : "");
    snprintf(tmp.recipient, sizeof tmp.recipient, "%s", p->recipient);
    sg__result_t *r = result_new(c, &tmp);
    if (r == NULL)
      continue;
    r->in.outcome = SG_STORE_RETRY;
    int alt = sg__route_alternative(e, tmp.recipient, tmp.sender, c->index);
    if (alt >= 0 && e->state == SG__RUNNING) {
      r->in.connector = e->conns[alt].cfg->name;
      r->poke = alt;
      moved++;
      snprintf(r->detail, sizeof r->detail, "connector %s is %s; moved to %s",
               c->cfg->name, c->paused ? "paused" : "down",
               e->conns[alt].cfg->name);
    } else {
      r->in.next_attempt_ms = sg__now_ms(e) + e->tun.tick_ms;
      snprintf(r->detail, sizeof r->detail,
               "connector %s is down and no other is up", c->cfg->name);
    }
  }
  if (moved > 0)
    sg__log(e, SG_ENGINE_LOG_WARN,
            "%s is %s: %zu part(s) moved to other "
            "connectors of their routes",
            c->cfg->name, c->paused ? "paused" : "down", moved);
  sg__maybe_stopped(e);
}

void sg__failover_pass(sg_engine_t *e) {
  int64_t now = sg__now_ms(e);
  for (size_t i = 0; i < e->n_conns; i++) {
    sg__conn_t *c = &e->conns[i];
    /* A paused connector's queued parts move at once. */
    bool paused = c->paused && c->state != SG_CONN_STOPPED;
    int64_t after = c->cfg->failover_after_ms ? c->cfg->failover_after_ms
                                              : e->tun.failover_after_ms;
    if (c->retired ||
        (!paused && (c->state == SG_CONN_UP || c->down_since_ms == 0 ||
                     now - c->down_since_ms < after)) ||
        c->moving || c->move_idle || c->claiming ||
        !sg__route_has_alternative(e, i) ||
        !sg__nodes_may_claim(e))
      continue;
    if (sg_store_claim(e->st, c->cfg->name, e->tun.claim_max, e->tun.lease_ms,
                       move_cb, c) == 0) {
      c->moving = true;
      sg__op_begin(e);
    }
  }
}

/* ---- connector callbacks, creation and stop ------------------------------ */

static const char *state_name(sg_conn_state_t s) {
  switch (s) {
  case SG_CONN_DOWN:
    return "down";
  case SG_CONN_CONNECTING:
    return "connecting";
  case SG_CONN_UP:
    return "up";
  case SG_CONN_PAUSED:
    return "paused";
  case SG_CONN_STOPPED:
    return "stopped";
  }
  return "?";
}

static void conn_state_cb(sg_connector_t *cn, void *owner,
                          sg_conn_state_t state, const char *reason) {
  sg__conn_t *c = owner;
  sg_engine_t *e = c->e;
  if (state == c->state)
    return;
  bool bad = state == SG_CONN_DOWN ||
             (state == SG_CONN_STOPPED && e->state == SG__RUNNING);
  sg__log(e, bad ? SG_ENGINE_LOG_WARN : SG_ENGINE_LOG_INFO,
          "connector %s is %s%s%s", c->cfg->name, state_name(state),
          reason && reason[0] ? ": " : "", reason ? reason : "");
  c->state = state;
  if (state == SG_CONN_UP) {
    c->down_since_ms = 0;
    sg__poke(e, c->index);
  } else {
    sg__claim_wake(e, c); /* no part is taken for it meanwhile */
    if (c->down_since_ms == 0)
      c->down_since_ms = sg__now_ms(e);
  }
  if (state == SG_CONN_DOWN)
    wait_give_back(c, "connector down");
}

static void conn_ready_cb(sg_connector_t *cn, void *owner) {
  sg__conn_t *c = owner;
  wait_drain(c);
  claim(c);
}

static int conn_alloc(sg__conn_t *c, unsigned n) {
  c->slots = sg_calloc(n, sizeof *c->slots);
  c->free_list = sg_calloc(n, sizeof *c->free_list);
  c->wait_q = sg_calloc(n, sizeof *c->wait_q);
  if (c->slots == NULL || c->free_list == NULL || c->wait_q == NULL)
    return SG_ENOMEM;
  c->n_slots = n;
  for (unsigned i = 0; i < n; i++)
    c->free_list[i] = n - 1 - i;
  c->n_free = n;
  return 0;
}

static void smpp_config(const sg_config_connector_t *cc,
                        sg_smpp_client_config_t *sc) {
  sg_smpp_client_config_default(sc);
  sc->name = cc->name;
  sc->host = cc->host;
  sc->port = cc->port;
  sc->tls = cc->tls;
  sc->tls_verify = cc->tls_verify;
  sc->tls_ca_file = cc->tls_ca;
  sc->tls_cert_file = cc->tls_cert;
  sc->tls_key_file = cc->tls_key;
  sc->bind_type = (sg_smpp_bind_type_t)cc->bind_type;
  sc->binds = cc->binds;
  sc->system_id = cc->system_id;
  sc->password = cc->password;
  if (cc->system_type != NULL)
    sc->system_type = cc->system_type;
  sc->window = cc->window;
  sc->response_timeout_ms = cc->response_timeout_ms;
  sc->bind_timeout_ms = cc->bind_timeout_ms;
  sc->enquire_link_interval_ms = cc->enquire_link_interval_ms;
  /* An enquire_link is a request: unanswered within response_timeout, the
   * SMSC is taken for dead (interval + response_timeout at most). */
  sc->enquire_link_timeout_ms = cc->response_timeout_ms;
  sc->first_sequence = cc->first_sequence;
  sc->reconnect_min_ms = cc->reconnect_min_ms;
  sc->reconnect_max_ms = cc->reconnect_max_ms;
  sc->rate_limit = cc->tps;
  sc->long_mode = (sg_smpp_long_mode_t)cc->long_mode;
  sc->gsm7_packed = cc->gsm7_packed;
  sc->max_temp_retries = cc->max_retries;
  sc->id_mode = (sg_msgid_mode_t)cc->id_mode;
  if (cc->receipt_id_mode != SG_CONFIG_ID_SAME) {
    sc->receipt_id_mode_set = true;
    sc->receipt_id_mode = (sg_msgid_mode_t)cc->receipt_id_mode;
  }
}

int sg__conns_create(sg_engine_t *e) {
  for (size_t i = 0; i < e->n_conns; i++) {
    int rc = sg__conn_open(e, i);
    if (rc != 0)
      return rc;
  }
  return 0;
}

int sg__conn_open(sg_engine_t *e, size_t i) {
  static const sg_conn_callbacks_t cbs = {
      .result_cb = conn_result_cb,
      .dlr_cb = sg__dlr_cb,
      .inbound_cb = sg__inbound_cb,
      .state_cb = conn_state_cb,
      .ready_cb = conn_ready_cb,
  };
  int64_t now = sg__now_ms(e);
  if (!sg__nodes_holds(e, i))
    return 0; /* another node binds it (nodes.c) */
  {
    sg__conn_t *c = &e->conns[i];
    if (conn_alloc(c, e->tun.conn_max_claimed) != 0)
      return SG_ENOMEM;
    memcpy(c->latency.bounds, e->send_lat.bounds, sizeof c->latency.bounds);
    bool modem = c->cfg->type == SG_CONFIG_CONNECTOR_MODEM;
    bool http = c->cfg->type == SG_CONFIG_CONNECTOR_HTTP;
    if (c->cfg->type != SG_CONFIG_CONNECTOR_SMPP && !modem && !http)
      return SG_ECONFIG;
    sg_smpp_client_config_t sc;
    if (!modem && !http)
      smpp_config(c->cfg, &sc);
    int rc = modem  ? sg__modem_conn_new(e, c, &cbs)
             : http ? sg__http_conn_new(e, c, &cbs)
                    : sg_smpp_client_new(e->loop, &sc, &cbs, c, &c->c);
    if (rc != 0) {
      sg__log(e, SG_ENGINE_LOG_ERROR, "connector %s: cannot create it: %s",
              c->cfg->name, sg_strerror(rc));
      return rc == SG_ENOMEM ? rc : SG_ECONFIG;
    }
    c->state = SG_CONN_CONNECTING;
    c->down_since_ms = now;
    rc = sg_connector_start(c->c);
    if (rc != 0) {
      sg__log(e, SG_ENGINE_LOG_ERROR, "connector %s: cannot start it: %s",
              c->cfg->name, sg_strerror(rc));
      return SG_ECONFIG;
    }
    c->stopped = false;
    if (http)
      sg__log(e, SG_ENGINE_LOG_INFO, "connector %s: HTTP provider",
              c->cfg->name);
    else if (modem)
      sg__log(e, SG_ENGINE_LOG_INFO, "connector %s: opening modem %s",
              c->cfg->name,
              c->cfg->device != NULL ? c->cfg->device : "pool");
    else
      sg__log(e, SG_ENGINE_LOG_INFO, "connector %s: connecting to %s:%u",
              c->cfg->name, c->cfg->host, (unsigned)c->cfg->port);
  }
  return 0;
}

static void conn_stopped_cb(sg_connector_t *cn) {
  sg__conn_t *c = cn->owner;
  sg_engine_t *e = c->e;
  c->stopped = true;
  c->state = SG_CONN_STOPPED;
  e->conns_stopping--;
  sg__schedule_flush(e);
  sg__maybe_stopped(e);
}

void sg__conn_retire(sg_engine_t *e, size_t i) {
  sg__conn_t *c = &e->conns[i];
  c->retired = true;
  sg__claim_wake(e, c);
  /* Parts waiting for room go back to the queue at once; those in flight
   * get their answers (or come back as unknown) while the binds close. */
  while (c->wait_len > 0) {
    slot_give_back(c, c->wait_q[c->wait_head]);
    c->wait_head = (c->wait_head + 1) % c->n_slots;
    c->wait_len--;
  }
  if (c->c != NULL && !c->stopped) {
    e->conns_stopping++;
    sg_connector_stop(c->c, conn_stopped_cb);
  }
  sg__schedule_flush(e);
}

void sg__conns_stop(sg_engine_t *e) {
  claim_wake_all(e); /* the claims waiting in the store end now */
  for (size_t i = 0; i < e->n_conns; i++) {
    sg__conn_t *c = &e->conns[i];
    /* Parts waiting for room go back to the queue at once. */
    while (c->wait_len > 0) {
      slot_give_back(c, c->wait_q[c->wait_head]);
      c->wait_head = (c->wait_head + 1) % c->n_slots;
      c->wait_len--;
    }
    /* A retired connector was stopped by its reload (counted then). */
    if (c->c != NULL && !c->stopped && !c->retired) {
      e->conns_stopping++;
      sg_connector_stop(c->c, conn_stopped_cb);
    }
  }
}

void sg__conns_free(sg_engine_t *e) {
  for (size_t i = 0; e->conns != NULL && i < e->n_conns; i++) {
    sg__conn_t *c = &e->conns[i];
    sg_connector_free(c->c);
    c->c = NULL;
    sg_free(c->slots);
    sg_free(c->free_list);
    sg_free(c->wait_q);
    c->slots = NULL;
    c->free_list = c->wait_q = NULL;
  }
}
