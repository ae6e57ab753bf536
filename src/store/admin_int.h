/* admin_int.h - the SG__REQ_ADMIN_* requests of store_admin.c: accounts
 * created through the API and API keys (store.h "ACCOUNTS AND KEYS AT RUN
 * TIME"). Not for use outside src/store/.
 */
#ifndef SG_STORE_ADMIN_INT_H
#define SG_STORE_ADMIN_INT_H

#include "store/store_admin_idem.h"
#include "store/store_int.h"

typedef enum sg__admin_op {
  /* writes */
  SG__ADMIN_ACCOUNT_CREATE = 0,
  SG__ADMIN_ACCOUNT_UPDATE,
  SG__ADMIN_KEY_PUT,
  SG__ADMIN_KEY_REVOKE,
  SG__ADMIN_CREDIT, /* store_admin_idem.c: a credit with its record */
  /* reads */
  SG__ADMIN_LOAD,
  SG__ADMIN_IDEM_GET /* store_admin_idem.c */
} sg__admin_op_t;

typedef struct sg__admin_req {
  sg__admin_op_t op;
  /* in (arena copies) */
  sg_store_admin_account_t account; /* ACCOUNT_* */
  sg_store_key_t key;               /* KEY_PUT; key.id for KEY_REVOKE */
  int64_t revoke_id;                /* KEY_PUT (0: none), KEY_REVOKE */
  int64_t revoke_ms;
  /* store_admin_idem.c: the Idempotency-Key record written with the
   * change (NULL: none), or read by SG__ADMIN_IDEM_GET (there `idem` points
   * at `idem_rec`, whose account_id and key are the lookup's) */
  sg_store_admin_idem_t *idem;
  sg_store_admin_idem_t idem_rec;
  int64_t amount; /* SG__ADMIN_CREDIT */
  int64_t at_ms;  /* SG__ADMIN_IDEM_GET: records expired then are none */
  /* out */
  int64_t id;
  sg_store_admin_account_t *accts;
  size_t n_accts;
  sg_store_key_t *keys;
  size_t n_keys;
} sg__admin_req_t;

/* store_admin.c, for store_admin_idem.c: a new SG__REQ_ADMIN_* request
 * (write or read) of op, and the writes with an Idempotency-Key record
 * (idem NULL: none). */
int sg__admin_begin(sg_store_t *st, bool write, sg__admin_op_t op,
                    sg__any_cb cb, void *data, sg__store_req_t **out,
                    sg__admin_req_t **ar);
int sg__store_account_put(sg_store_t *st, const sg_store_admin_account_t *a,
                          bool create, const sg_store_admin_idem_t *idem,
                          sg_store_id_cb cb, void *data);
int sg__store_key_put(sg_store_t *st, const sg_store_key_t *k,
                      int64_t revoke_id, int64_t revoke_ms,
                      const sg_store_admin_idem_t *idem, sg_store_id_cb cb,
                      void *data);

#endif
