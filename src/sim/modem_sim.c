/* modem_sim.c - the GSM modem simulator: a pseudo-terminal that answers AT
 * commands in PDU mode like a real modem, with status reports, stored
 * inbound messages and injected faults (see sim/modem_sim.h).
 *
 * It must never block the loop: the pty master is non-blocking and driven
 * by a uv_poll_t (a TCP peer by uv_tcp_t), and what the peer does not read
 * waits in a bounded output buffer. It keeps its own descriptor of the slave open so that the master
 * never sees a hang-up while no connector has the device open.
 */
#define _XOPEN_SOURCE 700 /* posix_openpt, grantpt, ptsname */
#include "sim/modem_sim.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include "core/alloc.h"
#include "core/error.h"
#include "core/segment.h"

#define CMD_MAX 1024
#define PDU_HEX_MAX (2 * (SG_TPDU_MAX + 12))
#define OUT_MAX (256 * 1024)
#define SLOTS 100
#define SUBS_KEPT 256
#define REPORTS_MAX 1024
#define SCA_DIGITS "491710760000"

typedef struct slot {
  bool used;
  bool direct;  /* to be routed with +CMT, not stored (CNMI mt=2) */
  bool unacked; /* sent with +CMT, waiting for AT+CNMA */
  uint64_t seq; /* arrival order */
  uint8_t stat; /* 0 REC UNREAD, 1 REC READ */
  uint8_t pdu[SG_TPDU_MAX + 12];
  size_t len, tpdu_len;
} slot_t;

typedef struct report {
  uint64_t due_ms;
  uint8_t mr;
  sg_tpdu_addr_t ra;
  int64_t submit_ms;
} report_t;

struct sg_sim_modem {
  uv_loop_t *loop;
  sg_sim_modem_config_t cfg;
  bool reports_held; /* sg_sim_modem_hold_reports */
  char *link, *pin;
  int master, slave;
  char tty[128];
  uv_poll_t poll;
  uv_timer_t timer;
  int poll_events;
  /* TCP mode: a listening socket and one peer at a time (as ser2net) */
  bool tcp;
  uv_tcp_t *server, client;
  bool client_open, writing;
  uv_write_t wreq;
  uint8_t *wbuf;
  int open_handles;
  void (*stopped_cb)(void *arg);
  void *stopped_arg;
  /* input */
  char cmd[CMD_MAX + 1];
  size_t cmd_len;
  bool cmd_overlong;
  bool pdu_mode;
  size_t pdu_expect;
  char pdu[PDU_HEX_MAX + 1];
  size_t pdu_len;
  bool pdu_overlong;
  /* output */
  uint8_t *out;
  size_t out_len;
  /* modem state */
  bool echo, pin_ok, text_mode;
  bool csms;          /* AT+CSMS=1: +CMT and +CDS want AT+CNMA */
  unsigned cnmi_mt;   /* AT+CNMI=<mode>,<mt>: 2 routes MO with +CMT */
  unsigned cds_unacked;
  uint64_t slot_seq;
  uint8_t next_mr;
  uint64_t rng;
  slot_t slots[SLOTS];
  report_t *reports;
  size_t rep_head, rep_count;
  sg_tpdu_submit_t *subs;
  uint8_t sub_mr[SUBS_KEPT];
  size_t sub_count;
  sg_sim_modem_stats_t st;
};

void sg_sim_modem_config_default(sg_sim_modem_config_t *cfg) {
  memset(cfg, 0, sizeof *cfg);
  cfg->cms_error = 500;
  cfg->report_delay_ms = 200;
  cfg->seed = 1;
}

static double rnd(sg_sim_modem_t *s) {
  s->rng ^= s->rng >> 12;
  s->rng ^= s->rng << 25;
  s->rng ^= s->rng >> 27;
  return (double)((s->rng * 2685821657736338717ull) >> 11) / 9007199254740992.0;
}

static int64_t now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- Output -------------------------------------------------------------- */

static void update_poll(sg_sim_modem_t *s);

static void tcp_flush(sg_sim_modem_t *s);

static void flush_out(sg_sim_modem_t *s) {
  if (s->tcp) {
    tcp_flush(s);
    return;
  }
  while (s->out_len > 0) {
    ssize_t n = write(s->master, s->out, s->out_len);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      break;
    memmove(s->out, s->out + n, s->out_len - (size_t)n);
    s->out_len -= (size_t)n;
  }
  update_poll(s);
}

static void put(sg_sim_modem_t *s, const char *text) {
  size_t n = strlen(text);
  if (s->out == NULL || OUT_MAX - s->out_len < n || (s->tcp && !s->client_open))
    return; /* nobody reads: what does not fit is lost, as on a real line */
  memcpy(s->out + s->out_len, text, n);
  s->out_len += n;
}

/* A harmless URC, sometimes, before a line of an answer. */
static void maybe_urc(sg_sim_modem_t *s) {
  static const char *const URCS[] = {"\r\nRING\r\n", "\r\n+CREG: 1\r\n",
                                     "\r\n^RSSI:17\r\n", "\r\n+CIEV: 2,3\r\n"};
  if (s->cfg.urc_rate <= 0 || rnd(s) >= s->cfg.urc_rate)
    return;
  put(s, URCS[(size_t)(rnd(s) * 4) % 4]);
  s->st.urcs_injected++;
}

