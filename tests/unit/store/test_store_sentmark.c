/* test_store_sentmark.c - the 'sent' event of a message of one part as a
 * mark on its part (SQLite, migration 0031) when no delivery refers to it:
 * no webhook asks for 'sent' (the message's statuses or the store's) and
 * no Kannel dlr-mask asks for type 8.
 *
 * Each life runs twice side by side at the same times: a message whose
 * 'sent' is a mark and its twin, which a webhook for 'sent' (or a Kannel
 * mask with 8) keeps on a row. Every read must be the same: the message's
 * status, error code and times, each part's columns, and each event's part,
 * status, code, detail and time in the same order (the ids of rows
 * increasing; the mark's events have id 0, store.h). The lives: a receipt
 * later, the receipt in the SENT's group, a retry after a failure, the
 * operator's retry (a part sent twice: the first a mark, the second a row),
 * two parts (no mark), a restart between SENT and receipt, the store's
 * webhook statuses changed between submit and SENT, Kannel masks 3 and 11,
 * and a file of schema 30 upgraded.
 */
#include "store_fixture.h"
#include "store/store_ops.h"

#define CONN "smsc-a"
#define HOOK "http://127.0.0.1:9/hook"

static void at(int64_t dt) {
  atomic_store(&fake_now, T0 + dt);
}

/* ---- what a read shows, as text ----------------------------------------- */

typedef struct shown {
  int calls, status;
  char text[4096];
} shown_t;

static void shown_cb(sg_store_t *st, int status, const sg_store_message_t *m,
                     void *data) {
  (void)st;
  shown_t *g = data;
  g->status = status;
  size_t o = 0;
#define PUT(...)                                                               \
  o += (size_t)snprintf(g->text + o, sizeof g->text - o, __VA_ARGS__)
  if (status == 0) {
    PUT("msg %s %d %lld %lld parts %u\n", sg_store_status_name(m->status),
        m->error_code, (long long)(m->created_ms - T0),
        (long long)(m->updated_ms - T0), m->parts_total);
    for (size_t i = 0; i < m->n_parts; i++) {
      const sg_store_part_t *p = &m->parts[i];
      PUT("part %u %s %s %s %d %s %u %lld %lld\n", p->seq, p->connector,
          sg_store_status_name(p->status), p->smsc_id ? p->smsc_id : "-",
          p->error_code, p->error ? p->error : "-", p->attempts,
          (long long)p->next_attempt_ms, (long long)(p->updated_ms - T0));
    }
    int64_t last = 0;
    for (size_t i = 0; i < m->n_events; i++) {
      const sg_store_event_t *e = &m->events[i];
      PUT("ev %u %s %d %s %lld\n", e->part_seq, sg_store_status_name(e->status),
          e->error_code, e->detail ? e->detail : "-",
          (long long)(e->time_ms - T0));
      if (e->id != 0 && e->id < last)
        fail_msg("event %zu: id %lld after %lld", i, (long long)e->id,
                 (long long)last);
      if (e->id != 0)
        last = e->id;
    }
  }
#undef PUT
  assert_true(o < sizeof g->text);
  g->calls++;
}

static void shown(ctx_t *c, const char *mid, shown_t *g) {
  memset(g, 0, sizeof *g);
  assert_int_equal(sg_store_get_message(c->st, mid, 0, shown_cb, g), 0);
  run_until(c, &g->calls, 1);
  assert_int_equal(g->status, 0);
}

/* The reads of a and b are the same. */
static void same_reads(ctx_t *c, const char *a, const char *b) {
  shown_t ga, gb;
  shown(c, a, &ga);
  shown(c, b, &gb);
  if (strcmp(ga.text, gb.text) != 0)
    fail_msg("marked %s:\n%s\nwith its row %s:\n%s", a, ga.text, b, gb.text);
}

static long long count_of(ctx_t *c, const char *fmt, const char *mid) {
  char sql[256];
  snprintf(sql, sizeof sql, fmt, mid);
  return q1(c, sql);
}

static long long event_rows(ctx_t *c, const char *mid) {
  return count_of(c, "SELECT count(*) FROM events WHERE message_id = '%s'",
                  mid);
}

static long long sent_marks(ctx_t *c, const char *mid) {
  return count_of(c,
                  "SELECT count(*) FROM parts WHERE message_id = '%s' AND "
                  "sent_event IS NOT NULL",
                  mid);
}

/* ---- lives --------------------------------------------------------------- */

/* The twins: [0] with no webhook for 'sent' (a mark), [1] asking for it (its
 * row). Both have a callback URL and a webhook for 'delivered'. */
