/* template.c - placeholders of message templates ("Hello {{name}}")
 * checked and filled from a lookup callback.
 *
 * One scanner serves both the check and the fill, so a template that passes
 * the check never fails to fill for syntax. It must never allocate or
 * interpret the values it copies in.
 */
#include "core/template.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "core/error.h"

static bool key_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
         (c >= '0' && c <= '9') || c == '_' || c == '-';
}

static bool name_ok(const char *n, size_t len) {
  if ((len == 4 && memcmp(n, "name", 4) == 0) ||
      (len == 6 && memcmp(n, "number", 6) == 0))
    return true;
  if (len <= 7 || len > 7 + 64 || memcmp(n, "fields.", 7) != 0)
    return false;
  for (size_t i = 7; i < len; i++)
    if (!key_char(n[i]))
      return false;
  return true;
}

/* Reads the placeholder that starts at tpl[i] ("{{"): its name into
 * name[SG_TEMPLATE_NAME_MAX] and the offset after its "}}" into *end.
 * Returns 0 or SG_EINVAL with msg. */
static int placeholder(const char *tpl, size_t len, size_t i, char *name,
                       size_t *end, char *msg, size_t cap) {
  size_t a = i + 2;
  while (a < len && tpl[a] == ' ')
    a++;
  size_t b = a;
  while (b < len && tpl[b] != '}' && tpl[b] != ' ' && tpl[b] != '{')
    b++;
  size_t c = b;
  while (c < len && tpl[c] == ' ')
    c++;
  if (c + 1 >= len || tpl[c] != '}' || tpl[c + 1] != '}') {
    snprintf(msg, cap, "the placeholder at offset %zu is not closed with }}",
             i);
    return SG_EINVAL;
  }
  if (!name_ok(tpl + a, b - a)) {
    snprintf(msg, cap,
             "unknown placeholder {{%.*s}} at offset %zu (use name, number "
             "or fields.KEY)",
             (int)(b - a > 80 ? 80 : b - a), tpl + a, i);
    return SG_EINVAL;
  }
  memcpy(name, tpl + a, b - a);
  name[b - a] = '\0';
  *end = c + 2;
  return 0;
}

int sg_template_check(const char *tpl, size_t len, char *msg, size_t cap) {
  char name[SG_TEMPLATE_NAME_MAX];
  for (size_t i = 0; i + 1 < len; i++) {
    if (tpl[i] != '{' || tpl[i + 1] != '{')
      continue;
    size_t end;
    int rc = placeholder(tpl, len, i, name, &end, msg, cap);
    if (rc != 0)
      return rc;
    i = end - 1;
  }
  return 0;
}

static bool put(char *out, size_t cap, size_t *n, const char *s, size_t len) {
  if (*n + len + 1 > cap)
    return false;
  memcpy(out + *n, s, len);
  *n += len;
  return true;
}

int sg_template_fill(const char *tpl, size_t len, sg_template_lookup_cb lookup,
                     void *data, char *out, size_t cap, size_t *out_len,
                     char *missing, size_t missing_cap) {
  char name[SG_TEMPLATE_NAME_MAX], msg[8];
  size_t n = 0, i = 0, from = 0;
  if (cap == 0)
    return SG_ENOSPC;
  while (i + 1 < len) {
    if (tpl[i] != '{' || tpl[i + 1] != '{') {
      i++;
      continue;
    }
    size_t end;
    if (placeholder(tpl, len, i, name, &end, msg, sizeof msg) != 0)
      return SG_EINVAL;
    const char *v = lookup(data, name);
    if (v == NULL) {
      snprintf(missing, missing_cap, "%s", name);
      return SG_ENOENT;
    }
    if (!put(out, cap, &n, tpl + from, i - from) ||
        !put(out, cap, &n, v, strlen(v)))
      return SG_ENOSPC;
    i = from = end;
  }
  if (!put(out, cap, &n, tpl + from, len - from))
    return SG_ENOSPC;
  out[n] = '\0';
  *out_len = n;
  return 0;
}
