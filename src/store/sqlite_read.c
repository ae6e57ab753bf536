/* sqlite_read.c - the read requests of the SQLite store, run by a reader
 * thread on its own read-only connection, each in one read transaction so
 * that a message, its parts and its events come from the same snapshot.
 *
 * Results are copied into the request's arena before the statement is
 * reset. This file must never write to the database nor touch the loop.
 */
#include <stdio.h>
#include <string.h>

#include "core/error.h"
#include "store/sqlite_int.h"

/* Reads the SG__SQ_MSG_COLS of the current row into m. */
static void read_message(sg__arena_t *a, sqlite3_stmt *s, sg_store_message_t *m,
                         bool *ok) {
  const char *id = (const char *)sqlite3_column_text(s, 0);
  const char *batch = (const char *)sqlite3_column_text(s, 1);
  snprintf(m->id, sizeof m->id, "%s", id ? id : "");
  snprintf(m->batch_id, sizeof m->batch_id, "%s", batch ? batch : "");
  m->account_id = sqlite3_column_int64(s, 2);
  m->sender = sg__sq_col_text(a, s, 3, ok);
  m->recipient = sg__sq_col_text(a, s, 4, ok);
  m->encoding = (sg_encoding_t)sqlite3_column_int(s, 5);
  m->binary = sqlite3_column_int(s, 6) != 0;
  m->body = sg__sq_col_blob(a, s, 7, &m->body_len, ok);
  m->validity_ms = sqlite3_column_int64(s, 8);
  m->send_at_ms = sqlite3_column_int64(s, 9);
  m->callback_url = sg__sq_col_text(a, s, 10, ok);
  m->client_ref = sg__sq_col_text(a, s, 11, ok);
  m->priority = (uint8_t)sqlite3_column_int(s, 12);
  m->dlr_wanted = sqlite3_column_int(s, 13) != 0;
  m->status = sg__sq_col_status(s, 14);
  m->error_code = sqlite3_column_int(s, 15);
  m->parts_total = (unsigned)sqlite3_column_int(s, 16);
  m->created_ms = sqlite3_column_int64(s, 17);
  m->updated_ms = sqlite3_column_int64(s, 18);
}

/* Grows a result array in the arena from 8 items (doubling: old copies are
 * left in the arena, which is freed as a whole). */
static void *grow(sg__arena_t *a, void *arr, size_t n, size_t *cap,
                  size_t size) {
  return sg__arena_grow(a, arr, n, cap, 8, size);
}

/* The 'sent' event of a message of one part that its part carries instead
 * of a row (migration 0031): the part's and its message's, folded. */
typedef struct sent_mark {
  bool on;
  int64_t after; /* the newest event's id when it was written */
  unsigned seq;
  int64_t time_ms;
  const char *detail; /* the operator's id */
} sent_mark_t;

/* Reads the parts of r's message; *taken: one of them has taken_event (its
 * message's 'sending' event), *sent: the 'sent' mark (see read_events). */
static int read_parts(sg__sq_conn_t *c, sg__store_req_t *r, bool *taken,
                      sent_mark_t *sent) {
  sg_store_message_t *m = &r->out.message;
  sqlite3_stmt *s = sg__sq_stmt(c, SG__Q_R_PARTS);
  if (s == NULL)
    return SG_EIO;
  sg__sq_bind_text(s, 1, m->id);
  sg_store_part_t *parts = NULL;
  size_t n = 0, cap = 0;
  bool ok = true;
  int rc;
  while (ok && (rc = sqlite3_step(s)) == SQLITE_ROW) {
    if ((parts = grow(&r->arena, parts, n, &cap, sizeof *parts)) == NULL)
      break;
    sg_store_part_t *p = &parts[n++];
    p->part_id = sqlite3_column_int64(s, 0);
    p->seq = (unsigned)sqlite3_column_int(s, 1);
    p->connector = sg__sq_col_text(&r->arena, s, 2, &ok);
    p->status = sg__sq_col_status(s, 3);
    p->smsc_id = sg__sq_col_text(&r->arena, s, 4, &ok);
    p->error_code = sqlite3_column_int(s, 5);
    p->error = sg__sq_col_text(&r->arena, s, 6, &ok);
    p->attempts = (unsigned)sqlite3_column_int(s, 7);
    p->next_attempt_ms = sqlite3_column_int64(s, 8);
    p->updated_ms = sqlite3_column_int64(s, 9);
    *taken = *taken || sqlite3_column_int(s, 10) != 0;
    if (sqlite3_column_type(s, 11) != SQLITE_NULL && !sent->on)
      *sent = (sent_mark_t){.on = true,
                            .after = sqlite3_column_int64(s, 11),
                            .seq = p->seq,
                            .time_ms = sqlite3_column_int64(s, 12),
                            .detail = sg__sq_col_text(&r->arena, s, 13, &ok)};
  }
  sqlite3_reset(s);
  m->parts = parts;
  m->n_parts = n;
  if (!ok || (parts == NULL && rc == SQLITE_ROW))
    return SG_ENOMEM;
  return rc == SQLITE_DONE ? 0 : SG_EIO;
}

