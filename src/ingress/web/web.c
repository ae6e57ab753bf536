/* web.c - the web page's routes (web.h): the embedded files, the login
 * that opens a session, logout, and the cookie's part in the REST API's
 * authentication; the sessions are saved through the engine
 * (engine/websession.h) after every change and read back at start.
 *
 * Handlers run on the loop and never block: an argon2id password is
 * checked on libuv's thread pool (ingress/kannel_int.h, the same check as
 * Kannel's sendsms). This module must never keep a session token or a
 * password after the request that carried it, never accept a cookie alone
 * for a state-changing request, and never write to the store but through
 * the engine.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <jansson.h>
#include <sodium.h>

#include "core/alloc.h"
#include "core/error.h"
#include "engine/reload.h"
#include "engine/websession.h"
#include "ingress/kannel_int.h"
#include "ingress/rest/parse.h"
#include "ingress/web/assets.h"
#include "ingress/web/session.h"
#include "ingress/web/web.h"

#define PASSWORD_MAX 256

struct sg__web {
  sg_engine_t *engine;
  bool secure; /* served over TLS: the cookie gets Secure */
  sg_web_sessions_t sessions;
  sg_web_login_limit_t limit;
  sg__kannel_auth_t auth;
  unsigned pending; /* store requests in flight */
  bool saving, dirty, closing;
  bool checking; /* closing with password checks still on the pool */
};

static int64_t wall_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void maybe_free(sg__web_t *w) {
  if (w->closing && w->pending == 0 && !w->checking) {
    sg_web_sessions_clear(&w->sessions);
    sg_free(w);
  }
}

static void release(sg__web_t *w) {
  w->pending--;
  maybe_free(w);
}

/* The last password check came back after sg__web_free (the pool's
 * callback touches nothing of ours after this). */
static void auth_idle(void *data) {
  sg__web_t *w = data;
  w->checking = false;
  maybe_free(w);
}

/* ---- answering ----------------------------------------------------------- */

static void answer_json(sg_http_req_t *req, unsigned status, json_t *obj,
                        const char *const *headers) {
  char *text = obj != NULL ? json_dumps(obj, JSON_COMPACT) : NULL;
  json_decref(obj);
  if (text == NULL) {
    sg_http_respond_error(req, 500, "internal", "out of memory", NULL);
    return;
  }
  sg_http_respond(req, status, "application/json", text, strlen(text), headers);
  sg_free(text);
}

static void answer_error(sg_http_req_t *req, unsigned status, const char *code,
                         const char *message, const char *field,
                         const char *const *headers) {
  answer_json(req, status,
              json_pack("{s:{s:s, s:s, s:s?}}", "error", "code", code,
                        "message", message, "field", field),
              headers);
}

/* ---- saving the sessions ------------------------------------------------- */

static void save(sg__web_t *w);

static void saved_cb(sg_store_t *st, int status, void *data) {
  sg__web_t *w = data;
  (void)st;
  (void)status; /* a failed save is retried with the next change */
  w->saving = false;
  if (w->dirty && !w->closing)
    save(w);
  release(w);
}

/* Writes the whole table; one write at a time, the latest state last. */
static void save(sg__web_t *w) {
  if (w->saving) {
    w->dirty = true;
    return;
  }
  w->dirty = false;
  char *doc = sg_web_sessions_dump(&w->sessions, wall_ms());
  if (doc == NULL)
    return;
  if (sg_engine_web_sessions_save(w->engine, doc, strlen(doc), saved_cb, w) ==
      0) {
    w->saving = true;
    w->pending++;
  }
  sg_free(doc);
}

/* The saved sessions, with those opened while they were being read. */
static void loaded_cb(sg_store_t *st, int status, const char *body, size_t len,
                      void *data) {
  sg__web_t *w = data;
  (void)st;
  sg_web_sessions_t t = {0};
  if (!w->closing && status == 0 &&
      sg_web_sessions_load(&t, body, len, wall_ms(), NULL) == 0) {
    for (size_t i = 0; i < w->sessions.n; i++)
      sg_web_session_add(&t, &w->sessions.v[i]);
    sg_web_sessions_clear(&w->sessions);
    w->sessions = t;
  }
  release(w);
}

/* ---- the session's part in authentication -------------------------------- */

static bool safe_method(const char *m) {
  return strcmp(m, "GET") == 0 || strcmp(m, "HEAD") == 0;
}

/* The session token of the request's cookie; false when none. */
static bool cookie_token(sg_http_req_t *req, char *out, size_t cap) {
  return sg_web_cookie_value(sg_http_req_header(req, "Cookie"), SG_WEB_COOKIE,
                             out, cap) == 0;
}

static const char *const k_clear_cookie[] = {
    "Set-Cookie",
    SG_WEB_COOKIE "=; Path=/; Max-Age=0; HttpOnly; SameSite=Strict", NULL};

