/* Tests for the segmenter: encoding choice and tie-breaks, part boundaries
 * (TS 23.040 9.2.3.24: 160/153 septets, 70/67 units, escape and surrogate
 * pairs kept whole), the exact UDH bytes of concatenation (IEIs 0x00, 0x08)
 * and national shift tables (IEIs 0x24, 0x25), smart encoding, TP-UD packing
 * with fill bits, and malformed input. The packed vectors were computed with
 * an independent bit-by-bit packer. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "core/error.h"
#include "core/gsm7.h"
#include "core/segment.h"
#include "core/smart.h"
#include "core/ucs2.h"
#include "core/utf8.h"

static sg_segments_t *S;
static sg_seg_error_t E;

/* The text under test, built by repetition. */
static char tb[300000];
static size_t tl;

static void t_reset(void) {
  tl = 0;
  tb[0] = '\0';
}

static void t_add(const char *unit, size_t n) {
  size_t k = strlen(unit);
  for (size_t i = 0; i < n; i++) {
    memcpy(tb + tl, unit, k);
    tl += k;
  }
  tb[tl] = '\0';
}

static int seg(const sg_seg_opts_t *o) {
  return sg_segment_text((const uint8_t *)tb, tl, o, S, &E);
}

static int seg_str(const char *s, const sg_seg_opts_t *o) {
  t_reset();
  t_add(s, 1);
  return seg(o);
}

static void assert_hex(const uint8_t *b, size_t n, const char *hex) {
  char got[2 * 400 + 1];
  assert_true(n <= 400);
  for (size_t i = 0; i < n; i++)
    snprintf(got + 2 * i, 3, "%02x", b[i]);
  got[2 * n] = '\0';
  assert_string_equal(got, hex);
}

static void assert_udh(unsigned part, const char *hex) {
  assert_hex(S->parts[part].udh, S->parts[part].udh_len, hex);
}

static int setup(void **state) {
  (void)state;
  S = sg_malloc(sizeof(*S));
  return S == NULL ? -1 : 0;
}

static int teardown(void **state) {
  (void)state;
  sg_free(S);
  return 0;
}

/* ---- GSM 7-bit boundaries ------------------------------------------- */

static void gsm7_160_161(void **state) {
  (void)state;
  t_reset();
  t_add("a", 160);
  assert_int_equal(seg(NULL), 0);
  assert_int_equal(S->encoding, SG_ENC_GSM7);
  assert_int_equal(S->nparts, 1);
  assert_int_equal(S->parts[0].udh_len, 0);
  assert_int_equal(S->parts[0].ud_len, 160);
  assert_int_equal(S->parts[0].chars, 160);
  assert_int_equal(S->units, 160);
  assert_int_equal(S->chars, 160);
  assert_int_equal(S->charset.locking, 0);
  assert_int_equal(S->charset.single, 0);

  t_add("b", 1);
  sg_seg_opts_t o = {.ref = 0x1234};
  assert_int_equal(seg(&o), 0);
  assert_int_equal(S->nparts, 2);
  assert_udh(0, "050003340201"); /* 8-bit reference: low octet only */
  assert_udh(1, "050003340202");
  assert_int_equal(S->parts[0].ud_len, 153);
  assert_int_equal(S->parts[1].ud_len, 8);
  assert_int_equal(S->parts[1].ud[7], 'b');
  assert_int_equal(S->units, 161);
}

static void gsm7_153_154_per_part(void **state) {
  (void)state;
  /* 306 septets are exactly two full parts of 153; 307 need a third. */
  t_reset();
  t_add("a", 306);
  assert_int_equal(seg(NULL), 0);
  assert_int_equal(S->nparts, 2);
  assert_int_equal(S->parts[0].ud_len, 153);
  assert_int_equal(S->parts[1].ud_len, 153);
  t_add("a", 1);
  assert_int_equal(seg(NULL), 0);
  assert_int_equal(S->nparts, 3);
  assert_int_equal(S->parts[2].ud_len, 1);
  assert_udh(2, "050003000303");
  /* 153 applies only once concatenated: 154 septets are still one part. */
  t_reset();
  t_add("x", 154);
  assert_int_equal(seg(NULL), 0);
  assert_int_equal(S->nparts, 1);
  assert_int_equal(S->parts[0].ud_len, 154);
  assert_int_equal(S->parts[0].udh_len, 0);
}

static void gsm7_escape_pair_at_edge(void **state) {
  (void)state;
  /* 152 septets, then a euro sign (1B 65): it does not fit in 153, so the
   * pair goes whole to part 2 and part 1 has 152 septets. */
  t_reset();
  t_add("a", 152);
  t_add("\xE2\x82\xAC", 1);
  t_add("b", 10);
  assert_int_equal(seg(NULL), 0);
  assert_int_equal(S->encoding, SG_ENC_GSM7);
  assert_int_equal(S->units, 164);
  assert_int_equal(S->nparts, 2);
  assert_int_equal(S->parts[0].ud_len, 152);
  assert_int_equal(S->parts[0].chars, 152);
  assert_int_equal(S->parts[1].ud_len, 12);
  assert_int_equal(S->parts[1].chars, 11);
  assert_int_equal(S->parts[1].ud[0], 0x1B);
  assert_int_equal(S->parts[1].ud[1], 0x65);

  /* One septet earlier the pair ends part 1 exactly. */
  t_reset();
  t_add("a", 151);
  t_add("\xE2\x82\xAC", 1);
  t_add("b", 10);
  assert_int_equal(seg(NULL), 0);
  assert_int_equal(S->parts[0].ud_len, 153);
  assert_int_equal(S->parts[0].ud[151], 0x1B);
  assert_int_equal(S->parts[0].ud[152], 0x65);
  assert_int_equal(S->parts[1].ud_len, 10);

  /* 80 escape pairs are 160 septets: one part. 81 are two (76 + 5 pairs). */
  t_reset();
  t_add("{", 80);
  assert_int_equal(seg(NULL), 0);
  assert_int_equal(S->nparts, 1);
  assert_int_equal(S->units, 160);
  t_add("{", 1);
  assert_int_equal(seg(NULL), 0);
  assert_int_equal(S->nparts, 2);
  assert_int_equal(S->parts[0].ud_len, 152);
  assert_int_equal(S->parts[1].ud_len, 10);
}

