/* velocity_int.h - what submit.c and engine.c use of velocity.c: loading
 * the saved blocks at start, and the check of one recipient. Nothing
 * outside src/engine includes it.
 */
#ifndef SG_ENGINE_VELOCITY_INT_H
#define SG_ENGINE_VELOCITY_INT_H

#include <stdint.h>

#include "engine/engine.h"

/* The name of the store setting that keeps the blocks (store.h
 * "settings"). */
#define SG__VELOCITY_SETTING "velocity_blocks"

/* Reads the saved blocks from the store, then calls loaded(e, status)
 * (never inside this call). Returns 0 or an error (loaded is not called
 * then). A saved document that does not parse is logged and ignored. */
int sg__velocity_load(sg_engine_t *e, void (*loaded)(sg_engine_t *e, int st));
void sg__velocity_free(sg_engine_t *e);

/* Checks one recipient (E.164, "+" and digits) of account index acct at
 * time now, and counts it when it passes. Returns 0 (counted), SG_EBUSY
 * (velocity_limited; *retry_after_s is when its minute ends) or SG_EPERM
 * (velocity_blocked). An account without velocity always passes. */
int sg__velocity_check(sg_engine_t *e, const sg_engine_account_t *a,
                       const char *e164, int64_t now, unsigned *retry_after_s);

#endif
