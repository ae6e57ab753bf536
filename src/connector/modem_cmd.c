/* modem_cmd.c - the modem connector's conversation with its modem: the
 * initialisation steps, one command in flight at a time and its answer,
 * sending parts with AT+CMGS, unsolicited codes, status reports matched to
 * sent parts, and stored inbound messages read, handed to the owner and
 * deleted after its ack (see connector/modem.h).
 *
 * It must never write to the device while a command is in flight (the
 * answer would be misread), never delete a stored message before the owner
 * has acked it, and never send a SIM PIN again after the SIM refused it
 * (three wrong PINs lock the card).
 */
#include "connector/modem_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/error.h"

#define SETTLE_MS 300
#define RETRY_MS 1000
#define REG_POLL_MS 1000
#define TOKEN_STORED 1ull /* a stored SMS-DELIVER: delete after the ack */
#define TOKEN_REPORT 2ull /* a stored status report: delete after the ack */
#define TOKEN_DIRECT 3ull /* routed to us directly: nothing to delete */
#define TOKEN_CNMA 4ull   /* +CMT/+CDS after AT+CSMS=1: AT+CNMA after ack */

enum {
  STEP_ATE0,
  STEP_CMEE,
  STEP_CPIN_Q,
  STEP_CPIN_SET,
  STEP_CREG,
  STEP_CEREG,
  STEP_CMGF,
  STEP_CSMS,
  STEP_CNMI,
  STEP_CSCA,
  STEP_CSQ,
  STEP_COPS,
  STEP_CMGL,
  STEP_DONE
};

static int64_t wall_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void send_cmd(sg__modem_t *m, sg__mcmd_t kind, const char *text,
                     const char *expect, uint32_t timeout_ms) {
  m->cmd = kind;
  m->want_pdu_line = false;
  sg_at_reader_expect(&m->rd, expect);
  sg__modem_write(m, text, strlen(text));
  sg__modem_write(m, "\r", 1);
  sg__modem_timeout(m, timeout_ms);
}

/* ---- Initialisation ------------------------------------------------------ */

static void init_send(sg__modem_t *m) {
  char b[96];
  const char *expect = NULL;
  switch (m->step) {
  case STEP_ATE0:
    snprintf(b, sizeof b, "ATE0");
    break;
  case STEP_CMEE:
    snprintf(b, sizeof b, "AT+CMEE=1");
    break;
  case STEP_CPIN_Q:
    snprintf(b, sizeof b, "AT+CPIN?");
    break;
  case STEP_CPIN_SET:
    snprintf(b, sizeof b, "AT+CPIN=\"%s\"", m->pin);
    break;
  case STEP_CREG:
    snprintf(b, sizeof b, "AT+CREG?");
    expect = "+CREG:";
    break;
  case STEP_CEREG:
    snprintf(b, sizeof b, "AT+CEREG?");
    expect = "+CEREG:";
    break;
  case STEP_CMGF:
    snprintf(b, sizeof b, "AT+CMGF=0");
    break;
  case STEP_CSMS: /* +CMT and +CDS then want AT+CNMA (TS 27.005 3.2.1) */
    snprintf(b, sizeof b, "AT+CSMS=1");
    break;
  case STEP_CNMI:
    snprintf(b, sizeof b, "%s", m->direct ? "AT+CNMI=2,2,0,1,0"
                                          : "AT+CNMI=2,1,0,1,0");
    break;
  case STEP_CSCA:
    snprintf(b, sizeof b, "AT+CSCA=\"%s\",%u", m->smsc,
             m->smsc[0] == '+' ? 145u : 129u);
    break;
  case STEP_CSQ:
    snprintf(b, sizeof b, "AT+CSQ");
    break;
  case STEP_COPS:
    snprintf(b, sizeof b, "AT+COPS?");
    break;
  default:
    snprintf(b, sizeof b, "AT+CMGL=4");
    break;
  }
  send_cmd(m, SG__MC_INIT, b, expect, m->cfg.command_timeout_ms);
}

