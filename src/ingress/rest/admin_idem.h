/* admin_idem.h - Idempotency-Key on the admin API's creations (POST
 * /v1/accounts, POST /v1/keys, POST /v1/accounts/{name}/credit), for the
 * REST handlers: a request with the header first reads the record of its
 * key (engine/admin_idem.h). The same key with the same request (method,
 * path and body) answers what the first request made, with
 * `Idempotent-Replayed: true`; with another request it is 409
 * `idempotency_conflict` (field `idempotency_key`), as /v1/messages does;
 * with no record the change runs and writes its record in its own
 * transaction. When that write finds a record after all (two requests
 * with one key at once), the record is read again and answers.
 * Not a public header: only the REST handlers include it.
 */
#ifndef SG_INGRESS_REST_ADMIN_IDEM_H
#define SG_INGRESS_REST_ADMIN_IDEM_H

#include <stdbool.h>

#include "ingress/rest/rest_int.h"
#include "store/store_admin_idem.h"

typedef struct sg__rest_idem sg__rest_idem_t;

/* Starts the change with the record to write (x->rec), or with NULL when
 * the request has no Idempotency-Key. Returns 0 when it will answer
 * from its callback (then sg__rest_idem_free), or answers itself and
 * returns non-zero (x is then freed by the caller of run). */
typedef int (*sg__rest_idem_run_fn)(sg__rest_idem_t *x,
                                    const sg_store_admin_idem_t *idem);

/* Answers the replay of `rec` (what the first request made). */
typedef void (*sg__rest_idem_replay_fn)(sg__rest_idem_t *x,
                                        const sg_store_admin_idem_t *rec);

struct sg__rest_idem {
  sg_rest_t *rest;
  sg_http_req_t *req;
  const sg_engine_account_t *caller;
  void *arg; /* the handler's (sg_malloc'd or NULL; freed with x) */
  sg__rest_idem_run_fn run;
  sg__rest_idem_replay_fn replay;
  bool has_key;
  bool rechecked;
  sg_store_admin_idem_t rec;
  /* a conflict's answer, kept while the record is read again */
  unsigned fail_http;
  char fail_code[48], fail_field[64], fail_msg[256];
};

/* Runs a creation for `caller`: answers 400 invalid_idempotency_key for a
 * bad header, replays or refuses as above, or calls run. x is taken by
 * this call and freed after the answer (sg__rest_idem_free), with `arg`
 * (the handler's data, from sg_malloc, or NULL). */
void sg__rest_idem_post(sg_rest_t *rest, sg_http_req_t *req,
                        const sg_engine_account_t *caller,
                        sg__rest_idem_run_fn run,
                        sg__rest_idem_replay_fn replay, void *arg);

/* From the change's answer: when it failed with SG_EEXIST and carried a
 * key, keeps the failure (http, code, field, message) and reads the
 * record again, returning true (the answer will come from there: a
 * replay, or this failure). Otherwise returns false: the caller answers,
 * then calls sg__rest_idem_free. */
bool sg__rest_idem_recheck(sg__rest_idem_t *x, int status, unsigned http,
                           const char *code, const char *field,
                           const char *msg);

/* Frees x and its arg; NULL is a no-op. */
void sg__rest_idem_free(sg__rest_idem_t *x);

/* Answers `status` with the JSON `obj` (reference taken) and
 * `Idempotent-Replayed: true`. */
void sg__rest_idem_json(sg_http_req_t *req, unsigned status, json_t *obj);

#endif
