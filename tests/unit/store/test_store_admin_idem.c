/* test_store_admin_idem.c - the Idempotency-Key records of the admin API's
 * creations in the SQLite store (store_admin_idem.h, migration 0017): a
 * record written with its account, key or credit and read back; a second
 * record of the same key fails its whole change (nothing of it stays: no
 * account, no key, no credit); records are per calling account and expire
 * after a day; bad arguments fail at once. */
#include "store_fixture.h"
#include "store/store_admin_idem.h"

static void id_cb(sg_store_t *st, int status, int64_t id, void *data) {
  (void)st;
  got_t *g = data;
  g->status = status;
  g->id = id;
  g->calls++;
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

typedef struct rec_got {
  int calls, status;
  sg_store_admin_idem_t rec;
} rec_got_t;

static void rec_cb(sg_store_t *st, int status, const sg_store_admin_idem_t *r,
                   void *data) {
  (void)st;
  rec_got_t *g = data;
  g->status = status;
  g->calls++;
  if (r != NULL)
    g->rec = *r;
}

static sg_store_admin_idem_t idem(int64_t caller, const char *key, uint8_t fill,
                                  const char *result) {
  sg_store_admin_idem_t d;
  memset(&d, 0, sizeof d);
  d.account_id = caller;
  snprintf(d.key, sizeof d.key, "%s", key);
  memset(d.hash, fill, sizeof d.hash);
  snprintf(d.result, sizeof d.result, "%s", result);
  return d;
}

static rec_got_t get(ctx_t *c, int64_t caller, const char *key) {
  rec_got_t g;
  memset(&g, 0, sizeof g);
  assert_int_equal(sg_store_admin_idem_get(c->st, caller, key, rec_cb, &g), 0);
  run_until(c, &g.calls, 1);
  return g;
}

static int create(ctx_t *c, const char *name, const sg_store_admin_idem_t *d,
                  int64_t *id) {
  char spec[64];
  snprintf(spec, sizeof spec, "{\"name\":\"%s\"}", name);
  sg_store_admin_account_t a = {.name = name, .spec = spec};
  got_t g = {0};
  assert_int_equal(sg_store_account_create_idem(c->st, &a, d, id_cb, &g), 0);
  run_until(c, &g.calls, 1);
  if (id != NULL)
    *id = g.id;
  return g.status;
}

/* A count, on SQLite or on PostgreSQL (store_fixture.h's q1). */
static int64_t count(ctx_t *c, const char *sql) {
  long long n = q1(c, sql);
  assert_true(n >= 0);
  return n;
}

static void accounts_and_keys(void **state) {
  ctx_t *c = *state;
  open_store(c);
  /* Bad arguments fail at once. */
  sg_store_admin_idem_t bad = idem(0, "k", 1, "account:x");
  sg_store_admin_account_t a = {.name = "x", .spec = "{}"};
  assert_int_equal(sg_store_account_create_idem(c->st, &a, &bad, id_cb, NULL),
                   SG_EINVAL);
  bad = idem(1, "", 1, "account:x");
  assert_int_equal(sg_store_account_create_idem(c->st, &a, &bad, id_cb, NULL),
                   SG_EINVAL);
  bad = idem(1, "k", 1, "");
  assert_int_equal(sg_store_account_create_idem(c->st, &a, &bad, id_cb, NULL),
                   SG_EINVAL);
  assert_int_equal(sg_store_admin_idem_get(c->st, 1, "", rec_cb, NULL),
                   SG_EINVAL);
  assert_int_equal(sg_store_admin_idem_get(c->st, 0, "k", rec_cb, NULL),
                   SG_EINVAL);

  assert_int_equal(get(c, 7, "a-1").status, SG_ENOENT);
  sg_store_admin_idem_t d = idem(7, "a-1", 0xAB, "account:shop");
  int64_t shop = 0;
  assert_int_equal(create(c, "shop", &d, &shop), 0);
  assert_true(shop > 0);
  rec_got_t g = get(c, 7, "a-1");
  assert_int_equal(g.status, 0);
  assert_string_equal(g.rec.result, "account:shop");
  uint8_t want[SG_STORE_ADMIN_IDEM_HASH];
  memset(want, 0xAB, sizeof want);
  assert_memory_equal(g.rec.hash, want, sizeof want);
  assert_int_equal(g.rec.created_ms, T0);
  /* Per calling account: another caller's key of the same name is none. */
  assert_int_equal(get(c, 8, "a-1").status, SG_ENOENT);

  /* The same key again fails the whole change: no second account. */
  sg_store_admin_idem_t again = idem(7, "a-1", 0xCD, "account:other");
  assert_int_equal(create(c, "other", &again, NULL), SG_EEXIST);
  assert_int_equal(count(c, "SELECT count(*) FROM accounts WHERE name = "
                            "'other'"),
                   0);
  assert_int_equal(get(c, 7, "a-1").rec.hash[0], 0xAB);

  /* A key with its record; the same record key again makes no key. */
  sg_store_key_t k = {.account_id = shop, .public_id = "k_000000000001"};
  memset(k.hash, 3, sizeof k.hash);
  sg_store_admin_idem_t kd = idem(7, "k-1", 1, "key:k_000000000001");
  got_t kg = {0};
  assert_int_equal(sg_store_key_put_idem(c->st, &k, &kd, id_cb, &kg), 0);
  run_until(c, &kg.calls, 1);
  assert_int_equal(kg.status, 0);
  sg_store_key_t k2 = k;
  snprintf(k2.public_id, sizeof k2.public_id, "k_000000000002");
  memset(k2.hash, 4, sizeof k2.hash);
  kg = (got_t){0};
  assert_int_equal(sg_store_key_put_idem(c->st, &k2, &kd, id_cb, &kg), 0);
  run_until(c, &kg.calls, 1);
  assert_int_equal(kg.status, SG_EEXIST);
  assert_int_equal(count(c, "SELECT count(*) FROM api_keys WHERE public_id "
                            "IS NOT NULL"),
                   1);
  assert_string_equal(get(c, 7, "k-1").rec.result, "key:k_000000000001");

  /* A change that fails writes no record: its key is free again. */
  sg_store_admin_idem_t dup = idem(7, "a-2", 2, "account:shop");
  assert_int_equal(create(c, "shop", &dup, NULL), SG_EEXIST); /* name */
  assert_int_equal(get(c, 7, "a-2").status, SG_ENOENT);

  /* Records expire after a day; the next write clears expired ones. */
  atomic_store(&fake_now, T0 + SG_STORE_ADMIN_IDEM_TTL_MS);
  assert_int_equal(get(c, 7, "a-1").status, SG_ENOENT);
  sg_store_admin_idem_t late = idem(7, "a-3", 3, "account:late");
  assert_int_equal(create(c, "late", &late, NULL), 0);
  assert_int_equal(count(c, "SELECT count(*) FROM admin_idempotency"), 1);
  close_store(c);
}

static void credits(void **state) {
  ctx_t *c = *state;
  open_store(c);
  int64_t shop = 0;
  sg_store_admin_idem_t d0 = idem(1, "make", 9, "account:shop");
  assert_int_equal(create(c, "shop", &d0, &shop), 0);
  sg_store_admin_idem_t d = idem(1, "top-1", 5, "credit:shop");
  assert_int_equal(
      sg_store_balance_credit_idem(c->st, shop, 0, &d, balance_cb, NULL),
      SG_EINVAL);
  bal_got_t b = {0};
  assert_int_equal(
      sg_store_balance_credit_idem(c->st, shop, 2500000, &d, balance_cb, &b),
      0);
  run_until(c, &b.calls, 1);
  assert_int_equal(b.status, 0);
  assert_int_equal(b.balance, 2500000);
  rec_got_t g = get(c, 1, "top-1");
  assert_int_equal(g.status, 0);
  assert_int_equal(g.rec.amount, 2500000);
  assert_int_equal(g.rec.balance, 2500000);
  assert_string_equal(g.rec.result, "credit:shop");
  /* The same key again: no second credit, no second row of it. */
  b = (bal_got_t){0};
  assert_int_equal(
      sg_store_balance_credit_idem(c->st, shop, 2500000, &d, balance_cb, &b),
      0);
  run_until(c, &b.calls, 1);
  assert_int_equal(b.status, SG_EEXIST);
  assert_int_equal(count(c, "SELECT micro FROM account_balance"), 2500000);
  assert_int_equal(count(c, "SELECT count(*) FROM balance_credits"), 1);
  /* A credit refused (below 0) records nothing. */
  sg_store_admin_idem_t neg = idem(1, "top-2", 6, "credit:shop");
  b = (bal_got_t){0};
  assert_int_equal(
      sg_store_balance_credit_idem(c->st, shop, -9000000, &neg, balance_cb, &b),
      0);
  run_until(c, &b.calls, 1);
  assert_int_equal(b.status, SG_ERANGE);
  assert_int_equal(get(c, 1, "top-2").status, SG_ENOENT);
  close_store(c);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(accounts_and_keys, setup, teardown),
      cmocka_unit_test_setup_teardown(credits, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
