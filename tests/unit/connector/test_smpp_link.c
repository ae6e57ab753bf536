/* test_smpp_link.c - the SMPP link over real loopback TCP: an ESME link
 * (esme_client.h) against a small SMSC made of accepted links, and against
 * raw sockets that misbehave (silent, not reading, sending garbage). TLS
 * with a certificate made here, at run time. */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "sim/esme_client.h"
#include "sim/test_cert.h"

/* ---- A small SMSC of accepted links -------------------------------------- */

typedef struct smsc {
  uv_loop_t *loop;
  uv_tcp_t listener;
  uint16_t port;
  sg_smpp_link_config_t cfg;
  sg_smpp_link_t *links[8];
  int n_links, n_closed;
  int last_reason;
  uint64_t requests;
  bool abort_on_request; /* drop the connection at the first request */
} smsc_t;

static void smsc_event_cb(sg_smpp_link_t *l, const sg_smpp_event_t *ev,
                          void *user) {
  smsc_t *m = user;
  sg_smpp_session_t *s = sg_smpp_link_session(l);
  if (ev->type == SG_SMPP_EV_BIND_REQUEST) {
    sg_smpp_session_accept_bind(s, "smsc", sg_smpp_link_now(l));
  } else if (ev->type == SG_SMPP_EV_REQUEST) {
    m->requests++;
    if (m->abort_on_request) {
      sg_smpp_link_abort(l, SG_ECLOSED);
      return;
    }
    sg_smpp_pdu_t resp;
    sg_smpp_pdu_init(&resp, sg_smpp_response_id(ev->command_id),
                     ev->sequence_number);
    snprintf(resp.body.submit_sm_resp.message_id, 65, "m%u",
             ev->sequence_number);
    sg_smpp_link_respond(l, &resp);
  }
}

static void smsc_closed_cb(sg_smpp_link_t *l, int reason, void *user) {
  smsc_t *m = user;
  m->n_closed++;
  m->last_reason = reason;
  for (int i = 0; i < m->n_links; i++)
    if (m->links[i] == l)
      m->links[i] = NULL;
  sg_smpp_link_free(l);
}

static void smsc_connection_cb(uv_stream_t *server, int status) {
  smsc_t *m = server->data;
  assert_int_equal(status, 0);
  sg_smpp_link_callbacks_t cbs = {.event_cb = smsc_event_cb,
                                  .closed_cb = smsc_closed_cb};
  assert_true(m->n_links < 8);
  assert_int_equal(
      sg_smpp_link_accept(server, &m->cfg, &cbs, m, &m->links[m->n_links]), 0);
  m->n_links++;
}

static uint16_t listen_any(uv_loop_t *loop, uv_tcp_t *t, uv_connection_cb cb,
                           void *data) {
  struct sockaddr_in a;
  uv_ip4_addr("127.0.0.1", 0, &a);
  assert_int_equal(uv_tcp_init(loop, t), 0);
  t->data = data;
  assert_int_equal(uv_tcp_bind(t, (const struct sockaddr *)&a, 0), 0);
  assert_int_equal(uv_listen((uv_stream_t *)t, 16, cb), 0);
  int len = sizeof a;
  uv_tcp_getsockname(t, (struct sockaddr *)&a, &len);
  return ntohs(a.sin_port);
}

static void smsc_start(smsc_t *m, uv_loop_t *loop, sg_smpp_link_tls_t *tls) {
  memset(m, 0, sizeof *m);
  m->loop = loop;
  sg_smpp_link_config_default(&m->cfg);
  m->cfg.role = SG_SMPP_ROLE_SMSC;
  m->cfg.session.window = 100;
  m->cfg.tls = tls;
  m->port = listen_any(loop, &m->listener, smsc_connection_cb, m);
}

