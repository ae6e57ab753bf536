/* Tests for the webhook deliveries the SQLite writer keeps in memory
 * (store/sqlite_whq.c): a delivery claimed and taken writes no row; a
 * retry or a give-up writes its row with its attempts and error, under
 * the id it had; a transaction that fails queues nothing; a restart
 * offers again every delivery not finished, with the payload it had, and
 * none at or below the watermark; a full queue falls back to rows. Kannel
 * dlr-url calls of a final status are held the same way, and the URL
 * built again at open is the one built at commit. */
#include "store/store_fixture.h"

#include "store/sqlite.h"

#define HOOK "http://hook.example/cb"

static void fin_cb(sg_store_t *st, int status, void *data) {
  (void)st;
  got_t *g = data;
  g->status = status;
  g->calls++;
}

static void wh_finish(ctx_t *c, const sg_store_webhook_result_t *r, size_t n) {
  got_t g = {0};
  assert_int_equal(sg_store_webhook_finish(c->st, r, n, fin_cb, &g), 0);
  run_until(c, &g.calls, 1);
  assert_int_equal(g.status, 0);
}

static void wh_taken(ctx_t *c, int64_t id) {
  sg_store_webhook_result_t r = {.id = id, .done = true};
  wh_finish(c, &r, 1);
}

/* A one-part message with callback URL url, sent ('sent' webhook) and, with
 * a receipt, delivered ('delivered' webhook); url NULL: no webhooks. */
static void one_life(ctx_t *c, const char *url, const char *rcpt,
                     const char *smsc_id, bool receipt) {
  tmsg_t t;
  tmsg_init(&t, rcpt, 1, "smsc-a");
  t.m.callback_url = url;
  t.m.client_ref = "ref-1";
  assert_int_equal(submit_wait(c, &t, 1, NULL, NULL), 0);
  claim_one_sent(c, "smsc-a", smsc_id);
  if (!receipt)
    return;
  items_got_t ig;
  atomic_fetch_add(&fake_now, 10);
  sg_store_receipt_in_t d = {.connector = "smsc-a",
                             .smsc_id = smsc_id,
                             .status = SG_MSG_DELIVERED,
                             .detail = "DELIVRD"};
  receipts_wait(c, &d, 1, &ig);
}

static long long rows(ctx_t *c) {
  return q1(c, "SELECT count(*) FROM webhooks");
}

/* Three messages, six deliveries: claimed from memory and taken, no row is
 * ever written, and the counts see them while they are held. */
static void taken_writes_no_row(void **state) {
  ctx_t *c = *state;
  open_store(c);
  one_life(c, HOOK, "+14155550001", "s-1", true);
  one_life(c, HOOK, "+14155550002", "s-2", true);
  one_life(c, HOOK, "+14155550003", "s-3", true);
  assert_int_equal(rows(c), 0);
  assert_int_equal(webhooks_pending(c), 6);
  static wh_got_t g, none;
  wh_claim(c, 10, &g);
  assert_int_equal(g.n, 6);
  sg_store_webhook_result_t r[6];
  for (size_t i = 0; i < g.n; i++) {
    assert_true(g.id[i] < 0); /* -(its event's id) */
    assert_int_equal(g.attempts[i], 1);
    assert_string_equal(g.url[i], HOOK);
    assert_non_null(strstr(g.payload[i], "\"event\":\"message.status\""));
    assert_non_null(strstr(g.payload[i], i % 2 ? "\"status\":\"delivered\""
                                               : "\"status\":\"sent\""));
    r[i] = (sg_store_webhook_result_t){.id = g.id[i], .done = true};
  }
  /* Held under their leases: not offered twice. */
  wh_claim(c, 10, &none);
  assert_int_equal(none.n, 0);
  wh_finish(c, r, 6);
  assert_int_equal(rows(c), 0);
  assert_int_equal(webhooks_pending(c), 0);
  atomic_fetch_add(&fake_now, 60000); /* the leases ran out: nothing left */
  wh_claim(c, 10, &none);
  assert_int_equal(none.n, 0);
}

