/* Tests for the owners of webhook and SMPP receipt leases (migration 0024).
 * On either backend, one node: a delivery and a receipt claimed before a
 * restart are offered again after it, the delivery's cut-short attempt
 * uncounted. With several nodes on one PostgreSQL database
 * (SG_TEST_STORE_URL): a claim stamps name#epoch on the row; a node that
 * starts again gives back only its own earlier run's leases, never a live
 * node's; a dead node's leases go back at a live node's heartbeat, counted
 * as a lease that ran out; and a late failed attempt of a node that lost
 * its delivery does not undo the claim of the node that took it. Two
 * stores on one loop stand for two nodes; the fake clock ages heartbeats
 * and leases. */
#include "store/nodes.h"

#include "store_fixture.h"

#define LEASE_MS 60000 /* every claim's lease: longer than any test's span */

/* ---- helpers ------------------------------------------------------------- */

typedef struct so_got {
  int calls, status;
  size_t n;
  int64_t id[8];
  unsigned attempts[8];
} so_got_t;

static void so_cb(sg_store_t *st, int status, const sg_store_smpp_out_t *o,
                  size_t n, size_t dropped, void *data) {
  (void)st;
  (void)dropped;
  so_got_t *g = data;
  g->status = status;
  g->n = n;
  for (size_t i = 0; i < n && i < 8; i++) {
    g->id[i] = o[i].id;
    g->attempts[i] = o[i].attempts;
  }
  g->calls++;
}

