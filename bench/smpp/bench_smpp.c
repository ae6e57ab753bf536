/* bench_smpp.c - submit_sm per second from smsgate's SMPP client connector
 * (connector/smpp_client.h) to the in-tree SMSC simulator (sim/smsc.h).
 *
 *   bench_smpp --port P [--host H] [--window W] [--binds B]
 *              [--seconds S] [--warmup S] [--json]
 *       binds to the SMSC at H:P (default 127.0.0.1), keeps the connector's
 *       queue full and counts SENT results for S seconds (default 3) after a
 *       warm-up of --warmup seconds (default 0.5); prints one line, or one
 *       JSON object with --json.
 *   bench_smpp --sim --port P
 *       runs the simulator alone on P (as `smsgate sim smsc --port P` does)
 *       until SIGINT/SIGTERM; prints "listening on 127.0.0.1:P" when ready.
 *
 * The client and the simulator are meant to run as two processes (one core
 * each, see bench/smpp/run.sh), like a real gateway and a real SMSC. Parts
 * are single GSM 7-bit messages without a receipt request, so what is
 * measured is submit_sm out, submit_sm_resp back, and the connector's own
 * bookkeeping around them (queue, window, outcome, result callback).
 */
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <uv.h>

#include "connector/smpp_client.h"
#include "core/error.h"
#include "sim/smsc.h"

typedef struct bench {
  uv_loop_t *loop;
  sg_connector_t *c;
  sg_conn_part_t part;
  uint64_t next_id;
  uint64_t ok, failed;
  uint64_t start_ok, start_ns, end_ns;
  double warmup_s, seconds;
  uv_timer_t timer;
  bool up, measuring, done, stopped;
  unsigned feed;
} bench_t;

static void feed(bench_t *b, unsigned n) {
  for (unsigned i = 0; i < n && !b->done; i++) {
    b->part.id = b->next_id++;
    if (sg_connector_submit(b->c, &b->part) != 0) {
      b->next_id--;
      break;
    }
  }
}

static void result_cb(sg_connector_t *c, void *owner,
                      const sg_conn_result_t *r) {
  (void)c;
  bench_t *b = owner;
  if (r->outcome == SG_CONN_SENT)
    b->ok++;
  else if (!b->done) /* parts still queued at the stop are TEMPFAIL */
    b->failed++;
  feed(b, 1); /* keep the queue as full as it was */
}

static void dlr_cb(sg_connector_t *c, void *owner, const sg_conn_dlr_t *d,
                   uint64_t token) {
  (void)owner;
  (void)d;
  sg_connector_ack(c, token, true);
}

static void inbound_cb(sg_connector_t *c, void *owner,
                       const sg_conn_inbound_t *m, uint64_t token) {
  (void)owner;
  (void)m;
  sg_connector_ack(c, token, true);
}

static void ready_cb(sg_connector_t *c, void *owner) {
  (void)c;
  bench_t *b = owner;
  feed(b, b->feed);
}

static void stopped_cb(sg_connector_t *c) {
  ((bench_t *)c->owner)->stopped = true;
}

static void timer_cb(uv_timer_t *t) {
  bench_t *b = t->data;
  if (!b->measuring) {
    b->measuring = true;
    b->start_ok = b->ok;
    b->start_ns = uv_hrtime();
    uv_timer_start(&b->timer, timer_cb, (uint64_t)(b->seconds * 1000), 0);
    return;
  }
  b->end_ns = uv_hrtime();
  b->done = true;
  uv_close((uv_handle_t *)&b->timer, NULL);
  sg_connector_stop(b->c, stopped_cb);
}

static void state_cb(sg_connector_t *c, void *owner, sg_conn_state_t st,
                     const char *reason) {
  (void)c;
  (void)reason;
  bench_t *b = owner;
  if (st != SG_CONN_UP || b->up)
    return;
  b->up = true;
  feed(b, b->feed);
  uv_timer_start(&b->timer, timer_cb, (uint64_t)(b->warmup_s * 1000), 0);
}

static const sg_conn_callbacks_t k_cbs = {result_cb, dlr_cb, inbound_cb,
                                          state_cb, ready_cb};

