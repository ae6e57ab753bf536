/* modem_at.h - reading what a GSM modem says on its serial line (3GPP TS
 * 27.007 and 27.005, ITU-T V.250): one event per line, classified as the
 * answer to the command in progress, a final result code, the "> " prompt
 * of AT+CMGS, or an unsolicited result code (URC) that the modem may send
 * at any moment, also between two lines of an answer.
 *
 * Pure and incremental: no I/O, no allocation. The reader keeps at most one
 * line (SG_AT_LINE_MAX) and one URC header; bytes may be fed in pieces of
 * any size, split anywhere.
 */
#ifndef SG_CONNECTOR_MODEM_AT_H
#define SG_CONNECTOR_MODEM_AT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SG_AT_LINE_MAX 640 /* longer than any PDU line (2 * 176 + header) */

typedef enum sg_at_kind {
  SG_AT_LINE = 0,  /* information text: part of the current answer */
  SG_AT_OK,        /* final: OK */
  SG_AT_ERROR,     /* final: ERROR, NO CARRIER, BUSY, NO ANSWER, ... */
  SG_AT_CME_ERROR, /* final: +CME ERROR: <err> (TS 27.007 9.2) */
  SG_AT_CMS_ERROR, /* final: +CMS ERROR: <err> (TS 27.005 3.2.5) */
  SG_AT_PROMPT,    /* "> ": the modem waits for the PDU of AT+CMGS */
  SG_AT_URC,       /* unsolicited: +CMTI, +CDSI, RING, +CREG, ... and the
                      two-line +CDS, +CMT, +CBM with their PDU */
  SG_AT_ECHO,      /* a command echoed back (a line that starts "AT") */
  SG_AT_OVERLONG   /* a line longer than SG_AT_LINE_MAX, dropped */
} sg_at_kind_t;

/* One event. Pointers are into the reader and valid until the next call. */
typedef struct sg_at_event {
  sg_at_kind_t kind;
  int code;         /* CME/CMS ERROR: the number, or -1 for a text */
  const char *line; /* the line, without its end (NUL-terminated) */
  size_t len;
  const char *pdu; /* two-line URCs: the PDU line (hex), else NULL */
  size_t pdu_len;
} sg_at_event_t;

typedef struct sg_at_reader {
  char line[SG_AT_LINE_MAX + 1];
  size_t len;
  bool overlong;   /* the current line passed SG_AT_LINE_MAX */
  bool skip_space; /* after '>', the space of the prompt */
  bool want_pdu;   /* a two-line URC header waits for its PDU line */
  char head[SG_AT_LINE_MAX + 1];
  size_t head_len;
  char expect[16];  /* prefix of the current command's answer, e.g. "+CREG:" */
  uint64_t dropped; /* two-line URCs whose PDU line was missing */
} sg_at_reader_t;

/* Resets the reader to the start of a line, with no expected prefix. */
void sg_at_reader_init(sg_at_reader_t *r);

/* Tells the reader which prefix the answer to the command now in progress
 * carries ("+CREG:" for AT+CREG?), or NULL for none. Only the registration
 * codes need it: "+CREG: 0,1" is the answer to AT+CREG? while "+CREG: 1"
 * is the URC, and the answer form is recognised only while expected. */
void sg_at_reader_expect(sg_at_reader_t *r, const char *prefix);

/* Consumes bytes up to the end of the next event. Returns > 0 (bytes
 * consumed; *ev is filled), or SG_NEED_MORE when all `len` bytes were
 * taken in and no event is complete yet. Never fails: a line too long is
 * dropped and reported as SG_AT_OVERLONG; a +CDS/+CMT header not followed
 * by a hex PDU line is dropped (r->dropped counts it) and the line after it
 * is classified as usual. A line ends at CR or LF; empty lines are skipped;
 * '>' at the start of a line is the prompt (its space is swallowed). */
int sg_at_feed(sg_at_reader_t *r, const uint8_t *buf, size_t len,
               sg_at_event_t *ev);

/* Whether a line starts with `prefix` (e.g. "+CMGS:"); then *rest points
 * after the prefix and its spaces. */
bool sg_at_has_prefix(const char *line, const char *prefix, const char **rest);

#endif
