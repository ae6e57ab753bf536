/* http_deadline.h - a deadline for each request on a connection of the
 * HTTP server (http_server.c), against slow clients.
 *
 * libmicrohttpd's connection timeout is an idle timeout: a client that
 * sends one byte every second is never idle and keeps its connection slot
 * for as long as it likes (slowloris). Here every connection must send a
 * whole request and take its whole answer within the limit (http.timeout)
 * counted from the connection's start or the end of its previous request;
 * the time a request waits suspended for its handler's answer does not
 * count. A connection past its deadline is shut down; libmicrohttpd then
 * closes it and frees its slot.
 *
 * Loop thread only, like the server.
 */
#ifndef SG_INGRESS_HTTP_DEADLINE_H
#define SG_INGRESS_HTTP_DEADLINE_H

#include <stdbool.h>
#include <stdint.h>

#include <microhttpd.h>
#include <uv.h>

typedef struct sg__http_deadline sg__http_deadline_t;

/* A deadline keeper on loop with limit_ms (> 0). kick(data) is called
 * after connections were shut down, and once more a sweep later, so that
 * the server runs libmicrohttpd again: it closes them, and accepts again
 * once it is below its connection limit, only inside MHD_run. NULL when
 * out of memory. */
sg__http_deadline_t *sg__http_deadline_new(uv_loop_t *loop, uint64_t limit_ms,
                                           void (*kick)(void *data),
                                           void *data);

/* Frees d (NULL: nothing) once libmicrohttpd has closed every connection
 * (after MHD_stop_daemon); its timer is closed on the loop. */
void sg__http_deadline_free(sg__http_deadline_t *d);

/* From MHD_OPTION_NOTIFY_CONNECTION: starts (started true) or stops
 * watching conn; *socket_context is the connection's slot. */
void sg__http_deadline_conn(sg__http_deadline_t *d, struct MHD_Connection *conn,
                            void **socket_context, bool started);

/* From MHD_OPTION_NOTIFY_COMPLETED: conn finished a request; its next one
 * has a new deadline. */
void sg__http_deadline_done(sg__http_deadline_t *d,
                            struct MHD_Connection *conn);

/* Connections shut down for passing their deadline. */
uint64_t sg__http_deadline_closed(const sg__http_deadline_t *d);

#endif
