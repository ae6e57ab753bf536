/* query.c - reading and canceling messages for the ingresses: thin,
 * asynchronous passes to the store that keep the engine's bookkeeping
 * (pending store requests, so that a stop waits for them) and refuse work
 * once the engine stops.
 *
 * It must never write a message itself beyond the store's cancel, nor
 * interpret rows: what the store returns is handed on as it is.
 */
#include <string.h>

#include "core/alloc.h"
#include "core/error.h"
#include "engine/engine_int.h"

typedef struct query {
  sg_engine_t *e;
  union {
    sg_engine_message_cb get;
    sg_engine_list_cb list;
    sg_engine_inbound_cb inbound;
    sg_engine_done_cb done;
  } fn;
  void *ud;
} query_t;

static int query_begin(sg_engine_t *e, bool has_cb, void *ud, query_t **out) {
  if (e == NULL || !has_cb)
    return SG_EINVAL;
  if (e->state != SG__RUNNING)
    return SG_ECLOSED;
  query_t *q = sg_malloc(sizeof *q);
  if (q == NULL)
    return SG_ENOMEM;
  q->e = e;
  q->ud = ud;
  *out = q;
  return 0;
}

/* After the store call: on success count it, else free the query. */
static int query_sent(query_t *q, int rc) {
  if (rc != 0)
    sg_free(q);
  else
    sg__op_begin(q->e);
  return rc;
}

static void query_end(query_t *q) {
  sg_engine_t *e = q->e;
  sg_free(q);
  sg__op_end(e);
  sg__maybe_stopped(e);
}

static void get_cb(sg_store_t *st, int status, const sg_store_message_t *msg,
                   void *data) {
  query_t *q = data;
  q->fn.get(q->e, status, status == 0 ? msg : NULL, q->ud);
  query_end(q);
}

int sg_engine_get_message(sg_engine_t *e, const char *id, int64_t account_id,
                          sg_engine_message_cb cb, void *ud) {
  query_t *q;
  if (id == NULL)
    return SG_EINVAL;
  int rc = query_begin(e, cb != NULL, ud, &q);
  if (rc != 0)
    return rc;
  q->fn.get = cb;
  return query_sent(q, sg_store_get_message(e->st, id, account_id, get_cb, q));
}

static void list_cb(sg_store_t *st, int status, const sg_store_list_res_t *res,
                    void *data) {
  query_t *q = data;
  q->fn.list(q->e, status, status == 0 ? res : NULL, q->ud);
  query_end(q);
}

int sg_engine_list_messages(sg_engine_t *e, const sg_store_filter_t *f,
                            sg_engine_list_cb cb, void *ud) {
  query_t *q;
  if (f == NULL)
    return SG_EINVAL;
  int rc = query_begin(e, cb != NULL, ud, &q);
  if (rc != 0)
    return rc;
  q->fn.list = cb;
  return query_sent(q, sg_store_list_messages(e->st, f, list_cb, q));
}

static void inbound_list_cb(sg_store_t *st, int status,
                            const sg_store_inbound_res_t *res, void *data) {
  query_t *q = data;
  q->fn.inbound(q->e, status, status == 0 ? res : NULL, q->ud);
  query_end(q);
}

int sg_engine_list_inbound(sg_engine_t *e, int64_t account_id,
                           const char *cursor, unsigned limit,
                           sg_engine_inbound_cb cb, void *ud) {
  query_t *q;
  int rc = query_begin(e, cb != NULL, ud, &q);
  if (rc != 0)
    return rc;
  q->fn.inbound = cb;
  return query_sent(q, sg_store_inbound_list(e->st, account_id, cursor, limit,
                                             inbound_list_cb, q));
}

static void cancel_cb(sg_store_t *st, int status,
                      const sg_store_item_res_t *items, size_t n, void *data) {
  query_t *q = data;
  int rc = status;
  if (rc == 0)
    rc = n > 0 ? items[0].status : SG_ENOENT;
  if (rc == 0 && n > 0)
    sg__log(q->e, SG_ENGINE_LOG_INFO, "message=%s: canceled",
            items[0].message_id);
  if (rc == 0)
    sg__notifier_poke(q->e);
  q->fn.done(q->e, rc, q->ud);
  query_end(q);
}

int sg_engine_cancel(sg_engine_t *e, const char *id, int64_t account_id,
                     sg_engine_done_cb cb, void *ud) {
  query_t *q;
  if (id == NULL)
    return SG_EINVAL;
  int rc = query_begin(e, cb != NULL, ud, &q);
  if (rc != 0)
    return rc;
  q->fn.done = cb;
  return query_sent(q, sg_store_cancel(e->st, id, account_id, cancel_cb, q));
}
