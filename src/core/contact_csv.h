/* contact_csv.h - the mapping of a CSV file of contacts (RFC 4180, parsed
 * by libcsv) to contact rows, incrementally, one chunk at a time.
 *
 * The first record is the header. Columns are mapped by name: `number`
 * (required) and `name` (case ignored, leading and trailing spaces
 * trimmed), `opted_out` (written by exports) is ignored: the opt-out list
 * is the authority, and every other column is a custom field of that
 * name (1..64
 * of [A-Za-z0-9_-]). A header that does not fit these rules fails the
 * whole file. Each later record becomes one row, valid or invalid with a
 * reason; nothing here checks that the number is a phone number (the caller
 * does, with the account's region).
 *
 * Line numbers: a row's `line` is the physical line of the file on which
 * its record ends (the header is line 1; blank lines count). It is the
 * record's own line unless a quoted field spans lines.
 */
#ifndef SG_CORE_CONTACT_CSV_H
#define SG_CORE_CONTACT_CSV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SG_CCSV_COLUMNS_MAX 64       /* columns of the header */
#define SG_CCSV_NUMBER_MAX 32        /* octets of a number as written */
#define SG_CCSV_NAME_MAX 256         /* octets of a name */
#define SG_CCSV_VALUE_MAX 1024       /* octets of a custom field's value */
#define SG_CCSV_FIELD_MAX 65536      /* octets of any field being parsed */
#define SG_CCSV_FIELDS_JSON_MAX 8192 /* octets of a row's fields as JSON */

/* One record after the header. Strings are NUL-terminated and valid only
 * during the callback. */
typedef struct sg_ccsv_row {
  size_t line;
  /* NULL for a valid row; else why it is invalid, e.g. "expected 3
   * columns, found 2", and the column it is about (or NULL). */
  const char *reason;
  const char *column;
  const char *number; /* trimmed, as written; never NULL when valid */
  const char *name;   /* trimmed; NULL when the file has no name column or
                         the cell is empty */
  const char *fields; /* the custom columns as a JSON object of strings
                         ("{}" when none; empty cells are left out) */
} sg_ccsv_row_t;

/* Called for each record after the header, in file order. Return 0 to go
 * on, or a negative code to stop: the feed or finish call that made the
 * callback returns that code. */
typedef int (*sg_ccsv_row_cb)(void *data, const sg_ccsv_row_t *row);

typedef struct sg_ccsv sg_ccsv_t;

/* Creates a mapper; rows go to cb. Returns 0 with *out set, or SG_ENOMEM. */
int sg_ccsv_new(sg_ccsv_row_cb cb, void *data, sg_ccsv_t **out);

/* Parses the next chunk of the file (any split, even inside a field or a
 * UTF-8 sequence). Returns 0; SG_EINVAL when the header is bad or a field
 * is longer than SG_CCSV_FIELD_MAX (sg_ccsv_error says which); SG_ENOMEM;
 * or the callback's code. After an error, later calls return it again. */
int sg_ccsv_feed(sg_ccsv_t *p, const uint8_t *buf, size_t len);

/* Ends the file: the last record without a line end is delivered. Returns
 * like sg_ccsv_feed, and SG_EINVAL for a file without a header (empty) or
 * with a quoted field that is never closed. */
int sg_ccsv_finish(sg_ccsv_t *p);

/* The message of the error that failed the file ("" when none), and in
 * *column (may be NULL) the header column it is about, or NULL. Valid
 * until sg_ccsv_free. */
const char *sg_ccsv_error(const sg_ccsv_t *p, const char **column);

/* Rows delivered so far (valid and invalid). */
size_t sg_ccsv_rows(const sg_ccsv_t *p);

/* Frees p; NULL is a no-op. */
void sg_ccsv_free(sg_ccsv_t *p);

/* True when s (NUL-terminated) is a custom field name: 1..64 of
 * [A-Za-z0-9_-]. */
bool sg_ccsv_field_name_ok(const char *s);

#endif
