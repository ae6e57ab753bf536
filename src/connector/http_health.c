/* http_health.c - whether an HTTP provider can be reached: after
 * cfg.down_after transport failures in a row (connection refused, no
 * answer in time; an answer of any HTTP status counts as reached) the
 * connector reports itself DOWN, hands the parts waiting in its queue back
 * to the owner as TEMPFAIL (the owner's failover sends them through
 * another connector of their route), and probes the provider's host with
 * a connection alone (TCP, and TLS for https; no request, so no message is
 * sent twice), after probe_min_ms, doubling up to probe_max_ms. The first
 * probe taken makes it UP again. `reconnect` probes at once when DOWN and,
 * when UP, makes the next request open a connection of its own.
 *
 * It must never send a part as a probe and never report UP before the
 * provider's host took a connection (or, for a URL whose host is a
 * template, before the probe interval passed).
 */
#include <stdio.h>
#include <string.h>

#include "connector/http_conn_int.h"
#include "core/alloc.h"
#include "core/error.h"

static void set_state(sg__httpc_t *hc, sg_conn_state_t st, const char *why) {
  hc->state = st;
  hc->stats.binds_up = st == SG_CONN_UP || st == SG_CONN_PAUSED ? 1 : 0;
  if (hc->base.cb.state_cb != NULL)
    hc->base.cb.state_cb(&hc->base, hc->base.owner, st, why);
}

static void up(sg__httpc_t *hc, const char *why) {
  hc->fails = 0;
  hc->probes = 0;
  uv_timer_stop(&hc->ptimer);
  if (hc->state != SG_CONN_DOWN)
    return;
  hc->stats.reconnects++;
  set_state(hc, hc->paused ? SG_CONN_PAUSED : SG_CONN_UP, why);
  sg__httpc_pump_soon(hc);
  /* Parts refused while it was down may be waiting in the owner. */
  if (hc->was_full && !hc->stopping) {
    hc->was_full = false;
    if (hc->base.cb.ready_cb != NULL)
      hc->base.cb.ready_cb(&hc->base, hc->base.owner);
  }
}

static uint64_t probe_delay(const sg__httpc_t *hc) {
  uint64_t d = hc->cfg.probe_min_ms ? hc->cfg.probe_min_ms : 1;
  for (unsigned i = 0; i < hc->probes && d < hc->cfg.probe_max_ms; i++)
    d *= 2;
  return d < hc->cfg.probe_max_ms ? d : hc->cfg.probe_max_ms;
}

static void probe_cb(uv_timer_t *t);

static void next_probe(sg__httpc_t *hc) {
  if (hc->stopping || uv_is_closing((uv_handle_t *)&hc->ptimer))
    return;
  uv_timer_start(&hc->ptimer, probe_cb, probe_delay(hc), 0);
  hc->probes++;
}

/* The provider's scheme://host[:port]/ from its URL template, or "" when
 * the host itself is made from the message (then no probe can be made). */
static void probe_url(const sg__httpc_t *hc, char *out, size_t cap) {
  out[0] = '\0';
  const char *u = hc->http.url != NULL ? hc->http.url : "";
  const char *sep = strstr(u, "://");
  if (sep == NULL)
    return;
  const char *host = sep + 3;
  size_t n = strcspn(host, "/?#");
  if (memchr(host, '{', n) != NULL || (size_t)(host - u) + n + 2 > cap)
    return;
  snprintf(out, cap, "%.*s/", (int)((host - u) + n), u);
}

static void probe_cb(uv_timer_t *t) {
  sg__httpc_t *hc = t->data;
  if (hc->stopping || hc->state != SG_CONN_DOWN || hc->probe != NULL)
    return;
  char url[SG__HTTPC_URL_MAX];
  probe_url(hc, url, sizeof url);
  if (url[0] == '\0') { /* a templated host: let the next request try */
    up(hc, "probe interval passed");
    return;
  }
  sg__httpc_req_t *r = sg_calloc(1, sizeof *r);
  if (r == NULL || sg__httpc_curl_probe(hc, r, url) != 0) {
    sg_free(r);
    next_probe(hc);
    return;
  }
  r->probe = true;
  r->hc = hc;
  hc->probe = r;
}

void sg__httpc_probe_done(sg__httpc_t *hc, sg__httpc_req_t *r, CURLcode code) {
  char why[CURL_ERROR_SIZE + 64];
  snprintf(why, sizeof why, "%s",
           r->curl_err[0] ? r->curl_err : curl_easy_strerror(code));
  curl_easy_cleanup(r->easy);
  sg_free(r);
  hc->probe = NULL;
  if (code == CURLE_OK)
    up(hc, "the provider takes connections again");
  else
    next_probe(hc);
}

void sg__httpc_health_answer(sg__httpc_t *hc) {
  if (hc->fails != 0 || hc->state == SG_CONN_DOWN)
    up(hc, "the provider answered");
}

void sg__httpc_health_failure(sg__httpc_t *hc, const char *why) {
  hc->fails++;
  if (hc->stopping || hc->state == SG_CONN_DOWN ||
      hc->state == SG_CONN_STOPPED || hc->fails < hc->cfg.down_after)
    return;
  char reason[CURL_ERROR_SIZE + 96];
  snprintf(reason, sizeof reason, "%u transport failures in a row: %s",
           hc->fails, why);
  hc->probes = 0;
  set_state(hc, SG_CONN_DOWN, reason);
  sg__httpc_fail_waiting(hc, "connector down: the provider cannot be reached");
  next_probe(hc);
}

void sg__httpc_health_start(sg__httpc_t *hc) {
  uv_timer_init(hc->loop, &hc->ptimer);
  hc->ptimer.data = hc;
}

void sg__httpc_health_stop(sg__httpc_t *hc, uv_close_cb closed_cb) {
  if (hc->probe != NULL) {
    curl_multi_remove_handle(hc->multi, hc->probe->easy);
    curl_easy_cleanup(hc->probe->easy);
    sg_free(hc->probe);
    hc->probe = NULL;
  }
  hc->closing++;
  uv_close((uv_handle_t *)&hc->ptimer, closed_cb);
}

int sg__httpc_reconnect(sg_connector_t *c) {
  sg__httpc_t *hc = (sg__httpc_t *)c;
  if (hc->stopping || hc->state == SG_CONN_STOPPED ||
      hc->state == SG_CONN_CONNECTING)
    return SG_ESTATE;
  hc->fresh = true;
  if (hc->state != SG_CONN_DOWN) {
    hc->stats.reconnects++;
    hc->fails = 0;
    return 0;
  }
  hc->probes = 0;
  if (hc->probe == NULL) {
    uv_timer_stop(&hc->ptimer);
    uv_timer_start(&hc->ptimer, probe_cb, 0, 0);
  }
  return 0;
}