static void smsc_stop(smsc_t *m) {
  for (int i = 0; i < m->n_links; i++)
    if (m->links[i] != NULL)
      sg_smpp_link_abort(m->links[i], SG_ECLOSED);
  uv_close((uv_handle_t *)&m->listener, NULL);
  assert_true(TC_RUN_UNTIL(m->loop, m->n_closed == m->n_links, 3000));
}

/* ---- A raw peer ---------------------------------------------------------- */

enum { RAW_SILENT, RAW_BIND_THEN_STALL, RAW_GARBAGE };

typedef struct raw {
  uv_tcp_t listener, conn;
  int mode;
  bool accepted;
  uint8_t in[4096];
  size_t in_len;
  uv_write_t wreq;
  uint8_t out[32];
} raw_t;

static void raw_alloc(uv_handle_t *h, size_t hint, uv_buf_t *b) {
  raw_t *r = h->data;
  (void)hint;
  *b = uv_buf_init((char *)r->in + r->in_len,
                   (unsigned)(sizeof r->in - r->in_len));
}

static void put32(uint8_t *p, uint32_t v) {
  p[0] = (uint8_t)(v >> 24), p[1] = (uint8_t)(v >> 16);
  p[2] = (uint8_t)(v >> 8), p[3] = (uint8_t)v;
}

static uint32_t get32(const uint8_t *p) {
  return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 |
         p[3];
}

static void raw_write(raw_t *r, size_t n) {
  uv_buf_t b = uv_buf_init((char *)r->out, (unsigned)n);
  assert_int_equal(uv_write(&r->wreq, (uv_stream_t *)&r->conn, &b, 1, NULL), 0);
}

static void raw_read(uv_stream_t *s, ssize_t n, const uv_buf_t *b) {
  raw_t *r = s->data;
  (void)b;
  if (n <= 0) {
    if (n < 0)
      uv_read_stop(s);
    return;
  }
  r->in_len += (size_t)n;
  if (r->mode == RAW_BIND_THEN_STALL && r->in_len >= 16 &&
      r->in_len >= get32(r->in)) {
    /* bind_transceiver_resp, ESME_ROK, system_id "" (section 4.1.6) */
    put32(r->out, 17);
    put32(r->out + 4, 0x80000009u);
    put32(r->out + 8, 0);
    memcpy(r->out + 12, r->in + 12, 4);
    r->out[16] = 0;
    raw_write(r, 17);
    uv_read_stop(s); /* and never read again */
  }
}

static void raw_connection(uv_stream_t *server, int status) {
  raw_t *r = server->data;
  (void)status;
  uv_tcp_init(server->loop, &r->conn);
  r->conn.data = r;
  assert_int_equal(uv_accept(server, (uv_stream_t *)&r->conn), 0);
  r->accepted = true;
  if (r->mode == RAW_SILENT)
    return;
  if (r->mode == RAW_GARBAGE) {
    /* A header whose command_length (0x7FFFFFFF) no PDU may have. */
    put32(r->out, 0x7FFFFFFFu);
    put32(r->out + 4, 0x00000004u);
    put32(r->out + 8, 0);
    put32(r->out + 12, 1);
    raw_write(r, 16);
  }
  uv_read_start((uv_stream_t *)&r->conn, raw_alloc, raw_read);
}

static uint16_t raw_start(raw_t *r, uv_loop_t *loop, int mode) {
  memset(r, 0, sizeof *r);
  r->mode = mode;
  return listen_any(loop, &r->listener, raw_connection, r);
}

static void raw_stop(raw_t *r, uv_loop_t *loop) {
  uv_close((uv_handle_t *)&r->listener, NULL);
  if (r->accepted)
    uv_close((uv_handle_t *)&r->conn, NULL);
  uv_run(loop, UV_RUN_NOWAIT);
}

/* ---- Fixture ------------------------------------------------------------- */

typedef struct fx {
  uv_loop_t loop;
  tc_t c;
  smsc_t m;
  sg_smpp_pdu_t pdu;
} fx_t;

