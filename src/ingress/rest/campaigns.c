/* campaigns.c - /v1/campaigns: create a campaign (a text or a template to
 * contact lists, at a time, within a daily window in the recipients' local
 * time, at a rate), list and read them with their live counters, pause,
 * resume and cancel them, and list the messages one sent.
 *
 * An account's key sees its own campaigns; an admin key sees every
 * account's (and creates for the account named by ?account=). Every bad
 * field is a 422 naming it, and changes nothing. It must never write to
 * the store but through the engine (engine/campaigns.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/alloc.h"
#include "core/error.h"
#include "core/tzwin.h"
#include "engine/campaigns.h"
#include "ingress/rest/contacts_int.h"

#define SEND_AT_MAX_MS (366LL * 24 * 3600 * 1000)
#define VALIDITY_MAX_MS (7LL * 24 * 3600 * 1000)
#define RATE_MAX 1000000

typedef enum answer { A_ONE, A_LIST, A_MESSAGES } answer_t;

typedef struct call {
  sg_http_req_t *req;
  sg_rest_t *rest;
  int64_t account_id; /* 0: an admin's view of every account */
  unsigned ok_status;
  answer_t answer;
  const char *cursor;
  unsigned limit;
  char id[SG_ID_LEN + 1];
} call_t;

/* ---- JSON --------------------------------------------------------------- */

static json_t *hhmm(int minutes) {
  char b[24];
  unsigned m = (unsigned)minutes % 1441;
  snprintf(b, sizeof b, "%02u:%02u", m / 60, m % 60);
  return json_string(b);
}

static json_t *counts_json(const sg_store_campaign_t *k) {
  return json_pack("{s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I}", "recipients",
                   (json_int_t)k->recipients, "pending", (json_int_t)k->pending,
                   "queued", (json_int_t)k->queued, "sent", (json_int_t)k->sent,
                   "delivered", (json_int_t)k->delivered, "failed",
                   (json_int_t)k->failed, "cancelled", (json_int_t)k->canceled,
                   "skipped_optout", (json_int_t)k->optout, "skipped_duplicate",
                   (json_int_t)k->duplicate, "skipped_invalid",
                   (json_int_t)k->invalid);
}

/* Delivered among the messages sent so far, 0..1; null before any. */
static json_t *rate_json(const sg_store_campaign_t *k) {
  uint64_t msgs = k->queued + k->sent + k->delivered + k->failed + k->canceled;
  if (msgs == 0)
    return json_null();
  double r = (double)k->delivered / (double)msgs;
  return json_real((double)(int64_t)(r * 10000 + 0.5) / 10000);
}

static json_t *campaign_json(sg_rest_t *rest, const sg_store_campaign_t *k) {
  json_t *o = json_object();
  if (o == NULL)
    return NULL;
  const sg_engine_account_t *a =
      sg_engine_account_by_id(rest->engine, k->account_id);
  json_object_set_new(o, "id", json_string(k->id));
  json_object_set_new(o, "account", a ? json_string(a->name) : json_null());
  json_object_set_new(o, "name", json_string(k->name ? k->name : ""));
  json_object_set_new(o, "status",
                      json_string(sg_campaign_status_name(k->status)));
  if (k->template_id > 0)
    json_object_set_new(o, "template_id", json_integer(k->template_id));
  json_object_set_new(o, "text", json_string(k->body ? k->body : ""));
  json_t *lists = json_array();
  for (size_t i = 0; lists != NULL && i < k->n_lists; i++)
    json_array_append_new(lists, json_integer(k->lists[i]));
  json_object_set_new(o, "lists", lists ? lists : json_null());
  json_object_set_new(o, "from",
                      k->sender ? json_string(k->sender) : json_null());
  json_object_set_new(o, "send_at", sg__rest_time_json(k->send_at_ms));
  json_object_set_new(o, "window",
                      k->window_start < 0
                          ? json_null()
                          : json_pack("{s:o,s:o}", "start",
                                      hhmm(k->window_start), "end",
                                      hhmm(k->window_end)));
  json_object_set_new(o, "rate_per_minute",
                      k->rate_per_minute ? json_integer(k->rate_per_minute)
                                         : json_null());
  json_object_set_new(o, "validity",
                      k->validity_ms ? json_integer(k->validity_ms / 1000)
                                     : json_null());
  json_object_set_new(o, "callback_url",
                      k->callback_url ? json_string(k->callback_url)
                                      : json_null());
  json_object_set_new(o, "created_at", sg__rest_time_json(k->created_ms));
  json_object_set_new(o, "started_at", sg__rest_time_json(k->started_ms));
  json_object_set_new(o, "completed_at", sg__rest_time_json(k->completed_ms));
  json_object_set_new(o, "expanded", json_boolean(k->expanded));
  json_object_set_new(o, "error",
                      k->error ? json_string(k->error) : json_null());
  json_object_set_new(o, "counts", counts_json(k));
  json_object_set_new(o, "delivery_rate", rate_json(k));
  return o;
}

