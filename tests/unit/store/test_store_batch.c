/* test_store_batch.c - the list of a batch (GET /v1/messages?batch_id=,
 * a campaign's messages) when a batch of one is named by its message's id.
 * On SQLite such a message has no entry in messages_batch (migration 0029)
 * and the list finds it by the table's key; the answers are the same as
 * before and the same on PostgreSQL (store-pg/test_store_batch), which
 * keeps an entry for every message. Checked: every filter and a cursor on
 * a batch of one, a batch of several, and a batch whose id is one of its
 * several messages' ids; the index entries; a file of schema 28 upgraded
 * and read.
 */
#include "store/store_fixture.h"

#include "store/migrations.h"

typedef struct list_got {
  const char *batch; /* the filter's: every message listed must carry it */
  int calls, status;
  size_t n;
  char ids[16][SG_ID_LEN + 1];
  char next[SG_ID_LEN + 1];
} list_got_t;

static void list_cb(sg_store_t *st, int status, const sg_store_list_res_t *res,
                    void *data) {
  (void)st;
  list_got_t *g = data;
  g->status = status;
  g->n = status == 0 ? res->n : 0;
  assert_true(g->n <= 16);
  for (size_t i = 0; i < g->n; i++) {
    memcpy(g->ids[i], res->msgs[i].id, SG_ID_LEN + 1);
    assert_string_equal(res->msgs[i].batch_id, g->batch);
  }
  if (status == 0)
    memcpy(g->next, res->next_cursor, SG_ID_LEN + 1);
  g->calls++;
}

/* The ids listed by filter f, newest first, one per line, the pages of
 * `limit` each followed to the end. Every message listed must carry the
 * filter's batch. */
static void list_all(ctx_t *c, sg_store_filter_t f, char *out, size_t len) {
  static char cursor[SG_ID_LEN + 1];
  size_t o = 0;
  out[0] = '\0';
  for (int page = 0; page < 16; page++) {
    list_got_t g = {.batch = f.batch_id};
    assert_int_equal(sg_store_list_messages(c->st, &f, list_cb, &g), 0);
    run_until(c, &g.calls, 1);
    assert_int_equal(g.status, 0);
    for (size_t i = 0; i < g.n; i++)
      o += (size_t)snprintf(out + o, len - o, "%s\n", g.ids[i]);
    assert_true(o < len);
    if (g.next[0] == '\0')
      return;
    assert_int_equal(g.n, f.limit);
    memcpy(cursor, g.next, sizeof cursor);
    f.cursor = cursor;
  }
  fail_msg("more pages than messages");
}

/* The same list expected: ids[i] for each i with bit i of `which` set,
 * newest first. */
static void want_ids(char (*ids)[SG_ID_LEN + 1], size_t n, unsigned which,
                     char *out, size_t len) {
  const char *sorted[16];
  size_t k = 0;
  for (size_t i = 0; i < n; i++)
    if (which & (1u << i))
      sorted[k++] = ids[i];
  for (size_t i = 1; i < k; i++) /* descending, by insertion */
    for (size_t j = i; j > 0 && strcmp(sorted[j - 1], sorted[j]) < 0; j--) {
      const char *t = sorted[j];
      sorted[j] = sorted[j - 1];
      sorted[j - 1] = t;
    }
  size_t o = 0;
  out[0] = '\0';
  for (size_t i = 0; i < k; i++)
    o += (size_t)snprintf(out + o, len - o, "%s\n", sorted[i]);
}

static void expect_list(ctx_t *c, sg_store_filter_t f,
                        char (*ids)[SG_ID_LEN + 1], size_t n, unsigned which) {
  char got[16 * 32], want[16 * 32];
  list_all(c, f, got, sizeof got);
  want_ids(ids, n, which, want, sizeof want);
  if (strcmp(got, want) != 0)
    fail_msg("batch %s:\n%swant:\n%s", f.batch_id, got, want);
}

/* Stores msgs[0..n) as one batch of account `account` named `batch`. */
static void submit_batch(ctx_t *c, tmsg_t *msgs, size_t n, const char *batch,
                         int64_t account) {
  sg_store_batch_t proto = {.account_id = account};
  memcpy(proto.batch_id, batch, SG_ID_LEN + 1);
  assert_int_equal(submit_wait(c, msgs, n, &proto, NULL), 0);
}

