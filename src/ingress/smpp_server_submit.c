/* smpp_server_submit.c - the requests of a bound customer: submit_sm,
 * data_sm and submit_multi go through sg_engine_submit() and are answered
 * from its callback (after the store committed), with smsgate's message
 * id; query_sm and cancel_sm read and cancel through the engine.
 *
 * It must never answer a submit before the engine's callback, nor store
 * anything for a request it refuses (throughput, window, malformed
 * content are refused before the engine is called).
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "core/alloc.h"
#include "core/error.h"
#include "core/mo.h"
#include "ingress/smpp_server_int.h"
#include "smpp/smpptime.h"

typedef struct sub_ctx {
  sg__smpps_conn_t *conn;
  uint32_t command_id, seq;
  unsigned part_seq; /* a pre-split part: its seq, and its group's key */
  char key[SG_SMPPS_CONCAT_KEY];
  size_t n_dests; /* submit_multi: its destinations, allocated with it */
  sg_smpp_dest_address_t dests[];
} sub_ctx_t;

/* One request's decoded view, common to the three submit PDUs. */
typedef struct sub_in {
  uint8_t src_ton, src_npi;
  const char *src;
  uint8_t esm_class, priority, registered_delivery, data_coding;
  const char *schedule, *validity; /* "" when absent */
  const uint8_t *sm;
  size_t sm_len;
} sub_in_t;

/* ---- answers ------------------------------------------------------------- */

static bool usable(const sg__smpps_conn_t *c) {
  return c->link != NULL && sg_smpp_link_is_up(c->link);
}

static void respond_status(sg__smpps_conn_t *c, uint32_t cmd, uint32_t seq,
                           uint32_t status) {
  if (usable(c))
    sg_smpp_link_respond_status(c->link, cmd, seq, status);
}

static void respond_multi(sg__smpps_conn_t *c, const sub_ctx_t *x,
                          const sg_submit_res_t *res) {
  sg_smpp_pdu_t *p = c->srv->pdu;
  sg_smpp_pdu_init(p, SG_SMPP_SUBMIT_MULTI_RESP, x->seq);
  sg_smpp_submit_multi_resp_t *b = &p->body.submit_multi_resp;
  bool id_set = false;
  size_t j = 0;
  for (size_t i = 0; i < res->n_items; i++) {
    const sg_submit_item_t *it = &res->items[i];
    if (it->status == 0 && !id_set) {
      snprintf(b->message_id, sizeof b->message_id, "%s", it->id);
      id_set = true;
    } else if (it->status != 0 && i < x->n_dests) {
      sg_smpp_unsuccess_sme_t *u = &b->unsuccess_sme[j++];
      u->dest_addr_ton = x->dests[i].dest_addr_ton;
      u->dest_addr_npi = x->dests[i].dest_addr_npi;
      snprintf(u->destination_addr, sizeof u->destination_addr, "%s",
               x->dests[i].destination_addr);
      u->error_status_code = sg__smpps_item_status(it->error_code);
    }
  }
  b->no_unsuccess = (uint8_t)j;
  sg_smpp_link_respond(c->link, p);
}

static void submit_cb(sg_engine_t *e, const sg_submit_res_t *res, void *ud) {
  sub_ctx_t *x = ud;
  sg__smpps_conn_t *c = x->conn;
  sg_smpp_server_t *s = c->srv;
  (void)e;
  c->pending_in--;
  uint32_t st =
      sg__smpps_submit_status(res->status, res->error_code, res->error_field);
  if (st == 0 && res->replayed)
    st = SG_SMPP_ESME_RSYSERR; /* no idempotency keys over SMPP */
  if (st != 0) {
    s->st.submits_failed++;
    if (st == SG_SMPP_ESME_RTHROTTLED)
      s->st.throttled++;
    respond_status(c, x->command_id, x->seq, st);
  } else if (usable(c)) {
    s->st.submits_ok++;
    if (x->command_id == SG_SMPP_SUBMIT_MULTI) {
      respond_multi(c, x, res);
    } else {
      sg_smpp_pdu_t *p = s->pdu;
      sg_smpp_pdu_init(p, sg_smpp_response_id(x->command_id), x->seq);
      /* submit_sm_resp and data_sm_resp: message_id (4.4.2, 4.7.2); a
       * pre-split part's own id names its message and seq. */
      char *id = p->body.submit_sm_resp.message_id;
      size_t cap = sizeof p->body.submit_sm_resp.message_id;
      if (x->part_seq > 0) {
        sg__smpps_part_id(res->items[0].id, x->part_seq, id, cap);
        sg__smpps_concat_set_msg(s->concat, x->key, (int64_t)uv_now(s->loop),
                                 res->items[0].id);
      } else {
        snprintf(id, cap, "%s", res->items[0].id);
      }
      sg_smpp_link_respond(c->link, p);
    }
  }
  sg_free(x);
  sg__smpps_conn_unref(c);
}

