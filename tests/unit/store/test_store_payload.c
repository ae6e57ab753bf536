/* test_store_payload.c - the webhook documents the store writes: exact
 * golden documents, string escaping (RFC 8259 section 7) checked byte for
 * byte and against jansson's compact output as an independent oracle,
 * strings that are not UTF-8, and a failing allocation; the payload
 * written from a status change's record (off the SQLite writer) against
 * the one written from the change itself.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/error.h"
#include "store/store_int.h"

#define T_MS 1714564800123LL /* 2024-05-01T12:00:00.123Z */

static sg__status_event_t base_event(void) {
  sg__status_event_t e = {.message_id = "01HW0000000000000000000000",
                          .batch_id = "01HW0000000000000000000001",
                          .status = SG_MSG_DELIVERED,
                          .to = "+14155550100",
                          .from = "SMSGATE",
                          .parts = 1,
                          .time_ms = T_MS};
  return e;
}

static void expect_doc(const sg__jbuf_t *b, const char *want) {
  if (b->len != strlen(want) || memcmp(b->p, want, b->len) != 0)
    fail_msg("got  %.*s\nwant %s", (int)b->len, b->p, want);
}

static void status_golden(void **state) {
  (void)state;
  sg__jbuf_t b = {0};
  sg__status_event_t e = base_event();
  assert_int_equal(sg__store_status_payload(&b, &e), 0);
  expect_doc(&b, "{\"event\":\"message.status\",\"message_id\":"
                 "\"01HW0000000000000000000000\",\"batch_id\":"
                 "\"01HW0000000000000000000001\",\"status\":\"delivered\","
                 "\"to\":\"+14155550100\",\"from\":\"SMSGATE\",\"parts\":1,"
                 "\"timestamp\":\"2024-05-01T12:00:00.123Z\"}");

  /* Every optional key, in the documented order; the buffer is reused. */
  e.status = SG_MSG_UNDELIVERABLE;
  e.client_ref = "order-7";
  e.part = 2;
  e.error_code = -5; /* printed as it is */
  e.detail = "id:1 stat:UNDELIV err:001";
  e.parts = 3;
  assert_int_equal(sg__store_status_payload(&b, &e), 0);
  expect_doc(&b, "{\"event\":\"message.status\",\"message_id\":"
                 "\"01HW0000000000000000000000\",\"batch_id\":"
                 "\"01HW0000000000000000000001\",\"status\":\"undeliverable\","
                 "\"to\":\"+14155550100\",\"from\":\"SMSGATE\",\"client_ref\":"
                 "\"order-7\",\"part\":2,\"error_code\":-5,\"detail\":\"id:1 "
                 "stat:UNDELIV err:001\",\"parts\":3,\"timestamp\":"
                 "\"2024-05-01T12:00:00.123Z\"}");

  /* The ends of the integers' ranges, and a time before the epoch (the
   * epoch). */
  e = base_event();
  e.part = 255;
  e.error_code = INT32_MIN;
  e.parts = 4294967295U;
  e.time_ms = -1;
  assert_int_equal(sg__store_status_payload(&b, &e), 0);
  expect_doc(&b, "{\"event\":\"message.status\",\"message_id\":"
                 "\"01HW0000000000000000000000\",\"batch_id\":"
                 "\"01HW0000000000000000000001\",\"status\":\"delivered\","
                 "\"to\":\"+14155550100\",\"from\":\"SMSGATE\",\"part\":255,"
                 "\"error_code\":-2147483648,\"parts\":4294967295,"
                 "\"timestamp\":\"1970-01-01T00:00:00.000Z\"}");
  e.error_code = INT32_MAX;
  e.part = 10;
  e.parts = 0;
  e.time_ms = T_MS;
  assert_int_equal(sg__store_status_payload(&b, &e), 0);
  expect_doc(&b, "{\"event\":\"message.status\",\"message_id\":"
                 "\"01HW0000000000000000000000\",\"batch_id\":"
                 "\"01HW0000000000000000000001\",\"status\":\"delivered\","
                 "\"to\":\"+14155550100\",\"from\":\"SMSGATE\",\"part\":10,"
                 "\"error_code\":2147483647,\"parts\":0,"
                 "\"timestamp\":\"2024-05-01T12:00:00.123Z\"}");
  sg__jbuf_free(&b);
}

