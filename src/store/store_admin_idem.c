/* store_admin_idem.c - the public requests of store_admin_idem.h: the
 * Idempotency-Key records of the admin API's creations, read on their own
 * and written with the change they record (an SG__REQ_ADMIN_* request
 * with its `idem` set, so that both land in one transaction).
 *
 * It must never touch the database and never call a callback from inside
 * a request function.
 */
#include "store/store_admin_idem.h"

#include <string.h>

#include "core/error.h"
#include "store/admin_int.h"

static bool idem_ok(const sg_store_admin_idem_t *idem) {
  return idem != NULL && idem->account_id > 0 && idem->key[0] != '\0' &&
         memchr(idem->key, '\0', sizeof idem->key) != NULL &&
         idem->result[0] != '\0' &&
         memchr(idem->result, '\0', sizeof idem->result) != NULL;
}

int sg_store_admin_idem_get(sg_store_t *st, int64_t account_id, const char *key,
                            sg_store_admin_idem_cb cb, void *data) {
  size_t n = key != NULL ? strlen(key) : 0;
  if (account_id <= 0 || n == 0 || n > SG_STORE_ADMIN_IDEM_KEY_MAX)
    return SG_EINVAL;
  sg__store_req_t *r;
  sg__admin_req_t *m;
  int rc = sg__admin_begin(st, false, SG__ADMIN_IDEM_GET, (sg__any_cb)cb, data,
                           &r, &m);
  if (rc < 0)
    return rc;
  m->idem = &m->idem_rec;
  m->idem_rec.account_id = account_id;
  m->at_ms = sg__store_now(st);
  memcpy(m->idem_rec.key, key, n + 1);
  return sg__store_req_queue(st, r, true);
}

int sg_store_account_create_idem(sg_store_t *st,
                                 const sg_store_admin_account_t *a,
                                 const sg_store_admin_idem_t *idem,
                                 sg_store_id_cb cb, void *data) {
  if (!idem_ok(idem))
    return SG_EINVAL;
  return sg__store_account_put(st, a, true, idem, cb, data);
}

int sg_store_key_put_idem(sg_store_t *st, const sg_store_key_t *k,
                          const sg_store_admin_idem_t *idem, sg_store_id_cb cb,
                          void *data) {
  if (!idem_ok(idem))
    return SG_EINVAL;
  return sg__store_key_put(st, k, 0, 0, idem, cb, data);
}

int sg_store_balance_credit_idem(sg_store_t *st, int64_t account_id,
                                 int64_t amount_micro,
                                 const sg_store_admin_idem_t *idem,
                                 sg_store_balance_cb cb, void *data) {
  if (!idem_ok(idem) || account_id <= 0 || amount_micro == 0 ||
      amount_micro > SG_STORE_BALANCE_MAX ||
      amount_micro < -SG_STORE_BALANCE_MAX)
    return SG_EINVAL;
  sg__store_req_t *r;
  sg__admin_req_t *m;
  int rc =
      sg__admin_begin(st, true, SG__ADMIN_CREDIT, (sg__any_cb)cb, data, &r, &m);
  if (rc < 0)
    return rc;
  m->idem = &m->idem_rec;
  m->idem_rec = *idem;
  m->idem_rec.amount = amount_micro;
  m->key.account_id = account_id;
  m->amount = amount_micro;
  return sg__store_req_queue(st, r, true);
}
