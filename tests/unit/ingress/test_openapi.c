/* test_openapi.c - the OpenAPI document (docs/openapi.json, embedded and
 * served at /v1/openapi.json) against the routes the gateway really has.
 *
 * The routes come from the HTTP server's own table after the REST API, the
 * configuration reload and Kannel's sendsms registered theirs, exactly as
 * `smsgate serve` does (cli/serve.c), so
 * a route added without its description, or a described path that no
 * longer exists, fails here. The document's structure is checked as
 * OpenAPI 3.1 asks: every $ref resolves, every {param} of a path is a
 * required path parameter and the other way round, operation ids are
 * unique, every operation has responses with descriptions, and every error
 * answer of the API is the {"error": {"code", "message", "field"}} object.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>
#include <uv.h>

#include "core/config.h"
#include "core/error.h"
#include "engine/engine.h"
#include "ingress/http_server.h"
#include "ingress/kannel.h"
#include "ingress/rest/openapi.h"
#include "ingress/rest/reload.h"
#include "ingress/rest/rest.h"
#include "store/store.h"

static const char *const k_methods[] = {
    "get", "put", "post", "delete", "patch", "head", "options", "trace", NULL};

typedef struct fx {
  uv_loop_t loop;
  sg_config_t *cfg;
  sg_store_t *st;
  sg_engine_t *e;
  sg_http_server_t *srv;
  sg_rest_t *rest;
  sg_rest_reload_t *reload;
  sg_kannel_t *kannel;
  json_t *doc;
  char dir[64], path[96];
} fx_t;

/* The reload serve gives POST /v1/admin/reload; no request reaches it
 * here, the route only has to be in the table. */
static void reload_fn(void *data, sg_rest_reload_answer_cb answer, void *ud) {
  (void)data;
  answer(ud, 503, "{\"error\": {\"code\": \"unavailable\", "
                  "\"message\": \"no configuration file\", \"field\": null}}");
}

static int setup(void **state) {
  fx_t *f = calloc(1, sizeof *f);
  snprintf(f->dir, sizeof f->dir, "/tmp/sg-openapi-XXXXXX");
  if (f == NULL || mkdtemp(f->dir) == NULL)
    return -1;
  snprintf(f->path, sizeof f->path, "%s/smsgate.db", f->dir);
  uv_loop_init(&f->loop);
  static const char yaml[] = "accounts:\n  - {name: a, api_key: a-key}\n";
  sg_config_errors_t errs;
  if (sg_config_load_string("test", yaml, strlen(yaml), &f->cfg, &errs) != 0)
    return -1;
  sg_store_config_t sc;
  sg_store_config_init(&sc, f->path);
  char err[256];
  if (sg_store_open(&f->loop, &sc, &f->st, err, sizeof err) != 0 ||
      sg_engine_new(&f->loop, f->cfg, f->st, &f->e) != 0)
    return -1;
  sg_http_server_cfg_t hc = {0};
  if (sg_http_server_new(&f->loop, &hc, &f->srv) != 0 ||
      sg_rest_register(f->srv, f->e, &f->rest) != 0 ||
      sg_rest_reload_register(f->srv, f->rest, reload_fn, NULL, &f->reload) !=
          0 ||
      sg_kannel_register(&f->loop, f->srv, f->e, &f->kannel) != 0)
    return -1;
  size_t len = 0;
  const char *text = sg_rest_openapi(&len);
  json_error_t jerr;
  f->doc = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
  if (f->doc == NULL) {
    fprintf(stderr, "docs/openapi.json:%d:%d: %s\n", jerr.line, jerr.column,
            jerr.text);
    return -1;
  }
  *state = f;
  return 0;
}

static void store_closed_cb(void *data) {
  *(bool *)data = true;
}

