/* test_smsc.c - the SMSC simulator in-process, on a real loop and real
 * loopback TCP (an ephemeral port), driven by a minimal ESME built from the
 * tree's own session and link (esme_client.h). */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "sim/esme_client.h"
#include "sim/smsc.h"
#include "sim/smsc_int.h"
#include "sim/test_cert.h"
#include "smpp/receipt.h"

typedef struct fx {
  uv_loop_t loop;
  sg_sim_smsc_t *sim;
  sg_sim_smsc_config_t cfg;
  uint16_t port;
  bool stopped;
  tc_t a, b;
  sg_smpp_pdu_t pdu;
  char record[64];
} fx_t;

static fx_t *new_fx(void) {
  fx_t *f = calloc(1, sizeof *f);
  assert_non_null(f);
  assert_int_equal(uv_loop_init(&f->loop), 0);
  sg_sim_smsc_config_default(&f->cfg);
  f->cfg.port = 0;
  f->cfg.tls_port = 0;
  f->cfg.dlr_delay_ms = 0;
  f->cfg.id_start = 0x1000;
  f->cfg.enquire_link_interval_ms = 0;
  return f;
}

static void start_sim(fx_t *f) {
  char err[256];
  assert_int_equal(sg_sim_smsc_new(&f->loop, &f->cfg, &f->sim), 0);
  assert_int_equal(sg_sim_smsc_start(f->sim, err, sizeof err), 0);
  f->port = sg_sim_smsc_port(f->sim);
  assert_true(f->port != 0);
}

static void stopped_cb(sg_sim_smsc_t *sim, void *user) {
  (void)sim;
  ((fx_t *)user)->stopped = true;
}

static void close_client(fx_t *f, tc_t *t) {
  if (t->link == NULL)
    return;
  if (!t->closed) {
    sg_smpp_link_abort(t->link, SG_ECLOSED);
    assert_true(TC_RUN_UNTIL(&f->loop, t->closed, 2000));
  }
  assert_int_equal(t->closed_events, 1);
  sg_smpp_link_free(t->link);
  t->link = NULL;
}

static void free_fx(fx_t *f) {
  close_client(f, &f->a);
  close_client(f, &f->b);
  if (f->sim != NULL) {
    sg_sim_smsc_stop(f->sim, stopped_cb, f);
    assert_true(TC_RUN_UNTIL(&f->loop, f->stopped, 3000));
    sg_sim_smsc_free(f->sim);
  }
  uv_run(&f->loop, UV_RUN_NOWAIT);
  assert_int_equal(uv_loop_close(&f->loop), 0);
  if (f->record[0] != '\0')
    unlink(f->record);
  free(f);
}

/* Connects t and binds it; asserts it is bound. */
static void bind_client(fx_t *f, tc_t *t, sg_smpp_bind_type_t type,
                        const char *system_id, const char *password) {
  assert_int_equal(tc_connect(t, &f->loop, "127.0.0.1", f->port, NULL), 0);
  assert_int_equal(tc_bind(t, type, system_id, password), 0);
  assert_true(TC_RUN_UNTIL(&f->loop, t->bound || t->bind_failed, 3000));
  assert_true(t->bound);
}

static void submit(fx_t *f, tc_t *t, const char *dst, uint8_t dc, uint8_t esm,
                   uint8_t rd, const void *sm, size_t len) {
  tc_submit_sm(&f->pdu, "12345", dst, dc, esm, rd, sm, len);
  assert_true(sg_smpp_link_send(t->link, &f->pdu, NULL) > 0);
}

static char *read_file(const char *path) {
  FILE *fp = fopen(path, "r");
  assert_non_null(fp);
  static char buf[65536];
  size_t n = fread(buf, 1, sizeof buf - 1, fp);
  buf[n] = '\0';
  fclose(fp);
  return buf;
}

static void use_record(fx_t *f) {
  snprintf(f->record, sizeof f->record, "/tmp/sg-sim-rec-%d.txt",
           (int)getpid());
  unlink(f->record);
  f->cfg.record_path = f->record;
}

/* ---- submits, ids and the record ----------------------------------------- */

static void test_submit_gsm_hex_ids_and_record(void **state) {
  (void)state;
  fx_t *f = new_fx();
  use_record(f);
  start_sim(f);
  bind_client(f, &f->a, SG_SMPP_BIND_TRX, "esme", "pw");
  submit(f, &f->a, "79001234567", 0, 0, 0, "Hello", 5);
  submit(f, &f->a, "79001234568", 0, 0, 0, "World", 5);
  assert_true(TC_RUN_UNTIL(&f->loop, f->a.n_resp == 2, 3000));
  assert_int_equal(f->a.n_ok, 2);
  assert_string_equal(f->a.ids[0], "1000");
  assert_string_equal(f->a.ids[1], "1001");
  sg_sim_smsc_flush_record(f->sim);
  assert_string_equal(read_file(f->record),
                      "id=1000 src=12345 dst=79001234567 dc=0 esm=0 ref=0 "
                      "seq=1 total=1 rd=0 sm=48656c6c6f\n"
                      "id=1001 src=12345 dst=79001234568 dc=0 esm=0 ref=0 "
                      "seq=1 total=1 rd=0 sm=576f726c64\n");
  sg_sim_smsc_stats_t st;
  sg_sim_smsc_stats(f->sim, &st);
  assert_int_equal(st.submits, 2);
  assert_int_equal(st.submit_sm, 2);
  assert_int_equal(st.resp_ok, 2);
  assert_int_equal(st.binds, 1);
  assert_int_equal(st.binds_active, 1);
  free_fx(f);
}

static void test_decimal_ids(void **state) {
  (void)state;
  fx_t *f = new_fx();
  f->cfg.id_format = SG_SIM_ID_DEC;
  f->cfg.id_start = 4095;
  start_sim(f);
  bind_client(f, &f->a, SG_SMPP_BIND_TX, "esme", "");
  for (int i = 0; i < 3; i++)
    submit(f, &f->a, "79001234567", 0, 0, 0, "x", 1);
  assert_true(TC_RUN_UNTIL(&f->loop, f->a.n_resp == 3, 3000));
  assert_string_equal(f->a.ids[0], "4095");
  assert_string_equal(f->a.ids[1], "4096");
  assert_string_equal(f->a.ids[2], "4097");
  free_fx(f);
}

