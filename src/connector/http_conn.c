/* http_conn.c - the HTTP provider connector (http_conn.h): parts queued in
 * submit order, started as requests while the window and the rate allow,
 * each answer read by the rule into the part's one result; temporary
 * failures retried with back-off; stop, pause and the counters. Its
 * health (DOWN after transport failures in a row, probes, UP again) is
 * http_health.c's.
 *
 * It must never report a part as sent that the provider did not accept,
 * never resend a request whose answer it did not get (that is the owner's
 * at-least-once choice, reported as UNKNOWN), and never call result_cb
 * from inside submit. Credentials never reach a log or an event.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "connector/http_conn_int.h"
#include "core/alloc.h"
#include "core/error.h"

static const sg_connector_ops_t http_ops;

void sg_http_conn_config_default(sg_http_conn_config_t *cfg) {
  memset(cfg, 0, sizeof *cfg);
  cfg->window = 10;
  cfg->timeout_ms = 30000;
  cfg->connect_timeout_ms = 10000;
  cfg->max_retries = 3;
  cfg->retry_min_ms = 1000;
  cfg->retry_max_ms = 60000;
  cfg->down_after = 3;
  cfg->probe_min_ms = 1000;
  cfg->probe_max_ms = 30000;
}

bool sg_http_conn_is(const sg_connector_t *c) {
  return c != NULL && c->ops == &http_ops;
}

static uint64_t now_ms(const sg__httpc_t *hc) {
  return uv_now(hc->loop);
}

/* ---- copies of the configuration ----------------------------------------- */

static const char *keep(sg__httpc_t *hc, const char *s, int *rc) {
  if (s == NULL || *rc != 0)
    return s;
  char **grown =
      sg_realloc(hc->strings, (hc->n_strings + 1) * sizeof *hc->strings);
  char *copy = sg_strdup(s);
  if (grown != NULL)
    hc->strings = grown;
  if (grown == NULL || copy == NULL) {
    sg_free(copy);
    *rc = SG_ENOMEM;
    return NULL;
  }
  hc->strings[hc->n_strings++] = copy;
  return copy;
}

static int copy_http(sg__httpc_t *hc, const sg_config_conn_http_t *h) {
  int rc = 0;
  sg_config_conn_http_t *o = &hc->http;
  *o = *h;
  o->headers = NULL;
  o->n_headers = 0;
  o->accept = o->temporary = NULL;
  o->n_accept = o->n_temporary = 0;
  o->url = keep(hc, h->url, &rc);
  o->body = keep(hc, h->body, &rc);
  o->username = keep(hc, h->username, &rc);
  o->password = keep(hc, h->password, &rc);
  o->token = keep(hc, h->token, &rc);
  o->tls_ca = keep(hc, h->tls_ca, &rc);
  o->receipt_url = keep(hc, h->receipt_url, &rc);
  const char **rs[] = {&o->receipt.id,           &o->receipt.status,
                       &o->receipt.error,        &o->receipt.secret,
                       &o->receipt.secret_param, &o->receipt.secret_header,
                       &o->receipt.hmac_secret,  &o->receipt.hmac_header};
  for (size_t i = 0; i < sizeof rs / sizeof rs[0]; i++)
    *rs[i] = keep(hc, *rs[i], &rc);
  if (rc == 0 && h->receipt.n_statuses > 0) {
    o->receipt.statuses =
        sg_calloc(h->receipt.n_statuses, sizeof *o->receipt.statuses);
    if (o->receipt.statuses == NULL)
      return SG_ENOMEM;
    for (size_t i = 0; i < h->receipt.n_statuses; i++) {
      o->receipt.statuses[i].word = keep(hc, h->receipt.statuses[i].word, &rc);
      o->receipt.statuses[i].state = h->receipt.statuses[i].state;
    }
  }
  if (rc == 0 && h->n_headers > 0) {
    if (h->n_headers > SG__HTTPC_HEADERS_MAX)
      return SG_ECONFIG;
    o->headers = sg_calloc(h->n_headers, sizeof *o->headers);
    if (o->headers == NULL)
      return SG_ENOMEM;
    o->n_headers = h->n_headers;
    for (size_t i = 0; i < h->n_headers; i++) {
      o->headers[i].name = keep(hc, h->headers[i].name, &rc);
      o->headers[i].value = keep(hc, h->headers[i].value, &rc);
    }
  }
  return rc;
}

