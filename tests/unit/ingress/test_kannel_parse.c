/* Tests for reading Kannel sendsms requests (ingress/kannel.h): arguments
 * and their aliases, integers read as Kannel's sscanf("%d") reads them,
 * every field check with Kannel's exact answer line (smsbox.c's wording),
 * charsets of the text (UTF-8, ISO-8859-1, UTF-16BE as Kannel's coding=2
 * default), form bodies, and lists of numbers; malformed input throughout. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <ctype.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "ingress/kannel.h"

#define A(n, v)                                                                \
  { n, v, sizeof(v) - 1 }

static void arguments_and_aliases(void **state) {
  (void)state;
  const sg_kannel_arg_t args[] = {
      A("user", "alias-user"), A("username", "shop"),
      A("pass", "pw"),         A("to", "4670 4671"),
      A("text", "Hi\0there"),  A("coding", " 2x"),
      A("dlrmask", "31"),      A("dlr-url", "http://h/?d=%d"),
      A("validity", "-5"),     A("deferred", "abc"),
      A("priority", "+3"),     A("username", "second"),
      A("account", "acc"),     A("mclass", "1"),
  };
  sg_kannel_req_t r;
  sg_kannel_req_read(args, sizeof args / sizeof args[0], &r);
  assert_string_equal(r.username, "shop"); /* the main name wins */
  assert_string_equal(r.password, "pw");   /* an alias when it is alone */
  assert_string_equal(r.to, "4670 4671");
  assert_int_equal(r.text_len, 8); /* with its NUL octet */
  assert_memory_equal(r.text, "Hi\0there", 8);
  assert_int_equal(r.coding, 2);
  assert_int_equal(r.dlr_mask, 31);
  assert_string_equal(r.dlr_url, "http://h/?d=%d");
  assert_int_equal(r.validity, -5);
  assert_int_equal(r.deferred, SG_KANNEL_UNDEF);
  assert_int_equal(r.priority, 3);
  assert_string_equal(r.account, "acc");
  assert_int_equal(r.mclass, 1);
  assert_null(r.from);
  assert_null(r.charset);
  assert_null(r.udh);

  sg_kannel_req_read(NULL, 0, &r);
  assert_null(r.username);
  assert_int_equal(r.coding, SG_KANNEL_UNDEF);
  assert_int_equal(r.dlr_mask, SG_KANNEL_UNDEF);
}

typedef struct check_vec {
  const char *name, *value;
  const char *want; /* NULL: accepted */
  size_t len;       /* of value; 0: strlen */
} check_vec_t;

static const check_vec_t checks[] = {
    {"dlr-mask", "66", NULL, 0},
    {"dlr-mask", "67", "DLR-Mask field misformed, rejected", 0},
    {"dlr-mask", "-2", "DLR-Mask field misformed, rejected", 0},
    {"dlr-url", "https://x", NULL, 0},
    {"dlr-url", "HTTP://x", NULL, 0},
    {"dlr-url", "ftp://x.example/", "DLR-URL field misformed, rejected", 0},
    {"dlr-url", "http:/", "DLR-URL field misformed, rejected", 0},
    {"mclass", "3", NULL, 0},
    {"mclass", "4", "MClass field misformed, rejected", 0},
    {"coding", "2", NULL, 0},
    {"coding", "3", "Coding field misformed, rejected", 0},
    {"validity", "-1", NULL, 0},
    {"validity", "-2", "Validity field misformed, rejected", 0},
    {"deferred", "-2", "Deferred field misformed, rejected", 0},
    {"priority", "0", NULL, 0},
    {"priority", "4", "Priority field misformed, rejected", 0},
    {"priority", "-1", NULL, 0}, /* Kannel reads -1 as "not given" */
    {"priority", "-3", "Priority field misformed, rejected", 0},
    {"account", "a[1]", "Account field misformed or too long, rejected", 0},
    {"account",
     "12345678901234567890123456789012345678901234567890123456789012345",
     "Account field misformed or too long, rejected", 0},
    {"udh", "\x05\x00\x03\x01\x02\x01", NULL, 6},
    {"udh", "\x05\x00\x03", "UDH field misformed, rejected", 3},
};

