/* Tests for the SMPP 3.4 PDU codec: golden vectors built by hand from the
 * section 4 layouts, round trips for every PDU, unknown TLV preservation,
 * and every class of malformed input. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "smpp/pdu.h"

/* Hex (spaces ignored) to bytes; returns the byte count. */
static size_t unhex(const char *hex, uint8_t *out, size_t cap) {
  size_t n = 0;
  int hi = -1;
  for (const char *p = hex; *p != '\0'; p++) {
    int v;
    if (*p >= '0' && *p <= '9')
      v = *p - '0';
    else if (*p >= 'a' && *p <= 'f')
      v = *p - 'a' + 10;
    else if (*p >= 'A' && *p <= 'F')
      v = *p - 'A' + 10;
    else
      continue;
    if (hi < 0) {
      hi = v;
    } else {
      assert_true(n < cap);
      out[n++] = (uint8_t)(hi << 4 | v);
      hi = -1;
    }
  }
  assert_int_equal(hi, -1);
  return n;
}

/* ---- Golden vectors ------------------------------------------------------ */

#define HDR_ENQUIRE_LINK "00000010 00000015 00000000 00000001"

/* bind_transmitter (4.1.1): system_id "smppclient1", password "password",
 * system_type "", interface_version 0x34, addr_ton 0, addr_npi 0,
 * address_range "". */
#define HEX_BIND_TRANSMITTER                                                   \
  "0000002A 00000002 00000000 00000001"                                        \
  "736D7070636C69656E743100"                                                   \
  "70617373776F726400"                                                         \
  "00"                                                                         \
  "34 00 00"                                                                   \
  "00"

/* bind_transmitter_resp: system_id "SMSC", TLV sc_interface_version 0x34. */
#define HEX_BIND_TRANSMITTER_RESP                                              \
  "0000001A 80000002 00000000 00000001"                                        \
  "534D534300"                                                                 \
  "0210 0001 34"

/* submit_sm (4.4.1) with a concatenation UDH (esm_class 0x40):
 * 447700900123 -> 447700900456, registered_delivery 1, sm_length 8. */
#define HEX_SUBMIT_SM_UDH                                                      \
  "00000041 00000004 00000000 00000002"                                        \
  "00"                                                                         \
  "01 01 343437373030393030313233 00"                                          \
  "01 01 343437373030393030343536 00"                                          \
  "40 00 00 00 00 01 00 00 00"                                                 \
  "08 050003CC0201 4869"

/* deliver_sm (4.6.1) carrying a delivery receipt (esm_class 0x04) with the
 * receipted_message_id, message_state and network_error_code TLVs. */
#define HEX_DELIVER_SM_RECEIPT                                                 \
  "00000066 00000005 00000000 00000003"                                        \
  "00"                                                                         \
  "01 01 343437373030393030343536 00"                                          \
  "01 01 343437373030393030313233 00"                                          \
  "04 00 00 00 00 00 00 00 00"                                                 \
  "16 69643A616263313233 20 737461743A44454C49565244"                          \
  "001E 0007 61626331323300"                                                   \
  "0427 0001 02"                                                               \
  "0423 0003 030000"

/* submit_multi (4.5.1): two destinations, an SME address and a
 * distribution list, then "Hi". */
#define HEX_SUBMIT_MULTI                                                       \
  "00000033 00000021 00000000 00000004"                                        \
  "00"                                                                         \
  "01 01 3132333400"                                                           \
  "02"                                                                         \
  "01 01 01 3536373800"                                                        \
  "02 4C49535400"                                                              \
  "00 00 00 00 00 00 00 00 00"                                                 \
  "02 4869"

/* submit_multi_resp (4.5.2): message_id "M1", one unsuccess_sme 5678 with
 * error_status_code ESME_RINVDSTADR. */
#define HEX_SUBMIT_MULTI_RESP                                                  \
  "0000001F 80000021 00000000 00000004"                                        \
  "4D3100"                                                                     \
  "01"                                                                         \
  "01 01 3536373800 0000000B"

/* query_sm_resp (4.8.2) with a final_date. */
#define HEX_QUERY_SM_RESP                                                      \
  "00000026 80000003 00000000 00000005"                                        \
  "4D3100"                                                                     \
  "3234303130313132303030303030302B00"                                         \
  "02 00"

static void golden_enquire_link(void **state) {
  (void)state;
  uint8_t in[64], out[64];
  size_t n = unhex(HDR_ENQUIRE_LINK, in, sizeof in), n_out;
  sg_smpp_pdu_t p;
  sg_smpp_decode_err_t err;
  assert_int_equal(sg_smpp_pdu_decode(in, n, &p, NULL, &err), 0);
  assert_int_equal(err.fault, SG_SMPP_FAULT_NONE);
  assert_int_equal(p.command_length, 16);
  assert_int_equal(p.command_id, SG_SMPP_ENQUIRE_LINK);
  assert_int_equal(p.sequence_number, 1);
  assert_int_equal(p.n_tlvs, 0);

  sg_smpp_pdu_init(&p, SG_SMPP_ENQUIRE_LINK, 1);
  assert_int_equal(sg_smpp_pdu_encode(&p, out, sizeof out, &n_out), 0);
  assert_int_equal(n_out, 16);
  assert_memory_equal(out, in, 16);

  /* enquire_link_resp answering it */
  sg_smpp_pdu_init(&p, sg_smpp_response_id(SG_SMPP_ENQUIRE_LINK), 1);
  assert_int_equal(sg_smpp_pdu_encode(&p, out, sizeof out, &n_out), 0);
  n = unhex("00000010 80000015 00000000 00000001", in, sizeof in);
  assert_memory_equal(out, in, n);

  /* generic_nack with ESME_RINVCMDID */
  sg_smpp_pdu_init(&p, SG_SMPP_GENERIC_NACK, 7);
  p.command_status = SG_SMPP_ESME_RINVCMDID;
  assert_int_equal(sg_smpp_pdu_encode(&p, out, sizeof out, &n_out), 0);
  n = unhex("00000010 80000000 00000003 00000007", in, sizeof in);
  assert_int_equal(n_out, n);
  assert_memory_equal(out, in, n);
}

static void golden_bind_transmitter(void **state) {
  (void)state;
  uint8_t in[128], out[128];
  size_t n = unhex(HEX_BIND_TRANSMITTER, in, sizeof in), n_out;
  assert_int_equal(n, 0x2A);
  sg_smpp_pdu_t p;
  assert_int_equal(sg_smpp_pdu_decode(in, n, &p, NULL, NULL), 0);
  const sg_smpp_bind_transmitter_t *b = &p.body.bind_transmitter;
  assert_string_equal(b->system_id, "smppclient1");
  assert_string_equal(b->password, "password");
  assert_string_equal(b->system_type, "");
  assert_int_equal(b->interface_version, 0x34);
  assert_int_equal(b->addr_ton, 0);
  assert_int_equal(b->addr_npi, 0);
  assert_string_equal(b->address_range, "");

  sg_smpp_pdu_init(&p, SG_SMPP_BIND_TRANSMITTER, 1);
  strcpy(p.body.bind_transmitter.system_id, "smppclient1");
  strcpy(p.body.bind_transmitter.password, "password");
  p.body.bind_transmitter.interface_version = 0x34;
  assert_int_equal(sg_smpp_pdu_size(&p), 0x2A);
  assert_int_equal(sg_smpp_pdu_encode(&p, out, sizeof out, &n_out), 0);
  assert_int_equal(n_out, n);
  assert_memory_equal(out, in, n);
}

