/* receipt.h - the SMSC delivery receipt text of SMPP 3.4 Appendix B, carried
 * in the short_message (or message_payload) of a deliver_sm or data_sm whose
 * esm_class marks it as an SMSC delivery receipt (SMPP 3.4 section 5.2.12):
 *
 *   id:IIIIIIIIII sub:SSS dlvrd:DDD submit date:YYMMDDhhmm
 *   done date:YYMMDDhhmm stat:DDDDDDD err:E text:....................
 *
 * and the message_state TLV values the text maps to (SMPP 3.4 section
 * 5.3.2.35, values as in section 5.2.28).
 *
 * Appendix B says the format is SMSC vendor specific and gives this one as an
 * example, so the parser is tolerant (see sg_receipt_parse) while the
 * formatter always writes the example format exactly.
 *
 * Pure functions: no I/O, no allocation; every buffer belongs to the caller.
 * A parsed receipt is copied into fixed buffers inside sg_receipt_t, so it
 * does not point into (or outlive concerns about) the input.
 */
#ifndef SG_SMPP_RECEIPT_H
#define SG_SMPP_RECEIPT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* message_id is a C-Octet String of at most 65 octets including the NUL
 * (SMPP 3.4 section 5.2.23), so an id has at most 64 characters. */
#define SG_RECEIPT_ID_MAX 64
/* "text: the first 20 characters of the short message" (Appendix B). */
#define SG_RECEIPT_TEXT_MAX 20
/* The stat and err values are also kept as received (truncated to this). */
#define SG_RECEIPT_RAW_MAX 23
/* The longest text sg_receipt_format writes, without its NUL: every field at
 * its maximum (64-octet id, 12-digit dates, 20-octet text). */
#define SG_RECEIPT_FORMAT_MAX 180

/* message_state values (SMPP 3.4 section 5.2.28, used by the message_state
 * TLV of section 5.3.2.35 and by query_sm_resp). */
typedef enum sg_message_state {
  SG_MESSAGE_STATE_ENROUTE = 1,
  SG_MESSAGE_STATE_DELIVERED = 2,
  SG_MESSAGE_STATE_EXPIRED = 3,
  SG_MESSAGE_STATE_DELETED = 4,
  SG_MESSAGE_STATE_UNDELIVERABLE = 5,
  SG_MESSAGE_STATE_ACCEPTED = 6,
  SG_MESSAGE_STATE_UNKNOWN = 7,
  SG_MESSAGE_STATE_REJECTED = 8
} sg_message_state_t;

/* The stat field of a receipt. The canonical texts are the 7-letter
 * abbreviations of Appendix B; the numeric values equal the message_state of
 * the same meaning, but use the functions below to convert. NONE means "no
 * recognised stat" (absent, or a value this module does not know). */
typedef enum sg_receipt_stat {
  SG_RECEIPT_STAT_NONE = 0,
  SG_RECEIPT_ENROUTE = 1,
  SG_RECEIPT_DELIVRD = 2,
  SG_RECEIPT_EXPIRED = 3,
  SG_RECEIPT_DELETED = 4,
  SG_RECEIPT_UNDELIV = 5,
  SG_RECEIPT_ACCEPTD = 6,
  SG_RECEIPT_UNKNOWN = 7,
  SG_RECEIPT_REJECTD = 8
} sg_receipt_stat_t;

/* One bit per receipt field, for sg_receipt_t.present and .malformed. */
enum sg_receipt_field {
  SG_RECEIPT_F_ID = 1u << 0,
  SG_RECEIPT_F_SUB = 1u << 1,
  SG_RECEIPT_F_DLVRD = 1u << 2,
  SG_RECEIPT_F_SUBMIT_DATE = 1u << 3,
  SG_RECEIPT_F_DONE_DATE = 1u << 4,
  SG_RECEIPT_F_STAT = 1u << 5,
  SG_RECEIPT_F_ERR = 1u << 6,
  SG_RECEIPT_F_TEXT = 1u << 7,
  SG_RECEIPT_F_ALL = 0xFFu
};

