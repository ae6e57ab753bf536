/* phone.c - phone number validation and normalisation to E.164, at PCRE2
 * JIT speed, with libphonenumber's rules.
 *
 * At start, sg_phone_db_new takes libphonenumber's metadata (through the
 * C++ shim, core/phone_lpn.h) and compiles each region's patterns once.
 * sg_phone_normalize then follows the steps of libphonenumber's
 * PhoneNumberUtil::Parse (ParseHelper, MaybeExtractCountryCode,
 * MaybeStripNationalPrefixAndCarrierCode, TestNumberLength) and of
 * IsValidNumber / GetNumberType (GetRegionCodeForNumberFromRegionList,
 * GetNumberTypeHelper), step for step and in the same order, so that both
 * give the same answer; the functions below name the step they mirror. The
 * differential test holds them to that.
 *
 * It must never allocate, log or block on the matching path, never accept
 * what libphonenumber would not, and never hold mutable state in the db
 * (which threads share): per-thread scratch lives in sg_phone_ctx_t.
 */
#include "core/phone.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "core/error.h"
#include "core/phone_lpn.h"

/* Inputs longer than this are refused before any work (libphonenumber's
 * Java version has the same bound). */
#define PHONE_INPUT_MAX 250
/* libphonenumber's kMinLengthForNsn, kMaxLengthForNsn, and the longest
 * national_prefix_transform_rule we accept. */
#define MIN_NSN 2
#define MAX_NSN 17
#define MAX_RULE 16
#define BUF (PHONE_INPUT_MAX + MAX_RULE + 1)
#define GENERAL SG_PHONE_UNKNOWN /* desc[] index of general_desc */

typedef struct desc {
  pcre2_code *re; /* national_number_pattern, full match; NULL: none */
  uint32_t lengths;
  bool has_lengths;
} desc_t;

typedef struct region {
  char id[4];
  char ccs[4]; /* the calling code in decimal, "44" */
  uint8_t ccs_len;
  uint16_t cc;
  bool same_mobile_and_fixed;
  pcre2_code *idd;     /* international_prefix, anchored at the start */
  pcre2_code *np;      /* national_prefix_for_parsing, anchored */
  uint32_t np_groups;  /* its capturing groups */
  const char *np_rule; /* national_prefix_transform_rule or NULL */
  pcre2_code *leading; /* leading_digits, anchored; NULL: none */
  uint32_t local_lengths;
  desc_t desc[SG_PHONE_TYPE_COUNT];
} region_t;

struct sg_phone_db {
  sg_lpn_metadata_t *md; /* owns the strings np_rule points to */
  region_t *regions;
  size_t n;
  int16_t by_code[26 * 26]; /* "AA".."ZZ" -> region index, or -1 */
  uint16_t cc_first[1000];  /* calling code -> first index in cc_list */
  uint8_t cc_count[1000];   /* calling code -> number of regions */
  uint16_t *cc_list;        /* region indexes, main country first */
  uint32_t max_groups;
  bool jit; /* every pattern is JIT-compiled: call pcre2_jit_match directly */
  pcre2_general_context *gctx;
  pcre2_compile_context *cctx;
};

struct sg_phone_ctx {
  const sg_phone_db_t *db;
  pcre2_match_data *m;
};

/* A digit string being worked on. */
typedef struct num {
  char d[BUF];
  size_t n;
} num_t;

/* ---- Allocation and compilation ----------------------------------------- */

static void *pcre_malloc(PCRE2_SIZE size, void *data) {
  (void)data;
  return sg_malloc(size);
}

static void pcre_free(void *p, void *data) {
  (void)data;
  sg_free(p);
}

/* Compiles `pat` with `opts` (plus $ = end of subject only) and JIT-compiles
 * it when the platform has a JIT (otherwise the interpreter runs it).
 * Returns 0, SG_ENOMEM or SG_EPROTO. */
static int compile(sg_phone_db_t *db, const char *pat, uint32_t opts,
                   pcre2_code **out) {
  int ec;
  PCRE2_SIZE eo;
  *out = pcre2_compile((PCRE2_SPTR)pat, PCRE2_ZERO_TERMINATED,
                       opts | PCRE2_DOLLAR_ENDONLY, &ec, &eo, db->cctx);
  if (!*out)
    return ec == PCRE2_ERROR_HEAP_FAILED ? SG_ENOMEM : SG_EPROTO;
  uint32_t groups = 0;
  pcre2_pattern_info(*out, PCRE2_INFO_CAPTURECOUNT, &groups);
  if (groups > db->max_groups)
    db->max_groups = groups;
  /* Without a JIT (or memory for it) the interpreter runs the pattern. */
  if (pcre2_jit_compile(*out, PCRE2_JIT_COMPLETE) != 0)
    db->jit = false;
  return 0;
}

