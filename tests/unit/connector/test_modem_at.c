/* Tests for the AT line reader (connector/modem_at.h): a modem's transcript
 * fed whole, byte by byte and split in two at every position gives the same
 * events; URCs (one-line and two-line) inserted at every line boundary of a
 * command's answer come out as URCs and leave the answer intact; the prompt
 * without a line end; final result codes; the registration answer versus
 * URC; overlong lines; a +CDS header without its PDU.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "connector/modem_at.h"
#include "core/error.h"

/* Renders the events of `in`, fed in pieces at the given cut points. */
static void run(const char *in, size_t len, const size_t *cuts, size_t ncuts,
                const char *expect, char *out, size_t cap) {
  sg_at_reader_t r;
  sg_at_reader_init(&r);
  if (expect != NULL)
    sg_at_reader_expect(&r, expect);
  size_t o = 0, start = 0;
  out[0] = '\0';
  for (size_t k = 0; k <= ncuts; k++) {
    size_t end = k < ncuts ? cuts[k] : len;
    const uint8_t *p = (const uint8_t *)in + start;
    size_t n = end - start;
    while (n > 0) {
      sg_at_event_t ev;
      int rc = sg_at_feed(&r, p, n, &ev);
      assert_true(rc >= 0);
      if (rc == SG_NEED_MORE)
        break;
      assert_true((size_t)rc <= n);
      static const char *const K[] = {"LINE", "OK",   "ERROR",
                                      "CME",  "CMS",  "PROMPT",
                                      "URC",  "ECHO", "OVERLONG"};
      int w = snprintf(out + o, cap - o, "%s(%d):%s%s%s;", K[ev.kind], ev.code,
                       ev.line, ev.pdu ? "|" : "", ev.pdu ? ev.pdu : "");
      assert_true(w > 0 && (size_t)w < cap - o);
      o += (size_t)w;
      p += rc;
      n -= (size_t)rc;
    }
    start = end;
  }
}

/* Checks that every way of splitting `in` gives `want`. */
static void check_splits(const char *in, const char *expect, const char *want) {
  static char got[8192];
  size_t len = strlen(in);
  run(in, len, NULL, 0, expect, got, sizeof got);
  assert_string_equal(got, want);
  for (size_t i = 0; i <= len; i++) {
    run(in, len, &i, 1, expect, got, sizeof got);
    assert_string_equal(got, want);
  }
  static size_t cuts[4096];
  for (size_t i = 0; i < len; i++)
    cuts[i] = i + 1;
  run(in, len, cuts, len - 1, expect, got, sizeof got);
  assert_string_equal(got, want);
}

static void test_finals(void **state) {
  (void)state;
  check_splits("\r\nOK\r\n\r\nERROR\r\n+CME ERROR: 10\r\n"
               "+CMS ERROR: 500\r\n+CMS ERROR: unknown error\r\n"
               "NO CARRIER\r\nERRORS\r\n",
               NULL,
               "OK(0):OK;ERROR(0):ERROR;CME(10):+CME ERROR: 10;"
               "CMS(500):+CMS ERROR: 500;"
               "CMS(-1):+CMS ERROR: unknown error;"
               "ERROR(0):NO CARRIER;LINE(0):ERRORS;");
}

static void test_answers_and_echo(void **state) {
  (void)state;
  check_splits("ATE0\r\r\nOK\r\n\r\n+CSQ: 21,99\r\n\r\nOK\r\n"
               "\r\n+COPS: 0,0,\"Demo Net\"\r\n\r\nOK\r\n",
               NULL,
               "ECHO(0):ATE0;OK(0):OK;LINE(0):+CSQ: 21,99;OK(0):OK;"
               "LINE(0):+COPS: 0,0,\"Demo Net\";OK(0):OK;");
}

/* The prompt has no line end; its space is swallowed, also when it comes
 * in the next piece; the modem's answer follows. */
static void test_prompt(void **state) {
  (void)state;
  check_splits("\r\n> \r\n+CMGS: 42\r\n\r\nOK\r\n", NULL,
               "PROMPT(0):> ;LINE(0):+CMGS: 42;OK(0):OK;");
  check_splits("\r\n>", NULL, "PROMPT(0):> ;");
}

static void test_two_line_urcs(void **state) {
  (void)state;
  check_splits("\r\n+CDS: 25\r\n06000B910221815716F2709021510121807090215101"
               "718000\r\n\r\n+CMT: ,23\r\n0791\r\n",
               NULL,
               "URC(0):+CDS: 25|06000B910221815716F2709021510121807090215101"
               "718000;URC(0):+CMT: ,23|0791;");
  /* A header whose PDU line never came: dropped, the next line stands. */
  sg_at_reader_t r;
  sg_at_reader_init(&r);
  const char *in = "+CDS: 25\r\nOK\r\n";
  sg_at_event_t ev;
  int rc = sg_at_feed(&r, (const uint8_t *)in, strlen(in), &ev);
  assert_int_equal(rc, (int)strlen(in) - 1); /* up to the CR after OK */
  assert_int_equal(ev.kind, SG_AT_OK);
  assert_int_equal(r.dropped, 1);
}

