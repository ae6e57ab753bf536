/* test_store_sqlite_mem.c - the allocator given to SQLite
 * (store/sqlite_mem.c): sizes rounded up to classes, a freed block handed
 * out again to the same thread, the lists bounded, realloc keeping the
 * contents across classes, a thread's blocks given back when it ends (the
 * sanitizer build reports them as leaks otherwise), and SQLite running on
 * it once installed.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <pthread.h>
#include <sqlite3.h>

#include "store/sqlite_mem.h"

static bool installed;

static void sizes_are_classes(void **state) {
  (void)state;
  static const struct {
    int n, up;
  } t[] = {{1, 64},         {64, 64},     {65, 128},    {128, 128},
           {129, 256},      {500, 512},   {1000, 1024}, {2048, 2048},
           {2049, 4096},    {4096, 4096}, {4097, 4104}, {100000, 100000},
           {100001, 100008}};
  for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
    assert_int_equal(sg__sq_mem_roundup(t[i].n), t[i].up);
    void *p = sg__sq_mem_malloc(t[i].n);
    assert_non_null(p);
    assert_true(((uintptr_t)p & 15) == 0);
    int size = sg__sq_mem_size(p);
    assert_true(size >= t[i].n);
    if (t[i].n <= SG__SQ_MEM_CLASS_MAX)
      assert_int_equal(size, t[i].up);
    memset(p, 0xa5, (size_t)size);
    sg__sq_mem_free(p);
  }
  assert_null(sg__sq_mem_malloc(0));
  assert_null(sg__sq_mem_malloc(-5));
  assert_int_equal(sg__sq_mem_size(NULL), 0);
  sg__sq_mem_free(NULL);
  sg__sq_mem_drain();
}

static void freed_blocks_come_back(void **state) {
  (void)state;
  sg__sq_mem_drain();
  sg__sq_mem_stats_t a, b;
  sg__sq_mem_stats(&a);
  void *p = sg__sq_mem_malloc(100); /* class 128 */
  sg__sq_mem_free(p);
  void *q = sg__sq_mem_malloc(120);
  assert_ptr_equal(q, p);
  void *r = sg__sq_mem_malloc(60); /* another class: not that block */
  assert_ptr_not_equal(r, p);
  void *big = sg__sq_mem_malloc(SG__SQ_MEM_CLASS_MAX + 1);
  sg__sq_mem_free(big); /* not kept */
  sg__sq_mem_stats(&b);
  assert_int_equal(b.hits - a.hits, 1);
  assert_int_equal(b.misses - a.misses, 3);
  assert_int_equal(b.cached, 0);
  sg__sq_mem_free(q);
  sg__sq_mem_free(r);
  sg__sq_mem_stats(&b);
  assert_int_equal(b.cached, 2);
  sg__sq_mem_drain();
  sg__sq_mem_stats(&b);
  assert_int_equal(b.cached, 0);
}

static void lists_are_bounded(void **state) {
  (void)state;
  enum { N = 300 };
  static void *p[N];
  sg__sq_mem_drain();
  for (int i = 0; i < N; i++)
    assert_non_null(p[i] = sg__sq_mem_malloc(40));
  for (int i = 0; i < N; i++)
    sg__sq_mem_free(p[i]);
  sg__sq_mem_stats_t s;
  sg__sq_mem_stats(&s);
  assert_int_equal(s.cached, 128); /* the 64-octet class keeps 128 */
  for (int i = 0; i < N; i++)
    assert_non_null(p[i] = sg__sq_mem_malloc(4000));
  for (int i = 0; i < N; i++)
    sg__sq_mem_free(p[i]);
  sg__sq_mem_stats(&s);
  assert_int_equal(s.cached, 128 + 32); /* the 4096-octet class 32 */
  sg__sq_mem_drain();
}

