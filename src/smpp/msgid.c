/* msgid.c - canonical keys and matching rules for SMSC message ids, so that
 * a delivery receipt finds the submit_sm_resp it answers although the SMSC
 * wrote the id in another base, case or padding (rules in msgid.h).
 *
 * Pure string arithmetic: it must never do I/O, allocate, depend on the C
 * locale, or read an id past the length it is given. Numbers of any length up
 * to SG_MSGID_HEX_DIGITS_MAX hex digits are converted exactly (no 64-bit
 * limit: real ids exceed it), in fixed buffers on the stack.
 */
#include "smpp/msgid.h"

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "core/error.h"

static const char *const rule_names[] = {
    "none", "exact", "nocase", "zeros", "hex_dec", "dec_hex", "hex", "decimal",
};

const char *sg_msgid_rule_name(sg_msgid_rule_t rule) {
  if ((int)rule < 0 || (size_t)rule >= sizeof rule_names / sizeof *rule_names)
    return NULL;
  return rule_names[rule];
}

/* ---- characters -----------------------------------------------------------
 */

static char fold(char c) {
  return (c >= 'A' && c <= 'Z') ? (char)(c + 32) : c;
}

static bool is_dec(char c) {
  return c >= '0' && c <= '9';
}

/* The value of a hex digit, or -1. */
static int hex_val(char c) {
  if (is_dec(c))
    return c - '0';
  c = fold(c);
  return (c >= 'a' && c <= 'f') ? c - 'a' + 10 : -1;
}

static bool all_dec(const char *s, size_t n) {
  for (size_t i = 0; i < n; i++)
    if (!is_dec(s[i]))
      return false;
  return n > 0;
}

static bool nocase_eq(const char *a, size_t an, const char *b, size_t bn) {
  if (an != bn)
    return false;
  for (size_t i = 0; i < an; i++)
    if (fold(a[i]) != fold(b[i]))
      return false;
  return true;
}

static void strip_zeros(const char **s, size_t *n) {
  while (*n > 0 && **s == '0') {
    (*s)++;
    (*n)--;
  }
}

/* ---- numbers --------------------------------------------------------------
 */

/* A number in canonical form: decimal digits, no leading zeros, "0" for 0. */
typedef struct number {
  char d[SG_MSGID_KEY_MAX];
  size_t n;
} number_t;

static int dec_number(const char *s, size_t n, number_t *out) {
  if (!all_dec(s, n))
    return SG_EINVAL;
  strip_zeros(&s, &n);
  if (n > SG_MSGID_KEY_MAX)
    return SG_ETOOLONG;
  if (n == 0) {
    out->d[0] = '0';
    out->n = 1;
    return 0;
  }
  memcpy(out->d, s, n);
  out->n = n;
  return 0;
}

/* Skips a "0x"/"0X" prefix; the rest must be 1+ hex digits. */
static bool hex_digits(const char **s, size_t *n) {
  if (*n > 2 && (*s)[0] == '0' && fold((*s)[1]) == 'x') {
    *s += 2;
    *n -= 2;
  }
  for (size_t i = 0; i < *n; i++)
    if (hex_val((*s)[i]) < 0)
      return false;
  return *n > 0;
}

/* Converts hex digits to decimal: dec = dec * 16 + digit over a
 * little-endian array of decimal digits. 64 hex digits need 78. */
static int hex_number(const char *s, size_t n, number_t *out) {
  if (!hex_digits(&s, &n))
    return SG_EINVAL;
  strip_zeros(&s, &n);
  if (n > SG_MSGID_HEX_DIGITS_MAX)
    return SG_ETOOLONG;
  uint8_t dec[SG_MSGID_KEY_MAX];
  size_t nd = 0;
  for (size_t i = 0; i < n; i++) {
    unsigned carry = (unsigned)hex_val(s[i]);
    for (size_t k = 0; k < nd; k++) {
      unsigned v = dec[k] * 16u + carry;
      dec[k] = (uint8_t)(v % 10);
      carry = v / 10;
    }
    for (; carry > 0; carry /= 10)
      dec[nd++] = (uint8_t)(carry % 10);
  }
  out->n = nd > 0 ? nd : 1;
  out->d[0] = '0';
  for (size_t k = 0; k < nd; k++)
    out->d[k] = (char)('0' + dec[nd - 1 - k]);
  return 0;
}

static int read_number(const char *s, size_t n, bool hex, number_t *out) {
  return hex ? hex_number(s, n, out) : dec_number(s, n, out);
}

