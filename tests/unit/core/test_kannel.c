/* Tests for Kannel's dlr-url escape codes and URL encoding (core/kannel.h):
 * a table of templates and their expected expansions, worked out by hand
 * from Kannel's rules (urltrans_fill_escape_codes, octstr_url_encode), the
 * dlr-url examples of Kannel's user guide, and malformed and overflowing
 * templates. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <string.h>

#include "core/error.h"
#include "core/kannel.h"

static sg_kannel_dlr_vars_t vars(void) {
  sg_kannel_dlr_vars_t v = {
      .type = SG_KANNEL_DLR_DELIVERED,
      .answer = "id:1f3a sub:001 dlvrd:001 stat:DELIVRD err:000 text:Hi*x",
      .from = "Shop & Co",
      .to = "+79001234567",
      .smsc = "operator",
      .msg_id = "01J0000000000000000000000A",
      .smsc_id = "1f3a",
      .service = "shop",
      .account = "order/7",
      .dlr_url = "http://h/d?x=%d",
      .time_s = 1738324800, /* 2025-01-31 12:00:00 UTC */
      .coding = 0,
      .mclass = -1,
      .priority = 2,
  };
  return v;
}

static void url_encoding(void **state) {
  (void)state;
  char out[64];
  const char *in = "a b+c/d~e*f'(g)!h-i_j.k%\xd0\x9f";
  assert_int_equal(
      sg_kannel_url_encode((const uint8_t *)in, strlen(in), out, sizeof out),
      (int)strlen("a+b%2Bc%2Fd~e*f'(g)!h-i_j.k%25%D0%9F"));
  assert_string_equal(out, "a+b%2Bc%2Fd~e*f'(g)!h-i_j.k%25%D0%9F");
  assert_int_equal(sg_kannel_url_encode((const uint8_t *)"", 0, out, 1), 0);
  assert_string_equal(out, "");
  /* Too small: "%2B" needs 3 octets and the NUL one more. */
  assert_int_equal(sg_kannel_url_encode((const uint8_t *)"+", 1, out, 3),
                   SG_ENOSPC);
  assert_int_equal(sg_kannel_url_encode((const uint8_t *)"+", 1, out, 4), 3);
  assert_int_equal(sg_kannel_url_encode(NULL, 1, out, 4), SG_EINVAL);
}

typedef struct vec {
  const char *tmpl;
  const char *want;
} vec_t;

static const vec_t vectors[] = {
    /* The user guide's example dlr-url. */
    {"http://www.example.com/dlr.php?type=%d",
     "http://www.example.com/dlr.php?type=1"},
    {"http://h/dlr?id=%I&to=%p&from=%P&status=%d&answer=%A",
     "http://h/dlr?id=01J0000000000000000000000A&to=%2B79001234567&from="
     "Shop+%26+Co&status=1&answer=id%3A1f3a+sub%3A001+dlvrd%3A001+stat%3A"
     "DELIVRD+err%3A000+text%3AHi*x"},
    {"%i|%F|%n|%o|%y|%c|%C|%m|%O", "operator|1f3a|shop|order%2F7|2|0|UTF-8|"
                                   "-1|00"},
    {"%t %T", "2025-01-31+12:00:00 1738324800"},
    /* Words of the answer: keyword, next words, the rest, all. */
    {"%k/%s/%s/%r", "id%3A1f3a/sub%3A001/dlvrd%3A001/stat%3ADELIVRD+err%3A000+"
                    "text%3AHi*x"},
    {"%S%S%S%S%S%S", "sub:001dlvrd:001stat:DELIVRDerr:000text:Hi~x"},
    {"%a", "id%3A1f3a+sub%3A001+dlvrd%3A001+stat%3ADELIVRD+err%3A000+text%3A"
           "Hi*x"},
    /* Codes without a value in smsgate, meta-data, unknown codes, a
     * trailing '%', and %%. */
    {"[%B%D%f%u%U%v%V%x%M]", "[]"},
    {"a%#smpp#tlv#b", "ab"},
    {"a%#smpp", "asmpp"},
    {"%z%Z %", "%z%Z %"},
    {"100%%", "100%"},
    {"%R", "http%3A%2F%2Fh%2Fd%3Fx%3D%25d"},
    {"", ""},
};

