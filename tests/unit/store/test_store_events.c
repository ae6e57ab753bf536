/* test_store_events.c - the events of a message as a read shows them
 * (order, part, status, error code, detail, time: what GET
 * /v1/messages/{id}, the web page and `smsgate status` show) through every
 * kind of life: one part and several, sent and delivered, retried, failed,
 * expired, requeued after a lease ran out, released from a schedule,
 * canceled, a receipt before its SENT result; parts taken by a waiting
 * claim at their submit (SQLite: their message's 'sending' event is a mark
 * on the part, not a row), all or some of them, with and without a
 * webhook for 'sending'; files written before. The expected lists are what
 * the store wrote before a part's event could share the row of the message
 * event it caused, and they are the same on PostgreSQL, which keeps a row
 * for each. On SQLite a message of one part sent and delivered takes three
 * event rows where it took six (its first event is its message row).
 */
#include "store_fixture.h"

#include "store/migrations.h"

#define CONN "smsc-a"

/* The events of message mid, one a line: "-" or the part's seq, status,
 * error code, detail ("-": none), time after T0 in ms. */
typedef struct ev_got {
  int calls, status;
  char text[2048];
} ev_got_t;

static void ev_cb(sg_store_t *st, int status, const sg_store_message_t *m,
                  void *data) {
  (void)st;
  ev_got_t *g = data;
  g->status = status;
  size_t o = 0;
  for (size_t i = 0; status == 0 && i < m->n_events; i++) {
    const sg_store_event_t *e = &m->events[i];
    char seq[16] = "-";
    if (e->part_seq != 0)
      snprintf(seq, sizeof seq, "%u", e->part_seq);
    o += (size_t)snprintf(g->text + o, sizeof g->text - o, "%s %s %d %s %lld\n",
                          seq, sg_store_status_name(e->status), e->error_code,
                          e->detail ? e->detail : "-",
                          (long long)(e->time_ms - T0));
    const sg_store_event_t *b = i > 0 ? e - 1 : NULL;
    bool same_row = b != NULL && e->id == b->id && e->part_seq == 0 &&
                    b->part_seq != 0 && e->status == b->status;
    /* events shown from the message's rows or its parts' marks, not from
     * rows of events, have id 0; the others increase along the list */
    if (b != NULL && e->id != 0 && b->id != 0 && e->id <= b->id && !same_row)
      fail_msg("event %zu: id %lld after %lld", i, (long long)e->id,
               (long long)b->id);
    for (size_t j = 0; e->id != 0 && j < i; j++)
      if (m->events[j].id > e->id)
        fail_msg("event %zu: id %lld after %lld", i, (long long)e->id,
                 (long long)m->events[j].id);
    assert_true(o < sizeof g->text);
  }
  g->calls++;
}

static void expect_events(ctx_t *c, const char *mid, const char *want) {
  ev_got_t g = {0};
  assert_int_equal(sg_store_get_message(c->st, mid, 0, ev_cb, &g), 0);
  run_until(c, &g.calls, 1);
  assert_int_equal(g.status, 0);
  if (strcmp(g.text, want) != 0)
    fail_msg("events of %s:\n%s\nwant:\n%s", mid, g.text, want);
}

static long long event_rows(ctx_t *c, const char *mid) {
  char sql[128];
  snprintf(sql, sizeof sql,
           "SELECT count(*) FROM events WHERE message_id = "
           "'%s'",
           mid);
  return q1(c, sql);
}

static void at(int64_t dt) {
  atomic_store(&fake_now, T0 + dt);
}

static sg_store_result_in_t sent(const sg_store_claimed_t *p, const char *id) {
  sg_store_result_in_t r = {.part_id = p->part_id,
                            .attempt = p->attempt,
                            .outcome = SG_STORE_SENT,
                            .smsc_id = id};
  return r;
}

static sg_store_result_in_t retry(const sg_store_claimed_t *p, int64_t next) {
  sg_store_result_in_t r = {.part_id = p->part_id,
                            .attempt = p->attempt,
                            .outcome = SG_STORE_RETRY,
                            .next_attempt_ms = next,
                            .error_code = 0x58,
                            .detail = "ESME_RTHROTTLED"};
  return r;
}