/* ---- UCS-2 boundaries -------------------------------------------------- */

static void ucs2_70_71_67_68(void **state) {
  (void)state;
  t_reset();
  t_add("\xD0\xB6", 70); /* U+0436 */
  assert_int_equal(seg(NULL), 0);
  assert_int_equal(S->encoding, SG_ENC_UCS2);
  assert_int_equal(S->nparts, 1);
  assert_int_equal(S->parts[0].udh_len, 0);
  assert_int_equal(S->parts[0].ud_len, 140);
  assert_hex(S->parts[0].ud, 4, "04360436");
  assert_int_equal(S->units, 70);
  t_add("\xD0\xB6", 1);
  assert_int_equal(seg(NULL), 0);
  assert_int_equal(S->nparts, 2);
  assert_int_equal(S->parts[0].ud_len, 134);
  assert_int_equal(S->parts[1].ud_len, 8);
  assert_udh(0, "050003000201");

  /* 134 units: two full parts of 67; 135: three. */
  t_reset();
  t_add("\xD0\xB6", 134);
  assert_int_equal(seg(NULL), 0);
  assert_int_equal(S->nparts, 2);
  assert_int_equal(S->parts[1].ud_len, 134);
  t_add("\xD0\xB6", 1);
  assert_int_equal(seg(NULL), 0);
  assert_int_equal(S->nparts, 3);
  assert_int_equal(S->parts[2].ud_len, 2);
}

static void ucs2_surrogate_pair_at_edge(void **state) {
  (void)state;
  /* 66 units, then U+1F600 (D83D DE00): part 1 keeps 66 units. */
  t_reset();
  t_add("\xD0\xB6", 66);
  t_add("\xF0\x9F\x98\x80", 1);
  t_add("\xD0\xB6", 10);
  assert_int_equal(seg(NULL), 0);
  assert_int_equal(S->encoding, SG_ENC_UCS2);
  assert_int_equal(S->units, 78);
  assert_int_equal(S->chars, 77);
  assert_int_equal(S->nparts, 2);
  assert_int_equal(S->parts[0].ud_len, 132);
  assert_int_equal(S->parts[1].ud_len, 24);
  assert_int_equal(S->parts[1].chars, 11);
  assert_hex(S->parts[1].ud, 6, "d83dde000436");

  /* 35 emoji are exactly 70 units: one part. */
  t_reset();
  t_add("\xF0\x9F\x98\x80", 35);
  assert_int_equal(seg(NULL), 0);
  assert_int_equal(S->nparts, 1);
  assert_int_equal(S->units, 70);
  assert_int_equal(S->chars, 35);
}

/* ---- 16-bit reference --------------------------------------------------- */

static void ref16_rooms(void **state) {
  (void)state;
  sg_seg_opts_t o = {.ref16 = true, .ref = 0xABCD};
  t_reset();
  t_add("a", 304);
  assert_int_equal(seg(&o), 0);
  assert_int_equal(S->nparts, 2);
  assert_int_equal(S->parts[0].ud_len, 152);
  assert_udh(0, "060804abcd0201");
  assert_udh(1, "060804abcd0202");
  t_add("a", 1);
  assert_int_equal(seg(&o), 0);
  assert_int_equal(S->nparts, 3);
  /* A single part has no UDH at all, reference or not. */
  t_reset();
  t_add("a", 160);
  assert_int_equal(seg(&o), 0);
  assert_int_equal(S->nparts, 1);
  assert_int_equal(S->parts[0].udh_len, 0);

  t_reset();
  t_add("\xD0\xB6", 132);
  assert_int_equal(seg(&o), 0);
  assert_int_equal(S->nparts, 2);
  assert_int_equal(S->parts[0].ud_len, 132);
  t_add("\xD0\xB6", 1);
  assert_int_equal(seg(&o), 0);
  assert_int_equal(S->nparts, 3);
}

/* ---- national language tables ---------------------------------------- */