/* Why a session was refused (sg__web_check). */
typedef struct refusal {
  unsigned status;
  const char *code, *message;
} refusal_t;

/* The account of a live session, or NULL with the reason in *why. */
static const sg_engine_account_t *
session_account(sg__web_t *w, const char *token, refusal_t *why) {
  const sg_web_session_t *s =
      sg_web_session_find(&w->sessions, token, wall_ms());
  if (s == NULL) {
    *why = (refusal_t){401, "session_expired",
                       "the session has ended; log in again"};
    return NULL;
  }
  const sg_engine_account_t *a =
      sg_engine_account_by_name(w->engine, s->account);
  if (a == NULL) {
    sg_web_session_end(&w->sessions, token);
    save(w);
    *why = (refusal_t){401, "session_expired",
                       "the account of this session no longer exists"};
    return NULL;
  }
  if (a->cfg != NULL && a->cfg->disabled) {
    *why = (refusal_t){403, "account_disabled",
                       "the account of this session is disabled"};
    return NULL;
  }
  return a;
}

static void answer_refusal(sg_http_req_t *req, const refusal_t *why) {
  answer_error(req, why->status, why->code, why->message, NULL,
               why->status == 401 ? k_clear_cookie : NULL);
}

int sg__web_check(sg__web_t *w, sg_http_req_t *req,
                  const sg_engine_account_t **out, unsigned *status,
                  const char **code, const char **message) {
  char token[SG_WEB_TOKEN_LEN + 2];
  if (w == NULL || !cookie_token(req, token, sizeof token))
    return 1;
  refusal_t why = {0};
  const sg_engine_account_t *a = session_account(w, token, &why);
  if (a != NULL && !safe_method(sg_http_req_method(req)) &&
      !sg_web_csrf_ok(token, sg_http_req_header(req, "X-CSRF-Token"))) {
    a = NULL;
    why = (refusal_t){403, "csrf_token_required",
                      "a request authenticated by the session cookie must "
                      "send the session's X-CSRF-Token header"};
  }
  if (a == NULL) {
    *status = why.status;
    *code = why.code;
    *message = why.message;
    return -1;
  }
  *out = a;
  return 0;
}

int sg__web_auth(sg__web_t *w, sg_http_req_t *req,
                 const sg_engine_account_t **out) {
  refusal_t why = {0};
  int rc = sg__web_check(w, req, out, &why.status, &why.code, &why.message);
  if (rc < 0)
    answer_refusal(req, &why);
  return rc;
}

/* ---- GET / and /assets/{name} -------------------------------------------- */

static void index_cb(sg_http_req_t *req, void *data) {
  (void)data;
  const sg__web_asset_t *a = sg__web_asset_find("index.html");
  if (a == NULL) {
    sg_http_respond_error(req, 404, "not_found", "the page is not built in",
                          NULL);
    return;
  }
  sg__web_asset_respond(req, a);
}

static void asset_cb(sg_http_req_t *req, void *data) {
  (void)data;
  const sg__web_asset_t *a = sg__web_asset_find(sg_http_req_param(req, "name"));
  if (a == NULL) {
    sg_http_respond_error(req, 404, "not_found", "no such file", "name");
    return;
  }
  sg__web_asset_respond(req, a);
}

/* ---- POST /v1/session ---------------------------------------------------- */

typedef struct login {
  sg__web_t *w;
  sg_http_req_t *req;
} login_t;

static json_t *session_json(const sg_engine_account_t *a, const char *token,
                            int64_t expires_ms) {
  char csrf[SG_WEB_TOKEN_LEN + 1], when[SG_REST_TIME_BUF];
  bool cookie = token != NULL && sg_web_csrf_token(token, csrf) == 0;
  json_t *o = json_pack("{s:s, s:b}", "account", a->name, "admin",
                        a->cfg != NULL && a->cfg->admin);
  if (o == NULL)
    return NULL;
  json_object_set_new(o, "csrf_token",
                      cookie ? json_string(csrf) : json_null());
  json_object_set_new(o, "expires_at",
                      expires_ms > 0 &&
                              sg_rest_format_time(expires_ms, when) == 0
                          ? json_string(when)
                          : json_null());
  return o;
}

