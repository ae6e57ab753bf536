/* test_store_onpart.c - a message of one part keeps 'queued' in its row
 * while its part carries its status (sqlite_write.c stored_status): a
 * claim makes its part 'sending', a SENT result 'sent', and a receipt or a
 * FAILED result its final status (they write the part and the message's
 * event only). Every read shows it as before: the message's status, error
 * code and time, in a read, in a list filtered by status, in the counts, a
 * cancel and an operator's retry; a retry, a lease that ran out, a
 * restart, a late receipt, an expiry by validity still record their status
 * with their events and the row. Messages of several parts are written as
 * before, and so is a row written before (it reads the same). SQLite only:
 * the PostgreSQL store writes the row (test_store_sqlite's lives run on
 * both).
 */
#include "store_fixture.h"
#include "store/store_ops.h"

/* messages.status as stored, not as read. */
static const char *row_status(ctx_t *c, const char *mid) {
  char sql[128];
  snprintf(sql, sizeof sql, "SELECT status FROM messages WHERE id = '%s'",
           mid);
  return q1s(c, sql);
}

typedef struct list_got {
  int calls, status;
  size_t n;
  sg_msg_status_t st[8];
  int64_t updated_ms[8];
} list_got_t;

static void list_cb(sg_store_t *st, int status, const sg_store_list_res_t *res,
                    void *data) {
  (void)st;
  list_got_t *g = data;
  g->status = status;
  g->n = status == 0 ? res->n : 0;
  for (size_t i = 0; i < g->n && i < 8; i++) {
    g->st[i] = res->msgs[i].status;
    g->updated_ms[i] = res->msgs[i].updated_ms;
  }
  g->calls++;
}

static size_t list_with(ctx_t *c, sg_msg_status_t status, list_got_t *g) {
  sg_store_filter_t f = {.status = status, .limit = 8};
  memset(g, 0, sizeof *g);
  assert_int_equal(sg_store_list_messages(c->st, &f, list_cb, g), 0);
  run_until(c, &g->calls, 1);
  assert_int_equal(g->status, 0);
  return g->n;
}

static int cancel_status(ctx_t *c, const char *mid) {
  items_got_t g = {0};
  assert_int_equal(sg_store_cancel(c->st, mid, 0, items_cb, &g), 0);
  run_until(c, &g.calls, 1);
  assert_int_equal(g.status, 0);
  return g.items[0].status;
}

typedef struct retry_got {
  int calls, status;
  sg_store_retry_res_t *res;
} retry_got_t;

static void retry_cb(sg_store_t *st, int status,
                     const sg_store_retry_res_t *res, void *data) {
  (void)st;
  retry_got_t *g = data;
  g->status = status;
  if (res != NULL)
    *g->res = *res;
  g->calls++;
}

/* The operator's retry of message mid (store/store_ops.h). */
static int retry_wait(ctx_t *c, const char *mid, retry_got_t *g,
                      sg_store_retry_res_t *res) {
  memset(g, 0, sizeof *g);
  memset(res, 0, sizeof *res);
  g->res = res;
  assert_int_equal(sg_store_message_retry(c->st, mid, "again", retry_cb, g), 0);
  run_until(c, &g->calls, 1);
  return g->status;
}

/* Submits a message of n parts at T0 and claims it at T0 + 5 s. */
static void submit_claim(ctx_t *c, tmsg_t *m, unsigned n, claim_got_t *cg) {
  tmsg_init(m, "+14155550130", n, "smsc-a");
  assert_int_equal(submit_wait(c, m, 1, NULL, NULL), 0);
  atomic_store(&fake_now, T0 + 5000);
  claim_wait(c, "smsc-a", 4, cg);
  assert_int_equal(cg->n, n);
}

