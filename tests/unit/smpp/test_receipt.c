/* Tests for the SMPP 3.4 Appendix B delivery receipt text: the receipts real
 * SMSCs send (as a table of input and expected fields), formatter golden
 * strings, round trips, truncated and malformed input, the stat /
 * message_state mapping and the date arithmetic. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/error.h"
#include "smpp/receipt.h"

/* ---- parsing: a table of real-world variants ---------------------------- */

typedef struct exp_date {
  unsigned year, month, day, hour, minute, second;
  bool secs;
} exp_date_t;

typedef struct parse_case {
  const char *name;
  const char *in;
  size_t in_len; /* 0: strlen(in) */
  int rc;
  unsigned present, malformed;
  const char *id;
  uint32_t sub, dlvrd;
  exp_date_t submit_date, done_date;
  sg_receipt_stat_t stat;
  const char *stat_raw; /* checked when not NULL */
  uint32_t err;
  const char *err_raw; /* checked when not NULL */
  const char *text;
} parse_case_t;

#define ALL SG_RECEIPT_F_ALL
#define F(x) SG_RECEIPT_F_##x
#define ID64 "1234567890123456789012345678901234567890123456789012345678901234"
#define CRLF_NUL                                                               \
  "id:7 sub:001 dlvrd:000 submit date:2312312359 done date:2401010000 "        \
  "stat:EXPIRED err:000\r\n\0"

