/* test_alloc_sweep.c - allocation failure across one send and its receipt
 * through the whole engine: submit -> store -> SMPP connector -> the SMSC
 * simulator -> receipt -> store, in one process (a temporary SQLite store,
 * the simulator on an ephemeral port, receipts 20 ms after each submit).
 *
 * For N = 1, 2, ... the Nth allocation from the submit on fails (once:
 * sg_alloc_fail_nth), whichever module or thread makes it. Each time:
 *   - the submit is answered (nothing crashes or hangs);
 *   - either it is refused with an error code and nothing of it is in the
 *     store or at the SMSC, or it is accepted, stored once, and goes on to
 *     be delivered with its receipt matched: a failure after the
 *     acknowledgement may delay it (retries), never lose it or half-write
 *     it (one message, one part, its smsc id, queued -> sent -> delivered);
 *   - the gateway goes on working for the next N.
 * The sweep runs until N passes every allocation a clean send and receipt
 * make (measured first), and counts how many N were refused and how many
 * recovered. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <uv.h>

#include "core/alloc.h"
#include "core/config.h"
#include "core/error.h"
#include "engine/engine.h"
#include "sim/smsc.h"
#include "store/store.h"

typedef struct fx {
  uv_loop_t loop;
  char dir[64];
  char path[96];
  sg_sim_smsc_t *sim;
  sg_config_t *cfg;
  sg_store_t *st;
  sg_engine_t *e;
  bool started, stopped;
  int start_status;
  /* the last submit */
  bool submitted;
  int sub_status;
  char sub_code[48];
  int item_status;
  char item_code[48];
  char id[SG_ID_LEN + 1];
  /* the last read or list */
  bool got;
  int get_status;
  size_t n_listed;
  sg_msg_status_t status;
  size_t n_parts;
  bool part_has_smsc_id;
  bool queued_sent_delivered; /* the history, in order */
  char last_event[160];       /* the detail of the last event */
} fx_t;

static void pulse_cb(uv_timer_t *t) {
  (void)t;
}

static bool run_until(fx_t *f, bool (*pred)(fx_t *), unsigned timeout_ms) {
  uv_timer_t pulse;
  uv_timer_init(&f->loop, &pulse);
  uv_timer_start(&pulse, pulse_cb, 5, 5);
  uint64_t end = uv_now(&f->loop) + timeout_ms;
  while (!pred(f) && uv_now(&f->loop) < end)
    uv_run(&f->loop, UV_RUN_ONCE);
  uv_close((uv_handle_t *)&pulse, NULL);
  uv_run(&f->loop, UV_RUN_NOWAIT);
  return pred(f);
}

static bool never(fx_t *f) {
  (void)f;
  return false;
}

static void started_cb(sg_engine_t *e, int status, void *ud) {
  fx_t *f = ud;
  (void)e;
  f->started = true;
  f->start_status = status;
}
static bool is_started(fx_t *f) {
  return f->started;
}
static void stopped_cb(sg_engine_t *e, int status, void *ud) {
  (void)e;
  (void)status;
  ((fx_t *)ud)->stopped = true;
}
static bool is_stopped(fx_t *f) {
  return f->stopped;
}

static bool sim_up(fx_t *f) {
  sg_engine_metrics_t m;
  sg_engine_metrics(f->e, &m);
  return m.n_connectors > 0 && m.connectors[0].state == SG_CONN_UP;
}

static int setup(void **state) {
  fx_t *f = calloc(1, sizeof *f);
  snprintf(f->dir, sizeof f->dir, "/tmp/sg-sweep-XXXXXX");
  if (mkdtemp(f->dir) == NULL)
    return -1;
  snprintf(f->path, sizeof f->path, "%s/smsgate.db", f->dir);
  uv_loop_init(&f->loop);
  sg_sim_smsc_config_t sc;
  sg_sim_smsc_config_default(&sc);
  sc.port = 0;
  sc.dlr_delay_ms = 20;
  sc.receipt_retry_ms = 50; /* a receipt refused for want of memory */
  sc.receipt_retries = 20;
  if (sg_sim_smsc_new(&f->loop, &sc, &f->sim) != 0 ||
      sg_sim_smsc_start(f->sim, NULL, 0) != 0)
    return -1;
  char yaml[1024];
  snprintf(yaml, sizeof yaml,
           "store: {driver: sqlite, path: %s}\n"
           "accounts:\n"
           "  - {name: acme, api_key: key-acme, default_region: RU}\n"
           "connectors:\n"
           "  - {name: sim, type: smpp, host: 127.0.0.1, port: %u,\n"
           "     system_id: eng, password: pw, window: 10,\n"
           "     reconnect_min: 100ms, reconnect_max: 200ms}\n"
           "routes:\n"
           "  - {prefix: \"+\", connectors: [sim]}\n",
           f->path, (unsigned)sg_sim_smsc_port(f->sim));
  sg_config_errors_t errs;
  if (sg_config_load_string("sweep", yaml, strlen(yaml), &f->cfg, &errs) != 0)
    return -1;
  sg_store_config_t stc;
  sg_store_config_init(&stc, f->path);
  stc.sync_normal = true;
  char err[256];
  if (sg_store_open(&f->loop, &stc, &f->st, err, sizeof err) != 0 ||
      sg_engine_new(&f->loop, f->cfg, f->st, &f->e) != 0)
    return -1;
  sg_engine_tuning_t t;
  sg_engine_tuning_default(&t);
  t.tick_ms = 50;
  t.retry_min_ms = 50;
  t.dlr_retry_ms = 50;
  if (sg_engine_set_tuning(f->e, &t) != 0 ||
      sg_engine_start(f->e, started_cb, f) != 0 ||
      !run_until(f, is_started, 5000) || f->start_status != 0 ||
      !run_until(f, sim_up, 5000))
    return -1;
  *state = f;
  return 0;
}

