/* test_engine.c - the engine end to end, in one process: a temporary SQLite
 * store, the SMSC simulator on an ephemeral port (receipts 50 ms after each
 * submit), SMPP client connectors to it, and a local HTTP receiver for
 * webhooks, all on one libuv loop. Each test waits by running the loop until
 * a condition holds (bounded), never by sleeping. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <uv.h>

#include "core/config.h"
#include "core/error.h"
#include "engine/engine.h"
#include "engine/ops.h"
#include "engine/route_admin.h"
#include "engine/webhook.h"
#include "sim/smsc.h"
#include "store/sqlite.h"
#include "store/store.h"

#define SECRET "s3cret"
#define MAX_ITEMS 8
#define MAX_EVENTS 64
#define MAX_HOOKS 16

/* ---- a webhook receiver -------------------------------------------------- */

typedef struct hook {
  char body[2048];
  bool sig_ok;
  char status[24];
  char message_id[SG_ID_LEN + 1];
  char event[32];
  char hook_id[32]; /* X-Smsgate-Webhook-Id */
  int answer;       /* the status answered; 0: held, not answered */
} hook_t;

typedef struct rx_conn rx_conn_t;

typedef struct rx {
  uv_tcp_t srv;
  uint16_t port;
  int n;
  hook_t hooks[MAX_HOOKS];
  int fail_first;       /* answer the first this many 503 */
  bool hold;            /* record requests but answer none */
  rx_conn_t *conns[16]; /* open connections */
} rx_t;

struct rx_conn {
  uv_tcp_t h;
  rx_t *rx;
  char buf[16384];
  size_t len;
  unsigned held; /* requests recorded and not answered */
};

/* strcasestr, which is a GNU extension. */
static const char *ci_find(const char *hay, const char *needle) {
  size_t n = strlen(needle);
  for (; *hay != '\0'; hay++)
    if (strncasecmp(hay, needle, n) == 0)
      return hay;
  return NULL;
}

static void rx_alloc_cb(uv_handle_t *h, size_t sz, uv_buf_t *b) {
  rx_conn_t *c = h->data;
  b->base = c->buf + c->len;
  b->len = sizeof c->buf - c->len;
}

static void rx_write_cb(uv_write_t *w, int status) {
  free(w);
}

static void rx_conn_closed(uv_handle_t *h) {
  rx_conn_t *c = h->data;
  for (size_t i = 0; i < sizeof c->rx->conns / sizeof c->rx->conns[0]; i++)
    if (c->rx->conns[i] == c)
      c->rx->conns[i] = NULL;
  free(c);
}

static void rx_answer(rx_conn_t *c, int status) {
  static const char ok[] = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n";
  static const char busy[] = "HTTP/1.1 503 Busy\r\nContent-Length: 0\r\n\r\n";
  uv_write_t *w = malloc(sizeof *w);
  uv_buf_t b = status == 200 ? uv_buf_init((char *)ok, sizeof ok - 1)
                             : uv_buf_init((char *)busy, sizeof busy - 1);
  uv_write(w, (uv_stream_t *)&c->h, &b, 1, rx_write_cb);
}

/* Answers 200 to every request held so far, and holds no more. */
static void rx_release(rx_t *rx) {
  rx->hold = false;
  unsigned n = 0;
  for (size_t i = 0; i < sizeof rx->conns / sizeof rx->conns[0]; i++)
    for (rx_conn_t *c = rx->conns[i]; c != NULL && c->held > 0; c->held--) {
      rx_answer(c, 200);
      n++;
    }
  for (int i = 0; i < rx->n && n > 0; i++)
    if (rx->hooks[i].answer == 0) {
      rx->hooks[i].answer = 200;
      n--;
    }
}

static void rx_record(rx_t *rx, const char *hdrs, const char *body, size_t blen,
                      int answer) {
  if (rx->n >= MAX_HOOKS)
    return;
  hook_t *k = &rx->hooks[rx->n++];
  k->answer = answer;
  snprintf(k->body, sizeof k->body, "%.*s", (int)blen, body);
  const char *sig = ci_find(hdrs, "\r\nX-Smsgate-Signature: ");
  char sv[96] = "";
  if (sig != NULL)
    sscanf(sig + 23, "%95[^\r]", sv);
  const char *hid = ci_find(hdrs, "\r\nX-Smsgate-Webhook-Id: ");
  if (hid != NULL)
    sscanf(hid + 24, "%31[^\r]", k->hook_id);
  k->sig_ok = sg_webhook_verify((const uint8_t *)SECRET, strlen(SECRET), body,
                                blen, sv);
  json_t *j = json_loadb(body, blen, 0, NULL);
  if (j != NULL) {
    const char *s = json_string_value(json_object_get(j, "status"));
    const char *m = json_string_value(json_object_get(j, "message_id"));
    const char *ev = json_string_value(json_object_get(j, "event"));
    snprintf(k->status, sizeof k->status, "%s", s ? s : "");
    snprintf(k->message_id, sizeof k->message_id, "%s", m ? m : "");
    snprintf(k->event, sizeof k->event, "%s", ev ? ev : "");
    json_decref(j);
  }
}

/* Takes every complete request out of the buffer and answers 200. */
static void rx_parse(rx_conn_t *c) {
  for (;;) {
    c->buf[c->len < sizeof c->buf ? c->len : sizeof c->buf - 1] = '\0';
    char *end = strstr(c->buf, "\r\n\r\n");
    if (end == NULL)
      return;
    size_t hl = (size_t)(end - c->buf) + 4;
    const char *cl = ci_find(c->buf, "\r\nContent-Length:");
    size_t blen = cl != NULL ? strtoul(cl + 17, NULL, 10) : 0;
    if (c->len < hl + blen)
      return;
    *end = '\0';
    rx_t *rx = c->rx;
    int answer = rx->hold ? 0 : rx->fail_first > 0 ? 503 : 200;
    rx_record(rx, c->buf, c->buf + hl, blen, answer);
    if (answer == 0)
      c->held++;
    else
      rx_answer(c, answer);
    if (answer == 503)
      rx->fail_first--;
    memmove(c->buf, c->buf + hl + blen, c->len - hl - blen);
    c->len -= hl + blen;
  }
}

static void rx_read_cb(uv_stream_t *s, ssize_t n, const uv_buf_t *b) {
  rx_conn_t *c = s->data;
  if (n < 0) {
    uv_close((uv_handle_t *)s, rx_conn_closed);
    return;
  }
  c->len += (size_t)n;
  rx_parse(c);
}

static void rx_conn_cb(uv_stream_t *srv, int status) {
  rx_conn_t *c = calloc(1, sizeof *c);
  c->rx = srv->data;
  for (size_t i = 0; i < sizeof c->rx->conns / sizeof c->rx->conns[0]; i++)
    if (c->rx->conns[i] == NULL) {
      c->rx->conns[i] = c;
      break;
    }
  uv_tcp_init(srv->loop, &c->h);
  c->h.data = c;
  if (uv_accept(srv, (uv_stream_t *)&c->h) == 0)
    uv_read_start((uv_stream_t *)&c->h, rx_alloc_cb, rx_read_cb);
  else
    uv_close((uv_handle_t *)&c->h, rx_conn_closed);
}

static void rx_start(uv_loop_t *loop, rx_t *rx) {
  struct sockaddr_in a;
  uv_ip4_addr("127.0.0.1", 0, &a);
  uv_tcp_init(loop, &rx->srv);
  rx->srv.data = rx;
  assert_int_equal(uv_tcp_bind(&rx->srv, (struct sockaddr *)&a, 0), 0);
  assert_int_equal(uv_listen((uv_stream_t *)&rx->srv, 16, rx_conn_cb), 0);
  struct sockaddr_storage ss;
  int len = sizeof ss;
  uv_tcp_getsockname(&rx->srv, (struct sockaddr *)&ss, &len);
  rx->port = ntohs(((struct sockaddr_in *)&ss)->sin_port);
}

/* ---- the fixture --------------------------------------------------------- */

typedef struct item {
  int status;
  char id[SG_ID_LEN + 1];
  char to[32];
  char connector[32];
  char code[32];
  char reason[SG_PHONE_ERR_TEXT_MAX];
  unsigned parts;
  sg_encoding_t encoding;
  sg_msg_status_t msg_status;
} item_t;

typedef struct got_event {
  unsigned seq;
  sg_msg_status_t status;
  int64_t time_ms;
  char detail[160];
} got_event_t;

typedef struct fx {
  uv_loop_t loop;
  char dir[64];
  char path[96];
  sg_sim_smsc_t *sim;
  uint16_t dead_port;
  sg_config_t *cfg;
  sg_store_t *st;
  sg_engine_t *e;
  bool started;
  int start_status;
  void (*on_started)(struct fx *);
  /* The last submit. */
  bool submitted;
  int sub_status;
  char sub_code[48];
  char sub_field[32];
  char response[4096];
  size_t n_items, n_accepted;
  size_t resp_entries; /* "messages" in the whole response */
  item_t items[MAX_ITEMS];
  bool check_stored; /* read the first message back inside the callback */
  int stored_status;
  /* The last read message. */
  bool got;
  int get_status;
  sg_msg_status_t status;
  size_t n_parts;
  sg_msg_status_t part_status[4];
  char part_conn[4][32];
  char part_smsc[4][66];
  size_t n_events;
  got_event_t events[MAX_EVENTS];
  bool stopped;
  rx_t rx;
  unsigned max_queued;  /* webhooks claimed ahead, the most seen waiting */
  unsigned handed_back; /* log lines of deliveries that waited too long */
} fx_t;

static int64_t now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void pulse_cb(uv_timer_t *t) {
  (void)t;
}

/* Runs the loop until pred(f) holds or timeout_ms pass; returns pred(f). */
/* Runs the loop until pred holds or timeout_ms passed. */
static bool run_loop(fx_t *f, bool (*pred)(fx_t *), unsigned timeout_ms) {
  uv_timer_t pulse;
  uv_timer_init(&f->loop, &pulse);
  uv_timer_start(&pulse, pulse_cb, 5, 5);
  uint64_t end = uv_now(&f->loop) + timeout_ms;
  while (!pred(f) && uv_now(&f->loop) < end)
    uv_run(&f->loop, UV_RUN_ONCE);
  uv_close((uv_handle_t *)&pulse, NULL);
  uv_run(&f->loop, UV_RUN_NOWAIT);
  return pred(f);
}

/* Waits for a condition the test expects. timeout_ms is what it takes on
 * a quiet machine; the wait is at least k_wait_floor_ms, a guard against a
 * hang rather than a measurement: under ASan on a loaded machine an engine
 * start alone (SQLite with synchronous=FULL) has taken over 5 s. */
enum { k_wait_floor_ms = 60000 };
static bool run_until(fx_t *f, bool (*pred)(fx_t *), unsigned timeout_ms) {
  return run_loop(f, pred,
                  timeout_ms < k_wait_floor_ms ? k_wait_floor_ms : timeout_ms);
}

static bool never(fx_t *f) {
  return false;
}