void sg__modem_on_open(sg__modem_t *m) {
  /* ESC leaves a PDU entry a previous run may have left half done; what
   * the modem answers to it and to the empty line is ignored. */
  sg__modem_write(m, "\x1B\r", 2);
  m->cmd = SG__MC_SETTLE;
  m->registered = m->reg_cs = m->reg_eps = false;
  m->direct = false;
  m->cnma_pending = 0;
  m->sim_needs_pin = false;
  sg__modem_timeout(m, SETTLE_MS);
}

static void init_next(sg__modem_t *m) {
  m->step++;
  if (m->step == STEP_CPIN_SET && !m->sim_needs_pin)
    m->step++;
  if (m->step == STEP_CREG)
    m->reg_deadline = uv_now(m->loop) + m->cfg.register_timeout_ms;
  if (m->step == STEP_CEREG && m->registered)
    m->step++;
  if (m->step == STEP_CSMS && !m->cfg.direct_receive)
    m->step++;
  if (m->step == STEP_CSCA && m->smsc == NULL)
    m->step++;
  if (m->step == STEP_DONE) {
    m->cmd = SG__MC_NONE;
    uv_timer_stop(&m->timer);
    sg__modem_set_state(m, SG__MS_READY, "ready");
    sg__modem_kick(m);
    return;
  }
  init_send(m);
}

static void init_final(sg__modem_t *m, const sg_at_event_t *ev) {
  bool ok = ev->kind == SG_AT_OK;
  switch (m->step) {
  case STEP_CPIN_Q:
    if (!ok)
      return sg__modem_reset(m, "the SIM is not ready");
    if (m->sim_needs_pin && (m->pin == NULL || m->pin_refused))
      return sg__modem_reset(m, "the SIM asks for a PIN: configure pin");
    break;
  case STEP_CPIN_SET:
    if (!ok) {
      m->pin_refused = true;
      return sg__modem_reset(m, "the SIM refused the PIN");
    }
    break;
  case STEP_CREG:
    break; /* not registered on CS: AT+CEREG? (an LTE-only modem) */
  case STEP_CEREG:
    if (!m->registered) {
      if (uv_now(m->loop) >= m->reg_deadline)
        return sg__modem_reset(m, "not registered to a network");
      m->reg_waiting = true;
      m->step = STEP_CREG; /* poll both again */
      sg__modem_timeout(m, REG_POLL_MS);
      return;
    }
    break;
  case STEP_CSMS:
    m->direct = ok; /* a modem without phase 2+ keeps +CMTI */
    break;
  case STEP_CMGF:
    if (!ok)
      return sg__modem_reset(m, "the modem refused PDU mode (AT+CMGF=0)");
    break;
  default:
    break; /* optional settings: an error is not fatal */
  }
  init_next(m);
}

/* ---- Answer lines -------------------------------------------------------- */

/* <stat> of +CREG (circuit switched) or +CEREG (EPS, TS 27.007 10.1.22):
 * registered, home (1) or roaming (5), on either counts. */
static void set_reg(sg__modem_t *m, bool eps, int stat) {
  bool reg = stat == 1 || stat == 5;
  if (eps) {
    m->info.cereg_stat = stat;
    m->reg_eps = reg;
  } else {
    m->info.creg_stat = stat;
    m->reg_cs = reg;
  }
  m->registered = m->reg_cs || m->reg_eps;
}

static void parse_info_line(sg__modem_t *m, const char *line) {
  const char *r;
  if (sg_at_has_prefix(line, "+CPIN:", &r)) {
    m->sim_needs_pin = strcmp(r, "READY") != 0;
  } else if (sg_at_has_prefix(line, "+CREG:", &r) ||
             sg_at_has_prefix(line, "+CEREG:", &r)) {
    const char *comma = strchr(r, ',');
    set_reg(m, line[2] == 'E', atoi(comma != NULL ? comma + 1 : r));
  } else if (sg_at_has_prefix(line, "+CSQ:", &r)) {
    m->info.csq_rssi = atoi(r);
  } else if (sg_at_has_prefix(line, "+COPS:", &r)) {
    const char *q = strchr(r, '"');
    const char *e = q != NULL ? strchr(q + 1, '"') : NULL;
    if (e != NULL && (size_t)(e - q - 1) < sizeof m->info.operator_) {
      memcpy(m->info.operator_, q + 1, (size_t)(e - q - 1));
      m->info.operator_[e - q - 1] = '\0';
    }
  } else if (sg_at_has_prefix(line, "+CMGS:", &r)) {
    int mr = atoi(r);
    if (mr >= 0 && mr <= 255 && *r >= '0' && *r <= '9')
      m->cmgs_mr = mr;
  }
}

