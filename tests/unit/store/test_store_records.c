/* Tests for the records of the store beside messages, through store.h on
 * the SQLite store: the webhook queue (the payloads the store writes, claim,
 * lease, retry, give up), inbound messages and their pages, accounts and API
 * keys (keyed hashes, revocation, argon2id passwords), counts for /metrics,
 * Kannel dlr-url rows, and what a close does to requests still queued.
 * store-pg/test_store_records runs them on PostgreSQL too (store_fixture.h),
 * where webhook_leases_across_restart checks the leases the claim writes. */
#include "store/store_fixture.h"

#include <ctype.h>

#include <jansson.h>

/* ---- webhooks, inbound, accounts ----------------------------------------- */

static void done_cb(sg_store_t *st, int status, void *data) {
  (void)st;
  got_t *g = data;
  g->status = status;
  g->calls++;
}

static void id_cb(sg_store_t *st, int status, int64_t id, void *data) {
  (void)st;
  got_t *g = data;
  g->status = status;
  g->id = id;
  g->calls++;
}

static void webhook_queue(void **state) {
  ctx_t *c = *state;
  open_store(c);
  tmsg_t m;
  tmsg_init(&m, "+14155550100", 1, "smsc-a");
  m.m.callback_url = "http://127.0.0.1:9/hook";
  m.m.client_ref = "ref-\xC3\xA9";
  assert_int_equal(submit_wait(c, &m, 1, NULL, NULL), 0);
  claim_got_t cg;
  claim_wait(c, "smsc-a", 1, &cg);
  sg_store_result_in_t r = {.part_id = cg.parts[0].part_id,
                            .attempt = 1,
                            .outcome = SG_STORE_FAILED,
                            .error_code = 0x45,
                            .detail = "ESME_RSUBMITFAIL"};
  items_got_t ig;
  results_wait(c, &r, 1, &ig);
  assert_int_equal(ig.items[0].msg_status, SG_MSG_FAILED);

  got_t eg = {0};
  static const char body[] = "{\"custom\":1}";
  assert_int_equal(sg_store_webhook_enqueue(c->st, 1, NULL, "http://x/y",
                                            (const uint8_t *)body, strlen(body),
                                            id_cb, &eg),
                   0);
  run_until(c, &eg.calls, 1);
  assert_true(eg.id > 0);

  wh_got_t w;
  wh_claim(c, 8, &w);
  assert_int_equal(w.n, 2);
  assert_int_equal(w.attempts[0], 1);
  json_error_t jerr;
  json_t *j = json_loads(w.payload[0], 0, &jerr);
  assert_non_null(j);
  assert_string_equal(json_string_value(json_object_get(j, "event")),
                      "message.status");
  assert_string_equal(json_string_value(json_object_get(j, "message_id")),
                      m.m.id);
  assert_string_equal(json_string_value(json_object_get(j, "status")),
                      "failed");
  assert_string_equal(json_string_value(json_object_get(j, "to")),
                      "+14155550100");
  assert_string_equal(json_string_value(json_object_get(j, "client_ref")),
                      "ref-\xC3\xA9");
  assert_int_equal(json_integer_value(json_object_get(j, "error_code")), 0x45);
  assert_int_equal(json_integer_value(json_object_get(j, "part")), 1);
  assert_string_equal(json_string_value(json_object_get(j, "timestamp")),
                      "2023-11-14T22:13:20.000Z");
  json_decref(j);
  assert_string_equal(w.payload[1], body);

  wh_got_t none;
  wh_claim(c, 8, &none); /* both leased */
  assert_int_equal(none.n, 0);
  sg_store_webhook_result_t fin[2] = {
      {.id = w.id[0], .next_attempt_ms = T0 + 5000, .error = "HTTP 500"},
      {.id = w.id[1], .done = true}};
  got_t fg = {0};
  assert_int_equal(sg_store_webhook_finish(c->st, fin, 2, done_cb, &fg), 0);
  run_until(c, &fg.calls, 1);
  assert_int_equal(fg.status, 0);
  wh_claim(c, 8, &none);
  assert_int_equal(none.n, 0); /* not yet due */
  atomic_store(&fake_now, T0 + 5000);
  wh_claim(c, 8, &w);
  assert_int_equal(w.n, 1);
  assert_int_equal(w.attempts[0], 2);
  /* Handed back unsent (untried, as the notifier does at a stop): the
   * claim's attempt is taken back and the last real error kept. */
  fin[0] = (sg_store_webhook_result_t){.id = w.id[0],
                                       .next_attempt_ms = T0 + 5000,
                                       .error = "stopped before sending",
                                       .untried = true};
  fg.calls = 0;
  assert_int_equal(sg_store_webhook_finish(c->st, fin, 1, done_cb, &fg), 0);
  run_until(c, &fg.calls, 1);
  assert_int_equal(fg.status, 0);
  assert_int_equal(q1(c, "SELECT attempts FROM webhooks WHERE last_error = "
                         "'HTTP 500' AND status = 'pending'"),
                   1);
  wh_claim(c, 8, &w);
  assert_int_equal(w.n, 1);
  assert_int_equal(w.attempts[0], 2);
  fin[0] = (sg_store_webhook_result_t){.id = w.id[0], .error = "gone"};
  fg.calls = 0;
  assert_int_equal(sg_store_webhook_finish(c->st, fin, 1, done_cb, &fg), 0);
  run_until(c, &fg.calls, 1);
  assert_int_equal(q1(c, "SELECT count(*) FROM webhooks WHERE status = "
                         "'failed' AND last_error = 'gone'"),
                   1);
  /* The delivered one is gone; only the one given up is left. */
  assert_int_equal(q1(c, "SELECT count(*) FROM webhooks"), 1);
  assert_int_equal(q1(c, "SELECT attempts FROM webhooks"), 2);

  /* An unanswered claim is taken again when its lease ran out. */
  assert_int_equal(sg_store_webhook_enqueue(c->st, 0, m.m.id, "http://x/z",
                                            (const uint8_t *)"{}", 2, id_cb,
                                            &eg),
                   0);
  eg.calls = 0;
  run_until(c, &eg.calls, 1);
  wh_claim(c, 8, &w);
  assert_int_equal(w.n, 1);
  atomic_store(&fake_now, T0 + 5000 + 10000);
  wh_claim(c, 8, &w);
  assert_int_equal(w.n, 1);
  assert_int_equal(w.attempts[0], 2);
}

