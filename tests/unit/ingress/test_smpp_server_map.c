/* test_smpp_server_map.c - the pure parts of the SMPP server: the table of
 * failed binds per source address, the throughput bucket, the decoding of
 * submitted content (data_coding, UDH, SAR) with its malformed cases, the
 * mapping of engine results to ESME_R* statuses and of message statuses
 * to message_state; and core/cidr.c, which allowed_cidrs rests on. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>

#include "core/cidr.h"
#include "core/error.h"
#include "ingress/smpp_server_int.h"
#include "smpp/pdu.h"

static struct sockaddr_storage v4(const char *ip) {
  struct sockaddr_storage ss;
  memset(&ss, 0, sizeof ss);
  struct sockaddr_in *a = (struct sockaddr_in *)&ss;
  a->sin_family = AF_INET;
  assert_int_equal(inet_pton(AF_INET, ip, &a->sin_addr), 1);
  return ss;
}

static struct sockaddr_storage v6(const char *ip) {
  struct sockaddr_storage ss;
  memset(&ss, 0, sizeof ss);
  struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;
  a->sin6_family = AF_INET6;
  assert_int_equal(inet_pton(AF_INET6, ip, &a->sin6_addr), 1);
  return ss;
}

static bool in(const char *cidr, struct sockaddr_storage ss) {
  sg_cidr_t c;
  assert_int_equal(sg_cidr_parse(cidr, strlen(cidr), &c), 0);
  return sg_cidr_match(&c, (struct sockaddr *)&ss);
}

static void cidr_parse_and_match(void **state) {
  (void)state;
  assert_true(in("10.0.0.0/8", v4("10.200.3.4")));
  assert_false(in("10.0.0.0/8", v4("11.0.0.1")));
  assert_true(in("192.0.2.7", v4("192.0.2.7")));
  assert_false(in("192.0.2.7", v4("192.0.2.8")));
  assert_true(in("0.0.0.0/0", v4("203.0.113.9")));
  assert_true(in("172.16.0.0/12", v4("172.31.255.255")));
  assert_false(in("172.16.0.0/12", v4("172.32.0.0")));
  assert_true(in("2001:db8::/32", v6("2001:db8:1::5")));
  assert_false(in("2001:db8::/32", v6("2001:db9::5")));
  /* An IPv4 peer on a dual-stack socket. */
  assert_true(in("127.0.0.0/8", v6("::ffff:127.0.0.1")));
  assert_false(in("::1/128", v4("127.0.0.1")));
  sg_cidr_t c;
  const char *bad[] = {
      "10.0.0.1/8",   "10.0.0.0/33",    "10.0.0.0/", "10.0.0.0/08",
      "host.example", "2001:db8::/129", "1.2.3.4/x", ""};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
    assert_int_equal(sg_cidr_parse(bad[i], strlen(bad[i]), &c), SG_EINVAL);
}

static void failed_binds_are_counted_per_address(void **state) {
  (void)state;
  static sg__smpps_fail_table_t t;
  memset(&t, 0, sizeof t);
  struct sockaddr_storage a = v4("198.51.100.1"), b = v4("198.51.100.2");
  uint8_t ka[16], kb[16];
  assert_true(sg__smpps_addr_key((struct sockaddr *)&a, ka));
  assert_true(sg__smpps_addr_key((struct sockaddr *)&b, kb));
  for (int i = 0; i < 3; i++) {
    assert_false(sg__smpps_fail_over(&t, ka, 3, 1000));
    sg__smpps_fail_add(&t, ka, 1000 + i);
  }
  assert_true(sg__smpps_fail_over(&t, ka, 3, 2000));
  assert_false(sg__smpps_fail_over(&t, kb, 3, 2000)); /* another address */
  /* The window passes: the address may try again. */
  assert_false(sg__smpps_fail_over(&t, ka, 3, 1000 + SG_SMPPS_FAIL_WINDOW_MS));
  sg__smpps_fail_add(&t, ka, 1000 + SG_SMPPS_FAIL_WINDOW_MS);
  assert_false(sg__smpps_fail_over(&t, ka, 2, 1001 + SG_SMPPS_FAIL_WINDOW_MS));
  /* A flood of addresses stays in the fixed table and the recent
   * offender is still remembered. */
  for (uint32_t i = 0; i < 100000; i++) {
    struct sockaddr_storage x = v4("203.0.113.0");
    ((struct sockaddr_in *)&x)->sin_addr.s_addr = htonl(0x0A000000u + i);
    uint8_t kx[16];
    sg__smpps_addr_key((struct sockaddr *)&x, kx);
    sg__smpps_fail_add(&t, kx, 5000);
  }
  struct sockaddr_storage last = v4("10.1.134.159"); /* 10.0.0.0 + 99999 */
  uint8_t kl[16];
  sg__smpps_addr_key((struct sockaddr *)&last, kl);
  assert_true(sg__smpps_fail_over(&t, kl, 1, 5001));
  struct sockaddr_un_like {
    sa_family_t family;
  } other = {AF_UNIX};
  assert_false(sg__smpps_addr_key((struct sockaddr *)&other, kl));
}

