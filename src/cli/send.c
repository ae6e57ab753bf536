/* send.c - `smsgate send` and `smsgate status`: a client of a running
 * gateway's REST API (POST /v1/messages, GET /v1/messages/{id}) over
 * libcurl's easy interface, one connection kept alive for every request.
 *
 * `send` prints one line per recipient (the message id, or why the number
 * was refused) and, with --wait, polls each message until it reaches a
 * final status and prints that. `status` prints a message as JSON.
 * Neither ever calls exit(): they return 0 (sent and, with --wait,
 * delivered / found), 1 (refused, failed, not delivered, unreachable) or 2
 * (usage error).
 */
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <jansson.h>

#include "cli/commands.h"
#include "core/alloc.h"
#include "core/error.h"
#include "ingress/rest/parse.h"

#define DEFAULT_URL "http://127.0.0.1:8080"
#define DEFAULT_KEY "demo-key"
#define BODY_MAX (16u << 20)
#define MAX_TO 10000 /* recipients in one request (the API's limit) */
#define LINE_MAX_LEN 256 /* octets of a line of --to-file */
#define POLL_MS 250

typedef struct send_args {
  const char *url, *key, *text, *from, *encoding, *idem, *client_ref;
  const char *send_at, *validity, *callback_url;
  const char *to_file;
  char *stdin_text; /* owned, when the text came from standard input */
  const char **to; /* --to values, then --to-file's lines (owned) */
  size_t n_to, cap_to, n_argv_to;
  size_t batch; /* recipients per request, 1..MAX_TO */
  bool wait, json, help;
  int64_t timeout_ms;
} send_args_t;

/* ---- HTTP ---------------------------------------------------------------- */

typedef struct client {
  CURL *curl;
  const char *base, *key;
  char *body; /* the last response */
  size_t len, cap;
  long status;
  char err[CURL_ERROR_SIZE];
} client_t;

static size_t on_data(char *p, size_t size, size_t n, void *ud) {
  client_t *c = ud;
  size_t add = size * n;
  if (c->len + add + 1 > c->cap) {
    size_t cap = c->cap == 0 ? 4096 : c->cap;
    while (cap < c->len + add + 1)
      cap *= 2;
    char *nb = cap <= BODY_MAX ? sg_realloc(c->body, cap) : NULL;
    if (nb == NULL)
      return 0; /* curl then fails the transfer */
    c->body = nb;
    c->cap = cap;
  }
  memcpy(c->body + c->len, p, add);
  c->len += add;
  c->body[c->len] = '\0';
  return add;
}

static int client_init(client_t *c, const char *base, const char *key) {
  memset(c, 0, sizeof(*c));
  c->base = base;
  c->key = key;
  if (curl_global_init(CURL_GLOBAL_DEFAULT) != 0 ||
      (c->curl = curl_easy_init()) == NULL) {
    fprintf(stderr, "smsgate: cannot start libcurl\n");
    return 1;
  }
  return 0;
}

static void client_close(client_t *c) {
  curl_easy_cleanup(c->curl);
  curl_global_cleanup();
  sg_free(c->body);
}

/* One request: method, path under the base URL, optional JSON body and
 * Idempotency-Key. Returns 0 with c->status and c->body, or 1 after
 * printing why the gateway could not be reached. */
