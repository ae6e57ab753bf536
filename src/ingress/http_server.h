/* http_server.h - the HTTP/1.1 server of smsgate: libmicrohttpd driven by the
 * libuv loop, a route table, and responses that may come later than the
 * handler call.
 *
 * libmicrohttpd runs with MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME and no
 * thread of its own: its epoll fd is watched by a uv_poll_t and MHD_run() is
 * called on readiness and when MHD_get_timeout() expires (a uv_timer_t).
 * Everything, handlers included, runs on the loop thread.
 *
 * A handler either answers at once (sg_http_respond inside the handler) or
 * keeps the request and answers later from any point on the loop: the
 * connection is then suspended until sg_http_respond resumes it. This is
 * how "202 only after the store has committed" works. Once a request has
 * waited 100 ms the server watches its socket (libmicrohttpd does not watch
 * suspended connections): a client that goes away (FIN or RST; a client
 * that only half-closes counts as gone) cancels the request, the cancel
 * callback fires, and the later sg_http_respond is a harmless no-op that
 * returns SG_ECLOSED. An answer to a client that left sooner is simply
 * dropped by libmicrohttpd.
 *
 * The server answers by itself, with the JSON error body of
 * sg_http_respond_error: 404 for a path no route matches, 405 with an Allow
 * header for a known path and another method, 413 for a body longer than
 * max_body, 400 for a request target that is not well-formed (a bad
 * %-escape in the path or the query). Malformed request lines and headers,
 * over-long headers and missing Host are answered by libmicrohttpd itself
 * (400, 414, 431). Connections are kept alive between requests.
 */
#ifndef SG_INGRESS_HTTP_SERVER_H
#define SG_INGRESS_HTTP_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <uv.h>

typedef struct sg_http_server sg_http_server_t;
typedef struct sg_http_req sg_http_req_t;

typedef struct sg_http_server_cfg {
  const char *host;         /* address or name to listen on; NULL: 127.0.0.1 */
  uint16_t port;            /* 0: an ephemeral port, see sg_http_server_port */
  size_t max_body;          /* longest request body, else 413; 0: 1 MiB */
  unsigned max_connections; /* open connections at once; 0: 1024 */
  unsigned idle_timeout_s;  /* a connection idle this long is closed; 0: 30 */
  size_t max_header_size;   /* request line + headers; 0: 8 KiB */
  bool reuse_port;          /* SO_REUSEPORT, for several loops on one port */
  /* Diagnostics from libmicrohttpd (one line, no newline); NULL: silent. */
  void (*log_cb)(void *data, const char *msg);
  void *log_data;
} sg_http_server_cfg_t;

#define SG_HTTP_LAT_BUCKETS 22
/* Bucket bounds of the latency histograms, µs (0.1 ms to 100 ms). */
extern const uint32_t sg_http_lat_bounds_us[SG_HTTP_LAT_BUCKETS];

typedef struct sg_http_server_stats {
  uint64_t connections_accepted; /* since start */
  uint64_t connections_open;     /* now */
  uint64_t requests;             /* handed to a handler */
  uint64_t rejected;             /* answered by the server: 400/404/405/413 */
  uint64_t waiting;              /* handed to a handler, not answered yet */
  uint64_t cancelled;            /* clients gone before their answer */
  /* Requests answered through a suspension (sg_http_respond after the
   * handler returned), by duration, one count per bucket of
   * sg_http_lat_bounds_us (the last for above them all): handler_hist from
   * the request line's arrival to sg_http_respond, answer_hist from there
   * until libmicrohttpd has sent the answer; *_us their sums. */
  uint64_t handler_hist[SG_HTTP_LAT_BUCKETS + 1];
  uint64_t answer_hist[SG_HTTP_LAT_BUCKETS + 1];
  uint64_t handler_us, answer_us;
  /* Each run of libmicrohttpd that follows answers to suspended requests,
   * by the time from the first of them to the run (their wait to be
   * written), and its sum. */
  uint64_t resume_hist[SG_HTTP_LAT_BUCKETS + 1];
  uint64_t resume_us;
} sg_http_server_stats_t;

/* Called on the loop thread once the whole request (body included) has
 * arrived. The handler must, now or later, call sg_http_respond or
 * sg_http_respond_error on `req` exactly once; until then `req` and every
 * string it hands out stay valid, even if the client goes away. */
typedef void (*sg_http_handler_cb)(sg_http_req_t *req, void *data);

/* Called at most once, on the loop thread, when the client of a request
 * still waiting for its answer disconnects or the server is freed. The
 * handler must still call sg_http_respond (it returns SG_ECLOSED), from the
 * callback itself or later. */
typedef void (*sg_http_cancel_cb)(sg_http_req_t *req, void *data);