static void store_closed_cb(void *data) {
  *(bool *)data = true;
}
static void sim_stopped_cb(sg_sim_smsc_t *sim, void *user) {
  (void)sim;
  *(bool *)user = true;
}

static int teardown(void **state) {
  fx_t *f = *state;
  sg_alloc_fail_nth(-1);
  if (sg_engine_stop(f->e, stopped_cb, f) == 0)
    run_until(f, is_stopped, 10000);
  sg_engine_free(f->e);
  bool closed = false;
  sg_store_close(f->st, store_closed_cb, &closed);
  while (!closed)
    uv_run(&f->loop, UV_RUN_ONCE);
  bool sim_done = false;
  sg_sim_smsc_stop(f->sim, sim_stopped_cb, &sim_done);
  while (!sim_done)
    uv_run(&f->loop, UV_RUN_ONCE);
  sg_sim_smsc_free(f->sim);
  uv_run(&f->loop, UV_RUN_DEFAULT);
  assert_int_equal(uv_loop_close(&f->loop), 0);
  sg_config_free(f->cfg);
  static const char *const suffix[] = {"", "-wal", "-shm"};
  char p[160];
  for (size_t i = 0; i < 3; i++) {
    snprintf(p, sizeof p, "%s%s", f->path, suffix[i]);
    unlink(p);
  }
  rmdir(f->dir);
  free(f);
  return 0;
}

/* ---- one send ------------------------------------------------------------ */

static void submit_cb(sg_engine_t *e, const sg_submit_res_t *res, void *ud) {
  fx_t *f = ud;
  (void)e;
  f->submitted = true;
  f->sub_status = res->status;
  snprintf(f->sub_code, sizeof f->sub_code, "%s",
           res->error_code ? res->error_code : "");
  f->item_status = res->n_items > 0 ? res->items[0].status : SG_EINVAL;
  f->id[0] = '\0';
  f->item_code[0] = '\0';
  if (res->status == 0 && res->n_items > 0) {
    snprintf(f->item_code, sizeof f->item_code, "%s",
             res->items[0].error_code ? res->items[0].error_code : "");
    if (res->items[0].status == 0)
      memcpy(f->id, res->items[0].id, sizeof f->id);
  }
}
static bool is_submitted(fx_t *f) {
  return f->submitted;
}

static void get_cb(sg_engine_t *e, int status, const sg_store_message_t *m,
                   void *ud) {
  fx_t *f = ud;
  (void)e;
  f->got = true;
  f->get_status = status;
  if (status != 0)
    return;
  f->status = m->status;
  f->n_parts = m->n_parts;
  f->part_has_smsc_id = m->n_parts == 1 && m->parts[0].smsc_id != NULL &&
                        m->parts[0].smsc_id[0] != '\0';
  int step = 0; /* queued, sent, delivered of the message, in order */
  static const sg_msg_status_t order[] = {SG_MSG_QUEUED, SG_MSG_SENT,
                                          SG_MSG_DELIVERED};
  for (size_t i = 0; i < m->n_events && step < 3; i++)
    if (m->events[i].part_seq == 0 && m->events[i].status == order[step])
      step++;
  f->queued_sent_delivered = step == 3;
  snprintf(f->last_event, sizeof f->last_event, "%s",
           m->n_events > 0 && m->events[m->n_events - 1].detail
               ? m->events[m->n_events - 1].detail
               : "");
}
static bool is_got(fx_t *f) {
  return f->got;
}

static void list_cb(sg_engine_t *e, int status, const sg_store_list_res_t *res,
                    void *ud) {
  fx_t *f = ud;
  (void)e;
  f->got = true;
  f->get_status = status;
  f->n_listed = status == 0 ? res->n : 0;
}