static int request(client_t *c, const char *method, const char *path,
                   const char *json, const char *idem) {
  char url[2300], auth[1100], idem_h[300];
  snprintf(url, sizeof(url), "%s%s", c->base, path);
  snprintf(auth, sizeof(auth), "Authorization: Bearer %s", c->key);
  struct curl_slist *h = curl_slist_append(NULL, auth);
  if (json != NULL)
    h = curl_slist_append(h, "Content-Type: application/json");
  if (idem != NULL) {
    snprintf(idem_h, sizeof(idem_h), "Idempotency-Key: %s", idem);
    h = curl_slist_append(h, idem_h);
  }
  c->len = 0;
  if (c->body != NULL)
    c->body[0] = '\0';
  c->err[0] = '\0';
  curl_easy_setopt(c->curl, CURLOPT_URL, url);
  if (strcmp(method, "GET") == 0)
    curl_easy_setopt(c->curl, CURLOPT_HTTPGET, 1L);
  else
    curl_easy_setopt(c->curl, CURLOPT_POSTFIELDS, json != NULL ? json : "");
  curl_easy_setopt(c->curl, CURLOPT_HTTPHEADER, h);
  curl_easy_setopt(c->curl, CURLOPT_WRITEFUNCTION, on_data);
  curl_easy_setopt(c->curl, CURLOPT_WRITEDATA, c);
  curl_easy_setopt(c->curl, CURLOPT_ERRORBUFFER, c->err);
  curl_easy_setopt(c->curl, CURLOPT_TIMEOUT, 30L);
  CURLcode rc = curl_easy_perform(c->curl);
  curl_slist_free_all(h);
  if (rc != CURLE_OK) {
    fprintf(stderr, "smsgate: cannot reach the gateway at %s: %s\n", c->base,
            c->err[0] != '\0' ? c->err : curl_easy_strerror(rc));
    return 1;
  }
  curl_easy_getinfo(c->curl, CURLINFO_RESPONSE_CODE, &c->status);
  if (c->body == NULL) { /* an empty answer: keep c->body a string */
    c->body = sg_malloc(1);
    if (c->body == NULL) {
      fprintf(stderr, "smsgate: out of memory\n");
      return 1;
    }
    c->body[0] = '\0';
    c->cap = 1;
  }
  return 0;
}

/* Prints the gateway's error answer: "HTTP 422 invalid_value (text): ...". */
static void print_http_error(const char *cmd, const client_t *c) {
  json_t *root = c->body != NULL ? json_loads(c->body, 0, NULL) : NULL;
  json_t *e = json_object_get(root, "error");
  const char *code = json_string_value(json_object_get(e, "code"));
  const char *msg = json_string_value(json_object_get(e, "message"));
  const char *field = json_string_value(json_object_get(e, "field"));
  if (code != NULL)
    fprintf(stderr, "smsgate %s: HTTP %ld %s%s%s%s: %s\n", cmd, c->status, code,
            field ? " (" : "", field ? field : "", field ? ")" : "",
            msg ? msg : "");
  else
    fprintf(stderr, "smsgate %s: HTTP %ld: %.200s\n", cmd, c->status,
            c->body != NULL ? c->body : "");
  if (c->status == 401)
    fprintf(stderr, "(give the account's API key with --key or "
                    "SMSGATE_API_KEY)\n");
  json_decref(root);
}

/* ---- arguments ----------------------------------------------------------- */

static void send_usage(FILE *f) {
  fprintf(
      f,
      "usage: smsgate send --to N [--to N2 ...] | --to-file F  --text T | < TEXT\n"
      "                    [--from S] [options]\n"
      "\n"
      "Sends a message through a running gateway's REST API and prints one\n"
      "line per recipient: the message id, or why the number was refused.\n"
      "Many recipients go in requests of --batch at a time, with a progress\n"
      "bar on standard error.\n"
      "\n"
      "  --to N             recipient (repeat for several)\n"
      "  --to-file F        recipients from a file, one per line (blank lines\n"
      "                     and lines starting with # are skipped; - : stdin)\n"
      "  --text T           the text (UTF-8); without it, or with -, the text\n"
      "                     is read from standard input\n"
      "  --batch N          recipients per request, 1-10000 (default 10000)\n"
      "  --from S           sender: a number or up to 11 letters and digits\n"
      "  --encoding E       auto (default), gsm7 or ucs2\n"
      "  --send-at TIME     send later: RFC 3339, e.g. 2025-01-31T12:00:00Z\n"
      "  --validity D       give up after D, e.g. 2h, 90s\n"
      "  --client-ref R     your reference, echoed in webhooks\n"
      "  --callback-url U   where status webhooks go\n"
      "  --idempotency-key K  send at most once per key\n"
      "  --url U            the gateway (default $SMSGATE_URL or " DEFAULT_URL
      ")\n"
      "  --key K            API key (default $SMSGATE_API_KEY or " DEFAULT_KEY
      ")\n"
      "  --wait             wait for each message's final status and print it\n"
      "  --timeout D        how long --wait waits (default 60s)\n"
      "  --json             print the gateway's answer as it is\n"
      "  --help             show this help\n"
      "\n"
      "Exit status: 0 accepted (with --wait: delivered), 1 refused, failed or\n"
      "not delivered in time, 2 usage error.\n");
}

