/* test_store_settle.c - the idle SQLite writer settles one-part message
 * rows (sqlite_settle.c): a final status the part carries goes into the
 * row, a batch per transaction, when the writer has had no request for
 * SG_STORE_SETTLE_IDLE_MS. Every read answers the same before and after
 * (a message, its events, the lists by status, the counts, the counts
 * read again at open), nothing else moves (events, webhooks), a write
 * that comes waits for one batch at most, and a batch that fails changes
 * nothing. No timed assertion: the tests wait for the writer's figures
 * (sg_store_sqlite_settle_stats). SQLite only.
 */
#include "store_fixture.h"
#include "store/sqlite.h"
#include "store/store_ops.h"

/* messages.status as stored, not as read. */
static const char *row_status(ctx_t *c, const char *mid) {
  char sql[128];
  snprintf(sql, sizeof sql, "SELECT status FROM messages WHERE id = '%s'", mid);
  return q1s(c, sql);
}

static void settle_env(const char *idle_ms, const char *batch) {
  setenv("SG_STORE_SETTLE_IDLE_MS", idle_ms, 1);
  setenv("SG_STORE_SETTLE_BATCH", batch, 1);
}

static sg_store_sqlite_settle_t settle_of(ctx_t *c) {
  sg_store_sqlite_settle_t s;
  assert_int_equal(sg_store_sqlite_settle_stats(c->st, &s), 0);
  return s;
}

/* Runs the loop until the writer's settle figures pass test (20 s at
 * most: a hang, not a measure). */
static void
wait_settle(ctx_t *c, bool (*test)(const sg_store_sqlite_settle_t *, uint64_t),
            uint64_t arg) {
  for (int i = 0; i < 20000; i++) {
    sg_store_sqlite_settle_t s = settle_of(c);
    if (test(&s, arg))
      return;
    uv_run(&c->loop, UV_RUN_NOWAIT);
    usleep(1000);
  }
  fail_msg("the writer did not settle");
}

static bool passes_at_least(const sg_store_sqlite_settle_t *s, uint64_t n) {
  return s->passes >= n;
}
static bool batches_at_least(const sg_store_sqlite_settle_t *s, uint64_t n) {
  return s->batches >= n;
}
static bool failures_at_least(const sg_store_sqlite_settle_t *s, uint64_t n) {
  return s->failures >= n;
}

/* ---- what the reads show ------------------------------------------------- */

typedef struct list_got {
  int calls, status;
  size_t n;
  char ids[64];
} list_got_t;

static void list_cb(sg_store_t *st, int status, const sg_store_list_res_t *res,
                    void *data) {
  (void)st;
  list_got_t *g = data;
  g->status = status;
  g->n = status == 0 ? res->n : 0;
  for (size_t i = 0; i < g->n; i++)
    g->ids[i < sizeof g->ids - 1 ? i : sizeof g->ids - 2] =
        res->msgs[i].id[SG_ID_LEN - 1];
  g->calls++;
}

typedef struct shown {
  int calls, status;
  char text[512];
} shown_t;

static void shown_cb(sg_store_t *st, int status, const sg_store_message_t *m,
                     void *data) {
  (void)st;
  shown_t *g = data;
  g->status = status;
  if (status == 0) {
    size_t at =
        (size_t)snprintf(g->text, sizeof g->text,
                         "%s/%d/%lld: ", sg_store_status_name(m->status),
                         (int)m->error_code, (long long)m->updated_ms);
    for (size_t i = 0; i < m->n_events && at < sizeof g->text - 64; i++)
      at += (size_t)snprintf(g->text + at, sizeof g->text - at, "%u:%s:%d ",
                             m->events[i].part_seq,
                             sg_store_status_name(m->events[i].status),
                             (int)m->events[i].error_code);
  }
  g->calls++;
}

/* Everything the API shows of messages ids[0..n) and of the store, as
 * text: each message (status, code, time, events), the lists by each
 * status (their messages), the counts. */
