/* numpat.h - a regular expression over phone numbers: the `pattern` of a
 * route, matched against a recipient in E.164 ("+79001234567").
 *
 * PCRE2, compiled once (with the JIT when the platform has it) and matched
 * many times. Numbers are ASCII, so the expression is compiled without
 * UTF; it matches anywhere in the number unless anchored (^, $).
 */
#ifndef SG_CORE_NUMPAT_H
#define SG_CORE_NUMPAT_H

#include <stdbool.h>
#include <stddef.h>

typedef struct sg_numpat sg_numpat_t;

/* The longest pattern accepted, in octets. */
#define SG_NUMPAT_MAX 1024

/* Compiles pattern (NUL-terminated, 1..SG_NUMPAT_MAX octets). Returns 0
 * and sets *out (free it with sg_numpat_free); SG_EINVAL when it does not
 * compile or is empty or too long: why[0..cap) then says why and *offset
 * is the octet offset PCRE2 reports (0 for an empty or long pattern);
 * SG_ENOMEM. why and offset may be NULL. */
int sg_numpat_compile(const char *pattern, sg_numpat_t **out, char *why,
                      size_t cap, size_t *offset);

/* Whether number[0..len) matches. Not thread-safe: one sg_numpat_t holds
 * its own match data, so use it from one thread (the engine's loop). */
bool sg_numpat_match(sg_numpat_t *p, const char *number, size_t len);

/* NULL is a no-op. */
void sg_numpat_free(sg_numpat_t *p);

#endif
