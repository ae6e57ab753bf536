/* Tests for reading REST API requests (ingress/rest/parse.h): the JSON body
 * of POST /v1/messages field by field, with every kind of refusal (HTTP
 * status, error code and the field named), the canonical request hash, the
 * list query, RFC 3339 times (RFC 3339 section 5.6; Unix times checked
 * against Python's datetime), durations, bearer tokens and idempotency
 * keys, and failure of every allocation. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "core/error.h"
#include "ingress/rest/parse.h"

#define NOW_MS 1738324800000LL /* 2025-01-31T12:00:00Z */

static sg_rest_send_t R;
static sg_rest_err_t E;

static int parse_kind(const char *body, sg_rest_send_kind_t kind) {
  return sg_rest_parse_send((const uint8_t *)body, strlen(body), kind, NOW_MS,
                            &R, &E);
}

static int parse(const char *body) {
  return parse_kind(body, SG_REST_SEND);
}

static int setup(void **state) {
  (void)state;
  sg_rest_json_init();
  memset(&R, 0, sizeof(R));
  memset(&E, 0, sizeof(E));
  return 0;
}

static int teardown(void **state) {
  (void)state;
  sg_rest_send_free(&R);
  return 0;
}

/* ---- times --------------------------------------------------------------- */

static void test_time_golden(void **state) {
  (void)state;
  static const struct {
    const char *s;
    int64_t ms;
  } ok[] = {
      {"1970-01-01T00:00:00Z", 0},
      {"2025-01-31T12:00:00Z", 1738324800000LL},
      {"2025-01-31T15:00:00+03:00", 1738324800000LL},
      {"2025-01-31T06:30:00-05:30", 1738324800000LL},
      {"2025-01-31t12:00:00z", 1738324800000LL},
      {"2024-02-29T23:59:59.999Z", 1709251199999LL},
      {"2000-03-01T00:00:00Z", 951868800000LL},
      {"2038-01-19T03:14:08Z", 2147483648000LL},
      {"2025-01-31T12:00:00.5Z", 1738324800500LL},
      {"2025-01-31T12:00:00.123456789Z", 1738324800123LL},
  };
  for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
    int64_t ms = -1;
    assert_int_equal(sg_rest_parse_time(ok[i].s, strlen(ok[i].s), &ms), 0);
    assert_int_equal(ms, ok[i].ms);
  }
}

static void test_time_malformed(void **state) {
  (void)state;
  static const char *const bad[] = {
      "",
      "2025-01-31",
      "2025-01-31T12:00:00",  /* no offset */
      "2025-01-31 12:00:00Z", /* space for T */
      "2025-1-31T12:00:00Z",
      "2025-13-01T00:00:00Z",
      "2025-00-01T00:00:00Z",
      "2023-02-29T00:00:00Z", /* not a leap year */
      "2100-02-29T00:00:00Z", /* century, not leap */
      "2025-04-31T00:00:00Z",
      "2025-01-31T24:00:00Z",
      "2025-01-31T12:60:00Z",
      "2025-01-31T12:00:61Z",
      "2025-01-31T12:00:00.Z", /* empty fraction */
      "2025-01-31T12:00:00+3:00",
      "2025-01-31T12:00:00+03",
      "2025-01-31T12:00:00+24:00",
      "2025-01-31T12:00:00Zjunk",
      "1969-12-31T23:59:59Z",
      "1970-01-01T00:00:00+01:00", /* before the epoch */
      "+2025-01-31T12:00:00Z",
  };
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    int64_t ms = 42;
    assert_int_equal(sg_rest_parse_time(bad[i], strlen(bad[i]), &ms),
                     SG_EINVAL);
    assert_int_equal(ms, 42);
  }
  /* The length bounds the input: no reading past it. */
  int64_t ms;
  assert_int_equal(sg_rest_parse_time("2025-01-31T12:00:00Z", 19, &ms),
                   SG_EINVAL);
}

