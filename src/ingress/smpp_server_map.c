/* smpp_server_map.c - the pure parts of the SMPP server: the failed-bind
 * table, the throughput bucket, the decoding of a submitted message, and
 * the mapping of engine results and message statuses to SMPP values.
 *
 * No I/O, no allocation, no clock of its own (times are passed in), so
 * the unit tests drive every branch. It must never touch a session.
 */
#include <netinet/in.h>
#include <string.h>

#include "core/gsm7.h"
#include "core/ucs2.h"
#include "core/utf8.h"
#include "ingress/smpp_server_int.h"
#include "smpp/pdu.h"

/* ---- failed binds -------------------------------------------------------- */

bool sg__smpps_addr_key(const struct sockaddr *sa, uint8_t out[16]) {
  memset(out, 0, 16);
  if (sa == NULL)
    return false;
  if (sa->sa_family == AF_INET) {
    out[10] = out[11] = 0xFF;
    memcpy(out + 12, &((const struct sockaddr_in *)sa)->sin_addr, 4);
    return true;
  }
  if (sa->sa_family == AF_INET6) {
    memcpy(out, ((const struct sockaddr_in6 *)sa)->sin6_addr.s6_addr, 16);
    return true;
  }
  return false;
}

static uint32_t addr_hash(const uint8_t a[16]) {
  uint32_t h = 2166136261u; /* FNV-1a */
  for (int i = 0; i < 16; i++)
    h = (h ^ a[i]) * 16777619u;
  return h;
}

#define PROBE 8

static const sg__smpps_fail_slot_t *find_slot(const sg__smpps_fail_table_t *t,
                                              const uint8_t addr[16]) {
  uint32_t h = addr_hash(addr);
  for (unsigned i = 0; i < PROBE; i++) {
    const sg__smpps_fail_slot_t *s = &t->slot[(h + i) % SG_SMPPS_FAIL_SLOTS];
    if (s->used && memcmp(s->addr, addr, 16) == 0)
      return s;
  }
  return NULL;
}

bool sg__smpps_fail_over(const sg__smpps_fail_table_t *t,
                         const uint8_t addr[16], uint32_t max, int64_t now_ms) {
  const sg__smpps_fail_slot_t *s = find_slot(t, addr);
  return s != NULL && now_ms - s->window_start_ms < SG_SMPPS_FAIL_WINDOW_MS &&
         s->failures >= max;
}

void sg__smpps_fail_add(sg__smpps_fail_table_t *t, const uint8_t addr[16],
                        int64_t now_ms) {
  sg__smpps_fail_slot_t *s = (sg__smpps_fail_slot_t *)find_slot(t, addr);
  if (s == NULL) {
    uint32_t h = addr_hash(addr);
    sg__smpps_fail_slot_t *oldest = NULL;
    for (unsigned i = 0; i < PROBE && s == NULL; i++) {
      sg__smpps_fail_slot_t *x = &t->slot[(h + i) % SG_SMPPS_FAIL_SLOTS];
      if (!x->used || now_ms - x->window_start_ms >= SG_SMPPS_FAIL_WINDOW_MS)
        s = x;
      else if (oldest == NULL || x->window_start_ms < oldest->window_start_ms)
        oldest = x;
    }
    if (s == NULL)
      s = oldest;
    memset(s, 0, sizeof *s);
    s->used = true;
    memcpy(s->addr, addr, 16);
    s->window_start_ms = now_ms;
  }
  if (now_ms - s->window_start_ms >= SG_SMPPS_FAIL_WINDOW_MS) {
    s->window_start_ms = now_ms;
    s->failures = 0;
  }
  s->failures++;
}

/* ---- throughput ---------------------------------------------------------- */

bool sg__smpps_bucket_take(sg__smpps_bucket_t *b, uint32_t rate, uint32_t n,
                           int64_t now_ms) {
  if (rate == 0)
    return true;
  if (!b->started) {
    b->started = true;
    b->tokens = rate;
    b->last_ms = now_ms;
  }
  if (now_ms > b->last_ms) {
    b->tokens += (double)(now_ms - b->last_ms) * rate / 1000.0;
    if (b->tokens > rate)
      b->tokens = rate;
    b->last_ms = now_ms;
  }
  if (b->tokens < n)
    return false;
  b->tokens -= n;
  return true;
}

