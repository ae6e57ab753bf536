/* store_campaigns.c - the public request of store/campaigns.h: checks an
 * operation, copies it into an SG__REQ_CAMPAIGN_* request that owns its
 * memory, queues it on the backend, and runs its callback when it comes
 * back; and the names of a campaign's statuses.
 *
 * Like the other store_*.c fronts, it must never touch the database or call
 * a callback from inside sg_store_campaigns.
 */
#include "store/campaigns_int.h"

#include <string.h>

#include "core/error.h"

static const char *const status_names[] = {"scheduled", "running", "paused",
                                           "completed", "cancelled"};

const char *sg_campaign_status_name(sg_campaign_status_t s) {
  if ((unsigned)s >= sizeof status_names / sizeof status_names[0])
    return NULL;
  return status_names[s];
}

int sg_campaign_status_parse(const char *name, sg_campaign_status_t *out) {
  for (unsigned i = 0; name != NULL && i < 5; i++)
    if (strcmp(name, status_names[i]) == 0) {
      *out = (sg_campaign_status_t)i;
      return 0;
    }
  return SG_EINVAL;
}

static bool len_ok(const char *s, size_t max) {
  return s == NULL || strlen(s) <= max;
}

static bool window_ok(int start, int end) {
  if (start == -1)
    return true;
  return start >= 0 && start <= 1440 && end >= 0 && end <= 1440 && start != end;
}

static bool create_ok(const sg_store_campop_t *op) {
  const sg_store_campaign_in_t *in = &op->in;
  if (op->account_id <= 0 || in->id == NULL || strlen(in->id) != SG_ID_LEN ||
      in->name == NULL || in->name[0] == '\0' ||
      !len_ok(in->name, SG_STORE_CAMPAIGN_NAME_MAX) ||
      !len_ok(in->body, SG_STORE_CAMPAIGN_BODY_MAX) ||
      (in->body == NULL) == (in->template_id <= 0) || in->lists == NULL ||
      in->n_lists == 0 || in->n_lists > SG_STORE_CAMPAIGN_LISTS_MAX ||
      in->send_at_ms < 0 || in->validity_ms < 0 ||
      !window_ok(in->window_start, in->window_end))
    return false;
  for (size_t i = 0; i < in->n_lists; i++)
    if (in->lists[i] <= 0)
      return false;
  return true;
}

/* The checks of each kind that need no database. */
static bool op_ok(const sg_store_campop_t *op) {
  if (op->account_id < 0 || op->limit > SG_STORE_CAMPAIGN_EXPAND_MAX)
    return false;
  if (op->kind == SG_STORE_CAMPAIGN_CREATE)
    return create_ok(op);
  if (op->kind != SG_STORE_CAMPAIGN_LIST &&
      op->kind != SG_STORE_CAMPAIGN_ACTIVE &&
      (op->id == NULL || strlen(op->id) != SG_ID_LEN))
    return false;
  switch (op->kind) {
  case SG_STORE_CAMPAIGN_PAUSE:
    return len_ok(op->error, SG_STORE_CAMPAIGN_ERROR_MAX);
  case SG_STORE_CAMPAIGN_TAKE:
    return op->ids != NULL && op->n_ids > 0 &&
           op->n_ids <= SG_STORE_CAMPAIGN_TAKE_MAX;
  case SG_STORE_CAMPAIGN_RELEASED:
    return op->rel > 0 && op->n_ids <= SG_STORE_CAMPAIGN_TAKE_MAX &&
           (op->n_ids == 0 || op->ids != NULL);
  case SG_STORE_CAMPAIGN_LIST:
    return op->limit <= SG_STORE_CAMPAIGN_PAGE_MAX &&
           (op->after == NULL || op->after[0] == '\0' ||
            strlen(op->after) == SG_ID_LEN);
  case SG_STORE_CAMPAIGN_PENDING:
  case SG_STORE_CAMPAIGN_CANCEL_STEP:
    return op->limit <= SG_STORE_CAMPAIGN_PAGE_MAX && op->after_id >= 0;
  default:
    return true;
  }
}

static void copy_op(sg__arena_t *a, sg_store_campop_t *to,
                    const sg_store_campop_t *op, bool *ok) {
  *to = *op;
  to->id = sg__arena_strdup(a, op->id, ok);
  to->error = sg__arena_strdup(a, op->error, ok);
  to->after = sg__arena_strdup(a, op->after, ok);
  to->ids = op->n_ids
                ? sg__arena_memdup(a, op->ids, op->n_ids * sizeof *op->ids, ok)
                : NULL;
  if (op->kind != SG_STORE_CAMPAIGN_CREATE) {
    memset(&to->in, 0, sizeof to->in);
    return;
  }
  sg_store_campaign_in_t *in = &to->in;
  in->id = sg__arena_strdup(a, op->in.id, ok);
  in->name = sg__arena_strdup(a, op->in.name, ok);
  in->body = sg__arena_strdup(a, op->in.body, ok);
  in->sender = sg__arena_strdup(a, op->in.sender, ok);
  in->callback_url = sg__arena_strdup(a, op->in.callback_url, ok);
  in->lists = sg__arena_memdup(a, op->in.lists,
                               op->in.n_lists * sizeof *op->in.lists, ok);
}

static unsigned default_limit(sg_store_campop_kind_t k) {
  switch (k) {
  case SG_STORE_CAMPAIGN_EXPAND:
    return 5000;
  case SG_STORE_CAMPAIGN_CANCEL_STEP:
    return 500;
  case SG_STORE_CAMPAIGN_ACTIVE:
    return SG_STORE_CAMPAIGN_PAGE_MAX;
  default:
    return 50;
  }
}

int sg_store_campaigns(sg_store_t *st, const sg_store_campop_t *op,
                       sg_store_campres_cb cb, void *data) {
  if (op == NULL || !op_ok(op))
    return SG_EINVAL;
  bool write = op->kind < SG_STORE_CAMPOP_FIRST_READ;
  sg__store_req_t *r;
  void *m = NULL;
  int rc = sg__store_req_begin(
      st, write ? SG__REQ_CAMPAIGN_WRITE : SG__REQ_CAMPAIGN_READ,
      (sg__any_cb)cb, data, sizeof(sg__campaigns_req_t), &r, &m);
  if (rc < 0)
    return rc;
  sg__campaigns_req_t *q = m;
  r->in.campaigns = q;
  bool ok = true;
  copy_op(&r->arena, &q->op, op, &ok);
  if (q->op.limit == 0)
    q->op.limit = default_limit(op->kind);
  return sg__store_req_queue(st, r, ok);
}

void sg__campaigns_complete(sg_store_t *st, sg__store_req_t *r) {
  sg__campaigns_req_t *q = r->in.campaigns;
  bool res = r->status == 0 ||
             (r->status == SG_ENOENT && q->op.kind == SG_STORE_CAMPAIGN_CREATE);
  ((sg_store_campres_cb)r->cb)(st, r->status, res ? &q->res : NULL, r->data);
}
