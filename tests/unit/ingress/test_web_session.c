/* test_web_session.c - the web page's sessions, CSRF tokens, Cookie header
 * reader, saved document and failed-login limit (ingress/web/session.h),
 * and the header checks of its file answers (ingress/web/assets.h).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "core/error.h"
#include "ingress/rest/parse.h"
#include "ingress/web/assets.h"
#include "ingress/web/session.h"

#define HOUR (3600 * 1000LL)

/* Whether needle[0..n) occurs in hay[0..len). */
static bool contains(const void *hay, size_t len, const char *needle,
                     size_t n) {
  const char *h = hay;
  for (size_t i = 0; i + n <= len; i++)
    if (memcmp(h + i, needle, n) == 0)
      return true;
  return false;
}

static void sessions_open_find_and_end(void **state) {
  (void)state;
  sg_web_sessions_t t = {0};
  char a[SG_WEB_TOKEN_LEN + 1], b[SG_WEB_TOKEN_LEN + 1];
  assert_int_equal(sg_web_session_new(&t, "shop", 1000, HOUR, a), 0);
  assert_int_equal(sg_web_session_new(&t, "ops", 1000, HOUR, b), 0);
  assert_int_equal(strlen(a), SG_WEB_TOKEN_LEN);
  assert_string_not_equal(a, b);
  const sg_web_session_t *s = sg_web_session_find(&t, a, 2000);
  assert_non_null(s);
  assert_string_equal(s->account, "shop");
  assert_int_equal(s->expires_ms, 1000 + HOUR);
  /* The table keeps the hash, never the token. */
  assert_false(contains(t.v, t.n * sizeof *t.v, a, SG_WEB_TOKEN_LEN));
  /* One character changed, a short token, a character outside base64url. */
  char c[SG_WEB_TOKEN_LEN + 1];
  memcpy(c, a, sizeof c);
  c[5] = c[5] == 'A' ? 'B' : 'A';
  assert_null(sg_web_session_find(&t, c, 2000));
  assert_null(sg_web_session_find(&t, "abc", 2000));
  c[5] = '+';
  assert_null(sg_web_session_find(&t, c, 2000));
  assert_null(sg_web_session_find(&t, NULL, 2000));
  /* Expired: not found, and gone from the table. */
  assert_null(sg_web_session_find(&t, a, 1000 + HOUR));
  assert_int_equal(t.n, 1);
  assert_int_equal(sg_web_session_end(&t, a), SG_ENOENT);
  assert_int_equal(sg_web_session_end(&t, b), 0);
  assert_null(sg_web_session_find(&t, b, 2000));
  assert_int_equal(t.n, 0);
  sg_web_sessions_clear(&t);
}

static void sessions_refuse_bad_arguments(void **state) {
  (void)state;
  sg_web_sessions_t t = {0};
  char tok[SG_WEB_TOKEN_LEN + 1];
  char longname[SG_WEB_ACCOUNT_MAX + 1];
  memset(longname, 'a', sizeof longname - 1);
  longname[sizeof longname - 1] = '\0';
  assert_int_equal(sg_web_session_new(&t, "", 0, HOUR, tok), SG_EINVAL);
  assert_int_equal(sg_web_session_new(&t, NULL, 0, HOUR, tok), SG_EINVAL);
  assert_int_equal(sg_web_session_new(&t, longname, 0, HOUR, tok), SG_EINVAL);
  assert_int_equal(sg_web_session_new(&t, "a", 0, 0, tok), SG_EINVAL);
  assert_int_equal(t.n, 0);
  sg_web_sessions_clear(&t);
}

