/* store_req.c - the public requests of store.h: each checks its arguments,
 * copies them into a request that owns its memory (so the caller's may be
 * reused at once) and queues it on the backend.
 *
 * Every check that can be made without the database is made here, so that a
 * bad argument fails at once (and its callback is never called) whatever the
 * backend. It must never touch the database or call a callback.
 */
#include "store/store_int.h"

#include <string.h>

#include "core/error.h"

#define ITEMS_MAX 1000

static sg__store_req_t *req_new(sg__req_kind_t kind, sg__any_cb cb,
                                void *data) {
  sg__arena_t arena = {NULL};
  sg__store_req_t *r = sg__arena_alloc(&arena, sizeof *r);
  if (r == NULL)
    return NULL;
  r->arena = arena;
  r->kind = kind;
  r->cb = cb;
  r->data = data;
  return r;
}

/* Queues r, or frees it and returns the error. */
static int queue(sg_store_t *st, sg__store_req_t *r) {
  int rc = st->closing ? SG_ECLOSED : st->be->queue(st, r);
  if (rc < 0)
    sg__store_req_free(r);
  return rc;
}

/* Starts a request after the common checks. */
static int begin(sg_store_t *st, sg__req_kind_t kind, sg__any_cb cb, void *data,
                 sg__store_req_t **out) {
  if (st == NULL || cb == NULL)
    return SG_EINVAL;
  if (st->closing)
    return SG_ECLOSED;
  *out = req_new(kind, cb, data);
  return *out == NULL ? SG_ENOMEM : 0;
}

int sg__store_req_begin(sg_store_t *st, sg__req_kind_t kind, sg__any_cb cb,
                        void *data, size_t extra, sg__store_req_t **out,
                        void **ext) {
  int rc = begin(st, kind, cb, data, out);
  if (rc != 0 || extra == 0)
    return rc;
  if ((*ext = sg__arena_alloc(&(*out)->arena, extra)) == NULL) {
    sg__store_req_free(*out);
    return SG_ENOMEM;
  }
  return 0;
}

int sg__store_req_queue(sg_store_t *st, sg__store_req_t *r, bool ok) {
  if (!ok) {
    sg__store_req_free(r);
    return SG_ENOMEM;
  }
  return queue(st, r);
}

static bool valid_id(const char *s) {
  uint8_t b[SG_ID_BYTES];
  return s != NULL && strlen(s) == SG_ID_LEN &&
         sg_id_parse(s, SG_ID_LEN, b) == 0;
}

/* Copies a valid id in its canonical (upper-case) form. */
static void copy_id(char dst[SG_ID_LEN + 1], const char *src) {
  memcpy(dst, src, SG_ID_LEN + 1);
  sg_id_canonical(dst, SG_ID_LEN);
}

/* Copies an id that valid_id accepted (a batch's ids, checked by
 * valid_batch) in its canonical form without parsing it again. */
static void copy_checked_id(char dst[SG_ID_LEN + 1], const char *src) {
  for (size_t i = 0; i < SG_ID_LEN; i++)
    dst[i] =
        src[i] >= 'a' && src[i] <= 'z' ? (char)(src[i] - 'a' + 'A') : src[i];
  dst[SG_ID_LEN] = '\0';
}

/* E.164 (ITU-T E.164 section 6): '+', a country code that does not start
 * with 0, at most 15 digits in all. */
static bool valid_e164(const char *s) {
  if (s == NULL || s[0] != '+' || s[1] < '1' || s[1] > '9')
    return false;
  size_t n = 0;
  for (const char *p = s + 1; *p != '\0'; p++, n++)
    if (*p < '0' || *p > '9')
      return false;
  return n >= 1 && n <= 15;
}

static bool valid_name(const char *s) {
  return s != NULL && s[0] != '\0' && strlen(s) <= SG_STORE_NAME_MAX;
}

static bool failure_status(sg_msg_status_t s) {
  return s == SG_MSG_FAILED || s == SG_MSG_REJECTED ||
         s == SG_MSG_UNDELIVERABLE;
}

/* ---- submit -------------------------------------------------------------- */

