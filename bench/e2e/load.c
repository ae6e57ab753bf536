/* load.c - the load client of bench/e2e/run.sh: N sends of POST /v1/messages
 * over C keep-alive HTTP/1.1 connections, one request at a time on each,
 * driven by one epoll loop. A 429 answer is retried on the same connection
 * after 50 ms; any other answer but 202 counts as failed.
 *
 *   bench_e2e HOST PORT KEY N C OUT [GET-TARGET]
 *
 * OUT gets the same JSON as `bench.js load`: {"t0_ms", "t1_ms", "accepted",
 * "failed", "busy", "msgs": [[id, post_ms, answer_ms], ...]} where post_ms is
 * the wall clock (ms since the epoch) at which the accepted request was
 * written, so that `bench.js report` can compare it with the message's event
 * timestamps, and answer_ms the time its answer took.
 *
 * With GET-TARGET (e.g. a Kannel sendsms path and query), each request is a
 * GET of that target with every "{seq}" replaced by the request's number
 * (0, 1, ...); a 2xx answer counts as accepted and the number is its id.
 * That is how bench/compare-kannel drives Kannel and smsgate alike.
 *
 * With LOAD_RATE=R in the environment (requests a second, R > 0) the load
 * is open: request i is due R-th parts of a second apart from the start
 * (i / R s), and goes out on a free connection when it is due, never
 * earlier. Its post_ms and answer time count from when it was due, not
 * from when a connection was free for it, so a gateway that falls behind
 * the offered rate shows it in the latency (no coordinated omission): C
 * must be large enough for the rate times the answer time. Without it,
 * each connection sends its next request as soon as it has its answer.
 *
 * With LOAD_TO=K (1 to 10,000,000) the POSTs go to K numbers, +79000000000
 * to +7900 followed by K-1 in seven digits, request i to the number its
 * hash picks, so that consecutive messages are scattered over them as an
 * operator's traffic is; without it every POST goes to +79001234567.
 *
 * It is a measuring tool: it must cost the gateway's machine as little CPU
 * as it can (no JSON library, no allocation per request), and it must never
 * count an answer it did not read in full.
 */
#define _GNU_SOURCE /* memmem */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define ID_MAX 64
#define BUF_MAX 16384
#define RETRY_MS 50

typedef struct conn {
  int fd;
  char req[1024];
  size_t req_len, req_off;
  char buf[BUF_MAX];
  size_t buf_len;
  double post_ms;     /* wall clock when the current request was written */
  double retry_at_ms; /* > 0: waiting to resend after a 429 */
  unsigned seq;
  bool busy; /* a request is out */
} conn_t;

typedef struct load {
  const char *key;
  const char *host;
  const char *get; /* GET-TARGET, or NULL: POST /v1/messages */
  unsigned n, next, accepted, failed, busy;
  double rate; /* LOAD_RATE: requests a second; 0: as fast as answered */
  unsigned to; /* LOAD_TO: recipients; 0: the one number */
  double t0;   /* wall clock at the start, for the due times */
  char (*ids)[ID_MAX];
  double *post_ms;
  double *answer_ms;
  int ep;
  char head[768]; /* a POST's head up to its Content-Length value */
  size_t head_len;
} load_t;