/* A Kannel dlr-url: the status change's report type against the mask, the
 * URL expanded in the transaction, a GET row; and a message's own
 * webhook_statuses narrowing its JSON webhooks. */
typedef struct get_got {
  int calls;
  size_t n;
  bool get[4];
  char url[4][256];
} get_got_t;

static void get_cb(sg_store_t *st, int status, const sg_store_webhook_t *w,
                   size_t n, void *data) {
  (void)st;
  get_got_t *g = data;
  assert_int_equal(status, 0);
  g->n = n;
  for (size_t i = 0; i < n && i < 4; i++) {
    g->get[i] = w[i].get;
    snprintf(g->url[i], sizeof g->url[i], "%s", w[i].url);
  }
  g->calls++;
}

static void kannel_dlr_rows(void **state) {
  ctx_t *c = *state;
  open_store(c);
  tmsg_t m[2];
  tmsg_init(&m[0], "+14155550100", 1, "smsc-a");
  tmsg_init(&m[1], "+14155550101", 1, "smsc-a");
  for (int i = 0; i < 2; i++) {
    m[i].m.callback_url = "http://127.0.0.1:9/hook";
    m[i].m.dlr_url = "http://h/d?d=%d&A=%A&p=%p&i=%i&o=%o";
    m[i].m.webhook_statuses = SG_MSG_BIT(SG_MSG_DELIVERED);
    m[i].m.client_ref = "acc 1";
  }
  m[0].m.dlr_mask = 31;
  m[1].m.dlr_mask = 2; /* no bit for a refusal before sending (16) */
  assert_int_equal(submit_wait(c, m, 2, NULL, NULL), 0);
  claim_got_t cg;
  claim_wait(c, "smsc-a", 2, &cg);
  for (int i = 0; i < 2; i++) {
    sg_store_result_in_t r = {.part_id = cg.parts[i].part_id,
                              .attempt = 1,
                              .outcome = SG_STORE_FAILED,
                              .error_code = 0x45,
                              .detail = "ESME_RSUBMITFAIL"};
    items_got_t ig;
    results_wait(c, &r, 1, &ig);
    assert_int_equal(ig.items[0].msg_status, SG_MSG_FAILED);
  }
  get_got_t g = {0};
  assert_int_equal(sg_store_webhook_claim(c->st, 8, 10000, get_cb, &g), 0);
  run_until(c, &g.calls, 1);
  /* One GET (the first message's 16); no JSON webhook: failed is not in
   * their webhook_statuses. */
  assert_int_equal(g.n, 1);
  assert_true(g.get[0]);
  assert_string_equal(g.url[0], "http://h/d?d=16&A=NACK%2F69%2FESME_RSUBMITFAIL"
                                "&p=%2B14155550100&i=smsc-a&o=acc+1");
  assert_int_equal(q1(c, "SELECT count(*) FROM webhooks WHERE method = 'GET'"),
                   1);
  assert_int_equal(q1(c, "SELECT count(*) FROM webhooks"), 1);
}