/* Escapes, byte for byte. */
static void escaping_golden(void **state) {
  (void)state;
  static const struct {
    const char *in;
    const char *out; /* the "detail" member; NULL: left out */
  } cases[] = {
      {"", "\"detail\":\"\""},
      {"plain / text", "\"detail\":\"plain / text\""},
      {"say \"hi\"", "\"detail\":\"say \\\"hi\\\"\""},
      {"C:\\dir\\", "\"detail\":\"C:\\\\dir\\\\\""},
      {"\b\f\n\r\t", "\"detail\":\"\\b\\f\\n\\r\\t\""},
      {"\x01\x1b\x1f", "\"detail\":\"\\u0001\\u001B\\u001F\""},
      {"del\x7f", "\"detail\":\"del\x7f\""},
      {"Привет", "\"detail\":\"Привет\""},
      {"\xF0\x9F\x98\x80 \xE2\x80\xA8", "\"detail\":\"\xF0\x9F\x98\x80 "
                                        "\xE2\x80\xA8\""},
      {"\"\\\"", "\"detail\":\"\\\"\\\\\\\"\""},
      /* not UTF-8: the key is left out */
      {"bad \xff", NULL},
      {"overlong \xC0\xAF", NULL},
      {"surrogate \xED\xA0\x80", NULL},
      {"cut \xE2\x82", NULL},
      {"\x80", NULL},
  };
  sg__jbuf_t b = {0};
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    sg__status_event_t e = base_event();
    e.detail = cases[i].in;
    assert_int_equal(sg__store_status_payload(&b, &e), 0);
    char doc[512];
    snprintf(doc, sizeof doc, "%.*s", (int)b.len, b.p);
    const char *d = strstr(doc, "\"detail\":");
    if (cases[i].out == NULL) {
      if (d != NULL)
        fail_msg("case %zu: detail not left out: %s", i, doc);
      assert_non_null(strstr(doc, "\"parts\":1,\"timestamp\""));
      continue;
    }
    if (d == NULL || strncmp(d, cases[i].out, strlen(cases[i].out)) != 0 ||
        strncmp(d + strlen(cases[i].out), ",\"parts\":", 9) != 0)
      fail_msg("case %zu: %s\nwant %s", i, doc, cases[i].out);
  }
  sg__jbuf_free(&b);
}

/* jansson's compact output of the same object, as the oracle. */
static char *jansson_doc(const sg__status_event_t *e) {
  json_t *o = json_object();
  json_object_set_new(o, "event", json_string("message.status"));
  json_object_set_new(o, "message_id", json_string(e->message_id));
  json_object_set_new(o, "batch_id", json_string(e->batch_id));
  json_object_set_new(o, "status",
                      json_string(sg_store_status_name(e->status)));
  json_object_set_new(o, "to", json_string(e->to));
  json_object_set_new(o, "from", json_string(e->from));
  json_t *d = json_string(e->detail);
  if (d != NULL)
    json_object_set_new(o, "detail", d);
  json_object_set_new(o, "parts", json_integer(e->parts));
  json_object_set_new(o, "timestamp", json_string("2024-05-01T12:00:00.123Z"));
  char *s = json_dumps(o, JSON_COMPACT);
  json_decref(o);
  return s;
}

/* The payload of an event whose detail is s, written into b, is the
 * document jansson makes of it; `what` names the input in a failure. */
static void same_as_jansson(sg__jbuf_t *b, const char *s, const char *what) {
  sg__status_event_t e = base_event();
  e.detail = s;
  assert_int_equal(sg__store_status_payload(b, &e), 0);
  char *want = jansson_doc(&e);
  assert_non_null(want);
  if (b->len != strlen(want) || memcmp(b->p, want, b->len) != 0)
    fail_msg("%s differs:\n got  %.*s\n want %s", what, (int)b->len, b->p,
             want);
  free(want);
}

