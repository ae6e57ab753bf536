/* inbound_rules.c - the pure decisions about incoming messages: which
 * configured rule takes a message (destination, keyword with aliases,
 * regular expression), what its keyword means (STOP, START, HELP), the
 * opt-out set the submit path and the dispatcher consult, and the limit on
 * automatic replies that keeps two robots from talking forever.
 *
 * It must never do I/O or reach the store: engine/inbound.c feeds it and
 * acts on its answers.
 */
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "core/error.h"
#include "core/mo.h"
#include "engine/inbound.h"

#define KW_MAX 256 /* octets of an upper-cased keyword */

typedef struct rule {
  const sg_config_inbound_rule_t *cfg;
  char **words; /* keyword then aliases, upper case */
  size_t n_words;
  pcre2_code *re;
  pcre2_match_data *md;
} rule_t;

typedef struct kwlist {
  char **w;
  size_t n;
} kwlist_t;

struct sg_inbound_rules {
  rule_t *rules;
  size_t n;
  kwlist_t stop, start, help;
};

static char *upper_dup(const char *s) {
  char buf[KW_MAX];
  if (sg_mo_upper_utf8(s, buf, sizeof buf) < 0)
    snprintf(buf, sizeof buf, "%s", s);
  return sg_strdup(buf);
}

static int list_init(kwlist_t *l, const char *const *w, size_t n) {
  l->w = sg_calloc(n ? n : 1, sizeof *l->w);
  if (l->w == NULL)
    return SG_ENOMEM;
  for (l->n = 0; l->n < n; l->n++)
    if ((l->w[l->n] = upper_dup(w[l->n])) == NULL)
      return SG_ENOMEM;
  return 0;
}

static void list_free(kwlist_t *l) {
  for (size_t i = 0; i < l->n; i++)
    sg_free(l->w[i]);
  sg_free(l->w);
}

static bool list_has(const kwlist_t *l, const char *kw) {
  for (size_t i = 0; i < l->n; i++)
    if (strcmp(l->w[i], kw) == 0)
      return true;
  return false;
}

static int rule_init(rule_t *r, const sg_config_inbound_rule_t *c) {
  r->cfg = c;
  size_t n = c->keyword ? 1 + c->n_aliases : 0;
  r->words = sg_calloc(n ? n : 1, sizeof *r->words);
  if (r->words == NULL)
    return SG_ENOMEM;
  for (r->n_words = 0; r->n_words < n; r->n_words++) {
    const char *w = r->n_words == 0 ? c->keyword : c->aliases[r->n_words - 1];
    if ((r->words[r->n_words] = upper_dup(w)) == NULL)
      return SG_ENOMEM;
  }
  if (c->regex == NULL)
    return 0;
  int err;
  PCRE2_SIZE off;
  r->re = pcre2_compile((PCRE2_SPTR)c->regex, PCRE2_ZERO_TERMINATED,
                        PCRE2_UTF | PCRE2_CASELESS, &err, &off, NULL);
  if (r->re == NULL)
    return SG_ECONFIG;
  pcre2_jit_compile(r->re, PCRE2_JIT_COMPLETE); /* else interpreted */
  r->md = pcre2_match_data_create_from_pattern(r->re, NULL);
  return r->md == NULL ? SG_ENOMEM : 0;
}

void sg_inbound_rules_free(sg_inbound_rules_t *r) {
  if (r == NULL)
    return;
  for (size_t i = 0; r->rules != NULL && i < r->n; i++) {
    rule_t *q = &r->rules[i];
    for (size_t k = 0; k < q->n_words; k++)
      sg_free(q->words[k]);
    sg_free(q->words);
    pcre2_match_data_free(q->md);
    pcre2_code_free(q->re);
  }
  sg_free(r->rules);
  list_free(&r->stop);
  list_free(&r->start);
  list_free(&r->help);
  sg_free(r);
}

int sg_inbound_rules_new(const sg_config_inbound_t *cfg,
                         sg_inbound_rules_t **out) {
  const sg_config_inbound_rule_t **list =
      sg_calloc(cfg->n_rules ? cfg->n_rules : 1, sizeof *list);
  if (list == NULL)
    return SG_ENOMEM;
  for (size_t i = 0; i < cfg->n_rules; i++)
    list[i] = &cfg->rules[i];
  int rc = sg_inbound_rules_new_list(cfg, list, cfg->n_rules, out);
  sg_free(list);
  return rc;
}

int sg_inbound_rules_new_list(const sg_config_inbound_t *cfg,
                              const sg_config_inbound_rule_t *const *rules,
                              size_t n, sg_inbound_rules_t **out) {
  sg_inbound_rules_t *r = sg_calloc(1, sizeof *r);
  if (r == NULL)
    return SG_ENOMEM;
  int rc = 0;
  r->rules = sg_calloc(n ? n : 1, sizeof *r->rules);
  if (r->rules == NULL)
    rc = SG_ENOMEM;
  for (; rc == 0 && r->n < n; r->n++)
    rc = rule_init(&r->rules[r->n], rules[r->n]);
  if (rc == 0)
    rc = list_init(&r->stop, cfg->stop_keywords, cfg->n_stop_keywords);
  if (rc == 0)
    rc = list_init(&r->start, cfg->start_keywords, cfg->n_start_keywords);
  if (rc == 0)
    rc = list_init(&r->help, cfg->help_keywords, cfg->n_help_keywords);
  if (rc != 0) {
    if (r->rules != NULL && r->n < n)
      r->n++; /* the rule that failed holds memory too */
    sg_inbound_rules_free(r);
    return rc;
  }
  *out = r;
  return 0;
}

