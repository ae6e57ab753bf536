/* websession.c - the store document of the web page's sessions
 * (websession.h): a pass-through to the store's settings.
 *
 * It must never parse the document or keep it: the web ingress owns it.
 */
#include "core/error.h"
#include "engine/engine_int.h"
#include "engine/websession.h"

int sg_engine_web_sessions_load(sg_engine_t *e, sg_store_setting_cb cb,
                                void *data) {
  if (e == NULL || e->st == NULL)
    return SG_EINVAL;
  return sg_store_setting_get(e->st, SG_ENGINE_WEB_SESSIONS, cb, data);
}

int sg_engine_web_sessions_save(sg_engine_t *e, const char *doc, size_t len,
                                sg_store_done_cb cb, void *data) {
  if (e == NULL || e->st == NULL)
    return SG_EINVAL;
  return sg_store_setting_put(e->st, SG_ENGINE_WEB_SESSIONS, doc, len, cb,
                              data);
}

uv_loop_t *sg_engine_web_loop(sg_engine_t *e) {
  return e != NULL ? e->loop : NULL;
}
