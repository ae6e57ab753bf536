/* test_store_admin.c - accounts created through the API and API keys in
 * the SQLite store (store.h "ACCOUNTS AND KEYS AT RUN TIME", migration
 * 0007): create, update, taken names, keys with rotation and revocation,
 * the load at start, and that a key's plaintext never reaches the file. */
#define _GNU_SOURCE /* memmem */
#include "store_fixture.h"

static void done_cb(sg_store_t *st, int status, void *data) {
  (void)st;
  got_t *g = data;
  g->status = status;
  g->calls++;
}

static void id_cb(sg_store_t *st, int status, int64_t id, void *data) {
  (void)st;
  got_t *g = data;
  g->status = status;
  g->id = id;
  g->calls++;
}

typedef struct loaded {
  int calls, status;
  size_t n_accts, n_keys;
  char names[4][32];
  char specs[4][128];
  char smpp[4][16];
  bool disabled[4];
  int64_t key_acct[4], key_revoked[4];
  char key_ids[4][SG_STORE_KEY_ID_MAX];
  char key_labels[4][16];
  uint8_t key_hash0[SG_STORE_KEY_HASH_BYTES];
} loaded_t;

static void load_cb(sg_store_t *st, int status,
                    const sg_store_admin_account_t *a, size_t na,
                    const sg_store_key_t *k, size_t nk, void *data) {
  (void)st;
  loaded_t *l = data;
  l->calls++;
  l->status = status;
  l->n_accts = na;
  l->n_keys = nk;
  for (size_t i = 0; i < na && i < 4; i++) {
    snprintf(l->names[i], sizeof l->names[i], "%s", a[i].name);
    snprintf(l->specs[i], sizeof l->specs[i], "%s", a[i].spec);
    snprintf(l->smpp[i], sizeof l->smpp[i], "%s",
             a[i].smpp_password_hash ? a[i].smpp_password_hash : "-");
    l->disabled[i] = a[i].disabled;
  }
  for (size_t i = 0; i < nk && i < 4; i++) {
    l->key_acct[i] = k[i].account_id;
    l->key_revoked[i] = k[i].revoked_ms;
    snprintf(l->key_ids[i], sizeof l->key_ids[i], "%s", k[i].public_id);
    snprintf(l->key_labels[i], sizeof l->key_labels[i], "%s",
             k[i].label ? k[i].label : "-");
  }
  if (nk > 0)
    memcpy(l->key_hash0, k[0].hash, sizeof l->key_hash0);
}

static int64_t put(ctx_t *c, const sg_store_admin_account_t *a, bool create,
                   int want) {
  got_t g = {0};
  assert_int_equal(sg_store_account_put(c->st, a, create, id_cb, &g), 0);
  run_until(c, &g.calls, 1);
  assert_int_equal(g.status, want);
  return g.id;
}

static void load(ctx_t *c, loaded_t *l) {
  memset(l, 0, sizeof *l);
  assert_int_equal(sg_store_admin_load(c->st, load_cb, l), 0);
  run_until(c, &l->calls, 1);
  assert_int_equal(l->status, 0);
}

static void accounts(void **state) {
  ctx_t *c = *state;
  open_store(c);
  sg_store_admin_account_t a = {.name = "shop",
                                .spec = "{\"name\":\"shop\"}",
                                .smpp_password_hash = "$argon2id$x"};
  /* Bad arguments fail at once. */
  assert_int_equal(sg_store_account_put(c->st, NULL, true, id_cb, NULL),
                   SG_EINVAL);
  sg_store_admin_account_t bad = a;
  bad.spec = NULL;
  assert_int_equal(sg_store_account_put(c->st, &bad, true, id_cb, NULL),
                   SG_EINVAL);
  bad = a;
  bad.name = "";
  assert_int_equal(sg_store_account_put(c->st, &bad, true, id_cb, NULL),
                   SG_EINVAL);
  assert_int_equal(sg_store_account_put(c->st, &a, false, id_cb, NULL),
                   SG_EINVAL); /* an update needs the id */

  int64_t id = put(c, &a, true, 0);
  assert_true(id > 0);
  put(c, &a, true, SG_EEXIST);
  /* A configured account (no spec) takes its name too, and is not an API
   * account: an update of it finds nothing. */
  sg_store_account_t cfg_acct = {.name = "ops"};
  got_t g = {0};
  assert_int_equal(sg_store_account_create(c->st, &cfg_acct, id_cb, &g), 0);
  run_until(c, &g.calls, 1);
  int64_t ops = g.id;
  sg_store_admin_account_t o = {.id = ops, .name = "ops", .spec = "{}"};
  put(c, &o, false, SG_ENOENT);
  o.name = "ops";
  put(c, &o, true, SG_EEXIST);

  sg_store_admin_account_t u = {.id = id,
                                .name = "shop",
                                .spec = "{\"name\":\"shop\",\"tps\":5}",
                                .disabled = true};
  assert_int_equal(put(c, &u, false, 0), id);
  loaded_t l;
  load(c, &l);
  assert_int_equal(l.n_accts, 1); /* the configured one is not listed */
  assert_string_equal(l.names[0], "shop");
  assert_string_equal(l.specs[0], "{\"name\":\"shop\",\"tps\":5}");
  assert_string_equal(l.smpp[0], "-"); /* the update dropped it */
  assert_true(l.disabled[0]);
}

