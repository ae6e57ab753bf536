/* Tests for the strict UTF-8 codec: golden vectors, every class of
 * ill-formed input with the offset it is reported at (Unicode table 3-7),
 * buffer limits, and exhaustive round trips. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "core/error.h"
#include "core/utf8.h"

static void decode_golden(void **state) {
  (void)state;
  /* "hé€𝄞" : 1, 2, 3 and 4-byte forms. */
  static const uint8_t in[] = {0x68, 0xC3, 0xA9, 0xE2, 0x82,
                               0xAC, 0xF0, 0x9D, 0x84, 0x9E};
  static const uint32_t want[] = {0x68, 0xE9, 0x20AC, 0x1D11E};
  uint32_t out[8];
  size_t n = 99, off = 99;
  assert_int_equal(sg_utf8_decode(in, sizeof in, out, 8, &n, &off), 0);
  assert_int_equal(n, 4);
  assert_memory_equal(out, want, sizeof want);
  assert_int_equal(off, 99); /* untouched on success */

  assert_int_equal(sg_utf8_count(in, sizeof in, &n, NULL), 0);
  assert_int_equal(n, 4);
  assert_int_equal(sg_utf8_decode(NULL, 0, out, 8, &n, NULL), 0);
  assert_int_equal(n, 0);
}

static void encode_golden(void **state) {
  (void)state;
  static const uint32_t in[] = {0x68, 0xE9, 0x20AC, 0x1D11E};
  static const uint8_t want[] = {0x68, 0xC3, 0xA9, 0xE2, 0x82,
                                 0xAC, 0xF0, 0x9D, 0x84, 0x9E};
  uint8_t out[16];
  size_t n = 0;
  assert_int_equal(sg_utf8_encode(in, 4, out, sizeof out, &n), 0);
  assert_int_equal(n, sizeof want);
  assert_memory_equal(out, want, sizeof want);
}

/* The first and last code point of each encoded length, and the edges of the
 * surrogate block. */
static void boundaries(void **state) {
  (void)state;
  static const struct {
    uint32_t cp;
    uint8_t bytes[4];
    size_t len;
  } v[] = {
      {0x0000, {0x00}, 1},
      {0x007F, {0x7F}, 1},
      {0x0080, {0xC2, 0x80}, 2},
      {0x07FF, {0xDF, 0xBF}, 2},
      {0x0800, {0xE0, 0xA0, 0x80}, 3},
      {0xD7FF, {0xED, 0x9F, 0xBF}, 3},
      {0xE000, {0xEE, 0x80, 0x80}, 3},
      {0xFFFD, {0xEF, 0xBF, 0xBD}, 3},
      {0xFFFF, {0xEF, 0xBF, 0xBF}, 3},
      {0x10000, {0xF0, 0x90, 0x80, 0x80}, 4},
      {0x10FFFF, {0xF4, 0x8F, 0xBF, 0xBF}, 4},
  };
  for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
    uint32_t cp = 0;
    size_t n = 0;
    uint8_t b[4];
    assert_int_equal(sg_utf8_len(v[i].cp), v[i].len);
    assert_int_equal(sg_utf8_decode(v[i].bytes, v[i].len, &cp, 1, &n, NULL), 0);
    assert_int_equal(n, 1);
    assert_int_equal(cp, v[i].cp);
    assert_int_equal(sg_utf8_encode(&v[i].cp, 1, b, 4, &n), 0);
    assert_int_equal(n, v[i].len);
    assert_memory_equal(b, v[i].bytes, v[i].len);
  }
  assert_int_equal(sg_utf8_len(0xD800), 0);
  assert_int_equal(sg_utf8_len(0xDFFF), 0);
  assert_int_equal(sg_utf8_len(0x110000), 0);
  assert_int_equal(sg_utf8_len(0xFFFFFFFF), 0);
}

typedef struct bad_case {
  const char *name;
  const char *bytes;
  size_t len;
  int err;
  size_t off;    /* where the ill-formed sequence starts */
  size_t n_good; /* code points decoded before it */
} bad_case_t;

#define BAD(name, s, err, off, good)                                           \
  { name, s, sizeof(s) - 1, err, off, good }