static void field_checks(void **state) {
  (void)state;
  sg_kannel_answer_t err;
  for (size_t i = 0; i < sizeof checks / sizeof checks[0]; i++) {
    sg_kannel_arg_t args[] = {
        A("to", "4670"),
        {checks[i].name, checks[i].value,
         checks[i].len ? checks[i].len : strlen(checks[i].value)}};
    sg_kannel_req_t r;
    sg_kannel_req_read(args, 2, &r);
    memset(&err, 0, sizeof err);
    int rc = sg_kannel_req_check(&r, false, &err);
    if (checks[i].want == NULL) {
      if (rc != 0)
        fail_msg("%s=%s refused: %s", checks[i].name, checks[i].value,
                 err.text);
    } else {
      assert_int_equal(rc, SG_EINVAL);
      assert_int_equal(err.http, 400);
      if (strcmp(err.text, checks[i].want) != 0)
        fail_msg("%s=%s: got '%s'", checks[i].name, checks[i].value, err.text);
    }
  }
  /* The receiver: missing (GET and X-Kannel wording), empty. */
  sg_kannel_req_t r;
  sg_kannel_req_read(NULL, 0, &r);
  assert_int_equal(sg_kannel_req_check(&r, false, &err), SG_EINVAL);
  assert_string_equal(err.text, "Missing receiver number, rejected");
  assert_int_equal(sg_kannel_req_check(&r, true, &err), SG_EINVAL);
  assert_string_equal(err.text, "Missing receiver(s) number(s), rejected");
  sg_kannel_arg_t empty[] = {A("to", "")};
  sg_kannel_req_read(empty, 1, &r);
  assert_int_equal(sg_kannel_req_check(&r, false, &err), SG_EINVAL);
  assert_string_equal(err.text, "Empty receiver number not allowed, rejected");
}

static void text_charsets(void **state) {
  (void)state;
  uint8_t out[64];
  size_t len = 0;
  sg_kannel_req_t r;
  /* Default UTF-8, checked. */
  sg_kannel_arg_t a1[] = {A("text", "\xd0\x9f\xd1\x80\xd0\xb8")};
  sg_kannel_req_read(a1, 1, &r);
  assert_int_equal(sg_kannel_text_utf8(&r, out, sizeof out, &len), 0);
  assert_int_equal(len, 6);
  sg_kannel_arg_t bad[] = {A("text", "\xd0")};
  sg_kannel_req_read(bad, 1, &r);
  assert_int_equal(sg_kannel_text_utf8(&r, out, sizeof out, &len), SG_EILSEQ);
  /* coding=2 without a charset: the text is UTF-16BE octets, NULs and a
   * surrogate pair (U+1F600) included. */
  sg_kannel_arg_t u[] = {A("coding", "2"),
                         A("text", "\x00H\x04\x1f\xd8\x3d\xde\x00")};
  sg_kannel_req_read(u, 2, &r);
  assert_int_equal(sg_kannel_text_utf8(&r, out, sizeof out, &len), 0);
  assert_int_equal(len, 1 + 2 + 4);
  assert_memory_equal(out, "H\xd0\x9f\xf0\x9f\x98\x80", 7);
  sg_kannel_arg_t odd[] = {A("coding", "2"), A("text", "\x00H\x04")};
  sg_kannel_req_read(odd, 2, &r);
  assert_int_equal(sg_kannel_text_utf8(&r, out, sizeof out, &len), SG_EILSEQ);
  sg_kannel_arg_t lone[] = {A("coding", "2"), A("text", "\xd8\x3d\x00H")};
  sg_kannel_req_read(lone, 2, &r);
  assert_int_equal(sg_kannel_text_utf8(&r, out, sizeof out, &len), SG_EILSEQ);
  /* coding=2 with charset=UTF-8: the text is UTF-8. */
  sg_kannel_arg_t u8[] = {A("coding", "2"), A("charset", "utf-8"),
                          A("text", "\xd0\x9f")};
  sg_kannel_req_read(u8, 3, &r);
  assert_int_equal(sg_kannel_text_utf8(&r, out, sizeof out, &len), 0);
  assert_int_equal(len, 2);
  /* ISO-8859-1. */
  sg_kannel_arg_t l1[] = {A("charset", "ISO-8859-1"), A("text", "caf\xe9")};
  sg_kannel_req_read(l1, 2, &r);
  assert_int_equal(sg_kannel_text_utf8(&r, out, sizeof out, &len), 0);
  assert_int_equal(len, 5);
  assert_memory_equal(out, "caf\xc3\xa9", 5);
  assert_int_equal(sg_kannel_text_utf8(&r, out, 4, &len), SG_ENOSPC);
  /* Another charset. */
  sg_kannel_arg_t k[] = {A("charset", "KOI8-R"), A("text", "x")};
  sg_kannel_req_read(k, 2, &r);
  assert_int_equal(sg_kannel_text_utf8(&r, out, sizeof out, &len), SG_ENOTSUP);
}

static void form_bodies(void **state) {
  (void)state;
  const char *body = "username=shop&to=4670+4671&text=%D0%9F%00x&flag&&=v";
  size_t len = strlen(body);
  char buf[256];
  sg_kannel_arg_t args[8];
  int n = sg_kannel_form_parse((const uint8_t *)body, len, buf, args, 8);
  assert_int_equal(n, 5);
  assert_string_equal(args[0].name, "username");
  assert_string_equal(args[0].value, "shop");
  assert_string_equal(args[1].value, "4670 4671");
  assert_int_equal(args[2].len, 4);
  assert_memory_equal(args[2].value, "\xd0\x9f\0x", 4);
  assert_string_equal(args[3].name, "flag");
  assert_int_equal(args[3].len, 0);
  assert_string_equal(args[4].name, "");
  assert_string_equal(args[4].value, "v");
  /* Worst case for the buffer: 2 * len + 2. */
  char small[2 * 5 + 2];
  assert_int_equal(
      sg_kannel_form_parse((const uint8_t *)"a&b&c", 5, small, args, 8), 3);
  assert_int_equal(
      sg_kannel_form_parse((const uint8_t *)"a=%4", 4, buf, args, 8),
      SG_EILSEQ);
  assert_int_equal(
      sg_kannel_form_parse((const uint8_t *)"a=%zz", 5, buf, args, 8),
      SG_EILSEQ);
  assert_int_equal(
      sg_kannel_form_parse((const uint8_t *)"a&b&c", 5, buf, args, 2),
      SG_ERANGE);
  assert_int_equal(sg_kannel_form_parse((const uint8_t *)"", 0, buf, args, 8),
                   0);
}

