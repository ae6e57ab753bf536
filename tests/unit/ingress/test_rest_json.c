/* Tests for the JSON the REST API answers with (ingress/rest/json.c): the
 * segments of a preview (the same fields as `smsgate segments`; the packed
 * TP-UD of "Hello" is the GSM 7-bit vector C8 32 9B FD 06 of TS 23.038
 * section 6.1.2.1.1's packing), and messages with their parts and events,
 * including text from outside that is not UTF-8. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <jansson.h>
#include <string.h>

#include "core/alloc.h"
#include "ingress/rest/rest_int.h"

static char *dump(json_t *v) {
  assert_non_null(v);
  char *s = json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS);
  json_decref(v);
  assert_non_null(s);
  return s;
}

static void test_segments_hello(void **state) {
  (void)state;
  sg_segments_t *segs = sg_malloc(sizeof(*segs));
  assert_non_null(segs);
  assert_int_equal(
      sg_segment_text((const uint8_t *)"Hello", 5, NULL, segs, NULL), 0);
  char *s = dump(sg_rest_segments_json(segs));
  assert_string_equal(
      s,
      "{\"characters\":5,\"encoding\":\"gsm7\",\"national\":null,\"parts\":1,"
      "\"replaced\":0,\"segments\":[{\"characters\":5,\"tp_ud\":"
      "\"c8329bfd06\",\"tp_udl\":5,\"udh\":\"\",\"units\":5,\"user_data\":"
      "\"48656c6c6f\"}],\"units\":5}");
  sg_free(s);
  /* 70 Cyrillic letters + 1: two UCS-2 parts with an 8-bit reference UDH
   * (TS 23.040 9.2.3.24.1: 00 03 ref total seq). */
  char text[200] = "";
  for (int i = 0; i < 71; i++)
    strcat(text, "\xd0\x96");
  sg_seg_opts_t o = {.ref = 0x42};
  assert_int_equal(
      sg_segment_text((const uint8_t *)text, strlen(text), &o, segs, NULL), 0);
  json_t *j = sg_rest_segments_json(segs);
  assert_string_equal(json_string_value(json_object_get(j, "encoding")),
                      "ucs2");
  assert_int_equal(json_integer_value(json_object_get(j, "parts")), 2);
  json_t *p1 = json_array_get(json_object_get(j, "segments"), 1);
  assert_string_equal(json_string_value(json_object_get(p1, "udh")),
                      "050003420202");
  assert_int_equal(json_integer_value(json_object_get(p1, "units")), 4);
  json_decref(j);
  sg_free(segs);
}

static void test_message_detail(void **state) {
  (void)state;
  sg_store_part_t parts[1] = {{.part_id = 7,
                               .seq = 1,
                               .connector = "operator",
                               .status = SG_MSG_DELIVERED,
                               .smsc_id = "1f3a",
                               .attempts = 1,
                               .updated_ms = 1738324800123LL}};
  sg_store_event_t events[2] = {{.id = 1,
                                 .part_seq = 0,
                                 .status = SG_MSG_QUEUED,
                                 .time_ms = 1738324800000LL},
                                {.id = 2,
                                 .part_seq = 1,
                                 .status = SG_MSG_DELIVERED,
                                 .error_code = 13,
                                 .detail = "stat:DELIVRD text:\xff\xfe ok",
                                 .time_ms = 1738324800123LL}};
  sg_store_message_t m = {.sender = "Shop",
                          .recipient = "+79001234567",
                          .encoding = SG_ENC_GSM7,
                          .body = (const uint8_t *)"hi",
                          .body_len = 2,
                          .validity_ms = 1738328400000LL,
                          .status = SG_MSG_DELIVERED,
                          .parts_total = 1,
                          .priority = 2,
                          .dlr_wanted = true,
                          .created_ms = 1738324800000LL,
                          .updated_ms = 1738324800123LL,
                          .parts = parts,
                          .n_parts = 1,
                          .events = events,
                          .n_events = 2};
  strcpy(m.id, "01JHQ5V9X8K7M6N5P4R3S2T1V9");
  strcpy(m.batch_id, "01JHQ5V9X8K7M6N5P4R3S2T1V8");
  char *s = dump(sg__rest_message_json(&m, true));
  assert_string_equal(
      s,
      "{\"batch_id\":\"01JHQ5V9X8K7M6N5P4R3S2T1V8\",\"callback_url\":null,"
      "\"client_ref\":null,\"created_at\":\"2025-01-31T12:00:00.000Z\","
      "\"dlr\":true,\"encoding\":\"gsm7\",\"error_code\":null,"
      "\"events\":[{\"detail\":null,\"error_code\":null,\"part\":null,"
      "\"status\":\"queued\",\"timestamp\":\"2025-01-31T12:00:00.000Z\"},"
      "{\"detail\":\"stat:DELIVRD text:?? ok\",\"error_code\":13,\"part\":1,"
      "\"status\":\"delivered\",\"timestamp\":\"2025-01-31T12:00:00.123Z\"}],"
      "\"expires_at\":\"2025-01-31T13:00:00.000Z\",\"from\":\"Shop\","
      "\"id\":\"01JHQ5V9X8K7M6N5P4R3S2T1V9\",\"parts\":1,\"priority\":2,"
      "\"segments\":[{\"attempts\":1,\"connector\":\"operator\",\"error\":null,"
      "\"error_code\":null,\"next_attempt_at\":null,\"seq\":1,\"smsc_id\":"
      "\"1f3a\",\"status\":\"delivered\",\"updated_at\":"
      "\"2025-01-31T12:00:00.123Z\"}],\"send_at\":null,\"status\":"
      "\"delivered\",\"text\":\"hi\",\"to\":\"+79001234567\",\"updated_at\":"
      "\"2025-01-31T12:00:00.123Z\"}");
  sg_free(s);
  /* In a list: no segments and no events. */
  json_t *brief = sg__rest_message_json(&m, false);
  assert_null(json_object_get(brief, "segments"));
  assert_null(json_object_get(brief, "events"));
  assert_int_equal(json_integer_value(json_object_get(brief, "parts")), 1);
  json_decref(brief);
  /* A binary message shows its payload in hex. */
  m.binary = true;
  m.body = (const uint8_t *)"\x00\xff";
  json_t *bin = sg__rest_message_json(&m, false);
  assert_null(json_object_get(bin, "text"));
  assert_string_equal(json_string_value(json_object_get(bin, "payload_hex")),
                      "00ff");
  json_decref(bin);
}

/* Every allocation of a message's JSON fails in turn: NULL, never a crash
 * or a leak (ASan). */
static void test_message_oom(void **state) {
  (void)state;
  sg_store_event_t ev = {.status = SG_MSG_QUEUED, .time_ms = 1};
  sg_store_message_t m = {.recipient = "+1",
                          .body = (const uint8_t *)"x",
                          .body_len = 1,
                          .events = &ev,
                          .n_events = 1};
  long n = 0;
  for (;; n++) {
    sg_alloc_fail_after(n);
    json_t *j = sg__rest_message_json(&m, true);
    sg_alloc_fail_after(-1);
    if (j != NULL) {
      json_decref(j);
      break;
    }
  }
  assert_true(n > 10);
}

int main(void) {
  sg_rest_json_init();
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_segments_hello),
      cmocka_unit_test(test_message_detail),
      cmocka_unit_test(test_message_oom),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
