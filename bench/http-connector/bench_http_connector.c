/* bench_http_connector.c - what one part costs the HTTP provider connector
 * (src/connector/http_conn.c) on the loop that sends it, and how many
 * parts a second it sends to a local provider.
 *
 * The provider is the webhook sink (src/sim/sink.c) on its own loop in a
 * second thread, answering every POST at once; the connector, on the main
 * thread's loop, fills the JSON template of packaging/providers/
 * generic-json.yaml for each part and keeps `window` requests in flight.
 * Each row sends `--n` parts after a warm-up and prints parts per second
 * and the sending thread's CPU time per part (CLOCK_THREAD_CPUTIME_ID);
 * rows of one run compare on the same machine load. Nothing is asserted
 * about the figures.
 *
 *   bench_http_connector [--n N] [--window W[,W...]]
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <uv.h>

#include "connector/http_conn.h"
#include "core/config.h"
#include "sim/sink.h"

typedef struct sink_thread {
  uv_loop_t loop;
  uv_async_t stop;
  sg_sim_sink_t *sink;
  uv_thread_t tid;
  sg_sim_sink_counts_t counts;
} sink_thread_t;

typedef struct run {
  uv_loop_t loop;
  sg_connector_t *c;
  unsigned total, submitted, done, failed;
} run_t;

static double thread_cpu_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double wall_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void sink_stop_cb(uv_async_t *a) {
  sink_thread_t *t = a->data;
  sg_sim_sink_counts(t->sink, &t->counts);
  sg_sim_sink_free(t->sink);
  uv_close((uv_handle_t *)a, NULL);
}

static void sink_main(void *arg) {
  sink_thread_t *t = arg;
  uv_run(&t->loop, UV_RUN_DEFAULT);
}

static int sink_start(sink_thread_t *t) {
  sg_sim_sink_config_t cfg = {0};
  char err[128] = "";
  uv_loop_init(&t->loop);
  if (sg_sim_sink_new(&t->loop, &cfg, &t->sink, err, sizeof err) != 0) {
    fprintf(stderr, "bench_http_connector: %s\n", err);
    return -1;
  }
  uv_async_init(&t->loop, &t->stop, sink_stop_cb);
  t->stop.data = t;
  return uv_thread_create(&t->tid, sink_main, t);
}

static const uint8_t ud[] = "Your code is 123456. It expires in 10 minutes.";

static void submit_more(run_t *r) {
  while (r->submitted < r->total) {
    sg_conn_part_t p;
    memset(&p, 0, sizeof p);
    p.id = r->submitted;
    p.dst = (sg_conn_addr_t){1, 1, "447911123401"};
    p.src = (sg_conn_addr_t){5, 0, "Bench"};
    p.encoding = SG_ENC_GSM7;
    p.ud = ud;
    p.ud_len = sizeof ud - 1;
    p.concat_total = 1;
    p.concat_seq = 1;
    p.want_report = true;
    p.message_id = "01JDQ8Z6W3X4Y5Z6A7B8C9D0E1";
    if (sg_connector_submit(r->c, &p) != 0)
      return; /* full: ready_cb comes */
    r->submitted++;
  }
}

static void result_cb(sg_connector_t *c, void *owner,
                      const sg_conn_result_t *res) {
  run_t *r = owner;
  (void)c;
  r->done++;
  if (res->outcome != SG_CONN_SENT)
    r->failed++;
  if (r->done == r->total)
    uv_stop(&r->loop);
}

static void ready_cb(sg_connector_t *c, void *owner) {
  (void)c;
  submit_more(owner);
}

static void stopped_cb(sg_connector_t *c) {
  (void)c;
}

static int one_row(uint16_t port, unsigned window, unsigned n) {
  char url[64];
  snprintf(url, sizeof url, "http://127.0.0.1:%u/hook", (unsigned)port);
  sg_config_conn_http_t h;
  memset(&h, 0, sizeof h);
  h.url = url;
  h.body =
      "{\"to\": \"{{to}}\", \"from\": \"{{from}}\", \"text\": \"{{text}}\", "
      "\"udh\": \"{{udh_hex}}\", \"coding\": {{coding}}, \"reference\": "
      "\"{{ref}}\", \"status\": \"sent\"}";
  h.message_id_template = "{{ref}}";
  h.tls_verify = true;
  for (unsigned k = 200; k <= 299; k++)
    h.accept_codes.bits[(k - 100) / 8] |= (uint8_t)(1u << ((k - 100) % 8));
  sg_http_conn_config_t cfg;
  sg_http_conn_config_default(&cfg);
  cfg.name = "bench";
  cfg.http = &h;
  cfg.window = window;
  run_t r;
  memset(&r, 0, sizeof r);
  uv_loop_init(&r.loop);
  sg_conn_callbacks_t cbs = {.result_cb = result_cb, .ready_cb = ready_cb};
  if (sg_http_conn_new(&r.loop, &cfg, &cbs, &r, &r.c) != 0 ||
      sg_connector_start(r.c) != 0)
    return -1;
  double cpu = 0, wall = 0;
  for (int pass = 0; pass < 2; pass++) { /* a warm-up, then the row */
    unsigned count = pass == 0 ? (n / 10 > 20 ? n / 10 : 20) : n;
    r.total += count;
    double c0 = thread_cpu_s(), w0 = wall_s();
    submit_more(&r);
    while (r.done < r.total)
      uv_run(&r.loop, UV_RUN_DEFAULT);
    cpu = thread_cpu_s() - c0;
    wall = wall_s() - w0;
  }
  printf("%8u %10.0f %14.1f %8u\n", window, n / wall, cpu * 1e6 / n, r.failed);
  sg_connector_stop(r.c, stopped_cb);
  uv_run(&r.loop, UV_RUN_DEFAULT);
  sg_connector_free(r.c);
  uv_loop_close(&r.loop);
  return 0;
}

int main(int argc, char **argv) {
  unsigned n = 5000;
  const char *windows = "1,8,32";
  for (int i = 1; i + 1 < argc; i += 2) {
    if (strcmp(argv[i], "--n") == 0)
      n = (unsigned)strtoul(argv[i + 1], NULL, 10);
    else if (strcmp(argv[i], "--window") == 0)
      windows = argv[i + 1];
  }
  if (n == 0) {
    fprintf(stderr, "usage: bench_http_connector [--n N] [--window W,...]\n");
    return 2;
  }
  sink_thread_t sink;
  memset(&sink, 0, sizeof sink);
  if (sink_start(&sink) != 0)
    return 1;
  uint16_t port = sg_sim_sink_port(sink.sink);
  printf("HTTP provider connector -> local sink, %u parts a row (JSON "
         "template, libcurl multi)\n",
         n);
  printf("%8s %10s %14s %8s\n", "window", "parts/s", "cpu_us/part", "failed");
  int rc = 0;
  char list[128];
  snprintf(list, sizeof list, "%s", windows);
  for (char *w = strtok(list, ","); w != NULL && rc == 0; w = strtok(NULL, ","))
    rc = one_row(port, (unsigned)strtoul(w, NULL, 10), n);
  uv_async_send(&sink.stop);
  uv_thread_join(&sink.tid);
  uv_loop_close(&sink.loop);
  printf("sink: %llu requests\n", (unsigned long long)sink.counts.total);
  return rc == 0 ? 0 : 1;
}