/* Starts a server listening on cfg->host:cfg->port, driven by `loop`.
 * Returns 0 with *out set, SG_EINVAL for a bad configuration or an address
 * that does not resolve, SG_EIO when libmicrohttpd cannot start (port in
 * use), SG_ENOMEM. The host name is resolved with getaddrinfo, which may
 * block: start servers before the loop runs. */
int sg_http_server_new(uv_loop_t *loop, const sg_http_server_cfg_t *cfg,
                       sg_http_server_t **out);

/* Adds a route: requests whose method equals `method` ("GET", "POST", ...;
 * a GET route also answers HEAD) and whose path matches `pattern` go to
 * `cb` with `data`. A pattern is a path of literal segments and {name}
 * segments, e.g. "/v1/messages/{id}"; {name} matches one non-empty segment,
 * %-decoded, available as sg_http_req_param(req, "name"). The first route
 * added wins when several match. Returns 0, SG_EINVAL for a malformed
 * pattern (not starting with '/', an empty or unterminated {}), SG_ENOMEM. */
int sg_http_server_route(sg_http_server_t *srv, const char *method,
                         const char *pattern, sg_http_handler_cb cb,
                         void *data);

/* sg_http_server_route for a route whose query values may hold octets the
 * decoded accessors cannot (an escaped NUL, "%00": raw UCS-2 text of
 * Kannel's sendsms). Elsewhere such a query is refused with 400; here the
 * request reaches the handler, which reads sg_http_req_query_raw() and
 * refuses a malformed query itself: the server does not decode the query
 * of such a route (the decoded accessors find no value). Same returns. */
int sg_http_server_route_raw(sg_http_server_t *srv, const char *method,
                             const char *pattern, sg_http_handler_cb cb,
                             void *data);

/* The number of routes added so far, in the order they were added. */
size_t sg_http_server_route_count(const sg_http_server_t *srv);

/* Route i (0 <= i < sg_http_server_route_count): its method in *method
 * (owned by the server, valid until it is freed) and its pattern written
 * back as given ("/v1/messages/{id}") into pattern[0..cap). Returns 0,
 * SG_ENOENT for i past the end, SG_ENOSPC when cap is too small. For the
 * check that the published API description lists every route. */
int sg_http_server_route_info(const sg_http_server_t *srv, size_t i,
                              const char **method, char *pattern, size_t cap);
/* ---- streaming request bodies ---------------------------------------- */

/* Called on the loop thread with each chunk of the body of a request on a
 * streaming route, as it arrives, before the handler; the chunk is valid
 * during the call only. The request's headers, query and params can be
 * read. Return 0 to go on; SG_EBUSY to take this chunk and read no more
 * of the body until sg_http_req_resume_body(req); another negative code to
 * have the rest of the body read and dropped. The handler is called once
 * the body has ended (sg_http_req_body then gives an empty body) and
 * answers as usual. If the client leaves before the end of the body, the
 * handler is never called; the cancel callback registered with
 * sg_http_req_on_cancel (from a chunk call) fires instead. */
typedef int (*sg_http_chunk_cb)(sg_http_req_t *req, const uint8_t *buf,
                                size_t len, void *data);

/* sg_http_server_route for a route whose body is streamed to `chunk`
 * instead of being collected: max_body does not apply. Same returns. */
int sg_http_server_route_stream(sg_http_server_t *srv, const char *method,
                                const char *pattern, sg_http_chunk_cb chunk,
                                sg_http_handler_cb cb, void *data);

/* Lets a streaming request whose chunk callback answered SG_EBUSY read on;
 * a no-op otherwise. Loop thread. */
void sg_http_req_resume_body(sg_http_req_t *req);

/* A pointer of the route's own kept with the request (NULL at first). */
void sg_http_req_set_user(sg_http_req_t *req, void *user);
void *sg_http_req_user(const sg_http_req_t *req);

/* ---- streamed responses ---------------------------------------------- */

/* Writes up to max octets of a streamed body into buf. Returns the octets
 * written (> 0); 0 when none are ready yet (the connection waits until
 * sg_http_stream_resume); SG_ECLOSED at the end of the body; another
 * negative code aborts the connection. Loop thread. */
typedef long (*sg_http_pull_cb)(void *data, uint8_t *buf, size_t max);

/* Answers req with a body of unknown length (HTTP/1.1 chunked) pulled from
 * `pull` as the client takes it. `done(data)` fires exactly once when the
 * response is finished or the client is gone (also from inside
 * sg_http_server_free); until then req stays valid for
 * sg_http_stream_resume, and not after. Counts as the request's one
 * answer. Returns 0; SG_ECLOSED when the request was cancelled (done has
 * fired); SG_EINVAL (NULL arguments, a bad header) or SG_ENOMEM, done not
 * called and the request still to be answered. */
int sg_http_respond_stream(sg_http_req_t *req, unsigned status,
                           const char *content_type, const char *const *headers,
                           sg_http_pull_cb pull, void (*done)(void *data),
                           void *data);