typedef struct inbound_got {
  int calls;
  int status;
  size_t n;
  char ids[8][SG_ID_LEN + 1];
  char text[8][32];
  char next[SG_ID_LEN + 1];
} inbound_got_t;

static void inbound_cb(sg_store_t *st, int status,
                       const sg_store_inbound_res_t *res, void *data) {
  (void)st;
  inbound_got_t *g = data;
  g->status = status;
  g->n = res->n;
  for (size_t i = 0; i < res->n && i < 8; i++) {
    memcpy(g->ids[i], res->msgs[i].id, SG_ID_LEN + 1);
    snprintf(g->text[i], sizeof g->text[i], "%.*s", (int)res->msgs[i].body_len,
             (const char *)res->msgs[i].body);
  }
  memcpy(g->next, res->next_cursor, sizeof g->next);
  g->calls++;
}

static void inbound_messages(void **state) {
  ctx_t *c = *state;
  open_store(c);
  static const char *const texts[] = {"STOP", "hello", "\x01\x02\xFF"};
  char ids[3][SG_ID_LEN + 1];
  for (int i = 0; i < 3; i++) {
    sg_store_inbound_t in = {.account_id = i == 2 ? 0 : 1,
                             .connector = "smsc-a",
                             .sender = "+14155550100",
                             .recipient = "12345",
                             .encoding = i == 2 ? SG_ENC_8BIT : SG_ENC_GSM7,
                             .binary = i == 2,
                             .body = (const uint8_t *)texts[i],
                             .body_len = strlen(texts[i]),
                             .received_ms = T0 - 10};
    sg_id_new(in.id);
    memcpy(ids[i], in.id, sizeof ids[i]);
    got_t g = {0};
    assert_int_equal(sg_store_inbound_insert(
                         c->st, &in, i == 0 ? NULL : "http://h/mo", id_cb, &g),
                     0);
    run_until(c, &g.calls, 1);
    assert_int_equal(g.status, 0);
    assert_true(i == 0 ? g.id == 0 : g.id > 0);
  }
  inbound_got_t g = {0};
  assert_int_equal(sg_store_inbound_list(c->st, 1, NULL, 1, inbound_cb, &g), 0);
  run_until(c, &g.calls, 1);
  assert_int_equal(g.n, 1);
  assert_string_equal(g.ids[0], ids[1]);
  assert_string_equal(g.text[0], "hello");
  assert_string_equal(g.next, ids[1]);
  char cur[SG_ID_LEN + 1];
  memcpy(cur, g.next, sizeof cur);
  g.calls = 0;
  assert_int_equal(sg_store_inbound_list(c->st, 1, cur, 1, inbound_cb, &g), 0);
  run_until(c, &g.calls, 1);
  assert_int_equal(g.n, 1);
  assert_string_equal(g.text[0], "STOP");
  assert_string_equal(g.next, "");
  g.calls = 0;
  assert_int_equal(sg_store_inbound_list(c->st, 0, NULL, 0, inbound_cb, &g), 0);
  run_until(c, &g.calls, 1);
  assert_int_equal(g.n, 3);
  wh_got_t w;
  wh_claim(c, 8, &w);
  assert_int_equal(w.n, 2);
  json_t *j = json_loads(w.payload[1], 0, NULL);
  assert_non_null(j);
  assert_string_equal(json_string_value(json_object_get(j, "payload_hex")),
                      "0102ff");
  assert_string_equal(json_string_value(json_object_get(j, "encoding")),
                      "8bit");
  json_decref(j);
}