/* Concatenated UCS-2 by UDH (IEI 0x00 and 0x08) and by SAR TLVs: the record
 * names reference, sequence and total. */
static void test_ucs2_and_concatenated_record(void **state) {
  (void)state;
  fx_t *f = new_fx();
  use_record(f);
  start_sim(f);
  bind_client(f, &f->a, SG_SMPP_BIND_TRX, "esme", "");
  static const uint8_t p1[] = {0x05, 0x00, 0x03, 0x2A, 0x02,
                               0x01, 0x04, 0x1F, 0x04, 0x40};
  static const uint8_t p2[] = {0x06, 0x08, 0x04, 0x12, 0x34,
                               0x02, 0x02, 0x04, 0x38};
  submit(f, &f->a, "79001234567", 8, 0x40, 0, p1, sizeof p1);
  submit(f, &f->a, "79001234567", 8, 0x40, 0, p2, sizeof p2);
  tc_submit_sm(&f->pdu, "12345", "79001234567", 0, 0, 0, "ab", 2);
  sg_smpp_tlv_set_int(&f->pdu, SG_SMPP_TLV_SAR_MSG_REF_NUM, 7, 2);
  sg_smpp_tlv_set_int(&f->pdu, SG_SMPP_TLV_SAR_TOTAL_SEGMENTS, 3, 1);
  sg_smpp_tlv_set_int(&f->pdu, SG_SMPP_TLV_SAR_SEGMENT_SEQNUM, 3, 1);
  assert_true(sg_smpp_link_send(f->a.link, &f->pdu, NULL) > 0);
  /* A truncated UDH (UDHL past the end) records as a single message. */
  static const uint8_t bad[] = {0x09, 0x00, 0x03};
  submit(f, &f->a, "79001234567", 0, 0x40, 0, bad, sizeof bad);
  assert_true(TC_RUN_UNTIL(&f->loop, f->a.n_resp == 4, 3000));
  assert_int_equal(f->a.n_ok, 4);
  sg_sim_smsc_flush_record(f->sim);
  assert_string_equal(
      read_file(f->record),
      "id=1000 src=12345 dst=79001234567 dc=8 esm=64 ref=42 seq=1 total=2 "
      "rd=0 sm=0500032a0201041f0440\n"
      "id=1001 src=12345 dst=79001234567 dc=8 esm=64 ref=4660 seq=2 total=2 "
      "rd=0 sm=060804123402020438\n"
      "id=1002 src=12345 dst=79001234567 dc=0 esm=0 ref=7 seq=3 total=3 "
      "rd=0 sm=6162\n"
      "id=1003 src=12345 dst=79001234567 dc=0 esm=64 ref=0 seq=1 total=1 "
      "rd=0 sm=090003\n");
  free_fx(f);
}

static void test_data_sm_submit_multi_and_bad_dest(void **state) {
  (void)state;
  fx_t *f = new_fx();
  use_record(f);
  start_sim(f);
  bind_client(f, &f->a, SG_SMPP_BIND_TRX, "esme", "");
  sg_smpp_pdu_t *p = &f->pdu;
  sg_smpp_pdu_init(p, SG_SMPP_DATA_SM, 0);
  snprintf(p->body.data_sm.source_addr, 65, "%s", "SENDER");
  p->body.data_sm.source_addr_ton = 5;
  snprintf(p->body.data_sm.destination_addr, 65, "%s", "79001112233");
  sg_smpp_tlv_set_bytes(p, SG_SMPP_TLV_MESSAGE_PAYLOAD, "payload", 7);
  assert_true(sg_smpp_link_send(f->a.link, p, NULL) > 0);

  sg_smpp_pdu_init(p, SG_SMPP_SUBMIT_MULTI, 0);
  sg_smpp_submit_multi_t *m = &p->body.submit_multi;
  snprintf(m->source_addr, sizeof m->source_addr, "%s", "12345");
  m->number_of_dests = 2;
  m->dest_address[0].dest_flag = SG_SMPP_DEST_FLAG_SME;
  snprintf(m->dest_address[0].destination_addr, 21, "%s", "111");
  m->dest_address[1].dest_flag = SG_SMPP_DEST_FLAG_SME;
  snprintf(m->dest_address[1].destination_addr, 21, "%s", "222");
  m->registered_delivery = 1;
  m->sm_length = 2;
  memcpy(m->short_message, "hi", 2);
  assert_true(sg_smpp_link_send(f->a.link, p, NULL) > 0);

  submit(f, &f->a, "", 0, 0, 0, "x", 1); /* no destination */
  assert_true(TC_RUN_UNTIL(&f->loop, f->a.n_resp == 3, 3000));
  assert_int_equal(f->a.n_ok, 2);
  assert_int_equal(f->a.last_status, SG_SMPP_ESME_RINVDSTADR);
  assert_string_equal(f->a.ids[0], "1000");
  assert_string_equal(f->a.ids[1], "1001");
  /* submit_multi with registered_delivery: one receipt per destination. */
  assert_true(TC_RUN_UNTIL(&f->loop, f->a.n_deliver == 2, 3000));
  assert_string_equal(f->a.deliver[0].receipted_message_id, "1001");
  assert_string_equal(f->a.deliver[1].receipted_message_id, "1001");
  assert_string_equal(f->a.deliver[0].source_addr, "111");
  assert_string_equal(f->a.deliver[1].source_addr, "222");
  sg_sim_smsc_flush_record(f->sim);
  assert_string_equal(
      read_file(f->record),
      "id=1000 src=SENDER dst=79001112233 dc=0 esm=0 ref=0 seq=1 total=1 "
      "rd=0 sm=7061796c6f6164\n"
      "id=1001 src=12345 dst=111 dc=0 esm=0 ref=0 seq=1 total=1 rd=1 "
      "sm=6869\n"
      "id=1001 src=12345 dst=222 dc=0 esm=0 ref=0 seq=1 total=1 rd=1 "
      "sm=6869\n");
  sg_sim_smsc_stats_t st;
  sg_sim_smsc_stats(f->sim, &st);
  assert_int_equal(st.submits, 3);
  assert_int_equal(st.data_sm, 1);
  assert_int_equal(st.submit_multi, 1);
  assert_int_equal(st.resp_error, 1);
  free_fx(f);
}

