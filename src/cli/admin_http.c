/* admin_http.c - the HTTP client shared by the admin subcommands (see
 * admin_http.h): one libcurl easy request at a time, its answer kept
 * whole (at most 16 MB), JSON parsed, refusals printed in one format,
 * and lists followed along their next_cursor.
 *
 * It never calls exit() and never prints a key: the bearer key goes only
 * into the request's Authorization header.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "cli/admin_http.h"
#include "core/alloc.h"

#define BODY_MAX (16u << 20)
#define PAGES_MAX 100000

static size_t on_data(char *p, size_t size, size_t n, void *ud) {
  sg__cli_t *c = ud;
  size_t add = size * n;
  if (c->len + add + 1 > c->cap) {
    size_t cap = c->cap ? c->cap : 4096;
    while (cap < c->len + add + 1)
      cap *= 2;
    char *nb = cap <= BODY_MAX ? sg_realloc(c->body, cap) : NULL;
    if (nb == NULL)
      return 0;
    c->body = nb;
    c->cap = cap;
  }
  memcpy(c->body + c->len, p, add);
  c->len += add;
  c->body[c->len] = '\0';
  return add;
}

json_t *sg__cli_call(sg__cli_t *c, const char *method, const char *path,
                     const char *body) {
  c->status = 0;
  c->len = 0;
  if (c->body != NULL)
    c->body[0] = '\0';
  CURL *h = curl_easy_init();
  if (h == NULL) {
    fprintf(stderr, "smsgate %s: cannot start libcurl\n", c->cmd);
    return NULL;
  }
  char url[2300], auth[1100], idem[400], err[CURL_ERROR_SIZE] = "";
  snprintf(url, sizeof url, "%s%s", c->url, path);
  snprintf(auth, sizeof auth, "Authorization: Bearer %s", c->key);
  struct curl_slist *hd = curl_slist_append(NULL, auth);
  hd = curl_slist_append(hd, "Content-Type: application/json");
  if (c->idem != NULL) {
    snprintf(idem, sizeof idem, "Idempotency-Key: %s", c->idem);
    hd = curl_slist_append(hd, idem);
  }
  curl_easy_setopt(h, CURLOPT_URL, url);
  curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
  if (body != NULL)
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
  curl_easy_setopt(h, CURLOPT_HTTPHEADER, hd);
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_data);
  curl_easy_setopt(h, CURLOPT_WRITEDATA, c);
  curl_easy_setopt(h, CURLOPT_ERRORBUFFER, err);
  curl_easy_setopt(h, CURLOPT_TIMEOUT, c->timeout_s > 0 ? c->timeout_s : 30L);
  CURLcode rc = curl_easy_perform(h);
  if (rc == CURLE_OK)
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &c->status);
  curl_slist_free_all(hd);
  curl_easy_cleanup(h);
  if (rc != CURLE_OK) {
    c->status = 0;
    fprintf(stderr, "smsgate %s: cannot reach the gateway at %s: %s\n", c->cmd,
            c->url, err[0] ? err : curl_easy_strerror(rc));
    return NULL;
  }
  return c->len > 0 ? json_loadb(c->body, c->len, 0, NULL) : NULL;
}

void sg__cli_print_error(const sg__cli_t *c, json_t *ans) {
  json_t *e = json_object_get(ans, "error");
  const char *code = json_string_value(json_object_get(e, "code"));
  const char *msg = json_string_value(json_object_get(e, "message"));
  const char *field = json_string_value(json_object_get(e, "field"));
  if (code != NULL)
    fprintf(stderr, "smsgate %s: HTTP %ld %s%s%s%s: %s\n", c->cmd, c->status,
            code, field ? " (" : "", field ? field : "", field ? ")" : "",
            msg ? msg : "");
  else
    fprintf(stderr, "smsgate %s: HTTP %ld: %.200s\n", c->cmd, c->status,
            c->body ? c->body : "");
  if (c->status == 401 || c->status == 403)
    fprintf(stderr, "%s\n",
            c->hint != NULL ? c->hint
                            : "(give the key of an account with 'admin: "
                              "true' with --key or SMSGATE_KEY)");
}

json_t *sg__cli_request(sg__cli_t *c, const char *method, const char *path,
                        const char *body) {
  json_t *doc = sg__cli_call(c, method, path, body);
  if (c->status == 0) {
    json_decref(doc);
    return NULL;
  }
  if (c->status / 100 != 2 || doc == NULL) {
    sg__cli_print_error(c, doc);
    json_decref(doc);
    return NULL;
  }
  return doc;
}

json_t *sg__cli_request_json(sg__cli_t *c, const char *method, const char *path,
                             json_t *body) {
  char *text = body != NULL ? json_dumps(body, JSON_COMPACT) : NULL;
  if (body != NULL && text == NULL) {
    fprintf(stderr, "smsgate %s: out of memory\n", c->cmd);
    return NULL;
  }
  json_t *doc = sg__cli_request(c, method, path, text);
  sg_free(text);
  return doc;
}

/* path with cursor=<cur> added as its last query argument. */
static int page_path(char *out, size_t cap, const char *path, const char *cur) {
  char *esc = curl_easy_escape(NULL, cur, 0);
  if (esc == NULL)
    return -1;
  int n = snprintf(out, cap, "%s%ccursor=%s", path,
                   strchr(path, '?') ? '&' : '?', esc);
  curl_free(esc);
  return n > 0 && (size_t)n < cap ? 0 : -1;
}