static const char *digits(const char *s) {
  return s[0] == '+' ? s + 1 : s;
}

static bool rule_matches(const rule_t *q, const char *to, const uint8_t *text,
                         size_t len, const char *kw) {
  if (q->cfg->to != NULL && strcmp(digits(q->cfg->to), digits(to)) != 0)
    return false;
  if (q->n_words > 0) {
    bool any = false;
    for (size_t i = 0; i < q->n_words && !any; i++)
      any = strcmp(q->words[i], kw) == 0;
    if (!any)
      return false;
  }
  if (q->re != NULL) {
    if (text == NULL)
      return false;
    int rc = pcre2_match(q->re, (PCRE2_SPTR)text, len, 0, 0, q->md, NULL);
    if (rc < 0)
      return false;
  }
  return true;
}

int sg_inbound_rules_match(const sg_inbound_rules_t *r, const char *to,
                           const uint8_t *text, size_t len,
                           const char *keyword) {
  for (size_t i = 0; i < r->n; i++)
    if (rule_matches(&r->rules[i], to ? to : "", text, len,
                     keyword ? keyword : ""))
      return (int)i;
  return -1;
}

size_t sg_inbound_rules_count(const sg_inbound_rules_t *r) {
  return r != NULL ? r->n : 0;
}

sg_inbound_kw_t sg_inbound_rules_keyword(const sg_inbound_rules_t *r,
                                         const char *kw) {
  if (kw == NULL || kw[0] == '\0')
    return SG_INBOUND_KW_NONE;
  if (list_has(&r->stop, kw))
    return SG_INBOUND_KW_STOP;
  if (list_has(&r->start, kw))
    return SG_INBOUND_KW_START;
  if (list_has(&r->help, kw))
    return SG_INBOUND_KW_HELP;
  return SG_INBOUND_KW_NONE;
}

/* ---- the opt-out set: open addressing on "account:number" ---------------- */

struct sg_optset {
  char **slot; /* NULL: empty; TOMB: removed */
  size_t cap, n, used;
};

static char tomb_mark;
#define TOMB (&tomb_mark)

static uint64_t hash(const char *s) {
  uint64_t h = 1469598103934665603ull; /* FNV-1a */
  for (; *s; s++)
    h = (h ^ (uint8_t)*s) * 1099511628211ull;
  return h;
}

static void key_of(int64_t account, const char *number, char *k, size_t cap) {
  snprintf(k, cap, "%lld:%s", (long long)account, number);
}

sg_optset_t *sg_optset_new(void) {
  sg_optset_t *s = sg_calloc(1, sizeof *s);
  if (s == NULL)
    return NULL;
  s->cap = 64;
  s->slot = sg_calloc(s->cap, sizeof *s->slot);
  if (s->slot == NULL) {
    sg_free(s);
    return NULL;
  }
  return s;
}

void sg_optset_free(sg_optset_t *s) {
  if (s == NULL)
    return;
  for (size_t i = 0; i < s->cap; i++)
    if (s->slot[i] != NULL && s->slot[i] != TOMB)
      sg_free(s->slot[i]);
  sg_free(s->slot);
  sg_free(s);
}

/* The slot holding k, or where it would go (-1 if full). */
static long find(const sg_optset_t *s, const char *k, bool *found) {
  size_t i = (size_t)(hash(k) & (s->cap - 1));
  long first_tomb = -1;
  *found = false;
  for (size_t probes = 0; probes < s->cap; probes++) {
    char *v = s->slot[i];
    if (v == NULL)
      return first_tomb >= 0 ? first_tomb : (long)i;
    if (v == TOMB) {
      if (first_tomb < 0)
        first_tomb = (long)i;
    } else if (strcmp(v, k) == 0) {
      *found = true;
      return (long)i;
    }
    i = (i + 1) & (s->cap - 1);
  }
  return first_tomb;
}

static int grow(sg_optset_t *s) {
  size_t ncap = s->cap * 2;
  char **ns = sg_calloc(ncap, sizeof *ns);
  if (ns == NULL)
    return SG_ENOMEM;
  for (size_t i = 0; i < s->cap; i++) {
    char *v = s->slot[i];
    if (v == NULL || v == TOMB)
      continue;
    size_t j = (size_t)(hash(v) & (ncap - 1));
    while (ns[j] != NULL)
      j = (j + 1) & (ncap - 1);
    ns[j] = v;
  }
  sg_free(s->slot);
  s->slot = ns;
  s->cap = ncap;
  s->used = s->n;
  return 0;
}