static void sessions_end_by_account(void **state) {
  (void)state;
  sg_web_sessions_t t = {0};
  char tok[SG_WEB_TOKEN_LEN + 1], keep[SG_WEB_TOKEN_LEN + 1];
  for (int i = 0; i < 3; i++)
    assert_int_equal(sg_web_session_new(&t, "shop", 0, HOUR, tok), 0);
  assert_int_equal(sg_web_session_new(&t, "ops", 0, HOUR, keep), 0);
  assert_int_equal(sg_web_session_end_account(&t, "shop"), 3);
  assert_null(sg_web_session_find(&t, tok, 1));
  assert_non_null(sg_web_session_find(&t, keep, 1));
  sg_web_sessions_clear(&t);
}

/* A full table drops the session that ends soonest, not the newest. */
static void sessions_full_table_drops_the_oldest(void **state) {
  (void)state;
  sg_web_sessions_t t = {0};
  char first[SG_WEB_TOKEN_LEN + 1], tok[SG_WEB_TOKEN_LEN + 1];
  assert_int_equal(sg_web_session_new(&t, "a", 0, HOUR, first), 0);
  for (int i = 1; i < SG_WEB_SESSIONS_MAX; i++)
    assert_int_equal(sg_web_session_new(&t, "a", i, HOUR, tok), 0);
  assert_int_equal(t.n, SG_WEB_SESSIONS_MAX);
  assert_int_equal(sg_web_session_new(&t, "b", 20000, HOUR, tok), 0);
  assert_int_equal(t.n, SG_WEB_SESSIONS_MAX);
  assert_null(sg_web_session_find(&t, first, 20000));
  assert_non_null(sg_web_session_find(&t, tok, 20000));
  sg_web_sessions_clear(&t);
}

static void csrf_tokens(void **state) {
  (void)state;
  sg_web_sessions_t t = {0};
  char a[SG_WEB_TOKEN_LEN + 1], b[SG_WEB_TOKEN_LEN + 1];
  char ca[SG_WEB_TOKEN_LEN + 1], ca2[SG_WEB_TOKEN_LEN + 1],
      cb[SG_WEB_TOKEN_LEN + 1];
  assert_int_equal(sg_web_session_new(&t, "x", 0, HOUR, a), 0);
  assert_int_equal(sg_web_session_new(&t, "x", 0, HOUR, b), 0);
  assert_int_equal(sg_web_csrf_token(a, ca), 0);
  assert_int_equal(sg_web_csrf_token(a, ca2), 0);
  assert_int_equal(sg_web_csrf_token(b, cb), 0);
  assert_string_equal(ca, ca2); /* derived, so the same after a restart */
  assert_string_not_equal(ca, cb);
  assert_string_not_equal(ca, a); /* the token itself is never the answer */
  assert_true(sg_web_csrf_ok(a, ca));
  assert_false(sg_web_csrf_ok(a, cb));
  assert_false(sg_web_csrf_ok(a, NULL));
  assert_false(sg_web_csrf_ok(a, ""));
  assert_false(sg_web_csrf_ok(a, a));
  ca2[SG_WEB_TOKEN_LEN - 1] = '\0';
  assert_false(sg_web_csrf_ok(a, ca2));
  assert_int_equal(sg_web_csrf_token("short", ca), SG_EINVAL);
  assert_false(sg_web_csrf_ok("short", ca));
  sg_web_sessions_clear(&t);
}

