/* traffic.c - GET /v1/stats/traffic: an account's traffic over time, per
 * bucket of `step` seconds, for the dashboard's charts: the messages
 * created in each bucket by their current status, the inbound messages
 * received in it, and the delivery rate (delivered among those that
 * reached an outcome).
 *
 * An account's key reads its own traffic; an admin key reads every
 * account's, or one named by ?account=. Every bad argument is a 400 naming
 * it. It must never count messages itself: the counts are the store's
 * (store/traffic.h), read through the engine.
 */
#include "ingress/rest/traffic_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/alloc.h"
#include "core/error.h"
#include "engine/traffic.h"
#include "ingress/rest/contacts_int.h"

#define MINUTE_MS 60000LL
#define DAY_MS (24LL * 3600 * 1000)

/* ---- the query (pure) --------------------------------------------------- */

static int bad(sg_rest_err_t *err, const char *field, const char *msg) {
  size_t i = 0;
  err->http = 400;
  err->code = "invalid_value";
  for (; field[i] != '\0' && i + 1 < sizeof err->field; i++)
    err->field[i] = field[i] >= 0x20 && field[i] < 0x7F ? field[i] : '?';
  err->field[i] = '\0';
  snprintf(err->message, sizeof err->message, "%s", msg);
  return SG_EINVAL;
}

/* RFC 3339; a '+' of the offset that arrived as a space is read as '+'. */
static int q_time(const char *v, int64_t *out) {
  char buf[48];
  size_t n = strlen(v);
  if (n == 0 || n >= sizeof buf)
    return SG_EINVAL;
  memcpy(buf, v, n + 1);
  char *sp = strchr(buf, ' ');
  if (sp != NULL)
    *sp = '+';
  return sg_rest_parse_time(buf, n, out);
}

/* Seconds, a positive multiple of 60 of at most 31 days. */
static int q_step(const char *v, int64_t *ms) {
  char *end = NULL;
  errno = 0;
  long long s = v[0] >= '1' && v[0] <= '9' ? strtoll(v, &end, 10) : 0;
  if (s <= 0 || errno != 0 || *end != '\0' || s % 60 != 0 ||
      s > SG_STORE_TRAFFIC_RANGE_MAX_MS / 1000)
    return SG_EINVAL;
  *ms = s * 1000;
  return 0;
}

typedef struct args {
  int64_t from, to, step; /* 0: not given */
} args_t;

static int apply(const char *name, const char *v, args_t *a,
                 sg_rest_err_t *err) {
  if (strcmp(name, "from") == 0 || strcmp(name, "to") == 0) {
    if (q_time(v, name[0] == 'f' ? &a->from : &a->to) != 0)
      return bad(err, name,
                 "times must be RFC 3339, such as 2025-01-31T12:00:00Z");
  } else if (strcmp(name, "step") == 0) {
    if (q_step(v, &a->step) != 0)
      return bad(err, name,
                 "'step' must be a number of seconds, a multiple of 60 "
                 "from 60 to 2678400");
  } else if (strcmp(name, "account") != 0) {
    bad(err, name,
        "unknown query argument; the arguments are from, to, step, account");
    err->code = "unknown_field";
    return SG_EINVAL;
  }
  return 0;
}

static int64_t floor_minute(int64_t ms) {
  return ms - ms % MINUTE_MS;
}
static int64_t ceil_minute(int64_t ms) {
  return floor_minute(ms + MINUTE_MS - 1);
}

int sg__rest_traffic_parse(const char *const *names, const char *const *values,
                           size_t n, int64_t now_ms, sg_store_traffic_q_t *q,
                           sg_rest_err_t *err) {
  args_t a = {0, 0, 0};
  memset(q, 0, sizeof *q);
  for (size_t i = 0; i < n; i++) {
    for (size_t j = 0; j < i; j++)
      if (strcmp(names[i], names[j]) == 0)
        return bad(err, names[i], "this query argument is given twice");
    if (apply(names[i], values[i] != NULL ? values[i] : "", &a, err) != 0)
      return SG_EINVAL;
  }
  int64_t to = ceil_minute(a.to != 0 ? a.to : now_ms);
  int64_t from = floor_minute(a.from != 0 ? a.from : to - DAY_MS);
  if (to <= from)
    return bad(err, "to", "'to' must be later than 'from'");
  if (to - from > SG_STORE_TRAFFIC_RANGE_MAX_MS)
    return bad(err, "from",
               "the range from 'from' to 'to' may be at most "
               "31 days");
  int64_t step = a.step;
  if (step == 0)
    step = ceil_minute((to - from + SG_REST_TRAFFIC_DEFAULT_BUCKETS - 1) /
                       SG_REST_TRAFFIC_DEFAULT_BUCKETS);
  int64_t buckets = (to - from + step - 1) / step;
  if (buckets > SG_STORE_TRAFFIC_BUCKETS_MAX) {
    char msg[160];
    snprintf(msg, sizeof msg,
             "the range holds %lld steps of %lld s; at most %d: use a larger "
             "'step' or a shorter range",
             (long long)buckets, (long long)(step / 1000),
             SG_STORE_TRAFFIC_BUCKETS_MAX);
    return bad(err, "step", msg);
  }
  q->from_ms = from;
  q->step_ms = step;
  q->buckets = (unsigned)buckets;
  return 0;
}

