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
#include <stddef.h>
#include <string.h>

#include "core/config_int.h"
#include "core/inrule.h"
#include "core/error.h"

static const sg__cfg_enum_t actions[] = {{"webhook", SG_CONFIG_INBOUND_WEBHOOK},
                                         {"url", SG_CONFIG_INBOUND_URL},
                                         {"both", SG_CONFIG_INBOUND_BOTH},
                                         {NULL, 0}};
static const sg__cfg_enum_t methods[] = {{"GET", SG_CONFIG_INBOUND_GET},
                                         {"POST", SG_CONFIG_INBOUND_POST},
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
    {"url", SG__CFG_T_STR, SG__CFG_F_NULLABLE | SG__CFG_F_ASCII,
     offsetof(R, url), 0, 1, SG_INRULE_URL_MAX, NULL, NULL},
    {"method", SG__CFG_T_ENUM, 0, offsetof(R, method), 0, 0, 0, methods, NULL},
    {"reply", SG__CFG_T_BOOL, 0, offsetof(R, reply), 0, 0, 0, NULL, NULL},
    {"reply_max_length", SG__CFG_T_UINT, 0, offsetof(R, reply_max_length), 0,
     1, SG_INRULE_REPLY_MAX, NULL, NULL},
};
#undef R

static void init_rule(void *obj) {
  sg_inrule_init(obj);
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
    ("\xD0\x9E\xD0\xA2\xD0\x9F\xD0\x98\xD0\xA1\xD0\x90\xD0\xA2\xD0\xAC\xD0\xA1"
     "\xD0\xAF"), /* ОТПИСАТЬСЯ: one string, in two lines */
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

/* The check the API makes too (core/inrule.h), reported at the key. */
static void check_rule(sg__cfg_ctx_t *c, void *obj, const sg__cfg_node_t *map) {
  sg_inrule_problem_t p;
  if (sg_inrule_check(obj, &p) == 0)
    return;
  const sg__cfg_node_t *at = p.field ? sg__cfg_map_get(map, p.field) : NULL;
  if (p.field != NULL && strcmp(p.field, "account") == 0)
    return; /* a missing account is reported as a missing key */
  sg__cfg_error(c, at != NULL ? at : map, "%s", p.message);
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