/* Whether both ids read as numbers (hex or decimal each) and are equal. */
static bool numbers_eq(const char *a, size_t an, bool a_hex, const char *b,
                       size_t bn, bool b_hex) {
  number_t x, y;
  if (read_number(a, an, a_hex, &x) != 0 || read_number(b, bn, b_hex, &y) != 0)
    return false;
  return x.n == y.n && memcmp(x.d, y.d, x.n) == 0;
}

/* ---- keys -------------------------------------------------------------------
 */

/* Copies s[0..n) (folded when asked) and a NUL into out[0..cap). */
static int emit(const char *s, size_t n, bool folded, char *out, size_t cap,
                size_t *out_len) {
  if (n >= cap)
    return SG_ENOSPC;
  for (size_t i = 0; i < n; i++)
    out[i] = folded ? fold(s[i]) : s[i];
  out[n] = '\0';
  if (out_len != NULL)
    *out_len = n;
  return 0;
}

static int number_key(const char *id, size_t len, bool hex, char *out,
                      size_t cap, size_t *out_len) {
  number_t x;
  int rc = read_number(id, len, hex, &x);
  return rc != 0 ? rc : emit(x.d, x.n, false, out, cap, out_len);
}

/* AUTO: decimal, else hex, else lower case without leading zeros. */
static int auto_key(const char *id, size_t len, char *out, size_t cap,
                    size_t *out_len) {
  number_t x;
  bool dec = all_dec(id, len);
  if (read_number(id, len, !dec, &x) == 0)
    return emit(x.d, x.n, false, out, cap, out_len);
  strip_zeros(&id, &len);
  return emit(id, len, true, out, cap, out_len);
}

int sg_msgid_key(const char *id, size_t len, sg_msgid_mode_t mode, char *out,
                 size_t cap, size_t *out_len) {
  if (id == NULL || len == 0 || (out == NULL && cap > 0))
    return SG_EINVAL;
  switch (mode) {
  case SG_MSGID_EXACT:
    return emit(id, len, false, out, cap, out_len);
  case SG_MSGID_NOCASE:
    return emit(id, len, true, out, cap, out_len);
  case SG_MSGID_HEX:
    return number_key(id, len, true, out, cap, out_len);
  case SG_MSGID_DECIMAL:
    return number_key(id, len, false, out, cap, out_len);
  case SG_MSGID_AUTO:
    return auto_key(id, len, out, cap, out_len);
  }
  return SG_EINVAL;
}

/* ---- matching ---------------------------------------------------------------
 */

static bool zeros_eq(const char *a, size_t an, const char *b, size_t bn) {
  strip_zeros(&a, &an);
  strip_zeros(&b, &bn);
  return nocase_eq(a, an, b, bn);
}

static int auto_match(const char *a, size_t an, const char *b, size_t bn) {
  if (an == bn && memcmp(a, b, an) == 0)
    return SG_MSGID_RULE_EXACT;
  if (nocase_eq(a, an, b, bn))
    return SG_MSGID_RULE_NOCASE;
  if (zeros_eq(a, an, b, bn))
    return SG_MSGID_RULE_ZEROS;
  if (numbers_eq(a, an, true, b, bn, false))
    return SG_MSGID_RULE_HEX_DEC;
  if (numbers_eq(a, an, false, b, bn, true))
    return SG_MSGID_RULE_DEC_HEX;
  if (numbers_eq(a, an, true, b, bn, true))
    return SG_MSGID_RULE_HEX;
  return SG_MSGID_RULE_NONE;
}

int sg_msgid_match(const char *resp_id, size_t resp_len, const char *receipt_id,
                   size_t receipt_len, sg_msgid_mode_t mode) {
  if ((resp_id == NULL && resp_len > 0) ||
      (receipt_id == NULL && receipt_len > 0))
    return SG_EINVAL;
  if ((unsigned)mode > SG_MSGID_DECIMAL)
    return SG_EINVAL;
  if (resp_len == 0 || receipt_len == 0)
    return SG_MSGID_RULE_NONE;
  const char *a = resp_id, *b = receipt_id;
  size_t an = resp_len, bn = receipt_len;
  switch (mode) {
  case SG_MSGID_EXACT:
    return an == bn && memcmp(a, b, an) == 0 ? SG_MSGID_RULE_EXACT : 0;
  case SG_MSGID_NOCASE:
    return nocase_eq(a, an, b, bn) ? SG_MSGID_RULE_NOCASE : 0;
  case SG_MSGID_HEX:
    return numbers_eq(a, an, true, b, bn, true) ? SG_MSGID_RULE_HEX : 0;
  case SG_MSGID_DECIMAL:
    return numbers_eq(a, an, false, b, bn, false) ? SG_MSGID_RULE_DECIMAL : 0;
  case SG_MSGID_AUTO:
    break;
  }
  return auto_match(a, an, b, bn);
}
