/* test_admin.c - accounts and API keys managed at run time in the engine
 * (engine.h "ACCOUNTS AND KEYS AT RUN TIME"), on a temporary SQLite store
 * and one libuv loop: creation checked by the configuration's rules, merge
 * patches, taken names and system_ids, configured accounts read-only,
 * keys that authenticate until revoked or rotated, one change at a time,
 * and everything loaded again by a new engine on the same store. Each test
 * runs the loop until its callback came (bounded), never sleeps. */
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
#include "store/store.h"

typedef struct fx {
  uv_loop_t loop;
  sg_config_t *cfg;
  sg_store_t *st;
  sg_engine_t *e;
  char dir[64], path[96];
  int calls, status;
  sg_engine_admin_res_t res; /* the last answer, pointers cleared */
  char field[SG_CONFIG_KEY_MAX], code[64], secret[128], key_id[32];
  const sg_engine_account_t *account;
  int changed;
} fx_t;

static const char *const yaml =
    "accounts:\n"
    "  - {name: ops, api_key: ops-key, admin: true}\n"
    "  - {name: user, api_key: user-key,\n"
    "     smpp: {system_id: usersys, password: pw}}\n";

static void started_cb(sg_engine_t *e, int status, void *ud) {
  (void)e;
  fx_t *f = ud;
  f->status = status;
  f->calls++;
}

static void done_cb(sg_engine_t *e, int status, void *ud) {
  started_cb(e, status, ud);
}

static void run_calls(fx_t *f, int want) {
  uint64_t end = uv_now(&f->loop) + 20000;
  while (f->calls < want && uv_now(&f->loop) < end)
    uv_run(&f->loop, UV_RUN_ONCE);
  assert_int_equal(f->calls, want);
}

static void engine_up(fx_t *f) {
  sg_store_config_t sc;
  sg_store_config_init(&sc, f->path);
  sc.sync_normal = true;
  char err[256];
  assert_int_equal(sg_store_open(&f->loop, &sc, &f->st, err, sizeof err), 0);
  assert_int_equal(sg_engine_new(&f->loop, f->cfg, f->st, &f->e), 0);
  f->calls = 0;
  assert_int_equal(sg_engine_start(f->e, started_cb, f), 0);
  run_calls(f, 1);
  assert_int_equal(f->status, 0);
}

static void store_closed_cb(void *data) {
  *(bool *)data = true;
}

static void engine_down(fx_t *f) {
  f->calls = 0;
  assert_int_equal(sg_engine_stop(f->e, done_cb, f), 0);
  run_calls(f, 1);
  sg_engine_free(f->e);
  f->e = NULL;
  bool closed = false;
  sg_store_close(f->st, store_closed_cb, &closed);
  while (!closed)
    uv_run(&f->loop, UV_RUN_ONCE);
  f->st = NULL;
}

static int setup(void **state) {
  fx_t *f = calloc(1, sizeof *f);
  snprintf(f->dir, sizeof f->dir, "/tmp/sg-admin-XXXXXX");
  if (mkdtemp(f->dir) == NULL)
    return -1;
  snprintf(f->path, sizeof f->path, "%s/smsgate.db", f->dir);
  uv_loop_init(&f->loop);
  sg_config_errors_t errs;
  if (sg_config_load_string("test", yaml, strlen(yaml), &f->cfg, &errs) != 0)
    return -1;
  engine_up(f);
  *state = f;
  return 0;
}

static int teardown(void **state) {
  fx_t *f = *state;
  if (f->e != NULL)
    engine_down(f);
  uv_run(&f->loop, UV_RUN_DEFAULT);
  assert_int_equal(uv_loop_close(&f->loop), 0);
  sg_config_free(f->cfg);
  static const char *const suffix[] = {"", "-wal", "-shm", "-journal"};
  char p[128];
  for (size_t i = 0; i < 4; i++) {
    snprintf(p, sizeof p, "%s%s", f->path, suffix[i]);
    unlink(p);
  }
  rmdir(f->dir);
  free(f);
  return 0;
}

static void admin_cb(sg_engine_t *e, const sg_engine_admin_res_t *res,
                     void *ud) {
  (void)e;
  fx_t *f = ud;
  f->calls++;
  f->status = res->status;
  f->account = res->account;
  snprintf(f->field, sizeof f->field, "%s", res->field);
  snprintf(f->code, sizeof f->code, "%s",
           res->error_code ? res->error_code : "");
  snprintf(f->secret, sizeof f->secret, "%s", res->secret ? res->secret : "");
  snprintf(f->key_id, sizeof f->key_id, "%s", res->key ? res->key->id : "");
}

static void changed_cb(void *data, const sg_engine_account_t *a) {
  (void)a;
  ((fx_t *)data)->changed++;
}

/* Runs one change; returns its status. */
static int create(fx_t *f, const char *json) {
  f->calls = 0;
  assert_int_equal(
      sg_engine_account_create(f->e, json, strlen(json), admin_cb, f), 0);
  assert_int_equal(f->calls, 0); /* never inside the call */
  run_calls(f, 1);
  return f->status;
}

