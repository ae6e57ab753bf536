/* config_inbound.c - the `inbound` section of the configuration: the
 * reassembly timeout, the rules that give incoming messages to accounts,
 * the opt-out keywords with their replies and the limit on automatic
 * replies; with the checks of its rules (a regular expression must
 * compile, a rule must name an account that exists).
 *
 * Like config_schema.c, it only reads and checks; it must never compile
 * anything that outlives the check (the engine compiles the expressions
 * it keeps).
 */
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <stddef.h>
#include <string.h>

#include "core/config_int.h"
#include "core/error.h"

static const sg__cfg_enum_t actions[] = {{"webhook", SG_CONFIG_INBOUND_WEBHOOK},
                                         {NULL, 0}};

#define R sg_config_inbound_rule_t
static const sg__cfg_field_t rule_fields[] = {
    {"to", SG__CFG_T_STR, SG__CFG_F_NULLABLE | SG__CFG_F_ASCII, offsetof(R, to),
     0, 1, 20, NULL, NULL},
    {"keyword", SG__CFG_T_STR, SG__CFG_F_NULLABLE, offsetof(R, keyword), 0, 1,
     64, NULL, NULL},
    {"aliases", SG__CFG_T_STRLIST, 0, offsetof(R, aliases),
     offsetof(R, n_aliases), 1, 64, NULL, NULL},
    {"regex", SG__CFG_T_STR, SG__CFG_F_NULLABLE, offsetof(R, regex), 0, 1, 1024,
     NULL, NULL},
    {"account", SG__CFG_T_NAME, SG__CFG_F_REQUIRED, offsetof(R, account), 0, 1,
     64, NULL, NULL},
    {"action", SG__CFG_T_ENUM, 0, offsetof(R, action), 0, 0, 0, actions, NULL},
};
#undef R

static void init_rule(void *obj) {
  memset(obj, 0, sizeof(sg_config_inbound_rule_t));
}

static void check_rule(sg__cfg_ctx_t *c, void *obj, const sg__cfg_node_t *map);

static const sg__cfg_section_t rule_section = {
    rule_fields, sizeof rule_fields / sizeof rule_fields[0],
    sizeof(sg_config_inbound_rule_t), init_rule, check_rule};

#define I sg_config_inbound_t
#define LIST(k, m, n)                                                          \
  { k, SG__CFG_T_STRLIST, 0, offsetof(I, m), offsetof(I, n), 1, 64, NULL, NULL }
#define TEXT(k, m)                                                             \
  {                                                                            \
    k, SG__CFG_T_STR, SG__CFG_F_NULLABLE, offsetof(I, m), 0, 0, 1000, NULL,    \
        NULL                                                                   \
  }
static const sg__cfg_field_t inbound_fields[] = {
    {"rules", SG__CFG_T_MAPLIST, 0, offsetof(I, rules), offsetof(I, n_rules), 0,
     0, NULL, &rule_section},
    {"catch_all", SG__CFG_T_NAME, SG__CFG_F_NULLABLE, offsetof(I, catch_all), 0,
     1, 64, NULL, NULL},
    {"reassembly_timeout", SG__CFG_T_DURATION, 0,
     offsetof(I, reassembly_timeout_ms), 0, 1000, 7u * 86400000u, NULL, NULL},
    LIST("stop_keywords", stop_keywords, n_stop_keywords),
    LIST("start_keywords", start_keywords, n_start_keywords),
    LIST("help_keywords", help_keywords, n_help_keywords),
    TEXT("stop_reply", stop_reply),
    TEXT("start_reply", start_reply),
    TEXT("help_reply", help_reply),
    {"reply_limit", SG__CFG_T_UINT, 0, offsetof(I, reply_limit), 0, 0, 1000,
     NULL, NULL},
    {"reply_window", SG__CFG_T_DURATION, 0, offsetof(I, reply_window_ms), 0,
     1000, 30u * 86400000u, NULL, NULL},
};
#undef LIST
#undef TEXT
#undef I

const sg__cfg_section_t sg__cfg_inbound_section = {
    inbound_fields, sizeof inbound_fields / sizeof inbound_fields[0],
    sizeof(sg_config_inbound_t), sg__cfg_init_inbound, NULL};

