/* admin_int.h - the SG__REQ_ADMIN_* requests of store_admin.c: accounts
 * created through the API and API keys (store.h "ACCOUNTS AND KEYS AT RUN
 * TIME"). Not for use outside src/store/.
 */
#ifndef SG_STORE_ADMIN_INT_H
#define SG_STORE_ADMIN_INT_H

#include "store/store_int.h"

typedef enum sg__admin_op {
  /* writes */
  SG__ADMIN_ACCOUNT_CREATE = 0,
  SG__ADMIN_ACCOUNT_UPDATE,
  SG__ADMIN_KEY_PUT,
  SG__ADMIN_KEY_REVOKE,
  /* reads */
  SG__ADMIN_LOAD
} sg__admin_op_t;

typedef struct sg__admin_req {
  sg__admin_op_t op;
  /* in (arena copies) */
  sg_store_admin_account_t account; /* ACCOUNT_* */
  sg_store_key_t key;               /* KEY_PUT; key.id for KEY_REVOKE */
  int64_t revoke_id;                /* KEY_PUT (0: none), KEY_REVOKE */
  int64_t revoke_ms;
  /* out */
  int64_t id;
  sg_store_admin_account_t *accts;
  size_t n_accts;
  sg_store_key_t *keys;
  size_t n_keys;
} sg__admin_req_t;

#endif
