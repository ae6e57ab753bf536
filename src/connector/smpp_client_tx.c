/* smpp_client_tx.c - the send path of the SMPP client connector: the queue
 * of parts (by priority, with delayed retries), the strict ordering of the
 * parts of one message, building each submit_sm (SMPP 3.4 section 4.4.1)
 * and deciding every part's outcome from its submit_sm_resp (section
 * 4.4.2), a generic_nack, or the lack of either.
 *
 * It never calls an owner callback from inside sg_connector_submit(): a
 * part whose outcome is known at once goes to c->done and is reported from
 * the idle callback. Every part given to submit gets exactly one result.
 */
#include <string.h>

#include "connector/smpp_client_int.h"
#include "core/alloc.h"
#include "core/error.h"
#include "core/gsm7.h"
#include "smpp/smpptime.h"

/* data_coding values (SMPP 3.4 section 5.2.19). */
#define DCS_8BIT 0x04
#define DCS_UCS2 0x08
/* esm_class UDHI (section 5.2.12) */
#define ESM_UDHI 0x40
/* Concatenation IEIs (TS 23.040 9.2.3.24.1 and .8). */
#define IEI_CONCAT8 0x00
#define IEI_CONCAT16 0x08

static const char k_text_stopped[] = "connector stopped";
static const char k_text_no_answer[] = "no response from the SMSC";
static const char k_text_lost[] = "connection lost before the response";
static const char k_text_expired[] = "validity period passed before sending";
static const char k_text_generic_nack[] = "generic_nack";

/* ---- Job bookkeeping ---------------------------------------------------- */

/* Moves a job to state w, keeping c->queued and c->in_flight right. */
static void set_where(sg__sc_client_t *c, sg__sc_job_t *j, sg__sc_where_t w) {
  bool was_q = SG__SC_QUEUED(j->where), is_q = SG__SC_QUEUED(w);
  if (was_q && !is_q)
    c->queued -= j->n_ids;
  else if (!was_q && is_q)
    c->queued += j->n_ids;
  if (j->where == SG__SC_FLIGHT && w != SG__SC_FLIGHT)
    c->in_flight -= j->n_ids;
  else if (j->where != SG__SC_FLIGHT && w == SG__SC_FLIGHT)
    c->in_flight += j->n_ids;
  j->where = (uint8_t)w;
}

static void job_free(sg__sc_job_t *j) {
  if (j->ids != &j->id_one)
    sg_free(j->ids);
  sg_free(j);
}

static void make_ready(sg__sc_client_t *c, sg__sc_job_t *j, bool front) {
  set_where(c, j, SG__SC_READY);
  if (front)
    sg__sc_list_push_front(&c->ready[j->priority], &j->node);
  else
    sg__sc_list_push_back(&c->ready[j->priority], &j->node);
}

/* Decides a job's outcome now and leaves the report to the idle callback. */
static void make_done(sg__sc_client_t *c, sg__sc_job_t *j, uint8_t outcome,
                      uint32_t status, const char *text) {
  set_where(c, j, SG__SC_DONE);
  j->outcome = outcome;
  j->status = status;
  j->status_text = text;
  sg__sc_list_push_back(&c->done, &j->node);
  sg__sc_soon(c);
}

static void msg_release(sg__sc_client_t *c, sg__sc_msg_t *m) {
  if (m->jobs > 0 || m->open)
    return;
  if (c->open_msg == m)
    c->open_msg = NULL;
  sg__sc_list_unlink(&m->node);
  sg_free(m);
}

/* A part of message m has its outcome: let the next part go, or fail the
 * rest the same way (see smpp_client.h, "Messages of several parts"). */
static void msg_after(sg__sc_client_t *c, sg__sc_msg_t *m, bool was_active,
                      uint8_t outcome, uint32_t status, const char *text) {
  if (was_active)
    m->active = false;
  m->jobs--;
  if (!m->failed &&
      (outcome == SG_CONN_PERMFAIL || outcome == SG_CONN_TEMPFAIL)) {
    m->failed = true;
    m->fail_outcome = outcome;
    m->fail_status = status;
    m->fail_text = text;
  }
  if (m->failed || c->stopping) {
    while (!sg__sc_list_empty(&m->parts)) {
      sg__sc_job_t *j = SG__SC_CONTAINER(m->parts.next, sg__sc_job_t, node);
      sg__sc_list_unlink(&j->node);
      if (m->failed)
        make_done(c, j, m->fail_outcome, m->fail_status, m->fail_text);
      else
        make_done(c, j, SG_CONN_TEMPFAIL, 0, k_text_stopped);
    }
  } else if (!m->active && !sg__sc_list_empty(&m->parts)) {
    sg__sc_job_t *j = SG__SC_CONTAINER(m->parts.next, sg__sc_job_t, node);
    sg__sc_list_unlink(&j->node);
    m->active = true;
    j->active_part = true;
    make_ready(c, j, true);
  }
  msg_release(c, m);
}

