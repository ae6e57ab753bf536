/* sqlite_smpp_out.c - the SQLite side of the receipts owed to SMPP
 * customers (store.h "SMPP RECEIPTS"): the origin row written with a
 * message, the queue row written with its final status (or with an
 * incoming message for the customer), and the claim and finish requests
 * of the SMPP server. A claim writes nothing: its leases are kept in the
 * writer's memory (sqlite_lease.h), and after a crash or a stop every
 * receipt not answered is offered again. While the SMPP server takes
 * hand-offs (store.h sg_store_smpp_out_handoff), a receipt row is also
 * read and leased as it is queued and goes back with its request, so that
 * the server sends it from the commit's results without a claim; the row
 * stays the durable copy until the customer answered.
 *
 * Runs on the writer thread inside the group's transaction, like
 * sqlite_write.c; it must never begin or end a transaction nor touch the
 * loop.
 */
#include <stdatomic.h>
#include <string.h>

#include "core/alloc.h"
#include "core/error.h"
#include "store/sqlite_int.h"
#include "store/sqlite_lease.h"

static int step_rc(sqlite3_stmt *s) {
  return s == NULL ? SG_EIO : sg__sq_err(sg__sq_step_done(s));
}

int sg__sq_smpp_origin_insert(sg__sq_conn_t *c, int64_t account_id,
                              const sg_store_msg_in_t *m, int64_t now) {
  const sg_store_smpp_origin_t *o = m->smpp;
  sqlite3_stmt *s = sg__sq_stmt(c, SG__Q_SMPP_ORIGIN_INSERT);
  if (s == NULL)
    return SG_EIO;
  sg__sq_bind_text(s, 1, m->id);
  sqlite3_bind_int64(s, 2, account_id);
  sqlite3_bind_int(s, 3, o->registered_delivery);
  sqlite3_bind_int(s, 4, o->source_ton);
  sqlite3_bind_int(s, 5, o->source_npi);
  sg__sq_bind_text(s, 6, o->source_addr);
  sqlite3_bind_int(s, 7, o->dest_ton);
  sqlite3_bind_int(s, 8, o->dest_npi);
  sg__sq_bind_text(s, 9, o->dest_addr);
  sqlite3_bind_int64(s, 10, now);
  c->smpp_origins = true; /* from now on final statuses look (even if the
                             transaction is rolled back: that only costs) */
  return step_rc(s);
}

int sg__sq_smpp_origins_probe(sg__sq_conn_t *c) {
  return sg__sq_probe_once(c, SG__Q_SMPP_ORIGIN_ANY, &c->smpp_origins);
}

static bool handing_off(const sg__sq_conn_t *c) {
  return c->cur != NULL && atomic_load(&c->st->handoff_on);
}

static int queue_handed(sg__sq_conn_t *c, const char *mid,
                        sg_msg_status_t status, int32_t code, int64_t now);

/* A receipt row when the message has an SMPP origin that asked for one:
 * registered_delivery 01 always, 10 on a failure only (SMPP 3.4 5.2.17).
 * A message without an origin costs one primary-key probe, and none while
 * no message has one (c->smpp_origins). */
int sg__sq_smpp_out_queue(sg__sq_conn_t *c, const char *mid,
                          sg_msg_status_t status, int32_t code, int64_t now) {
  if (!c->smpp_origins) /* no message has an origin: nothing to look up */
    return 0;
  if (handing_off(c))
    return queue_handed(c, mid, status, code, now);
  sqlite3_stmt *s = sg__sq_stmt(c, SG__Q_SMPP_OUT_QUEUE);
  if (s == NULL)
    return SG_EIO;
  bool failure = status != SG_MSG_DELIVERED;
  sg__sq_bind_text(s, 1, mid);
  sg__sq_bind_text(s, 2, sg_store_status_name(status));
  if (code != 0)
    sqlite3_bind_int(s, 3, code);
  sqlite3_bind_int64(s, 4, now);
  sqlite3_bind_int(s, 5, failure);
  return step_rc(s);
}

/* An incoming message queued for the account's SMPP receivers
 * (migration 0006, kind 1). */
int sg__sq_smpp_out_queue_mo(sg__sq_conn_t *c, int64_t account_id,
                             const char *inbound_id, int64_t now) {
  sqlite3_stmt *s = sg__sq_stmt(c, SG__Q_SMPP_OUT_QUEUE_MO);
  if (s == NULL)
    return SG_EIO;
  sqlite3_bind_int64(s, 1, account_id);
  sg__sq_bind_text(s, 2, inbound_id);
  sqlite3_bind_int64(s, 3, now);
  return step_rc(s);
}

