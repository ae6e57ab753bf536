/* Tests for webhook leases kept in the SQLite writer's memory
 * (store/sqlite_webhook.c): a claim writes nothing and skips leased rows,
 * the lease table grows past its first size and keeps every lease, a lease
 * that ran out is taken again and counted as an attempt, a delivered row is
 * deleted, a delivery handed back unsent counts no attempt, a rollback
 * forgets the leases its transaction took, and a restart offers again
 * whatever was not finished. */
#include "store/store_fixture.h"

#include "core/alloc.h"
#include "store/sqlite_int.h"

typedef struct many_got {
  int calls;
  int status;
  size_t n;
  int64_t id[1000];
  unsigned attempts[1000];
} many_got_t;

static void many_cb(sg_store_t *st, int status, const sg_store_webhook_t *w,
                    size_t n, void *data) {
  (void)st;
  many_got_t *g = data;
  g->status = status;
  g->n = n;
  for (size_t i = 0; i < n && i < 1000; i++) {
    g->id[i] = w[i].id;
    g->attempts[i] = w[i].attempts;
  }
  g->calls++;
}

static void claim_many(ctx_t *c, unsigned max, many_got_t *g) {
  memset(g, 0, sizeof *g);
  assert_int_equal(sg_store_webhook_claim(c->st, max, 10000, many_cb, g), 0);
  run_until(c, &g->calls, 1);
  assert_int_equal(g->status, 0);
}

static void count_cb(sg_store_t *st, int status, int64_t id, void *data) {
  (void)st;
  (void)id;
  got_t *g = data;
  if (status != 0)
    g->status = status;
  g->calls++;
}

static void enqueue_n(ctx_t *c, int n) {
  got_t g = {0};
  for (int i = 0; i < n; i++)
    assert_int_equal(sg_store_webhook_enqueue(c->st, 1, NULL, "http://x/h",
                                              (const uint8_t *)"{}", 2,
                                              count_cb, &g),
                     0);
  run_until(c, &g.calls, n);
  assert_int_equal(g.status, 0);
}

static void fin_cb(sg_store_t *st, int status, void *data) {
  (void)st;
  got_t *g = data;
  g->status = status;
  g->calls++;
}

static void finish_wait(ctx_t *c, const sg_store_webhook_result_t *r,
                        size_t n) {
  got_t g = {0};
  assert_int_equal(sg_store_webhook_finish(c->st, r, n, fin_cb, &g), 0);
  run_until(c, &g.calls, 1);
  assert_int_equal(g.status, 0);
}

static void finish_done(ctx_t *c, const int64_t *ids, size_t n) {
  sg_store_webhook_result_t *r = calloc(n, sizeof *r);
  assert_non_null(r);
  for (size_t i = 0; i < n; i++)
    r[i] = (sg_store_webhook_result_t){.id = ids[i], .done = true};
  finish_wait(c, r, n);
  free(r);
}

/* 700 rows, claimed 300 + 300 + 100: every id once, and nothing more. */
static void leases_grow_and_hold(void **state) {
  ctx_t *c = *state;
  open_store(c);
  enqueue_n(c, 700);
  static many_got_t a, b, d, none;
  claim_many(c, 300, &a);
  claim_many(c, 300, &b);
  claim_many(c, 300, &d);
  claim_many(c, 300, &none);
  assert_int_equal(a.n, 300);
  assert_int_equal(b.n, 300);
  assert_int_equal(d.n, 100);
  assert_int_equal(none.n, 0);
  /* Ids are 1..700 (a fresh table), each handed out exactly once. */
  static bool seen[701];
  memset(seen, 0, sizeof seen);
  const many_got_t *all[3] = {&a, &b, &d};
  for (int k = 0; k < 3; k++)
    for (size_t i = 0; i < all[k]->n; i++) {
      int64_t id = all[k]->id[i];
      assert_true(id >= 1 && id <= 700);
      assert_false(seen[id]);
      seen[id] = true;
      assert_int_equal(all[k]->attempts[i], 1);
    }
  /* The claims wrote nothing: every row is still pending, attempts 0. */
  assert_int_equal(q1(c, "SELECT count(*) FROM webhooks WHERE status = "
                         "'pending' AND attempts = 0"),
                   700);

  /* Delivered: deleted. The rest stays leased until the lease runs out. */
  finish_done(c, a.id, a.n);
  finish_done(c, d.id, 50);
  assert_int_equal(q1(c, "SELECT count(*) FROM webhooks"), 350);
  claim_many(c, 1000, &none);
  assert_int_equal(none.n, 0);

  atomic_store(&fake_now, T0 + 10000);
  claim_many(c, 1000, &a);
  assert_int_equal(a.n, 350);
  for (size_t i = 0; i < a.n; i++) {
    assert_int_equal(a.attempts[i], 2); /* the lost attempt counts */
    assert_true(a.id[i] > 300);
  }
  /* A retry writes the attempts the row had in this run. */
  sg_store_webhook_result_t r = {
      .id = a.id[0], .next_attempt_ms = T0 + 20000, .error = "HTTP 503"};
  got_t g = {0};
  assert_int_equal(sg_store_webhook_finish(c->st, &r, 1, fin_cb, &g), 0);
  run_until(c, &g.calls, 1);
  char sql[128];
  snprintf(sql, sizeof sql, "SELECT attempts FROM webhooks WHERE id = %lld",
           (long long)a.id[0]);
  assert_int_equal(q1(c, sql), 2);
}

/* A stop forgets every lease: what was not finished is offered again at
 * once after the restart. */