static void cookie_header(void **state) {
  (void)state;
  char v[64];
  assert_int_equal(
      sg_web_cookie_value("sg_session=abc", "sg_session", v, sizeof v), 0);
  assert_string_equal(v, "abc");
  assert_int_equal(sg_web_cookie_value("a=1; sg_session=xyz ; b=2",
                                       "sg_session", v, sizeof v),
                   0);
  assert_string_equal(v, "xyz");
  assert_int_equal(
      sg_web_cookie_value("sg_session=\"q\"", "sg_session", v, sizeof v), 0);
  assert_string_equal(v, "q");
  /* The first of two wins; a longer name that ends the same is not it. */
  assert_int_equal(sg_web_cookie_value("xsg_session=bad;sg_session=1;"
                                       "sg_session=2",
                                       "sg_session", v, sizeof v),
                   0);
  assert_string_equal(v, "1");
  assert_int_equal(sg_web_cookie_value("sg_session", "sg_session", v, sizeof v),
                   SG_ENOENT);
  assert_int_equal(sg_web_cookie_value("a=1", "sg_session", v, sizeof v),
                   SG_ENOENT);
  assert_int_equal(sg_web_cookie_value(NULL, "sg_session", v, sizeof v),
                   SG_ENOENT);
  assert_int_equal(sg_web_cookie_value("", "sg_session", v, sizeof v),
                   SG_ENOENT);
  assert_int_equal(sg_web_cookie_value("sg_session=12345", "sg_session", v, 5),
                   SG_ENOSPC);
  assert_int_equal(sg_web_cookie_value("sg_session=", "sg_session", v, 5), 0);
  assert_string_equal(v, "");
}

/* Saved and read back (a restart): the same tokens open the same
 * sessions; expired ones and broken entries are left out. */
static void document_round_trip(void **state) {
  (void)state;
  sg_web_sessions_t t = {0}, r = {0};
  char live[SG_WEB_TOKEN_LEN + 1], old[SG_WEB_TOKEN_LEN + 1];
  assert_int_equal(sg_web_session_new(&t, "shop", 0, 10 * HOUR, live), 0);
  assert_int_equal(sg_web_session_new(&t, "ops", 0, HOUR, old), 0);
  char *doc = sg_web_sessions_dump(&t, 0);
  assert_non_null(doc);
  assert_null(strstr(doc, live)); /* hashes only */
  size_t skipped = 9;
  assert_int_equal(
      sg_web_sessions_load(&r, doc, strlen(doc), 2 * HOUR, &skipped), 0);
  assert_int_equal(skipped, 0);
  assert_int_equal(r.n, 1);
  const sg_web_session_t *s = sg_web_session_find(&r, live, 2 * HOUR);
  assert_non_null(s);
  assert_string_equal(s->account, "shop");
  assert_int_equal(s->expires_ms, 10 * HOUR);
  assert_null(sg_web_session_find(&r, old, 2 * HOUR));
  sg_free(doc);

  static const char broken[] =
      "{\"v\":1,\"sessions\":[{\"hash\":\"zz\",\"account\":\"a\","
      "\"created_ms\":0,\"expires_ms\":99999999999999},{\"account\":\"a\"},"
      "7]}";
  assert_int_equal(
      sg_web_sessions_load(&r, broken, strlen(broken), 0, &skipped), 0);
  assert_int_equal(skipped, 3);
  assert_int_equal(r.n, 0);
  static const char *const not_docs[] = {"", "[]", "{\"v\":2,\"sessions\":[]}",
                                         "{\"v\":1}", "{\"v\":1,"};
  for (size_t i = 0; i < sizeof not_docs / sizeof *not_docs; i++)
    assert_int_equal(
        sg_web_sessions_load(&r, not_docs[i], strlen(not_docs[i]), 0, NULL),
        SG_EPROTO);
  sg_web_sessions_clear(&t);
  sg_web_sessions_clear(&r);
}

static struct sockaddr_in v4(const char *ip) {
  struct sockaddr_in a = {.sin_family = AF_INET};
  inet_pton(AF_INET, ip, &a.sin_addr);
  return a;
}

static struct sockaddr_in6 v6(const char *ip) {
  struct sockaddr_in6 a = {.sin6_family = AF_INET6};
  inet_pton(AF_INET6, ip, &a.sin6_addr);
  return a;
}