static bool has_slot(const unsigned *list, size_t n, unsigned slot) {
  for (size_t i = 0; i < n; i++)
    if (list[i] == slot)
      return true;
  return false;
}

static void push_slot(unsigned *list, size_t *n, unsigned slot) {
  if (!has_slot(list, *n, slot) && *n < SG__MODEM_READS_MAX)
    list[(*n)++] = slot;
}

static void drop_slot(unsigned *list, size_t *n, unsigned slot) {
  for (size_t i = 0; i < *n; i++)
    if (list[i] == slot) {
      list[i] = list[--*n];
      return;
    }
}

/* A stored message to read: not one the owner holds, nor one acked and
 * about to be deleted (AT+CMGL lists them again after a reset). */
static void want_read(sg__modem_t *m, unsigned slot) {
  if (!has_slot(m->held, m->n_held, slot) &&
      !has_slot(m->deletes, m->n_deletes, slot))
    push_slot(m->reads, &m->n_reads, slot);
}

static void answer_line(sg__modem_t *m, const sg_at_event_t *ev) {
  const char *r;
  if (m->want_pdu_line) {
    m->want_pdu_line = false;
    if (m->cmd == SG__MC_CMGR && ev->len < sizeof m->pdu_hex) {
      memcpy(m->pdu_hex, ev->line, ev->len + 1);
      m->pdu_hex_len = ev->len;
      m->have_pdu = true;
    }
    return;
  }
  if (sg_at_has_prefix(ev->line, "+CMGR:", &r)) {
    m->want_pdu_line = true;
  } else if (sg_at_has_prefix(ev->line, "+CMGL:", &r)) {
    long slot = strtol(r, NULL, 10);
    if (slot > 0 && slot < 100000)
      want_read(m, (unsigned)slot);
    m->want_pdu_line = true; /* its PDU is read again with AT+CMGR */
  } else {
    parse_info_line(m, ev->line);
  }
}

/* ---- Status reports ------------------------------------------------------ */

/* The same subscriber: equal digits, or one number a suffix of the other
 * (international versus national format) with at least 6 digits. */
static bool same_recipient(const char *a, const char *b) {
  a += a[0] == '+';
  b += b[0] == '+';
  size_t la = strlen(a), lb = strlen(b);
  if (la < lb) {
    const char *t = a;
    a = b;
    b = t;
    size_t tl = la;
    la = lb;
    lb = tl;
  }
  return strcmp(a, b) == 0 || (lb >= 6 && strcmp(a + la - lb, b) == 0);
}

/* TS 23.040 9.2.3.15 TP-ST to a delivery state; *final false for the
 * intermediate "still trying" range. */
static sg_conn_dlr_state_t report_state(uint8_t st, bool *final) {
  *final = true;
  if (st <= 0x02)
    return SG_DLR_DELIVERED;
  if (st < 0x20)
    return SG_DLR_DELIVERED; /* reserved "completed" values */
  if (st < 0x40) {
    *final = false;
    return SG_DLR_ENROUTE;
  }
  if (st == 0x46 || st == 0x66)
    return SG_DLR_EXPIRED;
  if (st == 0x47 || st == 0x48)
    return SG_DLR_DELETED;
  return SG_DLR_UNDELIVERABLE;
}

static bool newer(const sg__mwait_t *a, const sg__mwait_t *b) {
  return a->sent_ms != b->sent_ms ? a->sent_ms > b->sent_ms : a->seq > b->seq;
}

