/* smpp_client_rx.c - the receive path of the SMPP client connector:
 * deliver_sm and data_sm from the SMSC (SMPP 3.4 sections 4.6.1, 4.7.1)
 * turned into delivery receipts (dlr_cb) or inbound messages (inbound_cb),
 * receipts held while an older submit_sm still waits for its response,
 * and the owner's acks turned into deliver_sm_resp / data_sm_resp.
 *
 * It never answers a deliver_sm before the owner's ack (except one it can
 * never pass on), and never answers on a session other than the one the
 * request came on: an ack for a closed session is dropped, and the SMSC
 * resends.
 */
#include <string.h>

#include "connector/smpp_client_int.h"
#include "core/alloc.h"
#include "core/error.h"
#include "smpp/receipt.h"

/* esm_class (section 5.2.12): message type bits 5..2 and UDHI. */
#define ESM_TYPE_MASK 0x3C
#define ESM_UDHI 0x40

/* ---- Ids and ack tokens ------------------------------------------------- */

static int hex_val(char ch) {
  if (ch >= '0' && ch <= '9')
    return ch - '0';
  ch = (char)(ch | 0x20);
  return ch >= 'a' && ch <= 'f' ? ch - 'a' + 10 : -1;
}

/* The key of a hex id of at most 16 significant digits, as sg_msgid_key()
 * writes it (the value in decimal), with 64-bit arithmetic instead of its
 * digit-by-digit conversion: the common case of every SENT result. Returns
 * false when the id is not such a number. */
static bool fast_hex_key(const char *id, size_t len, char out[66]) {
  if (len > 2 && id[0] == '0' && (id[1] | 0x20) == 'x') {
    id += 2;
    len -= 2;
  }
  while (len > 1 && id[0] == '0') {
    id++;
    len--;
  }
  if (len == 0 || len > 16)
    return false;
  uint64_t v = 0;
  for (size_t i = 0; i < len; i++) {
    int d = hex_val(id[i]);
    if (d < 0)
      return false;
    v = v << 4 | (uint64_t)d;
  }
  char tmp[24];
  size_t n = 0;
  do {
    tmp[n++] = (char)('0' + v % 10);
    v /= 10;
  } while (v > 0);
  for (size_t i = 0; i < n; i++)
    out[i] = tmp[n - 1 - i];
  out[n] = '\0';
  return true;
}

static bool all_digits(const char *s, size_t n) {
  for (size_t i = 0; i < n; i++)
    if (s[i] < '0' || s[i] > '9')
      return false;
  return true;
}

/* An SMSC's ids are hex when one of them is a hex number with a letter:
 * from then on its all-digit ids (about 6% of six-digit hex numbers) are
 * hex too, not decimal. Each side learns alone, so an SMSC that answers in
 * hex and writes receipts in decimal keeps matching: its receipt ids never
 * have a letter. Until the first letter, all-digit ids are read as decimal
 * (AUTO's rule); the learning lasts as long as the connector. */
sg_msgid_mode_t sg__sc_id_mode(sg_msgid_mode_t mode, bool *learned,
                               const char *id, size_t len) {
  if (mode != SG_MSGID_AUTO)
    return mode;
  if (*learned)
    return SG_MSGID_HEX;
  size_t i = len >= 2 && id[0] == '0' && (id[1] == 'x' || id[1] == 'X') ? 2 : 0;
  bool letter = false;
  if (len - i == 0 || len - i > SG_MSGID_HEX_DIGITS_MAX)
    return mode;
  for (; i < len; i++) {
    char ch = id[i];
    if ((ch >= 'a' && ch <= 'f') || (ch >= 'A' && ch <= 'F'))
      letter = true;
    else if (ch < '0' || ch > '9')
      return mode;
  }
  if (!letter)
    return mode;
  *learned = true;
  return SG_MSGID_HEX;
}