static int drop_old(sg__sq_conn_t *c, int64_t account, int64_t before,
                    size_t *dropped) {
  for (;;) {
    sqlite3_stmt *s = sg__sq_stmt(c, SG__Q_SMPP_OUT_DROP);
    if (s == NULL)
      return SG_EIO;
    sqlite3_bind_int64(s, 1, account);
    sqlite3_bind_int64(s, 2, before);
    int rc = step_rc(s);
    if (rc < 0)
      return rc;
    int n = sqlite3_changes(c->db);
    *dropped += (size_t)n;
    if (n < 1000)
      return 0;
  }
}

/* The origin and message columns, in the order SMPP_OUT_ROW and
 * SMPP_OUT_ORIGIN both select them, from column `first` on. */
static void origin_cols(sg__arena_t *a, sqlite3_stmt *s, int first,
                        sg_store_smpp_out_t *o, bool *ok) {
  o->origin.registered_delivery = (uint8_t)sqlite3_column_int(s, first);
  o->origin.source_ton = (uint8_t)sqlite3_column_int(s, first + 1);
  o->origin.source_npi = (uint8_t)sqlite3_column_int(s, first + 2);
  o->origin.source_addr = sg__sq_col_text(a, s, first + 3, ok);
  o->origin.dest_ton = (uint8_t)sqlite3_column_int(s, first + 4);
  o->origin.dest_npi = (uint8_t)sqlite3_column_int(s, first + 5);
  o->origin.dest_addr = sg__sq_col_text(a, s, first + 6, ok);
  o->submit_ms = sqlite3_column_int64(s, first + 7);
  o->body = sg__sq_col_blob(a, s, first + 8, &o->body_len, ok);
  o->binary = sqlite3_column_int(s, first + 9) != 0;
  o->recipient = sg__sq_col_text(a, s, first + 10, ok);
}

static void read_row(sg__arena_t *a, sqlite3_stmt *s, sg_store_smpp_out_t *o,
                     bool *ok) {
  memset(o, 0, sizeof *o);
  o->id = sqlite3_column_int64(s, 0);
  sg__store_copy_str(o->message_id, sizeof o->message_id,
                     (const char *)sqlite3_column_text(s, 1));
  o->status = sg__sq_col_status(s, 2);
  o->error_code = sqlite3_column_int(s, 3);
  o->done_ms = sqlite3_column_int64(s, 4);
  o->attempts = (unsigned)sqlite3_column_int(s, 5) + 1;
  origin_cols(a, s, 6, o, ok);
  o->mo = sqlite3_column_int(s, 17) == 1;
  o->part_seq = (unsigned)sqlite3_column_int(s, 20);
  o->account_id = sqlite3_column_int64(s, 21);
  if (o->mo) {
    o->status = SG_MSG_NONE;
    o->sender = sg__sq_col_text(a, s, 18, ok);
    o->received_ms = sqlite3_column_int64(s, 19);
  }
}

/* ---- leases ------------------------------------------------------------ */

struct sg__sq_sol {
  sg__sq_leases_t l;
};

static struct sg__sq_sol *sol(sg__sq_conn_t *c) {
  if (c->sol == NULL)
    c->sol = sg_calloc(1, sizeof *c->sol);
  return c->sol;
}

void sg__sq_smpp_out_tx_end(sg__sq_conn_t *c, bool committed) {
  if (c->sol != NULL)
    sg__sq_lease_tx_end(&c->sol->l, committed);
}

void sg__sq_smpp_out_close(sg__sq_conn_t *c) {
  if (c->sol == NULL)
    return;
  sg__sq_lease_free(&c->sol->l);
  sg_free(c->sol);
  c->sol = NULL;
}

/* ---- claim --------------------------------------------------------------- */

/* The ids of up to max of the account's rows that no live lease holds,
 * oldest first, from the index alone. */
