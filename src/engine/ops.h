/* ops.h - what the operators of a running gateway do to it (the admin
 * resources of the REST API and the `smsgate` subcommands behind them):
 * reconnect a connector, read the connectors' queues, purge one, and queue
 * a message that ended badly again. Canceling a message for any account is
 * sg_engine_cancel with account_id 0 (engine.h).
 *
 * Every function runs on the engine's loop, after sg_engine_start and
 * before sg_engine_stop (else SG_ECLOSED); one that returns 0 calls its
 * callback later, on the loop, exactly once; one that fails at once never
 * calls it.
 */
#ifndef SG_ENGINE_OPS_H
#define SG_ENGINE_OPS_H

#include <stdint.h>

#include "engine/engine.h"
#include "store/store_ops.h"

/* Drops connector `name`'s connections and connects again at once
 * (sg_connector_reconnect), logged with who asked. Synchronous. Returns 0,
 * SG_ENOENT (no such connector), SG_ENOTSUP (its kind cannot), SG_ESTATE
 * (it is not started or is stopping), SG_ECLOSED. */
int sg_engine_connector_reconnect(sg_engine_t *e, const char *name);

/* One connector's queue as an operator reads it: its parts by status (from
 * the store) and what the engine holds of them now. */
typedef struct sg_engine_queue {
  const char *name;
  bool configured; /* false: parts stored for a connector that is gone */
  uint64_t scheduled, queued, sending, sent;
  int64_t oldest_queued_ms; /* creation of the oldest queued message, 0 */
  int64_t oldest_ms;        /* of the oldest of the four, 0: none */
  unsigned claimed;         /* held by the engine for the connector now */
} sg_engine_queue_t;

typedef void (*sg_engine_queues_cb)(sg_engine_t *e, int status,
                                    const sg_engine_queue_t *queues, size_t n,
                                    void *ud);

/* The queues of every configured connector (connector NULL; each one
 * listed, empty or not, then any other connector the store still has parts
 * for) or of connector `name`. Returns 0, SG_ENOENT (no such connector),
 * SG_ECLOSED, or the store's error; status in the callback: 0 or the
 * store's error (SG_EIO). */
int sg_engine_queues(sg_engine_t *e, const char *name, sg_engine_queues_cb cb,
                     void *ud);

typedef void (*sg_engine_outcomes_cb)(sg_engine_t *e, int status,
                                      const sg_store_outcome_row_t *rows,
                                      size_t n, void *ud);

/* The store's parts by outcome, account, connector and error code
 * (store_ops.h sg_store_outcomes: a scan; cache it). Returns 0,
 * SG_ECLOSED, or the store's error. */
int sg_engine_outcomes(sg_engine_t *e, sg_engine_outcomes_cb cb, void *ud);

typedef void (*sg_engine_purge_cb)(sg_engine_t *e, int status, uint64_t parts,
                                   uint64_t messages, void *ud);

/* Purges connector `name`'s queued parts (store_ops.h: each becomes failed
 * with `reason`, its message derived again, webhooks queued), in
 * transactions of at most 1,000 parts until none is left; parts claimed,
 * being sent or sent are not touched. The callback has the totals (also
 * after an error: what was purged before it). Returns 0, SG_ENOENT (no such
 * connector), SG_EINVAL (empty or over-long reason), SG_ECLOSED. */
int sg_engine_queue_purge(sg_engine_t *e, const char *name, const char *reason,
                          sg_engine_purge_cb cb, void *ud);

typedef void (*sg_engine_retry_cb)(sg_engine_t *e, int status,
                                   const sg_store_retry_res_t *res, void *ud);

/* Queues message `id` again (store_ops.h sg_store_message_retry) and wakes
 * its connector. Callback status 0, SG_ENOENT, SG_ESTATE (it has not ended
 * badly; res says what it is), SG_EIO. Returns 0, SG_EINVAL (not an id),
 * SG_ECLOSED. */
int sg_engine_message_retry(sg_engine_t *e, const char *id,
                            sg_engine_retry_cb cb, void *ud);

#endif