static int update(fx_t *f, const char *name, const char *json) {
  f->calls = 0;
  assert_int_equal(
      sg_engine_account_update(f->e, name, json, strlen(json), admin_cb, f), 0);
  run_calls(f, 1);
  return f->status;
}

static int key_create(fx_t *f, const char *account, const char *name) {
  f->calls = 0;
  assert_int_equal(sg_engine_key_create(f->e, account, name, admin_cb, f), 0);
  run_calls(f, 1);
  return f->status;
}

static int auth(fx_t *f, const char *key) {
  const sg_engine_account_t *a = NULL;
  return sg_engine_auth_api_key(f->e, key, strlen(key), &a);
}

static size_t n_accounts(fx_t *f) {
  size_t n = 0;
  while (sg_engine_account_at(f->e, n) != NULL)
    n++;
  return n;
}

static void refusals_change_nothing(void **state) {
  fx_t *f = *state;
  static const struct {
    const char *json, *field, *code;
    int status;
  } bad[] = {
      {"[1]", "", "invalid_json", SG_EINVAL},
      {"{\"name\":", "", "invalid_json", SG_EINVAL},
      {"{\"tps\": 1}", "name", "invalid_field", SG_EINVAL},
      {"{\"name\": \"a\", \"tps\": -1}", "tps", "invalid_field", SG_EINVAL},
      {"{\"name\": \"a\", \"tps\": 1.5}", "tps", "invalid_field", SG_EINVAL},
      {"{\"name\": \"a\", \"colour\": 1}", "colour", "invalid_field",
       SG_EINVAL},
      {"{\"name\": \"a\", \"api_key\": \"k\"}", "api_key", "invalid_field",
       SG_EINVAL},
      {"{\"name\": \"a\", \"default_region\": \"ZZ\"}", "default_region",
       "invalid_field", SG_EINVAL},
      {"{\"name\": \"a\", \"smpp\": {\"system_id\": \"s\"}}", "smpp.password",
       "invalid_field", SG_EINVAL},
      {"{\"name\": \"a\", \"webhook_events\": [\"delivred\"]}",
       "webhook_events[0]", "invalid_field", SG_EINVAL},
      {"{\"name\": \"user\"}", "name", "name_taken", SG_EEXIST},
      {"{\"name\": \"b\", \"smpp\": {\"system_id\": \"usersys\", "
       "\"password\": \"x\"}}",
       "smpp.system_id", "system_id_taken", SG_EEXIST},
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    assert_int_equal(create(f, bad[i].json), bad[i].status);
    assert_string_equal(f->field, bad[i].field);
    assert_string_equal(f->code, bad[i].code);
    assert_null(f->account);
  }
  assert_int_equal(n_accounts(f), 2);
  assert_int_equal(update(f, "user", "{\"tps\": 5}"), SG_EPERM);
  assert_string_equal(f->code, "managed_by_config");
  assert_int_equal(update(f, "nobody", "{\"tps\": 5}"), SG_ENOENT);
  assert_int_equal(sg_engine_account_by_name(f->e, "user")->cfg->tps, 0);
}