static void national_turkish_one_part(void **state) {
  (void)state;
  /* 100 characters with Turkish letters: UCS-2 needs 2 parts, Turkish single
   * shift (s-cedilla costs 2 septets) fits in one part of 155. */
  sg_seg_opts_t o = {.national = true};
  t_reset();
  t_add("G\xC3\xBCnayd\xC4\xB1n ", 5); /* "Günaydın " (ü is default) */
  t_add("\xC5\x9F", 55);               /* ş */
  assert_int_equal(seg(NULL), 0);
  assert_int_equal(S->encoding, SG_ENC_UCS2);
  assert_int_equal(S->nparts, 2);
  assert_int_equal(seg(&o), 0);
  assert_int_equal(S->encoding, SG_ENC_GSM7);
  assert_int_equal(S->nparts, 1);
  /* Single shift would be 45 + 5 + 110 = 160 septets (> 155): the locking
   * table, at one septet each, wins. */
  assert_int_equal(S->charset.locking, SG_GSM7_TURKISH);
  assert_int_equal(S->charset.single, 0);
  assert_int_equal(S->units, 100);
  assert_udh(0, "03250101");
  assert_int_equal(S->parts[0].ud[0], 'G');
  assert_int_equal(S->parts[0].ud[6], 0x07);  /* ı in A.3.1 */
  assert_int_equal(S->parts[0].ud[99], 0x1D); /* ş in A.3.1 */

  /* Fewer special letters: single shift alone is enough and ranks first. */
  t_reset();
  t_add("G\xC3\xBCnayd\xC4\xB1n ", 10);
  assert_int_equal(seg(&o), 0);
  assert_int_equal(S->charset.locking, 0);
  assert_int_equal(S->charset.single, SG_GSM7_TURKISH);
  assert_int_equal(S->units, 100);
  assert_udh(0, "03240101");
  assert_hex(S->parts[0].ud + 6, 2, "1b69");

  /* Not allowed: only Spanish may be used, so UCS-2 it is. */
  o.languages = 1u << SG_GSM7_SPANISH;
  assert_int_equal(seg(&o), 0);
  assert_int_equal(S->encoding, SG_ENC_UCS2);
  o.languages = 1u << SG_GSM7_TURKISH;
  assert_int_equal(seg(&o), 0);
  assert_int_equal(S->encoding, SG_ENC_GSM7);
}

static void national_single_rooms(void **state) {
  (void)state;
  /* Spanish has a single shift table only: one IEI of 3 octets, a 4-octet
   * UDH, 5 septets, 155 left. With concatenation: 9 octets, 11 septets,
   * 149 left. */
  sg_seg_opts_t o = {
      .national = true, .languages = 1u << SG_GSM7_SPANISH, .ref = 7};
  t_reset();
  t_add("\xC3\xA1", 1); /* á: 1B 61 in A.2.2 */
  t_add("a", 153);
  assert_int_equal(seg(&o), 0);
  assert_int_equal(S->nparts, 1);
  assert_int_equal(S->units, 155);
  assert_int_equal(S->charset.single, SG_GSM7_SPANISH);
  assert_int_equal(S->charset.locking, 0);
  assert_udh(0, "03240102");
  t_add("a", 1);
  assert_int_equal(seg(&o), 0);
  assert_int_equal(S->nparts, 2);
  assert_udh(0, "080003070201240102");
  assert_udh(1, "080003070202240102");
  assert_int_equal(S->parts[0].ud_len, 149);
  assert_int_equal(S->parts[1].ud_len, 7);

  /* With a 16-bit reference: 10 octets, 12 septets, 148 left. */
  o.ref16 = true;
  assert_int_equal(seg(&o), 0);
  assert_udh(0, "09080400070201240102");
  assert_int_equal(S->parts[0].ud_len, 148);
}

static void national_locking_and_single(void **state) {
  (void)state;
  /* Portuguese: ã is in the locking table (A.3.3), Σ only in the single
   * shift table (A.2.3) once the locking table is on. Both IEIs: 7-octet
   * UDH, 152 septets; with concatenation 12 octets, 14 septets, 146. */
  sg_seg_opts_t o = {.national = true};
  t_reset();
  t_add("\xCE\xA3", 1);   /* Σ */
  t_add("\xC3\xA3", 150); /* ã */
  assert_int_equal(seg(&o), 0);
  assert_int_equal(S->nparts, 1);
  assert_int_equal(S->units, 152);
  assert_int_equal(S->charset.locking, SG_GSM7_PORTUGUESE);
  assert_int_equal(S->charset.single, SG_GSM7_PORTUGUESE);
  assert_udh(0, "06240103250103");
  assert_int_equal(S->parts[0].ud[0], 0x1B);
  t_add("\xC3\xA3", 1);
  assert_int_equal(seg(&o), 0);
  assert_int_equal(S->nparts, 2);
  assert_udh(0, "0b0003000201240103250103");
  assert_int_equal(S->parts[0].ud_len, 146);
  assert_int_equal(S->parts[1].ud_len, 7);
}

