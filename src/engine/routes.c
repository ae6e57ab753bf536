/* routes.c - the routing table (routes.h): rules checked and compiled once,
 * matched per message, and the strategies that order a rule's connectors.
 *
 * Pure decisions over the rules, the configuration's connectors and what
 * the caller says is usable: this file must never call the store or a
 * connector, nor keep state between calls beyond the compiled table.
 */
#include "engine/routes.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "core/error.h"
#include "core/numpat.h"

typedef struct rule {
  sg_route_def_t def; /* points at the owned copies below */
  char *prefix, *pattern, *account, *sender;
  char **names;
  uint32_t *weights;
  size_t *conn; /* connector index per entry */
  sg_numpat_t *re;
  long score;
} rule_t;

struct sg_routes {
  rule_t *r;
  size_t n;
  const sg_routes_env_t *env;
};

/* ---- names --------------------------------------------------------------- */

const char *sg_routes_strategy_name(sg_config_strategy_t s) {
  switch (s) {
  case SG_CONFIG_STRATEGY_WEIGHTED:
    return "weighted";
  case SG_CONFIG_STRATEGY_LEAST_COST:
    return "least-cost";
  default:
    return "failover";
  }
}

const char *sg_routes_type_name(sg_config_msg_type_t t) {
  switch (t) {
  case SG_CONFIG_MSG_TEXT:
    return "text";
  case SG_CONFIG_MSG_UNICODE:
    return "unicode";
  case SG_CONFIG_MSG_BINARY:
    return "binary";
  default:
    return NULL;
  }
}

/* ---- building ------------------------------------------------------------ */

static int fail(sg_route_err_t *err, const char *code, const char *base,
                size_t i, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 6, 7)));

static int fail(sg_route_err_t *err, const char *code, const char *base,
                size_t i, const char *field, const char *fmt, ...) {
  if (err == NULL)
    return SG_EINVAL;
  err->code = code;
  if (base != NULL && base[0] != '\0')
    snprintf(err->field, sizeof err->field, "%s[%zu]%s%s", base, i,
             field[0] ? "." : "", field);
  else
    snprintf(err->field, sizeof err->field, "%s", field);
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(err->message, sizeof err->message, fmt, ap);
  va_end(ap);
  return SG_EINVAL;
}

static bool is_prefix(const char *s) {
  size_t n = strlen(s);
  if (n < 1 || n > 16 || s[0] != '+')
    return false;
  for (size_t i = 1; i < n; i++)
    if (s[i] < '0' || s[i] > '9')
      return false;
  return true;
}

static bool is_sender(const char *s) {
  size_t n = strlen(s);
  if (n < 1 || n > 20)
    return false;
  for (size_t i = 0; i < n; i++)
    if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] > 0x7e)
      return false;
  return true;
}

static int find_connector(const sg_routes_env_t *env, const char *name) {
  for (size_t i = 0; i < env->n_connectors; i++)
    if (strcmp(env->connectors[i].name, name) == 0)
      return (int)i;
  return -1;
}

static bool find_account(const sg_routes_env_t *env, const char *name) {
  for (size_t i = 0; i < env->n_accounts; i++)
    if (env->accounts[i].name != NULL &&
        strcmp(env->accounts[i].name, name) == 0)
      return true;
  return false;
}

