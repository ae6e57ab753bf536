/* test_smpp_server_concat.c - the groups of customers' pre-split parts
 * (smpp_server_concat.c): parts of one message share a batch id in any
 * order and between other groups; a repeated part does not complete a
 * group; a whole group is forgotten (the reference may be used again); a
 * group is forgotten after its time to live; the table stays bounded when
 * more groups are open than it holds; keys that do not fit are refused;
 * a group remembers its stored message, forgotten with it and after the
 * configured time to live; part ids are written and split back, malformed
 * ones refused; concatenation IEs with a sequence of 0 or above the total
 * are found. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "core/error.h"
#include "ingress/smpp_server_int.h"

static int setup(void **state) {
  *state = sg_calloc(1, sizeof(sg__smpps_concat_t));
  return *state ? 0 : -1;
}

static int teardown(void **state) {
  sg_free(*state);
  return 0;
}

static void key(const char *dst, uint16_t ref, unsigned total, char *out) {
  assert_true(sg__smpps_concat_key(0, "Shop", dst, ref, total, out));
}

static void batch(sg__smpps_concat_t *t, const char *k, unsigned total,
                  unsigned seq, int64_t now, char *out) {
  assert_int_equal(sg__smpps_concat_batch(t, k, total, seq, now, out), 0);
  assert_int_equal(strlen(out), SG_ID_LEN);
}

static void parts_share_a_batch(void **state) {
  sg__smpps_concat_t *t = *state;
  char a[SG_SMPPS_CONCAT_KEY], b[SG_SMPPS_CONCAT_KEY];
  key("79001234567", 0x42, 3, a);
  key("79001234568", 0x42, 3, b); /* another destination: another group */
  assert_string_equal(a, "0|Shop|79001234567|66|3");
  char a2[27], b1[27], a3[27], a1[27], a2bis[27], b2[27];
  batch(t, a, 3, 2, 1000, a2);
  batch(t, b, 3, 1, 1001, b1);
  batch(t, a, 3, 2, 1002, a2bis); /* repeated: same batch, not counted */
  batch(t, a, 3, 3, 1003, a3);
  assert_string_equal(a2, a2bis);
  assert_string_equal(a2, a3);
  assert_string_not_equal(a2, b1);
  batch(t, a, 3, 1, 1004, a1); /* the last one: the group is whole */
  assert_string_equal(a2, a1);
  char again[27];
  batch(t, a, 3, 1, 1005, again); /* the reference used again */
  assert_string_not_equal(again, a1);
  batch(t, b, 3, 2, 1006, b2);
  assert_string_equal(b1, b2);
}

static void groups_expire(void **state) {
  sg__smpps_concat_t *t = *state;
  char k[SG_SMPPS_CONCAT_KEY], x[27], y[27], z[27];
  key("79001234567", 7, 2, k);
  batch(t, k, 2, 1, 0, x);
  batch(t, k, 2, 1, SG_SMPPS_CONCAT_TTL_MS - 1, y); /* refreshed */
  assert_string_equal(x, y);
  batch(t, k, 2, 2, 2 * SG_SMPPS_CONCAT_TTL_MS, z); /* too late */
  assert_string_not_equal(x, z);
}

static void bounded_table(void **state) {
  sg__smpps_concat_t *t = *state;
  /* Twice as many open groups as slots: each still gets a batch, the
   * newest are remembered, and nothing grows. */
  char k[SG_SMPPS_CONCAT_KEY], first[27], out[27], last[27];
  for (unsigned i = 0; i < 2 * SG_SMPPS_CONCAT_SLOTS; i++) {
    char dst[16];
    snprintf(dst, sizeof dst, "7900%07u", i);
    key(dst, 1, 2, k);
    batch(t, k, 2, 1, 10 + i, i == 0 ? first : out);
  }
  memcpy(last, out, sizeof last);
  char again[27];
  batch(t, k, 2, 1, 10 + 2 * SG_SMPPS_CONCAT_SLOTS, again);
  assert_string_equal(again, last); /* the newest group is still known */
  unsigned used = 0;
  for (unsigned i = 0; i < SG_SMPPS_CONCAT_SLOTS; i++)
    used += t->slot[i].used;
  assert_true(used <= SG_SMPPS_CONCAT_SLOTS);
  assert_true(used > SG_SMPPS_CONCAT_SLOTS / 2);
}

static void long_keys_refused(void **state) {
  (void)state;
  char k[SG_SMPPS_CONCAT_KEY], dst[120];
  memset(dst, '9', sizeof dst - 1);
  dst[sizeof dst - 1] = '\0';
  assert_false(sg__smpps_concat_key(1, "Shop", dst, 1, 2, k));
  assert_true(sg__smpps_concat_key(1, NULL, "1", 65535, 255, k));
  assert_string_equal(k, "1||1|65535|255");
}