static bool valid_part(const sg_store_part_in_t *p) {
  return valid_name(p->connector) && p->ud != NULL && p->ud_len > 0 &&
         p->ud_len <= 255 && (p->udh == NULL || p->udh_len <= 255) &&
         p->encoding >= SG_ENC_GSM7 && p->encoding <= SG_ENC_8BIT;
}

static bool valid_msg(const sg_store_msg_in_t *m) {
  if (!valid_id(m->id) || !valid_e164(m->recipient) || m->sender == NULL ||
      m->sender[0] == '\0' || (m->body == NULL && m->body_len > 0) ||
      m->parts == NULL || m->n_parts == 0 || m->n_parts > SG_SEG_MAX_PARTS ||
      m->priority > 3 || m->validity_ms < 0 || m->send_at_ms < 0 ||
      (m->smpp != NULL &&
       (m->smpp->source_addr == NULL || m->smpp->dest_addr == NULL)))
    return false;
  for (size_t i = 0; i < m->n_parts; i++)
    if (!valid_part(&m->parts[i]))
      return false;
  return true;
}

static bool valid_batch(const sg_store_batch_t *b) {
  if (b == NULL || !valid_id(b->batch_id) || b->msgs == NULL ||
      b->n_msgs == 0 || b->n_msgs > SG_STORE_BATCH_MAX)
    return false;
  if (b->idem_key != NULL &&
      (b->idem_key[0] == '\0' || strlen(b->idem_key) > 255 ||
       b->request_hash == NULL || b->request_hash_len == 0 ||
       (b->response == NULL && b->response_len > 0) || b->idem_ttl_ms < 0))
    return false;
  for (size_t i = 0; i < b->n_msgs; i++)
    if (!valid_msg(&b->msgs[i]))
      return false;
  return true;
}

static void copy_part(sg__arena_t *a, sg_store_part_in_t *d,
                      const sg_store_part_in_t *s, bool *ok) {
  *d = *s;
  d->connector = sg__arena_strdup(a, s->connector, ok);
  d->udh = s->udh_len ? sg__arena_memdup(a, s->udh, s->udh_len, ok) : NULL;
  if (d->udh == NULL)
    d->udh_len = 0;
  d->ud = sg__arena_memdup(a, s->ud, s->ud_len, ok);
}

static void copy_msg(sg__arena_t *a, sg_store_msg_in_t *d,
                     const sg_store_msg_in_t *s, bool *ok) {
  *d = *s;
  copy_checked_id(d->id, s->id);
  d->sender = sg__arena_strdup(a, s->sender, ok);
  d->recipient = sg__arena_strdup(a, s->recipient, ok);
  d->body = sg__arena_memdup(a, s->body ? s->body : (const uint8_t *)"",
                             s->body_len, ok);
  d->callback_url = sg__arena_strdup(a, s->callback_url, ok);
  d->client_ref = sg__arena_strdup(a, s->client_ref, ok);
  d->dlr_url = sg__arena_strdup(a, s->dlr_url, ok);
  sg_store_part_in_t *parts =
      sg__arena_alloc(a, s->n_parts * sizeof(sg_store_part_in_t));
  d->parts = parts;
  if (parts == NULL) {
    *ok = false;
    return;
  }
  for (size_t i = 0; i < s->n_parts && *ok; i++)
    copy_part(a, &parts[i], &s->parts[i], ok);
  if (s->smpp != NULL) {
    sg_store_smpp_origin_t *o =
        sg__arena_memdup(a, s->smpp, sizeof *s->smpp, ok);
    if (o != NULL) {
      o->source_addr = sg__arena_strdup(a, s->smpp->source_addr, ok);
      o->dest_addr = sg__arena_strdup(a, s->smpp->dest_addr, ok);
    }
    d->smpp = o;
  }
}

/* Copies a batch that valid_batch accepted. */
static bool copy_batch(sg__arena_t *a, sg_store_batch_t *d,
                       const sg_store_batch_t *s) {
  bool ok = true;
  *d = *s;
  copy_checked_id(d->batch_id, s->batch_id);
  d->idem_key = sg__arena_strdup(a, s->idem_key, &ok);
  d->request_hash = sg__arena_memdup(
      a, s->request_hash, s->request_hash ? s->request_hash_len : 0, &ok);
  d->response = sg__arena_memdup(
      a, s->response ? s->response : (const uint8_t *)"", s->response_len, &ok);
  if (d->idem_ttl_ms == 0)
    d->idem_ttl_ms = 24 * 3600 * 1000;
  sg_store_msg_in_t *msgs = sg__arena_alloc(a, s->n_msgs * sizeof *msgs);
  d->msgs = msgs;
  if (msgs == NULL)
    return false;
  for (size_t i = 0; i < s->n_msgs && ok; i++)
    copy_msg(a, &msgs[i], &s->msgs[i], &ok);
  return ok;
}

