/* Tests for the inbound-rule and reply-count calls of store.h (migration
 * 0010): a save replaces every rule in order, keeps given ids and gives new
 * ones never used before (also after a delete), remembers `managed`, and
 * survives a close and reopen; a bad save is refused at once and changes
 * nothing; reply counts are written, read from a time on, and expired; a
 * delivery with a URL action queues its webhook row (GET, the payload with
 * "rule") in the same transaction. */
#include "store_fixture.h"

typedef struct inr_got {
  int calls, status;
  size_t n;
  bool saved, managed;
  int64_t ids[8];
  char docs[8][64];
  char pairs[8][32];
  uint32_t counts[8];
} inr_got_t;

static void rules_cb(sg_store_t *st, int status,
                     const sg_store_inrules_res_t *res, void *data) {
  (void)st;
  inr_got_t *g = data;
  g->calls++;
  g->status = status;
  g->n = res ? res->n : 0;
  g->saved = res && res->saved;
  g->managed = res && res->managed;
  for (size_t i = 0; res && i < res->n && i < 8; i++) {
    g->ids[i] = res->rules[i].id;
    snprintf(g->docs[i], sizeof g->docs[i], "%s", res->rules[i].doc);
  }
}

static void done_cb(sg_store_t *st, int status, void *data) {
  (void)st;
  inr_got_t *g = data;
  g->calls++;
  g->status = status;
}

static void replycount_cb(sg_store_t *st, int status,
                      const sg_store_replycount_t *rows, size_t n, void *data) {
  (void)st;
  inr_got_t *g = data;
  g->calls++;
  g->status = status;
  g->n = n;
  for (size_t i = 0; i < n && i < 8; i++) {
    snprintf(g->pairs[i], sizeof g->pairs[i], "%s", rows[i].pair);
    g->counts[i] = rows[i].count;
  }
}

static void save_wait(ctx_t *c, const sg_store_inrule_t *r, size_t n,
                      bool managed, inr_got_t *g) {
  memset(g, 0, sizeof *g);
  assert_int_equal(sg_store_inrules_save(c->st, r, n, managed, rules_cb, g), 0);
  run_until(c, &g->calls, 1);
  assert_int_equal(g->status, 0);
}

static void load_wait(ctx_t *c, inr_got_t *g) {
  memset(g, 0, sizeof *g);
  assert_int_equal(sg_store_inrules_load(c->st, rules_cb, g), 0);
  run_until(c, &g->calls, 1);
  assert_int_equal(g->status, 0);
}

static void rules_saved(void **state) {
  ctx_t *c = *state;
  open_store(c);
  inr_got_t g;
  load_wait(c, &g);
  assert_false(g.saved);
  assert_int_equal(g.n, 0);

  sg_store_inrule_t r[3] = {{0, "{\"a\":1}"}, {0, "{\"b\":2}"}};
  save_wait(c, r, 2, false, &g);
  assert_int_equal(g.n, 2);
  assert_int_equal(g.ids[0], 1);
  assert_int_equal(g.ids[1], 2);
  /* reorder, keep 2, drop 1, add one: the new id is 3, never 1 again */
  sg_store_inrule_t r2[2] = {{0, "{\"c\":3}"}, {2, "{\"b\":22}"}};
  save_wait(c, r2, 2, true, &g);
  assert_int_equal(g.ids[0], 3);
  assert_int_equal(g.ids[1], 2);
  sg_store_inrule_t r3[1] = {{0, "{\"d\":4}"}};
  save_wait(c, r3, 0, true, &g); /* all deleted */
  assert_int_equal(g.n, 0);
  save_wait(c, r2, 2, true, &g); /* id 2 given back by the caller */
  save_wait(c, r3, 1, true, &g);
  assert_int_equal(g.ids[0], 5);

  /* refused at once: an id twice, a NULL doc, too many */
  sg_store_inrule_t twice[2] = {{5, "{}"}, {5, "{}"}};
  assert_int_equal(sg_store_inrules_save(c->st, twice, 2, true, rules_cb, &g),
                   SG_EINVAL);
  sg_store_inrule_t nodoc[1] = {{0, NULL}};
  assert_int_equal(sg_store_inrules_save(c->st, nodoc, 1, true, rules_cb, &g),
                   SG_EINVAL);
  assert_int_equal(sg_store_inrules_save(c->st, r3, SG_STORE_INRULES_MAX + 1,
                                         true, rules_cb, &g),
                   SG_EINVAL);

  close_store(c);
  open_store(c);
  load_wait(c, &g);
  assert_true(g.saved);
  assert_true(g.managed);
  assert_int_equal(g.n, 1);
  assert_int_equal(g.ids[0], 5);
  assert_string_equal(g.docs[0], "{\"d\":4}");
}

