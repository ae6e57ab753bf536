/* http_server.c - libmicrohttpd on the libuv loop, with a route table and
 * answers that may come after the handler has returned.
 *
 * libmicrohttpd parses HTTP/1.1, keeps connections alive and enforces the
 * header and connection limits; this module drives it from the loop (its
 * epoll fd in a uv_poll_t, MHD_get_timeout() in a uv_timer_t), matches
 * routes, collects the body up to max_body, and suspends a connection while
 * its handler has not answered. A request object is shared by up to three
 * owners, counted in `refs`: libmicrohttpd (until its completion callback),
 * the handler (until sg_http_respond) and the uv_poll_t that watches the
 * socket of a request suspended for more than WATCH_AFTER_MS for a
 * disconnect (until its close callback); the last one frees it. Everything the
 * handler can read is copied into the request, so no pointer into
 * libmicrohttpd's memory outlives the connection.
 *
 * This module must never block the loop, never call a handler outside the
 * loop thread, and never let a client that goes away turn a later
 * sg_http_respond into a use of freed memory.
 */
#include "ingress/http_server.h"
#include "ingress/http_deadline.h"

#include <errno.h>
#include <jansson.h>
#include <microhttpd.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "core/alloc.h"
#include "core/error.h"

#define DEFAULT_MAX_BODY (1024u * 1024u)
#define DEFAULT_MAX_CONNECTIONS 1024u
#define DEFAULT_IDLE_TIMEOUT_S 30u
#define DEFAULT_MAX_HEADER (8u * 1024u)
#define INLINE_ARENA 1024u /* request strings of a typical request */
#define ARENA_CHUNK 4096u
#define BODY_PREALLOC_MAX (64u * 1024u) /* trust Content-Length this far */
/* libmicrohttpd's connection pool past the header limit: room for the
 * headers' index (about 64 octets a header line) and the answer's status
 * line and headers. A header block of max_header_size octets in up to 44
 * lines still fits, with an answer's headers. */
#define POOL_SLACK 3072u
/* Request objects kept for the next requests once done. One is 1.6 KiB,
 * past malloc's per-thread caches, so each new one took the allocator's
 * slow path (and a merge of its free lists) once a request. Sanitizer
 * builds keep none, so that a use after the end is still caught. */
#if defined(__SANITIZE_ADDRESS__)
#define SPARE_MAX 0u
#else
#define SPARE_MAX 64u
#endif
/* A kept request object keeps its body buffer too, up to this size. */
#define KEEP_BODY_MAX 4096u
/* A request suspended this long gets its socket watched for a disconnect;
 * most answers (a group commit) come sooner, and watching costs three
 * system calls. */
#define WATCH_AFTER_MS 100u

typedef struct kv {
  const char *name;
  const char *value;
} kv_t;

typedef struct seg {
  const char *text; /* literal text, or the name of a {param} */
  bool param;
} seg_t;

typedef struct route {
  char *method;
  char *buf; /* the pattern, split in place into segs */
  seg_t *segs;
  size_t n_segs;
  sg_http_handler_cb cb;
  void *data;
  bool raw_query; /* takes query values with %00 (sg_http_req_query_raw) */
  sg_http_chunk_cb chunk; /* a streaming route: the body goes here */
} route_t;

/* Bump allocator for the strings of one request: the first chunk lives in
 * the request itself, further ones come from sg_malloc. */
typedef struct chunk {
  struct chunk *next;
  size_t size;
  max_align_t mem[];
} chunk_t;

typedef struct arena {
  char *cur;
  size_t left;
  chunk_t *chunks;
} arena_t;

typedef enum req_state {
  REQ_HEADERS,  /* the request line is in, the handler not called yet */
  REQ_BODY,     /* collecting the body */
  REQ_REJECT,   /* the server answers itself once the request is in */
  REQ_HANDLER,  /* inside the handler call */
  REQ_WAITING,  /* suspended until sg_http_respond */
  REQ_ANSWERED, /* a response is queued */
  REQ_CANCELLED /* the client went away while waiting */
} req_state_t;

struct sg_http_server {
  uv_loop_t *loop;
  struct MHD_Daemon *mhd;
  uv_poll_t epoll_watch;
  uv_timer_t timer; /* MHD_get_timeout(), and runs after a resume */
  uv_timer_t sweep; /* starts the watchers of long-suspended requests */
  uv_timer_t drain; /* sg_http_server_drain: polls until nothing is live */
  int open_handles; /* freed when the last close callback has run */
  bool polling;     /* epoll_watch is initialised */
  bool closing;
  bool kicked;           /* connections resumed since MHD_run last ran */
  uint64_t kicked_at;    /* uv_hrtime µs of the first of them */
  bool draining;         /* not listening; new requests get 503 */
  unsigned live;         /* requests between uri_cb and completed_cb */
  uint64_t drain_until;  /* loop time, ms */
  sg_http_drained_cb drained_cb;
  void *drained_data;
  size_t max_body;
  uint16_t port;
  route_t *routes;
  size_t n_routes, cap_routes;
  sg_http_req_t *waiting; /* handed to a handler, not answered */
  sg_http_req_t *spare;   /* done requests for reuse, linked by next */
  unsigned n_spare;
  sg_http_server_stats_t stats;
  void (*log_cb)(void *data, const char *msg);
  void *log_data;
  sg__http_deadline_t *deadline; /* http_deadline.h: slow clients */
};

struct sg_http_req {
  sg_http_server_t *srv;       /* NULL once the server is freed */
  struct MHD_Connection *conn; /* NULL once libmicrohttpd is done */
  sg_http_req_t *prev, *next;  /* srv->waiting */
  unsigned refs;
  req_state_t state;
  bool linked, responded, watching;
  bool query_nul; /* a query value holds %00: only raw_query routes */
  unsigned reject_status;
  const char *reject_code, *reject_msg;
  const route_t *route;
  const char *uri, *method, *path, *query_raw;
  kv_t *params, *query, *headers;
  size_t n_params, n_query, n_headers;
  uint8_t *body;
  size_t body_len, body_cap;
  struct MHD_Response *response;
  unsigned status;
  uint64_t suspended_at; /* loop time, ms */
  uint64_t t_start, t_respond; /* uv_hrtime µs: uri_cb, a suspended answer */
  sg_http_cancel_cb cancel_cb;
  void *cancel_data;
  /* Streaming routes (sg_http_server_route_stream): */
  bool streaming, snapped; /* headers copied before the first chunk */
  bool paused;             /* suspended until sg_http_req_resume_body */
  bool body_dropped;       /* the chunk callback refused the rest */
  void *user;
  /* Streamed responses (sg_http_respond_stream): */
  sg_http_pull_cb pull;
  void (*pull_done)(void *data);
  void *pull_data;
  bool out_paused; /* suspended until sg_http_stream_resume */
  struct sockaddr_storage peer;
  uv_poll_t watch;
  arena_t arena;
  union {
    max_align_t align;
    char mem[INLINE_ARENA];
  } inline_arena;
  /* Not cleared for a new request (after inline_arena): a body buffer
   * left by an earlier request of this object, for the next body. */
  uint8_t *keep;
  size_t keep_cap;
};

/* ---- arena ---------------------------------------------------------- */

static void *arena_alloc(arena_t *a, size_t n) {
  n = (n + 15u) & ~(size_t)15u;
  if (n > a->left) {
    size_t size = n > ARENA_CHUNK ? n : ARENA_CHUNK;
    chunk_t *c = sg_malloc(sizeof *c + size);
    if (c == NULL)
      return NULL;
    c->next = a->chunks;
    c->size = size;
    a->chunks = c;
    a->cur = (char *)c->mem;
    a->left = size;
  }
  void *p = a->cur;
  a->cur += n;
  a->left -= n;
  return p;
}

