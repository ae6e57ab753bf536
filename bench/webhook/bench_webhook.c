/* bench_webhook.c - what one webhook POST costs the loop that sends it.
 *
 * The webhook client (src/engine/webhook.c) runs on the main thread's loop,
 * once with its own HTTP/1.1 transport for http:// URLs (engine/
 * webhook_h1.c, "h1") and once with libcurl multi ("curl", the transport
 * of https:// URLs), each row of both in the same run so that they compare
 * on the same machine load, and keeps `--conc` signed POSTs of a typical
 * status payload in flight to the webhook sink (src/sim/sink.c), which runs
 * on its own loop in a second thread and checks every signature. Each row
 * posts `--n` webhooks after a warm-up and prints webhooks per second and
 * the CPU time of the sending thread per webhook (CLOCK_THREAD_CPUTIME_ID),
 * the figure that matters for the gateway's loop, and the sink's.
 *
 *   bench_webhook [--n N] [--conc C[,C...]] [--runs R] [--client h1|curl]
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <uv.h>

#include "engine/webhook.h"
#include "sim/sink.h"

#define SECRET "bench-secret"
#define BODY                                                                   \
  "{\"event\":\"message.status\",\"message_id\":\"01JDQ8Z6W3X4Y5Z6A7B8C9D0E1\"," \
  "\"batch_id\":\"01JDQ8Z6W3X4Y5Z6A7B8C9D0E2\",\"status\":\"delivered\","      \
  "\"to\":\"+79001234567\",\"from\":\"Bench\",\"parts\":1,"                    \
  "\"timestamp\":\"2026-11-25T21:30:00.123Z\"}"

typedef struct sink_thread {
  uv_loop_t loop;
  uv_async_t stop;
  sg_sim_sink_t *sink;
  uv_thread_t tid;
  double cpu_s; /* the thread's CPU time when it stopped */
  sg_sim_sink_counts_t counts;
} sink_thread_t;

typedef struct run {
  uv_loop_t loop;
  sg_webhook_t *wh;
  char url[64];
  unsigned total, posted, done, failed;
  unsigned target; /* done at which post_many returns */
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
  t->cpu_s = thread_cpu_s();
}

static int sink_start(sink_thread_t *t) {
  sg_sim_sink_config_t cfg = {.secret = (const uint8_t *)SECRET,
                              .secret_len = strlen(SECRET)};
  char err[128] = "";
  uv_loop_init(&t->loop);
  if (sg_sim_sink_new(&t->loop, &cfg, &t->sink, err, sizeof err) != 0) {
    fprintf(stderr, "bench_webhook: %s\n", err);
    return -1;
  }
  uv_async_init(&t->loop, &t->stop, sink_stop_cb);
  t->stop.data = t;
  return uv_thread_create(&t->tid, sink_main, t);
}

static void post_one(run_t *r);

static void done_cb(void *data, const sg_webhook_result_t *res) {
  run_t *r = data;
  r->done++;
  if (res->outcome != SG_WEBHOOK_DELIVERED)
    r->failed++;
  if (r->posted < r->total)
    post_one(r);
  /* Stop the loop here: a run of UV_RUN_ONCE may finish the last post in
   * its timer phase and then block in its poll with nothing left to wake
   * it. */
  if (r->done >= r->target)
    uv_stop(&r->loop);
}

static void post_one(run_t *r) {
  static const char *const hdrs[] = {"X-Smsgate-Webhook-Id: 123456", NULL};
  sg_webhook_req_t req = {.url = r->url,
                          .body = BODY,
                          .len = sizeof BODY - 1,
                          .secret = (const uint8_t *)SECRET,
                          .secret_len = sizeof SECRET - 1,
                          .headers = hdrs,
                          .attempt = 1};
  if (sg_webhook_post(r->wh, &req, done_cb, r) == 0)
    r->posted++;
  else
    r->done++, r->posted++, r->failed++;
}