static void golden_bind_transmitter_resp(void **state) {
  (void)state;
  uint8_t in[64], out[64];
  size_t n = unhex(HEX_BIND_TRANSMITTER_RESP, in, sizeof in), n_out;
  sg_smpp_pdu_t p;
  assert_int_equal(sg_smpp_pdu_decode(in, n, &p, NULL, NULL), 0);
  assert_string_equal(p.body.bind_transmitter_resp.system_id, "SMSC");
  uint32_t v = 0;
  assert_int_equal(
      sg_smpp_tlv_get_int(&p, SG_SMPP_TLV_SC_INTERFACE_VERSION, &v), 0);
  assert_int_equal(v, 0x34);

  sg_smpp_pdu_init(&p, SG_SMPP_BIND_TRANSMITTER_RESP, 1);
  strcpy(p.body.bind_transmitter_resp.system_id, "SMSC");
  assert_int_equal(
      sg_smpp_tlv_set_int(&p, SG_SMPP_TLV_SC_INTERFACE_VERSION, 0x34, 0), 0);
  assert_int_equal(sg_smpp_pdu_encode(&p, out, sizeof out, &n_out), 0);
  assert_int_equal(n_out, n);
  assert_memory_equal(out, in, n);
}

static void golden_submit_sm_udh(void **state) {
  (void)state;
  uint8_t in[128], out[128];
  size_t n = unhex(HEX_SUBMIT_SM_UDH, in, sizeof in), n_out;
  assert_int_equal(n, 0x41);
  sg_smpp_pdu_t p;
  assert_int_equal(sg_smpp_pdu_decode(in, n, &p, NULL, NULL), 0);
  const sg_smpp_submit_sm_t *s = &p.body.submit_sm;
  assert_int_equal(p.sequence_number, 2);
  assert_string_equal(s->service_type, "");
  assert_int_equal(s->source_addr_ton, 1);
  assert_int_equal(s->source_addr_npi, 1);
  assert_string_equal(s->source_addr, "447700900123");
  assert_string_equal(s->destination_addr, "447700900456");
  assert_int_equal(s->esm_class, 0x40);
  assert_int_equal(s->registered_delivery, 1);
  assert_int_equal(s->sm_length, 8);
  static const uint8_t sm[] = {0x05, 0x00, 0x03, 0xCC, 0x02, 0x01, 'H', 'i'};
  assert_memory_equal(s->short_message, sm, sizeof sm);
  assert_int_equal(p.n_tlvs, 0);

  sg_smpp_pdu_init(&p, SG_SMPP_SUBMIT_SM, 2);
  sg_smpp_submit_sm_t *w = &p.body.submit_sm;
  w->source_addr_ton = w->source_addr_npi = 1;
  strcpy(w->source_addr, "447700900123");
  w->dest_addr_ton = w->dest_addr_npi = 1;
  strcpy(w->destination_addr, "447700900456");
  w->esm_class = 0x40;
  w->registered_delivery = 1;
  w->sm_length = sizeof sm;
  memcpy(w->short_message, sm, sizeof sm);
  assert_int_equal(sg_smpp_pdu_encode(&p, out, sizeof out, &n_out), 0);
  assert_int_equal(n_out, n);
  assert_memory_equal(out, in, n);
}

static void golden_deliver_sm_receipt(void **state) {
  (void)state;
  uint8_t in[160], out[160];
  size_t n = unhex(HEX_DELIVER_SM_RECEIPT, in, sizeof in), n_out;
  assert_int_equal(n, 0x66);
  sg_smpp_pdu_t p;
  assert_int_equal(sg_smpp_pdu_decode(in, n, &p, NULL, NULL), 0);
  const sg_smpp_deliver_sm_t *d = &p.body.deliver_sm;
  assert_int_equal(d->esm_class, 0x04);
  assert_int_equal(d->sm_length, 22);
  assert_memory_equal(d->short_message, "id:abc123 stat:DELIVRD", 22);
  assert_int_equal(p.n_tlvs, 3);

  const char *id;
  size_t id_len;
  assert_int_equal(
      sg_smpp_tlv_get_cstr(&p, SG_SMPP_TLV_RECEIPTED_MESSAGE_ID, &id, &id_len),
      0);
  assert_string_equal(id, "abc123");
  assert_int_equal(id_len, 6);
  uint32_t state_v;
  assert_int_equal(sg_smpp_tlv_get_int(&p, SG_SMPP_TLV_MESSAGE_STATE, &state_v),
                   0);
  assert_int_equal(state_v, 2); /* DELIVERED, section 5.2.28 */
  const uint8_t *nec;
  size_t nec_len;
  assert_int_equal(
      sg_smpp_tlv_get_bytes(&p, SG_SMPP_TLV_NETWORK_ERROR_CODE, &nec, &nec_len),
      0);
  assert_int_equal(nec_len, 3);
  assert_int_equal(nec[0], 3);
  assert_int_equal(nec[1] | nec[2], 0);

  /* built by hand, the same octets */
  sg_smpp_pdu_t q;
  sg_smpp_pdu_init(&q, SG_SMPP_DELIVER_SM, 3);
  sg_smpp_deliver_sm_t *w = &q.body.deliver_sm;
  w->source_addr_ton = w->source_addr_npi = 1;
  strcpy(w->source_addr, "447700900456");
  w->dest_addr_ton = w->dest_addr_npi = 1;
  strcpy(w->destination_addr, "447700900123");
  w->esm_class = 0x04;
  w->sm_length = 22;
  memcpy(w->short_message, "id:abc123 stat:DELIVRD", 22);
  static const uint8_t nec_v[3] = {3, 0, 0};
  assert_int_equal(
      sg_smpp_tlv_set_cstr(&q, SG_SMPP_TLV_RECEIPTED_MESSAGE_ID, "abc123"), 0);
  assert_int_equal(sg_smpp_tlv_set_int(&q, SG_SMPP_TLV_MESSAGE_STATE, 2, 0), 0);
  assert_int_equal(
      sg_smpp_tlv_set_bytes(&q, SG_SMPP_TLV_NETWORK_ERROR_CODE, nec_v, 3), 0);
  assert_int_equal(sg_smpp_pdu_encode(&q, out, sizeof out, &n_out), 0);
  assert_int_equal(n_out, n);
  assert_memory_equal(out, in, n);
}