/* Checks the keys of d that need no allocation. */
static int check_keys(const sg_route_def_t *d, const sg_routes_env_t *env,
                      const char *b, size_t i, sg_route_err_t *err) {
  if (d->prefix == NULL && d->pattern == NULL)
    return fail(err, "missing_field", b, i, "prefix",
                "a route needs a prefix or a pattern (\"+\" matches every "
                "number)");
  if (d->prefix != NULL && !is_prefix(d->prefix))
    return fail(err, "invalid_value", b, i, "prefix",
                "expected \"+\" and up to 15 digits, like \"+7900\"");
  if (d->account != NULL && !find_account(env, d->account))
    return fail(err, "unknown_account", b, i, "account",
                "no account named \"%.64s\"", d->account);
  if (d->sender != NULL && !is_sender(d->sender))
    return fail(err, "invalid_value", b, i, "sender",
                "expected 1-20 printable ASCII characters");
  if ((unsigned)d->type > SG_CONFIG_MSG_BINARY)
    return fail(err, "invalid_value", b, i, "type",
                "expected one of text, unicode, binary");
  if ((unsigned)d->strategy > SG_CONFIG_STRATEGY_LEAST_COST)
    return fail(err, "invalid_value", b, i, "strategy",
                "expected one of failover, weighted, least-cost");
  if (d->n_connectors == 0 || d->n_connectors > SG_ROUTE_CONNECTORS_MAX)
    return fail(err, "invalid_value", b, i, "connectors",
                "name 1 to %d connectors", SG_ROUTE_CONNECTORS_MAX);
  if (d->weights != NULL && d->strategy != SG_CONFIG_STRATEGY_WEIGHTED)
    return fail(err, "invalid_value", b, i, "weights",
                "weights are given: the strategy must be weighted");
  for (size_t k = 0; d->weights != NULL && k < d->n_connectors; k++)
    if (d->weights[k] < 1 || d->weights[k] > 1000) {
      char f[48];
      snprintf(f, sizeof f, "weights[%zu]", k);
      return fail(err, "invalid_value", b, i, f, "expected an integer 1-1000");
    }
  return 0;
}

/* Resolves the connector names of d into r->conn. */
static int check_connectors(rule_t *r, const sg_route_def_t *d,
                            const sg_routes_env_t *env, const char *b, size_t i,
                            sg_route_err_t *err) {
  for (size_t k = 0; k < d->n_connectors; k++) {
    char f[48];
    snprintf(f, sizeof f, "connectors[%zu]", k);
    const char *name = d->connectors[k] != NULL ? d->connectors[k] : "";
    int ci = find_connector(env, name);
    if (ci < 0)
      return fail(err, "unknown_connector", b, i, f,
                  "no connector named \"%.64s\"", name);
    if (env->connectors[ci].bind_type == SG_CONFIG_BIND_RECEIVER)
      return fail(err, "invalid_value", b, i, f,
                  "connector \"%.64s\" binds as receiver and cannot send",
                  name);
    for (size_t j = 0; j < k; j++)
      if (r->conn[j] == (size_t)ci)
        return fail(err, "invalid_value", b, i, f,
                    "connector \"%.64s\" is listed twice", name);
    r->conn[k] = (size_t)ci;
  }
  return 0;
}

static char *dup_or_null(const char *s, bool *ok) {
  if (s == NULL)
    return NULL;
  char *d = sg_strdup(s);
  if (d == NULL)
    *ok = false;
  return d;
}

static int copy_def(rule_t *r, const sg_route_def_t *d) {
  bool ok = true;
  r->prefix = dup_or_null(d->prefix, &ok);
  r->pattern = dup_or_null(d->pattern, &ok);
  r->account = dup_or_null(d->account, &ok);
  r->sender = dup_or_null(d->sender, &ok);
  r->names = sg_calloc(d->n_connectors, sizeof *r->names);
  r->weights = sg_calloc(d->n_connectors, sizeof *r->weights);
  r->conn = sg_calloc(d->n_connectors, sizeof *r->conn);
  if (r->names == NULL || r->weights == NULL || r->conn == NULL)
    return SG_ENOMEM;
  for (size_t k = 0; k < d->n_connectors; k++) {
    r->names[k] = dup_or_null(d->connectors[k] ? d->connectors[k] : "", &ok);
    r->weights[k] = d->weights != NULL ? d->weights[k] : 1;
  }
  r->def = *d;
  r->def.prefix = r->prefix;
  r->def.pattern = r->pattern;
  r->def.account = r->account;
  r->def.sender = r->sender;
  r->def.connectors = (const char *const *)r->names;
  /* Weights are kept for every strategy (picks read them) but shown only
   * where they mean something, so that a rule read back is valid. */
  r->def.weights =
      d->strategy == SG_CONFIG_STRATEGY_WEIGHTED ? r->weights : NULL;
  r->score = (long)strlen(r->prefix != NULL ? r->prefix : "+") * 8 +
             (r->account ? 4 : 0) + (r->sender ? 2 : 0) + (r->def.type ? 1 : 0);
  return ok ? 0 : SG_ENOMEM;
}

