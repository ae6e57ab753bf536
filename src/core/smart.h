/* smart.h - look-alike replacement for "smart encoding": characters that are
 * not in the GSM 7-bit alphabet but have a plain GSM stand-in a reader would
 * accept (curly quotes, dashes, unusual spaces, the ellipsis, bullets,
 * guillemets, invisible format characters).
 *
 * A pure table: no I/O, no allocation, no state. The segmenter
 * (core/segment.h) decides whether a replacement is worth making; this module
 * only says what the replacement would be.
 */
#ifndef SG_CORE_SMART_H
#define SG_CORE_SMART_H

#include <stddef.h>
#include <stdint.h>

/* Longest replacement, in code points ("..." for U+2026). */
#define SG_SMART_MAX 3

/* Looks up the replacement for `cp`.
 * Returns the number of code points written to `out` (0..SG_SMART_MAX; 0
 * means the character is dropped, as for a zero-width space), or -1 when the
 * table has no entry for `cp` (out is left untouched). Every replacement is
 * made of characters of the GSM 7-bit default alphabet or its extension
 * table. `out` may be NULL to only ask whether an entry exists. */
int sg_smart_lookup(uint32_t cp, uint32_t out[SG_SMART_MAX]);

/* Number of entries in the table, and entry `i` (0-based, in ascending code
 * point order): its code point, or 0 past the end. For tests and listings. */
size_t sg_smart_count(void);
uint32_t sg_smart_entry(size_t i);

#endif