json_t *sg__cli_get_all(sg__cli_t *c, const char *path, const char *field) {
  json_t *all = sg__cli_request(c, "GET", path, NULL);
  json_t *items = json_object_get(all, field);
  for (int pages = 1; all != NULL; pages++) {
    const char *cur = json_string_value(json_object_get(all, "next_cursor"));
    if (cur == NULL)
      return all;
    char next[2300];
    json_t *page = NULL;
    if (pages < PAGES_MAX && page_path(next, sizeof next, path, cur) == 0)
      page = sg__cli_request(c, "GET", next, NULL);
    json_t *more = json_object_get(page, field);
    if (page == NULL || !json_is_array(more) ||
        json_array_extend(items, more) != 0 ||
        json_object_set(all, "next_cursor",
                        json_object_get(page, "next_cursor")) != 0) {
      if (page != NULL || pages >= PAGES_MAX)
        fprintf(stderr, "smsgate %s: a page of the list could not be read\n",
                c->cmd);
      json_decref(page);
      json_decref(all);
      return NULL;
    }
    json_decref(page);
  }
  return NULL;
}

json_t *sg__cli_fetch(const char *cmd, const char *url, const char *key,
                      long timeout_s, const char *method, const char *path,
                      const char *body, const char *list_field) {
  sg__cli_t c = {.cmd = cmd, .url = url, .key = key, .timeout_s = timeout_s};
  json_t *doc = list_field != NULL ? sg__cli_get_all(&c, path, list_field)
                                   : sg__cli_request(&c, method, path, body);
  sg__cli_close(&c);
  return doc;
}

void sg__cli_close(sg__cli_t *c) {
  sg_free(c->body);
  c->body = NULL;
  c->len = c->cap = 0;
}

const char *sg__cli_env(const char *a, const char *b, const char *def) {
  const char *v = getenv(a);
  if ((v == NULL || *v == '\0') && b != NULL)
    v = getenv(b);
  return v != NULL && *v != '\0' ? v : def;
}

int sg__cli_run_sub(const char *cmd, const char *sub, const char *const *subs,
                    void (*usage)(FILE *f),
                    int (*go)(const void *opts, const char *sub),
                    const void *opts) {
  bool known = false;
  for (size_t i = 0; sub != NULL && subs[i] != NULL; i++)
    known = known || strcmp(sub, subs[i]) == 0;
  if (!known) {
    if (sub == NULL)
      fprintf(stderr, "smsgate %s: a subcommand is needed\n", cmd);
    else
      fprintf(stderr, "smsgate %s: unknown subcommand '%s'\n", cmd, sub);
    usage(stderr);
    return 2;
  }
  json_set_alloc_funcs(sg_malloc, sg_free);
  if (curl_global_init(CURL_GLOBAL_DEFAULT) != 0)
    return 1;
  int rc = go(opts, sub);
  curl_global_cleanup();
  return rc;
}
