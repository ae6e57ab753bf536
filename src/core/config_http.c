/* config_http.c - the `http` mapping of a connector of type http: the
 * request template, the answer rule and the receipt mapping
 * (config_http.h), read by the tables of config_schema.c's walk and
 * checked here as a whole: every template compiles with known placeholder
 * names, a JSON body still parses once filled with awkward example values,
 * JSON paths and PCRE2 patterns compile, status lists are codes or
 * classes. Each error names the file, line and column of the key at fault.
 *
 * Like the rest of the loader it only reads and checks; the connector
 * (connector/http_conn.c) compiles the same strings again for its own use.
 * It must never echo a secret (credentials, receipt secrets).
 */
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "core/config_int.h"
#include "core/error.h"
#include "core/httptpl.h"
#include "core/jsonpath.h"

#define HEADERS_MAX 32
#define STATUSES_MAX 64
#define TPL_MAX 4096
#define H sg_config_conn_http_t
#define R sg_config_http_receipt_t
#define FS(k, fl, st, m, hi)                                                   \
  { k, SG__CFG_T_STR, fl, offsetof(st, m), 0, 1, hi, NULL, NULL }

static const sg__cfg_enum_t methods[] = {{"POST", SG_CONFIG_HTTP_POST},
                                         {"GET", SG_CONFIG_HTTP_GET},
                                         {"PUT", SG_CONFIG_HTTP_PUT},
                                         {NULL, 0}};
static const sg__cfg_enum_t body_types[] = {{"json", SG_CONFIG_HTTP_BODY_JSON},
                                            {"form", SG_CONFIG_HTTP_BODY_FORM},
                                            {"text", SG_CONFIG_HTTP_BODY_TEXT},
                                            {NULL, 0}};

static const char *const state_names[] = {
    NULL,       "enroute", "delivered", "expired", "deleted", "undeliverable",
    "accepted", "unknown", "rejected"};

/* ---- custom readers -------------------------------------------------- */

/* headers: a mapping of header names to value templates. */
static void read_headers(sg__cfg_ctx_t *c, void *obj, const sg__cfg_node_t *v) {
  H *h = (H *)((char *)obj - offsetof(H, headers));
  if (v->kind != SG__CFG_MAP || v->n > HEADERS_MAX) {
    sg__cfg_error(c, v,
                  "expected a mapping of up to %d header names to values, "
                  "like {Authorization: \"Bearer {{token}}\"}",
                  HEADERS_MAX);
    return;
  }
  h->headers = sg__cfg_alloc(c->arena, (v->n + 1) * sizeof *h->headers);
  if (h->headers == NULL) {
    sg__cfg_oom(c);
    return;
  }
  size_t n = 0;
  for (const sg__cfg_node_t *k = v->first; k != NULL; k = k->next) {
    const sg__cfg_node_t *val = k->value;
    bool name_ok = k->len > 0 && k->len <= 64;
    for (size_t i = 0; name_ok && i < k->len; i++)
      name_ok = k->str[i] > 0x20 && k->str[i] < 0x7f && k->str[i] != ':';
    if (!name_ok) {
      sg__cfg_error(c, k,
                    "expected a header name (1-64 visible ASCII "
                    "characters without ':')");
      continue;
    }
    if (val == NULL || val->kind != SG__CFG_SCALAR || val->len > TPL_MAX ||
        memchr(val->str, '\r', val->len) || memchr(val->str, '\n', val->len)) {
      sg__cfg_error(c, val != NULL ? val : k,
                    "expected a header value of one line, at most %d "
                    "characters",
                    TPL_MAX);
      continue;
    }
    h->headers[n].name = sg__cfg_strndup(c->arena, k->str, k->len);
    h->headers[n].value = sg__cfg_strndup(c->arena, val->str, val->len);
    if (h->headers[n].name == NULL || h->headers[n].value == NULL) {
      sg__cfg_oom(c);
      return;
    }
    n++;
  }
  h->n_headers = n;
}

