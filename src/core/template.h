/* template.h - message templates: text with placeholders filled from a
 * contact.
 *
 * A placeholder is "{{" NAME "}}", spaces allowed inside the braces, where
 * NAME is `name`, `number` or `fields.KEY` (KEY: 1..64 of [A-Za-z0-9_-]).
 * Any other "{{" is an error; a lone "}}" or "{" is text. Pure: no
 * allocation, no I/O.
 */
#ifndef SG_CORE_TEMPLATE_H
#define SG_CORE_TEMPLATE_H

#include <stddef.h>

#define SG_TEMPLATE_NAME_MAX 72 /* "fields." + 64 + NUL, rounded */

/* The value of placeholder `name` ("name", "number", "fields.city"), or
 * NULL when the contact has none. */
typedef const char *(*sg_template_lookup_cb)(void *data, const char *name);

/* Checks a template's syntax. Returns 0, or SG_EINVAL with a sentence in
 * msg[0..cap) (e.g. "unknown placeholder {{nme}} at offset 6"). */
int sg_template_check(const char *tpl, size_t len, char *msg, size_t cap);

/* Fills the template into out[0..cap) (NUL-terminated; *out_len excludes
 * the NUL). Returns 0; SG_ENOENT when a placeholder has no value (its NAME
 * in missing[0..missing_cap)); SG_EINVAL for a syntax error (as
 * sg_template_check); SG_ENOSPC when out is too small. */
int sg_template_fill(const char *tpl, size_t len, sg_template_lookup_cb lookup,
                     void *data, char *out, size_t cap, size_t *out_len,
                     char *missing, size_t missing_cap);

#endif
