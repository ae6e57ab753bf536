/* smart.c - the table of look-alike replacements used by smart encoding.
 *
 * Each entry maps one code point outside the GSM 7-bit alphabet (TS 23.038
 * section 6.2.1) to a short plain-ASCII stand-in that is inside it: typographic
 * quotes to straight quotes, dashes and the minus sign to '-', the many
 * Unicode spaces to ' ', the ellipsis to "...", invisible format characters
 * to nothing. Letters are never changed: a replacement must not alter what a
 * word says, only how punctuation looks. This module must never do I/O,
 * allocate or keep state; the decision to replace belongs to segment.c.
 */
#include "core/smart.h"

typedef struct smart_entry {
  uint32_t cp;
  char repl[SG_SMART_MAX + 1]; /* ASCII, NUL-terminated; "" drops the cp */
} smart_entry_t;

/* Sorted by code point (binary search below). */
static const smart_entry_t smart_table[] = {
    {0x0060, "'"},   /* GRAVE ACCENT (not in the GSM alphabet) */
    {0x00A0, " "},   /* NO-BREAK SPACE */
    {0x00AB, "\""},  /* LEFT-POINTING DOUBLE ANGLE QUOTATION MARK */
    {0x00AD, ""},    /* SOFT HYPHEN (invisible) */
    {0x00B4, "'"},   /* ACUTE ACCENT */
    {0x00BB, "\""},  /* RIGHT-POINTING DOUBLE ANGLE QUOTATION MARK */
    {0x00D7, "x"},   /* MULTIPLICATION SIGN */
    {0x02B9, "'"},   /* MODIFIER LETTER PRIME */
    {0x02BA, "\""},  /* MODIFIER LETTER DOUBLE PRIME */
    {0x02BB, "'"},   /* MODIFIER LETTER TURNED COMMA */
    {0x02BC, "'"},   /* MODIFIER LETTER APOSTROPHE */
    {0x02C6, "^"},   /* MODIFIER LETTER CIRCUMFLEX ACCENT */
    {0x02C8, "'"},   /* MODIFIER LETTER VERTICAL LINE */
    {0x02DC, "~"},   /* SMALL TILDE */
    {0x2000, " "},   /* EN QUAD */
    {0x2001, " "},   /* EM QUAD */
    {0x2002, " "},   /* EN SPACE */
    {0x2003, " "},   /* EM SPACE */
    {0x2004, " "},   /* THREE-PER-EM SPACE */
    {0x2005, " "},   /* FOUR-PER-EM SPACE */
    {0x2006, " "},   /* SIX-PER-EM SPACE */
    {0x2007, " "},   /* FIGURE SPACE */
    {0x2008, " "},   /* PUNCTUATION SPACE */
    {0x2009, " "},   /* THIN SPACE */
    {0x200A, " "},   /* HAIR SPACE */
    {0x200B, ""},    /* ZERO WIDTH SPACE */
    {0x200C, ""},    /* ZERO WIDTH NON-JOINER */
    {0x200D, ""},    /* ZERO WIDTH JOINER */
    {0x2010, "-"},   /* HYPHEN */
    {0x2011, "-"},   /* NON-BREAKING HYPHEN */
    {0x2012, "-"},   /* FIGURE DASH */
    {0x2013, "-"},   /* EN DASH */
    {0x2014, "-"},   /* EM DASH */
    {0x2015, "-"},   /* HORIZONTAL BAR */
    {0x2018, "'"},   /* LEFT SINGLE QUOTATION MARK */
    {0x2019, "'"},   /* RIGHT SINGLE QUOTATION MARK */
    {0x201A, "'"},   /* SINGLE LOW-9 QUOTATION MARK */
    {0x201B, "'"},   /* SINGLE HIGH-REVERSED-9 QUOTATION MARK */
    {0x201C, "\""},  /* LEFT DOUBLE QUOTATION MARK */
    {0x201D, "\""},  /* RIGHT DOUBLE QUOTATION MARK */
    {0x201E, "\""},  /* DOUBLE LOW-9 QUOTATION MARK */
    {0x201F, "\""},  /* DOUBLE HIGH-REVERSED-9 QUOTATION MARK */
    {0x2022, "-"},   /* BULLET */
    {0x2023, "-"},   /* TRIANGULAR BULLET */
    {0x2024, "."},   /* ONE DOT LEADER */
    {0x2026, "..."}, /* HORIZONTAL ELLIPSIS */
    {0x2028, "\n"},  /* LINE SEPARATOR */
    {0x2029, "\n"},  /* PARAGRAPH SEPARATOR */
    {0x202F, " "},   /* NARROW NO-BREAK SPACE */
    {0x2032, "'"},   /* PRIME */
    {0x2033, "\""},  /* DOUBLE PRIME */
    {0x2039, "'"},   /* SINGLE LEFT-POINTING ANGLE QUOTATION MARK */
    {0x203A, "'"},   /* SINGLE RIGHT-POINTING ANGLE QUOTATION MARK */
    {0x2043, "-"},   /* HYPHEN BULLET */
    {0x2044, "/"},   /* FRACTION SLASH */
    {0x205F, " "},   /* MEDIUM MATHEMATICAL SPACE */
    {0x2060, ""},    /* WORD JOINER */
    {0x2212, "-"},   /* MINUS SIGN */
    {0x2215, "/"},   /* DIVISION SLASH */
    {0x2217, "*"},   /* ASTERISK OPERATOR */
    {0x2219, "-"},   /* BULLET OPERATOR */
    {0x223C, "~"},   /* TILDE OPERATOR */
    {0x25CF, "-"},   /* BLACK CIRCLE (used as a bullet) */
    {0x3000, " "},   /* IDEOGRAPHIC SPACE */
    {0xFEFF, ""},    /* ZERO WIDTH NO-BREAK SPACE (byte order mark) */
};

#define SMART_N (sizeof(smart_table) / sizeof(smart_table[0]))

static const smart_entry_t *smart_find(uint32_t cp) {
  size_t lo = 0, hi = SMART_N;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if (smart_table[mid].cp == cp)
      return &smart_table[mid];
    if (smart_table[mid].cp < cp)
      lo = mid + 1;
    else
      hi = mid;
  }
  return NULL;
}

int sg_smart_lookup(uint32_t cp, uint32_t out[SG_SMART_MAX]) {
  /* Every entry is at or above U+0060; most text is below it. */
  if (cp < 0x60)
    return -1;
  const smart_entry_t *e = smart_find(cp);
  if (e == NULL)
    return -1;
  int n = 0;
  while (e->repl[n] != '\0') {
    if (out != NULL)
      out[n] = (uint8_t)e->repl[n];
    n++;
  }
  return n;
}

size_t sg_smart_count(void) {
  return SMART_N;
}

uint32_t sg_smart_entry(size_t i) {
  return i < SMART_N ? smart_table[i].cp : 0;
}
