/* smpp_link_tls.c - TLS for SMPP links: OpenSSL driven through two memory
 * BIOs, so that the socket stays libuv's and the link's one-write-at-a-time
 * rule holds for ciphertext too. Client links verify the SMSC's certificate
 * chain and host name by default; server links present a certificate.
 *
 * It must never touch the socket directly (writes go through
 * sg__link_write), never block, and never hand plaintext to the session
 * before the handshake (and the peer's verification) is complete.
 */
#include <string.h>

#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "connector/smpp_link_int.h"
#include "core/alloc.h"

struct sg_smpp_link_tls {
  SSL_CTX *ctx;
  sg_smpp_link_tls_role_t role;
};

/* ---- Contexts ------------------------------------------------------------ */

void sg_smpp_link_tls_opts_default(sg_smpp_link_tls_opts_t *opts) {
  memset(opts, 0, sizeof *opts);
  opts->role = SG_SMPP_LINK_TLS_CLIENT;
  opts->verify = true;
}

static int tls_err(char *errbuf, size_t errcap, const char *what,
                   const char *path) {
  if (errbuf != NULL && errcap > 0) {
    char ossl[160];
    unsigned long e = ERR_peek_last_error();
    if (e != 0)
      ERR_error_string_n(e, ossl, sizeof ossl);
    else
      snprintf(ossl, sizeof ossl, "unknown error");
    snprintf(errbuf, errcap, "%s%s%s: %s", what, path ? " " : "",
             path ? path : "", ossl);
  }
  ERR_clear_error();
  return SG_ECONFIG;
}

static int load_files(SSL_CTX *ctx, const sg_smpp_link_tls_opts_t *o,
                      char *errbuf, size_t errcap) {
  if (o->cert_file == NULL)
    return 0;
  if (SSL_CTX_use_certificate_chain_file(ctx, o->cert_file) != 1)
    return tls_err(errbuf, errcap, "cannot load certificate", o->cert_file);
  if (SSL_CTX_use_PrivateKey_file(ctx, o->key_file, SSL_FILETYPE_PEM) != 1) {
    bool mismatch =
        ERR_GET_REASON(ERR_peek_last_error()) == X509_R_KEY_VALUES_MISMATCH;
    return tls_err(errbuf, errcap,
                   mismatch ? "private key does not match certificate"
                            : "cannot load private key",
                   o->key_file);
  }
  if (SSL_CTX_check_private_key(ctx) != 1)
    return tls_err(errbuf, errcap, "private key does not match certificate",
                   o->key_file);
  return 0;
}

static int setup_verify(SSL_CTX *ctx, const sg_smpp_link_tls_opts_t *o,
                        char *errbuf, size_t errcap) {
  if (o->role != SG_SMPP_LINK_TLS_CLIENT || !o->verify) {
    SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
    return 0;
  }
  SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
  int ok = o->ca_file != NULL
               ? SSL_CTX_load_verify_locations(ctx, o->ca_file, NULL)
               : SSL_CTX_set_default_verify_paths(ctx);
  if (ok != 1)
    return tls_err(errbuf, errcap, "cannot load CA file", o->ca_file);
  return 0;
}

int sg_smpp_link_tls_new(const sg_smpp_link_tls_opts_t *opts,
                         sg_smpp_link_tls_t **out, char *errbuf,
                         size_t errcap) {
  if (opts == NULL || out == NULL)
    return SG_EINVAL;
  bool server = opts->role == SG_SMPP_LINK_TLS_SERVER;
  if ((opts->cert_file == NULL) != (opts->key_file == NULL) ||
      (server && opts->cert_file == NULL)) {
    if (errbuf != NULL && errcap > 0)
      snprintf(errbuf, errcap, "TLS needs both a certificate and a key");
    return SG_EINVAL;
  }
  sg_smpp_link_tls_t *t = sg_calloc(1, sizeof *t);
  if (t == NULL)
    return SG_ENOMEM;
  t->role = opts->role;
  t->ctx = SSL_CTX_new(server ? TLS_server_method() : TLS_client_method());
  if (t->ctx == NULL) {
    sg_free(t);
    return SG_ENOMEM;
  }
  SSL_CTX_set_min_proto_version(t->ctx, TLS1_2_VERSION);
  SSL_CTX_set_mode(t->ctx, SSL_MODE_ENABLE_PARTIAL_WRITE |
                               SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
  int rc = load_files(t->ctx, opts, errbuf, errcap);
  if (rc == 0)
    rc = setup_verify(t->ctx, opts, errbuf, errcap);
  if (rc != 0) {
    sg_smpp_link_tls_free(t);
    return rc;
  }
  *out = t;
  return 0;
}

void sg_smpp_link_tls_free(sg_smpp_link_tls_t *tls) {
  if (tls == NULL)
    return;
  SSL_CTX_free(tls->ctx); /* links' SSL objects hold their own reference */
  sg_free(tls);
}

sg_smpp_link_tls_role_t sg__link_tls_role(const sg_smpp_link_tls_t *tls) {
  return tls->role;
}

/* ---- Per link ------------------------------------------------------------ */

/* The name to verify: an IP address is matched against the certificate's
 * IP SANs, a name against its DNS names and sent as SNI. */
static int set_peer_name(SSL *ssl, const char *name) {
  struct sockaddr_in6 a6;
  struct sockaddr_in a4;
  bool ip = uv_ip4_addr(name, 0, &a4) == 0 || uv_ip6_addr(name, 0, &a6) == 0;
  if (ip)
    return X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), name) == 1
               ? 0
               : SG_EINVAL;
  if (SSL_set1_host(ssl, name) != 1 || SSL_set_tlsext_host_name(ssl, name) != 1)
    return SG_EINVAL;
  return 0;
}

