/* Tests for the statements the SQLite writer runs per message
 * (store/sqlite_write.c), on a bare connection with the store's schema: a
 * sendsms message's row takes its dlr-url, dlr-mask and webhook filter in
 * its INSERT (one change: no UPDATE after it), and a message without them
 * keeps the columns' defaults; the claim takes a message's columns from
 * the writer's copy of its row when it holds one; a group's usage counts
 * are written once per account and period, and its campaign counter moves
 * once per campaign (none for a message of no campaign); a SENT result of
 * a part the writer claimed does not read the part first; a message whose
 * part a waiting claim takes at its submit writes no event row (its
 * 'sending' is a mark on the part) unless a webhook asks for 'sending';
 * a receipt that ends a one-part message writes its part and event, not
 * its row; a receipt of a part the writer sent does not look the part up. */
#include "store/store_fixture.h"

#include "store/store_bare.h"
#include "store/sqlite_whq.h"

/* The webhook statuses of the bare connections. */
static const uint32_t HOOKED =
    SG_MSG_BIT(SG_MSG_SENT) | SG_MSG_BIT(SG_MSG_DELIVERED);

/* The callback URL of the messages submit() makes (NULL: none). */
static const char *submit_callback;

/* Submits message id of one part to c1, with m's Kannel fields; returns
 * the rows it changed. */
static int64_t submit(bare_t *b, const char *id, const char *dlr_url,
                      uint8_t dlr_mask, uint32_t webhook_statuses) {
  sg_store_part_in_t p;
  sg_store_msg_in_t m = bare_msg(id, &p);
  m.dlr_wanted = true;
  m.dlr_url = dlr_url;
  m.dlr_mask = dlr_mask;
  m.webhook_statuses = webhook_statuses;
  m.callback_url = submit_callback;
  sg__store_req_t r;
  bare_submit_req(&r, &m, NULL);
  int64_t before = sqlite3_total_changes64(b->c.db);
  bare_run(b, &r, 1000, true);
  sg__arena_free(&r.arena);
  return sqlite3_total_changes64(b->c.db) - before;
}

/* quote() of message id's dlr_url, dlr_mask and webhook_statuses. */
static void kannel_cols(bare_t *b, const char *id, char *out, size_t n) {
  sqlite3_stmt *s;
  assert_int_equal(sqlite3_prepare_v2(b->c.db,
                                      "SELECT quote(dlr_url) || ' ' || "
                                      "quote(dlr_mask) || ' ' || "
                                      "quote(webhook_statuses) FROM messages "
                                      "WHERE id = ?1",
                                      -1, &s, NULL),
                   SQLITE_OK);
  sqlite3_bind_text(s, 1, id, -1, SQLITE_STATIC);
  assert_int_equal(sqlite3_step(s), SQLITE_ROW);
  snprintf(out, n, "%s", (const char *)sqlite3_column_text(s, 0));
  sqlite3_finalize(s);
}

static void kannel_fields_in_the_insert(void **state) {
  (void)state;
  bare_t b;
  char cols[256];
  bare_open(&b, NULL, HOOKED);
  /* The message and its part: two rows (its first event is the message
   * row), no UPDATE. */
  assert_int_equal(submit(&b, "k1", "http://127.0.0.1:9/d?s=%d", 3,
                          SG_MSG_BIT(SG_MSG_DELIVERED)),
                   2);
  kannel_cols(&b, "k1", cols, sizeof cols);
  assert_string_equal(cols, "'http://127.0.0.1:9/d?s=%d' 3 32");
  /* A webhook filter alone; a mask without a URL is not kept. */
  assert_int_equal(submit(&b, "k2", NULL, 3, SG_MSG_BIT(SG_MSG_SENT)), 2);
  kannel_cols(&b, "k2", cols, sizeof cols);
  assert_string_equal(cols, "NULL 0 16");
  assert_int_equal(submit(&b, "k3", NULL, 0, 0), 2);
  kannel_cols(&b, "k3", cols, sizeof cols);
  assert_string_equal(cols, "NULL 0 NULL");
  bare_close(&b);
}

/* Claims the parts of c1 (one expected); its sender, recipient, account
 * and dlr_wanted into out. */
static void claim_one(bare_t *b, int64_t now, char *out, size_t n) {
  sg__store_req_t r;
  bare_claim_req(&r);
  bare_run(b, &r, now, true);
  assert_int_equal(r.out.claim.n_parts, 1);
  const sg_store_claimed_t *p = &r.out.claim.parts[0];
  snprintf(out, n, "%s %s %lld %d %u %u", p->sender, p->recipient,
           (long long)p->account_id, p->dlr_wanted, p->attempt,
           (unsigned)p->ud_len);
  sg__arena_free(&r.arena);
}

/* The claim takes the message's columns from the writer's copy of its row,
 * not from a join with `messages`: a row changed behind the writer's back
 * (which nothing in the store does) shows which of the two it read. With
 * the copy off it reads the row (MSG_FOR_CLAIM). */
static void claim_from_the_copy(void **state) {
  (void)state;
  bare_t held, read;
  char a[256], b[256];
  bare_open(&held, NULL, HOOKED); /* the copy is sized at the first submit */
  submit(&held, "c1", NULL, 0, 0);
  bare_open(&read, "0", HOOKED);
  submit(&read, "c1", NULL, 0, 0);
  bare_exec(&held, "UPDATE messages SET sender = 'Row'");
  bare_exec(&read, "UPDATE messages SET sender = 'Row'");
  claim_one(&held, 2000, a, sizeof a);
  claim_one(&read, 2000, b, sizeof b);
  assert_string_equal(a, "Shop +79001234567 1 1 1 3");
  assert_string_equal(b, "Row +79001234567 1 1 1 3");
  sqlite3_stmt *s = read.c.q[SG__Q_MSG_FOR_CLAIM];
  assert_non_null(s);
  assert_int_equal(sqlite3_stmt_status(s, SQLITE_STMTSTATUS_RUN, 0), 1);
  assert_null(held.c.q[SG__Q_MSG_FOR_CLAIM]);
  bare_close(&held);
  bare_close(&read);
}

/* A part whose message row is missing is not claimed (the join did so). */
static void claim_skips_a_part_without_message(void **state) {
  (void)state;
  bare_t b;
  char out[256];
  bare_open(&b, "0", HOOKED);
  submit(&b, "c2", NULL, 0, 0);
  bare_exec(&b,
            "INSERT INTO parts (message_id, seq, connector, encoding, ud, "
            "status, updated_ms) VALUES ('gone', 1, 'c1', 0, x'00', 'queued', "
            "1)");
  claim_one(&b, 2000, out, sizeof out);
  assert_string_equal(out, "Shop +79001234567 1 1 1 3");
  bare_close(&b);
}

/* Submits one message of account 1 counting `parts` in its usage of day
 * and month, inside the open transaction. */
static void submit_counted(bare_t *b, const char *id, uint32_t parts) {
  sg_store_part_in_t p;
  sg_store_msg_in_t m = bare_msg(id, &p);
  sg__store_req_t r;
  bare_submit_req(&r, &m, NULL);
  snprintf(r.in.submit.usage_day, sizeof r.in.submit.usage_day, "2026-11-27");
  snprintf(r.in.submit.usage_month, sizeof r.in.submit.usage_month, "2026-11");
  r.in.submit.usage_parts = parts;
  assert_int_equal(sg__sq_run_write(&b->c, &r, 1000), 0);
  sg__arena_free(&r.arena);
}

static long long usage(bare_t *b, const char *period) {
  sqlite3_stmt *s;
  assert_int_equal(sqlite3_prepare_v2(b->c.db,
                                      "SELECT coalesce(sum(parts), -1) FROM "
                                      "account_usage WHERE account_id = 1 "
                                      "AND period = ?1",
                                      -1, &s, NULL),
                   SQLITE_OK);
  sqlite3_bind_text(s, 1, period, -1, SQLITE_STATIC);
  assert_int_equal(sqlite3_step(s), SQLITE_ROW);
  long long n = sqlite3_column_int64(s, 0);
  sqlite3_finalize(s);
  return n;
}

/* A group's usage counts are one upsert per account and period, written
 * before its COMMIT; a rolled-back group leaves none behind. */
