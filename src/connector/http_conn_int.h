/* http_conn_int.h - what the files of the HTTP provider connector share:
 *   http_conn.c   the connector: queue, window, rate, retries, outcomes
 *   http_curl.c   libcurl's multi interface on the libuv loop
 *   http_rule.c   pure: a part's template values, reading an answer,
 *                 reading a receipt
 *   http_hook.c   receipts posted to smsgate, held until the owner acks
 * Not a public header.
 */
#ifndef SG_CONNECTOR_HTTP_CONN_INT_H
#define SG_CONNECTOR_HTTP_CONN_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <curl/curl.h>
#include <uv.h>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "connector/http_conn.h"
#include "connector/throttle.h"
#include "core/httptpl.h"
#include "core/id.h"
#include "core/jsonpath.h"

#define SG__HTTPC_URL_MAX 8192
#define SG__HTTPC_BODY_MAX 65536
#define SG__HTTPC_ANSWER_MAX 8192 /* octets of an answer kept */
#define SG__HTTPC_HEADERS_MAX 32
#define SG__HTTPC_MSGID_MAX 40

/* ---- pure pieces (http_rule.c) ----------------------------------------- */

/* What the answer rule and the receipt mapping need, compiled. */
typedef struct sg__httpc_rule {
  sg_config_http_codes_t accept, temporary;
  pcre2_code *accept_re; /* NULL: none */
  bool id_path_set;
  sg_jsonpath_t id_path;
  pcre2_code *id_re;
  bool id_tpl_set;
  sg_httptpl_t id_tpl;
  bool error_path_set;
  sg_jsonpath_t error_path;
  pcre2_code *error_re;
  pcre2_match_data *md;
} sg__httpc_rule_t;

/* The values of a part's placeholders, with the room they are written in. */
typedef struct sg__httpc_vals {
  sg_httptpl_val_t v[SG_HTTPTPL_VAR_COUNT];
  char to[24], to_digits[24], from[24];
  char text[4 * 160 + 1];
  char ud_hex[2 * 160 + 1], udh_hex[2 * 16 + 1];
  char coding[2], dcs[4], part[4], parts[4], ref[SG__HTTPC_MSGID_MAX + 5];
  char concat_ref[6], dlr[2];
  char receipt_url[SG__HTTPC_URL_MAX];
} sg__httpc_vals_t;

/* Fills *out from part p of message message_id (may be ""); credentials
 * (may be NULL) and the receipt_url template (NULL: "") as configured.
 * Returns 0, or SG_EILSEQ/SG_ENOSPC when the part's text cannot be
 * written as UTF-8 or the receipt URL does not fit. */
int sg__httpc_values(const sg_conn_part_t *p, const char *message_id,
                     const char *username, const char *password,
                     const char *token, const sg_httptpl_t *receipt_url,
                     sg__httpc_vals_t *out);

/* The outcome of one answer. */
typedef struct sg__httpc_answer {
  sg_conn_outcome_t outcome; /* SENT, TEMPFAIL or PERMFAIL */
  char id[66];               /* SENT: the provider's id ("" if none) */
  char error[160];           /* otherwise: why, for the event */
  bool throttled;            /* 429 */
} sg__httpc_answer_t;

/* Reads HTTP status `status` with body[0..len) by rule r (vals fill an id
 * template). Never fails: a body that breaks the rule is a failure with
 * its reason. */
void sg__httpc_classify(const sg__httpc_rule_t *r, unsigned status,
                        const uint8_t *body, size_t len,
                        const sg__httpc_vals_t *vals, sg__httpc_answer_t *out);

/* Compiles the rule's patterns and paths from h. 0 or SG_ECONFIG/ENOMEM. */
int sg__httpc_rule_init(sg__httpc_rule_t *r, const sg_config_conn_http_t *h);
void sg__httpc_rule_close(sg__httpc_rule_t *r);

/* The value of parameter `name` in a query string or form body
 * (s[0..len), "a=1&b=2"), %-escapes and '+' decoded, into out[0..cap)
 * with a NUL. Returns its length, SG_ENOENT, or SG_ENOSPC. */
int sg__httpc_param(const char *s, size_t len, const char *name, char *out,
                    size_t cap);

/* A receipt status word to an SMPP message_state by the configured words
 * (exact, then ignoring case) and then the usual ones (delivered, DELIVRD,
 * undeliv, failed, expired, rejected, ...). 0 when unknown. */
int sg__httpc_state(const sg_config_http_receipt_t *r, const char *word);

/* ---- the connector ------------------------------------------------------- */

typedef enum sg__httpc_rstate {
  SG__HTTPC_WAIT = 0, /* queued, or waiting for its retry */
  SG__HTTPC_FLIGHT
} sg__httpc_rstate_t;

typedef struct sg__httpc sg__httpc_t;