static fx_t *new_fx(void) {
  fx_t *f = calloc(1, sizeof *f);
  assert_non_null(f);
  assert_int_equal(uv_loop_init(&f->loop), 0);
  return f;
}

static void finish(fx_t *f) {
  if (f->c.link != NULL) {
    if (!f->c.closed)
      sg_smpp_link_abort(f->c.link, SG_ECLOSED);
    assert_true(TC_RUN_UNTIL(&f->loop, f->c.closed, 3000));
    assert_int_equal(f->c.closed_events, 1);
    sg_smpp_link_free(f->c.link);
  }
  uv_run(&f->loop, UV_RUN_NOWAIT);
  assert_int_equal(uv_loop_close(&f->loop), 0);
  free(f);
}

static void send_submit(fx_t *f) {
  tc_submit_sm(&f->pdu, "1", "2", 0, 0, 0, "x", 1);
  assert_true(sg_smpp_link_send(f->c.link, &f->pdu, NULL) > 0);
}

/* ---- Plain TCP
 * --------------------------------------------------------------- */

static void test_bind_submit_and_coalesced_writes(void **state) {
  (void)state;
  fx_t *f = new_fx();
  smsc_start(&f->m, &f->loop, NULL);
  assert_int_equal(tc_connect(&f->c, &f->loop, "localhost", f->m.port, NULL),
                   0);
  assert_int_equal(tc_bind(&f->c, SG_SMPP_BIND_TRX, "esme", "pw"), 0);
  assert_true(TC_RUN_UNTIL(&f->loop, f->c.bound, 3000));
  assert_true(f->c.connected);
  assert_true(sg_smpp_link_is_up(f->c.link));
  char peer[64], want[64];
  snprintf(want, sizeof want, "127.0.0.1:%u", (unsigned)f->m.port);
  assert_string_equal(sg_smpp_link_peer(f->c.link, peer, sizeof peer), want);
  sg_smpp_link_stats_t before, after;
  sg_smpp_link_stats(f->c.link, &before);
  for (int i = 0; i < 100; i++)
    send_submit(f);
  assert_true(TC_RUN_UNTIL(&f->loop, f->c.n_resp == 100, 3000));
  assert_int_equal(f->c.n_ok, 100);
  assert_string_equal(f->c.ids[0], "m2"); /* the bind was sequence 1 */
  sg_smpp_link_stats(f->c.link, &after);
  /* 100 PDUs made outside any callback leave in one flush. */
  assert_int_equal(after.flushes - before.flushes, 1);
  assert_true(after.writes - before.writes <= 2);
  assert_true(after.bytes_out - before.bytes_out >= 100 * 35);
  smsc_stop(&f->m);
  finish(f);
}

static void test_unbind_closes_both_with_zero(void **state) {
  (void)state;
  fx_t *f = new_fx();
  smsc_start(&f->m, &f->loop, NULL);
  assert_int_equal(tc_connect(&f->c, &f->loop, "127.0.0.1", f->m.port, NULL),
                   0);
  tc_bind(&f->c, SG_SMPP_BIND_TX, "esme", "");
  assert_true(TC_RUN_UNTIL(&f->loop, f->c.bound, 3000));
  sg_smpp_session_t *s = sg_smpp_link_session(f->c.link);
  assert_int_equal(sg_smpp_session_unbind(s, sg_smpp_link_now(f->c.link)), 0);
  sg_smpp_link_kick(f->c.link);
  assert_true(TC_RUN_UNTIL(&f->loop, f->c.closed && f->m.n_closed == 1, 3000));
  assert_int_equal(f->c.close_reason, 0);
  assert_int_equal(f->m.last_reason, 0);
  assert_false(sg_smpp_link_writable(f->c.link));
  assert_int_equal(sg_smpp_link_send(f->c.link, &f->pdu, NULL), SG_ESTATE);
  smsc_stop(&f->m);
  finish(f);
}

/* The peer drops the connection with requests in flight: each gets
 * NO_RESPONSE, then the link closes with SG_ECLOSED. */
