/* dlr.c - delivery receipts and inbound messages coming back from the
 * connectors.
 *
 * A receipt is matched through the store by (connector, the connector's key
 * of the operator's message id), the key the store kept when the part was
 * sent, so a receipt that arrives after a restart still finds its part.
 * Receipts are written in batches after the pending send results (a
 * receipt never overtakes the 'sent' it follows), and each is acknowledged
 * to its connector only once its batch committed. One that matches nothing
 * is held by the store (its send result may still be on the way, or its
 * submission's response was lost) and acknowledged at once: the send
 * result that names its id applies it (engine/dispatch.c counts those). On
 * a store that cannot hold, it is tried again a few times, then
 * acknowledged and dropped with a warning: an operator resending it
 * forever would help no one.
 *
 * An SMSC may send a receipt on any session of the account that sent the
 * message, so when several SMPP connectors bind the same account (host,
 * port and system_id), a receipt that matched nothing under its own
 * connector is tried under each of the others in turn (a copy that
 * acknowledges nothing; the original was acknowledged once held). A
 * receipt whose id can be read two ways (sg_conn_dlr_t.smsc_id_alt) is
 * tried under its other key the same way.
 *
 * Inbound messages are engine/inbound.c's.
 *
 * This file must never acknowledge anything before the store committed it.
 */
#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "core/error.h"
#include "core/str.h"
#include "engine/engine_int.h"

typedef struct rcpt_batch {
  sg_engine_t *e;
  size_t n;
  sg__rcpt_t r[];
} rcpt_batch_t;

/* SMPP message_state (SMPP 3.4 section 5.2.28) to a part status. ENROUTE
 * and ACCEPTED are intermediate (the event is kept, the part stays sent);
 * DELETED and UNKNOWN are final and say the message did not arrive. */
static sg_msg_status_t dlr_status(sg_conn_dlr_state_t s) {
  switch (s) {
  case SG_DLR_DELIVERED:
    return SG_MSG_DELIVERED;
  case SG_DLR_EXPIRED:
    return SG_MSG_EXPIRED;
  case SG_DLR_UNDELIVERABLE:
    return SG_MSG_UNDELIVERABLE;
  case SG_DLR_REJECTED:
    return SG_MSG_REJECTED;
  case SG_DLR_DELETED:
  case SG_DLR_UNKNOWN:
    return SG_MSG_FAILED;
  case SG_DLR_ENROUTE:
  case SG_DLR_ACCEPTED:
  default:
    return SG_MSG_SENT;
  }
}

static void ack(sg_engine_t *e, const sg__rcpt_t *r, bool accepted) {
  if (r->copy)
    return;
  sg__conn_t *c = &e->conns[r->conn];
  if (c->c != NULL)
    sg_connector_ack(c->c, r->token, accepted);
}

void sg__rcpts_nack_all(sg_engine_t *e, sg__vec_t *v) {
  for (size_t i = 0; i < v->n; i++)
    ack(e, (sg__rcpt_t *)v->items + i, false);
  v->n = 0;
}

void sg__dlr_cb(sg_connector_t *cn, void *owner, const sg_conn_dlr_t *dlr,
                uint64_t token) {
  sg__conn_t *c = owner;
  sg_engine_t *e = c->e;
  e->dlr_received++;
  sg__rcpt_t *r = sg__vec_push(&e->rcpts);
  if (r == NULL) {
    sg_connector_ack(cn, token, false);
    return;
  }
  r->conn = c->index;
  r->key_conn = c->index;
  r->copy = false;
  r->tries = 0;
  r->token = token;
  sg_strlcpy(r->smsc_id, dlr->smsc_id, sizeof r->smsc_id);
  sg_strlcpy(r->smsc_id_alt, dlr->smsc_id_alt, sizeof r->smsc_id_alt);
  if (dlr->raw != NULL && dlr->raw_len > 0) {
    size_t n = dlr->raw_len < sizeof r->detail - 1 ? dlr->raw_len
                                                   : sizeof r->detail - 1;
    sg_printable_copy(r->detail, (const char *)dlr->raw, n); /* as text */
  }
  r->in.status = dlr_status(dlr->state);
  r->in.error_code = (int32_t)dlr->error;
  /* The event is timed when smsgate learnt of it: a receipt's done date has
   * minute resolution and the SMSC's local time with no zone, so it could
   * put "delivered" before "sent". The receipt text (in detail) keeps it. */
  r->in.done_ms = 0;
  sg__schedule_flush(e);
}