/* One part, from its submit to its result. */
typedef struct sg__httpc_req {
  sg__httpc_t *hc;
  struct sg__httpc_req *prev, *next; /* in hc's list, in submit order */
  struct sg__httpc_req *after;       /* an earlier part of its message */
  sg__httpc_rstate_t state;
  sg_conn_part_t part;
  uint8_t udh[SG_SEG_UDH_MAX], ud[SG_SEG_UD_MAX];
  char message_id[SG__HTTPC_MSGID_MAX];
  unsigned attempts;
  uint64_t due_ms;  /* WAIT: not before (monotonic) */
  uint64_t sent_ms; /* FLIGHT: when the request started */
  CURL *easy;
  struct curl_slist *headers;
  char *url, *body;
  uint8_t answer[SG__HTTPC_ANSWER_MAX];
  size_t answer_len;
  sg__httpc_vals_t vals;
  char curl_err[CURL_ERROR_SIZE];
  bool probe; /* http_health.c's connect-only probe, in no list */
} sg__httpc_req_t;

/* A receipt handed to the owner and not yet acknowledged. */
typedef struct sg__httpc_hook {
  uint32_t gen; /* 0: free */
  sg_http_hook_done_cb cb;
  void *data;
} sg__httpc_hook_t;

struct sg__httpc {
  sg_connector_t base; /* first */
  uv_loop_t *loop;
  sg_http_conn_config_t cfg;
  sg_config_conn_http_t http; /* strings below are copies */
  char **strings;             /* every string copied, freed at the end */
  size_t n_strings;
  sg_httptpl_t url_tpl, body_tpl, receipt_url_tpl;
  bool has_body, has_receipt_url;
  sg_httptpl_t header_tpl[SG__HTTPC_HEADERS_MAX];
  bool content_type_set; /* a configured header names Content-Type */
  sg__httpc_rule_t rule;
  sg_conn_state_t state;
  bool paused, stopping;
  void (*stopped_cb)(sg_connector_t *c);
  sg__httpc_req_t *head, *tail;
  size_t n_reqs, n_flight;
  bool was_full; /* answered SG_EBUSY: ready_cb owed */
  sg_throttle_t throttle;
  uv_timer_t pump;   /* 0 ms after a submit, or when a retry is due */
  uv_timer_t ctimer; /* libcurl's timer */
  CURLM *multi;
  struct sg__httpc_sock *socks; /* open uv_poll_t, for the stop */
  unsigned closing;             /* handles being closed */
  sg__httpc_hook_t *hooks;
  size_t n_hooks, cap_hooks, free_hook;
  sg_conn_stats_t stats;
  /* http_health.c: DOWN after down_after transport failures in a row,
   * probed until the provider's host takes a connection again */
  unsigned fails;          /* transport failures in a row */
  unsigned probes;         /* probes since DOWN (their back-off) */
  sg__httpc_req_t *probe;  /* in flight, or NULL */
  uv_timer_t ptimer;       /* the next probe */
  bool fresh;              /* reconnect: the next request opens a connection */
};

/* http_curl.c: the multi handle on the loop. */
int sg__httpc_curl_init(sg__httpc_t *hc);
/* Starts req's request (its easy handle is set up). 0 or SG_ENOMEM. */
int sg__httpc_curl_start(sg__httpc_t *hc, sg__httpc_req_t *req);
/* Drops every socket and the multi handle; counts closes in hc->closing. */
void sg__httpc_curl_close(sg__httpc_t *hc);
/* Called by http_curl.c when a transfer ended (code CURLE_OK: an answer). */
void sg__httpc_done(sg__httpc_t *hc, sg__httpc_req_t *req, CURLcode code);
/* A handle of hc finished closing (http_curl.c, http_conn.c). */
void sg__httpc_closed(sg__httpc_t *hc);

/* http_conn.c, for http_health.c: ends every part waiting in hc's queue
 * (not in flight) with TEMPFAIL and `why`, so that the owner sends it
 * through another connector; and starts what can start now. */
void sg__httpc_fail_waiting(sg__httpc_t *hc, const char *why);
void sg__httpc_pump_soon(sg__httpc_t *hc);

/* http_health.c: an answer of the provider (any HTTP status), a transport
 * failure (nothing or no answer came back) with its reason, a probe's end,
 * the timer's start and close (counted in hc->closing), and the connector
 * operation `reconnect`. */
void sg__httpc_health_answer(sg__httpc_t *hc);
void sg__httpc_health_failure(sg__httpc_t *hc, const char *why);
void sg__httpc_probe_done(sg__httpc_t *hc, sg__httpc_req_t *probe,
                          CURLcode code);
void sg__httpc_health_start(sg__httpc_t *hc);
void sg__httpc_health_stop(sg__httpc_t *hc, uv_close_cb closed_cb);
int sg__httpc_reconnect(sg_connector_t *c);

/* http_curl.c: starts a connect-only request to url (the probe). */
int sg__httpc_curl_probe(sg__httpc_t *hc, sg__httpc_req_t *probe,
                         const char *url);

/* http_hook.c: the owner's ack of a receipt token; fails every held one. */
void sg__httpc_hook_ack(sg__httpc_t *hc, uint64_t token, bool accepted);
void sg__httpc_hooks_fail_all(sg__httpc_t *hc);

#endif
