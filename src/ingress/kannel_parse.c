/* kannel_parse.c - reading Kannel sendsms requests (ingress/kannel.h): the
 * arguments and their aliases, the field checks of Kannel's smsbox with its
 * answer lines, the charset of the text, form bodies and lists of numbers.
 *
 * Pure: no I/O, no logging, no allocation; every output is the caller's.
 * What is valid (numbers, senders, lengths) beyond Kannel's own checks is
 * the engine's to decide, never this file's.
 */
#include <ctype.h>
#include <string.h>
#include <strings.h>

#include "core/error.h"
#include "core/ucs2.h"
#include "core/utf8.h"
#include "ingress/kannel.h"

/* ---- arguments ----------------------------------------------------------- */

typedef enum field_kind { F_STR, F_INT, F_BYTES } field_kind_t;

typedef struct field {
  const char *name;
  field_kind_t kind;
  size_t off;     /* in sg_kannel_req_t */
  size_t len_off; /* F_BYTES: of its length */
} field_t;

#define R(f) offsetof(sg_kannel_req_t, f)

/* Kannel's names; an alias after its main name (the first one given
 * wins, and the main name is looked for first). */
static const field_t fields[] = {
    {"username", F_STR, R(username), 0},
    {"user", F_STR, R(username), 0},
    {"password", F_STR, R(password), 0},
    {"pass", F_STR, R(password), 0},
    {"to", F_STR, R(to), 0},
    {"text", F_BYTES, R(text), R(text_len)},
    {"from", F_STR, R(from), 0},
    {"charset", F_STR, R(charset), 0},
    {"smsc", F_STR, R(smsc), 0},
    {"account", F_STR, R(account), 0},
    {"dlr-url", F_STR, R(dlr_url), 0},
    {"dlrurl", F_STR, R(dlr_url), 0},
    {"udh", F_BYTES, R(udh), R(udh_len)},
    {"coding", F_INT, R(coding), 0},
    {"mclass", F_INT, R(mclass), 0},
    {"validity", F_INT, R(validity), 0},
    {"deferred", F_INT, R(deferred), 0},
    {"dlr-mask", F_INT, R(dlr_mask), 0},
    {"dlrmask", F_INT, R(dlr_mask), 0},
    {"priority", F_INT, R(priority), 0},
};

/* sscanf("%d") as Kannel reads its integers: optional spaces and sign,
 * then digits; none: undefined. Clamped to the int range. */
static int read_int(const char *s) {
  while (isspace((unsigned char)*s))
    s++;
  int sign = 1;
  if (*s == '-' || *s == '+')
    sign = *s++ == '-' ? -1 : 1;
  if (!isdigit((unsigned char)*s))
    return SG_KANNEL_UNDEF;
  long long v = 0;
  for (; isdigit((unsigned char)*s); s++)
    if (v < 0x7fffffffLL)
      v = v * 10 + (*s - '0');
  if (v > 0x7fffffffLL)
    v = 0x7fffffffLL;
  return (int)(sign * v);
}

#define N_FIELDS (sizeof fields / sizeof fields[0])

/* The entry of fields[] named name, or -1. */
static int field_of(const char *name) {
  for (size_t f = 0; f < N_FIELDS; f++) /* the first octet before the call */
    if (fields[f].name[0] == name[0] && strcmp(fields[f].name, name) == 0)
      return (int)f;
  return -1;
}

void sg_kannel_req_read(const sg_kannel_arg_t *args, size_t n,
                        sg_kannel_req_t *out) {
  memset(out, 0, sizeof *out);
  out->coding = out->mclass = out->validity = out->deferred = out->dlr_mask =
      out->priority = SG_KANNEL_UNDEF;
  /* The first argument of each name, in one pass over the arguments (a
   * look-up of each of the 20 names through all of them cost twice as
   * much). */
  const sg_kannel_arg_t *first[N_FIELDS] = {NULL};
  for (size_t i = 0; i < n; i++) {
    int f = args[i].name != NULL ? field_of(args[i].name) : -1;
    if (f >= 0 && first[f] == NULL)
      first[f] = &args[i];
  }
  bool set[N_FIELDS] = {false};
  for (size_t f = 0; f < N_FIELDS; f++) {
    const sg_kannel_arg_t *a = first[f];
    char *base = (char *)out;
    /* An alias counts only when the main name (the entry before it with
     * the same offset) was not given. */
    if (a == NULL ||
        (f > 0 && fields[f - 1].off == fields[f].off && set[f - 1]))
      continue;
    set[f] = true;
    switch (fields[f].kind) {
    case F_STR:
      *(const char **)(base + fields[f].off) = a->value;
      break;
    case F_INT:
      *(int *)(base + fields[f].off) = read_int(a->value);
      break;
    case F_BYTES:
      *(const char **)(base + fields[f].off) = a->value;
      *(size_t *)(base + fields[f].len_off) = a->len;
      break;
    }
  }
}