static void twins(tmsg_t m[2], unsigned parts) {
  tmsg_init(&m[0], "+14155550140", parts, CONN);
  tmsg_init(&m[1], "+14155550141", parts, CONN);
  for (int i = 0; i < 2; i++)
    m[i].m.callback_url = HOOK;
  m[0].m.webhook_statuses = SG_MSG_BIT(SG_MSG_DELIVERED);
  m[1].m.webhook_statuses =
      SG_MSG_BIT(SG_MSG_DELIVERED) | SG_MSG_BIT(SG_MSG_SENT);
}

static void submit_at(ctx_t *c, int64_t dt, tmsg_t *m, size_t n) {
  at(dt);
  for (size_t i = 0; i < n; i++)
    assert_int_equal(submit_wait(c, &m[i], 1, NULL, NULL), 0);
}

/* A store opened and the twins of `parts` parts submitted at T0. */
static void start_twins(ctx_t *c, tmsg_t m[2], unsigned parts) {
  open_store(c);
  twins(m, parts);
  submit_at(c, 0, m, 2);
}

/* A claim that hands out n parts, in order of submit. */
static void claim_at(ctx_t *c, int64_t dt, claim_got_t *cg, size_t n) {
  at(dt);
  claim_wait(c, CONN, 10, cg);
  assert_int_equal(cg->n, n);
}

/* SENT as `key` (the twins' receipts find their parts by it); the
 * operator's id as it gave it, which reads show, is "raw:" and its last
 * character but one, the same for both twins. */
static sg_store_result_in_t sent(const sg_store_claimed_t *p, const char *key) {
  static char raw[8][8];
  static unsigned next;
  char *r = raw[next++ % 8];
  size_t n = strlen(key);
  snprintf(r, 8, "raw:%c", n > 1 ? key[n - 2] : key[0]);
  return (sg_store_result_in_t){.part_id = p->part_id,
                                .attempt = p->attempt,
                                .outcome = SG_STORE_SENT,
                                .smsc_id = key,
                                .smsc_raw_id = r};
}

static void results_at(ctx_t *c, int64_t dt, const sg_store_result_in_t *r,
                       size_t n) {
  at(dt);
  items_got_t ig;
  results_wait(c, r, n, &ig);
  for (size_t i = 0; i < n; i++)
    assert_int_equal(ig.items[i].status, 0);
}

static sg_store_receipt_in_t receipt(const char *id, sg_msg_status_t st,
                                     int32_t code, const char *detail) {
  return (sg_store_receipt_in_t){.connector = CONN,
                                 .smsc_id = id,
                                 .status = st,
                                 .error_code = code,
                                 .detail = detail,
                                 .done_ms = T0 + 25};
}

static void receipts_at(ctx_t *c, int64_t dt, const sg_store_receipt_in_t *r,
                        size_t n) {
  at(dt);
  items_got_t ig;
  receipts_wait(c, r, n, &ig);
  for (size_t i = 0; i < n; i++)
    assert_int_equal(ig.items[i].status, 0);
}

/* The twins' parts claimed at dt and sent (a0, a1: the operator's ids) at
 * sent_dt. */
static void claim_send_at(ctx_t *c, int64_t dt, int64_t sent_dt, const char *a0,
                          const char *a1) {
  claim_got_t cg;
  claim_at(c, dt, &cg, 2);
  sg_store_result_in_t r[2] = {sent(&cg.parts[0], a0), sent(&cg.parts[1], a1)};
  results_at(c, sent_dt, r, 2);
}

static void claim_send(ctx_t *c, const char *a0, const char *a1) {
  claim_send_at(c, 10, 20, a0, a1);
}

/* The twins' receipts at dt: delivered, or undeliverable with a code. */
static void receipts_of(ctx_t *c, int64_t dt, sg_msg_status_t st,
                        const char *a0, const char *a1) {
  bool ok = st == SG_MSG_DELIVERED;
  const char *detail = ok ? "stat:DELIVRD" : "stat:UNDELIV";
  sg_store_receipt_in_t x[2] = {receipt(a0, st, ok ? 0 : 0x0B, detail),
                                receipt(a1, st, ok ? 0 : 0x0B, detail)};
  receipts_at(c, dt, x, 2);
}

static void deliver(ctx_t *c, int64_t dt, const char *a0, const char *a1) {
  receipts_of(c, dt, SG_MSG_DELIVERED, a0, a1);
}

