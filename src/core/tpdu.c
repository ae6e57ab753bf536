/* tpdu.c - encoding and decoding the SMS TPDUs of 3GPP TS 23.040 section 9.2
 * that a GSM modem exchanges in PDU mode: SMS-SUBMIT, SMS-DELIVER and
 * SMS-STATUS-REPORT, their addresses (9.1.2.5), time stamps (9.2.3.11),
 * relative validity (9.2.3.12.1) and user data with its header and fill
 * bits (9.2.3.16, 9.2.3.24), and the service-centre address of TS 27.005.
 *
 * It must never do I/O, log or allocate: the caller owns every buffer, and
 * every length read from the input is checked against what is left before
 * it is used.
 */
#include "core/tpdu.h"

#include <string.h>

#include "core/error.h"
#include "core/gsm7.h"
#include "core/utf8.h"

/* A bounded reader over the input. */
typedef struct rd {
  const uint8_t *p;
  size_t left;
} rd_t;

static int rd_u8(rd_t *r, uint8_t *v) {
  if (r->left < 1)
    return SG_ETRUNC;
  *v = *r->p++;
  r->left--;
  return 0;
}

/* A bounded writer into the caller's buffer. */
typedef struct wr {
  uint8_t *p;
  size_t n, cap;
} wr_t;

static int wr_u8(wr_t *w, uint8_t v) {
  if (w->n >= w->cap)
    return SG_ENOSPC;
  w->p[w->n++] = v;
  return 0;
}

static int wr_bytes(wr_t *w, const uint8_t *b, size_t n) {
  if (w->cap - w->n < n)
    return SG_ENOSPC;
  memcpy(w->p + w->n, b, n);
  w->n += n;
  return 0;
}

/* ---- TP-DCS and TP-VP ---------------------------------------------------
 */

sg_encoding_t sg_tpdu_dcs_encoding(uint8_t dcs) {
  unsigned group = dcs >> 4;
  if (group <= 0x7) { /* general data coding, TS 23.038 section 4 */
    if (dcs & 0x20)
      return SG_ENC_8BIT; /* compressed: delivered as data */
    switch ((dcs >> 2) & 3) {
    case 1:
      return SG_ENC_8BIT;
    case 2:
      return SG_ENC_UCS2;
    default:
      return SG_ENC_GSM7;
    }
  }
  if (group == 0xE)
    return SG_ENC_UCS2; /* message waiting, store, UCS-2 */
  if (group == 0xF)
    return (dcs & 0x04) ? SG_ENC_8BIT : SG_ENC_GSM7;
  return SG_ENC_GSM7; /* 0xC, 0xD and the reserved groups */
}

uint8_t sg_tpdu_dcs_for(sg_encoding_t enc) {
  if (enc == SG_ENC_UCS2)
    return 0x08;
  if (enc == SG_ENC_8BIT)
    return 0x04;
  return 0x00;
}

int64_t sg_tpdu_vp_seconds(uint8_t vp) {
  if (vp <= 143)
    return ((int64_t)vp + 1) * 5 * 60;
  if (vp <= 167)
    return 12 * 3600 + ((int64_t)vp - 143) * 30 * 60;
  if (vp <= 196)
    return ((int64_t)vp - 166) * 86400;
  return ((int64_t)vp - 192) * 7 * 86400;
}

uint8_t sg_tpdu_vp_relative(int64_t seconds) {
  /* The table is monotonic: a binary search for the first value that lasts
   * long enough. */
  unsigned lo = 0, hi = 255;
  if (seconds >= sg_tpdu_vp_seconds(255))
    return 255;
  while (lo < hi) {
    unsigned mid = (lo + hi) / 2;
    if (sg_tpdu_vp_seconds((uint8_t)mid) >= seconds)
      hi = mid;
    else
      lo = mid + 1;
  }
  return (uint8_t)lo;
}

/* ---- Time stamps (9.2.3.11) ---------------------------------------------
 */

