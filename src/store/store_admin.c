/* store_admin.c - the public requests of store.h "ACCOUNTS AND KEYS AT RUN
 * TIME": each checks its arguments, copies them into an SG__REQ_ADMIN_*
 * request that owns its memory, and queues it on the backend; and the
 * callbacks of those requests when they come back.
 *
 * It must never touch the database, never call a callback from inside a
 * request function, and never see a key in clear: only its hash.
 */
#include "store/admin_int.h"

#include <string.h>

#include "core/error.h"

int sg__admin_begin(sg_store_t *st, bool write, sg__admin_op_t op,
                       sg__any_cb cb, void *data, sg__store_req_t **out,
                       sg__admin_req_t **ar) {
  void *m = NULL;
  *ar = NULL;
  int rc =
      sg__store_req_begin(st, write ? SG__REQ_ADMIN_WRITE : SG__REQ_ADMIN_READ,
                          cb, data, sizeof(**ar), out, &m);
  if (rc < 0)
    return rc;
  (*out)->in.admin = m;
  *ar = m;
  (*ar)->op = op;
  return 0;
}

static int admin_queue(sg_store_t *st, sg__store_req_t *r, bool ok) {
  return sg__store_req_queue(st, r, ok);
}

static bool name_ok(const char *s) {
  size_t n = s != NULL ? strlen(s) : 0;
  return n >= 1 && n <= 64;
}

/* Copies idem (when not NULL) into the request's arena; false when out of
 * memory. */
static bool attach_idem(sg__store_req_t *r, sg__admin_req_t *m,
                        const sg_store_admin_idem_t *idem) {
  if (idem == NULL)
    return true;
  m->idem = sg__arena_alloc(&r->arena, sizeof *m->idem);
  if (m->idem != NULL)
    *m->idem = *idem;
  return m->idem != NULL;
}

int sg__store_account_put(sg_store_t *st, const sg_store_admin_account_t *a,
                          bool create, const sg_store_admin_idem_t *idem,
                          sg_store_id_cb cb, void *data) {
  if (a == NULL || !name_ok(a->name) || a->spec == NULL ||
      (!create && a->id <= 0))
    return SG_EINVAL;
  sg__store_req_t *r;
  sg__admin_req_t *m;
  int rc = sg__admin_begin(
      st, true, create ? SG__ADMIN_ACCOUNT_CREATE : SG__ADMIN_ACCOUNT_UPDATE,
      (sg__any_cb)cb, data, &r, &m);
  if (rc < 0)
    return rc;
  bool ok = true;
  m->account = *a;
  m->account.name = sg__arena_strdup(&r->arena, a->name, &ok);
  m->account.spec = sg__arena_strdup(&r->arena, a->spec, &ok);
  m->account.smpp_password_hash =
      sg__arena_strdup(&r->arena, a->smpp_password_hash, &ok);
  ok = attach_idem(r, m, idem) && ok;
  return admin_queue(st, r, ok);
}

int sg_store_account_put(sg_store_t *st, const sg_store_admin_account_t *a,
                         bool create, sg_store_id_cb cb, void *data) {
  return sg__store_account_put(st, a, create, NULL, cb, data);
}

int sg_store_admin_load(sg_store_t *st, sg_store_admin_load_cb cb, void *data) {
  sg__store_req_t *r;
  sg__admin_req_t *m;
  int rc = sg__admin_begin(st, false, SG__ADMIN_LOAD, (sg__any_cb)cb, data, &r, &m);
  return rc < 0 ? rc : admin_queue(st, r, true);
}

int sg__store_key_put(sg_store_t *st, const sg_store_key_t *k,
                      int64_t revoke_id, int64_t revoke_ms,
                      const sg_store_admin_idem_t *idem, sg_store_id_cb cb,
                      void *data) {
  if (k == NULL || k->account_id <= 0 || k->public_id[0] == '\0' ||
      memchr(k->public_id, '\0', sizeof k->public_id) == NULL ||
      revoke_id < 0 || revoke_ms < 0)
    return SG_EINVAL;
  sg__store_req_t *r;
  sg__admin_req_t *m;
  int rc =
      sg__admin_begin(st, true, SG__ADMIN_KEY_PUT, (sg__any_cb)cb, data, &r, &m);
  if (rc < 0)
    return rc;
  bool ok = true;
  m->key = *k;
  m->key.label = sg__arena_strdup(&r->arena, k->label, &ok);
  m->revoke_id = revoke_id;
  m->revoke_ms = revoke_ms;
  ok = attach_idem(r, m, idem) && ok;
  return admin_queue(st, r, ok);
}

int sg_store_key_put(sg_store_t *st, const sg_store_key_t *k, int64_t revoke_id,
                     int64_t revoke_ms, sg_store_id_cb cb, void *data) {
  return sg__store_key_put(st, k, revoke_id, revoke_ms, NULL, cb, data);
}

int sg_store_key_revoke(sg_store_t *st, int64_t key_id, int64_t revoked_ms,
                        sg_store_done_cb cb, void *data) {
  if (key_id <= 0 || revoked_ms <= 0)
    return SG_EINVAL;
  sg__store_req_t *r;
  sg__admin_req_t *m;
  int rc =
      sg__admin_begin(st, true, SG__ADMIN_KEY_REVOKE, (sg__any_cb)cb, data, &r, &m);
  if (rc < 0)
    return rc;
  m->revoke_id = key_id;
  m->revoke_ms = revoked_ms;
  return admin_queue(st, r, true);
}

void sg__admin_complete(sg_store_t *st, sg__store_req_t *r) {
  const sg__admin_req_t *m = r->in.admin;
  bool ok = r->status == 0;
  switch (m->op) {
  case SG__ADMIN_LOAD:
    ((sg_store_admin_load_cb)r->cb)(st, r->status, ok ? m->accts : NULL,
                                    ok ? m->n_accts : 0, ok ? m->keys : NULL,
                                    ok ? m->n_keys : 0, r->data);
    break;
  case SG__ADMIN_KEY_REVOKE:
    ((sg_store_done_cb)r->cb)(st, r->status, r->data);
    break;
  case SG__ADMIN_CREDIT:
    ((sg_store_balance_cb)r->cb)(st, r->status, ok ? m->idem->balance : 0,
                                 r->data);
    break;
  case SG__ADMIN_IDEM_GET:
    ((sg_store_admin_idem_cb)r->cb)(st, r->status, ok ? m->idem : NULL,
                                    r->data);
    break;
  default:
    ((sg_store_id_cb)r->cb)(st, r->status, ok ? m->id : 0, r->data);
    break;
  }
}