/* A receipt date as broken-down time. Receipts carry the SMSC's local time
 * with no zone, so this module keeps the fields as they were written rather
 * than pretending to know the instant; sg_receipt_date_to_epoch converts when
 * the caller knows the zone (it treats the fields as UTC).
 *
 * year is the full year. A two-digit YY is read as 2000 + YY; the formatter
 * writes year % 100. has_seconds says whether the date had (and will be
 * written with) seconds: YYMMDDhhmmss instead of YYMMDDhhmm. */
typedef struct sg_receipt_date {
  uint16_t year;
  uint8_t month;  /* 1..12 */
  uint8_t day;    /* 1..days in the month */
  uint8_t hour;   /* 0..23 */
  uint8_t minute; /* 0..59 */
  uint8_t second; /* 0..59; 0 when !has_seconds */
  bool has_seconds;
} sg_receipt_date_t;

/* A delivery receipt. Field names follow Appendix B ("submit date" becomes
 * submit_date). id and text are NUL-terminated copies; text may contain
 * other NULs, text_len is its length. */
typedef struct sg_receipt {
  char id[SG_RECEIPT_ID_MAX + 1];
  uint32_t sub;   /* number of short messages originally submitted */
  uint32_t dlvrd; /* number of short messages delivered */
  sg_receipt_date_t submit_date;
  sg_receipt_date_t done_date;
  sg_receipt_stat_t stat;
  uint32_t err; /* network or SMSC specific error code */
  char text[SG_RECEIPT_TEXT_MAX + 1];
  size_t text_len;

  /* Filled by the parser only (the formatter ignores them): */
  char stat_raw[SG_RECEIPT_RAW_MAX + 1]; /* stat as received, if any */
  char err_raw[SG_RECEIPT_RAW_MAX + 1];  /* err as received, if any */
  unsigned present;   /* SG_RECEIPT_F_* found with a usable value */
  unsigned malformed; /* SG_RECEIPT_F_* found, value unusable */
} sg_receipt_t;

/* Writes the Appendix B text of `r` into out[0..cap) followed by a NUL:
 *   id:<id> sub:<sub> dlvrd:<dlvrd> submit date:<date> done date:<date>
 *   stat:<stat> err:<err> text:<text>
 * sub, dlvrd and err as three zero-padded digits, dates as YYMMDDhhmm (or
 * YYMMDDhhmmss when has_seconds), stat as its 7-letter name, text as its
 * first text_len octets. Every field is written; present/malformed and the
 * raw copies are ignored.
 * Returns 0 with *out_len (may be NULL) set to the length without the NUL;
 * SG_ENOSPC when cap is too small for the text and its NUL (nothing beyond
 * out[cap - 1] is written; cap >= SG_RECEIPT_FORMAT_MAX + 1 always fits);
 * SG_EINVAL for a NULL argument, an empty id, one longer than
 * SG_RECEIPT_ID_MAX or with white space (space, tab, CR, LF, VT, FF: the
 * parser would end the id there), stat NONE or out of range, an invalid date,
 * text_len > SG_RECEIPT_TEXT_MAX; SG_ERANGE when sub, dlvrd or err exceeds 999.
 */
int sg_receipt_format(const sg_receipt_t *r, uint8_t *out, size_t cap,
                      size_t *out_len);