/* Posts n webhooks with conc in flight; returns the client's CPU time. */
static double post_many(run_t *r, unsigned n, unsigned conc, double *wall) {
  r->total = r->posted + n;
  r->target = r->done + n;
  double c0 = thread_cpu_s(), w0 = wall_s();
  for (unsigned i = 0; i < conc && r->posted < r->total; i++)
    post_one(r);
  while (r->done < r->target)
    uv_run(&r->loop, UV_RUN_DEFAULT);
  *wall = wall_s() - w0;
  return thread_cpu_s() - c0;
}

static int one_row(unsigned n, unsigned conc, uint16_t port, bool curl) {
  run_t r;
  memset(&r, 0, sizeof r);
  uv_loop_init(&r.loop);
  snprintf(r.url, sizeof r.url, "http://127.0.0.1:%u/hook", port);
  sg_webhook_cfg_t cfg = {
      .allow_private = true, .max_inflight = conc, .curl_only = curl};
  if (sg_webhook_new(&r.loop, &cfg, &r.wh) != 0)
    return -1;
  double wall;
  post_many(&r, conc * 4 < n ? conc * 4 : n, conc, &wall); /* warm-up */
  unsigned failed0 = r.failed;
  double cpu = post_many(&r, n, conc, &wall);
  printf("%-6s %6u %6u %10.0f %12.2f %8u\n", curl ? "curl" : "h1", n, conc,
         n / wall, cpu * 1e6 / n, r.failed - failed0);
  sg_webhook_free(r.wh);
  uv_run(&r.loop, UV_RUN_DEFAULT);
  uv_loop_close(&r.loop);
  return r.failed == failed0 ? 0 : -1;
}

int main(int argc, char **argv) {
  unsigned n = 20000, runs = 1, concs[16] = {1, 16, 64}, nconc = 3;
  bool h1 = true, curl = true;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (strcmp(argv[i], "--n") == 0) {
      n = (unsigned)strtoul(argv[i + 1], NULL, 10);
    } else if (strcmp(argv[i], "--runs") == 0) {
      runs = (unsigned)strtoul(argv[i + 1], NULL, 10);
    } else if (strcmp(argv[i], "--client") == 0) {
      h1 = strcmp(argv[i + 1], "curl") != 0;
      curl = strcmp(argv[i + 1], "h1") != 0;
    } else if (strcmp(argv[i], "--conc") == 0) {
      nconc = 0;
      for (char *p = argv[i + 1]; *p && nconc < 16;) {
        concs[nconc++] = (unsigned)strtoul(p, &p, 10);
        if (*p == ',')
          p++;
      }
    } else {
      fprintf(stderr, "usage: bench_webhook [--n N] [--conc C[,C...]] "
                      "[--runs R] [--client h1|curl]\n");
      return 2;
    }
  }
  if (n == 0 || runs == 0 || nconc == 0) {
    fprintf(stderr, "bench_webhook: --n, --conc and --runs must be > 0\n");
    return 2;
  }
  sink_thread_t sink;
  memset(&sink, 0, sizeof sink);
  if (sink_start(&sink) != 0)
    return 1;
  uint16_t port = sg_sim_sink_port(sink.sink);
  printf("webhook client -> sink (other thread), %zu-byte signed body\n",
         sizeof BODY - 1);
  printf("%-6s %6s %6s %10s %12s %8s\n", "client", "n", "conc", "posts/s",
         "cpu_us/post", "failed");
  int rc = 0;
  for (unsigned k = 0; k < runs; k++)
    for (unsigned i = 0; i < nconc; i++)
      for (int c = 0; c < 2; c++)
        if ((c == 0 ? h1 : curl) &&
            (concs[i] == 0 || one_row(n, concs[i], port, c == 1) != 0))
          rc = 1;
  uv_async_send(&sink.stop);
  uv_thread_join(&sink.tid);
  uv_loop_close(&sink.loop);
  printf("sink: %llu webhooks, %llu bad signatures, %.2f s cpu\n",
         (unsigned long long)sink.counts.total,
         (unsigned long long)sink.counts.bad_signature, sink.cpu_s);
  return rc != 0 || sink.counts.bad_signature != 0;
}
