/* websession.h - where the web page's sessions are kept across restarts:
 * one store setting document ("web_sessions", store.h "settings") that the
 * web ingress writes whole after each login and logout and reads at start.
 *
 * The engine only carries the document to and from the store; it never
 * looks inside (the ingress owns its format: ingress/web/session.h).
 */
#ifndef SG_ENGINE_WEBSESSION_H
#define SG_ENGINE_WEBSESSION_H

#include <stddef.h>

#include "engine/engine.h"

#define SG_ENGINE_WEB_SESSIONS "web_sessions"

/* Reads the saved document: cb fires on the loop with status 0 and the
 * text, SG_ENOENT (none saved yet) or SG_EIO, as sg_store_setting_get.
 * Returns 0, or the store's immediate error (cb not called). */
int sg_engine_web_sessions_load(sg_engine_t *e, sg_store_setting_cb cb,
                                void *data);

/* Saves doc[0..len) in place of the last one; cb fires after the commit
 * (0 or SG_EIO). Returns 0, or the store's immediate error (cb not
 * called). */
int sg_engine_web_sessions_save(sg_engine_t *e, const char *doc, size_t len,
                                sg_store_done_cb cb, void *data);

/* The loop the engine runs on (the web login checks argon2id passwords on
 * its thread pool). NULL for a NULL engine. */
uv_loop_t *sg_engine_web_loop(sg_engine_t *e);

#endif
