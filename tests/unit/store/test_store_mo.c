/* Tests for the inbound-reassembly and opt-out calls of store.h: parts
 * stored once (duplicates ignored), groups handed out when complete or
 * stale, survival across a close and reopen, delivery that deletes the
 * parts with the message (a second delivery finds none), the search
 * filters and cursor, and opt-out lists. */
#include "store_fixture.h"

typedef struct mo_got {
  int calls, status;
  bool dup;
  unsigned have;
  int64_t id;
  size_t n;
  char groups[8][64];
  unsigned seqs[16];
  char first_body[256];
  char cursor[64];
  char numbers[8][32];
} mo_got_t;

static void part_cb(sg_store_t *st, int status, bool dup, unsigned have,
                    void *data) {
  (void)st;
  mo_got_t *g = data;
  g->calls++;
  g->status = status;
  g->dup = dup;
  g->have = have;
}

static void parts_cb(sg_store_t *st, int status, const sg_store_mo_part_t *p,
                     size_t n, void *data) {
  (void)st;
  mo_got_t *g = data;
  g->calls++;
  g->status = status;
  g->n = n;
  for (size_t i = 0; i < n && i < 16; i++) {
    g->seqs[i] = p[i].seq;
    if (i < 8)
      snprintf(g->groups[i], sizeof g->groups[i], "%s", p[i].group);
  }
}

static void mo_id_cb(sg_store_t *st, int status, int64_t id, void *data) {
  (void)st;
  mo_got_t *g = data;
  g->calls++;
  g->status = status;
  g->id = id;
}

static void list_cb(sg_store_t *st, int status,
                    const sg_store_inbound_res_t *res, void *data) {
  (void)st;
  mo_got_t *g = data;
  g->calls++;
  g->status = status;
  g->n = res ? res->n : 0;
  if (res && res->n > 0)
    snprintf(g->first_body, sizeof g->first_body, "%.*s|%s|%d",
             (int)res->msgs[0].body_len, (const char *)res->msgs[0].body,
             res->msgs[0].keyword ? res->msgs[0].keyword : "-",
             res->msgs[0].incomplete);
  snprintf(g->cursor, sizeof g->cursor, "%s", res ? res->next_cursor : "");
}

static void optouts_cb(sg_store_t *st, int status,
                       const sg_store_optout_res_t *res, void *data) {
  (void)st;
  mo_got_t *g = data;
  g->calls++;
  g->status = status;
  g->n = res ? res->n : 0;
  for (size_t i = 0; res && i < res->n && i < 8; i++)
    snprintf(g->numbers[i], sizeof g->numbers[i], "%s", res->items[i].number);
  snprintf(g->cursor, sizeof g->cursor, "%s", res ? res->next_cursor : "");
}

static void add_part(ctx_t *c, const char *grp, unsigned seq, unsigned total,
                     int64_t t, mo_got_t *g) {
  const uint8_t ud[] = {'p', (uint8_t)('0' + seq)};
  sg_store_mo_part_t p = {.group = grp,
                          .seq = seq,
                          .total = total,
                          .connector = "op",
                          .sender = "+79001234567",
                          .recipient = "100",
                          .ud = ud,
                          .ud_len = 2,
                          .received_ms = t};
  memset(g, 0, sizeof *g);
  assert_int_equal(sg_store_mo_part_add(c->st, &p, part_cb, g), 0);
  run_until(c, &g->calls, 1);
  assert_int_equal(g->status, 0);
}

static void due_wait(ctx_t *c, int64_t stale, mo_got_t *g) {
  memset(g, 0, sizeof *g);
  assert_int_equal(sg_store_mo_due(c->st, stale, 10, parts_cb, g), 0);
  run_until(c, &g->calls, 1);
  assert_int_equal(g->status, 0);
}

static int deliver_wait(ctx_t *c, const char *grp, const char *text,
                        const char *kw, int optout, mo_got_t *g) {
  sg_store_mo_deliver_t d = {
      .group = grp, .optout = optout, .optout_number = "+79001234567"};
  assert_int_equal(sg_id_new(d.msg.id), 0);
  d.msg.account_id = 1;
  d.msg.sender = "+79001234567";
  d.msg.recipient = "100";
  d.msg.body = (const uint8_t *)text;
  d.msg.body_len = strlen(text);
  d.msg.parts = 2;
  d.msg.keyword = kw;
  d.msg.incomplete = grp != NULL && strcmp(grp, "g2") == 0;
  d.msg.received_ms = T0;
  d.webhook_url = "http://127.0.0.1:9/in";
  memset(g, 0, sizeof *g);
  assert_int_equal(sg_store_mo_deliver(c->st, &d, mo_id_cb, g), 0);
  run_until(c, &g->calls, 1);
  return g->status;
}

