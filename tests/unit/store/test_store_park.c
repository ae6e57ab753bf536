/* Tests for claims that wait in the SQLite writer (store/sqlite_park.c,
 * sg_store_claim_wait): a claim that finds nothing waits, and a submit
 * writes its parts 'sending' for it, with the same rows, events, webhooks
 * and claimed parts as a part inserted 'queued' and claimed at the same
 * time; a rolled-back group takes them back and the claim waits on (also
 * through the writer: a failed commit, a request left out and its group
 * run again); a
 * backlog is selected first; a scheduled part, a part of another connector
 * and a part past the claim's room are not taken. Through the store and its
 * writer thread: the part reaches the claim's callback after the submit's
 * (also when the claim was queued after it, in the same group: claims run
 * first),
 * /metrics' counts are those of a claim, and a waiting claim is answered
 * with nothing at its time, at sg_store_claim_wake and at close; a wake
 * of one connector answers its claims and no other's. */
#include "store/store_fixture.h"

#include "store/sqlite.h"
#include "store/store_bare.h"

/* The webhook statuses of the bare connections: 'sending' included, so
 * that the claim's webhook is compared too. */
static const uint32_t HOOKED =
    SG_MSG_BIT(SG_MSG_SENT) | SG_MSG_BIT(SG_MSG_DELIVERED) |
    SG_MSG_BIT(SG_MSG_SENDING) | SG_MSG_BIT(SG_MSG_UNDELIVERABLE);

static const uint8_t UD[] = {1, 2, 3};
static const uint8_t UDH[] = {5, 0, 3, 42, 2, 1};

/* Message id of `parts` parts of connector conn, with what a claim carries
 * set to something other than its default; sent at send_at (0: now). */
typedef struct pmsg {
  sg_store_msg_in_t m;
  sg_store_part_in_t p[2];
} pmsg_t;

static void pmsg_init(pmsg_t *x, const char *id, unsigned parts,
                      const char *conn, int64_t send_at) {
  memset(x, 0, sizeof *x);
  for (unsigned i = 0; i < 2; i++)
    x->p[i] = (sg_store_part_in_t){.connector = conn,
                                   .encoding = SG_ENC_UCS2,
                                   .lang_locking = 1,
                                   .lang_single = 2,
                                   .udh = parts > 1 ? UDH : NULL,
                                   .udh_len = parts > 1 ? sizeof UDH : 0,
                                   .ud = UD,
                                   .ud_len = sizeof UD,
                                   .concat_ref = parts > 1 ? 42 : 0,
                                   .concat_total = (uint8_t)parts};
  x->m = (sg_store_msg_in_t){.sender = "Shop",
                             .recipient = "+79001234567",
                             .body = (const uint8_t *)"hi \"you\"",
                             .body_len = 8,
                             .callback_url = "http://127.0.0.1:9/hook",
                             .client_ref = "ref-1",
                             .priority = 1,
                             .validity_ms = 86400000,
                             .send_at_ms = send_at,
                             .dlr_wanted = true,
                             .parts = x->p,
                             .n_parts = parts};
  snprintf(x->m.id, sizeof x->m.id, "%s", id);
}

/* Runs a submit of x in its own transaction, committed or not. */
static void bare_submit(bare_t *b, pmsg_t *x, int64_t now, bool commit) {
  sg__store_req_t r;
  bare_submit_req(&r, &x->m, NULL);
  bare_run(b, &r, now, commit);
  sg__arena_free(&r.arena);
}

/* A claim of c1 that may wait (its arena is the caller's to free). */
static void wait_claim_req(sg__store_req_t *r, unsigned max) {
  bare_claim_req(r);
  r->in.claim.max = max;
  r->in.claim.wait_ms = 1000;
}

/* Runs claim r as the writer would in a group of its own: after the commit
 * it leaves the group when it waits. Returns whether it waits. */
static bool bare_wait_claim(bare_t *b, sg__store_req_t *r, int64_t now) {
  bare_run(b, r, now, true);
  unsigned n = 1;
  r->next = NULL;
  sg__store_req_t *g = sg__sq_park_commit(&b->c, r, &n);
  if (g == NULL) {
    assert_int_equal(n, 0);
    return true;
  }
  assert_ptr_equal(g, r);
  assert_int_equal(n, 1);
  return false;
}

/* The group of submit s committed: the claims it gave parts to, appended
 * after it, as the writer hands them to the loop. */
static sg__store_req_t *answered_after(bare_t *b, sg__store_req_t *s,
                                       unsigned *n) {
  *n = 1;
  s->next = NULL;
  sg__store_req_t *g = sg__sq_park_commit(&b->c, s, n);
  assert_ptr_equal(g, s);
  return s->next;
}