static void so_claim_on(ctx_t *c, sg_store_t *st, so_got_t *g) {
  memset(g, 0, sizeof *g);
  assert_int_equal(sg_store_smpp_out_claim(st, 1, 8, LEASE_MS, 0, so_cb, g), 0);
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

/* n webhook deliveries and n incoming messages queued for account 1's
 * SMPP sessions, through st. */
static void queue_both(ctx_t *c, sg_store_t *st, int n) {
  got_t g = {0};
  for (int i = 0; i < n; i++) {
    assert_int_equal(sg_store_webhook_enqueue(st, 1, NULL, "http://x/h",
                                              (const uint8_t *)"{}", 2,
                                              count_cb, &g),
                     0);
    sg_store_mo_deliver_t d = {.smpp_out = true};
    assert_int_equal(sg_id_new(d.msg.id), 0);
    d.msg.account_id = 1;
    d.msg.sender = "+79001234567";
    d.msg.recipient = "4444";
    d.msg.encoding = SG_ENC_GSM7;
    d.msg.body = (const uint8_t *)"hello";
    d.msg.body_len = 5;
    d.msg.received_ms = fake_clock(NULL);
    assert_int_equal(sg_store_mo_deliver(st, &d, count_cb, &g), 0);
  }
  run_until(c, &g.calls, 2 * n);
  assert_int_equal(g.status, 0);
}

static void fin_cb(sg_store_t *st, int status, void *data) {
  (void)st;
  got_t *g = data;
  g->status = status;
  g->calls++;
}

static sg_store_t *open_node(ctx_t *c, const char *name) {
  sg_store_config_t cfg = test_config(c);
  cfg.node_name = name;
  sg_store_t *st = NULL;
  int rc = sg_store_open(&c->loop, &cfg, &st, c->err, sizeof c->err);
  if (rc != 0)
    fail_msg("open %s: %s (%s)", name, c->err, sg_err_name(rc));
  return st;
}

/* The second node of a test, closed by teardown_two even when the test
 * failed half-way. */
static sg_store_t *other;

static void close_node(ctx_t *c, sg_store_t *st) {
  int closed = 0;
  sg_store_close(st, on_closed, &closed);
  while (!closed)
    uv_run(&c->loop, UV_RUN_ONCE);
  if (st == other)
    other = NULL;
}

static int teardown_two(void **state) {
  if (other != NULL)
    close_node(*state, other);
  return teardown(state);
}

static const char *owner_of(sg_store_t *st) {
  static char owner[96];
  snprintf(owner, sizeof owner, "%s#%lld", sg_store_node_name(st),
           (long long)sg_store_node_epoch(st));
  return owner;
}

/* The lease_owner of table's row id ("" for NULL). */
static const char *row_owner(ctx_t *c, const char *table, int64_t id) {
  char sql[128];
  snprintf(sql, sizeof sql, "SELECT lease_owner FROM %s WHERE id = %lld", table,
           (long long)id);
  return q1s(c, sql);
}

static void beat_done_cb(sg_store_t *st, int status,
                         const sg_store_beat_res_t *res, void *data) {
  (void)st;
  (void)res;
  got_t *g = data;
  g->status = status;
  g->calls++;
}

static void beat_on(ctx_t *c, sg_store_t *st) {
  got_t g = {0};
  sg_store_beat_t b = {10000, "", NULL};
  assert_int_equal(sg_store_node_beat(st, &b, beat_done_cb, &g), 0);
  run_until(c, &g.calls, 1);
  assert_int_equal(g.status, 0);
}

/* ---- one node (both backends) -------------------------------------------- */

/* What a node held when it stopped is offered again when it starts, with
 * or without a name. */
static void restart_offers_again(ctx_t *c, const char *name) {
  c->st = name != NULL ? open_node(c, name) : (open_store(c), c->st);
  queue_both(c, c->st, 1);
  wh_got_t w;
  so_got_t o;
  wh_claim_on(c, c->st, 8, LEASE_MS, &w);
  so_claim_on(c, c->st, &o);
  assert_int_equal(w.n, 1);
  assert_int_equal(o.n, 1);
  wh_claim_on(c, c->st, 8, LEASE_MS, &w);
  so_claim_on(c, c->st, &o);
  assert_int_equal(w.n + o.n, 0); /* under their leases */
  close_store(c);
  c->st = name != NULL ? open_node(c, name) : (open_store(c), c->st);
  wh_claim_on(c, c->st, 8, LEASE_MS, &w);
  so_claim_on(c, c->st, &o);
  assert_int_equal(w.n, 1);
  assert_int_equal(w.attempts[0], 1); /* the cut-short attempt uncounted */
  assert_int_equal(o.n, 1);
}

static void named_node_restart(void **state) {
  restart_offers_again(*state, "a");
}

static void unnamed_node_restart(void **state) {
  restart_offers_again(*state, NULL);
}

/* ---- several nodes (PostgreSQL) ------------------------------------------ */

/* Both nodes hold a delivery and a receipt; b starts again. a's stay a's
 * (before migration 0024 every start freed every lease, and b took a's
 * at once); b's earlier run's go back. */
static void restart_keeps_other_nodes_leases(void **state) {
  ctx_t *c = *state;
  sg_store_t *a = other = open_node(c, "a");
  c->st = open_node(c, "b");
  queue_both(c, a, 2);
  wh_got_t wa, wb;
  so_got_t oa, ob;
  wh_claim_on(c, a, 1, LEASE_MS, &wa);
  so_claim_on(c, a, &oa);
  assert_int_equal(wa.n, 1);
  assert_int_equal(oa.n, 2); /* both receipts: b's session has none */
  wh_claim_on(c, c->st, 1, LEASE_MS, &wb);
  assert_int_equal(wb.n, 1);
  assert_true(wb.id[0] != wa.id[0]);
  char a_owner[96];
  snprintf(a_owner, sizeof a_owner, "%s", owner_of(a));
  assert_string_equal(row_owner(c, "webhooks", wa.id[0]), a_owner);
  assert_string_equal(row_owner(c, "smpp_out", oa.id[1]), a_owner);
  assert_string_equal(row_owner(c, "webhooks", wb.id[0]), owner_of(c->st));
  /* Finish one receipt as not taken: free again, no owner. */
  sg_store_smpp_out_result_t back = {oa.id[1], false};
  got_t fg = {0};
  assert_int_equal(sg_store_smpp_out_finish(a, &back, 1, fin_cb, &fg), 0);
  run_until(c, &fg.calls, 1);
  assert_int_equal(fg.status, 0);
  assert_string_equal(row_owner(c, "smpp_out", oa.id[1]), "");

  close_store(c);
  c->st = open_node(c, "b");
  sg_store_info_t info;
  sg_store_get_info(c->st, &info);
  assert_int_equal(info.requeued_webhooks, 1); /* b's own, not a's */
  assert_string_equal(row_owner(c, "webhooks", wa.id[0]), a_owner);
  assert_string_equal(row_owner(c, "smpp_out", oa.id[0]), a_owner);
  char sql[160];
  snprintf(sql, sizeof sql,
           "SELECT status || ' ' || attempts FROM webhooks WHERE id = %lld",
           (long long)wb.id[0]);
  assert_string_equal(q1s(c, sql), "pending 0");
  /* The new b takes its old delivery and the free receipt, nothing of
   * a's. */
  wh_claim_on(c, c->st, 8, LEASE_MS, &wb);
  assert_int_equal(wb.n, 1);
  assert_true(wb.id[0] != wa.id[0]);
  assert_int_equal(wb.attempts[0], 1);
  so_claim_on(c, c->st, &ob);
  assert_int_equal(ob.n, 1);
  assert_int_equal(ob.id[0], oa.id[1]);
  /* a's leases are still a's until they run out, both nodes alive. */
  for (int i = 0; i < 6; i++) { /* 59.994 s of the 60 s lease */
    atomic_fetch_add(&fake_now, 9999);
    beat_on(c, a);
    beat_on(c, c->st);
  }
  wh_claim_on(c, c->st, 8, LEASE_MS, &wb);
  so_claim_on(c, c->st, &ob);
  assert_int_equal(wb.n + ob.n, 0);
  assert_string_equal(row_owner(c, "webhooks", wa.id[0]), a_owner);
  close_node(c, a);
}

/* a dies holding a delivery and a receipt: b's first heartbeat after
 * dead_after gives them back, and b takes them. a comes back late: its
 * failed attempt does not undo b's claim. */
static void dead_node_leases_go_back(void **state) {
  ctx_t *c = *state;
  sg_store_t *a = other = open_node(c, "a");
  c->st = open_node(c, "b");
  queue_both(c, a, 1);
  wh_got_t wa, wb;
  so_got_t oa, ob;
  wh_claim_on(c, a, 8, LEASE_MS, &wa);
  so_claim_on(c, a, &oa);
  assert_int_equal(wa.n, 1);
  assert_int_equal(oa.n, 1);
  beat_on(c, c->st); /* a alive: nothing goes back */
  wh_claim_on(c, c->st, 8, LEASE_MS, &wb);
  so_claim_on(c, c->st, &ob);
  assert_int_equal(wb.n + ob.n, 0);
  atomic_fetch_add(&fake_now, 10001);
  beat_on(c, c->st);
  char sql[160];
  snprintf(sql, sizeof sql,
           "SELECT status || ' ' || attempts || ' ' || coalesce(lease_owner, "
           "'-') FROM webhooks WHERE id = %lld",
           (long long)wa.id[0]);
  assert_string_equal(q1s(c, sql), "pending 1 -");
  assert_int_equal(q1(c, "SELECT count(*) FROM smpp_out WHERE "
                         "lease_until_ms IS NULL AND lease_owner IS NULL"),
                   1);
  wh_claim_on(c, c->st, 8, LEASE_MS, &wb);
  so_claim_on(c, c->st, &ob);
  assert_int_equal(wb.n, 1);
  assert_int_equal(wb.attempts[0], 2); /* a's attempt counts */
  assert_int_equal(ob.n, 1);
  assert_string_equal(row_owner(c, "webhooks", wb.id[0]), owner_of(c->st));
  /* a's late "retry later" and "not taken": refused by the owner. */
  sg_store_webhook_result_t late = {
      .id = wa.id[0], .next_attempt_ms = T0 + 99000, .error = "HTTP 503"};
  got_t fg = {0};
  assert_int_equal(sg_store_webhook_finish(a, &late, 1, fin_cb, &fg), 0);
  sg_store_smpp_out_result_t back = {oa.id[0], false};
  assert_int_equal(sg_store_smpp_out_finish(a, &back, 1, fin_cb, &fg), 0);
  run_until(c, &fg.calls, 2);
  assert_int_equal(fg.status, 0);
  snprintf(sql, sizeof sql,
           "SELECT status || ' ' || coalesce(last_error, '-') FROM webhooks "
           "WHERE id = %lld",
           (long long)wa.id[0]);
  assert_string_equal(q1s(c, sql), "sending -");
  assert_string_equal(row_owner(c, "smpp_out", ob.id[0]), owner_of(c->st));
  /* b's own failed attempt is written. */
  late.error = "HTTP 500";
  fg.calls = 0;
  assert_int_equal(sg_store_webhook_finish(c->st, &late, 1, fin_cb, &fg), 0);
  run_until(c, &fg.calls, 1);
  assert_string_equal(q1s(c, sql), "pending HTTP 500");
  close_node(c, a);
}

int main(void) {
  const struct CMUnitTest both[] = {
      cmocka_unit_test_setup_teardown(named_node_restart, setup, teardown),
      cmocka_unit_test_setup_teardown(unnamed_node_restart, setup, teardown),
  };
  const struct CMUnitTest pg[] = {
      cmocka_unit_test_setup_teardown(named_node_restart, setup, teardown),
      cmocka_unit_test_setup_teardown(unnamed_node_restart, setup, teardown),
      cmocka_unit_test_setup_teardown(restart_keeps_other_nodes_leases, setup,
                                      teardown_two),
      cmocka_unit_test_setup_teardown(dead_node_leases_go_back, setup,
                                      teardown_two),
  };
  if (pg_server() != NULL)
    return cmocka_run_group_tests(pg, NULL, NULL);
  return cmocka_run_group_tests(both, NULL, NULL);
}