static void bucket_limits_throughput(void **state) {
  (void)state;
  sg__smpps_bucket_t b;
  memset(&b, 0, sizeof b);
  int ok = 0;
  for (int i = 0; i < 20; i++)
    ok += sg__smpps_bucket_take(&b, 10, 1, 1000);
  assert_int_equal(ok, 10); /* one second's burst */
  assert_false(sg__smpps_bucket_take(&b, 10, 1, 1050));
  assert_true(sg__smpps_bucket_take(&b, 10, 1, 1100));  /* 100 ms: 1 token */
  assert_false(sg__smpps_bucket_take(&b, 10, 3, 1200)); /* all or nothing */
  assert_true(sg__smpps_bucket_take(&b, 10, 1, 1200));
  assert_true(sg__smpps_bucket_take(&b, 0, 1000, 1200)); /* no limit */
}

static sg__smpps_content_t ct;

static uint32_t decode(const uint8_t *sm, size_t len, uint8_t dc, uint8_t esm) {
  sg__smpps_sm_t m = {sm, len, dc, esm, 0, 0, 0};
  return sg__smpps_content(&m, &ct);
}

static void content_by_data_coding(void **state) {
  (void)state;
  const uint8_t gsm[] = {'H', 'i', ' ', 0x00, 0x1B, 0x65}; /* "Hi @€" */
  assert_int_equal(decode(gsm, sizeof gsm, 0, 0), SG_SMPP_ESME_ROK);
  assert_false(ct.is_raw);
  assert_int_equal(ct.encoding, SG_ENC_GSM7);
  assert_int_equal(ct.text_len, 7);
  assert_memory_equal(ct.text, "Hi @\xE2\x82\xAC", 7);
  const uint8_t u[] = {0x04, 0x1F, 0xD8, 0x3C, 0xDF, 0x0D}; /* "П🌍" */
  assert_int_equal(decode(u, sizeof u, 8, 0), SG_SMPP_ESME_ROK);
  assert_int_equal(ct.encoding, SG_ENC_UCS2);
  assert_memory_equal(ct.text, "\xD0\x9F\xF0\x9F\x8C\x8D", 6);
  const uint8_t l1[] = {'c', 0xE9};
  assert_int_equal(decode(l1, sizeof l1, 3, 0), SG_SMPP_ESME_ROK);
  assert_memory_equal(ct.text, "c\xC3\xA9", 3);
  const uint8_t bin[] = {0x00, 0xFF, 0x10};
  assert_int_equal(decode(bin, sizeof bin, 4, 0), SG_SMPP_ESME_ROK);
  assert_true(ct.is_binary);
  assert_int_equal(ct.binary_len, 3);
  /* Malformed: septet above 0x7F, unknown data_coding, empty. */
  const uint8_t hi[] = {'a', 0x80};
  assert_int_equal(decode(hi, sizeof hi, 0, 0), SG_SMPP_ESME_RSUBMITFAIL);
  assert_int_equal(decode(gsm, sizeof gsm, 0x05, 0), SG_SMPP_ESME_RSUBMITFAIL);
  assert_int_equal(decode(gsm, 0, 0, 0), SG_SMPP_ESME_RINVMSGLEN);
}

static void content_udh_and_sar(void **state) {
  (void)state;
  const uint8_t p[] = {0x05, 0x00, 0x03, 0x42, 0x02, 0x01, 'a', 'b'};
  assert_int_equal(decode(p, sizeof p, 0, 0x40), SG_SMPP_ESME_ROK);
  assert_true(ct.is_raw);
  assert_int_equal(ct.udh_len, 6);
  assert_memory_equal(ct.udh, p, 6);
  assert_int_equal(ct.ud_len, 2);
  assert_memory_equal(ct.text, "ab", 2);
  /* A UDH as long as the message, or longer. */
  const uint8_t bad[] = {0x05, 0x00, 0x03, 0x42, 0x02, 0x01};
  assert_int_equal(decode(bad, sizeof bad, 0, 0x40), SG_SMPP_ESME_RINVMSGLEN);
  const uint8_t worse[] = {0x20, 0x00};
  assert_int_equal(decode(worse, sizeof worse, 0, 0x40),
                   SG_SMPP_ESME_RINVMSGLEN);
  /* SAR TLVs become a 16-bit concatenation IE. */
  sg__smpps_sm_t m = {(const uint8_t *)"xy", 2, 0, 0, 0x1234, 3, 2};
  assert_int_equal(sg__smpps_content(&m, &ct), SG_SMPP_ESME_ROK);
  const uint8_t want[] = {6, 0x08, 4, 0x12, 0x34, 3, 2};
  assert_int_equal(ct.udh_len, sizeof want);
  assert_memory_equal(ct.udh, want, sizeof want);
  m.sar_seq = 4; /* beyond the total */
  assert_int_equal(sg__smpps_content(&m, &ct), SG_SMPP_ESME_RINVOPTPARAMVAL);
  m.sar_seq = 1;
  m.esm_class = 0x40; /* both a UDH and SAR */
  assert_int_equal(sg__smpps_content(&m, &ct), SG_SMPP_ESME_RINVESMCLASS);
}

