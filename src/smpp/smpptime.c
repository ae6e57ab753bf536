/* smpptime.c - reading and writing the SMPP time format (SMPP 3.4 section
 * 7.1.1, absolute and relative) and converting it to and from Unix time.
 *
 * Pure: no I/O, no allocation, never reads the clock or the local time zone;
 * every time zone is the explicit quarter-hour offset of the format. Dates
 * are converted with the proleptic Gregorian calendar, by day counts.
 */
#include "smpp/smpptime.h"

#include "core/error.h"

#define MS_PER_DAY 86400000LL

static bool is_leap(int y) {
  return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int days_in_month(int y, int m) {
  static const uint8_t dim[12] = {31, 28, 31, 30, 31, 30,
                                  31, 31, 30, 31, 30, 31};
  return m == 2 && is_leap(y) ? 29 : dim[m - 1];
}

/* Days from 1970-01-01 to y-m-d: counted in eras of 400 years, whose
 * length (146097 days) is fixed, with March as the first month so that the
 * leap day falls at the end of the counted year. */
static int64_t days_from_civil(int64_t y, int m, int d) {
  y -= m <= 2;
  int64_t era = (y >= 0 ? y : y - 399) / 400;
  int64_t yoe = y - era * 400;
  int64_t mp = (m + 9) % 12;
  int64_t doy = (153 * mp + 2) / 5 + d - 1;
  int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

/* The inverse of days_from_civil. */
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

static int64_t floor_div(int64_t a, int64_t b) {
  int64_t q = a / b;
  return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

/* Reads two decimal digits at s; -1 if either is not a digit. */
static int two_digits(const char *s) {
  if (s[0] < '0' || s[0] > '9' || s[1] < '0' || s[1] > '9')
    return -1;
  return (s[0] - '0') * 10 + (s[1] - '0');
}

static void put2(char *p, unsigned v) {
  p[0] = (char)('0' + v / 10);
  p[1] = (char)('0' + v % 10);
}

/* Whether an absolute time's fields are in range (section 7.1.1). */
static bool abs_valid(const sg_smpp_time_t *t) {
  if (t->year < 2000 || t->year > 2099 || t->month < 1 || t->month > 12)
    return false;
  if (t->day < 1 || t->day > days_in_month(t->year, t->month))
    return false;
  if (t->hour > 23 || t->minute > 59 || t->second > 59 || t->tenths > 9)
    return false;
  return t->utc_quarters >= -SG_SMPP_TIME_QUARTERS_MAX &&
         t->utc_quarters <= SG_SMPP_TIME_QUARTERS_MAX;
}

/* Whether a relative time's fields are in range (section 7.1.1.2). */
static bool rel_valid(const sg_smpp_time_t *t) {
  return t->year <= 99 && t->month <= 99 && t->day <= 99 && t->hour <= 99 &&
         t->minute <= 99 && t->second <= 99 && t->tenths == 0 &&
         t->utc_quarters == 0;
}

int sg_smpp_time_parse(const char *s, size_t len, sg_smpp_time_t *out) {
  if (s == NULL || out == NULL || len != SG_SMPP_TIME_LEN)
    return SG_EINVAL;
  int f[6];
  for (int i = 0; i < 6; i++) {
    f[i] = two_digits(s + 2 * i);
    if (f[i] < 0)
      return SG_EPROTO;
  }
  int nn = two_digits(s + 13);
  char p = s[15];
  if (s[12] < '0' || s[12] > '9' || nn < 0)
    return SG_EPROTO;
  if (p != '+' && p != '-' && p != 'R')
    return SG_EPROTO;
  out->relative = p == 'R';
  out->year = (uint16_t)(out->relative ? f[0] : 2000 + f[0]);
  out->month = (uint8_t)f[1];
  out->day = (uint8_t)f[2];
  out->hour = (uint8_t)f[3];
  out->minute = (uint8_t)f[4];
  out->second = (uint8_t)f[5];
  out->tenths = (uint8_t)(s[12] - '0');
  out->utc_quarters = (int8_t)(p == '-' ? -nn : nn);
  if (out->relative) /* section 7.1.1.2: "YYMMDDhhmmss000R" */
    return out->tenths == 0 && nn == 0 ? 0 : SG_EPROTO;
  if (nn > SG_SMPP_TIME_QUARTERS_MAX)
    return SG_ERANGE;
  return abs_valid(out) ? 0 : SG_ERANGE;
}

int sg_smpp_time_format(const sg_smpp_time_t *t, char out[SG_SMPP_TIME_SIZE]) {
  if (t == NULL || out == NULL)
    return SG_EINVAL;
  if (t->relative ? !rel_valid(t) : !abs_valid(t))
    return SG_ERANGE;
  put2(out, (unsigned)(t->year % 100));
  put2(out + 2, t->month);
  put2(out + 4, t->day);
  put2(out + 6, t->hour);
  put2(out + 8, t->minute);
  put2(out + 10, t->second);
  out[12] = (char)('0' + t->tenths);
  int q = t->utc_quarters;
  put2(out + 13, (unsigned)(q < 0 ? -q : q));
  out[15] = t->relative ? 'R' : (q < 0 ? '-' : '+');
  out[16] = '\0';
  return 0;
}

int sg_smpp_time_from_unix_ms(int64_t unix_ms, int utc_quarters,
                              sg_smpp_time_t *out) {
  if (out == NULL)
    return SG_EINVAL;
  if (utc_quarters < -SG_SMPP_TIME_QUARTERS_MAX ||
      utc_quarters > SG_SMPP_TIME_QUARTERS_MAX)
    return SG_ERANGE;
  /* Years 2000..2099 lie far inside int64 milliseconds; reject anything
   * that could overflow before converting. */
  const int64_t lim = 200LL * 366 * MS_PER_DAY;
  if (unix_ms < -lim || unix_ms > lim)
    return SG_ERANGE;
  int64_t local = unix_ms + (int64_t)utc_quarters * 15 * 60000;
  int64_t days = floor_div(local, MS_PER_DAY);
  int64_t ms = local - days * MS_PER_DAY;
  int64_t y;
  int m, d;
  civil_from_days(days, &y, &m, &d);
  if (y < 2000 || y > 2099)
    return SG_ERANGE;
  out->relative = false;
  out->year = (uint16_t)y;
  out->month = (uint8_t)m;
  out->day = (uint8_t)d;
  out->hour = (uint8_t)(ms / 3600000);
  out->minute = (uint8_t)(ms / 60000 % 60);
  out->second = (uint8_t)(ms / 1000 % 60);
  out->tenths = (uint8_t)(ms / 100 % 10);
  out->utc_quarters = (int8_t)utc_quarters;
  return 0;
}

int sg_smpp_time_from_seconds(uint32_t seconds, sg_smpp_time_t *out) {
  if (out == NULL)
    return SG_EINVAL;
  if (seconds / 86400 > 99)
    return SG_ERANGE;
  *out = (sg_smpp_time_t){.relative = true,
                          .day = (uint8_t)(seconds / 86400),
                          .hour = (uint8_t)(seconds / 3600 % 24),
                          .minute = (uint8_t)(seconds / 60 % 60),
                          .second = (uint8_t)(seconds % 60)};
  return 0;
}

/* Adds a relative time to now_ms (see sg_smpp_time_to_unix_ms). */
static int64_t add_relative(const sg_smpp_time_t *t, int64_t now_ms) {
  int64_t days = floor_div(now_ms, MS_PER_DAY);
  int64_t in_day = now_ms - days * MS_PER_DAY;
  int64_t y;
  int m, d;
  civil_from_days(days, &y, &m, &d);
  int64_t months = y * 12 + (m - 1) + t->year * 12 + t->month;
  y = floor_div(months, 12);
  m = (int)(months - y * 12) + 1;
  int dim = days_in_month((int)y, m);
  if (d > dim)
    d = dim;
  int64_t base = days_from_civil(y, m, d) * MS_PER_DAY + in_day;
  int64_t secs = (int64_t)t->day * 86400 + (int64_t)t->hour * 3600 +
                 (int64_t)t->minute * 60 + t->second;
  return base + secs * 1000;
}

int sg_smpp_time_to_unix_ms(const sg_smpp_time_t *t, int64_t now_ms,
                            int64_t *out_ms) {
  if (t == NULL || out_ms == NULL)
    return SG_EINVAL;
  if (t->relative) {
    /* The sum must stay inside int64: bound now to +-100000 years. */
    const int64_t lim = 100000LL * 366 * MS_PER_DAY;
    if (!rel_valid(t) || now_ms < -lim || now_ms > lim)
      return SG_ERANGE;
    *out_ms = add_relative(t, now_ms);
    return 0;
  }
  if (!abs_valid(t))
    return SG_ERANGE;
  int64_t days = days_from_civil(t->year, t->month, t->day);
  int64_t local = days * MS_PER_DAY + (int64_t)t->hour * 3600000 +
                  (int64_t)t->minute * 60000 + (int64_t)t->second * 1000 +
                  (int64_t)t->tenths * 100;
  *out_ms = local - (int64_t)t->utc_quarters * 15 * 60000;
  return 0;
}
