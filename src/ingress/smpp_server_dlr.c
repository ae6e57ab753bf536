/* smpp_server_dlr.c - delivery receipts back to SMPP customers: for each
 * account with a receiver or transceiver bound and room in its binds'
 * windows, receipts are claimed from the store (oldest first, under a
 * lease), sent as deliver_sm with the Appendix B text of SMPP 3.4 and the
 * receipted_message_id and message_state TLVs, and recorded as delivered
 * once the customer answered deliver_sm_resp (in groups, one store write
 * per tick). A receipt the customer refused or left unanswered goes back
 * to the queue for the next claim. Incoming messages for the customer
 * come in the same claims and go out through smpp_server_mo.c.
 *
 * It must never drop a receipt that the customer did not answer: only the
 * store's receipt_max_age drops (and counts) them.
 */
#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "core/error.h"
#include "ingress/smpp_server_int.h"

typedef sg__smpps_out_ctx_t dlr_ctx_t;

/* ---- recording ----------------------------------------------------------- */

static void finish_cb(sg_store_t *st, int status, void *data) {
  sg_smpp_server_t *s = data;
  (void)st;
  s->store_out--;
  if (status != 0)
    sg__smpps_log(s, SG_CONFIG_LOG_WARN,
                  "smpp server: cannot record receipts as sent (%s); they "
                  "will be sent again",
                  sg_strerror(status));
  sg__smpps_maybe_stopped(s);
}

void sg__smpps_flush_done(sg_smpp_server_t *s) {
  while (s->n_done > 0) {
    size_t n = s->n_done > 1000 ? 1000 : s->n_done;
    if (sg_store_smpp_out_finish(s->store, s->done, n, finish_cb, s) != 0)
      return; /* kept for the next tick */
    s->store_out++;
    memmove(s->done, s->done + n, (s->n_done - n) * sizeof *s->done);
    s->n_done -= n;
  }
}

void sg__smpps_record(sg_smpp_server_t *s, int64_t row, bool done) {
  if (s->n_done == s->cap_done) {
    sg_store_smpp_out_result_t *d =
        sg_grow(s->done, &s->cap_done, s->n_done + 1, 256, sizeof *d);
    if (d == NULL)
      return; /* the lease brings it back */
    s->done = d;
  }
  s->done[s->n_done].id = row;
  s->done[s->n_done].done = done;
  s->n_done++;
  if (s->n_done >= 512)
    sg__smpps_flush_done(s);
}

void sg__smpps_on_response(sg__smpps_conn_t *c, const sg_smpp_event_t *ev) {
  dlr_ctx_t *x = ev->ctx;
  sg_smpp_server_t *s = c->srv;
  if (x == NULL)
    return;
  bool ok = ev->type == SG_SMPP_EV_RESPONSE && ev->command_status == 0;
  if (x->mo != NULL)
    sg__smpps_mo_answered(s, x, ok);
  else {
    if (ok)
      s->st.receipts_acked++;
    sg__smpps_record(s, x->row, ok);
  }
  c->in_flight--;
  x->acct->in_flight--;
  if (!ok || x->acct->more)
    x->acct->more = true;
  sg_free(x);
  if (!s->stopping && ok)
    sg__smpps_pump(s);
}

/* ---- sending ------------------------------------------------------------- */

static void receipt_date(int64_t ms, sg_receipt_date_t *out) {
  if (sg_receipt_date_from_epoch(ms / 1000, false, out) != 0)
    sg_receipt_date_from_epoch(0, false, out);
}

/* The first 20 characters of the message for "text:" (Appendix B), as
 * printable ASCII. */
static size_t receipt_snippet(const sg_store_smpp_out_t *o, char *out) {
  size_t n = 0;
  for (size_t i = 0; !o->binary && i < o->body_len && n < 20; i++) {
    uint8_t ch = o->body[i];
    if (ch >= 0x80 && ch < 0xC0)
      continue; /* UTF-8 continuation */
    out[n++] = ch >= 0x20 && ch < 0x7F ? (char)ch : '?';
  }
  out[n] = '\0';
  return n;
}