/* Days since 1970-01-01 of a proleptic Gregorian date. */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  int64_t era = (y >= 0 ? y : y - 399) / 400;
  unsigned yoe = (unsigned)(y - era * 400);
  unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + (int64_t)doe - 719468;
}

static void civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d) {
  z += 719468;
  int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  unsigned doe = (unsigned)(z - era * 146097);
  unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  unsigned mp = (5 * doy + 2) / 153;
  *d = doy - (153 * mp + 2) / 5 + 1;
  *m = mp < 10 ? mp + 3 : mp - 9;
  *y = (int64_t)yoe + era * 400 + (*m <= 2);
}

static unsigned month_days(unsigned y, unsigned m) {
  static const uint8_t days[12] = {31, 28, 31, 30, 31, 30,
                                   31, 31, 30, 31, 30, 31};
  if (m == 2 && y % 4 == 0 && (y % 100 != 0 || y % 400 == 0))
    return 29;
  return days[m - 1];
}

int sg_tpdu_time_to_ms(const sg_tpdu_time_t *t, int64_t *ms) {
  unsigned y = 2000u + t->year;
  if (t->year > 99 || t->month < 1 || t->month > 12 || t->day < 1 ||
      t->day > month_days(y, t->month) || t->hour > 23 || t->minute > 59 ||
      t->second > 59 || t->tz_quarters < -79 || t->tz_quarters > 79)
    return SG_EINVAL;
  int64_t s = days_from_civil(y, t->month, t->day) * 86400 + t->hour * 3600 +
              t->minute * 60 + t->second;
  s -= (int64_t)t->tz_quarters * 15 * 60;
  *ms = s * 1000;
  return 0;
}

int sg_tpdu_time_from_ms(int64_t ms, int tz_quarters, sg_tpdu_time_t *t) {
  if (tz_quarters < -79 || tz_quarters > 79)
    return SG_EINVAL;
  int64_t s = ms / 1000 - (ms % 1000 < 0) + (int64_t)tz_quarters * 15 * 60;
  int64_t days = s / 86400, rem = s % 86400;
  if (rem < 0) {
    rem += 86400;
    days--;
  }
  int64_t y;
  unsigned m, d;
  civil_from_days(days, &y, &m, &d);
  if (y < 2000 || y > 2099)
    return SG_ERANGE;
  t->year = (uint8_t)(y - 2000);
  t->month = (uint8_t)m;
  t->day = (uint8_t)d;
  t->hour = (uint8_t)(rem / 3600);
  t->minute = (uint8_t)(rem / 60 % 60);
  t->second = (uint8_t)(rem % 60);
  t->tz_quarters = (int8_t)tz_quarters;
  return 0;
}

/* One semi-octet pair: the first digit in the low nibble. */
static int semi_decode(uint8_t b, uint8_t *v) {
  unsigned lo = b & 0x0F, hi = b >> 4;
  if (lo > 9 || hi > 9)
    return SG_EPROTO;
  *v = (uint8_t)(lo * 10 + hi);
  return 0;
}

static uint8_t semi_encode(unsigned v) {
  return (uint8_t)((v / 10 % 10) | (v % 10) << 4);
}

static int time_decode(rd_t *r, sg_tpdu_time_t *t) {
  if (r->left < 7)
    return SG_ETRUNC;
  const uint8_t *p = r->p;
  uint8_t *f[6] = {&t->year, &t->month,  &t->day,
                   &t->hour, &t->minute, &t->second};
  for (int i = 0; i < 6; i++)
    if (semi_decode(p[i], f[i]) != 0)
      return SG_EPROTO;
  /* The time zone: bit 3 is the sign, the rest two BCD digits. */
  unsigned tens = p[6] & 0x07, units = p[6] >> 4;
  if (units > 9 || tens * 10 + units > 79)
    return SG_EPROTO;
  int q = (int)(tens * 10 + units);
  t->tz_quarters = (int8_t)((p[6] & 0x08) ? -q : q);
  r->p += 7;
  r->left -= 7;
  return 0;
}

