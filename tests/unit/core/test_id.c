/* Tests for ULIDs: the golden vector of the ULID specification
 * (https://github.com/ulid/spec: time 1469918176385 is "01ARYZ6S41", and
 * 01ARYZ6S41TSV4RRFFQ69G5FAV is that time with the random part
 * TSV4RRFFQ69G5FAV), the edges of the 128-bit range, malformed input, and
 * order and uniqueness of many ids made at once on several threads. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "core/id.h"

/* The random part TSV4RRFFQ69G5FAV as bytes (computed independently with
 * Python: int('TSV4RRFFQ69G5FAV' in base 32).to_bytes(10, 'big')). */
static const uint8_t spec_rnd[10] = {0xd6, 0x76, 0x4c, 0x61, 0xef,
                                     0xb9, 0x93, 0x02, 0xbd, 0x5b};

static void spec_vector(void **state) {
  (void)state;
  char out[SG_ID_LEN + 1];
  assert_int_equal(sg_id_format(1469918176385ULL, spec_rnd, out), 0);
  assert_string_equal(out, "01ARYZ6S41TSV4RRFFQ69G5FAV");
  uint8_t b[SG_ID_BYTES];
  assert_int_equal(sg_id_parse("01ARYZ6S41TSV4RRFFQ69G5FAV", 26, b), 0);
  assert_memory_equal(b + 6, spec_rnd, 10);
  assert_int_equal(sg_id_time_ms("01ARYZ6S41TSV4RRFFQ69G5FAV", 26),
                   1469918176385LL);
  assert_int_equal(sg_id_time_ms("01aryz6s41tsv4rrffq69g5fav", 26),
                   1469918176385LL);
}

static void range_edges(void **state) {
  (void)state;
  char out[SG_ID_LEN + 1];
  uint8_t ff[10], zero[10] = {0};
  memset(ff, 0xFF, sizeof ff);
  assert_int_equal(sg_id_format(SG_ID_TIME_MAX, ff, out), 0);
  assert_string_equal(out, "7ZZZZZZZZZZZZZZZZZZZZZZZZZ");
  assert_int_equal(sg_id_format(0, zero, out), 0);
  assert_string_equal(out, "00000000000000000000000000");
  /* time 1, random 0x00..00FF: Python gave 0000000001000000000000007Z */
  uint8_t low[10] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0xFF};
  assert_int_equal(sg_id_format(1, low, out), 0);
  assert_string_equal(out, "0000000001000000000000007Z");
  assert_int_equal(sg_id_format(SG_ID_TIME_MAX + 1, zero, out), SG_ERANGE);
}