static void sending_is_read_from_the_part(void **state) {
  ctx_t *c = *state;
  open_store(c);
  tmsg_t m;
  claim_got_t cg;
  submit_claim(c, &m, 1, &cg);
  assert_string_equal(row_status(c, m.m.id), "queued"); /* not rewritten */

  msg_got_t g;
  get_wait(c, m.m.id, 0, &g);
  assert_int_equal(g.status_of_msg, SG_MSG_SENDING);
  static const sg_msg_status_t two[] = {SG_MSG_QUEUED, SG_MSG_SENDING};
  expect_msg_events(&g, two, 2);

  list_got_t lg;
  assert_int_equal(list_with(c, SG_MSG_SENDING, &lg), 1);
  assert_int_equal(lg.st[0], SG_MSG_SENDING);
  assert_int_equal(lg.updated_ms[0], T0 + 5000); /* the claim's time */
  assert_int_equal(list_with(c, SG_MSG_QUEUED, &lg), 0);
  assert_int_equal(list_with(c, SG_MSG_NONE, &lg), 1);
  assert_int_equal(lg.st[0], SG_MSG_SENDING);

  counts_got_t k;
  counts_wait(c, &k);
  assert_int_equal(k.k.messages[SG_MSG_SENDING], 1);
  assert_int_equal(k.k.messages[SG_MSG_QUEUED], 0);
  assert_int_equal(cancel_status(c, m.m.id), SG_ESTATE);

  /* A retry puts it back: the message event 'queued' and the row. */
  atomic_store(&fake_now, T0 + 6000);
  sg_store_result_in_t r = {.part_id = cg.parts[0].part_id,
                            .attempt = cg.parts[0].attempt,
                            .outcome = SG_STORE_RETRY,
                            .error_code = 88,
                            .detail = "throttled"};
  items_got_t ig;
  results_wait(c, &r, 1, &ig);
  assert_int_equal(ig.items[0].status, 0);
  assert_int_equal(ig.items[0].msg_status, SG_MSG_QUEUED);
  assert_true(ig.items[0].msg_changed);
  get_wait(c, m.m.id, 0, &g);
  assert_int_equal(g.status_of_msg, SG_MSG_QUEUED);
  static const sg_msg_status_t three[] = {SG_MSG_QUEUED, SG_MSG_SENDING,
                                          SG_MSG_QUEUED};
  expect_msg_events(&g, three, 3);
  assert_int_equal(list_with(c, SG_MSG_QUEUED, &lg), 1);
  assert_int_equal(lg.updated_ms[0], T0 + 6000);

  /* Claimed again and sent: 'sending' once more, then 'sent', still on the
   * part only. */
  atomic_store(&fake_now, T0 + 7000);
  claim_wait(c, "smsc-a", 4, &cg);
  assert_int_equal(cg.n, 1);
  r = (sg_store_result_in_t){.part_id = cg.parts[0].part_id,
                             .attempt = cg.parts[0].attempt,
                             .outcome = SG_STORE_SENT,
                             .smsc_id = "x-1"};
  results_wait(c, &r, 1, &ig);
  assert_int_equal(ig.items[0].msg_status, SG_MSG_SENT);
  assert_true(ig.items[0].msg_changed);
  assert_string_equal(row_status(c, m.m.id), "queued");
  get_wait(c, m.m.id, 0, &g);
  assert_int_equal(g.status_of_msg, SG_MSG_SENT);
  static const sg_msg_status_t five[] = {SG_MSG_QUEUED, SG_MSG_SENDING,
                                         SG_MSG_QUEUED, SG_MSG_SENDING,
                                         SG_MSG_SENT};
  expect_msg_events(&g, five, 5);
  assert_int_equal(g.attempts[0], 2);
  assert_int_equal(list_with(c, SG_MSG_SENT, &lg), 1);
  assert_int_equal(lg.updated_ms[0], T0 + 7000);
  assert_int_equal(list_with(c, SG_MSG_QUEUED, &lg), 0);
  assert_int_equal(list_with(c, SG_MSG_SENDING, &lg), 0);
  counts_wait(c, &k);
  assert_int_equal(k.k.messages[SG_MSG_SENT], 1);
  assert_int_equal(k.k.messages[SG_MSG_QUEUED], 0);
  assert_int_equal(cancel_status(c, m.m.id), SG_ESTATE);

  /* The receipt ends it on the part, with the receipt's events. */
  atomic_store(&fake_now, T0 + 9000);
  sg_store_receipt_in_t d = {.connector = "smsc-a",
                             .smsc_id = "x-1",
                             .status = SG_MSG_DELIVERED,
                             .done_ms = T0 + 8000};
  receipts_wait(c, &d, 1, &ig);
  assert_int_equal(ig.items[0].msg_status, SG_MSG_DELIVERED);
  assert_true(ig.items[0].msg_changed);
  assert_string_equal(row_status(c, m.m.id), "queued"); /* on the part */
  get_wait(c, m.m.id, 0, &g);
  static const sg_msg_status_t six[] = {SG_MSG_QUEUED, SG_MSG_SENDING,
                                        SG_MSG_QUEUED, SG_MSG_SENDING,
                                        SG_MSG_SENT,   SG_MSG_DELIVERED};
  expect_msg_events(&g, six, 6);
  assert_int_equal(list_with(c, SG_MSG_DELIVERED, &lg), 1);
  assert_int_equal(lg.updated_ms[0], T0 + 9000);
  counts_wait(c, &k);
  assert_int_equal(k.k.messages[SG_MSG_DELIVERED], 1);
  assert_int_equal(k.k.messages[SG_MSG_SENT], 0);
}