static void rule_free(rule_t *r) {
  sg_free(r->prefix);
  sg_free(r->pattern);
  sg_free(r->account);
  sg_free(r->sender);
  for (size_t k = 0; r->names != NULL && k < r->def.n_connectors; k++)
    sg_free(r->names[k]);
  sg_free(r->names);
  sg_free(r->weights);
  sg_free(r->conn);
  sg_numpat_free(r->re);
}

static int build_rule(rule_t *r, const sg_route_def_t *d,
                      const sg_routes_env_t *env, const char *b, size_t i,
                      sg_route_err_t *err) {
  int rc = check_keys(d, env, b, i, err);
  if (rc == 0)
    rc = copy_def(r, d);
  if (rc == 0)
    rc = check_connectors(r, d, env, b, i, err);
  if (rc != 0 || d->pattern == NULL)
    return rc;
  char why[160];
  size_t off = 0;
  rc = sg_numpat_compile(d->pattern, &r->re, why, sizeof why, &off);
  if (rc == SG_EINVAL)
    return fail(err, "invalid_pattern", b, i, "pattern",
                "not a valid regular expression: %s at offset %zu", why, off);
  return rc;
}

static int check_ids(const sg_route_def_t *defs, size_t n, const char *b,
                     sg_route_err_t *err) {
  for (size_t i = 0; i < n; i++) {
    if (defs[i].id < 0)
      return fail(err, "invalid_value", b, i, "id", "ids are positive");
    for (size_t j = 0; defs[i].id > 0 && j < i; j++)
      if (defs[j].id == defs[i].id)
        return fail(err, "invalid_value", b, i, "id",
                    "another route has id %lld", (long long)defs[i].id);
  }
  return 0;
}

int sg_routes_new(const sg_route_def_t *defs, size_t n,
                  const sg_routes_env_t *env, const char *field_base,
                  int64_t *next_id, sg_routes_t **out, sg_route_err_t *err) {
  if (env == NULL || out == NULL || next_id == NULL || (n > 0 && !defs))
    return SG_EINVAL;
  *out = NULL;
  if (n > SG_ROUTES_MAX)
    return fail(err, "invalid_value", NULL, 0, field_base ? field_base : "",
                "at most %d routes", SG_ROUTES_MAX);
  int rc = check_ids(defs, n, field_base, err);
  if (rc != 0)
    return rc;
  sg_routes_t *t = sg_calloc(1, sizeof *t);
  if (t == NULL || (n > 0 && (t->r = sg_calloc(n, sizeof *t->r)) == NULL)) {
    sg_free(t);
    return SG_ENOMEM;
  }
  t->env = env;
  for (size_t i = 0; i < n && rc == 0; i++, t->n++)
    rc = build_rule(&t->r[i], &defs[i], env, field_base, i, err);
  if (rc != 0) {
    sg_routes_free(t);
    return rc;
  }
  int64_t max = *next_id - 1;
  for (size_t i = 0; i < n; i++)
    if (t->r[i].def.id > max)
      max = t->r[i].def.id;
  for (size_t i = 0; i < n; i++)
    if (t->r[i].def.id == 0)
      t->r[i].def.id = ++max;
  *next_id = max + 1;
  *out = t;
  return 0;
}

int sg_routes_from_config(const sg_config_t *cfg, const sg_routes_env_t *env,
                          sg_routes_t **out) {
  sg_route_def_t *defs =
      cfg->n_routes ? sg_calloc(cfg->n_routes, sizeof *defs) : NULL;
  if (cfg->n_routes > 0 && defs == NULL)
    return SG_ENOMEM;
  for (size_t i = 0; i < cfg->n_routes; i++) {
    const sg_config_route_t *r = &cfg->routes[i];
    defs[i] = (sg_route_def_t){
        .id = (int64_t)i + 1,
        .prefix = r->prefix,
        .pattern = r->pattern,
        .account = r->account,
        .sender = r->sender,
        .type = r->type,
        .strategy = r->strategy,
        .connectors = r->connectors,
        .n_connectors = r->n_connectors,
        .weights =
            r->strategy == SG_CONFIG_STRATEGY_WEIGHTED ? r->weights : NULL};
  }
  int64_t next = 1;
  sg_route_err_t err;
  int rc = sg_routes_new(defs, cfg->n_routes, env, "routes", &next, out, &err);
  sg_free(defs);
  return rc == SG_EINVAL ? SG_ECONFIG : rc;
}

