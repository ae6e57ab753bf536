/* pg_kinds.c - hands the PostgreSQL store's requests beside the message
 * path that postgres_misc.c does not run to the file of their kind, and
 * the small helpers those files share (a one-value query, arena arrays).
 *
 * It must never run SQL of its own beyond those helpers, nor decide which
 * kinds exist: store_int.h does, and postgres.c names them.
 */
#include <string.h>

#include "core/error.h"
#include "store/pg_kinds.h"
#include "store/pg_nodes.h"

bool sg__pg_kinds_done(sg__req_kind_t kind) {
  switch (kind) {
  case SG__REQ_MO_WRITE:
  case SG__REQ_MO_READ:
  case SG__REQ_ADMIN_WRITE:
  case SG__REQ_ADMIN_READ:
  case SG__REQ_INR_WRITE:
  case SG__REQ_INR_READ:
  case SG__REQ_OPS_WRITE:
  case SG__REQ_OPS_READ:
  case SG__REQ_PRESPLIT:
  case SG__REQ_CONTACTS_WRITE:
  case SG__REQ_CONTACTS_READ:
  case SG__REQ_CAMPAIGN_WRITE:
  case SG__REQ_CAMPAIGN_READ:
  case SG__REQ_TRAFFIC_READ:
  case SG__REQ_NODE_BEAT:
    return true;
  default:
    return false;
  }
}

int sg__pg_kinds_write(sg__pg_conn_t *c, sg__store_req_t *r, int64_t now) {
  switch (r->kind) {
  case SG__REQ_MO_WRITE:
    return sg__pg_mo_write(c, r, now);
  case SG__REQ_ADMIN_WRITE:
    return sg__pg_admin_write(c, r, now);
  case SG__REQ_INR_WRITE:
    return sg__pg_inr_write(c, r, now);
  case SG__REQ_OPS_WRITE:
    return sg__pg_ops_write(c, r, now);
  case SG__REQ_PRESPLIT:
    return sg__pg_presplit_run(c, r, now);
  case SG__REQ_CONTACTS_WRITE:
    return sg__pg_contacts_write(c, r, now);
  case SG__REQ_CAMPAIGN_WRITE:
    return sg__pg_campaigns_write(c, r, now);
  case SG__REQ_NODE_BEAT:
    return sg__pg_node_beat(c, r, now);
  default:
    return SG_ENOTSUP;
  }
}

int sg__pg_kinds_read(sg__pg_conn_t *c, sg__store_req_t *r) {
  switch (r->kind) {
  case SG__REQ_MO_READ:
    return sg__pg_mo_read(c, r);
  case SG__REQ_ADMIN_READ:
    return sg__pg_admin_read(c, r);
  case SG__REQ_INR_READ:
    return sg__pg_inr_read(c, r);
  case SG__REQ_OPS_READ:
    return sg__pg_ops_read(c, r);
  case SG__REQ_CONTACTS_READ:
    return sg__pg_contacts_read(c, r);
  case SG__REQ_CAMPAIGN_READ:
    return sg__pg_campaigns_read(c, r);
  case SG__REQ_TRAFFIC_READ:
    return sg__pg_traffic_read(c, r);
  default:
    return SG_ENOTSUP;
  }
}

int sg__pg_one(sg__pg_conn_t *c, const char *sql, const sg__pg_params_t *p,
               int64_t *v) {
  int rc;
  PGresult *res = sg__pg_run(c, sql, p, &rc);
  if (rc == 0 && PQntuples(res) > 0) {
    *v = sg__pg_i64(res, 0, 0);
    rc = 1;
  }
  PQclear(res);
  return rc;
}