static int usage_error(const char *cmd, const char *fmt, const char *arg) {
  fprintf(stderr, "smsgate %s: ", cmd);
  fprintf(stderr, fmt, arg);
  fprintf(stderr, "\nRun 'smsgate %s --help' for the options.\n", cmd);
  return 2;
}

/* Options that take a value, and where it goes. */
static const char **value_slot(send_args_t *a, const char *opt) {
  static const struct {
    const char *name;
    size_t off;
  } opts[] = {
#define O(n, f) {n, offsetof(send_args_t, f)}
      O("--url", url),
      O("--key", key),
      O("--text", text),
      O("--from", from),
      O("--encoding", encoding),
      O("--idempotency-key", idem),
      O("--client-ref", client_ref),
      O("--send-at", send_at),
      O("--validity", validity),
      O("--callback-url", callback_url),
#undef O
  };
  for (size_t i = 0; i < sizeof(opts) / sizeof(opts[0]); i++)
    if (strcmp(opt, opts[i].name) == 0)
      return (const char **)((char *)a + opts[i].off);
  return NULL;
}

static int push_to(send_args_t *a, const char *v) {
  if (a->n_to == a->cap_to) {
    const char **to =
        sg_grow((void *)a->to, &a->cap_to, a->n_to + 1, 64, sizeof(*to));
    if (to == NULL)
      return SG_ENOMEM;
    a->to = to;
  }
  a->to[a->n_to++] = v;
  return 0;
}

static int apply(send_args_t *a, const char *opt, const char *val) {
  const char **slot = value_slot(a, opt);
  if (slot != NULL) {
    *slot = val;
  } else if (strcmp(opt, "--to") == 0) {
    if (push_to(a, val) != 0)
      return usage_error("send", "out of memory%s", "");
    a->n_argv_to++; /* argv's: not freed */
  } else if (strcmp(opt, "--to-file") == 0) {
    a->to_file = val;
  } else if (strcmp(opt, "--batch") == 0) {
    char *end = NULL;
    unsigned long b = strtoul(val, &end, 10);
    if (end == val || *end != '\0' || b < 1 || b > MAX_TO)
      return usage_error("send", "--batch must be 1 to 10000, not '%s'", val);
    a->batch = (size_t)b;
  } else if (strcmp(opt, "--timeout") == 0) {
    if (sg_rest_parse_duration(val, strlen(val), &a->timeout_ms) != 0)
      return usage_error("send",
                         "--timeout must be a duration such as 60s "
                         "or 5m, not '%s'",
                         val);
  } else {
    return usage_error("send", "unknown option '%s'", opt);
  }
  return 0;
}

static int parse_one(send_args_t *a, int argc, char **argv, int *i) {
  const char *arg = argv[*i];
  if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0)
    a->help = true;
  else if (strcmp(arg, "--wait") == 0)
    a->wait = true;
  else if (strcmp(arg, "--json") == 0)
    a->json = true;
  else if (strncmp(arg, "--", 2) == 0 && strchr(arg, '=') != NULL) {
    char opt[40];
    size_t n = (size_t)(strchr(arg, '=') - arg);
    if (n >= sizeof(opt))
      return usage_error("send", "unknown option '%s'", arg);
    memcpy(opt, arg, n);
    opt[n] = '\0';
    return apply(a, opt, arg + n + 1);
  } else if (strncmp(arg, "--", 2) == 0) {
    if (*i + 1 >= argc)
      return usage_error("send", "%s needs a value", arg);
    return apply(a, arg, argv[++*i]);
  } else {
    return usage_error("send", "unexpected argument '%s'", arg);
  }
  return 0;
}