static void run_for(fx_t *f, unsigned ms) {
  run_loop(f, never, ms);
}

static uint16_t free_port(uv_loop_t *loop) {
  uv_tcp_t t;
  struct sockaddr_in a;
  uv_ip4_addr("127.0.0.1", 0, &a);
  uv_tcp_init(loop, &t);
  uv_tcp_bind(&t, (struct sockaddr *)&a, 0);
  struct sockaddr_storage ss;
  int len = sizeof ss;
  uv_tcp_getsockname(&t, (struct sockaddr *)&ss, &len);
  uv_close((uv_handle_t *)&t, NULL);
  uv_run(loop, UV_RUN_NOWAIT);
  return ntohs(((struct sockaddr_in *)&ss)->sin_port);
}

enum { SIM_PLAIN, SIM_EARLY, SIM_SLOW, SIM_LATE_DLR };

static int setup_sim(void **state, int kind) {
  fx_t *f = calloc(1, sizeof *f);
  snprintf(f->dir, sizeof f->dir, "/tmp/sg-engine-XXXXXX");
  if (mkdtemp(f->dir) == NULL)
    return -1;
  snprintf(f->path, sizeof f->path, "%s/smsgate.db", f->dir);
  uv_loop_init(&f->loop);
  sg_sim_smsc_config_t sc;
  sg_sim_smsc_config_default(&sc);
  sc.port = 0;
  sc.dlr_delay_ms = 50;
  if (kind == SIM_SLOW) /* each response 400 ms late */
    sc.latency_ms = 400;
  if (kind == SIM_LATE_DLR) /* receipts 700 ms after the submit */
    sc.dlr_delay_ms = 700;
  if (kind == SIM_EARLY) { /* receipts come 2.6 s before their submit_sm_resp: longer
                  than the connector holds them (dlr_hold_ms, 2 s) */
    sc.dlr_delay_ms = 0;
    sc.latency_ms = 2600;
    sc.dlr_early = true;
  }
  if (sg_sim_smsc_new(&f->loop, &sc, &f->sim) != 0 ||
      sg_sim_smsc_start(f->sim, NULL, 0) != 0)
    return -1;
  f->dead_port = free_port(&f->loop);
  *state = f;
  return 0;
}

static int setup(void **state) {
  return setup_sim(state, SIM_PLAIN);
}

static int setup_early(void **state) {
  return setup_sim(state, SIM_EARLY);
}

static int setup_slow(void **state) {
  return setup_sim(state, SIM_SLOW);
}

static int setup_late_dlr(void **state) {
  return setup_sim(state, SIM_LATE_DLR);
}

static void engine_stopped_cb(sg_engine_t *e, int status, void *ud) {
  ((fx_t *)ud)->stopped = true;
}

static bool is_stopped(fx_t *f) {
  return f->stopped;
}

static void store_closed_cb(void *data) {
  *(bool *)data = true;
}

static void sim_stopped_cb(sg_sim_smsc_t *sim, void *user) {
  *(bool *)user = true;
}

static void close_any(uv_handle_t *h, void *arg) {
  if (!uv_is_closing(h))
    uv_close(h, NULL);
}

static int teardown(void **state) {
  fx_t *f = *state;
  if (f->e != NULL && sg_engine_stop(f->e, engine_stopped_cb, f) == 0)
    assert_true(run_until(f, is_stopped, 10000));
  sg_engine_free(f->e);
  bool closed = false;
  if (f->st != NULL) {
    sg_store_close(f->st, store_closed_cb, &closed);
    while (!closed)
      uv_run(&f->loop, UV_RUN_ONCE);
  }
  bool sim_done = false;
  sg_sim_smsc_stop(f->sim, sim_stopped_cb, &sim_done);
  while (!sim_done)
    uv_run(&f->loop, UV_RUN_ONCE);
  sg_sim_smsc_free(f->sim);
  uv_walk(&f->loop, close_any, NULL); /* the webhook receiver */
  uv_run(&f->loop, UV_RUN_DEFAULT);
  assert_int_equal(uv_loop_close(&f->loop), 0);
  sg_config_free(f->cfg);
  static const char *const suffix[] = {"", "-wal", "-shm", "-journal"};
  char p[160];
  for (size_t i = 0; i < 4; i++) {
    snprintf(p, sizeof p, "%s%s", f->path, suffix[i]);
    unlink(p);
  }
  rmdir(f->dir);
  free(f);
  return 0;
}

static void started_cb(sg_engine_t *e, int status, void *ud) {
  fx_t *f = ud;
  f->started = true;
  f->start_status = status;
  if (status == 0 && f->on_started != NULL)
    f->on_started(f);
}

static bool is_started(fx_t *f) {
  return f->started;
}

typedef struct opts {
  const char *route;    /* the route's connector list, "sim" */
  const char *callback; /* the account's callback_url, or NULL */
  bool fault_injection;
  uint32_t tick_ms;
  bool twin; /* a connector "twin" bound to the simulator's same account */
  unsigned extra; /* more connectors "x0".. bound to the simulator */
  const char *webhooks; /* more keys of the webhooks section, or NULL */
  uint32_t wh_wait_ms;  /* the tuning's webhook_wait_max_ms */
  sg_engine_log_cb log; /* with the fixture as its data */
  const char *routes;   /* more routes, before the "+" one, or NULL */
} opts_t;

static void fx_engine_start(fx_t *f, const opts_t *o);

/* Loads the configuration, opens the store and starts the engine. */
static void fx_start(fx_t *f, const opts_t *o) {
  static char yaml[16384];
  char cb[160] = "";
  static char twin[12288];
  twin[0] = '\0';
  if (o->twin)
    snprintf(twin, sizeof twin,
             "  - {name: twin, type: smpp, host: 127.0.0.1, port: %u,\n"
             "     system_id: eng, password: pw}\n",
             (unsigned)sg_sim_smsc_port(f->sim));
  for (unsigned k = 0; k < o->extra; k++)
    snprintf(twin + strlen(twin), sizeof twin - strlen(twin),
             "  - {name: x%u, type: smpp, host: 127.0.0.1, port: %u,\n"
             "     system_id: eng, password: pw}\n",
             k, (unsigned)sg_sim_smsc_port(f->sim));
  if (o->callback != NULL)
    snprintf(cb, sizeof cb, ", callback_url: \"%s\"", o->callback);
  snprintf(yaml, sizeof yaml,
           "store: {driver: sqlite, path: %s}\n"
           "accounts:\n"
           "  - {name: acme, api_key: key-acme, password: pw-acme,\n"
           "     webhook_secret: " SECRET ", default_region: RU,\n"
           "     default_sender: Shop%s}\n"
           "  - {name: other, api_key: key-other, max_parts: 2}\n"
           "connectors:\n"
           "  - {name: sim, type: smpp, host: 127.0.0.1, port: %u,\n"
           "     system_id: eng, password: pw, window: 10,\n"
           "     reconnect_min: %s, reconnect_max: %s}\n"
           "  - {name: dead, type: smpp, host: 127.0.0.1, port: %u,\n"
           "     system_id: eng, password: pw,\n"
           "     reconnect_min: 100ms, reconnect_max: 200ms}\n"
           "%s"
           "routes:\n%s"
           "  - {prefix: \"+\", connectors: [%s]}\n"
           "webhooks: {allow_private_networks: true, retry_min: 100ms%s%s}\n",
           f->path, cb, (unsigned)sg_sim_smsc_port(f->sim),
           /* with a twin: "sim" stays away for a while after a reconnect */
           o->twin ? "3s" : "100ms", o->twin ? "3s" : "200ms",
           (unsigned)f->dead_port, twin, o->routes ? o->routes : "", o->route,
           o->webhooks ? ", " : "",
           o->webhooks ? o->webhooks : "");
  sg_config_errors_t errs;
  int rc = sg_config_load_string("test", yaml, strlen(yaml), &f->cfg, &errs);
  if (rc != 0)
    sg_config_errors_print(&errs, stderr);
  assert_int_equal(rc, 0);
  sg_store_config_t sc;
  sg_store_config_init(&sc, f->path);
  sc.sync_normal = true;
  sc.fault_injection = o->fault_injection;
  char err[256];
  assert_int_equal(sg_store_open(&f->loop, &sc, &f->st, err, sizeof err), 0);
  fx_engine_start(f, o);
}

/* A new engine on the fixture's configuration and store, started. */
static void fx_engine_start(fx_t *f, const opts_t *o) {
  f->started = false;
  f->stopped = false;
  assert_int_equal(sg_engine_new(&f->loop, f->cfg, f->st, &f->e), 0);
  if (o->log != NULL)
    sg_engine_set_log(f->e, SG_ENGINE_LOG_DEBUG, o->log, f);
  sg_engine_tuning_t t;
  sg_engine_tuning_default(&t);
  t.tick_ms = o->tick_ms ? o->tick_ms : 100;
  t.counts_every_ms = 1000;
  t.failover_after_ms = 300;
  t.retry_min_ms = 100;
  t.dlr_retry_ms = 100;
  t.webhook_wait_max_ms = o->wh_wait_ms;
  assert_int_equal(sg_engine_set_tuning(f->e, &t), 0);
  assert_int_equal(sg_engine_start(f->e, started_cb, f), 0);
  assert_false(f->started); /* never inside the call */
  assert_true(run_until(f, is_started, 5000));
  assert_int_equal(f->start_status, 0);
  assert_int_equal(sg_engine_set_tuning(f->e, &t), SG_ESTATE);
}

static bool sim_up(fx_t *f) {
  sg_engine_metrics_t m;
  sg_engine_metrics(f->e, &m);
  for (size_t i = 0; i < m.n_connectors; i++)
    if (strcmp(m.connectors[i].name, "sim") == 0)
      return m.connectors[i].state == SG_CONN_UP;
  return false;
}

static bool sim_down(fx_t *f) {
  return !sim_up(f);
}

static const sg_engine_account_t *acme(fx_t *f) {
  const sg_engine_account_t *a = NULL;
  assert_int_equal(sg_engine_auth_api_key(f->e, "key-acme", 8, &a), 0);
  return a;
}

/* ---- submitting and reading ---------------------------------------------- */

static void stored_cb(sg_store_t *st, int status, const sg_store_message_t *m,
                      void *data) {
  ((fx_t *)data)->stored_status = status;
}