static void usage_counted_once_per_group(void **state) {
  (void)state;
  bare_t b;
  bare_open(&b, NULL, HOOKED);
  bare_exec(&b, "BEGIN IMMEDIATE");
  submit_counted(&b, "u1", 2);
  sg__sq_limits_discard(&b.c); /* as a rollback does */
  bare_exec(&b, "ROLLBACK");
  bare_exec(&b, "BEGIN IMMEDIATE");
  for (int i = 0; i < 5; i++) {
    char id[16];
    snprintf(id, sizeof id, "u%d", i + 2);
    submit_counted(&b, id, 3);
  }
  assert_int_equal(usage(&b, "2026-11-27"), -1); /* not yet written */
  assert_int_equal(sg__sq_limits_flush(&b.c), 0);
  bare_exec(&b, "COMMIT");
  assert_int_equal(usage(&b, "2026-11-27"), 15);
  assert_int_equal(usage(&b, "2026-11"), 15);
  sqlite3_stmt *s = b.c.q[SG__Q_LIM_COUNT];
  assert_non_null(s);
  assert_int_equal(sqlite3_stmt_status(s, SQLITE_STMTSTATUS_RUN, 0), 2);
  bare_close(&b);
}

/* Submits message id of one part in batch, inside the open transaction. */
static void submit_in(bare_t *b, const char *batch, const char *id) {
  sg_store_part_in_t p;
  sg_store_msg_in_t m = bare_msg(id, &p);
  sg__store_req_t r;
  bare_submit_req(&r, &m, batch);
  assert_int_equal(sg__sq_run_write(&b->c, &r, 1000), 0);
  sg__arena_free(&r.arena);
}

/* Campaign K1's counters, "queued sent delivered failed canceled". */
static void k1_counts(bare_t *b, char *out, size_t n) {
  sqlite3_stmt *s;
  assert_int_equal(sqlite3_prepare_v2(b->c.db,
                                      "SELECT n_queued || ' ' || n_sent || ' "
                                      "' || n_delivered || ' ' || n_failed "
                                      "|| ' ' || n_canceled FROM campaigns "
                                      "WHERE id = 'K1'",
                                      -1, &s, NULL),
                   SQLITE_OK);
  assert_int_equal(sqlite3_step(s), SQLITE_ROW);
  snprintf(out, n, "%s", (const char *)sqlite3_column_text(s, 0));
  sqlite3_finalize(s);
}

static int campaign_updates(bare_t *b) {
  sqlite3_stmt *s = b->c.q[SG__Q_CAMPAIGN_COUNT];
  return s == NULL ? 0 : sqlite3_stmt_status(s, SQLITE_STMTSTATUS_RUN, 0);
}

/* A group's campaign counter moves are one UPDATE per campaign, written
 * before its COMMIT; messages of no campaign cost none; a rolled-back
 * group leaves its moves unwritten; status changes add up likewise. */
static void campaign_counted_once_per_group(void **state) {
  (void)state;
  bare_t b;
  char counts[64];
  bare_open(&b, NULL, HOOKED);
  bare_exec(&b,
            "INSERT INTO campaigns (id, account_id, name, status, body, "
            "created_ms, updated_ms) VALUES ('K1', 1, 'n', 'running', 'x', 0, "
            "0)");
  bare_exec(&b, "BEGIN IMMEDIATE");
  assert_int_equal(sg__sq_campaigns_probe(&b.c), 0);
  submit_in(&b, "K1", "m0");
  sg__sq_campaign_discard(&b.c); /* as a rollback does */
  bare_exec(&b, "ROLLBACK");
  bare_exec(&b, "BEGIN IMMEDIATE");
  assert_int_equal(sg__sq_campaigns_probe(&b.c), 0);
  submit_in(&b, "K1", "m1");
  submit_in(&b, "B2", "m2"); /* no campaign's */
  submit_in(&b, "K1", "m3");
  submit_in(&b, "K1", "m4");
  assert_int_equal(campaign_updates(&b), 0); /* not yet written */
  assert_int_equal(sg__sq_campaign_flush(&b.c), 0);
  bare_exec(&b, "COMMIT");
  k1_counts(&b, counts, sizeof counts);
  assert_string_equal(counts, "3 0 0 0 0");
  assert_int_equal(campaign_updates(&b), 1);
  /* The three parts of K1 claimed and sent in one group: queued to sending
   * moves no counter, sending to sent moves one, once for the three. */
  sg__store_req_t r;
  bare_claim_req(&r);
  bare_exec(&b, "BEGIN IMMEDIATE");
  assert_int_equal(sg__sq_campaigns_probe(&b.c), 0);
  assert_int_equal(sg__sq_run_write(&b.c, &r, 2000), 0);
  assert_int_equal(r.out.claim.n_parts, 4);
  sg_store_result_in_t res[4];
  for (unsigned i = 0; i < 4; i++)
    res[i] = (sg_store_result_in_t){.part_id = r.out.claim.parts[i].part_id,
                                    .attempt = 1,
                                    .outcome = SG_STORE_SENT,
                                    .smsc_id = "k7"};
  sg__arena_free(&r.arena);
  memset(&r, 0, sizeof r);
  r.kind = SG__REQ_RESULTS;
  r.in.results.items = res;
  r.in.results.n = 4;
  assert_int_equal(sg__sq_run_write(&b.c, &r, 3000), 0);
  sg__arena_free(&r.arena);
  assert_int_equal(campaign_updates(&b), 1);
  assert_int_equal(sg__sq_campaign_flush(&b.c), 0);
  bare_exec(&b, "COMMIT");
  sg__sq_wh_tx_end(&b.c, true);
  sg__sq_mc_tx_end(&b.c, true);
  k1_counts(&b, counts, sizeof counts);
  assert_string_equal(counts, "0 3 0 0 0");
  assert_int_equal(campaign_updates(&b), 2);
  bare_close(&b);
}

/* Claims the one part of c1; its id. */
static int64_t claim_id(bare_t *b, int64_t now, bool commit) {
  sg__store_req_t r;
  bare_claim_req(&r);
  bare_exec(b, "BEGIN IMMEDIATE");
  assert_int_equal(sg__sq_run_write(&b->c, &r, now), 0);
  bare_exec(b, commit ? "COMMIT" : "ROLLBACK");
  sg__sq_wh_tx_end(&b->c, commit);
  sg__sq_mc_tx_end(&b->c, commit);
  assert_int_equal(r.out.claim.n_parts, 1);
  int64_t id = r.out.claim.parts[0].part_id;
  sg__arena_free(&r.arena);
  return id;
}

/* A SENT result of part id at attempt; the item's status. */
static int sent_result(bare_t *b, int64_t id, unsigned attempt, int64_t now) {
  sg_store_result_in_t res = {.part_id = id,
                              .attempt = attempt,
                              .outcome = SG_STORE_SENT,
                              .smsc_id = "k7"};
  sg__store_req_t r;
  memset(&r, 0, sizeof r);
  r.kind = SG__REQ_RESULTS;
  r.in.results.items = &res;
  r.in.results.n = 1;
  bare_run(b, &r, now, true);
  int st = r.out.items.items[0].status;
  if (st == 0) {
    assert_string_equal(r.out.items.items[0].message_id, "s1");
    assert_int_equal(r.out.items.items[0].seq, 1);
    assert_int_equal(r.out.items.items[0].part_status, SG_MSG_SENT);
    assert_int_equal(r.out.items.items[0].msg_status, SG_MSG_SENT);
  }
  sg__arena_free(&r.arena);
  return st;
}

static int part_reads(bare_t *b) {
  sqlite3_stmt *s = b->c.q[SG__Q_PART_BY_ID];
  return s == NULL ? 0 : sqlite3_stmt_status(s, SQLITE_STMTSTATUS_RUN, 0);
}

/* The part's row and the message's events, one line. */
static void part_and_events(bare_t *b, char *out, size_t n) {
  bare_line(b,
            "SELECT (SELECT quote(status) || quote(smsc_id) || quote(attempts) "
            "|| quote(lease_until_ms) || quote(updated_ms) FROM parts) || ' ' "
            "|| (SELECT group_concat(quote(status) || quote(fold_seq) || "
            "quote(fold_detail) || quote(time_ms), ',') FROM events)",
            out, n);
}

/* Two connections with the same message s1 claimed at 2000: held keeps
 * the writer's copies, read has them off; the part's id. */
static int64_t held_and_read(bare_t *held, bare_t *read) {
  bare_open(held, NULL, HOOKED);
  submit(held, "s1", NULL, 0, 0);
  bare_open(read, "0", HOOKED);
  submit(read, "s1", NULL, 0, 0);
  int64_t id = claim_id(held, 2000, true);
  assert_int_equal(claim_id(read, 2000, true), id);
  return id;
}

/* A SENT result of a part the writer claimed writes its row without
 * reading it first, and the same rows as a read would; one at another
 * attempt, or of a part no longer 'sending', changes nothing. */