/* Reports one job's outcome to the owner (every id it carries) and frees
 * it. smsc_id is the canonical key, "" when none; raw_id the operator's id
 * as it gave it. */
static void finish_ids(sg__sc_client_t *c, sg__sc_job_t *j, uint8_t outcome,
                       uint32_t status, const char *text, const char *smsc_id,
                       const char *raw_id) {
  set_where(c, j, SG__SC_DONE);
  sg_conn_result_t r = {.outcome = (sg_conn_outcome_t)outcome,
                        .status = status,
                        .status_text = text,
                        .attempts = j->attempts};
  if (smsc_id != NULL) {
    size_t n = strnlen(smsc_id, sizeof r.smsc_id - 1);
    memcpy(r.smsc_id, smsc_id, n);
    r.smsc_id[n] = '\0';
  }
  if (raw_id != NULL) {
    size_t n = strnlen(raw_id, sizeof r.smsc_raw_id - 1);
    memcpy(r.smsc_raw_id, raw_id, n);
    r.smsc_raw_id[n] = '\0';
  }
  if (outcome == SG_CONN_SENT)
    c->stats.sent_ok += j->n_ids;
  sg__sc_msg_t *m = j->msg;
  for (uint32_t i = 0; i < j->n_ids; i++) {
    r.id = j->ids[i];
    c->base.cb.result_cb(&c->base, c->base.owner, &r);
  }
  if (m != NULL)
    msg_after(c, m, j->active_part, outcome, status, text);
  job_free(j);
}

static void finish(sg__sc_client_t *c, sg__sc_job_t *j, uint8_t outcome,
                   uint32_t status, const char *text, const char *smsc_id) {
  finish_ids(c, j, outcome, status, text, smsc_id, NULL);
}

void sg__sc_flush_done(sg__sc_client_t *c) {
  while (!sg__sc_list_empty(&c->done)) {
    sg__sc_job_t *j = SG__SC_CONTAINER(c->done.next, sg__sc_job_t, node);
    sg__sc_list_unlink(&j->node);
    finish(c, j, j->outcome, j->status, j->status_text, "");
  }
}

/* ---- Submit ------------------------------------------------------------- */

static bool addr_ok(const sg_conn_addr_t *a, bool required) {
  const char *nul = memchr(a->addr, '\0', sizeof a->addr);
  return nul != NULL && (!required || nul != a->addr);
}

/* Octets the part's user data takes in short_message. */
static size_t ud_octets(const sg__sc_client_t *c, sg_encoding_t enc,
                        size_t udh_len, size_t ud_len) {
  if (enc != SG_ENC_GSM7 || !c->cfg.gsm7_packed)
    return ud_len;
  unsigned fill = udh_len > 0 ? (unsigned)((7 - (udh_len * 8) % 7) % 7) : 0;
  return sg_gsm7_packed_len(ud_len, fill);
}

static int check_part(const sg__sc_client_t *c, const sg_conn_part_t *p) {
  if (p->encoding != SG_ENC_GSM7 && p->encoding != SG_ENC_UCS2 &&
      p->encoding != SG_ENC_8BIT)
    return SG_EINVAL;
  if (p->priority > 3 || !addr_ok(&p->dst, true) || !addr_ok(&p->src, false))
    return SG_EINVAL;
  if ((p->udh_len > 0 && p->udh == NULL) || (p->ud_len > 0 && p->ud == NULL))
    return SG_EINVAL;
  if (p->udh_len > 0 && (size_t)p->udh[0] + 1 != p->udh_len)
    return SG_EINVAL;
  if (p->udh_len + ud_octets(c, p->encoding, p->udh_len, p->ud_len) >
      SG_SMPP_SM_MAX)
    return SG_EINVAL;
  if (p->encoding == SG_ENC_UCS2 && p->ud_len % 2 != 0)
    return SG_EINVAL;
  if (p->encoding == SG_ENC_GSM7)
    for (size_t i = 0; i < p->ud_len; i++)
      if (p->ud[i] > 0x7F)
        return SG_EINVAL;
  if (p->concat_total > 1 &&
      (p->concat_seq < 1 || p->concat_seq > p->concat_total))
    return SG_EINVAL;
  return 0;
}

