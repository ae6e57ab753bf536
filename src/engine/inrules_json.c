/* inrules_json.c - an inbound routing rule in JSON, both ways: the body of
 * the API's requests and answers, and the document the store keeps of each
 * rule. Reading is strict (unknown keys, wrong types and bad values are
 * refused naming the key) and ends with the same check as the
 * configuration's (core/inrule.h).
 *
 * Pure: no I/O, no store, no engine state.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "core/error.h"
#include "core/inrule.h"
#include "engine/inrules.h"

static int fail(sg_inrule_err_t *err, const char *code, const char *prefix,
                const char *key, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

static int fail(sg_inrule_err_t *err, const char *code, const char *prefix,
                const char *key, const char *fmt, ...) {
  err->code = code;
  if (key == NULL || key[0] == '\0')
    snprintf(err->field, sizeof err->field, "%s", prefix);
  else
    snprintf(err->field, sizeof err->field, "%s%s%s", prefix,
             prefix[0] ? "." : "", key);
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(err->message, sizeof err->message, fmt, ap);
  va_end(ap);
  return SG_EINVAL;
}

void sg_inrule_clear(sg_inrule_t *q) {
  if (q == NULL)
    return;
  sg_config_inbound_rule_t *r = &q->r;
  sg_free((char *)r->to);
  sg_free((char *)r->keyword);
  for (size_t i = 0; i < r->n_aliases; i++)
    sg_free((char *)r->aliases[i]);
  sg_free((void *)r->aliases);
  sg_free((char *)r->regex);
  sg_free((char *)r->account);
  sg_free((char *)r->url);
  memset(q, 0, sizeof *q);
}

static bool dup_str(const char **dst, const char *src) {
  *dst = src != NULL ? sg_strdup(src) : NULL;
  return src == NULL || *dst != NULL;
}

int sg_inrule_copy(sg_inrule_t *dst, const sg_config_inbound_rule_t *src,
                   int64_t id) {
  memset(dst, 0, sizeof *dst);
  dst->id = id;
  sg_config_inbound_rule_t *r = &dst->r;
  *r = *src;
  r->to = r->keyword = r->regex = r->account = r->url = NULL;
  r->aliases = NULL;
  r->n_aliases = 0;
  bool ok = dup_str(&r->to, src->to) && dup_str(&r->keyword, src->keyword) &&
            dup_str(&r->regex, src->regex) &&
            dup_str(&r->account, src->account) && dup_str(&r->url, src->url);
  if (ok && src->n_aliases > 0) {
    r->aliases = sg_calloc(src->n_aliases, sizeof *r->aliases);
    ok = r->aliases != NULL;
    for (; ok && r->n_aliases < src->n_aliases; r->n_aliases++)
      ok = dup_str(&r->aliases[r->n_aliases], src->aliases[r->n_aliases]) &&
           r->aliases[r->n_aliases] != NULL;
  }
  if (!ok) {
    sg_inrule_clear(dst);
    return SG_ENOMEM;
  }
  return 0;
}

/* ---- reading ------------------------------------------------------------- */

typedef struct reader {
  const char *prefix;
  sg_inrule_err_t *err;
  sg_config_inbound_rule_t *r; /* strings point into the JSON here */
  const char *aliases[SG_INRULE_ALIASES_MAX];
} reader_t;

static int opt_string(reader_t *rd, const char *key, const json_t *v,
                      const char **out) {
  if (json_is_null(v))
    return 0;
  if (!json_is_string(v))
    return fail(rd->err, "invalid_type", rd->prefix, key,
                "'%s' must be a string or null", key);
  if (strlen(json_string_value(v)) != json_string_length(v))
    return fail(rd->err, "invalid_value", rd->prefix, key,
                "'%s' must not contain NUL characters", key);
  *out = json_string_value(v);
  return 0;
}

static int read_aliases(reader_t *rd, const json_t *v) {
  if (json_is_null(v))
    return 0;
  if (!json_is_array(v))
    return fail(rd->err, "invalid_type", rd->prefix, "aliases",
                "'aliases' must be an array of strings");
  if (json_array_size(v) > SG_INRULE_ALIASES_MAX)
    return fail(rd->err, "invalid_value", rd->prefix, "aliases",
                "at most %d aliases", SG_INRULE_ALIASES_MAX);
  size_t i;
  const json_t *a;
  json_array_foreach(v, i, a) {
    if (!json_is_string(a))
      return fail(rd->err, "invalid_type", rd->prefix, "aliases",
                  "'aliases' must be an array of strings");
    rd->aliases[i] = json_string_value(a);
  }
  rd->r->aliases = rd->aliases;
  rd->r->n_aliases = json_array_size(v);
  return 0;
}

static int read_uint(reader_t *rd, const char *key, const json_t *v,
                     long long max, long long *out) {
  if (json_is_null(v))
    return 0;
  if (!json_is_integer(v) || json_integer_value(v) < 1 ||
      json_integer_value(v) > max)
    return fail(rd->err, json_is_integer(v) ? "invalid_value" : "invalid_type",
                rd->prefix, key, "'%s' must be an integer from 1 to %lld", key,
                max);
  *out = json_integer_value(v);
  return 0;
}

