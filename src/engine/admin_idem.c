/* admin_idem.c - reads the Idempotency-Key records of the admin API's
 * creations for the ingress (admin_idem.h). The writes travel with the
 * changes themselves (admin.c, limits.c).
 *
 * It must never decide whether a request is a replay: it only reads.
 */
#include "engine/admin_idem.h"

#include <string.h>

#include "core/alloc.h"
#include "core/error.h"
#include "engine/engine_int.h"

typedef struct get_ctx {
  sg_engine_t *e;
  sg_engine_idem_cb cb;
  void *ud;
} get_ctx_t;

static void got_cb(sg_store_t *st, int status, const sg_store_admin_idem_t *rec,
                   void *data) {
  (void)st;
  get_ctx_t *x = data;
  sg_engine_t *e = x->e;
  sg__op_end(e);
  x->cb(e, status, status == 0 ? rec : NULL, x->ud);
  sg_free(x);
  sg__maybe_stopped(e);
}

int sg_engine_admin_idem_get(sg_engine_t *e, const sg_engine_account_t *caller,
                             const char *key, sg_engine_idem_cb cb, void *ud) {
  size_t n = key != NULL ? strlen(key) : 0;
  if (e == NULL || caller == NULL || cb == NULL || n == 0 ||
      n > SG_STORE_ADMIN_IDEM_KEY_MAX)
    return SG_EINVAL;
  if (e->state != SG__RUNNING)
    return SG_ECLOSED;
  get_ctx_t *x = sg_malloc(sizeof *x);
  if (x == NULL)
    return SG_ENOMEM;
  *x = (get_ctx_t){e, cb, ud};
  int rc = sg_store_admin_idem_get(e->st, caller->id, key, got_cb, x);
  if (rc != 0) {
    sg_free(x);
    return rc;
  }
  sg__op_begin(e);
  return 0;
}