/* ---- submitting ---------------------------------------------------------- */

/* An SMPP address as the engine takes it: international numbers (TON 1)
 * get their '+'. */
static void addr_text(uint8_t ton, const char *a, char *out, size_t cap) {
  if (ton == 1 && a[0] != '+' && a[0] != '\0')
    snprintf(out, cap, "+%s", a);
  else
    snprintf(out, cap, "%s", a);
}

/* Unix ms of an SMPP time field, 0 when empty; -1 when malformed. */
static int64_t smpp_time_ms(const char *t, int64_t now) {
  if (t == NULL || t[0] == '\0')
    return 0;
  sg_smpp_time_t tm;
  int64_t ms;
  if (sg_smpp_time_parse(t, strlen(t), &tm) != 0 ||
      sg_smpp_time_to_unix_ms(&tm, now, &ms) != 0)
    return -1;
  return ms;
}

static void sar_of(const sg_smpp_pdu_t *pdu, sg__smpps_sm_t *m) {
  uint32_t ref, total, seq;
  if (sg_smpp_tlv_get_int(pdu, SG_SMPP_TLV_SAR_MSG_REF_NUM, &ref) == 0 &&
      sg_smpp_tlv_get_int(pdu, SG_SMPP_TLV_SAR_TOTAL_SEGMENTS, &total) == 0 &&
      sg_smpp_tlv_get_int(pdu, SG_SMPP_TLV_SAR_SEGMENT_SEQNUM, &seq) == 0) {
    m->sar_ref = (uint16_t)ref;
    m->sar_total = (uint8_t)total;
    m->sar_seq = (uint8_t)seq;
  }
}

static int64_t wall_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Everything a refusal needs no engine for; returns the status. */
static uint32_t precheck(sg__smpps_conn_t *c, uint32_t n) {
  sg__smpps_acct_t *a = c->acct;
  sg_smpp_server_t *s = c->srv;
  uint32_t win = a->cfg->smpp.window;
  if (s->stopping) /* draining: the client sends it again elsewhere */
    return SG_SMPP_ESME_RTHROTTLED;
  if (win > 0 && c->pending_in >= win)
    return SG_SMPP_ESME_RTHROTTLED;
  if (!sg__smpps_bucket_take(&a->bucket, a->cfg->smpp.tps, n,
                             (int64_t)uv_now(s->loop)))
    return SG_SMPP_ESME_RTHROTTLED;
  return 0;
}

/* A pre-split part of a single-destination submit (a concatenation UDH,
 * or SAR TLVs made into one): its group's batch id and stored message
 * when known (smpp_server_concat.c) into ps and batch, its seq and key
 * into x. Returns ESME_ROK (x->part_seq 0: not such a part, or not
 * grouped), or the status refusing a seq of 0 or above the total. */