static void sent_of_a_held_claim(void **state) {
  (void)state;
  bare_t held, read;
  char a[512], b[512];
  int64_t id = held_and_read(&held, &read);
  assert_int_equal(sent_result(&held, id, 2, 3000), SG_ESTATE);
  assert_int_equal(sent_result(&read, id, 2, 3000), SG_ESTATE);
  assert_int_equal(sent_result(&held, id, 1, 3000), 0);
  assert_int_equal(sent_result(&read, id, 1, 3000), 0);
  assert_int_equal(part_reads(&held), 1); /* the wrong attempt only */
  assert_int_equal(part_reads(&read), 2);
  part_and_events(&held, a, sizeof a);
  part_and_events(&read, b, sizeof b);
  assert_string_equal(a, b);
  assert_non_null(strstr(a, "'sent''k7'1NULL3000 "));
  /* Sent already: a second result is refused and changes nothing. */
  assert_int_equal(sent_result(&held, id, 1, 4000), SG_ESTATE);
  part_and_events(&held, b, sizeof b);
  assert_string_equal(a, b);
  bare_close(&held);
  bare_close(&read);
}

/* A rolled-back claim is forgotten: the part id could name another part. */
static void sent_after_a_rolled_back_claim(void **state) {
  (void)state;
  bare_t b;
  bare_open(&b, NULL, HOOKED);
  submit(&b, "s1", NULL, 0, 0);
  int64_t id = claim_id(&b, 2000, false);
  assert_int_equal(claim_id(&b, 2100, true), id);
  sg__sq_mc_tx_end(&b.c, false); /* as a later rollback would */
  assert_int_equal(sent_result(&b, id, 1, 3000), 0);
  assert_int_equal(part_reads(&b), 1);
  bare_close(&b);
}

/* Submits message id of one part while a claim of c1 waits in the writer
 * (sqlite_park.c), which takes the part; returns the rows the submit
 * changed, and the event rows it wrote in *events. */
static int64_t submit_taken(bare_t *b, const char *id, uint32_t statuses,
                            int64_t *events) {
  sg__store_req_t w;
  bare_claim_req(&w);
  w.in.claim.wait_ms = 1000;
  bare_run(b, &w, 1000, true);
  unsigned n = 1;
  w.next = NULL;
  assert_null(sg__sq_park_commit(&b->c, &w, &n)); /* it waits */
  sg_store_part_in_t p;
  sg_store_msg_in_t m = bare_msg(id, &p);
  m.callback_url = "http://127.0.0.1:9/hook";
  m.webhook_statuses = statuses;
  sg__store_req_t r;
  bare_submit_req(&r, &m, NULL);
  sqlite3_stmt *ev = b->c.q[SG__Q_EVENT_INSERT];
  int before_ev = ev ? sqlite3_stmt_status(ev, SQLITE_STMTSTATUS_RUN, 0) : 0;
  int64_t before = sqlite3_total_changes64(b->c.db);
  bare_run(b, &r, 1000, true);
  int64_t changed = sqlite3_total_changes64(b->c.db) - before;
  ev = b->c.q[SG__Q_EVENT_INSERT];
  *events =
      (ev ? sqlite3_stmt_status(ev, SQLITE_STMTSTATUS_RUN, 0) : 0) - before_ev;
  n = 1;
  r.next = NULL;
  assert_ptr_equal(sg__sq_park_commit(&b->c, &r, &n), &r);
  assert_int_equal(n, 2); /* the claim answered after the submit */
  assert_int_equal(w.out.claim.n_parts, 1);
  assert_string_equal(w.out.claim.parts[0].message_id, id);
  sg__arena_free(&r.arena);
  sg__arena_free(&w.arena);
  return changed;
}

/* The part taken at its submit: the message and its part, two rows, no
 * event row (three rows before: its 'sending' event). With a webhook for
 * 'sending' the event keeps its row, which the delivery refers to. */
static void taken_part_has_no_sending_row(void **state) {
  (void)state;
  bare_t b;
  bare_open(&b, NULL, HOOKED);
  int64_t events;
  assert_int_equal(submit_taken(&b, "t1", 0, &events), 2);
  assert_int_equal(events, 0);
  submit_taken(&b, "t2", SG_MSG_BIT(SG_MSG_SENDING) | SG_MSG_BIT(SG_MSG_SENT),
               &events);
  assert_int_equal(events, 1);
  sqlite3_stmt *s;
  assert_int_equal(
      sqlite3_prepare_v2(
          b.c.db,
          "SELECT group_concat(message_id || ':' || quote(taken_event), ' ') "
          "|| ' ' || (SELECT group_concat(message_id || ':' || status, ' ') "
          "FROM events) FROM parts",
          -1, &s, NULL),
      SQLITE_OK);
  assert_int_equal(sqlite3_step(s), SQLITE_ROW);
  assert_string_equal((const char *)sqlite3_column_text(s, 0),
                      "t1:1 t2:NULL t2:sending");
  sqlite3_finalize(s);
  bare_close(&b);
}

/* Runs of EVENT_INSERT on b so far. */
static int event_inserts(bare_t *b) {
  sqlite3_stmt *s = b->c.q[SG__Q_EVENT_INSERT];
  return s == NULL ? 0 : sqlite3_stmt_status(s, SQLITE_STMTSTATUS_RUN, 0);
}

/* The SENT result of a one-part message with no webhook for 'sent' runs no
 * EVENT_INSERT: the part carries the event (sent_event, the newest event's
 * id; sent_ms); with a webhook for 'sent', or a Kannel mask with 8, the
 * row, which the delivery refers to, and no mark. */
static void sent_without_a_delivery_has_no_row(void **state) {
  (void)state;
  static const struct {
    const char *callback;
    const char *dlr_url;
    uint8_t mask;
    uint32_t statuses;
    int rows;
  } cases[] = {{"http://h/w", NULL, 0, SG_MSG_BIT(SG_MSG_DELIVERED), 0},
               {NULL, NULL, 0, 0, 0}, /* no callback URL: no webhook */
               {NULL, "http://h/d?%d", 3, 0, 0},
               {"http://h/w", NULL, 0, 0, 1}, /* the store's: 'sent' too */
               {NULL, "http://h/d?%d", 11, 0, 1}};
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    bare_t b;
    bare_open(&b, NULL, HOOKED);
    uint64_t n = 0;
    assert_int_equal(sg__sq_whq_rebuild(&b.c, 1000, &n), 0);
    submit_callback = cases[i].callback;
    submit(&b, "s1", cases[i].dlr_url, cases[i].mask, cases[i].statuses);
    submit_callback = NULL;
    int64_t id = claim_id(&b, 2000, true);
    int before = event_inserts(&b);
    assert_int_equal(sent_result(&b, id, 1, 3000), 0);
    assert_int_equal(event_inserts(&b) - before, cases[i].rows);
    sqlite3_stmt *s;
    assert_int_equal(sqlite3_prepare_v2(b.c.db,
                                        "SELECT quote(sent_event) || ' ' || "
                                        "quote(sent_ms) || ' ' || (SELECT "
                                        "coalesce(max(id), 0) FROM events) "
                                        "FROM parts",
                                        -1, &s, NULL),
                     SQLITE_OK);
    assert_int_equal(sqlite3_step(s), SQLITE_ROW);
    char want[64];
    /* the claim's 'sending' row is the newest event when it is marked */
    snprintf(want, sizeof want, "%s",
             cases[i].rows ? "NULL NULL 2" : "1 3000 1");
    assert_string_equal((const char *)sqlite3_column_text(s, 0), want);
    sqlite3_finalize(s);
    bare_close(&b);
  }
}

/* The receipt of c1's part (smsc id k7) with status st at now; the rows it
 * changed. */
static int64_t receipt(bare_t *b, sg_msg_status_t st, int32_t code,
                       int64_t now) {
  sg_store_receipt_in_t x = {
      .connector = "c1", .smsc_id = "k7", .status = st, .error_code = code};
  sg__store_req_t r;
  memset(&r, 0, sizeof r);
  r.kind = SG__REQ_RECEIPTS;
  r.in.receipts.items = &x;
  r.in.receipts.n = 1;
  int64_t before = sqlite3_total_changes64(b->c.db);
  bare_run(b, &r, now, true);
  assert_int_equal(r.out.items.items[0].status, 0);
  assert_int_equal(r.out.items.items[0].msg_status, st);
  sg__arena_free(&r.arena);
  return sqlite3_total_changes64(b->c.db) - before;
}