static void keys(void **state) {
  ctx_t *c = *state;
  open_store(c);
  sg_store_admin_account_t a = {.name = "shop", .spec = "{}"};
  int64_t acct = put(c, &a, true, 0);
  static const uint8_t secret[SG_STORE_SECRET_BYTES] = {9};
  sg_store_key_t k = {.account_id = acct, .label = "ci"};
  snprintf(k.public_id, sizeof k.public_id, "k_000000000001");
  const char *plain = "sgk_000000000001_plaintext-secret-key";
  assert_int_equal(sg_store_key_hash(secret, plain, strlen(plain), k.hash), 0);

  sg_store_key_t bad = k;
  bad.account_id = 0;
  assert_int_equal(sg_store_key_put(c->st, &bad, 0, 0, id_cb, NULL), SG_EINVAL);
  bad = k;
  bad.public_id[0] = '\0';
  assert_int_equal(sg_store_key_put(c->st, &bad, 0, 0, id_cb, NULL), SG_EINVAL);
  assert_int_equal(sg_store_key_revoke(c->st, 0, 1, done_cb, NULL), SG_EINVAL);

  got_t g = {0};
  assert_int_equal(sg_store_key_put(c->st, &k, 0, 0, id_cb, &g), 0);
  run_until(c, &g.calls, 1);
  assert_int_equal(g.status, 0);
  int64_t first = g.id;
  /* The same public id or hash again: taken. No such account: not found. */
  g.calls = 0;
  assert_int_equal(sg_store_key_put(c->st, &k, 0, 0, id_cb, &g), 0);
  run_until(c, &g.calls, 1);
  assert_int_equal(g.status, SG_EEXIST);
  sg_store_key_t k2 = k;
  k2.account_id = acct + 100;
  snprintf(k2.public_id, sizeof k2.public_id, "k_000000000002");
  k2.hash[0] ^= 1;
  g.calls = 0;
  assert_int_equal(sg_store_key_put(c->st, &k2, 0, 0, id_cb, &g), 0);
  run_until(c, &g.calls, 1);
  assert_int_equal(g.status, SG_ENOENT);
  /* A rotation that names a key that does not exist writes nothing. */
  k2.account_id = acct;
  g.calls = 0;
  assert_int_equal(sg_store_key_put(c->st, &k2, first + 50, T0, id_cb, &g), 0);
  run_until(c, &g.calls, 1);
  assert_int_equal(g.status, SG_ENOENT);
  loaded_t l;
  load(c, &l);
  assert_int_equal(l.n_keys, 1);

  /* Rotation: the new key, and the old one revoked an hour from now. */
  g.calls = 0;
  k2.label = NULL;
  assert_int_equal(sg_store_key_put(c->st, &k2, first, T0 + 3600000, id_cb, &g),
                   0);
  run_until(c, &g.calls, 1);
  assert_int_equal(g.status, 0);
  load(c, &l);
  assert_int_equal(l.n_keys, 2);
  assert_string_equal(l.key_ids[0], "k_000000000001");
  assert_string_equal(l.key_labels[0], "ci");
  assert_string_equal(l.key_labels[1], "-");
  assert_int_equal(l.key_revoked[0], T0 + 3600000);
  assert_int_equal(l.key_revoked[1], 0);
  assert_int_equal(l.key_acct[1], acct);
  assert_memory_equal(l.key_hash0, k.hash, sizeof k.hash);
  /* Revoking earlier wins; revoking later does not push it back. */
  g.calls = 0;
  assert_int_equal(sg_store_key_revoke(c->st, first, T0 + 5, done_cb, &g), 0);
  run_until(c, &g.calls, 1);
  assert_int_equal(g.status, 0);
  g.calls = 0;
  assert_int_equal(sg_store_key_revoke(c->st, first, T0 + 99, done_cb, &g), 0);
  run_until(c, &g.calls, 1);
  load(c, &l);
  assert_int_equal(l.key_revoked[0], T0 + 5);
  g.calls = 0;
  assert_int_equal(sg_store_key_revoke(c->st, first + 77, T0, done_cb, &g), 0);
  run_until(c, &g.calls, 1);
  assert_int_equal(g.status, SG_ENOENT);
  close_store(c);

  /* Only the hash is in the database, never the key. */
  if (c->url[0] != '\0') {
    char sql[256], hex[2 * sizeof k.hash + 1];
    for (size_t i = 0; i < sizeof k.hash; i++)
      snprintf(hex + 2 * i, 3, "%02x", k.hash[i]);
    snprintf(sql, sizeof sql,
             "SELECT count(*) FROM api_keys WHERE encode(key_hash, 'hex') = "
             "'%s'",
             hex);
    assert_int_equal(q1(c, sql), 1);
    assert_int_equal(q1(c, "SELECT count(*) FROM api_keys k, accounts a WHERE "
                           "k::text || a::text LIKE '%plaintext-secret-key%'"),
                     0);
    return;
  }
  FILE *f = fopen(c->path, "rb");
  assert_non_null(f);
  static char buf[1 << 20];
  size_t n = fread(buf, 1, sizeof buf, f);
  fclose(f);
  assert_true(n > 0);
  assert_null(memmem(buf, n, "plaintext-secret-key", 20));
  assert_non_null(memmem(buf, n, k.hash, sizeof k.hash));
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(accounts, setup, teardown),
      cmocka_unit_test_setup_teardown(keys, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
