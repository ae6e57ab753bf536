/* sqlite_write.c - the write requests of the SQLite store, each run by the
 * writer thread inside the group's transaction (sqlite.c).
 *
 * Every change of a part goes with its event, the status of its message is
 * derived again (sg_store_status_derive), and a changed message status gets
 * its own event and, when asked for, its webhook, all in the same
 * transaction. A request returns a request-level error (SG_EEXIST,
 * SG_ENOENT, SG_ESTATE, SG_ENOMEM), whose rows the writer undoes (it runs
 * the group again without the request), or SG_EIO, which fails the whole
 * transaction. This file must never begin or end a transaction nor touch
 * the loop.
 */
#include <stdio.h>
#include <string.h>

#include "core/error.h"
#include "store/sqlite_int.h"
#include "store/sqlite_mcache.h"
#include "store/sqlite_pair.h"
#include "store/sqlite_settle.h"
#include "store/sqlite_whq.h"

#define PASS_MAX 1000 /* rows per release / expire / requeue pass */

/* The event of a part's change, which rederive writes: in the row of the
 * message event the change causes when the message takes the same status
 * (migration 0026), else in a row of its own before it. */
typedef struct part_ev {
  unsigned seq;
  sg_msg_status_t status;
  int32_t error_code;
  const char *detail;
  int64_t time_ms;
} part_ev_t;

/* Why a message status is being derived again. */
typedef struct cause {
  unsigned seq; /* the part that changed, 0 for the message */
  int32_t error_code;
  const char *detail;
  int64_t event_ms; /* time of the part's event when not now (receipts) */
  /* The changed part's status before the change, SG_MSG_NONE when the
   * caller does not know it (then it was not one a part carries for its
   * message: only the changes that set `on_part` make a part so). */
  sg_msg_status_t part_from;
  /* The change came from the part: a claim ('sending'), a SENT result
   * ('sent'), a receipt or a FAILED result (a final status). */
  bool on_part;
  const part_ev_t *ev; /* the changed part's event, NULL: none to write */
  /* The message's event is a mark on its part, not a row (set_msg_status):
   * its 'sending' when waiting claims took its parts at their submit
   * (migration 0030), or its 'sent' with the part's when the SENT result
   * marked the part (migration 0031, result_sent). */
  bool marked;
  /* The part's row says the change already: its SENT result in the group
   * wrote this receipt's status (sqlite_pair.h). */
  bool row_written;
} cause_t;

/* Why a message goes 'sending': its parts were claimed (mark_sending), or
 * taken at their submit by a waiting claim (insert_message). When the
 * submit's claims took them all, that event is the mark taken_event on the
 * last part (migration 0030), not a row: taken_cause (marked). */
static const cause_t claim_cause = {0,    0,    NULL,  0,    SG_MSG_QUEUED,
                                    true, NULL, false, false};
static const cause_t taken_cause = {0,    0,    NULL, 0,    SG_MSG_QUEUED,
                                    true, NULL, true, false};

static int step_rc(sqlite3_stmt *s) {
  return s == NULL ? SG_EIO : sg__sq_err(sg__sq_step_done(s));
}

/* Writes an event; a message's event (seq 0) may carry the event of the
 * part that caused it, `fold` (its status is the message's), which a read
 * shows just before it, with the same id (sqlite_read.c, read_events). */
static int insert_event(sg__sq_conn_t *c, const char *mid, unsigned seq,
                        sg_msg_status_t status, int32_t code,
                        const char *detail, int64_t t, const part_ev_t *fold,
                        int64_t *id) {
  sqlite3_stmt *s = sg__sq_stmt(c, SG__Q_EVENT_INSERT);
  if (s == NULL)
    return SG_EIO;
  sg__sq_bind_text(s, 1, mid);
  if (seq > 0)
    sqlite3_bind_int(s, 2, (int)seq);
  sg__sq_bind_text(s, 3, sg_store_status_name(status));
  if (code != 0)
    sqlite3_bind_int(s, 4, code);
  sg__sq_bind_text(s, 5, detail);
  sqlite3_bind_int64(s, 6, t);
  if (fold != NULL) {
    sqlite3_bind_int(s, 7, (int)fold->seq);
    if (fold->error_code != 0)
      sqlite3_bind_int(s, 8, fold->error_code);
    sg__sq_bind_text(s, 9, fold->detail);
    if (fold->time_ms != t)
      sqlite3_bind_int64(s, 10, fold->time_ms);
  }
  int rc = step_rc(s);
  if (rc == 0) {
    int64_t rowid = sqlite3_last_insert_rowid(c->db);
    sg__sq_whq_event(c, rowid);
    if (id != NULL)
      *id = rowid;
  }
  return rc;
}

/* The part's event of a change, in a row of its own. */
static int insert_part_event(sg__sq_conn_t *c, const char *mid,
                             const part_ev_t *p) {
  return p == NULL ? 0
                   : insert_event(c, mid, p->seq, p->status, p->error_code,
                                  p->detail, p->time_ms, NULL, NULL);
}

/* A webhook row; the delivery of a message event has the id -event_id
 * (sqlite_whq.h), any other the next free one. */
static int insert_webhook(sg__sq_conn_t *c, int64_t account, const char *mid,
                          int64_t event_id, const char *inbound_id,
                          const char *url, const uint8_t *payload, size_t len,
                          int64_t now) {
  sqlite3_stmt *s = sg__sq_stmt(c, SG__Q_WEBHOOK_INSERT);
  if (s == NULL)
    return SG_EIO;
  if (account > 0)
    sqlite3_bind_int64(s, 1, account);
  sg__sq_bind_text(s, 2, mid);
  if (event_id > 0) {
    sqlite3_bind_int64(s, 3, event_id);
    sqlite3_bind_int64(s, 8, -event_id);
  }
  sg__sq_bind_text(s, 4, inbound_id);
  sg__sq_bind_text(s, 5, url);
  sg__sq_bind_blob(s, 6, payload, len);
  sqlite3_bind_int64(s, 7, now);
  return step_rc(s);
}

int sg__sq_webhook_row(sg__sq_conn_t *c, int64_t event_id, int64_t account,
                       const char *mid, const char *url, const uint8_t *payload,
                       size_t len, int64_t now) {
  return insert_webhook(c, account, mid, event_id, NULL, url, payload, len,
                        now);
}

/* The statuses of the parts of message mid, derived into one. */
static int derive_from_parts(sg__sq_conn_t *c, const char *mid,
                             sg_msg_status_t *out) {
  sg_msg_status_t st[SG_SEG_MAX_PARTS];
  size_t n = 0;
  sqlite3_stmt *s = sg__sq_stmt(c, SG__Q_PARTS_OF_MSG);
  if (s == NULL)
    return SG_EIO;
  sg__sq_bind_text(s, 1, mid);
  int rc;
  while ((rc = sqlite3_step(s)) == SQLITE_ROW)
    if (n < SG_SEG_MAX_PARTS)
      st[n++] = sg__sq_col_status(s, 0);
  sqlite3_reset(s);
  if (rc != SQLITE_DONE)
    return SG_EIO;
  *out = sg_store_status_derive(st, n);
  return n == 0 ? SG_ENOENT : 0;
}

/* The message row as a webhook needs it, copied into the arena. */
typedef struct msg_row {
  sg_msg_status_t status;
  int64_t account_id;
  int64_t created_ms;
  const char *callback_url;
  sg__status_event_t ev;
  const char *dlr_url; /* Kannel dlr-url, or NULL */
  unsigned dlr_mask;
  uint32_t webhook_statuses; /* 0: the store's */
} msg_row_t;

/* The columns of message mid's row that deriving its status reads: from
 * the writer's copy (sqlite_mcache.h), or read (MSG_FOR_EVENT, left on the
 * row in *held, whose strings are the statement's until its reset). */
static int load_msg(sg__sq_conn_t *c, const char *mid, sg__sq_mrow_t *r,
                    sqlite3_stmt **held) {
  *held = NULL;
  const sg__sq_mrow_t *h = sg__sq_mc_get(c, mid);
  if (h != NULL) {
    *r = *h;
    return 0;
  }
  sqlite3_stmt *s = sg__sq_stmt(c, SG__Q_MSG_FOR_EVENT);
  if (s == NULL)
    return SG_EIO;
  sg__sq_bind_text(s, 1, mid);
  int rc = sqlite3_step(s);
  if (rc != SQLITE_ROW) {
    sqlite3_reset(s);
    return rc == SQLITE_DONE ? SG_ENOENT : SG_EIO;
  }
  *held = s;
  r->status = sg__sq_col_status(s, 0);
  r->account_id = sqlite3_column_int64(s, 2);
  r->parts = (unsigned)sqlite3_column_int(s, 7);
  r->dlr_mask = (unsigned)sqlite3_column_int(s, 9);
  r->webhook_statuses = (uint32_t)sqlite3_column_int64(s, 10);
  r->created_ms = sqlite3_column_int64(s, 11);
  const char **str[] = {&r->batch_id,   &r->sender,       &r->recipient,
                        &r->client_ref, &r->callback_url, &r->dlr_url};
  static const int col[] = {1, 3, 4, 5, 6, 8};
  for (int i = 0; i < 6; i++) {
    *str[i] = sqlite3_column_type(s, col[i]) == SQLITE_NULL
                  ? NULL
                  : (const char *)sqlite3_column_text(s, col[i]);
    if (*str[i] == NULL && sqlite3_column_type(s, col[i]) != SQLITE_NULL)
      return SG_ENOMEM;
  }
  return 0;
}

/* Whether a message with callback_url and webhook_statuses (0: the
 * store's) gets a webhook when it moves to status `to`. */
static bool status_hooked(const sg__sq_conn_t *c, const char *callback_url,
                          uint32_t webhook_statuses, sg_msg_status_t to) {
  uint32_t wanted =
      webhook_statuses ? webhook_statuses : c->st->cfg.webhook_statuses;
  return callback_url != NULL && (wanted & SG_MSG_BIT(to));
}

/* Whether a message that moves to status `to` needs its row copied: it
 * queues a webhook (it has a callback URL and the status is one its
 * account's webhook_statuses, or the store's, ask for) or it has a Kannel
 * dlr-url. */
static bool wants_webhook(sg__sq_conn_t *c, const sg__sq_mrow_t *r,
                          sg_msg_status_t to) {
  return r->dlr_url != NULL ||
         status_hooked(c, r->callback_url, r->webhook_statuses, to);
}