static void expansions(void **state) {
  (void)state;
  sg_kannel_dlr_vars_t v = vars();
  char out[512];
  for (size_t i = 0; i < sizeof vectors / sizeof vectors[0]; i++) {
    int n = sg_kannel_dlr_expand(vectors[i].tmpl, strlen(vectors[i].tmpl), &v,
                                 out, sizeof out);
    if (n < 0 || strcmp(out, vectors[i].want) != 0)
      fail_msg("template '%s': got %d '%s', want '%s'", vectors[i].tmpl, n, out,
               vectors[i].want);
    assert_int_equal(n, (int)strlen(vectors[i].want));
  }
}

static void statuses_and_numbers(void **state) {
  (void)state;
  sg_kannel_dlr_vars_t v = vars();
  char out[128];
  const int types[] = {SG_KANNEL_DLR_DELIVERED, SG_KANNEL_DLR_FAILED,
                       SG_KANNEL_DLR_BUFFERED, SG_KANNEL_DLR_SMSC_OK,
                       SG_KANNEL_DLR_SMSC_FAIL};
  const char *want[] = {"1", "2", "4", "8", "16"};
  for (size_t i = 0; i < 5; i++) {
    v.type = types[i];
    assert_int_equal(sg_kannel_dlr_expand("%d", 2, &v, out, sizeof out),
                     (int)strlen(want[i]));
    assert_string_equal(out, want[i]);
  }
  /* %q and %Q turn a leading 00 into an encoded '+'. */
  v.to = "0079001234567";
  v.from = "0044";
  assert_true(sg_kannel_dlr_expand("%q %Q %p", 8, &v, out, sizeof out) > 0);
  assert_string_equal(out, "%2B79001234567 %2B44 0079001234567");
  /* UCS-2 with a message class: DCS 0x18 | 1 = 25. */
  v.coding = 2;
  v.mclass = 1;
  assert_true(sg_kannel_dlr_expand("%C %O", 5, &v, out, sizeof out) > 0);
  assert_string_equal(out, "UTF-16BE 25");
  /* Absent strings expand to nothing. */
  v.answer = NULL;
  v.smsc_id = NULL;
  assert_int_equal(
      sg_kannel_dlr_expand("[%A%b%k%a%e%F]", 14, &v, out, sizeof out), 2);
  assert_string_equal(out, "[]");
}

/* sg_kannel_dlr_reads_route says whether the coding, the operator's id,
 * the connector or the account name shows in the expansion: for every
 * template, two sets of values that differ only there expand alike
 * exactly when it says no. */
static void reads_route(void **state) {
  (void)state;
  static const struct {
    const char *tmpl;
    bool reads;
  } t[] = {
      {"http://h/d?d=%d&p=%p&P=%P&T=%T&A=%A&I=%I&o=%o&q=%q", false},
      {"http://h/d?c=%c", true},
      {"http://h/d?C=%C", true},
      {"http://h/d?O=%O", true},
      {"http://h/d?F=%F", true},
      {"http://h/d?i=%i", true},
      {"http://h/d?n=%n", true},
      {"http://h/d?x=%%c&y=%%n", false}, /* %% then a letter */
      {"http://h/d?%#g#p#n", false},     /* a meta code takes the n */
      {"http://h/d?%#g#p#%n", true},
      {"http://h/d?z=%z%", false},
      {"%", false},
      {"", false},
  };
  sg_kannel_dlr_vars_t a = vars(), b = vars();
  b.coding = 2;
  b.smsc_id = "other-id";
  b.smsc = "other-smsc";
  b.service = "other-user";
  for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
    char oa[512], ob[512];
    size_t n = strlen(t[i].tmpl);
    assert_true(sg_kannel_dlr_expand(t[i].tmpl, n, &a, oa, sizeof oa) >= 0);
    assert_true(sg_kannel_dlr_expand(t[i].tmpl, n, &b, ob, sizeof ob) >= 0);
    if (sg_kannel_dlr_reads_route(t[i].tmpl, n) != t[i].reads)
      fail_msg("template '%s': reads_route wrong", t[i].tmpl);
    if ((strcmp(oa, ob) != 0) != t[i].reads)
      fail_msg("template '%s': '%s' vs '%s'", t[i].tmpl, oa, ob);
  }
}

