/* Tests for the UTF-16BE ("UCS2", data_coding 0x08) codec: golden vectors
 * with surrogate pairs, odd lengths, lone surrogates strict and lenient, and
 * buffer limits. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "core/error.h"
#include "core/ucs2.h"

static void units(void **state) {
  (void)state;
  assert_int_equal(sg_ucs2_units(0x0000), 1);
  assert_int_equal(sg_ucs2_units(0xD7FF), 1);
  assert_int_equal(sg_ucs2_units(0xD800), 0);
  assert_int_equal(sg_ucs2_units(0xDBFF), 0);
  assert_int_equal(sg_ucs2_units(0xDC00), 0);
  assert_int_equal(sg_ucs2_units(0xDFFF), 0);
  assert_int_equal(sg_ucs2_units(0xE000), 1);
  assert_int_equal(sg_ucs2_units(0xFFFF), 1);
  assert_int_equal(sg_ucs2_units(0x10000), 2);
  assert_int_equal(sg_ucs2_units(0x1F600), 2);
  assert_int_equal(sg_ucs2_units(0x10FFFF), 2);
  assert_int_equal(sg_ucs2_units(0x110000), 0);
}

/* "A€😀" and the edges of the supplementary planes. */
static const uint32_t golden_cps[] = {0x41,   0x20AC,  0x1F600,
                                      0xFFFF, 0x10000, 0x10FFFF};
static const uint8_t golden_be[] = {0x00, 0x41, 0x20, 0xAC, 0xD8, 0x3D,
                                    0xDE, 0x00, 0xFF, 0xFF, 0xD8, 0x00,
                                    0xDC, 0x00, 0xDB, 0xFF, 0xDF, 0xFF};

static void encode_golden(void **state) {
  (void)state;
  uint8_t out[32];
  size_t n = 0;
  assert_int_equal(sg_ucs2_encode(golden_cps, 6, out, sizeof out, &n, NULL), 0);
  assert_int_equal(n, sizeof golden_be);
  assert_memory_equal(out, golden_be, sizeof golden_be);
}

static void decode_golden(void **state) {
  (void)state;
  uint32_t out[8];
  size_t n = 0, off = 99;
  for (int lenient = 0; lenient <= 1; lenient++) {
    assert_int_equal(
        sg_ucs2_decode(golden_be, sizeof golden_be, lenient, out, 8, &n, &off),
        0);
    assert_int_equal(n, 6);
    assert_memory_equal(out, golden_cps, sizeof golden_cps);
    assert_int_equal(off, 99);
  }
  assert_int_equal(
      sg_ucs2_decode(golden_be, sizeof golden_be, 0, NULL, 0, &n, NULL), 0);
  assert_int_equal(n, 6);
  assert_int_equal(sg_ucs2_decode(golden_be, 0, 0, out, 8, &n, NULL), 0);
  assert_int_equal(n, 0);
}

static void odd_length(void **state) {
  (void)state;
  uint32_t out[8];
  size_t n = 99, off = 99;
  assert_int_equal(sg_ucs2_decode(golden_be, 3, 0, out, 8, &n, &off),
                   SG_ETRUNC);
  assert_int_equal(off, 2);
  assert_int_equal(n, 0);
  assert_int_equal(sg_ucs2_decode(golden_be, 1, 1, out, 8, &n, &off),
                   SG_ETRUNC);
  assert_int_equal(off, 0);
}

typedef struct lone_case {
  const char *name;
  uint8_t bytes[8];
  size_t len;
  size_t off;          /* octet offset of the unpaired surrogate */
  size_t n_before;     /* code points decoded before it (strict) */
  uint32_t lenient[4]; /* what the lenient decoder yields */
  size_t n_lenient;
} lone_case_t;