/* A lease that ran out, and a restart while sending, record 'queued'. */
static void requeued_records_queued(void **state) {
  ctx_t *c = *state;
  open_store(c);
  tmsg_t m;
  claim_got_t cg;
  submit_claim(c, &m, 1, &cg); /* lease 60 s */
  atomic_store(&fake_now, T0 + 70000);
  claim_wait(c, "smsc-a", 4, &cg);
  assert_int_equal(cg.requeued, 1);
  assert_int_equal(cg.n, 1); /* taken again at once */
  msg_got_t g;
  get_wait(c, m.m.id, 0, &g);
  static const sg_msg_status_t four[] = {SG_MSG_QUEUED, SG_MSG_SENDING,
                                         SG_MSG_QUEUED, SG_MSG_SENDING};
  expect_msg_events(&g, four, 4);
  assert_int_equal(g.status_of_msg, SG_MSG_SENDING);

  close_store(c);
  open_store(c);
  get_wait(c, m.m.id, 0, &g);
  assert_int_equal(g.status_of_msg, SG_MSG_QUEUED);
  static const sg_msg_status_t five[] = {SG_MSG_QUEUED, SG_MSG_SENDING,
                                         SG_MSG_QUEUED, SG_MSG_SENDING,
                                         SG_MSG_QUEUED};
  expect_msg_events(&g, five, 5);
  assert_string_equal(row_status(c, m.m.id), "queued");
}

/* A receipt that ends the part while it is 'sending' (sent again after a
 * lost response) ends the message from 'sending'. */
static void receipt_while_sending(void **state) {
  ctx_t *c = *state;
  open_store(c);
  tmsg_t m;
  claim_got_t cg;
  submit_claim(c, &m, 1, &cg);
  sg_store_result_in_t r = {.part_id = cg.parts[0].part_id,
                            .attempt = cg.parts[0].attempt,
                            .outcome = SG_STORE_SENT,
                            .smsc_id = "x-2"};
  items_got_t ig;
  results_wait(c, &r, 1, &ig);
  assert_string_equal(row_status(c, m.m.id), "queued");
  raw_exec(c, "UPDATE parts SET status = 'sending'"); /* claimed again */
  raw_exec(c, "UPDATE messages SET status = 'queued'");
  sg_store_receipt_in_t d = {
      .connector = "smsc-a", .smsc_id = "x-2", .status = SG_MSG_DELIVERED};
  receipts_wait(c, &d, 1, &ig);
  assert_int_equal(ig.items[0].msg_status, SG_MSG_DELIVERED);
  assert_true(ig.items[0].msg_changed);
  assert_string_equal(row_status(c, m.m.id), "queued");
  msg_got_t g;
  get_wait(c, m.m.id, 0, &g);
  assert_int_equal(g.status_of_msg, SG_MSG_DELIVERED);
}