/* ---- answering ---------------------------------------------------------- */

static call_t *call_new(sg_http_req_t *req, sg_rest_t *rest, bool create) {
  int64_t account;
  const sg_engine_account_t *a = sg__contacts_who(rest, req, create, &account);
  if (a == NULL)
    return NULL;
  /* An admin key without ?account= sees and changes every account's. */
  if (!create && a->cfg != NULL && a->cfg->admin &&
      sg_http_req_query(req, "account") == NULL)
    account = 0;
  call_t *c = sg_calloc(1, sizeof *c);
  if (c == NULL) {
    sg__rest_engine_error(req, SG_ENOMEM);
    return NULL;
  }
  c->req = req;
  c->rest = rest;
  c->account_id = account;
  c->ok_status = 200;
  return c;
}

/* A create past SG_ENGINE_CAMPAIGNS_MAX: nothing was created. */
static void too_many(call_t *c) {
  char msg[200];
  snprintf(msg, sizeof msg,
           "at most %d campaigns may be scheduled, running, paused or "
           "cancelling at once: cancel one, or wait until one completes",
           SG_ENGINE_CAMPAIGNS_MAX);
  sg__rest_error(c->req, 429, "too_many_campaigns", msg, NULL, 0);
}

static void answer_error(call_t *c, int status) {
  if (status == SG_ESTATE)
    sg__rest_error(c->req, 409, "invalid_state",
                   "the campaign's status does not allow this", "status", 0);
  else if (status == SG_ENOENT)
    sg__rest_error(c->req, 404, "not_found", "no such campaign", NULL, 0);
  else if (status == SG_ERANGE)
    too_many(c);
  else
    sg__rest_engine_error(c->req, status);
}

static void list_answer(call_t *c, const sg_store_campres_t *res) {
  json_t *a = json_array();
  for (size_t i = 0; a != NULL && i < res->n_campaigns; i++)
    json_array_append_new(a, campaign_json(c->rest, &res->campaigns[i]));
  sg__rest_json(c->req, 200,
                json_pack("{s:o,s:o}", "campaigns", a ? a : json_null(),
                          "next_cursor",
                          res->next_after[0] ? json_string(res->next_after)
                                             : json_null()));
}

static void messages_cb(sg_engine_t *e, int status,
                        const sg_store_list_res_t *res, void *ud) {
  (void)e;
  call_t *c = ud;
  if (status != 0) {
    sg__rest_engine_error(c->req, status);
  } else {
    json_t *a = json_array();
    for (size_t i = 0; a != NULL && i < res->n; i++)
      json_array_append_new(a, sg__rest_message_json(&res->msgs[i], false));
    sg__rest_json(c->req, 200,
                  json_pack("{s:o,s:o}", "messages", a ? a : json_null(),
                            "next_cursor",
                            res->next_cursor[0] ? json_string(res->next_cursor)
                                                : json_null()));
  }
  sg_free(c);
}

static void messages_list(call_t *c, const sg_store_campaign_t *k) {
  sg_store_filter_t f = {.account_id = k->account_id,
                         .batch_id = k->id,
                         .cursor = c->cursor,
                         .limit = c->limit};
  int rc = sg_engine_list_messages(c->rest->engine, &f, messages_cb, c);
  if (rc != 0) {
    sg__rest_engine_error(c->req, rc);
    sg_free(c);
  }
}