static int msg_writes(bare_t *b) {
  sqlite3_stmt *s = b->c.q[SG__Q_MSG_SET_STATUS];
  return s == NULL ? 0 : sqlite3_stmt_status(s, SQLITE_STMTSTATUS_RUN, 0);
}

/* A receipt that ends a one-part message changes two rows, its part and
 * its event (the message row is not rewritten: its part carries the
 * status); a later receipt for it writes the row as before, the final
 * status its part carried first (MSG_SETTLE), then the new one. */
static void receipt_writes_no_message_row(void **state) {
  (void)state;
  bare_t b;
  bare_open(&b, NULL, HOOKED);
  submit(&b, "s1", NULL, 0, 0);
  int64_t id = claim_id(&b, 2000, true);
  assert_int_equal(sent_result(&b, id, 1, 3000), 0);
  assert_int_equal(receipt(&b, SG_MSG_UNDELIVERABLE, 11, 4000), 2);
  assert_int_equal(msg_writes(&b), 0);
  assert_null(b.c.q[SG__Q_MSG_SETTLE]);
  char row[128];
  sqlite3_stmt *s;
  const char *sql = "SELECT status || ' ' || quote(error_code) || ' ' || "
                    "updated_ms FROM messages";
  assert_int_equal(sqlite3_prepare_v2(b.c.db, sql, -1, &s, NULL), SQLITE_OK);
  assert_int_equal(sqlite3_step(s), SQLITE_ROW);
  snprintf(row, sizeof row, "%s", (const char *)sqlite3_column_text(s, 0));
  sqlite3_reset(s);
  assert_string_equal(row, "queued NULL 1000");
  /* The part's row, the row, the event. */
  assert_int_equal(receipt(&b, SG_MSG_DELIVERED, 0, 5000), 4);
  assert_int_equal(msg_writes(&b), 1);
  assert_int_equal(sqlite3_step(s), SQLITE_ROW);
  snprintf(row, sizeof row, "%s", (const char *)sqlite3_column_text(s, 0));
  sqlite3_finalize(s);
  assert_string_equal(row, "delivered 11 5000");
  bare_close(&b);
}

static int smsc_lookups(bare_t *b) {
  sqlite3_stmt *s = b->c.q[SG__Q_PART_BY_SMSC];
  return s == NULL ? 0 : sqlite3_stmt_status(s, SQLITE_STMTSTATUS_RUN, 0);
}

/* A receipt of a part the writer sent takes the part from its memory, not
 * from the index (PART_BY_SMSC), and writes the same rows as a look-up
 * does (the memory off); a second receipt, its part no longer 'sent', is
 * looked up. */
static void receipt_of_a_held_send(void **state) {
  (void)state;
  bare_t held, read;
  char a[512], b[512];
  int64_t id = held_and_read(&held, &read);
  assert_int_equal(sent_result(&held, id, 1, 3000), 0);
  assert_int_equal(sent_result(&read, id, 1, 3000), 0);
  assert_int_equal(receipt(&held, SG_MSG_DELIVERED, 0, 4000), 2);
  assert_int_equal(receipt(&read, SG_MSG_DELIVERED, 0, 4000), 2);
  assert_int_equal(smsc_lookups(&held), 0);
  assert_int_equal(smsc_lookups(&read), 1);
  part_and_events(&held, a, sizeof a);
  part_and_events(&read, b, sizeof b);
  assert_string_equal(a, b);
  assert_non_null(strstr(a, "'delivered''k7'1NULL4000 "));
  receipt(&held, SG_MSG_UNDELIVERABLE, 5, 5000);
  receipt(&read, SG_MSG_UNDELIVERABLE, 5, 5000);
  assert_int_equal(smsc_lookups(&held), 1);
  part_and_events(&held, a, sizeof a);
  part_and_events(&read, b, sizeof b);
  assert_string_equal(a, b);
  bare_close(&held);
  bare_close(&read);
}

/* A rolled-back transaction empties the memory of the parts sent: the
 * receipt then looks its part up. */
static void receipt_after_a_rollback(void **state) {
  (void)state;
  bare_t b;
  bare_open(&b, NULL, HOOKED);
  submit(&b, "s1", NULL, 0, 0);
  int64_t id = claim_id(&b, 2000, true);
  assert_int_equal(sent_result(&b, id, 1, 3000), 0);
  int64_t held_id = 0;
  unsigned seq = 0;
  assert_non_null(sg__sq_mc_smsc_get(&b.c, "c1", "k7", &held_id, &seq));
  assert_int_equal(held_id, id);
  assert_null(sg__sq_mc_smsc_get(&b.c, "c2", "k7", &held_id, &seq));
  sg__sq_mc_tx_end(&b.c, false); /* as a later rollback would */
  assert_null(sg__sq_mc_smsc_get(&b.c, "c1", "k7", &held_id, &seq));
  assert_int_equal(receipt(&b, SG_MSG_DELIVERED, 0, 4000), 2);
  assert_int_equal(smsc_lookups(&b), 1);
  bare_close(&b);
}

/* Whether statement q of the writer's connection opens an ephemeral table
 * (by its EXPLAIN): SQLite builds one again at every run of the statement
 * for an IN of more than two values on a column no index leads with. */
static bool opens_ephemeral(bare_t *b, sg__sq_query_t q) {
  sqlite3_stmt *s = sg__sq_stmt(&b->c, q);
  assert_non_null(s);
  char sql[8192];
  assert_true((size_t)snprintf(sql, sizeof sql, "EXPLAIN %s", sqlite3_sql(s)) <
              sizeof sql);
  sqlite3_stmt *e;
  assert_int_equal(sqlite3_prepare_v2(b->c.db, sql, -1, &e, NULL), SQLITE_OK);
  bool found = false;
  while (sqlite3_step(e) == SQLITE_ROW)
    found |=
        strcmp((const char *)sqlite3_column_text(e, 1), "OpenEphemeral") == 0;
  sqlite3_finalize(e);
  return found;
}

/* The writer's statements of a message's life, the idle settle's, and the
 * readers' of one message build no ephemeral table: the status
 * expressions (SG__SQ_MSG_STATUS and its kin) test a part's status by
 * comparisons, where `IN (...)` made MSG_SETTLE build four a row. */
static void no_ephemeral_table_a_run(void **state) {
  (void)state;
  static const sg__sq_query_t qs[] = {
      SG__Q_MSG_INSERT,       SG__Q_PART_INSERT,     SG__Q_PART_INSERT_TAKEN,
      SG__Q_EVENT_INSERT,     SG__Q_CLAIM_SELECT,    SG__Q_PART_CLAIM,
      SG__Q_PART_SENT,        SG__Q_PART_SET_STATUS, SG__Q_PART_BY_SMSC,
      SG__Q_MSG_SET_STATUS,   SG__Q_MSG_SETTLE,      SG__Q_MSG_SETTLE_NEXT,
      SG__Q_CANCEL_GET,       SG__Q_R_MESSAGE,       SG__Q_R_PARTS,
      SG__Q_R_EVENTS,
  };
  bare_t b;
  bare_open(&b, NULL, HOOKED);
  for (size_t i = 0; i < sizeof qs / sizeof qs[0]; i++)
    if (opens_ephemeral(&b, qs[i]))
      fail_msg("statement %d opens an ephemeral table", (int)qs[i]);
  bare_close(&b);
}

/* ---- a SENT result and its receipt in one group (sqlite_pair.h) ---- */

static sg__store_req_t sent_req(sg_store_result_in_t *res, int64_t id,
                                const char *key) {
  *res = (sg_store_result_in_t){
      .part_id = id, .attempt = 1, .outcome = SG_STORE_SENT, .smsc_id = key};
  sg__store_req_t r;
  memset(&r, 0, sizeof r);
  r.kind = SG__REQ_RESULTS;
  r.in.results.items = res;
  r.in.results.n = 1;
  return r;
}

static sg__store_req_t receipt_req(sg_store_receipt_in_t *x, const char *key,
                                   sg_msg_status_t st, int32_t code,
                                   const char *detail) {
  *x = (sg_store_receipt_in_t){.connector = "c1",
                               .smsc_id = key,
                               .status = st,
                               .error_code = code,
                               .detail = detail};
  sg__store_req_t r;
  memset(&r, 0, sizeof r);
  r.kind = SG__REQ_RECEIPTS;
  r.in.receipts.items = x;
  r.in.receipts.n = 1;
  return r;
}

/* Runs the n requests as one group, as the writer does (sqlite.c,
 * run_requests_once): paired first, the pairs not taken undone last. Only
 * the first `run` of them run (the others as if left out). */
