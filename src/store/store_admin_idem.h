/* store_admin_idem.h - the Idempotency-Key of the admin API's creations
 * (migration 0017, table admin_idempotency): a record of what a request
 * made, written in the same transaction as the change itself, so that a
 * retry finds either nothing done or the change with its record, never
 * one without the other.
 *
 * The record names what was made (`result`: "account:NAME", "key:k_...",
 * "credit:NAME") rather than keeping the answer's octets: a key's secret
 * must never be stored, and the answer of an account is read from the
 * engine. A credit keeps its amount and the balance after it, so that a
 * retry answers exactly as the first time. Records expire after
 * SG_STORE_ADMIN_IDEM_TTL_MS; the write of a new one deletes expired ones.
 */
#ifndef SG_STORE_ADMIN_IDEM_H
#define SG_STORE_ADMIN_IDEM_H

#include <stdint.h>

#include "store/store.h"

#define SG_STORE_ADMIN_IDEM_TTL_MS (24LL * 3600 * 1000)
#define SG_STORE_ADMIN_IDEM_HASH 32
#define SG_STORE_ADMIN_IDEM_KEY_MAX 255
#define SG_STORE_ADMIN_IDEM_RESULT_MAX 160

typedef struct sg_store_admin_idem {
  int64_t account_id; /* the caller's account (the admin's) */
  char key[SG_STORE_ADMIN_IDEM_KEY_MAX + 1];
  uint8_t hash[SG_STORE_ADMIN_IDEM_HASH];      /* of the request */
  char result[SG_STORE_ADMIN_IDEM_RESULT_MAX]; /* what was made */
  int64_t amount;  /* a credit's amount (micro-units), else 0 */
  int64_t balance; /* a credit's balance after it (set by the store) */
  int64_t created_ms;
} sg_store_admin_idem_t;

/* status 0 with the record, SG_ENOENT (none, or expired), or SG_EIO. On
 * the loop thread; rec lives until the callback returns. */
typedef void (*sg_store_admin_idem_cb)(sg_store_t *st, int status,
                                       const sg_store_admin_idem_t *rec,
                                       void *data);

/* Reads the record of (account_id, key). Fails at once with SG_EINVAL (an
 * empty or too long key, account_id <= 0), SG_EBUSY, SG_ECLOSED,
 * SG_ENOMEM; then cb fires once. */
int sg_store_admin_idem_get(sg_store_t *st, int64_t account_id, const char *key,
                            sg_store_admin_idem_cb cb, void *data);

/* sg_store_account_put (create only) and sg_store_key_put with the
 * record `idem` (copied) written in the same transaction. A record of the
 * same (account_id, key) already there fails the whole change with
 * SG_EEXIST (nothing written): another request with that key won. */
int sg_store_account_create_idem(sg_store_t *st,
                                 const sg_store_admin_account_t *a,
                                 const sg_store_admin_idem_t *idem,
                                 sg_store_id_cb cb, void *data);
int sg_store_key_put_idem(sg_store_t *st, const sg_store_key_t *k,
                          const sg_store_admin_idem_t *idem, sg_store_id_cb cb,
                          void *data);

/* sg_store_balance_credit with its record (idem->balance is set to the
 * balance after the credit); SG_EEXIST as above. */
int sg_store_balance_credit_idem(sg_store_t *st, int64_t account_id,
                                 int64_t amount_micro,
                                 const sg_store_admin_idem_t *idem,
                                 sg_store_balance_cb cb, void *data);

#endif