/* How many stored messages have recipient `to`. */
static size_t stored_for(fx_t *f, const char *to) {
  sg_store_filter_t flt = {.recipient = to, .limit = 10};
  f->got = false;
  assert_int_equal(sg_engine_list_messages(f->e, &flt, list_cb, f), 0);
  assert_true(run_until(f, is_got, 5000));
  assert_int_equal(f->get_status, 0);
  return f->n_listed;
}

static uint64_t sim_submits(fx_t *f) {
  sg_sim_smsc_stats_t s;
  sg_sim_smsc_stats(f->sim, &s);
  return s.submits;
}

/* Polls the message until it is delivered (or timeout_ms pass). */
static bool delivered(fx_t *f, unsigned timeout_ms) {
  uint64_t end = uv_now(&f->loop) + timeout_ms;
  for (;;) {
    f->got = false;
    /* The read itself may be what fails (SG_ENOMEM): then read again. */
    int rc = sg_engine_get_message(f->e, f->id, 0, get_cb, f);
    if (rc == 0)
      assert_true(run_until(f, is_got, 5000));
    else
      assert_int_equal(rc, SG_ENOMEM);
    if (rc == 0 && f->get_status == 0 && f->status == SG_MSG_DELIVERED)
      return true;
    if (uv_now(&f->loop) >= end)
      return false;
    run_until(f, never, 20);
  }
}

typedef struct tally {
  unsigned refused, recovered, untouched;
} tally_t;

/* One send to a recipient of its own, with the (n+1)th allocation from
 * here failing (n < 0: none). */
static void send_one(fx_t *f, long n, unsigned i, tally_t *t) {
  char to[16];
  snprintf(to, sizeof to, "+7916%07u", i);
  const char *tos[] = {to};
  const sg_engine_account_t *acct = NULL;
  assert_int_equal(sg_engine_auth_api_key(f->e, "key-acme", 8, &acct), 0);
  sg_submit_req_t r = {.account = acct,
                       .to = tos,
                       .n_to = 1,
                       .from = "Shop",
                       .text = "sweep",
                       .text_len = 5,
                       .dlr = true};
  uint64_t before = sim_submits(f);
  f->submitted = false;
  sg_alloc_fail_nth(n);
  int rc = sg_engine_submit(f->e, &r, submit_cb, f);
  if (rc != 0) { /* refused at once: no callback, nothing stored */
    sg_alloc_fail_nth(-1);
    run_until(f, never, 50);
    assert_false(f->submitted);
    assert_int_equal(stored_for(f, to), 0);
    t->refused++;
    return;
  }
  assert_true(run_until(f, is_submitted, 10000)); /* always answered */
  bool accepted = f->sub_status == 0 && f->item_status == 0;
  if (!accepted) {
    sg_alloc_fail_nth(-1);
    /* Reported, with a code, and nothing of it anywhere. */
    assert_true(f->sub_code[0] != '\0' || f->item_code[0] != '\0');
    run_until(f, never, 100);
    assert_int_equal(stored_for(f, to), 0);
    assert_int_equal(sim_submits(f), before);
    t->refused++;
    return;
  }
  /* Accepted: whatever failed after that is retried until it is done. */
  bool ok = delivered(f, 15000);
  unsigned long failed = sg_alloc_failures();
  sg_alloc_fail_nth(-1);
  if (!ok)
    fail_msg("N=%ld: message %s accepted but not delivered (status %d, %lu "
             "allocation(s) failed; last event: %s)",
             n + 1, f->id, (int)f->status, failed, f->last_event);
  assert_int_equal(f->n_parts, 1);
  assert_true(f->part_has_smsc_id);
  assert_true(f->queued_sent_delivered);
  assert_int_equal(stored_for(f, to), 1);
  assert_true(sim_submits(f) > before);
  if (failed > 0)
    t->recovered++;
  else
    t->untouched++;
}

static void sweep_send_and_receipt(void **state) {
  fx_t *f = *state;
  tally_t t = {0};
  /* A clean run first: how many allocations one send and receipt make. */
  sg_alloc_count_reset();
  send_one(f, -1, 0, &t);
  unsigned long clean = sg_alloc_count();
  assert_int_equal(t.untouched, 1);
  assert_true(clean > 10);
  /* Beyond `clean` the failure lands after the receipt (or nowhere). */
  unsigned long last = clean + clean / 4;
  for (unsigned long n = 1; n <= last; n++)
    send_one(f, (long)n - 1, (unsigned)n, &t);
  /* And the gateway still works with nothing failing. */
  tally_t end = {0};
  send_one(f, -1, 9999999, &end);
  assert_int_equal(end.untouched, 1);
  printf("alloc sweep: %lu allocations per send and receipt; N = 1..%lu: "
         "%u refused with an error, %u failed after the acknowledgement and "
         "recovered, %u left untouched\n",
         clean, last, t.refused, t.recovered, t.untouched - 1);
  assert_true(t.refused > 0);
  assert_true(t.recovered > 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(sweep_send_and_receipt, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