static void failed_logins_per_address(void **state) {
  (void)state;
  static sg_web_login_limit_t l;
  memset(&l, 0, sizeof l);
  struct sockaddr_in a = v4("192.0.2.1"), b = v4("192.0.2.2");
  const struct sockaddr *pa = (const struct sockaddr *)&a;
  const struct sockaddr *pb = (const struct sockaddr *)&b;
  for (int i = 0; i < SG_WEB_LOGIN_FAILS; i++) {
    assert_int_equal(sg_web_login_blocked(&l, pa, 1000 + i), 0);
    sg_web_login_failed(&l, pa, 1000 + i);
  }
  assert_int_equal(sg_web_login_blocked(&l, pa, 1000 + 10), 60);
  assert_int_equal(sg_web_login_blocked(&l, pa, 1000 + 59001), 1);
  assert_int_equal(sg_web_login_blocked(&l, pb, 1010), 0);
  /* The window ends: the address may try again, with a fresh count. */
  assert_int_equal(sg_web_login_blocked(&l, pa, 1000 + 60000), 0);
  sg_web_login_failed(&l, pa, 1000 + 60000);
  assert_int_equal(sg_web_login_blocked(&l, pa, 1000 + 60001), 0);
  /* IPv6 counts by /64. */
  struct sockaddr_in6 x = v6("2001:db8::1"), y = v6("2001:db8::ffff:2"),
                      z = v6("2001:db8:0:1::1");
  for (int i = 0; i < SG_WEB_LOGIN_FAILS; i++)
    sg_web_login_failed(&l, (const struct sockaddr *)(i % 2 ? &x : &y), 5000);
  assert_true(sg_web_login_blocked(&l, (const struct sockaddr *)&x, 5001) > 0);
  assert_true(sg_web_login_blocked(&l, (const struct sockaddr *)&y, 5001) > 0);
  assert_int_equal(sg_web_login_blocked(&l, (const struct sockaddr *)&z, 5001),
                   0);
  assert_int_equal(sg_web_login_blocked(&l, NULL, 5001), 0);
}

static void asset_headers(void **state) {
  (void)state;
  assert_true(sg__web_accepts_gzip("gzip, deflate, br"));
  assert_true(sg__web_accepts_gzip("br;q=1.0, GZIP;q=0.5"));
  assert_true(sg__web_accepts_gzip("*"));
  assert_false(sg__web_accepts_gzip("gzip;q=0"));
  assert_false(sg__web_accepts_gzip("gzip;q=0.000, br"));
  assert_false(sg__web_accepts_gzip("x-gzip, deflate"));
  assert_false(sg__web_accepts_gzip(NULL));
  assert_false(sg__web_accepts_gzip(""));
  assert_true(sg__web_etag_matches("\"abc\"", "\"abc\""));
  assert_true(sg__web_etag_matches("\"x\", W/\"abc\"", "\"abc\""));
  assert_true(sg__web_etag_matches("*", "\"abc\""));
  assert_false(sg__web_etag_matches("\"abcd\"", "\"abc\""));
  assert_false(sg__web_etag_matches("abc", "\"abc\""));
  assert_false(sg__web_etag_matches(NULL, "\"abc\""));
  /* The built page has its start and the files it names. */
  const sg__web_asset_t *i = sg__web_asset_find("index.html");
  assert_non_null(i);
  assert_string_equal(i->type, "text/html; charset=utf-8");
  assert_non_null(strstr((const char *)i->data, "/assets/app.js"));
  assert_non_null(sg__web_asset_find("app.js"));
  assert_true(i->gz_len > 10 && i->gz[0] == 0x1f && i->gz[1] == 0x8b);
  assert_null(sg__web_asset_find("../index.html"));
  assert_null(sg__web_asset_find(NULL));
}

int main(void) {
  sg_rest_json_init();
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(sessions_open_find_and_end),
      cmocka_unit_test(sessions_refuse_bad_arguments),
      cmocka_unit_test(sessions_end_by_account),
      cmocka_unit_test(sessions_full_table_drops_the_oldest),
      cmocka_unit_test(csrf_tokens),
      cmocka_unit_test(cookie_header),
      cmocka_unit_test(document_round_trip),
      cmocka_unit_test(failed_logins_per_address),
      cmocka_unit_test(asset_headers),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