static char *arena_strndup(arena_t *a, const char *s, size_t n) {
  char *p = arena_alloc(a, n + 1);
  if (p != NULL) {
    memcpy(p, s, n);
    p[n] = '\0';
  }
  return p;
}

static void arena_free(arena_t *a) {
  while (a->chunks != NULL) {
    chunk_t *c = a->chunks;
    a->chunks = c->next;
    sg_free(c);
  }
}

/* ---- %-decoding and the request target ------------------------------ */

static int hexval(char c) {
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}

/* Decodes s[0..n) (RFC 3986 section 2.1 %-escapes; '+' is a space when
 * `plus`, as in application/x-www-form-urlencoded) into a new arena string.
 * Returns NULL for a malformed escape, an escaped NUL, or no memory (with
 * *oom set). */
static char *pct_decode(arena_t *a, const char *s, size_t n, bool plus,
                        bool *oom) {
  char *out = arena_alloc(a, n + 1);
  size_t o = 0;
  if (out == NULL) {
    *oom = true;
    return NULL;
  }
  for (size_t i = 0; i < n; i++) {
    char c = s[i];
    if (c == '%') {
      int hi = i + 2 < n ? hexval(s[i + 1]) : -1;
      int lo = hi >= 0 ? hexval(s[i + 2]) : -1;
      if (hi < 0 || lo < 0 || (hi | lo) == 0)
        return NULL;
      c = (char)(hi << 4 | lo);
      i += 2;
    } else if (c == '+' && plus) {
      c = ' ';
    }
    out[o++] = c;
  }
  out[o] = '\0';
  return out;
}

/* True when s[0..n) holds "%00" and no other malformed escape. */
static bool has_escaped_nul(const char *s, size_t n) {
  bool nul = false;
  for (size_t i = 0; i < n; i++) {
    if (s[i] != '%')
      continue;
    int hi = i + 2 < n ? hexval(s[i + 1]) : -1;
    int lo = hi >= 0 ? hexval(s[i + 2]) : -1;
    if (hi < 0 || lo < 0)
      return false;
    nul |= (hi | lo) == 0;
    i += 2;
  }
  return nul;
}

/* Splits a query string into name/value pairs. Returns 0, SG_EILSEQ for a
 * malformed escape, SG_ENOMEM. */
static int parse_query(sg_http_req_t *req, const char *q) {
  size_t n = 1;
  bool oom = false;
  for (const char *p = q; *p; p++)
    n += *p == '&';
  req->query = arena_alloc(&req->arena, n * sizeof(kv_t));
  if (req->query == NULL)
    return SG_ENOMEM;
  while (*q) {
    size_t len = strcspn(q, "&");
    const char *eq = memchr(q, '=', len);
    size_t nlen = eq ? (size_t)(eq - q) : len;
    if (len > 0) {
      kv_t *kv = &req->query[req->n_query];
      kv->name = pct_decode(&req->arena, q, nlen, true, &oom);
      kv->value =
          eq ? pct_decode(&req->arena, eq + 1, len - nlen - 1, true, &oom) : "";
      if (kv->value == NULL && !oom && kv->name != NULL &&
          has_escaped_nul(eq + 1, len - nlen - 1)) {
        req->query_nul = true; /* refused unless the route reads it raw */
        kv->value = "";
      }
      if (kv->name == NULL || kv->value == NULL)
        return oom ? SG_ENOMEM : SG_EILSEQ;
      req->n_query++;
    }
    q += len + (q[len] == '&');
  }
  return 0;
}

/* Splits req->uri into path and query_raw (RFC 9112 section 3.2:
 * origin-form, or absolute-form, whose scheme and authority are skipped);
 * the query is decoded once the route is known (on_headers). Returns 0,
 * SG_EILSEQ for a target that is not well-formed, SG_ENOMEM. */
static int parse_target(sg_http_req_t *req) {
  const char *u = req->uri;
  if (strncasecmp(u, "http://", 7) == 0 || strncasecmp(u, "https://", 8) == 0) {
    u = strstr(u, "//") + 2;
    u += strcspn(u, "/?");
    if (*u != '/')
      return SG_EILSEQ;
  }
  if (*u != '/')
    return SG_EILSEQ;
  size_t plen = strcspn(u, "?");
  req->path = arena_strndup(&req->arena, u, plen);
  if (req->path == NULL)
    return SG_ENOMEM;
  req->query_raw = u[plen] == '?' ? u + plen + 1 : "";
  for (const char *p = req->path; (p = strchr(p, '%')) != NULL; p++)
    if (hexval(p[1]) < 0 || hexval(p[2]) < 0)
      return SG_EILSEQ;
  return 0;
}

/* ---- routes ---------------------------------------------------------- */

static size_t count_segments(const char *path) {
  size_t n = 0;
  for (; *path; path++)
    n += *path == '/';
  return n;
}

/* Splits path (starting with '/') into n %-decoded segments. Returns 0,
 * SG_EILSEQ, SG_ENOMEM. */
static int split_path(sg_http_req_t *req, char **segs, size_t n) {
  const char *p = req->path + 1;
  bool oom = false;
  if (n == 1 && *p == '\0') { /* "/" has no segment */
    segs[0] = NULL;
    return 0;
  }
  for (size_t i = 0; i < n; i++) {
    size_t len = strcspn(p, "/");
    segs[i] = pct_decode(&req->arena, p, len, false, &oom);
    if (segs[i] == NULL)
      return oom ? SG_ENOMEM : SG_EILSEQ;
    p += len + 1;
  }
  return 0;
}

static bool route_matches(const route_t *r, char **segs, size_t n) {
  if (r->n_segs != n)
    return false;
  for (size_t i = 0; i < n; i++)
    if (!r->segs[i].param ? strcmp(r->segs[i].text, segs[i]) != 0
                          : segs[i][0] == '\0')
      return false;
  return true;
}

static bool method_matches(const route_t *r, const char *method) {
  return strcmp(r->method, method) == 0 ||
         (strcmp(method, "HEAD") == 0 && strcmp(r->method, "GET") == 0);
}

static int bind_params(sg_http_req_t *req, const route_t *r, char **segs) {
  size_t n = 0;
  for (size_t i = 0; i < r->n_segs; i++)
    n += r->segs[i].param;
  req->params = arena_alloc(&req->arena, (n ? n : 1) * sizeof(kv_t));
  if (req->params == NULL)
    return SG_ENOMEM;
  for (size_t i = 0; i < r->n_segs; i++) {
    if (!r->segs[i].param)
      continue;
    kv_t *kv = &req->params[req->n_params++];
    kv->name =
        arena_strndup(&req->arena, r->segs[i].text, strlen(r->segs[i].text));
    kv->value = segs[i];
    if (kv->name == NULL)
      return SG_ENOMEM;
  }
  return 0;
}

static void reject(sg_http_req_t *req, unsigned status, const char *code,
                   const char *msg) {
  req->reject_status = status;
  req->reject_code = code;
  req->reject_msg = msg;
}

/* Finds the route of req (exact method first, then GET for HEAD) or sets
 * the 404/405 rejection. Returns 0, SG_EILSEQ, SG_ENOMEM. */
