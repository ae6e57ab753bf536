/* routes.h - the routing table: ordered rules that say which connectors
 * carry a message, and how one of them is chosen.
 *
 * A rule matches a message when every key it sets matches: the recipient
 * (E.164) starts with `prefix` and matches `pattern` (PCRE2, compiled once
 * with the JIT), the message comes from `account`, has sender `sender` and
 * is of `type` (text, unicode, binary). Among the rules that match, the
 * most specific wins: the longest prefix (a rule without one counts as
 * "+"), then one that names the account, the sender, the type; at equal
 * specificity the one earlier in the table. The rule's connectors are
 * tried by its strategy: failover (in order), weighted (by weight among
 * those usable), least-cost (the cheapest by the connectors' `prices`,
 * longest price prefix; a connector without a price for the number comes
 * after the priced ones, in list order).
 *
 * The table is pure data with compiled patterns: it never looks at a
 * connector's state by itself (the caller says which are usable), never
 * touches the store, and is used from one thread (the engine's loop).
 */
#ifndef SG_ENGINE_ROUTES_H
#define SG_ENGINE_ROUTES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/config.h"

#define SG_ROUTES_MAX 10000         /* rules in one table */
#define SG_ROUTE_CONNECTORS_MAX 256 /* connectors of one rule */

/* A rule as written (configuration, REST API, store). Strings are
 * borrowed for the call that takes it. */
typedef struct sg_route_def {
  int64_t id;          /* > 0; 0 in a new rule: the table gives one */
  const char *prefix;  /* "+" and 0..15 digits, or NULL */
  const char *pattern; /* PCRE2 on the E.164 number, or NULL */
  const char *account; /* NULL: any */
  const char *sender;  /* NULL: any */
  sg_config_msg_type_t type;
  sg_config_strategy_t strategy;
  const char *const *connectors;
  size_t n_connectors;
  const uint32_t *weights; /* one per connector (1..1000), or NULL: all 1 */
} sg_route_def_t;

/* What the table knows of the connectors and accounts it may name. */
typedef struct sg_routes_env {
  const sg_config_connector_t *connectors; /* index = connector index */
  size_t n_connectors;
  const sg_config_account_t *accounts;
  size_t n_accounts;
} sg_routes_env_t;

/* Why a table was refused: a stable code, the field at fault as the REST
 * API names it ("routes[2].pattern", "connectors[1]") and a sentence. */
typedef struct sg_route_err {
  const char *code; /* "unknown_connector", "invalid_pattern", ... */
  char field[64];
  char message[256];
} sg_route_err_t;

typedef struct sg_routes sg_routes_t;

/* Builds a table of n rules (0..SG_ROUTES_MAX) in that order. Rules with
 * id 0 are given the next ids from *next_id (which is advanced); a given
 * id must be unique. Every rule is checked as the configuration checks
 * routes: a prefix or a pattern, a pattern that compiles (its error offset
 * in the message), 1..256 connectors that exist, send, and appear once,
 * weights 1..1000 (one per connector, only with weighted), a known
 * account, a sender of 1..20 printable ASCII characters. field_base
 * prefixes the field names of errors ("routes" -> "routes[2].pattern";
 * NULL or "" -> "pattern"). Returns 0 and sets *out; SG_EINVAL with *err
 * filled (nothing built); SG_ENOMEM. env must outlive the table. */
int sg_routes_new(const sg_route_def_t *defs, size_t n,
                  const sg_routes_env_t *env, const char *field_base,
                  int64_t *next_id, sg_routes_t **out, sg_route_err_t *err);

/* The configuration's routes as a table, ids 1..n in file order (the
 * configuration was checked, so this fails only for memory). */
int sg_routes_from_config(const sg_config_t *cfg, const sg_routes_env_t *env,
                          sg_routes_t **out);

/* NULL is a no-op. */
void sg_routes_free(sg_routes_t *t);

size_t sg_routes_count(const sg_routes_t *t);
/* Rule i as written (strings owned by the table), 0 <= i < count. */
const sg_route_def_t *sg_routes_def(const sg_routes_t *t, size_t i);
/* Connector index of entry k of rule i. */
size_t sg_routes_conn(const sg_routes_t *t, size_t i, size_t k);
/* The position of the rule with this id, or -1. */
int sg_routes_find_id(const sg_routes_t *t, int64_t id);

/* A message as routing sees it. */
typedef struct sg_route_msg {
  const char *to;      /* E.164 */
  const char *account; /* NULL: none */
  const char *sender;  /* NULL: none */
  sg_config_msg_type_t type;
} sg_route_msg_t;

/* Whether rule i matches m. When why is not NULL, writes the first reason
 * it does not ("prefix +44 does not match") or what matched. */
bool sg_routes_match(sg_routes_t *t, size_t i, const sg_route_msg_t *m,
                     char *why, size_t cap);

/* The rule for m (see the top of this file), or -1. */
int sg_routes_find(sg_routes_t *t, const sg_route_msg_t *m);

/* Whether connector index conn may take new parts now. */
typedef bool (*sg_route_usable_fn)(size_t conn, void *data);

/* The entries of rule i in the order the strategy tries them for number
 * `to` (failover and weighted: as listed; least-cost: by price), written
 * to order[0..n) (entry positions, not connector indexes); prices[k] is
 * the price of order[k] or -1 when it has none. Both arrays hold at least
 * the rule's connector count; prices may be NULL. Returns n. */
size_t sg_routes_order(const sg_routes_t *t, size_t i, const char *to,
                       size_t *order, double *prices);

/* The connector (index) for a new message on rule i: the first usable in
 * the strategy's order, or for weighted one of the usable by weight
 * (drawing from the xorshift state *rng). When none is usable: the first
 * in that order (weighted: by weight among all), so that the part waits
 * in the store for it. */
size_t sg_routes_pick(const sg_routes_t *t, size_t i, const char *to,
                      sg_route_usable_fn usable, void *data, uint64_t *rng);

/* Another usable connector for a part to `to` from `sender` now on
 * connector `from`: the best rule that lists `from` (the account is not
 * known for a queued part, so rules naming one count), then its next
 * usable entry after `from` in the strategy's order, wrapping. -1: none. */
int sg_routes_alternative(sg_routes_t *t, const char *to, const char *sender,
                          size_t from, sg_route_usable_fn usable, void *data);

/* Whether some rule lists connector ci together with a usable other. */
bool sg_routes_has_alternative(const sg_routes_t *t, size_t ci,
                               sg_route_usable_fn usable, void *data);

/* The price of connector ci for number `to` (longest prefix of its
 * prices), or -1 when it has none. */
double sg_routes_price(const sg_config_connector_t *c, const char *to);

/* The names of strategies and types, as the configuration writes them. */
const char *sg_routes_strategy_name(sg_config_strategy_t s);
const char *sg_routes_type_name(sg_config_msg_type_t t); /* NULL for ANY */

#endif