/* A retry and a give-up write the row then, under the delivery's id, with
 * its attempts and error; the retry is claimed from the row with the same
 * id and payload and one more attempt. A lease that ran out counts. */
static void retry_and_give_up_write_rows(void **state) {
  ctx_t *c = *state;
  open_store(c);
  one_life(c, HOOK, "+14155550011", "s-11", true);
  static wh_got_t g, h;
  wh_claim(c, 10, &g);
  assert_int_equal(g.n, 2);
  atomic_fetch_add(&fake_now, 20000); /* past the lease: taken again */
  wh_claim(c, 10, &h);
  assert_int_equal(h.n, 2);
  assert_int_equal(h.id[0], g.id[0]);
  assert_int_equal(h.attempts[0], 2);
  assert_int_equal(rows(c), 0);
  int64_t now = atomic_load(&fake_now);
  sg_store_webhook_result_t r[2] = {
      {.id = g.id[0], .next_attempt_ms = now + 5000, .error = "HTTP 503"},
      {.id = g.id[1], .next_attempt_ms = 0, .error = "HTTP 410"}};
  wh_finish(c, r, 2);
  char sql[400];
  snprintf(sql, sizeof sql,
           "SELECT count(*) FROM webhooks WHERE id = %lld AND status = "
           "'pending' AND attempts = 2 AND last_error = 'HTTP 503' AND "
           "next_attempt_ms = %lld AND event_id = %lld AND message_id = '%s'",
           (long long)g.id[0], (long long)(now + 5000), (long long)-g.id[0],
           g.mid[0]);
  assert_int_equal(q1(c, sql), 1);
  snprintf(sql, sizeof sql,
           "SELECT count(*) FROM webhooks WHERE id = %lld AND status = "
           "'failed' AND attempts = 2 AND last_error = 'HTTP 410'",
           (long long)g.id[1]);
  assert_int_equal(q1(c, sql), 1);
  assert_int_equal(webhooks_pending(c), 1); /* the retry's row */
  wh_claim(c, 10, &h);
  assert_int_equal(h.n, 0); /* not due yet */
  atomic_fetch_add(&fake_now, 5000);
  wh_claim(c, 10, &h);
  assert_int_equal(h.n, 1);
  assert_int_equal(h.id[0], g.id[0]);
  assert_int_equal(h.attempts[0], 3);
  assert_string_equal(h.payload[0], g.payload[0]);
  wh_taken(c, h.id[0]);
  assert_int_equal(rows(c), 1); /* the failed one stays */
  assert_int_equal(webhooks_pending(c), 0);
}

/* A transaction that fails queues nothing: the receipt's delivery comes
 * when the receipt is recorded again, once. */
static void rollback_queues_nothing(void **state) {
  ctx_t *c = *state;
  sg_store_config_t cfg = test_config(c);
  cfg.fault_injection = true;
  assert_int_equal(open_with(c, &cfg), 0);
  one_life(c, HOOK, "+14155550021", "s-21", false);
  assert_int_equal(webhooks_pending(c), 1);
  sg_store_receipt_in_t d = {
      .connector = "smsc-a", .smsc_id = "s-21", .status = SG_MSG_DELIVERED};
  assert_int_equal(sg_store_sqlite_fail_next(c->st, 1, false), 0);
  items_got_t ig = {0};
  assert_int_equal(sg_store_record_receipts(c->st, &d, 1, items_cb, &ig), 0);
  run_until(c, &ig.calls, 1);
  assert_int_equal(ig.status, SG_EIO);
  assert_int_equal(webhooks_pending(c), 1);
  static wh_got_t g, h;
  wh_claim(c, 10, &g);
  assert_int_equal(g.n, 1);
  assert_non_null(strstr(g.payload[0], "\"status\":\"sent\""));
  wh_taken(c, g.id[0]);
  receipts_wait(c, &d, 1, &ig); /* the operator sends it again */
  wh_claim(c, 10, &h);
  assert_int_equal(h.n, 1);
  assert_non_null(strstr(h.payload[0], "\"status\":\"delivered\""));
  assert_true(h.id[0] < g.id[0]); /* a later event */
  wh_taken(c, h.id[0]);
  assert_int_equal(rows(c), 0);
}

