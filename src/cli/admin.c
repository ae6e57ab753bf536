/* admin.c - `smsgate account` and `smsgate key`: clients of a running
 * gateway's admin API (/v1/accounts, /v1/keys) over libcurl, with an admin
 * account's key (--key, $SMSGATE_KEY or $SMSGATE_API_KEY).
 *
 *   smsgate account list | show NAME | create NAME [settings] |
 *                   update NAME [settings] | disable NAME | enable NAME
 *   smsgate key create --account NAME [--name N] | list [--account A] |
 *               revoke ID | rotate ID [--grace D]
 *
 * Settings become the JSON fields of the account (docs/api.md); the
 * gateway checks them and its error is printed with the field at fault.
 * Passwords are read from stdin, never from the command line, where other
 * users of the machine could see them. Nothing here calls exit(): a command
 * returns 0 (done), 1 (refused by the gateway or unreachable) or 2 (usage).
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
#define DEFAULT_KEY "admin-key"
/* ---- common arguments -------------------------------------------------------
 */

typedef struct common {
  const char *url, *key;
  bool json, help;
} common_t;

static int usage_error(const char *cmd, const char *what, const char *arg) {
  fprintf(stderr, "smsgate %s: %s%s\n(see 'smsgate %s --help')\n", cmd, what,
          arg, cmd);
  return 2;
}

/* Takes --url, --key, --json, --help at argv[*i]; 1 when taken, 0 when not
 * one of them, -1 after a usage error (value missing). */
static int common_opt(common_t *o, int argc, char **argv, int *i) {
  const char *a = argv[*i];
  if (strcmp(a, "--json") == 0)
    return o->json = true, 1;
  if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0)
    return o->help = true, 1;
  const char **slot = strcmp(a, "--url") == 0   ? &o->url
                      : strcmp(a, "--key") == 0 ? &o->key
                                                : NULL;
  if (slot == NULL)
    return 0;
  if (*i + 1 >= argc)
    return -1;
  *slot = argv[++*i];
  return 1;
}

/* Reads one line (the password) from stdin, without its newline. */
static char *read_secret(void) {
  char buf[1100];
  if (fgets(buf, sizeof buf, stdin) == NULL)
    return NULL;
  buf[strcspn(buf, "\r\n")] = '\0';
  return sg_strdup(buf);
}

static json_t *int_or_string(const char *v) {
  char *end;
  long long n = strtoll(v, &end, 10);
  return *v != '\0' && *end == '\0' ? json_integer(n) : json_string(v);
}

static json_t *csv_list(const char *v) {
  json_t *a = json_array();
  const char *p = v;
  while (a != NULL && *p != '\0') {
    size_t n = strcspn(p, ",");
    json_array_append_new(a, json_stringn(p, n));
    p += n + (p[n] == ',');
  }
  return a;
}

/* ---- account settings
 * -------------------------------------------------------- */

static const struct {
  const char *opt;   /* the option */
  const char *field; /* its JSON field ("smpp.x": in the smpp object) */
  char kind;         /* s string, i integer, l comma list, m repeatable,
                        b flag true, B flag false */
} settings[] = {
    {"--region", "default_region", 's'},
    {"--callback-url", "callback_url", 's'},
    {"--inbound-url", "inbound_url", 's'},
    {"--tps", "tps", 'i'},
    {"--max-parts", "max_parts", 'i'},
    {"--sender", "senders", 'm'},
    {"--default-sender", "default_sender", 's'},
    {"--webhook-events", "webhook_events", 'l'},
    {"--admin", "admin", 'b'},
    {"--no-admin", "admin", 'B'},
    {"--smpp-system-id", "smpp.system_id", 's'},
    {"--smpp-bind-types", "smpp.bind_types", 'l'},
    {"--smpp-max-binds", "smpp.max_binds", 'i'},
    {"--smpp-cidr", "smpp.allowed_cidrs", 'm'},
    {"--smpp-tps", "smpp.tps", 'i'},
    {"--smpp-window", "smpp.window", 'i'},
};
#define N_SETTINGS (sizeof settings / sizeof settings[0])

