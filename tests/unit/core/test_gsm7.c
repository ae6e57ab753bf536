/* Tests for GSM 7-bit: the default alphabet and extension table of TS 23.038
 * 6.2.1, the national language tables of annex A (spot-checked against the
 * spec cell by cell, and the Turkish, Spanish and Portuguese characters that
 * motivate them), the decoding rules for escapes, septet packing with fill
 * bits, the integrity of the precomputed lookup tables, and malformed input.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "core/error.h"
#include "core/gsm7.h"
#include "core/gsm7_tables.h"
#include "core/utf8.h"

static const sg_gsm7_charset_t DEFAULT_CS = {0, 0};

/* Decodes a UTF-8 literal into code points; returns the count. */
static size_t u8(const char *s, uint32_t *cps, size_t cap) {
  size_t n = 0;
  assert_int_equal(
      sg_utf8_decode((const uint8_t *)s, strlen(s), cps, cap, &n, NULL), 0);
  return n;
}

/* Encodes UTF-8 text in `cs` and compares the septets with `want`. */
static void expect_septets(sg_gsm7_charset_t cs, const char *text,
                           const uint8_t *want, size_t want_len) {
  uint32_t cps[64];
  uint8_t sep[128];
  size_t n = u8(text, cps, 64), w = 0, idx = 99;
  int rc = sg_gsm7_encode(cs, cps, n, sep, sizeof sep, &w, &idx);
  if (rc != 0)
    fail_msg("\"%s\" in {%u,%u}: rc %d at index %zu", text, cs.locking,
             cs.single, rc, idx);
  assert_int_equal(w, want_len);
  assert_memory_equal(sep, want, want_len);
  assert_int_equal(sg_gsm7_count(cs, cps, n, NULL), (long)want_len);
  /* And back. */
  uint32_t back[64];
  size_t m = 0;
  assert_int_equal(sg_gsm7_decode(cs, sep, w, back, 64, &m, NULL), 0);
  assert_int_equal(m, n);
  assert_memory_equal(back, cps, n * sizeof cps[0]);
}

/* ---- default alphabet ---------------------------------------------------*/

/* TS 23.038 6.2.1, in code order; U+001B stands in for the escape. */
static const char default_table_utf8[] = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞ\x1B"
                                         "ÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
                                         "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§"
                                         "¿abcdefghijklmnopqrstuvwxyzäöñüà";

static void default_table_round_trip(void **state) {
  (void)state;
  uint32_t table[130];
  assert_int_equal(u8(default_table_utf8, table, 130), 128);
  for (unsigned code = 0; code < 128; code++) {
    if (code == SG_GSM7_ESC)
      continue;
    uint8_t s = (uint8_t)code, out[2] = {0xAA, 0xAA};
    uint32_t cp = 0;
    size_t n = 0;
    assert_int_equal(sg_gsm7_decode(DEFAULT_CS, &s, 1, &cp, 1, &n, NULL), 0);
    if (n != 1 || cp != table[code])
      fail_msg("0x%02X decodes to U+%04X, want U+%04X", code, (unsigned)cp,
               (unsigned)table[code]);
    assert_int_equal(sg_gsm7_char(DEFAULT_CS, table[code], out), 1);
    assert_int_equal(out[0], code);
    assert_int_equal(out[1], 0xAA);
  }
  /* The whole alphabet as one string, minus the escape. */
  uint32_t all[127];
  uint8_t sep[127];
  size_t k = 0, w = 0;
  for (unsigned code = 0; code < 128; code++)
    if (code != SG_GSM7_ESC)
      all[k++] = table[code];
  assert_int_equal(sg_gsm7_encode(DEFAULT_CS, all, k, sep, 127, &w, NULL), 0);
  assert_int_equal(w, 127);
  for (unsigned i = 0; i < 127; i++)
    assert_int_equal(sep[i], i < SG_GSM7_ESC ? i : i + 1);
}

/* 6.2.1.1: every character of the extension table costs two septets. */
static void extension_chars_cost_two(void **state) {
  (void)state;
  static const struct {
    uint32_t cp;
    uint8_t code;
  } ext[] = {{0x0C, 0x0A}, {'^', 0x14},   {'{', 0x28}, {'}', 0x29},
             {'\\', 0x2F}, {'[', 0x3C},   {'~', 0x3D}, {']', 0x3E},
             {'|', 0x40},  {0x20AC, 0x65}};
  for (size_t i = 0; i < sizeof ext / sizeof ext[0]; i++) {
    uint8_t out[2] = {0, 0};
    assert_int_equal(sg_gsm7_char(DEFAULT_CS, ext[i].cp, out), 2);
    assert_int_equal(out[0], SG_GSM7_ESC);
    assert_int_equal(out[1], ext[i].code);
    assert_int_equal(sg_gsm7_count(DEFAULT_CS, &ext[i].cp, 1, NULL), 2);
    uint32_t cp = 0;
    size_t n = 0;
    assert_int_equal(sg_gsm7_decode(DEFAULT_CS, out, 2, &cp, 1, &n, NULL), 0);
    assert_int_equal(n, 1);
    assert_int_equal(cp, ext[i].cp);
  }
  static const uint8_t want[] = {'a', 0x1B, 0x65, 0x1B, 0x28, 'b', 0x1B, 0x3D};
  expect_septets(DEFAULT_CS, "a€{b~", want, sizeof want);
}