#define QUARTER_MS (15 * 60 * 1000ll)
#define SKEW_MAX_MS (14 * 3600 * 1000ll) /* TS 23.040 9.2.3.11: +-14 h */

/* How well a part sent at sent_ms fits a report whose TP-SCTS (when the
 * SMSC took the submit) is scts_ms: 2 within the clock slack, 1 off by
 * whole quarter hours within 14 h (an SMSC that states its time zone
 * wrongly), 0 not at all (an older or later use of the reference). */
static int time_fit(int64_t sent_ms, int64_t scts_ms) {
  if (scts_ms <= 0)
    return 2;
  int64_t d = scts_ms - sent_ms, ad = d < 0 ? -d : d;
  if (ad <= SG_MODEM_CLOCK_SLACK_MS)
    return 2;
  int64_t r = ((d % QUARTER_MS) + QUARTER_MS) % QUARTER_MS;
  return ad <= SKEW_MAX_MS + SG_MODEM_CLOCK_SLACK_MS &&
                 (r <= SG_MODEM_CLOCK_SLACK_MS ||
                  r >= QUARTER_MS - SG_MODEM_CLOCK_SLACK_MS)
             ? 1
             : 0;
}

/* The part with this TP-MR and recipient whose send time fits the report's
 * TP-SCTS best (scts_ms 0: unknown, any), the newest among equals. */
static sg__mwait_t *find_waiting(sg__modem_t *m, uint8_t mr, const char *ra,
                                 int64_t scts_ms) {
  sg__mwait_t *best = NULL;
  int best_fit = 0;
  for (size_t i = 0; i < SG__MODEM_WAITING_MAX; i++) {
    sg__mwait_t *w = &m->waiting[i];
    if (!w->used || w->mr != mr || !same_recipient(w->recipient, ra))
      continue;
    int fit = time_fit(w->sent_ms, scts_ms);
    if (fit > best_fit || (fit > 0 && fit == best_fit && newer(w, best))) {
      best = w;
      best_fit = fit;
    }
  }
  return best;
}

static void add_waiting(sg__modem_t *m, uint8_t mr, const char *rcpt,
                        const char *smsc_id, int64_t sent_ms) {
  sg__mwait_t *slot = &m->waiting[0];
  for (size_t i = 0; i < SG__MODEM_WAITING_MAX; i++) {
    sg__mwait_t *w = &m->waiting[i];
    if (!w->used) {
      slot = w;
      break;
    }
    if (w->seq < slot->seq)
      slot = w; /* full: the oldest gives way */
  }
  slot->used = true;
  slot->mr = mr;
  slot->sent_ms = sent_ms;
  slot->seq = ++m->seq;
  snprintf(slot->recipient, sizeof slot->recipient, "%s", rcpt);
  snprintf(slot->smsc_id, sizeof slot->smsc_id, "%s", smsc_id);
}

static void conn_addr(sg_conn_addr_t *out, const sg_tpdu_addr_t *a) {
  memset(out, 0, sizeof *out);
  out->ton = a->ton;
  out->npi = a->npi;
  size_t n = strlen(a->addr);
  if (n >= sizeof out->addr) /* a long alphanumeric sender: cut at a */
    for (n = sizeof out->addr - 1;
         n > 0 && ((uint8_t)a->addr[n] & 0xC0) == 0x80;
         n--) /* character boundary */
      ;
  memcpy(out->addr, a->addr, n);
}

