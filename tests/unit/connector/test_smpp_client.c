/* Tests for the SMPP client connector (connector/smpp_client.h), run on an
 * in-process libuv loop against the in-tree SMSC simulator (src/sim) and a
 * scripted SMSC (sc_fixture.h): what goes on the wire for each kind of part
 * (checked in the simulator's record of accepted messages), outcomes and
 * their statuses, receipts and their acks, throttling, lost connections,
 * dead and misbehaving peers, TLS, and the contract of submit. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "connector/smpp_client.h"
#include "core/alloc.h"
#include "core/error.h"
#include "core/gsm7.h"
#include "core/segment.h"
#include "sc_fixture.h"
#include "smpp/msgid.h"

/* ---- Helpers ------------------------------------------------------------ */

/* Submits a UTF-8 text as its parts (core/segment.h), ids from first_id.
 * Returns the number of parts. */
static unsigned submit_text(fx_t *f, uint64_t first_id, const char *dst,
                            const char *text, sg_encoding_t enc, uint16_t ref,
                            bool report) {
  static sg_segments_t segs;
  sg_seg_opts_t o = {.encoding = enc, .ref = ref, .max_parts = 10};
  assert_int_equal(
      sg_segment_text((const uint8_t *)text, strlen(text), &o, &segs, NULL), 0);
  for (unsigned i = 0; i < segs.nparts; i++) {
    sg_conn_part_t p = fx_part(first_id + i, dst, "");
    p.encoding = segs.encoding;
    p.udh = segs.parts[i].udh_len ? segs.parts[i].udh : NULL;
    p.udh_len = segs.parts[i].udh_len;
    p.ud = segs.parts[i].ud;
    p.ud_len = segs.parts[i].ud_len;
    p.concat_ref = ref;
    p.concat_total = (uint8_t)segs.nparts;
    p.concat_seq = (uint8_t)(i + 1);
    p.want_report = report;
    assert_int_equal(sg_connector_submit(f->c, &p), 0);
  }
  return segs.nparts;
}

/* One line of the simulator's record file. */
typedef struct rec {
  char id[40], src[24], dst[24];
  unsigned dc, esm, ref, seq, total, rd;
  char sm[700];
} rec_t;

static int read_record(fx_t *f, rec_t *out, int max) {
  sg_sim_smsc_flush_record(f->sim);
  FILE *fp = fopen(f->record, "r");
  assert_non_null(fp);
  static char line[2048];
  int n = 0;
  while (n < max && fgets(line, sizeof line, fp) != NULL) {
    rec_t *r = &out[n];
    int k = sscanf(line,
                   "id=%39s src=%23s dst=%23s dc=%u esm=%u ref=%u seq=%u "
                   "total=%u rd=%u sm=%699s",
                   r->id, r->src, r->dst, &r->dc, &r->esm, &r->ref, &r->seq,
                   &r->total, &r->rd, r->sm);
    if (k == 9)
      r->sm[0] = '\0';
    else
      assert_int_equal(k, 10);
    n++;
  }
  fclose(fp);
  return n;
}

static void sim_with_record(fx_t *f, sg_sim_smsc_config_t *cfg) {
  snprintf(f->record, sizeof f->record, "/tmp/sg-sc-test-%d-%p.rec",
           (int)getpid(), (void *)f);
  unlink(f->record);
  cfg->record_path = f->record;
  fx_sim(f, cfg);
}

static void hex(const uint8_t *p, size_t n, char *out) {
  static const char h[] = "0123456789abcdef";
  for (size_t i = 0; i < n; i++) {
    out[2 * i] = h[p[i] >> 4];
    out[2 * i + 1] = h[p[i] & 15];
  }
  out[2 * n] = '\0';
}

static void key_of(const char *id, char out[66]) {
  size_t n;
  assert_int_equal(sg_msgid_key(id, strlen(id), SG_MSGID_AUTO, out, 66, &n), 0);
}

/* ---- What goes on the wire ---------------------------------------------- */

/* A GSM 7-bit single part, a UCS-2 single part and a GSM 7-bit message of
 * three parts (8-bit reference UDH): every part SENT with the simulator's
 * id (as its AUTO key), and the record shows data_coding, esm_class, the
 * concatenation and the exact short_message octets, parts in order. */
static void test_send_kinds(void **state) {
  (void)state;
  fx_t *f = fx_new();
  sg_sim_smsc_config_t sc;
  sg_sim_smsc_config_default(&sc);
  sim_with_record(f, &sc);
  sg_smpp_client_config_t cfg;
  fx_config(f, sg_sim_smsc_port(f->sim), &cfg);
  fx_connect(f, &cfg);

  sg_conn_part_t p = fx_part(1, "+447700900001", "Hello");
  assert_int_equal(sg_connector_submit(f->c, &p), 0);
  assert_int_equal(submit_text(f, 2, "+447700900002",
                               "\xD0\x9F\xD1\x80\xD0\xB8", SG_ENC_UCS2, 0,
                               false),
                   1);
  char longtext[400];
  for (int i = 0; i < 350; i++)
    longtext[i] = (char)('a' + i % 26);
  longtext[350] = '\0';
  assert_int_equal(
      submit_text(f, 3, "+447700900003", longtext, SG_ENC_GSM7, 0x42, false),
      3);
  int want = 5;
  assert_true(fx_run_until(f, fx_pred_results, &want, 5000));

  rec_t rec[8];
  assert_int_equal(read_record(f, rec, 8), 5);
  for (uint64_t id = 1; id <= 5; id++) {
    fx_result_t *r = &f->res[id];
    assert_int_equal(r->count, 1);
    assert_int_equal(r->outcome, SG_CONN_SENT);
    assert_int_equal(r->attempts, 1);
    char key[66];
    key_of(rec[id - 1].id, key);
    assert_string_equal(r->smsc_id, key);
  }
  /* GSM 7-bit, unpacked septets, no UDH; TON 1 addresses without '+'. */
  assert_string_equal(rec[0].dst, "447700900001");
  assert_string_equal(rec[0].src, "15550001");
  assert_int_equal(rec[0].dc, 0x00);
  assert_int_equal(rec[0].esm, 0x00);
  assert_string_equal(rec[0].sm, "48656c6c6f");
  /* UCS-2: data_coding 8, UTF-16BE of U+041F U+0440 U+0438. */
  assert_int_equal(rec[1].dc, 0x08);
  assert_string_equal(rec[1].sm, "041f04400438");
  /* Three parts with UDH 05 00 03 42 03 0n, esm_class UDHI, in order. */
  for (int i = 0; i < 3; i++) {
    rec_t *r = &rec[2 + i];
    assert_int_equal(r->esm, 0x40);
    assert_int_equal(r->ref, 0x42);
    assert_int_equal(r->total, 3);
    assert_int_equal(r->seq, (unsigned)(i + 1));
    char udh[16];
    snprintf(udh, sizeof udh, "050003420300");
    udh[11] = (char)('1' + i);
    assert_memory_equal(r->sm, udh, 12);
  }
  /* The first part carries 153 septets: 'a' is 0x61 unpacked. */
  assert_int_equal(strlen(rec[2].sm), 2 * (6 + 153));
  assert_memory_equal(rec[2].sm + 12, "616263", 6);
  /* Multi-part results come in order. */
  assert_true(f->res[3].order < f->res[4].order);
  assert_true(f->res[4].order < f->res[5].order);
  sg_conn_stats_t st;
  sg_connector_stats(f->c, &st);
  assert_int_equal(st.submitted, 5);
  assert_int_equal(st.sent_ok, 5);
  assert_int_equal(st.queued, 0);
  assert_int_equal(st.window_used, 0);
  fx_free(f);
}

/* Packed GSM 7-bit after a UDH (fill bits, TS 23.040 9.2.3.24), priority,
 * registered_delivery, validity as an absolute SMPP time and a custom
 * GSM data_coding. */
static void test_packed_fields(void **state) {
  (void)state;
  fx_t *f = fx_new();
  sg_sim_smsc_config_t sc;
  sg_sim_smsc_config_default(&sc);
  sim_with_record(f, &sc);
  sg_smpp_client_config_t cfg;
  fx_config(f, sg_sim_smsc_port(f->sim), &cfg);
  cfg.gsm7_packed = true;
  cfg.gsm7_data_coding = 0x01;
  fx_connect(f, &cfg);
  static const uint8_t udh[] = {0x05, 0x00, 0x03, 0x07, 0x02, 0x01};
  sg_conn_part_t p = fx_part(1, "7575", "hellohello");
  p.udh = udh;
  p.udh_len = sizeof udh;
  p.concat_ref = 7;
  p.concat_total = 2;
  p.concat_seq = 1;
  p.want_report = true;
  p.priority = 2;
  assert_int_equal(sg_connector_submit(f->c, &p), 0);
  sg_conn_part_t q = fx_part(2, "7575", "hi");
  q.udh = (const uint8_t *)"\x05\x00\x03\x07\x02\x02";
  q.udh_len = 6;
  q.concat_ref = 7;
  q.concat_total = 2;
  q.concat_seq = 2;
  assert_int_equal(sg_connector_submit(f->c, &q), 0);
  int want = 2;
  assert_true(fx_run_until(f, fx_pred_results, &want, 5000));
  rec_t rec[4];
  assert_int_equal(read_record(f, rec, 4), 2);
  assert_int_equal(rec[0].dc, 0x01);
  assert_int_equal(rec[0].rd, 1);
  assert_int_equal(rec[1].rd, 0);
  assert_string_equal(rec[0].dst, "7575");
  /* "hellohello" packed after 6 octets of UDH and 1 fill bit: the septets
   * shifted left by one bit (computed with sg_gsm7_pack, fill 1). */
  uint8_t packed[16];
  size_t n;
  assert_int_equal(sg_gsm7_pack((const uint8_t *)"hellohello", 10, 1, packed,
                                sizeof packed, &n),
                   0);
  assert_int_equal(n, 9);
  char want_hex[64] = "050003070201";
  hex(packed, n, want_hex + 12);
  assert_string_equal(rec[0].sm, want_hex);
  fx_free(f);
}