bool sg__store_batch_valid(const sg_store_batch_t *b) {
  return valid_batch(b);
}

bool sg__store_batch_copy(sg__arena_t *a, sg_store_batch_t *d,
                          const sg_store_batch_t *s) {
  return copy_batch(a, d, s);
}

int sg_store_submit(sg_store_t *st, const sg_store_batch_t *batch,
                    sg_store_submit_cb cb, void *data) {
  if (!valid_batch(batch))
    return SG_EINVAL;
  sg__store_req_t *r;
  int rc = begin(st, SG__REQ_SUBMIT, (sg__any_cb)cb, data, &r);
  if (rc < 0)
    return rc;
  if (!copy_batch(&r->arena, &r->in.submit, batch)) {
    sg__store_req_free(r);
    return SG_ENOMEM;
  }
  return queue(st, r);
}

/* ---- claim, results, receipts, cancel ------------------------------------ */

int sg_store_claim(sg_store_t *st, const char *connector, unsigned max_parts,
                   int64_t lease_ms, sg_store_claim_cb cb, void *data) {
  return sg_store_claim_wait(st, connector, max_parts, lease_ms, 0, cb, data);
}

int sg_store_claim_wait(sg_store_t *st, const char *connector,
                        unsigned max_parts, int64_t lease_ms, uint32_t wait_ms,
                        sg_store_claim_cb cb, void *data) {
  if (!valid_name(connector) || max_parts == 0 || max_parts > ITEMS_MAX ||
      lease_ms < 0 || wait_ms > SG_STORE_CLAIM_WAIT_MAX_MS)
    return SG_EINVAL;
  sg__store_req_t *r;
  int rc = begin(st, SG__REQ_CLAIM, (sg__any_cb)cb, data, &r);
  if (rc < 0)
    return rc;
  bool ok = true;
  r->in.claim.connector = sg__arena_strdup(&r->arena, connector, &ok);
  r->in.claim.max = max_parts;
  r->in.claim.lease_ms = lease_ms ? lease_ms : 300000;
  r->in.claim.wait_ms = wait_ms;
  if (!ok) {
    sg__store_req_free(r);
    return SG_ENOMEM;
  }
  return queue(st, r);
}

static bool valid_result(const sg_store_result_in_t *x) {
  switch (x->outcome) {
  case SG_STORE_SENT:
    return x->smsc_id != NULL && x->smsc_id[0] != '\0' &&
           strlen(x->smsc_id) <= 128 &&
           (x->smsc_raw_id == NULL || strlen(x->smsc_raw_id) <= 128);
  case SG_STORE_RETRY:
    return x->next_attempt_ms >= 0 &&
           (x->connector == NULL || valid_name(x->connector));
  case SG_STORE_FAILED:
    return x->final_status == SG_MSG_NONE || failure_status(x->final_status);
  }
  return false;
}

int sg_store_record_results(sg_store_t *st, const sg_store_result_in_t *res,
                            size_t n, sg_store_items_cb cb, void *data) {
  if (res == NULL || n == 0 || n > ITEMS_MAX)
    return SG_EINVAL;
  for (size_t i = 0; i < n; i++)
    if (!valid_result(&res[i]))
      return SG_EINVAL;
  sg__store_req_t *r;
  int rc = begin(st, SG__REQ_RESULTS, (sg__any_cb)cb, data, &r);
  if (rc < 0)
    return rc;
  bool ok = true;
  sg_store_result_in_t *items =
      sg__arena_memdup(&r->arena, res, n * sizeof *res, &ok);
  for (size_t i = 0; ok && i < n; i++) {
    items[i].smsc_id = sg__arena_strdup(&r->arena, res[i].smsc_id, &ok);
    items[i].smsc_raw_id = sg__arena_strdup(&r->arena, res[i].smsc_raw_id, &ok);
    items[i].connector = sg__arena_strdup(&r->arena, res[i].connector, &ok);
    items[i].detail = sg__arena_strdup(&r->arena, res[i].detail, &ok);
    if (items[i].outcome == SG_STORE_FAILED &&
        items[i].final_status == SG_MSG_NONE)
      items[i].final_status = SG_MSG_FAILED;
  }
  if (!ok) {
    sg__store_req_free(r);
    return SG_ENOMEM;
  }
  r->in.results.items = items;
  r->in.results.n = n;
  return queue(st, r);
}