static void ans_line(sg_sim_modem_t *s, const char *line) {
  maybe_urc(s);
  put(s, "\r\n");
  put(s, line);
  put(s, "\r\n");
}

static void ans_final(sg_sim_modem_t *s, const char *code) {
  ans_line(s, code);
}

static void ans_cms(sg_sim_modem_t *s, unsigned code) {
  char b[40];
  snprintf(b, sizeof b, "+CMS ERROR: %u", code);
  ans_final(s, b);
}

/* ---- Status reports ------------------------------------------------------ */

static void send_report(sg_sim_modem_t *s, const report_t *r) {
  sg_tpdu_status_report_t sr;
  memset(&sr, 0, sizeof sr);
  sr.mr = r->mr;
  sr.ra = r->ra;
  sr.mms = true;
  if (sg_tpdu_time_from_ms(r->submit_ms, 4, &sr.scts) != 0 ||
      sg_tpdu_time_from_ms(now_ms(), 4, &sr.dt) != 0)
    return;
  sr.st = s->cfg.report_status;
  uint8_t pdu[SG_TPDU_MAX];
  size_t n = 0;
  if (sg_tpdu_encode_status_report(&sr, pdu, sizeof pdu, &n) != 0)
    return;
  char line[2 * SG_TPDU_MAX + 64];
  int w = snprintf(line, sizeof line, "\r\n+CDS: %zu\r\n", n);
  sg_tpdu_hex_encode(pdu, n, line + w, sizeof line - (size_t)w - 3);
  strcpy(line + w + 2 * n, "\r\n");
  put(s, line);
  s->st.reports++;
  if (s->csms)
    s->cds_unacked++;
}

static void timer_cb(uv_timer_t *t);

static void arm_timer(sg_sim_modem_t *s) {
  if (s->rep_count == 0 || s->open_handles == 0 || s->reports_held)
    return;
  uint64_t due = s->reports[s->rep_head].due_ms, now = uv_now(s->loop);
  uv_timer_start(&s->timer, timer_cb, due > now ? due - now : 0, 0);
}

static void timer_cb(uv_timer_t *t) {
  sg_sim_modem_t *s = t->data;
  uint64_t now = uv_now(s->loop);
  while (!s->reports_held && s->rep_count > 0 &&
         s->reports[s->rep_head].due_ms <= now) {
    if (!s->cfg.silent)
      send_report(s, &s->reports[s->rep_head]);
    s->rep_head = (s->rep_head + 1) % REPORTS_MAX;
    s->rep_count--;
  }
  flush_out(s);
  arm_timer(s);
}

/* ---- AT+CMGS ------------------------------------------------------------- */

static void record_submit(sg_sim_modem_t *s, const sg_tpdu_submit_t *sub,
                          uint8_t mr) {
  size_t i = s->sub_count % SUBS_KEPT;
  s->subs[i] = *sub;
  s->sub_mr[i] = mr;
  s->sub_count++;
}

static void queue_report(sg_sim_modem_t *s, const sg_tpdu_submit_t *sub,
                         uint8_t mr) {
  if (s->rep_count >= REPORTS_MAX)
    return;
  report_t *r = &s->reports[(s->rep_head + s->rep_count) % REPORTS_MAX];
  r->due_ms = uv_now(s->loop) + s->cfg.report_delay_ms;
  r->mr = mr;
  r->ra = sub->da;
  r->submit_ms = now_ms();
  s->rep_count++;
  if (s->rep_count == 1)
    arm_timer(s);
}

/* The PDU after the prompt ended with Ctrl-Z (TS 27.005 3.5.1). */
static void finish_cmgs(sg_sim_modem_t *s) {
  uint8_t pdu[SG_TPDU_MAX + 12];
  size_t n = 0, sca = 0;
  static sg_tpdu_submit_t sub;
  if (s->pdu_overlong ||
      sg_tpdu_hex_decode(s->pdu, s->pdu_len, pdu, sizeof pdu, &n) != 0 ||
      sg_tpdu_decode_sca(pdu, n, NULL, &sca) != 0 || n - sca != s->pdu_expect ||
      sg_tpdu_decode_submit(pdu + sca, n - sca, &sub) != 0) {
    ans_cms(s, 304); /* invalid PDU mode parameter */
    return;
  }
  if (s->cfg.cms_error_rate > 0 && rnd(s) < s->cfg.cms_error_rate) {
    s->st.cms_errors++;
    ans_cms(s, s->cfg.cms_error);
    return;
  }
  uint8_t mr = s->next_mr++;
  record_submit(s, &sub, mr);
  s->st.submitted++;
  if (sub.srr)
    queue_report(s, &sub, mr);
  char b[32];
  snprintf(b, sizeof b, "+CMGS: %u", mr);
  ans_line(s, b);
  ans_final(s, "OK");
}

static void pdu_byte(sg_sim_modem_t *s, uint8_t c) {
  if (c == 0x1A) {
    s->pdu_mode = false;
    finish_cmgs(s);
  } else if (c == 0x1B) { /* ESC: the message is not sent */
    s->pdu_mode = false;
    ans_final(s, "OK");
  } else if (c != '\r' && c != '\n') {
    if (s->pdu_len < PDU_HEX_MAX)
      s->pdu[s->pdu_len++] = (char)c;
    else
      s->pdu_overlong = true;
  }
}

