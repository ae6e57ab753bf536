/* Tests for phone number validation and normalisation (core/phone.h) and the
 * libphonenumber shim (core/phone_lpn.h): golden numbers across many
 * countries and every way of writing them (international prefixes, national
 * prefixes and their transformations, shared calling codes, formatting
 * characters), every rejection reason, the allocator (none while matching;
 * failures while building), threads sharing one db, and a differential test
 * that holds the fast path to libphonenumber's own answer over ~85,000
 * numbers made from its metadata.
 *
 * SG_PHONE_DIFF_SEED=<n> changes the differential test's random numbers,
 * SG_PHONE_DIFF_RANDOM=<n> how many purely random ones it adds (30000).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <pthread.h>

#include "core/alloc.h"
#include "core/error.h"
#include "core/phone.h"
#include "core/phone_lpn.h"

static sg_phone_db_t *db;
static sg_phone_ctx_t *ctx;

static int setup(void **state) {
  (void)state;
  if (sg_phone_db_new(&db) != 0)
    return -1;
  ctx = sg_phone_ctx_new(db);
  return ctx ? 0 : -1;
}

static int teardown(void **state) {
  (void)state;
  sg_phone_ctx_free(ctx);
  sg_phone_db_free(db);
  return 0;
}

static int norm(const char *in, const char *region, sg_phone_t *out,
                sg_phone_err_t *err) {
  return sg_phone_normalize(ctx, in, strlen(in), region, out, err);
}

/* ---- Golden numbers --------------------------------------------------------
 */

typedef struct golden {
  const char *in, *region; /* default region, NULL for none */
  const char *e164, *home; /* expected E.164 and region of the number */
  sg_phone_type_t type;
} golden_t;

static const golden_t goldens[] = {
    /* RU: +7, national prefix 8, international prefix 810 */
    {"+7 916 123-45-67", NULL, "+79161234567", "RU", SG_PHONE_MOBILE},
    {"8 (916) 123-45-67", "RU", "+79161234567", "RU", SG_PHONE_MOBILE},
    {"79161234567", "RU", "+79161234567", "RU", SG_PHONE_MOBILE},
    {"8 495 123-45-67", "RU", "+74951234567", "RU", SG_PHONE_FIXED_LINE},
    {"810 44 20 7946 0958", "RU", "+442079460958", "GB", SG_PHONE_FIXED_LINE},
    /* KZ shares +7: leading digits decide */
    {"+7 701 123 4567", NULL, "+77011234567", "KZ", SG_PHONE_MOBILE},
    {"8 701 123 4567", "KZ", "+77011234567", "KZ", SG_PHONE_MOBILE},
    /* NANPA: US, CA and the islands share +1 */
    {"(650) 253-0000", "US", "+16502530000", "US",
     SG_PHONE_FIXED_LINE_OR_MOBILE},
    {"1-650-253-0000", "US", "+16502530000", "US",
     SG_PHONE_FIXED_LINE_OR_MOBILE},
    {"16502530000", "US", "+16502530000", "US", SG_PHONE_FIXED_LINE_OR_MOBILE},
    {"011 44 20 7946 0958", "US", "+442079460958", "GB", SG_PHONE_FIXED_LINE},
    {"+1 800 253 0000", NULL, "+18002530000", "US", SG_PHONE_TOLL_FREE},
    {"+1 506 234 5678", NULL, "+15062345678", "CA",
     SG_PHONE_FIXED_LINE_OR_MOBILE},
    {"+1 340 642 1234", NULL, "+13406421234", "VI",
     SG_PHONE_FIXED_LINE_OR_MOBILE},
    /* AI: a 7-digit local number, national_prefix_transform_rule 264$1 */
    {"235 1234", "AI", "+12642351234", "AI", SG_PHONE_MOBILE},
    /* GB: national prefix 0, international 00 */
    {"020 7946 0958", "GB", "+442079460958", "GB", SG_PHONE_FIXED_LINE},
    {"07400 123456", "GB", "+447400123456", "GB", SG_PHONE_MOBILE},
    {"+44 (0)20 7946 0958", NULL, "+442079460958", "GB", SG_PHONE_FIXED_LINE},
    {"0800 123 4567", "GB", "+448001234567", "GB", SG_PHONE_TOLL_FREE},
    /* DE */
    {"030 123456", "DE", "+4930123456", "DE", SG_PHONE_FIXED_LINE},
    {"0151 23456789", "DE", "+4915123456789", "DE", SG_PHONE_MOBILE},
    {"00 33 1 23 45 67 89", "DE", "+33123456789", "FR", SG_PHONE_FIXED_LINE},
    /* FR, IN, CN, NG, AE, JP, AU */
    {"06 12 34 56 78", "FR", "+33612345678", "FR", SG_PHONE_MOBILE},
    {"098765 43210", "IN", "+919876543210", "IN", SG_PHONE_MOBILE},
    {"138 0013 8000", "CN", "+8613800138000", "CN", SG_PHONE_MOBILE},
    {"0803 123 4567", "NG", "+2348031234567", "NG", SG_PHONE_MOBILE},
    {"050 123 4567", "AE", "+971501234567", "AE", SG_PHONE_MOBILE},
    {"090-1234-5678", "JP", "+819012345678", "JP", SG_PHONE_MOBILE},
    {"0412 345 678", "AU", "+61412345678", "AU", SG_PHONE_MOBILE},
    {"0011 44 20 7946 0958", "AU", "+442079460958", "GB", SG_PHONE_FIXED_LINE},
    /* BR: carrier selection code (21) before the area code, dropped */
    {"(11) 91234-5678", "BR", "+5511912345678", "BR", SG_PHONE_MOBILE},
    {"0 21 11 91234-5678", "BR", "+5511912345678", "BR", SG_PHONE_MOBILE},
    /* AR: mobile "0 11 15 ..." becomes +54 9 11 ... (transform 9$1) */
    {"011 15-2345-6789", "AR", "+5491123456789", "AR", SG_PHONE_MOBILE},
    /* IT keeps its leading zero; VA shares +39 from 06698 */
    {"+39 02 1234 5678", NULL, "+390212345678", "IT", SG_PHONE_FIXED_LINE},
    {"+39 06 698 12345", NULL, "+390669812345", "VA", SG_PHONE_FIXED_LINE},
    /* a non-geographic calling code */
    {"+800 1234 5678", NULL, "+80012345678", "001", SG_PHONE_TOLL_FREE},
    /* '+' and an international prefix: the '+' is dropped and the number
     * tried again (libphonenumber does the same) */
    {"+011 44 20 7946 0958", "US", "+442079460958", "GB", SG_PHONE_FIXED_LINE},
    /* with '+' the default region does not matter, even when unknown */
    {"+79161234567", "GB", "+79161234567", "RU", SG_PHONE_MOBILE},
    {"+79161234567", "XX", "+79161234567", "RU", SG_PHONE_MOBILE},
    /* region codes are case-insensitive */
    {"8 916 123 45 67", "ru", "+79161234567", "RU", SG_PHONE_MOBILE},
};