static double wall_ms(void) {
  struct timespec t;
  clock_gettime(CLOCK_REALTIME, &t);
  return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

static int conn_open(const struct sockaddr_in *sa) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0)
    return -1;
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  if (connect(fd, (const struct sockaddr *)sa, sizeof *sa) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

/* The GET-TARGET with "{seq}" replaced; false when it does not fit. */
static bool build_get(load_t *l, conn_t *c) {
  char *o = c->req, *end = c->req + sizeof c->req - 64;
  o += snprintf(o, (size_t)(end - o), "GET ");
  for (const char *p = l->get; *p != '\0'; p++) {
    if (o >= end)
      return false;
    if (strncmp(p, "{seq}", 5) == 0) {
      o += snprintf(o, (size_t)(end - o), "%u", c->seq);
      p += 4;
    } else {
      *o++ = *p;
    }
  }
  if (o >= end)
    return false;
  o += snprintf(o, (size_t)(c->req + sizeof c->req - o),
                " HTTP/1.1\r\nHost: %s\r\n\r\n", l->host);
  c->req_len = (size_t)(o - c->req);
  c->req_off = 0;
  return true;
}

/* v in decimal at o, at least `width` digits (zeros in front); returns
 * the end. Requests are written without snprintf: it was half of this
 * client's instructions a request. */
static char *put_uint(char *o, unsigned long long v, int width) {
  char d[24];
  int n = 0;
  do {
    d[n++] = (char)('0' + v % 10);
    v /= 10;
  } while (v > 0 || n < width);
  while (n > 0)
    *o++ = d[--n];
  return o;
}

static char *put_str(char *o, const char *s, size_t n) {
  memcpy(o, s, n);
  return o + n;
}

#define PUT_LIT(o, s) put_str((o), (s), sizeof(s) - 1)

/* The part of every POST before its Content-Length value; false when the
 * host and key do not leave room for the rest of a request. */
static bool build_head(load_t *l) {
  int k = snprintf(l->head, sizeof l->head,
                   "POST /v1/messages HTTP/1.1\r\nHost: %s\r\n"
                   "Authorization: Bearer %s\r\nContent-Type: "
                   "application/json\r\nContent-Length: ",
                   l->host, l->key);
  if (k < 0 || (size_t)k >= sizeof l->head)
    return false;
  l->head_len = (size_t)k;
  return true;
}

static void build_request(load_t *l, conn_t *c) {
  if (l->get != NULL) {
    if (!build_get(l, c))
      c->req_len = 0;
    return;
  }
  char body[128], *b = body;
  b = PUT_LIT(b, "{\"to\":\"");
  if (l->to > 0) { /* Knuth's multiplicative hash scatters the sequence */
    b = PUT_LIT(b, "+7900");
    b = put_uint(b, (c->seq * 2654435761u) % l->to, 7);
  } else {
    b = PUT_LIT(b, "+79001234567");
  }
  b = PUT_LIT(b, "\",\"from\":\"Bench\",\"text\":\"bench message ");
  b = put_uint(b, c->seq, 1);
  b = PUT_LIT(b, "\"}");
  char *o = put_str(c->req, l->head, l->head_len);
  o = put_uint(o, (size_t)(b - body), 1);
  o = PUT_LIT(o, "\r\n\r\n");
  o = put_str(o, body, (size_t)(b - body));
  c->req_len = (size_t)(o - c->req);
  c->req_off = 0;
}

/* Writes what is left of the request; -1 on a broken connection. */
static int send_some(conn_t *c) {
  while (c->req_off < c->req_len) {
    ssize_t k =
        send(c->fd, c->req + c->req_off, c->req_len - c->req_off, MSG_NOSIGNAL);
    if (k < 0)
      return errno == EAGAIN ? 0 : -1;
    c->req_off += (size_t)k;
  }
  return 0;
}

/* When request seq is due under LOAD_RATE. */
static double due_ms(const load_t *l, unsigned seq) {
  return l->t0 + (double)seq * 1000.0 / l->rate;
}

/* Sends the next request on c if there is one and it is due; a connection
 * left idle is started again by start_due. */
static int start(load_t *l, conn_t *c) {
  if (l->next >= l->n)
    return 0;
  double now = wall_ms();
  if (l->rate > 0 && due_ms(l, l->next) > now)
    return 0;
  c->seq = l->next++;
  build_request(l, c);
  if (c->req_len == 0)
    return -1;
  c->busy = true;
  c->post_ms = l->rate > 0 ? due_ms(l, c->seq) : now;
  return send_some(c);
}

static int resend(conn_t *c) {
  c->req_off = 0;
  c->busy = true;
  c->retry_at_ms = 0;
  c->post_ms = wall_ms();
  return send_some(c);
}

/* Length of a full answer at the front of buf (0: not yet), its status and
 * its body. */
static size_t parse_answer(const char *buf, size_t len, int *status,
                           const char **body, size_t *body_len) {
  const char *end = memmem(buf, len, "\r\n\r\n", 4);
  if (end == NULL || len < 12)
    return 0;
  *status = atoi(buf + 9);
  size_t head = (size_t)(end - buf) + 4, clen = 0;
  for (const char *p = buf; p < end; p++) {
    if ((*p == '\n') && strncasecmp(p + 1, "content-length:", 15) == 0) {
      clen = strtoul(p + 16, NULL, 10);
      break;
    }
  }
  if (len < head + clen)
    return 0;
  *body = buf + head;
  *body_len = clen;
  return head + clen;
}

/* The first "id":"..." of the answer (messages[0].id). */
static bool find_id(const char *body, size_t len, char *out) {
  const char *p = memmem(body, len, "\"id\":\"", 6);
  if (p == NULL)
    return false;
  p += 6;
  const char *q = memchr(p, '"', len - (size_t)(p - body));
  if (q == NULL || q - p >= ID_MAX)
    return false;
  memcpy(out, p, (size_t)(q - p));
  out[q - p] = '\0';
  return true;
}

/* Handles every full answer in c->buf; -1 on a protocol error. */
static int on_answers(load_t *l, conn_t *c) {
  for (;;) {
    int status = 0;
    const char *body = NULL;
    size_t blen = 0;
    size_t used = parse_answer(c->buf, c->buf_len, &status, &body, &blen);
    if (used == 0)
      return c->buf_len == BUF_MAX ? -1 : 0;
    if (!c->busy)
      return -1;
    c->busy = false;
    bool ok = l->get != NULL
                  ? status >= 200 && status < 300 &&
                        snprintf(l->ids[l->accepted], ID_MAX, "%u", c->seq) > 0
                  : status == 202 && find_id(body, blen, l->ids[l->accepted]);
    if (ok) {
      l->answer_ms[l->accepted] = wall_ms() - c->post_ms;
      l->post_ms[l->accepted++] = c->post_ms;
    } else if (status == 429) {
      l->busy++;
      c->retry_at_ms = wall_ms() + RETRY_MS;
    } else {
      l->failed++;
    }
    memmove(c->buf, c->buf + used, c->buf_len - used);
    c->buf_len -= used;
    if (c->retry_at_ms == 0 && start(l, c) < 0)
      return -1;
  }
}

/* Reads what the socket holds. The descriptor is edge-triggered, so it is
 * read until it is empty; a read that fills less than the room it was
 * given has emptied it (a TCP socket gives all it holds, up to the room),
 * so the next edge comes with the next octets and no read ends in EAGAIN:
 * one recv an answer instead of two. */
static int on_readable(load_t *l, conn_t *c) {
  for (;;) {
    size_t room = BUF_MAX - c->buf_len;
    ssize_t k = recv(c->fd, c->buf + c->buf_len, room, 0);
    if (k == 0)
      return -1;
    if (k < 0)
      return errno == EAGAIN ? on_answers(l, c) : -1;
    c->buf_len += (size_t)k;
    if (on_answers(l, c) < 0)
      return -1;
    if ((size_t)k < room)
      return 0;
  }
}

static bool done(const load_t *l, const conn_t *cs, unsigned nc) {
  if (l->next < l->n)
    return false;
  for (unsigned i = 0; i < nc; i++)
    if (cs[i].fd >= 0 && (cs[i].busy || cs[i].retry_at_ms > 0))
      return false;
  return true;
}

static void drop(load_t *l, conn_t *c) {
  if (c->busy || c->retry_at_ms > 0)
    l->failed++;
  c->busy = false;
  c->retry_at_ms = 0;
  close(c->fd);
  c->fd = -1;
}

/* Resends the 429s whose wait is over; returns the epoll timeout. */
static int run_retries(load_t *l, conn_t *cs, unsigned nc) {
  double now = wall_ms(), next = 0;
  for (unsigned i = 0; i < nc; i++) {
    conn_t *c = &cs[i];
    if (c->fd < 0 || c->retry_at_ms == 0)
      continue;
    if (c->retry_at_ms <= now) {
      if (resend(c) < 0)
        drop(l, c);
    } else if (next == 0 || c->retry_at_ms < next) {
      next = c->retry_at_ms;
    }
  }
  return next == 0 ? 1000 : (int)(next - now) + 1;
}

/* Under LOAD_RATE: the requests that are due go out on idle connections;
 * returns the ms until the next one is due (or `timeout` if that is
 * sooner or nothing waits). */
static int start_due(load_t *l, conn_t *cs, unsigned nc, int timeout) {
  if (l->rate <= 0)
    return timeout;
  for (unsigned i = 0; i < nc && l->next < l->n; i++) {
    conn_t *c = &cs[i];
    if (c->fd >= 0 && !c->busy && c->retry_at_ms == 0 && start(l, c) < 0)
      drop(l, c);
  }
  if (l->next >= l->n)
    return timeout;
  double wait = due_ms(l, l->next) - wall_ms();
  int ms = wait <= 0 ? 0 : (int)wait + 1;
  /* All connections busy: wait for an answer, not for the due time. */
  bool idle = false;
  for (unsigned i = 0; i < nc && !idle; i++)
    idle = cs[i].fd >= 0 && !cs[i].busy && cs[i].retry_at_ms == 0;
  return idle && ms < timeout ? ms : timeout;
}

static int run(load_t *l, conn_t *cs, unsigned nc) {
  struct epoll_event evs[256];
  for (unsigned i = 0; i < nc; i++)
    if (start(l, &cs[i]) < 0)
      drop(l, &cs[i]);
  while (!done(l, cs, nc)) {
    int timeout = start_due(l, cs, nc, run_retries(l, cs, nc));
    int k = epoll_wait(l->ep, evs, 256, timeout);
    if (k < 0 && errno != EINTR)
      return -1;
    for (int i = 0; i < k; i++) {
      conn_t *c = evs[i].data.ptr;
      if (c->fd < 0)
        continue;
      if ((evs[i].events & EPOLLOUT) && send_some(c) < 0) {
        drop(l, c);
        continue;
      }
      if ((evs[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR)) &&
          on_readable(l, c) < 0)
        drop(l, c);
    }
  }
  return 0;
}

/* x rounded to `places` decimals (0 or 3), as "%.0f" or "%.3f" write it
 * but for the last digit of a tie, from integers: the floating-point
 * conversions of fprintf were two thirds of this client's instructions. */
static char *put_fixed(char *o, double x, int places) {
  if (x < 0) {
    *o++ = '-';
    x = -x;
  }
  unsigned long long u = (unsigned long long)rint(places ? x * 1e3 : x);
  if (places == 0)
    return put_uint(o, u, 1);
  o = put_uint(o, u / 1000, 1);
  *o++ = '.';
  return put_uint(o, u % 1000, 3);
}

static int write_out(const load_t *l, const char *path, double t0, double t1) {
  FILE *f = fopen(path, "w");
  if (f == NULL)
    return -1;
  fprintf(f,
          "{\"t0_ms\":%.0f,\"t1_ms\":%.0f,\"accepted\":%u,\"failed\":%u,"
          "\"busy\":%u,\"msgs\":[",
          t0, t1, l->accepted, l->failed, l->busy);
  for (unsigned i = 0; i < l->accepted; i++) {
    char line[ID_MAX + 64], *o = line;
    if (i > 0)
      *o++ = ',';
    o = PUT_LIT(o, "[\"");
    o = put_str(o, l->ids[i], strlen(l->ids[i]));
    o = PUT_LIT(o, "\",");
    o = put_fixed(o, l->post_ms[i], 0);
    *o++ = ',';
    o = put_fixed(o, l->answer_ms[i], 3);
    *o++ = ']';
    fwrite(line, 1, (size_t)(o - line), f);
  }
  fputs("]}\n", f);
  return fclose(f) == 0 ? 0 : -1;
}

static int open_all(load_t *l, conn_t *cs, unsigned nc,
                    const struct sockaddr_in *sa) {
  for (unsigned i = 0; i < nc; i++) {
    cs[i].fd = conn_open(sa);
    if (cs[i].fd < 0 ||
        fcntl(cs[i].fd, F_SETFL, fcntl(cs[i].fd, F_GETFL) | O_NONBLOCK) != 0)
      return -1;
    struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT | EPOLLET,
                             .data.ptr = &cs[i]};
    if (epoll_ctl(l->ep, EPOLL_CTL_ADD, cs[i].fd, &ev) != 0)
      return -1;
  }
  return 0;
}

