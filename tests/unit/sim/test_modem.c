/* Tests of the modem connector (connector/modem.h) against the modem
 * simulator (sim/modem_sim.h) on a real pseudo-terminal: initialisation,
 * sending single and concatenated parts, status reports matched across a
 * wrap of the 0..255 message reference, receiving with deletion only after
 * the ack, +CMS ERRORs sorted into temporary and permanent, a modem that
 * falls silent and comes back, and URCs before every line of every answer.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "connector/modem.h"
#include "core/error.h"
#include "core/segment.h"
#include "sim/modem_sim.h"

#define MAXEV 400

typedef struct h {
  uv_loop_t loop;
  uv_timer_t tick;
  sg_sim_modem_t *sim;
  sg_connector_t *c;
  char link[96];
  sg_conn_state_t state;
  sg_conn_result_t res[MAXEV];
  size_t n_res;
  sg_conn_dlr_t dlr[MAXEV];
  size_t n_dlr;
  char in_text[MAXEV][200];
  uint8_t in_udh[MAXEV][16];
  size_t in_udh_len[MAXEV];
  uint64_t in_token[MAXEV];
  size_t n_in;
  bool ack_inbound;
} h_t;

static void result_cb(sg_connector_t *c, void *owner,
                      const sg_conn_result_t *r) {
  h_t *h = owner;
  (void)c;
  assert_true(h->n_res < MAXEV);
  h->res[h->n_res++] = *r;
}

static void dlr_cb(sg_connector_t *c, void *owner, const sg_conn_dlr_t *d,
                   uint64_t token) {
  h_t *h = owner;
  assert_true(h->n_dlr < MAXEV);
  h->dlr[h->n_dlr++] = *d;
  sg_connector_ack(c, token, true);
}

static void inbound_cb(sg_connector_t *c, void *owner,
                       const sg_conn_inbound_t *m, uint64_t token) {
  h_t *h = owner;
  assert_true(h->n_in < MAXEV);
  assert_int_equal(m->data_coding, 0x00);
  assert_true(m->ud_len < sizeof h->in_text[0]);
  memcpy(h->in_text[h->n_in], m->ud, m->ud_len); /* septets: ASCII here */
  h->in_text[h->n_in][m->ud_len] = '\0';
  if (m->udh_len > 0)
    memcpy(h->in_udh[h->n_in], m->udh, m->udh_len);
  h->in_udh_len[h->n_in] = m->udh_len;
  h->in_token[h->n_in] = token;
  h->n_in++;
  if (h->ack_inbound)
    sg_connector_ack(c, token, true);
}

static void state_cb(sg_connector_t *c, void *owner, sg_conn_state_t s,
                     const char *why) {
  h_t *h = owner;
  (void)c;
  (void)why;
  h->state = s;
}

static const sg_conn_callbacks_t CBS = {result_cb, dlr_cb, inbound_cb, state_cb,
                                        NULL};

static void tick_cb(uv_timer_t *t) {
  (void)t;
}

/* Runs the loop until `*flag` becomes >= want or `ms` pass. */
static bool wait_for(h_t *h, const size_t *count, size_t want, int ms) {
  uint64_t end = uv_now(&h->loop) + (uint64_t)ms;
  while (*count < want && uv_now(&h->loop) < end)
    uv_run(&h->loop, UV_RUN_ONCE);
  return *count >= want;
}

static bool wait_up(h_t *h, int ms) {
  uint64_t end = uv_now(&h->loop) + (uint64_t)ms;
  while (h->state != SG_CONN_UP && uv_now(&h->loop) < end)
    uv_run(&h->loop, UV_RUN_ONCE);
  return h->state == SG_CONN_UP;
}

static void run_ms(h_t *h, int ms) {
  size_t never = 0;
  wait_for(h, &never, 1, ms);
}

