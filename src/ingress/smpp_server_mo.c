/* smpp_server_mo.c - incoming messages (MO) for SMPP customers: a message
 * that the inbound rules gave to an account that takes its MO over SMPP
 * waits in the store's smpp_out queue beside the account's receipts
 * (store.h "SMPP RECEIPTS"); when a claim hands it out, it is encoded
 * again for the customer (GSM 03.38 default alphabet when every character
 * fits, else UCS-2; binary payloads as 8-bit data), split into parts with
 * a concatenation UDH when long, and sent as deliver_sm, every part on
 * the same receiving bind. The row is finished as taken only when the
 * customer accepted every part; a part refused or left unanswered puts
 * the whole message back in the queue (it is sent again, whole: at least
 * once).
 *
 * It must never finish a row whose parts were not all accepted, and never
 * write to the store other than through sg__smpps_record().
 */
#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "core/error.h"
#include "ingress/smpp_server_int.h"

struct sg__smpps_mo_row {
  unsigned left; /* parts not answered yet */
  bool failed;   /* a part was refused, unanswered or not sent */
};

/* ---- the deliver_sm (pure) ----------------------------------------------- */

static void mo_addr(const char *in, uint8_t *ton, uint8_t *npi, char *out,
                    size_t cap) {
  const char *a = in != NULL ? in : "";
  bool plus = a[0] == '+';
  bool digits = a[plus] != '\0';
  for (const char *p = a + plus; *p != '\0'; p++)
    if (*p < '0' || *p > '9')
      digits = false;
  *ton = digits ? (plus ? 1 : 0) : 5; /* SMPP 3.4 5.2.5 */
  *npi = digits ? 1 : 0;              /* 5.2.6: ISDN (E.163/E.164) */
  snprintf(out, cap, "%s", digits && plus ? a + 1 : a);
}

int sg__smpps_mo_pdu(const char *sender, const char *recipient,
                     const sg_segments_t *segs, unsigned i, sg_smpp_pdu_t *p) {
  if (i >= segs->nparts)
    return SG_EINVAL;
  const sg_seg_part_t *part = &segs->parts[i];
  sg_smpp_pdu_init(p, SG_SMPP_DELIVER_SM, 0);
  sg_smpp_deliver_sm_t *b = &p->body.deliver_sm;
  if (part->udh_len + part->ud_len > sizeof b->short_message)
    return SG_EINVAL;
  mo_addr(sender, &b->source_addr_ton, &b->source_addr_npi, b->source_addr,
          sizeof b->source_addr);
  mo_addr(recipient, &b->dest_addr_ton, &b->dest_addr_npi, b->destination_addr,
          sizeof b->destination_addr);
  b->esm_class = part->udh_len > 0 ? 0x40 : 0x00; /* 5.2.12: UDHI */
  b->data_coding = segs->encoding == SG_ENC_UCS2   ? 0x08
                   : segs->encoding == SG_ENC_8BIT ? 0x04
                                                   : 0x00;
  memcpy(b->short_message, part->udh, part->udh_len);
  memcpy(b->short_message + part->udh_len, part->ud, part->ud_len);
  b->sm_length = (uint8_t)(part->udh_len + part->ud_len);
  return 0;
}

/* ---- sending ------------------------------------------------------------- */

/* Encodes the message into s->segs: text in the default alphabet or
 * UCS-2 (no national tables: not every handset or ESME reads them), a
 * payload (or a text that cannot be encoded) as 8-bit data. */
static int segment(sg_smpp_server_t *s, const sg_store_smpp_out_t *o) {
  if (s->segs == NULL && (s->segs = sg_malloc(sizeof *s->segs)) == NULL)
    return SG_ENOMEM;
  sg_seg_opts_t opts = {.encoding = SG_ENC_AUTO,
                        .max_parts = SG_SEG_MAX_PARTS,
                        .ref = s->mo_ref++};
  const uint8_t *body = o->body != NULL ? o->body : (const uint8_t *)"";
  if (!o->binary &&
      sg_segment_text(body, o->body_len, &opts, s->segs, NULL) == 0)
    return 0;
  return sg_segment_binary(body, o->body_len, &opts, s->segs, NULL);
}

/* Sends every part on c; returns how many left. */
static unsigned send_parts(sg_smpp_server_t *s, sg__smpps_conn_t *c,
                           sg__smpps_acct_t *a, const sg_store_smpp_out_t *o,
                           sg__smpps_mo_row_t *row) {
  unsigned sent = 0;
  for (unsigned i = 0; i < s->segs->nparts; i++) {
    sg__smpps_out_ctx_t *x = sg_malloc(sizeof *x);
    if (x == NULL)
      break;
    *x = (sg__smpps_out_ctx_t){.row = o->id, .acct = a, .mo = row};
    if (sg__smpps_mo_pdu(o->sender, o->recipient, s->segs, i, s->pdu) != 0 ||
        sg_smpp_link_send(c->link, s->pdu, x) <= 0) {
      sg_free(x);
      break;
    }
    c->in_flight++;
    a->in_flight++;
    sent++;
  }
  return sent;
}

void sg__smpps_send_mo(sg_smpp_server_t *s, sg__smpps_acct_t *a,
                       const sg_store_smpp_out_t *o) {
  sg__smpps_conn_t *c = sg__smpps_target(s, a);
  sg__smpps_mo_row_t *row = c != NULL ? sg_calloc(1, sizeof *row) : NULL;
  int rc = row != NULL ? segment(s, o) : SG_EBUSY;
  unsigned sent = rc == 0 ? send_parts(s, c, a, o, row) : 0;
  if (rc != 0 && rc != SG_EBUSY && rc != SG_ENOMEM) {
    /* It can never be encoded (more than 255 parts): sending it again
     * would not help. It stays listed in GET /v1/inbound. */
    sg__smpps_log(s, SG_CONFIG_LOG_ERROR,
                  "smpp server: incoming message %s for %s cannot be sent "
                  "as deliver_sm (%s); dropped from the queue",
                  o->message_id, a->cfg->name, sg_strerror(rc));
    sg_free(row);
    sg__smpps_record(s, o->id, true);
    return;
  }
  if (sent == 0) {
    sg_free(row);
    sg__smpps_record(s, o->id, false);
    a->more = true;
    return;
  }
  /* Parts that could not be sent count as refused: the row goes back to
   * the queue once the ones in flight are answered. */
  row->left = sent;
  row->failed = sent < s->segs->nparts;
  s->st.mo_sent++;
}

void sg__smpps_mo_answered(sg_smpp_server_t *s, sg__smpps_out_ctx_t *x,
                           bool ok) {
  sg__smpps_mo_row_t *row = x->mo;
  if (!ok)
    row->failed = true;
  if (--row->left > 0)
    return;
  if (!row->failed)
    s->st.mo_acked++;
  sg__smpps_record(s, x->row, !row->failed);
  sg_free(row);
  x->mo = NULL;
}