static void national_tie_breaks(void **state) {
  (void)state;
  sg_seg_opts_t o = {.national = true};
  /* Plain ASCII: the default alphabet, no UDH, even with national on. */
  assert_int_equal(seg_str("hello", &o), 0);
  assert_int_equal(S->encoding, SG_ENC_GSM7);
  assert_int_equal(S->charset.locking, 0);
  assert_int_equal(S->charset.single, 0);
  assert_int_equal(S->parts[0].udh_len, 0);
  /* A short Turkish word fits one part in UCS-2 and in Turkish: UCS-2. */
  assert_int_equal(seg_str("\xC5\x9F"
                           "eker",
                           &o),
                   0);
  assert_int_equal(S->encoding, SG_ENC_UCS2);
  assert_hex(S->parts[0].ud, 10, "015f0065006b00650072");
  /* 60 euro signs: 120 septets in the default alphabet, one part: it wins
   * over Turkish locking (60 septets, also one part). */
  t_reset();
  t_add("\xE2\x82\xAC", 60);
  assert_int_equal(seg(&o), 0);
  assert_int_equal(S->charset.locking, 0);
  assert_int_equal(S->charset.single, 0);
  assert_int_equal(S->units, 120);
  /* 100 of them: default 200 septets (2 parts), UCS-2 100 units (2 parts),
   * Turkish locking 100 septets (1 part): the national table wins. */
  t_reset();
  t_add("\xE2\x82\xAC", 100);
  assert_int_equal(seg(&o), 0);
  assert_int_equal(S->encoding, SG_ENC_GSM7);
  assert_int_equal(S->nparts, 1);
  assert_int_equal(S->charset.locking, SG_GSM7_TURKISH);
  assert_int_equal(S->parts[0].ud[0], 0x04);
  /* Without national tables: 2 parts, and the default alphabet beats UCS-2. */
  assert_int_equal(seg(NULL), 0);
  assert_int_equal(S->encoding, SG_ENC_GSM7);
  assert_int_equal(S->nparts, 2);
  assert_int_equal(S->units, 200);
}

/* ---- forced encodings -------------------------------------------------- */

static void forced_gsm7_unencodable(void **state) {
  (void)state;
  sg_seg_opts_t o = {.encoding = SG_ENC_GSM7};
  assert_int_equal(seg_str("hello\xE4\xB8\xADx", &o), SG_ECHARSET);
  assert_int_equal(E.code, SG_ECHARSET);
  assert_int_equal(E.offset, 5);
  assert_int_equal(E.cp, 0x4E2D);
  /* ş alone fails the default alphabet at 0... */
  assert_int_equal(seg_str("\xC5\x9F"
                           "a\xE4\xB8\xAD",
                           &o),
                   SG_ECHARSET);
  assert_int_equal(E.offset, 0);
  assert_int_equal(E.cp, 0x15F);
  /* ...but with national tables allowed Turkish carries it, and the error
   * names the character no allowed table has. */
  o.national = true;
  assert_int_equal(seg_str("\xC5\x9F"
                           "a\xE4\xB8\xAD",
                           &o),
                   SG_ECHARSET);
  assert_int_equal(E.offset, 2);
  assert_int_equal(E.cp, 0x4E2D);
  assert_int_equal(seg_str("\xC5\x9F"
                           "a",
                           &o),
                   0);
  assert_int_equal(S->encoding, SG_ENC_GSM7);
  assert_int_equal(S->charset.single, SG_GSM7_TURKISH);
  /* Forced GSM 7-bit with national: the national table is used even where
   * UCS-2 would tie. */
  assert_int_equal(S->nparts, 1);
}

static void forced_ucs2(void **state) {
  (void)state;
  sg_seg_opts_t o = {.encoding = SG_ENC_UCS2, .national = true};
  assert_int_equal(seg_str("hi", &o), 0);
  assert_int_equal(S->encoding, SG_ENC_UCS2);
  assert_hex(S->parts[0].ud, S->parts[0].ud_len, "00680069");
  assert_int_equal(S->units, 2);
}

/* ---- smart encoding ------------------------------------------------------ */

static void smart_saves_parts(void **state) {
  (void)state;
  sg_seg_opts_t o = {.smart = true};
  /* 100 characters with one curly apostrophe: UCS-2 needs 2 parts, with a
   * straight apostrophe it is one GSM part. */
  t_reset();
  t_add("It\xE2\x80\x99s ", 1);
  t_add("x", 95);
  assert_int_equal(seg(NULL), 0);
  assert_int_equal(S->encoding, SG_ENC_UCS2);
  assert_int_equal(S->nparts, 2);
  assert_int_equal(S->replaced, 0);
  assert_int_equal(seg(&o), 0);
  assert_int_equal(S->encoding, SG_ENC_GSM7);
  assert_int_equal(S->nparts, 1);
  assert_int_equal(S->replaced, 1);
  assert_int_equal(S->chars, 100);
  assert_hex(S->parts[0].ud, 5, "4974277320");

  /* An ellipsis becomes three dots; a zero-width space disappears. */
  t_reset();
  t_add("wait\xE2\x80\xA6\xE2\x80\x8B", 1);
  t_add("y", 70);
  assert_int_equal(seg(&o), 0);
  assert_int_equal(S->encoding, SG_ENC_GSM7);
  assert_int_equal(S->replaced, 2);
  assert_int_equal(S->chars, 77);
  assert_int_equal(S->units, 77);
  assert_hex(S->parts[0].ud, 8, "776169742e2e2e79");

  /* Dashes, NBSP, guillemets. */
  t_reset();
  t_add("a\xE2\x80\x93"
        "b\xE2\x80\x94"
        "c\xC2\xA0\xC2\xAB"
        "d\xC2\xBB",
        1);
  t_add("z", 70);
  assert_int_equal(seg(&o), 0);
  assert_int_equal(S->encoding, SG_ENC_GSM7);
  assert_int_equal(S->replaced, 5);
  assert_hex(S->parts[0].ud, 9, "612d622d6320226422");
}