static void test_time_format(void **state) {
  (void)state;
  char buf[SG_REST_TIME_BUF];
  assert_int_equal(sg_rest_format_time(0, buf), 0);
  assert_string_equal(buf, "1970-01-01T00:00:00.000Z");
  assert_int_equal(sg_rest_format_time(1709251199999LL, buf), 0);
  assert_string_equal(buf, "2024-02-29T23:59:59.999Z");
  assert_int_equal(sg_rest_format_time(253402300799999LL, buf), 0);
  assert_string_equal(buf, "9999-12-31T23:59:59.999Z");
  assert_int_equal(sg_rest_format_time(253402300800000LL, buf), SG_ERANGE);
  assert_int_equal(sg_rest_format_time(-1, buf), SG_ERANGE);
  /* Round trip over a spread of times, leap days included. */
  for (int64_t t = 0; t < 253402300799999LL; t += 86399999LL * 37 + 12345) {
    int64_t back = -1;
    assert_int_equal(sg_rest_format_time(t, buf), 0);
    assert_int_equal(sg_rest_parse_time(buf, strlen(buf), &back), 0);
    assert_int_equal(back, t);
  }
}

/* ---- durations ----------------------------------------------------------- */

static void test_duration(void **state) {
  (void)state;
  static const struct {
    const char *s;
    int64_t ms;
  } ok[] = {
      {"90s", 90000},
      {"2h", 7200000},
      {"1h30m", 5400000},
      {"1d", 86400000},
      {"1500ms", 1500},
      {"1m30s", 90000},
      {"1d2h3m4s5ms", 93784005},
      {"0s", 0},
  };
  for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
    int64_t ms = -1;
    assert_int_equal(sg_rest_parse_duration(ok[i].s, strlen(ok[i].s), &ms), 0);
    assert_int_equal(ms, ok[i].ms);
  }
  static const char *const bad[] = {"",     "90",   "s",    "1x",  "30m1h",
                                    "1h1h", "1.5h", " 1h",  "-1h", "1H",
                                    "1h ",  "ms",   "1s500"};
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    int64_t ms = 0;
    assert_int_equal(sg_rest_parse_duration(bad[i], strlen(bad[i]), &ms),
                     SG_EINVAL);
  }
  int64_t ms;
  assert_int_equal(sg_rest_parse_duration("1234567890123456s", 17, &ms),
                   SG_ERANGE);
  assert_int_equal(sg_rest_parse_duration("200000000d", 10, &ms), SG_ERANGE);
}

/* ---- headers ------------------------------------------------------------- */

static void test_bearer(void **state) {
  (void)state;
  const char *key = NULL;
  size_t len = 0;
  assert_int_equal(sg_rest_parse_bearer("Bearer demo-key", &key, &len), 0);
  assert_int_equal(len, 8);
  assert_memory_equal(key, "demo-key", 8);
  assert_int_equal(sg_rest_parse_bearer("  bearer \t abc.def=  ", &key, &len),
                   0);
  assert_int_equal(len, 8);
  assert_memory_equal(key, "abc.def=", 8);
  assert_int_equal(sg_rest_parse_bearer("BEARER\tx", &key, &len), 0);
  assert_int_equal(len, 1);
  assert_int_equal(sg_rest_parse_bearer(NULL, &key, &len), SG_ENOENT);
  assert_int_equal(sg_rest_parse_bearer("   ", &key, &len), SG_ENOENT);
  static const char *const bad[] = {
      "Basic ZGVtbzpkZW1v", "Bearer",   "Bearer ", "Bearerabc",
      "Bearer a b",         "Bear abc", "demo-key"};
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
    assert_int_equal(sg_rest_parse_bearer(bad[i], &key, &len), SG_EINVAL);
}

static void test_idem_key_and_e164(void **state) {
  (void)state;
  char k[300];
  memset(k, 'k', sizeof(k));
  k[255] = '\0';
  assert_int_equal(sg_rest_check_idem_key("order-17 retry"), 0);
  assert_int_equal(sg_rest_check_idem_key(k), 0);
  k[255] = 'k';
  k[256] = '\0';
  assert_int_equal(sg_rest_check_idem_key(k), SG_EINVAL);
  assert_int_equal(sg_rest_check_idem_key(""), SG_EINVAL);
  assert_int_equal(sg_rest_check_idem_key("a\x01"), SG_EINVAL);
  assert_int_equal(sg_rest_check_idem_key("caf\xc3\xa9"), SG_EINVAL);
  assert_int_equal(sg_rest_check_idem_key(NULL), SG_EINVAL);

  assert_true(sg_rest_is_e164("+79001234567"));
  assert_true(sg_rest_is_e164("+1"));
  assert_true(sg_rest_is_e164("+123456789012345"));
  assert_false(sg_rest_is_e164("+1234567890123456"));
  assert_false(sg_rest_is_e164("+0123"));
  assert_false(sg_rest_is_e164("79001234567"));
  assert_false(sg_rest_is_e164("+"));
  assert_false(sg_rest_is_e164("+7900 123"));
  assert_false(sg_rest_is_e164(NULL));
}