/* The decoding as it was written first, an octet at a time: the form
 * parser must give the same arguments or the same error. */
static int ref_decode(const char *s, size_t n, char *buf) {
  size_t o = 0;
  for (size_t i = 0; i < n; i++) {
    if (s[i] == '%') {
      if (i + 2 >= n || !isxdigit((unsigned char)s[i + 1]) ||
          !isxdigit((unsigned char)s[i + 2]))
        return -1;
      char hex[3] = {s[i + 1], s[i + 2], 0};
      buf[o++] = (char)strtol(hex, NULL, 16);
      i += 2;
    } else {
      buf[o++] = s[i] == '+' ? ' ' : s[i];
    }
  }
  return (int)o;
}

static void form_runs_as_octets(void **state) {
  (void)state;
  static const char alphabet[] = "abcXYZ019=&%+-_.~ ";
  static const char *const escapes[] = {"%41", "%2B", "%00", "%zz", "%4"};
  uint32_t x = 12345;
  for (int t = 0; t < 20000; t++) {
    char q[160];
    size_t len = 0, want_len = (size_t)t % 150;
    while (len < want_len) {
      x = x * 1103515245u + 12345u;
      unsigned r = (x >> 16) % 40;
      if (r == 0) {
        const char *e = escapes[(x >> 8) % 5];
        memcpy(q + len, e, strlen(e));
        len += strlen(e);
      } else if (r < 4) {
        q[len++] = alphabet[(x >> 8) % (sizeof alphabet - 1)];
      } else {
        q[len++] = (char)('a' + (x >> 8) % 26);
      }
    }
    char buf[2 * 160 + 2];
    sg_kannel_arg_t args[SG_KANNEL_ARGS_MAX];
    int n = sg_kannel_form_parse((const uint8_t *)q, len, buf, args,
                                 SG_KANNEL_ARGS_MAX);
    /* The reference: split on '&' and '=', each piece decoded alone; a
     * bad piece anywhere makes the whole query an error. */
    char names[SG_KANNEL_ARGS_MAX][160], values[SG_KANNEL_ARGS_MAX][160];
    int nls[SG_KANNEL_ARGS_MAX], vls[SG_KANNEL_ARGS_MAX];
    size_t pos = 0, k = 0;
    bool bad = false;
    while (pos < len && !bad) {
      const char *amp = memchr(q + pos, '&', len - pos);
      size_t end = amp != NULL ? (size_t)(amp - q) : len;
      const char *eq = memchr(q + pos, '=', end - pos);
      size_t nend = eq != NULL ? (size_t)(eq - q) : end;
      if (end > pos) {
        assert_true(k < SG_KANNEL_ARGS_MAX);
        nls[k] = ref_decode(q + pos, nend - pos, names[k]);
        vls[k] = eq != NULL ? ref_decode(eq + 1, end - nend - 1, values[k]) : 0;
        bad = nls[k] < 0 || vls[k] < 0;
        k++;
      }
      pos = end + 1;
    }
    if (bad) {
      assert_int_equal(n, SG_EILSEQ);
      continue;
    }
    assert_int_equal(n, (int)k);
    for (size_t i = 0; i < k; i++) {
      assert_memory_equal(args[i].name, names[i], (size_t)nls[i]);
      assert_int_equal(args[i].name[nls[i]], '\0'); /* may hold NUL before */
      assert_int_equal(args[i].len, (size_t)vls[i]);
      assert_memory_equal(args[i].value, values[i], (size_t)vls[i]);
      assert_int_equal(args[i].value[vls[i]], '\0');
    }
  }
}

static void numbers(void **state) {
  (void)state;
  char buf[64];
  const char *to[4];
  assert_int_equal(sg_kannel_split_to("  4670\t4671\r\n+4672 ", buf, to, 4), 3);
  assert_string_equal(to[0], "4670");
  assert_string_equal(to[1], "4671");
  assert_string_equal(to[2], "+4672");
  assert_int_equal(sg_kannel_split_to("   ", buf, to, 4), 0);
  assert_int_equal(sg_kannel_split_to("1 2 3 4 5", buf, to, 4), SG_ERANGE);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(arguments_and_aliases),
      cmocka_unit_test(field_checks),
      cmocka_unit_test(text_charsets),
      cmocka_unit_test(form_bodies),
      cmocka_unit_test(form_runs_as_octets),
      cmocka_unit_test(numbers),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
