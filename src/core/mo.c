/* mo.c - incoming messages as data: what a UDH says about concatenation
 * and national tables (TS 23.040 9.2.3.24), the text of a part in its
 * data_coding (SMPP 3.4 5.2.19, TS 23.038 4), the joining of the parts of
 * one message in sequence order, and the keyword a message starts with.
 *
 * Everything here is pure: caller-owned output, no I/O, no allocation, no
 * state. It must never guess at a part it was not given: missing parts are
 * reported, not invented.
 */
#include "core/mo.h"

#include <string.h>

#include "core/error.h"
#include "core/gsm7.h"
#include "core/ucs2.h"
#include "core/utf8.h"

/* ---- UDH ----------------------------------------------------------------- */

static void concat_ie(sg_mo_udh_info_t *o, const uint8_t *v, bool ref16) {
  uint16_t ref = ref16 ? (uint16_t)((v[0] << 8) | v[1]) : v[0];
  uint8_t total = v[ref16 ? 2 : 1], seq = v[ref16 ? 3 : 2];
  /* 9.2.3.24.1: a total or sequence of 0, or a sequence above the total,
   * makes the receiving entity ignore the whole IE. */
  if (total == 0 || seq == 0 || seq > total)
    return;
  o->concat = true;
  o->ref16 = ref16;
  o->ref = ref;
  o->total = total;
  o->seq = seq;
}

int sg_mo_parse_udh(const uint8_t *udh, size_t udh_len, sg_mo_udh_info_t *out) {
  memset(out, 0, sizeof *out);
  if (udh == NULL || udh_len == 0)
    return 0;
  size_t end = (size_t)udh[0] + 1;
  if (end > udh_len)
    return SG_EPROTO;
  size_t i = 1;
  while (i < end) {
    if (i + 2 > end)
      return SG_EPROTO;
    uint8_t iei = udh[i], iel = udh[i + 1];
    const uint8_t *v = udh + i + 2;
    if (i + 2 + iel > end)
      return SG_EPROTO;
    if (iei == 0x00 && iel == 3)
      concat_ie(out, v, false);
    else if (iei == 0x08 && iel == 4)
      concat_ie(out, v, true);
    else if (iei == 0x24 && iel == 1)
      out->lang_single = v[0];
    else if (iei == 0x25 && iel == 1)
      out->lang_locking = v[0];
    i += 2 + (size_t)iel;
  }
  return 0;
}

/* ---- coding -------------------------------------------------------------- */

sg_encoding_t sg_mo_coding(uint8_t dc, bool *binary) {
  *binary = false;
  switch (dc) {
  case 0x00:
    return SG_ENC_GSM7;
  case 0x01: /* IA5 (ASCII) */
  case 0x03: /* Latin 1 */
    return SG_ENC_8BIT;
  case 0x08:
    return SG_ENC_UCS2;
  default:
    break;
  }
  if (dc >= 0xF0) { /* TS 23.038 4: bit 2 is the message coding */
    *binary = (dc & 0x04) != 0;
    return *binary ? SG_ENC_8BIT : SG_ENC_GSM7;
  }
  if (dc >= 0x10 && dc <= 0x3F &&
      (dc & 0x20) == 0) { /* general, uncompressed */
    unsigned alphabet = (dc >> 2) & 3u;
    if (alphabet == 0)
      return SG_ENC_GSM7;
    if (alphabet == 2)
      return SG_ENC_UCS2;
  }
  *binary = true;
  return SG_ENC_8BIT;
}

int sg_mo_decode(uint8_t dc, const sg_mo_udh_info_t *udh, const uint8_t *ud,
                 size_t ud_len, uint32_t *cps, size_t cap, size_t *n_out) {
  bool binary;
  sg_encoding_t enc = sg_mo_coding(dc, &binary);
  *n_out = 0;
  if (binary)
    return SG_ENOTSUP;
  if (enc == SG_ENC_GSM7) {
    sg_gsm7_charset_t cs = {0, 0};
    if (udh != NULL) {
      cs.locking = udh->lang_locking;
      cs.single = udh->lang_single;
    }
    return sg_gsm7_decode(cs, ud, ud_len, cps, cap, n_out, NULL);
  }
  if (enc == SG_ENC_UCS2)
    return sg_ucs2_decode(ud, ud_len, 1, cps, cap, n_out, NULL);
  if (ud_len > cap)
    return SG_ENOSPC;
  for (size_t i = 0; i < ud_len; i++) {
    if (dc == 0x01 && ud[i] > 0x7f)
      return SG_EILSEQ;
    cps[i] = ud[i]; /* Latin-1 is the first 256 code points */
  }
  *n_out = ud_len;
  return 0;
}

