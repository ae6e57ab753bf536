/* sim_modem.c - `smsgate sim modem --link PATH` (or `--tcp HOST:PORT`, a
 * simulated TCP serial bridge): the GSM modem simulator on
 * its own loop, control lines on stdin ("mo FROM TEXT", "silent on",
 * "cms 0.1", "urc 0.5", "stats"), its counters printed at exit.
 *
 * A thin shell: every decision is made in sim/modem_sim.c; this file parses
 * options, wires signals and stdin, and prints. It must never call exit().
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <uv.h>

#include "cli/sim_modem.h"
#include "core/error.h"
#include "sim/modem_sim.h"

typedef struct modem_cli {
  uv_loop_t loop;
  sg_sim_modem_t *sim;
  uv_signal_t sig_int, sig_term;
  union {
    uv_tty_t tty;
    uv_pipe_t pipe;
  } in;
  bool in_open, stopping;
  char line[4096];
  size_t line_len;
  char rbuf[4096];
} modem_cli_t;

static void usage(FILE *f) {
  fprintf(f, "usage: smsgate sim modem --link PATH | --tcp HOST:PORT "
             "[options]\n"
             "\n"
             "A GSM modem simulator on a pseudo-terminal symlinked at PATH, or "
             "behind a TCP\nport like a ser2net serial bridge (one peer at a "
             "time): answers AT\ncommands in PDU mode, sends status reports, "
             "stores inbound messages (or\nroutes them with +CMT after "
             "AT+CSMS=1 and AT+CNMI=2,2).\nPrints \"ready on PATH (TTY)\" "
             "or \"ready on tcp://HOST:PORT\" when ready. "
             "Control lines on stdin:\n\"mo FROM TEXT\", \"silent on|off\", "
             "\"reports hold|release\", \"cms RATE\", \"urc RATE\", "
             "\"stats\".\n"
             "\n"
             "  --link PATH           where to symlink the pty\n"
             "  --tcp HOST:PORT       listen on TCP instead (port 0: any)\n"
             "  --eps-only            registered on AT+CEREG only, not "
             "AT+CREG\n"
             "  --pin PIN             SIM PIN to ask for (default: none)\n"
             "  --cms-error-rate R    fraction of AT+CMGS refused (0)\n"
             "  --cms-error N         the +CMS ERROR they get (500)\n"
             "  --urc-rate R          chance of a URC before each answer line "
             "(0)\n"
             "  --report-delay-ms N   delay of +CDS status reports (200)\n"
             "  --report-status N     their TP-ST (0: delivered)\n"
             "  --first-mr N          TP-MR of the first submit (0)\n"
             "  --seed N              of the fault choices (1)\n"
             "  --silent              answer nothing\n");
}

static bool num_arg(const char *v, double max, double *out) {
  char *end;
  double x = strtod(v, &end);
  if (end == v || *end != '\0' || !(x >= 0 && x <= max))
    return false;
  *out = x;
  return true;
}

/* Parses one option with a value; returns false on a bad one. */
static bool parse_opt(sg_sim_modem_config_t *c, const char *k, const char *v) {
  double x;
  if (strcmp(k, "--link") == 0)
    c->link = v;
  else if (strcmp(k, "--tcp") == 0)
    c->tcp = v;
  else if (strcmp(k, "--pin") == 0)
    c->pin = v;
  else if (strcmp(k, "--cms-error-rate") == 0 && num_arg(v, 1, &x))
    c->cms_error_rate = x;
  else if (strcmp(k, "--cms-error") == 0 && num_arg(v, 999, &x))
    c->cms_error = (uint32_t)x;
  else if (strcmp(k, "--urc-rate") == 0 && num_arg(v, 1, &x))
    c->urc_rate = x;
  else if (strcmp(k, "--report-delay-ms") == 0 && num_arg(v, 3600000, &x))
    c->report_delay_ms = (uint32_t)x;
  else if (strcmp(k, "--report-status") == 0 && num_arg(v, 255, &x))
    c->report_status = (uint8_t)x;
  else if (strcmp(k, "--first-mr") == 0 && num_arg(v, 255, &x))
    c->first_mr = (uint8_t)x;
  else if (strcmp(k, "--seed") == 0 && num_arg(v, 4294967295.0, &x))
    c->seed = (uint32_t)x;
  else
    return false;
  return true;
}

static void in_alloc_cb(uv_handle_t *h, size_t hint, uv_buf_t *buf) {
  modem_cli_t *cli = h->data;
  (void)hint;
  *buf = uv_buf_init(cli->rbuf, sizeof cli->rbuf);
}