static void run_group_of(bare_t *b, sg__store_req_t *rs, size_t n, size_t run,
                         int64_t now) {
  for (size_t i = 0; i + 1 < n; i++)
    rs[i].next = &rs[i + 1];
  bare_exec(b, "BEGIN IMMEDIATE");
  sg__sq_pair_scan(&b->c, rs);
  for (size_t i = 0; i < run; i++)
    assert_int_equal(sg__sq_run_write(&b->c, &rs[i], now), 0);
  assert_int_equal(sg__sq_pair_end(&b->c), 0);
  bare_exec(b, "COMMIT");
  sg__sq_wh_tx_end(&b->c, true);
  sg__sq_mc_tx_end(&b->c, true);
}

/* Each request in a transaction of its own, at the same time. */
static void run_apart(bare_t *b, sg__store_req_t *rs, size_t n, int64_t now) {
  for (size_t i = 0; i < n; i++)
    bare_run(b, &rs[i], now, true);
}

static void free_reqs(sg__store_req_t *rs, size_t n) {
  for (size_t i = 0; i < n; i++)
    sg__arena_free(&rs[i].arena);
}

/* Every column of the parts and events that a change writes, one line. */
static void rows_of(bare_t *b, char *out, size_t n) {
  bare_line(
      b,
      "SELECT (SELECT group_concat(quote(id) || quote(status) || "
      "quote(smsc_id) || quote(smsc_raw) || quote(error_code) || "
      "quote(error) || quote(attempts) || quote(lease_until_ms) || "
      "quote(updated_ms), ',') FROM parts) || ' ' || (SELECT "
      "group_concat(quote(id) || quote(message_id) || quote(part_seq) || "
      "quote(status) || quote(error_code) || quote(detail) || "
      "quote(time_ms) || quote(fold_seq) || quote(fold_error_code) || "
      "quote(fold_detail) || quote(fold_time_ms), ',') FROM events) || ' ' "
      "|| (SELECT group_concat(quote(id) || quote(status) || "
      "quote(error_code) || quote(updated_ms), ',') FROM messages)",
      out, n);
}

static int stmt_runs(bare_t *b, sg__sq_query_t q) {
  sqlite3_stmt *s = b->c.q[q];
  return s == NULL ? 0 : sqlite3_stmt_status(s, SQLITE_STMTSTATUS_RUN, 0);
}

/* Messages s1 and s2 of one part each, claimed at 2000: their part ids. */
static void two_claimed(bare_t *b, int64_t ids[2]) {
  bare_open(b, NULL, HOOKED);
  submit(b, "s1", NULL, 0, 0);
  submit(b, "s2", NULL, 0, 0);
  sg__store_req_t r;
  bare_claim_req(&r);
  bare_run(b, &r, 2000, true);
  assert_int_equal(r.out.claim.n_parts, 2);
  ids[0] = r.out.claim.parts[0].part_id;
  ids[1] = r.out.claim.parts[1].part_id;
  sg__arena_free(&r.arena);
}

/* The same requests run as one group on `one` and apart on `apart`, both
 * with s1 and s2 claimed (ids the same on both); g[0] for one, g[1] for
 * apart, n each. */
typedef struct duo {
  bare_t one, apart;
  int64_t ids[2];
  sg__store_req_t g[2][4];
  char rows[2048];
} duo_t;

static void duo_open(duo_t *d) {
  int64_t ids[2];
  two_claimed(&d->one, d->ids);
  two_claimed(&d->apart, ids);
  assert_int_equal(ids[0], d->ids[0]);
  assert_int_equal(ids[1], d->ids[1]);
}

/* Runs the first `run` of the n requests of the group on one (the others
 * left out) and as many apart; the rows must be the same: d->rows. */
static void duo_run(duo_t *d, size_t n, size_t run) {
  char b[sizeof d->rows];
  run_group_of(&d->one, d->g[0], n, run, 3000);
  run_apart(&d->apart, d->g[1], run, 3000);
  rows_of(&d->one, d->rows, sizeof d->rows);
  rows_of(&d->apart, b, sizeof b);
  assert_string_equal(d->rows, b);
}

static void duo_close(duo_t *d, size_t n) {
  free_reqs(d->g[0], n);
  free_reqs(d->g[1], n);
  bare_close(&d->one);
  bare_close(&d->apart);
}

/* A SENT result and its final receipt in one group write the part's row
 * once, with the receipt's status, code, detail and time; the rows, the
 * events and what each item answers are those of the two run apart. */
static void sent_and_receipt_in_one_group(void **state) {
  (void)state;
  static const struct {
    sg_msg_status_t st;
    int32_t code;
    const char *detail;
  } cases[] = {{SG_MSG_DELIVERED, 0, "id:1 stat:DELIVRD"},
               {SG_MSG_UNDELIVERABLE, 5, "id:1 stat:UNDELIV err:005"},
               {SG_MSG_EXPIRED, 0, NULL}};
  for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
    duo_t d;
    sg_store_result_in_t res[2][2];
    sg_store_receipt_in_t rx[2][2];
    duo_open(&d);
    for (int w = 0; w < 2; w++) {
      d.g[w][0] = sent_req(&res[w][0], d.ids[0], "k1");
      d.g[w][1] = sent_req(&res[w][1], d.ids[1], "k2");
      d.g[w][2] = receipt_req(&rx[w][0], "k1", cases[k].st, cases[k].code,
                              cases[k].detail);
      d.g[w][3] = receipt_req(&rx[w][1], "k2", SG_MSG_DELIVERED, 0, NULL);
    }
    duo_run(&d, 4, 4);
    for (int i = 0; i < 4; i++) {
      sg_store_item_res_t *x = &d.g[0][i].out.items.items[0];
      sg_store_item_res_t *y = &d.g[1][i].out.items.items[0];
      assert_int_equal(x->status, y->status);
      assert_int_equal(x->part_status, y->part_status);
      assert_int_equal(x->msg_status, y->msg_status);
      assert_int_equal(x->msg_changed, y->msg_changed);
    }
    assert_int_equal(d.g[0][2].out.items.items[0].msg_status, cases[k].st);
    assert_int_equal(stmt_runs(&d.one, SG__Q_PART_SENT_ENDED), 2);
    assert_int_equal(stmt_runs(&d.one, SG__Q_PART_SET_STATUS), 0);
    assert_int_equal(stmt_runs(&d.apart, SG__Q_PART_SET_STATUS), 2);
    duo_close(&d, 4);
  }
}

/* No pair, the rows as apart: a report between the SENT result and the
 * final receipt (the part stays 'sent' for it), and a request of another
 * kind between them (a cancel of another message). */
static void pair_broken_by_what_is_between(void **state) {
  (void)state;
  for (int k = 0; k < 2; k++) {
    duo_t d;
    sg_store_result_in_t res[2];
    sg_store_receipt_in_t rx[2][2];
    duo_open(&d);
    submit(&d.one, "s3", NULL, 0, 0); /* queued: a cancel takes it */
    submit(&d.apart, "s3", NULL, 0, 0);
    for (int w = 0; w < 2; w++) {
      d.g[w][0] = sent_req(&res[w], d.ids[0], "k1");
      if (k == 0) {
        d.g[w][1] = receipt_req(&rx[w][0], "k1", SG_MSG_SENT, 0, "enroute");
      } else {
        memset(&d.g[w][1], 0, sizeof d.g[w][1]);
        d.g[w][1].kind = SG__REQ_CANCEL;
        snprintf(d.g[w][1].in.msg.id, sizeof d.g[w][1].in.msg.id, "s3");
        d.g[w][1].in.msg.account_id = 1;
      }
      d.g[w][2] = receipt_req(&rx[w][1], "k1", SG_MSG_DELIVERED, 0, NULL);
    }
    duo_run(&d, 3, 3);
    assert_int_equal(stmt_runs(&d.one, SG__Q_PART_SENT_ENDED), 0);
    duo_close(&d, 3);
  }
}

/* A part written final whose receipt did not take it goes back to what
 * its SENT result alone writes: its receipt not run (left out of the
 * group), or finding another part (a part sent before with the same
 * operator id and a larger part id, which the receipt goes to). */