/* Returns true when the report went to the owner (who will ack it). */
static bool handle_report(sg__modem_t *m, const sg_tpdu_status_report_t *sr,
                          uint64_t token) {
  int64_t scts_ms = 0;
  if (sg_tpdu_time_to_ms(&sr->scts, &scts_ms) != 0)
    scts_ms = 0;
  sg__mwait_t *w = find_waiting(m, sr->mr, sr->ra.addr, scts_ms);
  if (w == NULL || m->base.cb.dlr_cb == NULL)
    return false; /* nothing sent here waits for it */
  bool final;
  sg_conn_dlr_t d;
  memset(&d, 0, sizeof d);
  snprintf(d.smsc_id, sizeof d.smsc_id, "%s", w->smsc_id);
  d.state = report_state(sr->st, &final);
  d.error = d.state == SG_DLR_DELIVERED ? 0 : sr->st;
  if (sg_tpdu_time_to_ms(&sr->dt, &d.done_ms) != 0)
    d.done_ms = wall_ms();
  conn_addr(&d.dst, &sr->ra);
  if (final)
    w->used = false;
  m->st.dlr_received++;
  m->acks_pending++;
  m->base.cb.dlr_cb(&m->base, m->base.owner, &d, token);
  return true;
}

/* ---- Inbound messages ---------------------------------------------------- */

static bool handle_deliver(sg__modem_t *m, const sg_tpdu_deliver_t *d,
                           uint64_t token) {
  if (m->base.cb.inbound_cb == NULL)
    return false;
  sg_conn_inbound_t in;
  memset(&in, 0, sizeof in);
  conn_addr(&in.src, &d->oa);
  /* The SIM's own number is not known: the recipient is the connector's
   * name, as an alphanumeric address. */
  in.dst.ton = 5;
  memcpy(in.dst.addr, m->base.name,
         strnlen(m->base.name, sizeof in.dst.addr - 1));
  in.data_coding = sg_tpdu_dcs_for(sg_tpdu_dcs_encoding(d->dcs));
  in.esm_class = d->udh_len > 0 ? 0x40 : 0;
  in.udh = d->udh_len > 0 ? d->udh : NULL;
  in.udh_len = d->udh_len;
  in.ud = d->ud;
  in.ud_len = d->ud_len;
  if (sg_tpdu_time_to_ms(&d->scts, &in.received_ms) != 0)
    in.received_ms = wall_ms();
  m->st.inbound_received++;
  m->acks_pending++;
  m->base.cb.inbound_cb(&m->base, m->base.owner, &in, token);
  return true;
}

/* A PDU as +CMGR, +CMT or +CDS give it: with the SCA when it is longer
 * than the TPDU length the modem announced (tpdu_len 0: always). Returns
 * true when an event went to the owner. */
static bool handle_pdu(sg__modem_t *m, const char *hex, size_t hex_len,
                       size_t tpdu_len, uint64_t token) {
  static sg_tpdu_deliver_t d;
  uint8_t pdu[SG_TPDU_MAX + 12];
  size_t n = 0, sca = 0;
  if (sg_tpdu_hex_decode(hex, hex_len, pdu, sizeof pdu, &n) != 0 || n == 0)
    return false;
  if ((tpdu_len == 0 || n > tpdu_len) &&
      sg_tpdu_decode_sca(pdu, n, NULL, &sca) != 0)
    return false;
  const uint8_t *t = pdu + sca;
  size_t tn = n - sca;
  if (tn > 0 && (t[0] & 3) == SG_TPDU_MTI_STATUS_REPORT) {
    sg_tpdu_status_report_t sr;
    if (sg_tpdu_decode_status_report(t, tn, &sr) != 0)
      return false;
    return handle_report(m, &sr, token);
  }
  if (tn > 0 && (t[0] & 3) == SG_TPDU_MTI_DELIVER &&
      sg_tpdu_decode_deliver(t, tn, &d) == 0)
    return handle_deliver(m, &d, token);
  return false;
}