/* ---- content ------------------------------------------------------------- */

typedef enum dcs_kind {
  DCS_GSM,
  DCS_LATIN1,
  DCS_UCS2,
  DCS_BINARY,
  DCS_BAD
} dcs_kind_t;

static dcs_kind_t dcs_kind(uint8_t dc) {
  switch (dc) {
  case 0x00:
  case 0x01:
    return DCS_GSM;
  case 0x03:
    return DCS_LATIN1;
  case 0x08:
    return DCS_UCS2;
  case 0x02:
  case 0x04:
    return DCS_BINARY;
  default:
    if (dc >= 0xF0)
      return (dc & 0x04) ? DCS_BINARY : DCS_GSM;
    return DCS_BAD;
  }
}

/* Decodes units of the given kind into UTF-8 out->text. */
static uint32_t to_text(dcs_kind_t k, const uint8_t *p, size_t n,
                        sg__smpps_content_t *out) {
  static uint32_t cps[SG_SEG_MAX_PARTS * SG_SEG_UD_MAX];
  size_t ncp = 0, err = 0;
  int rc = 0;
  if (k == DCS_GSM) {
    sg_gsm7_charset_t cs = {0, 0};
    rc = sg_gsm7_decode(cs, p, n, cps, sizeof cps / sizeof cps[0], &ncp, &err);
  } else if (k == DCS_UCS2) {
    rc = sg_ucs2_decode(p, n & ~(size_t)1, 1, cps, sizeof cps / sizeof cps[0],
                        &ncp, &err);
  } else {
    if (n > sizeof cps / sizeof cps[0])
      return SG_SMPP_ESME_RINVMSGLEN;
    for (size_t i = 0; i < n; i++)
      cps[i] = p[i];
    ncp = n;
  }
  if (rc != 0)
    return SG_SMPP_ESME_RSUBMITFAIL;
  if (sg_utf8_encode(cps, ncp, (uint8_t *)out->text, sizeof out->text,
                     &out->text_len) != 0)
    return SG_SMPP_ESME_RINVMSGLEN;
  return SG_SMPP_ESME_ROK;
}

/* One part kept as it came: UDH (from the message or built from SAR) and
 * user data; the text form is its body for reading. */
static uint32_t raw_part(dcs_kind_t k, const uint8_t *udh, size_t udh_len,
                         const uint8_t *ud, size_t ud_len,
                         sg__smpps_content_t *out) {
  if (k == DCS_LATIN1 || udh_len > SG_SEG_UDH_MAX || ud_len == 0 ||
      ud_len > SG_SEG_UD_MAX)
    return SG_SMPP_ESME_RSUBMITFAIL;
  out->is_raw = true;
  out->encoding = k == DCS_GSM    ? SG_ENC_GSM7
                  : k == DCS_UCS2 ? SG_ENC_UCS2
                                  : SG_ENC_8BIT;
  memcpy(out->udh, udh, udh_len);
  out->udh_len = udh_len;
  memcpy(out->ud, ud, ud_len);
  out->ud_len = ud_len;
  if (k == DCS_BINARY) {
    out->is_binary = true;
    out->binary = out->ud;
    out->binary_len = ud_len;
    return SG_SMPP_ESME_ROK;
  }
  return to_text(k, ud, ud_len, out);
}