static int put_field(json_t *spec, const char *field, json_t *v, bool append) {
  json_t *obj = spec;
  if (strncmp(field, "smpp.", 5) == 0) {
    obj = json_object_get(spec, "smpp");
    if (obj == NULL) {
      obj = json_object();
      json_object_set_new(spec, "smpp", obj);
    }
    field += 5;
  }
  if (!append)
    return json_object_set_new(obj, field, v);
  json_t *list = json_object_get(obj, field);
  if (list == NULL) {
    list = json_array();
    json_object_set_new(obj, field, list);
  }
  return json_array_append_new(list, v);
}

/* Takes one setting option at argv[*i] into spec: 1 taken, 0 not a
 * setting, -1 usage error. */
static int setting_opt(json_t *spec, int argc, char **argv, int *i,
                       bool *stdin_used) {
  const char *a = argv[*i];
  if (strcmp(a, "--password-stdin") == 0 ||
      strcmp(a, "--smpp-password-stdin") == 0 ||
      strcmp(a, "--webhook-secret-stdin") == 0) {
    if (*stdin_used)
      return -1;
    *stdin_used = true;
    char *pw = read_secret();
    if (pw == NULL)
      return -1;
    const char *f = a[2] == 'p'   ? "password"
                    : a[2] == 's' ? "smpp.password"
                                  : "webhook_secret";
    put_field(spec, f, json_string(pw), false);
    sg_free(pw);
    return 1;
  }
  for (size_t k = 0; k < N_SETTINGS; k++) {
    if (strcmp(a, settings[k].opt) != 0)
      continue;
    char kind = settings[k].kind;
    if (kind == 'b' || kind == 'B')
      return put_field(spec, settings[k].field, json_boolean(kind == 'b'),
                       false) == 0;
    if (*i + 1 >= argc)
      return -1;
    const char *v = argv[++*i];
    json_t *j = kind == 'i'   ? int_or_string(v)
                : kind == 'l' ? csv_list(v)
                              : json_string(v);
    return put_field(spec, settings[k].field, j, kind == 'm') == 0;
  }
  return 0;
}

/* ---- output
 * ------------------------------------------------------------------- */

static const char *s_or(json_t *o, const char *k, const char *def) {
  const char *v = json_string_value(json_object_get(o, k));
  return v != NULL ? v : def;
}

static void print_account(json_t *a) {
  const char *k;
  json_t *v;
  json_object_foreach(a, k, v) {
    char *t = json_is_string(v) ? NULL
                                : json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
    printf("%-18s %s\n", k, t != NULL ? t : json_string_value(v));
    sg_free(t);
  }
}

static void print_accounts(json_t *list) {
  printf("%-24s %-7s %-9s %-6s %-7s %s\n", "NAME", "SOURCE", "DISABLED",
         "ADMIN", "REGION", "SMPP");
  size_t i;
  json_t *a;
  json_array_foreach(list, i, a) {
    json_t *sm = json_object_get(a, "smpp");
    printf("%-24s %-7s %-9s %-6s %-7s %s\n", s_or(a, "name", "?"),
           s_or(a, "source", "?"),
           json_is_true(json_object_get(a, "disabled")) ? "yes" : "no",
           json_is_true(json_object_get(a, "admin")) ? "yes" : "no",
           s_or(a, "default_region", "-"), s_or(sm, "system_id", "-"));
  }
}

static void print_keys(json_t *list) {
  printf("%-16s %-20s %-20s %-7s %-25s %s\n", "ID", "NAME", "ACCOUNT", "ACTIVE",
         "CREATED", "LAST USED");
  size_t i;
  json_t *k;
  json_array_foreach(list, i, k)
      printf("%-16s %-20s %-20s %-7s %-25s %s\n", s_or(k, "id", "?"),
             s_or(k, "name", "-"), s_or(k, "account", "?"),
             json_is_true(json_object_get(k, "active")) ? "yes" : "no",
             s_or(k, "created_at", "-"), s_or(k, "last_used_at", "-"));
}

/* Runs one request (a list: every page of its array `list_field`) and
 * prints its answer; returns the exit code. */
