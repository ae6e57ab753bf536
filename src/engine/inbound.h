/* inbound.h - the decisions the engine makes about an incoming message,
 * kept apart from the I/O so that they can be tested alone: which inbound
 * rule takes it (engine/inbound_rules.c), whether its keyword is an
 * opt-out, opt-in or help keyword, the in-memory opt-out set, and the
 * limit on automatic replies between two numbers.
 *
 * Everything here is synchronous, allocates through core/alloc.h and is
 * used on the engine's loop only.
 */
#ifndef SG_ENGINE_INBOUND_H
#define SG_ENGINE_INBOUND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/config.h"

/* ---- rules and keywords ---------------------------------------------------
 */

typedef struct sg_inbound_rules sg_inbound_rules_t;

/* Compiles the rules and keyword lists of cfg (borrowed: it must outlive
 * the result): keywords and aliases are upper-cased (core/mo.h), regular
 * expressions compiled with PCRE2 (UTF, case-insensitive, JIT when
 * available). Returns 0, SG_ECONFIG (an expression does not compile: the
 * configuration check should have caught it) or SG_ENOMEM. */
int sg_inbound_rules_new(const sg_config_inbound_t *cfg,
                         sg_inbound_rules_t **out);
void sg_inbound_rules_free(sg_inbound_rules_t *r);

/* The same with the rules rules[0..n) (borrowed, like cfg: each must
 * outlive the result) in place of cfg->rules; the keyword lists still come
 * from cfg. For the rules of the store (engine/inrules.c). */
int sg_inbound_rules_new_list(const sg_config_inbound_t *cfg,
                              const sg_config_inbound_rule_t *const *rules,
                              size_t n, sg_inbound_rules_t **out);

/* The number of rules; 0 for NULL. */
size_t sg_inbound_rules_count(const sg_inbound_rules_t *r);

/* The rule that takes a message to `to` with UTF-8 text[0..len) whose
 * first word is `keyword` (upper case, "" when none or the message is
 * binary: text NULL): the index of the first rule that matches, or -1.
 * A rule's `to` matches when the digits are equal, with or without '+'. */
int sg_inbound_rules_match(const sg_inbound_rules_t *r, const char *to,
                           const uint8_t *text, size_t len,
                           const char *keyword);

typedef enum sg_inbound_kw {
  SG_INBOUND_KW_NONE = 0,
  SG_INBOUND_KW_STOP,  /* opt out */
  SG_INBOUND_KW_START, /* opt in again */
  SG_INBOUND_KW_HELP
} sg_inbound_kw_t;

/* What an upper-case keyword means by the configured lists. */
sg_inbound_kw_t sg_inbound_rules_keyword(const sg_inbound_rules_t *r,
                                         const char *keyword);

/* ---- the opt-out set ----------------------------------------------------- */

typedef struct sg_optset sg_optset_t;

sg_optset_t *sg_optset_new(void);
void sg_optset_free(sg_optset_t *s);
/* Adds or removes (account, number); returns 0 or SG_ENOMEM. */
int sg_optset_add(sg_optset_t *s, int64_t account, const char *number);
void sg_optset_remove(sg_optset_t *s, int64_t account, const char *number);
bool sg_optset_has(const sg_optset_t *s, int64_t account, const char *number);
size_t sg_optset_count(const sg_optset_t *s);

/* ---- automatic reply limit ----------------------------------------------- */

typedef struct sg_replyguard sg_replyguard_t;

/* At most `limit` replies from `from` to `to` in any window of window_ms
 * (counted from the first reply of a window). */
sg_replyguard_t *sg_replyguard_new(uint32_t limit, uint32_t window_ms);
void sg_replyguard_free(sg_replyguard_t *g);
/* True (and counted) when one more reply from -> to may go at now_ms. */
bool sg_replyguard_take(sg_replyguard_t *g, const char *from, const char *to,
                        int64_t now_ms);
/* The pair's key ("from>to", written to key[0..cap)), the start of its
 * window and its count: true, or false when the pair has no window. To
 * keep the count in the store after a take. */
bool sg_replyguard_state(sg_replyguard_t *g, const char *from, const char *to,
                         char *key, size_t cap, int64_t *start_ms,
                         uint32_t *count);
/* Puts back a pair kept in the store (its key as sg_replyguard_state
 * wrote it) unless its window ended before now_ms. Returns 0, SG_EINVAL
 * (key too long) or SG_ENOMEM. */
int sg_replyguard_restore(sg_replyguard_t *g, const char *key,
                          int64_t start_ms, uint32_t count, int64_t now_ms);

#endif