static bool valid_receipt(const sg_store_receipt_in_t *x) {
  return valid_name(x->connector) && x->smsc_id != NULL &&
         x->smsc_id[0] != '\0' && strlen(x->smsc_id) <= 128 &&
         (x->status == SG_MSG_SENT || x->status == SG_MSG_DELIVERED ||
          x->status == SG_MSG_EXPIRED || failure_status(x->status));
}

int sg_store_record_receipts(sg_store_t *st, const sg_store_receipt_in_t *rc_in,
                             size_t n, sg_store_items_cb cb, void *data) {
  if (rc_in == NULL || n == 0 || n > ITEMS_MAX)
    return SG_EINVAL;
  for (size_t i = 0; i < n; i++)
    if (!valid_receipt(&rc_in[i]))
      return SG_EINVAL;
  sg__store_req_t *r;
  int rc = begin(st, SG__REQ_RECEIPTS, (sg__any_cb)cb, data, &r);
  if (rc < 0)
    return rc;
  bool ok = true;
  sg_store_receipt_in_t *items =
      sg__arena_memdup(&r->arena, rc_in, n * sizeof *rc_in, &ok);
  for (size_t i = 0; ok && i < n; i++) {
    items[i].connector = sg__arena_strdup(&r->arena, rc_in[i].connector, &ok);
    items[i].smsc_id = sg__arena_strdup(&r->arena, rc_in[i].smsc_id, &ok);
    items[i].detail = sg__arena_strdup(&r->arena, rc_in[i].detail, &ok);
  }
  if (!ok) {
    sg__store_req_free(r);
    return SG_ENOMEM;
  }
  r->in.receipts.items = items;
  r->in.receipts.n = n;
  return queue(st, r);
}

/* A request naming one message (cancel, get). */
static int msg_request(sg_store_t *st, sg__req_kind_t kind, const char *id,
                       int64_t account_id, sg__any_cb cb, void *data) {
  if (!valid_id(id) || account_id < 0)
    return SG_EINVAL;
  sg__store_req_t *r;
  int rc = begin(st, kind, cb, data, &r);
  if (rc < 0)
    return rc;
  copy_id(r->in.msg.id, id);
  r->in.msg.account_id = account_id;
  return queue(st, r);
}

int sg_store_cancel(sg_store_t *st, const char *message_id, int64_t account_id,
                    sg_store_items_cb cb, void *data) {
  return msg_request(st, SG__REQ_CANCEL, message_id, account_id, (sg__any_cb)cb,
                     data);
}

int sg_store_get_message(sg_store_t *st, const char *id, int64_t account_id,
                         sg_store_message_cb cb, void *data) {
  return msg_request(st, SG__REQ_GET_MESSAGE, id, account_id, (sg__any_cb)cb,
                     data);
}

/* ---- lists and counts ---------------------------------------------------- */

int sg_store_list_messages(sg_store_t *st, const sg_store_filter_t *f,
                           sg_store_list_cb cb, void *data) {
  if (f == NULL || f->limit > SG_STORE_LIST_MAX ||
      (unsigned)f->status >= SG_MSG_STATUS_COUNT || f->account_id < 0 ||
      (f->cursor != NULL && !valid_id(f->cursor)) ||
      (f->batch_id != NULL && !valid_id(f->batch_id)) ||
      (f->recipient != NULL && strlen(f->recipient) > 32))
    return SG_EINVAL;
  sg__store_req_t *r;
  int rc = begin(st, SG__REQ_LIST_MESSAGES, (sg__any_cb)cb, data, &r);
  if (rc < 0)
    return rc;
  bool ok = true;
  sg_store_filter_t *d = &r->in.filter;
  *d = *f;
  d->recipient = sg__arena_strdup(&r->arena, f->recipient, &ok);
  d->batch_id = sg__arena_strdup(&r->arena, f->batch_id, &ok);
  d->cursor = sg__arena_strdup(&r->arena, f->cursor, &ok);
  if (!ok) {
    sg__store_req_free(r);
    return SG_ENOMEM;
  }
  if (d->batch_id != NULL)
    sg_id_canonical((char *)d->batch_id, SG_ID_LEN);
  if (d->cursor != NULL)
    sg_id_canonical((char *)d->cursor, SG_ID_LEN);
  if (d->limit == 0)
    d->limit = SG_STORE_LIST_DEFAULT;
  return queue(st, r);
}

