/* smsc_submit.c - how the SMSC simulator answers what an ESME sends:
 * submit_sm (SMPP 3.4 section 4.4), data_sm (4.7) and submit_multi (4.5)
 * get a new message_id or an injected ESME_RTHROTTLED, now or after the
 * configured latency; accepted messages are written to the record file and
 * their receipts queued (smsc_deliver.c). Faults are injected here, per
 * request received: dropped or reset connections, connections that stop
 * answering, generic_nack instead of a response, responses held past the
 * client's timeout.
 *
 * This is the simulator's hot path: it must never allocate per message
 * (responses are built in one scratch PDU, delayed ones wait in a ring) and
 * never block (the record file is written through a large stdio buffer).
 */
#include <string.h>

#include "core/alloc.h"
#include "sim/smsc_int.h"

/* ---- Message ids --------------------------------------------------------- */

static size_t format_id(sg_sim_id_format_t fmt, uint64_t id, char *out) {
  const char *digits = fmt == SG_SIM_ID_HEX_UPPER ? "0123456789ABCDEF"
                                                  : "0123456789abcdef";
  unsigned base = fmt == SG_SIM_ID_DEC ? 10u : 16u;
  char tmp[24];
  size_t n = 0;
  do {
    tmp[n++] = digits[id % base];
    id /= base;
  } while (id != 0);
  for (size_t i = 0; i < n; i++)
    out[i] = tmp[n - 1 - i];
  out[n] = '\0';
  return n;
}

size_t sg__sim_format_id(const sg_sim_smsc_t *sim, uint64_t id, char *out) {
  return format_id(sim->cfg.id_format, id, out);
}

size_t sg__sim_format_receipt_id(const sg_sim_smsc_t *sim, uint64_t id,
                                 char *out) {
  sg_sim_id_format_t f = sim->cfg.receipt_id_format;
  return format_id(f == SG_SIM_ID_SAME ? sim->cfg.id_format : f, id, out);
}

/* ---- The record file ----------------------------------------------------- */

int sg__sim_record_open(sg_sim_smsc_t *sim, char *errbuf, size_t errcap) {
  if (sim->cfg.record_path == NULL)
    return 0;
  sim->record = fopen(sim->cfg.record_path, "a");
  if (sim->record == NULL) {
    snprintf(errbuf, errcap, "cannot open record file '%s'",
             sim->cfg.record_path);
    return SG_ECONFIG;
  }
  setvbuf(sim->record, NULL, _IOFBF, 1u << 20);
  return 0;
}

void sg_sim_smsc_flush_record(sg_sim_smsc_t *sim) {
  if (sim->record != NULL && sim->record_dirty)
    fflush(sim->record);
  sim->record_dirty = false;
}

/* What a submit carried, whatever PDU it came in. */
typedef struct submit {
  uint32_t command_id;
  uint32_t seq;
  sg__sim_addr_t src;
  uint8_t esm_class;
  uint8_t registered_delivery;
  uint8_t data_coding;
  const uint8_t *sm; /* short_message or message_payload */
  size_t sm_len;
  unsigned ref, seqnum, total; /* concatenation, 0/1/1 when single */
} submit_t;

static void put_addr(sg__sim_addr_t *a, uint8_t ton, uint8_t npi,
                     const char *addr) {
  a->ton = ton;
  a->npi = npi;
  size_t n = strnlen(addr, SG__SIM_ADDR - 1);
  memcpy(a->addr, addr, n);
  a->addr[n] = '\0';
}

/* Concatenation from the SAR TLVs (section 5.3.2.22-24) or from a
 * concatenation IE of the UDH (TS 23.040 9.2.3.24.1 and .8). */
static void find_concat(const sg_smpp_pdu_t *pdu, submit_t *m) {
  uint32_t ref, total, seqnum;
  m->ref = 0;
  m->seqnum = m->total = 1;
  if (sg_smpp_tlv_get_int(pdu, SG_SMPP_TLV_SAR_MSG_REF_NUM, &ref) == 0 &&
      sg_smpp_tlv_get_int(pdu, SG_SMPP_TLV_SAR_TOTAL_SEGMENTS, &total) == 0 &&
      sg_smpp_tlv_get_int(pdu, SG_SMPP_TLV_SAR_SEGMENT_SEQNUM, &seqnum) == 0) {
    m->ref = ref;
    m->total = total;
    m->seqnum = seqnum;
    return;
  }
  if (!(m->esm_class & 0x40) || m->sm_len < 1 || m->sm[0] + 1u > m->sm_len)
    return;
  const uint8_t *p = m->sm + 1, *end = m->sm + 1 + m->sm[0];
  while (end - p >= 2 && p[1] <= end - p - 2) {
    if (p[0] == 0x00 && p[1] == 3) {
      m->ref = p[2], m->total = p[3], m->seqnum = p[4];
      return;
    }
    if (p[0] == 0x08 && p[1] == 4) {
      m->ref = (unsigned)p[2] << 8 | p[3], m->total = p[4], m->seqnum = p[5];
      return;
    }
    p += 2 + p[1];
  }
}

