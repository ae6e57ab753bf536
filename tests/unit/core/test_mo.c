/* Tests for core/mo.h: UDH concatenation and national-table IEs (8- and
 * 16-bit references, malformed and ignored IEs), data_coding groups, the
 * joining of parts in any order with duplicates and missing parts, UCS-2
 * surrogate pairs split across parts, national tables via the UDH, and the
 * keyword of a text (case folding of Latin and Cyrillic). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/error.h"
#include "core/gsm7.h"
#include "core/mo.h"
#include "core/segment.h"

static void udh_8bit(void **state) {
  (void)state;
  const uint8_t udh[] = {0x05, 0x00, 0x03, 0xA7, 0x03, 0x02};
  sg_mo_udh_info_t u;
  assert_int_equal(sg_mo_parse_udh(udh, sizeof udh, &u), 0);
  assert_true(u.concat);
  assert_false(u.ref16);
  assert_int_equal(u.ref, 0xA7);
  assert_int_equal(u.total, 3);
  assert_int_equal(u.seq, 2);
}

static void udh_16bit_and_national(void **state) {
  (void)state;
  /* 16-bit reference 0x1234, 2 of 4, then Turkish single and locking. */
  const uint8_t udh[] = {0x0C, 0x08, 0x04, 0x12, 0x34, 0x04, 0x02,
                         0x24, 0x01, 0x01, 0x25, 0x01, 0x01};
  sg_mo_udh_info_t u;
  assert_int_equal(sg_mo_parse_udh(udh, sizeof udh, &u), 0);
  assert_true(u.concat);
  assert_true(u.ref16);
  assert_int_equal(u.ref, 0x1234);
  assert_int_equal(u.total, 4);
  assert_int_equal(u.seq, 2);
  assert_int_equal(u.lang_single, 1);
  assert_int_equal(u.lang_locking, 1);
}

static void udh_malformed(void **state) {
  (void)state;
  sg_mo_udh_info_t u;
  const uint8_t past_end[] = {0x07, 0x00, 0x03, 0x01};         /* UDHL > len */
  const uint8_t ie_overrun[] = {0x04, 0x00, 0x03, 0x01, 0x02}; /* IEL 3 > 2 */
  const uint8_t lone_iei[] = {0x01, 0x00};
  assert_int_equal(sg_mo_parse_udh(past_end, sizeof past_end, &u), SG_EPROTO);
  assert_int_equal(sg_mo_parse_udh(ie_overrun, sizeof ie_overrun, &u),
                   SG_EPROTO);
  assert_int_equal(sg_mo_parse_udh(lone_iei, sizeof lone_iei, &u), SG_EPROTO);
  /* 9.2.3.24.1: seq 0, total 0 or seq > total: the IE is ignored. */
  const uint8_t seq0[] = {0x05, 0x00, 0x03, 0x01, 0x02, 0x00};
  const uint8_t tot0[] = {0x05, 0x00, 0x03, 0x01, 0x00, 0x01};
  const uint8_t over[] = {0x05, 0x00, 0x03, 0x01, 0x02, 0x03};
  assert_int_equal(sg_mo_parse_udh(seq0, sizeof seq0, &u), 0);
  assert_false(u.concat);
  assert_int_equal(sg_mo_parse_udh(tot0, sizeof tot0, &u), 0);
  assert_false(u.concat);
  assert_int_equal(sg_mo_parse_udh(over, sizeof over, &u), 0);
  assert_false(u.concat);
  /* Unknown IEs are skipped; an 0x00 IE of the wrong length too. */
  const uint8_t other[] = {0x07, 0x0A, 0x01, 0xFF, 0x00, 0x02, 0x01, 0x02};
  assert_int_equal(sg_mo_parse_udh(other, sizeof other, &u), 0);
  assert_false(u.concat);
  assert_int_equal(sg_mo_parse_udh(NULL, 0, &u), 0);
  assert_false(u.concat);
}

