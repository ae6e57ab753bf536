/* test_log.c - the log line formats of core/log.h: exact text and JSON
 * lines, escaping of quotes, control characters and invalid UTF-8, and
 * lines cut to the buffer that stay one valid line. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "core/error.h"
#include "core/log.h"

/* 2026-11-25T21:21:10.814Z */
#define T0 1795641670814LL

static void text_lines(void **state) {
  (void)state;
  char b[256];
  int n = sg_log_format_line(b, sizeof b, T0, SG_LOG_INFO, SG_LOG_TEXT,
                             "store", "12 part(s) put back");
  assert_string_equal(b,
                      "2026-11-25T21:21:10.814Z info  store: 12 part(s) put back\n");
  assert_int_equal(n, (int)strlen(b));
  sg_log_format_line(b, sizeof b, T0, SG_LOG_DEBUG, SG_LOG_TEXT, NULL, "x");
  assert_string_equal(b, "2026-11-25T21:21:10.814Z debug x\n");
  sg_log_format_line(b, sizeof b, T0 + 186, SG_LOG_ERROR, SG_LOG_TEXT, "",
                     "a\nb\tc\x7f");
  /* One event, one line: control characters are not passed through. */
  assert_string_equal(b, "2026-11-25T21:21:11.000Z error a?b?c?\n");
  sg_log_format_line(b, sizeof b, 0, SG_LOG_WARN, SG_LOG_TEXT, "http",
                     "\xff\xfe ok \xd0\x9f");
  assert_string_equal(b, "1970-01-01T00:00:00.000Z warn  http: ?? ok \xd0\x9f\n");
}

static void json_lines(void **state) {
  (void)state;
  char b[256];
  sg_log_format_line(b, sizeof b, T0, SG_LOG_WARN, SG_LOG_JSON, "engine",
                     "webhook to \"http://x/\\y\" failed\r\n\x01");
  assert_string_equal(b, "{\"time\":\"2026-11-25T21:21:10.814Z\",\"level\":"
                         "\"warn\",\"subsystem\":\"engine\",\"msg\":"
                         "\"webhook to \\\"http://x/\\\\y\\\" failed"
                         "\\u000d\\u000a\\u0001\"}\n");
  sg_log_format_line(b, sizeof b, T0, SG_LOG_INFO, SG_LOG_JSON, NULL,
                     "\xc3\x28 \xe2\x82 \xf0\x9f\x98\x80");
  assert_string_equal(b, "{\"time\":\"2026-11-25T21:21:10.814Z\",\"level\":"
                         "\"info\",\"msg\":\"\\ufffd( \\ufffd\\ufffd "
                         "\xf0\x9f\x98\x80\"}\n");
  json_error_t err;
  json_t *j = json_loads(b, 0, &err);
  assert_non_null(j);
  json_decref(j);
}

/* A message longer than the buffer is cut at a character boundary; the
 * line still ends with a newline and, in JSON, parses. */
static void cut_lines(void **state) {
  (void)state;
  char msg[600];
  for (int i = 0; i < 150; i++)
    memcpy(msg + i * 4, "\xd0\x9f\"a", 4); /* П, a quote, a */
  msg[600 - 1] = '\0';
  for (size_t cap = 64; cap <= 256; cap += 7) {
    char b[256];
    int n = sg_log_format_line(b, cap, T0, SG_LOG_ERROR, SG_LOG_JSON,
                               "connector", msg);
    assert_true(n > 0 && (size_t)n < cap);
    assert_int_equal(b[n - 1], '\n');
    assert_int_equal(b[n], '\0');
    json_error_t err;
    json_t *j = json_loads(b, 0, &err);
    if (j == NULL)
      fail_msg("cap %zu: %s: %s", cap, err.text, b);
    assert_string_equal(json_string_value(json_object_get(j, "level")),
                        "error");
    json_decref(j);
    n = sg_log_format_line(b, cap, T0, SG_LOG_ERROR, SG_LOG_TEXT, "c", msg);
    assert_true(n > 0 && (size_t)n < cap);
    assert_int_equal(b[n - 1], '\n');
    assert_null(memchr(b, '\n', (size_t)n - 1));
  }
}

static void bad_arguments(void **state) {
  (void)state;
  char b[64];
  assert_int_equal(
      sg_log_format_line(NULL, 64, 0, 0, SG_LOG_TEXT, NULL, "x"), SG_EINVAL);
  assert_int_equal(sg_log_format_line(b, 63, 0, 0, SG_LOG_TEXT, NULL, "x"),
                   SG_EINVAL);
  assert_int_equal(sg_log_format_line(b, 64, 0, 0, SG_LOG_TEXT, NULL, NULL),
                   SG_EINVAL);
  sg_log_level_t l;
  sg_log_format_t f;
  assert_int_equal(sg_log_level_parse("warn", &l), 0);
  assert_int_equal(l, SG_LOG_WARN);
  assert_int_equal(sg_log_level_parse("WARN", &l), SG_EINVAL);
  assert_int_equal(sg_log_level_parse(NULL, &l), SG_EINVAL);
  assert_int_equal(sg_log_format_parse("json", &f), 0);
  assert_int_equal(f, SG_LOG_JSON);
  assert_int_equal(sg_log_format_parse("xml", &f), SG_EINVAL);
  assert_string_equal(sg_log_level_name(7), "info");
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(text_lines),
      cmocka_unit_test(json_lines),
      cmocka_unit_test(cut_lines),
      cmocka_unit_test(bad_arguments),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