/* A message of two parts is written as before: its row says 'sending'. */
static void several_parts_write_the_row(void **state) {
  ctx_t *c = *state;
  open_store(c);
  tmsg_t m;
  claim_got_t cg;
  submit_claim(c, &m, 2, &cg);
  assert_string_equal(row_status(c, m.m.id), "sending");
  msg_got_t g;
  get_wait(c, m.m.id, 0, &g);
  assert_int_equal(g.status_of_msg, SG_MSG_SENDING);
  static const sg_msg_status_t two[] = {SG_MSG_QUEUED, SG_MSG_SENDING};
  expect_msg_events(&g, two, 2);
  list_got_t lg;
  assert_int_equal(list_with(c, SG_MSG_SENDING, &lg), 1);
  assert_int_equal(lg.updated_ms[0], T0 + 5000);
}

/* ---- final statuses on the part ----------------------------------------- */

/* A message as a read shows it: its status, error code and time, and its
 * message events as "status:code:time" in order. */
typedef struct shown {
  int calls, status;
  sg_msg_status_t st;
  int32_t error_code;
  int64_t updated_ms;
  char events[512];
} shown_t;

static void shown_cb(sg_store_t *st, int status, const sg_store_message_t *m,
                     void *data) {
  (void)st;
  shown_t *g = data;
  g->status = status;
  if (status == 0) {
    g->st = m->status;
    g->error_code = m->error_code;
    g->updated_ms = m->updated_ms;
    size_t at = 0;
    for (size_t i = 0; i < m->n_events && at < sizeof g->events - 64; i++)
      if (m->events[i].part_seq == 0)
        at += (size_t)snprintf(g->events + at, sizeof g->events - at,
                               "%s:%d:%lld ",
                               sg_store_status_name(m->events[i].status),
                               (int)m->events[i].error_code,
                               (long long)(m->events[i].time_ms - T0));
  }
  g->calls++;
}

static void shown_wait(ctx_t *c, const char *mid, shown_t *g) {
  memset(g, 0, sizeof *g);
  assert_int_equal(sg_store_get_message(c->st, mid, 0, shown_cb, g), 0);
  run_until(c, &g->calls, 1);
  assert_int_equal(g->status, 0);
}

/* The read of mid shows status st with error code and time (after T0). */
static void expect_shown(ctx_t *c, const char *mid, sg_msg_status_t st,
                         int32_t code, int64_t at, const char *events) {
  shown_t g;
  shown_wait(c, mid, &g);
  assert_int_equal(g.st, st);
  assert_int_equal(g.error_code, code);
  assert_int_equal(g.updated_ms, T0 + at);
  assert_string_equal(g.events, events);
}

/* Submits a one-part message to rcpt at T0, claims it at T0 + 5 s and
 * records it sent as smsc_id at T0 + 6 s. */
static void sent_one(ctx_t *c, tmsg_t *m, const char *rcpt,
                     const char *smsc_id) {
  atomic_store(&fake_now, T0);
  tmsg_init(m, rcpt, 1, "smsc-a");
  assert_int_equal(submit_wait(c, m, 1, NULL, NULL), 0);
  atomic_store(&fake_now, T0 + 5000);
  claim_one_sent_at(c, "smsc-a", smsc_id, T0 + 6000);
}