typedef struct acct_got {
  int calls;
  int status;
  int64_t id, key_id;
  char name[32];
  bool disabled;
  char pw[SG_STORE_PWHASH_MAX];
} acct_got_t;

static void acct_cb(sg_store_t *st, int status, const sg_store_account_t *a,
                    void *data) {
  (void)st;
  acct_got_t *g = data;
  g->status = status;
  if (status == 0) {
    g->id = a->id;
    g->key_id = a->key_id;
    g->disabled = a->disabled;
    snprintf(g->name, sizeof g->name, "%s", a->name);
    snprintf(g->pw, sizeof g->pw, "%s",
             a->password_hash ? a->password_hash : "");
  }
  g->calls++;
}

static void accounts_and_keys(void **state) {
  ctx_t *c = *state;
  open_store(c);
  char pw[SG_STORE_PWHASH_MAX];
  assert_int_equal(sg_store_password_hash("s3cret", 6, pw), 0);
  assert_int_equal(strncmp(pw, "$argon2id$", 10), 0);
  assert_int_equal(sg_store_password_verify(pw, "s3cret", 6), 0);
  assert_int_equal(sg_store_password_verify(pw, "s3cres", 6), SG_ENOENT);
  assert_int_equal(sg_store_password_verify("plain", "s3cret", 6), SG_EINVAL);

  sg_store_account_t a = {.name = "acme", .password_hash = pw};
  got_t g = {0};
  assert_int_equal(sg_store_account_create(c->st, &a, id_cb, &g), 0);
  run_until(c, &g.calls, 1);
  assert_int_equal(g.status, 0);
  int64_t acct = g.id;
  g.calls = 0;
  assert_int_equal(sg_store_account_create(c->st, &a, id_cb, &g), 0);
  run_until(c, &g.calls, 1);
  assert_int_equal(g.status, SG_EEXIST);

  static const uint8_t secret[SG_STORE_SECRET_BYTES] = {1, 2, 3};
  uint8_t h[SG_STORE_KEY_HASH_BYTES], h2[SG_STORE_KEY_HASH_BYTES];
  assert_int_equal(sg_store_key_hash(secret, "sk_live_abc", 11, h), 0);
  assert_int_equal(sg_store_key_hash(secret, "sk_live_abd", 11, h2), 0);
  assert_memory_not_equal(h, h2, sizeof h);
  g.calls = 0;
  assert_int_equal(sg_store_apikey_create(c->st, acct, h, "ci", id_cb, &g), 0);
  run_until(c, &g.calls, 1);
  assert_int_equal(g.status, 0);
  int64_t key = g.id;
  g.calls = 0;
  assert_int_equal(sg_store_apikey_create(c->st, acct + 5, h2, NULL, id_cb, &g),
                   0);
  run_until(c, &g.calls, 1);
  assert_int_equal(g.status, SG_ENOENT); /* no such account */

  acct_got_t ag = {0};
  assert_int_equal(sg_store_apikey_lookup(c->st, h, acct_cb, &ag), 0);
  run_until(c, &ag.calls, 1);
  assert_int_equal(ag.status, 0);
  assert_int_equal(ag.id, acct);
  assert_int_equal(ag.key_id, key);
  assert_string_equal(ag.name, "acme");
  ag.calls = 0;
  assert_int_equal(sg_store_apikey_lookup(c->st, h2, acct_cb, &ag), 0);
  run_until(c, &ag.calls, 1);
  assert_int_equal(ag.status, SG_ENOENT);
  ag.calls = 0;
  assert_int_equal(sg_store_account_by_name(c->st, "acme", acct_cb, &ag), 0);
  run_until(c, &ag.calls, 1);
  assert_int_equal(sg_store_password_verify(ag.pw, "s3cret", 6), 0);

  g.calls = 0;
  assert_int_equal(sg_store_apikey_revoke(c->st, key, done_cb, &g), 0);
  run_until(c, &g.calls, 1);
  assert_int_equal(g.status, 0);
  g.calls = 0;
  assert_int_equal(sg_store_apikey_revoke(c->st, key, done_cb, &g), 0);
  run_until(c, &g.calls, 1);
  assert_int_equal(g.status, SG_ENOENT);
  ag.calls = 0;
  assert_int_equal(sg_store_apikey_lookup(c->st, h, acct_cb, &ag), 0);
  run_until(c, &ag.calls, 1);
  assert_int_equal(ag.status, SG_ENOENT);
  /* The key is stored only as its keyed hash. */
  assert_int_equal(q1(c, "SELECT count(*) FROM api_keys WHERE length("
                         "key_hash) = 32"),
                   1);
}