static void golden_submit_multi(void **state) {
  (void)state;
  uint8_t in[128], out[128];
  size_t n = unhex(HEX_SUBMIT_MULTI, in, sizeof in), n_out;
  assert_int_equal(n, 0x33);
  sg_smpp_pdu_t p;
  assert_int_equal(sg_smpp_pdu_decode(in, n, &p, NULL, NULL), 0);
  const sg_smpp_submit_multi_t *m = &p.body.submit_multi;
  assert_string_equal(m->source_addr, "1234");
  assert_int_equal(m->number_of_dests, 2);
  assert_int_equal(m->dest_address[0].dest_flag, SG_SMPP_DEST_FLAG_SME);
  assert_int_equal(m->dest_address[0].dest_addr_ton, 1);
  assert_int_equal(m->dest_address[0].dest_addr_npi, 1);
  assert_string_equal(m->dest_address[0].destination_addr, "5678");
  assert_int_equal(m->dest_address[1].dest_flag, SG_SMPP_DEST_FLAG_DL);
  assert_string_equal(m->dest_address[1].dl_name, "LIST");
  assert_int_equal(m->sm_length, 2);
  assert_memory_equal(m->short_message, "Hi", 2);
  assert_int_equal(sg_smpp_pdu_encode(&p, out, sizeof out, &n_out), 0);
  assert_int_equal(n_out, n);
  assert_memory_equal(out, in, n);

  n = unhex(HEX_SUBMIT_MULTI_RESP, in, sizeof in);
  assert_int_equal(sg_smpp_pdu_decode(in, n, &p, NULL, NULL), 0);
  const sg_smpp_submit_multi_resp_t *r = &p.body.submit_multi_resp;
  assert_string_equal(r->message_id, "M1");
  assert_int_equal(r->no_unsuccess, 1);
  assert_string_equal(r->unsuccess_sme[0].destination_addr, "5678");
  assert_int_equal(r->unsuccess_sme[0].error_status_code,
                   SG_SMPP_ESME_RINVDSTADR);
  assert_int_equal(sg_smpp_pdu_encode(&p, out, sizeof out, &n_out), 0);
  assert_int_equal(n_out, n);
  assert_memory_equal(out, in, n);
}

static void golden_query_sm_resp(void **state) {
  (void)state;
  uint8_t in[128], out[128];
  size_t n = unhex(HEX_QUERY_SM_RESP, in, sizeof in), n_out;
  sg_smpp_pdu_t p;
  assert_int_equal(sg_smpp_pdu_decode(in, n, &p, NULL, NULL), 0);
  assert_string_equal(p.body.query_sm_resp.message_id, "M1");
  assert_string_equal(p.body.query_sm_resp.final_date, "240101120000000+");
  assert_int_equal(p.body.query_sm_resp.message_state, 2);
  assert_int_equal(sg_smpp_pdu_encode(&p, out, sizeof out, &n_out), 0);
  assert_int_equal(n_out, n);
  assert_memory_equal(out, in, n);
}

/* ---- Round trips for every PDU ----------------------------------------- */

static const uint8_t payload_600[600] = {1, 2, 3};

/* Fills a sample of each PDU with non-default values. */
static void sample_pdu(sg_smpp_pdu_t *p, uint32_t id, uint32_t seq) {
  sg_smpp_pdu_init(p, id, seq);
  switch (id) {
  case SG_SMPP_BIND_RECEIVER:
  case SG_SMPP_BIND_TRANSMITTER:
  case SG_SMPP_BIND_TRANSCEIVER:
    strcpy(p->body.bind_receiver.system_id, "123456789012345");
    strcpy(p->body.bind_receiver.password, "12345678");
    strcpy(p->body.bind_receiver.system_type, "VMA");
    p->body.bind_receiver.interface_version = 0x34;
    p->body.bind_receiver.addr_ton = 1;
    p->body.bind_receiver.addr_npi = 1;
    strcpy(p->body.bind_receiver.address_range, "^44.*");
    break;
  case SG_SMPP_BIND_RECEIVER_RESP:
  case SG_SMPP_BIND_TRANSMITTER_RESP:
  case SG_SMPP_BIND_TRANSCEIVER_RESP:
    strcpy(p->body.bind_receiver_resp.system_id, "SMSC");
    sg_smpp_tlv_set_int(p, SG_SMPP_TLV_SC_INTERFACE_VERSION, 0x34, 0);
    break;
  case SG_SMPP_OUTBIND:
    strcpy(p->body.outbind.system_id, "smsc");
    strcpy(p->body.outbind.password, "pw");
    break;
  case SG_SMPP_SUBMIT_SM:
  case SG_SMPP_DELIVER_SM: {
    sg_smpp_body_sm_t *s = &p->body.submit_sm;
    strcpy(s->service_type, "CMT");
    s->source_addr_ton = 5;
    strcpy(s->source_addr, "Shop");
    s->dest_addr_ton = s->dest_addr_npi = 1;
    strcpy(s->destination_addr, "12345678901234567890");
    strcpy(s->schedule_delivery_time, "000000000100000R");
    strcpy(s->validity_period, "240101120000000+");
    s->registered_delivery = 1;
    s->data_coding = 8;
    s->sm_length = SG_SMPP_SM_MAX;
    for (int i = 0; i < SG_SMPP_SM_MAX; i++)
      s->short_message[i] = (uint8_t)i;
    sg_smpp_tlv_set_int(p, SG_SMPP_TLV_SAR_MSG_REF_NUM, 0xBEEF, 0);
    sg_smpp_tlv_set_int(p, SG_SMPP_TLV_QOS_TIME_TO_LIVE, 0x01020304, 0);
    break;
  }
  case SG_SMPP_SUBMIT_SM_RESP:
  case SG_SMPP_DELIVER_SM_RESP:
  case SG_SMPP_DATA_SM_RESP:
    strcpy(p->body.submit_sm_resp.message_id, "0123456789abcdef");
    break;
  case SG_SMPP_SUBMIT_MULTI: {
    sg_smpp_submit_multi_t *m = &p->body.submit_multi;
    strcpy(m->source_addr, "1");
    m->number_of_dests = SG_SMPP_MULTI_MAX;
    for (int i = 0; i < SG_SMPP_MULTI_MAX; i++) {
      m->dest_address[i].dest_flag = (uint8_t)(1 + i % 2);
      snprintf(m->dest_address[i].destination_addr, 21, "%d", i);
    }
    m->sm_length = 3;
    memcpy(m->short_message, "abc", 3);
    break;
  }
  case SG_SMPP_SUBMIT_MULTI_RESP: {
    sg_smpp_submit_multi_resp_t *r = &p->body.submit_multi_resp;
    strcpy(r->message_id, "x");
    r->no_unsuccess = 2;
    strcpy(r->unsuccess_sme[1].destination_addr, "99");
    r->unsuccess_sme[1].error_status_code = 0x400;
    break;
  }
  case SG_SMPP_DATA_SM:
    strcpy(p->body.data_sm.source_addr,
           "a-64-octet-address-is-allowed-in-data_sm....."
           "..................");
    strcpy(p->body.data_sm.destination_addr, "447700900123");
    p->body.data_sm.registered_delivery = 1;
    sg_smpp_tlv_set_bytes(p, SG_SMPP_TLV_MESSAGE_PAYLOAD, payload_600,
                          sizeof payload_600);
    break;
  case SG_SMPP_QUERY_SM:
    strcpy(p->body.query_sm.message_id, "abc");
    strcpy(p->body.query_sm.source_addr, "1");
    break;
  case SG_SMPP_QUERY_SM_RESP:
    strcpy(p->body.query_sm_resp.message_id, "abc");
    p->body.query_sm_resp.message_state = 5;
    p->body.query_sm_resp.error_code = 9;
    break;
  case SG_SMPP_CANCEL_SM:
    strcpy(p->body.cancel_sm.message_id, "abc");
    strcpy(p->body.cancel_sm.destination_addr, "2");
    break;
  case SG_SMPP_REPLACE_SM:
    strcpy(p->body.replace_sm.message_id, "abc");
    p->body.replace_sm.sm_length = 1;
    p->body.replace_sm.short_message[0] = 'x';
    break;
  case SG_SMPP_ALERT_NOTIFICATION:
    strcpy(p->body.alert_notification.source_addr, "447700900123");
    strcpy(p->body.alert_notification.esme_addr, "esme");
    sg_smpp_tlv_set_int(p, SG_SMPP_TLV_MS_AVAILABILITY_STATUS, 1, 0);
    break;
  default: /* header-only PDUs */
    break;
  }
}

