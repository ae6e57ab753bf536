/* segments.c - `smsgate segments`: shows, as JSON, the encoding a text would
 * be sent in and the exact parts it would be split into (UDH, short_message
 * user data and the packed TP-UD of TS 23.040), without sending anything.
 *
 * It is a thin shell over core/segment.h: all the decisions are made there,
 * this file only parses options, reads the text and prints. It must never
 * call exit(); it returns 0 (printed), 1 (the text cannot be sent as asked)
 * or 2 (usage error).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cli/commands.h"
#include "core/alloc.h"
#include "core/error.h"
#include "core/gsm7.h"
#include "core/segment.h"
#include "ingress/rest/rest.h"

/* Text read from stdin is refused beyond this size: far more than
 * SG_SEG_MAX_PARTS parts of anything. */
#define STDIN_MAX (1u << 20)

typedef struct seg_args {
  const char *text; /* NULL: read stdin */
  sg_seg_opts_t opts;
  bool help;
} seg_args_t;

static void usage(FILE *f) {
  fprintf(
      f,
      "usage: smsgate segments [--text T] [--encoding auto|gsm7|ucs2]\n"
      "                        [--national] [--languages L1,L2] [--smart]\n"
      "                        [--max-parts N] [--ref16] [--ref N]\n"
      "\n"
      "Shows the encoding and the parts a text needs, as JSON; nothing is "
      "sent.\n"
      "\n"
      "  --text T         the text (UTF-8); without it, or with \"-\", the "
      "text is\n"
      "                   read from stdin as is (a trailing newline counts)\n"
      "  --encoding E     auto (default: the fewest parts), gsm7 or ucs2\n"
      "  --national       allow GSM 7-bit national shift tables (TS 23.038)\n"
      "  --languages L    only these national tables (implies --national),\n"
      "                   e.g. turkish,spanish,portuguese\n"
      "  --smart          replace look-alikes (curly quotes, dashes, ...) "
      "with\n"
      "                   GSM characters when that saves parts\n"
      "  --max-parts N    refuse texts needing more than N parts (1-255, "
      "default 10)\n"
      "  --ref16          16-bit concatenation reference (IEI 0x08)\n"
      "  --ref N          concatenation reference (default 0)\n"
      "  --help           show this help\n"
      "\n"
      "Exit status: 0 printed, 1 the text cannot be sent as asked, 2 usage "
      "error.\n");
}

/* ---- arguments -------------------------------------------------------- */

static int parse_uint(const char *s, unsigned long max, unsigned long *out) {
  char *end = NULL;
  if (s == NULL || *s < '0' || *s > '9')
    return -1;
  errno = 0;
  unsigned long v = strtoul(s, &end, 10);
  if (errno != 0 || *end != '\0' || v > max)
    return -1;
  *out = v;
  return 0;
}

/* Parses "turkish,spanish" into a bit mask of sg_gsm7_lang_t. */
static int parse_languages(const char *list, uint16_t *mask) {
  const char *p = list;
  *mask = 0;
  while (*p != '\0') {
    char name[32];
    size_t len = strcspn(p, ",");
    sg_gsm7_lang_t lang;
    if (len == 0 || len >= sizeof(name))
      return -1;
    memcpy(name, p, len);
    name[len] = '\0';
    if (sg_gsm7_lang_parse(name, &lang) != 0 || lang == SG_GSM7_DEFAULT)
      return -1;
    *mask |= (uint16_t)(1u << lang);
    p += len;
    if (*p == ',')
      p++;
  }
  return *mask != 0 ? 0 : -1;
}

static int usage_error(const char *fmt, const char *arg) {
  fprintf(stderr, "smsgate segments: ");
  fprintf(stderr, fmt, arg);
  fprintf(stderr, "\nRun 'smsgate segments --help' for the options.\n");
  return 2;
}

/* Applies one option that takes a value. Returns 0 or 2. */
static int apply_value(seg_args_t *a, const char *opt, const char *val) {
  unsigned long v;
  if (strcmp(opt, "--text") == 0) {
    a->text = strcmp(val, "-") == 0 ? NULL : val;
  } else if (strcmp(opt, "--encoding") == 0) {
    if (sg_encoding_parse(val, &a->opts.encoding) != 0 ||
        a->opts.encoding == SG_ENC_8BIT)
      return usage_error("--encoding must be auto, gsm7 or ucs2, not '%s'",
                         val);
  } else if (strcmp(opt, "--max-parts") == 0) {
    if (parse_uint(val, SG_SEG_MAX_PARTS, &v) != 0 || v == 0)
      return usage_error("--max-parts must be 1 to 255, not '%s'", val);
    a->opts.max_parts = (unsigned)v;
  } else if (strcmp(opt, "--ref") == 0) {
    if (parse_uint(val, 0xFFFF, &v) != 0)
      return usage_error("--ref must be 0 to 65535, not '%s'", val);
    a->opts.ref = (uint16_t)v;
  } else if (strcmp(opt, "--languages") == 0) {
    if (parse_languages(val, &a->opts.languages) != 0)
      return usage_error("unknown language in --languages '%s'", val);
    a->opts.national = true;
  } else {
    return usage_error("unknown option '%s'", opt);
  }
  return 0;
}

static bool takes_value(const char *opt) {
  static const char *const with_value[] = {
      "--text", "--encoding", "--max-parts", "--ref", "--languages"};
  for (size_t i = 0; i < sizeof(with_value) / sizeof(with_value[0]); i++)
    if (strcmp(opt, with_value[i]) == 0)
      return true;
  return false;
}