/* SAR mode: no concatenation IE in short_message, esm_class 0, the SAR
 * TLVs carry ref/total/seq (the simulator records them); a national
 * language IE stays in a UDH. Payload mode: one submit_sm with every
 * part's text in message_payload; every part gets the same smsc_id. */
static void test_long_modes(void **state) {
  (void)state;
  for (int mode = SG_SMPP_LONG_SAR; mode <= SG_SMPP_LONG_PAYLOAD; mode++) {
    fx_t *f = fx_new();
    sg_sim_smsc_config_t sc;
    sg_sim_smsc_config_default(&sc);
    sim_with_record(f, &sc);
    sg_smpp_client_config_t cfg;
    fx_config(f, sg_sim_smsc_port(f->sim), &cfg);
    cfg.long_mode = (sg_smpp_long_mode_t)mode;
    fx_connect(f, &cfg);
    /* 8-bit ref 0x21 plus a Turkish locking-shift IE (0x25). */
    static const uint8_t u1[] = {0x08, 0x00, 0x03, 0x21, 0x02,
                                 0x01, 0x25, 0x01, 0x01};
    static const uint8_t u2[] = {0x08, 0x00, 0x03, 0x21, 0x02,
                                 0x02, 0x25, 0x01, 0x01};
    sg_conn_part_t a = fx_part(1, "+4915100000", "ABC");
    a.udh = u1;
    a.udh_len = sizeof u1;
    a.concat_ref = 0x21;
    a.concat_total = 2;
    a.concat_seq = 1;
    sg_conn_part_t b = a;
    b.id = 2;
    b.udh = u2;
    b.ud = (const uint8_t *)"DE";
    b.ud_len = 2;
    b.concat_seq = 2;
    assert_int_equal(sg_connector_submit(f->c, &a), 0);
    assert_int_equal(sg_connector_submit(f->c, &b), 0);
    int want = 2;
    assert_true(fx_run_until(f, fx_pred_results, &want, 5000));
    rec_t rec[4];
    int n = read_record(f, rec, 4);
    assert_int_equal(f->res[1].outcome, SG_CONN_SENT);
    assert_int_equal(f->res[2].outcome, SG_CONN_SENT);
    if (mode == SG_SMPP_LONG_SAR) {
      assert_int_equal(n, 2);
      for (int i = 0; i < 2; i++) {
        assert_int_equal(rec[i].ref, 0x21);
        assert_int_equal(rec[i].total, 2);
        assert_int_equal(rec[i].seq, (unsigned)(i + 1));
        assert_int_equal(rec[i].esm, 0x40); /* the language IE's UDH */
      }
      assert_string_equal(rec[0].sm, "03250101414243");
      assert_string_equal(rec[1].sm, "032501014445");
      assert_string_not_equal(f->res[1].smsc_id, f->res[2].smsc_id);
    } else {
      assert_int_equal(n, 1);
      assert_string_equal(rec[0].sm, "032501014142434445");
      assert_string_equal(f->res[1].smsc_id, f->res[2].smsc_id);
      char key[66];
      key_of(rec[0].id, key);
      assert_string_equal(f->res[1].smsc_id, key);
    }
    fx_free(f);
  }
}

/* The fields of submit_sm (SMPP 3.4 section 4.4.1) as the SMSC sees them:
 * service_type, TON/NPI, priority_flag, registered_delivery, and the
 * schedule and validity in the absolute time format (UTC, "00+"), or the
 * validity as a relative time. */
static void test_submit_fields(void **state) {
  (void)state;
  fx_t *f = fx_new();
  peer_start(f, PEER_SESSION);
  sg_smpp_client_config_t cfg;
  fx_config(f, f->peer.port, &cfg);
  cfg.service_type = "CMT";
  fx_connect(f, &cfg);
  sg_conn_part_t p = fx_part(1, "+79001234567", "timed");
  sg_smpp_addr_from_text("MyShop", &p.src);
  p.priority = 3;
  p.want_report = true;
  p.validity_ms = 4102444799500LL; /* 2099-12-31T23:59:59.5Z */
  p.schedule_ms = 4102300800000LL; /* 2099-12-30T08:00:00Z */
  assert_int_equal(sg_connector_submit(f->c, &p), 0);
  int one = 1;
  assert_true(fx_run_until(f, fx_pred_results, &one, 3000));
  const sg_smpp_submit_sm_t *sm = &f->peer.last_submit;
  assert_string_equal(sm->service_type, "CMT");
  assert_int_equal(sm->source_addr_ton, 5);
  assert_int_equal(sm->source_addr_npi, 0);
  assert_string_equal(sm->source_addr, "MyShop");
  assert_int_equal(sm->dest_addr_ton, 1);
  assert_int_equal(sm->dest_addr_npi, 1);
  assert_string_equal(sm->destination_addr, "79001234567");
  assert_int_equal(sm->priority_flag, 3);
  assert_int_equal(sm->registered_delivery, 1);
  assert_int_equal(sm->esm_class, 0);
  assert_int_equal(sm->data_coding, 0);
  assert_string_equal(sm->validity_period, "991231235959500+");
  assert_string_equal(sm->schedule_delivery_time, "991230080000000+");
  assert_int_equal(sm->sm_length, 5);
  assert_memory_equal(sm->short_message, "timed", 5);
  /* Unset times stay NULL strings. */
  p.id = 2;
  p.validity_ms = p.schedule_ms = 0;
  p.want_report = false;
  assert_int_equal(sg_connector_submit(f->c, &p), 0);
  int two = 2;
  assert_true(fx_run_until(f, fx_pred_results, &two, 3000));
  assert_string_equal(sm->validity_period, "");
  assert_string_equal(sm->schedule_delivery_time, "");
  assert_int_equal(sm->registered_delivery, 0);
  fx_free(f);

  /* Relative validity: one hour from now. */
  f = fx_new();
  peer_start(f, PEER_SESSION);
  fx_config(f, f->peer.port, &cfg);
  cfg.validity_relative = true;
  fx_connect(f, &cfg);
  assert_true(fx_run_until(f, fx_pred_up, NULL, 3000));
  uv_timeval64_t tv;
  uv_gettimeofday(&tv);
  p = fx_part(1, "+79001234567", "relative");
  p.validity_ms = tv.tv_sec * 1000 + tv.tv_usec / 1000 + 3600500;
  assert_int_equal(sg_connector_submit(f->c, &p), 0);
  assert_true(fx_run_until(f, fx_pred_results, &one, 3000));
  assert_string_equal(f->peer.last_submit.validity_period, "000000010000000R");
  fx_free(f);
}

/* ---- Receipts and inbound messages -------------------------------------- */

static void put_deliver(sg_smpp_pdu_t *pdu, uint8_t esm, const char *text) {
  sg_smpp_pdu_init(pdu, SG_SMPP_DELIVER_SM, 0);
  sg_smpp_deliver_sm_t *d = &pdu->body.deliver_sm;
  d->esm_class = esm;
  d->source_addr_ton = 1;
  d->source_addr_npi = 1;
  strcpy(d->source_addr, "79001234567");
  strcpy(d->destination_addr, "7575");
  size_t n = strlen(text);
  memcpy(d->short_message, text, n);
  d->sm_length = (uint8_t)n;
}

/* Part i to +4470090<i>, with a receipt asked for, handed to the connector. */
static void submit_report_part(fx_t *f, int i) {
  char dst[24];
  snprintf(dst, sizeof dst, "+4470090%04d", i);
  sg_conn_part_t p = fx_part((uint64_t)i, dst, "report me");
  p.want_report = true;
  assert_int_equal(sg_connector_submit(f->c, &p), 0);
}

/* Every part asks for a report: the simulator's receipts come back through
 * dlr_cb with the same key as the SENT result, DELIVRD as state 2, and are
 * acked (the simulator counts the deliver_sm_resp ESME_ROK). With hex ids
 * and the receipt text's decimal id the HEX/DECIMAL modes still match. */
