/* routes.c - `smsgate routes` and `smsgate connectors`: the routing table
 * and the connectors of a running gateway, over its admin REST API
 * (GET /v1/routes, POST /v1/routes/test, GET /v1/connectors, POST
 * /v1/connectors/{name}/pause and /resume). They need an admin account's
 * key.
 *
 * A client of the REST API over libcurl's easy interface; it never calls
 * exit() and returns 0 (done), 1 (refused or unreachable) or 2 (usage).
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>
#include <jansson.h>

#include "cli/admin_http.h"
#include "cli/commands.h"
#include "core/alloc.h"

#define DEFAULT_URL SG_CLI_DEFAULT_URL
#define DEFAULT_KEY "demo-key"

typedef struct opts {
  const char *url, *key, *to, *account, *from, *type;
  const char *pos[2]; /* the subcommand and its operand */
  size_t n_pos;
  bool json;
} opts_t;

/* ---- HTTP ---------------------------------------------------------------- */

/* One request; the parsed JSON answer of a 2xx, or NULL after printing
 * why (unreachable, or the gateway's error). A GET of a whole list
 * (list_field not NULL) follows its next_cursor to the end. */
static json_t *call_list(const opts_t *o, const char *cmd, const char *method,
                         const char *path, const char *body,
                         const char *list_field) {
  return sg__cli_fetch(cmd, o->url, o->key, 30, method, path, body,
                       list_field);
}

static json_t *call(const opts_t *o, const char *cmd, const char *method,
                    const char *path, const char *body) {
  return call_list(o, cmd, method, path, body, NULL);
}

/* ---- printing ------------------------------------------------------------ */

static const char *s_or(json_t *o, const char *k, const char *def) {
  const char *s = json_string_value(json_object_get(o, k));
  return s != NULL ? s : def;
}

