/* esme_client.h - a minimal ESME for tests, made of the tree's own parts:
 * one SMPP session (smpp/session.h) over one link (connector/smpp_link.h).
 * It binds, sends what the test builds, keeps the responses and the
 * deliver_sm it receives (answering them), and lets a test run the loop
 * until a condition holds. Header-only, static functions, for the unit
 * tests of the simulator and of the link. */
#ifndef SG_TEST_ESME_CLIENT_H
#define SG_TEST_ESME_CLIENT_H

#include <string.h>

#include <uv.h>

#include "connector/smpp_link.h"
#include "smpp/pdu.h"
#include "smpp/session.h"

#define TC_UNUSED __attribute__((unused))
#define TC_KEEP 512

typedef struct tc_deliver {
  uint8_t esm_class, data_coding;
  uint8_t source_addr_ton, source_addr_npi, dest_addr_ton, dest_addr_npi;
  char source_addr[21], destination_addr[21];
  uint8_t sm[254];
  size_t sm_len;
  char receipted_message_id[66]; /* "" when absent */
  int message_state;             /* -1 when absent */
  uint8_t nec[3];
  bool has_nec;
} tc_deliver_t;

typedef struct tc {
  uv_loop_t *loop;
  sg_smpp_link_t *link;
  bool connected, bound, closed, bind_failed, writable_false_seen;
  int close_reason;
  int closed_events; /* SG_SMPP_EV_CLOSED seen */
  uint32_t bind_status;
  uint32_t n_resp, n_ok, n_throttled, n_other, n_no_resp;
  uint32_t last_status;
  char ids[TC_KEEP][66]; /* message_id of the first TC_KEEP OK responses */
  uint32_t n_deliver;
  tc_deliver_t deliver[TC_KEEP];
  uint32_t deliver_status; /* what deliver_sm gets back; default ROK */
} tc_t;

static TC_UNUSED void tc_keep_deliver(tc_t *t, const sg_smpp_pdu_t *p) {
  uint32_t i = t->n_deliver++;
  if (i >= TC_KEEP)
    return;
  tc_deliver_t *d = &t->deliver[i];
  const sg_smpp_deliver_sm_t *b = &p->body.deliver_sm;
  d->esm_class = b->esm_class;
  d->data_coding = b->data_coding;
  d->source_addr_ton = b->source_addr_ton;
  d->source_addr_npi = b->source_addr_npi;
  d->dest_addr_ton = b->dest_addr_ton;
  d->dest_addr_npi = b->dest_addr_npi;
  memcpy(d->source_addr, b->source_addr, sizeof d->source_addr);
  memcpy(d->destination_addr, b->destination_addr, sizeof d->destination_addr);
  d->sm_len = b->sm_length;
  memcpy(d->sm, b->short_message, b->sm_length);
  const char *s;
  size_t n;
  d->receipted_message_id[0] = '\0';
  if (sg_smpp_tlv_get_cstr(p, SG_SMPP_TLV_RECEIPTED_MESSAGE_ID, &s, &n) == 0 &&
      n < sizeof d->receipted_message_id)
    memcpy(d->receipted_message_id, s, n + 1);
  uint32_t v;
  d->message_state =
      sg_smpp_tlv_get_int(p, SG_SMPP_TLV_MESSAGE_STATE, &v) == 0 ? (int)v : -1;
  const uint8_t *nec;
  d->has_nec =
      sg_smpp_tlv_get_bytes(p, SG_SMPP_TLV_NETWORK_ERROR_CODE, &nec, &n) == 0 &&
      n == 3;
  if (d->has_nec)
    memcpy(d->nec, nec, 3);
}

static TC_UNUSED void tc_on_response(tc_t *t, const sg_smpp_event_t *ev) {
  t->n_resp++;
  t->last_status = ev->command_status;
  if (ev->command_status == SG_SMPP_ESME_ROK && ev->pdu != NULL) {
    if (t->n_ok < TC_KEEP)
      memcpy(t->ids[t->n_ok], ev->pdu->body.submit_sm_resp.message_id, 66);
    t->n_ok++;
  } else if (ev->command_status == SG_SMPP_ESME_RTHROTTLED) {
    t->n_throttled++;
  } else {
    t->n_other++;
  }
}