static void test_dlr_flow(void **state) {
  (void)state;
  fx_t *f = fx_new();
  sg_sim_smsc_config_t sc;
  sg_sim_smsc_config_default(&sc);
  sc.dlr_delay_ms = 0;
  sg_sim_dlr_mix_parse("DELIVRD=1", &sc.dlr_mix);
  fx_sim(f, &sc);
  sg_smpp_client_config_t cfg;
  fx_config(f, sg_sim_smsc_port(f->sim), &cfg);
  cfg.id_mode = SG_MSGID_HEX;
  cfg.window = 50;
  fx_connect(f, &cfg);
  enum { N = 100 };
  for (int i = 0; i < N; i++) {
    submit_report_part(f, i);
  }
  int want = N;
  assert_true(fx_run_until(f, fx_pred_results, &want, 5000));
  assert_true(fx_run_until(f, fx_pred_dlrs, &want, 5000));
  for (int i = 0; i < N; i++) {
    fx_dlr_t *d = &f->dlr[i];
    assert_int_equal(d->state, SG_DLR_DELIVERED);
    int match = -1;
    for (int k = 0; k < N; k++)
      if (strcmp(f->res[k].smsc_id, d->smsc_id) == 0)
        match = k;
    assert_true(match >= 0);
    /* The receipt never overtakes the result it belongs to. */
    assert_true(f->res[match].order <= d->results_before);
  }
  sg_sim_smsc_stats_t ss;
  for (int i = 0; i < 100; i++) {
    sg_sim_smsc_stats(f->sim, &ss);
    if (ss.receipts_acked == N)
      break;
    fx_run_for(f, 10);
  }
  assert_int_equal(ss.receipts_acked, N);
  sg_conn_stats_t st;
  sg_connector_stats(f->c, &st);
  assert_int_equal(st.dlr_received, N);
  fx_free(f);
}

/* Not accepted by the owner: the SMSC gets ESME_RX_T_APPN, and an ack that
 * comes after its session closed is dropped without an answer. */
static void test_dlr_nack_and_late_ack(void **state) {
  (void)state;
  fx_t *f = fx_new();
  peer_start(f, PEER_SESSION);
  f->peer.dlr_before_resp = true;
  f->ack_accept = false;
  sg_smpp_client_config_t cfg;
  fx_config(f, f->peer.port, &cfg);
  fx_connect(f, &cfg);
  sg_conn_part_t p = fx_part(1, "+15550002", "x");
  p.want_report = true;
  assert_int_equal(sg_connector_submit(f->c, &p), 0);
  int one = 1;
  assert_true(fx_run_until(f, fx_pred_dlrs, &one, 3000));
  for (int i = 0; i < 100 && f->peer.receipts_nacked == 0; i++)
    fx_run_for(f, 10);
  assert_int_equal(f->peer.receipts_nacked, 1);
  /* Now one receipt left unacked, and the connection lost. */
  f->auto_ack = false;
  p.id = 2;
  assert_int_equal(sg_connector_submit(f->c, &p), 0);
  int two = 2;
  assert_true(fx_run_until(f, fx_pred_dlrs, &two, 3000));
  for (unsigned i = 0; i < 16; i++)
    if (f->peer.links[i] != NULL)
      sg_smpp_link_abort(f->peer.links[i], SG_ECLOSED);
  fx_run_for(f, 100);
  sg_connector_ack(f->c, f->dlr[1].token, true);
  sg_smpp_client_xstats_t xs;
  assert_int_equal(sg_smpp_client_xstats(f->c, &xs), 0);
  assert_int_equal(xs.acks_ignored, 1);
  assert_int_equal(f->peer.receipts_acked, 0);
  fx_free(f);
}

/* The SMSC writes the receipt before the submit_sm_resp: it is held until
 * the response has been handled, so the owner sees SENT first, with the
 * same key, and the receipt is not lost. */
static void test_dlr_before_resp(void **state) {
  (void)state;
  fx_t *f = fx_new();
  peer_start(f, PEER_SESSION);
  f->peer.dlr_before_resp = true;
  sg_smpp_client_config_t cfg;
  fx_config(f, f->peer.port, &cfg);
  fx_connect(f, &cfg);
  for (uint64_t i = 1; i <= 5; i++) {
    sg_conn_part_t p = fx_part(i, "+15550002", "fast receipt");
    p.want_report = true;
    assert_int_equal(sg_connector_submit(f->c, &p), 0);
  }
  int five = 5;
  assert_true(fx_run_until(f, fx_pred_dlrs, &five, 3000));
  for (int i = 0; i < 5; i++) {
    bool found = false;
    for (uint64_t k = 1; k <= 5; k++)
      if (strcmp(f->res[k].smsc_id, f->dlr[i].smsc_id) == 0) {
        found = true;
        assert_true(f->res[k].order <= f->dlr[i].results_before);
      }
    assert_true(found);
    assert_int_equal(f->dlr[i].state, SG_DLR_DELIVERED);
    assert_string_equal(f->dlr[i].src, "15550002");
  }
  /* "2401021531" read as UTC. */
  assert_int_equal(f->dlr[0].done_ms, 1704209460000LL);
  sg_smpp_client_xstats_t xs;
  sg_smpp_client_xstats(f->c, &xs);
  assert_true(xs.dlr_held >= 1);
  assert_int_equal(xs.dlr_hold_expired, 0);
  fx_free(f);
}

/* A receipt waits at most dlr_hold_ms for an older submit that is never
 * answered, then is passed on anyway (the submit still in flight). */
static void test_dlr_hold_expires(void **state) {
  (void)state;
  fx_t *f = fx_new();
  peer_start(f, PEER_SESSION);
  strcpy(f->peer.silent_dst, "15550003");
  sg_smpp_client_config_t cfg;
  fx_config(f, f->peer.port, &cfg);
  cfg.dlr_hold_ms = 150;
  cfg.response_timeout_ms = 5000;
  fx_connect(f, &cfg);
  sg_conn_part_t p = fx_part(1, "+15550003", "never answered");
  assert_int_equal(sg_connector_submit(f->c, &p), 0);
  for (int i = 0; i < 300 && f->peer.submits < 1; i++)
    fx_run_for(f, 5);
  static sg_smpp_pdu_t pdu;
  sg_smpp_pdu_init(&pdu, SG_SMPP_DELIVER_SM, 0);
  pdu.body.deliver_sm.esm_class = 0x04;
  strcpy(pdu.body.deliver_sm.source_addr, "15550009");
  sg_smpp_tlv_set_cstr(&pdu, SG_SMPP_TLV_RECEIPTED_MESSAGE_ID, "beef");
  sg_smpp_tlv_set_int(&pdu, SG_SMPP_TLV_MESSAGE_STATE, 2, 0);
  uint64_t t0 = uv_now(&f->loop);
  peer_send(f, &pdu);
  int one = 1;
  assert_true(fx_run_until(f, fx_pred_dlrs, &one, 3000));
  uint64_t waited = uv_now(&f->loop) - t0;
  assert_true(waited >= 140 && waited < 1000);
  assert_string_equal(f->dlr[0].smsc_id, "48879"); /* AUTO: hex "beef" */
  assert_int_equal(f->n_results, 0);
  sg_smpp_client_xstats_t xs;
  sg_smpp_client_xstats(f->c, &xs);
  assert_int_equal(xs.dlr_held, 1);
  assert_int_equal(xs.dlr_hold_expired, 1);
  fx_free(f);
}

/* A receiver-only connector takes no parts, but reports receipts. */
static void test_receiver_only(void **state) {
  (void)state;
  fx_t *f = fx_new();
  peer_start(f, PEER_SESSION);
  sg_smpp_client_config_t cfg;
  fx_config(f, f->peer.port, &cfg);
  cfg.bind_type = SG_SMPP_BIND_RX;
  fx_connect(f, &cfg);
  assert_true(fx_run_until(f, fx_pred_up, NULL, 3000));
  sg_conn_part_t p = fx_part(1, "+15550003", "no");
  assert_int_equal(sg_connector_submit(f->c, &p), SG_ESTATE);
  static sg_smpp_pdu_t pdu;
  put_deliver(&pdu, 0x04, "id:7 stat:DELIVRD err:000 text:x");
  peer_send(f, &pdu);
  int one = 1;
  assert_true(fx_run_until(f, fx_pred_dlrs, &one, 3000));
  assert_string_equal(f->dlr[0].smsc_id, "7");
  fx_free(f);
}

/* An MO message of two UCS-2 parts from the simulator: inbound_cb gets each
 * part with its UDH split off and data_coding 8; the acks reach the SMSC. */
static void test_inbound(void **state) {
  (void)state;
  fx_t *f = fx_new();
  fx_sim(f, NULL);
  sg_smpp_client_config_t cfg;
  fx_config(f, sg_sim_smsc_port(f->sim), &cfg);
  fx_connect(f, &cfg);
  assert_true(fx_run_until(f, fx_pred_up, NULL, 3000));
  char text[400] = "";
  for (int i = 0; i < 80; i++)
    strcat(text, "\xD0\xAF"); /* U+042F, 80 times: two UCS-2 parts */
  assert_int_equal(
      sg_sim_smsc_mo(f->sim, NULL, "+79001234567", "100", text, SG_ENC_UCS2),
      2);
  for (int i = 0; i < 300 && f->n_in < 2; i++)
    fx_run_for(f, 10);
  assert_int_equal(f->n_in, 2);
  for (int i = 0; i < 2; i++) {
    fx_inbound_t *in = &f->in[i];
    assert_int_equal(in->data_coding, 0x08);
    assert_true(in->esm_class & 0x40);
    assert_int_equal(in->udh_len, 6);
    assert_int_equal(in->udh[0], 5);
    assert_int_equal(in->udh[5], i + 1);
    assert_string_equal(in->src, "79001234567");
    assert_int_equal(in->ud[0], 0x04);
    assert_int_equal(in->ud[1], 0x2F);
  }
  assert_int_equal(f->in[0].ud_len, 134);
  assert_int_equal(f->in[1].ud_len, 26);
  sg_sim_smsc_stats_t ss;
  for (int i = 0; i < 100; i++) {
    sg_sim_smsc_stats(f->sim, &ss);
    if (ss.mo_acked == 2)
      break;
    fx_run_for(f, 10);
  }
  assert_int_equal(ss.mo_acked, 2);
  fx_free(f);
}

