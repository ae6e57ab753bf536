/* bench_store - how fast the SQLite store makes messages durable.
 *
 * Clients are simulated on one libuv loop: `window` submits are kept in
 * flight (each new one is made in the callback of a finished one, as a
 * server answering many connections would), each of `per_req` messages of
 * one 160-septet part. For synchronous=FULL and NORMAL it reports messages
 * per second, the groups the writer formed (writes per commit), and the
 * latency from submit to the durable callback (p50, p99) - what a client
 * waits for its acknowledgement. A run with window 1 shows the cost of one
 * commit alone. Every database is made in a fresh directory under /tmp and
 * removed afterwards.
 *
 * A last run takes messages through their whole life in the store, as the
 * engine does: submit (with a callback URL), claim, the SENT result, the
 * delivery receipt, the claim of the webhooks they queued and their finish,
 * in batches of `window`. It reports the CPU used per message: the whole
 * process's (this loop is cheap) and the writer thread's inside its
 * transactions.
 *
 * With -u URL (postgres://...) the whole-life run is made on that
 * PostgreSQL database too, in the same run; -p PID, the server's postmaster,
 * adds the CPU of its backends (reaped children, /proc/PID/stat) to the
 * cost per message, so that the two backends compare as a whole.
 *
 * With -t the whole-life run is made again on databases without the
 * triggers that keep counters on every message write (a campaign's progress,
 * migration 0015; the traffic per minute, migration 0016), so that their
 * cost shows as the difference in the same run.
 *
 * With -c other a campaign exists (inserted into the SQLite database by a
 * connection of its own once the store is open, as another process would)
 * during the whole-life runs, and the messages are not its; with -c own
 * every message's batch is that campaign, and its counters are checked at
 * the end (every message delivered).
 *
 * usage: bench_store [-n messages] [-w window] [-k] (keep the files)
 *                    [-l] (only the whole-life run) [-u URL [-p PID]] [-t]
 *                    [-c other|own]
 */
#include <stdint.h>
#include <stdio.h>
#include <sys/resource.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include "core/error.h"
#include "core/id.h"
#include "store/store.h"

typedef struct run {
  uv_loop_t *loop;
  sg_store_t *st;
  unsigned per_req;
  unsigned window;
  unsigned total_reqs;
  unsigned started;
  unsigned done;
  unsigned busy;
  uint64_t *t_start; /* per request, ns */
  uint64_t *lat;     /* per request, ns */
  int failed;
  const char *callback_url; /* of every message, or NULL */
  const char *batch_id;     /* of every submit, or NULL: a new one each */
} run_t;

typedef struct req {
  run_t *run;
  unsigned idx;
} req_t;

static uint8_t ud[160];

static void submit_one(run_t *r);

static void done_cb(sg_store_t *st, int status,
                    const sg_store_submit_res_t *res, void *data) {
  (void)st;
  (void)res;
  req_t *q = data;
  run_t *r = q->run;
  if (status != 0)
    r->failed = status;
  r->lat[q->idx] = uv_hrtime() - r->t_start[q->idx];
  r->done++;
  free(q);
  if (r->started < r->total_reqs)
    submit_one(r);
}

static void submit_one(run_t *r) {
  sg_store_part_in_t part = {.connector = "smsc-a",
                             .encoding = SG_ENC_GSM7,
                             .ud = ud,
                             .ud_len = sizeof ud};
  sg_store_msg_in_t msgs[100];
  for (unsigned i = 0; i < r->per_req; i++) {
    sg_store_msg_in_t *m = &msgs[i];
    memset(m, 0, sizeof *m);
    sg_id_new(m->id);
    m->sender = "SMSGATE";
    m->recipient = "+14155550100";
    m->encoding = SG_ENC_GSM7;
    m->body = ud;
    m->body_len = sizeof ud;
    m->client_ref = "bench";
    m->callback_url = r->callback_url;
    m->parts = &part;
    m->n_parts = 1;
  }
  sg_store_batch_t b = {.account_id = 1, .msgs = msgs, .n_msgs = r->per_req};
  if (r->batch_id != NULL)
    memcpy(b.batch_id, r->batch_id, sizeof b.batch_id);
  else
    sg_id_new(b.batch_id);
  req_t *q = malloc(sizeof *q);
  q->run = r;
  q->idx = r->started;
  r->t_start[q->idx] = uv_hrtime();
  int rc = sg_store_submit(r->st, &b, done_cb, q);
  if (rc == SG_EBUSY) { /* never with these windows; counted if it were */
    r->busy++;
    free(q);
    return;
  }
  if (rc != 0) {
    fprintf(stderr, "submit: %s\n", sg_strerror(rc));
    exit(1);
  }
  r->started++;
}