/* The entries of messages_batch (SQLite): the cells of its leaves. */
static long long batch_entries(ctx_t *c) {
  return q1(c, "SELECT sum(ncell) FROM dbstat WHERE name = 'messages_batch' "
               "AND pagetype = 'leaf'");
}

static void lists_of_batches(void **state) {
  ctx_t *c = *state;
  open_store(c);
  /* one: a batch of one, named by its message, as the engine names it */
  static tmsg_t one, several[3], mixed[5], other;
  tmsg_init(&one, "+14155550100", 1, "smsc-a");
  submit_batch(c, &one, 1, one.m.id, 1);
  /* several: a batch of three with an id of its own */
  char sev_batch[SG_ID_LEN + 1];
  assert_int_equal(sg_id_new(sev_batch), 0);
  for (int i = 0; i < 3; i++)
    tmsg_init(&several[i], "+14155550100", 2, "smsc-a");
  submit_batch(c, several, 3, sev_batch, 1);
  /* mixed: five whose batch id is the third's id, so that a list merges
   * the key's row with the index's rows around it */
  for (int i = 0; i < 5; i++)
    tmsg_init(&mixed[i], i % 2 ? "+14155550101" : "+14155550100", 1, "smsc-a");
  submit_batch(c, mixed, 5, mixed[2].m.id, 1);
  /* other: a batch of one of account 2 */
  tmsg_init(&other, "+14155550100", 1, "smsc-a");
  submit_batch(c, &other, 1, other.m.id, 2);

  char ids[5][SG_ID_LEN + 1];
  memcpy(ids[0], one.m.id, sizeof ids[0]);
  sg_store_filter_t f = {.batch_id = ids[0], .limit = 50};
  expect_list(c, f, ids, 1, 1);
  f.account_id = 1;
  expect_list(c, f, ids, 1, 1);
  f.account_id = 2;
  expect_list(c, f, ids, 1, 0);
  f = (sg_store_filter_t){.batch_id = ids[0], .limit = 1};
  f.recipient = "+14155550100";
  expect_list(c, f, ids, 1, 1);
  f.recipient = "+14155550101";
  expect_list(c, f, ids, 1, 0);
  f = (sg_store_filter_t){.batch_id = ids[0], .limit = 1};
  f.status = SG_MSG_QUEUED;
  expect_list(c, f, ids, 1, 1);
  f.status = SG_MSG_SENT;
  expect_list(c, f, ids, 1, 0);
  f = (sg_store_filter_t){.batch_id = ids[0], .limit = 1};
  f.from_ms = T0 + 1;
  expect_list(c, f, ids, 1, 0);
  f.from_ms = T0;
  f.to_ms = T0 + 1;
  expect_list(c, f, ids, 1, 1);
  f = (sg_store_filter_t){.batch_id = ids[0], .limit = 1, .cursor = ids[0]};
  expect_list(c, f, ids, 1, 0);

  for (int i = 0; i < 3; i++)
    memcpy(ids[i], several[i].m.id, sizeof ids[i]);
  f = (sg_store_filter_t){.batch_id = sev_batch, .limit = 2};
  expect_list(c, f, ids, 3, 7);
  f.account_id = 2;
  expect_list(c, f, ids, 3, 0);

  static char mixed_batch[SG_ID_LEN + 1];
  memcpy(mixed_batch, mixed[2].m.id, sizeof mixed_batch);
  for (int i = 0; i < 5; i++)
    memcpy(ids[i], mixed[i].m.id, sizeof ids[i]);
  for (size_t limit = 1; limit <= 6; limit++) {
    f = (sg_store_filter_t){.batch_id = mixed_batch, .limit = limit};
    expect_list(c, f, ids, 5, 0x1f);
    f.recipient = "+14155550100"; /* 0, 2 and 4 */
    expect_list(c, f, ids, 5, 0x15);
    f.recipient = "+14155550101"; /* 1 and 3: not the key's row */
    expect_list(c, f, ids, 5, 0x0a);
    f.recipient = NULL;
    f.cursor = ids[3]; /* below 3: 0, 1 and 2 */
    expect_list(c, f, ids, 5, 0x07);
    f.cursor = ids[2]; /* below the key's row */
    expect_list(c, f, ids, 5, 0x03);
  }
  f = (sg_store_filter_t){.batch_id = mixed_batch, .limit = 2};
  f.account_id = 1;
  f.status = SG_MSG_QUEUED;
  expect_list(c, f, ids, 5, 0x1f);

  if (pg_server() != NULL)
    return;
  /* SQLite: the partial index holds the 3 + 4 messages whose batch id is
   * not their own id, and no batch of one. */
  assert_int_equal(q1(c, "SELECT partial FROM pragma_index_list('messages') "
                         "WHERE name = 'messages_batch'"),
                   1);
  assert_int_equal(batch_entries(c), 7);
  assert_int_equal(q1(c, "SELECT count(*) FROM messages WHERE batch_id = id"),
                   3);
}

