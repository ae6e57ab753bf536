/* Tests for the pure pieces of the HTTP provider connector
 * (connector/http_rule.c): a part's template values for GSM 7-bit (with an
 * extension character and a national table), UCS-2 and binary parts and
 * for each part of long messages split by core/segment.h, filled into
 * URL, form and JSON templates; answers read by status class, JSON path,
 * regular expression and id template; query and form parameters; status
 * words. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "connector/http_conn_int.h"
#include "core/error.h"
#include "core/segment.h"

static sg_segments_t segs;

/* Part i of text split by core/segment.h, addressed like the engine does. */
static sg_conn_part_t part_of(const char *text, const sg_seg_opts_t *o,
                              unsigned i) {
  assert_int_equal(
      sg_segment_text((const uint8_t *)text, strlen(text), o, &segs, NULL), 0);
  sg_conn_part_t p;
  memset(&p, 0, sizeof p);
  p.dst = (sg_conn_addr_t){1, 1, "447911123401"};
  p.src = (sg_conn_addr_t){5, 0, "Shop&Co"};
  p.encoding = segs.encoding;
  p.lang_locking = segs.charset.locking;
  p.lang_single = segs.charset.single;
  p.udh = segs.parts[i].udh_len ? segs.parts[i].udh : NULL;
  p.udh_len = segs.parts[i].udh_len;
  p.ud = segs.parts[i].ud;
  p.ud_len = segs.parts[i].ud_len;
  p.concat_ref = 0xA7;
  p.concat_total = (uint8_t)segs.nparts;
  p.concat_seq = (uint8_t)(i + 1);
  p.want_report = true;
  return p;
}

static const char *fill(const char *tpl, sg_httptpl_esc_t esc,
                        const sg__httpc_vals_t *v) {
  static char out[4096];
  sg_httptpl_t t;
  assert_int_equal(sg_httptpl_compile(tpl, strlen(tpl), &t, NULL), 0);
  assert_int_equal(
      sg_httptpl_render(&t, esc, v->v, out, sizeof out, NULL, NULL), 0);
  return out;
}

static sg__httpc_vals_t vals;

static void gsm7_single(void **state) {
  (void)state;
  sg_conn_part_t p = part_of("Price: 5€ [ok]", NULL, 0);
  assert_int_equal(p.encoding, SG_ENC_GSM7);
  sg_httptpl_t rurl;
  const char *ru = "http://gw/v1/hooks/provider/k?id={{ref}}&s=%d";
  assert_int_equal(sg_httptpl_compile(ru, strlen(ru), &rurl, NULL), 0);
  assert_int_equal(sg__httpc_values(&p, "01JD5Y4Q8Z8N6V2X9K3T7R1W0M", "u",
                                    "p&w", NULL, &rurl, &vals),
                   0);
  assert_string_equal(
      fill("to={{to}}&d={{to_digits}}&from={{from}}&text={{text}}&c={{coding}}"
           "&dcs={{dcs}}&udh={{udh}}&p={{part}}/{{parts}}&dlr={{dlr}}&pw="
           "{{password}}&r={{receipt_url}}",
           SG_HTTPTPL_ESC_URL, &vals),
      "to=%2B447911123401&d=447911123401&from=Shop%26Co&text=Price%3A%205%E2%"
      "82%AC%20%5Bok%5D&c=0&dcs=0&udh=&p=1/1&dlr=1&pw=p%26w&r=http%3A%2F%2Fgw"
      "%2Fv1%2Fhooks%2Fprovider%2Fk%3Fid%3D01JD5Y4Q8Z8N6V2X9K3T7R1W0M.1%26s%3D"
      "%25d");
  /* The receipt URL itself: only {{ref}} was escaped in it, once. */
  assert_string_equal(vals.receipt_url, "http://gw/v1/hooks/provider/k?id="
                                        "01JD5Y4Q8Z8N6V2X9K3T7R1W0M.1&s=%d");
  /* The septets of the extension characters, one per octet. */
  assert_string_equal(fill("{{ud_hex}}", SG_HTTPTPL_ESC_TEXT, &vals),
                      "50726963653A20351B6520"
                      "1B3C6F6B1B3E");
}

static void national_table(void **state) {
  (void)state;
  sg_seg_opts_t o = {.encoding = SG_ENC_AUTO, .national = true};
  /* Over 70 characters: the Turkish table keeps it in one GSM part. */
  const char *tr = "Şişli'de buluşalım, ğüç kişi gelecek; Çarşamba günü "
                   "saat üçte, İstanbul'da görüşürüz.";
  sg_conn_part_t p = part_of(tr, &o, 0);
  assert_int_equal(segs.nparts, 1);
  assert_int_equal(p.encoding, SG_ENC_GSM7);
  assert_true(p.lang_locking != 0 || p.lang_single != 0);
  assert_int_equal(sg__httpc_values(&p, "M", NULL, NULL, NULL, NULL, &vals), 0);
  char want[256];
  snprintf(want, sizeof want, "{\"t\":\"%s\"}", tr);
  assert_string_equal(fill("{\"t\":\"{{text}}\"}", SG_HTTPTPL_ESC_JSON, &vals),
                      want);
  /* The national table's IE rides in the UDH. */
  assert_true(strlen(fill("{{udh_hex}}", SG_HTTPTPL_ESC_TEXT, &vals)) > 0);
}