static int cmp_u64(const void *a, const void *b) {
  uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
  return x < y ? -1 : x > y;
}

static void on_closed(void *data) {
  *(int *)data = 1;
}

typedef struct result {
  double msgs_per_s;
  double avg_group;
  unsigned max_group;
  uint64_t commits;
  double p50_ms, p99_ms, max_ms;
  double avg_commit_ms;
} result_t;

static void one_run(const char *dir, bool normal, unsigned per_req,
                    unsigned window, unsigned n_msgs, result_t *out) {
  char path[256];
  snprintf(path, sizeof path, "%s/bench-%s-%u-%u.db", dir,
           normal ? "normal" : "full", per_req, window);
  uv_loop_t loop;
  uv_loop_init(&loop);
  sg_store_config_t cfg;
  sg_store_config_init(&cfg, path);
  cfg.sync_normal = normal;
  char err[256];
  run_t r = {.loop = &loop, .per_req = per_req, .window = window};
  if (sg_store_open(&loop, &cfg, &r.st, err, sizeof err) != 0) {
    fprintf(stderr, "%s\n", err);
    exit(1);
  }
  r.total_reqs = (n_msgs + per_req - 1) / per_req;
  r.t_start = calloc(r.total_reqs, sizeof *r.t_start);
  r.lat = calloc(r.total_reqs, sizeof *r.lat);
  uint64_t t0 = uv_hrtime();
  while (r.started < window && r.started < r.total_reqs)
    submit_one(&r);
  while (r.done < r.total_reqs)
    uv_run(&loop, UV_RUN_ONCE);
  double secs = (double)(uv_hrtime() - t0) / 1e9;
  if (r.failed) {
    fprintf(stderr, "a write failed: %s\n", sg_strerror(r.failed));
    exit(1);
  }
  sg_store_stats_t s;
  sg_store_get_stats(r.st, &s);
  qsort(r.lat, r.total_reqs, sizeof *r.lat, cmp_u64);
  out->msgs_per_s = (double)r.total_reqs * per_req / secs;
  out->commits = s.commits;
  out->avg_group = s.commits ? (double)s.writes / (double)s.commits : 0;
  out->max_group = s.max_group;
  out->p50_ms = (double)r.lat[r.total_reqs / 2] / 1e6;
  out->p99_ms = (double)r.lat[(size_t)(r.total_reqs * 0.99)] / 1e6;
  out->max_ms = (double)r.lat[r.total_reqs - 1] / 1e6;
  out->avg_commit_ms =
      s.commits ? (double)s.commit_us_total / (double)s.commits / 1e3 : 0;
  int closed = 0;
  sg_store_close(r.st, on_closed, &closed);
  while (!closed)
    uv_run(&loop, UV_RUN_ONCE);
  uv_loop_close(&loop);
  free(r.t_start);
  free(r.lat);
}

/* ---- the whole life of a message ---------------------------------------- */

typedef struct life {
  run_t run; /* the submits */
  unsigned claimed;
  unsigned rounds;
  sg_store_result_in_t res[1000];
  sg_store_receipt_in_t rcpt[1000];
  sg_store_webhook_result_t wh[1000];
  char ids[1000][24];
  size_t n;
  bool done;
} life_t;

static void life_claim(life_t *l);

static void life_finished_cb(sg_store_t *st, int status, void *data) {
  (void)st;
  life_t *l = data;
  if (status != 0)
    l->run.failed = status;
  life_claim(l);
}

static void life_hooks_cb(sg_store_t *st, int status,
                          const sg_store_webhook_t *w, size_t n, void *data) {
  life_t *l = data;
  if (status != 0 || n == 0) {
    l->run.failed = status ? status : SG_ENOENT;
    l->done = true;
    return;
  }
  for (size_t i = 0; i < n; i++)
    l->wh[i] = (sg_store_webhook_result_t){.id = w[i].id, .done = true};
  if (sg_store_webhook_finish(st, l->wh, n, life_finished_cb, l) != 0)
    l->done = true;
}

static void life_rcpt_cb(sg_store_t *st, int status,
                         const sg_store_item_res_t *items, size_t n,
                         void *data) {
  (void)items;
  life_t *l = data;
  if (status != 0 || n != l->n)
    l->run.failed = status ? status : SG_ENOENT;
  if (sg_store_webhook_claim(st, 1000, 0, life_hooks_cb, l) != 0)
    l->done = true;
}

