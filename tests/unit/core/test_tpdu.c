/* Tests for the TPDU codec of TS 23.040: golden vectors from published PDU
 * mode examples (each octet checked by hand against 9.2.2), SMS-SUBMIT with
 * a concatenation UDH and its fill bit, UCS-2, alphanumeric addresses, the
 * relative validity table, time stamps with their time zone, and malformed
 * input: every truncation, bad semi-octets, bad lengths, wrong TP-MTI.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "core/error.h"
#include "core/tpdu.h"

static size_t unhex(const char *hex, uint8_t *out, size_t cap) {
  size_t n = 0;
  assert_int_equal(sg_tpdu_hex_decode(hex, strlen(hex), out, cap, &n), 0);
  return n;
}

static void expect_hex(const uint8_t *buf, size_t len, const char *want) {
  char got[2 * SG_TPDU_MAX + 1];
  assert_int_equal(sg_tpdu_hex_encode(buf, len, got, sizeof got - 1), 0);
  got[2 * len] = '\0';
  assert_string_equal(got, want);
}

static void set_septets(uint8_t *ud, size_t *n, const char *ascii) {
  /* Lower-case letters and digits have their ASCII values in GSM 7-bit. */
  *n = strlen(ascii);
  memcpy(ud, ascii, *n);
}

/* "hellohello" to +46708251358, validity 4 days: the classic example of
 * PDU mode, SCA 00 (the modem's SMSC), fo 11 (SMS-SUBMIT, TP-VPF relative),
 * MR 00, DA 0B 91 6407281553F8, PID 00, DCS 00, VP AA, UDL 0A. */
static const char SUBMIT_HELLO[] =
    "0011000B916407281553F80000AA0AE8329BFD4697D9EC37";

static void test_submit_golden(void **state) {
  (void)state;
  sg_tpdu_submit_t s;
  memset(&s, 0, sizeof s);
  s.da.ton = 1;
  s.da.npi = 1;
  strcpy(s.da.addr, "46708251358");
  s.vp_relative = sg_tpdu_vp_relative(4 * 86400);
  assert_int_equal(s.vp_relative, 0xAA);
  set_septets(s.ud, &s.ud_len, "hellohello");
  uint8_t out[SG_TPDU_MAX];
  size_t n = 0, m = 0;
  assert_int_equal(sg_tpdu_encode_sca(NULL, out, sizeof out, &n), 0);
  assert_int_equal(n, 1);
  assert_int_equal(sg_tpdu_encode_submit(&s, out + n, sizeof out - n, &m), 0);
  expect_hex(out, n + m, SUBMIT_HELLO);

  sg_tpdu_submit_t d;
  uint8_t raw[SG_TPDU_MAX];
  size_t len = unhex(SUBMIT_HELLO, raw, sizeof raw), sca = 0;
  assert_int_equal(sg_tpdu_decode_sca(raw, len, NULL, &sca), 0);
  assert_int_equal(sca, 1);
  assert_int_equal(sg_tpdu_decode_submit(raw + 1, len - 1, &d), 0);
  assert_string_equal(d.da.addr, "46708251358");
  assert_int_equal(d.da.ton, 1);
  assert_int_equal(d.vp_relative, 0xAA);
  assert_int_equal(d.ud_len, 10);
  assert_memory_equal(d.ud, "hellohello", 10);
  assert_false(d.srr);
}

/* Concatenated part 1 of 2, reference 0xCC, status report requested, no
 * TP-VP: fo 0x61 (MTI 01, SRR, UDHI). The 6-octet UDH is 48 bits, so one
 * fill bit puts "hi" on a septet boundary: 'h' << 1 = 0xD0, then 'i' in
 * the next octet = 0x69; TP-UDL = 7 septets of UDH + 2 = 9. */