static void smart_keeps_text_when_no_saving(void **state) {
  (void)state;
  sg_seg_opts_t o = {.smart = true};
  /* Short: UCS-2 and GSM are both one part, the text is kept. */
  assert_int_equal(seg_str("It\xE2\x80\x99s ok", &o), 0);
  assert_int_equal(S->encoding, SG_ENC_UCS2);
  assert_int_equal(S->replaced, 0);
  assert_hex(S->parts[0].ud, 6, "004900742019");
  /* A character with no look-alike keeps the text in UCS-2. */
  t_reset();
  t_add("\xE2\x80\x9C", 1);
  t_add("z", 90);
  t_add("\xE4\xB8\xAD", 1);
  assert_int_equal(seg(&o), 0);
  assert_int_equal(S->encoding, SG_ENC_UCS2);
  assert_int_equal(S->replaced, 0);
  assert_int_equal(S->nparts, 2);
  /* Forced GSM 7-bit: the replacement is what makes it possible. */
  o.encoding = SG_ENC_GSM7;
  assert_int_equal(seg_str("It\xE2\x80\x99s ok", &o), 0);
  assert_int_equal(S->encoding, SG_ENC_GSM7);
  assert_int_equal(S->replaced, 1);
  /* Without --smart it is an error naming the apostrophe. */
  o.smart = false;
  assert_int_equal(seg_str("It\xE2\x80\x99s ok", &o), SG_ECHARSET);
  assert_int_equal(E.offset, 2);
  assert_int_equal(E.cp, 0x2019);
}

static void smart_table_is_sane(void **state) {
  (void)state;
  const sg_gsm7_charset_t def = {0, 0};
  size_t n = sg_smart_count();
  assert_true(n > 30);
  for (size_t i = 0; i < n; i++) {
    uint32_t cp = sg_smart_entry(i), r[SG_SMART_MAX];
    if (i > 0)
      assert_true(sg_smart_entry(i - 1) < cp);
    /* Only characters the default alphabet lacks are replaced... */
    assert_int_equal(sg_gsm7_char(def, cp, NULL), 0);
    int k = sg_smart_lookup(cp, r);
    assert_true(k >= 0 && k <= SG_SMART_MAX);
    /* ...and always with characters it has. */
    for (int j = 0; j < k; j++)
      assert_true(sg_gsm7_char(def, r[j], NULL) > 0);
  }
  assert_int_equal(sg_smart_entry(n), 0);
  assert_int_equal(sg_smart_lookup('a', NULL), -1);
  assert_int_equal(sg_smart_lookup(0x4E2D, NULL), -1);
  assert_int_equal(sg_smart_lookup(0x2026, NULL), 3);
}

/* ---- limits and errors --------------------------------------------------- */

static void max_parts(void **state) {
  (void)state;
  t_reset();
  t_add("a", 1530); /* 10 parts of 153 */
  assert_int_equal(seg(NULL), 0);
  assert_int_equal(S->nparts, 10);
  t_add("a", 1);
  assert_int_equal(seg(NULL), SG_ETOOMANYPARTS);
  assert_int_equal(E.code, SG_ETOOMANYPARTS);
  assert_int_equal(E.needed, 11);
  sg_seg_opts_t o = {.max_parts = 11};
  assert_int_equal(seg(&o), 0);
  assert_int_equal(S->nparts, 11);
  o.max_parts = 2;
  assert_int_equal(seg(&o), SG_ETOOMANYPARTS);
  assert_int_equal(E.needed, 11);

  /* 255 parts at most. */
  o.max_parts = 255;
  t_reset();
  t_add("a", 255 * 153);
  assert_int_equal(seg(&o), 0);
  assert_int_equal(S->nparts, 255);
  assert_udh(254, "05000300ffff");
  t_add("a", 1);
  assert_int_equal(seg(&o), SG_ETOOMANYPARTS);
  assert_int_equal(E.needed, 256);

  /* Longer than the scratch: still counted exactly. */
  t_reset();
  t_add("a", 50000);
  assert_int_equal(seg(&o), SG_ETOOMANYPARTS);
  assert_int_equal(E.needed, (50000 + 152) / 153);
  t_reset();
  t_add("\xD0\xB6", 45000);
  assert_int_equal(seg(&o), SG_ETOOMANYPARTS);
  assert_int_equal(E.needed, (45000 + 66) / 67);
}

static void long_text_of_dropped_characters(void **state) {
  (void)state;
  /* More code points than the scratch holds, almost all of them invisible:
   * smart encoding drops them and the text fits after all. */
  sg_seg_opts_t o = {.smart = true};
  t_reset();
  t_add("\xE2\x80\x8B", SG_SEG_MAX_CHARS + 10);
  t_add("ok", 1);
  assert_int_equal(seg(&o), 0);
  assert_int_equal(S->encoding, SG_ENC_GSM7);
  assert_int_equal(S->nparts, 1);
  assert_int_equal(S->chars, 2);
  assert_int_equal(S->replaced, SG_SEG_MAX_CHARS + 10);
  assert_hex(S->parts[0].ud, S->parts[0].ud_len, "6f6b");
}

static void empty_text(void **state) {
  (void)state;
  sg_seg_opts_t o = {.national = true, .smart = true};
  assert_int_equal(sg_segment_text((const uint8_t *)"", 0, &o, S, &E), 0);
  assert_int_equal(S->encoding, SG_ENC_GSM7);
  assert_int_equal(S->nparts, 1);
  assert_int_equal(S->parts[0].udh_len, 0);
  assert_int_equal(S->parts[0].ud_len, 0);
  assert_int_equal(S->chars, 0);
  assert_int_equal(S->units, 0);
  assert_int_equal(sg_segment_text(NULL, 0, NULL, S, NULL), 0);
  o.encoding = SG_ENC_UCS2;
  assert_int_equal(sg_segment_text(NULL, 0, &o, S, &E), 0);
  assert_int_equal(S->encoding, SG_ENC_UCS2);
  assert_int_equal(S->parts[0].ud_len, 0);
}

