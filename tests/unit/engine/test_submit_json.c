/* test_submit_json.c - the 202 body of a submit (engine/submit_json.c) is
 * byte for byte what jansson's json_dumps(JSON_COMPACT | JSON_ENSURE_ASCII)
 * makes of the same tree, for accepted and rejected items and for every
 * kind of character a rejected input may hold; a string that is not UTF-8
 * fails the body, as it failed jansson's json_pack.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "core/alloc.h"
#include "core/error.h"
#include "engine/engine_int.h"

/* What submit.c built with jansson before submit_json.c. */
static char *oracle(const char *batch_id, const sg_submit_item_t *items,
                    size_t n) {
  json_t *root = json_object();
  json_t *arr = json_array();
  json_object_set_new(root, "batch_id", json_string(batch_id));
  json_object_set_new(root, "messages", arr);
  for (size_t i = 0; i < n; i++) {
    const sg_submit_item_t *it = &items[i];
    json_t *o =
        it->status == 0
            ? json_pack("{s:s, s:s, s:I, s:s, s:s}", "id", it->id, "to", it->to,
                        "parts", (json_int_t)it->parts, "encoding",
                        sg_encoding_name(it->encoding), "status",
                        sg_store_status_name(it->msg_status))
            : json_pack("{s:s, s:s, s:s, s:{s:s, s:s}}", "to", it->input,
                        "input", it->input, "status", "rejected", "error",
                        "code", it->error_code, "message", it->reason);
    assert_non_null(o);
    json_array_append_new(arr, o);
  }
  char *text = json_dumps(root, JSON_COMPACT | JSON_ENSURE_ASCII);
  json_decref(root);
  return text;
}

static void accepted(sg_submit_item_t *it, const char *id, const char *to,
                     unsigned parts, sg_encoding_t enc, sg_msg_status_t st) {
  memset(it, 0, sizeof *it);
  snprintf(it->id, sizeof it->id, "%s", id);
  snprintf(it->to, sizeof it->to, "%s", to);
  it->parts = parts;
  it->encoding = enc;
  it->msg_status = st;
}

static void rejected(sg_submit_item_t *it, const char *input, const char *code,
                     const char *reason) {
  memset(it, 0, sizeof *it);
  it->status = SG_EINVAL;
  it->input = input;
  it->error_code = code;
  snprintf(it->reason, sizeof it->reason, "%s", reason);
}

static void same_as_jansson(const char *batch, const sg_submit_item_t *items,
                            size_t n) {
  char *want = oracle(batch, items, n);
  char *got = NULL;
  size_t len = 0;
  assert_int_equal(sg__submit_json(batch, items, n, &got, &len), 0);
  assert_string_equal(got, want);
  assert_int_equal(len, strlen(want));
  sg_free(got);
  free(want);
}

static void accepted_items(void **state) {
  (void)state;
  sg_submit_item_t it[3];
  accepted(&it[0], "01JDZ8Q4W5T7N0B6Y2KX3M9PRA", "+14155550100", 1, SG_ENC_GSM7,
           SG_MSG_QUEUED);
  accepted(&it[1], "01JDZ8Q4W5T7N0B6Y2KX3M9PRB", "+79161234567", 3, SG_ENC_UCS2,
           SG_MSG_SCHEDULED);
  accepted(&it[2], "01JDZ8Q4W5T7N0B6Y2KX3M9PRC", "+447700900123", 255,
           SG_ENC_8BIT, SG_MSG_QUEUED);
  for (size_t n = 0; n <= 3; n++)
    same_as_jansson("01JDZ8Q4W5T7N0B6Y2KX3M9PR0", it, n);
  static const unsigned counts[] = {0, 9, 10, 99, 100, 4294967295u};
  for (size_t i = 0; i < sizeof counts / sizeof counts[0]; i++) {
    it[0].parts = counts[i];
    same_as_jansson("01JDZ8Q4W5T7N0B6Y2KX3M9PR0", it, 1);
  }
  it[0].parts = 1;
  char *got = NULL;
  size_t len;
  assert_int_equal(sg__submit_json("B", it, 1, &got, &len), 0);
  assert_string_equal(got, "{\"batch_id\":\"B\",\"messages\":[{\"id\":"
                           "\"01JDZ8Q4W5T7N0B6Y2KX3M9PRA\",\"to\":"
                           "\"+14155550100\",\"parts\":1,\"encoding\":"
                           "\"gsm7\",\"status\":\"queued\"}]}");
  sg_free(got);
}

