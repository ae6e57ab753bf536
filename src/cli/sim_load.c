/* sim_load.c - `smsgate sim load`: drives an SMSC through smsgate's own
 * SMPP client connector (connector/smpp_client.h), for interoperability
 * tests against other SMSCs and as the load generator of the benchmarks.
 *
 * Each text is segmented once (core/segment.h) and its parts kept; every
 * message then reuses them, only the 8-bit concatenation reference of its
 * UDH changing from one message to the next, so that sending costs no
 * allocation here (the connector keeps its own copy of each part). Parts
 * are fed to the connector until it answers SG_EBUSY and again on ready_cb;
 * results, receipts (matched to the SENT ids by their canonical key) and
 * inbound messages are counted; the summary is one JSON line on stdout.
 *
 * A thin shell like the other subcommands: every SMPP decision is made by
 * the connector. It never calls exit(); it returns 0 (everything SENT, and
 * with --dlr every receipt came), 1 (anything else) or 2 (usage error:
 * an option, a recipient, a text or a file that cannot be used).
 */
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <uv.h>

#include "cli/sim_load.h"
#include "connector/smpp_client.h"
#include "core/alloc.h"
#include "core/error.h"
#include "core/segment.h"

#define IDS_MAX 100          /* smsc ids listed in the summary */
#define FILE_MAX (64u << 20) /* --texts-file / --to-file */
#define IEI_CONCAT8 0x00     /* TS 23.040 9.2.3.24.1 */

/* ---- Options ------------------------------------------------------------- */

typedef struct load_opts {
  const char *host, *system_id, *password;
  unsigned long port, window, binds;
  sg_smpp_bind_type_t bind_type;
  double tps;
  unsigned long long count; /* 0: once per text */
  const char *to, *to_file, *from, *text, *texts_file, *ca;
  sg_encoding_t encoding;
  sg_smpp_long_mode_t long_mode;
  sg_msgid_mode_t id_mode;
  bool dlr, tls, verbose, quiet;
  double dlr_timeout_s, connect_timeout_s, reconnect_max_s, timeout_s;
} load_opts_t;

static void usage(FILE *f) {
  fprintf(
      f,
      "usage: smsgate sim load --to NUMBER|--to-file F --text T|--texts-file F"
      "\n                        [options]\n"
      "\n"
      "Sends texts to an SMSC through smsgate's SMPP client connector and\n"
      "prints one JSON line: {\"sent\",\"tempfail\",\"permfail\",\"unknown\","
      "\"dlr\",\n\"elapsed_ms\",\"rate\",\"ids\"} (counts are parts; ids: the "
      "first 100 smsc ids).\nEach text is segmented once; every message "
      "reuses its parts.\n"
      "\n"
      "  --host H            SMSC address (default 127.0.0.1)\n"
      "  --port N            SMSC port (default 2775)\n"
      "  --system-id S       bind system_id (default smsgate)\n"
      "  --password P        bind password (default empty)\n"
      "  --bind trx|tx       bind type (default trx; tx adds a receiver bind "
      "with --dlr)\n"
      "  --window N          requests in flight per bind (default 10)\n"
      "  --binds N           binds (default 1)\n"
      "  --tps R             parts per second at most (default: no limit)\n"
      "  --count N           messages to send (default: each text once)\n"
      "  --to NUMBER         recipient (\"+447700900123\")\n"
      "  --to-file F         recipients, one per line, used in turn\n"
      "  --from SENDER       sender: a number or alphanumeric (default "
      "smsgate)\n"
      "  --text T            the text (UTF-8)\n"
      "  --texts-file F      texts, one per line, used in turn\n"
      "  --encoding E        auto (default), gsm7 or ucs2\n"
      "  --long-mode M       udh (default), sar or payload: how a text of "
      "several\n"
      "                      parts is sent (UDH, SAR TLVs, one "
      "message_payload)\n"
      "  --dlr               request receipts and wait for them\n"
      "  --id-mode M         how message ids are read and matched with "
      "receipts:\n"
      "                      auto (default), exact, nocase, hex or decimal "
      "(smpp/msgid.h);\n"
      "                      ids are printed as their key (auto and hex: a "
      "hex id\n"
      "                      as its decimal value)\n"
      "  --dlr-timeout S     seconds to wait for receipts after the last "
      "result\n"
      "                      (default 30)\n"
      "  --connect-timeout S give up when not bound within S seconds "
      "(default 10)\n"
      "  --reconnect-max S   longest wait between connection attempts after "
      "a\n"
      "                      lost or refused connection (default 2)\n"
      "  --timeout S         stop after S seconds in all (default: none)\n"
      "  --tls               SMPP over TLS\n"
      "  --ca FILE           CA certificates (PEM) to verify the SMSC with\n"
      "  --verbose           also one JSON line per part result and receipt\n"
      "  --quiet             do not log the connector's state on stderr\n"
      "  --help              show this help\n"
      "\n"
      "Exit status: 0 when every part was sent (and every receipt came with "
      "--dlr),\n1 otherwise, 2 on a usage error (an option, a recipient, a "
      "text or a\nfile that cannot be used).\n");
}

