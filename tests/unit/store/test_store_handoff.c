/* test_store_handoff.c - receipts owed to SMPP customers handed straight
 * from the commit that queued them (store.h sg_store_smpp_out_handoff,
 * sqlite_smpp_out.c): the hand-off carries the row a claim would give
 * (with its account), only after the commit and only while one is set; a
 * handed row is held from claims for SG_STORE_HANDOFF_LEASE_MS and then
 * claimed like any other; a finished one is gone; one not finished is
 * still in the queue after a restart (the row is the durable copy); a
 * group that fails hands nothing. SQLite only: PostgreSQL's receipts are
 * claimed.
 */
#include "store_fixture.h"

#include "store/sqlite.h"

typedef struct hand_got {
  int calls;
  size_t n;
  int64_t id[8];
  int64_t account_id[8];
  char mid[8][SG_ID_LEN + 1];
  sg_msg_status_t st[8];
  char src[8][24];
  int64_t done_ms[8];
  bool queued_when_handed; /* the callback of the receipt came first */
} hand_got_t;

static const items_got_t *watched; /* the receipt request's results */

static void hand_cb(sg_store_t *st, const sg_store_smpp_out_t *o, size_t n,
                    void *data) {
  (void)st;
  hand_got_t *g = data;
  for (size_t i = 0; i < n && g->n < 8; i++, g->n++) {
    g->id[g->n] = o[i].id;
    g->account_id[g->n] = o[i].account_id;
    snprintf(g->mid[g->n], sizeof g->mid[g->n], "%s", o[i].message_id);
    g->st[g->n] = o[i].status;
    snprintf(g->src[g->n], sizeof g->src[g->n], "%s", o[i].origin.source_addr);
    g->done_ms[g->n] = o[i].done_ms;
  }
  g->queued_when_handed = watched != NULL && watched->calls > 0;
  g->calls++;
}

typedef struct so_got {
  int calls, status;
  size_t n;
  int64_t id[8];
  unsigned attempts[8];
} so_got_t;

static void so_cb(sg_store_t *st, int status, const sg_store_smpp_out_t *o,
                  size_t n, size_t dropped, void *data) {
  (void)st;
  (void)dropped;
  so_got_t *g = data;
  g->status = status;
  g->n = n;
  for (size_t i = 0; i < n && i < 8; i++) {
    g->id[i] = o[i].id;
    g->attempts[i] = o[i].attempts;
  }
  g->calls++;
}

static size_t claim_rows(ctx_t *c, so_got_t *g) {
  memset(g, 0, sizeof *g);
  assert_int_equal(sg_store_smpp_out_claim(c->st, 1, 8, 60000, 0, so_cb, g), 0);
  run_until(c, &g->calls, 1);
  assert_int_equal(g->status, 0);
  return g->n;
}

static void done_cb(sg_store_t *st, int status, void *data) {
  (void)st;
  assert_int_equal(status, 0);
  (*(int *)data)++;
}

static void finish(ctx_t *c, int64_t id, bool done) {
  sg_store_smpp_out_result_t r = {.id = id, .done = done};
  int calls = 0;
  assert_int_equal(sg_store_smpp_out_finish(c->st, &r, 1, done_cb, &calls), 0);
  run_until(c, &calls, 1);
}

static const sg_store_smpp_origin_t any = {1, 5, 0, "Shop", 1, 1, ""};

/* Stores a message with an SMPP origin, sends it and records its final
 * receipt at T0 + 1 s; returns the message id through t. */
static void deliver(ctx_t *c, tmsg_t *t, const char *smsc_id) {
  tmsg_init(t, "+14155550140", 1, "smsc-a");
  t->m.smpp = &any;
  assert_int_equal(submit_wait(c, t, 1, NULL, NULL), 0);
  claim_one_sent(c, "smsc-a", smsc_id);
  items_got_t ig;
  atomic_store(&fake_now, T0 + 1000);
  sg_store_receipt_in_t d = {
      .connector = "smsc-a", .smsc_id = smsc_id, .status = SG_MSG_DELIVERED};
  watched = &ig;
  receipts_wait(c, &d, 1, &ig);
  watched = NULL;
  assert_int_equal(ig.items[0].status, 0);
}

static void handed_then_claimed_after_its_lease(void **state) {
  ctx_t *c = *state;
  open_store(c);
  hand_got_t h = {0};
  sg_store_smpp_out_handoff(c->st, hand_cb, &h);
  tmsg_t t;
  deliver(c, &t, "h-1");
  assert_int_equal(h.calls, 1);
  assert_int_equal(h.n, 1);
  assert_true(h.queued_when_handed); /* after the receipt's own callback */
  assert_string_equal(h.mid[0], t.m.id);
  assert_int_equal(h.account_id[0], 1);
  assert_int_equal(h.st[0], SG_MSG_DELIVERED);
  assert_string_equal(h.src[0], "Shop");
  assert_int_equal(h.done_ms[0], T0 + 1000);
  assert_int_equal(q1(c, "SELECT count(*) FROM smpp_out"), 1); /* durable */

  so_got_t g;
  assert_int_equal(claim_rows(c, &g), 0); /* held for the hand-off */
  atomic_store(&fake_now, T0 + 1000 + SG_STORE_HANDOFF_LEASE_MS);
  assert_int_equal(claim_rows(c, &g), 1); /* left alone: claimed */
  assert_int_equal(g.id[0], h.id[0]);
  assert_int_equal(g.attempts[0], 2);
}