static sg_store_receipt_in_t receipt(const char *smsc_id, sg_msg_status_t st,
                                     int32_t code, const char *detail,
                                     int64_t done_dt) {
  sg_store_receipt_in_t r = {.connector = CONN,
                             .smsc_id = smsc_id,
                             .status = st,
                             .error_code = code,
                             .detail = detail,
                             .done_ms = done_dt ? T0 + done_dt : 0};
  return r;
}

static sg_store_result_in_t rejected(const sg_store_claimed_t *p) {
  sg_store_result_in_t r = {.part_id = p->part_id,
                            .attempt = p->attempt,
                            .outcome = SG_STORE_FAILED,
                            .final_status = SG_MSG_REJECTED,
                            .error_code = 0x0B,
                            .detail = "ESME_RINVDSTADR"};
  return r;
}

/* The steps of a life, each at its time dt after T0 on the fake clock. */

/* A store opened and message m, made by message(), submitted at T0. */
static void start_with(ctx_t *c, tmsg_t *m) {
  open_store(c);
  at(0);
  assert_int_equal(submit_wait(c, m, 1, NULL, NULL), 0);
}

static void message(tmsg_t *m, unsigned parts) {
  tmsg_init(m, "+14155550100", parts, CONN);
}

/* The same for a message of parts with a callback URL. */
static void start(ctx_t *c, tmsg_t *m, unsigned parts) {
  message(m, parts);
  m->m.callback_url = "http://127.0.0.1:9/hook";
  start_with(c, m);
}

/* A claim on CONN that must hand out n parts. */
static void claim_at(ctx_t *c, int64_t dt, claim_got_t *cg, size_t n) {
  at(dt);
  claim_wait(c, CONN, 10, cg);
  assert_int_equal(cg->n, n);
}

/* A claim on a connector with no parts: the store's passes over its
 * leases, schedules and validity periods run, and hand out nothing. */
static void passes_at(ctx_t *c, int64_t dt) {
  at(dt);
  claim_got_t cg;
  claim_wait(c, "smsc-b", 10, &cg);
  assert_int_equal(cg.n, 0);
}

/* Results, each of which the store must take. */
static void results_at(ctx_t *c, int64_t dt, const sg_store_result_in_t *r,
                       size_t n) {
  at(dt);
  items_got_t ig;
  results_wait(c, r, n, &ig);
  for (size_t i = 0; i < n; i++)
    assert_int_equal(ig.items[i].status, 0);
}

static void result_at(ctx_t *c, int64_t dt, sg_store_result_in_t r) {
  results_at(c, dt, &r, 1);
}

static void receipt_at(ctx_t *c, int64_t dt, sg_store_receipt_in_t r) {
  at(dt);
  items_got_t ig;
  receipts_wait(c, &r, 1, &ig);
  assert_int_equal(ig.items[0].status, 0);
}

/* Sent, an intermediate report, delivered with the operator's time; the
 * operator's id as it gave it beside its key. */
static void one_part_delivered(void **state) {
  ctx_t *c = *state;
  tmsg_t m;
  start(c, &m, 1);
  claim_got_t cg;
  claim_at(c, 10, &cg, 1);
  sg_store_result_in_t r = sent(&cg.parts[0], "11259375");
  r.smsc_raw_id = "ABCDEF";
  result_at(c, 20, r);
  receipt_at(c, 30, receipt("11259375", SG_MSG_SENT, 0, "stat:ENROUTE", 0));
  receipt_at(c, 40,
             receipt("11259375", SG_MSG_DELIVERED, 0, "stat:DELIVRD", 35));
  expect_events(c, m.m.id,
                "- queued 0 - 0\n"
                "- sending 0 - 10\n"
                "1 sent 0 ABCDEF 20\n"
                "- sent 0 - 20\n"
                "1 sent 0 stat:ENROUTE 30\n"
                "1 delivered 0 stat:DELIVRD 35\n"
                "- delivered 0 stat:DELIVRD 40\n");
  /* The parts' sent and delivered share the message events' rows; the
   * first event is the message's row. */
  assert_int_equal(event_rows(c, m.m.id), pg_server() ? 7 : 4);
}

