/* http_curl.c - libcurl's multi interface driven by the connector's libuv
 * loop: libcurl says which sockets to watch (one uv_poll_t each) and when
 * its timer is due (one uv_timer_t), the loop tells it what became ready,
 * and finished transfers go back to http_conn.c.
 *
 * It must never block the loop (no curl_easy_perform, no synchronous name
 * look-up beyond libcurl's own threaded resolver) and never follow a
 * redirect: a provider's answer is read where the request went.
 */
#include <string.h>

#include "connector/http_conn_int.h"
#include "core/alloc.h"
#include "core/error.h"

typedef struct sg__httpc_sock {
  uv_poll_t poll;
  curl_socket_t fd;
  sg__httpc_t *hc;
  struct sg__httpc_sock *prev, *next;
} sg__httpc_sock_t;

static void check_done(sg__httpc_t *hc) {
  CURLMsg *m;
  int left = 0;
  while (hc->multi != NULL && (m = curl_multi_info_read(hc->multi, &left))) {
    if (m->msg != CURLMSG_DONE)
      continue;
    sg__httpc_req_t *r = NULL;
    CURLcode code = m->data.result;
    curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&r);
    curl_multi_remove_handle(hc->multi, m->easy_handle);
    sg__httpc_done(hc, r, code);
  }
}

static void poll_cb(uv_poll_t *p, int status, int events) {
  sg__httpc_sock_t *s = p->data;
  sg__httpc_t *hc = s->hc;
  int flags = status < 0 ? CURL_CSELECT_ERR
                         : ((events & UV_READABLE) ? CURL_CSELECT_IN : 0) |
                               ((events & UV_WRITABLE) ? CURL_CSELECT_OUT : 0);
  int running = 0;
  curl_multi_socket_action(hc->multi, s->fd, flags, &running);
  check_done(hc);
}

static void sock_closed_cb(uv_handle_t *h) {
  sg__httpc_sock_t *s = h->data;
  sg__httpc_t *hc = s->hc;
  sg_free(s);
  sg__httpc_closed(hc);
}

static void sock_close(sg__httpc_t *hc, sg__httpc_sock_t *s) {
  if (s->prev != NULL)
    s->prev->next = s->next;
  else
    hc->socks = s->next;
  if (s->next != NULL)
    s->next->prev = s->prev;
  hc->closing++;
  uv_poll_stop(&s->poll);
  uv_close((uv_handle_t *)&s->poll, sock_closed_cb);
}

static int sock_cb(CURL *e, curl_socket_t fd, int what, void *userp,
                   void *socketp) {
  sg__httpc_t *hc = userp;
  sg__httpc_sock_t *s = socketp;
  (void)e;
  if (what == CURL_POLL_REMOVE) {
    if (s != NULL) {
      curl_multi_assign(hc->multi, fd, NULL);
      sock_close(hc, s);
    }
    return 0;
  }
  if (s == NULL) {
    s = sg_calloc(1, sizeof *s);
    if (s == NULL || uv_poll_init_socket(hc->loop, &s->poll, fd) != 0) {
      sg_free(s);
      return -1;
    }
    s->fd = fd;
    s->hc = hc;
    s->poll.data = s;
    s->next = hc->socks;
    if (hc->socks != NULL)
      hc->socks->prev = s;
    hc->socks = s;
    curl_multi_assign(hc->multi, fd, s);
  }
  int ev = ((what & CURL_POLL_IN) ? UV_READABLE : 0) |
           ((what & CURL_POLL_OUT) ? UV_WRITABLE : 0);
  uv_poll_start(&s->poll, ev, poll_cb);
  return 0;
}

static void ctimer_cb(uv_timer_t *t) {
  sg__httpc_t *hc = t->data;
  int running = 0;
  curl_multi_socket_action(hc->multi, CURL_SOCKET_TIMEOUT, 0, &running);
  check_done(hc);
}

static int timer_cb(CURLM *m, long timeout_ms, void *userp) {
  sg__httpc_t *hc = userp;
  (void)m;
  if (timeout_ms < 0)
    uv_timer_stop(&hc->ctimer);
  else
    uv_timer_start(&hc->ctimer, ctimer_cb, (uint64_t)timeout_ms, 0);
  return 0;
}

static void global_init(void) {
  curl_global_init(CURL_GLOBAL_DEFAULT);
}

int sg__httpc_curl_init(sg__httpc_t *hc) {
  static uv_once_t once = UV_ONCE_INIT;
  uv_once(&once, global_init);
  hc->multi = curl_multi_init();
  if (hc->multi == NULL)
    return SG_ENOMEM;
  curl_multi_setopt(hc->multi, CURLMOPT_SOCKETFUNCTION, sock_cb);
  curl_multi_setopt(hc->multi, CURLMOPT_SOCKETDATA, hc);
  curl_multi_setopt(hc->multi, CURLMOPT_TIMERFUNCTION, timer_cb);
  curl_multi_setopt(hc->multi, CURLMOPT_TIMERDATA, hc);
  curl_multi_setopt(hc->multi, CURLMOPT_MAX_HOST_CONNECTIONS,
                    (long)hc->cfg.window);
  uv_timer_init(hc->loop, &hc->ctimer);
  hc->ctimer.data = hc;
  return 0;
}

