/* ucs2.h - UCS-2 / UTF-16BE as used for SMS data_coding 0x08 (TS 23.038
 * section 5: "UCS2"; handsets and SMSCs carry UTF-16 with surrogate pairs for
 * characters outside the BMP, such as emoji).
 *
 * Pure functions: no I/O, no allocation; the caller owns every buffer. Safe
 * from any thread. Count and position parameters (n_out, err_index, err_off)
 * may be NULL when the caller does not need them.
 */
#ifndef SG_CORE_UCS2_H
#define SG_CORE_UCS2_H

#include <stddef.h>
#include <stdint.h>

/* UTF-16 code units a code point needs: 1, 2 (surrogate pair), or 0 if it is
 * not a Unicode scalar value. */
size_t sg_ucs2_units(uint32_t cp);

/* Encodes code points as UTF-16BE octets (2 per unit). n_out gets the octet
 * count (on an error, the octets of the code points before the one that
 * failed; a surrogate pair is never split). Returns 0, SG_EINVAL (*err_index
 * set to the index of a surrogate or a value above U+10FFFF) or SG_ENOSPC. */
int sg_ucs2_encode(const uint32_t *cps, size_t n, uint8_t *out, size_t cap,
                   size_t *n_out, size_t *err_index);

/* Decodes UTF-16BE octets. An odd length is SG_ETRUNC (checked first, with
 * *err_off = len - 1, the dangling octet, and nothing decoded); an unpaired
 * surrogate is SG_EILSEQ with *err_off set to its octet offset, unless
 * `lenient` is non-zero, in which case it decodes as U+FFFD (for text
 * received from the network, where a part boundary may have split a pair).
 * `cps` may be NULL (cap is then ignored) to count code points only.
 * Returns 0, SG_ETRUNC, SG_EILSEQ or SG_ENOSPC; n_out gets the code points
 * written (on an error, those before it). */
int sg_ucs2_decode(const uint8_t *buf, size_t len, int lenient, uint32_t *cps,
                   size_t cap, size_t *n_out, size_t *err_off);

#endif