int sg__modem_restore(sg__modem_t *m, const char *smsc_id) {
  char *end;
  long mr = strtol(smsc_id, &end, 10);
  if (end == smsc_id || *end != ':' || mr < 0 || mr > 255)
    return SG_EINVAL;
  const char *rcpt = end + 1, *colon = strchr(rcpt, ':');
  if (colon == NULL || colon == rcpt || (size_t)(colon - rcpt) >= 24 ||
      strspn(rcpt, "0123456789") != (size_t)(colon - rcpt))
    return SG_EINVAL;
  long long ms = strtoll(colon + 1, &end, 10);
  if (end == colon + 1 || *end != '\0' || ms <= 0)
    return SG_EINVAL;
  for (size_t i = 0; i < SG__MODEM_WAITING_MAX; i++)
    if (m->waiting[i].used && strcmp(m->waiting[i].smsc_id, smsc_id) == 0)
      return 0;
  char r[24];
  memcpy(r, rcpt, (size_t)(colon - rcpt));
  r[colon - rcpt] = '\0';
  add_waiting(m, (uint8_t)mr, r, smsc_id, (int64_t)ms);
  return 0;
}

void sg__modem_ack(sg__modem_t *m, uint64_t token, bool accepted) {
  unsigned kind = (unsigned)(token >> 32), slot = (unsigned)token;
  if (m->acks_pending > 0)
    m->acks_pending--;
  if (kind == TOKEN_CNMA) {
    if (accepted) { /* stored: now the network may forget it */
      m->cnma_pending++;
      sg__modem_kick(m);
    }
    return;
  }
  if (kind != TOKEN_STORED && kind != TOKEN_REPORT)
    return;
  drop_slot(m->held, &m->n_held, slot);
  if (accepted || kind == TOKEN_REPORT)
    push_slot(m->deletes, &m->n_deletes, slot);
  else
    push_slot(m->rereads, &m->n_rereads, slot);
  sg__modem_kick(m);
}

/* ---- Unsolicited result codes -------------------------------------------- */

static void handle_urc(sg__modem_t *m, const sg_at_event_t *ev) {
  const char *r;
  if (sg_at_has_prefix(ev->line, "+CMTI:", &r) ||
      sg_at_has_prefix(ev->line, "+CDSI:", &r)) {
    const char *comma = strchr(r, ',');
    long slot = comma != NULL ? strtol(comma + 1, NULL, 10) : 0;
    if (slot > 0 && slot < 100000)
      want_read(m, (unsigned)slot);
    sg__modem_kick(m);
  } else if (ev->pdu != NULL && (sg_at_has_prefix(ev->line, "+CDS:", &r) ||
                                 sg_at_has_prefix(ev->line, "+CMT:", &r))) {
    const char *comma = strrchr(r, ',');
    long len = strtol(comma != NULL ? comma + 1 : r, NULL, 10);
    uint64_t kind = m->direct ? TOKEN_CNMA : TOKEN_DIRECT;
    if (!handle_pdu(m, ev->pdu, ev->pdu_len, len > 0 ? (size_t)len : 0,
                    kind << 32) &&
        m->direct) {
      m->cnma_pending++; /* nothing for the owner: acknowledged at once */
      sg__modem_kick(m);
    }
  } else if (sg_at_has_prefix(ev->line, "+CREG:", &r) ||
             sg_at_has_prefix(ev->line, "+CEREG:", &r)) {
    set_reg(m, ev->line[2] == 'E', atoi(r));
  }
}

/* ---- Sending ------------------------------------------------------------- */

/* The hex PDU of the part at the head of the queue ("00": the SMSC set in
 * the modem); returns its TPDU length or a negative SG_E* code. */
static int build_submit(sg__modem_t *m, const sg__mpart_t *mp) {
  sg_tpdu_submit_t s;
  memset(&s, 0, sizeof s);
  const sg_conn_part_t *p = &mp->p;
  s.da.ton = p->dst.ton;
  s.da.npi = p->dst.npi;
  snprintf(s.da.addr, sizeof s.da.addr, "%s",
           p->dst.addr + (p->dst.addr[0] == '+'));
  s.srr = p->want_report;
  s.dcs = sg_tpdu_dcs_for(p->encoding);
  s.vp_relative = -1;
  if (p->validity_ms > 0) {
    int64_t left = (p->validity_ms - wall_ms()) / 1000;
    if (left <= 0)
      return SG_ETIMEDOUT;
    s.vp_relative = sg_tpdu_vp_relative(left);
  }
  memcpy(s.udh, mp->udh, p->udh_len);
  s.udh_len = p->udh_len;
  memcpy(s.ud, mp->ud, p->ud_len);
  s.ud_len = p->ud_len;
  uint8_t pdu[SG_TPDU_MAX + 1];
  size_t n = 0;
  pdu[0] = 0x00;
  int rc = sg_tpdu_encode_submit(&s, pdu + 1, sizeof pdu - 1, &n);
  if (rc != 0)
    return rc;
  sg_tpdu_hex_encode(pdu, n + 1, m->cmgs_hex, sizeof m->cmgs_hex - 1);
  m->cmgs_hex[2 * (n + 1)] = '\x1A';
  m->cmgs_hex[2 * (n + 1) + 1] = '\0';
  return (int)n;
}