static void submit_cb(sg_engine_t *e, const sg_submit_res_t *res, void *ud) {
  fx_t *f = ud;
  f->submitted = true;
  f->sub_status = res->status;
  snprintf(f->sub_code, sizeof f->sub_code, "%s",
           res->error_code ? res->error_code : "");
  snprintf(f->sub_field, sizeof f->sub_field, "%s",
           res->error_field ? res->error_field : "");
  assert_non_null(res->message);
  snprintf(f->response, sizeof f->response, "%.*s", (int)res->response_len,
           res->response ? (const char *)res->response : "");
  f->n_items = res->n_items;
  f->n_accepted = res->n_accepted;
  f->resp_entries = 0;
  json_t *j = res->response_len ? json_loadb((const char *)res->response,
                                             res->response_len, 0, NULL)
                                : NULL;
  f->resp_entries = json_array_size(json_object_get(j, "messages"));
  json_decref(j);
  for (size_t i = 0; i < res->n_items && i < MAX_ITEMS; i++) {
    const sg_submit_item_t *it = &res->items[i];
    item_t *o = &f->items[i];
    o->status = it->status;
    memcpy(o->id, it->id, sizeof o->id);
    snprintf(o->to, sizeof o->to, "%s", it->to);
    snprintf(o->connector, sizeof o->connector, "%s",
             it->connector ? it->connector : "");
    snprintf(o->code, sizeof o->code, "%s",
             it->error_code ? it->error_code : "");
    snprintf(o->reason, sizeof o->reason, "%s", it->reason);
    o->parts = it->parts;
    o->encoding = it->encoding;
    o->msg_status = it->msg_status;
  }
  /* A read queued now sees what the batch wrote (store.h): the message is
   * durable before the sender hears of it. */
  f->stored_status = 1;
  if (f->check_stored && res->status == 0 && res->n_items > 0)
    assert_int_equal(
        sg_store_get_message(f->st, res->items[0].id, 0, stored_cb, f), 0);
}

static bool is_submitted(fx_t *f) {
  return f->submitted;
}

static int submit(fx_t *f, sg_submit_req_t *req) {
  f->submitted = false;
  if (req->account == NULL)
    req->account = acme(f);
  assert_int_equal(sg_engine_submit(f->e, req, submit_cb, f), 0);
  assert_false(f->submitted);
  assert_true(run_until(f, is_submitted, 5000));
  if (getenv("SG_TEST_DEBUG"))
    fprintf(stderr, "submit: %d %s %s %s\n", f->sub_status, f->sub_code,
            f->sub_field, f->response);
  return f->sub_status;
}

static int submit_text(fx_t *f, const char *to, const char *text) {
  const char *tos[] = {to};
  sg_submit_req_t r = {.to = tos,
                       .n_to = 1,
                       .from = "Shop",
                       .text = text,
                       .text_len = strlen(text),
                       .dlr = true};
  return submit(f, &r);
}

/* Submits "later" to `to`, scheduled at `at`, with a receipt wanted. */
static int submit_later(fx_t *f, const char *to, int64_t at) {
  const char *tos[] = {to};
  sg_submit_req_t r = {.to = tos,
                       .n_to = 1,
                       .text = "later",
                       .text_len = 5,
                       .send_at_ms = at,
                       .dlr = true};
  return submit(f, &r);
}

static void get_cb(sg_engine_t *e, int status, const sg_store_message_t *m,
                   void *ud) {
  fx_t *f = ud;
  f->got = true;
  f->get_status = status;
  if (status != 0)
    return;
  f->status = m->status;
  f->n_parts = m->n_parts;
  for (size_t i = 0; i < m->n_parts && i < 4; i++) {
    f->part_status[i] = m->parts[i].status;
    snprintf(f->part_conn[i], sizeof f->part_conn[i], "%s",
             m->parts[i].connector);
    snprintf(f->part_smsc[i], sizeof f->part_smsc[i], "%s",
             m->parts[i].smsc_id ? m->parts[i].smsc_id : "");
  }
  f->n_events = m->n_events < MAX_EVENTS ? m->n_events : MAX_EVENTS;
  for (size_t i = 0; i < f->n_events; i++) {
    f->events[i].seq = m->events[i].part_seq;
    f->events[i].status = m->events[i].status;
    f->events[i].time_ms = m->events[i].time_ms;
    snprintf(f->events[i].detail, sizeof f->events[i].detail, "%s",
             m->events[i].detail ? m->events[i].detail : "");
  }
}

static bool is_got(fx_t *f) {
  return f->got;
}

static void get_msg(fx_t *f, const char *id) {
  f->got = false;
  assert_int_equal(sg_engine_get_message(f->e, id, 0, get_cb, f), 0);
  assert_true(run_until(f, is_got, 5000));
  assert_int_equal(f->get_status, 0);
}

/* Polls the message until it has `st` (or timeout_ms pass). */
static bool wait_status(fx_t *f, const char *id, sg_msg_status_t st,
                        unsigned timeout_ms) {
  uint64_t end = uv_now(&f->loop) + timeout_ms;
  for (;;) {
    get_msg(f, id);
    if (f->status == st)
      return true;
    if (uv_now(&f->loop) >= end)
      return false;
    run_for(f, 20);
  }
}

/* Index of the first event of message level (seq 0) with status st at or
 * after `from`, or -1. */
static int find_event(const fx_t *f, unsigned seq, sg_msg_status_t st,
                      int from) {
  for (size_t i = (size_t)from; i < f->n_events; i++)
    if (f->events[i].seq == seq && f->events[i].status == st)
      return (int)i;
  return -1;
}

static uint64_t sim_submits(fx_t *f) {
  sg_sim_smsc_stats_t s;
  sg_sim_smsc_stats(f->sim, &s);
  return s.submits;
}

/* ---- tests --------------------------------------------------------------- */

static bool stored_read(fx_t *f) {
  return f->stored_status != 1;
}

static void submit_one_delivered(void **state) {
  fx_t *f = *state;
  fx_start(f, &(opts_t){.route = "sim"});
  assert_true(run_until(f, sim_up, 5000));
  f->check_stored = true;
  assert_int_equal(submit_text(f, "8 (900) 123-45-67", "Hello"), 0);
  assert_int_equal(f->n_items, 1);
  assert_int_equal(f->items[0].status, 0);
  assert_string_equal(f->items[0].to, "+79001234567");
  assert_int_equal(f->items[0].parts, 1);
  assert_int_equal(f->items[0].encoding, SG_ENC_GSM7);
  assert_int_equal(f->items[0].msg_status, SG_MSG_QUEUED);
  assert_string_equal(f->items[0].connector, "sim");
  assert_non_null(strstr(f->response, "\"status\":\"queued\""));
  assert_non_null(strstr(f->response, f->items[0].id));
  assert_true(run_until(f, stored_read, 5000));
  assert_int_equal(f->stored_status, 0); /* found: stored before the cb */

  assert_true(wait_status(f, f->items[0].id, SG_MSG_DELIVERED, 5000));
  assert_int_equal(f->n_parts, 1);
  assert_int_equal(f->part_status[0], SG_MSG_DELIVERED);
  assert_true(strlen(f->part_smsc[0]) > 0);
  /* The history, in order: queued, sent, delivered. */
  int q = find_event(f, 0, SG_MSG_QUEUED, 0);
  int s = find_event(f, 0, SG_MSG_SENT, q + 1);
  int d = find_event(f, 0, SG_MSG_DELIVERED, s + 1);
  assert_true(q >= 0 && s > q && d > s);
  assert_true(f->events[q].time_ms <= f->events[s].time_ms);
  assert_true(f->events[s].time_ms <= f->events[d].time_ms);
  assert_int_equal(sim_submits(f), 1);

  sg_engine_metrics_t m;
  sg_engine_metrics(f->e, &m);
  assert_int_equal(m.accepted, 1);
  assert_int_equal(m.dlr_matched, 1);
  assert_int_equal(m.submit_latency.n, 1);
  sg_engine_health_t h;
  sg_engine_health(f->e, &h);
  assert_true(h.ok);
}

/* The receipt is held (answered at once, not retried) and applied by the
 * part's send result: delivered, after sent, with nothing dropped. */
static void early_receipt_held_then_applied(void **state) {
  fx_t *f = *state;
  fx_start(f, &(opts_t){.route = "sim"});
  assert_true(run_until(f, sim_up, 5000));
  assert_int_equal(submit_text(f, "+79001234567", "Early"), 0);
  assert_int_equal(f->items[0].status, 0);
  assert_true(wait_status(f, f->items[0].id, SG_MSG_DELIVERED, 8000));
  int s = find_event(f, 0, SG_MSG_SENT, 0);
  int d = find_event(f, 0, SG_MSG_DELIVERED, s + 1);
  assert_true(s >= 0 && d > s);
  sg_engine_metrics_t m;
  sg_engine_metrics(f->e, &m);
  assert_int_equal(m.dlr_received, 1);
  assert_int_equal(m.rcpt_held, 1);
  assert_int_equal(m.rcpt_applied_later, 1);
  assert_int_equal(m.dlr_unmatched, 0);
  assert_int_equal(m.dlr_matched, 0);
}

static void cyrillic_three_parts(void **state) {
  fx_t *f = *state;
  fx_start(f, &(opts_t){.route = "sim"});
  assert_true(run_until(f, sim_up, 5000));
  /* 150 Cyrillic letters: UCS-2, 67 units per part, so 3 parts. */
  char text[400] = "";
  for (int i = 0; i < 150; i++)
    strcat(text, i % 2 ? "ж" : "Щ");
  assert_int_equal(submit_text(f, "+79001234567", text), 0);
  assert_int_equal(f->items[0].parts, 3);
  assert_int_equal(f->items[0].encoding, SG_ENC_UCS2);
  assert_true(wait_status(f, f->items[0].id, SG_MSG_DELIVERED, 5000));
  assert_int_equal(f->n_parts, 3);
  for (int i = 0; i < 3; i++)
    assert_int_equal(f->part_status[i], SG_MSG_DELIVERED);
  assert_string_not_equal(f->part_smsc[0], f->part_smsc[1]);
  assert_string_not_equal(f->part_smsc[1], f->part_smsc[2]);
  /* Delivered only once every part was. */
  int d = find_event(f, 0, SG_MSG_DELIVERED, 0);
  assert_true(d >= 0);
  for (unsigned seq = 1; seq <= 3; seq++) {
    int p = find_event(f, seq, SG_MSG_DELIVERED, 0);
    assert_true(p >= 0 && p < d);
  }
  assert_int_equal(sim_submits(f), 3);
}

