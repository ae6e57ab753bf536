/* inbound.c - `smsgate inbound`: lists the messages a running gateway
 * received (GET /v1/inbound, with its filters), or follows them (--follow)
 * by polling for ids newer than the last one printed, like tail -f.
 *
 * A client of the REST API over libcurl's easy interface; it never calls
 * exit() and returns 0 (listed), 1 (refused or unreachable) or 2 (usage).
 */
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>
#include <jansson.h>

#include "cli/admin_http.h"
#include "cli/commands.h"
#include "core/alloc.h"
#include "core/id.h"

#define DEFAULT_URL "http://127.0.0.1:8080"
#define DEFAULT_KEY "demo-key"

typedef struct args {
  const char *url, *key, *from, *to, *keyword, *since, *until;
  unsigned limit, interval_ms, max;
  bool follow, json;
} args_t;

static volatile sig_atomic_t stop_flag;

static void on_signal(int sig) {
  (void)sig;
  stop_flag = 1;
}

/* ---- HTTP ---------------------------------------------------------------- */

/* Appends "&name=value" (escaped) when value is set. */
static void arg(CURL *c, char *q, size_t cap, const char *name,
                const char *value) {
  if (value == NULL)
    return;
  char *esc = curl_easy_escape(c, value, 0);
  size_t n = strlen(q);
  snprintf(q + n, cap - n, "%s%s=%s", n ? "&" : "", name, esc ? esc : "");
  curl_free(esc);
}

/* GET /v1/inbound with the filters; returns the parsed answer or NULL after
 * printing why. */
static json_t *fetch(CURL *c, const args_t *a, unsigned limit) {
  char q[1024] = "", path[1100], lim[16];
  snprintf(lim, sizeof lim, "%u", limit);
  arg(c, q, sizeof q, "from", a->from);
  arg(c, q, sizeof q, "to", a->to);
  arg(c, q, sizeof q, "keyword", a->keyword);
  arg(c, q, sizeof q, "since", a->since);
  arg(c, q, sizeof q, "until", a->until);
  arg(c, q, sizeof q, "limit", lim);
  snprintf(path, sizeof path, "/v1/inbound?%s", q);
  sg__cli_t cli = {.cmd = "inbound", .url = a->url, .key = a->key,
                   .hint = "(give the account's API key with --key or "
                           "SMSGATE_API_KEY)"};
  json_t *root = sg__cli_request(&cli, "GET", path, NULL);
  sg__cli_close(&cli);
  return root;
}

/* ---- output -------------------------------------------------------------- */

static const char *str(json_t *o, const char *k) {
  const char *s = json_string_value(json_object_get(o, k));
  return s ? s : "";
}

static void print_one(json_t *m, bool as_json) {
  if (as_json) {
    char *s = json_dumps(m, JSON_COMPACT);
    printf("%s\n", s ? s : "{}");
    sg_free(s);
  } else {
    json_t *text = json_object_get(m, "text");
    printf("%s %s %s -> %s%s: %s%s\n", str(m, "received_at"), str(m, "id"),
           str(m, "from"), str(m, "to"),
           json_is_true(json_object_get(m, "incomplete")) ? " (incomplete)"
                                                          : "",
           text ? "" : "hex ", text ? str(m, "text") : str(m, "payload_hex"));
  }
  fflush(stdout);
}

/* Prints the messages of data newer than *last (oldest first); returns how
 * many, and moves *last to the newest. */
static unsigned print_newer(json_t *data, char last[SG_ID_LEN + 1],
                            bool as_json, unsigned max_left) {
  unsigned n = 0;
  for (size_t i = json_array_size(data); i-- > 0 && n < max_left;) {
    json_t *m = json_array_get(data, i);
    const char *id = str(m, "id");
    if (strcmp(id, last) <= 0)
      continue;
    print_one(m, as_json);
    snprintf(last, SG_ID_LEN + 1, "%s", id);
    n++;
  }
  return n;
}

static void sleep_ms(unsigned ms) {
  struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
  while (!stop_flag && nanosleep(&ts, &ts) != 0)
    ;
}

static int follow(CURL *c, const args_t *a) {
  char last[SG_ID_LEN + 1] = "";
  unsigned printed = 0, max = a->max ? a->max : UINT32_MAX;
  signal(SIGINT, on_signal);
  signal(SIGTERM, on_signal);
  json_t *root = fetch(c, a, a->limit);
  if (root == NULL)
    return 1;
  printed += print_newer(json_object_get(root, "data"), last, a->json, max);
  json_decref(root);
  while (!stop_flag && printed < max) {
    sleep_ms(a->interval_ms);
    if (stop_flag)
      break;
    root = fetch(c, a, 100);
    if (root == NULL)
      return 1;
    printed += print_newer(json_object_get(root, "data"), last, a->json,
                           max - printed);
    json_decref(root);
  }
  return 0;
}

/* ---- arguments ----------------------------------------------------------- */

