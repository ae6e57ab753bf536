/* receipt.c - formats and parses the SMSC delivery receipt text of SMPP 3.4
 * Appendix B and maps its stat to the message_state values of section
 * 5.2.28 / 5.3.2.35.
 *
 * The formatter writes the Appendix B example format exactly; the parser
 * accepts the variants real SMSCs send (see receipt.h). This is a pure codec:
 * it must never do I/O, log, allocate, read past the length it is given, or
 * depend on the C locale (all character classes here are ASCII).
 */
#include "smpp/receipt.h"

#include <stdint.h>
#include <string.h>

#include "core/error.h"

/* ---- tables ------------------------------------------------------------ */

/* The canonical names, indexed by sg_receipt_stat_t (Appendix B). */
static const char *const stat_names[] = {
    NULL,      "ENROUTE", "DELIVRD", "EXPIRED", "DELETED",
    "UNDELIV", "ACCEPTD", "UNKNOWN", "REJECTD",
};

/* Spellings of stat seen from SMSCs, upper case with '_', '-' and ' '
 * removed (the parser normalises the value the same way). */
static const struct {
  const char *text;
  sg_receipt_stat_t stat;
} stat_variants[] = {
    {"ENROUTE", SG_RECEIPT_ENROUTE},       {"BUFFRED", SG_RECEIPT_ENROUTE},
    {"BUFFERD", SG_RECEIPT_ENROUTE},       {"BUFFERED", SG_RECEIPT_ENROUTE},
    {"DELIVRD", SG_RECEIPT_DELIVRD},       {"DELIVERED", SG_RECEIPT_DELIVRD},
    {"DELIVERD", SG_RECEIPT_DELIVRD},      {"EXPIRED", SG_RECEIPT_EXPIRED},
    {"EXPIRD", SG_RECEIPT_EXPIRED},        {"DELETED", SG_RECEIPT_DELETED},
    {"DELETD", SG_RECEIPT_DELETED},        {"UNDELIV", SG_RECEIPT_UNDELIV},
    {"UNDELIVERABLE", SG_RECEIPT_UNDELIV}, {"UNDELIVERED", SG_RECEIPT_UNDELIV},
    {"FAILED", SG_RECEIPT_UNDELIV},        {"ACCEPTD", SG_RECEIPT_ACCEPTD},
    {"ACCEPTED", SG_RECEIPT_ACCEPTD},      {"ACKED", SG_RECEIPT_ACCEPTD},
    {"UNKNOWN", SG_RECEIPT_UNKNOWN},       {"UNKNWN", SG_RECEIPT_UNKNOWN},
    {"REJECTD", SG_RECEIPT_REJECTD},       {"REJECTED", SG_RECEIPT_REJECTD},
};

/* The fields of a receipt as the scanner sees them. KEY_OTHER is any other
 * "word:" (a vendor extension), KEY_NONE a word that is not a key. */
enum receipt_key {
  KEY_NONE = -1,
  KEY_OTHER = 0,
  KEY_ID,
  KEY_SUB,
  KEY_DLVRD,
  KEY_SUBMIT_DATE,
  KEY_DONE_DATE,
  KEY_STAT,
  KEY_ERR,
  KEY_TEXT
};

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

/* ---- ASCII helpers ----------------------------------------------------- */

/* Character classes, one lookup each: the scanner reads a receipt's
 * characters several times (as words, as possible keys, as values).
 * C_WS is white space between fields; NUL is included because some SMSCs
 * pad or terminate short_message with it. C_WORD is a key's characters:
 * ASCII letters, digits, '_' and '-'. */
enum { C_WS = 1, C_WORD = 2, C_DIGIT = 4 };
/* clang-format off */
static const uint8_t char_class[256] = {
    1, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0,
    6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 0, 0, 0, 0, 0, 0,
    0, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,
    2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 0, 0, 0, 0, 2,
    0, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,
    2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
};
/* clang-format on */

static bool is_ws(uint8_t c) {
  return (char_class[c] & C_WS) != 0;
}

static bool is_digit(uint8_t c) {
  return (char_class[c] & C_DIGIT) != 0;
}

static bool is_word(uint8_t c) {
  return (char_class[c] & C_WORD) != 0;
}

