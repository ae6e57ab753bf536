/* ops.c - `smsgate queues` and `smsgate messages`: an operator's actions on
 * a running gateway over its admin REST API: the connectors' queues (GET
 * /v1/queues[/{name}]), a queue purged (POST /v1/queues/{name}/purge, which
 * needs the connector's name a second time in --confirm), and any
 * account's message retried or canceled (POST /v1/messages/{id}/retry,
 * /cancel). They need an admin account's key.
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
  const char *url, *key, *confirm, *reason;
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
  return sg__cli_fetch(cmd, o->url, o->key, 120, method, path, body,
                       list_field);
}

static json_t *call(const opts_t *o, const char *cmd, const char *method,
                    const char *path, const char *body) {
  return call_list(o, cmd, method, path, body, NULL);
}

static void print_json(json_t *v) {
  char *s = json_dumps(v, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
  if (s != NULL)
    printf("%s\n", s);
  sg_free(s);
}

static long long num(json_t *o, const char *k) {
  return (long long)json_integer_value(json_object_get(o, k));
}

/* ---- queues -------------------------------------------------------------- */

static void print_queue(json_t *q) {
  json_t *by = json_object_get(q, "by_status");
  json_t *age = json_object_get(q, "oldest_queued_age_s");
  char agebuf[32] = "-";
  if (json_is_integer(age))
    snprintf(agebuf, sizeof agebuf, "%llds",
             (long long)json_integer_value(age));
  printf("%-16s depth %-8lld oldest %-8s scheduled %lld sending %lld sent "
         "%lld claimed %lld%s\n",
         json_string_value(json_object_get(q, "connector")), num(q, "depth"),
         agebuf, num(by, "scheduled"), num(by, "sending"), num(by, "sent"),
         num(q, "claimed"),
         json_is_false(json_object_get(q, "configured")) ? " (not configured)"
                                                         : "");
}

static int queues_purge(const opts_t *o, const char *name, const char *path) {
  if (o->confirm == NULL) {
    fprintf(stderr,
            "smsgate queues purge: every queued message of '%s' "
            "would fail; repeat the name with --confirm %s\n",
            name, name);
    return 2;
  }
  json_t *b = json_pack("{s:s}", "confirm", o->confirm);
  if (b != NULL && o->reason != NULL)
    json_object_set_new(b, "reason", json_string(o->reason));
  char *body = b != NULL ? json_dumps(b, JSON_COMPACT) : NULL;
  json_decref(b);
  json_t *doc = body ? call(o, "queues purge", "POST", path, body) : NULL;
  sg_free(body);
  if (doc == NULL)
    return 1;
  if (o->json)
    print_json(doc);
  else
    printf("%s: %lld parts of %lld messages purged (failed)%s\n", name,
           num(doc, "purged_parts"), num(doc, "messages"),
           json_is_true(json_object_get(doc, "complete"))
               ? ""
               : "; stopped early, run it again");
  json_decref(doc);
  return 0;
}

static int queues_go(const void *opts, const char *sub) {
  const opts_t *o = opts;
  const char *name = o->n_pos > 1 ? o->pos[1] : NULL;
  bool purge = strcmp(sub, "purge") == 0;
  if ((purge || strcmp(sub, "show") == 0) && name == NULL) {
    fprintf(stderr, "smsgate queues %s: give the connector's name\n", sub);
    return 2;
  }
  char path[300];
  char *enc = name ? curl_easy_escape(NULL, name, 0) : NULL;
  snprintf(path, sizeof path, "/v1/queues%s%s%s", enc ? "/" : "",
           enc ? enc : "", purge ? "/purge" : "");
  curl_free(enc);
  if (purge)
    return queues_purge(o, name, path);
  json_t *doc = call_list(o, "queues", "GET", path, NULL,
                          name == NULL ? "queues" : NULL);
  if (doc == NULL)
    return 1;
  if (o->json) {
    print_json(doc);
  } else if (name != NULL) {
    print_queue(doc);
  } else {
    size_t i;
    json_t *q;
    json_array_foreach(json_object_get(doc, "queues"), i, q) print_queue(q);
  }
  json_decref(doc);
  return 0;
}

/* ---- messages ------------------------------------------------------------ */

