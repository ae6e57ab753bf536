/* Tests for store/campaigns.h (migration 0015): a campaign is created with
 * lists and a template of its account only; the expansion takes list
 * members in chunks, inserts each number once (a number in two lists is a
 * duplicate), counts opted-out numbers and moves its cursor so that chunks
 * never overlap; status changes follow their rules; recipients are taken
 * as a release, read back while taken, and marked released or invalid; the
 * counters follow the messages of the campaign through the triggers; a
 * cancel step cancels the queued messages; bad operations are refused. */
#include "store_fixture.h"

typedef struct kgot {
  int calls, status;
  size_t n, changed, n_rcpts;
  bool expanded, more;
  int64_t rel, bad_list;
  char next_after[SG_ID_LEN + 1];
  sg_campaign_status_t st;
  char id[SG_ID_LEN + 1];
  char body[64];
  size_t n_lists;
  uint64_t recipients, pending, optout, duplicate, invalid;
  uint64_t queued, sent, delivered, failed, canceled;
  int64_t rids[64];
  char numbers[64][24];
  char names[64][24];
} kgot_t;

static void copy_campaign(kgot_t *g, const sg_store_campaign_t *k) {
  g->st = k->status;
  memcpy(g->id, k->id, sizeof g->id);
  snprintf(g->body, sizeof g->body, "%s", k->body ? k->body : "");
  g->n_lists = k->n_lists;
  g->recipients = k->recipients;
  g->pending = k->pending;
  g->optout = k->optout;
  g->duplicate = k->duplicate;
  g->invalid = k->invalid;
  g->queued = k->queued;
  g->sent = k->sent;
  g->delivered = k->delivered;
  g->failed = k->failed;
  g->canceled = k->canceled;
}

static void kres_cb(sg_store_t *st, int status, const sg_store_campres_t *res,
                    void *data) {
  (void)st;
  kgot_t *g = data;
  memset(g, 0, sizeof *g);
  g->calls = 1;
  g->status = status;
  if (res == NULL)
    return;
  g->bad_list = res->bad_list;
  g->n = res->n_campaigns;
  g->changed = res->changed;
  g->expanded = res->expanded;
  g->more = res->more;
  g->rel = res->rel;
  memcpy(g->next_after, res->next_after, sizeof g->next_after);
  if (res->n_campaigns > 0)
    copy_campaign(g, &res->campaigns[0]);
  g->n_rcpts = res->n_rcpts;
  for (size_t i = 0; i < res->n_rcpts && i < 64; i++) {
    g->rids[i] = res->rcpts[i].id;
    snprintf(g->numbers[i], 24, "%s", res->rcpts[i].number);
    snprintf(g->names[i], 24, "%s",
             res->rcpts[i].name ? res->rcpts[i].name : "-");
  }
}

static int op_wait(ctx_t *c, const sg_store_campop_t *op, kgot_t *g) {
  memset(g, 0, sizeof *g);
  int rc = sg_store_campaigns(c->st, op, kres_cb, g);
  if (rc != 0)
    return rc;
  run_until(c, &g->calls, 1);
  return g->status;
}

/* Account 1: list 1 = contacts 1..5, list 2 = contacts 4..7 (4 and 5 in
 * both), contact 2 opted out; account 2: list 3 with contact 8. Template 1
 * of account 1, template 2 of account 2. */
