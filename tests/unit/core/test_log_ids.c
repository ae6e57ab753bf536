/* test_log_ids.c - the ids of a line about one message (core/log.h):
 * "message=... part=... connector=... smsc_id=...: ..." is printed as it is
 * in text, and in JSON each id is also its own key, before "msg", so that a
 * log collector follows a message by its id. Words that are not known ids,
 * values that are too long, and text after the ids never become keys, and
 * the line stays valid JSON whatever the values hold. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <string.h>

#include <jansson.h>

#include "core/log.h"

static const int64_t T = 1795641670814; /* 2026-11-25T21:21:10.814Z */

static json_t *json_line(const char *msg) {
  char out[1024];
  int n = sg_log_format_line(out, sizeof out, T, SG_LOG_INFO, SG_LOG_JSON,
                             "engine", msg);
  assert_true(n > 0);
  assert_int_equal(out[n - 1], '\n');
  json_error_t err;
  json_t *o = json_loadb(out, (size_t)n, 0, &err);
  assert_non_null(o);
  assert_string_equal(json_string_value(json_object_get(o, "msg")), msg);
  return o;
}

static const char *key(json_t *o, const char *k) {
  return json_string_value(json_object_get(o, k));
}

static void ids_become_keys(void **state) {
  (void)state;
  json_t *o = json_line("message=01M8B31D3AWP5116JCAK3JYT5W part=2 "
                        "connector=op smsc_id=1795668619000000: sent");
  assert_string_equal(key(o, "message_id"), "01M8B31D3AWP5116JCAK3JYT5W");
  assert_string_equal(key(o, "part"), "2");
  assert_string_equal(key(o, "connector"), "op");
  assert_string_equal(key(o, "smsc_id"), "1795668619000000");
  assert_string_equal(key(o, "subsystem"), "engine");
  assert_int_equal(json_object_size(o), 8);
  json_decref(o);
  o = json_line("message=01M8B31D3AWP5116JCAK3JYT5W account=shop "
                "connector=op: accepted, 1 part(s), queued");
  assert_string_equal(key(o, "account"), "shop");
  assert_null(json_object_get(o, "part"));
  json_decref(o);
}

/* Keys are taken only from the leading run of known key=value words. */
static void only_leading_known_ids(void **state) {
  (void)state;
  static const char *const plain[] = {
      "engine running: 1 account(s), 1 connector(s)",
      "connector op: connecting to 127.0.0.1:2775",
      "user=admin message=01M8B31D3AWP5116JCAK3JYT5W: not an id first",
      "message= part=1: an empty value",
      "message:01M8B31D3AWP5116JCAK3JYT5W",
  };
  for (size_t i = 0; i < sizeof plain / sizeof plain[0]; i++) {
    json_t *o = json_line(plain[i]);
    assert_int_equal(json_object_size(o), 4); /* time, level, subsystem, msg */
    json_decref(o);
  }
  /* The ids stop at the first word that is not one. */
  json_t *o = json_line("connector=op queue purged: message=X part=1");
  assert_string_equal(key(o, "connector"), "op");
  assert_null(json_object_get(o, "message_id"));
  json_decref(o);
  char long_value[300] = "message=";
  memset(long_value + 8, 'A', 200);
  strcpy(long_value + 208, ": x");
  o = json_line(long_value);
  assert_null(json_object_get(o, "message_id"));
  json_decref(o);
}

/* Values are escaped; the text form is the message as it is. */
static void values_escaped_and_text_unchanged(void **state) {
  (void)state;
  json_t *o = json_line("connector=a\"b\\c smsc_id=\x01x: odd names");
  assert_string_equal(key(o, "connector"), "a\"b\\c");
  assert_string_equal(key(o, "smsc_id"), "\x01x");
  json_decref(o);
  char out[256];
  int n = sg_log_format_line(out, sizeof out, T, SG_LOG_INFO, SG_LOG_TEXT,
                             "engine", "message=01M part=1 connector=op: sent");
  assert_true(n > 0);
  assert_string_equal(out, "2026-11-25T21:21:10.814Z info  engine: "
                           "message=01M part=1 connector=op: sent\n");
}

/* A short buffer still gives one valid JSON line. */
static void short_buffer_stays_json(void **state) {
  (void)state;
  char out[96];
  int n =
      sg_log_format_line(out, sizeof out, T, SG_LOG_INFO, SG_LOG_JSON, "engine",
                         "message=01M8B31D3AWP5116JCAK3JYT5W part=1 "
                         "connector=operator-with-a-long-name smsc_id="
                         "1795668619000000: sent");
  assert_true(n > 0 && (size_t)n < sizeof out);
  json_error_t err;
  json_t *o = json_loadb(out, (size_t)n, 0, &err);
  assert_non_null(o);
  json_decref(o);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(ids_become_keys),
      cmocka_unit_test(only_leading_known_ids),
      cmocka_unit_test(values_escaped_and_text_unchanged),
      cmocka_unit_test(short_buffer_stays_json),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