static void test_peer_drop_reports_in_flight(void **state) {
  (void)state;
  fx_t *f = new_fx();
  smsc_start(&f->m, &f->loop, NULL);
  f->m.abort_on_request = true;
  assert_int_equal(tc_connect(&f->c, &f->loop, "127.0.0.1", f->m.port, NULL),
                   0);
  tc_bind(&f->c, SG_SMPP_BIND_TRX, "esme", "");
  assert_true(TC_RUN_UNTIL(&f->loop, f->c.bound, 3000));
  for (int i = 0; i < 3; i++)
    send_submit(f);
  assert_true(TC_RUN_UNTIL(&f->loop, f->c.closed, 3000));
  assert_int_equal(f->c.close_reason, SG_ECLOSED);
  assert_int_equal(f->c.n_no_resp, 3);
  assert_int_equal(f->c.n_resp, 0);
  smsc_stop(&f->m);
  finish(f);
}

static void test_connect_refused(void **state) {
  (void)state;
  fx_t *f = new_fx();
  uv_tcp_t t;
  uint16_t port = listen_any(&f->loop, &t, NULL, NULL);
  uv_close((uv_handle_t *)&t, NULL); /* now nothing listens there */
  uv_run(&f->loop, UV_RUN_NOWAIT);
  assert_int_equal(tc_connect(&f->c, &f->loop, "127.0.0.1", port, NULL), 0);
  tc_bind(&f->c, SG_SMPP_BIND_TRX, "esme", ""); /* waits for the connect */
  assert_true(TC_RUN_UNTIL(&f->loop, f->c.closed, 3000));
  assert_false(f->c.connected);
  assert_int_equal(f->c.close_reason, SG_EIO);
  finish(f);
}

static void test_bad_arguments(void **state) {
  (void)state;
  uv_loop_t loop;
  uv_loop_init(&loop);
  sg_smpp_link_config_t c;
  sg_smpp_link_config_default(&c);
  sg_smpp_link_callbacks_t cbs = {.event_cb = tc_event_cb,
                                  .closed_cb = tc_closed_cb};
  sg_smpp_link_t *l = NULL;
  tc_t t;
  assert_int_equal(
      sg_smpp_link_connect(&loop, "127.0.0.1", 0, &c, &cbs, &t, &l), SG_EINVAL);
  assert_int_equal(sg_smpp_link_connect(&loop, "", 2775, &c, &cbs, &t, &l),
                   SG_EINVAL);
  sg_smpp_link_callbacks_t none = {.event_cb = tc_event_cb};
  assert_int_equal(
      sg_smpp_link_connect(&loop, "127.0.0.1", 2775, &c, &none, &t, &l),
      SG_EINVAL);
  c.session.window = 0; /* refused by the session */
  assert_int_equal(
      sg_smpp_link_connect(&loop, "127.0.0.1", 2775, &c, &cbs, &t, &l),
      SG_EINVAL);
  assert_null(l);
  uv_run(&loop, UV_RUN_NOWAIT);
  assert_int_equal(uv_loop_close(&loop), 0);
}

/* A peer that takes the bind and then never reads again: the writes pile
 * up until the link reports it is not writable. */
