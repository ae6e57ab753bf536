/* log.h - the one line a log event becomes: plain text for a terminal, or
 * one JSON object per line for a log collector (`log.format: json`,
 * `smsgate serve --log-format json`).
 *
 *   text: 2026-11-25T21:21:10.814Z info  store: 12 part(s) put back
 *   json: {"time":"2026-11-25T21:21:10.814Z","level":"info",
 *          "subsystem":"store","msg":"12 part(s) put back"}
 *
 * A message about one message starts with its ids as key=value words,
 * "message=01M... part=1 connector=op smsc_id=1f3a: sent"; the JSON form
 * also gives each as its own key ("message_id", "part", "connector",
 * "smsc_id", "account", "batch_id"; strings), so that one message can be
 * followed across ingress, connector and receipt by its id in either form.
 *
 * Formatting only: no I/O, no clock, no allocation. The caller passes the
 * time and writes the line. Messages may carry any bytes (a URL, a name
 * from a peer): JSON output stays valid JSON (control characters escaped,
 * invalid UTF-8 replaced by U+FFFD); text output replaces control
 * characters by '?', so that one event is always one line.
 */
#ifndef SG_CORE_LOG_H
#define SG_CORE_LOG_H

#include <stddef.h>
#include <stdint.h>

/* The same values as sg_config_log_level_t and sg_config_log_format_t. */
typedef enum sg_log_level {
  SG_LOG_DEBUG = 0,
  SG_LOG_INFO = 1,
  SG_LOG_WARN = 2,
  SG_LOG_ERROR = 3
} sg_log_level_t;

typedef enum sg_log_format {
  SG_LOG_TEXT = 0,
  SG_LOG_JSON = 1
} sg_log_format_t;

/* "debug", "info", "warn", "error"; "info" for any other value. */
const char *sg_log_level_name(int level);

/* Parses "debug" ... "error" / "text", "json". Returns 0, or SG_EINVAL. */
int sg_log_level_parse(const char *s, sg_log_level_t *out);
int sg_log_format_parse(const char *s, sg_log_format_t *out);

/* Writes the line of one event into out[0..cap), ending with '\n' and a
 * NUL; unix_ms is the event's time, subsystem may be NULL or "" (then the
 * text form has no "subsystem: " and the JSON form no "subsystem" key). A
 * line that does not fit is cut at a character boundary and still ends
 * with '\n' (and, in JSON, closes its string and object). Returns the
 * length written, without the NUL; SG_EINVAL for a NULL out or msg, or a
 * cap below 64. */
int sg_log_format_line(char *out, size_t cap, int64_t unix_ms, int level,
                       sg_log_format_t format, const char *subsystem,
                       const char *msg);

#endif
