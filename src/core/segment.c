/* segment.c - choosing the encoding of a text and splitting it into SMS parts
 * with their User Data Headers (3GPP TS 23.040 section 9.2.3.24, TS 23.038
 * section 6.2.1).
 *
 * Planning runs over code points decoded once: each candidate encoding
 * (default alphabet, UCS-2, national shift tables) is counted by a greedy
 * packer that never splits an escape pair or a surrogate pair, the cheapest
 * wins under the tie-breaks of segment.h, and one more pass fills the parts
 * of the winner. This module must never do I/O, allocate or keep state
 * between calls: everything it writes is in the caller's sg_segments_t.
 */
#include "core/segment.h"

#include <limits.h>
#include <string.h>

#include "core/error.h"
#include "core/gsm7.h"
#include "core/smart.h"
#include "core/ucs2.h"
#include "core/utf8.h"

/* Information Element Identifiers, TS 23.040 9.2.3.24. */
#define IEI_CONCAT8 0x00    /* 9.2.3.24.1: ref, total, seq */
#define IEI_CONCAT16 0x08   /* 9.2.3.24.8: ref (2 octets), total, seq */
#define IEI_NAT_SINGLE 0x24 /* 9.2.3.24.15: national language single shift */
#define IEI_NAT_LOCK 0x25   /* 9.2.3.24.16: national language locking shift */

#define TPUD_OCTETS 140 /* TP-UD maximum, TS 23.040 9.2.3.24 */
#define TPUD_SEPTETS 160

/* Default alphabet, UCS-2, and three candidates per national language. */
#define MAX_CANDS (2 + 3 * SG_GSM7_LANG_MAX)

/* Code points encoded per codec call while counting or filling: their
 * septets (2 at most each) or UTF-16 octets (4 at most) go to a small buffer
 * on the stack. */
#define CHUNK_CPS 128

/* Tie-break ranks (lower wins): see segment.h. */
#define RANK_DEFAULT 0u
#define RANK_UCS2 1u
#define RANK_NATIONAL(variant, lang) (2u + (variant)*SG_GSM7_LANG_MAX + (lang))

/* One candidate encoding being counted. */
typedef struct seg_cand {
  sg_encoding_t enc;
  sg_gsm7_charset_t cs;
  unsigned rank;
  bool alive;        /* every code point so far could be carried */
  size_t fail_index; /* when !alive: the code point that could not */
  uint32_t fail_cp;
  size_t room1;    /* units of a part when the text is one part */
  size_t roomn;    /* units of each part when it is several */
  size_t units;    /* septets or UTF-16 units in total */
  size_t chars;    /* code points after smart replacement */
  size_t replaced; /* code points replaced by look-alikes */
  size_t parts;    /* parts of roomn units, greedily packed */
  size_t cur;      /* units in the last of those parts */
} seg_cand_t;

typedef struct seg_plan {
  seg_cand_t c[MAX_CANDS];
  unsigned n;      /* candidates */
  unsigned n_base; /* c[0..n_base): default alphabet and UCS-2 */
  bool smart;
} seg_plan_t;

/* Fills the parts of the chosen candidate. */
typedef struct seg_fill {
  sg_segments_t *out;
  sg_encoding_t enc;
  sg_gsm7_charset_t cs;
  bool smart;
  size_t room;     /* octets of ud per part (2 per UTF-16 unit) */
  size_t fixed;    /* octets of every character when all are alike (1
                      septet, or 1 UTF-16 unit), else 0 */
  unsigned nparts; /* parts the plan counted */
  unsigned part;   /* the part being filled */
} seg_fill_t;

const char *sg_encoding_name(sg_encoding_t enc) {
  switch (enc) {
  case SG_ENC_AUTO:
    return "auto";
  case SG_ENC_GSM7:
    return "gsm7";
  case SG_ENC_UCS2:
    return "ucs2";
  case SG_ENC_8BIT:
    return "8bit";
  }
  return "unknown";
}