static void parts_reassembly(void **state) {
  ctx_t *c = *state;
  open_store(c);
  mo_got_t g;
  add_part(c, "g1", 2, 2, T0, &g);
  assert_false(g.dup);
  assert_int_equal(g.have, 1);
  add_part(c, "g1", 2, 2, T0 + 5, &g); /* a duplicate */
  assert_true(g.dup);
  assert_int_equal(g.have, 1);
  add_part(c, "g2", 1, 3, T0 + 10, &g);
  due_wait(c, 0, &g);
  assert_int_equal(g.n, 0); /* nothing complete, nothing stale asked */
  /* Survives a restart. */
  close_store(c);
  open_store(c);
  add_part(c, "g1", 1, 2, T0 + 20, &g);
  assert_int_equal(g.have, 2);
  due_wait(c, 0, &g);
  assert_int_equal(g.n, 2);
  assert_string_equal(g.groups[0], "g1");
  assert_int_equal(g.seqs[0], 1);
  assert_int_equal(g.seqs[1], 2);
  due_wait(c, T0 + 11, &g); /* g2 is stale from T0 + 11 */
  assert_int_equal(g.n, 3);
  assert_string_equal(g.groups[2], "g2");
  assert_int_equal(deliver_wait(c, "g1", "hello", "HELLO", 0, &g), 0);
  assert_true(g.id > 0); /* the webhook's row */
  assert_int_equal(deliver_wait(c, "g1", "hello", "HELLO", 0, &g), SG_ENOENT);
  assert_int_equal(q1(c, "SELECT count(*) FROM inbound"), 1);
  assert_int_equal(q1(c, "SELECT count(*) FROM inbound_parts"), 1);
  assert_int_equal(deliver_wait(c, "g2", "part", NULL, 0, &g), 0);
  assert_int_equal(q1(c, "SELECT count(*) FROM inbound_parts"), 0);
  assert_int_equal(q1(c, "SELECT incomplete FROM inbound WHERE CAST(body AS TEXT) = 'part'"),
                   1);
  assert_string_equal(
      q1s(c, "SELECT payload FROM webhooks ORDER BY id DESC LIMIT 1"),
      q1s(c, "SELECT payload FROM webhooks WHERE payload LIKE "
             "'%\"incomplete\":true%'"));
  /* Malformed requests fail at once. */
  sg_store_mo_part_t bad = {
      .group = "g", .seq = 3, .total = 2, .sender = "a", .recipient = "b"};
  assert_int_equal(sg_store_mo_part_add(c->st, &bad, part_cb, &g), SG_EINVAL);
  bad.seq = 1;
  bad.total = 1;
  assert_int_equal(sg_store_mo_part_add(c->st, &bad, part_cb, &g), SG_EINVAL);
  assert_int_equal(sg_store_mo_due(c->st, 0, 0, parts_cb, &g), SG_EINVAL);
}