void sg_smpp_client_id_key(const char *id, size_t len, sg_msgid_mode_t mode,
                           char out[66]) {
  out[0] = '\0';
  if (id == NULL || len == 0)
    return;
  if ((mode == SG_MSGID_HEX ||
       (mode == SG_MSGID_AUTO && !all_digits(id, len))) &&
      fast_hex_key(id, len, out))
    return;
  size_t n = 0;
  if (sg_msgid_key(id, len, mode, out, 66, &n) == 0)
    return;
  if (len > 64)
    len = 64;
  if (sg_msgid_key(id, len, SG_MSGID_NOCASE, out, 66, &n) != 0)
    out[0] = '\0';
}

/* token: bind index + 1 (16 bits), session generation (16), whether a
 * data_sm (1), sequence_number (31). */
static uint64_t make_token(const sg__sc_bind_t *b, uint32_t seq,
                           uint32_t command_id) {
  return ((uint64_t)(b->idx + 1) << 48) | ((uint64_t)b->gen << 32) |
         ((uint64_t)(command_id == SG_SMPP_DATA_SM) << 31) |
         (seq & 0x7FFFFFFFu);
}

void sg__sc_ack(sg_connector_t *conn, uint64_t token, bool accepted) {
  sg__sc_client_t *c = (sg__sc_client_t *)conn;
  uint64_t idx1 = token >> 48;
  if (idx1 == 0 || idx1 > c->n_binds || c->stopped) {
    c->xstats.acks_ignored++;
    return;
  }
  sg__sc_bind_t *b = &c->binds[idx1 - 1];
  uint16_t gen = (uint16_t)(token >> 32);
  if (b->link == NULL || b->gen != gen ||
      sg_smpp_session_state(sg_smpp_link_session(b->link)) ==
          SG_SMPP_STATE_CLOSED) {
    c->xstats.acks_ignored++;
    return;
  }
  uint32_t cmd = (token >> 31) & 1 ? SG_SMPP_DATA_SM : SG_SMPP_DELIVER_SM;
  uint32_t status = accepted ? SG_SMPP_ESME_ROK : SG_SMPP_ESME_RX_T_APPN;
  if (sg_smpp_link_respond_status(b->link, cmd, (uint32_t)token & 0x7FFFFFFFu,
                                  status) != 0)
    c->xstats.acks_ignored++;
}

/* ---- Reading a deliver_sm / data_sm ------------------------------------- */

/* The fields both PDUs share, in one shape. */
typedef struct rx_msg {
  uint32_t command_id;
  uint8_t esm_class, data_coding;
  uint8_t src_ton, src_npi, dst_ton, dst_npi;
  const char *src, *dst;
  const uint8_t *content; /* short_message, or message_payload */
  size_t content_len;
} rx_msg_t;

static void read_msg(const sg_smpp_pdu_t *pdu, rx_msg_t *m) {
  m->command_id = pdu->command_id;
  if (pdu->command_id == SG_SMPP_DELIVER_SM) {
    const sg_smpp_deliver_sm_t *d = &pdu->body.deliver_sm;
    m->esm_class = d->esm_class;
    m->data_coding = d->data_coding;
    m->src_ton = d->source_addr_ton;
    m->src_npi = d->source_addr_npi;
    m->dst_ton = d->dest_addr_ton;
    m->dst_npi = d->dest_addr_npi;
    m->src = d->source_addr;
    m->dst = d->destination_addr;
    m->content = d->short_message;
    m->content_len = d->sm_length;
  } else {
    const sg_smpp_data_sm_t *d = &pdu->body.data_sm;
    m->esm_class = d->esm_class;
    m->data_coding = d->data_coding;
    m->src_ton = d->source_addr_ton;
    m->src_npi = d->source_addr_npi;
    m->dst_ton = d->dest_addr_ton;
    m->dst_npi = d->dest_addr_npi;
    m->src = d->source_addr;
    m->dst = d->destination_addr;
    m->content = NULL;
    m->content_len = 0;
  }
  const uint8_t *v;
  size_t n;
  if (m->content_len == 0 &&
      sg_smpp_tlv_get_bytes(pdu, SG_SMPP_TLV_MESSAGE_PAYLOAD, &v, &n) == 0) {
    m->content = v;
    m->content_len = n;
  }
}

