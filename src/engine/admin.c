/* admin.c - accounts and API keys managed at run time (engine.h "ACCOUNTS
 * AND KEYS AT RUN TIME"): an account's settings arrive as the JSON object
 * of the configuration's account keys, are checked by the configuration
 * loader itself (so the API and the file accept exactly the same values),
 * their passwords hashed with argon2id on libuv's thread pool, stored, and
 * only after the commit installed beside the configured accounts, where
 * every ingress finds them at once.
 *
 * Accounts live in the engine's account array, which has room for
 * SG_ENGINE_API_ACCOUNTS_MAX more from the start, so an account's address
 * never changes. A change installs a new version of the settings and keeps
 * the old one until the engine is freed: a request in flight may still read
 * it. This file must never block the loop, never keep a key or a password
 * in clear beyond the request that carries it, and never answer before the
 * store committed.
 */
#include <stdio.h>
#include <string.h>

#include <jansson.h>
#include <sodium.h>

#include "core/alloc.h"
#include "core/error.h"
#include "engine/admin_idem.h"
#include "engine/engine_int.h"

/* The key of the keyed hash of API keys: a fixed domain separator, so the
 * hash stays the same across restarts. A key carries 256 random bits, so
 * its hash cannot be reversed without the key. */
static const uint8_t key_secret[SG_STORE_SECRET_BYTES] =
    "smsgate api key hash, v1 ......";

/* Stands in for the credentials the loader wants and the API keeps apart
 * (api_key: keys are made with /v1/keys; smpp.password: kept hashed). */
#define DUMMY_KEY "-"
#define DUMMY_SMPP_PW "-"
#define ARGON2_PREFIX "$argon2id$"
#define GRACE_MAX_MS (30LL * 86400 * 1000)
/* Changes waiting behind the one running; one more is refused (SG_EBUSY,
 * 429 with Retry-After): a client that sends faster than argon2id and the
 * store take them is told to slow down. */
#define ADMIN_QUEUE_MAX 64

/* One version of an API account's settings; older ones are kept. */
typedef struct ver {
  sg_config_t *cfg; /* owns the account's settings (accounts[0]) */
  char *spec;       /* the JSON kept in the store */
  char *pw_hash;    /* argon2id of the Kannel password, or NULL */
  char *smpp_hash;  /* argon2id of smpp.password, or NULL */
  struct ver *prev;
} ver_t;

typedef struct acct_x {
  ver_t *ver; /* NULL: a configured account */
  int64_t created_ms, updated_ms;
} acct_x_t;

typedef struct key_x {
  sg_engine_key_t pub;
  int64_t row;
  char id[SG_STORE_KEY_ID_MAX];
  char *label;
  uint8_t hash[SG_STORE_KEY_HASH_BYTES];
} key_x_t;

struct sg__admin {
  acct_x_t *x; /* parallel to e->accounts, with the same room */
  key_x_t *keys;
  size_t n_keys, cap_keys;
  /* Changes run one at a time, in the order they came: the one running
   * and the ones waiting (at most ADMIN_QUEUE_MAX). */
  struct op *running;
  struct op *q_head, *q_tail;
  size_t q_len;
  sg_engine_account_changed_cb changed_cb;
  void *changed_data;
  void (*load_done)(sg_engine_t *e, int status);
};

typedef enum op_kind {
  OP_CREATE,
  OP_UPDATE,
  OP_KEY_CREATE,
  OP_KEY_REVOKE,
  OP_KEY_ROTATE
} op_kind_t;

typedef struct op {
  uv_work_t work;
  sg_engine_t *e;
  op_kind_t kind;
  sg_engine_admin_cb cb;
  void *ud;
  sg_engine_admin_res_t res;
  size_t index;       /* the account (update), the key (revoke, rotate) */
  json_t *spec;       /* the settings to store (secrets taken out) */
  sg_config_t *cfg;   /* those settings, checked */
  char *pw, *smpp_pw; /* passwords in clear, to hash (then wiped) */
  char pw_hash[SG_STORE_PWHASH_MAX], smpp_hash[SG_STORE_PWHASH_MAX];
  bool keep_smpp_hash; /* update: smpp.password unchanged */
  int hash_status;
  char webhook_secret[64]; /* generated, shown once */
  /* keys */
  const sg_engine_account_t *account;
  char label[72];
  bool has_label;
  sg_store_key_t key;
  char secret[96];
  int64_t revoke_ms;
  /* the Idempotency-Key record written with a creation (admin_idem.h) */
  sg_store_admin_idem_t idem;
  bool has_idem;
  /* what the change was asked, kept until its turn (prepared then, on the
   * settings the changes before it left) */
  struct op *next;
  char *text; /* the JSON body (create, update); wiped when freed */
  size_t len;
  char target[SG_CONFIG_KEY_MAX]; /* the account (update, key create) or key */
  bool has_target;
  int64_t grace_ms; /* rotate */
} op_t;

/* ---- small helpers ----------------------------------------------------- */

static struct sg__admin *admin_of(sg_engine_t *e) {
  if (e->admin == NULL) {
    e->admin = sg_calloc(1, sizeof *e->admin);
    if (e->admin == NULL)
      return NULL;
    e->admin->x = sg_calloc(e->accounts_cap,
                            sizeof *e->admin->x);
    if (e->admin->x == NULL) {
      sg_free(e->admin);
      e->admin = NULL;
    }
  }
  return e->admin;
}

static void jfree(void *p) {
  void (*f)(void *) = NULL;
  json_get_alloc_funcs(NULL, &f);
  if (p != NULL)
    f(p);
}

static char *dup_json(const json_t *j) {
  char *t = json_dumps(j, JSON_COMPACT);
  char *d = t != NULL ? sg_strdup(t) : NULL;
  jfree(t);
  return d;
}

static void wipe_free(char *s) {
  if (s != NULL) {
    sodium_memzero(s, strlen(s));
    sg_free(s);
  }
}

