/* isotime.h - UTC times written as ISO 8601 / RFC 3339 text, without the C
 * library: "2026-11-27T03:17:27.123Z".
 *
 * gmtime_r and strftime take a lock-free but long path (the time zone
 * state, the locale, the format parser); a webhook payload and a log line
 * need one fixed form, so this writes it from the civil-from-days algorithm
 * (H. Hinnant, "chrono-Compatible Low-Level Date Algorithms") into a buffer
 * of the caller. No I/O, no allocation; thread-safe.
 */
#ifndef SG_CORE_ISOTIME_H
#define SG_CORE_ISOTIME_H

#include <stddef.h>
#include <stdint.h>

/* Room for any time of sg_isotime_ms, with its NUL: a year of up to 9
 * digits (int64 milliseconds reach year 292,278,994). */
#define SG_ISOTIME_MAX 32

/* Writes ms, milliseconds since 1970-01-01T00:00:00Z (negative counts as
 * 0), as "YYYY-MM-DDTHH:MM:SS.mmmZ" into out with a NUL. The year has at
 * least 4 digits (more after 9999, as strftime's %Y). Returns the length
 * written, without the NUL (24 up to year 9999). */
size_t sg_isotime_ms(int64_t ms, char out[SG_ISOTIME_MAX]);

/* The same without the milliseconds and the 'Z': "YYYY-MM-DDTHH:MM:SS",
 * as strftime("%Y-%m-%dT%H:%M:%S") of gmtime_r(secs). Returns the length
 * (19 up to year 9999). */
size_t sg_isotime_secs(int64_t secs, char out[SG_ISOTIME_MAX]);

#endif