static void invalid_utf8(void **state) {
  (void)state;
  assert_int_equal(seg_str("ab\xC3", NULL), SG_ETRUNC);
  assert_int_equal(E.offset, 2);
  assert_int_equal(seg_str("a\xFF"
                           "b",
                           NULL),
                   SG_EILSEQ);
  assert_int_equal(E.code, SG_EILSEQ);
  assert_int_equal(E.offset, 1);
  assert_int_equal(seg_str("\xC0\xAF", NULL), SG_EILSEQ); /* overlong '/' */
  assert_int_equal(E.offset, 0);
  assert_int_equal(seg_str("x\xED\xA0\x80", NULL), SG_EILSEQ); /* surrogate */
  assert_int_equal(E.offset, 1);
  /* Invalid UTF-8 beyond the first chunk, after a charset error: the UTF-8
   * error is reported, at its offset in the whole text. */
  sg_seg_opts_t o = {.encoding = SG_ENC_GSM7};
  t_reset();
  t_add("\xE4\xB8\xAD", 1);
  t_add("a", SG_SEG_MAX_CHARS + 5);
  t_add("\x80", 1);
  assert_int_equal(seg(&o), SG_EILSEQ);
  assert_int_equal(E.offset, 3 + SG_SEG_MAX_CHARS + 5);
}

static void bad_options(void **state) {
  (void)state;
  sg_seg_opts_t o = {.encoding = SG_ENC_8BIT};
  assert_int_equal(seg_str("a", &o), SG_EINVAL);
  assert_int_equal(E.code, SG_EINVAL);
  o = (sg_seg_opts_t){.max_parts = 256};
  assert_int_equal(seg_str("a", &o), SG_EINVAL);
  o = (sg_seg_opts_t){.national = true, .languages = 1u << 14};
  assert_int_equal(seg_str("a", &o), SG_EINVAL);
  o = (sg_seg_opts_t){.encoding = (sg_encoding_t)9};
  assert_int_equal(seg_str("a", &o), SG_EINVAL);
  assert_int_equal(sg_segment_text((const uint8_t *)"a", 1, NULL, NULL, NULL),
                   SG_EINVAL);
  assert_int_equal(sg_segment_text(NULL, 1, NULL, S, NULL), SG_EINVAL);
}

static void code_point_input(void **state) {
  (void)state;
  const uint32_t ok[] = {'h', 0x20AC, 'i'};
  assert_int_equal(sg_segment_cps(ok, 3, NULL, S, &E), 0);
  assert_int_equal(S->encoding, SG_ENC_GSM7);
  assert_hex(S->parts[0].ud, S->parts[0].ud_len, "681b6569");
  const uint32_t bad[] = {'h', 0xDC00, 'i'};
  assert_int_equal(sg_segment_cps(bad, 3, NULL, S, &E), SG_EILSEQ);
  assert_int_equal(E.offset, 1);
  assert_int_equal(E.cp, 0xDC00);
  const uint32_t big[] = {0x110000};
  assert_int_equal(sg_segment_cps(big, 1, NULL, S, &E), SG_EILSEQ);
  /* The scratch itself may be the input. */
  S->scratch[0] = 0x4E2D;
  S->scratch[1] = 'x';
  assert_int_equal(sg_segment_cps(S->scratch, 2, NULL, S, &E), 0);
  assert_hex(S->parts[0].ud, S->parts[0].ud_len, "4e2d0078");
}

/* ---- binary ------------------------------------------------------------- */

static void binary_parts(void **state) {
  (void)state;
  static uint8_t data[300];
  for (size_t i = 0; i < sizeof(data); i++)
    data[i] = (uint8_t)i;
  assert_int_equal(sg_segment_binary(data, 140, NULL, S, &E), 0);
  assert_int_equal(S->encoding, SG_ENC_8BIT);
  assert_int_equal(S->nparts, 1);
  assert_int_equal(S->parts[0].udh_len, 0);
  assert_int_equal(S->parts[0].ud_len, 140);
  assert_int_equal(sg_segment_binary(data, 141, NULL, S, &E), 0);
  assert_int_equal(S->nparts, 2);
  assert_int_equal(S->parts[0].ud_len, 134);
  assert_int_equal(S->parts[1].ud_len, 7);
  assert_int_equal(S->parts[1].ud[0], 134);
  assert_udh(1, "050003000202");
  sg_seg_opts_t o = {.ref16 = true, .ref = 0x0102, .max_parts = 2};
  assert_int_equal(sg_segment_binary(data, 266, &o, S, &E), 0);
  assert_int_equal(S->nparts, 2);
  assert_int_equal(S->parts[0].ud_len, 133);
  assert_udh(0, "06080401020201");
  assert_int_equal(sg_segment_binary(data, 267, &o, S, &E), SG_ETOOMANYPARTS);
  assert_int_equal(E.needed, 3);
  assert_int_equal(sg_segment_binary(data, 0, NULL, S, &E), 0);
  assert_int_equal(S->nparts, 1);
  assert_int_equal(S->parts[0].ud_len, 0);
}

