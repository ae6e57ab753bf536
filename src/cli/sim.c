/* sim.c - `smsgate sim smsc`: runs the SMSC simulator (sim/smsc.h) on its
 * own loop until SIGINT or SIGTERM, takes control lines on stdin ("mo ...",
 * "drop", "stats", "throttle 0.2" ...), prints its counters as one JSON
 * line every --stats-interval seconds, on SIGUSR1 and at exit.
 *
 * A thin shell: every decision is made in sim/smsc.c; this file parses
 * options, wires signals and stdin, and prints. It must never call exit();
 * it returns 0 (stopped by a signal), 1 (could not start) or 2 (usage).
 */
#include <errno.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <uv.h>

#include "cli/commands.h"
#include "cli/sim_load.h"
#include "cli/sim_sink.h"
#include "cli/sim_modem.h"
#include "core/error.h"
#include "sim/smsc.h"

#define LINE_MAX_LEN 4096

typedef struct sim_cli {
  uv_loop_t loop;
  sg_sim_smsc_t *sim;
  uv_signal_t sig_int, sig_term, sig_usr1;
  uv_timer_t stats_timer;
  union {
    uv_tty_t tty;
    uv_pipe_t pipe;
  } in;
  bool in_open;
  char line[LINE_MAX_LEN];
  size_t line_len;
  char rbuf[LINE_MAX_LEN];
  unsigned stats_interval; /* seconds, 0: off */
  bool quiet;
  bool stopping;
} sim_cli_t;

static void usage(FILE *f) {
  fprintf(
      f,
      "usage: smsgate sim smsc [options]\n"
      "\n"
      "An SMPP 3.4 SMSC simulator: accepts binds, answers submit_sm, data_sm\n"
      "and submit_multi, sends delivery receipts and MO messages, and "
      "injects\nfaults. Prints \"listening on HOST:PORT\" when ready.\n"
      "\n"
      "  --host H            listening address (default 127.0.0.1)\n"
      "  --port N            listening port (default 2775; 0: any free)\n"
      "  --system-id S       accept only this system_id (default: any)\n"
      "  --password P        accept only this password (default: any)\n"
      "  --smsc-id S         system_id sent in bind responses "
      "(smsgate-sim)\n"
      "  --max-binds N       bound sessions at once (default: no limit)\n"
      "  --window N          own window for deliver_sm (default 100)\n"
      "  --id-format F       hex (default), hex-upper or dec message ids\n"
      "  --receipt-id-format F  the ids receipts carry: hex, hex-upper or "
      "dec\n"
      "                      (default: as --id-format)\n"
      "  --id-start N        first message id (default: time-based)\n"
      "  --dlr-delay MS      receipt delay (default 100; 0: at once)\n"
      "  --dlr-mix MIX       outcomes, e.g. DELIVRD=90,UNDELIV=5,EXPIRED=3,"
      "REJECTD=2\n"
      "                      (STAT=weight[:err]; default DELIVRD=100)\n"
      "  --receipt-retries N send a refused or unanswered receipt again, up "
      "to N\n"
      "                      times (default 10; 0: never)\n"
      "  --receipt-retry-delay MS  first wait after a refusal, doubling up to "
      "60 s\n"
      "                      (default 1000)\n"
      "  --throttle F        fraction of submits answered ESME_RTHROTTLED\n"
      "  --latency MS        delay before every response (default 0)\n"
      "  --drop-prob P       probability per request of dropping the "
      "connection\n"
      "  --drop-every N      drop a connection at its Nth request\n"
      "  --drop-reset        drops close with a TCP reset (RST)\n"
      "  --hang-every N      a connection stops answering at its Nth request\n"
      "                      (stays open, reads and writes nothing)\n"
      "  --nack F            fraction of submits answered generic_nack\n"
      "  --late F            fraction of submits answered --late-ms late\n"
      "  --late-ms MS        how late (default 0)\n"
      "  --dlr-early         receipts wait --dlr-delay from the submit, not\n"
      "                      from its response (before it, with --latency)\n"
      "  --first-sequence N  first sequence_number of the simulator's own\n"
      "                      requests (default 1; 2147483000: wraps soon)\n"
      "  --mo-rate R         MO messages per second (default 0)\n"
      "  --mo-from A         MO sender (default +79001234567)\n"
      "  --mo-to A           MO recipient (default 100)\n"
      "  --mo-text T         MO text (default \"MO test\")\n"
      "  --record PATH       append one line per accepted message to PATH\n"
      "  --tls-cert PATH     certificate chain (PEM): also listen with TLS\n"
      "  --tls-key PATH      its private key (PEM)\n"
      "  --tls-port N        TLS port (default 3550; 0: any free)\n"
      "  --enquire-link MS   idle time before enquire_link (default 30000)\n"
      "  --seed N            random seed for throttling, drops and the mix\n"
      "  --stats-interval S  print counters every S seconds (default 10; "
      "0: off)\n"
      "  --quiet             do not log binds and drops on stderr\n"
      "  --help              show this help\n"
      "\n"
      "stdin takes commands: mo [-u|-g] [-w] [-s] [-p N,N] FROM TO TEXT\n"
      "(-w 16-bit reference, -s SAR TLVs, -p only those parts) | drop | stats |\n"
      "throttle F | latency MS | dlr-delay MS | drop-prob P | mo-rate R |\n"
      "dlr-mix MIX | help. SIGUSR1 prints the counters; SIGINT/SIGTERM stop\n"
      "and print the final counters (one JSON line, \"final\":true).\n");
}

