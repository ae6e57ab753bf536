/* bench_limits - what an account's limits cost.
 *
 * Two runs of the SQLite store in the same process, one after the other,
 * each in a fresh directory under /tmp: `n` one-message batches kept
 * `window` in flight, first plain, then each with a quota count (day and
 * month) and a charge, as a billed account with a quota submits. It prints
 * the store writer's CPU per message (inside its transactions) for both and
 * their ratio: the figures of one run are only comparable with each other.
 * Then the pure checks of core/limits.h per call: a sender against three
 * patterns, a destination list, the longest price prefix.
 *
 * usage: bench_limits [-n messages] [-w window]
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/error.h"
#include "core/id.h"
#include "core/limits.h"
#include "store/store.h"

typedef struct run {
  uv_loop_t *loop;
  sg_store_t *st;
  int64_t account;
  bool limited;
  unsigned n, window, started, done;
  int failed;
} run_t;

static uint8_t ud[160];

static void submit_one(run_t *r);

static void done_cb(sg_store_t *st, int status,
                    const sg_store_submit_res_t *res, void *data) {
  (void)st;
  (void)res;
  run_t *r = data;
  r->done++;
  if (status != 0)
    r->failed = status;
  if (r->started < r->n)
    submit_one(r);
}

static void submit_one(run_t *r) {
  sg_store_part_in_t part = {.connector = "op",
                             .encoding = SG_ENC_GSM7,
                             .ud = ud,
                             .ud_len = sizeof ud,
                             .concat_total = 1};
  sg_store_msg_in_t m = {.sender = "Shop",
                         .recipient = "+79001234567",
                         .encoding = SG_ENC_GSM7,
                         .body = ud,
                         .body_len = sizeof ud,
                         .parts = &part,
                         .n_parts = 1};
  sg_store_batch_t b = {.account_id = r->account, .msgs = &m, .n_msgs = 1};
  sg_id_new(m.id);
  sg_id_new(b.batch_id);
  if (r->limited) {
    memcpy(b.usage_day, "2026-11-26", 11);
    memcpy(b.usage_month, "2026-11", 8);
    b.usage_parts = 1;
    b.charge_micro = 25000;
  }
  r->started++;
  if (sg_store_submit(r->st, &b, done_cb, r) != 0) {
    r->failed = SG_EIO;
    r->done++;
  }
}

static void account_cb(sg_store_t *st, int status, int64_t id, void *data) {
  (void)st;
  *(int64_t *)data = status == 0 ? id : -1;
}

static void credit_cb(sg_store_t *st, int status, int64_t bal, void *data) {
  (void)st;
  (void)bal;
  *(int *)data = status == 0 ? 1 : -1;
}

static void closed_cb(void *data) {
  *(int *)data = 1;
}

/* One run; returns the writer's CPU per message in microseconds, or -1. */
static double one_run(bool limited, unsigned n, unsigned window) {
  char dir[] = "/tmp/bench-limits-XXXXXX", path[64];
  if (mkdtemp(dir) == NULL)
    return -1;
  snprintf(path, sizeof path, "%s/smsgate.db", dir);
  uv_loop_t loop;
  uv_loop_init(&loop);
  sg_store_config_t cfg;
  sg_store_config_init(&cfg, path);
  cfg.sync_normal = true;
  run_t r = {.loop = &loop, .limited = limited, .n = n, .window = window};
  char err[256];
  if (sg_store_open(&loop, &cfg, &r.st, err, sizeof err) != 0) {
    fprintf(stderr, "%s\n", err);
    return -1;
  }
  sg_store_account_t a = {.name = "shop"};
  int64_t acct = 0;
  int credited = 0;
  sg_store_account_create(r.st, &a, account_cb, &acct);
  while (acct == 0)
    uv_run(&loop, UV_RUN_ONCE);
  r.account = acct;
  sg_store_balance_credit(r.st, acct, (int64_t)n * 25000, credit_cb, &credited);
  while (credited == 0)
    uv_run(&loop, UV_RUN_ONCE);
  sg_store_stats_t s0, s1;
  sg_store_get_stats(r.st, &s0);
  for (unsigned i = 0; i < window && r.started < n; i++)
    submit_one(&r);
  while (r.done < n)
    uv_run(&loop, UV_RUN_ONCE);
  sg_store_get_stats(r.st, &s1);
  int closed = 0;
  sg_store_close(r.st, closed_cb, &closed);
  while (!closed)
    uv_run(&loop, UV_RUN_ONCE);
  uv_loop_close(&loop);
  static const char *const suffix[] = {"", "-wal", "-shm"};
  for (size_t i = 0; i < 3; i++) {
    char p[80];
    snprintf(p, sizeof p, "%s%s", path, suffix[i]);
    unlink(p);
  }
  rmdir(dir);
  if (r.failed != 0) {
    fprintf(stderr, "a submit failed: %s\n", sg_strerror(r.failed));
    return -1;
  }
  return (double)(s1.writer_cpu_us - s0.writer_cpu_us) / n;
}

static double now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static void pure_checks(void) {
  const char *senders[] = {"Info", "Shop*", "+7900*"};
  const char *dest[] = {"DE", "AT", "+7"};
  const sg_config_price_t prices[] = {
      {"+7", 25000}, {"+49", 70000}, {"+4915", 50000}, {"+", 100000}};
  const unsigned iters = 1000000;
  volatile unsigned hits = 0;
  int64_t price = 0;
  double t0 = now_ns();
  for (unsigned i = 0; i < iters; i++)
    hits += sg_limits_sender_allowed(senders, 3, "+79001234567");
  double t1 = now_ns();
  for (unsigned i = 0; i < iters; i++)
    hits += sg_limits_destination_allowed(dest, 3, "+79001234567", "RU");
  double t2 = now_ns();
  for (unsigned i = 0; i < iters; i++)
    hits += sg_limits_price_find(prices, 4, "+4915112345678", &price) == 0;
  double t3 = now_ns();
  printf("sender vs 3 patterns   %6.1f ns\n", (t1 - t0) / iters);
  printf("destination vs 3       %6.1f ns\n", (t2 - t1) / iters);
  printf("price, 4 prefixes      %6.1f ns\n", (t3 - t2) / iters);
  (void)hits;
}

int main(int argc, char **argv) {
  unsigned n = 20000, window = 64;
  int opt;
  while ((opt = getopt(argc, argv, "n:w:")) != -1) {
    if (opt == 'n')
      n = (unsigned)strtoul(optarg, NULL, 10);
    else if (opt == 'w')
      window = (unsigned)strtoul(optarg, NULL, 10);
    else {
      fprintf(stderr, "usage: bench_limits [-n messages] [-w window]\n");
      return 2;
    }
  }
  if (n == 0 || window == 0)
    return 2;
  memset(ud, 'a', sizeof ud);
  double plain = one_run(false, n, window);
  double limited = one_run(true, n, window);
  if (plain < 0 || limited < 0)
    return 1;
  printf("store writer CPU per message, %u messages, window %u:\n", n, window);
  printf("  plain                %6.1f us\n", plain);
  printf("  quota + charge       %6.1f us  (x%.2f)\n", limited,
         plain > 0 ? limited / plain : 0);
  pure_checks();
  return 0;
}
