/* modem_tcp.c - a GSM modem behind a TCP serial bridge (ser2net and the
 * like: raw TCP, the bytes of the serial line as they are): the modem
 * connector's device is then "tcp://host:port" and this file connects,
 * reads and writes it with uv_tcp_t instead of a descriptor and uv_poll_t.
 *
 * It must never block the loop: the name is resolved on libuv's thread
 * pool, the connection is bounded by the command timeout (modem.c's timer)
 * and a bridge that closes or fails is handled like a serial device that
 * went away: the modem is reset and connected again after the reconnect
 * delay. Line settings (speed, flow control) are the bridge's business.
 */
#include "connector/modem_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/error.h"

int sg__modem_tcp_parse(const char *device, char **host, char port[8]) {
  if (strncmp(device, "tcp://", 6) != 0)
    return SG_EINVAL;
  const char *h = device + 6, *colon = strrchr(h, ':');
  if (colon == NULL || colon == h || strchr(h, '/') != NULL)
    return SG_EINVAL;
  char *end;
  unsigned long p = strtoul(colon + 1, &end, 10);
  if (colon[1] < '0' || colon[1] > '9' || *end != '\0' || p < 1 || p > 65535)
    return SG_EINVAL;
  size_t hl = (size_t)(colon - h);
  if (h[0] == '[') { /* [2001:db8::1]:4001 */
    if (hl < 3 || h[hl - 1] != ']')
      return SG_EINVAL;
    h++;
    hl -= 2;
  }
  *host = sg_malloc(hl + 1);
  if (*host == NULL)
    return SG_ENOMEM;
  memcpy(*host, h, hl);
  (*host)[hl] = '\0';
  snprintf(port, 8, "%lu", p);
  return 0;
}

/* Not connected after all: closed, and tried again after the delay. */
static void tcp_failed(sg__modem_t *m) {
  if (m->state != SG__MS_DOWN) {
    sg__modem_reset(m, "the TCP serial bridge closed");
    return;
  }
  m->connecting = false;
  uv_timer_stop(&m->timer);
  sg__modem_tcp_close(m);
  sg__modem_timeout(m, m->cfg.reconnect_delay_ms);
}

static void alloc_cb(uv_handle_t *h, size_t hint, uv_buf_t *buf) {
  sg__modem_t *m = h->data;
  (void)hint;
  *buf = uv_buf_init((char *)m->rbuf, sizeof m->rbuf);
}

static void read_cb(uv_stream_t *s, ssize_t n, const uv_buf_t *buf) {
  sg__modem_t *m = s->data;
  if (n < 0) {
    sg__modem_reset(m, "the TCP serial bridge closed");
    return;
  }
  if (n > 0)
    sg__modem_feed(m, (const uint8_t *)buf->base, (size_t)n);
}

static void connect_cb(uv_connect_t *req, int status) {
  sg__modem_t *m = req->data;
  if (status == UV_ECANCELED || m->stopping || !m->connecting)
    return;
  if (status != 0) {
    tcp_failed(m);
    return;
  }
  m->connecting = false;
  uv_timer_stop(&m->timer);
  uv_tcp_nodelay(&m->tcp, 1);
  uv_read_start((uv_stream_t *)&m->tcp, alloc_cb, read_cb);
  sg__modem_opened(m);
}

static void gai_cb(uv_getaddrinfo_t *req, int status, struct addrinfo *res) {
  sg__modem_t *m = req->data;
  m->gai_busy = false;
  if (m->stopping || !m->connecting || status != 0 || res == NULL) {
    uv_freeaddrinfo(res);
    if (!m->stopping && m->connecting)
      tcp_failed(m);
    sg__modem_handle_closed(m); /* the request counted as a handle */
    return;
  }
  int rc = uv_tcp_init(m->loop, &m->tcp);
  if (rc == 0) {
    m->tcp.data = m;
    m->tcp_open = true;
    m->handles_open++;
    m->conn_req.data = m;
    rc = uv_tcp_connect(&m->conn_req, &m->tcp, res->ai_addr, connect_cb);
  }
  uv_freeaddrinfo(res);
  if (rc != 0)
    tcp_failed(m);
  sg__modem_handle_closed(m);
}

int sg__modem_tcp_open(sg__modem_t *m) {
  struct addrinfo hints;
  memset(&hints, 0, sizeof hints);
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  m->gai.data = m;
  m->out_len = 0;
  m->writing = false;
  sg_at_reader_init(&m->rd);
  if (uv_getaddrinfo(m->loop, &m->gai, gai_cb, m->tcp_host, m->tcp_port,
                     &hints) != 0)
    return SG_EIO;
  m->gai_busy = true;
  m->handles_open++;
  m->connecting = true;
  return 0;
}

static void write_cb(uv_write_t *req, int status) {
  sg__modem_t *m = req->data;
  m->writing = false;
  if (status != 0) {
    if (status != UV_ECANCELED)
      sg__modem_reset(m, "write to the TCP serial bridge failed");
    return;
  }
  sg__modem_tcp_flush(m);
}

/* One write in flight: what waits in m->out goes when it is done. */
void sg__modem_tcp_flush(sg__modem_t *m) {
  if (m->writing || m->out_len == 0 || !m->tcp_open || m->connecting)
    return;
  memcpy(m->wbuf, m->out, m->out_len);
  uv_buf_t b = uv_buf_init((char *)m->wbuf, (unsigned)m->out_len);
  m->out_len = 0;
  m->wreq.data = m;
  if (uv_write(&m->wreq, (uv_stream_t *)&m->tcp, &b, 1, write_cb) != 0) {
    sg__modem_reset(m, "write to the TCP serial bridge failed");
    return;
  }
  m->writing = true;
}

static void tcp_closed(uv_handle_t *h) {
  sg__modem_t *m = h->data;
  m->poll_closing = false;
  sg__modem_handle_closed(m);
}

void sg__modem_tcp_close(sg__modem_t *m) {
  m->connecting = false;
  if (m->gai_busy)
    uv_cancel((uv_req_t *)&m->gai);
  if (!m->tcp_open)
    return;
  m->tcp_open = false;
  m->poll_closing = true;
  uv_close((uv_handle_t *)&m->tcp, tcp_closed);
}
