/* Tests for core/contact_csv.h: the header's mapping (number required,
 * name, custom fields, case, BOM, duplicates, bad names), each record's
 * verdict with its line number and column, quoting (doubled quotes, commas
 * and line ends inside quotes, CRLF), JSON escaping of the fields, input
 * split at every byte giving the same rows, a stop from the callback, and
 * the limits. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "core/contact_csv.h"
#include "core/error.h"

typedef struct rows {
  char out[4096]; /* one line per row: line|number|name|fields or
                     line|!reason|column */
  size_t n;
  int stop_after;
} rows_t;

static int row_cb(void *data, const sg_ccsv_row_t *r) {
  rows_t *g = data;
  size_t len = strlen(g->out);
  if (r->reason != NULL)
    snprintf(g->out + len, sizeof g->out - len, "%zu|!%s|%s\n", r->line,
             r->reason, r->column ? r->column : "-");
  else
    snprintf(g->out + len, sizeof g->out - len, "%zu|%s|%s|%s\n", r->line,
             r->number, r->name ? r->name : "-", r->fields);
  g->n++;
  return g->stop_after && (int)g->n == g->stop_after ? SG_EBUSY : 0;
}

/* Parses text split in pieces of `step` octets (0: whole). */
static int parse(const char *text, size_t step, rows_t *g, char *err,
                 size_t cap) {
  memset(g->out, 0, sizeof g->out);
  g->n = 0;
  sg_ccsv_t *p;
  assert_int_equal(sg_ccsv_new(row_cb, g, &p), 0);
  size_t len = strlen(text);
  int rc = 0;
  for (size_t i = 0; rc == 0 && i < len; i += step ? step : len)
    rc = sg_ccsv_feed(p, (const uint8_t *)text + i,
                      step && len - i > step ? step : len - i);
  if (rc == 0)
    rc = sg_ccsv_finish(p);
  const char *col;
  const char *m = sg_ccsv_error(p, &col);
  snprintf(err, cap, "%s|%s", m, col ? col : "-");
  sg_ccsv_free(p);
  return rc;
}

static void maps_columns(void **state) {
  (void)state;
  rows_t g = {0};
  char err[256];
  const char *csv = "\xEF\xBB\xBFName, NUMBER ,city,vip\r\n"
                    "Ann,+44 7700 900001,Leeds,yes\r\n"
                    "\"Smith, \"\"Bob\"\"\",07700900002,,\r\n"
                    "Cé,+33612345678,\"Line\nbreak\",x\r\n";
  assert_int_equal(parse(csv, 0, &g, err, sizeof err), 0);
  assert_int_equal(g.n, 3);
  assert_string_equal(
      g.out, "2|+44 7700 900001|Ann|{\"city\":\"Leeds\",\"vip\":\"yes\"}\n"
             "3|07700900002|Smith, \"Bob\"|{}\n"
             "5|+33612345678|Cé|{\"city\":\"Line\\u000abreak\","
             "\"vip\":\"x\"}\n");
  /* Every split gives the same rows. */
  char whole[4096];
  memcpy(whole, g.out, sizeof whole);
  for (size_t step = 1; step < 12; step++) {
    assert_int_equal(parse(csv, step, &g, err, sizeof err), 0);
    assert_string_equal(g.out, whole);
  }
}

static void row_verdicts(void **state) {
  (void)state;
  rows_t g = {0};
  char err[256];
  const char *csv = "number,name,note\n"
                    "+1555,Al,\n"
                    "\n"
                    "+1556,Bo\n"
                    ",Cy,x\n"
                    "+1557,Di,x,extra\n"
                    "123456789012345678901234567890123,Ed,x\n"
                    "+1558,\xff,x\n"
                    "+1559,\"quote\\\",x\n"
                    "+1560,Fa,\"a\"\"b\\c\"";
  assert_int_equal(parse(csv, 0, &g, err, sizeof err), 0);
  assert_string_equal(g.out, "2|+1555|Al|{}\n"
                             "4|!expected 3 columns, found 2|-\n"
                             "5|!the number is empty|number\n"
                             "6|!expected 3 columns, found 4|-\n"
                             "7|!the number is too long|number\n"
                             "8|!the row is not UTF-8|-\n"
                             "9|+1559|quote\\|{\"note\":\"x\"}\n"
                             "10|+1560|Fa|{\"note\":\"a\\\"b\\\\c\"}\n");
}

