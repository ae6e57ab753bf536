/* bench_campaigns - how fast a campaign of N recipients starts and how fast
 * its list is expanded into recipients.
 *
 * Seeds a fresh SQLite store under /tmp with n contacts in one list (one in
 * 50 opted out), directly with SQLite (not measured), then runs, as the
 * engine's campaign runner does, through the store's writer
 * (synchronous=FULL):
 *   1. CREATE and START of a campaign to the list, then the first EXPAND
 *      chunk (5,000 members) and the first PENDING page (1,000): the time
 *      to start, after which the first messages can be submitted;
 *   2. the EXPAND chunks, one in flight, until the list is done: recipients
 *      per second, and the largest resident set seen (the list is never
 *      held in memory).
 * Timings are printed, never asserted: the machine is shared.
 *
 * usage: bench_campaigns [-n recipients]
 */
#include <sqlite3.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "core/error.h"
#include "core/id.h"
#include "store/store.h"

typedef struct run {
  uv_loop_t *loop;
  sg_store_t *st;
  int calls, status;
  size_t changed, n_rcpts;
  bool expanded;
  uint64_t recipients, optout;
} run_t;

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static long rss_kb(void) {
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  return ru.ru_maxrss;
}

static void res_cb(sg_store_t *st, int status, const sg_store_campres_t *res,
                   void *data) {
  (void)st;
  run_t *r = data;
  r->calls++;
  r->status = status;
  if (res == NULL)
    return;
  r->changed = res->changed;
  r->expanded = res->expanded;
  r->n_rcpts = res->n_rcpts;
  if (res->n_campaigns > 0) {
    r->recipients = res->campaigns[0].recipients;
    r->optout = res->campaigns[0].optout;
  }
}

static int op(run_t *r, sg_store_campop_t *o) {
  int want = r->calls + 1;
  int rc = sg_store_campaigns(r->st, o, res_cb, r);
  if (rc != 0)
    return rc;
  while (r->calls < want)
    uv_run(r->loop, UV_RUN_ONCE);
  return r->status;
}