/* Copies what a webhook needs of row r into the arena. */
static int copy_msg(sg__arena_t *a, const sg__sq_mrow_t *r, const char *mid,
                    msg_row_t *m) {
  bool ok = true;
  m->ev.message_id = mid;
  m->ev.batch_id = sg__arena_strdup(a, r->batch_id, &ok);
  m->account_id = r->account_id;
  m->ev.from = sg__arena_strdup(a, r->sender, &ok);
  m->ev.to = sg__arena_strdup(a, r->recipient, &ok);
  m->ev.client_ref = sg__arena_strdup(a, r->client_ref, &ok);
  m->callback_url = sg__arena_strdup(a, r->callback_url, &ok);
  m->dlr_url = sg__arena_strdup(a, r->dlr_url, &ok);
  m->dlr_mask = r->dlr_mask;
  m->webhook_statuses = r->webhook_statuses;
  return ok ? 0 : SG_ENOMEM;
}

/* The Kannel dlr-url call of a status change, if its mask wants it. */
static int kannel_dlr(sg__sq_conn_t *c, sg__arena_t *a, const msg_row_t *m,
                      sg_msg_status_t to, const cause_t *why, int64_t event_id,
                      int64_t now) {
  sg__sq_dlr_ev_t ev = {.message_id = m->ev.message_id,
                        .account_id = m->account_id,
                        .from = m->ev.from,
                        .to = m->ev.to,
                        .client_ref = m->ev.client_ref,
                        .dlr_url = m->dlr_url,
                        .dlr_mask = m->dlr_mask,
                        .before = m->status,
                        .after = to,
                        .seq = why->seq,
                        .error_code = why->error_code,
                        .detail = why->detail,
                        .event_id = event_id,
                        .memory = m->ev.parts == 1 && m->callback_url == NULL};
  return sg__sq_kannel_dlr(c, a, &ev, now);
}

static int write_msg_status(sg__sq_conn_t *c, const char *mid,
                            sg_msg_status_t to, int32_t code, int64_t now) {
  sqlite3_stmt *s = sg__sq_stmt(c, SG__Q_MSG_SET_STATUS);
  if (s == NULL)
    return SG_EIO;
  sg__sq_bind_text(s, 1, mid);
  sg__sq_bind_text(s, 2, sg_store_status_name(to));
  if (code != 0)
    sqlite3_bind_int(s, 3, code);
  sqlite3_bind_int64(s, 4, now);
  int rc = step_rc(s);
  if (rc == 0)
    sg__sq_mc_status(c, mid, to);
  return rc;
}

/* Records a new message status: the row (unless keep_row: see
 * stored_status; a final status then lets the writer's copy go), its
 * event, and its webhook when
 * the configuration (or the message) asks for one and the message has a
 * callback URL. */
static int set_msg_status(sg__sq_conn_t *c, sg__arena_t *a, msg_row_t *m,
                          sg_msg_status_t to, const cause_t *why, int64_t now,
                          bool keep_row) {
  bool failure = sg_store_status_final(to) && to != SG_MSG_DELIVERED &&
                 to != SG_MSG_CANCELED;
  int32_t code = failure ? why->error_code : 0;
  int64_t event_id = 0;
  const part_ev_t *fold =
      why->ev != NULL && why->ev->status == to ? why->ev : NULL;
  /* No delivery refers to it: 'sending' has no Kannel report, and
   * insert_message marks the part only when no webhook asks for it; a
   * SENT result marks it when neither a webhook nor a Kannel call refers to
   * its 'sent' (result_sent), and its part's event is folded in it. */
  bool row = !(why->marked &&
               (to == SG_MSG_SENDING || (to == SG_MSG_SENT && fold != NULL)));
  int rc = fold == NULL ? insert_part_event(c, m->ev.message_id, why->ev) : 0;
  if (rc == 0 && !keep_row)
    rc = write_msg_status(c, m->ev.message_id, to, code, now);
  else if (rc == 0 && sg_store_status_final(to)) {
    sg__sq_mc_status(c, m->ev.message_id, to);
    sg__sq_settle_note(c->settle, m->ev.message_id); /* the row to settle */
  }
  if (rc == 0)
    rc = sg__sq_campaign_count(c, m->ev.batch_id, m->status, to);
  if (rc == 0)
    rc = sg__sq_traffic_note(c, m->account_id, m->created_ms, m->status, to);
  if (rc == 0)
    sg__sq_counts_msg(c, m->status, to);
  if (rc == 0 && row)
    rc = insert_event(c, m->ev.message_id, 0, to, code, why->detail, now, fold,
                      &event_id);
  if (rc == 0 && sg_store_status_final(to))
    rc = sg__sq_smpp_out_queue(c, m->ev.message_id, to, code, now);
  if (rc == 0 && m->dlr_url != NULL)
    rc = kannel_dlr(c, a, m, to, why, event_id, now);
  if (rc < 0 || !status_hooked(c, m->callback_url, m->webhook_statuses, to))
    return rc;
  m->ev.status = to;
  m->ev.part = why->seq;
  m->ev.error_code = code;
  m->ev.detail = why->detail;
  m->ev.time_ms = now;
  /* In the writer's memory when the payload can be built again from the
   * event and the message alone (sqlite_whq.h), and then built by the
   * thread that sends it; else, or when it is full, its row, with the
   * payload built here. */
  if (m->ev.parts == 1 && sg__sq_whq_part((int)to) == (int)why->seq &&
      (rc = sg__sq_whq_offer(c, event_id, m->account_id, m->ev.message_id,
                             m->callback_url, &m->ev, now)) != 0)
    return rc < 0 ? rc : 0;
  if ((rc = sg__store_status_payload(&c->json, &m->ev)) < 0)
    return rc;
  return insert_webhook(c, m->account_id, m->ev.message_id, event_id, NULL,
                        m->callback_url, (const uint8_t *)c->json.p,
                        c->json.len, now);
}

static bool carried_by_part(sg_msg_status_t st) {
  return st == SG_MSG_SENDING || st == SG_MSG_SENT;
}

/* The final statuses a part may carry for its message (SG__SQ_PART_CARRIED
 * in sqlite_int.h, besides 'sending' and 'sent'). */
static bool ended_on_part(sg_msg_status_t st) {
  return sg_store_status_final(st) && st != SG_MSG_CANCELED;
}

/* Whether the part's row, after the change `why` to final status `to`,
 * says all the message's row would: the status and time (PART_SET_STATUS
 * writes both), and for a failure the error code (SG__SQ_MSG_ERROR shows
 * the part's). A part that was 'sent' has none of its own (PART_SENT
 * clears it), so it takes the change's; a part that was 'sending' may
 * keep one of an earlier try, so only a change with a code of its own
 * (PART_SET_STATUS keeps the old one otherwise) or 'delivered' (no code
 * shown) will do. */
static bool part_says_final(sg_msg_status_t to, const cause_t *why) {
  if (!ended_on_part(to))
    return false;
  return why->part_from == SG_MSG_SENT ||
         (why->part_from == SG_MSG_SENDING &&
          (to == SG_MSG_DELIVERED || why->error_code != 0));
}

/* The status a message had before this change, from its row. A message of
 * one part keeps 'queued' in its row while its part carries its status:
 * 'sending' (a claim), 'sent' (a SENT result), and a final status from the
 * part (a receipt, a FAILED result) when the part's row says what the
 * message's would (part_says_final). Those changes write the part and the
 * message's event (and webhook, counts, receipt), not the message row.
 * Readers show the part's status, error code and time (SG__SQ_MSG_STATUS,
 * SG__SQ_MSG_ERROR, SG__SQ_MSG_UPDATED in sqlite_int.h). Every other
 * change writes the row: one that is not the part's (a cancel, an expiry
 * by validity, the operator's), and a later change of a part that carries
 * a final status, after sg__sq_msg_settle wrote that status into the row.
 * The callers that derive without knowing the part's status before
 * (part_from SG_MSG_NONE) changed a part that was queued or scheduled.
 * *keep_row tells that this change is one that does not write the row. */
static sg_msg_status_t stored_status(sg_msg_status_t row, unsigned parts,
                                     sg_msg_status_t to, const cause_t *why,
                                     bool *keep_row) {
  *keep_row = false;
  if (parts != 1 || row != SG_MSG_QUEUED)
    return row;
  *keep_row = why->on_part && (carried_by_part(to) || part_says_final(to, why));
  if (carried_by_part(why->part_from))
    return why->part_from; /* what the part said before this change */
  if (!why->on_part && carried_by_part(to))
    return to; /* a derive that changed nothing: the part already says so */
  return row;
}

/* Derives the status of message mid again after some of its parts changed
 * and records it when it changed. part_to is the new status of the part
 * that changed, when only one did (SG_MSG_NONE otherwise): a message of one
 * part then takes it without reading its parts again. The message row is
 * read once, and copied only when a webhook needs it. */
static int rederive(sg__sq_conn_t *c, sg__arena_t *a, const char *mid,
                    sg_msg_status_t part_to, const cause_t *why, int64_t now,
                    sg_msg_status_t *out, bool *changed) {
  sg__sq_mrow_t row;
  sqlite3_stmt *s;
  int rc = load_msg(c, mid, &row, &s);
  if (rc < 0) {
    if (s != NULL)
      sqlite3_reset(s);
    return rc;
  }
  msg_row_t m;
  memset(&m, 0, sizeof m);
  m.account_id = row.account_id;
  m.created_ms = row.created_ms;
  m.ev.message_id = mid;
  m.ev.parts = row.parts;
  sg_msg_status_t to = part_to;
  if (m.ev.parts != 1 || part_to == SG_MSG_NONE)
    rc = derive_from_parts(c, mid, &to);
  if (rc == 0 && m.ev.parts > 1) /* missing parts, per-part receipts */
    rc = sg__sq_presplit_derived(c, mid, m.ev.parts, part_to, why->seq,
                                 why->error_code, now, &to);
  bool keep_row;
  m.status = stored_status(row.status, m.ev.parts, to, why, &keep_row);
  if (rc == 0 && to != m.status && wants_webhook(c, &row, to))
    rc = copy_msg(a, &row, mid, &m);
  if (rc == 0 && to != m.status && m.ev.batch_id == NULL && c->campaigns) {
    bool ok = true; /* for the campaign's counters */
    m.ev.batch_id = sg__arena_strdup(a, row.batch_id, &ok);
    rc = ok ? 0 : SG_ENOMEM;
  }
  if (s != NULL)
    sqlite3_reset(s);
  if (rc < 0)
    return rc;
  if (out != NULL)
    *out = to;
  if (changed != NULL)
    *changed = m.status != to;
  if (m.status == to)
    return insert_part_event(c, mid, why->ev);
  return set_msg_status(c, a, &m, to, why, now, keep_row);
}

/* ---- submit -------------------------------------------------------------- */

