/* inbound_rules.c - `smsgate inbound rules list | add ... | delete ID`:
 * the inbound routing rules of a running gateway, through its REST API
 * (/v1/inbound/rules, an admin account's key).
 *
 * A client over libcurl's easy interface; it never calls exit() and
 * returns 0 (done), 1 (refused or unreachable) or 2 (usage).
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

static const char *str(const json_t *o, const char *k) {
  const char *s = json_string_value(json_object_get(o, k));
  return s ? s : "";
}

/* One request; the answer's JSON when it is 2xx, else NULL after printing
 * why. */
static json_t *request(const char *base, const char *key, const char *method,
                       const char *path, const char *body) {
  return sg__cli_fetch("inbound rules", base, key, 30, method, path, body,
                       NULL);
}

/* ---- output -------------------------------------------------------------- */

static void print_rule(const json_t *r) {
  printf("%lld\t%lld\t%s\t",
         (long long)json_integer_value(json_object_get(r, "id")),
         (long long)json_integer_value(json_object_get(r, "position")),
         str(r, "account"));
  const char *keys[] = {"to", "keyword", "regex"};
  bool any = false;
  for (size_t i = 0; i < 3; i++)
    if (json_is_string(json_object_get(r, keys[i]))) {
      printf("%s%s=%s", any ? " " : "", keys[i], str(r, keys[i]));
      any = true;
    }
  json_t *al = json_object_get(r, "aliases");
  for (size_t i = 0; i < json_array_size(al); i++)
    printf(" alias=%s", json_string_value(json_array_get(al, i)));
  printf("\t%s", str(r, "action"));
  if (json_is_string(json_object_get(r, "url")))
    printf(" %s %s%s", str(r, "method"), str(r, "url"),
           json_is_false(json_object_get(r, "reply")) ? " (no reply)" : "");
  printf("\n");
}

/* ---- arguments ----------------------------------------------------------- */

static void usage(FILE *f) {
  fprintf(
      f,
      "usage: smsgate inbound rules list [--json]\n"
      "       smsgate inbound rules add --account A [--to N] [--keyword K]\n"
      "               [--alias W]... [--regex R] [--action-url U]\n"
      "               [--method GET|POST] [--action webhook|url|both]\n"
      "               [--no-reply] [--reply-max-length N] [--position P]\n"
      "       smsgate inbound rules add --json RULE\n"
      "       smsgate inbound rules delete ID\n"
      "\n"
      "The inbound routing rules of a running gateway (an admin account's\n"
      "key): list prints one rule per line (id, position, account, what it\n"
      "matches, what it does); add adds one (at the end, or at --position),\n"
      "given by options or as the JSON of /v1/inbound/rules; delete removes\n"
      "one. Changes are used at once and kept across restarts.\n"
      "\n"
      "  --action-url U  call U with Kannel's escape codes (%%p sender, %%P\n"
      "                  our number, %%a text, %%k keyword, ...)\n"
      "  --url U         the gateway (default $SMSGATE_URL or " DEFAULT_URL
      ")\n"
      "  --key K         API key (default $SMSGATE_API_KEY, $SMSGATE_KEY "
      "or " DEFAULT_KEY ")\n"
      "  --help          show this help\n"
      "\n"
      "Exit status: 0 done, 1 refused or unreachable, 2 usage error.\n");
}

static int usage_error(const char *fmt, const char *a) {
  fprintf(stderr, "smsgate inbound rules: ");
  fprintf(stderr, fmt, a);
  fprintf(stderr, "\n(see smsgate inbound rules --help)\n");
  return 2;
}

/* A positive integer of at most 18 digits, or -1. */
static long long to_id(const char *s) {
  char *end;
  long long v = strtoll(s, &end, 10);
  return *s >= '1' && *s <= '9' && *end == '\0' && strlen(s) <= 18 ? v : -1;
}

typedef struct args {
  const char *url, *key, *json;
  json_t *rule; /* built from the options of add */
  bool as_json;
} args_t;

/* Sets one option of add on a->rule; 0, or 2 after a usage message. */
static int rule_option(args_t *a, const char *o, const char *v) {
  static const char *const plain[][2] = {
      {"--account", "account"}, {"--to", "to"},
      {"--keyword", "keyword"}, {"--regex", "regex"},
      {"--action-url", "url"},  {"--method", "method"},
      {"--action", "action"}};
  for (size_t i = 0; i < sizeof plain / sizeof plain[0]; i++)
    if (strcmp(o, plain[i][0]) == 0)
      return json_object_set_new(a->rule, plain[i][1], json_string(v)) ? 1 : 0;
  if (strcmp(o, "--alias") == 0) {
    json_t *al = json_object_get(a->rule, "aliases");
    if (al == NULL)
      json_object_set_new(a->rule, "aliases", al = json_array());
    return json_array_append_new(al, json_string(v)) ? 1 : 0;
  }
  long long n = to_id(v);
  if (strcmp(o, "--reply-max-length") == 0 || strcmp(o, "--position") == 0) {
    if (n < 1)
      return usage_error("%s needs a positive integer", o);
    return json_object_set_new(a->rule,
                               o[2] == 'p' ? "position" : "reply_max_length",
                               json_integer(n))
               ? 1
               : 0;
  }
  if (strcmp(o, "--json") == 0) {
    a->json = v;
    return 0;
  }
  return usage_error("unknown option '%s'", o);
}