/* A national_prefix_transform_rule may hold digits and at most one $1..$9
 * naming a group of national_prefix_for_parsing, nothing else (every rule
 * in the metadata does: "9$1", "$2", "264$1"). So a transformed number has
 * at most MAX_RULE digits more than the original, and fits a num_t. */
static bool rule_ok(const char *rule, uint32_t groups) {
  int refs = 0;
  if (strlen(rule) > MAX_RULE)
    return false;
  for (const char *p = rule; *p; p++) {
    if (*p >= '0' && *p <= '9')
      continue;
    if (*p != '$' || p[1] < '1' || p[1] > '9' ||
        (uint32_t)(p[1] - '0') > groups || ++refs > 1)
      return false;
    p++;
  }
  return true;
}

static int build_desc(sg_phone_db_t *db, const sg_lpn_desc_t *src,
                      desc_t *dst) {
  dst->lengths = src->lengths;
  dst->has_lengths = src->has_lengths != 0;
  if (!src->pattern)
    return 0;
  return compile(db, src->pattern, PCRE2_ANCHORED | PCRE2_ENDANCHORED,
                 &dst->re);
}

static int build_prefixes(sg_phone_db_t *db, const sg_lpn_region_t *src,
                          region_t *r) {
  int rc = 0;
  if (src->international_prefix)
    rc = compile(db, src->international_prefix, PCRE2_ANCHORED, &r->idd);
  if (!rc && src->leading_digits)
    rc = compile(db, src->leading_digits, PCRE2_ANCHORED, &r->leading);
  if (!rc && src->national_prefix_for_parsing) {
    rc = compile(db, src->national_prefix_for_parsing, PCRE2_ANCHORED, &r->np);
    if (!rc)
      pcre2_pattern_info(r->np, PCRE2_INFO_CAPTURECOUNT, &r->np_groups);
  }
  r->np_rule = src->national_prefix_transform_rule;
  if (!rc && r->np_rule && !rule_ok(r->np_rule, r->np_groups))
    rc = SG_EPROTO;
  return rc;
}

static int build_region(sg_phone_db_t *db, const sg_lpn_region_t *src,
                        region_t *r) {
  if (src->country_code <= 0 || src->country_code > 999)
    return SG_EPROTO;
  /* TestNumberLength reads the general lengths without a check. */
  if (!src->desc[GENERAL].has_lengths)
    return SG_EPROTO;
  memcpy(r->id, src->id, sizeof r->id);
  r->cc = (uint16_t)src->country_code;
  r->ccs_len =
      (uint8_t)snprintf(r->ccs, sizeof r->ccs, "%d", src->country_code);
  r->same_mobile_and_fixed = src->same_mobile_and_fixed_line_pattern != 0;
  r->local_lengths = src->desc[GENERAL].local_lengths;
  int rc = build_prefixes(db, src, r);
  for (int t = 0; !rc && t < SG_PHONE_TYPE_COUNT; t++)
    rc = build_desc(db, &src->desc[t], &r->desc[t]);
  return rc;
}

static int code_index(const char *id) {
  char a = id[0], b = id[1];
  if (a >= 'a' && a <= 'z')
    a = (char)(a - 'a' + 'A');
  if (b >= 'a' && b <= 'z')
    b = (char)(b - 'a' + 'A');
  if (a < 'A' || a > 'Z' || b < 'A' || b > 'Z' || id[2] != '\0')
    return -1;
  return (a - 'A') * 26 + (b - 'A');
}

/* The calling code -> regions map, in libphonenumber's order (its
 * PhoneNumberUtil constructor): per code, the first entry met, then a later
 * main_country_for_code entry goes to the front, any other to the back. */
static int build_cc_index(sg_phone_db_t *db) {
  db->cc_list = sg_calloc(db->n ? db->n : 1, sizeof *db->cc_list);
  uint16_t *tmp = sg_calloc(2 * db->n + 1, sizeof *tmp);
  if (!db->cc_list || !tmp) {
    sg_free(tmp);
    return SG_ENOMEM;
  }
  size_t used = 0;
  for (int cc = 1; cc < 1000; cc++) {
    size_t head = db->n, tail = db->n; /* tmp[head..tail) is the list */
    for (size_t i = 0; i < db->n; i++) {
      if (db->regions[i].cc != cc)
        continue;
      if (head != tail && db->md->regions[i].main_country_for_code)
        tmp[--head] = (uint16_t)i;
      else
        tmp[tail++] = (uint16_t)i;
    }
    if (tail - head > 255) {
      sg_free(tmp);
      return SG_EPROTO;
    }
    db->cc_first[cc] = (uint16_t)used;
    db->cc_count[cc] = (uint8_t)(tail - head);
    memcpy(db->cc_list + used, tmp + head, (tail - head) * sizeof *tmp);
    used += tail - head;
  }
  sg_free(tmp);
  return 0;
}