/* Whether message m's 'sending' is a status its webhook is sent for. */
static bool sending_hooked(const sg__sq_conn_t *c, const sg_store_msg_in_t *m) {
  return status_hooked(c, m->callback_url, m->webhook_statuses, SG_MSG_SENDING);
}

/* Looks the idempotency key up: 1 when the request is a replay (the result
 * is set), 0 to go on, or an error (SG_EEXIST: another request). */
static int idem_check(sg__sq_conn_t *c, sg__store_req_t *r, int64_t now) {
  const sg_store_batch_t *b = &r->in.submit;
  sqlite3_stmt *s = sg__sq_stmt(c, SG__Q_IDEM_GET);
  if (s == NULL)
    return SG_EIO;
  sqlite3_bind_int64(s, 1, b->account_id);
  sg__sq_bind_text(s, 2, b->idem_key);
  int rc = sqlite3_step(s);
  if (rc != SQLITE_ROW) {
    sqlite3_reset(s);
    return rc == SQLITE_DONE ? 0 : SG_EIO;
  }
  bool live = sqlite3_column_int64(s, 2) > now;
  const void *h = sqlite3_column_blob(s, 0);
  bool same = (size_t)sqlite3_column_bytes(s, 0) == b->request_hash_len &&
              h != NULL && memcmp(h, b->request_hash, b->request_hash_len) == 0;
  bool ok = true;
  if (live && same) {
    r->out.submit.replayed = true;
    r->out.submit.response =
        sg__sq_col_blob(&r->arena, s, 1, &r->out.submit.response_len, &ok);
  }
  sqlite3_reset(s);
  if (!ok)
    return SG_ENOMEM;
  if (live)
    return same ? 1 : SG_EEXIST;
  /* An expired record: forget it, the key is free again. */
  s = sg__sq_stmt(c, SG__Q_IDEM_DEL);
  if (s == NULL)
    return SG_EIO;
  sqlite3_bind_int64(s, 1, b->account_id);
  sg__sq_bind_text(s, 2, b->idem_key);
  return step_rc(s);
}

static int idem_put(sg__sq_conn_t *c, const sg_store_batch_t *b, int64_t now) {
  sqlite3_stmt *s = sg__sq_stmt(c, SG__Q_IDEM_PUT);
  if (s == NULL)
    return SG_EIO;
  sqlite3_bind_int64(s, 1, b->account_id);
  sg__sq_bind_text(s, 2, b->idem_key);
  sg__sq_bind_blob(s, 3, b->request_hash, b->request_hash_len);
  sg__sq_bind_blob(s, 4, b->response, b->response_len);
  sqlite3_bind_int64(s, 5, now);
  sqlite3_bind_int64(s, 6, now + b->idem_ttl_ms);
  return step_rc(s);
}

/* Writes part seq of message m with `status`, or 'sending' for the waiting
 * claim `taker` (sqlite_park.c) with its lease and attempts 1, as the
 * claim's PART_CLAIM would leave a part inserted 'queued' at the same
 * time; `mark`: with taken_event, which stands for its message's 'sending'
 * event (insert_message). */
static int insert_part(sg__sq_conn_t *c, const sg_store_msg_in_t *m,
                       unsigned seq, sg_msg_status_t status,
                       const sg__store_req_t *taker, bool mark, int64_t now) {
  const sg_store_part_in_t *p = &m->parts[seq - 1];
  if (taker != NULL)
    status = SG_MSG_SENDING;
  sqlite3_stmt *s = sg__sq_stmt(c, taker != NULL ? SG__Q_PART_INSERT_TAKEN
                                                 : SG__Q_PART_INSERT);
  if (s == NULL)
    return SG_EIO;
  sg__sq_bind_text(s, 1, m->id);
  sqlite3_bind_int(s, 2, (int)seq);
  sg__sq_bind_text(s, 3, p->connector);
  sqlite3_bind_int(s, 4, p->encoding);
  sqlite3_bind_int(s, 5, p->lang_locking);
  sqlite3_bind_int(s, 6, p->lang_single);
  sg__sq_bind_blob(s, 7, p->udh, p->udh_len);
  sg__sq_bind_blob(s, 8, p->ud, p->ud_len);
  sqlite3_bind_int(s, 9, p->concat_ref);
  sqlite3_bind_int(s, 10, p->concat_total ? p->concat_total : 1);
  sqlite3_bind_int(s, 11, m->priority);
  sg__sq_bind_opt_ms(s, 12, m->validity_ms);
  sg__sq_bind_text(s, 13, sg_store_status_name(status));
  sqlite3_bind_int64(s, 14, now);
  if (taker != NULL)
    sqlite3_bind_int64(s, 15, now + taker->in.claim.lease_ms);
  if (taker != NULL && mark)
    sqlite3_bind_int(s, 16, 1);
  int rc = step_rc(s);
  if (rc == 0)
    sg__sq_counts_part(c, SG_MSG_NONE, status, 1);
  return rc;
}

/* Hands part seq of message m, just written 'sending' for the waiting
 * claim `taker`, to it, with what read_claimed and claimed_msg would give
 * a claim of the row; and keeps its claim for the SENT result. */
static int hand_part(sg__sq_conn_t *c, const sg_store_batch_t *b,
                     const sg_store_msg_in_t *m, unsigned seq,
                     sg__store_req_t *taker) {
  const sg_store_part_in_t *p = &m->parts[seq - 1];
  sg_store_claimed_t x = {.part_id = sqlite3_last_insert_rowid(c->db),
                          .attempt = 1,
                          .seq = seq,
                          .sender = m->sender,
                          .recipient = m->recipient,
                          .encoding = p->encoding,
                          .lang_locking = p->lang_locking,
                          .lang_single = p->lang_single,
                          .udh = p->udh,
                          .udh_len = p->udh != NULL ? p->udh_len : 0,
                          .ud = p->ud,
                          .ud_len = p->ud_len,
                          .concat_ref = p->concat_ref,
                          .concat_total =
                              (uint8_t)(p->concat_total ? p->concat_total : 1),
                          .priority = (uint8_t)m->priority,
                          .dlr_wanted = m->dlr_wanted,
                          .validity_ms = m->validity_ms,
                          .account_id = b->account_id};
  memcpy(x.message_id, m->id, sizeof x.message_id);
  int rc = sg__sq_park_add(taker, &x);
  if (rc == 0)
    sg__sq_mc_part_put(c, x.part_id, m->id, seq, p->connector);
  return rc;
}

static int insert_message(sg__sq_conn_t *c, sg__arena_t *a,
                          const sg_store_batch_t *b, const sg_store_msg_in_t *m,
                          int64_t now) {
  sg_msg_status_t status =
      m->send_at_ms > now ? SG_MSG_SCHEDULED : SG_MSG_QUEUED;
  unsigned taken = 0;
  bool marked = false;
  sqlite3_stmt *s = sg__sq_stmt(c, SG__Q_MSG_INSERT);
  if (s == NULL)
    return SG_EIO;
  sg__sq_bind_text(s, 1, m->id);
  sg__sq_bind_text(s, 2, b->batch_id);
  sqlite3_bind_int64(s, 3, b->account_id);
  sg__sq_bind_text(s, 4, m->sender);
  sg__sq_bind_text(s, 5, m->recipient);
  sqlite3_bind_int(s, 6, m->encoding);
  sqlite3_bind_int(s, 7, m->binary);
  sg__sq_bind_blob(s, 8, m->body, m->body_len);
  sg__sq_bind_opt_ms(s, 9, m->validity_ms);
  sg__sq_bind_opt_ms(s, 10, m->send_at_ms);
  sg__sq_bind_text(s, 11, m->callback_url);
  sg__sq_bind_text(s, 12, m->client_ref);
  sqlite3_bind_int(s, 13, m->priority);
  sqlite3_bind_int(s, 14, m->dlr_wanted);
  sg__sq_bind_text(s, 15, sg_store_status_name(status));
  sqlite3_bind_int(s, 16, (int)m->n_parts);
  sqlite3_bind_int64(s, 17, now);
  sg__sq_bind_kannel(s, 18, m);
  int rc = step_rc(s);
  if (rc == 0)
    rc = sg__sq_campaign_count(c, b->batch_id, SG_MSG_NONE, status);
  if (rc == 0)
    rc = sg__sq_traffic_note(c, b->account_id, now, SG_MSG_NONE, status);
  if (rc == 0)
    sg__sq_counts_msg(c, SG_MSG_NONE, status);
  for (unsigned seq = 1; rc == 0 && seq <= m->n_parts; seq++) {
    /* A part due at once goes to a claim of its connector waiting in the
     * writer, while it has room (sqlite_park.c). */
    sg__store_req_t *t = status == SG_MSG_QUEUED && c->park.n > 0
                             ? sg__sq_park_for(c, m->parts[seq - 1].connector)
                             : NULL;
    /* All its parts taken, the message goes 'sending' now, at its creation
     * time (rederive below): that event is a mark on the last part, unless
     * a webhook will refer to its row. */
    bool mark = t != NULL && seq == m->n_parts && taken == seq - 1 &&
                !sending_hooked(c, m);
    rc = insert_part(c, m, seq, status, t, mark, now);
    if (rc == 0 && t != NULL) {
      rc = hand_part(c, b, m, seq, t);
      taken++;
      marked = mark;
    }
  }
  if (rc == 0 && m->smpp != NULL)
    rc = sg__sq_smpp_origin_insert(c, b->account_id, m, now);
  /* The first event of a message inserted 'queued' is its row: the
   * reader shows it (sqlite_read.c, read_events). */
  if (rc == 0 && status != SG_MSG_QUEUED)
    rc = insert_event(c, m->id, 0, status, 0, NULL, now, NULL, NULL);
  if (rc == 0 && status == SG_MSG_QUEUED) {
    sg__sq_mrow_t row = {.status = status,
                         .account_id = b->account_id,
                         .created_ms = now,
                         .parts = (unsigned)m->n_parts,
                         .dlr_mask = m->dlr_url != NULL ? m->dlr_mask : 0,
                         .webhook_statuses = m->webhook_statuses,
                         .dlr_wanted = m->dlr_wanted,
                         .batch_id = b->batch_id,
                         .sender = m->sender,
                         .recipient = m->recipient,
                         .client_ref = m->client_ref,
                         .callback_url = m->callback_url,
                         .dlr_url = m->dlr_url};
    sg__sq_mc_put(c, m->id, &row);
  }
  /* The parts taken: the message's status derived as after their claim
   * (mark_sending), with its event, webhook and counts. */
  if (rc == 0 && taken > 0)
    rc = rederive(c, a, m->id, SG_MSG_SENDING,
                  marked ? &taken_cause : &claim_cause, now, NULL, NULL);
  return rc;
}