static void ver_free(ver_t *v) {
  while (v != NULL) {
    ver_t *p = v->prev;
    sg_config_free(v->cfg);
    sg_free(v->spec);
    sg_free(v->pw_hash);
    sg_free(v->smpp_hash);
    sg_free(v);
    v = p;
  }
}

static int fail(op_t *op, int status, const char *code, const char *field,
                const char *fmt, ...) __attribute__((format(printf, 5, 6)));
static int fail(op_t *op, int status, const char *code, const char *field,
                const char *fmt, ...) {
  op->res.status = status;
  op->res.error_code = code;
  snprintf(op->res.field, sizeof op->res.field, "%s", field ? field : "");
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(op->res.message, sizeof op->res.message, fmt, ap);
  va_end(ap);
  return status;
}

static size_t find_account(sg_engine_t *e, const char *name) {
  for (size_t i = 0; name != NULL && i < e->n_accounts; i++)
    if (strcmp(e->accounts[i].pub.name, name) == 0)
      return i;
  return SIZE_MAX;
}

static size_t find_key(struct sg__admin *ad, const char *id) {
  for (size_t i = 0; ad != NULL && id != NULL && i < ad->n_keys; i++)
    if (strcmp(ad->keys[i].id, id) == 0)
      return i;
  return SIZE_MAX;
}

static bool key_live(const sg_engine_key_t *k, int64_t now) {
  return k->revoked_ms == 0 || k->revoked_ms > now;
}

/* ---- checking settings ------------------------------------------------- */

/* RFC 7396 JSON merge patch of patch into target (both objects). */
static int merge_patch(json_t *target, json_t *patch) {
  const char *k;
  json_t *v;
  json_object_foreach(patch, k, v) {
    if (json_is_null(v)) {
      json_object_del(target, k);
      continue;
    }
    json_t *t = json_object_get(target, k);
    if (json_is_object(v)) {
      json_t *sub = json_is_object(t) ? json_incref(t) : json_object();
      if (sub == NULL || merge_patch(sub, v) != 0 ||
          json_object_set_new(target, k, sub) != 0)
        return SG_ENOMEM;
    } else if (json_object_set(target, k, v) != 0) {
      return SG_ENOMEM;
    }
  }
  return 0;
}

/* "accounts[0].smpp.password" -> "smpp.password"; "accounts[0]" -> "". */
static const char *field_of(const char *key) {
  const char *p = strstr(key, "accounts[0]");
  if (p == NULL)
    return key;
  p += strlen("accounts[0]");
  return *p == '.' ? p + 1 : p;
}

/* The first error of the loader as the API's failure: the field is the
 * key's path below the account, or the key a "missing required key"
 * names. */
static void config_failure(op_t *op, const sg_config_error_t *ce) {
  static const char missing[] = "missing required key \"";
  char field[SG_CONFIG_KEY_MAX];
  snprintf(field, sizeof field, "%s", field_of(ce->key));
  if (strncmp(ce->message, missing, sizeof missing - 1) == 0) {
    const char *k = ce->message + sizeof missing - 1;
    size_t n = strcspn(k, "\"");
    size_t at = strlen(field);
    snprintf(field + at, sizeof field - at, "%s%.*s", at ? "." : "", (int)n, k);
  }
  fail(op, SG_EINVAL, "invalid_field", field, "%s", ce->message);
}

/* Loads spec (with stand-ins for the credentials kept apart) through the
 * configuration loader: the same checks as the file's accounts. */
static int check_spec(sg_engine_t *e, op_t *op, const json_t *spec,
                      bool dummy_smpp, sg_config_t **out) {
  json_t *chk = json_deep_copy(spec);
  json_t *sm = chk != NULL ? json_object_get(chk, "smpp") : NULL;
  if (chk == NULL ||
      json_object_set_new(chk, "api_key", json_string(DUMMY_KEY)) != 0 ||
      (dummy_smpp && json_is_object(sm) &&
       json_object_set_new(sm, "password", json_string(DUMMY_SMPP_PW)) != 0)) {
    json_decref(chk);
    return fail(op, SG_ENOMEM, "internal", NULL, "out of memory");
  }
  char *text = json_dumps(chk, JSON_COMPACT);
  json_decref(chk);
  size_t n = text != NULL ? strlen(text) + 32 : 0;
  char *yaml = text != NULL ? sg_malloc(n) : NULL;
  sg_config_errors_t *errs = yaml != NULL ? sg_malloc(sizeof *errs) : NULL;
  int rc = SG_ENOMEM;
  if (errs != NULL) {
    int len = snprintf(yaml, n, "accounts:\n- %s\n", text);
    rc = sg_config_load_string("request", yaml, (size_t)len, out, errs);
  }
  if (rc == SG_ECONFIG && errs->count > 0)
    config_failure(op, &errs->items[0]);
  else if (rc != 0)
    fail(op, rc == SG_ECONFIG ? SG_EINVAL : SG_ENOMEM, "invalid_field", NULL,
         "the account's settings are not valid");
  if (text != NULL)
    sodium_memzero(text, strlen(text));
  if (yaml != NULL)
    sodium_memzero(yaml, n);
  jfree(text);
  sg_free(yaml);
  sg_free(errs);
  if (rc != 0)
    return op->res.status;
  const sg_config_account_t *ca = &(*out)->accounts[0];
  if (ca->default_region[0] != '\0' &&
      !sg_phone_region_known(e->phone_db, ca->default_region)) {
    fail(op, SG_EINVAL, "invalid_field", "default_region",
         "no such region: %s", ca->default_region);
    sg_config_free(*out);
    *out = NULL;
    return op->res.status;
  }
  return 0;
}