static void done_cb(sg_store_t *st, int status, const sg_store_campres_t *res,
                    void *data) {
  (void)st;
  call_t *c = data;
  if (status == SG_ENOENT && res != NULL) { /* create: a list or template */
    char msg[96];
    if (res->bad_list > 0)
      snprintf(msg, sizeof msg, "no such list: %lld", (long long)res->bad_list);
    sg__rest_error(c->req, 422,
                   res->bad_list > 0 ? "unknown_list" : "unknown_template",
                   res->bad_list > 0 ? msg : "no such template",
                   res->bad_list > 0 ? "lists" : "template_id", 0);
  } else if (status != 0) {
    answer_error(c, status);
  } else if (c->answer == A_LIST) {
    list_answer(c, res);
  } else if (c->answer == A_MESSAGES) {
    messages_list(c, &res->campaigns[0]);
    return;
  } else {
    sg__rest_json(c->req, c->ok_status,
                  campaign_json(c->rest, &res->campaigns[0]));
  }
  sg_free(c);
}

static void run(call_t *c, sg_store_campop_t *op) {
  op->account_id = c->account_id;
  int rc = sg_engine_campaign_op(c->rest->engine, op, done_cb, c);
  if (rc != 0) {
    answer_error(c, rc);
    sg_free(c);
  }
}

/* ---- create ------------------------------------------------------------- */

static int64_t now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static bool bad(sg_http_req_t *req, const char *code, const char *msg,
                const char *field) {
  sg__rest_error(req, 422, code, msg, field, 0);
  return false;
}

static bool parse_text(sg_http_req_t *req, json_t *o,
                       sg_store_campaign_in_t *in) {
  json_t *text = json_object_get(o, "text"),
         *tpl = json_object_get(o, "template_id");
  if (text != NULL && tpl != NULL)
    return bad(req, "invalid_request", "give text or template_id, not both",
               "template_id");
  if (tpl != NULL) {
    if (!json_is_integer(tpl) || json_integer_value(tpl) <= 0)
      return bad(req, "invalid_template_id", "template_id is a template's id",
                 "template_id");
    in->template_id = json_integer_value(tpl);
    return true;
  }
  if (text == NULL)
    return bad(req, "missing_text", "text or template_id is required", "text");
  if (!json_is_string(text) || json_string_length(text) == 0)
    return bad(req, "empty_text", "text must be non-empty text", "text");
  if (json_string_length(text) > SG_STORE_CAMPAIGN_BODY_MAX ||
      strlen(json_string_value(text)) != json_string_length(text))
    return bad(req, "invalid_text",
               "text is at most 8192 octets, without NUL characters", "text");
  in->body = json_string_value(text);
  return true;
}

static bool parse_lists(sg_http_req_t *req, json_t *o, int64_t *lists,
                        sg_store_campaign_in_t *in) {
  json_t *v = json_object_get(o, "lists");
  size_t n = json_array_size(v);
  if (!json_is_array(v) || n == 0 || n > SG_STORE_CAMPAIGN_LISTS_MAX)
    return bad(req, "invalid_lists", "lists is an array of 1 to 100 list ids",
               "lists");
  for (size_t i = 0; i < n; i++) {
    json_t *x = json_array_get(v, i);
    if (!json_is_integer(x) || json_integer_value(x) <= 0)
      return bad(req, "invalid_lists", "each list is a list id", "lists");
    lists[i] = json_integer_value(x);
    for (size_t j = 0; j < i; j++)
      if (lists[j] == lists[i])
        return bad(req, "invalid_lists", "a list is named twice", "lists");
  }
  in->lists = lists;
  in->n_lists = n;
  return true;
}

static bool parse_window(sg_http_req_t *req, json_t *o,
                         sg_store_campaign_in_t *in) {
  json_t *w = json_object_get(o, "window");
  in->window_start = in->window_end = -1;
  if (w == NULL || json_is_null(w))
    return true;
  json_t *s = json_object_get(w, "start"), *e = json_object_get(w, "end");
  if (!json_is_object(w) || json_object_size(w) != 2 ||
      sg_tzwin_parse_hhmm(json_string_value(s), &in->window_start) != 0)
    return bad(req, "invalid_window",
               "window is {\"start\": \"HH:MM\", \"end\": \"HH:MM\"}",
               "window.start");
  if (sg_tzwin_parse_hhmm(json_string_value(e), &in->window_end) != 0)
    return bad(req, "invalid_window", "window.end is a time \"HH:MM\"",
               "window.end");
  if (in->window_start % 1440 == in->window_end % 1440)
    return bad(req, "invalid_window", "the window's start and end are equal",
               "window.end");
  in->window_start %= 1440;
  return true;
}

