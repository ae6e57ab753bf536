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
 * Every message has a batch id, and an UPDATE of campaigns by it on every
 * insert and status change cost a primary-key probe (about 3,500
 * instructions) even for the messages of no campaign, and one UPDATE a
 * status change for a campaign's own. So the writer holds the ids of the
 * campaigns table in memory (a hash set: a batch that is no campaign costs
 * a look-up and nothing else), adds the moves of a group up per campaign,
 * and writes one UPDATE a campaign touched before the COMMIT (and before a
 * campaign request of the group, which reads or tests the counters: they
 * read what they read before). A rollback forgets the moves. The ids are
 * read when the store opens, and again at the start of a transaction when
 * another connection committed since the last look (PRAGMA data_version:
 * the CLI or another process on the same file); the insert of a campaign
 * by this connection adds its id. Campaigns are never deleted; an id of a
 * campaign whose insert was rolled back stays in the set and costs an
 * UPDATE that finds no row.
 */
#include <stdlib.h>
#include <string.h>

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

#define CC_SLOTS 16 /* campaigns with moves in the open group */

typedef struct sg__sq_cc {
  int64_t data_version; /* of the last look at the table */
  bool loaded;
  size_t n, cap; /* ids held; slots (a power of two, or 0) */
  char **ids;    /* open addressing; NULL: empty */
  unsigned n_moves;
  struct {
    const char *id; /* one of ids[] */
    int32_t d[B_COUNT - B_QUEUED];
  } moves[CC_SLOTS];
} sq_cc_t;

static size_t hash_of(const char *id) {
  uint64_t h = 1469598103934665603ull; /* FNV-1a */
  for (const unsigned char *p = (const unsigned char *)id; *p != 0; p++)
    h = (h ^ *p) * 1099511628211ull;
  return (size_t)(h ^ (h >> 29));
}

static const char *find(const sq_cc_t *k, const char *id) {
  if (k->n == 0)
    return NULL;
  for (size_t i = hash_of(id) & (k->cap - 1);; i = (i + 1) & (k->cap - 1)) {
    if (k->ids[i] == NULL)
      return NULL;
    if (strcmp(k->ids[i], id) == 0)
      return k->ids[i];
  }
}

static void put(sq_cc_t *k, char *id) {
  size_t i = hash_of(id) & (k->cap - 1);
  while (k->ids[i] != NULL)
    i = (i + 1) & (k->cap - 1);
  k->ids[i] = id;
  k->n++;
}

static int add(sq_cc_t *k, const char *id) {
  if (find(k, id) != NULL)
    return 0;
  if (2 * (k->n + 1) > k->cap) { /* at most half full */
    size_t cap = k->cap == 0 ? 64 : 2 * k->cap;
    char **ids = calloc(cap, sizeof *ids), **old = k->ids;
    if (ids == NULL)
      return SG_ENOMEM;
    size_t old_cap = k->cap;
    k->ids = ids;
    k->cap = cap;
    k->n = 0;
    for (size_t i = 0; i < old_cap; i++)
      if (old[i] != NULL)
        put(k, old[i]);
    free(old);
  }
  char *copy = strdup(id);
  if (copy == NULL)
    return SG_ENOMEM;
  put(k, copy);
  return 0;
}

static void clear(sq_cc_t *k) {
  for (size_t i = 0; i < k->cap; i++)
    free(k->ids[i]);
  free(k->ids);
  k->ids = NULL;
  k->n = k->cap = 0;
  k->n_moves = 0;
}

static sq_cc_t *cc_of(sg__sq_conn_t *c) {
  if (c->cc == NULL)
    c->cc = calloc(1, sizeof *c->cc);
  return c->cc;
}

