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
#include "core/alloc.h"
#include "core/config.h"
#include "core/error.h"
#include "engine/engine.h"
#include "ingress/http_server.h"
#include "ingress/kannel.h"
#include "ingress/rest/rest.h"
#include "sim/smsc.h"
#include "store/store.h"

typedef struct serve {
  uv_loop_t loop;
  sg_config_t *cfg;
  sg_store_t *store;
  sg_sim_smsc_t *sim;
  sg_engine_t *engine;
  sg_http_server_t *http;
  sg_rest_t *rest;
  sg_kannel_t *kannel; /* /cgi-bin/sendsms */
  uv_signal_t sig_int, sig_term;
  int level; /* sg_config_log_level_t */
  int exit_code;
  bool stopping;
  bool forced; /* a second signal: exit without draining */
} serve_t;

/* ---- logging ------------------------------------------------------------- */

static const char *level_name(int level) {
  static const char *names[] = {"debug", "info", "warn", "error"};
  return level >= 0 && level <= 3 ? names[level] : "info";
}

static void log_line(serve_t *s, int level, const char *line) {
  if (level < s->level)
    return;
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  struct tm tm;
  gmtime_r(&ts.tv_sec, &tm);
  fprintf(stderr, "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ %-5s %s\n",
          tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
          tm.tm_sec, ts.tv_nsec / 1000000, level_name(level), line);
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
  log_line(data, (int)level, line);
}

static void sim_log(void *data, const char *line) {
  char buf[512];
  snprintf(buf, sizeof buf, "simulator: %s", line);
  log_line(data, SG_CONFIG_LOG_DEBUG, buf);
}

static void http_log(void *data, const char *msg) {
  char buf[512];
  snprintf(buf, sizeof buf, "http: %s", msg);
  log_line(data, SG_CONFIG_LOG_WARN, buf);
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
  if (cs->driver != SG_CONFIG_STORE_SQLITE) {
    logf_(s, SG_CONFIG_LOG_ERROR,
          "store: only the sqlite driver is built in this version");
    return -1;
  }
  if (make_store_dir(s, cs->path) != 0)
    return -1;
  sg_store_config_t sc;
  sg_store_config_init(&sc, cs->path);
  sc.sync_normal = cs->synchronous == SG_CONFIG_SYNC_NORMAL;
  if (cs->max_batch > 0)
    sc.max_batch = cs->max_batch;
  char err[256] = "";
  int rc = sg_store_open(&s->loop, &sc, &s->store, err, sizeof err);
  if (rc != 0) {
    logf_(s, SG_CONFIG_LOG_ERROR, "store %s: %s", cs->path,
          err[0] ? err : sg_strerror(rc));
    return -1;
  }
  sg_store_info_t info;
  sg_store_get_info(s->store, &info);
  logf_(s, SG_CONFIG_LOG_INFO,
        "store %s (%s, schema %u, %u migration(s) applied; %llu part(s) and "
        "%llu webhook(s) left sending put back in the queue)",
        cs->path, info.backend, info.schema_version, info.migrated,
        (unsigned long long)info.requeued_parts,
        (unsigned long long)info.requeued_webhooks);
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
  rc = sg_kannel_register(&s->loop, s->http, s->engine, &s->kannel);
  if (rc != 0) {
    logf_(s, SG_CONFIG_LOG_ERROR, "http: cannot add /cgi-bin/sendsms: %s",
          sg_strerror(rc));
    return -1;
  }
  return 0;
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
  for (size_t i = 0; i < s->cfg->n_accounts && key == NULL; i++)
    key = s->cfg->accounts[i].api_key;
  if (key != NULL)
    printf("Send a message:\n  curl -s %s/v1/messages -H 'Authorization: "
           "Bearer %s' -H 'Content-Type: application/json' -d '{\"to\": "
           "\"+79001234567\", \"from\": \"smsgate\", \"text\": \"Hello from "
           "smsgate\"}'\n",
           url, key);
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
  if (start_http(s) != 0) {
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
  sg_kannel_free(s->kannel);
  s->kannel = NULL;
  if (s->sim != NULL)
    sg_sim_smsc_stop(s->sim, sim_stopped_cb, s);
  else
    sim_stopped_cb(NULL, s);
}

static void shutdown_begin(serve_t *s, int code) {
  if (code > s->exit_code)
    s->exit_code = code;
  if (s->stopping)
    return;
  s->stopping = true;
  /* Stop taking requests first; requests waiting for a commit get their
   * engine callbacks still, answered into closed connections. */
  sg_http_server_free(s->http);
  s->http = NULL;
  if (s->engine == NULL || sg_engine_stop(s->engine, engine_stopped_cb, s) != 0)
    engine_stopped_cb(s->engine, 0, s);
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

/* ---- the command --------------------------------------------------------- */

static void usage(FILE *f) {
  fprintf(f, "usage: smsgate serve [-c FILE]\n"
             "\n"
             "Runs the gateway: the REST API, the engine and its connectors.\n"
             "Without -c it runs the built-in default: SQLite in ./data/, the\n"
             "REST API on 127.0.0.1:8080, a simulated operator on\n"
             "127.0.0.1:2776 and one connector to it, and an account 'demo'\n"
             "with the API key 'demo-key'.\n"
             "\n"
             "  -c, --config FILE   the YAML configuration "
             "(docs/configuration.md)\n"
             "  -h, --help          this help\n");
}

static int load_config(serve_t *s, const char *path) {
  sg_config_errors_t *errs = sg_calloc(1, sizeof *errs);
  if (errs == NULL)
    return -1;
  int rc = path != NULL ? sg_config_load_file(path, &s->cfg, errs)
                        : sg_config_default(&s->cfg, errs);
  if (rc != 0) {
    sg_config_errors_print(errs, stderr);
    if (errs->count == 0)
      fprintf(stderr, "smsgate: %s: %s\n", path ? path : "configuration",
              sg_strerror(rc));
  }
  sg_free(errs);
  return rc == 0 ? 0 : -1;
}

static int parse_args(int argc, char **argv, const char **config) {
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
      usage(stdout);
      return 0;
    }
    if ((strcmp(argv[i], "-c") == 0 || strcmp(argv[i], "--config") == 0) &&
        i + 1 < argc) {
      *config = argv[++i];
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
  sg_engine_free(s->engine);
  sg_sim_smsc_free(s->sim);
  sg_rest_free(s->rest);
  sg_kannel_free(s->kannel);
  uv_loop_close(&s->loop);
  sg_config_free(s->cfg);
}

int sg_cmd_serve(int argc, char **argv) {
  const char *config = NULL;
  int rc = parse_args(argc, argv, &config);
  if (rc >= 0)
    return rc;
  serve_t *s = sg_calloc(1, sizeof *s);
  if (s == NULL)
    return 1;
  signal(SIGPIPE, SIG_IGN);
  if (load_config(s, config) != 0) {
    sg_free(s);
    return 1;
  }
  s->level = (int)s->cfg->log.level;
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