/* Names and system_ids are unique over every account but `self`. */
static int check_unique(sg_engine_t *e, op_t *op, size_t self) {
  const sg_config_account_t *ca = &op->cfg->accounts[0];
  for (size_t i = 0; i < e->n_accounts; i++) {
    const sg_config_account_t *o = e->accounts[i].pub.cfg;
    if (i == self || o == NULL)
      continue;
    if (strcmp(o->name, ca->name) == 0)
      return fail(op, SG_EEXIST, "name_taken", "name",
                  "an account named %s exists", ca->name);
    if (ca->smpp.system_id != NULL && o->smpp.system_id != NULL &&
        strcmp(o->smpp.system_id, ca->smpp.system_id) == 0)
      return fail(op, SG_EEXIST, "system_id_taken", "smpp.system_id",
                  "another account binds with system_id %s",
                  ca->smpp.system_id);
  }
  return 0;
}

/* Takes the passwords out of op->spec: the Kannel password to be hashed
 * (unless it is an argon2id hash already), smpp.password to be hashed and
 * kept apart. */
static int take_secrets(op_t *op) {
  json_t *pw = json_object_get(op->spec, "password");
  const char *p = json_string_value(pw);
  if (p != NULL && strncmp(p, ARGON2_PREFIX, strlen(ARGON2_PREFIX)) != 0) {
    if ((op->pw = sg_strdup(p)) == NULL)
      return SG_ENOMEM;
  }
  json_t *sm = json_object_get(op->spec, "smpp");
  const char *sp = json_string_value(json_object_get(sm, "password"));
  if (sp != NULL) {
    if ((op->smpp_pw = sg_strdup(sp)) == NULL)
      return SG_ENOMEM;
    json_object_del(sm, "password");
    op->keep_smpp_hash = false;
  }
  return 0;
}

/* ---- the steps of a change ----------------------------------------------- */

static void wipe_text(op_t *op) {
  if (op->text != NULL) {
    sodium_memzero(op->text, op->len);
    sg_free(op->text);
    op->text = NULL;
  }
}

static void op_free(op_t *op) {
  json_decref(op->spec);
  sg_config_free(op->cfg);
  wipe_free(op->pw);
  wipe_free(op->smpp_pw);
  wipe_text(op);
  sodium_memzero(op->secret, sizeof op->secret);
  sodium_memzero(op->webhook_secret, sizeof op->webhook_secret);
  sg_free(op);
}

static void op_next(sg_engine_t *e);

/* Answers the running change, frees it and starts the next one. */
static void op_answer(op_t *op) {
  sg_engine_t *e = op->e;
  struct sg__admin *ad = e->admin;
  if (op->res.status != 0 && op->res.message[0] == '\0')
    fail(op, op->res.status,
         op->res.status == SG_EIO ? "store_failed" : "internal", NULL, "%s",
         sg_strerror(op->res.status));
  op->cb(e, &op->res, op->ud);
  if (ad->running == op)
    ad->running = NULL;
  op_free(op);
  op_next(e); /* before this one's end: the engine waits for both */
  sg__op_end(e);
}

static void hash_work_cb(uv_work_t *w) {
  op_t *op = w->data;
  op->hash_status = 0;
  if (op->pw != NULL)
    op->hash_status =
        sg_store_password_hash(op->pw, strlen(op->pw), op->pw_hash);
  if (op->hash_status == 0 && op->smpp_pw != NULL)
    op->hash_status =
        sg_store_password_hash(op->smpp_pw, strlen(op->smpp_pw), op->smpp_hash);
}

static void after_hash_cb(uv_work_t *w, int status);
static void op_prepare(sg_engine_t *e, op_t *op);

/* Starts the change at the head of the queue unless one is running. Its
 * checks run now, on the settings the changes before it left; then it
 * goes once through the thread pool (hashing when there is something to
 * hash), so its callback never fires inside the call that asked it. */
static void op_next(sg_engine_t *e) {
  struct sg__admin *ad = e->admin;
  while (ad->running == NULL && ad->q_head != NULL) {
    op_t *op = ad->q_head;
    ad->q_head = op->next;
    if (ad->q_head == NULL)
      ad->q_tail = NULL;
    ad->q_len--;
    ad->running = op;
    if (e->state != SG__RUNNING)
      fail(op, SG_ECLOSED, "stopping", NULL,
           "the gateway is stopping; nothing was changed");
    else
      op_prepare(e, op);
    op->work.data = op;
    if (uv_queue_work(e->loop, &op->work, hash_work_cb, after_hash_cb) != 0) {
      fail(op, SG_EIO, "internal", NULL, "cannot start the change");
      op_answer(op);
    }
  }
}

/* Queues a change (taking op): 0, or SG_EBUSY when ADMIN_QUEUE_MAX wait
 * already (op freed, no callback). */
static int op_submit(sg_engine_t *e, op_t *op) {
  struct sg__admin *ad = e->admin;
  if (ad->q_len >= ADMIN_QUEUE_MAX) {
    op_free(op);
    return SG_EBUSY;
  }
  sg__op_begin(e);
  if (ad->q_tail != NULL)
    ad->q_tail->next = op;
  else
    ad->q_head = op;
  ad->q_tail = op;
  ad->q_len++;
  op_next(e);
  return 0;
}

static op_t *op_new(sg_engine_t *e, op_kind_t kind, sg_engine_admin_cb cb,
                    void *ud, int *rc) {
  *rc = SG_EINVAL;
  if (e == NULL || cb == NULL)
    return NULL;
  *rc = e->state != SG__RUNNING ? SG_ECLOSED : SG_ENOMEM;
  if (e->state != SG__RUNNING || admin_of(e) == NULL)
    return NULL;
  op_t *op = sg_calloc(1, sizeof *op);
  *rc = op != NULL ? 0 : SG_ENOMEM;
  if (op != NULL) {
    op->e = e;
    op->kind = kind;
    op->cb = cb;
    op->ud = ud;
  }
  return op;
}

/* Keeps the request's body and target until the change's turn; false
 * when out of memory (or the target is too long to be an account or a
 * key: the change then fails as not found). */
