/* Tests for the IP address classifier of the SSRF check: every
 * special-purpose range at and just beyond its edges, IPv6 forms that carry
 * IPv4 addresses, every spelling of loopback that the resolver accepts, and
 * an exhaustive sweep of the IPv4 space (one address per /24, all of them
 * IPv4-mapped too) against an independent oracle written as numeric
 * ranges. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sys/un.h>

#include "core/netaddr.h"

typedef struct vec {
  const char *addr;
  sg_net_addr_class_t cls;
} vec_t;

#define PUB SG_NET_ADDR_PUBLIC
#define UNS SG_NET_ADDR_UNSPECIFIED
#define LO SG_NET_ADDR_LOOPBACK
#define PRIV SG_NET_ADDR_PRIVATE
#define SHR SG_NET_ADDR_SHARED
#define LL SG_NET_ADDR_LINK_LOCAL
#define MC SG_NET_ADDR_MULTICAST
#define RES SG_NET_ADDR_RESERVED

static const vec_t v4_vectors[] = {
    {"0.0.0.0", UNS},          {"0.255.255.255", UNS},
    {"1.0.0.0", PUB},          {"1.1.1.1", PUB},
    {"8.8.8.8", PUB},          {"9.255.255.255", PUB},
    {"10.0.0.0", PRIV},        {"10.255.255.255", PRIV},
    {"11.0.0.0", PUB},         {"100.63.255.255", PUB},
    {"100.64.0.0", SHR},       {"100.127.255.255", SHR},
    {"100.128.0.0", PUB},      {"126.255.255.255", PUB},
    {"127.0.0.0", LO},         {"127.0.0.1", LO},
    {"127.255.255.254", LO},   {"128.0.0.0", PUB},
    {"169.253.255.255", PUB},  {"169.254.0.0", LL},
    {"169.254.169.254", LL},   {"169.254.255.255", LL},
    {"169.255.0.0", PUB},      {"172.15.255.255", PUB},
    {"172.16.0.0", PRIV},      {"172.31.255.255", PRIV},
    {"172.32.0.0", PUB},       {"191.255.255.255", PUB},
    {"192.0.0.0", RES},        {"192.0.0.255", RES},
    {"192.0.1.0", PUB},        {"192.0.2.0", RES},
    {"192.0.2.255", RES},      {"192.0.3.0", PUB},
    {"192.31.196.1", RES},     {"192.52.193.1", RES},
    {"192.88.98.255", PUB},    {"192.88.99.1", RES},
    {"192.88.100.0", PUB},     {"192.167.255.255", PUB},
    {"192.168.0.0", PRIV},     {"192.168.1.1", PRIV},
    {"192.168.255.255", PRIV}, {"192.169.0.0", PUB},
    {"192.175.48.1", RES},     {"198.17.255.255", PUB},
    {"198.18.0.0", RES},       {"198.19.255.255", RES},
    {"198.20.0.0", PUB},       {"198.51.99.255", PUB},
    {"198.51.100.0", RES},     {"198.51.100.255", RES},
    {"198.51.101.0", PUB},     {"203.0.112.255", PUB},
    {"203.0.113.0", RES},      {"203.0.113.255", RES},
    {"203.0.114.0", PUB},      {"223.255.255.255", PUB},
    {"224.0.0.0", MC},         {"224.0.0.1", MC},
    {"239.255.255.255", MC},   {"240.0.0.0", RES},
    {"255.255.255.254", RES},  {"255.255.255.255", RES},
};

static const vec_t v6_vectors[] = {
    {"::", UNS},
    {"::1", LO},
    {"0:0:0:0:0:0:0:1", LO},
    {"::2", RES},         /* IPv4-compatible */
    {"::127.0.0.1", RES}, /* IPv4-compatible, not routed to IPv4 */
    {"::8.8.8.8", RES},
    {"::ffff:127.0.0.1", LO}, /* IPv4-mapped */
    {"::ffff:7f00:1", LO},
    {"::ffff:0.0.0.0", UNS},
    {"::ffff:10.1.2.3", PRIV},
    {"::ffff:169.254.169.254", LL},
    {"::ffff:100.64.0.1", SHR},
    {"::ffff:224.0.0.1", MC},
    {"::ffff:8.8.8.8", PUB},
    {"::fffe:8.8.8.8", RES},     /* next to mapped: outside 2000::/3 */
    {"::ffff:0:8.8.8.8", RES},   /* SIIT translated: not public */
    {"64:ff9b::10.0.0.1", PRIV}, /* NAT64 well-known prefix */
    {"64:ff9b::127.0.0.1", LO},
    {"64:ff9b::8.8.8.8", PUB},
    {"64:ff9b:1::1", PRIV}, /* NAT64 local-use */
    {"100::1", RES},        /* discard-only */
    {"100::ffff:ffff:ffff:ffff", RES},
    {"1fff:ffff::1", RES}, /* below 2000::/3 */
    {"2000::1", PUB},
    {"2001::1", RES},          /* Teredo */
    {"2001:1ff:ffff::1", RES}, /* end of 2001::/23 */
    {"2001:200::1", PUB},      /* just after it */
    {"2001:db8::1", RES},      /* documentation */
    {"2001:db8:ffff:ffff::1", RES},
    {"2001:db9::1", PUB},
    {"2002:7f00:1::1", LO},     /* 6to4 of 127.0.0.1 */
    {"2002:c0a8:101::1", PRIV}, /* 6to4 of 192.168.1.1 */
    {"2002:a9fe:a9fe::1", LL},  /* 6to4 of 169.254.169.254 */
    {"2002:808:808::1", PUB},   /* 6to4 of 8.8.8.8 */
    {"2606:4700:4700::1111", PUB},
    {"2a00:1450:4001:81b::200e", PUB},
    {"3ffe:ffff::1", PUB},
    {"3fff::1", RES}, /* documentation, RFC 9637 */
    {"3fff:fff::1", RES},
    {"3fff:1000::1", PUB},
    {"4000::1", RES}, /* above 2000::/3 */
    {"5f00::1", RES},
    {"fbff:ffff::1", RES},
    {"fc00::1", PRIV},
    {"fd12:3456:789a::1", PRIV},
    {"fdff:ffff:ffff::1", PRIV},
    {"fe7f:ffff::1", RES},
    {"fe80::1", LL},
    {"febf:ffff::1", LL},
    {"fec0::1", RES},
    {"feff::1", RES},
    {"ff00::1", MC},
    {"ff02::1", MC},
    {"ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", MC},
};