void sg_routes_free(sg_routes_t *t) {
  if (t == NULL)
    return;
  for (size_t i = 0; i < t->n; i++)
    rule_free(&t->r[i]);
  sg_free(t->r);
  sg_free(t);
}

size_t sg_routes_count(const sg_routes_t *t) {
  return t != NULL ? t->n : 0;
}

const sg_route_def_t *sg_routes_def(const sg_routes_t *t, size_t i) {
  return &t->r[i].def;
}

size_t sg_routes_conn(const sg_routes_t *t, size_t i, size_t k) {
  return t->r[i].conn[k];
}

int sg_routes_find_id(const sg_routes_t *t, int64_t id) {
  for (size_t i = 0; t != NULL && i < t->n; i++)
    if (t->r[i].def.id == id)
      return (int)i;
  return -1;
}

/* ---- matching ------------------------------------------------------------ */

static bool why_not(char *why, size_t cap, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static bool why_not(char *why, size_t cap, const char *fmt, ...) {
  if (why != NULL && cap > 0) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, cap, fmt, ap);
    va_end(ap);
  }
  return false;
}

static bool same(const char *want, const char *have) {
  return want == NULL || (have != NULL && strcmp(want, have) == 0);
}

bool sg_routes_match(sg_routes_t *t, size_t i, const sg_route_msg_t *m,
                     char *why, size_t cap) {
  rule_t *r = &t->r[i];
  const char *to = m->to != NULL ? m->to : "";
  if (r->prefix != NULL && strncmp(to, r->prefix, strlen(r->prefix)) != 0)
    return why_not(why, cap, "prefix %s does not match", r->prefix);
  if (r->re != NULL && !sg_numpat_match(r->re, to, strlen(to)))
    return why_not(why, cap, "pattern does not match");
  if (!same(r->account, m->account))
    return why_not(why, cap, "only for account %s", r->account);
  if (!same(r->sender, m->sender))
    return why_not(why, cap, "only for sender %s", r->sender);
  if (r->def.type != SG_CONFIG_MSG_ANY && r->def.type != m->type)
    return why_not(why, cap, "only for %s messages",
                   sg_routes_type_name(r->def.type));
  why_not(why, cap, "matches (specificity %ld)", r->score);
  return true;
}

int sg_routes_find(sg_routes_t *t, const sg_route_msg_t *m) {
  int best = -1;
  long best_score = -1;
  for (size_t i = 0; t != NULL && i < t->n; i++) {
    if (t->r[i].score <= best_score || !sg_routes_match(t, i, m, NULL, 0))
      continue;
    best = (int)i;
    best_score = t->r[i].score;
  }
  return best;
}

/* ---- strategies ---------------------------------------------------------- */

double sg_routes_price(const sg_config_connector_t *c, const char *to) {
  double price = -1;
  size_t best = 0;
  for (size_t p = 0; p < c->n_prices; p++) {
    size_t pl = strlen(c->prices[p].prefix);
    if (pl > best && strncmp(to, c->prices[p].prefix, pl) == 0) {
      best = pl;
      price = c->prices[p].price;
    }
  }
  return price;
}

size_t sg_routes_order(const sg_routes_t *t, size_t i, const char *to,
                       size_t *order, double *prices) {
  const rule_t *r = &t->r[i];
  size_t n = r->def.n_connectors;
  double local[SG_ROUTE_CONNECTORS_MAX];
  for (size_t k = 0; k < n; k++) {
    order[k] = k;
    local[k] = sg_routes_price(&t->env->connectors[r->conn[k]], to);
  }
  if (r->def.strategy == SG_CONFIG_STRATEGY_LEAST_COST) {
    /* Insertion sort, stable: ties and unpriced keep the list order. */
    for (size_t k = 1; k < n; k++) {
      size_t e = order[k], j = k;
      double pe = local[e];
      while (j > 0) {
        double pj = local[order[j - 1]];
        bool before = pe >= 0 && (pj < 0 || pe < pj);
        if (!before)
          break;
        order[j] = order[j - 1];
        j--;
      }
      order[j] = e;
    }
  }
  for (size_t k = 0; prices != NULL && k < n; k++)
    prices[k] = local[order[k]];
  return n;
}