static int find_id(const wh_got_t *g, int64_t id) {
  for (size_t i = 0; i < g->n; i++)
    if (g->id[i] == id)
      return (int)i;
  return -1;
}

/* Six deliveries claimed; taken: the first two and the fifth; the fourth
 * retried (its row); the third and sixth never finished. After a stop the
 * watermark stands below the third: the third, the fifth (finished above
 * it: at-least-once) and the sixth come back from the events with the
 * payloads they had, the fourth once from its row, the first two never. */
static void restart_rebuilds_the_same(void **state) {
  ctx_t *c = *state;
  open_store(c);
  one_life(c, HOOK, "+14155550031", "s-31", true);
  one_life(c, HOOK, "+14155550032", "s-32", true);
  one_life(c, HOOK, "+14155550033", "s-33", true);
  static wh_got_t g, h;
  wh_claim(c, 10, &g);
  assert_int_equal(g.n, 6);
  for (size_t i = 1; i < g.n; i++)
    assert_true(g.id[i] < g.id[i - 1]); /* in the order of their events */
  wh_taken(c, g.id[0]);
  wh_taken(c, g.id[1]);
  wh_taken(c, g.id[4]);
  sg_store_webhook_result_t r = {.id = g.id[3],
                                 .next_attempt_ms = atomic_load(&fake_now),
                                 .error = "timeout"};
  wh_finish(c, &r, 1);
  close_store(c);
  assert_int_equal(q1(c, "SELECT event_id FROM webhook_mark"), -g.id[2] - 1);
  atomic_fetch_add(&fake_now, 1000);
  open_store(c);
  assert_int_equal(webhooks_pending(c), 4);
  wh_claim(c, 10, &h);
  assert_int_equal(h.n, 4);
  assert_int_equal(find_id(&h, g.id[0]), -1);
  assert_int_equal(find_id(&h, g.id[1]), -1);
  static const int back[] = {2, 3, 4, 5};
  for (size_t k = 0; k < 4; k++) {
    int i = find_id(&h, g.id[back[k]]);
    assert_true(i >= 0);
    assert_string_equal(h.payload[i], g.payload[back[k]]);
    assert_string_equal(h.url[i], HOOK);
    assert_string_equal(h.mid[i], g.mid[back[k]]);
    assert_int_equal(h.attempts[i], back[k] == 3 ? 2 : 1);
  }
  sg_store_webhook_result_t all[4];
  for (size_t i = 0; i < 4; i++)
    all[i] = (sg_store_webhook_result_t){.id = h.id[i], .done = true};
  wh_finish(c, all, 4);
  assert_int_equal(rows(c), 0);
  /* All finished: the watermark passes the newest event at the next
   * write, and a second restart offers nothing. */
  one_life(c, HOOK, "+14155550034", "s-34", false);
  wh_claim(c, 10, &h);
  assert_int_equal(h.n, 1);
  wh_taken(c, h.id[0]);
  close_store(c);
  open_store(c);
  wh_claim(c, 10, &h);
  assert_int_equal(h.n, 0);
  assert_int_equal(webhooks_pending(c), 0);
}

/* The payload built at open is the one built at commit, for every status
 * a one-part message's delivery may be held with: sent, delivered, an
 * undeliverable receipt with its error, a failure, a cancel. */
