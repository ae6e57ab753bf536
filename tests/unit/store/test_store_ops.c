/* test_store_ops.c - the operators' requests of store/store_ops.h on a
 * temporary SQLite store: the queues by connector and status with the age
 * of their oldest message, a purge in bounded transactions that fails only
 * queued parts (its events, message status and webhook), a retry of a
 * message that ended badly (and the refusals of one that did not), the
 * outcomes by account, connector and error code, and the arguments each
 * request refuses at once. */
#include "store_fixture.h"

#include "store/store_ops.h"

typedef struct ops_got {
  int calls, status;
  sg_store_queue_row_t rows[16];
  char names[16][32];
  size_t n;
  sg_store_purge_res_t purge;
  sg_store_retry_res_t retry;
  bool has_retry;
  sg_store_outcome_row_t outcomes[16];
} ops_got_t;

static void queues_cb(sg_store_t *st, int status,
                      const sg_store_queue_row_t *rows, size_t n, void *data) {
  (void)st;
  ops_got_t *g = data;
  g->status = status;
  g->n = n;
  for (size_t i = 0; i < n && i < 16; i++) {
    g->rows[i] = rows[i];
    snprintf(g->names[i], sizeof g->names[i], "%s", rows[i].connector);
    g->rows[i].connector = g->names[i];
  }
  g->calls++;
}

static void queues_wait(ctx_t *c, const char *conn, ops_got_t *g) {
  memset(g, 0, sizeof *g);
  assert_int_equal(sg_store_queues(c->st, conn, queues_cb, g), 0);
  run_until(c, &g->calls, 1);
  assert_int_equal(g->status, 0);
}

static void purge_cb(sg_store_t *st, int status,
                     const sg_store_purge_res_t *res, void *data) {
  (void)st;
  ops_got_t *g = data;
  g->status = status;
  if (res != NULL)
    g->purge = *res;
  g->calls++;
}

static void purge_wait(ctx_t *c, const char *conn, unsigned max, ops_got_t *g) {
  memset(g, 0, sizeof *g);
  assert_int_equal(
      sg_store_queue_purge(c->st, conn, "operator outage", max, purge_cb, g),
      0);
  run_until(c, &g->calls, 1);
  assert_int_equal(g->status, 0);
}

static void retry_cb(sg_store_t *st, int status,
                     const sg_store_retry_res_t *res, void *data) {
  (void)st;
  ops_got_t *g = data;
  g->status = status;
  g->has_retry = res != NULL;
  if (res != NULL)
    g->retry = *res;
  g->calls++;
}

static int retry_wait(ctx_t *c, const char *id, ops_got_t *g) {
  memset(g, 0, sizeof *g);
  assert_int_equal(sg_store_message_retry(c->st, id, "again", retry_cb, g), 0);
  run_until(c, &g->calls, 1);
  return g->status;
}

static void outcomes_cb(sg_store_t *st, int status,
                        const sg_store_outcome_row_t *rows, size_t n,
                        void *data) {
  (void)st;
  ops_got_t *g = data;
  g->status = status;
  g->n = n;
  for (size_t i = 0; i < n && i < 16; i++) {
    g->outcomes[i] = rows[i];
    snprintf(g->names[i], sizeof g->names[i], "%s", rows[i].connector);
    g->outcomes[i].connector = g->names[i];
  }
  g->calls++;
}

/* op: m[0] (2 parts, with a callback URL), m[1], m[2]; b: m[3]. */
static void submit_four(ctx_t *c, tmsg_t m[4]) {
  tmsg_init(&m[0], "+4915112345600", 2, "op");
  m[0].m.callback_url = "http://127.0.0.1:9/hook";
  tmsg_init(&m[1], "+4915112345601", 1, "op");
  tmsg_init(&m[2], "+4915112345602", 1, "op");
  tmsg_init(&m[3], "+4915112345603", 1, "b");
  assert_int_equal(submit_wait(c, m, 4, NULL, NULL), 0);
}

static void queues_by_connector_and_status(void **state) {
  ctx_t *c = *state;
  open_store(c);
  tmsg_t m[4];
  submit_four(c, m);
  atomic_store(&fake_now, T0 + 5000);
  ops_got_t g;
  queues_wait(c, NULL, &g);
  assert_int_equal(g.n, 2);
  assert_string_equal(g.rows[0].connector, "b");
  assert_int_equal(g.rows[0].status, SG_MSG_QUEUED);
  assert_int_equal(g.rows[0].parts, 1);
  assert_string_equal(g.rows[1].connector, "op");
  assert_int_equal(g.rows[1].parts, 4);
  assert_int_equal(g.rows[1].oldest_ms, T0);
  claim_got_t cl;
  claim_wait(c, "op", 1, &cl);
  assert_int_equal(cl.n, 1);
  queues_wait(c, "op", &g);
  assert_int_equal(g.n, 2); /* queued, sending */
  uint64_t queued = 0, sending = 0;
  for (size_t i = 0; i < g.n; i++) {
    assert_string_equal(g.rows[i].connector, "op");
    queued += g.rows[i].status == SG_MSG_QUEUED ? g.rows[i].parts : 0;
    sending += g.rows[i].status == SG_MSG_SENDING ? g.rows[i].parts : 0;
  }
  assert_int_equal(queued, 3);
  assert_int_equal(sending, 1);
  queues_wait(c, "nope", &g);
  assert_int_equal(g.n, 0);
  assert_int_equal(sg_store_queues(c->st, "", queues_cb, &g), SG_EINVAL);
  assert_int_equal(sg_store_queues(c->st, NULL, NULL, &g), SG_EINVAL);
}