static int compile_one(const char *s, sg_httptpl_t *t) {
  return sg_httptpl_compile(s, strlen(s), t, NULL) == 0 ? 0 : SG_ECONFIG;
}

static int compile_templates(sg__httpc_t *hc) {
  const sg_config_conn_http_t *h = &hc->http;
  if (h->url == NULL)
    return SG_ECONFIG;
  int rc = compile_one(h->url, &hc->url_tpl);
  hc->has_body = h->body != NULL;
  if (rc == 0 && hc->has_body)
    rc = compile_one(h->body, &hc->body_tpl);
  hc->has_receipt_url = h->receipt_url != NULL;
  if (rc == 0 && hc->has_receipt_url)
    rc = compile_one(h->receipt_url, &hc->receipt_url_tpl);
  for (size_t i = 0; rc == 0 && i < h->n_headers; i++) {
    rc = compile_one(h->headers[i].value, &hc->header_tpl[i]);
    if (strcasecmp(h->headers[i].name, "Content-Type") == 0)
      hc->content_type_set = true;
  }
  return rc;
}

/* ---- creation ------------------------------------------------------------ */

static void free_strings(sg__httpc_t *hc) {
  for (size_t i = 0; i < hc->n_strings; i++)
    sg_free(hc->strings[i]);
  sg_free(hc->strings);
  sg_free(hc->http.headers);
  sg_free(hc->http.receipt.statuses);
}

static void pump_cb(uv_timer_t *t);

int sg_http_conn_new(uv_loop_t *loop, const sg_http_conn_config_t *cfg,
                     const sg_conn_callbacks_t *cbs, void *owner,
                     sg_connector_t **out) {
  if (loop == NULL || cfg == NULL || cfg->http == NULL || cbs == NULL ||
      out == NULL || cfg->window == 0)
    return SG_EINVAL;
  sg__httpc_t *hc = sg_calloc(1, sizeof *hc);
  if (hc == NULL)
    return SG_ENOMEM;
  hc->base.ops = &http_ops;
  snprintf(hc->base.name, sizeof hc->base.name, "%s",
           cfg->name != NULL ? cfg->name : "http");
  hc->base.cb = *cbs;
  hc->base.owner = owner;
  hc->loop = loop;
  hc->cfg = *cfg;
  hc->cfg.name = hc->base.name;
  hc->cfg.http = &hc->http;
  if (hc->cfg.connect_timeout_ms == 0 ||
      hc->cfg.connect_timeout_ms > hc->cfg.timeout_ms)
    hc->cfg.connect_timeout_ms = hc->cfg.timeout_ms;
  if (hc->cfg.retry_max_ms < hc->cfg.retry_min_ms)
    hc->cfg.retry_max_ms = hc->cfg.retry_min_ms;
  int rc = copy_http(hc, cfg->http);
  if (rc == 0)
    rc = compile_templates(hc);
  if (rc == 0)
    rc = sg__httpc_rule_init(&hc->rule, &hc->http);
  if (rc != 0) {
    free_strings(hc);
    sg_free(hc);
    return rc;
  }
  sg_throttle_config_t tc;
  sg_throttle_config_default(&tc);
  tc.limit = cfg->tps;
  sg_throttle_init(&hc->throttle, &tc, uv_now(loop));
  hc->state = SG_CONN_STOPPED;
  hc->stats.binds_total = 1;
  *out = &hc->base;
  return 0;
}

/* ---- the queue ----------------------------------------------------------- */

static size_t capacity(const sg__httpc_t *hc) {
  return (size_t)hc->cfg.window * 4 + 16;
}

static void unlink_req(sg__httpc_t *hc, sg__httpc_req_t *r) {
  if (r->prev != NULL)
    r->prev->next = r->next;
  else
    hc->head = r->next;
  if (r->next != NULL)
    r->next->prev = r->prev;
  else
    hc->tail = r->prev;
  for (sg__httpc_req_t *o = r->next; o != NULL; o = o->next)
    if (o->after == r)
      o->after = NULL;
  hc->n_reqs--;
}

static void schedule(sg__httpc_t *hc, uint64_t delay_ms) {
  if (hc->stopping || uv_is_closing((uv_handle_t *)&hc->pump))
    return;
  uint64_t due = now_ms(hc) + delay_ms;
  if (uv_is_active((uv_handle_t *)&hc->pump) &&
      uv_timer_get_due_in(&hc->pump) + now_ms(hc) <= due)
    return;
  uv_timer_start(&hc->pump, pump_cb, delay_ms, 0);
}