/* Appends every number of --to-file (a copy of each line, trimmed) to the
 * recipients; a problem is printed with the file's line number. */
static int read_to_file(send_args_t *a) {
  bool std = strcmp(a->to_file, "-") == 0;
  FILE *f = std ? stdin : fopen(a->to_file, "r");
  if (f == NULL) {
    fprintf(stderr, "smsgate send: cannot read %s: %s\n", a->to_file,
            strerror(errno));
    return 1;
  }
  char line[LINE_MAX_LEN + 2];
  unsigned long no = 0;
  int rc = 0;
  while (rc == 0 && fgets(line, sizeof line, f) != NULL) {
    no++;
    size_t n = strlen(line);
    if (n == sizeof line - 1 && line[n - 1] != '\n') {
      fprintf(stderr, "smsgate send: %s:%lu: line longer than %d octets\n",
              a->to_file, no, LINE_MAX_LEN);
      rc = 1;
      break;
    }
    char *p = line;
    while (*p == ' ' || *p == '\t')
      p++;
    while (n > 0 && strchr(" \t\r\n", line[n - 1]) != NULL)
      line[--n] = '\0';
    if (*p == '\0' || *p == '#')
      continue;
    char *copy = sg_strdup(p);
    if (copy == NULL || push_to(a, copy) != 0) {
      sg_free(copy);
      fprintf(stderr, "smsgate send: out of memory\n");
      rc = 1;
    }
  }
  if (rc == 0 && ferror(f)) {
    fprintf(stderr, "smsgate send: cannot read %s: %s\n", a->to_file,
            strerror(errno));
    rc = 1;
  }
  if (!std)
    fclose(f);
  return rc;
}

/* The text from standard input, without one final line end. */
static int read_stdin_text(send_args_t *a) {
  size_t len = 0, cap = 1024;
  char *t = sg_malloc(cap);
  for (size_t k; t != NULL && (k = fread(t + len, 1, cap - len - 1, stdin)) >
                                  0;) {
    len += k;
    if (len + 1 == cap) {
      char *m = sg_realloc(t, cap *= 2);
      if (m == NULL)
        sg_free(t);
      t = m;
    }
  }
  if (t == NULL) {
    fprintf(stderr, "smsgate send: out of memory\n");
    return 1;
  }
  if (len > 0 && t[len - 1] == '\n')
    len--;
  if (len > 0 && t[len - 1] == '\r')
    len--;
  t[len] = '\0';
  if (len == 0) {
    sg_free(t);
    fprintf(stderr, "smsgate send: the text on standard input is empty\n");
    return 1;
  }
  a->text = a->stdin_text = t;
  return 0;
}

static const char *env_or(const char *name, const char *def) {
  const char *v = getenv(name);
  return v != NULL && *v != '\0' ? v : def;
}

static int parse_args(int argc, char **argv, send_args_t *a) {
  memset(a, 0, sizeof(*a));
  a->url = env_or("SMSGATE_URL", DEFAULT_URL);
  a->key = env_or("SMSGATE_API_KEY", DEFAULT_KEY);
  a->timeout_ms = 60000;
  a->batch = MAX_TO;
  for (int i = 1; i < argc; i++) {
    int rc = parse_one(a, argc, argv, &i);
    if (rc != 0)
      return rc;
  }
  if (a->help)
    return 0;
  bool stdin_text = a->text == NULL || strcmp(a->text, "-") == 0;
  if (a->to_file != NULL && strcmp(a->to_file, "-") == 0 && stdin_text)
    return usage_error("send",
                       "standard input cannot give both the numbers "
                       "(--to-file -) and the text: use --text%s",
                       "");
  if (a->to_file != NULL && read_to_file(a) != 0)
    return 2;
  if (a->n_to == 0)
    return usage_error("send",
                       "give at least one recipient with --to or "
                       "--to-file%s",
                       "");
  if (stdin_text) {
    if (a->text == NULL && isatty(STDIN_FILENO))
      return usage_error("send",
                         "give the text with --text, or on standard "
                         "input%s",
                         "");
    if (read_stdin_text(a) != 0)
      return 2;
  }
  return 0;
}