static void life_results_cb(sg_store_t *st, int status,
                            const sg_store_item_res_t *items, size_t n,
                            void *data) {
  (void)items;
  life_t *l = data;
  if (status != 0 || n != l->n)
    l->run.failed = status ? status : SG_ENOENT;
  for (size_t i = 0; i < l->n; i++)
    l->rcpt[i] = (sg_store_receipt_in_t){.connector = "smsc-a",
                                         .smsc_id = l->ids[i],
                                         .status = SG_MSG_DELIVERED};
  if (sg_store_record_receipts(st, l->rcpt, l->n, life_rcpt_cb, l) != 0)
    l->done = true;
}

static void life_claim_cb(sg_store_t *st, int status,
                          const sg_store_claim_res_t *res, void *data) {
  life_t *l = data;
  if (status != 0 || res->n_parts == 0) {
    l->run.failed = status;
    l->done = true;
    return;
  }
  l->n = res->n_parts;
  for (size_t i = 0; i < l->n; i++) {
    snprintf(l->ids[i], sizeof l->ids[i], "%llX",
             (unsigned long long)res->parts[i].part_id + 0xABCDEF);
    l->res[i] = (sg_store_result_in_t){.part_id = res->parts[i].part_id,
                                       .attempt = res->parts[i].attempt,
                                       .outcome = SG_STORE_SENT,
                                       .smsc_id = l->ids[i]};
  }
  l->claimed += (unsigned)l->n;
  l->rounds++;
  if (sg_store_record_results(st, l->res, l->n, life_results_cb, l) != 0)
    l->done = true;
}

static void life_claim(life_t *l) {
  if (l->claimed >= l->run.total_reqs) {
    l->done = true;
    return;
  }
  unsigned max = l->run.window > 1000 ? 1000 : l->run.window;
  if (sg_store_claim(l->run.st, "smsc-a", max, 0, life_claim_cb, l) != 0)
    l->done = true;
}

