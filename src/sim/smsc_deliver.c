/* smsc_deliver.c - what the SMSC simulator sends on its own: delivery
 * receipts (deliver_sm with esm_class 0x04, SMPP 3.4 section 5.2.12, the
 * Appendix B text and the receipted_message_id / message_state /
 * network_error_code TLVs) and MO messages (deliver_sm carrying a text
 * split by core/segment.h).
 *
 * Both wait in rings (receipts ordered by due time, one timer for the
 * head) until their time has come and their bind has a free window slot;
 * a response to any deliver_sm pumps them again. This file must never
 * allocate per message or start a timer per message.
 */
#include <string.h>
#include <time.h>

#include "core/alloc.h"
#include "sim/smsc_int.h"

#define NO_RECEIVER_RETRY_MS 1000u
#define BUSY_RETRY_MS 50u
#define MO_TICK_MS 10u
#define MO_QUEUE_MAX 10000u

/* ---- Choosing a bind ----------------------------------------------------- */

/* Whether c may take a deliver_sm now: bound for it (not closing) and a
 * free window slot. */
static bool has_room(const sg__sim_conn_t *c) {
  const sg_smpp_session_t *s = sg_smpp_link_session(c->link);
  return sg_smpp_session_can_send(s, SG_SMPP_DELIVER_SM) &&
         sg_smpp_session_window_free(s) > 0;
}

/* The receiver for a receipt: the transceiver it came on, else a receiver
 * bind of the same system_id (the last one used first). NULL with *busy
 * set when there is one but its window is full. */
static sg__sim_conn_t *receipt_target(sg_sim_smsc_t *sim,
                                      const sg__sim_receipt_t *e, bool *busy) {
  *busy = false;
  sg__sim_conn_t *c = sg__sim_conn_get(sim, e->slot, e->gen);
  if (c != NULL && sg__sim_conn_receives(c)) {
    *busy = !has_room(c);
    return *busy ? NULL : c;
  }
  sg__sim_acct_t *ac = &sim->accts[e->acct];
  c = sg__sim_conn_get(sim, ac->rx_slot, ac->rx_gen);
  if (c != NULL && sg__sim_conn_receives(c) && c->acct == e->acct &&
      has_room(c))
    return c;
  for (uint32_t i = 0; i < sim->n_slots; i++) {
    c = sim->conns[i];
    if (c == NULL || !sg__sim_conn_receives(c) || c->acct != e->acct)
      continue;
    if (has_room(c)) {
      ac->rx_slot = c->slot;
      ac->rx_gen = c->gen;
      return c;
    }
    *busy = true;
  }
  return NULL;
}

/* The next receiver in turn (of acct, or any when NO_ACCT), preferring one
 * with a free window slot. */
static sg__sim_conn_t *next_receiver(sg_sim_smsc_t *sim, uint16_t acct) {
  sg__sim_conn_t *full = NULL;
  for (uint32_t k = 0; k < sim->n_slots; k++) {
    uint32_t i = (sim->rr + 1 + k) % sim->n_slots;
    sg__sim_conn_t *c = sim->conns[i];
    if (c == NULL || !sg__sim_conn_receives(c) ||
        (acct != SG__SIM_NO_ACCT && c->acct != acct))
      continue;
    if (has_room(c)) {
      sim->rr = i;
      return c;
    }
    if (full == NULL)
      full = c;
  }
  return full;
}

/* ---- Receipts ------------------------------------------------------------ */

static uint8_t draw_outcome(sg_sim_smsc_t *sim) {
  const sg_sim_dlr_mix_t *m = &sim->cfg.dlr_mix;
  if (m->n == 1)
    return 0;
  uint32_t x = (uint32_t)(sg__sim_rand(sim) * sim->mix_total);
  for (unsigned i = 0; i < m->n; i++) {
    if (x < m->e[i].weight)
      return (uint8_t)i;
    x -= m->e[i].weight;
  }
  return (uint8_t)(m->n - 1);
}