static int build(sg_phone_db_t *db) {
  int rc = sg_lpn_metadata_load(&db->md);
  if (rc)
    return rc;
  db->regions = sg_calloc(db->md->n ? db->md->n : 1, sizeof *db->regions);
  if (!db->regions)
    return SG_ENOMEM;
  for (size_t i = 0; i < 26 * 26; i++)
    db->by_code[i] = -1;
  for (size_t i = 0; i < db->md->n; i++) {
    rc = build_region(db, &db->md->regions[i], &db->regions[i]);
    db->n = i + 1; /* so that sg_phone_db_free frees what was made */
    if (rc)
      return rc;
    int k = code_index(db->regions[i].id);
    if (k >= 0)
      db->by_code[k] = (int16_t)i;
  }
  return build_cc_index(db);
}

int sg_phone_db_new(sg_phone_db_t **out) {
  if (!out)
    return SG_EINVAL;
  *out = NULL;
  sg_phone_db_t *db = sg_calloc(1, sizeof *db);
  if (!db)
    return SG_ENOMEM;
  db->jit = true;
  db->gctx = pcre2_general_context_create(pcre_malloc, pcre_free, NULL);
  db->cctx = db->gctx ? pcre2_compile_context_create(db->gctx) : NULL;
  int rc = db->cctx ? build(db) : SG_ENOMEM;
  if (rc) {
    sg_phone_db_free(db);
    return rc;
  }
  *out = db;
  return 0;
}

void sg_phone_db_free(sg_phone_db_t *db) {
  if (!db)
    return;
  for (size_t i = 0; i < db->n; i++) {
    region_t *r = &db->regions[i];
    pcre2_code_free(r->idd);
    pcre2_code_free(r->np);
    pcre2_code_free(r->leading);
    for (int t = 0; t < SG_PHONE_TYPE_COUNT; t++)
      pcre2_code_free(r->desc[t].re);
  }
  sg_free(db->regions);
  sg_free(db->cc_list);
  sg_lpn_metadata_free(db->md);
  pcre2_compile_context_free(db->cctx);
  pcre2_general_context_free(db->gctx);
  sg_free(db);
}

int sg_phone_region_known(const sg_phone_db_t *db, const char *region) {
  if (!db || !region || strlen(region) != 2)
    return 0;
  int k = code_index(region);
  return k >= 0 && db->by_code[k] >= 0;
}

sg_phone_ctx_t *sg_phone_ctx_new(const sg_phone_db_t *db) {
  if (!db)
    return NULL;
  sg_phone_ctx_t *ctx = sg_calloc(1, sizeof *ctx);
  if (!ctx)
    return NULL;
  ctx->db = db;
  ctx->m = pcre2_match_data_create(db->max_groups + 1, db->gctx);
  if (!ctx->m) {
    sg_free(ctx);
    return NULL;
  }
  return ctx;
}

void sg_phone_ctx_free(sg_phone_ctx_t *ctx) {
  if (!ctx)
    return;
  pcre2_match_data_free(ctx->m);
  sg_free(ctx);
}

/* ---- Matching primitives (libphonenumber's RegExp and matcher) ----------- */

/* Runs `re` on s[0..n). Returns the end of the match (re is anchored at the
 * start, as RegExp::Consume's lookingAt), or -1 when it does not match. */
static long run(sg_phone_ctx_t *ctx, const pcre2_code *re, const char *s,
                size_t n) {
  int rc = ctx->db->jit
               ? pcre2_jit_match(re, (PCRE2_SPTR)s, n, 0, 0, ctx->m, NULL)
               : pcre2_match(re, (PCRE2_SPTR)s, n, 0, 0, ctx->m, NULL);
  if (rc <= 0)
    return -1;
  return (long)pcre2_get_ovector_pointer(ctx->m)[1];
}

/* MatchNationalNumber: the full pattern, no length check. An absent pattern
 * never matches. */
static bool pattern_matches(sg_phone_ctx_t *ctx, const desc_t *d, const char *s,
                            size_t n) {
  return d->re && run(ctx, d->re, s, n) >= 0;
}