static void search_filters(void **state) {
  ctx_t *c = *state;
  open_store(c);
  mo_got_t g;
  assert_int_equal(deliver_wait(c, NULL, "stop it", "STOP", 1, &g), 0);
  assert_int_equal(deliver_wait(c, NULL, "info please", "INFO", 0, &g), 0);
  assert_int_equal(deliver_wait(c, NULL, "start", "START", -1, &g), 0);
  assert_int_equal(q1(c, "SELECT count(*) FROM optouts"), 0);
  assert_int_equal(deliver_wait(c, NULL, "stop", "STOP", 1, &g), 0);
  assert_int_equal(q1(c, "SELECT count(*) FROM optouts"), 1);
  sg_store_inbound_filter_t f = {.account_id = 1, .keyword = "INFO"};
  memset(&g, 0, sizeof g);
  assert_int_equal(sg_store_inbound_search(c->st, &f, list_cb, &g), 0);
  run_until(c, &g.calls, 1);
  assert_int_equal(g.n, 1);
  assert_string_equal(g.first_body, "info please|INFO|0");
  f = (sg_store_inbound_filter_t){.sender = "+79001234567", .limit = 3};
  memset(&g, 0, sizeof g);
  assert_int_equal(sg_store_inbound_search(c->st, &f, list_cb, &g), 0);
  run_until(c, &g.calls, 1);
  assert_int_equal(g.n, 3);
  assert_string_equal(g.first_body, "stop|STOP|0"); /* newest first */
  char cur[64];
  snprintf(cur, sizeof cur, "%s", g.cursor);
  f.cursor = cur;
  memset(&g, 0, sizeof g);
  assert_int_equal(sg_store_inbound_search(c->st, &f, list_cb, &g), 0);
  run_until(c, &g.calls, 1);
  assert_int_equal(g.n, 1);
  assert_string_equal(g.first_body, "stop it|STOP|0");
  assert_string_equal(g.cursor, "");
  f = (sg_store_inbound_filter_t){.recipient = "nobody"};
  memset(&g, 0, sizeof g);
  assert_int_equal(sg_store_inbound_search(c->st, &f, list_cb, &g), 0);
  run_until(c, &g.calls, 1);
  assert_int_equal(g.n, 0);
  f = (sg_store_inbound_filter_t){.until_ms = T0 - 1};
  memset(&g, 0, sizeof g);
  assert_int_equal(sg_store_inbound_search(c->st, &f, list_cb, &g), 0);
  run_until(c, &g.calls, 1);
  assert_int_equal(g.n, 0);
  f = (sg_store_inbound_filter_t){.cursor = "not-an-id"};
  assert_int_equal(sg_store_inbound_search(c->st, &f, list_cb, &g), SG_EINVAL);
}

static void optout_lists(void **state) {
  ctx_t *c = *state;
  open_store(c);
  mo_got_t g;
  const char *nums[] = {"+79000000003", "+79000000001", "+79000000002"};
  for (int i = 0; i < 3; i++) {
    memset(&g, 0, sizeof g);
    assert_int_equal(
        sg_store_optout_set(c->st, 7, nums[i], true, "api", mo_id_cb, &g), 0);
    run_until(c, &g.calls, 1);
    assert_int_equal(g.id, 1);
  }
  memset(&g, 0, sizeof g);
  assert_int_equal(
      sg_store_optout_set(c->st, 7, nums[0], true, "api", mo_id_cb, &g), 0);
  run_until(c, &g.calls, 1);
  assert_int_equal(g.id, 0); /* already there */
  memset(&g, 0, sizeof g);
  assert_int_equal(
      sg_store_optout_list(c->st, 7, NULL, NULL, 2, optouts_cb, &g), 0);
  run_until(c, &g.calls, 1);
  assert_int_equal(g.n, 2);
  assert_string_equal(g.numbers[0], "+79000000001");
  assert_string_equal(g.cursor, "+79000000002");
  char cur[64];
  snprintf(cur, sizeof cur, "%s", g.cursor);
  memset(&g, 0, sizeof g);
  assert_int_equal(sg_store_optout_list(c->st, 7, NULL, cur, 2, optouts_cb, &g),
                   0);
  run_until(c, &g.calls, 1);
  assert_int_equal(g.n, 1);
  assert_string_equal(g.numbers[0], "+79000000003");
  memset(&g, 0, sizeof g);
  assert_int_equal(
      sg_store_optout_set(c->st, 7, nums[1], false, NULL, mo_id_cb, &g), 0);
  run_until(c, &g.calls, 1);
  assert_int_equal(g.id, 1);
  memset(&g, 0, sizeof g);
  assert_int_equal(
      sg_store_optout_list(c->st, 7, nums[1], NULL, 0, optouts_cb, &g), 0);
  run_until(c, &g.calls, 1);
  assert_int_equal(g.n, 0);
  assert_int_equal(q1(c, "SELECT count(*) FROM optouts WHERE account_id = 7"),
                   2);
  assert_int_equal(
      sg_store_optout_set(c->st, 0, "+1", true, NULL, mo_id_cb, &g), SG_EINVAL);
  assert_int_equal(sg_store_optout_set(c->st, 7, "", true, NULL, mo_id_cb, &g),
                   SG_EINVAL);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(parts_reassembly, setup, teardown),
      cmocka_unit_test_setup_teardown(search_filters, setup, teardown),
      cmocka_unit_test_setup_teardown(optout_lists, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