static uint8_t to_lower(uint8_t c) {
  return (c >= 'A' && c <= 'Z') ? (uint8_t)(c + 32) : c;
}

static uint8_t to_upper(uint8_t c) {
  return (c >= 'a' && c <= 'z') ? (uint8_t)(c - 32) : c;
}

/* Whether buf[0..n) equals the lower-case `word` (wl octets) ignoring ASCII
 * case. */
static bool word_eq(const uint8_t *buf, size_t n, const char *word, size_t wl) {
  if (n != wl)
    return false;
  for (size_t i = 0; i < n; i++)
    if (to_lower(buf[i]) != (uint8_t)word[i])
      return false;
  return true;
}

/* The key a one-word spelling w[0..n) names, ignoring ASCII case, or
 * KEY_OTHER. "submit date" and "done date" with white space between the
 * words are matched in key_at. Chosen by length first: the scanner asks
 * this of every "word:" of a receipt. */
static enum receipt_key key_word(const uint8_t *w, size_t n) {
  switch (n) {
  case 2:
    return word_eq(w, n, "id", 2) ? KEY_ID : KEY_OTHER;
  case 3:
    return word_eq(w, n, "sub", 3)   ? KEY_SUB
           : word_eq(w, n, "err", 3) ? KEY_ERR
                                     : KEY_OTHER;
  case 4:
    return word_eq(w, n, "stat", 4)   ? KEY_STAT
           : word_eq(w, n, "text", 4) ? KEY_TEXT
                                      : KEY_OTHER;
  case 5:
    return word_eq(w, n, "dlvrd", 5) ? KEY_DLVRD : KEY_OTHER;
  case 8:
    return word_eq(w, n, "donedate", 8) ? KEY_DONE_DATE : KEY_OTHER;
  case 9:
    return word_eq(w, n, "done_date", 9) || word_eq(w, n, "done-date", 9)
               ? KEY_DONE_DATE
               : KEY_OTHER;
  case 10:
    return word_eq(w, n, "submitdate", 10) ? KEY_SUBMIT_DATE : KEY_OTHER;
  case 11:
    return word_eq(w, n, "submit_date", 11) || word_eq(w, n, "submit-date", 11)
               ? KEY_SUBMIT_DATE
               : KEY_OTHER;
  default:
    return KEY_OTHER;
  }
}

static size_t skip_ws(const uint8_t *buf, size_t len, size_t pos) {
  while (pos < len && is_ws(buf[pos]))
    pos++;
  return pos;
}

static size_t skip_blanks(const uint8_t *buf, size_t len, size_t pos) {
  while (pos < len && (buf[pos] == ' ' || buf[pos] == '\t'))
    pos++;
  return pos;
}

static size_t word_end(const uint8_t *buf, size_t len, size_t pos) {
  while (pos < len && is_word(buf[pos]))
    pos++;
  return pos;
}

/* ---- stat and message_state -------------------------------------------- */

const char *sg_receipt_stat_name(sg_receipt_stat_t stat) {
  if ((int)stat < SG_RECEIPT_ENROUTE || (int)stat > SG_RECEIPT_REJECTD)
    return NULL;
  return stat_names[stat];
}

int sg_receipt_stat_to_message_state(sg_receipt_stat_t stat) {
  switch (stat) {
  case SG_RECEIPT_ENROUTE:
    return SG_MESSAGE_STATE_ENROUTE;
  case SG_RECEIPT_DELIVRD:
    return SG_MESSAGE_STATE_DELIVERED;
  case SG_RECEIPT_EXPIRED:
    return SG_MESSAGE_STATE_EXPIRED;
  case SG_RECEIPT_DELETED:
    return SG_MESSAGE_STATE_DELETED;
  case SG_RECEIPT_UNDELIV:
    return SG_MESSAGE_STATE_UNDELIVERABLE;
  case SG_RECEIPT_ACCEPTD:
    return SG_MESSAGE_STATE_ACCEPTED;
  case SG_RECEIPT_UNKNOWN:
    return SG_MESSAGE_STATE_UNKNOWN;
  case SG_RECEIPT_REJECTD:
    return SG_MESSAGE_STATE_REJECTED;
  case SG_RECEIPT_STAT_NONE:
    break;
  }
  return 0;
}