int sg__link_tls_attach(sg_smpp_link_t *l, sg_smpp_link_tls_t *tls,
                        const char *server_name) {
  l->tls_server = tls->role == SG_SMPP_LINK_TLS_SERVER;
  l->pcap = l->rcap;
  l->pbuf = sg_malloc(l->pcap);
  l->tls = SSL_new(tls->ctx);
  l->rbio = BIO_new(BIO_s_mem());
  l->wbio = BIO_new(BIO_s_mem());
  if (l->pbuf == NULL || l->tls == NULL || l->rbio == NULL || l->wbio == NULL) {
    BIO_free(l->rbio);
    BIO_free(l->wbio);
    l->rbio = l->wbio = NULL;
    return SG_ENOMEM;
  }
  SSL_set_bio(l->tls, l->rbio, l->wbio); /* the SSL owns both now */
  if (l->tls_server) {
    SSL_set_accept_state(l->tls);
    return 0;
  }
  SSL_set_connect_state(l->tls);
  return server_name != NULL ? set_peer_name(l->tls, server_name) : 0;
}

void sg__link_tls_detach(sg_smpp_link_t *l) {
  if (l->tls != NULL)
    SSL_free(l->tls);
  l->tls = NULL;
  l->rbio = l->wbio = NULL;
  sg_free(l->pbuf);
  sg_free(l->cbuf);
  l->pbuf = l->cbuf = NULL;
}

size_t sg__link_tls_pending(const sg_smpp_link_t *l) {
  return BIO_ctrl_pending(l->wbio) + (l->clen - l->coff);
}

/* Moves ciphertext from the SSL's output BIO into cbuf (growing it only
 * when a burst is larger than any before) and writes it. */
static void write_cipher(sg_smpp_link_t *l) {
  while (l->write_len == 0 && l->state < SG__LINK_CLOSING) {
    if (l->coff == l->clen) {
      size_t pending = BIO_ctrl_pending(l->wbio);
      if (pending == 0)
        return;
      l->coff = l->clen = 0;
      if (pending > l->ccap) {
        uint8_t *b = sg_realloc(l->cbuf, pending);
        if (b == NULL) {
          sg__link_fail(l, SG_ENOMEM);
          return;
        }
        l->cbuf = b;
        l->ccap = pending;
      }
      int r = BIO_read(l->wbio, l->cbuf, (int)pending);
      l->clen = r > 0 ? (size_t)r : 0;
      if (l->clen == 0)
        return;
    }
    l->st.flushes++;
    long done = sg__link_write(l, l->cbuf + l->coff, l->clen - l->coff);
    if (done < 0)
      return;
    l->coff += (size_t)done;
  }
}

void sg__link_tls_written(sg_smpp_link_t *l, size_t n) {
  l->coff += n;
}

void sg__link_tls_flush(sg_smpp_link_t *l) {
  const uint8_t *p;
  size_t n;
  if (SSL_is_init_finished(l->tls) && !l->tls_shutdown_sent) {
    while ((n = sg_smpp_session_output(l->session, &p)) > 0) {
      int r = SSL_write(l->tls, p, (int)(n > INT32_MAX ? INT32_MAX : n));
      if (r <= 0) {
        ERR_clear_error();
        sg__link_fail(l, SG_EIO);
        return;
      }
      sg_smpp_session_consume(l->session, (size_t)r);
    }
  }
  write_cipher(l);
}

/* A failed handshake (including a certificate that did not verify) ends
 * the link with SG_EIO. */
static bool handshake(sg_smpp_link_t *l) {
  int r = SSL_do_handshake(l->tls);
  if (r == 1) {
    sg__link_connected(l);
    return true;
  }
  int e = SSL_get_error(l->tls, r);
  if (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE) {
    ERR_clear_error();
    write_cipher(l); /* the alert, if any, may still reach the peer */
    l->connect_error = SG_EIO;
    sg__link_fail(l, SG_EIO);
  }
  return false;
}

void sg__link_tls_start(sg_smpp_link_t *l) {
  handshake(l);
  write_cipher(l);
}

void sg__link_tls_input(sg_smpp_link_t *l, const uint8_t *data, size_t n) {
  if (BIO_write(l->rbio, data, (int)n) != (int)n) {
    sg__link_fail(l, SG_ENOMEM);
    return;
  }
  if (!SSL_is_init_finished(l->tls) && !handshake(l))
    return;
  while (!l->session_closed) {
    int r = SSL_read(l->tls, l->pbuf, (int)l->pcap);
    if (r > 0) {
      sg__link_input(l, l->pbuf, (size_t)r);
      continue;
    }
    int e = SSL_get_error(l->tls, r);
    if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE)
      break;
    ERR_clear_error();
    if (e == SSL_ERROR_ZERO_RETURN) /* the peer's close_notify */
      sg_smpp_session_close(l->session, SG_ECLOSED);
    else
      sg__link_fail(l, SG_EIO);
    break;
  }
}

int sg__link_tls_shutdown(sg_smpp_link_t *l) {
  if (!l->tls_shutdown_sent && SSL_is_init_finished(l->tls)) {
    l->tls_shutdown_sent = true;
    SSL_shutdown(l->tls);
    ERR_clear_error();
    write_cipher(l);
  }
  return l->write_len > 0 ? 1 : 0;
}