static const parse_case_t parse_cases[] = {
    {.name = "appendix B, all fields",
     .in = "id:1661543146 sub:001 dlvrd:001 submit date:1101261110 done "
           "date:1101261110 stat:DELIVRD err:000 text:Hello, how are you?",
     .present = ALL,
     .id = "1661543146",
     .sub = 1,
     .dlvrd = 1,
     .submit_date = {2011, 1, 26, 11, 10, 0, false},
     .done_date = {2011, 1, 26, 11, 10, 0, false},
     .stat = SG_RECEIPT_DELIVRD,
     .stat_raw = "DELIVRD",
     .err_raw = "000",
     .text = "Hello, how are you?"},
    {.name = "zero-padded id (Nexmo)",
     .in = "id:0000000012345678 sub:001 dlvrd:001 submit date:1601010100 done "
           "date:1601010101 stat:DELIVRD err:000 text:none",
     .present = ALL,
     .id = "0000000012345678",
     .sub = 1,
     .dlvrd = 1,
     .submit_date = {2016, 1, 1, 1, 0, 0, false},
     .done_date = {2016, 1, 1, 1, 1, 0, false},
     .stat = SG_RECEIPT_DELIVRD,
     .text = "none"},
    {.name = "12-digit dates with seconds",
     .in = "id:64567564356765435676 sub:001 dlvrd:001 submit "
           "date:190608165232 done date:190608165237 stat:DELIVRD err:000 "
           "text:Hello World",
     .present = ALL,
     .id = "64567564356765435676",
     .sub = 1,
     .dlvrd = 1,
     .submit_date = {2019, 6, 8, 16, 52, 32, true},
     .done_date = {2019, 6, 8, 16, 52, 37, true},
     .stat = SG_RECEIPT_DELIVRD,
     .text = "Hello World"},
    {.name = "no sub/dlvrd/text, 12-digit YYYYMMDDhhmm, uuid id",
     .in = "id:6f2929a9-e61a-435f-9c7a-55ccd3f26a7b submit date:201902261755 "
           "done date:201902261756 stat:ACCEPTD err:006",
     .present = F(ID) | F(SUBMIT_DATE) | F(DONE_DATE) | F(STAT) | F(ERR),
     .id = "6f2929a9-e61a-435f-9c7a-55ccd3f26a7b",
     .submit_date = {2019, 2, 26, 17, 55, 0, false},
     .done_date = {2019, 2, 26, 17, 56, 0, false},
     .stat = SG_RECEIPT_ACCEPTD,
     .err = 6,
     .err_raw = "006"},
    {.name = "one-digit dlvrd and err, hex id",
     .in = "id:c449ab9744f47b6af1879e49e75e4f40 sub:001 dlvrd:0 submit "
           "date:0610191018 done date:0610191018 stat:ACCEPTD err:0 "
           "text:This is an Acti",
     .present = ALL,
     .id = "c449ab9744f47b6af1879e49e75e4f40",
     .sub = 1,
     .submit_date = {2006, 10, 19, 10, 18, 0, false},
     .done_date = {2006, 10, 19, 10, 18, 0, false},
     .stat = SG_RECEIPT_ACCEPTD,
     .err_raw = "0",
     .text = "This is an Acti"},
    {.name = "any case, underscores, other order",
     .in = "ID:AbC123 Stat:delivered Err:1 done_date:240131130005 "
           "SUBMIT_DATE:2401311259 dlvrd:1 sub:1 Text:Hi there",
     .present = ALL,
     .id = "AbC123",
     .sub = 1,
     .dlvrd = 1,
     .submit_date = {2024, 1, 31, 12, 59, 0, false},
     .done_date = {2024, 1, 31, 13, 0, 5, true},
     .stat = SG_RECEIPT_DELIVRD,
     .stat_raw = "delivered",
     .err = 1,
     .err_raw = "1",
     .text = "Hi there"},
    {.name = "extra spaces everywhere",
     .in = "  id:  42   sub:1  dlvrd:1   submit date:  2402290000  done  "
           "date:2402290001   stat:  UNDELIVERABLE   err:  123  text:   x y  ",
     .present = ALL,
     .id = "42",
     .sub = 1,
     .dlvrd = 1,
     .submit_date = {2024, 2, 29, 0, 0, 0, false},
     .done_date = {2024, 2, 29, 0, 1, 0, false},
     .stat = SG_RECEIPT_UNDELIV,
     .stat_raw = "UNDELIVERABLE",
     .err = 123,
     .err_raw = "123",
     .text = "x y"},
    {.name = "upper-case keys",
     .in = "ID:18 SUB:001 DLVRD:001 SUBMIT DATE:2401010000 DONE "
           "DATE:2401010000 STAT:DELIVRD ERR:000 TEXT:HELLO",
     .present = ALL,
     .id = "18",
     .sub = 1,
     .dlvrd = 1,
     .submit_date = {2024, 1, 1, 0, 0, 0, false},
     .done_date = {2024, 1, 1, 0, 0, 0, false},
     .stat = SG_RECEIPT_DELIVRD,
     .text = "HELLO"},
    {.name = "Kannel ACKED is ACCEPTD",
     .in = "id:99 stat:ACKED err:000",
     .present = F(ID) | F(STAT) | F(ERR),
     .id = "99",
     .stat = SG_RECEIPT_ACCEPTD,
     .stat_raw = "ACKED"},
    {.name = "Kannel BUFFRED is ENROUTE",
     .in = "id:99 stat:BUFFRED",
     .present = F(ID) | F(STAT),
     .id = "99",
     .stat = SG_RECEIPT_ENROUTE},
    {.name = "EN_ROUTE, submitdate, done-date",
     .in = "id:10 submitdate:2401010000 done-date:2401010001 stat:EN_ROUTE",
     .present = F(ID) | F(SUBMIT_DATE) | F(DONE_DATE) | F(STAT),
     .id = "10",
     .submit_date = {2024, 1, 1, 0, 0, 0, false},
     .done_date = {2024, 1, 1, 0, 1, 0, false},
     .stat = SG_RECEIPT_ENROUTE},
    {.name = "Submit-Date, DoneDate, mixed case",
     .in = "Id:11 SUB:001 DlVrD:001 Submit-Date:2401010000 DoneDate:2401010001 "
           "STAT:DELIVRD eRR:000",
     .present = F(ID) | F(SUB) | F(DLVRD) | F(SUBMIT_DATE) | F(DONE_DATE) |
                F(STAT) | F(ERR),
     .id = "11",
     .sub = 1,
     .dlvrd = 1,
     .submit_date = {2024, 1, 1, 0, 0, 0, false},
     .done_date = {2024, 1, 1, 0, 1, 0, false},
     .stat = SG_RECEIPT_DELIVRD},
    {.name = "submit_date, done_date; near spellings are vendor keys",
     .in = "id:12 submit_date:2401010000 done_date:2401010001 stat:DELIVRD "
           "ids:1 su:2 dlvrds:3 stats:X errs:4 texts:5",
     .present = F(ID) | F(SUBMIT_DATE) | F(DONE_DATE) | F(STAT),
     .id = "12",
     .submit_date = {2024, 1, 1, 0, 0, 0, false},
     .done_date = {2024, 1, 1, 0, 1, 0, false},
     .stat = SG_RECEIPT_DELIVRD},
    {.name = "no text, CR LF and NUL at the end",
     .in = CRLF_NUL,
     .in_len = sizeof CRLF_NUL - 1, /* the explicit NUL is input */
     .present = ALL & ~F(TEXT),
     .id = "7",
     .sub = 1,
     .submit_date = {2023, 12, 31, 23, 59, 0, false},
     .done_date = {2024, 1, 1, 0, 0, 0, false},
     .stat = SG_RECEIPT_EXPIRED},
    {.name = "14-digit dates",
     .in = "id:8 submit date:20240131125959 done date:20240131130000 "
           "stat:REJECTD err:000",
     .present = F(ID) | F(SUBMIT_DATE) | F(DONE_DATE) | F(STAT) | F(ERR),
     .id = "8",
     .submit_date = {2024, 1, 31, 12, 59, 59, true},
     .done_date = {2024, 1, 31, 13, 0, 0, true},
     .stat = SG_RECEIPT_REJECTD},
    {.name = "stat in words is not guessed",
     .in = "id:5 stat:DELIVERED TO CARRIER err:003",
     .present = F(ID) | F(ERR),
     .malformed = F(STAT),
     .id = "5",
     .stat = SG_RECEIPT_STAT_NONE,
     .stat_raw = "DELIVERED TO CARRIER",
     .err = 3,
     .err_raw = "003"},
    {.name = "stat in lower case with a dash",
     .in = "id:17 stat:un-deliv err:034",
     .present = F(ID) | F(STAT) | F(ERR),
     .id = "17",
     .stat = SG_RECEIPT_UNDELIV,
     .stat_raw = "un-deliv",
     .err = 34},
    {.name = "FAILED is UNDELIV, non-decimal err kept raw",
     .in = "id:5 stat:FAILED err:0C1",
     .present = F(ID) | F(STAT),
     .malformed = F(ERR),
     .id = "5",
     .stat = SG_RECEIPT_UNDELIV,
     .err_raw = "0C1"},
    {.name = "bad dates: 8 digits, month 13",
     .in = "id:9 submit date:24013112 done date:2413011200 stat:DELIVRD",
     .present = F(ID) | F(STAT),
     .malformed = F(SUBMIT_DATE) | F(DONE_DATE),
     .id = "9",
     .stat = SG_RECEIPT_DELIVRD},
    {.name = "29 February of a common year",
     .in = "id:9 submit date:2302290000 stat:DELIVRD",
     .present = F(ID) | F(STAT),
     .malformed = F(SUBMIT_DATE),
     .id = "9",
     .stat = SG_RECEIPT_DELIVRD},
    {.name = "text holding keys runs to the end",
     .in = "id:1 stat:DELIVRD err:000 text:stat:REJECTD id:2",
     .present = F(ID) | F(STAT) | F(ERR) | F(TEXT),
     .id = "1",
     .stat = SG_RECEIPT_DELIVRD,
     .text = "stat:REJECTD id:2"},
    {.name = "repeated keys: the first wins",
     .in = "id:first id:second stat:DELIVRD stat:UNDELIV",
     .present = F(ID) | F(STAT),
     .id = "first",
     .stat = SG_RECEIPT_DELIVRD,
     .stat_raw = "DELIVRD"},
    {.name = "vendor fields skipped",
     .in = "id:11 mcc:234 stat:DELIVRD mccmnc:23410 err:000 nw: x",
     .present = F(ID) | F(STAT) | F(ERR),
     .id = "11",
     .stat = SG_RECEIPT_DELIVRD,
     .stat_raw = "DELIVRD"},
    {.name = "empty value before the next key",
     .in = "id:12 sub: dlvrd:001 stat:DELIVRD",
     .present = F(ID) | F(DLVRD) | F(STAT),
     .malformed = F(SUB),
     .id = "12",
     .dlvrd = 1,
     .stat = SG_RECEIPT_DELIVRD},
    {.name = "sub of ten digits",
     .in = "id:16 sub:0000000001 stat:DELIVRD",
     .present = F(ID) | F(STAT),
     .malformed = F(SUB),
     .id = "16",
     .stat = SG_RECEIPT_DELIVRD},
    {.name = "id longer than 64",
     .in = "id:" ID64 "5 stat:DELIVRD",
     .present = F(STAT),
     .malformed = F(ID),
     .stat = SG_RECEIPT_DELIVRD},
    {.name = "id of exactly 64",
     .in = "id:" ID64 " stat:DELIVRD",
     .present = F(ID) | F(STAT),
     .id = ID64,
     .stat = SG_RECEIPT_DELIVRD},
    {.name = "text keeps 20 octets",
     .in = "id:1 stat:DELIVRD text:abcdefghijklmnopqrstuvwxyz",
     .present = F(ID) | F(STAT) | F(TEXT),
     .id = "1",
     .stat = SG_RECEIPT_DELIVRD,
     .text = "abcdefghijklmnopqrst"},
    {.name = "text cut at a space is trimmed",
     .in = "id:1 stat:DELIVRD text:abcdefghijklmnopqrs tuv",
     .present = F(ID) | F(STAT) | F(TEXT),
     .id = "1",
     .stat = SG_RECEIPT_DELIVRD,
     .text = "abcdefghijklmnopqrs"},
    {.name = "empty text",
     .in = "id:1 stat:DELIVRD text:",
     .present = F(ID) | F(STAT) | F(TEXT),
     .id = "1",
     .stat = SG_RECEIPT_DELIVRD,
     .text = ""},
    {.name = "spaces before the colon, line break inside done date",
     .in = "id : 13 submit date:2401010000 done\ndate:2401010100 stat : "
           "DELIVRD",
     .present = F(ID) | F(SUBMIT_DATE) | F(DONE_DATE) | F(STAT),
     .id = "13",
     .submit_date = {2024, 1, 1, 0, 0, 0, false},
     .done_date = {2024, 1, 1, 1, 0, 0, false},
     .stat = SG_RECEIPT_DELIVRD},
    {.name = "id only", .in = "id:abc", .present = F(ID), .id = "abc"},
    {.name = "key without value at the end", .in = "id:", .malformed = F(ID)},
    {.name = "empty input", .in = "", .rc = SG_EPROTO},
    {.name = "an ordinary message",
     .in = "Your code is 1234. Valid until 12:30",
     .rc = SG_EPROTO},
    {.name = "words that only look like keys",
     .in = "identity: paid:5 stat idx:1 ::::",
     .rc = SG_EPROTO},
};