static int route_request(sg_http_server_t *srv, sg_http_req_t *req) {
  size_t n = count_segments(req->path);
  char **segs = arena_alloc(&req->arena, n * sizeof(char *));
  if (segs == NULL)
    return SG_ENOMEM;
  int rc = split_path(req, segs, n);
  if (rc < 0)
    return rc;
  if (n == 1 && segs[0] == NULL)
    n = 0;
  bool path_known = false;
  const route_t *head_fallback = NULL;
  for (size_t i = 0; i < srv->n_routes; i++) {
    const route_t *r = &srv->routes[i];
    if (!route_matches(r, segs, n))
      continue;
    path_known = true;
    if (strcmp(r->method, req->method) == 0) {
      req->route = r;
      break;
    }
    if (head_fallback == NULL && method_matches(r, req->method))
      head_fallback = r;
  }
  if (req->route == NULL)
    req->route = head_fallback;
  if (req->route != NULL)
    return bind_params(req, req->route, segs);
  if (path_known)
    reject(req, 405, "method_not_allowed",
           "this resource does not support the method");
  else
    reject(req, 404, "not_found", "no such resource");
  return 0;
}

/* True when a route before routes[i] has the same method and matches. */
static bool listed_before(const sg_http_server_t *srv, size_t i, char **segs,
                          size_t n) {
  for (size_t j = 0; j < i; j++)
    if (strcmp(srv->routes[j].method, srv->routes[i].method) == 0 &&
        route_matches(&srv->routes[j], segs, n))
      return true;
  return false;
}

/* Writes the methods of the routes matching req's path, ", "-separated,
 * into buf ("GET" implies "HEAD"). */
static void allowed_methods(const sg_http_server_t *srv, sg_http_req_t *req,
                            char *buf, size_t size) {
  size_t n = count_segments(req->path), used = 0;
  char **segs = arena_alloc(&req->arena, n * sizeof(char *));
  buf[0] = '\0';
  if (segs == NULL || split_path(req, segs, n) < 0)
    return;
  if (n == 1 && segs[0] == NULL)
    n = 0;
  for (size_t i = 0; i < srv->n_routes; i++) {
    const route_t *r = &srv->routes[i];
    if (!route_matches(r, segs, n) || listed_before(srv, i, segs, n))
      continue;
    int w = snprintf(buf + used, size - used, "%s%s%s", used ? ", " : "",
                     r->method, strcmp(r->method, "GET") == 0 ? ", HEAD" : "");
    if (w < 0 || (size_t)w >= size - used)
      break;
    used += (size_t)w;
  }
}

/* ---- request lifetime ------------------------------------------------ */

/* Whether a done request object may be kept (never in sanitizer builds,
 * where SPARE_MAX is 0). */
static bool spare_room(const sg_http_server_t *srv) {
#if SPARE_MAX > 0
  return srv->n_spare < SPARE_MAX;
#else
  (void)srv;
  return false;
#endif
}

static void req_unref(sg_http_req_t *req) {
  if (--req->refs > 0)
    return;
  arena_free(&req->arena);
  sg_http_server_t *srv = req->srv;
  if (srv != NULL && !srv->closing && spare_room(srv)) {
    if (req->body != NULL && req->keep == NULL &&
        req->body_cap <= KEEP_BODY_MAX) {
      req->keep = req->body;
      req->keep_cap = req->body_cap;
    } else {
      sg_free(req->body);
    }
    req->next = srv->spare;
    srv->spare = req;
    srv->n_spare++;
    return;
  }
  sg_free(req->body);
  sg_free(req->keep);
  sg_free(req);
}

static void spare_free(sg_http_server_t *srv) {
  while (srv->spare != NULL) {
    sg_http_req_t *req = srv->spare;
    srv->spare = req->next;
    sg_free(req->keep);
    sg_free(req);
  }
  srv->n_spare = 0;
}

static void waiting_link(sg_http_server_t *srv, sg_http_req_t *req) {
  req->prev = NULL;
  req->next = srv->waiting;
  if (srv->waiting != NULL)
    srv->waiting->prev = req;
  srv->waiting = req;
  req->linked = true;
  srv->stats.waiting++;
}

static void waiting_unlink(sg_http_req_t *req) {
  sg_http_server_t *srv = req->srv;
  if (!req->linked || srv == NULL)
    return;
  if (req->prev != NULL)
    req->prev->next = req->next;
  else
    srv->waiting = req->next;
  if (req->next != NULL)
    req->next->prev = req->prev;
  req->linked = false;
  srv->stats.waiting--;
}

static void timer_cb(uv_timer_t *t);

/* Runs libmicrohttpd on the next loop iteration, once for every connection
 * resumed until then: a resumed connection does not wake its epoll fd. */
/* Runs libmicrohttpd on the next loop turn. The timer is armed once for
 * all the answers of a turn (a group commit answers tens at once): until
 * drive runs and clears `kicked`, it is still due at 0 ms. */
static void kick(sg_http_server_t *srv) {
  if (srv != NULL && !srv->closing && !srv->kicked) {
    srv->kicked_at = uv_hrtime() / 1000u;
    srv->kicked = true;
    uv_timer_start(&srv->timer, timer_cb, 0, 0);
  }
}

static void watch_close_cb(uv_handle_t *h) {
  req_unref(h->data);
}

static void watch_stop(sg_http_req_t *req) {
  if (!req->watching)
    return;
  req->watching = false;
  uv_close((uv_handle_t *)&req->watch, watch_close_cb);
}

/* The client of a request waiting for its answer is gone (or the server is
 * being freed): resume the connection so that libmicrohttpd closes it, and
 * tell the handler. */
static void req_cancel_body(sg_http_req_t *req);

static void req_cancel(sg_http_req_t *req) {
  if (req->out_paused) { /* a streamed answer waiting for data */
    req->out_paused = false;
    waiting_unlink(req);
    if (req->conn != NULL) {
      MHD_resume_connection(req->conn);
      kick(req->srv);
    }
    return;
  }
  if (req->state == REQ_BODY && req->streaming) {
    req_cancel_body(req);
    return;
  }
  if (req->state != REQ_WAITING && req->state != REQ_HANDLER)
    return;
  bool suspended = req->state == REQ_WAITING;
  req->state = REQ_CANCELLED;
  watch_stop(req);
  waiting_unlink(req);
  if (req->srv != NULL)
    req->srv->stats.cancelled++;
  if (suspended && req->conn != NULL) {
    MHD_resume_connection(req->conn);
    kick(req->srv);
  }
  sg_http_cancel_cb cb = req->cancel_cb;
  req->cancel_cb = NULL;
  if (cb != NULL)
    cb(req, req->cancel_data);
}

static void watch_cb(uv_poll_t *h, int status, int events) {
  req_cancel(h->data);
}

/* Watches the socket of a suspended request for the peer's FIN or RST
 * (libmicrohttpd does not poll suspended connections). EPOLLRDHUP also
 * fires for a client that only shut down its sending side after the
 * request; such a client is treated as gone. */
static void watch_start(sg_http_server_t *srv, sg_http_req_t *req) {
  const union MHD_ConnectionInfo *ci =
      MHD_get_connection_info(req->conn, MHD_CONNECTION_INFO_CONNECTION_FD);
  if (ci == NULL || uv_poll_init(srv->loop, &req->watch, ci->connect_fd) != 0)
    return;
  req->watch.data = req;
  req->refs++;
  req->watching = true;
  if (uv_poll_start(&req->watch, UV_DISCONNECT, watch_cb) != 0)
    watch_stop(req);
}

static void sweep_cb(uv_timer_t *t) {
  sg_http_server_t *srv = t->data;
  uint64_t now = uv_now(srv->loop);
  if (srv->waiting == NULL) {
    uv_timer_stop(t);
    return;
  }
  for (sg_http_req_t *req = srv->waiting; req != NULL; req = req->next)
    if (req->state == REQ_WAITING && !req->watching &&
        now - req->suspended_at >= WATCH_AFTER_MS)
      watch_start(srv, req);
}

/* ---- responses ------------------------------------------------------- */

