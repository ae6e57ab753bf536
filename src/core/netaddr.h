/* netaddr.h - which IP addresses an outbound connection of smsgate may reach.
 *
 * Webhooks and HTTP upstreams connect to URLs that users supply. Without a
 * check, a callback URL such as http://169.254.169.254/ (a cloud metadata
 * service), http://127.1:8080/ or http://[::ffff:10.0.0.1]/ would let any API
 * user make the gateway talk to its own host or private network (server-side
 * request forgery). The check is made on the resolved address that is about
 * to be connected to, never on the host name in the URL, so that every
 * spelling of an address and a DNS answer that changes between two look-ups
 * are judged alike.
 *
 * Only globally routable unicast is public: IPv4 outside the special-purpose
 * ranges of the IANA IPv4 Special-Purpose Address Registry (RFC 6890 and its
 * updates) and IPv6 inside 2000::/3 outside its special-purpose ranges.
 * IPv6 forms that carry an IPv4 address (IPv4-mapped ::ffff:0:0/96, RFC 4291
 * section 2.5.5.2; NAT64 64:ff9b::/96, RFC 6052; 6to4 2002::/16, RFC 3056)
 * are judged by the IPv4 address they carry.
 */
#ifndef SG_CORE_NETADDR_H
#define SG_CORE_NETADDR_H

#include <stdbool.h>
#include <sys/socket.h>

typedef enum sg_net_addr_class {
  SG_NET_ADDR_PUBLIC = 0,      /* globally routable unicast */
  SG_NET_ADDR_UNSPECIFIED = 1, /* 0.0.0.0/8 ("this network"), :: */
  SG_NET_ADDR_LOOPBACK = 2,    /* 127.0.0.0/8, ::1 */
  SG_NET_ADDR_PRIVATE = 3, /* RFC 1918, fc00::/7 (RFC 4193), 64:ff9b:1::/48 */
  SG_NET_ADDR_SHARED = 4,  /* 100.64.0.0/10, carrier-grade NAT (RFC 6598) */
  SG_NET_ADDR_LINK_LOCAL = 5, /* 169.254.0.0/16 (cloud metadata), fe80::/10 */
  SG_NET_ADDR_MULTICAST = 6,  /* 224.0.0.0/4, ff00::/8 */
  SG_NET_ADDR_RESERVED = 7,   /* documentation, benchmarking, protocol
                                 assignments, 240.0.0.0/4 and broadcast,
                                 site-local fec0::/10, IPv4-compatible ::/96,
                                 Teredo, everything outside 2000::/3 */
  SG_NET_ADDR_UNSUPPORTED = 8 /* not AF_INET or AF_INET6, or NULL */
} sg_net_addr_class_t;

/* Classifies the address of `sa` (an AF_INET sockaddr_in or AF_INET6
 * sockaddr_in6; the port and, for IPv6, the scope id are ignored). Pure:
 * no I/O, no allocation, safe from any thread. */
sg_net_addr_class_t sg_net_addr_classify(const struct sockaddr *sa);

/* True unless `sa` is a public address (SG_NET_ADDR_PUBLIC): the addresses
 * an outbound connection to a user-supplied URL must refuse unless the
 * configuration allows private destinations. NULL and unknown families are
 * "private" (refused). */
bool sg_net_addr_is_private(const struct sockaddr *sa);

/* A static lower-case name for a class ("public", "loopback", ...), for
 * logs and error messages; "unknown" for a value outside the enum. */
const char *sg_net_addr_class_name(sg_net_addr_class_t c);

#endif