static void check_date(const char *name, const sg_receipt_date_t *got,
                       const exp_date_t *want) {
  (void)name;
  assert_int_equal(got->year, want->year);
  assert_int_equal(got->month, want->month);
  assert_int_equal(got->day, want->day);
  assert_int_equal(got->hour, want->hour);
  assert_int_equal(got->minute, want->minute);
  assert_int_equal(got->second, want->second);
  assert_int_equal(got->has_seconds, want->secs);
}

static void check_case(const parse_case_t *c) {
  size_t n = c->in_len ? c->in_len : strlen(c->in);
  /* An exact-size heap copy, so that ASan sees any read past len. */
  uint8_t *buf = malloc(n ? n : 1);
  assert_non_null(buf);
  memcpy(buf, c->in, n);
  sg_receipt_t r;
  print_message("case: %s\n", c->name);
  assert_int_equal(sg_receipt_parse(n ? buf : NULL, n, &r), c->rc);
  free(buf);
  assert_int_equal(r.present, c->present);
  assert_int_equal(r.malformed, c->malformed);
  assert_int_equal(r.stat, c->stat);
  if (c->present & F(ID))
    assert_string_equal(r.id, c->id);
  else
    assert_string_equal(r.id, "");
  assert_int_equal(r.sub, c->sub);
  assert_int_equal(r.dlvrd, c->dlvrd);
  check_date(c->name, &r.submit_date, &c->submit_date);
  check_date(c->name, &r.done_date, &c->done_date);
  assert_int_equal(r.err, c->err);
  if (c->stat_raw != NULL)
    assert_string_equal(r.stat_raw, c->stat_raw);
  if (c->err_raw != NULL)
    assert_string_equal(r.err_raw, c->err_raw);
  if (c->text != NULL) {
    assert_int_equal(r.text_len, strlen(c->text));
    assert_memory_equal(r.text, c->text, r.text_len + 1);
  } else {
    assert_int_equal(r.text_len, 0);
  }
}

