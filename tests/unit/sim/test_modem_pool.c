/* Tests of the modem connector's links (connector/modem.h) against the
 * modem simulator (sim/modem_sim.h): a TCP serial bridge, registration on
 * AT+CEREG only, +CMT acknowledged with AT+CNMA only after the owner's
 * ack, flow control on the device, reports matched after a restart and
 * never to a part sent after the report's TP-SCTS, and a pool of two
 * modems of which one falls silent.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <fcntl.h>
#include <unistd.h>

#include <cmocka.h>

#include "connector/modem.h"
#include "core/error.h"
#include "sim/modem_sim.h"

#define MAXEV 64
#define MAXSIM 2

typedef struct h {
  uv_loop_t loop;
  uv_timer_t tick;
  sg_sim_modem_t *sim[MAXSIM];
  size_t n_sim;
  char link[MAXSIM][96];
  sg_connector_t *c;
  sg_conn_state_t state;
  sg_conn_result_t res[MAXEV];
  size_t n_res;
  sg_conn_dlr_t dlr[MAXEV];
  size_t n_dlr;
  char in_text[MAXEV][200];
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
  assert_true(m->ud_len < sizeof h->in_text[0]);
  memcpy(h->in_text[h->n_in], m->ud, m->ud_len); /* septets: ASCII here */
  h->in_text[h->n_in][m->ud_len] = '\0';
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

static h_t *h_new(void) {
  h_t *h = calloc(1, sizeof *h);
  assert_non_null(h);
  assert_int_equal(uv_loop_init(&h->loop), 0);
  uv_timer_init(&h->loop, &h->tick);
  uv_timer_start(&h->tick, tick_cb, 5, 5);
  h->ack_inbound = true;
  return h;
}

/* A simulator on a pty (tcp false) or on 127.0.0.1, any port; returns the
 * device the connector opens. */
static const char *add_sim(h_t *h, sg_sim_modem_config_t *sc, bool tcp) {
  static int n;
  size_t i = h->n_sim++;
  snprintf(h->link[i], sizeof h->link[i], "/tmp/sg-test-mpool-%d-%d",
           (int)getpid(), n++);
  sc->tcp = tcp ? "127.0.0.1:0" : NULL;
  sc->link = tcp ? NULL : h->link[i];
  char err[200];
  assert_int_equal(sg_sim_modem_new(&h->loop, sc, &h->sim[i], err, sizeof err),
                   0);
  return tcp ? sg_sim_modem_tty(h->sim[i]) : h->link[i];
}

static void modem_cfg(sg_modem_config_t *mc) {
  sg_modem_config_default(mc);
  mc->name = "gsm-test";
  mc->command_timeout_ms = 500;
  mc->send_timeout_ms = 1000;
  mc->reconnect_delay_ms = 100;
  mc->keepalive_ms = 0;
  mc->max_retries = 1;
  mc->queue_max = 64;
}

static void connect_modem(h_t *h, const sg_modem_config_t *mc) {
  assert_int_equal(sg_modem_new(&h->loop, mc, &CBS, h, &h->c), 0);
  assert_int_equal(sg_connector_start(h->c), 0);
  assert_true(wait_up(h, 3000));
}

static void conn_stopped(sg_connector_t *c) {
  (void)c;
}

static void stop_connector(h_t *h) {
  sg_connector_stop(h->c, conn_stopped);
  for (int i = 0; i < 50; i++)
    uv_run(&h->loop, UV_RUN_NOWAIT);
  sg_connector_free(h->c);
  h->c = NULL;
  h->state = SG_CONN_DOWN;
}

