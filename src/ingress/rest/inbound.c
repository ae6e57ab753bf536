/* inbound.c - the REST handlers of incoming messages and opt-outs:
 *   GET    /v1/inbound            received messages, newest first, with
 *                                 filters (from, to, keyword, since, until)
 *                                 and cursor pagination like /v1/messages
 *   GET    /v1/optouts            the account's opt-out list (number,
 *                                 cursor, limit)
 *   POST   /v1/optouts            {"number": "..."} adds a number
 *   DELETE /v1/optouts/{number}   removes it
 *
 * Requests are read strictly (an unknown or repeated argument or field is
 * a 422 naming it) and answered from the engine's callbacks. This file must
 * never decide what a number is (the engine normalises it) nor reach the
 * store.
 */
#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "core/error.h"
#include "core/mo.h"
#include "ingress/rest/rest_int.h"

#define ARGS_MAX 16

static void err422(sg_http_req_t *req, const char *code, const char *field,
                   const char *msg) {
  sg__rest_error(req, 422, code, msg, field, 0);
}

/* Collects the query; false after answering 422. */
static bool query(sg_http_req_t *req, const char **names, const char **values,
                  size_t *n) {
  *n = sg_http_req_query_count(req);
  if (*n > ARGS_MAX) {
    err422(req, "invalid_value", NULL, "too many query arguments");
    return false;
  }
  for (size_t i = 0; i < *n; i++) {
    sg_http_req_query_at(req, i, &names[i], &values[i]);
    if (values[i] == NULL)
      values[i] = "";
    for (size_t j = 0; j < i; j++)
      if (strcmp(names[i], names[j]) == 0) {
        err422(req, "invalid_value", names[i],
               "this query argument is given twice");
        return false;
      }
  }
  return true;
}

static bool q_limit(const char *v, unsigned *out) {
  unsigned n = 0;
  if (*v == '\0' || strlen(v) > 4)
    return false;
  for (const char *p = v; *p; p++) {
    if (*p < '0' || *p > '9')
      return false;
    n = n * 10 + (unsigned)(*p - '0');
  }
  *out = n;
  return n >= 1 && n <= SG_STORE_LIST_MAX;
}

/* A number as stored: a '+' that arrived as a space (an unescaped '+' in a
 * query) is put back. */
static bool q_number(const char *v, char *out, size_t cap) {
  size_t n = strlen(v);
  if (n == 0 || n >= cap)
    return false;
  memcpy(out, v, n + 1);
  if (out[0] == ' ')
    out[0] = '+';
  for (size_t i = out[0] == '+' ? 1 : 0; i < n; i++)
    if ((unsigned char)out[i] <= 0x20 || out[i] == 0x7f)
      return false;
  return true;
}

static bool q_time(const char *v, int64_t *out) {
  char buf[48];
  size_t n = strlen(v);
  if (n >= sizeof buf)
    return false;
  memcpy(buf, v, n + 1);
  char *sp = strchr(buf, ' ');
  if (sp != NULL)
    *sp = '+';
  return sg_rest_parse_time(buf, n, out) == 0;
}

static bool q_cursor(const char *v, char out[SG_ID_LEN + 1]) {
  uint8_t bin[SG_ID_BYTES];
  size_t n = strlen(v);
  if (n != SG_ID_LEN || sg_id_parse(v, n, bin) != 0)
    return false;
  memcpy(out, v, n + 1);
  return sg_id_canonical(out, n) == 0;
}

/* ---- GET /v1/inbound ----------------------------------------------------- */

typedef struct inbound_q {
  sg_store_inbound_filter_t f;
  char from[32], to[32], keyword[128], cursor[SG_ID_LEN + 1];
} inbound_q_t;

/* Applies one argument; false after answering 422. */
static bool inbound_arg(sg_http_req_t *req, const char *name, const char *v,
                        inbound_q_t *q) {
  bool ok = true;
  if (strcmp(name, "from") == 0) {
    ok = q_number(v, q->from, sizeof q->from);
    q->f.sender = q->from;
  } else if (strcmp(name, "to") == 0) {
    ok = q_number(v, q->to, sizeof q->to);
    q->f.recipient = q->to;
  } else if (strcmp(name, "keyword") == 0) {
    ok = v[0] != '\0' && sg_mo_upper_utf8(v, q->keyword, sizeof q->keyword) > 0;
    q->f.keyword = q->keyword;
  } else if (strcmp(name, "since") == 0 || strcmp(name, "until") == 0) {
    ok = q_time(v, name[0] == 's' ? &q->f.since_ms : &q->f.until_ms);
  } else if (strcmp(name, "limit") == 0) {
    ok = q_limit(v, &q->f.limit);
  } else if (strcmp(name, "cursor") == 0) {
    ok = q_cursor(v, q->cursor);
    q->f.cursor = q->cursor;
  } else {
    err422(req, "unknown_field", name,
           "unknown query argument; the arguments are from, to, keyword, "
           "since, until, limit, cursor");
    return false;
  }
  if (!ok) {
    char msg[160];
    snprintf(msg, sizeof msg, "'%s' is not valid here%s", name,
             strcmp(name, "limit") == 0    ? ": an integer from 1 to 1000"
             : strcmp(name, "cursor") == 0 ? ": the next_cursor of a page"
             : name[0] == 's' || name[0] == 'u'
                 ? ": an RFC 3339 time, such as 2025-01-31T12:00:00Z"
                 : "");
    err422(req, "invalid_value", name, msg);
  }
  return ok;
}