static bool length_in(uint32_t bits, size_t n) {
  return n < 32 && ((bits >> n) & 1u);
}

/* IsNumberMatchingDesc: possible lengths first, then the pattern. */
static bool desc_matches(sg_phone_ctx_t *ctx, const desc_t *d, const char *s,
                         size_t n) {
  if (d->has_lengths && !length_in(d->lengths, n))
    return false;
  return pattern_matches(ctx, d, s, n);
}

enum len_result {
  LEN_POSSIBLE,
  LEN_LOCAL_ONLY,
  LEN_TOO_SHORT,
  LEN_TOO_LONG,
  LEN_INVALID
};

/* TestNumberLength against the general description. */
static enum len_result test_length(const region_t *r, size_t n) {
  uint32_t bits = r->desc[GENERAL].lengths;
  if (bits == 0)
    return LEN_INVALID; /* possible_length [-1] */
  if (length_in(r->local_lengths, n))
    return LEN_LOCAL_ONLY;
  size_t min = (size_t)__builtin_ctz(bits),
         max = 31u - (size_t)__builtin_clz(bits);
  if (n < min)
    return LEN_TOO_SHORT;
  if (n > max)
    return LEN_TOO_LONG;
  return length_in(bits, n) ? LEN_POSSIBLE : LEN_INVALID;
}

/* GetNumberTypeHelper: the first type whose description matches, in
 * libphonenumber's order; fixed line and mobile last. */
static sg_phone_type_t number_type(sg_phone_ctx_t *ctx, const region_t *r,
                                   const char *s, size_t n) {
  static const sg_phone_type_t order[] = {
      SG_PHONE_PREMIUM_RATE, SG_PHONE_TOLL_FREE,       SG_PHONE_SHARED_COST,
      SG_PHONE_VOIP,         SG_PHONE_PERSONAL_NUMBER, SG_PHONE_PAGER,
      SG_PHONE_UAN,          SG_PHONE_VOICEMAIL};
  if (!desc_matches(ctx, &r->desc[GENERAL], s, n))
    return SG_PHONE_UNKNOWN;
  for (size_t i = 0; i < sizeof order / sizeof order[0]; i++)
    if (desc_matches(ctx, &r->desc[order[i]], s, n))
      return order[i];
  if (desc_matches(ctx, &r->desc[SG_PHONE_FIXED_LINE], s, n)) {
    if (r->same_mobile_and_fixed ||
        desc_matches(ctx, &r->desc[SG_PHONE_MOBILE], s, n))
      return SG_PHONE_FIXED_LINE_OR_MOBILE;
    return SG_PHONE_FIXED_LINE;
  }
  if (!r->same_mobile_and_fixed &&
      desc_matches(ctx, &r->desc[SG_PHONE_MOBILE], s, n))
    return SG_PHONE_MOBILE;
  return SG_PHONE_UNKNOWN;
}

/* ---- Parsing (PhoneNumberUtil::ParseHelper and its helpers) -------------- */

static void num_set(num_t *dst, const char *s, size_t n) {
  memmove(dst->d, s, n);
  dst->n = n;
}

/* The spans of the groups of a national_prefix_for_parsing match, kept
 * because the next match overwrites the match data. Rules name $1..$9. */
typedef struct groups {
  size_t off[10], len[10];
} groups_t;

/* Saves groups 1..n (n <= 9) of the last match; an unset group is empty, as
 * ICU's group() of a group that did not take part. */
static void save_groups(sg_phone_ctx_t *ctx, uint32_t n, groups_t *g) {
  const PCRE2_SIZE *ov = pcre2_get_ovector_pointer(ctx->m);
  for (uint32_t i = 1; i <= n && i < 10; i++) {
    bool set = ov[2 * i] != PCRE2_UNSET;
    g->off[i] = set ? ov[2 * i] : 0;
    g->len[i] = set ? ov[2 * i + 1] - ov[2 * i] : 0;
  }
}

/* RegExp::Replace with national_prefix_transform_rule on the match that
 * starts the number: the rule, its $N replaced by group N, then the rest of
 * the number after the match. */
static void transform(const region_t *r, const groups_t *g, const num_t *in,
                      size_t match_end, num_t *out) {
  size_t n = 0;
  for (const char *p = r->np_rule; *p; p++) {
    if (*p == '$') {
      int k = *++p - '0';
      memcpy(out->d + n, in->d + g->off[k], g->len[k]);
      n += g->len[k];
    } else {
      out->d[n++] = *p;
    }
  }
  memcpy(out->d + n, in->d + match_end, in->n - match_end);
  out->n = n + in->n - match_end;
}