static void snapshot(ctx_t *c, tmsg_t *m, size_t n, char *out, size_t len) {
  size_t at = 0;
  for (size_t i = 0; i < n; i++) {
    shown_t g = {0};
    assert_int_equal(sg_store_get_message(c->st, m[i].m.id, 0, shown_cb, &g),
                     0);
    run_until(c, &g.calls, 1);
    assert_int_equal(g.status, 0);
    at += (size_t)snprintf(out + at, len - at, "%s\n", g.text);
  }
  static const sg_msg_status_t by[] = {
      SG_MSG_NONE,      SG_MSG_QUEUED,        SG_MSG_SENDING, SG_MSG_SENT,
      SG_MSG_DELIVERED, SG_MSG_UNDELIVERABLE, SG_MSG_EXPIRED, SG_MSG_FAILED};
  for (size_t k = 0; k < sizeof by / sizeof by[0]; k++) {
    sg_store_filter_t f = {.status = by[k], .limit = 50};
    list_got_t g = {0};
    assert_int_equal(sg_store_list_messages(c->st, &f, list_cb, &g), 0);
    run_until(c, &g.calls, 1);
    assert_int_equal(g.status, 0);
    at += (size_t)snprintf(out + at, len - at, "list %s: %zu %s\n",
                           sg_store_status_name(by[k]), g.n, g.ids);
  }
  counts_got_t k = {0};
  assert_int_equal(sg_store_counts(c->st, counts_cb, &k), 0);
  run_until(c, &k.calls, 1);
  assert_int_equal(k.status, 0);
  at += (size_t)snprintf(out + at, len - at, "counts:");
  for (int s = 0; s < SG_MSG_STATUS_COUNT; s++)
    at += (size_t)snprintf(out + at, len - at, " %llu/%llu",
                           (unsigned long long)k.k.messages[s],
                           (unsigned long long)k.k.parts[s]);
  at +=
      (size_t)snprintf(out + at, len - at, " webhooks %llu/%llu events %lld\n",
                       (unsigned long long)k.k.webhooks_pending,
                       (unsigned long long)k.k.webhooks_failed,
                       q1(c, "SELECT count(*) FROM events"));
}

/* ---- making messages ----------------------------------------------------- */

static void open_cfg(ctx_t *c, bool faults) {
  sg_store_config_t cfg = test_config(c);
  cfg.fault_injection = faults;
  int rc = open_with(c, &cfg);
  if (rc != 0)
    fail_msg("open: %s (%s)", c->err, sg_err_name(rc));
}

/* A one-part message to rcpt, claimed and sent as smsc_id, with a
 * webhook. */
static void sent_one(ctx_t *c, tmsg_t *m, const char *rcpt,
                     const char *smsc_id) {
  atomic_store(&fake_now, T0);
  tmsg_init(m, rcpt, 1, "smsc-a");
  m->m.callback_url = "http://127.0.0.1:9/hook";
  assert_int_equal(submit_wait(c, m, 1, NULL, NULL), 0);
  atomic_store(&fake_now, T0 + 5000);
  claim_one_sent_at(c, "smsc-a", smsc_id, T0 + 6000);
}

static void receipt_at(ctx_t *c, const char *smsc_id, sg_msg_status_t st,
                       int32_t code, int64_t at) {
  atomic_store(&fake_now, T0 + at);
  sg_store_receipt_in_t d = {.connector = "smsc-a",
                             .smsc_id = smsc_id,
                             .status = st,
                             .error_code = code,
                             .detail = "receipt",
                             .done_ms = T0 + at};
  items_got_t ig;
  receipts_wait(c, &d, 1, &ig);
  assert_int_equal(ig.items[0].status, 0);
  assert_int_equal(ig.items[0].msg_status, st);
}

/* Four one-part messages: three ended on their parts by receipts
 * (delivered, undeliverable with a code, expired), one still 'sent'; and
 * one of two parts, queued. The rows of the first four say 'queued'. */