int sg_optset_add(sg_optset_t *s, int64_t account, const char *number) {
  char k[64];
  key_of(account, number, k, sizeof k);
  if ((s->used + 1) * 4 > s->cap * 3 && grow(s) != 0)
    return SG_ENOMEM;
  bool found;
  long i = find(s, k, &found);
  if (found)
    return 0;
  char *v = sg_strdup(k);
  if (v == NULL || i < 0) {
    sg_free(v);
    return SG_ENOMEM;
  }
  if (s->slot[i] == NULL)
    s->used++;
  s->slot[i] = v;
  s->n++;
  return 0;
}

void sg_optset_remove(sg_optset_t *s, int64_t account, const char *number) {
  char k[64];
  key_of(account, number, k, sizeof k);
  bool found;
  long i = find(s, k, &found);
  if (!found)
    return;
  sg_free(s->slot[i]);
  s->slot[i] = TOMB;
  s->n--;
}

bool sg_optset_has(const sg_optset_t *s, int64_t account, const char *number) {
  if (s == NULL || number == NULL || s->n == 0) /* no key to build */
    return false;
  char k[64];
  key_of(account, number, k, sizeof k);
  bool found;
  find(s, k, &found);
  return found;
}

size_t sg_optset_count(const sg_optset_t *s) {
  return s ? s->n : 0;
}

/* ---- automatic reply limit ----------------------------------------------- */

typedef struct pair {
  char key[64];
  int64_t start_ms;
  uint32_t count;
} pair_t;

struct sg_replyguard {
  uint32_t limit, window_ms;
  pair_t *p;
  size_t n, cap;
};

sg_replyguard_t *sg_replyguard_new(uint32_t limit, uint32_t window_ms) {
  sg_replyguard_t *g = sg_calloc(1, sizeof *g);
  if (g != NULL) {
    g->limit = limit;
    g->window_ms = window_ms;
  }
  return g;
}

void sg_replyguard_free(sg_replyguard_t *g) {
  if (g != NULL)
    sg_free(g->p);
  sg_free(g);
}

/* Drops pairs whose window ended (they would start afresh anyway). */
static void prune(sg_replyguard_t *g, int64_t now) {
  size_t w = 0;
  for (size_t i = 0; i < g->n; i++)
    if (now - g->p[i].start_ms < (int64_t)g->window_ms)
      g->p[w++] = g->p[i];
  g->n = w;
}

bool sg_replyguard_take(sg_replyguard_t *g, const char *from, const char *to,
                        int64_t now) {
  if (g == NULL || g->limit == 0)
    return false;
  char k[64];
  snprintf(k, sizeof k, "%s>%s", from, to);
  for (size_t i = 0; i < g->n; i++) {
    pair_t *p = &g->p[i];
    if (strcmp(p->key, k) != 0)
      continue;
    if (now - p->start_ms >= (int64_t)g->window_ms) {
      p->start_ms = now;
      p->count = 0;
    }
    if (p->count >= g->limit)
      return false;
    p->count++;
    return true;
  }
  if (g->n == g->cap) {
    prune(g, now);
    if (g->n == g->cap) {
      pair_t *np = sg_grow(g->p, &g->cap, g->n + 1, 16, sizeof *np);
      if (np == NULL)
        return false; /* refusing is the safe side */
      g->p = np;
    }
  }
  pair_t *p = &g->p[g->n++];
  snprintf(p->key, sizeof p->key, "%s", k);
  p->start_ms = now;
  p->count = 1;
  return true;
}

static pair_t *pair_find(sg_replyguard_t *g, const char *k) {
  for (size_t i = 0; i < g->n; i++)
    if (strcmp(g->p[i].key, k) == 0)
      return &g->p[i];
  return NULL;
}

bool sg_replyguard_state(sg_replyguard_t *g, const char *from, const char *to,
                         char *key, size_t cap, int64_t *start_ms,
                         uint32_t *count) {
  if (g == NULL)
    return false;
  snprintf(key, cap, "%s>%s", from, to);
  const pair_t *p = pair_find(g, key);
  if (p == NULL)
    return false;
  *start_ms = p->start_ms;
  *count = p->count;
  return true;
}

int sg_replyguard_restore(sg_replyguard_t *g, const char *key,
                          int64_t start_ms, uint32_t count, int64_t now) {
  if (g == NULL || key == NULL || strlen(key) >= sizeof g->p[0].key)
    return SG_EINVAL;
  if (now - start_ms >= (int64_t)g->window_ms)
    return 0; /* its window is over */
  pair_t *p = pair_find(g, key);
  if (p == NULL) {
    if (g->n == g->cap) {
      pair_t *np = sg_grow(g->p, &g->cap, g->n + 1, 16, sizeof *np);
      if (np == NULL)
        return SG_ENOMEM;
      g->p = np;
    }
    p = &g->p[g->n++];
    snprintf(p->key, sizeof p->key, "%s", key);
  }
  p->start_ms = start_ms;
  p->count = count;
  return 0;
}