/* id_mode AUTO against an SMSC that answers in hex and writes receipts in
 * decimal: ids 100F, 1010 ... 101A. 100F teaches the result side that the
 * ids are hex, so 1010 (no letter) is keyed 4112 like its receipt's decimal
 * id, not 1010. */
static void test_auto_learns_hex_ids(void **state) {
  (void)state;
  fx_t *f = fx_new();
  peer_start(f, PEER_SESSION);
  f->peer.dlr_before_resp = true;
  f->peer.receipt_decimal = true;
  f->peer.id_base = 0x100F;
  sg_smpp_client_config_t cfg;
  fx_config(f, f->peer.port, &cfg);
  assert_int_equal(cfg.id_mode, SG_MSGID_AUTO);
  cfg.window = 1; /* in order: 100F is answered first */
  fx_connect(f, &cfg);
  assert_true(fx_run_until(f, fx_pred_up, NULL, 3000));
  enum { N = 12 };
  for (int i = 0; i < N; i++) {
    submit_report_part(f, i);
  }
  int want = N;
  assert_true(fx_run_until(f, fx_pred_results, &want, 5000));
  assert_true(fx_run_until(f, fx_pred_dlrs, &want, 5000));
  for (int i = 0; i < N; i++) {
    char expect[24];
    snprintf(expect, sizeof expect, "%d", 0x100F + i);
    assert_string_equal(f->res[i].smsc_id, expect);
    assert_string_equal(f->dlr[i].smsc_id, expect);
  }
  fx_free(f);
}

/* id_mode AUTO against an SMSC whose ids are hex on both sides: ids 1000
 * ... 1011. Until a receipt id with a letter (100A) came, all-digit ids are
 * keyed as decimal and carry their hex reading as the alternative (the key
 * of a part answered before a restart of smsgate or a reload, when the
 * result side had learned hex and the receipt side has not yet); after
 * it, 1010 and 1011 are keyed as hex and carry their decimal key as the
 * alternative, which is what the result side gave a part whose
 * submit_sm_resp came before that side learned (a receipt held back by a
 * reconnect comes after it). */
static void test_auto_alt_key(void **state) {
  (void)state;
  fx_t *f = fx_new();
  peer_start(f, PEER_SESSION);
  f->peer.dlr_before_resp = true;
  f->peer.id_base = 0x1000;
  sg_smpp_client_config_t cfg;
  fx_config(f, f->peer.port, &cfg);
  cfg.window = 1; /* in order */
  fx_connect(f, &cfg);
  assert_true(fx_run_until(f, fx_pred_up, NULL, 3000));
  enum { N = 18 };
  for (int i = 0; i < N; i++) {
    submit_report_part(f, i);
    int want = i + 1; /* one at a time: each receipt before the next id */
    assert_true(fx_run_until(f, fx_pred_dlrs, &want, 5000));
  }
  for (int i = 0; i < N; i++) {
    char hex[8], dec[16];
    snprintf(hex, sizeof hex, "%X", 0x1000 + i);
    snprintf(dec, sizeof dec, "%d", 0x1000 + i);
    if (i < 10) { /* 1000 ... 1009: decimal, hex as the alternative */
      assert_string_equal(f->dlr[i].smsc_id, hex);
      assert_string_equal(f->dlr[i].smsc_id_alt, dec);
    } else if (i < 16) { /* 100A ... 100F: a letter, one reading */
      assert_string_equal(f->dlr[i].smsc_id, dec);
      assert_string_equal(f->dlr[i].smsc_id_alt, "");
    } else { /* 1010, 1011: hex now, decimal as the alternative */
      assert_string_equal(f->dlr[i].smsc_id, dec);
      assert_string_equal(f->dlr[i].smsc_id_alt, hex);
    }
  }
  fx_free(f);
}

/* id_mode AUTO, the other way round: ids 100F, 1010, 1011 answered (100F
 * teaches the result side hex, so 1010 and 1011 are stored as 4112 and
 * 4113), and the receipt of 1010 arrives before any receipt id with a
 * letter (those held back by a reconnect). The receipt side still reads
 * 1010 as decimal, and carries the key its part was stored under as the
 * alternative; once 100F's receipt taught it hex, 1011 is keyed as hex
 * with its decimal reading as the alternative. */
static void test_auto_alt_key_resp_learned(void **state) {
  (void)state;
  fx_t *f = fx_new();
  peer_start(f, PEER_SESSION);
  f->peer.id_base = 0x100F;
  sg_smpp_client_config_t cfg;
  fx_config(f, f->peer.port, &cfg);
  cfg.window = 1; /* in order: 100F is answered first */
  fx_connect(f, &cfg);
  assert_true(fx_run_until(f, fx_pred_up, NULL, 3000));
  for (int i = 0; i < 3; i++)
    submit_report_part(f, i);
  int want = 3;
  assert_true(fx_run_until(f, fx_pred_results, &want, 5000));
  assert_string_equal(f->res[0].smsc_id, "4111");
  assert_string_equal(f->res[1].smsc_id, "4112");
  assert_string_equal(f->res[2].smsc_id, "4113");
  sg_smpp_link_t *l = NULL;
  for (unsigned i = 0; i < 16 && l == NULL; i++)
    l = f->peer.links[i];
  assert_non_null(l);
  const char *ids[] = {"1010", "100F", "1011"};
  for (int i = 0; i < 3; i++) {
    peer_send_receipt(l, ids[i], "447009000000");
    want = i + 1;
    assert_true(fx_run_until(f, fx_pred_dlrs, &want, 5000));
  }
  assert_string_equal(f->dlr[0].smsc_id, "1010");
  assert_string_equal(f->dlr[0].smsc_id_alt, f->res[1].smsc_id);
  assert_string_equal(f->dlr[1].smsc_id, f->res[0].smsc_id);
  assert_string_equal(f->dlr[1].smsc_id_alt, "");
  assert_string_equal(f->dlr[2].smsc_id, f->res[2].smsc_id);
  assert_string_equal(f->dlr[2].smsc_id_alt, "1011");
  fx_free(f);
}

/* The same when the receipt comes before its submit_sm_resp and waits in
 * the connector (dlr_hold_ms) behind the submits in flight: the simulator
 * answers 100F (no report asked) and 1010 after 100 ms, and sends 1010's
 * receipt 10 ms after its submit. The receipt arrives while neither side
 * has seen a letter; 100F's answer teaches the result side hex before
 * 1010's answer (stored as 4112) releases the receipt, which then carries
 * that key as its alternative. */
static void test_auto_alt_key_held_receipt(void **state) {
  (void)state;
  fx_t *f = fx_new();
  sg_sim_smsc_config_t sc;
  sg_sim_smsc_config_default(&sc);
  sc.id_start = 0x100F;
  sc.latency_ms = 100;
  sc.dlr_delay_ms = 10;
  sc.dlr_early = true;
  fx_sim(f, &sc);
  sg_smpp_client_config_t cfg;
  fx_config(f, sg_sim_smsc_port(f->sim), &cfg);
  fx_connect(f, &cfg);
  assert_true(fx_run_until(f, fx_pred_up, NULL, 3000));
  sg_conn_part_t p = fx_part(0, "+447009000000", "no report");
  assert_int_equal(sg_connector_submit(f->c, &p), 0);
  submit_report_part(f, 1);
  int want = 2;
  assert_true(fx_run_until(f, fx_pred_results, &want, 5000));
  want = 1;
  assert_true(fx_run_until(f, fx_pred_dlrs, &want, 5000));
  assert_string_equal(f->res[0].smsc_id, "4111");
  assert_string_equal(f->res[1].smsc_id, "4112");
  assert_int_equal(f->dlr[0].results_before, 2); /* it waited for both */
  assert_string_equal(f->dlr[0].smsc_id, "1010");
  assert_string_equal(f->dlr[0].smsc_id_alt, "4112");
  fx_free(f);
}

/* What the SMSC may send besides plain deliver_sm receipts: a data_sm
 * receipt with TLVs only (network_error_code gives the error), a data_sm
 * MO with message_payload and SAR TLVs, an intermediate notification
 * (esm_class 0x20), a receipt without any id (answered ESME_RX_P_APPN, not
 * reported), a UDHI message whose UDHL overruns (ESME_RINVESMCLASS), and a
 * receipt whose id is decimal while submit_sm_resp gave hex. */