/* A file of schema 28 (every message in messages_batch) upgrades in place
 * with no table rewritten: its batches list as they did, and a batch of one
 * stored after the upgrade has no entry. SQLite only. */
static void file_of_schema_28(void **state) {
  ctx_t *c = *state;
  if (pg_server() != NULL)
    skip();
  size_t applied = sqlite_schema_upto(c, 28);
  /* Two messages of batch ...B1, one of its own batch ...B2, as stored
   * before: no message's batch id is its id. */
  static const char *rows =
      "INSERT INTO messages (id, batch_id, account_id, sender, recipient, "
      "encoding, body, status, parts_total, created_ms, updated_ms) VALUES "
      "('01HW0000000000000000000001', '01HW00000000000000000000B1', 1, 'S', "
      "'+14155550100', 0, 'a', 'queued', 1, 1700000000000, 1700000000000), "
      "('01HW0000000000000000000002', '01HW00000000000000000000B1', 1, 'S', "
      "'+14155550101', 0, 'b', 'queued', 1, 1700000000000, 1700000000000), "
      "('01HW0000000000000000000003', '01HW00000000000000000000B2', 1, 'S', "
      "'+14155550100', 0, 'c', 'queued', 1, 1700000000000, 1700000000000)";
  raw_exec(c, rows);
  assert_int_equal(q1(c, "SELECT partial FROM pragma_index_list('messages') "
                         "WHERE name = 'messages_batch'"),
                   0);
  long long root = q1(c, "SELECT rootpage FROM sqlite_schema WHERE name = "
                         "'messages'");
  open_store(c);
  sg_store_info_t info;
  sg_store_get_info(c->st, &info);
  assert_int_equal(info.migrated, sg__sqlite_migrations_count - applied);
  assert_int_equal(
      info.schema_version,
      (int)sg__sqlite_migrations[sg__sqlite_migrations_count - 1].version);
  assert_int_equal(q1(c, "SELECT partial FROM pragma_index_list('messages') "
                         "WHERE name = 'messages_batch'"),
                   1);
  assert_int_equal(batch_entries(c), 3);
  assert_int_equal(q1(c, "SELECT rootpage FROM sqlite_schema WHERE name = "
                         "'messages'"),
                   root); /* the table where it was, not copied */

  char ids[3][SG_ID_LEN + 1] = {"01HW0000000000000000000001",
                                "01HW0000000000000000000002",
                                "01HW0000000000000000000003"};
  expect_list(
      c,
      (sg_store_filter_t){.batch_id = "01HW00000000000000000000B1", .limit = 1},
      ids, 3, 3);
  expect_list(c,
              (sg_store_filter_t){.batch_id = "01HW00000000000000000000B2",
                                  .limit = 50},
              ids, 3, 4);
  expect_list(c,
              (sg_store_filter_t){.batch_id = "01HW00000000000000000000B2",
                                  .limit = 50,
                                  .recipient = "+14155550101"},
              ids, 3, 0);

  static tmsg_t one;
  tmsg_init(&one, "+14155550100", 1, "smsc-a");
  submit_batch(c, &one, 1, one.m.id, 1);
  memcpy(ids[0], one.m.id, sizeof ids[0]);
  expect_list(c, (sg_store_filter_t){.batch_id = ids[0], .limit = 50}, ids, 1,
              1);
  assert_int_equal(batch_entries(c), 3);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(lists_of_batches, setup, teardown),
      cmocka_unit_test_setup_teardown(file_of_schema_28, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