static int seed(const char *path, size_t n) {
  sqlite3 *db;
  if (sqlite3_open(path, &db) != SQLITE_OK)
    return -1;
  sqlite3_exec(db, "BEGIN", NULL, NULL, NULL);
  sqlite3_exec(db,
               "INSERT INTO contact_lists (id, account_id, name, created_ms, "
               "updated_ms) VALUES (1, 1, 'all', 0, 0)",
               NULL, NULL, NULL);
  sqlite3_stmt *c, *m, *o;
  sqlite3_prepare_v2(db,
                     "INSERT INTO contacts (id, account_id, number, "
                     "created_ms, updated_ms) VALUES (?1, 1, ?2, 0, 0)",
                     -1, &c, NULL);
  sqlite3_prepare_v2(db,
                     "INSERT INTO list_members (list_id, contact_id, "
                     "added_ms) VALUES (1, ?1, 0)",
                     -1, &m, NULL);
  sqlite3_prepare_v2(db,
                     "INSERT INTO optouts (account_id, number, source, "
                     "created_ms) VALUES (1, ?1, 'api', 0)",
                     -1, &o, NULL);
  int rc = 0;
  for (size_t i = 1; rc == 0 && i <= n; i++) {
    char num[24];
    snprintf(num, sizeof num, "+4479%08zu", i);
    sqlite3_bind_int64(c, 1, (int64_t)i);
    sqlite3_bind_text(c, 2, num, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(m, 1, (int64_t)i);
    rc = sqlite3_step(c) == SQLITE_DONE && sqlite3_step(m) == SQLITE_DONE ? 0
                                                                          : -1;
    if (rc == 0 && i % 50 == 0) {
      sqlite3_bind_text(o, 1, num, -1, SQLITE_TRANSIENT);
      rc = sqlite3_step(o) == SQLITE_DONE ? 0 : -1;
      sqlite3_reset(o);
    }
    sqlite3_reset(c);
    sqlite3_reset(m);
  }
  sqlite3_finalize(c);
  sqlite3_finalize(m);
  sqlite3_finalize(o);
  sqlite3_exec(db, rc == 0 ? "COMMIT" : "ROLLBACK", NULL, NULL, NULL);
  sqlite3_close(db);
  return rc;
}

static void closed_cb(void *data) {
  *(int *)data = 1;
}

static int measure(run_t *r, size_t n) {
  char id[SG_ID_LEN + 1];
  sg_id_new(id);
  int64_t lists[] = {1};
  sg_store_campop_t o = {.kind = SG_STORE_CAMPAIGN_CREATE, .account_id = 1};
  o.in = (sg_store_campaign_in_t){.id = id,
                                  .name = "bench",
                                  .body = "Hello",
                                  .window_start = -1,
                                  .window_end = -1,
                                  .lists = lists,
                                  .n_lists = 1};
  double t0 = now_s();
  int rc = op(r, &o);
  o = (sg_store_campop_t){.kind = SG_STORE_CAMPAIGN_START, .id = id};
  rc = rc ? rc : op(r, &o);
  o = (sg_store_campop_t){
      .kind = SG_STORE_CAMPAIGN_EXPAND, .id = id, .limit = 5000};
  rc = rc ? rc : op(r, &o);
  size_t taken = r->changed;
  sg_store_campop_t p = {
      .kind = SG_STORE_CAMPAIGN_PENDING, .id = id, .limit = 1000};
  rc = rc ? rc : op(r, &p);
  double start_s = now_s() - t0;
  size_t first_page = r->n_rcpts;
  while (rc == 0 && !r->expanded) {
    rc = op(r, &o);
    taken += r->changed;
  }
  double all_s = now_s() - t0;
  o = (sg_store_campop_t){.kind = SG_STORE_CAMPAIGN_GET, .id = id};
  rc = rc ? rc : op(r, &o);
  printf("recipients             %zu (one in 50 opted out)\n", n);
  printf("time to start          %10.3f s  (create, start, first chunk of "
         "5000, first page of %zu pending)\n",
         start_s, first_page);
  printf("expansion              %10.0f recipients/s  (%.3f s in all)\n",
         (double)taken / all_s, all_s);
  printf("counted                %llu recipients, %llu opted out\n",
         (unsigned long long)r->recipients, (unsigned long long)r->optout);
  printf("max RSS                %10ld KiB\n", rss_kb());
  return rc != 0 || taken != n || r->recipients != n;
}

int main(int argc, char **argv) {
  size_t n = 100000;
  for (int i = 1; i + 1 < argc; i += 2)
    if (strcmp(argv[i], "-n") == 0)
      n = (size_t)strtoull(argv[i + 1], NULL, 10);
  char dir[] = "/tmp/sg-bench-campaigns-XXXXXX", path[96];
  if (n == 0 || mkdtemp(dir) == NULL)
    return 2;
  snprintf(path, sizeof path, "%s/smsgate.db", dir);
  uv_loop_t loop;
  uv_loop_init(&loop);
  sg_store_config_t cfg;
  sg_store_config_init(&cfg, path);
  run_t r = {.loop = &loop};
  char err[256];
  if (sg_store_open(&loop, &cfg, &r.st, err, sizeof err) != 0) {
    fprintf(stderr, "open: %s\n", err);
    return 1;
  }
  int rc = seed(path, n);
  if (rc == 0)
    rc = measure(&r, n);
  int closed = 0;
  sg_store_close(r.st, closed_cb, &closed);
  while (!closed)
    uv_run(&loop, UV_RUN_ONCE);
  uv_run(&loop, UV_RUN_DEFAULT);
  uv_loop_close(&loop);
  static const char *const suffix[] = {"", "-wal", "-shm"};
  for (size_t i = 0; i < 3; i++) {
    char f[128];
    snprintf(f, sizeof f, "%s%s", path, suffix[i]);
    unlink(f);
  }
  rmdir(dir);
  return rc;
}
