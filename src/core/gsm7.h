/* gsm7.h - the GSM 7-bit default alphabet and its national language tables
 * (3GPP TS 23.038 section 6.2.1 and annex A), and septet packing (TS 23.038
 * section 6.1.2.1.1, TS 23.040 section 9.2.3.24 for fill bits after a UDH).
 *
 * Pure functions: no I/O, no allocation; the caller owns every buffer. All
 * functions are safe to call from any thread (the tables are constant).
 *
 * Text is handled in three forms:
 *   code points  (uint32_t, Unicode)
 *   septets      (uint8_t values 0..127, one per byte, "unpacked"; an
 *                 extension-table character is two septets: 0x1B, code)
 *   packed       (octets with septets packed LSB first, TS 23.038 6.1.2.1.1)
 *
 * Output-count parameters (n_out) and error-position parameters (err_index)
 * may be NULL when the caller does not need them.
 */
#ifndef SG_CORE_GSM7_H
#define SG_CORE_GSM7_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SG_GSM7_ESC 0x1B

/* What sg_gsm7_decode yields for a code the active table leaves empty (the
 * national tables have reserved cells): U+FFFD REPLACEMENT CHARACTER. */
#define SG_GSM7_UNDEFINED 0xFFFDu

/* National language identifiers of TS 23.038 section 6.2.1.2.4, as carried in
 * the UDH IEIs 0x24 (single shift) and 0x25 (locking shift). 0 is the GSM
 * default alphabet / default extension table. */
typedef enum sg_gsm7_lang {
  SG_GSM7_DEFAULT = 0,
  SG_GSM7_TURKISH = 1,
  SG_GSM7_SPANISH = 2,
  SG_GSM7_PORTUGUESE = 3,
  SG_GSM7_BENGALI = 4,
  SG_GSM7_GUJARATI = 5,
  SG_GSM7_HINDI = 6,
  SG_GSM7_KANNADA = 7,
  SG_GSM7_MALAYALAM = 8,
  SG_GSM7_ORIYA = 9,
  SG_GSM7_PUNJABI = 10,
  SG_GSM7_TAMIL = 11,
  SG_GSM7_TELUGU = 12,
  SG_GSM7_URDU = 13,
  SG_GSM7_LANG_MAX = 14
} sg_gsm7_lang_t;

/* A character set: the locking-shift table (the base 128 characters) and the
 * single-shift table (reached through 0x1B). {0, 0} is the default alphabet
 * with the default extension table.
 *
 * A language with no table of the kind asked for (Spanish has no locking
 * shift table; any id >= SG_GSM7_LANG_MAX) selects the default table of that
 * kind, as TS 23.038 annex C.2/C.3 describe for a receiving entity that does
 * not support the table: it ignores the IE. Every function below follows that
 * rule, so a charset taken from a received UDH can be used as it is; a sender
 * should only build charsets for which sg_gsm7_has_locking/has_single are
 * true. */
typedef struct sg_gsm7_charset {
  uint8_t locking; /* sg_gsm7_lang_t */
  uint8_t single;  /* sg_gsm7_lang_t */
} sg_gsm7_charset_t;

/* Whether a locking-shift (resp. single-shift) table exists for the language
 * (Spanish, for one, has only a single-shift table). DEFAULT always does;
 * an id >= SG_GSM7_LANG_MAX never does. */
bool sg_gsm7_has_locking(sg_gsm7_lang_t lang);
bool sg_gsm7_has_single(sg_gsm7_lang_t lang);

/* Short lowercase English name ("turkish"; "default" for 0), or NULL for an
 * unknown id. */
const char *sg_gsm7_lang_name(sg_gsm7_lang_t lang);

/* Parses a name of sg_gsm7_lang_name (exact, lowercase) into *out.
 * Returns 0, or SG_EINVAL for a NULL or unknown name (*out untouched). */