/* CTIA's and the common Russian opt-out words. */
static const char *default_stop[] = {
    "STOP",
    "STOPALL",
    "UNSUBSCRIBE",
    "CANCEL",
    "END",
    "QUIT",
    "\xD0\xA1\xD0\xA2\xD0\x9E\xD0\x9F", /* СТОП */
    "\xD0\x9E\xD0\xA2\xD0\x9F\xD0\x98\xD0\xA1\xD0\x90\xD0\xA2\xD0\xAC\xD0\xA1"
    "\xD0\xAF", /* ОТПИСАТЬСЯ */
};
static const char *default_start[] = {"START", "UNSTOP"};
static const char *default_help[] = {"HELP"};

void sg__cfg_init_inbound(void *obj) {
  sg_config_inbound_t *in = obj;
  memset(in, 0, sizeof *in);
  in->reassembly_timeout_ms = 60000;
  in->stop_keywords = default_stop;
  in->n_stop_keywords = sizeof default_stop / sizeof default_stop[0];
  in->start_keywords = default_start;
  in->n_start_keywords = 2;
  in->help_keywords = default_help;
  in->n_help_keywords = 1;
  in->stop_reply = "You are unsubscribed and will get no more messages. "
                   "Reply START to subscribe again.";
  in->start_reply = "You are subscribed again. Reply STOP to unsubscribe.";
  in->help_reply = "Reply STOP to unsubscribe, START to subscribe again.";
  in->reply_limit = 5;
  in->reply_window_ms = 3600000;
}

/* Digits with an optional leading '+'. */
static bool number_like(const char *s) {
  if (*s == '+')
    s++;
  if (*s == '\0')
    return false;
  for (; *s != '\0'; s++)
    if (*s < '0' || *s > '9')
      return false;
  return true;
}

static void check_rule(sg__cfg_ctx_t *c, void *obj, const sg__cfg_node_t *map) {
  sg_config_inbound_rule_t *r = obj;
  if (r->to == NULL && r->keyword == NULL && r->regex == NULL)
    sg__cfg_error(c, map,
                  "a rule needs at least one of to, keyword and regex (a rule "
                  "for every message is catch_all)");
  if (r->to != NULL && !number_like(r->to))
    sg__cfg_error(c, sg__cfg_map_get(map, "to"),
                  "expected a number or short code (digits, optionally "
                  "after '+')");
  if (r->n_aliases > 0 && r->keyword == NULL)
    sg__cfg_error(c, sg__cfg_map_get(map, "aliases"), "aliases need a keyword");
  if (r->regex == NULL)
    return;
  int err;
  PCRE2_SIZE off;
  pcre2_code *re = pcre2_compile((PCRE2_SPTR)r->regex, PCRE2_ZERO_TERMINATED,
                                 PCRE2_UTF | PCRE2_CASELESS, &err, &off, NULL);
  if (re == NULL) {
    PCRE2_UCHAR msg[128];
    pcre2_get_error_message(err, msg, sizeof msg);
    sg__cfg_error(c, sg__cfg_map_get(map, "regex"),
                  "not a valid regular expression: %s at offset %zu",
                  (const char *)msg, (size_t)off);
  }
  pcre2_code_free(re);
}

static bool find_account(const sg_config_t *cfg, const char *name,
                         size_t *out) {
  for (size_t i = 0; i < cfg->n_accounts; i++)
    if (cfg->accounts[i].name != NULL &&
        strcmp(cfg->accounts[i].name, name) == 0) {
      *out = i;
      return true;
    }
  return false;
}

void sg__cfg_check_inbound_root(sg__cfg_ctx_t *c, const sg__cfg_node_t *root) {
  sg_config_inbound_t *in = &c->cfg->inbound;
  const sg__cfg_node_t *sec = sg__cfg_map_get(root, "inbound");
  const sg__cfg_node_t *rules = sg__cfg_map_get(sec, "rules");
  size_t k;
  for (size_t i = 0; i < in->n_rules; i++) {
    sg_config_inbound_rule_t *r = &in->rules[i];
    if (r->account == NULL)
      continue;
    if (find_account(c->cfg, r->account, &k))
      r->account_index = k;
    else
      sg__cfg_error(c, sg__cfg_map_get(sg__cfg_seq_at(rules, i), "account"),
                    "no account named \"%s\"", r->account);
  }
  if (in->catch_all != NULL && !find_account(c->cfg, in->catch_all, &k))
    sg__cfg_error(c, sg__cfg_map_get(sec, "catch_all"),
                  "no account named \"%s\"", in->catch_all);
}