static void not_representable(void **state) {
  (void)state;
  static const uint32_t no[] = {0x1B,   0xA0,   0x2019, 0x0131,  0xE7,
                                0x0430, 0x4E2D, 0xFFFD, 0x1F600, 0x110000};
  for (size_t i = 0; i < sizeof no / sizeof no[0]; i++)
    assert_int_equal(sg_gsm7_char(DEFAULT_CS, no[i], NULL), 0);
  uint32_t cps[8];
  size_t n = u8("ab\xE2\x80\x99"
                "c",
                cps, 8),
         idx = 99, w = 99;
  uint8_t sep[8];
  assert_int_equal(sg_gsm7_encode(DEFAULT_CS, cps, n, sep, 8, &w, &idx),
                   SG_ECHARSET);
  assert_int_equal(idx, 2);
  assert_int_equal(w, 2);
  idx = 99;
  assert_int_equal(sg_gsm7_count(DEFAULT_CS, cps, n, &idx), SG_ECHARSET);
  assert_int_equal(idx, 2);
}

static void encode_nospace_keeps_pairs(void **state) {
  (void)state;
  const uint32_t cps[] = {'a', 0x20AC, 'b'};
  uint8_t sep[4] = {0, 0, 0, 0};
  size_t w = 99;
  assert_int_equal(sg_gsm7_encode(DEFAULT_CS, cps, 3, sep, 2, &w, NULL),
                   SG_ENOSPC);
  assert_int_equal(w, 1);
  assert_int_equal(sep[1], 0); /* no half escape pair */
  assert_int_equal(sg_gsm7_encode(DEFAULT_CS, cps, 3, sep, 3, &w, NULL),
                   SG_ENOSPC);
  assert_int_equal(w, 3);
  assert_int_equal(sg_gsm7_encode(DEFAULT_CS, cps, 3, sep, 4, &w, NULL), 0);
  assert_int_equal(w, 4);
  assert_int_equal(sg_gsm7_encode(DEFAULT_CS, cps, 0, NULL, 0, &w, NULL), 0);
  assert_int_equal(w, 0);
}

/* ---- decoding rules -----------------------------------------------------*/

static void decode_escapes(void **state) {
  (void)state;
  static const struct {
    const char *name;
    sg_gsm7_charset_t cs;
    uint8_t sep[4];
    size_t n;
    uint32_t want[3];
    size_t n_want;
  } v[] = {
      /* No extension entry: the base character of the code (6.2.1.1). */
      {"esc A", {0, 0}, {0x1B, 0x41}, 2, {'A'}, 1},
      {"esc CR2", {0, 0}, {0x1B, 0x0D}, 2, {'\r'}, 1},
      {"esc @", {0, 0}, {0x1B, 0x00, 'x'}, 3, {'@', 'x'}, 2},
      /* Two escapes: a space (6.2.1.1 note 1), then go on. */
      {"esc esc", {0, 0}, {0x1B, 0x1B, 0x41}, 3, {' ', 'A'}, 2},
      {"trailing esc", {0, 0}, {'a', 0x1B}, 2, {'a', ' '}, 2},
      {"lone esc", {0, 0}, {0x1B}, 1, {' '}, 1},
      /* National tables: an empty cell is U+FFFD, in the locking table and
       * when neither table has the code after an escape. */
      {"bengali empty", {4, 4}, {0x0C}, 1, {SG_GSM7_UNDEFINED}, 1},
      {"tamil empty 0x00",
       {11, 11},
       {0x00, 0x20},
       2,
       {SG_GSM7_UNDEFINED, ' '},
       2},
      {"bengali esc empty", {4, 4}, {0x1B, 0x5B}, 2, {SG_GSM7_UNDEFINED}, 1},
      {"tamil esc to base", {11, 11}, {0x1B, 0x60}, 2, {0x0BD0}, 1},
  };
  for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
    uint32_t out[4];
    size_t n = 99;
    int rc = sg_gsm7_decode(v[i].cs, v[i].sep, v[i].n, out, 4, &n, NULL);
    if (rc != 0 || n != v[i].n_want ||
        memcmp(out, v[i].want, n * sizeof out[0]) != 0)
      fail_msg("%s: rc %d n %zu first U+%04X", v[i].name, rc, n,
               (unsigned)out[0]);
  }
}