static int run_submit(sg__sq_conn_t *c, sg__store_req_t *r, int64_t now) {
  const sg_store_batch_t *b = &r->in.submit;
  int rc = 0;
  if (b->idem_key != NULL && (rc = idem_check(c, r, now)) != 0)
    return rc > 0 ? 0 : rc;
  if ((b->usage_parts > 0 || b->charge_micro > 0) &&
      (rc = sg__sq_limits_submit(c, b, now)) != 0)
    return rc;
  for (size_t i = 0; rc == 0 && i < b->n_msgs; i++)
    rc = insert_message(c, &r->arena, b, &b->msgs[i], now);
  if (rc == 0 && b->idem_key != NULL)
    rc = idem_put(c, b, now);
  if (rc == 0 && b->usage_parts > 0) /* after its rows: see sqlite_int.h */
    rc = sg__sq_limits_usage(c, b);
  return rc;
}

void sg__sq_bind_kannel(sqlite3_stmt *s, int i, const sg_store_msg_in_t *m) {
  sg__sq_bind_text(s, i, m->dlr_url);
  sqlite3_bind_int(s, i + 1, m->dlr_url != NULL ? m->dlr_mask : 0);
  if (m->webhook_statuses != 0)
    sqlite3_bind_int64(s, i + 2, m->webhook_statuses);
}

int sg__sq_rederive_msg(sg__sq_conn_t *c, sg__arena_t *a, const char *mid,
                        unsigned seq, sg_msg_status_t part_to,
                        const char *detail, int64_t now) {
  cause_t why = {seq, 0, detail, 0, SG_MSG_NONE, false, NULL, false, false};
  return rederive(c, a, mid, part_to, &why, now, NULL, NULL);
}

/* ---- the passes before a claim ------------------------------------------- */

/* A part found by a pass. */
typedef struct part_ref {
  int64_t id;
  const char *mid;
  unsigned seq;
  sg_msg_status_t from;  /* its status before the change */
  const char *connector; /* when a SENT result needs it, or NULL */
} part_ref_t;

/* Collects up to PASS_MAX (id, message_id, seq, status) rows of query q run
 * with ?1 = t and ?2 = PASS_MAX. The array is not zeroed: every claim runs
 * these passes, and they find nothing most of the time. */
static int collect_parts(sg__sq_conn_t *c, sg__arena_t *a, sg__sq_query_t q,
                         int64_t t, part_ref_t **out, size_t *n) {
  part_ref_t *refs = sg__arena_alloc_raw(a, PASS_MAX * sizeof *refs);
  sqlite3_stmt *s = sg__sq_stmt(c, q);
  if (refs == NULL)
    return SG_ENOMEM;
  if (s == NULL)
    return SG_EIO;
  sqlite3_bind_int64(s, 1, t);
  sqlite3_bind_int(s, 2, PASS_MAX);
  bool ok = true;
  int rc = SQLITE_DONE;
  *n = 0;
  while (ok && (rc = sqlite3_step(s)) == SQLITE_ROW && *n < PASS_MAX) {
    memset(&refs[*n], 0, sizeof refs[*n]);
    refs[*n].id = sqlite3_column_int64(s, 0);
    refs[*n].mid = sg__sq_col_text(a, s, 1, &ok);
    refs[*n].seq = (unsigned)sqlite3_column_int(s, 2);
    refs[*n].from = sg__sq_col_status(s, 3);
    if (sqlite3_column_count(s) > 4) /* LEASE_DUE: whose claim it was */
      refs[*n].connector = sg__sq_col_text(a, s, 4, &ok);
    (*n)++;
  }
  sqlite3_reset(s);
  *out = refs;
  if (!ok)
    return SG_ENOMEM;
  return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : SG_EIO;
}

static int release_one(sg__sq_conn_t *c, sg__arena_t *a, const char *mid,
                       int64_t now) {
  static const cause_t why = {0,    0,           "scheduled time reached",
                              0,    SG_MSG_NONE, false,
                              NULL, false,       false};
  sqlite3_stmt *s = sg__sq_stmt(c, SG__Q_SCHED_RELEASE);
  if (s == NULL)
    return SG_EIO;
  sg__sq_bind_text(s, 1, mid);
  sqlite3_bind_int64(s, 2, now);
  int rc = step_rc(s);
  if (rc < 0)
    return rc;
  sg__sq_counts_part(c, SG_MSG_SCHEDULED, SG_MSG_QUEUED,
                     sqlite3_changes(c->db));
  return rederive(c, a, mid, SG_MSG_NONE, &why, now, NULL, NULL);
}

/* Whether name is one of to[0..n). */
static bool names_have(const char *const *to, size_t n, const char *name) {
  for (size_t i = 0; i < n; i++)
    if (strcmp(to[i], name) == 0)
      return true;
  return false;
}

/* Adds the connectors of message mid's parts to `to` (each name once,
 * copied into a; room for PASS_MAX). */
static int release_names(sg__sq_conn_t *c, sg__arena_t *a, const char *mid,
                         const char **to, size_t *n_to) {
  sqlite3_stmt *s = sg__sq_stmt(c, SG__Q_SCHED_CONNECTORS);
  if (s == NULL)
    return SG_EIO;
  sg__sq_bind_text(s, 1, mid);
  bool ok = true;
  int rc;
  while (ok && (rc = sqlite3_step(s)) == SQLITE_ROW) {
    const char *name = (const char *)sqlite3_column_text(s, 0);
    if (name != NULL && !names_have(to, *n_to, name) && *n_to < PASS_MAX)
      to[(*n_to)++] = sg__sq_col_text(a, s, 0, &ok);
  }
  sqlite3_reset(s);
  if (!ok)
    return SG_ENOMEM;
  return rc == SQLITE_DONE ? 0 : SG_EIO;
}

int sg__sq_release_scheduled(sg__sq_conn_t *c, sg__store_req_t *req,
                             int64_t now, size_t *n,
                             const char *const **to_out, size_t *n_to_out) {
  sg__arena_t *a = &req->arena;
  sqlite3_stmt *s = sg__sq_stmt(c, SG__Q_SCHED_DUE);
  const char **ids = /* ids[0..k) are written below */
      sg__arena_alloc_raw(a, PASS_MAX * sizeof *ids);
  if (s == NULL || ids == NULL)
    return s == NULL ? SG_EIO : SG_ENOMEM;
  sqlite3_bind_int64(s, 1, now);
  sqlite3_bind_int(s, 2, PASS_MAX);
  size_t k = 0;
  bool ok = true;
  int rc = SQLITE_DONE;
  while (ok && (rc = sqlite3_step(s)) == SQLITE_ROW && k < PASS_MAX)
    ids[k++] = sg__sq_col_text(a, s, 0, &ok);
  sqlite3_reset(s);
  if (!ok || (rc != SQLITE_DONE && rc != SQLITE_ROW))
    return ok ? SG_EIO : SG_ENOMEM;
  const char **to =
      k > 0 ? sg__arena_alloc_raw(a, PASS_MAX * sizeof *to) : NULL;
  if (k > 0 && to == NULL)
    return SG_ENOMEM;
  size_t n_to = 0;
  for (size_t i = 0; i < k; i++)
    if ((rc = release_one(c, a, ids[i], now)) < 0 ||
        (rc = release_names(c, a, ids[i], to, &n_to)) < 0)
      return rc;
  *n += k;
  if (n_to > 0) {
    *to_out = to;
    *n_to_out = n_to;
  }
  return 0;
}

/* Gives part p a new status with its event, and derives its message. */
static int part_change(sg__sq_conn_t *c, sg__arena_t *a, const part_ref_t *p,
                       sg_msg_status_t to, const cause_t *why, int64_t now,
                       sg_store_item_res_t *item) {
  /* A final status the part may carry for its message goes into the row
   * first (a late receipt): the row then says what it said before. */
  int rc = ended_on_part(p->from) ? sg__sq_msg_settle(c, p->mid) : 0;
  if (rc < 0)
    return rc;
  if (why->row_written) { /* by its SENT result (sqlite_pair.h) */
    sg__sq_counts_part(c, p->from, to, 1);
  } else {
    sqlite3_stmt *s = sg__sq_stmt(c, SG__Q_PART_SET_STATUS);
    if (s == NULL)
      return SG_EIO;
    sqlite3_bind_int64(s, 1, p->id);
    sg__sq_bind_text(s, 2, sg_store_status_name(to));
    if (why->error_code != 0)
      sqlite3_bind_int(s, 3, why->error_code);
    if (to != SG_MSG_DELIVERED && to != SG_MSG_SENT)
      sg__sq_bind_text(s, 4, why->detail);
    sqlite3_bind_int64(s, 5, now);
    rc = step_rc(s);
    if (rc < 0)
      return rc;
    sg__sq_counts_part(c, p->from, to, sqlite3_changes(c->db));
  }
  part_ev_t ev = {p->seq, to, why->error_code, why->detail,
                  why->event_ms ? why->event_ms : now};
  cause_t with_ev = *why;
  with_ev.ev = &ev;
  return rederive(c, a, p->mid, to, &with_ev, now,
                  item ? &item->msg_status : NULL,
                  item ? &item->msg_changed : NULL);
}

int sg__sq_expire(sg__sq_conn_t *c, sg__store_req_t *req, int64_t now,
                  size_t *n) {
  part_ref_t *refs;
  size_t k;
  int rc = collect_parts(c, &req->arena, SG__Q_EXPIRE_DUE, now, &refs, &k);
  for (size_t i = 0; rc == 0 && i < k; i++) {
    cause_t why = {
        refs[i].seq, 0,           "validity period ended before sending",
        0,           SG_MSG_NONE, false,
        NULL,        false,       false};
    rc = part_change(c, &req->arena, &refs[i], SG_MSG_EXPIRED, &why, now, NULL);
  }
  if (rc == 0)
    *n += k;
  return rc;
}

/* Puts parts found by query q (?1 = t) back in the queue; with to, names
 * their connectors there (each once, in a). */
