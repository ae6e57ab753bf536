/* gsm7.c - GSM 7-bit text: code points to septets and back through the
 * default alphabet and the national language tables of 3GPP TS 23.038, and
 * septet packing (TS 23.038 6.1.2.1.1, fill bits of TS 23.040 9.2.3.24).
 *
 * Segmentation and the SMPP and modem paths build on these functions, and
 * sg_gsm7_char runs once per character of every message, so lookups are a
 * binary search over precomputed sorted tables (gsm7_tables.c) and O(1) for
 * the default alphabet below U+0100. This module must never do I/O, allocate,
 * or keep state between calls: the tables are constant data.
 */
#include "core/gsm7.h"

#include <string.h>

#include "core/error.h"
#include "core/gsm7_tables.h"

#define LATIN1_NONE 0xFF
#define LATIN1_ESC 0x80

static const char *const lang_names[SG_GSM7_LANG_MAX] = {
    "default",  "turkish", "spanish", "portuguese", "bengali",
    "gujarati", "hindi",   "kannada", "malayalam",  "oriya",
    "punjabi",  "tamil",   "telugu",  "urdu",
};

bool sg_gsm7_has_locking(sg_gsm7_lang_t lang) {
  return (unsigned)lang < SG_GSM7_LANG_MAX &&
         sg__gsm7_locking[lang].ucs != NULL;
}

bool sg_gsm7_has_single(sg_gsm7_lang_t lang) {
  return (unsigned)lang < SG_GSM7_LANG_MAX && sg__gsm7_single[lang].ucs != NULL;
}

const char *sg_gsm7_lang_name(sg_gsm7_lang_t lang) {
  return (unsigned)lang < SG_GSM7_LANG_MAX ? lang_names[lang] : NULL;
}

int sg_gsm7_lang_parse(const char *name, sg_gsm7_lang_t *out) {
  if (name == NULL)
    return SG_EINVAL;
  for (unsigned i = 0; i < SG_GSM7_LANG_MAX; i++) {
    if (strcmp(name, lang_names[i]) == 0) {
      *out = (sg_gsm7_lang_t)i;
      return 0;
    }
  }
  return SG_EINVAL;
}

/* The tables a charset selects, resolved once per call (see gsm7.h on
 * languages without a table). `latin1` is set when both are the defaults, so
 * that sg__gsm7_default_latin1 answers for code points below U+0100. */
typedef struct tables {
  const sg__gsm7_table_t *lock;
  const sg__gsm7_table_t *single;
  bool latin1;
} tables_t;

static tables_t resolve(sg_gsm7_charset_t cs) {
  tables_t t;
  t.lock = &sg__gsm7_locking[sg_gsm7_has_locking(cs.locking) ? cs.locking : 0];
  t.single = &sg__gsm7_single[sg_gsm7_has_single(cs.single) ? cs.single : 0];
  t.latin1 = t.lock == &sg__gsm7_locking[SG_GSM7_DEFAULT] &&
             t.single == &sg__gsm7_single[SG_GSM7_DEFAULT];
  return t;
}

/* The code of `cp` in one table, or -1. Binary search over by_ucs. */
static int table_find(const sg__gsm7_table_t *t, uint32_t cp) {
  size_t lo = 0, hi = t->n;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    uint8_t code = t->by_ucs[mid];
    uint32_t v = t->ucs[code];
    if (v == cp)
      return code;
    if (v < cp)
      lo = mid + 1;
    else
      hi = mid;
  }
  return -1;
}

/* sg_gsm7_char with the tables already resolved; out must hold 2 septets. */
static int char_septets(const tables_t *t, uint32_t cp, uint8_t out[2]) {
  if (t->latin1 && cp < 0x100) {
    uint8_t v = sg__gsm7_default_latin1[cp];
    if (v == LATIN1_NONE)
      return 0;
    if (v & LATIN1_ESC) {
      out[0] = SG_GSM7_ESC;
      out[1] = v & 0x7F;
      return 2;
    }
    out[0] = v;
    return 1;
  }
  int code = table_find(t->lock, cp);
  if (code >= 0) {
    out[0] = (uint8_t)code;
    return 1;
  }
  code = table_find(t->single, cp);
  if (code >= 0) {
    out[0] = SG_GSM7_ESC;
    out[1] = (uint8_t)code;
    return 2;
  }
  return 0;
}

int sg_gsm7_char(sg_gsm7_charset_t cs, uint32_t cp, uint8_t out[2]) {
  uint8_t tmp[2];
  if (out == NULL)
    out = tmp;
  if (cs.locking == SG_GSM7_DEFAULT && cs.single == SG_GSM7_DEFAULT &&
      cp < 0x100) {
    /* The common case, without resolving the charset first. */
    static const tables_t latin1 = {NULL, NULL, true};
    return char_septets(&latin1, cp, out);
  }
  tables_t t = resolve(cs);
  return char_septets(&t, cp, out);
}