/* Parses a receipt text from buf[0..len) into *out (which is overwritten:
 * absent fields are zero). Never reads past len, never allocates.
 *
 * What it accepts, from the variants real SMSCs send:
 *  - fields in any order, any of them missing, other "key:value" fields
 *    (vendor extensions) skipped, any run of spaces, tabs, CR, LF or NUL
 *    between fields and after a ':';
 *  - keys in any case ("ID:", "Stat:", "Text:"); "submit date", "submit_date",
 *    "submit-date", "submitdate" (the same for "done date"), and spaces
 *    before the ':';
 *  - dates of 10 digits (YYMMDDhhmm), 12 digits (YYMMDDhhmmss, or
 *    YYYYMMDDhhmm when that is not a valid date) and 14 (YYYYMMDDhhmmss);
 *  - sub, dlvrd and err of 1 to 9 decimal digits;
 *  - stat in any case, with '_', '-' or ' ' inside ignored, as the seven
 *    names and these variants: DELIVERED, DELIVERD; EXPIRD; DELETD;
 *    UNDELIVERABLE, UNDELIVERED, FAILED; ACCEPTED, ACKED; REJECTED;
 *    BUFFRED, BUFFERD, BUFFERED, EN_ROUTE (as ENROUTE); UNKNWN.
 *    Kannel counts ACKED with ACCEPTD and BUFFRED with ENROUTE as "buffered".
 * Values: id, sub, dlvrd, the dates and err are one word (up to the next
 * white space); stat runs up to the next "key:" (some SMSCs send words with
 * spaces); text runs to the end of the input, because the message text may
 * itself contain "key:" words; so a field after text is read as text.
 * Leading and trailing white space is trimmed; text keeps its first
 * SG_RECEIPT_TEXT_MAX octets (then trimmed again). When a key repeats, the
 * first occurrence wins. An id longer than SG_RECEIPT_ID_MAX is malformed.
 *
 * out->present gets a bit for each field found with a usable value,
 * out->malformed one for each field found whose value is unusable (empty,
 * not a number, an impossible date, a stat not listed above: stat_raw and
 * err_raw keep what was sent). Bits in neither were absent. A receipt needs
 * SG_RECEIPT_F_ID and SG_RECEIPT_F_STAT to be correlated and acted on.
 * Returns 0 when at least one known key was found, SG_EPROTO when none was
 * (not a receipt), SG_EINVAL when out is NULL or buf is NULL with len > 0. */
int sg_receipt_parse(const uint8_t *buf, size_t len, sg_receipt_t *out);

/* The 7-letter Appendix B name of a stat ("DELIVRD"), or NULL for NONE and
 * out-of-range values. */
const char *sg_receipt_stat_name(sg_receipt_stat_t stat);

/* The message_state (section 5.3.2.35) for a stat, or 0 for NONE and
 * out-of-range values. */
int sg_receipt_stat_to_message_state(sg_receipt_stat_t stat);

/* The stat for a message_state value 1..8, or SG_RECEIPT_STAT_NONE for any
 * other value. */
sg_receipt_stat_t sg_receipt_stat_from_message_state(int message_state);

/* Whether a message_state is final, that is no further receipt will follow
 * (SMPP 5.0 section 4.7.15 names the types; 3.4 does not): ENROUTE is
 * intermediate; DELIVERED, EXPIRED, DELETED, UNDELIVERABLE, ACCEPTED and
 * REJECTED are final. UNKNOWN is "N/A" there; it is treated as final here,
 * since an SMSC that cannot tell the state will not report it again. Values
 * outside 1..8 are not final. Note that many SMSCs send ACCEPTD as an
 * intermediate "accepted by the network" report (Kannel counts it as
 * buffered); whether to wait for more after it is the caller's policy. */
bool sg_message_state_is_final(int message_state);

/* Same for a stat (NONE is not final). */
bool sg_receipt_stat_is_final(sg_receipt_stat_t stat);

/* Whether every field of `d` is in range (year 0..9999, a real calendar day
 * including 29 February of leap years, hour 0..23, minute and second 0..59).
 * NULL is not valid. */
bool sg_receipt_date_valid(const sg_receipt_date_t *d);

/* Breaks `secs` (seconds since 1970-01-01T00:00:00 UTC, may be negative) into
 * a UTC date. With with_seconds false, second is 0 and has_seconds false.
 * Returns 0, SG_EINVAL for a NULL out, SG_ERANGE outside years 0..9999. */
int sg_receipt_date_from_epoch(int64_t secs, bool with_seconds,
                               sg_receipt_date_t *out);

/* Seconds since the epoch of `d` read as UTC (second counted only when
 * has_seconds). Returns 0, or SG_EINVAL when d or secs is NULL or the date is
 * not valid. */
int sg_receipt_date_to_epoch(const sg_receipt_date_t *d, int64_t *secs);

#endif
