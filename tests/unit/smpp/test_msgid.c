/* Tests for message-id keys and matching: the same SMSC id written in hex in
 * submit_sm_resp and in decimal in the receipt, in another case, or padded
 * with zeros. Numeric golden values were computed independently (Python's
 * int(s, 16)). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdbool.h>
#include <string.h>

#include "core/error.h"
#include "smpp/msgid.h"

/* 16^64 - 1 and 0x04000000086ECD50, a real pair: submit_sm_resp gave the
 * hex, the receipt the decimal. */
#define MAX64_DEC                                                              \
  "1157920892373161954235709850086879078532699846656405640394575840079131"     \
  "29639935"
#define F64 "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff"

typedef struct key_case {
  sg_msgid_mode_t mode;
  const char *id;
  int rc;
  const char *key;
} key_case_t;

static const key_case_t key_cases[] = {
    {SG_MSGID_EXACT, "AbC-001", 0, "AbC-001"},
    {SG_MSGID_EXACT, "0007", 0, "0007"},
    {SG_MSGID_NOCASE, "AbC-001", 0, "abc-001"},
    {SG_MSGID_NOCASE, "\xC3\x89T\xC3\xA9", 0, "\xC3\x89t\xC3\xA9"},
    {SG_MSGID_DECIMAL, "000123", 0, "123"},
    {SG_MSGID_DECIMAL, "0", 0, "0"},
    {SG_MSGID_DECIMAL, "000", 0, "0"},
    {SG_MSGID_DECIMAL, "288230376293190992", 0, "288230376293190992"},
    {SG_MSGID_DECIMAL, "12a", SG_EINVAL, NULL},
    {SG_MSGID_DECIMAL, "-1", SG_EINVAL, NULL},
    {SG_MSGID_DECIMAL, " 1", SG_EINVAL, NULL},
    {SG_MSGID_DECIMAL, "0x10", SG_EINVAL, NULL},
    {SG_MSGID_HEX, "04000000086ECD50", 0, "288230376293190992"},
    {SG_MSGID_HEX, "04000000086ecd50", 0, "288230376293190992"},
    {SG_MSGID_HEX, "0x04000000086ECD50", 0, "288230376293190992"},
    {SG_MSGID_HEX, "0X1f", 0, "31"},
    {SG_MSGID_HEX, "12345678", 0, "305419896"},
    {SG_MSGID_HEX, "0", 0, "0"},
    {SG_MSGID_HEX, "0x0", 0, "0"},
    {SG_MSGID_HEX, "c449ab9744f47b6af1879e49e75e4f40", 0,
     "260911205121351858987260133948822277952"},
    {SG_MSGID_HEX, F64, 0, MAX64_DEC},
    {SG_MSGID_HEX, "0000000000" F64, 0, MAX64_DEC}, /* zeros don't count */
    {SG_MSGID_HEX, "1" F64, SG_ETOOLONG, NULL},
    {SG_MSGID_HEX, "0x", SG_EINVAL, NULL},
    {SG_MSGID_HEX, "g1", SG_EINVAL, NULL},
    {SG_MSGID_HEX, "6f2929a9-e61a", SG_EINVAL, NULL},
    {SG_MSGID_AUTO, "288230376293190992", 0, "288230376293190992"},
    {SG_MSGID_AUTO, "04000000086ECD50", 0, "288230376293190992"},
    {SG_MSGID_AUTO, "0x1F", 0, "31"},
    {SG_MSGID_AUTO, "12345678", 0, "12345678"}, /* digits only: decimal */
    {SG_MSGID_AUTO, "000", 0, "0"},
    {SG_MSGID_AUTO, "00ABC-xyz", 0, "abc-xyz"},
    {SG_MSGID_AUTO, "6f2929a9-E61A-435f", 0, "6f2929a9-e61a-435f"},
    {SG_MSGID_AUTO, "1" F64, 0, "1" F64}, /* too long for a number */
    {SG_MSGID_AUTO, "", SG_EINVAL, NULL},
    {SG_MSGID_EXACT, "", SG_EINVAL, NULL},
    {(sg_msgid_mode_t)99, "1", SG_EINVAL, NULL},
};

