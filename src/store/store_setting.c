/* store_setting.c - the public requests of store.h "settings": each checks
 * its arguments, copies them into a request that owns its memory, and
 * queues it on the backend.
 *
 * Like store_req.c, it must never touch the database or call a callback
 * from inside a request function; and it never looks inside a document.
 */
#include <string.h>

#include "core/error.h"
#include "store/store_int.h"

static bool name_ok(const char *name) {
  return name != NULL && name[0] != '\0' &&
         strlen(name) < SG_STORE_SETTING_NAME_MAX;
}

static int setting_req(sg_store_t *st, sg__req_kind_t kind, const char *name,
                       const char *body, size_t len, sg__any_cb cb,
                       void *data) {
  if (st == NULL || cb == NULL || !name_ok(name) || (body == NULL && len > 0) ||
      len > SG_STORE_SETTING_MAX)
    return SG_EINVAL;
  if (st->closing)
    return SG_ECLOSED;
  sg__arena_t arena = {NULL};
  sg__store_req_t *r = sg__arena_alloc(&arena, sizeof *r);
  if (r == NULL)
    return SG_ENOMEM;
  bool ok = true;
  r->arena = arena;
  r->kind = kind;
  r->cb = cb;
  r->data = data;
  r->in.setting.name = sg__arena_strdup(&r->arena, name, &ok);
  r->in.setting.body =
      body != NULL ? sg__arena_strndup(&r->arena, body, len, &ok) : NULL;
  r->in.setting.len = len;
  int rc = !ok ? SG_ENOMEM : st->be->queue(st, r);
  if (rc < 0)
    sg__store_req_free(r);
  return rc;
}

int sg_store_setting_get(sg_store_t *st, const char *name,
                         sg_store_setting_cb cb, void *data) {
  return setting_req(st, SG__REQ_SETTING_GET, name, NULL, 0, (sg__any_cb)cb,
                     data);
}

int sg_store_setting_put(sg_store_t *st, const char *name, const char *body,
                         size_t len, sg_store_done_cb cb, void *data) {
  return setting_req(st, SG__REQ_SETTING_PUT, name, body, len, (sg__any_cb)cb,
                     data);
}
