/* tzwin.h - daily sending windows in a recipient's local time.
 *
 * A window is [start, end) in minutes after local midnight (09:00-20:00 is
 * 540..1200; start > end wraps midnight). The recipient's local time comes
 * from the region (ISO 3166 country) of its number: the region's time zones
 * are ICU's (CLDR/tz data: ucal_openCountryTimeZones), with their daylight
 * saving rules.
 *
 * A region with several zones (US, RU, BR, AU, ...): the window holds only
 * when it holds in every zone of the region, so that nobody there gets a
 * message outside it; when the window is shorter than the spread of the
 * region's UTC offsets (no instant of the day is inside everywhere), it
 * holds when it holds in any of them. A region ICU knows no zone for
 * ("001", non-geographic numbers) uses UTC.
 *
 * Offsets are computed once per region and quarter hour and kept. Not
 * thread-safe: one sg_tzwin_t per thread. Allocation through core/alloc.h
 * (ICU allocates on its own).
 */
#ifndef SG_CORE_TZWIN_H
#define SG_CORE_TZWIN_H

#include <stdbool.h>
#include <stdint.h>

typedef struct sg_tzwin sg_tzwin_t;

/* Parses "HH:MM" (00:00..24:00) into minutes after midnight. Returns 0 or
 * SG_EINVAL. Pure. */
int sg_tzwin_parse_hhmm(const char *s, int *minutes);

/* Whether local minute m of the day is inside [start, end) (wrapping
 * midnight when start > end). Pure. */
bool sg_tzwin_minute_inside(int m, int start, int end);

/* A new cache, or NULL (out of memory). */
sg_tzwin_t *sg_tzwin_new(void);
void sg_tzwin_free(sg_tzwin_t *w);

/* Whether now_ms (Unix ms) is inside the window [start, end) for a number of
 * region ("GB"; anything else than two letters: UTC), by the rule above. */
bool sg_tzwin_inside(sg_tzwin_t *w, const char *region, int64_t now_ms,
                     int start, int end);

/* The UTC offsets (minutes) of the region's zones at now_ms, distinct and
 * ascending, at most max; returns how many (0: out of memory). */
unsigned sg_tzwin_offsets(sg_tzwin_t *w, const char *region, int64_t now_ms,
                          int *out, unsigned max);

#endif