static TC_UNUSED void tc_event_cb(sg_smpp_link_t *l, const sg_smpp_event_t *ev,
                                  void *user) {
  tc_t *t = user;
  switch (ev->type) {
  case SG_SMPP_EV_BOUND:
    t->bound = true;
    break;
  case SG_SMPP_EV_BIND_FAILED:
    t->bind_failed = true;
    t->bind_status = ev->command_status;
    break;
  case SG_SMPP_EV_RESPONSE:
    tc_on_response(t, ev);
    break;
  case SG_SMPP_EV_NO_RESPONSE:
    t->n_no_resp++;
    break;
  case SG_SMPP_EV_REQUEST:
    if (ev->command_id == SG_SMPP_DELIVER_SM) {
      tc_keep_deliver(t, ev->pdu);
      sg_smpp_link_respond_status(l, ev->command_id, ev->sequence_number,
                                  t->deliver_status);
    } else {
      sg_smpp_link_respond_status(l, ev->command_id, ev->sequence_number,
                                  SG_SMPP_ESME_RINVCMDID);
    }
    break;
  case SG_SMPP_EV_CLOSED:
    t->closed_events++;
    t->bound = false;
    break;
  default:
    break;
  }
}

static TC_UNUSED void tc_connected_cb(sg_smpp_link_t *l, void *user) {
  (void)l;
  ((tc_t *)user)->connected = true;
}

static TC_UNUSED void tc_writable_cb(sg_smpp_link_t *l, bool writable,
                                     void *user) {
  (void)l;
  if (!writable)
    ((tc_t *)user)->writable_false_seen = true;
}

static TC_UNUSED void tc_closed_cb(sg_smpp_link_t *l, int reason, void *user) {
  tc_t *t = user;
  (void)l;
  t->closed = true;
  t->close_reason = reason;
}

/* Connects (TLS when cfg->tls is set); cfg NULL: defaults, window 100. */
static TC_UNUSED int tc_connect(tc_t *t, uv_loop_t *loop, const char *host,
                                uint16_t port,
                                const sg_smpp_link_config_t *cfg) {
  memset(t, 0, sizeof *t);
  t->loop = loop;
  sg_smpp_link_config_t c;
  if (cfg != NULL) {
    c = *cfg;
  } else {
    sg_smpp_link_config_default(&c);
    c.session.window = 100;
  }
  sg_smpp_link_callbacks_t cbs = {.connected_cb = tc_connected_cb,
                                  .event_cb = tc_event_cb,
                                  .writable_cb = tc_writable_cb,
                                  .closed_cb = tc_closed_cb};
  return sg_smpp_link_connect(loop, host, port, &c, &cbs, t, &t->link);
}

static TC_UNUSED int tc_bind(tc_t *t, sg_smpp_bind_type_t type,
                             const char *system_id, const char *password) {
  sg_smpp_bind_params_t p = {.system_id = system_id, .password = password};
  int rc = sg_smpp_session_bind(sg_smpp_link_session(t->link), type, &p,
                                sg_smpp_link_now(t->link));
  sg_smpp_link_kick(t->link);
  return rc;
}

/* Fills a submit_sm in *p (a caller-owned PDU). */
static TC_UNUSED void tc_submit_sm(sg_smpp_pdu_t *p, const char *src,
                                   const char *dst, uint8_t dc, uint8_t esm,
                                   uint8_t rd, const void *sm, size_t len) {
  sg_smpp_pdu_init(p, SG_SMPP_SUBMIT_SM, 0);
  sg_smpp_submit_sm_t *b = &p->body.submit_sm;
  b->source_addr_ton = 1;
  b->source_addr_npi = 1;
  snprintf(b->source_addr, sizeof b->source_addr, "%s", src);
  b->dest_addr_ton = 1;
  b->dest_addr_npi = 1;
  snprintf(b->destination_addr, sizeof b->destination_addr, "%s", dst);
  b->data_coding = dc;
  b->esm_class = esm;
  b->registered_delivery = rd;
  b->sm_length = (uint8_t)len;
  memcpy(b->short_message, sm, len);
}

/* Runs the loop until cond holds or timeout_ms passes (a repeating timer
 * keeps UV_RUN_ONCE from blocking for long). Evaluates to cond. */
static TC_UNUSED void tc_tick_cb(uv_timer_t *t) {
  (void)t;
}
#define TC_RUN_UNTIL(loop, cond, timeout_ms)                                   \
  ({                                                                           \
    uv_timer_t tick_;                                                          \
    uv_timer_init((loop), &tick_);                                             \
    uv_timer_start(&tick_, tc_tick_cb, 5, 5);                                  \
    uv_update_time(loop);                                                      \
    uint64_t end_ = uv_now(loop) + (timeout_ms);                               \
    while (!(cond) && uv_now(loop) < end_)                                     \
      uv_run((loop), UV_RUN_ONCE);                                             \
    uv_close((uv_handle_t *)&tick_, NULL);                                     \
    uv_run((loop), UV_RUN_NOWAIT);                                             \
    (cond);                                                                    \
  })

#endif