/* ---- Stored messages ----------------------------------------------------- */

static void show_slot(sg_sim_modem_t *s, unsigned i, const char *verb) {
  slot_t *sl = &s->slots[i - 1];
  char head[64];
  if (strcmp(verb, "+CMGR") == 0)
    snprintf(head, sizeof head, "+CMGR: %u,,%zu", sl->stat, sl->tpdu_len);
  else
    snprintf(head, sizeof head, "+CMGL: %u,%u,,%zu", i, sl->stat, sl->tpdu_len);
  ans_line(s, head);
  char hex[2 * (SG_TPDU_MAX + 12) + 1];
  sg_tpdu_hex_encode(sl->pdu, sl->len, hex, sizeof hex - 1);
  hex[2 * sl->len] = '\0';
  ans_line(s, hex);
}

static bool parse_uint(const char *p, unsigned max, unsigned *v) {
  char *end;
  errno = 0;
  unsigned long x = strtoul(p, &end, 10);
  if (end == p || errno != 0 || x > max)
    return false;
  while (*end == ' ')
    end++;
  if (*end != '\0' && *end != ',')
    return false;
  *v = (unsigned)x;
  return true;
}

static void cmd_cmgr(sg_sim_modem_t *s, const char *arg) {
  unsigned i;
  if (!parse_uint(arg, SLOTS, &i) || i == 0 || !s->slots[i - 1].used) {
    ans_cms(s, 321); /* invalid memory index */
    return;
  }
  show_slot(s, i, "+CMGR");
  s->slots[i - 1].stat = 1;
  s->st.mo_read++;
  ans_final(s, "OK");
}

static void cmd_cmgl(sg_sim_modem_t *s, const char *arg) {
  unsigned want = 4;
  if (*arg != '\0' && (!parse_uint(arg, 4, &want) || want == 2 || want == 3)) {
    ans_cms(s, 302);
    return;
  }
  for (unsigned i = 1; i <= SLOTS; i++) {
    slot_t *sl = &s->slots[i - 1];
    if (sl->used && (want == 4 || sl->stat == want)) {
      show_slot(s, i, "+CMGL");
      sl->stat = 1;
    }
  }
  ans_final(s, "OK");
}

static void cmd_cmgd(sg_sim_modem_t *s, const char *arg) {
  unsigned i;
  if (!parse_uint(arg, SLOTS, &i) || i == 0) {
    ans_cms(s, 321);
    return;
  }
  if (s->slots[i - 1].used) {
    s->slots[i - 1].used = false;
    s->st.mo_deleted++;
  }
  ans_final(s, "OK");
}

/* The oldest message routed with +CMT and not yet acknowledged, or the
 * oldest waiting to be routed (unacked false). */
static slot_t *direct_head(sg_sim_modem_t *s) {
  slot_t *best = NULL;
  for (unsigned i = 0; i < SLOTS; i++) {
    slot_t *sl = &s->slots[i];
    if (sl->used && sl->direct && (best == NULL || sl->seq < best->seq))
      best = sl;
  }
  return best;
}

/* +CMT: one at a time, the next after AT+CNMA (TS 27.005 3.4.1). */
static void send_direct(sg_sim_modem_t *s) {
  slot_t *sl = direct_head(s);
  if (sl == NULL || sl->unacked || s->cfg.silent)
    return;
  char line[2 * (SG_TPDU_MAX + 12) + 64];
  int w = snprintf(line, sizeof line, "\r\n+CMT: ,%zu\r\n", sl->tpdu_len);
  sg_tpdu_hex_encode(sl->pdu, sl->len, line + w, sizeof line - (size_t)w - 3);
  strcpy(line + w + 2 * sl->len, "\r\n");
  put(s, line);
  sl->unacked = true;
  s->st.mo_direct++;
}

static void cmd_cnma(sg_sim_modem_t *s) {
  slot_t *sl = direct_head(s);
  if (sl != NULL && sl->unacked) {
    sl->used = false;
    s->st.cnma++;
    ans_final(s, "OK");
    send_direct(s);
  } else if (s->cds_unacked > 0) {
    s->cds_unacked--;
    s->st.cnma++;
    ans_final(s, "OK");
  } else {
    ans_cms(s, 340); /* no +CNMA acknowledgement expected */
  }
}

static int store_part(sg_sim_modem_t *s, const sg_tpdu_deliver_t *d) {
  unsigned i = 0;
  while (i < SLOTS && s->slots[i].used)
    i++;
  if (i == SLOTS)
    return SG_ENOSPC;
  slot_t *sl = &s->slots[i];
  const sg_tpdu_addr_t sca = {1, 1, SCA_DIGITS};
  size_t n = 0, m = 0;
  int rc = sg_tpdu_encode_sca(&sca, sl->pdu, sizeof sl->pdu, &n);
  if (rc == 0)
    rc = sg_tpdu_encode_deliver(d, sl->pdu + n, sizeof sl->pdu - n, &m);
  if (rc != 0)
    return rc;
  sl->used = true;
  sl->stat = 0;
  sl->len = n + m;
  sl->tpdu_len = m;
  sl->seq = ++s->slot_seq;
  sl->direct = s->csms && s->cnmi_mt == 2;
  sl->unacked = false;
  if (sl->direct) {
    send_direct(s);
    return 0;
  }
  char b[48];
  snprintf(b, sizeof b, "\r\n+CMTI: \"SM\",%u\r\n", i + 1);
  put(s, b);
  s->st.mo_stored++;
  return 0;
}