/* ---- the send body: accepted --------------------------------------------- */

static void test_send_all_fields(void **state) {
  (void)state;
  const char *body =
      "{\"to\": [\"+79001234567\", \"8 916 123-45-67\"], \"from\": \"Shop\","
      " \"text\": \"\xd0\x9f\xd1\x80\xd0\xb8\xd0\xb2\xd0\xb5\xd1\x82\","
      " \"encoding\": \"ucs2\", \"national\": true, \"smart\": true,"
      " \"callback_url\": \"https://example.com/hook?x=1\","
      " \"send_at\": \"2025-01-31T15:00:03+03:00\", \"validity\": \"1h30m\","
      " \"client_ref\": \"order-7\", \"priority\": 3, \"dlr\": false}";
  assert_int_equal(parse(body), 0);
  assert_int_equal(R.n_to, 2);
  assert_string_equal(R.to[0], "+79001234567");
  assert_string_equal(R.to[1], "8 916 123-45-67");
  assert_string_equal(R.from, "Shop");
  assert_int_equal(R.text_len, 12);
  assert_memory_equal(R.text,
                      "\xd0\x9f\xd1\x80\xd0\xb8\xd0\xb2\xd0\xb5\xd1\x82", 12);
  assert_int_equal(R.encoding, SG_ENC_UCS2);
  assert_true(R.national);
  assert_true(R.smart);
  assert_string_equal(R.callback_url, "https://example.com/hook?x=1");
  assert_int_equal(R.send_at_ms, NOW_MS + 3000);
  assert_int_equal(R.validity_ms, 5400000);
  assert_string_equal(R.client_ref, "order-7");
  assert_int_equal(R.priority, 3);
  assert_false(R.dlr);
}

static void test_send_defaults_and_nulls(void **state) {
  (void)state;
  assert_int_equal(parse("{\"to\": \"+79001234567\", \"text\": \"hi\","
                         " \"from\": null, \"validity\": null,"
                         " \"send_at\": null, \"priority\": null}"),
                   0);
  assert_int_equal(R.n_to, 1);
  assert_string_equal(R.to[0], "+79001234567");
  assert_null(R.from);
  assert_null(R.callback_url);
  assert_null(R.client_ref);
  assert_int_equal(R.encoding, SG_ENC_AUTO);
  assert_false(R.national);
  assert_false(R.smart);
  assert_true(R.dlr);
  assert_int_equal(R.send_at_ms, 0);
  assert_int_equal(R.validity_ms, 0);
  assert_int_equal(R.priority, 0);
  sg_rest_send_free(&R);
  assert_int_equal(
      parse("{\"to\": \"+1\", \"text\": \"a\", \"validity\": 3600}"), 0);
  assert_int_equal(R.validity_ms, 3600000);
}

static void test_send_max_recipients(void **state) {
  (void)state;
  size_t cap = 16 + (SG_REST_MAX_RECIPIENTS + 1) * 12 + 32;
  char *b = sg_malloc(cap);
  assert_non_null(b);
  for (int n = SG_REST_MAX_RECIPIENTS; n <= SG_REST_MAX_RECIPIENTS + 1; n++) {
    size_t o = (size_t)snprintf(b, cap, "{\"to\":[");
    for (int i = 0; i < n; i++)
      o += (size_t)snprintf(b + o, cap - o, "%s\"+%d\"", i ? "," : "", i + 1);
    snprintf(b + o, cap - o, "],\"text\":\"x\"}");
    int rc = parse(b);
    if (n == SG_REST_MAX_RECIPIENTS) {
      assert_int_equal(rc, 0);
      assert_int_equal(R.n_to, SG_REST_MAX_RECIPIENTS);
      assert_string_equal(R.to[SG_REST_MAX_RECIPIENTS - 1], "+10000");
      sg_rest_send_free(&R);
    } else {
      assert_int_equal(rc, SG_EINVAL);
      assert_int_equal(E.http, 422);
      assert_string_equal(E.field, "to");
      assert_non_null(strstr(E.message, "10001"));
    }
  }
  sg_free(b);
}

