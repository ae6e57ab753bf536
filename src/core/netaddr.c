/* netaddr.c - classifies IP addresses as public or not, for the SSRF check
 * of every outbound connection to a user-supplied URL.
 *
 * The special-purpose ranges are two tables of (prefix, length, class),
 * walked by prefix matchers; an IPv6 address that carries an IPv4 one is
 * judged by the IPv4 address. The module is pure: it must never resolve a
 * name, do I/O or allocate, because it runs inside libcurl's open-socket
 * callback on the event loop.
 */
#include "core/netaddr.h"

#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* IANA IPv4 Special-Purpose Address Registry (RFC 6890 section 2.2.2 and
 * later updates), as host-order prefixes. The first match wins. */
typedef struct prefix4 {
  uint32_t addr;
  unsigned len;
  sg_net_addr_class_t cls;
} prefix4_t;

static const prefix4_t v4_special[] = {
    {0x00000000, 8, SG_NET_ADDR_UNSPECIFIED}, /* 0/8, RFC 1122 3.2.1.3 */
    {0x0A000000, 8, SG_NET_ADDR_PRIVATE},     /* 10/8, RFC 1918 */
    {0x64400000, 10, SG_NET_ADDR_SHARED},     /* 100.64/10, RFC 6598 */
    {0x7F000000, 8, SG_NET_ADDR_LOOPBACK},    /* 127/8, RFC 1122 */
    {0xA9FE0000, 16, SG_NET_ADDR_LINK_LOCAL}, /* 169.254/16, RFC 3927 */
    {0xAC100000, 12, SG_NET_ADDR_PRIVATE},    /* 172.16/12, RFC 1918 */
    {0xC0000000, 24, SG_NET_ADDR_RESERVED},   /* 192.0.0/24, RFC 6890 */
    {0xC0000200, 24, SG_NET_ADDR_RESERVED},   /* 192.0.2/24, RFC 5737 */
    {0xC01FC400, 24, SG_NET_ADDR_RESERVED},   /* 192.31.196/24, RFC 7535 */
    {0xC034C100, 24, SG_NET_ADDR_RESERVED},   /* 192.52.193/24, RFC 7450 */
    {0xC0586300, 24, SG_NET_ADDR_RESERVED},   /* 192.88.99/24, RFC 7526 */
    {0xC0A80000, 16, SG_NET_ADDR_PRIVATE},    /* 192.168/16, RFC 1918 */
    {0xC0AF3000, 24, SG_NET_ADDR_RESERVED},   /* 192.175.48/24, RFC 7534 */
    {0xC6120000, 15, SG_NET_ADDR_RESERVED},   /* 198.18/15, RFC 2544 */
    {0xC6336400, 24, SG_NET_ADDR_RESERVED},   /* 198.51.100/24, RFC 5737 */
    {0xCB007100, 24, SG_NET_ADDR_RESERVED},   /* 203.0.113/24, RFC 5737 */
    {0xE0000000, 4, SG_NET_ADDR_MULTICAST},   /* 224/4, RFC 5771 */
    {0xF0000000, 4, SG_NET_ADDR_RESERVED},    /* 240/4, RFC 1112; and
                                                 255.255.255.255 */
};

typedef struct prefix {
  uint8_t addr[16]; /* network byte order */
  unsigned len;     /* prefix length in bits */
  sg_net_addr_class_t cls;
} prefix_t;

/* IANA IPv6 Special-Purpose Address Registry (RFC 6890 section 2.2.3 and
 * later updates), for the parts that do not carry an IPv4 address; those
 * (::ffff:0:0/96, 64:ff9b::/96, 2002::/16) are handled before this table.
 * Anything outside 2000::/3 that is not listed is reserved as well. */
