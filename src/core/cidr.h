/* cidr.h - address blocks written as CIDR ("10.0.0.0/8", "2001:db8::/32",
 * or one address, "192.0.2.7"), and whether an address falls in one: the
 * allowed_cidrs of an account's SMPP credentials.
 *
 * Pure: no I/O, no allocation, any thread. IPv4-mapped IPv6 addresses
 * (::ffff:a.b.c.d, RFC 4291 section 2.5.5.2), as a dual-stack socket
 * reports IPv4 peers, are matched as the IPv4 address they carry.
 */
#ifndef SG_CORE_CIDR_H
#define SG_CORE_CIDR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

typedef struct sg_cidr {
  uint8_t family; /* 4 or 6 */
  uint8_t bits;   /* prefix length: 0..32 or 0..128 */
  uint8_t addr[16];
} sg_cidr_t;

/* Parses text[0..len) as an address with an optional "/bits". Host bits
 * set below the prefix are refused ("10.0.0.1/8" is a mistake more often
 * than not). Returns 0 and fills *out, or SG_EINVAL. */
int sg_cidr_parse(const char *text, size_t len, sg_cidr_t *out);

/* Whether the address of sa (AF_INET or AF_INET6) is inside c. */
bool sg_cidr_match(const sg_cidr_t *c, const struct sockaddr *sa);

#endif