int sg_gsm7_encode(sg_gsm7_charset_t cs, const uint32_t *cps, size_t n,
                   uint8_t *septets, size_t cap, size_t *n_out,
                   size_t *err_index) {
  tables_t t = resolve(cs);
  size_t w = 0;
  int rc = 0;
  for (size_t i = 0; i < n; i++) {
    uint8_t s[2];
    int k = char_septets(&t, cps[i], s);
    if (k == 0) {
      if (err_index != NULL)
        *err_index = i;
      rc = SG_ECHARSET;
      break;
    }
    if (cap - w < (size_t)k) {
      rc = SG_ENOSPC;
      break;
    }
    septets[w++] = s[0];
    if (k == 2)
      septets[w++] = s[1];
  }
  if (n_out != NULL)
    *n_out = w;
  return rc;
}

long sg_gsm7_count(sg_gsm7_charset_t cs, const uint32_t *cps, size_t n,
                   size_t *err_index) {
  tables_t t = resolve(cs);
  long total = 0;
  for (size_t i = 0; i < n; i++) {
    uint8_t s[2];
    int k = char_septets(&t, cps[i], s);
    if (k == 0) {
      if (err_index != NULL)
        *err_index = i;
      return SG_ECHARSET;
    }
    total += k;
  }
  return total;
}

/* The character of base-table code `code` (< 128). */
static uint32_t base_char(const tables_t *t, uint8_t code) {
  uint16_t v = t->lock->ucs[code];
  return v != 0 ? v : SG_GSM7_UNDEFINED;
}

/* Decodes the escape at septets[i] (TS 23.038 6.2.1.1). Sets *cp and returns
 * the septets consumed (1 or 2), or SG_EILSEQ with *bad set. */
static int decode_escape(const tables_t *t, const uint8_t *septets, size_t n,
                         size_t i, uint32_t *cp, size_t *bad) {
  if (i + 1 >= n) {
    *cp = ' ';
    return 1;
  }
  uint8_t code = septets[i + 1];
  if (code > 0x7F) {
    *bad = i + 1;
    return SG_EILSEQ;
  }
  if (code == SG_GSM7_ESC) {
    *cp = ' ';
  } else {
    uint16_t v = t->single->ucs[code];
    *cp = v != 0 ? v : base_char(t, code);
  }
  return 2;
}

int sg_gsm7_decode(sg_gsm7_charset_t cs, const uint8_t *septets, size_t n,
                   uint32_t *cps, size_t cap, size_t *n_out,
                   size_t *err_index) {
  tables_t t = resolve(cs);
  size_t w = 0, i = 0, bad = 0;
  int rc = 0;
  while (i < n) {
    uint8_t s = septets[i];
    uint32_t cp;
    int used = 1;
    if (s > 0x7F) {
      bad = i;
      rc = SG_EILSEQ;
      break;
    }
    if (s == SG_GSM7_ESC) {
      used = decode_escape(&t, septets, n, i, &cp, &bad);
      if (used < 0) {
        rc = used;
        break;
      }
    } else {
      cp = base_char(&t, s);
    }
    if (cps != NULL) {
      if (w == cap) {
        rc = SG_ENOSPC;
        break;
      }
      cps[w] = cp;
    }
    w++;
    i += (size_t)used;
  }
  if (rc == SG_EILSEQ && err_index != NULL)
    *err_index = bad;
  if (n_out != NULL)
    *n_out = w;
  return rc;
}

size_t sg_gsm7_packed_len(size_t n_septets, unsigned fill_bits) {
  /* Every 8 septets fill exactly 7 octets; only the remainder needs care. */
  return n_septets / 8 * 7 + ((n_septets % 8) * 7 + fill_bits + 7) / 8;
}

int sg_gsm7_pack(const uint8_t *septets, size_t n, unsigned fill_bits,
                 uint8_t *out, size_t cap, size_t *n_out) {
  if (fill_bits > 6)
    return SG_EINVAL;
  for (size_t i = 0; i < n; i++) {
    if (septets[i] > 0x7F)
      return SG_EINVAL;
  }
  size_t need = sg_gsm7_packed_len(n, fill_bits);
  if (cap < need)
    return SG_ENOSPC;
  uint32_t acc = 0;
  unsigned bits = fill_bits;
  size_t w = 0;
  for (size_t i = 0; i < n; i++) {
    acc |= (uint32_t)septets[i] << bits;
    bits += 7;
    if (bits >= 8) {
      out[w++] = (uint8_t)acc;
      acc >>= 8;
      bits -= 8;
    }
  }
  if (bits > 0)
    out[w++] = (uint8_t)acc;
  if (n_out != NULL)
    *n_out = w;
  return 0;
}

int sg_gsm7_unpack(const uint8_t *packed, size_t len, unsigned fill_bits,
                   size_t n_septets, uint8_t *septets, size_t cap) {
  if (fill_bits > 6)
    return SG_EINVAL;
  if (len < sg_gsm7_packed_len(n_septets, fill_bits))
    return SG_ETRUNC;
  if (cap < n_septets)
    return SG_ENOSPC;
  if (n_septets == 0)
    return 0;
  uint32_t acc = packed[0] >> fill_bits;
  unsigned bits = 8 - fill_bits;
  size_t r = 1;
  for (size_t i = 0; i < n_septets; i++) {
    if (bits < 7) {
      acc |= (uint32_t)packed[r++] << bits;
      bits += 8;
    }
    septets[i] = (uint8_t)(acc & 0x7F);
    acc >>= 7;
    bits -= 7;
  }
  return 0;
}
