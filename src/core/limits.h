/* limits.h - the pure rules behind an account's protections: sender
 * patterns, allowed destinations, prices and amounts of money, and the UTC
 * day and month a quota counts in.
 *
 * Pure: no I/O, no allocation, any thread. The engine applies these rules
 * (engine/limits.c); the configuration loader uses the same parsers so that
 * what it accepts is exactly what the engine understands.
 */
#ifndef SG_CORE_LIMITS_H
#define SG_CORE_LIMITS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/config.h"

/* Money is kept in integer micro-units: 1.00 is 1000000. */
#define SG_LIMITS_MICRO 1000000
/* The largest amount accepted anywhere (a price, a credit, a balance):
 * one thousand million units, far from overflowing int64_t. */
#define SG_LIMITS_AMOUNT_MAX ((int64_t)1000000000 * SG_LIMITS_MICRO)

/* Whether text[0..tlen) matches the glob pattern pat[0..plen): '*' matches
 * any run of octets (also none), '?' exactly one octet, every other octet
 * itself (case-sensitive). No escapes: senders never contain '*' or '?'.
 * Linear in practice (one backtrack point), never recursive. */
bool sg_limits_glob(const char *pat, size_t plen, const char *text,
                    size_t tlen);

/* Whether `from` may be used as a sender under the list `senders[0..n)`:
 * every entry with '*' or '?' is a pattern (sg_limits_glob), any other
 * must equal `from`. An empty list allows every sender. */
bool sg_limits_sender_allowed(const char *const *senders, size_t n,
                              const char *from);

/* Whether an entry of `destinations` is well formed: "+" and 1-15 digits
 * (an E.164 prefix), or two upper-case letters (an ISO 3166 alpha-2
 * region; whether the region exists is the phone database's to say). */
bool sg_limits_destination_valid(const char *entry);

/* Whether a recipient (E.164, with the region the phone database gave it,
 * "GB", or "001" for non-geographic numbers) is inside the list
 * `dest[0..n)` of prefixes and regions. An empty list allows every
 * destination. */
bool sg_limits_destination_allowed(const char *const *dest, size_t n,
                                   const char *e164, const char *region);

/* Parses a decimal amount: an optional '-', 1-10 digits, optionally '.'
 * and 1-6 more ("12.50", "0.025", "7"), into micro-units. No exponents,
 * spaces, or '+'. Returns 0 and sets *micro, SG_EINVAL (not such a
 * number, or more than 6 decimals), SG_ERANGE (beyond
 * SG_LIMITS_AMOUNT_MAX). */
int sg_limits_amount_parse(const char *s, size_t len, int64_t *micro);

/* Writes micro-units as a decimal with at least 2 and at most 6 decimals
 * and no trailing zeros past the second ("12.50", "0.025", "-1.00") into
 * out[0..32). Returns the length. */
int sg_limits_amount_format(int64_t micro, char out[32]);

/* The price of one part to `e164` in prices[0..n): the entry with the
 * longest prefix that starts the number wins. Returns 0 and sets *micro,
 * or SG_ENOENT when no prefix matches (the destination has no price). */
int sg_limits_price_find(const sg_config_price_t *prices, size_t n,
                         const char *e164, int64_t *micro);

/* The UTC day and month a time falls in, as quotas count them. */
typedef struct sg_limits_period {
  char day[11];         /* "2026-11-26" */
  char month[8];        /* "2026-11" */
  int64_t day_end_ms;   /* the next midnight UTC (Unix ms) */
  int64_t month_end_ms; /* the first midnight UTC of the next month */
} sg_limits_period_t;

/* Fills *out for the Unix time now_ms (>= 0; proleptic Gregorian, no leap
 * seconds). */
void sg_limits_period(int64_t now_ms, sg_limits_period_t *out);

#endif
