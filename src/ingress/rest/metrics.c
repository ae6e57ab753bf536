/* metrics.c - GET /metrics: the engine's, the store's, the connectors' and
 * the HTTP server's counters in the Prometheus text exposition format
 * (version 0.0.4): "# HELP" and "# TYPE" before each family, names
 * starting smsgate_, counters ending _total, times in seconds.
 *
 * It reads counters that are already in memory (sg_engine_metrics, the
 * server's stats): no I/O and no store request per scrape, except the
 * queue and outcome figures of metrics_ops.c, read from the store at most
 * every 10 s (a scrape that finds them older waits for the refresh). It must never
 * print a label value unescaped (connector names come from the
 * configuration).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "ingress/rest/metrics_ops.h"
#include "ingress/rest/nodes.h"
#include "ingress/rest/rest_int.h"

/* ---- the text buffer ----------------------------------------------------- */

void sg__rest_buf_printf(sg__rest_buf_t *b, const char *fmt, ...) {
  va_list ap;
  if (b->oom)
    return;
  for (;;) {
    size_t room = b->cap - b->len;
    va_start(ap, fmt);
    int n = vsnprintf(b->p != NULL ? b->p + b->len : NULL, room, fmt, ap);
    va_end(ap);
    if (n < 0) {
      b->oom = true;
      return;
    }
    if ((size_t)n < room) {
      b->len += (size_t)n;
      return;
    }
    char *p = sg_grow(b->p, &b->cap, b->len + (size_t)n + 1, 8192, 1);
    if (p == NULL) {
      b->oom = true;
      return;
    }
    b->p = p;
  }
}

/* ---- families ------------------------------------------------------------ */

static void family(sg__rest_buf_t *b, const char *name, const char *type,
                   const char *help) {
  sg__rest_buf_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name,
                      type);
}

static void sample(sg__rest_buf_t *b, const char *name, uint64_t v) {
  sg__rest_buf_printf(b, "%s %llu\n", name, (unsigned long long)v);
}

/* A label value with '\', '"' and newline escaped (exposition format). */
static void label_value(const char *s, char *out, size_t cap) {
  size_t o = 0;
  for (; s != NULL && *s != '\0' && o + 3 < cap; s++) {
    if (*s == '\\' || *s == '"' || *s == '\n') {
      out[o++] = '\\';
      out[o++] = *s == '\n' ? 'n' : *s;
    } else {
      out[o++] = *s;
    }
  }
  out[o] = '\0';
}

static void by_status(sg__rest_buf_t *b, const char *name, const char *help,
                      const uint64_t *counts) {
  family(b, name, "gauge", help);
  for (unsigned s = 1; s < SG_MSG_STATUS_COUNT; s++)
    sg__rest_buf_printf(b, "%s{status=\"%s\"} %llu\n", name,
                        sg_store_status_name((sg_msg_status_t)s),
                        (unsigned long long)counts[s]);
}

static void latency(sg__rest_buf_t *b, const char *name, const char *help,
                    const sg_engine_latency_t *l) {
  family(b, name, "histogram", help);
  for (unsigned i = 0; i < SG_ENGINE_LAT_BUCKETS; i++) {
    if (l->bounds[i] == UINT32_MAX || i + 1 == SG_ENGINE_LAT_BUCKETS) {
      sg__rest_buf_printf(b, "%s_bucket{le=\"+Inf\"} %llu\n", name,
                          (unsigned long long)l->n);
      break;
    }
    sg__rest_buf_printf(b, "%s_bucket{le=\"%g\"} %llu\n", name,
                        l->bounds[i] / 1000.0, (unsigned long long)l->count[i]);
  }
  sg__rest_buf_printf(b, "%s_sum %.6f\n%s_count %llu\n", name,
                      l->sum_ms / 1000.0, name, (unsigned long long)l->n);
}

