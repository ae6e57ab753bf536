/* kannel.c - Kannel's dlr-url escape codes and URL encoding (kannel.h), so
 * that a dlr-url written for Kannel is called with the same values by
 * smsgate.
 *
 * The codes are one table: each names the field it reads and how it is
 * written. The expansion is a single pass over the template into the
 * caller's buffer. This file must never allocate, log or do I/O.
 */
#include "core/kannel.h"

#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "core/error.h"
#include "core/str.h"

/* ---- URL encoding ----------------------------------------------------------
 */

static bool url_safe(uint8_t c) {
  return isalnum(c) || (c != 0 && strchr("-_.!~*'()", c) != NULL);
}

/* Output buffer with an overflow flag: writes past cap are counted, not
 * made, and the caller answers SG_ENOSPC. */
typedef struct sink {
  char *p;
  size_t n, cap;
  bool full;
} sink_t;

static void put(sink_t *s, char c) {
  if (s->n + 1 >= s->cap) {
    s->full = true;
    return;
  }
  s->p[s->n++] = c;
}

/* t[0..n) as put() would write it octet by octet: up to cap - 1 octets,
 * the rest counted as overflow. */
static void put_run(sink_t *s, const char *t, size_t n) {
  size_t room = s->cap > s->n + 1 ? s->cap - s->n - 1 : 0;
  if (n > room) {
    s->full = true;
    n = room;
  }
  if (n > 0)
    memcpy(s->p + s->n, t, n);
  s->n += n;
}

static void put_str(sink_t *s, const char *t) {
  put_run(s, t, strlen(t));
}

static void put_enc(sink_t *s, const uint8_t *in, size_t len) {
  static const char hex[] = "0123456789ABCDEF";
  for (size_t i = 0; i < len; i++) {
    uint8_t c = in[i];
    if (c == ' ') {
      put(s, '+');
    } else if (url_safe(c)) {
      put(s, (char)c);
    } else {
      put(s, '%');
      put(s, hex[c >> 4]);
      put(s, hex[c & 15]);
    }
  }
}

static void put_enc_str(sink_t *s, const char *t) {
  if (t != NULL)
    put_enc(s, (const uint8_t *)t, strlen(t));
}

static int sink_end(sink_t *s) {
  if (s->cap > 0)
    s->p[s->n < s->cap ? s->n : s->cap - 1] = '\0';
  if (s->full)
    return SG_ENOSPC;
  return (int)s->n;
}

int sg_kannel_url_encode(const uint8_t *in, size_t len, char *out, size_t cap) {
  if ((in == NULL && len > 0) || out == NULL)
    return SG_EINVAL;
  sink_t s = {.p = out, .cap = cap, .full = cap == 0};
  put_enc(&s, in, len);
  return sink_end(&s);
}

/* ---- the words of the answer ------------------------------------------------
 */

/* The i-th (0-based) whitespace-separated word of t, or false. */
static bool word_at(const char *t, size_t i, const char **w, size_t *wl) {
  size_t k = 0;
  while (t != NULL && *t != '\0') {
    while (*t != '\0' && isspace((unsigned char)*t))
      t++;
    if (*t == '\0')
      break;
    const char *b = t;
    while (*t != '\0' && !isspace((unsigned char)*t))
      t++;
    if (k++ == i) {
      *w = b;
      *wl = (size_t)(t - b);
      return true;
    }
  }
  return false;
}

/* Words from index `from` on, URL-encoded, joined with '+'. */
static void put_words(sink_t *s, const char *t, size_t from) {
  const char *w;
  size_t wl;
  for (size_t i = from; word_at(t, i, &w, &wl); i++) {
    if (i > from)
      put(s, '+');
    put_enc(s, (const uint8_t *)w, wl);
  }
}

/* ---- the table -------------------------------------------------------------
 */

typedef enum kind {
  K_STR,        /* a string field, URL-encoded */
  K_NUM,        /* an int field, in decimal */
  K_PLUS00,     /* a number; a leading "00" becomes %2B */
  K_WORDS,      /* %a: every word of the answer */
  K_WORD0,      /* %k: its first word */
  K_WORD_NEXT,  /* %s: the next unused word */
  K_WORD_TILDE, /* %S: the same, '*' written as '~', not encoded */
  K_WORDS_REST, /* %r: the words not used yet */
  K_HEX,        /* %e: the answer in hex */
  K_TIME,       /* %t: YYYY-MM-DD+HH:MM:SS (UTC) */
  K_UNIX,       /* %T: Unix seconds */
  K_CHARSET,    /* %C */
  K_DCS,        /* %O */
  K_EMPTY,      /* known to Kannel, no value in smsgate */
  K_META,       /* %#group#param#: meta-data, none */
  K_PERCENT     /* %% */
} kind_t;

typedef struct code {
  char c;
  kind_t kind;
  size_t off; /* of the field in sg_kannel_dlr_vars_t */
} code_t;