/* Ends req with its one result and frees it. */
static void finish(sg__httpc_t *hc, sg__httpc_req_t *r, sg_conn_outcome_t oc,
                   const char *smsc_id, unsigned status, const char *text) {
  sg_conn_result_t res;
  memset(&res, 0, sizeof res);
  res.id = r->part.id;
  res.outcome = oc;
  if (smsc_id != NULL) {
    snprintf(res.smsc_id, sizeof res.smsc_id, "%s", smsc_id);
    snprintf(res.smsc_raw_id, sizeof res.smsc_raw_id, "%s", smsc_id);
  }
  res.status = status;
  res.status_text = text;
  res.attempts = r->attempts;
  unlink_req(hc, r);
  sg_free(r);
  if (hc->base.cb.result_cb != NULL)
    hc->base.cb.result_cb(&hc->base, hc->base.owner, &res);
  if (hc->was_full && hc->n_reqs < capacity(hc) && !hc->stopping) {
    hc->was_full = false;
    if (hc->base.cb.ready_cb != NULL)
      hc->base.cb.ready_cb(&hc->base, hc->base.owner);
  }
}

/* Builds req's URL, headers and body from its values. */
static int build(sg__httpc_t *hc, sg__httpc_req_t *r) {
  static char buf[SG__HTTPC_BODY_MAX];
  const sg_config_conn_http_t *h = &hc->http;
  int rc = sg__httpc_values(
      &r->part, r->message_id, h->username, h->password, h->token,
      hc->has_receipt_url ? &hc->receipt_url_tpl : NULL, &r->vals);
  size_t n = 0;
  if (rc == 0)
    rc = sg_httptpl_render(&hc->url_tpl, SG_HTTPTPL_ESC_URL, r->vals.v, buf,
                           SG__HTTPC_URL_MAX, &n, NULL);
  if (rc == 0 && (r->url = sg_strndup(buf, n)) == NULL)
    rc = SG_ENOMEM;
  sg_httptpl_esc_t esc =
      h->body_type == SG_CONFIG_HTTP_BODY_JSON   ? SG_HTTPTPL_ESC_JSON
      : h->body_type == SG_CONFIG_HTTP_BODY_FORM ? SG_HTTPTPL_ESC_FORM
                                                 : SG_HTTPTPL_ESC_TEXT;
  if (rc == 0 && hc->has_body) {
    rc = sg_httptpl_render(&hc->body_tpl, esc, r->vals.v, buf, sizeof buf, &n,
                           NULL);
    if (rc == 0 && (r->body = sg_strndup(buf, n)) == NULL)
      rc = SG_ENOMEM;
  }
  for (size_t i = 0; rc == 0 && i < h->n_headers; i++) {
    size_t k = (size_t)snprintf(buf, 256, "%s: ", h->headers[i].name);
    rc = sg_httptpl_render(&hc->header_tpl[i], SG_HTTPTPL_ESC_HEADER, r->vals.v,
                           buf + k, 8192, NULL, NULL);
    struct curl_slist *l = rc == 0 ? curl_slist_append(r->headers, buf) : NULL;
    if (rc == 0 && l == NULL)
      rc = SG_ENOMEM;
    if (l != NULL)
      r->headers = l;
  }
  if (rc == 0 && hc->has_body && !hc->content_type_set) {
    const char *ct =
        esc == SG_HTTPTPL_ESC_JSON   ? "Content-Type: application/json"
        : esc == SG_HTTPTPL_ESC_FORM ? "Content-Type: "
                                       "application/x-www-form-urlencoded"
                                     : "Content-Type: text/plain; "
                                       "charset=utf-8";
    struct curl_slist *l = curl_slist_append(r->headers, ct);
    if (l == NULL)
      rc = SG_ENOMEM;
    else
      r->headers = l;
  }
  return rc;
}

static void release_request(sg__httpc_req_t *r) {
  if (r->easy != NULL)
    curl_easy_cleanup(r->easy);
  curl_slist_free_all(r->headers);
  sg_free(r->url);
  sg_free(r->body);
  r->easy = NULL;
  r->headers = NULL;
  r->url = r->body = NULL;
}