static bool start_send(sg__modem_t *m) {
  while (m->q_len > 0) {
    sg__mpart_t *mp = &m->q[m->q_head];
    int n = build_submit(m, mp);
    if (n < 0) {
      m->st.perm_errors++;
      sg__modem_result(m, SG_CONN_PERMFAIL, 0, NULL);
      continue;
    }
    char b[32];
    snprintf(b, sizeof b, "AT+CMGS=%d", n);
    m->sending = true;
    m->prompted = false;
    m->cmgs_mr = -1;
    if (mp->attempts == 0 && mp->unknowns == 0)
      m->st.submitted++;
    send_cmd(m, SG__MC_CMGS, b, NULL, m->cfg.command_timeout_ms);
    return true;
  }
  return false;
}

static void cmgs_done(sg__modem_t *m, const sg_at_event_t *ev) {
  if (m->q_len == 0 || !m->sending)
    return;
  sg__mpart_t *mp = &m->q[m->q_head];
  if (ev->kind == SG_AT_OK && m->cmgs_mr >= 0) {
    char id[66];
    const char *rcpt = mp->p.dst.addr + (mp->p.dst.addr[0] == '+');
    int64_t now = wall_ms();
    snprintf(id, sizeof id, "%d:%s:%lld", m->cmgs_mr, rcpt, (long long)now);
    if (mp->p.want_report)
      add_waiting(m, (uint8_t)m->cmgs_mr, rcpt, id, now);
    sg__modem_result(m, SG_CONN_SENT, 0, id);
    return;
  }
  int code = ev->kind == SG_AT_CMS_ERROR ? ev->code : -1;
  m->info.cms_errors++;
  if (code >= 0 && sg_modem_cms_permanent(code)) {
    m->st.perm_errors++;
    sg__modem_result(m, SG_CONN_PERMFAIL, code, NULL);
    return;
  }
  m->st.temp_errors++;
  if (mp->attempts >= m->cfg.max_retries) {
    sg__modem_result(m, SG_CONN_TEMPFAIL, code > 0 ? code : 0, NULL);
    return;
  }
  mp->attempts++;
  m->sending = false;
  m->prompted = false;
  m->retry_at = uv_now(m->loop) + RETRY_MS;
}

/* ---- Final result codes -------------------------------------------------- */

static void cmgr_done(sg__modem_t *m, const sg_at_event_t *ev) {
  unsigned slot = m->cmd_slot;
  bool gone = ev->kind == SG_AT_CMS_ERROR && ev->code == 321;
  if (ev->kind != SG_AT_OK || !m->have_pdu) {
    if (!gone && ev->kind != SG_AT_OK)
      push_slot(m->rereads, &m->n_rereads, slot);
    return;
  }
  m->have_pdu = false;
  /* +CMGR: the PDU always starts with the SCA (TS 27.005 3.1). */
  uint64_t token = (uint64_t)slot;
  const char *hex = m->pdu_hex;
  size_t n = 0, sca = 0;
  uint8_t buf[SG_TPDU_MAX + 12];
  bool report = false;
  if (sg_tpdu_hex_decode(hex, m->pdu_hex_len, buf, sizeof buf, &n) == 0 &&
      sg_tpdu_decode_sca(buf, n, NULL, &sca) == 0 && sca < n)
    report = (buf[sca] & 3) == SG_TPDU_MTI_STATUS_REPORT;
  token |= (report ? TOKEN_REPORT : TOKEN_STORED) << 32;
  if (has_slot(m->held, m->n_held, slot))
    return; /* the owner has it already */
  push_slot(m->held, &m->n_held, slot);
  if (!handle_pdu(m, hex, m->pdu_hex_len, 0, token)) {
    drop_slot(m->held, &m->n_held, slot);
    push_slot(m->deletes, &m->n_deletes, slot); /* unreadable or unmatched */
  }
}