static void group_keeps_its_message(void **state) {
  sg__smpps_concat_t *t = *state;
  t->ttl_ms = 5000;
  char k[SG_SMPPS_CONCAT_KEY], b[SG_ID_LEN + 1], m[SG_ID_LEN + 1];
  key("+79001", 3, 3, k);
  batch(t, k, 3, 1, 1000, b);
  sg__smpps_concat_msg(t, k, 1000, m);
  assert_string_equal(m, "");
  sg__smpps_concat_set_msg(t, k, 1000, "01JD0000000000000000000000");
  sg__smpps_concat_set_msg(t, k, 1000, "too-short"); /* ignored */
  sg__smpps_concat_msg(t, k, 5999, m);
  assert_string_equal(m, "01JD0000000000000000000000");
  sg__smpps_concat_msg(t, k, 6000, m); /* part_wait after its last part */
  assert_string_equal(m, "");
  batch(t, k, 3, 2, 6000, b); /* a new group: no message yet */
  sg__smpps_concat_msg(t, k, 6000, m);
  assert_string_equal(m, "");
  batch(t, k, 3, 1, 6001, b);
  batch(t, k, 3, 3, 6002, b); /* whole: forgotten */
  sg__smpps_concat_set_msg(t, k, 6002, "01JD0000000000000000000001");
  sg__smpps_concat_msg(t, k, 6002, m);
  assert_string_equal(m, "");
}

static void part_ids(void **state) {
  (void)state;
  char out[65], mid[SG_ID_LEN + 1];
  unsigned seq = 99;
  sg__smpps_part_id("01JD00000000000000000000AB", 12, out, sizeof out);
  assert_string_equal(out, "01JD00000000000000000000AB-12");
  assert_int_equal(sg__smpps_split_id(out, mid, &seq), 0);
  assert_string_equal(mid, "01JD00000000000000000000AB");
  assert_int_equal(seq, 12);
  assert_int_equal(sg__smpps_split_id("01jd00000000000000000000ab", mid, &seq),
                   0);
  assert_string_equal(mid, "01JD00000000000000000000AB"); /* canonical */
  assert_int_equal(seq, 0);
  assert_int_equal(
      sg__smpps_split_id("01JD00000000000000000000AB-255", mid, &seq), 0);
  assert_int_equal(seq, 255);
  static const char *const bad[] = {
      "",
      "x-1",
      "01JD00000000000000000000A",     /* 25 characters */
      "01JD00000000000000000000AB-",   /* no seq */
      "01JD00000000000000000000AB-0",  /* seq 0 */
      "01JD00000000000000000000AB-01", /* leading zero */
      "01JD00000000000000000000AB-256",
      "01JD00000000000000000000AB-1000",
      "01JD00000000000000000000AB+1",
      "01JD00000000000000000000AB-1a",
      "01JD00000000000000000000UB-1", /* U is not Crockford base 32 */
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
    if (sg__smpps_split_id(bad[i], mid, &seq) != -1)
      fail_msg("accepted \"%s\"", bad[i]);
}

static void bad_concat_ies(void **state) {
  (void)state;
  static const struct {
    uint8_t udh[12];
    size_t len;
    bool bad;
  } v[] = {
      {{5, 0x00, 3, 7, 3, 1}, 6, false},
      {{5, 0x00, 3, 7, 3, 4}, 6, true},        /* seq above total */
      {{5, 0x00, 3, 7, 3, 0}, 6, true},        /* seq 0 */
      {{5, 0x00, 3, 7, 0, 0}, 6, true},        /* total 0 */
      {{6, 0x08, 4, 1, 2, 2, 3}, 7, true},     /* 16-bit reference */
      {{6, 0x08, 4, 1, 2, 2, 2}, 7, false},
      {{8, 0x0A, 1, 0, 0x00, 3, 7, 2, 3}, 9, true}, /* after another IE */
      {{5, 0x00, 3, 7, 3}, 5, false},           /* truncated: not judged */
      {{3, 0x24, 1, 1}, 4, false},              /* no concatenation IE */
  };
  for (size_t i = 0; i < sizeof v / sizeof v[0]; i++)
    if (sg__smpps_concat_ie_bad(v[i].udh, v[i].len) != v[i].bad)
      fail_msg("vector %zu", i);
  assert_false(sg__smpps_concat_ie_bad(NULL, 0));
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(parts_share_a_batch, setup, teardown),
      cmocka_unit_test_setup_teardown(groups_expire, setup, teardown),
      cmocka_unit_test_setup_teardown(bounded_table, setup, teardown),
      cmocka_unit_test_setup_teardown(long_keys_refused, setup, teardown),
      cmocka_unit_test_setup_teardown(group_keeps_its_message, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(part_ids, setup, teardown),
      cmocka_unit_test_setup_teardown(bad_concat_ies, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
