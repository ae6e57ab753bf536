/* tzwin.c - daily sending windows in a recipient's local time (see
 * tzwin.h): a region's time zones from ICU, their UTC offsets kept per
 * quarter hour, and the window rule for regions with several zones.
 *
 * It must never change the process's time zone (no TZ, no tzset): other
 * threads read it.
 */
#include "core/tzwin.h"

#include <string.h>
#include <unicode/ucal.h>
#include <unicode/uenum.h>

#include "core/alloc.h"
#include "core/error.h"

#define OFFSETS_MAX 16
#define SLOT_MS (15 * 60 * 1000)
#define DAY_MIN 1440

typedef struct region_cache {
  int64_t slot; /* the quarter hour the offsets are for; 0: never */
  unsigned n;   /* distinct offsets, ascending */
  int off[OFFSETS_MAX];
} region_cache_t;

struct sg_tzwin {
  region_cache_t regions[26 * 26];
  region_cache_t utc;
};

int sg_tzwin_parse_hhmm(const char *s, int *minutes) {
  if (s == NULL || strlen(s) != 5 || s[2] != ':')
    return SG_EINVAL;
  for (int i = 0; i < 5; i++)
    if (i != 2 && (s[i] < '0' || s[i] > '9'))
      return SG_EINVAL;
  int h = (s[0] - '0') * 10 + (s[1] - '0');
  int m = (s[3] - '0') * 10 + (s[4] - '0');
  if (h > 24 || m > 59 || (h == 24 && m != 0))
    return SG_EINVAL;
  *minutes = h * 60 + m;
  return 0;
}

bool sg_tzwin_minute_inside(int m, int start, int end) {
  if (start <= end)
    return m >= start && m < end;
  return m >= start || m < end;
}

sg_tzwin_t *sg_tzwin_new(void) {
  return sg_calloc(1, sizeof(sg_tzwin_t));
}

void sg_tzwin_free(sg_tzwin_t *w) {
  sg_free(w);
}

static void add_offset(region_cache_t *c, int off) {
  unsigned i = 0;
  while (i < c->n && c->off[i] < off)
    i++;
  if ((i < c->n && c->off[i] == off) || c->n == OFFSETS_MAX)
    return;
  memmove(&c->off[i + 1], &c->off[i], (c->n - i) * sizeof c->off[0]);
  c->off[i] = off;
  c->n++;
}

/* The offset of zone id at now_ms, in minutes; false when ICU fails. */
static bool zone_offset(const UChar *id, int32_t len, int64_t now_ms,
                        int *off) {
  UErrorCode err = U_ZERO_ERROR;
  UCalendar *cal = ucal_open(id, len, "en_US", UCAL_GREGORIAN, &err);
  if (U_FAILURE(err))
    return false;
  ucal_setMillis(cal, (UDate)now_ms, &err);
  int32_t zone = ucal_get(cal, UCAL_ZONE_OFFSET, &err);
  int32_t dst = ucal_get(cal, UCAL_DST_OFFSET, &err);
  ucal_close(cal);
  if (U_FAILURE(err))
    return false;
  *off = (zone + dst) / 60000;
  return true;
}

static void fill(region_cache_t *c, const char *region, int64_t now_ms) {
  c->n = 0;
  UErrorCode err = U_ZERO_ERROR;
  UEnumeration *en = ucal_openCountryTimeZones(region, &err);
  while (en != NULL && U_SUCCESS(err)) {
    int32_t len = 0;
    const UChar *id = uenum_unext(en, &len, &err);
    if (id == NULL || U_FAILURE(err))
      break;
    int off;
    if (zone_offset(id, len, now_ms, &off))
      add_offset(c, off);
  }
  if (en != NULL)
    uenum_close(en);
  if (c->n == 0)
    add_offset(c, 0); /* UTC */
}

static region_cache_t *cache_of(sg_tzwin_t *w, const char *region,
                                int64_t now_ms) {
  region_cache_t *c = &w->utc;
  char code[3] = "";
  if (region != NULL && strlen(region) == 2 && region[0] >= 'A' &&
      region[0] <= 'Z' && region[1] >= 'A' && region[1] <= 'Z') {
    c = &w->regions[(region[0] - 'A') * 26 + (region[1] - 'A')];
    memcpy(code, region, 3);
  }
  int64_t slot = now_ms / SLOT_MS + 1;
  if (c->slot != slot) {
    if (code[0] != '\0')
      fill(c, code, now_ms);
    else if (c->n == 0)
      add_offset(c, 0);
    c->slot = slot;
  }
  return c;
}

static int local_minute(int64_t now_ms, int off) {
  int64_t m = now_ms / 60000 + off;
  m %= DAY_MIN;
  return (int)(m < 0 ? m + DAY_MIN : m);
}

bool sg_tzwin_inside(sg_tzwin_t *w, const char *region, int64_t now_ms,
                     int start, int end) {
  if (start < 0)
    return true; /* no window */
  const region_cache_t *c = cache_of(w, region, now_ms);
  int len = end > start ? end - start : DAY_MIN - start + end;
  bool every = c->off[c->n - 1] - c->off[0] < len;
  for (unsigned i = 0; i < c->n; i++) {
    bool in =
        sg_tzwin_minute_inside(local_minute(now_ms, c->off[i]), start, end);
    if (every && !in)
      return false;
    if (!every && in)
      return true;
  }
  return every;
}

unsigned sg_tzwin_offsets(sg_tzwin_t *w, const char *region, int64_t now_ms,
                          int *out, unsigned max) {
  const region_cache_t *c = cache_of(w, region, now_ms);
  unsigned n = c->n < max ? c->n : max;
  memcpy(out, c->off, n * sizeof *out);
  return n;
}