static void list_with_invalid_numbers(void **state) {
  fx_t *f = *state;
  fx_start(f, &(opts_t){.route = "sim"});
  const char *tos[] = {"+79001234567", "123", "hello", "8 916 123-45-67",
                       "+999123"};
  sg_submit_req_t r = {.to = tos, .n_to = 5, .text = "Hi", .text_len = 2};
  assert_int_equal(submit(f, &r), 0);
  assert_int_equal(f->n_items, 5);
  assert_int_equal(f->items[0].status, 0);
  assert_string_equal(f->items[0].to, "+79001234567");
  assert_int_equal(f->items[3].status, 0);
  assert_string_equal(f->items[3].to, "+79161234567");
  assert_int_equal(f->items[1].status, SG_EINVAL);
  assert_string_equal(f->items[1].code, "too_short");
  assert_int_equal(f->items[2].status, SG_EINVAL);
  assert_string_equal(f->items[2].code, "not_a_number");
  assert_int_equal(f->items[4].status, SG_EINVAL);
  assert_string_equal(f->items[4].code, "invalid_country_code");
  for (int i = 1; i <= 4; i += (i == 2 ? 2 : 1))
    assert_true(strlen(f->items[i].reason) > 10);
  /* The response names each rejected input with its reason. */
  json_t *j = json_loads(f->response, 0, NULL);
  assert_non_null(j);
  json_t *msgs = json_object_get(j, "messages");
  assert_int_equal(json_array_size(msgs), 5);
  json_t *bad = json_array_get(msgs, 1);
  assert_string_equal(json_string_value(json_object_get(bad, "input")), "123");
  assert_string_equal(json_string_value(json_object_get(bad, "to")), "123");
  assert_string_equal(json_string_value(json_object_get(bad, "status")),
                      "rejected");
  assert_string_equal(
      json_string_value(json_object_get(json_object_get(bad, "error"), "code")),
      "too_short");
  assert_string_equal(
      json_string_value(json_object_get(json_array_get(msgs, 3), "to")),
      "+79161234567");
  json_decref(j);

  /* Nothing valid: the whole request is refused, naming the field. */
  const char *none[] = {"12", "abc"};
  sg_submit_req_t r2 = {.to = none, .n_to = 2, .text = "Hi", .text_len = 2};
  assert_int_equal(submit(f, &r2), SG_EINVAL);
  assert_string_equal(f->sub_field, "to");
  assert_string_equal(f->sub_code, "too_short");
  assert_int_equal(sg_engine_http_status(SG_EINVAL), 422);

  /* Other whole-request errors. */
  sg_submit_req_t r3 = {.to = tos, .n_to = 1};
  assert_int_equal(submit(f, &r3), SG_EINVAL);
  assert_string_equal(f->sub_code, "missing_text");
  const sg_engine_account_t *other = NULL;
  assert_int_equal(sg_engine_auth_api_key(f->e, "key-other", 9, &other), 0);
  char longtext[400];
  memset(longtext, 'a', 400);
  sg_submit_req_t r4 = {.account = other,
                        .to = tos,
                        .n_to = 1,
                        .text = longtext,
                        .text_len = 400};
  assert_int_equal(submit(f, &r4), SG_EINVAL);
  assert_string_equal(f->sub_code, "missing_sender");
  r4.from = "Other";
  assert_int_equal(submit(f, &r4), SG_EINVAL);
  assert_string_equal(f->sub_code, "too_many_parts");
  r4.text_len = 0;
  assert_int_equal(submit(f, &r4), SG_EINVAL);
  assert_string_equal(f->sub_code, "empty_text");
  sg_submit_req_t r5 = {.to = tos,
                        .n_to = 1,
                        .text = "x",
                        .text_len = 1,
                        .from = "A sender too long"};
  assert_int_equal(submit(f, &r5), SG_EINVAL);
  assert_string_equal(f->sub_field, "from");
  const sg_engine_account_t *a;
  assert_int_equal(sg_engine_auth_api_key(f->e, "key-acmf", 8, &a), SG_ENOENT);
  assert_int_equal(sg_engine_auth_password(f->e, "acme", "pw-acme", 7, &a), 0);
  assert_string_equal(a->name, "acme");
  assert_int_equal(sg_engine_auth_password(f->e, "acme", "pw-acmf", 7, &a),
                   SG_ENOENT);
  assert_int_equal(sg_engine_auth_password(f->e, "other", "", 0, &a),
                   SG_ENOENT);
}

static void scheduled_not_sent_early(void **state) {
  fx_t *f = *state;
  fx_start(f, &(opts_t){.route = "sim"});
  assert_true(run_until(f, sim_up, 5000));
  int64_t at = now_ms() + 1000;
  assert_int_equal(submit_later(f, "+79001234567", at), 0);
  assert_int_equal(f->items[0].msg_status, SG_MSG_SCHEDULED);
  assert_non_null(strstr(f->response, "\"status\":\"scheduled\""));
  run_for(f, 400);
  uint64_t submits = sim_submits(f);
  get_msg(f, f->items[0].id);
  if (now_ms() < at) { /* a loaded machine may have taken longer */
    assert_int_equal(f->status, SG_MSG_SCHEDULED);
    assert_int_equal(submits, 0);
  }
  assert_true(wait_status(f, f->items[0].id, SG_MSG_DELIVERED, 5000));
  assert_int_equal(sim_submits(f), 1);
  int s = find_event(f, 0, SG_MSG_SENT, 0);
  assert_true(s >= 0);
  assert_true(f->events[s].time_ms >= at);
}

static void expired_never_sent(void **state) {
  fx_t *f = *state;
  fx_start(f, &(opts_t){.route = "dead"});
  const char *tos[] = {"+79001234567"};
  sg_submit_req_t r = {
      .to = tos, .n_to = 1, .text = "soon", .text_len = 4, .validity_ms = 300};
  assert_int_equal(submit(f, &r), 0);
  assert_string_equal(f->items[0].connector, "dead");
  assert_true(wait_status(f, f->items[0].id, SG_MSG_EXPIRED, 5000));
  assert_int_equal(find_event(f, 0, SG_MSG_SENT, 0), -1);
  assert_int_equal(find_event(f, 1, SG_MSG_SENDING, 0), -1);
  assert_int_equal(f->part_status[0], SG_MSG_EXPIRED);
  sg_engine_metrics_t m;
  sg_engine_metrics(f->e, &m);
  assert_string_equal(m.connectors[1].name, "dead");
  assert_int_not_equal(m.connectors[1].state, SG_CONN_UP);
  assert_int_equal(m.connectors[1].results_sent, 0);
  assert_int_equal(sim_submits(f), 0);
}

static char early_id[SG_ID_LEN + 1];

/* Submits before any connector could be up: the route's first takes it. */
static void submit_at_start(fx_t *f) {
  const char *tos[] = {"+79001234567"};
  sg_submit_req_t r = {.account = acme(f),
                       .to = tos,
                       .n_to = 1,
                       .text = "first",
                       .text_len = 5,
                       .dlr = true};
  f->submitted = false;
  assert_int_equal(sg_engine_submit(f->e, &r, submit_cb, f), 0);
}

static void failover_to_second_connector(void **state) {
  fx_t *f = *state;
  f->on_started = submit_at_start;
  fx_start(f, &(opts_t){.route = "dead, sim"});
  assert_true(run_until(f, is_submitted, 5000));
  assert_int_equal(f->sub_status, 0);
  assert_string_equal(f->items[0].connector, "dead");
  memcpy(early_id, f->items[0].id, sizeof early_id);

  /* Once the second is up, new messages go there at once. */
  assert_true(run_until(f, sim_up, 5000));
  assert_int_equal(submit_text(f, "+79001234567", "second"), 0);
  assert_string_equal(f->items[0].connector, "sim");
  assert_true(wait_status(f, f->items[0].id, SG_MSG_DELIVERED, 5000));

  /* The first is moved off the connector that stays down. */
  assert_true(wait_status(f, early_id, SG_MSG_DELIVERED, 5000));
  assert_string_equal(f->part_conn[0], "sim");
  bool moved = false;
  for (size_t i = 0; i < f->n_events; i++)
    if (strstr(f->events[i].detail, "moved to sim") != NULL)
      moved = true;
  assert_true(moved);
  assert_int_equal(sim_submits(f), 2);
}

/* With a tick of a minute the engine's claims wait in the store for up to
 * a minute (store.h, sg_store_claim_wait): a part submitted meanwhile is
 * taken by them, a scheduled message that comes due wakes them (the wake
 * timer) and is sent at its time, and a stop answers them at once. */
static void waiting_claims_hold_nothing_back(void **state) {
  fx_t *f = *state;
  fx_start(f, &(opts_t){.route = "sim", .tick_ms = 60000});
  assert_true(run_until(f, sim_up, 5000));
  run_for(f, 200); /* the claims of the start wait */
  assert_int_equal(submit_text(f, "+79001234567", "now"), 0);
  assert_true(wait_status(f, f->items[0].id, SG_MSG_DELIVERED, 5000));

  int64_t at = now_ms() + 300;
  assert_int_equal(submit_later(f, "+79161234567", at), 0);
  assert_int_equal(f->items[0].msg_status, SG_MSG_SCHEDULED);
  assert_true(wait_status(f, f->items[0].id, SG_MSG_DELIVERED, 5000));
  assert_int_equal(sim_submits(f), 2);

  run_for(f, 200); /* claims wait again */
  int64_t t0 = now_ms();
  assert_int_equal(sg_engine_stop(f->e, engine_stopped_cb, f), 0);
  assert_true(run_until(f, is_stopped, 5000));
  assert_true(now_ms() - t0 < 5000);
}

static bool twin_up(fx_t *f);

static uint64_t commits(fx_t *f) {
  sg_store_stats_t s;
  sg_store_get_stats(f->st, &s);
  return s.commits;
}

static bool all_up(fx_t *f) {
  sg_engine_metrics_t m;
  sg_engine_metrics(f->e, &m);
  for (size_t i = 0; i < m.n_connectors; i++)
    if (strcmp(m.connectors[i].name, "dead") != 0 &&
        m.connectors[i].state != SG_CONN_UP)
      return false;
  return true;
}

/* Forty connectors up, each with its two claims waiting: the store keeps
 * them all open, and an idle engine writes nothing (a claim answered
 * empty without waiting is not followed at once by another). */
static void many_connectors_stay_idle(void **state) {
  fx_t *f = *state;
  fx_start(f, &(opts_t){.route = "sim", .tick_ms = 60000, .extra = 40});
  assert_true(run_until(f, all_up, 10000));
  run_for(f, 1000); /* the claims of the start wait */
  uint64_t c0 = commits(f);
  run_for(f, 1000);
  assert_true(commits(f) - c0 < 10);
  assert_int_equal(submit_text(f, "+79001234567", "many"), 0);
  assert_true(wait_status(f, f->items[0].id, SG_MSG_DELIVERED, 5000));
}

static void paused_cb(sg_engine_t *e, int status, void *ud);

static uint64_t writes(fx_t *f) {
  sg_store_stats_t s;
  sg_store_get_stats(f->st, &s);
  return s.writes;
}

/* Twenty connectors up and idle, a tick of 200 ms: each keeps one claim
 * waiting in the store, claimed again when its wait runs out: at most
 * about one write request a connector a tick (two claims waited side by
 * side, each claimed again every tick: two). An idle claim now waits
 * tun.idle_claim_ms, so none comes back here (an_idle_gateway_leaves_the_
 * store_alone counts that). */
static void idle_connectors_claim_once_a_tick(void **state) {
  fx_t *f = *state;
  fx_start(f, &(opts_t){.route = "sim", .tick_ms = 200, .extra = 20});
  assert_true(run_until(f, all_up, 10000));
  run_for(f, 1000); /* the claims of the start come back empty */
  uint64_t w0 = writes(f);
  int64_t t0 = now_ms();
  run_for(f, 2000);
  uint64_t n = writes(f) - w0;
  int64_t ticks = (now_ms() - t0) / 200;
  /* 21 connectors; besides the claims, a tick writes at most a few rows
   * (the counts, once a second here) */
  print_message("%llu writes in %lld ticks\n", (unsigned long long)n,
                (long long)ticks);
  assert_true(n <= (uint64_t)(ticks * 21 * 3 / 2 + 10));
  assert_int_equal(submit_text(f, "+79001234567", "idle"), 0);
  assert_true(wait_status(f, f->items[0].id, SG_MSG_DELIVERED, 5000));
}

