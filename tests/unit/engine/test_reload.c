/* test_reload.c - the engine's configuration reload in one process: a
 * temporary SQLite store, the SMSC simulator on an ephemeral port and SMPP
 * connectors to it on one libuv loop. Checks that an unchanged connector
 * keeps its binds and its connector object, that a changed window binds
 * again and an added connector starts (the simulator counts the binds),
 * the report, a second reload while one runs (SG_EBUSY), a refused reload
 * changing nothing, accounts added and removed, the arguments, and that
 * the engine still stops after reloads. Waits by running the loop until a
 * condition holds (bounded), never by sleeping. */
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

#include "core/config.h"
#include "core/error.h"
#include "engine/engine.h"
#include "engine/reload.h"
#include "engine/route_admin.h"
#include "sim/smsc.h"
#include "store/store.h"

typedef struct fx {
  uv_loop_t loop;
  char dir[64], path[96];
  sg_sim_smsc_t *sim;
  sg_store_t *st;
  sg_config_t *cfg;
  sg_engine_t *e;
  bool started, stopped, answered;
  int status;
  char report[2048];
  char message[256];
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

static sg_config_t *load(fx_t *f, const char *extra_conns, const char *route,
                         const char *accounts) {
  char yaml[2048];
  unsigned port = sg_sim_smsc_port(f->sim);
  snprintf(yaml, sizeof yaml,
           "store: {driver: sqlite, path: %s}\n"
           "accounts:\n%s"
           "connectors:\n"
           "  - {name: c1, type: smpp, host: 127.0.0.1, port: %u,\n"
           "     system_id: eng, reconnect_min: 100ms, reconnect_max: 200ms}\n"
           "%s"
           "routes:\n"
           "  - {prefix: \"+\", connectors: [%s]}\n",
           f->path, accounts, port, extra_conns, route);
  sg_config_errors_t errs;
  sg_config_t *cfg = NULL;
  int rc = sg_config_load_string("test", yaml, strlen(yaml), &cfg, &errs);
  if (rc != 0)
    sg_config_errors_print(&errs, stderr);
  assert_int_equal(rc, 0);
  return cfg;
}

/* A connector to the simulator named NAME with window W. */
static const char *conn(char *buf, size_t cap, fx_t *f, const char *name,
                        unsigned w) {
  snprintf(buf, cap,
           "  - {name: %s, type: smpp, host: 127.0.0.1, port: %u,\n"
           "     system_id: eng, window: %u, reconnect_min: 100ms,\n"
           "     reconnect_max: 200ms}\n",
           name, (unsigned)sg_sim_smsc_port(f->sim), w);
  return buf;
}

#define ACCOUNTS_V1                                                            \
  "  - {name: acme, api_key: key-acme, default_region: RU}\n"                  \
  "  - {name: ops, api_key: key-ops, admin: true}\n"

static void started_cb(sg_engine_t *e, int status, void *ud) {
  (void)e;
  fx_t *f = ud;
  f->started = true;
  f->status = status;
}

static bool is_started(fx_t *f) {
  return f->started;
}

static bool all_up(fx_t *f) {
  sg_engine_metrics_t m;
  sg_engine_metrics(f->e, &m);
  for (size_t i = 0; i < m.n_connectors; i++)
    if (m.connectors[i].state != SG_CONN_UP)
      return false;
  return m.n_connectors > 0;
}

static uint64_t sim_binds(fx_t *f) {
  sg_sim_smsc_stats_t s;
  sg_sim_smsc_stats(f->sim, &s);
  return s.binds;
}

static int setup(void **state) {
  fx_t *f = calloc(1, sizeof *f);
  snprintf(f->dir, sizeof f->dir, "/tmp/sg-reload-XXXXXX");
  if (mkdtemp(f->dir) == NULL)
    return -1;
  snprintf(f->path, sizeof f->path, "%s/smsgate.db", f->dir);
  uv_loop_init(&f->loop);
  sg_sim_smsc_config_t sc;
  sg_sim_smsc_config_default(&sc);
  sc.port = 0;
  if (sg_sim_smsc_new(&f->loop, &sc, &f->sim) != 0 ||
      sg_sim_smsc_start(f->sim, NULL, 0) != 0)
    return -1;
  *state = f;
  return 0;
}

/* Starts the engine on cfg (two connectors: c1 and c2). */
static void start(fx_t *f) {
  char c2[256];
  f->cfg = load(f, conn(c2, sizeof c2, f, "c2", 10), "c1", ACCOUNTS_V1);
  sg_store_config_t sc;
  sg_store_config_init(&sc, f->path);
  sc.sync_normal = true;
  char err[256];
  assert_int_equal(sg_store_open(&f->loop, &sc, &f->st, err, sizeof err), 0);
  assert_int_equal(sg_engine_new(&f->loop, f->cfg, f->st, &f->e), 0);
  assert_int_equal(sg_engine_start(f->e, started_cb, f), 0);
  assert_true(run_until(f, is_started, 5000));
  assert_int_equal(f->status, 0);
  assert_true(run_until(f, all_up, 5000));
  assert_int_equal(sim_binds(f), 2);
}

static void stopped_cb(sg_engine_t *e, int status, void *ud) {
  (void)e;
  (void)status;
  ((fx_t *)ud)->stopped = true;
}

static bool is_stopped(fx_t *f) {
  return f->stopped;
}

static void flag_cb(void *data) {
  *(bool *)data = true;
}

static void sim_stopped_cb(sg_sim_smsc_t *sim, void *user) {
  (void)sim;
  *(bool *)user = true;
}

static int teardown(void **state) {
  fx_t *f = *state;
  /* The stop must complete after reloads retired connectors. */
  if (f->e != NULL && sg_engine_stop(f->e, stopped_cb, f) == 0)
    assert_true(run_until(f, is_stopped, 10000));
  sg_engine_free(f->e);
  bool closed = false;
  if (f->st != NULL) {
    sg_store_close(f->st, flag_cb, &closed);
    while (!closed)
      uv_run(&f->loop, UV_RUN_ONCE);
  }
  bool sim_done = false;
  sg_sim_smsc_stop(f->sim, sim_stopped_cb, &sim_done);
  while (!sim_done)
    uv_run(&f->loop, UV_RUN_ONCE);
  sg_sim_smsc_free(f->sim);
  uv_run(&f->loop, UV_RUN_DEFAULT);
  assert_int_equal(uv_loop_close(&f->loop), 0);
  sg_config_free(f->cfg);
  static const char *const suffix[] = {"", "-wal", "-shm", "-journal"};
  char p[160];
  for (size_t i = 0; i < 4; i++) {
    snprintf(p, sizeof p, "%s%s", f->path, suffix[i]);
    unlink(p);
  }
  rmdir(f->dir);
  free(f);
  return 0;
}

static void reload_cb(sg_engine_t *e, const sg_engine_reload_res_t *res,
                      void *ud) {
  (void)e;
  fx_t *f = ud;
  f->answered = true;
  f->status = res->status;
  snprintf(f->report, sizeof f->report, "%s", res->report ? res->report : "");
  snprintf(f->message, sizeof f->message, "%s",
           res->message ? res->message : "");
}

static bool is_answered(fx_t *f) {
  return f->answered;
}

static void reload(fx_t *f, sg_config_t *cfg) {
  f->answered = false;
  assert_int_equal(sg_engine_reload(f->e, cfg, reload_cb, f), 0);
  assert_false(f->answered); /* never inside the call */
  assert_true(run_until(f, is_answered, 5000));
}

static void connectors(void **state) {
  fx_t *f = *state;
  start(f);
  sg_connector_t *c1 = sg_engine_connector(f->e, "c1");
  sg_connector_t *c2 = sg_engine_connector(f->e, "c2");
  assert_non_null(c1);
  char b2[256], b3[256], both[512];
  snprintf(both, sizeof both, "%s%s", conn(b2, sizeof b2, f, "c2", 20),
           conn(b3, sizeof b3, f, "c3", 10));
  f->answered = false;
  assert_int_equal(
      sg_engine_reload(f->e, load(f, both, "c3", ACCOUNTS_V1), reload_cb, f),
      0);
  /* A second one while the first has not answered. */
  assert_int_equal(
      sg_engine_reload(f->e, load(f, both, "c3", ACCOUNTS_V1), reload_cb, f),
      SG_EBUSY);
  assert_true(run_until(f, is_answered, 5000));
  assert_int_equal(f->status, 0);
  assert_non_null(strstr(
      f->report, "\"connectors\":{\"added\":[\"c3\"],\"removed\":[],"
                 "\"rebound\":[{\"name\":\"c2\",\"keys\":\"window\"}],"
                 "\"changed\":[],\"unchanged\":[\"c1\"]},\"routes\":"
                 "\"replaced\""));
  /* c1 is the same connector object; c2 a new one. */
  assert_ptr_equal(sg_engine_connector(f->e, "c1"), c1);
  assert_ptr_not_equal(sg_engine_connector(f->e, "c2"), c2);
  assert_non_null(sg_engine_connector(f->e, "c3"));
  assert_true(run_until(f, all_up, 5000));
  sg_engine_metrics_t m;
  sg_engine_metrics(f->e, &m);
  assert_int_equal(m.n_connectors, 3);
  assert_string_equal(m.connectors[0].name, "c1");
  /* Two new binds (c2 again, c3); c1's stayed. */
  assert_int_equal(sim_binds(f), 4);
  size_t n = sg_engine_connector_count(f->e);
  assert_int_equal(n, 4); /* c1, the retired c2, c2, c3 */
  assert_true(sg_engine_connector_retired(f->e, 1));
  assert_false(sg_engine_connector_retired(f->e, 0));
  assert_int_equal(sg_engine_connector_index(f->e, "c2"), 2);
  assert_int_equal(sg_engine_reloads(f->e), 1);
  /* The same file again: nothing changes, no bind. */
  reload(f, load(f, both, "c3", ACCOUNTS_V1));
  assert_non_null(strstr(f->report, "{\"changed\":false,"));
  assert_int_equal(sim_binds(f), 4);
}

static void refused_and_accounts(void **state) {
  fx_t *f = *state;
  start(f);
  char c2[256];
  conn(c2, sizeof c2, f, "c2", 10);
  /* A region the phone metadata does not know: refused whole. */
  reload(f, load(f, "", "c1",
                 ACCOUNTS_V1 "  - {name: zz, api_key: key-zz, "
                             "default_region: ZZ}\n"));
  assert_int_equal(f->status, SG_EINVAL);
  assert_string_equal(f->message, "account zz: a default_region or "
                                  "destination the phone metadata does not "
                                  "know");
  assert_non_null(sg_engine_connector(f->e, "c2")); /* not removed */
  const sg_engine_account_t *a = NULL;
  assert_int_equal(sg_engine_auth_api_key(f->e, "key-zz", 6, &a), SG_ENOENT);
  assert_int_equal(sg_engine_reloads(f->e), 0);
  /* acme removed, late added. */
  reload(f, load(f, c2, "c1",
                 "  - {name: ops, api_key: key-ops, admin: true}\n"
                 "  - {name: late, api_key: key-late}\n"));
  assert_int_equal(f->status, 0);
  assert_non_null(strstr(f->report, "\"accounts\":{\"added\":[\"late\"],"
                                    "\"removed\":[\"acme\"],\"changed\":[]}"));
  assert_int_equal(sg_engine_auth_api_key(f->e, "key-late", 8, &a), 0);
  assert_string_equal(a->name, "late");
  assert_true(a->id > 0);
  assert_int_equal(sg_engine_auth_api_key(f->e, "key-acme", 8, &a), SG_EPERM);
  /* acme back: enabled again, with its row. */
  reload(f, load(f, c2, "c1", ACCOUNTS_V1));
  assert_int_equal(f->status, 0);
  assert_int_equal(sg_engine_auth_api_key(f->e, "key-acme", 8, &a), 0);
  assert_string_equal(a->name, "acme");
  assert_int_equal(sim_binds(f), 2); /* no connector touched */
}

static void arguments(void **state) {
  fx_t *f = *state;
  char c2[256];
  conn(c2, sizeof c2, f, "c2", 10);
  assert_int_equal(sg_engine_reload(NULL, load(f, c2, "c1", ACCOUNTS_V1),
                                    reload_cb, f),
                   SG_EINVAL);
  f->cfg = load(f, c2, "c1", ACCOUNTS_V1);
  sg_store_config_t sc;
  sg_store_config_init(&sc, f->path);
  char err[256];
  assert_int_equal(sg_store_open(&f->loop, &sc, &f->st, err, sizeof err), 0);
  assert_int_equal(sg_engine_new(&f->loop, f->cfg, f->st, &f->e), 0);
  /* Not running: refused, the configuration freed (the leak checker
   * would say otherwise). */
  assert_int_equal(
      sg_engine_reload(f->e, load(f, c2, "c1", ACCOUNTS_V1), reload_cb, f),
      SG_ESTATE);
  assert_int_equal(sg_engine_reload(f->e, NULL, reload_cb, f), SG_EINVAL);
  assert_false(f->answered);
  assert_ptr_equal(sg_engine_config(f->e), f->cfg);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(connectors, setup, teardown),
      cmocka_unit_test_setup_teardown(refused_and_accounts, setup, teardown),
      cmocka_unit_test_setup_teardown(arguments, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