static void rebuilt_payloads_are_identical(void **state) {
  ctx_t *c = *state;
  open_store(c);
  one_life(c, HOOK, "+14155550041", "s-41", true);
  one_life(c, HOOK, "+14155550042", "s-42", false);
  items_got_t ig;
  sg_store_receipt_in_t d = {.connector = "smsc-a",
                             .smsc_id = "s-42",
                             .status = SG_MSG_UNDELIVERABLE,
                             .error_code = 11,
                             .detail = "UNDELIV \"q\" \xc3\xa9\x01"};
  receipts_wait(c, &d, 1, &ig);
  tmsg_t t;
  tmsg_init(&t, "+14155550043", 1, "smsc-a");
  t.m.callback_url = HOOK;
  assert_int_equal(submit_wait(c, &t, 1, NULL, NULL), 0);
  claim_got_t cg;
  claim_wait(c, "smsc-a", 1, &cg);
  sg_store_result_in_t r = {.part_id = cg.parts[0].part_id,
                            .attempt = cg.parts[0].attempt,
                            .outcome = SG_STORE_FAILED,
                            .final_status = SG_MSG_REJECTED,
                            .error_code = 1025,
                            .detail = "rejected: bad number"};
  results_wait(c, &r, 1, &ig);
  tmsg_init(&t, "+14155550044", 1, "smsc-a");
  t.m.callback_url = HOOK;
  assert_int_equal(submit_wait(c, &t, 1, NULL, NULL), 0);
  memset(&ig, 0, sizeof ig);
  assert_int_equal(sg_store_cancel(c->st, t.m.id, 0, items_cb, &ig), 0);
  run_until(c, &ig.calls, 1);
  assert_int_equal(ig.items[0].status, 0);
  static wh_got_t before, after;
  wh_claim(c, 20, &before);
  assert_int_equal(before.n, 6);
  assert_int_equal(rows(c), 0);
  close_store(c);
  open_store(c);
  wh_claim(c, 20, &after);
  assert_int_equal(after.n, before.n);
  for (size_t i = 0; i < before.n; i++) {
    assert_int_equal(after.id[i], before.id[i]);
    assert_string_equal(after.payload[i], before.payload[i]);
  }
  assert_non_null(strstr(before.payload[3], "\"error_code\":11"));
  assert_non_null(strstr(before.payload[4], "\"status\":\"rejected\""));
  assert_non_null(strstr(before.payload[5], "\"status\":\"canceled\""));
}

/* With room for two, the other deliveries get their rows at once, under
 * the ids they would have had; each is offered once, before and after a
 * restart. */
static void full_queue_falls_back_to_rows(void **state) {
  ctx_t *c = *state;
  setenv("SG_STORE_WEBHOOK_MEMORY", "2", 1);
  open_store(c);
  one_life(c, HOOK, "+14155550051", "s-51", true);
  one_life(c, HOOK, "+14155550052", "s-52", true);
  assert_int_equal(rows(c), 2);
  assert_int_equal(q1(c, "SELECT count(*) FROM webhooks WHERE id = "
                         "-event_id AND status = 'pending'"),
                   2);
  assert_int_equal(webhooks_pending(c), 4);
  close_store(c);
  open_store(c);
  static wh_got_t g, none;
  wh_claim(c, 10, &g);
  assert_int_equal(g.n, 4);
  for (size_t i = 0; i < g.n; i++)
    for (size_t j = 0; j < i; j++)
      assert_true(g.id[i] != g.id[j]);
  sg_store_webhook_result_t r[4];
  for (size_t i = 0; i < 4; i++)
    r[i] = (sg_store_webhook_result_t){.id = g.id[i], .done = true};
  wh_finish(c, r, 4);
  assert_int_equal(rows(c), 0);
  wh_claim(c, 10, &none);
  assert_int_equal(none.n, 0);
  unsetenv("SG_STORE_WEBHOOK_MEMORY");
}

/* Four one-part lives whose deliveries are held in memory (recipients and
 * SMSC ids numbered by tag), one of them claimed and failed: it goes on as
 * a row, due at once; the clock then moves to the rows' next turn. *g is
 * that first claim. */
static void one_row_due(ctx_t *c, int tag, wh_got_t *g) {
  open_store(c);
  for (int i = 0; i < 4; i++) {
    char rcpt[32], smsc[24];
    snprintf(rcpt, sizeof rcpt, "+1415555%03d%d", tag, i);
    snprintf(smsc, sizeof smsc, "s-%d%d", tag, i);
    one_life(c, HOOK, rcpt, smsc, true);
  }
  wh_claim(c, 1, g);
  assert_int_equal(g->n, 1);
  sg_store_webhook_result_t r = {
      .id = g->id[0], .next_attempt_ms = atomic_load(&fake_now), .error = "x"};
  wh_finish(c, &r, 1);
  atomic_fetch_add(&fake_now, 1000); /* the rows' next turn */
}