static uint32_t part_group(sg__smpps_conn_t *c, const sub_in_t *in,
                           const char *dst, const sg__smpps_content_t *ct,
                           bool sar, sub_ctx_t *x, sg_store_presplit_t *ps,
                           char batch[SG_ID_LEN + 1]) {
  sg_smpp_server_t *s = c->srv;
  sg_mo_udh_info_t u;
  x->part_seq = 0;
  if (!ct->is_raw || ct->udh_len == 0)
    return SG_SMPP_ESME_ROK;
  if (sg__smpps_concat_ie_bad(ct->udh, ct->udh_len))
    return sar ? SG_SMPP_ESME_RINVOPTPARAMVAL : SG_SMPP_ESME_RSUBMITFAIL;
  if (s->concat == NULL || sg_mo_parse_udh(ct->udh, ct->udh_len, &u) != 0 ||
      !u.concat || u.total < 2)
    return SG_SMPP_ESME_ROK;
  int64_t now = (int64_t)uv_now(s->loop);
  if (!sg__smpps_concat_key((size_t)(c->acct - s->accts), in->src, dst, u.ref,
                            u.total, x->key) ||
      sg__smpps_concat_batch(s->concat, x->key, u.total, u.seq, now, batch) !=
          0)
    return SG_SMPP_ESME_ROK;
  memset(ps, 0, sizeof *ps);
  sg__smpps_concat_msg(s->concat, x->key, now, ps->message_id);
  ps->ref = (uint16_t)u.ref;
  ps->total = (uint8_t)u.total;
  ps->seq = (uint8_t)u.seq;
  ps->wait_ms = s->sc->part_wait_ms ? s->sc->part_wait_ms : 600000;
  x->part_seq = u.seq;
  return SG_SMPP_ESME_ROK;
}

static void submit(sg__smpps_conn_t *c, const sg_smpp_event_t *ev,
                   const sub_in_t *in, const char *const *to, size_t n_to,
                   const sg_store_smpp_origin_t *origin, sub_ctx_t *x) {
  sg_smpp_server_t *s = c->srv;
  static sg__smpps_content_t ct; /* loop thread only; large */
  sg__smpps_sm_t m = {in->sm, in->sm_len, in->data_coding, in->esm_class, 0,
                      0,      0};
  sar_of(ev->pdu, &m);
  uint32_t st = sg__smpps_content(&m, &ct);
  int64_t now = wall_ms();
  int64_t send_at = smpp_time_ms(in->schedule, now);
  int64_t valid_until = smpp_time_ms(in->validity, now);
  if (st == 0 && send_at < 0)
    st = SG_SMPP_ESME_RINVSCHED;
  if (st == 0 && (valid_until < 0 || (valid_until > 0 && valid_until <= now)))
    st = SG_SMPP_ESME_RINVEXPIRY;
  if (st != 0) {
    s->st.submits_failed++;
    respond_status(c, ev->command_id, ev->sequence_number, st);
    sg_free(x);
    return;
  }
  char from[32];
  addr_text(in->src_ton, in->src, from, sizeof from);
  sg_submit_raw_t raw = {ct.encoding, ct.udh_len ? ct.udh : NULL, ct.udh_len,
                         ct.ud, ct.ud_len};
  sg_submit_req_t r;
  memset(&r, 0, sizeof r);
  r.account = c->acct->eng;
  r.to = to;
  r.n_to = n_to;
  r.from = from[0] ? from : NULL;
  if (ct.is_binary) {
    r.binary = ct.binary;
    r.binary_len = ct.binary_len;
  } else {
    r.text = ct.text;
    r.text_len = ct.text_len;
    r.encoding = ct.encoding == SG_ENC_8BIT ? SG_ENC_AUTO : ct.encoding;
  }
  r.raw = ct.is_raw ? &raw : NULL;
  char batch[SG_ID_LEN + 1];
  sg_store_presplit_t ps;
  st = n_to == 1
           ? part_group(c, in, to[0], &ct, m.sar_total != 0, x, &ps, batch)
           : 0;
  if (st != 0) {
    s->st.submits_failed++;
    respond_status(c, ev->command_id, ev->sequence_number, st);
    sg_free(x);
    return;
  }
  if (x->part_seq > 0) {
    r.batch_id = batch;
    r.presplit = &ps;
  }
  r.send_at_ms = send_at;
  r.validity_ms = valid_until > 0 ? valid_until - now : 0;
  r.priority = in->priority > 3 ? 3 : in->priority;
  r.dlr = (in->registered_delivery & 3) != 0;
  r.smpp = r.dlr ? origin : NULL;
  x->conn = c;
  x->command_id = ev->command_id;
  x->seq = ev->sequence_number;
  if (sg_engine_submit(s->engine, &r, submit_cb, x) != 0) {
    s->st.submits_failed++;
    respond_status(c, ev->command_id, ev->sequence_number,
                   SG_SMPP_ESME_RSYSERR);
    sg_free(x);
    return;
  }
  c->refs++;
  c->pending_in++;
}

