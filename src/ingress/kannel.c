/* kannel.c - Kannel's /cgi-bin/sendsms on the HTTP server (ingress/kannel.h):
 * authentication by account name and password, Kannel's arguments read by
 * kannel_parse.c, one sg_engine_submit() per request, and Kannel's answer
 * lines once the store has committed.
 *
 * Handlers run on the loop and never block: the password check is the
 * engine's keyed-hash look-up, everything else is the engine's callback.
 * This module must never write to the store or reach a connector, nor
 * decide what the engine decides (numbers, senders, parts).
 */
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "core/alloc.h"
#include "core/error.h"
#include "core/kannel.h"
#include "ingress/kannel.h"
#include "ingress/kannel_int.h"

#define TEXT_MAX 65536 /* octets of text after conversion to UTF-8 */
#define TO_MAX 1000    /* recipients of one request */

struct sg_kannel {
  sg_http_server_t *srv;
  sg_engine_t *engine;
  sg__kannel_auth_t auth; /* argon2id passwords */
};

/* Kannel's default sendsms-chars: what a number may be written with. */
static const char number_chars[] = "0123456789 +-";

static int64_t wall_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void answer(sg_http_req_t *req, unsigned status, const char *line) {
  sg_http_respond(req, status, "text/html", line, strlen(line), NULL);
}

/* ---- the engine's answer ------------------------------------------------- */

static void submit_done(sg_engine_t *e, const sg_submit_res_t *res, void *ud) {
  (void)e;
  sg_http_req_t *req = ud;
  if (res->status == 0) {
    bool later = false;
    for (size_t i = 0; i < res->n_items; i++)
      later |= res->items[i].status == 0 &&
               res->items[i].msg_status == SG_MSG_SCHEDULED;
    answer(req, 202,
           later ? "3: Queued for later delivery" : "0: Accepted for delivery");
    return;
  }
  const char *code = res->error_code != NULL ? res->error_code : "";
  if (res->status == SG_ENOFUNDS) {
    answer(req, 402, "Insufficient balance, rejected");
    return;
  }
  if (res->status == SG_EPERM && strcmp(code, "velocity_blocked") == 0) {
    answer(req, 403, "Number(s) has/have been denied by the velocity limit.");
    return;
  }
  if (res->status != SG_EINVAL) {
    answer(req, 503, "Temporal failure, try again later.");
    return;
  }
  if (strcmp(code, "destination_not_allowed") == 0) {
    /* Kannel's answer when every receiver fails its allow and deny
     * lists. */
    answer(req, 400,
           "Number(s) has/have been denied by white- and/or black-lists.");
    return;
  }
  if (strcmp(code, "missing_sender") == 0) {
    answer(req, 400, "Sender missing and no global set, rejected");
    return;
  }
  /* Kannel has no words for what smsgate checks beyond it (numbers,
   * allowed senders, lengths): the engine's sentence, in Kannel's form. */
  char line[400];
  snprintf(line, sizeof line, "%s, rejected",
           res->message != NULL ? res->message : "invalid request");
  answer(req, 400, line);
}

/* ---- building the submit ------------------------------------------------- */

/* One request being read: the pieces the submit points into. Lives on the
 * heap while its password is checked off the loop. The arrays at the end
 * (10 KB) are not zeroed: only their first n_args and the recipients that
 * sg_kannel_split_to counted are ever read. */
typedef struct reading {
  sg_kannel_t *k;
  sg_http_req_t *req;
  bool post_headers;
  sg_kannel_req_t p;
  size_t n_args;
  char *form;  /* decoded form body, or NULL */
  char *query; /* decoded query string, or NULL */
  char *to_buf;
  char charset[32]; /* of an X-Kannel POST's Content-Type */
  uint8_t *text;
  size_t text_len;
  sg_kannel_arg_t args[SG_KANNEL_ARGS_MAX];
  const char *to[TO_MAX];
} reading_t;

static void reading_free(reading_t *r) {
  if (r == NULL)
    return;
  sg_free(r->form);
  sg_free(r->query);
  sg_free(r->to_buf);
  sg_free(r->text);
  sg_free(r);
}

/* Keeps the recipients written with Kannel's number characters; the
 * count, 0 when none is left. */
static size_t allowed_numbers(const char **to, size_t n) {
  size_t k = 0;
  for (size_t i = 0; i < n; i++)
    if (strspn(to[i], number_chars) == strlen(to[i]))
      to[k++] = to[i];
  return k;
}