/* The plainest life: three rows where it took six. */
static void one_part_rows(void **state) {
  ctx_t *c = *state;
  tmsg_t m;
  start(c, &m, 1);
  claim_got_t cg;
  claim_at(c, 0, &cg, 1);
  result_at(c, 0, sent(&cg.parts[0], "x1"));
  receipt_at(c, 0, receipt("x1", SG_MSG_DELIVERED, 0, NULL, 0));
  expect_events(c, m.m.id,
                "- queued 0 - 0\n"
                "- sending 0 - 0\n"
                "1 sent 0 x1 0\n"
                "- sent 0 - 0\n"
                "1 delivered 0 - 0\n"
                "- delivered 0 - 0\n");
  assert_int_equal(event_rows(c, m.m.id), pg_server() ? 6 : 3);
  assert_int_equal(q1(c, "SELECT count(*) FROM events WHERE part_seq IS NULL"),
                   pg_server() ? 4 : 3);
}

/* A retry, a second attempt, a failure by receipt with its code. */
static void one_part_retry_undeliverable(void **state) {
  ctx_t *c = *state;
  tmsg_t m;
  start(c, &m, 1);
  claim_got_t cg;
  claim_at(c, 5, &cg, 1);
  result_at(c, 6, retry(&cg.parts[0], T0 + 100));
  claim_at(c, 100, &cg, 1);
  result_at(c, 120, sent(&cg.parts[0], "u1"));
  receipt_at(
      c, 130,
      receipt("u1", SG_MSG_UNDELIVERABLE, 1, "stat:UNDELIV err:001", 125));
  expect_events(c, m.m.id,
                "- queued 0 - 0\n"
                "- sending 0 - 5\n"
                "1 queued 88 ESME_RTHROTTLED 6\n"
                "- queued 0 ESME_RTHROTTLED 6\n"
                "- sending 0 - 100\n"
                "1 sent 0 u1 120\n"
                "- sent 0 - 120\n"
                "1 undeliverable 1 stat:UNDELIV err:001 125\n"
                "- undeliverable 1 stat:UNDELIV err:001 130\n");
}

/* A final failure as the connector's result. */
static void one_part_rejected(void **state) {
  ctx_t *c = *state;
  tmsg_t m;
  start(c, &m, 1);
  claim_got_t cg;
  claim_at(c, 7, &cg, 1);
  result_at(c, 9, rejected(&cg.parts[0]));
  expect_events(c, m.m.id,
                "- queued 0 - 0\n"
                "- sending 0 - 7\n"
                "1 rejected 11 ESME_RINVDSTADR 9\n"
                "- rejected 11 ESME_RINVDSTADR 9\n");
}

/* A lease that ran out puts the part back; then expiry before sending. */
static void one_part_requeued_then_expired(void **state) {
  ctx_t *c = *state;
  tmsg_t m;
  message(&m, 1);
  m.m.validity_ms = T0 + 200000;
  start_with(c, &m);
  claim_got_t cg;
  claim_at(c, 1, &cg, 1); /* a lease of 60 s */
  passes_at(c, 70000);
  passes_at(c, 300000);
  expect_events(c, m.m.id,
                "- queued 0 - 0\n"
                "- sending 0 - 1\n"
                "1 queued 0 lease ran out without a result 70000\n"
                "- queued 0 lease ran out without a result 70000\n"
                "1 expired 0 validity period ended before sending 300000\n"
                "- expired 0 validity period ended before sending 300000\n");
}

/* Scheduled, released, canceled: recorded on the message only. */
static void scheduled_released_canceled(void **state) {
  ctx_t *c = *state;
  tmsg_t m;
  message(&m, 2);
  m.m.send_at_ms = T0 + 50;
  start_with(c, &m);
  passes_at(c, 60);
  at(70);
  items_got_t ig = {0};
  assert_int_equal(sg_store_cancel(c->st, m.m.id, 0, items_cb, &ig), 0);
  run_until(c, &ig.calls, 1);
  assert_int_equal(ig.items[0].status, 0);
  expect_events(c, m.m.id,
                "- scheduled 0 - 0\n"
                "- queued 0 scheduled time reached 60\n"
                "- canceled 0 canceled by its sender 70\n");
}