/* More data is ready for a streamed response whose pull answered 0. */
void sg_http_stream_resume(sg_http_req_t *req);

/* The port the server listens on (the ephemeral one when cfg->port was 0). */
uint16_t sg_http_server_port(const sg_http_server_t *srv);

/* Copies the counters. */
void sg_http_server_stats(const sg_http_server_t *srv,
                          sg_http_server_stats_t *out);

/* Called once a drain ends: idle is true when every request got its answer
 * and libmicrohttpd is done with it, false when the timeout came first. */
typedef void (*sg_http_drained_cb)(sg_http_server_t *srv, bool idle,
                                   void *data);

/* A graceful stop's first half: stops listening at once (new connections
 * are refused), answers 503 `stopping` to any new request on a connection
 * already open, and lets the requests in progress finish; `cb` fires on the
 * loop when none is left or after timeout_ms, whichever comes first. Then
 * call sg_http_server_free. Returns 0, SG_EINVAL (NULL arguments), or
 * SG_ESTATE when already draining or freed. */
int sg_http_server_drain(sg_http_server_t *srv, unsigned timeout_ms,
                         sg_http_drained_cb cb, void *data);

/* Stops listening and closes every connection. Requests still waiting for
 * their answer are cancelled (their cancel callbacks fire before this
 * returns); their handlers must still call sg_http_respond, which returns
 * SG_ECLOSED. The memory is released once the loop has run the close
 * callbacks of the server's handles, so run the loop after this call.
 * NULL is a no-op. */
void sg_http_server_free(sg_http_server_t *srv);

/* Request accessors. Every returned string is NUL-terminated, owned by the
 * request and valid until sg_http_respond; NULL when absent. */

/* The method as sent ("GET", "POST", ...). */
const char *sg_http_req_method(const sg_http_req_t *req);

/* The path, %-decoding not applied, without the query. */
const char *sg_http_req_path(const sg_http_req_t *req);

/* The %-decoded value of the {name} segment of the matched route. */
const char *sg_http_req_param(const sg_http_req_t *req, const char *name);

/* The first value of query argument `name` ("+" and %-escapes decoded; an
 * argument without '=' has the value ""). */
const char *sg_http_req_query(const sg_http_req_t *req, const char *name);

/* Number of query arguments and the i-th one in the order sent (repeated
 * names, e.g. ?to=1&to=2, appear once per occurrence). _query_at returns
 * 0, or SG_ERANGE when i is past the end. */
size_t sg_http_req_query_count(const sg_http_req_t *req);
int sg_http_req_query_at(const sg_http_req_t *req, size_t i, const char **name,
                         const char **value);

/* The query string as sent, without the '?' and not decoded ("" when
 * none). */
const char *sg_http_req_query_raw(const sg_http_req_t *req);

/* The value of request header `name` (case-insensitive; the first one if
 * it is repeated). */
const char *sg_http_req_header(const sg_http_req_t *req, const char *name);

/* The body (NUL-terminated for convenience; *len excludes the NUL). Never
 * NULL: an empty body has length 0. */
const uint8_t *sg_http_req_body(const sg_http_req_t *req, size_t *len);

/* The client's address (AF_INET or AF_INET6). */
const struct sockaddr *sg_http_req_peer(const sg_http_req_t *req);

/* Registers (or, with cb NULL, removes) the cancel callback of `req`. If
 * the request is already cancelled the callback is not called: check
 * sg_http_req_cancelled. */
void sg_http_req_on_cancel(sg_http_req_t *req, sg_http_cancel_cb cb,
                           void *data);

/* True once the client has gone or the server is being freed. */
bool sg_http_req_cancelled(const sg_http_req_t *req);

/* Answers `req` and gives it back: whatever it returns, `req` must not be
 * used afterwards. Call it exactly once per request, on the loop thread,
 * inside the handler or at any later time. `content_type` may be NULL (no
 * Content-Type), `body` NULL when len is 0. `headers` is NULL or a
 * NULL-terminated list of name, value pairs, e.g.
 * (const char *[]){"Retry-After", "1", NULL}. The data is copied.
 * Returns 0; SG_ECLOSED when the request was cancelled (nothing is sent);
 * SG_EINVAL for a status outside 200..599 or a header libmicrohttpd
 * refuses (CR or LF in it), SG_ENOMEM: in those two cases a 500 is sent
 * instead. */
int sg_http_respond(sg_http_req_t *req, unsigned status,
                    const char *content_type, const void *body, size_t len,
                    const char *const *headers);

/* sg_http_respond with Content-Type application/json and the body
 * {"error": {"code": code, "message": message, "field": field}}; a NULL
 * field is JSON null. Same return values and ownership. */
int sg_http_respond_error(sg_http_req_t *req, unsigned status, const char *code,
                          const char *message, const char *field);

#endif