static void on_submit_sm(sg__smpps_conn_t *c, const sg_smpp_event_t *ev) {
  const sg_smpp_submit_sm_t *b = &ev->pdu->body.submit_sm;
  sub_in_t in = {b->source_addr_ton, b->source_addr_npi,
                 b->source_addr,     b->esm_class,
                 b->priority_flag,   b->registered_delivery,
                 b->data_coding,     b->schedule_delivery_time,
                 b->validity_period, b->short_message,
                 b->sm_length};
  if (in.sm_len == 0)
    sg_smpp_tlv_get_bytes(ev->pdu, SG_SMPP_TLV_MESSAGE_PAYLOAD, &in.sm,
                          &in.sm_len);
  char dst[32];
  addr_text(b->dest_addr_ton, b->destination_addr, dst, sizeof dst);
  uint32_t st = dst[0] == '\0' ? SG_SMPP_ESME_RINVDSTADR : precheck(c, 1);
  sub_ctx_t *x = st == 0 ? sg_calloc(1, sizeof *x) : NULL;
  if (st == 0 && x == NULL)
    st = SG_SMPP_ESME_RSYSERR;
  if (st != 0) {
    c->srv->st.submits_failed += st != SG_SMPP_ESME_RTHROTTLED;
    c->srv->st.throttled += st == SG_SMPP_ESME_RTHROTTLED;
    respond_status(c, ev->command_id, ev->sequence_number, st);
    return;
  }
  const char *to[1] = {dst};
  sg_store_smpp_origin_t o = {b->registered_delivery, b->source_addr_ton,
                              b->source_addr_npi,     b->source_addr,
                              b->dest_addr_ton,       b->dest_addr_npi,
                              b->destination_addr};
  submit(c, ev, &in, to, 1, &o, x);
}

static void on_data_sm(sg__smpps_conn_t *c, const sg_smpp_event_t *ev) {
  const sg_smpp_data_sm_t *b = &ev->pdu->body.data_sm;
  sub_in_t in = {b->source_addr_ton,
                 b->source_addr_npi,
                 b->source_addr,
                 b->esm_class,
                 0,
                 b->registered_delivery,
                 b->data_coding,
                 "",
                 "",
                 NULL,
                 0};
  sg_smpp_tlv_get_bytes(ev->pdu, SG_SMPP_TLV_MESSAGE_PAYLOAD, &in.sm,
                        &in.sm_len);
  char dst[80];
  addr_text(b->dest_addr_ton, b->destination_addr, dst, sizeof dst);
  uint32_t st = dst[0] == '\0' ? SG_SMPP_ESME_RINVDSTADR : precheck(c, 1);
  sub_ctx_t *x = st == 0 ? sg_calloc(1, sizeof *x) : NULL;
  if (st == 0 && x == NULL)
    st = SG_SMPP_ESME_RSYSERR;
  if (st != 0) {
    c->srv->st.throttled += st == SG_SMPP_ESME_RTHROTTLED;
    respond_status(c, ev->command_id, ev->sequence_number, st);
    return;
  }
  const char *to[1] = {dst};
  sg_store_smpp_origin_t o = {b->registered_delivery, b->source_addr_ton,
                              b->source_addr_npi,     b->source_addr,
                              b->dest_addr_ton,       b->dest_addr_npi,
                              b->destination_addr};
  submit(c, ev, &in, to, 1, &o, x);
}

