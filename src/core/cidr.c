/* cidr.c - CIDR blocks: parse and match (core/cidr.h).
 *
 * Parsing leans on inet_pton for the address itself, so every spelling
 * the C library accepts is accepted and nothing else. It must never
 * resolve names or allocate.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>

#include "core/cidr.h"
#include "core/error.h"

static int parse_bits(const char *s, size_t len, unsigned max, unsigned *out) {
  if (len == 0 || len > 3)
    return SG_EINVAL;
  unsigned v = 0;
  for (size_t i = 0; i < len; i++) {
    if (s[i] < '0' || s[i] > '9')
      return SG_EINVAL;
    v = v * 10 + (unsigned)(s[i] - '0');
  }
  if (v > max || (len > 1 && s[0] == '0'))
    return SG_EINVAL;
  *out = v;
  return 0;
}

static bool host_bits_clear(const uint8_t *a, unsigned nbytes, unsigned bits) {
  for (unsigned i = 0; i < nbytes; i++) {
    unsigned keep = bits >= 8 * (i + 1) ? 8 : bits > 8 * i ? bits - 8 * i : 0;
    uint8_t mask = keep == 0 ? 0 : (uint8_t)(0xFF << (8 - keep));
    if ((a[i] & (uint8_t)~mask) != 0)
      return false;
  }
  return true;
}

int sg_cidr_parse(const char *text, size_t len, sg_cidr_t *out) {
  char buf[64];
  if (text == NULL || out == NULL || len == 0 || len >= sizeof buf)
    return SG_EINVAL;
  memcpy(buf, text, len);
  buf[len] = '\0';
  char *slash = strchr(buf, '/');
  if (slash != NULL)
    *slash = '\0';
  memset(out, 0, sizeof *out);
  if (inet_pton(AF_INET, buf, out->addr) == 1)
    out->family = 4;
  else if (inet_pton(AF_INET6, buf, out->addr) == 1)
    out->family = 6;
  else
    return SG_EINVAL;
  unsigned max = out->family == 4 ? 32 : 128, bits = max;
  if (slash != NULL &&
      parse_bits(slash + 1, strlen(slash + 1), max, &bits) != 0)
    return SG_EINVAL;
  if (!host_bits_clear(out->addr, max / 8, bits))
    return SG_EINVAL;
  out->bits = (uint8_t)bits;
  return 0;
}

static bool prefix_eq(const uint8_t *a, const uint8_t *b, unsigned bits) {
  unsigned full = bits / 8, rest = bits % 8;
  if (memcmp(a, b, full) != 0)
    return false;
  if (rest == 0)
    return true;
  uint8_t mask = (uint8_t)(0xFF << (8 - rest));
  return (a[full] & mask) == (b[full] & mask);
}

bool sg_cidr_match(const sg_cidr_t *c, const struct sockaddr *sa) {
  static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF};
  if (c == NULL || sa == NULL)
    return false;
  const uint8_t *a;
  unsigned family;
  if (sa->sa_family == AF_INET) {
    a = (const uint8_t *)&((const struct sockaddr_in *)sa)->sin_addr;
    family = 4;
  } else if (sa->sa_family == AF_INET6) {
    a = ((const struct sockaddr_in6 *)sa)->sin6_addr.s6_addr;
    family = 6;
    if (c->family == 4 && memcmp(a, mapped, 12) == 0) {
      a += 12;
      family = 4;
    }
  } else {
    return false;
  }
  return family == c->family && prefix_eq(a, c->addr, c->bits);
}