static void test_preview_needs_no_to(void **state) {
  (void)state;
  assert_int_equal(parse_kind("{\"text\": \"hi\"}", SG_REST_PREVIEW), 0);
  assert_int_equal(R.n_to, 0);
  sg_rest_send_free(&R);
  assert_int_equal(parse_kind("{\"to\": 5, \"text\": \"hi\"}", SG_REST_PREVIEW),
                   SG_EINVAL);
  assert_string_equal(E.field, "to");
  assert_int_equal(parse_kind("{\"to\": \"+1\"}", SG_REST_PREVIEW), SG_EINVAL);
  assert_string_equal(E.field, "text");
}

/* ---- the send body: refused
 * -------------------------------------------------- */

typedef struct bad_case {
  const char *body;
  unsigned http;
  const char *code;
  const char *field; /* "" when about the whole body */
  const char *says;  /* a part of the message */
} bad_case_t;

static const bad_case_t bad_bodies[] = {
    {"", 400, "invalid_json", "", "empty"},
    {"{", 400, "invalid_json", "", "not valid JSON"},
    {"{\"to\": \"+1\", \"text\": \"a\"} x", 400, "invalid_json", "", "JSON"},
    {"[]", 400, "invalid_json", "", "JSON object"},
    {"\"text\"", 400, "invalid_json", "", "JSON object"},
    {"{\"to\":\"+1\",\"text\":\"a\",\"to\":\"+2\"}", 400, "invalid_json", "",
     "duplicate"},
    {"{\"to\":\"+1\",\"text\":\"a\\u0000b\"}", 400, "invalid_json", "", ""},
    {"{\"to\":\"+1\",\"text\":\"hi\",\"txt\":1}", 422, "unknown_field", "txt",
     "the fields are to, from, text"},
    {"{\"to\":\"+1\",\"text\":\"hi\",\"list\":\"L1\"}", 422, "unknown_field",
     "list", "unknown field 'list'"},
    {"{\"to\":\"+1\"}", 422, "missing_field", "text", "required"},
    {"{\"text\":\"hi\"}", 422, "missing_field", "to", "required"},
    {"{\"to\":null,\"text\":\"hi\"}", 422, "missing_field", "to", "required"},
    {"{\"to\":\"+1\",\"text\":\"\"}", 422, "invalid_value", "text", "empty"},
    {"{\"to\":\"+1\",\"text\":5}", 422, "invalid_type", "text", "string"},
    {"{\"to\":5,\"text\":\"hi\"}", 422, "invalid_type", "to", ""},
    {"{\"to\":{},\"text\":\"hi\"}", 422, "invalid_type", "to", ""},
    {"{\"to\":[],\"text\":\"hi\"}", 422, "invalid_value", "to", "1 to 10000"},
    {"{\"to\":\"\",\"text\":\"hi\"}", 422, "invalid_value", "to", ""},
    {"{\"to\":[\"+1\",5],\"text\":\"hi\"}", 422, "invalid_type", "to[1]", ""},
    {"{\"to\":[\"+1\",\"+2\",\"\"],\"text\":\"hi\"}", 422, "invalid_value",
     "to[2]", ""},
    {"{\"to\":\"+1\",\"text\":\"a\",\"from\":5}", 422, "invalid_type", "from",
     ""},
    {"{\"to\":\"+1\",\"text\":\"a\",\"from\":"
     "\"123456789012345678901234567890123\"}",
     422, "invalid_value", "from", "32"},
    {"{\"to\":\"+1\",\"text\":\"a\",\"encoding\":\"8bit\"}", 422,
     "invalid_value", "encoding", "\"gsm7\""},
    {"{\"to\":\"+1\",\"text\":\"a\",\"encoding\":\"GSM7\"}", 422,
     "invalid_value", "encoding", ""},
    {"{\"to\":\"+1\",\"text\":\"a\",\"encoding\":2}", 422, "invalid_type",
     "encoding", ""},
    {"{\"to\":\"+1\",\"text\":\"a\",\"national\":\"yes\"}", 422, "invalid_type",
     "national", "true or false"},
    {"{\"to\":\"+1\",\"text\":\"a\",\"smart\":1}", 422, "invalid_type", "smart",
     ""},
    {"{\"to\":\"+1\",\"text\":\"a\",\"dlr\":0}", 422, "invalid_type", "dlr",
     ""},
    {"{\"to\":\"+1\",\"text\":\"a\",\"callback_url\":\"ftp://x.org/\"}", 422,
     "invalid_value", "callback_url", "http://"},
    {"{\"to\":\"+1\",\"text\":\"a\",\"callback_url\":\"http://\"}", 422,
     "invalid_value", "callback_url", ""},
    {"{\"to\":\"+1\",\"text\":\"a\",\"callback_url\":\"http:///x\"}", 422,
     "invalid_value", "callback_url", ""},
    {"{\"to\":\"+1\",\"text\":\"a\",\"callback_url\":\"http://a b/\"}", 422,
     "invalid_value", "callback_url", ""},
    {"{\"to\":\"+1\",\"text\":\"a\",\"callback_url\":\"\"}", 422,
     "invalid_value", "callback_url", ""},
    {"{\"to\":\"+1\",\"text\":\"a\",\"send_at\":\"tomorrow\"}", 422,
     "invalid_value", "send_at", "RFC 3339"},
    {"{\"to\":\"+1\",\"text\":\"a\",\"send_at\":1738324800}", 422,
     "invalid_type", "send_at", "RFC 3339"},
    {"{\"to\":\"+1\",\"text\":\"a\",\"send_at\":\"2026-02-02T12:00:00Z\"}", 422,
     "invalid_value", "send_at", "366 days"},
    {"{\"to\":\"+1\",\"text\":\"a\",\"validity\":0}", 422, "invalid_value",
     "validity", "1 to 31536000"},
    {"{\"to\":\"+1\",\"text\":\"a\",\"validity\":-5}", 422, "invalid_value",
     "validity", ""},
    {"{\"to\":\"+1\",\"text\":\"a\",\"validity\":31536001}", 422,
     "invalid_value", "validity", ""},
    {"{\"to\":\"+1\",\"text\":\"a\",\"validity\":1.5}", 422, "invalid_type",
     "validity", ""},
    {"{\"to\":\"+1\",\"text\":\"a\",\"validity\":\"90\"}", 422, "invalid_value",
     "validity", "\"2h\""},
    {"{\"to\":\"+1\",\"text\":\"a\",\"validity\":\"500ms\"}", 422,
     "invalid_value", "validity", ""},
    {"{\"to\":\"+1\",\"text\":\"a\",\"validity\":\"366d\"}", 422,
     "invalid_value", "validity", ""},
    {"{\"to\":\"+1\",\"text\":\"a\",\"priority\":4}", 422, "invalid_value",
     "priority", "0 to 3"},
    {"{\"to\":\"+1\",\"text\":\"a\",\"priority\":-1}", 422, "invalid_value",
     "priority", ""},
    {"{\"to\":\"+1\",\"text\":\"a\",\"priority\":\"1\"}", 422, "invalid_type",
     "priority", ""},
    {"{\"to\":\"+1\",\"text\":\"a\",\"priority\":1.0}", 422, "invalid_type",
     "priority", ""},
    {"{\"to\":\"+1\",\"text\":\"a\",\"client_ref\":[\"x\"]}", 422,
     "invalid_type", "client_ref", ""},
};