/* ---- Options ------------------------------------------------------------- */

static bool to_ulong(const char *s, unsigned long max, unsigned long *out) {
  char *end;
  if (s == NULL || *s < '0' || *s > '9')
    return false;
  errno = 0;
  unsigned long long v = strtoull(s, &end, 10);
  if (errno != 0 || *end != '\0' || v > max)
    return false;
  *out = (unsigned long)v;
  return true;
}

static bool to_double(const char *s, double lo, double hi, double *out) {
  char *end;
  if (s == NULL)
    return false;
  errno = 0;
  double v = strtod(s, &end);
  if (errno != 0 || end == s || *end != '\0' || !(v >= lo && v <= hi))
    return false;
  *out = v;
  return true;
}

/* Options that take a number. Returns 1 if handled, 0 if not this kind,
 * -1 on a bad value. */
static int number_option(const char *o, const char *v, sg_sim_smsc_config_t *c,
                         sim_cli_t *cli) {
  unsigned long u = 0;
  double d = 0;
  const unsigned long U32 = 0xFFFFFFFFul;
#define UOPT(name, max, field)                                                 \
  if (strcmp(o, name) == 0)                                                    \
    return to_ulong(v, max, &u) ? (field = (u), 1) : -1;
#define DOPT(name, hi, field)                                                  \
  if (strcmp(o, name) == 0)                                                    \
    return to_double(v, 0, hi, &d) ? (field = d, 1) : -1;
  UOPT("--port", 65535, c->port)
  UOPT("--tls-port", 65535, c->tls_port)
  UOPT("--max-binds", 1000000, c->max_binds)
  UOPT("--window", 8192, c->window)
  UOPT("--id-start", ~0ul, c->id_start)
  UOPT("--dlr-delay", U32, c->dlr_delay_ms)
  UOPT("--receipt-retries", 255, c->receipt_retries)
  UOPT("--receipt-retry-delay", U32, c->receipt_retry_ms)
  UOPT("--latency", U32, c->latency_ms)
  UOPT("--drop-every", ~0ul, c->drop_every)
  UOPT("--hang-every", ~0ul, c->hang_every)
  UOPT("--late-ms", U32, c->late_ms)
  UOPT("--first-sequence", 0x7FFFFFFFul, c->first_sequence)
  UOPT("--enquire-link", U32, c->enquire_link_interval_ms)
  UOPT("--seed", ~0ul, c->seed)
  UOPT("--stats-interval", 86400, cli->stats_interval)
  DOPT("--throttle", 1.0, c->throttle)
  DOPT("--drop-prob", 1.0, c->drop_prob)
  DOPT("--nack", 1.0, c->nack)
  DOPT("--late", 1.0, c->late)
  DOPT("--mo-rate", 1e7, c->mo_rate)
#undef UOPT
#undef DOPT
  return 0;
}

