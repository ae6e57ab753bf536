/* inrules_int.h - what engine/inrules.c (the rules of the store, their
 * changes, the reply counts) and engine/inbound.c share. Not for use
 * outside src/engine/.
 */
#ifndef SG_ENGINE_INRULES_INT_H
#define SG_ENGINE_INRULES_INT_H

#include "engine/engine_int.h"
#include "engine/inbound.h"
#include "engine/inrules.h"
#include "engine/webhook.h"

/* ---- inrules.c ----------------------------------------------------------- */

/* Loads the rules from the store (seeding them from the configuration
 * while the API has not changed them), puts them in force, loads the reply
 * counts of the current window, then calls done(e, status) from a store
 * callback. Returns 0 or an error at once (done is then not called). */
int sg__inrules_start(sg_engine_t *e, void (*done)(sg_engine_t *e, int st));
void sg__inrules_free(sg_engine_t *e);

/* The rule at index i of the rules in force (the index the compiled rules
 * match with), or NULL. */
const sg_inrule_t *sg__inrules_at(const sg_engine_t *e, int i);
/* The rule in force with this id, or NULL. */
const sg_inrule_t *sg__inrules_find(const sg_engine_t *e, int64_t id);

/* Keeps one pair's reply count in the store after a reply was counted
 * (sg_replyguard_take); a failure is logged, not fatal. */
void sg__inrules_count_reply(sg_engine_t *e, sg_replyguard_t *g,
                             const char *from, const char *to);

/* ---- inbound.c ----------------------------------------------------------- */

/* An inbound webhook or a rule's URL action (payload as stored) was
 * answered 2xx: sends its reply back (sg__inbound_reply for the account's
 * webhook; a text/plain body or {"reply"} for a URL action, within the
 * rule's reply and reply_max_length). */
void sg__inbound_answer(sg_engine_t *e, int64_t account_id,
                        const uint8_t *payload, size_t plen,
                        const sg_webhook_result_t *res);

/* Puts compiled rules in force (ownership taken; the old ones are freed). */
void sg__inbound_swap_rules(sg_engine_t *e, sg_inbound_rules_t *compiled);
/* The reply limit's state. */
sg_replyguard_t *sg__inbound_guard(sg_engine_t *e);

#endif