static void test_send_refused(void **state) {
  (void)state;
  for (size_t i = 0; i < sizeof(bad_bodies) / sizeof(bad_bodies[0]); i++) {
    const bad_case_t *c = &bad_bodies[i];
    memset(&E, 0, sizeof(E));
    int rc = parse(c->body);
    if (rc != SG_EINVAL || E.http != c->http || strcmp(E.code, c->code) != 0 ||
        strcmp(E.field, c->field) != 0 || strstr(E.message, c->says) == NULL)
      fail_msg("case %zu %s: rc %d http %u code %s field '%s' message '%s'", i,
               c->body, rc, E.http, E.code ? E.code : "(null)", E.field,
               E.message);
    /* A refused request leaves nothing behind. */
    assert_null(R.root);
    assert_null(R.to);
    assert_int_equal(R.n_to, 0);
  }
}

/* jansson quotes the bytes near a syntax error; the message must stay
 * printable ASCII so that the error body can be written as JSON. */
static void test_send_error_text_is_ascii(void **state) {
  (void)state;
  assert_int_equal(parse("{\"to\":\"+1\",\"te\xff\xfext\":\"a\"}"), SG_EINVAL);
  assert_int_equal(E.http, 400);
  assert_string_equal(E.code, "invalid_json");
  for (const char *p = E.message; *p != '\0'; p++)
    assert_true(*p >= 0x20 && *p < 0x7F);
}

