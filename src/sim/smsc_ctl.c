/* smsc_ctl.c - the SMSC simulator's controls: parsing the receipt outcome
 * mix, changing settings while it runs, the one-line control protocol
 * (stdin of `smsgate sim smsc`) and the counters as one JSON line.
 *
 * Nothing here touches a connection directly; it must never block or keep
 * state of its own.
 */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "sim/smsc_int.h"

/* ---- The outcome mix ----------------------------------------------------- */

static const struct {
  const char *name;
  sg_receipt_stat_t stat;
  uint16_t err;
} stats_names[] = {
    {"DELIVRD", SG_RECEIPT_DELIVRD, 0},  {"EXPIRED", SG_RECEIPT_EXPIRED, 27},
    {"DELETED", SG_RECEIPT_DELETED, 0},  {"UNDELIV", SG_RECEIPT_UNDELIV, 1},
    {"ACCEPTD", SG_RECEIPT_ACCEPTD, 0},  {"UNKNOWN", SG_RECEIPT_UNKNOWN, 0},
    {"REJECTD", SG_RECEIPT_REJECTD, 11}, {"ENROUTE", SG_RECEIPT_ENROUTE, 0},
};

static bool parse_uint(const char *s, size_t len, unsigned long max,
                       unsigned long *out) {
  if (len == 0 || len > 9)
    return false;
  unsigned long v = 0;
  for (size_t i = 0; i < len; i++) {
    if (s[i] < '0' || s[i] > '9')
      return false;
    v = v * 10 + (unsigned long)(s[i] - '0');
  }
  if (v > max)
    return false;
  *out = v;
  return true;
}

/* One "STAT=weight[:err]" item of len octets. */
static bool parse_item(const char *s, size_t len, sg_sim_dlr_mix_t *m) {
  const char *eq = memchr(s, '=', len);
  if (eq == NULL || m->n >= SG_SIM_MIX_MAX)
    return false;
  size_t nlen = (size_t)(eq - s);
  size_t k = 0, nnames = sizeof stats_names / sizeof stats_names[0];
  while (k < nnames && (strlen(stats_names[k].name) != nlen ||
                        strncasecmp(stats_names[k].name, s, nlen) != 0))
    k++;
  if (k == nnames)
    return false;
  const char *w = eq + 1, *end = s + len;
  const char *colon = memchr(w, ':', (size_t)(end - w));
  unsigned long weight, err = stats_names[k].err;
  if (!parse_uint(w, (size_t)((colon ? colon : end) - w), 1000000, &weight))
    return false;
  if (colon != NULL &&
      !parse_uint(colon + 1, (size_t)(end - colon - 1), 999, &err))
    return false;
  m->e[m->n].stat = stats_names[k].stat;
  m->e[m->n].weight = (uint32_t)weight;
  m->e[m->n].err = (uint16_t)err;
  m->n++;
  return true;
}

int sg_sim_dlr_mix_parse(const char *text, sg_sim_dlr_mix_t *out) {
  if (text == NULL || out == NULL)
    return SG_EINVAL;
  sg_sim_dlr_mix_t m;
  memset(&m, 0, sizeof m);
  const char *p = text;
  uint64_t sum = 0;
  for (;;) {
    const char *comma = strchr(p, ',');
    size_t len = comma ? (size_t)(comma - p) : strlen(p);
    if (!parse_item(p, len, &m))
      return SG_EINVAL;
    sum += m.e[m.n - 1].weight;
    if (comma == NULL)
      break;
    p = comma + 1;
  }
  if (sum == 0)
    return SG_EINVAL;
  *out = m;
  return 0;
}

/* ---- Settings ------------------------------------------------------------ */

static int set_fraction(double *to, double fraction) {
  if (!(fraction >= 0 && fraction <= 1))
    return SG_EINVAL;
  *to = fraction;
  return 0;
}