/* Three parts: the parts that do not change the message keep their rows,
 * the last one shares the message event's. */
static void three_parts(void **state) {
  ctx_t *c = *state;
  tmsg_t m;
  start(c, &m, 3);
  claim_got_t cg;
  claim_at(c, 10, &cg, 3);
  sg_store_result_in_t r[3] = {sent(&cg.parts[0], "t1"),
                               sent(&cg.parts[1], "t2"),
                               retry(&cg.parts[2], T0 + 100)};
  results_at(c, 20, r, 3);
  claim_got_t again;
  claim_at(c, 100, &again, 1);
  result_at(c, 110, sent(&again.parts[0], "t3"));
  receipt_at(c, 120, receipt("t1", SG_MSG_DELIVERED, 0, NULL, 0));
  receipt_at(c, 130, receipt("t3", SG_MSG_DELIVERED, 0, "stat:DELIVRD", 0));
  receipt_at(c, 140, receipt("t2", SG_MSG_DELIVERED, 0, "stat:DELIVRD", 135));
  expect_events(c, m.m.id,
                "- queued 0 - 0\n"
                "- sending 0 - 10\n"
                "1 sent 0 t1 20\n"
                "2 sent 0 t2 20\n"
                "3 queued 88 ESME_RTHROTTLED 20\n"
                "- queued 0 ESME_RTHROTTLED 20\n"
                "- sending 0 - 100\n"
                "3 sent 0 t3 110\n"
                "- sent 0 - 110\n"
                "1 delivered 0 - 120\n"
                "3 delivered 0 stat:DELIVRD 130\n"
                "2 delivered 0 stat:DELIVRD 135\n"
                "- delivered 0 stat:DELIVRD 140\n");
}

/* Two parts, one rejected: the worst part's failure is the message's. */
static void two_parts_failure(void **state) {
  ctx_t *c = *state;
  tmsg_t m;
  start(c, &m, 2);
  claim_got_t cg;
  claim_at(c, 10, &cg, 2);
  sg_store_result_in_t r[2] = {sent(&cg.parts[0], "f1"),
                               rejected(&cg.parts[1])};
  results_at(c, 20, r, 2);
  receipt_at(c, 30, receipt("f1", SG_MSG_DELIVERED, 0, NULL, 0));
  expect_events(c, m.m.id,
                "- queued 0 - 0\n"
                "- sending 0 - 10\n"
                "1 sent 0 f1 20\n"
                "2 rejected 11 ESME_RINVDSTADR 20\n"
                "- rejected 11 ESME_RINVDSTADR 20\n"
                "1 delivered 0 - 30\n");
}

/* A receipt that came before its SENT result is held and applied then. */
static void receipt_before_result(void **state) {
  ctx_t *c = *state;
  tmsg_t m;
  start(c, &m, 1);
  claim_got_t cg;
  claim_at(c, 10, &cg, 1);
  at(15);
  items_got_t ig;
  sg_store_receipt_in_t d = receipt("o1", SG_MSG_DELIVERED, 0, "early", 12);
  receipts_wait(c, &d, 1, &ig);
  assert_true(ig.items[0].held);
  result_at(c, 20, sent(&cg.parts[0], "o1"));
  expect_events(c, m.m.id,
                "- queued 0 - 0\n"
                "- sending 0 - 10\n"
                "1 sent 0 o1 20\n"
                "- sent 0 - 20\n"
                "1 delivered 0 early 12\n"
                "- delivered 0 early 20\n");
}

/* Message m, made by message(), submitted at T0 while a claim of CONN with
 * room for `room` parts waits in the store: on SQLite it takes them at the
 * submit. PostgreSQL's claims never wait: it is answered at once, and a
 * claim at T0 after the submit takes them. *cg: the parts taken, n. */