static int requeue(sg__sq_conn_t *c, sg__arena_t *a, sg__sq_query_t q,
                   int64_t t, int64_t now, const char *detail, size_t *n,
                   const char *const **to, size_t *n_to) {
  part_ref_t *refs;
  size_t k;
  int rc = collect_parts(c, a, q, t, &refs, &k);
  const char **names =
      rc == 0 && k > 0 && to != NULL ? sg__arena_alloc_raw(a, k * sizeof *names)
                                     : NULL;
  if (rc == 0 && k > 0 && to != NULL && names == NULL)
    return SG_ENOMEM;
  size_t n_names = 0;
  for (size_t i = 0; rc == 0 && i < k; i++) {
    part_ev_t ev = {refs[i].seq, SG_MSG_QUEUED, 0, detail, now};
    cause_t why = {refs[i].seq, 0,   detail, 0,    SG_MSG_SENDING,
                   false,       &ev, false,  false};
    sqlite3_stmt *s = sg__sq_stmt(c, SG__Q_PART_REQUEUE);
    if (s == NULL)
      return SG_EIO;
    sqlite3_bind_int64(s, 1, refs[i].id);
    sqlite3_bind_int64(s, 2, now);
    rc = step_rc(s);
    if (rc == 0)
      sg__sq_counts_part(c, refs[i].from, SG_MSG_QUEUED,
                         sqlite3_changes(c->db));
    if (rc == 0)
      rc = rederive(c, a, refs[i].mid, SG_MSG_QUEUED, &why, now, NULL, NULL);
    if (names != NULL && refs[i].connector != NULL &&
        !names_have(names, n_names, refs[i].connector))
      names[n_names++] = refs[i].connector;
  }
  if (rc == 0)
    *n += k;
  if (rc == 0 && n_names > 0) {
    *to = names;
    *n_to = n_names;
  }
  return rc;
}

int sg__sq_requeue_leases(sg__sq_conn_t *c, sg__store_req_t *req, int64_t now,
                          size_t *n, const char *const **to, size_t *n_to) {
  return requeue(c, &req->arena, SG__Q_LEASE_DUE, now, now,
                 "lease ran out without a result", n, to, n_to);
}

static int requeue_webhooks(sg__sq_conn_t *c, int64_t before, int64_t now,
                            size_t *n) {
  sqlite3_stmt *s = sg__sq_stmt(c, SG__Q_WH_LEASE_DUE);
  if (s == NULL)
    return SG_EIO;
  sqlite3_bind_int64(s, 1, before);
  sqlite3_bind_int(s, 2, PASS_MAX);
  sqlite3_bind_int64(s, 3, now);
  int rc = step_rc(s);
  if (rc == 0)
    *n += (size_t)sqlite3_changes(c->db);
  return rc;
}

int sg__sq_recover(sg__sq_conn_t *c, int64_t now, uint64_t *parts,
                   uint64_t *webhooks) {
  sg__arena_t a = {NULL};
  size_t np = 0, nw = 0, before;
  uint64_t rebuilt = 0; /* deliveries the writer held in memory */
  int rc = sg__sq_whq_rebuild(c, now, &rebuilt);
  do { /* PASS_MAX at a time, until none is left */
    before = np;
    rc = rc == 0 ? requeue(c, &a, SG__Q_LEASE_DUE, INT64_MAX, now,
                           "requeued at start after a stop while sending", &np,
                           NULL, NULL)
                 : rc;
    sg__arena_free(&a);
  } while (rc == 0 && np - before == PASS_MAX);
  do {
    before = nw;
    rc = rc == 0 ? requeue_webhooks(c, INT64_MAX, now, &nw) : rc;
  } while (rc == 0 && nw - before == PASS_MAX);
  if (rc == 0) /* receipts leased to SMPP sessions of the last run */
    rc = sg__sq_smpp_out_release_all(c);
  *parts = np;
  *webhooks = nw + rebuilt;
  return rc;
}

/* ---- claim --------------------------------------------------------------- */

static void read_claimed(sg__arena_t *a, sqlite3_stmt *s, sg_store_claimed_t *p,
                         bool *ok) {
  p->part_id = sqlite3_column_int64(s, 0);
  p->attempt = (unsigned)sqlite3_column_int(s, 1) + 1;
  const char *mid = (const char *)sqlite3_column_text(s, 2);
  sg__store_copy_str(p->message_id, sizeof p->message_id, mid);
  p->seq = (unsigned)sqlite3_column_int(s, 3);
  p->connector = sg__sq_col_text(a, s, 4, ok);
  p->encoding = (sg_encoding_t)sqlite3_column_int(s, 5);
  p->lang_locking = (uint8_t)sqlite3_column_int(s, 6);
  p->lang_single = (uint8_t)sqlite3_column_int(s, 7);
  p->udh = sg__sq_col_blob(a, s, 8, &p->udh_len, ok);
  p->ud = sg__sq_col_blob(a, s, 9, &p->ud_len, ok);
  p->concat_ref = (uint16_t)sqlite3_column_int(s, 10);
  p->concat_total = (uint8_t)sqlite3_column_int(s, 11);
  p->priority = (uint8_t)sqlite3_column_int(s, 12);
  p->validity_ms = sqlite3_column_int64(s, 13);
}

/* The columns of claimed part p's message: from the writer's copy of its
 * row (sqlite_mcache.h), else read (MSG_FOR_CLAIM). SG_ENOENT: no row, the
 * part is left out (as the join of parts and messages did). */
static int claimed_msg(sg__sq_conn_t *c, sg__arena_t *a,
                       sg_store_claimed_t *p) {
  bool ok = true;
  const sg__sq_mrow_t *h = sg__sq_mc_get(c, p->message_id);
  if (h != NULL) {
    p->sender = sg__arena_strdup(a, h->sender, &ok);
    p->recipient = sg__arena_strdup(a, h->recipient, &ok);
    p->dlr_wanted = h->dlr_wanted;
    p->account_id = h->account_id;
    return ok ? 0 : SG_ENOMEM;
  }
  sqlite3_stmt *s = sg__sq_stmt(c, SG__Q_MSG_FOR_CLAIM);
  if (s == NULL)
    return SG_EIO;
  sg__sq_bind_text(s, 1, p->message_id);
  int rc = sqlite3_step(s);
  if (rc == SQLITE_ROW) {
    p->sender = sg__sq_col_text(a, s, 0, &ok);
    p->recipient = sg__sq_col_text(a, s, 1, &ok);
    p->dlr_wanted = sqlite3_column_int(s, 2) != 0;
    p->account_id = sqlite3_column_int64(s, 3);
  }
  sqlite3_reset(s);
  if (rc != SQLITE_ROW)
    return rc == SQLITE_DONE ? SG_ENOENT : SG_EIO;
  return ok ? 0 : SG_ENOMEM;
}

static int select_due(sg__sq_conn_t *c, sg__store_req_t *r, int64_t now) {
  sg_store_claim_res_t *res = &r->out.claim;
  sg_store_claimed_t *parts = /* the entries used are zeroed below */
      sg__arena_alloc_raw(&r->arena, r->in.claim.max * sizeof *parts);
  sqlite3_stmt *s = sg__sq_stmt(c, SG__Q_CLAIM_SELECT);
  if (parts == NULL || s == NULL)
    return parts == NULL ? SG_ENOMEM : SG_EIO;
  sg__sq_bind_text(s, 1, r->in.claim.connector);
  sqlite3_bind_int64(s, 2, now);
  sqlite3_bind_int(s, 3, (int)r->in.claim.max);
  bool ok = true;
  int rc = SQLITE_DONE, mrc = 0;
  size_t n = 0;
  while (ok && n < r->in.claim.max && (rc = sqlite3_step(s)) == SQLITE_ROW) {
    memset(&parts[n], 0, sizeof parts[n]);
    read_claimed(&r->arena, s, &parts[n], &ok);
    if (ok && (mrc = claimed_msg(c, &r->arena, &parts[n])) == 0)
      n++;
    else if (mrc != SG_ENOENT)
      break;
  }
  sqlite3_reset(s);
  res->parts = parts;
  res->n_parts = n;
  r->park_parts = parts; /* filled on by submits (sqlite_park.c) */
  if (!ok)
    return SG_ENOMEM;
  if (mrc < 0 && mrc != SG_ENOENT)
    return mrc;
  return n == r->in.claim.max || rc == SQLITE_DONE ? 0 : SG_EIO;
}

static int mark_sending(sg__sq_conn_t *c, sg__store_req_t *r, int64_t now) {
  const sg_store_claim_res_t *res = &r->out.claim;
  const cause_t why = claim_cause;
  for (size_t i = 0; i < res->n_parts; i++) {
    sqlite3_stmt *s = sg__sq_stmt(c, SG__Q_PART_CLAIM);
    if (s == NULL)
      return SG_EIO;
    sqlite3_bind_int64(s, 1, res->parts[i].part_id);
    sqlite3_bind_int64(s, 2, now + r->in.claim.lease_ms);
    sqlite3_bind_int64(s, 3, now);
    int rc = step_rc(s);
    if (rc == 0)
      sg__sq_counts_part(c, SG_MSG_QUEUED, SG_MSG_SENDING,
                         sqlite3_changes(c->db));
    if (rc == 0)
      sg__sq_mc_part_put(c, res->parts[i].part_id, res->parts[i].message_id,
                         res->parts[i].seq, r->in.claim.connector);
    /* Parts of one message come one after another (ordered by id within a
     * priority): derive each message once, after its last part. */
    bool last = i + 1 == res->n_parts || strcmp(res->parts[i + 1].message_id,
                                                res->parts[i].message_id) != 0;
    if (rc == 0 && last)
      rc = rederive(c, &r->arena, res->parts[i].message_id, SG_MSG_SENDING,
                    &why, now, NULL, NULL);
    if (rc < 0)
      return rc;
  }
  return 0;
}

int sg__sq_claim_next(sg__sq_conn_t *c, sg__store_req_t *r, int64_t now) {
  sqlite3_stmt *s = sg__sq_stmt(c, SG__Q_CLAIM_NEXT);
  if (s == NULL)
    return SG_EIO;
  sg__sq_bind_text(s, 1, r->in.claim.connector);
  sqlite3_bind_int64(s, 2, now);
  int rc = sqlite3_step(s);
  r->out.claim.next_ms = rc == SQLITE_ROW ? sqlite3_column_int64(s, 0) : 0;
  sqlite3_reset(s);
  return rc == SQLITE_ROW ? 0 : SG_EIO;
}

static int run_claim(sg__sq_conn_t *c, sg__store_req_t *r, int64_t now) {
  sg_store_claim_res_t *res = &r->out.claim;
  int rc = sg__sq_release_scheduled(c, r, now, &res->released,
                                    &res->released_to, &res->n_released_to);
  if (rc == 0)
    rc = sg__sq_expire(c, r, now, &res->expired);
  if (rc == 0)
    rc = sg__sq_requeue_leases(c, r, now, &res->requeued, &res->requeued_to,
                               &res->n_requeued_to);
  if (rc == 0)
    rc = select_due(c, r, now);
  if (rc == 0)
    rc = mark_sending(c, r, now);
  /* What was due is taken first, above; with room left the claim takes
   * the parts of the group's submits, and with nothing found and nothing
   * changed it waits for those of the next groups (sqlite_park.c). */
  bool parked = false;
  if (rc == 0)
    parked = sg__sq_park_begin(c, r,
                               res->n_parts == 0 && res->released == 0 &&
                                   res->expired == 0 && res->requeued == 0);
  /* Answered empty now: when to come back (a parked claim learns it when
   * its wait ends empty, sqlite_park.c). */
  if (rc == 0 && !parked && res->n_parts == 0)
    rc = sg__sq_claim_next(c, r, now);
  return rc;
}