static void finished_is_gone_unfinished_survives(void **state) {
  ctx_t *c = *state;
  open_store(c);
  hand_got_t h = {0};
  sg_store_smpp_out_handoff(c->st, hand_cb, &h);
  tmsg_t a, b;
  deliver(c, &a, "h-2");
  deliver(c, &b, "h-3");
  assert_int_equal(h.n, 2);
  finish(c, h.id[0], true); /* the customer answered the first */
  assert_int_equal(q1(c, "SELECT count(*) FROM smpp_out"), 1);
  /* A stop before the second was answered: after it, a claim has it. */
  close_store(c);
  open_store(c);
  so_got_t g;
  assert_int_equal(claim_rows(c, &g), 1);
  assert_int_equal(g.id[0], h.id[1]);
  assert_int_equal(h.n, 2); /* nothing handed after the reopen */
}

static void nothing_without_a_handoff_or_a_commit(void **state) {
  ctx_t *c = *state;
  sg_store_config_t cfg = test_config(c);
  cfg.fault_injection = true;
  assert_int_equal(open_with(c, &cfg), 0);
  hand_got_t h = {0};
  sg_store_smpp_out_handoff(c->st, hand_cb, &h);
  sg_store_smpp_out_handoff(c->st, NULL, NULL);
  tmsg_t t;
  deliver(c, &t, "h-4");
  assert_int_equal(h.calls, 0);
  so_got_t g;
  assert_int_equal(claim_rows(c, &g), 1); /* claimed at once */
  finish(c, g.id[0], true);

  /* A group whose commit fails hands nothing and leaves no lease. */
  sg_store_smpp_out_handoff(c->st, hand_cb, &h);
  tmsg_init(&t, "+14155550141", 1, "smsc-a");
  t.m.smpp = &any;
  assert_int_equal(submit_wait(c, &t, 1, NULL, NULL), 0);
  claim_got_t cg;
  claim_wait(c, "smsc-a", 1, &cg);
  sg_store_result_in_t r = {.part_id = cg.parts[0].part_id,
                            .attempt = cg.parts[0].attempt,
                            .outcome = SG_STORE_SENT,
                            .smsc_id = "h-5"};
  items_got_t ig;
  results_wait(c, &r, 1, &ig);
  sg_store_receipt_in_t d = {
      .connector = "smsc-a", .smsc_id = "h-5", .status = SG_MSG_DELIVERED};
  assert_int_equal(sg_store_sqlite_fail_next(c->st, 1, false), 0);
  memset(&ig, 0, sizeof ig);
  assert_int_equal(sg_store_record_receipts(c->st, &d, 1, items_cb, &ig), 0);
  run_until(c, &ig.calls, 1);
  assert_int_equal(ig.status, SG_EIO);
  assert_int_equal(h.calls, 0);
  receipts_wait(c, &d, 1, &ig); /* the operator sends it again */
  assert_int_equal(h.calls, 1);
  assert_int_equal(q1(c, "SELECT count(*) FROM smpp_out"), 1);
}

/* A receipt with every field it can carry, deep-copied. */
typedef struct whole {
  sg_store_smpp_out_t o;
  char src[24], dst[24], rcpt[24];
  uint8_t body[128];
  int calls;
} whole_t;

static void keep_whole(whole_t *w, const sg_store_smpp_out_t *o) {
  w->o = *o;
  snprintf(w->src, sizeof w->src, "%s", o->origin.source_addr);
  snprintf(w->dst, sizeof w->dst, "%s", o->origin.dest_addr);
  snprintf(w->rcpt, sizeof w->rcpt, "%s", o->recipient);
  assert_true(o->body_len <= sizeof w->body);
  memcpy(w->body, o->body, o->body_len);
  w->calls++;
}

static void whole_hand_cb(sg_store_t *st, const sg_store_smpp_out_t *o,
                          size_t n, void *data) {
  (void)st;
  assert_int_equal(n, 1);
  keep_whole(data, o);
}

static void whole_claim_cb(sg_store_t *st, int status,
                           const sg_store_smpp_out_t *o, size_t n,
                           size_t dropped, void *data) {
  (void)st;
  (void)dropped;
  assert_int_equal(status, 0);
  assert_int_equal(n, 1);
  keep_whole(data, o);
}

/* The hand-off is the row a claim gives, field by field (but the claims
 * it counts): a failure owed to an origin that asked for failures only
 * (registered_delivery 10), with its error code, addresses and times; a
 * delivery to that origin owes nothing and hands nothing. */
