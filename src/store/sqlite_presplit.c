/* sqlite_presplit.c - the SQLite side of customers' pre-split parts
 * (store.h "customers' pre-split parts"): a part finds its message (named,
 * or by its group's key while the group waits) and is added to it at its
 * own seq, or creates it; a message with parts still missing is never
 * derived 'delivered'; a part of a pre-split message that ends queues its
 * own SMPP receipt; and a wait that ran out records the missing parts as
 * failed.
 *
 * Runs on the writer thread inside the group's transaction, like
 * sqlite_write.c; it must never begin or end a transaction nor touch the
 * loop, and a request it refuses (a duplicate or out-of-range seq, a
 * canceled message) must be refused before anything is written.
 */
#include <stdio.h>
#include <string.h>

#include "core/error.h"
#include "store/sqlite_int.h"

#define EXPIRE_MAX 100 /* waits ended per maintenance pass */

static int step_rc(sqlite3_stmt *s) {
  return s == NULL ? SG_EIO : sg__sq_err(sg__sq_step_done(s));
}

/* What the part's message is, when it exists. */
typedef struct target {
  int64_t account_id;
  unsigned total, have;
  bool seq_taken;
  sg_msg_status_t status;
  int64_t send_at_ms;
} target_t;

/* Reads message mid as a target for part seq: 0, or SG_ENOENT. */
static int read_target(sg__sq_conn_t *c, const char *mid, unsigned seq,
                       target_t *t) {
  sqlite3_stmt *s = sg__sq_stmt(c, SG__Q_PRESPLIT_MSG);
  if (s == NULL)
    return SG_EIO;
  sg__sq_bind_text(s, 1, mid);
  sqlite3_bind_int(s, 2, (int)seq);
  int rc = sqlite3_step(s);
  if (rc == SQLITE_ROW) {
    t->account_id = sqlite3_column_int64(s, 0);
    t->total = (unsigned)sqlite3_column_int(s, 1);
    t->status = sg__sq_col_status(s, 2);
    t->send_at_ms = sqlite3_column_int64(s, 3);
    t->have = (unsigned)sqlite3_column_int(s, 4);
    t->seq_taken = sqlite3_column_int(s, 5) > 0;
  }
  sqlite3_reset(s);
  if (rc != SQLITE_ROW)
    return rc == SQLITE_DONE ? SG_ENOENT : SG_EIO;
  return 0;
}

/* The message of the part's group whose wait is open, into mid ("" when
 * none). */
static int find_group(sg__sq_conn_t *c, const sg_store_batch_t *b,
                      const sg_store_presplit_t *ps, int64_t now,
                      char mid[SG_ID_LEN + 1]) {
  const sg_store_msg_in_t *m = &b->msgs[0];
  sqlite3_stmt *s = sg__sq_stmt(c, SG__Q_PRESPLIT_FIND);
  if (s == NULL)
    return SG_EIO;
  sqlite3_bind_int64(s, 1, b->account_id);
  sg__sq_bind_text(s, 2, m->recipient);
  sqlite3_bind_int(s, 3, ps->ref);
  sqlite3_bind_int(s, 4, ps->total);
  sg__sq_bind_text(s, 5, m->sender);
  sqlite3_bind_int64(s, 6, now);
  mid[0] = '\0';
  int rc = sqlite3_step(s);
  if (rc == SQLITE_ROW) {
    const unsigned char *v = sqlite3_column_text(s, 0);
    snprintf(mid, SG_ID_LEN + 1, "%s", v != NULL ? (const char *)v : "");
  }
  sqlite3_reset(s);
  return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : SG_EIO;
}