static void engine_counters(sg__rest_buf_t *b, const sg_engine_metrics_t *m) {
  static const struct {
    const char *name, *type, *help;
    size_t off;
  } rows[] = {
#define C(n, t, h, f) {n, t, h, offsetof(sg_engine_metrics_t, f)}
      C("smsgate_requests_total", "counter", "Send requests received.",
        requests),
      C("smsgate_requests_failed_total", "counter",
        "Send requests refused as a whole.", requests_failed),
      C("smsgate_messages_accepted_total", "counter",
        "Messages stored (one per accepted recipient).", accepted),
      C("smsgate_recipients_rejected_total", "counter",
        "Recipients refused (invalid numbers).", rejected),
      C("smsgate_parts_accepted_total", "counter", "Parts stored.",
        parts_accepted),
      C("smsgate_dlr_received_total", "counter", "Delivery receipts received.",
        dlr_received),
      C("smsgate_dlr_matched_total", "counter",
        "Delivery receipts matched to a part.", dlr_matched),
      C("smsgate_dlr_unmatched_total", "counter",
        "Delivery receipts that matched no part.", dlr_unmatched),
      C("smsgate_receipts_held_total", "counter",
        "Delivery receipts that matched no part yet, stored and answered.",
        rcpt_held),
      C("smsgate_receipts_applied_later_total", "counter",
        "Held delivery receipts applied by their part's later send result.",
        rcpt_applied_later),
      C("smsgate_receipts_expired_total", "counter",
        "Held delivery receipts deleted unapplied after their keep time.",
        rcpt_expired),
      C("smsgate_inbound_received_total", "counter",
        "Inbound message parts received.", inbound_received),
      C("smsgate_inbound_stored_total", "counter", "Inbound messages stored.",
        inbound_stored),
      C("smsgate_webhooks_sent_total", "counter", "Webhooks delivered.",
        webhooks_sent),
      C("smsgate_webhooks_retried_total", "counter",
        "Webhook attempts that failed and will be retried.", webhooks_retried),
      C("smsgate_webhooks_given_up_total", "counter",
        "Webhooks given up after their last retry.", webhooks_failed),
#undef C
  };
  for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
    uint64_t v;
    memcpy(&v, (const char *)m + rows[i].off, sizeof(v));
    family(b, rows[i].name, rows[i].type, rows[i].help);
    sample(b, rows[i].name, v);
  }
  family(b, "smsgate_submits_pending", "gauge",
         "Send requests waiting for their commit.");
  sample(b, "smsgate_submits_pending", m->submits_pending);
  family(b, "smsgate_webhooks_inflight", "gauge",
         "Webhook requests in flight.");
  sample(b, "smsgate_webhooks_inflight", m->webhooks_inflight);
  family(b, "smsgate_webhooks_queued", "gauge",
         "Webhook deliveries claimed from the store, waiting for a request "
         "slot (webhooks.claim_ahead).");
  sample(b, "smsgate_webhooks_queued", m->webhooks_queued);
}

static void store_metrics(sg__rest_buf_t *b, const sg_engine_metrics_t *m) {
  by_status(b, "smsgate_messages",
            "Messages in the store by status, as counted "
            "smsgate_store_counts_age_seconds ago.",
            m->counts.messages);
  by_status(b, "smsgate_parts",
            "Message parts in the store by status, as counted "
            "smsgate_store_counts_age_seconds ago.",
            m->counts.parts);
  family(b, "smsgate_webhooks_pending", "gauge",
         "Webhook deliveries waiting or being sent.");
  sample(b, "smsgate_webhooks_pending", m->counts.webhooks_pending);
  family(b, "smsgate_webhooks_failed", "gauge",
         "Webhook deliveries given up, in the store.");
  sample(b, "smsgate_webhooks_failed", m->counts.webhooks_failed);
  family(b, "smsgate_inbound_messages", "gauge",
         "Inbound messages in the store.");
  sample(b, "smsgate_inbound_messages", m->counts.inbound);
  /* The counts above are read every 5 s, or every hundred times what the
   * last count took when that is longer (engine.c, sg__counts_gap). */
  if (m->counts_ms > 0) {
    family(b, "smsgate_store_counts_age_seconds", "gauge",
           "Seconds since smsgate_messages, smsgate_parts, "
           "smsgate_webhooks_pending/failed and smsgate_inbound_messages "
           "were counted in the store.");
    sample(b, "smsgate_store_counts_age_seconds",
           m->now_ms > m->counts_ms
               ? (uint64_t)(m->now_ms - m->counts_ms) / 1000u
               : 0);
  }
  family(b, "smsgate_store_counts_timeouts_total", "counter",
         "Counts for the gauges above that the store cancelled at their "
         "statement timeout (PostgreSQL); the gauges then keep the last "
         "figures and smsgate_store_counts_age_seconds grows.");
  sample(b, "smsgate_store_counts_timeouts_total", m->counts_timeouts);
  family(b, "smsgate_store_commits_total", "counter",
         "Store write transactions committed.");
  sample(b, "smsgate_store_commits_total", m->store.commits);
  family(b, "smsgate_store_failed_commits_total", "counter",
         "Store write transactions that failed.");
  sample(b, "smsgate_store_failed_commits_total", m->store.failed_commits);
  family(b, "smsgate_store_writes_total", "counter",
         "Store write requests committed.");
  sample(b, "smsgate_store_writes_total", m->store.writes);
  family(b, "smsgate_store_commit_seconds_total", "counter",
         "Time spent committing.");
  sg__rest_buf_printf(b, "smsgate_store_commit_seconds_total %.6f\n",
                      m->store.commit_us_total / 1e6);
  family(b, "smsgate_store_max_group", "gauge",
         "Most writes committed in one transaction.");
  sample(b, "smsgate_store_max_group", m->store.max_group);
  family(b, "smsgate_store_queue_depth", "gauge",
         "Store requests waiting for the writer or a reader.");
  sg__rest_buf_printf(b,
                      "smsgate_store_queue_depth{queue=\"writes\"} %u\n"
                      "smsgate_store_queue_depth{queue=\"reads\"} %u\n",
                      m->store.pending_writes, m->store.pending_reads);
}

