/* smpp_server_accts.c - accounts created or changed through the API
 * (engine.h "ACCOUNTS AND KEYS AT RUN TIME") as the SMPP server sees them:
 * the engine tells the server of each change, and the server adds the
 * account to its table or refreshes its settings, source addresses and
 * password hash (made by the engine with argon2id, so nothing is hashed
 * here). A disabled account's sessions are unbound at once.
 *
 * The table has room for every account the API may add, so an entry's
 * address never changes while sessions point at it. This file must never
 * hash a password, and never block the loop.
 */
#include <string.h>

#include "core/alloc.h"
#include "core/error.h"
#include "ingress/smpp_server_int.h"

static sg__smpps_acct_t *entry_of(sg_smpp_server_t *s,
                                  const sg_engine_account_t *a) {
  for (size_t i = 0; i < s->n_accts; i++)
    if (s->accts[i].eng == a || (s->accts[i].eng == NULL &&
                                 strcmp(s->accts[i].cfg->name, a->name) == 0))
      return &s->accts[i];
  return NULL;
}

static void cidrs_load(sg__smpps_acct_t *x, const sg_config_account_t *ca) {
  sg_free(x->cidrs);
  x->cidrs = NULL;
  x->n_cidrs = 0;
  size_t n = ca->smpp.n_allowed_cidrs;
  if (n == 0 || (x->cidrs = sg_calloc(n, sizeof *x->cidrs)) == NULL)
    return; /* out of memory: no address matches, binds are refused */
  for (size_t k = 0; k < n; k++) {
    const char *t = ca->smpp.allowed_cidrs[k];
    if (sg_cidr_parse(t, strlen(t), &x->cidrs[x->n_cidrs]) == 0)
      x->n_cidrs++;
  }
}

/* Unbinds the sessions of a disabled account. */
static void unbind_all(sg_smpp_server_t *s, const sg__smpps_acct_t *x) {
  for (sg__smpps_conn_t *c = s->conns; c != NULL; c = c->next) {
    if (c->acct != x || !c->bound || c->link == NULL)
      continue;
    sg_smpp_session_t *ss = sg_smpp_link_session(c->link);
    if (sg_smpp_session_unbind(ss, sg_smpp_link_now(c->link)) == 0)
      sg_smpp_link_kick(c->link);
    else
      sg_smpp_link_close(c->link, SG_ECLOSED);
  }
}

void sg__smpps_account_changed(void *data, const sg_engine_account_t *a);
void sg__smpps_account_changed(void *data, const sg_engine_account_t *a) {
  sg_smpp_server_t *s = data;
  sg__smpps_acct_t *x = entry_of(s, a);
  if (x == NULL) {
    if (a->cfg->smpp.system_id == NULL ||
        s->n_accts >= s->cfg->n_accounts + SG_ENGINE_API_ACCOUNTS_MAX)
      return;
    x = &s->accts[s->n_accts++];
  }
  const char *hash = sg_engine_account_smpp_hash(s->engine, a);
  x->cfg = a->cfg;
  x->eng = a;
  cidrs_load(x, a->cfg);
  x->hash_status = hash != NULL ? 0 : SG_ENOENT;
  snprintf(x->pw_hash, sizeof x->pw_hash, "%s", hash != NULL ? hash : "");
  if (a->cfg->disabled || a->cfg->smpp.system_id == NULL)
    unbind_all(s, x);
  sg__smpps_log(s, SG_CONFIG_LOG_INFO, "smpp server: account %s %s", a->name,
                a->cfg->smpp.system_id == NULL ? "cannot bind"
                : a->cfg->disabled             ? "is disabled"
                                               : "may bind");
}

void sg__smpps_accounts_follow(sg_smpp_server_t *s);
void sg__smpps_accounts_follow(sg_smpp_server_t *s) {
  sg_engine_account_info_t info;
  const sg_engine_account_t *a;
  for (size_t i = 0; (a = sg_engine_account_at(s->engine, i)) != NULL; i++) {
    sg_engine_account_info(s->engine, a, &info);
    if (info.api && a->cfg->smpp.system_id != NULL)
      sg__smpps_account_changed(s, a);
  }
  sg_engine_on_account_changed(s->engine, sg__smpps_account_changed, s);
}