/* Rejected inputs are the caller's bytes: quotes, backslashes, controls,
 * DEL, Latin-1, CJK, emoji (a surrogate pair), U+FFFF and U+10FFFF. */
static void rejected_inputs_escaped(void **state) {
  (void)state;
  static const char *const inputs[] = {
      "12",
      "\"quoted\" \\ back/slash",
      "tab\there\nnew\rline\b\f\x01\x1f\x7f",
      "caf\xc3\xa9 \xe2\x82\xac 5",
      "\xe7\x94\xb5\xe8\xaf\x9d",
      "\xf0\x9f\x98\x80 smile",
      "\xef\xbf\xbf \xf4\x8f\xbf\xbf",
      "",
  };
  sg_submit_item_t it[sizeof inputs / sizeof inputs[0] + 1];
  size_t n = sizeof inputs / sizeof inputs[0];
  for (size_t i = 0; i < n; i++)
    rejected(&it[i], inputs[i], "not_a_number",
             "\"x\" is not a phone number \xe2\x80\x94 check it");
  accepted(&it[n], "01JDZ8Q4W5T7N0B6Y2KX3M9PRA", "+14155550100", 2, SG_ENC_GSM7,
           SG_MSG_QUEUED);
  same_as_jansson("01JDZ8Q4W5T7N0B6Y2KX3M9PR0", it, n + 1);
}

/* Not UTF-8: overlong, a lone continuation, a truncated sequence, an
 * encoded surrogate, above U+10FFFF; and a NULL string. */
static void invalid_strings_fail(void **state) {
  (void)state;
  static const char *const bad[] = {
      "\xc0\xaf",         "a\x80", "\xe2\x82", "\xed\xa0\x80",
      "\xf4\x90\x80\x80", "\xff",
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    sg_submit_item_t it;
    rejected(&it, bad[i], "not_a_number", "bad");
    char *got = NULL;
    size_t len = 0;
    assert_int_equal(sg__submit_json("B", &it, 1, &got, &len), SG_EINVAL);
    assert_null(got);
    /* jansson refused the same strings */
    assert_null(json_pack("{s:s}", "to", bad[i]));
  }
  sg_submit_item_t it;
  rejected(&it, "12", NULL, "bad");
  char *got = NULL;
  size_t len = 0;
  assert_int_equal(sg__submit_json("B", &it, 1, &got, &len), SG_EINVAL);
  assert_null(got);
}

/* Every allocation failing in turn: an error, never a partial body. */
static void out_of_memory(void **state) {
  (void)state;
  sg_submit_item_t it[40];
  for (size_t i = 0; i < 40; i++)
    accepted(&it[i], "01JDZ8Q4W5T7N0B6Y2KX3M9PRA", "+14155550100", 1,
             SG_ENC_GSM7, SG_MSG_QUEUED);
  int failed = 0;
  for (unsigned k = 1; k < 20; k++) {
    sg_alloc_fail_after((long)k - 1);
    char *got = NULL;
    size_t len = 0;
    int rc = sg__submit_json("B", it, 40, &got, &len);
    sg_alloc_fail_after(-1);
    if (rc == 0) {
      sg_free(got);
      break;
    }
    assert_int_equal(rc, SG_ENOMEM);
    assert_null(got);
    failed++;
  }
  assert_true(failed >= 2); /* 40 items outgrow the first buffer */
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(accepted_items),
      cmocka_unit_test(rejected_inputs_escaped),
      cmocka_unit_test(invalid_strings_fail),
      cmocka_unit_test(out_of_memory),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