static void seed(ctx_t *c) {
  raw_exec(c, "INSERT INTO contacts (id, account_id, number, name, "
              "created_ms, updated_ms) VALUES "
              "(1, 1, '+14155550101', 'Ann', 0, 0),"
              "(2, 1, '+14155550102', 'Bob', 0, 0),"
              "(3, 1, '+14155550103', NULL, 0, 0),"
              "(4, 1, '+14155550104', 'Dan', 0, 0),"
              "(5, 1, '+14155550105', 'Eve', 0, 0),"
              "(6, 1, '+14155550106', 'Fay', 0, 0),"
              "(7, 1, '+14155550107', 'Gus', 0, 0),"
              "(8, 2, '+14155550108', 'Hal', 0, 0);"
              "INSERT INTO contact_lists (id, account_id, name, created_ms, "
              "updated_ms) VALUES (1, 1, 'a', 0, 0), (2, 1, 'b', 0, 0), "
              "(3, 2, 'c', 0, 0);"
              "INSERT INTO list_members (list_id, contact_id, added_ms) "
              "VALUES (1, 1, 0), (1, 2, 0), (1, 3, 0), (1, 4, 0), (1, 5, 0),"
              "(2, 4, 0), (2, 5, 0), (2, 6, 0), (2, 7, 0), (3, 8, 0);"
              "INSERT INTO optouts (account_id, number, source, created_ms) "
              "VALUES (1, '+14155550102', 'api', 0);"
              "INSERT INTO templates (id, account_id, name, body, created_ms, "
              "updated_ms) VALUES (1, 1, 't', 'Hi {{name}}', 0, 0), "
              "(2, 2, 'u', 'Other', 0, 0);");
}

static int create(ctx_t *c, int64_t acct, const int64_t *lists, size_t n,
                  const char *body, int64_t tpl, kgot_t *g) {
  sg_store_campop_t op = {.kind = SG_STORE_CAMPAIGN_CREATE, .account_id = acct};
  char id[SG_ID_LEN + 1];
  sg_id_new(id);
  op.in = (sg_store_campaign_in_t){.id = id,
                                   .name = "spring",
                                   .body = body,
                                   .template_id = tpl,
                                   .window_start = -1,
                                   .window_end = -1,
                                   .lists = lists,
                                   .n_lists = n};
  return op_wait(c, &op, g);
}

static int simple(ctx_t *c, sg_store_campop_kind_t kind, const char *id,
                  kgot_t *g) {
  sg_store_campop_t op = {.kind = kind, .id = id};
  return op_wait(c, &op, g);
}

static void create_checks_refs(void **state) {
  ctx_t *c = *state;
  open_store(c);
  seed(c);
  kgot_t g;
  int64_t lists[] = {1, 2};
  assert_int_equal(create(c, 1, lists, 2, NULL, 1, &g), 0);
  assert_int_equal(g.st, SG_CAMPAIGN_SCHEDULED);
  assert_string_equal(g.body, "Hi {{name}}"); /* the template's body, copied */
  assert_int_equal(g.n_lists, 2);
  char id[SG_ID_LEN + 1];
  memcpy(id, g.id, sizeof id);

  int64_t other[] = {1, 3}; /* list 3 is account 2's */
  assert_int_equal(create(c, 1, other, 2, "x", 0, &g), SG_ENOENT);
  assert_int_equal(g.bad_list, 3);
  int64_t missing[] = {99};
  assert_int_equal(create(c, 1, missing, 1, "x", 0, &g), SG_ENOENT);
  assert_int_equal(g.bad_list, 99);
  assert_int_equal(create(c, 1, lists, 1, NULL, 2, &g), SG_ENOENT);
  assert_int_equal(g.bad_list, 0); /* template 2 is account 2's */
  assert_int_equal(q1(c, "SELECT count(*) FROM campaigns"), 1);

  sg_store_campop_t op = {
      .kind = SG_STORE_CAMPAIGN_GET, .account_id = 2, .id = id};
  assert_int_equal(op_wait(c, &op, &g), SG_ENOENT);
  op.account_id = 0;
  assert_int_equal(op_wait(c, &op, &g), 0);
  assert_string_equal(g.id, id);

  assert_int_equal(create(c, 1, lists, 2, "second", 0, &g), 0);
  assert_int_equal(create(c, 1, lists, 2, "third", 0, &g), 0);
  op = (sg_store_campop_t){
      .kind = SG_STORE_CAMPAIGN_LIST, .account_id = 1, .limit = 2};
  assert_int_equal(op_wait(c, &op, &g), 0);
  assert_int_equal(g.n, 2);
  assert_string_equal(g.body, "third"); /* newest first */
  assert_true(g.next_after[0] != '\0');
  char after[SG_ID_LEN + 1];
  memcpy(after, g.next_after, sizeof after);
  op.after = after;
  assert_int_equal(op_wait(c, &op, &g), 0);
  assert_int_equal(g.n, 1);
  assert_string_equal(g.id, id);
  assert_string_equal(g.next_after, "");
}

