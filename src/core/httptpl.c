/* httptpl.c - request templates of the HTTP provider connector: compiling
 * "{{name}}" placeholders and filling them with per-place escaping
 * (httptpl.h).
 *
 * It must never allocate, log or do I/O, and never let a value escape its
 * place: a recipient or a text can never end a JSON string, add a URL
 * parameter or start a new header line, whatever octets it holds.
 */
#include "core/httptpl.h"

#include <string.h>

#include "core/error.h"
#include "core/utf8.h"

static const char *const var_names[] = {
#define SG__HTTPTPL_NAME(e, name) name,
    SG_HTTPTPL_VARS(SG__HTTPTPL_NAME)
#undef SG__HTTPTPL_NAME
};

const char *sg_httptpl_var_name(sg_httptpl_var_t v) {
  return (unsigned)v < SG_HTTPTPL_VAR_COUNT ? var_names[v] : NULL;
}

static int var_lookup(const char *s, size_t len) {
  for (int i = 0; i < SG_HTTPTPL_VAR_COUNT; i++)
    if (strlen(var_names[i]) == len && memcmp(var_names[i], s, len) == 0)
      return i;
  return -1;
}

static int push_seg(sg_httptpl_t *t, size_t off, size_t len, int var) {
  if (t->n_segs == SG_HTTPTPL_SEGS_MAX)
    return SG_ETOOLONG;
  t->segs[t->n_segs++] = (sg_httptpl_seg_t){(uint32_t)off, (uint32_t)len, var};
  if (var >= 0)
    t->uses |= 1u << var;
  return 0;
}

/* Reads the placeholder whose "{{" is at src[at]; sets *end past "}}". */
static int placeholder(const char *src, size_t len, size_t at, size_t *end) {
  size_t i = at + 2;
  while (i < len && src[i] == ' ')
    i++;
  size_t name = i;
  while (i < len && (src[i] == '_' || (src[i] >= 'a' && src[i] <= 'z')))
    i++;
  size_t name_len = i - name;
  while (i < len && src[i] == ' ')
    i++;
  if (i + 1 >= len || src[i] != '}' || src[i + 1] != '}')
    return -1;
  *end = i + 2;
  return var_lookup(src + name, name_len);
}

int sg_httptpl_compile(const char *src, size_t len, sg_httptpl_t *out,
                       size_t *err_off) {
  memset(out, 0, sizeof *out);
  out->src = src;
  size_t lit = 0, i = 0;
  while (i < len) {
    if (src[i] != '{' || i + 1 >= len || src[i + 1] != '{') {
      i++;
      continue;
    }
    size_t end = 0;
    int var = placeholder(src, len, i, &end);
    int rc = var < 0 ? SG_EINVAL : 0;
    if (rc == 0 && i > lit)
      rc = push_seg(out, lit, i - lit, -1);
    if (rc == 0)
      rc = push_seg(out, 0, 0, var);
    if (rc != 0) {
      if (err_off != NULL)
        *err_off = i;
      return rc;
    }
    i = lit = end;
  }
  if (len > lit && push_seg(out, lit, len - lit, -1) != 0) {
    if (err_off != NULL)
      *err_off = lit;
    return SG_ETOOLONG;
  }
  return 0;
}

/* ---- escaping ------------------------------------------------------------ */

static const char hex_digits[] = "0123456789ABCDEF";