static void counts_and_closed_store(void **state) {
  ctx_t *c = *state;
  open_store(c);
  tmsg_t m[3];
  for (int i = 0; i < 3; i++)
    tmsg_init(&m[i], "+14155550100", 2, i == 2 ? "smsc-b" : "smsc-a");
  assert_int_equal(submit_wait(c, m, 3, NULL, NULL), 0);
  claim_got_t cg;
  claim_wait(c, "smsc-b", 10, &cg);
  counts_got_t g;
  counts_wait(c, &g);
  assert_int_equal(g.k.messages[SG_MSG_QUEUED], 2);
  assert_int_equal(g.k.messages[SG_MSG_SENDING], 1);
  assert_int_equal(g.k.parts[SG_MSG_QUEUED], 4);
  assert_int_equal(g.k.parts[SG_MSG_SENDING], 2);
  assert_int_equal(g.k.inbound, 0);

  /* Requests queued before close still complete; after, none is taken. */
  got_t gs = {0};
  sg_store_msg_in_t in = m[0].m;
  sg_id_new(in.id);
  sg_store_batch_t b = {.account_id = 1, .msgs = &in, .n_msgs = 1};
  sg_id_new(b.batch_id);
  assert_int_equal(sg_store_submit(c->st, &b, submit_cb, &gs), 0);
  sg_store_t *st = c->st;
  int closed = 0;
  sg_store_close(st, on_closed, &closed);
  c->st = NULL;
  assert_int_equal(gs.calls, 1);
  assert_int_equal(gs.status, 0);
  while (!closed)
    uv_run(&c->loop, UV_RUN_ONCE);
  assert_int_equal(q1(c, "SELECT count(*) FROM messages"), 4);
}

/* ---- SMPP receipts ------------------------------------------------------- */

typedef struct so_got {
  int calls;
  int status;
  size_t n, dropped;
  int64_t id[8];
  char mid[8][SG_ID_LEN + 1];
  sg_msg_status_t st[8];
  char src[8][24], dst[8][24], rcpt[8][24];
  int64_t submit_ms[8], done_ms[8];
  unsigned attempts[8];
} so_got_t;

