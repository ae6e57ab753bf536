/* serve.c - `smsgate serve [-c FILE]`: runs the gateway. Loads the
 * configuration (the built-in default without -c), opens the store (SQLite
 * in ./data/ by default; migrations and crash recovery happen there),
 * hosts the SMSC simulator when the configuration has one, starts the
 * engine with its connectors and the HTTP server with the REST API, logs one
 * line per event to stderr, and on SIGINT or SIGTERM stops taking requests,
 * lets the engine drain (in-flight store writes finish, connectors unbind,
 * parts not yet sent stay queued in the store) and exits 0.
 *
 * A thin shell: every decision is made in the engine, the store and the
 * servers; this file wires them in order and prints. It must never call
 * exit(); it returns 0 (stopped by a signal), 1 (could not start) or 2
 * (usage).
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <uv.h>

#include "cli/commands.h"
#include "cli/serve_reload.h"
#include "core/alloc.h"
#include "core/config.h"
#include "core/error.h"
#include "core/log.h"
#include "engine/engine.h"
#include "ingress/http_server.h"
#include "ingress/kannel.h"
#include "ingress/rest/reload.h"
#include "ingress/rest/rest.h"
#include "ingress/smpp_server.h"
#include "sim/smsc.h"
#include "store/nodes.h"
#include "store/store.h"

typedef struct serve {
  uv_loop_t loop;
  sg_config_t *cfg;
  sg_store_t *store;
  sg_sim_smsc_t *sim;
  sg_engine_t *engine;
  sg_http_server_t *http;
  sg_rest_t *rest;
  sg_smpp_server_t *smpps;
  sg_kannel_t *kannel; /* /cgi-bin/sendsms */
  uv_signal_t sig_int, sig_term;
  int level;  /* sg_config_log_level_t */
  int format; /* sg_config_log_format_t */
  int exit_code;
  bool stopping;
  int ingress_stopping; /* HTTP and SMPP server still draining */
  bool forced;          /* a second signal: exit without draining */
  /* Configuration reload (SIGHUP, POST /v1/admin/reload). */
  const char *config_path;
  uv_signal_t sig_hup;
  sg_serve_reload_t reloader;
  sg_rest_reload_t *rest_reload;
  bool builtin; /* the built-in default configuration (no -c) */
} serve_t;

/* ---- logging ------------------------------------------------------------- */

/* One event, one line on stderr, as text or JSON (core/log.h); subsystem
 * names the part of smsgate it comes from. */
