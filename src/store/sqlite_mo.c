/* sqlite_mo.c - the SQLite side of store_mo.c: parts of inbound messages
 * waiting for reassembly, the delivery of a reassembled message with its
 * webhook and opt-out change in one transaction, the inbound search and
 * opt-out lists (tables of migration 0004).
 *
 * Writes run on the writer thread inside the group's transaction, reads on
 * a reader connection. Statements here are few and not hot (a handful per
 * inbound message): they are prepared per call. This file must never
 * decide anything about a message: the engine does; it stores.
 */
#include <stdio.h>
#include <string.h>

#include "core/error.h"
#include "store/mo_int.h"
#include "store/sqlite_int.h"

static sqlite3_stmt *prep(sg__sq_conn_t *c, const char *sql) {
  sqlite3_stmt *s = NULL;
  if (sqlite3_prepare_v2(c->db, sql, -1, &s, NULL) != SQLITE_OK) {
    sqlite3_finalize(s);
    return NULL;
  }
  return s;
}

/* Steps s to its end and finalizes it: 0, SG_EEXIST or SG_EIO. */
static int run_done(sqlite3_stmt *s) {
  if (s == NULL)
    return SG_EIO;
  int rc = sg__sq_step_done(s);
  sqlite3_finalize(s);
  return sg__sq_err(rc);
}

static int count_group(sg__sq_conn_t *c, const char *grp, unsigned *have) {
  sqlite3_stmt *s =
      prep(c, "SELECT count(*) FROM inbound_parts WHERE grp = ?1");
  if (s == NULL)
    return SG_EIO;
  sg__sq_bind_text(s, 1, grp);
  int rc = sqlite3_step(s);
  *have = rc == SQLITE_ROW ? (unsigned)sqlite3_column_int(s, 0) : 0;
  sqlite3_finalize(s);
  return rc == SQLITE_ROW ? 0 : SG_EIO;
}

static int part_add(sg__sq_conn_t *c, sg__mo_req_t *m) {
  const sg_store_mo_part_t *p = &m->part;
  sqlite3_stmt *s = prep(
      c, "INSERT OR IGNORE INTO inbound_parts (grp, seq, total, connector, "
         "sender, recipient, data_coding, udh, ud, received_ms) VALUES "
         "(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10)");
  if (s == NULL)
    return SG_EIO;
  sg__sq_bind_text(s, 1, p->group);
  sqlite3_bind_int(s, 2, (int)p->seq);
  sqlite3_bind_int(s, 3, (int)p->total);
  sg__sq_bind_text(s, 4, p->connector);
  sg__sq_bind_text(s, 5, p->sender);
  sg__sq_bind_text(s, 6, p->recipient);
  sqlite3_bind_int(s, 7, p->data_coding);
  sg__sq_bind_blob(s, 8, p->udh, p->udh_len);
  sg__sq_bind_blob(s, 9, p->ud, p->ud_len);
  sqlite3_bind_int64(s, 10, p->received_ms);
  int rc = run_done(s);
  if (rc != 0)
    return rc;
  m->dup = sqlite3_changes(c->db) == 0;
  return count_group(c, p->group, &m->have);
}

static int insert_inbound(sg__sq_conn_t *c, const sg_store_inbound_t *in,
                          int64_t now) {
  sqlite3_stmt *s = prep(
      c, "INSERT INTO inbound (id, account_id, connector, sender, recipient, "
         "encoding, is_binary, body, parts, received_ms, created_ms, "
         "keyword, incomplete) VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,"
         "?12,?13)");
  if (s == NULL)
    return SG_EIO;
  sg__sq_bind_text(s, 1, in->id);
  if (in->account_id > 0)
    sqlite3_bind_int64(s, 2, in->account_id);
  sg__sq_bind_text(s, 3, in->connector);
  sg__sq_bind_text(s, 4, in->sender);
  sg__sq_bind_text(s, 5, in->recipient);
  sqlite3_bind_int(s, 6, in->encoding);
  sqlite3_bind_int(s, 7, in->binary);
  sg__sq_bind_blob(s, 8, in->body, in->body_len);
  sqlite3_bind_int(s, 9, (int)in->parts);
  sqlite3_bind_int64(s, 10, in->received_ms ? in->received_ms : now);
  sqlite3_bind_int64(s, 11, now);
  sg__sq_bind_text(s, 12, in->keyword);
  sqlite3_bind_int(s, 13, in->incomplete);
  return run_done(s);
}