static int run(const char *cmd, const common_t *o, const char *method,
               const char *path, json_t *body, const char *list_field,
               void (*show)(json_t *)) {
  sg__cli_t c = {.cmd = cmd, .url = o->url, .key = o->key};
  if (curl_global_init(CURL_GLOBAL_DEFAULT) != 0) {
    fprintf(stderr, "smsgate: cannot start libcurl\n");
    return 1;
  }
  json_t *ans = list_field != NULL
                    ? sg__cli_get_all(&c, path, list_field)
                    : sg__cli_request_json(&c, method, path, body);
  int rc = ans != NULL ? 0 : 1;
  if (ans != NULL && o->json) {
    char *t = json_dumps(ans, JSON_COMPACT);
    printf("%s\n", t != NULL ? t : "");
    sg_free(t);
  } else if (ans != NULL) {
    show(ans);
  }
  json_decref(ans);
  sg__cli_close(&c);
  curl_global_cleanup();
  return rc;
}

static void show_list_accounts(json_t *a) {
  print_accounts(json_object_get(a, "data"));
}

static void show_account(json_t *a) {
  print_account(a);
  if (json_object_get(a, "webhook_secret") != NULL)
    fprintf(stderr, "(the webhook_secret above is shown once: keep it)\n");
}

static void show_list_keys(json_t *a) {
  print_keys(json_object_get(a, "data"));
}

static void show_key(json_t *k) {
  const char *key = s_or(k, "key", NULL);
  printf("%s %s\n", s_or(k, "id", "?"), key ? key : "revoked");
  if (key != NULL)
    fprintf(stderr, "(the key is shown once: keep it)\n");
}

/* ---- smsgate account
 * ------------------------------------------------------------- */

static void account_usage(FILE *f) {
  fprintf(
      f,
      "usage: smsgate account list [--json]\n"
      "       smsgate account show NAME [--json]\n"
      "       smsgate account create NAME [settings] [--json]\n"
      "       smsgate account update NAME [settings] [--json]\n"
      "       smsgate account disable NAME | enable NAME\n\n"
      "Manages accounts over a running gateway's admin API. Accounts of the\n"
      "configuration file are listed but can only be changed there. A\n"
      "disabled account keeps its messages; its credentials are refused.\n\n"
      "settings (each one of the account keys of docs/configuration.md):\n"
      "  --region R              default_region (RU, DE, ...)\n"
      "  --callback-url U        status webhooks\n"
      "  --inbound-url U         incoming messages\n"
      "  --tps N  --max-parts N\n"
      "  --sender S              an allowed sender (repeat it)\n"
      "  --default-sender S\n"
      "  --webhook-events a,b    e.g. delivered,failed\n"
      "  --admin | --no-admin    may use the admin API\n"
      "  --password-stdin        the Kannel sendsms password, from stdin\n"
      "  --webhook-secret-stdin  the webhook secret, from stdin (create makes\n"
      "                          one when none is given and shows it once)\n"
      "  --smpp-system-id ID --smpp-password-stdin\n"
      "  --smpp-bind-types t,..  transmitter,receiver,transceiver\n"
      "  --smpp-max-binds N  --smpp-cidr C (repeat)  --smpp-tps N\n"
      "  --smpp-window N\n"
      "Only one of the -stdin options per command.\n\n"
      "options:\n"
      "  --url U   the gateway (default $SMSGATE_URL or " DEFAULT_URL ")\n"
      "  --key K   an admin account's API key (default $SMSGATE_KEY,\n"
      "            $SMSGATE_API_KEY or " DEFAULT_KEY ")\n"
      "  --json    print the gateway's JSON answer\n");
}

/* Parses the words and options after `account VERB`. */
static int account_args(int argc, char **argv, common_t *o, const char **name,
                        json_t *spec) {
  bool stdin_used = false;
  for (int i = 2; i < argc; i++) {
    int r = common_opt(o, argc, argv, &i);
    if (r == 0 && spec != NULL)
      r = setting_opt(spec, argc, argv, &i, &stdin_used);
    if (r < 0)
      return usage_error("account", "missing or repeated value of ", argv[i]);
    if (r > 0)
      continue;
    if (argv[i][0] == '-' || *name != NULL)
      return usage_error("account", "unknown argument ", argv[i]);
    *name = argv[i];
  }
  return 0;
}

