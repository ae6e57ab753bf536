/* config_value.c - the syntaxes of configuration values: integers,
 * booleans, durations, sizes, host names, listen addresses, names, and the
 * "did you mean" suggestion for misspelt keys and names.
 *
 * Pure functions over (text, length): they never allocate, never report
 * errors themselves (the schema walk words the message, so that it can say
 * which key and hide secrets) and never accept a second reading of a value:
 * "1.5s", "0x10", "yes" or " 80" are refused, not guessed at.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "core/config_int.h"
#include "core/error.h"

bool sg__cfg_is_null(const sg__cfg_node_t *n) {
  if (n == NULL || n->kind != SG__CFG_SCALAR || !n->plain)
    return false;
  static const char *const nulls[] = {"", "~", "null", "Null", "NULL"};
  for (size_t i = 0; i < sizeof nulls / sizeof nulls[0]; i++)
    if (n->len == strlen(nulls[i]) && memcmp(n->str, nulls[i], n->len) == 0)
      return true;
  return false;
}

static bool is_digit(char ch) {
  return ch >= '0' && ch <= '9';
}

static char lower(char ch) {
  return (ch >= 'A' && ch <= 'Z') ? (char)(ch - 'A' + 'a') : ch;
}

/* Reads 1..18 decimal digits at s[*i]; advances *i. 0 or SG_EINVAL. */
static int read_digits(const char *s, size_t len, size_t *i, uint64_t *out) {
  size_t start = *i;
  uint64_t v = 0;
  while (*i < len && is_digit(s[*i])) {
    if (*i - start >= 18)
      return SG_EINVAL;
    v = v * 10 + (uint64_t)(s[*i] - '0');
    (*i)++;
  }
  if (*i == start)
    return SG_EINVAL;
  *out = v;
  return 0;
}

int sg__cfg_parse_int(const char *s, size_t len, int64_t *out) {
  size_t i = 0;
  bool neg = false;
  if (len > 0 && (s[0] == '+' || s[0] == '-')) {
    neg = s[0] == '-';
    i = 1;
  }
  uint64_t v;
  if (read_digits(s, len, &i, &v) != 0 || i != len)
    return SG_EINVAL;
  *out = neg ? -(int64_t)v : (int64_t)v;
  return 0;
}

int sg__cfg_parse_bool(const char *s, size_t len, bool *out) {
  static const char *const t[] = {"true", "True", "TRUE"};
  static const char *const f[] = {"false", "False", "FALSE"};
  for (size_t i = 0; i < 3; i++) {
    if (len == strlen(t[i]) && memcmp(s, t[i], len) == 0) {
      *out = true;
      return 0;
    }
    if (len == strlen(f[i]) && memcmp(s, f[i], len) == 0) {
      *out = false;
      return 0;
    }
  }
  return SG_EINVAL;
}

/* Matches the unit at s[*i..len) (case-insensitive, longest first) against
 * names[]; advances *i and returns its index, or -1. */
static int read_unit(const char *s, size_t len, size_t *i,
                     const char *const *names, size_t n) {
  int best = -1;
  size_t best_len = 0;
  for (size_t u = 0; u < n; u++) {
    size_t ul = strlen(names[u]);
    if (ul <= best_len || *i + ul > len)
      continue;
    size_t k = 0;
    while (k < ul && lower(s[*i + k]) == names[u][k])
      k++;
    if (k == ul) {
      best = (int)u;
      best_len = ul;
    }
  }
  *i += best_len;
  return best;
}

/* 2^53: larger durations and sizes make no sense and could overflow. */
#define VALUE_MAX (UINT64_C(1) << 53)

static void skip_spaces(const char *s, size_t len, size_t *i) {
  while (*i < len && s[*i] == ' ')
    (*i)++;
}

int sg__cfg_parse_duration(const char *s, size_t len, uint64_t *ms) {
  static const char *const units[] = {"ms", "s", "m", "h", "d"};
  static const uint64_t scale[] = {1, 1000, 60000, 3600000, 86400000};
  size_t i = 0;
  uint64_t total = 0, v;
  if (read_digits(s, len, &i, &v) != 0)
    return SG_EINVAL;
  if (i == len) { /* a bare integer: milliseconds */
    *ms = v;
    return v > VALUE_MAX ? SG_ERANGE : 0;
  }
  i = 0;
  while (i < len) {
    if (read_digits(s, len, &i, &v) != 0)
      return SG_EINVAL;
    skip_spaces(s, len, &i);
    int u = read_unit(s, len, &i, units, 5);
    if (u < 0)
      return SG_EINVAL;
    if (v > VALUE_MAX / scale[u] || total + v * scale[u] > VALUE_MAX)
      return SG_ERANGE;
    total += v * scale[u];
  }
  *ms = total;
  return 0;
}