/* ---- results and receipts ------------------------------------------------ */

/* Finds part id; fills the item's identity and the part's state. */
static int load_part(sg__sq_conn_t *c, sg__arena_t *a, int64_t id,
                     part_ref_t *p, sg_store_item_res_t *item,
                     unsigned *attempts) {
  sqlite3_stmt *s = sg__sq_stmt(c, SG__Q_PART_BY_ID);
  if (s == NULL)
    return SG_EIO;
  sqlite3_bind_int64(s, 1, id);
  int rc = sqlite3_step(s);
  if (rc != SQLITE_ROW) {
    sqlite3_reset(s);
    return rc == SQLITE_DONE ? SG_ENOENT : SG_EIO;
  }
  bool ok = true;
  p->id = id;
  p->mid = sg__sq_col_text(a, s, 0, &ok);
  p->seq = (unsigned)sqlite3_column_int(s, 1);
  item->part_status = sg__sq_col_status(s, 2);
  p->from = item->part_status;
  *attempts = (unsigned)sqlite3_column_int(s, 3);
  p->connector = sg__sq_col_text(a, s, 4, &ok);
  sqlite3_reset(s);
  if (!ok)
    return SG_ENOMEM;
  sg__store_copy_str(item->message_id, sizeof item->message_id, p->mid);
  item->seq = p->seq;
  return 0;
}

/* The receipt later in the group that ends part p, sent by x, when the part's
 * row may take its final status now (sqlite_pair.h): a message of one part
 * (rederive then reads no part), the receipt's connector the part's, and no
 * receipt held unmatched for the part's (connector, operator id): that one
 * would apply first (one_result). When the look-up fails, no pair. */
static const sg_store_receipt_in_t *
paired_receipt(sg__sq_conn_t *c, const sg_store_result_in_t *x,
               const part_ref_t *p) {
  const sg_store_receipt_in_t *rx = sg__sq_pair_receipt(c, x);
  if (rx == NULL || p->connector == NULL || rx->connector == NULL ||
      strcmp(rx->connector, p->connector) != 0)
    return NULL;
  const sg__sq_mrow_t *m = sg__sq_mc_get(c, p->mid);
  if (m == NULL || m->parts != 1)
    return NULL;
  return sg__sq_orphan_held(c, p->connector, x->smsc_id) == 0 ? rx : NULL;
}

/* Where part p's 'sent' event from SENT result x goes: -1 in a row of
 * events, else on the part (migration 0031), and then this is the id of
 * the newest event, which places it among its message's rows. A mark when
 * nothing refers to the event's id: the message has one part (its SENT
 * moves it to 'sent', the part's event folded in the message's: what the
 * reader shows from the mark), no webhook is sent for its 'sent' and no
 * Kannel call (the message's statuses as stored at its submit, or the
 * store's, the same test set_msg_status makes), and the result has no code
 * and no detail of its own. Its row from the writer's copy (a message not
 * held keeps its rows). */
static int64_t sent_mark_at(sg__sq_conn_t *c, const sg_store_result_in_t *x,
                            const part_ref_t *p) {
  if (x->error_code != 0 || x->detail != NULL)
    return -1;
  const sg__sq_mrow_t *m = sg__sq_mc_get(c, p->mid);
  if (m == NULL || m->parts != 1 ||
      status_hooked(c, m->callback_url, m->webhook_statuses, SG_MSG_SENT) ||
      sg__sq_kannel_reports(m->dlr_url, m->dlr_mask, SG_MSG_SENDING,
                            SG_MSG_SENT))
    return -1;
  return sg__sq_whq_newest(c);
}

/* Writes part p 'sent' by x, or with the final status of rx, its receipt
 * later in the group (NULL: none): what PART_SENT and then the receipt's
 * PART_SET_STATUS would leave (part_change; one `now` a group); with the
 * mark of its 'sent' event when `mark` is not -1 (sent_mark_at) and the
 * part has none yet: then *marked. */
static int result_sent(sg__sq_conn_t *c, const sg_store_result_in_t *x,
                       const sg_store_receipt_in_t *rx, int64_t mark,
                       int64_t now, bool *paired, bool *marked) {
  sqlite3_stmt *s =
      sg__sq_stmt(c, rx != NULL ? SG__Q_PART_SENT_ENDED : SG__Q_PART_SENT);
  if (s == NULL)
    return SG_EIO;
  sqlite3_bind_int64(s, 1, x->part_id);
  sg__sq_bind_text(s, 2, x->smsc_id);
  sqlite3_bind_int64(s, 3, now); /* the errors of earlier tries are cleared:
                                    the events keep them */
  sg__sq_bind_text(s, 4, x->smsc_raw_id);
  sqlite3_bind_int(s, 5, (int)x->attempt);
  if (rx != NULL) {
    sg__sq_bind_text(s, 6, sg_store_status_name(rx->status));
    if (rx->error_code != 0)
      sqlite3_bind_int(s, 7, rx->error_code);
    if (rx->status != SG_MSG_DELIVERED)
      sg__sq_bind_text(s, 8, rx->detail);
  }
  if (mark >= 0)
    sqlite3_bind_int64(s, 9, mark);
  int rc = step_rc(s);
  int n = rc == 0 ? sqlite3_changes(c->db) : 0;
  /* Marked before (sent again after the operator's retry): its row; or not
   * 'sending' at that attempt, and then nothing either way. */
  if (rc == 0 && n == 0 && mark >= 0)
    return result_sent(c, x, rx, -1, now, paired, marked);
  *marked = n > 0 && mark >= 0;
  if (rc == 0) /* only while 'sending' at that attempt */
    sg__sq_counts_part(c, SG_MSG_SENDING, SG_MSG_SENT, n);
  if (n > 0 && rx != NULL) {
    sg__sq_pair_written(c, x, x->part_id);
    *paired = true;
  }
  return rc;
}

/* The SENT result of a part whose claim the writer holds (sqlite_mcache.h):
 * its row written without reading it first, if it is still 'sending' at
 * that attempt. 1: written, *p and the item's identity filled; 0: not held
 * or not 'sending' at that attempt (nothing written: the caller reads the
 * part); or an error. */
static int sent_held(sg__sq_conn_t *c, sg__arena_t *a,
                     const sg_store_result_in_t *x, int64_t now, part_ref_t *p,
                     sg_store_item_res_t *item, bool *paired, bool *marked) {
  unsigned seq;
  const char *conn;
  const char *mid = sg__sq_mc_part_get(c, x->part_id, &seq, &conn);
  if (mid == NULL)
    return 0;
  bool ok = true;
  p->id = x->part_id;
  p->mid = sg__arena_strdup(a, mid, &ok);
  p->seq = seq;
  p->from = SG_MSG_SENDING;
  p->connector = sg__arena_strdup(a, conn, &ok);
  if (!ok)
    return SG_ENOMEM;
  int rc = result_sent(c, x, paired_receipt(c, x, p), sent_mark_at(c, x, p),
                       now, paired, marked);
  if (rc < 0 || sqlite3_changes(c->db) == 0)
    return rc;
  sg__store_copy_str(item->message_id, sizeof item->message_id, p->mid);
  item->seq = seq;
  item->part_status = SG_MSG_SENDING;
  return 1;
}

static int result_retry(sg__sq_conn_t *c, const sg_store_result_in_t *x,
                        int64_t now) {
  sqlite3_stmt *s = sg__sq_stmt(c, SG__Q_PART_RETRY);
  if (s == NULL)
    return SG_EIO;
  sqlite3_bind_int64(s, 1, x->part_id);
  sqlite3_bind_int64(s, 2, x->next_attempt_ms);
  sg__sq_bind_text(s, 3, x->connector);
  if (x->error_code != 0)
    sqlite3_bind_int(s, 4, x->error_code);
  sg__sq_bind_text(s, 5, x->detail);
  sqlite3_bind_int64(s, 6, now);
  int rc = step_rc(s); /* of a part found 'sending' (one_result) */
  if (rc == 0)
    sg__sq_counts_part(c, SG_MSG_SENDING, SG_MSG_QUEUED,
                       sqlite3_changes(c->db));
  return rc;
}

/* The operator's id of a SENT result as it gave it, for its event. */
static const char *sent_id(const sg_store_result_in_t *x) {
  return x->smsc_raw_id != NULL ? x->smsc_raw_id : x->smsc_id;
}

/* Records one result; request-level errors go into the item. */
static int one_result(sg__sq_conn_t *c, sg__arena_t *a,
                      const sg_store_result_in_t *x, int64_t now,
                      sg_store_item_res_t *item) {
  part_ref_t p;
  unsigned attempts = 0;
  bool paired = false; /* no receipt held for it (paired_receipt) */
  bool marked = false; /* its 'sent' event on the part (sent_mark_at) */
  int rc = x->outcome == SG_STORE_SENT
               ? sent_held(c, a, x, now, &p, item, &paired, &marked)
               : 0;
  bool written = rc == 1; /* the part's row, by sent_held */
  if (rc == 0)
    rc = load_part(c, a, x->part_id, &p, item, &attempts);
  if (rc == SG_ENOENT ||
      (rc == 0 && !written &&
       (item->part_status != SG_MSG_SENDING || attempts != x->attempt))) {
    item->status = rc == 0 ? SG_ESTATE : rc;
    return 0;
  }
  if (rc < 0)
    return rc;
  cause_t why = {p.seq, x->error_code, x->detail, 0,    SG_MSG_SENDING,
                 false, NULL,          false,     false};
  if (x->outcome == SG_STORE_FAILED) { /* the part's, from its connector */
    why.on_part = true;
    item->part_status = x->final_status;
    return part_change(c, a, &p, x->final_status, &why, now, item);
  }
  why.on_part = x->outcome == SG_STORE_SENT;
  sg_msg_status_t to =
      x->outcome == SG_STORE_SENT ? SG_MSG_SENT : SG_MSG_QUEUED;
  rc = written ? 0
       : x->outcome == SG_STORE_SENT
           ? result_sent(c, x, paired_receipt(c, x, &p), sent_mark_at(c, x, &p),
                         now, &paired, &marked)
           : result_retry(c, x, now);
  if (rc == 0 && x->outcome == SG_STORE_SENT) /* for its receipt */
    sg__sq_mc_smsc_put(c, p.connector, x->smsc_id, p.id, p.mid, p.seq);
  part_ev_t ev = {p.seq, to, x->error_code,
                  x->outcome == SG_STORE_SENT ? sent_id(x) : x->detail, now};
  why.ev = &ev;
  why.marked = marked;
  if (rc == 0)
    rc = rederive(c, a, p.mid, to, &why, now, &item->msg_status,
                  &item->msg_changed);
  item->part_status = to;
  if (rc == 0 && x->outcome == SG_STORE_SENT && !paired) /* one came first */
    rc = sg__sq_orphan_apply(c, a, p.id, p.mid, p.seq, x->smsc_id, now, item);
  return rc;
}