static void expand_dedups_in_chunks(void **state) {
  ctx_t *c = *state;
  open_store(c);
  seed(c);
  kgot_t g;
  int64_t lists[] = {1, 2};
  assert_int_equal(create(c, 1, lists, 2, "hello", 0, &g), 0);
  char id[SG_ID_LEN + 1];
  memcpy(id, g.id, sizeof id);
  sg_store_campop_t op = {
      .kind = SG_STORE_CAMPAIGN_EXPAND, .id = id, .limit = 3};
  assert_int_equal(op_wait(c, &op, &g), SG_ESTATE); /* not started */
  assert_int_equal(simple(c, SG_STORE_CAMPAIGN_START, id, &g), 0);
  assert_int_equal(g.st, SG_CAMPAIGN_RUNNING);
  size_t total = 0, calls = 0;
  do {
    assert_int_equal(op_wait(c, &op, &g), 0);
    assert_true(g.changed <= 3);
    total += g.changed;
    calls++;
  } while (!g.expanded && calls < 20);
  assert_true(g.expanded);
  assert_int_equal(total, 9); /* 5 + 4 memberships */
  assert_int_equal(simple(c, SG_STORE_CAMPAIGN_GET, id, &g), 0);
  assert_int_equal(g.recipients, 9);
  assert_int_equal(g.duplicate, 2); /* contacts 4 and 5 again */
  assert_int_equal(g.optout, 1);    /* contact 2 */
  assert_int_equal(g.pending, 6);
  assert_int_equal(q1(c, "SELECT count(*) FROM campaign_recipients"), 7);
  assert_int_equal(q1(c, "SELECT count(DISTINCT number) FROM "
                         "campaign_recipients"),
                   7);
  /* Expanding an expanded campaign takes nothing. */
  assert_int_equal(op_wait(c, &op, &g), 0);
  assert_int_equal(g.changed, 0);
  assert_true(g.expanded);
}

static void status_rules(void **state) {
  ctx_t *c = *state;
  open_store(c);
  seed(c);
  kgot_t g;
  int64_t lists[] = {1};
  assert_int_equal(create(c, 1, lists, 1, "x", 0, &g), 0);
  char id[SG_ID_LEN + 1];
  memcpy(id, g.id, sizeof id);
  assert_int_equal(simple(c, SG_STORE_CAMPAIGN_RESUME, id, &g), SG_ESTATE);
  assert_int_equal(g.st, SG_CAMPAIGN_SCHEDULED);
  assert_int_equal(simple(c, SG_STORE_CAMPAIGN_PAUSE, id, &g), 0);
  assert_int_equal(g.st, SG_CAMPAIGN_PAUSED);
  /* Never started: resumes to scheduled. */
  assert_int_equal(simple(c, SG_STORE_CAMPAIGN_RESUME, id, &g), 0);
  assert_int_equal(g.st, SG_CAMPAIGN_SCHEDULED);
  assert_int_equal(simple(c, SG_STORE_CAMPAIGN_START, id, &g), 0);
  assert_int_equal(simple(c, SG_STORE_CAMPAIGN_START, id, &g), SG_ESTATE);
  assert_int_equal(simple(c, SG_STORE_CAMPAIGN_PAUSE, id, &g), 0);
  assert_int_equal(simple(c, SG_STORE_CAMPAIGN_RESUME, id, &g), 0);
  assert_int_equal(g.st, SG_CAMPAIGN_RUNNING);
  /* Not expanded: not complete. */
  assert_int_equal(simple(c, SG_STORE_CAMPAIGN_COMPLETE, id, &g), SG_ESTATE);
  assert_int_equal(simple(c, SG_STORE_CAMPAIGN_CANCEL, id, &g), 0);
  assert_int_equal(g.st, SG_CAMPAIGN_CANCELLED);
  assert_int_equal(simple(c, SG_STORE_CAMPAIGN_RESUME, id, &g), SG_ESTATE);
  assert_int_equal(simple(c, SG_STORE_CAMPAIGN_CANCEL, id, &g), SG_ESTATE);
  char none[SG_ID_LEN + 1];
  sg_id_new(none);
  assert_int_equal(simple(c, SG_STORE_CAMPAIGN_PAUSE, none, &g), SG_ENOENT);
  /* Another account's campaign is missing for it. */
  sg_store_campop_t op = {
      .kind = SG_STORE_CAMPAIGN_PAUSE, .account_id = 2, .id = id};
  assert_int_equal(op_wait(c, &op, &g), SG_ENOENT);
}

