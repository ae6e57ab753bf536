/* inrules.h - the inbound routing rules as the API sees them: a rule with
 * its id, read from and written to JSON, and the engine's calls that list
 * and change the rules (GET/POST/PUT/DELETE /v1/inbound/rules).
 *
 * The rules live in the store (store.h "INBOUND RULES AND REPLY COUNTS")
 * and in memory, compiled, on the engine's loop. The configuration's
 * `inbound.rules` seed the store while the API has not changed them
 * (docs/configuration.md "inbound"). Every change is checked like a rule of
 * the configuration (core/inrule.h), written to the store, and used from
 * the moment its callback fires.
 *
 * Everything here runs on the engine's loop.
 */
#ifndef SG_ENGINE_INRULES_H
#define SG_ENGINE_INRULES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "core/config.h"
#include "engine/engine.h"

/* A rule and its id. The strings of r belong to it (sg_inrule_clear). */
typedef struct sg_inrule {
  int64_t id;        /* 0: not stored yet */
  unsigned position; /* 1-based, as read from JSON; 0: not given */
  sg_config_inbound_rule_t r;
} sg_inrule_t;

/* Why a rule (or a change) was refused: an API error code
 * ("invalid_type", "invalid_value", "missing_field", "unknown_field",
 * "not_found"), the field as the client wrote it ("regex",
 * "rules[2].account"; "" for the whole body) and a sentence. */
typedef struct sg_inrule_err {
  const char *code;
  char field[64];
  char message[256];
} sg_inrule_err_t;

/* Reads one rule from the JSON object o: the keys of a rule of the
 * configuration (to, keyword, aliases, regex, account, action, url,
 * method, reply, reply_max_length; null stands for "not given"), and id
 * and position; any other key, a wrong type or a bad value is refused.
 * The rule is checked with sg_inrule_check (not whether its account
 * exists: sg_engine_inrules_change does that). prefix names o in errors
 * ("" or "rules[2]"). Returns 0 with *out (clear it with sg_inrule_clear),
 * SG_EINVAL with *err and *out empty, or SG_ENOMEM. */
int sg_inrule_from_json(const json_t *o, const char *prefix, sg_inrule_t *out,
                        sg_inrule_err_t *err);

/* The JSON of a rule: "id" and "position" (when with_id), then every key
 * of the rule, unset ones as null. NULL when out of memory. */
json_t *sg_inrule_to_json(const sg_inrule_t *r, bool with_id);

/* Deep-copies src into *dst (its strings then belong to dst). Returns 0
 * or SG_ENOMEM (dst is then empty). */
int sg_inrule_copy(sg_inrule_t *dst, const sg_config_inbound_rule_t *src,
                   int64_t id);

/* Frees the strings of r and empties it; an empty r is a no-op. */
void sg_inrule_clear(sg_inrule_t *r);

/* ---- the engine's rules -------------------------------------------------- */

typedef struct sg_engine_inrules {
  const sg_inrule_t *rules; /* in order; position i + 1 */
  size_t n;
  bool managed; /* set through the API (else seeded from the configuration) */
} sg_engine_inrules_t;

/* The rules in force, valid until the next change (use them at once).
 * Before sg_engine_start() completed the list is empty. */
void sg_engine_inrules_get(const sg_engine_t *e, sg_engine_inrules_t *out);

typedef enum sg_engine_inrules_op {
  SG_ENGINE_INRULES_ADD = 0, /* rules[0] at position (0: at the end) */
  SG_ENGINE_INRULES_SET,     /* rule id becomes rules[0] (position: moves) */
  SG_ENGINE_INRULES_DELETE,  /* rule id goes */
  SG_ENGINE_INRULES_REPLACE  /* rules[0..n) replace every rule */
} sg_engine_inrules_op_t;

typedef struct sg_engine_inrules_change {
  sg_engine_inrules_op_t op;
  int64_t id;               /* SET, DELETE */
  const sg_inrule_t *rules; /* ADD, SET: one; REPLACE: n (ids of existing
                               rules are kept, 0 gets a new one) */
  size_t n;
} sg_engine_inrules_change_t;

/* status 0 with the rules now in force and `id` the rule added or set
 * (DELETE: the rule deleted; REPLACE: 0); SG_ENOENT (no rule with that id),
 * SG_ERANGE (a position past the end + 1), SG_EIO (the store failed: nothing
 * changed). */
typedef void (*sg_engine_inrules_cb)(sg_engine_t *e, int status,
                                     const sg_engine_inrules_t *now, int64_t id,
                                     void *ud);

/* Checks the change (each rule as sg_inrule_check, its account must
 * exist, at most SG_STORE_INRULES_MAX rules), copies it and queues it:
 * changes are applied one at a time in the order they came, each written
 * to the store as a whole list and used once committed. Returns 0 (cb
 * fires later, on the loop), SG_EINVAL with *err, SG_ECLOSED when the
 * engine is not running, SG_ENOMEM. */
int sg_engine_inrules_change(sg_engine_t *e,
                             const sg_engine_inrules_change_t *c,
                             sg_inrule_err_t *err, sg_engine_inrules_cb cb,
                             void *ud);

#endif