/* A retry's row is not starved by the deliveries in memory: a claim that
 * memory alone could fill leaves it a quarter, once a second. */
static void rows_get_a_share_of_full_claims(void **state) {
  ctx_t *c = *state;
  static wh_got_t g, h;
  one_row_due(c, 7, &g);
  wh_claim(c, 4, &h);
  assert_int_equal(h.n, 4);
  int i = find_id(&h, g.id[0]);
  assert_true(i >= 0);
  assert_int_equal(h.attempts[i], 2);
  wh_claim(c, 4, &h); /* within the second: memory alone */
  assert_int_equal(h.n, 4);
  assert_int_equal(webhooks_pending(c), 8);
}

/* The same with claims of one (webhooks.concurrency 1, or a sender with
 * one slot free at a time): the rows' share of a claim is at least one, so
 * a retry is not left waiting until memory runs dry. */
static void rows_get_a_share_of_claims_of_one(void **state) {
  ctx_t *c = *state;
  static wh_got_t g, h;
  one_row_due(c, 8, &g);
  wh_claim(c, 1, &h);
  assert_int_equal(h.n, 1);
  assert_int_equal(h.id[0], g.id[0]);
  assert_int_equal(h.attempts[0], 2);
  wh_claim(c, 1, &h); /* within the second: memory */
  assert_int_equal(h.n, 1);
  assert_true(h.id[0] != g.id[0]);
  assert_int_equal(webhooks_pending(c), 8);
}

/* With room for two, a delivery that is out for more than a second while
 * the queue fills goes on as a row under its lease (not offered again
 * while it holds), so the queue moves on; its finish deletes the row. */
static void held_up_delivery_spills_to_a_row(void **state) {
  ctx_t *c = *state;
  setenv("SG_STORE_WEBHOOK_MEMORY", "2", 1);
  open_store(c);
  one_life(c, HOOK, "+14155550061", "s-61", true);
  static wh_got_t g, h;
  wh_claim(c, 10, &g);
  assert_int_equal(g.n, 2);
  wh_taken(c, g.id[1]); /* the first is held up at its receiver */
  atomic_fetch_add(&fake_now, 2000);
  one_life(c, HOOK, "+14155550062", "s-62", true);
  /* The first of the new ones found the queue full: its row, and the held
   * one's. The second found room once the head had moved. */
  assert_int_equal(rows(c), 2);
  char sql[160];
  snprintf(sql, sizeof sql,
           "SELECT count(*) FROM webhooks WHERE id = %lld AND attempts = 0",
           (long long)g.id[0]);
  assert_int_equal(q1(c, sql), 1);
  assert_int_equal(webhooks_pending(c), 3);
  wh_claim(c, 10, &h);
  assert_int_equal(h.n, 2); /* not the held one: its lease holds */
  assert_int_equal(find_id(&h, g.id[0]), -1);
  sg_store_webhook_result_t r[3] = {{.id = h.id[0], .done = true},
                                    {.id = h.id[1], .done = true},
                                    {.id = g.id[0], .done = true}};
  wh_finish(c, r, 3);
  assert_int_equal(rows(c), 0);
  assert_int_equal(webhooks_pending(c), 0);
  atomic_fetch_add(&fake_now, 60000);
  wh_claim(c, 10, &h);
  assert_int_equal(h.n, 0);
  close_store(c);
  open_store(c);
  wh_claim(c, 10, &h);
  assert_int_equal(h.n, 0);
  unsetenv("SG_STORE_WEBHOOK_MEMORY");
}

/* A database that comes to the watermark's version with its deliveries in
 * rows keeps them as rows: the mark starts at its newest event, so none
 * is built again beside its row. */
#define DLR                                                                    \
  "http://sink.example/dlr?d=%d&A=%A&p=%p&P=%P&i=%i&I=%I&F=%F&n=%n&o=%o&"      \
  "T=%T&c=%c"

/* A one-part message with a Kannel dlr-url and dlr-mask 3 (delivered or
 * failed), sent, then ended by a receipt of status st. */
