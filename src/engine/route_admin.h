/* route_admin.h - the routing table and the connectors as an operator
 * changes them at run time (REST /v1/routes and /v1/connectors, the CLI):
 * rules read from and written as JSON, the table replaced atomically and
 * kept in the store, a dry run that explains the choice for a message,
 * and connectors paused and resumed.
 *
 * THE TABLE IN USE
 *   At start the engine uses the table saved in the store when there is
 *   one, else the configuration's routes (ids 1..n in file order). The
 *   first change through this API saves the whole table; from then on the
 *   saved table is used, also after a restart, and the configuration's
 *   routes are ignored until sg_engine_routes_reset() deletes the saved
 *   table and goes back to them. A saved table that no longer fits the
 *   configuration (a connector or account renamed) is not used: the
 *   engine logs why and routes by the configuration until the table is
 *   replaced or reset.
 *
 * THREADS
 *   Loop thread only, like engine.h; callbacks fire on the loop, never
 *   inside the call.
 */
#ifndef SG_ENGINE_ROUTE_ADMIN_H
#define SG_ENGINE_ROUTE_ADMIN_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "engine/engine.h"
#include "engine/routes.h"

/* ---- rules as JSON --------------------------------------------------------
 * A rule is the object
 *   {"id": 3, "prefix": "+7", "pattern": "^\\+79", "account": "shop",
 *    "sender": "Shop", "type": "text", "strategy": "least-cost",
 *    "connectors": ["op1", "op2"], "weights": [3, 1]}
 * where only "connectors" and one of "prefix" and "pattern" are required,
 * null is the same as leaving a key out, "id" is read only where the
 * caller allows it, and any other key is an error. */

/* Rules read from JSON; their strings point into the document, which must
 * outlive them. */
typedef struct sg_route_defs {
  sg_route_def_t *defs;
  size_t n;
  const char **names_; /* private: the connectors' name arrays */
  uint32_t *weights_;  /* private */
} sg_route_defs_t;

/* Reads `doc`: an array of rules, or with one = true a single rule.
 * with_id lets rules carry "id" (a positive integer); else "id" is an
 * unknown key. field_base names errors ("routes" -> "routes[1].type").
 * Returns 0 and fills *out (free with sg_route_defs_free); SG_EINVAL with
 * *err (code "invalid_type", "unknown_field", "missing_field",
 * "invalid_value"); SG_ENOMEM. */
int sg_route_defs_parse(const json_t *doc, bool one, bool with_id,
                        const char *field_base, sg_route_defs_t *out,
                        sg_route_err_t *err);
void sg_route_defs_free(sg_route_defs_t *d);

/* The JSON of a rule (keys that are not set are left out), or NULL when
 * out of memory. */
json_t *sg_route_def_json(const sg_route_def_t *d);

/* ---- the table in use ---------------------------------------------------- */

/* The table now in use (valid until the next change completes; never
 * NULL after sg_engine_new) and whether it is the saved one (true) or the
 * configuration's. */
const sg_routes_t *sg_engine_routes(sg_engine_t *e, bool *saved);

/* Replaces the whole table by defs[0..n) (ids 0 get new ones; given ids
 * are kept). Checked first (routes.h sg_routes_new, with field_base for
 * the field names): SG_EINVAL with *err and nothing changed. Then saved;
 * cb(e, 0) fires once the store committed and the new table is in use, or
 * cb(e, SG_EIO) with the old one still in use. Returns 0 (cb will fire),
 * SG_EINVAL, SG_EBUSY (another change is being saved: try again),
 * SG_ECLOSED (not running), SG_ENOMEM. */
int sg_engine_routes_replace(sg_engine_t *e, const sg_route_def_t *defs,
                             size_t n, const char *field_base,
                             sg_route_err_t *err, sg_engine_done_cb cb,
                             void *ud);

/* Deletes the saved table and goes back to the configuration's routes
 * (after the commit). Returns as sg_engine_routes_replace. */
int sg_engine_routes_reset(sg_engine_t *e, sg_engine_done_cb cb, void *ud);

/* A dry run: which route and connector a message to `to` (normalised
 * with the account's default_region) from `account` (NULL: none) with
 * sender `from` (NULL: the account's default_sender) and of `type` would
 * take now, and why:
 *   {"to": "+7...", "route": {rule} | null, "connector": "op1" | null,
 *    "tried": [{"id", "position", "matched": bool, "reason"}],
 *    "connectors": [{"name", "state", "paused", "price", "usable",
 *                    "chosen"}]}
 * Nothing is sent or stored. Returns the object, or NULL with *err
 * (invalid_number, unknown_account) or for memory (err->code NULL). */
json_t *sg_engine_routes_test(sg_engine_t *e, const char *to,
                              const char *account, const char *from,
                              sg_config_msg_type_t type, sg_route_err_t *err);

/* ---- connectors ---------------------------------------------------------- */

/* The index of the connector of that name, or -1. */
int sg_engine_connector_index(sg_engine_t *e, const char *name);
size_t sg_engine_connector_count(sg_engine_t *e);

/* Everything the engine knows of connector i, as one JSON object:
 *   {"name", "type", "state": "up"|"down"|"connecting"|"paused"|"stopped",
 *    "link": (the connector's own state), "paused", "binds_up",
 *    "binds_total", "window_used", "queued", "claimed", "waiting",
 *    "backlog", "rate": parts sent per second over the last tick,
 *    "submitted", "sent_ok", "temp_errors", "perm_errors", "throttled",
 *    "timeouts", "reconnects", "unknown_retries", "results": {...},
 *    "down_since": time or null, "prices": {prefix: price}}
 * Built in one place so that a connector type can add its own keys.
 * NULL when out of memory. */
json_t *sg_engine_connector_json(sg_engine_t *e, size_t i);

/* Pauses (pause true) or resumes connector `name`. A paused connector
 * takes no new parts: new messages go to the next usable connector of
 * their route, parts queued on it move to one (or wait when there is
 * none); parts already handed to it finish, and its receipts and incoming
 * messages keep coming. The set of paused connectors is saved in the
 * store, so a pause survives a restart. cb(e, 0) fires after the commit.
 * Returns 0 (cb will fire), SG_ENOENT (no such connector), SG_EBUSY,
 * SG_ECLOSED, SG_ENOMEM. */
int sg_engine_connector_pause(sg_engine_t *e, const char *name, bool pause,
                              sg_engine_done_cb cb, void *ud);

#endif