static void malformed_and_short(void **state) {
  (void)state;
  sg_kannel_dlr_vars_t v = vars();
  char out[8];
  assert_int_equal(sg_kannel_dlr_expand(NULL, 0, &v, out, sizeof out),
                   SG_EINVAL);
  assert_int_equal(sg_kannel_dlr_expand("%d", 2, NULL, out, sizeof out),
                   SG_EINVAL);
  assert_int_equal(sg_kannel_dlr_expand("%d", 2, &v, NULL, 8), SG_EINVAL);
  /* "%p" is 14 octets: does not fit in 8 (NUL included). */
  assert_int_equal(sg_kannel_dlr_expand("%p", 2, &v, out, sizeof out),
                   SG_ENOSPC);
  assert_int_equal(sg_kannel_dlr_expand("1234567", 7, &v, out, sizeof out), 7);
  assert_int_equal(sg_kannel_dlr_expand("12345678", 8, &v, out, sizeof out),
                   SG_ENOSPC);
  assert_int_equal(sg_kannel_dlr_expand("x", 1, &v, out, 0), SG_ENOSPC);
  /* The length bounds the template: an embedded '%' at the end. */
  assert_int_equal(sg_kannel_dlr_expand("ab%d", 3, &v, out, sizeof out), 3);
  assert_string_equal(out, "ab%");
}

/* Every capacity: the expansion is the whole one cut to cap - 1 octets,
 * SG_ENOSPC exactly when it does not fit, and nothing written past cap
 * (runs between codes are copied whole). */
static void every_capacity(void **state) {
  (void)state;
  sg_kannel_dlr_vars_t v = vars();
  static const char *const tmpls[] = {
      "http://127.0.0.1:8080/dlr?p=m&s=1234&t=%d",
      "http://h/%p/%q?a=%A&t=%T&z=%%&u=%u%#g#k#tail%",
      "plain text without a code at all, long enough for runs",
      "%d%d%d", "%", "", "%Q%dx%#unfinished"};
  for (size_t i = 0; i < sizeof tmpls / sizeof tmpls[0]; i++) {
    size_t len = strlen(tmpls[i]);
    char full[512];
    int n = sg_kannel_dlr_expand(tmpls[i], len, &v, full, sizeof full);
    assert_true(n >= 0);
    for (size_t cap = 0; cap <= (size_t)n + 2; cap++) {
      char out[520];
      memset(out, 'x', sizeof out);
      int rc = sg_kannel_dlr_expand(tmpls[i], len, &v, out, cap);
      if ((size_t)n < cap) {
        assert_int_equal(rc, n);
        assert_string_equal(out, full);
      } else {
        assert_int_equal(rc, SG_ENOSPC);
        if (cap > 0) {
          assert_memory_equal(out, full, cap - 1);
          assert_int_equal(out[cap - 1], '\0');
        }
      }
      assert_int_equal(out[cap], 'x');
    }
  }
}

/* Kannel's sms-service example: a keyword service that takes its argument
 * with %s ("weather Helsinki" calls ...?city=Helsinki). */
static void mo_service_urls(void **state) {
  (void)state;
  sg_kannel_mo_t mo = {.text = "Weather Helsinki today",
                       .from = "+358401234567",
                       .to = "12345",
                       .smsc = "operator",
                       .id = "01J0000000000000000000000B",
                       .service = "weather",
                       .time_s = 1738324800,
                       .coding = 0};
  sg_kannel_dlr_vars_t v;
  sg_kannel_mo_vars(&mo, &v);
  const char *t = "http://h/w?kw=%k&city=%s&rest=%r&all=%a&from=%p&to=%P&"
                  "q=%q&i=%i&I=%I&n=%n&T=%T&d=%d&c=%c";
  char out[256];
  int n = sg_kannel_dlr_expand(t, strlen(t), &v, out, sizeof out);
  const char *want =
      "http://h/w?kw=Weather&city=Helsinki&rest=today&all="
      "Weather+Helsinki+today&from=%2B358401234567&to=12345&"
      "q=%2B358401234567&i=operator&I=01J0000000000000000000000B&"
      "n=weather&T=1738324800&d=-1&c=0";
  assert_int_equal(n, (int)strlen(want));
  assert_string_equal(out, want);
  /* Nothing but a keyword: %s and %r are empty. */
  mo.text = "  STOP ";
  sg_kannel_mo_vars(&mo, &v);
  assert_true(sg_kannel_dlr_expand("[%k|%s|%r]", 10, &v, out, sizeof out) > 0);
  assert_string_equal(out, "[STOP||]");
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(url_encoding),
      cmocka_unit_test(expansions),
      cmocka_unit_test(statuses_and_numbers),
      cmocka_unit_test(malformed_and_short),
      cmocka_unit_test(every_capacity),
      cmocka_unit_test(reads_route),
      cmocka_unit_test(mo_service_urls),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
