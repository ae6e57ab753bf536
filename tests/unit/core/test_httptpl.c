/* Tests for core/httptpl.h and core/jsonpath.h: placeholders compiled and
 * filled with the escaping of URL, form, JSON, header and text places
 * (golden outputs), values that try to leave their place, errors with
 * their offsets, small buffers; JSON paths compiled, refused and evaluated
 * on answers of the shapes providers send. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <string.h>

#include "core/error.h"
#include "core/httptpl.h"
#include "core/jsonpath.h"

static sg_httptpl_val_t vals[SG_HTTPTPL_VAR_COUNT];

static void set(sg_httptpl_var_t v, const char *s) {
  vals[v].p = (const uint8_t *)s;
  vals[v].len = strlen(s);
}

static const char *render(const char *tpl, sg_httptpl_esc_t esc) {
  static char out[1024];
  static sg_httptpl_t t;
  size_t off = 99, n = 0;
  assert_int_equal(sg_httptpl_compile(tpl, strlen(tpl), &t, &off), 0);
  assert_int_equal(sg_httptpl_render(&t, esc, vals, out, sizeof out, &n, NULL),
                   0);
  assert_int_equal(n, strlen(out));
  return out;
}

static void setup_vals(void) {
  memset(vals, 0, sizeof vals);
  set(SG_HTTPTPL_TO, "+447700900001");
  set(SG_HTTPTPL_FROM, "A&B Shop");
  set(SG_HTTPTPL_TEXT, "Caf\xc3\xa9 \"50%\" & more\nline=2/\\ \x01~");
  set(SG_HTTPTPL_PART, "2");
  vals[SG_HTTPTPL_UDH].p = (const uint8_t *)"\x05\x00\x03\xa7\x02\x02";
  vals[SG_HTTPTPL_UDH].len = 6;
}

static void url_and_form(void **state) {
  (void)state;
  setup_vals();
  assert_string_equal(
      render("http://h/send?to={{to}}&from={{ from }}&text={{text}}&p={{part}}",
             SG_HTTPTPL_ESC_URL),
      "http://h/send?to=%2B447700900001&from=A%26B%20Shop&text=Caf%C3%A9%20%"
      "2250%25%22%20%26%20more%0Aline%3D2%2F%5C%20%01~&p=2");
  assert_string_equal(
      render("to={{to}}&text={{text}}&udh={{udh}}", SG_HTTPTPL_ESC_FORM),
      "to=%2B447700900001&text=Caf%C3%A9+%2250%25%22+%26+more%"
      "0Aline%3D2%2F%5C+%01~&udh=%05%00%03%A7%02%02");
}

static void json_header_text(void **state) {
  (void)state;
  setup_vals();
  assert_string_equal(
      render("{\"to\":\"{{to}}\",\"text\":\"{{text}}\",\"part\":{{part}}}",
             SG_HTTPTPL_ESC_JSON),
      "{\"to\":\"+447700900001\",\"text\":\"Caf\xc3\xa9 \\\"50%\\\" & "
      "more\\nline=2/\\\\ \\u0001~\",\"part\":2}");
  /* A text cannot start a new header line. */
  assert_string_equal(render("Bearer {{text}}", SG_HTTPTPL_ESC_HEADER),
                      "Bearer Caf\xc3\xa9 \"50%\" & more line=2/\\  ~");
  assert_string_equal(render("{{from}}:{{text}}", SG_HTTPTPL_ESC_TEXT),
                      "A&B Shop:Caf\xc3\xa9 \"50%\" & more\nline=2/\\ \x01~");
  /* Literals are kept as written, single braces too; no placeholder. */
  assert_string_equal(render("{a} }} {x", SG_HTTPTPL_ESC_URL), "{a} }} {x");
  assert_string_equal(render("", SG_HTTPTPL_ESC_URL), "");
}

static void json_refuses_binary(void **state) {
  (void)state;
  setup_vals();
  sg_httptpl_t t;
  char out[256];
  int bad = -1;
  const char *tpl = "{\"udh\":\"{{udh}}\"}";
  assert_int_equal(sg_httptpl_compile(tpl, strlen(tpl), &t, NULL), 0);
  assert_int_equal(sg_httptpl_render(&t, SG_HTTPTPL_ESC_JSON, vals, out,
                                     sizeof out, NULL, &bad),
                   SG_EILSEQ);
  assert_int_equal(bad, SG_HTTPTPL_UDH);
  assert_true((t.uses & (1u << SG_HTTPTPL_UDH)) != 0);
  assert_true((t.uses & (1u << SG_HTTPTPL_TO)) == 0);
}

static void compile_errors(void **state) {
  (void)state;
  sg_httptpl_t t;
  size_t off = 0;
  const char *a = "x={{to}}&y={{nope}}";
  assert_int_equal(sg_httptpl_compile(a, strlen(a), &t, &off), SG_EINVAL);
  assert_int_equal(off, 11);
  const char *b = "abc {{to";
  assert_int_equal(sg_httptpl_compile(b, strlen(b), &t, &off), SG_EINVAL);
  assert_int_equal(off, 4);
  const char *c = "{{ TO }}"; /* names are lower case */
  assert_int_equal(sg_httptpl_compile(c, strlen(c), &t, &off), SG_EINVAL);
  char many[64 * 8 + 1] = "";
  for (int i = 0; i < 64; i++)
    strcat(many, "a{{to}}");
  assert_int_equal(sg_httptpl_compile(many, strlen(many), &t, &off),
                   SG_ETOOLONG);
  assert_string_equal(sg_httptpl_var_name(SG_HTTPTPL_RECEIPT_URL),
                      "receipt_url");
  assert_null(sg_httptpl_var_name(SG_HTTPTPL_VAR_COUNT));
}