static void decode_malformed(void **state) {
  (void)state;
  uint32_t out[8];
  size_t n = 99, idx = 99;
  const uint8_t high[] = {'a', 'b', 0x80, 'c'};
  assert_int_equal(sg_gsm7_decode(DEFAULT_CS, high, 4, out, 8, &n, &idx),
                   SG_EILSEQ);
  assert_int_equal(idx, 2);
  assert_int_equal(n, 2);
  const uint8_t esc_high[] = {'a', 0x1B, 0xFF};
  assert_int_equal(sg_gsm7_decode(DEFAULT_CS, esc_high, 3, out, 8, &n, &idx),
                   SG_EILSEQ);
  assert_int_equal(idx, 2);
  assert_int_equal(n, 1);
  /* Counting only, and running out of room. */
  const uint8_t text[] = {'a', 0x1B, 0x65, 'b'};
  assert_int_equal(sg_gsm7_decode(DEFAULT_CS, text, 4, NULL, 0, &n, NULL), 0);
  assert_int_equal(n, 3);
  assert_int_equal(sg_gsm7_decode(DEFAULT_CS, text, 4, out, 2, &n, NULL),
                   SG_ENOSPC);
  assert_int_equal(n, 2);
  assert_int_equal(out[1], 0x20AC);
}

/* ---- national language tables -------------------------------------------*/

/* Cells of annex A, chosen to cover each table's ends and middle, and the
 * cells the spec misprints (Kannada locking 0x24, Tamil single 0x24, Telugu
 * single 0x22). */
typedef struct cell {
  uint8_t lang;
  bool single;
  uint8_t code;
  uint16_t cp;
} cell_t;

static const cell_t cells[] = {
    {4, false, 0x00, 0x0981},  {4, false, 0x19, 0x0999},
    {4, false, 0x44, 0x09B0},  {4, false, 0x51, 0x09BF},
    {4, false, 0x7F, 0x09F1},  {4, true, 0x19, 0x09E6},
    {4, true, 0x34, 0x09FA},   {4, true, 0x24, 0x09DF},
    {5, false, 0x00, 0x0A81},  {5, false, 0x0C, 0x0A8D},
    {5, false, 0x5B, 0x0AC9},  {5, false, 0x60, 0x0AD0},
    {5, false, 0x7F, 0x0AF1},  {5, true, 0x19, 0x0964},
    {5, true, 0x1A, 0x0965},   {5, true, 0x25, 0x0AEF},
    {6, false, 0x00, 0x0901},  {6, false, 0x02, 0x0903},
    {6, false, 0x3C, 0x0929},  {6, false, 0x60, 0x0950},
    {6, false, 0x7F, 0x097F},  {6, true, 0x1C, 0x0966},
    {6, true, 0x2C, 0x0958},   {6, true, 0x3A, 0x0971},
    {7, false, 0x01, 0x0C82},  {7, false, 0x24, 0x0CA1},
    {7, false, 0x3D, 0x0CAA},  {7, false, 0x60, 0x0CD5},
    {7, false, 0x7F, 0x0CE3},  {7, true, 0x1D, 0x0CE7},
    {7, true, 0x26, 0x0CDE},   {7, true, 0x2A, 0x0CF2},
    {8, false, 0x01, 0x0D02},  {8, false, 0x48, 0x0D34},
    {8, false, 0x4F, 0x0D3D},  {8, false, 0x60, 0x0D57},
    {8, false, 0x7F, 0x0D79},  {8, true, 0x1D, 0x0D67},
    {8, true, 0x2E, 0x0D7A},   {8, true, 0x34, 0x0D7F},
    {9, false, 0x00, 0x0B01},  {9, false, 0x25, 0x0B22},
    {9, false, 0x4F, 0x0B3D},  {9, false, 0x60, 0x0B56},
    {9, false, 0x7F, 0x0B63},  {9, true, 0x21, 0x0B6B},
    {9, true, 0x26, 0x0B5C},   {9, true, 0x2C, 0x0B71},
    {10, false, 0x00, 0x0A01}, {10, false, 0x40, 0x0A2C},
    {10, false, 0x4E, 0x0A3C}, {10, false, 0x60, 0x0A51},
    {10, false, 0x7F, 0x0A74}, {10, true, 0x1E, 0x0A68},
    {10, true, 0x26, 0x0A59},  {10, true, 0x2D, 0x0A75},
    {11, false, 0x01, 0x0B82}, {11, false, 0x3C, 0x0BA9},
    {11, false, 0x4B, 0x0BB7}, {11, false, 0x60, 0x0BD0},
    {11, false, 0x7F, 0x0BF9}, {11, true, 0x23, 0x0BED},
    {11, true, 0x24, 0x0BEE},  {11, true, 0x2E, 0x0BFA},
    {12, false, 0x00, 0x0C01}, {12, false, 0x1C, 0x0C1B},
    {12, false, 0x45, 0x0C31}, {12, false, 0x60, 0x0C55},
    {12, false, 0x7F, 0x0C63}, {12, true, 0x1C, 0x0C66},
    {12, true, 0x22, 0x0C6C},  {12, true, 0x32, 0x0C7F},
    {13, false, 0x00, 0x0627}, {13, false, 0x0E, 0x067A},
    {13, false, 0x47, 0x06A9}, {13, false, 0x59, 0x06CC},
    {13, false, 0x7F, 0x0670}, {13, true, 0x19, 0x0600},
    {13, true, 0x26, 0x060C},  {13, true, 0x3F, 0x06D4},
};

