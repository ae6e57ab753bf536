/* syntax.c - the small syntaxes of the REST API: RFC 3339 date-times (read
 * and written), durations, the bearer token of the Authorization header,
 * Idempotency-Key values and E.164 numbers.
 *
 * Pure functions over caller-owned memory: no allocation, no clock, no
 * locale (the C library's time functions depend on the time zone and
 * strtol on the locale, so neither is used). They must never accept a
 * value they cannot represent exactly: every number is range-checked
 * before it is used.
 */
#include <stdint.h>
#include <string.h>

#include "core/error.h"
#include "ingress/rest/parse.h"

#define MS_PER_DAY 86400000LL
#define DURATION_MAX_MS (1LL << 53)

/* ---- calendar (proleptic Gregorian, days since 1970-01-01) --------------- */

static bool is_leap(int64_t y) {
  return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int days_in_month(int64_t y, int m) {
  static const int days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && is_leap(y) ? 29 : days[m - 1];
}

/* Days from 1970-01-01 to y-m-d (the "days from civil" algorithm: years
 * counted from March so that the leap day is the last of its year). */
static int64_t days_from_civil(int64_t y, int m, int d) {
  y -= m <= 2;
  int64_t era = (y >= 0 ? y : y - 399) / 400;
  int64_t yoe = y - era * 400;
  int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

static void civil_from_days(int64_t z, int64_t *y, int *m, int *d) {
  z += 719468;
  int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  int64_t doe = z - era * 146097;
  int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  int64_t mp = (5 * doy + 2) / 153;
  *d = (int)(doy - (153 * mp + 2) / 5 + 1);
  *m = (int)(mp < 10 ? mp + 3 : mp - 9);
  *y = yoe + era * 400 + (*m <= 2);
}

/* ---- RFC 3339 ------------------------------------------------------------ */

/* Reads exactly n digits at s[*i]. */
static int digits(const char *s, size_t len, size_t *i, int n, int *out) {
  int v = 0;
  for (int k = 0; k < n; k++, (*i)++) {
    if (*i >= len || s[*i] < '0' || s[*i] > '9')
      return SG_EINVAL;
    v = v * 10 + (s[*i] - '0');
  }
  *out = v;
  return 0;
}

static int expect(const char *s, size_t len, size_t *i, char c) {
  if (*i >= len || s[*i] != c)
    return SG_EINVAL;
  (*i)++;
  return 0;
}

/* full-date "T" partial-time, RFC 3339 section 5.6; *day_ms gets the ms
 * since midnight, *days the days since 1970. */
static int parse_local(const char *s, size_t len, size_t *i, int64_t *days,
                       int64_t *day_ms) {
  int y, mo, d, h, mi, sec;
  if (digits(s, len, i, 4, &y) || expect(s, len, i, '-') ||
      digits(s, len, i, 2, &mo) || expect(s, len, i, '-') ||
      digits(s, len, i, 2, &d))
    return SG_EINVAL;
  if (*i >= len || (s[*i] != 'T' && s[*i] != 't'))
    return SG_EINVAL;
  (*i)++;
  if (digits(s, len, i, 2, &h) || expect(s, len, i, ':') ||
      digits(s, len, i, 2, &mi) || expect(s, len, i, ':') ||
      digits(s, len, i, 2, &sec))
    return SG_EINVAL;
  if (y < 1970 || mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo) ||
      h > 23 || mi > 59 || sec > 60) /* 60: a leap second */
    return SG_EINVAL;
  int frac = 0, scale = 100;
  if (*i < len && s[*i] == '.') {
    size_t start = ++(*i);
    for (; *i < len && s[*i] >= '0' && s[*i] <= '9'; (*i)++, scale /= 10)
      if (scale > 0)
        frac += (s[*i] - '0') * scale;
    if (*i == start)
      return SG_EINVAL;
  }
  *days = days_from_civil(y, mo, d);
  *day_ms = ((int64_t)h * 3600 + mi * 60 + sec) * 1000 + frac;
  return 0;
}

/* time-offset: "Z" / "z" or +hh:mm / -hh:mm, in ms east of UTC. */
static int parse_offset(const char *s, size_t len, size_t *i, int64_t *ms) {
  if (*i < len && (s[*i] == 'Z' || s[*i] == 'z')) {
    (*i)++;
    *ms = 0;
    return 0;
  }
  if (*i >= len || (s[*i] != '+' && s[*i] != '-'))
    return SG_EINVAL;
  int sign = s[(*i)++] == '-' ? -1 : 1, h, m;
  if (digits(s, len, i, 2, &h) || expect(s, len, i, ':') ||
      digits(s, len, i, 2, &m) || h > 23 || m > 59)
    return SG_EINVAL;
  *ms = sign * ((int64_t)h * 60 + m) * 60000;
  return 0;
}

int sg_rest_parse_time(const char *s, size_t len, int64_t *ms) {
  size_t i = 0;
  int64_t days, day_ms, off;
  if (s == NULL || ms == NULL || parse_local(s, len, &i, &days, &day_ms) ||
      parse_offset(s, len, &i, &off) || i != len)
    return SG_EINVAL;
  int64_t t = days * MS_PER_DAY + day_ms - off;
  if (t < 0)
    return SG_EINVAL;
  *ms = t;
  return 0;
}

/* Writes v as exactly `width` decimal digits at p. */
static char *put_digits(char *p, int64_t v, int width) {
  for (int i = width - 1; i >= 0; i--, v /= 10)
    p[i] = (char)('0' + v % 10);
  return p + width;
}

int sg_rest_format_time(int64_t ms, char out[SG_REST_TIME_BUF]) {
  /* 253402300800000: 10000-01-01T00:00:00Z */
  if (ms < 0 || ms >= 253402300800000LL) {
    out[0] = '\0';
    return SG_ERANGE;
  }
  int64_t days = ms / MS_PER_DAY, rem = ms % MS_PER_DAY, y;
  int m, d;
  civil_from_days(days, &y, &m, &d);
  char *p = put_digits(out, y, 4);
  *p++ = '-';
  p = put_digits(p, m, 2);
  *p++ = '-';
  p = put_digits(p, d, 2);
  *p++ = 'T';
  p = put_digits(p, rem / 3600000, 2);
  *p++ = ':';
  p = put_digits(p, rem / 60000 % 60, 2);
  *p++ = ':';
  p = put_digits(p, rem / 1000 % 60, 2);
  *p++ = '.';
  p = put_digits(p, rem % 1000, 3);
  *p++ = 'Z';
  *p = '\0';
  return 0;
}

/* ---- durations ----------------------------------------------------------- */

/* The unit at s[*i] ("d", "h", "m", "s", "ms"): its rank (order in which
 * units must appear) and size. */
static int duration_unit(const char *s, size_t len, size_t *i, int *rank,
                         int64_t *unit_ms) {
  static const struct {
    const char *name;
    int64_t ms;
  } units[] = {
      {"d", MS_PER_DAY}, {"h", 3600000}, {"ms", 1}, {"m", 60000}, {"s", 1000}};
  static const int ranks[] = {0, 1, 4, 2, 3};
  for (size_t u = 0; u < sizeof(units) / sizeof(units[0]); u++) {
    size_t n = strlen(units[u].name);
    if (len - *i >= n && memcmp(s + *i, units[u].name, n) == 0) {
      *i += n;
      *rank = ranks[u];
      *unit_ms = units[u].ms;
      return 0;
    }
  }
  return SG_EINVAL;
}

int sg_rest_parse_duration(const char *s, size_t len, int64_t *ms) {
  if (s == NULL || ms == NULL || len == 0)
    return SG_EINVAL;
  int64_t total = 0;
  int last_rank = -1;
  size_t i = 0;
  while (i < len) {
    int64_t v = 0;
    size_t start = i;
    for (; i < len && s[i] >= '0' && s[i] <= '9'; i++) {
      if (i - start >= 15)
        return SG_ERANGE;
      v = v * 10 + (s[i] - '0');
    }
    int rank;
    int64_t unit;
    if (i == start || i == len || duration_unit(s, len, &i, &rank, &unit))
      return SG_EINVAL;
    if (rank <= last_rank)
      return SG_EINVAL;
    last_rank = rank;
    if (v > DURATION_MAX_MS / unit || total > DURATION_MAX_MS - v * unit)
      return SG_ERANGE;
    total += v * unit;
  }
  *ms = total;
  return 0;
}

/* ---- headers ------------------------------------------------------------- */

static bool is_space(char c) {
  return c == ' ' || c == '\t';
}

int sg_rest_parse_bearer(const char *value, const char **key, size_t *len) {
  if (value == NULL)
    return SG_ENOENT;
  while (is_space(*value))
    value++;
  if (*value == '\0')
    return SG_ENOENT;
  static const char scheme[] = "bearer";
  for (size_t k = 0; k < sizeof(scheme) - 1; k++)
    if ((value[k] | 0x20) != scheme[k])
      return SG_EINVAL;
  const char *p = value + sizeof(scheme) - 1;
  if (!is_space(*p))
    return SG_EINVAL;
  while (is_space(*p))
    p++;
  size_t n = 0;
  while (p[n] != '\0' && !is_space(p[n]))
    n++;
  for (const char *q = p + n; *q != '\0'; q++)
    if (!is_space(*q))
      return SG_EINVAL; /* a second word: not a token68 */
  if (n == 0)
    return SG_EINVAL;
  *key = p;
  *len = n;
  return 0;
}

int sg_rest_check_idem_key(const char *value) {
  if (value == NULL)
    return SG_EINVAL;
  size_t n = 0;
  for (; value[n] != '\0'; n++)
    if ((unsigned char)value[n] < 0x20 || (unsigned char)value[n] > 0x7E)
      return SG_EINVAL;
  return n >= 1 && n <= SG_REST_IDEM_KEY_MAX ? 0 : SG_EINVAL;
}

bool sg_rest_is_e164(const char *s) {
  if (s == NULL || s[0] != '+' || s[1] < '1' || s[1] > '9')
    return false;
  size_t n = 0;
  for (const char *p = s + 1; *p != '\0'; p++, n++)
    if (*p < '0' || *p > '9')
      return false;
  return n >= 1 && n <= 15;
}