static void test_send_long_strings(void **state) {
  (void)state;
  char b[512];
  char ref[SG_REST_CLIENT_REF_MAX + 2];
  memset(ref, 'r', sizeof(ref));
  ref[SG_REST_CLIENT_REF_MAX] = '\0';
  snprintf(b, sizeof(b), "{\"to\":\"+1\",\"text\":\"a\",\"client_ref\":\"%s\"}",
           ref);
  assert_int_equal(parse(b), 0);
  assert_int_equal(strlen(R.client_ref), SG_REST_CLIENT_REF_MAX);
  sg_rest_send_free(&R);
  ref[SG_REST_CLIENT_REF_MAX] = 'r';
  ref[SG_REST_CLIENT_REF_MAX + 1] = '\0';
  snprintf(b, sizeof(b), "{\"to\":\"+1\",\"text\":\"a\",\"client_ref\":\"%s\"}",
           ref);
  assert_int_equal(parse(b), SG_EINVAL);
  assert_string_equal(E.field, "client_ref");
  assert_non_null(strstr(E.message, "128 octets"));
  /* An unknown key is named, cut at a character boundary: 19 two-octet
   * characters fit the 39 octets kept, the 20th does not. */
  char key[128] = "";
  for (int i = 0; i < 30; i++)
    strcat(key, "\xd1\x8f");
  snprintf(b, sizeof(b), "{\"to\":\"+1\",\"text\":\"a\",\"%s\":1}", key);
  assert_int_equal(parse(b), SG_EINVAL);
  assert_string_equal(E.code, "unknown_field");
  assert_int_equal(strlen(E.field), 38);
  assert_memory_equal(E.field, key, 38);
}

static void test_send_at_bounds(void **state) {
  (void)state;
  /* In the past: accepted (sent at once); exactly 366 days ahead: accepted. */
  assert_int_equal(parse("{\"to\":\"+1\",\"text\":\"a\","
                         "\"send_at\":\"2020-01-01T00:00:00Z\"}"),
                   0);
  assert_int_equal(R.send_at_ms, 1577836800000LL);
  sg_rest_send_free(&R);
  assert_int_equal(parse("{\"to\":\"+1\",\"text\":\"a\","
                         "\"send_at\":\"2026-02-01T12:00:00Z\"}"),
                   0);
  assert_int_equal(R.send_at_ms, NOW_MS + SG_REST_SEND_AT_MAX_MS);
}

/* ---- the request hash
 * ---------------------------------------------------------- */

static void test_hash_canonical(void **state) {
  (void)state;
  static const uint8_t golden[32] = {
      0x80, 0x80, 0x98, 0x08, 0xc1, 0x9b, 0x32, 0x02, 0x63, 0x13, 0xe5,
      0x79, 0x54, 0x03, 0xa6, 0xec, 0x9c, 0x63, 0x93, 0xac, 0xb0, 0x4a,
      0xb4, 0x99, 0x7d, 0x5c, 0xb1, 0xf3, 0xd5, 0xa7, 0xd4, 0xcf};
  static const uint8_t zero[32];
  uint8_t h1[32], h2[32];
  /* Parsing alone does not hash: only a send with an Idempotency-Key
   * needs it. */
  assert_int_equal(parse("{\"to\": \"+79001234567\", \"text\": \"hi\"}"), 0);
  assert_memory_equal(R.hash, zero, 32);
  /* sha256('{"text":"hi","to":"+79001234567"}') */
  assert_int_equal(sg_rest_send_hash(&R), 0);
  assert_memory_equal(R.hash, golden, 32);
  memcpy(h1, R.hash, 32);
  sg_rest_send_free(&R);
  assert_int_equal(
      parse("{\n  \"text\":\"hi\",\n\t\"to\" : \"+79001234567\"\n}"), 0);
  assert_int_equal(sg_rest_send_hash(&R), 0);
  assert_memory_equal(R.hash, h1, 32);
  sg_rest_send_free(&R);
  assert_int_equal(parse("{\"to\": \"+79001234567\", \"text\": \"hi!\"}"), 0);
  assert_int_equal(sg_rest_send_hash(&R), 0);
  memcpy(h2, R.hash, 32);
  assert_memory_not_equal(h1, h2, 32);
  sg_rest_send_free(&R);
  assert_int_equal(sg_rest_send_hash(&R), SG_EINVAL); /* nothing parsed */
}