static int add_headers(struct MHD_Response *r, const char *content_type,
                       const char *const *headers) {
  if (content_type != NULL &&
      MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, content_type) !=
          MHD_YES)
    return SG_EINVAL;
  for (size_t i = 0; headers != NULL && headers[i] != NULL; i += 2) {
    if (headers[i + 1] == NULL ||
        MHD_add_response_header(r, headers[i], headers[i + 1]) != MHD_YES)
      return SG_EINVAL;
  }
  return 0;
}

/* Builds a response, or a bare 500 (with *status and *err set) when the
 * arguments are refused or memory is short. May return NULL only when even
 * the 500 cannot be made. */
static struct MHD_Response *
build_response(unsigned *status, const char *content_type, const void *body,
               size_t len, const char *const *headers, int *err) {
  *err = 0;
  if (*status < 200 || *status > 599 || (body == NULL && len > 0))
    *err = SG_EINVAL;
  struct MHD_Response *r = NULL;
  if (*err == 0) {
    r = MHD_create_response_from_buffer(len, (void *)body,
                                        MHD_RESPMEM_MUST_COPY);
    if (r == NULL)
      *err = SG_ENOMEM;
    else if ((*err = add_headers(r, content_type, headers)) < 0) {
      MHD_destroy_response(r);
      r = NULL;
    }
  }
  if (r == NULL) {
    *status = 500;
    r = MHD_create_response_from_buffer(0, NULL, MHD_RESPMEM_PERSISTENT);
  }
  return r;
}

/* Queues r (or closes the connection when there is none) and drops it. */
static enum MHD_Result queue(struct MHD_Connection *conn, unsigned status,
                             struct MHD_Response *r) {
  if (r == NULL)
    return MHD_NO;
  enum MHD_Result ok = MHD_queue_response(conn, status, r);
  MHD_destroy_response(r);
  return ok;
}

/* Serialises the error object into a new string (sg_free it), or NULL
 * when a text is not UTF-8 or memory is short. */
static char *error_json(const char *code, const char *message,
                        const char *field) {
  json_t *o = json_pack("{s:{s:s, s:s, s:s?}}", "error", "code", code,
                        "message", message, "field", field);
  if (o == NULL)
    return NULL;
  size_t n = json_dumpb(o, NULL, 0, JSON_COMPACT);
  char *s = n > 0 ? sg_malloc(n + 1) : NULL;
  if (s != NULL) {
    json_dumpb(o, s, n, JSON_COMPACT);
    s[n] = '\0';
  }
  json_decref(o);
  return s;
}

static enum MHD_Result queue_reject(sg_http_server_t *srv, sg_http_req_t *req,
                                    struct MHD_Connection *conn) {
  char allow[256] = "";
  const char *hdrs[] = {"Allow", allow, NULL};
  unsigned status = req->reject_status;
  int err;
  if (status == 405)
    allowed_methods(srv, req, allow, sizeof allow);
  char *json = error_json(req->reject_code, req->reject_msg, NULL);
  struct MHD_Response *r =
      build_response(&status, "application/json", json, json ? strlen(json) : 0,
                     status == 405 ? hdrs : NULL, &err);
  sg_free(json);
  srv->stats.rejected++;
  req->state = REQ_ANSWERED;
  return queue(conn, status, r);
}

/* ---- libmicrohttpd callbacks ------------------------------------------ */

/* libmicrohttpd percent-decodes the path and every query argument of a
 * request for its own accessors and access_cb's url, none of which the
 * server reads (uri_cb keeps the raw target, parse_target and parse_query
 * decode it): left as they are, which saves 2.1 k instructions a request
 * (MHD_http_unescape's 2.5 k, less this callback). */
static size_t no_unescape_cb(void *cls, struct MHD_Connection *conn, char *s) {
  (void)cls;
  (void)conn;
  return strlen(s);
}

/* Called with the raw request target before libmicrohttpd splits and
 * decodes it; the request object made here is the connection's con_cls. */
static void *uri_cb(void *cls, const char *uri, struct MHD_Connection *conn) {
  sg_http_server_t *srv = cls;
  sg_http_req_t *req = srv->spare;
  if (req != NULL) {
    srv->spare = req->next;
    srv->n_spare--;
  } else if ((req = sg_malloc(sizeof *req)) != NULL) {
    req->keep = NULL;
    req->keep_cap = 0;
  } else {
    return NULL;
  }
  memset(req, 0, offsetof(sg_http_req_t, inline_arena));
  req->srv = srv;
  srv->live++;
  req->t_start = uv_hrtime() / 1000u;
  req->refs = 1; /* libmicrohttpd's, until completed_cb */
  req->arena.cur = req->inline_arena.mem;
  req->arena.left = sizeof req->inline_arena.mem;
  req->uri = arena_strndup(&req->arena, uri, strlen(uri));
  if (req->uri == NULL) {
    req_unref(req);
    return NULL;
  }
  return req;
}

const uint32_t sg_http_lat_bounds_us[SG_HTTP_LAT_BUCKETS] = {
    100,  200,  300,  500,  750,   1000,  1500,  2000,  2500,  3000,  4000,
    5000, 6000, 7000, 8000, 10000, 12500, 15000, 20000, 30000, 50000, 100000};

static unsigned lat_bucket(uint64_t us) {
  unsigned i = 0;
  while (i < SG_HTTP_LAT_BUCKETS && us > sg_http_lat_bounds_us[i])
    i++;
  return i;
}

/* A suspended request's answer is sent (now, µs): its two stages. */
static void note_answer(sg_http_server_stats_t *s, const sg_http_req_t *req,
                        uint64_t now) {
  uint64_t h = req->t_respond - req->t_start, a = now - req->t_respond;
  s->handler_hist[lat_bucket(h)]++;
  s->answer_hist[lat_bucket(a)]++;
  s->handler_us += h;
  s->answer_us += a;
}

static void completed_cb(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe) {
  sg_http_req_t *req = *con_cls;
  if (req != NULL && req->srv != NULL)
    sg__http_deadline_done(req->srv->deadline, conn);
  if (req == NULL)
    return;
  *con_cls = NULL;
  req->conn = NULL;
  if (req->srv != NULL && req->t_respond != 0 &&
      toe == MHD_REQUEST_TERMINATED_COMPLETED_OK)
    note_answer(&req->srv->stats, req, uv_hrtime() / 1000u);
  if (req->srv != NULL && req->srv->live > 0)
    req->srv->live--;
  req_cancel(req); /* only if the handler has not answered */
  watch_stop(req);
  req_unref(req);
}

static void connection_cb(void *cls, struct MHD_Connection *conn,
                          void **socket_context,
                          enum MHD_ConnectionNotificationCode toe) {
  sg_http_server_t *srv = cls;
  sg__http_deadline_conn(srv->deadline, conn, socket_context,
                         toe == MHD_CONNECTION_NOTIFY_STARTED);
  if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
    srv->stats.connections_accepted++;
    srv->stats.connections_open++;
  } else if (srv->stats.connections_open > 0) {
    srv->stats.connections_open--;
  }
}

static bool has_body(struct MHD_Connection *conn) {
  const char *cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
                                               MHD_HTTP_HEADER_CONTENT_LENGTH);
  return (cl != NULL && strspn(cl, "0") != strlen(cl)) ||
         MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
                                     MHD_HTTP_HEADER_TRANSFER_ENCODING);
}

