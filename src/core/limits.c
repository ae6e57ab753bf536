/* limits.c - sender patterns, allowed destinations, prices, amounts and
 * quota periods (core/limits.h).
 *
 * Everything here is a pure function of its arguments: the engine and the
 * configuration loader both call it, on any thread. It must never
 * allocate, read the clock, or use floating point for money.
 */
#include <stdio.h>
#include <string.h>

#include "core/error.h"
#include "core/limits.h"

/* ---- globs --------------------------------------------------------------- */

bool sg_limits_glob(const char *pat, size_t plen, const char *text,
                    size_t tlen) {
  size_t p = 0, t = 0;
  size_t star = SIZE_MAX, mark = 0; /* the last '*' and where it resumes */
  while (t < tlen) {
    if (p < plen && (pat[p] == '?' || (pat[p] != '*' && pat[p] == text[t]))) {
      p++;
      t++;
    } else if (p < plen && pat[p] == '*') {
      star = p++;
      mark = t;
    } else if (star != SIZE_MAX) {
      /* The last '*' takes one more octet; earlier stars never need to. */
      p = star + 1;
      t = ++mark;
    } else {
      return false;
    }
  }
  while (p < plen && pat[p] == '*')
    p++;
  return p == plen;
}

static bool is_pattern(const char *s) {
  return strpbrk(s, "*?") != NULL;
}

bool sg_limits_sender_allowed(const char *const *senders, size_t n,
                              const char *from) {
  if (n == 0)
    return true;
  size_t flen = strlen(from);
  for (size_t i = 0; i < n; i++) {
    const char *s = senders[i];
    if (is_pattern(s) ? sg_limits_glob(s, strlen(s), from, flen)
                      : strcmp(s, from) == 0)
      return true;
  }
  return false;
}

/* ---- destinations -------------------------------------------------------- */

static bool all_digits(const char *s, size_t min, size_t max) {
  size_t n = 0;
  for (; s[n] != '\0'; n++)
    if (s[n] < '0' || s[n] > '9')
      return false;
  return n >= min && n <= max;
}

bool sg_limits_destination_valid(const char *e) {
  if (e == NULL)
    return false;
  if (e[0] == '+')
    return all_digits(e + 1, 1, 15);
  return e[0] >= 'A' && e[0] <= 'Z' && e[1] >= 'A' && e[1] <= 'Z' &&
         e[2] == '\0';
}

bool sg_limits_destination_allowed(const char *const *dest, size_t n,
                                   const char *e164, const char *region) {
  if (n == 0)
    return true;
  for (size_t i = 0; i < n; i++) {
    const char *d = dest[i];
    if (d[0] == '+' ? strncmp(e164, d, strlen(d)) == 0
                    : region != NULL && strcmp(region, d) == 0)
      return true;
  }
  return false;
}

/* ---- money --------------------------------------------------------------- */

int sg_limits_amount_parse(const char *s, size_t len, int64_t *micro) {
  size_t i = 0;
  bool neg = len > 0 && s[0] == '-';
  i += neg;
  int64_t whole = 0, frac = 0;
  size_t nd = 0, nf = 0;
  for (; i < len && s[i] >= '0' && s[i] <= '9'; i++, nd++)
    if (nd < 11)
      whole = whole * 10 + (s[i] - '0');
  if (nd == 0)
    return SG_EINVAL;
  if (i < len && s[i] == '.') {
    for (i++; i < len && s[i] >= '0' && s[i] <= '9'; i++, nf++)
      if (nf < 6)
        frac = frac * 10 + (s[i] - '0');
    if (nf == 0)
      return SG_EINVAL;
  }
  if (i != len)
    return SG_EINVAL;
  if (nf > 6)
    return SG_EINVAL;
  for (size_t k = nf; k < 6; k++)
    frac *= 10;
  if (nd > 10)
    return SG_ERANGE;
  int64_t v = whole * SG_LIMITS_MICRO + frac;
  if (v > SG_LIMITS_AMOUNT_MAX)
    return SG_ERANGE;
  *micro = neg ? -v : v;
  return 0;
}

int sg_limits_amount_format(int64_t micro, char out[32]) {
  bool neg = micro < 0;
  uint64_t v = neg ? (uint64_t)0 - (uint64_t)micro : (uint64_t)micro;
  unsigned frac = (unsigned)(v % SG_LIMITS_MICRO);
  char f[8];
  snprintf(f, sizeof f, "%06u", frac);
  size_t fl = 6;
  while (fl > 2 && f[fl - 1] == '0')
    fl--;
  f[fl] = '\0';
  return snprintf(out, 32, "%s%llu.%s", neg ? "-" : "",
                  (unsigned long long)(v / SG_LIMITS_MICRO), f);
}

int sg_limits_price_find(const sg_config_price_t *prices, size_t n,
                         const char *e164, int64_t *micro) {
  size_t best = 0;
  const sg_config_price_t *hit = NULL;
  for (size_t i = 0; i < n; i++) {
    size_t pl = strlen(prices[i].prefix);
    if (strncmp(e164, prices[i].prefix, pl) == 0 &&
        (hit == NULL || pl > best)) {
      hit = &prices[i];
      best = pl;
    }
  }
  if (hit == NULL)
    return SG_ENOENT;
  *micro = hit->micro;
  return 0;
}

/* ---- periods ------------------------------------------------------------- */

/* Days since 1970-01-01 of a civil date, and back (H. Hinnant's
 * algorithms, proleptic Gregorian). */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  int64_t era = (y >= 0 ? y : y - 399) / 400;
  unsigned yoe = (unsigned)(y - era * 400);
  unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + (int64_t)doe - 719468;
}

static void civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d) {
  z += 719468;
  int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  unsigned doe = (unsigned)(z - era * 146097);
  unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  unsigned mp = (5 * doy + 2) / 153;
  *d = doy - (153 * mp + 2) / 5 + 1;
  *m = mp < 10 ? mp + 3 : mp - 9;
  *y = (int64_t)yoe + era * 400 + (*m <= 2);
}

/* Writes v as exactly n decimal digits (leading zeros). */
static void put_digits(char *out, unsigned v, unsigned n) {
  for (unsigned i = n; i-- > 0; v /= 10)
    out[i] = (char)('0' + v % 10);
}

void sg_limits_period(int64_t now_ms, sg_limits_period_t *out) {
  const int64_t day_ms = 86400000;
  int64_t days = now_ms / day_ms;
  int64_t y;
  unsigned m, d;
  civil_from_days(days, &y, &m, &d);
  put_digits(out->month, (unsigned)(y % 10000), 4);
  out->month[4] = '-';
  put_digits(out->month + 5, m, 2);
  out->month[7] = '\0';
  memcpy(out->day, out->month, 7);
  out->day[7] = '-';
  put_digits(out->day + 8, d, 2);
  out->day[10] = '\0';
  out->day_end_ms = (days + 1) * day_ms;
  int64_t ny = m == 12 ? y + 1 : y;
  unsigned nm = m == 12 ? 1 : m + 1;
  out->month_end_ms = days_from_civil(ny, nm, 1) * day_ms;
}
