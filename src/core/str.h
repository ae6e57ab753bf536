/* str.h - small string helpers with no allocation and no I/O. */
#ifndef SG_CORE_STR_H
#define SG_CORE_STR_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* Copies the NUL-terminated src into dst[0..cap), truncated to cap - 1
 * octets and always terminated when cap > 0: what snprintf(dst, cap, "%s",
 * src) writes, without its format interpreter (about 600 instructions a
 * call, several per message on the send and receipt paths). Returns
 * strlen(src). */
static inline size_t sg_strlcpy(char *dst, const char *src, size_t cap) {
  size_t n = strlen(src);
  if (cap > 0) {
    size_t k = n < cap - 1 ? n : cap - 1;
    memcpy(dst, src, k);
    dst[k] = '\0';
  }
  return n;
}

/* Copies src[0..n) to dst with every octet outside printable ASCII
 * (0x20..0x7E) written as a space; no terminator. Eight octets at a time
 * while they are all printable (a receipt's text, whole on the receipt
 * path): the byte loop cost nine instructions an octet. */
static inline void sg_printable_copy(char *dst, const char *src, size_t n) {
  const uint64_t ones = 0x0101010101010101ull, highs = 0x8080808080808080ull;
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    uint64_t w;
    memcpy(&w, src + i, 8);
    /* Any octet below 0x20, any above 0x7E (Bit Twiddling Hacks' hasless
     * and hasmore, exact for whether there is one). */
    uint64_t below = (w - ones * 0x20) & ~w & highs;
    uint64_t above = ((w + ones * (127 - 0x7E)) | w) & highs;
    if ((below | above) != 0)
      break;
    memcpy(dst + i, &w, 8);
  }
  for (; i < n; i++) {
    unsigned char c = (unsigned char)src[i];
    dst[i] = c >= 0x20 && c < 0x7F ? (char)c : ' ';
  }
}

/* v in decimal into out (at least 21 octets), terminated, as
 * snprintf("%lld") writes it, without the format interpreter (about 600
 * instructions a call). Returns the octets written before the NUL. */
static inline size_t sg_fmt_i64(char *out, int64_t v) {
  char d[20];
  size_t k = 0, n = 0;
  uint64_t u = v < 0 ? 0 - (uint64_t)v : (uint64_t)v;
  do
    d[k++] = (char)('0' + u % 10);
  while ((u /= 10) != 0);
  if (v < 0)
    out[n++] = '-';
  while (k > 0)
    out[n++] = d[--k];
  out[n] = '\0';
  return n;
}

#endif