static json_t *inbound_json(const sg_store_inbound_t *m) {
  json_t *o = json_object();
  if (o == NULL)
    return NULL;
  json_object_set_new(o, "id", json_string(m->id));
  json_object_set_new(o, "from", json_string(m->sender));
  json_object_set_new(o, "to", json_string(m->recipient));
  json_object_set_new(o, "encoding",
                      json_string(sg_encoding_name(m->encoding)));
  json_t *text =
      m->binary ? NULL : json_stringn((const char *)m->body, m->body_len);
  if (text != NULL) {
    json_object_set_new(o, "text", text);
  } else {
    char *hex = sg_malloc(m->body_len * 2 + 1);
    for (size_t i = 0; hex != NULL && i < m->body_len; i++)
      snprintf(hex + 2 * i, 3, "%02x", m->body[i]);
    if (hex != NULL) {
      hex[m->body_len * 2] = '\0';
      json_object_set_new(o, "payload_hex", json_string(hex));
    }
    sg_free(hex);
  }
  json_object_set_new(o, "parts", json_integer(m->parts));
  json_object_set_new(o, "incomplete", json_boolean(m->incomplete));
  json_object_set_new(o, "keyword",
                      m->keyword ? json_string(m->keyword) : json_null());
  json_object_set_new(o, "connector",
                      m->connector ? json_string(m->connector) : json_null());
  json_object_set_new(o, "received_at", sg__rest_time_json(m->received_ms));
  return o;
}

/* {"data": [...], "next_cursor": "..." | null} */
static json_t *page(json_t *data, const char *next) {
  json_t *cursor = next[0] != '\0' ? json_string(next) : json_null();
  if (data == NULL || cursor == NULL) {
    json_decref(data);
    json_decref(cursor);
    return NULL;
  }
  return json_pack("{s:o, s:o}", "data", data, "next_cursor", cursor);
}

static void inbound_done(sg_engine_t *e, int status,
                         const sg_store_inbound_res_t *res, void *ud) {
  (void)e;
  sg_http_req_t *req = ud;
  if (status != 0) {
    sg__rest_engine_error(req, status);
    return;
  }
  json_t *data = json_array();
  for (size_t i = 0; data != NULL && i < res->n; i++) {
    json_t *m = inbound_json(&res->msgs[i]);
    if (m == NULL || json_array_append_new(data, m) != 0) {
      json_decref(data);
      data = NULL;
    }
  }
  sg__rest_json(req, 200, page(data, res->next_cursor));
}

void sg__rest_inbound_cb(sg_http_req_t *req, void *data) {
  sg_rest_t *rest = data;
  const sg_engine_account_t *acct = sg__rest_auth(rest, req);
  if (acct == NULL)
    return;
  const char *names[ARGS_MAX], *values[ARGS_MAX];
  size_t n;
  if (!query(req, names, values, &n))
    return;
  inbound_q_t q;
  memset(&q, 0, sizeof q);
  for (size_t i = 0; i < n; i++)
    if (!inbound_arg(req, names[i], values[i], &q))
      return;
  if (q.f.since_ms && q.f.until_ms && q.f.until_ms <= q.f.since_ms) {
    err422(req, "invalid_value", "until", "'until' must be later than 'since'");
    return;
  }
  q.f.account_id = acct->id;
  int rc = sg_engine_search_inbound(rest->engine, &q.f, inbound_done, req);
  if (rc != 0)
    sg__rest_engine_error(req, rc);
}

/* ---- /v1/optouts --------------------------------------------------------- */

static void optouts_done(sg_engine_t *e, int status,
                         const sg_store_optout_res_t *res, void *ud) {
  (void)e;
  sg_http_req_t *req = ud;
  if (status != 0) {
    sg__rest_engine_error(req, status);
    return;
  }
  json_t *data = json_array();
  for (size_t i = 0; data != NULL && i < res->n; i++) {
    json_t *o = json_pack("{s:s, s:s, s:o}", "number", res->items[i].number,
                          "source", res->items[i].source, "created_at",
                          sg__rest_time_json(res->items[i].created_ms));
    if (o == NULL || json_array_append_new(data, o) != 0) {
      json_decref(data);
      data = NULL;
    }
  }
  sg__rest_json(req, 200, page(data, res->next_cursor));
}

