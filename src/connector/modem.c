/* modem.c - the GSM modem connector's life cycle, device I/O, queue of
 * parts and the operations of connector.h (see connector/modem.h); the
 * conversation with the modem is in modem_cmd.c.
 *
 * It must never block the loop: the device is opened non-blocking, read
 * and written when uv_poll_t says so (a TCP bridge: modem_tcp.c), and what
 * the device does not take at once waits in a bounded buffer. It allocates
 * only when created.
 */
#include "connector/modem_int.h"

#include <errno.h>
#include <stdio.h>
#include <fcntl.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "core/alloc.h"
#include "core/error.h"

static const sg_connector_ops_t modem_ops;

void sg_modem_config_default(sg_modem_config_t *cfg) {
  memset(cfg, 0, sizeof *cfg);
  cfg->speed = 115200;
  cfg->command_timeout_ms = 10000;
  cfg->send_timeout_ms = 60000;
  cfg->register_timeout_ms = 60000;
  cfg->reconnect_delay_ms = 2000;
  cfg->keepalive_ms = 30000;
  cfg->max_retries = 3;
  cfg->queue_max = 256;
}

static speed_t speed_of(uint32_t baud) {
  static const struct {
    uint32_t baud;
    speed_t sp;
  } T[] = {{9600, B9600},     {19200, B19200},   {38400, B38400},
           {57600, B57600},   {115200, B115200}, {230400, B230400},
           {460800, B460800}, {921600, B921600}};
  for (size_t i = 0; i < sizeof T / sizeof T[0]; i++)
    if (T[i].baud == baud)
      return T[i].sp;
  return B0;
}

/* ---- Device I/O ---------------------------------------------------------- */

static void poll_cb(uv_poll_t *p, int status, int events);
static void timer_cb(uv_timer_t *t);

static void update_poll(sg__modem_t *m) {
  if (!m->poll_open)
    return;
  int ev = UV_READABLE | (m->out_len > 0 ? UV_WRITABLE : 0);
  uv_poll_start(&m->poll, ev, poll_cb);
}

static bool io_ready(const sg__modem_t *m) {
  return m->is_tcp ? m->tcp_open && !m->connecting : m->fd >= 0;
}

static void flush_out(sg__modem_t *m) {
  if (m->is_tcp) {
    sg__modem_tcp_flush(m);
    return;
  }
  while (m->out_len > 0 && m->fd >= 0) {
    ssize_t n = write(m->fd, m->out, m->out_len);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK) {
      sg__modem_reset(m, "write to the device failed");
      return;
    }
    if (n <= 0)
      break;
    memmove(m->out, m->out + n, m->out_len - (size_t)n);
    m->out_len -= (size_t)n;
  }
  update_poll(m);
}

void sg__modem_write(sg__modem_t *m, const char *s, size_t n) {
  if (!io_ready(m))
    return;
  if (sizeof m->out - m->out_len < n) {
    sg__modem_reset(m, "the device does not take what is written");
    return;
  }
  memcpy(m->out + m->out_len, s, n);
  m->out_len += n;
  flush_out(m);
}

/* Events of what was read, one by one, while the device stays open (an
 * event may reset it). */
void sg__modem_feed(sg__modem_t *m, const uint8_t *buf, size_t n) {
  uint64_t resets = m->info.resets;
  while (n > 0 && m->info.resets == resets && !m->stopping) {
    sg_at_event_t ev;
    int rc = sg_at_feed(&m->rd, buf, n, &ev);
    if (rc <= 0)
      break;
    buf += rc;
    n -= (size_t)rc;
    sg__modem_event(m, &ev);
  }
}

static void poll_cb(uv_poll_t *p, int status, int events) {
  sg__modem_t *m = p->data;
  int fd = m->fd;
  if (status < 0) {
    sg__modem_reset(m, "device error");
    return;
  }
  if (events & UV_READABLE) {
    uint8_t buf[1024];
    ssize_t n;
    while (m->fd == fd && (n = read(fd, buf, sizeof buf)) != 0) {
      if (n < 0) {
        if (errno == EINTR)
          continue;
        if (errno != EAGAIN && errno != EWOULDBLOCK)
          sg__modem_reset(m, "the device was closed");
        break;
      }
      sg__modem_feed(m, buf, (size_t)n);
    }
  }
  if (m->fd == fd && (events & UV_WRITABLE))
    flush_out(m);
}

/* termios flow control as configured: RTS/CTS lines or XON/XOFF bytes
 * (neither appears in AT commands or hex PDUs). */