static void golden_numbers(void **state) {
  (void)state;
  for (size_t i = 0; i < sizeof goldens / sizeof goldens[0]; i++) {
    const golden_t *g = &goldens[i];
    sg_phone_t p, q;
    sg_phone_err_t e;
    int rc = norm(g->in, g->region, &p, &e);
    if (rc != 0)
      fail_msg("'%s' (%s): rejected: %s", g->in, g->region, e.text);
    assert_string_equal(p.e164, g->e164);
    assert_string_equal(p.region, g->home);
    assert_int_equal(p.type, g->type);
    assert_int_equal(e.reason, SG_PHONE_R_OK);
    assert_string_equal(e.text, "");
    /* country_code and nsn_offset describe the E.164 string */
    char cc[8];
    snprintf(cc, sizeof cc, "+%u", p.country_code);
    assert_int_equal(p.nsn_offset, strlen(cc));
    assert_memory_equal(p.e164, cc, strlen(cc));
    /* and libphonenumber agrees */
    assert_int_equal(sg_lpn_parse_valid(g->in, g->region, &q), 1);
    assert_string_equal(q.e164, g->e164);
    assert_string_equal(q.region, g->home);
    assert_int_equal(q.type, g->type);
    assert_int_equal(q.country_code, p.country_code);
    assert_int_equal(q.nsn_offset, p.nsn_offset);
  }
}

/* One number written every way the syntax allows. */
static void formatting_characters(void **state) {
  (void)state;
  static const char *const ways[] = {
      "+79161234567",
      "+7 916 123 45 67",
      "+7 (916) 123-45-67",
      "+7.916.123.45.67",
      "+7/916/1234567",
      "  +79161234567  ",
      "\t+79161234567\r\n",
      "(+7) 916 123 45 67",
      "+7 916 123 45 67 -",
      "+ 7 9 1 6 1 2 3 4 5 6 7",
      "-+79161234567",
      "+7--916--123--45--67",
      /* white space before the number starts and after its last digit */
      "(\t+7 916 123 45 67)\n",
      ". \t+79161234567 -\t.",
  };
  for (size_t i = 0; i < sizeof ways / sizeof ways[0]; i++) {
    sg_phone_t p;
    sg_phone_err_t e;
    if (norm(ways[i], NULL, &p, &e) != 0)
      fail_msg("'%s': %s", ways[i], e.text);
    assert_string_equal(p.e164, "+79161234567");
  }
}

