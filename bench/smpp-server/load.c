/* load.c - the load client of bench/smpp-server/run.sh: an ESME that binds
 * to smsgate's SMPP server as a transceiver, keeps WINDOW submit_sm in
 * flight until N were answered, answers every deliver_sm receipt, and
 * stops when N receipts came (or TIMEOUT seconds passed).
 *
 *   bench_smpp-server HOST PORT SYSTEM_ID PASSWORD N WINDOW [TIMEOUT_S]
 *
 * Prints one JSON line: submitted, ok, failed (non-zero submit_sm_resp),
 * receipts, unmatched (receipts for ids it never got), submit_s (first
 * submit to last submit_sm_resp), receipts_s (first submit to last
 * receipt; a receipt without a 26-character receipted_message_id, the
 * length of smsgate's ids, counts as unmatched), submit_per_s, receipts_per_s,
 * and submit_sm_resp latency p50/p99/max in ms. Built on smsgate's own session
 * machine and link in the ESME role; it allocates nothing per message.
 */
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <uv.h>

#include "connector/smpp_link.h"
#include "core/error.h"
#include "smpp/pdu.h"

typedef struct bench {
  uv_loop_t *loop;
  sg_smpp_link_t *link;
  const char *system_id, *password;
  unsigned long n, window;
  unsigned long sent, answered, ok, failed, receipts, unmatched;
  uint64_t *sent_ns; /* per request, by index */
  double *lat_ms;    /* per answered request */
  uint64_t t0, t_sub, t_rcpt;
  bool bound, done;
  int rc;
  uv_timer_t timeout;
  sg_smpp_pdu_t pdu;
} bench_t;

static uint64_t now_ns(void) {
  return uv_hrtime();
}

static void finish(bench_t *b) {
  if (b->done)
    return;
  b->done = true;
  uv_timer_stop(&b->timeout);
  if (b->bound && sg_smpp_session_unbind(sg_smpp_link_session(b->link),
                                         sg_smpp_link_now(b->link)) == 0)
    sg_smpp_link_kick(b->link);
  else
    sg_smpp_link_close(b->link, SG_ECLOSED);
}

static void pump(bench_t *b) {
  static const char text[] = "Benchmark message through smsgate";
  while (b->bound && !b->done && b->sent < b->n &&
         b->sent - b->answered < b->window) {
    sg_smpp_pdu_init(&b->pdu, SG_SMPP_SUBMIT_SM, 0);
    sg_smpp_submit_sm_t *s = &b->pdu.body.submit_sm;
    s->source_addr_ton = 5;
    snprintf(s->source_addr, sizeof s->source_addr, "Bench");
    s->dest_addr_ton = 1;
    s->dest_addr_npi = 1;
    snprintf(s->destination_addr, sizeof s->destination_addr, "7900%07lu",
             b->sent % 10000000);
    s->registered_delivery = 1;
    memcpy(s->short_message, text, sizeof text - 1);
    s->sm_length = sizeof text - 1;
    if (b->sent == 0)
      b->t0 = now_ns();
    b->sent_ns[b->sent] = now_ns();
    long seq =
        sg_smpp_link_send(b->link, &b->pdu, (void *)(uintptr_t)(b->sent + 1));
    if (seq <= 0)
      break;
    b->sent++;
  }
}

