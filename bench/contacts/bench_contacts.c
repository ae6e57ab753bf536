/* bench_contacts - how fast a CSV file of contacts is imported.
 *
 * Makes a file of `n` rows (number, name, two custom fields; one row in
 * 100 repeats an earlier number) in memory and runs, in the same process:
 *   1. the CSV mapping alone (core/contact_csv.h), fed in 16 KiB chunks as
 *      an HTTP body arrives;
 *   2. the whole import path of the engine without HTTP: mapping, each
 *      number normalised (core/phone.h, region GB), rows written through the
 *      SQLite store's writer in batches of 2,000 with two in flight
 *      (synchronous=FULL), in a fresh directory under /tmp.
 * It prints rows/s of both, their ratio, and the store's commits. Timings
 * are printed, never asserted: the machine is shared.
 *
 * usage: bench_contacts [-n rows]
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/alloc.h"
#include "core/contact_csv.h"
#include "core/error.h"
#include "core/phone.h"
#include "store/store.h"

#define CHUNK 16384
#define BATCH 2000

typedef struct run {
  uv_loop_t *loop;
  sg_store_t *st;
  sg_phone_ctx_t *phone;
  sg_store_contact_in_t rows[BATCH];
  char numbers[BATCH][SG_STORE_NUMBER_MAX];
  char names[BATCH][32];
  char fields[BATCH][96];
  size_t n, in_flight, imported, duplicates, invalid, mapped;
  int failed;
} run_t;

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static char *make_csv(size_t n, size_t *len) {
  size_t cap = 64 + n * 80;
  char *s = malloc(cap);
  size_t k = (size_t)snprintf(s, cap, "number,name,city,plan\n");
  for (size_t i = 0; i < n; i++) {
    size_t num = i % 100 == 99 ? i - 50 : i; /* 1% repeats */
    k +=
        (size_t)snprintf(s + k, cap - k, "07911 %06zu,Person %zu,City %zu,%s\n",
                         100000 + num, i, i % 50, i % 3 ? "basic" : "gold");
  }
  *len = k;
  return s;
}

static int count_cb(void *data, const sg_ccsv_row_t *row) {
  run_t *r = data;
  r->mapped += row->reason == NULL;
  return 0;
}

static void batch_cb(sg_store_t *st, int status, const sg_store_cres_t *res,
                     void *data) {
  (void)st;
  run_t *r = data;
  r->in_flight--;
  if (status != 0)
    r->failed = status;
  else {
    r->imported += res->imported;
    r->duplicates += res->duplicates;
  }
}

static void flush(run_t *r) {
  while (r->in_flight >= 2)
    uv_run(r->loop, UV_RUN_ONCE);
  sg_store_cop_t op = {.kind = SG_STORE_CONTACT_IMPORT,
                       .account_id = 1,
                       .rows = r->rows,
                       .n_rows = r->n};
  if (r->n > 0 && sg_store_contacts(r->st, &op, batch_cb, r) == 0)
    r->in_flight++;
  r->n = 0;
}

static int row_cb(void *data, const sg_ccsv_row_t *row) {
  run_t *r = data;
  sg_phone_t ph;
  if (row->reason != NULL ||
      sg_phone_normalize(r->phone, row->number, strlen(row->number), "GB", &ph,
                         NULL) != 0) {
    r->invalid++;
    return 0;
  }
  size_t i = r->n++;
  snprintf(r->numbers[i], sizeof r->numbers[i], "%s", ph.e164);
  snprintf(r->names[i], sizeof r->names[i], "%s", row->name ? row->name : "");
  snprintf(r->fields[i], sizeof r->fields[i], "%s", row->fields);
  r->rows[i] =
      (sg_store_contact_in_t){r->numbers[i], r->names[i], r->fields[i]};
  if (r->n == BATCH)
    flush(r);
  return 0;
}

static int feed(sg_ccsv_t *p, const char *csv, size_t len) {
  int rc = 0;
  for (size_t off = 0; rc == 0 && off < len; off += CHUNK)
    rc = sg_ccsv_feed(p, (const uint8_t *)csv + off,
                      len - off < CHUNK ? len - off : CHUNK);
  return rc == 0 ? sg_ccsv_finish(p) : rc;
}

static void closed_cb(void *data) {
  *(int *)data = 1;
}

int main(int argc, char **argv) {
  size_t n = 100000;
  for (int i = 1; i + 1 < argc; i += 2)
    if (strcmp(argv[i], "-n") == 0)
      n = strtoul(argv[i + 1], NULL, 10);
  size_t len;
  char *csv = make_csv(n, &len);
  static run_t r;
  sg_ccsv_t *p;

  double t0 = now_s();
  sg_ccsv_new(count_cb, &r, &p);
  int rc = feed(p, csv, len);
  sg_ccsv_free(p);
  double map_s = now_s() - t0;

  char dir[] = "/tmp/sg-bench-contacts-XXXXXX", path[96];
  if (rc != 0 || mkdtemp(dir) == NULL)
    return 1;
  snprintf(path, sizeof path, "%s/smsgate.db", dir);
  uv_loop_t loop;
  uv_loop_init(&loop);
  sg_store_config_t cfg;
  sg_store_config_init(&cfg, path);
  sg_phone_db_t *db;
  char err[256];
  if (sg_phone_db_new(&db) != 0 ||
      sg_store_open(&loop, &cfg, &r.st, err, sizeof err) != 0)
    return 1;
  r.loop = &loop;
  r.phone = sg_phone_ctx_new(db);

  t0 = now_s();
  sg_ccsv_new(row_cb, &r, &p);
  rc = feed(p, csv, len);
  flush(&r);
  while (r.in_flight > 0)
    uv_run(&loop, UV_RUN_ONCE);
  double imp_s = now_s() - t0;
  sg_ccsv_free(p);

  sg_store_stats_t stats;
  sg_store_get_stats(r.st, &stats);
  printf("rows                 %zu (%zu bytes of CSV)\n", n, len);
  printf("csv mapping          %10.0f rows/s  (%.3f s)\n", r.mapped / map_s,
         map_s);
  printf("import to the store  %10.0f rows/s  (%.3f s, %llu commits)\n",
         (double)n / imp_s, imp_s, (unsigned long long)stats.commits);
  printf("imported %zu, duplicates %zu, invalid %zu; mapping/import %.1fx\n",
         r.imported, r.duplicates, r.invalid, imp_s / map_s);
  int closed = 0;
  sg_store_close(r.st, closed_cb, &closed);
  while (!closed)
    uv_run(&loop, UV_RUN_ONCE);
  uv_run(&loop, UV_RUN_DEFAULT);
  uv_loop_close(&loop);
  sg_phone_ctx_free(r.phone);
  sg_phone_db_free(db);
  free(csv);
  static const char *const suffix[] = {"", "-wal", "-shm"};
  for (size_t i = 0; i < 3; i++) {
    char f[128];
    snprintf(f, sizeof f, "%s%s", path, suffix[i]);
    unlink(f);
  }
  rmdir(dir);
  return rc != 0 || r.failed != 0 || r.imported + r.duplicates != n;
}