static void keys(void **state) {
  (void)state;
  for (size_t i = 0; i < sizeof key_cases / sizeof *key_cases; i++) {
    const key_case_t *c = &key_cases[i];
    char out[SG_MSGID_KEY_MAX + 1 + 64];
    size_t n = 9999;
    print_message("key %d %s\n", c->mode, c->id);
    int rc = sg_msgid_key(c->id, strlen(c->id), c->mode, out, sizeof out, &n);
    assert_int_equal(rc, c->rc);
    if (rc == 0) {
      assert_string_equal(out, c->key);
      assert_int_equal(n, strlen(c->key));
    }
  }
}

/* The id is read only up to its length: no NUL is needed. */
static void keys_use_length(void **state) {
  (void)state;
  char out[SG_MSGID_KEY_MAX + 1];
  assert_int_equal(
      sg_msgid_key("1FFFxyz", 4, SG_MSGID_HEX, out, sizeof out, NULL), 0);
  assert_string_equal(out, "8191");
  assert_int_equal(
      sg_msgid_key("0012", 3, SG_MSGID_AUTO, out, sizeof out, NULL), 0);
  assert_string_equal(out, "1");
}

static void keys_enospc(void **state) {
  (void)state;
  char out[SG_MSGID_KEY_MAX + 1];
  const char *hex = "04000000086ECD50"; /* key has 18 digits */
  for (size_t cap = 0; cap <= 18; cap++) {
    memset(out, 'Z', sizeof out);
    assert_int_equal(sg_msgid_key(hex, 16, SG_MSGID_HEX, out, cap, NULL),
                     SG_ENOSPC);
    for (size_t i = 0; i < sizeof out; i++)
      assert_int_equal(out[i], 'Z');
  }
  assert_int_equal(sg_msgid_key(hex, 16, SG_MSGID_HEX, out, 19, NULL), 0);
  assert_string_equal(out, "288230376293190992");
  assert_int_equal(sg_msgid_key("abc", 3, SG_MSGID_EXACT, NULL, 0, NULL),
                   SG_ENOSPC);
  assert_int_equal(sg_msgid_key("abc", 3, SG_MSGID_EXACT, out, 3, NULL),
                   SG_ENOSPC);
  /* The largest numeric key fits SG_MSGID_KEY_MAX + 1. */
  assert_int_equal(sg_msgid_key(F64, 64, SG_MSGID_HEX, out, sizeof out, NULL),
                   0);
  assert_int_equal(strlen(out), SG_MSGID_KEY_MAX);
}

static void keys_bad_arguments(void **state) {
  (void)state;
  char out[8];
  assert_int_equal(sg_msgid_key(NULL, 1, SG_MSGID_EXACT, out, 8, NULL),
                   SG_EINVAL);
  assert_int_equal(sg_msgid_key("1", 1, SG_MSGID_EXACT, NULL, 8, NULL),
                   SG_EINVAL);
}

/* A decimal of 78 significant digits is the longest numeric key. */
static void keys_decimal_length(void **state) {
  (void)state;
  char id[100], out[SG_MSGID_KEY_MAX + 1];
  memset(id, '0', sizeof id);
  memset(id + 100 - 78, '9', 78);
  assert_int_equal(
      sg_msgid_key(id, 100, SG_MSGID_DECIMAL, out, sizeof out, NULL), 0);
  assert_int_equal(strlen(out), 78);
  id[100 - 79] = '1';
  assert_int_equal(
      sg_msgid_key(id, 100, SG_MSGID_DECIMAL, out, sizeof out, NULL),
      SG_ETOOLONG);
}

typedef struct match_case {
  const char *resp, *receipt;
  sg_msgid_mode_t mode;
  int rule;
} match_case_t;