static bool op_keep(op_t *op, const char *text, size_t len,
                    const char *target) {
  if (text != NULL) {
    op->text = sg_malloc(len + 1);
    if (op->text == NULL)
      return false;
    memcpy(op->text, text, len);
    op->text[len] = '\0';
    op->len = len;
  }
  if (target != NULL) {
    op->has_target = strlen(target) < sizeof op->target;
    snprintf(op->target, sizeof op->target, "%s",
             op->has_target ? target : "");
  }
  return true;
}

/* Queues op with its inputs; the public functions' common end. */
static int op_queue(sg_engine_t *e, op_t *op, const char *text, size_t len,
                    const char *target) {
  if (!op_keep(op, text, len, target)) {
    op_free(op);
    return SG_ENOMEM;
  }
  return op_submit(e, op);
}

/* ---- installing an account ------------------------------------------------
 */

static int install(sg_engine_t *e, size_t i, sg_config_t *cfg, json_t *spec,
                   const char *pw_hash, const char *smpp_hash, int64_t id,
                   int64_t created_ms, int64_t updated_ms) {
  struct sg__admin *ad = e->admin;
  ver_t *v = sg_calloc(1, sizeof *v);
  if (v == NULL)
    return SG_ENOMEM;
  v->spec = dup_json(spec);
  v->pw_hash = pw_hash ? sg_strdup(pw_hash) : NULL;
  v->smpp_hash = smpp_hash ? sg_strdup(smpp_hash) : NULL;
  if (v->spec == NULL || (pw_hash && !v->pw_hash) ||
      (smpp_hash && !v->smpp_hash)) {
    ver_free(v);
    return SG_ENOMEM;
  }
  sg_config_account_t *ca = &cfg->accounts[0];
  ca->api_key = NULL;
  ca->smpp.password = NULL;
  if (v->pw_hash != NULL)
    ca->password = v->pw_hash;
  v->cfg = cfg;
  sg__account_t *a = &e->accounts[i];
  sg__account_fill(e, a, ca);
  a->has_key = false;
  a->has_smpp = false; /* binds check smpp_hash (argon2id) */
  if (id != 0)
    a->pub.id = id;
  v->prev = ad->x[i].ver;
  ad->x[i].ver = v;
  if (created_ms != 0)
    ad->x[i].created_ms = created_ms;
  ad->x[i].updated_ms = updated_ms;
  if (i == e->n_accounts)
    e->n_accounts++;
  return 0;
}

static void account_put_cb(sg_store_t *st, int status, int64_t id, void *data) {
  (void)st;
  op_t *op = data;
  sg_engine_t *e = op->e;
  sg__op_end(e);
  if (status == SG_EEXIST && op->has_idem)
    fail(op, SG_EEXIST, "idempotency_conflict", "idempotency_key",
         "the name is taken, or another request used this idempotency key");
  else if (status == SG_EEXIST)
    fail(op, SG_EEXIST, "name_taken", "name",
         "the name is taken (by an account of the store)");
  else if (status != 0)
    fail(op, status, status == SG_EIO ? "store_failed" : "internal", NULL,
         "the store failed: %s; nothing was changed", sg_strerror(status));
  bool create = op->kind == OP_CREATE;
  size_t i = create ? e->n_accounts : op->index;
  int64_t now = sg__now_ms(e);
  if (status == 0) {
    int rc = install(
        e, i, op->cfg, op->spec, op->pw != NULL ? op->pw_hash : NULL,
        op->smpp_hash[0] ? op->smpp_hash : NULL, id, create ? now : 0, now);
    if (rc != 0) {
      fail(op, rc, "internal", NULL, "out of memory");
    } else {
      op->cfg = NULL; /* now the account's */
      op->res.account = &e->accounts[i].pub;
      op->res.secret = op->webhook_secret[0] ? op->webhook_secret : NULL;
      sg__log(e, SG_ENGINE_LOG_INFO, "account %s %s through the API",
              e->accounts[i].pub.name, create ? "created" : "changed");
      if (e->admin->changed_cb != NULL)
        e->admin->changed_cb(e->admin->changed_data, &e->accounts[i].pub);
    }
  }
  op_answer(op);
}

static void account_store(op_t *op) {
  sg_engine_t *e = op->e;
  const sg_config_account_t *ca = &op->cfg->accounts[0];
  if (op->pw != NULL && json_object_set_new(op->spec, "password",
                                            json_string(op->pw_hash)) != 0) {
    fail(op, SG_ENOMEM, "internal", NULL, "out of memory");
    op_answer(op);
    return;
  }
  if (op->keep_smpp_hash) {
    const char *old =
        sg_engine_account_smpp_hash(e, &e->accounts[op->index].pub);
    snprintf(op->smpp_hash, sizeof op->smpp_hash, "%s", old ? old : "");
  }
  char *text = dup_json(op->spec);
  sg_store_admin_account_t a = {
      .id = op->kind == OP_UPDATE ? e->accounts[op->index].pub.id : 0,
      .name = ca->name,
      .spec = text,
      .smpp_password_hash = op->smpp_hash[0] ? op->smpp_hash : NULL,
      .disabled = ca->disabled};
  int rc = SG_ENOMEM;
  if (text != NULL && op->has_idem) {
    snprintf(op->idem.result, sizeof op->idem.result, "account:%s", ca->name);
    rc = sg_store_account_create_idem(e->st, &a, &op->idem, account_put_cb, op);
  } else if (text != NULL) {
    rc = sg_store_account_put(e->st, &a, op->kind == OP_CREATE, account_put_cb,
                              op);
  }
  sg_free(text);
  if (rc != 0) {
    fail(op, rc, rc == SG_EBUSY ? "busy" : "store_failed", NULL,
         "the store cannot take the change now: %s", sg_strerror(rc));
    op_answer(op);
    return;
  }
  sg__op_begin(e);
}

static void key_store(op_t *op);