/* The input is (buf, len): no NUL needed, and a NUL inside is a byte like
 * any other. */
static void length_not_nul(void **state) {
  (void)state;
  sg_phone_t p;
  sg_phone_err_t e;
  static const char buf[] = "+79161234567XYZ";
  assert_int_equal(sg_phone_normalize(ctx, buf, 12, NULL, &p, &e), 0);
  assert_string_equal(p.e164, "+79161234567");
  static const char nul[] = "+7916\0"
                            "1234567";
  assert_int_equal(sg_phone_normalize(ctx, nul, sizeof nul - 1, NULL, &p, &e),
                   SG_EINVAL);
  assert_int_equal(e.reason, SG_PHONE_R_NOT_A_NUMBER);
  assert_int_equal(e.offset, 5);
  assert_string_equal(e.text,
                      "byte 0x00 at offset 5 is not allowed in a phone number");
}

/* ---- Rejections ------------------------------------------------------------
 */

typedef struct bad {
  const char *in, *region;
  sg_phone_reason_t reason;
  const char *text; /* a part of the message */
  /* libphonenumber accepts it: the syntax smsgate narrows on purpose
   * (phone.h: no letters, no extensions, one '+') */
  bool lpn_accepts;
} bad_t;

static const bad_t bads[] = {
    {"", "RU", SG_PHONE_R_EMPTY, "the number is empty", false},
    {"  \t ", "RU", SG_PHONE_R_EMPTY, "the number is empty", false},
    {"()", "RU", SG_PHONE_R_EMPTY, "no digits", false},
    {"+", NULL, SG_PHONE_R_EMPTY, "no digits", false},
    {"abc", "RU", SG_PHONE_R_NOT_A_NUMBER, "letters are not allowed", false},
    {"1-800-FLOWERS", "US", SG_PHONE_R_NOT_A_NUMBER, "('F' at offset 6)", true},
    {"+1 650 253 0000 ext. 12", NULL, SG_PHONE_R_NOT_A_NUMBER,
     "('e' at offset 16)", true},
    {"+7 916#123", NULL, SG_PHONE_R_NOT_A_NUMBER, "character '#' at offset 6",
     false},
    {"+7 916\t1234567", NULL, SG_PHONE_R_NOT_A_NUMBER, "byte 0x09 at offset 6",
     false},
    {"+7 916 \xEF\xBC\x91\xEF\xBC\x92", NULL, SG_PHONE_R_NOT_A_NUMBER,
     "byte 0xEF at offset 7", false},
    {"8 +7 916 1234567", "RU", SG_PHONE_R_NOT_A_NUMBER,
     "'+' may appear only once", false},
    {"++79161234567", NULL, SG_PHONE_R_NOT_A_NUMBER, "(offset 1)", true},
    {"+7 916 123 45 67 +", NULL, SG_PHONE_R_NOT_A_NUMBER, "(offset 17)", true},
    {"+\t7 916 123 45 67", NULL, SG_PHONE_R_NOT_A_NUMBER,
     "byte 0x09 at offset 1", false},
    {"1", "RU", SG_PHONE_R_TOO_SHORT,
     "too short to be a phone number (1 digits)", false},
    {"1 2", "RU", SG_PHONE_R_TOO_SHORT, "(2 digits)", false},
    {"+12", NULL, SG_PHONE_R_TOO_SHORT, "(2 digits)", false},
    {"12", "RU", SG_PHONE_R_TOO_SHORT,
     "too short for RU (+7): numbers there have 10 or 14 digits after the "
     "country code, this one has 2",
     false},
    {"916 12 34", "RU", SG_PHONE_R_TOO_SHORT, "this one has 7", false},
    {"+441", NULL, SG_PHONE_R_TOO_SHORT, "too short to be a phone number",
     false},
    {"00 7", "DE", SG_PHONE_R_TOO_SHORT, "after the international prefix",
     false},
    {"+44 20 7946 0958 123", NULL, SG_PHONE_R_TOO_LONG,
     "too long for GB (+44): numbers there have 7, 9 or 10 digits after the "
     "country code, this one has 13",
     false},
    {"+7 916 123 45 67 89 01 23 45", NULL, SG_PHONE_R_TOO_LONG,
     "at most 17 digits, this one has 18", false},
    {"+7 916 123 45 67 89", NULL, SG_PHONE_R_INVALID_LENGTH,
     "wrong length for RU (+7)", false},
    {"+999 123 4567", NULL, SG_PHONE_R_INVALID_COUNTRY_CODE,
     "+999... does not start with a country calling code", false},
    {"00 999 123 4567", "DE", SG_PHONE_R_INVALID_COUNTRY_CODE, "+999...",
     false},
    {"+0 123 456 789", NULL, SG_PHONE_R_INVALID_COUNTRY_CODE,
     "no country calling code starts with 0", false},
    /* an international prefix followed by 0 is not one (no calling code
     * starts with 0): the number is read as national */
    {"011 0 650 253 0000", "US", SG_PHONE_R_TOO_LONG, "US (+1)", false},
    {"00 030 123456", "DE", SG_PHONE_R_INVALID_FOR_REGION, "DE (+49)", false},
    {"8 916 123-45-67", NULL, SG_PHONE_R_NO_REGION, "needs a default region",
     false},
    {"8 916 123-45-67", "", SG_PHONE_R_NO_REGION, "with + and the country code",
     false},
    {"8 916 123-45-67", "XX", SG_PHONE_R_UNKNOWN_REGION,
     "unknown default region 'XX'", false},
    {"8 916 123-45-67", "Russia", SG_PHONE_R_UNKNOWN_REGION, "'Russia'", false},
    {"8 916 123-45-67", "001", SG_PHONE_R_UNKNOWN_REGION, "'001'", false},
    {"+1 123 456 7890", NULL, SG_PHONE_R_INVALID_FOR_REGION,
     "not a valid number for US (+1)", false},
    {"+7 000 000 00 00", NULL, SG_PHONE_R_INVALID_FOR_REGION, "RU (+7)", false},
    {"+7 33 123 456 78", NULL, SG_PHONE_R_INVALID_FOR_REGION, "RU (+7)", false},
    /* national numbers with the wrong default region */
    {"8 916 123-45-67", "GB", SG_PHONE_R_TOO_LONG, "this one has 11", false},
    {"06 12 34 56 78", "GB", SG_PHONE_R_INVALID_FOR_REGION, "GB (+44)", false},
    /* short codes are not full numbers */
    {"900", "RU", SG_PHONE_R_TOO_SHORT, "too short for RU", false},
    {"7726", "GB", SG_PHONE_R_TOO_SHORT, "too short for GB", false},
};

