/* bench_phone.c - how fast recipients are validated and normalised: the
 * PCRE2 JIT fast path (sg_phone_normalize) against libphonenumber itself on
 * the same list of numbers, one core.
 *
 * The list is built from libphonenumber's metadata: for every region and
 * non-geographic entity, every number type's example number written
 * internationally ("+44 ..."), nationally as libphonenumber formats it for
 * that region ("020 7946 0958", with the region as default), and with its
 * last digit dropped (mostly invalid). The cases:
 *   fast path          sg_phone_normalize: E.164, region and type
 *   lpn valid          PhoneNumberUtil::Parse + IsValidNumber only
 *   lpn full           Parse + IsValidNumber + Format(E164) + GetNumberType
 *                      + GetRegionCodeForNumber (what the fast path returns)
 * Each case runs `--runs` times (default 5); the fast path goes over the list
 * `--passes` times per run (default 50), libphonenumber once. The table shows
 * ns per number (median, min, max) and the ratios of the medians; --json PATH
 * writes the same numbers. Before timing, every number is checked to get
 * the same verdict from both, and the program fails if one does not.
 *
 *   bench_phone [--passes N] [--runs R] [--json PATH]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/alloc.h"
#include "core/phone.h"
#include "core/phone_lpn.h"

#define MAX_RUNS 31
#define MAX_NUMBERS 8192

typedef struct item {
  char text[48];
  const char *region; /* default region, or NULL */
} item_t;

typedef struct list {
  item_t *v;
  size_t n;
} list_t;

static volatile unsigned sink; /* keeps results observable */

static double now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

/* ---- The list ------------------------------------------------------------ */

static void add(list_t *l, const char *text, const char *region) {
  if (l->n >= MAX_NUMBERS || strlen(text) >= sizeof l->v[0].text)
    return;
  strcpy(l->v[l->n].text, text);
  l->v[l->n].region = region;
  l->n++;
}

static void add_region(list_t *l, const sg_lpn_region_t *r) {
  int geo = strcmp(r->id, "001") != 0;
  for (int t = 0; t < SG_PHONE_TYPE_COUNT; t++) {
    const char *ex = r->desc[t].example;
    char intl[48], nat[48], cut[48];
    if (ex == NULL || strlen(ex) > 20)
      continue;
    snprintf(intl, sizeof intl, "+%d %s", r->country_code, ex);
    add(l, intl, NULL);
    snprintf(cut, sizeof cut, "+%d %.*s", r->country_code, (int)strlen(ex) - 1,
             ex);
    add(l, cut, NULL);
    snprintf(intl, sizeof intl, "+%d%s", r->country_code, ex);
    if (geo && sg_lpn_format_national(intl, nat, sizeof nat) > 0)
      add(l, nat, r->id);
  }
}

static int build_list(list_t *l, const sg_lpn_metadata_t *md) {
  l->v = sg_calloc(MAX_NUMBERS, sizeof *l->v);
  l->n = 0;
  if (l->v == NULL)
    return -1;
  for (size_t i = 0; i < md->n; i++)
    add_region(l, &md->regions[i]);
  return 0;
}

/* Every number must get the same verdict from both; returns the number of
 * valid ones, or -1 after printing the first disagreement. */
static long check_list(sg_phone_ctx_t *ctx, const list_t *l) {
  long valid = 0;
  for (size_t i = 0; i < l->n; i++) {
    const item_t *it = &l->v[i];
    sg_phone_t a, b;
    int fast = sg_phone_normalize(ctx, it->text, strlen(it->text), it->region,
                                  &a, NULL) == 0;
    int lpn = sg_lpn_parse_valid(it->text, it->region, &b) == 1;
    if (fast != lpn || (fast && strcmp(a.e164, b.e164) != 0)) {
      fprintf(stderr, "disagreement on '%s' (%s): fast %s, lpn %s\n", it->text,
              it->region ? it->region : "-", a.e164, b.e164);
      return -1;
    }
    valid += fast;
  }
  return valid;
}

/* ---- The cases: each returns ns per number for one run --------------------
 */

static double run_fast(sg_phone_ctx_t *ctx, const list_t *l, int passes) {
  sg_phone_t out;
  double t0 = now_ns();
  for (int p = 0; p < passes; p++)
    for (size_t i = 0; i < l->n; i++) {
      const item_t *it = &l->v[i];
      if (sg_phone_normalize(ctx, it->text, strlen(it->text), it->region, &out,
                             NULL) == 0)
        sink += (unsigned)out.e164[1];
    }
  return (now_ns() - t0) / ((double)passes * (double)l->n);
}

static double run_lpn_valid(const list_t *l) {
  double t0 = now_ns();
  for (size_t i = 0; i < l->n; i++)
    sink += (unsigned)sg_lpn_is_valid(l->v[i].text, l->v[i].region);
  return (now_ns() - t0) / (double)l->n;
}

static double run_lpn_full(const list_t *l) {
  sg_phone_t out;
  double t0 = now_ns();
  for (size_t i = 0; i < l->n; i++)
    if (sg_lpn_parse_valid(l->v[i].text, l->v[i].region, &out) == 1)
      sink += (unsigned)out.e164[1];
  return (now_ns() - t0) / (double)l->n;
}

