/* smpptime.h - the SMPP time format of SMPP 3.4 section 7.1.1, used by
 * schedule_delivery_time and validity_period (submit_sm, section 4.4.1),
 * final_date (query_sm_resp) and friends:
 *
 *   "YYMMDDhhmmsstnnp"  16 characters, sent as a C-Octet String of 17
 *
 *   YY  last two digits of the year (00-99)     t   tenths of a second (0-9)
 *   MM  month (01-12)                           nn  difference between the
 *   DD  day (01-31)                                 local time of the first
 *   hh  hour (00-23)                                13 characters and UTC,
 *   mm  minute (00-59)                              in quarter hours (00-48)
 *   ss  second (00-59)                          p   '+' local time is ahead
 *                                                   of UTC, '-' behind it,
 *                                                   'R' relative time
 *
 * Section 7.1.1.1 (absolute): "YYMMDDhhmmsstnn+" or "...-".
 * Section 7.1.1.2 (relative): "YYMMDDhhmmss000R": years, months, days,
 * hours, minutes and seconds from the SMSC's current time; the tnn
 * characters are "000".
 * An empty string (the NULL C-Octet String) means "not set" (immediate
 * delivery, SMSC default validity); that is the caller's business, these
 * functions always read and write all 16 characters.
 *
 * Years: YY is read as 2000 + YY (2000-2099). SMPP 3.4 gives no century;
 * every SMSC in service reads it so.
 *
 * Pure functions: no I/O, no allocation, no clock (the caller passes the
 * time), no time zone database (the offset is explicit).
 */
#ifndef SG_SMPP_SMPPTIME_H
#define SG_SMPP_SMPPTIME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Characters of the format, and the buffer that holds them with the NUL. */
#define SG_SMPP_TIME_LEN 16
#define SG_SMPP_TIME_SIZE 17

/* Largest |nn|: 48 quarter hours (section 7.1.1). */
#define SG_SMPP_TIME_QUARTERS_MAX 48

/* One decoded time. For an absolute time the fields are the local time the
 * string shows, tenths its t, and utc_quarters the signed nn ('+' positive,
 * '-' negative): local = UTC + utc_quarters * 15 minutes. For a relative
 * time the fields are the amounts to add (year 0..99 years, month 0..99,
 * day 0..99, hour 0..99, minute 0..99, second 0..99: section 7.1.1.2 does
 * not bound them like a date), tenths and utc_quarters are 0. */
typedef struct sg_smpp_time {
  bool relative;
  uint16_t year;       /* absolute: 2000..2099; relative: 0..99 */
  uint8_t month;       /* absolute: 1..12 */
  uint8_t day;         /* absolute: 1..days of the month */
  uint8_t hour;        /* absolute: 0..23 */
  uint8_t minute;      /* absolute: 0..59 */
  uint8_t second;      /* absolute: 0..59 */
  uint8_t tenths;      /* 0..9 */
  int8_t utc_quarters; /* -48..48 */
} sg_smpp_time_t;

/* Parses exactly 16 characters s[0..len) (len must be 16; a trailing NUL is
 * not part of len) into *out. Absolute times must be a real date (29
 * February only in leap years), hour 0..23, minute and second 0..59, nn
 * 0..48; a relative time must have "000" before the 'R'. Returns 0,
 * SG_EINVAL (NULL argument or len != 16), SG_EPROTO (a non-digit where
 * digits go, a last character other than '+', '-', 'R', or tnn not "000" in
 * a relative time) or SG_ERANGE (a field out of range). *out is unspecified
 * on error. */
int sg_smpp_time_parse(const char *s, size_t len, sg_smpp_time_t *out);

/* Writes *t as 16 characters and a NUL into out[0..SG_SMPP_TIME_SIZE).
 * An absolute time with utc_quarters 0 is written with '+'. Returns 0,
 * SG_EINVAL (NULL argument) or SG_ERANGE (a field out of the ranges
 * sg_smpp_time_parse accepts; nothing useful is written). */
int sg_smpp_time_format(const sg_smpp_time_t *t, char out[SG_SMPP_TIME_SIZE]);

/* Fills *out with the absolute time of unix_ms (milliseconds since
 * 1970-01-01T00:00:00Z) shown in the zone utc_quarters * 15 minutes ahead
 * of UTC (0 for UTC itself); milliseconds below a tenth are dropped.
 * Returns 0, SG_EINVAL (NULL out) or SG_ERANGE (|utc_quarters| > 48, or a
 * local year outside 2000..2099). */
int sg_smpp_time_from_unix_ms(int64_t unix_ms, int utc_quarters,
                              sg_smpp_time_t *out);

/* Fills *out with a relative time of `seconds` from now, written as days,
 * hours, minutes and seconds (years and months 0, as they have no fixed
 * length). Returns 0, SG_EINVAL (NULL out) or SG_ERANGE (more than 99 days
 * 23:59:59, which the two-digit day field cannot carry; use an absolute
 * time). */
int sg_smpp_time_from_seconds(uint32_t seconds, sg_smpp_time_t *out);

/* Converts *t to Unix milliseconds. An absolute time is converted with its
 * own offset (now_ms is not used). A relative time is added to now_ms:
 * years and months as calendar steps in UTC (the day clamped to the length
 * of the month reached: 31 January + 1 month is 28 or 29 February), then
 * days, hours, minutes and seconds as elapsed time. Returns 0, SG_EINVAL
 * (NULL argument) or SG_ERANGE (t out of the ranges above). */
int sg_smpp_time_to_unix_ms(const sg_smpp_time_t *t, int64_t now_ms,
                            int64_t *out_ms);

#endif