/* Starts r now. False when it could not be built (r is then finished). */
static bool start_req(sg__httpc_t *hc, sg__httpc_req_t *r) {
  r->attempts++;
  int rc = build(hc, r);
  if (rc == 0)
    rc = sg__httpc_curl_start(hc, r);
  if (rc != 0) {
    release_request(r);
    /* A part that cannot be written into the template never will be. */
    finish(hc, r, rc == SG_ENOMEM ? SG_CONN_TEMPFAIL : SG_CONN_PERMFAIL, NULL,
           0,
           rc == SG_ENOMEM ? "out of memory"
                           : "the part does not fit the request template");
    return false;
  }
  r->state = SG__HTTPC_FLIGHT;
  r->sent_ms = now_ms(hc);
  r->answer_len = 0;
  hc->n_flight++;
  if (r->attempts == 1)
    hc->stats.submitted++;
  return true;
}

/* Starts what the window, the rate and the order allow. */
static void pump(sg__httpc_t *hc) {
  if (hc->paused || hc->stopping || hc->state == SG_CONN_STOPPED ||
      hc->state == SG_CONN_DOWN)
    return;
  uint64_t now = now_ms(hc), next = UINT64_MAX;
  sg__httpc_req_t *r = hc->head;
  while (r != NULL && hc->n_flight < hc->cfg.window) {
    sg__httpc_req_t *nx = r->next;
    if (r->state == SG__HTTPC_WAIT && r->after == NULL) {
      if (r->due_ms > now) {
        if (r->due_ms - now < next)
          next = r->due_ms - now;
      } else if (!sg_throttle_take_n(&hc->throttle, 1, now)) {
        uint64_t w = sg_throttle_wait_ms(&hc->throttle, now);
        next = w > 0 ? w : 1;
        break;
      } else {
        start_req(hc, r);
      }
    }
    r = nx;
  }
  if (next != UINT64_MAX)
    schedule(hc, next);
}

static void pump_cb(uv_timer_t *t) {
  sg__httpc_t *hc = t->data;
  if (hc->state == SG_CONN_CONNECTING) {
    hc->state = SG_CONN_UP;
    hc->stats.binds_up = 1;
    if (hc->base.cb.state_cb != NULL)
      hc->base.cb.state_cb(&hc->base, hc->base.owner, SG_CONN_UP, "ready");
  }
  pump(hc);
}

/* ---- answers ------------------------------------------------------------- */

static uint64_t backoff(const sg__httpc_t *hc, unsigned attempts) {
  uint64_t d = hc->cfg.retry_min_ms;
  for (unsigned i = 1; i < attempts && d < hc->cfg.retry_max_ms; i++)
    d *= 2;
  return d < hc->cfg.retry_max_ms ? d : hc->cfg.retry_max_ms;
}

/* A temporary failure: again after a back-off, or the owner decides (at
 * once while DOWN: another connector may take it). */
static void retry_or_fail(sg__httpc_t *hc, sg__httpc_req_t *r, unsigned status,
                          const char *why) {
  if (r->attempts <= hc->cfg.max_retries && hc->state != SG_CONN_DOWN) {
    r->state = SG__HTTPC_WAIT;
    r->due_ms = now_ms(hc) + backoff(hc, r->attempts);
    schedule(hc, backoff(hc, r->attempts));
    return;
  }
  finish(hc, r, SG_CONN_TEMPFAIL, NULL, status, why);
}

/* The request reached no server: it was not sent, so it may be again. */
static bool not_sent(CURLcode code) {
  return code == CURLE_COULDNT_CONNECT || code == CURLE_COULDNT_RESOLVE_HOST ||
         code == CURLE_COULDNT_RESOLVE_PROXY ||
         code == CURLE_SSL_CONNECT_ERROR ||
         code == CURLE_PEER_FAILED_VERIFICATION;
}

static void transport_failed(sg__httpc_t *hc, sg__httpc_req_t *r,
                             CURLcode code) {
  char why[CURL_ERROR_SIZE + 64];
  snprintf(why, sizeof why, "%s",
           r->curl_err[0] ? r->curl_err : curl_easy_strerror(code));
  sg__httpc_health_failure(hc, why);
  if (not_sent(code)) {
    hc->stats.temp_errors++;
    retry_or_fail(hc, r, 0, why);
    return;
  }
  /* Sent, or perhaps: the provider may have it. */
  if (code == CURLE_OPERATION_TIMEDOUT)
    hc->stats.timeouts++;
  hc->stats.unknown_retries++;
  finish(hc, r, SG_CONN_UNKNOWN, NULL, 0, why);
}