static void pair_not_taken_is_undone(void **state) {
  (void)state;
  duo_t d;
  sg_store_result_in_t res[2], early[2];
  sg_store_receipt_in_t rx[2];
  duo_open(&d);
  for (int w = 0; w < 2; w++) {
    d.g[w][0] = sent_req(&res[w], d.ids[0], "k1");
    d.g[w][1] = receipt_req(&rx[w], "k1", SG_MSG_DELIVERED, 0, NULL);
  }
  duo_run(&d, 2, 1); /* the receipt left out */
  assert_non_null(strstr(d.rows, "'sent''k1'NULLNULLNULL1NULL3000"));
  assert_int_equal(stmt_runs(&d.one, SG__Q_PART_SENT_ENDED), 1);
  assert_int_equal(stmt_runs(&d.one, SG__Q_PART_UNEND), 1);
  duo_close(&d, 2);

  /* The receipt's key names the larger part, sent earlier. */
  duo_open(&d);
  int64_t big = d.ids[0] > d.ids[1] ? d.ids[0] : d.ids[1];
  int64_t small = d.ids[0] + d.ids[1] - big;
  for (int w = 0; w < 2; w++) {
    d.g[w][2] = sent_req(&early[w], big, "k1");
    d.g[w][0] = sent_req(&res[w], small, "k1");
    d.g[w][1] = receipt_req(&rx[w], "k1", SG_MSG_UNDELIVERABLE, 7, "x");
  }
  bare_run(&d.one, &d.g[0][2], 2500, true);
  bare_run(&d.apart, &d.g[1][2], 2500, true);
  duo_run(&d, 2, 2);
  assert_int_equal(stmt_runs(&d.one, SG__Q_PART_UNEND), 1);
  duo_close(&d, 3);
}

/* ---- groups against the same requests run apart: more scenarios ---- */

/* Message id of one part to connector conn, claimed at 2000: its part. */
static int64_t claimed_on(bare_t *b, const char *id, const char *conn) {
  sg_store_part_in_t p;
  sg_store_msg_in_t m = bare_msg(id, &p);
  p.connector = conn;
  m.dlr_wanted = true;
  m.callback_url = "http://h/cb";
  sg__store_req_t r;
  bare_submit_req(&r, &m, NULL);
  bare_run(b, &r, 1000, true);
  sg__arena_free(&r.arena);
  bare_claim_req(&r);
  r.in.claim.connector = conn;
  bare_run(b, &r, 2000, true);
  assert_int_equal(r.out.claim.n_parts, 1);
  int64_t id_ = r.out.claim.parts[0].part_id;
  sg__arena_free(&r.arena);
  return id_;
}

/* The webhooks and the receipts held, one line. */
static void events_and_hooks(bare_t *b, char *out, size_t n) {
  bare_line(b,
            "SELECT ifnull((SELECT group_concat(quote(message_id) || "
            "quote(event_id) || quote(status), ',') FROM webhooks), '') || "
            "' ' || ifnull((SELECT group_concat(quote(connector) || "
            "quote(smsc_id), ',') FROM unmatched_receipts), '')",
            out, n);
}

typedef struct scen {
  const char *conn[3]; /* connectors of s1..s3 */
  int pre_sent;        /* index (1-based) of a part SENT "k" before, or 0 */
  struct {
    char kind;        /* 'S' SENT of part i, 'R' receipt */
    int part;         /* S: 1-based */
    const char *conn; /* R */
    sg_msg_status_t st;
    int32_t code;
  } r[5];
  int n;
} scen_t;

static void run_scen(const scen_t *sc, int w, bare_t *b,
                     sg_store_result_in_t *res, sg_store_receipt_in_t *rx,
                     sg__store_req_t *g) {
  bare_open(b, NULL, HOOKED);
  int64_t ids[3];
  const char *names[3] = {"s1", "s2", "s3"};
  for (int i = 0; i < 3; i++)
    ids[i] = claimed_on(b, names[i], sc->conn[i]);
  if (sc->pre_sent) {
    sg_store_result_in_t r0;
    sg__store_req_t q = sent_req(&r0, ids[sc->pre_sent - 1], "k");
    bare_run(b, &q, 2500, true);
    sg__arena_free(&q.arena);
  }
  for (int i = 0; i < sc->n; i++) {
    if (sc->r[i].kind == 'S') {
      g[i] = sent_req(&res[i], ids[sc->r[i].part - 1], "k");
    } else {
      g[i] = receipt_req(&rx[i], "k", sc->r[i].st, sc->r[i].code,
                         sc->r[i].code ? "err" : NULL);
      rx[i].connector = sc->r[i].conn;
    }
  }
  if (w == 0)
    run_group_of(b, g, (size_t)sc->n, (size_t)sc->n, 3000);
  else
    run_apart(b, g, (size_t)sc->n, 3000);
}

static void pair_scenarios_as_apart(void **state) {
  (void)state;
  static const scen_t scs[] = {
      /* two connectors, one operator id: c2's part sent before */
      {{"c1", "c2", "c1"},
       2,
       {{'S', 1, NULL, 0, 0},
        {'R', 0, "c2", SG_MSG_UNDELIVERABLE, 5},
        {'R', 0, "c1", SG_MSG_DELIVERED, 0}},
       3},
      {{"c1", "c2", "c1"},
       2,
       {{'S', 1, NULL, 0, 0},
        {'R', 0, "c1", SG_MSG_DELIVERED, 0},
        {'R', 0, "c2", SG_MSG_REJECTED, 9}},
       3},
      /* both sent in the group with one id on two connectors */
      {{"c1", "c2", "c1"},
       0,
       {{'S', 1, NULL, 0, 0},
        {'S', 2, NULL, 0, 0},
        {'R', 0, "c1", SG_MSG_DELIVERED, 0},
        {'R', 0, "c2", SG_MSG_EXPIRED, 0}},
       4},
      /* one id sent twice on c1 in the group */
      {{"c1", "c2", "c1"},
       0,
       {{'S', 1, NULL, 0, 0},
        {'S', 3, NULL, 0, 0},
        {'R', 0, "c1", SG_MSG_DELIVERED, 0},
        {'R', 0, "c1", SG_MSG_UNDELIVERABLE, 3}},
       4},
      /* the receipt before its SENT result, then another */
      {{"c1", "c2", "c1"},
       0,
       {{'R', 0, "c1", SG_MSG_UNDELIVERABLE, 4},
        {'S', 1, NULL, 0, 0},
        {'R', 0, "c1", SG_MSG_DELIVERED, 0}},
       3},
      /* a final receipt, then a second final one */
      {{"c1", "c2", "c1"},
       0,
       {{'S', 1, NULL, 0, 0},
        {'R', 0, "c1", SG_MSG_DELIVERED, 0},
        {'R', 0, "c1", SG_MSG_UNDELIVERABLE, 2}},
       3},
      /* the old part of c1 with the same id sent before */
      {{"c1", "c2", "c1"},
       3,
       {{'S', 1, NULL, 0, 0}, {'R', 0, "c1", SG_MSG_DELIVERED, 0}},
       2},
  };
  for (size_t k = 0; k < sizeof scs / sizeof scs[0]; k++) {
    bare_t b[2];
    sg_store_result_in_t res[2][5];
    sg_store_receipt_in_t rx[2][5];
    sg__store_req_t g[2][5];
    char x[2][4096], y[2][4096];
    for (int w = 0; w < 2; w++) {
      run_scen(&scs[k], w, &b[w], res[w], rx[w], g[w]);
      rows_of(&b[w], x[w], sizeof x[w]);
      events_and_hooks(&b[w], y[w], sizeof y[w]);
    }
    print_message("scenario %zu: ended %d\n", k,
                  stmt_runs(&b[0], SG__Q_PART_SENT_ENDED));
    assert_string_equal(x[0], x[1]);
    assert_string_equal(y[0], y[1]);
    for (int i = 0; i < scs[k].n; i++) {
      sg_store_item_res_t *p = &g[0][i].out.items.items[0];
      sg_store_item_res_t *q = &g[1][i].out.items.items[0];
      assert_int_equal(p->status, q->status);
      assert_int_equal(p->part_status, q->part_status);
      assert_int_equal(p->msg_status, q->msg_status);
      assert_string_equal(p->message_id, q->message_id);
    }
    for (int w = 0; w < 2; w++) {
      free_reqs(g[w], (size_t)scs[k].n);
      bare_close(&b[w]);
    }
  }
}

/* Message s1 of one part to c1 with a callback URL of 2,000 octets (the
 * API takes up to 2,048), claimed at 2000: its part. */
static int64_t claimed_long_url(bare_t *b, char *url) {
  memset(url, 'a', 2000);
  memcpy(url, "http://h/", 9);
  url[2000] = '\0';
  sg_store_part_in_t p;
  sg_store_msg_in_t m = bare_msg("s1", &p);
  m.dlr_wanted = true;
  m.callback_url = url;
  sg__store_req_t r;
  bare_submit_req(&r, &m, NULL);
  bare_run(b, &r, 1000, true);
  sg__arena_free(&r.arena);
  bare_claim_req(&r);
  bare_run(b, &r, 2000, true);
  assert_int_equal(r.out.claim.n_parts, 1);
  int64_t id = r.out.claim.parts[0].part_id;
  sg__arena_free(&r.arena);
  return id;
}