static void create_update_and_keys(void **state) {
  fx_t *f = *state;
  sg_engine_on_account_changed(f->e, changed_cb, f);
  assert_int_equal(create(f, "{\"name\": \"shop\", \"tps\": 5, \"password\": "
                             "\"kpw\", \"smpp\": {\"system_id\": \"shopsys\","
                             " \"password\": \"spw\"}}"),
                   0);
  const sg_engine_account_t *shop = f->account;
  assert_non_null(shop);
  assert_int_equal(f->changed, 1);
  assert_int_equal(strncmp(f->secret, "whsec_", 6), 0); /* made, shown once */
  assert_string_equal(shop->cfg->webhook_secret, f->secret);
  assert_int_equal(shop->cfg->tps, 5);
  assert_null(shop->cfg->smpp.password); /* only its hash is kept */
  assert_int_equal(strncmp(shop->cfg->password, "$argon2id$", 10), 0);
  const char *h = sg_engine_account_smpp_hash(f->e, shop);
  assert_non_null(h);
  assert_int_equal(sg_store_password_verify(h, "spw", 3), 0);
  assert_null(sg_engine_account_smpp_hash(
      f->e, sg_engine_account_by_name(f->e, "user")));
  sg_engine_account_info_t info;
  sg_engine_account_info(f->e, shop, &info);
  assert_true(info.api);
  assert_true(info.created_ms > 0);

  /* A merge patch: tps changes, senders arrive, smpp keeps its hash; the
   * address of the account stays the same. */
  assert_int_equal(update(f, "shop",
                          "{\"tps\": 9, \"senders\": [\"Shop\"], "
                          "\"smpp\": {\"tps\": 3}}"),
                   0);
  assert_ptr_equal(f->account, shop);
  assert_int_equal(shop->cfg->tps, 9);
  assert_int_equal(shop->cfg->n_senders, 1);
  assert_int_equal(shop->cfg->smpp.tps, 3);
  assert_string_equal(sg_engine_account_smpp_hash(f->e, shop), h);
  assert_string_equal(f->secret, ""); /* nothing shown */
  assert_int_equal(update(f, "shop", "{\"name\": \"other\"}"), SG_EINVAL);
  assert_string_equal(f->field, "name");
  assert_int_equal(update(f, "shop", "{\"default_sender\": \"Nope\"}"),
                   SG_EINVAL);
  assert_int_equal(shop->cfg->tps, 9);
  assert_int_equal(update(f, "shop", "{\"smpp\": null}"), 0);
  assert_null(shop->cfg->smpp.system_id);
  assert_null(sg_engine_account_smpp_hash(f->e, shop));

  /* Keys. */
  assert_int_equal(key_create(f, "nobody", NULL), SG_ENOENT);
  assert_int_equal(key_create(f, "shop", ""), SG_EINVAL);
  assert_int_equal(key_create(f, "shop", "ci"), 0);
  char k1[128], id1[32];
  snprintf(k1, sizeof k1, "%s", f->secret);
  snprintf(id1, sizeof id1, "%s", f->key_id);
  assert_int_equal(strncmp(k1, "sgk_", 4), 0);
  assert_int_equal(strlen(id1), 14);
  const sg_engine_account_t *a = NULL;
  assert_int_equal(sg_engine_auth_api_key(f->e, k1, strlen(k1), &a), 0);
  assert_ptr_equal(a, shop);
  assert_int_equal(auth(f, "ops-key"), 0); /* configured keys still work */
  assert_int_equal(auth(f, "sgk_nope"), SG_ENOENT);
  assert_non_null(sg_engine_key_at(f->e, 0)->last_used_ms);

  /* One change at a time, in the order asked: a change asked while
   * another runs waits for it, and its checks see what the first one
   * did (the second revoke finds the key revoked). */
  f->calls = 0;
  assert_int_equal(sg_engine_key_revoke(f->e, id1, admin_cb, f), 0);
  assert_int_equal(sg_engine_key_revoke(f->e, id1, admin_cb, f), 0);
  assert_int_equal(f->calls, 0); /* never inside the call */
  run_calls(f, 2);
  assert_int_equal(f->status, SG_ESTATE);
  assert_string_equal(f->code, "revoked");
  assert_int_equal(auth(f, k1), SG_ENOENT);
  /* The queue is bounded: one running and 64 waiting; the next is refused
   * at once (and its callback never fires), the others all answer. */
  f->calls = 0;
  for (int i = 0; i < 65; i++)
    assert_int_equal(sg_engine_key_revoke(f->e, id1, admin_cb, f), 0);
  assert_int_equal(sg_engine_key_revoke(f->e, id1, admin_cb, f), SG_EBUSY);
  run_calls(f, 65);
  assert_int_equal(f->status, SG_ESTATE);
  f->calls = 0;
  assert_int_equal(sg_engine_key_revoke(f->e, id1, admin_cb, f), 0);
  run_calls(f, 1);

  /* Rotation with a grace period: both keys work until it ends. */
  assert_int_equal(key_create(f, "shop", NULL), 0);
  char k2[128], id2[32];
  snprintf(k2, sizeof k2, "%s", f->secret);
  snprintf(id2, sizeof id2, "%s", f->key_id);
  f->calls = 0;
  assert_int_equal(sg_engine_key_rotate(f->e, id2, 3600000, admin_cb, f), 0);
  run_calls(f, 1);
  assert_int_equal(f->status, 0);
  char k3[128];
  snprintf(k3, sizeof k3, "%s", f->secret);
  assert_int_equal(auth(f, k2), 0);
  assert_int_equal(auth(f, k3), 0);
  f->calls = 0;
  assert_int_equal(sg_engine_key_rotate(f->e, id2, -1, admin_cb, f), 0);
  run_calls(f, 1);
  assert_int_equal(f->status, SG_EINVAL);
  assert_string_equal(f->field, "grace_period");

  /* Disabled: its keys answer SG_EPERM. */
  assert_int_equal(update(f, "shop", "{\"disabled\": true}"), 0);
  assert_int_equal(auth(f, k3), SG_EPERM);

  /* A new engine on the same store finds all of it. */
  engine_down(f);
  engine_up(f);
  const sg_engine_account_t *again = sg_engine_account_by_name(f->e, "shop");
  assert_non_null(again);
  assert_int_equal(again->cfg->tps, 9);
  assert_true(again->cfg->disabled);
  assert_int_equal(strncmp(again->cfg->password, "$argon2id$", 10), 0);
  assert_int_equal(auth(f, k1), SG_ENOENT);
  assert_int_equal(auth(f, k3), SG_EPERM);
  assert_int_equal(update(f, "shop", "{\"disabled\": false}"), 0);
  assert_int_equal(auth(f, k2), 0);
  assert_int_equal(auth(f, k3), 0);
  size_t n = 0;
  while (sg_engine_key_at(f->e, n) != NULL)
    n++;
  assert_int_equal(n, 3);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(refusals_change_nothing, setup, teardown),
      cmocka_unit_test_setup_teardown(create_update_and_keys, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