void sg__httpc_done(sg__httpc_t *hc, sg__httpc_req_t *r, CURLcode code) {
  if (r->probe) {
    sg__httpc_probe_done(hc, r, code);
    return;
  }
  long status = 0;
  if (code == CURLE_OK)
    curl_easy_getinfo(r->easy, CURLINFO_RESPONSE_CODE, &status);
  release_request(r);
  hc->n_flight--;
  if (code != CURLE_OK) {
    transport_failed(hc, r, code);
  } else {
    sg__httpc_health_answer(hc);
    sg__httpc_answer_t a;
    sg__httpc_classify(&hc->rule, (unsigned)status, r->answer, r->answer_len,
                       &r->vals, &a);
    if (a.throttled) {
      hc->stats.throttled++;
      sg_throttle_cut(&hc->throttle, now_ms(hc));
    }
    if (a.outcome == SG_CONN_SENT) {
      hc->stats.sent_ok++;
      finish(hc, r, SG_CONN_SENT, a.id, (unsigned)status,
             a.error[0] ? a.error : NULL);
    } else if (a.outcome == SG_CONN_TEMPFAIL) {
      hc->stats.temp_errors++;
      retry_or_fail(hc, r, (unsigned)status, a.error);
    } else {
      hc->stats.perm_errors++;
      finish(hc, r, SG_CONN_PERMFAIL, NULL, (unsigned)status, a.error);
    }
  }
  pump(hc);
}

/* ---- operations ---------------------------------------------------------- */

static int http_start(sg_connector_t *c) {
  sg__httpc_t *hc = (sg__httpc_t *)c;
  if (hc->state != SG_CONN_STOPPED || hc->stopping)
    return SG_ESTATE;
  int rc = sg__httpc_curl_init(hc);
  if (rc != 0)
    return rc;
  uv_timer_init(hc->loop, &hc->pump);
  hc->pump.data = hc;
  sg__httpc_health_start(hc);
  hc->state = SG_CONN_CONNECTING;
  uv_timer_start(&hc->pump, pump_cb, 0, 0);
  return 0;
}

static int http_submit(sg_connector_t *c, const sg_conn_part_t *p) {
  sg__httpc_t *hc = (sg__httpc_t *)c;
  if (hc->stopping || hc->state == SG_CONN_STOPPED)
    return SG_ESTATE;
  if (p->ud_len > SG_SEG_UD_MAX || p->udh_len > SG_SEG_UDH_MAX)
    return SG_EINVAL;
  /* Down: a part taken now would wait here until a probe succeeds, while
   * the engine gives what it could not hand over to another connector. */
  if (hc->state == SG_CONN_DOWN) {
    hc->was_full = true; /* ready_cb when it is up again */
    return SG_EBUSY;
  }
  if (hc->n_reqs >= capacity(hc)) {
    hc->was_full = true;
    return SG_EBUSY;
  }
  sg__httpc_req_t *r = sg_calloc(1, sizeof *r);
  if (r == NULL)
    return SG_ENOMEM;
  r->hc = hc;
  r->part = *p;
  memcpy(r->ud, p->ud, p->ud_len);
  r->part.ud = r->ud;
  if (p->udh_len > 0)
    memcpy(r->udh, p->udh, p->udh_len);
  r->part.udh = p->udh_len > 0 ? r->udh : NULL;
  snprintf(r->message_id, sizeof r->message_id, "%s",
           p->message_id != NULL ? p->message_id : "");
  r->part.message_id = r->message_id;
  /* Parts of one message leave in order: wait for the last one before. */
  for (sg__httpc_req_t *o = hc->tail; o != NULL && r->message_id[0];
       o = o->prev)
    if (strcmp(o->message_id, r->message_id) == 0) {
      r->after = o;
      break;
    }
  r->prev = hc->tail;
  if (hc->tail != NULL)
    hc->tail->next = r;
  else
    hc->head = r;
  hc->tail = r;
  hc->n_reqs++;
  schedule(hc, 0);
  return 0;
}

static void http_ack(sg_connector_t *c, uint64_t token, bool accepted) {
  sg__httpc_hook_ack((sg__httpc_t *)c, token, accepted);
}