/* Every row of the tables a life writes, one line a row. */
static char *dump(bare_t *b) {
  static const char *const q[] = {
      "SELECT quote(id) || quote(status) || quote(error_code) || "
      "quote(updated_ms) FROM messages ORDER BY id",
      "SELECT quote(id) || quote(message_id) || quote(seq) || quote(status) "
      "|| quote(smsc_id) || quote(error_code) || quote(error) || "
      "quote(attempts) || quote(next_attempt_ms) || quote(lease_until_ms) || "
      "quote(updated_ms) || quote(expires_ms) || quote(priority) FROM parts "
      "ORDER BY id",
      "SELECT quote(id) || quote(message_id) || quote(part_seq) || "
      "quote(status) || quote(error_code) || quote(detail) || quote(time_ms) "
      "|| quote(fold_seq) || quote(fold_error_code) || quote(fold_detail) || "
      "quote(fold_time_ms) FROM events ORDER BY id",
      "SELECT quote(id) || quote(account_id) || quote(event_id) || quote(url) "
      "|| CAST(payload AS TEXT) FROM webhooks ORDER BY id",
      "SELECT quote(count(*)) FROM parts INDEXED BY parts_due WHERE status = "
      "'queued'",
      "SELECT quote(count(*)) FROM parts INDEXED BY parts_lease WHERE status "
      "= 'sending'"};
  size_t cap = 16384, len = 0;
  char *out = calloc(1, cap);
  for (size_t i = 0; i < sizeof q / sizeof q[0]; i++) {
    sqlite3_stmt *s;
    if (sqlite3_prepare_v2(b->c.db, q[i], -1, &s, NULL) != SQLITE_OK)
      fail_msg("%s: %s", q[i], sqlite3_errmsg(b->c.db));
    while (sqlite3_step(s) == SQLITE_ROW)
      len += (size_t)snprintf(out + len, cap - len, "%s\n",
                              (const char *)sqlite3_column_text(s, 0));
    sqlite3_finalize(s);
    assert_true(len < cap);
  }
  return out;
}

/* How many times the writer ran statement q. */
static int runs(bare_t *b, sg__sq_query_t q) {
  sqlite3_stmt *s = b->c.q[q];
  return s == NULL ? 0 : sqlite3_stmt_status(s, SQLITE_STMTSTATUS_RUN, 0);
}

/* A claimed part, every field, one line. */
static void claimed_line(const sg_store_claimed_t *p, char *out, size_t len) {
  char udh[32] = "", ud[32] = "";
  for (size_t i = 0; p->udh != NULL && i < p->udh_len; i++)
    snprintf(udh + 2 * i, sizeof udh - 2 * i, "%02x", p->udh[i]);
  for (size_t i = 0; i < p->ud_len; i++)
    snprintf(ud + 2 * i, sizeof ud - 2 * i, "%02x", p->ud[i]);
  snprintf(out, len,
           "%lld %u %s %u %s %s %s %d %u %u %s(%d) %s %u %u %u %d %lld %lld",
           (long long)p->part_id, p->attempt, p->message_id, p->seq,
           p->connector, p->sender, p->recipient, (int)p->encoding,
           p->lang_locking, p->lang_single, udh, p->udh != NULL, ud,
           p->concat_ref, p->concat_total, p->priority, p->dlr_wanted,
           (long long)p->validity_ms, (long long)p->account_id);
}

static int64_t sent_and_delivered(bare_t *b, int64_t part_id, int64_t now) {
  sg_store_result_in_t res = {.part_id = part_id,
                              .attempt = 1,
                              .outcome = SG_STORE_SENT,
                              .smsc_id = "abc1"};
  sg__store_req_t r;
  memset(&r, 0, sizeof r);
  r.kind = SG__REQ_RESULTS;
  r.in.results.items = &res;
  r.in.results.n = 1;
  bare_run(b, &r, now, true);
  assert_int_equal(r.out.items.items[0].status, 0);
  sg__arena_free(&r.arena);
  sg_store_receipt_in_t rc = {.connector = "c1",
                              .smsc_id = "abc1",
                              .status = SG_MSG_DELIVERED,
                              .done_ms = now + 500};
  memset(&r, 0, sizeof r);
  r.kind = SG__REQ_RECEIPTS;
  r.in.receipts.items = &rc;
  r.in.receipts.n = 1;
  bare_run(b, &r, now + 1000, true);
  int64_t st = r.out.items.items[0].msg_status;
  sg__arena_free(&r.arena);
  return st;
}

/* One message of `parts` parts: queued then claimed on one connection,
 * taken by a waiting claim at its submit on the other, at the same time;
 * then sent and delivered on both. */
static void same_as_claimed(unsigned parts) {
  bare_t q, w;
  bare_open(&q, NULL, HOOKED);
  bare_open(&w, NULL, HOOKED);
  pmsg_t x;
  pmsg_init(&x, "m1", parts, "c1", 0);

  /* queued, then claimed */
  bare_submit(&q, &x, 1000, true);
  sg__store_req_t cq;
  wait_claim_req(&cq, 8);
  /* found it: answered with its group, not waiting past it */
  assert_false(bare_wait_claim(&q, &cq, 1000));
  assert_int_equal(cq.out.claim.n_parts, parts);
  assert_int_equal(q.c.park.n, 0);

  /* a claim that waits, then the submit */
  sg__store_req_t cw;
  wait_claim_req(&cw, 8);
  assert_true(bare_wait_claim(&w, &cw, 1000));
  assert_true(cw.out.claim.waited);
  assert_int_equal(cw.out.claim.n_parts, 0);
  assert_int_equal(w.c.park.n, 1);
  sg__store_req_t s;
  bare_submit_req(&s, &x.m, NULL);
  bare_run(&w, &s, 1000, true);
  unsigned n;
  assert_ptr_equal(answered_after(&w, &s, &n), &cw);
  assert_int_equal(n, 2);
  assert_int_equal(w.c.park.n, 0);
  assert_int_equal(cw.out.claim.n_parts, parts);
  sg__arena_free(&s.arena);

  for (unsigned i = 0; i < parts; i++) {
    char a[256], b[256];
    claimed_line(&cq.out.claim.parts[i], a, sizeof a);
    claimed_line(&cw.out.claim.parts[i], b, sizeof b);
    assert_string_equal(a, b);
  }
  char *dq = dump(&q), *dw = dump(&w);
  assert_string_equal(dq, dw);
  /* the 'sending' event and its webhook, no 'queued' part in parts_due */
  assert_non_null(strstr(dw, "'sending'NULL"));
  assert_non_null(strstr(dw, "\"status\":\"sending\""));
  free(dq);
  free(dw);

  if (parts == 1) { /* the rest of the life, the SENT without a read */
    assert_int_equal(
        sent_and_delivered(&q, cq.out.claim.parts[0].part_id, 2000),
        SG_MSG_DELIVERED);
    assert_int_equal(
        sent_and_delivered(&w, cw.out.claim.parts[0].part_id, 2000),
        SG_MSG_DELIVERED);
    assert_int_equal(runs(&w, SG__Q_PART_BY_ID), 0);
    dq = dump(&q);
    dw = dump(&w);
    assert_string_equal(dq, dw);
    free(dq);
    free(dw);
  }
  /* the part was never claimed by an UPDATE */
  assert_int_equal(runs(&w, SG__Q_PART_CLAIM), 0);
  assert_int_equal(runs(&q, SG__Q_PART_CLAIM), parts);
  sg__arena_free(&cq.arena);
  sg__arena_free(&cw.arena);
  bare_close(&q);
  bare_close(&w);
}

