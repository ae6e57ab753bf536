/* pg_kinds.h - the PostgreSQL store's requests beside the message path
 * that postgres_misc.c hands on: inbound reassembly and opt-outs (pg_mo.c),
 * accounts and keys made at run time (pg_admin.c), inbound rules
 * (pg_inrules.c), operations on connectors and messages (pg_ops.c),
 * contacts (pg_contacts.c), pre-split messages (pg_presplit.c) and
 * campaigns (pg_campaigns.c), with the rows and answers of their SQLite
 * counterparts. Not for use outside src/store/.
 */
#ifndef SG_STORE_PG_KINDS_H
#define SG_STORE_PG_KINDS_H

#include "store/pg_int.h"

/* Whether the files above run requests of this kind. */
bool sg__pg_kinds_done(sg__req_kind_t kind);
/* Runs one of their write requests (writer, inside the group's
 * transaction) or read requests (a reader, inside its read-only
 * transaction); the answers of sg__pg_run_write and sg__pg_run_read. */
int sg__pg_kinds_write(sg__pg_conn_t *c, sg__store_req_t *r, int64_t now);
int sg__pg_kinds_read(sg__pg_conn_t *c, sg__store_req_t *r);

/* The first column of the first row of sql as an integer: 1 and *v when a
 * row came, 0 when none did (*v untouched), or the statement's error. */
int sg__pg_one(sg__pg_conn_t *c, const char *sql, const sg__pg_params_t *p,
               int64_t *v);

/* A balance credit of l->account_id by l->amount (postgres_misc.c), its
 * balance after it into l->balance: 0, SG_ERANGE or the statement's
 * error. */
int sg__pg_credit(sg__pg_conn_t *c, struct sg__limits_req *l, int64_t now);

/* Per file, their writes and reads (SG_EINVAL for an unknown op). */
int sg__pg_mo_write(sg__pg_conn_t *c, sg__store_req_t *r, int64_t now);
int sg__pg_mo_read(sg__pg_conn_t *c, sg__store_req_t *r);
int sg__pg_admin_write(sg__pg_conn_t *c, sg__store_req_t *r, int64_t now);
int sg__pg_admin_read(sg__pg_conn_t *c, sg__store_req_t *r);
int sg__pg_inr_write(sg__pg_conn_t *c, sg__store_req_t *r, int64_t now);
int sg__pg_inr_read(sg__pg_conn_t *c, sg__store_req_t *r);
/* The webhook row of an inbound rule's URL action (pg_inrules.c), written
 * with its inbound message by pg_mo.c's delivery. */
int sg__pg_mo_action(sg__pg_conn_t *c, const sg_store_mo_deliver_t *d,
                     int64_t now);
int sg__pg_ops_write(sg__pg_conn_t *c, sg__store_req_t *r, int64_t now);
int sg__pg_ops_read(sg__pg_conn_t *c, sg__store_req_t *r);
int sg__pg_contacts_write(sg__pg_conn_t *c, sg__store_req_t *r, int64_t now);
int sg__pg_contacts_read(sg__pg_conn_t *c, sg__store_req_t *r);
int sg__pg_presplit_run(sg__pg_conn_t *c, sg__store_req_t *r, int64_t now);
/* The maintenance pass that ends the pre-split waits that ran out
 * (pg_presplit.c): their missing parts failed; *n counts the messages. */
int sg__pg_presplit_expire(sg__pg_conn_t *c, sg__store_req_t *r, int64_t now,
                           size_t *n);
int sg__pg_campaigns_write(sg__pg_conn_t *c, sg__store_req_t *r, int64_t now);
int sg__pg_campaigns_read(sg__pg_conn_t *c, sg__store_req_t *r);
/* GET /v1/stats/traffic's sums (pg_traffic.c), on a reader. */
int sg__pg_traffic_read(sg__pg_conn_t *c, sg__store_req_t *r);
/* The maintenance pass's pruning of traffic_minutes (pg_trafficp.c): the
 * minutes older than traffic_keep_ms, at most 1000 a call; *n counts them. */
int sg__pg_traffic_prune(sg__pg_conn_t *c, int64_t now, size_t *n);

#endif