static void on_submit_multi(sg__smpps_conn_t *c, const sg_smpp_event_t *ev) {
  const sg_smpp_submit_multi_t *b = &ev->pdu->body.submit_multi;
  sub_in_t in = {b->source_addr_ton, b->source_addr_npi,
                 b->source_addr,     b->esm_class,
                 b->priority_flag,   b->registered_delivery,
                 b->data_coding,     b->schedule_delivery_time,
                 b->validity_period, b->short_message,
                 b->sm_length};
  if (in.sm_len == 0)
    sg_smpp_tlv_get_bytes(ev->pdu, SG_SMPP_TLV_MESSAGE_PAYLOAD, &in.sm,
                          &in.sm_len);
  uint32_t st = b->number_of_dests == 0 ? SG_SMPP_ESME_RINVNUMDESTS : 0;
  for (unsigned i = 0; st == 0 && i < b->number_of_dests; i++)
    if (b->dest_address[i].dest_flag != SG_SMPP_DEST_FLAG_SME)
      st = SG_SMPP_ESME_RCNTSUBDL; /* no distribution lists */
  if (st == 0)
    st = precheck(c, b->number_of_dests);
  sub_ctx_t *x =
      st == 0
          ? sg_calloc(1, sizeof *x + b->number_of_dests * sizeof x->dests[0])
          : NULL;
  if (st == 0 && x == NULL)
    st = SG_SMPP_ESME_RSYSERR;
  if (st != 0) {
    c->srv->st.throttled += st == SG_SMPP_ESME_RTHROTTLED;
    respond_status(c, ev->command_id, ev->sequence_number, st);
    return;
  }
  static char texts[SG_SMPP_MULTI_MAX][32];
  const char *to[SG_SMPP_MULTI_MAX];
  x->n_dests = b->number_of_dests;
  for (size_t i = 0; i < x->n_dests; i++) {
    x->dests[i] = b->dest_address[i];
    addr_text(x->dests[i].dest_addr_ton, x->dests[i].destination_addr, texts[i],
              sizeof texts[i]);
    to[i] = texts[i];
  }
  /* One origin for every recipient: the receipt takes each message's own
   * recipient (dest_addr ""). */
  sg_store_smpp_origin_t o = {b->registered_delivery,
                              b->source_addr_ton,
                              b->source_addr_npi,
                              b->source_addr,
                              1,
                              1,
                              ""};
  submit(c, ev, &in, to, x->n_dests, &o, x);
}

/* ---- query and cancel ---------------------------------------------------- */

typedef struct q_ctx {
  sg__smpps_conn_t *conn;
  uint32_t command_id, seq;
  char id[65];       /* as the customer gave it (a C-Octet 65) */
  unsigned part_seq; /* a pre-split part's id: its seq */
} q_ctx_t;

/* The part `seq` of m, or NULL. */
static const sg_store_part_t *part_of(const sg_store_message_t *m,
                                      unsigned seq) {
  for (size_t i = 0; i < m->n_parts; i++)
    if (m->parts[i].seq == seq && m->parts[i].connector != NULL &&
        m->parts[i].connector[0] != '\0')
      return &m->parts[i];
  return NULL;
}

static void query_cb(sg_engine_t *e, int status, const sg_store_message_t *m,
                     void *ud) {
  q_ctx_t *x = ud;
  sg__smpps_conn_t *c = x->conn;
  (void)e;
  c->pending_in--;
  /* A part's id answers for that part (section 4.8.1: the state of the
   * short message it names). */
  const sg_store_part_t *part =
      status == 0 && x->part_seq > 0 ? part_of(m, x->part_seq) : NULL;
  if (status == 0 && x->part_seq > 0 && part == NULL)
    status = SG_ENOENT;
  if (status != 0) {
    respond_status(c, x->command_id, x->seq,
                   status == SG_ENOENT ? SG_SMPP_ESME_RQUERYFAIL
                                       : SG_SMPP_ESME_RSYSERR);
  } else if (usable(c)) {
    sg_msg_status_t st = part != NULL ? part->status : m->status;
    int64_t when = part != NULL ? part->updated_ms : m->updated_ms;
    int32_t err = part != NULL ? part->error_code : m->error_code;
    sg_smpp_pdu_t *p = c->srv->pdu;
    sg_smpp_pdu_init(p, SG_SMPP_QUERY_SM_RESP, x->seq);
    sg_smpp_query_sm_resp_t *b = &p->body.query_sm_resp;
    snprintf(b->message_id, sizeof b->message_id, "%s", x->id);
    b->message_state = sg__smpps_message_state(st);
    if (st == SG_MSG_QUEUED || st == SG_MSG_SCHEDULED)
      b->message_state = SG_MESSAGE_STATE_ACCEPTED;
    sg_smpp_time_t t;
    if (sg_store_status_final(st) &&
        sg_smpp_time_from_unix_ms(when, 0, &t) == 0)
      sg_smpp_time_format(&t, b->final_date);
    b->error_code = (uint8_t)(err > 0 && err < 256 ? err : 0);
    sg_smpp_link_respond(c->link, p);
  }
  sg_free(x);
  sg__smpps_conn_unref(c);
}