/* Appends the two events of mark x to ev[0..*n): NULL when out of memory. */
static sg_store_event_t *add_sent(sg__arena_t *a, sg_store_event_t *ev,
                                  size_t *n, size_t *cap,
                                  const sent_mark_t *x) {
  for (int i = 0; i < 2; i++) {
    if ((ev = grow(a, ev, *n, cap, sizeof *ev)) == NULL)
      return NULL;
    ev[(*n)++] = (sg_store_event_t){.part_seq = i == 0 ? x->seq : 0,
                                    .status = SG_MSG_SENT,
                                    .detail = i == 0 ? x->detail : NULL,
                                    .time_ms = x->time_ms};
  }
  return ev;
}

/* A message inserted 'queued' has no row for that first event
 * (sqlite_write.c, insert_message): its message row says it, and the list
 * shows it first, with id 0. A message stored before that change, or
 * inserted 'scheduled', has it as its first row: a message event of its
 * own (no part's event folded in) at the message's creation. No later
 * change writes such a row first: the first change of a queued message
 * moves it to another status. */
static bool first_event_has_row(const sg_store_event_t *e, int64_t created) {
  return e->part_seq == 0 && e->time_ms == created &&
         (e->status == SG_MSG_QUEUED || e->status == SG_MSG_SCHEDULED);
}

/* A message whose parts were all taken by waiting claims at its submit
 * went 'sending' in the same transaction, at its creation, with no part's
 * event and no detail; unless a webhook referred to it, that event has no
 * row and its last part says so (taken_event, migration 0030): the list
 * shows it second, after the first 'queued', with id 0 as well. Such a
 * message never has a first row of its own (it was inserted 'queued').
 * The 'sent' of a message of one part that no delivery referred to is the
 * mark `sent` on its part: the part's event and the message's, both with
 * id 0, after the rows up to the id it notes and before the later ones, as
 * its row would have been. */
