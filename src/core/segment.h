/* segment.h - choosing an encoding for a text and splitting it into SMS
 * parts (3GPP TS 23.040 section 9.2.3.24: concatenation IEIs 0x00 and 0x08,
 * national language shift IEIs 0x24 and 0x25).
 *
 * Pure functions: no I/O, no allocation; the caller owns every buffer
 * (sg_segments_t is large, about 215 KB with its code-point scratch:
 * allocate it once and reuse it, do not put it on a stack).
 *
 * Limits per part (no UDH / with an 8-bit concatenation UDH):
 *   GSM 7-bit  160 / 153 septets (an escape pair is never split)
 *   UCS-2       70 /  67 UTF-16 units (a surrogate pair is never split)
 *   8-bit      140 / 134 octets
 * A 16-bit reference or national-language IEIs make the UDH longer and the
 * room smaller, counted in whole septets for GSM 7-bit (the fill bits):
 * room = 160 - ceil(8 * udh_octets / 7) septets, udh_octets with the UDHL
 * octet, so 152 septets / 66 units / 133 octets with a 16-bit reference.
 * National IEIs (3 octets each) go in every part, and in a single part too
 * (where they are the whole UDH): one IEI alone leaves 155 septets, both
 * 152; with an 8-bit reference 149 and 146.
 *
 * Automatic encoding (TS 23.038 section 6.2.1, TS 23.040 9.2.3.24.15/16):
 * the candidates are the default alphabet, UCS-2 and, with opts->national,
 * for each allowed language its single-shift table alone, its locking-shift
 * table alone and both together. The candidate with the fewest parts wins;
 * on a tie the default alphabet beats UCS-2, and UCS-2 beats every national
 * table (every handset reads UCS-2, not every one the national tables);
 * among national candidates single-shift only beats locking only beats
 * both, then the lower language id wins.
 *
 * The text is decoded from UTF-8 once, into the scratch of sg_segments_t;
 * one pass over the code points counts the parts of every candidate at once
 * and a second pass fills the parts of the winner. National candidates are
 * counted only when they could win: a text that the default alphabet
 * carries at one septet per character is never cheaper in a national table.
 */
#ifndef SG_CORE_SEGMENT_H
#define SG_CORE_SEGMENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/gsm7.h"

typedef enum sg_encoding {
  SG_ENC_AUTO = 0, /* only as a request: the cheapest that fits */
  SG_ENC_GSM7 = 1, /* GSM 7-bit, default alphabet or a national table */
  SG_ENC_UCS2 = 2, /* UTF-16BE */
  SG_ENC_8BIT = 3  /* binary payload */
} sg_encoding_t;

#define SG_SEG_MAX_PARTS 255
#define SG_SEG_DEFAULT_MAX_PARTS 10
#define SG_SEG_UDH_MAX 16 /* longest UDH we build, UDHL included */
#define SG_SEG_UD_MAX 160 /* septets (unpacked) or octets of one part */
/* Code points of the scratch buffer: every text that fits in
 * SG_SEG_MAX_PARTS parts fits in it (a part holds at most 160 characters,
 * save for invisible ones smart encoding drops); longer texts are decoded
 * and counted in chunks of this size, so that err->needed is exact. */
#define SG_SEG_MAX_CHARS (SG_SEG_MAX_PARTS * SG_SEG_UD_MAX)

/* Returns "auto", "gsm7", "ucs2", "8bit" ("unknown" for any other value;
 * never NULL). */
const char *sg_encoding_name(sg_encoding_t enc);
/* Parses the names above; returns 0 or SG_EINVAL. */
int sg_encoding_parse(const char *name, sg_encoding_t *out);

typedef struct sg_seg_opts {
  sg_encoding_t encoding; /* AUTO, GSM7 or UCS2 */
  bool national;          /* GSM7/AUTO may use national shift tables */
  uint16_t languages;     /* with national: bit (1 << lang) per allowed
                             sg_gsm7_lang_t; 0 allows every language */
  bool smart;             /* replace look-alikes (curly quotes, dashes, ...)
                             with GSM characters when that saves parts */
  unsigned max_parts;     /* 1..255; 0 means SG_SEG_DEFAULT_MAX_PARTS */
  bool ref16;             /* 16-bit reference (IEI 0x08), else 8-bit (0x00) */
  uint16_t ref;           /* concatenation reference, chosen by the caller
                             (its low 8 bits with an 8-bit reference) */
} sg_seg_opts_t;

