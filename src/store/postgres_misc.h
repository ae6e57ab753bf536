/* postgres_misc.h - the PostgreSQL store's requests beside the message path
 * (postgres_misc.c). Not for use outside src/store/.
 */
#ifndef SG_STORE_POSTGRES_MISC_H
#define SG_STORE_POSTGRES_MISC_H

#include "store/pg_int.h"

/* Whether postgres_misc.c runs requests of this kind. */
bool sg__pg_misc_done(sg__req_kind_t kind);
/* Runs one of its write requests (writer, inside the group's transaction)
 * or read requests (a reader, inside its read transaction); the answers of
 * sg__pg_run_write and sg__pg_run_read. */
int sg__pg_misc_write(sg__pg_conn_t *c, sg__store_req_t *r, int64_t now);
int sg__pg_misc_read(sg__pg_conn_t *c, sg__store_req_t *r);

#endif
