/* sink.c - the webhook sink's server: a libuv TCP listener whose
 * connections read requests (sink_http.c parses their heads), count each
 * webhook by status, check its signature and answer at once.
 *
 * Everything a read brings is answered in one write: uv_try_write first,
 * and a copy goes to uv_write only for what the socket did not take. A
 * connection's buffer grows to its largest request and is reused.
 *
 * This module must never block the loop, keep a request's body after it has
 * been counted, or answer anything but the fixed replies below.
 */
#include "sim/sink.h"

#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "core/error.h"
#include "engine/webhook.h"

#define READ_ROOM 65536 /* free space offered to each read */

typedef struct conn conn_t;

struct sg_sim_sink {
  uv_loop_t *loop;
  uv_tcp_t listener;
  uint8_t *secret;
  size_t secret_len;
  unsigned answer_status;
  FILE *record;
  conn_t *conns;
  unsigned open_handles; /* the listener and every connection */
  bool closing;
  sg_sim_sink_counts_t counts;
};

struct conn {
  uv_tcp_t tcp;
  sg_sim_sink_t *s;
  conn_t *prev, *next;
  uint8_t *buf;
  size_t off, len, cap; /* unread bytes are buf[off, len) */
  char *out;            /* answers of the current read */
  size_t out_len, out_cap;
  unsigned writes; /* uv_write requests outstanding */
  bool closing, close_after_write;
};

typedef struct write_req {
  uv_write_t req;
  conn_t *c;
  char data[];
} write_req_t;

/* ---- counting -------------------------------------------------------------
 */

static int64_t now_ms(void) {
  uv_timeval64_t tv;
  if (uv_gettimeofday(&tv) != 0)
    return 0;
  return (int64_t)tv.tv_sec * 1000 + tv.tv_usec / 1000;
}

static bool plain_name(const uint8_t *v, size_t n) {
  if (n == 0 || n >= sizeof(((sg_sim_sink_counts_t *)0)->status[0].name))
    return false;
  for (size_t i = 0; i < n; i++)
    if (!((v[i] >= 'a' && v[i] <= 'z') || (v[i] >= '0' && v[i] <= '9') ||
          v[i] == '_' || v[i] == '-' || v[i] == '.'))
      return false;
  return true;
}

static void count_status(sg_sim_sink_counts_t *k, const uint8_t *body,
                         size_t len, int64_t now) {
  const uint8_t *v = NULL;
  size_t n = sg_sim_sink_status(body, len, &v);
  if (n == 0) {
    k->no_status++;
    return;
  }
  if (n == 9 && memcmp(v, "delivered", 9) == 0)
    k->last_ms = now;
  for (size_t i = 0; i < k->n_statuses; i++)
    if (strncmp(k->status[i].name, (const char *)v, n) == 0 &&
        k->status[i].name[n] == '\0') {
      k->status[i].n++;
      return;
    }
  if (k->n_statuses == SG_SIM_SINK_MAX_STATUSES || !plain_name(v, n)) {
    k->other++;
    return;
  }
  memcpy(k->status[k->n_statuses].name, v, n);
  k->status[k->n_statuses].name[n] = '\0';
  k->status[k->n_statuses++].n = 1;
}

static bool signature_ok(const sg_sim_sink_t *s, const sg_sim_sink_head_t *h,
                         const uint8_t *body) {
  char sig[SG_WEBHOOK_SIGNATURE_LEN + 1];
  if (h->signature_len != SG_WEBHOOK_SIGNATURE_LEN)
    return false;
  memcpy(sig, h->signature, SG_WEBHOOK_SIGNATURE_LEN);
  sig[SG_WEBHOOK_SIGNATURE_LEN] = '\0';
  return sg_webhook_verify(s->secret, s->secret_len, body, h->content_length,
                           sig);
}

/* ---- answers --------------------------------------------------------------
 */

static bool out_put(conn_t *c, const char *p, size_t n) {
  if (c->out_len + n > c->out_cap) {
    char *o = sg_grow(c->out, &c->out_cap, c->out_len + n, 1024, 1);
    if (o == NULL)
      return false;
    c->out = o;
  }
  memcpy(c->out + c->out_len, p, n);
  c->out_len += n;
  return true;
}

