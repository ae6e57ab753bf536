/* fuzz.c - libFuzzer target for reading REST API requests
 * (ingress/rest/parse.h).
 *
 * The input is read four ways: as the JSON body of a send and of a preview,
 * as a list query ("name=value&name=value", split here), and as an RFC 3339
 * time and a duration. The invariants the header promises are checked: a
 * parse is 0, SG_EINVAL (with a 400 or 422, a code, a message, and a field
 * that is valid UTF-8 so that the error body can be written) or SG_ENOMEM;
 * an accepted send has 1..10,000 recipients and a text; a time that parses
 * formats back to the same instant (to the millisecond). Any violation
 * aborts, so the replay and the fuzzer report it. */
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "ingress/rest/parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int ok) {
  if (!ok)
    abort();
}

static void check_err(const sg_rest_err_t *e) {
  check(e->http == 400 || e->http == 422);
  check(e->code != NULL && e->message[0] != '\0');
  json_t *f = json_string(e->field);
  json_t *m = json_string(e->message);
  check(f != NULL && m != NULL);
  json_decref(f);
  json_decref(m);
}

static void body(const uint8_t *data, size_t size, sg_rest_send_kind_t kind) {
  sg_rest_send_t r;
  sg_rest_err_t e;
  int rc = sg_rest_parse_send(data, size, kind, 1738324800000LL, &r, &e);
  check(rc == 0 || rc == SG_EINVAL || rc == SG_ENOMEM);
  if (rc == SG_EINVAL)
    check_err(&e);
  if (rc == 0) {
    check(r.text != NULL && r.text_len > 0);
    check(kind == SG_REST_PREVIEW || (r.n_to >= 1 && r.n_to <= 10000));
    for (size_t i = 0; i < r.n_to; i++)
      check(r.to[i] != NULL && r.to[i][0] != '\0');
    check(r.priority <= SG_REST_PRIORITY_MAX);
    check(r.validity_ms == 0 || r.validity_ms >= 1000);
  }
  sg_rest_send_free(&r);
}

/* Splits a copy of the input at '&' and '=' into at most 16 arguments. */
static void query(const uint8_t *data, size_t size) {
  char *s = malloc(size + 1);
  const char *names[16], *values[16];
  size_t n = 0;
  if (s == NULL)
    return;
  memcpy(s, data, size);
  s[size] = '\0';
  for (char *p = s; p != NULL && n < 16; n++) {
    char *amp = strchr(p, '&');
    if (amp != NULL)
      *amp++ = '\0';
    char *eq = strchr(p, '=');
    if (eq != NULL)
      *eq++ = '\0';
    names[n] = p;
    values[n] = eq != NULL ? eq : "";
    p = amp;
  }
  sg_rest_list_query_t q;
  sg_rest_err_t e;
  int rc = sg_rest_parse_list_query(names, values, n, &q, &e);
  check(rc == 0 || rc == SG_EINVAL);
  if (rc == SG_EINVAL)
    check_err(&e);
  else {
    check(q.filter.limit >= 1 && q.filter.limit <= SG_STORE_LIST_MAX);
    check(q.filter.recipient == NULL || sg_rest_is_e164(q.filter.recipient));
  }
  free(s);
}

static void times(const uint8_t *data, size_t size) {
  int64_t ms;
  char buf[SG_REST_TIME_BUF];
  if (sg_rest_parse_time((const char *)data, size, &ms) == 0) {
    int64_t back = -1;
    check(ms >= 0);
    check(sg_rest_format_time(ms, buf) == 0);
    check(sg_rest_parse_time(buf, strlen(buf), &back) == 0 && back == ms);
  }
  int rc = sg_rest_parse_duration((const char *)data, size, &ms);
  check(rc == 0 || rc == SG_EINVAL || rc == SG_ERANGE);
  check(rc != 0 || (ms >= 0 && ms <= (1LL << 53)));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static int init;
  if (!init) {
    sg_rest_json_init();
    init = 1;
  }
  body(data, size, SG_REST_SEND);
  body(data, size, SG_REST_PREVIEW);
  query(data, size);
  times(data, size);
  return 0;
}