static h_t *start_pin(const sg_sim_modem_config_t *simcfg,
                      uint32_t keepalive_ms, const char *pin, bool up) {
  static int n;
  h_t *h = calloc(1, sizeof *h);
  assert_non_null(h);
  assert_int_equal(uv_loop_init(&h->loop), 0);
  uv_timer_init(&h->loop, &h->tick);
  uv_timer_start(&h->tick, tick_cb, 5, 5);
  snprintf(h->link, sizeof h->link, "/tmp/sg-test-modem-%d-%d", (int)getpid(),
           n++);
  sg_sim_modem_config_t sc = *simcfg;
  sc.link = h->link;
  char err[200];
  assert_int_equal(sg_sim_modem_new(&h->loop, &sc, &h->sim, err, sizeof err),
                   0);
  sg_modem_config_t mc;
  sg_modem_config_default(&mc);
  mc.name = "gsm-test";
  mc.device = h->link;
  mc.command_timeout_ms = 500;
  mc.send_timeout_ms = 1000;
  mc.reconnect_delay_ms = 100;
  mc.keepalive_ms = keepalive_ms;
  mc.max_retries = 1;
  mc.queue_max = 300;
  mc.pin = pin;
  h->ack_inbound = true;
  assert_int_equal(sg_modem_new(&h->loop, &mc, &CBS, h, &h->c), 0);
  assert_int_equal(sg_connector_start(h->c), 0);
  if (up)
    assert_true(wait_up(h, 3000));
  return h;
}

static h_t *start(const sg_sim_modem_config_t *simcfg, uint32_t keepalive_ms) {
  return start_pin(simcfg, keepalive_ms, NULL, true);
}

static void conn_stopped(sg_connector_t *c) {
  (void)c;
}

static void finish(h_t *h) {
  sg_connector_stop(h->c, conn_stopped);
  sg_sim_modem_stop(h->sim, NULL, NULL);
  uv_close((uv_handle_t *)&h->tick, NULL);
  uv_run(&h->loop, UV_RUN_DEFAULT);
  sg_connector_free(h->c);
  sg_sim_modem_free(h->sim);
  assert_int_equal(uv_loop_close(&h->loop), 0);
  free(h);
}

static void part_for(sg_conn_part_t *p, uint64_t id, const char *to,
                     const char *text) {
  memset(p, 0, sizeof *p);
  p->id = id;
  p->dst.ton = 1;
  p->dst.npi = 1;
  snprintf(p->dst.addr, sizeof p->dst.addr, "%s", to);
  p->encoding = SG_ENC_GSM7;
  p->ud = (const uint8_t *)text;
  p->ud_len = strlen(text);
  p->concat_total = 1;
  p->want_report = true;
}

static void test_send_single(void **state) {
  (void)state;
  sg_sim_modem_config_t sc;
  sg_sim_modem_config_default(&sc);
  sc.report_delay_ms = 50;
  h_t *h = start(&sc, 0);
  sg_conn_part_t p;
  part_for(&p, 7, "4915112345678", "hello modem");
  assert_int_equal(sg_connector_submit(h->c, &p), 0);
  assert_int_equal(h->n_res, 0); /* never from inside submit */
  assert_true(wait_for(h, &h->n_res, 1, 3000));
  assert_int_equal(h->res[0].id, 7);
  assert_int_equal(h->res[0].outcome, SG_CONN_SENT);
  assert_int_equal(strncmp(h->res[0].smsc_id, "0:4915112345678:", 16), 0);
  assert_true(wait_for(h, &h->n_dlr, 1, 3000));
  assert_string_equal(h->dlr[0].smsc_id, h->res[0].smsc_id);
  assert_int_equal(h->dlr[0].state, SG_DLR_DELIVERED);
  sg_tpdu_submit_t s;
  uint8_t mr;
  assert_int_equal(sg_sim_modem_submitted(h->sim, 0, &s, &mr), 0);
  assert_string_equal(s.da.addr, "4915112345678");
  assert_int_equal(s.da.ton, 1);
  assert_true(s.srr);
  assert_int_equal(s.ud_len, 11);
  assert_memory_equal(s.ud, "hello modem", 11);
  sg_conn_stats_t st;
  sg_connector_stats(h->c, &st);
  assert_int_equal(st.state, SG_CONN_UP);
  assert_int_equal(st.sent_ok, 1);
  assert_int_equal(st.dlr_received, 1);
  sg_modem_info_t info;
  sg_modem_info(h->c, &info);
  assert_int_equal(info.csq_rssi, 21);
  assert_int_equal(info.creg_stat, 1);
  assert_string_equal(info.operator_, "smsgate sim");
  finish(h);
}