static int read_events(sg__sq_conn_t *c, sg__store_req_t *r, bool taken,
                       const sent_mark_t *sent) {
  sg_store_message_t *m = &r->out.message;
  sqlite3_stmt *s = sg__sq_stmt(c, SG__Q_R_EVENTS);
  if (s == NULL)
    return SG_EIO;
  sg__sq_bind_text(s, 1, m->id);
  size_t n = 0, cap = 0;
  sg_store_event_t *ev = grow(&r->arena, NULL, n, &cap, sizeof *ev);
  if (ev == NULL)
    return SG_ENOMEM;
  ev[n++] =
      (sg_store_event_t){.status = SG_MSG_QUEUED, .time_ms = m->created_ms};
  if (taken && (ev = grow(&r->arena, ev, n, &cap, sizeof *ev)) == NULL)
    return SG_ENOMEM;
  if (taken)
    ev[n++] =
        (sg_store_event_t){.status = SG_MSG_SENDING, .time_ms = m->created_ms};
  bool ok = true;
  bool sent_due = sent->on;
  int rc;
  while (ok && (rc = sqlite3_step(s)) == SQLITE_ROW) {
    if (sent_due && sqlite3_column_int64(s, 0) > sent->after) {
      if ((ev = add_sent(&r->arena, ev, &n, &cap, sent)) == NULL)
        break;
      sent_due = false;
    }
    /* A message event's row may carry the event of the part that caused
     * it (migration 0026): that one comes first, with the row's id. */
    bool fold = sqlite3_column_type(s, 6) != SQLITE_NULL;
    if (fold && (ev = grow(&r->arena, ev, n, &cap, sizeof *ev)) == NULL)
      break;
    if (fold) {
      sg_store_event_t *e = &ev[n++];
      e->id = sqlite3_column_int64(s, 0);
      e->part_seq = (unsigned)sqlite3_column_int(s, 6);
      e->status = sg__sq_col_status(s, 2);
      e->error_code = sqlite3_column_int(s, 7);
      e->detail = sg__sq_col_text(&r->arena, s, 8, &ok);
      e->time_ms = sqlite3_column_type(s, 9) != SQLITE_NULL
                       ? sqlite3_column_int64(s, 9)
                       : sqlite3_column_int64(s, 5);
    }
    if ((ev = grow(&r->arena, ev, n, &cap, sizeof *ev)) == NULL)
      break;
    sg_store_event_t *e = &ev[n++];
    e->id = sqlite3_column_int64(s, 0);
    e->part_seq = (unsigned)sqlite3_column_int(s, 1);
    e->status = sg__sq_col_status(s, 2);
    e->error_code = sqlite3_column_int(s, 3);
    e->detail = sg__sq_col_text(&r->arena, s, 4, &ok);
    e->time_ms = sqlite3_column_int64(s, 5);
  }
  sqlite3_reset(s);
  if (ok && ev != NULL && sent_due)
    ev = add_sent(&r->arena, ev, &n, &cap, sent);
  if (!ok || ev == NULL)
    return SG_ENOMEM;
  bool row = !taken && n > 1 && first_event_has_row(&ev[1], m->created_ms);
  m->events = row ? ev + 1 : ev;
  m->n_events = row ? n - 1 : n;
  return rc == SQLITE_DONE ? 0 : SG_EIO;
}

static int get_message(sg__sq_conn_t *c, sg__store_req_t *r) {
  sqlite3_stmt *s = sg__sq_stmt(c, SG__Q_R_MESSAGE);
  if (s == NULL)
    return SG_EIO;
  sg__sq_bind_text(s, 1, r->in.msg.id);
  int rc = sqlite3_step(s);
  bool ok = true;
  if (rc == SQLITE_ROW)
    read_message(&r->arena, s, &r->out.message, &ok);
  sqlite3_reset(s);
  if (rc != SQLITE_ROW)
    return rc == SQLITE_DONE ? SG_ENOENT : SG_EIO;
  if (!ok)
    return SG_ENOMEM;
  if (r->in.msg.account_id != 0 &&
      r->out.message.account_id != r->in.msg.account_id)
    return SG_ENOENT;
  bool taken = false;
  sent_mark_t sent = {0};
  rc = read_parts(c, r, &taken, &sent);
  return rc < 0 ? rc : read_events(c, r, taken, &sent);
}

/* ---- lists --------------------------------------------------------------- */

enum {
  F_ACCOUNT = 1,
  F_STATUS = 2,
  F_RECIPIENT = 4,
  F_BATCH = 8,
  F_CURSOR = 16,
  F_FROM = 32,
  F_TO = 64
};

/* The conditions of a list other than its batch, for statement mask. */
static void list_where(char *buf, size_t size, unsigned mask) {
  snprintf(buf, size, "%s%s%s%s%s%s",
           mask & F_ACCOUNT ? " AND account_id = ?1" : "",
           mask & F_STATUS ? " AND " SG__SQ_MSG_STATUS " = ?2" : "",
           mask & F_RECIPIENT ? " AND recipient = ?3" : "",
           mask & F_CURSOR ? " AND id < ?5" : "",
           mask & F_FROM ? " AND created_ms >= ?6" : "",
           mask & F_TO ? " AND created_ms < ?7" : "");
}

/* The statement of one filter combination; parameters are numbered the
 * same in all of them (?1 account .. ?7 to, ?8 limit).
 *
 * A batch's messages are two sets (migration 0029): those whose batch id
 * is not their own id, in messages_batch, and at most one whose id is the
 * batch id (a batch of one is named by its message), found by the key.
 * The two arms are merged in id order, so a page reads no more of the
 * index than it shows. */