static void record(sg_sim_smsc_t *sim, uint64_t msgid, const submit_t *m,
                   const sg__sim_addr_t *dst) {
  static const char hex[] = "0123456789abcdef";
  char id[24], line[256];
  sg__sim_format_id(sim, msgid, id);
  int n = snprintf(line, sizeof line,
                   "id=%s src=%s dst=%s dc=%u esm=%u ref=%u seq=%u total=%u "
                   "rd=%u sm=",
                   id, m->src.addr[0] ? m->src.addr : "-",
                   dst->addr[0] ? dst->addr : "-", m->data_coding, m->esm_class,
                   m->ref, m->seqnum, m->total, m->registered_delivery);
  fwrite(line, 1, (size_t)n, sim->record);
  for (size_t i = 0; i < m->sm_len; i++) {
    putc(hex[m->sm[i] >> 4], sim->record);
    putc(hex[m->sm[i] & 15], sim->record);
  }
  putc('\n', sim->record);
  sim->record_dirty = true;
}

/* ---- Answers ------------------------------------------------------------- */

static void respond_now(sg__sim_conn_t *c, uint32_t command_id, uint32_t seq,
                        uint32_t status, uint64_t msgid) {
  sg_sim_smsc_t *sim = c->sim;
  if (status != SG_SMPP_ESME_ROK) {
    sg_smpp_link_respond_status(c->link, command_id, seq, status);
    return;
  }
  sg_smpp_pdu_t *p = sim->pdu;
  sg_smpp_pdu_init(p, sg_smpp_response_id(command_id), seq);
  /* submit_sm_resp, data_sm_resp and submit_multi_resp all start with
   * message_id (sections 4.4.2, 4.7.2, 4.5.2). */
  if (command_id == SG_SMPP_SUBMIT_MULTI) {
    sg__sim_format_id(sim, msgid, p->body.submit_multi_resp.message_id);
    p->body.submit_multi_resp.no_unsuccess = 0;
  } else {
    sg__sim_format_id(sim, msgid, p->body.submit_sm_resp.message_id);
  }
  sg_smpp_link_respond(c->link, p);
}

/* Answers now, or after `delay` ms through `ring` (whose entries all wait
 * the same time, so that it stays in due order). */
static void answer_in(sg__sim_conn_t *c, uint32_t command_id, uint32_t seq,
                      uint32_t status, uint64_t msgid, bool late) {
  sg_sim_smsc_t *sim = c->sim;
  sg__sim_count_status(sim, status);
  uint64_t delay = sim->cfg.latency_ms + (late ? sim->cfg.late_ms : 0);
  if (delay == 0) {
    respond_now(c, command_id, seq, status, msgid);
    return;
  }
  sg__sim_ring_t *ring = late ? &sim->lates : &sim->resps;
  uv_timer_t *timer = late ? &sim->late_timer : &sim->resp_timer;
  bool was_empty = ring->count == 0;
  sg__sim_resp_t *r = sg__sim_ring_push(ring);
  if (r == NULL) {
    respond_now(c, command_id, seq, status, msgid);
    return;
  }
  r->due = sg_smpp_link_now(c->link) + delay;
  r->msgid = msgid;
  r->slot = c->slot;
  r->gen = c->gen;
  r->command_id = command_id;
  r->seq = seq;
  r->status = status;
  if (was_empty)
    uv_timer_start(timer,
                   late ? sg__sim_late_timer_cb : sg__sim_resp_timer_cb,
                   delay, 0);
}

static void answer(sg__sim_conn_t *c, uint32_t command_id, uint32_t seq,
                   uint32_t status, uint64_t msgid) {
  answer_in(c, command_id, seq, status, msgid, false);
}

