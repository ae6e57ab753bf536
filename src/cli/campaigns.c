/* campaigns.c - `smsgate campaigns list|show ID|create ...|pause ID|resume
 * ID|cancel ID`: a running gateway's campaigns over its REST API
 * (/v1/campaigns). An account's key sees its own campaigns, an admin key
 * every account's.
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
#define LISTS_MAX 100

typedef struct opts {
  const char *url, *key;
  const char *name, *text, *template_id, *from, *send_at, *window, *rate,
      *validity, *callback_url;
  const char *lists[LISTS_MAX];
  size_t n_lists;
  const char *pos[2];
  size_t n_pos;
  bool json;
} opts_t;

/* One request; the parsed JSON answer of a 2xx, or NULL after printing
 * why (unreachable, or the gateway's error). */
static json_t *call(const opts_t *o, const char *method, const char *path,
                    const char *body) {
  return sg__cli_fetch("campaigns", o->url, o->key, 60, method, path, body,
                       NULL);
}

static long long num(json_t *o, const char *k) {
  return (long long)json_integer_value(json_object_get(o, k));
}

static void print_campaign(json_t *k) {
  json_t *c = json_object_get(k, "counts");
  json_t *rate = json_object_get(k, "delivery_rate");
  char r[16] = "-";
  if (json_is_number(rate))
    snprintf(r, sizeof r, "%.1f%%", json_number_value(rate) * 100);
  printf("%s %-10s %-20s recipients %lld pending %lld queued %lld sent %lld "
         "delivered %lld failed %lld cancelled %lld skipped %lld/%lld/%lld "
         "(opt-out/duplicate/invalid) rate %s\n",
         json_string_value(json_object_get(k, "id")),
         json_string_value(json_object_get(k, "status")),
         json_string_value(json_object_get(k, "name")), num(c, "recipients"),
         num(c, "pending"), num(c, "queued"), num(c, "sent"),
         num(c, "delivered"), num(c, "failed"), num(c, "cancelled"),
         num(c, "skipped_optout"), num(c, "skipped_duplicate"),
         num(c, "skipped_invalid"), r);
  const char *e = json_string_value(json_object_get(k, "error"));
  if (e != NULL)
    printf("  paused by the gateway: %s\n", e);
}

