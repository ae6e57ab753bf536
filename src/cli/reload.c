/* reload.c - `smsgate reload`: asks a running gateway to read its
 * configuration file again and apply it (POST /v1/admin/reload), and
 * prints what changed, or every error of a file that was refused.
 *
 * A client of the REST API over libcurl's easy interface (what `kill -HUP`
 * does, with the answer shown). It never calls exit() and returns 0
 * (applied), 1 (refused or unreachable) or 2 (usage).
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>
#include <jansson.h>

#include "cli/commands.h"
#include "core/alloc.h"

#define DEFAULT_URL "http://127.0.0.1:8080"
#define DEFAULT_KEY "admin-key"
#define BODY_MAX (1u << 20)

typedef struct buf {
  char *p;
  size_t len;
} buf_t;

static size_t on_data(char *p, size_t size, size_t n, void *ud) {
  buf_t *b = ud;
  size_t add = size * n;
  if (b->len + add > BODY_MAX)
    return 0;
  char *np = sg_realloc(b->p, b->len + add + 1);
  if (np == NULL)
    return 0;
  memcpy(np + b->len, p, add);
  b->p = np;
  b->len += add;
  b->p[b->len] = '\0';
  return add;
}

static void usage(FILE *f) {
  fprintf(f,
          "usage: smsgate reload [--json] [--url U] [--key K]\n"
          "\n"
          "Makes a running gateway read its configuration file again and\n"
          "apply it without a restart (the same as kill -HUP): connectors\n"
          "added, removed or changed, routes, accounts, webhook retries and\n"
          "inbound replies. Binds of unchanged connectors stay up and queued\n"
          "messages stay queued. A file with errors is refused whole and\n"
          "each error is printed as file:line:column; the running\n"
          "configuration stays. Keys that need a restart are listed.\n"
          "Needs the key of an account with 'admin: true'.\n"
          "\n"
          "  --url U   the gateway (default $SMSGATE_URL or " DEFAULT_URL ")\n"
          "  --key K   API key (default $SMSGATE_API_KEY, $SMSGATE_KEY "
          "or " DEFAULT_KEY ")\n"
          "  --json    the API's JSON answer\n"
          "\n"
          "Exit status: 0 applied, 1 refused or unreachable, 2 usage error.\n");
}

static void print_list(const char *what, json_t *arr) {
  size_t i;
  json_t *v;
  json_array_foreach(arr, i, v) {
    if (json_is_string(v))
      printf("  %-9s %s\n", what, json_string_value(v));
    else
      printf("  %-9s %s (%s)\n", what,
             json_string_value(json_object_get(v, "name")),
             json_string_value(json_object_get(v, "keys")));
  }
}

static void print_report(json_t *r) {
  if (!json_is_true(json_object_get(r, "changed"))) {
    printf("reloaded: nothing changed\n");
    return;
  }
  printf("reloaded:\n");
  json_t *c = json_object_get(r, "connectors");
  printf("connectors:\n");
  print_list("added", json_object_get(c, "added"));
  print_list("removed", json_object_get(c, "removed"));
  print_list("rebound", json_object_get(c, "rebound"));
  print_list("changed", json_object_get(c, "changed"));
  print_list("unchanged", json_object_get(c, "unchanged"));
  printf("routes: %s\n", json_string_value(json_object_get(r, "routes")));
  json_t *a = json_object_get(r, "accounts");
  printf("accounts:\n");
  print_list("added", json_object_get(a, "added"));
  print_list("removed", json_object_get(a, "removed"));
  print_list("changed", json_object_get(a, "changed"));
  if (json_is_true(json_object_get(r, "webhooks")))
    printf("webhooks: retry settings applied\n");
  if (json_is_true(json_object_get(r, "inbound")))
    printf("inbound: keywords and replies applied\n");
  json_t *rs = json_object_get(r, "restart_required");
  if (json_array_size(rs) > 0) {
    printf("need a restart (running values kept):\n");
    print_list("", rs);
  }
}

static int print_error(json_t *doc, long status, const char *raw) {
  json_t *e = json_object_get(doc, "error");
  const char *code = json_string_value(json_object_get(e, "code"));
  const char *msg = json_string_value(json_object_get(e, "message"));
  const char *field = json_string_value(json_object_get(e, "field"));
  fprintf(stderr, "smsgate reload: HTTP %ld %s%s%s%s: %s\n", status,
          code ? code : "", field ? " (" : "", field ? field : "",
          field ? ")" : "", msg ? msg : (raw ? raw : ""));
  size_t i;
  json_t *v;
  json_array_foreach(json_object_get(e, "errors"), i, v)
      fprintf(stderr, "%s\n", json_string_value(v));
  if (status == 403)
    fprintf(stderr, "(give the key of an account with 'admin: true' with "
                    "--key or SMSGATE_API_KEY)\n");
  return 1;
}

static int post(const char *url, const char *key, bool json_out) {
  CURL *c = curl_easy_init();
  if (c == NULL)
    return 1;
  char full[2100], auth[1100], err[CURL_ERROR_SIZE] = "";
  snprintf(full, sizeof full, "%s/v1/admin/reload", url);
  snprintf(auth, sizeof auth, "Authorization: Bearer %s", key);
  struct curl_slist *h = curl_slist_append(NULL, auth);
  buf_t b = {NULL, 0};
  long status = 0;
  curl_easy_setopt(c, CURLOPT_URL, full);
  curl_easy_setopt(c, CURLOPT_POSTFIELDS, "");
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
  curl_easy_setopt(c, CURLOPT_ERRORBUFFER, err);
  curl_easy_setopt(c, CURLOPT_TIMEOUT, 60L);
  CURLcode rc = curl_easy_perform(c);
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
  curl_slist_free_all(h);
  curl_easy_cleanup(c);
  if (rc != CURLE_OK) {
    fprintf(stderr, "smsgate reload: cannot reach the gateway at %s: %s\n", url,
            err[0] ? err : curl_easy_strerror(rc));
    sg_free(b.p);
    return 1;
  }
  json_t *doc = b.p != NULL ? json_loadb(b.p, b.len, 0, NULL) : NULL;
  int code = 0;
  if (status != 200 || doc == NULL)
    code = print_error(doc, status, b.p);
  else if (json_out)
    printf("%s\n", b.p);
  else
    print_report(doc);
  json_decref(doc);
  sg_free(b.p);
  return code;
}

static const char *env_or(const char *a, const char *b, const char *def) {
  const char *v = a ? getenv(a) : NULL;
  if ((v == NULL || v[0] == '\0') && b != NULL)
    v = getenv(b);
  return v != NULL && v[0] != '\0' ? v : def;
}

int sg_cmd_reload(int argc, char **argv) {
  const char *url = env_or("SMSGATE_URL", NULL, DEFAULT_URL);
  const char *key = env_or("SMSGATE_API_KEY", "SMSGATE_KEY", DEFAULT_KEY);
  bool json_out = false;
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
      usage(stdout);
      return 0;
    }
    if (strcmp(argv[i], "--json") == 0) {
      json_out = true;
    } else if (strcmp(argv[i], "--url") == 0 && i + 1 < argc) {
      url = argv[++i];
    } else if (strcmp(argv[i], "--key") == 0 && i + 1 < argc) {
      key = argv[++i];
    } else {
      fprintf(stderr, "smsgate reload: unknown or incomplete option '%s'\n\n",
              argv[i]);
      usage(stderr);
      return 2;
    }
  }
  return post(url, key, json_out);
}