static void test_rx_variants(void **state) {
  (void)state;
  fx_t *f = fx_new();
  peer_start(f, PEER_SESSION);
  f->peer.dlr_before_resp = true;
  f->peer.receipt_decimal = true;
  sg_smpp_client_config_t cfg;
  fx_config(f, f->peer.port, &cfg);
  cfg.id_mode = SG_MSGID_HEX;
  cfg.receipt_id_mode_set = true;
  cfg.receipt_id_mode = SG_MSGID_DECIMAL;
  fx_connect(f, &cfg);
  assert_true(fx_run_until(f, fx_pred_up, NULL, 3000));

  static sg_smpp_pdu_t pdu;
  /* 1: data_sm receipt, TLVs only. */
  sg_smpp_pdu_init(&pdu, SG_SMPP_DATA_SM, 0);
  pdu.body.data_sm.esm_class = 0x04;
  strcpy(pdu.body.data_sm.source_addr, "79001234567");
  strcpy(pdu.body.data_sm.destination_addr, "7575");
  sg_smpp_tlv_set_cstr(&pdu, SG_SMPP_TLV_RECEIPTED_MESSAGE_ID, "000031");
  sg_smpp_tlv_set_int(&pdu, SG_SMPP_TLV_MESSAGE_STATE, 5, 0);
  static const uint8_t nec[3] = {0x03, 0x00, 0x0D};
  sg_smpp_tlv_set_bytes(&pdu, SG_SMPP_TLV_NETWORK_ERROR_CODE, nec, 3);
  peer_send(f, &pdu);
  int one = 1;
  assert_true(fx_run_until(f, fx_pred_dlrs, &one, 3000));
  assert_string_equal(f->dlr[0].smsc_id, "31"); /* DECIMAL key */
  assert_int_equal(f->dlr[0].state, SG_DLR_UNDELIVERABLE);
  assert_int_equal(f->dlr[0].error, 13);

  /* 2: data_sm MO with message_payload and SAR TLVs. */
  sg_smpp_pdu_init(&pdu, SG_SMPP_DATA_SM, 0);
  strcpy(pdu.body.data_sm.source_addr, "79001234567");
  strcpy(pdu.body.data_sm.destination_addr, "7575");
  pdu.body.data_sm.data_coding = 0x08;
  static const uint8_t payload[] = {0x04, 0x2F, 0x04, 0x30};
  sg_smpp_tlv_set_bytes(&pdu, SG_SMPP_TLV_MESSAGE_PAYLOAD, payload, 4);
  sg_smpp_tlv_set_int(&pdu, SG_SMPP_TLV_SAR_MSG_REF_NUM, 0x1234, 0);
  sg_smpp_tlv_set_int(&pdu, SG_SMPP_TLV_SAR_TOTAL_SEGMENTS, 2, 0);
  sg_smpp_tlv_set_int(&pdu, SG_SMPP_TLV_SAR_SEGMENT_SEQNUM, 1, 0);
  peer_send(f, &pdu);
  for (int i = 0; i < 300 && f->n_in < 1; i++)
    fx_run_for(f, 10);
  assert_int_equal(f->n_in, 1);
  assert_int_equal(f->in[0].data_coding, 0x08);
  assert_int_equal(f->in[0].ud_len, 4);
  assert_memory_equal(f->in[0].ud, payload, 4);
  assert_int_equal(f->in[0].udh_len, 0);
  assert_string_equal(f->in[0].dst, "7575");

  /* 3: intermediate notification, text only. */
  put_deliver(&pdu, 0x20,
              "id:00A1 sub:001 dlvrd:000 submit date:2401021530 done "
              "date:2401021530 stat:ENROUTE err:000 text:");
  peer_send(f, &pdu);
  int two = 2;
  assert_true(fx_run_until(f, fx_pred_dlrs, &two, 3000));
  assert_int_equal(f->dlr[1].state, SG_DLR_ENROUTE);
  /* Not a decimal number: the NOCASE key of the id, as documented. */
  assert_string_equal(f->dlr[1].smsc_id, "00a1");

  /* 4: a receipt with no id anywhere. */
  put_deliver(&pdu, 0x04, "stat:DELIVRD err:000");
  peer_send(f, &pdu);
  /* 5: UDHI with a UDHL past the end. */
  put_deliver(&pdu, 0x40, "\x09\x00\x03");
  peer_send(f, &pdu);
  for (int i = 0; i < 300 && f->peer.n_resp < 5; i++)
    fx_run_for(f, 10);
  assert_int_equal(f->peer.n_resp, 5);
  assert_int_equal(f->peer.resp_status[0], 0);
  assert_int_equal(f->peer.resp_status[1], 0);
  assert_int_equal(f->peer.resp_status[2], 0);
  assert_int_equal(f->peer.resp_status[3], SG_SMPP_ESME_RX_P_APPN);
  assert_int_equal(f->peer.resp_status[4], SG_SMPP_ESME_RINVESMCLASS);
  assert_int_equal(f->n_dlr, 2);
  assert_int_equal(f->n_in, 1);

  /* 6: SENT with the hex id of submit_sm_resp, the receipt in decimal:
   * the two keys are equal. */
  sg_conn_part_t p = fx_part(1, "+15550002", "hex and decimal");
  p.want_report = true;
  assert_int_equal(sg_connector_submit(f->c, &p), 0);
  int three = 3;
  assert_true(fx_run_until(f, fx_pred_dlrs, &three, 3000));
  assert_string_equal(f->res[1].smsc_id, "40960"); /* 0xA000 */
  assert_string_equal(f->dlr[2].smsc_id, "40960");
  sg_smpp_client_xstats_t xs;
  sg_smpp_client_xstats(f->c, &xs);
  assert_int_equal(xs.dlr_unusable, 1);
  fx_free(f);
}

/* ---- Errors ------------------------------------------------------------- */

/* ESME_RINVDSTADR: PERMFAIL with the status and its text, sent once; the
 * later parts of the same message are not sent and fail the same way. */
static void test_perm_error(void **state) {
  (void)state;
  fx_t *f = fx_new();
  peer_start(f, PEER_SESSION);
  strcpy(f->peer.perm_dst, "15550099");
  f->peer.perm_status = SG_SMPP_ESME_RINVDSTADR;
  sg_smpp_client_config_t cfg;
  fx_config(f, f->peer.port, &cfg);
  fx_connect(f, &cfg);
  char longtext[300];
  memset(longtext, 'z', 200);
  longtext[200] = '\0';
  assert_int_equal(
      submit_text(f, 1, "+15550099", longtext, SG_ENC_GSM7, 9, false), 2);
  sg_conn_part_t ok = fx_part(3, "+15550001", "fine");
  assert_int_equal(sg_connector_submit(f->c, &ok), 0);
  int want = 3;
  assert_true(fx_run_until(f, fx_pred_results, &want, 3000));
  assert_int_equal(f->res[1].outcome, SG_CONN_PERMFAIL);
  assert_int_equal(f->res[1].status, SG_SMPP_ESME_RINVDSTADR);
  assert_string_equal(f->res[1].text, "Invalid Dest Addr");
  assert_int_equal(f->res[1].attempts, 1);
  assert_int_equal(f->res[2].outcome, SG_CONN_PERMFAIL);
  assert_int_equal(f->res[2].status, SG_SMPP_ESME_RINVDSTADR);
  assert_int_equal(f->res[2].attempts, 0);
  assert_int_equal(f->res[3].outcome, SG_CONN_SENT);
  assert_int_equal(f->peer.submits, 2); /* part 2 never left */
  sg_conn_stats_t st;
  sg_connector_stats(f->c, &st);
  assert_int_equal(st.perm_errors, 1);
  fx_free(f);
}

/* ESME_RSYSERR is temporary: resent with back-off max_temp_retries times,
 * then TEMPFAIL; one that succeeds on the third try is SENT, attempts 3.
 * An override makes a vendor status mean "throttled". */
static void test_temp_errors(void **state) {
  (void)state;
  fx_t *f = fx_new();
  peer_start(f, PEER_SESSION);
  strcpy(f->peer.temp_dst, "15550077");
  f->peer.temp_status = SG_SMPP_ESME_RSYSERR;
  f->peer.temp_times = -1;
  sg_smpp_client_config_t cfg;
  fx_config(f, f->peer.port, &cfg);
  cfg.max_temp_retries = 2;
  fx_connect(f, &cfg);
  sg_conn_part_t p = fx_part(1, "+15550077", "temp");
  assert_int_equal(sg_connector_submit(f->c, &p), 0);
  int want = 1;
  assert_true(fx_run_until(f, fx_pred_results, &want, 3000));
  assert_int_equal(f->res[1].outcome, SG_CONN_TEMPFAIL);
  assert_int_equal(f->res[1].status, SG_SMPP_ESME_RSYSERR);
  assert_string_equal(f->res[1].text, "System Error");
  assert_int_equal(f->res[1].attempts, 3);
  /* Now it passes on the third attempt. */
  f->peer.temp_times = 2;
  f->peer.temp_answered = 0;
  p.id = 2;
  assert_int_equal(sg_connector_submit(f->c, &p), 0);
  want = 2;
  assert_true(fx_run_until(f, fx_pred_results, &want, 3000));
  assert_int_equal(f->res[2].outcome, SG_CONN_SENT);
  assert_int_equal(f->res[2].attempts, 3);
  sg_conn_stats_t st;
  sg_connector_stats(f->c, &st);
  assert_int_equal(st.temp_errors, 5);
  fx_free(f);

  /* Override: vendor status 0x400 means "throttled" for this SMSC. */
  f = fx_new();
  peer_start(f, PEER_SESSION);
  strcpy(f->peer.temp_dst, "15550077");
  f->peer.temp_status = 0x400;
  f->peer.temp_times = 5;
  fx_config(f, f->peer.port, &cfg);
  cfg.max_temp_retries = 0;
  sg_smpp_errclass_override_t ov = {0x400, SG_SMPP_EC_THROTTLE};
  cfg.status_overrides = &ov;
  cfg.n_status_overrides = 1;
  fx_connect(f, &cfg);
  p.id = 1;
  assert_int_equal(sg_connector_submit(f->c, &p), 0);
  want = 1;
  assert_true(fx_run_until(f, fx_pred_results, &want, 10000));
  assert_int_equal(f->res[1].outcome, SG_CONN_SENT);
  assert_int_equal(f->res[1].attempts, 6);
  sg_connector_stats(f->c, &st);
  assert_int_equal(st.throttled, 5);
  fx_free(f);
}