static int state_lookup(const char *s, size_t len) {
  for (int i = 1; i <= 8; i++)
    if (strlen(state_names[i]) == len && memcmp(state_names[i], s, len) == 0)
      return i;
  return 0;
}

/* statuses: a mapping of the provider's words to receipt states. */
static void read_statuses(sg__cfg_ctx_t *c, void *obj,
                          const sg__cfg_node_t *v) {
  R *r = (R *)((char *)obj - offsetof(R, statuses));
  if (v->kind != SG__CFG_MAP || v->n > STATUSES_MAX) {
    sg__cfg_error(c, v,
                  "expected a mapping of up to %d status words to states, "
                  "like {\"1\": delivered, \"16\": rejected}",
                  STATUSES_MAX);
    return;
  }
  r->statuses = sg__cfg_alloc(c->arena, (v->n + 1) * sizeof *r->statuses);
  if (r->statuses == NULL) {
    sg__cfg_oom(c);
    return;
  }
  size_t n = 0;
  for (const sg__cfg_node_t *k = v->first; k != NULL; k = k->next) {
    const sg__cfg_node_t *val = k->value;
    int st = val != NULL && val->kind == SG__CFG_SCALAR
                 ? state_lookup(val->str, val->len)
                 : 0;
    if (k->len == 0 || k->len > 64) {
      sg__cfg_error(c, k, "expected a status word of 1-64 characters");
      continue;
    }
    if (st == 0) {
      sg__cfg_error(c, val != NULL ? val : k,
                    "expected one of delivered, undeliverable, expired, "
                    "rejected, deleted, accepted, enroute, unknown");
      continue;
    }
    r->statuses[n].word = sg__cfg_strndup(c->arena, k->str, k->len);
    if (r->statuses[n].word == NULL) {
      sg__cfg_oom(c);
      return;
    }
    r->statuses[n++].state = st;
  }
  r->n_statuses = n;
}

static const sg__cfg_section_t headers_reader = {NULL, 0, 0, NULL,
                                                 read_headers};
static const sg__cfg_section_t statuses_reader = {NULL, 0, 0, NULL,
                                                  read_statuses};

/* ---- the tables ------------------------------------------------------ */

static const sg__cfg_field_t receipt_fields[] = {
    FS("id", 0, R, id, 256),
    FS("status", 0, R, status, 256),
    FS("error", SG__CFG_F_NULLABLE, R, error, 256),
    {"statuses", SG__CFG_T_CUSTOM, 0, offsetof(R, statuses), 0, 0, 0, NULL,
     &statuses_reader},
    FS("secret", SG__CFG_F_SECRET | SG__CFG_F_NULLABLE, R, secret, 256),
    FS("secret_param", SG__CFG_F_ASCII, R, secret_param, 64),
    FS("secret_header", SG__CFG_F_ASCII | SG__CFG_F_NULLABLE, R, secret_header,
       64),
    FS("hmac_secret", SG__CFG_F_SECRET | SG__CFG_F_NULLABLE, R, hmac_secret,
       256),
    FS("hmac_header", SG__CFG_F_ASCII, R, hmac_header, 64),
};

static void init_receipt(void *obj) {
  R *r = obj;
  memset(r, 0, sizeof *r);
  r->id = "id";
  r->status = "status";
  r->secret_param = "secret";
  r->hmac_header = "X-Signature";
}

static const sg__cfg_section_t receipt_section = {
    receipt_fields, sizeof receipt_fields / sizeof receipt_fields[0], sizeof(R),
    init_receipt, NULL};

static void check_http(sg__cfg_ctx_t *c, void *obj, const sg__cfg_node_t *map);