static int set_sender(sg_tpdu_addr_t *oa, const char *from) {
  size_t n = strlen(from);
  if (n == 0 || n >= sizeof oa->addr)
    return SG_EINVAL;
  bool digits =
      strspn(from + (from[0] == '+'), "0123456789") == n - (from[0] == '+');
  oa->ton = digits ? 1 : 5;
  oa->npi = digits ? 1 : 0;
  strcpy(oa->addr, from + (digits && from[0] == '+'));
  return 0;
}

int sg_sim_modem_mo(sg_sim_modem_t *s, const char *from, const char *text) {
  static sg_tpdu_deliver_t d;
  memset(&d, 0, sizeof d);
  if (set_sender(&d.oa, from) != 0)
    return SG_EINVAL;
  sg_segments_t *segs = sg_malloc(sizeof *segs);
  if (segs == NULL)
    return SG_ENOMEM;
  sg_seg_opts_t opts = {.encoding = SG_ENC_AUTO,
                        .max_parts = 255,
                        .ref = (uint16_t)(s->st.mo_stored + 1)};
  int rc =
      sg_segment_text((const uint8_t *)text, strlen(text), &opts, segs, NULL);
  unsigned free_slots = 0;
  for (unsigned i = 0; i < SLOTS; i++)
    free_slots += !s->slots[i].used;
  if (rc == 0 && segs->nparts > free_slots)
    rc = SG_ENOSPC;
  d.dcs = sg_tpdu_dcs_for(segs->encoding);
  for (unsigned p = 0; rc == 0 && p < segs->nparts; p++) {
    const sg_seg_part_t *part = &segs->parts[p];
    memcpy(d.udh, part->udh, part->udh_len);
    d.udh_len = part->udh_len;
    memcpy(d.ud, part->ud, part->ud_len);
    d.ud_len = part->ud_len;
    d.mms = p + 1 == segs->nparts;
    rc = sg_tpdu_time_from_ms(now_ms(), 4, &d.scts);
    if (rc == 0)
      rc = store_part(s, &d);
  }
  unsigned parts = segs->nparts;
  sg_free(segs);
  flush_out(s);
  if (rc != 0)
    return rc == SG_ENOSPC ? SG_ENOSPC : SG_EINVAL;
  return (int)parts;
}

/* ---- Commands ------------------------------------------------------------ */

/* Whether `c` (after "AT") is `name`, case-insensitively; *arg gets what
 * follows it. */
static bool is_cmd(const char *c, const char *name, const char **arg) {
  size_t n = strlen(name);
  if (strncasecmp(c, name, n) != 0)
    return false;
  *arg = c + n;
  return true;
}

static void cmd_cpin(sg_sim_modem_t *s, const char *arg) {
  char pin[16];
  size_t k = 0;
  s->st.pin_attempts++;
  for (; *arg != '\0' && k < sizeof pin - 1; arg++)
    if (*arg != '"')
      pin[k++] = *arg;
  pin[k] = '\0';
  if (s->pin != NULL && strcmp(pin, s->pin) != 0) {
    ans_final(s, "+CME ERROR: 16"); /* incorrect password */
    return;
  }
  s->pin_ok = true;
  ans_final(s, "OK");
}

static void cmd_cmgs(sg_sim_modem_t *s, const char *arg) {
  unsigned n;
  if (s->text_mode || !parse_uint(arg, SG_TPDU_MAX, &n) || n < 7) {
    ans_cms(s, 304);
    return;
  }
  if (!s->pin_ok) {
    ans_cms(s, 311); /* SIM PIN required */
    return;
  }
  s->pdu_mode = true;
  s->pdu_expect = n;
  s->pdu_len = 0;
  s->pdu_overlong = false;
  put(s, "\r\n> ");
}

/* Commands that only answer OK (their settings change nothing here). */
static bool just_ok(const char *c) {
  static const char *const OK_CMDS[] = {
      "+CMEE=", "+CREG=",  "+CSCA=", "+CPMS=",
      "+CEREG=", "+CGREG=", NULL};
  const char *arg;
  for (size_t i = 0; OK_CMDS[i] != NULL; i++)
    if (is_cmd(c, OK_CMDS[i], &arg))
      return true;
  return false;
}