static const char *reason(unsigned status) {
  switch (status) {
  case 200:
    return "OK";
  case 400:
    return "Bad Request";
  case 405:
    return "Method Not Allowed";
  case 411:
    return "Length Required";
  case 413:
    return "Content Too Large";
  case 431:
    return "Request Header Fields Too Large";
  case 500:
    return "Internal Server Error";
  case 503:
    return "Service Unavailable";
  default:
    return "Status";
  }
}

static void answer(conn_t *c, unsigned status, const char *body, bool close) {
  char head[160];
  size_t n = body ? strlen(body) : 0;
  int k = snprintf(
      head, sizeof head, "HTTP/1.1 %u %s\r\nContent-Length: %zu\r\n%s%s\r\n",
      status, reason(status), n, n ? "Content-Type: application/json\r\n" : "",
      close ? "Connection: close\r\n" : "");
  if (!out_put(c, head, (size_t)k) || (n > 0 && !out_put(c, body, n)))
    c->close_after_write = true;
  if (close)
    c->close_after_write = true;
}

static void answer_counts(conn_t *c, bool close) {
  char json[2048];
  size_t n = sg_sim_sink_counts_json(&c->s->counts, json, sizeof json);
  answer(c, n < sizeof json ? 200 : 500, n < sizeof json ? json : NULL, close);
}

/* ---- connections ----------------------------------------------------------
 */

static void conn_close_cb(uv_handle_t *h) {
  conn_t *c = h->data;
  sg_sim_sink_t *s = c->s;
  sg_free(c->buf);
  sg_free(c->out);
  sg_free(c);
  if (--s->open_handles == 0 && s->closing)
    sg_free(s);
}

static void conn_close(conn_t *c) {
  if (c->closing)
    return;
  c->closing = true;
  sg_sim_sink_t *s = c->s;
  if (c->prev != NULL)
    c->prev->next = c->next;
  else
    s->conns = c->next;
  if (c->next != NULL)
    c->next->prev = c->prev;
  uv_close((uv_handle_t *)&c->tcp, conn_close_cb);
}

static void write_cb(uv_write_t *req, int status) {
  write_req_t *w = (write_req_t *)(void *)req;
  conn_t *c = w->c;
  sg_free(w);
  c->writes--;
  if (status < 0 || (c->close_after_write && c->writes == 0))
    conn_close(c);
}

/* Sends what the current read produced. */
static void flush(conn_t *c) {
  size_t done = 0;
  if (c->out_len > 0 && c->writes == 0) {
    uv_buf_t b = uv_buf_init(c->out, (unsigned)c->out_len);
    int n = uv_try_write((uv_stream_t *)&c->tcp, &b, 1);
    if (n < 0 && n != UV_EAGAIN) {
      conn_close(c);
      return;
    }
    done = n > 0 ? (size_t)n : 0;
  }
  size_t rest = c->out_len - done;
  c->out_len = 0;
  if (rest > 0) {
    write_req_t *w = sg_malloc(sizeof *w + rest);
    if (w == NULL) {
      conn_close(c);
      return;
    }
    memcpy(w->data, c->out + done, rest);
    w->c = c;
    uv_buf_t b = uv_buf_init(w->data, (unsigned)rest);
    if (uv_write(&w->req, (uv_stream_t *)&c->tcp, &b, 1, write_cb) != 0) {
      sg_free(w);
      conn_close(c);
      return;
    }
    c->writes++;
    return;
  }
  if (c->close_after_write && c->writes == 0)
    conn_close(c);
}