static double cpu_s(void) {
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
         (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

/* CPU seconds of process pid and its reaped children (0 without one). */
static double pid_cpu_s(long pid) {
  if (pid <= 0)
    return 0;
  char path[64], buf[1024];
  snprintf(path, sizeof path, "/proc/%ld/stat", pid);
  FILE *f = fopen(path, "r");
  if (f == NULL)
    return 0;
  size_t len = fread(buf, 1, sizeof buf - 1, f);
  fclose(f);
  buf[len] = '\0';
  const char *p = strrchr(buf, ')'); /* fields after the command name */
  unsigned long long v[4] = {0};
  if (p == NULL || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u "
                                 "%*u %llu %llu %llu %llu",
                          &v[0], &v[1], &v[2], &v[3]) != 4)
    return 0;
  return (double)(v[0] + v[1] + v[2] + v[3]) / (double)sysconf(_SC_CLK_TCK);
}

static long server_pid; /* -p: the PostgreSQL postmaster */

/* -c: none, other (a campaign exists) or own (the messages are its). */
static enum { CAMP_NONE, CAMP_OTHER, CAMP_OWN } campaign;
static char campaign_id[SG_ID_LEN + 1];

/* Runs sql on the SQLite database at path with a connection of its own;
 * the first column of its first row, or -1. */
static long long raw_sql(const char *path, const char *sql) {
  sqlite3 *db = NULL;
  sqlite3_stmt *s = NULL;
  long long v = -1;
  if (sqlite3_open(path, &db) != SQLITE_OK ||
      sqlite3_busy_timeout(db, 10000) != SQLITE_OK ||
      sqlite3_prepare_v2(db, sql, -1, &s, NULL) != SQLITE_OK) {
    fprintf(stderr, "%s: %s\n", path, sqlite3_errmsg(db));
    exit(1);
  }
  int rc = sqlite3_step(s);
  if (rc == SQLITE_ROW)
    v = sqlite3_column_int64(s, 0);
  else if (rc != SQLITE_DONE) {
    fprintf(stderr, "%s: %s\n", path, sqlite3_errmsg(db));
    exit(1);
  }
  sqlite3_finalize(s);
  sqlite3_close(db);
  return v;
}

/* Submits n messages (one per request, `window` in flight), then takes them
 * through claim .. webhook finish in batches of `window`; on the database
 * at url when it is not NULL. */
/* -t: the counter triggers on messages, dropped from a migrated database
 * (before the store opens it for the run). */
static void drop_triggers(const char *path) {
  sqlite3 *db = NULL;
  char *e = NULL;
  if (sqlite3_open(path, &db) != SQLITE_OK ||
      sqlite3_exec(db,
                   "DROP TRIGGER IF EXISTS campaign_msg_insert;"
                   "DROP TRIGGER IF EXISTS campaign_msg_status;"
                   "DROP TRIGGER IF EXISTS traffic_msg_insert;"
                   "DROP TRIGGER IF EXISTS traffic_msg_status;",
                   NULL, NULL, &e) != SQLITE_OK) {
    fprintf(stderr, "%s: %s\n", path, e ? e : sqlite3_errmsg(db));
    exit(1);
  }
  sqlite3_close(db);
}

static void life_migrate(uv_loop_t *loop, sg_store_config_t *cfg) {
  char err[256];
  sg_store_t *st;
  if (sg_store_open(loop, cfg, &st, err, sizeof err) != 0) {
    fprintf(stderr, "%s\n", err);
    exit(1);
  }
  int closed = 0;
  sg_store_close(st, on_closed, &closed);
  while (!closed)
    uv_run(loop, UV_RUN_ONCE);
  drop_triggers(cfg->url);
}

static void life_run(const char *dir, bool normal, unsigned window,
                     unsigned n, const char *url, bool no_triggers) {
  char path[256];
  snprintf(path, sizeof path, "%s/life-%s%s.db", dir, normal ? "normal" : "full",
           no_triggers ? "-t" : "");
  uv_loop_t loop;
  uv_loop_init(&loop);
  sg_store_config_t cfg;
  sg_store_config_init(&cfg, url != NULL ? url : path);
  cfg.sync_normal = normal;
  if (no_triggers)
    life_migrate(&loop, &cfg);
  char err[256];
  static life_t l;
  memset(&l, 0, sizeof l);
  l.run = (run_t){.loop = &loop, .per_req = 1, .window = window,
                  .total_reqs = n, .callback_url = "http://127.0.0.1:9/hook"};
  if (sg_store_open(&loop, &cfg, &l.run.st, err, sizeof err) != 0) {
    fprintf(stderr, "%s\n", err);
    exit(1);
  }
  char sql[512];
  if (campaign != CAMP_NONE && url == NULL) {
    sg_id_new(campaign_id);
    snprintf(sql, sizeof sql,
             "INSERT INTO campaigns (id, account_id, name, status, body, "
             "created_ms, updated_ms) VALUES ('%s', 1, 'bench', 'running', "
             "'x', 0, 0)",
             campaign_id);
    raw_sql(path, sql);
    if (campaign == CAMP_OWN)
      l.run.batch_id = campaign_id;
  }
  l.run.t_start = calloc(n, sizeof *l.run.t_start);
  l.run.lat = calloc(n, sizeof *l.run.lat);
  double c0 = cpu_s(), s0 = pid_cpu_s(url != NULL ? server_pid : 0);
  uint64_t t0 = uv_hrtime();
  while (l.run.started < window && l.run.started < n)
    submit_one(&l.run);
  while (l.run.done < n)
    uv_run(&loop, UV_RUN_ONCE);
  life_claim(&l);
  while (!l.done)
    uv_run(&loop, UV_RUN_ONCE);
  double secs = (double)(uv_hrtime() - t0) / 1e9, cpu = cpu_s() - c0;
  if (l.run.failed || l.claimed != n) {
    fprintf(stderr, "lifecycle: %u of %u through: %s\n", l.claimed, n,
            sg_strerror(l.run.failed));
    exit(1);
  }
  sg_store_stats_t s;
  sg_store_get_stats(l.run.st, &s);
  int closed = 0;
  sg_store_close(l.run.st, on_closed, &closed);
  while (!closed)
    uv_run(&loop, UV_RUN_ONCE);
  if (l.run.batch_id != NULL) {
    snprintf(sql, sizeof sql,
             "SELECT n_delivered FROM campaigns WHERE id = '%s' AND "
             "n_queued = 0 AND n_sent = 0 AND n_failed = 0 AND n_canceled = 0",
             campaign_id);
    long long got = raw_sql(path, sql);
    if (got != (long long)n) {
      fprintf(stderr, "campaign counters: %lld delivered of %u\n", got, n);
      exit(1);
    }
  }
  double server = 0;
  if (url != NULL && server_pid > 0) {
    usleep(300000); /* the backends exit and are reaped */
    server = pid_cpu_s(server_pid) - s0;
  }
  printf("%-7s %9u %10.0f %9llu %9.1f %9.1f %9.1f\n",
         url != NULL        ? "PG"
         : no_triggers      ? (normal ? "NORM -t" : "FULL -t")
         : normal           ? "NORMAL"
                            : "FULL",
         n, n / secs,
         (unsigned long long)s.commits, cpu * 1e6 / n,
         (double)s.writer_cpu_us / n, server * 1e6 / n);
  fflush(stdout);
  uv_loop_close(&loop);
  free(l.run.t_start);
  free(l.run.lat);
}

static void remove_dir(const char *dir) {
  char cmd[300];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
  if (system(cmd) != 0)
    fprintf(stderr, "could not remove %s\n", dir);
}

int main(int argc, char **argv) {
  unsigned n = 20000, window = 256;
  bool keep = false, life_only = false, triggers = false;
  const char *url = NULL;
  int opt;
  while ((opt = getopt(argc, argv, "n:w:klu:p:tc:")) != -1) {
    if (opt == 'n')
      n = (unsigned)strtoul(optarg, NULL, 10);
    else if (opt == 'w')
      window = (unsigned)strtoul(optarg, NULL, 10);
    else if (opt == 'k')
      keep = true;
    else if (opt == 'l')
      life_only = true;
    else if (opt == 'u')
      url = optarg;
    else if (opt == 'p')
      server_pid = strtol(optarg, NULL, 10);
    else if (opt == 't')
      triggers = true;
    else if (opt == 'c' && strcmp(optarg, "other") == 0)
      campaign = CAMP_OTHER;
    else if (opt == 'c' && strcmp(optarg, "own") == 0)
      campaign = CAMP_OWN;
    else if (opt == 'c' && strcmp(optarg, "none") == 0)
      campaign = CAMP_NONE;
    else {
      fprintf(stderr, "usage: bench_store [-n messages] [-w window] [-k] "
                      "[-l] [-u postgres-url [-p postmaster-pid]] [-t] "
                      "[-c none|other|own]\n");
      return 2;
    }
  }
  for (size_t i = 0; i < sizeof ud; i++)
    ud[i] = (uint8_t)('a' + i % 26);
  char dir[] = "/tmp/sg-bench-store-XXXXXX";
  if (mkdtemp(dir) == NULL) {
    perror("mkdtemp");
    return 1;
  }
  printf("bench_store: %u messages of 1 part per run, files in %s\n\n", n, dir);
  printf("%-7s %7s %7s %10s %9s %9s %9s %9s %9s %10s\n", "sync", "msg/req",
         "window", "msg/s", "commits", "group", "p50 ms", "p99 ms", "max ms",
         "commit ms");
  static const struct {
    unsigned per_req, window_div;
  } shapes[] = {{1, 1}, {10, 1}, {1, 0}};
  for (int normal = 0; normal <= 1 && !life_only; normal++)
    for (size_t k = 0; k < sizeof shapes / sizeof shapes[0]; k++) {
      unsigned w = shapes[k].window_div ? window : 1;
      unsigned msgs = shapes[k].window_div ? n : (n / 50 > 100 ? n / 50 : 100);
      result_t res;
      one_run(dir, normal, shapes[k].per_req, w, msgs, &res);
      char group[32];
      snprintf(group, sizeof group, "%.0f/%u", res.avg_group, res.max_group);
      printf("%-7s %7u %7u %10.0f %9llu %9s %9.2f %9.2f %9.2f %10.2f\n",
             normal ? "NORMAL" : "FULL", shapes[k].per_req, w, res.msgs_per_s,
             (unsigned long long)res.commits, group, res.p50_ms, res.p99_ms,
             res.max_ms, res.avg_commit_ms);
      fflush(stdout);
    }
  printf("\ngroup: writes per commit, mean/largest. p50/p99/max: submit to "
         "durable callback. commit ms: mean time of BEGIN..COMMIT.\n");
  printf("\nwhole life (submit, claim, sent, receipt, webhook claim and "
         "finish), batches of %u:\n%-7s %9s %10s %9s %9s %9s %9s\n",
         window, "sync", "messages", "msg/s", "commits", "cpu us", "writer us",
         "server us");
  for (int normal = 0; normal <= 1; normal++) {
    life_run(dir, normal, window, n, NULL, false);
    if (triggers)
      life_run(dir, normal, window, n, NULL, true);
  }
  if (url != NULL)
    life_run(dir, false, window, n, url, false);
  printf("cpu us: CPU of the process per message; writer us: the writer "
         "thread's inside its transactions, per message; server us: the "
         "PostgreSQL server's (with -p). -t: without the counter triggers.\n");
  if (!keep)
    remove_dir(dir);
  return 0;
}
