/* common.h - what the servers of bench/http-servers share: the answer they
 * give, the key they check, and the hop to another thread that stands for
 * smsgate's store writer (the handler hands the request over, a second
 * thread takes it, and the loop is woken to answer, as when a commit comes
 * back). The hop's thread does no work of its own: what is measured is the
 * HTTP server and the wake-up, not a store. */
#ifndef BENCH_HTTP_SERVERS_COMMON_H
#define BENCH_HTTP_SERVERS_COMMON_H

#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BENCH_KEY "Bearer bench-key"
#define BENCH_PATH "/v1/messages"
#define BENCH_MAX_BODY 65536

/* The 202 body, about as long as smsgate's answer to one message (~150
 * bytes); the id is what bench_e2e reads back. */
static inline int answer_body(char *out, size_t cap, unsigned long long seq) {
  return snprintf(out, cap,
                  "{\"messages\":[{\"id\":\"01JDBENCH%016llx\","
                  "\"to\":\"+79001234567\",\"status\":\"accepted\","
                  "\"parts\":1,\"encoding\":\"gsm7\","
                  "\"created_at\":\"2026-11-27T09:00:00.000Z\"}]}",
                  seq);
}

/* ---- the hop ------------------------------------------------------------ */

typedef struct hop_item {
  struct hop_item *next;
  void *req;
} hop_item_t;

typedef struct hop hop_t;
/* Called on the hop's thread with the items it took (in order): it must
 * hand them back to the loop and wake it. */
typedef void (*hop_deliver_cb)(hop_t *h, hop_item_t *items);

struct hop {
  pthread_mutex_t mu;
  pthread_cond_t cv;
  hop_item_t *in;   /* pushed by the loop, newest first */
  hop_item_t *done; /* for hop_take, oldest first */
  hop_item_t **done_tail;
  hop_deliver_cb deliver;
  void *data;
  pthread_t thread;
};

static void *hop_main(void *arg) {
  hop_t *h = arg;
  pthread_mutex_lock(&h->mu);
  for (;;) {
    while (h->in == NULL)
      pthread_cond_wait(&h->cv, &h->mu);
    hop_item_t *l = h->in, *fifo = NULL;
    h->in = NULL;
    pthread_mutex_unlock(&h->mu);
    while (l != NULL) { /* oldest first */
      hop_item_t *n = l->next;
      l->next = fifo;
      fifo = l;
      l = n;
    }
    h->deliver(h, fifo);
    pthread_mutex_lock(&h->mu);
  }
  return NULL;
}

static inline int hop_start(hop_t *h, hop_deliver_cb deliver, void *data) {
  memset(h, 0, sizeof *h);
  pthread_mutex_init(&h->mu, NULL);
  pthread_cond_init(&h->cv, NULL);
  h->done_tail = &h->done;
  h->deliver = deliver;
  h->data = data;
  return pthread_create(&h->thread, NULL, hop_main, h);
}

/* On the loop: hands one request to the hop's thread. */
static inline void hop_push(hop_t *h, hop_item_t *it) {
  pthread_mutex_lock(&h->mu);
  bool was_empty = h->in == NULL;
  it->next = h->in;
  h->in = it;
  pthread_mutex_unlock(&h->mu);
  if (was_empty)
    pthread_cond_signal(&h->cv);
}

/* A deliver callback's helper: appends the items to h->done; true when the
 * list was empty (the loop must be woken). */
static inline bool hop_put_done(hop_t *h, hop_item_t *items) {
  pthread_mutex_lock(&h->mu);
  bool was_empty = h->done == NULL;
  *h->done_tail = items;
  while (*h->done_tail != NULL)
    h->done_tail = &(*h->done_tail)->next;
  pthread_mutex_unlock(&h->mu);
  return was_empty;
}

/* On the loop: every item handed back so far, oldest first. */
static inline hop_item_t *hop_take(hop_t *h) {
  pthread_mutex_lock(&h->mu);
  hop_item_t *l = h->done;
  h->done = NULL;
  h->done_tail = &h->done;
  pthread_mutex_unlock(&h->mu);
  return l;
}

/* On the loop: answer(req) for every item handed back so far, oldest first
 * (answer may free the request that holds the item). */
static inline void hop_answer_all(hop_t *h, void (*answer)(void *req)) {
  hop_item_t *it = hop_take(h);
  while (it != NULL) {
    hop_item_t *next = it->next;
    answer(it->req);
    it = next;
  }
}

/* argv: PORT now|hop */
static inline bool parse_args(int argc, char **argv, int *port, bool *hop) {
  if (argc != 3 ||
      (strcmp(argv[2], "now") != 0 && strcmp(argv[2], "hop") != 0)) {
    fprintf(stderr, "usage: %s PORT now|hop\n", argv[0]);
    return false;
  }
  *port = atoi(argv[1]);
  *hop = strcmp(argv[2], "hop") == 0;
  return *port > 0 && *port < 65536;
}

#endif