int sg__cfg_parse_size(const char *s, size_t len, uint64_t *bytes) {
  static const char *const units[] = {"b",  "k",   "kb", "kib", "m",
                                      "mb", "mib", "g",  "gb",  "gib"};
  static const uint64_t scale[] = {1,       1024,    1024,    1024,    1 << 20,
                                   1 << 20, 1 << 20, 1 << 30, 1 << 30, 1 << 30};
  size_t i = 0;
  uint64_t v;
  if (read_digits(s, len, &i, &v) != 0)
    return SG_EINVAL;
  uint64_t mul = 1;
  if (i < len) {
    skip_spaces(s, len, &i);
    int u = read_unit(s, len, &i, units, 10);
    if (u < 0 || i != len)
      return SG_EINVAL;
    mul = scale[u];
  }
  if (v > VALUE_MAX / mul)
    return SG_ERANGE;
  *bytes = v * mul;
  return 0;
}

/* An IP literal of family af (AF_INET, AF_INET6). */
static bool is_ip(int af, const char *s, size_t len) {
  char buf[64];
  unsigned char addr[16];
  if (len == 0 || len >= sizeof buf || memchr(s, '\0', len) != NULL)
    return false;
  memcpy(buf, s, len);
  buf[len] = '\0';
  return inet_pton(af, buf, addr) == 1;
}

/* RFC 1123 section 2.1 host name: labels of 1..63 letters, digits and
 * hyphens, not starting or ending with a hyphen; 253 octets at most. The
 * last label is not all digits (RFC 3696 section 2), so "300.1.1.1" is
 * neither an address nor a name. */
static bool is_hostname(const char *s, size_t len) {
  if (len == 0 || len > 253)
    return false;
  size_t start = 0;
  bool all_digits = true;
  for (size_t i = 0; i <= len; i++) {
    if (i == len || s[i] == '.') {
      size_t l = i - start;
      if (l == 0 || l > 63 || s[start] == '-' || s[i - 1] == '-')
        return false;
      if (i < len)
        all_digits = true;
      start = i + 1;
      continue;
    }
    char ch = s[i];
    bool alnum = is_digit(ch) || (lower(ch) >= 'a' && lower(ch) <= 'z');
    if (!alnum && ch != '-')
      return false;
    if (!is_digit(ch))
      all_digits = false;
  }
  return !all_digits;
}

bool sg__cfg_valid_host(const char *s, size_t len) {
  return is_ip(AF_INET, s, len) || is_ip(AF_INET6, s, len) ||
         is_hostname(s, len);
}

/* The port after the last ':'; SG_EINVAL (not digits) or SG_ERANGE. */
static int parse_port(const char *s, size_t len, long *port) {
  uint64_t v;
  size_t i = 0;
  if (len > 6 || read_digits(s, len, &i, &v) != 0 || i != len)
    return SG_EINVAL;
  *port = (long)v;
  return (v < 1 || v > 65535) ? SG_ERANGE : 0;
}

int sg__cfg_parse_listen(const char *s, size_t len, size_t *host_off,
                         size_t *host_len, long *port) {
  if (len > 0 && s[0] == '[') {
    const char *end = memchr(s, ']', len);
    if (end == NULL)
      return SG_EINVAL;
    size_t hl = (size_t)(end - s) - 1, after = (size_t)(end - s) + 1;
    if (after >= len || s[after] != ':' || !is_ip(AF_INET6, s + 1, hl))
      return SG_EINVAL;
    *host_off = 1;
    *host_len = hl;
    return parse_port(s + after + 1, len - after - 1, port);
  }
  const char *colon = memchr(s, ':', len);
  if (colon == NULL || memchr(colon + 1, ':', len - (size_t)(colon - s) - 1))
    return SG_EINVAL; /* no port, or an IPv6 literal without brackets */
  size_t hl = (size_t)(colon - s);
  if (!is_ip(AF_INET, s, hl) && !is_hostname(s, hl))
    return SG_EINVAL;
  *host_off = 0;
  *host_len = hl;
  return parse_port(colon + 1, len - hl - 1, port);
}

