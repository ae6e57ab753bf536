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
#define SG__PG_PIPE_MAX 256   /* answers left unread at most */

/* The writer's pipeline (pg_pipe.c): what was sent and not read yet. */
typedef struct sg__pg_pipe {
  bool on;      /* the connection is in pipeline mode (a group is running) */
  unsigned n;   /* results to read, in order of kind[] / owner[] */
  uint8_t kind[SG__PG_PIPE_MAX]; /* SG__PG_PIPE_STMT, _PREPARE or _SYNC */
  int16_t slot[SG__PG_PIPE_MAX]; /* a prepare's statement slot */
  const void *owner[SG__PG_PIPE_MAX]; /* the request of each statement */
  const void *cur;    /* the request statements are being sent for */
  const void *failed; /* the request of the first failed statement */
  bool failed_set;    /* a statement failed (failed may be NULL: BEGIN...) */
  int failed_rc;      /* its code: SG_EEXIST or SG_EIO */
  int cmd_at;         /* the entry of sg__pg_pipe_sync's cmd, -1: none */
  bool committed;     /* that cmd was a COMMIT, and it committed */
  uint64_t sent;      /* statements sent whose results were not needed */
  uint64_t trips;     /* waits for the server's answers, ever */
  uint64_t stmts;     /* statements sent, ever */
} sg__pg_pipe_t;

/* One connection and the statements prepared on it; used by one thread. */
typedef struct sg__pg_conn {
  PGconn *pc;
  sg_store_t *st;
  const char *stmt_sql[SG__PG_STMT_CACHE]; /* by address: static texts */
  unsigned n_stmts;
  uint64_t changes; /* rows written by this connection, ever */
  sg__jbuf_t json;  /* the writer's webhook payloads, reused */
  bool broken;      /* the connection failed: reset it before its next use */
  bool traffic_defer; /* the writer: traffic counted at the end of each
                         transaction (migration 0025), again on reconnect */
  struct {          /* the writer's held receipts (pg_orphan.c) */
    bool counted;
    int64_t held, delta; /* rows at the last commit; the open tx's change */
  } orph;
  char last_error[160];
  char last_state[6]; /* the SQLSTATE of the last failure ("" if none) */
  sg__pg_pipe_t pipe; /* the writer's pipeline mode (pg_pipe.c) */
} sg__pg_conn_t;

#define SG__PG_MAX_PARAMS 32

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
 * (may be NULL) is the number of rows it changed. With n NULL on a
 * connection in pipeline mode the statement is only sent (sg__pg_send). */
int sg__pg_do(sg__pg_conn_t *c, const char *sql, const sg__pg_params_t *p,
              uint64_t *n);
/* A plain command without parameters (BEGIN, COMMIT ...), not prepared. */
int sg__pg_cmd(sg__pg_conn_t *c, const char *sql);

/* Maps a result to 0, SG_EEXIST or SG_EIO (keeping the message in
 * c->last_error and marking a cut connection broken). */
int sg__pg_result_rc(sg__pg_conn_t *c, const PGresult *res);
/* Adds the rows a successful command wrote to c->changes. */
void sg__pg_count(sg__pg_conn_t *c, const PGresult *res);
/* The name of sql's prepared statement on c (in name), preparing it first
 * when new; NULL to run it unprepared. In pipeline mode the preparation is
 * sent, not waited for. */
const char *sg__pg_stmt(sg__pg_conn_t *c, const char *sql, char *name,
                        size_t len);

/* ---- pipeline mode (pg_pipe.c), the writer's connection only ----------
 * Inside a group the writer's statements are sent without waiting for
 * their answers; a statement whose result is needed (sg__pg_run) reads
 * every answer before its own. A failure is remembered with the request
 * that sent it (pipe.cur at the time): the writer then leaves that
 * request out and runs the group again. */
#define SG__PG_PIPE_STMT 0
#define SG__PG_PIPE_PREPARE 1
#define SG__PG_PIPE_SYNC 2

/* Enters pipeline mode and sends BEGIN. 0 or SG_EIO. */
int sg__pg_pipe_begin(sg__pg_conn_t *c);
/* Sends a statement whose result is not needed: 0, or SG_EIO when it
 * cannot be sent. Outside pipeline mode it runs at once (sg__pg_do). */
int sg__pg_send(sg__pg_conn_t *c, const char *sql, const sg__pg_params_t *p);
/* In pipeline mode: sends sql and returns its result after reading every
 * answer before it (sg__pg_run's contract). */
PGresult *sg__pg_pipe_run(sg__pg_conn_t *c, const char *sql,
                          const sg__pg_params_t *p, int *rc);
/* Sends cmd (COMMIT, ROLLBACK or NULL for none) and a sync, reads every
 * answer. Returns 0 when cmd succeeded and no statement failed; 1 when a
 * statement failed (pipe.failed says whose); SG_EIO when cmd itself failed
 * or the connection broke. The pipeline stays on. */
int sg__pg_pipe_sync(sg__pg_conn_t *c, const char *cmd);
/* Leaves pipeline mode (every answer read, or the connection is reset). */
void sg__pg_pipe_end(sg__pg_conn_t *c);
/* Forgets the last failure (after the writer dealt with it). */
void sg__pg_pipe_clear(sg__pg_conn_t *c);

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
