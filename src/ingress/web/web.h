/* web.h - the web page of smsgate (docs/web.md): its files at / and
 * /assets/NAME, the login that opens a session cookie, and the session's
 * place in the REST API's authentication.
 *
 * Routes added by sg__web_register (when `http.web` is true):
 *   GET    /                 the page (index.html)
 *   GET    /assets/{name}    its scripts, styles and the chart library
 *   POST   /v1/session       log in: {"api_key"} or {"account",
 *                            "password"}; 200 with Set-Cookie sg_session
 *                            and {"account", "admin", "csrf_token",
 *                            "expires_at"}; 401 invalid_credentials, 403
 *                            account_disabled, 415 (not JSON), 429
 *                            too_many_logins (Retry-After)
 *   GET    /v1/session       the caller's session (cookie or Bearer key)
 *   DELETE /v1/session       log out: ends the session, clears the cookie
 * A request with no Authorization header and the sg_session cookie is
 * authenticated by its session; a state-changing one (not GET or HEAD)
 * must also carry the session's X-CSRF-Token header, else 403
 * csrf_token_required. Sessions are saved in the store and survive a
 * restart.
 *
 * Not a public header: for src/ingress/rest/rest.c and src/ingress/web/.
 * Loop thread only.
 */
#ifndef SG_INGRESS_WEB_WEB_H
#define SG_INGRESS_WEB_WEB_H

#include "engine/engine.h"
#include "ingress/http_server.h"

typedef struct sg__web sg__web_t;

/* Adds the routes above to srv for engine (both borrowed) unless the
 * engine's configuration turns the page off (http.web: false; *out is then
 * NULL and 0 returned). Starts reading the saved sessions. Returns 0,
 * SG_ENOMEM, or the error of sg_http_server_route. */
int sg__web_register(sg_http_server_t *srv, sg_engine_t *engine,
                     sg__web_t **out);

/* Frees the web state once the password checks and store writes it
 * started have come back (sg_store_close runs those that are still due).
 * Call after sg_http_server_free. NULL is a no-op. */
void sg__web_free(sg__web_t *w);

/* Ends every web session of account (its password was changed) and
 * saves the table. NULL w or account is a no-op. */
void sg__web_end_sessions(sg__web_t *w, const char *account);

/* Authenticates a request by its session cookie. Returns 1 when the
 * request carries no sg_session cookie (the caller goes on with its own
 * 401), 0 with *out set, or -1 after answering: 401 session_expired (an
 * unknown or expired session), 403 account_disabled, 403
 * csrf_token_required (a state-changing request without the session's
 * X-CSRF-Token). */
int sg__web_auth(sg__web_t *w, sg_http_req_t *req,
                 const sg_engine_account_t **out);

/* sg__web_auth without answering, for a request whose body is still
 * coming (a streamed upload): the same returns, and for -1 the answer it
 * would have given in *status, *code and *message (static strings). */
int sg__web_check(sg__web_t *w, sg_http_req_t *req,
                  const sg_engine_account_t **out, unsigned *status,
                  const char **code, const char **message);

#endif