static void after_hash_cb(uv_work_t *w, int status) {
  op_t *op = w->data;
  if (op->res.status == 0 && (status != 0 || op->hash_status != 0))
    fail(op, SG_ENOMEM, "internal", NULL, "cannot hash the password: %s",
         sg_strerror(status != 0 ? SG_ECLOSED : op->hash_status));
  if (op->res.status != 0) {
    op_answer(op);
    return;
  }
  if (op->kind == OP_CREATE || op->kind == OP_UPDATE)
    account_store(op);
  else
    key_store(op);
}

/* ---- creating and changing accounts -------------------------------------- */

static json_t *parse_object(op_t *op, const char *text, size_t len) {
  json_error_t err;
  json_t *j = json_loadb(text, len, JSON_REJECT_DUPLICATES, &err);
  if (j == NULL) {
    fail(op, SG_EINVAL, "invalid_json", NULL, "the body is not JSON: %s",
         err.text);
    return NULL;
  }
  if (!json_is_object(j)) {
    json_decref(j);
    fail(op, SG_EINVAL, "invalid_json", NULL, "the body must be a JSON object");
    return NULL;
  }
  if (json_object_get(j, "api_key") != NULL) {
    json_decref(j);
    fail(op, SG_EINVAL, "invalid_field", "api_key",
         "API keys are made with POST /v1/keys");
    return NULL;
  }
  return j;
}