/* Writes the responses of `ring` that are due, and waits for the next. */
static void answer_due(sg_sim_smsc_t *sim, sg__sim_ring_t *ring, uv_timer_t *t,
                       uv_timer_cb cb) {
  uint64_t now = uv_now(sim->loop);
  sg__sim_resp_t *r;
  while ((r = sg__sim_ring_front(ring)) != NULL && r->due <= now) {
    sg__sim_conn_t *c = sg__sim_conn_get(sim, r->slot, r->gen);
    if (c != NULL && !c->hung)
      respond_now(c, r->command_id, r->seq, r->status, r->msgid);
    sg__sim_ring_pop(ring);
  }
  if (r != NULL)
    uv_timer_start(t, cb, r->due - now, 0);
}

void sg__sim_resp_timer_cb(uv_timer_t *t) {
  sg_sim_smsc_t *sim = t->data;
  answer_due(sim, &sim->resps, t, sg__sim_resp_timer_cb);
}

void sg__sim_late_timer_cb(uv_timer_t *t) {
  sg_sim_smsc_t *sim = t->data;
  answer_due(sim, &sim->lates, t, sg__sim_late_timer_cb);
}

/* ---- Submits ------------------------------------------------------------- */

/* Accepts (or throttles) one message for ndst destinations. */
static void accept_submit(sg__sim_conn_t *c, submit_t *m,
                          const sg__sim_addr_t *dsts, unsigned ndst) {
  sg_sim_smsc_t *sim = c->sim;
  sim->st.submits++;
  if (sim->cfg.throttle > 0 && sg__sim_rand(sim) < sim->cfg.throttle) {
    answer(c, m->command_id, m->seq, SG_SMPP_ESME_RTHROTTLED, 0);
    return;
  }
  if (sim->cfg.nack > 0 && sg__sim_rand(sim) < sim->cfg.nack) {
    /* Section 4.3: generic_nack with the request's sequence_number. */
    sim->st.nacks++;
    sg__sim_count_status(sim, SG_SMPP_ESME_RSYSERR);
    sg_smpp_link_respond_nack(c->link, m->seq, SG_SMPP_ESME_RSYSERR);
    return;
  }
  bool late = sim->cfg.late > 0 && sg__sim_rand(sim) < sim->cfg.late;
  uint64_t msgid = sim->next_id++;
  if (late)
    sim->st.late++;
  answer_in(c, m->command_id, m->seq, SG_SMPP_ESME_ROK, msgid, late);
  uint64_t delay = sim->cfg.dlr_delay_ms;
  if (!sim->cfg.dlr_early)
    delay += sim->cfg.latency_ms;
  for (unsigned i = 0; i < ndst; i++) {
    if (sim->record != NULL)
      record(sim, msgid, m, &dsts[i]);
    if (m->registered_delivery & 0x03)
      sg__sim_queue_receipt(sim, c, msgid, delay, m->registered_delivery,
                            &m->src, &dsts[i], m->data_coding, m->sm, m->sm_len,
                            (m->esm_class & 0x40) != 0);
  }
}

static void payload(const sg_smpp_pdu_t *pdu, const uint8_t *sm, size_t sm_len,
                    submit_t *m) {
  m->sm = sm;
  m->sm_len = sm_len;
  if (sm_len == 0)
    sg_smpp_tlv_get_bytes(pdu, SG_SMPP_TLV_MESSAGE_PAYLOAD, &m->sm, &m->sm_len);
  find_concat(pdu, m);
}

/* An address as a request carries it, before it is kept. */
typedef struct raw_addr {
  uint8_t ton, npi;
  const char *addr;
} raw_addr_t;

/* Takes one submit_sm or data_sm (the same fields under the same names):
 * an empty destination is refused, else the message is accepted. */
static void take_one(sg__sim_conn_t *c, const sg_smpp_pdu_t *pdu, submit_t *m,
                     raw_addr_t src, raw_addr_t dst, const uint8_t *sm,
                     size_t sm_len) {
  if (dst.addr[0] == '\0') {
    c->sim->st.submits++;
    answer(c, m->command_id, m->seq, SG_SMPP_ESME_RINVDSTADR, 0);
    return;
  }
  sg__sim_addr_t d;
  put_addr(&m->src, src.ton, src.npi, src.addr);
  put_addr(&d, dst.ton, dst.npi, dst.addr);
  payload(pdu, sm, sm_len, m);
  accept_submit(c, m, &d, 1);
}

static void on_submit_sm(sg__sim_conn_t *c, const sg_smpp_pdu_t *pdu) {
  const sg_smpp_submit_sm_t *b = &pdu->body.submit_sm;
  submit_t m = {.command_id = SG_SMPP_SUBMIT_SM,
                .seq = pdu->sequence_number,
                .esm_class = b->esm_class,
                .registered_delivery = b->registered_delivery,
                .data_coding = b->data_coding};
  c->sim->st.submit_sm++;
  take_one(
      c, pdu, &m,
      (raw_addr_t){b->source_addr_ton, b->source_addr_npi, b->source_addr},
      (raw_addr_t){b->dest_addr_ton, b->dest_addr_npi, b->destination_addr},
      b->short_message, b->sm_length);
}