static void five_messages(ctx_t *c, tmsg_t *m) {
  sent_one(c, &m[0], "+14155550141", "r-1");
  receipt_at(c, "r-1", SG_MSG_DELIVERED, 0, 9000);
  sent_one(c, &m[1], "+14155550142", "r-2");
  receipt_at(c, "r-2", SG_MSG_UNDELIVERABLE, 11, 9100);
  sent_one(c, &m[2], "+14155550143", "r-3");
  receipt_at(c, "r-3", SG_MSG_EXPIRED, 0, 9200);
  sent_one(c, &m[3], "+14155550144", "r-4");
  atomic_store(&fake_now, T0 + 9300);
  tmsg_init(&m[4], "+14155550145", 2, "smsc-b");
  assert_int_equal(submit_wait(c, &m[4], 1, NULL, NULL), 0);
  for (int i = 0; i < 4; i++)
    assert_string_equal(row_status(c, m[i].m.id), "queued");
}

/* ---- the tests ----------------------------------------------------------- */

/* The rows catch up with their parts when the writer is idle, and no read
 * tells: the same answers before and after, and at the next open (the
 * counts read from the tables). The message still 'sent' and the one of
 * two parts keep their rows. */
static void idle_writer_settles_the_rows(void **state) {
  ctx_t *c = *state;
  settle_env("0", "2");
  open_store(c);
  tmsg_t m[5];
  five_messages(c, m);
  static char before[4096], after[4096], reopened[4096];
  snapshot(c, m, 5, before, sizeof before);
  long long webhooks = q1(c, "SELECT count(*) FROM webhooks");
  close_store(c);

  settle_env("1", "2");
  open_store(c);
  wait_settle(c, passes_at_least, 1);
  sg_store_sqlite_settle_t s = settle_of(c);
  assert_int_equal(s.rows, 3);
  assert_int_equal(s.failures, 0);
  assert_true(s.batches >= 2); /* 4 'queued' rows, 2 a batch */
  assert_string_equal(row_status(c, m[0].m.id), "delivered");
  assert_string_equal(row_status(c, m[1].m.id), "undeliverable");
  assert_string_equal(row_status(c, m[2].m.id), "expired");
  assert_string_equal(row_status(c, m[3].m.id), "queued"); /* still sent */
  assert_string_equal(row_status(c, m[4].m.id), "queued");
  char sql[160];
  snprintf(sql, sizeof sql, "SELECT error_code FROM messages WHERE id = '%s'",
           m[1].m.id);
  assert_int_equal(q1(c, sql), 11);
  snapshot(c, m, 5, after, sizeof after);
  assert_string_equal(before, after);
  assert_int_equal(q1(c, "SELECT count(*) FROM webhooks"), webhooks);
  close_store(c);

  settle_env("0", "2");
  open_store(c);
  snapshot(c, m, 5, reopened, sizeof reopened);
  assert_string_equal(before, reopened);
  /* a settled row's later change: the message does not end twice */
  receipt_at(c, "r-4", SG_MSG_DELIVERED, 0, 9500);
  receipt_at(c, "r-1", SG_MSG_DELIVERED, 0, 9600);
  shown_t g = {0};
  assert_int_equal(sg_store_get_message(c->st, m[0].m.id, 0, shown_cb, &g), 0);
  run_until(c, &g.calls, 1);
  assert_non_null(strstr(g.text, "delivered"));
  assert_null(strstr(strstr(g.text, "0:delivered") + 1, "0:delivered"));
}

static bool rows_settled_at_least(const sg_store_sqlite_settle_t *s,
                                  uint64_t n) {
  return s->rows >= n;
}

/* Rows made by SQL: n one-part messages whose row says 'queued' (ids
 * 00F000...1 to n) and whose part, on smsc-a, says 'delivered' (ended: as
 * the writer leaves them) or 'queued' (not: a backlog for a connector
 * that is down, nothing to settle). */