static void test_submit_udh_fill(void **state) {
  (void)state;
  sg_tpdu_submit_t s;
  memset(&s, 0, sizeof s);
  s.srr = true;
  s.mr = 0;
  s.da.ton = 1;
  s.da.npi = 1;
  strcpy(s.da.addr, "46708251358");
  s.vp_relative = -1;
  static const uint8_t udh[] = {0x05, 0x00, 0x03, 0xCC, 0x02, 0x01};
  memcpy(s.udh, udh, sizeof udh);
  s.udh_len = sizeof udh;
  set_septets(s.ud, &s.ud_len, "hi");
  uint8_t out[SG_TPDU_MAX];
  size_t n = 0;
  assert_int_equal(sg_tpdu_encode_submit(&s, out, sizeof out, &n), 0);
  expect_hex(out, n, "61000B916407281553F8000009050003CC0201D069");

  sg_tpdu_submit_t d;
  assert_int_equal(sg_tpdu_decode_submit(out, n, &d), 0);
  assert_true(d.srr);
  assert_int_equal(d.vp_relative, -1);
  assert_int_equal(d.udh_len, 6);
  assert_memory_equal(d.udh, udh, 6);
  assert_int_equal(d.ud_len, 2);
  assert_memory_equal(d.ud, "hi", 2);
}

/* A full GSM part: 153 septets after a 6-octet UDH give TP-UDL 160 and 140
 * octets, the maximum (TS 23.040 9.2.3.16). */
static void test_submit_full_part(void **state) {
  (void)state;
  sg_tpdu_submit_t s;
  memset(&s, 0, sizeof s);
  s.da.ton = 1;
  s.da.npi = 1;
  strcpy(s.da.addr, "4915112345678");
  s.vp_relative = -1;
  static const uint8_t udh[] = {0x05, 0x00, 0x03, 0x01, 0x02, 0x01};
  memcpy(s.udh, udh, sizeof udh);
  s.udh_len = 6;
  memset(s.ud, 'a', 153);
  s.ud_len = 153;
  uint8_t out[SG_TPDU_MAX];
  size_t n = 0;
  assert_int_equal(sg_tpdu_encode_submit(&s, out, sizeof out, &n), 0);
  /* fo, MR, DA (2 + 7), PID, DCS = 13 octets, TP-UDL, then 140 octets. */
  assert_int_equal(n, 13 + 1 + 140);
  assert_int_equal(out[13], 160);
  sg_tpdu_submit_t d;
  assert_int_equal(sg_tpdu_decode_submit(out, n, &d), 0);
  assert_int_equal(d.ud_len, 153);
  /* One septet more does not fit. */
  s.ud_len = 154;
  s.ud[153] = 'a';
  assert_int_equal(sg_tpdu_encode_submit(&s, out, sizeof out, &n), SG_ETOOLONG);
}

/* UCS-2 "Hi" (U+0048 U+0069): DCS 08, TP-UDL counts octets. */
static void test_submit_ucs2(void **state) {
  (void)state;
  sg_tpdu_submit_t s;
  memset(&s, 0, sizeof s);
  s.da.ton = 1;
  s.da.npi = 1;
  strcpy(s.da.addr, "46708251358");
  s.vp_relative = -1;
  s.dcs = sg_tpdu_dcs_for(SG_ENC_UCS2);
  static const uint8_t hi[] = {0x00, 0x48, 0x00, 0x69};
  memcpy(s.ud, hi, 4);
  s.ud_len = 4;
  uint8_t out[SG_TPDU_MAX];
  size_t n = 0;
  assert_int_equal(sg_tpdu_encode_submit(&s, out, sizeof out, &n), 0);
  expect_hex(out, n, "01000B916407281553F800080400480069");
}

/* An SMS-DELIVER from SMSC +27381000015, sender 27838890001 (type C8:
 * subscriber number, national plan), 1999-03-29 15:16:59 at UTC+2 (time
 * zone octet 80: eight quarters), "hellohello"; fo 04 = TP-MMS. */
static const char DELIVER_HELLO[] =
    "07917283010010F5040BC87238880900F10000993092516195800AE8329BFD4697D9EC37";

