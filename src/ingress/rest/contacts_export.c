/* contacts_export.c - GET /v1/contacts/export[?list=ID]: the account's
 * contacts (or a list's members) as CSV, streamed: the field names in use
 * are read first (they make the header), then pages of contacts, one at a
 * time, each written out as the client takes it.
 *
 * Columns: number, name, every custom field (sorted), opted_out (true or
 * false; an import ignores it: the opt-out list is the authority). The
 * file imports back into the same contacts. It must never hold more than
 * one page.
 */
#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "core/error.h"
#include "ingress/rest/contacts_int.h"

#define PAGE 1000

typedef struct export {
  sg_rest_t *rest;
  sg_http_req_t *req;
  int64_t account_id, list_id, after;
  char *keys[64];
  size_t n_keys;
  char *buf; /* CSV text not sent yet: buf[off..len) */
  size_t len, off, cap;
  bool reading, last, gone, started;
}
export_t;

static void export_free(export_t *x) {
  for (size_t i = 0; i < x->n_keys; i++)
    sg_free(x->keys[i]);
  sg_free(x->buf);
  sg_free(x);
}

static bool put(export_t *x, const char *s, size_t n) {
  if (x->len + n > x->cap) {
    char *b = sg_grow(x->buf, &x->cap, x->len + n, 64 * 1024, 1);
    if (b == NULL)
      return false;
    x->buf = b;
  }
  memcpy(x->buf + x->len, s, n);
  x->len += n;
  return true;
}

/* One CSV cell (RFC 4180: quoted when it holds a comma, quote, line end or
 * outer space), then `end` (',' or '\n'). */
static bool cell(export_t *x, const char *s, char end) {
  size_t n = s ? strlen(s) : 0;
  bool quote = n > 0 && (strpbrk(s, ",\"\r\n") != NULL || s[0] == ' ' ||
                         s[n - 1] == ' ');
  bool ok = !quote || put(x, "\"", 1);
  for (size_t i = 0; ok && i < n; i++)
    ok = (s[i] != '"' || put(x, "\"", 1)) && put(x, s + i, 1);
  return ok && (!quote || put(x, "\"", 1)) && put(x, &end, 1);
}

static bool header(export_t *x) {
  bool ok = cell(x, "number", ',') && cell(x, "name", ',');
  for (size_t i = 0; ok && i < x->n_keys; i++)
    ok = cell(x, x->keys[i], ',');
  return ok && cell(x, "opted_out", '\n');
}

static bool row(export_t *x, const sg_store_contact_t *k) {
  json_t *f = k->fields ? json_loads(k->fields, 0, NULL) : NULL;
  bool ok = cell(x, k->number, ',') && cell(x, k->name, ',');
  for (size_t i = 0; ok && i < x->n_keys; i++)
    ok = cell(x, json_string_value(json_object_get(f, x->keys[i])), ',');
  json_decref(f);
  return ok && cell(x, k->opted_out ? "true" : "false", '\n');
}

static void page_cb(sg_store_t *st, int status, const sg_store_cres_t *res,
                    void *data);

static int read_next(export_t *x) {
  sg_store_cop_t op = {.kind = SG_STORE_CONTACT_LIST,
                       .account_id = x->account_id,
                       .list_id = x->list_id,
                       .after = x->after,
                       .limit = PAGE};
  int rc = sg_engine_contacts(x->rest->engine, &op, page_cb, x);
  x->reading = rc == 0;
  return rc;
}

static void page_cb(sg_store_t *st, int status, const sg_store_cres_t *res,
                    void *data) {
  (void)st;
  export_t *x = data;
  x->reading = false;
  if (x->gone) {
    export_free(x);
    return;
  }
  bool ok = status == 0;
  for (size_t i = 0; ok && i < res->n_contacts; i++)
    ok = row(x, &res->contacts[i]);
  x->last = !ok || res->next_after == 0; /* a failure ends the file early */
  x->after = ok ? res->next_after : 0;
  sg_http_stream_resume(x->req);
}

static long pull_cb(void *data, uint8_t *buf, size_t max) {
  export_t *x = data;
  if (x->off == x->len) {
    x->off = x->len = 0;
    if (x->last)
      return SG_ECLOSED;
    if (x->reading)
      return 0;
    return read_next(x) == 0 ? 0 : SG_EIO;
  }
  size_t n = x->len - x->off < max ? x->len - x->off : max;
  memcpy(buf, x->buf + x->off, n);
  x->off += n;
  return (long)n;
}

static void done_cb(void *data) {
  export_t *x = data;
  x->gone = true;
  if (!x->reading)
    export_free(x);
}

static void keys_cb(sg_store_t *st, int status, const sg_store_cres_t *res,
                    void *data) {
  (void)st;
  export_t *x = data;
  for (size_t i = 0; status == 0 && i < res->n_keys && i < 64; i++)
    if ((x->keys[x->n_keys] = sg_strdup(res->keys[i])) != NULL)
      x->n_keys++;
  if (status != 0 || !header(x)) {
    sg__contacts_error(x->req, status ? status : SG_ENOMEM, "no such list",
                       NULL, NULL);
    export_free(x);
    return;
  }
  static const char *const hdrs[] = {
      "Content-Disposition", "attachment; filename=\"contacts.csv\"", NULL};
  int rc = sg_http_respond_stream(x->req, 200, "text/csv; charset=utf-8", hdrs,
                                  pull_cb, done_cb, x);
  if (rc == SG_EINVAL || rc == SG_ENOMEM) {
    sg__rest_engine_error(x->req, SG_ENOMEM);
    export_free(x);
  }
}

static void export_cb(sg_http_req_t *req, void *data) {
  sg_rest_t *rest = data;
  int64_t account;
  if (sg__contacts_who(rest, req, false, &account) == NULL)
    return;
  const char *l = sg_http_req_query(req, "list");
  char *end = NULL;
  long long list = l ? strtoll(l, &end, 10) : 0;
  if (l != NULL && (list <= 0 || *end != '\0')) {
    sg__rest_error(req, 422, "invalid_query", "list must be a list id", "list",
                   0);
    return;
  }
  export_t *x = sg_calloc(1, sizeof *x);
  if (x == NULL) {
    sg__rest_engine_error(req, SG_ENOMEM);
    return;
  }
  *x = (export_t){
      .rest = rest, .req = req, .account_id = account, .list_id = list};
  sg_store_cop_t op = {
      .kind = SG_STORE_CONTACT_KEYS, .account_id = account, .list_id = list};
  int rc = sg_engine_contacts(rest->engine, &op, keys_cb, x);
  if (rc != 0) {
    sg__rest_engine_error(req, rc);
    export_free(x);
  }
}

int sg__rest_contacts_export_register(sg_rest_t *rest) {
  return sg_http_server_route(rest->srv, "GET", "/v1/contacts/export",
                              export_cb, rest);
}