/* Applies "--opt=value"; `eq` points at its '='. */
static int parse_assign(seg_args_t *a, const char *arg, const char *eq) {
  char opt[32];
  size_t n = (size_t)(eq - arg);
  if (n >= sizeof(opt))
    return usage_error("unknown option '%s'", arg);
  memcpy(opt, arg, n);
  opt[n] = '\0';
  if (!takes_value(opt))
    return usage_error("unknown option '%s'", arg);
  return apply_value(a, opt, eq + 1);
}

/* Applies argv[*i] (and its value); --opt=value is accepted too. */
static int parse_one(seg_args_t *a, int argc, char **argv, int *i) {
  const char *arg = argv[*i];
  const char *eq = strchr(arg, '=');
  if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0)
    a->help = true;
  else if (strcmp(arg, "--national") == 0)
    a->opts.national = true;
  else if (strcmp(arg, "--smart") == 0)
    a->opts.smart = true;
  else if (strcmp(arg, "--ref16") == 0)
    a->opts.ref16 = true;
  else if (eq != NULL && strncmp(arg, "--", 2) == 0)
    return parse_assign(a, arg, eq);
  else if (takes_value(arg)) {
    if (*i + 1 >= argc)
      return usage_error("%s needs a value", arg);
    return apply_value(a, arg, argv[++*i]);
  } else {
    return usage_error("unknown option '%s'", arg);
  }
  return 0;
}

static int parse_args(int argc, char **argv, seg_args_t *a) {
  memset(a, 0, sizeof(*a));
  a->opts.max_parts = SG_SEG_DEFAULT_MAX_PARTS;
  for (int i = 1; i < argc; i++) {
    int rc = parse_one(a, argc, argv, &i);
    if (rc != 0)
      return rc;
  }
  return 0;
}

/* ---- input ------------------------------------------------------------ */

/* Reads all of stdin into a new buffer (sg_free it). Returns 0 or 1. */
static int read_stdin(uint8_t **buf, size_t *len) {
  size_t cap = 4096, n = 0;
  uint8_t *b = sg_malloc(cap);
  while (b != NULL) {
    if (n == cap) {
      uint8_t *nb = cap < STDIN_MAX + 1 ? sg_realloc(b, cap * 2) : NULL;
      if (nb == NULL)
        break;
      b = nb;
      cap *= 2;
    }
    size_t got = fread(b + n, 1, cap - n, stdin);
    n += got;
    if (got == 0) {
      if (ferror(stdin)) {
        fprintf(stderr, "smsgate segments: cannot read stdin: %s\n",
                strerror(errno));
        sg_free(b);
        return 1;
      }
      if (n > STDIN_MAX)
        break;
      *buf = b;
      *len = n;
      return 0;
    }
    if (n > STDIN_MAX)
      break;
  }
  if (b == NULL)
    fprintf(stderr, "smsgate segments: out of memory\n");
  else
    fprintf(stderr, "smsgate segments: text on stdin is longer than %u bytes\n",
            STDIN_MAX);
  sg_free(b);
  return 1;
}

/* ---- output ----------------------------------------------------------- */

static int print_json(const sg_segments_t *s) {
  json_t *root = sg_rest_segments_json(s); /* the preview API's JSON */
  char *text = root != NULL ? json_dumps(root, JSON_INDENT(2)) : NULL;
  json_decref(root);
  if (text == NULL) {
    fprintf(stderr, "smsgate segments: out of memory\n");
    return 1;
  }
  int ok = puts(text) >= 0 && fflush(stdout) == 0;
  sg_free(text);
  if (!ok) {
    fprintf(stderr, "smsgate segments: cannot write stdout\n");
    return 1;
  }
  return 0;
}

static void print_error(const sg_seg_error_t *e, const sg_seg_opts_t *o) {
  fprintf(stderr, "smsgate segments: ");
  switch (e->code) {
  case SG_EILSEQ:
  case SG_ETRUNC:
    fprintf(stderr, "invalid UTF-8 at byte %zu%s\n", e->offset,
            e->code == SG_ETRUNC ? " (the text ends inside a character)" : "");
    break;
  case SG_ECHARSET:
    fprintf(stderr,
            "character U+%04" PRIX32 " at position %zu is not in the GSM "
            "7-bit alphabet%s\n",
            e->cp, e->offset,
            o->national ? " or the allowed national tables" : "");
    break;
  case SG_ETOOMANYPARTS:
    fprintf(stderr, "text needs %u parts, more than --max-parts %u\n",
            e->needed, o->max_parts);
    break;
  default:
    fprintf(stderr, "%s\n", sg_strerror(e->code));
  }
}

int sg_cmd_segments(int argc, char **argv) {
  seg_args_t a;
  int rc = parse_args(argc, argv, &a);
  if (rc != 0)
    return rc;
  if (a.help) {
    usage(stdout);
    return 0;
  }
  json_set_alloc_funcs(sg_malloc, sg_free);
  uint8_t *input = NULL;
  size_t len = 0;
  if (a.text == NULL && read_stdin(&input, &len) != 0)
    return 1;
  const uint8_t *text = a.text != NULL ? (const uint8_t *)a.text : input;
  if (a.text != NULL)
    len = strlen(a.text);
  sg_segments_t *segs = sg_malloc(sizeof(*segs));
  sg_seg_error_t err;
  if (segs == NULL) {
    fprintf(stderr, "smsgate segments: out of memory\n");
    rc = 1;
  } else if (sg_segment_text(text, len, &a.opts, segs, &err) != 0) {
    print_error(&err, &a.opts);
    rc = 1;
  } else {
    rc = print_json(segs);
  }
  sg_free(segs);
  sg_free(input);
  return rc;
}