static const sg__cfg_field_t http_fields[] = {
    {"method", SG__CFG_T_ENUM, 0, offsetof(H, method), 0, 0, 0, methods, NULL},
    FS("url", SG__CFG_F_REQUIRED, H, url, TPL_MAX),
    {"headers", SG__CFG_T_CUSTOM, 0, offsetof(H, headers), 0, 0, 0, NULL,
     &headers_reader},
    {"body_type", SG__CFG_T_ENUM, 0, offsetof(H, body_type), 0, 0, 0,
     body_types, NULL},
    FS("body", SG__CFG_F_NULLABLE, H, body, 65536),
    FS("username", SG__CFG_F_NULLABLE, H, username, 256),
    FS("password", SG__CFG_F_SECRET | SG__CFG_F_NULLABLE, H, password, 256),
    FS("token", SG__CFG_F_SECRET | SG__CFG_F_NULLABLE, H, token, 4096),
    {"accept", SG__CFG_T_STRLIST, SG__CFG_F_ASCII, offsetof(H, accept),
     offsetof(H, n_accept), 1, 16, NULL, NULL},
    {"temporary", SG__CFG_T_STRLIST, SG__CFG_F_ASCII, offsetof(H, temporary),
     offsetof(H, n_temporary), 1, 16, NULL, NULL},
    FS("accept_regex", SG__CFG_F_NULLABLE, H, accept_regex, 1024),
    FS("message_id", SG__CFG_F_NULLABLE, H, message_id, 256),
    FS("message_id_regex", SG__CFG_F_NULLABLE, H, message_id_regex, 1024),
    FS("message_id_template", SG__CFG_F_NULLABLE, H, message_id_template, 256),
    FS("error", SG__CFG_F_NULLABLE, H, error, 256),
    FS("error_regex", SG__CFG_F_NULLABLE, H, error_regex, 1024),
    FS("receipt_url", SG__CFG_F_NULLABLE, H, receipt_url, TPL_MAX),
    {"tls_verify", SG__CFG_T_BOOL, 0, offsetof(H, tls_verify), 0, 0, 0, NULL,
     NULL},
    FS("tls_ca", SG__CFG_F_NULLABLE, H, tls_ca, 4096),
    {"receipt", SG__CFG_T_MAP, 0, offsetof(H, receipt), 0, 0, 0, NULL,
     &receipt_section},
};

static void init_http(void *obj) {
  H *h = obj;
  memset(h, 0, sizeof *h);
  h->tls_verify = true;
  init_receipt(&h->receipt);
}

const sg__cfg_section_t sg__cfg_conn_http_section = {
    http_fields, sizeof http_fields / sizeof http_fields[0], sizeof(H),
    init_http, check_http};

/* ---- checks ---------------------------------------------------------- */

/* Fills codes from "200", "2xx" items; reports bad ones. */
static void read_codes(sg__cfg_ctx_t *c, const sg__cfg_node_t *list,
                       const char *const *items, size_t n,
                       sg_config_http_codes_t *codes) {
  for (size_t i = 0; i < n; i++) {
    const char *s = items[i];
    size_t len = strlen(s);
    unsigned lo = 0, hi = 0;
    if (len == 3 && s[0] >= '1' && s[0] <= '5' &&
        strcasecmp(s + 1, "xx") == 0) {
      lo = (unsigned)(s[0] - '0') * 100;
      hi = lo + 99;
    } else if (len == 3 && strspn(s, "0123456789") == 3 && s[0] >= '1' &&
               s[0] <= '5') {
      lo = hi = (unsigned)((s[0] - '0') * 100 + (s[1] - '0') * 10 + s[2] - '0');
    } else {
      sg__cfg_error(c, sg__cfg_seq_at(list, i),
                    "expected an HTTP status 100-599 or a class like \"5xx\"");
      continue;
    }
    for (unsigned k = lo; k <= hi; k++)
      codes->bits[(k - 100) / 8] |= (uint8_t)(1u << ((k - 100) % 8));
  }
}