/* MaybeStripNationalPrefixAndCarrierCode: strips (or, with a transform
 * rule, rewrites) the national prefix at the start of `x`, unless that turns
 * a number matching the general pattern into one that does not. (The
 * general pattern is tried on the original only once the prefix matched:
 * the same answer as libphonenumber's, one match fewer.) */
static void strip_national_prefix(sg_phone_ctx_t *ctx, const region_t *r,
                                  num_t *x) {
  if (x->n == 0 || !r->np)
    return;
  long end = run(ctx, r->np, x->d, x->n);
  if (end < 0)
    return;
  const desc_t *general = &r->desc[GENERAL];
  /* Consume(&carrier, &captured) needs two groups, else Consume(&captured)
   * takes group 1; a transform applies when something was captured. */
  uint32_t cap = r->np_groups >= 2 ? 2 : 1;
  groups_t g;
  save_groups(ctx, r->np_groups, &g);
  bool viable = pattern_matches(ctx, general, x->d, x->n);
  if (r->np_rule && r->np_groups >= 1 && g.len[cap] > 0) {
    num_t t;
    transform(r, &g, x, (size_t)end, &t);
    if (viable && !pattern_matches(ctx, general, t.d, t.n))
      return;
    num_set(x, t.d, t.n);
    return;
  }
  if (viable && !pattern_matches(ctx, general, x->d + end, x->n - (size_t)end))
    return;
  num_set(x, x->d + end, x->n - (size_t)end);
}

/* ParsePrefixAsIdd: the default region's international prefix at the start,
 * unless a 0 follows it (no calling code starts with 0). */
static bool strip_idd(sg_phone_ctx_t *ctx, const region_t *def, num_t *x) {
  if (!def || !def->idd)
    return false;
  long end = run(ctx, def->idd, x->d, x->n);
  if (end < 0)
    return false;
  if ((size_t)end < x->n && x->d[end] == '0')
    return false;
  num_set(x, x->d + end, x->n - (size_t)end);
  return true;
}

/* The outcome of MaybeExtractCountryCode. */
enum cc_result { CC_OK, CC_TOO_SHORT_AFTER_IDD, CC_INVALID };

/* ExtractCountryCode: the 1 to 3 leading digits that are a calling code. */
static int extract_cc(const sg_phone_db_t *db, num_t *x) {
  if (x->n == 0 || x->d[0] == '0')
    return 0;
  int cc = 0;
  for (size_t i = 0; i < 3 && i < x->n; i++) {
    cc = cc * 10 + (x->d[i] - '0');
    if (db->cc_count[cc]) {
      num_set(x, x->d + i + 1, x->n - i - 1);
      return cc;
    }
  }
  return 0;
}

/* The default region's calling code written without '+' in front of a
 * national number ("7 916..." in RU) is taken as one when the number does
 * not fit the region as it is but fits once it is removed, or is too long
 * as it is. */
static bool strip_default_cc(sg_phone_ctx_t *ctx, const region_t *def,
                             num_t *x) {
  size_t k = def->ccs_len;
  if (x->n < k || memcmp(x->d, def->ccs, k) != 0)
    return false;
  num_t pot;
  num_set(&pot, x->d + k, x->n - k);
  strip_national_prefix(ctx, def, &pot);
  const desc_t *g = &def->desc[GENERAL];
  if ((!pattern_matches(ctx, g, x->d, x->n) &&
       pattern_matches(ctx, g, pot.d, pot.n)) ||
      test_length(def, x->n) == LEN_TOO_LONG) {
    num_set(x, pot.d, pot.n);
    return true;
  }
  return false;
}

/* MaybeExtractCountryCode on the digits `x` (in/out: on CC_OK with *cc set,
 * the digits after the calling code). *cc stays 0 when the number has no
 * calling code of its own. */
static enum cc_result maybe_extract_cc(sg_phone_ctx_t *ctx, const region_t *def,
                                       bool plus, num_t *x, int *cc) {
  *cc = 0;
  if (plus || strip_idd(ctx, def, x)) {
    if (x->n <= MIN_NSN)
      return CC_TOO_SHORT_AFTER_IDD;
    *cc = extract_cc(ctx->db, x);
    return *cc ? CC_OK : CC_INVALID;
  }
  if (def && strip_default_cc(ctx, def, x))
    *cc = def->cc;
  return CC_OK;
}