/* Copies an address; false when it does not fit sg_conn_addr_t. */
static bool copy_addr(sg_conn_addr_t *a, uint8_t ton, uint8_t npi,
                      const char *s) {
  size_t n = strlen(s);
  a->ton = ton;
  a->npi = npi;
  bool fits = n < sizeof a->addr;
  if (!fits)
    n = sizeof a->addr - 1;
  memcpy(a->addr, s, n);
  a->addr[n] = '\0';
  return fits;
}

static void respond_now(sg__sc_bind_t *b, const sg_smpp_event_t *ev,
                        uint32_t status) {
  sg_smpp_link_respond_status(b->link, ev->command_id, ev->sequence_number,
                              status);
}

/* ---- Receipts ----------------------------------------------------------- */

/* What the TLVs and the text of a receipt say (see smpp_client.h). */
typedef struct rx_receipt {
  const char *id;
  size_t id_len;
  int state;
  uint32_t error;
  int64_t done_ms;
  sg_receipt_t text;
} rx_receipt_t;

static void receipt_tlvs(const sg_smpp_pdu_t *pdu, rx_receipt_t *r,
                         bool *has_err) {
  const char *s;
  size_t n;
  if (sg_smpp_tlv_get_cstr(pdu, SG_SMPP_TLV_RECEIPTED_MESSAGE_ID, &s, &n) ==
          0 &&
      n > 0) {
    r->id = s;
    r->id_len = n;
  }
  uint32_t v;
  if (sg_smpp_tlv_get_int(pdu, SG_SMPP_TLV_MESSAGE_STATE, &v) == 0 && v >= 1 &&
      v <= 8)
    r->state = (int)v;
  const uint8_t *e;
  /* network_error_code (5.3.2.31): network type, then a 2-octet code. */
  if (sg_smpp_tlv_get_bytes(pdu, SG_SMPP_TLV_NETWORK_ERROR_CODE, &e, &n) == 0 &&
      n == 3) {
    r->error = (uint32_t)(e[1] << 8 | e[2]);
    *has_err = true;
  }
}

static void receipt_text(const rx_msg_t *m, rx_receipt_t *r, bool has_err) {
  sg_receipt_t *t = &r->text;
  if (m->content_len == 0 || sg_receipt_parse(m->content, m->content_len, t))
    return;
  if (r->id == NULL && (t->present & SG_RECEIPT_F_ID)) {
    r->id = t->id;
    r->id_len = strlen(t->id);
  }
  if (r->state == 0 && (t->present & SG_RECEIPT_F_STAT))
    r->state = sg_receipt_stat_to_message_state(t->stat);
  if (!has_err && (t->present & SG_RECEIPT_F_ERR))
    r->error = t->err;
  int64_t secs;
  if ((t->present & SG_RECEIPT_F_DONE_DATE) &&
      sg_receipt_date_to_epoch(&t->done_date, &secs) == 0)
    r->done_ms = secs * 1000;
}

/* The other key of an all-digit receipt id in AUTO, "" if none: the id
 * read the other way (as decimal when it was read as hex, as hex when it
 * was read as decimal). The two sides learn alone (sg__sc_id_mode), and
 * their learning starts again with each start of smsgate and each new
 * connector of a reload, so the submit_sm_resp side may have keyed the
 * same digits the other way: a part answered before that side saw a letter
 * has the decimal key while the receipt side knows its ids are hex; a part
 * answered after it learned has the hex key while the receipt side does
 * not know yet (a receipt that overtook every receipt id with a letter, as
 * those held back by a reconnect can), or no longer knows (its receipt
 * came after a restart or a reload). Tried only when the first key matches
 * no part. */
static void receipt_alt_key(const sg__sc_client_t *c, const char *id,
                            size_t len, sg_msgid_mode_t mode, const char *key,
                            char alt[66]) {
  alt[0] = '\0';
  sg_msgid_mode_t set =
      c->cfg.receipt_id_mode_set ? c->cfg.receipt_id_mode : c->cfg.id_mode;
  if (set != SG_MSGID_AUTO || len == 0 || !all_digits(id, len))
    return;
  sg_smpp_client_id_key(
      id, len, mode == SG_MSGID_HEX ? SG_MSGID_DECIMAL : SG_MSGID_HEX, alt);
  if (strcmp(alt, key) == 0)
    alt[0] = '\0';
}