static void codings(void **state) {
  (void)state;
  bool bin;
  assert_int_equal(sg_mo_coding(0x00, &bin), SG_ENC_GSM7);
  assert_false(bin);
  assert_int_equal(sg_mo_coding(0x08, &bin), SG_ENC_UCS2);
  assert_false(bin);
  assert_int_equal(sg_mo_coding(0x03, &bin), SG_ENC_8BIT);
  assert_false(bin);
  assert_int_equal(sg_mo_coding(0x04, &bin), SG_ENC_8BIT);
  assert_true(bin);
  assert_int_equal(sg_mo_coding(0xF0, &bin), SG_ENC_GSM7); /* class 0 */
  assert_false(bin);
  assert_int_equal(sg_mo_coding(0xF6, &bin), SG_ENC_8BIT);
  assert_true(bin);
  assert_int_equal(sg_mo_coding(0x18, &bin), SG_ENC_UCS2); /* class, UCS2 */
  assert_false(bin);
  assert_int_equal(sg_mo_coding(0x28, &bin), SG_ENC_8BIT); /* compressed */
  assert_true(bin);
}

static void decode_latin1_and_ia5(void **state) {
  (void)state;
  const uint8_t l1[] = {'c', 'a', 'f', 0xE9};
  uint32_t cps[8];
  size_t n;
  assert_int_equal(sg_mo_decode(0x03, NULL, l1, sizeof l1, cps, 8, &n), 0);
  assert_int_equal(n, 4);
  assert_int_equal(cps[3], 0xE9);
  assert_int_equal(sg_mo_decode(0x01, NULL, l1, sizeof l1, cps, 8, &n),
                   SG_EILSEQ);
  assert_int_equal(sg_mo_decode(0x04, NULL, l1, sizeof l1, cps, 8, &n),
                   SG_ENOTSUP);
}

/* Splits text with core/segment.h, as a handset would send it. */
static sg_segments_t *split(const char *text, sg_encoding_t enc, bool national,
                            bool ref16, uint16_t ref) {
  sg_segments_t *s = malloc(sizeof *s);
  assert_non_null(s);
  sg_seg_opts_t o = {.encoding = enc,
                     .national = national,
                     .ref16 = ref16,
                     .ref = ref,
                     .max_parts = 20};
  assert_int_equal(
      sg_segment_text((const uint8_t *)text, strlen(text), &o, s, NULL), 0);
  return s;
}

static uint8_t dcs_of(const sg_segments_t *s) {
  return s->encoding == SG_ENC_UCS2 ? 0x08 : 0x00;
}

/* Joins the parts of s in the order given by idx (1-based, may repeat). */
static sg_mo_joined_t join_order(const sg_segments_t *s, const unsigned *idx,
                                 size_t n, char *out, size_t cap) {
  sg_mo_part_t p[32];
  for (size_t i = 0; i < n; i++) {
    const sg_seg_part_t *q = &s->parts[idx[i] - 1];
    sg_mo_udh_info_t u;
    assert_int_equal(sg_mo_parse_udh(q->udh, q->udh_len, &u), 0);
    assert_true(u.concat || s->nparts == 1);
    p[i] = (sg_mo_part_t){.seq = u.concat ? u.seq : 1,
                          .data_coding = dcs_of(s),
                          .udh = q->udh,
                          .udh_len = q->udh_len,
                          .ud = q->ud,
                          .ud_len = q->ud_len};
  }
  sg_mo_joined_t r;
  assert_int_equal(sg_mo_join(p, n, s->nparts, (uint8_t *)out, cap - 1, &r), 0);
  out[r.len] = '\0';
  return r;
}

static const char long_latin[] =
    "The quick brown fox jumps over the lazy dog; then it runs back, jumps "
    "again and again until the dog wakes up, barks twice and chases it out "
    "of the yard, across the road and into the forest, where it hides.";