static void malformed(void **state) {
  (void)state;
  uint8_t b[SG_ID_BYTES];
  static const char *const bad[] = {
      "81ARYZ6S41TSV4RRFFQ69G5FAV", /* more than 128 bits */
      "01ARYZ6S41TSV4RRFFQ69G5FAI", /* I, L, O, U are not in the alphabet */
      "01ARYZ6S41TSV4RRFFQ69G5FAL", "01ARYZ6S41TSV4RRFFQ69G5FAO",
      "01ARYZ6S41TSV4RRFFQ69G5FAU", "01ARYZ6S41TSV4RRFFQ69G5FA-",
      "01ARYZ6S41TSV4RRFFQ69G5FA ",
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
    assert_int_equal(sg_id_parse(bad[i], 26, b), SG_EINVAL);
  assert_int_equal(sg_id_parse("01ARYZ6S41TSV4RRFFQ69G5FA", 25, b), SG_EINVAL);
  assert_int_equal(sg_id_parse("01ARYZ6S41TSV4RRFFQ69G5FAVV", 27, b),
                   SG_EINVAL);
  assert_int_equal(sg_id_parse(NULL, 26, b), SG_EINVAL);
  char nul[27] = "01ARYZ6S41TSV4RR\0FQ69G5FAV";
  assert_int_equal(sg_id_parse(nul, 26, b), SG_EINVAL);
  assert_int_equal(sg_id_time_ms("zz", 2), SG_EINVAL);
  char lower[] = "01aryz6s41tsv4rrffq69g5fav";
  assert_int_equal(sg_id_canonical(lower, 26), 0);
  assert_string_equal(lower, "01ARYZ6S41TSV4RRFFQ69G5FAV");
  char badc[] = "01aryz6s41tsv4rrffq69g5fau";
  assert_int_equal(sg_id_canonical(badc, 26), SG_EINVAL);
  assert_string_equal(badc, "01aryz6s41tsv4rrffq69g5fau");
}

#define PER_THREAD 20000
#define THREADS 4

static char made[THREADS][PER_THREAD][SG_ID_LEN + 1];

static void *maker(void *arg) {
  char(*ids)[SG_ID_LEN + 1] = arg;
  for (int i = 0; i < PER_THREAD; i++)
    if (sg_id_new(ids[i]) != 0)
      return (void *)1;
  return NULL;
}

static int cmp(const void *a, const void *b) {
  return strcmp((const char *)a, (const char *)b);
}

static void monotonic_and_unique(void **state) {
  (void)state;
  pthread_t t[THREADS];
  for (int i = 0; i < THREADS; i++)
    assert_int_equal(pthread_create(&t[i], NULL, maker, made[i]), 0);
  for (int i = 0; i < THREADS; i++) {
    void *rv;
    pthread_join(t[i], &rv);
    assert_null(rv);
  }
  /* Each thread's ids strictly increase (the process-wide sequence does,
   * and a thread sees a subsequence of it), are valid and recent. */
  int64_t now_ms = sg_id_time_ms(made[THREADS - 1][PER_THREAD - 1], 26);
  assert_true(now_ms > 1700000000000LL);
  for (int i = 0; i < THREADS; i++)
    for (int k = 0; k < PER_THREAD; k++) {
      uint8_t b[SG_ID_BYTES];
      assert_int_equal(sg_id_parse(made[i][k], 26, b), 0);
      if (k > 0)
        assert_true(strcmp(made[i][k - 1], made[i][k]) < 0);
    }
  /* No two alike over all threads. */
  char(*flat)[SG_ID_LEN + 1] = &made[0][0];
  qsort(flat, THREADS * PER_THREAD, sizeof flat[0], cmp);
  for (int k = 1; k < THREADS * PER_THREAD; k++)
    assert_true(strcmp(flat[k - 1], flat[k]) < 0);
}

/* Each bit in its place: an id whose 128 bits are all zero but one, for
 * each of the 128, formats to 25 '0' and one character of the bit's value
 * at the bit's place (bit k from the end is in character 25 - k / 5, as
 * 1 << k % 5), parses back to the same octets, and a character of the
 * alphabet changed at each place (either case) parses to the bits it
 * names. */
static void every_bit(void **state) {
  (void)state;
  static const char alphabet[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
  for (int k = 0; k < 128; k++) {
    uint8_t b[SG_ID_BYTES] = {0};
    b[15 - k / 8] = (uint8_t)(1u << (k % 8));
    uint64_t ms = 0;
    for (int i = 0; i < 6; i++)
      ms = ms << 8 | b[i];
    char out[SG_ID_LEN + 1];
    assert_int_equal(sg_id_format(ms, b + 6, out), 0);
    char want[SG_ID_LEN + 1];
    memset(want, '0', SG_ID_LEN);
    want[SG_ID_LEN] = '\0';
    want[25 - k / 5] = alphabet[1u << (k % 5)];
    assert_string_equal(out, want);
    uint8_t back[SG_ID_BYTES];
    assert_int_equal(sg_id_parse(out, SG_ID_LEN, back), 0);
    assert_memory_equal(back, b, SG_ID_BYTES);
  }
  for (int pos = 0; pos < SG_ID_LEN; pos++)
    for (int v = 0; v < 32; v++) {
      char s[SG_ID_LEN + 1];
      memset(s, '0', SG_ID_LEN);
      s[SG_ID_LEN] = '\0';
      s[pos] = (v & 1) && alphabet[v] >= 'A' ? (char)(alphabet[v] + 32)
                                             : alphabet[v];
      uint8_t got[SG_ID_BYTES];
      int rc = sg_id_parse(s, SG_ID_LEN, got);
      if (pos == 0 && v > 7) {
        assert_int_equal(rc, SG_EINVAL);
        continue;
      }
      assert_int_equal(rc, 0);
      uint8_t want[SG_ID_BYTES] = {0};
      int shift = 5 * (25 - pos); /* of the value's lowest bit */
      for (int j = 0; j < 5; j++)
        if (v & (1 << j))
          want[15 - (shift + j) / 8] |= (uint8_t)(1u << ((shift + j) % 8));
      assert_memory_equal(got, want, SG_ID_BYTES);
    }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(spec_vector),
      cmocka_unit_test(range_edges),
      cmocka_unit_test(malformed),
      cmocka_unit_test(every_bit),
      cmocka_unit_test(monotonic_and_unique),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