static void test_deliver_golden(void **state) {
  (void)state;
  uint8_t raw[SG_TPDU_MAX];
  size_t len = unhex(DELIVER_HELLO, raw, sizeof raw), sca_len = 0;
  sg_tpdu_addr_t sca;
  assert_int_equal(sg_tpdu_decode_sca(raw, len, &sca, &sca_len), 0);
  assert_int_equal(sca_len, 8);
  assert_string_equal(sca.addr, "27381000015");
  assert_int_equal(sca.ton, 1);
  assert_int_equal(sca.npi, 1);
  sg_tpdu_deliver_t d;
  assert_int_equal(sg_tpdu_decode_deliver(raw + 8, len - 8, &d), 0);
  assert_true(d.mms);
  assert_string_equal(d.oa.addr, "27838890001");
  assert_int_equal(d.oa.ton, 4);
  assert_int_equal(d.oa.npi, 8);
  assert_int_equal(d.scts.year, 99);
  assert_int_equal(d.scts.month, 3);
  assert_int_equal(d.scts.day, 29);
  assert_int_equal(d.scts.hour, 15);
  assert_int_equal(d.scts.minute, 16);
  assert_int_equal(d.scts.second, 59);
  assert_int_equal(d.scts.tz_quarters, 8);
  assert_int_equal(d.udh_len, 0);
  assert_int_equal(d.ud_len, 10);
  assert_memory_equal(d.ud, "hellohello", 10);

  /* Encoding the decoded fields gives the same octets. */
  uint8_t out[SG_TPDU_MAX];
  size_t n = 0, m = 0;
  assert_int_equal(sg_tpdu_encode_sca(&sca, out, sizeof out, &n), 0);
  assert_int_equal(sg_tpdu_encode_deliver(&d, out + n, sizeof out - n, &m), 0);
  expect_hex(out, n + m, DELIVER_HELLO);
}

/* An alphanumeric sender "AB": septets 0x41, 0x42 packed = 41 21, four
 * useful semi-octets, type D0; a negative time zone (-5 h = 20 quarters:
 * octet 0A, the sign in bit 3); UCS-2 with a 16-bit concatenation UDH. */
static void test_deliver_alnum_ucs2(void **state) {
  (void)state;
  sg_tpdu_deliver_t d;
  memset(&d, 0, sizeof d);
  d.oa.ton = 5;
  strcpy(d.oa.addr, "AB");
  d.dcs = 0x08;
  d.scts = (sg_tpdu_time_t){26, 11, 25, 21, 40, 5, -20};
  static const uint8_t udh[] = {0x06, 0x08, 0x04, 0x12, 0x34, 0x02, 0x02};
  memcpy(d.udh, udh, sizeof udh);
  d.udh_len = sizeof udh;
  static const uint8_t euro[] = {0x20, 0xAC};
  memcpy(d.ud, euro, 2);
  d.ud_len = 2;
  uint8_t out[SG_TPDU_MAX];
  size_t n = 0;
  assert_int_equal(sg_tpdu_encode_deliver(&d, out, sizeof out, &n), 0);
  expect_hex(out, n,
             "4004D041210008621152120450"
             "0A"
             "09060804123402022"
             "0AC");
  sg_tpdu_deliver_t e;
  assert_int_equal(sg_tpdu_decode_deliver(out, n, &e), 0);
  assert_string_equal(e.oa.addr, "AB");
  assert_int_equal(e.oa.ton, 5);
  assert_int_equal(e.scts.tz_quarters, -20);
  assert_int_equal(e.udh_len, 7);
  assert_int_equal(e.ud_len, 2);
  assert_memory_equal(e.ud, euro, 2);
  int64_t ms = 0;
  assert_int_equal(sg_tpdu_time_to_ms(&e.scts, &ms), 0);
  /* 2026-11-25 21:40:05 at UTC-5 is 2026-11-26 02:40:05 UTC. */
  assert_int_equal(ms, 1795660805000LL);
}

/* +CDS: 06000B910221815716F2709021510121807090215101718000 - MR 0 to
 * +20121875612, SCTS 2007-09-12 15:10:12 UTC+2, DT 15:10:17, ST 0 (the
 * message was received by the SME). */
