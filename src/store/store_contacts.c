/* store_contacts.c - the public request of store/contacts.h: checks an
 * operation, copies it into an SG__REQ_CONTACTS_* request that owns its
 * memory, queues it on the backend, and runs its callback when it comes
 * back.
 *
 * Like the other store_*.c fronts, it must never touch the database or call
 * a callback from inside sg_store_contacts.
 */
#include "store/contacts_int.h"

#include <string.h>

#include "core/error.h"

static bool len_ok(const char *s, size_t max) {
  return s == NULL || strlen(s) <= max;
}

static bool field_key_ok(const char *k) {
  size_t n = strlen(k);
  if (n == 0 || n > 64)
    return false;
  return strspn(k, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                   "0123456789_-") == n;
}

static bool rows_ok(const sg_store_cop_t *op) {
  if (op->rows == NULL || op->n_rows == 0 || op->n_rows > SG_STORE_IMPORT_MAX)
    return false;
  for (size_t i = 0; i < op->n_rows; i++)
    if (op->rows[i].number == NULL ||
        !len_ok(op->rows[i].name, SG_STORE_CONTACT_NAME_MAX) ||
        !len_ok(op->rows[i].fields, SG_STORE_CONTACT_FIELDS_MAX))
      return false;
  return true;
}

/* The checks of each kind that need no database. */
static bool op_ok(const sg_store_cop_t *op) {
  bool write = op->kind < SG_STORE_COP_FIRST_READ;
  if ((write && op->account_id <= 0) || op->account_id < 0 ||
      !len_ok(op->fields, SG_STORE_CONTACT_FIELDS_MAX) ||
      !len_ok(op->body, SG_STORE_TEMPLATE_BODY_MAX) ||
      op->limit > SG_STORE_CONTACTS_PAGE_MAX || op->after < 0)
    return false;
  switch (op->kind) {
  case SG_STORE_CONTACT_PUT:
    return (op->id > 0 || op->number != NULL) &&
           len_ok(op->name, SG_STORE_CONTACT_NAME_MAX);
  case SG_STORE_CLIST_PUT:
    return op->name != NULL && op->name[0] != '\0' &&
           len_ok(op->name, SG_STORE_CLIST_NAME_MAX);
  case SG_STORE_TEMPLATE_PUT:
    return (op->id > 0 || (op->name != NULL && op->body != NULL)) &&
           (op->name == NULL || op->name[0] != '\0') &&
           len_ok(op->name, SG_STORE_TEMPLATE_NAME_MAX);
  case SG_STORE_CLIST_ADD:
  case SG_STORE_CLIST_REMOVE:
    return op->list_id > 0 && op->ids != NULL && op->n_ids > 0 &&
           op->n_ids <= SG_STORE_MEMBERS_MAX;
  case SG_STORE_CONTACT_IMPORT:
    return op->list_id >= 0 && rows_ok(op);
  case SG_STORE_CONTACT_DELETE:
  case SG_STORE_CLIST_DELETE:
  case SG_STORE_TEMPLATE_DELETE:
  case SG_STORE_CONTACT_GET:
  case SG_STORE_CLIST_GET:
  case SG_STORE_TEMPLATE_GET:
    return op->id > 0;
  case SG_STORE_CONTACT_LIST:
    return op->field_key == NULL ||
           (field_key_ok(op->field_key) && op->field_value != NULL);
  case SG_STORE_CLIST_LIST:
  case SG_STORE_TEMPLATE_LIST:
  case SG_STORE_CONTACT_KEYS:
    return true;
  }
  return false;
}

static void copy_rows(sg__store_req_t *r, sg_store_cop_t *to,
                      const sg_store_cop_t *op, bool *ok) {
  sg_store_contact_in_t *rows =
      sg__arena_alloc(&r->arena, op->n_rows * sizeof *rows);
  *ok = *ok && rows != NULL;
  for (size_t i = 0; *ok && i < op->n_rows; i++) {
    rows[i].number = sg__arena_strdup(&r->arena, op->rows[i].number, ok);
    rows[i].name = sg__arena_strdup(&r->arena, op->rows[i].name, ok);
    rows[i].fields = sg__arena_strdup(&r->arena, op->rows[i].fields, ok);
  }
  to->rows = rows;
}

static void copy_op(sg__store_req_t *r, sg_store_cop_t *to,
                    const sg_store_cop_t *op, bool *ok) {
  sg__arena_t *a = &r->arena;
  *to = *op;
  to->number = sg__arena_strdup(a, op->number, ok);
  to->name = sg__arena_strdup(a, op->name, ok);
  to->fields = sg__arena_strdup(a, op->fields, ok);
  to->body = sg__arena_strdup(a, op->body, ok);
  to->prefix = sg__arena_strdup(a, op->prefix, ok);
  to->name_like = sg__arena_strdup(a, op->name_like, ok);
  to->field_key = sg__arena_strdup(a, op->field_key, ok);
  to->field_value = sg__arena_strdup(a, op->field_value, ok);
  to->ids = op->n_ids
                ? sg__arena_memdup(a, op->ids, op->n_ids * sizeof *op->ids, ok)
                : NULL;
  to->rows = NULL;
  if (op->kind == SG_STORE_CONTACT_IMPORT)
    copy_rows(r, to, op, ok);
}

int sg_store_contacts(sg_store_t *st, const sg_store_cop_t *op,
                      sg_store_cres_cb cb, void *data) {
  if (op == NULL || !op_ok(op))
    return SG_EINVAL;
  bool write = op->kind < SG_STORE_COP_FIRST_READ;
  sg__store_req_t *r;
  void *m = NULL;
  int rc = sg__store_req_begin(
      st, write ? SG__REQ_CONTACTS_WRITE : SG__REQ_CONTACTS_READ,
      (sg__any_cb)cb, data, sizeof(sg__contacts_req_t), &r, &m);
  if (rc < 0)
    return rc;
  sg__contacts_req_t *q = m;
  r->in.contacts = q;
  bool ok = true;
  copy_op(r, &q->op, op, &ok);
  if (q->op.limit == 0)
    q->op.limit = 50;
  return sg__store_req_queue(st, r, ok);
}

void sg__contacts_complete(sg_store_t *st, sg__store_req_t *r) {
  sg__contacts_req_t *q = r->in.contacts;
  ((sg_store_cres_cb)r->cb)(st, r->status, r->status == 0 ? &q->res : NULL,
                            r->data);
}