/* Sent, an en-route report, delivered later: one row less. */
static void receipt_later(void **state) {
  ctx_t *c = *state;
  tmsg_t m[2];
  start_twins(c, m, 1);
  claim_send(c, "s0", "s1");
  assert_int_equal(sent_marks(c, m[0].m.id), 1);
  assert_int_equal(sent_marks(c, m[1].m.id), 0);
  same_reads(c, m[0].m.id, m[1].m.id);
  sg_store_receipt_in_t x[2] = {receipt("s0", SG_MSG_SENT, 0, "stat:ENROUTE"),
                                receipt("s1", SG_MSG_SENT, 0, "stat:ENROUTE")};
  receipts_at(c, 30, x, 2);
  same_reads(c, m[0].m.id, m[1].m.id);
  deliver(c, 40, "s0", "s1");
  same_reads(c, m[0].m.id, m[1].m.id);
  assert_int_equal(event_rows(c, m[0].m.id), event_rows(c, m[1].m.id) - 1);
  /* the twin's 'sent' webhook only */
  assert_int_equal(webhooks_pending(c), 3);
}

/* The receipt in the group of its SENT result (sqlite_pair.h). */
static void receipt_in_the_group(void **state) {
  ctx_t *c = *state;
  tmsg_t m[2];
  start_twins(c, m, 1);
  claim_got_t cg;
  claim_at(c, 10, &cg, 2);
  at(20);
  sg_store_result_in_t r[2] = {sent(&cg.parts[0], "g0"),
                               sent(&cg.parts[1], "g1")};
  items_got_t ri, xi;
  sg_store_receipt_in_t x[2] = {
      receipt("g0", SG_MSG_UNDELIVERABLE, 0x0B, "stat:UNDELIV"),
      receipt("g1", SG_MSG_UNDELIVERABLE, 0x0B, "stat:UNDELIV")};
  memset(&ri, 0, sizeof ri);
  memset(&xi, 0, sizeof xi);
  assert_int_equal(sg_store_record_results(c->st, r, 2, items_cb, &ri), 0);
  assert_int_equal(sg_store_record_receipts(c->st, x, 2, items_cb, &xi), 0);
  run_until(c, &xi.calls, 1);
  run_until(c, &ri.calls, 1);
  assert_int_equal(ri.status, 0);
  assert_int_equal(xi.status, 0);
  assert_int_equal(sent_marks(c, m[0].m.id), 1);
  same_reads(c, m[0].m.id, m[1].m.id);
}

/* A temporary failure, retried, sent at the second attempt. */
static void retry_then_sent(void **state) {
  ctx_t *c = *state;
  tmsg_t m[2];
  start_twins(c, m, 1);
  claim_got_t cg;
  claim_at(c, 10, &cg, 2);
  sg_store_result_in_t r[2];
  for (int i = 0; i < 2; i++)
    r[i] = (sg_store_result_in_t){.part_id = cg.parts[i].part_id,
                                  .attempt = cg.parts[i].attempt,
                                  .outcome = SG_STORE_RETRY,
                                  .next_attempt_ms = T0 + 100,
                                  .error_code = 0x58,
                                  .detail = "ESME_RTHROTTLED"};
  results_at(c, 15, r, 2);
  claim_send_at(c, 100, 120, "t0", "t1");
  assert_int_equal(sent_marks(c, m[0].m.id), 1);
  same_reads(c, m[0].m.id, m[1].m.id);
  receipts_of(c, 130, SG_MSG_UNDELIVERABLE, "t0", "t1");
  same_reads(c, m[0].m.id, m[1].m.id);
}

/* Undeliverable, then the operator's retry: the part is sent again with
 * another id. The first 'sent' stays a mark with its own id (kept in
 * sent_detail when the retry clears the part's), the second is a row. */
static void operator_retry_sends_twice(void **state) {
  ctx_t *c = *state;
  tmsg_t m[2];
  start_twins(c, m, 1);
  claim_send(c, "o0", "o1");
  receipts_of(c, 30, SG_MSG_UNDELIVERABLE, "o0", "o1");
  for (int i = 0; i < 2; i++) {
    at(40);
    fx_done_t g = {0};
    assert_int_equal(
        sg_store_message_retry(c->st, m[i].m.id, "again", fx_retry_cb, &g), 0);
    run_until(c, &g.calls, 1);
    assert_int_equal(g.status, 0);
  }
  same_reads(c, m[0].m.id, m[1].m.id);
  claim_send_at(c, 50, 60, "p0", "p1");
  same_reads(c, m[0].m.id, m[1].m.id);
  deliver(c, 70, "p0", "p1");
  same_reads(c, m[0].m.id, m[1].m.id);
  assert_int_equal(sent_marks(c, m[0].m.id), 1);
  assert_int_equal(event_rows(c, m[0].m.id), event_rows(c, m[1].m.id) - 1);
  assert_string_equal(q1s(c, "SELECT sent_detail FROM parts WHERE sent_event "
                             "IS NOT NULL"),
                      "raw:o");
  /* the first 'sent' shows the first id, the second the second */
  shown_t g;
  shown(c, m[0].m.id, &g);
  const char *first = strstr(g.text, "ev 1 sent 0 raw:o 20\n");
  assert_non_null(first);
  assert_non_null(strstr(first, "ev 1 sent 0 raw:p 60\n"));
}