static void one_part_taken_as_claimed(void **state) {
  (void)state;
  same_as_claimed(1);
}

static void two_parts_taken_as_claimed(void **state) {
  (void)state;
  same_as_claimed(2);
}

static long long count(bare_t *b, const char *sql) {
  sqlite3_stmt *s;
  assert_int_equal(sqlite3_prepare_v2(b->c.db, sql, -1, &s, NULL), SQLITE_OK);
  assert_int_equal(sqlite3_step(s), SQLITE_ROW);
  long long v = sqlite3_column_int64(s, 0);
  sqlite3_finalize(s);
  return v;
}

/* A group that rolls back takes its parts back: the claim waits on with
 * nothing, and takes the part of the submit run again. A claim that began
 * to wait in a group that rolls back leaves the list. */
static void rollback_keeps_the_claim_waiting(void **state) {
  (void)state;
  bare_t b;
  bare_open(&b, NULL, HOOKED);
  sg__store_req_t cw;
  wait_claim_req(&cw, 8);
  assert_true(bare_wait_claim(&b, &cw, 1000));
  pmsg_t x;
  pmsg_init(&x, "m1", 1, "c1", 0);
  sg__store_req_t s;
  bare_submit_req(&s, &x.m, NULL);
  bare_run(&b, &s, 1000, false);
  assert_int_equal(cw.out.claim.n_parts, 1); /* until the group ends */
  sg__sq_park_rollback(&b.c);
  assert_int_equal(b.c.park.n, 1);
  assert_int_equal(cw.out.claim.n_parts, 0);
  assert_int_equal(count(&b, "SELECT count(*) FROM parts"), 0);
  sg__arena_free(&s.arena);
  /* the same submit, committed */
  bare_submit_req(&s, &x.m, NULL);
  bare_run(&b, &s, 1100, true);
  unsigned n;
  assert_ptr_equal(answered_after(&b, &s, &n), &cw);
  assert_int_equal(cw.out.claim.n_parts, 1);
  assert_int_equal(
      count(&b, "SELECT count(*) FROM parts WHERE status = 'sending' AND "
                "attempts = 1 AND lease_until_ms = 61100"),
      1);
  assert_int_equal(count(&b, "SELECT count(*) FROM events WHERE status = "
                             "'sending' AND part_seq IS NULL"),
                   1);
  sg__arena_free(&s.arena);
  sg__arena_free(&cw.arena);

  /* a claim that begins to wait in a group that rolls back */
  sg__store_req_t c2;
  wait_claim_req(&c2, 8);
  bare_run(&b, &c2, 1200, false);
  assert_int_equal(b.c.park.n, 1);
  sg__sq_park_rollback(&b.c);
  assert_int_equal(b.c.park.n, 0);
  sg__arena_free(&c2.arena);
  bare_close(&b);
}

/* Parts due before are selected first: a claim that found some takes the
 * parts of its group's later submits after them and is answered with its
 * group; it waits past it only when it found nothing, and a claim without
 * a wait never waits. */
static void backlog_is_selected_first(void **state) {
  (void)state;
  bare_t b;
  bare_open(&b, NULL, HOOKED);
  pmsg_t x;
  pmsg_init(&x, "m1", 1, "c1", 0);
  bare_submit(&b, &x, 1000, true);
  /* the backlog, then a submit in the same group (claims run first) */
  sg__store_req_t c1, s;
  wait_claim_req(&c1, 8);
  pmsg_t y;
  pmsg_init(&y, "m2", 1, "c1", 0);
  bare_submit_req(&s, &y.m, NULL);
  bare_exec(&b, "BEGIN IMMEDIATE");
  assert_int_equal(sg__sq_run_write(&b.c, &c1, 1000), 0);
  assert_int_equal(sg__sq_run_write(&b.c, &s, 1000), 0);
  bare_exec(&b, "COMMIT");
  sg__sq_mc_tx_end(&b.c, true);
  /* queued [claim, submit]: the claim is answered after the submit */
  unsigned n = 2;
  c1.next = &s;
  s.next = NULL;
  assert_ptr_equal(sg__sq_park_commit(&b.c, &c1, &n), &s);
  assert_ptr_equal(s.next, &c1);
  assert_null(c1.next);
  assert_int_equal(n, 2);
  assert_int_equal(b.c.park.n, 0); /* it does not wait past its group */
  assert_int_equal(c1.out.claim.n_parts, 2);
  assert_string_equal(c1.out.claim.parts[0].message_id, "m1");
  assert_string_equal(c1.out.claim.parts[1].message_id, "m2");
  assert_int_equal(runs(&b, SG__Q_PART_CLAIM), 1);
  assert_int_equal(
      count(&b, "SELECT count(*) FROM parts WHERE status = 'sending'"), 2);
  sg__arena_free(&s.arena);
  sg__arena_free(&c1.arena);
  sg__store_req_t c0;
  bare_claim_req(&c0); /* no wait asked */
  assert_false(bare_wait_claim(&b, &c0, 1000));
  assert_int_equal(c0.out.claim.n_parts, 0);
  assert_false(c0.out.claim.waited);
  sg__arena_free(&c0.arena);
  /* the backlog taken, the next claim that may wait waits */
  sg__store_req_t c2;
  wait_claim_req(&c2, 8);
  assert_true(bare_wait_claim(&b, &c2, 1000));
  assert_int_equal(b.c.park.n, 1);
  sg__arena_free(&c2.arena);
  bare_close(&b);
}