/* ---- send ---------------------------------------------------------------- */

/* The request body, or NULL when out of memory. */
static char *request_json(const send_args_t *a, size_t off, size_t n) {
  json_t *to = json_array();
  for (size_t i = off; to != NULL && i < off + n; i++)
    if (json_array_append_new(to, json_string(a->to[i])) != 0) {
      json_decref(to);
      to = NULL;
    }
  json_t *o =
      to != NULL ? json_pack("{s:o, s:s}", "to", to, "text", a->text) : NULL;
  const struct {
    const char *k, *v;
  } opt[] = {{"from", a->from},
             {"encoding", a->encoding},
             {"client_ref", a->client_ref},
             {"send_at", a->send_at},
             {"validity", a->validity},
             {"callback_url", a->callback_url}};
  for (size_t i = 0; o != NULL && i < sizeof(opt) / sizeof(opt[0]); i++)
    if (opt[i].v != NULL &&
        json_object_set_new(o, opt[i].k, json_string(opt[i].v)) != 0) {
      json_decref(o);
      o = NULL;
    }
  char *s = o != NULL ? json_dumps(o, JSON_COMPACT) : NULL;
  json_decref(o);
  return s;
}

/* Prints the 202 answer; returns the accepted ids (a JSON array, new
 * reference) and counts the refused recipients. */
static json_t *print_accepted(const char *body, size_t *refused) {
  json_t *root = json_loads(body, 0, NULL), *ids = json_array();
  json_t *msgs = json_object_get(root, "messages"), *m;
  size_t i;
  *refused = 0;
  json_array_foreach(msgs, i, m) {
    json_t *err = json_object_get(m, "error");
    const char *to = json_string_value(json_object_get(m, "to"));
    if (to == NULL)
      to = json_string_value(json_object_get(m, "input"));
    if (err != NULL) {
      (*refused)++;
      fprintf(stderr, "refused %s: %s: %s\n", to ? to : "?",
              json_string_value(json_object_get(err, "code")),
              json_string_value(json_object_get(err, "message")));
      continue;
    }
    printf("%s  %s  %lld part(s), %s, %s\n",
           json_string_value(json_object_get(m, "id")), to ? to : "?",
           (long long)json_integer_value(json_object_get(m, "parts")),
           json_string_value(json_object_get(m, "encoding")),
           json_string_value(json_object_get(m, "status")));
    json_array_append(ids, json_object_get(m, "id"));
  }
  fflush(stdout);
  json_decref(root);
  return ids;
}

static bool is_final(const char *status) {
  static const char *const finals[] = {"delivered", "undeliverable",
                                       "expired",   "rejected",
                                       "failed",    "canceled"};
  for (size_t i = 0; status != NULL && i < 6; i++)
    if (strcmp(status, finals[i]) == 0)
      return true;
  return false;
}

static int64_t mono_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Reads the status of message `id` into buf. Returns 0, or 1 when the
 * gateway could not be asked (printed). */
static int poll_status(client_t *c, const char *id, char *buf, size_t cap) {
  char path[64];
  snprintf(path, sizeof(path), "/v1/messages/%s", id);
  if (request(c, "GET", path, NULL, NULL) != 0)
    return 1;
  if (c->status != 200) {
    print_http_error("send", c);
    return 1;
  }
  json_t *root = json_loads(c->body, 0, NULL);
  const char *st = json_string_value(json_object_get(root, "status"));
  snprintf(buf, cap, "%s", st != NULL ? st : "unknown");
  json_decref(root);
  return 0;
}

/* Polls every id until each is final or the time is up; returns how many
 * ended delivered. */
