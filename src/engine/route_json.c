/* route_json.c - routing rules as JSON (route_admin.h "rules as JSON"):
 * read strictly (unknown keys, wrong types and values are errors naming
 * the field) and written back in the same form, for the REST API and for
 * the table the store keeps.
 *
 * It reads and writes documents only: it must never check rules against
 * the connectors and accounts (routes.c does) nor touch the engine.
 */
#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "core/error.h"
#include "engine/route_admin.h"

static const char *const strategies[] = {"failover", "weighted", "least-cost"};
static const char *const types[] = {NULL, "text", "unicode", "binary"};

static int bad(sg_route_err_t *err, const char *code, const char *base, long i,
               const char *key, const char *msg) {
  err->code = code;
  if (base != NULL && base[0] != '\0' && i >= 0)
    snprintf(err->field, sizeof err->field, "%s[%ld]%s%s", base, i,
             key[0] ? "." : "", key);
  else
    snprintf(err->field, sizeof err->field, "%s", key);
  snprintf(err->message, sizeof err->message, "%s", msg);
  return SG_EINVAL;
}

/* A string key (NULL when absent or null); false after an error. */
static bool opt_string(const json_t *o, const char *key, const char **out,
                       const char *base, long i, sg_route_err_t *err) {
  const json_t *v = json_object_get(o, key);
  *out = NULL;
  if (v == NULL || json_is_null(v))
    return true;
  if (!json_is_string(v)) {
    char m[64];
    snprintf(m, sizeof m, "'%s' must be a string", key);
    bad(err, "invalid_type", base, i, key, m);
    return false;
  }
  *out = json_string_value(v);
  return true;
}

static bool enum_of(const json_t *o, const char *key, const char *const *names,
                    size_t n, int *out, const char *base, long i,
                    sg_route_err_t *err) {
  const char *s;
  if (!opt_string(o, key, &s, base, i, err))
    return false;
  if (s == NULL)
    return true;
  for (size_t k = 0; k < n; k++)
    if (names[k] != NULL && strcmp(names[k], s) == 0) {
      *out = (int)k;
      return true;
    }
  bad(err, "invalid_value", base, i, key,
      strcmp(key, "type") == 0 ? "expected one of text, unicode, binary"
                               : "expected one of failover, weighted, "
                                 "least-cost");
  return false;
}

static bool known_key(const char *k, bool with_id) {
  static const char *const keys[] = {"prefix",     "pattern", "account",
                                     "sender",     "type",    "strategy",
                                     "connectors", "weights"};
  for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
    if (strcmp(k, keys[i]) == 0)
      return true;
  return with_id && strcmp(k, "id") == 0;
}

static bool read_id(const json_t *o, sg_route_def_t *d, const char *base,
                    long i, sg_route_err_t *err) {
  const json_t *v = json_object_get(o, "id");
  if (v == NULL || json_is_null(v))
    return true;
  if (!json_is_integer(v) || json_integer_value(v) < 1) {
    bad(err, "invalid_value", base, i, "id", "'id' must be a positive integer");
    return false;
  }
  d->id = json_integer_value(v);
  return true;
}

/* connectors (required, strings) and weights (integers, optional). */
static bool read_lists(const json_t *o, sg_route_def_t *d, const char **names,
                       uint32_t *weights, const char *base, long i,
                       sg_route_err_t *err) {
  const json_t *cs = json_object_get(o, "connectors");
  if (cs == NULL || json_is_null(cs)) {
    bad(err, "missing_field", base, i, "connectors",
        "'connectors' is required: a list of connector names");
    return false;
  }
  if (!json_is_array(cs) || json_array_size(cs) == 0 ||
      json_array_size(cs) > SG_ROUTE_CONNECTORS_MAX) {
    bad(err, "invalid_value", base, i, "connectors",
        "'connectors' must be a list of 1 to 256 connector names");
    return false;
  }
  d->n_connectors = json_array_size(cs);
  for (size_t k = 0; k < d->n_connectors; k++) {
    const json_t *v = json_array_get(cs, k);
    if (!json_is_string(v)) {
      char key[48];
      snprintf(key, sizeof key, "connectors[%zu]", k);
      bad(err, "invalid_type", base, i, key, "a connector name is a string");
      return false;
    }
    names[k] = json_string_value(v);
  }
  d->connectors = names;
  const json_t *ws = json_object_get(o, "weights");
  if (ws == NULL || json_is_null(ws))
    return true;
  if (!json_is_array(ws) || json_array_size(ws) != d->n_connectors) {
    bad(err, "invalid_value", base, i, "weights",
        "'weights' must be a list of integers, one per connector");
    return false;
  }
  for (size_t k = 0; k < d->n_connectors; k++) {
    const json_t *v = json_array_get(ws, k);
    if (!json_is_integer(v) || json_integer_value(v) < 1 ||
        json_integer_value(v) > 1000) {
      char key[48];
      snprintf(key, sizeof key, "weights[%zu]", k);
      bad(err, "invalid_value", base, i, key, "expected an integer 1-1000");
      return false;
    }
    weights[k] = (uint32_t)json_integer_value(v);
  }
  d->weights = weights;
  if (json_object_get(o, "strategy") == NULL)
    d->strategy = SG_CONFIG_STRATEGY_WEIGHTED; /* as in the configuration */
  return true;
}