sg_receipt_stat_t sg_receipt_stat_from_message_state(int message_state) {
  switch (message_state) {
  case SG_MESSAGE_STATE_ENROUTE:
    return SG_RECEIPT_ENROUTE;
  case SG_MESSAGE_STATE_DELIVERED:
    return SG_RECEIPT_DELIVRD;
  case SG_MESSAGE_STATE_EXPIRED:
    return SG_RECEIPT_EXPIRED;
  case SG_MESSAGE_STATE_DELETED:
    return SG_RECEIPT_DELETED;
  case SG_MESSAGE_STATE_UNDELIVERABLE:
    return SG_RECEIPT_UNDELIV;
  case SG_MESSAGE_STATE_ACCEPTED:
    return SG_RECEIPT_ACCEPTD;
  case SG_MESSAGE_STATE_UNKNOWN:
    return SG_RECEIPT_UNKNOWN;
  case SG_MESSAGE_STATE_REJECTED:
    return SG_RECEIPT_REJECTD;
  }
  return SG_RECEIPT_STAT_NONE;
}

bool sg_message_state_is_final(int message_state) {
  return message_state >= SG_MESSAGE_STATE_DELIVERED &&
         message_state <= SG_MESSAGE_STATE_REJECTED;
}

bool sg_receipt_stat_is_final(sg_receipt_stat_t stat) {
  return sg_message_state_is_final(sg_receipt_stat_to_message_state(stat));
}

/* Looks a stat value up in stat_variants after normalising it. */
static sg_receipt_stat_t stat_lookup(const uint8_t *v, size_t n) {
  char norm[16];
  size_t k = 0;
  for (size_t i = 0; i < n; i++) {
    if (v[i] == '_' || v[i] == '-' || v[i] == ' ')
      continue;
    if (k == sizeof norm - 1)
      return SG_RECEIPT_STAT_NONE;
    norm[k++] = (char)to_upper(v[i]);
  }
  norm[k] = '\0';
  for (size_t i = 0; i < COUNT(stat_variants); i++)
    if (strcmp(norm, stat_variants[i].text) == 0)
      return stat_variants[i].stat;
  return SG_RECEIPT_STAT_NONE;
}

/* ---- dates --------------------------------------------------------------- */

static bool is_leap(unsigned y) {
  return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static unsigned days_in_month(unsigned y, unsigned m) {
  static const uint8_t dim[12] = {31, 28, 31, 30, 31, 30,
                                  31, 31, 30, 31, 30, 31};
  return (m == 2 && is_leap(y)) ? 29u : dim[m - 1];
}

bool sg_receipt_date_valid(const sg_receipt_date_t *d) {
  if (d == NULL || d->year > 9999 || d->month < 1 || d->month > 12)
    return false;
  if (d->day < 1 || d->day > days_in_month(d->year, d->month))
    return false;
  return d->hour < 24 && d->minute < 60 && d->second < 60;
}

/* Days from 1970-01-01 to y-m-d in the proleptic Gregorian calendar (the
 * era-based method: 400-year eras of 146097 days, years starting in March so
 * that the leap day is last). */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  int64_t era = (y >= 0 ? y : y - 399) / 400;
  unsigned yoe = (unsigned)(y - era * 400);
  unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + (int64_t)doe - 719468;
}

/* The inverse of days_from_civil. */
static void civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d) {
  z += 719468;
  int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  unsigned doe = (unsigned)(z - era * 146097);
  unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  unsigned mp = (5 * doy + 2) / 153;
  *d = doy - (153 * mp + 2) / 5 + 1;
  *m = mp < 10 ? mp + 3 : mp - 9;
  *y = (int64_t)yoe + era * 400 + (*m <= 2);
}

int sg_receipt_date_from_epoch(int64_t secs, bool with_seconds,
                               sg_receipt_date_t *out) {
  if (out == NULL)
    return SG_EINVAL;
  int64_t days = secs / 86400, rem = secs % 86400;
  if (rem < 0) {
    rem += 86400;
    days--;
  }
  int64_t y;
  unsigned m, d;
  civil_from_days(days, &y, &m, &d);
  if (y < 0 || y > 9999)
    return SG_ERANGE;
  *out = (sg_receipt_date_t){
      .year = (uint16_t)y,
      .month = (uint8_t)m,
      .day = (uint8_t)d,
      .hour = (uint8_t)(rem / 3600),
      .minute = (uint8_t)(rem % 3600 / 60),
      .second = with_seconds ? (uint8_t)(rem % 60) : 0,
      .has_seconds = with_seconds,
  };
  return 0;
}