static void dlr_retry_cb(uv_timer_t *t);

static void rcpt_later(sg_engine_t *e, const sg__rcpt_t *r) {
  sg__rcpt_t *l = sg__vec_push(&e->rcpt_later);
  if (l == NULL) {
    ack(e, r, false);
    return;
  }
  *l = *r;
  l->tries++;
  if (!uv_is_active((uv_handle_t *)&e->dlr_retry) && e->state == SG__RUNNING) {
    uv_timer_start(&e->dlr_retry, dlr_retry_cb, e->tun.dlr_retry_ms, 0);
  }
}

/* Whether connectors a and b bind the same SMPP account of one SMSC. */
static bool same_account(const sg_config_connector_t *a,
                         const sg_config_connector_t *b) {
  return a->type == SG_CONFIG_CONNECTOR_SMPP &&
         b->type == SG_CONFIG_CONNECTOR_SMPP && a->port == b->port &&
         a->host != NULL && b->host != NULL && strcmp(a->host, b->host) == 0 &&
         a->system_id != NULL && b->system_id != NULL &&
         strcmp(a->system_id, b->system_id) == 0;
}

/* A receipt held under key_conn: tried next under the following connector
 * (in configuration order, wrapping) of the same account, until the
 * receipt's own connector comes round again. */
static void rcpt_next_sibling(sg_engine_t *e, const sg__rcpt_t *r) {
  const sg_config_connector_t *own = e->conns[r->conn].cfg;
  for (size_t k = 1; k < e->n_conns; k++) {
    size_t j = (r->key_conn + k) % e->n_conns;
    if (j == r->conn)
      return;
    if (e->conns[j].cfg == NULL || !same_account(own, e->conns[j].cfg))
      continue;
    sg__rcpt_t *c = sg__vec_push(&e->rcpts);
    if (c == NULL)
      return; /* held under its own connector all the same */
    *c = *r;
    c->key_conn = j;
    c->copy = true;
    c->tries = 0;
    c->smsc_id_alt[0] = '\0'; /* the copy under the other key goes on */
    sg__schedule_flush(e);
    return;
  }
}

/* A receipt held under its key: tried under its other key too (the same
 * id read another way, sg_conn_dlr_t.smsc_id_alt). */
static void rcpt_alt_key(sg_engine_t *e, const sg__rcpt_t *r) {
  if (r->smsc_id_alt[0] == '\0')
    return;
  sg__rcpt_t *c = sg__vec_push(&e->rcpts);
  if (c == NULL)
    return;
  *c = *r;
  memcpy(c->smsc_id, r->smsc_id_alt, sizeof c->smsc_id);
  c->smsc_id_alt[0] = '\0';
  c->copy = true;
  c->tries = 0;
  sg__schedule_flush(e);
}

static void rcpt_item(sg_engine_t *e, const sg__rcpt_t *r,
                      const sg_store_item_res_t *it, bool *changed) {
  const char *cn = e->conns[r->key_conn].cfg->name;
  if (it->status == 0 && it->held) {
    /* Stored: its part's send result applies it when it names the id. */
    if (!r->copy)
      e->rcpt_held++;
    ack(e, r, true);
    if (r->copy && r->key_conn == r->conn)
      sg__log(e, SG_ENGINE_LOG_INFO,
              "connector=%s smsc_id=%s: receipt for no known part held (the "
              "same id read another way)",
              cn, r->smsc_id);
    else if (r->copy)
      sg__log(e, SG_ENGINE_LOG_INFO,
              "connector=%s smsc_id=%s: receipt that came on connector=%s "
              "(the same SMSC account) matches no part of it either: held",
              cn, r->smsc_id, e->conns[r->conn].cfg->name);
    else
      sg__log(e, SG_ENGINE_LOG_INFO,
              "connector=%s smsc_id=%s: receipt for no known part held", cn,
              r->smsc_id);
    rcpt_alt_key(e, r);
    rcpt_next_sibling(e, r);
  } else if (it->status == 0) {
    e->dlr_matched++;
    ack(e, r, true);
    *changed = *changed || it->msg_changed;
    sg__log(e, SG_ENGINE_LOG_INFO,
            "message=%s part=%u connector=%s smsc_id=%s: receipt, part %s%s%s",
            it->message_id, it->seq, cn, r->smsc_id,
            sg_store_status_name(it->part_status),
            it->msg_changed ? ", message " : "",
            it->msg_changed ? sg_store_status_name(it->msg_status) : "");
  } else if (it->status == SG_ENOENT && e->state != SG__RUNNING) {
    ack(e, r, false); /* stopping: the operator sends it again later */
  } else if (it->status == SG_ENOENT && r->tries < 3) {
    rcpt_later(e, r);
  } else {
    /* No such part after the retries, or one not in a state for it (a
     * late receipt for a part that already ended): nothing to record. */
    if (it->status == SG_ENOENT) {
      e->dlr_unmatched++;
      sg__log(e, SG_ENGINE_LOG_WARN,
              "connector=%s smsc_id=%s: receipt for no known part dropped", cn,
              r->smsc_id);
    }
    ack(e, r, true);
  }
}