static int optout_write(sg__sq_conn_t *c, int64_t account, const char *number,
                        bool add, const char *source, int64_t now,
                        int64_t *changed) {
  sqlite3_stmt *s =
      add ? prep(c, "INSERT OR IGNORE INTO optouts (account_id, number, "
                    "source, created_ms) VALUES (?1,?2,?3,?4)")
          : prep(c, "DELETE FROM optouts WHERE account_id = ?1 AND number = "
                    "?2");
  if (s == NULL)
    return SG_EIO;
  sqlite3_bind_int64(s, 1, account);
  sg__sq_bind_text(s, 2, number);
  if (add) {
    sg__sq_bind_text(s, 3, source);
    sqlite3_bind_int64(s, 4, now);
  }
  int rc = run_done(s);
  if (rc == 0)
    *changed = sqlite3_changes(c->db) > 0 ? 1 : 0;
  return rc;
}

static int deliver(sg__sq_conn_t *c, sg__store_req_t *r, int64_t now) {
  sg__mo_req_t *m = r->in.mo;
  sg_store_mo_deliver_t *d = &m->deliver;
  int rc;
  if (d->group != NULL) { /* the parts go with the message, or it is late */
    sqlite3_stmt *s = prep(c, "DELETE FROM inbound_parts WHERE grp = ?1");
    if (s == NULL)
      return SG_EIO;
    sg__sq_bind_text(s, 1, d->group);
    if ((rc = run_done(s)) != 0)
      return rc;
    if (sqlite3_changes(c->db) == 0)
      return SG_ENOENT;
  }
  d->msg.created_ms = now;
  if ((rc = insert_inbound(c, &d->msg, now)) == 0)
    sg__sq_counts_inbound(c, 1);
  if (rc != 0)
    return rc;
  int64_t changed = 0;
  if (d->optout != 0 &&
      (rc = optout_write(c, d->msg.account_id, d->optout_number, d->optout > 0,
                         "keyword", now, &changed)) != 0)
    return rc;
  if (d->action_url != NULL && (rc = sg__sq_mo_action(c, d, now)) != 0)
    return rc;
  if (d->smpp_out &&
      (rc = sg__sq_smpp_out_queue_mo(c, d->msg.account_id, d->msg.id, now)) !=
          0)
    return rc;
  if (d->webhook_url == NULL)
    return 0;
  if ((rc = sg__store_inbound_payload(&c->json, &d->msg)) < 0)
    return rc;
  const uint8_t *body = (const uint8_t *)c->json.p;
  size_t len = c->json.len;
  sqlite3_stmt *s = sg__sq_stmt(c, SG__Q_WEBHOOK_INSERT);
  if (s == NULL)
    return SG_EIO;
  if (d->msg.account_id > 0)
    sqlite3_bind_int64(s, 1, d->msg.account_id);
  sg__sq_bind_text(s, 4, d->msg.id);
  sg__sq_bind_text(s, 5, d->webhook_url);
  sg__sq_bind_blob(s, 6, body, len);
  sqlite3_bind_int64(s, 7, now);
  rc = sg__sq_err(sg__sq_step_done(s));
  m->id = rc == 0 ? sqlite3_last_insert_rowid(c->db) : 0;
  return rc;
}

