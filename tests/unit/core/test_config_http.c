/* Tests for the `http` mapping of a connector of type http: the shipped
 * provider templates load; defaults; every kind of bad template,
 * placeholder, JSON body, JSON path, regular expression and status list is
 * an error with its file, line and column; secrets are never echoed;
 * SMPP keys stay SMPP's; a reload sees a changed template. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "core/config.h"
#include "core/config_diff.h"
#include "core/error.h"

/* Loads doc; returns the code, and the formatted errors joined by '\n'. */
static int load(const char *doc, sg_config_t **cfg, char *out, size_t cap) {
  sg_config_errors_t errs;
  int rc = sg_config_load_string("t.yaml", doc, strlen(doc), cfg, &errs);
  out[0] = '\0';
  for (size_t i = 0; rc != 0 && i < errs.count; i++) {
    char line[600];
    sg_config_error_format(&errs, i, line, sizeof line);
    strncat(out, line, cap - strlen(out) - 2);
    strcat(out, "\n");
  }
  return rc;
}

static char errbuf[8192];

/* One connector whose http mapping is `http` (flow style, one line). */
static int load_http(const char *http, sg_config_t **cfg) {
  char doc[4096];
  snprintf(doc, sizeof doc,
           "connectors:\n"
           "  - name: p\n"
           "    type: http\n"
           "    http: %s\n",
           http);
  return load(doc, cfg, errbuf, sizeof errbuf);
}

static void expect_error(const char *http, const char *want) {
  sg_config_t *cfg = NULL;
  int rc = load_http(http, &cfg);
  if (rc != SG_ECONFIG || strstr(errbuf, want) == NULL)
    fail_msg("for %s\nwanted: %s\ngot (%d): %s", http, want, rc, errbuf);
  assert_null(cfg);
}

static char *read_file(const char *name) {
  /* The shipped files, found from this source file's path. */
  char path[1024];
  const char *slash = strrchr(__FILE__, '/');
  int dir = slash != NULL ? (int)(slash - __FILE__) : 1;
  snprintf(path, sizeof path, "%.*s/../../../packaging/providers/%s", dir,
           slash != NULL ? __FILE__ : ".", name);
  FILE *f = fopen(path, "rb");
  assert_non_null(f);
  static char buf[16384];
  size_t n = fread(buf, 1, sizeof buf - 1, f);
  fclose(f);
  buf[n] = '\0';
  return buf;
}

static void shipped_templates_load(void **state) {
  (void)state;
  sg_config_t *cfg = NULL;
  assert_int_equal(
      load(read_file("generic-json.yaml"), &cfg, errbuf, sizeof errbuf), 0);
  const sg_config_connector_t *k = &cfg->connectors[0];
  assert_int_equal(k->type, SG_CONFIG_CONNECTOR_HTTP);
  assert_int_equal(k->http.method, SG_CONFIG_HTTP_POST);
  assert_int_equal(k->http.n_headers, 1);
  assert_string_equal(k->http.headers[0].name, "Authorization");
  assert_string_equal(k->http.message_id, "$.messages[0].id");
  assert_string_equal(k->http.receipt.id, "$.id");
  assert_true(sg_config_http_code_in(&k->http.accept_codes, 201));
  assert_false(sg_config_http_code_in(&k->http.accept_codes, 301));
  assert_true(sg_config_http_code_in(&k->http.temporary_codes, 503));
  assert_true(sg_config_http_code_in(&k->http.temporary_codes, 429));
  assert_false(sg_config_http_code_in(&k->http.temporary_codes, 400));
  sg_config_free(cfg);
  assert_int_equal(
      load(read_file("kannel-sendsms.yaml"), &cfg, errbuf, sizeof errbuf), 0);
  k = &cfg->connectors[0];
  assert_int_equal(k->http.method, SG_CONFIG_HTTP_GET);
  assert_string_equal(k->http.message_id_template, "{{ref}}");
  assert_int_equal(k->http.receipt.n_statuses, 5);
  assert_string_equal(k->http.receipt.statuses[4].word, "16");
  assert_int_equal(k->http.receipt.statuses[4].state, 8); /* rejected */
  assert_true(sg_config_http_code_in(&k->http.accept_codes, 202));
  assert_false(sg_config_http_code_in(&k->http.accept_codes, 204));
  sg_config_free(cfg);
}