static int cmp_d(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

static void on_response(bench_t *b, const sg_smpp_event_t *ev) {
  uintptr_t i = (uintptr_t)ev->ctx;
  if (i == 0 || i > b->n)
    return;
  i--;
  b->lat_ms[b->answered] = (double)(now_ns() - b->sent_ns[i]) / 1e6;
  b->answered++;
  if (ev->type == SG_SMPP_EV_RESPONSE && ev->command_status == 0 &&
      ev->pdu != NULL) {
    b->ok++;
  } else {
    b->failed++;
  }
  if (b->answered == b->n)
    b->t_sub = now_ns();
  pump(b);
}

static void on_receipt(bench_t *b, const sg_smpp_event_t *ev) {
  sg_smpp_link_respond_status(b->link, ev->command_id, ev->sequence_number, 0);
  const char *id = NULL;
  size_t len = 0;
  if (sg_smpp_tlv_get_cstr(ev->pdu, SG_SMPP_TLV_RECEIPTED_MESSAGE_ID, &id,
                           &len) != 0 ||
      len != 26)
    b->unmatched++;
  b->receipts++;
  if (b->receipts >= b->n) {
    b->t_rcpt = now_ns();
    finish(b);
  }
}

static void event_cb(sg_smpp_link_t *l, const sg_smpp_event_t *ev, void *u) {
  bench_t *b = u;
  (void)l;
  switch (ev->type) {
  case SG_SMPP_EV_BOUND:
    b->bound = true;
    pump(b);
    break;
  case SG_SMPP_EV_BIND_FAILED:
    fprintf(stderr, "bench: bind failed: %s\n",
            sg_smpp_status_name(ev->command_status));
    b->rc = 1;
    finish(b);
    break;
  case SG_SMPP_EV_RESPONSE:
  case SG_SMPP_EV_NO_RESPONSE:
    on_response(b, ev);
    break;
  case SG_SMPP_EV_REQUEST:
    if (ev->command_id == SG_SMPP_DELIVER_SM)
      on_receipt(b, ev);
    else
      sg_smpp_link_respond_status(b->link, ev->command_id, ev->sequence_number,
                                  0);
    break;
  case SG_SMPP_EV_CLOSED:
    b->bound = false;
    break;
  default:
    break;
  }
}

static void connected_cb(sg_smpp_link_t *l, void *u) {
  bench_t *b = u;
  sg_smpp_bind_params_t p = {.system_id = b->system_id,
                             .password = b->password};
  sg_smpp_session_bind(sg_smpp_link_session(l), SG_SMPP_BIND_TRX, &p,
                       sg_smpp_link_now(l));
  sg_smpp_link_kick(l);
}

static void closed_cb(sg_smpp_link_t *l, int reason, void *u) {
  bench_t *b = u;
  if (!b->done && reason != 0) {
    fprintf(stderr, "bench: link closed: %s\n", sg_strerror(reason));
    b->rc = 1;
  }
  b->done = true;
  uv_timer_stop(&b->timeout);
  uv_close((uv_handle_t *)&b->timeout, NULL);
  sg_smpp_link_free(l);
}

static void timeout_cb(uv_timer_t *t) {
  bench_t *b = t->data;
  fprintf(stderr, "bench: timed out (%lu answered, %lu receipts of %lu)\n",
          b->answered, b->receipts, b->n);
  b->rc = 1;
  finish(b);
}

static void report(bench_t *b) {
  qsort(b->lat_ms, b->answered, sizeof *b->lat_ms, cmp_d);
  double p50 = b->answered ? b->lat_ms[b->answered / 2] : 0;
  double p99 = b->answered ? b->lat_ms[(b->answered * 99) / 100] : 0;
  double mx = b->answered ? b->lat_ms[b->answered - 1] : 0;
  double ts = b->t_sub ? (double)(b->t_sub - b->t0) / 1e9 : 0;
  double tr = b->t_rcpt ? (double)(b->t_rcpt - b->t0) / 1e9 : 0;
  printf("{\"submitted\":%lu,\"ok\":%lu,\"failed\":%lu,\"receipts\":%lu,"
         "\"unmatched\":%lu,\"submit_s\":%.3f,\"receipts_s\":%.3f,"
         "\"submit_per_s\":%.0f,\"receipts_per_s\":%.0f,"
         "\"resp_p50_ms\":%.2f,\"resp_p99_ms\":%.2f,\"resp_max_ms\":%.2f}\n",
         b->sent, b->ok, b->failed, b->receipts, b->unmatched, ts, tr,
         ts > 0 ? b->ok / ts : 0, tr > 0 ? b->receipts / tr : 0, p50, p99, mx);
}

int main(int argc, char **argv) {
  if (argc < 7) {
    fprintf(stderr,
            "usage: %s HOST PORT SYSTEM_ID PASSWORD N WINDOW "
            "[TIMEOUT_S]\n",
            argv[0]);
    return 2;
  }
  signal(SIGPIPE, SIG_IGN);
  static bench_t b;
  b.loop = uv_default_loop();
  b.system_id = argv[3];
  b.password = argv[4];
  b.n = strtoul(argv[5], NULL, 10);
  b.window = strtoul(argv[6], NULL, 10);
  double timeout_s = argc > 7 ? atof(argv[7]) : 120;
  if (b.n == 0 || b.window == 0 || b.window > SG_SMPP_SESSION_WINDOW_MAX)
    return 2;
  b.sent_ns = calloc(b.n, sizeof *b.sent_ns);
  b.lat_ms = calloc(b.n, sizeof *b.lat_ms);
  if (b.sent_ns == NULL || b.lat_ms == NULL)
    return 1;
  sg_smpp_link_config_t cfg;
  sg_smpp_link_config_default(&cfg);
  cfg.session.window = (uint32_t)b.window;
  cfg.session.enquire_link_interval_ms = 0;
  sg_smpp_link_callbacks_t cbs = {.connected_cb = connected_cb,
                                  .event_cb = event_cb,
                                  .closed_cb = closed_cb};
  uv_timer_init(b.loop, &b.timeout);
  b.timeout.data = &b;
  uv_timer_start(&b.timeout, timeout_cb, (uint64_t)(timeout_s * 1000), 0);
  if (sg_smpp_link_connect(b.loop, argv[1],
                           (uint16_t)strtoul(argv[2], NULL, 10), &cfg, &cbs, &b,
                           &b.link) != 0) {
    fprintf(stderr, "bench: cannot connect\n");
    return 1;
  }
  uv_run(b.loop, UV_RUN_DEFAULT);
  report(&b);
  free(b.sent_ns);
  free(b.lat_ms);
  uv_loop_close(b.loop);
  return b.rc != 0 ? 1 : (b.failed > 0 || b.receipts < b.n);
}