static void default_codes(sg_config_http_codes_t *acc,
                          sg_config_http_codes_t *tmp) {
  for (unsigned k = 200; k <= 299; k++)
    acc->bits[(k - 100) / 8] |= (uint8_t)(1u << ((k - 100) % 8));
  static const unsigned t[] = {408, 425, 429};
  for (size_t i = 0; i < 3; i++)
    tmp->bits[(t[i] - 100) / 8] |= (uint8_t)(1u << ((t[i] - 100) % 8));
  for (unsigned k = 500; k <= 599; k++)
    tmp->bits[(k - 100) / 8] |= (uint8_t)(1u << ((k - 100) % 8));
}

/* Compiles the template of key `key` (NULL: absent) for place esc. */
static void check_tpl(sg__cfg_ctx_t *c, const sg__cfg_node_t *map,
                      const char *key, const char *s, sg_httptpl_esc_t esc,
                      const char *what) {
  if (s == NULL)
    return;
  const sg__cfg_node_t *at = sg__cfg_map_get(map, key);
  sg_httptpl_t t;
  size_t off = 0;
  int rc = sg_httptpl_compile(s, strlen(s), &t, &off);
  if (rc == SG_ETOOLONG) {
    sg__cfg_error(c, at, "%s has more than %d placeholders and text runs", what,
                  SG_HTTPTPL_SEGS_MAX);
    return;
  }
  if (rc != 0) {
    sg__cfg_error(c, at,
                  "%s: unknown or unterminated placeholder at offset %zu "
                  "(names: to, to_digits, from, text, ud_hex, udh_hex, udh, "
                  "coding, dcs, message_id, part, parts, ref, concat_ref, "
                  "dlr, username, password, token, receipt_url)",
                  what, off);
    return;
  }
  if ((t.uses & (1u << SG_HTTPTPL_UDH)) && esc != SG_HTTPTPL_ESC_URL &&
      esc != SG_HTTPTPL_ESC_FORM)
    sg__cfg_error(c, at,
                  "%s: {{udh}} holds binary octets and can stand only in a "
                  "URL or a form body; use {{udh_hex}}",
                  what);
  if (esc != SG_HTTPTPL_ESC_JSON)
    return;
  sg_httptpl_val_t ex[SG_HTTPTPL_VAR_COUNT];
  sg_httptpl_examples(ex);
  static char buf[8 * 65536];
  if (sg_httptpl_render(&t, esc, ex, buf, sizeof buf, NULL, NULL) != 0)
    return;
  json_error_t err;
  json_t *j = json_loads(buf, JSON_DECODE_ANY, &err);
  if (j == NULL)
    sg__cfg_error(c, at,
                  "%s is not JSON once its placeholders are filled (put "
                  "them inside strings, or numbers like {{part}} outside): "
                  "%s",
                  what, err.text);
  json_decref(j);
}

static void check_path(sg__cfg_ctx_t *c, const sg__cfg_node_t *map,
                       const char *key, const char *s) {
  if (s == NULL || s[0] != '$')
    return;
  sg_jsonpath_t p;
  size_t off = 0;
  if (sg_jsonpath_compile(s, strlen(s), &p, &off) != 0)
    sg__cfg_error(c, sg__cfg_map_get(map, key),
                  "invalid JSON path at offset %zu: expected \"$\" followed "
                  "by .name, ['name'] or [index] steps (at most %d)",
                  off, SG_JSONPATH_STEPS_MAX);
}

/* A PCRE2 pattern; groups_min capture groups at least. */
static void check_regex(sg__cfg_ctx_t *c, const sg__cfg_node_t *at,
                        const char *s, unsigned groups_min) {
  if (s == NULL)
    return;
  int ec = 0;
  PCRE2_SIZE eo = 0;
  pcre2_code *re = pcre2_compile((PCRE2_SPTR)s, PCRE2_ZERO_TERMINATED,
                                 PCRE2_UTF, &ec, &eo, NULL);
  if (re == NULL) {
    PCRE2_UCHAR msg[120];
    pcre2_get_error_message(ec, msg, sizeof msg);
    sg__cfg_error(c, at, "invalid regular expression at offset %zu: %s",
                  (size_t)eo, (const char *)msg);
    return;
  }
  uint32_t groups = 0;
  pcre2_pattern_info(re, PCRE2_INFO_CAPTURECOUNT, &groups);
  pcre2_code_free(re);
  if (groups < groups_min)
    sg__cfg_error(c, at,
                  "the regular expression needs a capture group: the "
                  "text of group 1 is taken");
}