int sg_sim_smsc_set_throttle(sg_sim_smsc_t *sim, double fraction) {
  return set_fraction(&sim->cfg.throttle, fraction);
}

int sg_sim_smsc_set_nack(sg_sim_smsc_t *sim, double fraction) {
  return set_fraction(&sim->cfg.nack, fraction);
}

int sg_sim_smsc_set_latency(sg_sim_smsc_t *sim, uint32_t ms) {
  sim->cfg.latency_ms = ms;
  return 0;
}

int sg_sim_smsc_set_dlr_delay(sg_sim_smsc_t *sim, uint32_t ms) {
  sim->cfg.dlr_delay_ms = ms;
  return 0;
}

int sg_sim_smsc_set_drop_prob(sg_sim_smsc_t *sim, double p) {
  if (!(p >= 0 && p <= 1))
    return SG_EINVAL;
  sim->cfg.drop_prob = p;
  return 0;
}

/* Receipts already queued keep the outcome index they drew, so a new mix
 * must not be shorter than the old one. */
int sg_sim_smsc_set_dlr_mix(sg_sim_smsc_t *sim, const sg_sim_dlr_mix_t *mix) {
  uint32_t sum = 0;
  if (mix == NULL || mix->n == 0 || mix->n > SG_SIM_MIX_MAX)
    return SG_EINVAL;
  for (unsigned i = 0; i < mix->n; i++)
    sum += mix->e[i].weight;
  if (sum == 0 || (mix->n < sim->cfg.dlr_mix.n && sim->receipts.count > 0))
    return SG_EINVAL;
  sim->cfg.dlr_mix = *mix;
  sim->mix_total = sum;
  return 0;
}

/* ---- Counters as JSON ---------------------------------------------------- */

typedef struct jbuf {
  char *p;
  size_t cap, len;
  bool full;
} jbuf_t;