/* The receipt of smsc_id at `at` (after T0), done at T0 + 8 s. */
static void receipt_at(ctx_t *c, const char *smsc_id, sg_msg_status_t st,
                       int32_t code, int64_t at, sg_msg_status_t want) {
  atomic_store(&fake_now, T0 + at);
  sg_store_receipt_in_t d = {.connector = "smsc-a",
                             .smsc_id = smsc_id,
                             .status = st,
                             .error_code = code,
                             .detail = "receipt",
                             .done_ms = T0 + 8000};
  items_got_t ig;
  receipts_wait(c, &d, 1, &ig);
  assert_int_equal(ig.items[0].status, 0);
  assert_int_equal(ig.items[0].msg_status, want);
}

#define LIVED "queued:0:0 sending:0:5000 sent:0:6000 "

/* Receipts of one-part messages end them on their part: the rows keep
 * 'queued', and every read shows what it showed when the row was written:
 * the status, the failure's error code (none for 'delivered', even with a
 * code in its receipt), the receipt's time, the lists by status, the
 * counts, a refused cancel. */
static void receipts_end_on_the_part(void **state) {
  ctx_t *c = *state;
  open_store(c);
  tmsg_t m[3];
  sent_one(c, &m[0], "+14155550141", "r-1");
  receipt_at(c, "r-1", SG_MSG_DELIVERED, 3, 9000, SG_MSG_DELIVERED);
  sent_one(c, &m[1], "+14155550142", "r-2");
  receipt_at(c, "r-2", SG_MSG_UNDELIVERABLE, 11, 9100, SG_MSG_UNDELIVERABLE);
  sent_one(c, &m[2], "+14155550143", "r-3");
  receipt_at(c, "r-3", SG_MSG_EXPIRED, 0, 9200, SG_MSG_EXPIRED);
  for (int i = 0; i < 3; i++)
    assert_string_equal(row_status(c, m[i].m.id), "queued");
  assert_int_equal(
      q1(c, "SELECT count(*) FROM messages WHERE error_code IS NOT NULL"), 0);

  expect_shown(c, m[0].m.id, SG_MSG_DELIVERED, 0, 9000,
               LIVED "delivered:0:9000 ");
  expect_shown(c, m[1].m.id, SG_MSG_UNDELIVERABLE, 11, 9100,
               LIVED "undeliverable:11:9100 ");
  expect_shown(c, m[2].m.id, SG_MSG_EXPIRED, 0, 9200, LIVED "expired:0:9200 ");

  list_got_t lg;
  assert_int_equal(list_with(c, SG_MSG_DELIVERED, &lg), 1);
  assert_int_equal(lg.updated_ms[0], T0 + 9000);
  assert_int_equal(list_with(c, SG_MSG_UNDELIVERABLE, &lg), 1);
  assert_int_equal(lg.updated_ms[0], T0 + 9100);
  assert_int_equal(list_with(c, SG_MSG_EXPIRED, &lg), 1);
  assert_int_equal(list_with(c, SG_MSG_QUEUED, &lg), 0);
  assert_int_equal(list_with(c, SG_MSG_SENT, &lg), 0);
  assert_int_equal(list_with(c, SG_MSG_NONE, &lg), 3);
  assert_int_equal(lg.st[0], SG_MSG_EXPIRED); /* newest first */
  assert_int_equal(lg.st[2], SG_MSG_DELIVERED);

  counts_got_t k;
  counts_wait(c, &k);
  assert_int_equal(k.k.messages[SG_MSG_DELIVERED], 1);
  assert_int_equal(k.k.messages[SG_MSG_UNDELIVERABLE], 1);
  assert_int_equal(k.k.messages[SG_MSG_EXPIRED], 1);
  assert_int_equal(k.k.messages[SG_MSG_QUEUED], 0);
  assert_int_equal(k.k.messages[SG_MSG_SENT], 0);
  for (int i = 0; i < 3; i++)
    assert_int_equal(cancel_status(c, m[i].m.id), SG_ESTATE);
  assert_string_equal(row_status(c, m[0].m.id), "queued"); /* unchanged */

  /* The counts read from the tables at the next open say the same. */
  close_store(c);
  open_store(c);
  counts_wait(c, &k);
  assert_int_equal(k.k.messages[SG_MSG_DELIVERED], 1);
  assert_int_equal(k.k.messages[SG_MSG_UNDELIVERABLE], 1);
  assert_int_equal(k.k.messages[SG_MSG_EXPIRED], 1);
  assert_int_equal(k.k.messages[SG_MSG_QUEUED], 0);
  expect_shown(c, m[1].m.id, SG_MSG_UNDELIVERABLE, 11, 9100,
               LIVED "undeliverable:11:9100 ");
}