static char g_id[SG_ID_LEN + 1];

static void started_expanded(ctx_t *c, bool tpl) {
  seed(c);
  kgot_t g;
  int64_t lists[] = {1, 2};
  assert_int_equal(create(c, 1, lists, 2, tpl ? NULL : "x", tpl ? 1 : 0, &g),
                   0);
  memcpy(g_id, g.id, sizeof g_id);
  assert_int_equal(simple(c, SG_STORE_CAMPAIGN_START, g_id, &g), 0);
  sg_store_campop_t op = {.kind = SG_STORE_CAMPAIGN_EXPAND, .id = g_id};
  assert_int_equal(op_wait(c, &op, &g), 0);
  assert_true(g.expanded);
}

static void take_release_recover(void **state) {
  ctx_t *c = *state;
  open_store(c);
  started_expanded(c, true);
  kgot_t g;
  sg_store_campop_t op = {.kind = SG_STORE_CAMPAIGN_PENDING,
                          .id = g_id,
                          .limit = 4,
                          .with_contact = true};
  assert_int_equal(op_wait(c, &op, &g), 0);
  assert_int_equal(g.n_rcpts, 4); /* not the opted-out +...102 */
  assert_string_equal(g.numbers[0], "+14155550101");
  assert_string_equal(g.names[0], "Ann");
  assert_string_equal(g.numbers[1], "+14155550103");
  assert_string_equal(g.names[1], "-");
  int64_t ids[3] = {g.rids[0], g.rids[1], g.rids[2]};
  int64_t fourth = g.rids[3];
  op = (sg_store_campop_t){
      .kind = SG_STORE_CAMPAIGN_TAKE, .id = g_id, .ids = ids, .n_ids = 3};
  assert_int_equal(op_wait(c, &op, &g), 0);
  assert_int_equal(g.rel, 1);
  assert_int_equal(g.changed, 3);
  /* Taken ones are not taken again, nor pending. */
  assert_int_equal(op_wait(c, &op, &g), 0);
  assert_int_equal(g.rel, 2);
  assert_int_equal(g.changed, 0);
  op = (sg_store_campop_t){.kind = SG_STORE_CAMPAIGN_PENDING, .id = g_id};
  assert_int_equal(op_wait(c, &op, &g), 0);
  assert_int_equal(g.n_rcpts, 3);
  assert_int_equal(g.rids[0], fourth);
  /* Read back while taken (after a restart). */
  op = (sg_store_campop_t){.kind = SG_STORE_CAMPAIGN_RELEASING, .id = g_id};
  assert_int_equal(op_wait(c, &op, &g), 0);
  assert_int_equal(g.rel, 1);
  assert_int_equal(g.n_rcpts, 3);
  assert_int_equal(g.rids[2], ids[2]);
  int64_t bad = ids[1];
  op = (sg_store_campop_t){.kind = SG_STORE_CAMPAIGN_RELEASED,
                           .id = g_id,
                           .rel = 1,
                           .ids = &bad,
                           .n_ids = 1};
  assert_int_equal(op_wait(c, &op, &g), 0);
  assert_int_equal(g.changed, 3);
  op = (sg_store_campop_t){.kind = SG_STORE_CAMPAIGN_RELEASING, .id = g_id};
  assert_int_equal(op_wait(c, &op, &g), 0);
  assert_int_equal(g.rel, 0);
  assert_int_equal(g.n_rcpts, 0);
  assert_int_equal(simple(c, SG_STORE_CAMPAIGN_GET, g_id, &g), 0);
  assert_int_equal(g.pending, 3);
  assert_int_equal(g.invalid, 1);
  assert_int_equal(q1(c, "SELECT count(*) FROM campaign_recipients WHERE "
                         "state = 2"),
                   2);
}