static void national_cells(void **state) {
  (void)state;
  for (size_t i = 0; i < sizeof cells / sizeof cells[0]; i++) {
    const cell_t *c = &cells[i];
    sg_gsm7_charset_t cs = {c->single ? 0 : c->lang, c->single ? c->lang : 0};
    uint8_t sep[2] = {SG_GSM7_ESC, c->code}, out[2] = {0, 0};
    const uint8_t *in = c->single ? sep : sep + 1;
    size_t len = c->single ? 2 : 1, n = 0;
    uint32_t cp = 0;
    assert_int_equal(sg_gsm7_decode(cs, in, len, &cp, 1, &n, NULL), 0);
    if (n != 1 || cp != c->cp)
      fail_msg("lang %u %s 0x%02X: U+%04X, want U+%04X", c->lang,
               c->single ? "single" : "locking", c->code, (unsigned)cp, c->cp);
    assert_int_equal(sg_gsm7_char(cs, c->cp, out), (int)len);
    assert_memory_equal(out, in, len);
  }
}

/* Every character of every table encodes to its own code (or, in a single
 * shift table, to the lowest code of a character printed twice), and
 * decodes back. */
static void national_tables_round_trip(void **state) {
  (void)state;
  for (unsigned lang = 0; lang < SG_GSM7_LANG_MAX; lang++) {
    const sg__gsm7_table_t *lk = &sg__gsm7_locking[lang];
    const sg__gsm7_table_t *ss = &sg__gsm7_single[lang];
    sg_gsm7_charset_t cs = {(uint8_t)lang, (uint8_t)lang};
    for (unsigned code = 0; lk->ucs != NULL && code < 128; code++) {
      uint8_t out[2];
      if (lk->ucs[code] == 0)
        continue;
      assert_int_equal(sg_gsm7_char(cs, lk->ucs[code], out), 1);
      assert_int_equal(out[0], code);
    }
    const uint16_t *base = lk->ucs != NULL ? lk->ucs : sg__gsm7_locking[0].ucs;
    for (unsigned code = 0; code < 128; code++) {
      uint16_t cp = ss->ucs[code];
      uint8_t out[2], sep[2] = {SG_GSM7_ESC, (uint8_t)code};
      if (cp == 0)
        continue;
      int k = sg_gsm7_char(cs, cp, out);
      if (k == 1) { /* the base table wins */
        assert_int_equal(base[out[0]], cp);
      } else {
        assert_int_equal(k, 2);
        assert_int_equal(out[0], SG_GSM7_ESC);
        assert_int_equal(ss->ucs[out[1]], cp);
        assert_true(out[1] <= code);
      }
      uint32_t back = 0;
      size_t n = 0;
      assert_int_equal(sg_gsm7_decode(cs, sep, 2, &back, 1, &n, NULL), 0);
      assert_int_equal(back, cp);
    }
  }
}