/* ---- Output ---------------------------------------------------------------
 */

typedef struct result {
  const char *name;
  double median, min, max;
} result_t;

static void summarise(result_t *r, double *v, int runs) {
  qsort(v, (size_t)runs, sizeof v[0], cmp_double);
  r->min = v[0];
  r->max = v[runs - 1];
  r->median = v[runs / 2];
}

static int write_json(const char *path, const result_t *r, int n, size_t count,
                      long valid, int passes, int runs) {
  FILE *f = fopen(path, "w");
  if (f == NULL) {
    perror(path);
    return -1;
  }
  fprintf(f,
          "{\n  \"benchmark\": \"phone\",\n  \"numbers\": %zu,\n"
          "  \"valid\": %ld,\n  \"passes\": %d,\n  \"runs\": %d,\n"
          "  \"ratio_lpn_valid_to_fast\": %.1f,\n"
          "  \"ratio_lpn_full_to_fast\": %.1f,\n  \"results\": [\n",
          count, valid, passes, runs, r[1].median / r[0].median,
          r[2].median / r[0].median);
  for (int i = 0; i < n; i++)
    fprintf(f,
            "    {\"name\": \"%s\", \"unit\": \"ns/number\", \"median\": %.1f, "
            "\"min\": %.1f, \"max\": %.1f}%s\n",
            r[i].name, r[i].median, r[i].min, r[i].max, i + 1 < n ? "," : "");
  fprintf(f, "  ]\n}\n");
  return fclose(f) == 0 ? 0 : -1;
}

static int parse_args(int argc, char **argv, int *passes, int *runs,
                      const char **json) {
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--passes") == 0 && i + 1 < argc)
      *passes = atoi(argv[++i]);
    else if (strcmp(argv[i], "--runs") == 0 && i + 1 < argc)
      *runs = atoi(argv[++i]);
    else if (strcmp(argv[i], "--json") == 0 && i + 1 < argc)
      *json = argv[++i];
    else
      return -1;
  }
  return *passes > 0 && *runs > 0 && *runs <= MAX_RUNS ? 0 : -1;
}

static int bench(sg_phone_ctx_t *ctx, const list_t *l, int passes, int runs,
                 const char *json) {
  long valid = check_list(ctx, l);
  if (valid < 0)
    return 1;
  result_t r[3] = {{"fast path (sg_phone_normalize)", 0, 0, 0},
                   {"libphonenumber Parse+IsValidNumber", 0, 0, 0},
                   {"libphonenumber Parse+IsValid+Format+Type", 0, 0, 0}};
  double v[3][MAX_RUNS];
  run_fast(ctx, l, 1); /* warm up */
  run_lpn_valid(l);
  for (int k = 0; k < runs; k++) {
    v[0][k] = run_fast(ctx, l, passes);
    v[1][k] = run_lpn_valid(l);
    v[2][k] = run_lpn_full(l);
  }
  for (int i = 0; i < 3; i++)
    summarise(&r[i], v[i], runs);
  printf("smsgate phone benchmark: %zu numbers (%ld valid), %d runs, one "
         "core\n\n%-42s %10s %10s %10s\n",
         l->n, valid, runs, "case (ns per number)", "median", "min", "max");
  for (int i = 0; i < 3; i++)
    printf("%-42s %10.1f %10.1f %10.1f\n", r[i].name, r[i].median, r[i].min,
           r[i].max);
  printf("\nlibphonenumber Parse+IsValidNumber / fast path: %.1fx\n"
         "libphonenumber with the same outputs / fast path: %.1fx\n",
         r[1].median / r[0].median, r[2].median / r[0].median);
  if (json != NULL && write_json(json, r, 3, l->n, valid, passes, runs) != 0)
    return 1;
  return 0;
}

int main(int argc, char **argv) {
  int passes = 50, runs = 5, rc = 1;
  const char *json = NULL;
  if (parse_args(argc, argv, &passes, &runs, &json) != 0) {
    fprintf(stderr, "usage: %s [--passes N] [--runs R<=%d] [--json PATH]\n",
            argv[0], MAX_RUNS);
    return 2;
  }
  sg_lpn_metadata_t *md = NULL;
  sg_phone_db_t *db = NULL;
  sg_phone_ctx_t *ctx = NULL;
  list_t l = {NULL, 0};
  double t0 = now_ns();
  if (sg_phone_db_new(&db) != 0 || (ctx = sg_phone_ctx_new(db)) == NULL ||
      sg_lpn_metadata_load(&md) != 0 || build_list(&l, md) != 0) {
    fprintf(stderr, "setup failed\n");
    goto out;
  }
  printf("sg_phone_db_new + list: %.1f ms\n", (now_ns() - t0) / 1e6);
  rc = bench(ctx, &l, passes, runs, json);
out:
  sg_free(l.v);
  sg_lpn_metadata_free(md);
  sg_phone_ctx_free(ctx);
  sg_phone_db_free(db);
  return rc;
}