static void set_flow(struct termios *t, sg_modem_flow_t flow) {
  t->c_iflag &= ~(tcflag_t)(IXON | IXOFF | IXANY);
  if (flow == SG_MODEM_FLOW_RTSCTS) {
    t->c_cflag |= CRTSCTS;
  } else if (flow == SG_MODEM_FLOW_XONXOFF) {
    t->c_iflag |= IXON | IXOFF;
    t->c_cc[VSTART] = 0x11;
    t->c_cc[VSTOP] = 0x13;
  }
}

static int open_device(sg__modem_t *m) {
  if (m->is_tcp)
    return sg__modem_tcp_open(m);
  int fd = open(m->device, O_RDWR | O_NOCTTY | O_NONBLOCK);
  if (fd < 0)
    return SG_EIO;
  struct termios t;
  if (tcgetattr(fd, &t) == 0) {
    cfmakeraw(&t);
    t.c_cflag &= ~(tcflag_t)(CSTOPB | PARENB | CRTSCTS | CSIZE);
    t.c_cflag |= CS8 | CLOCAL | CREAD;
    set_flow(&t, m->cfg.flow_control);
    t.c_cc[VMIN] = 0;
    t.c_cc[VTIME] = 0;
    cfsetispeed(&t, speed_of(m->cfg.speed));
    cfsetospeed(&t, speed_of(m->cfg.speed));
    tcsetattr(fd, TCSANOW, &t);
    tcflush(fd, TCIOFLUSH);
  }
  if (uv_poll_init(m->loop, &m->poll, fd) != 0) {
    close(fd);
    return SG_EIO;
  }
  m->fd = fd;
  m->poll.data = m;
  m->poll_open = true;
  m->handles_open++;
  m->out_len = 0;
  sg_at_reader_init(&m->rd);
  uv_poll_start(&m->poll, UV_READABLE, poll_cb);
  return 0;
}

static void maybe_stopped(sg__modem_t *m) {
  if (m->stopping && m->handles_open == 0 && m->stopped_cb != NULL) {
    void (*cb)(sg_connector_t *) = m->stopped_cb;
    m->stopped_cb = NULL;
    m->state = SG__MS_STOPPED;
    cb(&m->base);
  }
}

void sg__modem_handle_closed(sg__modem_t *m) {
  m->handles_open--;
  maybe_stopped(m);
}

static void handle_closed(uv_handle_t *h) {
  sg__modem_handle_closed(h->data);
}

static void poll_closed(uv_handle_t *h) {
  sg__modem_t *m = h->data;
  m->poll_closing = false;
  handle_closed(h);
}

/* uv_close stops the polling at once, so the descriptor can be closed
 * now; the handle's memory is reused only after poll_closed. */
static void close_device(sg__modem_t *m) {
  if (m->is_tcp) {
    sg__modem_tcp_close(m);
    return;
  }
  if (!m->poll_open)
    return;
  m->poll_open = false;
  m->poll_closing = true;
  uv_close((uv_handle_t *)&m->poll, poll_closed);
  close(m->fd);
  m->fd = -1;
}

void sg__modem_timeout(sg__modem_t *m, uint32_t ms) {
  if (!m->stopping)
    uv_timer_start(&m->timer, timer_cb, ms, 0);
}

void sg__modem_set_state(sg__modem_t *m, sg__mstate_t s, const char *why) {
  if (m->state == s)
    return;
  m->state = s;
  sg_conn_state_t cs = s == SG__MS_READY  ? SG_CONN_UP
                       : s == SG__MS_INIT ? SG_CONN_CONNECTING
                                          : SG_CONN_DOWN;
  if (m->base.cb.state_cb != NULL)
    m->base.cb.state_cb(&m->base, m->base.owner, cs, why);
}

/* Gives up the command in flight; a PDU already written counts as
 * unknown. The device is reopened after reconnect_delay. */
void sg__modem_reset(sg__modem_t *m, const char *why) {
  if (m->state == SG__MS_DOWN || m->stopping)
    return;
  bool written = m->sending && m->prompted;
  m->prompted = false;
  if (written && m->q_len > 0) {
    sg__mpart_t *mp = &m->q[m->q_head];
    if (++mp->unknowns > 1)
      sg__modem_result(m, SG_CONN_UNKNOWN, 0, NULL);
    else
      m->st.unknown_retries++;
  }
  m->sending = false;
  m->prompted = false;
  m->cmd = SG__MC_NONE;
  m->n_reads = 0; /* read again after the next AT+CMGL */
  m->st.reconnects++;
  m->info.resets++;
  close_device(m);
  sg__modem_set_state(m, SG__MS_DOWN, why);
  sg__modem_timeout(m, m->cfg.reconnect_delay_ms);
}