static void fill_rows(ctx_t *c, int n, bool ended) {
  char sql[2048];
  snprintf(
      sql, sizeof sql,
      "BEGIN;"
      "WITH RECURSIVE g(i) AS (SELECT 1 UNION ALL SELECT i+1 FROM g WHERE "
      "i < %d) INSERT INTO messages (id, batch_id, account_id, sender, "
      "recipient, encoding, body, status, parts_total, created_ms, "
      "updated_ms) SELECT printf('00F%%023d', i), printf('00F%%023d', i), 1, "
      "'SG', '+14155550100', 0, 'hello', 'queued', 1, %lld, %lld FROM g;"
      "WITH RECURSIVE g(i) AS (SELECT 1 UNION ALL SELECT i+1 FROM g WHERE "
      "i < %d) INSERT INTO parts (id, message_id, seq, connector, encoding, "
      "ud, status, smsc_id, attempts, updated_ms) SELECT 1000000 + i, "
      "printf('00F%%023d', i), 1, 'smsc-a', 0, x'68656c6c6f', %s, %s, %d, "
      "%lld FROM g;"
      "COMMIT;",
      n, (long long)T0, (long long)T0, n,
      ended ? "'delivered'" : "'queued'",
      ended ? "printf('S%%d', i)" : "NULL", ended ? 1 : 0,
      (long long)T0 + (ended ? 900 : 0));
  raw_exec(c, sql);
}

/* The store opened on a file of n such rows made with settling off, then
 * opened again to settle them with idle_ms and a batch of 256. */
static void reopen_filled(ctx_t *c, int n, bool ended, const char *idle_ms) {
  settle_env("0", "256");
  open_store(c);
  close_store(c);
  fill_rows(c, n, ended);
  settle_env(idle_ms, "256");
  open_store(c);
}

/* Writes that come while the writer settles wait for the batch under way
 * at most (counted, not timed), and settling goes on after them. */
static void a_write_waits_for_one_batch_at_most(void **state) {
  ctx_t *c = *state;
  settle_env("0", "1");
  open_store(c);
  close_store(c);
  fill_rows(c, 3000, true);
  settle_env("1", "1");
  open_store(c);
  wait_settle(c, batches_at_least, 1);
  uint64_t before = settle_of(c).rows;
  tmsg_t m;
  for (int i = 0; i < 20; i++) {
    tmsg_init(&m, "+14155550150", 1, "smsc-z");
    assert_int_equal(submit_wait(c, &m, 1, NULL, NULL), 0);
  }
  wait_settle(c, rows_settled_at_least, 3000);
  sg_store_sqlite_settle_t s = settle_of(c);
  assert_true(before < 3000); /* the writes came while it settled */
  assert_true(s.held_max <= 1);
  assert_int_equal(s.rows, 3000);
  assert_int_equal(s.failures, 0);
  assert_int_equal(
      q1(c, "SELECT count(*) FROM messages WHERE status = 'delivered'"), 3000);
  assert_int_equal(q1(c, "SELECT count(*) FROM messages WHERE status = "
                         "'queued' AND recipient = '+14155550150'"),
                   20);
}

/* A batch whose transaction fails changes nothing a read shows nor any
 * row, and ends the pass; the next write starts another, which settles. */
static void a_failed_batch_changes_nothing(void **state) {
  ctx_t *c = *state;
  settle_env("0", "8");
  open_cfg(c, true);
  tmsg_t m[5];
  five_messages(c, m);
  static char before[4096], after[4096];
  snapshot(c, m, 5, before, sizeof before);
  close_store(c);

  settle_env("300", "8");
  open_cfg(c, true);
  assert_int_equal(sg_store_sqlite_fail_next(c->st, 1, false), 0);
  wait_settle(c, failures_at_least, 1);
  sg_store_sqlite_settle_t s = settle_of(c);
  assert_int_equal(s.rows, 0);
  assert_int_equal(s.batches, 1);
  for (int i = 0; i < 4; i++)
    assert_string_equal(row_status(c, m[i].m.id), "queued");
  snapshot(c, m, 5, after, sizeof after);
  assert_string_equal(before, after);

  tmsg_t w;
  tmsg_init(&w, "+14155550160", 1, "smsc-z");
  assert_int_equal(submit_wait(c, &w, 1, NULL, NULL), 0);
  wait_settle(c, passes_at_least, 1);
  assert_int_equal(settle_of(c).rows, 3);
  assert_string_equal(row_status(c, m[0].m.id), "delivered");
}