static sg__sc_job_t *job_new(const sg_conn_part_t *p) {
  sg__sc_job_t *j = sg_malloc(sizeof *j + p->udh_len + p->ud_len);
  if (j == NULL)
    return NULL;
  memset(j, 0, sizeof *j);
  sg__sc_list_init(&j->node);
  j->priority = p->priority;
  j->want_report = p->want_report;
  j->encoding = (uint8_t)p->encoding;
  j->concat_ref = p->concat_ref;
  j->concat_total = p->concat_total;
  j->concat_seq = p->concat_seq;
  j->src = p->src;
  j->dst = p->dst;
  j->validity_ms = p->validity_ms;
  j->schedule_ms = p->schedule_ms;
  j->id_one = p->id;
  j->ids = &j->id_one;
  j->n_ids = 1;
  j->udh_len = (uint32_t)p->udh_len;
  j->ud_len = (uint32_t)p->ud_len;
  if (p->udh_len > 0)
    memcpy(j->data, p->udh, p->udh_len);
  if (p->ud_len > 0)
    memcpy(j->data + p->udh_len, p->ud, p->ud_len);
  return j;
}

/* Writes the UDH udh[0..len) without its concatenation IEs into out
 * (UDHL first) and returns the new length: 0 when no IE is left. A UDH
 * whose IEs do not add up is copied as it is. */
static size_t strip_concat(const uint8_t *udh, size_t len, uint8_t *out) {
  size_t n = 1;
  for (size_t i = 1; i < len;) {
    if (i + 2 > len || i + 2 + udh[i + 1] > len) {
      memcpy(out, udh, len);
      return len;
    }
    size_t ie = 2 + (size_t)udh[i + 1];
    if (udh[i] != IEI_CONCAT8 && udh[i] != IEI_CONCAT16) {
      memcpy(out + n, udh + i, ie);
      n += ie;
    }
    i += ie;
  }
  if (n == 1)
    return 0;
  out[0] = (uint8_t)(n - 1);
  return n;
}

/* Payload mode: one job carrying every collected part of m, in order. */
static sg__sc_job_t *merge_parts(sg__sc_client_t *c, sg__sc_msg_t *m) {
  size_t n = 0, ud = 0;
  sg__sc_job_t *first = NULL;
  for (sg__sc_node_t *e = m->parts.next; e != &m->parts; e = e->next) {
    sg__sc_job_t *j = SG__SC_CONTAINER(e, sg__sc_job_t, node);
    if (first == NULL)
      first = j;
    n++;
    ud += j->ud_len;
  }
  sg__sc_job_t *mj = sg_malloc(sizeof *mj + first->udh_len + ud);
  uint64_t *ids = sg_malloc(n * sizeof *ids);
  if (mj == NULL || ids == NULL) {
    sg_free(mj);
    sg_free(ids);
    return NULL;
  }
  *mj = *first;
  sg__sc_list_init(&mj->node);
  mj->where = SG__SC_NEW;
  mj->msg = NULL;
  mj->payload = true;
  mj->ids = ids;
  mj->n_ids = (uint32_t)n;
  mj->udh_len = (uint32_t)strip_concat(first->data, first->udh_len, mj->data);
  mj->ud_len = 0;
  size_t k = 0;
  while (!sg__sc_list_empty(&m->parts)) {
    sg__sc_job_t *j = SG__SC_CONTAINER(m->parts.next, sg__sc_job_t, node);
    sg__sc_list_unlink(&j->node);
    ids[k++] = j->ids[0];
    memcpy(mj->data + mj->udh_len + mj->ud_len, j->data + j->udh_len,
           j->ud_len);
    mj->ud_len += j->ud_len;
    set_where(c, j, SG__SC_NEW);
    m->jobs--;
    job_free(j);
  }
  return mj;
}

/* Payload mode: the message is complete (or will get no more parts). The
 * caller releases m. */