int sg_encoding_parse(const char *name, sg_encoding_t *out) {
  static const sg_encoding_t all[] = {SG_ENC_AUTO, SG_ENC_GSM7, SG_ENC_UCS2,
                                      SG_ENC_8BIT};
  if (name == NULL || out == NULL)
    return SG_EINVAL;
  for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
    if (strcmp(name, sg_encoding_name(all[i])) == 0) {
      *out = all[i];
      return 0;
    }
  }
  return SG_EINVAL;
}

/* ---- rooms ------------------------------------------------------------ */

/* Octets of a UDH, UDHL included, or 0 when there is no IE at all. */
static size_t udh_octets(bool concat, bool ref16, unsigned n_national) {
  size_t n = 3u * n_national;
  if (concat)
    n += ref16 ? 6u : 5u;
  return n == 0 ? 0 : n + 1;
}

/* Units of user data left beside a UDH of `udh` octets. For GSM 7-bit the
 * UDH occupies whole septets, fill bits included (TS 23.040 9.2.3.24). */
static size_t room_for(sg_encoding_t enc, size_t udh) {
  switch (enc) {
  case SG_ENC_GSM7:
    return TPUD_SEPTETS - (udh * 8 + 6) / 7;
  case SG_ENC_UCS2:
    return (TPUD_OCTETS - udh) / 2;
  default:
    return TPUD_OCTETS - udh;
  }
}

static unsigned fill_bits(size_t udh_len) {
  return (unsigned)((7 - (udh_len * 8) % 7) % 7);
}

/* ---- options ---------------------------------------------------------- */

static int opts_resolve(const sg_seg_opts_t *in, sg_seg_opts_t *o) {
  if (in == NULL)
    memset(o, 0, sizeof(*o));
  else
    *o = *in;
  if (o->max_parts == 0)
    o->max_parts = SG_SEG_DEFAULT_MAX_PARTS;
  if (o->max_parts > SG_SEG_MAX_PARTS)
    return SG_EINVAL;
  if ((o->languages >> SG_GSM7_LANG_MAX) != 0)
    return SG_EINVAL;
  return 0;
}

static void err_set(sg_seg_error_t *err, int code, size_t offset, uint32_t cp,
                    unsigned needed) {
  if (err == NULL)
    return;
  err->code = code;
  err->offset = offset;
  err->cp = cp;
  err->needed = needed;
}

/* ---- counting ----------------------------------------------------------- */

static void cand_init(seg_cand_t *c, sg_encoding_t enc, sg_gsm7_charset_t cs,
                      unsigned rank, bool ref16) {
  unsigned n_nat = (cs.locking != 0) + (cs.single != 0);
  memset(c, 0, sizeof(*c));
  c->enc = enc;
  c->cs = cs;
  c->rank = rank;
  c->alive = true;
  c->room1 = room_for(enc, udh_octets(false, ref16, n_nat));
  c->roomn = room_for(enc, udh_octets(true, ref16, n_nat));
  c->parts = 1;
}

static void plan_add(seg_plan_t *p, sg_encoding_t enc, uint8_t locking,
                     uint8_t single, unsigned rank, bool ref16) {
  sg_gsm7_charset_t cs = {locking, single};
  cand_init(&p->c[p->n++], enc, cs, rank, ref16);
}

static void plan_add_national(seg_plan_t *p, const sg_seg_opts_t *o) {
  for (unsigned lang = 1; lang < SG_GSM7_LANG_MAX; lang++) {
    if (o->languages != 0 && !(o->languages & (1u << lang)))
      continue;
    bool s = sg_gsm7_has_single((sg_gsm7_lang_t)lang);
    bool l = sg_gsm7_has_locking((sg_gsm7_lang_t)lang);
    if (s)
      plan_add(p, SG_ENC_GSM7, 0, (uint8_t)lang, RANK_NATIONAL(0, lang),
               o->ref16);
    if (l)
      plan_add(p, SG_ENC_GSM7, (uint8_t)lang, 0, RANK_NATIONAL(1, lang),
               o->ref16);
    if (s && l)
      plan_add(p, SG_ENC_GSM7, (uint8_t)lang, (uint8_t)lang,
               RANK_NATIONAL(2, lang), o->ref16);
  }
}