static void so_cb(sg_store_t *st, int status, const sg_store_smpp_out_t *o,
                  size_t n, size_t dropped, void *data) {
  (void)st;
  so_got_t *g = data;
  g->status = status;
  g->n = n;
  g->dropped = dropped;
  for (size_t i = 0; i < n && i < 8; i++) {
    g->id[i] = o[i].id;
    snprintf(g->mid[i], sizeof g->mid[i], "%s", o[i].message_id);
    g->st[i] = o[i].status;
    snprintf(g->src[i], sizeof g->src[i], "%s", o[i].origin.source_addr);
    snprintf(g->dst[i], sizeof g->dst[i], "%s", o[i].origin.dest_addr);
    snprintf(g->rcpt[i], sizeof g->rcpt[i], "%s", o[i].recipient);
    g->submit_ms[i] = o[i].submit_ms;
    g->done_ms[i] = o[i].done_ms;
    g->attempts[i] = o[i].attempts;
  }
  g->calls++;
}

static void so_claim_wait(ctx_t *c, int64_t max_age, so_got_t *g) {
  memset(g, 0, sizeof *g);
  assert_int_equal(
      sg_store_smpp_out_claim(c->st, 1, 8, 5000, max_age, so_cb, g), 0);
  run_until(c, &g->calls, 1);
  assert_int_equal(g->status, 0);
}

/* Sends message m's only part and records a receipt with final status. */
static void deliver(ctx_t *c, tmsg_t *m, const char *smsc_id,
                    sg_msg_status_t final) {
  claim_got_t cg;
  claim_wait(c, "smsc-a", 1, &cg);
  assert_int_equal(cg.n, 1);
  sg_store_result_in_t r = {.part_id = cg.parts[0].part_id,
                            .attempt = 1,
                            .outcome = SG_STORE_SENT,
                            .smsc_id = smsc_id};
  items_got_t ig;
  results_wait(c, &r, 1, &ig);
  sg_store_receipt_in_t d = {
      .connector = "smsc-a", .smsc_id = smsc_id, .status = final};
  receipts_wait(c, &d, 1, &ig);
  assert_int_equal(ig.items[0].status, 0);
  (void)m;
}