static void payload_ready(sg__sc_client_t *c, sg__sc_msg_t *m) {
  if (sg__sc_list_empty(&m->parts))
    return;
  sg__sc_job_t *mj = merge_parts(c, m);
  if (mj == NULL) {
    /* Out of memory: each part goes on its own rather than being lost. */
    while (!sg__sc_list_empty(&m->parts)) {
      sg__sc_job_t *j = SG__SC_CONTAINER(m->parts.next, sg__sc_job_t, node);
      sg__sc_list_unlink(&j->node);
      j->msg = NULL;
      m->jobs--;
      make_ready(c, j, false);
    }
  } else {
    make_ready(c, mj, false);
  }
}

/* No more parts will join the open message. */
static void close_open_msg(sg__sc_client_t *c) {
  sg__sc_msg_t *m = c->open_msg;
  if (m == NULL)
    return;
  c->open_msg = NULL;
  m->open = false;
  if (c->cfg.long_mode == SG_SMPP_LONG_PAYLOAD && !m->failed)
    payload_ready(c, m);
  msg_release(c, m);
}

static bool same_msg(const sg__sc_msg_t *m, const sg_conn_part_t *p) {
  return m->ref == p->concat_ref && m->total == p->concat_total &&
         m->dst.ton == p->dst.ton && strcmp(m->dst.addr, p->dst.addr) == 0;
}

static sg__sc_msg_t *msg_for(sg__sc_client_t *c, const sg_conn_part_t *p) {
  sg__sc_msg_t *m = c->open_msg;
  if (m != NULL && same_msg(m, p))
    return m;
  close_open_msg(c);
  m = sg_calloc(1, sizeof *m);
  if (m == NULL)
    return NULL;
  sg__sc_list_init(&m->parts);
  m->ref = p->concat_ref;
  m->total = p->concat_total;
  m->dst = p->dst;
  m->open = true;
  sg__sc_list_push_back(&c->msgs, &m->node);
  c->open_msg = m;
  return m;
}

/* Places a new part of message m. */
static void place_in_msg(sg__sc_client_t *c, sg__sc_msg_t *m, sg__sc_job_t *j) {
  j->msg = m;
  m->jobs++;
  if (++m->have >= m->total) {
    m->open = false;
    c->open_msg = NULL;
  }
  if (m->failed) {
    make_done(c, j, m->fail_outcome, m->fail_status, m->fail_text);
  } else if (c->cfg.long_mode == SG_SMPP_LONG_PAYLOAD) {
    set_where(c, j, SG__SC_COLLECT);
    sg__sc_list_push_back(&m->parts, &j->node);
    if (!m->open)
      payload_ready(c, m);
  } else if (m->active) {
    set_where(c, j, SG__SC_BLOCKED);
    sg__sc_list_push_back(&m->parts, &j->node);
  } else {
    m->active = true;
    j->active_part = true;
    make_ready(c, j, false);
  }
  msg_release(c, m);
}

int sg__sc_submit(sg_connector_t *conn, const sg_conn_part_t *part) {
  sg__sc_client_t *c = (sg__sc_client_t *)conn;
  if (c->stopping || c->stopped || c->cfg.bind_type == SG_SMPP_BIND_RX)
    return SG_ESTATE; /* a receiver-only connector sends nothing */
  if (part == NULL)
    return SG_EINVAL;
  int rc = check_part(c, part);
  if (rc != 0)
    return rc;
  if (c->queued >= c->cfg.max_queue) {
    c->want_ready = true;
    return SG_EBUSY;
  }
  sg__sc_job_t *j = job_new(part);
  if (j == NULL)
    return SG_ENOMEM;
  if (part->concat_total > 1) {
    sg__sc_msg_t *m = msg_for(c, part);
    if (m == NULL) {
      job_free(j);
      return SG_ENOMEM;
    }
    place_in_msg(c, m, j);
  } else {
    close_open_msg(c);
    make_ready(c, j, false);
  }
  sg__sc_soon(c);
  return 0;
}

/* ---- Building submit_sm ------------------------------------------------- */

static uint8_t data_coding(const sg__sc_client_t *c, uint8_t enc) {
  if (enc == SG_ENC_UCS2)
    return DCS_UCS2;
  if (enc == SG_ENC_8BIT)
    return DCS_8BIT;
  return c->cfg.gsm7_data_coding;
}