static void reply_counts(void **state) {
  ctx_t *c = *state;
  open_store(c);
  inr_got_t g;
  sg_store_replycount_t rows[] = {{"4444>+7900", T0 - 50000, 2},
                                  {"4444>+7911", T0 - 10000, 1},
                                  {"4444>+7900", T0 - 5000, 1}};
  for (size_t i = 0; i < 3; i++) {
    memset(&g, 0, sizeof g);
    assert_int_equal(
        sg_store_replycount_set(c->st, &rows[i], T0 - 60000, done_cb, &g), 0);
    run_until(c, &g.calls, 1);
    assert_int_equal(g.status, 0);
  }
  assert_int_equal(q1(c, "SELECT count(*) FROM reply_counts"), 2);
  memset(&g, 0, sizeof g);
  assert_int_equal(sg_store_replycount_load(c->st, T0 - 20000, replycount_cb, &g),
                   0);
  run_until(c, &g.calls, 1);
  assert_int_equal(g.n, 2);
  assert_string_equal(g.pairs[0], "4444>+7900"); /* newest window first */
  assert_int_equal(g.counts[0], 1);
  assert_string_equal(g.pairs[1], "4444>+7911");
  /* a later write expires the windows that started too long ago */
  sg_store_replycount_t late = {"4444>+7922", T0, 1};
  memset(&g, 0, sizeof g);
  assert_int_equal(
      sg_store_replycount_set(c->st, &late, T0 - 7000, done_cb, &g), 0);
  run_until(c, &g.calls, 1);
  assert_int_equal(q1(c, "SELECT count(*) FROM reply_counts"), 2);
  sg_store_replycount_t bad = {"", T0, 1};
  assert_int_equal(sg_store_replycount_set(c->st, &bad, 0, done_cb, &g),
                   SG_EINVAL);
}

static void mo_id_cb(sg_store_t *st, int status, int64_t id, void *data) {
  (void)st;
  (void)id;
  inr_got_t *g = data;
  g->calls++;
  g->status = status;
}

static void url_action_row(void **state) {
  ctx_t *c = *state;
  open_store(c);
  sg_store_mo_deliver_t d;
  memset(&d, 0, sizeof d);
  assert_int_equal(sg_id_new(d.msg.id), 0);
  d.msg.sender = "+79001110001";
  d.msg.recipient = "4444";
  d.msg.body = (const uint8_t *)"WX now";
  d.msg.body_len = 6;
  d.webhook_url = "http://h/hook";
  d.action_url = "http://h/mo?t=WX+now";
  d.action_get = true;
  d.rule_id = 42;
  inr_got_t g = {0};
  assert_int_equal(sg_store_mo_deliver(c->st, &d, mo_id_cb, &g), 0);
  run_until(c, &g.calls, 1);
  assert_int_equal(g.status, 0);
  assert_int_equal(q1(c, "SELECT count(*) FROM webhooks"), 2);
  assert_string_equal(
      q1s(c, "SELECT method || ' ' || url FROM webhooks WHERE url LIKE "
             "'%/mo%'"),
      "GET http://h/mo?t=WX+now");
  assert_int_equal(q1(c, "SELECT count(*) FROM webhooks WHERE CAST(payload "
                         "AS TEXT) LIKE '%\"rule\":42}'"),
                   1);
  assert_int_equal(q1(c, "SELECT count(*) FROM webhooks WHERE url = "
                         "'http://h/hook' AND CAST(payload AS TEXT) LIKE "
                         "'%\"rule\"%'"),
                   0);
  d.action_url = "";
  assert_int_equal(sg_store_mo_deliver(c->st, &d, mo_id_cb, &g), SG_EINVAL);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(rules_saved, setup, teardown),
      cmocka_unit_test_setup_teardown(reply_counts, setup, teardown),
      cmocka_unit_test_setup_teardown(url_action_row, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