static uint64_t rng_next(uint64_t *s) {
  /* xorshift64: spreading load needs no cryptographic quality. */
  uint64_t x = *s ? *s : 0x9e3779b97f4a7c15u;
  x ^= x << 13;
  x ^= x >> 7;
  x ^= x << 17;
  *s = x;
  return x;
}

/* By weight among the entries of r (only usable ones when up_only). */
static int pick_weighted(const rule_t *r, bool up_only,
                         sg_route_usable_fn usable, void *data, uint64_t *rng) {
  uint64_t total = 0;
  for (size_t k = 0; k < r->def.n_connectors; k++)
    if (!up_only || usable(r->conn[k], data))
      total += r->weights[k];
  if (total == 0)
    return -1;
  uint64_t x = rng_next(rng) % total;
  for (size_t k = 0; k < r->def.n_connectors; k++) {
    if (up_only && !usable(r->conn[k], data))
      continue;
    if (x < r->weights[k])
      return (int)k;
    x -= r->weights[k];
  }
  return -1;
}

size_t sg_routes_pick(const sg_routes_t *t, size_t i, const char *to,
                      sg_route_usable_fn usable, void *data, uint64_t *rng) {
  const rule_t *r = &t->r[i];
  if (r->def.strategy == SG_CONFIG_STRATEGY_WEIGHTED) {
    int k = pick_weighted(r, true, usable, data, rng);
    if (k < 0)
      k = pick_weighted(r, false, usable, data, rng);
    return r->conn[k < 0 ? 0 : k];
  }
  size_t order[SG_ROUTE_CONNECTORS_MAX];
  size_t n = sg_routes_order(t, i, to, order, NULL);
  for (size_t k = 0; k < n; k++)
    if (usable(r->conn[order[k]], data))
      return r->conn[order[k]];
  return r->conn[order[0]];
}

int sg_routes_alternative(sg_routes_t *t, const char *to, const char *sender,
                          size_t from, sg_route_usable_fn usable, void *data) {
  int best = -1;
  long best_score = -1;
  for (size_t i = 0; t != NULL && i < t->n; i++) {
    rule_t *r = &t->r[i];
    bool lists = false;
    for (size_t k = 0; k < r->def.n_connectors; k++)
      lists = lists || r->conn[k] == from;
    /* The account and type are not known here (a claimed part carries
     * neither): a rule naming them still counts, as it lists `from`. */
    sg_route_msg_t m = {to, r->account, sender, r->def.type};
    if (!lists || r->score <= best_score || !sg_routes_match(t, i, &m, 0, 0))
      continue;
    best = (int)i;
    best_score = r->score;
  }
  if (best < 0)
    return -1;
  const rule_t *r = &t->r[best];
  size_t order[SG_ROUTE_CONNECTORS_MAX];
  size_t n = sg_routes_order(t, (size_t)best, to, order, NULL), at = 0;
  for (size_t k = 0; k < n; k++)
    if (r->conn[order[k]] == from)
      at = k;
  for (size_t step = 1; step < n; step++) {
    size_t idx = r->conn[order[(at + step) % n]];
    if (idx != from && usable(idx, data))
      return (int)idx;
  }
  return -1;
}

bool sg_routes_has_alternative(const sg_routes_t *t, size_t ci,
                               sg_route_usable_fn usable, void *data) {
  for (size_t i = 0; t != NULL && i < t->n; i++) {
    const rule_t *r = &t->r[i];
    bool through = false, other = false;
    for (size_t k = 0; k < r->def.n_connectors; k++) {
      if (r->conn[k] == ci)
        through = true;
      else if (usable(r->conn[k], data))
        other = true;
    }
    if (through && other)
      return true;
  }
  return false;
}