static void counters_follow_messages(void **state) {
  ctx_t *c = *state;
  open_store(c);
  started_expanded(c, false);
  tmsg_t m[3];
  tmsg_init(&m[0], "+14155550101", 1, "op");
  tmsg_init(&m[1], "+14155550103", 1, "op");
  tmsg_init(&m[2], "+14155550104", 1, "op");
  sg_store_batch_t proto = {0};
  memcpy(proto.batch_id, g_id, sizeof proto.batch_id);
  assert_int_equal(submit_wait(c, m, 3, &proto, NULL), 0);
  tmsg_t other;
  tmsg_init(&other, "+14155550105", 1, "op"); /* of no campaign */
  assert_int_equal(submit_wait(c, &other, 1, NULL, NULL), 0);
  kgot_t g;
  assert_int_equal(simple(c, SG_STORE_CAMPAIGN_GET, g_id, &g), 0);
  assert_int_equal(g.queued, 3);
  /* The first two go out (queued to sending: no counter moves), both are
   * sent and the first is delivered, through the store's own requests. */
  claim_got_t cg;
  claim_wait(c, "op", 2, &cg);
  assert_int_equal(cg.n, 2);
  assert_int_equal(simple(c, SG_STORE_CAMPAIGN_GET, g_id, &g), 0);
  assert_int_equal(g.queued, 3);
  sg_store_result_in_t r[2];
  for (size_t i = 0; i < 2; i++)
    r[i] = (sg_store_result_in_t){.part_id = cg.parts[i].part_id,
                                  .attempt = 1,
                                  .outcome = SG_STORE_SENT,
                                  .smsc_id = i == 0 ? "s1" : "s2"};
  items_got_t ig;
  results_wait(c, r, 2, &ig);
  assert_int_equal(simple(c, SG_STORE_CAMPAIGN_GET, g_id, &g), 0);
  assert_int_equal(g.queued, 1);
  assert_int_equal(g.sent, 2);
  sg_store_receipt_in_t d = {
      .connector = "op", .smsc_id = "s1", .status = SG_MSG_DELIVERED};
  receipts_wait(c, &d, 1, &ig);
  assert_int_equal(ig.items[0].msg_status, SG_MSG_DELIVERED);
  char sql[160];
  assert_int_equal(simple(c, SG_STORE_CAMPAIGN_GET, g_id, &g), 0);
  assert_int_equal(g.queued, 1);
  assert_int_equal(g.sent, 1);
  assert_int_equal(g.delivered, 1);
  /* Cancel steps of one message each: the queued one is canceled. */
  sg_store_campop_t op = {
      .kind = SG_STORE_CAMPAIGN_CANCEL_STEP, .id = g_id, .limit = 1};
  assert_int_equal(op_wait(c, &op, &g), 0);
  assert_int_equal(g.changed, 1);
  assert_false(g.more);
  assert_int_equal(simple(c, SG_STORE_CAMPAIGN_GET, g_id, &g), 0);
  assert_int_equal(g.queued, 0);
  assert_int_equal(g.canceled, 1);
  assert_int_equal(g.sent, 1);
  snprintf(sql, sizeof sql, "SELECT status FROM messages WHERE id = '%s'",
           other.m.id);
  assert_string_equal(q1s(c, sql), "queued");
}

