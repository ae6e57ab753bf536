/* inrule.h - the one check of an inbound routing rule, shared by the
 * configuration (`inbound.rules`) and the API (/v1/inbound/rules), so that
 * both accept exactly the same rules and explain a refusal the same way.
 *
 * Pure: no I/O, no logging; the regular expression is compiled to be
 * checked and freed at once.
 */
#ifndef SG_CORE_INRULE_H
#define SG_CORE_INRULE_H

#include "core/config.h"

#define SG_INRULE_TO_MAX 20      /* characters of `to` */
#define SG_INRULE_WORD_MAX 64    /* octets of a keyword or an alias */
#define SG_INRULE_ALIASES_MAX 64 /* aliases of one rule */
#define SG_INRULE_REGEX_MAX 1024 /* octets of `regex` */
#define SG_INRULE_URL_MAX 2048   /* octets of `url` */
#define SG_INRULE_REPLY_MAX 4000 /* the largest reply_max_length */
#define SG_INRULE_REPLY_DEFAULT 1000

/* What is wrong with a rule: the key (NULL: the rule as a whole) and an
 * English sentence. */
typedef struct sg_inrule_problem {
  const char *field; /* "to", "regex", "aliases", ... (static) */
  char message[200];
} sg_inrule_problem_t;

/* Sets the defaults of a rule that has none yet: every key unset, action
 * AUTO, method GET, reply true, reply_max_length 1000. */
void sg_inrule_init(sg_config_inbound_rule_t *r);

/* Checks one rule and resolves action AUTO (URL when it has a url, else
 * WEBHOOK). The checks: at least one of to, keyword and regex; `to` digits
 * with an optional leading '+' (1..20 characters); keyword and each alias
 * 1..64 octets of UTF-8, aliases only with a keyword; regex 1..1024 octets
 * that PCRE2 compiles (UTF, case-insensitive; the message gives PCRE2's
 * reason and offset); account present (whether it exists is the caller's
 * check); url an http:// or https:// URL with a host, printable ASCII
 * without spaces, 1..2048 octets; action url or both only with a url;
 * reply_max_length 1..4000. Returns 0, or SG_EINVAL with *p (the first
 * problem found). */
int sg_inrule_check(sg_config_inbound_rule_t *r, sg_inrule_problem_t *p);

/* The names of the enums, as the configuration and the API write them. */
const char *sg_inrule_action_name(sg_config_inbound_action_t a);
const char *sg_inrule_method_name(sg_config_inbound_method_t m);
/* 0 and *out, or SG_EINVAL for another name. */
int sg_inrule_action_parse(const char *s, sg_config_inbound_action_t *out);
int sg_inrule_method_parse(const char *s, sg_config_inbound_method_t *out);

#endif