static void parse_variants(void **state) {
  (void)state;
  for (size_t i = 0; i < sizeof parse_cases / sizeof *parse_cases; i++)
    check_case(&parse_cases[i]);
}

static void parse_bad_arguments(void **state) {
  (void)state;
  sg_receipt_t r;
  assert_int_equal(sg_receipt_parse((const uint8_t *)"id:1", 4, NULL),
                   SG_EINVAL);
  assert_int_equal(sg_receipt_parse(NULL, 4, &r), SG_EINVAL);
  assert_int_equal(sg_receipt_parse(NULL, 0, &r), SG_EPROTO);
}

/* The length argument bounds the parse even when more text follows. */
static void parse_stops_at_len(void **state) {
  (void)state;
  static const char s[] = "id:123 stat:DELIVRD err:000";
  sg_receipt_t r;
  assert_int_equal(sg_receipt_parse((const uint8_t *)s, 5, &r), 0);
  assert_string_equal(r.id, "12");
  assert_int_equal(r.present, F(ID));
  assert_int_equal(sg_receipt_parse((const uint8_t *)s, 17, &r), 0);
  assert_int_equal(r.malformed, F(STAT));
  assert_string_equal(r.stat_raw, "DELIV");
}

/* ---- truncated input ------------------------------------------------------
 */

/* Where each field of the Appendix B example sits in it. */
static const char full[] = "id:1661543146 sub:001 dlvrd:001 submit "
                           "date:1101261110 done date:1101261110 "
                           "stat:DELIVRD err:000 text:Hello";

typedef struct field_pos {
  unsigned flag;
  const char *key; /* with its ':' */
  size_t value_len;
} field_pos_t;

static const field_pos_t full_fields[] = {
    {F(ID), "id:", 10},
    {F(SUB), "sub:", 3},
    {F(DLVRD), "dlvrd:", 3},
    {F(SUBMIT_DATE), "submit date:", 10},
    {F(DONE_DATE), "done date:", 10},
    {F(STAT), "stat:", 7},
    {F(ERR), "err:", 3},
    {F(TEXT), "text:", 5},
};

/* Every prefix of a receipt: fields cut before their ':' are absent, fields
 * complete in the prefix are present (stat: once the next key is), id and
 * text are the prefix of their value. Each prefix is an exact-size heap
 * copy. */
static void parse_every_prefix(void **state) {
  (void)state;
  size_t len = strlen(full);
  for (size_t n = 0; n <= len; n++) {
    uint8_t *buf = malloc(n ? n : 1);
    assert_non_null(buf);
    memcpy(buf, full, n);
    sg_receipt_t r;
    int rc = sg_receipt_parse(buf, n, &r);
    free(buf);
    assert_int_equal(rc, n >= 3 ? 0 : SG_EPROTO);
    assert_int_equal(r.present & r.malformed, 0);
    for (size_t i = 0; i < sizeof full_fields / sizeof *full_fields; i++) {
      const field_pos_t *f = &full_fields[i];
      size_t key_at = (size_t)(strstr(full, f->key) - full);
      size_t val_at = key_at + strlen(f->key);
      unsigned seen = (r.present | r.malformed) & f->flag;
      bool complete = n >= val_at + f->value_len;
      /* stat runs up to the next "key:", so "stat:DELIVRD er" is a stat of
       * two words (unrecognised) until "err:" is complete. */
      if (f->flag == F(STAT) && n > val_at + f->value_len + 1 &&
          n < (size_t)(strstr(full, "err:") - full) + 4)
        complete = false;
      if (n < val_at)
        assert_int_equal(seen, 0);
      else if (complete)
        assert_int_equal(r.present & f->flag, f->flag);
      else
        assert_int_equal(seen, f->flag);
      if (f->flag == F(ID) && n > val_at)
        assert_memory_equal(r.id, full + val_at,
                            (n < val_at + 10 ? n : val_at + 10) - val_at);
      if (f->flag == F(TEXT) && n >= val_at)
        assert_memory_equal(r.text, full + val_at, n - val_at);
    }
  }
}