static void bad_headers(void **state) {
  (void)state;
  rows_t g = {0};
  char err[256];
  assert_int_equal(parse("name,city\nAl,x\n", 0, &g, err, sizeof err),
                   SG_EINVAL);
  assert_string_equal(err, "the header has no number column|number");
  assert_int_equal(g.n, 0);
  assert_int_equal(parse("number,Number\n", 0, &g, err, sizeof err), SG_EINVAL);
  assert_string_equal(err, "the header names a column twice|Number");
  assert_int_equal(parse("number,home city\n", 0, &g, err, sizeof err),
                   SG_EINVAL);
  assert_string_equal(
      err, "a column name must be 1 to 64 letters, digits, _ or -|home city");
  assert_int_equal(parse("number,,x\n", 0, &g, err, sizeof err), SG_EINVAL);
  assert_int_equal(parse("", 0, &g, err, sizeof err), SG_EINVAL);
  assert_string_equal(err, "the file has no header|number");
  assert_int_equal(parse("number,name\n+1,\"open", 0, &g, err, sizeof err),
                   SG_EINVAL);
  assert_string_equal(err, "a quoted field is not closed|-");
  char many[1024] = "number";
  for (int i = 0; i < 64; i++)
    snprintf(many + strlen(many), sizeof many - strlen(many), ",c%d", i);
  assert_int_equal(parse(many, 0, &g, err, sizeof err), SG_EINVAL);
  assert_string_equal(err, "the header has more than 64 columns|-");
}

static void limits_and_stop(void **state) {
  (void)state;
  rows_t g = {0};
  char err[256];
  static char big[80000];
  strcpy(big, "number,note\n+1,\"");
  memset(big + strlen(big), 'a', 70000);
  assert_int_equal(parse(big, 4096, &g, err, sizeof err), SG_EINVAL);
  assert_string_equal(err, "a field is longer than 64 KiB|-");

  static char long_value[2000];
  strcpy(long_value, "number,note\n+1,");
  memset(long_value + strlen(long_value), 'b', 1025);
  assert_int_equal(parse(long_value, 0, &g, err, sizeof err), 0);
  assert_string_equal(g.out, "2|!a field is longer than 1024 octets|note\n");

  /* A NUL octet would cut a C string: the row is refused. */
  sg_ccsv_t *p;
  assert_int_equal(sg_ccsv_new(row_cb, &g, &p), 0);
  memset(g.out, 0, sizeof g.out);
  g.n = 0;
  assert_int_equal(
      sg_ccsv_feed(p, (const uint8_t *)"number,n\n+1\0x,a\n+2,b\n", 21), 0);
  assert_int_equal(sg_ccsv_finish(p), 0);
  sg_ccsv_free(p);
  assert_string_equal(g.out,
                      "2|!the row holds a NUL octet|-\n3|+2|-|{\"n\":\"b\"}\n");

  g.stop_after = 2;
  assert_int_equal(parse("number\n+1\n+2\n+3\n", 0, &g, err, sizeof err),
                   SG_EBUSY);
  assert_int_equal(g.n, 2);
  g.stop_after = 0;

  assert_true(sg_ccsv_field_name_ok("plan_2-b"));
  assert_false(sg_ccsv_field_name_ok("a.b"));
  assert_false(sg_ccsv_field_name_ok(""));
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(maps_columns),
      cmocka_unit_test(row_verdicts),
      cmocka_unit_test(bad_headers),
      cmocka_unit_test(limits_and_stop),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