static void kannel_life(ctx_t *c, const char *rcpt, const char *smsc_id,
                        sg_msg_status_t st, int32_t err, const char *detail) {
  tmsg_t t;
  tmsg_init(&t, rcpt, 1, "smsc-a");
  t.m.dlr_url = DLR;
  t.m.dlr_mask = 3;
  t.m.client_ref = "acct-o";
  assert_int_equal(submit_wait(c, &t, 1, NULL, NULL), 0);
  claim_one_sent(c, "smsc-a", smsc_id);
  items_got_t ig;
  atomic_fetch_add(&fake_now, 1500);
  sg_store_receipt_in_t d = {.connector = "smsc-a",
                             .smsc_id = smsc_id,
                             .status = st,
                             .error_code = err,
                             .detail = detail};
  receipts_wait(c, &d, 1, &ig);
}

/* Three dlr-url calls (delivered, undeliverable with an error and a text
 * to escape, delivered) are held: no row. The first taken, a stop: the
 * other two come back under the same ids with byte for byte the same
 * URLs; a retry writes its GET row, claimed again with the same URL. */
static void kannel_calls_held_and_rebuilt(void **state) {
  ctx_t *c = *state;
  open_store(c);
  kannel_life(c, "+14155550061", "k-61", SG_MSG_DELIVERED, 0, "DELIVRD");
  kannel_life(c, "+14155550062", "k-62", SG_MSG_UNDELIVERABLE, 11,
              "UNDELIV \"q\" \xc3\xa9&x");
  kannel_life(c, "+14155550063", "k-63", SG_MSG_DELIVERED, 0, "DELIVRD");
  assert_int_equal(rows(c), 0);
  assert_int_equal(webhooks_pending(c), 3);
  static wh_got_t g, h, k;
  wh_claim(c, 10, &g);
  assert_int_equal(g.n, 3);
  for (size_t i = 0; i < 3; i++) {
    assert_true(g.id[i] < 0);
    assert_true(g.get[i]);
    assert_non_null(
        strstr(g.url[i], i == 1 ? "?d=2&A=UNDELIV" : "?d=1&A=DELIVRD"));
    assert_non_null(strstr(g.url[i], g.mid[i]));
    assert_non_null(strstr(g.url[i], "&o=acct-o&"));
  }
  assert_non_null(strstr(g.url[1], "&F=k-62&"));
  wh_taken(c, g.id[0]);
  close_store(c);
  open_store(c);
  assert_int_equal(webhooks_pending(c), 2);
  wh_claim(c, 10, &h);
  assert_int_equal(h.n, 2);
  for (size_t i = 0; i < 2; i++) {
    assert_int_equal(h.id[i], g.id[i + 1]);
    assert_true(h.get[i]);
    assert_string_equal(h.url[i], g.url[i + 1]);
    assert_string_equal(h.mid[i], g.mid[i + 1]);
  }
  wh_taken(c, h.id[0]);
  sg_store_webhook_result_t r = {.id = h.id[1],
                                 .next_attempt_ms = atomic_load(&fake_now),
                                 .error = "timeout"};
  wh_finish(c, &r, 1);
  assert_int_equal(q1(c, "SELECT count(*) FROM webhooks WHERE id = "
                         "-event_id AND method = 'GET'"),
                   1);
  atomic_fetch_add(&fake_now, 1000);
  wh_claim(c, 10, &k);
  assert_int_equal(k.n, 1);
  assert_int_equal(k.id[0], g.id[2]);
  assert_true(k.get[0]);
  assert_string_equal(k.url[0], g.url[2]);
  wh_taken(c, k.id[0]);
  assert_int_equal(rows(c), 0);
  close_store(c);
  open_store(c);
  wh_claim(c, 10, &k);
  assert_int_equal(k.n, 0);
}

/* With room for one, the other dlr-url call gets its GET row at once under
 * the id it would have had; after a stop each is offered once. */
