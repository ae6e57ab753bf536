/* query.c - reads the query of GET /v1/messages (status, to, batch_id,
 * since, until, limit, cursor) into a store filter.
 *
 * Strict like the JSON body: an unknown or repeated argument is refused
 * with its name, so that a typo ("?staus=queued") is not silently a list
 * of everything. Pure: no allocation, no I/O.
 */
#include <stdio.h>
#include <string.h>

#include "core/error.h"
#include "ingress/rest/parse.h"

/* The field is the argument's name as sent, which may be any bytes: only
 * printable ASCII is kept ('?' for the rest), so the error body stays
 * valid JSON. */
static int bad(sg_rest_err_t *err, const char *field, const char *msg) {
  size_t i = 0;
  err->http = 422;
  err->code = "invalid_value";
  for (; field[i] != '\0' && i + 1 < sizeof(err->field); i++)
    err->field[i] = field[i] >= 0x20 && field[i] < 0x7F ? field[i] : '?';
  err->field[i] = '\0';
  snprintf(err->message, sizeof(err->message), "%s", msg);
  return SG_EINVAL;
}

/* "+7900...", " 7900..." (a '+' decoded as a space) or "7900...". */
static int q_to(const char *v, sg_rest_list_query_t *q) {
  const char *digits = v[0] == '+' || v[0] == ' ' ? v + 1 : v;
  if (strlen(digits) + 1 >= sizeof(q->to))
    return SG_EINVAL;
  snprintf(q->to, sizeof(q->to), "+%s", digits);
  if (!sg_rest_is_e164(q->to))
    return SG_EINVAL;
  q->filter.recipient = q->to;
  return 0;
}

/* A message or batch id, kept in its canonical (upper-case) form. */
static int q_id(const char *v, char out[SG_ID_LEN + 1]) {
  uint8_t bin[SG_ID_BYTES];
  size_t n = strlen(v);
  if (n != SG_ID_LEN || sg_id_parse(v, n, bin) != 0)
    return SG_EINVAL;
  memcpy(out, v, n + 1);
  return sg_id_canonical(out, n);
}

static int q_limit(const char *v, unsigned *out) {
  unsigned long n = 0;
  if (*v == '\0' || strlen(v) > 4)
    return SG_EINVAL;
  for (const char *p = v; *p != '\0'; p++) {
    if (*p < '0' || *p > '9')
      return SG_EINVAL;
    n = n * 10 + (unsigned long)(*p - '0');
  }
  if (n < 1 || n > SG_STORE_LIST_MAX)
    return SG_EINVAL;
  *out = (unsigned)n;
  return 0;
}

/* An RFC 3339 time; a '+' of the offset that arrived as a space (an
 * unescaped '+' in a query means a space) is read as '+'. */
static int q_time(const char *v, int64_t *out) {
  char buf[48];
  size_t n = strlen(v);
  if (n >= sizeof(buf))
    return SG_EINVAL;
  memcpy(buf, v, n + 1);
  char *sp = strchr(buf, ' ');
  if (sp != NULL)
    *sp = '+';
  return sg_rest_parse_time(buf, n, out);
}

/* Applies one argument; returns 0, or SG_EINVAL with *err set. */
static int apply(const char *name, const char *v, sg_rest_list_query_t *q,
                 sg_rest_err_t *err) {
  sg_store_filter_t *f = &q->filter;
  if (strcmp(name, "status") == 0) {
    if (sg_store_status_parse(v, &f->status) != 0)
      return bad(err, name,
                 "'status' must be one of scheduled, queued, sending, sent, "
                 "delivered, undeliverable, expired, rejected, failed, "
                 "canceled");
  } else if (strcmp(name, "to") == 0) {
    if (q_to(v, q) != 0)
      return bad(err, name,
                 "'to' must be a number in E.164 form, such as +79001234567");
  } else if (strcmp(name, "batch_id") == 0) {
    if (q_id(v, q->batch_id) != 0)
      return bad(err, name, "'batch_id' is not a batch id");
    f->batch_id = q->batch_id;
  } else if (strcmp(name, "cursor") == 0) {
    if (q_id(v, q->cursor) != 0)
      return bad(err, name,
                 "'cursor' must be the next_cursor of a previous page");
    f->cursor = q->cursor;
  } else if (strcmp(name, "since") == 0 || strcmp(name, "until") == 0) {
    if (q_time(v, name[0] == 's' ? &f->from_ms : &f->to_ms) != 0)
      return bad(err, name,
                 "times must be RFC 3339, such as 2025-01-31T12:00:00Z");
  } else if (strcmp(name, "limit") == 0) {
    if (q_limit(v, &f->limit) != 0)
      return bad(err, name, "'limit' must be an integer from 1 to 1000");
  } else {
    bad(err, name,
        "unknown query argument; the arguments are status, to, batch_id, "
        "since, until, limit, cursor");
    err->code = "unknown_field";
    return SG_EINVAL;
  }
  return 0;
}

int sg_rest_parse_list_query(const char *const *names,
                             const char *const *values, size_t n,
                             sg_rest_list_query_t *out, sg_rest_err_t *err) {
  memset(out, 0, sizeof(*out));
  out->filter.limit = SG_STORE_LIST_DEFAULT;
  for (size_t i = 0; i < n; i++) {
    for (size_t j = 0; j < i; j++)
      if (strcmp(names[i], names[j]) == 0)
        return bad(err, names[i], "this query argument is given twice");
    if (apply(names[i], values[i] != NULL ? values[i] : "", out, err) != 0)
      return SG_EINVAL;
  }
  if (out->filter.from_ms != 0 && out->filter.to_ms != 0 &&
      out->filter.to_ms <= out->filter.from_ms)
    return bad(err, "until", "'until' must be later than 'since'");
  return 0;
}