static void usage(FILE *f) {
  fprintf(
      f,
      "usage: smsgate inbound [--follow] [--from N] [--to N] [--keyword K]\n"
      "                       [--since T] [--until T] [--limit N] [--json]\n"
      "                       [--url U] [--key K]\n"
      "\n"
      "Lists the messages a running gateway received for the account, newest\n"
      "first, one per line: time, id, sender -> number: text. With --follow,\n"
      "prints the last --limit (oldest first) and then each new one as it\n"
      "arrives, until interrupted.\n"
      "\n"
      "  --from N       only from this sender (e.g. +79001234567)\n"
      "  --to N         only to this number or short code\n"
      "  --keyword K    only messages whose first word is K (any case)\n"
      "  --since T      received at or after T (RFC 3339)\n"
      "  --until T      received before T (RFC 3339)\n"
      "  --limit N      how many (1-1000; default 20)\n"
      "  --json         one JSON object per line, as the API gives it\n"
      "  --follow, -f   keep printing new messages\n"
      "  --interval MS  with --follow: poll every MS ms (default 1000)\n"
      "  --max N        with --follow: stop after N messages\n"
      "  --url U        the gateway (default $SMSGATE_URL or " DEFAULT_URL ")\n"
      "  --key K        API key (default $SMSGATE_API_KEY or " DEFAULT_KEY ")\n"
      "  --help         show this help\n"
      "\n"
      "\n"
      "smsgate inbound rules list|add|delete manages the inbound routing\n"
      "rules (see smsgate inbound rules --help).\n"
      "\n"
      "Exit status: 0 listed, 1 refused or unreachable, 2 usage error.\n");
}

static int usage_error(const char *fmt, const char *a) {
  fprintf(stderr, "smsgate inbound: ");
  fprintf(stderr, fmt, a);
  fprintf(stderr, "\n(see smsgate inbound --help)\n");
  return 2;
}

static bool to_uint(const char *s, unsigned lo, unsigned hi, unsigned *out) {
  char *end;
  unsigned long v = strtoul(s, &end, 10);
  if (*s < '0' || *s > '9' || *end != '\0' || v < lo || v > hi)
    return false;
  *out = (unsigned)v;
  return true;
}

static const char *env_or(const char *name, const char *def) {
  const char *v = getenv(name);
  return v != NULL && v[0] != '\0' ? v : def;
}

/* One option with a value; returns 0, or 2 after a usage message. */
static int option(args_t *a, const char *opt, const char *v) {
  static const char *const names[] = {"--url",     "--key",   "--from", "--to",
                                      "--keyword", "--since", "--until"};
  const char **slots[] = {&a->url,     &a->key,   &a->from, &a->to,
                          &a->keyword, &a->since, &a->until};
  for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
    if (strcmp(opt, names[i]) == 0) {
      *slots[i] = v;
      return 0;
    }
  if (strcmp(opt, "--limit") == 0 && to_uint(v, 1, 1000, &a->limit))
    return 0;
  if (strcmp(opt, "--interval") == 0 &&
      to_uint(v, 50, 3600000, &a->interval_ms))
    return 0;
  if (strcmp(opt, "--max") == 0 && to_uint(v, 1, 1000000, &a->max))
    return 0;
  return usage_error("bad value for %s", opt);
}

static bool value_option(const char *o) {
  static const char *const known[] = {
      "--url",   "--key",   "--from",  "--to",       "--keyword",
      "--since", "--until", "--limit", "--interval", "--max"};
  for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
    if (strcmp(o, known[i]) == 0)
      return true;
  return false;
}

static int parse(int argc, char **argv, args_t *a) {
  memset(a, 0, sizeof *a);
  a->url = env_or("SMSGATE_URL", DEFAULT_URL);
  a->key = env_or("SMSGATE_API_KEY", DEFAULT_KEY);
  a->limit = 20;
  a->interval_ms = 1000;
  for (int i = 1; i < argc; i++) {
    const char *o = argv[i];
    if (strcmp(o, "--help") == 0 || strcmp(o, "-h") == 0)
      return -1;
    if (strcmp(o, "--follow") == 0 || strcmp(o, "-f") == 0)
      a->follow = true;
    else if (strcmp(o, "--json") == 0)
      a->json = true;
    else if (strncmp(o, "--", 2) != 0)
      return usage_error("unexpected argument '%s'", o);
    else if (!value_option(o))
      return usage_error("unknown option '%s'", o);
    else if (i + 1 >= argc)
      return usage_error("%s needs a value", o);
    else if (option(a, o, argv[++i]) != 0)
      return 2;
  }
  if (a->max && !a->follow)
    return usage_error("%s goes with --follow", "--max");
  return 0;
}

int sg_cmd_inbound(int argc, char **argv) {
  if (argc > 1 && strcmp(argv[1], "rules") == 0)
    return sg_cmd_inbound_rules(argc - 1, argv + 1);
  args_t a;
  int rc = parse(argc, argv, &a);
  if (rc < 0) {
    usage(stdout);
    return 0;
  }
  if (rc != 0)
    return rc;
  json_set_alloc_funcs(sg_malloc, sg_free);
  if (curl_global_init(CURL_GLOBAL_DEFAULT) != 0)
    return 1;
  CURL *c = curl_easy_init();
  if (c == NULL) {
    curl_global_cleanup();
    return 1;
  }
  if (a.follow) {
    rc = follow(c, &a);
  } else {
    json_t *root = fetch(c, &a, a.limit);
    json_t *data = json_object_get(root, "data");
    for (size_t i = 0; i < json_array_size(data); i++)
      print_one(json_array_get(data, i), a.json);
    rc = root != NULL ? 0 : 1;
    json_decref(root);
  }
  curl_easy_cleanup(c);
  curl_global_cleanup();
  return rc;
}
