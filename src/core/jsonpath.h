/* jsonpath.h - the small subset of JSONPath (RFC 9535) that names one
 * value in a provider's answer or receipt: "$", then member names
 * (".id", "['message-id']") and array indices ("[0]"), e.g.
 * "$.messages[0].id". No wildcards, filters, slices or descendants: a
 * path names exactly one value or none.
 *
 * Compiling is pure. Evaluation walks a jansson tree the caller parsed and
 * owns, and writes the value as text into the caller's buffer; it never
 * allocates.
 */
#ifndef SG_CORE_JSONPATH_H
#define SG_CORE_JSONPATH_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#define SG_JSONPATH_STEPS_MAX 16
#define SG_JSONPATH_NAME_MAX 64

typedef struct sg_jsonpath_step {
  bool is_index;
  size_t index;
  char name[SG_JSONPATH_NAME_MAX]; /* a member name, NUL-terminated */
} sg_jsonpath_step_t;

typedef struct sg_jsonpath {
  size_t n;
  sg_jsonpath_step_t steps[SG_JSONPATH_STEPS_MAX];
} sg_jsonpath_t;

/* Compiles s[0..len) into *out. Returns 0; SG_EINVAL for a path that does
 * not start with "$" or breaks the grammar above, SG_ETOOLONG for more than
 * SG_JSONPATH_STEPS_MAX steps or a name longer than SG_JSONPATH_NAME_MAX -
 * 1 octets; *err_off (may be NULL) gets the offset of the fault. */
int sg_jsonpath_compile(const char *s, size_t len, sg_jsonpath_t *out,
                        size_t *err_off);

/* The value p names in root, as text in out[0..cap) with a NUL: a string
 * as it is, an integer in decimal, a real as "%.17g" would write it, true
 * and false as words. Returns 0; SG_ENOENT when p names nothing (or null);
 * SG_EINVAL when it names an object or an array; SG_ENOSPC when out is too
 * small. */
int sg_jsonpath_get(const sg_jsonpath_t *p, const json_t *root, char *out,
                    size_t cap);

#endif