/* Submits n messages of one part in batch `batch`. */
static void submit_in(ctx_t *c, const char *batch, size_t n) {
  tmsg_t m[4];
  assert_true(n <= 4);
  for (size_t i = 0; i < n; i++)
    tmsg_init(&m[i], "+14155550101", 1, "op");
  sg_store_batch_t proto = {0};
  memcpy(proto.batch_id, batch, sizeof proto.batch_id);
  assert_int_equal(submit_wait(c, m, n, &proto, NULL), 0);
}

static long long queued_of(ctx_t *c, const char *id) {
  char sql[128];
  snprintf(sql, sizeof sql, "SELECT n_queued FROM campaigns WHERE id = '%s'",
           id);
  return q1(c, sql);
}

/* A campaign's row made by another writer of the database (another node,
 * or the store before a restart). */
static void insert_campaign(ctx_t *c, const char *id) {
  char sql[256];
  snprintf(sql, sizeof sql,
           "INSERT INTO campaigns (id, account_id, name, status, body, "
           "created_ms, updated_ms) VALUES ('%s', 1, 'n', 'running', 'x', "
           "0, 0)",
           id);
  raw_exec(c, sql);
}

/* The writer looks no campaign up while there is none; a campaign that
 * appears (made by another node on the same database, while this store
 * is open, or before it was opened) counts its messages from the first
 * one stored after it, and so does one made after a restart, and one made
 * by another node while the writer already holds campaigns' ids. */
static void counters_when_campaigns_appear(void **state) {
  ctx_t *c = *state;
  char none[SG_ID_LEN + 1], other[SG_ID_LEN + 1], later[SG_ID_LEN + 1],
      second[SG_ID_LEN + 1];
  sg_id_new(none);
  sg_id_new(other);
  sg_id_new(later);
  sg_id_new(second);
  open_store(c);
  submit_in(c, none, 2);     /* no campaign at all */
  insert_campaign(c, other); /* by another node, while this one is open */
  submit_in(c, other, 2);
  assert_int_equal(queued_of(c, other), 2);
  insert_campaign(c, second); /* another, with one known already */
  submit_in(c, second, 2);
  submit_in(c, other, 1);
  assert_int_equal(queued_of(c, second), 2);
  assert_int_equal(queued_of(c, other), 3);
  close_store(c);
  open_store(c); /* a restart with a campaign in the table */
  submit_in(c, other, 1);
  assert_int_equal(queued_of(c, other), 4);
  close_store(c);
  raw_exec(c, "DELETE FROM campaigns"); /* none again at the next start */
  open_store(c);
  submit_in(c, none, 1);
  insert_campaign(c, later);
  submit_in(c, later, 3);
  assert_int_equal(queued_of(c, later), 3);
}

/* A campaign request in the same group as its messages' changes reads the
 * counters with them: two messages stored and a pause of the campaign,
 * sharing a commit, answer the campaign with both queued. */
static void counters_read_in_the_same_group(void **state) {
  ctx_t *c = *state;
  sg_store_config_t cfg = test_config(c);
  cfg.max_wait_us = 300000; /* so that both requests share a commit */
  assert_int_equal(open_with(c, &cfg), 0);
  char k[SG_ID_LEN + 1];
  sg_id_new(k);
  insert_campaign(c, k);
  tmsg_t m[2];
  sg_store_msg_in_t in[2];
  for (int i = 0; i < 2; i++) {
    tmsg_init(&m[i], "+14155550101", 1, "op");
    in[i] = m[i].m;
  }
  sg_store_batch_t b = {.account_id = 1, .msgs = in, .n_msgs = 2};
  memcpy(b.batch_id, k, sizeof b.batch_id);
  got_t sg = {0};
  kgot_t g;
  memset(&g, 0, sizeof g);
  sg_store_stats_t s0, s1;
  sg_store_get_stats(c->st, &s0);
  assert_int_equal(sg_store_submit(c->st, &b, submit_cb, &sg), 0);
  sg_store_campop_t op = {
      .kind = SG_STORE_CAMPAIGN_PAUSE, .id = k, .error = "paused"};
  assert_int_equal(sg_store_campaigns(c->st, &op, kres_cb, &g), 0);
  while (sg.calls + g.calls < 2)
    uv_run(&c->loop, UV_RUN_ONCE);
  sg_store_get_stats(c->st, &s1);
  assert_int_equal(s1.commits - s0.commits, 1);
  assert_int_equal(sg.status, 0);
  assert_int_equal(g.status, 0);
  assert_int_equal(g.st, SG_CAMPAIGN_PAUSED);
  assert_int_equal(g.queued, 2);
  assert_int_equal(queued_of(c, k), 2);
}