/* Random receipt-like input (a fixed-seed generator): the parser keeps its
 * invariants whatever it is given. */
static uint32_t rng_next(uint32_t *s) {
  *s ^= *s << 13;
  *s ^= *s >> 17;
  *s ^= *s << 5;
  return *s;
}

static size_t random_receipt(uint32_t *seed, uint8_t *buf, size_t cap) {
  static const char *const pieces[] = {
      "id:",          "sub:",       "dlvrd:",
      "submit date:", "done_date:", "stat:",
      "err:",         "text:",      " ",
      "  ",           "\0",         "0",
      "12",           "2402290",    "DELIVRD",
      "acked",        "x",          ":",
      "Date",         "\t",         "999999999999",
      "0x1F",         "done",       "submit",
  };
  size_t n = 0, parts = rng_next(seed) % 24;
  for (size_t i = 0; i < parts; i++) {
    const char *p = pieces[rng_next(seed) % (sizeof pieces / sizeof *pieces)];
    size_t pl = *p ? strlen(p) : 1;
    if (n + pl > cap)
      break;
    memcpy(buf + n, p, pl);
    n += pl;
  }
  return n;
}

static void parse_random_invariants(void **state) {
  (void)state;
  uint32_t seed = 0x2545F491u;
  uint8_t tmp[512];
  for (int i = 0; i < 20000; i++) {
    size_t n = random_receipt(&seed, tmp, sizeof tmp);
    uint8_t *buf = malloc(n ? n : 1);
    assert_non_null(buf);
    memcpy(buf, tmp, n);
    sg_receipt_t r;
    int rc = sg_receipt_parse(buf, n, &r);
    free(buf);
    assert_true(rc == 0 || rc == SG_EPROTO);
    assert_int_equal(r.present & r.malformed, 0);
    assert_int_equal((r.present | r.malformed) & ~(unsigned)ALL, 0);
    assert_true(strlen(r.id) <= SG_RECEIPT_ID_MAX);
    assert_true(r.text_len <= SG_RECEIPT_TEXT_MAX);
    assert_int_equal((r.present & F(STAT)) != 0,
                     r.stat != SG_RECEIPT_STAT_NONE);
    if (r.present & F(SUBMIT_DATE))
      assert_true(sg_receipt_date_valid(&r.submit_date));
    if (r.present & F(DONE_DATE))
      assert_true(sg_receipt_date_valid(&r.done_date));
  }
}

/* ---- formatting -------------------------------------------------------------
 */

static sg_receipt_t sample(void) {
  sg_receipt_t r = {
      .id = "1661543146",
      .sub = 1,
      .dlvrd = 1,
      .submit_date = {2011, 1, 26, 11, 10, 0, false},
      .done_date = {2011, 1, 26, 11, 10, 0, false},
      .stat = SG_RECEIPT_DELIVRD,
      .err = 0,
      .text = "Hello, how are you?",
      .text_len = 19,
  };
  return r;
}

static void format_golden(void **state) {
  (void)state;
  uint8_t out[SG_RECEIPT_FORMAT_MAX + 1];
  size_t n = 0;
  sg_receipt_t r = sample();
  assert_int_equal(sg_receipt_format(&r, out, sizeof out, &n), 0);
  static const char g1[] =
      "id:1661543146 sub:001 dlvrd:001 submit date:1101261110 done "
      "date:1101261110 stat:DELIVRD err:000 text:Hello, how are you?";
  assert_int_equal(n, strlen(g1));
  assert_string_equal((char *)out, g1);

  sg_receipt_t u = {
      .id = "0A1B2C",
      .sub = 1,
      .dlvrd = 0,
      .submit_date = {2024, 2, 29, 23, 59, 59, true},
      .done_date = {2024, 3, 1, 0, 0, 1, true},
      .stat = SG_RECEIPT_UNDELIV,
      .err = 1,
  };
  assert_int_equal(sg_receipt_format(&u, out, sizeof out, NULL), 0);
  assert_string_equal((char *)out,
                      "id:0A1B2C sub:001 dlvrd:000 submit date:240229235959 "
                      "done date:240301000001 stat:UNDELIV err:001 text:");

  /* Years 2099 and 1996 are written as their last two digits. */
  u.submit_date.year = 1996;
  u.done_date = (sg_receipt_date_t){2099, 12, 31, 23, 59, 0, false};
  u.sub = 999;
  u.dlvrd = 12;
  u.err = 999;
  u.stat = SG_RECEIPT_ENROUTE;
  memcpy(u.text, "a\0b", 3);
  u.text_len = 3;
  assert_int_equal(sg_receipt_format(&u, out, sizeof out, &n), 0);
  static const char g3[] =
      "id:0A1B2C sub:999 dlvrd:012 submit date:960229235959 done "
      "date:9912312359 stat:ENROUTE err:999 text:a\0b";
  assert_int_equal(n, sizeof g3 - 1);
  assert_memory_equal(out, g3, sizeof g3);
}

static void format_every_stat(void **state) {
  (void)state;
  static const char *const names[] = {"ENROUTE", "DELIVRD", "EXPIRED",
                                      "DELETED", "UNDELIV", "ACCEPTD",
                                      "UNKNOWN", "REJECTD"};
  uint8_t out[SG_RECEIPT_FORMAT_MAX + 1];
  for (int s = SG_RECEIPT_ENROUTE; s <= SG_RECEIPT_REJECTD; s++) {
    sg_receipt_t r = sample();
    r.stat = (sg_receipt_stat_t)s;
    assert_int_equal(sg_receipt_format(&r, out, sizeof out, NULL), 0);
    char want[32];
    snprintf(want, sizeof want, " stat:%s err:", names[s - 1]);
    assert_non_null(strstr((char *)out, want));
  }
}