static void run_at(sg_sim_modem_t *s, const char *c) {
  const char *arg;
  if (*c == '\0' || strcasecmp(c, "E0") == 0 || strcasecmp(c, "E1") == 0 ||
      strcasecmp(c, "Z") == 0) {
    if (*c != '\0')
      s->echo = strcasecmp(c, "E0") != 0;
    ans_final(s, "OK");
  } else if (just_ok(c)) {
    ans_final(s, "OK");
  } else if (is_cmd(c, "+CMGF=", &arg)) {
    s->text_mode = strcmp(arg, "1") == 0;
    ans_final(s, "OK");
  } else if (strcasecmp(c, "+CPIN?") == 0) {
    ans_line(s, s->pin_ok ? "+CPIN: READY" : "+CPIN: SIM PIN");
    ans_final(s, "OK");
  } else if (is_cmd(c, "+CPIN=", &arg)) {
    cmd_cpin(s, arg);
  } else if (strcasecmp(c, "+CREG?") == 0) {
    ans_line(s, s->pin_ok && !s->cfg.eps_only ? "+CREG: 0,1" : "+CREG: 0,0");
    ans_final(s, "OK");
  } else if (strcasecmp(c, "+CEREG?") == 0) {
    ans_line(s, s->pin_ok && s->cfg.eps_only ? "+CEREG: 0,1" : "+CEREG: 0,4");
    ans_final(s, "OK");
  } else if (is_cmd(c, "+CSMS=", &arg)) {
    s->csms = strcmp(arg, "1") == 0;
    ans_line(s, "+CSMS: 1,1,1");
    ans_final(s, "OK");
  } else if (is_cmd(c, "+CNMI=", &arg)) {
    unsigned mode = 0, mt = 0;
    if (sscanf(arg, "%u,%u", &mode, &mt) < 1)
      mt = 0;
    s->cnmi_mt = mt;
    ans_final(s, "OK");
    for (unsigned i = 0; i < SLOTS; i++) /* not acknowledged: resent */
      s->slots[i].unacked = false;
    send_direct(s);
  } else if (strcasecmp(c, "+CNMA") == 0 || strcasecmp(c, "+CNMA=0") == 0) {
    cmd_cnma(s);
  } else if (strcasecmp(c, "+CSQ") == 0) {
    ans_line(s, "+CSQ: 21,99");
    ans_final(s, "OK");
  } else if (strcasecmp(c, "+COPS?") == 0) {
    ans_line(s, "+COPS: 0,0,\"smsgate sim\",0");
    ans_final(s, "OK");
  } else if (strcasecmp(c, "+CSCA?") == 0) {
    ans_line(s, "+CSCA: \"+" SCA_DIGITS "\",145");
    ans_final(s, "OK");
  } else if (is_cmd(c, "+CMGS=", &arg)) {
    cmd_cmgs(s, arg);
  } else if (is_cmd(c, "+CMGR=", &arg)) {
    cmd_cmgr(s, arg);
  } else if (is_cmd(c, "+CMGL=", &arg) || strcasecmp(c, "+CMGL") == 0) {
    cmd_cmgl(s, strcasecmp(c, "+CMGL") == 0 ? "" : arg);
  } else if (is_cmd(c, "+CMGD=", &arg)) {
    cmd_cmgd(s, arg);
  } else {
    ans_final(s, "ERROR");
  }
}

static void run_command(sg_sim_modem_t *s) {
  s->cmd[s->cmd_len] = '\0';
  s->st.commands++;
  if (s->echo) {
    put(s, s->cmd);
    put(s, "\r");
  }
  if (s->cmd_overlong || strncasecmp(s->cmd, "AT", 2) != 0)
    ans_final(s, "ERROR");
  else
    run_at(s, s->cmd + 2);
}

static void input(sg_sim_modem_t *s, const uint8_t *buf, size_t n) {
  for (size_t i = 0; i < n && !s->cfg.silent; i++) {
    uint8_t c = buf[i];
    if (s->pdu_mode) {
      pdu_byte(s, c);
    } else if (c == '\r' || c == '\n') {
      if (s->cmd_len > 0 || s->cmd_overlong)
        run_command(s);
      s->cmd_len = 0;
      s->cmd_overlong = false;
    } else if (s->cmd_len < CMD_MAX) {
      s->cmd[s->cmd_len++] = (char)c;
    } else {
      s->cmd_overlong = true;
    }
  }
  flush_out(s);
}

/* ---- The pty ------------------------------------------------------------- */

static void update_poll(sg_sim_modem_t *s) {
  if (s->open_handles == 0 || s->stopped_cb != NULL)
    return;
  int want = UV_READABLE | (s->out_len > 0 ? UV_WRITABLE : 0);
  if (want != s->poll_events) {
    s->poll_events = want;
    uv_poll_start(&s->poll, want, NULL);
  }
}

static void poll_cb(uv_poll_t *p, int status, int events) {
  sg_sim_modem_t *s = p->data;
  if (status < 0)
    return;
  if (events & UV_READABLE) {
    uint8_t buf[4096];
    for (;;) {
      ssize_t n = read(s->master, buf, sizeof buf);
      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        break;
      input(s, buf, (size_t)n);
    }
  }
  flush_out(s);
}

/* ---- TCP (a serial bridge) ---------------------------------------------- */

static void tcp_write_cb(uv_write_t *req, int status) {
  sg_sim_modem_t *s = req->data;
  (void)status;
  s->writing = false;
  tcp_flush(s);
}

static void tcp_flush(sg_sim_modem_t *s) {
  if (!s->client_open || s->writing || s->out_len == 0 ||
      s->stopped_cb != NULL)
    return;
  memcpy(s->wbuf, s->out, s->out_len);
  uv_buf_t b = uv_buf_init((char *)s->wbuf, (unsigned)s->out_len);
  s->out_len = 0;
  s->wreq.data = s;
  if (uv_write(&s->wreq, (uv_stream_t *)&s->client, &b, 1, tcp_write_cb) == 0)
    s->writing = true;
}