/* A receipt that comes before the SENT result is held, and applied by it:
 * the message ends on its part all the same. */
static void an_orphan_receipt_on_the_part(void **state) {
  ctx_t *c = *state;
  open_store(c);
  atomic_store(&fake_now, T0 + 5500);
  sg_store_receipt_in_t d = {.connector = "smsc-a",
                             .smsc_id = "o-1",
                             .status = SG_MSG_UNDELIVERABLE,
                             .error_code = 13,
                             .done_ms = T0 + 5400};
  items_got_t ig;
  receipts_wait(c, &d, 1, &ig);
  assert_true(ig.items[0].held);
  tmsg_t m;
  sent_one(c, &m, "+14155550144", "o-1");
  assert_string_equal(row_status(c, m.m.id), "queued");
  expect_shown(c, m.m.id, SG_MSG_UNDELIVERABLE, 13, 6000,
               LIVED "undeliverable:13:6000 ");
}

/* A second receipt for a message that ended on its part: its status goes
 * into the row first, so the row and every read end as they did when the
 * first receipt wrote the row (the error code of the first is kept). A
 * row written that way before (by an older smsgate) reads the same as one
 * on its part, and ends the same after the second receipt. */
static void a_late_receipt_and_an_older_row(void **state) {
  ctx_t *c = *state;
  open_store(c);
  tmsg_t m[2];
  sent_one(c, &m[0], "+14155550145", "l-1");
  receipt_at(c, "l-1", SG_MSG_UNDELIVERABLE, 11, 9000, SG_MSG_UNDELIVERABLE);
  assert_string_equal(row_status(c, m[0].m.id), "queued"); /* on the part */
  sent_one(c, &m[1], "+14155550146", "l-2");
  receipt_at(c, "l-2", SG_MSG_UNDELIVERABLE, 11, 9000, SG_MSG_UNDELIVERABLE);
  char sql[256];
  snprintf(sql, sizeof sql,
           "UPDATE messages SET status = 'undeliverable', error_code = 11, "
           "updated_ms = %lld WHERE id = '%s'",
           (long long)(T0 + 9000), m[1].m.id);
  raw_exec(c, sql); /* as the row was written before */
  close_store(c);   /* another writer: the store counts again */
  open_store(c);
  for (int i = 0; i < 2; i++)
    expect_shown(c, m[i].m.id, SG_MSG_UNDELIVERABLE, 11, 9000,
                 LIVED "undeliverable:11:9000 ");
  counts_got_t k;
  counts_wait(c, &k);
  assert_int_equal(k.k.messages[SG_MSG_UNDELIVERABLE], 2);

  receipt_at(c, "l-1", SG_MSG_DELIVERED, 0, 12000, SG_MSG_DELIVERED);
  receipt_at(c, "l-2", SG_MSG_DELIVERED, 0, 12000, SG_MSG_DELIVERED);
  for (int i = 0; i < 2; i++) {
    assert_string_equal(row_status(c, m[i].m.id), "delivered");
    expect_shown(c, m[i].m.id, SG_MSG_DELIVERED, 11, 12000,
                 LIVED "undeliverable:11:9000 delivered:0:12000 ");
  }
  counts_wait(c, &k);
  assert_int_equal(k.k.messages[SG_MSG_DELIVERED], 2);
  assert_int_equal(k.k.messages[SG_MSG_UNDELIVERABLE], 0);
  list_got_t lg;
  assert_int_equal(list_with(c, SG_MSG_UNDELIVERABLE, &lg), 0);
  assert_int_equal(list_with(c, SG_MSG_DELIVERED, &lg), 2);
}

