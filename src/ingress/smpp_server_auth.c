/* smpp_server_auth.c - binds to the SMPP server: the checks that name no
 * account (stopping, the failures of the source address), then the
 * argon2id password check on the thread pool, at most SG_SMPPS_VERIFY_MAX
 * at a time and SG_SMPPS_VERIFY_QUEUE waiting (or, while a configured
 * account's hash is still being made at start, a constant-time compare
 * with its configured password), then what the account allows (source
 * address, bind type, max_binds, disabled); every refusal answered after
 * bind_fail_delay.
 *
 * A caller without the password must not learn whether a system_id
 * exists: an unknown system_id is checked against another account's
 * hash (the result ignored), on the same pool, and answered
 * ESME_RINVPASWD like a wrong password; what the
 * account allows is told only to a caller that gave its password. It must
 * never hash on the loop, never hash for a bind that the address's
 * failures refuse, and never let the number of waiting binds grow past
 * its bounds.
 */
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "core/alloc.h"
#include "core/error.h"
#include "ingress/smpp_server_int.h"

void sg__smpps_hashed(sg_smpp_server_t *s, size_t n);

/* ---- hashing at start ---------------------------------------------------- */

/* The server listens before the configured accounts' passwords are hashed
 * (argon2id, tens of ms each and far more on a loaded machine: seconds for
 * a few accounts). Until an account's hash is ready, a bind for it is
 * checked against its configured password: both are reduced to keyed
 * BLAKE2b digests (a random key per server) and those compared with
 * sodium_memcmp, so the time taken says nothing of either password or its
 * length, and the answer is the one the hash will give. The password is in
 * the process anyway (it is read from the file and hashed from there). The
 * job writes only its own array; the loop copies the hashes in. */
typedef struct hash_job {
  uv_work_t work;
  sg_smpp_server_t *srv;
  size_t n;
  struct {
    size_t index;
    const char *pw; /* the configuration's, which outlives the server */
    int status;
    char hash[SG_STORE_PWHASH_MAX];
  } a[];
} hash_job_t;

static void hash_work_cb(uv_work_t *w) {
  hash_job_t *j = w->data;
  for (size_t i = 0; i < j->n; i++)
    j->a[i].status =
        sg_store_password_hash(j->a[i].pw, strlen(j->a[i].pw), j->a[i].hash);
}

static void hash_after_cb(uv_work_t *w, int status) {
  hash_job_t *j = w->data;
  sg_smpp_server_t *s = j->srv;
  s->work_out--;
  for (size_t i = 0; i < j->n; i++) {
    sg__smpps_acct_t *a = &s->accts[j->a[i].index];
    if (a->hash_status != SG_ESTATE)
      continue; /* the API changed the account meanwhile: its hash rules */
    a->hash_status = status != 0 ? SG_ECLOSED : j->a[i].status;
    memcpy(a->pw_hash, j->a[i].hash, sizeof a->pw_hash);
  }
  size_t n = j->n;
  sodium_memzero(j, sizeof *j + j->n * sizeof j->a[0]);
  sg_free(j);
  sg__smpps_hashed(s, n);
  sg__smpps_maybe_stopped(s);
}

int sg__smpps_hash_accounts(sg_smpp_server_t *s) {
  randombytes_buf(s->pw_key, sizeof s->pw_key);
  size_t n = 0;
  for (size_t i = 0; i < s->n_accts; i++)
    n += s->accts[i].hash_status == SG_ESTATE;
  hash_job_t *j = sg_calloc(1, sizeof *j + n * sizeof j->a[0]);
  if (j == NULL)
    return SG_ENOMEM;
  j->srv = s;
  j->work.data = j;
  for (size_t i = 0; i < s->n_accts; i++) {
    const sg__smpps_acct_t *a = &s->accts[i];
    if (a->hash_status != SG_ESTATE)
      continue;
    j->a[j->n].index = i;
    j->a[j->n++].pw = a->cfg->smpp.password ? a->cfg->smpp.password : "";
  }
  if (uv_queue_work(s->loop, &j->work, hash_work_cb, hash_after_cb) != 0) {
    sg_free(j);
    return SG_EIO;
  }
  s->work_out++;
  return 0;
}