static size_t wait_final(client_t *c, json_t *ids, int64_t timeout_ms) {
  size_t n = json_array_size(ids), done = 0, delivered = 0;
  bool *fin = sg_calloc(n + 1, sizeof(bool));
  char st[32] = "";
  int64_t deadline = mono_ms() + timeout_ms;
  while (fin != NULL && done < n) {
    for (size_t i = 0; i < n; i++) {
      const char *id = json_string_value(json_array_get(ids, i));
      if (fin[i])
        continue;
      st[0] = '\0';
      if (poll_status(c, id, st, sizeof(st)) != 0 || is_final(st)) {
        fin[i] = true;
        done++;
        delivered += strcmp(st, "delivered") == 0;
        printf("%s  %s\n", id, is_final(st) ? st : "unknown");
        fflush(stdout);
      }
    }
    if (done == n)
      break;
    if (mono_ms() >= deadline) {
      for (size_t i = 0; i < n; i++)
        if (!fin[i])
          printf("%s  not final after %lld ms\n",
                 json_string_value(json_array_get(ids, i)),
                 (long long)timeout_ms);
      break;
    }
    struct timespec ts = {0, POLL_MS * 1000000L};
    nanosleep(&ts, NULL);
  }
  sg_free(fin);
  return delivered;
}

/* Where a long send is: a bar redrawn in place on a terminal, else one
 * line per request. */
static void progress(size_t done, size_t total, size_t refused) {
  if (isatty(STDERR_FILENO)) {
    enum { WIDTH = 30 };
    size_t fill = total ? done * WIDTH / total : WIDTH;
    char bar[WIDTH + 1];
    for (size_t i = 0; i < WIDTH; i++)
      bar[i] = i < fill ? '#' : ' ';
    bar[WIDTH] = '\0';
    fprintf(stderr, "\rsending [%s] %zu/%zu (%zu%%), %zu refused", bar, done,
            total, total ? done * 100 / total : 100, refused);
    if (done == total)
      fputc('\n', stderr);
  } else {
    fprintf(stderr, "sent %zu of %zu recipients, %zu refused\n", done, total,
            refused);
  }
}

/* One request of recipients [off, off + n): prints its answer and adds
 * the accepted ids to `ids`. Returns 0, or 1 when the request failed
 * (printed: the later ones are not sent). */
static int send_batch(client_t *c, const send_args_t *a, size_t off, size_t n,
                      json_t *ids, size_t *refused) {
  char *json = request_json(a, off, n);
  if (json == NULL) {
    fprintf(stderr, "smsgate send: out of memory\n");
    return 1;
  }
  /* one Idempotency-Key per request: the same file sent again with the
   * same key sends nothing twice */
  char idem[300];
  const char *key = a->idem;
  if (a->idem != NULL && a->n_to > a->batch) {
    snprintf(idem, sizeof idem, "%s-%zu", a->idem, off / a->batch + 1);
    key = idem;
  }
  int rc = request(c, "POST", "/v1/messages", json, key);
  sg_free(json);
  if (rc == 0 && c->status != 202) {
    print_http_error("send", c);
    rc = 1;
  }
  if (rc == 0 && a->json) {
    printf("%s\n", c->body);
  } else if (rc == 0) {
    size_t r = 0;
    json_t *got = print_accepted(c->body, &r);
    *refused += r;
    if (got == NULL || json_array_extend(ids, got) != 0)
      rc = 1;
    json_decref(got);
  }
  return rc;
}

