/* Fuzz target for phone number normalisation: the first byte picks the
 * default region (or none, or an unknown one), the rest is the number.
 * Any input must give 0 with a well-formed E.164 result, or SG_EINVAL with a
 * reason and a message. An input in the syntax smsgate accepts (phone.h)
 * must get libphonenumber's own verdict, E.164, region and type; and the
 * E.164 result must normalise to itself, as it does in libphonenumber. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "core/phone.h"
#include "core/phone_lpn.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const regions[] = {NULL, "",   "XX", "RU", "US", "GB",
                                      "DE", "FR", "BR", "AR", "AI", "KZ",
                                      "IT", "AU", "JP", "IN", "MX", "ru"};

static sg_phone_ctx_t *context(void) {
  static sg_phone_db_t *db;
  static sg_phone_ctx_t *ctx;
  if (ctx == NULL &&
      (sg_phone_db_new(&db) != 0 || (ctx = sg_phone_ctx_new(db)) == NULL))
    abort();
  return ctx;
}

static int is_digit(char c) {
  return c >= '0' && c <= '9';
}

/* The syntax of phone.h, written out independently of phone.c: digits,
 * separators anywhere, one '+' before the first digit, white space only
 * before the number starts or after its last digit; at most 250 bytes. */
static int in_syntax(const char *s, size_t n) {
  size_t lead = 0, tail = n;
  if (n > 250)
    return 0;
  while (lead < n && !is_digit(s[lead]) && s[lead] != '+')
    lead++;
  while (tail > 0 && !is_digit(s[tail - 1]))
    tail--;
  int plus = 0;
  for (size_t i = 0; i < n; i++) {
    char c = s[i];
    if (c == '+' && (++plus > 1 || i > lead))
      return 0;
    if (c == '\0' || !strchr("0123456789+ -.()/\t\r\n", c))
      return 0;
    if ((c == '\t' || c == '\r' || c == '\n') && i >= lead && i < tail)
      return 0;
  }
  return 1;
}

static void check_result(const sg_phone_t *p) {
  size_t n = strlen(p->e164);
  if (p->e164[0] != '+' || n < 4 || n > SG_PHONE_E164_MAX ||
      p->nsn_offset < 2 || p->nsn_offset > 4 || p->type == SG_PHONE_UNKNOWN ||
      p->region[0] == '\0' || p->e164[1] == '0')
    abort();
  for (size_t i = 1; i < n; i++)
    if (p->e164[i] < '0' || p->e164[i] > '9')
      abort();
}

static int same(const sg_phone_t *a, const sg_phone_t *b) {
  return strcmp(a->e164, b->e164) == 0 && strcmp(a->region, b->region) == 0 &&
         a->type == b->type;
}

/* The fast path and libphonenumber on one NUL-terminated input. */
static void against_lpn(sg_phone_ctx_t *ctx, const char *s,
                        const char *region) {
  sg_phone_t a, b;
  int fast = sg_phone_normalize(ctx, s, strlen(s), region, &a, NULL) == 0;
  int lpn = sg_lpn_parse_valid(s, region, &b);
  if (lpn < 0 || fast != (lpn == 1) || (fast && !same(&a, &b)))
    abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  sg_phone_ctx_t *ctx = context();
  if (size == 0)
    return 0;
  const char *region = regions[data[0] % (sizeof regions / sizeof regions[0])];
  const char *in = (const char *)data + 1;
  size_t n = size - 1;
  sg_phone_t p;
  sg_phone_err_t e;
  int rc = sg_phone_normalize(ctx, in, n, region, &p, &e);
  if (rc == 0) {
    check_result(&p);
    if (e.reason != SG_PHONE_R_OK || e.text[0] != '\0')
      abort();
    against_lpn(ctx, p.e164, NULL);
  } else if (rc != SG_EINVAL || e.reason <= SG_PHONE_R_OK ||
             e.reason >= SG_PHONE_R_COUNT || e.text[0] == '\0' ||
             memchr(e.text, '\0', sizeof e.text) == NULL ||
             (e.offset != 0 && e.offset >= n)) {
    abort();
  }
  if (in_syntax(in, n)) {
    char s[256];
    memcpy(s, in, n);
    s[n] = '\0';
    against_lpn(ctx, s, region);
  }
  return 0;
}