/* Not taken at the submit: a scheduled message, a part of another
 * connector, a part past the claim's room (it stays queued for the next
 * claim's select). */
static void only_due_parts_it_has_room_for(void **state) {
  (void)state;
  bare_t b;
  bare_open(&b, NULL, HOOKED);
  sg__store_req_t cw;
  wait_claim_req(&cw, 1);
  assert_true(bare_wait_claim(&b, &cw, 1000));
  pmsg_t sched, other, two;
  pmsg_init(&sched, "m1", 1, "c1", 5000);
  pmsg_init(&other, "m2", 1, "c2", 0);
  pmsg_init(&two, "m3", 2, "c1", 0);
  sg__store_req_t s;
  bare_submit_req(&s, &sched.m, NULL);
  bare_run(&b, &s, 1000, true);
  unsigned n;
  assert_null(answered_after(&b, &s, &n));
  sg__arena_free(&s.arena);
  bare_submit_req(&s, &other.m, NULL);
  bare_run(&b, &s, 1000, true);
  assert_null(answered_after(&b, &s, &n));
  sg__arena_free(&s.arena);
  assert_int_equal(b.c.park.n, 1);
  assert_int_equal(cw.out.claim.n_parts, 0);
  assert_int_equal(
      count(&b, "SELECT count(*) FROM parts WHERE status = 'scheduled'"), 1);
  bare_submit_req(&s, &two.m, NULL);
  bare_run(&b, &s, 1000, true);
  assert_ptr_equal(answered_after(&b, &s, &n), &cw);
  sg__arena_free(&s.arena);
  assert_int_equal(cw.out.claim.n_parts, 1);
  assert_int_equal(cw.out.claim.parts[0].seq, 1);
  assert_int_equal(count(&b, "SELECT count(*) FROM parts WHERE message_id = "
                             "'m3' AND seq = 2 AND status = 'queued'"),
                   1);
  /* the message stays 'queued' (the least advanced of its parts), as
   * after a claim of one of its parts */
  assert_int_equal(count(&b, "SELECT count(*) FROM messages WHERE id = 'm3' "
                             "AND status = 'queued'"),
                   1);
  sg__arena_free(&cw.arena);
  bare_close(&b);
}

/* ---- through the store and its writer ------------------------------------ */

typedef struct cgot {
  int calls;
  int status;
  size_t n_parts;
  bool waited;
  int order; /* the value of *seq when it came */
  int *seq;
  uint64_t at_ns;
  sg_store_claimed_t first;
  char mid[SG_ID_LEN + 1];
} cgot_t;

static void wait_cb(sg_store_t *st, int status, const sg_store_claim_res_t *r,
                    void *data) {
  (void)st;
  cgot_t *g = data;
  g->status = status;
  g->at_ns = uv_hrtime();
  if (status == 0) {
    g->n_parts = r->n_parts;
    g->waited = r->waited;
    if (r->n_parts > 0) {
      g->first = r->parts[0];
      memcpy(g->mid, r->parts[0].message_id, sizeof g->mid);
    }
  }
  if (g->seq != NULL)
    g->order = (*g->seq)++;
  g->calls++;
}

typedef struct sgot {
  got_t g;
  int *seq;
  int order;
} sgot_t;

static void submit_seq_cb(sg_store_t *st, int status,
                          const sg_store_submit_res_t *res, void *data) {
  sgot_t *s = data;
  s->order = (*s->seq)++;
  submit_cb(st, status, res, &s->g);
}

static sg_store_counts_t counts(ctx_t *c) {
  counts_got_t g;
  counts_wait(c, &g);
  return g.k;
}

/* Waits until the writer holds a waiting claim: a write queued after it
 * committed (its group ran after the claim's). */
static void settle(ctx_t *c) {
  tmsg_t t;
  tmsg_init(&t, "+79000000009", 1, "elsewhere");
  got_t g;
  assert_int_equal(submit_wait(c, &t, 1, NULL, &g), 0);
}