static void ucs2_long(void **state) {
  (void)state;
  char text[512] = "";
  for (int i = 0; i < 20; i++)
    strcat(text, "Привет! ");
  char joined[1024] = "";
  for (unsigned i = 0; i < 3; i++) {
    sg_conn_part_t p = part_of(text, NULL, i);
    assert_int_equal(segs.nparts, 3);
    assert_int_equal(p.encoding, SG_ENC_UCS2);
    assert_int_equal(sg__httpc_values(&p, "01JD5Y4Q8Z8N6V2X9K3T7R1W0M", NULL,
                                      NULL, "t\"k", NULL, &vals),
                     0);
    char want[160];
    snprintf(want, sizeof want,
             "{\"coding\":2,\"dcs\":8,\"part\":%u,\"parts\":3,\"ref\":"
             "\"01JD5Y4Q8Z8N6V2X9K3T7R1W0M.%u\",\"token\":\"t\\\"k\"}",
             i + 1, i + 1);
    assert_string_equal(fill("{\"coding\":{{coding}},\"dcs\":{{dcs}},\"part\":"
                             "{{part}},\"parts\":{{parts}},\"ref\":\"{{ref}}\","
                             "\"token\":\"{{token}}\"}",
                             SG_HTTPTPL_ESC_JSON, &vals),
                        want);
    const char *udh = fill("{{udh_hex}}", SG_HTTPTPL_ESC_TEXT, &vals);
    assert_int_equal(strlen(udh), 12);
    assert_memory_equal(udh, "050003", 6);
    char seq[3];
    snprintf(seq, sizeof seq, "%02u", i + 1);
    assert_memory_equal(udh + 10, seq, 2);
    strcat(joined, vals.text);
  }
  assert_string_equal(joined, text);
}

static void binary_part(void **state) {
  (void)state;
  static const uint8_t data[] = {0x00, 0xff, 0x10};
  sg_conn_part_t p;
  memset(&p, 0, sizeof p);
  p.dst = (sg_conn_addr_t){2, 1, "0791112"};
  p.encoding = SG_ENC_8BIT;
  p.ud = data;
  p.ud_len = sizeof data;
  assert_int_equal(sg__httpc_values(&p, NULL, NULL, NULL, NULL, NULL, &vals),
                   0);
  assert_string_equal(fill("{{to}}|{{text}}|{{ud_hex}}|{{coding}}|{{dcs}}|"
                           "{{ref}}|{{dlr}}",
                           SG_HTTPTPL_ESC_TEXT, &vals),
                      "0791112||00FF10|1|4|.1|0");
}

/* ---- answers ------------------------------------------------------------- */

static sg_config_conn_http_t base_http(void) {
  sg_config_conn_http_t h;
  memset(&h, 0, sizeof h);
  for (unsigned k = 200; k <= 299; k++)
    h.accept_codes.bits[(k - 100) / 8] |= (uint8_t)(1u << ((k - 100) % 8));
  unsigned t[] = {429, 500, 503};
  for (size_t i = 0; i < 3; i++)
    h.temporary_codes.bits[(t[i] - 100) / 8] |=
        (uint8_t)(1u << ((t[i] - 100) % 8));
  return h;
}

static void classify(const sg__httpc_rule_t *r, unsigned status,
                     const char *body, sg__httpc_answer_t *a) {
  sg__httpc_classify(r, status, (const uint8_t *)body, strlen(body), &vals, a);
}

static void answers_json(void **state) {
  (void)state;
  sg_config_conn_http_t h = base_http();
  h.message_id = "$.messages[0].id";
  h.error = "$.error.message";
  sg__httpc_rule_t r;
  assert_int_equal(sg__httpc_rule_init(&r, &h), 0);
  sg__httpc_answer_t a;
  classify(&r, 201, "{\"messages\":[{\"id\":\"abc-9\"}]}", &a);
  assert_int_equal(a.outcome, SG_CONN_SENT);
  assert_string_equal(a.id, "abc-9");
  classify(&r, 200, "{\"messages\":[]}", &a);
  assert_int_equal(a.outcome, SG_CONN_SENT); /* taken: never resent */
  assert_string_equal(a.id, "");
  assert_string_equal(a.error, "accepted, but no message id in the answer");
  classify(&r, 503, "{\"error\":{\"message\":\"busy\"}}", &a);
  assert_int_equal(a.outcome, SG_CONN_TEMPFAIL);
  assert_string_equal(a.error, "HTTP 503: busy");
  classify(&r, 429, "", &a);
  assert_int_equal(a.outcome, SG_CONN_TEMPFAIL);
  assert_true(a.throttled);
  assert_string_equal(a.error, "HTTP 429");
  classify(&r, 400, "{\"error\":{\"message\":\"bad number\"}}", &a);
  assert_int_equal(a.outcome, SG_CONN_PERMFAIL);
  assert_string_equal(a.error, "HTTP 400: bad number");
  classify(&r, 404, "<html>\nNot\tfound</html>", &a);
  assert_int_equal(a.outcome, SG_CONN_PERMFAIL);
  assert_string_equal(a.error, "HTTP 404: <html> Not found</html>");
  classify(&r, 302, "", &a); /* redirects are not followed */
  assert_int_equal(a.outcome, SG_CONN_PERMFAIL);
  sg__httpc_rule_close(&r);
}