static void finish(h_t *h) {
  if (h->c != NULL)
    sg_connector_stop(h->c, conn_stopped);
  for (size_t i = 0; i < h->n_sim; i++)
    sg_sim_modem_stop(h->sim[i], NULL, NULL);
  uv_close((uv_handle_t *)&h->tick, NULL);
  uv_run(&h->loop, UV_RUN_DEFAULT);
  sg_connector_free(h->c);
  for (size_t i = 0; i < h->n_sim; i++)
    sg_sim_modem_free(h->sim[i]);
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

static int64_t wall_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- TCP serial bridge --------------------------------------------------- */

static void test_tcp_bridge(void **state) {
  (void)state;
  h_t *h = h_new();
  sg_sim_modem_config_t sc;
  sg_sim_modem_config_default(&sc);
  sc.report_delay_ms = 50;
  sc.urc_rate = 0.3;
  const char *dev = add_sim(h, &sc, true);
  assert_int_equal(strncmp(dev, "tcp://127.0.0.1:", 16), 0);
  sg_modem_config_t mc;
  modem_cfg(&mc);
  mc.device = dev;
  connect_modem(h, &mc);
  sg_conn_part_t p;
  part_for(&p, 11, "4915112345678", "over tcp");
  assert_int_equal(sg_connector_submit(h->c, &p), 0);
  assert_true(wait_for(h, &h->n_res, 1, 3000));
  assert_int_equal(h->res[0].outcome, SG_CONN_SENT);
  assert_true(wait_for(h, &h->n_dlr, 1, 3000));
  assert_string_equal(h->dlr[0].smsc_id, h->res[0].smsc_id);
  assert_int_equal(h->dlr[0].state, SG_DLR_DELIVERED);
  assert_int_equal(sg_sim_modem_mo(h->sim[0], "+4917000001", "tcp hello"), 1);
  assert_true(wait_for(h, &h->n_in, 1, 3000));
  assert_string_equal(h->in_text[0], "tcp hello");
  sg_sim_modem_stats_t st;
  for (int i = 0; i < 100; i++) {
    run_ms(h, 20);
    sg_sim_modem_stats(h->sim[0], &st);
    if (st.mo_deleted == 1)
      break;
  }
  assert_int_equal(st.mo_deleted, 1);
  assert_int_equal(st.connections, 1);
  sg_conn_link_t l;
  assert_int_equal(sg_connector_links(h->c, &l, 1), 1);
  assert_string_equal(l.name, dev);
  assert_int_equal(l.state, SG_CONN_UP);
  assert_int_equal(l.signal_rssi, 21);
  assert_int_equal(l.signal_dbm, -71);
  assert_int_equal(l.sent, 1);
  assert_int_equal(l.received, 2); /* the report and the message */
  finish(h);
}

/* A bridge that answers nothing: reconnected, and the part waits. */
static void test_tcp_bridge_silent_then_back(void **state) {
  (void)state;
  h_t *h = h_new();
  sg_sim_modem_config_t sc;
  sg_sim_modem_config_default(&sc);
  sc.silent = true;
  const char *dev = add_sim(h, &sc, true);
  sg_modem_config_t mc;
  modem_cfg(&mc);
  mc.device = dev;
  assert_int_equal(sg_modem_new(&h->loop, &mc, &CBS, h, &h->c), 0);
  assert_int_equal(sg_connector_start(h->c), 0);
  sg_conn_part_t p;
  part_for(&p, 3, "4915112345678", "waits");
  assert_int_equal(sg_connector_submit(h->c, &p), 0);
  run_ms(h, 1500);
  assert_int_equal(h->n_res, 0);
  sg_sim_modem_stats_t st;
  sg_sim_modem_stats(h->sim[0], &st);
  assert_true(st.connections >= 2); /* timed out, connected again */
  sg_sim_modem_set_silent(h->sim[0], false);
  assert_true(wait_for(h, &h->n_res, 1, 5000));
  assert_int_equal(h->res[0].outcome, SG_CONN_SENT);
  finish(h);
}

static void test_tcp_refused(void **state) {
  (void)state;
  h_t *h = h_new();
  sg_modem_config_t mc;
  modem_cfg(&mc);
  mc.device = "tcp://127.0.0.1:1"; /* nothing listens on port 1 */
  assert_int_equal(sg_modem_new(&h->loop, &mc, &CBS, h, &h->c), 0);
  assert_int_equal(sg_connector_start(h->c), 0);
  run_ms(h, 400);
  sg_conn_stats_t st;
  sg_connector_stats(h->c, &st);
  assert_int_equal(st.state, SG_CONN_DOWN);
  finish(h);
}

static void test_bad_devices(void **state) {
  (void)state;
  static const char *const bad[] = {"tcp://",        "tcp://h",     "tcp://h:0",
                                    "tcp://h:70000", "tcp://:5",    "ttyUSB0",
                                    "tcp://h:5/x",   "tcp://[::1:5"};
  uv_loop_t loop;
  uv_loop_init(&loop);
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    sg_modem_config_t mc;
    modem_cfg(&mc);
    mc.device = bad[i];
    sg_connector_t *c = NULL;
    assert_int_equal(sg_modem_new(&loop, &mc, &CBS, NULL, &c), SG_EINVAL);
    const char *const two[] = {"/dev/null", bad[i]};
    mc.devices = two;
    mc.n_devices = 2;
    assert_int_equal(sg_modem_new(&loop, &mc, &CBS, NULL, &c), SG_EINVAL);
  }
  assert_int_equal(uv_loop_close(&loop), 0);
}