#define V(f) offsetof(sg_kannel_dlr_vars_t, f)

static const code_t codes[] = {
    {'a', K_WORDS, 0},         {'A', K_STR, V(answer)},
    {'b', K_STR, V(answer)},   {'B', K_EMPTY, 0},
    {'c', K_NUM, V(coding)},   {'C', K_CHARSET, 0},
    {'d', K_NUM, V(type)},     {'D', K_EMPTY, 0},
    {'e', K_HEX, 0},           {'f', K_EMPTY, 0},
    {'F', K_STR, V(smsc_id)},  {'i', K_STR, V(smsc)},
    {'I', K_STR, V(msg_id)},   {'k', K_WORD0, 0},
    {'m', K_NUM, V(mclass)},   {'M', K_EMPTY, 0},
    {'n', K_STR, V(service)},  {'o', K_STR, V(account)},
    {'O', K_DCS, 0},           {'p', K_STR, V(to)},
    {'P', K_STR, V(from)},     {'q', K_PLUS00, V(to)},
    {'Q', K_PLUS00, V(from)},  {'r', K_WORDS_REST, 0},
    {'R', K_STR, V(dlr_url)},  {'s', K_WORD_NEXT, 0},
    {'S', K_WORD_TILDE, 0},    {'t', K_TIME, 0},
    {'T', K_UNIX, 0},          {'u', K_EMPTY, 0},
    {'U', K_EMPTY, 0},         {'v', K_EMPTY, 0},
    {'V', K_EMPTY, 0},         {'x', K_EMPTY, 0},
    {'y', K_NUM, V(priority)}, {'#', K_META, 0},
    {'%', K_PERCENT, 0},
};

static const code_t *find_code(char c) {
  for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++)
    if (codes[i].c == c)
      return &codes[i];
  return NULL;
}

static const char *str_field(const sg_kannel_dlr_vars_t *v, size_t off) {
  return *(const char *const *)((const char *)v + off);
}

static int int_field(const sg_kannel_dlr_vars_t *v, size_t off) {
  return *(const int *)((const char *)v + off);
}

/* ---- expansion
 * --------------------------------------------------------------- */

typedef struct expand {
  sink_t s;
  const sg_kannel_dlr_vars_t *v;
  size_t nextarg; /* the word %s takes next (Kannel starts after the
                     keyword) */
} expand_t;

static void put_num(sink_t *s, long long n) {
  char buf[24];
  put_run(s, buf, sg_fmt_i64(buf, (int64_t)n));
}