/* A FAILED result ends the message on its part when the part's row then
 * holds the message's error code; after a retry with a code of its own a
 * FAILED result without one writes the row (the part keeps the retry's
 * code, the message shows none). An operator's retry queues a message
 * that ended on its part again, as one whose row said it. An expiry by
 * validity, and messages of several parts, write the row. */
static void failures_and_the_row(void **state) {
  ctx_t *c = *state;
  open_store(c);
  tmsg_t m[4];
  tmsg_init(&m[0], "+14155550147", 1, "smsc-a");
  tmsg_init(&m[1], "+14155550148", 1, "smsc-a");
  assert_int_equal(submit_wait(c, m, 2, NULL, NULL), 0);
  atomic_store(&fake_now, T0 + 5000);
  claim_got_t cg;
  claim_wait(c, "smsc-a", 4, &cg);
  assert_int_equal(cg.n, 2);
  atomic_store(&fake_now, T0 + 6000);
  sg_store_result_in_t r[2] = {{.part_id = cg.parts[0].part_id,
                                .attempt = cg.parts[0].attempt,
                                .outcome = SG_STORE_FAILED,
                                .final_status = SG_MSG_REJECTED,
                                .error_code = 69,
                                .detail = "rejected"},
                               {.part_id = cg.parts[1].part_id,
                                .attempt = cg.parts[1].attempt,
                                .outcome = SG_STORE_RETRY,
                                .error_code = 88,
                                .detail = "throttled"}};
  items_got_t ig;
  results_wait(c, r, 2, &ig);
  assert_int_equal(ig.items[0].msg_status, SG_MSG_REJECTED);
  char rejected[SG_ID_LEN + 1], other[SG_ID_LEN + 1];
  snprintf(rejected, sizeof rejected, "%s", cg.parts[0].message_id);
  snprintf(other, sizeof other, "%s", cg.parts[1].message_id);
  assert_string_equal(row_status(c, rejected), "queued");
  expect_shown(c, rejected, SG_MSG_REJECTED, 69, 6000,
               "queued:0:0 sending:0:5000 rejected:69:6000 ");

  atomic_store(&fake_now, T0 + 7000);
  claim_wait(c, "smsc-a", 4, &cg);
  assert_int_equal(cg.n, 1);
  r[0] = (sg_store_result_in_t){.part_id = cg.parts[0].part_id,
                                .attempt = cg.parts[0].attempt,
                                .outcome = SG_STORE_FAILED,
                                .final_status = SG_MSG_FAILED,
                                .detail = "gave up"};
  results_wait(c, r, 1, &ig);
  assert_int_equal(ig.items[0].msg_status, SG_MSG_FAILED);
  assert_string_equal(row_status(c, other), "failed");
  expect_shown(c, other, SG_MSG_FAILED, 0, 7000,
               "queued:0:0 sending:0:5000 queued:0:6000 sending:0:7000 "
               "failed:0:7000 ");
  assert_int_equal(cancel_status(c, rejected), SG_ESTATE);

  /* The operator's retry of the message rejected on its part. */
  atomic_store(&fake_now, T0 + 8000);
  sg_store_retry_res_t rr;
  retry_got_t rg;
  assert_int_equal(retry_wait(c, rejected, &rg, &rr), 0);
  assert_int_equal(rr.before, SG_MSG_REJECTED);
  assert_int_equal(rr.after, SG_MSG_QUEUED);
  assert_string_equal(row_status(c, rejected), "queued");
  expect_shown(c, rejected, SG_MSG_QUEUED, 0, 8000,
               "queued:0:0 sending:0:5000 rejected:69:6000 queued:0:8000 ");
  counts_got_t k;
  counts_wait(c, &k);
  assert_int_equal(k.k.messages[SG_MSG_QUEUED], 1);
  assert_int_equal(k.k.messages[SG_MSG_REJECTED], 0);
  assert_int_equal(k.k.messages[SG_MSG_FAILED], 1);

  /* Expired by its validity before it was sent: the row says so. */
  tmsg_init(&m[2], "+14155550149", 1, "smsc-b");
  m[2].m.validity_ms = T0 + 9000;
  assert_int_equal(submit_wait(c, &m[2], 1, NULL, NULL), 0);
  atomic_store(&fake_now, T0 + 10000);
  claim_wait(c, "smsc-b", 4, &cg);
  assert_int_equal(cg.expired, 1);
  assert_string_equal(row_status(c, m[2].m.id), "expired");

  /* Two parts, both delivered: the row says so. */
  tmsg_init(&m[3], "+14155550150", 2, "smsc-c");
  assert_int_equal(submit_wait(c, &m[3], 1, NULL, NULL), 0);
  claim_wait(c, "smsc-c", 4, &cg);
  assert_int_equal(cg.n, 2);
  r[0] = (sg_store_result_in_t){.part_id = cg.parts[0].part_id,
                                .attempt = cg.parts[0].attempt,
                                .outcome = SG_STORE_SENT,
                                .smsc_id = "t-1"};
  r[1] = (sg_store_result_in_t){.part_id = cg.parts[1].part_id,
                                .attempt = cg.parts[1].attempt,
                                .outcome = SG_STORE_SENT,
                                .smsc_id = "t-2"};
  results_wait(c, r, 2, &ig);
  sg_store_receipt_in_t d[2] = {
      {.connector = "smsc-c", .smsc_id = "t-1", .status = SG_MSG_DELIVERED},
      {.connector = "smsc-c", .smsc_id = "t-2", .status = SG_MSG_DELIVERED}};
  receipts_wait(c, d, 2, &ig);
  assert_int_equal(ig.items[1].msg_status, SG_MSG_DELIVERED);
  assert_string_equal(row_status(c, m[3].m.id), "delivered");
}