static bool parse_send_at(sg_http_req_t *req, json_t *o, int64_t now,
                          sg_store_campaign_in_t *in) {
  json_t *v = json_object_get(o, "send_at");
  if (v == NULL || json_is_null(v))
    return true;
  if (!json_is_string(v) ||
      sg_rest_parse_time(json_string_value(v), json_string_length(v),
                         &in->send_at_ms) != 0)
    return bad(req, "invalid_send_at",
               "send_at is an RFC 3339 time such as 2025-06-01T09:00:00Z",
               "send_at");
  if (in->send_at_ms < now - 60000)
    return bad(req, "send_at_in_past", "send_at is in the past", "send_at");
  if (in->send_at_ms > now + SEND_AT_MAX_MS)
    return bad(req, "invalid_send_at", "send_at is more than 366 days ahead",
               "send_at");
  return true;
}

static bool parse_options(sg_http_req_t *req, json_t *o,
                          sg_store_campaign_in_t *in) {
  json_t *v = json_object_get(o, "rate_per_minute");
  if (v != NULL && !json_is_null(v)) {
    if (!json_is_integer(v) || json_integer_value(v) < 1 ||
        json_integer_value(v) > RATE_MAX)
      return bad(req, "invalid_rate", "rate_per_minute is 1 to 1000000",
                 "rate_per_minute");
    in->rate_per_minute = (uint32_t)json_integer_value(v);
  }
  v = json_object_get(o, "validity");
  if (v != NULL && !json_is_null(v)) {
    int64_t ms = -1;
    if (json_is_integer(v))
      ms = json_integer_value(v) * 1000;
    else if (!json_is_string(v) ||
             sg_rest_parse_duration(json_string_value(v), json_string_length(v),
                                    &ms) != 0)
      ms = -1;
    if (ms < 1000 || ms > VALIDITY_MAX_MS)
      return bad(req, "invalid_validity",
                 "validity is 1 to 604800 seconds, or a duration such as "
                 "\"2h\"",
                 "validity");
    in->validity_ms = ms;
  }
  v = json_object_get(o, "from");
  if (v != NULL && !json_is_null(v)) {
    if (!json_is_string(v) || json_string_length(v) == 0 ||
        json_string_length(v) > 20)
      return bad(req, "invalid_from", "from is a sender of 1 to 20 characters",
                 "from");
    in->sender = json_string_value(v);
  }
  v = json_object_get(o, "callback_url");
  if (v != NULL && !json_is_null(v)) {
    const char *u = json_string_value(v);
    if (u == NULL || json_string_length(v) > SG_ENGINE_URL_MAX ||
        (strncmp(u, "http://", 7) != 0 && strncmp(u, "https://", 8) != 0) ||
        strpbrk(u, " \t\r\n") != NULL)
      return bad(req, "invalid_url",
                 "callback_url is an http:// or https:// URL", "callback_url");
    in->callback_url = u;
  }
  return true;
}

static bool parse_create(sg_http_req_t *req, json_t *o, int64_t now,
                         int64_t *lists, sg_store_campaign_in_t *in) {
  json_t *name = json_object_get(o, "name");
  if (!json_is_string(name) || json_string_length(name) == 0 ||
      json_string_length(name) > SG_STORE_CAMPAIGN_NAME_MAX)
    return bad(req, "invalid_name", "name is text of 1 to 128 octets", "name");
  in->name = json_string_value(name);
  return parse_text(req, o, in) && parse_lists(req, o, lists, in) &&
         parse_window(req, o, in) && parse_send_at(req, o, now, in) &&
         parse_options(req, o, in);
}

static void create_cb(sg_http_req_t *req, void *data) {
  static const char *const keys[] = {
      "name",     "text",         "template_id", "lists",
      "from",     "send_at",      "window",      "rate_per_minute",
      "validity", "callback_url", NULL};
  call_t *c = call_new(req, data, true);
  json_t *o = c ? sg__contacts_body(req, keys) : NULL;
  int64_t lists[SG_STORE_CAMPAIGN_LISTS_MAX];
  sg_store_campaign_in_t in = {0};
  if (o == NULL || !parse_create(req, o, now_ms(), lists, &in)) {
    json_decref(o);
    sg_free(c);
    return;
  }
  /* The sender is the account's to check now, not a pause later. */
  const char *code = NULL;
  char msg[128];
  if (sg_engine_campaign_sender_check(c->rest->engine, c->account_id,
                                      in.sender, &code, msg,
                                      sizeof msg) == SG_EINVAL) {
    sg__rest_error(req, 422, code, msg, "from", 0);
    json_decref(o);
    sg_free(c);
    return;
  }
  c->ok_status = 201;
  int rc = sg_engine_campaign_create(c->rest->engine, c->account_id, &in,
                                     done_cb, c);
  json_decref(o);
  if (rc != 0) {
    answer_error(c, rc);
    sg_free(c);
  }
}