static void test_status_report_golden(void **state) {
  (void)state;
  static const char hex[] =
      "06000B910221815716F2709021510121807090215101718000";
  uint8_t raw[64];
  size_t len = unhex(hex, raw, sizeof raw);
  sg_tpdu_status_report_t r;
  assert_int_equal(sg_tpdu_decode_status_report(raw, len, &r), 0);
  assert_true(r.mms);
  assert_false(r.srq);
  assert_int_equal(r.mr, 0);
  assert_string_equal(r.ra.addr, "20121875612");
  assert_int_equal(r.ra.ton, 1);
  assert_int_equal(r.scts.second, 12);
  assert_int_equal(r.dt.second, 17);
  assert_int_equal(r.dt.tz_quarters, 8);
  assert_int_equal(r.st, 0);
  int64_t ms = 0;
  assert_int_equal(sg_tpdu_time_to_ms(&r.dt, &ms), 0);
  assert_int_equal(ms, 1189602617000LL); /* 2007-09-12 13:10:17 UTC */
  uint8_t out[64];
  size_t n = 0;
  assert_int_equal(sg_tpdu_encode_status_report(&r, out, sizeof out, &n), 0);
  expect_hex(out, n, hex);
}

static void test_vp_relative(void **state) {
  (void)state;
  assert_int_equal(sg_tpdu_vp_seconds(0), 300);
  assert_int_equal(sg_tpdu_vp_seconds(143), 12 * 3600);
  assert_int_equal(sg_tpdu_vp_seconds(144), 12 * 3600 + 1800);
  assert_int_equal(sg_tpdu_vp_seconds(167), 86400);
  assert_int_equal(sg_tpdu_vp_seconds(168), 2 * 86400);
  assert_int_equal(sg_tpdu_vp_seconds(196), 30 * 86400);
  assert_int_equal(sg_tpdu_vp_seconds(197), 5 * 7 * 86400);
  assert_int_equal(sg_tpdu_vp_seconds(255), 63 * 7 * 86400);
  assert_int_equal(sg_tpdu_vp_relative(0), 0);
  assert_int_equal(sg_tpdu_vp_relative(3600), 11);
  assert_int_equal(sg_tpdu_vp_relative(3601), 12);
  assert_int_equal(sg_tpdu_vp_relative(86400), 167);
  assert_int_equal(sg_tpdu_vp_relative(86401), 168);
  assert_int_equal(sg_tpdu_vp_relative(400LL * 7 * 86400), 255);
}

static void test_time(void **state) {
  (void)state;
  sg_tpdu_time_t t;
  assert_int_equal(sg_tpdu_time_from_ms(1189602617000LL, 8, &t), 0);
  assert_int_equal(t.year, 7);
  assert_int_equal(t.hour, 15);
  assert_int_equal(t.second, 17);
  assert_int_equal(sg_tpdu_time_from_ms(0, 0, &t), SG_ERANGE); /* 1970 */
  int64_t ms;
  t = (sg_tpdu_time_t){24, 2, 29, 0, 0, 0, 0};
  assert_int_equal(sg_tpdu_time_to_ms(&t, &ms), 0);
  t.year = 23; /* no 29 February in 2023 */
  assert_int_equal(sg_tpdu_time_to_ms(&t, &ms), SG_EINVAL);
  t = (sg_tpdu_time_t){24, 1, 1, 24, 0, 0, 0};
  assert_int_equal(sg_tpdu_time_to_ms(&t, &ms), SG_EINVAL);
}

/* Every proper prefix of a valid PDU is refused as truncated. */
static void test_truncated(void **state) {
  (void)state;
  uint8_t raw[SG_TPDU_MAX];
  size_t len = unhex(DELIVER_HELLO, raw, sizeof raw);
  sg_tpdu_deliver_t d;
  for (size_t i = 0; i < len - 8; i++)
    assert_int_equal(sg_tpdu_decode_deliver(raw + 8, i, &d), SG_ETRUNC);
  len = unhex(SUBMIT_HELLO, raw, sizeof raw);
  sg_tpdu_submit_t s;
  for (size_t i = 0; i < len - 1; i++)
    assert_int_equal(sg_tpdu_decode_submit(raw + 1, i, &s), SG_ETRUNC);
  len = unhex("06000B910221815716F2709021510121807090215101718000", raw,
              sizeof raw);
  sg_tpdu_status_report_t r;
  for (size_t i = 0; i < len; i++)
    assert_int_equal(sg_tpdu_decode_status_report(raw, i, &r), SG_ETRUNC);
  sg_tpdu_addr_t a;
  size_t c;
  assert_int_equal(sg_tpdu_decode_sca(raw, 0, &a, &c), SG_ETRUNC);
  assert_int_equal(
      sg_tpdu_decode_sca((const uint8_t *)"\x07\x91\x72", 3, &a, &c),
      SG_ETRUNC);
}