int sg__sq_mo_write(sg__sq_conn_t *c, sg__store_req_t *r, int64_t now) {
  sg__mo_req_t *m = r->in.mo;
  switch (m->op) {
  case SG__MO_PART_ADD:
    return part_add(c, m);
  case SG__MO_DELIVER:
    return deliver(c, r, now);
  case SG__MO_OPTOUT_SET:
    return optout_write(c, m->optout.account_id, m->optout.number,
                        m->optout.add, m->optout.source, now, &m->id);
  default:
    return SG_EINVAL;
  }
}

/* ---- reads --------------------------------------------------------------- */

static int due(sg__sq_conn_t *c, sg__store_req_t *r) {
  sg__mo_req_t *m = r->in.mo;
  sqlite3_stmt *s = prep(
      c, "SELECT grp, seq, total, connector, sender, recipient, data_coding, "
         "udh, ud, received_ms FROM inbound_parts WHERE grp IN (SELECT grp "
         "FROM inbound_parts GROUP BY grp HAVING count(*) >= max(total) OR "
         "min(received_ms) < ?1 ORDER BY min(id) LIMIT ?2) ORDER BY grp, seq");
  if (s == NULL)
    return SG_EIO;
  sqlite3_bind_int64(s, 1, m->due.stale_before_ms);
  sqlite3_bind_int(s, 2, (int)m->due.max_groups);
  size_t cap = 0;
  bool ok = true;
  int rc;
  while (ok && (rc = sqlite3_step(s)) == SQLITE_ROW) {
    if (m->n_parts == cap) { /* arena memory: grow by copying */
      sg_store_mo_part_t *np =
          sg__arena_grow(&r->arena, m->parts, m->n_parts, &cap, 64, sizeof *np);
      if (np == NULL) {
        ok = false;
        break;
      }
      m->parts = np;
    }
    sg_store_mo_part_t *p = &m->parts[m->n_parts++];
    p->group = sg__sq_col_text(&r->arena, s, 0, &ok);
    p->seq = (unsigned)sqlite3_column_int(s, 1);
    p->total = (unsigned)sqlite3_column_int(s, 2);
    p->connector = sg__sq_col_text(&r->arena, s, 3, &ok);
    p->sender = sg__sq_col_text(&r->arena, s, 4, &ok);
    p->recipient = sg__sq_col_text(&r->arena, s, 5, &ok);
    p->data_coding = (uint8_t)sqlite3_column_int(s, 6);
    p->udh = sg__sq_col_blob(&r->arena, s, 7, &p->udh_len, &ok);
    p->ud = sg__sq_col_blob(&r->arena, s, 8, &p->ud_len, &ok);
    p->received_ms = sqlite3_column_int64(s, 9);
  }
  sqlite3_finalize(s);
  if (!ok)
    return SG_ENOMEM;
  return rc == SQLITE_DONE ? 0 : SG_EIO;
}

static void read_row(sg__arena_t *a, sqlite3_stmt *s, sg_store_inbound_t *m,
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
  m->keyword = sg__sq_col_text(a, s, 11, ok);
  m->incomplete = sqlite3_column_int(s, 12) != 0;
}

