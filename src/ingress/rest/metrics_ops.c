/* metrics_ops.c - the /metrics families an operator needs beyond the
 * engine's counters: each connector's queue depth and oldest queued
 * message's age, parts by outcome, account, connector and error code (both
 * read from the store, at most every 10 s, whatever the scrape rate), each
 * connector's response latency histogram, results, rate and unknown
 * outcomes, the store's reads, reruns and writer CPU, and the process's
 * memory, open descriptors and CPU time.
 *
 * The store is read through the engine (engine/ops.h) and a scrape waits
 * for a refresh that is due; everything else is in memory or in /proc.
 * This file must never print a label value unescaped, nor block the loop
 * on anything but /proc.
 */
#include "ingress/rest/metrics_ops.h"

#include <dirent.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "core/alloc.h"
#include "engine/ops.h"

#define CACHE_MS 10000

typedef struct qrow {
  char *connector;
  uint64_t n[4]; /* scheduled, queued, sending, sent */
  int64_t oldest_queued_ms;
} qrow_t;

typedef struct orow {
  char *account, *connector;
  sg_msg_status_t status;
  int32_t code;
  uint64_t parts;
} orow_t;

typedef struct sg__rest_mcache {
  int64_t at_ms; /* when the figures were read; 0: never */
  bool busy;
  qrow_t *q;
  size_t nq;
  orow_t *o;
  size_t no;
  sg_http_req_t **waiting;
  size_t n_waiting, cap_waiting;
} mcache_t;

/* ---- the cache ----------------------------------------------------------- */

static void free_rows(mcache_t *c) {
  for (size_t i = 0; i < c->nq; i++)
    sg_free(c->q[i].connector);
  for (size_t i = 0; i < c->no; i++) {
    sg_free(c->o[i].account);
    sg_free(c->o[i].connector);
  }
  sg_free(c->q);
  sg_free(c->o);
  c->q = NULL;
  c->o = NULL;
  c->nq = c->no = 0;
}

void sg__rest_metrics_ops_free(sg_rest_t *rest) {
  mcache_t *c = rest->mcache;
  if (c == NULL)
    return;
  free_rows(c);
  sg_free(c->waiting);
  sg_free(c);
  rest->mcache = NULL;
}

/* The refresh is over (or failed): answer every scrape that waited. */
static void refresh_done(sg_rest_t *rest, int64_t now) {
  mcache_t *c = rest->mcache;
  sg_http_req_t **w = c->waiting;
  size_t n = c->n_waiting;
  c->waiting = NULL;
  c->n_waiting = c->cap_waiting = 0;
  c->at_ms = now > 0 ? now : 1;
  c->busy = false;
  for (size_t i = 0; i < n; i++)
    sg__rest_metrics_cb(w[i], rest);
  sg_free(w);
}

static int64_t now_ms(sg_rest_t *rest) {
  sg_engine_metrics_t m;
  memset(&m, 0, sizeof m);
  sg_engine_metrics(rest->engine, &m);
  return m.now_ms;
}

static void copy_outcomes(sg_rest_t *rest, const sg_store_outcome_row_t *rows,
                          size_t n) {
  mcache_t *c = rest->mcache;
  c->o = sg_calloc(n ? n : 1, sizeof *c->o);
  for (size_t i = 0; c->o != NULL && i < n; i++) {
    const sg_engine_account_t *a =
        sg_engine_account_by_id(rest->engine, rows[i].account_id);
    char id[32];
    snprintf(id, sizeof id, "%lld", (long long)rows[i].account_id);
    orow_t *o = &c->o[c->no];
    o->account = sg_strdup(a != NULL && a->name != NULL ? a->name : id);
    o->connector = sg_strdup(rows[i].connector);
    o->status = rows[i].status;
    o->code = rows[i].error_code;
    o->parts = rows[i].parts;
    c->no++;
    if (o->account == NULL || o->connector == NULL)
      break; /* out of memory: what was copied stays */
  }
}

static void outcomes_done(sg_engine_t *e, int status,
                          const sg_store_outcome_row_t *rows, size_t n,
                          void *ud) {
  (void)e;
  sg_rest_t *rest = ud;
  if (status == 0)
    copy_outcomes(rest, rows, n);
  refresh_done(rest, now_ms(rest));
}