/* Sizes the body buffer from Content-Length, or sets the 413 rejection. */
static int check_length(sg_http_server_t *srv, sg_http_req_t *req,
                        struct MHD_Connection *conn) {
  const char *cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
                                               MHD_HTTP_HEADER_CONTENT_LENGTH);
  if (cl == NULL)
    return 0;
  errno = 0;
  char *end;
  unsigned long long n = strtoull(cl, &end, 10);
  if (errno != 0 || n > srv->max_body) {
    reject(req, 413, "body_too_large", "the request body is too large");
    return 0;
  }
  if (n == 0)
    return 0;
  /* A client that announces a large body and sends nothing must not make
   * every connection hold max_body bytes. */
  size_t cap = n < BODY_PREALLOC_MAX ? (size_t)n + 1 : BODY_PREALLOC_MAX;
  cap = (cap + 255u) & ~(size_t)255u; /* a kept buffer fits bodies near it */
  if (req->keep != NULL && req->keep_cap >= cap) {
    req->body = req->keep;
    req->body_cap = req->keep_cap;
    req->keep = NULL;
    return 0;
  }
  req->body = sg_malloc(cap);
  req->body_cap = req->body ? cap : 0;
  return req->body ? 0 : SG_ENOMEM;
}

/* First call: route the request and check its declared length. Rejections
 * of a request with a body are sent at once (libmicrohttpd then discards
 * the body and closes); without a body they wait for the end of the
 * request so that the connection stays open. */
static enum MHD_Result on_headers(sg_http_server_t *srv, sg_http_req_t *req,
                                  struct MHD_Connection *conn,
                                  const char *method) {
  req->conn = conn;
  req->method = arena_strndup(&req->arena, method, strlen(method));
  if (req->method == NULL)
    return MHD_NO;
  int rc = parse_target(req);
  if (srv->draining) /* a kept-alive connection after the listener closed */
    reject(req, 503, "stopping",
           "the server is stopping; send the request again shortly");
  else if (rc == SG_EILSEQ)
    reject(req, 400, "bad_request", "the request target is not well-formed");
  else if (rc == 0 && (rc = route_request(srv, req)) == 0 &&
           (req->route == NULL || !req->route->raw_query))
    rc = parse_query(req, req->query_raw); /* a raw route's handler does */
  if (rc == 0 && req->query_nul && req->route != NULL &&
      !req->route->raw_query)
    rc = SG_EILSEQ; /* an escaped NUL, for a route that cannot take it */
  if (rc == SG_EILSEQ)
    reject(req, 400, "bad_request", "the request path is not well-formed");
  else if (rc < 0)
    return MHD_NO;
  if (rc == 0 && req->reject_status == 0 && req->route->chunk != NULL)
    req->streaming = true; /* no max_body: the body is not kept */
  if (req->reject_status == 0 && !req->streaming &&
      check_length(srv, req, conn) < 0)
    return MHD_NO;
  if (req->reject_status == 0) {
    req->state = REQ_BODY;
    return MHD_YES;
  }
  req->state = REQ_REJECT;
  return has_body(conn) ? queue_reject(srv, req, conn) : MHD_YES;
}

/* A body that grows past max_body although no Content-Length said so (a
 * chunked upload). libmicrohttpd cannot queue a response while it hands
 * over upload data, so the rest of the body is read and dropped and the
 * 413 goes out once the request is complete; a body that goes on past twice
 * max_body is not worth reading and the connection is closed instead. */
static enum MHD_Result body_overflow(sg_http_server_t *srv, sg_http_req_t *req,
                                     size_t n) {
  if (req->state == REQ_BODY) {
    reject(req, 413, "body_too_large", "the request body is too large");
    req->state = REQ_REJECT;
    sg_free(req->body);
    req->body = NULL;
    req->body_cap = 0;
  }
  if (n > 2 * srv->max_body - req->body_len)
    return MHD_NO;
  req->body_len += n;
  return MHD_YES;
}

static enum MHD_Result on_stream(sg_http_server_t *srv, sg_http_req_t *req,
                                 const char *data, size_t *size);

static enum MHD_Result on_body(sg_http_server_t *srv, sg_http_req_t *req,
                               const char *data, size_t *size) {
  if (req->streaming && req->state == REQ_BODY)
    return on_stream(srv, req, data, size);
  size_t n = *size;
  *size = 0;
  if (req->state != REQ_BODY || n > srv->max_body - req->body_len)
    return body_overflow(srv, req, n);
  if (req->body_len + n + 1 > req->body_cap) {
    size_t cap = req->body_cap ? req->body_cap * 2 : 4096;
    while (cap < req->body_len + n + 1)
      cap *= 2;
    if (cap > srv->max_body + 1)
      cap = srv->max_body + 1;
    uint8_t *b = sg_realloc(req->body, cap);
    if (b == NULL)
      return MHD_NO;
    req->body = b;
    req->body_cap = cap;
  }
  memcpy(req->body + req->body_len, data, n);
  req->body_len += n;
  return MHD_YES;
}

typedef struct header_copy {
  sg_http_req_t *req;
  bool oom;
} header_copy_t;

static enum MHD_Result copy_header(void *cls, enum MHD_ValueKind kind,
                                   const char *key, const char *value) {
  header_copy_t *hc = cls;
  sg_http_req_t *req = hc->req;
  kv_t *kv = &req->headers[req->n_headers];
  kv->name = arena_strndup(&req->arena, key, strlen(key));
  kv->value =
      arena_strndup(&req->arena, value ? value : "", value ? strlen(value) : 0);
  if (kv->name == NULL || kv->value == NULL) {
    hc->oom = true;
    return MHD_NO;
  }
  req->n_headers++;
  return MHD_YES;
}

/* Copies what the handler may read after the connection is gone. */
static int snapshot(sg_http_req_t *req, struct MHD_Connection *conn) {
  int n = MHD_get_connection_values(conn, MHD_HEADER_KIND, NULL, NULL);
  header_copy_t hc = {req, false};
  req->headers =
      arena_alloc(&req->arena, (n > 0 ? (size_t)n : 1) * sizeof(kv_t));
  if (req->headers == NULL)
    return SG_ENOMEM;
  MHD_get_connection_values(conn, MHD_HEADER_KIND, copy_header, &hc);
  if (hc.oom)
    return SG_ENOMEM;
  const union MHD_ConnectionInfo *ci =
      MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
  if (ci != NULL && ci->client_addr != NULL) {
    size_t len = ci->client_addr->sa_family == AF_INET6
                     ? sizeof(struct sockaddr_in6)
                     : sizeof(struct sockaddr_in);
    memcpy(&req->peer, ci->client_addr, len);
  }
  return 0;
}

/* The whole request is in: hand it to its handler, then queue its answer
 * or suspend the connection until it comes. */
static enum MHD_Result dispatch(sg_http_server_t *srv, sg_http_req_t *req,
                                struct MHD_Connection *conn) {
  if (!req->snapped && snapshot(req, conn) < 0)
    return MHD_NO;
  if (req->body != NULL)
    req->body[req->body_len] = '\0';
  req->state = REQ_HANDLER;
  req->refs++; /* the handler's, until sg_http_respond */
  waiting_link(srv, req);
  srv->stats.requests++;
  req->route->cb(req, req->route->data);
  if (req->state == REQ_CANCELLED)
    return MHD_NO;
  if (req->response != NULL) {
    req->state = REQ_ANSWERED;
    struct MHD_Response *r = req->response;
    req->response = NULL;
    return queue(conn, req->status, r);
  }
  req->state = REQ_WAITING;
  MHD_suspend_connection(conn);
  req->suspended_at = uv_now(srv->loop);
  if (!uv_is_active((uv_handle_t *)&srv->sweep))
    uv_timer_start(&srv->sweep, sweep_cb, WATCH_AFTER_MS, WATCH_AFTER_MS / 2);
  return MHD_YES;
}

/* ---- streaming bodies ------------------------------------------------ */

/* A chunk of a streaming route's body: handed over as it is, never kept.
 * A chunk callback that answers SG_EBUSY suspends the connection (it stays
 * on srv->waiting, so that freeing the server cancels it) until
 * sg_http_req_resume_body. */