bool sg__cfg_valid_name(const char *s, size_t len) {
  if (len == 0 || len > 64)
    return false;
  for (size_t i = 0; i < len; i++) {
    char ch = s[i];
    bool ok = is_digit(ch) || (lower(ch) >= 'a' && lower(ch) <= 'z') ||
              ch == '_' || ch == '.' || ch == '-';
    if (!ok)
      return false;
  }
  return true;
}

bool sg__cfg_printable_ascii(const char *s, size_t len) {
  for (size_t i = 0; i < len; i++)
    if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] > 0x7E)
      return false;
  return true;
}

#define SUGGEST_MAX 64

/* Optimal string alignment distance (Levenshtein plus adjacent
 * transpositions), ASCII case folded. Both lengths <= SUGGEST_MAX. */
static size_t osa_distance(const char *a, size_t al, const char *b, size_t bl) {
  uint8_t d[SUGGEST_MAX + 1][SUGGEST_MAX + 1];
  for (size_t i = 0; i <= al; i++)
    d[i][0] = (uint8_t)i;
  for (size_t j = 0; j <= bl; j++)
    d[0][j] = (uint8_t)j;
  for (size_t i = 1; i <= al; i++) {
    for (size_t j = 1; j <= bl; j++) {
      unsigned cost = lower(a[i - 1]) == lower(b[j - 1]) ? 0u : 1u;
      unsigned v = d[i - 1][j] + 1u;
      if (d[i][j - 1] + 1u < v)
        v = d[i][j - 1] + 1u;
      if (d[i - 1][j - 1] + cost < v)
        v = d[i - 1][j - 1] + cost;
      if (i > 1 && j > 1 && lower(a[i - 1]) == lower(b[j - 2]) &&
          lower(a[i - 2]) == lower(b[j - 1]) && d[i - 2][j - 2] + 1u < v)
        v = d[i - 2][j - 2] + 1u;
      d[i][j] = (uint8_t)v;
    }
  }
  return d[al][bl];
}

const char *sg__cfg_suggest(const char *word, size_t len,
                            const char *const *cands, size_t n) {
  if (len == 0 || len > SUGGEST_MAX)
    return NULL;
  const char *best = NULL;
  size_t best_d = 3;
  for (size_t i = 0; i < n; i++) {
    size_t cl = strlen(cands[i]);
    if (cl > SUGGEST_MAX)
      continue;
    size_t d = osa_distance(word, len, cands[i], cl);
    size_t longer = len > cl ? len : cl;
    /* "dlr_delay_ms" for "dlr_delay": a known key with a suffix. */
    if (d > 2 && cl >= 4 && len > cl && memcmp(word, cands[i], cl) == 0 &&
        word[cl] == '_')
      d = 2;
    if (d < best_d && 2 * d <= longer) {
      best = cands[i];
      best_d = d;
    }
  }
  return best;
}

/* Appends at most 40 characters of s, escaped, in double quotes. */
static void quote(const char *s, size_t len, char *buf, size_t cap) {
  size_t o = 0, shown = 0;
  char tmp[8];
  buf[o++] = '"';
  for (size_t i = 0; i < len && o + 8 < cap; i++) {
    unsigned char ch = (unsigned char)s[i];
    if ((ch & 0xC0) != 0x80 && shown++ == 40) {
      memcpy(buf + o, "...", 3);
      o += 3;
      break;
    }
    if (ch == '"' || ch == '\\') {
      snprintf(tmp, sizeof tmp, "\\%c", ch);
    } else if (ch < 0x20 || ch == 0x7F) {
      snprintf(tmp, sizeof tmp, "\\x%02X", ch);
    } else {
      tmp[0] = (char)ch;
      tmp[1] = '\0';
    }
    size_t tl = strlen(tmp);
    memcpy(buf + o, tmp, tl);
    o += tl;
  }
  buf[o++] = '"';
  buf[o] = '\0';
}

void sg__cfg_describe(const sg__cfg_node_t *n, bool secret, char *buf,
                      size_t cap) {
  const char *fixed = NULL;
  if (n == NULL)
    fixed = "nothing";
  else if (n->kind == SG__CFG_MAP)
    fixed = "a mapping";
  else if (n->kind == SG__CFG_SEQ)
    fixed = "a sequence";
  else if (sg__cfg_is_null(n))
    fixed = n->len == 0 ? "nothing" : "null";
  else if (secret)
    fixed = "<secret>";
  if (fixed != NULL) {
    snprintf(buf, cap, "%s", fixed);
    return;
  }
  if (cap < 64) {
    snprintf(buf, cap, "a value");
    return;
  }
  quote(n->str, n->len, buf, cap);
}