static sqlite3_stmt *list_stmt(sg__sq_conn_t *c, unsigned mask) {
  if (c->list[mask] != NULL) {
    sqlite3_reset(c->list[mask]);
    sqlite3_clear_bindings(c->list[mask]);
    return c->list[mask];
  }
  char where[1024], sql[8192];
  list_where(where, sizeof where, mask);
  if (mask & F_BATCH)
    snprintf(sql, sizeof sql,
             "SELECT " SG__SQ_MSG_COLS " FROM messages INDEXED BY "
             "messages_batch WHERE batch_id = ?4 AND batch_id <> id%s "
             "UNION ALL SELECT " SG__SQ_MSG_COLS " FROM messages WHERE id = "
             "?4 AND batch_id = ?4%s ORDER BY 1 DESC LIMIT ?8",
             where, where);
  else /* a recipient narrows most: say so, since the planner has no
        * statistics to tell it */
    snprintf(sql, sizeof sql,
             "SELECT " SG__SQ_MSG_COLS " FROM messages%s WHERE 1%s ORDER BY "
             "id DESC LIMIT ?8",
             mask & F_RECIPIENT ? " INDEXED BY messages_recipient" : "", where);
  c->list[mask] = sg__sq_prepare(c, sql);
  return c->list[mask];
}

static unsigned filter_mask(const sg_store_filter_t *f) {
  return (f->account_id ? F_ACCOUNT : 0) | (f->status ? F_STATUS : 0) |
         (f->recipient ? F_RECIPIENT : 0) | (f->batch_id ? F_BATCH : 0) |
         (f->cursor ? F_CURSOR : 0) | (f->from_ms ? F_FROM : 0) |
         (f->to_ms ? F_TO : 0);
}

static void bind_filter(sqlite3_stmt *s, const sg_store_filter_t *f) {
  if (f->account_id)
    sqlite3_bind_int64(s, 1, f->account_id);
  if (f->status)
    sg__sq_bind_text(s, 2, sg_store_status_name(f->status));
  sg__sq_bind_text(s, 3, f->recipient);
  sg__sq_bind_text(s, 4, f->batch_id);
  sg__sq_bind_text(s, 5, f->cursor);
  sqlite3_bind_int64(s, 6, f->from_ms);
  sqlite3_bind_int64(s, 7, f->to_ms);
  /* One more than asked: whether it comes tells if there is a next page. */
  sqlite3_bind_int(s, 8, (int)f->limit + 1);
}

static int list_messages(sg__sq_conn_t *c, sg__store_req_t *r) {
  const sg_store_filter_t *f = &r->in.filter;
  sg_store_list_res_t *res = &r->out.list;
  sqlite3_stmt *s = list_stmt(c, filter_mask(f));
  sg_store_message_t *msgs =
      sg__arena_alloc(&r->arena, f->limit * sizeof *msgs);
  if (s == NULL || msgs == NULL)
    return s == NULL ? SG_EIO : SG_ENOMEM;
  bind_filter(s, f);
  bool ok = true, more = false;
  size_t n = 0;
  int rc;
  while (ok && (rc = sqlite3_step(s)) == SQLITE_ROW) {
    if (n == f->limit) {
      more = true;
      rc = SQLITE_DONE;
      break;
    }
    read_message(&r->arena, s, &msgs[n++], &ok);
  }
  sqlite3_reset(s);
  res->msgs = msgs;
  res->n = n;
  if (more)
    memcpy(res->next_cursor, msgs[n - 1].id, sizeof res->next_cursor);
  if (!ok)
    return SG_ENOMEM;
  return rc == SQLITE_DONE ? 0 : SG_EIO;
}

static sqlite3_stmt *inbound_stmt(sg__sq_conn_t *c, unsigned mask) {
  if (c->inbound[mask] != NULL) {
    sqlite3_reset(c->inbound[mask]);
    sqlite3_clear_bindings(c->inbound[mask]);
    return c->inbound[mask];
  }
  char sql[400];
  snprintf(sql, sizeof sql,
           "SELECT " SG__SQ_INBOUND_COLS " FROM inbound WHERE 1%s%s ORDER "
           "BY id DESC LIMIT ?3",
           mask & 1 ? " AND account_id = ?1" : "",
           mask & 2 ? " AND id < ?2" : "");
  c->inbound[mask] = sg__sq_prepare(c, sql);
  return c->inbound[mask];
}