static int build(sg_smpp_server_t *s, const sg_store_smpp_out_t *o) {
  sg_receipt_t r;
  memset(&r, 0, sizeof r);
  if (o->part_seq > 0) /* a pre-split part: the id its submit got */
    sg__smpps_part_id(o->message_id, o->part_seq, r.id, sizeof r.id);
  else
    snprintf(r.id, sizeof r.id, "%s", o->message_id);
  r.sub = 1;
  r.dlvrd = o->status == SG_MSG_DELIVERED ? 1 : 0;
  receipt_date(o->submit_ms, &r.submit_date);
  receipt_date(o->done_ms, &r.done_date);
  r.stat = sg__smpps_receipt_stat(o->status);
  r.err =
      o->error_code > 0 && o->error_code < 1000 ? (uint32_t)o->error_code : 0;
  r.text_len = receipt_snippet(o, r.text);
  sg_smpp_pdu_t *p = s->pdu;
  sg_smpp_pdu_init(p, SG_SMPP_DELIVER_SM, 0);
  sg_smpp_deliver_sm_t *b = &p->body.deliver_sm;
  size_t n = 0;
  if (sg_receipt_format(&r, b->short_message, sizeof b->short_message, &n))
    return SG_EINVAL;
  b->sm_length = (uint8_t)n;
  /* The receipt travels back: from the recipient to the sender. */
  const sg_store_smpp_origin_t *g = &o->origin;
  const char *dst = g->dest_addr != NULL && g->dest_addr[0] ? g->dest_addr
                    : o->recipient != NULL && o->recipient[0] == '+'
                        ? o->recipient + 1
                        : "";
  b->source_addr_ton = g->dest_ton;
  b->source_addr_npi = g->dest_npi;
  snprintf(b->source_addr, sizeof b->source_addr, "%s", dst);
  b->dest_addr_ton = g->source_ton;
  b->dest_addr_npi = g->source_npi;
  snprintf(b->destination_addr, sizeof b->destination_addr, "%s",
           g->source_addr ? g->source_addr : "");
  b->esm_class = 0x04; /* SMSC Delivery Receipt, section 5.2.12 */
  /* The TLV points at its value until the PDU is encoded: keep it in the
   * server, not on this stack. */
  memcpy(s->receipt_id, r.id, sizeof s->receipt_id);
  sg_smpp_tlv_set_cstr(p, SG_SMPP_TLV_RECEIPTED_MESSAGE_ID, s->receipt_id);
  sg_smpp_tlv_set_int(p, SG_SMPP_TLV_MESSAGE_STATE,
                      (uint32_t)sg__smpps_message_state(o->status), 1);
  return 0;
}

/* The receiver of the account with the most room, or NULL. */
sg__smpps_conn_t *sg__smpps_target(sg_smpp_server_t *s,
                                   const sg__smpps_acct_t *a) {
  sg__smpps_conn_t *best = NULL;
  for (sg__smpps_conn_t *c = s->conns; c != NULL; c = c->next) {
    if (c->acct != a || !c->receives || c->link == NULL ||
        !sg_smpp_link_writable(c->link) || c->in_flight >= c->window)
      continue;
    if (best == NULL ||
        c->window - c->in_flight > best->window - best->in_flight)
      best = c;
  }
  return best;
}

static void send_one(sg_smpp_server_t *s, sg__smpps_acct_t *a,
                     const sg_store_smpp_out_t *o) {
  sg__smpps_conn_t *c = sg__smpps_target(s, a);
  dlr_ctx_t *x = c != NULL ? sg_calloc(1, sizeof *x) : NULL;
  if (x == NULL || build(s, o) != 0) {
    sg_free(x);
    sg__smpps_record(s, o->id, false);
    a->more = true;
    return;
  }
  x->row = o->id;
  x->acct = a;
  if (sg_smpp_link_send(c->link, s->pdu, x) <= 0) {
    sg_free(x);
    sg__smpps_record(s, o->id, false);
    a->more = true;
    return;
  }
  c->in_flight++;
  a->in_flight++;
  s->st.receipts_sent++;
}