typedef struct sg_seg_part {
  uint8_t udh[SG_SEG_UDH_MAX]; /* UDHL first; empty for a single plain part */
  size_t udh_len;
  /* The part's text as it goes in SMPP short_message after the UDH:
   * unpacked septets for GSM7, UTF-16BE octets for UCS2, octets for 8BIT. */
  uint8_t ud[SG_SEG_UD_MAX];
  size_t ud_len;
  size_t chars; /* code points of the text carried in this part */
} sg_seg_part_t;

typedef struct sg_segments {
  sg_encoding_t encoding;    /* GSM7, UCS2 or 8BIT */
  sg_gsm7_charset_t charset; /* with GSM7: the tables used ({0,0} default) */
  size_t chars;              /* code points after smart replacement */
  size_t units;              /* septets, UTF-16 units or octets in total */
  size_t replaced;           /* code points changed by smart encoding */
  unsigned nparts;
  sg_seg_part_t parts[SG_SEG_MAX_PARTS];
  /* Working space of sg_segment_text (the decoded code points); not part of
   * the result, its content is unspecified afterwards. */
  uint32_t scratch[SG_SEG_MAX_CHARS];
} sg_segments_t;

/* What went wrong, for a message a user can act on. */
typedef struct sg_seg_error {
  int code;        /* the SG_E* code that was returned */
  size_t offset;   /* SG_EILSEQ/SG_ETRUNC: byte offset in the UTF-8 input;
                      SG_ECHARSET: index of the code point */
  uint32_t cp;     /* SG_ECHARSET: the code point that does not fit */
  unsigned needed; /* SG_ETOOMANYPARTS: parts the text would need */
} sg_seg_error_t;

/* Encodes and splits UTF-8 text.
 * Returns 0 with *out filled, or: SG_EILSEQ/SG_ETRUNC (invalid UTF-8),
 * SG_ECHARSET (encoding GSM7 forced and a character does not fit),
 * SG_ETOOMANYPARTS (more than max_parts), SG_EINVAL (bad options).
 * `err` may be NULL. An empty text is one empty part.
 * opts may be NULL for the defaults (auto, no national tables, no smart
 * encoding, 10 parts, 8-bit reference 0). opts->encoding SG_ENC_8BIT, a
 * max_parts above 255 or a language bit at or above SG_GSM7_LANG_MAX are
 * SG_EINVAL.
 * Forced GSM7 with opts->national may use a national table; when no allowed
 * table can carry the text, SG_ECHARSET names the character at which the
 * last of them failed (err->offset is its index, err->cp its value).
 * With opts->smart, look-alikes (core/smart.h) are replaced only when that
 * needs fewer parts than the original text (or when forced GSM7 could not
 * carry it otherwise); out->replaced counts the code points replaced.
 * Errors are reported in this order: invalid UTF-8 anywhere in the text,
 * then SG_ECHARSET, then SG_ETOOMANYPARTS. */
int sg_segment_text(const uint8_t *utf8, size_t len, const sg_seg_opts_t *opts,
                    sg_segments_t *out, sg_seg_error_t *err);

/* As sg_segment_text, for text already decoded into code points (for one,
 * text received as UCS-2 and sent on as GSM 7-bit). `cps` is only read and
 * may be out->scratch; texts of any length are counted. A value that is not a
 * Unicode scalar value (a surrogate, above U+10FFFF) is SG_EILSEQ with
 * err->offset its index and err->cp its value. */
int sg_segment_cps(const uint32_t *cps, size_t n, const sg_seg_opts_t *opts,
                   sg_segments_t *out, sg_seg_error_t *err);

/* Splits a binary payload into 8-bit parts (140 / 134 octets, 133 with a
 * 16-bit reference). Only max_parts, ref16 and ref of opts are used (opts
 * may be NULL); out->chars and out->units are the octet count. Returns 0,
 * SG_ETOOMANYPARTS (err->needed set) or SG_EINVAL. */
int sg_segment_binary(const uint8_t *data, size_t len,
                      const sg_seg_opts_t *opts, sg_segments_t *out,
                      sg_seg_error_t *err);

/* Writes part `i` as a TP-UD field of TS 23.040 (UDH, then for GSM7 the
 * septets packed after the fill bits that align them to a septet boundary).
 * n_out gets the octet count; *udl gets TP-UDL (septets for GSM7, octets
 * otherwise). Returns 0, SG_EINVAL (bad index) or SG_ENOSPC.
 * For GSM7, TP-UDL counts the UDH and its fill bits as septets (TS 23.040
 * 9.2.3.16): a 6-octet UDH and 153 septets give 1 fill bit, TP-UDL 160 and
 * 140 octets. At most 140 octets are ever written. */
int sg_segment_tpud(const sg_segments_t *segs, unsigned i, uint8_t *out,
                    size_t cap, size_t *n_out, unsigned *udl);

#endif