int sg_store_counts(sg_store_t *st, sg_store_counts_cb cb, void *data) {
  sg__store_req_t *r;
  int rc = begin(st, SG__REQ_COUNTS, (sg__any_cb)cb, data, &r);
  return rc < 0 ? rc : queue(st, r);
}

/* ---- webhooks ------------------------------------------------------------ */

int sg_store_webhook_enqueue(sg_store_t *st, int64_t account_id,
                             const char *message_id, const char *url,
                             const uint8_t *payload, size_t len,
                             sg_store_id_cb cb, void *data) {
  if (url == NULL || url[0] == '\0' || (payload == NULL && len > 0) ||
      account_id < 0 || (message_id != NULL && !valid_id(message_id)))
    return SG_EINVAL;
  sg__store_req_t *r;
  int rc = begin(st, SG__REQ_WEBHOOK_ENQUEUE, (sg__any_cb)cb, data, &r);
  if (rc < 0)
    return rc;
  bool ok = true;
  r->in.wh_enqueue.account_id = account_id;
  r->in.wh_enqueue.message_id = sg__arena_strdup(&r->arena, message_id, &ok);
  r->in.wh_enqueue.url = sg__arena_strdup(&r->arena, url, &ok);
  r->in.wh_enqueue.payload = sg__arena_memdup(
      &r->arena, payload ? payload : (const uint8_t *)"", len, &ok);
  r->in.wh_enqueue.len = len;
  if (!ok) {
    sg__store_req_free(r);
    return SG_ENOMEM;
  }
  return queue(st, r);
}

int sg_store_webhook_claim(sg_store_t *st, unsigned max, int64_t lease_ms,
                           sg_store_webhooks_cb cb, void *data) {
  if (max == 0 || max > ITEMS_MAX || lease_ms < 0)
    return SG_EINVAL;
  sg__store_req_t *r;
  int rc = begin(st, SG__REQ_WEBHOOK_CLAIM, (sg__any_cb)cb, data, &r);
  if (rc < 0)
    return rc;
  r->in.wh_claim.max = max;
  r->in.wh_claim.lease_ms = lease_ms ? lease_ms : 300000;
  return queue(st, r);
}

int sg_store_webhook_finish(sg_store_t *st, const sg_store_webhook_result_t *w,
                            size_t n, sg_store_done_cb cb, void *data) {
  if (w == NULL || n == 0 || n > ITEMS_MAX)
    return SG_EINVAL;
  sg__store_req_t *r;
  int rc = begin(st, SG__REQ_WEBHOOK_FINISH, (sg__any_cb)cb, data, &r);
  if (rc < 0)
    return rc;
  bool ok = true;
  sg_store_webhook_result_t *items =
      sg__arena_memdup(&r->arena, w, n * sizeof *w, &ok);
  for (size_t i = 0; ok && i < n; i++)
    items[i].error = sg__arena_strdup(&r->arena, w[i].error, &ok);
  if (!ok) {
    sg__store_req_free(r);
    return SG_ENOMEM;
  }
  r->in.wh_finish.items = items;
  r->in.wh_finish.n = n;
  return queue(st, r);
}

/* ---- inbound ------------------------------------------------------------- */