static void take_webhook(conn_t *c, const sg_sim_sink_head_t *h,
                         const uint8_t *body, int64_t *now) {
  sg_sim_sink_t *s = c->s;
  sg_sim_sink_counts_t *k = &s->counts;
  if (*now == 0)
    *now = now_ms();
  k->total++;
  if (k->first_ms == 0)
    k->first_ms = *now;
  k->last_any_ms = *now;
  if (s->secret_len > 0 && !signature_ok(s, h, body))
    k->bad_signature++;
  count_status(k, body, h->content_length, *now);
  unsigned st = s->answer_status ? s->answer_status : 200;
  if (st == 200 && h->keep_alive)
    out_put(c, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", 38);
  else
    answer(c, st, NULL, !h->keep_alive);
}

/* A Kannel-style dlr-url callback: counted, recorded, answered 200. */
static void take_callback(conn_t *c, const sg_sim_sink_head_t *h,
                          int64_t *now) {
  sg_sim_sink_t *s = c->s;
  if (*now == 0)
    *now = now_ms();
  s->counts.callbacks++;
  s->counts.last_callback_ms = *now;
  if (s->record != NULL) {
    const uint8_t *q = memchr(h->target, '?', h->target_len);
    size_t n = q != NULL ? h->target_len - (size_t)(q + 1 - h->target) : 0;
    fprintf(s->record, "%.*s %lld\n", (int)n,
            q != NULL ? (const char *)q + 1 : "", (long long)*now);
  }
  if (h->keep_alive)
    out_put(c, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", 38);
  else
    answer(c, 200, NULL, true);
}

static bool is_callback(const sg_sim_sink_head_t *h) {
  return h->target_len >= 4 && memcmp(h->target, "/dlr", 4) == 0;
}

static void bad_request(conn_t *c, unsigned status) {
  c->s->counts.bad_request++;
  answer(c, status, NULL, true);
}

/* Handles every whole request in the buffer; false when the connection is
 * to be closed after the answers. */
static bool take_requests(conn_t *c) {
  int64_t now = 0;
  while (c->off < c->len && !c->close_after_write) {
    sg_sim_sink_head_t h;
    const uint8_t *p = c->buf + c->off;
    size_t avail = c->len - c->off;
    int n = sg_sim_sink_parse_head(p, avail, &h);
    if (n == SG_NEED_MORE)
      break;
    if (n < 0) {
      bad_request(c, n == SG_ETOOLONG ? 431 : 400);
      break;
    }
    if (h.chunked) {
      bad_request(c, 411);
      break;
    }
    if (h.content_length > SG_SIM_SINK_MAX_BODY) {
      bad_request(c, 413);
      break;
    }
    if (avail < (size_t)n + h.content_length)
      break; /* the body is not all here yet */
    if (h.method == SG_SIM_SINK_POST)
      take_webhook(c, &h, p + n, &now);
    else if (h.method == SG_SIM_SINK_GET && is_callback(&h))
      take_callback(c, &h, &now);
    else if (h.method == SG_SIM_SINK_GET)
      answer_counts(c, !h.keep_alive);
    else
      answer(c, 405, NULL, !h.keep_alive);
    c->off += (size_t)n + h.content_length;
  }
  if (c->off == c->len)
    c->off = c->len = 0;
  return !c->close_after_write;
}

static void alloc_cb(uv_handle_t *h, size_t hint, uv_buf_t *buf) {
  conn_t *c = h->data;
  (void)hint;
  if (c->off > 0 && c->cap - c->len < READ_ROOM) {
    memmove(c->buf, c->buf + c->off, c->len - c->off);
    c->len -= c->off;
    c->off = 0;
  }
  if (c->cap - c->len < READ_ROOM) {
    size_t cap = c->len + READ_ROOM;
    uint8_t *b = sg_realloc(c->buf, cap);
    if (b == NULL) {
      *buf = uv_buf_init(NULL, 0);
      return;
    }
    c->buf = b;
    c->cap = cap;
  }
  *buf = uv_buf_init((char *)c->buf + c->len, (unsigned)(c->cap - c->len));
}

static void read_cb(uv_stream_t *st, ssize_t n, const uv_buf_t *buf) {
  conn_t *c = st->data;
  (void)buf;
  if (n < 0) {
    conn_close(c);
    return;
  }
  if (n == 0)
    return;
  c->len += (size_t)n;
  if (!take_requests(c))
    uv_read_stop(st);
  else if (c->len - c->off > SG_SIM_SINK_MAX_HEAD + SG_SIM_SINK_MAX_BODY)
    bad_request(c, 413);
  flush(c);
}

static void accept_cb(uv_stream_t *server, int status) {
  sg_sim_sink_t *s = server->data;
  if (status < 0 || s->closing)
    return;
  conn_t *c = sg_calloc(1, sizeof *c);
  if (c == NULL)
    return;
  c->s = s;
  uv_tcp_init(s->loop, &c->tcp);
  c->tcp.data = c;
  s->open_handles++;
  c->next = s->conns;
  if (s->conns != NULL)
    s->conns->prev = c;
  s->conns = c;
  if (uv_accept(server, (uv_stream_t *)&c->tcp) != 0 ||
      uv_read_start((uv_stream_t *)&c->tcp, alloc_cb, read_cb) != 0) {
    conn_close(c);
    return;
  }
  uv_tcp_nodelay(&c->tcp, 1);
  s->counts.connections++;
}

/* ---- lifetime -------------------------------------------------------------
 */

static void listener_close_cb(uv_handle_t *h) {
  sg_sim_sink_t *s = h->data;
  if (--s->open_handles == 0)
    sg_free(s);
}

static int listen_on(sg_sim_sink_t *s, const sg_sim_sink_config_t *cfg,
                     char *errbuf, size_t errlen) {
  struct sockaddr_storage ss;
  const char *host = cfg->host ? cfg->host : "127.0.0.1";
  int rc = uv_ip4_addr(host, cfg->port, (struct sockaddr_in *)&ss);
  if (rc != 0)
    rc = uv_ip6_addr(host, cfg->port, (struct sockaddr_in6 *)&ss);
  if (rc == 0)
    rc = uv_tcp_bind(&s->listener, (const struct sockaddr *)&ss, 0);
  if (rc == 0)
    rc = uv_listen((uv_stream_t *)&s->listener, 511, accept_cb);
  if (rc != 0 && errbuf != NULL)
    snprintf(errbuf, errlen, "cannot listen on %s:%u: %s", host,
             (unsigned)cfg->port, uv_strerror(rc));
  return rc == 0 ? 0 : SG_EIO;
}

int sg_sim_sink_new(uv_loop_t *loop, const sg_sim_sink_config_t *cfg,
                    sg_sim_sink_t **out, char *errbuf, size_t errlen) {
  if (out != NULL)
    *out = NULL;
  if (loop == NULL || cfg == NULL || out == NULL ||
      (cfg->secret == NULL && cfg->secret_len > 0) ||
      (cfg->answer_status != 0 &&
       (cfg->answer_status < 200 || cfg->answer_status > 599)))
    return SG_EINVAL;
  sg_sim_sink_t *s = sg_calloc(1, sizeof *s);
  if (s == NULL)
    return SG_ENOMEM;
  s->loop = loop;
  s->answer_status = cfg->answer_status;
  s->record = cfg->record;
  if (cfg->secret_len > 0) {
    s->secret = sg_malloc(cfg->secret_len);
    if (s->secret == NULL) {
      sg_free(s);
      return SG_ENOMEM;
    }
    memcpy(s->secret, cfg->secret, cfg->secret_len);
    s->secret_len = cfg->secret_len;
  }
  uv_tcp_init(loop, &s->listener);
  s->listener.data = s;
  s->open_handles = 1;
  int rc = listen_on(s, cfg, errbuf, errlen);
  if (rc < 0) {
    sg_sim_sink_free(s);
    return rc;
  }
  *out = s;
  return 0;
}

uint16_t sg_sim_sink_port(const sg_sim_sink_t *s) {
  struct sockaddr_storage ss;
  int n = sizeof ss;
  if (uv_tcp_getsockname(&s->listener, (struct sockaddr *)&ss, &n) != 0)
    return 0;
  if (ss.ss_family == AF_INET6)
    return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
  return ntohs(((struct sockaddr_in *)&ss)->sin_port);
}

void sg_sim_sink_counts(const sg_sim_sink_t *s, sg_sim_sink_counts_t *out) {
  *out = s->counts;
}

void sg_sim_sink_flush(sg_sim_sink_t *s) {
  if (s != NULL && s->record != NULL)
    fflush(s->record);
}

void sg_sim_sink_free(sg_sim_sink_t *s) {
  if (s == NULL || s->closing)
    return;
  s->closing = true;
  sg_sim_sink_flush(s);
  while (s->conns != NULL)
    conn_close(s->conns);
  if (s->secret != NULL)
    sg_free(s->secret);
  s->secret = NULL;
  uv_close((uv_handle_t *)&s->listener, listener_close_cb);
}