static void copy_queues(mcache_t *c, const sg_engine_queue_t *q, size_t n) {
  c->q = sg_calloc(n ? n : 1, sizeof *c->q);
  for (size_t i = 0; c->q != NULL && i < n; i++) {
    qrow_t *r = &c->q[c->nq];
    r->connector = sg_strdup(q[i].name);
    if (r->connector == NULL)
      break;
    r->n[0] = q[i].scheduled;
    r->n[1] = q[i].queued;
    r->n[2] = q[i].sending;
    r->n[3] = q[i].sent;
    r->oldest_queued_ms = q[i].oldest_queued_ms;
    c->nq++;
  }
}

static void queues_done(sg_engine_t *e, int status, const sg_engine_queue_t *q,
                        size_t n, void *ud) {
  sg_rest_t *rest = ud;
  if (status != 0) {
    refresh_done(rest, now_ms(rest));
    return;
  }
  free_rows(rest->mcache);
  copy_queues(rest->mcache, q, n);
  if (sg_engine_outcomes(e, outcomes_done, rest) != 0)
    refresh_done(rest, now_ms(rest));
}

static bool keep_waiting(mcache_t *c, sg_http_req_t *req) {
  if (c->n_waiting == c->cap_waiting) {
    sg_http_req_t **w =
        sg_grow(c->waiting, &c->cap_waiting, c->n_waiting + 1, 8, sizeof *w);
    if (w == NULL)
      return false;
    c->waiting = w;
  }
  c->waiting[c->n_waiting++] = req;
  return true;
}

bool sg__rest_metrics_defer(sg_rest_t *rest, sg_http_req_t *req) {
  if (rest->mcache == NULL &&
      (rest->mcache = sg_calloc(1, sizeof(mcache_t))) == NULL)
    return false;
  mcache_t *c = rest->mcache;
  int64_t now = now_ms(rest);
  if (!c->busy && c->at_ms != 0 && now - c->at_ms < CACHE_MS)
    return false;
  if (!keep_waiting(c, req))
    return false;
  if (c->busy)
    return true;
  c->busy = true;
  if (sg_engine_queues(rest->engine, NULL, queues_done, rest) != 0) {
    /* Not running (starting, stopping) or busy: answer with what is. */
    c->n_waiting--;
    c->busy = false;
    c->at_ms = now > 0 ? now : 1;
    return false;
  }
  return true;
}

/* ---- printing ------------------------------------------------------------ */

static void family(sg__rest_buf_t *b, const char *name, const char *type,
                   const char *help) {
  sg__rest_buf_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name,
                      type);
}

/* A label value with '\', '"' and newline escaped (exposition format). */
static const char *esc(const char *s, char *out, size_t cap) {
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
  return out;
}

static void queue_families(sg__rest_buf_t *b, const mcache_t *c, int64_t now) {
  static const char *const st[] = {"scheduled", "queued", "sending", "sent"};
  char l[160];
  family(b, "smsgate_queue_depth", "gauge",
         "Queued parts per connector, from the store.");
  for (size_t i = 0; c != NULL && i < c->nq; i++)
    sg__rest_buf_printf(b, "smsgate_queue_depth{connector=\"%s\"} %llu\n",
                        esc(c->q[i].connector, l, sizeof l),
                        (unsigned long long)c->q[i].n[1]);
  family(b, "smsgate_queue_oldest_age_seconds", "gauge",
         "Age of the oldest queued message per connector (0: none queued).");
  for (size_t i = 0; c != NULL && i < c->nq; i++) {
    int64_t t = c->q[i].oldest_queued_ms;
    sg__rest_buf_printf(b,
                        "smsgate_queue_oldest_age_seconds{connector=\"%s\"} "
                        "%.3f\n",
                        esc(c->q[i].connector, l, sizeof l),
                        t > 0 && now > t ? (now - t) / 1000.0 : 0.0);
  }
  family(b, "smsgate_queue_parts", "gauge",
         "Parts waiting per connector and status (scheduled, queued, "
         "sending, sent waiting for a receipt).");
  for (size_t i = 0; c != NULL && i < c->nq; i++)
    for (size_t s = 0; s < 4; s++)
      sg__rest_buf_printf(b,
                          "smsgate_queue_parts{connector=\"%s\",status=\"%s\"}"
                          " %llu\n",
                          esc(c->q[i].connector, l, sizeof l), st[s],
                          (unsigned long long)c->q[i].n[s]);
  family(b, "smsgate_metrics_store_age_seconds", "gauge",
         "Age of the store figures above (they are read every 10 s).");
  sg__rest_buf_printf(b, "smsgate_metrics_store_age_seconds %.3f\n",
                      c != NULL && c->at_ms > 0 && now > c->at_ms
                          ? (now - c->at_ms) / 1000.0
                          : 0.0);
}