/* ---- TP-UD --------------------------------------------------------------- */

static void tpud_packing(void **state) {
  (void)state;
  uint8_t out[140];
  size_t n = 0;
  unsigned udl = 0;
  /* No UDH, no fill bits: the classic "hellohello" vector. */
  assert_int_equal(seg_str("hellohello", NULL), 0);
  assert_int_equal(sg_segment_tpud(S, 0, out, sizeof(out), &n, &udl), 0);
  assert_int_equal(udl, 10);
  assert_hex(out, n, "e8329bfd4697d9ec37");

  /* 153 septets after a 6-octet UDH: 1 fill bit, TP-UDL 160, 140 octets. */
  t_reset();
  t_add("a", 160);
  t_add("b", 1);
  assert_int_equal(seg(NULL), 0);
  assert_int_equal(sg_segment_tpud(S, 0, out, sizeof(out), &n, &udl), 0);
  assert_int_equal(n, 140);
  assert_int_equal(udl, 160);
  assert_hex(out, 14, "050003000201c2e170381c0e87c3");
  assert_hex(out + 136, 4, "1c0e87c3");
  assert_int_equal(sg_segment_tpud(S, 1, out, sizeof(out), &n, &udl), 0);
  assert_int_equal(udl, 7 + 8);
  assert_hex(out, n, "050003000202c2e170381c0e8b01");
  /* Too small a buffer, a part that does not exist. */
  assert_int_equal(sg_segment_tpud(S, 0, out, 139, &n, &udl), SG_ENOSPC);
  assert_int_equal(sg_segment_tpud(S, 2, out, sizeof(out), &n, &udl),
                   SG_EINVAL);

  /* A 4-octet national UDH: 3 fill bits, TP-UDL 5 + 3. */
  sg_seg_opts_t o = {.encoding = SG_ENC_GSM7, .national = true};
  assert_int_equal(seg_str("\xC3\xA1"
                           "a",
                           &o),
                   0);
  assert_int_equal(S->charset.single, SG_GSM7_SPANISH);
  assert_int_equal(sg_segment_tpud(S, 0, out, sizeof(out), &n, &udl), 0);
  assert_int_equal(udl, 8);
  assert_hex(out, n, "03240102d884c3");

  /* UCS-2: octets, UDH included. */
  t_reset();
  t_add("\xD0\xB6", 71);
  assert_int_equal(seg(NULL), 0);
  assert_int_equal(sg_segment_tpud(S, 1, out, sizeof(out), &n, &udl), 0);
  assert_int_equal(udl, 14);
  assert_hex(out, n, "0500030002020436043604360436");
}

static void encoding_names(void **state) {
  (void)state;
  sg_encoding_t e;
  assert_string_equal(sg_encoding_name(SG_ENC_AUTO), "auto");
  assert_string_equal(sg_encoding_name(SG_ENC_GSM7), "gsm7");
  assert_string_equal(sg_encoding_name(SG_ENC_UCS2), "ucs2");
  assert_string_equal(sg_encoding_name(SG_ENC_8BIT), "8bit");
  assert_string_equal(sg_encoding_name((sg_encoding_t)42), "unknown");
  assert_int_equal(sg_encoding_parse("ucs2", &e), 0);
  assert_int_equal(e, SG_ENC_UCS2);
  assert_int_equal(sg_encoding_parse("gsm7", &e), 0);
  assert_int_equal(e, SG_ENC_GSM7);
  assert_int_equal(sg_encoding_parse("UCS2", &e), SG_EINVAL);
  assert_int_equal(sg_encoding_parse("", &e), SG_EINVAL);
  assert_int_equal(sg_encoding_parse(NULL, &e), SG_EINVAL);
}

/* ---- properties over random texts ---------------------------------------- */

static uint32_t rng_state = 0x12345678u;

static uint32_t rng(void) {
  rng_state ^= rng_state << 13;
  rng_state ^= rng_state >> 17;
  rng_state ^= rng_state << 5;
  return rng_state;
}

/* TS 23.040 room beside a UDH of `udh_len` octets, independent of segment.c:
 * septets for GSM 7-bit, octets otherwise. */
static size_t spec_room(sg_encoding_t enc, size_t udh_len) {
  if (enc == SG_ENC_GSM7)
    return 160 - (udh_len * 8 + 6) / 7;
  return 140 - udh_len;
}

/* Decodes the parts back, each on its own (no pair may be split). */
static size_t decode_parts(uint32_t *cps, size_t cap) {
  size_t total = 0;
  for (unsigned i = 0; i < S->nparts; i++) {
    const sg_seg_part_t *p = &S->parts[i];
    size_t n = 0, bad = 0;
    if (S->encoding == SG_ENC_GSM7)
      assert_int_equal(sg_gsm7_decode(S->charset, p->ud, p->ud_len, cps + total,
                                      cap - total, &n, &bad),
                       0);
    else
      assert_int_equal(sg_ucs2_decode(p->ud, p->ud_len, 0, cps + total,
                                      cap - total, &n, &bad),
                       0);
    assert_int_equal(n, p->chars);
    total += n;
  }
  return total;
}

/* Parts a reference greedy packer needs for `cps` in one encoding, from the
 * per-character costs of the codecs; 0 when the encoding cannot carry it. */