static const bad_case_t bad_cases[] = {
    BAD("stray continuation", "a\x80", SG_EILSEQ, 1, 1),
    BAD("stray continuation 0xBF", "\xBF", SG_EILSEQ, 0, 0),
    BAD("continuation after complete char", "\xC3\xA9\xA9", SG_EILSEQ, 2, 1),
    BAD("0xC0 overlong lead", "\xC0\x80", SG_EILSEQ, 0, 0),
    BAD("0xC1 overlong lead", "ab\xC1\xBF", SG_EILSEQ, 2, 2),
    BAD("overlong 3-byte slash", "\xE0\x80\xAF", SG_EILSEQ, 0, 0),
    BAD("overlong 3-byte max", "x\xE0\x9F\xBF", SG_EILSEQ, 1, 1),
    BAD("overlong 4-byte", "\xF0\x8F\xBF\xBF", SG_EILSEQ, 0, 0),
    BAD("high surrogate D800", "\xED\xA0\x80", SG_EILSEQ, 0, 0),
    BAD("low surrogate DFFF", "xy\xED\xBF\xBF", SG_EILSEQ, 2, 2),
    BAD("CESU-8 pair", "\xED\xA0\xBD\xED\xB8\x80", SG_EILSEQ, 0, 0),
    BAD("above U+10FFFF", "\xF4\x90\x80\x80", SG_EILSEQ, 0, 0),
    BAD("lead 0xF5", "\xF5\x80\x80\x80", SG_EILSEQ, 0, 0),
    BAD("lead 0xF8", "ok\xF8\x88\x80\x80\x80", SG_EILSEQ, 2, 2),
    BAD("byte 0xFE", "\xFE", SG_EILSEQ, 0, 0),
    BAD("byte 0xFF",
        "a\xFF"
        "b",
        SG_EILSEQ, 1, 1),
    BAD("bad second byte", "\xE2\x28\xA1", SG_EILSEQ, 0, 0),
    BAD("bad third byte", "\xE2\x82\x28", SG_EILSEQ, 0, 0),
    BAD("bad fourth byte", "\xF0\x9F\x98\x41", SG_EILSEQ, 0, 0),
    BAD("lead then ASCII",
        "\xC3"
        "A",
        SG_EILSEQ, 0, 0),
    BAD("lead then lead", "\xC3\xC3\xA9", SG_EILSEQ, 0, 0),
    BAD("truncated 2-byte", "\xC3", SG_ETRUNC, 0, 0),
    BAD("truncated 3-byte", "\xE2\x82", SG_ETRUNC, 0, 0),
    BAD("truncated 4-byte", "ab\xF0\x9F\x98", SG_ETRUNC, 2, 2),
    BAD("truncated lead only", "\xE2", SG_ETRUNC, 0, 0),
    /* A prefix that is already invalid is not "truncated". */
    BAD("invalid prefix at end E0", "\xE0\x80", SG_EILSEQ, 0, 0),
    BAD("invalid prefix at end ED", "\xED\xA0", SG_EILSEQ, 0, 0),
    BAD("invalid prefix at end F4", "\xF4\x90", SG_EILSEQ, 0, 0),
};

static void malformed(void **state) {
  (void)state;
  for (size_t i = 0; i < sizeof bad_cases / sizeof bad_cases[0]; i++) {
    const bad_case_t *c = &bad_cases[i];
    const uint8_t *b = (const uint8_t *)c->bytes;
    uint32_t out[16];
    size_t n = 99, off = 99;
    int rc = sg_utf8_decode(b, c->len, out, 16, &n, &off);
    if (rc != c->err || off != c->off || n != c->n_good)
      fail_msg("%s: rc %d off %zu n %zu, want rc %d off %zu n %zu", c->name, rc,
               off, n, c->err, c->off, c->n_good);
    /* Validation alone and counting report the same. */
    off = 99;
    assert_int_equal(sg_utf8_decode(b, c->len, NULL, 0, &n, &off), c->err);
    assert_int_equal(off, c->off);
    off = 99;
    assert_int_equal(sg_utf8_count(b, c->len, &n, &off), c->err);
    assert_int_equal(off, c->off);
    assert_int_equal(n, c->n_good);
  }
}