static int time_encode(wr_t *w, const sg_tpdu_time_t *t) {
  if (t->tz_quarters < -79 || t->tz_quarters > 79)
    return SG_EINVAL;
  const unsigned v[6] = {t->year, t->month,  t->day,
                         t->hour, t->minute, t->second};
  for (int i = 0; i < 6; i++) {
    if (v[i] > 99)
      return SG_EINVAL;
    int rc = wr_u8(w, semi_encode(v[i]));
    if (rc != 0)
      return rc;
  }
  unsigned q =
      (unsigned)(t->tz_quarters < 0 ? -t->tz_quarters : t->tz_quarters);
  uint8_t tz = semi_encode(q);
  if (t->tz_quarters < 0)
    tz |= 0x08;
  return wr_u8(w, tz);
}

/* ---- Addresses (9.1.2.5) ------------------------------------------------
 */

static const char DIGITS[] = "0123456789*#abc";

static int digit_value(char c) {
  if (c >= 'A' && c <= 'C')
    c = (char)(c - 'A' + 'a');
  const char *p = c != '\0' ? strchr(DIGITS, c) : NULL;
  return p != NULL ? (int)(p - DIGITS) : -1;
}

/* Writes the digits of `s` as semi-octets, F-filled. */
static int bcd_encode(wr_t *w, const char *s, size_t n) {
  for (size_t i = 0; i < n; i += 2) {
    int lo = digit_value(s[i]);
    int hi = i + 1 < n ? digit_value(s[i + 1]) : 0xF;
    if (lo < 0 || hi < 0)
      return SG_EINVAL;
    int rc = wr_u8(w, (uint8_t)(lo | hi << 4));
    if (rc != 0)
      return rc;
  }
  return 0;
}

/* Reads `n` semi-octets from `octets` octets into a NUL-terminated string. */
static int bcd_decode(const uint8_t *p, size_t octets, size_t n, char *out) {
  size_t k = 0;
  for (size_t i = 0; i < octets * 2; i++) {
    unsigned v = (i & 1) ? p[i / 2] >> 4 : p[i / 2] & 0x0F;
    if (i >= n) { /* the fill nibble */
      if (v != 0xF)
        return SG_EPROTO;
      continue;
    }
    if (v == 0xF)
      return SG_EPROTO;
    out[k++] = DIGITS[v];
  }
  out[k] = '\0';
  return 0;
}

/* Alphanumeric address text (UTF-8) to packed default-alphabet septets. */
static int alnum_encode(const char *s, uint8_t *packed, size_t *octets,
                        size_t *septets) {
  uint32_t cps[SG_TPDU_ALNUM_MAX + 1];
  uint8_t sep[2 * (SG_TPDU_ALNUM_MAX + 1)];
  size_t n = 0, ns = 0;
  int rc = sg_utf8_decode((const uint8_t *)s, strlen(s), cps,
                          SG_TPDU_ALNUM_MAX + 1, &n, NULL);
  if (rc != 0 || n > SG_TPDU_ALNUM_MAX)
    return SG_EINVAL;
  const sg_gsm7_charset_t cs = {0, 0};
  if (sg_gsm7_encode(cs, cps, n, sep, sizeof sep, &ns, NULL) != 0 ||
      ns > SG_TPDU_ALNUM_MAX)
    return SG_EINVAL;
  *septets = ns;
  return sg_gsm7_pack(sep, ns, 0, packed, 10, octets);
}

static int addr_encode(wr_t *w, const sg_tpdu_addr_t *a) {
  if (a->ton > 7 || a->npi > 15)
    return SG_EINVAL;
  uint8_t toa = (uint8_t)(0x80 | a->ton << 4 | a->npi);
  int rc;
  if (a->ton == 5) {
    uint8_t packed[10];
    size_t octets = 0, septets = 0;
    if ((rc = alnum_encode(a->addr, packed, &octets, &septets)) != 0)
      return rc;
    if ((rc = wr_u8(w, (uint8_t)((septets * 7 + 3) / 4))) != 0 ||
        (rc = wr_u8(w, toa)) != 0)
      return rc;
    return wr_bytes(w, packed, octets);
  }
  size_t n = strlen(a->addr);
  if (n > SG_TPDU_ADDR_MAX)
    return SG_EINVAL;
  if ((rc = wr_u8(w, (uint8_t)n)) != 0 || (rc = wr_u8(w, toa)) != 0)
    return rc;
  return bcd_encode(w, a->addr, n);
}

