/* smpp_link_connect.c - the client side of an SMPP link: resolves the host
 * name, connects with TCP_NODELAY and, with TLS, starts the handshake; the
 * connect timeout covers all three.
 *
 * It must never block the loop (names are resolved with uv_getaddrinfo on
 * libuv's thread pool) and never call an owner callback from inside
 * sg_smpp_link_connect().
 */
#include <string.h>

#include "connector/smpp_link_int.h"
#include "core/alloc.h"

static void connect_cb(uv_connect_t *req, int status) {
  sg_smpp_link_t *l = req->data;
  if (status == UV_ECANCELED || l->state >= SG__LINK_DRAINING)
    return;
  if (status < 0) {
    l->connect_error = SG_EIO;
    sg__link_fail(l, SG_EIO);
    return;
  }
  uv_tcp_nodelay(&l->tcp, 1);
  if (l->tls == NULL) {
    sg__link_connected(l);
    return;
  }
  l->state = SG__LINK_HANDSHAKE;
  l->read_allowed = true;
  sg__link_start_reading(l);
  sg__link_tls_start(l);
}

static int start_connect(sg_smpp_link_t *l, const struct sockaddr *sa) {
  l->state = SG__LINK_CONNECTING;
  l->creq.data = l;
  return uv_tcp_connect(&l->creq, &l->tcp, sa, connect_cb) == 0 ? 0 : SG_EIO;
}

static void gai_cb(uv_getaddrinfo_t *req, int status, struct addrinfo *res) {
  sg_smpp_link_t *l = req->data;
  l->gai_pending = false;
  if (l->state >= SG__LINK_DRAINING) {
    uv_freeaddrinfo(res);
    sg__link_gai_done(l);
    return;
  }
  int rc = SG_ENOENT;
  if (status == 0 && res != NULL) {
    if (res->ai_family == AF_INET6)
      ((struct sockaddr_in6 *)res->ai_addr)->sin6_port = htons(l->port);
    else
      ((struct sockaddr_in *)res->ai_addr)->sin_port = htons(l->port);
    rc = start_connect(l, res->ai_addr);
  }
  uv_freeaddrinfo(res);
  if (rc != 0) {
    l->connect_error = rc;
    sg__link_fail(l, rc);
  }
}

/* Connects at once to a numeric address, or starts resolving a name. */
static int start(sg_smpp_link_t *l) {
  struct sockaddr_in a4;
  struct sockaddr_in6 a6;
  if (uv_ip4_addr(l->host, l->port, &a4) == 0)
    return start_connect(l, (const struct sockaddr *)&a4);
  if (uv_ip6_addr(l->host, l->port, &a6) == 0)
    return start_connect(l, (const struct sockaddr *)&a6);
  struct addrinfo hints;
  memset(&hints, 0, sizeof hints);
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  l->state = SG__LINK_RESOLVING;
  l->gai.data = l;
  if (uv_getaddrinfo(l->loop, &l->gai, gai_cb, l->host, NULL, &hints) != 0)
    return SG_EIO;
  l->gai_pending = true;
  return 0;
}

int sg_smpp_link_connect(uv_loop_t *loop, const char *host, uint16_t port,
                         const sg_smpp_link_config_t *cfg,
                         const sg_smpp_link_callbacks_t *cbs, void *user,
                         sg_smpp_link_t **out) {
  if (host == NULL || host[0] == '\0' || port == 0 || cfg == NULL)
    return SG_EINVAL;
  if (cfg->tls != NULL &&
      sg__link_tls_role(cfg->tls) != SG_SMPP_LINK_TLS_CLIENT)
    return SG_EINVAL;
  sg_smpp_link_t *l;
  int rc = sg__link_new(loop, cfg, cbs, user, &l);
  if (rc != 0)
    return rc;
  l->port = port;
  l->host = sg_strdup(host);
  rc = l->host != NULL ? 0 : SG_ENOMEM;
  if (rc == 0 && cfg->tls != NULL)
    rc = sg__link_tls_attach(l, cfg->tls,
                             cfg->tls_server_name != NULL ? cfg->tls_server_name
                                                          : host);
  if (rc == 0 && sg__link_init_handles(l) != 0)
    rc = SG_EIO;
  if (rc != 0) {
    sg_smpp_link_free(l);
    return rc;
  }
  rc = start(l);
  if (rc != 0) {
    sg__link_abandon(l);
    return rc;
  }
  sg__link_start_guard(l);
  *out = l;
  return 0;
}