static void defaults(void **state) {
  (void)state;
  sg_config_t *cfg = NULL;
  assert_int_equal(
      load_http("{url: \"http://h/s?to={{to}}\", message_id: \"$.id\"}", &cfg),
      0);
  const sg_config_conn_http_t *h = &cfg->connectors[0].http;
  assert_int_equal(h->method, SG_CONFIG_HTTP_POST);
  assert_int_equal(h->body_type, SG_CONFIG_HTTP_BODY_JSON);
  assert_null(h->body);
  assert_true(h->tls_verify);
  assert_string_equal(h->receipt.id, "id");
  assert_string_equal(h->receipt.status, "status");
  assert_string_equal(h->receipt.secret_param, "secret");
  assert_string_equal(h->receipt.hmac_header, "X-Signature");
  assert_true(sg_config_http_code_in(&h->accept_codes, 200));
  assert_true(sg_config_http_code_in(&h->accept_codes, 299));
  assert_true(sg_config_http_code_in(&h->temporary_codes, 408));
  assert_true(sg_config_http_code_in(&h->temporary_codes, 425));
  assert_true(sg_config_http_code_in(&h->temporary_codes, 599));
  assert_false(sg_config_http_code_in(&h->temporary_codes, 404));
  sg_config_free(cfg);
}

static void errors_with_positions(void **state) {
  (void)state;
  expect_error("{url: \"http://h/?to={{too}}\", message_id: \"$.id\"}",
               "t.yaml:4:17: connectors[0].http.url: url: unknown or "
               "unterminated placeholder at offset 13");
  expect_error("{url: \"http://h/\", body: '{\"to\": {{to}}}', message_id: "
               "\"$.id\"}",
               "connectors[0].http.body: body is not JSON once its "
               "placeholders are filled");
  expect_error("{url: \"http://h/\", body: '{\"u\": \"{{udh}}\"}', "
               "message_id: \"$.id\"}",
               "{{udh}} holds binary octets");
  expect_error("{url: \"http://h/\", message_id: \"$.messages[x]\"}",
               "t.yaml:4:42: connectors[0].http.message_id: invalid JSON "
               "path at offset 10");
  expect_error("{url: \"http://h/\", message_id: \"messages.id\"}",
               "expected a JSON path starting with \"$\"");
  expect_error("{url: \"http://h/\", message_id_regex: \"id=([0-9]+\"}",
               "connectors[0].http.message_id_regex: invalid regular "
               "expression at offset 10: missing closing parenthesis");
  expect_error("{url: \"http://h/\", message_id_regex: \"id=[0-9]+\"}",
               "needs a capture group");
  expect_error("{url: \"http://h/\"}",
               "t.yaml:4:11: connectors[0].http: give exactly one of "
               "message_id");
  expect_error("{url: \"http://h/\", message_id: \"$.id\", "
               "message_id_template: \"{{ref}}\"}",
               "give exactly one of message_id");
  expect_error("{url: \"http://h/\", message_id: \"$.id\", accept: [\"2x\"]}",
               "connectors[0].http.accept[0]: expected an HTTP status");
  expect_error("{url: \"http://h/\", message_id: \"$.id\", temporary: "
               "[\"500\", \"700\"]}",
               "connectors[0].http.temporary[1]: expected an HTTP status");
  expect_error("{url: \"http://h/\", message_id: \"$.id\", method: GET, body: "
               "\"x\", body_type: text}",
               "a GET request has no body");
  expect_error("{url: \"http://h/\", message_id: \"$.id\", method: DELETE}",
               "connectors[0].http.method: expected one of");
  expect_error("{url: \"http://h/\", message_id: \"$.id\", receipt: "
               "{statuses: {\"1\": delivred}}}",
               "connectors[0].http.receipt.statuses.1: expected one of "
               "delivered");
  expect_error("{url: \"http://h/\", message_id: \"$.id\", receipt: "
               "{status: \"$.a[\"}}",
               "connectors[0].http.receipt.status: invalid JSON path");
  expect_error("{url: \"http://h/\", message_id: \"$.id\", receipt_url: "
               "\"http://x/{{receipt_url}}\"}",
               "receipt_url cannot contain");
  expect_error("{url: \"http://h/\", message_id: \"$.id\", headers: "
               "{\"X-A\": \"{{nope}}\"}}",
               "connectors[0].http.headers.X-A: unknown or unterminated");
  expect_error("{url: \"http://h/\", message_id: \"$.id\", receipt: "
               "{secret_header: X-S}}",
               "need \"secret\"");
  expect_error("{url: \"http://h/\", message_id: \"$.id\", urll: \"x\"}",
               "unknown key; did you mean \"url\"?");
  expect_error("{message_id: \"$.id\"}", "missing required key \"url\"");
}

