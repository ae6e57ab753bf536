/* store_ops.c - the public requests of store_ops.h (the connectors'
 * queues, their purge, a message queued again): each checks its arguments,
 * copies them into an SG__REQ_OPS_* request that owns its memory and
 * queues it on the backend; and the callbacks of those requests when they
 * come back.
 *
 * Like store_inrules.c, it must never touch the database or call a
 * callback from inside a request function.
 */
#include "store/ops_int.h"

#include <string.h>

#include "core/error.h"
#include "core/id.h"

#define REASON_MAX 200
#define PURGE_MAX 10000

static int ops_begin(sg_store_t *st, bool write, sg__ops_op_t op, sg__any_cb cb,
                     void *data, sg__store_req_t **out, sg__ops_req_t **m) {
  void *ext = NULL;
  *m = NULL;
  int rc = sg__store_req_begin(st, write ? SG__REQ_OPS_WRITE : SG__REQ_OPS_READ,
                               cb, data, sizeof(**m), out, &ext);
  if (rc < 0)
    return rc;
  (*out)->in.ops = ext;
  *m = ext;
  (*m)->op = op;
  return 0;
}

static bool valid_connector(const char *s) {
  return s != NULL && s[0] != '\0' && strlen(s) <= SG_STORE_NAME_MAX;
}

static bool valid_reason(const char *s) {
  return s != NULL && s[0] != '\0' && strlen(s) <= REASON_MAX;
}

int sg_store_queues(sg_store_t *st, const char *connector,
                    sg_store_queues_cb cb, void *data) {
  if (connector != NULL && !valid_connector(connector))
    return SG_EINVAL;
  sg__store_req_t *r;
  sg__ops_req_t *m;
  int rc = ops_begin(st, false, SG__OPS_QUEUES, (sg__any_cb)cb, data, &r, &m);
  if (rc < 0)
    return rc;
  bool ok = true;
  m->connector = sg__arena_strdup(&r->arena, connector, &ok);
  return sg__store_req_queue(st, r, ok);
}

int sg_store_outcomes(sg_store_t *st, sg_store_outcomes_cb cb, void *data) {
  sg__store_req_t *r;
  sg__ops_req_t *m;
  int rc = ops_begin(st, false, SG__OPS_OUTCOMES, (sg__any_cb)cb, data, &r, &m);
  return rc < 0 ? rc : sg__store_req_queue(st, r, true);
}

int sg_store_queue_purge(sg_store_t *st, const char *connector,
                         const char *reason, unsigned max, sg_store_purge_cb cb,
                         void *data) {
  if (!valid_connector(connector) || !valid_reason(reason) || max == 0 ||
      max > PURGE_MAX)
    return SG_EINVAL;
  sg__store_req_t *r;
  sg__ops_req_t *m;
  int rc = ops_begin(st, true, SG__OPS_PURGE, (sg__any_cb)cb, data, &r, &m);
  if (rc < 0)
    return rc;
  bool ok = true;
  m->connector = sg__arena_strdup(&r->arena, connector, &ok);
  m->reason = sg__arena_strdup(&r->arena, reason, &ok);
  m->max = max;
  return sg__store_req_queue(st, r, ok);
}

int sg_store_message_retry(sg_store_t *st, const char *message_id,
                           const char *reason, sg_store_retry_cb cb,
                           void *data) {
  uint8_t b[SG_ID_BYTES];
  if (message_id == NULL || strlen(message_id) != SG_ID_LEN ||
      sg_id_parse(message_id, SG_ID_LEN, b) != 0 || !valid_reason(reason))
    return SG_EINVAL;
  sg__store_req_t *r;
  sg__ops_req_t *m;
  int rc = ops_begin(st, true, SG__OPS_RETRY, (sg__any_cb)cb, data, &r, &m);
  if (rc < 0)
    return rc;
  memcpy(m->id, message_id, SG_ID_LEN + 1);
  sg_id_canonical(m->id, SG_ID_LEN);
  bool ok = true;
  m->reason = sg__arena_strdup(&r->arena, reason, &ok);
  return sg__store_req_queue(st, r, ok);
}

void sg__ops_complete(sg_store_t *st, sg__store_req_t *r) {
  sg__ops_req_t *m = r->in.ops;
  bool ok = r->status == 0;
  switch (m->op) {
  case SG__OPS_QUEUES:
    ((sg_store_queues_cb)r->cb)(st, r->status, ok ? m->rows : NULL,
                                ok ? m->n_rows : 0, r->data);
    break;
  case SG__OPS_OUTCOMES:
    ((sg_store_outcomes_cb)r->cb)(st, r->status, ok ? m->outcomes : NULL,
                                  ok ? m->n_outcomes : 0, r->data);
    break;
  case SG__OPS_PURGE:
    ((sg_store_purge_cb)r->cb)(st, r->status, ok ? &m->purge : NULL, r->data);
    break;
  case SG__OPS_RETRY:
    /* SG_ESTATE still tells what the message is. */
    if (ok && m->outcome != 0)
      r->status = m->outcome;
    ((sg_store_retry_cb)r->cb)(
        st, r->status,
        r->status == 0 || r->status == SG_ESTATE ? &m->retry : NULL, r->data);
    break;
  }
}
