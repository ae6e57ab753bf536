/* ops.c - the operators' actions on a running engine (engine/ops.h):
 * reconnect a connector, read the queues, purge a queue in bounded
 * transactions, queue a failed message again. Each keeps the engine's own
 * books in step with the store: the backlog estimate of a connector goes
 * down by what a purge failed and up by what a retry queued, the
 * connector is woken for a retried message, and the notifier for the
 * webhooks these changes queued.
 *
 * It must never change a part itself (the store's requests do, in their
 * transactions) nor touch a part the engine has claimed for a connector.
 */
#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "core/error.h"
#include "engine/engine_int.h"
#include "engine/ops.h"

#define PURGE_CHUNK 1000
#define QUEUES_EXTRA_MAX 64 /* stored connectors that are not configured */

static int conn_index(const sg_engine_t *e, const char *name, size_t *out) {
  for (size_t i = 0; name != NULL && i < e->n_conns; i++)
    if (strcmp(e->conns[i].cfg->name, name) == 0) {
      *out = i;
      return 0;
    }
  return SG_ENOENT;
}

/* ---- reconnect ----------------------------------------------------------- */

int sg_engine_connector_reconnect(sg_engine_t *e, const char *name) {
  size_t i = 0;
  if (e == NULL || name == NULL)
    return SG_EINVAL;
  if (e->state != SG__RUNNING)
    return SG_ECLOSED;
  if (conn_index(e, name, &i) != 0)
    return SG_ENOENT;
  if (e->conns[i].c == NULL)
    return SG_ESTATE;
  int rc = sg_connector_reconnect(e->conns[i].c);
  sg__log(e, rc == 0 ? SG_ENGINE_LOG_WARN : SG_ENGINE_LOG_INFO,
          "connector=%s reconnect asked by an operator: %s", name,
          rc == 0 ? "connections closed, connecting again" : sg_strerror(rc));
  return rc;
}

/* ---- queues -------------------------------------------------------------- */

typedef struct queues_ctx {
  sg_engine_t *e;
  sg_engine_queues_cb cb;
  void *ud;
  bool one; /* one connector asked for */
  size_t index;
} queues_ctx_t;

/* The queue of `name` in q[0..*n), added when new (at most cap). */
static sg_engine_queue_t *queue_of(sg_engine_queue_t *q, size_t *n, size_t cap,
                                   const char *name) {
  for (size_t i = 0; i < *n; i++)
    if (strcmp(q[i].name, name) == 0)
      return &q[i];
  if (*n == cap)
    return NULL;
  memset(&q[*n], 0, sizeof q[*n]);
  q[*n].name = name;
  return &q[(*n)++];
}

static void add_row(sg_engine_queue_t *q, const sg_store_queue_row_t *r) {
  switch (r->status) {
  case SG_MSG_SCHEDULED:
    q->scheduled += r->parts;
    break;
  case SG_MSG_QUEUED:
    q->queued += r->parts;
    q->oldest_queued_ms = r->oldest_ms;
    break;
  case SG_MSG_SENDING:
    q->sending += r->parts;
    break;
  default:
    q->sent += r->parts;
    break;
  }
  if (q->oldest_ms == 0 || (r->oldest_ms != 0 && r->oldest_ms < q->oldest_ms))
    q->oldest_ms = r->oldest_ms;
}