static bool unreserved(uint8_t c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
         (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' || c == '~';
}

static int esc_url(const uint8_t *v, size_t len, bool form, char *out,
                   size_t cap, size_t *n) {
  size_t o = 0;
  for (size_t i = 0; i < len; i++) {
    uint8_t c = v[i];
    if (unreserved(c) || (form && c == ' ')) {
      if (o + 1 > cap)
        return SG_ENOSPC;
      out[o++] = c == ' ' ? '+' : (char)c;
      continue;
    }
    if (o + 3 > cap)
      return SG_ENOSPC;
    out[o++] = '%';
    out[o++] = hex_digits[c >> 4];
    out[o++] = hex_digits[c & 15];
  }
  *n = o;
  return 0;
}

static int esc_json(const uint8_t *v, size_t len, char *out, size_t cap,
                    size_t *n) {
  size_t cps = 0, bad = 0;
  if (sg_utf8_count(v, len, &cps, &bad) != 0)
    return SG_EILSEQ;
  size_t o = 0;
  for (size_t i = 0; i < len; i++) {
    uint8_t c = v[i];
    char two = c == '"'    ? '"'
               : c == '\\' ? '\\'
               : c == '\n' ? 'n'
               : c == '\r' ? 'r'
               : c == '\t' ? 't'
                           : 0;
    size_t need = two ? 2 : c < 0x20 || c == 0x7f ? 6 : 1;
    if (o + need > cap)
      return SG_ENOSPC;
    if (two) {
      out[o++] = '\\';
      out[o++] = two;
    } else if (need == 6) {
      memcpy(out + o, "\\u00", 4);
      out[o + 4] = hex_digits[c >> 4];
      out[o + 5] = hex_digits[c & 15];
      o += 6;
    } else {
      out[o++] = (char)c;
    }
  }
  *n = o;
  return 0;
}

static int esc_plain(const uint8_t *v, size_t len, bool header, char *out,
                     size_t cap, size_t *n) {
  if (len > cap)
    return SG_ENOSPC;
  for (size_t i = 0; i < len; i++)
    out[i] = header && (v[i] < 0x20 || v[i] == 0x7f) ? ' ' : (char)v[i];
  *n = len;
  return 0;
}

int sg_httptpl_escape(sg_httptpl_esc_t esc, const uint8_t *v, size_t len,
                      char *out, size_t cap, size_t *n) {
  *n = 0;
  switch (esc) {
  case SG_HTTPTPL_ESC_URL:
  case SG_HTTPTPL_ESC_FORM:
    return esc_url(v, len, esc == SG_HTTPTPL_ESC_FORM, out, cap, n);
  case SG_HTTPTPL_ESC_JSON:
    return esc_json(v, len, out, cap, n);
  case SG_HTTPTPL_ESC_HEADER:
  case SG_HTTPTPL_ESC_TEXT:
  default:
    return esc_plain(v, len, esc == SG_HTTPTPL_ESC_HEADER, out, cap, n);
  }
}

int sg_httptpl_render(const sg_httptpl_t *t, sg_httptpl_esc_t esc,
                      const sg_httptpl_val_t *vals, char *out, size_t cap,
                      size_t *n, int *bad_var) {
  if (cap == 0)
    return SG_ENOSPC;
  size_t o = 0;
  for (size_t i = 0; i < t->n_segs; i++) {
    const sg_httptpl_seg_t *s = &t->segs[i];
    size_t w = 0;
    int rc = 0;
    if (s->var < 0) {
      if (s->len > cap - 1 - o)
        rc = SG_ENOSPC;
      else
        memcpy(out + o, t->src + s->off, w = s->len);
    } else {
      const sg_httptpl_val_t *v = &vals[s->var];
      rc = sg_httptpl_escape(esc, v->p, v->len, out + o, cap - 1 - o, &w);
    }
    if (rc != 0) {
      if (bad_var != NULL)
        *bad_var = s->var;
      out[o] = '\0';
      return rc;
    }
    o += w;
  }
  out[o] = '\0';
  if (n != NULL)
    *n = o;
  return 0;
}

#define EX(s)                                                                  \
  { (const uint8_t *)(s), sizeof(s) - 1 }
void sg_httptpl_examples(sg_httptpl_val_t vals[SG_HTTPTPL_VAR_COUNT]) {
  static const sg_httptpl_val_t ex[SG_HTTPTPL_VAR_COUNT] = {
      [SG_HTTPTPL_TO] = EX("+447700900001"),
      [SG_HTTPTPL_TO_DIGITS] = EX("447700900001"),
      [SG_HTTPTPL_FROM] = EX("Shop \"A&B\""),
      [SG_HTTPTPL_TEXT] = EX("Caf\xc3\xa9 \"50%\" & more\nline 2 \\ end"),
      [SG_HTTPTPL_UD_HEX] = EX("00430061006600E9"),
      [SG_HTTPTPL_UDH_HEX] = EX("050003A70201"),
      [SG_HTTPTPL_UDH] = EX("\x05\x00\x03\xa7\x02\x01"),
      [SG_HTTPTPL_CODING] = EX("2"),
      [SG_HTTPTPL_DCS] = EX("8"),
      [SG_HTTPTPL_MESSAGE_ID] = EX("01JD5Y4Q8Z8N6V2X9K3T7R1W0M"),
      [SG_HTTPTPL_PART] = EX("1"),
      [SG_HTTPTPL_PARTS] = EX("2"),
      [SG_HTTPTPL_REF] = EX("01JD5Y4Q8Z8N6V2X9K3T7R1W0M.1"),
      [SG_HTTPTPL_CONCAT_REF] = EX("167"),
      [SG_HTTPTPL_DLR] = EX("1"),
      [SG_HTTPTPL_USERNAME] = EX("user"),
      [SG_HTTPTPL_PASSWORD] = EX("p\"w&d"),
      [SG_HTTPTPL_TOKEN] = EX("tok\\en"),
      [SG_HTTPTPL_RECEIPT_URL] =
          EX("http://127.0.0.1:8080/v1/hooks/provider/x?id=1&s=%d"),
  };
  memcpy(vals, ex, sizeof ex);
}