static enum MHD_Result on_stream(sg_http_server_t *srv, sg_http_req_t *req,
                                 const char *data, size_t *size) {
  size_t n = *size;
  *size = 0;
  if (!req->snapped) {
    if (snapshot(req, req->conn) < 0)
      return MHD_NO;
    req->snapped = true;
  }
  if (req->body_dropped)
    return MHD_YES;
  int rc = req->route->chunk(req, (const uint8_t *)data, n, req->route->data);
  if (rc == SG_EBUSY && req->state == REQ_BODY) {
    req->paused = true;
    waiting_link(srv, req);
    MHD_suspend_connection(req->conn);
  } else if (rc < 0) {
    req->body_dropped = true;
  }
  return req->state == REQ_BODY ? MHD_YES : MHD_NO;
}

/* The client of a streaming request left during its body (or the server
 * is being freed): the handler is never called; its cancel callback is. */
static void req_cancel_body(sg_http_req_t *req) {
  req->state = REQ_CANCELLED;
  if (req->paused) {
    req->paused = false;
    waiting_unlink(req);
    if (req->conn != NULL) {
      MHD_resume_connection(req->conn);
      kick(req->srv);
    }
  }
  if (req->srv != NULL)
    req->srv->stats.cancelled++;
  sg_http_cancel_cb cb = req->cancel_cb;
  req->cancel_cb = NULL;
  if (cb != NULL)
    cb(req, req->cancel_data);
}

void sg_http_req_resume_body(sg_http_req_t *req) {
  if (!req->paused)
    return;
  req->paused = false;
  waiting_unlink(req);
  if (req->conn != NULL && req->srv != NULL) {
    MHD_resume_connection(req->conn);
    kick(req->srv);
  }
}

void sg_http_req_set_user(sg_http_req_t *req, void *user) {
  req->user = user;
}

void *sg_http_req_user(const sg_http_req_t *req) {
  return req->user;
}

/* ---- streamed responses ------------------------------------------------ */

static ssize_t stream_read(void *cls, uint64_t pos, char *buf, size_t max) {
  sg_http_req_t *req = cls;
  (void)pos;
  if (req->srv == NULL || req->srv->closing || req->conn == NULL)
    return MHD_CONTENT_READER_END_WITH_ERROR;
  ssize_t n = req->pull(req->pull_data, (uint8_t *)buf, max);
  if (n > 0)
    return n;
  if (n == SG_ECLOSED)
    return MHD_CONTENT_READER_END_OF_STREAM;
  if (n < 0)
    return MHD_CONTENT_READER_END_WITH_ERROR;
  /* Nothing yet: libmicrohttpd allows a suspend from a content reader. */
  req->out_paused = true;
  waiting_link(req->srv, req);
  MHD_suspend_connection(req->conn);
  return 0;
}

static void stream_free(void *cls) {
  sg_http_req_t *req = cls;
  void (*done)(void *) = req->pull_done;
  req->pull_done = NULL;
  if (done != NULL)
    done(req->pull_data);
  req_unref(req);
}

int sg_http_respond_stream(sg_http_req_t *req, unsigned status,
                           const char *content_type, const char *const *headers,
                           sg_http_pull_cb pull, void (*done)(void *data),
                           void *data) {
  if (req == NULL || req->responded || pull == NULL || done == NULL)
    return SG_EINVAL;
  struct MHD_Response *r = MHD_create_response_from_callback(
      MHD_SIZE_UNKNOWN, 32 * 1024, stream_read, req, stream_free);
  if (r == NULL)
    return SG_ENOMEM;
  req->refs++; /* the response's, until stream_free */
  if (add_headers(r, content_type, headers) != 0) {
    MHD_destroy_response(r); /* stream_free: only the reference */
    return SG_EINVAL;
  }
  req->pull = pull;
  req->pull_done = done;
  req->pull_data = data;
  req->responded = true;
  waiting_unlink(req);
  if (req->state == REQ_CANCELLED || req->conn == NULL || req->srv == NULL) {
    MHD_destroy_response(r); /* runs done */
    req_unref(req);
    return SG_ECLOSED;
  }
  if (req->state == REQ_HANDLER) {
    req->response = r;
    req->status = status;
  } else {
    watch_stop(req);
    req->state = REQ_ANSWERED;
    queue(req->conn, status, r);
    MHD_resume_connection(req->conn);
    kick(req->srv);
  }
  req_unref(req);
  return 0;
}

void sg_http_stream_resume(sg_http_req_t *req) {
  if (!req->out_paused)
    return;
  req->out_paused = false;
  waiting_unlink(req);
  if (req->conn != NULL && req->srv != NULL) {
    MHD_resume_connection(req->conn);
    kick(req->srv);
  }
}

int sg_http_server_route_stream(sg_http_server_t *srv, const char *method,
                                const char *pattern, sg_http_chunk_cb chunk,
                                sg_http_handler_cb cb, void *data) {
  if (chunk == NULL)
    return SG_EINVAL;
  int rc = sg_http_server_route(srv, method, pattern, cb, data);
  if (rc == 0)
    srv->routes[srv->n_routes - 1].chunk = chunk;
  return rc;
}

static enum MHD_Result access_cb(void *cls, struct MHD_Connection *conn,
                                 const char *url, const char *method,
                                 const char *version, const char *upload_data,
                                 size_t *upload_data_size, void **con_cls) {
  sg_http_server_t *srv = cls;
  sg_http_req_t *req = *con_cls;
  if (req == NULL)
    return MHD_NO; /* uri_cb ran out of memory */
  switch (req->state) {
  case REQ_HEADERS:
    return on_headers(srv, req, conn, method);
  case REQ_BODY:
  case REQ_REJECT:
    if (*upload_data_size > 0)
      return on_body(srv, req, upload_data, upload_data_size);
    return req->state == REQ_BODY ? dispatch(srv, req, conn)
                                  : queue_reject(srv, req, conn);
  default:
    return MHD_NO; /* resumed after a cancellation: close */
  }
}

static void log_cb(void *cls, const char *fmt, va_list ap) {
  sg_http_server_t *srv = cls;
  char buf[512];
  if (srv->log_cb == NULL)
    return;
  vsnprintf(buf, sizeof buf, fmt, ap);
  buf[strcspn(buf, "\r\n")] = '\0';
  srv->log_cb(srv->log_data, buf);
}

/* ---- driving libmicrohttpd from the loop ------------------------------ */

static void drive(sg_http_server_t *srv) {
  MHD_UNSIGNED_LONG_LONG ms;
  if (srv->kicked) {
    uint64_t w = uv_hrtime() / 1000u - srv->kicked_at;
    srv->stats.resume_hist[lat_bucket(w)]++;
    srv->stats.resume_us += w;
  }
  srv->kicked = false;
  MHD_run(srv->mhd);
  if (srv->kicked) /* a connection resumed during the run: kick's timer */
    uv_timer_start(&srv->timer, timer_cb, 0, 0);
  else if (MHD_get_timeout(srv->mhd, &ms) == MHD_YES)
    uv_timer_start(&srv->timer, timer_cb, ms > 86400000 ? 86400000 : ms, 0);
  else
    uv_timer_stop(&srv->timer);
}

static void timer_cb(uv_timer_t *t) {
  drive(t->data);
}

static void epoll_cb(uv_poll_t *p, int status, int events) {
  drive(p->data);
}

/* http_deadline.h shut connections down: run libmicrohttpd on the next
 * loop turn, so that it closes them and accepts again. */
static void deadline_kick(void *data) {
  sg_http_server_t *srv = data;
  if (!srv->closing)
    uv_timer_start(&srv->timer, timer_cb, 0, 0);
}

/* ---- server lifetime --------------------------------------------------- */