/* A text of 200 GSM characters is two parts with one UDH reference; they
 * leave in order, each with its UDH and the fill bit after it. */
static void send_concat(h_t *h, uint64_t base) {
  static sg_segments_t segs;
  char text[201];
  for (int i = 0; i < 200; i++)
    text[i] = (char)('a' + i % 26);
  text[200] = '\0';
  sg_seg_opts_t o = {.encoding = SG_ENC_GSM7, .max_parts = 10, .ref = 0x42};
  assert_int_equal(sg_segment_text((const uint8_t *)text, 200, &o, &segs, NULL),
                   0);
  assert_int_equal(segs.nparts, 2);
  size_t first = h->n_res;
  for (unsigned i = 0; i < segs.nparts; i++) {
    sg_conn_part_t p;
    part_for(&p, base + i, "4915112345678", "");
    p.udh = segs.parts[i].udh;
    p.udh_len = segs.parts[i].udh_len;
    p.ud = segs.parts[i].ud;
    p.ud_len = segs.parts[i].ud_len;
    p.concat_total = 2;
    p.concat_seq = (uint8_t)(i + 1);
    p.concat_ref = 0x42;
    assert_int_equal(sg_connector_submit(h->c, &p), 0);
  }
  assert_true(wait_for(h, &h->n_res, first + 2, 5000));
  assert_int_equal(h->res[first].id, base);
  assert_int_equal(h->res[first + 1].id, base + 1);
  assert_int_equal(h->res[first].outcome, SG_CONN_SENT);
  assert_int_equal(h->res[first + 1].outcome, SG_CONN_SENT);
  sg_sim_modem_stats_t st;
  sg_sim_modem_stats(h->sim, &st);
  for (unsigned i = 0; i < 2; i++) {
    sg_tpdu_submit_t s;
    assert_int_equal(
        sg_sim_modem_submitted(h->sim, st.submitted - 2 + i, &s, NULL), 0);
    assert_int_equal(s.udh_len, 6);
    static const uint8_t udh0[] = {5, 0, 3, 0x42, 2};
    assert_memory_equal(s.udh, udh0, 5);
    assert_int_equal(s.udh[5], i + 1);
    assert_int_equal(s.ud_len, segs.parts[i].ud_len);
    assert_memory_equal(s.ud, segs.parts[i].ud, s.ud_len);
  }
}

static void test_send_concat(void **state) {
  (void)state;
  sg_sim_modem_config_t sc;
  sg_sim_modem_config_default(&sc);
  h_t *h = start(&sc, 0);
  send_concat(h, 100);
  finish(h);
}

/* 258 parts to one recipient from reference 250: the references wrap and
 * 250..255 come round again; every report goes to the part it is for. */
static void test_reports_across_wrap(void **state) {
  (void)state;
  sg_sim_modem_config_t sc;
  sg_sim_modem_config_default(&sc);
  sc.first_mr = 250;
  sc.report_delay_ms = 20;
  h_t *h = start(&sc, 0);
  enum { N = 258 };
  for (uint64_t i = 0; i < N; i++) {
    sg_conn_part_t p;
    part_for(&p, 1000 + i, "447700900123", "wrap");
    assert_int_equal(sg_connector_submit(h->c, &p), 0);
  }
  assert_true(wait_for(h, &h->n_res, N, 20000));
  assert_true(wait_for(h, &h->n_dlr, N, 5000));
  for (size_t i = 0; i < N; i++) {
    assert_int_equal(h->res[i].outcome, SG_CONN_SENT);
    unsigned mr = (unsigned)atoi(h->res[i].smsc_id);
    assert_int_equal(mr, (250 + i) % 256);
    size_t hits = 0;
    for (size_t j = 0; j < N; j++)
      hits += strcmp(h->dlr[j].smsc_id, h->res[i].smsc_id) == 0;
    assert_int_equal(hits, 1);
  }
  finish(h);
}