static void put_time(sink_t *s, int64_t t) {
  time_t tt = (time_t)t;
  struct tm tm;
  char buf[64];
  gmtime_r(&tt, &tm);
  snprintf(buf, sizeof buf, "%04d-%02d-%02d+%02d:%02d:%02d", tm.tm_year + 1900,
           tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
  put_str(s, buf);
}

static void put_plus00(sink_t *s, const char *n) {
  if (n == NULL)
    return;
  if (strncmp(n, "00", 2) == 0) {
    put_str(s, "%2B");
    n += 2;
  }
  put_enc_str(s, n);
}

/* DCS of TS 23.038 section 4 as Kannel derives it from coding and mclass,
 * written as two or more decimal digits. */
static void put_dcs(sink_t *s, const sg_kannel_dlr_vars_t *v) {
  static const int plain[3] = {0x00, 0x04, 0x08};
  static const int with_class[3] = {0xF0, 0xF4, 0x18};
  int c = v->coding >= 0 && v->coding <= 2 ? v->coding : 0;
  int dcs =
      v->mclass >= 0 && v->mclass <= 3 ? with_class[c] | v->mclass : plain[c];
  char buf[8];
  snprintf(buf, sizeof buf, "%02d", dcs);
  put_str(s, buf);
}

static void put_tilde_word(expand_t *x) {
  const char *w;
  size_t wl;
  if (!word_at(x->v->answer, x->nextarg, &w, &wl))
    return;
  for (size_t i = 0; i < wl; i++)
    put(&x->s, w[i] == '*' ? '~' : w[i]);
  x->nextarg++;
}

static void put_word(expand_t *x, size_t i, bool advance) {
  const char *w;
  size_t wl;
  if (!word_at(x->v->answer, i, &w, &wl))
    return;
  put_enc(&x->s, (const uint8_t *)w, wl);
  if (advance)
    x->nextarg++;
}

static void put_hex(sink_t *s, const char *t) {
  static const char hex[] = "0123456789abcdef";
  for (; t != NULL && *t != '\0'; t++) {
    put(s, hex[(uint8_t)*t >> 4]);
    put(s, hex[(uint8_t)*t & 15]);
  }
}

static void put_code(expand_t *x, const code_t *k) {
  const sg_kannel_dlr_vars_t *v = x->v;
  static const char *const charsets[3] = {"UTF-8", "8-BIT", "UTF-16BE"};
  switch (k->kind) {
  case K_STR:
    put_enc_str(&x->s, str_field(v, k->off));
    break;
  case K_NUM:
    put_num(&x->s, int_field(v, k->off));
    break;
  case K_PLUS00:
    put_plus00(&x->s, str_field(v, k->off));
    break;
  case K_WORDS:
    put_words(&x->s, v->answer, 0);
    break;
  case K_WORD0:
    put_word(x, 0, false);
    break;
  case K_WORD_NEXT:
    put_word(x, x->nextarg, true);
    break;
  case K_WORD_TILDE:
    put_tilde_word(x);
    break;
  case K_WORDS_REST:
    put_words(&x->s, v->answer, x->nextarg);
    break;
  case K_HEX:
    put_hex(&x->s, v->answer);
    break;
  case K_TIME:
    put_time(&x->s, v->time_s);
    break;
  case K_UNIX:
    put_num(&x->s, v->time_s);
    break;
  case K_CHARSET:
    put_str(&x->s, charsets[v->coding >= 0 && v->coding <= 2 ? v->coding : 0]);
    break;
  case K_DCS:
    put_dcs(&x->s, v);
    break;
  case K_PERCENT:
    put(&x->s, '%');
    break;
  case K_EMPTY:
  case K_META:
    break;
  }
}

void sg_kannel_mo_vars(const sg_kannel_mo_t *mo, sg_kannel_dlr_vars_t *out) {
  memset(out, 0, sizeof *out);
  out->type = -1;
  out->mclass = -1;
  out->answer = mo->text;
  out->to = mo->from; /* %p: the MO's sender, as Kannel's sms.sender */
  out->from = mo->to; /* %P: its receiver */
  out->smsc = mo->smsc;
  out->msg_id = mo->id;
  out->service = mo->service;
  out->time_s = mo->time_s;
  out->coding = mo->coding;
}

/* "%#group#param#" from t[i] (the '#'): the index after it, or i + 1 when
 * it is not complete (then only "%#" is consumed, as in Kannel). */
static size_t skip_meta(const char *t, size_t len, size_t i) {
  const char *a = memchr(t + i + 1, '#', len - i - 1);
  if (a == NULL)
    return i + 1;
  size_t j = (size_t)(a - t) + 1;
  const char *b = j < len ? memchr(t + j, '#', len - j) : NULL;
  return b != NULL ? (size_t)(b - t) + 1 : j;
}

/* Whether code k reads what a caller may have to look up: the coding, the
 * operator's id, the connector, the account name. */
static bool reads_route(const code_t *k) {
  return k->kind == K_CHARSET || k->kind == K_DCS ||
         ((k->kind == K_STR || k->kind == K_NUM) &&
          (k->off == V(coding) || k->off == V(smsc_id) || k->off == V(smsc) ||
           k->off == V(service)));
}

bool sg_kannel_dlr_reads_route(const char *tmpl, size_t len) {
  size_t i = 0;
  while (i < len) { /* the walk of sg_kannel_dlr_expand */
    const char *pc = memchr(tmpl + i, '%', len - i);
    if (pc == NULL || (size_t)(pc - tmpl) + 1 == len)
      return false;
    i = (size_t)(pc - tmpl);
    const code_t *k = find_code(tmpl[i + 1]);
    if (k != NULL && k->kind == K_META) {
      i = skip_meta(tmpl, len, i + 1);
      continue;
    }
    if (k != NULL && reads_route(k))
      return true;
    i += 2;
  }
  return false;
}

int sg_kannel_dlr_expand(const char *tmpl, size_t len,
                         const sg_kannel_dlr_vars_t *v, char *out, size_t cap) {
  if (tmpl == NULL || v == NULL || out == NULL)
    return SG_EINVAL;
  expand_t x = {
      .s = {.p = out, .cap = cap, .full = cap == 0}, .v = v, .nextarg = 1};
  size_t i = 0;
  while (i < len) {
    /* The run up to the next '%' in one copy. */
    const char *pc = memchr(tmpl + i, '%', len - i);
    size_t j = pc != NULL ? (size_t)(pc - tmpl) : len;
    put_run(&x.s, tmpl + i, j - i);
    i = j;
    if (i + 1 >= len) { /* the end, or a '%' that ends the template */
      if (i < len)
        put(&x.s, tmpl[i++]);
      continue;
    }
    const code_t *k = find_code(tmpl[i + 1]);
    if (k == NULL) { /* unknown: copied as it is */
      put(&x.s, '%');
      put(&x.s, tmpl[i + 1]);
      i += 2;
    } else if (k->kind == K_META) {
      i = skip_meta(tmpl, len, i + 1);
    } else {
      put_code(&x, k);
      i += 2;
    }
  }
  return sink_end(&x.s);
}