static void rejections(void **state) {
  (void)state;
  for (size_t i = 0; i < sizeof bads / sizeof bads[0]; i++) {
    const bad_t *b = &bads[i];
    sg_phone_t p, q;
    sg_phone_err_t e;
    int rc = norm(b->in, b->region, &p, &e);
    if (rc != SG_EINVAL || e.reason != b->reason || !strstr(e.text, b->text))
      fail_msg("'%s' (%s): rc %d reason %s '%s', want %s '%s'", b->in,
               b->region, rc, sg_phone_reason_name(e.reason), e.text,
               sg_phone_reason_name(b->reason), b->text);
    assert_string_equal(p.e164, "");
    assert_int_equal(p.type, SG_PHONE_UNKNOWN);
    assert_int_equal(sg_lpn_parse_valid(b->in, b->region, &q),
                     b->lpn_accepts ? 1 : 0);
  }
}

static void input_length_limit(void **state) {
  (void)state;
  char buf[300];
  memset(buf, ' ', sizeof buf);
  memcpy(buf + 250 - 12, "+79161234567", 12);
  sg_phone_t p;
  sg_phone_err_t e;
  assert_int_equal(sg_phone_normalize(ctx, buf, 250, NULL, &p, &e), 0);
  assert_string_equal(p.e164, "+79161234567");
  memcpy(buf + 251 - 12, "+79161234567", 12);
  assert_int_equal(sg_phone_normalize(ctx, buf, 251, NULL, &p, &e), SG_EINVAL);
  assert_int_equal(e.reason, SG_PHONE_R_TOO_LONG);
  assert_string_equal(e.text, "longer than 250 characters");
}

static void arguments(void **state) {
  (void)state;
  sg_phone_t p;
  sg_phone_err_t e;
  assert_int_equal(sg_phone_normalize(NULL, "+79161234567", 12, NULL, &p, &e),
                   SG_EINVAL);
  assert_int_equal(sg_phone_normalize(ctx, "+79161234567", 12, NULL, NULL, &e),
                   SG_EINVAL);
  assert_int_equal(sg_phone_normalize(ctx, NULL, 3, NULL, &p, &e), SG_EINVAL);
  assert_int_equal(sg_phone_normalize(ctx, NULL, 0, "RU", &p, &e), SG_EINVAL);
  assert_int_equal(e.reason, SG_PHONE_R_EMPTY);
  /* err is optional */
  assert_int_equal(sg_phone_normalize(ctx, "+79161234567", 12, NULL, &p, NULL),
                   0);
  assert_int_equal(sg_phone_normalize(ctx, "abc", 3, NULL, &p, NULL),
                   SG_EINVAL);
  assert_int_equal(sg_phone_db_new(NULL), SG_EINVAL);
  assert_null(sg_phone_ctx_new(NULL));
  sg_phone_db_free(NULL);
  sg_phone_ctx_free(NULL);
  sg_lpn_metadata_free(NULL);
}