/* ---- the list query
 * ------------------------------------------------------------- */

static int query(const char *const *kv, size_t n, sg_rest_list_query_t *q) {
  const char *names[16] = {0}, *values[16] = {0};
  for (size_t i = 0; i < n; i++) {
    names[i] = kv[2 * i];
    values[i] = kv[2 * i + 1];
  }
  return sg_rest_parse_list_query(names, values, n, q, &E);
}

static void test_list_query(void **state) {
  (void)state;
  sg_rest_list_query_t q;
  assert_int_equal(query(NULL, 0, &q), 0);
  assert_int_equal(q.filter.limit, SG_STORE_LIST_DEFAULT);
  assert_int_equal(q.filter.status, SG_MSG_NONE);
  assert_null(q.filter.recipient);
  assert_null(q.filter.cursor);

  const char *all[] = {"status",   "delivered",
                       "to",       " 79001234567",
                       "batch_id", "01jhq5v9x8k7m6n5p4r3s2t1v0",
                       "since",    "2025-01-31T15:00:00 03:00",
                       "until",    "2025-02-01T00:00:00Z",
                       "limit",    "1000",
                       "cursor",   "01JHQ5V9X8K7M6N5P4R3S2T1V9"};
  assert_int_equal(query(all, 7, &q), 0);
  assert_int_equal(q.filter.status, SG_MSG_DELIVERED);
  assert_string_equal(q.filter.recipient, "+79001234567");
  assert_string_equal(q.filter.batch_id, "01JHQ5V9X8K7M6N5P4R3S2T1V0");
  assert_int_equal(q.filter.from_ms, 1738324800000LL);
  assert_int_equal(q.filter.to_ms, 1738368000000LL);
  assert_int_equal(q.filter.limit, 1000);
  assert_string_equal(q.filter.cursor, "01JHQ5V9X8K7M6N5P4R3S2T1V9");

  const char *plain[] = {"to", "79001234567"};
  assert_int_equal(query(plain, 1, &q), 0);
  assert_string_equal(q.filter.recipient, "+79001234567");
}

static void test_list_query_refused(void **state) {
  (void)state;
  static const struct {
    const char *kv[4];
    size_t n;
    const char *code, *field;
  } bad[] = {
      {{"staus", "queued"}, 1, "unknown_field", "staus"},
      {{"status", "done"}, 1, "invalid_value", "status"},
      {{"status", "none"}, 1, "invalid_value", "status"},
      {{"to", "+7900x"}, 1, "invalid_value", "to"},
      {{"to", "+0123"}, 1, "invalid_value", "to"},
      {{"to", "+12345678901234567890"}, 1, "invalid_value", "to"},
      {{"batch_id", "42"}, 1, "invalid_value", "batch_id"},
      {{"cursor", "01JHQ5V9X8K7M6N5P4R3S2T1VU"}, 1, "invalid_value", "cursor"},
      {{"since", "yesterday"}, 1, "invalid_value", "since"},
      {{"limit", "0"}, 1, "invalid_value", "limit"},
      {{"limit", "1001"}, 1, "invalid_value", "limit"},
      {{"limit", "ten"}, 1, "invalid_value", "limit"},
      {{"limit", ""}, 1, "invalid_value", "limit"},
      {{"limit", "5", "limit", "6"}, 2, "invalid_value", "limit"},
      {{"since", "2025-02-01T00:00:00Z", "until", "2025-02-01T00:00:00Z"},
       2,
       "invalid_value",
       "until"},
      {{"st\xc3\xa4tus\n", "x"}, 1, "unknown_field", "st??tus?"},
  };
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    sg_rest_list_query_t q;
    memset(&E, 0, sizeof(E));
    int rc = query(bad[i].kv, bad[i].n, &q);
    if (rc != SG_EINVAL || E.http != 422 || strcmp(E.code, bad[i].code) != 0 ||
        strcmp(E.field, bad[i].field) != 0)
      fail_msg("case %zu: rc %d http %u code %s field '%s'", i, rc, E.http,
               E.code ? E.code : "(null)", E.field);
  }
}

/* ---- allocation failures
 * ------------------------------------------------------- */