/* Whether pw is the account's configured password (constant time). */
static int plain_check(const sg_smpp_server_t *s, const sg__smpps_acct_t *a,
                       const char *pw) {
  const char *want = a->cfg->smpp.password ? a->cfg->smpp.password : "";
  uint8_t h1[32], h2[32];
  crypto_generichash(h1, sizeof h1, (const uint8_t *)pw, strlen(pw), s->pw_key,
                     sizeof s->pw_key);
  crypto_generichash(h2, sizeof h2, (const uint8_t *)want, strlen(want),
                     s->pw_key, sizeof s->pw_key);
  int eq = sodium_memcmp(h1, h2, sizeof h1);
  sodium_memzero(h1, sizeof h1);
  sodium_memzero(h2, sizeof h2);
  return eq == 0 ? 0 : SG_ENOENT;
}

/* ---- refusals ------------------------------------------------------------ */

static void answer_refusal(sg__smpps_conn_t *c) {
  if (c->link == NULL)
    return;
  sg_smpp_session_t *ss = sg_smpp_link_session(c->link);
  if (sg_smpp_session_state(ss) == SG_SMPP_STATE_BINDING) {
    sg_smpp_session_reject_bind(ss, c->delayed_status,
                                sg_smpp_link_now(c->link));
    sg_smpp_link_kick(c->link);
  }
}

static void delay_cb(uv_timer_t *t) {
  answer_refusal(t->data);
}

/* Answers the bind with `status` after bind_fail_delay; `counts`: an
 * authentication failure of the source address. */
static void refuse(sg__smpps_conn_t *c, uint32_t status, bool counts,
                   const char *system_id, const char *why) {
  sg_smpp_server_t *s = c->srv;
  s->st.bind_failures++;
  if (counts && c->peer_known)
    sg__smpps_fail_add(s->fails, c->peer_key, (int64_t)uv_now(s->loop));
  sg__smpps_log(s, SG_CONFIG_LOG_WARN,
                "smpp server: %s bind as '%s' refused "
                "(%s): %s",
                c->peer, system_id, sg_smpp_status_name(status), why);
  if (c->link == NULL)
    return;
  if (s->sc->bind_fail_delay_ms == 0) {
    c->delayed_status = status;
    answer_refusal(c);
    return;
  }
  if (!c->delay_init) {
    uv_timer_init(s->loop, &c->delay);
    c->delay.data = c;
    c->delay_init = true;
    c->refs++; /* released by the timer's close */
  }
  c->delayed_status = status;
  uv_timer_start(&c->delay, delay_cb, s->sc->bind_fail_delay_ms, 0);
}

/* ---- accepting ----------------------------------------------------------- */

static uint32_t max_binds(const sg__smpps_acct_t *a) {
  return a->cfg->smpp.max_binds ? a->cfg->smpp.max_binds : 4;
}

static void accept_bind(sg__smpps_conn_t *c, sg__smpps_acct_t *a,
                        sg_smpp_bind_type_t type) {
  sg_smpp_server_t *s = c->srv;
  sg_smpp_session_t *ss = sg_smpp_link_session(c->link);
  c->acct = a;
  a->binds++;
  c->bound = true;
  c->receives = type == SG_SMPP_BIND_RX || type == SG_SMPP_BIND_TRX;
  c->window = a->cfg->smpp.window ? a->cfg->smpp.window : s->sc->window;
  s->st.binds++;
  s->st.binds_active++;
  sg_smpp_session_accept_bind(ss, "smsgate", sg_smpp_link_now(c->link));
  sg_smpp_link_kick(c->link);
  sg__smpps_log(s, SG_CONFIG_LOG_INFO, "smpp server: %s bound %s as '%s'",
                c->peer, sg_smpp_bind_type_name(type), a->cfg->smpp.system_id);
  if (c->receives)
    sg__smpps_pump(s);
}

void sg__smpps_bind_gone(sg__smpps_conn_t *c) {
  if (c->bound && c->acct != NULL) {
    c->acct->binds--;
    c->srv->st.binds_active--;
  }
  c->bound = false;
  c->receives = false;
}