/* After the claims of the start came back empty, what the store took in
 * three seconds (about 30 ticks of 100 ms): at most 3 writes and 3
 * commits. Counted, not timed. */
static void idle_store_left_alone(fx_t *f) {
  run_for(f, 1500); /* the claims of the start come back empty */
  uint64_t w0 = writes(f), c0 = commits(f);
  int64_t t0 = now_ms();
  run_for(f, 3000);
  int64_t ticks = (now_ms() - t0) / 100;
  uint64_t n = writes(f) - w0, k = commits(f) - c0;
  print_message("%llu writes, %llu commits in %lld ticks\n",
                (unsigned long long)n, (unsigned long long)k,
                (long long)ticks);
  assert_true(n <= 3); /* about 30 ticks: what they may write */
  assert_true(k <= 3);
}

/* Forty-one connectors up and idle, a tick of 100 ms: over thirty ticks
 * and more the store takes no claim, no maintenance pass and no webhook
 * poll (each waits for a row to change, its time, or a minute); an idle
 * claim waits five minutes and still takes the next message at once.
 * Counted, not timed: main took about 43 writes a tick here. */
static void an_idle_gateway_leaves_the_store_alone(void **state) {
  fx_t *f = *state;
  fx_start(f, &(opts_t){.route = "sim", .tick_ms = 100, .extra = 40});
  assert_true(run_until(f, all_up, 10000));
  idle_store_left_alone(f);
  uint64_t s0 = sim_submits(f);
  assert_int_equal(submit_text(f, "+79001234567", "idle"), 0);
  assert_true(wait_status(f, f->items[0].id, SG_MSG_DELIVERED, 5000));
  assert_int_equal(sim_submits(f), s0 + 1);
}

/* As an_idle_gateway_leaves_the_store_alone, with one connector that stays
 * down ("dead", past failover_after) on a route with another: nothing is
 * queued for it, yet the failover pass asks the store for its parts on
 * every tick. A partner's link down overnight is common; the idle
 * gateway should still leave its store alone. */
static void a_down_connector_leaves_the_idle_store_alone(void **state) {
  fx_t *f = *state;
  fx_start(f, &(opts_t){.route = "sim, dead", .tick_ms = 100});
  assert_true(run_until(f, sim_up, 10000));
  idle_store_left_alone(f);
}

/* A scheduled message coming due wakes its own connector's claim, not the
 * forty others' (each of which would claim again: forty writes). The tick
 * is ten minutes and an idle claim waits five: only the wake can send it
 * within the wait's bound of a minute. */
static void a_due_time_wakes_its_connector_only(void **state) {
  fx_t *f = *state;
  fx_start(f, &(opts_t){.route = "sim", .tick_ms = 600000, .extra = 40});
  assert_true(run_until(f, all_up, 10000));
  run_for(f, 1000); /* the claims of the start wait */
  assert_int_equal(submit_later(f, "+79161234567", now_ms() + 300), 0);
  assert_int_equal(f->items[0].msg_status, SG_MSG_SCHEDULED);
  uint64_t w0 = writes(f);
  assert_true(wait_status(f, f->items[0].id, SG_MSG_DELIVERED, 5000));
  assert_int_equal(sim_submits(f), 1);
  run_for(f, 300);
  uint64_t n = writes(f) - w0;
  print_message("%llu writes from the submit to the receipt\n",
                (unsigned long long)n);
  /* its claims, its result and receipt; not forty claims more */
  assert_true(n < 20);
}

static uint64_t want_nacks;

static bool nacked(fx_t *f) {
  sg_sim_smsc_stats_t s;
  sg_sim_smsc_stats(f->sim, &s);
  return s.nacks >= want_nacks;
}

/* A retry's back-off ending wakes its own connector's claim, not the
 * forty others'. The simulator answers generic_nack until the connector
 * gives the part back (its own three tries, then a temporary failure);
 * the engine queues it again for 100 ms, and the simulator takes the next
 * try. Tick ten minutes, idle claims five: only the wake sends it within
 * the wait's bound of a minute. */
static void a_retry_wakes_its_connector_only(void **state) {
  fx_t *f = *state;
  fx_start(f, &(opts_t){.route = "sim", .tick_ms = 600000, .extra = 40});
  assert_true(run_until(f, all_up, 10000));
  run_for(f, 1000); /* the claims of the start wait */
  assert_int_equal(sg_sim_smsc_set_nack(f->sim, 1.0), 0);
  uint64_t w0 = writes(f);
  assert_int_equal(submit_text(f, "+79001234567", "again"), 0);
  want_nacks = 4;
  assert_true(run_until(f, nacked, 20000));
  assert_int_equal(sg_sim_smsc_set_nack(f->sim, 0), 0);
  assert_true(wait_status(f, f->items[0].id, SG_MSG_DELIVERED, 20000));
  sg_sim_smsc_stats_t ss;
  sg_sim_smsc_stats(f->sim, &ss);
  assert_int_equal(ss.submits - ss.nacks, 1); /* taken once */
  int queued = find_event(f, 0, SG_MSG_QUEUED, 0);
  assert_true(queued >= 0); /* queued again after the failure */
  assert_true(find_event(f, 0, SG_MSG_QUEUED, queued + 1) >= 0);
  uint64_t n = writes(f) - w0;
  print_message("%llu writes from the submit to the receipt\n",
                (unsigned long long)n);
  assert_true(n < 25); /* with every connector woken: forty more */
}

/* A wake names its connector: pausing one of forty connectors, whose
 * claims wait a minute, answers its claims and no other's (the others are
 * not claimed again), and a pre-split part for "sim" wakes only its
 * claims. */
static void a_wake_leaves_other_connectors_waiting(void **state) {
  fx_t *f = *state;
  fx_start(f, &(opts_t){.route = "sim", .tick_ms = 60000, .extra = 40});
  assert_true(run_until(f, all_up, 10000));
  run_for(f, 1000); /* the claims of the start wait */
  uint64_t w0 = writes(f);
  f->got = false;
  assert_int_equal(sg_engine_connector_pause(f->e, "x7", true, paused_cb, f),
                   0);
  assert_true(run_until(f, is_got, 5000));
  assert_int_equal(f->get_status, 0);
  run_for(f, 500);
  /* the pause's own row; every connector claiming again was 80 */
  assert_true(writes(f) - w0 < 10);
}

/* A connector that goes down while its claims wait (a tick of a minute):
 * they are answered at once, so a message submitted while it is down is
 * not taken for it (to wait for its next bind, or be handed back); it
 * stays queued, and is sent once when the connector is up again (3 s
 * later). */
static void down_connector_claims_answered(void **state) {
  fx_t *f = *state;
  fx_start(f, &(opts_t){.route = "sim", .tick_ms = 60000, .twin = true});
  assert_true(run_until(f, twin_up, 5000));
  run_for(f, 300); /* the claims wait */
  uint64_t s0 = sim_submits(f);
  assert_true(sg_sim_smsc_drop(f->sim) > 0);
  assert_true(run_until(f, sim_down, 5000));
  run_for(f, 100); /* its claims' answers */
  assert_int_equal(submit_text(f, "+79001234567", "meanwhile"), 0);
  assert_string_equal(f->items[0].connector, "sim");
  run_for(f, 200);
  sg_engine_metrics_t m;
  sg_engine_metrics(f->e, &m);
  /* while it is still down (3 s): the part is queued, not taken */
  for (size_t i = 0; i < m.n_connectors; i++)
    if (strcmp(m.connectors[i].name, "sim") == 0 &&
        m.connectors[i].state != SG_CONN_UP)
      assert_int_equal(m.connectors[i].claimed, 0);
  assert_true(wait_status(f, f->items[0].id, SG_MSG_DELIVERED, 20000));
  assert_int_equal(sim_submits(f), s0 + 1); /* once */
  assert_int_equal(f->part_status[0], SG_MSG_DELIVERED);
  /* never taken while it was down: no 'queued again' on its part */
  for (size_t i = 0; i < f->n_events; i++)
    assert_null(strstr(f->events[i].detail, "down"));
  int sending = find_event(f, 0, SG_MSG_SENDING, 0);
  assert_true(sending >= 0);
  assert_int_equal(find_event(f, 0, SG_MSG_SENDING, sending + 1), -1);
}

static void taken_cb(sg_store_t *st, int status,
                     const sg_store_claim_res_t *res, void *data) {
  fx_t *f = data;
  f->got = true;
  f->get_status = status;
  f->n_parts = status == 0 ? res->n_parts : 0;
}

/* A part whose lease ran out (its result was never written: a lost
 * result, a crash) is queued again by whichever claim runs first. Here
 * it is another connector's claim ("sim", busy with a submit), which
 * answers nothing about it: x0's own claim waits idle in the store and
 * the part waits with it. The tick is ten minutes and an idle claim waits
 * five, so no tick and no idle claim can send it within the wait's bound
 * of a minute; only a wake of x0 can. */
static void a_lease_requeued_by_another_claim_wakes_its_connector(
    void **state) {
  fx_t *f = *state;
  fx_start(f, &(opts_t){.route = "sim",
                        .tick_ms = 600000,
                        .extra = 1,
                        .routes = "  - {prefix: \"+7916\", connectors: [x0]}\n"});
  assert_true(run_until(f, all_up, 10000));
  run_for(f, 1000); /* the claims of the start wait */
  /* x0 paused (no other connector on its route): its part stays queued */
  f->got = false;
  assert_int_equal(sg_engine_connector_pause(f->e, "x0", true, paused_cb, f),
                   0);
  assert_true(run_until(f, is_got, 5000));
  assert_int_equal(submit_text(f, "+79161234567", "leased"), 0);
  assert_string_equal(f->items[0].connector, "x0");
  char id[SG_ID_LEN + 1];
  memcpy(id, f->items[0].id, sizeof id);
  /* taken with a lease of 300 ms by a holder that never answers */
  f->got = false;
  assert_int_equal(sg_store_claim(f->st, "x0", 10, 300, taken_cb, f), 0);
  assert_true(run_until(f, is_got, 5000));
  assert_int_equal(f->get_status, 0);
  assert_int_equal(f->n_parts, 1);
  f->got = false;
  assert_int_equal(sg_engine_connector_pause(f->e, "x0", false, paused_cb, f),
                   0);
  assert_true(run_until(f, is_got, 5000));
  run_for(f, 600); /* x0's claim waits idle; the lease has run out */
  uint64_t s0 = sim_submits(f);
  /* sim's claims after this submit queue x0's part again */
  assert_int_equal(submit_text(f, "+79001234567", "busy"), 0);
  assert_true(wait_status(f, f->items[0].id, SG_MSG_DELIVERED, 5000));
  assert_true(wait_status(f, id, SG_MSG_DELIVERED, 60000));
  assert_int_equal(sim_submits(f), s0 + 2);
}