static void queues_cb(sg_store_t *st, int status,
                      const sg_store_queue_row_t *rows, size_t n, void *data) {
  (void)st;
  queues_ctx_t *x = data;
  sg_engine_t *e = x->e;
  size_t cap = (x->one ? 1 : e->n_conns) + QUEUES_EXTRA_MAX, nq = 0;
  sg_engine_queue_t *q =
      status == 0 ? sg_calloc(cap ? cap : 1, sizeof *q) : NULL;
  if (status == 0 && q == NULL)
    status = SG_ENOMEM;
  for (size_t i = 0; q != NULL && i < e->n_conns; i++) {
    if (x->one && i != x->index)
      continue;
    sg_engine_queue_t *one = queue_of(q, &nq, cap, e->conns[i].cfg->name);
    one->configured = true;
    one->claimed = e->conns[i].used;
  }
  for (size_t i = 0; q != NULL && i < n; i++) {
    sg_engine_queue_t *one = queue_of(q, &nq, cap, rows[i].connector);
    if (one != NULL)
      add_row(one, &rows[i]);
  }
  x->cb(e, status, q, status == 0 ? nq : 0, x->ud);
  sg_free(q);
  sg_free(x);
  sg__op_end(e);
  sg__maybe_stopped(e);
}

int sg_engine_queues(sg_engine_t *e, const char *name, sg_engine_queues_cb cb,
                     void *ud) {
  size_t index = 0;
  if (e == NULL || cb == NULL)
    return SG_EINVAL;
  if (e->state != SG__RUNNING)
    return SG_ECLOSED;
  if (name != NULL && conn_index(e, name, &index) != 0)
    return SG_ENOENT;
  queues_ctx_t *x = sg_calloc(1, sizeof *x);
  if (x == NULL)
    return SG_ENOMEM;
  *x = (queues_ctx_t){e, cb, ud, name != NULL, index};
  int rc = sg_store_queues(e->st, name, queues_cb, x);
  if (rc != 0) {
    sg_free(x);
    return rc;
  }
  sg__op_begin(e);
  return 0;
}

/* ---- outcomes ------------------------------------------------------------ */

typedef struct outcomes_ctx {
  sg_engine_t *e;
  sg_engine_outcomes_cb cb;
  void *ud;
} outcomes_ctx_t;

static void outcomes_cb(sg_store_t *st, int status,
                        const sg_store_outcome_row_t *rows, size_t n,
                        void *data) {
  (void)st;
  outcomes_ctx_t *x = data;
  sg_engine_t *e = x->e;
  x->cb(e, status, rows, n, x->ud);
  sg_free(x);
  sg__op_end(e);
  sg__maybe_stopped(e);
}

int sg_engine_outcomes(sg_engine_t *e, sg_engine_outcomes_cb cb, void *ud) {
  if (e == NULL || cb == NULL)
    return SG_EINVAL;
  if (e->state != SG__RUNNING)
    return SG_ECLOSED;
  outcomes_ctx_t *x = sg_calloc(1, sizeof *x);
  if (x == NULL)
    return SG_ENOMEM;
  *x = (outcomes_ctx_t){e, cb, ud};
  int rc = sg_store_outcomes(e->st, outcomes_cb, x);
  if (rc != 0) {
    sg_free(x);
    return rc;
  }
  sg__op_begin(e);
  return 0;
}

/* ---- purge --------------------------------------------------------------- */

typedef struct purge_ctx {
  sg_engine_t *e;
  size_t index;
  char reason[256];
  uint64_t parts, messages;
  sg_engine_purge_cb cb;
  void *ud;
} purge_ctx_t;

static int purge_next(purge_ctx_t *x);

static void purge_end(purge_ctx_t *x, int status) {
  sg_engine_t *e = x->e;
  sg__conn_t *c = &e->conns[x->index];
  sg__log(e, status == 0 ? SG_ENGINE_LOG_WARN : SG_ENGINE_LOG_ERROR,
          "connector=%s queue purged by an operator: %llu parts of %llu "
          "messages failed (%s)%s%s",
          c->cfg->name, (unsigned long long)x->parts,
          (unsigned long long)x->messages, x->reason,
          status == 0 ? "" : "; stopped by: ",
          status == 0 ? "" : sg_strerror(status));
  if (x->parts > 0)
    sg__notifier_poke(e);
  x->cb(e, status, x->parts, x->messages, x->ud);
  sg_free(x);
}

