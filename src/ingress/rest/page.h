/* page.h - ?limit=&cursor= over the admin lists the engine holds in
 * memory (accounts, keys, connectors, queues, inbound rules, velocity
 * blocks): the same arguments and the same `next_cursor` as the store's
 * lists (/v1/messages, /v1/contacts).
 *
 * A list is walked in its own stable order (the engine only appends to
 * these lists, or keeps its order), and each item offered with its key
 * (an account's name, a key's id, ...). The cursor is the key of the last
 * item of the previous page; the next page starts after it. A cursor that
 * names no item is refused rather than read as "from the start", so that
 * a client never loops or skips silently.
 * Not a public header: only the REST handlers include it.
 */
#ifndef SG_INGRESS_REST_PAGE_H
#define SG_INGRESS_REST_PAGE_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "ingress/http_server.h"

#define SG_REST_PAGE_DEFAULT 100u
#define SG_REST_PAGE_MAX 1000u
#define SG_REST_CURSOR_MAX 256u

typedef struct sg__rest_page {
  unsigned limit;
  char cursor[SG_REST_CURSOR_MAX]; /* "" on the first page */
  bool seen;                       /* the cursor's item was passed */
  unsigned n;                      /* items taken */
  bool more;                       /* an item is left after the page */
  char last[SG_REST_CURSOR_MAX];   /* the key of the last item taken */
} sg__rest_page_t;

/* Reads the query arguments: `limit` (1..1000, default 100), `cursor`
 * (the next_cursor of a previous page) and the names in others[0..n).
 * A bad limit or cursor, or one given twice, is answered 400
 * invalid_query naming it; any other argument 422 unknown_argument
 * (naming it). Returns false after answering. */
bool sg__rest_page_args(sg_http_req_t *req, const char *const *others,
                        size_t n_others, sg__rest_page_t *p);

/* Offers the next item of the walk, with its key. Returns 1 when it
 * belongs on the page, 0 when it comes before it (skip it), -1 when the
 * page is full (stop walking: an item is left, so there is a next page). */
int sg__rest_page_offer(sg__rest_page_t *p, const char *key);

/* After the walk: false after answering 400 invalid_query (field
 * "cursor") when the cursor named no item of the list. */
bool sg__rest_page_check(sg_http_req_t *req, const sg__rest_page_t *p);

/* The page's next_cursor: the last key taken when an item is left, else
 * JSON null. A new reference (NULL only when out of memory). */
json_t *sg__rest_page_next(const sg__rest_page_t *p);

#endif