/* Two parts: a part's 'sent' is not its message's; rows as before. */
static void two_parts_keep_rows(void **state) {
  ctx_t *c = *state;
  tmsg_t m[2];
  start_twins(c, m, 2);
  claim_got_t cg;
  claim_at(c, 10, &cg, 4);
  sg_store_result_in_t r[4] = {
      sent(&cg.parts[0], "ma0"), sent(&cg.parts[1], "mb0"),
      sent(&cg.parts[2], "ma1"), sent(&cg.parts[3], "mb1")};
  results_at(c, 20, r, 4);
  assert_int_equal(sent_marks(c, m[0].m.id), 0);
  assert_int_equal(event_rows(c, m[0].m.id), event_rows(c, m[1].m.id));
  same_reads(c, m[0].m.id, m[1].m.id);
}

/* The store stopped between the SENT and the receipt: the mark is on the
 * disk, the receipt finds the part by its id (no writer's copy). */
static void restart_before_receipt(void **state) {
  ctx_t *c = *state;
  tmsg_t m[2];
  start_twins(c, m, 1);
  claim_send(c, "r0", "r1");
  close_store(c);
  at(30);
  open_store(c);
  same_reads(c, m[0].m.id, m[1].m.id);
  deliver(c, 40, "r0", "r1");
  same_reads(c, m[0].m.id, m[1].m.id);
  assert_int_equal(sent_marks(c, m[0].m.id), 1);
  /* the ids after a restart still place later rows after the mark */
  tmsg_t n[2];
  twins(n, 1);
  submit_at(c, 50, n, 2);
  claim_send_at(c, 60, 70, "q0", "q1");
  deliver(c, 80, "q0", "q1");
  same_reads(c, n[0].m.id, n[1].m.id);
}

/* Messages that take the store's webhook statuses (none of their own),
 * which change with a restart between submit and SENT: what the store asks
 * for when the SENT is recorded decides the webhook (submitted under
 * statuses with 'sent', recorded under ones without: none; the other way
 * round: one, referring to the row). The writer's copy of the message
 * went with the restart, so the event keeps its row either way (a mark
 * only for a message whose row the writer holds, sent_mark_at), and the
 * events read the same. A message's own statuses (an account's
 * webhook_events) are stored with it at its submit: a reload of the
 * configuration after that changes nothing for it. */
static void store_statuses_changed(void **state) {
  ctx_t *c = *state;
  uint32_t with = SG_MSG_BIT(SG_MSG_SENT) | SG_MSG_BIT(SG_MSG_DELIVERED);
  uint32_t without = SG_MSG_BIT(SG_MSG_DELIVERED);
  for (int turn = 0; turn < 2; turn++) {
    sg_store_config_t cfg = test_config(c);
    cfg.webhook_statuses = turn == 0 ? with : without;
    assert_int_equal(open_with(c, &cfg), 0);
    tmsg_t m;
    tmsg_init(&m, turn == 0 ? "+14155550150" : "+14155550151", 1, CONN);
    m.m.callback_url = HOOK;
    submit_at(c, 0, &m, 1);
    long long before = webhooks_pending(c);
    close_store(c);
    cfg.webhook_statuses = turn == 0 ? without : with;
    assert_int_equal(open_with(c, &cfg), 0);
    claim_got_t cg;
    claim_at(c, 10, &cg, 1);
    sg_store_result_in_t r = sent(&cg.parts[0], turn == 0 ? "c0" : "c1");
    results_at(c, 20, &r, 1);
    assert_int_equal(sent_marks(c, m.m.id), 0);
    assert_int_equal(webhooks_pending(c), before + (turn == 0 ? 0 : 1));
    shown_t g;
    shown(c, m.m.id, &g);
    char want[256];
    snprintf(want, sizeof want,
             "ev 0 sending 0 - 10\nev 1 sent 0 raw:%c 20\nev 0 sent 0 - 20\n",
             'c');
    if (strstr(g.text, want) == NULL)
      fail_msg("%s\nwant:\n%s", g.text, want);
    close_store(c);
  }
}