static void login_ok(sg__web_t *w, sg_http_req_t *req,
                     const sg_engine_account_t *a) {
  char token[SG_WEB_TOKEN_LEN + 1];
  int64_t now = wall_ms();
  if (sg_web_session_new(&w->sessions, a->name, now, SG_WEB_SESSION_TTL_MS,
                         token) != 0) {
    answer_error(req, 503, "unavailable", "out of memory", NULL, NULL);
    return;
  }
  char cookie[160];
  snprintf(cookie, sizeof cookie,
           SG_WEB_COOKIE "=%s; Path=/; Max-Age=%lld; HttpOnly; "
                         "SameSite=Strict%s",
           token, (long long)(SG_WEB_SESSION_TTL_MS / 1000),
           w->secure ? "; Secure" : "");
  const char *headers[] = {"Set-Cookie", cookie, "Cache-Control", "no-store",
                           NULL};
  answer_json(req, 200, session_json(a, token, now + SG_WEB_SESSION_TTL_MS),
              headers);
  sodium_memzero(token, sizeof token);
  sodium_memzero(cookie, sizeof cookie);
  save(w);
}

static void login_refused(sg__web_t *w, sg_http_req_t *req, int rc) {
  if (rc == SG_EPERM) {
    answer_error(req, 403, "account_disabled", "the account is disabled", NULL,
                 NULL);
    return;
  }
  if (rc == SG_EBUSY || rc == SG_ESTATE || rc == SG_EIO || rc == SG_ENOMEM) {
    const char *ra[] = {"Retry-After", "1", NULL};
    answer_error(req, 503, "unavailable",
                 "the gateway cannot check passwords now; retry", NULL, ra);
    return;
  }
  sg_web_login_failed(&w->limit, sg_http_req_peer(req), wall_ms());
  answer_error(req, 401, "invalid_credentials",
               "the API key, or the account name and password, are not valid",
               NULL, NULL);
}

static void password_cb(const sg_engine_account_t *acct, int status, void *ud) {
  login_t *l = ud;
  sg__web_t *w = l->w;
  if (status == SG_ECLOSED || w->closing || sg_http_req_cancelled(l->req))
    sg_http_respond_error(l->req, 503, "stopping", "the gateway is stopping",
                          NULL);
  else if (status == 0 && acct != NULL)
    login_ok(w, l->req, acct);
  else
    login_refused(w, l->req, status);
  sg_free(l);
}

/* The body: exactly {"api_key"} or {"account", "password"}, strings. */
static bool read_login(sg_http_req_t *req, json_t *root, const char **key,
                       const char **account, const char **password) {
  const char *name;
  json_t *v;
  if (!json_is_object(root)) {
    answer_error(req, 400, "invalid_json", "the body must be a JSON object",
                 NULL, NULL);
    return false;
  }
  json_object_foreach(root, name, v) {
    const char **slot = strcmp(name, "api_key") == 0    ? key
                        : strcmp(name, "account") == 0  ? account
                        : strcmp(name, "password") == 0 ? password
                                                        : NULL;
    if (slot == NULL || !json_is_string(v)) {
      answer_error(req, 422, slot == NULL ? "unknown_field" : "invalid_type",
                   slot == NULL ? "unknown field" : "must be a string", name,
                   NULL);
      return false;
    }
    *slot = json_string_value(v);
  }
  bool by_key = *key != NULL && *account == NULL && *password == NULL;
  bool by_pw = *key == NULL && *account != NULL && *password != NULL;
  if (!by_key && !by_pw) {
    answer_error(req, 422, "missing_field",
                 "send either api_key, or account and password",
                 *key != NULL       ? "api_key"
                 : *account == NULL ? "account"
                                    : "password",
                 NULL);
    return false;
  }
  if (by_pw && strlen(*password) > PASSWORD_MAX) {
    answer_error(req, 422, "invalid_value", "the password is too long",
                 "password", NULL);
    return false;
  }
  return true;
}

static void login_with(sg__web_t *w, sg_http_req_t *req, const char *key,
                       const char *account, const char *password) {
  const sg_engine_account_t *a = NULL;
  if (key != NULL) {
    int rc = sg_engine_auth_api_key(w->engine, key, strlen(key), &a);
    rc == 0 ? login_ok(w, req, a) : login_refused(w, req, rc);
    return;
  }
  login_t *l = sg_calloc(1, sizeof *l);
  if (l == NULL) {
    login_refused(w, req, SG_ENOMEM);
    return;
  }
  l->w = w;
  l->req = req;
  int rc = sg__kannel_auth(&w->auth, w->engine, account, password, &a,
                           password_cb, l);
  if (rc == 1)
    return;
  sg_free(l);
  rc == 0 ? login_ok(w, req, a) : login_refused(w, req, rc);
}

static bool is_json(const char *ct) {
  return ct != NULL && strncasecmp(ct, "application/json", 16) == 0 &&
         (ct[16] == '\0' || ct[16] == ';' || ct[16] == ' ');
}