int sg_receipt_date_to_epoch(const sg_receipt_date_t *d, int64_t *secs) {
  if (secs == NULL || !sg_receipt_date_valid(d))
    return SG_EINVAL;
  int64_t days = days_from_civil(d->year, d->month, d->day);
  *secs = days * 86400 + d->hour * 3600 + d->minute * 60 +
          (d->has_seconds ? d->second : 0);
  return 0;
}

/* Value of the n decimal digits at p (n <= 4). */
static unsigned digits(const uint8_t *p, size_t n) {
  unsigned v = 0;
  for (size_t i = 0; i < n; i++)
    v = v * 10 + (unsigned)(p[i] - '0');
  return v;
}

/* Reads a date laid out as [YY|YYYY]MMDDhhmm[ss] (year_digits 2 or 4). */
static bool date_read(const uint8_t *p, size_t year_digits, bool with_seconds,
                      sg_receipt_date_t *out) {
  unsigned y = digits(p, year_digits);
  p += year_digits;
  *out = (sg_receipt_date_t){
      .year = (uint16_t)(year_digits == 2 ? 2000 + y : y),
      .month = (uint8_t)digits(p, 2),
      .day = (uint8_t)digits(p + 2, 2),
      .hour = (uint8_t)digits(p + 4, 2),
      .minute = (uint8_t)digits(p + 6, 2),
      .second = with_seconds ? (uint8_t)digits(p + 8, 2) : 0,
      .has_seconds = with_seconds,
  };
  return sg_receipt_date_valid(out);
}

/* Parses a date of 10, 12 or 14 digits (see sg_receipt_parse). */
static bool date_parse(const uint8_t *v, size_t n, sg_receipt_date_t *out) {
  for (size_t i = 0; i < n; i++)
    if (!is_digit(v[i]))
      return false;
  switch (n) {
  case 10:
    return date_read(v, 2, false, out);
  case 12:
    return date_read(v, 2, true, out) || date_read(v, 4, false, out);
  case 14:
    return date_read(v, 4, true, out);
  }
  return false;
}

/* ---- the scanner -------------------------------------------------------- */

/* Whether a key starts at pos: a word (or "submit"/"done" + white space +
 * "date"), optional blanks, then ':'. Sets *after to the byte after ':'. */
static enum receipt_key key_at(const uint8_t *buf, size_t len, size_t pos,
                               size_t *after) {
  size_t we = word_end(buf, len, pos);
  if (we == pos)
    return KEY_NONE;
  enum receipt_key key = KEY_OTHER;
  bool submit = word_eq(buf + pos, we - pos, "submit", 6);
  if (submit || word_eq(buf + pos, we - pos, "done", 4)) {
    size_t d = skip_ws(buf, len, we);
    if (d > we && len - d >= 4 && word_eq(buf + d, 4, "date", 4) &&
        word_end(buf, len, d) == d + 4) {
      we = d + 4;
      key = submit ? KEY_SUBMIT_DATE : KEY_DONE_DATE;
    }
  }
  size_t colon = skip_blanks(buf, len, we);
  if (colon >= len || buf[colon] != ':')
    return KEY_NONE;
  if (key == KEY_OTHER)
    key = key_word(buf + pos, we - pos);
  *after = colon + 1;
  return key;
}

static bool key_starts(const uint8_t *buf, size_t len, size_t pos) {
  size_t after;
  return key_at(buf, len, pos, &after) != KEY_NONE;
}

/* A value: buf[start..end), and where scanning goes on. */
typedef struct value_span {
  size_t start, end, next;
} value_span_t;

/* End of a stat value: the white space before the next key, or the end. */
static size_t stat_end(const uint8_t *buf, size_t len, size_t pos) {
  while (pos < len) {
    if (!is_ws(buf[pos])) {
      pos++;
      continue;
    }
    size_t nx = skip_ws(buf, len, pos);
    if (nx == len || key_starts(buf, len, nx))
      return pos;
    pos = nx;
  }
  return pos;
}

