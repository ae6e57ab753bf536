/* campaigns.h - campaigns as the ingress sees them (engine side of
 * store/campaigns.h), and the runner that sends them.
 *
 * The runner keeps each scheduled, running or paused campaign (loaded from
 * the store at start), and on every engine tick and after each of its
 * store calls moves it on: starts it at send_at, expands its lists into
 * recipients in chunks (SG_STORE_CAMPAIGN_EXPAND, at most one in flight per
 * campaign, so memory never holds more than a chunk), and releases
 * recipients through sg_engine_submit (the one submit path: limits,
 * quotas, routing and encoding apply) in groups of at most 1,000:
 * pending recipients are read, filtered by the window (core/tzwin.h, the
 * region of each number), taken as release `rel`, submitted with the
 * idempotency key "campaign:<id>:<rel>:<group>" and marked released. A
 * release interrupted (a crash, a full store queue, a store failure) is
 * submitted again with the same keys, so no recipient gets two messages.
 * rate_per_minute is a token bucket refilled every tick (at most 5 s worth
 * kept). A paused campaign releases nothing; cancelling one cancels its
 * queued messages in steps of 500. Loop thread only.
 */
#ifndef SG_ENGINE_CAMPAIGNS_H
#define SG_ENGINE_CAMPAIGNS_H

#include "engine/engine.h"
#include "store/store.h"

/* Campaigns held at once: scheduled, running, paused, and cancelled ones
 * whose cancel is still running. A create past it is refused (SG_ERANGE);
 * the REST API answers 429 too_many_campaigns naming the limit. */
#define SG_ENGINE_CAMPAIGNS_MAX 1000

/* Creates a campaign for account_id from in (in->id is ignored: the
 * engine makes one with sg_id_new, which is also the batch_id of its
 * messages). cb gets the stored campaign (SG_ENOENT with res->bad_list for
 * a missing list or template). Returns 0 (cb fires later) or the store's
 * immediate error, SG_ERANGE when SG_ENGINE_CAMPAIGNS_MAX are held or
 * being created (nothing is created then). */
int sg_engine_campaign_create(sg_engine_t *e, int64_t account_id,
                              const sg_store_campaign_in_t *in,
                              sg_store_campres_cb cb, void *data);

/* Checks, before a campaign of account_id is created, the sender its
 * messages would go out as, by the rules of POST /v1/messages: `from`
 * (NULL or "": the account's default_sender) must be given, be an address
 * a connector can send (at most 20 digits or 11 characters) and, when the
 * account lists senders, be one of them. Returns 0, or SG_EINVAL with
 * *code set to "missing_sender", "invalid_sender" or "sender_not_allowed"
 * and msg to a sentence for the client; SG_ENOENT for an unknown account.
 * Loop thread only. */
int sg_engine_campaign_sender_check(sg_engine_t *e, int64_t account_id,
                                    const char *from, const char **code,
                                    char *msg, size_t cap);

/* Runs a read, or a PAUSE, RESUME or CANCEL, of store/campaigns.h (other
 * kinds are the runner's: SG_EINVAL); a change that succeeds is applied to
 * the runner before cb fires. Returns 0 (cb fires later) or the store's
 * immediate error. */
int sg_engine_campaign_op(sg_engine_t *e, const sg_store_campop_t *op,
                          sg_store_campres_cb cb, void *data);

/* How many campaigns the runner holds now. */
size_t sg_engine_campaigns_active(sg_engine_t *e);

#endif
