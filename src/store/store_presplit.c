/* store_presplit.c - the request of store.h "customers' pre-split parts":
 * checks a part and its group, copies them into a request that owns its
 * memory, and queues it on the backend (sqlite_presplit.c runs it).
 *
 * Every check that can be made without the database is made here, so a
 * bad part fails at once and its callback is never called. It must never
 * touch the database or call a callback.
 */
#include <string.h>

#include "core/error.h"
#include "store/store_int.h"

static bool valid_ps(const sg_store_batch_t *b, const sg_store_presplit_t *ps) {
  if (ps == NULL || b == NULL || b->n_msgs != 1 || b->idem_key != NULL ||
      ps->total < 2 || ps->seq < 1 || ps->seq > ps->total || ps->wait_ms <= 0)
    return false;
  if (b->msgs == NULL || b->msgs[0].n_parts != 1)
    return false;
  size_t n = strnlen(ps->message_id, SG_ID_LEN + 1);
  uint8_t raw[SG_ID_BYTES];
  return n == 0 || (n == SG_ID_LEN && sg_id_parse(ps->message_id, n, raw) == 0);
}

int sg_store_presplit_add(sg_store_t *st, const sg_store_batch_t *batch,
                          const sg_store_presplit_t *ps,
                          sg_store_presplit_cb cb, void *data) {
  if (!valid_ps(batch, ps) || !sg__store_batch_valid(batch))
    return SG_EINVAL;
  sg__store_req_t *r;
  int rc = sg__store_req_begin(st, SG__REQ_PRESPLIT, (sg__any_cb)cb, data, 0,
                               &r, NULL);
  if (rc < 0)
    return rc;
  bool ok = sg__store_batch_copy(&r->arena, &r->in.presplit.batch, batch);
  r->in.presplit.ps = *ps;
  if (ps->message_id[0] != '\0')
    sg_id_canonical(r->in.presplit.ps.message_id, SG_ID_LEN);
  return sg__store_req_queue(st, r, ok);
}
