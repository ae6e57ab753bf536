/* id.h - time-ordered identifiers for messages, batches and inbound
 * messages: ULIDs (https://github.com/ulid/spec).
 *
 * An id is 128 bits: a 48-bit Unix time in milliseconds, big-endian, then 80
 * random bits, written as 26 characters of Crockford's base32
 * ("0123456789ABCDEFGHJKMNPQRSTVWXYZ", no I, L, O, U), most significant
 * first. The first character carries only 3 bits, so it is '0'..'7'. Ids
 * sort as strings in the order they were made, so a B-tree keyed on the id
 * is appended to at its right edge and keyset pagination on the id is
 * pagination by time.
 *
 * sg_id_new is monotonic within one process: an id made in the same
 * millisecond as the previous one (or after the clock stepped back) is the
 * previous one plus one in its random part, so it still sorts after it.
 */
#ifndef SG_CORE_ID_H
#define SG_CORE_ID_H

#include <stddef.h>
#include <stdint.h>

#define SG_ID_LEN 26   /* characters, without the NUL */
#define SG_ID_BYTES 16 /* binary form */
#define SG_ID_RANDOM_BYTES 10
#define SG_ID_TIME_MAX 0xFFFFFFFFFFFFULL /* 2^48 - 1 ms: year 10889 */

/* Makes a new id from the wall clock and the kernel's random generator
 * (getrandom(2)) into out[0..26] with a NUL. Thread-safe (one mutex guards
 * the monotonic state). Returns 0, or SG_EIO when no random bytes could be
 * had (out is then the empty string). */
int sg_id_new(char out[SG_ID_LEN + 1]);

/* Encodes a time (ms, <= SG_ID_TIME_MAX) and 10 random bytes as an id with a
 * NUL. Pure. Returns 0 or SG_ERANGE when the time does not fit 48 bits. */
int sg_id_format(uint64_t time_ms, const uint8_t rnd[SG_ID_RANDOM_BYTES],
                 char out[SG_ID_LEN + 1]);

/* Decodes the 26 characters s[0..len) (len must be SG_ID_LEN; letters in
 * either case) into the 16 bytes of the id, big-endian. Pure. Returns 0, or
 * SG_EINVAL for another length, a character outside the alphabet (I, L, O
 * and U included) or a first character above '7' (more than 128 bits). */
int sg_id_parse(const char *s, size_t len, uint8_t out[SG_ID_BYTES]);

/* Returns the time part of a valid id in ms, or SG_EINVAL (as a negative
 * value) when sg_id_parse refuses it. */
int64_t sg_id_time_ms(const char *s, size_t len);

/* Rewrites a valid id in upper case in place (the form sg_id_new makes and
 * the store keys on). Returns 0 or SG_EINVAL (s unchanged). */
int sg_id_canonical(char *s, size_t len);

#endif