static const char *state_name(sg_conn_state_t s) {
  switch (s) {
  case SG_CONN_DOWN:
    return "down";
  case SG_CONN_CONNECTING:
    return "connecting";
  case SG_CONN_UP:
    return "up";
  case SG_CONN_PAUSED:
    return "paused";
  case SG_CONN_STOPPED:
    return "stopped";
  }
  return "unknown";
}

/* One family per connector gauge or counter, a sample per connector. */
static void
connector_family(sg__rest_buf_t *b, const sg_engine_metrics_t *m,
                 const char *name, const char *type, const char *help,
                 uint64_t (*get)(const sg_engine_conn_metrics_t *)) {
  char label[160];
  family(b, name, type, help);
  for (size_t i = 0; i < m->n_connectors; i++) {
    label_value(m->connectors[i].name, label, sizeof(label));
    sg__rest_buf_printf(b, "%s{connector=\"%s\"} %llu\n", name, label,
                        (unsigned long long)get(&m->connectors[i]));
  }
}

#define GETTER(fn, expr)                                                       \
  static uint64_t fn(const sg_engine_conn_metrics_t *c) {                      \
    return (expr);                                                             \
  }
GETTER(g_up, c->state == SG_CONN_UP)
GETTER(g_binds, c->stats.binds_up)
GETTER(g_window, c->stats.window_used)
GETTER(g_queued, c->stats.queued)
GETTER(g_claimed, c->claimed)
GETTER(g_backlog, c->backlog)
GETTER(g_submitted, c->stats.submitted)
GETTER(g_sent, c->stats.sent_ok)
GETTER(g_temp, c->stats.temp_errors)
GETTER(g_perm, c->stats.perm_errors)
GETTER(g_throttled, c->stats.throttled)
GETTER(g_timeouts, c->stats.timeouts)
GETTER(g_reconnects, c->stats.reconnects)
GETTER(g_dlr, c->stats.dlr_received)
#undef GETTER

static void connector_metrics(sg__rest_buf_t *b, const sg_engine_metrics_t *m) {
  char label[160];
  family(b, "smsgate_connector_state", "gauge",
         "Connector state: 1 for the state it is in.");
  for (size_t i = 0; i < m->n_connectors; i++) {
    label_value(m->connectors[i].name, label, sizeof(label));
    for (int s = SG_CONN_DOWN; s <= SG_CONN_STOPPED; s++)
      sg__rest_buf_printf(b,
                          "smsgate_connector_state{connector=\"%s\","
                          "state=\"%s\"} %d\n",
                          label, state_name((sg_conn_state_t)s),
                          m->connectors[i].state == (sg_conn_state_t)s);
  }
  static const struct {
    const char *name, *type, *help;
    uint64_t (*get)(const sg_engine_conn_metrics_t *);
  } rows[] = {
      {"smsgate_connector_up", "gauge", "1 when the connector can send.", g_up},
      {"smsgate_connector_binds_up", "gauge", "Sessions bound.", g_binds},
      {"smsgate_connector_window_used", "gauge",
       "Requests in flight on the connector's windows.", g_window},
      {"smsgate_connector_queue_depth", "gauge",
       "Parts the connector holds, not yet sent.", g_queued},
      {"smsgate_connector_claimed", "gauge",
       "Parts taken from the store for the connector, not yet answered.",
       g_claimed},
      {"smsgate_connector_backlog", "gauge",
       "Queued parts routed to the connector (estimate).", g_backlog},
      {"smsgate_connector_submitted_total", "counter",
       "Parts sent (first attempts).", g_submitted},
      {"smsgate_connector_sent_total", "counter", "Parts the operator took.",
       g_sent},
      {"smsgate_connector_temp_errors_total", "counter",
       "Temporary errors answered by the operator.", g_temp},
      {"smsgate_connector_perm_errors_total", "counter",
       "Permanent errors answered by the operator.", g_perm},
      {"smsgate_connector_throttled_total", "counter",
       "Throttling answers from the operator.", g_throttled},
      {"smsgate_connector_timeouts_total", "counter",
       "Requests the operator did not answer in time.", g_timeouts},
      {"smsgate_connector_reconnects_total", "counter", "Reconnections.",
       g_reconnects},
      {"smsgate_connector_dlr_received_total", "counter",
       "Delivery receipts received.", g_dlr},
  };
  for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
    connector_family(b, m, rows[i].name, rows[i].type, rows[i].help,
                     rows[i].get);
}