static void purge_cb(sg_store_t *st, int status,
                     const sg_store_purge_res_t *res, void *data) {
  (void)st;
  purge_ctx_t *x = data;
  sg_engine_t *e = x->e;
  sg__conn_t *c = &e->conns[x->index];
  if (status == 0) {
    x->parts += res->parts;
    x->messages += res->messages;
    c->backlog = c->backlog > res->parts ? c->backlog - res->parts : 0;
  }
  bool again = false;
  if (status == 0 && res->more) {
    status = e->state == SG__RUNNING ? purge_next(x) : SG_ECLOSED;
    again = status == 0;
  }
  if (!again)
    purge_end(x, status);
  sg__op_end(e);
  sg__maybe_stopped(e);
}

/* Sends the next chunk; 0 when it went. */
static int purge_next(purge_ctx_t *x) {
  int rc = sg_store_queue_purge(x->e->st, x->e->conns[x->index].cfg->name,
                                x->reason, PURGE_CHUNK, purge_cb, x);
  if (rc == 0)
    sg__op_begin(x->e);
  return rc;
}

int sg_engine_queue_purge(sg_engine_t *e, const char *name, const char *reason,
                          sg_engine_purge_cb cb, void *ud) {
  size_t index = 0;
  if (e == NULL || cb == NULL || reason == NULL || reason[0] == '\0' ||
      strlen(reason) > 200)
    return SG_EINVAL;
  if (e->state != SG__RUNNING)
    return SG_ECLOSED;
  if (conn_index(e, name, &index) != 0)
    return SG_ENOENT;
  purge_ctx_t *x = sg_calloc(1, sizeof *x);
  if (x == NULL)
    return SG_ENOMEM;
  x->e = e;
  x->index = index;
  x->cb = cb;
  x->ud = ud;
  snprintf(x->reason, sizeof x->reason, "%s", reason);
  int rc = purge_next(x);
  if (rc != 0)
    sg_free(x);
  return rc;
}

/* ---- retry --------------------------------------------------------------- */

typedef struct retry_ctx {
  sg_engine_t *e;
  sg_engine_retry_cb cb;
  void *ud;
  char id[SG_ID_LEN + 1];
} retry_ctx_t;

static void retry_cb(sg_store_t *st, int status,
                     const sg_store_retry_res_t *res, void *data) {
  (void)st;
  retry_ctx_t *x = data;
  sg_engine_t *e = x->e;
  size_t i = 0;
  if (status == 0) {
    sg__log(e, SG_ENGINE_LOG_INFO,
            "message=%s connector=%s: queued again by an operator (was %s), "
            "%u part(s)",
            x->id, res->connector, sg_store_status_name(res->before),
            res->parts);
    if (conn_index(e, res->connector, &i) == 0) {
      e->conns[i].backlog += res->parts;
      sg__poke(e, i);
    }
    sg__notifier_poke(e);
  }
  x->cb(e, status, res, x->ud);
  sg_free(x);
  sg__op_end(e);
  sg__maybe_stopped(e);
}

int sg_engine_message_retry(sg_engine_t *e, const char *id,
                            sg_engine_retry_cb cb, void *ud) {
  if (e == NULL || cb == NULL || id == NULL || strlen(id) != SG_ID_LEN)
    return SG_EINVAL;
  if (e->state != SG__RUNNING)
    return SG_ECLOSED;
  retry_ctx_t *x = sg_calloc(1, sizeof *x);
  if (x == NULL)
    return SG_ENOMEM;
  *x = (retry_ctx_t){.e = e, .cb = cb, .ud = ud};
  memcpy(x->id, id, SG_ID_LEN + 1);
  int rc = sg_store_message_retry(e->st, id, "queued again by an operator",
                                  retry_cb, x);
  if (rc != 0) {
    sg_free(x);
    return rc;
  }
  sg__op_begin(e);
  return 0;
}
