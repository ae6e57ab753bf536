/* reload.h - a new configuration put in force while the engine runs
 * (SIGHUP, POST /v1/admin/reload, `smsgate reload`).
 *
 * The new configuration, already loaded and checked by the caller, is
 * compared with the one in force (core/config_diff.h) and then:
 *
 * - connectors: added ones are started; removed ones are drained (they
 *   take no new parts, finish what they hold, unbind; parts still queued
 *   for them stay queued in the store under their name); those whose
 *   connection settings changed are started again as a new connector of
 *   the same name (the old binds close once their parts in flight are
 *   answered); a change of tps or max_retries alone (SMPP) is applied to
 *   the running binds; prices apply to the next message; unchanged
 *   connectors are not touched.
 * - routes: the table is rebuilt and swapped in whole; a message routed
 *   before keeps its connector. While a table saved through the API is in
 *   use it stays in use (rebuilt for the new connector set).
 * - accounts of the file: added (found or created in the store), changed
 *   (every key takes effect on the next request; smpp credentials and
 *   limits of the SMPP server at the next start), removed (their
 *   credentials are refused as if disabled; messages stay). Accounts made
 *   through the API are not touched.
 * - webhooks retry delays and age, inbound keywords, replies and the
 *   reassembly timeout take effect at once.
 * - what cannot change at run time (listen addresses, the store, the
 *   webhook client, inbound rules, the log) keeps its running value and
 *   is listed in the report under "restart_required".
 *
 * A reload that cannot be applied whole (the saved routing table names a
 * connector the file removes, an account name taken by an API account, no
 * room for more connectors) is refused before anything changes.
 */
#ifndef SG_ENGINE_RELOAD_H
#define SG_ENGINE_RELOAD_H

#include <stdbool.h>
#include <stddef.h>

#include "core/config.h"
#include "engine/engine.h"

/* Connectors that reloads may add (or start again with new settings) in
 * the life of one engine, beyond those of the first configuration. */
#define SG_ENGINE_RELOAD_CONNS_MAX 256

typedef struct sg_engine_reload_res {
  /* 0: applied; SG_EINVAL: refused (message says why, field names the
   * key); SG_ENOSPC: no room for more connectors or accounts; SG_EIO:
   * the store failed while adding accounts (what was applied stays). */
  int status;
  const char *message; /* when refused; NULL else */
  const char *field;   /* when refused: "routes[2].connectors[0]"; or NULL */
  /* Status 0: a JSON object of what changed (docs/api.md "reload"). */
  const char *report;
} sg_engine_reload_res_t;

/* Fires once on the loop thread; res and its strings live for the call. */
typedef void (*sg_engine_reload_cb)(sg_engine_t *e,
                                    const sg_engine_reload_res_t *res,
                                    void *ud);

/* Puts cfg in force as described above. Takes cfg in every case: kept
 * until the engine is freed when applied, freed when refused. Returns 0
 * (cb fires later, never inside this call), SG_EINVAL (NULL argument),
 * SG_ESTATE (the engine is not running) or SG_EBUSY (a reload or a route
 * change is in progress); cb is not called then. */
int sg_engine_reload(sg_engine_t *e, sg_config_t *cfg, sg_engine_reload_cb cb,
                     void *ud);

/* The configuration in force (the last one a reload applied, with the
 * running values of what needs a restart). */
const sg_config_t *sg_engine_config(const sg_engine_t *e);

/* Whether connector index i (0 <= i < sg_engine_connector_count) was
 * removed or replaced by a reload, so listings skip it. */
bool sg_engine_connector_retired(const sg_engine_t *e, size_t i);

/* How many reloads were applied since start. */
unsigned sg_engine_reloads(const sg_engine_t *e);

#endif