static const match_case_t match_cases[] = {
    {"abc", "abc", SG_MSGID_AUTO, SG_MSGID_RULE_EXACT},
    {"ABC", "abc", SG_MSGID_AUTO, SG_MSGID_RULE_NOCASE},
    {"6f29-A", "6F29-a", SG_MSGID_AUTO, SG_MSGID_RULE_NOCASE},
    {"000123", "123", SG_MSGID_AUTO, SG_MSGID_RULE_ZEROS},
    {"00ab", "AB", SG_MSGID_AUTO, SG_MSGID_RULE_ZEROS},
    {"0", "000", SG_MSGID_AUTO, SG_MSGID_RULE_ZEROS},
    {"04000000086ECD50", "288230376293190992", SG_MSGID_AUTO,
     SG_MSGID_RULE_HEX_DEC},
    {"288230376293190992", "04000000086ecd50", SG_MSGID_AUTO,
     SG_MSGID_RULE_DEC_HEX},
    {"0x1F", "31", SG_MSGID_AUTO, SG_MSGID_RULE_HEX_DEC},
    {"12345678", "305419896", SG_MSGID_AUTO, SG_MSGID_RULE_HEX_DEC},
    {"1F", "0x1f", SG_MSGID_AUTO, SG_MSGID_RULE_HEX},
    {"16", "10", SG_MSGID_AUTO,
     SG_MSGID_RULE_DEC_HEX}, /* the documented guess */
    {"abc", "abd", SG_MSGID_AUTO, SG_MSGID_RULE_NONE},
    {"abc-1", "abc-01", SG_MSGID_AUTO, SG_MSGID_RULE_NONE},
    {"", "", SG_MSGID_AUTO, SG_MSGID_RULE_NONE},
    {"x", "", SG_MSGID_AUTO, SG_MSGID_RULE_NONE},
    {"abc", "abc", SG_MSGID_EXACT, SG_MSGID_RULE_EXACT},
    {"ABC", "abc", SG_MSGID_EXACT, SG_MSGID_RULE_NONE},
    {"ABC", "abc", SG_MSGID_NOCASE, SG_MSGID_RULE_NOCASE},
    {"0abc", "abc", SG_MSGID_NOCASE, SG_MSGID_RULE_NONE},
    {"0x1F", "001f", SG_MSGID_HEX, SG_MSGID_RULE_HEX},
    {"1F", "31", SG_MSGID_HEX, SG_MSGID_RULE_NONE},
    {"zz", "zz", SG_MSGID_HEX, SG_MSGID_RULE_NONE},
    {"007", "7", SG_MSGID_DECIMAL, SG_MSGID_RULE_DECIMAL},
    {"0x7", "7", SG_MSGID_DECIMAL, SG_MSGID_RULE_NONE},
    {"7a", "7a", SG_MSGID_DECIMAL, SG_MSGID_RULE_NONE},
    {"1" F64, "1" F64, SG_MSGID_HEX, SG_MSGID_RULE_NONE}, /* too long */
    {"1" F64, "1" F64, SG_MSGID_AUTO, SG_MSGID_RULE_EXACT},
};

static void matches(void **state) {
  (void)state;
  for (size_t i = 0; i < sizeof match_cases / sizeof *match_cases; i++) {
    const match_case_t *c = &match_cases[i];
    print_message("match %s %s %d\n", c->resp, c->receipt, c->mode);
    assert_int_equal(sg_msgid_match(c->resp, strlen(c->resp), c->receipt,
                                    strlen(c->receipt), c->mode),
                     c->rule);
  }
  assert_int_equal(sg_msgid_match(NULL, 1, "1", 1, SG_MSGID_AUTO), SG_EINVAL);
  assert_int_equal(sg_msgid_match("1", 1, NULL, 1, SG_MSGID_AUTO), SG_EINVAL);
  assert_int_equal(sg_msgid_match(NULL, 0, "1", 1, SG_MSGID_AUTO), 0);
  assert_int_equal(sg_msgid_match("1", 1, "1", 1, (sg_msgid_mode_t)5),
                   SG_EINVAL);
}