static void join_orders_and_duplicates(void **state) {
  (void)state;
  sg_segments_t *s = split(long_latin, SG_ENC_GSM7, false, false, 0x42);
  assert_int_equal(s->nparts, 2);
  char out[2048];
  const unsigned fwd[] = {1, 2}, rev[] = {2, 1}, dup[] = {2, 1, 2, 1};
  sg_mo_joined_t r = join_order(s, fwd, 2, out, sizeof out);
  assert_true(r.complete);
  assert_false(r.binary);
  assert_string_equal(out, long_latin);
  r = join_order(s, rev, 2, out, sizeof out);
  assert_true(r.complete);
  assert_string_equal(out, long_latin);
  r = join_order(s, dup, 4, out, sizeof out);
  assert_true(r.complete);
  assert_int_equal(r.have, 2);
  assert_string_equal(out, long_latin);
  free(s);
}

static void join_16bit_ucs2_three_parts(void **state) {
  (void)state;
  /* Cyrillic with an emoji placed so that UCS-2 parts of 67 units split
   * its surrogate pair: 66 letters, then U+1F600. */
  char text[1024] = "";
  for (int i = 0; i < 66; i++)
    strcat(text, "\xD0\xB6"); /* ж */
  strcat(text, "\xF0\x9F\x98\x80");
  for (int i = 0; i < 70; i++)
    strcat(text, "\xD1\x8F"); /* я */
  sg_segments_t *s = split(text, SG_ENC_UCS2, false, true, 0xBEEF);
  assert_int_equal(s->nparts, 3);
  sg_mo_udh_info_t u;
  assert_int_equal(sg_mo_parse_udh(s->parts[0].udh, s->parts[0].udh_len, &u),
                   0);
  assert_true(u.ref16);
  assert_int_equal(u.ref, 0xBEEF);
  char out[4096];
  const unsigned order[] = {3, 1, 2};
  sg_mo_joined_t r = join_order(s, order, 3, out, sizeof out);
  assert_true(r.complete);
  assert_int_equal(r.encoding, SG_ENC_UCS2);
  assert_string_equal(out, text);
  free(s);
}

static void join_missing_part_is_incomplete(void **state) {
  (void)state;
  sg_segments_t *s = split(long_latin, SG_ENC_GSM7, false, false, 7);
  char out[2048];
  const unsigned only2[] = {2};
  sg_mo_joined_t r = join_order(s, only2, 1, out, sizeof out);
  assert_false(r.complete);
  assert_int_equal(r.have, 1);
  /* What part 2 carries: the text after the first 153 characters. */
  assert_string_equal(out, long_latin + 153);
  free(s);
}

static void join_national_tables(void **state) {
  (void)state;
  /* Turkish letters that only the Turkish tables carry in GSM 7-bit. */
  const char *tr =
      "\xC4\x9E\xC3\xBC\xC5\x9Fl\xC3\xBC\xC4\xB1 \xC5\x9Fi\xC5"
      "\x9F\xC3\xA7i \xC4\xB0stanbul \xC4\x9F\xC4\xB1"; /* Ğüşlüı... */
  char text[600] = "";
  for (int i = 0; i < 8; i++)
    strcat(text, tr);
  sg_segments_t *s = split(text, SG_ENC_GSM7, true, false, 9);
  assert_int_equal(s->encoding, SG_ENC_GSM7);
  assert_int_not_equal(s->charset.locking | s->charset.single, 0);
  assert_true(s->nparts >= 2);
  sg_mo_udh_info_t u;
  assert_int_equal(sg_mo_parse_udh(s->parts[0].udh, s->parts[0].udh_len, &u),
                   0);
  assert_int_equal(u.lang_single | u.lang_locking, SG_GSM7_TURKISH);
  unsigned order[16];
  for (unsigned i = 0; i < s->nparts; i++)
    order[i] = s->nparts - i;
  char out[4096];
  sg_mo_joined_t r = join_order(s, order, s->nparts, out, sizeof out);
  assert_true(r.complete);
  assert_string_equal(out, text);
  /* Without its IEs the same septets read otherwise: the tables matter. */
  sg_mo_part_t p = {.seq = 1,
                    .data_coding = 0,
                    .ud = s->parts[0].ud,
                    .ud_len = s->parts[0].ud_len};
  sg_mo_joined_t r2;
  assert_int_equal(sg_mo_join(&p, 1, 1, (uint8_t *)out, sizeof out, &r2), 0);
  assert_memory_not_equal(out, text, 8);
  free(s);
}