static void smpp_receipt_queue(void **state) {
  ctx_t *c = *state;
  open_store(c);
  /* rd 1: any final outcome; rd 2: failures only; no origin: nothing. */
  sg_store_smpp_origin_t any = {1, 5, 0, "Shop", 1, 1, "14155550101"};
  sg_store_smpp_origin_t fail_only = {2, 5, 0, "Shop", 1, 1, ""};
  tmsg_t m[3];
  tmsg_init(&m[0], "+14155550101", 1, "smsc-a");
  m[0].m.smpp = &any;
  tmsg_init(&m[1], "+14155550102", 1, "smsc-a");
  m[1].m.smpp = &fail_only;
  tmsg_init(&m[2], "+14155550103", 1, "smsc-a");
  for (int i = 0; i < 3; i++)
    assert_int_equal(submit_wait(c, &m[i], 1, NULL, NULL), 0);
  assert_int_equal(q1(c, "SELECT count(*) FROM smpp_origin"), 2);
  atomic_store(&fake_now, T0 + 1000);
  deliver(c, &m[0], "a0", SG_MSG_DELIVERED);
  deliver(c, &m[1], "a1", SG_MSG_DELIVERED);     /* rd 2: no receipt */
  deliver(c, &m[2], "a2", SG_MSG_UNDELIVERABLE); /* no origin */
  assert_int_equal(q1(c, "SELECT count(*) FROM smpp_out"), 1);

  so_got_t g;
  so_claim_wait(c, 0, &g);
  assert_int_equal(g.n, 1);
  assert_string_equal(g.mid[0], m[0].m.id);
  assert_int_equal(g.st[0], SG_MSG_DELIVERED);
  assert_string_equal(g.src[0], "Shop");
  assert_string_equal(g.dst[0], "14155550101");
  assert_string_equal(g.rcpt[0], "+14155550101");
  assert_int_equal(g.submit_ms[0], T0);
  assert_int_equal(g.done_ms[0], T0 + 1000);
  assert_int_equal(g.attempts[0], 1);
  int64_t row = g.id[0];
  /* Leased: a second claim sees nothing until the lease runs out. */
  so_claim_wait(c, 0, &g);
  assert_int_equal(g.n, 0);
  /* A restart releases it: the sessions that held it are gone. SQLite
   * keeps the lease in memory only, so it is forgotten with its try;
   * PostgreSQL writes it (other nodes must see it), so the try counts. */
  bool pg = c->url[0] != '\0';
  close_store(c);
  open_store(c);
  so_claim_wait(c, 0, &g);
  assert_int_equal(g.n, 1);
  unsigned base = g.attempts[0];
  assert_int_equal(base, pg ? 2 : 1);
  if (!pg)
    assert_int_equal(q1(c, "SELECT count(*) FROM smpp_out WHERE "
                           "lease_until_ms IS NOT NULL OR attempts > 0"),
                     0);
  /* A lease that ran out: taken again, one more try. */
  atomic_store(&fake_now, T0 + 7000);
  so_claim_wait(c, 0, &g);
  assert_int_equal(g.n, 1);
  assert_int_equal(g.attempts[0], base + 1);
  /* Not taken by the customer: back at once. Taken: gone. */
  sg_store_smpp_out_result_t res = {row, false};
  got_t dg = {0};
  assert_int_equal(sg_store_smpp_out_finish(c->st, &res, 1, done_cb, &dg), 0);
  run_until(c, &dg.calls, 1);
  so_claim_wait(c, 0, &g);
  assert_int_equal(g.n, 1);
  assert_int_equal(g.attempts[0], base + 2); /* the tries so far, and this */
  res.done = true;
  dg.calls = 0;
  assert_int_equal(sg_store_smpp_out_finish(c->st, &res, 1, done_cb, &dg), 0);
  run_until(c, &dg.calls, 1);
  assert_int_equal(dg.status, 0);
  assert_int_equal(q1(c, "SELECT count(*) FROM smpp_out"), 0);

  /* A failure with rd 2 queues one; receipt_max_age drops it, counted. */
  tmsg_t f;
  tmsg_init(&f, "+14155550104", 1, "smsc-a");
  f.m.smpp = &fail_only;
  assert_int_equal(submit_wait(c, &f, 1, NULL, NULL), 0);
  deliver(c, &f, "a4", SG_MSG_REJECTED);
  atomic_store(&fake_now, T0 + 60000);
  so_claim_wait(c, 10000, &g);
  assert_int_equal(g.n, 0);
  assert_int_equal(g.dropped, 1);
  assert_int_equal(q1(c, "SELECT count(*) FROM smpp_out"), 0);

  /* A receipt whose message is gone is deleted, not handed out, and does
   * not hide the one behind it (SQLite; PostgreSQL's claim skips it). */
  if (!pg) {
    tmsg_t o[2];
    for (int i = 0; i < 2; i++) {
      tmsg_init(&o[i], i ? "+14155550107" : "+14155550106", 1, "smsc-a");
      o[i].m.smpp = &any;
      assert_int_equal(submit_wait(c, &o[i], 1, NULL, NULL), 0);
      deliver(c, &o[i], i ? "a7" : "a6", SG_MSG_DELIVERED);
    }
    close_store(c);
    char sql[160];
    snprintf(sql, sizeof sql,
             "PRAGMA foreign_keys = OFF; DELETE FROM messages WHERE id = '%s'",
             o[0].m.id);
    raw_exec(c, sql);
    open_store(c);
    so_claim_wait(c, 0, &g);
    assert_int_equal(g.n, 1);
    assert_string_equal(g.mid[0], o[1].m.id);
    assert_int_equal(q1(c, "SELECT count(*) FROM smpp_out"), 1);
  }

  /* Bad arguments fail at once. */
  assert_int_equal(sg_store_smpp_out_claim(c->st, 0, 8, 0, 0, so_cb, &g),
                   SG_EINVAL);
  assert_int_equal(sg_store_smpp_out_claim(c->st, 1, 0, 0, 0, so_cb, &g),
                   SG_EINVAL);
  assert_int_equal(sg_store_smpp_out_finish(c->st, &res, 0, done_cb, &dg),
                   SG_EINVAL);
  sg_store_smpp_origin_t broken = {1, 0, 0, NULL, 0, 0, ""};
  tmsg_t b;
  tmsg_init(&b, "+14155550105", 1, "smsc-a");
  b.m.smpp = &broken;
  assert_int_equal(submit_wait(c, &b, 1, NULL, NULL), SG_EINVAL);
}