static void rule_names(void **state) {
  (void)state;
  static const char *const names[] = {"none",  "exact",   "nocase",
                                      "zeros", "hex_dec", "dec_hex",
                                      "hex",   "decimal"};
  for (int r = 0; r <= SG_MSGID_RULE_DECIMAL; r++)
    assert_string_equal(sg_msgid_rule_name((sg_msgid_rule_t)r), names[r]);
  assert_null(sg_msgid_rule_name((sg_msgid_rule_t)8));
  assert_null(sg_msgid_rule_name((sg_msgid_rule_t)-1));
}

/* Keys and matching agree: in a fixed mode, two ids match exactly when their
 * keys are equal; in AUTO, equal keys imply a match. */
static const char *const pool[] = {
    "0",
    "000",
    "7",
    "007",
    "16",
    "10",
    "1F",
    "1f",
    "0x1F",
    "31",
    "0031",
    "abc",
    "ABC",
    "0abc",
    "2748",
    "xyz",
    "XYZ",
    "00xyz",
    "0x",
    "x",
    "04000000086ECD50",
    "288230376293190992",
    "12345678",
    "305419896",
    "6f2929a9-e61a",
    "6F2929A9-E61A",
    "1" F64,
    F64,
    MAX64_DEC,
};

static bool key_of(const char *id, sg_msgid_mode_t mode, char *out) {
  return sg_msgid_key(id, strlen(id), mode, out, SG_MSGID_KEY_MAX + 1 + 64,
                      NULL) == 0;
}

static void keys_agree_with_match(void **state) {
  (void)state;
  static const sg_msgid_mode_t modes[] = {SG_MSGID_EXACT, SG_MSGID_NOCASE,
                                          SG_MSGID_HEX, SG_MSGID_DECIMAL};
  size_t n = sizeof pool / sizeof *pool;
  for (size_t i = 0; i < n; i++) {
    for (size_t j = 0; j < n; j++) {
      const char *a = pool[i], *b = pool[j];
      char ka[SG_MSGID_KEY_MAX + 65], kb[SG_MSGID_KEY_MAX + 65];
      for (size_t m = 0; m < 4; m++) {
        bool same = key_of(a, modes[m], ka) && key_of(b, modes[m], kb) &&
                    strcmp(ka, kb) == 0;
        int rule = sg_msgid_match(a, strlen(a), b, strlen(b), modes[m]);
        assert_int_equal(rule > 0, same);
      }
      assert_true(key_of(a, SG_MSGID_AUTO, ka));
      assert_true(key_of(b, SG_MSGID_AUTO, kb));
      if (strcmp(ka, kb) == 0)
        assert_true(sg_msgid_match(a, strlen(a), b, strlen(b), SG_MSGID_AUTO) >
                    0);
      /* An id always matches its own AUTO key. */
      assert_true(sg_msgid_match(a, strlen(a), ka, strlen(ka), SG_MSGID_AUTO) >
                  0);
    }
  }
}

/* Kannel's msg-id-type: keys of different modes per side line up. */
static void keys_across_sides(void **state) {
  (void)state;
  char resp[SG_MSGID_KEY_MAX + 1], rcpt[SG_MSGID_KEY_MAX + 1];
  assert_int_equal(sg_msgid_key("04000000086ECD50", 16, SG_MSGID_HEX, resp,
                                sizeof resp, NULL),
                   0);
  assert_int_equal(sg_msgid_key("288230376293190992", 18, SG_MSGID_DECIMAL,
                                rcpt, sizeof rcpt, NULL),
                   0);
  assert_string_equal(resp, rcpt);
  assert_int_equal(
      sg_msgid_key("12345678", 8, SG_MSGID_HEX, resp, sizeof resp, NULL), 0);
  assert_int_equal(
      sg_msgid_key("0305419896", 10, SG_MSGID_DECIMAL, rcpt, sizeof rcpt, NULL),
      0);
  assert_string_equal(resp, rcpt);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(keys),
      cmocka_unit_test(keys_use_length),
      cmocka_unit_test(keys_enospc),
      cmocka_unit_test(keys_bad_arguments),
      cmocka_unit_test(keys_decimal_length),
      cmocka_unit_test(matches),
      cmocka_unit_test(rule_names),
      cmocka_unit_test(keys_agree_with_match),
      cmocka_unit_test(keys_across_sides),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