/* ---- Registration, flow control, +CMT ------------------------------------ */

static void test_cereg_only(void **state) {
  (void)state;
  h_t *h = h_new();
  sg_sim_modem_config_t sc;
  sg_sim_modem_config_default(&sc);
  sc.eps_only = true;
  sg_modem_config_t mc;
  modem_cfg(&mc);
  mc.device = add_sim(h, &sc, false);
  connect_modem(h, &mc);
  sg_modem_info_t info;
  sg_modem_info(h->c, &info);
  assert_int_equal(info.creg_stat, 0);
  assert_int_equal(info.cereg_stat, 1);
  sg_conn_link_t l;
  assert_int_equal(sg_connector_links(h->c, &l, 1), 1);
  assert_true(l.registered);
  assert_int_equal(l.reg_stat, 1);
  assert_string_equal(l.operator_, "smsgate sim");
  finish(h);
}

static void flow_case(sg_modem_flow_t flow, tcflag_t *cflag, tcflag_t *iflag) {
  h_t *h = h_new();
  sg_sim_modem_config_t sc;
  sg_sim_modem_config_default(&sc);
  sg_modem_config_t mc;
  modem_cfg(&mc);
  mc.device = add_sim(h, &sc, false);
  mc.flow_control = flow;
  connect_modem(h, &mc);
  int fd = open(h->link[0], O_RDWR | O_NOCTTY | O_NONBLOCK);
  assert_true(fd >= 0);
  struct termios t;
  assert_int_equal(tcgetattr(fd, &t), 0);
  close(fd);
  *cflag = t.c_cflag;
  *iflag = t.c_iflag;
  finish(h);
}

static void test_flow_control(void **state) {
  (void)state;
  tcflag_t c, i;
  flow_case(SG_MODEM_FLOW_RTSCTS, &c, &i);
  assert_true(c & CRTSCTS);
  assert_false(i & IXON);
  flow_case(SG_MODEM_FLOW_XONXOFF, &c, &i);
  assert_false(c & CRTSCTS);
  assert_true(i & IXON);
  assert_true(i & IXOFF);
  flow_case(SG_MODEM_FLOW_NONE, &c, &i);
  assert_false(c & CRTSCTS);
  assert_false(i & (IXON | IXOFF));
}

