/* wire.h - big-endian integer access for the SMPP codec (section 3.1: all
 * integers are sent most significant octet first). Internal to src/smpp. */
#ifndef SG_SMPP_WIRE_H
#define SG_SMPP_WIRE_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

static inline uint16_t sg__smpp_rd16(const uint8_t *p) {
  return (uint16_t)((p[0] << 8) | p[1]);
}

static inline uint32_t sg__smpp_rd32(const uint8_t *p) {
  return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) |
         ((uint32_t)p[2] << 8) | (uint32_t)p[3];
}

static inline void sg__smpp_wr16(uint8_t *p, uint16_t v) {
  p[0] = (uint8_t)(v >> 8);
  p[1] = (uint8_t)v;
}

static inline void sg__smpp_wr32(uint8_t *p, uint32_t v) {
  p[0] = (uint8_t)(v >> 24);
  p[1] = (uint8_t)(v >> 16);
  p[2] = (uint8_t)(v >> 8);
  p[3] = (uint8_t)v;
}

/* Copies n octets (n is at most a few hundred). Written out because
 * compilers turn a memcpy whose size they know to be small into
 * "rep movs", which costs more than the copy for short fields. */
static inline void sg__smpp_copy(uint8_t *d, const uint8_t *s, size_t n) {
  while (n >= 8) {
    memcpy(d, s, 8);
    d += 8;
    s += 8;
    n -= 8;
  }
  while (n > 0) {
    *d++ = *s++;
    n--;
  }
}

/* Copies a C-Octet String of at most `lim` octets including its NUL from s
 * to d while looking for the NUL; returns the length without the NUL, or
 * lim when there is no NUL among the first lim octets (d then holds them). */
static inline size_t sg__smpp_copy_cstr(uint8_t *d, const uint8_t *s,
                                        size_t lim) {
  for (size_t n = 0; n < lim; n++) {
    uint8_t ch = s[n];
    d[n] = ch;
    if (ch == 0)
      return n;
  }
  return lim;
}

#endif