static int resolve(const char *host, uint16_t port,
                   struct sockaddr_storage *ss) {
  struct addrinfo hints = {0}, *res = NULL;
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE;
  if (getaddrinfo(host, NULL, &hints, &res) != 0 || res == NULL)
    return SG_EINVAL;
  memcpy(ss, res->ai_addr, res->ai_addrlen);
  freeaddrinfo(res);
  if (ss->ss_family == AF_INET6)
    ((struct sockaddr_in6 *)ss)->sin6_port = htons(port);
  else
    ((struct sockaddr_in *)ss)->sin_port = htons(port);
  return 0;
}

static int start_mhd(sg_http_server_t *srv, const sg_http_server_cfg_t *cfg,
                     const struct sockaddr_storage *ss) {
  unsigned flags = MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME;
  size_t header =
      cfg->max_header_size ? cfg->max_header_size : DEFAULT_MAX_HEADER;
  if (ss->ss_family == AF_INET6)
    flags |= MHD_USE_IPv6;
  if (cfg->log_cb != NULL)
    flags |= MHD_USE_ERROR_LOG;
  /* Without the option libmicrohttpd sets SO_REUSEADDR, which a restart
   * needs; with it, SO_REUSEPORT instead. */
  struct MHD_OptionItem extra[] = {
      {cfg->reuse_port ? MHD_OPTION_LISTENING_ADDRESS_REUSE : MHD_OPTION_END, 1,
       NULL},
      {MHD_OPTION_END, 0, NULL}};
  srv->mhd = MHD_start_daemon(
      flags, 0, NULL, NULL, access_cb, srv, MHD_OPTION_EXTERNAL_LOGGER, log_cb,
      srv, MHD_OPTION_SOCK_ADDR, (const struct sockaddr *)ss,
      MHD_OPTION_CONNECTION_LIMIT,
      (unsigned)(cfg->max_connections ? cfg->max_connections
                                      : DEFAULT_MAX_CONNECTIONS),
      MHD_OPTION_CONNECTION_TIMEOUT,
      (unsigned)(cfg->idle_timeout_s ? cfg->idle_timeout_s
                                     : DEFAULT_IDLE_TIMEOUT_S),
      /* The pool holds the request line and headers, their index and the
       * response headers; libmicrohttpd zeroes all of it for each request
       * (MHD_pool_reset), so it is the header limit and POOL_SLACK, not
       * twice the limit ("The connection pool" in docs/architecture.md). */
      MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)(header + POOL_SLACK),
      /* RFC 9112: 400 for HTTP/1.1 without Host, no spaces in the target. */
      MHD_OPTION_STRICT_FOR_CLIENT, (int)1, MHD_OPTION_ARRAY, extra,
      MHD_OPTION_URI_LOG_CALLBACK, uri_cb, srv, MHD_OPTION_UNESCAPE_CALLBACK,
      no_unescape_cb, NULL, MHD_OPTION_NOTIFY_COMPLETED, completed_cb, srv,
      MHD_OPTION_NOTIFY_CONNECTION, connection_cb, srv, MHD_OPTION_END);
  if (srv->mhd == NULL)
    return SG_EIO;
  const union MHD_DaemonInfo *port =
      MHD_get_daemon_info(srv->mhd, MHD_DAEMON_INFO_BIND_PORT);
  const union MHD_DaemonInfo *efd =
      MHD_get_daemon_info(srv->mhd, MHD_DAEMON_INFO_EPOLL_FD);
  if (port == NULL || efd == NULL)
    return SG_EIO;
  srv->port = port->port;
  if (uv_poll_init(srv->loop, &srv->epoll_watch, efd->epoll_fd) != 0)
    return SG_EIO;
  srv->open_handles++;
  srv->polling = true;
  srv->epoll_watch.data = srv;
  return uv_poll_start(&srv->epoll_watch, UV_READABLE, epoll_cb) ? SG_EIO : 0;
}

int sg_http_server_new(uv_loop_t *loop, const sg_http_server_cfg_t *cfg,
                       sg_http_server_t **out) {
  struct sockaddr_storage ss;
  if (loop == NULL || cfg == NULL || out == NULL)
    return SG_EINVAL;
  if (resolve(cfg->host ? cfg->host : "127.0.0.1", cfg->port, &ss) < 0)
    return SG_EINVAL;
  sg_http_server_t *srv = sg_calloc(1, sizeof *srv);
  if (srv == NULL)
    return SG_ENOMEM;
  srv->loop = loop;
  srv->max_body = cfg->max_body ? cfg->max_body : DEFAULT_MAX_BODY;
  srv->log_cb = cfg->log_cb;
  srv->log_data = cfg->log_data;
  uv_timer_init(loop, &srv->timer);
  uv_timer_init(loop, &srv->sweep);
  uv_timer_init(loop, &srv->drain);
  srv->timer.data = srv;
  srv->sweep.data = srv;
  srv->drain.data = srv;
  srv->open_handles = 3;
  srv->deadline = sg__http_deadline_new(
      loop,
      1000u * (cfg->idle_timeout_s ? cfg->idle_timeout_s
                                   : DEFAULT_IDLE_TIMEOUT_S),
      deadline_kick, srv);
  if (srv->deadline == NULL) {
    sg_http_server_free(srv);
    return SG_ENOMEM;
  }
  int rc = start_mhd(srv, cfg, &ss);
  if (rc < 0) {
    sg_http_server_free(srv);
    return rc;
  }
  drive(srv);
  *out = srv;
  return 0;
}

/* Splits a copy of `pattern` into segments. */
static int compile_pattern(route_t *r, const char *pattern) {
  size_t n = count_segments(pattern);
  r->buf = sg_strdup(pattern);
  r->segs = sg_calloc(n ? n : 1, sizeof(seg_t));
  if (r->buf == NULL || r->segs == NULL)
    return SG_ENOMEM;
  if (strcmp(pattern, "/") == 0)
    return 0;
  char *p = r->buf + 1;
  for (size_t i = 0; i < n; i++) {
    size_t len = strcspn(p, "/");
    bool last = p[len] == '\0';
    p[len] = '\0';
    if (len == 0 || strchr(p, '%') != NULL)
      return SG_EINVAL;
    if (p[0] == '{') {
      if (len < 3 || p[len - 1] != '}' || strpbrk(p + 1, "{") != NULL)
        return SG_EINVAL;
      p[len - 1] = '\0';
      r->segs[i] = (seg_t){p + 1, true};
    } else {
      if (strpbrk(p, "{}") != NULL)
        return SG_EINVAL;
      r->segs[i] = (seg_t){p, false};
    }
    r->n_segs++;
    if (last)
      break;
    p += len + 1;
  }
  return r->n_segs == n ? 0 : SG_EINVAL;
}

static void route_free(route_t *r) {
  sg_free(r->method);
  sg_free(r->buf);
  sg_free(r->segs);
}

int sg_http_server_route_raw(sg_http_server_t *srv, const char *method,
                             const char *pattern, sg_http_handler_cb cb,
                             void *data) {
  int rc = sg_http_server_route(srv, method, pattern, cb, data);
  if (rc == 0)
    srv->routes[srv->n_routes - 1].raw_query = true;
  return rc;
}

size_t sg_http_server_route_count(const sg_http_server_t *srv) {
  return srv != NULL ? srv->n_routes : 0;
}

int sg_http_server_route_info(const sg_http_server_t *srv, size_t i,
                              const char **method, char *pattern, size_t cap) {
  if (srv == NULL || i >= srv->n_routes)
    return SG_ENOENT;
  const route_t *r = &srv->routes[i];
  size_t len = 0;
  int n = 0;
  for (size_t j = 0; j < r->n_segs && n >= 0; j++) {
    const seg_t *sg = &r->segs[j];
    n = snprintf(len < cap ? pattern + len : NULL, len < cap ? cap - len : 0,
                 sg->param ? "/{%s}" : "/%s", sg->text);
    len += n > 0 ? (size_t)n : 0;
  }
  if (r->n_segs == 0)
    len = (size_t)snprintf(cap > 0 ? pattern : NULL, cap, "/");
  if (method != NULL)
    *method = r->method;
  return len < cap ? 0 : SG_ENOSPC;
}

