/* sqlite_campcount.c - a campaign's progress counters (n_queued, n_sent,
 * n_delivered, n_failed, n_canceled of store/campaigns.h) kept by the
 * writer as its messages are stored and change status. A message belongs to
 * a campaign when its batch_id is the campaign's id.
 *
 * The counters used to be kept by triggers on messages; SQLite runs a
 * trigger as a sub-program on every insert and status update, campaign or
 * not (about 10,000 instructions each, a third of a status change), so the
 * writer does it here instead, and only when a counter moves. It runs on
 * the writer thread inside the group's transaction and must never begin or
 * end one.
 *
 * Every message has a batch id, so without campaigns each insert and status
 * change would still look one up in vain (an UPDATE that finds no row).
 * The writer's connection knows whether the table has a row
 * (c->campaigns): looked at when the store opens and once per transaction
 * until one is seen, and set by the insert of a campaign
 * (sqlite_campaigns.c).
 */
#include "core/error.h"
#include "store/sqlite_int.h"

typedef enum bucket {
  B_NONE = 0,
  B_QUEUED,
  B_SENT,
  B_DELIVERED,
  B_FAILED,
  B_CANCELED,
  B_COUNT
} bucket_t;

/* The counter a message in status st counts in. */
static bucket_t bucket_of(sg_msg_status_t st) {
  switch (st) {
  case SG_MSG_SCHEDULED:
  case SG_MSG_QUEUED:
  case SG_MSG_SENDING:
    return B_QUEUED;
  case SG_MSG_SENT:
    return B_SENT;
  case SG_MSG_DELIVERED:
    return B_DELIVERED;
  case SG_MSG_UNDELIVERABLE:
  case SG_MSG_EXPIRED:
  case SG_MSG_REJECTED:
  case SG_MSG_FAILED:
    return B_FAILED;
  case SG_MSG_CANCELED:
    return B_CANCELED;
  case SG_MSG_NONE:
  default:
    return B_NONE;
  }
}

int sg__sq_campaigns_probe(sg__sq_conn_t *c) {
  return sg__sq_probe_once(c, SG__Q_CAMPAIGN_ANY, &c->campaigns);
}

int sg__sq_campaign_count(sg__sq_conn_t *c, const char *batch_id,
                          sg_msg_status_t before, sg_msg_status_t after) {
  bucket_t from = bucket_of(before), to = bucket_of(after);
  if (from == to || batch_id == NULL || !c->campaigns)
    return 0;
  sqlite3_stmt *s = sg__sq_stmt(c, SG__Q_CAMPAIGN_COUNT);
  if (s == NULL)
    return SG_EIO;
  sg__sq_bind_text(s, 1, batch_id);
  for (unsigned b = B_QUEUED; b < B_COUNT; b++)
    sqlite3_bind_int(s, (int)(2 + b - B_QUEUED),
                     (b == (unsigned)to) - (b == (unsigned)from));
  return sg__sq_err(sg__sq_step_done(s));
}