static void start_taken(ctx_t *c, tmsg_t *m, unsigned room, claim_got_t *cg,
                        size_t n) {
  open_store(c);
  at(0);
  memset(cg, 0, sizeof *cg);
  assert_int_equal(
      sg_store_claim_wait(c->st, CONN, room, 60000, 5000, claim_cb, cg), 0);
  /* a write after it: once committed, the claim waits in the writer */
  tmsg_t other;
  tmsg_init(&other, "+14155550199", 1, "smsc-b");
  assert_int_equal(submit_wait(c, &other, 1, NULL, NULL), 0);
  bool waits = cg->calls == 0;
  assert_true(waits == (pg_server() == NULL));
  assert_int_equal(submit_wait(c, m, 1, NULL, NULL), 0);
  if (waits)
    run_until(c, &cg->calls, 1);
  else
    claim_wait(c, CONN, room, cg);
  assert_int_equal(cg->status, 0);
  assert_int_equal(cg->n, n);
}

/* SQLite: the parts that carry the 'sending' mark of message mid. */
static long long taken_marks(ctx_t *c, const char *mid) {
  char sql[128];
  snprintf(sql, sizeof sql,
           "SELECT count(*) FROM parts WHERE message_id = '%s' AND "
           "taken_event = 1",
           mid);
  return q1(c, sql);
}

/* A part taken at its submit, sent and delivered: the list of a part
 * claimed at the same time; two event rows on SQLite, as a claimed part's
 * three without its 'sending'. */
static void taken_one_part_delivered(void **state) {
  ctx_t *c = *state;
  tmsg_t m;
  message(&m, 1);
  m.m.callback_url = "http://127.0.0.1:9/hook";
  claim_got_t cg;
  start_taken(c, &m, 8, &cg, 1);
  assert_string_equal(cg.parts[0].message_id, m.m.id);
  result_at(c, 20, sent(&cg.parts[0], "d1"));
  receipt_at(c, 40, receipt("d1", SG_MSG_DELIVERED, 0, "stat:DELIVRD", 35));
  expect_events(c, m.m.id,
                "- queued 0 - 0\n"
                "- sending 0 - 0\n"
                "1 sent 0 d1 20\n"
                "- sent 0 - 20\n"
                "1 delivered 0 stat:DELIVRD 35\n"
                "- delivered 0 stat:DELIVRD 40\n");
  assert_int_equal(event_rows(c, m.m.id), pg_server() ? 6 : 2);
  if (!pg_server())
    assert_int_equal(taken_marks(c, m.m.id), 1);
}

/* Taken at the submit, retried, claimed again: the first 'sending' is the
 * mark, the second a row. */
static void taken_then_retried(void **state) {
  ctx_t *c = *state;
  tmsg_t m;
  message(&m, 1);
  claim_got_t cg;
  start_taken(c, &m, 8, &cg, 1);
  expect_events(c, m.m.id,
                "- queued 0 - 0\n"
                "- sending 0 - 0\n");
  result_at(c, 6, retry(&cg.parts[0], T0 + 100));
  claim_at(c, 100, &cg, 1);
  result_at(c, 120, sent(&cg.parts[0], "r1"));
  expect_events(c, m.m.id,
                "- queued 0 - 0\n"
                "- sending 0 - 0\n"
                "1 queued 88 ESME_RTHROTTLED 6\n"
                "- queued 0 ESME_RTHROTTLED 6\n"
                "- sending 0 - 100\n"
                "1 sent 0 r1 120\n"
                "- sent 0 - 120\n");
  assert_int_equal(event_rows(c, m.m.id), pg_server() ? 7 : 2);
}

/* Two parts, both taken: the mark is on the last. */
static void taken_two_parts(void **state) {
  ctx_t *c = *state;
  tmsg_t m;
  message(&m, 2);
  claim_got_t cg;
  start_taken(c, &m, 8, &cg, 2);
  sg_store_result_in_t r[2] = {sent(&cg.parts[0], "w1"),
                               sent(&cg.parts[1], "w2")};
  results_at(c, 20, r, 2);
  receipt_at(c, 30, receipt("w1", SG_MSG_DELIVERED, 0, NULL, 0));
  expect_events(c, m.m.id,
                "- queued 0 - 0\n"
                "- sending 0 - 0\n"
                "1 sent 0 w1 20\n"
                "2 sent 0 w2 20\n"
                "- sent 0 - 20\n"
                "1 delivered 0 - 30\n");
  assert_int_equal(event_rows(c, m.m.id), pg_server() ? 6 : 3);
  if (!pg_server()) {
    char sql[128];
    snprintf(sql, sizeof sql,
             "SELECT seq FROM parts WHERE message_id = '%s' AND "
             "taken_event = 1",
             m.m.id);
    assert_int_equal(q1(c, sql), 2);
  }
}