static void plan_init(seg_plan_t *p, const sg_seg_opts_t *o) {
  p->n = 0;
  p->smart = o->smart;
  if (o->encoding != SG_ENC_UCS2)
    plan_add(p, SG_ENC_GSM7, 0, 0, RANK_DEFAULT, o->ref16);
  if (o->encoding != SG_ENC_GSM7)
    plan_add(p, SG_ENC_UCS2, 0, 0, RANK_UCS2, o->ref16);
  p->n_base = p->n;
  if (o->national && o->encoding != SG_ENC_UCS2)
    plan_add_national(p, o);
}

/* Adds one character of `cost` units. A character never straddles parts. */
static inline void cand_add(seg_cand_t *c, size_t cost) {
  c->units += cost;
  c->chars++;
  if (c->cur + cost > c->roomn) {
    c->parts++;
    c->cur = cost;
  } else {
    c->cur += cost;
  }
}

/* Adds `k` characters of one unit each: k times cand_add(c, 1). */
static void cand_add_ones(seg_cand_t *c, size_t k) {
  size_t space = c->roomn - c->cur;
  c->units += k;
  c->chars += k;
  if (k <= space) {
    c->cur += k;
    return;
  }
  k -= space;
  c->parts += (k + c->roomn - 1) / c->roomn;
  c->cur = (k - 1) % c->roomn + 1;
}

/* Adds the `nchars` characters encoded as septets sp[0..w): an escape and
 * the code after it are one character of two septets. */
static void cand_add_septets(seg_cand_t *c, const uint8_t *sp, size_t w,
                             size_t nchars) {
  if (w == nchars) {
    cand_add_ones(c, w);
    return;
  }
  for (size_t i = 0; i < w; i++) {
    if (sp[i] == SG_GSM7_ESC) {
      cand_add(c, 2);
      i++;
    } else {
      cand_add(c, 1);
    }
  }
}

static void cand_kill(seg_cand_t *c, size_t index, uint32_t cp) {
  c->alive = false;
  c->fail_index = index;
  c->fail_cp = cp;
}

/* Counts the look-alike of `cp`, if it has one that `c` can carry whole. */
static bool cand_add_smart(seg_cand_t *c, uint32_t cp) {
  uint32_t r[SG_SMART_MAX];
  uint8_t sp[2 * SG_SMART_MAX];
  size_t w = 0, bad = 0;
  int k = sg_smart_lookup(cp, r);
  if (k < 0 ||
      sg_gsm7_encode(c->cs, r, (size_t)k, sp, sizeof(sp), &w, &bad) != 0)
    return false;
  cand_add_septets(c, sp, w, (size_t)k);
  c->replaced++;
  return true;
}

/* Counts cps[0..n) in the tables of `c`, encoding CHUNK_CPS code points at a
 * time into a small buffer (one table lookup per character, done by the
 * codec), then walking the septets. */
static void cand_feed_gsm7(seg_cand_t *c, bool smart, const uint32_t *cps,
                           size_t n, size_t base) {
  uint8_t sp[2 * CHUNK_CPS];
  size_t i = 0;
  while (i < n) {
    size_t k = n - i < CHUNK_CPS ? n - i : CHUNK_CPS, w = 0, bad = 0;
    int rc = sg_gsm7_encode(c->cs, cps + i, k, sp, sizeof(sp), &w, &bad);
    if (rc == 0) {
      cand_add_septets(c, sp, w, k);
      i += k;
      continue;
    }
    if (rc == SG_ECHARSET) {
      cand_add_septets(c, sp, w, bad);
      i += bad;
    }
    if (rc != SG_ECHARSET || !smart || !cand_add_smart(c, cps[i])) {
      cand_kill(c, base + i, cps[i]);
      return;
    }
    i++;
  }
}

static void cand_feed_ucs2(seg_cand_t *c, const uint32_t *cps, size_t n,
                           size_t base) {
  for (size_t i = 0; i < n; i++) {
    size_t u = sg_ucs2_units(cps[i]);
    if (u == 0) {
      cand_kill(c, base + i, cps[i]);
      return;
    }
    cand_add(c, u);
  }
}

/* Counts cps[0..n) (the code points from index `base` of the text) for the
 * candidates c[from..to). */