static void rcpts_cb(sg_store_t *st, int status,
                     const sg_store_item_res_t *items, size_t n, void *data) {
  rcpt_batch_t *b = data;
  sg_engine_t *e = b->e;
  sg__op_end(e);
  bool changed = false;
  for (size_t i = 0; i < b->n; i++) {
    if (status != 0 || i >= n)
      ack(e, &b->r[i], false); /* the operator sends it again */
    else
      rcpt_item(e, &b->r[i], &items[i], &changed);
  }
  if (status == SG_EIO)
    e->store_ok = false;
  else if (status == 0)
    e->store_ok = true;
  if (changed)
    sg__notifier_poke(e);
  sg_free(b);
  sg__maybe_stopped(e);
}

static int rcpts_write(sg_engine_t *e, rcpt_batch_t *b) {
  sg_store_receipt_in_t *in = sg_calloc(b->n, sizeof *in);
  if (in == NULL)
    return SG_ENOMEM;
  for (size_t i = 0; i < b->n; i++) {
    in[i] = b->r[i].in;
    in[i].connector = e->conns[b->r[i].key_conn].cfg->name;
    in[i].smsc_id = b->r[i].smsc_id;
    in[i].detail = b->r[i].detail[0] ? b->r[i].detail : NULL;
  }
  int rc = sg_store_record_receipts(e->st, in, b->n, rcpts_cb, b);
  sg_free(in);
  if (rc == 0)
    sg__op_begin(e);
  return rc;
}

void sg__rcpts_flush(sg_engine_t *e) {
  while (e->rcpts.n > 0) {
    size_t n = e->rcpts.n < 1000 ? e->rcpts.n : 1000;
    rcpt_batch_t *b = sg_malloc(sizeof *b + n * sizeof(sg__rcpt_t));
    if (b == NULL)
      return;
    b->e = e;
    b->n = n;
    memcpy(b->r, e->rcpts.items, n * sizeof(sg__rcpt_t));
    int rc = rcpts_write(e, b);
    if (rc != 0) {
      sg_free(b);
      if (rc == SG_EBUSY || rc == SG_ENOMEM)
        return; /* kept for the next flush */
      for (size_t i = 0; i < n; i++)
        ack(e, (sg__rcpt_t *)e->rcpts.items + i, false);
    }
    memmove(e->rcpts.items, (sg__rcpt_t *)e->rcpts.items + n,
            (e->rcpts.n - n) * sizeof(sg__rcpt_t));
    e->rcpts.n -= n;
  }
}

static void dlr_retry_cb(uv_timer_t *t) {
  sg__rcpts_retry(t->data);
}

void sg__rcpts_retry(sg_engine_t *e) {
  for (size_t i = 0; i < e->rcpt_later.n; i++) {
    sg__rcpt_t *r = sg__vec_push(&e->rcpts);
    if (r == NULL) {
      ack(e, (sg__rcpt_t *)e->rcpt_later.items + i, false);
      continue;
    }
    *r = ((sg__rcpt_t *)e->rcpt_later.items)[i];
  }
  e->rcpt_later.n = 0;
  sg__flush_now(e);
}