static int alnum_decode(const uint8_t *p, size_t octets, size_t semi,
                        sg_tpdu_addr_t *a) {
  uint8_t sep[SG_TPDU_ALNUM_MAX + 1];
  uint32_t cps[SG_TPDU_ALNUM_MAX + 1];
  size_t ns = semi * 4 / 7, n = 0, w = 0;
  if (ns > SG_TPDU_ALNUM_MAX + 1 ||
      sg_gsm7_unpack(p, octets, 0, ns, sep, sizeof sep) != 0)
    return SG_EPROTO;
  const sg_gsm7_charset_t cs = {0, 0};
  if (sg_gsm7_decode(cs, sep, ns, cps, SG_TPDU_ALNUM_MAX + 1, &n, NULL) != 0)
    return SG_EPROTO;
  if (sg_utf8_encode(cps, n, (uint8_t *)a->addr, sizeof a->addr - 1, &w) != 0)
    return SG_EPROTO;
  a->addr[w] = '\0';
  return 0;
}

static int addr_decode(rd_t *r, sg_tpdu_addr_t *a) {
  uint8_t semi, toa;
  int rc;
  if ((rc = rd_u8(r, &semi)) != 0 || (rc = rd_u8(r, &toa)) != 0)
    return rc;
  if (semi > SG_TPDU_ADDR_MAX)
    return SG_EPROTO;
  size_t octets = (semi + 1u) / 2;
  if (r->left < octets)
    return SG_ETRUNC;
  a->ton = (toa >> 4) & 7;
  a->npi = toa & 0x0F;
  rc = a->ton == 5 ? alnum_decode(r->p, octets, semi, a)
                   : bcd_decode(r->p, octets, semi, a->addr);
  if (rc != 0)
    return rc;
  r->p += octets;
  r->left -= octets;
  return 0;
}

int sg_tpdu_encode_sca(const sg_tpdu_addr_t *sca, uint8_t *out, size_t cap,
                       size_t *n_out) {
  wr_t w = {out, 0, cap};
  size_t n = sca != NULL ? strlen(sca->addr) : 0;
  int rc;
  if (n == 0) {
    rc = wr_u8(&w, 0);
  } else if (sca->ton == 5 || sca->ton > 7 || sca->npi > 15 ||
             n > SG_TPDU_ADDR_MAX) {
    return SG_EINVAL;
  } else if ((rc = wr_u8(&w, (uint8_t)(1 + (n + 1) / 2))) == 0 &&
             (rc = wr_u8(&w, (uint8_t)(0x80 | sca->ton << 4 | sca->npi))) ==
                 0) {
    rc = bcd_encode(&w, sca->addr, n);
  }
  if (rc == 0 && n_out != NULL)
    *n_out = w.n;
  return rc;
}

int sg_tpdu_decode_sca(const uint8_t *buf, size_t len, sg_tpdu_addr_t *sca,
                       size_t *consumed) {
  sg_tpdu_addr_t tmp;
  if (sca == NULL)
    sca = &tmp;
  memset(sca, 0, sizeof *sca);
  if (len < 1)
    return SG_ETRUNC;
  size_t n = buf[0];
  if (n > 11)
    return SG_EPROTO;
  if (len < 1 + n)
    return SG_ETRUNC;
  if (n > 0) {
    sca->ton = (buf[1] >> 4) & 7;
    sca->npi = buf[1] & 0x0F;
    size_t octets = n - 1;
    size_t digits = octets * 2;
    if (octets > 0 && (buf[1 + octets] >> 4) == 0xF)
      digits--;
    if (bcd_decode(buf + 2, octets, digits, sca->addr) != 0)
      return SG_EPROTO;
  }
  *consumed = 1 + n;
  return 0;
}