static void plan_feed(seg_plan_t *p, unsigned from, unsigned to,
                      const uint32_t *cps, size_t n, size_t base) {
  for (unsigned k = from; k < to; k++) {
    seg_cand_t *c = &p->c[k];
    if (!c->alive)
      continue;
    if (c->enc == SG_ENC_UCS2)
      cand_feed_ucs2(c, cps, n, base);
    else
      cand_feed_gsm7(c, p->smart, cps, n, base);
  }
}

/* True when the default alphabet carried the whole text without look-alikes.
 * UCS-2 cannot then need fewer parts: a part of 153 (or 152) septets that is
 * not the last holds at least 76 characters, one of 67 (or 66) UTF-16 units
 * at most 67, and on a tie the default alphabet wins. */
static bool plan_default_plain(const seg_plan_t *p) {
  const seg_cand_t *d = &p->c[0];
  return d->enc == SG_ENC_GSM7 && d->alive && d->replaced == 0;
}

/* True when, besides, every character took one septet: no national table
 * can then need fewer parts (each costs at least a septet per character and
 * leaves no more room), and on a tie the default alphabet wins. */
static bool plan_default_unbeatable(const seg_plan_t *p) {
  return plan_default_plain(p) && p->c[0].units == p->c[0].chars;
}

/* Counts a whole text, skipping the candidates that cannot win: UCS-2 when
 * the default alphabet carries the text, the national tables when it carries
 * it at one septet per character. The choice is the same as if every
 * candidate had been counted. */
static void plan_feed_whole(seg_plan_t *p, const uint32_t *cps, size_t n) {
  plan_feed(p, 0, 1, cps, n, 0);
  if (plan_default_plain(p) && p->n_base == 2)
    p->c[1].alive = false;
  else
    plan_feed(p, 1, p->n_base, cps, n, 0);
  if (plan_default_unbeatable(p)) {
    for (unsigned k = p->n_base; k < p->n; k++)
      p->c[k].alive = false;
    return;
  }
  plan_feed(p, p->n_base, p->n, cps, n, 0);
}

static size_t cand_parts(const seg_cand_t *c) {
  return c->units <= c->room1 ? 1 : c->parts;
}

/* The cheapest living candidate with (or without) look-alike replacements. */
static const seg_cand_t *plan_pick(const seg_plan_t *p, bool with_replaced) {
  const seg_cand_t *best = NULL;
  for (unsigned k = 0; k < p->n; k++) {
    const seg_cand_t *c = &p->c[k];
    if (!c->alive || (c->replaced > 0) != with_replaced)
      continue;
    if (best == NULL || cand_parts(c) < cand_parts(best) ||
        (cand_parts(c) == cand_parts(best) && c->rank < best->rank))
      best = c;
  }
  return best;
}

/* SG_ECHARSET: names the character at which the last GSM candidate failed
 * (the one that got furthest into the text). */
static int plan_charset_error(const seg_plan_t *p, sg_seg_error_t *err) {
  const seg_cand_t *worst = NULL;
  for (unsigned k = 0; k < p->n; k++) {
    const seg_cand_t *c = &p->c[k];
    if (c->enc == SG_ENC_GSM7 &&
        (worst == NULL || c->fail_index > worst->fail_index))
      worst = c;
  }
  if (worst != NULL)
    err_set(err, SG_ECHARSET, worst->fail_index, worst->fail_cp, 0);
  else
    err_set(err, SG_ECHARSET, 0, 0, 0);
  return SG_ECHARSET;
}

/* Chooses the candidate to send: look-alikes are used only when they save
 * parts. Returns 0, SG_ECHARSET or SG_ETOOMANYPARTS. */
static int plan_choose(const seg_plan_t *p, unsigned max_parts,
                       const seg_cand_t **chosen, sg_seg_error_t *err) {
  const seg_cand_t *plain = plan_pick(p, false);
  const seg_cand_t *c = plain;
  if (p->smart) {
    const seg_cand_t *sm = plan_pick(p, true);
    if (sm != NULL && (plain == NULL || cand_parts(sm) < cand_parts(plain)))
      c = sm;
  }
  if (c == NULL)
    return plan_charset_error(p, err);
  size_t parts = cand_parts(c);
  if (parts > max_parts) {
    err_set(err, SG_ETOOMANYPARTS, 0, 0,
            parts > UINT_MAX ? UINT_MAX : (unsigned)parts);
    return SG_ETOOMANYPARTS;
  }
  *chosen = c;
  return 0;
}