static const uint32_t all_ids[] = {
#define ID(name, NAME, id, body, flags) id,
    SG_SMPP_PDU_LIST(ID)
#undef ID
};

static void round_trip_every_pdu(void **state) {
  (void)state;
  static uint8_t a[8192], b[8192];
  static sg_smpp_pdu_t p, q;
  assert_int_equal(sizeof all_ids / sizeof all_ids[0], 27);
  for (size_t i = 0; i < sizeof all_ids / sizeof all_ids[0]; i++) {
    uint32_t id = all_ids[i];
    size_t na, nb;
    sample_pdu(&p, id, (uint32_t)i + 100);
    long size = sg_smpp_pdu_size(&p);
    assert_int_equal(sg_smpp_pdu_encode(&p, a, sizeof a, &na), 0);
    assert_int_equal(size, (long)na);
    sg_smpp_decode_err_t err;
    if (sg_smpp_pdu_decode(a, na, &q, NULL, &err) != 0)
      fail_msg("%s: %s at %zu (%s)", sg_smpp_command_name(id),
               sg_smpp_fault_text(err.fault), err.offset,
               err.field ? err.field : "-");
    assert_int_equal(q.command_id, id);
    assert_int_equal(q.sequence_number, i + 100);
    assert_int_equal(q.command_length, na);
    assert_int_equal(q.n_tlvs, p.n_tlvs);
    assert_int_equal(sg_smpp_pdu_encode(&q, b, sizeof b, &nb), 0);
    assert_int_equal(na, nb);
    assert_memory_equal(a, b, na);
    /* too small an output buffer, at every size */
    for (size_t cap = 0; cap < na; cap += (na > 64 ? 37 : 1))
      assert_int_equal(sg_smpp_pdu_encode(&p, b, cap, &nb), SG_ENOSPC);
    assert_true(sg_smpp_command_known(id));
    assert_string_not_equal(sg_smpp_command_name(id), "unknown");
  }
  /* spot checks of decoded values */
  sample_pdu(&p, SG_SMPP_SUBMIT_MULTI, 1);
  size_t na;
  assert_int_equal(sg_smpp_pdu_encode(&p, a, sizeof a, &na), 0);
  assert_int_equal(sg_smpp_pdu_decode(a, na, &q, NULL, NULL), 0);
  assert_int_equal(q.body.submit_multi.number_of_dests, 254);
  assert_string_equal(q.body.submit_multi.dest_address[253].dl_name, "253");
  assert_int_equal(q.body.submit_multi.dest_address[253].dest_flag, 2);
  sample_pdu(&p, SG_SMPP_DATA_SM, 1);
  assert_int_equal(sg_smpp_pdu_encode(&p, a, sizeof a, &na), 0);
  assert_int_equal(sg_smpp_pdu_decode(a, na, &q, NULL, NULL), 0);
  const uint8_t *pl;
  size_t pl_len;
  assert_int_equal(
      sg_smpp_tlv_get_bytes(&q, SG_SMPP_TLV_MESSAGE_PAYLOAD, &pl, &pl_len), 0);
  assert_int_equal(pl_len, 600);
  assert_ptr_equal(pl, a + na - 600); /* borrowed from the input */
  assert_memory_equal(pl, payload_600, 600);
}

static void command_helpers(void **state) {
  (void)state;
  assert_int_equal(sg_smpp_response_id(SG_SMPP_SUBMIT_SM),
                   SG_SMPP_SUBMIT_SM_RESP);
  assert_int_equal(sg_smpp_response_id(SG_SMPP_BIND_TRANSCEIVER), 0x80000009u);
  assert_int_equal(sg_smpp_response_id(SG_SMPP_DATA_SM), 0x80000103u);
  assert_int_equal(sg_smpp_response_id(SG_SMPP_SUBMIT_SM_RESP), 0);
  assert_int_equal(sg_smpp_response_id(SG_SMPP_OUTBIND), 0);
  assert_int_equal(sg_smpp_response_id(SG_SMPP_ALERT_NOTIFICATION), 0);
  assert_int_equal(sg_smpp_response_id(SG_SMPP_GENERIC_NACK), 0);
  assert_int_equal(sg_smpp_response_id(0x00000099), 0);
  assert_string_equal(sg_smpp_command_name(0x00000004), "submit_sm");
  assert_string_equal(sg_smpp_command_name(0x80000103), "data_sm_resp");
  assert_string_equal(sg_smpp_command_name(0x0000000A), "unknown");
  assert_false(sg_smpp_command_known(0x0000000A));
  assert_true(sg_smpp_is_response(SG_SMPP_GENERIC_NACK));
  assert_false(sg_smpp_is_response(SG_SMPP_SUBMIT_SM));

  assert_string_equal(sg_smpp_status_text(0), "No Error");
  assert_string_equal(sg_smpp_status_name(0x58), "ESME_RTHROTTLED");
  assert_string_equal(sg_smpp_status_text(0x00000003), "Invalid Command ID");
  assert_string_equal(sg_smpp_status_name(0xC0), "ESME_RINVOPTPARSTREAM");
  assert_string_equal(sg_smpp_status_name(0x50), "ESME_RINVDSTTON");
  assert_string_equal(sg_smpp_status_name(0xFE), "ESME_RDELIVERYFAILURE");
  assert_null(sg_smpp_status_name(0x09));
  assert_string_equal(sg_smpp_status_text(0x09), "Reserved");
  assert_string_equal(sg_smpp_status_text(0x401), "Vendor specific error");
  assert_string_equal(sg_smpp_status_text(0x500), "Reserved");

  uint16_t min, max;
  assert_int_equal(sg_smpp_tlv_type(0x0424, &min, &max), SG_SMPP_TLV_T_OCTETS);
  assert_int_equal(max, 65535);
  assert_int_equal(sg_smpp_tlv_type(0x001E, &min, &max), SG_SMPP_TLV_T_COCTET);
  assert_int_equal(min, 1);
  assert_int_equal(max, 65);
  assert_int_equal(sg_smpp_tlv_type(0x130C, NULL, NULL), SG_SMPP_TLV_T_EMPTY);
  assert_int_equal(sg_smpp_tlv_type(0x1400, NULL, NULL), SG_SMPP_TLV_T_UNKNOWN);
  assert_string_equal(sg_smpp_tlv_name(0x0427), "message_state");
  assert_null(sg_smpp_tlv_name(0x1400));
}

/* ---- TLVs ---------------------------------------------------------------- */

