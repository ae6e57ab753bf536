/* test_store_sync.c - the SQLite writer's commit pipeline
 * (store/sqlite_sync.c): the log is synced beside the writer, writes are
 * answered in the order they were queued and only after a sync of the log
 * that holds them succeeded; when that sync fails, the writes it covered
 * are refused (SG_EIO) and their messages made inert (failed, never
 * claimed, their idempotency records gone), and the store takes writes
 * again, without a restart, once the disk syncs again.
 *
 * This program's own fdatasync() and fsync() replace libc's for the whole
 * process (SQLite's calls included), so that a test can make them fail as
 * a failing disk does.
 */
#define _GNU_SOURCE
#include "store/store_fixture.h"

#include <errno.h>
#include <sys/syscall.h>
#include <unistd.h>

static atomic_bool fail_syncs;
static atomic_bool hold_syncs; /* syncs wait while it is set */
static atomic_int syncs_ok;    /* successful syncs since the start */

int fdatasync(int fd) {
  while (atomic_load(&hold_syncs))
    usleep(1000);
  if (atomic_load(&fail_syncs)) {
    errno = EIO;
    return -1;
  }
  int rc = (int)syscall(SYS_fdatasync, fd);
  if (rc == 0)
    atomic_fetch_add(&syncs_ok, 1);
  return rc;
}

int fsync(int fd) {
  if (atomic_load(&fail_syncs)) {
    errno = EIO;
    return -1;
  }
  int rc = (int)syscall(SYS_fsync, fd);
  if (rc == 0)
    atomic_fetch_add(&syncs_ok, 1);
  return rc;
}

static int setup_sync(void **state) {
  setenv("SG_STORE_SYNC_PIPELINE", "1", 1);
  atomic_store(&fail_syncs, false);
  return setup(state);
}

/* ---- in order, after a sync ---------------------------------------------- */

#define N_ORDER 300

typedef struct order {
  int calls;
  int next;     /* the index expected next */
  int wrong;    /* callbacks out of order */
  int failed;   /* callbacks with an error */
  int unsynced; /* callbacks with no sync made since the submit */
  int syncs_at[N_ORDER];
} order_t;

typedef struct order_arg {
  order_t *o;
  int i;
} order_arg_t;

static void order_cb(sg_store_t *st, int status,
                     const sg_store_submit_res_t *res, void *data) {
  (void)st;
  (void)res;
  order_arg_t *a = data;
  order_t *o = a->o;
  if (a->i != o->next)
    o->wrong++;
  o->next = a->i + 1;
  if (status != 0)
    o->failed++;
  if (atomic_load(&syncs_ok) <= o->syncs_at[a->i])
    o->unsynced++;
  o->calls++;
}

/* Many writes queued at once: each is answered once, in order, none before
 * a sync began after it was queued, and each is in the file for another
 * connection and after a reopen. */
static void answers_in_order_after_a_sync(void **state) {
  ctx_t *c = *state;
  open_store(c);
  static order_t o;
  static order_arg_t args[N_ORDER];
  static tmsg_t m[N_ORDER];
  memset(&o, 0, sizeof o);
  for (int i = 0; i < N_ORDER; i++) {
    tmsg_init(&m[i], "+14155550100", 1, "smsc-a");
    sg_store_batch_t b = {.account_id = 1, .msgs = &m[i].m, .n_msgs = 1};
    sg_id_new(b.batch_id);
    args[i] = (order_arg_t){&o, i};
    o.syncs_at[i] = atomic_load(&syncs_ok);
    assert_int_equal(sg_store_submit(c->st, &b, order_cb, &args[i]), 0);
  }
  run_until(c, &o.calls, N_ORDER);
  assert_int_equal(o.wrong, 0);
  assert_int_equal(o.failed, 0);
  assert_int_equal(o.unsynced, 0);
  assert_int_equal(q1(c, "SELECT count(*) FROM messages"), N_ORDER);
  close_store(c);
  open_store(c);
  assert_int_equal(q1(c, "SELECT count(*) FROM messages WHERE status = "
                         "'queued'"),
                   N_ORDER);
}

/* The same with the sync waiting up to 100 ms for a group the writer is
 * running (SG_STORE_SYNC_WAIT_US): each write still answered once, in
 * order, after a sync that began after it was queued. */
