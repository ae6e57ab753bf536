/* store_probe.c - how the engine learns that a failing store (a full disk,
 * a file size limit, I/O errors) commits again when no traffic comes to
 * prove it: while store_ok is false, each tick writes the time into one
 * setting row ("store_probe") and a commit that succeeds sets store_ok.
 *
 * Only a transaction that really writes tells: SQLite commits one that
 * changed nothing without touching the disk. This module must never write
 * while the store is healthy, nor keep more than one probe in flight.
 */
#include <stdio.h>

#include "engine/engine_int.h"

static void probe_cb(sg_store_t *st, int status, void *data) {
  sg_engine_t *e = data;
  (void)st;
  sg__op_end(e);
  e->probe_busy = false;
  if (status == 0)
    e->store_ok = true;
  sg__maybe_stopped(e);
}

void sg__store_probe(sg_engine_t *e) {
  if (e->store_ok || e->probe_busy)
    return;
  char body[32];
  int n = snprintf(body, sizeof body, "%lld", (long long)sg__now_ms(e));
  if (sg_store_setting_put(e->st, "store_probe", body, (size_t)n, probe_cb,
                           e) == 0) {
    e->probe_busy = true;
    sg__op_begin(e);
  }
}