/* Runs the n requests as one group as the writer does (sqlite.c,
 * run_requests): a request that fails after it changed rows is left out,
 * the transaction rolled back and the group run again without it; SG_EIO
 * rolls the group back and is returned. While `armed` runs the first time,
 * arm(nth) arms a fault, arm(-1) after. */
static int run_as_writer(bare_t *b, sg__store_req_t *rs, size_t n, int64_t now,
                         sg__store_req_t *armed, void (*arm)(long), long nth) {
  for (size_t i = 0; i < n; i++) {
    rs[i].next = i + 1 < n ? &rs[i + 1] : NULL;
    rs[i].rerun_skip = false;
  }
  for (;;) {
    int rc = 0;
    bare_exec(b, "BEGIN IMMEDIATE");
    sg__sq_pair_scan(&b->c, rs);
    for (size_t i = 0; rc == 0 && i < n; i++) {
      sg__store_req_t *r = &rs[i];
      if (r->rerun_skip)
        continue;
      memset(&r->out, 0, sizeof r->out);
      sqlite3_int64 before = sqlite3_total_changes64(b->c.db);
      if (r == armed)
        arm(nth);
      r->status = sg__sq_run_write(&b->c, r, now);
      if (r == armed) {
        arm(-1);
        armed = NULL;
      }
      if (r->status == SG_EIO) {
        rc = SG_EIO;
      } else if (r->status < 0 && sqlite3_total_changes64(b->c.db) != before) {
        rc = 1;
        r->rerun_skip = true;
      }
    }
    if (rc == 0 && sg__sq_pair_end(&b->c) < 0)
      rc = SG_EIO;
    if (rc == 0)
      bare_exec(b, "COMMIT");
    else if (!sqlite3_get_autocommit(b->c.db)) /* an I/O error may end it */
      bare_exec(b, "ROLLBACK");
    sg__sq_wh_tx_end(&b->c, rc == 0);
    sg__sq_mc_tx_end(&b->c, rc == 0);
    sg__sq_orphan_tx_end(&b->c, rc == 0);
    if (rc != 1)
      return rc;
  }
}

static void alloc_arm(long nth) {
  sg_alloc_fail_nth(nth);
}

/* The statement fault of the tests below: test_fault() fails its
 * fault_at-th call (from 0) with fault_code, once (then fault_fired); the
 * triggers call it on every row a request writes. */
static long fault_at = -1;
static int fault_code;
static bool fault_fired;

static void fault_arm(long nth) {
  fault_at = nth;
}

static void test_fault(sqlite3_context *ctx, int argc, sqlite3_value **argv) {
  (void)argc;
  (void)argv;
  if (fault_at >= 0 && fault_at-- == 0) {
    fault_fired = true;
    sqlite3_result_error(ctx, "test fault", -1);
    sqlite3_result_error_code(ctx, fault_code);
    return;
  }
  sqlite3_result_int(ctx, 0);
}

static void faulty(bare_t *b) {
  assert_int_equal(sqlite3_create_function(b->c.db, "test_fault", 0,
                                           SQLITE_UTF8, NULL, test_fault, NULL,
                                           NULL),
                   SQLITE_OK);
  bare_exec(b, "CREATE TEMP TRIGGER f1 BEFORE INSERT ON main.events WHEN "
               "test_fault() BEGIN SELECT 1; END;"
               "CREATE TEMP TRIGGER f2 BEFORE UPDATE ON main.parts WHEN "
               "test_fault() BEGIN SELECT 1; END;"
               "CREATE TEMP TRIGGER f3 BEFORE UPDATE ON main.messages WHEN "
               "test_fault() BEGIN SELECT 1; END;"
               "CREATE TEMP TRIGGER f4 BEFORE INSERT ON main.webhooks WHEN "
               "test_fault() BEGIN SELECT 1; END;");
}

/* The group of one paired receipt failing (sqlite_pair.h,
 * sg__sq_pair_failed): g[0] the SENT result of part id as "k1"; g[1] 50
 * receipts from c1 (their items fill most of the arena's first chunk), the one
 * for "k1" at index `at`, the others for ids never sent; g[2] the receipt for
 * "k1" again (a connector resending it), which reads the part after g[1]
 * failed. */
typedef struct failing {
  sg_store_result_in_t res;
  sg_store_receipt_in_t rx[50], again;
  char keys[50][8];
  sg__store_req_t g[3];
} failing_t;

static void failing_group(failing_t *f, int64_t id, int at) {
  f->g[0] = sent_req(&f->res, id, "k1");
  f->g[1] = receipt_req(&f->rx[0], "k1", SG_MSG_DELIVERED, 0, NULL);
  for (int i = 0; i < 50; i++) {
    snprintf(f->keys[i], sizeof f->keys[i], i == at ? "k1" : "x%d", i);
    f->rx[i] = f->rx[0];
    f->rx[i].smsc_id = f->keys[i];
  }
  f->g[1].in.receipts.items = f->rx;
  f->g[1].in.receipts.n = 50;
  f->g[2] = receipt_req(&f->again, "k1", SG_MSG_DELIVERED, 0, NULL);
}

/* After `one` ran the group of f (run_as_writer), `apart` runs those of
 * fa's requests whose twin in f did not fail, each alone: the same rows,
 * events and webhooks. Then the connector sends the receipt again to both:
 * the same again, the part 'delivered'. */
static void same_as_apart(bare_t *one, bare_t *apart, failing_t *f,
                          failing_t *fa) {
  char a[8192], b[8192];
  for (int i = 0; i < 3; i++)
    if (f->g[i].status >= 0)
      bare_run(apart, &fa->g[i], 3000, true);
  rows_of(one, a, sizeof a);
  rows_of(apart, b, sizeof b);
  assert_string_equal(a, b);
  events_and_hooks(one, a, sizeof a);
  events_and_hooks(apart, b, sizeof b);
  assert_string_equal(a, b);
  sg_store_receipt_in_t x[2];
  sg__store_req_t r1 = receipt_req(&x[0], "k1", SG_MSG_DELIVERED, 0, NULL);
  sg__store_req_t r2 = receipt_req(&x[1], "k1", SG_MSG_DELIVERED, 0, NULL);
  bare_run(one, &r1, 4000, true);
  bare_run(apart, &r2, 4000, true);
  rows_of(one, a, sizeof a);
  rows_of(apart, b, sizeof b);
  assert_string_equal(a, b);
  assert_non_null(strstr(a, "'delivered'"));
  events_and_hooks(one, a, sizeof a);
  events_and_hooks(apart, b, sizeof b);
  assert_string_equal(a, b);
  sg__arena_free(&r1.arena);
  sg__arena_free(&r2.arena);
}

/* A paired receipt that fails, at any allocation, leaves the group as if
 * it had not run: the part its SENT result wrote final goes back to 'sent'
 * at once (a row changed: the writer runs the group again without it), for
 * the receipt sent again, within the group or later, which must end it
 * with its event and webhook. The receipt for "k1" first or last in its
 * request (then the request may fail before it reaches it). The message
 * has a callback URL of 2,000 octets: its copy for the webhook takes a new
 * chunk of the arena. */
static void pair_receipt_failing_before_a_write(void **state) {
  (void)state;
  for (int at = 0; at < 50; at += 49) {
    int hits = 0;
    for (long n = 0; n < 1000; n++) {
      bare_t one, apart;
      char url[2][2001];
      bare_open(&one, NULL, HOOKED);
      int64_t id = claimed_long_url(&one, url[0]);
      bare_open(&apart, NULL, HOOKED);
      (void)claimed_long_url(&apart, url[1]);
      failing_t f, fa;
      failing_group(&f, id, at);
      failing_group(&fa, id, at);
      assert_int_equal(run_as_writer(&one, f.g, 3, 3000, &f.g[1], alloc_arm, n),
                       0);
      if (f.g[1].status < 0) {
        assert_int_equal(f.g[1].status, SG_ENOMEM);
        hits++;
      }
      same_as_apart(&one, &apart, &f, &fa);
      int st = f.g[1].status;
      free_reqs(f.g, 3);
      free_reqs(fa.g, 3);
      bare_close(&one);
      bare_close(&apart);
      if (st == 0) /* no allocation left to fail */
        break;
    }
    assert_true(hits > 1); /* past the first allocation (its items) */
  }
}

