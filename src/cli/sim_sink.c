/* sim_sink.c - `smsgate sim sink`: a webhook receiver that answers 200 at
 * once, counts webhooks by status, checks their signatures when given the
 * secret, and serves its counts as JSON to any GET.
 *
 * A thin shell around sim/sink.h: options, signals, printing. It must never
 * call exit(); it returns 0 (stopped by a signal), 1 (could not listen) or 2
 * (usage).
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <uv.h>

#include "cli/sim_sink.h"
#include "core/error.h"
#include "sim/sink.h"

typedef struct sink_cli {
  uv_loop_t loop;
  sg_sim_sink_t *sink;
  uv_signal_t sig_int, sig_term, sig_usr1;
} sink_cli_t;

static void usage(FILE *f) {
  fprintf(f, "usage: smsgate sim sink [options]\n"
             "\n"
             "A webhook receiver for tests and benchmarks: answers every POST\n"
             "at once, counts webhooks by their \"status\", checks\n"
             "X-Smsgate-Signature when given the secret, counts a GET to\n"
             "/dlr... as a Kannel dlr-url callback, and answers any other GET\n"
             "with the counts as JSON. Prints \"listening on HOST:PORT\" when\n"
             "ready, and the counts as one JSON line on SIGUSR1 and at exit.\n"
             "\n"
             "  --host H       listening address (default 127.0.0.1)\n"
             "  --port N       listening port (default 0: any free)\n"
             "  --secret S     the account's webhook_secret: count bad "
             "signatures\n"
             "  --status N     answer webhooks with this HTTP status (default "
             "200)\n"
             "  --record F     append one line per dlr-url callback to F: its\n"
             "                 query string and the wall clock in ms (written\n"
             "                 out on SIGUSR1 and at exit)\n"
             "  --help         show this help\n");
}

static bool to_uint(const char *s, unsigned long lo, unsigned long hi,
                    unsigned long *out) {
  char *end;
  if (s == NULL || *s < '0' || *s > '9')
    return false;
  errno = 0;
  unsigned long v = strtoul(s, &end, 10);
  if (errno != 0 || *end != '\0' || v < lo || v > hi)
    return false;
  *out = v;
  return true;
}

/* 0 to run, 1 for --help, -1 on a usage error (reported). */
static int parse_args(int argc, char **argv, sg_sim_sink_config_t *c) {
  for (int i = 0; i < argc; i += 2) { /* option and value */
    const char *o = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
    unsigned long x;
    if (strcmp(o, "--help") == 0 || strcmp(o, "-h") == 0)
      return 1;
    if (v == NULL) {
      fprintf(stderr, "smsgate sim sink: unknown option or missing value: %s\n",
              o);
      return -1;
    }
    if (strcmp(o, "--host") == 0) {
      c->host = v;
    } else if (strcmp(o, "--port") == 0 && to_uint(v, 0, 65535, &x)) {
      c->port = (uint16_t)x;
    } else if (strcmp(o, "--status") == 0 && to_uint(v, 200, 599, &x)) {
      c->answer_status = (unsigned)x;
    } else if (strcmp(o, "--record") == 0 && v[0] != '\0') {
      c->record = fopen(v, "a");
      if (c->record == NULL) {
        fprintf(stderr, "smsgate sim sink: cannot open %s: %s\n", v,
                strerror(errno));
        return -1;
      }
    } else if (strcmp(o, "--secret") == 0 && v[0] != '\0') {
      c->secret = (const uint8_t *)v;
      c->secret_len = strlen(v);
    } else {
      fprintf(stderr, "smsgate sim sink: bad option or value: %s %s\n", o, v);
      return -1;
    }
  }
  return 0;
}

static void print_counts(const sink_cli_t *cli, bool final) {
  sg_sim_sink_counts_t k;
  char json[2048];
  sg_sim_sink_counts(cli->sink, &k);
  size_t n = sg_sim_sink_counts_json(&k, json, sizeof json);
  if (n < sizeof json)
    printf("%.*s%s\n", (int)n - 1, json, final ? ",\"final\":true}" : "}");
  fflush(stdout);
}

static void signal_cb(uv_signal_t *h, int signum) {
  sink_cli_t *cli = h->data;
  sg_sim_sink_flush(cli->sink);
  print_counts(cli, signum != SIGUSR1);
  if (signum == SIGUSR1)
    return;
  uv_close((uv_handle_t *)&cli->sig_int, NULL);
  uv_close((uv_handle_t *)&cli->sig_term, NULL);
  uv_close((uv_handle_t *)&cli->sig_usr1, NULL);
  sg_sim_sink_free(cli->sink);
  cli->sink = NULL;
}

static void start_signal(sink_cli_t *cli, uv_signal_t *h, int signum) {
  uv_signal_init(&cli->loop, h);
  h->data = cli;
  uv_signal_start(h, signal_cb, signum);
}

int sg_cmd_sim_sink(int argc, char **argv) {
  static sink_cli_t cli;
  memset(&cli, 0, sizeof cli);
  sg_sim_sink_config_t cfg = {.host = "127.0.0.1"};
  int rc = parse_args(argc, argv, &cfg);
  if (rc != 0) {
    if (cfg.record != NULL)
      fclose(cfg.record);
    if (rc == 1)
      usage(stdout);
    else
      fprintf(stderr, "Run 'smsgate sim sink --help' for the options.\n");
    return rc == 1 ? 0 : 2;
  }
  signal(SIGPIPE, SIG_IGN);
  uv_loop_init(&cli.loop);
  char err[256] = "";
  rc = sg_sim_sink_new(&cli.loop, &cfg, &cli.sink, err, sizeof err);
  if (rc != 0) {
    fprintf(stderr, "smsgate sim sink: %s\n", err[0] ? err : sg_strerror(rc));
    uv_run(&cli.loop, UV_RUN_DEFAULT); /* let the listener close */
    uv_loop_close(&cli.loop);
    if (cfg.record != NULL)
      fclose(cfg.record);
    return 1;
  }
  printf("listening on %s:%u\n", cfg.host,
         (unsigned)sg_sim_sink_port(cli.sink));
  fflush(stdout);
  start_signal(&cli, &cli.sig_int, SIGINT);
  start_signal(&cli, &cli.sig_term, SIGTERM);
  start_signal(&cli, &cli.sig_usr1, SIGUSR1);
  uv_run(&cli.loop, UV_RUN_DEFAULT);
  uv_loop_close(&cli.loop);
  if (cfg.record != NULL)
    fclose(cfg.record);
  return 0;
}