static int build_text(const sg_kannel_req_t *p, reading_t *r,
                      sg_submit_req_t *s) {
  if (p->coding == 1) { /* 8-bit: the octets as they are */
    s->binary = p->text != NULL ? p->text : (const uint8_t *)"";
    s->binary_len = p->text != NULL ? p->text_len : 0;
    return 0;
  }
  /* UTF-8 of a charset smsgate reads takes at most twice the octets
   * (Latin-1; UTF-16 one and a half): a shorter buffer than TEXT_MAX
   * changes no answer. */
  size_t in = p->text != NULL ? p->text_len : 0;
  size_t cap = in < TEXT_MAX / 2 ? 2 * in + 1 : TEXT_MAX;
  r->text = sg_malloc(cap);
  if (r->text == NULL)
    return SG_ENOMEM;
  int rc = sg_kannel_text_utf8(p, r->text, cap, &r->text_len);
  if (rc < 0)
    return rc;
  s->text = (const char *)r->text;
  s->text_len = r->text_len;
  s->encoding = p->coding == 2 ? SG_ENC_UCS2 : SG_ENC_AUTO;
  return 0;
}

static void fill_submit(const sg_kannel_req_t *p, const sg_engine_account_t *a,
                        sg_submit_req_t *s) {
  int64_t now = wall_ms();
  s->account = a;
  s->from = p->from;
  if (p->validity > 0)
    s->validity_ms = (int64_t)p->validity * 60000;
  if (p->deferred > 0)
    s->send_at_ms = now + (int64_t)p->deferred * 60000;
  s->client_ref = p->account != NULL && p->account[0] ? p->account : NULL;
  s->priority = p->priority > 0 ? (uint8_t)p->priority : 0;
  if (p->dlr_mask > 0 && p->dlr_url != NULL && p->dlr_url[0] != '\0') {
    s->dlr_url = p->dlr_url;
    s->dlr_mask = (uint8_t)p->dlr_mask;
  }
  /* Kannel asks the operator for receipts when the mask wants one of
   * delivered, failed or buffered. */
  s->dlr = p->dlr_mask > 0 &&
           (p->dlr_mask & (SG_KANNEL_DLR_DELIVERED | SG_KANNEL_DLR_FAILED |
                           SG_KANNEL_DLR_BUFFERED)) != 0;
}

/* Checks and submits a request whose user is known (rc 0) or not; answers
 * the request itself on every error. */
static void proceed(reading_t *r, const sg_engine_account_t *acct, int rc) {
  sg_kannel_t *k = r->k;
  sg_http_req_t *req = r->req;
  const sg_kannel_req_t p = r->p;
  sg_kannel_answer_t err;
  if (rc == SG_ENOENT || rc == SG_EINVAL) {
    answer(req, 403, "Authorization failed for sendsms");
    return;
  }
  if (rc != 0) {
    answer(req, 503, "Temporal failure, try again later.");
    return;
  }
  if (sg_kannel_req_check(&p, r->post_headers, &err) != 0) {
    answer(req, err.http, err.text);
    return;
  }
  if (p.udh != NULL && p.udh_len > 0) {
    answer(req, 400, "UDH field not supported, rejected");
    return;
  }
  r->to_buf = sg_malloc(strlen(p.to) + 1);
  if (r->to_buf == NULL) {
    answer(req, 503, "Temporal failure, try again later.");
    return;
  }
  int n = sg_kannel_split_to(p.to, r->to_buf, r->to, TO_MAX);
  size_t n_to = n > 0 ? allowed_numbers(r->to, (size_t)n) : 0;
  if (n == SG_ERANGE) {
    answer(req, 400, "Too many receivers, rejected");
    return;
  }
  if (n_to == 0) {
    answer(
        req, 400,
        n == 0
            ? "Empty receiver number not allowed, rejected"
            : "Number(s) has/have been denied by white- and/or black-lists.");
    return;
  }
  sg_submit_req_t s;
  memset(&s, 0, sizeof s);
  s.to = r->to;
  s.n_to = n_to;
  rc = build_text(&p, r, &s);
  if (rc == SG_ENOMEM) {
    answer(req, 503, "Temporal failure, try again later.");
    return;
  }
  if (rc < 0) {
    answer(req, 400, "Charset or body misformed, rejected");
    return;
  }
  if (s.text_len == 0 && s.binary_len == 0) {
    answer(req, 400, "Empty text not allowed, rejected");
    return;
  }
  fill_submit(&p, acct, &s);
  rc = sg_engine_submit(k->engine, &s, submit_done, req);
  if (rc != 0)
    answer(req, 503, "Temporal failure, try again later.");
}