/* Reads every id of the table into the set. */
static int load(sg__sq_conn_t *c, sq_cc_t *k) {
  clear(k);
  c->campaigns = false;
  sqlite3_stmt *s = sg__sq_stmt(c, SG__Q_CAMPAIGN_IDS);
  if (s == NULL)
    return SG_EIO;
  int rc, err = 0;
  while (err == 0 && (rc = sqlite3_step(s)) == SQLITE_ROW) {
    const char *id = (const char *)sqlite3_column_text(s, 0);
    err = id == NULL ? 0 : add(k, id) < 0 ? SG_EIO : 0;
  }
  sqlite3_reset(s);
  if (err == 0 && rc != SQLITE_DONE)
    err = SG_EIO;
  c->campaigns = k->n > 0;
  return err;
}

int sg__sq_campaigns_probe(sg__sq_conn_t *c) {
  sq_cc_t *k = cc_of(c);
  if (k == NULL)
    return SG_EIO;
  sqlite3_stmt *s = sg__sq_stmt(c, SG__Q_DATA_VERSION);
  if (s == NULL)
    return SG_EIO;
  int rc = sqlite3_step(s);
  int64_t v = sqlite3_column_int64(s, 0);
  sqlite3_reset(s);
  if (rc != SQLITE_ROW)
    return SG_EIO;
  if (k->loaded && v == k->data_version)
    return 0;
  k->loaded = false;
  if (load(c, k) < 0)
    return SG_EIO;
  k->data_version = v;
  k->loaded = true;
  return 0;
}

int sg__sq_campaign_known(sg__sq_conn_t *c, const char *id) {
  sq_cc_t *k = cc_of(c);
  if (k == NULL || add(k, id) < 0)
    return SG_ENOMEM;
  c->campaigns = true;
  return 0;
}

int sg__sq_campaign_count(sg__sq_conn_t *c, const char *batch_id,
                          sg_msg_status_t before, sg_msg_status_t after) {
  bucket_t from = bucket_of(before), to = bucket_of(after);
  if (from == to || batch_id == NULL || !c->campaigns)
    return 0;
  sq_cc_t *k = c->cc;
  const char *id = find(k, batch_id);
  if (id == NULL)
    return 0; /* no campaign's */
  unsigned i = 0;
  while (i < k->n_moves && k->moves[i].id != id)
    i++;
  if (i == k->n_moves) {
    if (k->n_moves == CC_SLOTS) {
      int rc = sg__sq_campaign_flush(c); /* still inside the transaction */
      if (rc < 0)
        return rc;
      i = 0;
    }
    memset(&k->moves[i], 0, sizeof k->moves[i]);
    k->moves[i].id = id;
    k->n_moves = i + 1;
  }
  if (from != B_NONE)
    k->moves[i].d[from - B_QUEUED]--;
  if (to != B_NONE)
    k->moves[i].d[to - B_QUEUED]++;
  return 0;
}

int sg__sq_campaign_flush(sg__sq_conn_t *c) {
  sq_cc_t *k = c->cc;
  if (k == NULL)
    return 0;
  int rc = 0;
  for (unsigned i = 0; rc == 0 && i < k->n_moves; i++) {
    bool any = false;
    for (unsigned b = 0; b < B_COUNT - B_QUEUED; b++)
      any = any || k->moves[i].d[b] != 0;
    if (!any)
      continue;
    sqlite3_stmt *s = sg__sq_stmt(c, SG__Q_CAMPAIGN_COUNT);
    if (s == NULL)
      return SG_EIO;
    sg__sq_bind_text(s, 1, k->moves[i].id);
    for (unsigned b = 0; b < B_COUNT - B_QUEUED; b++)
      sqlite3_bind_int(s, (int)(2 + b), k->moves[i].d[b]);
    rc = sg__sq_err(sg__sq_step_done(s));
  }
  k->n_moves = 0;
  return rc;
}

void sg__sq_campaign_discard(sg__sq_conn_t *c) {
  if (c->cc != NULL)
    c->cc->n_moves = 0;
}

void sg__sq_campaigns_close(sg__sq_conn_t *c) {
  if (c->cc != NULL)
    clear(c->cc);
  free(c->cc);
  c->cc = NULL;
}