static int free_ids(sg__sq_conn_t *c, int64_t account, unsigned max,
                    int64_t now, int64_t *ids, size_t *n) {
  sqlite3_stmt *s = sg__sq_stmt(c, SG__Q_SMPP_OUT_IDS);
  if (s == NULL)
    return SG_EIO;
  sqlite3_bind_int64(s, 1, account);
  sqlite3_bind_int64(s, 2, (int64_t)max + (int64_t)c->sol->l.n);
  int rc = SQLITE_DONE;
  *n = 0;
  while (*n < max && (rc = sqlite3_step(s)) == SQLITE_ROW) {
    int64_t id = sqlite3_column_int64(s, 0);
    if (!sg__sq_lease_held(&c->sol->l, id, now))
      ids[(*n)++] = id;
  }
  sqlite3_reset(s);
  return *n < max && rc != SQLITE_DONE ? SG_EIO : 0;
}

/* Reads row id into *o; 1 when its message or incoming message is gone
 * (the row is deleted then: nothing is left to send). */
static int read_one(sg__sq_conn_t *c, sg__arena_t *a, int64_t id,
                    sg_store_smpp_out_t *o) {
  sqlite3_stmt *s = sg__sq_stmt(c, SG__Q_SMPP_OUT_ROW);
  if (s == NULL)
    return SG_EIO;
  sqlite3_bind_int64(s, 1, id);
  int rc = sqlite3_step(s);
  bool ok = true;
  if (rc == SQLITE_ROW)
    read_row(a, s, o, &ok);
  sqlite3_reset(s);
  if (rc == SQLITE_DONE) {
    sqlite3_stmt *d = sg__sq_stmt(c, SG__Q_SMPP_OUT_DONE);
    if (d == NULL)
      return SG_EIO;
    sqlite3_bind_int64(d, 1, id);
    return step_rc(d) < 0 ? SG_EIO : 1;
  }
  if (rc != SQLITE_ROW)
    return SG_EIO;
  return ok ? 0 : SG_ENOMEM;
}

static int claim_rows(sg__sq_conn_t *c, sg__store_req_t *r, int64_t now) {
  unsigned max = r->in.smpp_claim.max;
  sg_store_smpp_out_t *out = sg__arena_alloc(&r->arena, max * sizeof *out);
  int64_t *ids = sg__arena_alloc(&r->arena, max * sizeof *ids);
  if (out == NULL || ids == NULL)
    return SG_ENOMEM;
  size_t k = 0, n = 0;
  int rc = free_ids(c, r->in.smpp_claim.account_id, max, now, ids, &k);
  int64_t until = now + r->in.smpp_claim.lease_ms;
  for (size_t i = 0; rc == 0 && i < k; i++) {
    unsigned tries;
    rc = read_one(c, &r->arena, ids[i], &out[n]);
    if (rc == 0)
      rc = sg__sq_lease_take(&c->sol->l, ids[i], until, now, &tries);
    if (rc == 0)
      out[n++].attempts += tries - 1;
    else if (rc == 1)
      rc = 0;
  }
  /* A claim that fails hands nothing out: it must hold no lease either. */
  for (size_t i = 0; rc < 0 && i < n; i++)
    sg__sq_lease_drop(&c->sol->l, out[i].id);
  r->out.smpp_out.items = out;
  r->out.smpp_out.n = rc < 0 ? 0 : n;
  return rc;
}

int sg__sq_smpp_out_claim(sg__sq_conn_t *c, sg__store_req_t *r, int64_t now) {
  r->out.smpp_out.dropped = 0;
  if (sol(c) == NULL)
    return SG_ENOMEM;
  int rc = 0;
  if (r->in.smpp_claim.max_age_ms > 0)
    rc = drop_old(c, r->in.smpp_claim.account_id,
                  now - r->in.smpp_claim.max_age_ms, &r->out.smpp_out.dropped);
  return rc == 0 ? claim_rows(c, r, now) : rc;
}

/* ---- hand-off ------------------------------------------------------------ */

/* A free slot at the end of r's hand-offs, or NULL (out of memory). */
static sg_store_smpp_out_t *handoff_slot(sg__store_req_t *r) {
  if (r->n_handoff == r->cap_handoff) {
    sg_store_smpp_out_t *h = sg__arena_grow(&r->arena, r->handoff, r->n_handoff,
                                            &r->cap_handoff, 4, sizeof *h);
    if (h == NULL)
      return NULL;
    r->handoff = h;
  }
  return &r->handoff[r->n_handoff];
}

/* The origin and message columns of SMPP_OUT_ORIGIN into *o, as read_row
 * reads them from SMPP_OUT_ROW. */