/* The part as it came, at its own seq of message mid. */
static int insert_part(sg__sq_conn_t *c, const char *mid,
                       const sg_store_msg_in_t *m,
                       const sg_store_presplit_t *ps, sg_msg_status_t status,
                       int64_t now) {
  const sg_store_part_in_t *p = &m->parts[0];
  sqlite3_stmt *s = sg__sq_stmt(c, SG__Q_PART_INSERT);
  if (s == NULL)
    return SG_EIO;
  sg__sq_bind_text(s, 1, mid);
  sqlite3_bind_int(s, 2, ps->seq);
  sg__sq_bind_text(s, 3, p->connector);
  sqlite3_bind_int(s, 4, p->encoding);
  sqlite3_bind_int(s, 5, p->lang_locking);
  sqlite3_bind_int(s, 6, p->lang_single);
  sg__sq_bind_blob(s, 7, p->udh, p->udh_len);
  sg__sq_bind_blob(s, 8, p->ud, p->ud_len);
  sqlite3_bind_int(s, 9, ps->ref);
  sqlite3_bind_int(s, 10, ps->total);
  sqlite3_bind_int(s, 11, m->priority);
  sg__sq_bind_opt_ms(s, 12, m->validity_ms);
  sg__sq_bind_text(s, 13, sg_store_status_name(status));
  sqlite3_bind_int64(s, 14, now);
  int rc = step_rc(s);
  if (rc == 0)
    sg__sq_counts_part(c, SG_MSG_NONE, status, 1);
  return rc;
}

/* The group row: its wait moved to wait_ms from now, or gone when the
 * message is whole. */
static int put_group(sg__sq_conn_t *c, const char *mid,
                     const sg_store_batch_t *b, const sg_store_presplit_t *ps,
                     bool whole, int64_t now) {
  const sg_store_msg_in_t *m = &b->msgs[0];
  sqlite3_stmt *s = sg__sq_stmt(c, whole ? SG__Q_PRESPLIT_GROUP_DEL
                                         : SG__Q_PRESPLIT_GROUP_PUT);
  if (s == NULL)
    return SG_EIO;
  sg__sq_bind_text(s, 1, mid);
  if (!whole) {
    sqlite3_bind_int64(s, 2, b->account_id);
    sg__sq_bind_text(s, 3, m->sender);
    sg__sq_bind_text(s, 4, m->recipient);
    sqlite3_bind_int(s, 5, ps->ref);
    sqlite3_bind_int(s, 6, ps->total);
    sqlite3_bind_int64(s, 7, now + ps->wait_ms);
  }
  return step_rc(s);
}

/* A new message of ps->total parts holding this one part. */
static int create(sg__sq_conn_t *c, const sg_store_batch_t *b,
                  const sg_store_presplit_t *ps, int64_t now) {
  const sg_store_msg_in_t *m = &b->msgs[0];
  sg_msg_status_t status =
      m->send_at_ms > now ? SG_MSG_SCHEDULED : SG_MSG_QUEUED;
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
  sqlite3_bind_int(s, 16, ps->total);
  sqlite3_bind_int64(s, 17, now);
  sg__sq_bind_kannel(s, 18, m);
  int rc = step_rc(s);
  if (rc == 0)
    rc = sg__sq_campaign_count(c, b->batch_id, SG_MSG_NONE, status);
  if (rc == 0)
    rc = sg__sq_traffic_note(c, b->account_id, now, SG_MSG_NONE, status);
  if (rc == 0)
    sg__sq_counts_msg(c, SG_MSG_NONE, status);
  if (rc == 0)
    rc = insert_part(c, m->id, m, ps, status, now);
  if (rc == 0 && m->smpp != NULL &&
      (rc = sg__sq_smpp_origin_insert(c, b->account_id, m, now)) == 0) {
    if ((s = sg__sq_stmt(c, SG__Q_PRESPLIT_ORIGIN)) == NULL)
      return SG_EIO;
    sg__sq_bind_text(s, 1, m->id);
    rc = step_rc(s);
  }
  if (rc == 0)
    rc = sg__sq_part_event(c, m->id, 0, status, 0, NULL, now);
  return rc == 0 ? put_group(c, m->id, b, ps, false, now) : rc;
}

/* Why message t cannot take part ps (0: it can). */
static int refusal(const target_t *t, const sg_store_presplit_t *ps) {
  if (t->status == SG_MSG_CANCELED)
    return SG_ESTATE;
  if (ps->seq > t->total)
    return SG_ERANGE;
  return t->seq_taken ? SG_EEXIST : 0;
}