/* Every byte 0x01..0xFF alone and between letters, and random byte strings
 * (valid UTF-8 or not): the same document as jansson makes. */
static void escaping_matches_jansson(void **state) {
  (void)state;
  sg__jbuf_t b = {0};
  char s[40];
  uint32_t x = 12345;
  for (int i = 1; i < 256 + 4000; i++) {
    if (i < 256) {
      snprintf(s, sizeof s, "a%cb", i);
    } else {
      size_t n = 1 + (x % 30);
      for (size_t k = 0; k < n; k++) {
        x = x * 1103515245u + 12345u;
        /* mostly printable, some controls, quotes and high bytes */
        uint8_t c = (uint8_t)(x >> 16);
        s[k] = (char)(c % 4 == 0 ? c
                                 : (c % 4 == 1 ? "\"\\\n\x01 /"[c % 6]
                                               : 0x20 + c % 0x5f));
        if (s[k] == '\0')
          s[k] = 'z';
      }
      s[n] = '\0';
    }
    char what[32];
    snprintf(what, sizeof what, "input %d", i);
    same_as_jansson(&b, s, what);
  }
  /* Every byte at every position of a 17-octet string: each lane of the
   * writer's eight-octets-at-a-time scan, in both words and the tail. */
  for (int c = 1; c < 256; c++) {
    for (int at = 0; at < 17; at++) {
      memset(s, 'k', 17);
      s[17] = '\0';
      s[at] = (char)c;
      char what[32];
      snprintf(what, sizeof what, "byte 0x%02x at %d", c, at);
      same_as_jansson(&b, s, what);
    }
  }
  sg__jbuf_free(&b);
}

/* The document as a C string (the buffer is not NUL-terminated). */
static const char *doc_str(const sg__jbuf_t *b) {
  static char out[1024];
  snprintf(out, sizeof out, "%.*s", (int)b->len, b->p);
  return out;
}

static void inbound_golden(void **state) {
  (void)state;
  sg__jbuf_t b = {0};
  sg_store_inbound_t in = {.id = "01HW0000000000000000000002",
                           .connector = "smsc-a",
                           .sender = "+79001234567",
                           .recipient = "7575",
                           .encoding = SG_ENC_UCS2,
                           .body = (const uint8_t *)"Привет\n\"x\"",
                           .body_len = strlen("Привет\n\"x\""),
                           .parts = 1,
                           .received_ms = T_MS};
  assert_int_equal(sg__store_inbound_payload(&b, &in), 0);
  char want[512];
  snprintf(want, sizeof want,
           "{\"event\":\"message.inbound\",\"id\":"
           "\"01HW0000000000000000000002\",\"from\":\"+79001234567\",\"to\":"
           "\"7575\",\"encoding\":\"%s\",\"text\":\"Привет\\n\\\"x\\\"\","
           "\"parts\":1,\"connector\":\"smsc-a\",\"timestamp\":"
           "\"2024-05-01T12:00:00.123Z\"}",
           sg_encoding_name(SG_ENC_UCS2));
  expect_doc(&b, want);

  /* Binary, or text that is not UTF-8: lower-case hex. A NUL in text is
   * escaped. */
  static const uint8_t bin[] = {0x00, 0xAB, 0xFF, 0x10};
  in.body = bin;
  in.body_len = sizeof bin;
  in.binary = true;
  in.connector = NULL;
  assert_int_equal(sg__store_inbound_payload(&b, &in), 0);
  assert_non_null(strstr(doc_str(&b),
                         "\"payload_hex\":\"00abff10\",\"parts\":1,"
                         "\"timestamp\""));
  in.binary = false;
  assert_int_equal(sg__store_inbound_payload(&b, &in), 0);
  assert_non_null(strstr(doc_str(&b), "\"payload_hex\":\"00abff10\""));
  in.body = (const uint8_t *)"a\0b";
  in.body_len = 3;
  assert_int_equal(sg__store_inbound_payload(&b, &in), 0);
  assert_non_null(strstr(doc_str(&b), "\"text\":\"a\\u0000b\""));
  sg__jbuf_free(&b);
}