/* ---- checks -------------------------------------------------------------- */

static int fail(sg_kannel_answer_t *err, const char *text) {
  err->http = 400;
  err->text = text;
  return SG_EINVAL;
}

static bool url_ok(const char *u) {
  return strncasecmp(u, "http://", 7) == 0 ||
         strncasecmp(u, "https://", 8) == 0;
}

int sg_kannel_req_check(const sg_kannel_req_t *r, bool post_headers,
                        sg_kannel_answer_t *err) {
  if (r->to == NULL)
    return fail(err, post_headers ? "Missing receiver(s) number(s), rejected"
                                  : "Missing receiver number, rejected");
  if (r->to[0] == '\0')
    return fail(err, "Empty receiver number not allowed, rejected");
  /* TS 23.040 9.2.3.24: UDHL and then that many octets. */
  if (r->udh != NULL && r->udh_len > 0 &&
      r->udh_len != (size_t)(uint8_t)r->udh[0] + 1)
    return fail(err, "UDH field misformed, rejected");
  if (r->udh != NULL && r->udh_len > 140)
    return fail(err, "UDH field is too long, rejected");
  if (r->account != NULL && r->account[0] != '\0' &&
      (strlen(r->account) > SG_KANNEL_ACCOUNT_MAX ||
       strpbrk(r->account, "[]\n\r") != NULL))
    return fail(err, "Account field misformed or too long, rejected");
  if (r->dlr_url != NULL && r->dlr_url[0] != '\0' && !url_ok(r->dlr_url))
    return fail(err, "DLR-URL field misformed, rejected");
  if (r->dlr_mask < -1 || r->dlr_mask > 66)
    return fail(err, "DLR-Mask field misformed, rejected");
  if (r->mclass < -1 || r->mclass > 3)
    return fail(err, "MClass field misformed, rejected");
  if (r->coding < -1 || r->coding > 2)
    return fail(err, "Coding field misformed, rejected");
  if (r->validity < -1)
    return fail(err, "Validity field misformed, rejected");
  if (r->deferred < -1)
    return fail(err, "Deferred field misformed, rejected");
  if (r->priority != SG_KANNEL_UNDEF && (r->priority < 0 || r->priority > 3))
    return fail(err, "Priority field misformed, rejected");
  return 0;
}

/* ---- text ---------------------------------------------------------------- */

typedef enum cs { CS_UTF8, CS_LATIN1, CS_UTF16BE, CS_OTHER } cs_t;

static cs_t charset_of(const char *name, int coding) {
  static const struct {
    const char *name;
    cs_t cs;
  } names[] = {{"UTF-8", CS_UTF8},        {"UTF8", CS_UTF8},
               {"ISO-8859-1", CS_LATIN1}, {"ISO8859-1", CS_LATIN1},
               {"LATIN1", CS_LATIN1},     {"UTF-16BE", CS_UTF16BE},
               {"UTF-16", CS_UTF16BE},    {"UCS-2", CS_UTF16BE},
               {"UCS2", CS_UTF16BE},      {"UCS-2BE", CS_UTF16BE}};
  if (name == NULL || name[0] == '\0')
    return coding == 2 ? CS_UTF16BE : CS_UTF8;
  for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
    if (strcasecmp(name, names[i].name) == 0)
      return names[i].cs;
  return CS_OTHER;
}

static int latin1_to_utf8(const uint8_t *in, size_t n, uint8_t *out, size_t cap,
                          size_t *len) {
  size_t o = 0;
  for (size_t i = 0; i < n; i++) {
    size_t need = in[i] < 0x80 ? 1 : 2;
    if (o + need > cap)
      return SG_ENOSPC;
    if (need == 1) {
      out[o++] = in[i];
    } else {
      out[o++] = (uint8_t)(0xC0 | in[i] >> 6);
      out[o++] = (uint8_t)(0x80 | (in[i] & 0x3F));
    }
  }
  *len = o;
  return 0;
}