static void store_hands_the_submit_to_the_claim(void **state) {
  ctx_t *c = *state;
  open_store(c);
  /* a part queued and claimed, for the counts to compare with */
  tmsg_t a;
  tmsg_init(&a, "+79001230001", 1, "c1");
  assert_int_equal(submit_wait(c, &a, 1, NULL, NULL), 0);
  cgot_t ca = {0};
  assert_int_equal(
      sg_store_claim_wait(c->st, "c1", 8, 60000, 5000, wait_cb, &ca), 0);
  run_until(c, &ca.calls, 1);
  assert_int_equal(ca.n_parts, 1);

  int seq = 0;
  cgot_t cw = {.seq = &seq};
  uint64_t t0 = uv_hrtime();
  assert_int_equal(
      sg_store_claim_wait(c->st, "c1", 8, 60000, 5000, wait_cb, &cw), 0);
  settle(c);
  assert_int_equal(cw.calls, 0); /* it waits */
  sg_store_counts_t k0 = counts(c);
  tmsg_t b;
  tmsg_init(&b, "+79001230002", 1, "c1");
  sgot_t sg = {.seq = &seq};
  sg_store_batch_t batch = {.account_id = 1, .msgs = &b.m, .n_msgs = 1};
  sg_id_new(batch.batch_id);
  assert_int_equal(sg_store_submit(c->st, &batch, submit_seq_cb, &sg), 0);
  run_until(c, &cw.calls, 1);
  assert_int_equal(sg.g.calls, 1);
  assert_int_equal(sg.g.status, 0);
  assert_true(sg.order < cw.order); /* the submit's callback first */
  assert_true(uv_hrtime() - t0 < 4000000000ull); /* not at its time */
  assert_int_equal(cw.status, 0);
  assert_true(cw.waited);
  assert_int_equal(cw.n_parts, 1);
  assert_string_equal(cw.mid, b.m.id);
  assert_int_equal(cw.first.attempt, 1);
  assert_int_equal(cw.first.account_id, 1);
  char sql[160];
  snprintf(sql, sizeof sql,
           "SELECT attempts FROM parts WHERE message_id = '%s' AND status = "
           "'sending' AND lease_until_ms = %lld",
           b.m.id, (long long)(T0 + 60000));
  assert_int_equal(q1(c, sql), 1);
  /* /metrics' counts moved as by a claim */
  sg_store_counts_t k1 = counts(c);
  assert_int_equal(k1.parts[SG_MSG_SENDING], k0.parts[SG_MSG_SENDING] + 1);
  assert_int_equal(k1.parts[SG_MSG_QUEUED], k0.parts[SG_MSG_QUEUED]);
  assert_int_equal(k1.messages[SG_MSG_SENDING],
                   k0.messages[SG_MSG_SENDING] + 1);
  assert_int_equal(k1.messages[SG_MSG_QUEUED], k0.messages[SG_MSG_QUEUED]);
  close_store(c);
}

/* Through the writer: a group whose transaction fails (fault injection)
 * after its submit gave a part to a waiting claim takes the part back, the
 * claim waits on, and the next submit's part is the only one it gets. */
static void failed_group_gives_the_part_back(void **state) {
  ctx_t *c = *state;
  sg_store_config_t cfg = test_config(c);
  cfg.fault_injection = true;
  int rc = open_with(c, &cfg);
  if (rc != 0)
    fail_msg("open: %s (%s)", c->err, sg_err_name(rc));
  cgot_t cw = {0};
  assert_int_equal(
      sg_store_claim_wait(c->st, "c1", 8, 60000, 5000, wait_cb, &cw), 0);
  settle(c);
  assert_int_equal(cw.calls, 0); /* it waits */
  assert_int_equal(sg_store_sqlite_fail_next(c->st, 1, false), 0);
  tmsg_t a;
  tmsg_init(&a, "+79001230001", 1, "c1");
  got_t ga;
  assert_int_not_equal(submit_wait(c, &a, 1, NULL, &ga), 0);
  assert_int_equal(cw.calls, 0); /* still waiting, with nothing */
  tmsg_t b;
  tmsg_init(&b, "+79001230002", 1, "c1");
  assert_int_equal(submit_wait(c, &b, 1, NULL, NULL), 0);
  run_until(c, &cw.calls, 1);
  assert_int_equal(cw.status, 0);
  assert_true(cw.waited);
  assert_int_equal(cw.n_parts, 1);
  assert_string_equal(cw.mid, b.m.id);
  assert_int_equal(q1(c, "SELECT count(*) FROM parts"), 2); /* settle's, b */
  close_store(c);
}

/* Through the writer: a submit that fails after it wrote (its second
 * message's id is taken) is left out and its group run again; the part its
 * first message gave the waiting claim is taken back, and the claim waits
 * on for the next submit's. */
static void rerun_gives_the_part_back(void **state) {
  ctx_t *c = *state;
  open_store(c);
  tmsg_t old;
  tmsg_init(&old, "+79001230000", 1, "elsewhere");
  assert_int_equal(submit_wait(c, &old, 1, NULL, NULL), 0);
  cgot_t cw = {0};
  assert_int_equal(
      sg_store_claim_wait(c->st, "c1", 8, 60000, 5000, wait_cb, &cw), 0);
  settle(c);
  assert_int_equal(cw.calls, 0); /* it waits */
  sg_store_stats_t s0, s1;
  sg_store_get_stats(c->st, &s0);
  tmsg_t a[2];
  tmsg_init(&a[0], "+79001230001", 1, "c1");
  tmsg_init(&a[1], "+79001230003", 1, "c1");
  memcpy(a[1].m.id, old.m.id, sizeof a[1].m.id); /* taken */
  assert_int_equal(submit_wait(c, a, 2, NULL, NULL), SG_EEXIST);
  sg_store_get_stats(c->st, &s1);
  assert_int_equal(s1.reruns - s0.reruns, 1);
  assert_int_equal(cw.calls, 0); /* still waiting, with nothing */
  tmsg_t b;
  tmsg_init(&b, "+79001230002", 1, "c1");
  assert_int_equal(submit_wait(c, &b, 1, NULL, NULL), 0);
  run_until(c, &cw.calls, 1);
  assert_int_equal(cw.status, 0);
  assert_int_equal(cw.n_parts, 1);
  assert_string_equal(cw.mid, b.m.id);
  close_store(c);
}