/* Two parts, room for one: the message stays 'queued' at its submit and
 * goes 'sending' when the next claim takes its second part; no mark. */
static void taken_one_of_two(void **state) {
  ctx_t *c = *state;
  tmsg_t m;
  message(&m, 2);
  claim_got_t cg;
  start_taken(c, &m, 1, &cg, 1);
  claim_got_t again;
  claim_at(c, 10, &again, 1);
  sg_store_result_in_t r[2] = {sent(&cg.parts[0], "h1"),
                               sent(&again.parts[0], "h2")};
  results_at(c, 20, r, 2);
  expect_events(c, m.m.id,
                "- queued 0 - 0\n"
                "- sending 0 - 10\n"
                "1 sent 0 h1 20\n"
                "2 sent 0 h2 20\n"
                "- sent 0 - 20\n");
  assert_int_equal(event_rows(c, m.m.id), pg_server() ? 5 : 3);
  if (!pg_server())
    assert_int_equal(taken_marks(c, m.m.id), 0);
}

/* A webhook asked for 'sending': the delivery refers to the event's row,
 * so the event keeps it. */
static void taken_with_sending_webhook(void **state) {
  ctx_t *c = *state;
  tmsg_t m;
  message(&m, 1);
  m.m.callback_url = "http://127.0.0.1:9/hook";
  m.m.webhook_statuses = SG_MSG_BIT(SG_MSG_SENDING) | SG_MSG_BIT(SG_MSG_SENT);
  claim_got_t cg;
  start_taken(c, &m, 8, &cg, 1);
  result_at(c, 20, sent(&cg.parts[0], "k1"));
  expect_events(c, m.m.id,
                "- queued 0 - 0\n"
                "- sending 0 - 0\n"
                "1 sent 0 k1 20\n"
                "- sent 0 - 20\n");
  assert_int_equal(event_rows(c, m.m.id), pg_server() ? 4 : 2);
  assert_int_equal(webhooks_pending(c), 2);
  if (!pg_server())
    assert_int_equal(taken_marks(c, m.m.id), 0);
}

#define OLD_MID "01HW0000000000000000000000"

/* A file of schema 25, before part events could share a row: a message of
 * one part sent, with its four event rows. It upgrades in place, its rows
 * read as they did, and its receipt is recorded the new way beside them.
 * SQLite only: the PostgreSQL store's rows did not change. */
static void rows_of_schema_25(void **state) {
  ctx_t *c = *state;
  if (pg_server() != NULL)
    skip();
  size_t applied = sqlite_schema_upto(c, 25);
  raw_exec(c,
           "INSERT INTO messages (id, batch_id, account_id, sender, recipient,"
           " encoding, body, status, parts_total, created_ms, updated_ms) "
           "VALUES ('" OLD_MID "', '01HW0000000000000000000001', 1, 'S', "
           "'+14155550100', 0, 'hi', 'queued', 1, 1700000000000, "
           "1700000000000);"
           "INSERT INTO parts (message_id, seq, connector, encoding, ud, "
           "status, smsc_id, attempts, updated_ms) VALUES ('" OLD_MID "', 1, "
           "'" CONN "', 0, x'6869', 'sent', 'k1', 1, 1700000000020);"
           "INSERT INTO events (message_id, part_seq, status, detail, "
           "time_ms) VALUES ('" OLD_MID "', NULL, 'queued', NULL, "
           "1700000000000), ('" OLD_MID "', NULL, 'sending', NULL, "
           "1700000000010), ('" OLD_MID "', 1, 'sent', 'k1', "
           "1700000000020), ('" OLD_MID "', NULL, 'sent', NULL, "
           "1700000000020);");
  at(40);
  open_store(c);
  sg_store_info_t info;
  sg_store_get_info(c->st, &info);
  assert_int_equal(info.migrated, sg__sqlite_migrations_count - applied);
  expect_events(c, OLD_MID,
                "- queued 0 - 0\n"
                "- sending 0 - 10\n"
                "1 sent 0 k1 20\n"
                "- sent 0 - 20\n");
  receipt_at(c, 40, receipt("k1", SG_MSG_DELIVERED, 0, "stat:DELIVRD", 30));
  expect_events(c, OLD_MID,
                "- queued 0 - 0\n"
                "- sending 0 - 10\n"
                "1 sent 0 k1 20\n"
                "- sent 0 - 20\n"
                "1 delivered 0 stat:DELIVRD 30\n"
                "- delivered 0 stat:DELIVRD 40\n");
  assert_int_equal(event_rows(c, OLD_MID), 5);
}