static void restart_offers_unfinished(void **state) {
  ctx_t *c = *state;
  open_store(c);
  enqueue_n(c, 5);
  static many_got_t a;
  claim_many(c, 3, &a);
  assert_int_equal(a.n, 3);
  finish_done(c, a.id, 1);
  close_store(c);
  open_store(c);
  claim_many(c, 10, &a);
  assert_int_equal(a.n, 4);
  for (size_t i = 0; i < a.n; i++)
    assert_int_equal(a.attempts[i], 1);
}

static void finish_one(ctx_t *c, int64_t id, bool untried, const char *error) {
  sg_store_webhook_result_t r = {.id = id,
                                 .done = false,
                                 .next_attempt_ms = 1, /* due at once */
                                 .error = error,
                                 .untried = untried};
  finish_wait(c, &r, 1);
}

/* A delivery handed back unsent (untried) takes back the attempt its claim
 * counted and keeps the last real failure as its last_error: a failure,
 * then two hand-backs, leave one attempt and that error, and the next
 * claim counts the second attempt. */
static void handed_back_keeps_attempts_and_error(void **state) {
  ctx_t *c = *state;
  open_store(c);
  enqueue_n(c, 1);
  static many_got_t a;
  claim_many(c, 10, &a);
  assert_int_equal(a.n, 1);
  assert_int_equal(a.attempts[0], 1);
  finish_one(c, a.id[0], false, "HTTP 503");
  assert_int_equal(q1(c, "SELECT attempts FROM webhooks"), 1);
  for (int k = 0; k < 2; k++) {
    claim_many(c, 10, &a);
    assert_int_equal(a.n, 1);
    assert_int_equal(a.attempts[0], 2);
    finish_one(c, a.id[0], true, "stopped before sending");
    assert_int_equal(q1(c, "SELECT attempts FROM webhooks"), 1);
    assert_string_equal(q1s(c, "SELECT last_error FROM webhooks"),
                        "HTTP 503");
  }
  claim_many(c, 10, &a);
  assert_int_equal(a.n, 1);
  assert_int_equal(a.attempts[0], 2);
}

/* ---- the lease table against transactions, on a bare connection ---------- */

static const char schema[] =
    "CREATE TABLE webhooks (id INTEGER PRIMARY KEY, account_id INTEGER, "
    "message_id TEXT, event_id INTEGER, inbound_id TEXT, url TEXT NOT NULL, "
    "payload BLOB NOT NULL, status TEXT NOT NULL, attempts INTEGER NOT NULL "
    "DEFAULT 0, next_attempt_ms INTEGER NOT NULL, lease_until_ms INTEGER, "
    "last_error TEXT, created_ms INTEGER NOT NULL, updated_ms INTEGER NOT "
    "NULL, method TEXT NOT NULL DEFAULT 'POST');"
    "CREATE INDEX webhooks_due ON webhooks(next_attempt_ms, id) WHERE "
    "status = 'pending';"
    "INSERT INTO webhooks (url, payload, status, next_attempt_ms, "
    "created_ms, updated_ms) VALUES ('http://a/', 'p1', 'pending', 5, 1, 1),"
    "('http://b/', 'p2', 'pending', 6, 1, 1), ('http://c/', 'p3', "
    "'pending', 7, 1, 1), ('http://d/', 'p4', 'pending', 99, 1, 1);";

static size_t bare_claim(sg__sq_conn_t *c, unsigned max, int64_t now,
                         int64_t *ids) {
  sg__store_req_t r;
  memset(&r, 0, sizeof r);
  r.kind = SG__REQ_WEBHOOK_CLAIM;
  r.in.wh_claim.max = max;
  r.in.wh_claim.lease_ms = 1000;
  assert_int_equal(sg__sq_wh_claim(c, &r, now), 0);
  size_t n = r.out.webhooks.n;
  for (size_t i = 0; i < n; i++)
    ids[i] = r.out.webhooks.items[i].id;
  sg__arena_free(&r.arena);
  return n;
}

static void rollback_forgets_its_leases(void **state) {
  (void)state;
  sg__sq_conn_t c;
  memset(&c, 0, sizeof c);
  assert_int_equal(sqlite3_open(":memory:", &c.db), SQLITE_OK);
  assert_int_equal(sqlite3_exec(c.db, schema, NULL, NULL, NULL), SQLITE_OK);
  int64_t ids[8];

  /* Not yet due rows are left; committed leases stay. */
  assert_int_equal(bare_claim(&c, 1, 10, ids), 1);
  assert_int_equal(ids[0], 1);
  sg__sq_wh_tx_end(&c, true);
  assert_int_equal(sg__sq_wh_leases(&c), 1);

  /* Rolled back: rows 2 and 3 are free again, row 1 still leased. */
  assert_int_equal(bare_claim(&c, 8, 10, ids), 2);
  assert_int_equal(ids[0], 2);
  assert_int_equal(ids[1], 3);
  assert_int_equal(sg__sq_wh_leases(&c), 3);
  sg__sq_wh_tx_end(&c, false);
  assert_int_equal(sg__sq_wh_leases(&c), 1);
  assert_int_equal(bare_claim(&c, 8, 10, ids), 2);
  assert_int_equal(ids[0], 2);
  sg__sq_wh_tx_end(&c, true);
  assert_int_equal(bare_claim(&c, 8, 10, ids), 0);

  /* The leases run out at 10 + 1000; row 4 is due by then too. */
  assert_int_equal(bare_claim(&c, 8, 1010, ids), 4);
  sg__sq_wh_close(&c);
  assert_null(c.whl);
  sqlite3_close(c.db);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(leases_grow_and_hold, setup, teardown),
      cmocka_unit_test_setup_teardown(handed_back_keeps_attempts_and_error,
                                      setup, teardown),
      cmocka_unit_test_setup_teardown(restart_offers_unfinished, setup,
                                      teardown),
      cmocka_unit_test(rollback_forgets_its_leases),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