/* Answered with nothing at its time, at a wake, at the close. */
static void store_answers_a_waiting_claim(void **state) {
  ctx_t *c = *state;
  open_store(c);
  cgot_t t = {0};
  uint64_t t0 = uv_hrtime();
  assert_int_equal(sg_store_claim_wait(c->st, "c1", 8, 60000, 300, wait_cb, &t),
                   0);
  settle(c);
  assert_int_equal(t.calls, 0);
  run_until(c, &t.calls, 1);
  assert_int_equal(t.status, 0);
  assert_int_equal(t.n_parts, 0);
  assert_true(t.waited);
  assert_true(t.at_ns - t0 >= 290000000ull);

  cgot_t w = {0};
  assert_int_equal(
      sg_store_claim_wait(c->st, "c1", 8, 60000, 30000, wait_cb, &w), 0);
  settle(c);
  assert_int_equal(w.calls, 0);
  t0 = uv_hrtime();
  sg_store_claim_wake(c->st, NULL);
  run_until(c, &w.calls, 1);
  assert_int_equal(w.n_parts, 0);
  assert_true(w.waited);
  assert_true(w.at_ns - t0 < 5000000000ull);

  /* a wake answers a claim queued before it, even one not yet run */
  cgot_t q = {0};
  assert_int_equal(
      sg_store_claim_wait(c->st, "c1", 8, 60000, 30000, wait_cb, &q), 0);
  sg_store_claim_wake(c->st, NULL);
  t0 = uv_hrtime();
  run_until(c, &q.calls, 1);
  assert_true(q.at_ns - t0 < 5000000000ull);

  cgot_t z = {0};
  assert_int_equal(
      sg_store_claim_wait(c->st, "c1", 8, 60000, 30000, wait_cb, &z), 0);
  settle(c);
  t0 = uv_hrtime();
  close_store(c);
  assert_int_equal(z.calls, 1);
  assert_int_equal(z.status, 0);
  assert_int_equal(z.n_parts, 0);
  assert_true(uv_hrtime() - t0 < 5000000000ull);
}

/* A wake names its connector: it answers the claims of c1, those waiting
 * and one queued before it, and leaves c2's waiting (they take the next
 * submit of c2); a claim of c1 queued after it waits, and a wake of c2
 * leaves it waiting. */
static void a_wake_answers_its_connector_only(void **state) {
  ctx_t *c = *state;
  open_store(c);
  cgot_t a = {0}, b = {0}, q = {0}, r = {0};
  assert_int_equal(
      sg_store_claim_wait(c->st, "c1", 8, 60000, 30000, wait_cb, &a), 0);
  assert_int_equal(
      sg_store_claim_wait(c->st, "c2", 8, 60000, 30000, wait_cb, &b), 0);
  settle(c);
  assert_int_equal(
      sg_store_claim_wait(c->st, "c1", 8, 60000, 30000, wait_cb, &q), 0);
  sg_store_claim_wake(c->st, "c1");
  assert_int_equal(
      sg_store_claim_wait(c->st, "c1", 8, 60000, 30000, wait_cb, &r), 0);
  run_until(c, &a.calls, 1);
  run_until(c, &q.calls, 1);
  assert_int_equal(a.n_parts, 0);
  assert_int_equal(q.n_parts, 0);
  settle(c);
  assert_int_equal(b.calls, 0); /* c2's waits on */
  assert_int_equal(r.calls, 0); /* queued after the wake */
  sg_store_claim_wake(c->st, "c2");
  run_until(c, &b.calls, 1);
  assert_int_equal(b.n_parts, 0);
  settle(c);
  assert_int_equal(r.calls, 0);
  tmsg_t m;
  tmsg_init(&m, "+79001230001", 1, "c1");
  assert_int_equal(submit_wait(c, &m, 1, NULL, NULL), 0);
  run_until(c, &r.calls, 1);
  assert_int_equal(r.n_parts, 1);
  assert_string_equal(r.mid, m.m.id);
  close_store(c);
}

/* Claims whose waits run out close together are answered together: when
 * the first one's (c1, 1 s) runs out, one with 150 ms more (c2, 1.15 s:
 * within a quarter of its wait) comes with it, in the same answer; one
 * queued later with 30 s waits on. */
static void close_waits_end_together(void **state) {
  ctx_t *c = *state;
  open_store(c);
  cgot_t a = {0}, b = {0}, z = {0};
  assert_int_equal(
      sg_store_claim_wait(c->st, "c1", 8, 60000, 1000, wait_cb, &a), 0);
  assert_int_equal(
      sg_store_claim_wait(c->st, "c2", 8, 60000, 1150, wait_cb, &b), 0);
  assert_int_equal(
      sg_store_claim_wait(c->st, "c3", 8, 60000, 30000, wait_cb, &z), 0);
  settle(c);
  run_until(c, &a.calls, 1);
  assert_int_equal(b.calls, 1); /* answered with it */
  assert_true(b.waited);
  assert_int_equal(b.n_parts, 0);
  assert_int_equal(z.calls, 0);
  close_store(c);
  assert_int_equal(z.calls, 1);
}

