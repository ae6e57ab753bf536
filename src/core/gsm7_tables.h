/* gsm7_tables.h - internal: the data behind gsm7.c (3GPP TS 23.038 section
 * 6.2.1 and annex A). Only gsm7.c and its tests include this; everything else
 * goes through core/gsm7.h.
 */
#ifndef SG_CORE_GSM7_TABLES_H
#define SG_CORE_GSM7_TABLES_H

#include <stddef.h>
#include <stdint.h>

#include "core/gsm7.h"

/* One 128-entry table, locking shift or single shift.
 * ucs:    code -> Unicode code point (all tables lie in the BMP); 0 where the
 *         code has no character (reserved cells, and 0x1B, the escape).
 * by_ucs: the codes that have a character, sorted by ucs[code], for a binary
 *         search from code point to code. Where a code point sits at two
 *         codes (the Indian single shift tables print '*' and U+00A1 twice)
 *         only the lower code is listed, so that encoding is deterministic.
 * n:      entries in by_ucs. */
typedef struct sg__gsm7_table {
  const uint16_t *ucs;
  const uint8_t *by_ucs;
  size_t n;
} sg__gsm7_table_t;

/* Indexed by sg_gsm7_lang_t. A language without a table of that kind (the
 * Spanish locking shift table, A.3.2, is void) has ucs == NULL. */
extern const sg__gsm7_table_t sg__gsm7_locking[SG_GSM7_LANG_MAX];
extern const sg__gsm7_table_t sg__gsm7_single[SG_GSM7_LANG_MAX];

/* The default alphabet and default extension table for code points below
 * U+0100, the common case on the hot path: 0xFF where neither table has the
 * character, 0x80 | code where only the extension table has it (reached
 * through the escape), else the code in the default alphabet. */
extern const uint8_t sg__gsm7_default_latin1[256];

#endif