/* ---- receipts ------------------------------------------------------------ */

static void check_receipt(const tc_deliver_t *d, const char *id,
                          sg_receipt_stat_t stat, unsigned err,
                          const char *text) {
  assert_int_equal(d->esm_class, 0x04);
  assert_string_equal(d->receipted_message_id, id);
  assert_int_equal(d->message_state, sg_receipt_stat_to_message_state(stat));
  sg_receipt_t r;
  assert_int_equal(sg_receipt_parse(d->sm, d->sm_len, &r), 0);
  assert_string_equal(r.id, id);
  assert_int_equal(r.stat, stat);
  assert_int_equal(r.err, err);
  assert_int_equal(r.sub, 1);
  assert_int_equal(r.dlvrd, stat == SG_RECEIPT_DELIVRD ? 1 : 0);
  assert_int_equal(r.text_len, strlen(text));
  assert_memory_equal(r.text, text, r.text_len);
  assert_true((r.present & SG_RECEIPT_F_ALL) == SG_RECEIPT_F_ALL);
  if (err == 0) {
    assert_false(d->has_nec);
  } else {
    assert_true(d->has_nec);
    assert_int_equal(d->nec[0], 3);
    assert_int_equal(d->nec[1] << 8 | d->nec[2], err);
  }
}

static void test_receipt_delivered_text_and_tlvs(void **state) {
  (void)state;
  fx_t *f = new_fx();
  start_sim(f);
  bind_client(f, &f->a, SG_SMPP_BIND_TRX, "esme", "");
  const char *text = "The quick brown fox jumps over the lazy dog";
  submit(f, &f->a, "79001234567", 0, 0, 1, text, strlen(text));
  assert_true(TC_RUN_UNTIL(&f->loop, f->a.n_deliver == 1, 3000));
  assert_string_equal(f->a.ids[0], "1000");
  const tc_deliver_t *d = &f->a.deliver[0];
  /* text: the first 20 characters; the parser trims the trailing blank. */
  check_receipt(d, "1000", SG_RECEIPT_DELIVRD, 0, "The quick brown fox");
  assert_memory_equal(d->sm + d->sm_len - 25, "text:The quick brown fox ", 25);
  /* From the recipient back to the sender. */
  assert_string_equal(d->source_addr, "79001234567");
  assert_string_equal(d->destination_addr, "12345");
  assert_int_equal(d->source_addr_ton, 1);
  /* Written exactly in the Appendix B layout. */
  assert_memory_equal(d->sm, "id:1000 sub:001 dlvrd:001 submit date:", 38);
  assert_true(TC_RUN_UNTIL(&f->loop, ({
    sg_sim_smsc_stats_t s_;
    sg_sim_smsc_stats(f->sim, &s_);
    s_.receipts_acked == 1;
  }),
                           3000));
  free_fx(f);
}

/* Failed outcomes carry err and network_error_code; registered_delivery 2
 * (failures only) gets none for a delivered message. Receipts leave in
 * order, so the last one arriving proves none came before it. */
static void test_receipt_failures_and_failure_only(void **state) {
  (void)state;
  fx_t *f = new_fx();
  assert_int_equal(sg_sim_dlr_mix_parse("UNDELIV=1:13", &f->cfg.dlr_mix), 0);
  start_sim(f);
  bind_client(f, &f->a, SG_SMPP_BIND_TRX, "esme", "");
  static const uint8_t ucs2[] = {0x04, 0x1F, 0x00, 0x41, 0x00, 0x42};
  submit(f, &f->a, "79001234567", 8, 0, 2, ucs2, sizeof ucs2);
  assert_true(TC_RUN_UNTIL(&f->loop, f->a.n_deliver == 1, 3000));
  check_receipt(&f->a.deliver[0], "1000", SG_RECEIPT_UNDELIV, 13, "?AB");

  sg_sim_dlr_mix_t mix;
  assert_int_equal(sg_sim_dlr_mix_parse("DELIVRD=1", &mix), 0);
  assert_int_equal(sg_sim_smsc_set_dlr_mix(f->sim, &mix), 0);
  for (int i = 0; i < 5; i++)
    submit(f, &f->a, "79001234567", 0, 0, 2, "x", 1);
  submit(f, &f->a, "79001234567", 0, 0, 1, "last", 4);
  assert_true(TC_RUN_UNTIL(&f->loop, f->a.n_deliver == 2, 3000));
  check_receipt(&f->a.deliver[1], "1006", SG_RECEIPT_DELIVRD, 0, "last");
  free_fx(f);
}

/* A transmitter's receipts go to a receiver bind of the same system_id,
 * never to another system_id's. */
static void test_receipt_to_receiver_bind(void **state) {
  (void)state;
  fx_t *f = new_fx();
  f->cfg.dlr_delay_ms = 20;
  start_sim(f);
  bind_client(f, &f->a, SG_SMPP_BIND_TX, "acme", "");
  bind_client(f, &f->b, SG_SMPP_BIND_RX, "acme", "");
  static tc_t other;
  assert_int_equal(tc_connect(&other, &f->loop, "127.0.0.1", f->port, NULL), 0);
  tc_bind(&other, SG_SMPP_BIND_RX, "other", "");
  assert_true(TC_RUN_UNTIL(&f->loop, other.bound, 3000));
  for (int i = 0; i < 10; i++)
    submit(f, &f->a, "79001234567", 0, 0, 1, "hello", 5);
  assert_true(TC_RUN_UNTIL(&f->loop, f->b.n_deliver == 10, 3000));
  assert_int_equal(f->a.n_deliver, 0);
  assert_int_equal(other.n_deliver, 0);
  for (int i = 0; i < 10; i++) {
    char id[8];
    snprintf(id, sizeof id, "%x", 0x1000 + i);
    assert_string_equal(f->b.deliver[i].receipted_message_id, id);
  }
  sg_smpp_link_abort(other.link, SG_ECLOSED);
  assert_true(TC_RUN_UNTIL(&f->loop, other.closed, 2000));
  sg_smpp_link_free(other.link);
  free_fx(f);
}