static void http_pause(sg_connector_t *c, bool paused) {
  sg__httpc_t *hc = (sg__httpc_t *)c;
  if (hc->stopping || hc->paused == paused)
    return;
  hc->paused = paused;
  sg_conn_state_t st = paused ? SG_CONN_PAUSED : SG_CONN_UP;
  if (hc->state != SG_CONN_STOPPED && hc->state != SG_CONN_CONNECTING &&
      hc->state != SG_CONN_DOWN) {
    hc->state = st;
    if (hc->base.cb.state_cb != NULL)
      hc->base.cb.state_cb(&hc->base, hc->base.owner, st,
                           paused ? "paused" : "resumed");
  }
  if (!paused)
    schedule(hc, 0);
}

static void maybe_stopped(sg__httpc_t *hc) {
  if (!hc->stopping || hc->closing > 0 || hc->state == SG_CONN_STOPPED)
    return;
  hc->state = SG_CONN_STOPPED;
  hc->stats.binds_up = 0;
  if (hc->base.cb.state_cb != NULL)
    hc->base.cb.state_cb(&hc->base, hc->base.owner, SG_CONN_STOPPED, "stopped");
  if (hc->stopped_cb != NULL)
    hc->stopped_cb(&hc->base);
}

void sg__httpc_closed(sg__httpc_t *hc) {
  hc->closing--;
  maybe_stopped(hc);
}

static void handle_closed_cb(uv_handle_t *h) {
  sg__httpc_closed(h->data);
}

static void http_stop(sg_connector_t *c, void (*stopped_cb)(sg_connector_t *)) {
  sg__httpc_t *hc = (sg__httpc_t *)c;
  if (hc->stopping)
    return;
  hc->stopped_cb = stopped_cb;
  if (hc->state == SG_CONN_STOPPED) { /* never started */
    if (stopped_cb != NULL)
      stopped_cb(c);
    return;
  }
  hc->stopping = true;
  /* Answers of requests in flight are lost with their connections. */
  while (hc->head != NULL) {
    sg__httpc_req_t *r = hc->head;
    bool flight = r->state == SG__HTTPC_FLIGHT;
    if (flight) {
      curl_multi_remove_handle(hc->multi, r->easy);
      hc->n_flight--;
    }
    release_request(r);
    finish(hc, r, flight ? SG_CONN_UNKNOWN : SG_CONN_TEMPFAIL, NULL, 0,
           flight ? "connector stopped with the request in flight"
                  : "connector stopped");
  }
  sg__httpc_hooks_fail_all(hc);
  hc->closing++; /* held until every close below is counted */
  sg__httpc_health_stop(hc, handle_closed_cb);
  sg__httpc_curl_close(hc);
  hc->closing += 2;
  uv_close((uv_handle_t *)&hc->pump, handle_closed_cb);
  uv_close((uv_handle_t *)&hc->ctimer, handle_closed_cb);
  sg__httpc_closed(hc);
}

void sg__httpc_fail_waiting(sg__httpc_t *hc, const char *why) {
  sg__httpc_req_t *r = hc->head;
  while (r != NULL) {
    sg__httpc_req_t *nx = r->next;
    if (r->state == SG__HTTPC_WAIT)
      finish(hc, r, SG_CONN_TEMPFAIL, NULL, 0, why);
    r = nx;
  }
}

void sg__httpc_pump_soon(sg__httpc_t *hc) {
  schedule(hc, 0);
}

static void http_stats(const sg_connector_t *c, sg_conn_stats_t *out) {
  const sg__httpc_t *hc = (const sg__httpc_t *)c;
  *out = hc->stats;
  out->state = hc->state;
  out->window_used = (unsigned)hc->n_flight;
  out->queued = (unsigned)(hc->n_reqs - hc->n_flight);
  out->rate_limit = hc->throttle.rate;
}

static void http_free(sg_connector_t *c) {
  sg__httpc_t *hc = (sg__httpc_t *)c;
  sg__httpc_hooks_fail_all(hc);
  sg_free(hc->hooks);
  sg__httpc_rule_close(&hc->rule);
  free_strings(hc);
  sg_free(hc);
}

static const sg_connector_ops_t http_ops = {
    .type = "http",
    .start = http_start,
    .submit = http_submit,
    .ack = http_ack,
    .pause = http_pause,
    .stop = http_stop,
    .stats = http_stats,
    .reconnect = sg__httpc_reconnect,
    .free = http_free,
};
