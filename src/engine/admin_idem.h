/* admin_idem.h - the Idempotency-Key of the admin API's creations, on the
 * engine's side (store/store_admin_idem.h keeps the records): a record is
 * read before a change, and written by the store in the transaction of
 * the change it records, so that a retried request either finds the
 * change made (and is answered from the record) or makes it once.
 *
 * Whether a record answers a request (same request hash) or refuses it
 * (another request with the same key) is the ingress's decision; the
 * engine reads and writes on its behalf. All on the loop thread.
 */
#ifndef SG_ENGINE_ADMIN_IDEM_H
#define SG_ENGINE_ADMIN_IDEM_H

#include "engine/engine.h"
#include "engine/limits.h"
#include "store/store_admin_idem.h"

/* status 0 with the record (valid during the call), SG_ENOENT (no live
 * record), SG_EIO. */
typedef void (*sg_engine_idem_cb)(sg_engine_t *e, int status,
                                  const sg_store_admin_idem_t *rec, void *ud);

/* Reads the record of `caller`'s key. Returns 0 (cb fires later, on the
 * loop), SG_EINVAL (NULL, an empty key or one over 255 octets),
 * SG_ECLOSED (not running), SG_EBUSY, SG_ENOMEM. */
int sg_engine_admin_idem_get(sg_engine_t *e, const sg_engine_account_t *caller,
                             const char *key, sg_engine_idem_cb cb, void *ud);

/* sg_engine_account_create, sg_engine_key_create and sg_engine_credit with
 * the record `idem` (copied; its `result` is filled here with what the
 * change makes) written in the change's transaction. When a record of the
 * same key is there already, the change fails with SG_EEXIST and changes
 * nothing: the caller reads the record again. */
int sg_engine_account_create_idem(sg_engine_t *e, const char *spec, size_t len,
                                  const sg_store_admin_idem_t *idem,
                                  sg_engine_admin_cb cb, void *ud);
int sg_engine_key_create_idem(sg_engine_t *e, const char *account,
                              const char *name,
                              const sg_store_admin_idem_t *idem,
                              sg_engine_admin_cb cb, void *ud);
int sg_engine_credit_idem(sg_engine_t *e, const sg_engine_account_t *a,
                          int64_t amount_micro,
                          const sg_store_admin_idem_t *idem,
                          sg_engine_credit_cb cb, void *ud);

#endif