/* Receipts wait while no receiver is bound, and arrive once one binds. */
static void test_receipt_waits_for_receiver(void **state) {
  (void)state;
  fx_t *f = new_fx();
  start_sim(f);
  bind_client(f, &f->a, SG_SMPP_BIND_TX, "acme", "");
  submit(f, &f->a, "79001234567", 0, 0, 1, "wait", 4);
  assert_true(TC_RUN_UNTIL(&f->loop, f->a.n_resp == 1, 3000));
  sg_sim_smsc_stats_t st;
  sg_sim_smsc_stats(f->sim, &st);
  assert_int_equal(st.receipts_pending, 1);
  assert_int_equal(st.receipts_sent, 0);
  bind_client(f, &f->b, SG_SMPP_BIND_RX, "acme", "");
  assert_true(TC_RUN_UNTIL(&f->loop, f->b.n_deliver == 1, 3000));
  check_receipt(&f->b.deliver[0], "1000", SG_RECEIPT_DELIVRD, 0, "wait");
  free_fx(f);
}

/* A receipt refused by the ESME is sent again after receipt_retry_ms, as
 * an SMSC does, until it is taken or its tries run out. */
static void test_receipt_sent_again_when_refused(void **state) {
  (void)state;
  fx_t *f = new_fx();
  f->cfg.dlr_delay_ms = 0;
  f->cfg.receipt_retry_ms = 50;
  f->cfg.receipt_retries = 2;
  start_sim(f);
  bind_client(f, &f->a, SG_SMPP_BIND_TRX, "esme", "");
  f->a.deliver_status = SG_SMPP_ESME_RX_T_APPN;
  submit(f, &f->a, "79001234567", 0, 0, 1, "again", 5);
  assert_true(TC_RUN_UNTIL(&f->loop, f->a.n_deliver == 1, 3000));
  f->a.deliver_status = SG_SMPP_ESME_ROK;
  assert_true(TC_RUN_UNTIL(&f->loop, f->a.n_deliver == 2, 3000));
  assert_string_equal(f->a.deliver[0].receipted_message_id, "1000");
  assert_string_equal(f->a.deliver[1].receipted_message_id, "1000");
  sg_sim_smsc_stats_t st;
  assert_true(TC_RUN_UNTIL(&f->loop, ({
    sg_sim_smsc_stats(f->sim, &st);
    st.receipts_acked == 1;
  }),
                           3000));
  assert_int_equal(st.receipts_failed, 1);
  assert_int_equal(st.receipts_retried, 1);
  /* Only the answer that took it is a round trip; one in flight at a time. */
  assert_int_equal(st.receipt_rtt_n, 1);
  assert_true(st.receipt_rtt_us_p50 <= st.receipt_rtt_us_max);
  assert_true(st.receipt_rtt_us_p99 <= st.receipt_rtt_us_max);
  assert_int_equal(st.receipt_inflight_max, 1);
  assert_int_equal(st.receipt_inflight_mean, 1);

  /* Refused every time: the first try and two more, then given up. */
  f->a.deliver_status = SG_SMPP_ESME_RSYSERR;
  submit(f, &f->a, "79001234567", 0, 0, 1, "never", 5);
  assert_true(TC_RUN_UNTIL(&f->loop, f->a.n_deliver == 5, 3000));
  for (int i = 2; i < 5; i++)
    assert_string_equal(f->a.deliver[i].receipted_message_id, "1001");
  /* 50 + 100 ms and more: nothing else comes. */
  assert_false(TC_RUN_UNTIL(&f->loop, f->a.n_deliver > 5, 400));
  assert_int_equal(f->a.n_deliver, 5);
  sg_sim_smsc_stats(f->sim, &st);
  assert_int_equal(st.receipts_failed, 4);
  assert_int_equal(st.receipts_retried, 3);
  assert_int_equal(st.receipts_abandoned, 1);
  assert_int_equal(st.receipts_dropped, 0);
  assert_int_equal(st.receipts_pending, 0);
  assert_int_equal(st.receipt_rtt_n, 1); /* refusals are no round trip */
  free_fx(f);
}

/* The round trips' percentiles: a bucket each below 16, then 16 buckets a
 * power of two, each answered by its upper bound (never above the
 * largest value). */
static void test_receipt_hist_quantiles(void **state) {
  (void)state;
  static sg__sim_hist_t h;
  memset(&h, 0, sizeof h);
  assert_int_equal(sg__sim_hist_quantile(&h, 0.5), 0);
  for (uint64_t v = 1; v <= 1000; v++)
    sg__sim_hist_add(&h, v);
  assert_int_equal(h.n, 1000);
  assert_int_equal(h.sum, 500500);
  assert_int_equal(h.max, 1000);
  uint64_t p50 = sg__sim_hist_quantile(&h, 0.5);
  uint64_t p99 = sg__sim_hist_quantile(&h, 0.99);
  assert_true(p50 >= 500 && p50 <= 500 + 500 / 16);
  assert_true(p99 >= 990 && p99 <= 1000);
  assert_int_equal(sg__sim_hist_quantile(&h, 1.0), 1000);
  memset(&h, 0, sizeof h);
  for (uint64_t v = 0; v < 16; v++)
    sg__sim_hist_add(&h, v);
  assert_int_equal(sg__sim_hist_quantile(&h, 0.5), 7); /* exact below 16 */
  sg__sim_hist_add(&h, UINT64_MAX / 2); /* past the last bucket: kept */
  assert_int_equal(sg__sim_hist_quantile(&h, 1.0), UINT64_MAX / 2);
}

/* ---- faults -------------------------------------------------------------- */