static int teardown(void **state) {
  fx_t *f = *state;
  json_decref(f->doc);
  sg_http_server_free(f->srv);
  sg_rest_reload_free(f->reload);
  sg_kannel_free(f->kannel);
  sg_rest_free(f->rest);
  sg_engine_free(f->e);
  bool closed = false;
  sg_store_close(f->st, store_closed_cb, &closed);
  while (!closed)
    uv_run(&f->loop, UV_RUN_ONCE);
  uv_run(&f->loop, UV_RUN_DEFAULT);
  assert_int_equal(uv_loop_close(&f->loop), 0);
  sg_config_free(f->cfg);
  static const char *const suffix[] = {"", "-wal", "-shm", "-journal"};
  char p[128];
  for (size_t i = 0; i < 4; i++) {
    snprintf(p, sizeof p, "%s%s", f->path, suffix[i]);
    unlink(p);
  }
  rmdir(f->dir);
  free(f);
  return 0;
}

static void lower(const char *in, char *out, size_t cap) {
  size_t i = 0;
  for (; in[i] != '\0' && i + 1 < cap; i++)
    out[i] = (char)tolower((unsigned char)in[i]);
  out[i] = '\0';
}

/* Whether the server has a route of that method (lower case) and pattern. */
static bool routed(const sg_http_server_t *srv, const char *method,
                   const char *path) {
  size_t n = sg_http_server_route_count(srv);
  for (size_t i = 0; i < n; i++) {
    const char *m = NULL;
    char pat[256], lm[16];
    assert_int_equal(sg_http_server_route_info(srv, i, &m, pat, sizeof pat), 0);
    lower(m, lm, sizeof lm);
    if (strcmp(lm, method) == 0 && strcmp(pat, path) == 0)
      return true;
  }
  return false;
}

/* The route table reads back as registered; bad indexes and short buffers
 * are refused. */
static void route_info_reads_the_table(void **state) {
  fx_t *f = *state;
  size_t n = sg_http_server_route_count(f->srv);
  assert_true(n >= 40);
  assert_true(routed(f->srv, "get", "/v1/messages/{id}"));
  assert_true(routed(f->srv, "post", "/v1/keys/{id}/rotate"));
  assert_true(routed(f->srv, "get", "/cgi-bin/sendsms"));
  assert_true(routed(f->srv, "post", "/v1/admin/reload"));
  assert_true(routed(f->srv, "post", "/v1/contacts/import"));
  assert_false(routed(f->srv, "put", "/v1/messages/{id}"));
  const char *m = NULL;
  char small[8];
  assert_int_equal(sg_http_server_route_info(f->srv, n, &m, small, 8),
                   SG_ENOENT);
  size_t i = 0;
  char pat[256];
  for (; i < n; i++) {
    assert_int_equal(sg_http_server_route_info(f->srv, i, &m, pat, sizeof pat),
                     0);
    if (strcmp(pat, "/v1/messages/{id}") == 0)
      break;
  }
  assert_true(i < n);
  /* 17 octets and the NUL: one short is refused, exactly enough is not. */
  assert_int_equal(sg_http_server_route_info(f->srv, i, &m, pat, 17),
                   SG_ENOSPC);
  assert_int_equal(sg_http_server_route_info(f->srv, i, &m, pat, 18), 0);
  assert_string_equal(pat, "/v1/messages/{id}");
  assert_int_equal(sg_http_server_route_count(NULL), 0);
}

/* Every live route is described, with its method. */
static void every_route_is_documented(void **state) {
  fx_t *f = *state;
  json_t *paths = json_object_get(f->doc, "paths");
  assert_true(json_is_object(paths));
  size_t n = sg_http_server_route_count(f->srv), missing = 0;
  for (size_t i = 0; i < n; i++) {
    const char *m = NULL;
    char pat[256], lm[16];
    assert_int_equal(sg_http_server_route_info(f->srv, i, &m, pat, sizeof pat),
                     0);
    lower(m, lm, sizeof lm);
    json_t *item = json_object_get(paths, pat);
    if (json_object_get(item, lm) == NULL) {
      fprintf(stderr, "not in docs/openapi.json: %s %s\n", m, pat);
      missing++;
    }
  }
  assert_int_equal(missing, 0);
}

/* Every described operation is a live route. */
static void every_documented_operation_exists(void **state) {
  fx_t *f = *state;
  json_t *paths = json_object_get(f->doc, "paths");
  const char *path;
  json_t *item;
  size_t ops = 0, stale = 0;
  json_object_foreach(paths, path, item) {
    for (size_t i = 0; k_methods[i] != NULL; i++) {
      if (json_object_get(item, k_methods[i]) == NULL)
        continue;
      ops++;
      if (!routed(f->srv, k_methods[i], path)) {
        fprintf(stderr, "no such route: %s %s\n", k_methods[i], path);
        stale++;
      }
    }
  }
  assert_int_equal(stale, 0);
  assert_int_equal(ops, sg_http_server_route_count(f->srv));
}