/* schedule_delivery_time and validity_period (section 7.1.1). */
static void set_times(const sg__sc_client_t *c, const sg__sc_job_t *j,
                      int64_t wall, sg_smpp_submit_sm_t *sm) {
  sg_smpp_time_t t;
  if (j->schedule_ms > wall &&
      sg_smpp_time_from_unix_ms(j->schedule_ms, 0, &t) == 0)
    sg_smpp_time_format(&t, sm->schedule_delivery_time);
  if (j->validity_ms <= 0)
    return;
  int64_t left = (j->validity_ms - wall) / 1000;
  if (c->cfg.validity_relative && left >= 0 && left <= UINT32_MAX &&
      sg_smpp_time_from_seconds((uint32_t)left, &t) == 0)
    sg_smpp_time_format(&t, sm->validity_period);
  else if (sg_smpp_time_from_unix_ms(j->validity_ms, 0, &t) == 0)
    sg_smpp_time_format(&t, sm->validity_period);
}

/* Writes UDH + user data (packed when configured) into out; returns the
 * octet count or a negative SG_E* code. */
static long put_content(const sg__sc_client_t *c, const sg__sc_job_t *j,
                        const uint8_t *udh, size_t udh_len, uint8_t *out,
                        size_t cap) {
  const uint8_t *ud = j->data + j->udh_len;
  if (udh_len > cap)
    return SG_ENOSPC;
  memcpy(out, udh, udh_len);
  if (j->encoding == SG_ENC_GSM7 && c->cfg.gsm7_packed) {
    unsigned fill = udh_len > 0 ? (unsigned)((7 - (udh_len * 8) % 7) % 7) : 0;
    size_t n = 0;
    int rc =
        sg_gsm7_pack(ud, j->ud_len, fill, out + udh_len, cap - udh_len, &n);
    return rc < 0 ? rc : (long)(udh_len + n);
  }
  if (j->ud_len > cap - udh_len)
    return SG_ENOSPC;
  memcpy(out + udh_len, ud, j->ud_len);
  return (long)(udh_len + j->ud_len);
}

static int set_sar(sg_smpp_pdu_t *pdu, const sg__sc_job_t *j) {
  int rc =
      sg_smpp_tlv_set_int(pdu, SG_SMPP_TLV_SAR_MSG_REF_NUM, j->concat_ref, 0);
  if (rc == 0)
    rc = sg_smpp_tlv_set_int(pdu, SG_SMPP_TLV_SAR_TOTAL_SEGMENTS,
                             j->concat_total, 0);
  if (rc == 0)
    rc = sg_smpp_tlv_set_int(pdu, SG_SMPP_TLV_SAR_SEGMENT_SEQNUM, j->concat_seq,
                             0);
  return rc;
}

/* The content of submit_sm: short_message, or message_payload for a merged
 * message, with the UDH (SAR mode: without its concatenation IEs). */
static int set_content(sg__sc_client_t *c, const sg__sc_job_t *j,
                       sg_smpp_pdu_t *pdu) {
  sg_smpp_submit_sm_t *sm = &pdu->body.submit_sm;
  const uint8_t *udh = j->data;
  size_t udh_len = j->udh_len;
  uint8_t stripped[256];
  bool sar = c->cfg.long_mode == SG_SMPP_LONG_SAR && j->concat_total > 1 &&
             !j->payload;
  if (sar) {
    udh_len = strip_concat(udh, udh_len, stripped);
    udh = stripped;
    int rc = set_sar(pdu, j);
    if (rc != 0)
      return rc;
  }
  if (udh_len > 0)
    sm->esm_class |= ESM_UDHI;
  if (j->payload) {
    long n = put_content(c, j, udh, udh_len, c->scratch, c->scratch_cap);
    if (n < 0)
      return (int)n;
    if (n > 65535)
      return SG_ETOOLONG;
    return sg_smpp_tlv_set_bytes(pdu, SG_SMPP_TLV_MESSAGE_PAYLOAD, c->scratch,
                                 (size_t)n);
  }
  long n = put_content(c, j, udh, udh_len, sm->short_message, SG_SMPP_SM_MAX);
  if (n < 0)
    return (int)n;
  sm->sm_length = (uint8_t)n;
  return 0;
}