static void outcome_family(sg__rest_buf_t *b, const mcache_t *c) {
  char a[160], l[160];
  family(b, "smsgate_outcome_parts", "gauge",
         "Parts in the store that reached an outcome (sent, delivered, or "
         "an ending), by account, connector, status and error code.");
  for (size_t i = 0; c != NULL && i < c->no; i++)
    sg__rest_buf_printf(b,
                        "smsgate_outcome_parts{account=\"%s\",connector=\"%s\","
                        "status=\"%s\",error_code=\"%d\"} %llu\n",
                        esc(c->o[i].account, a, sizeof a),
                        esc(c->o[i].connector, l, sizeof l),
                        sg_store_status_name(c->o[i].status), (int)c->o[i].code,
                        (unsigned long long)c->o[i].parts);
}

static void latency_family(sg__rest_buf_t *b, const sg_engine_metrics_t *m) {
  static const char name[] = "smsgate_connector_response_latency_seconds";
  char l[160];
  family(b, name, "histogram",
         "From a part's claim to its connector's result, per connector.");
  for (size_t i = 0; i < m->n_connectors; i++) {
    const sg_engine_latency_t *h = &m->connectors[i].latency;
    esc(m->connectors[i].name, l, sizeof l);
    for (unsigned k = 0; k < SG_ENGINE_LAT_BUCKETS; k++) {
      if (h->bounds[k] == UINT32_MAX || k + 1 == SG_ENGINE_LAT_BUCKETS)
        break;
      sg__rest_buf_printf(b, "%s_bucket{connector=\"%s\",le=\"%g\"} %llu\n",
                          name, l, h->bounds[k] / 1000.0,
                          (unsigned long long)h->count[k]);
    }
    sg__rest_buf_printf(b,
                        "%s_bucket{connector=\"%s\",le=\"+Inf\"} %llu\n"
                        "%s_sum{connector=\"%s\"} %.6f\n"
                        "%s_count{connector=\"%s\"} %llu\n",
                        name, l, (unsigned long long)h->n, name, l,
                        h->sum_ms / 1000.0, name, l, (unsigned long long)h->n);
  }
}

