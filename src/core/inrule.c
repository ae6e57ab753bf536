/* inrule.c - the check of one inbound routing rule (core/inrule.h), the
 * same for a rule of the configuration and one sent to the API.
 *
 * It must never keep anything: a compiled expression is freed before it
 * returns (the engine compiles the ones it uses).
 */
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "core/error.h"
#include "core/inrule.h"
#include "core/utf8.h"

void sg_inrule_init(sg_config_inbound_rule_t *r) {
  memset(r, 0, sizeof *r);
  r->action = SG_CONFIG_INBOUND_AUTO;
  r->method = SG_CONFIG_INBOUND_GET;
  r->reply = true;
  r->reply_max_length = SG_INRULE_REPLY_DEFAULT;
}

static int problem(sg_inrule_problem_t *p, const char *field, const char *fmt,
                   ...) __attribute__((format(printf, 3, 4)));

static int problem(sg_inrule_problem_t *p, const char *field, const char *fmt,
                   ...) {
  p->field = field;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(p->message, sizeof p->message, fmt, ap);
  va_end(ap);
  return SG_EINVAL;
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

static bool utf8_ok(const char *s) {
  size_t n, off;
  return sg_utf8_count((const uint8_t *)s, strlen(s), &n, &off) == 0;
}

static int check_word(const char *w, const char *field,
                      sg_inrule_problem_t *p) {
  size_t n = strlen(w);
  if (n == 0 || n > SG_INRULE_WORD_MAX)
    return problem(p, field, "must be 1 to %d octets", SG_INRULE_WORD_MAX);
  if (!utf8_ok(w))
    return problem(p, field, "is not valid UTF-8");
  return 0;
}

static int check_regex(const char *re, sg_inrule_problem_t *p) {
  size_t n = strlen(re);
  if (n == 0 || n > SG_INRULE_REGEX_MAX)
    return problem(p, "regex", "must be 1 to %d octets", SG_INRULE_REGEX_MAX);
  int err;
  PCRE2_SIZE off;
  pcre2_code *code =
      pcre2_compile((PCRE2_SPTR)re, PCRE2_ZERO_TERMINATED,
                    PCRE2_UTF | PCRE2_CASELESS, &err, &off, NULL);
  if (code != NULL) {
    pcre2_code_free(code);
    return 0;
  }
  PCRE2_UCHAR msg[128];
  pcre2_get_error_message(err, msg, sizeof msg);
  return problem(p, "regex", "not a valid regular expression: %s at offset %zu",
                 (const char *)msg, (size_t)off);
}

static bool url_ok(const char *s) {
  size_t len = strlen(s), skip = 0;
  if (len >= 7 && strncmp(s, "http://", 7) == 0)
    skip = 7;
  else if (len >= 8 && strncmp(s, "https://", 8) == 0)
    skip = 8;
  if (skip == 0 || len == skip || s[skip] == '/' || s[skip] == '?')
    return false;
  for (size_t i = 0; i < len; i++)
    if (s[i] <= 0x20 || s[i] >= 0x7f)
      return false;
  return true;
}

static int check_match(const sg_config_inbound_rule_t *r,
                       sg_inrule_problem_t *p) {
  /* A rule with none of to, keyword and regex takes every message: the
   * catch-all of a table edited through the API (put it last). */
  if (r->to != NULL &&
      (strlen(r->to) > SG_INRULE_TO_MAX || !number_like(r->to)))
    return problem(p, "to",
                   "expected a number or short code (digits, optionally "
                   "after '+', at most %d characters)",
                   SG_INRULE_TO_MAX);
  if (r->keyword != NULL && check_word(r->keyword, "keyword", p) != 0)
    return SG_EINVAL;
  if (r->n_aliases > 0 && r->keyword == NULL)
    return problem(p, "aliases", "aliases need a keyword");
  if (r->n_aliases > SG_INRULE_ALIASES_MAX)
    return problem(p, "aliases", "at most %d aliases", SG_INRULE_ALIASES_MAX);
  for (size_t i = 0; i < r->n_aliases; i++)
    if (r->aliases[i] == NULL || check_word(r->aliases[i], "aliases", p) != 0)
      return r->aliases[i] == NULL
                 ? problem(p, "aliases", "an alias must be a string")
                 : SG_EINVAL;
  return r->regex != NULL ? check_regex(r->regex, p) : 0;
}

static int check_action(sg_config_inbound_rule_t *r, sg_inrule_problem_t *p) {
  if (r->url != NULL && (strlen(r->url) > SG_INRULE_URL_MAX || !url_ok(r->url)))
    return problem(p, "url",
                   "expected an http:// or https:// URL with a host, in "
                   "printable ASCII without spaces, at most %d octets",
                   SG_INRULE_URL_MAX);
  if (r->action == SG_CONFIG_INBOUND_AUTO)
    r->action =
        r->url != NULL ? SG_CONFIG_INBOUND_URL : SG_CONFIG_INBOUND_WEBHOOK;
  if (r->action != SG_CONFIG_INBOUND_WEBHOOK && r->url == NULL)
    return problem(p, "action", "action %s needs a url",
                   sg_inrule_action_name(r->action));
  if (r->reply_max_length < 1 || r->reply_max_length > SG_INRULE_REPLY_MAX)
    return problem(p, "reply_max_length", "must be an integer from 1 to %d",
                   SG_INRULE_REPLY_MAX);
  return 0;
}

int sg_inrule_check(sg_config_inbound_rule_t *r, sg_inrule_problem_t *p) {
  if (check_match(r, p) != 0)
    return SG_EINVAL;
  if (r->account == NULL || r->account[0] == '\0')
    return problem(p, "account", "a rule needs an account");
  return check_action(r, p);
}

static const char *const actions[] = {"webhook", "url", "both"};
static const char *const methods[] = {"GET", "POST"};

const char *sg_inrule_action_name(sg_config_inbound_action_t a) {
  return a >= 0 && a <= SG_CONFIG_INBOUND_BOTH ? actions[a] : "auto";
}

const char *sg_inrule_method_name(sg_config_inbound_method_t m) {
  return m == SG_CONFIG_INBOUND_POST ? "POST" : "GET";
}

int sg_inrule_action_parse(const char *s, sg_config_inbound_action_t *out) {
  for (int i = 0; s != NULL && i < 3; i++)
    if (strcmp(s, actions[i]) == 0) {
      *out = (sg_config_inbound_action_t)i;
      return 0;
    }
  return SG_EINVAL;
}

int sg_inrule_method_parse(const char *s, sg_config_inbound_method_t *out) {
  for (int i = 0; s != NULL && i < 2; i++)
    if (strcasecmp(s, methods[i]) == 0) {
      *out = (sg_config_inbound_method_t)i;
      return 0;
    }
  return SG_EINVAL;
}
