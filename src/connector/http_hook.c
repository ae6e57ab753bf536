/* http_hook.c - delivery receipts that an HTTP provider posts to smsgate
 * (/v1/hooks/provider/{connector}): the shared secret or HMAC checked, the
 * id, status and error read by the connector's mapping from the query, a
 * form body or a JSON body, the receipt handed to the owner's dlr_cb, and
 * the HTTP answer held until the owner says the receipt is stored.
 *
 * It must never answer a receipt as taken before the owner's ack (the
 * provider would not send it again), and never put a secret into an error.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>
#include <sodium.h>

#include "connector/http_conn_int.h"
#include "core/alloc.h"
#include "core/error.h"

#define FIELD_MAX 256

static int refuse(sg_http_hook_err_t *err, unsigned status, const char *code,
                  const char *field, const char *fmt, const char *arg) {
  err->status = status;
  err->code = code;
  snprintf(err->message, sizeof err->message, fmt, arg);
  snprintf(err->field, sizeof err->field, "%s", field ? field : "");
  return status == 401 ? SG_EPERM : SG_EINVAL;
}

static bool is_json(const sg_http_hook_req_t *q) {
  return q->content_type != NULL &&
         strncasecmp(q->content_type, "application/json", 16) == 0;
}

static bool is_form(const sg_http_hook_req_t *q) {
  return q->content_type != NULL &&
         strncasecmp(q->content_type, "application/x-www-form-urlencoded",
                     33) == 0;
}

/* Field `spec` (a parameter name, or a JSON path into j) into out.
 * Returns 0, SG_ENOENT or SG_EINVAL (a path naming no text). */
static int field(const sg_http_hook_req_t *q, json_t *j, const char *spec,
                 char *out, size_t cap) {
  if (spec[0] == '$') {
    sg_jsonpath_t p;
    if (j == NULL || sg_jsonpath_compile(spec, strlen(spec), &p, NULL) != 0)
      return SG_ENOENT;
    int rc = sg_jsonpath_get(&p, j, out, cap);
    return rc == SG_ENOENT ? SG_ENOENT : rc == 0 ? 0 : SG_EINVAL;
  }
  int rc = SG_ENOENT;
  if (is_form(q))
    rc = sg__httpc_param((const char *)q->body, q->body_len, spec, out, cap);
  if (rc == SG_ENOENT)
    rc = sg__httpc_param(q->query, strlen(q->query), spec, out, cap);
  return rc >= 0 ? 0 : rc == SG_ENOENT ? SG_ENOENT : SG_EINVAL;
}

static const char *header(const sg_http_hook_req_t *q, const char *name) {
  return q->header != NULL ? q->header(q->header_data, name) : NULL;
}

/* The shared secret, then the HMAC of the body. */
static int authenticate(const sg__httpc_t *hc, const sg_http_hook_req_t *q,
                        json_t *j, sg_http_hook_err_t *err) {
  const sg_config_http_receipt_t *rc = &hc->http.receipt;
  if (rc->secret != NULL) {
    char got[FIELD_MAX] = "";
    const char *h = rc->secret_header ? header(q, rc->secret_header) : NULL;
    if (h != NULL)
      snprintf(got, sizeof got, "%s", h);
    else if (rc->secret_header == NULL)
      field(q, j, rc->secret_param, got, sizeof got);
    size_t n = strlen(rc->secret);
    if (strlen(got) != n || sodium_memcmp(got, rc->secret, n) != 0)
      return refuse(err, 401, "unauthorized",
                    rc->secret_header ? rc->secret_header : rc->secret_param,
                    "%s", "missing or wrong shared secret");
  }
  if (rc->hmac_secret != NULL) {
    const char *sig = header(q, rc->hmac_header);
    unsigned char mac[crypto_auth_hmacsha256_BYTES];
    crypto_auth_hmacsha256_state st;
    crypto_auth_hmacsha256_init(&st, (const unsigned char *)rc->hmac_secret,
                                strlen(rc->hmac_secret));
    crypto_auth_hmacsha256_update(&st, q->body, q->body_len);
    crypto_auth_hmacsha256_final(&st, mac);
    char want[2 * sizeof mac + 1];
    sodium_bin2hex(want, sizeof want, mac, sizeof mac);
    if (sig != NULL && strncasecmp(sig, "sha256=", 7) == 0)
      sig += 7;
    char low[2 * sizeof mac + 1] = "";
    for (size_t i = 0; sig != NULL && i < sizeof low - 1 && sig[i]; i++)
      low[i] = (char)(sig[i] >= 'A' && sig[i] <= 'F' ? sig[i] + 32 : sig[i]);
    if (sig == NULL || strlen(sig) != sizeof want - 1 ||
        sodium_memcmp(low, want, sizeof want - 1) != 0)
      return refuse(err, 401, "unauthorized", rc->hmac_header,
                    "missing or wrong HMAC-SHA256 signature in %s",
                    rc->hmac_header);
  }
  return 0;
}

/* ---- held receipts --------------------------------------------------------
 */