static void kannel_full_queue_falls_back_to_rows(void **state) {
  ctx_t *c = *state;
  setenv("SG_STORE_WEBHOOK_MEMORY", "1", 1);
  open_store(c);
  kannel_life(c, "+14155550071", "k-71", SG_MSG_DELIVERED, 0, "DELIVRD");
  kannel_life(c, "+14155550072", "k-72", SG_MSG_DELIVERED, 0, "DELIVRD");
  assert_int_equal(q1(c, "SELECT count(*) FROM webhooks WHERE id = "
                         "-event_id AND method = 'GET'"),
                   1);
  assert_int_equal(rows(c), 1);
  close_store(c);
  open_store(c);
  static wh_got_t g, none;
  wh_claim(c, 10, &g);
  assert_int_equal(g.n, 2);
  assert_true(g.id[0] != g.id[1]);
  assert_true(g.get[0] && g.get[1]);
  sg_store_webhook_result_t r[2] = {{.id = g.id[0], .done = true},
                                    {.id = g.id[1], .done = true}};
  wh_finish(c, r, 2);
  assert_int_equal(rows(c), 0);
  wh_claim(c, 10, &none);
  assert_int_equal(none.n, 0);
  unsetenv("SG_STORE_WEBHOOK_MEMORY");
}

static void upgrade_keeps_rows(void **state) {
  ctx_t *c = *state;
  setenv("SG_STORE_WEBHOOK_MEMORY", "0", 1);
  open_store(c);
  one_life(c, HOOK, "+14155550081", "s-81", true);
  one_life(c, HOOK, "+14155550082", "s-82", true);
  close_store(c);
  unsetenv("SG_STORE_WEBHOOK_MEMORY");
  /* As an older smsgate left it: row ids of their own, no watermark. */
  raw_exec(c, "UPDATE webhooks SET id = -id; DROP TABLE webhook_mark; "
              "ALTER TABLE parts DROP COLUMN taken_event; "
              "ALTER TABLE parts DROP COLUMN sent_event; "
              "ALTER TABLE parts DROP COLUMN sent_ms; "
              "ALTER TABLE parts DROP COLUMN sent_detail; "
              "DELETE FROM schema_version WHERE version >= 27");
  open_store(c);
  assert_int_equal(q1(c, "SELECT event_id = (SELECT max(id) FROM events) "
                         "FROM webhook_mark"),
                   1);
  static wh_got_t g;
  wh_claim(c, 10, &g);
  assert_int_equal(g.n, 4);
  for (size_t i = 0; i < g.n; i++)
    assert_true(g.id[i] > 0);
  assert_int_equal(webhooks_pending(c), 4);
}

/* Events that want no delivery (a message without a callback URL) move the
 * watermark in their own transaction, with nothing held: a store left alone
 * afterwards is not written again by a later group. */
static void mark_settles_in_its_group(void **state) {
  ctx_t *c = *state;
  open_store(c);
  one_life(c, NULL, "+14155550091", "s-91", true);
  assert_int_equal(webhooks_pending(c), 0);
  assert_int_equal(q1(c, "SELECT event_id = (SELECT max(id) FROM events) "
                         "FROM webhook_mark"),
                   1);
}

/* One life of a message with awkward strings, its id and batch given:
 * sent, then a receipt (undeliverable with an error and detail d, or
 * delivered), or a rejection with an error detail. */
static void awkward_life(ctx_t *c, const char *id, const char *rcpt,
                         const char *sender, const char *ref, int end,
                         const char *d) {
  tmsg_t t;
  tmsg_init(&t, rcpt, 1, "smsc-a");
  snprintf(t.m.id, sizeof t.m.id, "%s", id);
  t.m.callback_url = HOOK;
  t.m.sender = sender;
  t.m.client_ref = ref;
  sg_store_batch_t b = {.account_id = 1};
  snprintf(b.batch_id, sizeof b.batch_id, "01HW00000000000000000B%s", id + 22);
  assert_int_equal(submit_wait(c, &t, 1, &b, NULL), 0);
  items_got_t ig;
  if (end == 2) {
    claim_got_t cg;
    claim_wait(c, "smsc-a", 1, &cg);
    sg_store_result_in_t r = {.part_id = cg.parts[0].part_id,
                              .attempt = cg.parts[0].attempt,
                              .outcome = SG_STORE_FAILED,
                              .final_status = SG_MSG_REJECTED,
                              .error_code = 1025,
                              .detail = d};
    results_wait(c, &r, 1, &ig);
    return;
  }
  claim_one_sent(c, "smsc-a", rcpt + 8);
  atomic_fetch_add(&fake_now, 7);
  sg_store_receipt_in_t x = {.connector = "smsc-a",
                             .smsc_id = rcpt + 8,
                             .status =
                                 end ? SG_MSG_UNDELIVERABLE : SG_MSG_DELIVERED,
                             .error_code = end ? 11 : 0,
                             .detail = d};
  receipts_wait(c, &x, 1, &ig);
}