static void unknown_tlvs_preserved(void **state) {
  (void)state;
  /* deliver_sm_resp, then in order: vendor 0x1400 (3 octets), the known
   * additional_status_info_text, vendor 0x3FFF (empty), a vendor TLV
   * longer than 4 octets, then a repeated vendor tag. */
  uint8_t in[128], out[128];
  size_t n = unhex("00000032 80000005 00000000 0000002A"
                   "00"
                   "1400 0003 AABBCC"
                   "001D 0003 6F6B00"
                   "3FFF 0000"
                   "1401 0006 010203040506"
                   "1400 0001 DD",
                   in, sizeof in),
         n_out;
  assert_int_equal(n, 0x32);
  sg_smpp_pdu_t p;
  assert_int_equal(sg_smpp_pdu_decode(in, n, &p, NULL, NULL), 0);
  assert_int_equal(p.n_tlvs, 5);
  assert_int_equal(p.tlvs[0].tag, 0x1400);
  assert_int_equal(p.tlvs[0].length, 3);
  assert_memory_equal(sg_smpp_tlv_value(&p.tlvs[0]), "\xAA\xBB\xCC", 3);
  assert_int_equal(p.tlvs[1].tag, 0x001D);
  assert_int_equal(p.tlvs[2].tag, 0x3FFF);
  assert_int_equal(p.tlvs[2].length, 0);
  assert_int_equal(p.tlvs[3].length, 6);
  assert_int_equal(p.tlvs[4].tag, 0x1400);
  /* the first of a repeated tag is the one found */
  assert_int_equal(sg_smpp_tlv_find(&p, 0x1400)->length, 3);
  assert_int_equal(sg_smpp_pdu_encode(&p, out, sizeof out, &n_out), 0);
  assert_int_equal(n_out, n);
  assert_memory_equal(out, in, n);

  /* remove keeps the rest in order */
  assert_int_equal(sg_smpp_tlv_remove(&p, 0x1400), 2);
  assert_int_equal(p.n_tlvs, 3);
  assert_int_equal(p.tlvs[0].tag, 0x001D);
  assert_int_equal(p.tlvs[2].tag, 0x1401);
  assert_int_equal(sg_smpp_pdu_encode(&p, out, sizeof out, &n_out), 0);
  assert_int_equal(n_out, n - 7 - 5);
}

static void tlv_setters(void **state) {
  (void)state;
  sg_smpp_pdu_t p;
  sg_smpp_pdu_init(&p, SG_SMPP_SUBMIT_SM, 1);
  uint32_t v;
  assert_int_equal(sg_smpp_tlv_get_int(&p, SG_SMPP_TLV_SOURCE_PORT, &v),
                   SG_ENOENT);
  assert_int_equal(sg_smpp_tlv_set_int(&p, SG_SMPP_TLV_SOURCE_PORT, 0x10000, 0),
                   SG_ERANGE);
  assert_int_equal(sg_smpp_tlv_set_int(&p, SG_SMPP_TLV_SOURCE_PORT, 9200, 0),
                   0);
  assert_int_equal(sg_smpp_tlv_set_int(&p, SG_SMPP_TLV_SOURCE_PORT, 9201, 0),
                   0);
  assert_int_equal(p.n_tlvs, 1); /* replaced, not appended */
  assert_int_equal(sg_smpp_tlv_get_int(&p, SG_SMPP_TLV_SOURCE_PORT, &v), 0);
  assert_int_equal(v, 9201);
  assert_int_equal(sg_smpp_tlv_set_int(&p, SG_SMPP_TLV_MESSAGE_PAYLOAD, 1, 0),
                   SG_EINVAL);
  assert_int_equal(sg_smpp_tlv_set_int(&p, 0x1500, 7, 3), SG_EINVAL);
  assert_int_equal(sg_smpp_tlv_set_int(&p, 0x1500, 0x12345678, 4), 0);
  assert_int_equal(sg_smpp_tlv_get_int(&p, 0x1500, &v), 0);
  assert_int_equal(v, 0x12345678);
  /* length checks from tlv.def */
  assert_int_equal(
      sg_smpp_tlv_set_bytes(&p, SG_SMPP_TLV_NETWORK_ERROR_CODE, "\x03\x00", 2),
      SG_ERANGE);
  assert_int_equal(
      sg_smpp_tlv_set_bytes(&p, SG_SMPP_TLV_RECEIPTED_MESSAGE_ID, "ab", 2),
      SG_EILSEQ);
  char long_id[80];
  memset(long_id, 'x', sizeof long_id - 1);
  long_id[sizeof long_id - 1] = '\0';
  assert_int_equal(
      sg_smpp_tlv_set_cstr(&p, SG_SMPP_TLV_RECEIPTED_MESSAGE_ID, long_id),
      SG_ERANGE);
  assert_int_equal(
      sg_smpp_tlv_set_bytes(&p, SG_SMPP_TLV_ALERT_ON_MESSAGE_DELIVERY, NULL, 0),
      0);
  /* table full */
  for (int i = p.n_tlvs; i < SG_SMPP_TLV_MAX; i++)
    assert_int_equal(sg_smpp_tlv_append(&p, 0x2000, "z", 1), 0);
  assert_int_equal(sg_smpp_tlv_append(&p, 0x2000, "z", 1), SG_ENOSPC);
  assert_int_equal(sg_smpp_tlv_set_int(&p, 0x2001, 1, 1), SG_ENOSPC);
  /* a full table still encodes and decodes */
  uint8_t buf[1024];
  size_t n;
  sg_smpp_pdu_t q;
  assert_int_equal(sg_smpp_pdu_encode(&p, buf, sizeof buf, &n), 0);
  assert_int_equal(sg_smpp_pdu_decode(buf, n, &q, NULL, NULL), 0);
  assert_int_equal(q.n_tlvs, SG_SMPP_TLV_MAX);
  /* encoder refuses a TLV that the decoder would refuse */
  sg_smpp_pdu_init(&p, SG_SMPP_SUBMIT_SM, 1);
  sg_smpp_tlv_append(&p, SG_SMPP_TLV_MESSAGE_STATE, "\x00\x01", 2);
  assert_int_equal(sg_smpp_pdu_encode(&p, buf, sizeof buf, &n), SG_ERANGE);
  sg_smpp_pdu_init(&p, SG_SMPP_ENQUIRE_LINK, 1);
  sg_smpp_tlv_set_int(&p, SG_SMPP_TLV_MESSAGE_STATE, 1, 0);
  assert_int_equal(sg_smpp_pdu_encode(&p, buf, sizeof buf, &n), SG_EPROTO);
}

/* ---- Malformed input ---------------------------------------------------- */

/* The 16 mandatory octets of an empty submit_sm/deliver_sm before sm_length:
 * service_type .. sm_default_msg_id, every string empty. */
#define Z16 "00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00"

typedef struct bad_case {
  const char *what;
  const char *hex;
  int rc;
  sg_smpp_fault_t fault;
  uint32_t status;
  const char *field;
  uint32_t reject_with;
} bad_case_t;