static void test_receive(void **state) {
  (void)state;
  sg_sim_modem_config_t sc;
  sg_sim_modem_config_default(&sc);
  h_t *h = start(&sc, 0);
  h->ack_inbound = false;
  assert_int_equal(sg_sim_modem_mo(h->sim, "+4917000001", "hi there"), 1);
  assert_true(wait_for(h, &h->n_in, 1, 3000));
  assert_string_equal(h->in_text[0], "hi there");
  assert_int_equal(h->in_udh_len[0], 0);
  /* Not deleted before the ack. */
  run_ms(h, 200);
  sg_sim_modem_stats_t st;
  sg_sim_modem_stats(h->sim, &st);
  assert_int_equal(st.stored, 1);
  sg_connector_ack(h->c, h->in_token[0], true);
  run_ms(h, 200);
  sg_sim_modem_stats(h->sim, &st);
  assert_int_equal(st.stored, 0);
  assert_int_equal(st.mo_deleted, 1);
  /* Two parts, each with its concatenation UDH. */
  h->ack_inbound = true;
  char text[201];
  for (int i = 0; i < 200; i++)
    text[i] = (char)('A' + i % 26);
  text[200] = '\0';
  assert_int_equal(sg_sim_modem_mo(h->sim, "Shop", text), 2);
  assert_true(wait_for(h, &h->n_in, 3, 3000));
  assert_int_equal(h->in_udh_len[1], 6);
  assert_int_equal(h->in_udh[1][5], 1);
  assert_int_equal(h->in_udh[2][5], 2);
  assert_int_equal(strlen(h->in_text[1]) + strlen(h->in_text[2]), 200);
  run_ms(h, 200);
  sg_sim_modem_stats(h->sim, &st);
  assert_int_equal(st.stored, 0);
  finish(h);
}

/* A message handed to the owner and not yet acked when the modem is reset
 * is not handed over again by the AT+CMGL of the new initialisation; the
 * late ack still deletes it. Nothing lost, nothing twice. */
static void test_receive_across_reset(void **state) {
  (void)state;
  sg_sim_modem_config_t sc;
  sg_sim_modem_config_default(&sc);
  h_t *h = start(&sc, 200);
  h->ack_inbound = false;
  assert_int_equal(sg_sim_modem_mo(h->sim, "4917000003", "held"), 1);
  assert_true(wait_for(h, &h->n_in, 1, 3000));
  sg_sim_modem_set_silent(h->sim, true);
  run_ms(h, 900);
  sg_conn_stats_t st;
  sg_connector_stats(h->c, &st);
  assert_true(st.reconnects >= 1);
  sg_sim_modem_set_silent(h->sim, false);
  assert_true(wait_up(h, 3000));
  run_ms(h, 300);
  assert_int_equal(h->n_in, 1);
  sg_connector_ack(h->c, h->in_token[0], true);
  run_ms(h, 300);
  sg_sim_modem_stats_t ss;
  sg_sim_modem_stats(h->sim, &ss);
  assert_int_equal(ss.stored, 0);
  assert_int_equal(ss.mo_deleted, 1);
  finish(h);
}

/* The SIM asks for its PIN: the right one brings the modem up; a wrong
 * one is sent once and never again, however often the modem is reset. */
static void test_pin(void **state) {
  (void)state;
  sg_sim_modem_config_t sc;
  sg_sim_modem_config_default(&sc);
  sc.pin = "4711";
  h_t *h = start_pin(&sc, 0, "4711", true);
  sg_sim_modem_stats_t ss;
  sg_sim_modem_stats(h->sim, &ss);
  assert_int_equal(ss.pin_attempts, 1);
  finish(h);
  h = start_pin(&sc, 0, "1234", false);
  run_ms(h, 1500);
  sg_conn_stats_t st;
  sg_connector_stats(h->c, &st);
  assert_int_not_equal(st.state, SG_CONN_UP);
  assert_true(st.reconnects >= 2);
  sg_sim_modem_stats(h->sim, &ss);
  assert_int_equal(ss.pin_attempts, 1);
  finish(h);
  h = start_pin(&sc, 0, NULL, false); /* no PIN configured */
  run_ms(h, 600);
  sg_connector_stats(h->c, &st);
  assert_int_not_equal(st.state, SG_CONN_UP);
  sg_sim_modem_stats(h->sim, &ss);
  assert_int_equal(ss.pin_attempts, 0);
  finish(h);
}