/* Whether ch is the same character in ASCII and in the GSM 7-bit default
 * alphabet (TS 23.038 6.2.1): letters, digits, space and !"#%&'()*+,-./:;<=>?
 * ('$', '@', '_', '[', '{' and the like are other characters there). */
static bool same_in_ascii_and_gsm(unsigned ch) {
  return (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') ||
         (ch >= '0' && ch <= '9') || (ch >= ' ' && ch <= '/' && ch != '$') ||
         (ch >= ':' && ch <= '?');
}

/* "text:" holds the first 20 characters of the message (Appendix B). The
 * receipt goes with data_coding 0, which peers read as ASCII or as the GSM
 * default alphabet, so only characters that read the same both ways are
 * kept, anything else is '?'. UCS-2 (data_coding 8) is read two octets per
 * character. */
static uint8_t receipt_text(char *out, uint8_t data_coding, const uint8_t *sm,
                            size_t len, bool udhi) {
  if (udhi && len > 0) {
    size_t skip = (size_t)sm[0] + 1;
    skip = skip < len ? skip : len;
    sm += skip;
    len -= skip;
  }
  size_t step = data_coding == 0x08 ? 2 : 1;
  uint8_t n = 0;
  for (size_t i = 0; i + step <= len && n < SG_RECEIPT_TEXT_MAX; i += step) {
    unsigned ch = step == 2 ? (unsigned)sm[i] << 8 | sm[i + 1] : sm[i];
    out[n++] = same_in_ascii_and_gsm(ch) ? (char)ch : '?';
  }
  return n;
}

void sg__sim_queue_receipt(sg_sim_smsc_t *sim, const sg__sim_conn_t *c,
                           uint64_t msgid, uint64_t delay_ms, uint8_t rd,
                           const sg__sim_addr_t *src, const sg__sim_addr_t *dst,
                           uint8_t data_coding, const uint8_t *sm,
                           size_t sm_len, bool udhi) {
  uint8_t mix = draw_outcome(sim);
  /* registered_delivery bits 1-0 (section 5.2.17): 01 a receipt for every
   * final outcome, 10 for failures only. */
  if ((rd & 0x03) == 0x02 && sim->cfg.dlr_mix.e[mix].stat == SG_RECEIPT_DELIVRD)
    return;
  if (sim->receipts.count >= sim->cfg.max_pending_receipts) {
    sim->st.receipts_dropped++;
    return;
  }
  bool was_empty = sim->receipts.count == 0;
  sg__sim_receipt_t *e = sg__sim_ring_push(&sim->receipts);
  if (e == NULL) {
    sim->st.receipts_dropped++;
    return;
  }
  e->due = uv_now(sim->loop) + delay_ms;
  e->msgid = msgid;
  e->submit_s = (int64_t)time(NULL);
  e->slot = c->slot;
  e->gen = c->gen;
  e->acct = c->acct;
  e->mix = mix;
  e->tries = 0;
  e->requeued = false;
  e->src = *src;
  e->dst = *dst;
  e->text_len = receipt_text(e->text, data_coding, sm, sm_len, udhi);
  if (was_empty)
    uv_timer_start(&sim->dlr_timer, sg__sim_dlr_timer_cb, delay_ms, 0);
}

/* Converts Unix seconds to a receipt date, remembering the last answer
 * (receipts come in bursts within one second). */
static void receipt_date(sg_sim_smsc_t *sim, int64_t secs,
                         sg_receipt_date_t *out) {
  if (secs != sim->date_s || !sim->date_valid) {
    if (sg_receipt_date_from_epoch(secs, false, &sim->date) != 0)
      sg_receipt_date_from_epoch(0, false, &sim->date);
    sim->date_s = secs;
    sim->date_valid = true;
  }
  *out = sim->date;
}

/* ---- receipts in flight -------------------------------------------------- */

/* Keeps a copy of a receipt being written; returns its slot, or -1 when
 * out of memory (it is then sent without the chance of a second try). */
static long inflight_take(sg_sim_smsc_t *sim, const sg__sim_receipt_t *e) {
  if (sim->inflight_nfree == 0) {
    size_t cap = sim->inflight_cap, fcap = cap; /* two arrays, one capacity */
    sg__sim_receipt_t *r = sg_grow(sim->inflight, &cap, cap + 1, 64, sizeof *r);
    if (r == NULL)
      return -1;
    sim->inflight = r;
    uint32_t *f = sg_grow(sim->inflight_free, &fcap, fcap + 1, 64, sizeof *f);
    if (f == NULL)
      return -1;
    sim->inflight_free = f;
    for (uint32_t i = (uint32_t)cap; i > sim->inflight_cap; i--)
      f[sim->inflight_nfree++] = i - 1;
    sim->inflight_cap = (uint32_t)cap;
  }
  uint32_t slot = sim->inflight_free[--sim->inflight_nfree];
  sim->inflight[slot] = *e;
  return (long)slot;
}

static void inflight_release(sg_sim_smsc_t *sim, uint32_t slot) {
  sim->inflight_free[sim->inflight_nfree++] = slot;
}

/* A receipt refused or left unanswered goes back into the queue while it
 * has tries left: one the gateway refused (an error status) later, with a
 * delay doubling per try; one whose connection ended (never answered) at
 * once, for the next receiver, as an SMSC redelivers on the next bind. */
static void redeliver(sg_sim_smsc_t *sim, const sg__sim_receipt_t *e,
                      bool refused) {
  if (e->tries >= sim->cfg.receipt_retries) {
    sim->st.receipts_abandoned++;
    return;
  }
  if (sim->receipts.count >= sim->cfg.max_pending_receipts) {
    sim->st.receipts_dropped++;
    return;
  }
  sg__sim_receipt_t *n = sg__sim_ring_push(&sim->receipts);
  if (n == NULL) {
    sim->st.receipts_dropped++;
    return;
  }
  *n = *e;
  uint64_t delay = 0;
  if (refused) {
    delay = sim->cfg.receipt_retry_ms;
    for (unsigned i = 0; i < e->tries && delay < 60000; i++)
      delay *= 2;
  }
  n->tries = (uint8_t)(e->tries + 1);
  n->requeued = true;
  n->due = uv_now(sim->loop) + (delay < 60000 ? delay : 60000);
  sim->st.receipts_retried++;
}

/* Builds and sends one receipt. Returns the send result (SG_EBUSY when the
 * window filled meanwhile). */
static long send_receipt(sg_sim_smsc_t *sim, sg__sim_conn_t *c,
                         const sg__sim_receipt_t *e) {
  const sg_receipt_stat_t stat = sim->cfg.dlr_mix.e[e->mix].stat;
  const uint16_t err = sim->cfg.dlr_mix.e[e->mix].err;
  sg_receipt_t r;
  memset(&r, 0, sizeof r);
  sg__sim_format_receipt_id(sim, e->msgid, r.id);
  r.sub = 1;
  r.dlvrd = stat == SG_RECEIPT_DELIVRD ? 1 : 0;
  receipt_date(sim, e->submit_s, &r.submit_date);
  receipt_date(sim, (int64_t)time(NULL), &r.done_date);
  r.stat = stat;
  r.err = err;
  memcpy(r.text, e->text, e->text_len);
  r.text_len = e->text_len;

  sg_smpp_pdu_t *p = sim->pdu;
  sg_smpp_pdu_init(p, SG_SMPP_DELIVER_SM, 0);
  sg_smpp_deliver_sm_t *b = &p->body.deliver_sm;
  size_t n = 0;
  if (sg_receipt_format(&r, b->short_message, sizeof b->short_message, &n))
    return SG_EINVAL;
  b->sm_length = (uint8_t)n;
  /* The receipt travels back: from the recipient to the sender. */
  b->source_addr_ton = e->dst.ton;
  b->source_addr_npi = e->dst.npi;
  memcpy(b->source_addr, e->dst.addr, sizeof e->dst.addr);
  b->dest_addr_ton = e->src.ton;
  b->dest_addr_npi = e->src.npi;
  memcpy(b->destination_addr, e->src.addr, sizeof e->src.addr);
  b->esm_class = 0x04; /* SMSC Delivery Receipt, section 5.2.12 */
  sg_smpp_tlv_set_cstr(p, SG_SMPP_TLV_RECEIPTED_MESSAGE_ID, r.id);
  sg_smpp_tlv_set_int(p, SG_SMPP_TLV_MESSAGE_STATE,
                      (uint32_t)sg_receipt_stat_to_message_state(stat), 1);
  /* network_error_code (5.3.2.31): network type 3 = GSM, then the code. */
  uint8_t nec[3] = {3, (uint8_t)(err >> 8), (uint8_t)err};
  if (err != 0)
    sg_smpp_tlv_set_bytes(p, SG_SMPP_TLV_NETWORK_ERROR_CODE, nec, sizeof nec);
  long slot = inflight_take(sim, e);
  void *ctx = slot < 0 ? SG__SIM_CTX_RECEIPT
                       : (void *)(SG__SIM_CTX_INFLIGHT + (uintptr_t)slot);
  long seq = sg_smpp_link_send(c->link, p, ctx);
  if (seq > 0) {
    sim->st.receipts_sent++;
    uint64_t now = uv_now(sim->loop);
    sg__sim_hist_add(&sim->wait, now > e->due ? now - e->due : 0);
    uint64_t in_flight = sim->inflight_cap - sim->inflight_nfree;
    sim->inflight_sum += in_flight;
    if (in_flight > sim->inflight_max)
      sim->inflight_max = in_flight;
    if (slot >= 0)
      sim->inflight[slot].sent_ns = uv_hrtime();
  } else if (slot >= 0)
    inflight_release(sim, (uint32_t)slot);
  return seq;
}

/* A receipt whose system_id has no receiver bound goes to the back of the
 * queue and is tried again a second later. */
static void requeue(sg_sim_smsc_t *sim, uint64_t now) {
  sg__sim_receipt_t copy =
      *(sg__sim_receipt_t *)sg__sim_ring_front(&sim->receipts);
  sg__sim_ring_pop(&sim->receipts);
  copy.due = now + NO_RECEIVER_RETRY_MS;
  copy.requeued = true;
  sg__sim_receipt_t *e = sg__sim_ring_push(&sim->receipts);
  if (e != NULL)
    *e = copy;
  else
    sim->st.receipts_dropped++;
}

/* Moves the front receipt, not yet due, to the back with its time. */
static void rotate(sg_sim_smsc_t *sim) {
  sg__sim_receipt_t copy =
      *(sg__sim_receipt_t *)sg__sim_ring_front(&sim->receipts);
  sg__sim_ring_pop(&sim->receipts);
  sg__sim_receipt_t *e = sg__sim_ring_push(&sim->receipts);
  if (e != NULL)
    *e = copy;
  else
    sim->st.receipts_dropped++;
}

static void arm(sg_sim_smsc_t *sim, uint64_t now, uint64_t due) {
  uv_timer_start(&sim->dlr_timer, sg__sim_dlr_timer_cb,
                 due > now ? due - now : 1, 0);
}

/* Sends what is due. New receipts are queued in due order, so the first
 * one not due ends the round; receipts put back (retries, no receiver)
 * are out of that order and are stepped over, so that a retry a minute
 * away never holds back the receipts queued after it. */
static void pump_receipts(sg_sim_smsc_t *sim) {
  uint64_t now = uv_now(sim->loop);
  size_t moves = sim->receipts.count;
  uint64_t next = UINT64_MAX; /* the earliest due time stepped over */
  sg__sim_receipt_t *e;
  while ((e = sg__sim_ring_front(&sim->receipts)) != NULL) {
    if (e->due > now) {
      uint64_t due = e->due < next ? e->due : next;
      if (!e->requeued || moves == 0) {
        arm(sim, now, due);
        return;
      }
      moves--;
      next = due;
      rotate(sim);
      continue;
    }
    bool busy;
    sg__sim_conn_t *c = receipt_target(sim, e, &busy);
    if (c == NULL && busy) {
      /* A response to our deliver_sm pumps again; the timer is for a
       * window that will not drain (a connection closing, a silent one). */
      arm(sim, now, now + BUSY_RETRY_MS);
      return;
    }
    if (c == NULL) {
      if (moves == 0) {
        arm(sim, now, now + NO_RECEIVER_RETRY_MS);
        return;
      }
      moves--;
      requeue(sim, now);
      continue;
    }
    long rc = send_receipt(sim, c, e);
    if (rc == SG_EBUSY)
      return;
    sg__sim_receipt_t copy = *e;
    sg__sim_ring_pop(&sim->receipts);
    if (rc < 0) {
      /* The connection is closing under us: the receipt was never written,
       * so it goes back into the queue like one left unanswered. */
      sim->st.receipts_failed++;
      redeliver(sim, &copy, false);
    }
  }
}

void sg__sim_dlr_timer_cb(uv_timer_t *t) {
  sg__sim_pump(t->data);
}

/* ---- MO ------------------------------------------------------------------ */

/* "+79001234567" is international E.164; digits alone are of unknown type
 * in E.164; anything else is alphanumeric (section 5.2.5, 5.2.6). */
static void parse_addr(const char *s, sg__sim_addr_t *a) {
  bool plus = s[0] == '+';
  const char *d = plus ? s + 1 : s;
  bool digits = d[0] != '\0' && strspn(d, "0123456789") == strlen(d);
  a->ton = plus && digits ? 1 : digits ? 0 : 5;
  a->npi = digits ? 1 : 0;
  snprintf(a->addr, sizeof a->addr, "%s", digits ? d : s);
}

static long send_mo(sg_sim_smsc_t *sim, sg__sim_conn_t *c,
                    const sg__sim_mo_t *m) {
  sg_smpp_pdu_t *p = sim->pdu;
  sg_smpp_pdu_init(p, SG_SMPP_DELIVER_SM, 0);
  sg_smpp_deliver_sm_t *b = &p->body.deliver_sm;
  b->source_addr_ton = m->src.ton;
  b->source_addr_npi = m->src.npi;
  memcpy(b->source_addr, m->src.addr, sizeof m->src.addr);
  b->dest_addr_ton = m->dst.ton;
  b->dest_addr_npi = m->dst.npi;
  memcpy(b->destination_addr, m->dst.addr, sizeof m->dst.addr);
  b->esm_class = m->esm_class;
  b->data_coding = m->data_coding;
  b->sm_length = m->sm_length;
  memcpy(b->short_message, m->short_message, m->sm_length);
  if (m->sar_total > 0 &&
      (sg_smpp_tlv_set_int(p, SG_SMPP_TLV_SAR_MSG_REF_NUM, m->sar_ref, 0) !=
           0 ||
       sg_smpp_tlv_set_int(p, SG_SMPP_TLV_SAR_TOTAL_SEGMENTS, m->sar_total,
                           0) != 0 ||
       sg_smpp_tlv_set_int(p, SG_SMPP_TLV_SAR_SEGMENT_SEQNUM, m->sar_seq, 0) !=
           0))
    return SG_EINVAL;
  long seq = sg_smpp_link_send(c->link, p, SG__SIM_CTX_MO);
  if (seq > 0)
    sim->st.mo_sent++;
  return seq;
}

static void pump_mo(sg_sim_smsc_t *sim) {
  sg__sim_mo_t *m;
  while ((m = sg__sim_ring_front(&sim->mos)) != NULL) {
    sg__sim_conn_t *c = sg__sim_conn_get(sim, m->slot, m->gen);
    if (c == NULL || !sg__sim_conn_receives(c)) {
      c = next_receiver(sim, m->acct);
      if (c == NULL) {
        sim->st.mo_failed++; /* nobody left to take it */
        sg__sim_ring_pop(&sim->mos);
        continue;
      }
      m->slot = c->slot;
      m->gen = c->gen;
    }
    if (!has_room(c))
      return;
    long rc = send_mo(sim, c, m);
    if (rc == SG_EBUSY)
      return;
    if (rc < 0)
      sim->st.mo_failed++;
    sg__sim_ring_pop(&sim->mos);
  }
}

void sg__sim_pump(sg_sim_smsc_t *sim) {
  if (sim->stopped)
    return;
  pump_mo(sim);
  pump_receipts(sim);
}

static uint16_t acct_lookup(const sg_sim_smsc_t *sim, const char *system_id) {
  for (uint16_t i = 0; i < sim->n_accts; i++)
    if (strcmp(sim->accts[i].system_id, system_id) == 0)
      return i;
  return SG__SIM_NO_ACCT;
}

/* Queues part i of the segmented text for connection c. */
static int queue_part(sg_sim_smsc_t *sim, sg__sim_conn_t *c, unsigned i,
                      const sg__sim_addr_t *src, const sg__sim_addr_t *dst,
                      bool sar, uint16_t ref) {
  const sg_segments_t *sg = sim->segs;
  const sg_seg_part_t *part = &sg->parts[i];
  sg__sim_mo_t *m = sg__sim_ring_push(&sim->mos);
  if (m == NULL)
    return SG_ENOMEM;
  memset(m, 0, sizeof *m);
  m->slot = c->slot;
  m->gen = c->gen;
  m->acct = c->acct;
  m->data_coding = sg->encoding == SG_ENC_UCS2 ? 0x08 : 0x00;
  m->src = *src;
  m->dst = *dst;
  size_t udh = sar ? 0 : part->udh_len;
  m->esm_class = udh > 0 ? 0x40 : 0x00; /* UDHI, 5.2.12 */
  memcpy(m->short_message, part->udh, udh);
  memcpy(m->short_message + udh, part->ud, part->ud_len);
  m->sm_length = (uint8_t)(udh + part->ud_len);
  if (sar && sg->nparts > 1) {
    m->sar_ref = ref;
    m->sar_total = (uint8_t)sg->nparts;
    m->sar_seq = (uint8_t)(i + 1);
  }
  return 0;
}

/* Queues the parts of one segmented text for connection c: every part, or
 * the ones listed. */
static int queue_parts(sg_sim_smsc_t *sim, sg__sim_conn_t *c,
                       const sg__sim_addr_t *src, const sg__sim_addr_t *dst,
                       const sg_sim_mo_opts_t *o) {
  const sg_segments_t *sg = sim->segs;
  size_t n = o->n_only ? o->n_only : sg->nparts;
  for (size_t k = 0; k < n; k++) {
    unsigned i = o->n_only ? (unsigned)o->only[k] - 1 : (unsigned)k;
    if (i >= sg->nparts)
      continue;
    int rc =
        queue_part(sim, c, i, src, dst, o->sar, o->ref ? o->ref : sim->mo_ref);
    if (rc != 0)
      return rc;
  }
  return (int)sg->nparts;
}

int sg_sim_smsc_mo(sg_sim_smsc_t *sim, const char *system_id, const char *from,
                   const char *to, const char *text, sg_encoding_t encoding) {
  sg_sim_mo_opts_t o = {.encoding = encoding};
  return sg_sim_smsc_mo_ex(sim, system_id, from, to, text, &o);
}

int sg_sim_smsc_mo_ex(sg_sim_smsc_t *sim, const char *system_id,
                      const char *from, const char *to, const char *text,
                      const sg_sim_mo_opts_t *opts) {
  static const sg_sim_mo_opts_t defaults = {.encoding = SG_ENC_AUTO};
  const sg_sim_mo_opts_t *op = opts != NULL ? opts : &defaults;
  if (from == NULL || to == NULL || text == NULL)
    return SG_EINVAL;
  uint16_t acct = SG__SIM_NO_ACCT;
  if (system_id != NULL &&
      (acct = acct_lookup(sim, system_id)) == SG__SIM_NO_ACCT)
    return SG_ENOENT;
  sg__sim_conn_t *c = next_receiver(sim, acct);
  if (c == NULL || sim->stopping)
    return SG_ENOENT;
  if (sim->segs == NULL && (sim->segs = sg_malloc(sizeof *sim->segs)) == NULL)
    return SG_ENOMEM;
  sg_seg_opts_t o;
  memset(&o, 0, sizeof o);
  o.encoding = op->encoding;
  o.max_parts = SG_SEG_MAX_PARTS;
  o.ref16 = op->ref16;
  o.ref = ++sim->mo_ref;
  if (op->ref16)
    o.ref = (uint16_t)(0x1200u | sim->mo_ref); /* above 255: really 16-bit */
  if (op->ref != 0)
    o.ref = op->ref;
  int rc =
      sg_segment_text((const uint8_t *)text, strlen(text), &o, sim->segs, NULL);
  if (rc != 0)
    return rc;
  sg__sim_addr_t src, dst;
  parse_addr(from, &src);
  parse_addr(to, &dst);
  rc = queue_parts(sim, c, &src, &dst, op);
  pump_mo(sim);
  return rc;
}

void sg__sim_mo_timer_cb(uv_timer_t *t) {
  sg_sim_smsc_t *sim = t->data;
  uint64_t now = uv_now(sim->loop);
  sim->mo_tokens += sim->cfg.mo_rate * (double)(now - sim->mo_last) / 1000.0;
  sim->mo_last = now;
  while (sim->mo_tokens >= 1.0) {
    sim->mo_tokens -= 1.0;
    if (sim->mos.count >= MO_QUEUE_MAX ||
        sg_sim_smsc_mo(sim, NULL, sim->cfg.mo_from, sim->cfg.mo_to,
                       sim->cfg.mo_text, SG_ENC_AUTO) <= 0) {
      sim->mo_tokens = 0; /* no receiver, or it cannot keep up */
      break;
    }
  }
}

int sg_sim_smsc_set_mo_rate(sg_sim_smsc_t *sim, double per_second) {
  if (!(per_second >= 0) || per_second > 1e7)
    return SG_EINVAL;
  sim->cfg.mo_rate = per_second;
  if (!sim->started || sim->stopping)
    return 0;
  if (per_second == 0) {
    uv_timer_stop(&sim->mo_timer);
    return 0;
  }
  sim->mo_last = uv_now(sim->loop);
  sim->mo_tokens = 0;
  uv_timer_start(&sim->mo_timer, sg__sim_mo_timer_cb, MO_TICK_MS, MO_TICK_MS);
  return 0;
}

/* ---- Responses to our deliver_sm ----------------------------------------- */

void sg__sim_on_response(sg__sim_conn_t *c, const sg_smpp_event_t *ev) {
  sg_sim_smsc_t *sim = c->sim;
  bool ok = ev->type == SG_SMPP_EV_RESPONSE &&
            ev->command_status == SG_SMPP_ESME_ROK && ev->error == 0;
  uintptr_t ctx = (uintptr_t)ev->ctx;
  if (ctx >= SG__SIM_CTX_INFLIGHT &&
      ctx - SG__SIM_CTX_INFLIGHT < sim->inflight_cap) {
    uint32_t slot = (uint32_t)(ctx - SG__SIM_CTX_INFLIGHT);
    sg__sim_receipt_t e = sim->inflight[slot];
    inflight_release(sim, slot);
    if (ok) {
      sim->st.receipts_acked++;
      sg__sim_hist_add(&sim->rtt, (uv_hrtime() - e.sent_ns) / 1000u);
    } else {
      sim->st.receipts_failed++;
      redeliver(sim, &e, ev->type == SG_SMPP_EV_RESPONSE && ev->error == 0);
    }
  } else if (ev->ctx == SG__SIM_CTX_RECEIPT) {
    if (ok)
      sim->st.receipts_acked++;
    else
      sim->st.receipts_failed++;
  } else if (ev->ctx == SG__SIM_CTX_MO) {
    if (ok)
      sim->st.mo_acked++;
    else
      sim->st.mo_failed++;
  }
  sg__sim_pump(sim);
}