/* ---- TP-UDL and TP-UD (9.2.3.16, 9.2.3.24) ------------------------------
 */

/* Fill bits after a UDH of `udh_len` octets so the text starts on a septet
 * boundary. */
static unsigned fill_bits(size_t udh_len) {
  return udh_len == 0 ? 0 : (unsigned)((7 - (udh_len * 8) % 7) % 7);
}

static int ud_encode(wr_t *w, bool gsm7, const uint8_t *udh, size_t udh_len,
                     const uint8_t *ud, size_t ud_len) {
  if (udh_len > 0 && (udh_len > SG_TPDU_UD_MAX || udh[0] != udh_len - 1))
    return SG_EINVAL;
  if (ud_len > 160)
    return SG_ETOOLONG;
  unsigned fill = fill_bits(udh_len);
  size_t udl, octets;
  if (gsm7) {
    udl = (udh_len * 8 + fill) / 7 + ud_len;
    octets = udh_len + sg_gsm7_packed_len(ud_len, fill);
    if (udl > 160)
      return SG_ETOOLONG;
  } else {
    udl = octets = udh_len + ud_len;
  }
  if (octets > SG_TPDU_UD_MAX)
    return SG_ETOOLONG;
  int rc;
  if ((rc = wr_u8(w, (uint8_t)udl)) != 0 ||
      (rc = wr_bytes(w, udh, udh_len)) != 0)
    return rc;
  if (!gsm7)
    return wr_bytes(w, ud, ud_len);
  size_t n = 0;
  rc = sg_gsm7_pack(ud, ud_len, fill, w->p + w->n, w->cap - w->n, &n);
  w->n += n;
  return rc;
}

static int ud_decode(rd_t *r, bool gsm7, bool udhi, uint8_t *udh,
                     size_t *udh_len, uint8_t *ud, size_t *ud_len) {
  uint8_t udl;
  int rc = rd_u8(r, &udl);
  if (rc != 0)
    return rc;
  size_t octets = gsm7 ? sg_gsm7_packed_len(udl, 0) : udl;
  if (octets > SG_TPDU_UD_MAX || (gsm7 && udl > 160))
    return SG_EPROTO;
  if (r->left < octets)
    return SG_ETRUNC;
  size_t hl = 0;
  if (udhi) {
    if (octets < 1 || (size_t)r->p[0] + 1 > octets)
      return SG_EPROTO;
    hl = (size_t)r->p[0] + 1;
    memcpy(udh, r->p, hl);
  }
  *udh_len = hl;
  if (!gsm7) {
    *ud_len = udl - hl;
    memcpy(ud, r->p + hl, *ud_len);
  } else {
    unsigned fill = fill_bits(hl);
    size_t hsept = (hl * 8 + fill) / 7;
    if (hsept > udl)
      return SG_EPROTO;
    *ud_len = udl - hsept;
    if (sg_gsm7_unpack(r->p + hl, octets - hl, fill, *ud_len, ud, 160) != 0)
      return SG_EPROTO;
  }
  r->p += octets;
  r->left -= octets;
  return 0;
}

/* ---- SMS-SUBMIT (9.2.2.2) -----------------------------------------------
 */

