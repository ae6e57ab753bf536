/* isotime.c - UTC times as ISO 8601 text (isotime.h). Pure: it must never
 * read the clock, the time zone or the locale. */
#include "core/isotime.h"

static char *put2(char *p, unsigned v) {
  p[0] = (char)('0' + v / 10);
  p[1] = (char)('0' + v % 10);
  return p + 2;
}

/* The year, at least 4 digits. */
static char *put_year(char *p, int64_t y) {
  char tmp[20];
  int n = 0;
  do {
    tmp[n++] = (char)('0' + y % 10);
    y /= 10;
  } while (y > 0);
  while (n < 4)
    tmp[n++] = '0';
  while (n > 0)
    *p++ = tmp[--n];
  return p;
}

/* Year, month (1-12) and day (1-31) of day z since 1970-01-01, z >= 0. */
static void civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d) {
  z += 719468; /* days from 0000-03-01 */
  int64_t era = z / 146097;
  unsigned doe = (unsigned)(z - era * 146097); /* 0..146096 */
  unsigned yoe =
      (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365; /* 0..399 */
  unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);    /* 0..365 */
  unsigned mp = (5 * doy + 2) / 153; /* 0..11, from March */
  *d = doy - (153 * mp + 2) / 5 + 1;
  *m = mp < 10 ? mp + 3 : mp - 9;
  *y = (int64_t)yoe + era * 400 + (*m <= 2);
}

size_t sg_isotime_secs(int64_t secs, char out[SG_ISOTIME_MAX]) {
  if (secs < 0)
    secs = 0;
  int64_t days = secs / 86400;
  unsigned sod = (unsigned)(secs % 86400);
  int64_t y;
  unsigned mo, d;
  civil_from_days(days, &y, &mo, &d);
  char *p = put_year(out, y);
  *p++ = '-';
  p = put2(p, mo);
  *p++ = '-';
  p = put2(p, d);
  *p++ = 'T';
  p = put2(p, sod / 3600);
  *p++ = ':';
  p = put2(p, sod / 60 % 60);
  *p++ = ':';
  p = put2(p, sod % 60);
  *p = '\0';
  return (size_t)(p - out);
}

size_t sg_isotime_ms(int64_t ms, char out[SG_ISOTIME_MAX]) {
  if (ms < 0)
    ms = 0;
  size_t n = sg_isotime_secs(ms / 1000, out);
  unsigned f = (unsigned)(ms % 1000);
  char *p = out + n;
  *p++ = '.';
  *p++ = (char)('0' + f / 100);
  p = put2(p, f % 100);
  *p++ = 'Z';
  *p = '\0';
  return (size_t)(p - out);
}