static sg_net_addr_class_t classify_text(const char *text) {
  struct sockaddr_storage ss;
  memset(&ss, 0, sizeof ss);
  struct sockaddr_in *in = (struct sockaddr_in *)&ss;
  struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;
  if (inet_pton(AF_INET, text, &in->sin_addr) == 1) {
    in->sin_family = AF_INET;
    in->sin_port = htons(443);
  } else if (inet_pton(AF_INET6, text, &in6->sin6_addr) == 1) {
    in6->sin6_family = AF_INET6;
    in6->sin6_port = htons(80);
  } else {
    fail_msg("test vector %s does not parse", text);
  }
  return sg_net_addr_classify((struct sockaddr *)&ss);
}

static void check_vectors(const vec_t *v, size_t n) {
  for (size_t i = 0; i < n; i++) {
    sg_net_addr_class_t got = classify_text(v[i].addr);
    if (got != v[i].cls)
      fail_msg("%s: got %s, want %s", v[i].addr, sg_net_addr_class_name(got),
               sg_net_addr_class_name(v[i].cls));
  }
}

static void ipv4_ranges(void **state) {
  (void)state;
  check_vectors(v4_vectors, sizeof v4_vectors / sizeof v4_vectors[0]);
}

static void ipv6_ranges(void **state) {
  (void)state;
  check_vectors(v6_vectors, sizeof v6_vectors / sizeof v6_vectors[0]);
}

/* Every spelling of a loopback or unspecified address that the system
 * resolver (which libcurl uses) turns into an address, including the
 * inet_aton forms a URL host may use: short forms, hex, octal, a single
 * 32-bit number. */
static void loopback_spellings(void **state) {
  (void)state;
  static const char *const spellings[] = {
      "127.0.0.1",
      "127.1",
      "127.0.1",
      "0x7f.1",
      "0x7f.0.0.1",
      "0177.0.0.1",
      "0177.1",
      "2130706433",
      "0x7f000001",
      "017700000001",
      "127.255.255.255",
      "::1",
      "0::1",
      "0000:0000:0000:0000:0000:0000:0000:0001",
      "::ffff:127.0.0.1",
      "::ffff:7f00:1",
      "0:0:0:0:0:ffff:7f00:0001",
      "::ffff:127.1.2.3",
      "0",
      "0.0.0.0",
      "0x0",
      "::",
      "::ffff:0.0.0.0"};
  for (size_t i = 0; i < sizeof spellings / sizeof spellings[0]; i++) {
    struct addrinfo hints = {0}, *res = NULL;
    hints.ai_flags = AI_NUMERICHOST;
    hints.ai_socktype = SOCK_STREAM;
    int rc = getaddrinfo(spellings[i], "80", &hints, &res);
    if (rc != 0)
      fail_msg("%s does not resolve: %s", spellings[i], gai_strerror(rc));
    for (struct addrinfo *ai = res; ai != NULL; ai = ai->ai_next) {
      sg_net_addr_class_t c = sg_net_addr_classify(ai->ai_addr);
      if (c != LO && c != UNS)
        fail_msg("%s classified %s", spellings[i], sg_net_addr_class_name(c));
      assert_true(sg_net_addr_is_private(ai->ai_addr));
    }
    freeaddrinfo(res);
  }
  /* "localhost" through /etc/hosts, with every address it has. */
  struct addrinfo hints = {0}, *res = NULL;
  hints.ai_socktype = SOCK_STREAM;
  if (getaddrinfo("localhost", "80", &hints, &res) == 0) {
    for (struct addrinfo *ai = res; ai != NULL; ai = ai->ai_next)
      assert_int_equal(sg_net_addr_classify(ai->ai_addr), LO);
    freeaddrinfo(res);
  }
}