int sg_store_inbound_insert(sg_store_t *st, const sg_store_inbound_t *in,
                            const char *webhook_url, sg_store_id_cb cb,
                            void *data) {
  if (in == NULL || !valid_id(in->id) || in->sender == NULL ||
      in->sender[0] == '\0' || in->recipient == NULL ||
      in->recipient[0] == '\0' || (in->body == NULL && in->body_len > 0) ||
      in->account_id < 0 || (webhook_url != NULL && webhook_url[0] == '\0'))
    return SG_EINVAL;
  sg__store_req_t *r;
  int rc = begin(st, SG__REQ_INBOUND_INSERT, (sg__any_cb)cb, data, &r);
  if (rc < 0)
    return rc;
  bool ok = true;
  sg_store_inbound_t *d = &r->in.inbound.msg;
  *d = *in;
  copy_id(d->id, in->id);
  d->connector = sg__arena_strdup(&r->arena, in->connector, &ok);
  d->sender = sg__arena_strdup(&r->arena, in->sender, &ok);
  d->recipient = sg__arena_strdup(&r->arena, in->recipient, &ok);
  d->body = sg__arena_memdup(
      &r->arena, in->body ? in->body : (const uint8_t *)"", in->body_len, &ok);
  if (d->parts == 0)
    d->parts = 1;
  r->in.inbound.webhook_url = sg__arena_strdup(&r->arena, webhook_url, &ok);
  if (!ok) {
    sg__store_req_free(r);
    return SG_ENOMEM;
  }
  return queue(st, r);
}

int sg_store_inbound_list(sg_store_t *st, int64_t account_id,
                          const char *cursor, unsigned limit,
                          sg_store_inbound_cb cb, void *data) {
  if (account_id < 0 || limit > SG_STORE_LIST_MAX ||
      (cursor != NULL && !valid_id(cursor)))
    return SG_EINVAL;
  sg__store_req_t *r;
  int rc = begin(st, SG__REQ_INBOUND_LIST, (sg__any_cb)cb, data, &r);
  if (rc < 0)
    return rc;
  r->in.inbound_list.account_id = account_id;
  if (cursor != NULL)
    copy_id(r->in.inbound_list.cursor, cursor);
  r->in.inbound_list.limit = limit ? limit : SG_STORE_LIST_DEFAULT;
  return queue(st, r);
}

int sg_store_waiting_parts(sg_store_t *st, const char *connector,
                           int64_t since_ms, unsigned max,
                           sg_store_smsc_ids_cb cb, void *data) {
  if (connector == NULL || max == 0 || max > SG_STORE_WAITING_MAX)
    return SG_EINVAL;
  sg__store_req_t *r;
  int rc = begin(st, SG__REQ_WAITING_PARTS, (sg__any_cb)cb, data, &r);
  if (rc < 0)
    return rc;
  bool ok = true;
  r->in.waiting.connector = sg__arena_strdup(&r->arena, connector, &ok);
  r->in.waiting.since_ms = since_ms;
  r->in.waiting.max = max;
  if (!ok) {
    sg__store_req_free(r);
    return SG_ENOMEM;
  }
  return queue(st, r);
}

/* ---- accounts and keys --------------------------------------------------- */

int sg_store_account_create(sg_store_t *st, const sg_store_account_t *a,
                            sg_store_id_cb cb, void *data) {
  if (a == NULL || !valid_name(a->name))
    return SG_EINVAL;
  sg__store_req_t *r;
  int rc = begin(st, SG__REQ_ACCOUNT_CREATE, (sg__any_cb)cb, data, &r);
  if (rc < 0)
    return rc;
  bool ok = true;
  sg_store_account_t *d = &r->in.account;
  d->name = sg__arena_strdup(&r->arena, a->name, &ok);
  d->password_hash = sg__arena_strdup(&r->arena, a->password_hash, &ok);
  d->webhook_url = sg__arena_strdup(&r->arena, a->webhook_url, &ok);
  d->disabled = a->disabled;
  if (!ok) {
    sg__store_req_free(r);
    return SG_ENOMEM;
  }
  return queue(st, r);
}

/* A request about an API key or its hash. */
static int key_request(sg_store_t *st, sg__req_kind_t kind, int64_t account_id,
                       int64_t key_id, const uint8_t *hash, const char *label,
                       sg__any_cb cb, void *data) {
  sg__store_req_t *r;
  int rc = begin(st, kind, cb, data, &r);
  if (rc < 0)
    return rc;
  bool ok = true;
  r->in.apikey.account_id = account_id;
  r->in.apikey.key_id = key_id;
  if (hash != NULL)
    memcpy(r->in.apikey.hash, hash, SG_STORE_KEY_HASH_BYTES);
  r->in.apikey.label = sg__arena_strdup(&r->arena, label, &ok);
  if (!ok) {
    sg__store_req_free(r);
    return SG_ENOMEM;
  }
  return queue(st, r);
}