static void test_cmt_cnma_after_ack(void **state) {
  (void)state;
  h_t *h = h_new();
  sg_sim_modem_config_t sc;
  sg_sim_modem_config_default(&sc);
  sc.report_delay_ms = 50;
  sg_modem_config_t mc;
  modem_cfg(&mc);
  mc.device = add_sim(h, &sc, false);
  mc.direct_receive = true;
  h->ack_inbound = false;
  connect_modem(h, &mc);
  assert_int_equal(sg_sim_modem_mo(h->sim[0], "+4917000001", "one"), 1);
  assert_int_equal(sg_sim_modem_mo(h->sim[0], "+4917000002", "two"), 1);
  assert_true(wait_for(h, &h->n_in, 1, 3000));
  assert_string_equal(h->in_text[0], "one");
  run_ms(h, 300);
  sg_sim_modem_stats_t st;
  sg_sim_modem_stats(h->sim[0], &st);
  assert_int_equal(st.mo_direct, 1); /* the second waits for the ack */
  assert_int_equal(st.mo_stored, 0); /* no +CMTI: routed directly */
  assert_int_equal(st.cnma, 0);      /* not stored yet: not acknowledged */
  assert_int_equal(h->n_in, 1);
  sg_connector_ack(h->c, h->in_token[0], true);
  assert_true(wait_for(h, &h->n_in, 2, 3000));
  assert_string_equal(h->in_text[1], "two");
  sg_connector_ack(h->c, h->in_token[1], true);
  for (int i = 0; i < 100 && st.cnma < 2; i++) {
    run_ms(h, 20);
    sg_sim_modem_stats(h->sim[0], &st);
  }
  assert_int_equal(st.cnma, 2);
  assert_int_equal(st.stored, 0);
  /* A status report (+CDS) is acknowledged too, after its ack. */
  sg_conn_part_t p;
  part_for(&p, 1, "4915112345678", "report me");
  assert_int_equal(sg_connector_submit(h->c, &p), 0);
  assert_true(wait_for(h, &h->n_dlr, 1, 3000));
  for (int i = 0; i < 100 && st.cnma < 3; i++) {
    run_ms(h, 20);
    sg_sim_modem_stats(h->sim[0], &st);
  }
  assert_int_equal(st.cnma, 3);
  finish(h);
}

/* Not acked as stored: no AT+CNMA; the network sends it again (here after
 * the modem is initialised again). */
static void test_cmt_refused_is_resent(void **state) {
  (void)state;
  h_t *h = h_new();
  sg_sim_modem_config_t sc;
  sg_sim_modem_config_default(&sc);
  sg_modem_config_t mc;
  modem_cfg(&mc);
  mc.device = add_sim(h, &sc, false);
  mc.direct_receive = true;
  h->ack_inbound = false;
  connect_modem(h, &mc);
  assert_int_equal(sg_sim_modem_mo(h->sim[0], "+4917000001", "again"), 1);
  assert_true(wait_for(h, &h->n_in, 1, 3000));
  sg_connector_ack(h->c, h->in_token[0], false);
  run_ms(h, 200);
  sg_sim_modem_stats_t st;
  sg_sim_modem_stats(h->sim[0], &st);
  assert_int_equal(st.cnma, 0);
  assert_int_equal(st.stored, 1);
  stop_connector(h);
  h->ack_inbound = true;
  connect_modem(h, &mc);
  assert_true(wait_for(h, &h->n_in, 2, 3000));
  assert_string_equal(h->in_text[1], "again");
  for (int i = 0; i < 100 && st.cnma < 1; i++) {
    run_ms(h, 20);
    sg_sim_modem_stats(h->sim[0], &st);
  }
  assert_int_equal(st.cnma, 1);
  assert_int_equal(st.stored, 0);
  finish(h);
}

/* ---- Reports after a restart --------------------------------------------- */

static void test_report_after_restart(void **state) {
  (void)state;
  h_t *h = h_new();
  sg_sim_modem_config_t sc;
  sg_sim_modem_config_default(&sc);
  sc.report_delay_ms = 2500;
  sc.first_mr = 77;
  sg_modem_config_t mc;
  modem_cfg(&mc);
  mc.device = add_sim(h, &sc, false);
  connect_modem(h, &mc);
  sg_conn_part_t p;
  part_for(&p, 1, "4915112345678", "before the restart");
  assert_int_equal(sg_connector_submit(h->c, &p), 0);
  assert_true(wait_for(h, &h->n_res, 1, 3000));
  char id[66];
  snprintf(id, sizeof id, "%s", h->res[0].smsc_id);
  assert_int_equal(strncmp(id, "77:4915112345678:", 17), 0);
  stop_connector(h); /* the waiting table is gone with it */
  connect_modem(h, &mc);
  assert_int_equal(sg_modem_restore(h->c, id), 0);
  assert_int_equal(sg_modem_restore(h->c, id), 0); /* twice: kept once */
  assert_true(wait_for(h, &h->n_dlr, 1, 5000));
  assert_string_equal(h->dlr[0].smsc_id, id);
  assert_int_equal(h->dlr[0].state, SG_DLR_DELIVERED);
  static const char *const bad[] = {"",        "x:1:2",   "256:49151:1", "1::2",
                                    "1:49a:2", "1:4915:", "1:4915:0"};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
    assert_int_equal(sg_modem_restore(h->c, bad[i]), SG_EINVAL);
  finish(h);
}

