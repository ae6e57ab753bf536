/* store_inrules.c - the public requests of store.h "inbound rules and
 * reply counts": each checks its arguments, copies them into an
 * SG__REQ_INR_* request that owns its memory, and queues it on the
 * backend; and the callbacks of those requests when they come back.
 *
 * Like store_mo.c, it must never touch the database or call a callback
 * from inside a request function.
 */
#include "store/inrules_int.h"

#include <string.h>

#include "core/error.h"

#define DOC_MAX 65536
#define PAIR_MAX 128

static int inr_begin(sg_store_t *st, bool write, sg__inr_op_t op, sg__any_cb cb,
                     void *data, sg__store_req_t **out, sg__inr_req_t **inr) {
  void *m = NULL;
  *inr = NULL;
  int rc = sg__store_req_begin(st, write ? SG__REQ_INR_WRITE : SG__REQ_INR_READ,
                               cb, data, sizeof(**inr), out, &m);
  if (rc < 0)
    return rc;
  (*out)->in.inr = m;
  *inr = m;
  (*inr)->op = op;
  return 0;
}

static int inr_queue(sg_store_t *st, sg__store_req_t *r, bool ok) {
  return sg__store_req_queue(st, r, ok);
}

int sg_store_inrules_load(sg_store_t *st, sg_store_inrules_cb cb, void *data) {
  sg__store_req_t *r;
  sg__inr_req_t *m;
  int rc = inr_begin(st, false, SG__INR_LOAD, (sg__any_cb)cb, data, &r, &m);
  return rc < 0 ? rc : inr_queue(st, r, true);
}

static bool rules_valid(const sg_store_inrule_t *rules, size_t n) {
  if (n > SG_STORE_INRULES_MAX || (rules == NULL && n > 0))
    return false;
  for (size_t i = 0; i < n; i++) {
    if (rules[i].doc == NULL || strlen(rules[i].doc) > DOC_MAX ||
        rules[i].id < 0)
      return false;
    for (size_t j = 0; rules[i].id > 0 && j < i; j++)
      if (rules[j].id == rules[i].id)
        return false;
  }
  return true;
}

int sg_store_inrules_save(sg_store_t *st, const sg_store_inrule_t *rules,
                          size_t n, bool managed, sg_store_inrules_cb cb,
                          void *data) {
  if (!rules_valid(rules, n))
    return SG_EINVAL;
  sg__store_req_t *r;
  sg__inr_req_t *m;
  int rc = inr_begin(st, true, SG__INR_SAVE, (sg__any_cb)cb, data, &r, &m);
  if (rc < 0)
    return rc;
  bool ok = true;
  m->rules = sg__arena_alloc(&r->arena, (n ? n : 1) * sizeof *m->rules);
  ok = m->rules != NULL;
  for (size_t i = 0; ok && i < n; i++) {
    m->rules[i].id = rules[i].id;
    m->rules[i].doc = sg__arena_strdup(&r->arena, rules[i].doc, &ok);
  }
  m->n = n;
  m->managed = managed;
  return inr_queue(st, r, ok);
}

int sg_store_replycount_set(sg_store_t *st, const sg_store_replycount_t *row,
                            int64_t expire_before_ms, sg_store_done_cb cb,
                            void *data) {
  if (row == NULL || row->pair == NULL || row->pair[0] == '\0' ||
      strlen(row->pair) >= PAIR_MAX || expire_before_ms < 0)
    return SG_EINVAL;
  sg__store_req_t *r;
  sg__inr_req_t *m;
  int rc = inr_begin(st, true, SG__INR_REPLY_SET, (sg__any_cb)cb, data, &r, &m);
  if (rc < 0)
    return rc;
  bool ok = true;
  m->reply = *row;
  m->reply.pair = sg__arena_strdup(&r->arena, row->pair, &ok);
  m->since_ms = expire_before_ms;
  return inr_queue(st, r, ok);
}

int sg_store_replycount_load(sg_store_t *st, int64_t since_ms,
                             sg_store_replycounts_cb cb, void *data) {
  if (since_ms < 0)
    return SG_EINVAL;
  sg__store_req_t *r;
  sg__inr_req_t *m;
  int rc =
      inr_begin(st, false, SG__INR_REPLY_LOAD, (sg__any_cb)cb, data, &r, &m);
  if (rc < 0)
    return rc;
  m->since_ms = since_ms;
  return inr_queue(st, r, true);
}

void sg__inr_complete(sg_store_t *st, sg__store_req_t *r) {
  sg__inr_req_t *m = r->in.inr;
  bool ok = r->status == 0;
  sg_store_inrules_res_t res = {m->rules, m->n, m->saved, m->managed};
  switch (m->op) {
  case SG__INR_SAVE:
  case SG__INR_LOAD:
    ((sg_store_inrules_cb)r->cb)(st, r->status, ok ? &res : NULL, r->data);
    break;
  case SG__INR_REPLY_SET:
    ((sg_store_done_cb)r->cb)(st, r->status, r->data);
    break;
  case SG__INR_REPLY_LOAD:
    ((sg_store_replycounts_cb)r->cb)(st, r->status, ok ? m->counts : NULL,
                                     ok ? m->n_counts : 0, r->data);
    break;
  }
}