static void timer_cb(uv_timer_t *t) {
  sg__modem_t *m = t->data;
  if (m->stopping)
    return;
  if (m->state != SG__MS_DOWN) {
    sg__modem_on_timeout(m);
    return;
  }
  if (m->connecting) { /* a TCP bridge that did not answer in time */
    m->st.timeouts++;
    m->info.resets++;
    m->st.reconnects++;
    sg__modem_tcp_close(m);
    sg__modem_timeout(m, m->cfg.reconnect_delay_ms);
    return;
  }
  if (m->poll_closing || m->gai_busy) {
    sg__modem_timeout(m, 10);
    return;
  }
  if (open_device(m) != 0) {
    sg__modem_timeout(m, m->cfg.reconnect_delay_ms);
    return;
  }
  if (m->connecting)
    sg__modem_timeout(m, m->cfg.command_timeout_ms);
  else
    sg__modem_opened(m);
}

/* The device is open (a TCP bridge: connected); initialisation starts. */
void sg__modem_opened(sg__modem_t *m) {
  sg__modem_set_state(m, SG__MS_INIT, "initialising");
  sg__modem_on_open(m);
}

static void kick_cb(uv_timer_t *t) {
  sg__modem_dispatch(t->data);
}

void sg__modem_kick(sg__modem_t *m) {
  sg__modem_kick_after(m, 0);
}

void sg__modem_kick_after(sg__modem_t *m, uint64_t ms) {
  if (!m->stopping)
    uv_timer_start(&m->kick, kick_cb, ms, 0);
}

/* Keepalive, and messages the owner could not store read again. */
static void idle_cb(uv_timer_t *t) {
  sg__modem_t *m = t->data;
  while (m->n_rereads > 0 && m->n_reads < SG__MODEM_READS_MAX)
    m->reads[m->n_reads++] = m->rereads[--m->n_rereads];
  if (m->state == SG__MS_READY && m->cmd == SG__MC_NONE &&
      m->cfg.keepalive_ms > 0) {
    m->cmd = SG__MC_CSQ;
    sg_at_reader_expect(&m->rd, NULL);
    sg__modem_write(m, "AT+CSQ\r", 7);
    sg__modem_timeout(m, m->cfg.command_timeout_ms);
    return;
  }
  sg__modem_kick(m);
}

/* ---- Parts --------------------------------------------------------------- */

void sg__modem_result(sg__modem_t *m, sg_conn_outcome_t o, int status,
                      const char *smsc_id) {
  if (m->q_len == 0)
    return;
  sg__mpart_t *mp = &m->q[m->q_head];
  sg_conn_result_t r;
  memset(&r, 0, sizeof r);
  r.id = mp->p.id;
  r.outcome = o;
  r.status = status > 0 ? (uint32_t)status : 0;
  r.status_text = status > 0 ? sg_modem_cms_text(status) : NULL;
  /* Every AT+CMGS whose PDU was written counts, this one too. */
  r.attempts = mp->attempts + mp->unknowns + (m->sending && m->prompted);
  if (smsc_id != NULL)
    strncpy(r.smsc_id, smsc_id, sizeof r.smsc_id - 1);
  m->q_head = (m->q_head + 1) % m->cfg.queue_max;
  m->q_len--;
  m->sending = false;
  m->prompted = false;
  if (o == SG_CONN_SENT)
    m->st.sent_ok++;
  m->base.cb.result_cb(&m->base, m->base.owner, &r);
  if (m->said_busy && !m->stopping && m->q_len < m->cfg.queue_max) {
    m->said_busy = false;
    if (m->base.cb.ready_cb != NULL)
      m->base.cb.ready_cb(&m->base, m->base.owner);
  }
}

size_t sg__modem_take_back(sg__modem_t *m, sg__mpart_t *out, size_t cap) {
  size_t n = 0, kept = 0, len = m->q_len, qmax = m->cfg.queue_max;
  if (m->sending)
    return 0;
  for (size_t i = 0; i < len; i++) {
    sg__mpart_t *mp = &m->q[(m->q_head + i) % qmax];
    if (mp->unknowns == 0 && n < cap) {
      out[n] = *mp;
      out[n].p.udh = out[n].udh;
      out[n].p.ud = out[n].ud;
      n++;
    } else {
      m->q[(m->q_head + kept) % qmax] = *mp;
      m->q[(m->q_head + kept) % qmax].p.udh = m->q[(m->q_head + kept) % qmax].udh;
      m->q[(m->q_head + kept) % qmax].p.ud = m->q[(m->q_head + kept) % qmax].ud;
      kept++;
    }
  }
  m->q_len = kept;
  return n;
}

