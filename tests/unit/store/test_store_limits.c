/* Tests for store.h "LIMITS": a batch's usage counted per UTC day and month
 * and its charge taken in the transaction that stores it; a charge the
 * balance cannot cover refuses the whole batch and writes nothing (no
 * message, no usage); a replay counts and charges nothing; credits, their
 * bounds and their ledger; and all of it read back after the store is
 * closed and opened again. */
#include "store_fixture.h"

static void account_cb(sg_store_t *st, int status, int64_t id, void *data) {
  (void)st;
  got_t *g = data;
  g->status = status;
  g->id = id;
  g->calls++;
}

static int64_t make_account(ctx_t *c, const char *name) {
  sg_store_account_t a = {.name = name};
  got_t g = {0};
  assert_int_equal(sg_store_account_create(c->st, &a, account_cb, &g), 0);
  run_until(c, &g.calls, 1);
  assert_int_equal(g.status, 0);
  return g.id;
}

typedef struct bal_got {
  int calls, status;
  int64_t balance;
} bal_got_t;

static void balance_cb(sg_store_t *st, int status, int64_t micro, void *data) {
  (void)st;
  bal_got_t *g = data;
  g->status = status;
  g->balance = micro;
  g->calls++;
}

static int credit(ctx_t *c, int64_t account, int64_t micro, int64_t *after) {
  bal_got_t g = {0};
  int rc = sg_store_balance_credit(c->st, account, micro, balance_cb, &g);
  if (rc != 0)
    return rc;
  run_until(c, &g.calls, 1);
  if (after != NULL)
    *after = g.balance;
  return g.status;
}

typedef struct usage_got {
  int calls, status;
  size_t n;
  sg_store_usage_t rows[8];
} usage_got_t;

static void usage_cb(sg_store_t *st, int status, const sg_store_usage_t *rows,
                     size_t n, void *data) {
  (void)st;
  usage_got_t *g = data;
  g->status = status;
  g->n = n;
  for (size_t i = 0; i < n && i < 8; i++)
    g->rows[i] = rows[i];
  g->calls++;
}

static void usage(ctx_t *c, const char *day, const char *month,
                  usage_got_t *g) {
  memset(g, 0, sizeof *g);
  assert_int_equal(sg_store_usage_get(c->st, day, month, usage_cb, g), 0);
  run_until(c, &g->calls, 1);
  assert_int_equal(g->status, 0);
}

static int submit_limited(ctx_t *c, int64_t account, const char *day,
                          uint32_t parts, int64_t charge, const char *idem) {
  tmsg_t m;
  tmsg_init(&m, "+79001234567", 2, "op");
  sg_store_batch_t proto = {0};
  proto.account_id = account;
  snprintf(proto.usage_day, sizeof proto.usage_day, "%s", day);
  snprintf(proto.usage_month, sizeof proto.usage_month, "%.7s", day);
  proto.usage_parts = parts;
  proto.charge_micro = charge;
  if (idem != NULL) {
    proto.idem_key = idem;
    proto.request_hash = (const uint8_t *)"h";
    proto.request_hash_len = 1;
    proto.response = (const uint8_t *)"{}";
    proto.response_len = 2;
  }
  return submit_wait(c, &m, 1, &proto, NULL);
}