static void login_cb(sg_http_req_t *req, void *data) {
  sg__web_t *w = data;
  unsigned wait =
      sg_web_login_blocked(&w->limit, sg_http_req_peer(req), wall_ms());
  if (wait > 0) {
    char ra[16];
    snprintf(ra, sizeof ra, "%u", wait);
    const char *h[] = {"Retry-After", ra, NULL};
    answer_error(req, 429, "too_many_logins",
                 "too many failed logins from this address; retry later", NULL,
                 h);
    return;
  }
  /* Only JSON: a form of another site cannot post it without CORS. */
  if (!is_json(sg_http_req_header(req, "Content-Type"))) {
    answer_error(req, 415, "unsupported_media_type",
                 "send the credentials as application/json", NULL, NULL);
    return;
  }
  size_t len = 0;
  const uint8_t *body = sg_http_req_body(req, &len);
  json_t *root =
      json_loadb((const char *)body, len, JSON_REJECT_DUPLICATES, NULL);
  const char *key = NULL, *account = NULL, *password = NULL;
  if (root == NULL)
    answer_error(req, 400, "invalid_json", "the body is not JSON", NULL, NULL);
  else if (read_login(req, root, &key, &account, &password))
    login_with(w, req, key, account, password);
  json_decref(root);
}

/* ---- GET and DELETE /v1/session ------------------------------------------ */

static void whoami_cb(sg_http_req_t *req, void *data) {
  sg__web_t *w = data;
  char token[SG_WEB_TOKEN_LEN + 2];
  const sg_engine_account_t *a = NULL;
  if (cookie_token(req, token, sizeof token)) {
    refusal_t why = {0};
    if ((a = session_account(w, token, &why)) == NULL) {
      answer_refusal(req, &why);
      return;
    }
    const sg_web_session_t *s =
        sg_web_session_find(&w->sessions, token, wall_ms());
    answer_json(req, 200, session_json(a, token, s->expires_ms), NULL);
    return;
  }
  const char *key = NULL;
  size_t len = 0;
  if (sg_rest_parse_bearer(sg_http_req_header(req, "Authorization"), &key,
                           &len) != 0 ||
      sg_engine_auth_api_key(w->engine, key, len, &a) != 0) {
    answer_error(req, 401, "unauthorized",
                 "log in first, or send 'Authorization: Bearer <api key>'",
                 NULL, NULL);
    return;
  }
  answer_json(req, 200, session_json(a, NULL, 0), NULL);
}

static void logout_cb(sg_http_req_t *req, void *data) {
  sg__web_t *w = data;
  char token[SG_WEB_TOKEN_LEN + 2];
  const sg_engine_account_t *a = NULL;
  int rc = sg__web_auth(w, req, &a);
  if (rc < 0)
    return;
  if (rc == 1 || !cookie_token(req, token, sizeof token)) {
    answer_error(req, 401, "unauthorized", "there is no session to end", NULL,
                 NULL);
    return;
  }
  sg_web_session_end(&w->sessions, token);
  save(w);
  sg_http_respond(req, 204, NULL, NULL, 0, k_clear_cookie);
}

/* ---- registration -------------------------------------------------------- */

int sg__web_register(sg_http_server_t *srv, sg_engine_t *engine,
                     sg__web_t **out) {
  if (srv == NULL || engine == NULL || out == NULL)
    return SG_EINVAL;
  *out = NULL;
  const sg_config_t *cfg = sg_engine_config(engine);
  if (cfg != NULL && !cfg->http.web)
    return 0;
  sg__web_t *w = sg_calloc(1, sizeof *w);
  if (w == NULL)
    return SG_ENOMEM;
  w->engine = engine;
  w->secure = cfg != NULL && cfg->http.tls_cert != NULL;
  sg__kannel_auth_init(&w->auth, sg_engine_web_loop(engine));
  static const struct {
    const char *method, *pattern;
    sg_http_handler_cb cb;
  } routes[] = {
      {"GET", "/", index_cb},
      {"GET", "/assets/{name}", asset_cb},
      {"POST", "/v1/session", login_cb},
      {"GET", "/v1/session", whoami_cb},
      {"DELETE", "/v1/session", logout_cb},
  };
  for (size_t i = 0; i < sizeof routes / sizeof routes[0]; i++) {
    int rc = sg_http_server_route(srv, routes[i].method, routes[i].pattern,
                                  routes[i].cb, w);
    if (rc != 0) {
      sg_free(w);
      return rc;
    }
  }
  if (sg_engine_web_sessions_load(engine, loaded_cb, w) == 0)
    w->pending++;
  *out = w;
  return 0;
}

void sg__web_end_sessions(sg__web_t *w, const char *account) {
  if (w == NULL || account == NULL || w->closing)
    return;
  if (sg_web_session_end_account(&w->sessions, account) > 0)
    save(w);
}

void sg__web_free(sg__web_t *w) {
  if (w == NULL)
    return;
  w->closing = true;
  w->checking = !sg__kannel_auth_close(&w->auth, auth_idle, w);
  maybe_free(w);
}