/* ---- password checks ----------------------------------------------------- */

static void verify_start(sg_smpp_server_t *s, sg__smpps_verify_t *v);

static void verify_work_cb(uv_work_t *w) {
  sg__smpps_verify_t *v = w->data;
  v->result =
      sg_store_password_verify(v->hash, v->password, strlen(v->password));
}

static void verify_next(sg_smpp_server_t *s) {
  while (s->verifying < SG_SMPPS_VERIFY_MAX && s->wait_head != NULL) {
    sg__smpps_verify_t *v = s->wait_head;
    s->wait_head = v->next;
    if (s->wait_head == NULL)
      s->wait_tail = NULL;
    s->n_waiting--;
    verify_start(s, v);
  }
}

/* What the account allows a caller that gave its password: NULL when the
 * bind may go on, else why not (answered ESME_RBINDFAIL). */
static const char *account_refuses(const sg__smpps_conn_t *c,
                                   const sg__smpps_acct_t *a);
static bool cidr_allowed(const sg__smpps_conn_t *c, const sg__smpps_acct_t *a);

/* The answer to a bind as sid whose password was checked (result 0: it
 * matched), if the bind still waits for one; a NULL account is refused
 * like a wrong password whatever the result. */
static void verified(sg__smpps_conn_t *c, sg__smpps_acct_t *a, const char *sid,
                     int result) {
  const char *why = NULL;
  bool alive =
      c->link != NULL && sg_smpp_session_state(sg_smpp_link_session(c->link)) ==
                             SG_SMPP_STATE_BINDING;
  if (!alive)
    ;
  else if (a == NULL)
    refuse(c, SG_SMPP_ESME_RINVPASWD, true, sid, "unknown system_id");
  else if (result != 0)
    refuse(c, SG_SMPP_ESME_RINVPASWD, true, sid, "wrong password");
  else if ((why = account_refuses(c, a)) != NULL)
    refuse(c, SG_SMPP_ESME_RBINDFAIL, !cidr_allowed(c, a), sid, why);
  else
    accept_bind(c, a, sg_smpp_bind_type_of(c->bind_cmd));
}

static void verify_done(sg__smpps_verify_t *v) {
  sg__smpps_conn_t *c = v->conn;
  c->verifying = false;
  verified(c, v->acct, v->system_id, v->result);
  sodium_memzero(v->password, sizeof v->password);
  sg_free(v);
  sg__smpps_conn_unref(c);
}

static void verify_after_cb(uv_work_t *w, int status) {
  sg__smpps_verify_t *v = w->data;
  sg_smpp_server_t *s = v->conn->srv;
  s->verifying--;
  s->work_out--;
  if (status != 0)
    v->result = SG_ECLOSED;
  verify_done(v);
  verify_next(s);
  sg__smpps_maybe_stopped(s);
}

static void verify_start(sg_smpp_server_t *s, sg__smpps_verify_t *v) {
  v->work.data = v;
  if (uv_queue_work(s->loop, &v->work, verify_work_cb, verify_after_cb) != 0) {
    v->result = SG_EIO;
    verify_done(v);
    return;
  }
  s->verifying++;
  s->work_out++;
}

/* The hash an unknown system_id is checked against: any account's (same
 * argon2id limits, so the same cost; the result is ignored), made at start
 * with the others. While none is made yet (at start, when binds for known
 * accounts are checked against their configured passwords at once) the
 * check fails at once too; with no account that can bind there is no
 * system_id to reveal. */
static const char *dummy_hash(const sg_smpp_server_t *s) {
  for (size_t i = 0; i < s->n_accts; i++)
    if (s->accts[i].hash_status == 0)
      return s->accts[i].pw_hash;
  return "";
}

/* Queues the password check of a bind as system_id; a NULL account (an
 * unknown system_id, or one whose hash is missing) is checked against
 * dummy_hash() and refused whatever the result. */