static void regions_and_names(void **state) {
  (void)state;
  assert_true(sg_phone_region_known(db, "GB"));
  assert_true(sg_phone_region_known(db, "gb"));
  assert_true(sg_phone_region_known(db, "VA"));
  assert_false(sg_phone_region_known(db, "XX"));
  assert_false(sg_phone_region_known(db, "001"));
  assert_false(sg_phone_region_known(db, "GBR"));
  assert_false(sg_phone_region_known(db, ""));
  assert_false(sg_phone_region_known(db, NULL));
  assert_false(sg_phone_region_known(NULL, "GB"));

  assert_string_equal(sg_phone_type_name(SG_PHONE_MOBILE), "mobile");
  assert_string_equal(sg_phone_type_name(SG_PHONE_FIXED_LINE_OR_MOBILE),
                      "fixed_line_or_mobile");
  assert_string_equal(sg_phone_type_name(SG_PHONE_VOICEMAIL), "voicemail");
  assert_string_equal(sg_phone_type_name(SG_PHONE_UNKNOWN), "unknown");
  assert_string_equal(sg_phone_type_name((sg_phone_type_t)99), "unknown");
  assert_string_equal(sg_phone_reason_name(SG_PHONE_R_OK), "ok");
  assert_string_equal(sg_phone_reason_name(SG_PHONE_R_NO_REGION),
                      "missing_region");
  assert_string_equal(sg_phone_reason_name(SG_PHONE_R_INVALID_FOR_REGION),
                      "invalid_for_region");
  assert_string_equal(sg_phone_reason_name((sg_phone_reason_t)99), "unknown");
}

/* ---- The shim
 * ---------------------------------------------------------------- */

static void lpn_formatting(void **state) {
  (void)state;
  char out[64];
  assert_int_equal(sg_lpn_format_national("+442079460958", out, sizeof out),
                   13);
  assert_string_equal(out, "020 7946 0958");
  assert_int_equal(
      sg_lpn_format_international("+442079460958", out, sizeof out), 16);
  assert_string_equal(out, "+44 20 7946 0958");
  assert_true(sg_lpn_format_national("+79161234567", out, sizeof out) > 0);
  assert_string_equal(out, "8 (916) 123-45-67");
  assert_true(sg_lpn_format_national("+16502530000", out, sizeof out) > 0);
  assert_string_equal(out, "(650) 253-0000");
  assert_int_equal(sg_lpn_format_national("+442079460958", out, 13), SG_ENOSPC);
  assert_int_equal(sg_lpn_format_national("442079460958", out, sizeof out),
                   SG_EINVAL);
  assert_int_equal(sg_lpn_format_national("+abc", out, sizeof out), SG_EINVAL);
  assert_int_equal(sg_lpn_format_national(NULL, out, sizeof out), SG_EINVAL);
}

static void lpn_verdicts(void **state) {
  (void)state;
  sg_phone_t q;
  assert_int_equal(sg_lpn_parse_valid("8 916 123-45-67", "ru", &q), 1);
  assert_string_equal(q.e164, "+79161234567");
  assert_string_equal(q.region, "RU");
  assert_int_equal(q.country_code, 7);
  assert_int_equal(q.nsn_offset, 2);
  assert_int_equal(q.type, SG_PHONE_MOBILE);
  assert_int_equal(sg_lpn_parse_valid("1-800-FLOWERS", "US", &q), 1);
  assert_string_equal(q.e164, "+18003569377"); /* libphonenumber maps letters */
  assert_int_equal(sg_lpn_parse_valid("+1 123 456 7890", NULL, &q), 0);
  assert_string_equal(q.e164, "");
  assert_int_equal(q.type, SG_PHONE_UNKNOWN);
  assert_int_equal(sg_lpn_parse_valid(NULL, "US", &q), SG_EINVAL);
  assert_int_equal(sg_lpn_is_valid("020 7946 0958", "GB"), 1);
  assert_int_equal(sg_lpn_is_valid("020 7946 095", "GB"), 0);
  assert_int_equal(sg_lpn_is_valid(NULL, "GB"), SG_EINVAL);
}

