/* sink.h - the webhook sink: an HTTP/1.1 server for tests and benchmarks
 * that takes smsgate's status webhooks, answers 200 at once, counts them by
 * their "status" field and checks their X-Smsgate-Signature when it knows
 * the secret (`smsgate sim sink`).
 *
 * What it speaks: keep-alive HTTP/1.1 (and 1.0) requests with a
 * Content-Length body, pipelined or not; no chunked bodies (411), no body
 * above SG_SIM_SINK_MAX_BODY (413), no header block above
 * SG_SIM_SINK_MAX_HEAD (431); a malformed request gets 400 and the
 * connection is closed. A POST to any path is a webhook; a GET to a path
 * that starts with "/dlr" is a Kannel-style delivery report callback
 * (dlr-url), counted as one and answered 200; a GET to any other path
 * answers the counts as JSON (see sg_sim_sink_counts_json).
 *
 * Cost: no allocation per request once a connection's buffer has grown to
 * its largest request; the answer is one constant string written with
 * uv_try_write.
 *
 * Threading: everything runs on the loop given to sg_sim_sink_new().
 */
#ifndef SG_SIM_SINK_H
#define SG_SIM_SINK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <uv.h>

#define SG_SIM_SINK_MAX_HEAD 8192
#define SG_SIM_SINK_MAX_BODY (1024 * 1024)
/* Distinct "status" values counted one by one; more share "other". */
#define SG_SIM_SINK_MAX_STATUSES 16

/* ---- the pure part: one request head ------------------------------------- */

typedef enum sg_sim_sink_method {
  SG_SIM_SINK_GET = 1,
  SG_SIM_SINK_POST = 2,
  SG_SIM_SINK_OTHER = 3
} sg_sim_sink_method_t;

typedef struct sg_sim_sink_head {
  sg_sim_sink_method_t method;
  size_t content_length;    /* 0 when absent */
  bool keep_alive;          /* HTTP/1.1 unless "Connection: close"; 1.0
                               only with "Connection: keep-alive" */
  bool chunked;             /* Transfer-Encoding present */
  const uint8_t *signature; /* value of X-Smsgate-Signature, in buf */
  size_t signature_len;     /* 0 when absent */
  const uint8_t *target;    /* the request-target ("/dlr?x=1"), in buf */
  size_t target_len;
} sg_sim_sink_head_t;

/* Parses the request head at the start of buf (RFC 9112 sections 2-6,
 * headers only as far as the sink needs them). Returns the length of the
 * head including its empty line (> 0) with *out filled, SG_NEED_MORE (0)
 * when buf holds no complete head yet, SG_ETOOLONG when the head is longer
 * than SG_SIM_SINK_MAX_HEAD, or SG_EPROTO for a malformed request line,
 * header line or Content-Length. Pure. */
int sg_sim_sink_parse_head(const uint8_t *buf, size_t len,
                           sg_sim_sink_head_t *out);

/* Finds the value of the top-level "status" string in a compact webhook
 * body, i.e. the text between `"status":"` and the next `"`. Returns its
 * length (> 0) with *value pointing into body, or 0 when there is none.
 * Pure. */
size_t sg_sim_sink_status(const uint8_t *body, size_t len,
                          const uint8_t **value);

/* ---- the server ----------------------------------------------------------- */

typedef struct sg_sim_sink sg_sim_sink_t;

typedef struct sg_sim_sink_config {
  const char *host; /* listening address; NULL: 127.0.0.1 */
  uint16_t port;    /* 0: any free port */
  const uint8_t *secret;
  size_t secret_len; /* 0: signatures are not checked */
  /* Answer status for webhooks: 0 means 200. For tests of retries. */
  unsigned answer_status;
  /* When set, every callback (GET /dlr...) appends one line to this file:
   * the request-target's query (after '?'), a space, and the wall clock in
   * ms since the epoch when it was read. Written through stdio's buffer;
   * flushed at sg_sim_sink_flush and sg_sim_sink_free. Not owned. */
  FILE *record;
} sg_sim_sink_config_t;

typedef struct sg_sim_sink_counts {
  uint64_t total;         /* webhooks (POSTs with a whole body) */
  uint64_t bad_signature; /* missing or wrong signature, when checked */
  uint64_t bad_request;   /* answered 400, 411, 413 or 431 */
  uint64_t no_status;     /* bodies without a "status" string */
  uint64_t other;         /* statuses beyond SG_SIM_SINK_MAX_STATUSES */
  size_t n_statuses;
  struct {
    char name[32];
    uint64_t n;
  } status[SG_SIM_SINK_MAX_STATUSES];
  int64_t first_ms, last_any_ms; /* wall clock (ms since the epoch) of
                                    the first and the latest webhook */
  int64_t last_ms; /* of the latest "delivered" one; 0 before any */
  uint64_t connections;      /* accepted so far */
  uint64_t callbacks;        /* GET /dlr... (Kannel dlr-url) requests */
  int64_t last_callback_ms;  /* wall clock of the latest; 0 before any */
} sg_sim_sink_counts_t;

/* Starts listening. Returns 0 with *out set, SG_EINVAL, SG_ENOMEM, or a
 * negative code from the bind (e.g. SG_EADDRINUSE-like errors mapped by
 * core/error.h); on error nothing is left listening and *out is NULL. */
int sg_sim_sink_new(uv_loop_t *loop, const sg_sim_sink_config_t *cfg,
                    sg_sim_sink_t **out, char *errbuf, size_t errlen);

/* The port it listens on (the real one when 0 was asked). */
uint16_t sg_sim_sink_port(const sg_sim_sink_t *s);

/* A copy of the counts so far. */
void sg_sim_sink_counts(const sg_sim_sink_t *s, sg_sim_sink_counts_t *out);

/* The counts as one JSON object without a newline, e.g.
 * {"total":4,"delivered":2,"by_status":{"sent":2,"delivered":2},
 *  "bad_signature":0,"bad_request":0,"no_status":0,"other":0,
 *  "first_ms":...,"last_any_ms":...,"last_ms":...,"connections":1,
 *  "callbacks":0,"last_callback_ms":0}
 * ("delivered" repeats the count of that status and "last_ms" is the
 * time of the latest of them: what bench/e2e polls). Returns the length written (NUL-terminated), or the length needed
 * when it is >= cap. Pure. */
size_t sg_sim_sink_counts_json(const sg_sim_sink_counts_t *c, char *buf,
                               size_t cap);

/* Writes out what the record file holds in its buffer. */
void sg_sim_sink_flush(sg_sim_sink_t *s);

/* Closes the listener and every connection; the sink is freed once the
 * loop has run their close callbacks. NULL is a no-op. */
void sg_sim_sink_free(sg_sim_sink_t *s);

#endif