static void make_webhook_secret(op_t *op) {
  uint8_t raw[24];
  randombytes_buf(raw, sizeof raw);
  memcpy(op->webhook_secret, "whsec_", 6);
  sodium_bin2base64(op->webhook_secret + 6, sizeof op->webhook_secret - 6, raw,
                    sizeof raw, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
  sodium_memzero(raw, sizeof raw);
}

/* Checks and prepares a create; returns 0 or the failure (in op->res). */
static int prepare_create(sg_engine_t *e, op_t *op, const char *text,
                          size_t len) {
  json_t *req = parse_object(op, text, len);
  if (req == NULL)
    return op->res.status;
  bool gen = json_object_get(req, "webhook_secret") == NULL;
  op->spec = json_object();
  if (op->spec == NULL || merge_patch(op->spec, req) != 0) {
    json_decref(req);
    return fail(op, SG_ENOMEM, "internal", NULL, "out of memory");
  }
  json_decref(req);
  if (gen) {
    make_webhook_secret(op);
    json_object_set_new(op->spec, "webhook_secret",
                        json_string(op->webhook_secret));
  }
  if (e->n_accounts >= e->accounts_cap)
    return fail(op, SG_EEXIST, "too_many_accounts", NULL,
                "at most %d accounts can be created through the API",
                SG_ENGINE_API_ACCOUNTS_MAX);
  int rc = check_spec(e, op, op->spec, false, &op->cfg);
  if (rc == 0)
    rc = check_unique(e, op, SIZE_MAX);
  if (rc == 0 && take_secrets(op) != 0)
    rc = fail(op, SG_ENOMEM, "internal", NULL, "out of memory");
  return rc;
}

static int account_create(sg_engine_t *e, const char *spec, size_t len,
                          const sg_store_admin_idem_t *idem,
                          sg_engine_admin_cb cb, void *ud) {
  int rc;
  if (spec == NULL)
    return SG_EINVAL;
  op_t *op = op_new(e, OP_CREATE, cb, ud, &rc);
  if (op == NULL)
    return rc;
  if (idem != NULL) {
    op->idem = *idem;
    op->has_idem = true;
  }
  return op_queue(e, op, spec, len, NULL);
}

int sg_engine_account_create(sg_engine_t *e, const char *spec, size_t len,
                             sg_engine_admin_cb cb, void *ud) {
  return account_create(e, spec, len, NULL, cb, ud);
}

int sg_engine_account_create_idem(sg_engine_t *e, const char *spec,
                                  size_t len, const sg_store_admin_idem_t *idem,
                                  sg_engine_admin_cb cb, void *ud) {
  return idem != NULL ? account_create(e, spec, len, idem, cb, ud) : SG_EINVAL;
}

static int prepare_update(sg_engine_t *e, op_t *op, const char *name,
                          const char *text, size_t len) {
  op->index = find_account(e, name);
  if (op->index == SIZE_MAX)
    return fail(op, SG_ENOENT, "not_found", NULL, "no account named %s", name);
  acct_x_t *x = &e->admin->x[op->index];
  if (x->ver == NULL)
    return fail(op, SG_EPERM, "managed_by_config", NULL,
                "account %s is defined in the configuration file; change it "
                "there",
                name);
  json_t *patch = parse_object(op, text, len);
  if (patch == NULL)
    return op->res.status;
  const char *nn = json_string_value(json_object_get(patch, "name"));
  if (json_object_get(patch, "name") != NULL &&
      (nn == NULL || strcmp(nn, name) != 0)) {
    json_decref(patch);
    return fail(op, SG_EINVAL, "invalid_field", "name",
                "an account's name cannot change");
  }
  op->spec = json_loads(x->ver->spec, 0, NULL);
  if (op->spec == NULL || merge_patch(op->spec, patch) != 0) {
    json_decref(patch);
    return fail(op, SG_ENOMEM, "internal", NULL, "out of memory");
  }
  json_t *psm = json_object_get(patch, "smpp");
  bool new_pw = json_is_object(psm) && json_object_get(psm, "password");
  op->keep_smpp_hash = x->ver->smpp_hash != NULL && !new_pw &&
                       json_is_object(json_object_get(op->spec, "smpp"));
  json_decref(patch);
  int rc = check_spec(e, op, op->spec, op->keep_smpp_hash, &op->cfg);
  if (rc == 0)
    rc = check_unique(e, op, op->index);
  if (rc == 0 && take_secrets(op) != 0)
    rc = fail(op, SG_ENOMEM, "internal", NULL, "out of memory");
  return rc;
}

int sg_engine_account_update(sg_engine_t *e, const char *name,
                             const char *patch, size_t len,
                             sg_engine_admin_cb cb, void *ud) {
  int rc;
  if (name == NULL || patch == NULL)
    return SG_EINVAL;
  op_t *op = op_new(e, OP_UPDATE, cb, ud, &rc);
  if (op == NULL)
    return rc;
  return op_queue(e, op, patch, len, name);
}

/* ---- reading accounts -----------------------------------------------------
 */

const sg_engine_account_t *sg_engine_account_at(sg_engine_t *e, size_t i) {
  if (e == NULL || e->state < SG__RUNNING || i >= e->n_accounts)
    return NULL;
  return &e->accounts[i].pub;
}

static size_t index_of(const sg_engine_t *e, const sg_engine_account_t *a) {
  const sg__account_t *x = (const sg__account_t *)a;
  if (a == NULL || x < e->accounts || x >= e->accounts + e->n_accounts)
    return SIZE_MAX;
  return (size_t)(x - e->accounts);
}

void sg_engine_account_info(sg_engine_t *e, const sg_engine_account_t *a,
                            sg_engine_account_info_t *out) {
  memset(out, 0, sizeof *out);
  size_t i = e != NULL ? index_of(e, a) : SIZE_MAX;
  if (i == SIZE_MAX || e->admin == NULL)
    return;
  out->api = e->admin->x[i].ver != NULL;
  out->created_ms = e->admin->x[i].created_ms;
  out->updated_ms = e->admin->x[i].updated_ms;
}

const char *sg_engine_account_smpp_hash(sg_engine_t *e,
                                        const sg_engine_account_t *a) {
  size_t i = e != NULL ? index_of(e, a) : SIZE_MAX;
  if (i == SIZE_MAX || e->admin == NULL || e->admin->x[i].ver == NULL)
    return NULL;
  return e->admin->x[i].ver->smpp_hash;
}

void sg__admin_notify(sg_engine_t *e, const sg_engine_account_t *a) {
  if (e->admin != NULL && e->admin->changed_cb != NULL)
    e->admin->changed_cb(e->admin->changed_data, a);
}

void sg_engine_on_account_changed(sg_engine_t *e,
                                  sg_engine_account_changed_cb cb, void *data) {
  if (e == NULL || admin_of(e) == NULL)
    return;
  e->admin->changed_cb = cb;
  e->admin->changed_data = data;
}

/* ---- keys ------------------------------------------------------------------
 */

static int keys_grow(struct sg__admin *ad) {
  if (ad->n_keys < ad->cap_keys)
    return 0;
  if (ad->n_keys >= SG_ENGINE_KEYS_MAX)
    return SG_EBUSY;
  key_x_t *k = sg_grow(ad->keys, &ad->cap_keys, ad->n_keys + 1, 16, sizeof *k);
  if (k == NULL)
    return SG_ENOMEM;
  ad->keys = k;
  for (size_t i = 0; i < ad->n_keys; i++) /* ids point into the items */
    ad->keys[i].pub.id = ad->keys[i].id;
  return 0;
}

static int key_add(struct sg__admin *ad, const sg_store_key_t *k,
                   const sg_engine_account_t *acct) {
  int rc = keys_grow(ad);
  if (rc != 0)
    return rc;
  key_x_t *x = &ad->keys[ad->n_keys];
  memset(x, 0, sizeof *x);
  x->row = k->id;
  memcpy(x->id, k->public_id, sizeof x->id);
  x->id[sizeof x->id - 1] = '\0';
  memcpy(x->hash, k->hash, sizeof x->hash);
  if (k->label != NULL && (x->label = sg_strdup(k->label)) == NULL)
    return SG_ENOMEM;
  x->pub.id = x->id;
  x->pub.name = x->label;
  x->pub.account = acct;
  x->pub.created_ms = k->created_ms;
  x->pub.revoked_ms = k->revoked_ms;
  ad->n_keys++;
  return 0;
}

static void make_key(op_t *op) {
  uint8_t idb[6], raw[32];
  randombytes_buf(idb, sizeof idb);
  randombytes_buf(raw, sizeof raw);
  char hex[16];
  sodium_bin2hex(hex, sizeof hex, idb, sizeof idb);
  snprintf(op->key.public_id, sizeof op->key.public_id, "k_%s", hex);
  char b64[64];
  sodium_bin2base64(b64, sizeof b64, raw, sizeof raw,
                    sodium_base64_VARIANT_URLSAFE_NO_PADDING);
  snprintf(op->secret, sizeof op->secret, "sgk_%s_%s", hex, b64);
  sodium_memzero(raw, sizeof raw);
  sodium_memzero(b64, sizeof b64);
  sg_store_key_hash(key_secret, op->secret, strlen(op->secret), op->key.hash);
  op->key.account_id = op->account->id;
  op->key.label = op->has_label ? op->label : NULL;
}

static void key_put_cb(sg_store_t *st, int status, int64_t id, void *data) {
  (void)st;
  op_t *op = data;
  sg_engine_t *e = op->e;
  struct sg__admin *ad = e->admin;
  sg__op_end(e);
  int64_t now = sg__now_ms(e);
  if (status == 0) {
    if (op->kind == OP_KEY_ROTATE) {
      sg_engine_key_t *old = &ad->keys[op->index].pub;
      if (old->revoked_ms == 0 || old->revoked_ms > op->revoke_ms)
        old->revoked_ms = op->revoke_ms;
    }
    op->key.id = id;
    op->key.created_ms = now;
    status = key_add(ad, &op->key, op->account);
  }
  if (status == 0) {
    op->res.key = &ad->keys[ad->n_keys - 1].pub;
    op->res.account = op->account;
    op->res.secret = op->secret;
    sg__log(e, SG_ENGINE_LOG_INFO, "API key %s of account %s %s",
            op->key.public_id, op->account->name,
            op->kind == OP_KEY_ROTATE ? "made by rotation" : "made");
  } else if (status == SG_EEXIST && op->has_idem) {
    fail(op, SG_EEXIST, "idempotency_conflict", "idempotency_key",
         "another request used this idempotency key");
  } else {
    fail(op, status, status == SG_EIO ? "store_failed" : "internal", NULL,
         "the store failed: %s; nothing was changed", sg_strerror(status));
  }
  op_answer(op);
}

static void key_revoked_cb(sg_store_t *st, int status, void *data) {
  (void)st;
  op_t *op = data;
  sg_engine_t *e = op->e;
  sg__op_end(e);
  if (status == 0) {
    sg_engine_key_t *k = &e->admin->keys[op->index].pub;
    k->revoked_ms = op->revoke_ms;
    op->res.key = k;
    op->res.account = k->account;
    sg__log(e, SG_ENGINE_LOG_INFO, "API key %s revoked", k->id);
  } else {
    fail(op, status, status == SG_EIO ? "store_failed" : "internal", NULL,
         "the store failed: %s; nothing was changed", sg_strerror(status));
  }
  op_answer(op);
}

static void key_store(op_t *op) {
  sg_engine_t *e = op->e;
  int rc;
  if (op->kind == OP_KEY_REVOKE) {
    rc = sg_store_key_revoke(e->st, op->e->admin->keys[op->index].row,
                             op->revoke_ms, key_revoked_cb, op);
  } else {
    make_key(op);
    int64_t old = op->kind == OP_KEY_ROTATE ? e->admin->keys[op->index].row : 0;
    if (op->has_idem) {
      snprintf(op->idem.result, sizeof op->idem.result, "key:%s",
               op->key.public_id);
      rc = sg_store_key_put_idem(e->st, &op->key, &op->idem, key_put_cb, op);
    } else {
      rc = sg_store_key_put(e->st, &op->key, old, old ? op->revoke_ms : 0,
                            key_put_cb, op);
    }
  }
  if (rc != 0) {
    fail(op, rc, rc == SG_EBUSY ? "busy" : "store_failed", NULL,
         "the store cannot take the change now: %s", sg_strerror(rc));
    op_answer(op);
    return;
  }
  sg__op_begin(e);
}

/* The checks of a key's creation, at its turn. */
static void prepare_key_create(sg_engine_t *e, op_t *op) {
  size_t i = op->has_target ? find_account(e, op->target) : SIZE_MAX;
  if (i == SIZE_MAX)
    fail(op, SG_ENOENT, "not_found", "account", "no account named %s",
         op->target);
  else if (e->admin->n_keys >= SG_ENGINE_KEYS_MAX)
    fail(op, SG_EEXIST, "too_many_keys", NULL, "at most %d keys are kept",
         SG_ENGINE_KEYS_MAX);
  op->account = i != SIZE_MAX ? &e->accounts[i].pub : NULL;
}

static int key_create(sg_engine_t *e, const char *account, const char *name,
                      const sg_store_admin_idem_t *idem, sg_engine_admin_cb cb,
                      void *ud) {
  int rc;
  if (account == NULL)
    return SG_EINVAL;
  op_t *op = op_new(e, OP_KEY_CREATE, cb, ud, &rc);
  if (op == NULL)
    return rc;
  if (idem != NULL) {
    op->idem = *idem;
    op->has_idem = true;
  }
  if (name != NULL && (name[0] == '\0' || strlen(name) > 64))
    fail(op, SG_EINVAL, "invalid_field", "name",
         "a key's name has 1 to 64 octets");
  op->has_label = name != NULL;
  if (name != NULL)
    snprintf(op->label, sizeof op->label, "%s", name);
  return op_queue(e, op, NULL, 0, account);
}

int sg_engine_key_create(sg_engine_t *e, const char *account, const char *name,
                         sg_engine_admin_cb cb, void *ud) {
  return key_create(e, account, name, NULL, cb, ud);
}

int sg_engine_key_create_idem(sg_engine_t *e, const char *account,
                              const char *name,
                              const sg_store_admin_idem_t *idem,
                              sg_engine_admin_cb cb, void *ud) {
  return idem != NULL ? key_create(e, account, name, idem, cb, ud) : SG_EINVAL;
}

/* Finds live key `id` for a revoke or rotate; 0 or the failure. */
static int live_key(sg_engine_t *e, op_t *op, const char *id) {
  op->index = find_key(e->admin, id);
  if (op->index == SIZE_MAX)
    return fail(op, SG_ENOENT, "not_found", NULL, "no key %s", id);
  const sg_engine_key_t *k = &e->admin->keys[op->index].pub;
  if (!key_live(k, sg__now_ms(e)))
    return fail(op, SG_ESTATE, "revoked", NULL, "key %s is revoked", id);
  op->account = k->account;
  op->has_label = k->name != NULL;
  if (k->name != NULL)
    snprintf(op->label, sizeof op->label, "%s", k->name);
  return 0;
}

int sg_engine_key_revoke(sg_engine_t *e, const char *id, sg_engine_admin_cb cb,
                         void *ud) {
  int rc;
  if (id == NULL)
    return SG_EINVAL;
  op_t *op = op_new(e, OP_KEY_REVOKE, cb, ud, &rc);
  if (op == NULL)
    return rc;
  return op_queue(e, op, NULL, 0, id);
}

int sg_engine_key_rotate(sg_engine_t *e, const char *id, int64_t grace_ms,
                         sg_engine_admin_cb cb, void *ud) {
  int rc;
  if (id == NULL)
    return SG_EINVAL;
  op_t *op = op_new(e, OP_KEY_ROTATE, cb, ud, &rc);
  if (op == NULL)
    return rc;
  if (grace_ms < 0 || grace_ms > GRACE_MAX_MS)
    fail(op, SG_EINVAL, "invalid_field", "grace_period",
         "the grace period is 0 to 30 days");
  op->grace_ms = grace_ms;
  return op_queue(e, op, NULL, 0, id);
}

/* The checks of a change, at its turn (op_next); a failure is kept in
 * op->res and answered after the trip through the thread pool. A failure
 * found when the change was asked (a bad name or grace) stands. */
static void op_prepare(sg_engine_t *e, op_t *op) {
  if (op->res.status != 0)
    return;
  switch (op->kind) {
  case OP_CREATE:
    prepare_create(e, op, op->text, op->len);
    break;
  case OP_UPDATE:
    if (!op->has_target)
      fail(op, SG_ENOENT, "not_found", NULL, "no such account");
    else
      prepare_update(e, op, op->target, op->text, op->len);
    break;
  case OP_KEY_CREATE:
    prepare_key_create(e, op);
    break;
  case OP_KEY_REVOKE:
  case OP_KEY_ROTATE:
    live_key(e, op, op->target);
    /* A revocation takes effect strictly after its time: one millisecond
     * early makes "now" mean now. */
    op->revoke_ms = sg__now_ms(e) + (op->grace_ms > 0 ? op->grace_ms : 0);
    break;
  }
  wipe_text(op); /* the settings are in op->spec now, secrets taken out */
}

const sg_engine_key_t *sg_engine_key_at(sg_engine_t *e, size_t i) {
  if (e == NULL || e->admin == NULL || i >= e->admin->n_keys)
    return NULL;
  return &e->admin->keys[i].pub;
}

int sg__admin_auth_key(sg_engine_t *e, const char *key, size_t len,
                       const sg_engine_account_t **out) {
  struct sg__admin *ad = e->admin;
  if (ad == NULL || ad->n_keys == 0)
    return SG_ENOENT;
  uint8_t h[SG_STORE_KEY_HASH_BYTES];
  if (sg_store_key_hash(key_secret, key, len, h) != 0)
    return SG_ENOENT;
  key_x_t *found = NULL;
  for (size_t i = 0; i < ad->n_keys; i++) {
    bool eq = sodium_memcmp(ad->keys[i].hash, h, sizeof h) == 0;
    if (eq && found == NULL)
      found = &ad->keys[i];
  }
  int64_t now = sg__now_ms(e);
  if (found == NULL || found->pub.account == NULL ||
      !key_live(&found->pub, now))
    return SG_ENOENT;
  found->pub.last_used_ms = now;
  if (found->pub.account->cfg->disabled)
    return SG_EPERM;
  *out = found->pub.account;
  return 0;
}

/* ---- loading at start ------------------------------------------------------
 */

static void load_account(sg_engine_t *e, const sg_store_admin_account_t *a) {
  if (find_account(e, a->name) != SIZE_MAX) {
    sg__log(e, SG_ENGINE_LOG_WARN,
            "account %s of the store is also in the configuration: the "
            "configuration's settings win",
            a->name);
    return;
  }
  op_t op;
  memset(&op, 0, sizeof op);
  json_t *spec = json_loads(a->spec, 0, NULL);
  sg_config_t *cfg = NULL;
  int rc = spec != NULL
               ? check_spec(e, &op, spec, a->smpp_password_hash != NULL, &cfg)
               : SG_EINVAL;
  if (rc == 0 &&
      e->n_accounts < e->accounts_cap)
    rc = install(e, e->n_accounts, cfg, spec, NULL, a->smpp_password_hash,
                 a->id, a->created_ms, a->updated_ms);
  else if (rc == 0)
    rc = SG_EBUSY;
  if (rc != 0) {
    sg_config_free(cfg);
    sg__log(e, SG_ENGINE_LOG_ERROR,
            "account %s of the store not loaded: %s%s%s", a->name, op.res.field,
            op.res.field[0] ? ": " : "",
            op.res.message[0] ? op.res.message : sg_strerror(rc));
  }
  json_decref(spec);
}

static void load_cb(sg_store_t *st, int status,
                    const sg_store_admin_account_t *accts, size_t n_accts,
                    const sg_store_key_t *keys, size_t n_keys, void *data) {
  (void)st;
  sg_engine_t *e = data;
  sg__op_end(e);
  struct sg__admin *ad = e->admin;
  size_t api = 0, live = 0;
  for (size_t i = 0; status == 0 && i < n_accts; i++) {
    size_t before = e->n_accounts;
    load_account(e, &accts[i]);
    api += e->n_accounts - before;
  }
  int64_t now = sg__now_ms(e);
  for (size_t i = 0; status == 0 && i < n_keys; i++) {
    const sg_engine_account_t *acct = NULL;
    for (size_t k = 0; k < e->n_accounts && acct == NULL; k++)
      if (e->accounts[k].pub.id == keys[i].account_id)
        acct = &e->accounts[k].pub;
    if (acct == NULL)
      continue; /* an account no longer configured */
    status = key_add(ad, &keys[i], acct);
    live += status == 0 && key_live(&ad->keys[ad->n_keys - 1].pub, now);
  }
  if (status == 0)
    sg__log(e, SG_ENGINE_LOG_INFO,
            "%zu account(s) and %zu live API key(s) loaded from the store", api,
            live);
  ad->load_done(e, status == 0 ? 0 : SG_EIO);
}

void sg__admin_load(sg_engine_t *e, void (*done)(sg_engine_t *e, int status)) {
  if (admin_of(e) == NULL) {
    done(e, SG_ENOMEM);
    return;
  }
  e->admin->load_done = done;
  int rc = sg_store_admin_load(e->st, load_cb, e);
  if (rc != 0) {
    done(e, rc == SG_EBUSY ? SG_EBUSY : SG_EIO);
    return;
  }
  sg__op_begin(e);
}

void sg__admin_free(sg_engine_t *e) {
  struct sg__admin *ad = e->admin;
  if (ad == NULL)
    return;
  for (size_t i = 0; i < e->n_accounts; i++)
    ver_free(ad->x[i].ver);
  for (size_t i = 0; i < ad->n_keys; i++)
    sg_free(ad->keys[i].label);
  sg_free(ad->keys);
  sg_free(ad->x);
  sg_free(ad);
  e->admin = NULL;
}