static void lpn_metadata(void **state) {
  (void)state;
  sg_lpn_metadata_t *md = NULL;
  assert_int_equal(sg_lpn_metadata_load(&md), 0);
  assert_true(md->n > 240);
  const sg_lpn_region_t *gb = NULL, *us = NULL;
  size_t nongeo = 0;
  for (size_t i = 0; i < md->n; i++) {
    if (!strcmp(md->regions[i].id, "GB"))
      gb = &md->regions[i];
    if (!strcmp(md->regions[i].id, "US"))
      us = &md->regions[i];
    nongeo += !strcmp(md->regions[i].id, "001");
  }
  assert_non_null(gb);
  assert_non_null(us);
  assert_true(nongeo >= 5); /* +800, +808, +870, +878, +881, +882, ... */
  assert_int_equal(gb->country_code, 44);
  assert_string_equal(gb->international_prefix, "00");
  assert_string_equal(gb->national_prefix_for_parsing, "0");
  assert_null(gb->national_prefix_transform_rule);
  assert_int_equal(us->country_code, 1);
  assert_true(us->main_country_for_code);
  assert_true(us->same_mobile_and_fixed_line_pattern);
  /* GB numbers have 7, 9 or 10 digits; mobiles 10 */
  assert_int_equal(gb->desc[SG_PHONE_UNKNOWN].lengths,
                   (1u << 7) | (1u << 9) | (1u << 10));
  assert_int_equal(gb->desc[SG_PHONE_MOBILE].lengths, 1u << 10);
  assert_non_null(gb->desc[SG_PHONE_MOBILE].pattern);
  assert_non_null(gb->desc[SG_PHONE_MOBILE].example);
  assert_null(gb->desc[SG_PHONE_FIXED_LINE_OR_MOBILE].pattern);
  sg_lpn_metadata_free(md);
}

/* ---- Allocation
 * ---------------------------------------------------------------- */

/* Matching allocates nothing, valid or rejected. */
static void no_allocation_when_matching(void **state) {
  (void)state;
  sg_phone_t p;
  sg_phone_err_t e;
  sg_alloc_count_reset();
  for (int k = 0; k < 200; k++) {
    for (size_t i = 0; i < sizeof goldens / sizeof goldens[0]; i++)
      norm(goldens[i].in, goldens[i].region, &p, &e);
    for (size_t i = 0; i < sizeof bads / sizeof bads[0]; i++)
      norm(bads[i].in, bads[i].region, &p, &e);
  }
  assert_int_equal(sg_alloc_count(), 0);
}

/* Failing the Nth allocation while building a db fails it cleanly (the
 * sanitizer build checks nothing leaks), or, when only a JIT compilation
 * failed, leaves a db that works without the JIT. */
static void allocation_failures(void **state) {
  (void)state;
  sg_alloc_count_reset();
  sg_phone_db_t *d = NULL;
  assert_int_equal(sg_phone_db_new(&d), 0);
  unsigned long total = sg_alloc_count();
  sg_phone_db_free(d);
  assert_true(total > 1000);
  unsigned long points[40];
  size_t n = 0;
  for (unsigned long k = 0; k < total && n < 30; k = k * 3 / 2 + 1)
    points[n++] = k;
  points[n++] = total - 2;
  points[n++] = total - 1;
  for (size_t i = 0; i < n; i++) {
    sg_alloc_fail_after((long)points[i]);
    d = NULL;
    int rc = sg_phone_db_new(&d);
    sg_alloc_fail_after(-1);
    if (rc == 0) {
      sg_phone_ctx_t *c = sg_phone_ctx_new(d);
      sg_phone_t p;
      assert_non_null(c);
      assert_int_equal(
          sg_phone_normalize(c, "+79161234567", 12, NULL, &p, NULL), 0);
      assert_string_equal(p.e164, "+79161234567");
      sg_phone_ctx_free(c);
      sg_phone_db_free(d);
    } else {
      assert_int_equal(rc, SG_ENOMEM);
      assert_null(d);
    }
  }
  sg_alloc_fail_after(0);
  assert_null(sg_phone_ctx_new(db));
  sg_alloc_fail_after(1);
  assert_null(sg_phone_ctx_new(db));
  sg_alloc_fail_after(-1);
}

/* ---- Threads: one db, one ctx per thread
 * ---------------------------------------- */

typedef struct worker {
  sg_phone_ctx_t *ctx;
  int failures;
} worker_t;

static void *work(void *arg) {
  worker_t *w = arg;
  for (int k = 0; k < 300; k++)
    for (size_t i = 0; i < sizeof goldens / sizeof goldens[0]; i++) {
      sg_phone_t p;
      const golden_t *g = &goldens[i];
      if (sg_phone_normalize(w->ctx, g->in, strlen(g->in), g->region, &p,
                             NULL) != 0 ||
          strcmp(p.e164, g->e164) != 0)
        w->failures++;
    }
  return NULL;
}