/* Passes a receipt on, keyed (smsc_id, smsc_id_alt) from its id as the
 * connector reads the SMSC's ids now: one held behind submits in flight is
 * keyed when it is released, after their answers taught what they teach.
 * Held receipts are released in the order they arrived, so the receipt
 * side learns in that order. */
static void deliver_dlr(sg__sc_client_t *c, sg_conn_dlr_t *d, const char *id,
                        size_t len, uint64_t token) {
  sg_msgid_mode_t mode = sg__sc_id_mode(
      c->cfg.receipt_id_mode_set ? c->cfg.receipt_id_mode : c->cfg.id_mode,
      &c->receipt_ids_hex, id, len);
  sg_smpp_client_id_key(id, len, mode, d->smsc_id);
  receipt_alt_key(c, id, len, mode, d->smsc_id, d->smsc_id_alt);
  c->stats.dlr_received++;
  c->base.cb.dlr_cb(&c->base, c->base.owner, d, token);
}

/* Keeps a copy of the receipt until the submits in flight before it have
 * their answers (or dlr_hold_ms passes). */
static void hold(sg__sc_client_t *c, const sg__sc_bind_t *b, sg_conn_dlr_t *d,
                 const char *id, size_t len, uint64_t token) {
  sg__sc_held_t *h = sg_malloc(sizeof *h + d->raw_len + 1 + len + 1);
  if (h == NULL) {
    deliver_dlr(c, d, id, len, token); /* better early than lost */
    return;
  }
  h->mark = c->ord;
  h->expires = sg__sc_now(c) + c->cfg.dlr_hold_ms;
  h->token = token;
  h->bind_idx = b->idx;
  h->gen = b->gen;
  h->dlr = *d;
  if (d->raw_len > 0)
    memcpy(h->text, d->raw, d->raw_len);
  h->text[d->raw_len] = '\0';
  h->dlr.raw = d->raw_len > 0 ? h->text : NULL;
  h->id = h->text + d->raw_len + 1;
  h->id_len = len;
  memcpy(h->id, id, len);
  h->id[len] = '\0';
  sg__sc_list_push_back(&c->held, &h->node);
  c->n_held++;
  c->xstats.dlr_held++;
  sg__sc_arm_timer(c);
}

/* Whether a submit sent before a receipt that arrived at `mark` is still
 * waiting for its answer. */
static bool older_in_flight(const sg__sc_client_t *c, uint64_t mark) {
  if (sg__sc_list_empty(&c->flight))
    return false;
  return SG__SC_CONTAINER(c->flight.next, sg__sc_job_t, node)->ord <= mark;
}

void sg__sc_release_held(sg__sc_client_t *c, bool expire) {
  uint64_t now = expire ? sg__sc_now(c) : 0;
  while (!sg__sc_list_empty(&c->held)) {
    sg__sc_held_t *h = SG__SC_CONTAINER(c->held.next, sg__sc_held_t, node);
    bool expired = expire && h->expires <= now;
    if (!expired && older_in_flight(c, h->mark))
      break;
    sg__sc_list_unlink(&h->node);
    c->n_held--;
    if (expired && older_in_flight(c, h->mark))
      c->xstats.dlr_hold_expired++;
    deliver_dlr(c, &h->dlr, h->id, h->id_len, h->token);
    sg_free(h);
  }
}

void sg__sc_drop_held(sg__sc_client_t *c, unsigned bind_idx, uint16_t gen) {
  sg__sc_node_t *e = c->held.next;
  while (e != &c->held) {
    sg__sc_held_t *h = SG__SC_CONTAINER(e, sg__sc_held_t, node);
    e = e->next;
    if (bind_idx == UINT32_MAX || (h->bind_idx == bind_idx && h->gen == gen)) {
      sg__sc_list_unlink(&h->node);
      c->n_held--;
      sg_free(h);
    }
  }
}