/* TS 23.038 annex C.2: "Türkçe" with the Turkish single shift table. */
static void turkish(void **state) {
  (void)state;
  const sg_gsm7_charset_t single = {0, SG_GSM7_TURKISH};
  const sg_gsm7_charset_t locking = {SG_GSM7_TURKISH, 0};
  static const uint8_t turkce[] = {0x54, 0x7E, 0x72, 0x6B, 0x1B, 0x63, 0x65};
  expect_septets(single, "Türkçe", turkce, sizeof turkce);
  uint32_t cps[8];
  size_t n = u8("Türkçe", cps, 8), idx = 99;
  assert_int_equal(sg_gsm7_count(DEFAULT_CS, cps, n, &idx), SG_ECHARSET);
  assert_int_equal(idx, 4);

  /* ğ ş ı Ğ Ş İ ç: one septet each in the locking table (A.3.1)... */
  static const uint8_t lock_want[] = {0x0C, 0x1D, 0x07, 0x0B, 0x1C, 0x40, 0x60};
  expect_septets(locking, "ğşıĞŞİç", lock_want, sizeof lock_want);
  /* ...two through the single shift table (A.2.1). */
  static const uint8_t single_want[] = {0x1B, 0x67, 0x1B, 0x73, 0x1B,
                                        0x69, 0x1B, 0x47, 0x1B, 0x53,
                                        0x1B, 0x49, 0x1B, 0x63};
  expect_septets(single, "ğşıĞŞİç", single_want, sizeof single_want);
  /* The locking table has € as a base character, and no ì, è or Ø. */
  static const uint8_t euro[] = {0x04};
  expect_septets(locking, "€", euro, 1);
  assert_int_equal(sg_gsm7_char(locking, 0xEC, NULL), 0);
  assert_int_equal(sg_gsm7_char(locking, 0xE8, NULL), 0);
  assert_int_equal(sg_gsm7_char(locking, 0xD8, NULL), 0);
  /* Decoding a received message: 0x07 is ı in Turkish, ì in the default. */
  const uint8_t s = 0x07;
  uint32_t cp = 0;
  assert_int_equal(sg_gsm7_decode(locking, &s, 1, &cp, 1, &n, NULL), 0);
  assert_int_equal(cp, 0x0131);
  assert_int_equal(sg_gsm7_decode(DEFAULT_CS, &s, 1, &cp, 1, &n, NULL), 0);
  assert_int_equal(cp, 0xEC);
}

/* Spanish has only a single shift table (A.2.2; A.3.2 is void). */
static void spanish(void **state) {
  (void)state;
  const sg_gsm7_charset_t cs = {0, SG_GSM7_SPANISH};
  static const uint8_t want[] = {0x1B, 0x61, 0x1B, 0x69, 0x1B, 0x6F,
                                 0x1B, 0x75, 0x1B, 0x09, 0x1B, 0x41,
                                 0x1B, 0x49, 0x1B, 0x4F, 0x1B, 0x55};
  expect_septets(cs, "áíóúçÁÍÓÚ", want, sizeof want);
  static const uint8_t dias[] = {'B', 'u', 'e',  'n',  'o', 's',
                                 ' ', 'd', 0x1B, 0x69, 'a', 's'};
  expect_septets(cs, "Buenos días", dias, sizeof dias);
  /* é ñ ü are in the default alphabet: one septet. */
  static const uint8_t base[] = {0x05, 0x7D, 0x7E};
  expect_septets(cs, "éñü", base, sizeof base);
  assert_false(sg_gsm7_has_locking(SG_GSM7_SPANISH));
  assert_true(sg_gsm7_has_single(SG_GSM7_SPANISH));
}

static void portuguese(void **state) {
  (void)state;
  const sg_gsm7_charset_t locking = {SG_GSM7_PORTUGUESE, 0};
  const sg_gsm7_charset_t single = {0, SG_GSM7_PORTUGUESE};
  const sg_gsm7_charset_t both = {SG_GSM7_PORTUGUESE, SG_GSM7_PORTUGUESE};
  /* ç ã õ Ç Ã Õ ê ∞ ª º in the locking table (A.3.3). */
  static const uint8_t lock_want[] = {0x09, 0x7B, 0x7C, 0x13, 0x5B,
                                      0x5C, 0x04, 0x15, 0x12, 0x24};
  expect_septets(locking, "çãõÇÃÕê∞ªº", lock_want, sizeof lock_want);
  /* ç ã õ Ã Õ â ê Ô through the single shift table (A.2.3); Ç stays in
   * the default alphabet. */
  static const uint8_t single_want[] = {0x1B, 0x09, 0x1B, 0x7B, 0x1B, 0x7C,
                                        0x1B, 0x5B, 0x1B, 0x5C, 0x1B, 0x7F,
                                        0x1B, 0x05, 0x1B, 0x0B, 0x09};
  expect_septets(single, "çãõÃÕâêÔÇ", single_want, sizeof single_want);
  /* The locking table holds ^ \ | € ~ as base characters: they cost one
   * septet there, though the default extension table has them too. */
  static const uint8_t base_wins[] = {0x16, 0x17, 0x1A, 0x18, 0x60};
  expect_septets(locking, "^\\|€~", base_wins, sizeof base_wins);
  /* Greek capitals left the locking table for the single shift table. */
  assert_int_equal(sg_gsm7_char(locking, 0x03A6, NULL), 0);
  uint8_t out[2];
  assert_int_equal(sg_gsm7_char(both, 0x03A6, out), 2);
  assert_int_equal(out[1], 0x12);
  assert_int_equal(sg_gsm7_char(both, 0xE8, NULL), 0); /* è */
}

