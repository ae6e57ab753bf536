/* velocity.c - the REST side of the velocity limit (engine/velocity.h):
 *   GET    /v1/velocity/blocks                    the blocks in force (admin)
 *   DELETE /v1/velocity/blocks/{account}/{prefix} lifts one (admin)
 * and the smsgate_velocity_* families of /metrics.
 *
 * Like every handler it only reads requests and answers: the engine keeps
 * the counts and the blocks and saves them through the store.
 */
#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "core/error.h"
#include "engine/velocity.h"
#include "ingress/rest/page.h"
#include "ingress/rest/rest_int.h"

/* At most this many blocks in one answer (the engine keeps at most
 * 10,000; "total" says how many there are). */
#define LIST_MAX 10000

static json_t *block_json(const sg_engine_velocity_block_t *b) {
  return json_pack(
      "{s:s, s:s, s:o, s:o, s:I}", "account", b->account->name, "prefix",
      b->prefix, "since", sg__rest_time_json(b->since_ms), "until",
      sg__rest_time_json(b->until_ms), "strikes", (json_int_t)b->strikes);
}

/* The page of blocks v[0..n) (page.h; a block's key is
 * "<account>/<prefix>", as in its DELETE path); NULL on out of memory. */
static json_t *blocks_page(sg__rest_page_t *pg,
                           const sg_engine_velocity_block_t *v, size_t n,
                           size_t total) {
  json_t *arr = json_array();
  int take = 1;
  for (size_t i = 0; arr != NULL && take >= 0 && i < n; i++) {
    char key[SG_REST_CURSOR_MAX];
    snprintf(key, sizeof key, "%s/%s", v[i].account->name, v[i].prefix);
    if ((take = sg__rest_page_offer(pg, key)) > 0 &&
        json_array_append_new(arr, block_json(&v[i])) != 0) {
      json_decref(arr);
      arr = NULL;
    }
  }
  return arr != NULL ? json_pack("{s:o, s:I, s:o}", "blocks", arr, "total",
                                 (json_int_t)total, "next_cursor",
                                 sg__rest_page_next(pg))
                     : NULL;
}

void sg__rest_velocity_blocks_cb(sg_http_req_t *req, void *data) {
  sg_rest_t *rest = data;
  if (sg__rest_admin(rest, req) == NULL)
    return;
  sg__rest_page_t pg;
  if (!sg__rest_page_args(req, NULL, 0, &pg))
    return;
  size_t total = sg_engine_velocity_blocks(rest->engine, NULL, 0);
  size_t cap = total < LIST_MAX ? total : LIST_MAX;
  sg_engine_velocity_block_t *v = sg_calloc(cap ? cap : 1, sizeof *v);
  json_t *o = NULL;
  if (v != NULL) {
    size_t n = sg_engine_velocity_blocks(rest->engine, v, cap);
    o = blocks_page(&pg, v, n < cap ? n : cap, total);
  }
  sg_free(v);
  if (!sg__rest_page_check(req, &pg)) {
    json_decref(o);
    return;
  }
  sg__rest_json(req, 200, o);
}

typedef struct unblock_req {
  sg_http_req_t *req;
  const sg_engine_account_t *acct;
  char prefix[SG_VELOCITY_PREFIX_MAX + 2];
} unblock_req_t;

static void unblocked(sg_engine_t *e, int status, void *ud) {
  (void)e;
  unblock_req_t *u = ud;
  if (status != 0)
    sg__rest_engine_error(u->req, status);
  else
    sg__rest_json(u->req, 200,
                  json_pack("{s:s, s:s, s:b}", "account", u->acct->name,
                            "prefix", u->prefix, "lifted", 1));
  sg_free(u);
}

void sg__rest_velocity_unblock_cb(sg_http_req_t *req, void *data) {
  sg_rest_t *rest = data;
  if (sg__rest_admin(rest, req) == NULL)
    return;
  const char *name = sg_http_req_param(req, "account");
  const char *prefix = sg_http_req_param(req, "prefix");
  const sg_engine_account_t *acct =
      sg_engine_account_by_name(rest->engine, name ? name : "");
  if (acct == NULL) {
    sg__rest_error(req, 404, "not_found", "no account of that name", "account",
                   0);
    return;
  }
  unblock_req_t *u = sg_calloc(1, sizeof *u);
  if (u == NULL) {
    sg__rest_engine_error(req, SG_ENOMEM);
    return;
  }
  u->req = req;
  u->acct = acct;
  const char *digits = prefix != NULL && prefix[0] == '+' ? prefix + 1 : prefix;
  snprintf(u->prefix, sizeof u->prefix, "+%s", digits ? digits : "");
  int rc = sg_engine_velocity_unblock(rest->engine, acct, prefix, unblocked, u);
  if (rc == 0)
    return;
  sg_free(u);
  if (rc == SG_EINVAL)
    sg__rest_error(req, 422, "invalid_prefix",
                   "the prefix must be 1-15 digits, with or without a "
                   "leading + (written %2B in a URL)",
                   "prefix", 0);
  else if (rc == SG_ENOENT)
    sg__rest_error(req, 404, "not_found",
                   "this account has no velocity block of that prefix",
                   "prefix", 0);
  else
    sg__rest_engine_error(req, rc);
}

void sg__rest_metrics_velocity(sg__rest_buf_t *b, sg_rest_t *rest) {
  sg_engine_velocity_stats_t s;
  sg_engine_velocity_stats(rest->engine, &s);
  sg__rest_buf_printf(
      b,
      "# HELP smsgate_velocity_blocks_total Account and destination prefix "
      "pairs blocked by the velocity limit.\n"
      "# TYPE smsgate_velocity_blocks_total counter\n"
      "smsgate_velocity_blocks_total %llu\n"
      "# HELP smsgate_velocity_limited_total Recipients refused with "
      "velocity_limited (slowed).\n"
      "# TYPE smsgate_velocity_limited_total counter\n"
      "smsgate_velocity_limited_total %llu\n"
      "# HELP smsgate_velocity_refused_total Recipients refused with "
      "velocity_blocked.\n"
      "# TYPE smsgate_velocity_refused_total counter\n"
      "smsgate_velocity_refused_total %llu\n"
      "# HELP smsgate_velocity_blocked Velocity blocks in force.\n"
      "# TYPE smsgate_velocity_blocked gauge\n"
      "smsgate_velocity_blocked %zu\n",
      (unsigned long long)s.blocks, (unsigned long long)s.limited,
      (unsigned long long)s.refused, s.blocked);
}