static void answers_regex_and_template(void **state) {
  (void)state;
  sg_config_conn_http_t h = base_http();
  h.accept_regex = "^[03]: ";
  h.message_id_template = "{{ref}}";
  h.error_regex = "^(?:-?[0-9]+: )?(.+)";
  sg__httpc_rule_t r;
  assert_int_equal(sg__httpc_rule_init(&r, &h), 0);
  sg_conn_part_t p;
  memset(&p, 0, sizeof p);
  p.encoding = SG_ENC_GSM7;
  p.concat_seq = 2;
  assert_int_equal(sg__httpc_values(&p, "MSG", NULL, NULL, NULL, NULL, &vals),
                   0);
  sg__httpc_answer_t a;
  classify(&r, 202, "0: Accepted for delivery", &a);
  assert_int_equal(a.outcome, SG_CONN_SENT);
  assert_string_equal(a.id, "MSG.2");
  classify(&r, 202, "3: Queued for later delivery", &a);
  assert_int_equal(a.outcome, SG_CONN_SENT);
  classify(&r, 200, "Authorization failed for sendsms", &a);
  assert_int_equal(a.outcome, SG_CONN_PERMFAIL);
  assert_string_equal(a.error, "HTTP 200: Authorization failed for sendsms");
  classify(&r, 403, "-1: Authorization failed", &a);
  assert_string_equal(a.error, "HTTP 403: Authorization failed");
  sg__httpc_rule_close(&r);
  h = base_http();
  h.message_id_regex = "id=([A-Za-z0-9]+)";
  assert_int_equal(sg__httpc_rule_init(&r, &h), 0);
  classify(&r, 200, "OK id=Z81 cost=1", &a);
  assert_string_equal(a.id, "Z81");
  sg__httpc_rule_close(&r);
  h.message_id_regex = "id=(";
  assert_int_equal(sg__httpc_rule_init(&r, &h), SG_ECONFIG);
}

static void params_and_words(void **state) {
  (void)state;
  char out[64];
  const char *q = "id=01J.1&status=1&x&msg=a+b%26c%3D&id=second";
  assert_int_equal(sg__httpc_param(q, strlen(q), "id", out, sizeof out), 5);
  assert_string_equal(out, "01J.1");
  assert_int_equal(sg__httpc_param(q, strlen(q), "msg", out, sizeof out), 6);
  assert_string_equal(out, "a b&c=");
  assert_int_equal(sg__httpc_param(q, strlen(q), "x", out, sizeof out), 0);
  assert_string_equal(out, "");
  assert_int_equal(sg__httpc_param(q, strlen(q), "nope", out, sizeof out),
                   SG_ENOENT);
  assert_int_equal(sg__httpc_param(q, strlen(q), "msg", out, 4), SG_ENOSPC);
  assert_int_equal(sg__httpc_param("a=%zz%4", 7, "a", out, sizeof out), 5);
  assert_string_equal(out, "%zz%4");

  sg_config_http_status_t words[] = {{"1", 2}, {"16", 8}, {"Sent", 6}};
  sg_config_http_receipt_t r = {.statuses = words, .n_statuses = 3};
  assert_int_equal(sg__httpc_state(&r, "1"), 2);
  assert_int_equal(sg__httpc_state(&r, "16"), 8);
  assert_int_equal(sg__httpc_state(&r, "sent"), 6); /* configured wins */
  assert_int_equal(sg__httpc_state(&r, "DELIVRD"), 2);
  assert_int_equal(sg__httpc_state(&r, "Undeliverable"), 5);
  assert_int_equal(sg__httpc_state(&r, "expired"), 3);
  assert_int_equal(sg__httpc_state(&r, "2"), 0);
  assert_int_equal(sg__httpc_state(&r, ""), 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(gsm7_single),
      cmocka_unit_test(national_table),
      cmocka_unit_test(ucs2_long),
      cmocka_unit_test(binary_part),
      cmocka_unit_test(answers_json),
      cmocka_unit_test(answers_regex_and_template),
      cmocka_unit_test(params_and_words),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