void sg__rest_optouts_list_cb(sg_http_req_t *req, void *data) {
  sg_rest_t *rest = data;
  const sg_engine_account_t *acct = sg__rest_auth(rest, req);
  if (acct == NULL)
    return;
  const char *names[ARGS_MAX], *values[ARGS_MAX];
  size_t n;
  if (!query(req, names, values, &n))
    return;
  char number[SG_STORE_NUMBER_MAX] = "", cursor[SG_STORE_NUMBER_MAX] = "";
  unsigned limit = 0;
  for (size_t i = 0; i < n; i++) {
    const char *k = names[i], *v = values[i];
    bool ok;
    if (strcmp(k, "number") == 0)
      ok = q_number(v, number, sizeof number);
    else if (strcmp(k, "cursor") == 0)
      ok = q_number(v, cursor, sizeof cursor);
    else if (strcmp(k, "limit") == 0)
      ok = q_limit(v, &limit);
    else {
      err422(req, "unknown_field", k,
             "unknown query argument; the arguments are number, limit, "
             "cursor");
      return;
    }
    if (!ok) {
      err422(req, "invalid_value", k,
             strcmp(k, "limit") == 0 ? "'limit' must be an integer from 1 "
                                       "to 1000"
                                     : "not a number");
      return;
    }
  }
  int rc = sg_engine_optout_list(rest->engine, acct, number[0] ? number : NULL,
                                 cursor[0] ? cursor : NULL, limit, optouts_done,
                                 req);
  if (rc == SG_EINVAL)
    err422(req, "invalid_number", "number", "not a valid phone number");
  else if (rc != 0)
    sg__rest_engine_error(req, rc);
}

static void optout_set_done(sg_engine_t *e, int status, bool changed,
                            const char *number, void *ud) {
  (void)e;
  sg_http_req_t *req = ud;
  bool add = strcmp(sg_http_req_method(req), "POST") == 0;
  if (status != 0) {
    sg__rest_engine_error(req, status);
    return;
  }
  if (!add && !changed) {
    sg__rest_error(req, 404, "not_found",
                   "this number is not on the account's opt-out list", "number",
                   0);
    return;
  }
  sg__rest_json(req, add && changed ? 201 : 200,
                json_pack("{s:s, s:b}", "number", number,
                          add ? "added" : "removed", changed));
}

/* The number of a POST body {"number": "..."}; NULL after answering. */
static const char *body_number(sg_http_req_t *req, json_t **root) {
  size_t len = 0;
  const uint8_t *body = sg_http_req_body(req, &len);
  json_error_t jerr;
  *root = json_loadb((const char *)body, len, JSON_REJECT_DUPLICATES, &jerr);
  if (*root == NULL || !json_is_object(*root)) {
    sg__rest_error(req, 400, "invalid_json",
                   "the body must be a JSON object such as {\"number\": "
                   "\"+79001234567\"}",
                   NULL, 0);
    return NULL;
  }
  const char *k;
  json_t *v;
  json_object_foreach(*root, k, v) {
    if (strcmp(k, "number") != 0) {
      err422(req, "unknown_field", k,
             "unknown field; the body has only "
             "\"number\"");
      return NULL;
    }
  }
  v = json_object_get(*root, "number");
  if (v == NULL || json_is_null(v)) {
    err422(req, "missing_field", "number", "'number' is required");
    return NULL;
  }
  if (!json_is_string(v)) {
    err422(req, "invalid_type", "number", "'number' must be a string");
    return NULL;
  }
  return json_string_value(v);
}

static void optout_change(sg_rest_t *rest, sg_http_req_t *req,
                          const sg_engine_account_t *acct, const char *number,
                          bool add) {
  int rc = sg_engine_optout_set(rest->engine, acct, number, add,
                                optout_set_done, req);
  if (rc == SG_EINVAL)
    err422(req, "invalid_number", "number",
           "not a valid phone number; write it in E.164, such as "
           "+79001234567");
  else if (rc != 0)
    sg__rest_engine_error(req, rc);
}

void sg__rest_optouts_add_cb(sg_http_req_t *req, void *data) {
  sg_rest_t *rest = data;
  const sg_engine_account_t *acct = sg__rest_auth(rest, req);
  if (acct == NULL)
    return;
  json_t *root = NULL;
  const char *number = body_number(req, &root);
  if (number != NULL)
    optout_change(rest, req, acct, number, true);
  json_decref(root);
}

void sg__rest_optouts_delete_cb(sg_http_req_t *req, void *data) {
  sg_rest_t *rest = data;
  const sg_engine_account_t *acct = sg__rest_auth(rest, req);
  if (acct == NULL)
    return;
  const char *number = sg_http_req_param(req, "number");
  optout_change(rest, req, acct, number ? number : "", false);
}