static const bad_case_t bad_cases[] = {
    {"truncated header", "00000010 00000015 0000", SG_ETRUNC,
     SG_SMPP_FAULT_SHORT_HEADER, SG_SMPP_ESME_RINVCMDLEN, NULL,
     SG_SMPP_GENERIC_NACK},
    {"command_length 15", "0000000F 00000015 00000000 00000001", SG_ERANGE,
     SG_SMPP_FAULT_CMD_LENGTH, SG_SMPP_ESME_RINVCMDLEN, NULL,
     SG_SMPP_GENERIC_NACK},
    {"command_length 0", "00000000 00000015 00000000 00000001", SG_ERANGE,
     SG_SMPP_FAULT_CMD_LENGTH, SG_SMPP_ESME_RINVCMDLEN, NULL,
     SG_SMPP_GENERIC_NACK},
    {"command_length huge", "FFFFFFFF 00000015 00000000 00000001", SG_ERANGE,
     SG_SMPP_FAULT_CMD_LENGTH, SG_SMPP_ESME_RINVCMDLEN, NULL,
     SG_SMPP_GENERIC_NACK},
    {"command_length != buffer", "00000011 00000015 00000000 00000001",
     SG_EINVAL, SG_SMPP_FAULT_LEN_MISMATCH, SG_SMPP_ESME_RINVCMDLEN, NULL,
     SG_SMPP_GENERIC_NACK},
    {"unknown command_id", "00000010 0000000A 00000000 00000001", SG_ENOTSUP,
     SG_SMPP_FAULT_CMD_ID, SG_SMPP_ESME_RINVCMDID, NULL, SG_SMPP_GENERIC_NACK},
    {"unknown response id", "00000010 80000777 00000000 00000001", SG_ENOTSUP,
     SG_SMPP_FAULT_CMD_ID, SG_SMPP_ESME_RINVCMDID, NULL, SG_SMPP_GENERIC_NACK},
    {"enquire_link with a body", "00000011 00000015 00000000 00000001 00",
     SG_EPROTO, SG_SMPP_FAULT_TRAILING, SG_SMPP_ESME_RINVCMDLEN, NULL,
     SG_SMPP_ENQUIRE_LINK_RESP},
    {"bind without body", "00000010 00000002 00000000 00000001", SG_ETRUNC,
     SG_SMPP_FAULT_TRUNCATED, SG_SMPP_ESME_RINVCMDLEN, "system_id",
     SG_SMPP_BIND_TRANSMITTER_RESP},
    {"unterminated system_id at the end",
     "00000014 00000002 00000000 00000001 41424344", SG_EILSEQ,
     SG_SMPP_FAULT_CSTRING_UNTERMINATED, SG_SMPP_ESME_RINVSYSID, "system_id",
     SG_SMPP_BIND_TRANSMITTER_RESP},
    {"system_id of 16 characters",
     "00000030 00000002 00000000 00000001"
     "41414141414141414141414141414141 00 00 00 34 00 00 00 00 00 00 00 00 00"
     "00 00 00",
     SG_ETOOLONG, SG_SMPP_FAULT_CSTRING_TOO_LONG, SG_SMPP_ESME_RINVSYSID,
     "system_id", SG_SMPP_BIND_TRANSMITTER_RESP},
    {"password of 9 characters",
     "00000023 00000009 00000000 00000001 00 414141414141414141 00 00 34 00 "
     "00 00 00 00 00",
     SG_ETOOLONG, SG_SMPP_FAULT_CSTRING_TOO_LONG, SG_SMPP_ESME_RINVPASWD,
     "password", SG_SMPP_BIND_TRANSCEIVER_RESP},
    {"bind truncated after the strings",
     "00000014 00000001 00000000 00000001 00 00 00 34", SG_ETRUNC,
     SG_SMPP_FAULT_TRUNCATED, SG_SMPP_ESME_RINVCMDLEN, "addr_ton",
     SG_SMPP_BIND_RECEIVER_RESP},
    {"source_addr of 21 digits",
     "00000037 00000004 00000000 00000001 00 01 01"
     "313233343536373839303132333435363738393031 00 01 01 3100 00 00 00 00 00 "
     "00 00 00 00 00",
     SG_ETOOLONG, SG_SMPP_FAULT_CSTRING_TOO_LONG, SG_SMPP_ESME_RINVSRCADR,
     "source_addr", SG_SMPP_SUBMIT_SM_RESP},
    {"sm_length past the end",
     "00000024 00000004 00000000 00000001" Z16 "05 414243", SG_ETOOLONG,
     SG_SMPP_FAULT_SM_LENGTH, SG_SMPP_ESME_RINVMSGLEN, "short_message",
     SG_SMPP_SUBMIT_SM_RESP},
    {"sm_length 255", "00000021 00000004 00000000 00000001" Z16 "FF",
     SG_ETOOLONG, SG_SMPP_FAULT_SM_LENGTH, SG_SMPP_ESME_RINVMSGLEN,
     "short_message", SG_SMPP_SUBMIT_SM_RESP},
    {"submit_sm cut before sm_length",
     "00000020 00000004 00000000 00000001" Z16, SG_ETRUNC,
     SG_SMPP_FAULT_TRUNCATED, SG_SMPP_ESME_RINVCMDLEN, "sm_length",
     SG_SMPP_SUBMIT_SM_RESP},
    {"schedule_delivery_time of 5 characters",
     "00000026 00000004 00000000 00000001 00 00 00 00 00 00 00 00 00 00"
     "3030303030 00 00 00 00 00 00 00",
     SG_EPROTO, SG_SMPP_FAULT_BAD_TIME, SG_SMPP_ESME_RINVSCHED,
     "schedule_delivery_time", SG_SMPP_SUBMIT_SM_RESP},
    {"validity_period of 17 characters",
     "00000031 00000004 00000000 00000001 00 00 00 00 00 00 00 00 00 00 00"
     "3030303030303030303030303030303030 00 00 00 00 00",
     SG_ETOOLONG, SG_SMPP_FAULT_CSTRING_TOO_LONG, SG_SMPP_ESME_RINVEXPIRY,
     "validity_period", SG_SMPP_SUBMIT_SM_RESP},
    {"TLV length past the end",
     "00000028 00000005 00000000 00000001" Z16 "00 0424 0010 414243", SG_ETRUNC,
     SG_SMPP_FAULT_TLV_PAST_END, SG_SMPP_ESME_RINVOPTPARSTREAM,
     "message_payload", SG_SMPP_DELIVER_SM_RESP},
    {"TLV header cut", "00000024 00000005 00000000 00000001" Z16 "00 042400",
     SG_ETRUNC, SG_SMPP_FAULT_TLV_HEADER, SG_SMPP_ESME_RINVOPTPARSTREAM, NULL,
     SG_SMPP_DELIVER_SM_RESP},
    {"vendor TLV past the end",
     "00000026 00000005 00000000 00000001" Z16 "00 1400 0002 41", SG_ETRUNC,
     SG_SMPP_FAULT_TLV_PAST_END, SG_SMPP_ESME_RINVOPTPARSTREAM, NULL,
     SG_SMPP_DELIVER_SM_RESP},
    {"message_state of 2 octets",
     "00000027 00000005 00000000 00000001" Z16 "00 0427 0002 0002", SG_ERANGE,
     SG_SMPP_FAULT_TLV_LENGTH, SG_SMPP_ESME_RINVPARLEN, "message_state",
     SG_SMPP_DELIVER_SM_RESP},
    {"receipted_message_id of 66 octets",
     "00000067 00000005 00000000 00000001" Z16 "00 001E 0042"
     "4141414141414141414141414141414141414141414141414141414141414141"
     "41414141414141414141414141414141414141414141414141414141414141414100",
     SG_ERANGE, SG_SMPP_FAULT_TLV_LENGTH, SG_SMPP_ESME_RINVPARLEN,
     "receipted_message_id", SG_SMPP_DELIVER_SM_RESP},
    {"receipted_message_id without NUL",
     "00000028 00000005 00000000 00000001" Z16 "00 001E 0003 414243", SG_EILSEQ,
     SG_SMPP_FAULT_TLV_VALUE, SG_SMPP_ESME_RINVOPTPARAMVAL,
     "receipted_message_id", SG_SMPP_DELIVER_SM_RESP},
    {"short_message and message_payload",
     "00000027 00000004 00000000 00000001" Z16 "01 41 0424 0001 42", SG_EPROTO,
     SG_SMPP_FAULT_BOTH_PAYLOADS, SG_SMPP_ESME_ROPTPARNOTALLWD,
     "message_payload", SG_SMPP_SUBMIT_SM_RESP},
    {"TLV on query_sm",
     "00000019 00000003 00000000 00000001 00 00 00 00 0427 0001 01", SG_EPROTO,
     SG_SMPP_FAULT_TRAILING, SG_SMPP_ESME_RINVCMDLEN, NULL,
     SG_SMPP_QUERY_SM_RESP},
    {"number_of_dests 255",
     "00000018 00000021 00000000 00000001 00 00 00 00 FF 01 01 00", SG_ERANGE,
     SG_SMPP_FAULT_LIST_COUNT, SG_SMPP_ESME_RINVNUMDESTS, "dest_address",
     SG_SMPP_SUBMIT_MULTI_RESP},
    {"dest_flag 3",
     "00000018 00000021 00000000 00000001 00 00 00 00 01 03 00 00", SG_EPROTO,
     SG_SMPP_FAULT_DEST_FLAG, SG_SMPP_ESME_RINVDESTFLAG, "dest_flag",
     SG_SMPP_SUBMIT_MULTI_RESP},
    {"dest list cut", "00000016 00000021 00000000 00000001 00 00 00 00 02 01",
     SG_ETRUNC, SG_SMPP_FAULT_TRUNCATED, SG_SMPP_ESME_RINVCMDLEN,
     "dest_addr_ton", SG_SMPP_SUBMIT_MULTI_RESP},
    {"dl_name too long",
     "0000002B 00000021 00000000 00000001 00 00 00 00 01 02"
     "414141414141414141414141414141414141414141",
     SG_ETOOLONG, SG_SMPP_FAULT_CSTRING_TOO_LONG, SG_SMPP_ESME_RINVDLNAME,
     "dl_name", SG_SMPP_SUBMIT_MULTI_RESP},
    {"ok submit_sm_resp without body", "00000010 80000004 00000000 00000001",
     SG_ETRUNC, SG_SMPP_FAULT_TRUNCATED, SG_SMPP_ESME_RINVCMDLEN, "message_id",
     0},
    {"outbind too long password",
     "0000001B 0000000B 00000000 00000001 00 41414141414141414141", SG_ETOOLONG,
     SG_SMPP_FAULT_CSTRING_TOO_LONG, SG_SMPP_ESME_RINVPASWD, "password", 0},
};