static sg_receipt_t longest(void) {
  sg_receipt_t r = {
      .sub = 999,
      .dlvrd = 999,
      .submit_date = {2099, 12, 31, 23, 59, 59, true},
      .done_date = {2099, 12, 31, 23, 59, 59, true},
      .stat = SG_RECEIPT_REJECTD,
      .err = 999,
      .text_len = SG_RECEIPT_TEXT_MAX,
  };
  memset(r.id, 'F', SG_RECEIPT_ID_MAX);
  memset(r.text, 't', SG_RECEIPT_TEXT_MAX);
  return r;
}

static void format_longest(void **state) {
  (void)state;
  uint8_t out[SG_RECEIPT_FORMAT_MAX + 1];
  size_t n = 0;
  sg_receipt_t r = longest();
  assert_int_equal(sg_receipt_format(&r, out, sizeof out, &n), 0);
  assert_int_equal(n, SG_RECEIPT_FORMAT_MAX);
  assert_int_equal(out[n], '\0');
  assert_int_equal(sg_receipt_format(&r, out, sizeof out - 1, &n), SG_ENOSPC);
}

/* Every capacity short of length + 1 fails with SG_ENOSPC and writes nothing
 * beyond it. */
static void format_enospc(void **state) {
  (void)state;
  sg_receipt_t r = sample();
  uint8_t ref[SG_RECEIPT_FORMAT_MAX + 1];
  size_t len;
  assert_int_equal(sg_receipt_format(&r, ref, sizeof ref, &len), 0);
  assert_int_equal(sg_receipt_format(&r, NULL, 0, NULL), SG_ENOSPC);
  for (size_t cap = 0; cap <= len; cap++) {
    uint8_t out[SG_RECEIPT_FORMAT_MAX + 8];
    memset(out, 0xAA, sizeof out);
    size_t n = 12345;
    assert_int_equal(sg_receipt_format(&r, out, cap, &n), SG_ENOSPC);
    assert_int_equal(n, 12345);
    for (size_t i = cap; i < sizeof out; i++)
      assert_int_equal(out[i], 0xAA);
  }
  uint8_t out[SG_RECEIPT_FORMAT_MAX + 1];
  assert_int_equal(sg_receipt_format(&r, out, len + 1, NULL), 0);
  assert_memory_equal(out, ref, len + 1);
}

static void format_invalid(void **state) {
  (void)state;
  uint8_t out[SG_RECEIPT_FORMAT_MAX + 1];
  const size_t cap = sizeof out;
  assert_int_equal(sg_receipt_format(NULL, out, cap, NULL), SG_EINVAL);
  sg_receipt_t r = sample();
  assert_int_equal(sg_receipt_format(&r, NULL, cap, NULL), SG_EINVAL);

  static const char *const bad_ids[] = {"",       "12 34",  "12\t34", "12\r34",
                                        "12\n34", "12\v34", "12\f34"};
  for (size_t i = 0; i < sizeof bad_ids / sizeof *bad_ids; i++) {
    r = sample();
    strcpy(r.id, bad_ids[i]);
    assert_int_equal(sg_receipt_format(&r, out, cap, NULL), SG_EINVAL);
  }
  r = sample();
  memset(r.id, '1', sizeof r.id); /* 65 octets, no NUL */
  assert_int_equal(sg_receipt_format(&r, out, cap, NULL), SG_EINVAL);

  r = sample();
  r.stat = SG_RECEIPT_STAT_NONE;
  assert_int_equal(sg_receipt_format(&r, out, cap, NULL), SG_EINVAL);
  r.stat = (sg_receipt_stat_t)9;
  assert_int_equal(sg_receipt_format(&r, out, cap, NULL), SG_EINVAL);

  r = sample();
  r.submit_date.month = 13;
  assert_int_equal(sg_receipt_format(&r, out, cap, NULL), SG_EINVAL);
  r = sample();
  r.done_date = (sg_receipt_date_t){2024, 2, 30, 0, 0, 0, false};
  assert_int_equal(sg_receipt_format(&r, out, cap, NULL), SG_EINVAL);
  r = sample();
  r.done_date = (sg_receipt_date_t){0};
  assert_int_equal(sg_receipt_format(&r, out, cap, NULL), SG_EINVAL);
  r = sample();
  r.text_len = SG_RECEIPT_TEXT_MAX + 1;
  assert_int_equal(sg_receipt_format(&r, out, cap, NULL), SG_EINVAL);

  r = sample();
  r.sub = 1000;
  assert_int_equal(sg_receipt_format(&r, out, cap, NULL), SG_ERANGE);
  r = sample();
  r.dlvrd = 1000;
  assert_int_equal(sg_receipt_format(&r, out, cap, NULL), SG_ERANGE);
  r = sample();
  r.err = 1000;
  assert_int_equal(sg_receipt_format(&r, out, cap, NULL), SG_ERANGE);
}