static void results_map_to_statuses(void **state) {
  (void)state;
  assert_int_equal(sg__smpps_submit_status(0, NULL, NULL), SG_SMPP_ESME_ROK);
  assert_int_equal(sg__smpps_submit_status(SG_EINVAL, "too_short", "to"),
                   SG_SMPP_ESME_RINVDSTADR);
  assert_int_equal(sg__smpps_submit_status(SG_EINVAL, "no_route", "to"),
                   SG_SMPP_ESME_RINVDSTADR);
  assert_int_equal(
      sg__smpps_submit_status(SG_EINVAL, "sender_not_allowed", "from"),
      SG_SMPP_ESME_RINVSRCADR);
  assert_int_equal(sg__smpps_submit_status(SG_EINVAL, "empty_text", "text"),
                   SG_SMPP_ESME_RINVMSGLEN);
  assert_int_equal(sg__smpps_submit_status(SG_EINVAL, "too_many_parts", "text"),
                   SG_SMPP_ESME_RINVMSGLEN);
  assert_int_equal(sg__smpps_submit_status(SG_EBUSY, "rate_limited", NULL),
                   SG_SMPP_ESME_RTHROTTLED);
  assert_int_equal(sg__smpps_submit_status(SG_EBUSY, "store_busy", NULL),
                   SG_SMPP_ESME_RMSGQFUL);
  assert_int_equal(sg__smpps_submit_status(SG_EBUSY, "quota_exceeded", NULL),
                   SG_SMPP_ESME_RMSGQFUL);
  assert_int_equal(
      sg__smpps_submit_status(SG_ENOFUNDS, "insufficient_balance", NULL),
      SG_SMPP_ESME_RSUBMITFAIL);
  assert_int_equal(
      sg__smpps_submit_status(SG_EINVAL, "destination_not_allowed", "to"),
      SG_SMPP_ESME_RINVDSTADR);
  assert_int_equal(sg__smpps_item_status("destination_not_allowed"),
                   SG_SMPP_ESME_RINVDSTADR);
  assert_int_equal(sg__smpps_submit_status(SG_EIO, "store_failed", NULL),
                   SG_SMPP_ESME_RSYSERR);
  assert_int_equal(sg__smpps_submit_status(SG_ECLOSED, "not_running", NULL),
                   SG_SMPP_ESME_RSYSERR);
  assert_int_equal(sg__smpps_item_status("invalid_country_code"),
                   SG_SMPP_ESME_RINVDSTADR);
  assert_int_equal(sg__smpps_item_status("store_failed"), SG_SMPP_ESME_RSYSERR);
  assert_int_equal(sg__smpps_message_state(SG_MSG_DELIVERED), 2);
  assert_int_equal(sg__smpps_message_state(SG_MSG_EXPIRED), 3);
  assert_int_equal(sg__smpps_message_state(SG_MSG_CANCELED), 4);
  assert_int_equal(sg__smpps_message_state(SG_MSG_UNDELIVERABLE), 5);
  assert_int_equal(sg__smpps_message_state(SG_MSG_FAILED), 5);
  assert_int_equal(sg__smpps_message_state(SG_MSG_REJECTED), 8);
  assert_int_equal(sg__smpps_message_state(SG_MSG_SENT), 1);
  assert_int_equal(sg__smpps_receipt_stat(SG_MSG_DELIVERED),
                   SG_RECEIPT_DELIVRD);
  assert_int_equal(sg__smpps_receipt_stat(SG_MSG_REJECTED), SG_RECEIPT_REJECTD);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(cidr_parse_and_match),
      cmocka_unit_test(failed_binds_are_counted_per_address),
      cmocka_unit_test(bucket_limits_throughput),
      cmocka_unit_test(content_by_data_coding),
      cmocka_unit_test(content_udh_and_sar),
      cmocka_unit_test(results_map_to_statuses),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