/* A generic_nack answering a submit_sm fails it with the nack's status
 * (section 4.3): ESME_RINVCMDLEN is permanent, ESME_RSYSERR temporary. */
static void test_generic_nack(void **state) {
  (void)state;
  fx_t *f = fx_new();
  peer_start(f, PEER_NACK);
  f->peer.nack_status = SG_SMPP_ESME_RINVCMDLEN;
  sg_smpp_client_config_t cfg;
  fx_config(f, f->peer.port, &cfg);
  cfg.max_temp_retries = 1;
  fx_connect(f, &cfg);
  sg_conn_part_t p = fx_part(1, "+15550066", "nack");
  assert_int_equal(sg_connector_submit(f->c, &p), 0);
  int want = 1;
  assert_true(fx_run_until(f, fx_pred_results, &want, 3000));
  assert_int_equal(f->res[1].outcome, SG_CONN_PERMFAIL);
  assert_int_equal(f->res[1].status, SG_SMPP_ESME_RINVCMDLEN);
  f->peer.nack_status = SG_SMPP_ESME_RSYSERR;
  p.id = 2;
  assert_int_equal(sg_connector_submit(f->c, &p), 0);
  want = 2;
  assert_true(fx_run_until(f, fx_pred_results, &want, 3000));
  assert_int_equal(f->res[2].outcome, SG_CONN_TEMPFAIL);
  assert_int_equal(f->res[2].attempts, 2);
  fx_free(f);
}

/* ---- Throttling ---------------------------------------------------------- */

static bool pred_storm_done(fx_t *f, const void *arg) {
  return f->n_results >= *(const int *)arg;
}

/* The simulator answers 20% of submits ESME_RTHROTTLED: every part is
 * eventually SENT exactly once, the parts of each message reach the SMSC
 * in order, and the rate was cut below the configured limit. */
static void test_throttle_storm(void **state) {
  (void)state;
  fx_t *f = fx_new();
  sg_sim_smsc_config_t sc;
  sg_sim_smsc_config_default(&sc);
  sc.throttle = 0.2;
  sc.seed = 7;
  sim_with_record(f, &sc);
  sg_smpp_client_config_t cfg;
  fx_config(f, sg_sim_smsc_port(f->sim), &cfg);
  cfg.window = 20;
  cfg.rate_limit = 5000;
  fx_connect(f, &cfg);
  char longtext[500];
  memset(longtext, 'q', 400);
  longtext[400] = '\0';
  uint64_t id = 0;
  enum { SINGLES = 200, MSGS = 20 };
  for (int m = 0; m < MSGS; m++) {
    id += submit_text(f, id, "+15551234", longtext, SG_ENC_GSM7,
                      (uint16_t)(m + 1), false);
    for (int s = 0; s < SINGLES / MSGS; s++) {
      sg_conn_part_t p = fx_part(id++, "+15551235", "single");
      assert_int_equal(sg_connector_submit(f->c, &p), 0);
    }
  }
  int total = (int)id;
  assert_int_equal(total, SINGLES + MSGS * 3);
  assert_true(fx_run_until(f, pred_storm_done, &total, 30000));
  for (int i = 0; i < total; i++) {
    assert_int_equal(f->res[i].count, 1);
    assert_int_equal(f->res[i].outcome, SG_CONN_SENT);
  }
  sg_conn_stats_t st;
  sg_connector_stats(f->c, &st);
  assert_true(st.throttled > 0);
  assert_true(st.rate_limit > 0 && st.rate_limit < 5000);
  sg_smpp_client_xstats_t xs;
  sg_smpp_client_xstats(f->c, &xs);
  assert_true(xs.rate_cuts >= 1);
  /* Order on the wire: per reference, seq 1, 2, 3 exactly once each. */
  static rec_t rec[400];
  int n = read_record(f, rec, 400);
  assert_int_equal(n, total);
  unsigned next[MSGS + 1] = {0};
  for (int i = 0; i < n; i++) {
    if (rec[i].total != 3)
      continue;
    assert_true(rec[i].ref >= 1 && rec[i].ref <= MSGS);
    assert_int_equal(rec[i].seq, next[rec[i].ref] + 1);
    next[rec[i].ref]++;
  }
  for (int m = 1; m <= MSGS; m++)
    assert_int_equal(next[m], 3);
  fx_free(f);
}

/* A limit of 100 parts/s holds: 40 parts take at least ~0.35 s (the bucket
 * starts with 10 tokens). */
static void test_rate_limit(void **state) {
  (void)state;
  fx_t *f = fx_new();
  fx_sim(f, NULL);
  sg_smpp_client_config_t cfg;
  fx_config(f, sg_sim_smsc_port(f->sim), &cfg);
  cfg.rate_limit = 100;
  fx_connect(f, &cfg);
  assert_true(fx_run_until(f, fx_pred_up, NULL, 3000));
  uint64_t t0 = uv_now(&f->loop);
  for (int i = 0; i < 40; i++) {
    sg_conn_part_t p = fx_part((uint64_t)i, "+15550001", "slow");
    assert_int_equal(sg_connector_submit(f->c, &p), 0);
  }
  int want = 40;
  assert_true(fx_run_until(f, fx_pred_results, &want, 5000));
  uint64_t took = uv_now(&f->loop) - t0;
  assert_true(took >= 290);
  assert_true(took < 2000);
  sg_conn_stats_t st;
  sg_connector_stats(f->c, &st);
  assert_true(st.rate_limit == 100.0);
  fx_free(f);
}

/* ---- Lost connections and bad peers ------------------------------------- */

static bool pred_window_full(fx_t *f, const void *arg) {
  sg_conn_stats_t st;
  sg_connector_stats(f->c, &st);
  return st.window_used >= *(const unsigned *)arg;
}

/* The connection drops with a full window (the simulator answers after
 * 300 ms): every part gets exactly one result, the ten in flight were
 * resent on the new bind and counted as unknown retries; nothing lost. */
static void test_drop_full_window(void **state) {
  (void)state;
  fx_t *f = fx_new();
  sg_sim_smsc_config_t sc;
  sg_sim_smsc_config_default(&sc);
  sc.latency_ms = 300;
  fx_sim(f, &sc);
  sg_smpp_client_config_t cfg;
  fx_config(f, sg_sim_smsc_port(f->sim), &cfg);
  cfg.window = 10;
  fx_connect(f, &cfg);
  enum { N = 30 };
  for (int i = 0; i < N; i++) {
    sg_conn_part_t p = fx_part((uint64_t)i, "+15550001", "drop me");
    assert_int_equal(sg_connector_submit(f->c, &p), 0);
  }
  unsigned ten = 10;
  assert_true(fx_run_until(f, pred_window_full, &ten, 3000));
  assert_int_equal(sg_sim_smsc_drop(f->sim), 1);
  int want = N;
  assert_true(fx_run_until(f, fx_pred_results, &want, 10000));
  fx_run_for(f, 100);
  assert_int_equal(f->n_results, N);
  unsigned resent = 0;
  for (int i = 0; i < N; i++) {
    assert_int_equal(f->res[i].count, 1);
    assert_int_equal(f->res[i].outcome, SG_CONN_SENT);
    resent += f->res[i].attempts == 2;
  }
  assert_int_equal(resent, 10);
  sg_conn_stats_t st;
  sg_connector_stats(f->c, &st);
  assert_int_equal(st.unknown_retries, 10);
  assert_true(st.reconnects >= 1);
  assert_int_equal(st.timeouts, 0);
  fx_free(f);
}

/* A peer that binds and then answers nothing: the idle enquire_link goes
 * unanswered, the session is declared dead and closed; the part in flight
 * is resent once on the next bind and then reported UNKNOWN. */
static void test_enquire_link_timeout(void **state) {
  (void)state;
  fx_t *f = fx_new();
  peer_start(f, PEER_MUTE);
  sg_smpp_client_config_t cfg;
  fx_config(f, f->peer.port, &cfg);
  cfg.enquire_link_interval_ms = 100;
  cfg.enquire_link_timeout_ms = 100;
  cfg.response_timeout_ms = 10000;
  fx_connect(f, &cfg);
  sg_conn_part_t p = fx_part(1, "+15550001", "into the void");
  assert_int_equal(sg_connector_submit(f->c, &p), 0);
  int one = 1;
  assert_true(fx_run_until(f, fx_pred_results, &one, 5000));
  assert_int_equal(f->res[1].outcome, SG_CONN_UNKNOWN);
  assert_int_equal(f->res[1].attempts, 2);
  sg_conn_stats_t st;
  sg_connector_stats(f->c, &st);
  assert_int_equal(st.unknown_retries, 1);
  assert_true(st.reconnects >= 1);
  assert_true(f->peer.connections >= 2);
  fx_free(f);
}

/* The response timeout: no answer within response_timeout_ms is also
 * unknown (counted in timeouts), resent, then UNKNOWN. */
static void test_response_timeout(void **state) {
  (void)state;
  fx_t *f = fx_new();
  peer_start(f, PEER_MUTE);
  sg_smpp_client_config_t cfg;
  fx_config(f, f->peer.port, &cfg);
  cfg.response_timeout_ms = 100;
  cfg.enquire_link_interval_ms = 0;
  fx_connect(f, &cfg);
  sg_conn_part_t p = fx_part(1, "+15550001", "slow peer");
  assert_int_equal(sg_connector_submit(f->c, &p), 0);
  int one = 1;
  assert_true(fx_run_until(f, fx_pred_results, &one, 3000));
  assert_int_equal(f->res[1].outcome, SG_CONN_UNKNOWN);
  assert_int_equal(f->res[1].attempts, 2);
  assert_string_equal(f->res[1].text, "no response from the SMSC");
  sg_conn_stats_t st;
  sg_connector_stats(f->c, &st);
  assert_int_equal(st.timeouts, 2);
  assert_int_equal(st.unknown_retries, 1);
  fx_free(f);
}