static size_t reference_parts(const uint32_t *cps, size_t n, bool ucs2,
                              size_t room1, size_t roomn) {
  size_t units = 0, parts = 1, cur = 0;
  for (size_t i = 0; i < n; i++) {
    const sg_gsm7_charset_t def = {0, 0};
    size_t c =
        ucs2 ? sg_ucs2_units(cps[i]) : (size_t)sg_gsm7_char(def, cps[i], NULL);
    if (c == 0)
      return 0;
    units += c;
    if (cur + c > roomn) {
      parts++;
      cur = 0;
    }
    cur += c;
  }
  return units <= room1 ? 1 : parts;
}

static void check_part_udh(unsigned i, const sg_seg_opts_t *o) {
  const sg_seg_part_t *p = &S->parts[i];
  if (S->nparts == 1) {
    assert_true(p->udh_len == 0 || p->udh[1] == 0x24 || p->udh[1] == 0x25);
    return;
  }
  assert_int_equal(p->udh[0], p->udh_len - 1);
  assert_int_equal(p->udh[1], o->ref16 ? 0x08 : 0x00);
  assert_int_equal(p->udh[o->ref16 ? 5 : 4], S->nparts);
  assert_int_equal(p->udh[o->ref16 ? 6 : 5], i + 1);
}

static void random_texts_round_trip(void **state) {
  (void)state;
  static const char *const alphabet[] = {
      "a",        "b",        " ",        "\xE2\x82\xAC",
      "{",        "\xC5\x9F", "\xD0\xB6", "\xF0\x9F\x98\x80",
      "\xC3\xA9", "\xC4\x9F", "\n",       "\xC4\xB1",
      "\xCE\xA3", "\xC3\xA3", "\xC3\xA1"};
  static uint32_t want[2000], got[2000];
  const size_t n_alpha = sizeof(alphabet) / sizeof(alphabet[0]);
  for (int iter = 0; iter < 3000; iter++) {
    sg_seg_opts_t o = {.national = iter % 2 == 1,
                       .ref16 = iter % 3 == 0,
                       .max_parts = 255,
                       .ref = (uint16_t)iter};
    /* Mostly one script per text, so that every encoding gets chosen. */
    size_t len = rng() % 420, sub = 1 + rng() % n_alpha, nw = 0;
    t_reset();
    for (size_t k = 0; k < len; k++)
      t_add(alphabet[(rng() % 4 == 0 ? rng() : sub + rng() % 2) % n_alpha], 1);
    assert_int_equal(seg(&o), 0);
    assert_int_equal(
        sg_utf8_decode((const uint8_t *)tb, tl, want, 2000, &nw, NULL), 0);
    /* The parts carry the text, each within the room TS 23.040 leaves. */
    assert_int_equal(decode_parts(got, 2000), nw);
    assert_memory_equal(got, want, nw * sizeof(uint32_t));
    assert_int_equal(S->chars, nw);
    for (unsigned i = 0; i < S->nparts; i++) {
      const sg_seg_part_t *p = &S->parts[i];
      size_t room = spec_room(S->encoding, p->udh_len);
      assert_true(p->ud_len <= room);
      check_part_udh(i, &o);
      /* Greedy: the first character of the next part did not fit here. */
      if (i + 1 < S->nparts) {
        const uint8_t *next = S->parts[i + 1].ud;
        size_t first = S->encoding == SG_ENC_GSM7
                           ? (next[0] == SG_GSM7_ESC ? 2 : 1)
                           : ((next[0] & 0xFC) == 0xD8 ? 4 : 2);
        assert_true(p->ud_len + first > room);
      }
    }
    /* Nothing cheaper was left out. */
    size_t gsm = reference_parts(want, nw, false, 160, o.ref16 ? 152 : 153);
    size_t ucs = reference_parts(want, nw, true, 70, o.ref16 ? 66 : 67);
    assert_true(ucs > 0);
    assert_true(S->nparts <= ucs);
    if (gsm > 0)
      assert_true(S->nparts <= gsm);
    if (gsm > 0 && gsm <= ucs)
      assert_int_equal(S->encoding, SG_ENC_GSM7);
    if (!o.national && gsm == 0)
      assert_int_equal(S->encoding, SG_ENC_UCS2);
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(gsm7_160_161),
      cmocka_unit_test(gsm7_153_154_per_part),
      cmocka_unit_test(gsm7_escape_pair_at_edge),
      cmocka_unit_test(ucs2_70_71_67_68),
      cmocka_unit_test(ucs2_surrogate_pair_at_edge),
      cmocka_unit_test(ref16_rooms),
      cmocka_unit_test(national_turkish_one_part),
      cmocka_unit_test(national_single_rooms),
      cmocka_unit_test(national_locking_and_single),
      cmocka_unit_test(national_tie_breaks),
      cmocka_unit_test(forced_gsm7_unencodable),
      cmocka_unit_test(forced_ucs2),
      cmocka_unit_test(smart_saves_parts),
      cmocka_unit_test(smart_keeps_text_when_no_saving),
      cmocka_unit_test(smart_table_is_sane),
      cmocka_unit_test(max_parts),
      cmocka_unit_test(long_text_of_dropped_characters),
      cmocka_unit_test(empty_text),
      cmocka_unit_test(invalid_utf8),
      cmocka_unit_test(bad_options),
      cmocka_unit_test(code_point_input),
      cmocka_unit_test(binary_parts),
      cmocka_unit_test(tpud_packing),
      cmocka_unit_test(encoding_names),
      cmocka_unit_test(random_texts_round_trip),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