static void test_back_pressure(void **state) {
  (void)state;
  fx_t *f = new_fx();
  raw_t r;
  uint16_t port = raw_start(&r, &f->loop, RAW_BIND_THEN_STALL);
  sg_smpp_link_config_t c;
  sg_smpp_link_config_default(&c);
  c.session.window = 8192;
  c.write_high_water = 256 * 1024;
  c.write_low_water = 64 * 1024;
  assert_int_equal(tc_connect(&f->c, &f->loop, "127.0.0.1", port, &c), 0);
  tc_bind(&f->c, SG_SMPP_BIND_TRX, "esme", "");
  assert_true(TC_RUN_UNTIL(&f->loop, f->c.bound, 3000));
  static uint8_t payload[60000];
  memset(payload, 'p', sizeof payload);
  int sent = 0;
  while (!f->c.writable_false_seen && sent < 2000) {
    sg_smpp_pdu_init(&f->pdu, SG_SMPP_DATA_SM, 0);
    snprintf(f->pdu.body.data_sm.destination_addr, 65, "%s", "1");
    sg_smpp_tlv_set_bytes(&f->pdu, SG_SMPP_TLV_MESSAGE_PAYLOAD, payload,
                          sizeof payload);
    assert_true(sg_smpp_link_send(f->c.link, &f->pdu, NULL) > 0);
    sent++;
    if (sent % 8 == 0)
      uv_run(&f->loop, UV_RUN_NOWAIT);
  }
  assert_true(f->c.writable_false_seen);
  assert_false(sg_smpp_link_writable(f->c.link));
  assert_true(sg_smpp_link_write_pending(f->c.link) > c.write_high_water);
  sg_smpp_link_stats_t st;
  sg_smpp_link_stats(f->c.link, &st);
  assert_int_equal(st.read_pauses, 1);
  sg_smpp_link_abort(f->c.link, SG_ECLOSED);
  assert_true(TC_RUN_UNTIL(&f->loop, f->c.closed, 3000));
  raw_stop(&r, &f->loop);
  finish(f);
}

/* A command_length no PDU may have: the session answers generic_nack
 * ESME_RINVCMDLEN and closes; the link still writes that answer out
 * before closing the socket. */
static void test_garbage_is_nacked_then_closed(void **state) {
  (void)state;
  fx_t *f = new_fx();
  raw_t r;
  uint16_t port = raw_start(&r, &f->loop, RAW_GARBAGE);
  assert_int_equal(tc_connect(&f->c, &f->loop, "127.0.0.1", port, NULL), 0);
  assert_true(TC_RUN_UNTIL(&f->loop, f->c.closed, 3000));
  assert_int_equal(f->c.close_reason, SG_ERANGE);
  assert_true(TC_RUN_UNTIL(&f->loop, r.in_len >= 16, 3000));
  assert_int_equal(get32(r.in), 16);
  assert_int_equal(get32(r.in + 4), 0x80000000u); /* generic_nack */
  assert_int_equal(get32(r.in + 8), 0x00000002u); /* ESME_RINVCMDLEN */
  raw_stop(&r, &f->loop);
  finish(f);
}

/* ---- TLS
 * --------------------------------------------------------------------- */

static char cert_path[64], key_path[64], key2_path[64];

static int tls_setup(void **state) {
  (void)state;
  snprintf(cert_path, sizeof cert_path, "/tmp/sg-link-%d.crt", (int)getpid());
  snprintf(key_path, sizeof key_path, "/tmp/sg-link-%d.key", (int)getpid());
  snprintf(key2_path, sizeof key2_path, "/tmp/sg-link-%d-2.key", (int)getpid());
  tc_write_key_cert(key_path, cert_path);
  tc_write_key_cert(key2_path, NULL);
  return 0;
}

static int tls_teardown(void **state) {
  (void)state;
  unlink(cert_path);
  unlink(key_path);
  unlink(key2_path);
  return 0;
}

static sg_smpp_link_tls_t *server_tls(void) {
  sg_smpp_link_tls_opts_t o;
  sg_smpp_link_tls_opts_default(&o);
  o.role = SG_SMPP_LINK_TLS_SERVER;
  o.cert_file = cert_path;
  o.key_file = key_path;
  sg_smpp_link_tls_t *t = NULL;
  assert_int_equal(sg_smpp_link_tls_new(&o, &t, NULL, 0), 0);
  return t;
}

static sg_smpp_link_tls_t *client_tls(const char *ca, bool verify) {
  sg_smpp_link_tls_opts_t o;
  sg_smpp_link_tls_opts_default(&o);
  o.ca_file = ca;
  o.verify = verify;
  sg_smpp_link_tls_t *t = NULL;
  assert_int_equal(sg_smpp_link_tls_new(&o, &t, NULL, 0), 0);
  return t;
}