static int decode_hex_deliver(const char *hex) {
  uint8_t raw[SG_TPDU_MAX];
  size_t len = unhex(hex, raw, sizeof raw);
  sg_tpdu_deliver_t d;
  return sg_tpdu_decode_deliver(raw, len, &d);
}

static void test_malformed(void **state) {
  (void)state;
  /* The golden DELIVER (without SCA) decodes; each change below breaks it
   * in one field. */
  assert_int_equal(
      decode_hex_deliver(
          "040BC87238880900F10000993092516195800AE8329BFD4697D9EC37"),
      0);
  /* Wrong TP-MTI (SMS-SUBMIT). */
  assert_int_equal(
      decode_hex_deliver(
          "050BC87238880900F10000993092516195800AE8329BFD4697D9EC37"),
      SG_EPROTO);
  /* Address length 21 semi-octets. */
  assert_int_equal(decode_hex_deliver("0415C8723888090011223344556677F1000"
                                      "0993092516195800AE8329BFD4697D9EC37"),
                   SG_EPROTO);
  /* A fill nibble F inside the digits. */
  assert_int_equal(
      decode_hex_deliver(
          "040BC872F8880900F10000993092516195800AE8329BFD4697D9EC37"),
      SG_EPROTO);
  /* No fill nibble where one is due. */
  assert_int_equal(
      decode_hex_deliver(
          "040BC87238880900110000993092516195800AE8329BFD4697D9EC37"),
      SG_EPROTO);
  /* A time stamp digit A. */
  assert_int_equal(
      decode_hex_deliver(
          "040BC87238880900F100009930925161A5800AE8329BFD4697D9EC37"),
      SG_EPROTO);
  /* A time zone whose units digit is A. */
  assert_int_equal(
      decode_hex_deliver(
          "040BC87238880900F10000993092516195A00AE8329BFD4697D9EC37"),
      SG_EPROTO);
  /* GSM TP-UDL 161. */
  assert_int_equal(
      decode_hex_deliver(
          "040BC87238880900F1000099309251619580A1E8329BFD4697D9EC37"),
      SG_EPROTO);
  /* TP-UDHI with a UDHL past the user data (UDL 2 septets = 2 octets). */
  assert_int_equal(
      decode_hex_deliver("440BC87238880900F10000993092516195800205E8"),
      SG_EPROTO);
  /* TP-UDHI, 8-bit, UDHL 5 in a UDL of 5. */
  assert_int_equal(
      decode_hex_deliver("440BC87238880900F100049930925161958005050003010201"),
      SG_EPROTO);
  /* UCS-2 TP-UDL 141. */
  assert_int_equal(decode_hex_deliver("040BC87238880900F100089930925161958"
                                      "08D00"),
                   SG_EPROTO);
  /* SCA longer than 11 octets. */
  uint8_t sca[14] = {12, 0x91};
  size_t c;
  assert_int_equal(sg_tpdu_decode_sca(sca, sizeof sca, NULL, &c), SG_EPROTO);
  /* Hex. */
  uint8_t o[4];
  size_t n;
  assert_int_equal(sg_tpdu_hex_decode("0", 1, o, 4, &n), SG_EILSEQ);
  assert_int_equal(sg_tpdu_hex_decode("0G", 2, o, 4, &n), SG_EILSEQ);
  assert_int_equal(sg_tpdu_hex_decode("0011223344", 10, o, 4, &n), SG_ENOSPC);
}