static int run_client(const char *host, uint16_t port, unsigned window,
                      unsigned binds, double seconds, double warmup,
                      bool json) {
  uv_loop_t *loop = uv_default_loop();
  bench_t b = {.loop = loop, .seconds = seconds, .warmup_s = warmup};
  sg_smpp_client_config_t cfg;
  sg_smpp_client_config_default(&cfg);
  cfg.host = host;
  cfg.port = port;
  cfg.system_id = "bench";
  cfg.password = "bench";
  cfg.window = window;
  cfg.binds = binds;
  cfg.max_queue = 4 * window * binds + 64;
  cfg.enquire_link_interval_ms = 0;
  b.feed = cfg.max_queue;
  b.part = (sg_conn_part_t){.encoding = SG_ENC_GSM7, .concat_total = 1};
  sg_smpp_addr_from_text("SMSGATE", &b.part.src);
  sg_smpp_addr_from_text("+447700900123", &b.part.dst);
  static const char text[] = "Hello from the smsgate benchmark";
  b.part.ud = (const uint8_t *)text;
  b.part.ud_len = sizeof text - 1;
  int rc = sg_smpp_client_new(loop, &cfg, &k_cbs, &b, &b.c);
  if (rc == 0)
    rc = sg_connector_start(b.c);
  if (rc != 0) {
    fprintf(stderr, "bench_smpp: %s\n", sg_strerror(rc));
    return 1;
  }
  uv_timer_init(loop, &b.timer);
  b.timer.data = &b;
  uv_run(loop, UV_RUN_DEFAULT);
  sg_connector_free(b.c);
  uv_loop_close(loop);
  if (b.end_ns == 0) {
    fprintf(stderr, "bench_smpp: never bound to %s:%u\n", host, port);
    return 1;
  }
  double secs = (double)(b.end_ns - b.start_ns) / 1e9;
  double rate = (double)(b.ok - b.start_ok) / secs;
  if (json)
    printf("{\"client\":\"smsgate\",\"window\":%u,\"binds\":%u,"
           "\"seconds\":%.3f,\"sent\":%llu,\"failed\":%llu,"
           "\"submit_sm_per_s\":%.0f}\n",
           window, binds, secs, (unsigned long long)(b.ok - b.start_ok),
           (unsigned long long)b.failed, rate);
  else
    printf("smsgate window %u binds %u: %.0f submit_sm/s (%llu in %.2f s)\n",
           window, binds, rate, (unsigned long long)(b.ok - b.start_ok), secs);
  return b.failed == 0 ? 0 : 1;
}

/* ---- --sim -------------------------------------------------------------- */

static sg_sim_smsc_t *g_sim;

static void sim_stopped_cb(sg_sim_smsc_t *sim, void *user) {
  (void)sim;
  (void)user;
}

static void signal_cb(uv_signal_t *s, int signum) {
  (void)signum;
  uv_close((uv_handle_t *)s, NULL);
  sg_sim_smsc_stop(g_sim, sim_stopped_cb, NULL);
}

static int run_sim(uint16_t port) {
  uv_loop_t *loop = uv_default_loop();
  sg_sim_smsc_config_t cfg;
  sg_sim_smsc_config_default(&cfg);
  cfg.port = port;
  char err[256];
  if (sg_sim_smsc_new(loop, &cfg, &g_sim) != 0 ||
      sg_sim_smsc_start(g_sim, err, sizeof err) != 0) {
    fprintf(stderr, "bench_smpp --sim: cannot start\n");
    return 1;
  }
  printf("listening on 127.0.0.1:%u\n", sg_sim_smsc_port(g_sim));
  fflush(stdout);
  uv_signal_t sig;
  uv_signal_init(loop, &sig);
  uv_signal_start_oneshot(&sig, signal_cb, SIGTERM);
  uv_run(loop, UV_RUN_DEFAULT);
  sg_sim_smsc_free(g_sim);
  uv_loop_close(loop);
  return 0;
}

int main(int argc, char **argv) {
  const char *host = "127.0.0.1";
  unsigned port = 0, window = 100, binds = 1;
  double seconds = 3, warmup = 0.5;
  bool json = false, sim = false;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
    if (strcmp(a, "--json") == 0)
      json = true;
    else if (strcmp(a, "--sim") == 0)
      sim = true;
    else if (v != NULL && strcmp(a, "--host") == 0)
      host = argv[++i];
    else if (v != NULL && strcmp(a, "--port") == 0)
      port = (unsigned)strtoul(argv[++i], NULL, 10);
    else if (v != NULL && strcmp(a, "--window") == 0)
      window = (unsigned)strtoul(argv[++i], NULL, 10);
    else if (v != NULL && strcmp(a, "--binds") == 0)
      binds = (unsigned)strtoul(argv[++i], NULL, 10);
    else if (v != NULL && strcmp(a, "--seconds") == 0)
      seconds = strtod(argv[++i], NULL);
    else if (v != NULL && strcmp(a, "--warmup") == 0)
      warmup = strtod(argv[++i], NULL);
    else {
      fprintf(stderr, "usage: bench_smpp --port P [--host H] [--window W] "
                      "[--binds B] [--seconds S] [--warmup S] [--json]\n"
                      "       bench_smpp --sim --port P\n");
      return 2;
    }
  }
  signal(SIGPIPE, SIG_IGN);
  if (port == 0 || port > 65535 || window == 0 || binds == 0 ||
      !(seconds > 0) || !(warmup >= 0)) {
    fprintf(stderr, "bench_smpp: bad arguments\n");
    return 2;
  }
  if (sim)
    return run_sim((uint16_t)port);
  return run_client(host, (uint16_t)port, window, binds, seconds, warmup, json);
}