static void print_json(json_t *v) {
  char *s = json_dumps(v, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
  if (s != NULL)
    printf("%s\n", s);
  sg_free(s);
}

static void join(json_t *arr, char *buf, size_t cap) {
  size_t i, o = 0;
  json_t *v;
  buf[0] = '\0';
  json_array_foreach(arr, i, v) {
    int n = json_is_string(v)
                ? snprintf(buf + o, cap - o, "%s%s", i ? "," : "",
                           json_string_value(v))
                : snprintf(buf + o, cap - o, "%s%lld", i ? "," : "",
                           (long long)json_integer_value(v));
    if (n < 0 || (size_t)n >= cap - o)
      break;
    o += (size_t)n;
  }
}

static void print_route(json_t *r) {
  char conns[512], weights[256] = "";
  join(json_object_get(r, "connectors"), conns, sizeof conns);
  if (json_object_get(r, "weights") != NULL)
    join(json_object_get(r, "weights"), weights, sizeof weights);
  printf("%-4lld %-12s %-20s %-10s %-10s %-8s %-10s %s%s%s\n",
         (long long)json_integer_value(json_object_get(r, "id")),
         s_or(r, "prefix", "-"), s_or(r, "pattern", "-"),
         s_or(r, "account", "*"), s_or(r, "sender", "*"), s_or(r, "type", "*"),
         s_or(r, "strategy", "failover"), conns, weights[0] ? " weights " : "",
         weights);
}

static int routes_list(const opts_t *o) {
  json_t *doc = call(o, "routes list", "GET", "/v1/routes", NULL);
  if (doc == NULL)
    return 1;
  if (o->json) {
    print_json(doc);
  } else {
    printf("# %s table\n", s_or(doc, "source", "?"));
    printf("%-4s %-12s %-20s %-10s %-10s %-8s %-10s %s\n", "ID", "PREFIX",
           "PATTERN", "ACCOUNT", "SENDER", "TYPE", "STRATEGY", "CONNECTORS");
    size_t i;
    json_t *r;
    json_array_foreach(json_object_get(doc, "routes"), i, r) print_route(r);
  }
  json_decref(doc);
  return 0;
}

static void print_test(json_t *doc) {
  json_t *route = json_object_get(doc, "route");
  printf("to %s: ", s_or(doc, "to", "?"));
  if (json_is_null(route) || route == NULL) {
    printf("no route\n");
  } else {
    printf("route %lld, connector %s%s\n",
           (long long)json_integer_value(json_object_get(route, "id")),
           s_or(doc, "connector", "?"),
           json_is_true(json_object_get(doc, "waits"))
               ? " (not usable now: the message would wait for it)"
               : "");
  }
  size_t i;
  json_t *t;
  json_array_foreach(json_object_get(doc, "tried"), i, t) {
    printf("  route %-4lld %s: %s\n",
           (long long)json_integer_value(json_object_get(t, "id")),
           json_is_true(json_object_get(t, "matched")) ? "matches" : "no",
           s_or(t, "reason", ""));
  }
  json_array_foreach(json_object_get(doc, "connectors"), i, t) {
    json_t *p = json_object_get(t, "price");
    printf("  connector %-12s %-10s%s%s", s_or(t, "name", "?"),
           s_or(t, "state", "?"),
           json_is_true(json_object_get(t, "usable")) ? "" : " skipped",
           json_is_true(json_object_get(t, "chosen")) ? " chosen" : "");
    if (json_is_number(p))
      printf(" price %g", json_number_value(p));
    printf("\n");
  }
}

static int routes_test(const opts_t *o) {
  if (o->to == NULL) {
    fprintf(stderr, "smsgate routes test: --to is required\n");
    return 2;
  }
  json_t *req = json_pack("{s:s}", "to", o->to);
  if (o->account)
    json_object_set_new(req, "account", json_string(o->account));
  if (o->from)
    json_object_set_new(req, "from", json_string(o->from));
  if (o->type)
    json_object_set_new(req, "type", json_string(o->type));
  char *body = json_dumps(req, JSON_COMPACT);
  json_decref(req);
  json_t *doc =
      body ? call(o, "routes test", "POST", "/v1/routes/test", body) : NULL;
  sg_free(body);
  if (doc == NULL)
    return 1;
  if (o->json)
    print_json(doc);
  else
    print_test(doc);
  json_decref(doc);
  return 0;
}

static void print_connector(json_t *c) {
  printf("%-16s %-10s %-6s binds %lld/%lld window %lld queued %lld rate "
         "%.1f/s sent %lld errors %lld/%lld\n",
         s_or(c, "name", "?"), s_or(c, "state", "?"), s_or(c, "type", "?"),
         (long long)json_integer_value(json_object_get(c, "binds_up")),
         (long long)json_integer_value(json_object_get(c, "binds_total")),
         (long long)json_integer_value(json_object_get(c, "window_used")),
         (long long)json_integer_value(json_object_get(c, "backlog")),
         json_number_value(json_object_get(c, "rate")),
         (long long)json_integer_value(json_object_get(c, "sent_ok")),
         (long long)json_integer_value(json_object_get(c, "temp_errors")),
         (long long)json_integer_value(json_object_get(c, "perm_errors")));
}

static int connectors_cmd(const void *opts, const char *sub) {
  const opts_t *o = opts;
  char path[256], cmd[64];
  snprintf(cmd, sizeof cmd, "connectors %s", sub);
  const char *name = o->n_pos > 1 ? o->pos[1] : NULL;
  bool change = strcmp(sub, "pause") == 0 || strcmp(sub, "resume") == 0 ||
                strcmp(sub, "reconnect") == 0;
  if ((change || strcmp(sub, "show") == 0) && name == NULL) {
    fprintf(stderr, "smsgate %s: give the connector's name\n", cmd);
    return 2;
  }
  char *enc = name ? curl_easy_escape(NULL, name, 0) : NULL;
  if (change)
    snprintf(path, sizeof path, "/v1/connectors/%s/%s", enc, sub);
  else if (name)
    snprintf(path, sizeof path, "/v1/connectors/%s", enc);
  else
    snprintf(path, sizeof path, "/v1/connectors");
  curl_free(enc);
  json_t *doc =
      call_list(o, cmd, change ? "POST" : "GET", path, change ? "" : NULL,
                change || name != NULL ? NULL : "connectors");
  if (doc == NULL)
    return 1;
  if (o->json) {
    print_json(doc);
  } else if (name != NULL) {
    print_connector(doc);
  } else {
    size_t i;
    json_t *c;
    json_array_foreach(json_object_get(doc, "connectors"), i, c)
        print_connector(c);
  }
  json_decref(doc);
  return 0;
}

/* ---- arguments ----------------------------------------------------------- */

static void routes_usage(FILE *f) {
  fprintf(f,
          "usage: smsgate routes list [--json] [--url U] [--key K]\n"
          "       smsgate routes test --to N [--account A] [--from S]\n"
          "                           [--type text|unicode|binary] [--json]\n"
          "\n"
          "Shows the routing table of a running gateway, in order, or which\n"
          "route and connector a message would take now and why (each route\n"
          "tried, each connector of the route with its state and price).\n"
          "Nothing is sent. Needs the key of an account with 'admin: true'.\n"
          "\n"
          "  --url U   the gateway (default $SMSGATE_URL or " DEFAULT_URL ")\n"
          "  --key K   API key (default $SMSGATE_API_KEY, $SMSGATE_KEY "
          "or " DEFAULT_KEY ")\n"
          "  --json    the API's JSON answer\n"
          "\n"
          "Exit status: 0 done, 1 refused or unreachable, 2 usage error.\n");
}

static void connectors_usage(FILE *f) {
  fprintf(f,
          "usage: smsgate connectors list [--json] [--url U] [--key K]\n"
          "       smsgate connectors show NAME [--json]\n"
          "       smsgate connectors pause NAME\n"
          "       smsgate connectors resume NAME\n"
          "       smsgate connectors reconnect NAME\n"
          "\n"
          "Lists the connectors of a running gateway with their state\n"
          "(up, down, connecting, paused), binds, window use, queued parts,\n"
          "rate and error counts; or pauses one (it takes no new parts, which\n"
          "go to the next connector of their route or wait; what is in flight\n"
          "finishes; receipts and incoming messages keep coming; the pause\n"
          "survives a restart) or resumes it. 'reconnect' unbinds and closes\n"
          "its connections and connects again at once (parts in flight get\n"
          "their usual outcome). Needs an admin account's key.\n"
          "\n"
          "  --url U   the gateway (default $SMSGATE_URL or " DEFAULT_URL ")\n"
          "  --key K   API key (default $SMSGATE_API_KEY, $SMSGATE_KEY "
          "or " DEFAULT_KEY ")\n"
          "  --json    the API's JSON answer\n"
          "\n"
          "Exit status: 0 done, 1 refused or unreachable, 2 usage error.\n");
}

/* Returns 0, -1 for --help, or 2 after a usage message. */
static int parse(int argc, char **argv, opts_t *o, const char *cmd) {
  memset(o, 0, sizeof *o);
  o->url = sg__cli_env("SMSGATE_URL", NULL, DEFAULT_URL);
  o->key = sg__cli_env("SMSGATE_API_KEY", "SMSGATE_KEY", DEFAULT_KEY);
  static const char *const names[] = {"--url",     "--key",  "--to",
                                      "--account", "--from", "--type"};
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0)
      return -1;
    if (strcmp(a, "--json") == 0) {
      o->json = true;
      continue;
    }
    if (strncmp(a, "--", 2) != 0) {
      if (o->n_pos == 2) {
        fprintf(stderr, "smsgate %s: unexpected argument '%s'\n", cmd, a);
        return 2;
      }
      o->pos[o->n_pos++] = a;
      continue;
    }
    const char **slots[] = {&o->url,     &o->key,  &o->to,
                            &o->account, &o->from, &o->type};
    size_t k = 0;
    while (k < 6 && strcmp(a, names[k]) != 0)
      k++;
    if (k == 6 || i + 1 >= argc) {
      fprintf(stderr, "smsgate %s: %s '%s'\n", cmd,
              k == 6 ? "unknown option" : "a value is needed after", a);
      return 2;
    }
    *slots[k] = argv[++i];
  }
  return 0;
}

static int run(int argc, char **argv, const char *cmd, void (*usage)(FILE *f),
               const char *const *subs,
               int (*go)(const void *opts, const char *sub)) {
  opts_t o;
  int rc = parse(argc, argv, &o, cmd);
  if (rc < 0) {
    usage(stdout);
    return 0;
  }
  if (rc != 0)
    return rc;
  return sg__cli_run_sub(cmd, o.n_pos > 0 ? o.pos[0] : "list", subs, usage,
                         go, &o);
}

static int routes_go(const void *opts, const char *sub) {
  const opts_t *o = opts;
  if (o->n_pos > 1) {
    fprintf(stderr, "smsgate routes: unexpected argument '%s'\n", o->pos[1]);
    return 2;
  }
  return strcmp(sub, "test") == 0 ? routes_test(o) : routes_list(o);
}

int sg_cmd_routes(int argc, char **argv) {
  static const char *const subs[] = {"list", "test", NULL};
  return run(argc, argv, "routes", routes_usage, subs, routes_go);
}

int sg_cmd_connectors(int argc, char **argv) {
  static const char *const subs[] = {"list",   "show",      "pause",
                                     "resume", "reconnect", NULL};
  return run(argc, argv, "connectors", connectors_usage, subs, connectors_cmd);
}
