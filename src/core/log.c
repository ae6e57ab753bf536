/* log.c - formatting one log event as a line of text or of JSON (log.h).
 *
 * The output is written into the caller's buffer and always stays one line
 * of valid output, however odd the message's bytes: this is where a name
 * or URL sent by a peer meets a log collector's parser. It must never do
 * I/O, read the clock or allocate.
 */
#include "core/log.h"

#include <stdbool.h>
#include <string.h>
#include <time.h>

#include "core/error.h"
#include "core/utf8.h"

static const char *const level_names[] = {"debug", "info", "warn", "error"};

const char *sg_log_level_name(int level) {
  return level >= SG_LOG_DEBUG && level <= SG_LOG_ERROR ? level_names[level]
                                                        : "info";
}

int sg_log_level_parse(const char *s, sg_log_level_t *out) {
  for (int i = SG_LOG_DEBUG; s != NULL && i <= SG_LOG_ERROR; i++)
    if (strcmp(s, level_names[i]) == 0) {
      *out = (sg_log_level_t)i;
      return 0;
    }
  return SG_EINVAL;
}

int sg_log_format_parse(const char *s, sg_log_format_t *out) {
  if (s != NULL && strcmp(s, "text") == 0)
    *out = SG_LOG_TEXT;
  else if (s != NULL && strcmp(s, "json") == 0)
    *out = SG_LOG_JSON;
  else
    return SG_EINVAL;
  return 0;
}

/* ---- a bounded writer ---------------------------------------------------- */

typedef struct out {
  char *p;
  size_t len, cap; /* cap keeps room for the tail the caller reserved */
  bool full;
} out_t;

static void put(out_t *o, const char *s, size_t n) {
  if (o->full || n > o->cap - o->len) {
    o->full = true;
    return;
  }
  memcpy(o->p + o->len, s, n);
  o->len += n;
}

static void puts_(out_t *o, const char *s) {
  put(o, s, strlen(s));
}

/* The length of the well-formed UTF-8 sequence at s[0..n), or 0 when the
 * bytes there are not one. */
static size_t seq_len(const char *s, size_t n) {
  uint32_t cp = 0;
  size_t got = 0;
  int rc = sg_utf8_decode((const uint8_t *)s, n < 4 ? n : 4, &cp, 1, &got,
                          NULL);
  if ((rc == 0 || rc == SG_ENOSPC) && got == 1)
    return sg_utf8_len(cp);
  return 0;
}

/* The message's characters, escaped for a JSON string or made printable for
 * text; stops before a character that would not fit whole. */
static void put_escaped(out_t *o, const char *s, bool json) {
  static const char hex[] = "0123456789abcdef";
  size_t n = strlen(s);
  for (size_t i = 0; i < n && !o->full;) {
    unsigned char c = (unsigned char)s[i];
    if (c >= 0x80) {
      size_t k = seq_len(s + i, n - i);
      if (k == 0) {
        put(o, json ? "\\ufffd" : "?", json ? 6 : 1);
        i++;
      } else {
        put(o, s + i, k);
        i += k;
      }
      continue;
    }
    i++;
    if (json && (c == '"' || c == '\\')) {
      char e[2] = {'\\', (char)c};
      put(o, e, 2);
    } else if (c < 0x20 || c == 0x7f) {
      if (!json) {
        put(o, "?", 1);
      } else {
        char e[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
        put(o, e, 6);
      }
    } else {
      put(o, (const char *)&c, 1);
    }
  }
}

static void put_time(out_t *o, int64_t unix_ms) {
  time_t t = (time_t)(unix_ms / 1000);
  struct tm tm;
  char buf[32];
  if (gmtime_r(&t, &tm) == NULL ||
      strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm) == 0)
    strcpy(buf, "1970-01-01T00:00:00");
  size_t n = strlen(buf);
  int ms = (int)(unix_ms % 1000);
  if (ms < 0)
    ms = 0;
  buf[n++] = '.';
  buf[n++] = (char)('0' + ms / 100);
  buf[n++] = (char)('0' + ms / 10 % 10);
  buf[n++] = (char)('0' + ms % 10);
  buf[n++] = 'Z';
  put(o, buf, n);
}

/* The ids a line about one message starts with ("message=01M... part=2
 * connector=op smsc_id=1f3a: sent"), each also as its own JSON key, so that
 * a log collector can follow a message without reading the text. Written
 * inside the open string before "msg": closes it and leaves the last one
 * open. */
static void put_ids(out_t *o, const char *msg) {
  static const struct {
    const char *key, *json;
  } ids[] = {{"message", "message_id"}, {"part", "part"},
             {"connector", "connector"}, {"smsc_id", "smsc_id"},
             {"account", "account"},     {"batch", "batch_id"}};
  const char *p = msg;
  for (;;) {
    size_t klen = strcspn(p, "= :"), i = 0;
    while (i < sizeof ids / sizeof ids[0] &&
           (strlen(ids[i].key) != klen || strncmp(p, ids[i].key, klen) != 0))
      i++;
    if (p[klen] != '=' || i == sizeof ids / sizeof ids[0])
      return;
    const char *v = p + klen + 1;
    size_t vlen = strcspn(v, " :");
    char value[130];
    if (vlen == 0 || vlen >= sizeof value)
      return;
    memcpy(value, v, vlen);
    value[vlen] = '\0';
    puts_(o, "\",\"");
    puts_(o, ids[i].json);
    puts_(o, "\":\"");
    put_escaped(o, value, true);
    if (v[vlen] != ' ')
      return;
    p = v + vlen + 1;
  }
}

int sg_log_format_line(char *out, size_t cap, int64_t unix_ms, int level,
                       sg_log_format_t format, const char *subsystem,
                       const char *msg) {
  if (out == NULL || msg == NULL || cap < 64)
    return SG_EINVAL;
  bool json = format == SG_LOG_JSON;
  bool sub = subsystem != NULL && subsystem[0] != '\0';
  /* Room for the tail ("\"}" and '\n' and the NUL), always. */
  out_t o = {.p = out, .cap = cap - 4};
  if (json) {
    puts_(&o, "{\"time\":\"");
    put_time(&o, unix_ms);
    puts_(&o, "\",\"level\":\"");
    puts_(&o, sg_log_level_name(level));
    if (sub) {
      puts_(&o, "\",\"subsystem\":\"");
      put_escaped(&o, subsystem, true);
    }
    put_ids(&o, msg);
    puts_(&o, "\",\"msg\":\"");
    put_escaped(&o, msg, true);
    o.full = false;
    o.cap = cap - 1;
    puts_(&o, "\"}");
  } else {
    put_time(&o, unix_ms);
    const char *name = sg_log_level_name(level);
    puts_(&o, " ");
    puts_(&o, name);
    puts_(&o, &"      "[strlen(name)]); /* the level padded to 5, a space */
    if (sub) {
      put_escaped(&o, subsystem, false);
      puts_(&o, ": ");
    }
    put_escaped(&o, msg, false);
    o.full = false;
    o.cap = cap - 1;
  }
  puts_(&o, "\n");
  out[o.len] = '\0';
  return (int)o.len;
}