static void on_receipt(sg__sc_bind_t *b, const sg_smpp_event_t *ev,
                       const rx_msg_t *m) {
  sg__sc_client_t *c = b->c;
  rx_receipt_t r = {0};
  bool has_err = false;
  receipt_tlvs(ev->pdu, &r, &has_err);
  receipt_text(m, &r, has_err);
  if (r.id == NULL) {
    c->xstats.dlr_unusable++;
    respond_now(b, ev, SG_SMPP_ESME_RX_P_APPN); /* can never be matched */
    return;
  }
  sg_conn_dlr_t d = {.state = r.state ? (sg_conn_dlr_state_t)r.state
                                      : SG_DLR_UNKNOWN,
                     .error = r.error,
                     .done_ms = r.done_ms ? r.done_ms : sg__sc_wall_ms(),
                     .raw = (const char *)m->content,
                     .raw_len = m->content_len};
  copy_addr(&d.src, m->src_ton, m->src_npi, m->src);
  copy_addr(&d.dst, m->dst_ton, m->dst_npi, m->dst);
  uint64_t token = make_token(b, ev->sequence_number, ev->command_id);
  if (c->cfg.dlr_hold_ms > 0 &&
      (!sg__sc_list_empty(&c->held) || older_in_flight(c, c->ord)))
    hold(c, b, &d, r.id, r.id_len, token); /* behind earlier ones, in order */
  else
    deliver_dlr(c, &d, r.id, r.id_len, token);
}

/* ---- Inbound messages --------------------------------------------------- */

static void on_inbound(sg__sc_bind_t *b, const sg_smpp_event_t *ev,
                       const rx_msg_t *m) {
  sg__sc_client_t *c = b->c;
  sg_conn_inbound_t in = {.data_coding = m->data_coding,
                          .esm_class = m->esm_class,
                          .ud = m->content,
                          .ud_len = m->content_len,
                          .received_ms = sg__sc_wall_ms()};
  if (!copy_addr(&in.src, m->src_ton, m->src_npi, m->src)) {
    respond_now(b, ev, SG_SMPP_ESME_RINVSRCADR);
    return;
  }
  if (!copy_addr(&in.dst, m->dst_ton, m->dst_npi, m->dst)) {
    respond_now(b, ev, SG_SMPP_ESME_RINVDSTADR);
    return;
  }
  if (m->esm_class & ESM_UDHI) { /* TS 23.040 9.2.3.24: UDHL first */
    if (m->content_len == 0 || (size_t)m->content[0] + 1 > m->content_len) {
      respond_now(b, ev, SG_SMPP_ESME_RINVESMCLASS);
      return;
    }
    in.udh = m->content;
    in.udh_len = (size_t)m->content[0] + 1;
    in.ud = m->content + in.udh_len;
    in.ud_len = m->content_len - in.udh_len;
  }
  uint32_t v;
  if (sg_smpp_tlv_get_int(ev->pdu, SG_SMPP_TLV_SAR_MSG_REF_NUM, &v) == 0)
    in.sar_ref = (uint16_t)v;
  if (sg_smpp_tlv_get_int(ev->pdu, SG_SMPP_TLV_SAR_TOTAL_SEGMENTS, &v) == 0)
    in.sar_total = (uint8_t)v;
  if (sg_smpp_tlv_get_int(ev->pdu, SG_SMPP_TLV_SAR_SEGMENT_SEQNUM, &v) == 0)
    in.sar_seq = (uint8_t)v;
  c->stats.inbound_received++;
  uint64_t token = make_token(b, ev->sequence_number, ev->command_id);
  c->base.cb.inbound_cb(&c->base, c->base.owner, &in, token);
}

void sg__sc_on_request(sg__sc_bind_t *b, const sg_smpp_event_t *ev) {
  if (ev->command_id == SG_SMPP_ALERT_NOTIFICATION)
    return; /* no response (section 4.12) and nothing to do */
  if ((ev->command_id != SG_SMPP_DELIVER_SM &&
       ev->command_id != SG_SMPP_DATA_SM) ||
      ev->pdu == NULL) {
    respond_now(b, ev, SG_SMPP_ESME_RINVCMDID);
    return;
  }
  rx_msg_t m;
  read_msg(ev->pdu, &m);
  if (m.esm_class & ESM_TYPE_MASK)
    on_receipt(b, ev, &m);
  else
    on_inbound(b, ev, &m);
}