static int alloc_items(sg__store_req_t *r, size_t n) {
  r->out.items.items =
      sg__arena_alloc(&r->arena, n * sizeof(sg_store_item_res_t));
  r->out.items.n = n;
  return r->out.items.items == NULL ? SG_ENOMEM : 0;
}

static int run_results(sg__sq_conn_t *c, sg__store_req_t *r, int64_t now) {
  int rc = alloc_items(r, r->in.results.n);
  for (size_t i = 0; rc == 0 && i < r->in.results.n; i++)
    rc = one_result(c, &r->arena, &r->in.results.items[i], now,
                    &r->out.items.items[i]);
  return rc;
}

/* The part a receipt is for, from the writer's memory of the parts sent
 * (sqlite_mcache.h): 1 when found (then 'sent'), 0 when not, or an
 * error. */
static int receipt_held(sg__sq_conn_t *c, sg__arena_t *a,
                        const sg_store_receipt_in_t *x, int64_t *id,
                        const char **mid, unsigned *seq) {
  const char *held = sg__sq_mc_smsc_get(c, x->connector, x->smsc_id, id, seq);
  if (held == NULL)
    return 0;
  bool ok = true;
  *mid = sg__arena_strdup(a, held, &ok);
  return ok ? 1 : SG_ENOMEM;
}

static int receipt_apply(sg__sq_conn_t *c, sg__arena_t *a, int64_t part_id,
                         const char *mid, unsigned seq,
                         const sg_store_receipt_in_t *x, int64_t now,
                         sg_store_item_res_t *item, bool row_written);

/* Receipt x found part id: the part its SENT result wrote with x's status
 * in this group (sqlite_pair.h), 'sent' before as far as x is concerned
 * (1); or another part, and that one goes back to 'sent' (0); or an
 * error. */
static int receipt_paired(sg__sq_conn_t *c, const sg_store_receipt_in_t *x,
                          int64_t id) {
  int64_t written = sg__sq_pair_part(c, x);
  if (written == 0)
    return 0;
  if (written != id)
    return sg__sq_pair_undo(c, x);
  sg__sq_pair_take(c, x);
  return 1;
}

static int one_receipt(sg__sq_conn_t *c, sg__arena_t *a,
                       const sg_store_receipt_in_t *x, int64_t now,
                       sg_store_item_res_t *item) {
  int64_t pid;
  const char *pmid;
  unsigned pseq;
  int hrc = receipt_held(c, a, x, &pid, &pmid, &pseq);
  if (hrc != 0) {
    if (hrc < 0)
      return hrc;
    int prc = receipt_paired(c, x, pid);
    if (prc < 0)
      return prc;
    item->part_status = SG_MSG_SENT;
    return receipt_apply(c, a, pid, pmid, pseq, x, now, item, prc == 1);
  }
  sqlite3_stmt *s = sg__sq_stmt(c, SG__Q_PART_BY_SMSC);
  if (s == NULL)
    return SG_EIO;
  sg__sq_bind_text(s, 1, x->connector);
  sg__sq_bind_text(s, 2, x->smsc_id);
  int rc = sqlite3_step(s);
  if (rc != SQLITE_ROW) {
    sqlite3_reset(s);
    if (rc != SQLITE_DONE)
      return SG_EIO;
    return (rc = receipt_paired(c, x, 0)) < 0
               ? rc
               : sg__sq_orphan_hold(c, x, now, item);
  }
  bool ok = true;
  int64_t id = sqlite3_column_int64(s, 0);
  const char *mid = sg__sq_col_text(a, s, 1, &ok);
  unsigned seq = (unsigned)sqlite3_column_int(s, 2);
  item->part_status = sg__sq_col_status(s, 3);
  sqlite3_reset(s);
  if (!ok)
    return SG_ENOMEM;
  int prc = receipt_paired(c, x, id);
  if (prc < 0)
    return prc;
  if (prc == 1) /* its row says the receipt's status already */
    item->part_status = SG_MSG_SENT;
  return receipt_apply(c, a, id, mid, seq, x, now, item, prc == 1);
}

int sg__sq_receipt_apply(sg__sq_conn_t *c, sg__arena_t *a, int64_t part_id,
                         const char *mid, unsigned seq,
                         const sg_store_receipt_in_t *x, int64_t now,
                         sg_store_item_res_t *item) {
  return receipt_apply(c, a, part_id, mid, seq, x, now, item, false);
}

static int receipt_apply(sg__sq_conn_t *c, sg__arena_t *a, int64_t part_id,
                         const char *mid, unsigned seq,
                         const sg_store_receipt_in_t *x, int64_t now,
                         sg_store_item_res_t *item, bool row_written) {
  part_ref_t p = {part_id, mid, seq, item->part_status, x->connector};
  int rc;
  sg__store_copy_str(item->message_id, sizeof item->message_id, p.mid);
  item->seq = p.seq;
  if (x->status == SG_MSG_SENT) { /* en route, accepted: news, no change */
    rc = insert_event(c, p.mid, p.seq, SG_MSG_SENT, x->error_code, x->detail,
                      x->done_ms ? x->done_ms : now, NULL, NULL);
    return rc < 0 ? rc : derive_from_parts(c, p.mid, &item->msg_status);
  }
  if (item->part_status == x->status || item->part_status == SG_MSG_CANCELED)
    return derive_from_parts(c, p.mid, &item->msg_status);
  cause_t why = {p.seq, x->error_code, x->detail, x->done_ms, item->part_status,
                 true,  NULL,          false,     row_written};
  sg__sq_mc_smsc_drop(c, x->connector, x->smsc_id); /* no longer 'sent' */
  item->part_status = x->status;
  return part_change(c, a, &p, x->status, &why, now, item);
}

static int run_receipts(sg__sq_conn_t *c, sg__store_req_t *r, int64_t now) {
  int rc = alloc_items(r, r->in.receipts.n);
  for (size_t i = 0; rc == 0 && i < r->in.receipts.n; i++)
    rc = one_receipt(c, &r->arena, &r->in.receipts.items[i], now,
                     &r->out.items.items[i]);
  /* A part its SENT result wrote final for a receipt of r, which now
   * leaves the group, goes back to 'sent' (sqlite_pair.h). */
  if (rc < 0 && rc != SG_EIO && sg__sq_pair_failed(c, r) < 0)
    return SG_EIO;
  return rc;
}

/* ---- cancel -------------------------------------------------------------- */

static int cancel_check(sg__sq_conn_t *c, const sg__store_req_t *r,
                        sg_store_item_res_t *item) {
  sqlite3_stmt *s = sg__sq_stmt(c, SG__Q_CANCEL_GET);
  if (s == NULL)
    return SG_EIO;
  sg__sq_bind_text(s, 1, r->in.msg.id);
  int rc = sqlite3_step(s);
  if (rc == SQLITE_ROW) {
    item->msg_status = sg__sq_col_status(s, 0);
    int64_t acct = sqlite3_column_int64(s, 1);
    if (r->in.msg.account_id != 0 && acct != r->in.msg.account_id)
      rc = SQLITE_DONE;
  }
  sqlite3_reset(s);
  if (rc != SQLITE_ROW)
    return rc == SQLITE_DONE ? SG_ENOENT : SG_EIO;
  if (item->msg_status != SG_MSG_SCHEDULED && item->msg_status != SG_MSG_QUEUED)
    return SG_ESTATE;
  if ((s = sg__sq_stmt(c, SG__Q_CANCEL_CHECK)) == NULL)
    return SG_EIO;
  sg__sq_bind_text(s, 1, r->in.msg.id);
  rc = sqlite3_step(s);
  int busy = rc == SQLITE_ROW ? sqlite3_column_int(s, 0) : -1;
  sqlite3_reset(s);
  return busy < 0 ? SG_EIO : (busy > 0 ? SG_ESTATE : 0);
}

static int run_cancel(sg__sq_conn_t *c, sg__store_req_t *r, int64_t now) {
  static const cause_t why = {0,    0,           "canceled by its sender",
                              0,    SG_MSG_NONE, false,
                              NULL, false,       false};
  int rc = alloc_items(r, 1);
  if (rc < 0)
    return rc;
  sg_store_item_res_t *item = &r->out.items.items[0];
  memcpy(item->message_id, r->in.msg.id, sizeof item->message_id);
  rc = cancel_check(c, r, item);
  if (rc == SG_ENOENT || rc == SG_ESTATE) {
    item->status = rc;
    return 0;
  }
  /* Its parts are 'queued' or 'scheduled' (cancel_check), one or the
   * other (a pre-split message's parts arrive apart): /metrics' counts
   * take the statuses before and after. */
  int64_t moved[SG_MSG_STATUS_COUNT] = {0};
  if (rc == 0)
    rc = sg__sq_counts_tally(c, r->in.msg.id, -1, moved);
  sqlite3_stmt *s = rc < 0 ? NULL : sg__sq_stmt(c, SG__Q_CANCEL_PARTS);
  if (s == NULL)
    return rc < 0 ? rc : SG_EIO;
  sg__sq_bind_text(s, 1, r->in.msg.id);
  sqlite3_bind_int64(s, 2, now);
  rc = step_rc(s);
  if (rc == 0 && (rc = sg__sq_counts_tally(c, r->in.msg.id, 1, moved)) == 0)
    sg__sq_counts_parts_moved(c, moved);
  item->part_status = SG_MSG_CANCELED;
  return rc < 0 ? rc
                : rederive(c, &r->arena, r->in.msg.id, SG_MSG_CANCELED, &why,
                           now, &item->msg_status, &item->msg_changed);
}

/* ---- webhooks ------------------------------------------------------------ */

static int run_wh_enqueue(sg__sq_conn_t *c, sg__store_req_t *r, int64_t now) {
  int rc =
      insert_webhook(c, r->in.wh_enqueue.account_id,
                     r->in.wh_enqueue.message_id, 0, NULL, r->in.wh_enqueue.url,
                     r->in.wh_enqueue.payload, r->in.wh_enqueue.len, now);
  r->out.id = rc == 0 ? sqlite3_last_insert_rowid(c->db) : 0;
  return rc;
}