static void verify_queue(sg__smpps_conn_t *c, sg__smpps_acct_t *a,
                         const char *sid, const char *password) {
  sg_smpp_server_t *s = c->srv;
  if (a != NULL && a->hash_status == SG_ESTATE) { /* its hash is being made */
    verified(c, a, sid, plain_check(s, a, password));
    return;
  }
  if (s->verifying >= SG_SMPPS_VERIFY_MAX &&
      s->n_waiting >= SG_SMPPS_VERIFY_QUEUE) {
    s->st.binds_limited++;
    refuse(c, SG_SMPP_ESME_RBINDFAIL, false, sid, "too many binds at once");
    return;
  }
  sg__smpps_verify_t *v = sg_calloc(1, sizeof *v);
  if (v == NULL) {
    refuse(c, SG_SMPP_ESME_RBINDFAIL, false, sid, "out of memory");
    return;
  }
  v->conn = c;
  v->acct = a;
  snprintf(v->password, sizeof v->password, "%s", password);
  snprintf(v->hash, sizeof v->hash, "%s",
           a != NULL ? a->pw_hash : dummy_hash(s));
  snprintf(v->system_id, sizeof v->system_id, "%s", sid);
  c->refs++;
  c->verifying = true;
  if (s->verifying < SG_SMPPS_VERIFY_MAX) {
    verify_start(s, v);
    return;
  }
  if (s->wait_tail != NULL)
    s->wait_tail->next = v;
  else
    s->wait_head = v;
  s->wait_tail = v;
  s->n_waiting++;
}

/* ---- the bind ------------------------------------------------------------ */

static sg__smpps_acct_t *find_acct(sg_smpp_server_t *s, const char *sid) {
  for (size_t i = 0; i < s->n_accts; i++)
    if (s->accts[i].cfg->smpp.system_id != NULL && /* API: smpp removed */
        strcmp(s->accts[i].cfg->smpp.system_id, sid) == 0)
      return &s->accts[i];
  return NULL;
}

static bool cidr_allowed(const sg__smpps_conn_t *c, const sg__smpps_acct_t *a) {
  if (a->cfg->smpp.n_allowed_cidrs == 0)
    return true;
  for (size_t i = 0; c->peer_known && i < a->n_cidrs; i++)
    if (sg_cidr_match(&a->cidrs[i], (const struct sockaddr *)&c->peer_sa))
      return true;
  return false;
}

static const char *account_refuses(const sg__smpps_conn_t *c,
                                   const sg__smpps_acct_t *a) {
  uint32_t types = a->cfg->smpp.bind_types ? a->cfg->smpp.bind_types : 0xE;
  if (!cidr_allowed(c, a))
    return "source address not in allowed_cidrs";
  if (!(types & (1u << sg_smpp_bind_type_of(c->bind_cmd))))
    return "bind type not allowed for the account";
  if (a->binds >= max_binds(a))
    return "max_binds reached";
  if (a->cfg->disabled)
    return "the account is disabled";
  return NULL;
}

void sg__smpps_on_bind(sg__smpps_conn_t *c, const sg_smpp_event_t *ev) {
  sg_smpp_server_t *s = c->srv;
  const sg_smpp_body_bind_t *b = &ev->pdu->body.bind_transmitter;
  sg__smpps_acct_t *a;
  c->bind_cmd = ev->command_id;
  if (s->stopping) {
    refuse(c, SG_SMPP_ESME_RBINDFAIL, false, b->system_id, "stopping");
    return;
  }
  if (c->peer_known &&
      sg__smpps_fail_over(s->fails, c->peer_key, s->sc->bind_fail_max,
                          (int64_t)uv_now(s->loop))) {
    s->st.binds_limited++;
    refuse(c, SG_SMPP_ESME_RBINDFAIL, true, b->system_id,
           "too many failed binds from this address");
    return;
  }
  /* An account that cannot bind (its hash or engine account missing) is
   * told apart from an unknown system_id in the log only. */
  a = find_acct(s, b->system_id);
  if (a != NULL && ((a->hash_status != 0 && a->hash_status != SG_ESTATE) ||
                    a->eng == NULL)) {
    sg__smpps_log(s, SG_CONFIG_LOG_WARN,
                  "smpp server: %s bind as '%s': the account cannot bind",
                  c->peer, b->system_id);
    a = NULL;
  }
  verify_queue(c, a, b->system_id, b->password);
}