/* A row the store handed over as it committed it: sent now if a receiving
 * bind of its account has room. A row left alone keeps its short lease and
 * is claimed after it, as it would have been without the hand-off. */
void sg__smpps_handoff_cb(sg_store_t *st, const sg_store_smpp_out_t *rows,
                          size_t n, void *data) {
  sg_smpp_server_t *s = data;
  (void)st;
  for (size_t i = 0; i < n && !s->stopping; i++) {
    sg__smpps_acct_t *a = NULL;
    for (size_t k = 0; k < s->n_accts && a == NULL; k++)
      if (s->accts[k].eng != NULL && s->accts[k].eng->id == rows[i].account_id)
        a = &s->accts[k];
    if (a == NULL || rows[i].mo || sg__smpps_target(s, a) == NULL)
      continue;
    uint64_t before = s->st.receipts_sent;
    send_one(s, a, &rows[i]);
    s->st.receipts_handed += s->st.receipts_sent - before;
  }
}

typedef struct claim_ctx {
  sg_smpp_server_t *srv;
  sg__smpps_acct_t *acct;
  unsigned asked;
} claim_ctx_t;

static void claim_cb(sg_store_t *st, int status, const sg_store_smpp_out_t *o,
                     size_t n, size_t dropped, void *data) {
  claim_ctx_t *x = data;
  sg_smpp_server_t *s = x->srv;
  sg__smpps_acct_t *a = x->acct;
  (void)st;
  s->store_out--;
  a->claiming = false;
  a->more = status == 0 && n == x->asked;
  if (dropped > 0) {
    s->st.receipts_dropped += dropped;
    sg__smpps_log(s, SG_CONFIG_LOG_WARN,
                  "smpp server: %zu receipt(s) of %s older than "
                  "receipt_max_age dropped",
                  dropped, a->cfg->name);
  }
  for (size_t i = 0; i < n; i++) {
    if (s->stopping)
      sg__smpps_record(s, o[i].id, false);
    else if (o[i].mo)
      sg__smpps_send_mo(s, a, &o[i]);
    else
      send_one(s, a, &o[i]);
  }
  sg_free(x);
  sg__smpps_maybe_stopped(s);
  if (a->more && !s->stopping)
    sg__smpps_pump(s);
}

/* Room for receipts in the account's receiving binds. */
static unsigned room(sg_smpp_server_t *s, const sg__smpps_acct_t *a) {
  unsigned r = 0;
  for (sg__smpps_conn_t *c = s->conns; c != NULL; c = c->next)
    if (c->acct == a && c->receives && c->link != NULL &&
        c->in_flight < c->window)
      r += c->window - c->in_flight;
  return r;
}

static void claim(sg_smpp_server_t *s, sg__smpps_acct_t *a, unsigned max) {
  claim_ctx_t *x = sg_calloc(1, sizeof *x);
  if (x == NULL)
    return;
  x->srv = s;
  x->acct = a;
  x->asked = max > SG_SMPPS_CLAIM_MAX ? SG_SMPPS_CLAIM_MAX : max;
  int rc =
      sg_store_smpp_out_claim(s->store, a->eng->id, x->asked, 60000,
                              (int64_t)s->sc->receipt_max_age_ms, claim_cb, x);
  if (rc != 0) {
    sg_free(x);
    return;
  }
  a->claiming = true;
  s->store_out++;
}

void sg__smpps_pump(sg_smpp_server_t *s) {
  if (s->stopping)
    return;
  for (size_t i = 0; i < s->n_accts; i++) {
    sg__smpps_acct_t *a = &s->accts[i];
    if (a->claiming || a->eng == NULL)
      continue;
    unsigned r = room(s, a);
    /* Claim when there is room for a useful batch, or for anything when
     * the queue may hold more. */
    if (r > 0 && (a->more || a->in_flight == 0 || r * 2 >= a->in_flight))
      claim(s, a, r);
  }
}