static void check_parts_kept(fx_t *f, int n) {
  assert_int_equal(f->n_results, 0);
  sg_conn_stats_t st;
  sg_connector_stats(f->c, &st);
  assert_int_equal(st.queued, (unsigned)n);
  assert_int_equal(st.binds_up, 0);
  assert_true(st.state == SG_CONN_DOWN || st.state == SG_CONN_CONNECTING);
  /* Stopping reports them as never sent. */
  sg_connector_stop(f->c, fx_stopped_cb);
  assert_true(fx_run_until(f, fx_pred_results, &n, 3000));
  for (int i = 0; i < n; i++) {
    assert_int_equal(f->res[i].outcome, SG_CONN_TEMPFAIL);
    assert_int_equal(f->res[i].attempts, 0);
  }
}

/* A peer that writes octets that are not SMPP: an unknown command_id, then
 * a command_length of 1.2 GB. The connector keeps reconnecting, the parts
 * stay queued, nothing crashes. */
static void test_garbage_peer(void **state) {
  (void)state;
  fx_t *f = fx_new();
  peer_start(f, PEER_GARBAGE);
  sg_smpp_client_config_t cfg;
  fx_config(f, f->peer.port, &cfg);
  fx_connect(f, &cfg);
  for (int i = 0; i < 3; i++) {
    sg_conn_part_t p = fx_part((uint64_t)i, "+15550001", "waiting");
    assert_int_equal(sg_connector_submit(f->c, &p), 0);
  }
  fx_run_for(f, 500);
  assert_true(f->peer.connections >= 2);
  sg_smpp_client_xstats_t xs;
  sg_smpp_client_xstats(f->c, &xs);
  assert_true(xs.protocol_errors >= 1);
  check_parts_kept(f, 3);
  fx_free(f);
}

/* A peer that never answers the bind: bind timeouts, reconnects with
 * back-off, parts kept. */
static void test_bind_never_answered(void **state) {
  (void)state;
  fx_t *f = fx_new();
  peer_start(f, PEER_SILENT);
  sg_smpp_client_config_t cfg;
  fx_config(f, f->peer.port, &cfg);
  cfg.bind_timeout_ms = 100;
  fx_connect(f, &cfg);
  for (int i = 0; i < 4; i++) {
    sg_conn_part_t p = fx_part((uint64_t)i, "+15550001", "waiting");
    assert_int_equal(sg_connector_submit(f->c, &p), 0);
  }
  fx_run_for(f, 800);
  sg_smpp_client_xstats_t xs;
  sg_smpp_client_xstats(f->c, &xs);
  assert_true(xs.bind_failures >= 2);
  assert_true(f->peer.connections >= 2);
  check_parts_kept(f, 4);
  fx_free(f);
}

/* Nobody listens: connect failures, back-off, parts kept. */
static void test_nobody_listens(void **state) {
  (void)state;
  fx_t *f = fx_new();
  peer_start(f, PEER_SILENT);
  uint16_t port = f->peer.port;
  peer_close_all(&f->peer); /* the port is free again */
  sg_smpp_client_config_t cfg;
  fx_config(f, port, &cfg);
  fx_connect(f, &cfg);
  sg_conn_part_t p = fx_part(0, "+15550001", "nobody");
  assert_int_equal(sg_connector_submit(f->c, &p), 0);
  fx_run_for(f, 300);
  sg_smpp_client_xstats_t xs;
  sg_smpp_client_xstats(f->c, &xs);
  assert_true(xs.connect_failures >= 2);
  check_parts_kept(f, 1);
  fx_free(f);
}

/* ---- TLS ---------------------------------------------------------------- */

static void data_path(const char *name, char *out, size_t cap) {
  const char *here = __FILE__; /* .../tests/unit/connector/this.c */
  const char *cut = strstr(here, "/unit/connector/");
  assert_non_null(cut);
  snprintf(out, cap, "%.*s/data/tls/%s", (int)(cut - here), here, name);
}

static void test_tls(void **state) {
  (void)state;
  char cert[512], key[512], ca[512];
  data_path("server.pem", cert, sizeof cert);
  data_path("server.key", key, sizeof key);
  data_path("ca.pem", ca, sizeof ca);
  for (int trusted = 1; trusted >= 0; trusted--) {
    fx_t *f = fx_new();
    sg_sim_smsc_config_t sc;
    sg_sim_smsc_config_default(&sc);
    sc.tls_cert = cert;
    sc.tls_key = key;
    fx_sim(f, &sc);
    sg_smpp_client_config_t cfg;
    fx_config(f, sg_sim_smsc_tls_port(f->sim), &cfg);
    cfg.tls = true;
    cfg.tls_ca_file = trusted ? ca : NULL;
    fx_connect(f, &cfg);
    sg_conn_part_t p = fx_part(0, "+15550001", "secret");
    assert_int_equal(sg_connector_submit(f->c, &p), 0);
    if (trusted) {
      int one = 1;
      assert_true(fx_run_until(f, fx_pred_results, &one, 5000));
      assert_int_equal(f->res[0].outcome, SG_CONN_SENT);
    } else {
      fx_run_for(f, 400);
      sg_smpp_client_xstats_t xs;
      sg_smpp_client_xstats(f->c, &xs);
      assert_true(xs.connect_failures >= 1);
      sg_sim_smsc_stats_t ss;
      sg_sim_smsc_stats(f->sim, &ss);
      assert_int_equal(ss.binds, 0);
      check_parts_kept(f, 1);
    }
    fx_free(f);
  }
}

/* ---- Binds, stop, the submit contract ----------------------------------- */

/* Three transceiver binds share the traffic. */
static void test_several_binds(void **state) {
  (void)state;
  fx_t *f = fx_new();
  fx_sim(f, NULL);
  sg_smpp_client_config_t cfg;
  fx_config(f, sg_sim_smsc_port(f->sim), &cfg);
  cfg.binds = 3;
  cfg.window = 4;
  fx_connect(f, &cfg);
  assert_true(fx_run_until(f, fx_pred_up, NULL, 3000));
  sg_conn_stats_t st;
  sg_connector_stats(f->c, &st);
  assert_int_equal(st.binds_up, 3);
  for (int i = 0; i < 300; i++) {
    sg_conn_part_t p = fx_part((uint64_t)i, "+15550001", "spread");
    assert_int_equal(sg_connector_submit(f->c, &p), 0);
  }
  /* With 12 slots over 3 binds the first batch fills all three. */
  unsigned twelve = 12;
  assert_true(fx_run_until(f, pred_window_full, &twelve, 3000));
  int want = 300;
  assert_true(fx_run_until(f, fx_pred_results, &want, 5000));
  sg_sim_smsc_stats_t ss;
  sg_sim_smsc_stats(f->sim, &ss);
  assert_int_equal(ss.binds_active, 3);
  assert_int_equal(ss.submit_sm, 300);
  fx_free(f);
}

/* A transmitter plus a receiver bind: traffic on the transmitter, receipts
 * on the receiver. */
static void test_tx_rx_binds(void **state) {
  (void)state;
  fx_t *f = fx_new();
  sg_sim_smsc_config_t sc;
  sg_sim_smsc_config_default(&sc);
  sc.dlr_delay_ms = 0;
  fx_sim(f, &sc);
  sg_smpp_client_config_t cfg;
  fx_config(f, sg_sim_smsc_port(f->sim), &cfg);
  cfg.bind_type = SG_SMPP_BIND_TX;
  cfg.rx_binds = 1;
  fx_connect(f, &cfg);
  assert_true(fx_run_until(f, fx_pred_up, NULL, 3000));
  for (int i = 0; i < 10; i++) {
    sg_conn_part_t p = fx_part((uint64_t)i, "+15550001", "split binds");
    p.want_report = true;
    assert_int_equal(sg_connector_submit(f->c, &p), 0);
  }
  int ten = 10;
  assert_true(fx_run_until(f, fx_pred_dlrs, &ten, 5000));
  assert_int_equal(f->n_results, 10);
  fx_free(f);
}

/* Stop with parts in flight and queued: each gets exactly one result (the
 * answers still arriving after the unbind are matched), then stopped_cb. */
static void test_stop_in_flight(void **state) {
  (void)state;
  fx_t *f = fx_new();
  sg_sim_smsc_config_t sc;
  sg_sim_smsc_config_default(&sc);
  sc.latency_ms = 100;
  fx_sim(f, &sc);
  sg_smpp_client_config_t cfg;
  fx_config(f, sg_sim_smsc_port(f->sim), &cfg);
  cfg.window = 5;
  fx_connect(f, &cfg);
  for (int i = 0; i < 20; i++) {
    sg_conn_part_t p = fx_part((uint64_t)i, "+15550001", "stop");
    assert_int_equal(sg_connector_submit(f->c, &p), 0);
  }
  unsigned five = 5;
  assert_true(fx_run_until(f, pred_window_full, &five, 3000));
  sg_connector_stop(f->c, fx_stopped_cb);
  assert_int_equal(sg_connector_submit(f->c, &(sg_conn_part_t){0}), SG_ESTATE);
  for (int i = 0; i < 300 && !f->stopped; i++)
    fx_run_for(f, 10);
  assert_true(f->stopped);
  assert_int_equal(f->n_results, 20);
  int sent = 0, temp = 0;
  for (int i = 0; i < 20; i++) {
    assert_int_equal(f->res[i].count, 1);
    sent += f->res[i].outcome == SG_CONN_SENT;
    temp += f->res[i].outcome == SG_CONN_TEMPFAIL;
  }
  assert_int_equal(sent, 5);
  assert_int_equal(temp, 15);
  assert_int_equal(f->states[f->n_states - 1], SG_CONN_STOPPED);
  fx_free(f);
}