/* A receipt finds its part in the writer's memory of the parts sent; a
 * write of the file by another connection (the CLI, another process)
 * empties that memory, so the receipt then finds what the file says. */
static void another_writer_empties_the_memory(void **state) {
  ctx_t *c = *state;
  open_store(c);
  tmsg_t m[2];
  sent_one(c, &m[0], "+14155550151", "w-1");
  sent_one(c, &m[1], "+14155550152", "w-2");
  char sql[160];
  snprintf(sql, sizeof sql,
           "UPDATE parts SET status = 'queued', smsc_id = NULL WHERE "
           "message_id = '%s'",
           m[1].m.id);
  raw_exec(c, sql);
  receipt_at(c, "w-1", SG_MSG_DELIVERED, 0, 9000, SG_MSG_DELIVERED);
  atomic_store(&fake_now, T0 + 9500);
  sg_store_receipt_in_t d = {
      .connector = "smsc-a", .smsc_id = "w-2", .status = SG_MSG_DELIVERED};
  items_got_t ig;
  receipts_wait(c, &d, 1, &ig);
  assert_true(ig.items[0].held); /* no part has that id now */
  shown_t g;
  shown_wait(c, m[1].m.id, &g);
  assert_int_equal(g.st, SG_MSG_QUEUED);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(sending_is_read_from_the_part, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(requeued_records_queued, setup, teardown),
      cmocka_unit_test_setup_teardown(receipt_while_sending, setup, teardown),
      cmocka_unit_test_setup_teardown(several_parts_write_the_row, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(receipts_end_on_the_part, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(an_orphan_receipt_on_the_part, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(a_late_receipt_and_an_older_row, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(failures_and_the_row, setup, teardown),
      cmocka_unit_test_setup_teardown(another_writer_empties_the_memory, setup,
                                      teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