/* Kannel: dlr-mask 3 (delivered, failed) has no call for 'sent', 11 has
 * (8): a mark and a row, read the same. */
static void kannel_masks(void **state) {
  ctx_t *c = *state;
  open_store(c);
  tmsg_t m[2];
  tmsg_init(&m[0], "+14155550160", 1, CONN);
  tmsg_init(&m[1], "+14155550161", 1, CONN);
  for (int i = 0; i < 2; i++)
    m[i].m.dlr_url = "http://127.0.0.1:9/dlr?id=%i&t=%d";
  m[0].m.dlr_mask = 3;
  m[1].m.dlr_mask = 11;
  submit_at(c, 0, m, 2);
  claim_send(c, "k0", "k1");
  assert_int_equal(sent_marks(c, m[0].m.id), 1);
  assert_int_equal(sent_marks(c, m[1].m.id), 0);
  assert_int_equal(webhooks_pending(c), 1); /* the type-8 call */
  deliver(c, 40, "k0", "k1");
  assert_int_equal(webhooks_pending(c), 3);
  same_reads(c, m[0].m.id, m[1].m.id);
  assert_int_equal(event_rows(c, m[0].m.id), event_rows(c, m[1].m.id) - 1);
}

#define OLD30_MID "01HW0000000000000000000030"

/* A file of schema 30: a message sent, its 'sent' in a row. Upgraded in
 * place, no mark, its events read as they did and go on. */
static void rows_of_schema_30(void **state) {
  ctx_t *c = *state;
  size_t applied = sqlite_schema_upto(c, 30);
  raw_exec(c,
           "INSERT INTO messages (id, batch_id, account_id, sender, recipient,"
           " encoding, body, status, parts_total, created_ms, updated_ms) "
           "VALUES ('" OLD30_MID "', '" OLD30_MID "', 1, 'S', "
           "'+14155550100', 0, 'hi', 'queued', 1, 1700000000000, "
           "1700000000000);"
           "INSERT INTO parts (message_id, seq, connector, encoding, ud, "
           "status, attempts, smsc_id, updated_ms) VALUES ('" OLD30_MID
           "', 1, '" CONN "', 0, x'6869', 'sent', 1, 'u30', 1700000000020);"
           "INSERT INTO events (message_id, part_seq, status, time_ms) VALUES "
           "('" OLD30_MID "', NULL, 'sending', 1700000000010);"
           "INSERT INTO events (message_id, part_seq, status, time_ms, "
           "fold_seq, fold_detail) VALUES ('" OLD30_MID "', NULL, 'sent', "
           "1700000000020, 1, 'u30');");
  at(30);
  open_store(c);
  sg_store_info_t info;
  sg_store_get_info(c->st, &info);
  assert_int_equal(info.migrated, sg__sqlite_migrations_count - applied);
  assert_int_equal(sent_marks(c, OLD30_MID), 0);
  sg_store_receipt_in_t x = receipt("u30", SG_MSG_DELIVERED, 0, NULL);
  receipts_at(c, 40, &x, 1);
  shown_t g;
  shown(c, OLD30_MID, &g);
  const char *want = "msg delivered 0 0 40 parts 1\n"
                     "part 1 smsc-a delivered u30 0 - 1 0 40\n"
                     "ev 0 queued 0 - 0\n"
                     "ev 0 sending 0 - 10\n"
                     "ev 1 sent 0 u30 20\n"
                     "ev 0 sent 0 - 20\n"
                     "ev 1 delivered 0 - 25\n"
                     "ev 0 delivered 0 - 40\n";
  if (strcmp(g.text, want) != 0)
    fail_msg("%s\nwant:\n%s", g.text, want);
}

int main(void) {
  if (pg_server() != NULL)
    return 0; /* SQLite's mark; PostgreSQL keeps rows (test_store_events) */
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(receipt_later, setup, teardown),
      cmocka_unit_test_setup_teardown(receipt_in_the_group, setup, teardown),
      cmocka_unit_test_setup_teardown(retry_then_sent, setup, teardown),
      cmocka_unit_test_setup_teardown(operator_retry_sends_twice, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(two_parts_keep_rows, setup, teardown),
      cmocka_unit_test_setup_teardown(restart_before_receipt, setup, teardown),
      cmocka_unit_test_setup_teardown(store_statuses_changed, setup, teardown),
      cmocka_unit_test_setup_teardown(kannel_masks, setup, teardown),
      cmocka_unit_test_setup_teardown(rows_of_schema_30, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