/* Resolves a local "#/a/b" reference in the document. */
static json_t *resolve(json_t *doc, const char *ref) {
  if (strncmp(ref, "#/", 2) != 0)
    return NULL;
  char buf[256];
  snprintf(buf, sizeof buf, "%s", ref + 2);
  json_t *node = doc;
  for (char *save = NULL, *tok = strtok_r(buf, "/", &save);
       tok != NULL && node != NULL; tok = strtok_r(NULL, "/", &save))
    node = json_object_get(node, tok);
  return node;
}

/* Counts the $refs under node that do not resolve (and prints them). */
static size_t bad_refs(json_t *doc, json_t *node, size_t *seen) {
  size_t bad = 0;
  if (json_is_array(node)) {
    size_t i;
    json_t *v;
    json_array_foreach(node, i, v) bad += bad_refs(doc, v, seen);
    return bad;
  }
  if (!json_is_object(node))
    return 0;
  const char *k;
  json_t *v;
  json_object_foreach(node, k, v) {
    if (strcmp(k, "$ref") == 0) {
      (*seen)++;
      if (!json_is_string(v) || resolve(doc, json_string_value(v)) == NULL) {
        fprintf(stderr, "unresolved $ref %s\n",
                json_is_string(v) ? json_string_value(v) : "(not a string)");
        bad++;
      }
    } else {
      bad += bad_refs(doc, v, seen);
    }
  }
  return bad;
}

static const char *str(const json_t *v) {
  return json_is_string(v) ? json_string_value(v) : "";
}

/* Whether `params` (an array, maybe NULL) declares the required path
 * parameter `name`. */
static bool declares(json_t *params, const char *name) {
  size_t i;
  json_t *p;
  json_array_foreach(params, i, p) {
    if (strcmp(str(json_object_get(p, "in")), "path") == 0 &&
        strcmp(str(json_object_get(p, "name")), name) == 0 &&
        json_is_true(json_object_get(p, "required")))
      return true;
  }
  return false;
}

/* The {params} of the template are exactly the operation's path
 * parameters. */
static size_t check_path_params(const char *path, json_t *opn) {
  json_t *params = json_object_get(opn, "parameters");
  size_t bad = 0, in_template = 0;
  for (const char *p = strchr(path, '{'); p != NULL; p = strchr(p + 1, '{')) {
    char name[64];
    size_t len = strcspn(p + 1, "}");
    snprintf(name, sizeof name, "%.*s", (int)len, p + 1);
    in_template++;
    if (!declares(params, name)) {
      fprintf(stderr, "%s: {%s} is not a required path parameter\n", path,
              name);
      bad++;
    }
  }
  size_t i, declared = 0;
  json_t *p;
  json_array_foreach(params, i, p) {
    const char *in = json_string_value(json_object_get(p, "in"));
    declared += in != NULL && strcmp(in, "path") == 0;
    if (in == NULL || json_object_get(p, "schema") == NULL) {
      fprintf(stderr, "%s: a parameter without 'in' or 'schema'\n", path);
      bad++;
    }
  }
  return bad + (declared != in_template);
}

/* An error answer (4xx, 5xx) of a /v1 operation is the error object. */
static bool is_error_response(json_t *doc, json_t *resp) {
  json_t *ref = json_object_get(resp, "$ref");
  if (ref != NULL)
    resp = resolve(doc, json_string_value(ref));
  json_t *schema = json_object_get(
      json_object_get(json_object_get(resp, "content"), "application/json"),
      "schema");
  const char *sref = json_string_value(json_object_get(schema, "$ref"));
  return sref != NULL && strcmp(sref, "#/components/schemas/Error") == 0;
}