/* The Indian single shift tables print '*' and U+00A1 twice. */
static void indian_duplicates(void **state) {
  (void)state;
  const sg_gsm7_charset_t cs = {SG_GSM7_HINDI, SG_GSM7_HINDI};
  uint8_t out[2];
  assert_int_equal(sg_gsm7_char(cs, '*', out), 2);
  assert_int_equal(out[1], 0x0B);
  assert_int_equal(sg_gsm7_char(cs, 0xA1, out), 2);
  assert_int_equal(out[1], 0x13);
  static const uint8_t both[] = {0x1B, 0x18, 0x1B, 0x15};
  uint32_t cps[2];
  size_t n = 0;
  assert_int_equal(sg_gsm7_decode(cs, both, 4, cps, 2, &n, NULL), 0);
  assert_int_equal(cps[0], '*');
  assert_int_equal(cps[1], 0xA1);
  /* A Hindi word: नमस्ते */
  static const uint8_t namaste[] = {0x2F, 0x42, 0x4C, 0x5F, 0x27, 0x59};
  expect_septets(cs, "नमस्ते", namaste, sizeof namaste);
}

static void languages(void **state) {
  (void)state;
  static const char *const names[] = {
      "default",  "turkish", "spanish", "portuguese", "bengali",
      "gujarati", "hindi",   "kannada", "malayalam",  "oriya",
      "punjabi",  "tamil",   "telugu",  "urdu"};
  for (unsigned i = 0; i < SG_GSM7_LANG_MAX; i++) {
    sg_gsm7_lang_t l = SG_GSM7_LANG_MAX;
    assert_string_equal(sg_gsm7_lang_name((sg_gsm7_lang_t)i), names[i]);
    assert_int_equal(sg_gsm7_lang_parse(names[i], &l), 0);
    assert_int_equal(l, i);
    assert_true(sg_gsm7_has_single((sg_gsm7_lang_t)i));
    assert_int_equal(sg_gsm7_has_locking((sg_gsm7_lang_t)i),
                     i != SG_GSM7_SPANISH);
  }
  sg_gsm7_lang_t l = SG_GSM7_URDU;
  assert_null(sg_gsm7_lang_name(SG_GSM7_LANG_MAX));
  assert_int_equal(sg_gsm7_lang_parse("Turkish", &l), SG_EINVAL);
  assert_int_equal(sg_gsm7_lang_parse("", &l), SG_EINVAL);
  assert_int_equal(sg_gsm7_lang_parse(NULL, &l), SG_EINVAL);
  assert_int_equal(l, SG_GSM7_URDU);
  assert_false(sg_gsm7_has_locking(SG_GSM7_LANG_MAX));
  assert_false(sg_gsm7_has_single((sg_gsm7_lang_t)200));
}

/* A table that does not exist (Spanish locking, unknown ids) selects the
 * default one, as a receiver that ignores the IE would (annex C). */
static void unknown_tables_fall_back(void **state) {
  (void)state;
  const sg_gsm7_charset_t odd[] = {{SG_GSM7_SPANISH, 0}, {14, 0}, {255, 255}};
  for (size_t i = 0; i < sizeof odd / sizeof odd[0]; i++) {
    for (unsigned code = 0; code < 128; code++) {
      uint8_t sep[2] = {SG_GSM7_ESC, (uint8_t)code};
      uint32_t a[2], b[2];
      size_t na = 0, nb = 0;
      assert_int_equal(sg_gsm7_decode(odd[i], sep + 1, 1, a, 1, &na, NULL), 0);
      assert_int_equal(sg_gsm7_decode(DEFAULT_CS, sep + 1, 1, b, 1, &nb, NULL),
                       0);
      assert_int_equal(a[0], b[0]);
      assert_int_equal(sg_gsm7_decode(odd[i], sep, 2, a, 1, &na, NULL), 0);
      assert_int_equal(sg_gsm7_decode(DEFAULT_CS, sep, 2, b, 1, &nb, NULL), 0);
      assert_int_equal(a[0], b[0]);
    }
    assert_int_equal(sg_gsm7_char(odd[i], 0x20AC, NULL), 2);
  }
}

/* ---- lookup table integrity ----------------------------------------------*/

static void check_table(const sg__gsm7_table_t *t, bool locking) {
  size_t distinct = 0;
  for (unsigned code = 0; code < 128; code++) {
    uint16_t cp = t->ucs[code];
    if (cp == 0)
      continue;
    bool first = true;
    for (unsigned c = 0; c < code; c++)
      if (t->ucs[c] == cp)
        first = false;
    distinct += first;
  }
  assert_int_equal(t->n, distinct);
  if (locking)
    assert_int_equal(t->ucs[SG_GSM7_ESC], 0);
  for (size_t i = 0; i < t->n; i++) {
    uint8_t code = t->by_ucs[i];
    assert_true(code < 128);
    assert_int_not_equal(t->ucs[code], 0);
    if (i > 0) /* strictly increasing: sorted, no code point twice */
      assert_true(t->ucs[t->by_ucs[i - 1]] < t->ucs[code]);
    for (unsigned c = 0; c < code; c++) /* the lowest code of its cp */
      assert_int_not_equal(t->ucs[c], t->ucs[code]);
  }
}