/* A part that waits with the same TP-MR and recipient but was sent after
 * the SMSC took the reported message never takes the report. */
static void test_report_not_for_a_later_part(void **state) {
  (void)state;
  h_t *h = h_new();
  sg_sim_modem_config_t sc;
  sg_sim_modem_config_default(&sc);
  sc.report_delay_ms = 50;
  sc.first_mr = 9;
  sg_modem_config_t mc;
  modem_cfg(&mc);
  mc.device = add_sim(h, &sc, false);
  connect_modem(h, &mc);
  char later[66];
  snprintf(later, sizeof later, "9:4915112345678:%lld",
           (long long)(wall_ms() + SG_MODEM_CLOCK_SLACK_MS + 60000));
  assert_int_equal(sg_modem_restore(h->c, later), 0);
  sg_conn_part_t p;
  part_for(&p, 1, "4915112345678", "mine");
  assert_int_equal(sg_connector_submit(h->c, &p), 0);
  assert_true(wait_for(h, &h->n_dlr, 1, 3000));
  assert_string_equal(h->dlr[0].smsc_id, h->res[0].smsc_id);
  assert_string_not_equal(h->dlr[0].smsc_id, later);
  finish(h);
}

/* A report for a part this connector does not know never goes to a part
 * that used the same reference two days ago; an SMSC that states its time
 * zone wrongly (SCTS off by whole hours) still gets its part. */
static void test_report_not_for_an_old_part(void **state) {
  (void)state;
  h_t *h = h_new();
  sg_sim_modem_config_t sc;
  sg_sim_modem_config_default(&sc);
  sc.report_delay_ms = 1500;
  sc.first_mr = 42;
  sg_modem_config_t mc;
  modem_cfg(&mc);
  mc.device = add_sim(h, &sc, false);
  connect_modem(h, &mc);
  sg_conn_part_t p;
  part_for(&p, 1, "4915112345678", "unknown after the restart");
  assert_int_equal(sg_connector_submit(h->c, &p), 0);
  assert_true(wait_for(h, &h->n_res, 1, 3000));
  int64_t sent = atoll(strrchr(h->res[0].smsc_id, ':') + 1);
  stop_connector(h);
  connect_modem(h, &mc);
  char old[66];
  snprintf(old, sizeof old, "42:4915112345678:%lld",
           (long long)(sent - 2 * 86400000ll));
  assert_int_equal(sg_modem_restore(h->c, old), 0);
  run_ms(h, 2500);
  sg_sim_modem_stats_t st;
  sg_sim_modem_stats(h->sim[0], &st);
  assert_int_equal(st.reports, 1);
  assert_int_equal(h->n_dlr, 0);

  part_for(&p, 2, "4915112345678", "reported with a wrong time zone");
  assert_int_equal(sg_connector_submit(h->c, &p), 0);
  assert_true(wait_for(h, &h->n_res, 2, 3000));
  stop_connector(h);
  connect_modem(h, &mc);
  sent = atoll(strrchr(h->res[1].smsc_id, ':') + 1);
  char skewed[66];
  snprintf(skewed, sizeof skewed, "43:4915112345678:%lld",
           (long long)(sent - 3600000));
  assert_int_equal(sg_modem_restore(h->c, old), 0);
  assert_int_equal(sg_modem_restore(h->c, skewed), 0);
  assert_true(wait_for(h, &h->n_dlr, 1, 4000));
  assert_string_equal(h->dlr[0].smsc_id, skewed);
  finish(h);
}

/* ---- A pool -------------------------------------------------------------- */

static size_t sim_submitted(h_t *h, size_t i) {
  sg_sim_modem_stats_t st;
  sg_sim_modem_stats(h->sim[i], &st);
  return (size_t)st.submitted;
}