/* A claimed delivery is not handed out again while its lease runs; once
 * it ran out it is, counted again; a restart gives it back with the
 * attempt it was in uncounted. SQLite keeps the lease in memory (the row
 * stays 'pending', attempts 0); PostgreSQL writes it, for the nodes that
 * share the database. */
static void webhook_leases_across_restart(void **state) {
  ctx_t *c = *state;
  bool pg = c->url[0] != '\0';
  open_store(c);
  got_t eg = {0};
  static const char body[] = "{\"n\":1}";
  assert_int_equal(sg_store_webhook_enqueue(c->st, 1, NULL, "http://x/y",
                                            (const uint8_t *)body, strlen(body),
                                            id_cb, &eg),
                   0);
  run_until(c, &eg.calls, 1);
  wh_got_t w;
  wh_claim(c, 8, &w); /* lease of 10 s */
  assert_int_equal(w.n, 1);
  assert_int_equal(w.attempts[0], 1);
  assert_string_equal(q1s(c, "SELECT status FROM webhooks"),
                      pg ? "sending" : "pending");
  assert_int_equal(q1(c, "SELECT attempts FROM webhooks"), pg ? 1 : 0);
  wh_claim(c, 8, &w);
  assert_int_equal(w.n, 0); /* under its lease */
  atomic_fetch_add(&fake_now, 10001);
  wh_claim(c, 8, &w);
  assert_int_equal(w.n, 1); /* the lease ran out: handed out again */
  assert_int_equal(w.attempts[0], 2);
  close_store(c);
  open_store(c);
  sg_store_info_t info;
  sg_store_get_info(c->st, &info);
  assert_int_equal(info.requeued_webhooks, pg ? 1 : 0);
  assert_string_equal(q1s(c, "SELECT status FROM webhooks"), "pending");
  assert_int_equal(q1(c, "SELECT attempts FROM webhooks"), pg ? 1 : 0);
  wh_claim(c, 8, &w);
  assert_int_equal(w.n, 1);
  assert_int_equal(w.attempts[0], pg ? 2 : 1);
}

/* Ids written in lower case are stored in their canonical (upper-case)
 * form: the batch's and its messages'. */
static void ids_stored_canonical(void **state) {
  ctx_t *c = *state;
  open_store(c);
  tmsg_t m;
  tmsg_init(&m, "+14155550100", 1, "smsc-a");
  char want[2 * SG_ID_LEN + 2];
  sg_store_batch_t b = {0};
  assert_int_equal(sg_id_new(b.batch_id), 0);
  snprintf(want, sizeof want, "%s %s", m.m.id, b.batch_id);
  for (size_t i = 0; i < SG_ID_LEN; i++) {
    m.m.id[i] = (char)tolower((unsigned char)m.m.id[i]);
    b.batch_id[i] = (char)tolower((unsigned char)b.batch_id[i]);
  }
  assert_string_not_equal(m.m.id, want);
  assert_int_equal(submit_wait(c, &m, 1, &b, NULL), 0);
  assert_string_equal(q1s(c, "SELECT id || ' ' || batch_id FROM messages"),
                      want);
}

int main(void) {
  const struct CMUnitTest tests[] = {
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
      T(webhook_queue),      T(webhook_leases_across_restart),
      T(kannel_dlr_rows),    T(inbound_messages),
      T(accounts_and_keys),  T(counts_and_closed_store),
      T(smpp_receipt_queue), T(ids_stored_canonical),
#undef T
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
