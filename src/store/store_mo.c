/* store_mo.c - the public requests of store.h "inbound reassembly,
 * delivery and opt-outs": each checks its arguments, copies them into an
 * SG__REQ_MO_* request that owns its memory, and queues it on the backend;
 * and the callbacks of those requests when they come back.
 *
 * Like store_req.c, it must never touch the database or call a callback
 * from inside a request function.
 */
#include "store/mo_int.h"

#include <string.h>

#include "core/error.h"

static int mo_begin(sg_store_t *st, bool write, sg__mo_op_t op, sg__any_cb cb,
                    void *data, sg__store_req_t **out, sg__mo_req_t **mo) {
  void *m = NULL;
  *mo = NULL;
  int rc = sg__store_req_begin(st, write ? SG__REQ_MO_WRITE : SG__REQ_MO_READ,
                               cb, data, sizeof(**mo), out, &m);
  if (rc < 0)
    return rc;
  (*out)->in.mo = m;
  *mo = m;
  (*mo)->op = op;
  return 0;
}

static int mo_queue(sg_store_t *st, sg__store_req_t *r, bool ok) {
  return sg__store_req_queue(st, r, ok);
}

static bool valid_id(const char *s) {
  uint8_t b[SG_ID_BYTES];
  return s != NULL && strlen(s) == SG_ID_LEN &&
         sg_id_parse(s, SG_ID_LEN, b) == 0;
}

static bool nonempty(const char *s, size_t max) {
  return s != NULL && s[0] != '\0' && strlen(s) < max;
}

int sg_store_mo_part_add(sg_store_t *st, const sg_store_mo_part_t *p,
                         sg_store_mo_part_cb cb, void *data) {
  if (p == NULL || !nonempty(p->group, 256) || !nonempty(p->sender, 64) ||
      !nonempty(p->recipient, 64) || p->total < 2 || p->total > 255 ||
      p->seq < 1 || p->seq > p->total || (p->ud == NULL && p->ud_len > 0))
    return SG_EINVAL;
  sg__store_req_t *r;
  sg__mo_req_t *m;
  int rc = mo_begin(st, true, SG__MO_PART_ADD, (sg__any_cb)cb, data, &r, &m);
  if (rc < 0)
    return rc;
  bool ok = true;
  sg__arena_t *a = &r->arena;
  m->part = *p;
  m->part.group = sg__arena_strdup(a, p->group, &ok);
  m->part.connector = sg__arena_strdup(a, p->connector, &ok);
  m->part.sender = sg__arena_strdup(a, p->sender, &ok);
  m->part.recipient = sg__arena_strdup(a, p->recipient, &ok);
  m->part.udh = p->udh ? sg__arena_memdup(a, p->udh, p->udh_len, &ok) : NULL;
  m->part.udh_len = p->udh ? p->udh_len : 0;
  m->part.ud =
      sg__arena_memdup(a, p->ud ? p->ud : (const uint8_t *)"", p->ud_len, &ok);
  return mo_queue(st, r, ok);
}

int sg_store_mo_due(sg_store_t *st, int64_t stale_before_ms,
                    unsigned max_groups, sg_store_mo_parts_cb cb, void *data) {
  if (max_groups < 1 || max_groups > 100 || stale_before_ms < 0)
    return SG_EINVAL;
  sg__store_req_t *r;
  sg__mo_req_t *m;
  int rc = mo_begin(st, false, SG__MO_DUE, (sg__any_cb)cb, data, &r, &m);
  if (rc < 0)
    return rc;
  m->due.stale_before_ms = stale_before_ms;
  m->due.max_groups = max_groups;
  return mo_queue(st, r, true);
}

int sg_store_mo_deliver(sg_store_t *st, const sg_store_mo_deliver_t *d,
                        sg_store_id_cb cb, void *data) {
  const sg_store_inbound_t *in = d != NULL ? &d->msg : NULL;
  if (in == NULL || !valid_id(in->id) || !nonempty(in->sender, 64) ||
      !nonempty(in->recipient, 64) || (in->body == NULL && in->body_len > 0) ||
      in->account_id < 0 ||
      (d->webhook_url != NULL && d->webhook_url[0] == '\0') ||
      (d->action_url != NULL && d->action_url[0] == '\0') ||
      (d->group != NULL && !nonempty(d->group, 256)) ||
      (d->optout != 0 && (in->account_id <= 0 ||
                          !nonempty(d->optout_number, SG_STORE_NUMBER_MAX))) ||
      (d->smpp_out && in->account_id <= 0))
    return SG_EINVAL;
  sg__store_req_t *r;
  sg__mo_req_t *m;
  int rc = mo_begin(st, true, SG__MO_DELIVER, (sg__any_cb)cb, data, &r, &m);
  if (rc < 0)
    return rc;
  bool ok = true;
  sg__arena_t *a = &r->arena;
  sg_store_mo_deliver_t *c = &m->deliver;
  *c = *d;
  sg_store_inbound_t *o = &c->msg;
  memcpy(o->id, in->id, SG_ID_LEN + 1);
  sg_id_canonical(o->id, SG_ID_LEN);
  o->connector = sg__arena_strdup(a, in->connector, &ok);
  o->sender = sg__arena_strdup(a, in->sender, &ok);
  o->recipient = sg__arena_strdup(a, in->recipient, &ok);
  o->keyword = sg__arena_strdup(a, in->keyword, &ok);
  o->body = sg__arena_memdup(a, in->body ? in->body : (const uint8_t *)"",
                             in->body_len, &ok);
  if (o->parts == 0)
    o->parts = 1;
  c->group = sg__arena_strdup(a, d->group, &ok);
  c->webhook_url = sg__arena_strdup(a, d->webhook_url, &ok);
  c->optout_number = sg__arena_strdup(a, d->optout_number, &ok);
  c->action_url = sg__arena_strdup(a, d->action_url, &ok);
  return mo_queue(st, r, ok);
}