static int id_format(const char *v, sg_sim_id_format_t *out) {
  if (strcmp(v, "hex") == 0)
    *out = SG_SIM_ID_HEX;
  else if (strcmp(v, "hex-upper") == 0)
    *out = SG_SIM_ID_HEX_UPPER;
  else if (strcmp(v, "dec") == 0)
    *out = SG_SIM_ID_DEC;
  else
    return -1;
  return 1;
}

static int string_option(const char *o, const char *v,
                         sg_sim_smsc_config_t *c) {
  static const struct {
    const char *name;
    size_t off;
  } opts[] = {
      {"--host", offsetof(sg_sim_smsc_config_t, host)},
      {"--system-id", offsetof(sg_sim_smsc_config_t, system_id)},
      {"--password", offsetof(sg_sim_smsc_config_t, password)},
      {"--smsc-id", offsetof(sg_sim_smsc_config_t, smsc_system_id)},
      {"--mo-from", offsetof(sg_sim_smsc_config_t, mo_from)},
      {"--mo-to", offsetof(sg_sim_smsc_config_t, mo_to)},
      {"--mo-text", offsetof(sg_sim_smsc_config_t, mo_text)},
      {"--record", offsetof(sg_sim_smsc_config_t, record_path)},
      {"--tls-cert", offsetof(sg_sim_smsc_config_t, tls_cert)},
      {"--tls-key", offsetof(sg_sim_smsc_config_t, tls_key)},
  };
  for (size_t i = 0; i < sizeof opts / sizeof opts[0]; i++) {
    if (strcmp(o, opts[i].name) == 0) {
      *(const char **)((char *)c + opts[i].off) = v;
      return 1;
    }
  }
  if (strcmp(o, "--id-format") == 0)
    return id_format(v, &c->id_format);
  if (strcmp(o, "--receipt-id-format") == 0)
    return id_format(v, &c->receipt_id_format);
  if (strcmp(o, "--dlr-mix") == 0)
    return sg_sim_dlr_mix_parse(v, &c->dlr_mix) == 0 ? 1 : -1;
  return 0;
}

/* Returns 0, 1 for --help, 2 on a usage error (printed). */
static int parse_args(int argc, char **argv, sg_sim_smsc_config_t *c,
                      sim_cli_t *cli) {
  for (int i = 0; i < argc; i++) {
    const char *o = argv[i];
    if (strcmp(o, "--help") == 0 || strcmp(o, "-h") == 0)
      return 1;
    if (strcmp(o, "--quiet") == 0) {
      cli->quiet = true;
      continue;
    }
    if (strcmp(o, "--drop-reset") == 0) {
      c->drop_reset = true;
      continue;
    }
    if (strcmp(o, "--dlr-early") == 0) {
      c->dlr_early = true;
      continue;
    }
    if (i + 1 >= argc) {
      fprintf(stderr, "smsgate sim smsc: %s: unknown, or needs a value\n", o);
      return 2;
    }
    const char *v = argv[++i];
    int r = number_option(o, v, c, cli);
    if (r == 0)
      r = string_option(o, v, c);
    if (r == 0) {
      fprintf(stderr, "smsgate sim smsc: unknown option '%s'\n", o);
      return 2;
    }
    if (r < 0) {
      fprintf(stderr, "smsgate sim smsc: bad value '%s' for %s\n", v, o);
      return 2;
    }
  }
  return 0;
}