static void purge_fails_only_queued_parts(void **state) {
  ctx_t *c = *state;
  open_store(c);
  tmsg_t m[4];
  submit_four(c, m);
  claim_got_t cl;
  claim_wait(c, "op", 1, &cl); /* m[0] part 1 is being sent */
  ops_got_t g;
  assert_int_equal(sg_store_queue_purge(c->st, "op", "r", 0, purge_cb, &g),
                   SG_EINVAL);
  assert_int_equal(sg_store_queue_purge(c->st, "op", "", 5, purge_cb, &g),
                   SG_EINVAL);
  assert_int_equal(sg_store_queue_purge(c->st, "", "r", 5, purge_cb, &g),
                   SG_EINVAL);
  purge_wait(c, "op", 2, &g);
  assert_int_equal(g.purge.parts, 2);
  assert_true(g.purge.more);
  purge_wait(c, "op", 2, &g);
  assert_int_equal(g.purge.parts, 1);
  assert_false(g.purge.more);
  purge_wait(c, "op", 2, &g);
  assert_int_equal(g.purge.parts, 0);
  assert_int_equal(q1(c, "SELECT count(*) FROM parts WHERE status = 'failed' "
                         "AND error = 'operator outage'"),
                   3);
  assert_int_equal(q1(c, "SELECT count(*) FROM parts WHERE status = "
                         "'sending'"),
                   1);
  assert_int_equal(q1(c, "SELECT count(*) FROM parts WHERE connector = 'b' "
                         "AND status = 'queued'"),
                   1);
  char sql[256];
  snprintf(sql, sizeof sql,
           "SELECT count(*) FROM messages WHERE id IN ('%s', '%s') AND "
           "status = 'failed'",
           m[1].m.id, m[2].m.id);
  assert_int_equal(q1(c, sql), 2);
  snprintf(sql, sizeof sql,
           "SELECT count(*) FROM events WHERE message_id = '%s' AND "
           "part_seq IS NULL AND status = 'failed' AND detail = "
           "'operator outage'",
           m[1].m.id);
  assert_int_equal(q1(c, sql), 1);
  /* m[0]: part 2 failed, part 1 still sending: the message failed (its
   * worst part), with its webhook. */
  snprintf(sql, sizeof sql,
           "SELECT count(*) FROM webhooks WHERE message_id = '%s' AND "
           "instr(CAST(payload AS TEXT), '\"operator outage\"') > 0",
           m[0].m.id);
  assert_int_equal(q1(c, sql), 1);
  memset(&g, 0, sizeof g);
  assert_int_equal(sg_store_outcomes(c->st, outcomes_cb, &g), 0);
  run_until(c, &g.calls, 1);
  assert_int_equal(g.status, 0);
  assert_int_equal(g.n, 1);
  assert_int_equal(g.outcomes[0].account_id, 1);
  assert_string_equal(g.outcomes[0].connector, "op");
  assert_int_equal(g.outcomes[0].status, SG_MSG_FAILED);
  assert_int_equal(g.outcomes[0].error_code, 0);
  assert_int_equal(g.outcomes[0].parts, 3);
}

static void retry_queues_an_ended_message_again(void **state) {
  ctx_t *c = *state;
  open_store(c);
  tmsg_t m[4];
  submit_four(c, m);
  ops_got_t g;
  assert_int_equal(retry_wait(c, m[1].m.id, &g), SG_ESTATE);
  assert_true(g.has_retry);
  assert_int_equal(g.retry.before, SG_MSG_QUEUED);
  purge_wait(c, "op", 100, &g);
  assert_int_equal(g.purge.parts, 4);
  atomic_store(&fake_now, T0 + 60000);
  assert_int_equal(retry_wait(c, m[0].m.id, &g), 0);
  assert_int_equal(g.retry.before, SG_MSG_FAILED);
  assert_int_equal(g.retry.after, SG_MSG_QUEUED);
  assert_int_equal(g.retry.parts, 2);
  assert_string_equal(g.retry.connector, "op");
  char sql[256];
  snprintf(sql, sizeof sql,
           "SELECT count(*) FROM parts WHERE message_id = '%s' AND status = "
           "'queued' AND attempts = 0 AND error IS NULL AND expires_ms IS "
           "NULL AND updated_ms = %lld",
           m[0].m.id, T0 + 60000);
  assert_int_equal(q1(c, sql), 2);
  snprintf(sql, sizeof sql, "SELECT status FROM messages WHERE id = '%s'",
           m[0].m.id);
  assert_string_equal(q1s(c, sql), "queued");
  claim_got_t cl;
  claim_wait(c, "op", 10, &cl);
  assert_int_equal(cl.n, 2); /* claimable again, and only those */
  assert_int_equal(retry_wait(c, m[0].m.id, &g), SG_ESTATE);
  assert_int_equal(g.retry.before, SG_MSG_SENDING);
  char unknown[SG_ID_LEN + 1];
  sg_id_new(unknown);
  assert_int_equal(retry_wait(c, unknown, &g), SG_ENOENT);
  assert_false(g.has_retry);
  assert_int_equal(
      sg_store_message_retry(c->st, "not-an-id", "x", retry_cb, &g), SG_EINVAL);
  assert_int_equal(sg_store_message_retry(c->st, m[1].m.id, "", retry_cb, &g),
                   SG_EINVAL);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(queues_by_connector_and_status, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(purge_fails_only_queued_parts, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(retry_queues_an_ended_message_again,
                                      setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