static void connector_families(sg__rest_buf_t *b,
                               const sg_engine_metrics_t *m) {
  char l[160];
  family(b, "smsgate_connector_results_total", "counter",
         "Results of parts handed to each connector: sent, "
         "temporary_failure, permanent_failure, unknown (no answer).");
  for (size_t i = 0; i < m->n_connectors; i++) {
    const sg_engine_conn_metrics_t *c = &m->connectors[i];
    esc(c->name, l, sizeof l);
    sg__rest_buf_printf(
        b,
        "smsgate_connector_results_total{connector=\"%s\",result=\"sent\"} "
        "%llu\nsmsgate_connector_results_total{connector=\"%s\",result="
        "\"temporary_failure\"} %llu\nsmsgate_connector_results_total{"
        "connector=\"%s\",result=\"permanent_failure\"} %llu\n"
        "smsgate_connector_results_total{connector=\"%s\",result=\"unknown\"} "
        "%llu\n",
        l, (unsigned long long)c->results_sent, l,
        (unsigned long long)c->results_tempfail, l,
        (unsigned long long)c->results_permfail, l,
        (unsigned long long)c->results_unknown);
  }
  family(b, "smsgate_connector_unknown_retries_total", "counter",
         "Parts sent again after an unknown outcome (timeout, lost link).");
  for (size_t i = 0; i < m->n_connectors; i++)
    sg__rest_buf_printf(
        b, "smsgate_connector_unknown_retries_total{connector=\"%s\"} %llu\n",
        esc(m->connectors[i].name, l, sizeof l),
        (unsigned long long)m->connectors[i].stats.unknown_retries);
  family(b, "smsgate_connector_rate_parts_per_second", "gauge",
         "Parts sent per second over the last second.");
  for (size_t i = 0; i < m->n_connectors; i++)
    sg__rest_buf_printf(
        b, "smsgate_connector_rate_parts_per_second{connector=\"%s\"} %.3f\n",
        esc(m->connectors[i].name, l, sizeof l), m->connectors[i].rate);
  family(b, "smsgate_connector_binds_total", "gauge",
         "Sessions the connector keeps (up or not).");
  for (size_t i = 0; i < m->n_connectors; i++)
    sg__rest_buf_printf(b,
                        "smsgate_connector_binds_total{connector=\"%s\"} %u\n",
                        esc(m->connectors[i].name, l, sizeof l),
                        m->connectors[i].stats.binds_total);
  latency_family(b, m);
}

/* A histogram from per-bucket counts (bounds[i] / scale is the le label;
 * counts[nb] is above every bound), printed cumulatively. */
static void store_hist(sg__rest_buf_t *b, const char *name, const char *help,
                       const uint32_t *bounds, unsigned nb, double scale,
                       const uint64_t *counts, double sum) {
  family(b, name, "histogram", help);
  unsigned long long cum = 0;
  for (unsigned i = 0; i < nb; i++) {
    cum += counts[i];
    sg__rest_buf_printf(b, "%s_bucket{le=\"%g\"} %llu\n", name,
                        bounds[i] / scale, cum);
  }
  cum += counts[nb];
  sg__rest_buf_printf(b, "%s_bucket{le=\"+Inf\"} %llu\n%s_sum %.6f\n"
                         "%s_count %llu\n",
                      name, cum, name, sum, name, cum);
}

/* The stages of a submit in the store (sg_store_stage_t), one histogram
 * family labelled by stage. */
static void stage_hist(sg__rest_buf_t *b, const sg_store_stats_t *s) {
  static const char name[] = "smsgate_store_stage_seconds";
  family(b, name, "histogram",
         "Where a submit's time goes in the store, by stage: queue (until the "
         "writer takes its group), run (its transaction), sync (until the "
         "log's sync released it), handoff (until the loop took it), total; "
         "and fsync (each sync of the log), checkpoint (each of the "
         "checkpointer's).");
  for (unsigned st = 0; st < SG_STORE_STAGES; st++) {
    const char *l = sg_store_stage_names[st];
    unsigned long long cum = 0;
    for (unsigned i = 0; i < SG_STORE_STAGE_BUCKETS; i++) {
      cum += s->stage_hist[st][i];
      sg__rest_buf_printf(b, "%s_bucket{stage=\"%s\",le=\"%g\"} %llu\n", name,
                          l, sg_store_stage_bounds_us[i] / 1e6, cum);
    }
    cum += s->stage_hist[st][SG_STORE_STAGE_BUCKETS];
    sg__rest_buf_printf(b,
                        "%s_bucket{stage=\"%s\",le=\"+Inf\"} %llu\n"
                        "%s_sum{stage=\"%s\"} %.6f\n"
                        "%s_count{stage=\"%s\"} %llu\n",
                        name, l, cum, name, l, s->stage_us[st] / 1e6, name, l,
                        cum);
  }
}