/* The oracle: the same registry written as inclusive numeric ranges. */
static sg_net_addr_class_t oracle_v4(uint32_t a) {
  static const struct {
    uint32_t lo, hi;
    sg_net_addr_class_t cls;
  } r[] = {
      {0x00000000, 0x00FFFFFF, UNS}, {0x0A000000, 0x0AFFFFFF, PRIV},
      {0x64400000, 0x647FFFFF, SHR}, {0x7F000000, 0x7FFFFFFF, LO},
      {0xA9FE0000, 0xA9FEFFFF, LL},  {0xAC100000, 0xAC1FFFFF, PRIV},
      {0xC0000000, 0xC00000FF, RES}, {0xC0000200, 0xC00002FF, RES},
      {0xC01FC400, 0xC01FC4FF, RES}, {0xC034C100, 0xC034C1FF, RES},
      {0xC0586300, 0xC05863FF, RES}, {0xC0A80000, 0xC0A8FFFF, PRIV},
      {0xC0AF3000, 0xC0AF30FF, RES}, {0xC6120000, 0xC613FFFF, RES},
      {0xC6336400, 0xC63364FF, RES}, {0xCB007100, 0xCB0071FF, RES},
      {0xE0000000, 0xEFFFFFFF, MC},  {0xF0000000, 0xFFFFFFFF, RES},
  };
  for (size_t i = 0; i < sizeof r / sizeof r[0]; i++)
    if (a >= r[i].lo && a <= r[i].hi)
      return r[i].cls;
  return PUB;
}

/* One address in every /24 (the host octet varies, so the sweep also walks
 * through .0 and .255), and every 16th of them IPv4-mapped too. */
static void ipv4_sweep(void **state) {
  (void)state;
  struct sockaddr_in in;
  struct sockaddr_in6 in6;
  memset(&in, 0, sizeof in);
  memset(&in6, 0, sizeof in6);
  in.sin_family = AF_INET;
  in6.sin6_family = AF_INET6;
  in6.sin6_addr.s6_addr[10] = 0xff;
  in6.sin6_addr.s6_addr[11] = 0xff;
  unsigned mismatches = 0;
  for (uint32_t net = 0; net < (1u << 24); net++) {
    uint32_t a = net << 8 | ((net * 37u) & 0xFF);
    in.sin_addr.s_addr = htonl(a);
    memcpy(&in6.sin6_addr.s6_addr[12], &in.sin_addr.s_addr, 4);
    sg_net_addr_class_t want = oracle_v4(a);
    if (sg_net_addr_classify((struct sockaddr *)&in) != want)
      mismatches++;
    if ((net & 15) == 0 &&
        sg_net_addr_classify((struct sockaddr *)&in6) != want)
      mismatches++;
  }
  assert_int_equal(mismatches, 0);
}

/* Ports and scope ids do not change the verdict. */
static void port_and_scope_ignored(void **state) {
  (void)state;
  struct sockaddr_in6 in6;
  memset(&in6, 0, sizeof in6);
  in6.sin6_family = AF_INET6;
  inet_pton(AF_INET6, "fe80::1", &in6.sin6_addr);
  in6.sin6_scope_id = 2;
  in6.sin6_port = htons(8080);
  assert_int_equal(sg_net_addr_classify((struct sockaddr *)&in6), LL);
  inet_pton(AF_INET6, "2606:4700::1", &in6.sin6_addr);
  assert_false(sg_net_addr_is_private((struct sockaddr *)&in6));
}

static void other_families(void **state) {
  (void)state;
  struct sockaddr_un un;
  memset(&un, 0, sizeof un);
  un.sun_family = AF_UNIX;
  assert_int_equal(sg_net_addr_classify((struct sockaddr *)&un),
                   SG_NET_ADDR_UNSUPPORTED);
  assert_true(sg_net_addr_is_private((struct sockaddr *)&un));
  assert_int_equal(sg_net_addr_classify(NULL), SG_NET_ADDR_UNSUPPORTED);
  assert_true(sg_net_addr_is_private(NULL));
}

static void class_names(void **state) {
  (void)state;
  assert_string_equal(sg_net_addr_class_name(PUB), "public");
  assert_string_equal(sg_net_addr_class_name(LO), "loopback");
  assert_string_equal(sg_net_addr_class_name(LL), "link-local");
  assert_string_equal(sg_net_addr_class_name(SG_NET_ADDR_UNSUPPORTED),
                      "unsupported");
  assert_string_equal(sg_net_addr_class_name((sg_net_addr_class_t)99),
                      "unknown");
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(ipv4_ranges),
      cmocka_unit_test(ipv6_ranges),
      cmocka_unit_test(loopback_spellings),
      cmocka_unit_test(ipv4_sweep),
      cmocka_unit_test(port_and_scope_ignored),
      cmocka_unit_test(other_families),
      cmocka_unit_test(class_names),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