static int search(sg__sq_conn_t *c, sg__store_req_t *r) {
  sg__mo_req_t *m = r->in.mo;
  const sg_store_inbound_filter_t *f = &m->filter;
  char sql[700];
  snprintf(sql, sizeof sql,
           "SELECT " SG__SQ_INBOUND_COLS ", keyword, incomplete FROM inbound "
           "WHERE 1%s%s%s%s%s%s%s ORDER BY id DESC LIMIT ?8",
           f->account_id ? " AND account_id = ?1" : "",
           f->sender ? " AND sender = ?2" : "",
           f->recipient ? " AND recipient = ?3" : "",
           f->keyword ? " AND keyword = ?4" : "",
           f->since_ms ? " AND received_ms >= ?5" : "",
           f->until_ms ? " AND received_ms < ?6" : "",
           f->cursor ? " AND id < ?7" : "");
  sqlite3_stmt *s = prep(c, sql);
  sg_store_inbound_t *msgs =
      sg__arena_alloc(&r->arena, f->limit * sizeof *msgs);
  if (s == NULL || msgs == NULL) {
    sqlite3_finalize(s);
    return s == NULL ? SG_EIO : SG_ENOMEM;
  }
  if (f->account_id)
    sqlite3_bind_int64(s, 1, f->account_id);
  sg__sq_bind_text(s, 2, f->sender);
  sg__sq_bind_text(s, 3, f->recipient);
  sg__sq_bind_text(s, 4, f->keyword);
  sqlite3_bind_int64(s, 5, f->since_ms);
  sqlite3_bind_int64(s, 6, f->until_ms);
  sg__sq_bind_text(s, 7, f->cursor);
  sqlite3_bind_int(s, 8, (int)f->limit + 1);
  bool ok = true;
  size_t n = 0;
  int rc;
  while (ok && (rc = sqlite3_step(s)) == SQLITE_ROW) {
    if (n == f->limit) {
      memcpy(m->inbound.next_cursor, msgs[n - 1].id, SG_ID_LEN + 1);
      rc = SQLITE_DONE;
      break;
    }
    read_row(&r->arena, s, &msgs[n++], &ok);
  }
  sqlite3_finalize(s);
  m->inbound.msgs = msgs;
  m->inbound.n = n;
  if (!ok)
    return SG_ENOMEM;
  return rc == SQLITE_DONE ? 0 : SG_EIO;
}

static int optout_list(sg__sq_conn_t *c, sg__store_req_t *r) {
  sg__mo_req_t *m = r->in.mo;
  unsigned limit = m->optout.limit;
  sqlite3_stmt *s =
      prep(c, m->optout.number
                  ? "SELECT account_id, number, source, created_ms FROM "
                    "optouts WHERE account_id = ?1 AND number = ?2"
                  : "SELECT account_id, number, source, created_ms FROM "
                    "optouts WHERE account_id = ?1 AND number > ?3 ORDER BY "
                    "number LIMIT ?4");
  sg_store_optout_t *items =
      sg__arena_alloc(&r->arena, (limit + 1) * sizeof *items);
  if (s == NULL || items == NULL) {
    sqlite3_finalize(s);
    return s == NULL ? SG_EIO : SG_ENOMEM;
  }
  sqlite3_bind_int64(s, 1, m->optout.account_id);
  if (m->optout.number != NULL)
    sg__sq_bind_text(s, 2, m->optout.number);
  else {
    sg__sq_bind_text(s, 3, m->optout.cursor ? m->optout.cursor : "");
    sqlite3_bind_int(s, 4, (int)limit + 1);
  }
  bool ok = true;
  size_t n = 0;
  int rc;
  while (ok && (rc = sqlite3_step(s)) == SQLITE_ROW) {
    if (n == limit) {
      snprintf(m->optouts.next_cursor, sizeof m->optouts.next_cursor, "%s",
               items[n - 1].number);
      rc = SQLITE_DONE;
      break;
    }
    sg_store_optout_t *o = &items[n++];
    o->account_id = sqlite3_column_int64(s, 0);
    o->number = sg__sq_col_text(&r->arena, s, 1, &ok);
    o->source = sg__sq_col_text(&r->arena, s, 2, &ok);
    o->created_ms = sqlite3_column_int64(s, 3);
  }
  sqlite3_finalize(s);
  m->optouts.items = items;
  m->optouts.n = n;
  if (!ok)
    return SG_ENOMEM;
  return rc == SQLITE_DONE ? 0 : SG_EIO;
}

int sg__sq_mo_read(sg__sq_conn_t *c, sg__store_req_t *r) {
  switch (r->in.mo->op) {
  case SG__MO_DUE:
    return due(c, r);
  case SG__MO_SEARCH:
    return search(c, r);
  case SG__MO_OPTOUT_LIST:
    return optout_list(c, r);
  default:
    return SG_EINVAL;
  }
}