static void tables_consistent(void **state) {
  (void)state;
  for (unsigned lang = 0; lang < SG_GSM7_LANG_MAX; lang++) {
    if (sg__gsm7_locking[lang].ucs != NULL)
      check_table(&sg__gsm7_locking[lang], true);
    check_table(&sg__gsm7_single[lang], false);
  }
  /* The Latin-1 shortcut agrees with the tables it is derived from. */
  const uint16_t *lk = sg__gsm7_locking[0].ucs, *ss = sg__gsm7_single[0].ucs;
  for (unsigned cp = 0; cp < 256; cp++) {
    int want = 0xFF;
    for (int c = 127; c >= 0; c--)
      if (ss[c] != 0 && ss[c] == cp)
        want = 0x80 | c;
    for (int c = 127; c >= 0; c--)
      if (lk[c] != 0 && lk[c] == cp)
        want = c;
    assert_int_equal(sg__gsm7_default_latin1[cp], want);
  }
}

/* ---- packing ------------------------------------------------------------*/

static void pack_hellohello(void **state) {
  (void)state;
  /* TS 23.038 6.1.2.1.1 example. */
  static const uint8_t want[] = {0xE8, 0x32, 0x9B, 0xFD, 0x46,
                                 0x97, 0xD9, 0xEC, 0x37};
  const uint8_t *text = (const uint8_t *)"hellohello";
  uint8_t out[16], back[16];
  size_t n = 0;
  assert_int_equal(sg_gsm7_pack(text, 10, 0, out, sizeof out, &n), 0);
  assert_int_equal(n, 9);
  assert_memory_equal(out, want, 9);
  assert_int_equal(sg_gsm7_unpack(want, 9, 0, 10, back, sizeof back), 0);
  assert_memory_equal(back, text, 10);
}

/* "hellohello" after 1..6 fill bits, as after a UDH (TS 23.040 9.2.3.24). */
static void pack_fill_bits(void **state) {
  (void)state;
  static const struct {
    unsigned fill;
    size_t len;
    uint8_t bytes[10];
  } v[] = {
      {1, 9, {0xD0, 0x65, 0x36, 0xFB, 0x8D, 0x2E, 0xB3, 0xD9, 0x6F}},
      {2, 9, {0xA0, 0xCB, 0x6C, 0xF6, 0x1B, 0x5D, 0x66, 0xB3, 0xDF}},
      {3, 10, {0x40, 0x97, 0xD9, 0xEC, 0x37, 0xBA, 0xCC, 0x66, 0xBF, 0x01}},
      {4, 10, {0x80, 0x2E, 0xB3, 0xD9, 0x6F, 0x74, 0x99, 0xCD, 0x7E, 0x03}},
      {5, 10, {0x00, 0x5D, 0x66, 0xB3, 0xDF, 0xE8, 0x32, 0x9B, 0xFD, 0x06}},
      {6, 10, {0x00, 0xBA, 0xCC, 0x66, 0xBF, 0xD1, 0x65, 0x36, 0xFB, 0x0D}},
  };
  const uint8_t *text = (const uint8_t *)"hellohello";
  for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
    uint8_t out[16], back[16];
    size_t n = 0;
    assert_int_equal(sg_gsm7_packed_len(10, v[i].fill), v[i].len);
    assert_int_equal(sg_gsm7_pack(text, 10, v[i].fill, out, 16, &n), 0);
    assert_int_equal(n, v[i].len);
    assert_memory_equal(out, v[i].bytes, v[i].len);
    assert_int_equal(sg_gsm7_unpack(out, n, v[i].fill, 10, back, 16), 0);
    assert_memory_equal(back, text, 10);
  }
}

static uint32_t rng_next(uint32_t *s) {
  *s ^= *s << 13;
  *s ^= *s >> 17;
  *s ^= *s << 5;
  return *s;
}