static void check_receipt(sg__cfg_ctx_t *c, const sg__cfg_node_t *map,
                          const sg_config_http_receipt_t *r) {
  const sg__cfg_node_t *rm = sg__cfg_map_get(map, "receipt");
  check_path(c, rm, "id", r->id);
  check_path(c, rm, "status", r->status);
  check_path(c, rm, "error", r->error);
  if (r->secret_header != NULL && sg__cfg_map_get(rm, "secret_param") != NULL)
    sg__cfg_error(c, sg__cfg_map_get(rm, "secret_header"),
                  "give secret_param or secret_header, not both");
  if (r->secret == NULL && rm != NULL &&
      (sg__cfg_map_get(rm, "secret_param") != NULL || r->secret_header))
    sg__cfg_error(c, rm, "secret_param and secret_header need \"secret\"");
}

static void check_http(sg__cfg_ctx_t *c, void *obj, const sg__cfg_node_t *map) {
  H *h = obj;
  bool json = h->body_type == SG_CONFIG_HTTP_BODY_JSON;
  check_tpl(c, map, "url", h->url, SG_HTTPTPL_ESC_URL, "url");
  for (size_t i = 0; i < h->n_headers; i++) {
    const sg__cfg_node_t *hm = sg__cfg_map_get(map, "headers");
    sg_httptpl_t t;
    size_t off = 0;
    const char *v = h->headers[i].value;
    if (sg_httptpl_compile(v, strlen(v), &t, &off) != 0)
      sg__cfg_error(c, sg__cfg_map_get(hm, h->headers[i].name),
                    "unknown or unterminated placeholder at offset %zu", off);
    else if (t.uses & (1u << SG_HTTPTPL_UDH))
      sg__cfg_error(c, sg__cfg_map_get(hm, h->headers[i].name),
                    "{{udh}} holds binary octets; use {{udh_hex}}");
  }
  check_tpl(c, map, "body", h->body,
            json                                       ? SG_HTTPTPL_ESC_JSON
            : h->body_type == SG_CONFIG_HTTP_BODY_FORM ? SG_HTTPTPL_ESC_FORM
                                                       : SG_HTTPTPL_ESC_TEXT,
            "body");
  check_tpl(c, map, "message_id_template", h->message_id_template,
            SG_HTTPTPL_ESC_TEXT, "message_id_template");
  check_tpl(c, map, "receipt_url", h->receipt_url, SG_HTTPTPL_ESC_URL,
            "receipt_url");
  if (h->receipt_url != NULL && strstr(h->receipt_url, "receipt_url") != NULL)
    sg__cfg_error(c, sg__cfg_map_get(map, "receipt_url"),
                  "receipt_url cannot contain {{receipt_url}}");
  if (h->body != NULL && h->method == SG_CONFIG_HTTP_GET)
    sg__cfg_error(c, sg__cfg_map_get(map, "body"),
                  "a GET request has no body: put the fields in the url");
  int ids = (h->message_id != NULL) + (h->message_id_regex != NULL) +
            (h->message_id_template != NULL);
  if (ids != 1)
    sg__cfg_error(c, map,
                  "give exactly one of message_id (a JSON path), "
                  "message_id_regex or message_id_template (when the "
                  "provider answers no id)");
  if (h->message_id != NULL && h->message_id[0] != '$')
    sg__cfg_error(c, sg__cfg_map_get(map, "message_id"),
                  "expected a JSON path starting with \"$\"");
  check_path(c, map, "message_id", h->message_id);
  if (h->error != NULL && h->error[0] != '$')
    sg__cfg_error(c, sg__cfg_map_get(map, "error"),
                  "expected a JSON path starting with \"$\"");
  check_path(c, map, "error", h->error);
  check_regex(c, sg__cfg_map_get(map, "message_id_regex"), h->message_id_regex,
              1);
  check_regex(c, sg__cfg_map_get(map, "error_regex"), h->error_regex, 1);
  check_regex(c, sg__cfg_map_get(map, "accept_regex"), h->accept_regex, 0);
  sg_config_http_codes_t da = {{0}}, dt = {{0}};
  default_codes(&da, &dt);
  h->accept_codes = da;
  h->temporary_codes = dt;
  if (h->n_accept > 0) {
    memset(&h->accept_codes, 0, sizeof h->accept_codes);
    read_codes(c, sg__cfg_map_get(map, "accept"), h->accept, h->n_accept,
               &h->accept_codes);
  }
  if (h->n_temporary > 0) {
    memset(&h->temporary_codes, 0, sizeof h->temporary_codes);
    read_codes(c, sg__cfg_map_get(map, "temporary"), h->temporary,
               h->n_temporary, &h->temporary_codes);
  }
  check_receipt(c, map, &h->receipt);
}