/* ---- answering ---------------------------------------------------------- */

typedef struct call {
  sg_http_req_t *req;
  sg_rest_t *rest;
  sg_store_traffic_q_t q;
} call_t;

/* Delivered among the messages that reached an outcome, 0..1 to four
 * places; null before any. */
static json_t *rate_json(const sg_store_traffic_row_t *r) {
  uint64_t ended = r->delivered + r->failed + r->expired;
  if (ended == 0)
    return json_null();
  double v = (double)r->delivered / (double)ended;
  return json_real((double)(int64_t)(v * 10000 + 0.5) / 10000);
}

static json_t *counts_json(const sg_store_traffic_row_t *r) {
  json_t *o = json_pack(
      "{s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I}", "submitted",
      (json_int_t)r->submitted, "queued", (json_int_t)r->queued, "sent",
      (json_int_t)r->sent, "delivered", (json_int_t)r->delivered, "failed",
      (json_int_t)r->failed, "expired", (json_int_t)r->expired, "canceled",
      (json_int_t)r->canceled, "inbound", (json_int_t)r->inbound);
  if (o != NULL)
    json_object_set_new(o, "delivery_rate", rate_json(r));
  return o;
}

static void add(sg_store_traffic_row_t *t, const sg_store_traffic_row_t *r) {
  t->submitted += r->submitted;
  t->queued += r->queued;
  t->sent += r->sent;
  t->delivered += r->delivered;
  t->failed += r->failed;
  t->expired += r->expired;
  t->canceled += r->canceled;
  t->inbound += r->inbound;
}

static json_t *answer_json(const call_t *c, const sg_store_traffic_row_t *rows,
                           size_t n) {
  const sg_engine_account_t *a =
      c->q.account_id > 0
          ? sg_engine_account_by_id(c->rest->engine, c->q.account_id)
          : NULL;
  sg_store_traffic_row_t total;
  memset(&total, 0, sizeof total);
  json_t *buckets = json_array();
  for (size_t i = 0; buckets != NULL && i < n; i++) {
    json_t *b = counts_json(&rows[i]);
    if (b != NULL)
      json_object_set_new(
          b, "start",
          sg__rest_time_json(c->q.from_ms + (int64_t)i * c->q.step_ms));
    json_array_append_new(buckets, b);
    add(&total, &rows[i]);
  }
  int64_t end = c->q.from_ms + (int64_t)n * c->q.step_ms;
  return json_pack(
      "{s:o,s:o,s:o,s:I,s:o,s:o}", "account",
      a != NULL ? json_string(a->name) : json_null(), "from",
      sg__rest_time_json(c->q.from_ms), "to", sg__rest_time_json(end), "step",
      (json_int_t)(c->q.step_ms / 1000), "buckets",
      buckets ? buckets : json_null(), "totals", counts_json(&total));
}

static void traffic_cb(sg_store_t *st, int status,
                       const sg_store_traffic_row_t *rows, size_t n,
                       void *data) {
  (void)st;
  call_t *c = data;
  if (status != 0)
    sg__rest_engine_error(c->req, status);
  else
    sg__rest_json(c->req, 200, answer_json(c, rows, n));
  sg_free(c);
}

static int64_t now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

#define ARGS_MAX 8

static int parse_req(sg_http_req_t *req, sg_store_traffic_q_t *q,
                     sg_rest_err_t *err) {
  const char *names[ARGS_MAX], *values[ARGS_MAX];
  size_t n = sg_http_req_query_count(req);
  if (n > ARGS_MAX)
    return bad(err, "", "too many query arguments");
  for (size_t i = 0; i < n; i++)
    if (sg_http_req_query_at(req, i, &names[i], &values[i]) != 0)
      return bad(err, "", "the query cannot be read");
  return sg__rest_traffic_parse(names, values, n, now_ms(), q, err);
}

static void traffic_route_cb(sg_http_req_t *req, void *data) {
  sg_rest_t *rest = data;
  int64_t account;
  const sg_engine_account_t *a = sg__contacts_who(rest, req, false, &account);
  if (a == NULL)
    return;
  /* An admin key without ?account= reads every account's traffic. */
  if (a->cfg != NULL && a->cfg->admin &&
      sg_http_req_query(req, "account") == NULL)
    account = 0;
  sg_rest_err_t err;
  memset(&err, 0, sizeof err);
  sg_store_traffic_q_t q;
  if (parse_req(req, &q, &err) != 0) {
    sg__rest_parse_error(req, &err);
    return;
  }
  q.account_id = account;
  call_t *c = sg_calloc(1, sizeof *c);
  if (c == NULL) {
    sg__rest_engine_error(req, SG_ENOMEM);
    return;
  }
  c->req = req;
  c->rest = rest;
  c->q = q;
  int rc = sg_engine_traffic(rest->engine, &q, traffic_cb, c);
  if (rc != 0) {
    sg__rest_engine_error(req, rc);
    sg_free(c);
  }
}

int sg__rest_traffic_register(sg_rest_t *rest) {
  return sg_http_server_route(rest->srv, "GET", "/v1/stats/traffic",
                              traffic_route_cb, rest);
}
