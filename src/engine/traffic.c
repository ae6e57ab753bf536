/* traffic.c - the engine's side of store/traffic.h: hands a traffic query
 * of the ingress to the store.
 *
 * It holds no state: which account a caller may read is the ingress's
 * check, and the counts are the store's. It must never read messages to
 * count them.
 */
#include "engine/traffic.h"

#include "core/error.h"
#include "engine/engine_int.h"

int sg_engine_traffic(sg_engine_t *e, const sg_store_traffic_q_t *q,
                      sg_store_traffic_cb cb, void *data) {
  if (e == NULL || e->st == NULL)
    return SG_ESTATE;
  return sg_store_traffic(e->st, q, cb, data);
}
