/* Tests for the SQLite store through store.h, on a real libuv loop and a
 * real file under /tmp: migrations, commit-before-callback (checked from a
 * second connection), idempotency, the claim / result / receipt flow and the
 * derived message status, scheduling and expiry, keyset pagination, injected
 * disk failures (the whole group fails, nothing is half-written, the next
 * group commits), back-pressure, reopening, recovery of parts left
 * 'sending', a child process that dies right after its acknowledgements,
 * and corrupt files.
 *
 * Run with SG_TEST_STORE_URL=postgres://... (CTest's store-pg/ tests), the
 * same tests check the PostgreSQL store, save those about SQLite's file,
 * log and test VFS, which main names; pg_migrations_and_lock replaces the
 * migration test. */
#include "store/store_fixture.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "core/alloc.h"
#include "store/migrations.h"
#include "store/sqlite.h"

/* ---- status derivation (pure) -------------------------------------------- */

static void status_names_and_derive(void **state) {
  (void)state;
  typedef struct {
    sg_msg_status_t in[3];
    size_t n;
    sg_msg_status_t want;
  } case_t;
  static const case_t cases[] = {
      {{SG_MSG_DELIVERED, SG_MSG_DELIVERED, SG_MSG_DELIVERED},
       3,
       SG_MSG_DELIVERED},
      {{SG_MSG_DELIVERED, SG_MSG_SENT, SG_MSG_DELIVERED}, 3, SG_MSG_SENT},
      {{SG_MSG_SENT, SG_MSG_SENDING, SG_MSG_QUEUED}, 3, SG_MSG_QUEUED},
      {{SG_MSG_SENT, SG_MSG_SENDING}, 2, SG_MSG_SENDING},
      {{SG_MSG_SCHEDULED, SG_MSG_SCHEDULED}, 2, SG_MSG_SCHEDULED},
      {{SG_MSG_DELIVERED, SG_MSG_EXPIRED, SG_MSG_QUEUED}, 3, SG_MSG_EXPIRED},
      {{SG_MSG_EXPIRED, SG_MSG_FAILED}, 2, SG_MSG_FAILED},
      {{SG_MSG_FAILED, SG_MSG_UNDELIVERABLE}, 2, SG_MSG_UNDELIVERABLE},
      {{SG_MSG_UNDELIVERABLE, SG_MSG_REJECTED, SG_MSG_DELIVERED},
       3,
       SG_MSG_REJECTED},
      {{SG_MSG_CANCELED, SG_MSG_CANCELED}, 2, SG_MSG_CANCELED},
      {{SG_MSG_QUEUED}, 1, SG_MSG_QUEUED},
      {{SG_MSG_QUEUED}, 0, SG_MSG_NONE},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
    assert_int_equal(sg_store_status_derive(cases[i].in, cases[i].n),
                     cases[i].want);
  for (unsigned s = 1; s < SG_MSG_STATUS_COUNT; s++) {
    sg_msg_status_t back;
    assert_int_equal(sg_store_status_parse(sg_store_status_name(s), &back), 0);
    assert_int_equal(back, s);
  }
  sg_msg_status_t x;
  assert_int_equal(sg_store_status_parse("none", &x), SG_EINVAL);
  assert_int_equal(sg_store_status_parse("Delivered", &x), SG_EINVAL);
  assert_null(sg_store_status_name(SG_MSG_STATUS_COUNT));
  assert_true(sg_store_status_final(SG_MSG_CANCELED));
  assert_false(sg_store_status_final(SG_MSG_SENT));
}

/* ---- migrations ---------------------------------------------------------- */

static void migrations_fresh_and_idempotent(void **state) {
  ctx_t *c = *state;
  open_store(c);
  sg_store_info_t info;
  sg_store_get_info(c->st, &info);
  assert_string_equal(info.backend, "sqlite");
  const unsigned last =
      sg__sqlite_migrations[sg__sqlite_migrations_count - 1].version;
  assert_int_equal(info.schema_version, last);
  assert_int_equal(info.migrated, sg__sqlite_migrations_count);
  close_store(c);
  assert_int_equal(q1(c, "SELECT count(*) FROM schema_version"),
                   sg__sqlite_migrations_count);
  assert_int_equal(q1(c, "SELECT count(*) FROM sqlite_master WHERE type = "
                         "'table' AND name IN ('accounts', 'api_keys', "
                         "'messages', 'parts', 'events', 'inbound', "
                         "'idempotency_keys', 'webhooks')"),
                   8);
  assert_int_equal(q1(c, "SELECT count(*) FROM pragma_journal_mode WHERE "
                         "journal_mode = 'wal'"),
                   1);
  open_store(c); /* again: nothing to apply */
  sg_store_get_info(c->st, &info);
  assert_int_equal(info.migrated, 0);
  assert_int_equal(info.schema_version, last);
  close_store(c);
  assert_int_equal(q1(c, "SELECT count(*) FROM schema_version"),
                   sg__sqlite_migrations_count);

  /* A file from a newer smsgate is refused, and left as it was. */
  raw_exec(c, "INSERT INTO schema_version VALUES (99, 'future', 0)");
  sg_store_config_t cfg = test_config(c);
  assert_int_equal(open_with(c, &cfg), SG_ENOTSUP);
  assert_null(c->st);
  assert_non_null(strstr(c->err, "schema version 99"));
  assert_non_null(strstr(c->err, "newer"));
  assert_int_equal(q1(c, "SELECT max(version) FROM schema_version"), 99);
}

/* Counts its calls (data[0]) and keeps the last status (data[1]). */
static void inrules_cb(sg_store_t *st, int status,
                       const sg_store_inrules_res_t *rules, void *data) {
  (void)st, (void)rules;
  ++((int *)data)[0];
  ((int *)data)[1] = status;
}

/* PostgreSQL: every migration applied once, under the advisory lock, also
 * when two stores open the same empty database at once. */
static void pg_migrations_and_lock(void **state) {
  ctx_t *c = *state;
  const size_t n = sg__pg_migrations_count;
  const unsigned last = sg__pg_migrations[n - 1].version;
  uv_loop_t loop2;
  uv_loop_init(&loop2);
  sg_store_t *st2 = NULL;
  sg_store_config_t cfg = test_config(c);
  char err2[256] = "";
  /* A second store on its own thread-free loop opens while the first does:
   * sg_store_open is synchronous, so run both from two processes. */
  fflush(NULL);
  pid_t pid = fork();
  assert_true(pid >= 0);
  if (pid == 0) {
    int rc = sg_store_open(&loop2, &cfg, &st2, err2, sizeof err2);
    _exit(rc == 0 ? 0 : 1); /* its threads die with it */
  }
  open_store(c);
  int wst = 0;
  assert_int_equal(waitpid(pid, &wst, 0), pid);
  assert_true(WIFEXITED(wst) && WEXITSTATUS(wst) == 0);
  uv_loop_close(&loop2);
  sg_store_info_t info;
  sg_store_get_info(c->st, &info);
  assert_string_equal(info.backend, "postgres");
  assert_int_equal(info.schema_version, last);
  assert_true(info.migrated == 0 || info.migrated == n);
  assert_null(info.missing); /* it runs every request kind */
  close_store(c);
  assert_int_equal(q1(c, "SELECT count(*) FROM schema_version"), n);
  assert_int_equal(q1(c, "SELECT max(version) FROM schema_version"), last);
  assert_int_equal(q1(c, "SELECT count(*) FROM information_schema.tables "
                         "WHERE table_schema = 'public' AND table_name IN "
                         "('accounts', 'api_keys', 'messages', 'parts', "
                         "'events', 'inbound', 'idempotency_keys', "
                         "'webhooks')"),
                   8);
  open_store(c); /* again: nothing to apply */
  sg_store_get_info(c->st, &info);
  assert_int_equal(info.migrated, 0);
  close_store(c);
  /* A database newer than this binary is refused. */
  raw_exec(c, "INSERT INTO schema_version VALUES (99, 'future', 0)");
  assert_int_equal(open_with(c, &cfg), SG_ENOTSUP);
  assert_null(c->st);
  assert_non_null(strstr(c->err, "schema version 99"));
  /* Every kind runs, the last ones added too (an inbound rules load). */
  raw_exec(c, "DELETE FROM schema_version WHERE version = 99");
  open_store(c);
  int got[2] = {0, -1};
  assert_int_equal(sg_store_inrules_load(c->st, inrules_cb, got), 0);
  run_until(c, &got[0], 1);
  assert_int_equal(got[1], 0);
}

/* PostgreSQL: the store's connections are cut (as by a server restart):
 * the next write fails with SG_EIO and nothing of it is written, the store
 * reconnects by itself (reads run again at once), and what was
 * acknowledged is all there. */
static void pg_reconnects(void **state) {
  ctx_t *c = *state;
  open_store(c);
  tmsg_t a, b, d;
  tmsg_init(&a, "+14155550100", 2, "smsc-a");
  assert_int_equal(submit_wait(c, &a, 1, NULL, NULL), 0);
  raw_exec(c, "SELECT count(pg_terminate_backend(pid)) FROM "
              "pg_stat_activity WHERE datname = current_database() AND pid "
              "<> pg_backend_pid()");
  for (int i = 0; i < 100 && q1(c, "SELECT count(*) FROM pg_stat_activity "
                                   "WHERE datname = current_database() AND "
                                   "pid <> pg_backend_pid()") > 0;
       i++)
    usleep(50000); /* until the server has ended them */
  tmsg_init(&b, "+14155550101", 1, "smsc-a");
  assert_int_equal(submit_wait(c, &b, 1, NULL, NULL), SG_EIO);
  const long long want = 1;
  assert_int_equal(q1(c, "SELECT count(*) FROM messages"), want);
  tmsg_init(&d, "+14155550102", 1, "smsc-a");
  assert_int_equal(submit_wait(c, &d, 1, NULL, NULL), 0);
  assert_int_equal(q1(c, "SELECT count(*) FROM messages"), want + 1);
  msg_got_t mg;
  /* The readers' connections were cut too: a read is run again on the
   * new connection, so none fails. */
  for (int i = 0; i < 4; i++) {
    get_wait(c, a.m.id, 0, &mg);
    assert_int_equal(mg.status, 0);
    assert_int_equal(mg.n_parts, 2);
  }
  claim_got_t cg;
  claim_wait(c, "smsc-a", 10, &cg);
  assert_int_equal(cg.n, (size_t)(2 + want));
}

static void bad_urls(void **state) {
  ctx_t *c = *state;
  sg_store_config_t cfg = test_config(c);
  /* Nothing listens on port 1: the PostgreSQL backend says so. */
  cfg.url = "postgres://127.0.0.1:1/smsgate?connect_timeout=2";
  assert_int_equal(open_with(c, &cfg), SG_EIO);
  assert_null(c->st);
  assert_non_null(strstr(c->err, "cannot connect to PostgreSQL"));
  /* The error says why, never the password: libpq quotes what it cannot
   * parse, and its other messages may repeat a value. */
  static const char *const secret_urls[] = {
      "postgres://u:Pg%zzSeKrEt@127.0.0.1:1/db",
      "postgres://u:PgSeKrEt@[::1/db",
      "postgresql://u:PgSeKrEt@127.0.0.1:1/db?sslmode=PgSeKrEt",
      "postgres://u:Pg%53eKrEt@127.0.0.1:1/db?sslmode=PgSeKrEt",
      "postgres://u@127.0.0.1:1/db?password=PgSeKrEt&sslmode=PgSeKrEt",
      "host=127.0.0.1 port=1 password=PgSeKrEt sslmode=PgSeKrEt",
      "host=127.0.0.1 port=1 password PgSeKrEt",
      "mysql://u:PgSeKrEt@127.0.0.1:1/db",
  };
  for (size_t i = 0; i < sizeof secret_urls / sizeof secret_urls[0]; i++) {
    cfg.url = secret_urls[i];
    cfg.postgres = true; /* store.driver: postgres */
    assert_int_equal(open_with(c, &cfg), SG_EIO);
    assert_null(c->st);
    if (strstr(c->err, "cannot connect to PostgreSQL") == NULL ||
        strstr(c->err, "SeKrEt") != NULL || strstr(c->err, "%53") != NULL)
      fail_msg("%s: %s", secret_urls[i], c->err);
  }
  cfg.postgres = false;
  cfg.url = "sqlite:";
  assert_int_equal(open_with(c, &cfg), SG_EINVAL);
  cfg.url = "/nonexistent-dir/sub/x.db";
  assert_int_equal(open_with(c, &cfg), SG_EIO);
  assert_non_null(strstr(c->err, "/nonexistent-dir/sub/x.db"));
  char url[128];
  snprintf(url, sizeof url, "sqlite:%s", c->path);
  cfg.url = url;
  assert_int_equal(open_with(c, &cfg), 0);
  close_store(c);
}

/* ---- submit -------------------------------------------------------------- */

/* The callback of a commit: by then another connection sees every row. */
static void submit_visible_cb(sg_store_t *st, int status,
                              const sg_store_submit_res_t *res, void *data) {
  ctx_t *c = *(ctx_t **)data;
  submit_cb(st, status, res, ((got_t **)data)[1]);
  assert_int_equal(q1(c, "SELECT count(*) FROM messages"), 3);
  assert_int_equal(q1(c, "SELECT count(*) FROM parts"), 6);
  /* SQLite keeps a queued message's first event in its row. */
  assert_int_equal(q1(c, "SELECT count(*) FROM events WHERE status = "
                         "'queued' AND part_seq IS NULL"),
                   pg_server() ? 3 : 0);
}

static void submit_commits_before_callback(void **state) {
  ctx_t *c = *state;
  open_store(c);
  tmsg_t m[3];
  for (int i = 0; i < 3; i++)
    tmsg_init(&m[i], "+14155550100", 2, "smsc-a");
  m[1].m.client_ref = "order-17";
  sg_store_msg_in_t in[3] = {m[0].m, m[1].m, m[2].m};
  sg_store_batch_t b = {.account_id = 7, .msgs = in, .n_msgs = 3};
  sg_id_new(b.batch_id);
  got_t g = {0};
  void *pair[2] = {c, &g};
  assert_int_equal(sg_store_submit(c->st, &b, submit_visible_cb, pair), 0);
  /* The caller's memory may be reused at once. */
  memset(in, 0, sizeof in);
  memset(m[1].ud, 0, sizeof m[1].ud);
  assert_int_equal(g.calls, 0); /* never from inside the call */
  run_until(c, &g.calls, 1);
  assert_int_equal(g.status, 0);
  assert_false(g.replayed);

  msg_got_t mg;
  get_wait(c, m[1].m.id, 7, &mg);
  assert_int_equal(mg.status, 0);
  assert_int_equal(mg.status_of_msg, SG_MSG_QUEUED);
  assert_int_equal(mg.n_parts, 2);
  assert_int_equal(mg.n_events, 1);
  assert_string_equal(mg.body, "hello +14155550100");
  assert_string_equal(mg.client_ref, "order-17");
  get_wait(c, m[1].m.id, 8, &mg); /* another account's message */
  assert_int_equal(mg.status, SG_ENOENT);
  char other[SG_ID_LEN + 1];
  sg_id_new(other);
  get_wait(c, other, 0, &mg);
  assert_int_equal(mg.status, SG_ENOENT);
  /* The part's user data went in as it was at the call. */
  assert_int_equal(q1(c, "SELECT count(*) FROM parts WHERE ud = x'41311B'"), 3);

  /* The same message id again: the batch fails, nothing of it is stored. */
  tmsg_t dup[2];
  tmsg_init(&dup[0], "+14155550101", 1, "smsc-a");
  dup[1] = m[2];
  dup[1].m.parts = dup[1].parts;
  assert_int_equal(submit_wait(c, dup, 2, NULL, NULL), SG_EEXIST);
  assert_int_equal(q1(c, "SELECT count(*) FROM messages"), 3);
  assert_int_equal(q1(c, "SELECT count(*) FROM parts"), 6);
}

static void submit_refuses_bad_input_at_once(void **state) {
  ctx_t *c = *state;
  open_store(c);
  got_t g = {0};
  static const char *const bad_rcpt[] = {
      "14155550100", "+", "+0123", "+1234567890123456", "+1415555O100", ""};
  for (size_t i = 0; i < sizeof bad_rcpt / sizeof bad_rcpt[0]; i++) {
    tmsg_t m;
    tmsg_init(&m, bad_rcpt[i], 1, "smsc-a");
    assert_int_equal(submit_wait(c, &m, 1, NULL, &g), SG_EINVAL);
  }
  tmsg_t m;
  tmsg_init(&m, "+14155550100", 1, "smsc-a");
  m.m.id[3] = 'U'; /* not in the alphabet */
  assert_int_equal(submit_wait(c, &m, 1, NULL, &g), SG_EINVAL);
  tmsg_init(&m, "+14155550100", 1, "smsc-a");
  m.m.n_parts = 0;
  assert_int_equal(submit_wait(c, &m, 1, NULL, &g), SG_EINVAL);
  tmsg_init(&m, "+14155550100", 1, NULL);
  assert_int_equal(submit_wait(c, &m, 1, NULL, &g), SG_EINVAL);
  tmsg_init(&m, "+14155550100", 1, "smsc-a");
  m.parts[0].ud_len = 0;
  assert_int_equal(submit_wait(c, &m, 1, NULL, &g), SG_EINVAL);
  assert_int_equal(g.calls, 0);
  uv_run(&c->loop, UV_RUN_NOWAIT);
  assert_int_equal(g.calls, 0);
  assert_int_equal(q1(c, "SELECT count(*) FROM messages"), 0);
}

/* Fail the Nth allocation of a submit: it fails at once with SG_ENOMEM and
 * no callback, or it succeeds whole. The store's threads are idle while the
 * failure is armed (the counter is not thread-safe). */
static void submit_survives_allocation_failures(void **state) {
  ctx_t *c = *state;
  open_store(c);
  int stored = 0, refused = 0;
  for (long n = 0; n < 60; n++) {
    tmsg_t m[2];
    tmsg_init(&m[0], "+14155550100", 2, "smsc-a");
    tmsg_init(&m[1], "+14155550101", 3, "smsc-b");
    m[1].m.client_ref = "ref";
    static uint8_t big[3000]; /* bodies that need arena chunks of their own */
    m[0].m.body = m[1].m.body = big;
    m[0].m.body_len = m[1].m.body_len = sizeof big;
    sg_store_msg_in_t in[2] = {m[0].m, m[1].m};
    sg_store_batch_t b = {.account_id = 1, .msgs = in, .n_msgs = 2};
    sg_id_new(b.batch_id);
    got_t g = {0};
    sg_alloc_fail_after(n);
    int rc = sg_store_submit(c->st, &b, submit_cb, &g);
    sg_alloc_fail_after(-1);
    if (rc == 0) {
      run_until(c, &g.calls, 1);
      assert_int_equal(g.status, 0);
      stored++;
    } else {
      assert_int_equal(rc, SG_ENOMEM);
      uv_run(&c->loop, UV_RUN_NOWAIT);
      assert_int_equal(g.calls, 0);
      refused++;
    }
  }
  /* Each allocation point failed once (two arena chunks here). */
  assert_true(refused >= 2 && stored == 60 - refused);
  assert_int_equal(q1(c, "SELECT count(*) FROM messages"), 2 * stored);
  assert_int_equal(q1(c, "SELECT count(*) FROM parts"), 5 * stored);
}

static void idempotency_keys(void **state) {
  ctx_t *c = *state;
  open_store(c);
  static const uint8_t h1[] = {1, 2, 3, 4}, h2[] = {1, 2, 3, 5};
  static const char resp[] = "{\"batch_id\":\"first\"}";
  sg_store_batch_t p = {.idem_key = "key-1",
                        .request_hash = h1,
                        .request_hash_len = 4,
                        .response = (const uint8_t *)resp,
                        .response_len = strlen(resp),
                        .idem_ttl_ms = 60000};
  tmsg_t m;
  got_t g;
  tmsg_init(&m, "+14155550100", 1, "smsc-a");
  assert_int_equal(submit_wait(c, &m, 1, &p, &g), 0);
  assert_false(g.replayed);

  /* The same request again: nothing new, the first response. */
  tmsg_init(&m, "+14155550100", 1, "smsc-a");
  assert_int_equal(submit_wait(c, &m, 1, &p, &g), 0);
  assert_true(g.replayed);
  assert_string_equal(g.response, resp);
  assert_int_equal(q1(c, "SELECT count(*) FROM messages"), 1);

  /* Another request under the same key: a conflict. */
  p.request_hash = h2;
  assert_int_equal(submit_wait(c, &m, 1, &p, &g), SG_EEXIST);
  assert_int_equal(q1(c, "SELECT count(*) FROM messages"), 1);

  /* The same key of another account is another key. */
  p.account_id = 2;
  assert_int_equal(submit_wait(c, &m, 1, &p, &g), 0);
  assert_false(g.replayed);
  assert_int_equal(q1(c, "SELECT count(*) FROM messages"), 2);

  /* Once the record expired, the key is free again. */
  atomic_store(&fake_now, T0 + 60001);
  p.account_id = 1;
  tmsg_init(&m, "+14155550100", 1, "smsc-a");
  assert_int_equal(submit_wait(c, &m, 1, &p, &g), 0);
  assert_false(g.replayed);
  assert_int_equal(q1(c, "SELECT count(*) FROM messages"), 3);
  assert_int_equal(q1(c, "SELECT count(*) FROM idempotency_keys"), 2);
}

/* ---- the sending flow ---------------------------------------------------- */

static sg_store_result_in_t sent(const sg_store_claimed_t *p, const char *id) {
  sg_store_result_in_t r = {.part_id = p->part_id,
                            .attempt = p->attempt,
                            .outcome = SG_STORE_SENT,
                            .smsc_id = id};
  return r;
}

static void claim_results_receipts(void **state) {
  ctx_t *c = *state;
  open_store(c);
  tmsg_t m;
  tmsg_init(&m, "+14155550100", 3, "smsc-a");
  m.m.callback_url = "http://127.0.0.1:9/hook";
  m.m.priority = 1;
  assert_int_equal(submit_wait(c, &m, 1, NULL, NULL), 0);

  claim_got_t cg;
  claim_wait(c, "smsc-b", 10, &cg); /* another connector's queue */
  assert_int_equal(cg.n, 0);
  claim_wait(c, "smsc-a", 10, &cg);
  assert_int_equal(cg.n, 3);
  for (unsigned i = 0; i < 3; i++) {
    assert_string_equal(cg.parts[i].message_id, m.m.id);
    assert_int_equal(cg.parts[i].seq, i + 1);
    assert_int_equal(cg.parts[i].attempt, 1);
    assert_int_equal(cg.parts[i].concat_total, 3);
    assert_int_equal(cg.parts[i].priority, 1);
    assert_int_equal(cg.parts[i].ud_len, 3);
    assert_memory_equal(cg.parts[i].ud, m.ud[i], 3);
  }
  claim_got_t again;
  claim_wait(c, "smsc-a", 10, &again); /* all taken */
  assert_int_equal(again.n, 0);

  sg_store_result_in_t r[3] = {sent(&cg.parts[0], "a1"),
                               sent(&cg.parts[1], "a2")};
  r[2] = (sg_store_result_in_t){.part_id = cg.parts[2].part_id,
                                .attempt = 1,
                                .outcome = SG_STORE_RETRY,
                                .next_attempt_ms = T0 + 1000,
                                .error_code = 0x58,
                                .detail = "ESME_RTHROTTLED"};
  items_got_t ig;
  results_wait(c, r, 3, &ig);
  assert_int_equal(ig.items[0].status, 0);
  assert_int_equal(ig.items[0].part_status, SG_MSG_SENT);
  assert_int_equal(ig.items[2].part_status, SG_MSG_QUEUED);
  assert_int_equal(ig.items[2].msg_status, SG_MSG_QUEUED);
  assert_true(ig.items[2].msg_changed);

  claim_wait(c, "smsc-a", 10, &again); /* not due yet */
  assert_int_equal(again.n, 0);
  atomic_store(&fake_now, T0 + 1000);
  claim_wait(c, "smsc-a", 10, &again);
  assert_int_equal(again.n, 1);
  assert_int_equal(again.parts[0].seq, 3);
  assert_int_equal(again.parts[0].attempt, 2);

  /* A late result of the first attempt is refused. */
  r[0] = sent(&cg.parts[2], "late");
  results_wait(c, r, 1, &ig);
  assert_int_equal(ig.items[0].status, SG_ESTATE);
  r[0] = sent(&again.parts[0], "a3");
  r[1] = (sg_store_result_in_t){.part_id = 999999,
                                .attempt = 1,
                                .outcome = SG_STORE_SENT,
                                .smsc_id = "x"};
  results_wait(c, r, 2, &ig);
  assert_int_equal(ig.items[0].status, 0);
  assert_int_equal(ig.items[0].msg_status, SG_MSG_SENT);
  assert_true(ig.items[0].msg_changed);
  assert_int_equal(ig.items[1].status, SG_ENOENT);

  /* An intermediate report: an event, no change. */
  sg_store_receipt_in_t enroute = {.connector = "smsc-a",
                                   .smsc_id = "a1",
                                   .status = SG_MSG_SENT,
                                   .detail = "stat:ENROUTE"};
  receipts_wait(c, &enroute, 1, &ig);
  assert_int_equal(ig.items[0].status, 0);
  assert_int_equal(ig.items[0].msg_status, SG_MSG_SENT);
  assert_false(ig.items[0].msg_changed);
  assert_int_equal(q1(c, "SELECT count(*) FROM events WHERE part_seq = 1 AND "
                         "status = 'sent' AND detail = 'stat:ENROUTE'"),
                   1);

  sg_store_receipt_in_t d[4] = {
      {.connector = "smsc-a", .smsc_id = "a1", .status = SG_MSG_DELIVERED},
      {.connector = "smsc-a", .smsc_id = "a2", .status = SG_MSG_DELIVERED},
      {.connector = "smsc-b", .smsc_id = "a3", .status = SG_MSG_DELIVERED},
      {.connector = "smsc-a", .smsc_id = "nope", .status = SG_MSG_DELIVERED}};
  receipts_wait(c, d, 4, &ig);
  assert_int_equal(ig.items[0].status, 0);
  assert_string_equal(ig.items[0].message_id, m.m.id);
  assert_int_equal(ig.items[0].seq, 1);
  assert_int_equal(ig.items[1].msg_status, SG_MSG_SENT); /* part 3 is not */
  assert_int_equal(ig.items[2].status, 0); /* wrong connector: held */
  assert_true(ig.items[2].held);
  assert_int_equal(ig.items[3].status, 0);
  assert_true(ig.items[3].held);
  assert_false(ig.items[0].held);
  d[0] = (sg_store_receipt_in_t){.connector = "smsc-a",
                                 .smsc_id = "a3",
                                 .status = SG_MSG_DELIVERED,
                                 .done_ms = T0 + 500};
  d[1] = d[0]; /* a repeated receipt changes nothing */
  receipts_wait(c, d, 2, &ig);
  assert_int_equal(ig.items[0].msg_status, SG_MSG_DELIVERED);
  assert_true(ig.items[0].msg_changed);
  assert_int_equal(ig.items[1].status, 0);
  assert_false(ig.items[1].msg_changed);

  msg_got_t mg;
  get_wait(c, m.m.id, 0, &mg);
  assert_int_equal(mg.status_of_msg, SG_MSG_DELIVERED);
  static const sg_msg_status_t want[] = {SG_MSG_QUEUED, SG_MSG_SENDING,
                                         SG_MSG_QUEUED, SG_MSG_SENDING,
                                         SG_MSG_SENT,   SG_MSG_DELIVERED};
  expect_msg_events(&mg, want, 6);
  assert_string_equal(mg.smsc_id[2], "a3");
  assert_int_equal(mg.attempts[2], 2);
  int64_t t;
  assert_int_equal(events_of(c, m.m.id, 3, SG_MSG_DELIVERED, &t), 1);
  assert_int_equal(t, T0 + 500);
  /* Webhooks went with the events: sent and delivered. */
  assert_int_equal(q1(c, "SELECT count(*) FROM webhooks"), 2);
  assert_int_equal(q1(c, "SELECT count(*) FROM webhooks w JOIN events e ON "
                         "e.id = w.event_id WHERE e.status IN ('sent', "
                         "'delivered') AND e.part_seq IS NULL"),
                   2);
}

static void worst_part_failure_wins(void **state) {
  ctx_t *c = *state;
  open_store(c);
  tmsg_t m;
  tmsg_init(&m, "+447700900123", 3, "smsc-a");
  assert_int_equal(submit_wait(c, &m, 1, NULL, NULL), 0);
  claim_got_t cg;
  claim_wait(c, "smsc-a", 10, &cg);
  assert_int_equal(cg.n, 3);
  sg_store_result_in_t r[3] = {sent(&cg.parts[0], "b1"),
                               sent(&cg.parts[1], "b2")};
  r[2] = (sg_store_result_in_t){.part_id = cg.parts[2].part_id,
                                .attempt = 1,
                                .outcome = SG_STORE_FAILED,
                                .final_status = SG_MSG_REJECTED,
                                .error_code = 0x0B,
                                .detail = "ESME_RINVDSTADR"};
  items_got_t ig;
  results_wait(c, r, 3, &ig);
  assert_int_equal(ig.items[2].part_status, SG_MSG_REJECTED);
  assert_int_equal(ig.items[2].msg_status, SG_MSG_REJECTED);
  sg_store_receipt_in_t d[2] = {
      {.connector = "smsc-a", .smsc_id = "b1", .status = SG_MSG_DELIVERED},
      {.connector = "smsc-a",
       .smsc_id = "b2",
       .status = SG_MSG_UNDELIVERABLE,
       .error_code = 1,
       .detail = "stat:UNDELIV err:001"}};
  receipts_wait(c, d, 2, &ig);
  assert_int_equal(ig.items[1].msg_status, SG_MSG_REJECTED); /* still worst */
  assert_false(ig.items[1].msg_changed);
  msg_got_t mg;
  get_wait(c, m.m.id, 0, &mg);
  assert_int_equal(mg.status_of_msg, SG_MSG_REJECTED);
  assert_int_equal(mg.part_status[0], SG_MSG_DELIVERED);
  assert_int_equal(mg.part_status[1], SG_MSG_UNDELIVERABLE);
  assert_int_equal(mg.part_status[2], SG_MSG_REJECTED);
  assert_int_equal(q1(c, "SELECT error_code FROM messages"), 0x0B);
  assert_int_equal(q1(c, "SELECT count(*) FROM webhooks"), 0); /* no URL */
}

static void scheduled_and_expired(void **state) {
  ctx_t *c = *state;
  open_store(c);
  tmsg_t later, short_lived;
  tmsg_init(&later, "+14155550100", 1, "smsc-a");
  later.m.send_at_ms = T0 + 5000;
  tmsg_init(&short_lived, "+14155550101", 2, "smsc-a");
  short_lived.m.validity_ms = T0 + 2000;
  short_lived.m.callback_url = "http://127.0.0.1:9/hook";
  assert_int_equal(submit_wait(c, &later, 1, NULL, NULL), 0);
  assert_int_equal(submit_wait(c, &short_lived, 1, NULL, NULL), 0);
  msg_got_t mg;
  get_wait(c, later.m.id, 0, &mg);
  assert_int_equal(mg.status_of_msg, SG_MSG_SCHEDULED);

  atomic_store(&fake_now, T0 + 3000); /* validity over, not yet due */
  claim_got_t cg;
  claim_wait(c, "smsc-a", 10, &cg);
  assert_int_equal(cg.n, 0);
  assert_int_equal(cg.expired, 2);
  assert_int_equal(cg.released, 0);
  get_wait(c, short_lived.m.id, 0, &mg);
  assert_int_equal(mg.status_of_msg, SG_MSG_EXPIRED);
  assert_int_equal(mg.part_status[0], SG_MSG_EXPIRED);
  assert_int_equal(mg.part_status[1], SG_MSG_EXPIRED);
  assert_string_equal(mg.last_part_detail,
                      "validity period ended before sending");
  assert_int_equal(q1(c, "SELECT count(*) FROM webhooks"), 1);

  atomic_store(&fake_now, T0 + 5000);
  claim_wait(c, "smsc-a", 10, &cg);
  assert_int_equal(cg.released, 1);
  assert_int_equal(cg.expired, 0);
  assert_int_equal(cg.n, 1);
  assert_string_equal(cg.parts[0].message_id, later.m.id);
  get_wait(c, later.m.id, 0, &mg);
  static const sg_msg_status_t want[] = {SG_MSG_SCHEDULED, SG_MSG_QUEUED,
                                         SG_MSG_SENDING};
  expect_msg_events(&mg, want, 3);
}

static void maint_cb(sg_store_t *st, int status,
                     const sg_store_maint_res_t *res, void *data) {
  (void)st;
  sg_store_maint_res_t *out = data;
  assert_int_equal(status, 0);
  *out = *res;
  out->purged += 1000000; /* marks the call */
}

static void leases_and_maintenance(void **state) {
  ctx_t *c = *state;
  open_store(c);
  tmsg_t m;
  tmsg_init(&m, "+14155550100", 1, "smsc-a");
  assert_int_equal(submit_wait(c, &m, 1, NULL, NULL), 0);
  claim_got_t cg;
  memset(&cg, 0, sizeof cg);
  assert_int_equal(sg_store_claim(c->st, "smsc-a", 5, 1000, claim_cb, &cg), 0);
  run_until(c, &cg.calls, 1);
  assert_int_equal(cg.n, 1);
  atomic_store(&fake_now, T0 + 1000); /* the lease ran out, no result */
  sg_store_maint_res_t mr = {0};
  assert_int_equal(sg_store_maintain(c->st, maint_cb, &mr), 0);
  while (mr.purged < 1000000)
    uv_run(&c->loop, UV_RUN_ONCE);
  assert_int_equal(mr.requeued, 1);
  claim_wait(c, "smsc-a", 5, &cg);
  assert_int_equal(cg.n, 1);
  assert_int_equal(cg.parts[0].attempt, 2);
}

static void cancel_messages(void **state) {
  ctx_t *c = *state;
  open_store(c);
  tmsg_t a, b;
  tmsg_init(&a, "+14155550100", 2, "smsc-a");
  tmsg_init(&b, "+14155550101", 1, "smsc-b");
  assert_int_equal(submit_wait(c, &a, 1, NULL, NULL), 0);
  assert_int_equal(submit_wait(c, &b, 1, NULL, NULL), 0);
  items_got_t ig = {0};
  assert_int_equal(sg_store_cancel(c->st, a.m.id, 2, items_cb, &ig), 0);
  run_until(c, &ig.calls, 1);
  assert_int_equal(ig.items[0].status, SG_ENOENT); /* account 2 is not its */
  ig.calls = 0;
  assert_int_equal(sg_store_cancel(c->st, a.m.id, 1, items_cb, &ig), 0);
  run_until(c, &ig.calls, 1);
  assert_int_equal(ig.items[0].status, 0);
  assert_int_equal(ig.items[0].msg_status, SG_MSG_CANCELED);
  assert_true(ig.items[0].msg_changed);
  ig.calls = 0;
  assert_int_equal(sg_store_cancel(c->st, a.m.id, 1, items_cb, &ig), 0);
  run_until(c, &ig.calls, 1);
  assert_int_equal(ig.items[0].status, SG_ESTATE);
  claim_got_t cg;
  claim_wait(c, "smsc-a", 10, &cg); /* canceled parts are not sent */
  assert_int_equal(cg.n, 0);
  claim_wait(c, "smsc-b", 10, &cg);
  assert_int_equal(cg.n, 1);
  ig.calls = 0;
  assert_int_equal(sg_store_cancel(c->st, b.m.id, 0, items_cb, &ig), 0);
  run_until(c, &ig.calls, 1);
  assert_int_equal(ig.items[0].status, SG_ESTATE); /* being sent */
  assert_int_equal(q1(c, "SELECT count(*) FROM parts WHERE status = "
                         "'canceled'"),
                   2);
}

/* ---- lists --------------------------------------------------------------- */

typedef struct list_got {
  int calls;
  int status;
  size_t n;
  char ids[SG_STORE_LIST_MAX][SG_ID_LEN + 1];
  char next[SG_ID_LEN + 1];
} list_got_t;

static void list_cb(sg_store_t *st, int status, const sg_store_list_res_t *res,
                    void *data) {
  (void)st;
  list_got_t *g = data;
  g->status = status;
  g->n = status == 0 ? res->n : 0;
  for (size_t i = 0; i < g->n; i++)
    memcpy(g->ids[i], res->msgs[i].id, SG_ID_LEN + 1);
  if (status == 0)
    memcpy(g->next, res->next_cursor, SG_ID_LEN + 1);
  g->calls++;
}

static void list_wait(ctx_t *c, const sg_store_filter_t *f, list_got_t *g) {
  memset(g, 0, sizeof *g);
  assert_int_equal(sg_store_list_messages(c->st, f, list_cb, g), 0);
  run_until(c, &g->calls, 1);
  assert_int_equal(g->status, 0);
}

static int cmp_id(const void *a, const void *b) {
  return strcmp((const char *)a, (const char *)b);
}

static void cursor_pagination(void **state) {
  ctx_t *c = *state;
  open_store(c);
  static char all[250][SG_ID_LEN + 1];
  char special_batch[SG_ID_LEN + 1] = "";
  for (int b = 0; b < 5; b++) {
    tmsg_t m[50];
    for (int i = 0; i < 50; i++) {
      tmsg_init(&m[i], i % 10 == 0 ? "+14155550199" : "+14155550100", 1,
                "smsc-a");
      memcpy(all[b * 50 + i], m[i].m.id, SG_ID_LEN + 1);
    }
    sg_store_batch_t p = {0};
    sg_id_new(p.batch_id);
    if (b == 3)
      memcpy(special_batch, p.batch_id, sizeof special_batch);
    atomic_store(&fake_now, T0 + b * 1000);
    assert_int_equal(submit_wait(c, m, 50, &p, NULL), 0);
  }
  static list_got_t g;
  static char seen[250][SG_ID_LEN + 1];
  size_t n_seen = 0, pages = 0;
  sg_store_filter_t f = {.limit = 100};
  do {
    list_wait(c, &f, &g);
    for (size_t i = 0; i < g.n; i++) {
      if (n_seen > 0)
        assert_true(strcmp(g.ids[i], seen[n_seen - 1]) < 0); /* newest first */
      memcpy(seen[n_seen++], g.ids[i], SG_ID_LEN + 1);
    }
    pages++;
    f.cursor = g.next[0] ? g.next : NULL;
    static char cur[SG_ID_LEN + 1];
    if (f.cursor != NULL) {
      memcpy(cur, g.next, sizeof cur);
      f.cursor = cur;
    }
  } while (f.cursor != NULL);
  assert_int_equal(pages, 3);
  assert_int_equal(n_seen, 250);
  qsort(seen, 250, sizeof seen[0], cmp_id);
  qsort(all, 250, sizeof all[0], cmp_id);
  assert_memory_equal(seen, all, sizeof all);

  /* An exact page: no cursor for an empty next page. */
  f = (sg_store_filter_t){.limit = 250};
  list_wait(c, &f, &g);
  assert_int_equal(g.n, 250);
  assert_string_equal(g.next, "");

  f = (sg_store_filter_t){.recipient = "+14155550199", .limit = 10};
  list_wait(c, &f, &g);
  assert_int_equal(g.n, 10);
  assert_int_equal(strlen(g.next), SG_ID_LEN);
  static char cur2[SG_ID_LEN + 1];
  memcpy(cur2, g.next, sizeof cur2);
  f.cursor = cur2;
  f.limit = 20;
  list_wait(c, &f, &g);
  assert_int_equal(g.n, 15);
  assert_string_equal(g.next, "");

  f = (sg_store_filter_t){.batch_id = special_batch, .account_id = 1};
  list_wait(c, &f, &g);
  assert_int_equal(g.n, 50); /* the default page size */
  f.account_id = 2;
  list_wait(c, &f, &g);
  assert_int_equal(g.n, 0);
  f = (sg_store_filter_t){
      .from_ms = T0 + 1000, .to_ms = T0 + 3000, .limit = 1000};
  list_wait(c, &f, &g);
  assert_int_equal(g.n, 100);
  f = (sg_store_filter_t){.status = SG_MSG_QUEUED, .limit = 1000};
  list_wait(c, &f, &g);
  assert_int_equal(g.n, 250);
  f.status = SG_MSG_SENT;
  list_wait(c, &f, &g);
  assert_int_equal(g.n, 0);

  f = (sg_store_filter_t){.cursor = "not-an-id"};
  assert_int_equal(sg_store_list_messages(c->st, &f, list_cb, &g), SG_EINVAL);
  f = (sg_store_filter_t){.limit = SG_STORE_LIST_MAX + 1};
  assert_int_equal(sg_store_list_messages(c->st, &f, list_cb, &g), SG_EINVAL);
}

/* ---- failures ------------------------------------------------------------ */

static void injected_write_failure(void **state) {
  ctx_t *c = *state;
  for (int full = 0; full <= 1; full++) {
    sg_store_config_t cfg = test_config(c);
    cfg.fault_injection = true;
    cfg.max_wait_us = 300000; /* so that the five batches share a commit */
    assert_int_equal(open_with(c, &cfg), 0);
    long long before = q1(c, "SELECT count(*) FROM messages");
    tmsg_t ok1;
    tmsg_init(&ok1, "+14155550100", 2, "smsc-a");
    assert_int_equal(submit_wait(c, &ok1, 1, NULL, NULL), 0);
    sg_store_stats_t s0, s1;
    sg_store_get_stats(c->st, &s0);

    assert_int_equal(sg_store_sqlite_fail_next(c->st, 1, full), 0);
    static tmsg_t m[5][3];
    got_t g[5] = {{0}};
    int calls = 0;
    for (int i = 0; i < 5; i++) {
      sg_store_msg_in_t in[3];
      for (int k = 0; k < 3; k++) {
        tmsg_init(&m[i][k], "+14155550100", 3, "smsc-a");
        in[k] = m[i][k].m;
      }
      sg_store_batch_t b = {.account_id = 1, .msgs = in, .n_msgs = 3};
      sg_id_new(b.batch_id);
      assert_int_equal(sg_store_submit(c->st, &b, submit_cb, &g[i]), 0);
    }
    while (calls < 5) {
      uv_run(&c->loop, UV_RUN_ONCE);
      calls = g[0].calls + g[1].calls + g[2].calls + g[3].calls + g[4].calls;
    }
    for (int i = 0; i < 5; i++)
      assert_int_equal(g[i].status, SG_EIO);
    sg_store_get_stats(c->st, &s1);
    assert_int_equal(s1.failed_commits - s0.failed_commits, 1);
    assert_int_equal(s1.commits, s0.commits);
    /* Nothing of the failed group is in the file. */
    assert_int_equal(q1(c, "SELECT count(*) FROM messages"), before + 1);
    assert_int_equal(q1(c, "SELECT count(*) FROM parts"), 2 * (before + 1));
    assert_int_equal(q1(c, "SELECT count(*) FROM events"),
                     pg_server() ? before + 1 : 0);

    /* The store recovers: the next group commits, and reads work. */
    tmsg_t ok2;
    tmsg_init(&ok2, "+14155550100", 2, "smsc-a");
    assert_int_equal(submit_wait(c, &ok2, 1, NULL, NULL), 0);
    msg_got_t mg;
    get_wait(c, ok2.m.id, 0, &mg);
    assert_int_equal(mg.status, 0);
    assert_int_equal(mg.n_parts, 2);
    get_wait(c, m[2][1].m.id, 0, &mg);
    assert_int_equal(mg.status, SG_ENOENT);
    close_store(c);
    assert_int_equal(q1(c, "SELECT count(*) FROM messages"), before + 2);
    assert_string_equal(q1s(c, "PRAGMA integrity_check"), "ok");
  }
  /* Without the test VFS the seam says so. */
  open_store(c);
  assert_int_equal(sg_store_sqlite_fail_next(c->st, 1, false), SG_ENOTSUP);
}

static void back_pressure(void **state) {
  ctx_t *c = *state;
  sg_store_config_t cfg = test_config(c);
  cfg.max_pending_writes = 4;
  cfg.max_wait_us = 300000; /* the writer lingers: the queue fills */
  assert_int_equal(open_with(c, &cfg), 0);
  got_t g[5] = {{0}};
  tmsg_t m[5];
  int rc[5];
  for (int i = 0; i < 5; i++) {
    tmsg_init(&m[i], "+14155550100", 1, "smsc-a");
    sg_store_msg_in_t in = m[i].m;
    sg_store_batch_t b = {.account_id = 1, .msgs = &in, .n_msgs = 1};
    sg_id_new(b.batch_id);
    rc[i] = sg_store_submit(c->st, &b, submit_cb, &g[i]);
  }
  for (int i = 0; i < 4; i++)
    assert_int_equal(rc[i], 0);
  assert_int_equal(rc[4], SG_EBUSY); /* at once, and never called back */
  int done = 0;
  while (done < 4) {
    uv_run(&c->loop, UV_RUN_ONCE);
    done = g[0].calls + g[1].calls + g[2].calls + g[3].calls;
  }
  for (int i = 0; i < 4; i++)
    assert_int_equal(g[i].status, 0);
  assert_int_equal(g[4].calls, 0);
  sg_store_stats_t st;
  sg_store_get_stats(c->st, &st);
  assert_int_equal(st.commits, 1); /* the four went in one group */
  assert_int_equal(st.max_group, 4);
  assert_int_equal(q1(c, "SELECT count(*) FROM messages"), 4);
  /* Room again. */
  assert_int_equal(submit_wait(c, &m[4], 1, NULL, NULL), 0);
}

/* A repeated message id in the middle of a group fails that request only:
 * the requests before and after it in the same commit are stored (on
 * PostgreSQL its failure shows only when a later answer is read, and is
 * charged to it). */
static void failure_inside_a_group(void **state) {
  ctx_t *c = *state;
  sg_store_config_t cfg = test_config(c);
  cfg.max_wait_us = 300000; /* the three share a commit */
  assert_int_equal(open_with(c, &cfg), 0);
  tmsg_t first;
  tmsg_init(&first, "+14155550100", 1, "smsc-a");
  assert_int_equal(submit_wait(c, &first, 1, NULL, NULL), 0);
  tmsg_t m[3];
  tmsg_init(&m[0], "+14155550101", 2, "smsc-a");
  tmsg_init(&m[1], "+14155550102", 1, "smsc-a");
  memcpy(m[1].m.id, first.m.id, sizeof m[1].m.id); /* taken */
  tmsg_init(&m[2], "+14155550103", 1, "smsc-a");
  got_t g[3] = {{0}};
  for (int i = 0; i < 3; i++) {
    sg_store_msg_in_t in = m[i].m;
    in.parts = m[i].parts;
    sg_store_batch_t b = {.account_id = 1, .msgs = &in, .n_msgs = 1};
    sg_id_new(b.batch_id);
    assert_int_equal(sg_store_submit(c->st, &b, submit_cb, &g[i]), 0);
  }
  while (g[0].calls + g[1].calls + g[2].calls < 3)
    uv_run(&c->loop, UV_RUN_ONCE);
  assert_int_equal(g[0].status, 0);
  assert_int_equal(g[1].status, SG_EEXIST);
  assert_int_equal(g[2].status, 0);
  sg_store_stats_t st;
  sg_store_get_stats(c->st, &st);
  assert_int_equal(st.failed_commits, 0);
  /* The histograms count every transaction (on both backends): the three
   * requests' commit in the batch bucket "<= 5". */
  uint64_t hc = 0, hb = 0;
  for (unsigned i = 0; i <= SG_STORE_COMMIT_BUCKETS; i++)
    hc += st.commit_hist[i];
  for (unsigned i = 0; i <= SG_STORE_BATCH_BUCKETS; i++)
    hb += st.batch_hist[i];
  assert_int_equal(hc, st.commits);
  assert_int_equal(hb, st.commits);
  assert_int_equal(st.batch_hist[2], 1);
  assert_int_equal(q1(c, "SELECT count(*) FROM messages"), 3);
  assert_int_equal(q1(c, "SELECT count(*) FROM parts"), 4);
  assert_int_equal(q1(c, "SELECT count(*) FROM events"), pg_server() ? 3 : 0);
  assert_int_equal(q1(c, "SELECT count(*) FROM messages WHERE recipient = "
                         "'+14155550102'"),
                   0);
}

/* ---- durability ---------------------------------------------------------- */

static void reopen_and_recover(void **state) {
  ctx_t *c = *state;
  open_store(c);
  tmsg_t m[2];
  tmsg_init(&m[0], "+14155550100", 2, "smsc-a");
  tmsg_init(&m[1], "+14155550101", 1, "smsc-a");
  assert_int_equal(submit_wait(c, m, 2, NULL, NULL), 0);
  claim_got_t cg;
  claim_wait(c, "smsc-a", 10, &cg);
  assert_int_equal(cg.n, 3);
  sg_store_result_in_t r = sent(&cg.parts[2], "z9");
  items_got_t ig;
  results_wait(c, &r, 1, &ig);
  close_store(c); /* parts 1 and 2 of m[0] are left 'sending' */

  open_store(c);
  sg_store_info_t info;
  sg_store_get_info(c->st, &info);
  assert_int_equal(info.requeued_parts, 2);
  msg_got_t mg;
  get_wait(c, m[0].m.id, 0, &mg);
  assert_int_equal(mg.status_of_msg, SG_MSG_QUEUED);
  assert_int_equal(mg.part_status[0], SG_MSG_QUEUED);
  assert_string_equal(mg.last_part_detail,
                      "requeued at start after a stop while sending");
  get_wait(c, m[1].m.id, 0, &mg);
  assert_int_equal(mg.status_of_msg, SG_MSG_SENT);
  assert_string_equal(mg.smsc_id[0], "z9");
  claim_wait(c, "smsc-a", 10, &cg); /* sent again: at least once */
  assert_int_equal(cg.n, 2);
  assert_int_equal(cg.parts[0].attempt, 2);
  close_store(c);
  open_store(c);
  sg_store_get_info(c->st, &info);
  assert_int_equal(info.requeued_parts, 2);
}

/* Commits grow the write-ahead log; a checkpointer thread copies it back
 * into the file beside the writer, so the log stays bounded (SQLite would
 * otherwise do it in the writer, after a commit, delaying acknowledgements).
 */
/* The checkpointer copies the log into the file once it holds 16 MB of
 * pages (4,000 of 4 KiB), not before, and the log stays under twice that
 * (the writer finishes the copy there). The trigger is in bytes: a
 * database with smaller pages checkpoints no more often. */
static void log_checkpointed_at(ctx_t *c, long page) {
  const long long frame = page + 24, pages = 4000LL * 4096 / page;
  assert_int_equal(q1(c, "PRAGMA page_size"), page);
  char wal[128];
  snprintf(wal, sizeof wal, "%s-wal", c->path);
  long long max_wal = 0, wal_at_first = -1;
  sg_store_stats_t st = {0};
  for (int b = 0; b < 3000; b++) {
    tmsg_t m[20];
    for (int i = 0; i < 20; i++)
      tmsg_init(&m[i], "+14155550100", 1, "smsc-a");
    assert_int_equal(submit_wait(c, m, 20, NULL, NULL), 0);
    struct stat sb;
    if (stat(wal, &sb) == 0 && sb.st_size > max_wal)
      max_wal = sb.st_size;
    sg_store_get_stats(c->st, &st);
    if (st.checkpoints > 0 && wal_at_first < 0)
      wal_at_first = max_wal;
    /* on past the first start-over of the log, which the bound is about */
    if (wal_at_first >= 0 && max_wal > pages * 9 / 8 * frame && b % 100 == 99 &&
        st.checkpoints > 1)
      break;
  }
  for (int i = 0; i < 500 && st.checkpoints == 0; i++) {
    usleep(10000);
    sg_store_get_stats(c->st, &st);
  }
  assert_true(st.checkpoints > 0);
  /* not before 16 MB of pages (it was 4 MB) */
  assert_true(wal_at_first >= pages * frame);
  /* twice that and the frame headers at most, plus a group */
  assert_true(max_wal < (2 * pages + pages / 40) * frame);
  assert_true(q1(c, "SELECT count(*) FROM messages") >= 2000);
}

static void log_is_checkpointed(void **state) {
  ctx_t *c = *state;
  open_store(c);
  log_checkpointed_at(c, 4096);
}

/* A database of 1 KiB pages (SG_STORE_PAGE_SIZE) holds four times as many
 * pages in the same log before its checkpoint. */
static void log_of_small_pages_is_checkpointed(void **state) {
  ctx_t *c = *state;
  assert_int_equal(setenv("SG_STORE_PAGE_SIZE", "1024", 1), 0);
  open_store(c);
  assert_int_equal(unsetenv("SG_STORE_PAGE_SIZE"), 0);
  log_checkpointed_at(c, 1024);
}

/* The page size the store gives a new database (sqlite.c, SG__SQ_PAGE_SIZE;
 * docs/architecture.md, "The bytes the SQLite store writes a message"). */
#define NEW_PAGE_SIZE 4096

/* Submits n one-part messages to smsc-a, claims them and records them sent,
 * and checks that the store holds want messages in all. */
static void life_of(ctx_t *c, int n, long long want) {
  for (int i = 0; i < n; i++) {
    tmsg_t m;
    tmsg_init(&m, "+14155550100", 1, "smsc-a");
    assert_int_equal(submit_wait(c, &m, 1, NULL, NULL), 0);
    char smsc[16];
    snprintf(smsc, sizeof smsc, "p%d", i);
    claim_one_sent(c, "smsc-a", smsc);
    msg_got_t mg;
    get_wait(c, m.m.id, 0, &mg);
    assert_int_equal(mg.status_of_msg, SG_MSG_SENT);
  }
  assert_int_equal(q1(c, "SELECT count(*) FROM messages"), want);
}

/* A new database gets the store's page size; one made with another size
 * (every database before the change) keeps it, opens and works; a bad
 * SG_STORE_PAGE_SIZE or SG_STORE_CACHE_KB is refused before any file is
 * made. */
static void page_size_of_new_and_old_databases(void **state) {
  ctx_t *c = *state;
  open_store(c);
  assert_int_equal(q1(c, "PRAGMA page_size"), NEW_PAGE_SIZE);
  /* The writer's cache: 8 MB, unless the environment says otherwise. */
  assert_int_equal(sg_store_sqlite_cache_kb(c->st), 8000);
  life_of(c, 3, 3);
  close_store(c);
  remove_db_files(c);

  const char *other = NEW_PAGE_SIZE == 4096 ? "1024" : "4096";
  assert_int_equal(setenv("SG_STORE_PAGE_SIZE", other, 1), 0);
  open_store(c);
  assert_int_equal(unsetenv("SG_STORE_PAGE_SIZE"), 0);
  life_of(c, 2, 2);
  close_store(c);
  assert_int_equal(setenv("SG_STORE_CACHE_KB", "3000", 1), 0);
  open_store(c); /* with the store's own size asked for */
  assert_int_equal(unsetenv("SG_STORE_CACHE_KB"), 0);
  assert_int_equal(sg_store_sqlite_cache_kb(c->st), 3000);
  assert_int_equal(q1(c, "PRAGMA page_size"), strtol(other, NULL, 10));
  life_of(c, 3, 5);
  close_store(c);
  assert_int_equal(q1(c, "PRAGMA page_size"), strtol(other, NULL, 10));
  assert_string_equal(q1s(c, "PRAGMA integrity_check"), "ok");
  remove_db_files(c);

  static const char *const bad[][2] = {
      {"SG_STORE_PAGE_SIZE", "1000"},   {"SG_STORE_PAGE_SIZE", "256"},
      {"SG_STORE_PAGE_SIZE", "131072"}, {"SG_STORE_PAGE_SIZE", "4k"},
      {"SG_STORE_CACHE_KB", "0"},       {"SG_STORE_CACHE_KB", "-2000"},
      {"SG_STORE_SYNC_WAIT_US", "-1"},  {"SG_STORE_SYNC_WAIT_US", "100001"},
      {"SG_STORE_SYNC_WAIT_US", "1ms"},
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    assert_int_equal(setenv(bad[i][0], bad[i][1], 1), 0);
    sg_store_config_t cfg = test_config(c);
    assert_int_equal(open_with(c, &cfg), SG_EINVAL);
    assert_non_null(strstr(c->err, bad[i][0]));
    assert_int_equal(unsetenv(bad[i][0]), 0);
    struct stat sb;
    assert_int_not_equal(stat(c->path, &sb), 0); /* nothing made */
  }
}

/* How many of this process's threads are named name (/proc/self/task). */
static int threads_named(const char *name) {
  DIR *d = opendir("/proc/self/task");
  assert_non_null(d);
  int n = 0;
  for (struct dirent *e; (e = readdir(d)) != NULL;) {
    if (e->d_name[0] == '.')
      continue;
    char p[300], comm[64] = "";
    snprintf(p, sizeof p, "/proc/self/task/%s/comm", e->d_name);
    FILE *f = fopen(p, "r");
    if (f == NULL)
      continue;
    if (fgets(comm, sizeof comm, f) != NULL)
      comm[strcspn(comm, "\n")] = '\0';
    fclose(f);
    n += strcmp(comm, name) == 0;
  }
  closedir(d);
  return n;
}

/* The store's threads carry names, which bench/lib.sh reports CPU by. */
static void threads_are_named(void **state) {
  ctx_t *c = *state;
  open_store(c);
  /* each thread names itself when it starts */
  for (int i = 0;
       i < 500 &&
       (threads_named("sg-writer") < 1 || threads_named("sg-ckpt") < 1 ||
        threads_named("sg-sync") < 1 || threads_named("sg-reader") < 2);
       i++)
    usleep(10000);
  assert_int_equal(threads_named("sg-writer"), 1);
  assert_int_equal(threads_named("sg-ckpt"), 1);
  assert_int_equal(threads_named("sg-sync"), 1); /* synchronous=FULL */
  assert_int_equal(threads_named("sg-reader"), 2);
  close_store(c); /* joins them */
  assert_int_equal(threads_named("sg-writer"), 0);
  assert_int_equal(threads_named("sg-sync"), 0);
}

/* The child: opens the store, keeps 4 batches of 10 in flight, writes the
 * id of every acknowledged message to fd, and dies with _exit(0) inside the
 * 30th acknowledgement, without closing anything. */
typedef struct child {
  ctx_t *c;
  int fd;
  int acked;
  int inflight;
} child_t;

static void child_submit(child_t *ch);

static void child_cb(sg_store_t *st, int status,
                     const sg_store_submit_res_t *res, void *data) {
  (void)st;
  (void)res;
  tmsg_t *m = data;
  child_t *ch = (child_t *)m[10].m.body; /* stashed in the spare slot */
  if (status != 0)
    _exit(3);
  for (int i = 0; i < 10; i++) {
    char line[SG_ID_LEN + 2];
    snprintf(line, sizeof line, "%s\n", m[i].m.id);
    if (write(ch->fd, line, SG_ID_LEN + 1) != SG_ID_LEN + 1)
      _exit(4);
  }
  free(m);
  ch->inflight--;
  if (++ch->acked == 30)
    _exit(0);
  while (ch->inflight < 4)
    child_submit(ch);
}

static void child_submit(child_t *ch) {
  tmsg_t *m = calloc(11, sizeof *m);
  sg_store_msg_in_t in[10];
  for (int i = 0; i < 10; i++) {
    tmsg_init(&m[i], "+14155550100", 2, "smsc-a");
    in[i] = m[i].m;
  }
  m[10].m.body = (const uint8_t *)ch;
  sg_store_batch_t b = {.account_id = 1, .msgs = in, .n_msgs = 10};
  sg_id_new(b.batch_id);
  if (sg_store_submit(ch->c->st, &b, child_cb, m) != 0)
    _exit(5);
  ch->inflight++;
}

static void kill_after_ack(void **state) {
  ctx_t *c = *state;
  int fds[2];
  assert_int_equal(pipe(fds), 0);
  fflush(NULL);
  pid_t pid = fork();
  assert_true(pid >= 0);
  if (pid == 0) {
    close(fds[0]);
    static ctx_t cc; /* a loop of its own, initialised in place */
    uv_loop_init(&cc.loop);
    sg_store_config_t cfg;
    sg_store_config_init(&cfg, c->url[0] != '\0' ? c->url : c->path);
    if (sg_store_open(&cc.loop, &cfg, &cc.st, NULL, 0) != 0)
      _exit(2);
    child_t ch = {&cc, fds[1], 0, 0};
    while (ch.inflight < 4)
      child_submit(&ch);
    uv_run(&cc.loop, UV_RUN_DEFAULT);
    _exit(6); /* never here */
  }
  close(fds[1]);
  static char ids[400][SG_ID_LEN + 1];
  size_t n = 0;
  char line[SG_ID_LEN + 1];
  FILE *f = fdopen(fds[0], "r");
  while (n < 400 && fread(line, 1, sizeof line, f) == sizeof line) {
    memcpy(ids[n], line, SG_ID_LEN);
    ids[n][SG_ID_LEN] = '\0';
    n++;
  }
  fclose(f);
  int wst = 0;
  assert_int_equal(waitpid(pid, &wst, 0), pid);
  assert_true(WIFEXITED(wst));
  assert_int_equal(WEXITSTATUS(wst), 0);
  assert_int_equal(n, 300);

  /* Every acknowledged message is there, whole; whatever else was in flight
   * is there whole or not at all. */
  open_store(c);
  for (size_t i = 0; i < n; i++) {
    msg_got_t mg;
    get_wait(c, ids[i], 1, &mg);
    if (mg.status != 0)
      fail_msg("acknowledged message %s lost", ids[i]);
    assert_int_equal(mg.n_parts, 2);
  }
  long long msgs = q1(c, "SELECT count(*) FROM messages");
  assert_true(msgs >= 300 && msgs % 10 == 0);
  assert_int_equal(q1(c, "SELECT count(*) FROM parts"), 2 * msgs);
  assert_int_equal(q1(c, "SELECT count(*) FROM events"),
                   pg_server() ? msgs : 0);
}

static void write_file(const char *path, const void *buf, size_t len, off_t off,
                       bool truncate_at_end) {
  int fd = open(path, O_WRONLY | O_CREAT, 0600);
  assert_true(fd >= 0);
  assert_int_equal(pwrite(fd, buf, len, off), (ssize_t)len);
  if (truncate_at_end)
    assert_int_equal(ftruncate(fd, off + (off_t)len), 0);
  close(fd);
}

static void corrupt_files_refused(void **state) {
  ctx_t *c = *state;
  sg_store_config_t cfg = test_config(c);

  /* Not a database at all. */
  static const char junk[] = "this is a text file, not a database, no....";
  write_file(c->path, junk, sizeof junk, 0, true);
  assert_int_equal(open_with(c, &cfg), SG_EIO);
  assert_non_null(strstr(c->err, "is not an SQLite database"));
  assert_null(c->st);
  remove_db_files(c);

  /* A database with some history, then damaged in the middle. */
  open_store(c);
  for (int b = 0; b < 4; b++) {
    tmsg_t m[50];
    for (int i = 0; i < 50; i++)
      tmsg_init(&m[i], "+14155550100", 3, "smsc-a");
    assert_int_equal(submit_wait(c, m, 50, NULL, NULL), 0);
  }
  close_store(c);
  long long pages = q1(c, "PRAGMA page_count");
  assert_true(pages > 8);
  static uint8_t garbage[4096];
  for (size_t i = 0; i < sizeof garbage; i++)
    garbage[i] = (uint8_t)(i * 7 + 13);
  write_file(c->path, garbage, sizeof garbage, 4096 * (pages / 2), false);
  assert_int_equal(open_with(c, &cfg), SG_EIO);
  assert_non_null(strstr(c->err, "corrupt"));
  assert_non_null(strstr(c->err, c->path));
  assert_null(c->st);

  /* Truncated: the second half of the file is gone. */
  remove_db_files(c);
  open_store(c);
  for (int b = 0; b < 4; b++) {
    tmsg_t m[50];
    for (int i = 0; i < 50; i++)
      tmsg_init(&m[i], "+14155550100", 3, "smsc-a");
    assert_int_equal(submit_wait(c, m, 50, NULL, NULL), 0);
  }
  close_store(c);
  pages = q1(c, "PRAGMA page_count");
  assert_int_equal(truncate(c->path, 4096 * (pages / 2)), 0);
  assert_int_equal(open_with(c, &cfg), SG_EIO);
  assert_non_null(strstr(c->err, "corrupt or truncated"));
}

int main(void) {
  if (pg_server() != NULL) {
    const struct CMUnitTest pg_tests[] = {
        cmocka_unit_test(status_names_and_derive),
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
        T(pg_migrations_and_lock),
        T(pg_reconnects),
        T(submit_commits_before_callback),
        T(submit_refuses_bad_input_at_once),
        T(submit_survives_allocation_failures),
        T(idempotency_keys),
        T(claim_results_receipts),
        T(worst_part_failure_wins),
        T(scheduled_and_expired),
        T(leases_and_maintenance),
        T(cancel_messages),
        T(cursor_pagination),
        T(back_pressure),
        T(failure_inside_a_group),
        T(reopen_and_recover),
        T(kill_after_ack),
#undef T
    };
    printf("PostgreSQL at %s; SQLite's own tests not run here: "
           "migrations_fresh_and_idempotent, bad_urls, "
           "injected_write_failure, log_is_checkpointed, "
           "log_of_small_pages_is_checkpointed, "
           "page_size_of_new_and_old_databases, "
           "corrupt_files_refused\n",
           pg_server());
    return cmocka_run_group_tests(pg_tests, NULL, NULL);
  }
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(status_names_and_derive),
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
      T(migrations_fresh_and_idempotent),
      T(bad_urls),
      T(submit_commits_before_callback),
      T(submit_refuses_bad_input_at_once),
      T(submit_survives_allocation_failures),
      T(idempotency_keys),
      T(claim_results_receipts),
      T(worst_part_failure_wins),
      T(scheduled_and_expired),
      T(leases_and_maintenance),
      T(cancel_messages),
      T(cursor_pagination),
      T(injected_write_failure),
      T(back_pressure),
      T(failure_inside_a_group),
      T(reopen_and_recover),
      T(log_is_checkpointed),
      T(log_of_small_pages_is_checkpointed),
      T(threads_are_named),
      T(page_size_of_new_and_old_databases),
      T(kill_after_ack),
      T(corrupt_files_refused),
#undef T
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