/* Connects through TLS to f->m and returns whether it bound. */
static bool tls_try(fx_t *f, sg_smpp_link_tls_t *ctls, const char *name) {
  sg_smpp_link_config_t c;
  sg_smpp_link_config_default(&c);
  c.session.window = 100;
  c.tls = ctls;
  c.tls_server_name = name;
  assert_int_equal(tc_connect(&f->c, &f->loop, "127.0.0.1", f->m.port, &c), 0);
  tc_bind(&f->c, SG_SMPP_BIND_TRX, "esme", "");
  TC_RUN_UNTIL(&f->loop, f->c.bound || f->c.closed, 5000);
  return f->c.bound;
}

static void test_tls_verified_bind_and_submit(void **state) {
  (void)state;
  fx_t *f = new_fx();
  sg_smpp_link_tls_t *st = server_tls(), *ct = client_tls(cert_path, true);
  smsc_start(&f->m, &f->loop, st);
  assert_true(tls_try(f, ct, "localhost"));
  sg_smpp_link_tls_free(st); /* the links hold their own references */
  sg_smpp_link_tls_free(ct);
  for (int i = 0; i < 50; i++)
    send_submit(f);
  assert_true(TC_RUN_UNTIL(&f->loop, f->c.n_ok == 50, 3000));
  /* A polite end: unbind, close_notify, both sides closed with 0. */
  sg_smpp_session_unbind(sg_smpp_link_session(f->c.link),
                         sg_smpp_link_now(f->c.link));
  sg_smpp_link_kick(f->c.link);
  assert_true(TC_RUN_UNTIL(&f->loop, f->c.closed && f->m.n_closed == 1, 3000));
  assert_int_equal(f->c.close_reason, 0);
  smsc_stop(&f->m);
  finish(f);
}

/* Without tls_server_name the host given (an IP) is checked against the
 * certificate's IP SAN. */
static void test_tls_ip_san(void **state) {
  (void)state;
  fx_t *f = new_fx();
  sg_smpp_link_tls_t *st = server_tls(), *ct = client_tls(cert_path, true);
  smsc_start(&f->m, &f->loop, st);
  assert_true(tls_try(f, ct, NULL));
  sg_smpp_link_tls_free(ct);
  sg_smpp_link_tls_free(st);
  smsc_stop(&f->m);
  finish(f);
}

static void test_tls_wrong_name_fails(void **state) {
  (void)state;
  fx_t *f = new_fx();
  sg_smpp_link_tls_t *st = server_tls(), *ct = client_tls(cert_path, true);
  smsc_start(&f->m, &f->loop, st);
  assert_false(tls_try(f, ct, "smsc.example.com"));
  assert_false(f->c.connected);
  assert_int_equal(f->c.close_reason, SG_EIO);
  sg_smpp_link_tls_free(ct);
  sg_smpp_link_tls_free(st);
  smsc_stop(&f->m);
  finish(f);
}

/* The system's CAs do not know the certificate; verify=false accepts it. */
static void test_tls_untrusted_then_unverified(void **state) {
  (void)state;
  fx_t *f = new_fx();
  sg_smpp_link_tls_t *st = server_tls(), *ct = client_tls(NULL, true);
  smsc_start(&f->m, &f->loop, st);
  assert_false(tls_try(f, ct, "localhost"));
  assert_int_equal(f->c.close_reason, SG_EIO);
  sg_smpp_link_free(f->c.link);
  sg_smpp_link_tls_free(ct);
  ct = client_tls(NULL, false);
  assert_true(tls_try(f, ct, "localhost"));
  sg_smpp_link_tls_free(ct);
  sg_smpp_link_tls_free(st);
  smsc_stop(&f->m);
  finish(f);
}

