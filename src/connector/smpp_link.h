/* smpp_link.h - one SMPP session over one TCP connection (optionally TLS),
 * driven by libuv: the transport under smsgate's SMPP client connector, its
 * SMPP server and the SMSC simulator.
 *
 * A link owns a uv_tcp_t, one uv_timer_t, one uv_prepare_t and one
 * sg_smpp_session_t (smpp/session.h). It
 *   - reads from the socket (through TLS when configured) into
 *     sg_smpp_session_input();
 *   - writes the session's output with as few writes as possible: the
 *     output of everything done between two flushes leaves in one write.
 *     A flush happens right after input is handled, after a timer tick, and
 *     once per loop iteration (before the loop waits for I/O) after the
 *     owner has called sg_smpp_link_kick(), sg_smpp_link_send() or
 *     sg_smpp_link_respond(). At most one write is outstanding (plain TCP
 *     tries a synchronous write first and queues a uv_write only for what
 *     the kernel did not take);
 *   - runs one timer for sg_smpp_session_next_deadline() and calls
 *     sg_smpp_session_tick() when it fires;
 *   - passes every session event to the owner (event_cb), and on
 *     SG_SMPP_EV_CLOSED writes what output remains (bounded by
 *     close_linger_ms), closes its handles and then calls closed_cb.
 *
 * Nothing is allocated per PDU or per write: the read buffer (and, with
 * TLS, the plaintext and ciphertext buffers) are allocated with the link;
 * the session grows its own output buffers only past its high-water mark.
 *
 * Back-pressure: when the octets waiting to be written (session output plus
 * TLS records plus the kernel-refused remainder) pass write_high_water, the
 * link stops reading from the peer and reports "not writable" (writable_cb,
 * sg_smpp_link_writable()); below write_low_water it reads again and
 * reports "writable". An owner that sends requests (the SMPP client) should
 * stop sending while the link is not writable; the window of the session
 * bounds it anyway.
 *
 * Time: the session's clock is uv_now() of the loop (milliseconds,
 * monotonic); sg_smpp_link_now() returns it for the owner's session calls.
 *
 * Threading: everything runs on the loop the link was created on; every
 * callback is called from that loop, never from inside the function that
 * created the link.
 *
 * Signals: like any libuv program that writes to sockets, the process must
 * ignore SIGPIPE (signal(SIGPIPE, SIG_IGN)); a write to a connection the
 * peer has reset would otherwise end it. The link reports such a write as
 * a closed connection (SG_EIO).
 *
 * Typical client:
 *
 *   sg_smpp_link_config_default(&cfg);
 *   cfg.session.window = 100;
 *   sg_smpp_link_connect(loop, "smsc.example", 2775, &cfg, &cbs, me, &l);
 *   connected_cb: sg_smpp_session_bind(sg_smpp_link_session(l), ...,
 *                                      sg_smpp_link_now(l));
 *                 sg_smpp_link_kick(l);
 *   event_cb:     BOUND -> start sending with sg_smpp_link_send(l, &pdu, ctx)
 *                 RESPONSE / NO_RESPONSE -> results; send more
 *   closed_cb:    sg_smpp_link_free(l) (or later); reconnect if wanted.
 *
 * Typical server: in the listening socket's connection callback,
 *   sg_smpp_link_accept(server, &cfg, &cbs, me, &l) (SMSC role), then
 *   answer SG_SMPP_EV_BIND_REQUEST with sg_smpp_session_accept_bind() ...
 */
#ifndef SG_CONNECTOR_SMPP_LINK_H
#define SG_CONNECTOR_SMPP_LINK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <uv.h>

#include "smpp/session.h"

typedef struct sg_smpp_link sg_smpp_link_t;

/* ---- TLS ----------------------------------------------------------------- */

/* A TLS context (an OpenSSL SSL_CTX) shared by many links: create it once
 * per connector or per listening port. */
typedef struct sg_smpp_link_tls sg_smpp_link_tls_t;