static void test_pool_one_silent(void **state) {
  (void)state;
  h_t *h = h_new();
  sg_sim_modem_config_t sc;
  sg_sim_modem_config_default(&sc);
  sc.report_delay_ms = 30;
  const char *devs[2];
  devs[0] = add_sim(h, &sc, false);
  sc.first_mr = 100;
  devs[1] = add_sim(h, &sc, true); /* one on a pty, one over TCP */
  sg_modem_config_t mc;
  modem_cfg(&mc);
  mc.devices = devs;
  mc.n_devices = 2;
  connect_modem(h, &mc);
  run_ms(h, 800); /* both up */
  sg_conn_link_t l[3];
  assert_int_equal(sg_connector_links(h->c, l, 3), 2);
  assert_true(l[0].healthy && l[1].healthy);
  enum { N = 10 };
  for (uint64_t i = 0; i < N; i++) {
    sg_conn_part_t p;
    part_for(&p, i, "4915112345678", "pooled");
    assert_int_equal(sg_connector_submit(h->c, &p), 0);
  }
  assert_true(wait_for(h, &h->n_res, N, 5000));
  size_t a = sim_submitted(h, 0), b = sim_submitted(h, 1);
  assert_int_equal(a + b, N);
  assert_true(a >= 2 && b >= 2); /* shared */
  assert_true(wait_for(h, &h->n_dlr, N, 3000));
  sg_sim_modem_set_silent(h->sim[1], true);
  for (uint64_t i = N; i < 2 * N; i++) {
    sg_conn_part_t p;
    part_for(&p, i, "4915112345679", "pooled");
    assert_int_equal(sg_connector_submit(h->c, &p), 0);
  }
  assert_true(wait_for(h, &h->n_res, 2 * N, 10000));
  for (size_t i = 0; i < 2 * N; i++)
    assert_int_equal(h->res[i].outcome, SG_CONN_SENT);
  for (uint64_t id = 0; id < 2 * N; id++) { /* each exactly once */
    size_t hits = 0;
    for (size_t i = 0; i < 2 * N; i++)
      hits += h->res[i].id == id;
    assert_int_equal(hits, 1);
  }
  assert_int_equal(sim_submitted(h, 0) + sim_submitted(h, 1), 2 * N);
  assert_int_equal(sim_submitted(h, 1), b); /* the silent one took none */
  assert_true(wait_for(h, &h->n_dlr, 2 * N, 5000));
  assert_int_equal(sg_connector_links(h->c, l, 3), 2);
  assert_false(l[1].healthy);
  assert_true(l[1].resets >= 1);
  assert_true(l[0].healthy);
  assert_int_equal(l[0].sent + l[1].sent, 2 * N);
  sg_conn_stats_t st;
  sg_connector_stats(h->c, &st);
  assert_int_equal(st.state, SG_CONN_UP);
  assert_int_equal(st.sent_ok, 2 * N);
  assert_int_equal(st.binds_total, 2);
  assert_int_equal(st.binds_up, 1);
  /* Inbound from both: the silent one comes back. */
  sg_sim_modem_set_silent(h->sim[1], false);
  assert_int_equal(sg_sim_modem_mo(h->sim[0], "+4917000001", "from a"), 1);
  assert_true(wait_for(h, &h->n_in, 1, 3000));
  run_ms(h, 1500);
  assert_int_equal(sg_sim_modem_mo(h->sim[1], "+4917000002", "from b"), 1);
  assert_true(wait_for(h, &h->n_in, 2, 5000));
  assert_string_equal(h->in_text[0], "from a");
  assert_string_equal(h->in_text[1], "from b");
  assert_int_not_equal(h->in_token[0] >> 56, h->in_token[1] >> 56);
  finish(h);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_tcp_bridge),
      cmocka_unit_test(test_tcp_bridge_silent_then_back),
      cmocka_unit_test(test_tcp_refused),
      cmocka_unit_test(test_bad_devices),
      cmocka_unit_test(test_cereg_only),
      cmocka_unit_test(test_flow_control),
      cmocka_unit_test(test_cmt_cnma_after_ack),
      cmocka_unit_test(test_cmt_refused_is_resent),
      cmocka_unit_test(test_report_after_restart),
      cmocka_unit_test(test_report_not_for_a_later_part),
      cmocka_unit_test(test_report_not_for_an_old_part),
      cmocka_unit_test(test_pool_one_silent),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