static void test_throttle_fraction(void **state) {
  (void)state;
  fx_t *f = new_fx();
  f->cfg.throttle = 0.2;
  start_sim(f);
  bind_client(f, &f->a, SG_SMPP_BIND_TX, "esme", "");
  unsigned sent = 0;
  while (sent < 2000) {
    if (sg_smpp_session_window_free(sg_smpp_link_session(f->a.link)) == 0) {
      TC_RUN_UNTIL(
          &f->loop,
          sg_smpp_session_window_free(sg_smpp_link_session(f->a.link)) > 0,
          3000);
      continue;
    }
    submit(f, &f->a, "79001234567", 0, 0, 0, "t", 1);
    sent++;
  }
  assert_true(TC_RUN_UNTIL(&f->loop, f->a.n_resp == 2000, 5000));
  assert_in_range(f->a.n_throttled, 300, 500);
  assert_int_equal(f->a.n_ok + f->a.n_throttled, 2000);
  sg_sim_smsc_stats_t st;
  sg_sim_smsc_stats(f->sim, &st);
  assert_int_equal(st.resp_throttled, f->a.n_throttled);
  assert_int_equal(st.resp_ok, f->a.n_ok);
  /* Switched off on command. */
  char reply[256];
  assert_int_equal(
      sg_sim_smsc_command(f->sim, "throttle 0", reply, sizeof reply), 0);
  for (int i = 0; i < 50; i++)
    submit(f, &f->a, "79001234567", 0, 0, 0, "t", 1);
  assert_true(TC_RUN_UNTIL(&f->loop, f->a.n_resp == 2050, 3000));
  assert_int_equal(f->a.n_throttled, st.resp_throttled);
  free_fx(f);
}

static void test_drop_on_command(void **state) {
  (void)state;
  fx_t *f = new_fx();
  start_sim(f);
  bind_client(f, &f->a, SG_SMPP_BIND_TRX, "esme", "");
  bind_client(f, &f->b, SG_SMPP_BIND_TX, "esme", "");
  char reply[256];
  assert_int_equal(sg_sim_smsc_command(f->sim, "drop", reply, sizeof reply), 0);
  assert_string_equal(reply, "ok: dropped 2 connection(s)");
  assert_true(TC_RUN_UNTIL(&f->loop, f->a.closed && f->b.closed, 3000));
  assert_int_equal(f->a.close_reason, SG_ECLOSED);
  sg_sim_smsc_stats_t st;
  assert_true(TC_RUN_UNTIL(&f->loop, ({
    sg_sim_smsc_stats(f->sim, &st);
    st.connections_active == 0;
  }),
                           3000));
  assert_int_equal(st.drops, 2);
  assert_int_equal(st.binds_active, 0);
  free_fx(f);
}

/* drop_every 5: four requests are answered, the fifth is lost with its
 * connection. */
static void test_drop_every_n(void **state) {
  (void)state;
  fx_t *f = new_fx();
  f->cfg.drop_every = 5;
  start_sim(f);
  bind_client(f, &f->a, SG_SMPP_BIND_TX, "esme", "");
  for (int i = 0; i < 6; i++)
    submit(f, &f->a, "79001234567", 0, 0, 0, "d", 1);
  assert_true(TC_RUN_UNTIL(&f->loop, f->a.closed, 3000));
  assert_int_equal(f->a.n_ok, 4);
  assert_int_equal(f->a.n_no_resp, 2);
  sg_sim_smsc_stats_t st;
  sg_sim_smsc_stats(f->sim, &st);
  assert_int_equal(st.drops, 1);
  free_fx(f);
}

static void test_latency_still_answers_in_order(void **state) {
  (void)state;
  fx_t *f = new_fx();
  f->cfg.latency_ms = 30;
  start_sim(f);
  bind_client(f, &f->a, SG_SMPP_BIND_TRX, "esme", "");
  for (int i = 0; i < 20; i++)
    submit(f, &f->a, "79001234567", 0, 0, 1, "l", 1);
  assert_true(TC_RUN_UNTIL(&f->loop, f->a.n_deliver == 20, 3000));
  assert_int_equal(f->a.n_ok, 20);
  for (int i = 0; i < 20; i++) {
    char id[8];
    snprintf(id, sizeof id, "%x", 0x1000 + i);
    assert_string_equal(f->a.ids[i], id);
  }
  free_fx(f);
}

/* ---- operator faults ----------------------------------------------------- */

static sg_sim_smsc_stats_t stats_of(fx_t *f) {
  sg_sim_smsc_stats_t st;
  sg_sim_smsc_stats(f->sim, &st);
  return st;
}

/* nack 1: every submit gets generic_nack ESME_RSYSERR, nothing is taken. */
static void test_generic_nack(void **state) {
  (void)state;
  fx_t *f = new_fx();
  f->cfg.nack = 1.0;
  start_sim(f);
  bind_client(f, &f->a, SG_SMPP_BIND_TRX, "esme", "");
  for (int i = 0; i < 3; i++)
    submit(f, &f->a, "79001234567", 0, 0, 1, "n", 1);
  assert_true(TC_RUN_UNTIL(&f->loop, f->a.n_resp == 3, 3000));
  assert_int_equal(f->a.n_ok, 0);
  assert_int_equal(f->a.n_other, 3);
  assert_int_equal(f->a.last_status, SG_SMPP_ESME_RSYSERR);
  sg_sim_smsc_stats_t st = stats_of(f);
  assert_int_equal(st.nacks, 3);
  assert_int_equal(st.resp_ok, 0);
  TC_RUN_UNTIL(&f->loop, false, 100);
  assert_int_equal(f->a.n_deliver, 0); /* not taken: no receipt */
  free_fx(f);
}

/* late 1: the message is taken (its receipt comes at once) but its
 * response only late_ms later. */
static void test_late_response(void **state) {
  (void)state;
  fx_t *f = new_fx();
  f->cfg.late = 1.0;
  f->cfg.late_ms = 400;
  start_sim(f);
  bind_client(f, &f->a, SG_SMPP_BIND_TRX, "esme", "");
  submit(f, &f->a, "79001234567", 0, 0, 1, "l", 1);
  assert_true(TC_RUN_UNTIL(&f->loop, f->a.n_deliver == 1, 3000));
  uint64_t t0 = uv_now(&f->loop);
  TC_RUN_UNTIL(&f->loop, false, 150);
  assert_int_equal(f->a.n_resp, 0);
  assert_true(TC_RUN_UNTIL(&f->loop, f->a.n_resp == 1, 3000));
  assert_true(uv_now(&f->loop) - t0 >= 200);
  assert_string_equal(f->a.ids[0], "1000");
  assert_string_equal(f->a.deliver[0].receipted_message_id, "1000");
  assert_int_equal(stats_of(f).late, 1);
  free_fx(f);
}

/* hang_every 3: two answers, then silence on an open connection. (Answers
 * to requests read together with the third, not yet written, are never
 * written either: the two are awaited first.) */