static void secrets_not_echoed(void **state) {
  (void)state;
  expect_error("{url: \"http://h/\", message_id: \"$.id\", password: "
               "[\"hunter2\"]}",
               "connectors[0].http.password");
  assert_null(strstr(errbuf, "hunter2"));
  expect_error("{url: \"http://h/\", message_id: \"$.id\", receipt: "
               "{hmac_secret: {a: s3cr3t}}}",
               "hmac_secret");
  assert_null(strstr(errbuf, "s3cr3t"));
}

static void type_keys(void **state) {
  (void)state;
  sg_config_t *cfg = NULL;
  assert_int_equal(load("connectors:\n  - {name: p, type: http}\n", &cfg,
                        errbuf, sizeof errbuf),
                   SG_ECONFIG);
  assert_non_null(strstr(errbuf, "missing required key \"http\""));
  assert_int_equal(load("connectors:\n  - {name: p, type: smpp, host: h, "
                        "system_id: s, http: {url: \"http://h/\"}}\n",
                        &cfg, errbuf, sizeof errbuf),
                   SG_ECONFIG);
  assert_non_null(strstr(errbuf, "only with type: http"));
}

static void reload_sees_template_change(void **state) {
  (void)state;
  sg_config_t *a = NULL, *b = NULL;
  assert_int_equal(
      load_http("{url: \"http://h/s?to={{to}}\", message_id: \"$.id\"}", &a),
      0);
  assert_int_equal(
      load_http("{url: \"http://h/s?to={{to}}\", message_id: \"$.id\"}", &b),
      0);
  sg_config_diff_t d;
  assert_int_equal(sg_config_diff(a, b, &d), 0);
  assert_int_equal(d.n_connectors, 1);
  assert_int_equal(d.connectors[0].change, SG_CONFIG_SAME);
  sg_config_diff_free(&d);
  sg_config_free(b);
  assert_int_equal(
      load_http("{url: \"http://h/s?to={{to_digits}}\", message_id: \"$.id\"}",
                &b),
      0);
  assert_int_equal(sg_config_diff(a, b, &d), 0);
  assert_int_equal(d.connectors[0].change, SG_CONFIG_REBIND);
  assert_non_null(strstr(d.connectors[0].keys, "http"));
  sg_config_diff_free(&d);
  sg_config_free(a);
  sg_config_free(b);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(shipped_templates_load),
      cmocka_unit_test(defaults),
      cmocka_unit_test(errors_with_positions),
      cmocka_unit_test(secrets_not_echoed),
      cmocka_unit_test(type_keys),
      cmocka_unit_test(reload_sees_template_change),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