/* Reads the options after the verb; returns 0, -1 (help) or 2. */
static int parse(int argc, char **argv, int from, bool add, args_t *a) {
  for (int i = from; i < argc; i++) {
    const char *o = argv[i];
    if (strcmp(o, "--help") == 0 || strcmp(o, "-h") == 0)
      return -1;
    if (!add && strcmp(o, "--json") == 0) {
      a->as_json = true;
      continue;
    }
    if (add && strcmp(o, "--no-reply") == 0) {
      json_object_set_new(a->rule, "reply", json_false());
      continue;
    }
    if (strncmp(o, "--", 2) != 0)
      return usage_error("unexpected argument '%s'", o);
    if (i + 1 >= argc)
      return usage_error("%s needs a value", o);
    const char *v = argv[++i];
    int rc = 0;
    if (strcmp(o, "--url") == 0)
      a->url = v;
    else if (strcmp(o, "--key") == 0)
      a->key = v;
    else if (!add)
      return usage_error("unknown option '%s'", o);
    else
      rc = rule_option(a, o, v);
    if (rc != 0)
      return 2;
  }
  if (add && a->json != NULL && json_object_size(a->rule) > 0)
    return usage_error("%s goes alone (not with the rule's options)", "--json");
  if (add && a->json == NULL && json_object_get(a->rule, "account") == NULL)
    return usage_error("%s is required", "--account");
  return 0;
}

/* ---- verbs --------------------------------------------------------------- */

static int list(const args_t *a) {
  json_t *root = request(a->url, a->key, "GET", "/v1/inbound/rules", NULL);
  json_t *rules = json_object_get(root, "rules");
  if (a->as_json && root != NULL) {
    char *s = json_dumps(root, JSON_COMPACT);
    if (s != NULL)
      printf("%s\n", s);
    sg_free(s);
  } else {
    for (size_t i = 0; i < json_array_size(rules); i++)
      print_rule(json_array_get(rules, i));
    if (root != NULL && json_array_size(rules) == 0)
      printf("(no inbound rules)\n");
  }
  int rc = root != NULL ? 0 : 1;
  json_decref(root);
  return rc;
}

static int add(const args_t *a) {
  char *body = a->json != NULL ? NULL : json_dumps(a->rule, JSON_COMPACT);
  json_t *root = request(a->url, a->key, "POST", "/v1/inbound/rules",
                         a->json != NULL ? a->json : body);
  sg_free(body);
  if (root == NULL)
    return 1;
  printf("added rule %lld at position %lld\n",
         (long long)json_integer_value(json_object_get(root, "id")),
         (long long)json_integer_value(json_object_get(root, "position")));
  json_decref(root);
  return 0;
}

static int delete_rule(const args_t *a, long long id) {
  char path[64];
  snprintf(path, sizeof path, "/v1/inbound/rules/%lld", id);
  json_t *root = request(a->url, a->key, "DELETE", path, NULL);
  if (root == NULL)
    return 1;
  printf("deleted rule %lld\n", id);
  json_decref(root);
  return 0;
}

static int run(int argc, char **argv, args_t *a) {
  if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)
    return argc < 2 ? (usage(stderr), 2) : (usage(stdout), 0);
  const char *verb = argv[1];
  bool is_add = strcmp(verb, "add") == 0;
  long long id = 0;
  int from = 2;
  if (strcmp(verb, "delete") == 0) {
    if (argc < 3 || strncmp(argv[2], "--", 2) == 0)
      return argc >= 3 && strcmp(argv[2], "--help") == 0
                 ? (usage(stdout), 0)
                 : usage_error("%s needs the id of a rule", "delete");
    if ((id = to_id(argv[2])) < 1)
      return usage_error("'%s' is not the id of a rule", argv[2]);
    from = 3;
  } else if (!is_add && strcmp(verb, "list") != 0) {
    return usage_error("unknown command '%s' (list, add or delete)", verb);
  }
  int rc = parse(argc, argv, from, is_add, a);
  if (rc != 0)
    return rc < 0 ? (usage(stdout), 0) : rc;
  if (curl_global_init(CURL_GLOBAL_DEFAULT) != 0)
    return 1;
  rc = is_add ? add(a) : id > 0 ? delete_rule(a, id) : list(a);
  curl_global_cleanup();
  return rc;
}

int sg_cmd_inbound_rules(int argc, char **argv) {
  json_set_alloc_funcs(sg_malloc, sg_free);
  args_t a = {.url = sg__cli_env("SMSGATE_URL", NULL, DEFAULT_URL),
              .key =
                  sg__cli_env("SMSGATE_API_KEY", "SMSGATE_KEY", DEFAULT_KEY),
              .rule = json_object()};
  if (a.rule == NULL)
    return 1;
  int rc = run(argc, argv, &a);
  json_decref(a.rule);
  return rc;
}