static void pack_round_trips(void **state) {
  (void)state;
  uint32_t seed = 0x9E3779B9;
  uint8_t sep[200], packed[200], back[200];
  for (unsigned fill = 0; fill <= 6; fill++) {
    for (size_t n = 0; n <= 170; n++) {
      for (size_t i = 0; i < n; i++)
        sep[i] = (uint8_t)(rng_next(&seed) & 0x7F);
      size_t w = 0, want = (fill + 7 * n + 7) / 8;
      assert_int_equal(sg_gsm7_packed_len(n, fill), want);
      assert_int_equal(sg_gsm7_pack(sep, n, fill, packed, sizeof packed, &w),
                       0);
      assert_int_equal(w, want);
      if (w > 0) /* fill bits and trailing bits are zero */
        assert_int_equal(packed[0] & ((1u << fill) - 1), 0);
      unsigned used = (unsigned)((fill + 7 * n) % 8);
      if (used != 0)
        assert_int_equal(packed[w - 1] >> used, 0);
      memset(back, 0xEE, sizeof back);
      assert_int_equal(sg_gsm7_unpack(packed, w, fill, n, back, n), 0);
      assert_memory_equal(back, sep, n);
      assert_int_equal(back[n], 0xEE);
    }
  }
  assert_int_equal(sg_gsm7_packed_len(0, 0), 0);
  assert_int_equal(sg_gsm7_packed_len(8, 0), 7);
  assert_int_equal(sg_gsm7_packed_len(160, 0), 140);
  assert_int_equal(sg_gsm7_packed_len(153, 1), 134);
  assert_int_equal(sg_gsm7_packed_len((size_t)-1, 6),
                   (size_t)-1 / 8 * 7 + (7 * 7 + 6 + 7) / 8);
}

static void pack_errors(void **state) {
  (void)state;
  uint8_t out[16] = {0};
  size_t n = 99;
  const uint8_t sep[] = {'a', 'b', 0x80};
  assert_int_equal(sg_gsm7_pack(sep, 2, 7, out, 16, &n), SG_EINVAL);
  assert_int_equal(sg_gsm7_pack(sep, 3, 0, out, 16, &n), SG_EINVAL);
  assert_int_equal(sg_gsm7_pack(sep, 2, 0, out, 1, &n), SG_ENOSPC);
  assert_int_equal(n, 99);
  assert_int_equal(out[0], 0);
  assert_int_equal(sg_gsm7_pack(sep, 2, 0, out, 2, &n), 0);
  assert_int_equal(n, 2);
  assert_int_equal(sg_gsm7_pack(sep, 0, 3, out, 1, &n), 0);
  assert_int_equal(n, 1);
  assert_int_equal(out[0], 0);
}

static void unpack_errors(void **state) {
  (void)state;
  static const uint8_t packed[] = {0xE8, 0x32, 0x9B, 0xFD, 0x46,
                                   0x97, 0xD9, 0xEC, 0x37};
  uint8_t out[16] = {0};
  assert_int_equal(sg_gsm7_unpack(packed, 9, 7, 10, out, 16), SG_EINVAL);
  /* 10 septets need 9 octets; 8 septets 7; with one fill bit 8 need 8. */
  assert_int_equal(sg_gsm7_unpack(packed, 8, 0, 10, out, 16), SG_ETRUNC);
  assert_int_equal(sg_gsm7_unpack(packed, 6, 0, 8, out, 16), SG_ETRUNC);
  assert_int_equal(sg_gsm7_unpack(packed, 7, 1, 8, out, 16), SG_ETRUNC);
  assert_int_equal(sg_gsm7_unpack(packed, 0, 1, 0, out, 16), SG_ETRUNC);
  assert_int_equal(out[0], 0); /* nothing written on error */
  assert_int_equal(sg_gsm7_unpack(packed, 9, 0, 10, out, 9), SG_ENOSPC);
  assert_int_equal(out[0], 0);
  assert_int_equal(sg_gsm7_unpack(packed, 9, 0, 0, NULL, 0), 0);
  /* Extra octets are ignored. */
  assert_int_equal(sg_gsm7_unpack(packed, 9, 0, 5, out, 16), 0);
  assert_memory_equal(out, "hello", 5);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(default_table_round_trip),
      cmocka_unit_test(extension_chars_cost_two),
      cmocka_unit_test(not_representable),
      cmocka_unit_test(encode_nospace_keeps_pairs),
      cmocka_unit_test(decode_escapes),
      cmocka_unit_test(decode_malformed),
      cmocka_unit_test(national_cells),
      cmocka_unit_test(national_tables_round_trip),
      cmocka_unit_test(turkish),
      cmocka_unit_test(spanish),
      cmocka_unit_test(portuguese),
      cmocka_unit_test(indian_duplicates),
      cmocka_unit_test(languages),
      cmocka_unit_test(unknown_tables_fall_back),
      cmocka_unit_test(tables_consistent),
      cmocka_unit_test(pack_hellohello),
      cmocka_unit_test(pack_fill_bits),
      cmocka_unit_test(pack_round_trips),
      cmocka_unit_test(pack_errors),
      cmocka_unit_test(unpack_errors),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
