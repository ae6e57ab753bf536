/* smpp_link_int.h - the inside of sg_smpp_link_t, shared by smpp_link.c
 * (socket, session, timers), smpp_link_connect.c (name resolution and TCP
 * connect) and smpp_link_tls.c (OpenSSL over memory BIOs). Internal to
 * src/connector: nothing else may include it. */
#ifndef SG_CONNECTOR_SMPP_LINK_INT_H
#define SG_CONNECTOR_SMPP_LINK_INT_H

#include <openssl/ssl.h>

#include "connector/smpp_link.h"

/* Life of a link; the order matters (comparisons). */
typedef enum sg__link_state {
  SG__LINK_RESOLVING = 0, /* connect: getaddrinfo running */
  SG__LINK_CONNECTING,    /* connect: TCP connect running */
  SG__LINK_HANDSHAKE,     /* TLS handshake (or an accepted plain link whose
                             connected_cb is still to come) */
  SG__LINK_UP,            /* connected_cb fired; octets flow */
  SG__LINK_DRAINING,      /* session closed; writing what remains */
  SG__LINK_CLOSING,       /* handles closing */
  SG__LINK_CLOSED         /* closed_cb fired */
} sg__link_state_t;

struct sg_smpp_link {
  uv_loop_t *loop;
  uv_tcp_t tcp;
  uv_timer_t timer;     /* the session's next deadline */
  uv_timer_t guard;     /* connect timeout, then close linger */
  uv_prepare_t prepare; /* the once-per-iteration flush after a kick */
  uv_getaddrinfo_t gai;
  uv_connect_t creq;
  uv_write_t wreq; /* the one outstanding write */
  uv_shutdown_t sreq; /* the FIN of a lingering close */
  sg_smpp_session_t *session;
  sg_smpp_link_config_t cfg; /* tls and tls_server_name cleared */
  sg_smpp_link_callbacks_t cb;
  void *user;
  char *host;
  uint16_t port;

  sg__link_state_t state;
  int reason; /* closed_cb's reason: the session's CLOSED error */
  int connect_error;
  int handles_open;
  bool tcp_open; /* handles initialised and not closed */
  bool gai_pending;
  bool kicked;          /* prepare handle started */
  bool connect_pending; /* accepted plain link: connected_cb at next prepare */
  bool read_allowed;
  bool reading;
  bool writable;
  bool session_closed;
  bool abort;       /* close without writing what remains */
  bool reset;  /* and close the socket with a TCP reset (RST) */
  bool frozen; /* neither read nor write any more (sg_smpp_link_freeze) */
  bool eof;    /* the peer shut its side */
  bool shut;   /* our FIN sent: reading to the peer's EOF, discarding */
  uint64_t armed;   /* deadline the timer runs for */
  size_t write_len; /* octets of the outstanding uv_write, 0 if none */

  uint8_t *rbuf; /* socket reads land here */
  size_t rcap;

  /* TLS (smpp_link_tls.c); tls NULL for plain TCP. */
  SSL *tls;
  BIO *rbio; /* network -> SSL */
  BIO *wbio; /* SSL -> network */
  bool tls_server;
  bool tls_shutdown_sent;
  uint8_t *pbuf; /* plaintext read from SSL */
  size_t pcap;
  uint8_t *cbuf; /* ciphertext being written */
  size_t ccap, coff, clen;

  sg_smpp_link_stats_t st;
};

/* smpp_link.c */
int sg__link_new(uv_loop_t *loop, const sg_smpp_link_config_t *cfg,
                 const sg_smpp_link_callbacks_t *cbs, void *user,
                 sg_smpp_link_t **out);
int sg__link_init_handles(sg_smpp_link_t *l);
void sg__link_abandon(sg_smpp_link_t *l);
void sg__link_start_guard(sg_smpp_link_t *l);
void sg__link_connected(sg_smpp_link_t *l);
void sg__link_fail(sg_smpp_link_t *l, int reason);
void sg__link_drain(sg_smpp_link_t *l);
void sg__link_gai_done(sg_smpp_link_t *l);
void sg__link_start_reading(sg_smpp_link_t *l);
void sg__link_input(sg_smpp_link_t *l, const uint8_t *data, size_t n);
long sg__link_write(sg_smpp_link_t *l, const uint8_t *buf, size_t n);

/* smpp_link_tls.c */
sg_smpp_link_tls_role_t sg__link_tls_role(const sg_smpp_link_tls_t *tls);
int sg__link_tls_attach(sg_smpp_link_t *l, sg_smpp_link_tls_t *tls,
                        const char *server_name);
void sg__link_tls_detach(sg_smpp_link_t *l);
void sg__link_tls_start(sg_smpp_link_t *l);
void sg__link_tls_input(sg_smpp_link_t *l, const uint8_t *data, size_t n);
void sg__link_tls_flush(sg_smpp_link_t *l);
void sg__link_tls_written(sg_smpp_link_t *l, size_t n);
size_t sg__link_tls_pending(const sg_smpp_link_t *l);
/* Queues close_notify and writes it; returns > 0 when a write is
 * outstanding, 0 when nothing is left to write. */
int sg__link_tls_shutdown(sg_smpp_link_t *l);

#endif