static int run_wh_claim(sg__sq_conn_t *c, sg__store_req_t *r, int64_t now) {
  return sg__sq_wh_claim(c, r, now);
}

static int run_wh_finish(sg__sq_conn_t *c, sg__store_req_t *r, int64_t now) {
  return sg__sq_wh_finish(c, r, now);
}

/* ---- inbound, accounts, keys, maintenance -------------------------------- */

static int run_inbound(sg__sq_conn_t *c, sg__store_req_t *r, int64_t now) {
  sg_store_inbound_t *m = &r->in.inbound.msg;
  sqlite3_stmt *s = sg__sq_stmt(c, SG__Q_INBOUND_INSERT);
  if (s == NULL)
    return SG_EIO;
  m->created_ms = now;
  sg__sq_bind_text(s, 1, m->id);
  if (m->account_id > 0)
    sqlite3_bind_int64(s, 2, m->account_id);
  sg__sq_bind_text(s, 3, m->connector);
  sg__sq_bind_text(s, 4, m->sender);
  sg__sq_bind_text(s, 5, m->recipient);
  sqlite3_bind_int(s, 6, m->encoding);
  sqlite3_bind_int(s, 7, m->binary);
  sg__sq_bind_blob(s, 8, m->body, m->body_len);
  sqlite3_bind_int(s, 9, (int)m->parts);
  sqlite3_bind_int64(s, 10, m->received_ms ? m->received_ms : now);
  sqlite3_bind_int64(s, 11, now);
  int rc = step_rc(s);
  if (rc == 0)
    sg__sq_counts_inbound(c, 1);
  if (rc < 0 || r->in.inbound.webhook_url == NULL)
    return rc;
  if ((rc = sg__store_inbound_payload(&c->json, m)) < 0)
    return rc;
  rc = insert_webhook(c, m->account_id, NULL, 0, m->id,
                      r->in.inbound.webhook_url, (const uint8_t *)c->json.p,
                      c->json.len, now);
  r->out.id = rc == 0 ? sqlite3_last_insert_rowid(c->db) : 0;
  return rc;
}

static int run_account_create(sg__sq_conn_t *c, sg__store_req_t *r,
                              int64_t now) {
  const sg_store_account_t *a = &r->in.account;
  sqlite3_stmt *s = sg__sq_stmt(c, SG__Q_ACCOUNT_INSERT);
  if (s == NULL)
    return SG_EIO;
  sg__sq_bind_text(s, 1, a->name);
  sg__sq_bind_text(s, 2, a->password_hash);
  sg__sq_bind_text(s, 3, a->webhook_url);
  sqlite3_bind_int(s, 4, a->disabled);
  sqlite3_bind_int64(s, 5, now);
  int rc = step_rc(s);
  r->out.id = rc == 0 ? sqlite3_last_insert_rowid(c->db) : 0;
  return rc;
}

static int run_apikey(sg__sq_conn_t *c, sg__store_req_t *r, int64_t now) {
  bool create = r->kind == SG__REQ_APIKEY_CREATE;
  sqlite3_stmt *s =
      sg__sq_stmt(c, create ? SG__Q_APIKEY_INSERT : SG__Q_APIKEY_REVOKE);
  if (s == NULL)
    return SG_EIO;
  if (create) {
    sqlite3_bind_int64(s, 1, r->in.apikey.account_id);
    sg__sq_bind_blob(s, 2, r->in.apikey.hash, SG_STORE_KEY_HASH_BYTES);
    sg__sq_bind_text(s, 3, r->in.apikey.label);
    sqlite3_bind_int64(s, 4, now);
  } else {
    sqlite3_bind_int64(s, 1, r->in.apikey.key_id);
    sqlite3_bind_int64(s, 2, now);
  }
  int rc = step_rc(s);
  if (rc == 0 && sqlite3_changes(c->db) == 0)
    return SG_ENOENT;
  r->out.id = rc == 0 && create ? sqlite3_last_insert_rowid(c->db) : 0;
  return rc;
}

/* The earliest of a statement's columns that is set (0: none). */
static int64_t earliest(sqlite3_stmt *s, int from, int to) {
  int64_t t = 0;
  for (int i = from; i < to; i++) {
    int64_t v = sqlite3_column_type(s, i) == SQLITE_NULL
                    ? 0
                    : sqlite3_column_int64(s, i);
    if (v > 0 && (t == 0 || v < t))
      t = v;
  }
  return t;
}

/* When maintenance has work next, after its passes (sg_store_maint_res_t):
 * the ends of parts' leases and validities, scheduled sends; and on their
 * own, when a webhook delivery is due again: a row's later attempt (a row
 * due now is out under a lease or waits for a claim: SQLite never leases
 * in the row), or the end of a lease the writer holds in memory. */
static int maint_next(sg__sq_conn_t *c, sg_store_maint_res_t *m,
                      int64_t now) {
  sqlite3_stmt *s = sg__sq_stmt(c, SG__Q_MAINT_NEXT);
  if (s == NULL)
    return SG_EIO;
  sqlite3_bind_int64(s, 1, now);
  int rc = sqlite3_step(s);
  int64_t rows = 0;
  if (rc == SQLITE_ROW) {
    m->timed = true;
    m->next_ms = earliest(s, 0, 3);
    rows = earliest(s, 3, 4);
  }
  sqlite3_reset(s);
  if (rc != SQLITE_ROW)
    return SG_EIO;
  int64_t out = 0;
  int err = sg__sq_wh_next(c, now, &out);
  if (err < 0)
    return err;
  m->webhook_next_ms = out > 0 && (rows == 0 || out < rows) ? out : rows;
  return 0;
}

static int run_maintain(sg__sq_conn_t *c, sg__store_req_t *r, int64_t now) {
  sg_store_maint_res_t *m = &r->out.maint;
  int rc = sg__sq_release_scheduled(c, r, now, &m->released, &m->released_to,
                                    &m->n_released_to);
  if (rc == 0)
    rc = sg__sq_expire(c, r, now, &m->expired);
  if (rc == 0)
    rc = sg__sq_requeue_leases(c, r, now, &m->requeued, &m->requeued_to,
                               &m->n_requeued_to);
  if (rc == 0)
    rc = requeue_webhooks(c, now, now, &m->webhooks_requeued);
  if (rc == 0)
    rc = sg__sq_presplit_expire(c, r, now, &m->expired);
  if (rc == 0)
    rc = sg__sq_orphan_expire(c, now, &m->receipts_expired);
  if (rc == 0)
    rc = sg__sq_traffic_prune(c, now, &m->traffic_pruned);
  sqlite3_stmt *s = rc == 0 ? sg__sq_stmt(c, SG__Q_IDEM_PURGE) : NULL;
  if (s == NULL)
    return rc < 0 ? rc : SG_EIO;
  sqlite3_bind_int64(s, 1, now);
  sqlite3_bind_int(s, 2, PASS_MAX);
  rc = step_rc(s);
  if (rc == 0)
    m->purged = (size_t)sqlite3_changes(c->db);
  return rc == 0 ? maint_next(c, m, now) : rc;
}

int sg__sq_run_write(sg__sq_conn_t *c, sg__store_req_t *r, int64_t now) {
  switch (r->kind) {
  case SG__REQ_SUBMIT:
    return run_submit(c, r, now);
  case SG__REQ_CLAIM:
    return run_claim(c, r, now);
  case SG__REQ_RESULTS:
    return run_results(c, r, now);
  case SG__REQ_RECEIPTS:
    return run_receipts(c, r, now);
  case SG__REQ_CANCEL:
    return run_cancel(c, r, now);
  case SG__REQ_WEBHOOK_ENQUEUE:
    return run_wh_enqueue(c, r, now);
  case SG__REQ_WEBHOOK_CLAIM:
    return run_wh_claim(c, r, now);
  case SG__REQ_WEBHOOK_FINISH:
    return run_wh_finish(c, r, now);
  case SG__REQ_INBOUND_INSERT:
    return run_inbound(c, r, now);
  case SG__REQ_ACCOUNT_CREATE:
    return run_account_create(c, r, now);
  case SG__REQ_APIKEY_CREATE:
  case SG__REQ_APIKEY_REVOKE:
    return run_apikey(c, r, now);
  case SG__REQ_SMPP_OUT_CLAIM:
    return sg__sq_smpp_out_claim(c, r, now);
  case SG__REQ_SMPP_OUT_FINISH:
    return sg__sq_smpp_out_finish(c, r);
  case SG__REQ_MAINTAIN:
    return run_maintain(c, r, now);
  case SG__REQ_MO_WRITE:
    return sg__sq_mo_write(c, r, now);
  case SG__REQ_ADMIN_WRITE:
    return sg__sq_admin_write(c, r, now);
  case SG__REQ_LIMITS_WRITE:
    return sg__sq_limits_write(c, r, now);
  case SG__REQ_SETTING_PUT:
    return sg__sq_setting_put(c, r, now);
  case SG__REQ_INR_WRITE:
    return sg__sq_inr_write(c, r, now);
  case SG__REQ_OPS_WRITE:
    return sg__sq_ops_write(c, r, now);
  case SG__REQ_CONTACTS_WRITE:
    return sg__sq_contacts_write(c, r, now);
  case SG__REQ_CAMPAIGN_WRITE:
    return sg__sq_campaigns_write(c, r, now);
  case SG__REQ_PRESPLIT:
    return sg__sq_presplit_run(c, r, now);
  case SG__REQ_NODE_BEAT:
    return sg__sq_node_beat(c, r, now);
  default:
    return SG_EINVAL;
  }
}

/* ---- for the requests of other files (sqlite_int.h) ---------------------- */

int sg__sq_part_event(sg__sq_conn_t *c, const char *mid, unsigned seq,
                      sg_msg_status_t status, int32_t code, const char *detail,
                      int64_t now) {
  return insert_event(c, mid, seq, status, code, detail, now, NULL, NULL);
}

int sg__sq_rederive(sg__sq_conn_t *c, sg__arena_t *a, const char *mid,
                    const char *detail, int64_t now, sg_msg_status_t *out) {
  const cause_t why = {0, 0, detail, 0, SG_MSG_NONE, false, NULL, false, false};
  return rederive(c, a, mid, SG_MSG_NONE, &why, now, out, NULL);
}

int sg__sq_msg_settle(sg__sq_conn_t *c, const char *mid) {
  sqlite3_stmt *s = sg__sq_stmt(c, SG__Q_MSG_SETTLE);
  if (s == NULL)
    return SG_EIO;
  sg__sq_bind_text(s, 1, mid);
  return step_rc(s); /* the writer's copy let it go at its final status */
}