static void client_closed(uv_handle_t *h) {
  sg_sim_modem_t *s = h->data;
  s->writing = false;
  if (--s->open_handles == 0 && s->stopped_cb != NULL)
    s->stopped_cb(s->stopped_arg);
}

static void drop_client(sg_sim_modem_t *s) {
  if (!s->client_open)
    return;
  s->client_open = false;
  s->out_len = 0;
  s->pdu_mode = false;
  s->cmd_len = 0;
  uv_close((uv_handle_t *)&s->client, client_closed);
}

static void tcp_alloc_cb(uv_handle_t *h, size_t hint, uv_buf_t *buf) {
  static char rbuf[4096];
  (void)h;
  (void)hint;
  *buf = uv_buf_init(rbuf, sizeof rbuf);
}

static void tcp_read_cb(uv_stream_t *st, ssize_t n, const uv_buf_t *buf) {
  sg_sim_modem_t *s = st->data;
  if (n < 0) {
    drop_client(s);
    return;
  }
  input(s, (const uint8_t *)buf->base, (size_t)n);
}

static void refused_closed(uv_handle_t *h) {
  sg_free(h);
}

/* One peer at a time, as a serial line has: a second is closed at once. */
static void connection_cb(uv_stream_t *server, int status) {
  sg_sim_modem_t *s = server->data;
  if (status != 0 || s->stopped_cb != NULL)
    return;
  if (s->client_open) {
    uv_tcp_t *other = sg_malloc(sizeof *other);
    if (other == NULL)
      return;
    uv_tcp_init(s->loop, other);
    uv_accept(server, (uv_stream_t *)other);
    uv_close((uv_handle_t *)other, refused_closed);
    return;
  }
  uv_tcp_init(s->loop, &s->client);
  s->client.data = s;
  if (uv_accept(server, (uv_stream_t *)&s->client) != 0) {
    uv_close((uv_handle_t *)&s->client, NULL);
    return;
  }
  s->client_open = true;
  s->open_handles++;
  s->st.connections++;
  s->out_len = 0;
  s->echo = true;
  uv_read_start((uv_stream_t *)&s->client, tcp_alloc_cb, tcp_read_cb);
}

static int open_tcp(sg_sim_modem_t *s, char *errbuf, size_t errcap) {
  char host[64];
  const char *colon = strrchr(s->cfg.tcp, ':');
  size_t hl = colon != NULL ? (size_t)(colon - s->cfg.tcp) : 0;
  struct sockaddr_storage sa;
  unsigned port = 0;
  if (colon == NULL || hl == 0 || hl >= sizeof host ||
      !parse_uint(colon + 1, 65535, &port)) {
    snprintf(errbuf, errcap, "expected --tcp HOST:PORT, got %s", s->cfg.tcp);
    return SG_EINVAL;
  }
  memcpy(host, s->cfg.tcp, hl);
  host[hl] = '\0';
  if (uv_ip4_addr(host, (int)port, (struct sockaddr_in *)&sa) != 0 &&
      uv_ip6_addr(host, (int)port, (struct sockaddr_in6 *)&sa) != 0) {
    snprintf(errbuf, errcap, "not an IP address: %s", host);
    return SG_EINVAL;
  }
  s->server = sg_malloc(sizeof *s->server);
  if (s->server == NULL)
    return SG_ENOMEM;
  uv_tcp_init(s->loop, s->server);
  s->server->data = s;
  int rc = uv_tcp_bind(s->server, (const struct sockaddr *)&sa, 0);
  if (rc == 0)
    rc = uv_listen((uv_stream_t *)s->server, 4, connection_cb);
  int len = sizeof sa;
  if (rc == 0)
    rc = uv_tcp_getsockname(s->server, (struct sockaddr *)&sa, &len);
  if (rc != 0) {
    snprintf(errbuf, errcap, "cannot listen on %s: %s", s->cfg.tcp,
             uv_strerror(rc));
    uv_close((uv_handle_t *)s->server, refused_closed); /* frees it */
    s->server = NULL;
    return SG_EIO;
  }
  unsigned bound = ntohs(sa.ss_family == AF_INET
                             ? ((struct sockaddr_in *)&sa)->sin_port
                             : ((struct sockaddr_in6 *)&sa)->sin6_port);
  snprintf(s->tty, sizeof s->tty, "tcp://%s%s%s:%u",
           strchr(host, ':') ? "[" : "", host, strchr(host, ':') ? "]" : "",
           bound);
  return 0;
}

static int open_pty(sg_sim_modem_t *s, char *errbuf, size_t errcap) {
  s->master = posix_openpt(O_RDWR | O_NOCTTY);
  const char *name = NULL;
  if (s->master < 0 || grantpt(s->master) != 0 || unlockpt(s->master) != 0 ||
      (name = ptsname(s->master)) == NULL || strlen(name) >= sizeof s->tty) {
    snprintf(errbuf, errcap, "cannot create a pseudo-terminal: %s",
             strerror(errno));
    return SG_EIO;
  }
  strcpy(s->tty, name);
  s->slave = open(s->tty, O_RDWR | O_NOCTTY | O_NONBLOCK);
  struct termios t;
  if (s->slave < 0 || tcgetattr(s->slave, &t) != 0) {
    snprintf(errbuf, errcap, "cannot open %s: %s", s->tty, strerror(errno));
    return SG_EIO;
  }
  cfmakeraw(&t);
  tcsetattr(s->slave, TCSANOW, &t);
  int fl = fcntl(s->master, F_GETFL);
  fcntl(s->master, F_SETFL, fl | O_NONBLOCK);
  return 0;
}