/* An argon2id check came back. */
static void auth_done(const sg_engine_account_t *acct, int status, void *ud) {
  reading_t *r = ud;
  if (status == SG_ECLOSED)
    answer(r->req, 503, "Temporal failure, try again later.");
  else
    proceed(r, acct, status);
  reading_free(r);
}

/* Reads the arguments and checks the user; takes r. */
static void handle(sg_kannel_t *k, sg_http_req_t *req, reading_t *r,
                   bool post_headers) {
  r->k = k;
  r->req = req;
  r->post_headers = post_headers;
  sg_kannel_req_read(r->args, r->n_args, &r->p);
  const sg_engine_account_t *acct = NULL;
  int rc = r->p.username != NULL && r->p.password != NULL
               ? sg__kannel_auth(&k->auth, k->engine, r->p.username,
                                 r->p.password, &acct, auth_done, r)
               : SG_ENOENT;
  if (rc == 1)
    return; /* auth_done takes it from here */
  proceed(r, acct, rc);
  reading_free(r);
}

/* ---- GET and the form POST ----------------------------------------------- */

/* The query string's arguments, decoded here rather than by the server so
 * that values may hold NUL octets (raw UCS-2 text: "%00H%00i"). Answers
 * the request and returns false on an error. */
static bool query_args(sg_http_req_t *req, reading_t *r) {
  const char *q = sg_http_req_query_raw(req);
  size_t len = strlen(q);
  r->query = sg_malloc(2 * len + 2);
  if (r->query == NULL) {
    answer(req, 503, "Temporal failure, try again later.");
    return false;
  }
  int n = sg_kannel_form_parse((const uint8_t *)q, len, r->query, r->args,
                               SG_KANNEL_ARGS_MAX);
  if (n < 0) {
    answer(req, 400,
           n == SG_ERANGE ? "Too many arguments, rejected"
                          : "Malformed query, rejected");
    return false;
  }
  r->n_args = (size_t)n;
  return true;
}

static reading_t *reading_new(sg_http_req_t *req) {
  reading_t *r = sg_malloc(sizeof *r);
  if (r == NULL)
    answer(req, 503, "Temporal failure, try again later.");
  else
    memset(r, 0, offsetof(reading_t, args));
  return r;
}

static void get_cb(sg_http_req_t *req, void *data) {
  reading_t *r = reading_new(req);
  if (r == NULL)
    return;
  if (query_args(req, r))
    handle(data, req, r, false);
  else
    reading_free(r);
}

/* The media type of Content-Type, without parameters, compared
 * case-insensitively with `type`. */
static bool type_is(const char *ct, const char *type) {
  size_t n = strlen(type);
  return ct != NULL && strncasecmp(ct, type, n) == 0 &&
         (ct[n] == '\0' || ct[n] == ';' || ct[n] == ' ');
}

/* Takes r. */
static void form_post(sg_http_req_t *req, sg_kannel_t *k, reading_t *r) {
  size_t len = 0;
  const uint8_t *body = sg_http_req_body(req, &len);
  if (!query_args(req, r)) {
    reading_free(r);
    return;
  }
  r->form = sg_malloc(2 * len + 2);
  if (r->form == NULL) {
    answer(req, 503, "Temporal failure, try again later.");
    reading_free(r);
    return;
  }
  int n = sg_kannel_form_parse(body, len, r->form, r->args + r->n_args,
                               SG_KANNEL_ARGS_MAX - r->n_args);
  if (n < 0) {
    answer(req, 400,
           n == SG_ERANGE ? "Too many arguments, rejected"
                          : "Malformed form body, rejected");
    reading_free(r);
    return;
  }
  /* The body's arguments come first: Kannel reads the body of a form. */
  sg_kannel_arg_t tmp[SG_KANNEL_ARGS_MAX];
  memcpy(tmp, r->args + r->n_args, (size_t)n * sizeof tmp[0]);
  memmove(r->args + n, r->args, r->n_args * sizeof tmp[0]);
  memcpy(r->args, tmp, (size_t)n * sizeof tmp[0]);
  r->n_args += (size_t)n;
  handle(k, req, r, false);
}

/* ---- POST with the text as body and X-Kannel-* headers ------------------- */

