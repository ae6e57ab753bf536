/* uv_common.h - what the servers of bench/http-servers that run on libuv
 * share beside common.h: the hop's wake-up of the loop and the stop at
 * SIGTERM. */
#ifndef BENCH_HTTP_SERVERS_UV_COMMON_H
#define BENCH_HTTP_SERVERS_UV_COMMON_H

#include "common.h"

#include <signal.h>
#include <uv.h>

/* The hop's deliver callback: hands the items back and wakes the loop
 * through the uv_async_t given to hop_start as its data. */
static void hop_wake_loop(hop_t *h, hop_item_t *items) {
  if (hop_put_done(h, items))
    uv_async_send(h->data);
}

static void stop_cb(uv_signal_t *s, int signum) {
  (void)signum;
  uv_stop(s->loop);
}

/* Stops the loop at SIGTERM; sig must outlive the loop's run. */
static inline void stop_on_sigterm(uv_loop_t *loop, uv_signal_t *sig) {
  uv_signal_init(loop, sig);
  uv_signal_start(sig, stop_cb, SIGTERM);
}

#endif