/* ---- filling ---------------------------------------------------------- */

static void fill_init(seg_fill_t *f, sg_segments_t *out, const seg_cand_t *c) {
  size_t nparts = cand_parts(c);
  size_t room = nparts == 1 ? c->room1 : c->roomn;
  f->out = out;
  f->enc = c->enc;
  f->cs = c->cs;
  f->smart = c->replaced > 0;
  f->room = c->enc == SG_ENC_UCS2 ? 2 * room : room;
  f->fixed = c->units != c->chars ? 0 : c->enc == SG_ENC_UCS2 ? 2 : 1;
  f->nparts = (unsigned)nparts;
  f->part = 0;
  for (unsigned i = 0; i < f->nparts; i++) {
    out->parts[i].udh_len = 0;
    out->parts[i].ud_len = 0;
    out->parts[i].chars = 0;
  }
}

/* Octets of the character starting at b[0]: an escape pair in septets, a
 * surrogate pair (high surrogate D800-DBFF first) in UTF-16BE. */
static inline size_t char_octets(bool utf16, const uint8_t *b) {
  if (utf16)
    return (b[0] & 0xFC) == 0xD8 ? 4 : 2;
  return b[0] == SG_GSM7_ESC ? 2 : 1;
}

/* Appends encoded characters b[0..len) to the parts, moving to the next
 * part before a character that does not fit whole. The plan counted the
 * same packing, so running past the counted parts means the codecs disagree
 * with themselves: SG_EINVAL. */
static int fill_put(seg_fill_t *f, const uint8_t *b, size_t len) {
  bool utf16 = f->enc == SG_ENC_UCS2;
  size_t i = 0;
  while (i < len) {
    sg_seg_part_t *pt = &f->out->parts[f->part];
    size_t space = f->room - pt->ud_len, j = i, chars = 0;
    if (f->fixed != 0) {
      j = i + (len - i < space ? len - i : space);
      chars = (j - i) / f->fixed;
    }
    while (f->fixed == 0 && j < len) {
      size_t k = char_octets(utf16, b + j);
      if (j - i + k > space)
        break;
      j += k;
      chars++;
    }
    memcpy(pt->ud + pt->ud_len, b + i, j - i);
    pt->ud_len += j - i;
    pt->chars += chars;
    i = j;
    if (i < len && ++f->part >= f->nparts)
      return SG_EINVAL;
  }
  return 0;
}

/* Puts the look-alike of `cp` (the plan found that it fits). */
static int fill_smart(seg_fill_t *f, uint32_t cp) {
  uint32_t r[SG_SMART_MAX];
  uint8_t sp[2 * SG_SMART_MAX];
  size_t w = 0, bad = 0;
  int k = sg_smart_lookup(cp, r);
  if (k < 0)
    return SG_ECHARSET;
  int rc = sg_gsm7_encode(f->cs, r, (size_t)k, sp, sizeof(sp), &w, &bad);
  return rc != 0 ? rc : fill_put(f, sp, w);
}

static int fill_gsm7(seg_fill_t *f, const uint32_t *cps, size_t n) {
  uint8_t sp[2 * CHUNK_CPS];
  size_t i = 0;
  while (i < n) {
    size_t k = n - i < CHUNK_CPS ? n - i : CHUNK_CPS, w = 0, bad = 0;
    int rc = sg_gsm7_encode(f->cs, cps + i, k, sp, sizeof(sp), &w, &bad);
    if (rc != 0 && rc != SG_ECHARSET)
      return rc;
    int prc = fill_put(f, sp, w);
    if (prc != 0)
      return prc;
    if (rc == 0) {
      i += k;
      continue;
    }
    i += bad;
    if (!f->smart)
      return SG_ECHARSET;
    if ((rc = fill_smart(f, cps[i])) != 0)
      return rc;
    i++;
  }
  return 0;
}