int sg_gsm7_lang_parse(const char *name, sg_gsm7_lang_t *out);

/* Septets one code point costs in `cs`: 1 (base table), 2 (escape + single
 * shift table), or 0 when the charset cannot represent it (code points above
 * U+FFFF never can). If `out` is not NULL the septet(s) are written to
 * out[0..1]. Where a character is in both tables the base table wins. A
 * binary search at worst; O(1) for the default charset below U+0100. */
int sg_gsm7_char(sg_gsm7_charset_t cs, uint32_t cp, uint8_t out[2]);

/* Encodes code points into septets. n_out gets the number of septets.
 * Returns 0, SG_ECHARSET with *err_index set to the index of the first code
 * point that cannot be represented, or SG_ENOSPC. On either error *n_out is
 * the count of septets written before it; an escape pair is never split. */
int sg_gsm7_encode(sg_gsm7_charset_t cs, const uint32_t *cps, size_t n,
                   uint8_t *septets, size_t cap, size_t *n_out,
                   size_t *err_index);

/* Number of septets `cps` needs in `cs`, or SG_ECHARSET (with *err_index).
 * Returns the count (>= 0) on success. */
long sg_gsm7_count(sg_gsm7_charset_t cs, const uint32_t *cps, size_t n,
                   size_t *err_index);

/* Decodes septets into code points.
 * - An escape followed by a code with a single-shift entry is that entry.
 * - An escape followed by a code with no single-shift entry decodes as the
 *   base-table character of that code (TS 23.038 6.2.1.1, "a receiving
 *   entity shall display the character in the default alphabet").
 * - Two escapes decode as one space (6.2.1.1 note 1: 0x1B in the extension
 *   table is reserved, "display a space"); a trailing lone escape decodes as
 *   a space too.
 * - A code the active table leaves empty decodes as SG_GSM7_UNDEFINED.
 * Septets must be < 128: SG_EILSEQ otherwise, with *err_index set to the
 * index of the offending septet. Returns 0, SG_EILSEQ or SG_ENOSPC; on an
 * error *n_out is the count of code points written before it.
 * `cps` may be NULL with cap 0 to count the code points only. */
int sg_gsm7_decode(sg_gsm7_charset_t cs, const uint8_t *septets, size_t n,
                   uint32_t *cps, size_t cap, size_t *n_out, size_t *err_index);

/* Octets that `n_septets` septets occupy when packed after `fill_bits` zero
 * bits: ceil((fill_bits + 7 * n_septets) / 8). Never overflows. */
size_t sg_gsm7_packed_len(size_t n_septets, unsigned fill_bits);

/* Packs septets into octets, LSB first. `fill_bits` (0..6) zero bits are
 * placed first, as after a UDH (TS 23.040 9.2.3.24). Writes
 * ceil((fill_bits + 7 * n) / 8) octets; n_out gets that count. Bits after
 * the last septet in the last octet are zero (TS 23.038 6.1.2.1.1: TP-UDL
 * says where the text ends, so SMS needs no <CR> padding).
 * Returns 0, SG_EINVAL (fill_bits > 6 or a septet > 127; nothing written) or
 * SG_ENOSPC (nothing written). */
int sg_gsm7_pack(const uint8_t *septets, size_t n, unsigned fill_bits,
                 uint8_t *out, size_t cap, size_t *n_out);

/* Unpacks `n_septets` septets from packed octets after skipping `fill_bits`.
 * Octets beyond sg_gsm7_packed_len(n_septets, fill_bits) are ignored.
 * Returns 0, SG_EINVAL (fill_bits > 6), SG_ETRUNC when `len` octets hold
 * fewer septets, or SG_ENOSPC (cap < n_septets); checked in that order,
 * nothing written on error. */
int sg_gsm7_unpack(const uint8_t *packed, size_t len, unsigned fill_bits,
                   size_t n_septets, uint8_t *septets, size_t cap);

#endif
