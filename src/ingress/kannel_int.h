/* kannel_int.h - what the files of the Kannel sendsms interface share: the
 * argon2id password check off the loop (kannel_auth.c). Not for use
 * outside src/ingress/kannel*.c.
 */
#ifndef SG_INGRESS_KANNEL_INT_H
#define SG_INGRESS_KANNEL_INT_H

#include <stdbool.h>
#include <stdint.h>

#include <uv.h>

#include "engine/engine.h"

#define SG__KANNEL_AUTH_HASH 32
#define SG__KANNEL_AUTH_CACHE 256 /* passwords remembered, oldest replaced */

typedef struct sg__kannel_auth {
  uv_loop_t *loop;
  uint8_t key[32]; /* of the keyed hashes; random per process */
  uint8_t cache[SG__KANNEL_AUTH_CACHE][SG__KANNEL_AUTH_HASH];
  size_t n_cache, next;
  unsigned inflight; /* checks on the thread pool */
  bool closing;
  void (*on_idle)(void *data);
  void *idle_data;
} sg__kannel_auth_t;

/* The result of a check that ran on the pool: acct on success, else NULL
 * with SG_ENOENT (wrong password), SG_EIO, or SG_ECLOSED (the interface is
 * being freed: only answer the request). Loop thread. */
typedef void (*sg__kannel_auth_cb)(const sg_engine_account_t *acct, int status,
                                   void *ud);

void sg__kannel_auth_init(sg__kannel_auth_t *a, uv_loop_t *loop);

/* Finds the account of name and password. Returns 0 with *out set (a plain
 * password, checked by the engine, or an argon2id one verified before), 1
 * when the argon2id check was queued (cb fires later with the result), or
 * an error at once, cb not called: SG_ENOENT (unknown name, no or wrong
 * plain password), SG_EBUSY (too many checks running), SG_ENOMEM, SG_EIO. */
int sg__kannel_auth(sg__kannel_auth_t *a, sg_engine_t *e, const char *name,
                    const char *pw, const sg_engine_account_t **out,
                    sg__kannel_auth_cb cb, void *ud);

/* Starts closing: later results come with SG_ECLOSED. Returns true when no
 * check is running; else on_idle(data) is called after the last one. */
bool sg__kannel_auth_close(sg__kannel_auth_t *a, void (*on_idle)(void *),
                           void *data);

#endif