static bool to_ulong(const char *s, unsigned long long min,
                     unsigned long long max, unsigned long long *out) {
  char *end;
  if (s == NULL || *s < '0' || *s > '9')
    return false;
  errno = 0;
  unsigned long long v = strtoull(s, &end, 10);
  if (errno != 0 || *end != '\0' || v < min || v > max)
    return false;
  *out = v;
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

/* Options that are flags. Returns true if o is one. */
static bool flag_option(const char *o, load_opts_t *p) {
  bool *f = strcmp(o, "--dlr") == 0       ? &p->dlr
            : strcmp(o, "--tls") == 0     ? &p->tls
            : strcmp(o, "--verbose") == 0 ? &p->verbose
            : strcmp(o, "--quiet") == 0   ? &p->quiet
                                          : NULL;
  if (f != NULL)
    *f = true;
  return f != NULL;
}

static int number_option(const char *o, const char *v, load_opts_t *p) {
  unsigned long long u;
  struct {
    const char *name;
    unsigned long long min, max;
    unsigned long *field;
  } const uo[] = {
      {"--port", 1, 65535, &p->port},
      {"--window", 1, 8192, &p->window},
      {"--binds", 1, SG_SMPP_CLIENT_BINDS_MAX - 1, &p->binds},
  };
  for (size_t i = 0; i < sizeof uo / sizeof uo[0]; i++)
    if (strcmp(o, uo[i].name) == 0)
      return to_ulong(v, uo[i].min, uo[i].max, &u)
                 ? (*uo[i].field = (unsigned long)u, 1)
                 : -1;
  if (strcmp(o, "--count") == 0)
    return to_ulong(v, 1, 1ull << 40, &p->count) ? 1 : -1;
  struct {
    const char *name;
    double lo, hi;
    double *field;
  } const dopt[] = {
      {"--tps", 0, 1e9, &p->tps},
      {"--dlr-timeout", 0, 86400, &p->dlr_timeout_s},
      {"--connect-timeout", 0.001, 86400, &p->connect_timeout_s},
      {"--reconnect-max", 0.2, 3600, &p->reconnect_max_s},
      {"--timeout", 0, 864000, &p->timeout_s},
  };
  for (size_t i = 0; i < sizeof dopt / sizeof dopt[0]; i++)
    if (strcmp(o, dopt[i].name) == 0)
      return to_double(v, dopt[i].lo, dopt[i].hi, dopt[i].field) ? 1 : -1;
  return 0;
}

static int choice_option(const char *o, const char *v, load_opts_t *p) {
  if (strcmp(o, "--bind") == 0) {
    if (strcmp(v, "trx") != 0 && strcmp(v, "tx") != 0)
      return -1;
    p->bind_type = v[1] == 'r' ? SG_SMPP_BIND_TRX : SG_SMPP_BIND_TX;
    return 1;
  }
  if (strcmp(o, "--encoding") == 0)
    return sg_encoding_parse(v, &p->encoding) == 0 && p->encoding != SG_ENC_8BIT
               ? 1
               : -1;
  if (strcmp(o, "--long-mode") == 0) {
    static const char *const names[] = {"udh", "sar", "payload"};
    for (int i = 0; i < 3; i++)
      if (strcmp(v, names[i]) == 0) {
        p->long_mode = (sg_smpp_long_mode_t)i;
        return 1;
      }
    return -1;
  }
  if (strcmp(o, "--id-mode") == 0) {
    static const char *const names[] = {"auto", "exact", "nocase", "hex",
                                        "decimal"};
    for (int i = 0; i < 5; i++)
      if (strcmp(v, names[i]) == 0) {
        p->id_mode = (sg_msgid_mode_t)i;
        return 1;
      }
    return -1;
  }
  return 0;
}

static int string_option(const char *o, const char *v, load_opts_t *p) {
  struct {
    const char *name;
    const char **field;
  } const so[] = {
      {"--host", &p->host},
      {"--system-id", &p->system_id},
      {"--password", &p->password},
      {"--to", &p->to},
      {"--to-file", &p->to_file},
      {"--from", &p->from},
      {"--text", &p->text},
      {"--texts-file", &p->texts_file},
      {"--ca", &p->ca},
  };
  for (size_t i = 0; i < sizeof so / sizeof so[0]; i++)
    if (strcmp(o, so[i].name) == 0) {
      *so[i].field = v;
      return 1;
    }
  return 0;
}

static void opts_default(load_opts_t *p) {
  memset(p, 0, sizeof *p);
  p->host = "127.0.0.1";
  p->port = 2775;
  p->system_id = "smsgate";
  p->password = "";
  p->bind_type = SG_SMPP_BIND_TRX;
  p->window = 10;
  p->binds = 1;
  p->from = "smsgate";
  p->encoding = SG_ENC_AUTO;
  p->long_mode = SG_SMPP_LONG_UDH;
  p->id_mode = SG_MSGID_AUTO;
  p->dlr_timeout_s = 30;
  p->connect_timeout_s = 10;
  p->reconnect_max_s = 2;
}

/* Returns 0, 1 for --help, 2 on a usage error (printed). */
static int parse_args(int argc, char **argv, load_opts_t *p) {
  for (int i = 0; i < argc; i++) {
    const char *o = argv[i];
    if (strcmp(o, "--help") == 0 || strcmp(o, "-h") == 0)
      return 1;
    if (flag_option(o, p))
      continue;
    if (i + 1 >= argc) {
      fprintf(stderr, "smsgate sim load: %s: unknown, or needs a value\n", o);
      return 2;
    }
    const char *v = argv[++i];
    int r = number_option(o, v, p);
    if (r == 0)
      r = choice_option(o, v, p);
    if (r == 0)
      r = string_option(o, v, p);
    if (r <= 0) {
      fprintf(stderr,
              r == 0 ? "smsgate sim load: unknown option '%s'\n"
                     : "smsgate sim load: bad value for %s\n",
              o);
      return 2;
    }
  }
  if ((p->to == NULL) == (p->to_file == NULL) ||
      (p->text == NULL) == (p->texts_file == NULL)) {
    fprintf(stderr, "smsgate sim load: give one of --to/--to-file and one "
                    "of --text/--texts-file\n");
    return 2;
  }
  return 0;
}

/* ---- What to send -------------------------------------------------------- */

/* One part as segmented, kept for every message of its text. */
typedef struct load_part {
  uint8_t udh[SG_SEG_UDH_MAX];
  uint8_t ud[SG_SEG_UD_MAX];
  uint8_t udh_len, ud_len;
  uint8_t ref_at; /* index of the 8-bit reference in udh; 0: none */
} load_part_t;

typedef struct load_text {
  sg_encoding_t encoding;
  sg_gsm7_charset_t charset;
  unsigned nparts;
  size_t first; /* index of its first part in load_t.parts */
} load_text_t;

/* A receipt table slot: a 64-bit hash of the smsc id's canonical key (ids
 * of one run never collide in practice), and what was seen of it. */
enum { SEEN_RESULT = 1, SEEN_DLR = 2, SEEN_DELIVERED = 4 };
typedef struct dlr_slot {
  uint64_t hash; /* 0: empty */
  uint8_t seen;
} dlr_slot_t;

typedef struct load {
  load_opts_t o;
  uv_loop_t loop;
  sg_connector_t *c;
  load_text_t *texts;
  size_t ntexts;
  load_part_t *parts;
  size_t nparts, parts_cap;
  sg_conn_addr_t *dsts;
  size_t ndsts;
  sg_conn_addr_t src;
  uint64_t total_parts; /* of all count messages */
  /* Progress. */
  uint64_t next_msg;
  unsigned next_part;
  uint8_t ref_base;
  bool feeding, up, fed_all, finishing, gave_up;
  uint64_t results, sent, tempfail, permfail, unknown;
  uint64_t dlr, dlr_expected, dlr_delivered, inbound;
  dlr_slot_t *tab;
  size_t tab_cap, tab_used;
  char ids[IDS_MAX][66];
  unsigned nids;
  uint64_t t_start, t_end; /* uv_hrtime() */
  char reason[128];        /* the connector's last state change */
  sg_segments_t *segs;     /* scratch of add_text, during prepare() */
  uv_timer_t wait_timer, limit_timer;
  uv_signal_t sig_int, sig_term;
} load_t;

/* Reads a whole file into a NUL-terminated heap buffer. */
static char *read_file(const char *path) {
  FILE *f = fopen(path, "rb");
  if (f == NULL) {
    fprintf(stderr, "smsgate sim load: %s: %s\n", path, strerror(errno));
    return NULL;
  }
  size_t cap = 4096, len = 0;
  char *buf = sg_malloc(cap);
  while (buf != NULL) {
    len += fread(buf + len, 1, cap - len - 1, f);
    if (len < cap - 1 || cap > FILE_MAX)
      break;
    char *nb = sg_realloc(buf, cap * 2);
    if (nb == NULL)
      sg_free(buf);
    buf = nb;
    cap *= 2;
  }
  bool bad = ferror(f) || len >= FILE_MAX;
  fclose(f);
  if (buf == NULL || bad) {
    fprintf(stderr,
            "smsgate sim load: %s: cannot read (or larger than "
            "%u MiB)\n",
            path, FILE_MAX >> 20);
    sg_free(buf);
    return NULL;
  }
  buf[len] = '\0';
  return buf;
}

/* The next line of *p (cut in place, without its "\n" or "\r\n"), or
 * NULL at the end; *p moves past it. */
static char *next_line(char **p) {
  char *s = *p;
  if (*s == '\0')
    return NULL;
  char *e = strchr(s, '\n');
  *p = e != NULL ? e + 1 : s + strlen(s);
  if (e == NULL)
    e = *p;
  if (e > s && e[-1] == '\r')
    e--;
  *e = '\0';
  return s;
}

/* Lines that are not empty, counted as next_line() cuts them. */
static size_t count_lines(const char *buf) {
  size_t n = 0;
  for (const char *s = buf; *s != '\0';) {
    const char *e = strchr(s, '\n');
    const char *next = e != NULL ? e + 1 : s + strlen(s);
    size_t len = (size_t)((e != NULL ? e : next) - s);
    if (len > 0 && s[len - 1] == '\r')
      len--;
    n += len > 0;
    s = next;
  }
  return n;
}

/* Reads --X-file into *buf and counts its items (non-empty lines); without
 * a file the one item of --X. */
static int list_open(const char *file, char **buf, size_t *n) {
  *buf = NULL;
  *n = 1;
  if (file == NULL)
    return 0;
  if ((*buf = read_file(file)) == NULL)
    return SG_EIO;
  if ((*n = count_lines(*buf)) == 0) {
    fprintf(stderr, "smsgate sim load: %s: no lines\n", file);
    sg_free(*buf);
    *buf = NULL;
    return SG_EINVAL;
  }
  return 0;
}

/* Calls fn for `one`, or for each item of buf (then freed). */
static int list_each(load_t *l, const char *one, char *buf,
                     int (*fn)(load_t *l, const char *item)) {
  int rc = 0;
  if (buf == NULL)
    return fn(l, one);
  char *p = buf, *line;
  while (rc == 0 && (line = next_line(&p)) != NULL)
    if (*line != '\0')
      rc = fn(l, line);
  sg_free(buf);
  return rc;
}

static int add_dst(load_t *l, const char *text) {
  int rc = sg_smpp_addr_from_text(text, &l->dsts[l->ndsts]);
  if (rc != 0) {
    fprintf(stderr, "smsgate sim load: bad recipient '%s': %s\n", text,
            sg_strerror(rc));
    return rc;
  }
  l->ndsts++;
  return 0;
}

/* Where the 8-bit concatenation reference sits in a UDH, or 0. */
static uint8_t ref_offset(const uint8_t *udh, size_t len) {
  for (size_t i = 1; i + 1 < len; i += 2 + (size_t)udh[i + 1])
    if (udh[i] == IEI_CONCAT8 && udh[i + 1] == 3 && i + 4 < len)
      return (uint8_t)(i + 2);
  return 0;
}

static int add_text(load_t *l, const char *text) {
  sg_seg_opts_t so = {.encoding = l->o.encoding, .max_parts = SG_SEG_MAX_PARTS};
  sg_seg_error_t err;
  const sg_segments_t *sg = l->segs;
  int rc =
      sg_segment_text((const uint8_t *)text, strlen(text), &so, l->segs, &err);
  if (rc != 0) {
    fprintf(stderr, "smsgate sim load: cannot encode '%.40s': %s\n", text,
            sg_strerror(rc));
    return rc;
  }
  if (l->nparts + sg->nparts > l->parts_cap) {
    size_t cap = 2 * (l->nparts + sg->nparts);
    load_part_t *np = sg_realloc(l->parts, cap * sizeof *np);
    if (np == NULL)
      return SG_ENOMEM;
    l->parts = np;
    l->parts_cap = cap;
  }
  load_text_t *t = &l->texts[l->ntexts++];
  *t = (load_text_t){.encoding = sg->encoding,
                     .charset = sg->charset,
                     .nparts = sg->nparts,
                     .first = l->nparts};
  for (unsigned i = 0; i < sg->nparts; i++) {
    const sg_seg_part_t *sp = &sg->parts[i];
    load_part_t *p = &l->parts[l->nparts++];
    memcpy(p->udh, sp->udh, sp->udh_len);
    memcpy(p->ud, sp->ud, sp->ud_len);
    p->udh_len = (uint8_t)sp->udh_len;
    p->ud_len = (uint8_t)sp->ud_len;
    p->ref_at = ref_offset(sp->udh, sp->udh_len);
  }
  return 0;
}

static int prepare(load_t *l) {
  int rc = sg_smpp_addr_from_text(l->o.from, &l->src);
  if (rc != 0) {
    fprintf(stderr, "smsgate sim load: bad sender '%s': %s\n", l->o.from,
            sg_strerror(rc));
    return rc;
  }
  char *buf;
  size_t n;
  if ((rc = list_open(l->o.to_file, &buf, &n)) != 0)
    return rc;
  if ((l->dsts = sg_calloc(n, sizeof *l->dsts)) == NULL) {
    sg_free(buf);
    return SG_ENOMEM;
  }
  if ((rc = list_each(l, l->o.to, buf, add_dst)) != 0)
    return rc;
  if ((rc = list_open(l->o.texts_file, &buf, &n)) != 0)
    return rc;
  l->texts = sg_calloc(n, sizeof *l->texts);
  l->segs = sg_malloc(sizeof *l->segs);
  if (l->texts == NULL || l->segs == NULL)
    rc = SG_ENOMEM;
  if (rc == 0)
    rc = list_each(l, l->o.text, buf, add_text);
  else
    sg_free(buf);
  sg_free(l->segs);
  l->segs = NULL;
  if (rc != 0)
    return rc;
  if (l->o.count == 0)
    l->o.count = l->ntexts;
  uint64_t all = 0;
  for (size_t i = 0; i < l->ntexts; i++)
    all += l->texts[i].nparts;
  l->total_parts = (l->o.count / l->ntexts) * all;
  for (size_t i = 0; i < l->o.count % l->ntexts; i++)
    l->total_parts += l->texts[i].nparts;
  l->ref_base = (uint8_t)(uv_hrtime() / 1000);
  return 0;
}

/* ---- Receipts ------------------------------------------------------------ */

static uint64_t id_hash(const char *s) {
  uint64_t h = 0xcbf29ce484222325ull; /* FNV-1a, then a final mix */
  for (; *s != '\0'; s++)
    h = (h ^ (uint8_t)*s) * 0x100000001b3ull;
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdull;
  h ^= h >> 33;
  return h != 0 ? h : 1;
}

static dlr_slot_t *tab_find(dlr_slot_t *tab, size_t cap, uint64_t h) {
  size_t i = (size_t)h & (cap - 1);
  while (tab[i].hash != 0 && tab[i].hash != h)
    i = (i + 1) & (cap - 1);
  return &tab[i];
}

static int tab_grow(load_t *l) {
  size_t cap = l->tab_cap ? l->tab_cap * 2 : 1024;
  dlr_slot_t *t = sg_calloc(cap, sizeof *t);
  if (t == NULL)
    return SG_ENOMEM;
  for (size_t i = 0; i < l->tab_cap; i++)
    if (l->tab[i].hash != 0)
      *tab_find(t, cap, l->tab[i].hash) = l->tab[i];
  sg_free(l->tab);
  l->tab = t;
  l->tab_cap = cap;
  return 0;
}

/* Records that `what` was seen of id; returns the slot's seen bits before,
 * or -1 when out of memory. */
static int tab_mark(load_t *l, const char *id, uint8_t what) {
  if (2 * (l->tab_used + 1) > l->tab_cap && tab_grow(l) != 0)
    return -1;
  uint64_t h = id_hash(id);
  dlr_slot_t *s = tab_find(l->tab, l->tab_cap, h);
  uint8_t before = s->seen;
  if (s->hash == 0) {
    s->hash = h;
    l->tab_used++;
  }
  s->seen |= what;
  return before;
}

/* ---- Output -------------------------------------------------------------- */

static void put_json_str(const char *s) {
  putchar('"');
  for (; *s != '\0'; s++) {
    unsigned char ch = (unsigned char)*s;
    if (ch == '"' || ch == '\\')
      printf("\\%c", ch);
    else if (ch < 0x20 || ch >= 0x7F)
      printf("\\u%04x", ch); /* keys are ASCII; anything else as a code */
    else
      putchar(ch);
  }
  putchar('"');
}

static const char *outcome_name(sg_conn_outcome_t o) {
  static const char *const names[] = {"sent", "tempfail", "permfail",
                                      "unknown"};
  return (unsigned)o < 4 ? names[o] : "unknown";
}

static void print_result(const sg_conn_result_t *r) {
  printf("{\"type\":\"part\",\"msg\":%llu,\"part\":%u,\"outcome\":\"%s\","
         "\"smsc_id\":",
         (unsigned long long)(r->id >> 8), (unsigned)(r->id & 0xFF) + 1,
         outcome_name(r->outcome));
  put_json_str(r->smsc_id);
  printf(",\"status\":%u,\"attempts\":%u}\n", (unsigned)r->status, r->attempts);
}

static void print_summary(const load_t *l) {
  uint64_t end = l->t_end ? l->t_end : uv_hrtime();
  double ms = l->t_start ? (double)(end - l->t_start) / 1e6 : 0;
  printf("{\"sent\":%llu,\"tempfail\":%llu,\"permfail\":%llu,\"unknown\":%llu,"
         "\"dlr\":%llu,\"dlr_expected\":%llu,\"dlr_delivered\":%llu,"
         "\"inbound\":%llu,\"messages\":%llu,\"parts\":%llu,"
         "\"elapsed_ms\":%.1f,\"rate\":%.1f,\"ids\":[",
         (unsigned long long)l->sent, (unsigned long long)l->tempfail,
         (unsigned long long)l->permfail, (unsigned long long)l->unknown,
         (unsigned long long)l->dlr, (unsigned long long)l->dlr_expected,
         (unsigned long long)l->dlr_delivered, (unsigned long long)l->inbound,
         (unsigned long long)l->o.count, (unsigned long long)l->total_parts, ms,
         ms > 0 ? (double)l->sent * 1000.0 / ms : 0.0);
  for (unsigned i = 0; i < l->nids; i++) {
    if (i > 0)
      putchar(',');
    put_json_str(l->ids[i]);
  }
  printf("]}\n");
  fflush(stdout);
}

/* ---- The run ------------------------------------------------------------- */

static void feed(load_t *l);

static void close_handle(uv_handle_t *h) {
  if (!uv_is_closing(h))
    uv_close(h, NULL);
}

static void stopped_cb(sg_connector_t *c) {
  load_t *l = c->owner;
  close_handle((uv_handle_t *)&l->wait_timer);
  close_handle((uv_handle_t *)&l->limit_timer);
  close_handle((uv_handle_t *)&l->sig_int);
  close_handle((uv_handle_t *)&l->sig_term);
}

/* Unbinds and lets the loop end; parts not yet resolved get their result
 * (TEMPFAIL or UNKNOWN) on the way. */
static void finish(load_t *l) {
  if (l->finishing)
    return;
  l->finishing = true;
  if (l->t_end == 0 && l->t_start != 0)
    l->t_end = uv_hrtime();
  uv_timer_stop(&l->wait_timer);
  uv_timer_stop(&l->limit_timer);
  sg_connector_stop(l->c, stopped_cb);
}

static void wait_timer_cb(uv_timer_t *t) {
  load_t *l = t->data;
  if (!l->up) {
    l->gave_up = true;
    fprintf(stderr, "smsgate sim load: not bound to %s:%lu within %g s%s%s\n",
            l->o.host, l->o.port, l->o.connect_timeout_s,
            l->reason[0] ? ": " : "", l->reason);
  } else if (!l->o.quiet) {
    fprintf(stderr, "smsgate sim load: %llu of %llu receipts within %g s\n",
            (unsigned long long)l->dlr, (unsigned long long)l->dlr_expected,
            l->o.dlr_timeout_s);
  }
  finish(l);
}

static void limit_timer_cb(uv_timer_t *t) {
  load_t *l = t->data;
  if (!l->o.quiet)
    fprintf(stderr, "smsgate sim load: --timeout reached\n");
  finish(l);
}

static void signal_cb(uv_signal_t *h, int signum) {
  (void)signum;
  load_t *l = h->data;
  if (!l->o.quiet)
    fprintf(stderr, "smsgate sim load: interrupted\n");
  finish(l);
}

/* Everything resolved: finish now, or wait for the receipts. */
static void check_done(load_t *l) {
  if (!l->fed_all || l->results < l->total_parts || l->finishing)
    return;
  if (l->t_end == 0)
    l->t_end = uv_hrtime();
  if (!l->o.dlr || l->dlr >= l->dlr_expected) {
    finish(l);
    return;
  }
  if (!uv_is_active((uv_handle_t *)&l->wait_timer))
    uv_timer_start(&l->wait_timer, wait_timer_cb,
                   (uint64_t)(l->o.dlr_timeout_s * 1000), 0);
}

static void note_id(load_t *l, const char *id) {
  if (l->nids >= IDS_MAX || id[0] == '\0')
    return;
  for (unsigned i = 0; i < l->nids; i++)
    if (strcmp(l->ids[i], id) == 0)
      return; /* payload mode: several parts, one id */
  strcpy(l->ids[l->nids++], id);
}

static void result_cb(sg_connector_t *c, void *owner,
                      const sg_conn_result_t *r) {
  (void)c;
  load_t *l = owner;
  l->results++;
  uint64_t *n[] = {&l->sent, &l->tempfail, &l->permfail, &l->unknown};
  (*n[(unsigned)r->outcome < 4 ? r->outcome : SG_CONN_UNKNOWN])++;
  if (l->o.verbose)
    print_result(r);
  if (r->outcome == SG_CONN_SENT) {
    note_id(l, r->smsc_id);
    if (l->o.dlr) {
      /* A new id is one receipt more to wait for (an empty one, too: it
       * can never be matched); its receipt may have come first. */
      int before = r->smsc_id[0] ? tab_mark(l, r->smsc_id, SEEN_RESULT) : 0;
      if (before < 0 || !(before & SEEN_RESULT))
        l->dlr_expected++;
      if (before > 0 && (before & SEEN_DLR) && !(before & SEEN_RESULT)) {
        l->dlr++;
        l->dlr_delivered += (before & SEEN_DELIVERED) ? 1 : 0;
      }
    }
  }
  feed(l);
  check_done(l);
}

static const char *dlr_state_name(sg_conn_dlr_state_t s) {
  static const char *const names[] = {"?",       "ENROUTE", "DELIVRD",
                                      "EXPIRED", "DELETED", "UNDELIV",
                                      "ACCEPTD", "UNKNOWN", "REJECTD"};
  return (unsigned)s < 9 ? names[s] : "?";
}

static void dlr_cb(sg_connector_t *c, void *owner, const sg_conn_dlr_t *d,
                   uint64_t token) {
  load_t *l = owner;
  sg_connector_ack(c, token, true);
  if (l->o.verbose) {
    printf("{\"type\":\"dlr\",\"smsc_id\":");
    put_json_str(d->smsc_id);
    printf(",\"stat\":\"%s\",\"err\":%u}\n", dlr_state_name(d->state),
           (unsigned)d->error);
  }
  if (!l->o.dlr || d->smsc_id[0] == '\0')
    return;
  uint8_t what = SEEN_DLR;
  if (d->state == SG_DLR_DELIVERED)
    what |= SEEN_DELIVERED;
  int before = tab_mark(l, d->smsc_id, what);
  if (before < 0 || (before & SEEN_DLR))
    return; /* out of memory, or a second receipt for the id */
  if (before & SEEN_RESULT) {
    l->dlr++;
    if (d->state == SG_DLR_DELIVERED)
      l->dlr_delivered++;
  }
  check_done(l);
}

static void inbound_cb(sg_connector_t *c, void *owner,
                       const sg_conn_inbound_t *m, uint64_t token) {
  (void)m;
  ((load_t *)owner)->inbound++;
  sg_connector_ack(c, token, true);
}

static void state_cb(sg_connector_t *c, void *owner, sg_conn_state_t st,
                     const char *reason) {
  (void)c;
  load_t *l = owner;
  snprintf(l->reason, sizeof l->reason, "%s", reason ? reason : "");
  if (!l->o.quiet)
    fprintf(stderr, "smsgate sim load: %s%s%s\n",
            st == SG_CONN_UP           ? "up"
            : st == SG_CONN_CONNECTING ? "connecting"
            : st == SG_CONN_DOWN       ? "down"
            : st == SG_CONN_PAUSED     ? "paused"
                                       : "stopped",
            reason ? ": " : "", reason ? reason : "");
  if (st != SG_CONN_UP || l->up || l->finishing)
    return;
  l->up = true;
  l->t_start = uv_hrtime();
  uv_timer_stop(&l->wait_timer);
  feed(l);
}

static void ready_cb(sg_connector_t *c, void *owner) {
  (void)c;
  feed(owner);
}

/* Submits parts until the connector is full or all are given. */
static void feed(load_t *l) {
  if (l->feeding || !l->up || l->finishing || l->fed_all)
    return;
  l->feeding = true;
  while (l->next_msg < l->o.count) {
    const load_text_t *t = &l->texts[l->next_msg % l->ntexts];
    const load_part_t *p = &l->parts[t->first + l->next_part];
    uint8_t udh[SG_SEG_UDH_MAX];
    uint8_t ref = (uint8_t)(l->ref_base + l->next_msg);
    memcpy(udh, p->udh, p->udh_len);
    if (p->ref_at != 0)
      udh[p->ref_at] = ref;
    sg_conn_part_t cp = {
        .id = l->next_msg << 8 | l->next_part,
        .src = l->src,
        .dst = l->dsts[l->next_msg % l->ndsts],
        .encoding = t->encoding,
        .lang_locking = t->charset.locking,
        .lang_single = t->charset.single,
        .udh = p->udh_len ? udh : NULL,
        .udh_len = p->udh_len,
        .ud = p->ud,
        .ud_len = p->ud_len,
        .concat_ref = t->nparts > 1 ? ref : 0,
        .concat_total = (uint8_t)t->nparts,
        .concat_seq = (uint8_t)(l->next_part + 1),
        .want_report = l->o.dlr,
    };
    int rc = sg_connector_submit(l->c, &cp);
    if (rc == SG_EBUSY)
      break; /* ready_cb comes */
    if (rc != 0) {
      fprintf(stderr, "smsgate sim load: part refused: %s\n", sg_strerror(rc));
      l->results++;
      l->permfail++;
    }
    if (++l->next_part == t->nparts) {
      l->next_part = 0;
      l->next_msg++;
    }
  }
  l->fed_all = l->next_msg >= l->o.count;
  l->feeding = false;
}

static const sg_conn_callbacks_t k_cbs = {result_cb, dlr_cb, inbound_cb,
                                          state_cb, ready_cb};

static int make_connector(load_t *l) {
  sg_smpp_client_config_t cfg;
  sg_smpp_client_config_default(&cfg);
  cfg.name = "load";
  cfg.host = l->o.host;
  cfg.port = (uint16_t)l->o.port;
  cfg.tls = l->o.tls;
  cfg.tls_ca_file = l->o.ca;
  cfg.bind_type = l->o.bind_type;
  cfg.binds = (unsigned)l->o.binds;
  cfg.rx_binds = l->o.dlr && l->o.bind_type == SG_SMPP_BIND_TX ? 1 : 0;
  cfg.system_id = l->o.system_id;
  cfg.password = l->o.password;
  cfg.window = (uint32_t)l->o.window;
  cfg.connect_timeout_ms = (uint32_t)(l->o.connect_timeout_s * 1000);
  cfg.reconnect_min_ms = 200;
  cfg.reconnect_max_ms = (uint32_t)(l->o.reconnect_max_s * 1000);
  cfg.rate_limit = l->o.tps;
  /* Room for a whole message of the most parts (payload mode collects
   * them) besides a full window on every bind. */
  cfg.max_queue =
      4 * (unsigned)(l->o.window * l->o.binds) + 2 * SG_SEG_MAX_PARTS;
  cfg.long_mode = l->o.long_mode;
  cfg.id_mode = l->o.id_mode;
  int rc = sg_smpp_client_new(&l->loop, &cfg, &k_cbs, l, &l->c);
  if (rc == 0)
    rc = sg_connector_start(l->c);
  if (rc != 0)
    fprintf(stderr, "smsgate sim load: %s\n", sg_strerror(rc));
  return rc;
}

static void start_handles(load_t *l) {
  uv_timer_init(&l->loop, &l->wait_timer);
  uv_timer_init(&l->loop, &l->limit_timer);
  uv_signal_init(&l->loop, &l->sig_int);
  uv_signal_init(&l->loop, &l->sig_term);
  l->wait_timer.data = l->limit_timer.data = l;
  l->sig_int.data = l->sig_term.data = l;
  uv_signal_start(&l->sig_int, signal_cb, SIGINT);
  uv_signal_start(&l->sig_term, signal_cb, SIGTERM);
  uv_timer_start(&l->wait_timer, wait_timer_cb,
                 (uint64_t)(l->o.connect_timeout_s * 1000), 0);
  if (l->o.timeout_s > 0)
    uv_timer_start(&l->limit_timer, limit_timer_cb,
                   (uint64_t)(l->o.timeout_s * 1000), 0);
}

static void load_free(load_t *l) {
  sg_connector_free(l->c);
  sg_free(l->texts);
  sg_free(l->parts);
  sg_free(l->dsts);
  sg_free(l->tab);
}

static int run(load_t *l) {
  int rc = make_connector(l);
  if (rc != 0) {
    if (l->c != NULL) { /* never started: may be freed at once */
      sg_connector_free(l->c);
      l->c = NULL;
    }
    return 1;
  }
  start_handles(l);
  uv_run(&l->loop, UV_RUN_DEFAULT);
  print_summary(l);
  bool ok = !l->gave_up && l->sent == l->total_parts &&
            (!l->o.dlr || l->dlr == l->dlr_expected);
  return ok ? 0 : 1;
}

int sg_cmd_sim_load(int argc, char **argv) {
  static load_t l; /* large; one per process */
  memset(&l, 0, sizeof l);
  opts_default(&l.o);
  int rc = parse_args(argc, argv, &l.o);
  if (rc == 1) {
    usage(stdout);
    return 0;
  }
  if (rc != 0) {
    fprintf(stderr, "Run 'smsgate sim load --help' for the options.\n");
    return 2;
  }
  signal(SIGPIPE, SIG_IGN);
  if (prepare(&l) != 0) {
    load_free(&l);
    return 2;
  }
  uv_loop_init(&l.loop);
  rc = run(&l);
  load_free(&l);
  uv_loop_close(&l.loop);
  return rc;
}
