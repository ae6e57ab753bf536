/* sqlite_admin_idem.h - what sqlite_admin.c calls of sqlite_admin_idem.c
 * (the Idempotency-Key records of the admin API). Not for use outside
 * src/store/.
 */
#ifndef SG_STORE_SQLITE_ADMIN_IDEM_H
#define SG_STORE_SQLITE_ADMIN_IDEM_H

#include "store/admin_int.h"
#include "store/limits_int.h"
#include "store/sqlite_int.h"

/* SG__ADMIN_CREDIT on the writer: the credit of m->key.account_id by
 * m->amount (as sg__sq_limits_write), its balance after it put into
 * m->idem->balance. 0, SG_ERANGE or SG_EIO. */
int sg__sq_admin_credit(sg__sq_conn_t *c, sg__admin_req_t *m, int64_t now);

/* Inserts m->idem (after deleting expired records): 0, SG_EEXIST (a record
 * of that key exists) or SG_EIO. On the writer, inside the request. */
int sg__sq_admin_idem_put(sg__sq_conn_t *c, sg__admin_req_t *m, int64_t now);

/* Reads the record of m->idem's (account_id, key) into m->idem: 0,
 * SG_ENOENT (none, or expired at `now`) or SG_EIO. */
int sg__sq_admin_idem_get(sg__sq_conn_t *c, sg__admin_req_t *m, int64_t now);

#endif