static void store_families(sg__rest_buf_t *b, const sg_store_stats_t *s) {
  stage_hist(b, s);
  store_hist(b, "smsgate_store_commit_duration_seconds",
             "Store write transactions by duration, failed ones included.",
             sg_store_commit_bounds_us, SG_STORE_COMMIT_BUCKETS, 1e6,
             s->commit_hist, s->commit_us_total / 1e6);
  store_hist(b, "smsgate_store_commit_batch_size",
             "Committed store transactions by write requests in each.",
             sg_store_batch_bounds, SG_STORE_BATCH_BUCKETS, 1, s->batch_hist,
             (double)s->writes);
  family(b, "smsgate_store_reads_total", "counter",
         "Store read requests answered.");
  sg__rest_buf_printf(b, "smsgate_store_reads_total %llu\n",
                      (unsigned long long)s->reads);
  family(b, "smsgate_store_reruns_total", "counter",
         "Write groups run again to undo a request that failed.");
  sg__rest_buf_printf(b, "smsgate_store_reruns_total %llu\n",
                      (unsigned long long)s->reruns);
  family(b, "smsgate_store_lost_races_total", "counter",
         "PostgreSQL write groups run again after a deadlock or a "
         "serialization failure with another node's writer.");
  sg__rest_buf_printf(b, "smsgate_store_lost_races_total %llu\n",
                      (unsigned long long)s->lost_races);
  family(b, "smsgate_store_lost_races_failed_total", "counter",
         "PostgreSQL write groups that still lost their race at the last try "
         "(every request in them failed, nothing written).");
  sg__rest_buf_printf(b, "smsgate_store_lost_races_failed_total %llu\n",
                      (unsigned long long)s->races_lost_for_good);
  family(b, "smsgate_store_writer_cpu_seconds_total", "counter",
         "CPU time of the store's writer inside its transactions.");
  sg__rest_buf_printf(b, "smsgate_store_writer_cpu_seconds_total %.6f\n",
                      s->writer_cpu_us / 1e6);
}

/* Open descriptors: the entries of /proc/self/fd (its own included). */
static long open_fds(void) {
  DIR *d = opendir("/proc/self/fd");
  if (d == NULL)
    return -1;
  long n = 0;
  struct dirent *e;
  while ((e = readdir(d)) != NULL)
    n += e->d_name[0] != '.';
  closedir(d);
  return n - 1;
}

static void process_families(sg__rest_buf_t *b) {
  unsigned long vm = 0, rss = 0;
  FILE *f = fopen("/proc/self/statm", "r");
  if (f != NULL) {
    if (fscanf(f, "%lu %lu", &vm, &rss) != 2)
      vm = rss = 0;
    fclose(f);
  }
  double page = (double)sysconf(_SC_PAGESIZE);
  struct rlimit rl;
  struct rusage ru;
  memset(&rl, 0, sizeof rl);
  memset(&ru, 0, sizeof ru);
  getrlimit(RLIMIT_NOFILE, &rl);
  getrusage(RUSAGE_SELF, &ru);
  family(b, "smsgate_process_resident_memory_bytes", "gauge",
         "Resident memory of the process.");
  sg__rest_buf_printf(b, "smsgate_process_resident_memory_bytes %.0f\n",
                      rss * page);
  family(b, "smsgate_process_virtual_memory_bytes", "gauge",
         "Virtual memory of the process.");
  sg__rest_buf_printf(b, "smsgate_process_virtual_memory_bytes %.0f\n",
                      vm * page);
  family(b, "smsgate_process_open_fds", "gauge", "Open file descriptors.");
  sg__rest_buf_printf(b, "smsgate_process_open_fds %ld\n", open_fds());
  family(b, "smsgate_process_max_fds", "gauge",
         "Most file descriptors the process may open.");
  sg__rest_buf_printf(b, "smsgate_process_max_fds %llu\n",
                      (unsigned long long)rl.rlim_cur);
  family(b, "smsgate_process_cpu_seconds_total", "counter",
         "CPU time of the process, user and system.");
  sg__rest_buf_printf(b, "smsgate_process_cpu_seconds_total %.6f\n",
                      ru.ru_utime.tv_sec + ru.ru_stime.tv_sec +
                          (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6);
}

void sg__rest_metrics_ops(sg__rest_buf_t *b, sg_rest_t *rest,
                          const sg_engine_metrics_t *m) {
  queue_families(b, rest->mcache, m->now_ms);
  outcome_family(b, rest->mcache);
  connector_families(b, m);
  store_families(b, &m->store);
  process_families(b);
}