/* format, then parse: the same fields come back, all present. */
static void round_trip_one(const sg_receipt_t *r) {
  uint8_t out[SG_RECEIPT_FORMAT_MAX + 1];
  size_t n;
  assert_int_equal(sg_receipt_format(r, out, sizeof out, &n), 0);
  sg_receipt_t p;
  assert_int_equal(sg_receipt_parse(out, n, &p), 0);
  assert_int_equal(p.present, ALL);
  assert_int_equal(p.malformed, 0);
  assert_string_equal(p.id, r->id);
  assert_int_equal(p.sub, r->sub);
  assert_int_equal(p.dlvrd, r->dlvrd);
  assert_memory_equal(&p.submit_date, &r->submit_date, sizeof p.submit_date);
  assert_memory_equal(&p.done_date, &r->done_date, sizeof p.done_date);
  assert_int_equal(p.stat, r->stat);
  assert_int_equal(p.err, r->err);
  assert_int_equal(p.text_len, r->text_len);
  assert_memory_equal(p.text, r->text, r->text_len);
}

static void round_trip(void **state) {
  (void)state;
  sg_receipt_t r = sample();
  round_trip_one(&r);
  r = longest();
  round_trip_one(&r);
  for (int s = SG_RECEIPT_ENROUTE; s <= SG_RECEIPT_REJECTD; s++) {
    r = sample();
    r.stat = (sg_receipt_stat_t)s;
    r.err = (uint32_t)s * 111;
    r.submit_date =
        (sg_receipt_date_t){2000 + s, (uint8_t)s, 28, 0, 0, 0, s % 2 == 0};
    r.done_date = r.submit_date;
    /* Ids that look like keys, carry colons or control octets survive. */
    strcpy(r.id, s % 2 ? "text:x" : s % 3 ? "sub:5" : "a\x1c\x7f\xff");
    strcpy(r.text, "stat:x id:y ");
    r.text_len = 11;
    round_trip_one(&r);
  }
}

/* ---- stat and message_state -------------------------------------------- */

static void stat_mapping(void **state) {
  (void)state;
  static const struct {
    sg_receipt_stat_t stat;
    const char *name;
    int message_state;
    bool final;
  } t[] = {
      {SG_RECEIPT_ENROUTE, "ENROUTE", 1, false},
      {SG_RECEIPT_DELIVRD, "DELIVRD", 2, true},
      {SG_RECEIPT_EXPIRED, "EXPIRED", 3, true},
      {SG_RECEIPT_DELETED, "DELETED", 4, true},
      {SG_RECEIPT_UNDELIV, "UNDELIV", 5, true},
      {SG_RECEIPT_ACCEPTD, "ACCEPTD", 6, true},
      {SG_RECEIPT_UNKNOWN, "UNKNOWN", 7, true},
      {SG_RECEIPT_REJECTD, "REJECTD", 8, true},
  };
  for (size_t i = 0; i < sizeof t / sizeof *t; i++) {
    assert_string_equal(sg_receipt_stat_name(t[i].stat), t[i].name);
    assert_int_equal(sg_receipt_stat_to_message_state(t[i].stat),
                     t[i].message_state);
    assert_int_equal(sg_receipt_stat_from_message_state(t[i].message_state),
                     t[i].stat);
    assert_int_equal(sg_message_state_is_final(t[i].message_state), t[i].final);
    assert_int_equal(sg_receipt_stat_is_final(t[i].stat), t[i].final);
    /* The canonical name parses back to the same stat. */
    char text[32];
    int n = snprintf(text, sizeof text, "stat:%s", t[i].name);
    sg_receipt_t r;
    assert_int_equal(sg_receipt_parse((uint8_t *)text, (size_t)n, &r), 0);
    assert_int_equal(r.stat, t[i].stat);
  }
  assert_int_equal(SG_MESSAGE_STATE_ENROUTE, 1);
  assert_int_equal(SG_MESSAGE_STATE_REJECTED, 8);
  assert_null(sg_receipt_stat_name(SG_RECEIPT_STAT_NONE));
  assert_null(sg_receipt_stat_name((sg_receipt_stat_t)9));
  assert_int_equal(sg_receipt_stat_to_message_state(SG_RECEIPT_STAT_NONE), 0);
  assert_int_equal(sg_receipt_stat_to_message_state((sg_receipt_stat_t)42), 0);
  assert_int_equal(sg_receipt_stat_from_message_state(0), SG_RECEIPT_STAT_NONE);
  assert_int_equal(sg_receipt_stat_from_message_state(9), SG_RECEIPT_STAT_NONE);
  assert_int_equal(sg_receipt_stat_from_message_state(-1),
                   SG_RECEIPT_STAT_NONE);
  assert_false(sg_message_state_is_final(0));
  assert_false(sg_message_state_is_final(9));
  assert_false(sg_receipt_stat_is_final(SG_RECEIPT_STAT_NONE));
}

/* ---- dates -------------------------------------------------------------- */