/* Adds the part to message mid (t read, refusal() passed). */
static int add(sg__sq_conn_t *c, sg__arena_t *a, const char *mid,
               const target_t *t, const sg_store_batch_t *b,
               const sg_store_presplit_t *ps, int64_t now) {
  sg_msg_status_t status =
      t->send_at_ms > now ? SG_MSG_SCHEDULED : SG_MSG_QUEUED;
  int rc = insert_part(c, mid, &b->msgs[0], ps, status, now);
  if (rc == 0)
    rc = sg__sq_part_event(c, mid, ps->seq, status, 0, "part arrived", now);
  if (rc == 0)
    rc = sg__sq_rederive_msg(c, a, mid, ps->seq, SG_MSG_NONE, "part arrived",
                             now);
  if (rc == 0)
    rc = put_group(c, mid, b, ps, t->have + 1 >= t->total, now);
  return rc;
}

int sg__sq_presplit_run(sg__sq_conn_t *c, sg__store_req_t *r, int64_t now) {
  const sg_store_batch_t *b = &r->in.presplit.batch;
  const sg_store_presplit_t *ps = &r->in.presplit.ps;
  sg_store_presplit_res_t *out = &r->out.presplit;
  char mid[SG_ID_LEN + 1];
  int rc = 0;
  if (ps->message_id[0] != '\0')
    memcpy(mid, ps->message_id, sizeof mid);
  else
    rc = find_group(c, b, ps, now, mid);
  target_t t;
  memset(&t, 0, sizeof t);
  if (rc == 0 && mid[0] != '\0') {
    rc = read_target(c, mid, ps->seq, &t);
    if (rc == 0 && t.account_id != b->account_id)
      rc = SG_ENOENT;
    if (rc == 0) /* before anything is written */
      rc = refusal(&t, ps);
  }
  if (rc < 0)
    return rc;
  if ((b->usage_parts > 0 || b->charge_micro > 0) &&
      (rc = sg__sq_limits_submit(c, b, now)) != 0)
    return rc;
  if (mid[0] == '\0') {
    memcpy(out->message_id, b->msgs[0].id, sizeof out->message_id);
    out->created = true;
    rc = create(c, b, ps, now);
  } else {
    memcpy(out->message_id, mid, sizeof out->message_id);
    rc = add(c, &r->arena, mid, &t, b, ps, now);
    out->whole = rc == 0 && t.have + 1 >= t.total;
  }
  if (rc == 0 && b->usage_parts > 0) /* after its rows: see sqlite_int.h */
    rc = sg__sq_limits_usage(c, b);
  out->seq = ps->seq;
  return rc;
}

/* ---- status and receipts ------------------------------------------------- */

static int count_parts(sg__sq_conn_t *c, const char *mid, unsigned *n) {
  sqlite3_stmt *s = sg__sq_stmt(c, SG__Q_PRESPLIT_COUNT);
  if (s == NULL)
    return SG_EIO;
  sg__sq_bind_text(s, 1, mid);
  int rc = sqlite3_step(s);
  *n = rc == SQLITE_ROW ? (unsigned)sqlite3_column_int(s, 0) : 0;
  sqlite3_reset(s);
  return rc == SQLITE_ROW ? 0 : SG_EIO;
}

static int queue_part_receipt(sg__sq_conn_t *c, const char *mid, unsigned seq,
                              sg_msg_status_t st, int32_t code, int64_t now) {
  sqlite3_stmt *s = sg__sq_stmt(c, SG__Q_PRESPLIT_OUT_QUEUE);
  if (s == NULL)
    return SG_EIO;
  bool failure = st != SG_MSG_DELIVERED;
  sg__sq_bind_text(s, 1, mid);
  sg__sq_bind_text(s, 2, sg_store_status_name(st));
  if (failure && code != 0)
    sqlite3_bind_int(s, 3, code);
  sqlite3_bind_int64(s, 4, now);
  sqlite3_bind_int(s, 5, failure);
  sqlite3_bind_int(s, 6, (int)seq);
  return step_rc(s);
}