static void print_out(const opts_t *o, json_t *doc) {
  if (o->json) {
    char *s = json_dumps(doc, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    if (s != NULL)
      printf("%s\n", s);
    sg_free(s);
    return;
  }
  json_t *list = json_object_get(doc, "campaigns");
  if (list == NULL) {
    print_campaign(doc);
    return;
  }
  size_t i;
  json_t *k;
  json_array_foreach(list, i, k) print_campaign(k);
}

/* The body of create; NULL after a usage message. */
static json_t *create_body(const opts_t *o) {
  if (o->name == NULL || o->n_lists == 0 ||
      (o->text == NULL) == (o->template_id == NULL)) {
    fprintf(stderr, "smsgate campaigns create: give --name, --list (once or "
                    "more), and --text or --template\n");
    return NULL;
  }
  json_t *b = json_pack("{s:s}", "name", o->name);
  json_t *lists = json_array();
  for (size_t i = 0; i < o->n_lists; i++)
    json_array_append_new(lists, json_integer(atoll(o->lists[i])));
  json_object_set_new(b, "lists", lists);
  if (o->text)
    json_object_set_new(b, "text", json_string(o->text));
  if (o->template_id)
    json_object_set_new(b, "template_id", json_integer(atoll(o->template_id)));
  const char *strs[][2] = {{"from", o->from},
                           {"send_at", o->send_at},
                           {"validity", o->validity},
                           {"callback_url", o->callback_url}};
  for (size_t i = 0; i < 4; i++)
    if (strs[i][1] != NULL)
      json_object_set_new(b, strs[i][0], json_string(strs[i][1]));
  if (o->rate)
    json_object_set_new(b, "rate_per_minute", json_integer(atoll(o->rate)));
  if (o->window) {
    char s[16] = "", e[16] = "";
    if (sscanf(o->window, "%15[0-9:]-%15[0-9:]", s, e) != 2) {
      fprintf(stderr, "smsgate campaigns create: --window is HH:MM-HH:MM\n");
      json_decref(b);
      return NULL;
    }
    json_object_set_new(b, "window",
                        json_pack("{s:s,s:s}", "start", s, "end", e));
  }
  return b;
}

static int go(const void *opts, const char *sub) {
  const opts_t *o = opts;
  char path[300];
  const char *id = o->n_pos > 1 ? o->pos[1] : NULL;
  bool needs_id = strcmp(sub, "list") != 0 && strcmp(sub, "create") != 0;
  if (needs_id && id == NULL) {
    fprintf(stderr, "smsgate campaigns %s: give the campaign id\n", sub);
    return 2;
  }
  char *enc = id ? curl_easy_escape(NULL, id, 0) : NULL;
  json_t *doc = NULL;
  if (strcmp(sub, "list") == 0) {
    doc = call(o, "GET", "/v1/campaigns?limit=1000", NULL);
  } else if (strcmp(sub, "show") == 0) {
    snprintf(path, sizeof path, "/v1/campaigns/%s", enc ? enc : "");
    doc = call(o, "GET", path, NULL);
  } else if (strcmp(sub, "create") == 0) {
    json_t *b = create_body(o);
    char *body = b ? json_dumps(b, JSON_COMPACT) : NULL;
    json_decref(b);
    if (body == NULL) {
      curl_free(enc);
      return 2;
    }
    doc = call(o, "POST", "/v1/campaigns", body);
    sg_free(body);
  } else {
    snprintf(path, sizeof path, "/v1/campaigns/%s/%s", enc ? enc : "", sub);
    doc = call(o, "POST", path, "{}");
  }
  curl_free(enc);
  if (doc == NULL)
    return 1;
  print_out(o, doc);
  json_decref(doc);
  return 0;
}

static void usage(FILE *f) {
  fprintf(
      f,
      "usage: smsgate campaigns [list] [--json] [--url U] [--key K]\n"
      "       smsgate campaigns show ID [--json]\n"
      "       smsgate campaigns create --name N (--text T | --template ID)\n"
      "               --list ID [--list ID ...] [--from S] [--send-at TIME]\n"
      "               [--window HH:MM-HH:MM] [--rate PER_MINUTE]\n"
      "               [--validity V] [--callback-url URL]\n"
      "       smsgate campaigns pause|resume|cancel ID\n"
      "\n"
      "Campaigns of a running gateway: a text or template sent to contact\n"
      "lists, at a time (--send-at, RFC 3339), within a daily window in\n"
      "each recipient's local time, at a rate. 'show' prints its status\n"
      "and counts; 'cancel' also cancels its queued messages. An account's\n"
      "key sees its own campaigns, an admin key every account's.\n"
      "\n"
      "  --url U   the gateway (default $SMSGATE_URL or " DEFAULT_URL ")\n"
      "  --key K   API key (default $SMSGATE_API_KEY, $SMSGATE_KEY "
      "or " DEFAULT_KEY ")\n"
      "  --json    the API's JSON answer\n"
      "\n"
      "Exit status: 0 done, 1 refused or unreachable, 2 usage error.\n");
}

static int option(opts_t *o, const char *a, const char *v) {
  static const char *const names[] = {"--url",      "--key",         "--name",
                                      "--text",     "--template",    "--from",
                                      "--send-at",  "--window",      "--rate",
                                      "--validity", "--callback-url"};
  const char **slots[] = {&o->url,      &o->key,         &o->name,
                          &o->text,     &o->template_id, &o->from,
                          &o->send_at,  &o->window,      &o->rate,
                          &o->validity, &o->callback_url};
  if (strcmp(a, "--list") == 0) {
    if (o->n_lists == LISTS_MAX)
      return -1;
    o->lists[o->n_lists++] = v;
    return 0;
  }
  for (size_t k = 0; k < sizeof names / sizeof names[0]; k++)
    if (strcmp(a, names[k]) == 0) {
      *slots[k] = v;
      return 0;
    }
  return -1;
}

/* Returns 0, -1 for --help, or 2 after a usage message. */
static int parse(int argc, char **argv, opts_t *o) {
  memset(o, 0, sizeof *o);
  o->url = sg__cli_env("SMSGATE_URL", NULL, DEFAULT_URL);
  o->key = sg__cli_env("SMSGATE_API_KEY", "SMSGATE_KEY", DEFAULT_KEY);
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0)
      return -1;
    if (strcmp(a, "--json") == 0) {
      o->json = true;
    } else if (strncmp(a, "--", 2) != 0) {
      if (o->n_pos == 2) {
        fprintf(stderr, "smsgate campaigns: unexpected argument '%s'\n", a);
        return 2;
      }
      o->pos[o->n_pos++] = a;
    } else if (i + 1 >= argc || option(o, a, argv[i + 1]) != 0) {
      fprintf(stderr, "smsgate campaigns: %s '%s'\n",
              i + 1 >= argc ? "a value is needed after" : "unknown option", a);
      return 2;
    } else {
      i++;
    }
  }
  return 0;
}

int sg_cmd_campaigns(int argc, char **argv) {
  static const char *const subs[] = {"list",   "show",   "create", "pause",
                                     "resume", "cancel", NULL};
  opts_t o;
  int rc = parse(argc, argv, &o);
  if (rc < 0) {
    usage(stdout);
    return 0;
  }
  if (rc != 0)
    return rc;
  return sg__cli_run_sub("campaigns", o.n_pos > 0 ? o.pos[0] : "list", subs,
                         usage, go, &o);
}