static int make_link(sg_sim_modem_t *s, char *errbuf, size_t errcap) {
  struct stat st;
  if (lstat(s->link, &st) == 0) {
    if (!S_ISLNK(st.st_mode)) {
      snprintf(errbuf, errcap, "%s exists and is not a symlink", s->link);
      return SG_EEXIST;
    }
    unlink(s->link);
  }
  if (symlink(s->tty, s->link) != 0) {
    snprintf(errbuf, errcap, "cannot link %s: %s", s->link, strerror(errno));
    return SG_EIO;
  }
  return 0;
}

static void sim_free_memory(sg_sim_modem_t *s) {
  sg_free(s->link);
  sg_free(s->pin);
  sg_free(s->out);
  sg_free(s->wbuf);
  sg_free(s->reports);
  sg_free(s->subs);
  sg_free(s);
}

int sg_sim_modem_new(uv_loop_t *loop, const sg_sim_modem_config_t *cfg,
                     sg_sim_modem_t **out, char *errbuf, size_t errcap) {
  if (cfg == NULL || (cfg->tcp == NULL) == (cfg->link == NULL) ||
      (cfg->link != NULL && cfg->link[0] == '\0'))
    return SG_EINVAL;
  sg_sim_modem_t *s = sg_calloc(1, sizeof *s);
  if (s == NULL)
    return SG_ENOMEM;
  s->loop = loop;
  s->cfg = *cfg;
  s->master = s->slave = -1;
  s->tcp = cfg->tcp != NULL;
  s->link = sg_strdup(s->tcp ? "" : cfg->link);
  s->wbuf = s->tcp ? sg_malloc(OUT_MAX) : NULL;
  s->pin = cfg->pin != NULL ? sg_strdup(cfg->pin) : NULL;
  s->out = sg_malloc(OUT_MAX);
  s->reports = sg_calloc(REPORTS_MAX, sizeof *s->reports);
  s->subs = sg_calloc(SUBS_KEPT, sizeof *s->subs);
  if (s->link == NULL || (cfg->pin != NULL && s->pin == NULL) ||
      s->out == NULL || s->reports == NULL || s->subs == NULL ||
      (s->tcp && s->wbuf == NULL)) {
    sim_free_memory(s);
    return SG_ENOMEM;
  }
  s->echo = true;
  s->pin_ok = cfg->pin == NULL;
  s->next_mr = cfg->first_mr;
  s->rng = cfg->seed != 0 ? cfg->seed : 1;
  if (s->tcp) {
    int rc = open_tcp(s, errbuf, errcap);
    if (rc != 0) { /* the listener (its own memory) closes on its own */
      sim_free_memory(s);
      return rc;
    }
    uv_timer_init(loop, &s->timer);
    s->timer.data = s;
    s->open_handles = 2;
    *out = s;
    return 0;
  }
  int rc = open_pty(s, errbuf, errcap);
  if (rc == 0)
    rc = make_link(s, errbuf, errcap);
  if (rc != 0) {
    if (s->slave >= 0)
      close(s->slave);
    if (s->master >= 0)
      close(s->master);
    sim_free_memory(s);
    return rc;
  }
  uv_poll_init(loop, &s->poll, s->master);
  uv_timer_init(loop, &s->timer);
  s->poll.data = s->timer.data = s;
  s->open_handles = 2;
  s->poll_events = UV_READABLE;
  uv_poll_start(&s->poll, UV_READABLE, poll_cb);
  *out = s;
  return 0;
}

const char *sg_sim_modem_tty(const sg_sim_modem_t *sim) {
  return sim->tty;
}

static void closed_cb(uv_handle_t *h) {
  sg_sim_modem_t *s = h->data;
  if (--s->open_handles == 0 && s->stopped_cb != NULL)
    s->stopped_cb(s->stopped_arg);
}

static void server_closed(uv_handle_t *h) {
  sg_sim_modem_t *s = h->data;
  sg_free(h);
  s->server = NULL;
  if (--s->open_handles == 0 && s->stopped_cb != NULL)
    s->stopped_cb(s->stopped_arg);
}

static void noop_stopped(void *arg) {
  (void)arg;
}

void sg_sim_modem_stop(sg_sim_modem_t *s, void (*stopped_cb)(void *arg),
                       void *arg) {
  if (s->stopped_cb != NULL)
    return;
  s->stopped_cb = stopped_cb != NULL ? stopped_cb : noop_stopped;
  s->stopped_arg = arg;
  if (s->tcp) {
    if (s->client_open) {
      s->client_open = false;
      uv_close((uv_handle_t *)&s->client, client_closed);
    }
    uv_close((uv_handle_t *)s->server, server_closed);
    uv_close((uv_handle_t *)&s->timer, closed_cb);
    return;
  }
  unlink(s->link);
  uv_close((uv_handle_t *)&s->poll, closed_cb);
  uv_close((uv_handle_t *)&s->timer, closed_cb);
}