int sg_store_apikey_create(sg_store_t *st, int64_t account_id,
                           const uint8_t hash[SG_STORE_KEY_HASH_BYTES],
                           const char *label, sg_store_id_cb cb, void *data) {
  if (account_id <= 0 || hash == NULL)
    return SG_EINVAL;
  return key_request(st, SG__REQ_APIKEY_CREATE, account_id, 0, hash, label,
                     (sg__any_cb)cb, data);
}

int sg_store_apikey_revoke(sg_store_t *st, int64_t key_id, sg_store_done_cb cb,
                           void *data) {
  if (key_id <= 0)
    return SG_EINVAL;
  return key_request(st, SG__REQ_APIKEY_REVOKE, 0, key_id, NULL, NULL,
                     (sg__any_cb)cb, data);
}

int sg_store_apikey_lookup(sg_store_t *st,
                           const uint8_t hash[SG_STORE_KEY_HASH_BYTES],
                           sg_store_account_cb cb, void *data) {
  if (hash == NULL)
    return SG_EINVAL;
  return key_request(st, SG__REQ_APIKEY_LOOKUP, 0, 0, hash, NULL,
                     (sg__any_cb)cb, data);
}

int sg_store_account_by_name(sg_store_t *st, const char *name,
                             sg_store_account_cb cb, void *data) {
  if (!valid_name(name))
    return SG_EINVAL;
  sg__store_req_t *r;
  int rc = begin(st, SG__REQ_ACCOUNT_BY_NAME, (sg__any_cb)cb, data, &r);
  if (rc < 0)
    return rc;
  bool ok = true;
  r->in.name = sg__arena_strdup(&r->arena, name, &ok);
  if (!ok) {
    sg__store_req_free(r);
    return SG_ENOMEM;
  }
  return queue(st, r);
}

int sg_store_maintain(sg_store_t *st, sg_store_maint_cb cb, void *data) {
  sg__store_req_t *r;
  int rc = begin(st, SG__REQ_MAINTAIN, (sg__any_cb)cb, data, &r);
  return rc < 0 ? rc : queue(st, r);
}

/* ---- SMPP receipts ------------------------------------------------------- */

int sg_store_smpp_out_claim(sg_store_t *st, int64_t account_id, unsigned max,
                            int64_t lease_ms, int64_t max_age_ms,
                            sg_store_smpp_out_cb cb, void *data) {
  if (account_id <= 0 || max == 0 || max > ITEMS_MAX || lease_ms < 0 ||
      max_age_ms < 0 || cb == NULL)
    return SG_EINVAL;
  sg__store_req_t *r;
  int rc = begin(st, SG__REQ_SMPP_OUT_CLAIM, (sg__any_cb)cb, data, &r);
  if (rc < 0)
    return rc;
  r->in.smpp_claim.account_id = account_id;
  r->in.smpp_claim.max = max;
  r->in.smpp_claim.lease_ms = lease_ms ? lease_ms : 60000;
  r->in.smpp_claim.max_age_ms = max_age_ms;
  return queue(st, r);
}

int sg_store_smpp_out_finish(sg_store_t *st,
                             const sg_store_smpp_out_result_t *w, size_t n,
                             sg_store_done_cb cb, void *data) {
  if (w == NULL || n == 0 || n > ITEMS_MAX || cb == NULL)
    return SG_EINVAL;
  sg__store_req_t *r;
  int rc = begin(st, SG__REQ_SMPP_OUT_FINISH, (sg__any_cb)cb, data, &r);
  if (rc < 0)
    return rc;
  bool ok = true;
  r->in.smpp_finish.items = sg__arena_memdup(&r->arena, w, n * sizeof *w, &ok);
  r->in.smpp_finish.n = n;
  if (!ok) {
    sg__store_req_free(r);
    return SG_ENOMEM;
  }
  return queue(st, r);
}
