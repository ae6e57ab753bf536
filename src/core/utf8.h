/* utf8.h - strict UTF-8 (RFC 3629) decoding and encoding.
 *
 * Pure functions: no I/O, no allocation; the caller owns every buffer. Safe
 * from any thread. Count and position parameters (n_out, err_off) may be NULL
 * when the caller does not need them.
 */
#ifndef SG_CORE_UTF8_H
#define SG_CORE_UTF8_H

#include <stddef.h>
#include <stdint.h>

/* Decodes `len` bytes of UTF-8 into Unicode code points.
 * Exactly the well-formed sequences of Unicode table 3-7 are accepted:
 * overlong forms, UTF-16 surrogates (U+D800..U+DFFF), code points above
 * U+10FFFF, bytes 0xC0, 0xC1 and > 0xF4, stray continuation bytes and
 * truncated sequences are errors.
 * out:      caller-owned array of `cap` code points; may be NULL (cap is then
 *           ignored) to only validate and count.
 * n_out:    set to the number of code points (on success, or on SG_ENOSPC the
 *           number that would be needed is NOT computed: it is the count
 *           written so far; on SG_EILSEQ/SG_ETRUNC, the count of code points
 *           before the offending sequence).
 * err_off:  on SG_EILSEQ/SG_ETRUNC, set to the byte offset of the first
 *           offending byte: the byte where the ill-formed sequence starts
 *           (its lead byte, or the stray byte itself), as Python's
 *           UnicodeDecodeError.start. E.g. "ab\xE2\x28\xA1" gives 2.
 * Returns 0, SG_EILSEQ (invalid byte), SG_ETRUNC (the input ends inside a
 * sequence whose bytes so far are valid, e.g. "\xE2\x82") or SG_ENOSPC (out
 * too small; the rest of the input is not examined). */
int sg_utf8_decode(const uint8_t *buf, size_t len, uint32_t *out, size_t cap,
                   size_t *n_out, size_t *err_off);

/* Counts the code points of valid UTF-8; same errors as sg_utf8_decode. */
int sg_utf8_count(const uint8_t *buf, size_t len, size_t *n_out,
                  size_t *err_off);

/* Encodes code points as UTF-8 into `out` (`cap` bytes, not NUL-terminated).
 * n_out gets the number of bytes written (on an error, the bytes of the code
 * points before the one that failed). Returns 0, SG_EINVAL for a surrogate or
 * a value above U+10FFFF, SG_ENOSPC when out is too small. */
int sg_utf8_encode(const uint32_t *cps, size_t n, uint8_t *out, size_t cap,
                   size_t *n_out);

/* Bytes needed to encode one code point (1..4), or 0 if it is not a valid
 * Unicode scalar value. */
size_t sg_utf8_len(uint32_t cp);

#endif