static void test_encode_errors(void **state) {
  (void)state;
  sg_tpdu_submit_t s;
  memset(&s, 0, sizeof s);
  s.vp_relative = -1;
  s.da.ton = 1;
  strcpy(s.da.addr, "12x4");
  uint8_t out[SG_TPDU_MAX];
  size_t n;
  assert_int_equal(sg_tpdu_encode_submit(&s, out, sizeof out, &n), SG_EINVAL);
  strcpy(s.da.addr, "123456789012345678901"); /* 21 digits */
  assert_int_equal(sg_tpdu_encode_submit(&s, out, sizeof out, &n), SG_EINVAL);
  s.da.ton = 5;
  strcpy(s.da.addr, "TwelveChars!"); /* 12 characters */
  assert_int_equal(sg_tpdu_encode_submit(&s, out, sizeof out, &n), SG_EINVAL);
  strcpy(s.da.addr, "Shop");
  s.ud[0] = 0x80; /* not a septet */
  s.ud_len = 1;
  assert_int_equal(sg_tpdu_encode_submit(&s, out, sizeof out, &n), SG_EINVAL);
  s.ud[0] = 'a';
  s.udh[0] = 4; /* UDHL 4 in a 6-octet UDH */
  s.udh_len = 6;
  assert_int_equal(sg_tpdu_encode_submit(&s, out, sizeof out, &n), SG_EINVAL);
  s.udh_len = 0;
  assert_int_equal(sg_tpdu_encode_submit(&s, out, 10, &n), SG_ENOSPC);
  s.dcs = 0x04;
  s.ud_len = 141;
  assert_int_equal(sg_tpdu_encode_submit(&s, out, sizeof out, &n), SG_ETOOLONG);
  sg_tpdu_addr_t sca = {1, 1, "4917"};
  assert_int_equal(sg_tpdu_encode_sca(&sca, out, sizeof out, &n), 0);
  expect_hex(out, n, "03919471");
  sca.ton = 5;
  assert_int_equal(sg_tpdu_encode_sca(&sca, out, sizeof out, &n), SG_EINVAL);
}

static void test_dcs(void **state) {
  (void)state;
  assert_int_equal(sg_tpdu_dcs_encoding(0x00), SG_ENC_GSM7);
  assert_int_equal(sg_tpdu_dcs_encoding(0x04), SG_ENC_8BIT);
  assert_int_equal(sg_tpdu_dcs_encoding(0x08), SG_ENC_UCS2);
  assert_int_equal(sg_tpdu_dcs_encoding(0x10), SG_ENC_GSM7); /* class 0 */
  assert_int_equal(sg_tpdu_dcs_encoding(0x18), SG_ENC_UCS2);
  assert_int_equal(sg_tpdu_dcs_encoding(0x20), SG_ENC_8BIT); /* compressed */
  assert_int_equal(sg_tpdu_dcs_encoding(0x0C), SG_ENC_GSM7); /* reserved */
  assert_int_equal(sg_tpdu_dcs_encoding(0xC0), SG_ENC_GSM7);
  assert_int_equal(sg_tpdu_dcs_encoding(0xE0), SG_ENC_UCS2);
  assert_int_equal(sg_tpdu_dcs_encoding(0xF0), SG_ENC_GSM7);
  assert_int_equal(sg_tpdu_dcs_encoding(0xF4), SG_ENC_8BIT);
  assert_int_equal(sg_tpdu_dcs_for(SG_ENC_GSM7), 0x00);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_submit_golden),
      cmocka_unit_test(test_submit_udh_fill),
      cmocka_unit_test(test_submit_full_part),
      cmocka_unit_test(test_submit_ucs2),
      cmocka_unit_test(test_deliver_golden),
      cmocka_unit_test(test_deliver_alnum_ucs2),
      cmocka_unit_test(test_status_report_golden),
      cmocka_unit_test(test_vp_relative),
      cmocka_unit_test(test_time),
      cmocka_unit_test(test_truncated),
      cmocka_unit_test(test_malformed),
      cmocka_unit_test(test_encode_errors),
      cmocka_unit_test(test_dcs),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