typedef enum sg_smpp_link_tls_role {
  SG_SMPP_LINK_TLS_CLIENT = 0,
  SG_SMPP_LINK_TLS_SERVER = 1
} sg_smpp_link_tls_role_t;

typedef struct sg_smpp_link_tls_opts {
  sg_smpp_link_tls_role_t role;
  /* Client: the peer's certificate chain and host name are verified unless
   * verify is false (default true: set by sg_smpp_link_tls_opts_default).
   * ca_file: PEM bundle of trusted CAs; NULL uses the system's default
   * paths. The expected host name is sg_smpp_link_config_t.tls_server_name,
   * or the host given to sg_smpp_link_connect(). */
  bool verify;
  const char *ca_file;
  /* Server: certificate chain and private key, PEM (both required).
   * Client: an optional client certificate and key (both or neither). */
  const char *cert_file;
  const char *key_file;
} sg_smpp_link_tls_opts_t;

/* Fills *opts: role CLIENT, verify true, every file NULL. */
void sg_smpp_link_tls_opts_default(sg_smpp_link_tls_opts_t *opts);

/* Creates a TLS context (TLS 1.2 or later) from opts: loads the files now,
 * so that a bad path or a key that does not match its certificate fails
 * here. Returns 0 and sets *out, SG_EINVAL (NULL argument, server without
 * cert or key, only one of a client's cert/key), SG_ECONFIG (a file could
 * not be loaded or the key does not match; see errbuf), or SG_ENOMEM.
 * errbuf (may be NULL) gets a one-line reason on failure. */
int sg_smpp_link_tls_new(const sg_smpp_link_tls_opts_t *opts,
                         sg_smpp_link_tls_t **out, char *errbuf, size_t errcap);

/* Releases the caller's reference. Links created with it keep their own,
 * so this may be called while they still run. NULL is a no-op. */
void sg_smpp_link_tls_free(sg_smpp_link_tls_t *tls);

/* ---- Configuration and callbacks ----------------------------------------- */

typedef struct sg_smpp_link_config {
  /* The session's settings (window, timers ...); see smpp/session.h. */
  sg_smpp_session_config_t session;
  /* The session role: ESME for sg_smpp_link_connect() normally, SMSC for
   * sg_smpp_link_accept() normally (either is allowed with either). */
  sg_smpp_role_t role;
  /* Connect: the whole of name resolution, TCP connect and TLS handshake
   * must finish within this time, else closed_cb(SG_ETIMEDOUT). Accept:
   * the TLS handshake must. Default 10000; 0: no limit. */
  uint32_t connect_timeout_ms;
  /* Back-pressure marks, octets (see the top of this file). Defaults
   * 1 MiB and 256 KiB; low is clamped to high. */
  size_t write_high_water;
  size_t write_low_water;
  /* After the session closed, how long the link may spend writing the
   * output that remains before it closes the socket anyway. Default 2000;
   * 0: no limit. */
  uint32_t close_linger_ms;
  /* TLS context, or NULL for plain TCP. Borrowed for the call; the link
   * takes its own reference. Its role must match: CLIENT for connect,
   * SERVER for accept. */
  sg_smpp_link_tls_t *tls;
  /* Client: host name to verify the certificate against and to send as SNI;
   * NULL uses the host given to sg_smpp_link_connect() (when that is an IP
   * address, the certificate's IP SAN is checked instead). Copied. */
  const char *tls_server_name;
  /* Size of the buffer the socket is read into. Default 65536. */
  size_t read_buffer;
} sg_smpp_link_config_t;

/* The owner's callbacks. event_cb and closed_cb are required; the others
 * may be NULL. `user` is what was given when the link was created. */
