/* serve_reload.h - the configuration reload of `smsgate serve`: on SIGHUP
 * and on POST /v1/admin/reload the file given with -c is read and checked
 * again and handed to the engine (engine/reload.h); a file with errors is
 * refused whole, with each error as file:line:column, and the running
 * configuration stays.
 */
#ifndef SG_CLI_SERVE_RELOAD_H
#define SG_CLI_SERVE_RELOAD_H

#include "engine/engine.h"
#include "ingress/rest/reload.h"

/* Writes one log line (level as sg_config_log_level_t). */
typedef void (*sg_serve_log_fn)(void *data, int level, const char *line);

typedef struct sg_serve_reload {
  sg_engine_t *engine;
  const char *path; /* the -c file; NULL: the built-in default */
  sg_serve_log_fn log;
  void *log_data;
} sg_serve_reload_t;

/* A sg_rest_reload_fn (data: sg_serve_reload_t): loads the file, reloads
 * the engine, logs the outcome and answers: 200 with the engine's report,
 * 422 {"error": {"code": "invalid_config", "message", "field": null,
 * "errors": ["file:line:column: key: message", ...]}} for a file with
 * errors, 422 "reload_refused" when the engine refused it, 409
 * "reload_in_progress", 503 when the engine is not running. answer may be
 * NULL (SIGHUP: the log is the answer). */
void sg_serve_reload_run(void *data, sg_rest_reload_answer_cb answer, void *ud);

#endif