static void test_cms_errors(void **state) {
  (void)state;
  sg_sim_modem_config_t sc;
  sg_sim_modem_config_default(&sc);
  sc.cms_error_rate = 1.0;
  sc.cms_error = 500; /* unknown error: temporary */
  h_t *h = start(&sc, 0);
  sg_conn_part_t p;
  part_for(&p, 1, "4915112345678", "x");
  assert_int_equal(sg_connector_submit(h->c, &p), 0);
  assert_true(wait_for(h, &h->n_res, 1, 5000));
  assert_int_equal(h->res[0].outcome, SG_CONN_TEMPFAIL);
  assert_int_equal(h->res[0].status, 500);
  assert_int_equal(h->res[0].attempts, 2); /* max_retries 1 */
  finish(h);
  sc.cms_error = 21; /* short message transfer rejected: permanent */
  h = start(&sc, 0);
  assert_int_equal(sg_connector_submit(h->c, &p), 0);
  assert_true(wait_for(h, &h->n_res, 1, 5000));
  assert_int_equal(h->res[0].outcome, SG_CONN_PERMFAIL);
  assert_int_equal(h->res[0].status, 21);
  assert_string_equal(h->res[0].status_text, "short message transfer rejected");
  finish(h);
}

/* The modem stops answering: the keepalive times out, the connector
 * resets and keeps trying; when the modem answers again it initialises
 * and sends what waited. */
static void test_silent_recovery(void **state) {
  (void)state;
  sg_sim_modem_config_t sc;
  sg_sim_modem_config_default(&sc);
  h_t *h = start(&sc, 200);
  sg_sim_modem_set_silent(h->sim, true);
  run_ms(h, 1200);
  sg_conn_stats_t st;
  sg_connector_stats(h->c, &st);
  assert_true(st.reconnects >= 1);
  assert_true(st.timeouts >= 1);
  assert_int_not_equal(st.state, SG_CONN_UP);
  sg_conn_part_t p;
  part_for(&p, 5, "4915112345678", "after silence");
  assert_int_equal(sg_connector_submit(h->c, &p), 0);
  run_ms(h, 300);
  assert_int_equal(h->n_res, 0);
  sg_sim_modem_set_silent(h->sim, false);
  assert_true(wait_for(h, &h->n_res, 1, 5000));
  assert_int_equal(h->res[0].outcome, SG_CONN_SENT);
  sg_connector_stats(h->c, &st);
  assert_int_equal(st.state, SG_CONN_UP);
  finish(h);
}

/* A URC before every line of every answer, initialisation included. */
static void test_urcs_everywhere(void **state) {
  (void)state;
  sg_sim_modem_config_t sc;
  sg_sim_modem_config_default(&sc);
  sc.urc_rate = 1.0;
  sc.report_delay_ms = 30;
  h_t *h = start(&sc, 0);
  sg_conn_part_t p;
  part_for(&p, 1, "4915112345678", "urc storm");
  assert_int_equal(sg_connector_submit(h->c, &p), 0);
  assert_true(wait_for(h, &h->n_res, 1, 3000));
  assert_int_equal(h->res[0].outcome, SG_CONN_SENT);
  send_concat(h, 10);
  assert_true(wait_for(h, &h->n_dlr, 3, 3000));
  assert_int_equal(sg_sim_modem_mo(h->sim, "4917000002", "in a storm"), 1);
  assert_true(wait_for(h, &h->n_in, 1, 3000));
  assert_string_equal(h->in_text[0], "in a storm");
  sg_sim_modem_stats_t st;
  sg_sim_modem_stats(h->sim, &st);
  assert_true(st.urcs_injected > 20);
  finish(h);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_send_single),
      cmocka_unit_test(test_send_concat),
      cmocka_unit_test(test_reports_across_wrap),
      cmocka_unit_test(test_receive),
      cmocka_unit_test(test_receive_across_reset),
      cmocka_unit_test(test_pin),
      cmocka_unit_test(test_cms_errors),
      cmocka_unit_test(test_silent_recovery),
      cmocka_unit_test(test_urcs_everywhere),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