static size_t check_operation(json_t *doc, const char *path, json_t *opn,
                              json_t *ids) {
  size_t bad = check_path_params(path, opn);
  const char *id = json_string_value(json_object_get(opn, "operationId"));
  if (id == NULL || json_object_get(ids, id) != NULL) {
    fprintf(stderr, "%s: missing or repeated operationId\n", path);
    bad++;
  } else {
    json_object_set_new(ids, id, json_true());
  }
  json_t *responses = json_object_get(opn, "responses");
  if (!json_is_object(responses) || json_object_size(responses) == 0)
    return bad + 1;
  const char *code;
  json_t *resp;
  bool v1 = strncmp(path, "/v1/", 4) == 0;
  bool open = json_is_array(json_object_get(opn, "security"));
  json_object_foreach(responses, code, resp) {
    json_t *ref = json_object_get(resp, "$ref");
    json_t *r = ref != NULL ? resolve(doc, json_string_value(ref)) : resp;
    if (!json_is_string(json_object_get(r, "description")))
      bad++;
    if (v1 && !open && (code[0] == '4' || code[0] == '5') &&
        !is_error_response(doc, resp)) {
      fprintf(stderr, "%s %s: not the error object\n", path, code);
      bad++;
    }
  }
  /* A keyed operation says what a missing or bad key gets. */
  if (v1 && !open && json_object_get(responses, "401") == NULL)
    bad++;
  return bad;
}

static void document_is_well_formed(void **state) {
  fx_t *f = *state;
  const char *version = json_string_value(json_object_get(f->doc, "openapi"));
  assert_non_null(version);
  assert_memory_equal(version, "3.1.", 4);
  json_t *info = json_object_get(f->doc, "info");
  assert_true(json_is_string(json_object_get(info, "title")));
  assert_true(json_is_string(json_object_get(info, "version")));
  json_t *err = resolve(f->doc, "#/components/schemas/Error/properties/error");
  assert_non_null(err);
  json_t *props = json_object_get(err, "properties");
  assert_non_null(json_object_get(props, "code"));
  assert_non_null(json_object_get(props, "message"));
  assert_non_null(json_object_get(props, "field"));
  size_t seen = 0;
  assert_int_equal(bad_refs(f->doc, f->doc, &seen), 0);
  assert_true(seen > 50);
  json_t *ids = json_object();
  const char *path;
  json_t *item;
  size_t bad = 0;
  json_object_foreach(json_object_get(f->doc, "paths"), path, item) {
    assert_int_equal(path[0], '/');
    const char *k;
    json_t *opn;
    json_object_foreach(item, k, opn) {
      bool known = false;
      for (size_t i = 0; k_methods[i] != NULL; i++)
        known |= strcmp(k, k_methods[i]) == 0;
      if (!known && strcmp(k, "parameters") != 0 && strcmp(k, "summary") != 0 &&
          strcmp(k, "description") != 0) {
        fprintf(stderr, "%s: unknown key '%s'\n", path, k);
        bad++;
      } else if (known) {
        bad += check_operation(f->doc, path, opn, ids);
      }
    }
  }
  json_decref(ids);
  assert_int_equal(bad, 0);
}

/* The checks above can fail: a document with a stale path, an unresolved
 * reference and an undeclared parameter is caught by each. */
static void checks_catch_a_broken_document(void **state) {
  fx_t *f = *state;
  json_t *paths = json_object_get(f->doc, "paths");
  json_t *stale = json_pack("{s:{s:s, s:{s:{s:s}}}}", "get", "operationId",
                            "stale", "responses", "200", "description", "x");
  json_object_set_new(paths, "/v1/nothing/{x}", stale);
  assert_false(routed(f->srv, "get", "/v1/nothing/{x}"));
  json_t *ids = json_object();
  assert_int_equal(check_operation(f->doc, "/v1/nothing/{x}",
                                   json_object_get(stale, "get"), ids),
                   2 + 1); /* {x} undeclared, count differs, no 401 */
  json_decref(ids);
  json_object_set_new(stale, "x-ref",
                      json_pack("{s:s}", "$ref", "#/components/schemas/Nope"));
  size_t seen = 0;
  assert_int_equal(bad_refs(f->doc, paths, &seen), 1);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(route_info_reads_the_table, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(every_route_is_documented, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(every_documented_operation_exists, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(document_is_well_formed, setup, teardown),
      cmocka_unit_test_setup_teardown(checks_catch_a_broken_document, setup,
                                      teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