static void handed_as_claimed(void **state) {
  ctx_t *c = *state;
  open_store(c);
  whole_t h = {0}, g = {0};
  sg_store_smpp_out_handoff(c->st, whole_hand_cb, &h);
  static const sg_store_smpp_origin_t failures = {
      2, 5, 0, "Shop", 1, 1, "14155550142"};
  tmsg_t t[2];
  for (int i = 0; i < 2; i++) {
    tmsg_init(&t[i], i ? "+14155550143" : "+14155550142", 1, "smsc-a");
    t[i].m.smpp = &failures;
  }
  assert_int_equal(submit_wait(c, t, 2, NULL, NULL), 0);
  claim_got_t cg;
  claim_wait(c, "smsc-a", 2, &cg);
  assert_int_equal(cg.n, 2);
  sg_store_result_in_t r[2];
  for (int i = 0; i < 2; i++)
    r[i] = (sg_store_result_in_t){.part_id = cg.parts[i].part_id,
                                  .attempt = cg.parts[i].attempt,
                                  .outcome = SG_STORE_SENT,
                                  .smsc_id = i ? "w-2" : "w-1"};
  items_got_t ig;
  results_wait(c, r, 2, &ig);
  atomic_store(&fake_now, T0 + 2500);
  sg_store_receipt_in_t d[2] = {
      {.connector = "smsc-a",
       .smsc_id = "w-1",
       .status = SG_MSG_UNDELIVERABLE,
       .error_code = 34},
      {.connector = "smsc-a", .smsc_id = "w-2", .status = SG_MSG_DELIVERED}};
  receipts_wait(c, d, 2, &ig);
  assert_int_equal(h.calls, 1);
  assert_int_equal(q1(c, "SELECT count(*) FROM smpp_out"), 1);
  atomic_store(&fake_now, T0 + 2500 + SG_STORE_HANDOFF_LEASE_MS);
  assert_int_equal(
      sg_store_smpp_out_claim(c->st, 1, 8, 60000, 0, whole_claim_cb, &g), 0);
  run_until(c, &g.calls, 1);

  assert_int_equal(h.o.id, g.o.id);
  assert_string_equal(h.o.message_id, t[0].m.id);
  assert_string_equal(g.o.message_id, t[0].m.id);
  assert_int_equal(h.o.status, SG_MSG_UNDELIVERABLE);
  assert_int_equal(g.o.status, SG_MSG_UNDELIVERABLE);
  assert_int_equal(h.o.error_code, 34);
  assert_int_equal(g.o.error_code, 34);
  assert_int_equal(h.o.submit_ms, T0);
  assert_int_equal(g.o.submit_ms, T0);
  assert_int_equal(h.o.done_ms, T0 + 2500);
  assert_int_equal(g.o.done_ms, T0 + 2500);
  assert_int_equal(h.o.attempts, 1);
  assert_int_equal(g.o.attempts, 2);
  assert_int_equal(h.o.origin.registered_delivery, 2);
  assert_int_equal(g.o.origin.registered_delivery, 2);
  assert_int_equal(h.o.origin.source_ton, 5);
  assert_int_equal(g.o.origin.source_ton, 5);
  assert_int_equal(h.o.origin.source_npi, 0);
  assert_int_equal(g.o.origin.source_npi, 0);
  assert_int_equal(h.o.origin.dest_ton, 1);
  assert_int_equal(g.o.origin.dest_ton, 1);
  assert_int_equal(h.o.origin.dest_npi, 1);
  assert_int_equal(g.o.origin.dest_npi, 1);
  assert_string_equal(h.src, "Shop");
  assert_string_equal(g.src, "Shop");
  assert_string_equal(h.dst, "14155550142");
  assert_string_equal(g.dst, "14155550142");
  assert_string_equal(h.rcpt, "+14155550142");
  assert_string_equal(g.rcpt, "+14155550142");
  assert_int_equal(h.o.body_len, strlen(t[0].text));
  assert_int_equal(g.o.body_len, strlen(t[0].text));
  assert_memory_equal(h.body, t[0].text, h.o.body_len);
  assert_memory_equal(g.body, t[0].text, g.o.body_len);
  assert_false(h.o.binary);
  assert_false(g.o.binary);
  assert_false(h.o.mo);
  assert_false(g.o.mo);
  assert_int_equal(h.o.part_seq, 0);
  assert_int_equal(g.o.part_seq, 0);
  assert_int_equal(h.o.account_id, 1);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(handed_then_claimed_after_its_lease,
                                      setup, teardown),
      cmocka_unit_test_setup_teardown(finished_is_gone_unfinished_survives,
                                      setup, teardown),
      cmocka_unit_test_setup_teardown(nothing_without_a_handoff_or_a_commit,
                                      setup, teardown),
      cmocka_unit_test_setup_teardown(handed_as_claimed, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