/* GetRegionCodeForNumber(FromRegionList): the one region of the calling
 * code, or the first whose leading_digits start the number or, without
 * leading_digits, whose patterns it matches. NULL when none does. */
static const region_t *region_for_number(sg_phone_ctx_t *ctx, int cc,
                                         const num_t *nsn) {
  const sg_phone_db_t *db = ctx->db;
  const uint16_t *list = db->cc_list + db->cc_first[cc];
  if (db->cc_count[cc] == 1)
    return &db->regions[list[0]];
  for (size_t i = 0; i < db->cc_count[cc]; i++) {
    const region_t *r = &db->regions[list[i]];
    if (r->leading ? run(ctx, r->leading, nsn->d, nsn->n) >= 0
                   : number_type(ctx, r, nsn->d, nsn->n) != SG_PHONE_UNKNOWN)
      return r;
  }
  return NULL;
}

static const region_t *main_region(const sg_phone_db_t *db, int cc) {
  return &db->regions[db->cc_list[db->cc_first[cc]]];
}

/* ---- Rejection messages ---------------------------------------------------
 */

static int reject(sg_phone_err_t *err, sg_phone_reason_t reason, size_t offset,
                  const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static int reject(sg_phone_err_t *err, sg_phone_reason_t reason, size_t offset,
                  const char *fmt, ...) {
  if (err) {
    va_list ap;
    err->reason = reason;
    err->offset = offset;
    va_start(ap, fmt);
    vsnprintf(err->text, sizeof err->text, fmt, ap);
    va_end(ap);
  }
  return SG_EINVAL;
}

/* Writes a set of lengths as "10", "9 or 10", "4-7, 9 or 10": runs of
 * three or more as a range, items joined by ", " and a final " or ". */
static void format_lengths(uint32_t bits, char *out, size_t cap) {
  int lo[32], hi[32], items = 0;
  for (int a = 0; a < 32; a++) {
    if (!((bits >> a) & 1u))
      continue;
    int b = a;
    while (b < 31 && ((bits >> (b + 1)) & 1u))
      b++;
    if (b - a >= 2) {
      lo[items] = a, hi[items++] = b;
    } else {
      for (int v = a; v <= b; v++)
        lo[items] = hi[items] = v, items++;
    }
    a = b;
  }
  size_t n = 0;
  out[0] = '\0';
  for (int i = 0; i < items && n < cap; i++) {
    const char *sep = i == 0 ? "" : (i == items - 1 ? " or " : ", ");
    int k = lo[i] == hi[i]
                ? snprintf(out + n, cap - n, "%s%d", sep, lo[i])
                : snprintf(out + n, cap - n, "%s%d-%d", sep, lo[i], hi[i]);
    n += (size_t)k;
  }
}

/* Why a parsed number is not valid: its length for the calling code's main
 * region (IsPossibleNumberWithReason), else no number range matches. */
static int reject_invalid(const sg_phone_db_t *db, int cc, size_t n,
                          sg_phone_err_t *err) {
  const region_t *m = main_region(db, cc);
  const char *where = strcmp(m->id, "001") ? m->id : "international";
  char lens[64];
  format_lengths(m->desc[GENERAL].lengths, lens, sizeof lens);
  switch (test_length(m, n)) {
  case LEN_TOO_SHORT:
  case LEN_LOCAL_ONLY:
    return reject(err, SG_PHONE_R_TOO_SHORT, 0,
                  "too short for %s (+%d): numbers there have %s digits "
                  "after the country code, this one has %zu",
                  where, cc, lens, n);
  case LEN_TOO_LONG:
    return reject(err, SG_PHONE_R_TOO_LONG, 0,
                  "too long for %s (+%d): numbers there have %s digits "
                  "after the country code, this one has %zu",
                  where, cc, lens, n);
  case LEN_INVALID:
    return reject(err, SG_PHONE_R_INVALID_LENGTH, 0,
                  "wrong length for %s (+%d): numbers there have %s digits "
                  "after the country code, this one has %zu",
                  where, cc, lens, n);
  default:
    return reject(err, SG_PHONE_R_INVALID_FOR_REGION, 0,
                  "not a valid number for %s (+%d): it is in no number "
                  "range in use there",
                  where, cc);
  }
}

/* ---- Reading the input ----------------------------------------------------
 */

static bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static bool is_separator(char c) {
  return c == ' ' || c == '-' || c == '.' || c == '(' || c == ')' || c == '/';
}

static int reject_char(sg_phone_err_t *err, const char *in, size_t i) {
  unsigned char c = (unsigned char)in[i];
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))
    return reject(err, SG_PHONE_R_NOT_A_NUMBER, i,
                  "letters are not allowed in a phone number ('%c' at "
                  "offset %zu)",
                  c, i);
  if (c >= 0x21 && c < 0x7F)
    return reject(err, SG_PHONE_R_NOT_A_NUMBER, i,
                  "character '%c' at offset %zu is not allowed in a phone "
                  "number",
                  c, i);
  return reject(err, SG_PHONE_R_NOT_A_NUMBER, i,
                "byte 0x%02X at offset %zu is not allowed in a phone number", c,
                i);
}