static int setup_sync_wait(void **state) {
  setenv("SG_STORE_SYNC_WAIT_US", "100000", 1);
  return setup_sync(state);
}

static int teardown_sync_wait(void **state) {
  unsetenv("SG_STORE_SYNC_WAIT_US");
  return teardown(state);
}

static void answers_after_a_sync_that_waited(void **state) {
  answers_in_order_after_a_sync(state);
}

/* ---- a failed sync ------------------------------------------------------- */

static int claim_status(ctx_t *c, claim_got_t *g) {
  memset(g, 0, sizeof *g);
  assert_int_equal(sg_store_claim(c->st, "smsc-a", 16, 60000, claim_cb, g), 0);
  run_until(c, &g->calls, 1);
  return g->status;
}

static long long count_for(ctx_t *c, const char *fmt, const char *id) {
  char sql[256];
  snprintf(sql, sizeof sql, fmt, id);
  return q1(c, sql);
}

static void refused_writes_are_made_inert(void **state) {
  ctx_t *c = *state;
  open_store(c);
  static const uint8_t h1[] = {1, 2, 3, 4};
  sg_store_batch_t idem = {.idem_key = "k-1",
                           .request_hash = h1,
                           .request_hash_len = 4,
                           .response = (const uint8_t *)"{}",
                           .response_len = 2};
  tmsg_t ok1, bad1, bad2, ok2, again;
  got_t g;
  tmsg_init(&ok1, "+14155550101", 1, "smsc-a");
  assert_int_equal(submit_wait(c, &ok1, 1, NULL, &g), 0);

  atomic_store(&fail_syncs, true);
  tmsg_init(&bad1, "+14155550102", 1, "smsc-a");
  assert_int_equal(submit_wait(c, &bad1, 1, &idem, &g), SG_EIO);
  tmsg_init(&bad2, "+14155550103", 2, "smsc-a");
  assert_int_equal(submit_wait(c, &bad2, 1, NULL, &g), SG_EIO);
  claim_got_t cg;
  assert_int_equal(claim_status(c, &cg), SG_EIO); /* refused while failing */

  atomic_store(&fail_syncs, false);
  tmsg_init(&ok2, "+14155550104", 1, "smsc-a");
  assert_int_equal(submit_wait(c, &ok2, 1, NULL, &g), 0);

  /* The refused messages are failed, with the reason as an event, and
   * only the acknowledged ones are ever claimed. */
  const char *st_q = "SELECT count(*) FROM messages WHERE id = '%s' AND "
                     "status = 'failed'";
  const char *parts_q = "SELECT count(*) FROM parts WHERE message_id = '%s' "
                        "AND status = 'failed'";
  const char *live_q = "SELECT count(*) FROM parts WHERE message_id = '%s' "
                       "AND status <> 'failed'";
  const char *ev_q = "SELECT count(*) FROM events WHERE message_id = '%s' "
                     "AND part_seq IS NULL AND status = 'failed' AND "
                     "detail LIKE 'refused:%%'";
  /* bad1 was committed before its sync failed; bad2 came while the disk
   * still failed and was refused without being run. */
  assert_int_equal(count_for(c, st_q, bad1.m.id), 1);
  assert_int_equal(count_for(c, parts_q, bad1.m.id), 1);
  assert_int_equal(count_for(c, live_q, bad2.m.id), 0);
  assert_int_equal(count_for(c, ev_q, bad1.m.id), 1);
  assert_int_equal(count_for(c, st_q, ok1.m.id), 0);
  assert_int_equal(q1(c, "SELECT count(*) FROM idempotency_keys"), 0);
  assert_int_equal(claim_status(c, &cg), 0);
  assert_int_equal(cg.n, 2);
  bool saw1 = false, saw2 = false;
  for (size_t i = 0; i < cg.n; i++) {
    saw1 |= strcmp(cg.parts[i].message_id, ok1.m.id) == 0;
    saw2 |= strcmp(cg.parts[i].message_id, ok2.m.id) == 0;
  }
  assert_true(saw1 && saw2);

  /* The refused request, sent again under its key, is stored anew. */
  tmsg_init(&again, "+14155550102", 1, "smsc-a");
  assert_int_equal(submit_wait(c, &again, 1, &idem, &g), 0);
  assert_false(g.replayed);
  assert_int_equal(q1(c, "SELECT count(*) FROM idempotency_keys"), 1);

  /* And so it stays after a restart. */
  close_store(c);
  open_store(c);
  assert_int_equal(count_for(c, st_q, bad1.m.id), 1);
  assert_int_equal(q1(c, "SELECT count(*) FROM messages WHERE status <> "
                         "'failed'"),
                   3);
}