static int fill_ucs2(seg_fill_t *f, const uint32_t *cps, size_t n) {
  uint8_t b[4 * CHUNK_CPS];
  for (size_t i = 0; i < n; i += CHUNK_CPS) {
    size_t k = n - i < CHUNK_CPS ? n - i : CHUNK_CPS, nb = 0, bad = 0;
    int rc = sg_ucs2_encode(cps + i, k, b, sizeof(b), &nb, &bad);
    if (rc == 0)
      rc = fill_put(f, b, nb);
    if (rc != 0)
      return rc;
  }
  return 0;
}

static int fill_feed(seg_fill_t *f, const uint32_t *cps, size_t n) {
  return f->enc == SG_ENC_UCS2 ? fill_ucs2(f, cps, n) : fill_gsm7(f, cps, n);
}

/* Builds the UDH of part `seq` (1-based) of `total`: concatenation first
 * when there are several parts, then the national shift IEIs, which every
 * part carries (TS 23.040 9.2.3.24.15/16). Returns its length with UDHL, or
 * 0 when the part needs no UDH. */
static size_t udh_build(uint8_t *udh, bool ref16, uint16_t ref, unsigned total,
                        unsigned seq, sg_gsm7_charset_t cs) {
  size_t n = 1;
  if (total > 1 && ref16) {
    const uint8_t ie[] = {IEI_CONCAT16,        4,
                          (uint8_t)(ref >> 8), (uint8_t)(ref & 0xFF),
                          (uint8_t)total,      (uint8_t)seq};
    memcpy(udh + n, ie, sizeof(ie));
    n += sizeof(ie);
  } else if (total > 1) {
    const uint8_t ie[] = {IEI_CONCAT8, 3, (uint8_t)(ref & 0xFF), (uint8_t)total,
                          (uint8_t)seq};
    memcpy(udh + n, ie, sizeof(ie));
    n += sizeof(ie);
  }
  if (cs.single != 0) {
    const uint8_t ie[] = {IEI_NAT_SINGLE, 1, cs.single};
    memcpy(udh + n, ie, sizeof(ie));
    n += sizeof(ie);
  }
  if (cs.locking != 0) {
    const uint8_t ie[] = {IEI_NAT_LOCK, 1, cs.locking};
    memcpy(udh + n, ie, sizeof(ie));
    n += sizeof(ie);
  }
  if (n == 1)
    return 0;
  udh[0] = (uint8_t)(n - 1);
  return n;
}

static int fill_finish(seg_fill_t *f, const seg_cand_t *c,
                       const sg_seg_opts_t *o) {
  sg_segments_t *out = f->out;
  if (f->part + 1 != f->nparts)
    return SG_EINVAL; /* the plan and the fill disagree */
  for (unsigned i = 0; i < f->nparts; i++) {
    sg_seg_part_t *pt = &out->parts[i];
    pt->udh_len = udh_build(pt->udh, o->ref16, o->ref, f->nparts, i + 1, c->cs);
  }
  out->encoding = c->enc;
  out->charset = c->cs;
  out->chars = c->chars;
  out->units = c->units;
  out->replaced = c->replaced;
  out->nparts = f->nparts;
  return 0;
}

/* ---- entry points ----------------------------------------------------- */

static int check_text_opts(const sg_seg_opts_t *o) {
  if (o->encoding != SG_ENC_AUTO && o->encoding != SG_ENC_GSM7 &&
      o->encoding != SG_ENC_UCS2)
    return SG_EINVAL;
  return 0;
}

static int check_scalars(const uint32_t *cps, size_t n, sg_seg_error_t *err) {
  for (size_t i = 0; i < n; i++) {
    uint32_t cp = cps[i];
    if ((cp >= 0xD800 && cp <= 0xDFFF) || cp > 0x10FFFF) {
      err_set(err, SG_EILSEQ, i, cp, 0);
      return SG_EILSEQ;
    }
  }
  return 0;
}