static void test_hang(void **state) {
  (void)state;
  fx_t *f = new_fx();
  f->cfg.hang_every = 3;
  start_sim(f);
  bind_client(f, &f->a, SG_SMPP_BIND_TRX, "esme", "");
  for (int i = 0; i < 2; i++)
    submit(f, &f->a, "79001234567", 0, 0, 0, "h", 1);
  assert_true(TC_RUN_UNTIL(&f->loop, f->a.n_resp == 2, 3000));
  for (int i = 0; i < 2; i++)
    submit(f, &f->a, "79001234567", 0, 0, 0, "h", 1);
  TC_RUN_UNTIL(&f->loop, false, 300);
  assert_int_equal(f->a.n_resp, 2);
  assert_false(f->a.closed);
  sg_sim_smsc_stats_t st = stats_of(f);
  assert_int_equal(st.hangs, 1);
  assert_int_equal(st.connections_active, 1);
  assert_int_equal(st.submits, 2);
  free_fx(f); /* the stop closes the silent connection */
}

/* drop_reset: the client sees the connection reset, not closed. */
static void test_drop_reset(void **state) {
  (void)state;
  fx_t *f = new_fx();
  f->cfg.drop_every = 2;
  f->cfg.drop_reset = true;
  start_sim(f);
  bind_client(f, &f->a, SG_SMPP_BIND_TX, "esme", "");
  for (int i = 0; i < 2; i++)
    submit(f, &f->a, "79001234567", 0, 0, 0, "r", 1);
  assert_true(TC_RUN_UNTIL(&f->loop, f->a.closed, 3000));
  assert_int_equal(f->a.close_reason, SG_EIO); /* ECONNRESET */
  sg_sim_smsc_stats_t st = stats_of(f);
  assert_int_equal(st.drops, 1);
  assert_int_equal(st.resets, 1);
  free_fx(f);
}

/* Upper-case hex in responses, decimal in receipts; with dlr_early and a
 * latency the receipt comes first. */
static void test_receipt_id_format_and_early(void **state) {
  (void)state;
  fx_t *f = new_fx();
  f->cfg.id_start = 0xabc;
  f->cfg.id_format = SG_SIM_ID_HEX_UPPER;
  f->cfg.receipt_id_format = SG_SIM_ID_DEC;
  f->cfg.latency_ms = 300;
  f->cfg.dlr_early = true;
  start_sim(f);
  bind_client(f, &f->a, SG_SMPP_BIND_TRX, "esme", "");
  submit(f, &f->a, "79001234567", 0, 0, 1, "e", 1);
  assert_true(TC_RUN_UNTIL(&f->loop, f->a.n_deliver == 1, 3000));
  assert_int_equal(f->a.n_resp, 0); /* the receipt came first */
  assert_string_equal(f->a.deliver[0].receipted_message_id, "2748");
  assert_memory_equal(f->a.deliver[0].sm, "id:2748 ", 8);
  assert_true(TC_RUN_UNTIL(&f->loop, f->a.n_resp == 1, 3000));
  assert_string_equal(f->a.ids[0], "ABC");
  free_fx(f);
}

/* ---- binds --------------------------------------------------------------- */

static void bind_expect_failure(fx_t *f, tc_t *t, const char *sys,
                                const char *pw, uint32_t status) {
  assert_int_equal(tc_connect(t, &f->loop, "127.0.0.1", f->port, NULL), 0);
  tc_bind(t, SG_SMPP_BIND_TRX, sys, pw);
  assert_true(TC_RUN_UNTIL(&f->loop, t->bind_failed || t->bound, 3000));
  assert_false(t->bound);
  assert_int_equal(t->bind_status, status);
  close_client(f, t);
}

static void test_credentials(void **state) {
  (void)state;
  fx_t *f = new_fx();
  f->cfg.system_id = "smppclient";
  f->cfg.password = "secret";
  f->cfg.max_binds = 1;
  start_sim(f);
  bind_expect_failure(f, &f->a, "smppclient", "wrong", SG_SMPP_ESME_RINVPASWD);
  bind_expect_failure(f, &f->a, "someone", "secret", SG_SMPP_ESME_RINVSYSID);
  bind_client(f, &f->a, SG_SMPP_BIND_TRX, "smppclient", "secret");
  bind_expect_failure(f, &f->b, "smppclient", "secret", SG_SMPP_ESME_RBINDFAIL);
  sg_sim_smsc_stats_t st;
  sg_sim_smsc_stats(f->sim, &st);
  assert_int_equal(st.bind_failures, 3);
  assert_int_equal(st.binds, 1);
  free_fx(f);
}

/* ---- MO ------------------------------------------------------------------ */

static void test_mo_gsm_ucs2_concatenated(void **state) {
  (void)state;
  fx_t *f = new_fx();
  start_sim(f);
  assert_int_equal(
      sg_sim_smsc_mo(f->sim, NULL, "+79001234567", "100", "hi", SG_ENC_AUTO),
      SG_ENOENT);
  bind_client(f, &f->a, SG_SMPP_BIND_TRX, "esme", "");
  assert_int_equal(sg_sim_smsc_mo(f->sim, NULL, "+79001234567", "100",
                                  "Hello @", SG_ENC_AUTO),
                   1);
  char reply[256];
  assert_int_equal(sg_sim_smsc_command(f->sim, "mo -u 4915 SHOP Hi there",
                                       reply, sizeof reply),
                   0);
  assert_string_equal(reply, "ok: mo queued, 1 part");
  char longtext[201];
  memset(longtext, 'a', 200);
  longtext[200] = '\0';
  assert_int_equal(sg_sim_smsc_mo(f->sim, "esme", "+79001234567", "100",
                                  longtext, SG_ENC_AUTO),
                   2);
  assert_true(TC_RUN_UNTIL(&f->loop, f->a.n_deliver == 4, 3000));

  const tc_deliver_t *d = &f->a.deliver[0];
  assert_int_equal(d->data_coding, 0x00);
  assert_int_equal(d->esm_class, 0x00);
  assert_int_equal(d->source_addr_ton, 1);
  assert_string_equal(d->source_addr, "79001234567");
  assert_string_equal(d->destination_addr, "100");
  /* Unpacked GSM 03.38 septets: '@' is 0x00. */
  assert_int_equal(d->sm_len, 7);
  assert_memory_equal(d->sm, "Hello \0", 7);

  d = &f->a.deliver[1];
  assert_int_equal(d->data_coding, 0x08);
  assert_string_equal(d->source_addr, "4915");
  assert_int_equal(d->dest_addr_ton, 5);
  assert_string_equal(d->destination_addr, "SHOP");
  static const uint8_t hi[] = {0, 'H', 0, 'i', 0, ' ', 0, 't',
                               0, 'h', 0, 'e', 0, 'r', 0, 'e'};
  assert_int_equal(d->sm_len, sizeof hi);
  assert_memory_equal(d->sm, hi, sizeof hi);

  for (int i = 0; i < 2; i++) {
    d = &f->a.deliver[2 + i];
    assert_int_equal(d->esm_class, 0x40);
    assert_int_equal(d->data_coding, 0x00);
    assert_int_equal(d->sm[0], 5);
    assert_int_equal(d->sm[1], 0x00);
    assert_int_equal(d->sm[2], 3);
    assert_int_equal(d->sm[4], 2);
    assert_int_equal(d->sm[5], i + 1);
    assert_int_equal(d->sm_len, 6 + (i == 0 ? 153 : 47));
  }
  assert_int_equal(f->a.deliver[2].sm[3], f->a.deliver[3].sm[3]);
  sg_sim_smsc_stats_t st;
  assert_true(TC_RUN_UNTIL(&f->loop, ({
    sg_sim_smsc_stats(f->sim, &st);
    st.mo_acked == 4;
  }),
                           3000));
  assert_int_equal(st.mo_sent, 4);
  free_fx(f);
}