static void test_registration(void **state) {
  (void)state;
  const char *in = "\r\n+CREG: 0,1\r\n\r\n+CREG: 5\r\n"
                   "\r\n+CREG: 1,\"00AB\",\"1A2B\"\r\n\r\n+CREG: 2,1,\"00AB\","
                   "\"1A2B\"\r\n\r\nOK\r\n";
  check_splits(in, "+CREG:",
               "LINE(0):+CREG: 0,1;URC(0):+CREG: 5;"
               "URC(0):+CREG: 1,\"00AB\",\"1A2B\";"
               "LINE(0):+CREG: 2,1,\"00AB\",\"1A2B\";OK(0):OK;");
  /* Without the command in progress, every +CREG is unsolicited. */
  check_splits("+CREG: 0,1\r\n", NULL, "URC(0):+CREG: 0,1;");
}

/* URCs at every line boundary of a +CMGR answer: the answer's events stay
 * in order and the URC comes out where it was put. */
static void test_urc_everywhere(void **state) {
  (void)state;
  static const char *const answer[] = {
      "\r\n+CMGR: 0,,23\r\n", "0791448720003023240DD0\r\n", "\r\nOK\r\n"};
  static const char *const answer_ev[] = {
      "LINE(0):+CMGR: 0,,23;", "LINE(0):0791448720003023240DD0;", "OK(0):OK;"};
  static const char *const urcs[] = {"\r\n+CMTI: \"SM\",7\r\n", "\r\nRING\r\n",
                                     "\r\n+CDS: 25\r\n06000B91\r\n",
                                     "\r\n+CREG: 1\r\n", "\r\n^RSSI:17\r\n"};
  static const char *const urc_ev[] = {
      "URC(0):+CMTI: \"SM\",7;", "URC(0):RING;", "URC(0):+CDS: 25|06000B91;",
      "URC(0):+CREG: 1;", "URC(0):^RSSI:17;"};
  for (size_t u = 0; u < sizeof urcs / sizeof urcs[0]; u++) {
    for (size_t at = 0; at <= 3; at++) {
      char in[512] = "", want[512] = "";
      for (size_t i = 0; i <= 3; i++) {
        if (i == at) {
          strcat(in, urcs[u]);
          strcat(want, urc_ev[u]);
        }
        if (i < 3) {
          strcat(in, answer[i]);
          strcat(want, answer_ev[i]);
        }
      }
      check_splits(in, "+CMGR:", want);
    }
  }
}

/* A URC that cuts into the middle of an answer line splits that line, but
 * the reader loses neither the URC nor the final result code. */
static void test_urc_mid_line(void **state) {
  (void)state;
  const char *line = "+CSQ: 21,99";
  for (size_t cut = 1; cut < strlen(line); cut++) {
    char in[128], want[256];
    snprintf(in, sizeof in, "\r\n%.*s\r\n+CMTI: \"SM\",1\r\n%s\r\n\r\nOK\r\n",
             (int)cut, line, line + cut);
    snprintf(want, sizeof want,
             "LINE(0):%.*s;URC(0):+CMTI: \"SM\",1;LINE(0):%s;OK(0):OK;",
             (int)cut, line, line + cut);
    check_splits(in, NULL, want);
  }
}

static void test_overlong(void **state) {
  (void)state;
  static char in[SG_AT_LINE_MAX * 2 + 64];
  memset(in, 'A', SG_AT_LINE_MAX + 5);
  strcpy(in + SG_AT_LINE_MAX + 5, "\r\nOK\r\n");
  in[0] = 'X';
  static char got[4096];
  run(in, strlen(in), NULL, 0, NULL, got, sizeof got);
  assert_string_equal(got, "OVERLONG(0):;OK(0):OK;");
  /* Exactly SG_AT_LINE_MAX characters still fit. */
  memset(in, 'B', SG_AT_LINE_MAX);
  strcpy(in + SG_AT_LINE_MAX, "\r\n");
  sg_at_reader_t r;
  sg_at_reader_init(&r);
  sg_at_event_t ev;
  assert_int_equal(sg_at_feed(&r, (const uint8_t *)in, strlen(in), &ev),
                   SG_AT_LINE_MAX + 1);
  assert_int_equal(ev.kind, SG_AT_LINE);
  assert_int_equal(ev.len, SG_AT_LINE_MAX);
}

static void test_prefix(void **state) {
  (void)state;
  const char *rest = NULL;
  assert_true(sg_at_has_prefix("+CMGS: 42", "+CMGS:", &rest));
  assert_string_equal(rest, "42");
  assert_false(sg_at_has_prefix("+CMG", "+CMGS:", &rest));
  sg_at_reader_t r;
  sg_at_reader_init(&r);
  sg_at_event_t ev;
  assert_int_equal(sg_at_feed(&r, (const uint8_t *)"\r\n\r\n", 4, &ev),
                   SG_NEED_MORE);
  assert_int_equal(sg_at_feed(&r, (const uint8_t *)"", 0, &ev), SG_NEED_MORE);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_finals),
      cmocka_unit_test(test_answers_and_echo),
      cmocka_unit_test(test_prompt),
      cmocka_unit_test(test_two_line_urcs),
      cmocka_unit_test(test_registration),
      cmocka_unit_test(test_urc_everywhere),
      cmocka_unit_test(test_urc_mid_line),
      cmocka_unit_test(test_overlong),
      cmocka_unit_test(test_prefix),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