static int build_submit(sg__sc_client_t *c, const sg__sc_job_t *j,
                        int64_t wall) {
  sg_smpp_pdu_t *pdu = &c->pdu;
  sg_smpp_pdu_init(pdu, SG_SMPP_SUBMIT_SM, 0);
  sg_smpp_submit_sm_t *sm = &pdu->body.submit_sm;
  if (c->cfg.service_type != NULL)
    strcpy(sm->service_type, c->cfg.service_type);
  sm->source_addr_ton = j->src.ton;
  sm->source_addr_npi = j->src.npi;
  strcpy(sm->source_addr, j->src.addr);
  sm->dest_addr_ton = j->dst.ton;
  sm->dest_addr_npi = j->dst.npi;
  strcpy(sm->destination_addr, j->dst.addr);
  sm->priority_flag = j->priority;
  sm->registered_delivery = j->want_report ? 1 : 0; /* section 5.2.17 */
  sm->data_coding = data_coding(c, j->encoding);
  set_times(c, j, wall, sm);
  return set_content(c, j, pdu);
}

/* ---- The pump ----------------------------------------------------------- */

/* The bind with the most free window that can take a submit_sm now. */
static sg__sc_bind_t *pick_bind(sg__sc_client_t *c) {
  sg__sc_bind_t *best = NULL;
  uint32_t best_free = 0;
  for (unsigned i = 0; i < c->n_binds; i++) {
    sg__sc_bind_t *b = &c->binds[i];
    if (!sg__sc_bind_can_submit(b))
      continue;
    uint32_t f = sg_smpp_session_window_free(sg_smpp_link_session(b->link));
    if (f > best_free) {
      best = b;
      best_free = f;
    }
  }
  return best;
}

static sg__sc_job_t *next_ready(sg__sc_client_t *c) {
  for (int p = 3; p >= 0; p--)
    if (!sg__sc_list_empty(&c->ready[p]))
      return SG__SC_CONTAINER(c->ready[p].next, sg__sc_job_t, node);
  return NULL;
}

static void move_due_retries(sg__sc_client_t *c, uint64_t now) {
  while (!sg__sc_list_empty(&c->retry)) {
    sg__sc_job_t *j = SG__SC_CONTAINER(c->retry.next, sg__sc_job_t, node);
    if (j->not_before > now)
      break;
    sg__sc_list_unlink(&j->node);
    make_ready(c, j, true);
  }
}

/* Sends job j on bind b. Returns false when the bind refused it (the job
 * is back at the front of its queue). */
static bool send_job(sg__sc_client_t *c, sg__sc_bind_t *b, sg__sc_job_t *j,
                     int64_t wall) {
  sg__sc_list_unlink(&j->node);
  int rc = build_submit(c, j, wall);
  if (rc != 0) {
    finish(c, j, SG_CONN_PERMFAIL, 0, sg_strerror(rc), "");
    return true;
  }
  long seq = sg_smpp_link_send(b->link, &c->pdu, j);
  if (seq == SG_EBUSY || seq == SG_ESTATE || seq == SG_ENOMEM) {
    make_ready(c, j, true); /* the bind, not the part: try again */
    return false;
  }
  if (seq < 0) { /* the session would not encode it: it never will */
    finish(c, j, SG_CONN_PERMFAIL, 0, sg_strerror((int)seq), "");
    return true;
  }
  if (j->attempts == 0)
    c->stats.submitted += j->n_ids;
  j->attempts++;
  j->bind = b;
  j->ord = ++c->ord;
  set_where(c, j, SG__SC_FLIGHT);
  sg__sc_list_push_back(&c->flight, &j->node);
  return true;
}

static void pump_once(sg__sc_client_t *c) {
  uint64_t now = sg__sc_now(c);
  int64_t wall = 0;
  move_due_retries(c, now);
  while (!c->stopping && !c->paused) {
    sg__sc_job_t *j = next_ready(c);
    if (j == NULL)
      break;
    if (wall == 0 && (j->validity_ms > 0 || j->schedule_ms > 0))
      wall = sg__sc_wall_ms(); /* only parts with times need the clock */
    if (j->validity_ms > 0 && j->validity_ms <= wall) {
      sg__sc_list_unlink(&j->node);
      finish(c, j, SG_CONN_PERMFAIL, SG_SMPP_ESME_RINVEXPIRY, k_text_expired,
             "");
      continue;
    }
    sg__sc_bind_t *b = pick_bind(c);
    if (b == NULL || !sg_throttle_take_n(&c->throttle, j->n_ids, now))
      break;
    if (!send_job(c, b, j, wall))
      break;
  }
}