static const struct {
  const char *header;
  const char *arg;
} x_kannel[] = {
    {"X-Kannel-Username", "username"},
    {"X-Kannel-Password", "password"},
    {"X-Kannel-To", "to"},
    {"X-Kannel-From", "from"},
    {"X-Kannel-Coding", "coding"},
    {"X-Kannel-MClass", "mclass"},
    {"X-Kannel-Validity", "validity"},
    {"X-Kannel-Deferred", "deferred"},
    {"X-Kannel-DLR-Mask", "dlr-mask"},
    {"X-Kannel-DLR-URL", "dlr-url"},
    {"X-Kannel-SMSC", "smsc"},
    {"X-Kannel-Account", "account"},
    {"X-Kannel-Priority", "priority"},
    {"X-Kannel-UDH", "udh"},
};

/* The charset parameter of Content-Type into buf, or NULL. */
static const char *ct_charset(const char *ct, char *buf, size_t cap) {
  const char *p = ct;
  while (p != NULL && *p != '\0' && strncasecmp(p, "charset=", 8) != 0)
    p++;
  if (p == NULL || *p == '\0')
    return NULL;
  p += 8;
  if (*p == '"')
    p++;
  size_t n = strcspn(p, "\"; ");
  if (n == 0 || n >= cap)
    return NULL;
  memcpy(buf, p, n);
  buf[n] = '\0';
  return buf;
}

/* Takes r. */
static void header_post(sg_http_req_t *req, sg_kannel_t *k, reading_t *r,
                        bool octets) {
  static char coding_8bit[] = "1", coding_7bit[] = "0";
  char *charset = r->charset;
  for (size_t i = 0; i < sizeof x_kannel / sizeof x_kannel[0]; i++) {
    const char *v = sg_http_req_header(req, x_kannel[i].header);
    if (v != NULL)
      r->args[r->n_args++] = (sg_kannel_arg_t){
          .name = x_kannel[i].arg, .value = v, .len = strlen(v)};
  }
  size_t len = 0;
  const uint8_t *body = sg_http_req_body(req, &len);
  r->args[r->n_args++] = (sg_kannel_arg_t){
      .name = "text", .value = (const char *)body, .len = len};
  const char *cs = ct_charset(sg_http_req_header(req, "Content-Type"), charset,
                              sizeof r->charset);
  if (cs != NULL)
    r->args[r->n_args++] =
        (sg_kannel_arg_t){.name = "charset", .value = cs, .len = strlen(cs)};
  /* Without X-Kannel-Coding: text/plain is 7-bit, octet-stream 8-bit. */
  r->args[r->n_args++] = (sg_kannel_arg_t){
      .name = "coding", .value = octets ? coding_8bit : coding_7bit, .len = 1};
  handle(k, req, r, true);
}

static void post_cb(sg_http_req_t *req, void *data) {
  const char *ct = sg_http_req_header(req, "Content-Type");
  bool form = ct == NULL || type_is(ct, "application/x-www-form-urlencoded");
  bool plain = !form && type_is(ct, "text/plain");
  bool octets = !form && !plain && type_is(ct, "application/octet-stream");
  if (!form && !plain && !octets) {
    answer(req, 400, "Invalid content-type");
    return;
  }
  reading_t *r = reading_new(req);
  if (r == NULL)
    return;
  if (form)
    form_post(req, data, r);
  else
    header_post(req, data, r, octets);
}

/* ---- registration -------------------------------------------------------- */

int sg_kannel_register(uv_loop_t *loop, sg_http_server_t *srv,
                       sg_engine_t *engine, sg_kannel_t **out) {
  if (loop == NULL || srv == NULL || engine == NULL || out == NULL)
    return SG_EINVAL;
  sg_kannel_t *k = sg_calloc(1, sizeof *k);
  if (k == NULL)
    return SG_ENOMEM;
  k->srv = srv;
  k->engine = engine;
  sg__kannel_auth_init(&k->auth, loop);
  int rc = sg_http_server_route_raw(srv, "GET", "/cgi-bin/sendsms", get_cb, k);
  if (rc == 0)
    rc = sg_http_server_route_raw(srv, "POST", "/cgi-bin/sendsms", post_cb, k);
  if (rc != 0) {
    sg_free(k);
    return rc;
  }
  *out = k;
  return 0;
}

static void free_when_idle(void *data) {
  sg_free(data);
}

void sg_kannel_free(sg_kannel_t *k) {
  if (k != NULL && sg__kannel_auth_close(&k->auth, free_when_idle, k))
    sg_free(k);
}