/* Every allocation of a parse fails in turn: the parse reports SG_ENOMEM
 * (never a wrong verdict, never a crash), and nothing leaks (ASan). The
 * text is longer than the parse block (parse.c), so that jansson's own
 * allocations are among those that fail. */
static void test_send_oom(void **state) {
  (void)state;
  char body[8192];
  snprintf(body, sizeof body,
           "{\"to\": [\"+79001234567\", \"+79001234568\"],"
           " \"text\": \"%05000d\", \"from\": \"Shop\","
           " \"validity\": \"2h\", \"client_ref\": \"r-1\"}",
           7);
  long n = 0;
  for (;; n++) {
    sg_alloc_fail_after(n);
    int rc = parse(body);
    sg_alloc_fail_after(-1);
    if (rc == 0)
      break;
    if (rc != SG_ENOMEM)
      fail_msg("allocation %ld: rc %d (%s)", n, rc, E.message);
    assert_null(R.root);
    assert_null(R.to);
  }
  assert_true(n > 3);
  assert_int_equal(R.n_to, 2);
  assert_string_equal(R.to[1], "+79001234568");
  assert_int_equal(R.text_len, 5000);
}

/* A common body's tree is built in the thread's parse block: the parse
 * allocates once (the recipients' array), not once for each node. A body
 * parsed while the first is still held goes to the allocator, and both
 * read right; once the first is freed the block serves again. */
static void test_send_block(void **state) {
  (void)state;
#if defined(__SANITIZE_ADDRESS__)
  skip(); /* no block in sanitizer builds */
#else
  const char *one = "{\"to\": \"+79001234567\", \"text\": \"hello\","
                    " \"from\": \"Shop\", \"client_ref\": \"r-1\"}";
  const char *two = "{\"to\": [\"+79001234568\"], \"text\": \"bye\"}";
  sg_alloc_count_reset();
  assert_int_equal(parse(one), 0);
  assert_int_equal(sg_alloc_count(), 1);

  sg_rest_send_t held;
  sg_rest_err_t e;
  sg_alloc_count_reset();
  assert_int_equal(sg_rest_parse_send((const uint8_t *)two, strlen(two),
                                      SG_REST_SEND, NOW_MS, &held, &e),
                   0);
  assert_true(sg_alloc_count() > 1);
  assert_false(held.block);
  assert_string_equal(R.to[0], "+79001234567");
  assert_string_equal(R.text, "hello");
  assert_string_equal(R.from, "Shop");
  assert_string_equal(R.client_ref, "r-1");
  assert_string_equal(held.to[0], "+79001234568");
  assert_string_equal(held.text, "bye");
  sg_rest_send_free(&held);

  sg_rest_send_free(&R);
  sg_alloc_count_reset();
  assert_int_equal(parse(two), 0);
  assert_int_equal(sg_alloc_count(), 1);
  assert_string_equal(R.text, "bye");
  /* A refused body gives the block back too. */
  sg_rest_send_free(&R);
  assert_int_equal(parse("{\"to\": 5, \"text\": \"x\"}"), SG_EINVAL);
  sg_alloc_count_reset();
  assert_int_equal(parse(one), 0);
  assert_int_equal(sg_alloc_count(), 1);
#endif
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_time_golden),
      cmocka_unit_test(test_time_malformed),
      cmocka_unit_test(test_time_format),
      cmocka_unit_test(test_duration),
      cmocka_unit_test(test_bearer),
      cmocka_unit_test(test_idem_key_and_e164),
      cmocka_unit_test_setup_teardown(test_send_all_fields, setup, teardown),
      cmocka_unit_test_setup_teardown(test_send_defaults_and_nulls, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_send_max_recipients, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_preview_needs_no_to, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_send_refused, setup, teardown),
      cmocka_unit_test_setup_teardown(test_send_error_text_is_ascii, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_send_long_strings, setup, teardown),
      cmocka_unit_test_setup_teardown(test_send_at_bounds, setup, teardown),
      cmocka_unit_test_setup_teardown(test_hash_canonical, setup, teardown),
      cmocka_unit_test_setup_teardown(test_list_query, setup, teardown),
      cmocka_unit_test_setup_teardown(test_list_query_refused, setup, teardown),
      cmocka_unit_test_setup_teardown(test_send_oom, setup, teardown),
      cmocka_unit_test_setup_teardown(test_send_block, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