/* Keeps the digits of the input and checks its syntax (phone.h): white
 * space may stand anywhere before the number starts (its '+' or first digit)
 * and after its last digit, separators anywhere. Then libphonenumber's
 * IsViablePhoneNumber: at least 3 digits, or exactly 2 written together. */
static int read_digits(const char *in, size_t len, num_t *x, bool *plus,
                       sg_phone_err_t *err) {
  size_t a = 0, tail = len, first = 0, last = 0;
  if (len > PHONE_INPUT_MAX)
    return reject(err, SG_PHONE_R_TOO_LONG, 0, "longer than %d characters",
                  PHONE_INPUT_MAX);
  while (a < len && is_space(in[a]))
    a++;
  if (a == len)
    return reject(err, SG_PHONE_R_EMPTY, 0, "the number is empty");
  while (tail > 0 && !(in[tail - 1] >= '0' && in[tail - 1] <= '9'))
    tail--;
  x->n = 0;
  *plus = false;
  for (size_t i = 0; i < len; i++) {
    char c = in[i];
    if (c >= '0' && c <= '9') {
      if (x->n == 0)
        first = i;
      last = i;
      x->d[x->n++] = c;
    } else if (c == '+') {
      if (*plus || x->n > 0)
        return reject(err, SG_PHONE_R_NOT_A_NUMBER, i,
                      "'+' may appear only once, before the digits "
                      "(offset %zu)",
                      i);
      *plus = true;
    } else if (!is_separator(c) &&
               !(is_space(c) && ((x->n == 0 && !*plus) || i >= tail))) {
      return reject_char(err, in, i);
    }
  }
  if (x->n == 0)
    return reject(err, SG_PHONE_R_EMPTY, 0, "the number has no digits");
  bool apart = last - first + 1 != x->n;
  if (x->n < 3 && (x->n < 2 || *plus || apart))
    return reject(err, SG_PHONE_R_TOO_SHORT, 0,
                  "too short to be a phone number (%zu digits)", x->n);
  return 0;
}

/* ---- sg_phone_normalize ----------------------------------------------------
 */

/* The default region: NULL when none is given or it is unknown (an error
 * only for a number without '+', as CheckRegionForParsing). */
static int default_region(const sg_phone_db_t *db, const char *name, bool plus,
                          const region_t **def, sg_phone_err_t *err) {
  *def = NULL;
  if (!name || !*name) {
    if (plus)
      return 0;
    return reject(err, SG_PHONE_R_NO_REGION, 0,
                  "a national number needs a default region: write it in "
                  "international format, with + and the country code");
  }
  int k = strlen(name) == 2 ? code_index(name) : -1;
  if (k >= 0 && db->by_code[k] >= 0) {
    *def = &db->regions[db->by_code[k]];
    return 0;
  }
  if (plus)
    return 0;
  return reject(err, SG_PHONE_R_UNKNOWN_REGION, 0,
                "unknown default region '%.8s'", name);
}

/* MaybeExtractCountryCode with ParseHelper's retry: a '+' followed by no
 * calling code is tried once more as if the '+' were absent. Sets *cc
 * (0: the number is national) and leaves the rest in x. */
static int country_code(sg_phone_ctx_t *ctx, const region_t *def, bool plus,
                        num_t *x, int *cc, sg_phone_err_t *err) {
  enum cc_result r = maybe_extract_cc(ctx, def, plus, x, cc);
  char after[4] = {0}; /* the digits after '+' or the international prefix */
  if (r == CC_INVALID)
    memcpy(after, x->d, x->n < 3 ? x->n : 3);
  if (r == CC_INVALID && plus) {
    /* x is as it was: the '+' path leaves it alone when it fails. */
    (void)maybe_extract_cc(ctx, def, false, x, cc);
    if (*cc == 0)
      r = CC_INVALID;
    else
      r = CC_OK;
  }
  if (r == CC_TOO_SHORT_AFTER_IDD)
    return reject(err, SG_PHONE_R_TOO_SHORT, 0,
                  "too short after the international prefix");
  if (r == CC_INVALID) {
    if (after[0] == '0')
      return reject(err, SG_PHONE_R_INVALID_COUNTRY_CODE, 0,
                    "no country calling code starts with 0");
    return reject(err, SG_PHONE_R_INVALID_COUNTRY_CODE, 0,
                  "+%s... does not start with a country calling code", after);
  }
  return 0;
}