static void test_mo_rate(void **state) {
  (void)state;
  fx_t *f = new_fx();
  f->cfg.mo_rate = 500;
  f->cfg.mo_text = "tick";
  start_sim(f);
  bind_client(f, &f->a, SG_SMPP_BIND_RX, "esme", "");
  assert_true(TC_RUN_UNTIL(&f->loop, f->a.n_deliver >= 20, 3000));
  assert_memory_equal(f->a.deliver[0].sm, "tick", 4);
  free_fx(f);
}

/* ---- control lines, mix parsing, JSON ------------------------------------ */

static void test_dlr_mix_parse(void **state) {
  (void)state;
  sg_sim_dlr_mix_t m;
  assert_int_equal(
      sg_sim_dlr_mix_parse("DELIVRD=90,UNDELIV=5,EXPIRED=3,REJECTD=2", &m), 0);
  assert_int_equal(m.n, 4);
  assert_int_equal(m.e[0].stat, SG_RECEIPT_DELIVRD);
  assert_int_equal(m.e[0].weight, 90);
  assert_int_equal(m.e[0].err, 0);
  assert_int_equal(m.e[1].err, 1);
  assert_int_equal(m.e[2].err, 27);
  assert_int_equal(m.e[3].stat, SG_RECEIPT_REJECTD);
  assert_int_equal(sg_sim_dlr_mix_parse("undeliv=1:999", &m), 0);
  assert_int_equal(m.e[0].err, 999);
  static const char *bad[] = {
      "",           "DELIVRD",           "DELIVRD=",
      "FOO=1",      "DELIVRD=0",         "DELIVRD=1,",
      "DELIVRD=x",  "UNDELIV=1:1000",    "DELIVRD=-1",
      "DELIVRD=1:", "DELIVRD=1,A=1,B=1", "D=1,D=1,D=1,D=1,D=1,D=1,D=1,D=1,D=1"};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
    assert_int_equal(sg_sim_dlr_mix_parse(bad[i], &m), SG_EINVAL);
  assert_int_equal(
      sg_sim_dlr_mix_parse("DELIVRD=1,DELIVRD=1,DELIVRD=1,DELIVRD=1,DELIVRD=1,"
                           "DELIVRD=1,DELIVRD=1,DELIVRD=1,DELIVRD=1",
                           &m),
      SG_EINVAL);
}

static void test_commands_and_stats_json(void **state) {
  (void)state;
  fx_t *f = new_fx();
  start_sim(f);
  char reply[2048];
  static const char *bad[] = {"",
                              "frobnicate",
                              "throttle",
                              "throttle 2",
                              "throttle x",
                              "latency -1",
                              "mo",
                              "mo +7900",
                              "dlr-mix NOPE=1",
                              "drop-prob 1.5"};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
    assert_int_equal(sg_sim_smsc_command(f->sim, bad[i], reply, sizeof reply),
                     SG_EINVAL);
  assert_int_equal(
      sg_sim_smsc_command(f->sim, "mo +7900 100 x", reply, sizeof reply),
      SG_ENOENT);
  assert_string_equal(reply, "error: no receiver bound");
  assert_int_equal(
      sg_sim_smsc_command(f->sim, "latency 5", reply, sizeof reply), 0);
  assert_int_equal(sg_sim_smsc_command(f->sim, "dlr-mix DELIVRD=3,EXPIRED=1",
                                       reply, sizeof reply),
                   0);
  bind_client(f, &f->a, SG_SMPP_BIND_TRX, "esme", "");
  submit(f, &f->a, "79001234567", 0, 0, 0, "s", 1);
  assert_true(TC_RUN_UNTIL(&f->loop, f->a.n_resp == 1, 3000));
  assert_int_equal(sg_sim_smsc_command(f->sim, "stats", reply, sizeof reply),
                   0);
  json_error_t jerr;
  json_t *j = json_loads(reply, 0, &jerr);
  assert_non_null(j);
  assert_string_equal(json_string_value(json_object_get(j, "type")), "stats");
  assert_true(json_is_false(json_object_get(j, "final")));
  assert_int_equal(json_integer_value(json_object_get(j, "submits")), 1);
  assert_int_equal(json_integer_value(json_object_get(j, "binds")), 1);
  assert_int_equal(json_integer_value(json_object_get(j, "resp_ok")), 1);
  assert_int_equal(json_integer_value(json_object_get(
                       json_object_get(j, "resps"), "0x00000000")),
                   1);
  json_decref(j);
  char small[16];
  assert_int_equal(sg_sim_smsc_stats_json(f->sim, true, small, sizeof small),
                   SG_ENOSPC);
  free_fx(f);
}