int sg_store_inbound_search(sg_store_t *st, const sg_store_inbound_filter_t *f,
                            sg_store_inbound_cb cb, void *data) {
  if (f == NULL || f->account_id < 0 || f->limit > SG_STORE_LIST_MAX ||
      (f->cursor != NULL && !valid_id(f->cursor)))
    return SG_EINVAL;
  sg__store_req_t *r;
  sg__mo_req_t *m;
  int rc = mo_begin(st, false, SG__MO_SEARCH, (sg__any_cb)cb, data, &r, &m);
  if (rc < 0)
    return rc;
  bool ok = true;
  sg__arena_t *a = &r->arena;
  m->filter = *f;
  m->filter.sender = sg__arena_strdup(a, f->sender, &ok);
  m->filter.recipient = sg__arena_strdup(a, f->recipient, &ok);
  m->filter.keyword = sg__arena_strdup(a, f->keyword, &ok);
  char *cur = sg__arena_strdup(a, f->cursor, &ok);
  if (cur != NULL)
    sg_id_canonical(cur, SG_ID_LEN);
  m->filter.cursor = cur;
  if (m->filter.limit == 0)
    m->filter.limit = SG_STORE_LIST_DEFAULT;
  return mo_queue(st, r, ok);
}

int sg_store_optout_set(sg_store_t *st, int64_t account_id, const char *number,
                        bool add, const char *source, sg_store_id_cb cb,
                        void *data) {
  if (account_id <= 0 || !nonempty(number, SG_STORE_NUMBER_MAX))
    return SG_EINVAL;
  sg__store_req_t *r;
  sg__mo_req_t *m;
  int rc = mo_begin(st, true, SG__MO_OPTOUT_SET, (sg__any_cb)cb, data, &r, &m);
  if (rc < 0)
    return rc;
  bool ok = true;
  m->optout.account_id = account_id;
  m->optout.add = add;
  m->optout.number = sg__arena_strdup(&r->arena, number, &ok);
  m->optout.source = sg__arena_strdup(&r->arena, source ? source : "api", &ok);
  return mo_queue(st, r, ok);
}

int sg_store_optout_list(sg_store_t *st, int64_t account_id, const char *number,
                         const char *cursor, unsigned limit,
                         sg_store_optout_cb cb, void *data) {
  if (account_id <= 0 || limit > SG_STORE_LIST_MAX ||
      (number != NULL && !nonempty(number, SG_STORE_NUMBER_MAX)) ||
      (cursor != NULL && strlen(cursor) >= SG_STORE_NUMBER_MAX))
    return SG_EINVAL;
  sg__store_req_t *r;
  sg__mo_req_t *m;
  int rc =
      mo_begin(st, false, SG__MO_OPTOUT_LIST, (sg__any_cb)cb, data, &r, &m);
  if (rc < 0)
    return rc;
  bool ok = true;
  m->optout.account_id = account_id;
  m->optout.number = sg__arena_strdup(&r->arena, number, &ok);
  m->optout.cursor =
      cursor && cursor[0] ? sg__arena_strdup(&r->arena, cursor, &ok) : NULL;
  m->optout.limit = limit ? limit : SG_STORE_LIST_DEFAULT;
  return mo_queue(st, r, ok);
}

void sg__mo_complete(sg_store_t *st, sg__store_req_t *r) {
  sg__mo_req_t *m = r->in.mo;
  bool ok = r->status == 0;
  switch (m->op) {
  case SG__MO_PART_ADD:
    ((sg_store_mo_part_cb)r->cb)(st, r->status, ok && m->dup, ok ? m->have : 0,
                                 r->data);
    break;
  case SG__MO_DELIVER:
  case SG__MO_OPTOUT_SET:
    ((sg_store_id_cb)r->cb)(st, r->status, ok ? m->id : 0, r->data);
    break;
  case SG__MO_DUE:
    ((sg_store_mo_parts_cb)r->cb)(st, r->status, ok ? m->parts : NULL,
                                  ok ? m->n_parts : 0, r->data);
    break;
  case SG__MO_SEARCH:
    ((sg_store_inbound_cb)r->cb)(st, r->status, ok ? &m->inbound : NULL,
                                 r->data);
    break;
  case SG__MO_OPTOUT_LIST:
    ((sg_store_optout_cb)r->cb)(st, r->status, ok ? &m->optouts : NULL,
                                r->data);
    break;
  }
}
