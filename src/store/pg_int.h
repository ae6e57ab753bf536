/* pg_int.h - what the files of the PostgreSQL store share: a connection
 * with its prepared statements, statement parameters, column readers, and
 * the entry points of the write and read code. Not for use outside
 * src/store/.
 */
#ifndef SG_STORE_PG_INT_H
#define SG_STORE_PG_INT_H

#include <libpq-fe.h>
#include <stdbool.h>
#include <stdint.h>

#include "store/store_int.h"

/* The columns of a message, in the order sg__pg_read_message reads them. */
#define SG__PG_MSG_COLS                                                        \
  "id, batch_id, account_id, sender, recipient, encoding, is_binary, body, "   \
  "validity_ms, send_at_ms, callback_url, client_ref, priority, dlr_wanted, "  \
  "status, error_code, parts_total, created_ms, updated_ms"

#define SG__PG_STMT_CACHE 128 /* statements prepared per connection */

/* One connection and the statements prepared on it; used by one thread. */
typedef struct sg__pg_conn {
  PGconn *pc;
  sg_store_t *st;
  const char *stmt_sql[SG__PG_STMT_CACHE]; /* by address: static texts */
  unsigned n_stmts;
  uint64_t changes; /* rows written by this connection, ever */
  sg__jbuf_t json;  /* the writer's webhook payloads, reused */
  bool broken;      /* the connection failed: reset it before its next use */
  struct {          /* the writer's held receipts (pg_orphan.c) */
    bool counted;
    int64_t held, delta; /* rows at the last commit; the open tx's change */
  } orph;
  char last_error[160];
} sg__pg_conn_t;

#define SG__PG_MAX_PARAMS 24

/* The parameters of one statement: text, except blobs (binary). */
typedef struct sg__pg_params {
  int n;
  const char *v[SG__PG_MAX_PARAMS];
  int len[SG__PG_MAX_PARAMS];
  int fmt[SG__PG_MAX_PARAMS];
  char num[SG__PG_MAX_PARAMS][24];
} sg__pg_params_t;

/* Adds parameter $(n+1). NULL text and blob are SQL NULL; opt_i64 binds
 * NULL for 0. */
void sg__pg_p_text(sg__pg_params_t *p, const char *s);
void sg__pg_p_i64(sg__pg_params_t *p, int64_t v);
void sg__pg_p_opt_i64(sg__pg_params_t *p, int64_t v);
void sg__pg_p_blob(sg__pg_params_t *p, const void *b, size_t len);
void sg__pg_p_null(sg__pg_params_t *p);

/* Runs sql (a static text: it is prepared once per connection, by its
 * address) with p (may be NULL). Returns the result (to PQclear) and sets
 * *rc: 0; SG_EEXIST for a unique or foreign-key violation; SG_EIO for
 * anything else (the transaction is then aborted). *rc 0 with a NULL
 * result never happens. Adds the rows a command changed to c->changes. */
PGresult *sg__pg_run(sg__pg_conn_t *c, const char *sql,
                     const sg__pg_params_t *p, int *rc);
/* The same for a statement whose rows do not matter: 0 or the error. *n
 * (may be NULL) is the number of rows it changed. */
int sg__pg_do(sg__pg_conn_t *c, const char *sql, const sg__pg_params_t *p,
              uint64_t *n);
/* A plain command without parameters (BEGIN, COMMIT ...), not prepared. */
int sg__pg_cmd(sg__pg_conn_t *c, const char *sql);

/* Column readers; NULL columns read 0 / NULL / SG_MSG_NONE. Copies go into
 * the arena and clear *ok when it runs out. */
int64_t sg__pg_i64(const PGresult *r, int row, int col);
bool sg__pg_null(const PGresult *r, int row, int col);
const char *sg__pg_text(sg__arena_t *a, const PGresult *r, int row, int col,
                        bool *ok);
const uint8_t *sg__pg_blob(sg__arena_t *a, const PGresult *r, int row, int col,
                           size_t *len, bool *ok);
sg_msg_status_t sg__pg_status(const PGresult *r, int row, int col);

/* Reads the SG__PG_MSG_COLS of row `row` into m. */
void sg__pg_read_message(sg__arena_t *a, const PGresult *r, int row,
                         sg_store_message_t *m, bool *ok);

/* Whether the PostgreSQL backend runs requests of this kind. */
bool sg__pg_kind_done(sg__req_kind_t kind);

/* Runs one write request inside the group's transaction (postgres_write.c).
 * Returns 0 or a request error (SG_EEXIST, SG_ENOENT, SG_ESTATE, SG_ENOSPC,
 * SG_ENOMEM), after which the writer undoes its rows; or SG_EIO: the whole
 * transaction fails. It must not depend on what it finds in r->out. */
int sg__pg_run_write(sg__pg_conn_t *c, sg__store_req_t *req, int64_t now);

/* Runs one read request on a reader connection (postgres_read.c). */
int sg__pg_run_read(sg__pg_conn_t *c, sg__store_req_t *req);

/* Recovery at open (postgres_write.c): the parts and webhooks this node
 * left 'sending' back in the queue. */
int sg__pg_recover(sg__pg_conn_t *c, int64_t now, uint64_t *parts,
                   uint64_t *webhooks);

#endif