/* The same lives on an empty store, every delivery then claimed. */
static void awkward_lives(ctx_t *c, wh_got_t *g) {
  remove_db_files(c);
  atomic_store(&fake_now, T0);
  open_store(c);
  awkward_life(c, "01HW0000000000000000000001", "+14155550061", "SMS\"GATE\\",
               "ref \"q\" \xc3\xa9 \x01\t/", 1,
               "UNDELIV \"q\" \xc3\xa9\x01\x1f\\");
  awkward_life(c, "01HW0000000000000000000002", "+14155550062",
               "\xd0\x9f\xd1\x80\xd0\xb8", "bad \xff", 0, "DELIVRD \xfe");
  awkward_life(c, "01HW0000000000000000000003", "+14155550063", "7575", "", 2,
               "rejected: \"bad\" number\n");
  wh_claim(c, 20, g);
  close_store(c);
}

/* The payload the thread that sends a held delivery writes from its
 * event's record is byte for byte the one the writer puts in its row
 * (the memory off: every delivery a row, its payload written at commit),
 * for strings that need escaping, that are not UTF-8 (left out), empty,
 * and error details. */
static void held_payload_is_the_row_payload(void **state) {
  ctx_t *c = *state;
  static wh_got_t rows_g, held_g;
  setenv("SG_STORE_WEBHOOK_MEMORY", "0", 1);
  awkward_lives(c, &rows_g);
  unsetenv("SG_STORE_WEBHOOK_MEMORY");
  awkward_lives(c, &held_g);
  assert_int_equal(rows_g.n, 5);
  assert_int_equal(held_g.n, rows_g.n);
  for (size_t i = 0; i < held_g.n; i++) {
    assert_true(held_g.from_event[i]);
    size_t j = 0;
    while (j < rows_g.n && rows_g.id[j] != held_g.id[i])
      j++;
    assert_true(j < rows_g.n);
    assert_false(rows_g.from_event[j]);
    if (strcmp(held_g.payload[i], rows_g.payload[j]) != 0)
      fail_msg("delivery %lld:\n held %s\n row  %s", (long long)held_g.id[i],
               held_g.payload[i], rows_g.payload[j]);
  }
  /* What the lives were meant to show. */
  bool esc = false, left_out = false, err = false;
  for (size_t i = 0; i < held_g.n; i++) {
    esc |= strstr(held_g.payload[i], "\\u0001\\u001F\\\\\"") != NULL;
    left_out |= strstr(held_g.payload[i], "\"status\":\"delivered\"") &&
                !strstr(held_g.payload[i], "client_ref") &&
                !strstr(held_g.payload[i], "detail");
    err |= strstr(held_g.payload[i],
                  "\"error_code\":1025,\"detail\":"
                  "\"rejected: \\\"bad\\\" number\\n\"") != NULL;
  }
  assert_true(esc);
  assert_true(left_out);
  assert_true(err);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(taken_writes_no_row, setup, teardown),
      cmocka_unit_test_setup_teardown(mark_settles_in_its_group, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(retry_and_give_up_write_rows, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(rollback_queues_nothing, setup, teardown),
      cmocka_unit_test_setup_teardown(restart_rebuilds_the_same, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(rebuilt_payloads_are_identical, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(held_payload_is_the_row_payload, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(full_queue_falls_back_to_rows, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(held_up_delivery_spills_to_a_row, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(rows_get_a_share_of_claims_of_one, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(rows_get_a_share_of_full_claims, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(upgrade_keeps_rows, setup, teardown),
      cmocka_unit_test_setup_teardown(kannel_calls_held_and_rebuilt, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(kannel_full_queue_falls_back_to_rows,
                                      setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