static void read_inbound(sg__arena_t *a, sqlite3_stmt *s, sg_store_inbound_t *m,
                         bool *ok) {
  const char *id = (const char *)sqlite3_column_text(s, 0);
  snprintf(m->id, sizeof m->id, "%s", id ? id : "");
  m->account_id = sqlite3_column_int64(s, 1);
  m->connector = sg__sq_col_text(a, s, 2, ok);
  m->sender = sg__sq_col_text(a, s, 3, ok);
  m->recipient = sg__sq_col_text(a, s, 4, ok);
  m->encoding = (sg_encoding_t)sqlite3_column_int(s, 5);
  m->binary = sqlite3_column_int(s, 6) != 0;
  m->body = sg__sq_col_blob(a, s, 7, &m->body_len, ok);
  m->parts = (unsigned)sqlite3_column_int(s, 8);
  m->received_ms = sqlite3_column_int64(s, 9);
  m->created_ms = sqlite3_column_int64(s, 10);
}

static int list_inbound(sg__sq_conn_t *c, sg__store_req_t *r) {
  unsigned limit = r->in.inbound_list.limit;
  bool has_cursor = r->in.inbound_list.cursor[0] != '\0';
  sqlite3_stmt *s = inbound_stmt(c, (r->in.inbound_list.account_id ? 1u : 0u) |
                                        (has_cursor ? 2u : 0u));
  sg_store_inbound_t *msgs = sg__arena_alloc(&r->arena, limit * sizeof *msgs);
  if (s == NULL || msgs == NULL)
    return s == NULL ? SG_EIO : SG_ENOMEM;
  if (r->in.inbound_list.account_id)
    sqlite3_bind_int64(s, 1, r->in.inbound_list.account_id);
  if (has_cursor)
    sg__sq_bind_text(s, 2, r->in.inbound_list.cursor);
  sqlite3_bind_int(s, 3, (int)limit + 1);
  bool ok = true, more = false;
  size_t n = 0;
  int rc;
  while (ok && (rc = sqlite3_step(s)) == SQLITE_ROW) {
    if (n == limit) {
      more = true;
      rc = SQLITE_DONE;
      break;
    }
    read_inbound(&r->arena, s, &msgs[n++], &ok);
  }
  sqlite3_reset(s);
  r->out.inbound.msgs = msgs;
  r->out.inbound.n = n;
  if (more)
    memcpy(r->out.inbound.next_cursor, msgs[n - 1].id, SG_ID_LEN + 1);
  if (!ok)
    return SG_ENOMEM;
  return rc == SQLITE_DONE ? 0 : SG_EIO;
}

/* ---- counts, accounts ---------------------------------------------------- */

static int counts(sg__sq_conn_t *c, sg__store_req_t *r) {
  sg_store_counts_t *k = &r->out.counts;
  /* Messages, parts and inbound: the writer's counts at its last commit
   * (sqlite_counts.c), not a scan of their tables. */
  sg__sq_counts_copy(sg__sq_counts_of(c->st), k);
  sqlite3_stmt *s = sg__sq_stmt(c, SG__Q_R_COUNT_WH);
  if (s == NULL)
    return SG_EIO;
  int rc;
  /* One row: pending, sending, failed (each over its partial index). */
  if ((rc = sqlite3_step(s)) == SQLITE_ROW) {
    k->webhooks_pending = (uint64_t)sqlite3_column_int64(s, 0) +
                          (uint64_t)sqlite3_column_int64(s, 1) +
                          sg__sq_wh_held(c->st); /* and those in memory */
    k->webhooks_failed = (uint64_t)sqlite3_column_int64(s, 2);
  }
  sqlite3_reset(s);
  return rc == SQLITE_ROW ? 0 : SG_EIO;
}