int sg__sq_presplit_derived(sg__sq_conn_t *c, const char *mid, unsigned total,
                            sg_msg_status_t part_to, unsigned seq, int32_t code,
                            int64_t now, sg_msg_status_t *to) {
  int rc = 0;
  if (seq > 0 && sg_store_status_final(part_to) && part_to != SG_MSG_CANCELED)
    rc = queue_part_receipt(c, mid, seq, part_to, code, now);
  if (rc == 0 && *to == SG_MSG_DELIVERED) {
    unsigned have;
    rc = count_parts(c, mid, &have);
    if (rc == 0 && have < total) /* the rest may still come */
      *to = SG_MSG_SENDING;
  }
  return rc;
}

/* ---- the end of a wait --------------------------------------------------- */

/* Records every part of mid (of total) that never came as failed. */
static int end_wait(sg__sq_conn_t *c, sg__arena_t *a, const char *mid,
                    unsigned total, int64_t now) {
  uint8_t have[256] = {0};
  sqlite3_stmt *s = sg__sq_stmt(c, SG__Q_PRESPLIT_HAVE);
  if (s == NULL)
    return SG_EIO;
  sg__sq_bind_text(s, 1, mid);
  int rc;
  while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
    int seq = sqlite3_column_int(s, 0);
    if (seq > 0 && seq < 256)
      have[seq] = 1;
  }
  sqlite3_reset(s);
  if (rc != SQLITE_DONE)
    return SG_EIO;
  rc = 0;
  for (unsigned seq = 1; rc == 0 && seq <= total && seq < 256; seq++) {
    if (have[seq])
      continue;
    if ((s = sg__sq_stmt(c, SG__Q_PRESPLIT_MISSING)) == NULL)
      return SG_EIO;
    sg__sq_bind_text(s, 1, mid);
    sqlite3_bind_int(s, 2, (int)seq);
    sqlite3_bind_int(s, 3, (int)total);
    sqlite3_bind_int64(s, 4, now);
    rc = step_rc(s);
    if (rc == 0)
      sg__sq_counts_part(c, SG_MSG_NONE, SG_MSG_FAILED, 1);
    if (rc == 0)
      rc = sg__sq_part_event(c, mid, seq, SG_MSG_FAILED, 0,
                             "the part never arrived from the customer", now);
  }
  if (rc == 0)
    rc = sg__sq_rederive_msg(c, a, mid, 0, SG_MSG_NONE,
                             "parts never arrived from the customer", now);
  if (rc == 0 && (s = sg__sq_stmt(c, SG__Q_PRESPLIT_GROUP_DEL)) == NULL)
    return SG_EIO;
  if (rc == 0) {
    sg__sq_bind_text(s, 1, mid);
    rc = step_rc(s);
  }
  return rc;
}

int sg__sq_presplit_expire(sg__sq_conn_t *c, sg__store_req_t *r, int64_t now,
                           size_t *n) {
  const char *ids[EXPIRE_MAX];
  unsigned totals[EXPIRE_MAX];
  size_t k = 0;
  bool ok = true;
  sqlite3_stmt *s = sg__sq_stmt(c, SG__Q_PRESPLIT_DUE);
  if (s == NULL)
    return SG_EIO;
  sqlite3_bind_int64(s, 1, now);
  sqlite3_bind_int(s, 2, EXPIRE_MAX);
  int rc;
  while ((rc = sqlite3_step(s)) == SQLITE_ROW && k < EXPIRE_MAX) {
    ids[k] = sg__sq_col_text(&r->arena, s, 0, &ok);
    totals[k++] = (unsigned)sqlite3_column_int(s, 1);
  }
  sqlite3_reset(s);
  if (rc != SQLITE_DONE && rc != SQLITE_ROW)
    return SG_EIO;
  if (!ok)
    return SG_ENOMEM;
  rc = 0;
  for (size_t i = 0; rc == 0 && i < k; i++)
    rc = end_wait(c, &r->arena, ids[i], totals[i], now);
  if (rc == 0)
    *n += k;
  return rc;
}