typedef struct sg_smpp_link_callbacks {
  /* The connection is up (TCP connected and, with TLS, the handshake done
   * and the peer verified). Called once, before any event_cb. Bind here
   * (client). For accepted links it fires on the next loop iteration
   * (plain) or after the handshake (TLS). */
  void (*connected_cb)(sg_smpp_link_t *l, void *user);
  /* Every event of the session, as smpp/session.h describes it (the event
   * and its PDU are borrowed for the duration of the call). From inside it
   * the owner may call every session command and every link function
   * except sg_smpp_link_free(). SG_SMPP_EV_CLOSED is always the last event,
   * exactly once, also when the connection never came up (then the session
   * is closed with the connect error before closed_cb). */
  void (*event_cb)(sg_smpp_link_t *l, const sg_smpp_event_t *ev, void *user);
  /* The link crossed a back-pressure mark: writable false above
   * write_high_water, true again below write_low_water. */
  void (*writable_cb)(sg_smpp_link_t *l, bool writable, void *user);
  /* The link is closed: every handle is closed, no callback follows. reason
   * is 0 after an unbind, else an SG_E* code: the session's CLOSED error,
   * or, when it never connected, SG_ETIMEDOUT (connect_timeout_ms),
   * SG_EIO (refused, unreachable, TLS handshake failed or the peer's
   * certificate did not verify), SG_ENOENT (the host name did not
   * resolve). The owner may call sg_smpp_link_free() from here or later. */
  void (*closed_cb)(sg_smpp_link_t *l, int reason, void *user);
} sg_smpp_link_callbacks_t;

/* Counters of one link. */
typedef struct sg_smpp_link_stats {
  uint64_t bytes_in;    /* octets read from the socket (ciphertext w/ TLS) */
  uint64_t bytes_out;   /* octets written to the socket */
  uint64_t reads;       /* read callbacks with data */
  uint64_t writes;      /* write system calls attempted + uv_write requests */
  uint64_t flushes;     /* flushes that found output to write */
  uint64_t read_pauses; /* times reading stopped for back-pressure */
} sg_smpp_link_stats_t;

/* Fills *cfg with the defaults above (session defaults, role ESME). */
void sg_smpp_link_config_default(sg_smpp_link_config_t *cfg);

/* ---- Life cycle ---------------------------------------------------------- */

/* Client: resolves host (a name or an IP address), connects to port with
 * TCP_NODELAY, runs the TLS handshake when cfg->tls is set, then calls
 * connected_cb. The session (cfg->role, cfg->session) exists from now on
 * (sg_smpp_link_session()); commands given to it before connected_cb are
 * written once connected. cfg and host are copied.
 * Returns 0 and sets *out (then exactly one closed_cb follows, later), or
 * SG_EINVAL (NULL argument, missing event_cb/closed_cb, port 0, a TLS
 * context that is not a client one), SG_ENOMEM, or SG_EIO (libuv refused
 * to start); on error no callback fires and nothing is left behind. */
int sg_smpp_link_connect(uv_loop_t *loop, const char *host, uint16_t port,
                         const sg_smpp_link_config_t *cfg,
                         const sg_smpp_link_callbacks_t *cbs, void *user,
                         sg_smpp_link_t **out);

/* Server: accepts one pending connection from the listening `server`
 * stream (call it from the server's uv_connection_cb), sets TCP_NODELAY
 * and starts the TLS handshake when cfg->tls is set. The session is
 * created now (its bind timer starts). Returns 0 and sets *out (exactly
 * one closed_cb follows, later), or SG_EINVAL, SG_ENOMEM, SG_EIO (uv_accept
 * failed: nothing was pending); on error no callback fires. */
int sg_smpp_link_accept(uv_stream_t *server, const sg_smpp_link_config_t *cfg,
                        const sg_smpp_link_callbacks_t *cbs, void *user,
                        sg_smpp_link_t **out);

/* Closes the link: closes the session with `reason` (SG_ECLOSED if 0; no
 * unbind: for a polite end call sg_smpp_session_unbind() and wait for
 * closed_cb), writes the output that remains (at most close_linger_ms),
 * then closes the socket. event_cb gets NO_RESPONSE for requests in flight
 * and CLOSED, then closed_cb fires. A no-op when already closing. May be
 * called from any callback of the link. */
void sg_smpp_link_close(sg_smpp_link_t *l, int reason);