static void date_validity(void **state) {
  (void)state;
  static const struct {
    sg_receipt_date_t d;
    bool valid;
  } t[] = {
      {{2024, 2, 29, 0, 0, 0, false}, true},
      {{2000, 2, 29, 0, 0, 0, false}, true},  /* divisible by 400 */
      {{1900, 2, 29, 0, 0, 0, false}, false}, /* by 100, not 400 */
      {{2100, 2, 29, 0, 0, 0, false}, false},
      {{2023, 2, 29, 0, 0, 0, false}, false},
      {{2024, 4, 31, 0, 0, 0, false}, false},
      {{2024, 12, 31, 23, 59, 59, true}, true},
      {{2024, 1, 1, 24, 0, 0, false}, false},
      {{2024, 1, 1, 0, 60, 0, false}, false},
      {{2024, 1, 1, 0, 0, 60, true}, false},
      {{2024, 0, 1, 0, 0, 0, false}, false},
      {{2024, 1, 0, 0, 0, 0, false}, false},
      {{10000, 1, 1, 0, 0, 0, false}, false},
  };
  for (size_t i = 0; i < sizeof t / sizeof *t; i++)
    assert_int_equal(sg_receipt_date_valid(&t[i].d), t[i].valid);
  assert_false(sg_receipt_date_valid(NULL));
}

static void date_epoch_golden(void **state) {
  (void)state;
  static const struct {
    int64_t secs;
    sg_receipt_date_t d;
  } t[] = {
      {0, {1970, 1, 1, 0, 0, 0, true}},
      {-1, {1969, 12, 31, 23, 59, 59, true}},
      {951868800, {2000, 3, 1, 0, 0, 0, true}},
      {1706702399, {2024, 1, 31, 11, 59, 59, true}},
      {1709247600, {2024, 2, 29, 23, 0, 0, true}},
      {4107542400, {2100, 3, 1, 0, 0, 0, true}},
      {-62135596800, {1, 1, 1, 0, 0, 0, true}},
      {253402300799, {9999, 12, 31, 23, 59, 59, true}},
  };
  for (size_t i = 0; i < sizeof t / sizeof *t; i++) {
    sg_receipt_date_t d;
    assert_int_equal(sg_receipt_date_from_epoch(t[i].secs, true, &d), 0);
    assert_memory_equal(&d, &t[i].d, sizeof d);
    int64_t back;
    assert_int_equal(sg_receipt_date_to_epoch(&t[i].d, &back), 0);
    assert_int_equal(back, t[i].secs);
  }
  sg_receipt_date_t d;
  assert_int_equal(sg_receipt_date_from_epoch(1706702399, false, &d), 0);
  assert_int_equal(d.second, 0);
  assert_false(d.has_seconds);
  assert_int_equal(d.minute, 59);
  int64_t s;
  assert_int_equal(sg_receipt_date_to_epoch(&d, &s), 0);
  assert_int_equal(s, 1706702340);
  /* Seconds left in a date without has_seconds are not counted. */
  d.second = 30;
  assert_int_equal(sg_receipt_date_to_epoch(&d, &s), 0);
  assert_int_equal(s, 1706702340);

  assert_int_equal(sg_receipt_date_from_epoch(253402300800, true, &d),
                   SG_ERANGE);
  assert_int_equal(sg_receipt_date_from_epoch(INT64_MAX, true, &d), SG_ERANGE);
  assert_int_equal(sg_receipt_date_from_epoch(INT64_MIN, true, &d), SG_ERANGE);
  assert_int_equal(sg_receipt_date_from_epoch(0, true, NULL), SG_EINVAL);
  d = (sg_receipt_date_t){2023, 2, 29, 0, 0, 0, false};
  assert_int_equal(sg_receipt_date_to_epoch(&d, &s), SG_EINVAL);
  assert_int_equal(sg_receipt_date_to_epoch(NULL, &s), SG_EINVAL);
  d.day = 28;
  assert_int_equal(sg_receipt_date_to_epoch(&d, NULL), SG_EINVAL);
}

/* The C library's gmtime_r as an independent oracle over 1902..2106. */
static void date_epoch_against_gmtime(void **state) {
  (void)state;
  for (int64_t t = -2147483648LL; t < 4294967296LL; t += 86400 * 3 + 3607) {
    time_t tt = (time_t)t;
    struct tm tm;
    assert_non_null(gmtime_r(&tt, &tm));
    sg_receipt_date_t d;
    assert_int_equal(sg_receipt_date_from_epoch(t, true, &d), 0);
    assert_int_equal(d.year, tm.tm_year + 1900);
    assert_int_equal(d.month, tm.tm_mon + 1);
    assert_int_equal(d.day, tm.tm_mday);
    assert_int_equal(d.hour, tm.tm_hour);
    assert_int_equal(d.minute, tm.tm_min);
    assert_int_equal(d.second, tm.tm_sec);
    int64_t back;
    assert_int_equal(sg_receipt_date_to_epoch(&d, &back), 0);
    assert_int_equal(back, t);
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(parse_variants),
      cmocka_unit_test(parse_bad_arguments),
      cmocka_unit_test(parse_stops_at_len),
      cmocka_unit_test(parse_every_prefix),
      cmocka_unit_test(parse_random_invariants),
      cmocka_unit_test(format_golden),
      cmocka_unit_test(format_every_stat),
      cmocka_unit_test(format_longest),
      cmocka_unit_test(format_enospc),
      cmocka_unit_test(format_invalid),
      cmocka_unit_test(round_trip),
      cmocka_unit_test(stat_mapping),
      cmocka_unit_test(date_validity),
      cmocka_unit_test(date_epoch_golden),
      cmocka_unit_test(date_epoch_against_gmtime),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
