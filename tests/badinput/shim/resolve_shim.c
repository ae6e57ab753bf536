/*
 * resolve_shim.so - an LD_PRELOAD shim for the SSRF test: a resolver
 * override without /etc/hosts or a DNS server, and a record of every
 * outbound connect().
 *
 * $SG_RESOLVE_MAP names a file of lines "name answer1 answer2 ...", each
 * answer a comma-separated list of IP addresses: the Nth look-up of name
 * gets answerN (the last one repeats), so a name can answer differently
 * the second time (DNS rebinding). Other names go to the real resolver.
 * $SG_RESOLVE_LOG names a file that gets one line per look-up of a mapped
 * name ("lookup NAME N ANSWER") and one per connect() to an IP address
 * ("connect ADDR PORT"). A connect() to an address that is not loopback
 * fails with ENETUNREACH, so that a test never reaches another host; the
 * record still shows that it was tried. The shim never changes a
 * connect() to loopback.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <dlfcn.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#define NAMES_MAX 32

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static unsigned counts[NAMES_MAX];

static void record(const char *fmt, const char *a, unsigned n, const char *b) {
  const char *p = getenv("SG_RESOLVE_LOG");
  FILE *f = p != NULL ? fopen(p, "a") : NULL;
  if (f == NULL)
    return;
  fprintf(f, fmt, a, n, b);
  fclose(f);
}

/* The answer for the nth look-up (from 0) of name, copied into out; the
 * index of the name's line, or -1 when the map does not name it. */
static int answer_of(const char *name, unsigned n, char *out, size_t cap) {
  const char *p = getenv("SG_RESOLVE_MAP");
  FILE *f = p != NULL ? fopen(p, "r") : NULL;
  if (f == NULL)
    return -1;
  char line[1024];
  int idx = -1;
  for (int i = 0; idx < 0 && i < NAMES_MAX && fgets(line, sizeof line, f);
       i++) {
    char *save = NULL, *tok = strtok_r(line, " \t\n", &save);
    if (tok == NULL || strcasecmp(tok, name) != 0)
      continue;
    idx = i;
    char *last = NULL;
    for (unsigned k = 0; (tok = strtok_r(NULL, " \t\n", &save)) != NULL; k++) {
      last = tok;
      if (k == n)
        break;
    }
    snprintf(out, cap, "%s", last != NULL ? last : "");
  }
  fclose(f);
  return idx;
}

static struct addrinfo *one(const char *ip, int port,
                            const struct addrinfo *hints) {
  struct addrinfo *ai = calloc(1, sizeof *ai + sizeof(struct sockaddr_in6));
  if (ai == NULL)
    return NULL;
  struct sockaddr *sa = (struct sockaddr *)(ai + 1);
  struct sockaddr_in *in = (struct sockaddr_in *)sa;
  struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)sa;
  if (inet_pton(AF_INET, ip, &in->sin_addr) == 1) {
    in->sin_family = AF_INET;
    in->sin_port = htons((uint16_t)port);
    ai->ai_family = AF_INET;
    ai->ai_addrlen = sizeof *in;
  } else if (inet_pton(AF_INET6, ip, &in6->sin6_addr) == 1) {
    in6->sin6_family = AF_INET6;
    in6->sin6_port = htons((uint16_t)port);
    ai->ai_family = AF_INET6;
    ai->ai_addrlen = sizeof *in6;
  } else {
    free(ai);
    return NULL;
  }
  ai->ai_addr = sa;
  ai->ai_socktype = hints && hints->ai_socktype ? hints->ai_socktype : SOCK_STREAM;
  ai->ai_protocol = hints ? hints->ai_protocol : 0;
  return ai;
}

int getaddrinfo(const char *node, const char *service,
                const struct addrinfo *hints, struct addrinfo **res) {
  static int (*real)(const char *, const char *, const struct addrinfo *,
                     struct addrinfo **);
  char ans[512];
  pthread_mutex_lock(&lock);
  int idx = node != NULL ? answer_of(node, 0, ans, sizeof ans) : -1;
  unsigned n = idx >= 0 ? counts[idx]++ : 0;
  pthread_mutex_unlock(&lock);
  if (idx < 0) {
    if (real == NULL)
      *(void **)&real = dlsym(RTLD_NEXT, "getaddrinfo");
    return real(node, service, hints, res);
  }
  answer_of(node, n, ans, sizeof ans);
  record("lookup %s %u %s\n", node, n + 1, ans);
  int port = service != NULL ? atoi(service) : 0;
  struct addrinfo *head = NULL, **tail = &head;
  char *save = NULL;
  for (char *ip = strtok_r(ans, ",", &save); ip != NULL;
       ip = strtok_r(NULL, ",", &save)) {
    struct addrinfo *ai = one(ip, port, hints);
    if (ai == NULL)
      continue;
    if (hints != NULL && hints->ai_family != AF_UNSPEC &&
        hints->ai_family != ai->ai_family) {
      free(ai);
      continue;
    }
    *tail = ai;
    tail = &ai->ai_next;
  }
  *res = head;
  return head != NULL ? 0 : EAI_NONAME;
}

void freeaddrinfo(struct addrinfo *ai) {
  static void (*real)(struct addrinfo *);
  /* Ours are single blocks whose address follows the struct. */
  if (ai != NULL && ai->ai_addr == (struct sockaddr *)(ai + 1)) {
    while (ai != NULL) {
      struct addrinfo *next = ai->ai_next;
      free(ai);
      ai = next;
    }
    return;
  }
  if (real == NULL)
    *(void **)&real = dlsym(RTLD_NEXT, "freeaddrinfo");
  real(ai);
}

static int loopback(const struct sockaddr *sa) {
  if (sa->sa_family == AF_INET)
    return (ntohl(((const struct sockaddr_in *)sa)->sin_addr.s_addr) >> 24) ==
           127;
  if (sa->sa_family == AF_INET6)
    return IN6_IS_ADDR_LOOPBACK(&((const struct sockaddr_in6 *)sa)->sin6_addr);
  return 1; /* not IP: unix sockets and the like pass */
}

int connect(int fd, const struct sockaddr *sa, socklen_t len) {
  static int (*real)(int, const struct sockaddr *, socklen_t);
  if (sa != NULL && (sa->sa_family == AF_INET || sa->sa_family == AF_INET6)) {
    char ip[INET6_ADDRSTRLEN] = "?";
    unsigned port;
    if (sa->sa_family == AF_INET) {
      inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, ip,
                sizeof ip);
      port = ntohs(((const struct sockaddr_in *)sa)->sin_port);
    } else {
      inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)sa)->sin6_addr, ip,
                sizeof ip);
      port = ntohs(((const struct sockaddr_in6 *)sa)->sin6_port);
    }
    record("connect %s %u%s\n", ip, port, "");
    if (!loopback(sa)) {
      errno = ENETUNREACH;
      return -1;
    }
  }
  if (real == NULL)
    *(void **)&real = dlsym(RTLD_NEXT, "connect");
  return real(fd, sa, len);
}