static void threads_share_a_db(void **state) {
  (void)state;
  pthread_t t[3];
  worker_t w[3];
  for (int i = 0; i < 3; i++) {
    w[i].ctx = sg_phone_ctx_new(db);
    w[i].failures = 0;
    assert_non_null(w[i].ctx);
    assert_int_equal(pthread_create(&t[i], NULL, work, &w[i]), 0);
  }
  for (int i = 0; i < 3; i++) {
    pthread_join(t[i], NULL);
    assert_int_equal(w[i].failures, 0);
    sg_phone_ctx_free(w[i].ctx);
  }
}

/* ---- The differential test
 * ------------------------------------------------------- */

typedef struct diff {
  uint64_t rng;
  const char *regions[300];
  int nregions;
  long total, valid, disagreements;
  long by_reason[SG_PHONE_R_COUNT];
} diff_t;

static unsigned rnd(diff_t *d, unsigned n) {
  d->rng ^= d->rng << 13;
  d->rng ^= d->rng >> 7;
  d->rng ^= d->rng << 17;
  return (unsigned)(d->rng % n);
}

static const char *any_region(diff_t *d) {
  return d->regions[rnd(d, (unsigned)d->nregions)];
}

/* Both must agree on valid or not, and when valid on E.164, region and
 * type. The first disagreements are printed. */
static void compare(diff_t *d, const char *in, const char *region) {
  sg_phone_t p, q;
  sg_phone_err_t e;
  int rc = sg_phone_normalize(ctx, in, strlen(in), region, &p, &e);
  int v = sg_lpn_parse_valid(in, region, &q);
  d->total++;
  d->valid += v == 1;
  d->by_reason[e.reason]++;
  bool same = (rc == 0) == (v == 1) &&
              (rc != 0 || (!strcmp(p.e164, q.e164) &&
                           !strcmp(p.region, q.region) && p.type == q.type));
  if (!same && d->disagreements++ < 20)
    print_error("'%s' (%s): fast %s %s %s (%s) | libphonenumber %d %s %s %s\n",
                in, region ? region : "-", p.e164, p.region,
                sg_phone_type_name(p.type), e.text, v, q.e164, q.region,
                sg_phone_type_name(q.type));
}

/* Twelve variants of a digit string: truncated, extended, a digit changed,
 * inserted or deleted; each after `prefix`. */
static void mutations(diff_t *d, const char *digits, const char *prefix,
                      const char *region) {
  size_t n = strlen(digits);
  for (int k = 0; k < 12; k++) {
    char m[48], in[64];
    size_t len = n < 30 ? n : 30;
    memcpy(m, digits, len);
    switch (rnd(d, 5)) {
    case 0: /* truncate 1..3 */
      if (len > 1)
        len -= 1 + rnd(d, len < 4 ? 1 : 3);
      break;
    case 1: /* append 1..3 */
      for (unsigned a = 1 + rnd(d, 3); a > 0 && len < 33; a--)
        m[len++] = (char)('0' + rnd(d, 10));
      break;
    case 2: /* change one */
      if (len)
        m[rnd(d, (unsigned)len)] = (char)('0' + rnd(d, 10));
      break;
    case 3: /* insert one */
      if (len && len < 33) {
        size_t at = rnd(d, (unsigned)len);
        memmove(m + at + 1, m + at, len - at);
        m[at] = (char)('0' + rnd(d, 10));
        len++;
      }
      break;
    default: /* delete one */
      if (len > 1) {
        size_t at = rnd(d, (unsigned)len);
        memmove(m + at, m + at + 1, len - at - 1);
        len--;
      }
    }
    m[len] = '\0';
    snprintf(in, sizeof in, "%s%s", prefix, m);
    compare(d, in, region);
  }
}

/* International prefixes as dialled from a few regions, also after a '+'
 * (which is then dropped and the number read again). */
static void via_idd(diff_t *d, const char *cc, const char *ex) {
  static const char *const idd[][2] = {{"00", "DE"},  {"011", "US"},
                                       {"810", "RU"}, {"0011", "AU"},
                                       {"00", "GB"},  {"001", "KR"}};
  for (size_t k = 0; k < sizeof idd / sizeof idd[0]; k++) {
    char in[64];
    snprintf(in, sizeof in, "%s %s %s", idd[k][0], cc, ex);
    compare(d, in, idd[k][1]);
    snprintf(in, sizeof in, "+%s %s %s", idd[k][0], cc, ex);
    compare(d, in, idd[k][1]);
  }
}

/* Where a transform rule prepends digits (the NANPA islands' "264$1"),
 * the local number without them. */
static void local_forms(diff_t *d, const sg_lpn_region_t *r, const char *ex) {
  const char *rule = r->national_prefix_transform_rule;
  size_t lit = 0;
  if (!rule)
    return;
  while (rule[lit] >= '0' && rule[lit] <= '9')
    lit++;
  if (lit == 0 || strncmp(ex, rule, lit) != 0)
    return;
  char in[64];
  compare(d, ex + lit, r->id);
  snprintf(in, sizeof in, "1 %s", ex + lit);
  compare(d, in, r->id);
  mutations(d, ex + lit, "", r->id);
}