static void log_sub(serve_t *s, int level, const char *subsystem,
                    const char *line) {
  if (level < s->level)
    return;
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  char buf[1024];
  int n = sg_log_format_line(
      buf, sizeof buf, (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000, level,
      (sg_log_format_t)s->format, subsystem, line);
  if (n > 0)
    fwrite(buf, 1, (size_t)n, stderr);
}

static void log_line(serve_t *s, int level, const char *line) {
  log_sub(s, level, "serve", line);
}

static void logf_(serve_t *s, int level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void logf_(serve_t *s, int level, const char *fmt, ...) {
  char line[512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(line, sizeof line, fmt, ap);
  va_end(ap);
  log_line(s, level, line);
}

static void engine_log(void *data, sg_engine_log_level_t level,
                       const char *line) {
  log_sub(data, (int)level, "engine", line);
}

static void sim_log(void *data, const char *line) {
  log_sub(data, SG_CONFIG_LOG_DEBUG, "simulator", line);
}

static void http_log(void *data, const char *msg) {
  log_sub(data, SG_CONFIG_LOG_WARN, "http", msg);
}

/* ---- start --------------------------------------------------------------- */

/* Creates the directory that holds the store file ("./data" for
 * "./data/smsgate.db"), one level, as the default configuration needs. */
static int make_store_dir(serve_t *s, const char *path) {
  const char *slash = strrchr(path, '/');
  if (slash == NULL || slash == path)
    return 0;
  char dir[1024];
  size_t n = (size_t)(slash - path);
  if (n >= sizeof dir)
    return 0;
  memcpy(dir, path, n);
  dir[n] = '\0';
  if (mkdir(dir, 0750) != 0 && errno != EEXIST) {
    logf_(s, SG_CONFIG_LOG_ERROR, "cannot create %s: %s", dir, strerror(errno));
    return -1;
  }
  return 0;
}

static int open_store(serve_t *s) {
  const sg_config_store_t *cs = &s->cfg->store;
  bool pg = cs->driver == SG_CONFIG_STORE_POSTGRES;
  if (!pg && make_store_dir(s, cs->path) != 0)
    return -1;
  sg_store_config_t sc;
  sg_store_config_init(&sc, pg ? cs->url : cs->path);
  sc.postgres = pg;
  sc.sync_normal = cs->synchronous == SG_CONFIG_SYNC_NORMAL;
  sc.no_sync_pipeline = !cs->sync_pipeline;
  if (cs->max_batch > 0)
    sc.max_batch = cs->max_batch;
  if (cs->unmatched_receipt_keep_ms > 0)
    sc.unmatched_keep_ms = cs->unmatched_receipt_keep_ms;
  if (cs->traffic_keep_ms > 0)
    sc.traffic_keep_ms = (int64_t)cs->traffic_keep_ms;
  if (cs->count_timeout_ms > 0)
    sc.count_timeout_ms = cs->count_timeout_ms;
  /* This node among others on the database (docs/scaling.md). */
  char node[72], addr[128];
  sc.node_name = sg_config_node_name(s->cfg, node, sizeof node);
  sc.node_version = SG_VERSION;
  snprintf(addr, sizeof addr, "%s:%u", s->cfg->http.listen.host,
           (unsigned)s->cfg->http.listen.port);
  sc.node_address = addr;
  char err[256] = "";
  /* The log names the database, never the URL (it may hold a password). */
  const char *where = pg ? "postgres" : cs->path;
  int rc = sg_store_open(&s->loop, &sc, &s->store, err, sizeof err);
  if (rc != 0) {
    logf_(s, SG_CONFIG_LOG_ERROR, "store %s: %s", where,
          err[0] ? err : sg_strerror(rc));
    return -1;
  }
  sg_store_info_t info;
  sg_store_get_info(s->store, &info);
  if (info.missing != NULL) { /* the gateway needs every kind */
    logf_(s, SG_CONFIG_LOG_ERROR,
          "store: driver %s does not run these store requests yet: %s; use "
          "driver: sqlite",
          info.backend, info.missing);
    return -1;
  }
  logf_(s, SG_CONFIG_LOG_INFO,
        "store %s (%s, schema %u, %u migration(s) applied; %llu part(s) and "
        "%llu webhook(s) left sending put back in the queue)",
        where, info.backend, info.schema_version, info.migrated,
        (unsigned long long)info.requeued_parts,
        (unsigned long long)info.requeued_webhooks);
  logf_(s, SG_CONFIG_LOG_INFO, "node %s, epoch %lld",
        sg_store_node_name(s->store), (long long)sg_store_node_epoch(s->store));
  return 0;
}

/* The configured receipt mix as the simulator's "DELIVRD=90,..." text. */
static int sim_mix(const sg_config_dlr_mix_t *m, sg_sim_dlr_mix_t *out) {
  struct {
    const char *name;
    uint32_t w;
  } e[] = {{"DELIVRD", m->delivered}, {"UNDELIV", m->undeliverable},
           {"EXPIRED", m->expired},   {"REJECTD", m->rejected},
           {"DELETED", m->deleted},   {"UNKNOWN", m->unknown},
           {"ACCEPTD", m->accepted}};
  char text[256] = "";
  size_t len = 0;
  for (size_t i = 0; i < sizeof e / sizeof e[0]; i++)
    if (e[i].w > 0)
      len += (size_t)snprintf(text + len, sizeof text - len, "%s%s=%u",
                              len ? "," : "", e[i].name, e[i].w);
  if (len == 0)
    return 0; /* the simulator's default: all delivered */
  return sg_sim_dlr_mix_parse(text, out);
}

static int start_sim(serve_t *s) {
  const sg_config_simulator_t *cs = &s->cfg->simulator;
  if (!cs->enabled)
    return 0;
  sg_sim_smsc_config_t sc;
  sg_sim_smsc_config_default(&sc);
  sc.host = cs->listen.host;
  sc.port = cs->listen.port;
  sc.system_id = cs->system_id;
  sc.password = cs->password;
  sc.dlr_delay_ms = cs->dlr_delay_ms;
  sc.latency_ms = cs->submit_delay_ms;
  sc.log_cb = sim_log;
  sc.log_user = s;
  if (sim_mix(&cs->dlr_mix, &sc.dlr_mix) != 0) {
    logf_(s, SG_CONFIG_LOG_ERROR, "simulator: bad dlr_mix");
    return -1;
  }
  char err[256] = "";
  int rc = sg_sim_smsc_new(&s->loop, &sc, &s->sim);
  if (rc == 0)
    rc = sg_sim_smsc_start(s->sim, err, sizeof err);
  if (rc != 0) {
    logf_(s, SG_CONFIG_LOG_ERROR, "simulator on %s:%u: %s", cs->listen.host,
          (unsigned)cs->listen.port, err[0] ? err : sg_strerror(rc));
    return -1;
  }
  logf_(s, SG_CONFIG_LOG_INFO,
        "simulated operator (SMSC) listening on %s:%u, receipts after %u ms",
        cs->listen.host, (unsigned)sg_sim_smsc_port(s->sim), cs->dlr_delay_ms);
  return 0;
}

static int start_http(serve_t *s) {
  const sg_config_http_t *ch = &s->cfg->http;
  sg_http_server_cfg_t hc;
  memset(&hc, 0, sizeof hc);
  hc.host = ch->listen.host;
  hc.port = ch->listen.port;
  hc.max_body = (size_t)ch->max_body;
  hc.max_connections = ch->max_connections;
  hc.idle_timeout_s = (ch->timeout_ms + 999) / 1000;
  hc.log_cb = http_log;
  hc.log_data = s;
  int rc = sg_http_server_new(&s->loop, &hc, &s->http);
  if (rc != 0) {
    logf_(s, SG_CONFIG_LOG_ERROR, "http: cannot listen on %s:%u: %s",
          ch->listen.host, (unsigned)ch->listen.port, sg_strerror(rc));
    return -1;
  }
  rc = sg_rest_register(s->http, s->engine, &s->rest);
  if (rc != 0) {
    logf_(s, SG_CONFIG_LOG_ERROR, "http: cannot add the REST API: %s",
          sg_strerror(rc));
    return -1;
  }
  rc = sg_rest_reload_register(s->http, s->rest, sg_serve_reload_run,
                               &s->reloader, &s->rest_reload);
  if (rc != 0) {
    logf_(s, SG_CONFIG_LOG_ERROR, "http: cannot add /v1/admin/reload: %s",
          sg_strerror(rc));
    return -1;
  }
  rc = sg_kannel_register(&s->loop, s->http, s->engine, &s->kannel);
  if (rc != 0) {
    logf_(s, SG_CONFIG_LOG_ERROR, "http: cannot add /cgi-bin/sendsms: %s",
          sg_strerror(rc));
    return -1;
  }
  return 0;
}

static void smpps_log(void *data, int level, const char *line) {
  log_line(data, level, line);
}

static void shutdown_begin(serve_t *s, int code);

static void smpps_started_cb(sg_smpp_server_t *srv, int status,
                             const char *error, void *data) {
  serve_t *s = data;
  if (status != 0) {
    if (status != SG_ECLOSED) {
      logf_(s, SG_CONFIG_LOG_ERROR, "smpp server: %s",
            error && error[0] ? error : sg_strerror(status));
      shutdown_begin(s, 1);
    }
    return;
  }
  const sg_config_smpp_server_t *c = &s->cfg->smpp_server;
  if (c->listen.host != NULL)
    logf_(s, SG_CONFIG_LOG_INFO, "SMPP server listening on %s:%u",
          c->listen.host, (unsigned)sg_smpp_server_port(srv, false));
  if (c->tls_listen.host != NULL)
    logf_(s, SG_CONFIG_LOG_INFO, "SMPP server (TLS) listening on %s:%u",
          c->tls_listen.host, (unsigned)sg_smpp_server_port(srv, true));
}

/* smsgate's own SMPP server, when configured. */
static int start_smpps(serve_t *s) {
  if (!s->cfg->smpp_server.enabled)
    return 0;
  char err[256] = "";
  int rc = sg_smpp_server_new(&s->loop, s->cfg, s->engine, s->store, smpps_log,
                              s, &s->smpps, err, sizeof err);
  if (rc == 0)
    rc = sg_smpp_server_start(s->smpps, smpps_started_cb, s);
  if (rc != 0) {
    logf_(s, SG_CONFIG_LOG_ERROR, "smpp server: %s",
          err[0] ? err : sg_strerror(rc));
    return -1;
  }
  return 0;
}

/* An API key as the banner shows it: the built-in default's demo keys as
 * they are, a configured key never (stdout goes to logs and journals). */
static const char *shown_key(const serve_t *s, const sg_config_account_t *a,
                             char *buf, size_t cap) {
  if (s->builtin)
    return a->api_key;
  snprintf(buf, cap, "<the api_key of %s>", a->name);
  return buf;
}

/* The URL and a curl line that sends a message with the first account
 * that has an API key. */
static void print_welcome(serve_t *s) {
  const sg_config_http_t *ch = &s->cfg->http;
  const char *host = ch->listen.host;
  bool v6 = strchr(host, ':') != NULL;
  char url[300];
  snprintf(url, sizeof url, "http://%s%s%s:%u", v6 ? "[" : "", host,
           v6 ? "]" : "", (unsigned)sg_http_server_port(s->http));
  printf("smsgate %s is running: %s\n", SG_VERSION, url);
  const char *key = NULL;
  char buf[128];
  for (size_t i = 0; i < s->cfg->n_accounts && key == NULL; i++)
    if (s->cfg->accounts[i].api_key != NULL)
      key = shown_key(s, &s->cfg->accounts[i], buf, sizeof buf);
  if (key != NULL)
    printf("Send a message:\n  curl -s %s/v1/messages -H 'Authorization: "
           "Bearer %s' -H 'Content-Type: application/json' -d '{\"to\": "
           "\"+79001234567\", \"from\": \"smsgate\", \"text\": \"Hello from "
           "smsgate\"}'\n",
           url, key);
  const sg_config_account_t *adm = NULL;
  for (size_t i = 0; i < s->cfg->n_accounts && adm == NULL; i++)
    if (s->cfg->accounts[i].admin && s->cfg->accounts[i].api_key != NULL)
      adm = &s->cfg->accounts[i];
  if (adm != NULL)
    printf("Manage accounts and API keys (admin account '%s'):\n"
           "  smsgate account list --url %s --key %s\n",
           adm->name, url, shown_key(s, adm, buf, sizeof buf));
  printf("Stop with Ctrl-C.\n");
  fflush(stdout);
}

static void shutdown_begin(serve_t *s, int code);

static void engine_started_cb(sg_engine_t *e, int status, void *ud) {
  serve_t *s = ud;
  if (status != 0) {
    logf_(s, SG_CONFIG_LOG_ERROR, "engine: cannot start: %s",
          sg_strerror(status));
    shutdown_begin(s, 1);
    return;
  }
  if (s->stopping)
    return;
  if (start_http(s) != 0 || start_smpps(s) != 0) {
    shutdown_begin(s, 1);
    return;
  }
  print_welcome(s);
}

/* ---- stop ---------------------------------------------------------------- */

static void close_signals(serve_t *s) {
  if (!uv_is_closing((uv_handle_t *)&s->sig_int)) {
    uv_close((uv_handle_t *)&s->sig_int, NULL);
    uv_close((uv_handle_t *)&s->sig_term, NULL);
    uv_close((uv_handle_t *)&s->sig_hup, NULL);
  }
}

static void store_closed_cb(void *data) {
  serve_t *s = data;
  s->store = NULL;
  logf_(s, SG_CONFIG_LOG_INFO, "stopped");
  close_signals(s);
}

static void sim_stopped_cb(sg_sim_smsc_t *sim, void *user) {
  serve_t *s = user;
  if (s->store != NULL)
    sg_store_close(s->store, store_closed_cb, s);
  else
    close_signals(s);
}

static void engine_stopped_cb(sg_engine_t *e, int status, void *ud) {
  serve_t *s = ud;
  sg_rest_free(s->rest);
  s->rest = NULL;
  sg_rest_reload_free(s->rest_reload);
  s->rest_reload = NULL;
  sg_kannel_free(s->kannel);
  s->kannel = NULL;
  if (s->sim != NULL)
    sg_sim_smsc_stop(s->sim, sim_stopped_cb, s);
  else
    sim_stopped_cb(NULL, s);
}

/* The ingresses stop first, both at once: they stop listening, and their
 * requests in flight get their answers before the engine refuses new ones
 * (an answer lost in a stop makes a client send the message again). */
static void ingress_stopped(serve_t *s) {
  if (--s->ingress_stopping > 0)
    return;
  if (s->engine == NULL || sg_engine_stop(s->engine, engine_stopped_cb, s) != 0)
    engine_stopped_cb(s->engine, 0, s);
}

static void smpps_stopped_cb(sg_smpp_server_t *srv, void *data) {
  (void)srv;
  ingress_stopped(data);
}

/* How long a stop waits for HTTP requests in flight. */
#define HTTP_DRAIN_MS 10000u

static void http_drained_cb(sg_http_server_t *srv, bool idle, void *data) {
  serve_t *s = data;
  (void)srv;
  if (!idle)
    logf_(s, SG_CONFIG_LOG_WARN,
          "HTTP requests still unanswered after %u ms: closing them",
          HTTP_DRAIN_MS);
  sg_http_server_free(s->http);
  s->http = NULL;
  ingress_stopped(s);
}

static void shutdown_begin(serve_t *s, int code) {
  if (code > s->exit_code)
    s->exit_code = code;
  if (s->stopping)
    return;
  s->stopping = true;
  s->ingress_stopping = 3; /* HTTP, SMPP server, and this call */
  if (s->http == NULL ||
      sg_http_server_drain(s->http, HTTP_DRAIN_MS, http_drained_cb, s) != 0)
    http_drained_cb(s->http, true, s);
  if (s->smpps != NULL)
    sg_smpp_server_stop(s->smpps, smpps_stopped_cb, s);
  else
    ingress_stopped(s);
  ingress_stopped(s);
}

static void signal_cb(uv_signal_t *h, int signum) {
  serve_t *s = h->data;
  if (s->stopping) {
    logf_(s, SG_CONFIG_LOG_WARN, "second signal: stopping without draining");
    uv_stop(&s->loop);
    s->forced = true;
    s->exit_code = 1;
    return;
  }
  logf_(s, SG_CONFIG_LOG_INFO, "%s: stopping (finishing in-flight work)",
        signum == SIGINT ? "SIGINT" : "SIGTERM");
  shutdown_begin(s, 0);
}

/* SIGHUP: read the configuration file again (serve_reload.h). */
static void hup_cb(uv_signal_t *h, int signum) {
  (void)signum;
  serve_t *s = h->data;
  if (s->stopping || s->http == NULL) {
    logf_(s, SG_CONFIG_LOG_WARN, "SIGHUP ignored: smsgate is %s",
          s->stopping ? "stopping" : "still starting");
    return;
  }
  logf_(s, SG_CONFIG_LOG_INFO, "SIGHUP: reloading the configuration");
  sg_serve_reload_run(&s->reloader, NULL, NULL);
}

static void reload_log(void *data, int level, const char *line) {
  log_line(data, level, line);
}

/* ---- the command --------------------------------------------------------- */

static void usage(FILE *f) {
  fprintf(f,
          "usage: smsgate serve [-c FILE]\n"
          "\n"
          "Runs the gateway: the REST API, the engine and its connectors.\n"
          "Without -c it runs the built-in default: SQLite in ./data/, the\n"
          "REST API on 127.0.0.1:8080, a simulated operator on\n"
          "127.0.0.1:2776 and one connector to it, an SMPP server on\n"
          "127.0.0.1:2775, and an account 'demo' with the API key\n"
          "'demo-key' and the SMPP system_id 'demo', password 'demo-pw'.\n"
          "The account 'admin' (API key 'admin-key') manages accounts\n"
          "and keys (smsgate account, smsgate key).\n"
          "\n"
          "  -c, --config FILE        the YAML configuration "
          "(docs/configuration.md)\n"
          "  --log-level LEVEL        debug, info, warn or error "
          "(overrides log.level)\n"
          "  --log-format FORMAT      text or json: one JSON object a line "
          "(overrides\n"
          "                           log.format)\n"
          "  -h, --help               this help\n"
          "\n"
          "SIGHUP (or POST /v1/admin/reload, smsgate reload) reads the\n"
          "configuration again and applies it while running; a file with\n"
          "errors is refused whole (docs/configuration.md \"Reloading\").\n");
}

static int load_config(serve_t *s, const char *path) {
  sg_config_errors_t *errs = sg_calloc(1, sizeof *errs);
  if (errs == NULL)
    return -1;
  int rc = path != NULL ? sg_config_load_file(path, &s->cfg, errs)
                        : sg_config_default(&s->cfg, errs);
  s->builtin = path == NULL;
  if (rc != 0) {
    sg_config_errors_print(errs, stderr);
    if (errs->count == 0)
      fprintf(stderr, "smsgate: %s: %s\n", path ? path : "configuration",
              sg_strerror(rc));
  }
  sg_free(errs);
  return rc == 0 ? 0 : -1;
}

/* What the command line says beside the configuration; -1: not given. */
typedef struct serve_args {
  const char *config;
  int log_level;
  int log_format;
} serve_args_t;

static int bad_value(const char *opt, const char *v, const char *want) {
  fprintf(stderr, "smsgate serve: %s '%s': must be %s\n", opt, v, want);
  return 2;
}

static int parse_args(int argc, char **argv, serve_args_t *a) {
  a->config = NULL;
  a->log_level = a->log_format = -1;
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
      usage(stdout);
      return 0;
    }
    if ((strcmp(argv[i], "-c") == 0 || strcmp(argv[i], "--config") == 0) &&
        i + 1 < argc) {
      a->config = argv[++i];
      continue;
    }
    if (strcmp(argv[i], "--log-level") == 0 && i + 1 < argc) {
      sg_log_level_t l;
      if (sg_log_level_parse(argv[++i], &l) != 0)
        return bad_value("--log-level", argv[i], "debug, info, warn or error");
      a->log_level = (int)l;
      continue;
    }
    if (strcmp(argv[i], "--log-format") == 0 && i + 1 < argc) {
      sg_log_format_t f;
      if (sg_log_format_parse(argv[++i], &f) != 0)
        return bad_value("--log-format", argv[i], "text or json");
      a->log_format = (int)f;
      continue;
    }
    fprintf(stderr, "smsgate serve: unknown or incomplete option '%s'\n\n",
            argv[i]);
    usage(stderr);
    return 2;
  }
  return -1;
}

static int run(serve_t *s) {
  if (open_store(s) != 0 || start_sim(s) != 0)
    return -1;
  int rc = sg_engine_new(&s->loop, s->cfg, s->store, &s->engine);
  if (rc != 0) {
    logf_(s, SG_CONFIG_LOG_ERROR, "engine: %s", sg_strerror(rc));
    return -1;
  }
  sg_engine_set_log(s->engine, (sg_engine_log_level_t)s->level, engine_log, s);
  uv_signal_init(&s->loop, &s->sig_int);
  uv_signal_init(&s->loop, &s->sig_term);
  s->sig_int.data = s->sig_term.data = s;
  uv_signal_start(&s->sig_int, signal_cb, SIGINT);
  uv_signal_start(&s->sig_term, signal_cb, SIGTERM);
  s->reloader = (sg_serve_reload_t){s->engine, s->config_path, reload_log, s};
  uv_signal_init(&s->loop, &s->sig_hup);
  s->sig_hup.data = s;
  uv_signal_start(&s->sig_hup, hup_cb, SIGHUP);
  if (sg_engine_start(s->engine, engine_started_cb, s) != 0)
    return -1;
  uv_run(&s->loop, UV_RUN_DEFAULT);
  return 0;
}

/* Closes what run() left open after a failed start, running the loop so
 * that the handles' close callbacks fire. */
static void cleanup(serve_t *s) {
  if (s->http != NULL)
    sg_http_server_free(s->http);
  if (s->sim != NULL && s->engine == NULL)
    sg_sim_smsc_stop(s->sim, NULL, NULL);
  if (s->store != NULL && s->engine == NULL)
    sg_store_close(s->store, NULL, NULL);
  uv_run(&s->loop, UV_RUN_DEFAULT);
  sg_smpp_server_free(s->smpps);
  sg_engine_free(s->engine);
  sg_sim_smsc_free(s->sim);
  sg_rest_free(s->rest);
  sg_rest_reload_free(s->rest_reload);
  sg_kannel_free(s->kannel);
  uv_loop_close(&s->loop);
  sg_config_free(s->cfg);
}

int sg_cmd_serve(int argc, char **argv) {
  serve_args_t args;
  int rc = parse_args(argc, argv, &args);
  if (rc >= 0)
    return rc;
  serve_t *s = sg_calloc(1, sizeof *s);
  if (s == NULL)
    return 1;
  signal(SIGPIPE, SIG_IGN);
  /* Over a file-size limit (ulimit -f) a write fails with EFBIG instead of
   * killing the process: the store reports the failure, the request gets
   * its 503, and what was acknowledged stays acknowledged. */
  signal(SIGXFSZ, SIG_IGN);
  s->format = args.log_format >= 0 ? args.log_format : SG_LOG_TEXT;
  s->config_path = args.config;
  if (load_config(s, args.config) != 0) {
    sg_free(s);
    return 1;
  }
  s->level = args.log_level >= 0 ? args.log_level : (int)s->cfg->log.level;
  s->format = args.log_format >= 0 ? args.log_format : (int)s->cfg->log.format;
  uv_loop_init(&s->loop);
  if (run(s) != 0)
    s->exit_code = 1;
  if (s->forced)
    return 1; /* the process ends now; nothing is flushed on purpose */
  cleanup(s);
  int code = s->exit_code;
  sg_free(s);
  return code;
}