const char *sg_http_req_query_raw(const sg_http_req_t *req) {
  return req->query_raw != NULL ? req->query_raw : "";
}

int sg_http_server_route(sg_http_server_t *srv, const char *method,
                         const char *pattern, sg_http_handler_cb cb,
                         void *data) {
  if (srv == NULL || method == NULL || method[0] == '\0' || pattern == NULL ||
      pattern[0] != '/' || cb == NULL)
    return SG_EINVAL;
  if (srv->n_routes == srv->cap_routes) {
    route_t *r =
        sg_grow(srv->routes, &srv->cap_routes, srv->n_routes + 1, 8, sizeof *r);
    if (r == NULL)
      return SG_ENOMEM;
    srv->routes = r;
  }
  route_t *r = &srv->routes[srv->n_routes];
  memset(r, 0, sizeof *r);
  r->method = sg_strdup(method);
  int rc = r->method ? compile_pattern(r, pattern) : SG_ENOMEM;
  if (rc < 0) {
    route_free(r);
    return rc;
  }
  r->cb = cb;
  r->data = data;
  srv->n_routes++;
  return 0;
}

uint16_t sg_http_server_port(const sg_http_server_t *srv) {
  return srv->port;
}

void sg_http_server_stats(const sg_http_server_t *srv,
                          sg_http_server_stats_t *out) {
  *out = srv->stats;
}

static void server_close_cb(uv_handle_t *h) {
  sg_http_server_t *srv = h->data;
  if (--srv->open_handles > 0)
    return;
  for (size_t i = 0; i < srv->n_routes; i++)
    route_free(&srv->routes[i]);
  sg_free(srv->routes);
  sg_free(srv);
}

static void drain_cb(uv_timer_t *t) {
  sg_http_server_t *srv = t->data;
  bool idle = srv->waiting == NULL && srv->live == 0;
  if (!idle && uv_now(srv->loop) < srv->drain_until)
    return;
  uv_timer_stop(t);
  sg_http_drained_cb cb = srv->drained_cb;
  srv->drained_cb = NULL;
  if (cb != NULL)
    cb(srv, idle, srv->drained_data);
}

int sg_http_server_drain(sg_http_server_t *srv, unsigned timeout_ms,
                         sg_http_drained_cb cb, void *data) {
  if (srv == NULL || cb == NULL)
    return SG_EINVAL;
  if (srv->closing || srv->draining)
    return SG_ESTATE;
  srv->draining = true;
  srv->drained_cb = cb;
  srv->drained_data = data;
  srv->drain_until = uv_now(srv->loop) + timeout_ms;
  if (srv->mhd != NULL) {
    MHD_socket fd = MHD_quiesce_daemon(srv->mhd);
    if (fd != MHD_INVALID_SOCKET)
      close(fd); /* external polling: ours to close at once */
  }
  uv_timer_start(&srv->drain, drain_cb, 0, 10);
  return 0;
}

void sg_http_server_free(sg_http_server_t *srv) {
  if (srv == NULL || srv->closing)
    return;
  srv->closing = true;
  /* Cancel what handlers still hold; libmicrohttpd must not be stopped
   * with suspended connections. */
  while (srv->waiting != NULL) {
    sg_http_req_t *req = srv->waiting;
    req_cancel(req);
    req->srv = NULL;
  }
  if (srv->polling)
    uv_poll_stop(&srv->epoll_watch);
  if (srv->mhd != NULL)
    MHD_stop_daemon(srv->mhd); /* completes every request */
  srv->mhd = NULL;
  spare_free(srv);
  sg__http_deadline_free(srv->deadline);
  srv->deadline = NULL;
  uv_close((uv_handle_t *)&srv->timer, server_close_cb);
  uv_close((uv_handle_t *)&srv->sweep, server_close_cb);
  uv_close((uv_handle_t *)&srv->drain, server_close_cb);
  if (srv->polling)
    uv_close((uv_handle_t *)&srv->epoll_watch, server_close_cb);
}

/* ---- request accessors and answers ----------------------------------- */

const char *sg_http_req_method(const sg_http_req_t *req) {
  return req->method;
}

const char *sg_http_req_path(const sg_http_req_t *req) {
  return req->path;
}

static const char *kv_find(const kv_t *kv, size_t n, const char *name,
                           bool nocase) {
  for (size_t i = 0; i < n; i++)
    if ((nocase ? strcasecmp(kv[i].name, name) : strcmp(kv[i].name, name)) == 0)
      return kv[i].value;
  return NULL;
}

const char *sg_http_req_param(const sg_http_req_t *req, const char *name) {
  return kv_find(req->params, req->n_params, name, false);
}

const char *sg_http_req_query(const sg_http_req_t *req, const char *name) {
  return kv_find(req->query, req->n_query, name, false);
}

size_t sg_http_req_query_count(const sg_http_req_t *req) {
  return req->n_query;
}

int sg_http_req_query_at(const sg_http_req_t *req, size_t i, const char **name,
                         const char **value) {
  if (i >= req->n_query)
    return SG_ERANGE;
  *name = req->query[i].name;
  *value = req->query[i].value;
  return 0;
}

const char *sg_http_req_header(const sg_http_req_t *req, const char *name) {
  return kv_find(req->headers, req->n_headers, name, true);
}

const uint8_t *sg_http_req_body(const sg_http_req_t *req, size_t *len) {
  *len = req->body_len;
  return req->body ? req->body : (const uint8_t *)"";
}

const struct sockaddr *sg_http_req_peer(const sg_http_req_t *req) {
  return (const struct sockaddr *)&req->peer;
}

void sg_http_req_on_cancel(sg_http_req_t *req, sg_http_cancel_cb cb,
                           void *data) {
  req->cancel_cb = cb;
  req->cancel_data = data;
}

bool sg_http_req_cancelled(const sg_http_req_t *req) {
  return req->state == REQ_CANCELLED || req->srv == NULL;
}

int sg_http_respond(sg_http_req_t *req, unsigned status,
                    const char *content_type, const void *body, size_t len,
                    const char *const *headers) {
  if (req == NULL || req->responded)
    return SG_ESTATE;
  req->responded = true;
  waiting_unlink(req);
  if (req->state == REQ_CANCELLED || req->conn == NULL || req->srv == NULL) {
    req_unref(req);
    return SG_ECLOSED;
  }
  int err;
  struct MHD_Response *r =
      build_response(&status, content_type, body, len, headers, &err);
  if (req->state == REQ_HANDLER) { /* queued when the handler returns */
    req->response = r;
    req->status = status;
    if (r == NULL)
      req->state = REQ_CANCELLED; /* no memory even for a 500: close */
  } else {
    watch_stop(req);
    req->state = REQ_ANSWERED;
    req->t_respond = uv_hrtime() / 1000u;
    queue(req->conn, status, r);
    MHD_resume_connection(req->conn);
    kick(req->srv);
  }
  req_unref(req);
  return err;
}

int sg_http_respond_error(sg_http_req_t *req, unsigned status, const char *code,
                          const char *message, const char *field) {
  char *json = error_json(code ? code : "error", message ? message : "", field);
  int rc;
  if (json == NULL) {
    rc = sg_http_respond(req, 500, NULL, NULL, 0, NULL);
    return rc == 0 ? SG_EINVAL : rc;
  }
  rc = sg_http_respond(req, status, "application/json", json, strlen(json),
                       NULL);
  sg_free(json);
  return rc;
}