static void jput(jbuf_t *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void jput(jbuf_t *b, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  size_t room = b->cap > b->len ? b->cap - b->len : 0;
  int n = vsnprintf(b->p + b->len, room, fmt, ap);
  va_end(ap);
  if (n < 0 || (size_t)n >= room)
    b->full = true;
  else
    b->len += (size_t)n;
}

int sg_sim_smsc_stats_json(const sg_sim_smsc_t *sim, bool final, char *buf,
                           size_t cap) {
  sg_sim_smsc_stats_t s;
  sg_sim_smsc_stats(sim, &s);
  jbuf_t b = {buf, cap, 0, false};
  uint64_t up = sim->started ? uv_now(sim->loop) - sim->started_at : 0;
#define U(name) jput(&b, ",\"" #name "\":%llu", (unsigned long long)s.name)
  jput(&b, "{\"type\":\"stats\",\"final\":%s,\"uptime_ms\":%llu",
       final ? "true" : "false", (unsigned long long)up);
  U(connections);
  U(connections_active);
  U(binds);
  U(binds_active);
  U(bind_failures);
  U(unbinds);
  U(submits);
  U(submit_sm);
  U(data_sm);
  U(submit_multi);
  U(resp_ok);
  U(resp_throttled);
  U(resp_error);
  U(receipts_sent);
  U(receipts_acked);
  U(receipts_failed);
  U(receipts_retried);
  U(receipts_pending);
  U(receipts_dropped);
  U(receipts_abandoned);
  U(receipt_rtt_n);
  U(receipt_rtt_us_mean);
  U(receipt_rtt_us_p50);
  U(receipt_rtt_us_p99);
  U(receipt_rtt_us_max);
  U(receipt_wait_ms_mean);
  U(receipt_wait_ms_p50);
  U(receipt_wait_ms_p99);
  U(receipt_inflight_mean);
  U(receipt_inflight_max);
  U(mo_sent);
  U(mo_acked);
  U(mo_failed);
  U(mo_pending);
  U(drops);
  U(resets);
  U(hangs);
  U(nacks);
  U(late);
  U(protocol_errors);
#undef U
  jput(&b, ",\"resps\":{");
  for (unsigned i = 0; i < s.n_status; i++)
    jput(&b, "%s\"0x%08x\":%llu", i ? "," : "", (unsigned)s.status[i].status,
         (unsigned long long)s.status[i].count);
  jput(&b, "}}");
  if (b.full)
    return SG_ENOSPC;
  return (int)b.len;
}

/* ---- Control lines ------------------------------------------------------- */

/* Splits off the next word of *p (advancing it); returns its length. */
static size_t next_word(const char **p, const char **word) {
  const char *s = *p;
  while (*s != '\0' && isspace((unsigned char)*s))
    s++;
  *word = s;
  while (*s != '\0' && !isspace((unsigned char)*s))
    s++;
  *p = s;
  return (size_t)(s - *word);
}

static bool word_is(const char *w, size_t n, const char *lit) {
  return strlen(lit) == n && memcmp(w, lit, n) == 0;
}

static bool to_double(const char *s, double *out) {
  char *end;
  errno = 0;
  double v = strtod(s, &end);
  while (*end != '\0' && isspace((unsigned char)*end))
    end++;
  if (end == s || *end != '\0' || errno != 0)
    return false;
  *out = v;
  return true;
}

static int reply_err(char *reply, size_t cap, const char *msg) {
  snprintf(reply, cap, "error: %s", msg);
  return SG_EINVAL;
}

/* "-p 2,1,2": the next word, a list of part numbers 1..255 (at most 32). */
static bool parse_parts(const char **args, uint8_t *only, size_t *n_only) {
  const char *w;
  size_t n = next_word(args, &w);
  unsigned long v = 0;
  bool digit = false;
  *n_only = 0;
  for (size_t i = 0; i <= n; i++) {
    if (i < n && w[i] >= '0' && w[i] <= '9') {
      v = v * 10 + (unsigned long)(w[i] - '0');
      digit = true;
      if (v > 255)
        return false;
    } else if ((i == n || w[i] == ',') && digit && v >= 1 && *n_only < 32) {
      only[(*n_only)++] = (uint8_t)v;
      v = 0;
      digit = false;
    } else {
      return false;
    }
  }
  return *n_only > 0;
}

/* "mo [-u|-g] [-w] [-s] [-p N,N...] [-r REF] FROM TO TEXT..." */
static int cmd_mo(sg_sim_smsc_t *sim, const char *args, char *reply,
                  size_t cap) {
  static const char usage[] =
      "usage: mo [-u|-g] [-w] [-s] [-p N,N...] [-r REF] FROM TO TEXT";
  const char *w;
  size_t n = next_word(&args, &w);
  sg_sim_mo_opts_t o = {.encoding = SG_ENC_AUTO};
  uint8_t only[32];
  while (n == 2 && w[0] == '-') {
    if (w[1] == 'u' || w[1] == 'g')
      o.encoding = w[1] == 'u' ? SG_ENC_UCS2 : SG_ENC_GSM7;
    else if (w[1] == 'w')
      o.ref16 = true;
    else if (w[1] == 's')
      o.sar = true;
    else if (w[1] == 'r') {
      n = next_word(&args, &w);
      unsigned long v = 0;
      char num[8];
      if (n == 0 || n > 5)
        return reply_err(reply, cap, usage);
      snprintf(num, sizeof num, "%.*s", (int)n, w);
      if (!parse_uint(num, n, 65535, &v) || v == 0)
        return reply_err(reply, cap, usage);
      o.ref = (uint16_t)v;
    } else if (w[1] != 'p' || !parse_parts(&args, only, &o.n_only))
      return reply_err(reply, cap, usage);
    o.only = only;
    n = next_word(&args, &w);
  }
  char from[32], to[32];
  if (n == 0 || n >= sizeof from)
    return reply_err(reply, cap, usage);
  snprintf(from, sizeof from, "%.*s", (int)n, w);
  n = next_word(&args, &w);
  if (n == 0 || n >= sizeof to)
    return reply_err(reply, cap, usage);
  snprintf(to, sizeof to, "%.*s", (int)n, w);
  while (*args == ' ' || *args == '\t')
    args++;
  int rc = sg_sim_smsc_mo_ex(sim, NULL, from, to, args, &o);
  if (rc < 0) {
    snprintf(reply, cap, "error: %s",
             rc == SG_ENOENT ? "no receiver bound" : sg_strerror(rc));
    return rc;
  }
  snprintf(reply, cap, "ok: mo queued, %d part%s", rc, rc == 1 ? "" : "s");
  return 0;
}

/* Commands that take one number. */
static int cmd_number(sg_sim_smsc_t *sim, const char *w, size_t n,
                      const char *arg, char *reply, size_t cap) {
  double v;
  if (!to_double(arg, &v) || v < 0)
    return reply_err(reply, cap, "expected a number >= 0");
  int rc = SG_EINVAL;
  if (word_is(w, n, "throttle"))
    rc = sg_sim_smsc_set_throttle(sim, v);
  else if (word_is(w, n, "drop-prob"))
    rc = sg_sim_smsc_set_drop_prob(sim, v);
  else if (word_is(w, n, "mo-rate"))
    rc = sg_sim_smsc_set_mo_rate(sim, v);
  else if (v <= 86400000.0 && word_is(w, n, "latency"))
    rc = sg_sim_smsc_set_latency(sim, (uint32_t)v);
  else if (v <= 86400000.0 && word_is(w, n, "dlr-delay"))
    rc = sg_sim_smsc_set_dlr_delay(sim, (uint32_t)v);
  if (rc != 0)
    return reply_err(reply, cap, "value out of range");
  snprintf(reply, cap, "ok: %.*s %g", (int)n, w, v);
  return 0;
}

int sg_sim_smsc_command(sg_sim_smsc_t *sim, const char *line, char *reply,
                        size_t cap) {
  const char *w, *args = line;
  size_t n = next_word(&args, &w);
  while (*args == ' ' || *args == '\t')
    args++;
  if (n == 0 || word_is(w, n, "help")) {
    snprintf(reply, cap,
             "commands: mo [-u|-g] [-w] [-s] [-p N,N] FROM TO TEXT | drop | "
             "stats | throttle F | latency MS | dlr-delay MS | drop-prob P | "
             "mo-rate R | "
             "dlr-mix MIX");
    return n == 0 ? SG_EINVAL : 0;
  }
  if (word_is(w, n, "mo"))
    return cmd_mo(sim, args, reply, cap);
  if (word_is(w, n, "drop")) {
    snprintf(reply, cap, "ok: dropped %u connection(s)", sg_sim_smsc_drop(sim));
    return 0;
  }
  if (word_is(w, n, "stats")) {
    int rc = sg_sim_smsc_stats_json(sim, false, reply, cap);
    return rc < 0 ? rc : 0;
  }
  if (word_is(w, n, "dlr-mix")) {
    sg_sim_dlr_mix_t mix;
    if (sg_sim_dlr_mix_parse(args, &mix) != 0 ||
        sg_sim_smsc_set_dlr_mix(sim, &mix) != 0)
      return reply_err(reply, cap, "bad mix (e.g. DELIVRD=90,UNDELIV=10)");
    snprintf(reply, cap, "ok: dlr-mix %s", args);
    return 0;
  }
  if (word_is(w, n, "throttle") || word_is(w, n, "latency") ||
      word_is(w, n, "dlr-delay") || word_is(w, n, "drop-prob") ||
      word_is(w, n, "mo-rate"))
    return cmd_number(sim, w, n, args, reply, cap);
  snprintf(reply, cap, "error: unknown command '%.*s' (try help)", (int)n, w);
  return SG_EINVAL;
}