static int messages_go(const void *opts, const char *sub) {
  const opts_t *o = opts;
  if (o->n_pos < 2) {
    fprintf(stderr, "smsgate messages %s: give the message id\n", sub);
    return 2;
  }
  char path[300], cmd[32];
  char *enc = curl_easy_escape(NULL, o->pos[1], 0);
  snprintf(path, sizeof path, "/v1/messages/%s/%s", enc ? enc : "", sub);
  curl_free(enc);
  snprintf(cmd, sizeof cmd, "messages %s", sub);
  json_t *doc = call(o, cmd, "POST", path, "");
  if (doc == NULL)
    return 1;
  if (o->json)
    print_json(doc);
  else
    printf("%s %s\n", json_string_value(json_object_get(doc, "id")),
           json_string_value(json_object_get(doc, "status")));
  json_decref(doc);
  return 0;
}

/* ---- arguments ----------------------------------------------------------- */

static void queues_usage(FILE *f) {
  fprintf(f,
          "usage: smsgate queues [list] [--json] [--url U] [--key K]\n"
          "       smsgate queues show NAME [--json]\n"
          "       smsgate queues purge NAME --confirm NAME [--reason TEXT]\n"
          "\n"
          "Shows each connector's queue of a running gateway: its depth\n"
          "(queued parts), the age of its oldest queued message, and its\n"
          "parts scheduled, being sent, and sent (waiting for a receipt).\n"
          "'purge' fails every queued part of the connector (parts being\n"
          "sent finish as they would): each message ends 'failed' with the\n"
          "reason and its webhook is sent. It needs the connector's name\n"
          "twice, the second time after --confirm. Needs an admin key.\n"
          "\n"
          "  --url U   the gateway (default $SMSGATE_URL or " DEFAULT_URL ")\n"
          "  --key K   API key (default $SMSGATE_API_KEY, $SMSGATE_KEY "
          "or " DEFAULT_KEY ")\n"
          "  --json    the API's JSON answer\n"
          "\n"
          "Exit status: 0 done, 1 refused or unreachable, 2 usage error.\n");
}

static void messages_usage(FILE *f) {
  fprintf(f,
          "usage: smsgate messages retry ID [--json] [--url U] [--key K]\n"
          "       smsgate messages cancel ID [--json]\n"
          "\n"
          "'retry' queues a message that ended failed, expired,\n"
          "undeliverable or rejected again (its delivered parts stay\n"
          "delivered; an expired one is sent without a validity); 'cancel'\n"
          "cancels a scheduled or queued message of any account. Both print\n"
          "the message's id and new status. Needs an admin key.\n"
          "\n"
          "  --url U   the gateway (default $SMSGATE_URL or " DEFAULT_URL ")\n"
          "  --key K   API key (default $SMSGATE_API_KEY, $SMSGATE_KEY "
          "or " DEFAULT_KEY ")\n"
          "  --json    the API's JSON answer (the message)\n"
          "\n"
          "Exit status: 0 done, 1 refused or unreachable, 2 usage error.\n");
}

/* Returns 0, -1 for --help, or 2 after a usage message. */
static int parse(int argc, char **argv, opts_t *o, const char *cmd) {
  memset(o, 0, sizeof *o);
  o->url = sg__cli_env("SMSGATE_URL", NULL, DEFAULT_URL);
  o->key = sg__cli_env("SMSGATE_API_KEY", "SMSGATE_KEY", DEFAULT_KEY);
  static const char *const names[] = {"--url", "--key", "--confirm",
                                      "--reason"};
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
    const char **slots[] = {&o->url, &o->key, &o->confirm, &o->reason};
    size_t k = 0;
    while (k < 4 && strcmp(a, names[k]) != 0)
      k++;
    if (k == 4 || i + 1 >= argc) {
      fprintf(stderr, "smsgate %s: %s '%s'\n", cmd,
              k == 4 ? "unknown option" : "a value is needed after", a);
      return 2;
    }
    *slots[k] = argv[++i];
  }
  return 0;
}

static int run(int argc, char **argv, const char *cmd, void (*usage)(FILE *f),
               const char *const *subs, const char *def,
               int (*go)(const void *opts, const char *sub)) {
  opts_t o;
  int rc = parse(argc, argv, &o, cmd);
  if (rc < 0) {
    usage(stdout);
    return 0;
  }
  if (rc != 0)
    return rc;
  return sg__cli_run_sub(cmd, o.n_pos > 0 ? o.pos[0] : def, subs, usage, go,
                         &o);
}

int sg_cmd_queues(int argc, char **argv) {
  static const char *const subs[] = {"list", "show", "purge", NULL};
  return run(argc, argv, "queues", queues_usage, subs, "list", queues_go);
}

int sg_cmd_messages(int argc, char **argv) {
  static const char *const subs[] = {"retry", "cancel", NULL};
  return run(argc, argv, "messages", messages_usage, subs, NULL, messages_go);
}