static int read_rule(const json_t *o, bool with_id, sg_route_def_t *d,
                     const char **names, uint32_t *weights, const char *base,
                     long i, sg_route_err_t *err) {
  if (!json_is_object(o))
    return bad(err, "invalid_type", base, i, "", "a route is a JSON object");
  const char *k;
  const json_t *v;
  json_object_foreach((json_t *)o, k, v) {
    if (!known_key(k, with_id)) {
      char key[48];
      snprintf(key, sizeof key, "%.40s", k);
      return bad(err, "unknown_field", base, i, key,
                 "unknown field; a route has prefix, pattern, account, "
                 "sender, type, strategy, connectors, weights");
    }
  }
  int type = 0, strategy = 0;
  memset(d, 0, sizeof *d);
  if (!(with_id ? read_id(o, d, base, i, err) : true) ||
      !opt_string(o, "prefix", &d->prefix, base, i, err) ||
      !opt_string(o, "pattern", &d->pattern, base, i, err) ||
      !opt_string(o, "account", &d->account, base, i, err) ||
      !opt_string(o, "sender", &d->sender, base, i, err) ||
      !enum_of(o, "type", types, 4, &type, base, i, err) ||
      !enum_of(o, "strategy", strategies, 3, &strategy, base, i, err))
    return SG_EINVAL;
  d->type = (sg_config_msg_type_t)type;
  d->strategy = (sg_config_strategy_t)strategy;
  return read_lists(o, d, names, weights, base, i, err) ? 0 : SG_EINVAL;
}

int sg_route_defs_parse(const json_t *doc, bool one, bool with_id,
                        const char *field_base, sg_route_defs_t *out,
                        sg_route_err_t *err) {
  memset(out, 0, sizeof *out);
  if (!one && !json_is_array(doc))
    return bad(err, "invalid_type", NULL, -1, field_base ? field_base : "",
               "expected a list of routes");
  size_t n = one ? 1 : json_array_size(doc);
  if (n > SG_ROUTES_MAX)
    return bad(err, "invalid_value", NULL, -1, field_base ? field_base : "",
               "at most 10000 routes");
  /* Room for every rule's connector names and weights, in one block. */
  size_t slots = 0;
  for (size_t i = 0; i < n; i++) {
    const json_t *cs =
        json_object_get(one ? doc : json_array_get(doc, i), "connectors");
    size_t m = json_is_array(cs) ? json_array_size(cs) : 0;
    slots += m <= SG_ROUTE_CONNECTORS_MAX ? m : 0;
  }
  out->defs = sg_calloc(n ? n : 1, sizeof *out->defs);
  out->names_ = sg_calloc(slots ? slots : 1, sizeof *out->names_);
  out->weights_ = sg_calloc(slots ? slots : 1, sizeof *out->weights_);
  if (out->defs == NULL || out->names_ == NULL || out->weights_ == NULL) {
    sg_route_defs_free(out);
    return SG_ENOMEM;
  }
  size_t at = 0;
  for (size_t i = 0; i < n; i++) {
    const json_t *o = one ? doc : json_array_get(doc, i);
    int rc = read_rule(o, with_id, &out->defs[i], &out->names_[at],
                       &out->weights_[at], one ? NULL : field_base,
                       one ? -1 : (long)i, err);
    if (rc != 0) {
      sg_route_defs_free(out);
      return rc;
    }
    at += out->defs[i].n_connectors;
  }
  out->n = n;
  return 0;
}

void sg_route_defs_free(sg_route_defs_t *d) {
  if (d == NULL)
    return;
  sg_free(d->defs);
  sg_free(d->names_);
  sg_free(d->weights_);
  memset(d, 0, sizeof *d);
}

static int set_opt(json_t *o, const char *key, const char *v) {
  return v == NULL ? 0 : json_object_set_new(o, key, json_string(v));
}

json_t *sg_route_def_json(const sg_route_def_t *d) {
  json_t *o = json_object(), *cs = json_array(), *ws = NULL;
  bool weighted = d->strategy == SG_CONFIG_STRATEGY_WEIGHTED;
  if (weighted)
    ws = json_array();
  int rc = (o == NULL || cs == NULL || (weighted && ws == NULL)) ? -1 : 0;
  for (size_t k = 0; rc == 0 && k < d->n_connectors; k++) {
    rc |= json_array_append_new(cs, json_string(d->connectors[k]));
    if (weighted)
      rc |= json_array_append_new(
          ws, json_integer(d->weights != NULL ? d->weights[k] : 1));
  }
  if (rc == 0) {
    rc |= json_object_set_new(o, "id", json_integer(d->id));
    rc |= set_opt(o, "prefix", d->prefix);
    rc |= set_opt(o, "pattern", d->pattern);
    rc |= set_opt(o, "account", d->account);
    rc |= set_opt(o, "sender", d->sender);
    rc |= set_opt(o, "type", sg_routes_type_name(d->type));
    rc |= json_object_set_new(
        o, "strategy", json_string(sg_routes_strategy_name(d->strategy)));
    rc |= json_object_set(o, "connectors", cs);
    if (weighted)
      rc |= json_object_set(o, "weights", ws);
  }
  json_decref(cs);
  json_decref(ws);
  if (rc != 0) {
    json_decref(o);
    return NULL;
  }
  return o;
}