static void final_code(sg__modem_t *m, const sg_at_event_t *ev) {
  sg__mcmd_t cmd = m->cmd;
  if (cmd == SG__MC_INIT) {
    init_final(m, ev);
    return;
  }
  m->cmd = SG__MC_NONE;
  uv_timer_stop(&m->timer);
  if (cmd == SG__MC_CMGS)
    cmgs_done(m, ev);
  else if (cmd == SG__MC_CMGR)
    cmgr_done(m, ev);
  sg__modem_kick(m);
}

void sg__modem_event(sg__modem_t *m, const sg_at_event_t *ev) {
  switch (ev->kind) {
  case SG_AT_URC:
    handle_urc(m, ev);
    return;
  case SG_AT_ECHO:
  case SG_AT_OVERLONG:
    return;
  case SG_AT_PROMPT:
    if (m->cmd == SG__MC_CMGS && !m->prompted) {
      m->prompted = true;
      sg__modem_write(m, m->cmgs_hex, strlen(m->cmgs_hex));
      sg__modem_timeout(m, m->cfg.send_timeout_ms);
    }
    return;
  case SG_AT_LINE:
    if (m->cmd != SG__MC_NONE && m->cmd != SG__MC_SETTLE)
      answer_line(m, ev);
    return;
  default:
    if (m->cmd != SG__MC_NONE && m->cmd != SG__MC_SETTLE && !m->reg_waiting)
      final_code(m, ev);
    return;
  }
}

/* ---- Dispatch and timeouts ----------------------------------------------- */

void sg__modem_dispatch(sg__modem_t *m) {
  if (m->state != SG__MS_READY || m->cmd != SG__MC_NONE || m->stopping)
    return;
  char b[32];
  if (m->cnma_pending > 0) {
    m->cnma_pending--;
    send_cmd(m, SG__MC_CNMA, "AT+CNMA", NULL, m->cfg.command_timeout_ms);
    return;
  }
  if (m->n_deletes > 0) {
    m->cmd_slot = m->deletes[--m->n_deletes];
    snprintf(b, sizeof b, "AT+CMGD=%u", m->cmd_slot);
    send_cmd(m, SG__MC_CMGD, b, NULL, m->cfg.command_timeout_ms);
    return;
  }
  if (m->n_reads > 0) {
    m->cmd_slot = m->reads[0];
    memmove(m->reads, m->reads + 1, --m->n_reads * sizeof m->reads[0]);
    m->have_pdu = false;
    snprintf(b, sizeof b, "AT+CMGR=%u", m->cmd_slot);
    send_cmd(m, SG__MC_CMGR, b, NULL, m->cfg.command_timeout_ms);
    return;
  }
  if (m->paused || m->q_len == 0)
    return;
  uint64_t now = uv_now(m->loop);
  if (m->retry_at > now) {
    sg__modem_kick_after(m, m->retry_at - now);
    return;
  }
  start_send(m);
}

void sg__modem_on_timeout(sg__modem_t *m) {
  if (m->cmd == SG__MC_SETTLE) {
    sg_at_reader_init(&m->rd);
    m->step = STEP_ATE0;
    init_send(m);
    return;
  }
  if (m->cmd == SG__MC_INIT && m->reg_waiting) {
    m->reg_waiting = false;
    init_send(m);
    return;
  }
  if (m->cmd == SG__MC_NONE)
    return;
  m->st.timeouts++;
  sg__modem_reset(m, "the modem does not answer");
}