static void origin_row(sg__arena_t *a, sqlite3_stmt *s, sg_store_smpp_out_t *o,
                       bool *ok) {
  o->account_id = sqlite3_column_int64(s, 0);
  origin_cols(a, s, 1, o, ok);
}

static int insert_row(sg__sq_conn_t *c, const sg_store_smpp_out_t *o,
                      const char *status) {
  sqlite3_stmt *s = sg__sq_stmt(c, SG__Q_SMPP_OUT_INSERT);
  if (s == NULL)
    return SG_EIO;
  sqlite3_bind_int64(s, 1, o->account_id);
  sqlite3_bind_text(s, 2, o->message_id, -1, SQLITE_STATIC);
  sqlite3_bind_text(s, 3, status, -1, SQLITE_STATIC);
  if (o->error_code != 0)
    sqlite3_bind_int(s, 4, o->error_code);
  sqlite3_bind_int64(s, 5, o->done_ms);
  return step_rc(s);
}

/* The receipt row of sg__sq_smpp_out_queue while the SMPP server takes
 * hand-offs: the origin is read once (with the message's columns a
 * receipt shows), the row written from it, and the receipt goes with the
 * request that queued it (sg__store_req_t.handoff) under a short lease,
 * so that no claim takes it while the SMPP server sends it straight from
 * the commit's results. What the writer has (the message id, the status,
 * the times) is not read back. */
static int queue_handed(sg__sq_conn_t *c, const char *mid,
                        sg_msg_status_t status, int32_t code, int64_t now) {
  sg__store_req_t *r = c->cur;
  sqlite3_stmt *s = sg__sq_stmt(c, SG__Q_SMPP_OUT_ORIGIN);
  if (s == NULL)
    return SG_EIO;
  sqlite3_bind_text(s, 1, mid, -1, SQLITE_STATIC);
  sqlite3_bind_int(s, 2, status != SG_MSG_DELIVERED);
  int rc = sqlite3_step(s);
  if (rc != SQLITE_ROW) {
    sqlite3_reset(s);
    return rc == SQLITE_DONE ? 0 : SG_EIO; /* no origin, or no receipt */
  }
  sg_store_smpp_out_t *o = sol(c) != NULL ? handoff_slot(r) : NULL;
  bool ok = o != NULL;
  if (ok) {
    memset(o, 0, sizeof *o);
    origin_row(&r->arena, s, o, &ok);
  }
  sqlite3_reset(s);
  if (!ok)
    return SG_ENOMEM;
  sg__store_copy_str(o->message_id, sizeof o->message_id, mid);
  o->status = status;
  o->error_code = code;
  o->done_ms = now;
  o->attempts = 1;
  if ((rc = insert_row(c, o, sg_store_status_name(status))) < 0)
    return rc;
  o->id = sqlite3_last_insert_rowid(c->db);
  unsigned tries;
  rc = sg__sq_lease_take(&c->sol->l, o->id, now + SG_STORE_HANDOFF_LEASE_MS,
                         now, &tries);
  if (rc < 0)
    return rc;
  o->attempts += tries - 1;
  r->n_handoff++;
  return 0;
}

/* ---- finish -------------------------------------------------------------- */

/* Done: the row is deleted. Not done: its lease ends and the row counts
 * the tries it had under it; the next claim offers it again. */
int sg__sq_smpp_out_finish(sg__sq_conn_t *c, sg__store_req_t *r) {
  if (sol(c) == NULL)
    return SG_ENOMEM;
  int rc = 0;
  for (size_t i = 0; rc == 0 && i < r->in.smpp_finish.n; i++) {
    const sg_store_smpp_out_result_t *x = &r->in.smpp_finish.items[i];
    sqlite3_stmt *s =
        sg__sq_stmt(c, x->done ? SG__Q_SMPP_OUT_DONE : SG__Q_SMPP_OUT_RELEASE);
    if (s == NULL)
      return SG_EIO;
    sqlite3_bind_int64(s, 1, x->id);
    if (!x->done)
      sqlite3_bind_int(s, 2, (int)sg__sq_lease_tries(&c->sol->l, x->id));
    rc = step_rc(s);
    if (rc == 0)
      sg__sq_lease_drop(&c->sol->l, x->id);
  }
  return rc;
}

int sg__sq_smpp_out_release_all(sg__sq_conn_t *c) {
  return step_rc(sg__sq_stmt(c, SG__Q_SMPP_OUT_RELEASE_ALL));
}