static int account_verb(const char *verb, int argc, char **argv, common_t *o) {
  const char *name = NULL;
  bool settings_ok = strcmp(verb, "create") == 0 || strcmp(verb, "update") == 0;
  json_t *spec = settings_ok ? json_object() : NULL;
  int rc = account_args(argc, argv, o, &name, spec);
  if (rc == 0 && o->help)
    account_usage(stdout);
  if (rc != 0 || o->help) {
    json_decref(spec);
    return rc;
  }
  bool list = strcmp(verb, "list") == 0;
  if (list != (name == NULL)) {
    json_decref(spec);
    return usage_error("account",
                       list ? "list takes no name"
                            : "give the "
                              "account's NAME",
                       "");
  }
  char path[300];
  snprintf(path, sizeof path, "/v1/accounts%s%s", name ? "/" : "",
           name ? name : "");
  if (list)
    rc = run("account", o, "GET", "/v1/accounts", NULL, "data",
             show_list_accounts);
  else if (strcmp(verb, "show") == 0)
    rc = run("account", o, "GET", path, NULL, NULL, show_account);
  else if (strcmp(verb, "create") == 0) {
    json_object_set_new(spec, "name", json_string(name));
    rc = run("account", o, "POST", "/v1/accounts", spec, NULL, show_account);
  } else if (strcmp(verb, "update") == 0) {
    rc = json_object_size(spec) == 0
             ? usage_error("account", "update: give a setting to change", "")
             : run("account", o, "PATCH", path, spec, NULL, show_account);
  } else if (strcmp(verb, "disable") == 0)
    rc = run("account", o, "DELETE", path, NULL, NULL, show_account);
  else {
    json_t *on = json_pack("{s:b}", "disabled", 0);
    rc = run("account", o, "PATCH", path, on, NULL, show_account);
    json_decref(on);
  }
  json_decref(spec);
  return rc;
}

int sg_cmd_account(int argc, char **argv) {
  static const char *const verbs[] = {"list",   "show",    "create",
                                      "update", "disable", "enable"};
  common_t o = {sg__cli_env("SMSGATE_URL", "", DEFAULT_URL),
                sg__cli_env("SMSGATE_KEY", "SMSGATE_API_KEY", DEFAULT_KEY), false,
                false};
  if (argc < 2 || strcmp(argv[1], "--help") == 0 ||
      strcmp(argv[1], "-h") == 0) {
    account_usage(argc < 2 ? stderr : stdout);
    return argc < 2 ? 2 : 0;
  }
  json_set_alloc_funcs(sg_malloc, sg_free);
  for (size_t i = 0; i < sizeof verbs / sizeof verbs[0]; i++)
    if (strcmp(argv[1], verbs[i]) == 0)
      return account_verb(verbs[i], argc, argv, &o);
  return usage_error("account", "unknown command ", argv[1]);
}

/* ---- smsgate key
 * ------------------------------------------------------------------ */

static void key_usage(FILE *f) {
  fprintf(
      f,
      "usage: smsgate key create --account NAME [--name N] [--json]\n"
      "       smsgate key list [--account NAME] [--json]\n"
      "       smsgate key revoke ID [--json]\n"
      "       smsgate key rotate ID [--grace D] [--json]\n\n"
      "Manages API keys over a running gateway's admin API. A key is shown\n"
      "once, when it is made; the gateway keeps only its hash. `revoke`\n"
      "refuses the key at once; `rotate` makes a new key for the same\n"
      "account and revokes the old one now, or after --grace (whole seconds,\n"
      "or 90s, 15m, 2h, 1d; at most 30 days).\n\n"
      "options:\n"
      "  --url U   the gateway (default $SMSGATE_URL or " DEFAULT_URL ")\n"
      "  --key K   an admin account's API key (default $SMSGATE_KEY,\n"
      "            $SMSGATE_API_KEY or " DEFAULT_KEY ")\n"
      "  --json    print the gateway's JSON answer\n");
}

