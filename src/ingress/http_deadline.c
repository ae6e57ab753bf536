/* http_deadline.c - closes HTTP connections that take longer than the
 * limit to send a request and take its answer (http_deadline.h), so that
 * a slow client cannot hold a connection slot forever.
 *
 * Connections are kept in a list; a timer walks it once a second. This
 * file must never read or write a connection's data: it only shuts a
 * socket down and lets libmicrohttpd close it.
 */
#include "ingress/http_deadline.h"

#include <sys/socket.h>

#include "core/alloc.h"

#define SWEEP_MS 1000

typedef struct dl_conn {
  struct MHD_Connection *conn;
  uint64_t
      since; /* loop time (ms) the current request's deadline counts from */
  struct dl_conn *prev, *next;
} dl_conn_t;

struct sg__http_deadline {
  uv_timer_t timer;
  uint64_t limit_ms;
  dl_conn_t *head;
  uint64_t closed;
  unsigned kicks; /* sweeps that still call kick */
  void (*kick)(void *data);
  void *data;
};

static void sweep_cb(uv_timer_t *t) {
  sg__http_deadline_t *d = t->data;
  uint64_t now = uv_now(t->loop);
  for (dl_conn_t *c = d->head; c != NULL; c = c->next) {
    const union MHD_ConnectionInfo *s = MHD_get_connection_info(
        c->conn, MHD_CONNECTION_INFO_CONNECTION_SUSPENDED);
    if (s != NULL && s->suspended) {
      c->since = now; /* waiting for its handler: not the client's time */
      continue;
    }
    if (now - c->since <= d->limit_ms)
      continue;
    const union MHD_ConnectionInfo *fd =
        MHD_get_connection_info(c->conn, MHD_CONNECTION_INFO_CONNECTION_FD);
    if (fd != NULL)
      shutdown(fd->connect_fd, SHUT_RDWR);
    c->since = now; /* once per limit at most */
    d->closed++;
    d->kicks = 2;
  }
  if (d->kicks > 0) {
    d->kicks--;
    d->kick(d->data);
  }
  if (d->head == NULL && d->kicks == 0)
    uv_timer_stop(&d->timer);
}

sg__http_deadline_t *sg__http_deadline_new(uv_loop_t *loop, uint64_t limit_ms,
                                           void (*kick)(void *data),
                                           void *data) {
  sg__http_deadline_t *d = sg_calloc(1, sizeof *d);
  if (d == NULL)
    return NULL;
  uv_timer_init(loop, &d->timer);
  d->timer.data = d;
  d->limit_ms = limit_ms;
  d->kick = kick;
  d->data = data;
  return d;
}

static void close_cb(uv_handle_t *h) {
  sg_free(h->data);
}

void sg__http_deadline_free(sg__http_deadline_t *d) {
  if (d == NULL)
    return;
  while (d->head != NULL) { /* none once MHD_stop_daemon has run */
    dl_conn_t *c = d->head;
    d->head = c->next;
    sg_free(c);
  }
  uv_close((uv_handle_t *)&d->timer, close_cb);
}

void sg__http_deadline_conn(sg__http_deadline_t *d, struct MHD_Connection *conn,
                            void **socket_context, bool started) {
  if (d == NULL)
    return;
  if (!started) {
    dl_conn_t *c = *socket_context;
    if (c == NULL)
      return;
    if (c->prev != NULL)
      c->prev->next = c->next;
    else
      d->head = c->next;
    if (c->next != NULL)
      c->next->prev = c->prev;
    sg_free(c);
    *socket_context = NULL;
    return;
  }
  dl_conn_t *c = sg_calloc(1, sizeof *c);
  if (c == NULL)
    return; /* not watched: only the idle timeout applies */
  c->conn = conn;
  c->since = uv_now(d->timer.loop);
  c->next = d->head;
  if (d->head != NULL)
    d->head->prev = c;
  d->head = c;
  *socket_context = c;
  if (!uv_is_active((uv_handle_t *)&d->timer))
    uv_timer_start(&d->timer, sweep_cb, SWEEP_MS, SWEEP_MS);
}

void sg__http_deadline_done(sg__http_deadline_t *d,
                            struct MHD_Connection *conn) {
  if (d == NULL || conn == NULL)
    return;
  const union MHD_ConnectionInfo *i =
      MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
  dl_conn_t *c = i != NULL ? i->socket_context : NULL;
  if (c != NULL)
    c->since = uv_now(d->timer.loop);
}

uint64_t sg__http_deadline_closed(const sg__http_deadline_t *d) {
  return d != NULL ? d->closed : 0;
}
