/* ucs2.c - UTF-16BE, the "UCS2" data coding of SMS (TS 23.038 section 5),
 * with surrogate pairs for characters outside the BMP.
 *
 * Used to encode message parts that do not fit GSM 7-bit and to decode what
 * handsets and SMSCs send, where a pair may arrive split across parts (hence
 * the lenient mode). It must never do I/O or allocate, and never emit a lone
 * surrogate.
 */
#include "core/ucs2.h"

#include "core/error.h"

#define REPLACEMENT 0xFFFDu

static int is_high(uint32_t u) {
  return u >= 0xD800 && u <= 0xDBFF;
}

static int is_low(uint32_t u) {
  return u >= 0xDC00 && u <= 0xDFFF;
}

size_t sg_ucs2_units(uint32_t cp) {
  if (cp >= 0xD800 && cp <= 0xDFFF)
    return 0;
  if (cp < 0x10000)
    return 1;
  return cp <= 0x10FFFF ? 2 : 0;
}

static void put_unit(uint8_t *p, uint32_t u) {
  p[0] = (uint8_t)(u >> 8);
  p[1] = (uint8_t)u;
}

int sg_ucs2_encode(const uint32_t *cps, size_t n, uint8_t *out, size_t cap,
                   size_t *n_out, size_t *err_index) {
  size_t w = 0;
  int rc = 0;
  for (size_t i = 0; i < n; i++) {
    uint32_t cp = cps[i];
    size_t units = sg_ucs2_units(cp);
    if (units == 0) {
      if (err_index != NULL)
        *err_index = i;
      rc = SG_EINVAL;
      break;
    }
    if (cap - w < 2 * units) {
      rc = SG_ENOSPC;
      break;
    }
    if (units == 1) {
      put_unit(out + w, cp);
    } else {
      cp -= 0x10000;
      put_unit(out + w, 0xD800 | (cp >> 10));
      put_unit(out + w + 2, 0xDC00 | (cp & 0x3FF));
    }
    w += 2 * units;
  }
  if (n_out != NULL)
    *n_out = w;
  return rc;
}

static uint32_t unit_at(const uint8_t *buf, size_t i) {
  return (uint32_t)buf[i] << 8 | buf[i + 1];
}

/* Decodes the unit (or pair) at octet i of an even-length buffer. Returns the
 * octets used (2 or 4) with *cp set, or 0 for an unpaired surrogate. */
static size_t decode_one(const uint8_t *buf, size_t len, size_t i,
                         uint32_t *cp) {
  uint32_t u = unit_at(buf, i);
  if (is_low(u))
    return 0;
  if (!is_high(u)) {
    *cp = u;
    return 2;
  }
  if (i + 4 > len)
    return 0;
  uint32_t lo = unit_at(buf, i + 2);
  if (!is_low(lo))
    return 0;
  *cp = 0x10000 + ((u - 0xD800) << 10) + (lo - 0xDC00);
  return 4;
}

int sg_ucs2_decode(const uint8_t *buf, size_t len, int lenient, uint32_t *cps,
                   size_t cap, size_t *n_out, size_t *err_off) {
  size_t i = 0, w = 0;
  int rc = 0;
  if (len % 2 != 0) {
    if (err_off != NULL)
      *err_off = len - 1;
    rc = SG_ETRUNC;
    len = 0;
  }
  while (i < len) {
    uint32_t cp = 0;
    size_t used = decode_one(buf, len, i, &cp);
    if (used == 0) {
      if (!lenient) {
        if (err_off != NULL)
          *err_off = i;
        rc = SG_EILSEQ;
        break;
      }
      cp = REPLACEMENT;
      used = 2;
    }
    if (cps != NULL) {
      if (w == cap) {
        rc = SG_ENOSPC;
        break;
      }
      cps[w] = cp;
    }
    w++;
    i += used;
  }
  if (n_out != NULL)
    *n_out = w;
  return rc;
}