/* Finds the value of `key` whose text begins at `after` (just past ':'). */
static value_span_t value_at(const uint8_t *buf, size_t len, size_t after,
                             enum receipt_key key) {
  size_t s = skip_ws(buf, len, after);
  value_span_t v = {s, s, s};
  if (key == KEY_TEXT) {
    v.end = len;
    while (v.end > v.start && is_ws(buf[v.end - 1]))
      v.end--;
    v.next = len;
    return v;
  }
  /* "sub: dlvrd:001": an empty value followed by the next key. */
  if (s > after && key_starts(buf, len, s))
    return v;
  if (key == KEY_STAT)
    v.end = stat_end(buf, len, s);
  else
    while (v.end < len && !is_ws(buf[v.end]))
      v.end++;
  v.next = v.end;
  return v;
}

/* Reads 1..9 decimal digits. */
static bool uint_parse(const uint8_t *v, size_t n, uint32_t *out) {
  if (n == 0 || n > 9)
    return false;
  uint32_t x = 0;
  for (size_t i = 0; i < n; i++) {
    if (!is_digit(v[i]))
      return false;
    x = x * 10 + (uint32_t)(v[i] - '0');
  }
  *out = x;
  return true;
}

static void copy_raw(char *dst, size_t cap, const uint8_t *v, size_t n) {
  if (n > cap - 1)
    n = cap - 1;
  memcpy(dst, v, n);
  dst[n] = '\0';
}

static bool store_id(sg_receipt_t *r, const uint8_t *v, size_t n) {
  if (n == 0 || n > SG_RECEIPT_ID_MAX)
    return false;
  copy_raw(r->id, sizeof r->id, v, n);
  return true;
}

static bool store_stat(sg_receipt_t *r, const uint8_t *v, size_t n) {
  copy_raw(r->stat_raw, sizeof r->stat_raw, v, n);
  r->stat = stat_lookup(v, n);
  return r->stat != SG_RECEIPT_STAT_NONE;
}

static bool store_text(sg_receipt_t *r, const uint8_t *v, size_t n) {
  if (n > SG_RECEIPT_TEXT_MAX)
    n = SG_RECEIPT_TEXT_MAX;
  while (n > 0 && is_ws(v[n - 1]))
    n--;
  memcpy(r->text, v, n);
  r->text[n] = '\0';
  r->text_len = n;
  return true;
}

/* Stores one field's value; false when it is unusable. */
static bool store_field(sg_receipt_t *r, enum receipt_key key, const uint8_t *v,
                        size_t n) {
  switch (key) {
  case KEY_ID:
    return store_id(r, v, n);
  case KEY_SUB:
    return uint_parse(v, n, &r->sub);
  case KEY_DLVRD:
    return uint_parse(v, n, &r->dlvrd);
  case KEY_SUBMIT_DATE:
    return date_parse(v, n, &r->submit_date);
  case KEY_DONE_DATE:
    return date_parse(v, n, &r->done_date);
  case KEY_STAT:
    return store_stat(r, v, n);
  case KEY_ERR:
    copy_raw(r->err_raw, sizeof r->err_raw, v, n);
    return uint_parse(v, n, &r->err);
  case KEY_TEXT:
    return store_text(r, v, n);
  default:
    return false;
  }
}

/* The bit of a key in present/malformed (keys are numbered from 1). */
static unsigned key_bit(enum receipt_key key) {
  return 1u << (key - 1);
}

/* Parses the field whose key ends at `after`; returns where to go on. */
static size_t parse_field(const uint8_t *buf, size_t len, size_t after,
                          enum receipt_key key, sg_receipt_t *r) {
  value_span_t v = value_at(buf, len, after, key);
  unsigned bit = key_bit(key);
  if ((r->present | r->malformed) & bit)
    return v.next; /* a repeated key: the first one wins */
  sg_receipt_date_t *date = key == KEY_SUBMIT_DATE ? &r->submit_date
                            : key == KEY_DONE_DATE ? &r->done_date
                                                   : NULL;
  if (store_field(r, key, buf + v.start, v.end - v.start)) {
    r->present |= bit;
  } else {
    r->malformed |= bit;
    if (date != NULL)
      *date = (sg_receipt_date_t){0};
  }
  return v.next;
}

