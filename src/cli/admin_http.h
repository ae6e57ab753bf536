/* admin_http.h - the one HTTP client of the admin subcommands (`smsgate
 * account`, `key`, `routes`, `connectors`, `queues`, `messages`,
 * `campaigns`, `inbound-rules`): a request to a running gateway's REST API
 * with a bearer key, its JSON answer, the gateway's refusal printed the
 * same way everywhere, and lists followed page by page along their
 * next_cursor. Not a public header: only src/cli includes it.
 */
#ifndef SG_CLI_ADMIN_HTTP_H
#define SG_CLI_ADMIN_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include <jansson.h>

#define SG_CLI_DEFAULT_URL "http://127.0.0.1:8080"

typedef struct sg__cli {
  const char *cmd;  /* "account", "connectors list", ... for messages */
  const char *url;  /* the gateway, e.g. SG_CLI_DEFAULT_URL */
  const char *key;  /* the bearer key */
  const char *idem; /* an Idempotency-Key to send with a POST, or NULL */
  long timeout_s;   /* 0: 30 seconds */
  const char *hint; /* printed after a 401 or 403; NULL: the admin key's */
  /* After each request: */
  long status; /* the HTTP status; 0 when the gateway was not reached */
  char *body;  /* the answer's octets (NUL-terminated), or NULL */
  size_t len;
  size_t cap; /* of body */
} sg__cli_t;

/* One request: method on url+path with `body` (JSON text, or NULL for
 * none). Returns the parsed JSON answer whatever its status (NULL when it
 * is not JSON), with c->status and c->body set; when the gateway cannot
 * be reached, prints why, and returns NULL with c->status 0. The answer
 * is the caller's to json_decref; c->body stays until the next request or
 * sg__cli_close. */
json_t *sg__cli_call(sg__cli_t *c, const char *method, const char *path,
                     const char *body);

/* sg__cli_call for callers that only want a success: the JSON answer of
 * a 2xx, or NULL after printing the refusal (sg__cli_print_error) or why
 * the gateway was not reached. */
json_t *sg__cli_request(sg__cli_t *c, const char *method, const char *path,
                        const char *body);

/* The same with a JSON body (not taken; NULL for none). */
json_t *sg__cli_request_json(sg__cli_t *c, const char *method, const char *path,
                             json_t *body);

/* A list read whole: GET path, then path with &cursor= (or ?cursor=) the
 * next_cursor of each answer, until it is null, each page's array
 * `field` appended to the first answer's. Returns the first answer with
 * every item (its next_cursor null), or NULL after printing the refusal.
 * Gives up after 100,000 pages (a gateway that never ends the list). */
json_t *sg__cli_get_all(sg__cli_t *c, const char *path, const char *field);

/* Prints the refusal of answer `ans` (c->status) on stderr: "smsgate CMD:
 * HTTP 422 invalid_field (tps): message", and a hint on 401 and 403. */
void sg__cli_print_error(const sg__cli_t *c, json_t *ans);

/* Frees c->body. */
void sg__cli_close(sg__cli_t *c);

/* The whole of one command's request for the subcommands that need no
 * more: sg__cli_get_all of array `list_field` when it is not NULL, else
 * sg__cli_request; cmd names the command in messages. */
json_t *sg__cli_fetch(const char *cmd, const char *url, const char *key,
                      long timeout_s, const char *method, const char *path,
                      const char *body, const char *list_field);

/* The first of environment variables a and b that is set and not empty,
 * else def (b may be NULL). */
const char *sg__cli_env(const char *a, const char *b, const char *def);

/* The end of every admin command's main: sub (NULL when none was given)
 * must be one of the NULL-terminated subs, else "smsgate CMD: unknown
 * subcommand" and the usage on stderr, and 2. Then go(opts, sub) runs
 * with the HTTP client set up (jansson on sg_malloc, curl's global
 * state) and its status is returned; 1 when curl cannot start. */
int sg__cli_run_sub(const char *cmd, const char *sub, const char *const *subs,
                    void (*usage)(FILE *f),
                    int (*go)(const void *opts, const char *sub),
                    const void *opts);

#endif