void sg_sim_modem_free(sg_sim_modem_t *s) {
  if (s == NULL)
    return;
  if (s->slave >= 0)
    close(s->slave);
  if (s->master >= 0)
    close(s->master);
  sim_free_memory(s);
}

void sg_sim_modem_hold_reports(sg_sim_modem_t *s, bool hold) {
  s->reports_held = hold;
  if (!hold)
    arm_timer(s);
}

void sg_sim_modem_set_silent(sg_sim_modem_t *s, bool silent) {
  s->cfg.silent = silent;
  s->pdu_mode = false;
  s->cmd_len = 0;
}

void sg_sim_modem_set_cms_error_rate(sg_sim_modem_t *s, double rate) {
  s->cfg.cms_error_rate = rate;
}

void sg_sim_modem_set_urc_rate(sg_sim_modem_t *s, double rate) {
  s->cfg.urc_rate = rate;
}

void sg_sim_modem_stats(const sg_sim_modem_t *s, sg_sim_modem_stats_t *out) {
  *out = s->st;
  out->stored = 0;
  for (unsigned i = 0; i < SLOTS; i++)
    out->stored += s->slots[i].used;
}

int sg_sim_modem_submitted(const sg_sim_modem_t *s, size_t i,
                           sg_tpdu_submit_t *out, uint8_t *mr) {
  size_t first = s->sub_count > SUBS_KEPT ? s->sub_count - SUBS_KEPT : 0;
  if (i < first || i >= s->sub_count)
    return SG_ENOENT;
  *out = s->subs[i % SUBS_KEPT];
  if (mr != NULL)
    *mr = s->sub_mr[i % SUBS_KEPT];
  return 0;
}

static int parse_rate(const char *p, double *v) {
  char *end;
  double x = strtod(p, &end);
  if (end == p || *end != '\0' || !(x >= 0 && x <= 1))
    return SG_EINVAL;
  *v = x;
  return 0;
}

int sg_sim_modem_command(sg_sim_modem_t *s, const char *line, char *reply,
                         size_t cap) {
  double rate;
  if (strncmp(line, "mo ", 3) == 0) {
    char from[48];
    const char *sp = strchr(line + 3, ' ');
    if (sp == NULL || (size_t)(sp - line - 3) >= sizeof from) {
      snprintf(reply, cap, "usage: mo FROM TEXT");
      return SG_EINVAL;
    }
    memcpy(from, line + 3, (size_t)(sp - line - 3));
    from[sp - line - 3] = '\0';
    int rc = sg_sim_modem_mo(s, from, sp + 1);
    if (rc < 0) {
      snprintf(reply, cap, "mo: %s", sg_strerror(rc));
      return SG_EINVAL;
    }
    snprintf(reply, cap, "stored %d part(s)", rc);
  } else if (strcmp(line, "silent on") == 0 ||
             strcmp(line, "silent off") == 0) {
    sg_sim_modem_set_silent(s, strcmp(line, "silent on") == 0);
    snprintf(reply, cap, "%s", line);
  } else if (strcmp(line, "reports hold") == 0 ||
             strcmp(line, "reports release") == 0) {
    sg_sim_modem_hold_reports(s, strcmp(line, "reports hold") == 0);
    snprintf(reply, cap, "%s", line);
  } else if (strncmp(line, "cms ", 4) == 0 &&
             parse_rate(line + 4, &rate) == 0) {
    sg_sim_modem_set_cms_error_rate(s, rate);
    snprintf(reply, cap, "cms error rate %g", rate);
  } else if (strncmp(line, "urc ", 4) == 0 &&
             parse_rate(line + 4, &rate) == 0) {
    sg_sim_modem_set_urc_rate(s, rate);
    snprintf(reply, cap, "urc rate %g", rate);
  } else if (strcmp(line, "stats") == 0) {
    sg_sim_modem_stats_t st;
    sg_sim_modem_stats(s, &st);
    snprintf(reply, cap,
             "{\"commands\":%llu,\"submitted\":%llu,\"cms_errors\":%llu,"
             "\"reports\":%llu,\"mo_stored\":%llu,\"mo_read\":%llu,"
             "\"mo_deleted\":%llu,\"urcs_injected\":%llu,\"stored\":%u,"
             "\"pin_attempts\":%llu,\"mo_direct\":%llu,\"cnma\":%llu,"
             "\"connections\":%llu}",
             (unsigned long long)st.commands, (unsigned long long)st.submitted,
             (unsigned long long)st.cms_errors, (unsigned long long)st.reports,
             (unsigned long long)st.mo_stored, (unsigned long long)st.mo_read,
             (unsigned long long)st.mo_deleted,
             (unsigned long long)st.urcs_injected, st.stored,
             (unsigned long long)st.pin_attempts,
             (unsigned long long)st.mo_direct, (unsigned long long)st.cnma,
             (unsigned long long)st.connections);
  } else {
    snprintf(reply, cap,
             "unknown command (mo FROM TEXT, silent on|off, reports "
             "hold|release, cms RATE, urc RATE, stats)");
    return SG_EINVAL;
  }
  return 0;
}
