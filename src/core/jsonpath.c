/* jsonpath.c - one value of a JSON document named by a path such as
 * "$.messages[0].id" (jsonpath.h).
 *
 * It must never allocate or modify the tree it reads, and never accept a
 * path it cannot evaluate exactly: a provider's answer is matched by this
 * path and a wrong match would record the wrong message id.
 */
#include "core/jsonpath.h"

#include <stdio.h>
#include <string.h>

#include "core/error.h"

static bool name_char(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
         (c >= '0' && c <= '9') || c == '_' || c == '-' || c == '$';
}

static int fail(size_t *err_off, size_t at, int rc) {
  if (err_off != NULL)
    *err_off = at;
  return rc;
}

static int set_name(sg_jsonpath_step_t *st, const char *s, size_t len) {
  if (len == 0)
    return SG_EINVAL;
  if (len >= SG_JSONPATH_NAME_MAX)
    return SG_ETOOLONG;
  memcpy(st->name, s, len);
  st->name[len] = '\0';
  return 0;
}

/* One "[...]" step at s[i] == '['; sets *end past ']'. */
static int bracket(const char *s, size_t len, size_t i, sg_jsonpath_step_t *st,
                   size_t *end) {
  i++;
  if (i < len && (s[i] == '\'' || s[i] == '"')) {
    char q = s[i++];
    size_t a = i;
    while (i < len && s[i] != q)
      i++;
    if (i + 1 >= len || s[i + 1] != ']')
      return SG_EINVAL;
    int rc = set_name(st, s + a, i - a);
    *end = i + 2;
    return rc;
  }
  size_t a = i, v = 0;
  while (i < len && s[i] >= '0' && s[i] <= '9' && i - a < 9)
    v = v * 10 + (size_t)(s[i++] - '0');
  if (i == a || i >= len || s[i] != ']')
    return SG_EINVAL;
  st->is_index = true;
  st->index = v;
  *end = i + 1;
  return 0;
}

int sg_jsonpath_compile(const char *s, size_t len, sg_jsonpath_t *out,
                        size_t *err_off) {
  memset(out, 0, sizeof *out);
  if (len == 0 || s[0] != '$')
    return fail(err_off, 0, SG_EINVAL);
  size_t i = 1;
  while (i < len) {
    if (out->n == SG_JSONPATH_STEPS_MAX)
      return fail(err_off, i, SG_ETOOLONG);
    sg_jsonpath_step_t *st = &out->steps[out->n];
    int rc;
    size_t end = i;
    if (s[i] == '.') {
      end = i + 1;
      while (end < len && name_char(s[end]))
        end++;
      rc = set_name(st, s + i + 1, end - i - 1);
    } else if (s[i] == '[') {
      rc = bracket(s, len, i, st, &end);
    } else {
      rc = SG_EINVAL;
    }
    if (rc != 0)
      return fail(err_off, i, rc);
    out->n++;
    i = end;
  }
  return 0;
}

int sg_jsonpath_get(const sg_jsonpath_t *p, const json_t *root, char *out,
                    size_t cap) {
  const json_t *v = root;
  for (size_t i = 0; v != NULL && i < p->n; i++) {
    const sg_jsonpath_step_t *st = &p->steps[i];
    if (st->is_index)
      v = json_is_array(v) ? json_array_get(v, st->index) : NULL;
    else
      v = json_is_object(v) ? json_object_get(v, st->name) : NULL;
  }
  if (v == NULL || json_is_null(v))
    return SG_ENOENT;
  if (cap == 0)
    return SG_ENOSPC;
  int n;
  switch (json_typeof(v)) {
  case JSON_STRING: {
    size_t l = json_string_length(v);
    if (l >= cap)
      return SG_ENOSPC;
    memcpy(out, json_string_value(v), l);
    out[l] = '\0';
    return 0;
  }
  case JSON_INTEGER:
    n = snprintf(out, cap, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
    break;
  case JSON_REAL:
    n = snprintf(out, cap, "%.17g", json_real_value(v));
    break;
  case JSON_TRUE:
  case JSON_FALSE:
    n = snprintf(out, cap, "%s", json_is_true(v) ? "true" : "false");
    break;
  default:
    return SG_EINVAL;
  }
  return n < 0 || (size_t)n >= cap ? SG_ENOSPC : 0;
}
