/* serve_reload.c - reads the configuration file again for a reload
 * (serve_reload.h) and hands it to the engine; turns the outcome into a
 * log line and an HTTP answer.
 *
 * It must never change the engine other than through sg_engine_reload, nor
 * apply part of a file that has errors.
 */
#include "cli/serve_reload.h"

#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "core/alloc.h"
#include "core/config.h"
#include "core/error.h"
#include "engine/reload.h"

typedef struct ask {
  sg_serve_reload_t *r;
  sg_rest_reload_answer_cb answer;
  void *ud;
} ask_t;

static void logf_(sg_serve_reload_t *r, int level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void logf_(sg_serve_reload_t *r, int level, const char *fmt, ...) {
  char line[1024];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(line, sizeof line, fmt, ap);
  va_end(ap);
  if (r->log != NULL)
    r->log(r->log_data, level, line);
}

static void jfree(char *s) {
  json_free_t f = NULL;
  json_get_alloc_funcs(NULL, &f);
  if (s != NULL && f != NULL)
    f(s);
}

/* Answers with obj (taken) as JSON. */
static void answer_json(const ask_t *a, unsigned status, json_t *obj) {
  char *text = obj != NULL ? json_dumps(obj, JSON_COMPACT) : NULL;
  json_decref(obj);
  if (a->answer != NULL)
    a->answer(a->ud, text != NULL ? status : 500,
              text != NULL ? text
                           : "{\"error\":{\"code\":\"internal\",\"message\":"
                             "\"out of memory\",\"field\":null}}");
  jfree(text);
}

static json_t *error_obj(const char *code, const char *message,
                         const char *field) {
  return json_pack("{s:{s:s, s:s, s:s?}}", "error", "code", code, "message",
                   message, "field", field);
}

static void engine_cb(sg_engine_t *e, const sg_engine_reload_res_t *res,
                      void *ud) {
  (void)e;
  ask_t *a = ud;
  if (res->status == 0) {
    logf_(a->r, SG_CONFIG_LOG_INFO, "reload: %s", res->report);
    json_t *rep = json_loads(res->report, 0, NULL);
    answer_json(a, 200, rep);
  } else {
    logf_(a->r, SG_CONFIG_LOG_ERROR,
          "reload refused, the running configuration stays: %s%s%s",
          res->field ? res->field : "", res->field ? ": " : "",
          res->message ? res->message : sg_strerror(res->status));
    answer_json(
        a, res->status == SG_EIO ? 503 : 422,
        error_obj(res->status == SG_EIO ? "store_unavailable"
                                        : "reload_refused",
                  res->message ? res->message : sg_strerror(res->status),
                  res->field));
  }
  sg_free(a);
}

/* A file with errors: each one logged and listed. */
static void refuse_file(const ask_t *a, const sg_config_errors_t *errs,
                        int rc) {
  json_t *list = json_array();
  char
      line[SG_CONFIG_KEY_MAX + SG_CONFIG_MESSAGE_MAX + SG_CONFIG_NAME_MAX + 32];
  for (size_t i = 0; i < errs->count; i++) {
    if (sg_config_error_format(errs, i, line, sizeof line) <= 0)
      continue;
    logf_(a->r, SG_CONFIG_LOG_ERROR, "reload: %s", line);
    json_array_append_new(list, json_string(line));
  }
  if (errs->count == 0) {
    snprintf(line, sizeof line, "%s: %s", a->r->path, sg_strerror(rc));
    logf_(a->r, SG_CONFIG_LOG_ERROR, "reload: %s", line);
    json_array_append_new(list, json_string(line));
  }
  char msg[160];
  snprintf(msg, sizeof msg,
           "the configuration has %zu error(s); nothing was changed",
           errs->total > 0 ? errs->total : 1);
  logf_(a->r, SG_CONFIG_LOG_ERROR, "reload refused: %s", msg);
  json_t *obj = error_obj("invalid_config", msg, NULL);
  json_object_set_new(json_object_get(obj, "error"), "errors", list);
  answer_json(a, 422, obj);
}

void sg_serve_reload_run(void *data, sg_rest_reload_answer_cb answer,
                         void *ud) {
  sg_serve_reload_t *r = data;
  ask_t tmp = {r, answer, ud};
  sg_config_errors_t *errs = sg_calloc(1, sizeof *errs);
  ask_t *a = sg_malloc(sizeof *a);
  if (errs == NULL || a == NULL) {
    sg_free(errs);
    sg_free(a);
    answer_json(&tmp, 503, error_obj("unavailable", "out of memory", NULL));
    return;
  }
  *a = tmp;
  logf_(r, SG_CONFIG_LOG_INFO, "reload: reading %s",
        r->path ? r->path : "the built-in configuration");
  sg_config_t *cfg = NULL;
  int rc = r->path != NULL ? sg_config_load_file(r->path, &cfg, errs)
                           : sg_config_default(&cfg, errs);
  if (rc != 0) {
    refuse_file(a, errs, rc);
    sg_free(errs);
    sg_free(a);
    return;
  }
  sg_free(errs);
  rc = sg_engine_reload(r->engine, cfg, engine_cb, a);
  if (rc == 0)
    return;
  logf_(r, SG_CONFIG_LOG_WARN, "reload not done: %s",
        rc == SG_EBUSY ? "another reload or a route change is in progress"
                       : sg_strerror(rc));
  answer_json(a, rc == SG_EBUSY ? 409 : 503,
              rc == SG_EBUSY
                  ? error_obj("reload_in_progress",
                              "another reload or a route change is in "
                              "progress; try again",
                              NULL)
                  : error_obj("unavailable",
                              "the gateway is starting or stopping", NULL));
  sg_free(a);
}
