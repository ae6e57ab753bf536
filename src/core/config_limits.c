/* config_limits.c - the keys that protect an account: `quota` (parts per
 * UTC day and month), `billing` (prices per part by number prefix) and
 * the checks of `destinations` and of sender patterns.
 *
 * Like config_schema.c it only reads and checks. Prices are read from the
 * text as written ("0.025") into integer micro-units by core/limits.h, so
 * that no price ever passes through floating point.
 */
#include <stddef.h>
#include <string.h>

#include "core/config_int.h"
#include "core/error.h"
#include "core/limits.h"

/* The highest price of one part: 1000 units. */
#define PRICE_MAX ((int64_t)1000 * SG_LIMITS_MICRO)
#define PRICES_MAX 4096

#define Q sg_config_quota_t
static const sg__cfg_field_t quota_fields[] = {
    {"daily", SG__CFG_T_UINT, 0, offsetof(Q, daily), 0, 0, 1000000000, NULL,
     NULL},
    {"monthly", SG__CFG_T_UINT, 0, offsetof(Q, monthly), 0, 0, 1000000000, NULL,
     NULL},
};
#undef Q

static void init_quota(void *obj) {
  memset(obj, 0, sizeof(sg_config_quota_t));
}

const sg__cfg_section_t sg__cfg_quota_section = {
    quota_fields, sizeof quota_fields / sizeof quota_fields[0],
    sizeof(sg_config_quota_t), init_quota, NULL};

/* ---- billing.prices ------------------------------------------------------ */

static bool is_prefix(const char *s, size_t len) {
  if (len < 1 || len > 16 || s[0] != '+')
    return false;
  for (size_t i = 1; i < len; i++)
    if (s[i] < '0' || s[i] > '9')
      return false;
  return true;
}

static void read_price(sg__cfg_ctx_t *c, const sg__cfg_node_t *k,
                       sg_config_price_t *out) {
  const sg__cfg_node_t *v = k->value;
  if (k->kind != SG__CFG_SCALAR || !is_prefix(k->str, k->len)) {
    sg__cfg_error(c, k,
                  "a price's key must be \"+\" and up to 15 digits (like "
                  "\"+7\", \"+4915\" or \"+\" for every number)");
    return;
  }
  out->prefix = sg__cfg_strndup(c->arena, k->str, k->len);
  if (out->prefix == NULL) {
    sg__cfg_oom(c);
    return;
  }
  int64_t micro = -1;
  int rc = v != NULL && v->kind == SG__CFG_SCALAR && !sg__cfg_is_null(v)
               ? sg_limits_amount_parse(v->str, v->len, &micro)
               : SG_EINVAL;
  if (rc != 0 || micro < 0 || micro > PRICE_MAX)
    sg__cfg_error(c, v != NULL ? v : k,
                  "expected a price per part from 0 to 1000 with at most 6 "
                  "decimals (like 0.025)");
  else
    out->micro = micro;
}

/* The reader of billing.prices (a CUSTOM field): obj is the prices member
 * of an sg_config_billing_t, v the mapping of prefixes to prices. */
static void read_prices(sg__cfg_ctx_t *c, void *obj, const sg__cfg_node_t *v) {
  sg_config_billing_t *b =
      (sg_config_billing_t *)((char *)obj -
                              offsetof(sg_config_billing_t, prices));
  if (v->kind != SG__CFG_MAP || v->n > PRICES_MAX) {
    sg__cfg_error(c, v,
                  "expected a mapping of up to %d number prefixes to prices, "
                  "like {\"+7\": 0.025, \"+\": 0.10}",
                  PRICES_MAX);
    return;
  }
  if (v->n == 0)
    return;
  b->prices = sg__cfg_alloc(c->arena, v->n * sizeof *b->prices);
  if (b->prices == NULL) {
    sg__cfg_oom(c);
    return;
  }
  size_t n = 0;
  for (const sg__cfg_node_t *k = v->first; k != NULL; k = k->next) {
    sg_config_price_t *p = &b->prices[n];
    read_price(c, k, p);
    if (p->prefix == NULL)
      continue;
    for (size_t i = 0; i < n; i++)
      if (strcmp(b->prices[i].prefix, p->prefix) == 0) {
        sg__cfg_error(c, k, "prefix %s has a price already", p->prefix);
        p->prefix = NULL;
        break;
      }
    if (p->prefix != NULL)
      n++;
  }
  b->n_prices = n;
}

static const sg__cfg_section_t prices_reader = {NULL, 0, 0, NULL, read_prices};

#define B sg_config_billing_t
static const sg__cfg_field_t billing_fields[] = {
    {"prices", SG__CFG_T_CUSTOM, SG__CFG_F_REQUIRED, offsetof(B, prices), 0, 0,
     0, NULL, &prices_reader},
};
#undef B

static void init_billing(void *obj) {
  sg_config_billing_t *b = obj;
  memset(b, 0, sizeof *b);
  b->enabled = true; /* called only when the key is present */
}

const sg__cfg_section_t sg__cfg_billing_section = {
    billing_fields, sizeof billing_fields / sizeof billing_fields[0],
    sizeof(sg_config_billing_t), init_billing, NULL};

/* ---- checks -------------------------------------------------------------- */

void sg__cfg_check_account_limits(sg__cfg_ctx_t *c, sg_config_account_t *a,
                                  const sg__cfg_node_t *map) {
  const sg__cfg_node_t *dl = sg__cfg_map_get(map, "destinations");
  for (size_t i = 0; i < a->n_destinations; i++) {
    const sg__cfg_node_t *n = sg__cfg_seq_at(dl, i);
    if (n != NULL && !n->reported &&
        !sg_limits_destination_valid(a->destinations[i]))
      sg__cfg_error(c, n,
                    "expected an ISO 3166 region in upper case (like DE) or "
                    "\"+\" and 1-15 digits (like \"+4915\")");
  }
  const sg__cfg_node_t *q = sg__cfg_map_get(map, "quota");
  if (a->quota.daily > 0 && a->quota.monthly > 0 &&
      a->quota.daily > a->quota.monthly)
    sg__cfg_error(c, q, "daily (%u) is more than monthly (%u)", a->quota.daily,
                  a->quota.monthly);
}