/* Plans and fills a text whose code points are all in `cps`. */
static int segment_whole(const uint32_t *cps, size_t n, const sg_seg_opts_t *o,
                         sg_segments_t *out, sg_seg_error_t *err) {
  seg_plan_t plan;
  seg_fill_t fill;
  const seg_cand_t *c = NULL;
  plan_init(&plan, o);
  plan_feed_whole(&plan, cps, n);
  int rc = plan_choose(&plan, o->max_parts, &c, err);
  if (rc != 0)
    return rc;
  fill_init(&fill, out, c);
  rc = fill_feed(&fill, cps, n);
  if (rc == 0)
    rc = fill_finish(&fill, c, o);
  if (rc != 0)
    err_set(err, rc, 0, 0, 0);
  return rc;
}

int sg_segment_cps(const uint32_t *cps, size_t n, const sg_seg_opts_t *opts,
                   sg_segments_t *out, sg_seg_error_t *err) {
  sg_seg_opts_t o;
  err_set(err, 0, 0, 0, 0);
  int rc = opts_resolve(opts, &o);
  if (rc == 0)
    rc = check_text_opts(&o);
  if (rc == 0 && (out == NULL || (cps == NULL && n > 0)))
    rc = SG_EINVAL;
  if (rc != 0) {
    err_set(err, rc, 0, 0, 0);
    return rc;
  }
  rc = check_scalars(cps, n, err);
  if (rc != 0)
    return rc;
  return segment_whole(cps, n, &o, out, err);
}

/* Decodes the next chunk (at most SG_SEG_MAX_CHARS code points) of
 * utf8[*off..len) into out->scratch and advances *off past it. */
static int decode_chunk(const uint8_t *utf8, size_t len, size_t *off,
                        sg_segments_t *out, size_t *n, sg_seg_error_t *err) {
  size_t eoff = 0;
  *n = 0;
  int rc = sg_utf8_decode(utf8 + *off, len - *off, out->scratch,
                          SG_SEG_MAX_CHARS, n, &eoff);
  if (rc == 0) {
    *off = len;
    return 0;
  }
  if (rc == SG_ENOSPC) {
    size_t used = 0;
    for (size_t i = 0; i < *n; i++)
      used += sg_utf8_len(out->scratch[i]);
    if (used == 0) { /* cannot happen: the scratch holds many code points */
      err_set(err, SG_EINVAL, *off, 0, 0);
      return SG_EINVAL;
    }
    *off += used;
    return 0;
  }
  if (rc == SG_EILSEQ || rc == SG_ETRUNC)
    err_set(err, rc, *off + eoff, 0, 0);
  else
    err_set(err, rc, 0, 0, 0);
  return rc;
}

/* A text longer than the scratch: counted chunk by chunk (it almost always
 * needs more than SG_SEG_MAX_PARTS parts; if smart encoding dropped enough
 * invisible characters for it to fit, the chunks are decoded once more to
 * fill the parts). */
static int segment_chunked(const uint8_t *utf8, size_t len,
                           const sg_seg_opts_t *o, sg_segments_t *out,
                           sg_seg_error_t *err) {
  seg_plan_t plan;
  seg_fill_t fill;
  const seg_cand_t *c = NULL;
  size_t off = 0, base = 0, n = 0;
  int rc;
  plan_init(&plan, o);
  while (off < len) {
    if ((rc = decode_chunk(utf8, len, &off, out, &n, err)) != 0)
      return rc;
    plan_feed(&plan, 0, plan.n, out->scratch, n, base);
    base += n;
  }
  if ((rc = plan_choose(&plan, o->max_parts, &c, err)) != 0)
    return rc;
  fill_init(&fill, out, c);
  for (off = 0; off < len;) {
    if ((rc = decode_chunk(utf8, len, &off, out, &n, err)) != 0)
      return rc;
    if ((rc = fill_feed(&fill, out->scratch, n)) != 0)
      break;
  }
  if (rc == 0)
    rc = fill_finish(&fill, c, o);
  if (rc != 0)
    err_set(err, rc, 0, 0, 0);
  return rc;
}