/* ---- Output -------------------------------------------------------------- */

static void print_stats(sim_cli_t *cli, bool final) {
  char buf[4096];
  if (sg_sim_smsc_stats_json(cli->sim, final, buf, sizeof buf) > 0)
    printf("%s\n", buf);
  fflush(stdout);
}

static void log_line(void *user, const char *line) {
  sim_cli_t *cli = user;
  if (!cli->quiet)
    fprintf(stderr, "sim: %s\n", line);
}

static void stats_timer_cb(uv_timer_t *t) {
  print_stats(t->data, false);
}

/* ---- stdin --------------------------------------------------------------- */

static void run_line(sim_cli_t *cli) {
  cli->line[cli->line_len] = '\0';
  size_t n = cli->line_len;
  while (n > 0 && (cli->line[n - 1] == '\r' || cli->line[n - 1] == ' '))
    cli->line[--n] = '\0';
  cli->line_len = 0;
  if (n == 0)
    return;
  char reply[4096];
  sg_sim_smsc_command(cli->sim, cli->line, reply, sizeof reply);
  printf("%s\n", reply);
  fflush(stdout);
}

static void in_alloc_cb(uv_handle_t *h, size_t hint, uv_buf_t *buf) {
  sim_cli_t *cli = h->data;
  (void)hint;
  *buf = uv_buf_init(cli->rbuf, sizeof cli->rbuf);
}

static void in_read_cb(uv_stream_t *s, ssize_t n, const uv_buf_t *buf) {
  sim_cli_t *cli = s->data;
  if (n < 0) { /* EOF or error: no more commands, keep running */
    uv_read_stop(s);
    return;
  }
  for (ssize_t i = 0; i < n; i++) {
    char ch = buf->base[i];
    if (ch == '\n')
      run_line(cli);
    else if (cli->line_len < sizeof cli->line - 1)
      cli->line[cli->line_len++] = ch;
  }
}

static void open_stdin(sim_cli_t *cli) {
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
    return; /* a file or nothing: no control channel */
  cli->in_open = true;
  cli->in.pipe.data = cli;
  uv_read_start((uv_stream_t *)&cli->in.pipe, in_alloc_cb, in_read_cb);
}

/* ---- Life cycle ---------------------------------------------------------- */

static void close_if_open(uv_handle_t *h) {
  if (!uv_is_closing(h))
    uv_close(h, NULL);
}

static void stopped_cb(sg_sim_smsc_t *sim, void *user) {
  sim_cli_t *cli = user;
  (void)sim;
  print_stats(cli, true);
  close_if_open((uv_handle_t *)&cli->sig_int);
  close_if_open((uv_handle_t *)&cli->sig_term);
  close_if_open((uv_handle_t *)&cli->sig_usr1);
  close_if_open((uv_handle_t *)&cli->stats_timer);
  if (cli->in_open)
    close_if_open((uv_handle_t *)&cli->in.pipe);
}

static void signal_cb(uv_signal_t *h, int signum) {
  sim_cli_t *cli = h->data;
  if (signum == SIGUSR1) {
    print_stats(cli, false);
    return;
  }
  if (cli->stopping)
    return;
  cli->stopping = true;
  if (cli->in_open)
    uv_read_stop((uv_stream_t *)&cli->in.pipe);
  uv_timer_stop(&cli->stats_timer);
  sg_sim_smsc_stop(cli->sim, stopped_cb, cli);
}

static void start_signal(sim_cli_t *cli, uv_signal_t *h, int signum) {
  uv_signal_init(&cli->loop, h);
  h->data = cli;
  uv_signal_start(h, signal_cb, signum);
}