/* A peer that accepts TCP but never answers the handshake. */
static void test_tls_connect_timeout(void **state) {
  (void)state;
  fx_t *f = new_fx();
  raw_t r;
  uint16_t port = raw_start(&r, &f->loop, RAW_SILENT);
  sg_smpp_link_tls_t *ct = client_tls(cert_path, true);
  sg_smpp_link_config_t c;
  sg_smpp_link_config_default(&c);
  c.tls = ct;
  c.connect_timeout_ms = 150;
  assert_int_equal(tc_connect(&f->c, &f->loop, "127.0.0.1", port, &c), 0);
  assert_true(TC_RUN_UNTIL(&f->loop, f->c.closed, 3000));
  assert_false(f->c.connected);
  assert_int_equal(f->c.close_reason, SG_ETIMEDOUT);
  sg_smpp_link_tls_free(ct);
  raw_stop(&r, &f->loop);
  finish(f);
}

static void test_tls_context_errors(void **state) {
  (void)state;
  sg_smpp_link_tls_opts_t o;
  sg_smpp_link_tls_t *t = NULL;
  char err[256];
  sg_smpp_link_tls_opts_default(&o);
  o.role = SG_SMPP_LINK_TLS_SERVER;
  assert_int_equal(sg_smpp_link_tls_new(&o, &t, err, sizeof err), SG_EINVAL);
  o.cert_file = cert_path;
  assert_int_equal(sg_smpp_link_tls_new(&o, &t, err, sizeof err), SG_EINVAL);
  o.key_file = "/nonexistent/key.pem";
  assert_int_equal(sg_smpp_link_tls_new(&o, &t, err, sizeof err), SG_ECONFIG);
  assert_non_null(strstr(err, "/nonexistent/key.pem"));
  o.key_file = key2_path; /* a key of another certificate */
  assert_int_equal(sg_smpp_link_tls_new(&o, &t, err, sizeof err), SG_ECONFIG);
  assert_non_null(strstr(err, "does not match"));
  sg_smpp_link_tls_opts_default(&o);
  o.ca_file = "/nonexistent/ca.pem";
  assert_int_equal(sg_smpp_link_tls_new(&o, &t, err, sizeof err), SG_ECONFIG);
  assert_null(t);
  /* A server context cannot connect, a client one cannot accept. */
  uv_loop_t loop;
  uv_loop_init(&loop);
  sg_smpp_link_config_t c;
  sg_smpp_link_config_default(&c);
  c.tls = server_tls();
  sg_smpp_link_callbacks_t cbs = {.event_cb = tc_event_cb,
                                  .closed_cb = tc_closed_cb};
  sg_smpp_link_t *l = NULL;
  tc_t tc;
  assert_int_equal(
      sg_smpp_link_connect(&loop, "127.0.0.1", 2775, &c, &cbs, &tc, &l),
      SG_EINVAL);
  sg_smpp_link_tls_free(c.tls);
  sg_smpp_link_tls_free(NULL);
  assert_int_equal(uv_loop_close(&loop), 0);
}

int main(void) {
  signal(SIGPIPE, SIG_IGN);
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_bind_submit_and_coalesced_writes),
      cmocka_unit_test(test_unbind_closes_both_with_zero),
      cmocka_unit_test(test_peer_drop_reports_in_flight),
      cmocka_unit_test(test_connect_refused),
      cmocka_unit_test(test_bad_arguments),
      cmocka_unit_test(test_back_pressure),
      cmocka_unit_test(test_garbage_is_nacked_then_closed),
      cmocka_unit_test(test_tls_verified_bind_and_submit),
      cmocka_unit_test(test_tls_ip_san),
      cmocka_unit_test(test_tls_wrong_name_fails),
      cmocka_unit_test(test_tls_untrusted_then_unverified),
      cmocka_unit_test(test_tls_connect_timeout),
      cmocka_unit_test(test_tls_context_errors),
  };
  return cmocka_run_group_tests(tests, tls_setup, tls_teardown);
}