static void join_binary(void **state) {
  (void)state;
  const uint8_t a[] = {0xDE, 0xAD}, b[] = {0xBE, 0xEF};
  sg_mo_part_t p[] = {{.seq = 2, .data_coding = 0x04, .ud = b, .ud_len = 2},
                      {.seq = 1, .data_coding = 0x04, .ud = a, .ud_len = 2}};
  uint8_t out[16];
  sg_mo_joined_t r;
  assert_int_equal(sg_mo_join(p, 2, 2, out, sizeof out, &r), 0);
  assert_true(r.binary);
  assert_true(r.complete);
  assert_int_equal(r.len, 4);
  const uint8_t want[] = {0xDE, 0xAD, 0xBE, 0xEF};
  assert_memory_equal(out, want, 4);
  assert_int_equal(sg_mo_join(p, 0, 2, out, sizeof out, &r), SG_EINVAL);
  assert_int_equal(sg_mo_join(p, 2, 0, out, sizeof out, &r), SG_EINVAL);
  assert_int_equal(sg_mo_join(p, 2, 2, out, 3, &r), SG_ENOSPC);
}

static void keywords(void **state) {
  (void)state;
  char k[64];
  const char *t1 = "  stop please";
  assert_int_equal(sg_mo_keyword((const uint8_t *)t1, strlen(t1), k, sizeof k),
                   4);
  assert_string_equal(k, "STOP");
  const char *t2 = "\xD1\x81\xD1\x82\xD0\xBE\xD0\xBF!"; /* стоп! */
  assert_int_equal(sg_mo_keyword((const uint8_t *)t2, strlen(t2), k, sizeof k),
                   8);
  assert_string_equal(k, "\xD0\xA1\xD0\xA2\xD0\x9E\xD0\x9F"); /* СТОП */
  const char *t3 = "\xD1\x91\xD0\xBB\xD0\xBA\xD0\xB0"; /* ёлка -> ЁЛКА */
  sg_mo_keyword((const uint8_t *)t3, strlen(t3), k, sizeof k);
  assert_string_equal(k, "\xD0\x81\xD0\x9B\xD0\x9A\xD0\x90");
  const char *t4 = "Un-Stop,now";
  sg_mo_keyword((const uint8_t *)t4, strlen(t4), k, sizeof k);
  assert_string_equal(k, "UN-STOP");
  assert_int_equal(sg_mo_keyword((const uint8_t *)"  ...", 5, k, sizeof k), 0);
  assert_string_equal(k, "");
  assert_int_equal(sg_mo_keyword((const uint8_t *)"\xff", 1, k, sizeof k),
                   SG_EILSEQ);
  assert_int_equal(sg_mo_upper_utf8("Otpisat\xD1\x8C", k, sizeof k), 9);
  assert_string_equal(k, "OTPISAT\xD0\xAC");
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(udh_8bit),
      cmocka_unit_test(udh_16bit_and_national),
      cmocka_unit_test(udh_malformed),
      cmocka_unit_test(codings),
      cmocka_unit_test(decode_latin1_and_ia5),
      cmocka_unit_test(join_orders_and_duplicates),
      cmocka_unit_test(join_16bit_ucs2_three_parts),
      cmocka_unit_test(join_missing_part_is_incomplete),
      cmocka_unit_test(join_national_tables),
      cmocka_unit_test(join_binary),
      cmocka_unit_test(keywords),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