/* ---- comparison for reload -------------------------------------------- */

static bool s_eq(const char *a, const char *b) {
  return a == b || (a != NULL && b != NULL && strcmp(a, b) == 0);
}

bool sg__cfg_conn_http_eq(const sg_config_conn_http_t *a,
                          const sg_config_conn_http_t *b) {
  if (a->method != b->method || a->body_type != b->body_type ||
      a->tls_verify != b->tls_verify || a->n_headers != b->n_headers ||
      a->receipt.n_statuses != b->receipt.n_statuses ||
      memcmp(&a->accept_codes, &b->accept_codes, sizeof a->accept_codes) ||
      memcmp(&a->temporary_codes, &b->temporary_codes,
             sizeof a->temporary_codes))
    return false;
  const char *const sa[] = {a->url,
                            a->body,
                            a->username,
                            a->password,
                            a->token,
                            a->accept_regex,
                            a->message_id,
                            a->message_id_regex,
                            a->message_id_template,
                            a->error,
                            a->error_regex,
                            a->receipt_url,
                            a->tls_ca,
                            a->receipt.id,
                            a->receipt.status,
                            a->receipt.error,
                            a->receipt.secret,
                            a->receipt.secret_param,
                            a->receipt.secret_header,
                            a->receipt.hmac_secret,
                            a->receipt.hmac_header};
  const char *const sb[] = {b->url,
                            b->body,
                            b->username,
                            b->password,
                            b->token,
                            b->accept_regex,
                            b->message_id,
                            b->message_id_regex,
                            b->message_id_template,
                            b->error,
                            b->error_regex,
                            b->receipt_url,
                            b->tls_ca,
                            b->receipt.id,
                            b->receipt.status,
                            b->receipt.error,
                            b->receipt.secret,
                            b->receipt.secret_param,
                            b->receipt.secret_header,
                            b->receipt.hmac_secret,
                            b->receipt.hmac_header};
  for (size_t i = 0; i < sizeof sa / sizeof sa[0]; i++)
    if (!s_eq(sa[i], sb[i]))
      return false;
  for (size_t i = 0; i < a->n_headers; i++)
    if (!s_eq(a->headers[i].name, b->headers[i].name) ||
        !s_eq(a->headers[i].value, b->headers[i].value))
      return false;
  for (size_t i = 0; i < a->receipt.n_statuses; i++)
    if (!s_eq(a->receipt.statuses[i].word, b->receipt.statuses[i].word) ||
        a->receipt.statuses[i].state != b->receipt.statuses[i].state)
      return false;
  return true;
}