/* Part 1 of 2 of a customer's own concatenated message. */
static void presplit_req(sg_submit_req_t *r) {
  static const uint8_t udh[] = {5, 0, 3, 7, 2, 1};
  static const uint8_t ud[] = {'h', 'e', 'l', 'l', 'o'};
  static sg_submit_raw_t raw = {SG_ENC_GSM7, udh, sizeof udh, ud, sizeof ud};
  static sg_store_presplit_t ps = {
      .ref = 7, .total = 2, .seq = 1, .wait_ms = 60000};
  static char batch[SG_ID_LEN + 1];
  static const char *tos[] = {"+79001234567"};
  sg_id_new(batch);
  *r = (sg_submit_req_t){.to = tos,
                         .n_to = 1,
                         .from = "Shop",
                         .text = "hello",
                         .text_len = 5,
                         .raw = &raw,
                         .presplit = &ps,
                         .batch_id = batch};
}

/* A customer's own concatenated part (never handed to a waiting claim)
 * wakes the claims: it is sent at once, not when a claim's wait of up to
 * a tick runs out. */
static void presplit_part_sent_at_once(void **state) {
  fx_t *f = *state;
  fx_start(f, &(opts_t){.route = "sim", .tick_ms = 60000});
  assert_true(run_until(f, sim_up, 5000));
  run_for(f, 300); /* the claims wait */
  sg_submit_req_t r;
  presplit_req(&r);
  uint64_t s0 = sim_submits(f);
  int64_t t0 = now_ms();
  assert_int_equal(submit(f, &r), 0);
  while (sim_submits(f) == s0 && now_ms() - t0 < 20000)
    run_for(f, 10);
  assert_int_equal(sim_submits(f), s0 + 1);
  assert_true(now_ms() - t0 < 10000); /* a waiting claim: up to a minute */
}

static void paused_cb(sg_engine_t *e, int status, void *ud) {
  fx_t *f = ud;
  f->got = true;
  f->get_status = status;
}

static uint64_t want_submits;

static bool all_sent(fx_t *f) {
  return sim_submits(f) >= want_submits;
}

/* A connector paused while its claims wait in the store: its queued parts
 * move to the other connector of their route as soon as its claims are
 * answered, not at the next tick (a minute here). The part is a customer's
 * pre-split one, which no waiting claim takes, so that it stays queued
 * for "sim" until it moves. */
static void paused_parts_move_at_once(void **state) {
  fx_t *f = *state;
  fx_start(f, &(opts_t){.route = "sim, twin", .tick_ms = 60000, .twin = true});
  assert_true(run_until(f, twin_up, 5000));
  run_for(f, 300); /* the claims wait */
  sg_submit_req_t r;
  presplit_req(&r);
  uint64_t s0 = sim_submits(f);
  /* The pause applies once it is saved, before the part is stored and
   * after it was routed to "sim", while the claims of "sim" wait. */
  f->got = false;
  assert_int_equal(
      sg_engine_connector_pause(f->e, "sim", true, paused_cb, f), 0);
  assert_int_equal(submit(f, &r), 0);
  assert_true(run_until(f, is_got, 5000));
  assert_int_equal(f->get_status, 0);
  assert_string_equal(f->items[0].connector, "sim");
  /* Bounded well below the tick (run_until waits at least a minute). */
  want_submits = s0 + 1;
  assert_true(run_loop(f, all_sent, 20000));
}

/* A message scheduled before a restart: the new engine's wake heap does
 * not hold its time, and its connector's claim waits idle (five minutes).
 * Maintenance names the time (next_ms) and its release pokes the
 * connector: it is sent within a few ticks of its time. */
static void scheduled_before_a_restart_sent_at_its_time(void **state) {
  fx_t *f = *state;
  fx_start(f, &(opts_t){.route = "sim", .tick_ms = 200});
  assert_true(run_until(f, sim_up, 5000));
  int64_t at = now_ms() + 1500;
  assert_int_equal(submit_later(f, "+79161234567", at), 0);
  char id[SG_ID_LEN + 1];
  memcpy(id, f->items[0].id, sizeof id);
  assert_int_equal(sg_engine_stop(f->e, engine_stopped_cb, f), 0);
  assert_true(run_until(f, is_stopped, 10000));
  sg_engine_free(f->e);
  f->e = NULL;
  fx_engine_start(f, &(opts_t){.route = "sim", .tick_ms = 200});
  assert_true(run_until(f, sim_up, 5000));
  assert_true(wait_status(f, id, SG_MSG_DELIVERED, 60000));
  int s = find_event(f, 0, SG_MSG_SENT, 0);
  assert_true(s >= 0);
  assert_true(f->events[s].time_ms >= at);
  print_message("sent %lld ms after its time\n",
                (long long)(f->events[s].time_ms - at));
}

static bool expired_hook(fx_t *f) {
  for (int i = 0; i < f->rx.n; i++)
    if (strcmp(f->rx.hooks[i].status, "expired") == 0)
      return true;
  return false;
}

/* An idle gateway (tick 200 ms, no traffic): a message whose connector
 * stays down expires at its validity's end, found by maintenance at the
 * time it named, and its webhook is sent. */
static void idle_gateway_expires_on_time_with_its_webhook(void **state) {
  fx_t *f = *state;
  rx_start(&f->loop, &f->rx);
  static char url[96];
  snprintf(url, sizeof url, "http://127.0.0.1:%u/hook", (unsigned)f->rx.port);
  fx_start(f, &(opts_t){.route = "dead", .tick_ms = 200, .callback = url});
  run_for(f, 1500); /* idle */
  const char *tos[] = {"+79001234567"};
  sg_submit_req_t r = {.to = tos,
                       .n_to = 1,
                       .text = "soon",
                       .text_len = 4,
                       .validity_ms = 1000};
  assert_int_equal(submit(f, &r), 0);
  run_for(f, 1500); /* the maintenance passes after the submit ran */
  assert_true(run_until(f, expired_hook, 60000));
  get_msg(f, f->items[0].id);
  assert_int_equal(f->status, SG_MSG_EXPIRED);
  int x = find_event(f, 0, SG_MSG_EXPIRED, 0);
  assert_true(x >= 0);
  print_message("expired %lld ms after its submit\n",
                (long long)(f->events[x].time_ms - f->events[0].time_ms));
}

static void list_cb(sg_engine_t *e, int status, const sg_store_list_res_t *res,
                    void *ud) {
  fx_t *f = ud;
  f->got = true;
  f->get_status = status;
  f->n_parts = status == 0 ? res->n : 0; /* reused as the count */
}

static void store_failure_is_eio(void **state) {
  fx_t *f = *state;
  fx_start(
      f, &(opts_t){.route = "sim", .fault_injection = true, .tick_ms = 60000});
  assert_int_equal(sg_store_sqlite_fail_next(f->st, 1, false), 0);
  const char *tos[] = {"+79001234567", "+79161234567"};
  sg_submit_req_t r = {.to = tos, .n_to = 2, .text = "x", .text_len = 1};
  assert_int_equal(submit(f, &r), SG_EIO);
  assert_string_equal(f->sub_code, "store_failed");
  assert_int_equal(sg_engine_http_status(SG_EIO), 503);

  /* Nothing of it was written. */
  sg_store_filter_t flt = {.account_id = 0};
  f->got = false;
  assert_int_equal(sg_engine_list_messages(f->e, &flt, list_cb, f), 0);
  assert_true(run_until(f, is_got, 5000));
  assert_int_equal(f->get_status, 0);
  assert_int_equal(f->n_parts, 0);

  /* The next request goes through. */
  assert_int_equal(submit(f, &r), 0);
  assert_int_equal(f->items[1].status, 0);
  sg_engine_health_t h;
  sg_engine_health(f->e, &h);
  assert_true(h.store_ok);
  f->got = false;
  assert_int_equal(sg_engine_list_messages(f->e, &flt, list_cb, f), 0);
  assert_true(run_until(f, is_got, 5000));
  assert_int_equal(f->n_parts, 2);
}

static bool hook_delivered(fx_t *f) {
  for (int i = 0; i < f->rx.n; i++)
    if (strcmp(f->rx.hooks[i].status, "delivered") == 0)
      return true;
  return false;
}

/* The engine counts a webhook as sent when the answer to its POST is back
 * (and recorded): after the receiver saw it, not with it. */
static bool hook_counted(fx_t *f) {
  sg_engine_metrics_t m;
  sg_engine_metrics(f->e, &m);
  return m.webhooks_sent >= 1;
}

static void webhook_signed(void **state) {
  fx_t *f = *state;
  rx_start(&f->loop, &f->rx);
  char url[96];
  snprintf(url, sizeof url, "http://127.0.0.1:%u/hook", (unsigned)f->rx.port);
  fx_start(f, &(opts_t){.route = "sim", .callback = url});
  assert_true(run_until(f, sim_up, 5000));
  const char *tos[] = {"+79001234567"};
  sg_submit_req_t r = {.to = tos,
                       .n_to = 1,
                       .text = "hook",
                       .text_len = 4,
                       .client_ref = "order-7",
                       .dlr = true};
  assert_int_equal(submit(f, &r), 0);
  assert_true(run_until(f, hook_delivered, 5000));
  assert_true(f->rx.n >= 1);
  for (int i = 0; i < f->rx.n; i++) {
    const hook_t *k = &f->rx.hooks[i];
    assert_true(k->sig_ok);
    /* The delivery's id (negative for one held in the writer's memory),
     * in decimal as %lld writes it and nothing else. */
    char *end = NULL, again[32];
    long long hid = strtoll(k->hook_id, &end, 10);
    assert_true(hid != 0 && end != k->hook_id && *end == '\0');
    snprintf(again, sizeof again, "%lld", hid);
    assert_string_equal(k->hook_id, again);
    assert_string_equal(k->event, "message.status");
    assert_string_equal(k->message_id, f->items[0].id);
    assert_non_null(strstr(k->body, "\"client_ref\":\"order-7\""));
  }
  /* A body changed in transit no longer matches its signature. */
  char sig[SG_WEBHOOK_SIGNATURE_LEN + 1];
  const char *b = f->rx.hooks[0].body;
  assert_int_equal(sg_webhook_sign((const uint8_t *)SECRET, strlen(SECRET), b,
                                   strlen(b), sig),
                   0);
  assert_false(sg_webhook_verify((const uint8_t *)SECRET, strlen(SECRET), b,
                                 strlen(b) - 1, sig));
  assert_true(run_until(f, hook_counted, 5000));
}

/* ---- webhooks claimed ahead of a free request slot ------------------------
 *
 * With webhooks.concurrency 1 and claim_ahead 3, a receiver that holds its
 * first request keeps three deliveries waiting in the notifier; three
 * messages make six deliveries (sent, delivered). */

#define AHEAD_OPTS "concurrency: 1, claim_ahead: 3"