int main(int argc, char **argv) {
  if (argc != 7 && argc != 8) {
    fprintf(stderr, "usage: %s HOST PORT KEY N C OUT [GET-TARGET]\n", argv[0]);
    return 2;
  }
  load_t l = {
      .host = argv[1], .key = argv[3], .get = argc == 8 ? argv[7] : NULL};
  l.n = (unsigned)strtoul(argv[4], NULL, 10);
  if (l.get != NULL && (l.get[0] != '/' || strlen(l.get) > 800)) {
    fprintf(stderr, "load: GET-TARGET must start with / and be at most 800 "
                    "characters\n");
    return 2;
  }
  if (l.get == NULL && !build_head(&l)) {
    fprintf(stderr, "load: the host and key are too long for a request\n");
    return 2;
  }
  unsigned nc = (unsigned)strtoul(argv[5], NULL, 10);
  struct sockaddr_in sa = {.sin_family = AF_INET,
                           .sin_port = htons((uint16_t)atoi(argv[2]))};
  if (nc == 0 || inet_pton(AF_INET, argv[1], &sa.sin_addr) != 1) {
    fprintf(stderr, "load: bad address or connection count\n");
    return 2;
  }
  l.ids = calloc(l.n ? l.n : 1, sizeof *l.ids);
  l.post_ms = calloc(l.n ? l.n : 1, sizeof *l.post_ms);
  l.answer_ms = calloc(l.n ? l.n : 1, sizeof *l.answer_ms);
  conn_t *cs = calloc(nc, sizeof *cs);
  l.ep = epoll_create1(0);
  if (l.ids == NULL || l.post_ms == NULL || l.answer_ms == NULL || cs == NULL ||
      l.ep < 0 || open_all(&l, cs, nc, &sa) != 0) {
    fprintf(stderr, "load: cannot set up: %s\n", strerror(errno));
    return 1;
  }
  const char *rate = getenv("LOAD_RATE");
  if (rate != NULL && rate[0] != '\0') {
    char *end;
    l.rate = strtod(rate, &end);
    if (*end != '\0' || !(l.rate > 0) || l.rate > 1e7) {
      fprintf(stderr, "load: LOAD_RATE must be a number of requests a "
                      "second above 0\n");
      return 2;
    }
  }
  const char *to = getenv("LOAD_TO");
  if (to != NULL && to[0] != '\0') {
    char *end;
    unsigned long k = strtoul(to, &end, 10);
    if (*end != '\0' || k < 1 || k > 10000000) {
      fprintf(stderr, "load: LOAD_TO must be a number of recipients from 1 "
                      "to 10000000\n");
      return 2;
    }
    l.to = (unsigned)k;
  }
  double t0 = wall_ms();
  l.t0 = t0;
  if (run(&l, cs, nc) != 0) {
    fprintf(stderr, "load: epoll: %s\n", strerror(errno));
    return 1;
  }
  double t1 = wall_ms();
  printf("load: %u accepted, %u failed, %u answered 429, %.0f accepted/s",
         l.accepted, l.failed, l.busy, l.accepted / ((t1 - t0) / 1000.0));
  if (l.rate > 0)
    printf(" (offered %.0f/s)", l.rate);
  printf("\n");
  int rc = write_out(&l, argv[6], t0, t1) == 0 ? 0 : 1;
  for (unsigned i = 0; i < nc; i++)
    if (cs[i].fd >= 0)
      close(cs[i].fd);
  close(l.ep);
  free(cs);
  free(l.ids);
  free(l.post_ms);
  free(l.answer_ms);
  return rc;
}