/* The wakes the store keeps name at most SG__SQ_WAKES_MAX connectors: past
 * that they count as a wake of all, at the latest count, so that no claim
 * they named is left waiting. */
static void wakes_stay_bounded(void **state) {
  (void)state;
  sg__sq_wakes_t w = {0};
  char name[32];
  for (unsigned i = 0; i < SG__SQ_WAKES_MAX; i++) {
    snprintf(name, sizeof name, "x%u", i);
    sg__sq_wakes_add(&w, name, 10u + i);
  }
  assert_int_equal(w.n, SG__SQ_WAKES_MAX);
  assert_int_equal(w.all, 0);
  sg__sq_wakes_add(&w, "x0", 5); /* older: the entry keeps its count */
  assert_int_equal(w.w[0].gen, 10);
  sg__sq_wakes_add(&w, "one more", 7);
  assert_int_equal(w.n, 0);
  assert_int_equal(w.all, 10u + SG__SQ_WAKES_MAX - 1);
  sg__sq_wakes_add(&w, "y", 9000);
  assert_int_equal(w.n, 1);
  sg__sq_wakes_add(&w, NULL, 9001);
  assert_int_equal(w.all, 9001);
  sg__sq_wakes_free(&w);
  assert_int_equal(w.n, 0);
  assert_null(w.w);
}

/* A claim queued after a submit, in the same group: it runs first, finds
 * nothing, and takes the submit's part; answered after the submit. */
static void claims_run_first_in_their_group(void **state) {
  ctx_t *c = *state;
  sg_store_config_t cfg = test_config(c);
  cfg.max_batch = 2;         /* the writer takes the two together */
  cfg.max_wait_us = 2000000; /* waiting up to 2 s for the second */
  assert_int_equal(open_with(c, &cfg), 0);
  int seq = 0;
  tmsg_t b;
  tmsg_init(&b, "+79001230003", 1, "c1");
  sgot_t sg = {.seq = &seq};
  sg_store_batch_t batch = {.account_id = 1, .msgs = &b.m, .n_msgs = 1};
  sg_id_new(batch.batch_id);
  cgot_t cw = {.seq = &seq};
  assert_int_equal(sg_store_submit(c->st, &batch, submit_seq_cb, &sg), 0);
  assert_int_equal(
      sg_store_claim_wait(c->st, "c1", 8, 60000, 5000, wait_cb, &cw), 0);
  run_until(c, &cw.calls, 1);
  assert_int_equal(sg.g.status, 0);
  assert_true(sg.order < cw.order);
  assert_true(cw.waited);
  assert_int_equal(cw.n_parts, 1);
  assert_string_equal(cw.mid, b.m.id);
  close_store(c);
}

typedef struct said {
  int calls, status;
  size_t n_parts, released;
  int64_t next_ms;
  char to[4][16];
  size_t n_to;
  sg_store_maint_res_t maint;
} said_t;

static void said_cb(sg_store_t *st, int status, const sg_store_claim_res_t *r,
                    void *data) {
  (void)st;
  said_t *g = data;
  g->status = status;
  if (status == 0) {
    g->n_parts = r->n_parts;
    g->released = r->released;
    g->next_ms = r->next_ms;
    g->n_to = r->n_released_to;
    for (size_t i = 0; i < r->n_released_to && i < 4; i++)
      snprintf(g->to[i], sizeof g->to[i], "%s", r->released_to[i]);
  }
  g->calls++;
}

static void said_maint_cb(sg_store_t *st, int status,
                          const sg_store_maint_res_t *r, void *data) {
  (void)st;
  said_t *g = data;
  g->status = status;
  if (status == 0) {
    g->maint = *r;
    g->n_to = r->n_released_to;
    for (size_t i = 0; i < r->n_released_to && i < 4; i++)
      snprintf(g->to[i], sizeof g->to[i], "%s", r->released_to[i]);
  }
  g->calls++;
}

/* What an idle engine needs to leave the store alone: an empty claim says
 * when its connector's next back-off ends (answered at once, or after its
 * wait); a release names the connectors of the messages it released;
 * maintenance says when it has work next, and a commit that changed
 * nothing is not counted as changing. */