/* ---- the other routes -----------------------------------------------------
 */

/* The {id} of the path into c->id; false after answering 404. */
static bool path_id(call_t *c) {
  const char *s = sg_http_req_param(c->req, "id");
  if (s == NULL || strlen(s) != SG_ID_LEN) {
    sg__rest_error(c->req, 404, "not_found", "no such campaign", NULL, 0);
    return false;
  }
  memcpy(c->id, s, sizeof c->id);
  return true;
}

static bool paging(call_t *c) {
  const char *cur = sg_http_req_query(c->req, "cursor");
  const char *lim = sg_http_req_query(c->req, "limit");
  char *end = NULL;
  long v = lim ? strtol(lim, &end, 10) : 50;
  if (lim != NULL && (end == lim || *end != '\0' || v < 1 || v > 1000)) {
    sg__rest_error(c->req, 422, "invalid_limit", "limit is 1 to 1000", "limit",
                   0);
    return false;
  }
  if (cur != NULL && strlen(cur) != SG_ID_LEN) {
    sg__rest_error(c->req, 422, "invalid_cursor",
                   "cursor is the next_cursor of a previous page", "cursor", 0);
    return false;
  }
  c->cursor = cur;
  c->limit = (unsigned)v;
  return true;
}

static void list_cb(sg_http_req_t *req, void *data) {
  call_t *c = call_new(req, data, false);
  if (c == NULL)
    return;
  if (!paging(c)) {
    sg_free(c);
    return;
  }
  c->answer = A_LIST;
  run(c, &(sg_store_campop_t){.kind = SG_STORE_CAMPAIGN_LIST,
                              .after = c->cursor,
                              .limit = c->limit});
}

static void by_id(sg_http_req_t *req, sg_rest_t *rest,
                  sg_store_campop_kind_t kind, answer_t answer) {
  call_t *c = call_new(req, rest, false);
  if (c == NULL)
    return;
  if (!path_id(c) || (answer == A_MESSAGES && !paging(c))) {
    sg_free(c);
    return;
  }
  c->answer = answer;
  run(c, &(sg_store_campop_t){.kind = kind, .id = c->id});
}

static void get_cb(sg_http_req_t *req, void *data) {
  by_id(req, data, SG_STORE_CAMPAIGN_GET, A_ONE);
}

static void pause_cb(sg_http_req_t *req, void *data) {
  by_id(req, data, SG_STORE_CAMPAIGN_PAUSE, A_ONE);
}

static void resume_cb(sg_http_req_t *req, void *data) {
  by_id(req, data, SG_STORE_CAMPAIGN_RESUME, A_ONE);
}

static void cancel_cb(sg_http_req_t *req, void *data) {
  by_id(req, data, SG_STORE_CAMPAIGN_CANCEL, A_ONE);
}

static void messages_route_cb(sg_http_req_t *req, void *data) {
  by_id(req, data, SG_STORE_CAMPAIGN_GET, A_MESSAGES);
}

int sg__rest_campaigns_register(sg_rest_t *rest) {
  static const struct {
    const char *method, *pattern;
    sg_http_handler_cb cb;
  } routes[] = {
      {"GET", "/v1/campaigns", list_cb},
      {"POST", "/v1/campaigns", create_cb},
      {"GET", "/v1/campaigns/{id}", get_cb},
      {"POST", "/v1/campaigns/{id}/pause", pause_cb},
      {"POST", "/v1/campaigns/{id}/resume", resume_cb},
      {"POST", "/v1/campaigns/{id}/cancel", cancel_cb},
      {"GET", "/v1/campaigns/{id}/messages", messages_route_cb},
  };
  int rc = 0;
  for (size_t i = 0; rc == 0 && i < sizeof routes / sizeof routes[0]; i++)
    rc = sg_http_server_route(rest->srv, routes[i].method, routes[i].pattern,
                              routes[i].cb, rest);
  return rc;
}
