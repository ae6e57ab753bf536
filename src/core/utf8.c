/* utf8.c - strict UTF-8 (RFC 3629; Unicode chapter 3, table 3-7) to and from
 * code points.
 *
 * Every text enters smsgate through here (REST, SMPP, the CLI), so this is
 * where ill-formed input is refused, with the byte offset at which the
 * ill-formed sequence starts, for an error message a user can act on. It
 * accepts exactly the well-formed byte sequences of table 3-7 and nothing a
 * lenient decoder would read differently: no overlong forms, no surrogates,
 * nothing above U+10FFFF. It must never do I/O or allocate.
 */
#include "core/utf8.h"

#include "core/error.h"

/* Decodes the sequence that starts at buf[0] (len >= 1, buf[0] >= 0x80).
 * Returns its length (2..4) with *cp set, SG_EILSEQ when a byte is outside
 * the ranges of table 3-7, or SG_ETRUNC when the input ends inside an
 * otherwise well-formed prefix. */
static int decode_multi(const uint8_t *buf, size_t len, uint32_t *cp) {
  uint8_t b0 = buf[0];
  int n;
  uint8_t lo = 0x80, hi = 0xBF; /* the range of the second byte */
  uint32_t v;
  if (b0 >= 0xC2 && b0 <= 0xDF) {
    n = 2;
    v = b0 & 0x1F;
  } else if (b0 >= 0xE0 && b0 <= 0xEF) {
    n = 3;
    v = b0 & 0x0F;
    if (b0 == 0xE0)
      lo = 0xA0; /* below: overlong */
    else if (b0 == 0xED)
      hi = 0x9F; /* above: UTF-16 surrogates */
  } else if (b0 >= 0xF0 && b0 <= 0xF4) {
    n = 4;
    v = b0 & 0x07;
    if (b0 == 0xF0)
      lo = 0x90; /* below: overlong */
    else if (b0 == 0xF4)
      hi = 0x8F; /* above: beyond U+10FFFF */
  } else {
    return SG_EILSEQ; /* 0x80..0xC1 (continuation, overlong lead), 0xF5.. */
  }
  for (int i = 1; i < n; i++) {
    if ((size_t)i >= len)
      return SG_ETRUNC;
    uint8_t b = buf[i];
    if (b < lo || b > hi)
      return SG_EILSEQ;
    v = (v << 6) | (b & 0x3F);
    lo = 0x80;
    hi = 0xBF;
  }
  *cp = v;
  return n;
}

/* The decoder behind sg_utf8_decode and sg_utf8_count: `out` NULL counts. */
static int utf8_run(const uint8_t *buf, size_t len, uint32_t *out, size_t cap,
                    size_t *n_out, size_t *err_off) {
  size_t i = 0, w = 0;
  int rc = 0;
  while (i < len) {
    uint32_t cp = buf[i];
    int k = 1;
    if (cp >= 0x80) {
      k = decode_multi(buf + i, len - i, &cp);
      if (k < 0) {
        rc = k;
        if (err_off != NULL)
          *err_off = i;
        break;
      }
    }
    if (out != NULL) {
      if (w == cap) {
        rc = SG_ENOSPC;
        break;
      }
      out[w] = cp;
    }
    w++;
    i += (size_t)k;
  }
  if (n_out != NULL)
    *n_out = w;
  return rc;
}

int sg_utf8_decode(const uint8_t *buf, size_t len, uint32_t *out, size_t cap,
                   size_t *n_out, size_t *err_off) {
  return utf8_run(buf, len, out, cap, n_out, err_off);
}

int sg_utf8_count(const uint8_t *buf, size_t len, size_t *n_out,
                  size_t *err_off) {
  return utf8_run(buf, len, NULL, 0, n_out, err_off);
}

size_t sg_utf8_len(uint32_t cp) {
  if (cp < 0x80)
    return 1;
  if (cp < 0x800)
    return 2;
  if (cp >= 0xD800 && cp <= 0xDFFF)
    return 0;
  if (cp < 0x10000)
    return 3;
  if (cp <= 0x10FFFF)
    return 4;
  return 0;
}

/* Writes the k-byte (1..4) encoding of a valid scalar value. */
static void put_utf8(uint32_t cp, size_t k, uint8_t *p) {
  static const uint8_t lead[5] = {0, 0x00, 0xC0, 0xE0, 0xF0};
  for (size_t j = k - 1; j > 0; j--) {
    p[j] = (uint8_t)(0x80 | (cp & 0x3F));
    cp >>= 6;
  }
  p[0] = (uint8_t)(lead[k] | cp);
}

int sg_utf8_encode(const uint32_t *cps, size_t n, uint8_t *out, size_t cap,
                   size_t *n_out) {
  size_t w = 0;
  int rc = 0;
  for (size_t i = 0; i < n; i++) {
    size_t k = sg_utf8_len(cps[i]);
    if (k == 0) {
      rc = SG_EINVAL;
      break;
    }
    if (cap - w < k) {
      rc = SG_ENOSPC;
      break;
    }
    put_utf8(cps[i], k, out + w);
    w += k;
  }
  if (n_out != NULL)
    *n_out = w;
  return rc;
}