static void test_config_rejected(void **state) {
  (void)state;
  uv_loop_t loop;
  uv_loop_init(&loop);
  sg_sim_smsc_config_t c;
  sg_sim_smsc_t *sim = NULL;
  sg_sim_smsc_config_default(&c);
  c.throttle = 1.5;
  assert_int_equal(sg_sim_smsc_new(&loop, &c, &sim), SG_EINVAL);
  sg_sim_smsc_config_default(&c);
  c.window = 0;
  assert_int_equal(sg_sim_smsc_new(&loop, &c, &sim), SG_EINVAL);
  sg_sim_smsc_config_default(&c);
  c.tls_cert = "/nonexistent.pem";
  assert_int_equal(sg_sim_smsc_new(&loop, &c, &sim), SG_EINVAL);
  c.tls_key = "/nonexistent.key";
  c.port = 0;
  assert_int_equal(sg_sim_smsc_new(&loop, &c, &sim), 0);
  char err[256];
  assert_int_equal(sg_sim_smsc_start(sim, err, sizeof err), SG_ECONFIG);
  assert_non_null(strstr(err, "/nonexistent.pem"));
  sg_sim_smsc_stop(sim, NULL, NULL);
  uv_run(&loop, UV_RUN_DEFAULT);
  sg_sim_smsc_free(sim);
  sg_sim_smsc_config_default(&c);
  c.record_path = "/nonexistent/dir/record.txt";
  c.port = 0;
  assert_int_equal(sg_sim_smsc_new(&loop, &c, &sim), 0);
  assert_int_equal(sg_sim_smsc_start(sim, err, sizeof err), SG_ECONFIG);
  assert_non_null(strstr(err, "record"));
  sg_sim_smsc_stop(sim, NULL, NULL);
  uv_run(&loop, UV_RUN_DEFAULT);
  sg_sim_smsc_free(sim);
  sg_sim_smsc_config_default(&c);
  c.host = "not-an-address";
  c.port = 0;
  assert_int_equal(sg_sim_smsc_new(&loop, &c, &sim), 0);
  assert_int_equal(sg_sim_smsc_start(sim, err, sizeof err), SG_EINVAL);
  assert_non_null(strstr(err, "not-an-address"));
  sg_sim_smsc_stop(sim, NULL, NULL);
  uv_run(&loop, UV_RUN_DEFAULT);
  sg_sim_smsc_free(sim);
  /* Never started: stop still completes. */
  sg_sim_smsc_config_default(&c);
  assert_int_equal(sg_sim_smsc_new(&loop, &c, &sim), 0);
  sg_sim_smsc_stop(sim, NULL, NULL);
  uv_run(&loop, UV_RUN_DEFAULT);
  sg_sim_smsc_free(sim);
  assert_int_equal(uv_loop_close(&loop), 0);
}

/* ---- TLS ----------------------------------------------------------------- */

/* The TLS port serves the same SMSC: a verifying client binds and gets its
 * receipt; the plain port keeps working beside it. */
static void test_tls_port(void **state) {
  (void)state;
  char crt[64], key[64];
  snprintf(crt, sizeof crt, "/tmp/sg-sim-%d.crt", (int)getpid());
  snprintf(key, sizeof key, "/tmp/sg-sim-%d.key", (int)getpid());
  tc_write_key_cert(key, crt);
  fx_t *f = new_fx();
  f->cfg.tls_cert = crt;
  f->cfg.tls_key = key;
  start_sim(f);
  uint16_t tls_port = sg_sim_smsc_tls_port(f->sim);
  assert_true(tls_port != 0 && tls_port != f->port);
  sg_smpp_link_tls_opts_t o;
  sg_smpp_link_tls_opts_default(&o);
  o.ca_file = crt;
  sg_smpp_link_config_t c;
  sg_smpp_link_config_default(&c);
  assert_int_equal(sg_smpp_link_tls_new(&o, &c.tls, NULL, 0), 0);
  c.tls_server_name = "localhost";
  assert_int_equal(tc_connect(&f->a, &f->loop, "127.0.0.1", tls_port, &c), 0);
  sg_smpp_link_tls_free(c.tls);
  tc_bind(&f->a, SG_SMPP_BIND_TRX, "secure", "");
  assert_true(TC_RUN_UNTIL(&f->loop, f->a.bound || f->a.closed, 5000));
  assert_true(f->a.bound);
  submit(f, &f->a, "79001234567", 0, 0, 1, "over tls", 8);
  assert_true(TC_RUN_UNTIL(&f->loop, f->a.n_deliver == 1, 3000));
  check_receipt(&f->a.deliver[0], "1000", SG_RECEIPT_DELIVRD, 0, "over tls");
  bind_client(f, &f->b, SG_SMPP_BIND_TX, "plain", "");
  free_fx(f);
  unlink(crt);
  unlink(key);
}

int main(void) {
  signal(SIGPIPE, SIG_IGN);
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_submit_gsm_hex_ids_and_record),
      cmocka_unit_test(test_decimal_ids),
      cmocka_unit_test(test_ucs2_and_concatenated_record),
      cmocka_unit_test(test_data_sm_submit_multi_and_bad_dest),
      cmocka_unit_test(test_receipt_delivered_text_and_tlvs),
      cmocka_unit_test(test_receipt_failures_and_failure_only),
      cmocka_unit_test(test_receipt_to_receiver_bind),
      cmocka_unit_test(test_receipt_waits_for_receiver),
      cmocka_unit_test(test_receipt_sent_again_when_refused),
      cmocka_unit_test(test_receipt_hist_quantiles),
      cmocka_unit_test(test_throttle_fraction),
      cmocka_unit_test(test_drop_on_command),
      cmocka_unit_test(test_drop_every_n),
      cmocka_unit_test(test_latency_still_answers_in_order),
      cmocka_unit_test(test_generic_nack),
      cmocka_unit_test(test_late_response),
      cmocka_unit_test(test_hang),
      cmocka_unit_test(test_drop_reset),
      cmocka_unit_test(test_receipt_id_format_and_early),
      cmocka_unit_test(test_credentials),
      cmocka_unit_test(test_mo_gsm_ucs2_concatenated),
      cmocka_unit_test(test_mo_rate),
      cmocka_unit_test(test_dlr_mix_parse),
      cmocka_unit_test(test_commands_and_stats_json),
      cmocka_unit_test(test_config_rejected),
      cmocka_unit_test(test_tls_port),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