/* A document that does not fit and cannot grow: SG_ENOMEM, and the buffer
 * works again afterwards. */
static void out_of_memory(void **state) {
  (void)state;
  sg__jbuf_t b = {0};
  sg__status_event_t e = base_event();
  sg_alloc_fail_after(0);
  assert_int_equal(sg__store_status_payload(&b, &e), SG_ENOMEM);
  sg_alloc_fail_after(-1);
  assert_int_equal(sg__store_status_payload(&b, &e), 0);
  size_t len = b.len;
  /* A long detail grows the buffer past its first size. */
  static char big[5000];
  memset(big, 'q', sizeof big - 1);
  e.detail = big;
  sg_alloc_fail_after(0);
  assert_int_equal(sg__store_status_payload(&b, &e), SG_ENOMEM);
  sg_alloc_fail_after(-1);
  assert_int_equal(sg__store_status_payload(&b, &e), 0);
  assert_int_equal(b.len, len + strlen(",\"detail\":\"\"") + sizeof big - 1);
  sg__jbuf_free(&b);
  assert_null(b.p);
}

/* The payload written from an event's record (sg_store_webhook_payload:
 * the record the SQLite writer keeps, the payload written by the thread
 * that sends it) and the one written from the event itself (the writer,
 * before) for `e`: byte for byte the same. */
static void same_from_record(sg__jbuf_t *b, const sg__status_event_t *e,
                             const char *what) {
  assert_int_equal(sg__store_status_payload(b, e), 0);
  size_t n = sg__store_status_pack(e, NULL, 0);
  uint8_t *rec = malloc(n + 1);
  assert_non_null(rec);
  memset(rec, 0xA5, n + 1);
  assert_int_equal(sg__store_status_pack(e, rec, n - 1), n); /* too small */
  for (size_t k = 0; k <= n; k++)
    assert_int_equal(rec[k], 0xA5); /* nothing written */
  assert_int_equal(sg__store_status_pack(e, rec, n), n);
  assert_int_equal(rec[n], 0xA5);
  char *buf = NULL;
  size_t cap = 0, len = 0;
  assert_int_equal(sg_store_webhook_payload(rec, n, &buf, &cap, &len), 0);
  if (len != b->len || memcmp(buf, b->p, len) != 0)
    fail_msg("%s: from the record\n %.*s\nfrom the event\n %.*s", what,
             (int)len, buf, (int)b->len, b->p);
  sg_free(buf);
  free(rec);
}

/* Awkward status changes: escapes and control characters in every string,
 * strings that are not UTF-8 (left out: they must be left out again), ""
 * apart from NULL, parts of a multi-part message, error codes and times at
 * the ends of their ranges, long strings. */