static int run_smsc(int argc, char **argv) {
  static sim_cli_t cli; /* large; one per process */
  memset(&cli, 0, sizeof cli);
  cli.stats_interval = 10;
  sg_sim_smsc_config_t cfg;
  sg_sim_smsc_config_default(&cfg);
  int rc = parse_args(argc, argv, &cfg, &cli);
  if (rc == 1) {
    usage(stdout);
    return 0;
  }
  if (rc != 0) {
    fprintf(stderr, "Run 'smsgate sim smsc --help' for the options.\n");
    return 2;
  }
  cfg.log_cb = log_line;
  cfg.log_user = &cli;
  signal(SIGPIPE, SIG_IGN);
  setvbuf(stdout, NULL, _IOLBF, 0);
  uv_loop_init(&cli.loop);
  rc = sg_sim_smsc_new(&cli.loop, &cfg, &cli.sim);
  char err[256] = "";
  if (rc == 0)
    rc = sg_sim_smsc_start(cli.sim, err, sizeof err);
  if (rc != 0) {
    fprintf(stderr, "smsgate sim smsc: %s\n", err[0] ? err : sg_strerror(rc));
    if (cli.sim != NULL) {
      sg_sim_smsc_stop(cli.sim, NULL, NULL);
      uv_run(&cli.loop, UV_RUN_DEFAULT); /* let the stop complete */
      sg_sim_smsc_free(cli.sim);
    }
    uv_loop_close(&cli.loop);
    return 1;
  }
  printf("listening on %s:%u\n", cfg.host, (unsigned)sg_sim_smsc_port(cli.sim));
  if (sg_sim_smsc_tls_port(cli.sim) != 0)
    printf("listening (tls) on %s:%u\n", cfg.host,
           (unsigned)sg_sim_smsc_tls_port(cli.sim));
  fflush(stdout);
  start_signal(&cli, &cli.sig_int, SIGINT);
  start_signal(&cli, &cli.sig_term, SIGTERM);
  start_signal(&cli, &cli.sig_usr1, SIGUSR1);
  uv_timer_init(&cli.loop, &cli.stats_timer);
  cli.stats_timer.data = &cli;
  if (cli.stats_interval > 0)
    uv_timer_start(&cli.stats_timer, stats_timer_cb,
                   cli.stats_interval * 1000ull, cli.stats_interval * 1000ull);
  open_stdin(&cli);
  uv_run(&cli.loop, UV_RUN_DEFAULT);
  sg_sim_smsc_free(cli.sim);
  uv_loop_close(&cli.loop);
  return 0;
}

int sg_cmd_sim(int argc, char **argv) {
  if (argc < 2 || strcmp(argv[1], "--help") == 0 ||
      strcmp(argv[1], "-h") == 0) {
    fprintf(argc < 2 ? stderr : stdout,
            "usage: smsgate sim smsc [options]   an SMPP SMSC simulator "
            "(smsgate sim smsc --help)\n"
            "       smsgate sim load [options]   send texts to an SMSC "
            "through the SMPP\n"
            "                                    client connector, a load "
            "generator\n"
            "                                    (smsgate sim load --help)\n"
            "       smsgate sim sink [options]   a webhook receiver that "
            "counts and\n"
            "                                    checks signatures "
            "(smsgate sim sink --help)\n"
            "       smsgate sim modem [options]  a GSM modem on a "
            "pseudo-terminal or TCP\n"
            "                                    (smsgate sim modem --help)\n");
    return argc < 2 ? 2 : 0;
  }
  if (strcmp(argv[1], "smsc") == 0)
    return run_smsc(argc - 2, argv + 2);
  if (strcmp(argv[1], "load") == 0)
    return sg_cmd_sim_load(argc - 2, argv + 2);
  if (strcmp(argv[1], "sink") == 0)
    return sg_cmd_sim_sink(argc - 2, argv + 2);
  if (strcmp(argv[1], "modem") == 0)
    return sg_cmd_sim_modem(argc - 2, argv + 2);
  fprintf(stderr, "smsgate sim: unknown simulator '%s'\n", argv[1]);
  return 2;
}