/* A cancel open across a restart: ACTIVE returns the cancelled campaign
 * until its cancel steps end; they cancel its queued message, release the
 * taken recipient whose message was stored (its submit committed before
 * the crash), and end the unsent ones (taken with no message, or pending)
 * as cancelled, counted in `canceled` instead of `pending`. A cancel step
 * after that changes nothing, and one on a campaign with no open cancel
 * leaves its recipients pending. */
static void cancel_ends_unsent(void **state) {
  ctx_t *c = *state;
  open_store(c);
  started_expanded(c, false);
  kgot_t g;
  sg_store_campop_t op = {.kind = SG_STORE_CAMPAIGN_PENDING, .id = g_id};
  assert_int_equal(op_wait(c, &op, &g), 0);
  assert_int_equal(g.n_rcpts, 6);
  int64_t ids[3] = {g.rids[0], g.rids[1], g.rids[2]};
  char first[16];
  snprintf(first, sizeof first, "%.15s", g.numbers[0]);
  /* A step before any cancel: nothing happens to the recipients. */
  op = (sg_store_campop_t){
      .kind = SG_STORE_CAMPAIGN_CANCEL_STEP, .id = g_id, .limit = 500};
  assert_int_equal(op_wait(c, &op, &g), 0);
  assert_false(g.more);
  assert_int_equal(simple(c, SG_STORE_CAMPAIGN_GET, g_id, &g), 0);
  assert_int_equal(g.pending, 6);
  /* rel 1 = the first two, whose submit stored the first's message; rel 2
   * = the third, never submitted. */
  op = (sg_store_campop_t){
      .kind = SG_STORE_CAMPAIGN_TAKE, .id = g_id, .ids = ids, .n_ids = 2};
  assert_int_equal(op_wait(c, &op, &g), 0);
  op = (sg_store_campop_t){
      .kind = SG_STORE_CAMPAIGN_TAKE, .id = g_id, .ids = &ids[2], .n_ids = 1};
  assert_int_equal(op_wait(c, &op, &g), 0);
  tmsg_t m;
  tmsg_init(&m, first, 1, "op");
  sg_store_batch_t proto = {0};
  memcpy(proto.batch_id, g_id, sizeof proto.batch_id);
  assert_int_equal(submit_wait(c, &m, 1, &proto, NULL), 0);

  assert_int_equal(simple(c, SG_STORE_CAMPAIGN_CANCEL, g_id, &g), 0);
  op = (sg_store_campop_t){.kind = SG_STORE_CAMPAIGN_ACTIVE};
  assert_int_equal(op_wait(c, &op, &g), 0);
  assert_int_equal(g.n, 1); /* cancelled, its cancel still open */
  assert_int_equal(g.st, SG_CAMPAIGN_CANCELLED);

  op = (sg_store_campop_t){
      .kind = SG_STORE_CAMPAIGN_CANCEL_STEP, .id = g_id, .limit = 500};
  assert_int_equal(op_wait(c, &op, &g), 0);
  assert_int_equal(g.changed, 1); /* the queued message */
  assert_false(g.more);
  assert_int_equal(simple(c, SG_STORE_CAMPAIGN_GET, g_id, &g), 0);
  assert_int_equal(g.pending, 0);
  assert_int_equal(g.queued, 0);
  assert_int_equal(g.canceled, 6); /* the message and 5 unsent */
  assert_int_equal(g.recipients, 9);
  assert_int_equal(q1(c, "SELECT count(*) FROM campaign_recipients WHERE "
                         "state = 2"),
                   1);
  assert_int_equal(q1(c, "SELECT count(*) FROM campaign_recipients WHERE "
                         "state = 5"),
                   5);
  op = (sg_store_campop_t){.kind = SG_STORE_CAMPAIGN_ACTIVE};
  assert_int_equal(op_wait(c, &op, &g), 0);
  assert_int_equal(g.n, 0);
  /* Again: nothing left to do, the counters stay. */
  op = (sg_store_campop_t){
      .kind = SG_STORE_CAMPAIGN_CANCEL_STEP, .id = g_id, .limit = 500};
  assert_int_equal(op_wait(c, &op, &g), 0);
  assert_int_equal(g.changed, 0);
  assert_false(g.more);
  assert_int_equal(simple(c, SG_STORE_CAMPAIGN_GET, g_id, &g), 0);
  assert_int_equal(g.canceled, 6);
  assert_int_equal(g.pending, 0);
}