static int do_send(const send_args_t *a) {
  client_t c;
  json_t *ids = json_array();
  if (ids == NULL || client_init(&c, a->url, a->key) != 0) {
    json_decref(ids);
    return 1;
  }
  size_t refused = 0, done = 0;
  bool show = a->n_to > a->batch;
  int rc = 0;
  while (rc == 0 && done < a->n_to) {
    size_t n = a->n_to - done < a->batch ? a->n_to - done : a->batch;
    rc = send_batch(&c, a, done, n, ids, &refused);
    if (rc == 0)
      done += n;
    if (show)
      progress(done, a->n_to, refused);
  }
  if (rc != 0 && done > 0)
    fprintf(stderr,
            "smsgate send: stopped after %zu of %zu recipients; the rest "
            "were not sent\n",
            done, a->n_to);
  size_t n_ids = json_array_size(ids);
  if (rc == 0 && !a->json)
    rc = refused > 0;
  if (!a->json && a->wait && n_ids > 0 &&
      wait_final(&c, ids, a->timeout_ms) != n_ids)
    rc = 1;
  json_decref(ids);
  client_close(&c);
  return rc;
}

int sg_cmd_send(int argc, char **argv) {
  send_args_t a;
  int rc = parse_args(argc, argv, &a);
  if (rc == 0 && a.help)
    send_usage(stdout);
  else if (rc == 0) {
    json_set_alloc_funcs(sg_malloc, sg_free);
    rc = do_send(&a);
  }
  for (size_t i = a.n_argv_to; i < a.n_to; i++)
    sg_free((void *)a.to[i]);
  sg_free((void *)a.to);
  sg_free(a.stdin_text);
  return rc;
}

/* ---- status -------------------------------------------------------------- */

static void status_usage(FILE *f) {
  fprintf(
      f,
      "usage: smsgate status ID [--url U] [--key K]\n"
      "\n"
      "Prints a message of a running gateway as JSON: its status, its\n"
      "parts with the operator's ids, and its events.\n"
      "\n"
      "  --url U   the gateway (default $SMSGATE_URL or " DEFAULT_URL ")\n"
      "  --key K   API key (default $SMSGATE_API_KEY or " DEFAULT_KEY ")\n"
      "  --help    show this help\n"
      "\n"
      "Exit status: 0 printed, 1 not found or unreachable, 2 usage error.\n");
}

static int status_args(int argc, char **argv, const char **id, const char **url,
                       const char **key) {
  *id = NULL;
  *url = env_or("SMSGATE_URL", DEFAULT_URL);
  *key = env_or("SMSGATE_API_KEY", DEFAULT_KEY);
  for (int i = 1; i < argc; i++) {
    const char *arg = argv[i];
    if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0)
      return -1;
    if (strcmp(arg, "--url") == 0 || strcmp(arg, "--key") == 0) {
      if (i + 1 >= argc)
        return usage_error("status", "%s needs a value", arg);
      *(arg[2] == 'u' ? url : key) = argv[++i];
    } else if (strncmp(arg, "--", 2) == 0) {
      return usage_error("status", "unknown option '%s'", arg);
    } else if (*id != NULL) {
      return usage_error("status", "unexpected argument '%s'", arg);
    } else {
      *id = arg;
    }
  }
  if (*id == NULL)
    return usage_error("status", "give a message id%s", "");
  if (strlen(*id) != SG_ID_LEN)
    return usage_error("status", "'%s' is not a message id (26 characters)",
                       *id);
  return 0;
}

int sg_cmd_status(int argc, char **argv) {
  const char *id, *url, *key;
  int rc = status_args(argc, argv, &id, &url, &key);
  if (rc < 0) {
    status_usage(stdout);
    return 0;
  }
  if (rc != 0)
    return rc;
  json_set_alloc_funcs(sg_malloc, sg_free);
  client_t c;
  char path[64];
  if (client_init(&c, url, key) != 0)
    return 1;
  snprintf(path, sizeof(path), "/v1/messages/%s", id);
  rc = request(&c, "GET", path, NULL, NULL);
  if (rc == 0 && c.status != 200) {
    print_http_error("status", &c);
    rc = 1;
  } else if (rc == 0) {
    json_t *root = json_loads(c.body, 0, NULL);
    char *pretty = root != NULL ? json_dumps(root, JSON_INDENT(2)) : NULL;
    printf("%s\n", pretty != NULL ? pretty : c.body);
    sg_free(pretty);
    json_decref(root);
  }
  client_close(&c);
  return rc;
}