/* UTF-16BE to UTF-8 one code point at a time (no buffer of code points). */
static int utf16_to_utf8(const uint8_t *in, size_t n, uint8_t *out, size_t cap,
                         size_t *len) {
  size_t o = 0, off = 0;
  while (off < n) {
    size_t unit = n - off >= 4 ? 4 : n - off;
    uint32_t cp;
    size_t got = 0, eoff = 0;
    /* A pair when the first unit is a high surrogate, else one unit. */
    size_t take = unit >= 4 && (in[off] & 0xFC) == 0xD8 ? 4 : 2;
    if (take > n - off)
      return SG_EILSEQ;
    int rc = sg_ucs2_decode(in + off, take, 0, &cp, 1, &got, &eoff);
    if (rc < 0 || got != 1)
      return SG_EILSEQ;
    size_t w = 0;
    rc = sg_utf8_encode(&cp, 1, out + o, cap - o, &w);
    if (rc < 0)
      return rc == SG_ENOSPC ? SG_ENOSPC : SG_EILSEQ;
    o += w;
    off += take;
  }
  *len = o;
  return 0;
}

int sg_kannel_text_utf8(const sg_kannel_req_t *r, uint8_t *out, size_t cap,
                        size_t *len) {
  const uint8_t *t = r->text != NULL ? r->text : (const uint8_t *)"";
  size_t n = r->text != NULL ? r->text_len : 0;
  size_t cnt = 0, eoff = 0;
  switch (charset_of(r->charset, r->coding)) {
  case CS_UTF8:
    if (sg_utf8_count(t, n, &cnt, &eoff) != 0)
      return SG_EILSEQ;
    if (n > cap)
      return SG_ENOSPC;
    memcpy(out, t, n);
    *len = n;
    return 0;
  case CS_LATIN1:
    return latin1_to_utf8(t, n, out, cap, len);
  case CS_UTF16BE:
    return utf16_to_utf8(t, n, out, cap, len);
  case CS_OTHER:
    break;
  }
  return SG_ENOTSUP;
}

/* ---- form bodies and lists of numbers ------------------------------------ */

static int hexval(uint8_t c) {
  if (c >= '0' && c <= '9')
    return c - '0';
  c = (uint8_t)(c | 0x20);
  return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* Decodes s[0..n) into buf; returns the decoded length or SG_EILSEQ. */
static int form_decode(const uint8_t *s, size_t n, char *buf) {
  size_t o = 0;
  for (size_t i = 0; i < n; i++) {
    if (s[i] == '%') {
      int hi = i + 2 < n ? hexval(s[i + 1]) : -1;
      int lo = hi >= 0 ? hexval(s[i + 2]) : -1;
      if (hi < 0 || lo < 0)
        return SG_EILSEQ;
      buf[o++] = (char)(hi << 4 | lo);
      i += 2;
    } else {
      buf[o++] = s[i] == '+' ? ' ' : (char)s[i];
    }
  }
  buf[o] = '\0';
  return (int)o;
}

int sg_kannel_form_parse(const uint8_t *body, size_t len, char *buf,
                         sg_kannel_arg_t *args, size_t max) {
  size_t n = 0, pos = 0;
  char *w = buf;
  while (pos < len) {
    const uint8_t *amp = memchr(body + pos, '&', len - pos);
    size_t end = amp != NULL ? (size_t)(amp - body) : len;
    const uint8_t *eq = memchr(body + pos, '=', end - pos);
    size_t nend = eq != NULL ? (size_t)(eq - body) : end;
    if (end > pos) {
      if (n == max)
        return SG_ERANGE;
      int nl = form_decode(body + pos, nend - pos, w);
      if (nl < 0)
        return nl;
      args[n].name = w;
      w += nl + 1;
      int vl = eq != NULL ? form_decode(eq + 1, end - nend - 1, w)
                          : form_decode(body, 0, w);
      if (vl < 0)
        return vl;
      args[n].value = w;
      args[n].len = (size_t)vl;
      w += vl + 1;
      n++;
    }
    pos = end + 1;
  }
  return (int)n;
}

int sg_kannel_split_to(const char *to, char *buf, const char **out,
                       size_t max) {
  size_t n = 0;
  strcpy(buf, to);
  for (char *p = buf; *p != '\0';) {
    while (*p != '\0' && isspace((unsigned char)*p))
      *p++ = '\0';
    if (*p == '\0')
      break;
    if (n == max)
      return SG_ERANGE;
    out[n++] = p;
    while (*p != '\0' && !isspace((unsigned char)*p))
      p++;
  }
  return (int)n;
}