/* ---- joining ------------------------------------------------------------- */

/* Index of the first part with sequence number seq, or -1. */
static long find_seq(const sg_mo_part_t *p, size_t n, unsigned seq) {
  for (size_t i = 0; i < n; i++)
    if (p[i].seq == seq)
      return (long)i;
  return -1;
}

static int put_cps(const uint32_t *cps, size_t n, uint8_t *out, size_t cap,
                   size_t *len) {
  size_t w = 0;
  int rc = sg_utf8_encode(cps, n, out + *len, cap - *len, &w);
  *len += w;
  return rc;
}

/* UTF-16BE units of every UCS-2 part, joined: pairs across boundaries. */
static int put_utf16(const uint8_t *u, size_t n, uint16_t *hi, uint8_t *out,
                     size_t cap, size_t *len) {
  for (size_t i = 0; i + 1 < n; i += 2) {
    uint16_t v = (uint16_t)((u[i] << 8) | u[i + 1]);
    uint32_t cp;
    if (v >= 0xD800 && v <= 0xDBFF) {
      if (*hi != 0) {
        cp = 0xFFFD;
        if (put_cps(&cp, 1, out, cap, len) != 0)
          return SG_ENOSPC;
      }
      *hi = v;
      continue;
    }
    if (v >= 0xDC00 && v <= 0xDFFF && *hi != 0)
      cp = 0x10000u + (((uint32_t)*hi - 0xD800u) << 10) + (v - 0xDC00u);
    else if (v >= 0xDC00 && v <= 0xDFFF)
      cp = 0xFFFD;
    else {
      if (*hi != 0) {
        uint32_t r = 0xFFFD;
        if (put_cps(&r, 1, out, cap, len) != 0)
          return SG_ENOSPC;
      }
      cp = v;
    }
    *hi = 0;
    if (put_cps(&cp, 1, out, cap, len) != 0)
      return SG_ENOSPC;
  }
  return 0;
}

static int join_text(const sg_mo_part_t *p, size_t n, unsigned total,
                     uint8_t *out, size_t cap, size_t *len) {
  uint16_t hi = 0;
  uint32_t cps[SG_SEG_UD_MAX * 2];
  for (unsigned s = 1; s <= total; s++) {
    long i = find_seq(p, n, s);
    if (i < 0)
      continue;
    const sg_mo_part_t *q = &p[i];
    bool bin;
    if (sg_mo_coding(q->data_coding, &bin) == SG_ENC_UCS2) {
      if ((q->ud_len & 1u) != 0)
        return SG_ETRUNC;
      if (put_utf16(q->ud, q->ud_len, &hi, out, cap, len) != 0)
        return SG_ENOSPC;
      continue;
    }
    sg_mo_udh_info_t u;
    size_t k;
    if (sg_mo_parse_udh(q->udh, q->udh_len, &u) != 0)
      memset(&u, 0, sizeof u);
    int rc = sg_mo_decode(q->data_coding, &u, q->ud, q->ud_len, cps,
                          sizeof cps / sizeof cps[0], &k);
    if (rc == 0)
      rc = put_cps(cps, k, out, cap, len);
    if (rc != 0)
      return rc;
  }
  if (hi != 0) {
    uint32_t r = 0xFFFD;
    return put_cps(&r, 1, out, cap, len);
  }
  return 0;
}

static int join_binary(const sg_mo_part_t *p, size_t n, unsigned total,
                       uint8_t *out, size_t cap, size_t *len) {
  for (unsigned s = 1; s <= total; s++) {
    long i = find_seq(p, n, s);
    if (i < 0)
      continue;
    if (p[i].ud_len > cap - *len)
      return SG_ENOSPC;
    memcpy(out + *len, p[i].ud, p[i].ud_len);
    *len += p[i].ud_len;
  }
  return 0;
}