static int modem_submit(sg_connector_t *c, const sg_conn_part_t *part) {
  sg__modem_t *m = (sg__modem_t *)c;
  if (m->stopping)
    return SG_ESTATE;
  if (part->ud_len > sizeof m->q[0].ud || part->udh_len > SG_TPDU_UD_MAX ||
      (part->udh_len > 0 && part->udh == NULL) ||
      (part->ud_len > 0 && part->ud == NULL))
    return SG_EINVAL;
  if (m->q_len >= m->cfg.queue_max) {
    m->said_busy = true;
    return SG_EBUSY;
  }
  sg__mpart_t *mp = &m->q[(m->q_head + m->q_len) % m->cfg.queue_max];
  memset(mp, 0, sizeof *mp);
  mp->p = *part;
  if (part->udh_len > 0)
    memcpy(mp->udh, part->udh, part->udh_len);
  if (part->ud_len > 0)
    memcpy(mp->ud, part->ud, part->ud_len);
  mp->p.udh = mp->udh;
  mp->p.ud = mp->ud;
  m->q_len++;
  sg__modem_kick(m);
  return 0;
}

/* ---- Connector operations ------------------------------------------------ */

static int modem_start(sg_connector_t *c) {
  sg__modem_t *m = (sg__modem_t *)c;
  if (m->stopping)
    return SG_ESTATE;
  if (m->cfg.keepalive_ms > 0)
    uv_timer_start(&m->idle, idle_cb, m->cfg.keepalive_ms, m->cfg.keepalive_ms);
  else
    uv_timer_start(&m->idle, idle_cb, 1000, 1000);
  sg__modem_timeout(m, 0);
  return 0;
}

static void modem_ack(sg_connector_t *c, uint64_t token, bool accepted) {
  sg__modem_ack((sg__modem_t *)c, token, accepted);
}

static void modem_pause(sg_connector_t *c, bool paused) {
  sg__modem_t *m = (sg__modem_t *)c;
  m->paused = paused;
  if (!paused)
    sg__modem_kick(m);
}

static void modem_stop(sg_connector_t *c,
                       void (*stopped_cb)(sg_connector_t *)) {
  sg__modem_t *m = (sg__modem_t *)c;
  if (m->stopping)
    return;
  while (m->q_len > 0) {
    bool in_flight = m->sending && m->prompted;
    sg__modem_result(m, in_flight ? SG_CONN_UNKNOWN : SG_CONN_TEMPFAIL, 0,
                     NULL);
  }
  m->stopping = true;
  m->stopped_cb = stopped_cb;
  close_device(m);
  uv_close((uv_handle_t *)&m->timer, handle_closed);
  uv_close((uv_handle_t *)&m->kick, handle_closed);
  uv_close((uv_handle_t *)&m->idle, handle_closed);
}

static void modem_stats(const sg_connector_t *c, sg_conn_stats_t *out) {
  const sg__modem_t *m = (const sg__modem_t *)c;
  *out = m->st;
  out->state = m->stopping                ? SG_CONN_STOPPED
               : m->paused                ? SG_CONN_PAUSED
               : m->state == SG__MS_READY ? SG_CONN_UP
               : m->state == SG__MS_INIT  ? SG_CONN_CONNECTING
                                          : SG_CONN_DOWN;
  out->binds_total = 1;
  out->binds_up = m->state == SG__MS_READY;
  out->window_used = m->sending;
  out->queued = (unsigned)m->q_len;
}

static size_t modem_links(const sg_connector_t *c, sg_conn_link_t *out,
                          size_t cap) {
  if (cap == 0)
    return 0;
  sg__modem_link((const sg__modem_t *)c, out);
  return 1;
}

static void modem_free(sg_connector_t *c) {
  sg__modem_t *m = (sg__modem_t *)c;
  sg_free(m->device);
  sg_free(m->tcp_host);
  sg_free(m->pin);
  sg_free(m->smsc);
  sg_free(m->q);
  sg_free(m->waiting);
  sg_free(m);
}

static const sg_connector_ops_t modem_ops = {
    .type = "modem",
    .start = modem_start,
    .submit = modem_submit,
    .ack = modem_ack,
    .pause = modem_pause,
    .stop = modem_stop,
    .stats = modem_stats,
    .free = modem_free,
    .links = modem_links,
};