int sg_receipt_parse(const uint8_t *buf, size_t len, sg_receipt_t *out) {
  if (out == NULL || (buf == NULL && len > 0))
    return SG_EINVAL;
  memset(out, 0, sizeof *out);
  bool found = false;
  size_t pos = skip_ws(buf, len, 0);
  while (pos < len) {
    size_t after = pos;
    enum receipt_key key = key_at(buf, len, pos, &after);
    if (key == KEY_NONE) {
      while (pos < len && !is_ws(buf[pos]))
        pos++; /* not a key: skip the word */
    } else if (key == KEY_OTHER) {
      pos = after; /* a vendor field: its value is skipped as words */
    } else {
      found = true;
      pos = parse_field(buf, len, after, key, out);
    }
    pos = skip_ws(buf, len, pos);
  }
  return found ? 0 : SG_EPROTO;
}

/* ---- the formatter ------------------------------------------------------ */

/* An output cursor: writes stop at cap, `len` keeps counting. */
typedef struct out_buf {
  uint8_t *p;
  size_t cap, len;
} out_buf_t;

static void put(out_buf_t *o, const void *s, size_t n) {
  if (o->len < o->cap) {
    size_t room = o->cap - o->len;
    memcpy(o->p + o->len, s, n < room ? n : room);
  }
  o->len += n;
}

static void put_str(out_buf_t *o, const char *s) {
  put(o, s, strlen(s));
}

/* Writes v as exactly `width` zero-padded decimal digits. */
static void put_digits(out_buf_t *o, unsigned v, size_t width) {
  char d[4];
  for (size_t i = width; i-- > 0; v /= 10)
    d[i] = (char)('0' + v % 10);
  put(o, d, width);
}

static void put_date(out_buf_t *o, const sg_receipt_date_t *d) {
  put_digits(o, d->year % 100u, 2);
  put_digits(o, d->month, 2);
  put_digits(o, d->day, 2);
  put_digits(o, d->hour, 2);
  put_digits(o, d->minute, 2);
  if (d->has_seconds)
    put_digits(o, d->second, 2);
}

/* An id the parser reads back unchanged: 1..64 octets, none of them white
 * space (is_ws: the parser ends the id there). */
static bool id_valid(const char *id) {
  size_t n = strnlen(id, SG_RECEIPT_ID_MAX + 1);
  if (n == 0 || n > SG_RECEIPT_ID_MAX)
    return false;
  for (size_t i = 0; i < n; i++)
    if (is_ws((uint8_t)id[i]))
      return false;
  return true;
}

static int format_check(const sg_receipt_t *r) {
  if (!id_valid(r->id) || sg_receipt_stat_name(r->stat) == NULL)
    return SG_EINVAL;
  if (!sg_receipt_date_valid(&r->submit_date) ||
      !sg_receipt_date_valid(&r->done_date))
    return SG_EINVAL;
  if (r->text_len > SG_RECEIPT_TEXT_MAX)
    return SG_EINVAL;
  if (r->sub > 999 || r->dlvrd > 999 || r->err > 999)
    return SG_ERANGE;
  return 0;
}

int sg_receipt_format(const sg_receipt_t *r, uint8_t *out, size_t cap,
                      size_t *out_len) {
  if (r == NULL || (out == NULL && cap > 0))
    return SG_EINVAL;
  int rc = format_check(r);
  if (rc != 0)
    return rc;
  out_buf_t o = {out, cap, 0};
  put_str(&o, "id:");
  put_str(&o, r->id);
  put_str(&o, " sub:");
  put_digits(&o, r->sub, 3);
  put_str(&o, " dlvrd:");
  put_digits(&o, r->dlvrd, 3);
  put_str(&o, " submit date:");
  put_date(&o, &r->submit_date);
  put_str(&o, " done date:");
  put_date(&o, &r->done_date);
  put_str(&o, " stat:");
  put_str(&o, sg_receipt_stat_name(r->stat));
  put_str(&o, " err:");
  put_digits(&o, r->err, 3);
  put_str(&o, " text:");
  put(&o, r->text, r->text_len);
  if (o.len >= cap)
    return SG_ENOSPC;
  out[o.len] = '\0';
  if (out_len != NULL)
    *out_len = o.len;
  return 0;
}