int sg_mo_join(const sg_mo_part_t *parts, size_t n, unsigned total,
               uint8_t *out, size_t cap, sg_mo_joined_t *res) {
  memset(res, 0, sizeof *res);
  if (parts == NULL || n == 0 || total == 0 || out == NULL)
    return SG_EINVAL;
  bool binary = false;
  for (unsigned s = 1; s <= total; s++)
    if (find_seq(parts, n, s) >= 0)
      res->have++;
  res->complete = res->have == total;
  res->encoding = sg_mo_coding(parts[0].data_coding, &binary);
  for (size_t i = 0; i < n && !binary; i++)
    sg_mo_coding(parts[i].data_coding, &binary);
  int rc = SG_ENOTSUP;
  if (!binary) {
    res->len = 0;
    rc = join_text(parts, n, total, out, cap, &res->len);
    if (rc == SG_ENOSPC)
      return rc;
  }
  if (rc != 0) { /* binary, or text that does not decode: keep the octets */
    res->binary = true;
    res->encoding = SG_ENC_8BIT;
    res->len = 0;
    return join_binary(parts, n, total, out, cap, &res->len);
  }
  return 0;
}

/* ---- keywords ------------------------------------------------------------ */

uint32_t sg_mo_upper(uint32_t c) {
  if (c >= 'a' && c <= 'z')
    return c - 32;
  if ((c >= 0xE0 && c <= 0xFE && c != 0xF7))
    return c - 32;
  if (c >= 0x430 && c <= 0x44F) /* а..я */
    return c - 32;
  if (c >= 0x450 && c <= 0x45F) /* ѐ..џ, ё among them */
    return c - 80;
  if (c >= 0x3B1 && c <= 0x3C9 && c != 0x3C2) /* α..ω, not final sigma */
    return c - 32;
  if (c == 0x3C2)
    return 0x3A3;
  return c;
}

static bool is_word(uint32_t c) {
  if (c == '-' || c == '_')
    return true;
  if (c < 0x80)
    return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') ||
           (c >= 'a' && c <= 'z');
  /* Non-ASCII: letters of every script count, except the Latin-1 and
   * general punctuation and space blocks. */
  return !(c <= 0xBF || c == 0xD7 || c == 0xF7 ||
           (c >= 0x2000 && c <= 0x206F) || c == 0x3000 || c == 0xFEFF);
}

static int upper_cps(const uint32_t *cps, size_t n, bool word_only, char *out,
                     size_t cap) {
  size_t w = 0, i = 0;
  uint32_t c;
  if (word_only)
    while (i < n && !is_word(cps[i]))
      i++;
  for (; i < n; i++) {
    if (word_only && !is_word(cps[i]))
      break;
    c = sg_mo_upper(cps[i]);
    size_t k = 0;
    if (sg_utf8_encode(&c, 1, (uint8_t *)out + w, cap - 1 - w, &k) != 0)
      return SG_ENOSPC;
    w += k;
  }
  out[w] = '\0';
  return (int)w;
}

int sg_mo_keyword(const uint8_t *text, size_t len, char *out, size_t cap) {
  uint32_t cps[64];
  size_t n = 0;
  if (cap == 0)
    return SG_ENOSPC;
  /* Only the start of the text matters: decode a bounded prefix. */
  size_t lim = len < 200 ? len : 200;
  while (lim > 0 && lim < len && (text[lim] & 0xC0) == 0x80)
    lim--; /* do not cut a sequence */
  int rc = sg_utf8_decode(text, lim, cps, sizeof cps / sizeof cps[0], &n, NULL);
  if (rc != 0 && rc != SG_ENOSPC)
    return rc;
  return upper_cps(cps, n, true, out, cap);
}

int sg_mo_upper_utf8(const char *in, char *out, size_t cap) {
  uint32_t cps[256];
  size_t n = 0;
  if (cap == 0)
    return SG_ENOSPC;
  int rc = sg_utf8_decode((const uint8_t *)in, strlen(in), cps,
                          sizeof cps / sizeof cps[0], &n, NULL);
  if (rc != 0)
    return rc;
  return upper_cps(cps, n, false, out, cap);
}