static void on_data_sm(sg__sim_conn_t *c, const sg_smpp_pdu_t *pdu) {
  const sg_smpp_data_sm_t *b = &pdu->body.data_sm;
  submit_t m = {.command_id = SG_SMPP_DATA_SM,
                .seq = pdu->sequence_number,
                .esm_class = b->esm_class,
                .registered_delivery = b->registered_delivery,
                .data_coding = b->data_coding};
  c->sim->st.data_sm++;
  take_one(
      c, pdu, &m,
      (raw_addr_t){b->source_addr_ton, b->source_addr_npi, b->source_addr},
      (raw_addr_t){b->dest_addr_ton, b->dest_addr_npi, b->destination_addr},
      NULL, 0);
}

static void on_submit_multi(sg__sim_conn_t *c, const sg_smpp_pdu_t *pdu) {
  const sg_smpp_submit_multi_t *b = &pdu->body.submit_multi;
  submit_t m = {.command_id = SG_SMPP_SUBMIT_MULTI,
                .seq = pdu->sequence_number,
                .esm_class = b->esm_class,
                .registered_delivery = b->registered_delivery,
                .data_coding = b->data_coding};
  c->sim->st.submit_multi++;
  if (b->number_of_dests == 0) {
    c->sim->st.submits++;
    answer(c, m.command_id, m.seq, SG_SMPP_ESME_RINVNUMDESTS, 0);
    return;
  }
  sg__sim_addr_t dsts[SG_SMPP_MULTI_MAX];
  for (unsigned i = 0; i < b->number_of_dests; i++) {
    const sg_smpp_dest_address_t *d = &b->dest_address[i];
    put_addr(&dsts[i], d->dest_addr_ton, d->dest_addr_npi,
             d->destination_addr); /* dl_name shares the storage */
  }
  put_addr(&m.src, b->source_addr_ton, b->source_addr_npi, b->source_addr);
  payload(pdu, b->short_message, b->sm_length, &m);
  accept_submit(c, &m, dsts, b->number_of_dests);
}

/* Fault injection first: a dropped connection's request goes unanswered,
 * as it would when a real link breaks. */
static bool inject_drop(sg__sim_conn_t *c) {
  sg_sim_smsc_t *sim = c->sim;
  if (sim->cfg.drop_every != 0 && c->requests % sim->cfg.drop_every == 0) {
    sg__sim_drop(c, "every N requests");
    return true;
  }
  if (sim->cfg.drop_prob > 0 && sg__sim_rand(sim) < sim->cfg.drop_prob) {
    sg__sim_drop(c, "at random");
    return true;
  }
  return false;
}

void sg__sim_on_request(sg__sim_conn_t *c, const sg_smpp_event_t *ev) {
  c->requests++;
  if (c->hung)
    return;
  if (c->sim->cfg.hang_every != 0 &&
      c->requests % c->sim->cfg.hang_every == 0) {
    sg__sim_hang(c);
    return;
  }
  if (inject_drop(c))
    return;
  const sg_smpp_pdu_t *pdu = ev->pdu;
  switch (ev->command_id) {
  case SG_SMPP_SUBMIT_SM:
    on_submit_sm(c, pdu);
    break;
  case SG_SMPP_DATA_SM:
    on_data_sm(c, pdu);
    break;
  case SG_SMPP_SUBMIT_MULTI:
    on_submit_multi(c, pdu);
    break;
  case SG_SMPP_QUERY_SM: /* messages are not kept: nothing to report */
    sg_smpp_link_respond_status(c->link, ev->command_id, ev->sequence_number,
                                SG_SMPP_ESME_RQUERYFAIL);
    break;
  case SG_SMPP_CANCEL_SM:
    sg_smpp_link_respond_status(c->link, ev->command_id, ev->sequence_number,
                                SG_SMPP_ESME_RCANCELFAIL);
    break;
  case SG_SMPP_REPLACE_SM:
    sg_smpp_link_respond_status(c->link, ev->command_id, ev->sequence_number,
                                SG_SMPP_ESME_RREPLACEFAIL);
    break;
  default:
    if (sg_smpp_response_id(ev->command_id) != 0)
      sg_smpp_link_respond_status(c->link, ev->command_id, ev->sequence_number,
                                  SG_SMPP_ESME_RINVCMDID);
    break;
  }
}