uint32_t sg__smpps_content(const sg__smpps_sm_t *in, sg__smpps_content_t *out) {
  memset(out, 0, offsetof(sg__smpps_content_t, text));
  out->text_len = 0;
  dcs_kind_t k = dcs_kind(in->data_coding);
  if (k == DCS_BAD)
    return SG_SMPP_ESME_RSUBMITFAIL;
  if (in->sm_len == 0)
    return SG_SMPP_ESME_RINVMSGLEN;
  bool udhi = (in->esm_class & 0x40) != 0;
  if (udhi && in->sar_total > 0)
    return SG_SMPP_ESME_RINVESMCLASS;
  if (udhi) {
    size_t hl = (size_t)in->sm[0] + 1;
    if (hl >= in->sm_len)
      return SG_SMPP_ESME_RINVMSGLEN;
    return raw_part(k, in->sm, hl, in->sm + hl, in->sm_len - hl, out);
  }
  if (in->sar_total > 0) {
    /* TS 23.040 9.2.3.24.8: concatenation with a 16-bit reference. */
    uint8_t udh[7] = {6,
                      0x08,
                      4,
                      (uint8_t)(in->sar_ref >> 8),
                      (uint8_t)in->sar_ref,
                      in->sar_total,
                      in->sar_seq};
    if (in->sar_seq == 0 || in->sar_seq > in->sar_total)
      return SG_SMPP_ESME_RINVOPTPARAMVAL;
    return raw_part(k, udh, sizeof udh, in->sm, in->sm_len, out);
  }
  if (k == DCS_BINARY) {
    out->is_binary = true;
    out->binary = in->sm;
    out->binary_len = in->sm_len;
    return SG_SMPP_ESME_ROK;
  }
  out->encoding = k == DCS_UCS2  ? SG_ENC_UCS2
                  : k == DCS_GSM ? SG_ENC_GSM7
                                 : SG_ENC_AUTO;
  return to_text(k, in->sm, in->sm_len, out);
}

/* ---- results ------------------------------------------------------------- */

static bool is(const char *a, const char *b) {
  return a != NULL && strcmp(a, b) == 0;
}

uint32_t sg__smpps_submit_status(int status, const char *code,
                                 const char *field) {
  switch (status) {
  case 0:
    return SG_SMPP_ESME_ROK;
  case SG_EBUSY:
    return is(code, "store_busy") || is(code, "backlog_full") ||
                   is(code, "quota_exceeded")
               ? SG_SMPP_ESME_RMSGQFUL
               : SG_SMPP_ESME_RTHROTTLED;
  case SG_ENOFUNDS: /* insufficient_balance */
    return SG_SMPP_ESME_RSUBMITFAIL;
  case SG_EPERM: /* velocity_blocked: the number range is closed to it */
    return is(code, "velocity_blocked") ? SG_SMPP_ESME_RINVDSTADR
                                        : SG_SMPP_ESME_RSYSERR;
  case SG_EINVAL:
    if (is(field, "from"))
      return SG_SMPP_ESME_RINVSRCADR;
    if (is(field, "to"))
      return SG_SMPP_ESME_RINVDSTADR;
    if (is(code, "empty_text") || is(code, "too_many_parts"))
      return SG_SMPP_ESME_RINVMSGLEN;
    if (is(field, "validity"))
      return SG_SMPP_ESME_RINVEXPIRY;
    if (is(field, "send_at"))
      return SG_SMPP_ESME_RINVSCHED;
    return SG_SMPP_ESME_RSUBMITFAIL;
  default:
    return SG_SMPP_ESME_RSYSERR;
  }
}

uint32_t sg__smpps_item_status(const char *code) {
  return is(code, "store_failed") ? SG_SMPP_ESME_RSYSERR
                                  : SG_SMPP_ESME_RINVDSTADR;
}

uint8_t sg__smpps_message_state(sg_msg_status_t st) {
  switch (st) {
  case SG_MSG_DELIVERED:
    return SG_MESSAGE_STATE_DELIVERED;
  case SG_MSG_EXPIRED:
    return SG_MESSAGE_STATE_EXPIRED;
  case SG_MSG_CANCELED:
    return SG_MESSAGE_STATE_DELETED;
  case SG_MSG_UNDELIVERABLE:
  case SG_MSG_FAILED:
    return SG_MESSAGE_STATE_UNDELIVERABLE;
  case SG_MSG_REJECTED:
    return SG_MESSAGE_STATE_REJECTED;
  default:
    return SG_MESSAGE_STATE_ENROUTE;
  }
}

sg_receipt_stat_t sg__smpps_receipt_stat(sg_msg_status_t st) {
  return sg_receipt_stat_from_message_state(sg__smpps_message_state(st));
}