static void record_payload_is_identical(void **state) {
  (void)state;
  static char big[6000];
  memset(big, 'x', sizeof big - 1);
  big[100] = '"';
  big[4000] = '\x01';
  static const char *const texts[] = {
      NULL,
      "",
      "plain",
      "say \"hi\" \\ / \b\f\n\r\t \x01\x1f\x7f",
      "Привет \xF0\x9F\x98\x80 \xE2\x80\xA8",
      "bad \xff",
      "cut \xE2\x82",
      "overlong \xC0\xAF",
      "\x80",
      big,
  };
  const size_t nt = sizeof texts / sizeof texts[0];
  static const sg_msg_status_t statuses[] = {
      SG_MSG_SENDING, SG_MSG_SENT,     SG_MSG_DELIVERED, SG_MSG_UNDELIVERABLE,
      SG_MSG_EXPIRED, SG_MSG_REJECTED, SG_MSG_FAILED,    SG_MSG_CANCELED};
  sg__jbuf_t b = {0};
  char what[64];
  for (size_t i = 0; i < nt * nt; i++) {
    sg__status_event_t e = base_event();
    e.status = statuses[i % 8];
    e.detail = texts[i % nt];
    e.client_ref = texts[i / nt];
    e.from = texts[(i + 3) % nt];
    e.batch_id = i % 7 == 0 ? NULL : e.batch_id;
    e.to = i % 5 == 0 ? texts[(i + 5) % nt] : e.to;
    e.part = (unsigned)(i % 4);
    e.parts = i % 4 == 0 ? 1 : (unsigned)(i % 4) + 2;
    e.error_code = i % 3 == 0 ? 0 : (i % 3 == 1 ? INT32_MIN : 1025);
    e.time_ms = i % 6 == 0 ? -1 : T_MS + (int64_t)i * 86400001LL;
    snprintf(what, sizeof what, "case %zu", i);
    same_from_record(&b, &e, what);
  }
  sg__status_event_t e = base_event();
  e.message_id = big;
  e.part = 4294967295U;
  e.parts = 4294967295U;
  e.error_code = INT32_MAX;
  e.time_ms = INT64_MAX / 4;
  same_from_record(&b, &e, "ends of the ranges");
  sg__jbuf_free(&b);
}

/* Octets that are not a record: SG_EINVAL, and the caller's buffer is
 * left as it was. */
static void bad_records_are_refused(void **state) {
  (void)state;
  sg__status_event_t e = base_event();
  e.detail = "d";
  uint8_t rec[256];
  size_t n = sg__store_status_pack(&e, rec, sizeof rec);
  assert_true(n < sizeof rec);
  char *buf = NULL;
  size_t cap = 0, len = 7;
  /* Cut anywhere, one octet too many, a string without its NUL, a status
   * or a string bit out of range. */
  for (size_t k = 0; k < n; k++)
    assert_int_equal(sg_store_webhook_payload(rec, k, &buf, &cap, &len),
                     SG_EINVAL);
  rec[n] = 'x';
  assert_int_equal(sg_store_webhook_payload(rec, n + 1, &buf, &cap, &len),
                   SG_EINVAL);
  rec[n - 1] = 'x';
  assert_int_equal(sg_store_webhook_payload(rec, n, &buf, &cap, &len),
                   SG_EINVAL);
  rec[n - 1] = '\0';
  uint8_t keep = rec[20];
  rec[20] = SG_MSG_STATUS_COUNT;
  assert_int_equal(sg_store_webhook_payload(rec, n, &buf, &cap, &len),
                   SG_EINVAL);
  rec[20] = keep;
  keep = rec[21];
  rec[21] |= 0x80;
  assert_int_equal(sg_store_webhook_payload(rec, n, &buf, &cap, &len),
                   SG_EINVAL);
  rec[21] = keep;
  assert_int_equal(sg_store_webhook_payload(NULL, 0, &buf, &cap, &len),
                   SG_EINVAL);
  assert_null(buf);
  assert_int_equal(cap, 0);
  assert_int_equal(len, 7);
  /* Whole again, it gives the payload; out of memory, SG_ENOMEM and the
   * buffer still the caller's. */
  sg_alloc_fail_after(0);
  assert_int_equal(sg_store_webhook_payload(rec, n, &buf, &cap, &len),
                   SG_ENOMEM);
  sg_alloc_fail_after(-1);
  assert_int_equal(sg_store_webhook_payload(rec, n, &buf, &cap, &len), 0);
  char doc[256];
  snprintf(doc, sizeof doc, "%.*s", (int)len, buf);
  assert_non_null(strstr(doc, "\"detail\":\"d\""));
  sg_free(buf);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(status_golden),
      cmocka_unit_test(escaping_golden),
      cmocka_unit_test(escaping_matches_jansson),
      cmocka_unit_test(inbound_golden),
      cmocka_unit_test(out_of_memory),
      cmocka_unit_test(record_payload_is_identical),
      cmocka_unit_test(bad_records_are_refused),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