static void malformed_pdus(void **state) {
  (void)state;
  for (size_t i = 0; i < sizeof bad_cases / sizeof bad_cases[0]; i++) {
    const bad_case_t *c = &bad_cases[i];
    uint8_t buf[256];
    size_t n = unhex(c->hex, buf, sizeof buf);
    sg_smpp_pdu_t p;
    sg_smpp_decode_err_t err;
    int rc = sg_smpp_pdu_decode(buf, n, &p, NULL, &err);
    if (rc != c->rc || err.fault != c->fault)
      fail_msg("%s: rc %d fault %s, want rc %d fault %s", c->what, rc,
               sg_smpp_fault_text(err.fault), c->rc,
               sg_smpp_fault_text(c->fault));
    if (err.command_status != c->status)
      fail_msg("%s: status 0x%x, want 0x%x", c->what, err.command_status,
               c->status);
    if (c->field == NULL)
      assert_true(err.field == NULL || c->fault == SG_SMPP_FAULT_TLV_HEADER);
    else if (err.field == NULL || strcmp(err.field, c->field) != 0)
      fail_msg("%s: field %s, want %s", c->what, err.field ? err.field : "-",
               c->field);
    assert_int_equal(err.header_valid, n >= 16);
    if (err.header_valid)
      assert_int_equal(p.sequence_number, 1);
    assert_int_equal(sg_smpp_reject_command_id(p.command_id, &err),
                     c->reject_with);
    assert_int_equal(sg_smpp_fault_error(err.fault), rc);
    /* and every shorter prefix fails too, without reading past it */
    for (size_t k = 0; k < n; k++)
      assert_int_not_equal(sg_smpp_pdu_decode(buf, k, &p, NULL, &err), 0);
  }
}

static void too_many_tlvs(void **state) {
  (void)state;
  /* deliver_sm_resp with SG_SMPP_TLV_MAX + 1 empty vendor TLVs */
  uint8_t buf[16 + 1 + 4 * (SG_SMPP_TLV_MAX + 1)];
  size_t n = sizeof buf;
  memset(buf, 0, n);
  buf[2] = (uint8_t)(n >> 8), buf[3] = (uint8_t)n;
  buf[4] = 0x80, buf[7] = 0x05;
  for (int i = 0; i <= SG_SMPP_TLV_MAX; i++)
    buf[17 + 4 * i] = 0x14; /* tag 0x1400, length 0 */
  sg_smpp_pdu_t p;
  sg_smpp_decode_err_t err;
  assert_int_equal(sg_smpp_pdu_decode(buf, n, &p, NULL, &err), SG_ETOOLONG);
  assert_int_equal(err.fault, SG_SMPP_FAULT_TLV_TOO_MANY);
  assert_int_equal(err.offset, 17 + 4 * SG_SMPP_TLV_MAX);
  assert_int_equal(err.tlv_tag, 0x1400);
  /* one fewer is fine, and re-encodes to the same octets */
  buf[3] -= 4;
  assert_int_equal(sg_smpp_pdu_decode(buf, n - 4, &p, NULL, &err), 0);
  assert_int_equal(p.n_tlvs, SG_SMPP_TLV_MAX);
  uint8_t out[sizeof buf];
  size_t n_out;
  assert_int_equal(sg_smpp_pdu_encode(&p, out, sizeof out, &n_out), 0);
  assert_int_equal(n_out, n - 4);
  assert_memory_equal(out, buf, n - 4);
  /* alert_on_message_delivery takes no value */
  n = unhex("00000016 80000005 00000000 00000001 00 130C 0001 00", buf,
            sizeof buf);
  assert_int_equal(sg_smpp_pdu_decode(buf, n, &p, NULL, &err), SG_ERANGE);
  assert_int_equal(err.fault, SG_SMPP_FAULT_TLV_LENGTH);
  assert_string_equal(err.field, "alert_on_message_delivery");
  n = unhex("00000015 80000005 00000000 00000001 00 130C 0000", buf,
            sizeof buf);
  assert_int_equal(sg_smpp_pdu_decode(buf, n, &p, NULL, &err), 0);
  assert_non_null(sg_smpp_tlv_find(&p, SG_SMPP_TLV_ALERT_ON_MESSAGE_DELIVERY));
}