/* A histogram over sg_http_lat_bounds_us from per-bucket counts. */
static void lat_hist(sg__rest_buf_t *b, const char *name, const char *help,
                     const uint64_t *counts, uint64_t sum_us) {
  family(b, name, "histogram", help);
  unsigned long long cum = 0;
  for (unsigned i = 0; i < SG_HTTP_LAT_BUCKETS; i++) {
    cum += counts[i];
    sg__rest_buf_printf(b, "%s_bucket{le=\"%g\"} %llu\n", name,
                        sg_http_lat_bounds_us[i] / 1e6, cum);
  }
  cum += counts[SG_HTTP_LAT_BUCKETS];
  sg__rest_buf_printf(b,
                      "%s_bucket{le=\"+Inf\"} %llu\n%s_sum %.6f\n"
                      "%s_count %llu\n",
                      name, cum, name, sum_us / 1e6, name, cum);
}

static void http_metrics(sg__rest_buf_t *b, const sg_http_server_t *srv) {
  sg_http_server_stats_t s;
  sg_http_server_stats(srv, &s);
  family(b, "smsgate_http_connections_open", "gauge", "HTTP connections open.");
  sample(b, "smsgate_http_connections_open", s.connections_open);
  family(b, "smsgate_http_connections_total", "counter",
         "HTTP connections accepted.");
  sample(b, "smsgate_http_connections_total", s.connections_accepted);
  family(b, "smsgate_http_requests_total", "counter",
         "HTTP requests handed to a handler.");
  sample(b, "smsgate_http_requests_total", s.requests);
  family(b, "smsgate_http_rejected_total", "counter",
         "HTTP requests answered by the server itself (400/404/405/413).");
  sample(b, "smsgate_http_rejected_total", s.rejected);
  family(b, "smsgate_http_requests_waiting", "gauge",
         "HTTP requests waiting for their answer.");
  sample(b, "smsgate_http_requests_waiting", s.waiting);
  family(b, "smsgate_http_cancelled_total", "counter",
         "Clients gone before their answer.");
  sample(b, "smsgate_http_cancelled_total", s.cancelled);
  lat_hist(b, "smsgate_http_handler_seconds",
           "Requests answered after their handler returned, by the time from "
           "the request's arrival to its answer.",
           s.handler_hist, s.handler_us);
  lat_hist(b, "smsgate_http_answer_seconds",
           "Requests answered after their handler returned, by the time from "
           "the answer to its last byte sent.",
           s.answer_hist, s.answer_us);
  lat_hist(b, "smsgate_http_resume_seconds",
           "Runs of the HTTP server after answers to suspended requests, by "
           "the time from the first of them to the run.",
           s.resume_hist, s.resume_us);
}

void sg__rest_metrics_cb(sg_http_req_t *req, void *data) {
  sg_rest_t *rest = data;
  if (sg__rest_metrics_defer(rest, req))
    return; /* called again once the store figures are read */
  sg_engine_metrics_t m;
  memset(&m, 0, sizeof(m));
  sg_engine_metrics(rest->engine, &m);
  sg__rest_buf_t b = {0};
  engine_counters(&b, &m);
  latency(&b, "smsgate_submit_latency_seconds",
          "From a send request to its commit.", &m.submit_latency);
  latency(&b, "smsgate_send_latency_seconds",
          "From a part's claim to the connector's answer.", &m.send_latency);
  store_metrics(&b, &m);
  connector_metrics(&b, &m);
  sg__rest_metrics_links(&b, &m);
  sg__rest_metrics_ops(&b, rest, &m);
  sg__rest_metrics_velocity(&b, rest);
  sg__rest_metrics_nodes(&b, rest);
  http_metrics(&b, rest->srv);
  if (b.oom)
    sg__rest_error(req, 503, "unavailable", "out of memory", NULL, 1);
  else
    sg_http_respond(req, 200, "text/plain; version=0.0.4; charset=utf-8", b.p,
                    b.len, NULL);
  sg_free(b.p);
}