static void test_submit_contract(void **state) {
  (void)state;
  fx_t *f = fx_new();
  fx_sim(f, NULL);
  sg_smpp_client_config_t cfg;
  fx_config(f, sg_sim_smsc_port(f->sim), &cfg);
  cfg.max_queue = 3;
  fx_connect(f, &cfg);
  sg_conn_part_t p = fx_part(1, "+15550001", "ok");
  sg_conn_part_t bad = p;
  bad.encoding = SG_ENC_AUTO;
  assert_int_equal(sg_connector_submit(f->c, &bad), SG_EINVAL);
  bad = p;
  bad.dst.addr[0] = '\0';
  assert_int_equal(sg_connector_submit(f->c, &bad), SG_EINVAL);
  bad = p;
  memset(bad.dst.addr, '1', sizeof bad.dst.addr); /* no NUL */
  assert_int_equal(sg_connector_submit(f->c, &bad), SG_EINVAL);
  bad = p;
  bad.udh = (const uint8_t *)"\x07\x00\x03";
  bad.udh_len = 3; /* UDHL says 7 */
  assert_int_equal(sg_connector_submit(f->c, &bad), SG_EINVAL);
  bad = p;
  bad.ud = (const uint8_t *)"\x80";
  bad.ud_len = 1; /* not a septet */
  assert_int_equal(sg_connector_submit(f->c, &bad), SG_EINVAL);
  bad = p;
  bad.concat_total = 3;
  bad.concat_seq = 4;
  assert_int_equal(sg_connector_submit(f->c, &bad), SG_EINVAL);
  bad = p;
  bad.priority = 4;
  assert_int_equal(sg_connector_submit(f->c, &bad), SG_EINVAL);
  bad = p;
  static uint8_t big[255];
  memset(big, 'a', sizeof big);
  bad.ud = big;
  bad.ud_len = 255;
  assert_int_equal(sg_connector_submit(f->c, &bad), SG_EINVAL);
  assert_int_equal(sg_connector_submit(f->c, NULL), SG_EINVAL);
  /* The queue holds 3 before the link is up: the 4th is SG_EBUSY, and
   * ready_cb follows once the parts have left. No result during submit. */
  for (uint64_t i = 1; i <= 3; i++) {
    p.id = i;
    assert_int_equal(sg_connector_submit(f->c, &p), 0);
  }
  p.id = 4;
  assert_int_equal(sg_connector_submit(f->c, &p), SG_EBUSY);
  assert_int_equal(f->n_results, 0);
  int three = 3;
  assert_true(fx_run_until(f, fx_pred_results, &three, 3000));
  assert_true(f->ready_calls >= 1);
  assert_int_equal(f->res[4].count, 0);
  /* A validity already past is refused without sending. */
  p.id = 5;
  p.validity_ms = 1000;
  assert_int_equal(sg_connector_submit(f->c, &p), 0);
  int four = 4;
  assert_true(fx_run_until(f, fx_pred_results, &four, 3000));
  assert_int_equal(f->res[5].outcome, SG_CONN_PERMFAIL);
  assert_int_equal(f->res[5].status, SG_SMPP_ESME_RINVEXPIRY);
  assert_int_equal(f->res[5].attempts, 0);
  fx_free(f);
}

/* Config errors fail sg_smpp_client_new at once. */
static void test_config_errors(void **state) {
  (void)state;
  uv_loop_t loop;
  uv_loop_init(&loop);
  sg_smpp_client_config_t cfg;
  sg_connector_t *c = NULL;
  sg_smpp_client_config_default(&cfg);
  assert_int_equal(sg_smpp_client_new(&loop, &cfg, &fx_cbs, NULL, &c),
                   SG_EINVAL); /* no host */
  cfg.host = "127.0.0.1";
  cfg.port = 2775;
  cfg.system_id = "sixteen-chars-xx";
  assert_int_equal(sg_smpp_client_new(&loop, &cfg, &fx_cbs, NULL, &c),
                   SG_EINVAL);
  cfg.system_id = "ok";
  cfg.window = 0;
  assert_int_equal(sg_smpp_client_new(&loop, &cfg, &fx_cbs, NULL, &c),
                   SG_EINVAL);
  cfg.window = 10;
  cfg.rx_binds = 1; /* needs bind_type TX */
  assert_int_equal(sg_smpp_client_new(&loop, &cfg, &fx_cbs, NULL, &c),
                   SG_EINVAL);
  cfg.rx_binds = 0;
  cfg.tls = true;
  cfg.tls_ca_file = "/nonexistent/ca.pem";
  assert_int_equal(sg_smpp_client_new(&loop, &cfg, &fx_cbs, NULL, &c),
                   SG_ECONFIG);
  cfg.tls = false;
  assert_int_equal(sg_smpp_client_new(&loop, &cfg, &fx_cbs, NULL, &c), 0);
  assert_string_equal(c->ops->type, "smpp");
  sg_connector_free(c); /* never started: freed at once */
  assert_int_equal(uv_loop_close(&loop), 0);
}

/* Allocation failures (core/alloc.h): creating the connector fails
 * cleanly at every allocation, and a submit that cannot allocate returns
 * SG_ENOMEM and leaves no part behind (the sanitizer build checks leaks). */
static void test_alloc_failures(void **state) {
  (void)state;
  uv_loop_t loop;
  uv_loop_init(&loop);
  sg_smpp_client_config_t cfg;
  sg_smpp_client_config_default(&cfg);
  cfg.host = "127.0.0.1";
  cfg.port = 2775;
  cfg.system_id = "x";
  sg_connector_t *c = NULL;
  int ok_at = -1;
  for (long n = 0; n < 20 && ok_at < 0; n++) {
    sg_alloc_fail_after(n);
    int rc = sg_smpp_client_new(&loop, &cfg, &fx_cbs, NULL, &c);
    sg_alloc_fail_after(-1);
    if (rc == 0)
      ok_at = (int)n;
    else
      assert_int_equal(rc, SG_ENOMEM);
  }
  assert_true(ok_at > 0);
  sg_conn_part_t p = fx_part(1, "+15550001", "no memory");
  sg_alloc_fail_after(0);
  assert_int_equal(sg_connector_submit(c, &p), SG_ENOMEM);
  p.concat_total = 2;
  p.concat_seq = 1;
  assert_int_equal(sg_connector_submit(c, &p), SG_ENOMEM);
  sg_alloc_fail_after(1); /* the part, not its message */
  assert_int_equal(sg_connector_submit(c, &p), SG_ENOMEM);
  sg_alloc_fail_after(-1);
  sg_conn_stats_t st;
  sg_connector_stats(c, &st);
  assert_int_equal(st.queued, 0);
  assert_int_equal(sg_connector_submit(c, &p), 0);
  sg_connector_stats(c, &st);
  assert_int_equal(st.queued, 1);
  sg_connector_free(c); /* never started: frees the queued part too */
  assert_int_equal(uv_loop_close(&loop), 0);
}

int main(void) {
  signal(SIGPIPE, SIG_IGN); /* a peer may close while we write */
  const char *only = getenv("SG_TEST_FILTER");
  if (only != NULL)
    cmocka_set_test_filter(only);
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_send_kinds),
      cmocka_unit_test(test_packed_fields),
      cmocka_unit_test(test_long_modes),
      cmocka_unit_test(test_submit_fields),
      cmocka_unit_test(test_rx_variants),
      cmocka_unit_test(test_auto_learns_hex_ids),
      cmocka_unit_test(test_auto_alt_key),
      cmocka_unit_test(test_auto_alt_key_resp_learned),
      cmocka_unit_test(test_auto_alt_key_held_receipt),
      cmocka_unit_test(test_dlr_flow),
      cmocka_unit_test(test_dlr_nack_and_late_ack),
      cmocka_unit_test(test_dlr_before_resp),
      cmocka_unit_test(test_dlr_hold_expires),
      cmocka_unit_test(test_receiver_only),
      cmocka_unit_test(test_inbound),
      cmocka_unit_test(test_perm_error),
      cmocka_unit_test(test_temp_errors),
      cmocka_unit_test(test_generic_nack),
      cmocka_unit_test(test_throttle_storm),
      cmocka_unit_test(test_rate_limit),
      cmocka_unit_test(test_drop_full_window),
      cmocka_unit_test(test_enquire_link_timeout),
      cmocka_unit_test(test_response_timeout),
      cmocka_unit_test(test_garbage_peer),
      cmocka_unit_test(test_bind_never_answered),
      cmocka_unit_test(test_nobody_listens),
      cmocka_unit_test(test_tls),
      cmocka_unit_test(test_several_binds),
      cmocka_unit_test(test_tx_rx_binds),
      cmocka_unit_test(test_stop_in_flight),
      cmocka_unit_test(test_submit_contract),
      cmocka_unit_test(test_config_errors),
      cmocka_unit_test(test_alloc_failures),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