static void in_read_cb(uv_stream_t *s, ssize_t n, const uv_buf_t *buf) {
  modem_cli_t *cli = s->data;
  if (n < 0) {
    uv_read_stop(s);
    return;
  }
  for (ssize_t i = 0; i < n; i++) {
    char ch = buf->base[i];
    if (ch != '\n') {
      if (cli->line_len < sizeof cli->line - 1)
        cli->line[cli->line_len++] = ch;
      continue;
    }
    cli->line[cli->line_len] = '\0';
    cli->line_len = 0;
    char reply[512];
    sg_sim_modem_command(cli->sim, cli->line, reply, sizeof reply);
    printf("%s\n", reply);
    fflush(stdout);
  }
}

static void open_stdin(modem_cli_t *cli) {
  uv_handle_type t = uv_guess_handle(0);
  int rc = -1;
  if (t == UV_TTY)
    rc = uv_tty_init(&cli->loop, &cli->in.tty, 0, 1);
  else if (t == UV_NAMED_PIPE) {
    rc = uv_pipe_init(&cli->loop, &cli->in.pipe, 0);
    if (rc == 0 && uv_pipe_open(&cli->in.pipe, 0) != 0) {
      uv_close((uv_handle_t *)&cli->in.pipe, NULL);
      return;
    }
  }
  if (rc != 0)
    return;
  cli->in_open = true;
  cli->in.pipe.data = cli;
  uv_read_start((uv_stream_t *)&cli->in.pipe, in_alloc_cb, in_read_cb);
}

static void stopped_cb(void *arg) {
  modem_cli_t *cli = arg;
  char reply[512];
  sg_sim_modem_command(cli->sim, "stats", reply, sizeof reply);
  printf("%s\n", reply);
  fflush(stdout);
  uv_close((uv_handle_t *)&cli->sig_int, NULL);
  uv_close((uv_handle_t *)&cli->sig_term, NULL);
  if (cli->in_open && !uv_is_closing((uv_handle_t *)&cli->in.pipe))
    uv_close((uv_handle_t *)&cli->in.pipe, NULL);
}

static void signal_cb(uv_signal_t *h, int signum) {
  modem_cli_t *cli = h->data;
  (void)signum;
  if (cli->stopping)
    return;
  cli->stopping = true;
  if (cli->in_open)
    uv_read_stop((uv_stream_t *)&cli->in.pipe);
  sg_sim_modem_stop(cli->sim, stopped_cb, cli);
}

static int run(modem_cli_t *cli, const sg_sim_modem_config_t *cfg) {
  char err[256] = "";
  int rc = sg_sim_modem_new(&cli->loop, cfg, &cli->sim, err, sizeof err);
  if (rc != 0) {
    fprintf(stderr, "smsgate sim modem: %s\n",
            err[0] != '\0' ? err : sg_strerror(rc));
    return 1;
  }
  uv_signal_init(&cli->loop, &cli->sig_int);
  uv_signal_init(&cli->loop, &cli->sig_term);
  cli->sig_int.data = cli->sig_term.data = cli;
  uv_signal_start(&cli->sig_int, signal_cb, SIGINT);
  uv_signal_start(&cli->sig_term, signal_cb, SIGTERM);
  open_stdin(cli);
  if (cfg->tcp != NULL)
    printf("ready on %s\n", sg_sim_modem_tty(cli->sim));
  else
    printf("ready on %s (%s)\n", cfg->link, sg_sim_modem_tty(cli->sim));
  fflush(stdout);
  uv_run(&cli->loop, UV_RUN_DEFAULT);
  sg_sim_modem_free(cli->sim);
  return 0;
}

int sg_cmd_sim_modem(int argc, char **argv) {
  sg_sim_modem_config_t cfg;
  sg_sim_modem_config_default(&cfg);
  for (int i = 0; i < argc; i++) {
    if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
      usage(stdout);
      return 0;
    }
    if (strcmp(argv[i], "--silent") == 0) {
      cfg.silent = true;
      continue;
    }
    if (strcmp(argv[i], "--eps-only") == 0) {
      cfg.eps_only = true;
      continue;
    }
    if (i + 1 >= argc || !parse_opt(&cfg, argv[i], argv[i + 1])) {
      fprintf(stderr, "smsgate sim modem: bad option '%s'\n", argv[i]);
      usage(stderr);
      return 2;
    }
    i++;
  }
  if ((cfg.link == NULL) == (cfg.tcp == NULL)) {
    fprintf(stderr, "smsgate sim modem: give --link PATH or --tcp HOST:PORT\n");
    return 2;
  }
  static modem_cli_t cli;
  memset(&cli, 0, sizeof cli);
  if (uv_loop_init(&cli.loop) != 0)
    return 1;
  int rc = run(&cli, &cfg);
  uv_run(&cli.loop, UV_RUN_DEFAULT);
  uv_loop_close(&cli.loop);
  return rc;
}
