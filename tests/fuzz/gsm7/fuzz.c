/* Fuzz target for GSM 7-bit: arbitrary octets are unpacked (after 0..6 fill
 * bits) and decoded with every charset, including ids that have no table.
 * Nothing may crash; packing the septets again restores the octets (up to the
 * fill and trailing bits); and text that decodes and encodes again decodes to
 * the same text.
 *
 * Input: octet 0 is the fill bits (mod 7), octet 1 one more charset to try
 * (locking id in the low nibble, single shift id in the high one, so ids
 * without a table come up too); the rest is TP-UD after the UDH. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "core/gsm7.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_OCTETS 160
#define MAX_SEPTETS (MAX_OCTETS * 8 / 7 + 1)

static void check_repack(const uint8_t *packed, size_t len, unsigned fill,
                         const uint8_t *sep, size_t n) {
  uint8_t again[MAX_OCTETS + 1];
  size_t w = 0;
  if (sg_gsm7_pack(sep, n, fill, again, sizeof again, &w) != 0 ||
      w != sg_gsm7_packed_len(n, fill) || w > len)
    abort();
  for (size_t i = 0; i < w; i++) {
    unsigned mask = 0xFF;
    if (i == 0)
      mask &= 0xFFu << fill;
    if (i == w - 1 && (fill + 7 * n) % 8 != 0)
      mask &= (1u << ((fill + 7 * n) % 8)) - 1;
    if ((again[i] ^ packed[i]) & mask)
      abort();
  }
}

static void check_charset(sg_gsm7_charset_t cs, const uint8_t *sep, size_t n) {
  static uint32_t cps[MAX_SEPTETS], cps2[MAX_SEPTETS];
  static uint8_t sep2[2 * MAX_SEPTETS];
  size_t m = 0, idx = 0, w = 0, m2 = 0, counted = 0;
  if (sg_gsm7_decode(cs, sep, n, cps, MAX_SEPTETS, &m, &idx) != 0 || m > n)
    abort();
  if (sg_gsm7_decode(cs, sep, n, NULL, 0, &counted, NULL) != 0 || counted != m)
    abort();
  int rc = sg_gsm7_encode(cs, cps, m, sep2, sizeof sep2, &w, &idx);
  if (rc == SG_ECHARSET) {
    /* Only what the tables cannot hold: the replacement character. */
    if (idx >= m || cps[idx] != SG_GSM7_UNDEFINED ||
        sg_gsm7_count(cs, cps, m, NULL) != SG_ECHARSET)
      abort();
    return;
  }
  if (rc != 0 || sg_gsm7_count(cs, cps, m, NULL) != (long)w)
    abort();
  if (sg_gsm7_decode(cs, sep2, w, cps2, MAX_SEPTETS, &m2, NULL) != 0 ||
      m2 != m || memcmp(cps, cps2, m * sizeof cps[0]) != 0)
    abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static uint8_t sep[MAX_SEPTETS];
  if (size < 3)
    return 0;
  unsigned fill = data[0] % 7;
  sg_gsm7_charset_t extra = {(uint8_t)(data[1] & 0x0F),
                             (uint8_t)(data[1] >> 4)};
  const uint8_t *packed = data + 2;
  size_t len = size - 2;
  if (len > MAX_OCTETS)
    len = MAX_OCTETS;
  size_t n = (8 * len - fill) / 7;
  if (sg_gsm7_unpack(packed, len, fill, n, sep, sizeof sep) != 0)
    abort();
  if (sg_gsm7_unpack(packed, len, fill, n + 1, sep, sizeof sep) != SG_ETRUNC)
    abort();
  check_repack(packed, len, fill, sep, n);
  /* Every charset decodes; the one the input picks, and the default, go
   * through the full round trip. */
  for (unsigned l = 0; l < SG_GSM7_LANG_MAX; l++) {
    for (unsigned s = 0; s < SG_GSM7_LANG_MAX; s++) {
      sg_gsm7_charset_t cs = {(uint8_t)l, (uint8_t)s};
      size_t m = 0;
      if (sg_gsm7_decode(cs, sep, n, NULL, 0, &m, NULL) != 0 || m > n)
        abort();
    }
  }
  sg_gsm7_charset_t def = {0, 0};
  check_charset(def, sep, n);
  check_charset(extra, sep, n);
  /* The raw octets as septets: anything above 127 must be refused. */
  size_t m = 0, idx = 0;
  int rc = sg_gsm7_decode(def, packed, len, NULL, 0, &m, &idx);
  if (rc != 0 && (rc != SG_EILSEQ || idx >= len || packed[idx] < 0x80))
    abort();
  return 0;
}