static void small_buffers(void **state) {
  (void)state;
  setup_vals();
  sg_httptpl_t t;
  const char *tpl = "to={{to}}";
  assert_int_equal(sg_httptpl_compile(tpl, strlen(tpl), &t, NULL), 0);
  char out[32];
  size_t n = 0;
  /* "to=%2B447700900001" is 18 octets and a NUL. */
  assert_int_equal(
      sg_httptpl_render(&t, SG_HTTPTPL_ESC_URL, vals, out, 19, &n, NULL), 0);
  assert_string_equal(out, "to=%2B447700900001");
  assert_int_equal(
      sg_httptpl_render(&t, SG_HTTPTPL_ESC_URL, vals, out, 18, &n, NULL),
      SG_ENOSPC);
  assert_int_equal(
      sg_httptpl_render(&t, SG_HTTPTPL_ESC_URL, vals, out, 2, &n, NULL),
      SG_ENOSPC);
  assert_int_equal(
      sg_httptpl_render(&t, SG_HTTPTPL_ESC_URL, vals, out, 0, &n, NULL),
      SG_ENOSPC);
}

static void examples_fill_every_name(void **state) {
  (void)state;
  sg_httptpl_val_t ex[SG_HTTPTPL_VAR_COUNT];
  sg_httptpl_examples(ex);
  for (int i = 0; i < SG_HTTPTPL_VAR_COUNT; i++)
    assert_true(ex[i].len > 0);
}

/* ---- JSON paths ---------------------------------------------------------- */

static const char *get(const char *path, const char *doc, int want) {
  static char out[128];
  sg_jsonpath_t p;
  size_t off = 0;
  assert_int_equal(sg_jsonpath_compile(path, strlen(path), &p, &off), 0);
  json_t *root = json_loads(doc, JSON_DECODE_ANY, NULL);
  assert_non_null(root);
  out[0] = '\0';
  assert_int_equal(sg_jsonpath_get(&p, root, out, sizeof out), want);
  json_decref(root);
  return out;
}

static void jsonpath_values(void **state) {
  (void)state;
  const char *doc =
      "{\"messages\":[{\"id\":\"abc-1\",\"status\":0},{\"id\":77}],"
      "\"message-id\":\"x\",\"ok\":true,\"r\":1.5,\"n\":null,\"o\":{}}";
  assert_string_equal(get("$.messages[0].id", doc, 0), "abc-1");
  assert_string_equal(get("$.messages[1].id", doc, 0), "77");
  assert_string_equal(get("$['message-id']", doc, 0), "x");
  assert_string_equal(get("$[\"messages\"][0].status", doc, 0), "0");
  assert_string_equal(get("$.ok", doc, 0), "true");
  assert_string_equal(get("$.r", doc, 0), "1.5");
  get("$.messages[2].id", doc, SG_ENOENT);
  get("$.n", doc, SG_ENOENT);
  get("$.missing", doc, SG_ENOENT);
  get("$.messages.id", doc, SG_ENOENT); /* a name on an array */
  get("$.o", doc, SG_EINVAL);
  get("$.messages", doc, SG_EINVAL);
  assert_string_equal(get("$", "\"top\"", 0), "top");
}

static void jsonpath_errors(void **state) {
  (void)state;
  sg_jsonpath_t p;
  size_t off = 0;
  static const struct {
    const char *path;
    int rc;
    size_t off;
  } bad[] = {
      {"", SG_EINVAL, 0},
      {"messages[0]", SG_EINVAL, 0},
      {"$.", SG_EINVAL, 1},
      {"$.a..b", SG_EINVAL, 3},
      {"$[x]", SG_EINVAL, 1},
      {"$[0", SG_EINVAL, 1},
      {"$['a]", SG_EINVAL, 1},
      {"$.a[*]", SG_EINVAL, 3},
      {"$.a b", SG_EINVAL, 3},
      {"$..a", SG_EINVAL, 1},
      {"$[1234567890]", SG_EINVAL, 1},
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    off = 999;
    assert_int_equal(
        sg_jsonpath_compile(bad[i].path, strlen(bad[i].path), &p, &off),
        bad[i].rc);
    assert_int_equal(off, bad[i].off);
  }
  char deep[64] = "$";
  for (int i = 0; i < 17; i++)
    strcat(deep, ".a");
  assert_int_equal(sg_jsonpath_compile(deep, strlen(deep), &p, &off),
                   SG_ETOOLONG);
  char longname[100] = "$.";
  memset(longname + 2, 'n', 64);
  longname[66] = '\0';
  assert_int_equal(sg_jsonpath_compile(longname, strlen(longname), &p, &off),
                   SG_ETOOLONG);
  /* A value longer than the buffer. */
  assert_int_equal(sg_jsonpath_compile("$.a", 3, &p, &off), 0);
  json_t *root = json_loads("{\"a\":\"0123456789\"}", 0, NULL);
  char out[10];
  assert_int_equal(sg_jsonpath_get(&p, root, out, sizeof out), SG_ENOSPC);
  char out11[11];
  assert_int_equal(sg_jsonpath_get(&p, root, out11, sizeof out11), 0);
  assert_string_equal(out11, "0123456789");
  json_decref(root);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(url_and_form),
      cmocka_unit_test(json_header_text),
      cmocka_unit_test(json_refuses_binary),
      cmocka_unit_test(compile_errors),
      cmocka_unit_test(small_buffers),
      cmocka_unit_test(examples_fill_every_name),
      cmocka_unit_test(jsonpath_values),
      cmocka_unit_test(jsonpath_errors),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