/* ---- waiting claims while the writer settles ------------------------------ */

typedef struct wgot {
  int calls, status;
  size_t n_parts;
} wgot_t;

static void wgot_cb(sg_store_t *st, int status, const sg_store_claim_res_t *res,
                    void *data) {
  (void)st;
  wgot_t *g = data;
  g->status = status;
  g->n_parts = res != NULL ? res->n_parts : 0;
  g->calls++;
}

/* A claim waiting in the writer is answered at its time (wait_ms) and at a
 * wake of its connector (sg_store_claim_wake: the connector went down, was
 * paused or removed, or parts came due on it by time) while the idle
 * writer settles rows, as it is when the writer is idle: the pass over the
 * table gives way and goes on afterwards, so the answer comes while rows
 * are still to settle (150,000 rows take seconds; the answer is due after
 * 300 ms). */
/* A store settling 150,000 rows, and a claim of smsc-q (no parts) that
 * waits up to wait_ms in the writer. */
static void claim_while_settling(ctx_t *c, uint32_t wait_ms, wgot_t *g) {
  reopen_filled(c, 150000, true, "100");
  wait_settle(c, batches_at_least, 1);
  assert_int_equal(
      sg_store_claim_wait(c->st, "smsc-q", 8, 60000, wait_ms, wgot_cb, g), 0);
}

static void a_waiting_claim_is_answered_while_settling(void **state) {
  ctx_t *c = *state;
  /* a wait of 300 ms: the writer runs the claim, waits 100 ms idle, and
   * goes on settling */
  wgot_t t = {0};
  claim_while_settling(c, 300, &t);
  run_until(c, &t.calls, 1);
  sg_store_sqlite_settle_t s = settle_of(c);
  assert_int_equal(t.status, 0);
  assert_int_equal(t.n_parts, 0);
  assert_true(s.rows < 150000);
  wait_settle(c, rows_settled_at_least, s.rows + 1); /* and the pass goes on */
}

static void a_woken_claim_is_answered_while_settling(void **state) {
  ctx_t *c = *state;
  wgot_t w = {0};
  claim_while_settling(c, 30000, &w);
  tmsg_t m; /* a write after the claim: the claim waits, then settling */
  tmsg_init(&m, "+14155550170", 1, "smsc-z");
  assert_int_equal(submit_wait(c, &m, 1, NULL, NULL), 0);
  uint64_t rows = settle_of(c).rows;
  wait_settle(c, rows_settled_at_least, rows + 1); /* settling again */
  sg_store_claim_wake(c->st, "smsc-q");
  run_until(c, &w.calls, 1);
  assert_int_equal(w.status, 0);
  rows = settle_of(c).rows;
  assert_true(rows < 150000);
  wait_settle(c, rows_settled_at_least, rows + 1); /* and the pass goes on */
}

/* Returns once a whole pass of the settle began after this call: a pass
 * runs only after a group, and one ended after the call may have begun
 * before it (a pass that a write interrupts goes on after it), so the
 * pass after that one (each after a write of its own). */
static void whole_pass_after(ctx_t *c) {
  uint64_t passes = settle_of(c).passes;
  for (uint64_t k = 1; k <= 2; k++) {
    tmsg_t w;
    tmsg_init(&w, "+14155550179", 1, "smsc-z");
    assert_int_equal(submit_wait(c, &w, 1, NULL, NULL), 0);
    wait_settle(c, passes_at_least, passes + k);
  }
}

/* A row settled, queued again by the operator's retry (behind the walk's
 * cursor), and ended again on its part: the idle settle reaches it in the
 * same open (it used to wait for the next open). */
