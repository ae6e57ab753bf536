/* test_smpp_server_mo.c - the deliver_sm that carries an incoming message
 * to an SMPP customer (sg__smpps_mo_pdu): addresses with their TON/NPI,
 * data_coding 0 with unpacked GSM 03.38 septets, 8 with UCS-2, 4 for
 * binary, and long messages as parts with a concatenation UDH and
 * esm_class UDHI; a part index out of range is refused. Expected octets
 * are written out from TS 23.038 / TS 23.040, not computed by smsgate. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <string.h>

#include "core/alloc.h"
#include "core/error.h"
#include "ingress/smpp_server_int.h"
#include "smpp/pdu.h"

typedef struct fx {
  sg_segments_t *segs;
  sg_smpp_pdu_t *pdu;
} fx_t;

static int setup(void **state) {
  fx_t *f = sg_calloc(1, sizeof *f);
  f->segs = sg_malloc(sizeof *f->segs);
  f->pdu = sg_malloc(sizeof *f->pdu);
  *state = f;
  return f && f->segs && f->pdu ? 0 : -1;
}

static int teardown(void **state) {
  fx_t *f = *state;
  sg_free(f->segs);
  sg_free(f->pdu);
  sg_free(f);
  return 0;
}

static void seg(fx_t *f, const char *text, uint8_t ref) {
  sg_seg_opts_t o = {
      .encoding = SG_ENC_AUTO, .max_parts = SG_SEG_MAX_PARTS, .ref = ref};
  assert_int_equal(
      sg_segment_text((const uint8_t *)text, strlen(text), &o, f->segs, NULL),
      0);
}

static const sg_smpp_deliver_sm_t *body(fx_t *f) {
  return &f->pdu->body.deliver_sm;
}

static void gsm_single(void **state) {
  fx_t *f = *state;
  seg(f, "Hi @ 10$", 7);
  assert_int_equal(sg__smpps_mo_pdu("+79001234567", "4444", f->segs, 0, f->pdu),
                   0);
  const sg_smpp_deliver_sm_t *b = body(f);
  assert_int_equal(f->pdu->command_id, SG_SMPP_DELIVER_SM);
  assert_int_equal(b->source_addr_ton, 1);
  assert_int_equal(b->source_addr_npi, 1);
  assert_string_equal(b->source_addr, "79001234567");
  assert_int_equal(b->dest_addr_ton, 0);
  assert_int_equal(b->dest_addr_npi, 1);
  assert_string_equal(b->destination_addr, "4444");
  assert_int_equal(b->esm_class, 0x00);
  assert_int_equal(b->data_coding, 0x00);
  static const uint8_t want[] = {'H', 'i', ' ', 0x00, ' ', '1', '0', 0x02};
  assert_int_equal(b->sm_length, sizeof want);
  assert_memory_equal(b->short_message, want, sizeof want);
  /* Only part 0 exists. */
  assert_int_equal(sg__smpps_mo_pdu("+1", "2", f->segs, 1, f->pdu), SG_EINVAL);
}

static void ucs2_alnum(void **state) {
  fx_t *f = *state;
  seg(f, "Привет", 7);
  assert_int_equal(
      sg__smpps_mo_pdu("Shop", "+4915112345678", f->segs, 0, f->pdu), 0);
  const sg_smpp_deliver_sm_t *b = body(f);
  assert_int_equal(b->source_addr_ton, 5);
  assert_int_equal(b->source_addr_npi, 0);
  assert_string_equal(b->source_addr, "Shop");
  assert_int_equal(b->dest_addr_ton, 1);
  assert_string_equal(b->destination_addr, "4915112345678");
  assert_int_equal(b->data_coding, 0x08);
  static const uint8_t want[] = {0x04, 0x1F, 0x04, 0x40, 0x04, 0x38,
                                 0x04, 0x32, 0x04, 0x35, 0x04, 0x42};
  assert_int_equal(b->sm_length, sizeof want);
  assert_memory_equal(b->short_message, want, sizeof want);
  /* "+" alone or digits with a letter are not numbers: alphanumeric. */
  assert_int_equal(sg__smpps_mo_pdu("+", "12a", f->segs, 0, f->pdu), 0);
  assert_int_equal(body(f)->source_addr_ton, 5);
  assert_string_equal(body(f)->source_addr, "+");
  assert_int_equal(body(f)->dest_addr_ton, 5);
}

static void long_gsm_parts(void **state) {
  fx_t *f = *state;
  char text[201];
  for (int i = 0; i < 200; i++)
    text[i] = (char)('a' + i % 26);
  text[200] = '\0';
  seg(f, text, 0x2A);
  assert_int_equal(f->segs->nparts, 2);
  for (unsigned i = 0; i < 2; i++) {
    assert_int_equal(
        sg__smpps_mo_pdu("+79001234567", "4444", f->segs, i, f->pdu), 0);
    const sg_smpp_deliver_sm_t *b = body(f);
    assert_int_equal(b->esm_class, 0x40);
    assert_int_equal(b->data_coding, 0x00);
    const uint8_t udh[] = {0x05, 0x00, 0x03, 0x2A, 0x02, (uint8_t)(i + 1)};
    assert_memory_equal(b->short_message, udh, sizeof udh);
    size_t septets = i == 0 ? 153 : 47;
    assert_int_equal(b->sm_length, 6 + septets);
    assert_memory_equal(b->short_message + 6, text + 153 * i, septets);
  }
}

static void binary_payload(void **state) {
  fx_t *f = *state;
  const uint8_t data[] = {0x00, 0xFF, 0x10};
  assert_int_equal(sg_segment_binary(data, sizeof data, NULL, f->segs, NULL),
                   0);
  assert_int_equal(sg__smpps_mo_pdu("+1234", "99", f->segs, 0, f->pdu), 0);
  assert_int_equal(body(f)->data_coding, 0x04);
  assert_int_equal(body(f)->sm_length, 3);
  assert_memory_equal(body(f)->short_message, data, 3);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(gsm_single, setup, teardown),
      cmocka_unit_test_setup_teardown(ucs2_alnum, setup, teardown),
      cmocka_unit_test_setup_teardown(long_gsm_parts, setup, teardown),
      cmocka_unit_test_setup_teardown(binary_payload, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