static void realloc_keeps_contents(void **state) {
  (void)state;
  uint8_t *p = sg__sq_mem_realloc(NULL, 50);
  assert_non_null(p);
  for (int i = 0; i < 50; i++)
    p[i] = (uint8_t)i;
  uint8_t *q = sg__sq_mem_realloc(p, 60); /* same class: same block */
  assert_ptr_equal(q, p);
  q = sg__sq_mem_realloc(q, 1000);
  assert_non_null(q);
  assert_int_equal(sg__sq_mem_size(q), 1024);
  for (int i = 0; i < 50; i++)
    assert_int_equal(q[i], i);
  memset(q + 50, 0x11, 950);
  q = sg__sq_mem_realloc(q, 9000); /* past the classes */
  assert_non_null(q);
  assert_int_equal(sg__sq_mem_size(q), 9000);
  for (int i = 0; i < 50; i++)
    assert_int_equal(q[i], i);
  assert_int_equal(q[999], 0x11);
  q = sg__sq_mem_realloc(q, 10); /* shrinking to a class copies what fits */
  assert_int_equal(sg__sq_mem_size(q), 64);
  for (int i = 0; i < 10; i++)
    assert_int_equal(q[i], i);
  sg__sq_mem_free(q);
  sg__sq_mem_drain();
}

/* Frees blocks of every class into its own lists, then ends. */
static void *worker(void *arg) {
  void **blocks = arg;
  for (int i = 0; i < 64; i++)
    sg__sq_mem_free(blocks[i]);
  sg__sq_mem_stats_t s;
  sg__sq_mem_stats(&s);
  return (void *)(uintptr_t)s.cached;
}

static void a_thread_gives_its_blocks_back(void **state) {
  (void)state;
  void *blocks[64];
  for (int i = 0; i < 64; i++) /* allocated here, freed there */
    assert_non_null(blocks[i] = sg__sq_mem_malloc(1 + i * 60));
  pthread_t t;
  void *cached = NULL;
  assert_int_equal(pthread_create(&t, NULL, worker, blocks), 0);
  assert_int_equal(pthread_join(t, &cached), 0);
  assert_int_equal((uintptr_t)cached, 64);
  sg__sq_mem_stats_t s;
  sg__sq_mem_stats(&s);
  assert_int_equal(s.cached, 0); /* none came to this thread */
}

static void sqlite_runs_on_it(void **state) {
  (void)state;
  sg__sq_mem_stats_t a, b;
  sg__sq_mem_stats(&a);
  sqlite3 *db = NULL;
  assert_int_equal(sqlite3_open(":memory:", &db), SQLITE_OK);
  char *err = NULL;
  int rc = sqlite3_exec(db,
                        "CREATE TABLE t (id TEXT PRIMARY KEY, v BLOB) "
                        "WITHOUT ROWID;"
                        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT "
                        "i + 1 FROM n WHERE i < 500) INSERT INTO t SELECT "
                        "printf('k%05d', i), randomblob(300) FROM n;"
                        "UPDATE t SET v = randomblob(310);",
                        NULL, NULL, &err);
  assert_int_equal(rc, SQLITE_OK);
  sqlite3_stmt *s = NULL;
  assert_int_equal(sqlite3_prepare_v2(db,
                                      "SELECT count(*), sum(length(v)) FROM t",
                                      -1, &s, NULL),
                   SQLITE_OK);
  assert_int_equal(sqlite3_step(s), SQLITE_ROW);
  assert_int_equal(sqlite3_column_int(s, 0), 500);
  assert_int_equal(sqlite3_column_int(s, 1), 500 * 310);
  sqlite3_finalize(s);
  sqlite3_close(db);
  sg__sq_mem_stats(&b);
  if (installed) /* SQLite's blocks went through the lists */
    assert_true(b.hits - a.hits > 1000);
  else
    assert_int_equal(b.hits, a.hits);
  sg__sq_mem_drain();
}

int main(void) {
  /* Before anything else touches SQLite; not in sanitizer builds. */
  installed = sg__sq_mem_install();
  assert_int_equal(sg__sq_mem_install(), installed); /* once */
#if defined(__SANITIZE_ADDRESS__)
  if (installed)
    return 1;
#else
  if (!installed)
    return 1;
#endif
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(sizes_are_classes),
      cmocka_unit_test(freed_blocks_come_back),
      cmocka_unit_test(lists_are_bounded),
      cmocka_unit_test(realloc_keeps_contents),
      cmocka_unit_test(a_thread_gives_its_blocks_back),
      cmocka_unit_test(sqlite_runs_on_it),
  };
  int rc = cmocka_run_group_tests(tests, NULL, NULL);
  sqlite3_shutdown();
  return rc;
}
