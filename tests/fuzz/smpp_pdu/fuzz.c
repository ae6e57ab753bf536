/* fuzz.c - libFuzzer target for the SMPP PDU codec.
 *
 * Input: one octet choosing the piece sizes, then a byte stream. The stream
 * is fed to sg_smpp_reader_t in pieces; every PDU it frames is decoded; a
 * PDU that decodes must encode again to exactly the same octets (the codec
 * keeps TLVs in order and copies fields verbatim), and that encoding must
 * decode again. The raw input is also decoded directly as one PDU. Any
 * violation aborts. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "smpp/pdu.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static sg_smpp_pdu_t pdu, again;
static uint8_t out[SG_SMPP_MAX_PDU_DEFAULT + 1024];

static void check_pdu(const uint8_t *buf, size_t len, unsigned flags) {
  sg_smpp_decode_opts_t opts = {0, flags};
  sg_smpp_decode_err_t err;
  int rc = sg_smpp_pdu_decode(buf, len, &pdu, &opts, &err);
  if (rc != 0) {
    if (err.fault == SG_SMPP_FAULT_NONE || sg_smpp_fault_error(err.fault) != rc)
      abort();
    (void)sg_smpp_reject_command_id(pdu.command_id, &err);
    return;
  }
  size_t n;
  long size = sg_smpp_pdu_size(&pdu);
  if (sg_smpp_pdu_encode(&pdu, out, sizeof out, &n) != 0)
    abort();
  if (size != (long)n || n != len || memcmp(out, buf, len) != 0)
    abort();
  if (sg_smpp_pdu_decode(out, n, &again, &opts, NULL) != 0)
    abort();
  if (again.command_id != pdu.command_id || again.n_tlvs != pdu.n_tlvs)
    abort();
  /* typed TLV access must stay in bounds whatever the tags */
  for (uint16_t i = 0; i < pdu.n_tlvs; i++) {
    uint32_t v;
    const char *s;
    size_t l;
    (void)sg_smpp_tlv_get_int(&pdu, pdu.tlvs[i].tag, &v);
    (void)sg_smpp_tlv_get_cstr(&pdu, pdu.tlvs[i].tag, &s, &l);
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size == 0)
    return 0;
  unsigned seed = data[0];
  const uint8_t *stream = data + 1;
  size_t len = size - 1;
  unsigned flags = (seed & 0x80) ? SG_SMPP_DECODE_ALLOW_BOTH_PAYLOADS : 0;

  check_pdu(stream, len, flags);

  sg_smpp_reader_t r;
  sg_smpp_reader_init(&r, (seed & 0x40) ? 256 : 0);
  size_t pos = 0;
  uint32_t rnd = seed;
  while (pos < len) {
    rnd = rnd * 1103515245u + 12345u;
    size_t piece = 1 + (rnd >> 16) % ((seed & 0x3F) + 1);
    if (piece > len - pos)
      piece = len - pos;
    if (sg_smpp_reader_feed(&r, stream + pos, piece) != 0)
      break;
    pos += piece;
    const uint8_t *p;
    long n;
    while ((n = sg_smpp_reader_next(&r, &p)) > 0) {
      if (sg_smpp_frame(p, (size_t)n, r.max_len) != n)
        abort();
      check_pdu(p, (size_t)n, flags);
    }
    if (n < 0)
      break;
  }
  sg_smpp_reader_close(&r);
  return 0;
}