/* ParseHelper after the calling code: the national prefix is stripped only
 * when what remains still has a possible length. */
static int national_number(sg_phone_ctx_t *ctx, const region_t *r, num_t *x,
                           sg_phone_err_t *err) {
  if (x->n < MIN_NSN)
    return reject(err, SG_PHONE_R_TOO_SHORT, 0,
                  "too short to be a phone number");
  num_t pot;
  num_set(&pot, x->d, x->n);
  strip_national_prefix(ctx, r, &pot);
  enum len_result lr = test_length(r, pot.n);
  if (lr != LEN_TOO_SHORT && lr != LEN_LOCAL_ONLY && lr != LEN_INVALID)
    num_set(x, pot.d, pot.n);
  if (x->n < MIN_NSN)
    return reject(err, SG_PHONE_R_TOO_SHORT, 0,
                  "too short to be a phone number");
  if (x->n > MAX_NSN)
    return reject(err, SG_PHONE_R_TOO_LONG, 0,
                  "too long: a national number has at most %d digits, this "
                  "one has %zu",
                  MAX_NSN, x->n);
  return 0;
}

static void fill(sg_phone_t *out, int cc, const region_t *r, const num_t *nsn,
                 sg_phone_type_t type) {
  size_t k = r->ccs_len;
  out->e164[0] = '+';
  memcpy(out->e164 + 1, r->ccs, k);
  memcpy(out->e164 + 1 + k, nsn->d, nsn->n);
  out->e164[1 + k + nsn->n] = '\0';
  memcpy(out->region, r->id, sizeof out->region);
  out->country_code = (uint16_t)cc;
  out->nsn_offset = (uint8_t)(1 + k);
  out->type = type;
}

static void clear(sg_phone_t *out, sg_phone_err_t *err) {
  memset(out, 0, sizeof *out);
  out->type = SG_PHONE_UNKNOWN;
  if (err) {
    err->reason = SG_PHONE_R_OK;
    err->offset = 0;
    err->text[0] = '\0';
  }
}

int sg_phone_normalize(sg_phone_ctx_t *ctx, const char *input, size_t len,
                       const char *default_region_code, sg_phone_t *out,
                       sg_phone_err_t *err) {
  if (!ctx || (!input && len) || !out)
    return SG_EINVAL;
  clear(out, err);
  num_t x;
  bool plus = false;
  const region_t *def = NULL;
  int cc = 0, rc = read_digits(input, len, &x, &plus, err);
  if (!rc)
    rc = default_region(ctx->db, default_region_code, plus, &def, err);
  if (!rc)
    rc = country_code(ctx, def, plus, &x, &cc, err);
  if (rc)
    return rc;
  const region_t *r = cc ? main_region(ctx->db, cc) : def;
  if (!cc)
    cc = def->cc;
  rc = national_number(ctx, r, &x, err);
  if (rc)
    return rc;
  const region_t *home = region_for_number(ctx, cc, &x);
  sg_phone_type_t type =
      home ? number_type(ctx, home, x.d, x.n) : SG_PHONE_UNKNOWN;
  if (type == SG_PHONE_UNKNOWN)
    return reject_invalid(ctx->db, cc, x.n, err);
  fill(out, cc, home, &x, type);
  return 0;
}

/* ---- Names ----------------------------------------------------------------
 */

const char *sg_phone_type_name(sg_phone_type_t type) {
  static const char *const names[SG_PHONE_TYPE_COUNT] = {
      "fixed_line", "mobile",          "fixed_line_or_mobile",
      "toll_free",  "premium_rate",    "shared_cost",
      "voip",       "personal_number", "pager",
      "uan",        "voicemail",       "unknown"};
  return (unsigned)type < SG_PHONE_TYPE_COUNT ? names[type] : "unknown";
}

const char *sg_phone_reason_name(sg_phone_reason_t reason) {
  static const char *const names[] = {
#define SG__PHONE_REASON_STR(name, str) str,
      SG_PHONE_REASON_MAP(SG__PHONE_REASON_STR)
#undef SG__PHONE_REASON_STR
  };
  return (unsigned)reason < SG_PHONE_R_COUNT ? names[reason] : "unknown";
}