int sg_segment_text(const uint8_t *utf8, size_t len, const sg_seg_opts_t *opts,
                    sg_segments_t *out, sg_seg_error_t *err) {
  sg_seg_opts_t o;
  size_t off = 0, n = 0;
  err_set(err, 0, 0, 0, 0);
  int rc = opts_resolve(opts, &o);
  if (rc == 0)
    rc = check_text_opts(&o);
  if (rc == 0 && (out == NULL || (utf8 == NULL && len > 0)))
    rc = SG_EINVAL;
  if (rc != 0) {
    err_set(err, rc, 0, 0, 0);
    return rc;
  }
  if ((rc = decode_chunk(utf8, len, &off, out, &n, err)) != 0)
    return rc;
  if (off < len)
    return segment_chunked(utf8, len, &o, out, err);
  return segment_whole(out->scratch, n, &o, out, err);
}

int sg_segment_binary(const uint8_t *data, size_t len,
                      const sg_seg_opts_t *opts, sg_segments_t *out,
                      sg_seg_error_t *err) {
  sg_seg_opts_t o;
  const sg_gsm7_charset_t none = {0, 0};
  err_set(err, 0, 0, 0, 0);
  int rc = opts_resolve(opts, &o);
  if (rc == 0 && (out == NULL || (data == NULL && len > 0)))
    rc = SG_EINVAL;
  if (rc != 0) {
    err_set(err, rc, 0, 0, 0);
    return rc;
  }
  size_t room1 = room_for(SG_ENC_8BIT, 0);
  size_t roomn = room_for(SG_ENC_8BIT, udh_octets(true, o.ref16, 0));
  size_t nparts = len <= room1 ? 1 : (len + roomn - 1) / roomn;
  if (nparts > o.max_parts) {
    err_set(err, SG_ETOOMANYPARTS, 0, 0,
            nparts > UINT_MAX ? UINT_MAX : (unsigned)nparts);
    return SG_ETOOMANYPARTS;
  }
  size_t room = nparts == 1 ? room1 : roomn;
  for (size_t i = 0; i < nparts; i++) {
    sg_seg_part_t *pt = &out->parts[i];
    size_t at = i * room, k = len - at < room ? len - at : room;
    pt->udh_len = udh_build(pt->udh, o.ref16, o.ref, (unsigned)nparts,
                            (unsigned)i + 1, none);
    if (k > 0)
      memcpy(pt->ud, data + at, k);
    pt->ud_len = k;
    pt->chars = k;
  }
  out->encoding = SG_ENC_8BIT;
  out->charset = none;
  out->chars = out->units = len;
  out->replaced = 0;
  out->nparts = (unsigned)nparts;
  return 0;
}

int sg_segment_tpud(const sg_segments_t *segs, unsigned i, uint8_t *out,
                    size_t cap, size_t *n_out, unsigned *udl) {
  if (segs == NULL || out == NULL || n_out == NULL || udl == NULL ||
      i >= segs->nparts || i >= SG_SEG_MAX_PARTS)
    return SG_EINVAL;
  const sg_seg_part_t *pt = &segs->parts[i];
  if (pt->udh_len > SG_SEG_UDH_MAX || pt->ud_len > SG_SEG_UD_MAX)
    return SG_EINVAL;
  if (segs->encoding != SG_ENC_GSM7) {
    size_t need = pt->udh_len + pt->ud_len;
    if (need > TPUD_OCTETS)
      return SG_EINVAL;
    if (need > cap)
      return SG_ENOSPC;
    memcpy(out, pt->udh, pt->udh_len);
    memcpy(out + pt->udh_len, pt->ud, pt->ud_len);
    *n_out = need;
    *udl = (unsigned)need;
    return 0;
  }
  unsigned fill = pt->udh_len > 0 ? fill_bits(pt->udh_len) : 0;
  size_t udh_septets = (pt->udh_len * 8 + fill) / 7;
  size_t packed = (fill + 7 * pt->ud_len + 7) / 8;
  if (udh_septets + pt->ud_len > TPUD_SEPTETS)
    return SG_EINVAL;
  if (pt->udh_len + packed > cap)
    return SG_ENOSPC;
  size_t np = 0;
  memcpy(out, pt->udh, pt->udh_len);
  int rc = sg_gsm7_pack(pt->ud, pt->ud_len, fill, out + pt->udh_len,
                        cap - pt->udh_len, &np);
  if (rc != 0)
    return rc;
  *n_out = pt->udh_len + np;
  *udl = (unsigned)(udh_septets + pt->ud_len);
  return 0;
}