static int read_enum(reader_t *rd, const char *key, const json_t *v) {
  const char *s = NULL;
  if (opt_string(rd, key, v, &s) != 0 || s == NULL)
    return s == NULL && json_is_null(v) ? 0 : SG_EINVAL;
  if (key[0] == 'a' && sg_inrule_action_parse(s, &rd->r->action) != 0)
    return fail(rd->err, "invalid_value", rd->prefix, key,
                "'action' is one of webhook, url, both");
  if (key[0] == 'm' && sg_inrule_method_parse(s, &rd->r->method) != 0)
    return fail(rd->err, "invalid_value", rd->prefix, key,
                "'method' is GET or POST");
  return 0;
}

static int read_key(reader_t *rd, const char *k, const json_t *v,
                    sg_inrule_t *out) {
  sg_config_inbound_rule_t *r = rd->r;
  long long n = 0;
  int rc = 0;
  if (strcmp(k, "to") == 0)
    rc = opt_string(rd, k, v, &r->to);
  else if (strcmp(k, "keyword") == 0)
    rc = opt_string(rd, k, v, &r->keyword);
  else if (strcmp(k, "aliases") == 0)
    rc = read_aliases(rd, v);
  else if (strcmp(k, "regex") == 0)
    rc = opt_string(rd, k, v, &r->regex);
  else if (strcmp(k, "account") == 0)
    rc = opt_string(rd, k, v, &r->account);
  else if (strcmp(k, "url") == 0)
    rc = opt_string(rd, k, v, &r->url);
  else if (strcmp(k, "action") == 0 || strcmp(k, "method") == 0)
    rc = read_enum(rd, k, v);
  else if (strcmp(k, "reply") == 0) {
    if (!json_is_boolean(v) && !json_is_null(v))
      return fail(rd->err, "invalid_type", rd->prefix, k,
                  "'reply' must be true or false");
    r->reply = !json_is_false(v);
  } else if (strcmp(k, "reply_max_length") == 0) {
    rc = read_uint(rd, k, v, SG_INRULE_REPLY_MAX, &n);
    if (rc == 0 && n > 0)
      r->reply_max_length = (uint32_t)n;
  } else if (strcmp(k, "id") == 0) {
    rc = read_uint(rd, k, v, INT64_MAX / 2, &n);
    out->id = n;
  } else if (strcmp(k, "position") == 0) {
    rc = read_uint(rd, k, v, 1000000, &n);
    out->position = (unsigned)n;
  } else
    return fail(rd->err, "unknown_field", rd->prefix, k,
                "unknown field; a rule has to, keyword, aliases, regex, "
                "account, action, url, method, reply, reply_max_length");
  return rc;
}

int sg_inrule_from_json(const json_t *o, const char *prefix, sg_inrule_t *out,
                        sg_inrule_err_t *err) {
  memset(out, 0, sizeof *out);
  if (!json_is_object(o))
    return fail(err, "invalid_type", prefix, NULL,
                "a rule must be a JSON object");
  sg_config_inbound_rule_t r;
  sg_inrule_init(&r);
  reader_t rd = {.prefix = prefix, .err = err, .r = &r};
  sg_inrule_t ids = {0};
  const char *k;
  const json_t *v;
  json_object_foreach((json_t *)o, k, v) {
    if (read_key(&rd, k, v, &ids) != 0)
      return SG_EINVAL;
  }
  if (r.account == NULL)
    return fail(err, "missing_field", prefix, "account",
                "'account' is required");
  sg_inrule_problem_t p;
  if (sg_inrule_check(&r, &p) != 0)
    return fail(err, "invalid_value", prefix, p.field, "%s", p.message);
  if (sg_inrule_copy(out, &r, ids.id) != 0)
    return SG_ENOMEM;
  out->position = ids.position;
  return 0;
}

/* ---- writing ------------------------------------------------------------- */

static json_t *str_or_null(const char *s) {
  return s != NULL ? json_string(s) : json_null();
}

json_t *sg_inrule_to_json(const sg_inrule_t *q, bool with_id) {
  const sg_config_inbound_rule_t *r = &q->r;
  json_t *o = json_object(), *al = json_array();
  for (size_t i = 0; al != NULL && i < r->n_aliases; i++)
    if (json_array_append_new(al, json_string(r->aliases[i])) != 0) {
      json_decref(al);
      al = NULL;
    }
  if (o == NULL || al == NULL) {
    json_decref(o);
    json_decref(al);
    return NULL;
  }
  int bad = 0;
  if (with_id) {
    bad |= json_object_set_new(o, "id", json_integer(q->id));
    bad |= json_object_set_new(o, "position", json_integer(q->position));
  }
  bad |= json_object_set_new(o, "to", str_or_null(r->to));
  bad |= json_object_set_new(o, "keyword", str_or_null(r->keyword));
  bad |= json_object_set_new(o, "aliases", al);
  bad |= json_object_set_new(o, "regex", str_or_null(r->regex));
  bad |= json_object_set_new(o, "account", str_or_null(r->account));
  bad |= json_object_set_new(o, "action",
                             json_string(sg_inrule_action_name(r->action)));
  bad |= json_object_set_new(o, "url", str_or_null(r->url));
  bad |= json_object_set_new(o, "method",
                             json_string(sg_inrule_method_name(r->method)));
  bad |= json_object_set_new(o, "reply", json_boolean(r->reply));
  bad |= json_object_set_new(o, "reply_max_length",
                             json_integer(r->reply_max_length));
  if (bad) {
    json_decref(o);
    return NULL;
  }
  return o;
}
