/* Tests for store.h "settings" (migration 0009): nothing saved is
 * SG_ENOENT; a document saved is read back byte for byte, replaced by the
 * next save and gone after a delete; it survives closing and opening the
 * store; bad names and sizes fail at once without a callback. */
#include "store_fixture.h"

typedef struct doc_got {
  int calls;
  int status;
  char body[256];
  size_t len;
} doc_got_t;

static void get_cb(sg_store_t *st, int status, const char *body, size_t len,
                   void *data) {
  (void)st;
  doc_got_t *g = data;
  g->calls++;
  g->status = status;
  g->len = len;
  if (status == 0 && len < sizeof g->body)
    memcpy(g->body, body, len + 1);
}

static void done_cb(sg_store_t *st, int status, void *data) {
  (void)st;
  doc_got_t *g = data;
  g->calls++;
  g->status = status;
}

static doc_got_t get(ctx_t *c, const char *name) {
  doc_got_t g = {0};
  assert_int_equal(sg_store_setting_get(c->st, name, get_cb, &g), 0);
  run_until(c, &g.calls, 1);
  return g;
}

static void put(ctx_t *c, const char *name, const char *body) {
  doc_got_t g = {0};
  assert_int_equal(sg_store_setting_put(c->st, name, body,
                                        body ? strlen(body) : 0, done_cb, &g),
                   0);
  run_until(c, &g.calls, 1);
  assert_int_equal(g.status, 0);
}

static void save_read_replace_delete(void **state) {
  ctx_t *c = *state;
  open_store(c);
  assert_int_equal(get(c, "routes").status, SG_ENOENT);
  put(c, "routes", "{\"routes\":[1]}");
  put(c, "other", "[\"x\"]");
  doc_got_t g = get(c, "routes");
  assert_int_equal(g.status, 0);
  assert_int_equal(g.len, 14);
  assert_string_equal(g.body, "{\"routes\":[1]}");
  put(c, "routes", "{}");
  assert_string_equal(get(c, "routes").body, "{}");
  close_store(c);
  open_store(c);
  assert_string_equal(get(c, "routes").body, "{}");
  assert_string_equal(get(c, "other").body, "[\"x\"]");
  put(c, "routes", NULL);
  assert_int_equal(get(c, "routes").status, SG_ENOENT);
  assert_string_equal(get(c, "other").body, "[\"x\"]");
  put(c, "routes", NULL); /* deleting nothing is no error */
}

static void bad_arguments(void **state) {
  ctx_t *c = *state;
  open_store(c);
  doc_got_t g = {0};
  char longname[SG_STORE_SETTING_NAME_MAX + 1];
  memset(longname, 'n', sizeof longname - 1);
  longname[sizeof longname - 1] = '\0';
  assert_int_equal(sg_store_setting_get(c->st, "", get_cb, &g), SG_EINVAL);
  assert_int_equal(sg_store_setting_get(c->st, NULL, get_cb, &g), SG_EINVAL);
  assert_int_equal(sg_store_setting_get(c->st, longname, get_cb, &g),
                   SG_EINVAL);
  assert_int_equal(sg_store_setting_get(c->st, "routes", NULL, &g), SG_EINVAL);
  assert_int_equal(sg_store_setting_put(c->st, "routes", NULL, 3, done_cb, &g),
                   SG_EINVAL);
  assert_int_equal(sg_store_setting_put(c->st, "routes", "x",
                                        SG_STORE_SETTING_MAX + 1, done_cb, &g),
                   SG_EINVAL);
  assert_int_equal(g.calls, 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(save_read_replace_delete, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(bad_arguments, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
