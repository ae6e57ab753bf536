/* page.c - cursors over the admin lists the engine holds in memory (see
 * page.h): the query arguments checked, the walk cut into pages.
 *
 * It only reads the query and answers a bad one; it never holds an item
 * of the list beyond the call that offers it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ingress/rest/page.h"
#include "ingress/rest/rest_int.h"

static bool bad(sg_http_req_t *req, const char *field, const char *msg) {
  sg__rest_error(req, 400, "invalid_query", msg, field, 0);
  return false;
}

static bool read_limit(sg_http_req_t *req, const char *v, unsigned *out) {
  char *end = NULL;
  unsigned long n =
      v[0] >= '1' && v[0] <= '9' && strlen(v) <= 4 ? strtoul(v, &end, 10) : 0;
  if (n == 0 || *end != '\0' || n > SG_REST_PAGE_MAX)
    return bad(req, "limit", "'limit' must be an integer from 1 to 1000");
  *out = (unsigned)n;
  return true;
}

static bool known(const char *name, const char *const *others, size_t n) {
  for (size_t i = 0; i < n; i++)
    if (strcmp(name, others[i]) == 0)
      return true;
  return false;
}

bool sg__rest_page_args(sg_http_req_t *req, const char *const *others,
                        size_t n_others, sg__rest_page_t *p) {
  memset(p, 0, sizeof *p);
  p->limit = SG_REST_PAGE_DEFAULT;
  bool had_limit = false, had_cursor = false;
  for (size_t i = 0; i < sg_http_req_query_count(req); i++) {
    const char *n, *v;
    sg_http_req_query_at(req, i, &n, &v);
    if (strcmp(n, "limit") == 0) {
      if (had_limit)
        return bad(req, "limit", "'limit' is given once");
      had_limit = true;
      if (!read_limit(req, v, &p->limit))
        return false;
    } else if (strcmp(n, "cursor") == 0) {
      if (had_cursor)
        return bad(req, "cursor", "'cursor' is given once");
      had_cursor = true;
      if (v[0] == '\0' || strlen(v) >= sizeof p->cursor)
        return bad(req, "cursor",
                   "'cursor' must be the next_cursor of a previous page");
      snprintf(p->cursor, sizeof p->cursor, "%s", v);
    } else if (!known(n, others, n_others)) {
      sg__rest_error(req, 422, "unknown_argument",
                     "unknown query argument (this list takes limit, cursor"
                     " and its own filters)",
                     n, 0);
      return false;
    }
  }
  p->seen = p->cursor[0] == '\0';
  return true;
}

int sg__rest_page_offer(sg__rest_page_t *p, const char *key) {
  if (!p->seen) {
    p->seen = strcmp(key, p->cursor) == 0;
    return 0;
  }
  if (p->n >= p->limit) {
    p->more = true;
    return -1;
  }
  p->n++;
  snprintf(p->last, sizeof p->last, "%s", key);
  return 1;
}

bool sg__rest_page_check(sg_http_req_t *req, const sg__rest_page_t *p) {
  if (p->seen)
    return true;
  return bad(req, "cursor",
             "'cursor' names no item of this list: give the next_cursor of "
             "a previous page");
}

json_t *sg__rest_page_next(const sg__rest_page_t *p) {
  return p->more ? json_string(p->last) : json_null();
}