static int find_account(sg__sq_conn_t *c, sg__store_req_t *r) {
  bool by_key = r->kind == SG__REQ_APIKEY_LOOKUP;
  sqlite3_stmt *s = sg__sq_stmt(c, by_key ? SG__Q_R_APIKEY : SG__Q_R_ACCOUNT);
  if (s == NULL)
    return SG_EIO;
  if (by_key)
    sg__sq_bind_blob(s, 1, r->in.apikey.hash, SG_STORE_KEY_HASH_BYTES);
  else
    sg__sq_bind_text(s, 1, r->in.name);
  int rc = sqlite3_step(s);
  bool ok = true;
  sg_store_account_t *a = &r->out.account;
  if (rc == SQLITE_ROW) {
    a->id = sqlite3_column_int64(s, 0);
    a->name = sg__sq_col_text(&r->arena, s, 1, &ok);
    a->password_hash = sg__sq_col_text(&r->arena, s, 2, &ok);
    a->webhook_url = sg__sq_col_text(&r->arena, s, 3, &ok);
    a->disabled = sqlite3_column_int(s, 4) != 0;
    a->created_ms = sqlite3_column_int64(s, 5);
    a->key_id = sqlite3_column_int64(s, 6);
  }
  sqlite3_reset(s);
  if (rc != SQLITE_ROW)
    return rc == SQLITE_DONE ? SG_ENOENT : SG_EIO;
  return ok ? 0 : SG_ENOMEM;
}

/* A connector's parts still waiting for a receipt, by smsc_id. */
static int waiting_parts(sg__sq_conn_t *c, sg__store_req_t *r) {
  sqlite3_stmt *s = sg__sq_stmt(c, SG__Q_R_WAITING_PARTS);
  const char **ids =
      sg__arena_alloc(&r->arena, r->in.waiting.max * sizeof *ids);
  if (s == NULL || ids == NULL)
    return s == NULL ? SG_EIO : SG_ENOMEM;
  sg__sq_bind_text(s, 1, r->in.waiting.connector);
  sqlite3_bind_int64(s, 2, r->in.waiting.since_ms);
  sqlite3_bind_int64(s, 3, r->in.waiting.max);
  size_t n = 0;
  bool ok = true;
  int rc;
  while ((rc = sqlite3_step(s)) == SQLITE_ROW && n < r->in.waiting.max)
    ids[n++] = sg__sq_col_text(&r->arena, s, 0, &ok);
  sqlite3_reset(s);
  r->out.ids.ids = ids;
  r->out.ids.n = n;
  if (!ok)
    return SG_ENOMEM;
  return rc == SQLITE_DONE || rc == SQLITE_ROW ? 0 : SG_EIO;
}

static int dispatch(sg__sq_conn_t *c, sg__store_req_t *r) {
  switch (r->kind) {
  case SG__REQ_GET_MESSAGE:
    return get_message(c, r);
  case SG__REQ_LIST_MESSAGES:
    return list_messages(c, r);
  case SG__REQ_COUNTS:
    return counts(c, r);
  case SG__REQ_INBOUND_LIST:
    return list_inbound(c, r);
  case SG__REQ_APIKEY_LOOKUP:
  case SG__REQ_ACCOUNT_BY_NAME:
    return find_account(c, r);
  case SG__REQ_MO_READ:
    return sg__sq_mo_read(c, r);
  case SG__REQ_ADMIN_READ:
    return sg__sq_admin_read(c, r);
  case SG__REQ_LIMITS_READ:
    return sg__sq_limits_read(c, r);
  case SG__REQ_SETTING_GET:
    return sg__sq_setting_get(c, r);
  case SG__REQ_INR_READ:
    return sg__sq_inr_read(c, r);
  case SG__REQ_CONTACTS_READ:
    return sg__sq_contacts_read(c, r);
  case SG__REQ_CAMPAIGN_READ:
    return sg__sq_campaigns_read(c, r);
  case SG__REQ_WAITING_PARTS:
    return waiting_parts(c, r);
  case SG__REQ_OPS_READ:
    return sg__sq_ops_read(c, r);
  case SG__REQ_TRAFFIC_READ:
    return sg__sq_traffic_read(c, r);
  default:
    return SG_EINVAL;
  }
}

int sg__sq_run_read(sg__sq_conn_t *c, sg__store_req_t *r) {
  if (sg__sq_exec(c, SG__Q_BEGIN_READ) != SQLITE_OK)
    return SG_EIO;
  int rc = dispatch(c, r);
  /* A read transaction has nothing to keep: end it either way. */
  if (sg__sq_exec(c, SG__Q_COMMIT) != SQLITE_OK)
    sg__sq_exec(c, SG__Q_ROLLBACK);
  return rc;
}