/* The same with a statement of the receipts failing, at each row they
 * write: SG_EEXIST (a constraint) leaves them out as above; SG_EIO fails
 * the whole group (rolled back: the part still 'sending'), and the group
 * run again then writes what the requests write apart. */
static void pair_receipt_failing_at_a_write(void **state) {
  (void)state;
  static const int codes[] = {SQLITE_CONSTRAINT, SQLITE_IOERR};
  for (int k = 0; k < 2; k++) {
    int hits = 0;
    for (long n = 0; n < 100; n++) {
      bare_t one, apart;
      char url[2][2001];
      bare_open(&one, NULL, HOOKED);
      int64_t id = claimed_long_url(&one, url[0]);
      bare_open(&apart, NULL, HOOKED);
      (void)claimed_long_url(&apart, url[1]);
      faulty(&one);
      failing_t f, fa;
      failing_group(&f, id, 0);
      failing_group(&fa, id, 0);
      fault_code = codes[k];
      fault_fired = false;
      int rc = run_as_writer(&one, f.g, 3, 3000, &f.g[1], fault_arm, n);
      bool fired = fault_fired;
      if (fired && codes[k] == SQLITE_IOERR) {
        assert_int_equal(rc, SG_EIO);
        hits++;
        char a[8192], b[8192];
        rows_of(&one, a, sizeof a); /* nothing of the group */
        rows_of(&apart, b, sizeof b);
        assert_string_equal(a, b);
        assert_int_equal(run_as_writer(&one, f.g, 3, 3000, NULL, NULL, -1), 0);
      } else {
        assert_int_equal(rc, 0);
        if (fired) {
          assert_int_equal(f.g[1].status, SG_EEXIST);
          hits++;
        }
      }
      same_as_apart(&one, &apart, &f, &fa);
      free_reqs(f.g, 3);
      free_reqs(fa.g, 3);
      bare_close(&one);
      bare_close(&apart);
      if (!fired) /* past the receipts' last write */
        break;
    }
    assert_true(hits > 1);
  }
}

/* A receipt held unmatched for another operator id (an id the gateway
 * never sent, kept for unmatched_keep_ms, an hour by default) cannot apply
 * to this part first: the SENT result and its receipt in one group still
 * write the part's row once. */
static void pair_with_an_unrelated_receipt_held(void **state) {
  (void)state;
  bare_t one;
  int64_t ids[2];
  two_claimed(&one, ids);
  sg_store_receipt_in_t stray;
  sg__store_req_t h =
      receipt_req(&stray, "zz-unknown", SG_MSG_DELIVERED, 0, NULL);
  bare_run(&one, &h, 2500, true); /* held: it matched no part */
  sg_store_result_in_t res;
  sg_store_receipt_in_t rx;
  sg__store_req_t g[2];
  g[0] = sent_req(&res, ids[0], "k1");
  g[1] = receipt_req(&rx, "k1", SG_MSG_DELIVERED, 0, NULL);
  run_group_of(&one, g, 2, 2, 3000);
  assert_int_equal(stmt_runs(&one, SG__Q_PART_SENT_ENDED), 1);
  assert_int_equal(stmt_runs(&one, SG__Q_PART_SET_STATUS), 0);
  sg__arena_free(&h.arena);
  free_reqs(g, 2);
  bare_close(&one);
}

/* A second SENT result for the same part and attempt (a repeated
 * submit_sm_resp, under another operator id) between the first and its
 * paired receipt finds the part not 'sending' either way (SG_ESTATE), but
 * its item must tell the status the part had then, 'sent', as when the
 * requests run apart. */
static void pair_repeated_sent_result_item(void **state) {
  (void)state;
  bare_t b[2];
  sg_store_result_in_t res[2][2];
  sg_store_receipt_in_t rx[2];
  sg__store_req_t g[2][3];
  for (int w = 0; w < 2; w++) {
    int64_t ids[2];
    two_claimed(&b[w], ids);
    g[w][0] = sent_req(&res[w][0], ids[0], "k1");
    g[w][1] = sent_req(&res[w][1], ids[0], "k9");
    g[w][2] = receipt_req(&rx[w], "k1", SG_MSG_DELIVERED, 0, NULL);
  }
  run_group_of(&b[0], g[0], 3, 3, 3000);
  run_apart(&b[1], g[1], 3, 3000);
  /* the second result ended the first's wait: no pair */
  assert_int_equal(stmt_runs(&b[0], SG__Q_PART_SENT_ENDED), 0);
  sg_store_item_res_t *x = &g[0][1].out.items.items[0];
  sg_store_item_res_t *y = &g[1][1].out.items.items[0];
  assert_int_equal(x->status, SG_ESTATE);
  assert_int_equal(y->status, SG_ESTATE);
  assert_int_equal(x->part_status, y->part_status);
  for (int w = 0; w < 2; w++) {
    free_reqs(g[w], 3);
    bare_close(&b[w]);
  }
}

/* The pair table after one large group: the next groups find their pairs
 * in it as in a new one (its slots of the large group are of another
 * generation), and it shrinks back after a run of small groups. */
static void pair_table_after_a_large_group(void **state) {
  (void)state;
  enum { BIG = 5000 };
  bare_t b;
  bare_open(&b, NULL, HOOKED);
  sg_store_result_in_t *res = calloc(BIG, sizeof *res);
  char(*keys)[16] = calloc(BIG, sizeof *keys);
  assert_non_null(res);
  assert_non_null(keys);
  for (int i = 0; i < BIG; i++) {
    snprintf(keys[i], sizeof keys[i], "k%d", i);
    res[i] = (sg_store_result_in_t){.part_id = i + 1,
                                    .attempt = 1,
                                    .outcome = SG_STORE_SENT,
                                    .smsc_id = keys[i]};
  }
  sg__store_req_t big;
  memset(&big, 0, sizeof big);
  big.kind = SG__REQ_RESULTS;
  big.in.results.items = res;
  big.in.results.n = BIG;
  sg__sq_pair_scan(&b.c, &big);
  assert_int_equal(sg__sq_pair_end(&b.c), 0);
  size_t cap = sg__sq_pair_cap(&b.c);
  assert_true(cap >= 2 * BIG + 1);
  sg_store_result_in_t r1;
  sg_store_receipt_in_t x1, x2;
  sg__store_req_t g[3];
  for (int k = 0; k < 70; k++) {
    /* "k7" was the large group's; here a SENT of another part, then its
     * final receipt: paired, and only that one */
    g[0] = sent_req(&r1, 9, "k7");
    g[1] = receipt_req(&x1, "k7", SG_MSG_DELIVERED, 0, NULL);
    g[2] = receipt_req(&x2, "k8", SG_MSG_DELIVERED, 0, NULL);
    g[0].next = &g[1];
    g[1].next = &g[2];
    sg__sq_pair_scan(&b.c, g);
    assert_ptr_equal(sg__sq_pair_receipt(&b.c, &r1), &x1);
    assert_int_equal(sg__sq_pair_part(&b.c, &x2), 0);
    assert_int_equal(sg__sq_pair_end(&b.c), 0);
    if (k < 63)
      assert_int_equal(sg__sq_pair_cap(&b.c), cap);
  }
  assert_int_equal(sg__sq_pair_cap(&b.c), 64); /* shrunk */
  free(res);
  free(keys);
  bare_close(&b);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(kannel_fields_in_the_insert),
      cmocka_unit_test(claim_from_the_copy),
      cmocka_unit_test(claim_skips_a_part_without_message),
      cmocka_unit_test(usage_counted_once_per_group),
      cmocka_unit_test(campaign_counted_once_per_group),
      cmocka_unit_test(sent_of_a_held_claim),
      cmocka_unit_test(sent_after_a_rolled_back_claim),
      cmocka_unit_test(taken_part_has_no_sending_row),
      cmocka_unit_test(sent_without_a_delivery_has_no_row),
      cmocka_unit_test(receipt_writes_no_message_row),
      cmocka_unit_test(receipt_of_a_held_send),
      cmocka_unit_test(receipt_after_a_rollback),
      cmocka_unit_test(no_ephemeral_table_a_run),
      cmocka_unit_test(sent_and_receipt_in_one_group),
      cmocka_unit_test(pair_broken_by_what_is_between),
      cmocka_unit_test(pair_not_taken_is_undone),
      cmocka_unit_test(pair_scenarios_as_apart),
      cmocka_unit_test(pair_receipt_failing_before_a_write),
      cmocka_unit_test(pair_receipt_failing_at_a_write),
      cmocka_unit_test(pair_with_an_unrelated_receipt_held),
      cmocka_unit_test(pair_repeated_sent_result_item),
      cmocka_unit_test(pair_table_after_a_large_group),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