void sg__sc_pump(sg__sc_client_t *c) {
  if (!c->started || c->stopped)
    return;
  if (c->pumping) {
    c->pump_again = true;
    return;
  }
  c->pumping = true;
  do {
    c->pump_again = false;
    pump_once(c);
  } while (c->pump_again);
  c->pumping = false;
  sg__sc_arm_timer(c);
  if (c->want_ready && !c->stopping && c->queued < c->cfg.max_queue) {
    c->want_ready = false;
    if (c->base.cb.ready_cb != NULL)
      c->base.cb.ready_cb(&c->base, c->base.owner);
  }
}

static void timer_cb(uv_timer_t *t) {
  sg__sc_on_timer(t->data);
}

void sg__sc_arm_timer(sg__sc_client_t *c) {
  if (!c->started || uv_is_closing((uv_handle_t *)&c->timer))
    return;
  uint64_t now = sg__sc_now(c), due = UINT64_MAX;
  if (!sg__sc_list_empty(&c->retry))
    due = SG__SC_CONTAINER(c->retry.next, sg__sc_job_t, node)->not_before;
  if (!sg__sc_list_empty(&c->held)) {
    uint64_t e = SG__SC_CONTAINER(c->held.next, sg__sc_held_t, node)->expires;
    due = e < due ? e : due;
  }
  if (!c->paused && !c->stopping && next_ready(c) != NULL &&
      pick_bind(c) != NULL) {
    uint64_t w = sg_throttle_wait_ms(&c->throttle, now);
    due = now + (w > 0 ? w : 1) < due ? now + (w > 0 ? w : 1) : due;
  }
  if (due == c->timer_due)
    return; /* already set so: the hot path touches no timer */
  c->timer_due = due;
  if (due == UINT64_MAX)
    uv_timer_stop(&c->timer);
  else
    uv_timer_start(&c->timer, timer_cb, due > now ? due - now : 0, 0);
}

void sg__sc_on_timer(sg__sc_client_t *c) {
  c->timer_due = UINT64_MAX; /* it fired */
  sg__sc_release_held(c, true);
  sg__sc_pump(c);
}

/* ---- Outcomes ----------------------------------------------------------- */

/* Back-off before resend n (1..): min(max, min * 2^(n-1)), minus up to a
 * random half. */
static uint64_t retry_delay(sg__sc_client_t *c, unsigned n) {
  uint64_t d = c->cfg.retry_min_ms ? c->cfg.retry_min_ms : 1;
  for (unsigned i = 1; i < n && d < c->cfg.retry_max_ms; i++)
    d *= 2;
  if (c->cfg.retry_max_ms > 0 && d > c->cfg.retry_max_ms)
    d = c->cfg.retry_max_ms;
  return d - sg__sc_random(c) % (d / 2 + 1);
}

static void schedule_retry(sg__sc_client_t *c, sg__sc_job_t *j) {
  j->not_before = sg__sc_now(c) + retry_delay(c, j->temp_retries);
  set_where(c, j, SG__SC_RETRY);
  sg__sc_node_t *e = c->retry.prev; /* keep c->retry sorted */
  while (e != &c->retry &&
         SG__SC_CONTAINER(e, sg__sc_job_t, node)->not_before > j->not_before)
    e = e->prev;
  sg__sc_list_push_front(e, &j->node);
}

static void on_error_status(sg__sc_client_t *c, sg__sc_job_t *j,
                            uint32_t status, bool nack) {
  sg_smpp_errclass_t cls = sg_smpp_errclass(status, c->cfg.status_overrides,
                                            c->cfg.n_status_overrides);
  const char *text =
      nack && status == 0 ? k_text_generic_nack : sg_smpp_status_text(status);
  if (cls == SG_SMPP_EC_OK)
    cls = SG_SMPP_EC_TEMP; /* a generic_nack without a status */
  if (cls == SG_SMPP_EC_THROTTLE) {
    c->stats.throttled += j->n_ids;
    sg_throttle_cut(&c->throttle, sg__sc_now(c));
    make_ready(c, j, true);
  } else if (cls == SG_SMPP_EC_TEMP) {
    c->stats.temp_errors += j->n_ids;
    if (j->temp_retries < c->cfg.max_temp_retries) {
      j->temp_retries++;
      schedule_retry(c, j);
    } else {
      finish(c, j, SG_CONN_TEMPFAIL, status, text, "");
    }
  } else {
    c->stats.perm_errors += j->n_ids;
    finish(c, j, SG_CONN_PERMFAIL, status, text, "");
  }
}