static unsigned queued_now(fx_t *f) {
  sg_engine_metrics_t m;
  sg_engine_metrics(f->e, &m);
  if (m.webhooks_queued > f->max_queued)
    f->max_queued = m.webhooks_queued;
  return m.webhooks_queued;
}

/* One request held at the receiver and three deliveries waiting. */
static bool three_waiting(fx_t *f) {
  return queued_now(f) == 3 && f->rx.n == 1;
}

/* Each of the six deliveries answered 200 (at least once). */
static bool six_answered(fx_t *f) {
  queued_now(f);
  int distinct = 0;
  for (int i = 0; i < f->rx.n; i++) {
    bool seen = f->rx.hooks[i].answer != 200;
    for (int j = 0; j < i && !seen; j++)
      seen = f->rx.hooks[j].answer == 200 &&
             strcmp(f->rx.hooks[j].hook_id, f->rx.hooks[i].hook_id) == 0;
    distinct += !seen;
  }
  return distinct == 6;
}

static bool was_handed_back(fx_t *f) {
  return f->handed_back > 0;
}

static void handed_back_log(void *data, sg_engine_log_level_t level,
                            const char *line) {
  if (level == SG_ENGINE_LOG_WARN && strstr(line, "handed back") != NULL)
    ((fx_t *)data)->handed_back++;
}

static void start_ahead(fx_t *f, const opts_t *o) {
  rx_start(&f->loop, &f->rx);
  static char url[96];
  snprintf(url, sizeof url, "http://127.0.0.1:%u/hook", (unsigned)f->rx.port);
  opts_t with = *o;
  with.route = "sim";
  with.callback = url;
  with.webhooks = AHEAD_OPTS;
  fx_start(f, &with);
  assert_true(run_until(f, sim_up, 5000));
  static const char *tos[] = {"+79001234567", "+79001234568",
                              "+79001234569"};
  sg_submit_req_t r = {
      .to = tos, .n_to = 3, .text = "ahead", .text_len = 5, .dlr = true};
  assert_int_equal(submit(f, &r), 0);
}

static sg_engine_metrics_t metrics(fx_t *f) {
  sg_engine_metrics_t m;
  sg_engine_metrics(f->e, &m);
  return m;
}

/* The engine counts a webhook when its verdict is back, after the
 * receiver answered. */
static bool six_sent(fx_t *f) {
  return metrics(f).webhooks_sent >= 6;
}

/* The queue holds claim_ahead at most, and the deliveries go out one at a
 * time in the order of their events (ids are -(event id)), each once. */
static void webhooks_claimed_ahead_in_order(void **state) {
  fx_t *f = *state;
  f->rx.hold = true;
  start_ahead(f, &(opts_t){0});
  assert_true(run_until(f, three_waiting, 10000));
  rx_release(&f->rx);
  assert_true(run_until(f, six_answered, 10000));
  assert_int_equal(f->max_queued, 3);
  assert_int_equal(f->rx.n, 6);
  for (int i = 0; i < f->rx.n; i++) {
    assert_true(f->rx.hooks[i].sig_ok);
    if (i > 0)
      assert_true(strtoll(f->rx.hooks[i].hook_id, NULL, 10) <
                  strtoll(f->rx.hooks[i - 1].hook_id, NULL, 10));
  }
  assert_int_equal(metrics(f).webhooks_failed, 0);
}

/* A delivery refused with 503 is retried after its back-off and taken. */
static void webhook_retried_when_claimed_ahead(void **state) {
  fx_t *f = *state;
  f->rx.fail_first = 2;
  start_ahead(f, &(opts_t){0});
  assert_true(run_until(f, six_answered, 10000));
  for (int i = 0; i < 2; i++) {
    assert_int_equal(f->rx.hooks[i].answer, 503);
    bool later = false;
    for (int j = i + 1; j < f->rx.n; j++)
      later |= f->rx.hooks[j].answer == 200 &&
               strcmp(f->rx.hooks[j].hook_id, f->rx.hooks[i].hook_id) == 0;
    assert_true(later);
  }
  assert_true(run_until(f, six_sent, 10000));
  sg_engine_metrics_t m = metrics(f);
  assert_true(m.webhooks_retried >= 2);
  assert_int_equal(m.webhooks_failed, 0);
  assert_int_equal(m.webhooks_sent, 6);
}

/* Deliveries that wait past webhook_wait_max_ms go back to the store, due
 * at once, without being sent; once the receiver answers, each is sent
 * exactly once. */
static void webhooks_waiting_too_long_go_back(void **state) {
  fx_t *f = *state;
  f->rx.hold = true;
  start_ahead(f, &(opts_t){.wh_wait_ms = 300, .log = handed_back_log});
  assert_true(run_until(f, was_handed_back, 10000));
  assert_int_equal(f->rx.n, 1); /* the one held; none of those handed back */
  rx_release(&f->rx);
  assert_true(run_until(f, six_answered, 10000));
  assert_int_equal(f->rx.n, 6);
  assert_int_equal(metrics(f).webhooks_failed, 0);
}

/* Claims ahead, the receiver holding the first request and three
 * deliveries waiting behind it, then stops the engine (the store stays
 * open). */
static void stop_with_three_waiting(fx_t *f) {
  f->rx.hold = true;
  start_ahead(f, &(opts_t){0});
  assert_true(run_until(f, three_waiting, 10000));
  assert_int_equal(sg_engine_stop(f->e, engine_stopped_cb, f), 0);
  assert_true(run_until(f, is_stopped, 10000));
  sg_engine_free(f->e);
  f->e = NULL;
}

/* A stop with deliveries waiting records them due at once: the next
 * engine on the same store sends every one (the one in flight at the stop
 * again: at least once). */
static void webhooks_claimed_ahead_survive_a_restart(void **state) {
  fx_t *f = *state;
  stop_with_three_waiting(f);
  f->rx.hold = false;
  fx_engine_start(f, &(opts_t){.route = "sim"});
  assert_true(run_until(f, six_answered, 10000));
  assert_int_equal(f->rx.n, 7);
  assert_int_equal(f->rx.hooks[0].answer, 0);
  bool again = false;
  for (int i = 1; i < f->rx.n; i++)
    again |= strcmp(f->rx.hooks[i].hook_id, f->rx.hooks[0].hook_id) == 0;
  assert_true(again);
  assert_int_equal(metrics(f).webhooks_failed, 0);
}

static unsigned wh_claimed, wh_tried_before;

static void wh_claim_cb(sg_store_t *st, int status,
                        const sg_store_webhook_t *w, size_t k, void *data) {
  fx_t *f = data;
  f->got = true;
  f->get_status = status;
  wh_claimed = (unsigned)k;
  wh_tried_before = 0;
  for (size_t i = 0; status == 0 && i < k; i++)
    if (w[i].attempts > 1) /* an attempt before this claim's */
      wh_tried_before++;
}

/* A delivery that waited on the queue and was handed back at the stop was
 * never attempted: the store must not count an attempt for it (its
 * back-off doubles with its attempts, and the count is what the operator
 * reads). Of the deliveries stopped here, only the one in flight at the
 * receiver was attempted. Read from the store directly, after the stop. */
static void webhooks_handed_back_count_no_attempt(void **state) {
  fx_t *f = *state;
  stop_with_three_waiting(f);
  f->got = false;
  assert_int_equal(sg_store_webhook_claim(f->st, 100, 60000, wh_claim_cb, f),
                   0);
  assert_true(run_until(f, is_got, 5000));
  assert_int_equal(f->get_status, 0);
  print_message("%u deliveries claimed, %u with an attempt before\n",
                wh_claimed, wh_tried_before);
  assert_true(wh_claimed >= 4); /* the one held and the three waiting */
  assert_int_equal(wh_tried_before, 1); /* the one held */
}

static void idempotent_replay(void **state) {
  fx_t *f = *state;
  fx_start(f, &(opts_t){.route = "sim"});
  const char *tos[] = {"+79001234567", "+79161234567"};
  sg_submit_req_t r = {
      .to = tos, .n_to = 2, .text = "once", .text_len = 4, .idem_key = "req-1"};
  assert_int_equal(submit(f, &r), 0);
  char first[4096];
  memcpy(first, f->response, sizeof first);
  char id0[SG_ID_LEN + 1];
  memcpy(id0, f->items[0].id, sizeof id0);
  /* The same request again: the first answer, nothing stored. */
  assert_int_equal(submit(f, &r), 0);
  assert_int_equal(f->n_items, 0);
  assert_string_equal(f->response, first);
  /* Another request under the same key: a conflict. */
  r.text = "twice";
  r.text_len = 5;
  assert_int_equal(submit(f, &r), SG_EEXIST);
  assert_string_equal(f->sub_code, "idempotency_conflict");
  assert_int_equal(sg_engine_http_status(SG_EEXIST), 409);
  sg_store_filter_t flt = {.account_id = 0};
  f->got = false;
  assert_int_equal(sg_engine_list_messages(f->e, &flt, list_cb, f), 0);
  assert_true(run_until(f, is_got, 5000));
  assert_int_equal(f->n_parts, 2);
}

typedef struct inb {
  bool got;
  int status;
  size_t n;
  char from[32], to[32], body[128];
  bool binary;
} inb_t;

static inb_t inb;

static void inbound_cb(sg_engine_t *e, int status,
                       const sg_store_inbound_res_t *res, void *ud) {
  inb.got = true;
  inb.status = status;
  inb.n = status == 0 ? res->n : 0;
  if (inb.n > 0) {
    snprintf(inb.from, sizeof inb.from, "%s", res->msgs[0].sender);
    snprintf(inb.to, sizeof inb.to, "%s", res->msgs[0].recipient);
    snprintf(inb.body, sizeof inb.body, "%.*s", (int)res->msgs[0].body_len,
             (const char *)res->msgs[0].body);
    inb.binary = res->msgs[0].binary;
  }
}

static bool inbound_stored(fx_t *f) {
  sg_engine_metrics_t m;
  sg_engine_metrics(f->e, &m);
  return m.inbound_stored >= 1;
}

static bool inbound_got(fx_t *f) {
  return inb.got;
}

static void inbound_is_stored(void **state) {
  fx_t *f = *state;
  fx_start(f, &(opts_t){.route = "sim"});
  assert_true(run_until(f, sim_up, 5000));
  assert_int_equal(sg_sim_smsc_mo(f->sim, NULL, "+79001234567", "7575",
                                  "Привет", SG_ENC_AUTO),
                   1);
  assert_true(run_until(f, inbound_stored, 5000));
  memset(&inb, 0, sizeof inb);
  assert_int_equal(sg_engine_list_inbound(f->e, 0, NULL, 10, inbound_cb, f), 0);
  assert_true(run_until(f, inbound_got, 5000));
  assert_int_equal(inb.status, 0);
  assert_int_equal(inb.n, 1);
  assert_string_equal(inb.from, "+79001234567");
  assert_string_equal(inb.to, "7575");
  assert_string_equal(inb.body, "Привет");
  assert_false(inb.binary);
}