/* Like sg_smpp_link_close() but drops the output that remains and closes
 * the socket at once (a lost connection, as the simulator's "drop" makes
 * it). */
void sg_smpp_link_abort(sg_smpp_link_t *l, int reason);

/* Like sg_smpp_link_abort() but the socket is closed with a TCP reset
 * (SO_LINGER 0: the peer reads ECONNRESET, and what it sent that we have
 * not read is discarded), as a crashed or firewalled peer leaves it. */
void sg_smpp_link_reset(sg_smpp_link_t *l, int reason);

/* Makes the link a peer that stops answering: from now on nothing is read
 * from the socket and nothing more is written to it, while the connection
 * stays open; the session's timers still run, so it ends when they say so
 * (or on close/abort, which then close at once). A no-op once closing. */
void sg_smpp_link_freeze(sg_smpp_link_t *l);

/* Frees a link after its closed_cb fired (from inside closed_cb too), and
 * its session. NULL is a no-op. Calling it earlier is a bug (close first). */
void sg_smpp_link_free(sg_smpp_link_t *l);

/* ---- Use ----------------------------------------------------------------- */

/* The link's session, for commands (bind, accept_bind, unbind ...) and
 * introspection. Valid until sg_smpp_link_free(). Output the owner produces
 * with it outside of a link callback is written after sg_smpp_link_kick(). */
sg_smpp_session_t *sg_smpp_link_session(const sg_smpp_link_t *l);

/* The time to pass to the session's functions (uv_now of the loop). */
uint64_t sg_smpp_link_now(const sg_smpp_link_t *l);

/* Asks for one flush of the session output and one re-arm of the timer
 * before the loop next waits for I/O. Cheap (no system call); call it
 * after session commands made outside of a link callback. Calls inside
 * event_cb are flushed anyway. No-op once closed. */
void sg_smpp_link_kick(sg_smpp_link_t *l);

/* sg_smpp_session_send_request(session, pdu, ctx, now) + kick. Returns as
 * that function (the sequence_number, SG_EBUSY when the window is full ...)
 * or SG_ESTATE when the link is closing. */
long sg_smpp_link_send(sg_smpp_link_t *l, const sg_smpp_pdu_t *pdu, void *ctx);

/* sg_smpp_session_respond(session, resp) + kick. */
int sg_smpp_link_respond(sg_smpp_link_t *l, const sg_smpp_pdu_t *resp);

/* sg_smpp_session_respond_status(...) + kick. */
int sg_smpp_link_respond_status(sg_smpp_link_t *l, uint32_t request_command_id,
                                uint32_t sequence_number,
                                uint32_t command_status);

/* sg_smpp_session_respond_nack(...) + kick. */
int sg_smpp_link_respond_nack(sg_smpp_link_t *l, uint32_t sequence_number,
                              uint32_t command_status);

/* Writes the session output now (if no write is outstanding) instead of
 * before the loop's next wait. Rarely needed. */
void sg_smpp_link_flush(sg_smpp_link_t *l);

/* false while the octets waiting to be written are above the high-water
 * mark (see the top of this file) or the link is closing. */
bool sg_smpp_link_writable(const sg_smpp_link_t *l);

/* Octets produced and not yet handed to the kernel. */
size_t sg_smpp_link_write_pending(const sg_smpp_link_t *l);

/* Whether the connection is up (connected_cb fired, not yet closing). */
bool sg_smpp_link_is_up(const sg_smpp_link_t *l);

/* The peer's address as "ip:port" ("[v6]:port") into buf; "" when unknown.
 * Returns buf. */
const char *sg_smpp_link_peer(const sg_smpp_link_t *l, char *buf, size_t cap);

/* The owner pointer given at creation; and to replace it. */
void *sg_smpp_link_user(const sg_smpp_link_t *l);
void sg_smpp_link_set_user(sg_smpp_link_t *l, void *user);

void sg_smpp_link_stats(const sg_smpp_link_t *l, sg_smpp_link_stats_t *out);

#endif