static size_t write_cb(char *p, size_t size, size_t n, void *data) {
  sg__httpc_req_t *r = data;
  size_t len = size * n, room = sizeof r->answer - r->answer_len;
  memcpy(r->answer + r->answer_len, p, len < room ? len : room);
  r->answer_len += len < room ? len : room;
  return len; /* the rest is read and dropped */
}

static const char *method_name(sg_config_http_method_t m) {
  return m == SG_CONFIG_HTTP_GET   ? "GET"
         : m == SG_CONFIG_HTTP_PUT ? "PUT"
                                   : "POST";
}

/* A new easy handle for r to url, with what every transfer of hc has: its
 * private pointer, error buffer, protocols, connect timeout and TLS
 * checks. NULL when out of memory. */
static CURL *easy_new(sg__httpc_t *hc, sg__httpc_req_t *r, const char *url) {
  CURL *e = curl_easy_init();
  if (e == NULL)
    return NULL;
  r->easy = e;
  r->curl_err[0] = '\0';
  const sg_config_conn_http_t *h = &hc->http;
  curl_easy_setopt(e, CURLOPT_URL, url);
  curl_easy_setopt(e, CURLOPT_PRIVATE, (char *)r);
  curl_easy_setopt(e, CURLOPT_ERRORBUFFER, r->curl_err);
  curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS,
                   (long)hc->cfg.connect_timeout_ms);
  curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, h->tls_verify ? 1L : 0L);
  curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, h->tls_verify ? 2L : 0L);
  if (h->tls_ca != NULL)
    curl_easy_setopt(e, CURLOPT_CAINFO, h->tls_ca);
  return e;
}

int sg__httpc_curl_start(sg__httpc_t *hc, sg__httpc_req_t *r) {
  CURL *e = easy_new(hc, r, r->url);
  if (e == NULL)
    return SG_ENOMEM;
  const sg_config_conn_http_t *h = &hc->http;
  curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)hc->cfg.timeout_ms);
  curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, write_cb);
  curl_easy_setopt(e, CURLOPT_WRITEDATA, r);
  curl_easy_setopt(e, CURLOPT_USERAGENT, "smsgate/" SG_VERSION);
  if (r->headers != NULL)
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, r->headers);
  if (hc->fresh) { /* after a reconnect: a connection of its own */
    curl_easy_setopt(e, CURLOPT_FRESH_CONNECT, 1L);
    hc->fresh = false;
  }
  if (h->method == SG_CONFIG_HTTP_GET) {
    curl_easy_setopt(e, CURLOPT_HTTPGET, 1L);
  } else {
    curl_easy_setopt(e, CURLOPT_POST, 1L);
    curl_easy_setopt(e, CURLOPT_POSTFIELDS, r->body != NULL ? r->body : "");
    curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE,
                     (long)(r->body != NULL ? strlen(r->body) : 0));
    curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, method_name(h->method));
  }
  if (curl_multi_add_handle(hc->multi, e) != CURLM_OK)
    return SG_ENOMEM;
  return 0;
}

int sg__httpc_curl_probe(sg__httpc_t *hc, sg__httpc_req_t *r,
                         const char *url) {
  CURL *e = easy_new(hc, r, url);
  if (e == NULL)
    return SG_ENOMEM;
  curl_easy_setopt(e, CURLOPT_CONNECT_ONLY, 1L); /* TCP, and TLS for https */
  curl_easy_setopt(e, CURLOPT_FRESH_CONNECT, 1L);
  curl_easy_setopt(e, CURLOPT_FORBID_REUSE, 1L);
  curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)hc->cfg.connect_timeout_ms);
  if (curl_multi_add_handle(hc->multi, e) != CURLM_OK) {
    curl_easy_cleanup(e);
    r->easy = NULL;
    return SG_ENOMEM;
  }
  return 0;
}

void sg__httpc_curl_close(sg__httpc_t *hc) {
  /* Our watches go before libcurl closes the sockets they watch. */
  while (hc->socks != NULL) {
    curl_multi_assign(hc->multi, hc->socks->fd, NULL);
    sock_close(hc, hc->socks);
  }
  curl_multi_setopt(hc->multi, CURLMOPT_SOCKETFUNCTION, NULL);
  curl_multi_setopt(hc->multi, CURLMOPT_TIMERFUNCTION, NULL);
  curl_multi_cleanup(hc->multi);
  hc->multi = NULL;
  uv_timer_stop(&hc->ctimer);
}