void sg__sc_on_response(sg__sc_bind_t *b, const sg_smpp_event_t *ev) {
  sg__sc_client_t *c = b->c;
  sg__sc_job_t *j = ev->ctx;
  sg__sc_list_unlink(&j->node);
  j->bind = NULL;
  set_where(c, j, SG__SC_NEW);
  if (ev->command_id == SG_SMPP_SUBMIT_SM_RESP && ev->command_status == 0) {
    const char *id =
        ev->pdu != NULL ? ev->pdu->body.submit_sm_resp.message_id : "";
    char key[66] = "";
    if (id[0] != '\0') {
      size_t n = strlen(id);
      sg_msgid_mode_t mode =
          sg__sc_id_mode(c->cfg.id_mode, &c->resp_ids_hex, id, n);
      sg_smpp_client_id_key(id, n, mode, key);
    }
    sg_throttle_accepted(&c->throttle, j->n_ids);
    finish_ids(c, j, SG_CONN_SENT, 0, NULL, key, id);
  } else {
    on_error_status(c, j, ev->command_status,
                    ev->command_id != SG_SMPP_SUBMIT_SM_RESP);
  }
  sg__sc_release_held(c, false);
  if (c->stopping)
    sg__sc_bind_drained(b);
  sg__sc_pump(c);
}

void sg__sc_on_no_response(sg__sc_bind_t *b, const sg_smpp_event_t *ev) {
  sg__sc_client_t *c = b->c;
  sg__sc_job_t *j = ev->ctx;
  sg__sc_list_unlink(&j->node);
  j->bind = NULL;
  set_where(c, j, SG__SC_NEW);
  bool timeout = ev->error == SG_ETIMEDOUT;
  if (timeout)
    c->stats.timeouts += j->n_ids;
  if (!c->stopping && j->unknown_retries < c->cfg.max_unknown_retries) {
    j->unknown_retries++;
    c->stats.unknown_retries += j->n_ids;
    make_ready(c, j, true); /* on whichever bind is up next */
  } else {
    finish(c, j, SG_CONN_UNKNOWN, 0, timeout ? k_text_no_answer : k_text_lost,
           "");
  }
  sg__sc_release_held(c, false);
  if (c->stopping)
    sg__sc_bind_drained(b);
  sg__sc_pump(c);
}

/* ---- Stop and free ------------------------------------------------------ */

static void fail_list(sg__sc_client_t *c, sg__sc_node_t *h, const char *why) {
  while (!sg__sc_list_empty(h)) {
    sg__sc_job_t *j = SG__SC_CONTAINER(h->next, sg__sc_job_t, node);
    sg__sc_list_unlink(&j->node);
    make_done(c, j, SG_CONN_TEMPFAIL, 0, why);
  }
}

void sg__sc_fail_queued(sg__sc_client_t *c, const char *why) {
  c->open_msg = NULL;
  for (int p = 0; p < 4; p++)
    fail_list(c, &c->ready[p], why);
  fail_list(c, &c->retry, why);
  for (sg__sc_node_t *e = c->msgs.next; e != &c->msgs; e = e->next) {
    sg__sc_msg_t *m = SG__SC_CONTAINER(e, sg__sc_msg_t, node);
    m->open = false;
    fail_list(c, &m->parts, why);
  }
}

static void free_list(sg__sc_node_t *h) {
  while (!sg__sc_list_empty(h)) {
    sg__sc_job_t *j = SG__SC_CONTAINER(h->next, sg__sc_job_t, node);
    sg__sc_list_unlink(&j->node);
    job_free(j);
  }
}

void sg__sc_free_jobs(sg__sc_client_t *c) {
  for (int p = 0; p < 4; p++)
    free_list(&c->ready[p]);
  free_list(&c->retry);
  free_list(&c->flight);
  free_list(&c->done);
  while (!sg__sc_list_empty(&c->msgs)) {
    sg__sc_msg_t *m = SG__SC_CONTAINER(c->msgs.next, sg__sc_msg_t, node);
    sg__sc_list_unlink(&m->node);
    free_list(&m->parts);
    sg_free(m);
  }
  while (!sg__sc_list_empty(&c->held)) {
    sg__sc_node_t *n = c->held.next;
    sg__sc_list_unlink(n);
    sg_free(SG__SC_CONTAINER(n, sg__sc_held_t, node));
  }
}