#define OLD29_MID "01HW0000000000000000000029"

/* A file of schema 29, before the mark: a message of one part taken at its
 * submit, with its 'sending' event in a row, left 'sending' by a stop. It
 * upgrades in place, the part has no mark, and its events read as they did
 * and go on. */
static void taken_rows_of_schema_29(void **state) {
  ctx_t *c = *state;
  if (pg_server() != NULL)
    skip();
  size_t applied = sqlite_schema_upto(c, 29);
  raw_exec(c,
           "INSERT INTO messages (id, batch_id, account_id, sender, recipient,"
           " encoding, body, status, parts_total, created_ms, updated_ms) "
           "VALUES ('" OLD29_MID "', '" OLD29_MID "', 1, 'S', "
           "'+14155550100', 0, 'hi', 'queued', 1, 1700000000000, "
           "1700000000000);"
           "INSERT INTO parts (message_id, seq, connector, encoding, ud, "
           "status, attempts, lease_until_ms, updated_ms) VALUES ('" OLD29_MID
           "', 1, '" CONN "', 0, x'6869', 'sending', 1, 1700000060000, "
           "1700000000000);"
           "INSERT INTO events (message_id, part_seq, status, detail, "
           "time_ms) VALUES ('" OLD29_MID "', NULL, 'sending', NULL, "
           "1700000000000);");
  at(20);
  open_store(c);
  sg_store_info_t info;
  sg_store_get_info(c->st, &info);
  assert_int_equal(info.migrated, sg__sqlite_migrations_count - applied);
  assert_int_equal(
      q1(c, "SELECT count(*) FROM parts WHERE message_id = '" OLD29_MID
            "' AND taken_event IS NULL"),
      1);
  /* the requeue at start puts the part 'sending' back in the queue */
  expect_events(c, OLD29_MID,
                "- queued 0 - 0\n"
                "- sending 0 - 0\n"
                "1 queued 0 requeued at start after a stop while sending 20\n"
                "- queued 0 requeued at start after a stop while sending "
                "20\n");
  claim_got_t cg;
  claim_at(c, 30, &cg, 1);
  result_at(c, 40, sent(&cg.parts[0], "o29"));
  expect_events(c, OLD29_MID,
                "- queued 0 - 0\n"
                "- sending 0 - 0\n"
                "1 queued 0 requeued at start after a stop while sending 20\n"
                "- queued 0 requeued at start after a stop while sending 20\n"
                "- sending 0 - 30\n"
                "1 sent 0 o29 40\n"
                "- sent 0 - 40\n");
  assert_int_equal(event_rows(c, OLD29_MID), 4);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(one_part_delivered, setup, teardown),
      cmocka_unit_test_setup_teardown(one_part_rows, setup, teardown),
      cmocka_unit_test_setup_teardown(one_part_retry_undeliverable, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(one_part_rejected, setup, teardown),
      cmocka_unit_test_setup_teardown(one_part_requeued_then_expired, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(scheduled_released_canceled, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(three_parts, setup, teardown),
      cmocka_unit_test_setup_teardown(two_parts_failure, setup, teardown),
      cmocka_unit_test_setup_teardown(receipt_before_result, setup, teardown),
      cmocka_unit_test_setup_teardown(rows_of_schema_25, setup, teardown),
      cmocka_unit_test_setup_teardown(taken_one_part_delivered, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(taken_then_retried, setup, teardown),
      cmocka_unit_test_setup_teardown(taken_two_parts, setup, teardown),
      cmocka_unit_test_setup_teardown(taken_one_of_two, setup, teardown),
      cmocka_unit_test_setup_teardown(taken_with_sending_webhook, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(taken_rows_of_schema_29, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