typedef struct key_args {
  const char *account, *name, *grace, *id;
} key_args_t;

static int key_parse(int argc, char **argv, common_t *o, key_args_t *k) {
  for (int i = 2; i < argc; i++) {
    int r = common_opt(o, argc, argv, &i);
    const char **slot = strcmp(argv[i], "--account") == 0 ? &k->account
                        : strcmp(argv[i], "--name") == 0  ? &k->name
                        : strcmp(argv[i], "--grace") == 0 ? &k->grace
                                                          : NULL;
    if (r == 0 && slot != NULL) {
      if (i + 1 >= argc)
        r = -1;
      else
        *slot = argv[++i], r = 1;
    }
    if (r < 0)
      return usage_error("key", "missing value of ", argv[i]);
    if (r > 0)
      continue;
    if (argv[i][0] == '-' || k->id != NULL)
      return usage_error("key", "unknown argument ", argv[i]);
    k->id = argv[i];
  }
  return 0;
}

static int key_verb(const char *verb, int argc, char **argv, common_t *o) {
  key_args_t k = {0};
  int rc = key_parse(argc, argv, o, &k);
  if (rc == 0 && o->help)
    key_usage(stdout);
  if (rc != 0 || o->help)
    return rc;
  bool by_id = strcmp(verb, "revoke") == 0 || strcmp(verb, "rotate") == 0;
  if (by_id != (k.id != NULL))
    return usage_error("key", by_id ? "give the key's ID" : "unexpected ",
                       by_id ? "" : k.id);
  if (strcmp(verb, "create") == 0 && k.account == NULL)
    return usage_error("key", "create: give --account NAME", "");
  if ((k.grace != NULL && strcmp(verb, "rotate") != 0) ||
      (k.name != NULL && strcmp(verb, "create") != 0) ||
      (k.account != NULL && by_id))
    return usage_error("key", "an option that does not go with ", verb);
  char path[300];
  if (strcmp(verb, "list") == 0) {
    char *esc = k.account ? curl_easy_escape(NULL, k.account, 0) : NULL;
    snprintf(path, sizeof path, "/v1/keys%s%s", esc ? "?account=" : "",
             esc ? esc : "");
    curl_free(esc);
    return run("key", o, "GET", path, NULL, "data", show_list_keys);
  }
  if (strcmp(verb, "create") == 0) {
    json_t *b = json_pack("{s:s}", "account", k.account);
    if (k.name != NULL)
      json_object_set_new(b, "name", json_string(k.name));
    rc = run("key", o, "POST", "/v1/keys", b, NULL, show_key);
    json_decref(b);
    return rc;
  }
  snprintf(path, sizeof path, "/v1/keys/%s%s", k.id,
           strcmp(verb, "rotate") == 0 ? "/rotate" : "");
  if (strcmp(verb, "revoke") == 0)
    return run("key", o, "DELETE", path, NULL, NULL, show_key);
  json_t *b = json_object();
  if (k.grace != NULL)
    json_object_set_new(b, "grace_period", int_or_string(k.grace));
  rc = run("key", o, "POST", path, b, NULL, show_key);
  json_decref(b);
  return rc;
}

int sg_cmd_key(int argc, char **argv) {
  static const char *const verbs[] = {"create", "list", "revoke", "rotate"};
  common_t o = {sg__cli_env("SMSGATE_URL", "", DEFAULT_URL),
                sg__cli_env("SMSGATE_KEY", "SMSGATE_API_KEY", DEFAULT_KEY), false,
                false};
  if (argc < 2 || strcmp(argv[1], "--help") == 0 ||
      strcmp(argv[1], "-h") == 0) {
    key_usage(argc < 2 ? stderr : stdout);
    return argc < 2 ? 2 : 0;
  }
  json_set_alloc_funcs(sg_malloc, sg_free);
  for (size_t i = 0; i < sizeof verbs / sizeof verbs[0]; i++)
    if (strcmp(argv[1], verbs[i]) == 0)
      return key_verb(verbs[i], argc, argv, &o);
  return usage_error("key", "unknown command ", argv[1]);
}
