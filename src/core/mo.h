/* mo.h - incoming messages (MO) as data: the concatenation and national
 * language information elements of a UDH, the text of a part in its
 * data_coding, the joining of the parts of one message, and the first
 * keyword of a text. Pure: no I/O, no allocation.
 */
#ifndef SG_CORE_MO_H
#define SG_CORE_MO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/segment.h"

/* What a UDH says about concatenation and national tables. */
typedef struct sg_mo_udh_info {
  bool concat;          /* a valid concatenation IE was present */
  bool ref16;           /* IEI 0x08 (16-bit reference), else 0x00 */
  uint16_t ref;         /* concatenated short message reference number */
  uint8_t total;        /* maximum number of short messages, >= 1 */
  uint8_t seq;          /* sequence number, 1..total */
  uint8_t lang_single;  /* IEI 0x24 national single shift, 0: none */
  uint8_t lang_locking; /* IEI 0x25 national locking shift, 0: none */
} sg_mo_udh_info_t;

/* Parses a UDH (UDHL octet first, udh_len = UDHL + 1) per TS 23.040
 * 9.2.3.24: IEI 0x00 (8-bit reference, 9.2.3.24.1), IEI 0x08 (16-bit,
 * 9.2.3.24.8), IEI 0x24/0x25 (national shift tables, 9.2.3.24.15/16). A
 * concatenation IE with a total or sequence of 0, or a sequence above the
 * total, is ignored as 9.2.3.24.1 says; other IEs are skipped. NULL/0 is
 * an empty UDH. Returns 0, or SG_EPROTO when UDHL or an IE runs past the
 * end (*out then holds what was read before). */
int sg_mo_parse_udh(const uint8_t *udh, size_t udh_len, sg_mo_udh_info_t *out);

/* The encoding of a data_coding value (SMPP 3.4 5.2.19, which takes the
 * TS 23.038 coding groups in 0x10-0x3F and 0xF0-0xFF too): GSM7 for the
 * default alphabet, UCS2, 8BIT for text in IA5 (0x01) or Latin-1 (0x03),
 * and *binary set for 8-bit data, compressed text and reserved values. */
sg_encoding_t sg_mo_coding(uint8_t data_coding, bool *binary);

/* Decodes the user data of one part (unpacked septets for GSM7, octets
 * otherwise) to code points, with the national tables of the UDH for GSM
 * 7-bit. Returns 0, SG_ENOTSUP (binary data), SG_EILSEQ, SG_ETRUNC (an
 * odd UCS-2 length) or SG_ENOSPC. A surrogate pair split by the part
 * boundary decodes as U+FFFD here: use sg_mo_join for whole messages. */
int sg_mo_decode(uint8_t data_coding, const sg_mo_udh_info_t *udh,
                 const uint8_t *ud, size_t ud_len, uint32_t *cps, size_t cap,
                 size_t *n_out);

/* One part of a message to join. */
typedef struct sg_mo_part {
  uint8_t seq; /* 1..total; 1 for a single part */
  uint8_t data_coding;
  const uint8_t *udh; /* UDHL first, or NULL */
  size_t udh_len;
  const uint8_t *ud;
  size_t ud_len;
} sg_mo_part_t;

typedef struct sg_mo_joined {
  bool complete;          /* every sequence number 1..total was present */
  bool binary;            /* out holds the octets of the parts, not text */
  unsigned have;          /* distinct parts used */
  sg_encoding_t encoding; /* of the first part */
  size_t len;             /* octets written to out */
} sg_mo_joined_t;

/* Joins the parts of one message of `total` parts, given in any order:
 * a repeated sequence number is used once (the first given), sequence
 * numbers outside 1..total are ignored. Text parts are decoded and written
 * as UTF-8 in sequence order (UCS-2 octets are joined before decoding, so
 * a surrogate pair split by a part boundary survives); when any part is
 * binary or does not decode, out holds the user data of the parts in order
 * and binary is set. Missing parts are left out (complete is false). Needs
 * cap >= total * SG_SEG_UD_MAX * 3 + 16 for any text; returns 0 or
 * SG_ENOSPC, SG_EINVAL (no parts, total 0). */
int sg_mo_join(const sg_mo_part_t *parts, size_t n, unsigned total,
               uint8_t *out, size_t cap, sg_mo_joined_t *res);

/* Upper case of a code point for keyword matching: ASCII, Latin-1,
 * Cyrillic (U+0430-U+045F) and Greek basic letters; others unchanged. */
uint32_t sg_mo_upper(uint32_t cp);

/* The first word of UTF-8 text in upper case (sg_mo_upper), skipping
 * leading white space and stopping at white space or punctuation other
 * than '-' and '_'; written as UTF-8 with a NUL into out. Returns its
 * length in octets (0: no word), or SG_EILSEQ / SG_ENOSPC. */
int sg_mo_keyword(const uint8_t *text, size_t len, char *out, size_t cap);

/* Upper-cases UTF-8 text the same way into out (NUL-terminated), for
 * comparing configured keywords. Returns the length or SG_EILSEQ /
 * SG_ENOSPC. */
int sg_mo_upper_utf8(const char *in, char *out, size_t cap);

#endif