static void answers_say_when_and_whose(void **state) {
  ctx_t *c = *state;
  open_store(c);
  tmsg_t m;
  tmsg_init(&m, "+79001230011", 1, "c1");
  assert_int_equal(submit_wait(c, &m, 1, NULL, NULL), 0);
  claim_got_t cg;
  claim_wait(c, "c1", 1, &cg);
  assert_int_equal(cg.n, 1);
  sg_store_result_in_t res = {.part_id = cg.parts[0].part_id,
                              .attempt = cg.parts[0].attempt,
                              .outcome = SG_STORE_RETRY,
                              .next_attempt_ms = T0 + 5000};
  items_got_t ig;
  results_wait(c, &res, 1, &ig);

  said_t now = {0}, waited = {0}, other = {0};
  assert_int_equal(sg_store_claim(c->st, "c1", 8, 60000, said_cb, &now), 0);
  run_until(c, &now.calls, 1);
  assert_int_equal(now.n_parts, 0);
  assert_int_equal(now.next_ms, T0 + 5000);
  assert_int_equal(
      sg_store_claim_wait(c->st, "c1", 8, 60000, 20, said_cb, &waited), 0);
  run_until(c, &waited.calls, 1);
  assert_int_equal(waited.n_parts, 0);
  assert_int_equal(waited.next_ms, T0 + 5000);
  assert_int_equal(sg_store_claim(c->st, "c2", 8, 60000, said_cb, &other), 0);
  run_until(c, &other.calls, 1);
  assert_int_equal(other.next_ms, 0); /* nothing of its own waits */

  /* a message scheduled for c3: maintenance names its time, and a claim
   * of c2 that releases it names c3 */
  sg_store_stats_t s0;
  sg_store_get_stats(c->st, &s0);
  said_t mt = {0};
  assert_int_equal(sg_store_maintain(c->st, said_maint_cb, &mt), 0);
  run_until(c, &mt.calls, 1);
  assert_true(mt.maint.timed);
  assert_int_equal(mt.maint.next_ms, 0); /* no lease, expiry, schedule */
  sg_store_stats_t s1;
  sg_store_get_stats(c->st, &s1);
  assert_int_equal(s1.changing, s0.changing); /* it changed nothing */
  assert_int_equal(s1.commits, s0.commits + 1);

  tmsg_t later;
  tmsg_init(&later, "+79001230012", 1, "c3");
  later.m.send_at_ms = T0 + 9000;
  assert_int_equal(submit_wait(c, &later, 1, NULL, NULL), 0);
  sg_store_get_stats(c->st, &s0);
  assert_int_equal(s0.changing, s1.changing + 1);
  mt = (said_t){0};
  assert_int_equal(sg_store_maintain(c->st, said_maint_cb, &mt), 0);
  run_until(c, &mt.calls, 1);
  assert_int_equal(mt.maint.next_ms, T0 + 9000);
  atomic_store(&fake_now, T0 + 9500);
  said_t rel = {0};
  assert_int_equal(sg_store_claim(c->st, "c2", 8, 60000, said_cb, &rel), 0);
  run_until(c, &rel.calls, 1);
  assert_int_equal(rel.released, 1);
  assert_int_equal(rel.n_to, 1);
  assert_string_equal(rel.to[0], "c3");
  close_store(c);
}

static void wh_id_cb(sg_store_t *st, int status, int64_t id, void *data) {
  (void)st;
  got_t *g = data;
  g->status = status;
  g->id = id;
  g->calls++;
}

/* A webhook delivery claimed and never finished (its outcome lost) is due
 * again when its lease runs out. An idle engine polls the webhooks when
 * maintenance says (webhook_next_ms, or its own next_ms), else once every
 * idle_ms: so maintenance must name the lease's end, as it names a part's.
 * SQLite keeps webhook leases in the writer's memory, never in the rows'
 * status, which is what SG__Q_MAINT_NEXT reads. */
static void maintenance_names_a_webhook_lease_end(void **state) {
  ctx_t *c = *state;
  open_store(c);
  got_t eg = {0};
  static const char body[] = "{\"custom\":1}";
  assert_int_equal(sg_store_webhook_enqueue(c->st, 0, NULL, "http://x/y",
                                            (const uint8_t *)body,
                                            strlen(body), wh_id_cb, &eg),
                   0);
  run_until(c, &eg.calls, 1);
  assert_int_equal(eg.status, 0);
  wh_got_t w;
  wh_claim_on(c, c->st, 8, 1000, &w); /* leased until T0 + 1000 */
  assert_int_equal(w.n, 1);
  said_t mt = {0};
  assert_int_equal(sg_store_maintain(c->st, said_maint_cb, &mt), 0);
  run_until(c, &mt.calls, 1);
  assert_int_equal(mt.status, 0);
  assert_true(mt.maint.timed);
  print_message("next_ms %lld, webhook_next_ms %lld (T0 + 1000 = %lld)\n",
                (long long)mt.maint.next_ms,
                (long long)mt.maint.webhook_next_ms, (long long)(T0 + 1000));
  assert_int_equal(mt.maint.webhook_next_ms, T0 + 1000);
  /* and once it ran out, a claim takes it again */
  atomic_store(&fake_now, T0 + 1001);
  wh_claim_on(c, c->st, 8, 1000, &w);
  assert_int_equal(w.n, 1);
  close_store(c);
}

static void bad_wait_is_refused(void **state) {
  ctx_t *c = *state;
  open_store(c);
  cgot_t t = {0};
  assert_int_equal(sg_store_claim_wait(c->st, "c1", 8, 60000,
                                       SG_STORE_CLAIM_WAIT_MAX_MS + 1, wait_cb,
                                       &t),
                   SG_EINVAL);
  close_store(c);
  assert_int_equal(t.calls, 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(one_part_taken_as_claimed),
      cmocka_unit_test(two_parts_taken_as_claimed),
      cmocka_unit_test(rollback_keeps_the_claim_waiting),
      cmocka_unit_test(backlog_is_selected_first),
      cmocka_unit_test(only_due_parts_it_has_room_for),
      cmocka_unit_test_setup_teardown(store_hands_the_submit_to_the_claim,
                                      setup, teardown),
      cmocka_unit_test_setup_teardown(a_wake_answers_its_connector_only, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(close_waits_end_together, setup,
                                      teardown),
      cmocka_unit_test(wakes_stay_bounded),
      cmocka_unit_test_setup_teardown(store_answers_a_waiting_claim, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(claims_run_first_in_their_group, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(bad_wait_is_refused, setup, teardown),
      cmocka_unit_test_setup_teardown(answers_say_when_and_whose, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(maintenance_names_a_webhook_lease_end,
                                      setup, teardown),
      cmocka_unit_test_setup_teardown(failed_group_gives_the_part_back, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(rerun_gives_the_part_back, setup,
                                      teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