static const lone_case_t lone_cases[] = {
    {"high at end", {0x00, 0x41, 0xD8, 0x3D}, 4, 2, 1, {0x41, 0xFFFD}, 2},
    {"high then BMP", {0xD8, 0x3D, 0x00, 0x41}, 4, 0, 0, {0xFFFD, 0x41}, 2},
    {"high then high",
     {0xD8, 0x3D, 0xD8, 0x3D, 0xDE, 0x00},
     6,
     0,
     0,
     {0xFFFD, 0x1F600},
     2},
    {"low alone",
     {0x00, 0x41, 0xDE, 0x00, 0x00, 0x42},
     6,
     2,
     1,
     {0x41, 0xFFFD, 0x42},
     3},
    {"low then high", {0xDC, 0x00, 0xD8, 0x00}, 4, 0, 0, {0xFFFD, 0xFFFD}, 2},
};

static void lone_surrogates(void **state) {
  (void)state;
  for (size_t i = 0; i < sizeof lone_cases / sizeof lone_cases[0]; i++) {
    const lone_case_t *c = &lone_cases[i];
    uint32_t out[8];
    size_t n = 99, off = 99;
    int rc = sg_ucs2_decode(c->bytes, c->len, 0, out, 8, &n, &off);
    if (rc != SG_EILSEQ || off != c->off || n != c->n_before)
      fail_msg("%s: strict rc %d off %zu n %zu", c->name, rc, off, n);
    off = 99;
    rc = sg_ucs2_decode(c->bytes, c->len, 1, out, 8, &n, &off);
    if (rc != 0 || n != c->n_lenient ||
        memcmp(out, c->lenient, n * sizeof out[0]) != 0 || off != 99)
      fail_msg("%s: lenient rc %d n %zu", c->name, rc, n);
  }
}

static void encode_errors(void **state) {
  (void)state;
  uint8_t out[8];
  size_t n = 99, idx = 99;
  const uint32_t lone[] = {0x41, 0xD83D, 0x42};
  assert_int_equal(sg_ucs2_encode(lone, 3, out, 8, &n, &idx), SG_EINVAL);
  assert_int_equal(idx, 1);
  assert_int_equal(n, 2);
  const uint32_t big[] = {0x110000};
  assert_int_equal(sg_ucs2_encode(big, 1, out, 8, &n, &idx), SG_EINVAL);
  assert_int_equal(idx, 0);
  assert_int_equal(n, 0);
  /* A pair is never split: 2 octets of room left is not enough. */
  const uint32_t emoji[] = {0x41, 0x1F600};
  assert_int_equal(sg_ucs2_encode(emoji, 2, out, 4, &n, NULL), SG_ENOSPC);
  assert_int_equal(n, 2);
  assert_int_equal(sg_ucs2_encode(emoji, 2, out, 6, &n, NULL), 0);
  assert_int_equal(n, 6);
}

static void decode_nospace(void **state) {
  (void)state;
  uint32_t out[2] = {0, 0};
  size_t n = 99;
  assert_int_equal(
      sg_ucs2_decode(golden_be, sizeof golden_be, 0, out, 2, &n, NULL),
      SG_ENOSPC);
  assert_int_equal(n, 2);
  assert_int_equal(out[1], 0x20AC);
}

/* Every scalar value survives encode + decode. */
static void every_scalar_round_trips(void **state) {
  (void)state;
  for (uint32_t cp = 0; cp <= 0x10FFFF; cp++) {
    if (cp == 0xD800)
      cp = 0xE000;
    uint8_t b[4];
    uint32_t back = 0;
    size_t n = 0, m = 0;
    if (sg_ucs2_encode(&cp, 1, b, 4, &n, NULL) != 0 ||
        n != 2 * sg_ucs2_units(cp) ||
        sg_ucs2_decode(b, n, 0, &back, 1, &m, NULL) != 0 || m != 1 ||
        back != cp)
      fail_msg("U+%04X does not round-trip", (unsigned)cp);
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(units),
      cmocka_unit_test(encode_golden),
      cmocka_unit_test(decode_golden),
      cmocka_unit_test(odd_length),
      cmocka_unit_test(lone_surrogates),
      cmocka_unit_test(encode_errors),
      cmocka_unit_test(decode_nospace),
      cmocka_unit_test(every_scalar_round_trips),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