static void a_retried_row_is_settled_again(void **state) {
  ctx_t *c = *state;
  settle_env("1", "8");
  open_store(c);
  tmsg_t m, other;
  sent_one(c, &m, "+14155550171", "r-71");
  receipt_at(c, "r-71", SG_MSG_UNDELIVERABLE, 11, 9000);
  /* a row after it, so that the walk's cursor passes it */
  tmsg_init(&other, "+14155550172", 1, "smsc-z");
  assert_int_equal(submit_wait(c, &other, 1, NULL, NULL), 0);
  wait_settle(c, rows_settled_at_least, 1);
  assert_string_equal(row_status(c, m.m.id), "undeliverable");

  atomic_store(&fake_now, T0 + 20000);
  fx_done_t g = {0};
  assert_int_equal(sg_store_message_retry(c->st, m.m.id, "again", fx_retry_cb,
                                          &g),
                   0);
  run_until(c, &g.calls, 1);
  assert_int_equal(g.status, 0);
  assert_string_equal(row_status(c, m.m.id), "queued");
  claim_one_sent_at(c, "smsc-a", "r-73", T0 + 21000);
  receipt_at(c, "r-73", SG_MSG_DELIVERED, 0, 22000);
  whole_pass_after(c);
  assert_string_equal(row_status(c, m.m.id), "delivered");
  assert_int_equal(settle_of(c).failures, 0);
}

/* ---- a queued backlog and the idle writer -------------------------------- */

/* With a backlog of queued one-part messages (a connector down, a slow
 * one), the rows have nothing to settle: a quiet writer that gets one
 * write now and then does not look at them again after each (a pass after
 * a write of one row is a batch or two, not the backlog's 235). */
static void a_queued_backlog_is_not_looked_at_after_each_write(void **state) {
  ctx_t *c = *state;
  reopen_filled(c, 60000, false, "100");
  wait_settle(c, passes_at_least, 1); /* the pass at open */
  sg_store_sqlite_settle_t s0 = settle_of(c);
  tmsg_t m;
  for (int i = 0; i < 10; i++) {
    tmsg_init(&m, "+14155550180", 1, "smsc-z");
    assert_int_equal(submit_wait(c, &m, 1, NULL, NULL), 0);
    wait_settle(c, passes_at_least, s0.passes + 1 + (uint64_t)i);
  }
  sg_store_sqlite_settle_t s1 = settle_of(c);
  assert_int_equal(s1.failures, 0);
  assert_true(s1.batches - s0.batches <= 10 * 2);
}

/* A backlog row walked while queued, then claimed and ended on its part
 * when its connector came back: noted as it ends, it is settled by the
 * next pass. */
static void a_backlog_row_that_ends_later_is_settled(void **state) {
  ctx_t *c = *state;
  reopen_filled(c, 1000, false, "1");
  wait_settle(c, passes_at_least, 1); /* the pass at open */
  const char *first = "00F00000000000000000000001";
  assert_string_equal(row_status(c, first), "queued");
  claim_one_sent_at(c, "smsc-a", "r-81", T0 + 1000);
  receipt_at(c, "r-81", SG_MSG_DELIVERED, 0, 2000);
  whole_pass_after(c);
  assert_string_equal(row_status(c, first), "delivered");
  assert_string_equal(row_status(c, "00F00000000000000000000002"), "queued");
  assert_int_equal(settle_of(c).failures, 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(idle_writer_settles_the_rows, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(a_write_waits_for_one_batch_at_most,
                                      setup, teardown),
      cmocka_unit_test_setup_teardown(a_failed_batch_changes_nothing, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(a_waiting_claim_is_answered_while_settling,
                                      setup, teardown),
      cmocka_unit_test_setup_teardown(a_woken_claim_is_answered_while_settling,
                                      setup, teardown),
      cmocka_unit_test_setup_teardown(a_retried_row_is_settled_again, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(
          a_queued_backlog_is_not_looked_at_after_each_write, setup, teardown),
      cmocka_unit_test_setup_teardown(a_backlog_row_that_ends_later_is_settled,
                                      setup, teardown),
  };
  if (pg_server() != NULL)
    return 0; /* the PostgreSQL store writes its rows */
  return cmocka_run_group_tests(tests, NULL, NULL);
}