int sg_tpdu_encode_submit(const sg_tpdu_submit_t *s, uint8_t *out, size_t cap,
                          size_t *n_out) {
  if (s->vp_relative < -1 || s->vp_relative > 255)
    return SG_EINVAL;
  wr_t w = {out, 0, cap};
  uint8_t fo = SG_TPDU_MTI_SUBMIT;
  fo |= (uint8_t)(s->rd ? 0x04 : 0);
  fo |= (uint8_t)(s->vp_relative >= 0 ? 0x10 : 0); /* TP-VPF 10 */
  fo |= (uint8_t)(s->srr ? 0x20 : 0);
  fo |= (uint8_t)(s->udh_len > 0 ? 0x40 : 0);
  fo |= (uint8_t)(s->rp ? 0x80 : 0);
  int rc;
  if ((rc = wr_u8(&w, fo)) != 0 || (rc = wr_u8(&w, s->mr)) != 0 ||
      (rc = addr_encode(&w, &s->da)) != 0 || (rc = wr_u8(&w, s->pid)) != 0 ||
      (rc = wr_u8(&w, s->dcs)) != 0)
    return rc;
  if (s->vp_relative >= 0 && (rc = wr_u8(&w, (uint8_t)s->vp_relative)) != 0)
    return rc;
  bool gsm7 = sg_tpdu_dcs_encoding(s->dcs) == SG_ENC_GSM7;
  if ((rc = ud_encode(&w, gsm7, s->udh, s->udh_len, s->ud, s->ud_len)) != 0)
    return rc;
  *n_out = w.n;
  return 0;
}

int sg_tpdu_decode_submit(const uint8_t *buf, size_t len,
                          sg_tpdu_submit_t *out) {
  rd_t r = {buf, len};
  uint8_t fo, vpf;
  int rc;
  memset(out, 0, sizeof *out);
  if ((rc = rd_u8(&r, &fo)) != 0)
    return rc;
  if ((fo & 3) != SG_TPDU_MTI_SUBMIT)
    return SG_EPROTO;
  out->rd = fo & 0x04;
  vpf = (fo >> 3) & 3;
  out->srr = fo & 0x20;
  out->rp = fo & 0x80;
  if ((rc = rd_u8(&r, &out->mr)) != 0 ||
      (rc = addr_decode(&r, &out->da)) != 0 ||
      (rc = rd_u8(&r, &out->pid)) != 0 || (rc = rd_u8(&r, &out->dcs)) != 0)
    return rc;
  out->vp_relative = -1;
  if (vpf == 2) {
    uint8_t vp;
    if ((rc = rd_u8(&r, &vp)) != 0)
      return rc;
    out->vp_relative = vp;
  } else if (vpf != 0) { /* enhanced or absolute: 7 octets, skipped */
    if (r.left < 7)
      return SG_ETRUNC;
    r.p += 7;
    r.left -= 7;
  }
  bool gsm7 = sg_tpdu_dcs_encoding(out->dcs) == SG_ENC_GSM7;
  return ud_decode(&r, gsm7, fo & 0x40, out->udh, &out->udh_len, out->ud,
                   &out->ud_len);
}

/* ---- SMS-DELIVER (9.2.2.1) ----------------------------------------------
 */

int sg_tpdu_encode_deliver(const sg_tpdu_deliver_t *d, uint8_t *out, size_t cap,
                           size_t *n_out) {
  wr_t w = {out, 0, cap};
  uint8_t fo = SG_TPDU_MTI_DELIVER;
  fo |= (uint8_t)(d->mms ? 0x04 : 0);
  fo |= (uint8_t)(d->sri ? 0x20 : 0);
  fo |= (uint8_t)(d->udh_len > 0 ? 0x40 : 0);
  fo |= (uint8_t)(d->rp ? 0x80 : 0);
  int rc;
  if ((rc = wr_u8(&w, fo)) != 0 || (rc = addr_encode(&w, &d->oa)) != 0 ||
      (rc = wr_u8(&w, d->pid)) != 0 || (rc = wr_u8(&w, d->dcs)) != 0 ||
      (rc = time_encode(&w, &d->scts)) != 0)
    return rc;
  bool gsm7 = sg_tpdu_dcs_encoding(d->dcs) == SG_ENC_GSM7;
  if ((rc = ud_encode(&w, gsm7, d->udh, d->udh_len, d->ud, d->ud_len)) != 0)
    return rc;
  *n_out = w.n;
  return 0;
}