void sg__modem_link(const sg__modem_t *m, sg_conn_link_t *out) {
  memset(out, 0, sizeof *out);
  snprintf(out->name, sizeof out->name, "%s", m->device);
  out->state = m->state == SG__MS_READY  ? SG_CONN_UP
               : m->state == SG__MS_INIT ? SG_CONN_CONNECTING
                                         : SG_CONN_DOWN;
  out->healthy = m->state == SG__MS_READY;
  out->signal_rssi = m->info.csq_rssi;
  out->signal_dbm = m->info.csq_rssi >= 0 && m->info.csq_rssi <= 31
                        ? -113 + 2 * m->info.csq_rssi
                        : 0;
  out->registered = m->registered;
  out->reg_stat = m->reg_eps && !m->reg_cs ? m->info.cereg_stat
                  : m->info.creg_stat >= 0 ? m->info.creg_stat
                                           : m->info.cereg_stat;
  snprintf(out->operator_, sizeof out->operator_, "%s", m->info.operator_);
  out->queued = (unsigned)m->q_len;
  out->sent = m->st.sent_ok;
  out->received = m->st.inbound_received + m->st.dlr_received;
  out->errors = m->info.cms_errors + m->st.timeouts;
  out->resets = m->info.resets;
}

void sg_modem_info(const sg_connector_t *c, sg_modem_info_t *out) {
  if (sg__modem_is_pool(c))
    c = sg__modem_pool_member(c, 0);
  *out = ((const sg__modem_t *)c)->info;
}

int sg_modem_restore(sg_connector_t *c, const char *smsc_id) {
  if (!sg__modem_is_pool(c))
    return sg__modem_restore((sg__modem_t *)c, smsc_id);
  int rc = 0;
  for (size_t i = 0; rc == 0 && sg__modem_pool_member(c, i) != NULL; i++)
    rc = sg__modem_restore((sg__modem_t *)sg__modem_pool_member(c, i),
                           smsc_id);
  return rc;
}

static char *dup_or_null(const char *s, bool *failed) {
  if (s == NULL)
    return NULL;
  char *d = sg_strdup(s);
  if (d == NULL)
    *failed = true;
  return d;
}

int sg_modem_new(uv_loop_t *loop, const sg_modem_config_t *cfg,
                 const sg_conn_callbacks_t *cbs, void *owner,
                 sg_connector_t **out) {
  if (cfg != NULL && cfg->n_devices > 1)
    return sg__modem_pool_new(loop, cfg, cbs, owner, out);
  const char *dev = cfg == NULL            ? NULL
                    : cfg->n_devices == 1 ? cfg->devices[0]
                                           : cfg->device;
  char *host = NULL, port[8] = "";
  bool tcp = dev != NULL && strncmp(dev, "tcp://", 6) == 0;
  if (cfg == NULL || dev == NULL || (dev[0] != '/' && !tcp) ||
      speed_of(cfg->speed) == B0 || cbs == NULL || cbs->result_cb == NULL ||
      cfg->queue_max == 0)
    return SG_EINVAL;
  if (tcp) {
    int rc = sg__modem_tcp_parse(dev, &host, port);
    if (rc != 0)
      return rc;
  }
  sg__modem_t *m = sg_calloc(1, sizeof *m);
  if (m == NULL) {
    sg_free(host);
    return SG_ENOMEM;
  }
  bool failed = false;
  m->cfg = *cfg;
  m->cfg.devices = NULL;
  m->cfg.n_devices = 0;
  m->is_tcp = tcp;
  m->tcp_host = host;
  memcpy(m->tcp_port, port, sizeof port);
  m->device = dup_or_null(dev, &failed);
  m->pin = dup_or_null(cfg->pin, &failed);
  m->smsc = dup_or_null(cfg->smsc, &failed);
  m->q = sg_calloc(cfg->queue_max, sizeof *m->q);
  m->waiting = sg_calloc(SG__MODEM_WAITING_MAX, sizeof *m->waiting);
  if (failed || m->q == NULL || m->waiting == NULL) {
    modem_free(&m->base);
    return SG_ENOMEM;
  }
  m->base.ops = &modem_ops;
  strncpy(m->base.name, cfg->name != NULL ? cfg->name : "modem",
          sizeof m->base.name - 1);
  m->base.cb = *cbs;
  m->base.owner = owner;
  m->loop = loop;
  m->fd = -1;
  m->info.csq_rssi = m->info.creg_stat = m->info.cereg_stat = -1;
  uv_timer_init(loop, &m->timer);
  uv_timer_init(loop, &m->kick);
  uv_timer_init(loop, &m->idle);
  m->timer.data = m->kick.data = m->idle.data = m;
  m->handles_open = 3;
  *out = &m->base;
  return 0;
}