static uint64_t hold(sg__httpc_t *hc, sg_http_hook_done_cb cb, void *data) {
  size_t i = hc->free_hook;
  while (i < hc->n_hooks && hc->hooks[i].cb != NULL)
    i++;
  if (i == hc->n_hooks) {
    if (hc->n_hooks == hc->cap_hooks) {
      sg__httpc_hook_t *g =
          sg_grow(hc->hooks, &hc->cap_hooks, hc->n_hooks + 1, 16, sizeof *g);
      if (g == NULL)
        return 0;
      hc->hooks = g;
    }
    hc->hooks[hc->n_hooks++] = (sg__httpc_hook_t){0, NULL, NULL};
  }
  sg__httpc_hook_t *h = &hc->hooks[i];
  h->gen = (h->gen + 1) ? h->gen + 1 : 1;
  h->cb = cb;
  h->data = data;
  hc->free_hook = i + 1;
  return ((uint64_t)h->gen << 32) | i;
}

void sg__httpc_hook_ack(sg__httpc_t *hc, uint64_t token, bool accepted) {
  size_t i = (size_t)(token & 0xffffffffu);
  if (i >= hc->n_hooks || hc->hooks[i].cb == NULL ||
      hc->hooks[i].gen != (uint32_t)(token >> 32))
    return;
  sg__httpc_hook_t h = hc->hooks[i];
  hc->hooks[i].cb = NULL;
  if (i < hc->free_hook)
    hc->free_hook = i;
  h.cb(h.data, accepted);
}

void sg__httpc_hooks_fail_all(sg__httpc_t *hc) {
  for (size_t i = 0; i < hc->n_hooks; i++)
    if (hc->hooks[i].cb != NULL)
      sg__httpc_hook_ack(hc, ((uint64_t)hc->hooks[i].gen << 32) | i, false);
}

/* ---- reading one receipt ------------------------------------------------- */

static int read_fields(const sg__httpc_t *hc, const sg_http_hook_req_t *q,
                       json_t *j, sg_conn_dlr_t *d, char *word,
                       sg_http_hook_err_t *err) {
  const sg_config_http_receipt_t *m = &hc->http.receipt;
  int rc = field(q, j, m->id, d->smsc_id, sizeof d->smsc_id);
  if (rc != 0 || d->smsc_id[0] == '\0')
    return refuse(err, rc == SG_ENOENT ? 400 : 422,
                  rc == SG_ENOENT ? "missing_field" : "invalid_field", m->id,
                  "the provider's message id (%s) is missing or empty", m->id);
  rc = field(q, j, m->status, word, FIELD_MAX);
  if (rc != 0)
    return refuse(err, rc == SG_ENOENT ? 400 : 422,
                  rc == SG_ENOENT ? "missing_field" : "invalid_field",
                  m->status, "the status (%s) is missing", m->status);
  int st = sg__httpc_state(m, word);
  if (st == 0)
    return refuse(err, 422, "unknown_status", m->status,
                  "unknown status word \"%.60s\"", word);
  d->state = (sg_conn_dlr_state_t)st;
  char e[FIELD_MAX];
  if (m->error != NULL && field(q, j, m->error, e, sizeof e) == 0 && e[0]) {
    char *end = NULL;
    unsigned long v = strtoul(e, &end, 10);
    if (end == e || *end != '\0' || v > 0xffffffffu)
      return refuse(err, 422, "invalid_field", m->error,
                    "the error code (%s) is not a number", m->error);
    d->error = (uint32_t)v;
  }
  return 0;
}

int sg_http_conn_receipt(sg_connector_t *c, const sg_http_hook_req_t *q,
                         sg_http_hook_done_cb done_cb, void *data,
                         sg_http_hook_err_t *err) {
  sg__httpc_t *hc = (sg__httpc_t *)c;
  memset(err, 0, sizeof *err);
  if (!sg_http_conn_is(c) || done_cb == NULL || q == NULL)
    return SG_EINVAL;
  if (hc->stopping || hc->state == SG_CONN_STOPPED) {
    refuse(err, 503, "connector_stopped", NULL, "%s",
           "the connector is stopping; send the receipt again later");
    return SG_ESTATE;
  }
  json_t *j = NULL;
  if (is_json(q)) {
    json_error_t je;
    j = json_loadb((const char *)q->body, q->body_len, 0, &je);
    if (j == NULL)
      return refuse(err, 400, "invalid_json", NULL, "the body is not JSON: %s",
                    je.text);
  }
  sg_conn_dlr_t d;
  memset(&d, 0, sizeof d);
  char word[FIELD_MAX] = "";
  int rc = authenticate(hc, q, j, err);
  if (rc == 0)
    rc = read_fields(hc, q, j, &d, word, err);
  json_decref(j);
  if (rc != 0)
    return rc;
  uint64_t token = hold(hc, done_cb, data);
  if (token == 0) {
    refuse(err, 503, "out_of_memory", NULL, "%s", "out of memory");
    return SG_ENOMEM;
  }
  /* The event keeps what was read, never the request (it may carry the
   * shared secret). */
  char raw[3 * FIELD_MAX];
  int n = snprintf(raw, sizeof raw, "id:%s stat:%s err:%u", d.smsc_id, word,
                   (unsigned)d.error);
  d.raw = raw;
  d.raw_len = n > 0 && (size_t)n < sizeof raw ? (size_t)n : strlen(raw);
  hc->stats.dlr_received++;
  hc->base.cb.dlr_cb(c, hc->base.owner, &d, token);
  return 0;
}
