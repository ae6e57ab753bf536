/* smpp_server.h - smsgate's SMPP server: customers (ESMEs) bind to smsgate
 * as they would to an operator's SMSC, submit through the engine, and get
 * their delivery receipts back as deliver_sm.
 *
 * It listens on TCP and/or TLS (config smpp_server), runs one SMPP session
 * per connection in the SMSC role (smpp/session.h over
 * connector/smpp_link.h), and authenticates binds against the accounts'
 * smpp credentials:
 *   - a password is hashed with argon2id when the server starts and every
 *     bind is verified on the libuv thread pool (uv_queue_work), at most
 *     SG_SMPPS_VERIFY_MAX at a time with SG_SMPPS_VERIFY_QUEUE waiting;
 *   - before any hashing: an unknown system_id (ESME_RINVSYSID), a source
 *     address outside allowed_cidrs, a bind type the account may not use,
 *     max_binds reached, or a source address with bind_fail_max failures in
 *     the last minute is refused (ESME_RBINDFAIL); a wrong password is
 *     ESME_RINVPASWD; a bind while bound ESME_RALYBND (the session's own);
 *     every refusal is answered after bind_fail_delay, and the failures of
 *     a source address are counted in a fixed-size table, so a flood of
 *     binds costs neither CPU nor memory beyond those bounds.
 * submit_sm, data_sm and submit_multi go through sg_engine_submit(); the
 * answer with smsgate's message id leaves after the store committed.
 * query_sm and cancel_sm work on those ids. Receipts of messages that asked
 * for them (registered_delivery) wait in the store (store.h "SMPP
 * RECEIPTS") until a receiver or transceiver of the account is bound, then
 * go out oldest first; so do incoming messages given to an account that
 * takes them over SMPP, as deliver_sm (concatenated parts with a UDH when
 * long).
 *
 * Threads: everything on the loop given to sg_smpp_server_new(), except
 * the password work on the thread pool.
 */
#ifndef SG_INGRESS_SMPP_SERVER_H
#define SG_INGRESS_SMPP_SERVER_H

#include <stdint.h>

#include <uv.h>

#include "core/config.h"
#include "engine/engine.h"
#include "store/store.h"

typedef struct sg_smpp_server sg_smpp_server_t;

/* Counters, for logs, metrics and tests. */
typedef struct sg_smpp_server_stats {
  uint64_t connections, connections_active, connections_refused;
  uint64_t binds, binds_active, bind_failures, binds_limited;
  uint64_t submits, submits_ok, submits_failed, throttled;
  uint64_t receipts_sent, receipts_acked, receipts_dropped;
  /* incoming messages sent as deliver_sm, and taken whole by the customer */
  uint64_t mo_sent, mo_acked;
  /* of receipts_sent, those sent straight from the commit that queued them
   * (SQLite's hand-off), without a claim */
  uint64_t receipts_handed;
} sg_smpp_server_stats_t;

typedef void (*sg_smpp_server_log_cb)(void *data, int level, const char *line);

/* Creates a server for cfg->smpp_server (borrowed, like engine and store:
 * they outlive the server). Nothing listens yet. Returns 0 and sets *out,
 * SG_EINVAL (NULL argument, section not enabled), SG_ECONFIG (the TLS
 * certificate or key cannot be loaded: errbuf says why), SG_ENOMEM. */
int sg_smpp_server_new(uv_loop_t *loop, const sg_config_t *cfg,
                       sg_engine_t *engine, sg_store_t *store,
                       sg_smpp_server_log_cb log_cb, void *log_data,
                       sg_smpp_server_t **out, char *errbuf, size_t errcap);

typedef void (*sg_smpp_server_started_cb)(sg_smpp_server_t *s, int status,
                                          const char *error, void *data);

/* Listens at once and hashes the configured accounts' passwords on the
 * thread pool meanwhile (a bind that comes first is checked against the
 * configured password in constant time, and gets the same answer). cb
 * fires once, on the loop and never inside this call, with 0 or the error
 * (SG_EIO: cannot listen; error says where), or SG_ECLOSED when the server
 * is stopped first. Call after the engine started (accounts have their
 * store ids). Returns 0 (cb will fire) or SG_ESTATE. */
int sg_smpp_server_start(sg_smpp_server_t *s, sg_smpp_server_started_cb cb,
                         void *data);

/* The port a listener got (for port 0 in tests): tls false for plain. */
uint16_t sg_smpp_server_port(const sg_smpp_server_t *s, bool tls);

typedef void (*sg_smpp_server_stopped_cb)(sg_smpp_server_t *s, void *data);

/* Stops listening, unbinds every session (waiting at most 2 s), records
 * the receipts in flight as not delivered, waits for its store requests
 * and password work, then cb fires. Call before stopping the engine. */
void sg_smpp_server_stop(sg_smpp_server_t *s, sg_smpp_server_stopped_cb cb,
                         void *data);

/* Frees a server that was never started or whose stop completed. */
void sg_smpp_server_free(sg_smpp_server_t *s);

void sg_smpp_server_stats(const sg_smpp_server_t *s,
                          sg_smpp_server_stats_t *out);

#endif