static void error_response_without_body(void **state) {
  (void)state;
  uint8_t in[32], out[32];
  size_t n = unhex("00000010 80000004 00000045 00000009", in, sizeof in), n_out;
  sg_smpp_pdu_t p;
  assert_int_equal(sg_smpp_pdu_decode(in, n, &p, NULL, NULL), 0);
  assert_true(p.body_omitted);
  assert_int_equal(p.command_status, SG_SMPP_ESME_RSUBMITFAIL);
  assert_string_equal(p.body.submit_sm_resp.message_id, "");
  assert_int_equal(sg_smpp_pdu_encode(&p, out, sizeof out, &n_out), 0);
  assert_int_equal(n_out, 16);
  assert_memory_equal(out, in, 16);
  /* a bind_transceiver_resp with an error, with or without its body */
  n = unhex("00000010 80000009 0000000E 00000001", in, sizeof in);
  assert_int_equal(sg_smpp_pdu_decode(in, n, &p, NULL, NULL), 0);
  assert_true(p.body_omitted);
  n = unhex("00000011 80000009 0000000E 00000001 00", in, sizeof in);
  assert_int_equal(sg_smpp_pdu_decode(in, n, &p, NULL, NULL), 0);
  assert_false(p.body_omitted);
  /* body_omitted is only for error responses */
  sg_smpp_pdu_init(&p, SG_SMPP_SUBMIT_SM_RESP, 1);
  p.body_omitted = true;
  assert_int_equal(sg_smpp_pdu_encode(&p, out, sizeof out, &n_out), SG_EPROTO);
  sg_smpp_pdu_init(&p, SG_SMPP_SUBMIT_SM, 1);
  p.command_status = 1;
  p.body_omitted = true;
  assert_int_equal(sg_smpp_pdu_encode(&p, out, sizeof out, &n_out), SG_EPROTO);
}

static void decode_options(void **state) {
  (void)state;
  uint8_t buf[64];
  size_t n =
      unhex("00000027 00000004 00000000 00000001" Z16 "01 41 0424 0001 42", buf,
            sizeof buf);
  sg_smpp_pdu_t p;
  sg_smpp_decode_opts_t o = {0, SG_SMPP_DECODE_ALLOW_BOTH_PAYLOADS};
  assert_int_equal(sg_smpp_pdu_decode(buf, n, &p, &o, NULL), 0);
  o.flags = 0;
  o.max_len = 38;
  sg_smpp_decode_err_t err;
  assert_int_equal(sg_smpp_pdu_decode(buf, n, &p, &o, &err), SG_ERANGE);
  assert_int_equal(err.fault, SG_SMPP_FAULT_CMD_LENGTH);
  assert_int_equal(sg_smpp_pdu_decode(NULL, 0, &p, NULL, &err), SG_ETRUNC);
  assert_int_equal(sg_smpp_pdu_decode(buf, n, NULL, NULL, &err), SG_EINVAL);
}

static void encoder_refusals(void **state) {
  (void)state;
  uint8_t buf[512];
  size_t n;
  sg_smpp_pdu_t p;
  sg_smpp_pdu_init(&p, SG_SMPP_SUBMIT_SM, 1);
  memset(p.body.submit_sm.source_addr, 'x', 21); /* no NUL */
  assert_int_equal(sg_smpp_pdu_encode(&p, buf, sizeof buf, &n), SG_ETOOLONG);
  sg_smpp_pdu_init(&p, SG_SMPP_SUBMIT_SM, 1);
  strcpy(p.body.submit_sm.validity_period, "12345");
  assert_int_equal(sg_smpp_pdu_encode(&p, buf, sizeof buf, &n), SG_EPROTO);
  sg_smpp_pdu_init(&p, SG_SMPP_SUBMIT_SM, 1);
  p.body.submit_sm.sm_length = 255;
  assert_int_equal(sg_smpp_pdu_encode(&p, buf, sizeof buf, &n), SG_ETOOLONG);
  sg_smpp_pdu_init(&p, SG_SMPP_SUBMIT_MULTI, 1);
  p.body.submit_multi.number_of_dests = 1;
  p.body.submit_multi.dest_address[0].dest_flag = 3;
  assert_int_equal(sg_smpp_pdu_encode(&p, buf, sizeof buf, &n), SG_EPROTO);
  p.body.submit_multi.number_of_dests = 255;
  assert_int_equal(sg_smpp_pdu_encode(&p, buf, sizeof buf, &n), SG_ETOOLONG);
  sg_smpp_pdu_init(&p, 0x0000000A, 1);
  assert_int_equal(sg_smpp_pdu_encode(&p, buf, sizeof buf, &n), SG_ENOTSUP);
  assert_int_equal(sg_smpp_pdu_size(&p), SG_ENOTSUP);
  assert_int_equal(sg_smpp_pdu_encode(NULL, buf, sizeof buf, &n), SG_EINVAL);
}

static void fault_table(void **state) {
  (void)state;
  assert_int_equal(sg_smpp_fault_status(SG_SMPP_FAULT_CMD_ID),
                   SG_SMPP_ESME_RINVCMDID);
  assert_int_equal(sg_smpp_fault_status(SG_SMPP_FAULT_CMD_LENGTH),
                   SG_SMPP_ESME_RINVCMDLEN);
  assert_int_equal(sg_smpp_fault_status(SG_SMPP_FAULT_SM_LENGTH),
                   SG_SMPP_ESME_RINVMSGLEN);
  assert_int_equal(sg_smpp_fault_status(SG_SMPP_FAULT_TLV_PAST_END),
                   SG_SMPP_ESME_RINVOPTPARSTREAM);
  assert_int_equal(sg_smpp_fault_status(SG_SMPP_FAULT_TLV_LENGTH),
                   SG_SMPP_ESME_RINVPARLEN);
  /* every fault is distinct and has a text */
  for (int f = 1; f < SG_SMPP_FAULT_COUNT_; f++) {
    assert_true(sg_smpp_fault_error((sg_smpp_fault_t)f) < 0);
    for (int g = 1; g < f; g++)
      assert_string_not_equal(sg_smpp_fault_text((sg_smpp_fault_t)f),
                              sg_smpp_fault_text((sg_smpp_fault_t)g));
  }
  assert_int_equal(sg_smpp_reject_command_id(SG_SMPP_SUBMIT_SM, NULL), 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(golden_enquire_link),
      cmocka_unit_test(golden_bind_transmitter),
      cmocka_unit_test(golden_bind_transmitter_resp),
      cmocka_unit_test(golden_submit_sm_udh),
      cmocka_unit_test(golden_deliver_sm_receipt),
      cmocka_unit_test(golden_submit_multi),
      cmocka_unit_test(golden_query_sm_resp),
      cmocka_unit_test(round_trip_every_pdu),
      cmocka_unit_test(command_helpers),
      cmocka_unit_test(unknown_tlvs_preserved),
      cmocka_unit_test(tlv_setters),
      cmocka_unit_test(malformed_pdus),
      cmocka_unit_test(too_many_tlvs),
      cmocka_unit_test(error_response_without_body),
      cmocka_unit_test(decode_options),
      cmocka_unit_test(encoder_refusals),
      cmocka_unit_test(fault_table),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