/* Every example number of one region or non-geographic entity, written
 * internationally, nationally (as libphonenumber formats it), via
 * international prefixes, with the calling code but no '+', and mutated. */
static void from_examples(diff_t *d, const sg_lpn_region_t *r) {
  bool geo = strcmp(r->id, "001") != 0;
  char cc[8], plus_cc[12];
  snprintf(cc, sizeof cc, "%d", r->country_code);
  snprintf(plus_cc, sizeof plus_cc, "+%s", cc);
  for (int t = 0; t < SG_PHONE_TYPE_COUNT; t++) {
    const char *ex = r->desc[t].example;
    char intl[64], nat[64];
    if (!ex || strlen(ex) > 24)
      continue;
    snprintf(intl, sizeof intl, "+%s%s", cc, ex);
    compare(d, intl, NULL);
    compare(d, intl, geo ? r->id : "US");
    compare(d, intl, any_region(d));
    mutations(d, ex, plus_cc, NULL);
    via_idd(d, cc, ex);
    if (!geo)
      continue;
    if (sg_lpn_format_national(intl, nat, sizeof nat) > 0) {
      compare(d, nat, r->id);
      compare(d, nat, any_region(d));
    }
    compare(d, ex, r->id);
    mutations(d, ex, "", r->id);
    mutations(d, ex, cc, r->id);
    local_forms(d, r, ex);
  }
}

/* Random digits after likely prefixes, with random separators and default
 * regions (none, unknown, known). */
static void random_numbers(diff_t *d, long count) {
  static const char *const pre[] = {"",    "+",   "0",  "00", "8",  "1",
                                    "011", "810", "+0", "+1", "+7", "0011"};
  for (long i = 0; i < count; i++) {
    char in[80];
    size_t o = (size_t)snprintf(in, sizeof in, "%s", pre[rnd(d, 12)]);
    for (unsigned len = 1 + rnd(d, 19); len > 0; len--) {
      in[o++] = (char)('0' + rnd(d, 10));
      if (rnd(d, 6) == 0)
        in[o++] = " -.()/"[rnd(d, 6)];
    }
    in[o] = '\0';
    unsigned w = rnd(d, 10);
    compare(d, in, w == 0 ? NULL : w == 1 ? "ZZ" : any_region(d));
  }
}

static long env_long(const char *name, long dflt) {
  const char *v = getenv(name);
  return v && *v ? strtol(v, NULL, 10) : dflt;
}

static void differential(void **state) {
  (void)state;
  diff_t *d = calloc(1, sizeof *d);
  sg_lpn_metadata_t *md = NULL;
  assert_non_null(d);
  assert_int_equal(sg_lpn_metadata_load(&md), 0);
  d->rng = (uint64_t)env_long("SG_PHONE_DIFF_SEED", 88172645463325252LL) | 1u;
  for (size_t i = 0; i < md->n && d->nregions < 300; i++)
    if (strcmp(md->regions[i].id, "001") != 0)
      d->regions[d->nregions++] = md->regions[i].id;
  for (size_t i = 0; i < md->n; i++)
    from_examples(d, &md->regions[i]);
  random_numbers(d, env_long("SG_PHONE_DIFF_RANDOM", 30000));
  print_message("differential: %ld numbers, %ld valid, %ld disagreements\n",
                d->total, d->valid, d->disagreements);
  /* The set must be large and mixed, or agreeing proves little. */
  assert_true(d->total > 50000);
  assert_true(d->valid > d->total / 10);
  for (int r = SG_PHONE_R_TOO_SHORT; r < SG_PHONE_R_COUNT; r++)
    if (r != SG_PHONE_R_NOT_A_NUMBER && d->by_reason[r] < 100)
      fail_msg("only %ld numbers rejected as %s", d->by_reason[r],
               sg_phone_reason_name((sg_phone_reason_t)r));
  assert_int_equal(d->disagreements, 0);
  sg_lpn_metadata_free(md);
  free(d);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(golden_numbers),
      cmocka_unit_test(formatting_characters),
      cmocka_unit_test(length_not_nul),
      cmocka_unit_test(rejections),
      cmocka_unit_test(input_length_limit),
      cmocka_unit_test(arguments),
      cmocka_unit_test(regions_and_names),
      cmocka_unit_test(lpn_formatting),
      cmocka_unit_test(lpn_verdicts),
      cmocka_unit_test(lpn_metadata),
      cmocka_unit_test(no_allocation_when_matching),
      cmocka_unit_test(allocation_failures),
      cmocka_unit_test(threads_share_a_db),
      cmocka_unit_test(differential),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