int sg_tpdu_decode_deliver(const uint8_t *buf, size_t len,
                           sg_tpdu_deliver_t *out) {
  rd_t r = {buf, len};
  uint8_t fo;
  int rc;
  memset(out, 0, sizeof *out);
  if ((rc = rd_u8(&r, &fo)) != 0)
    return rc;
  if ((fo & 3) != SG_TPDU_MTI_DELIVER)
    return SG_EPROTO;
  out->mms = fo & 0x04;
  out->sri = fo & 0x20;
  out->rp = fo & 0x80;
  if ((rc = addr_decode(&r, &out->oa)) != 0 ||
      (rc = rd_u8(&r, &out->pid)) != 0 || (rc = rd_u8(&r, &out->dcs)) != 0 ||
      (rc = time_decode(&r, &out->scts)) != 0)
    return rc;
  bool gsm7 = sg_tpdu_dcs_encoding(out->dcs) == SG_ENC_GSM7;
  return ud_decode(&r, gsm7, fo & 0x40, out->udh, &out->udh_len, out->ud,
                   &out->ud_len);
}

/* ---- SMS-STATUS-REPORT (9.2.2.3) ----------------------------------------
 */

int sg_tpdu_encode_status_report(const sg_tpdu_status_report_t *s, uint8_t *out,
                                 size_t cap, size_t *n_out) {
  wr_t w = {out, 0, cap};
  uint8_t fo = SG_TPDU_MTI_STATUS_REPORT;
  fo |= (uint8_t)(s->mms ? 0x04 : 0);
  fo |= (uint8_t)(s->srq ? 0x20 : 0);
  int rc;
  if ((rc = wr_u8(&w, fo)) != 0 || (rc = wr_u8(&w, s->mr)) != 0 ||
      (rc = addr_encode(&w, &s->ra)) != 0 ||
      (rc = time_encode(&w, &s->scts)) != 0 ||
      (rc = time_encode(&w, &s->dt)) != 0 || (rc = wr_u8(&w, s->st)) != 0)
    return rc;
  *n_out = w.n;
  return 0;
}

int sg_tpdu_decode_status_report(const uint8_t *buf, size_t len,
                                 sg_tpdu_status_report_t *out) {
  rd_t r = {buf, len};
  uint8_t fo;
  int rc;
  memset(out, 0, sizeof *out);
  if ((rc = rd_u8(&r, &fo)) != 0)
    return rc;
  if ((fo & 3) != SG_TPDU_MTI_STATUS_REPORT)
    return SG_EPROTO;
  out->mms = fo & 0x04;
  out->srq = fo & 0x20;
  if ((rc = rd_u8(&r, &out->mr)) != 0 ||
      (rc = addr_decode(&r, &out->ra)) != 0 ||
      (rc = time_decode(&r, &out->scts)) != 0 ||
      (rc = time_decode(&r, &out->dt)) != 0)
    return rc;
  return rd_u8(&r, &out->st);
}

/* ---- Hex, as AT commands carry PDUs -------------------------------------
 */

int sg_tpdu_hex_encode(const uint8_t *buf, size_t len, char *out, size_t cap) {
  static const char HEX[] = "0123456789ABCDEF";
  if (cap / 2 < len)
    return SG_ENOSPC;
  for (size_t i = 0; i < len; i++) {
    out[2 * i] = HEX[buf[i] >> 4];
    out[2 * i + 1] = HEX[buf[i] & 0x0F];
  }
  return 0;
}

static int hex_nibble(char c) {
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  return -1;
}

int sg_tpdu_hex_decode(const char *hex, size_t len, uint8_t *out, size_t cap,
                       size_t *n_out) {
  if (len % 2 != 0)
    return SG_EILSEQ;
  for (size_t i = 0; i < len; i++)
    if (hex_nibble(hex[i]) < 0)
      return SG_EILSEQ;
  if (cap < len / 2)
    return SG_ENOSPC;
  for (size_t i = 0; i < len / 2; i++)
    out[i] =
        (uint8_t)(hex_nibble(hex[2 * i]) << 4 | hex_nibble(hex[2 * i + 1]));
  *n_out = len / 2;
  return 0;
}