static void usage_and_charge(void **state) {
  ctx_t *c = *state;
  open_store(c);
  int64_t shop = make_account(c, "shop");
  int64_t other = make_account(c, "other");
  int64_t bal = 0;
  assert_int_equal(credit(c, shop, 1000000, &bal), 0);
  assert_int_equal(bal, 1000000);
  assert_int_equal(credit(c, shop, 250000, &bal), 0);
  assert_int_equal(bal, 1250000);

  assert_int_equal(submit_limited(c, shop, "2026-11-26", 2, 50000, NULL), 0);
  assert_int_equal(submit_limited(c, shop, "2026-11-27", 2, 50000, NULL), 0);
  assert_int_equal(submit_limited(c, shop, "2026-11-27", 2, 0, "k1"), 0);
  /* The replay stores, counts and charges nothing. */
  assert_int_equal(submit_limited(c, shop, "2026-11-27", 2, 0, "k1"), 0);

  usage_got_t g;
  usage(c, "2026-11-27", "2026-11", &g);
  assert_int_equal(g.n, 2);
  assert_int_equal(g.rows[0].account_id, shop);
  assert_int_equal(g.rows[0].day_parts, 4);
  assert_int_equal(g.rows[0].month_parts, 6);
  assert_true(g.rows[0].has_balance);
  assert_int_equal(g.rows[0].balance_micro, 1150000);
  assert_int_equal(g.rows[1].account_id, other);
  assert_int_equal(g.rows[1].day_parts, 0);
  assert_false(g.rows[1].has_balance);
  assert_int_equal(q1(c, "SELECT count(*) FROM messages"), 3);

  /* More than the balance: refused whole, nothing written. */
  assert_int_equal(submit_limited(c, shop, "2026-11-27", 2, 1150001, NULL),
                   SG_ENOSPC);
  assert_int_equal(submit_limited(c, other, "2026-11-27", 2, 1, NULL),
                   SG_ENOSPC);
  assert_int_equal(q1(c, "SELECT count(*) FROM messages"), 3);
  usage(c, "2026-11-27", "2026-11", &g);
  assert_int_equal(g.rows[0].day_parts, 4);
  assert_int_equal(g.rows[0].balance_micro, 1150000);
  assert_int_equal(g.rows[1].day_parts, 0);
  /* Exactly the balance is enough. */
  assert_int_equal(submit_limited(c, shop, "2026-11-27", 1, 1150000, NULL), 0);

  /* The counts and the balance survive a restart. */
  close_store(c);
  open_store(c);
  usage(c, "2026-11-27", "2026-11", &g);
  assert_int_equal(g.rows[0].day_parts, 5);
  assert_int_equal(g.rows[0].month_parts, 7);
  assert_int_equal(g.rows[0].balance_micro, 0);
  usage(c, "2026-12-01", "2026-12", &g);
  assert_int_equal(g.rows[0].day_parts, 0);
  assert_int_equal(g.rows[0].month_parts, 0);
  assert_int_equal(q1(c, "SELECT count(*) FROM balance_credits"), 2);
  assert_int_equal(q1(c, "SELECT sum(amount) FROM balance_credits"), 1250000);
}

static void credit_bounds(void **state) {
  ctx_t *c = *state;
  open_store(c);
  int64_t shop = make_account(c, "shop");
  bal_got_t g = {0};
  assert_int_equal(sg_store_balance_credit(c->st, shop, 0, balance_cb, &g),
                   SG_EINVAL);
  assert_int_equal(sg_store_balance_credit(c->st, 0, 5, balance_cb, &g),
                   SG_EINVAL);
  assert_int_equal(sg_store_balance_credit(
                       c->st, shop, SG_STORE_BALANCE_MAX + 1, balance_cb, &g),
                   SG_EINVAL);
  assert_int_equal(
      sg_store_balance_credit(c->st, shop, 5, (sg_store_balance_cb)NULL, &g),
      SG_EINVAL);
  int64_t bal = -1;
  /* Below zero is refused and changes nothing. */
  assert_int_equal(credit(c, shop, -1, &bal), SG_ERANGE);
  assert_int_equal(credit(c, shop, SG_STORE_BALANCE_MAX, &bal), 0);
  assert_int_equal(credit(c, shop, 1, &bal), SG_ERANGE);
  assert_int_equal(credit(c, shop, -SG_STORE_BALANCE_MAX, &bal), 0);
  assert_int_equal(bal, 0);
  assert_int_equal(q1(c, "SELECT count(*) FROM balance_credits"), 2);
  usage_got_t u = {0};
  assert_int_equal(
      sg_store_usage_get(c->st, "2026-11", "2026-11", usage_cb, &u), SG_EINVAL);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(usage_and_charge, setup, teardown),
      cmocka_unit_test_setup_teardown(credit_bounds, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
