/* config_route.c - what the configuration says about routing beyond the
 * key tables: a connector's `prices` (a mapping of destination prefixes to
 * prices, whose keys are data, not schema) and the match keys of a route
 * (a prefix or a pattern, and the pattern compiles).
 *
 * It reads and checks only; it must never decide a route (engine/routes.c
 * does) nor look at other sections.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/config_int.h"
#include "core/error.h"
#include "core/numpat.h"

#define PRICES_MAX 4096

static bool prefix_ok(const char *s, size_t len) {
  if (len < 1 || len > 16 || s[0] != '+')
    return false;
  for (size_t i = 1; i < len; i++)
    if (s[i] < '0' || s[i] > '9')
      return false;
  return true;
}

/* A decimal number written plainly: digits, an optional fraction. */
static bool price_ok(const char *s, size_t len, double *out) {
  size_t i = 0, digits = 0;
  while (i < len && s[i] >= '0' && s[i] <= '9')
    i++, digits++;
  if (i < len && s[i] == '.') {
    i++;
    while (i < len && s[i] >= '0' && s[i] <= '9')
      i++, digits++;
  }
  if (digits == 0 || i != len || len > 32)
    return false;
  char buf[40];
  memcpy(buf, s, len);
  buf[len] = '\0';
  *out = strtod(buf, NULL);
  return isfinite(*out) && *out >= 0;
}

static void read_price(sg__cfg_ctx_t *c, const sg__cfg_node_t *key,
                       sg_config_conn_price_t *p) {
  const sg__cfg_node_t *v = key->value;
  if (!prefix_ok(key->str, key->len)) {
    sg__cfg_error(c, key, "expected a prefix: \"+\" and up to 15 digits");
    return;
  }
  p->prefix = sg__cfg_strndup(c->arena, key->str, key->len);
  if (p->prefix == NULL) {
    sg__cfg_oom(c);
    return;
  }
  if (v == NULL || v->kind != SG__CFG_SCALAR ||
      !price_ok(v->str, v->len, &p->price)) {
    char got[200] = "nothing";
    if (v != NULL)
      sg__cfg_describe(v, false, got, sizeof got);
    sg__cfg_error(c, v != NULL ? v : key,
                  "expected a price: a number of 0 or more such as 0.02, got "
                  "%s",
                  got);
  }
}

void sg__cfg_read_prices(sg__cfg_ctx_t *c, const sg__cfg_field_t *f, void *obj,
                         const sg__cfg_node_t *v) {
  if (v->kind != SG__CFG_MAP) {
    char got[200];
    sg__cfg_describe(v, false, got, sizeof got);
    sg__cfg_error(c, v,
                  "expected a mapping of prefixes to prices, e.g. {\"+7\": "
                  "0.02}, got %s",
                  got);
    return;
  }
  if (v->n > PRICES_MAX) {
    sg__cfg_error(c, v, "%zu prices, at most %d", v->n, PRICES_MAX);
    return;
  }
  sg_config_conn_price_t *arr =
      v->n > 0 ? sg__cfg_alloc(c->arena, v->n * sizeof *arr) : NULL;
  if (v->n > 0 && arr == NULL) {
    sg__cfg_oom(c);
    return;
  }
  size_t i = 0;
  for (const sg__cfg_node_t *k = v->first; k != NULL; k = k->next, i++)
    if (!k->reported)
      read_price(c, k, &arr[i]);
  for (i = 0; i < v->n; i++)
    if (arr[i].prefix == NULL)
      arr[i].prefix = ""; /* reported: never matches */
  memcpy((char *)obj + f->off, &arr, sizeof arr);
  size_t n = v->n;
  memcpy((char *)obj + f->count_off, &n, sizeof n);
}

void sg__cfg_check_route_match(sg__cfg_ctx_t *c, sg_config_route_t *r,
                               const sg__cfg_node_t *map) {
  if (r->prefix == NULL && r->pattern == NULL &&
      sg__cfg_map_get(map, "prefix") == NULL)
    sg__cfg_error(c, map,
                  "a route needs a prefix or a pattern (\"+\" matches every "
                  "number)");
  if (r->pattern == NULL)
    return;
  sg_numpat_t *p = NULL;
  char why[160];
  size_t off = 0;
  int rc = sg_numpat_compile(r->pattern, &p, why, sizeof why, &off);
  sg_numpat_free(p);
  if (rc == SG_ENOMEM)
    sg__cfg_oom(c);
  else if (rc != 0)
    sg__cfg_error(c, sg__cfg_map_get(map, "pattern"),
                  "not a valid regular expression: %s at offset %zu", why, off);
}