static void decode_nospace(void **state) {
  (void)state;
  static const uint8_t in[] = "a\xC3\xA9"
                              "b\xE2\x82\xAC";
  uint32_t out[4] = {0};
  size_t n = 99;
  assert_int_equal(sg_utf8_decode(in, sizeof in - 1, out, 2, &n, NULL),
                   SG_ENOSPC);
  assert_int_equal(n, 2);
  assert_int_equal(out[0], 'a');
  assert_int_equal(out[1], 0xE9);
  assert_int_equal(out[2], 0); /* nothing past cap */
  assert_int_equal(sg_utf8_decode(in, sizeof in - 1, out, 4, &n, NULL), 0);
  assert_int_equal(n, 4);
  /* Exactly enough room, and none at all for a non-empty input. */
  assert_int_equal(sg_utf8_decode(in, 1, out, 1, &n, NULL), 0);
  assert_int_equal(sg_utf8_decode(in, 1, out, 0, &n, NULL), SG_ENOSPC);
  assert_int_equal(n, 0);
}

static void encode_errors(void **state) {
  (void)state;
  uint8_t out[8];
  size_t n = 99;
  const uint32_t surrogate[] = {'a', 0xD800, 'b'};
  assert_int_equal(sg_utf8_encode(surrogate, 3, out, 8, &n), SG_EINVAL);
  assert_int_equal(n, 1);
  const uint32_t low[] = {0xDFFF};
  assert_int_equal(sg_utf8_encode(low, 1, out, 8, &n), SG_EINVAL);
  assert_int_equal(n, 0);
  const uint32_t big[] = {0x41, 0x110000};
  assert_int_equal(sg_utf8_encode(big, 2, out, 8, &n), SG_EINVAL);
  assert_int_equal(n, 1);
  /* A 3-byte character never goes out in part. */
  const uint32_t euro[] = {'x', 0x20AC};
  assert_int_equal(sg_utf8_encode(euro, 2, out, 3, &n), SG_ENOSPC);
  assert_int_equal(n, 1);
  assert_int_equal(sg_utf8_encode(euro, 2, out, 4, &n), 0);
  assert_int_equal(n, 4);
  assert_int_equal(sg_utf8_encode(euro, 0, out, 0, &n), 0);
  assert_int_equal(n, 0);
}

/* Every scalar value encodes and decodes back to itself. */
static void every_scalar_round_trips(void **state) {
  (void)state;
  for (uint32_t cp = 0; cp <= 0x10FFFF; cp++) {
    if (cp == 0xD800)
      cp = 0xE000;
    uint8_t b[4];
    uint32_t back = 0;
    size_t n = 0, m = 0;
    if (sg_utf8_encode(&cp, 1, b, 4, &n) != 0 || n != sg_utf8_len(cp) ||
        sg_utf8_decode(b, n, &back, 1, &m, NULL) != 0 || m != 1 || back != cp)
      fail_msg("U+%04X does not round-trip", (unsigned)cp);
  }
}

/* Every 1-, 2- and 3-byte input: whatever decodes re-encodes to the same
 * bytes (so no overlong or otherwise ambiguous form is accepted), and the
 * inputs that decode to one code point are exactly the scalar values of that
 * length. */
static void exhaustive_short_inputs(void **state) {
  (void)state;
  unsigned long single[4] = {0};
  uint8_t in[3], back[12];
  uint32_t cps[3];
  for (size_t len = 1; len <= 3; len++) {
    unsigned long total = 1ul << (8 * len);
    for (unsigned long v = 0; v < total; v++) {
      for (size_t j = 0; j < len; j++)
        in[j] = (uint8_t)(v >> (8 * j));
      size_t n = 0, m = 0;
      if (sg_utf8_decode(in, len, cps, 3, &n, NULL) != 0)
        continue;
      if (sg_utf8_encode(cps, n, back, sizeof back, &m) != 0 || m != len ||
          memcmp(back, in, len) != 0)
        fail_msg("accepted a non-canonical form of length %zu", len);
      if (n == 1)
        single[len]++;
    }
  }
  assert_int_equal(single[1], 0x80);
  assert_int_equal(single[2], 0x800 - 0x80);
  assert_int_equal(single[3], 0x10000 - 0x800 - 0x800);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(decode_golden),
      cmocka_unit_test(encode_golden),
      cmocka_unit_test(boundaries),
      cmocka_unit_test(malformed),
      cmocka_unit_test(decode_nospace),
      cmocka_unit_test(encode_errors),
      cmocka_unit_test(every_scalar_round_trips),
      cmocka_unit_test(exhaustive_short_inputs),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