static const prefix_t v6_special[] = {
    {{0}, 128, SG_NET_ADDR_UNSPECIFIED}, /* :: */
    {{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1},
     128,
     SG_NET_ADDR_LOOPBACK},          /* ::1 */
    {{0}, 96, SG_NET_ADDR_RESERVED}, /* IPv4-compatible, RFC 4291 2.5.5.1 */
    {{0x00, 0x64, 0xff, 0x9b, 0x00, 0x01}, 48, SG_NET_ADDR_PRIVATE}, /* 8215 */
    {{0x01, 0x00}, 64, SG_NET_ADDR_RESERVED},             /* RFC 6666 discard */
    {{0x20, 0x01, 0x0d, 0xb8}, 32, SG_NET_ADDR_RESERVED}, /* RFC 3849 doc */
    {{0x20, 0x01, 0x00, 0x00}, 23, SG_NET_ADDR_RESERVED}, /* RFC 2928, Teredo */
    {{0x3f, 0xff, 0x00}, 20, SG_NET_ADDR_RESERVED},       /* RFC 9637 doc */
    {{0xfc}, 7, SG_NET_ADDR_PRIVATE},                     /* RFC 4193 ULA */
    {{0xfe, 0x80}, 10, SG_NET_ADDR_LINK_LOCAL},           /* RFC 4291 2.5.6 */
    {{0xfe, 0xc0}, 10, SG_NET_ADDR_RESERVED}, /* RFC 3879 site-local */
    {{0xff}, 8, SG_NET_ADDR_MULTICAST},       /* RFC 4291 2.7 */
};

static const uint8_t v4_mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
static const uint8_t nat64_wkp[12] = {0x00, 0x64, 0xff, 0x9b};

/* True when the first `bits` bits of a and b are equal. */
static bool prefix_equal(const uint8_t *a, const uint8_t *b, unsigned bits) {
  unsigned whole = bits / 8, rest = bits % 8;
  if (memcmp(a, b, whole) != 0)
    return false;
  if (rest == 0)
    return true;
  uint8_t mask = (uint8_t)(0xFFu << (8 - rest));
  return (a[whole] & mask) == (b[whole] & mask);
}

static sg_net_addr_class_t classify_v4(const uint8_t b[4]) {
  uint32_t a =
      (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
  for (size_t i = 0; i < sizeof v4_special / sizeof v4_special[0]; i++) {
    uint32_t mask = 0xFFFFFFFFu << (32 - v4_special[i].len);
    if ((a & mask) == v4_special[i].addr)
      return v4_special[i].cls;
  }
  return SG_NET_ADDR_PUBLIC;
}

static sg_net_addr_class_t classify_v6(const uint8_t a[16]) {
  /* Forms that carry an IPv4 address are as public as that address. */
  if (memcmp(a, v4_mapped, 12) == 0 || memcmp(a, nat64_wkp, 12) == 0)
    return classify_v4(a + 12);
  if (a[0] == 0x20 && a[1] == 0x02) /* 6to4: 2002:AABB:CCDD::/48 */
    return classify_v4(a + 2);
  for (size_t i = 0; i < sizeof v6_special / sizeof v6_special[0]; i++)
    if (prefix_equal(a, v6_special[i].addr, v6_special[i].len))
      return v6_special[i].cls;
  if ((a[0] & 0xE0) != 0x20)
    return SG_NET_ADDR_RESERVED; /* outside global unicast 2000::/3 */
  return SG_NET_ADDR_PUBLIC;
}

sg_net_addr_class_t sg_net_addr_classify(const struct sockaddr *sa) {
  if (sa == NULL)
    return SG_NET_ADDR_UNSUPPORTED;
  if (sa->sa_family == AF_INET) {
    const struct sockaddr_in *in = (const struct sockaddr_in *)(const void *)sa;
    uint8_t a[4];
    memcpy(a, &in->sin_addr.s_addr, 4); /* network byte order */
    return classify_v4(a);
  }
  if (sa->sa_family == AF_INET6) {
    const struct sockaddr_in6 *in6 =
        (const struct sockaddr_in6 *)(const void *)sa;
    return classify_v6(in6->sin6_addr.s6_addr);
  }
  return SG_NET_ADDR_UNSUPPORTED;
}

bool sg_net_addr_is_private(const struct sockaddr *sa) {
  return sg_net_addr_classify(sa) != SG_NET_ADDR_PUBLIC;
}

const char *sg_net_addr_class_name(sg_net_addr_class_t c) {
  static const char *const names[] = {
      "public",     "unspecified", "loopback", "private",    "shared",
      "link-local", "multicast",   "reserved", "unsupported"};
  if ((unsigned)c >= sizeof names / sizeof names[0])
    return "unknown";
  return names[c];
}