static void bad_operations(void **state) {
  ctx_t *c = *state;
  open_store(c);
  kgot_t g;
  int64_t lists[] = {1};
  sg_store_campop_t op = {.kind = SG_STORE_CAMPAIGN_CREATE, .account_id = 1};
  op.in = (sg_store_campaign_in_t){.id = "01ARZ3NDEKTSV4RRFFQ69G5FAV",
                                   .name = "n",
                                   .body = "x",
                                   .window_start = 600,
                                   .window_end = 600,
                                   .lists = lists,
                                   .n_lists = 1};
  assert_int_equal(op_wait(c, &op, &g), SG_EINVAL); /* empty window */
  op.in.window_start = 1441;
  assert_int_equal(op_wait(c, &op, &g), SG_EINVAL);
  op.in.window_start = -1;
  op.in.template_id = 1; /* both a text and a template */
  assert_int_equal(op_wait(c, &op, &g), SG_EINVAL);
  op.in.template_id = 0;
  op.in.n_lists = 0;
  assert_int_equal(op_wait(c, &op, &g), SG_EINVAL);
  op.in.n_lists = 1;
  op.account_id = 0;
  assert_int_equal(op_wait(c, &op, &g), SG_EINVAL);
  op = (sg_store_campop_t){.kind = SG_STORE_CAMPAIGN_TAKE,
                           .id = "01ARZ3NDEKTSV4RRFFQ69G5FAV"};
  assert_int_equal(op_wait(c, &op, &g), SG_EINVAL); /* no ids */
  op = (sg_store_campop_t){.kind = SG_STORE_CAMPAIGN_GET, .id = "short"};
  assert_int_equal(op_wait(c, &op, &g), SG_EINVAL);
  op = (sg_store_campop_t){.kind = SG_STORE_CAMPAIGN_LIST, .limit = 5000};
  assert_int_equal(op_wait(c, &op, &g), SG_EINVAL);
  assert_null(sg_campaign_status_name((sg_campaign_status_t)9));
  sg_campaign_status_t s;
  assert_int_equal(sg_campaign_status_parse("paused", &s), 0);
  assert_int_equal(s, SG_CAMPAIGN_PAUSED);
  assert_int_equal(sg_campaign_status_parse("done", &s), SG_EINVAL);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(create_checks_refs, setup, teardown),
      cmocka_unit_test_setup_teardown(expand_dedups_in_chunks, setup, teardown),
      cmocka_unit_test_setup_teardown(status_rules, setup, teardown),
      cmocka_unit_test_setup_teardown(take_release_recover, setup, teardown),
      cmocka_unit_test_setup_teardown(counters_follow_messages, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(counters_when_campaigns_appear, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(counters_read_in_the_same_group, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(cancel_ends_unsent, setup, teardown),
      cmocka_unit_test_setup_teardown(bad_operations, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