static bool sim_got_one(fx_t *f) {
  return sim_submits(f) >= 1;
}

/* A part the operator took while the store fails to commit: its result is
 * kept and written once the store recovers, however many ticks that takes,
 * so the part is neither left 'sending' until its lease runs out nor sent
 * twice, and its receipt (refused meanwhile, sent again by the operator)
 * is matched. */
static void results_kept_while_store_fails(void **state) {
  fx_t *f = *state;
  fx_start(f, &(opts_t){.route = "sim", .fault_injection = true, .tick_ms = 50});
  assert_true(run_until(f, sim_up, 5000));
  assert_int_equal(submit_text(f, "+79001234567", "kept"), 0);
  assert_int_equal(f->items[0].status, 0);
  char id[SG_ID_LEN + 1];
  memcpy(id, f->items[0].id, sizeof id);
  /* The submit_sm is out; its answer comes 400 ms later, when every
   * commit fails. */
  assert_true(run_until(f, sim_got_one, 5000));
  assert_int_equal(sg_store_sqlite_fail_next(f->st, 100000, false), 0);
  run_for(f, 1500); /* about 20 ticks: 20 tries of the same results */
  sg_engine_health_t h;
  sg_engine_health(f->e, &h);
  assert_false(h.store_ok);
  assert_int_equal(sg_store_sqlite_fail_next(f->st, 0, false), 0);
  assert_true(wait_status(f, id, SG_MSG_DELIVERED, 10000));
  assert_int_equal(f->part_status[0], SG_MSG_DELIVERED);
  assert_int_equal(sim_submits(f), 1);
}

static bool twin_up(fx_t *f) {
  sg_engine_metrics_t m;
  sg_engine_metrics(f->e, &m);
  bool sim = false, twin = false;
  for (size_t i = 0; i < m.n_connectors; i++) {
    sim = sim || (strcmp(m.connectors[i].name, "sim") == 0 &&
                  m.connectors[i].state == SG_CONN_UP);
    twin = twin || (strcmp(m.connectors[i].name, "twin") == 0 &&
                    m.connectors[i].state == SG_CONN_UP);
  }
  return sim && twin;
}

/* Two connectors bound to one SMSC account: the session that sent a part
 * is gone when its receipt comes, so the SMSC sends the receipt on the
 * other one, which matches it all the same. */
static void receipt_on_twin_session(void **state) {
  fx_t *f = *state;
  fx_start(f, &(opts_t){.route = "sim", .twin = true});
  assert_true(run_until(f, twin_up, 5000));
  assert_int_equal(submit_text(f, "+79001234567", "twin"), 0);
  char id[SG_ID_LEN + 1];
  memcpy(id, f->items[0].id, sizeof id);
  assert_true(wait_status(f, id, SG_MSG_SENT, 5000));
  assert_int_equal(sg_engine_connector_reconnect(f->e, "sim"), 0);
  assert_true(wait_status(f, id, SG_MSG_DELIVERED, 2500));
  assert_int_equal(f->part_status[0], SG_MSG_DELIVERED);
  assert_string_equal(f->part_conn[0], "sim");
  assert_int_equal(sim_submits(f), 1);
}

/* A request of many recipients is one transaction: when it fails, none of
 * its messages is stored; when it commits, all of them are, under one batch
 * id. */
static void large_list(void **state) {
  fx_t *f = *state;
  fx_start(f, &(opts_t){.route = "dead", .fault_injection = true});
  enum { N = 2500 };
  static char nums[N][24];
  static const char *tos[N];
  for (int i = 0; i < N; i++) {
    snprintf(nums[i], sizeof nums[i], "+7900%07d", 1000000 + i);
    tos[i] = nums[i];
  }
  sg_submit_req_t r = {.to = tos, .n_to = N, .text = "all", .text_len = 3};
  assert_int_equal(sg_store_sqlite_fail_next(f->st, 1, false), 0);
  assert_int_equal(submit(f, &r), SG_EIO);
  sg_store_filter_t all = {.account_id = 0};
  f->got = false;
  assert_int_equal(sg_engine_list_messages(f->e, &all, list_cb, f), 0);
  assert_true(run_until(f, is_got, 5000));
  assert_int_equal(f->get_status, 0);
  assert_int_equal(f->n_parts, 0);

  assert_int_equal(submit(f, &r), 0);
  assert_int_equal(f->n_items, N);
  assert_int_equal(f->n_accepted, N);
  assert_int_equal(f->resp_entries, N);
  static char batch[SG_ID_LEN + 1];
  const char *bp = strstr(f->response, "\"batch_id\":\"");
  assert_non_null(bp);
  memcpy(batch, bp + 12, SG_ID_LEN);
  sg_store_filter_t flt = {.batch_id = batch, .limit = SG_STORE_LIST_MAX};
  f->got = false;
  assert_int_equal(sg_engine_list_messages(f->e, &flt, list_cb, f), 0);
  assert_true(run_until(f, is_got, 5000));
  assert_int_equal(f->get_status, 0);
  assert_int_equal(f->n_parts, SG_STORE_LIST_MAX);
  sg_engine_metrics_t m;
  sg_engine_metrics(f->e, &m);
  assert_int_equal(m.accepted, N);
}

/* A batch id given by the ingress (the parts of one message an SMPP
 * customer split itself) is the batch of the messages, in canonical form;
 * one that is not an id is refused. */
static void given_batch_id(void **state) {
  fx_t *f = *state;
  fx_start(f, &(opts_t){.route = "sim"});
  assert_true(run_until(f, sim_up, 5000));
  const char *tos[] = {"+79001234567"};
  sg_submit_req_t r = {.to = tos,
                       .n_to = 1,
                       .from = "Shop",
                       .text = "Hi",
                       .text_len = 2,
                       .batch_id = "01HZZZZZZZZZZZZZZZZZZZZZZI"};
  assert_int_equal(submit(f, &r), SG_EINVAL);
  assert_string_equal(f->sub_code, "invalid_batch_id");
  assert_string_equal(f->sub_field, "batch_id");
  r.batch_id = "01hzzzzzzzzzzzzzzzzzzzzzzz";
  for (int i = 0; i < 2; i++) {
    assert_int_equal(submit(f, &r), 0);
    assert_non_null(
        strstr(f->response, "\"batch_id\":\"01HZZZZZZZZZZZZZZZZZZZZZZZ\""));
  }
}

/* The batch id of a request that stores one message is that message's id
 * (the SQLite store keeps no index entry for such a batch), also when the
 * other recipients of the request were refused; a request that stores two
 * gets an id of its own. A list by the batch finds its messages either
 * way. */
static void batch_of_one_is_its_message(void **state) {
  fx_t *f = *state;
  fx_start(f, &(opts_t){.route = "dead"});
  const char *one[] = {"+79001234567"};
  const char *with_bad[] = {"12", "+79001234568"};
  const char *two[] = {"+79001234569", "+79161234567"};
  struct {
    const char **to;
    size_t n_to, accepted;
  } reqs[] = {{one, 1, 1}, {with_bad, 2, 1}, {two, 2, 2}};
  for (size_t i = 0; i < 3; i++) {
    sg_submit_req_t r = {
        .to = reqs[i].to, .n_to = reqs[i].n_to, .text = "x", .text_len = 1};
    assert_int_equal(submit(f, &r), 0);
    assert_int_equal(f->n_accepted, reqs[i].accepted);
    static char batch[SG_ID_LEN + 1];
    const char *bp = strstr(f->response, "\"batch_id\":\"");
    assert_non_null(bp);
    memcpy(batch, bp + 12, SG_ID_LEN);
    const char *id = f->items[reqs[i].n_to - 1].id;
    if (reqs[i].accepted == 1) {
      assert_string_equal(batch, id);
    } else {
      assert_string_not_equal(batch, f->items[0].id);
      assert_string_not_equal(batch, id);
    }
    sg_store_filter_t flt = {.batch_id = batch, .limit = 10};
    f->got = false;
    assert_int_equal(sg_engine_list_messages(f->e, &flt, list_cb, f), 0);
    assert_true(run_until(f, is_got, 5000));
    assert_int_equal(f->get_status, 0);
    assert_int_equal(f->n_parts, reqs[i].accepted);
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(submit_one_delivered, setup, teardown),
      cmocka_unit_test_setup_teardown(batch_of_one_is_its_message, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(early_receipt_held_then_applied,
                                      setup_early, teardown),
      cmocka_unit_test_setup_teardown(cyrillic_three_parts, setup, teardown),
      cmocka_unit_test_setup_teardown(list_with_invalid_numbers, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(scheduled_not_sent_early, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(expired_never_sent, setup, teardown),
      cmocka_unit_test_setup_teardown(failover_to_second_connector, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(waiting_claims_hold_nothing_back, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(many_connectors_stay_idle, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(presplit_part_sent_at_once, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(an_idle_gateway_leaves_the_store_alone,
                                      setup, teardown),
      cmocka_unit_test_setup_teardown(
          a_down_connector_leaves_the_idle_store_alone, setup, teardown),
      cmocka_unit_test_setup_teardown(a_due_time_wakes_its_connector_only,
                                      setup, teardown),
      cmocka_unit_test_setup_teardown(a_retry_wakes_its_connector_only, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(idle_connectors_claim_once_a_tick, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(a_wake_leaves_other_connectors_waiting,
                                      setup, teardown),
      cmocka_unit_test_setup_teardown(
          a_lease_requeued_by_another_claim_wakes_its_connector, setup,
          teardown),
      cmocka_unit_test_setup_teardown(down_connector_claims_answered, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(paused_parts_move_at_once, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(
          scheduled_before_a_restart_sent_at_its_time, setup, teardown),
      cmocka_unit_test_setup_teardown(
          idle_gateway_expires_on_time_with_its_webhook, setup, teardown),
      cmocka_unit_test_setup_teardown(store_failure_is_eio, setup, teardown),
      cmocka_unit_test_setup_teardown(results_kept_while_store_fails,
                                      setup_slow, teardown),
      cmocka_unit_test_setup_teardown(receipt_on_twin_session, setup_late_dlr,
                                      teardown),
      cmocka_unit_test_setup_teardown(webhook_signed, setup, teardown),
      cmocka_unit_test_setup_teardown(webhooks_claimed_ahead_in_order, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(webhook_retried_when_claimed_ahead,
                                      setup, teardown),
      cmocka_unit_test_setup_teardown(webhooks_waiting_too_long_go_back,
                                      setup, teardown),
      cmocka_unit_test_setup_teardown(webhooks_claimed_ahead_survive_a_restart,
                                      setup, teardown),
      cmocka_unit_test_setup_teardown(webhooks_handed_back_count_no_attempt,
                                      setup, teardown),
      cmocka_unit_test_setup_teardown(idempotent_replay, setup, teardown),
      cmocka_unit_test_setup_teardown(inbound_is_stored, setup, teardown),
      cmocka_unit_test_setup_teardown(large_list, setup, teardown),
      cmocka_unit_test_setup_teardown(given_batch_id, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