static void cancel_cb(sg_engine_t *e, int status, void *ud) {
  q_ctx_t *x = ud;
  sg__smpps_conn_t *c = x->conn;
  (void)e;
  c->pending_in--;
  uint32_t st = status == 0           ? SG_SMPP_ESME_ROK
                : status == SG_ENOENT ? SG_SMPP_ESME_RINVMSGID
                : status == SG_ESTATE ? SG_SMPP_ESME_RCANCELFAIL
                                      : SG_SMPP_ESME_RSYSERR;
  respond_status(c, x->command_id, x->seq, st);
  sg_free(x);
  sg__smpps_conn_unref(c);
}

static void query_or_cancel(sg__smpps_conn_t *c, const sg_smpp_event_t *ev,
                            const char *id) {
  sg_smpp_server_t *s = c->srv;
  char mid[SG_ID_LEN + 1];
  unsigned part_seq;
  q_ctx_t *x = sg__smpps_split_id(id, mid, &part_seq) == 0
                   ? sg_calloc(1, sizeof *x)
                   : NULL;
  if (x == NULL) {
    respond_status(c, ev->command_id, ev->sequence_number,
                   SG_SMPP_ESME_RINVMSGID);
    return;
  }
  x->conn = c;
  x->command_id = ev->command_id;
  x->seq = ev->sequence_number;
  x->part_seq = part_seq;
  snprintf(x->id, sizeof x->id, "%s", id);
  /* cancel_sm of a part cancels its whole message: the parts are one
   * message, sent as one. */
  int rc =
      ev->command_id == SG_SMPP_QUERY_SM
          ? sg_engine_get_message(s->engine, mid, c->acct->eng->id, query_cb, x)
          : sg_engine_cancel(s->engine, mid, c->acct->eng->id, cancel_cb, x);
  if (rc != 0) {
    sg_free(x);
    respond_status(c, ev->command_id, ev->sequence_number,
                   rc == SG_EINVAL ? SG_SMPP_ESME_RINVMSGID
                                   : SG_SMPP_ESME_RSYSERR);
    return;
  }
  c->refs++;
  c->pending_in++;
}

void sg__smpps_on_request(sg__smpps_conn_t *c, const sg_smpp_event_t *ev) {
  uint32_t cmd = ev->command_id, seq = ev->sequence_number;
  if (c->acct == NULL || c->acct->eng == NULL) {
    respond_status(c, cmd, seq, SG_SMPP_ESME_RINVBNDSTS);
    return;
  }
  switch (cmd) {
  case SG_SMPP_SUBMIT_SM:
    c->srv->st.submits++;
    on_submit_sm(c, ev);
    break;
  case SG_SMPP_DATA_SM:
    c->srv->st.submits++;
    on_data_sm(c, ev);
    break;
  case SG_SMPP_SUBMIT_MULTI:
    c->srv->st.submits++;
    on_submit_multi(c, ev);
    break;
  case SG_SMPP_QUERY_SM:
    query_or_cancel(c, ev, ev->pdu->body.query_sm.message_id);
    break;
  case SG_SMPP_CANCEL_SM:
    query_or_cancel(c, ev, ev->pdu->body.cancel_sm.message_id);
    break;
  case SG_SMPP_REPLACE_SM:
    respond_status(c, cmd, seq, SG_SMPP_ESME_RREPLACEFAIL);
    break;
  default:
    respond_status(c, cmd, seq, SG_SMPP_ESME_RINVCMDID);
    break;
  }
}