/* A disk that fails for several groups in a row: every write in the
 * meantime is refused, nothing of them stays claimable, and the first
 * write after the disk recovered is answered. */
static void refused_until_the_disk_recovers(void **state) {
  ctx_t *c = *state;
  open_store(c);
  atomic_store(&fail_syncs, true);
  got_t g;
  tmsg_t m[5];
  for (int i = 0; i < 5; i++) {
    tmsg_init(&m[i], "+14155550110", 1, "smsc-a");
    assert_int_equal(submit_wait(c, &m[i], 1, NULL, &g), SG_EIO);
  }
  atomic_store(&fail_syncs, false);
  tmsg_t ok;
  tmsg_init(&ok, "+14155550111", 1, "smsc-a");
  assert_int_equal(submit_wait(c, &ok, 1, NULL, &g), 0);
  assert_int_equal(q1(c, "SELECT count(*) FROM messages WHERE status = "
                         "'queued'"),
                   1);
  claim_got_t cg;
  assert_int_equal(claim_status(c, &cg), 0);
  assert_int_equal(cg.n, 1);
  assert_string_equal(cg.parts[0].message_id, ok.m.id);
}

/* ---- store.sync_pipeline ------------------------------------------------ */

static int setup_cfg(void **state) {
  unsetenv("SG_STORE_SYNC_PIPELINE");
  atomic_store(&fail_syncs, false);
  atomic_store(&hold_syncs, false);
  return setup(state);
}

/* Submits one message while every sync of the log is held and reports
 * whether another connection sees it before the sync is let go: only a
 * commit whose sync was left to the pipeline is published before it. */
static bool visible_before_sync(ctx_t *c, bool no_pipeline) {
  sg_store_config_t cfg = test_config(c);
  cfg.no_sync_pipeline = no_pipeline;
  assert_int_equal(open_with(c, &cfg), 0);
  tmsg_t m;
  tmsg_init(&m, "+14155550120", 1, "smsc-a");
  sg_store_msg_in_t in = m.m;
  sg_store_batch_t b = {.account_id = 1, .msgs = &in, .n_msgs = 1};
  sg_id_new(b.batch_id);
  got_t g = {0};
  char sql[128];
  snprintf(sql, sizeof sql, "SELECT count(*) FROM messages WHERE id = '%s'",
           m.m.id);
  atomic_store(&hold_syncs, true);
  assert_int_equal(sg_store_submit(c->st, &b, submit_cb, &g), 0);
  bool seen = false;
  for (int i = 0; i < 300 && !seen; i++) { /* 0.3 s */
    seen = q1(c, sql) == 1;
    usleep(1000);
  }
  atomic_store(&hold_syncs, false);
  run_until(c, &g.calls, 1);
  assert_int_equal(g.status, 0);
  assert_int_equal(q1(c, sql), 1);
  close_store(c);
  return seen;
}

/* sg_store_config_t.no_sync_pipeline (store.sync_pipeline: false) makes the
 * writer sync inside its commit; SG_STORE_SYNC_PIPELINE overrides it either
 * way. */
static void pipeline_follows_the_config(void **state) {
  ctx_t *c = *state;
  assert_true(visible_before_sync(c, false));
  assert_false(visible_before_sync(c, true));
  setenv("SG_STORE_SYNC_PIPELINE", "1", 1);
  assert_true(visible_before_sync(c, true));
  setenv("SG_STORE_SYNC_PIPELINE", "0", 1);
  assert_false(visible_before_sync(c, false));
  unsetenv("SG_STORE_SYNC_PIPELINE");
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(answers_in_order_after_a_sync, setup_sync,
                                      teardown),
      cmocka_unit_test_setup_teardown(answers_after_a_sync_that_waited,
                                      setup_sync_wait, teardown_sync_wait),
      cmocka_unit_test_setup_teardown(refused_writes_are_made_inert, setup_sync,
                                      teardown),
      cmocka_unit_test_setup_teardown(pipeline_follows_the_config, setup_cfg,
                                      teardown),
      cmocka_unit_test_setup_teardown(refused_until_the_disk_recovers,
                                      setup_sync, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
