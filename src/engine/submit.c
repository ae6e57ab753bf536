/* submit.c - the single entry point of every message: sg_engine_submit().
 *
 * A request is checked (fields, sender, limits), its text encoded and split
 * once (core/segment.h, into the engine's one sg_segments_t), each
 * recipient normalised to E.164 (core/phone.h) and routed (route.c), and
 * the accepted messages are stored in one store batch with their parts, a
 * first event each and the idempotency record. The caller's callback runs
 * only after the store committed (or with a whole-request error), never
 * inside sg_engine_submit().
 *
 * This file must never talk to a connector, nor acknowledge anything that
 * is not durable: the response body is built before the write only so that
 * the store can keep it with the idempotency key.
 */
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "connector/smpp_client.h"
#include "core/alloc.h"
#include "core/error.h"
#include "core/limits.h"
#include "engine/engine_int.h"
#include "engine/limits_int.h"
#include "engine/velocity_int.h"

typedef struct sg_submit_ctx {
  struct sg_submit_ctx *next; /* in the deferred list */
  sg_engine_t *e;
  sg_submit_cb cb;
  void *ud;
  const sg_engine_account_t *account;
  int64_t started_ms;
  sg_submit_res_t res;
  char message[256];
  /* The arrays sized by the request are in two blocks, each one
   * allocation: `early` (items, msg_item, msg_conn, ud_buf, ud_len, body)
   * and `late` (msgs, parts, udh), and the strings in `strs`. */
  void *early, *late;
  char *strs; /* sender, callback_url, client_ref, idem_key, dlr_url */
  sg_submit_item_t *items;
  size_t n_items;
  /* What the store batch points into. */
  sg_store_msg_in_t *msgs;
  size_t *msg_item; /* item index of each message */
  size_t *msg_conn; /* connector index of each message */
  size_t n_msgs;
  sg_store_part_in_t *parts; /* n_msgs * n_parts */
  uint8_t *udh;              /* n_msgs * n_parts * SG_SEG_UDH_MAX */
  uint8_t *ud_buf;           /* n_parts * SG_SEG_UD_MAX, shared */
  size_t *ud_len;
  unsigned n_parts;
  sg_encoding_t encoding;
  char *sender, *callback_url, *client_ref, *idem_key;
  char *dlr_url; /* Kannel dlr-url, NULL: none */
  uint8_t *body;
  size_t body_len;
  uint8_t req_hash[32];
  const uint8_t *hash_ptr;
  size_t hash_len;
  char *response;
  size_t response_len;
  int64_t send_at_ms;
  int64_t charge;          /* billing: the price of every message's parts */
  sg__hold_t hold;         /* quota and balance held until the commit */
  unsigned velocity_retry; /* seconds, of a velocity_limited recipient */
  bool presplit;           /* a customer's pre-split part (ps) */
  sg_store_presplit_t ps;
} sg_submit_ctx_t;

/* ---- the context --------------------------------------------------------- */

static void ctx_free(sg_submit_ctx_t *x) {
  if (x == NULL)
    return;
  sg__limits_release(x->e, &x->hold, false);
  for (size_t i = 0; x->items != NULL && i < x->n_items; i++)
    sg_free((char *)x->items[i].input);
  sg_free(x->early);
  sg_free(x->late);
  sg_free(x->strs);
  sg_free(x->response);
  sg_free(x);
}

static void fail(sg_submit_ctx_t *x, int status, const char *code,
                 const char *field, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

/* Sets a whole-request error on x. */
static void fail(sg_submit_ctx_t *x, int status, const char *code,
                 const char *field, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(x->message, sizeof x->message, fmt, ap);
  va_end(ap);
  x->res.status = status;
  x->res.error_code = code;
  x->res.error_field = field;
  x->res.message = x->message;
  if (status == SG_EBUSY)
    x->res.retry_after_s = 1;
}

static void finish(sg_submit_ctx_t *x) {
  sg_engine_t *e = x->e;
  if (x->res.message == NULL)
    x->res.message =
        x->res.status == 0 ? "accepted" : sg_strerror(x->res.status);
  if (x->res.status != 0)
    e->requests_failed++;
  sg__latency_add(&e->submit_lat, sg__now_ms(e) - x->started_ms);
  x->cb(e, &x->res, x->ud);
  ctx_free(x);
}

/* Reports x's error on the next loop iteration (never inside submit). */
static void deferred_cb(uv_timer_t *t);

static void defer(sg_submit_ctx_t *x) {
  sg_engine_t *e = x->e;
  x->next = NULL;
  if (e->deferred_tail != NULL)
    e->deferred_tail->next = x;
  else
    e->deferred = x;
  e->deferred_tail = x;
  uv_timer_start(&e->defer, deferred_cb, 0, 0);
}

static void deferred_cb(uv_timer_t *t) {
  sg__deferred_run(t->data);
}

void sg__deferred_run(sg_engine_t *e) {
  sg_submit_ctx_t *x = e->deferred;
  e->deferred = e->deferred_tail = NULL;
  while (x != NULL) {
    sg_submit_ctx_t *next = x->next;
    finish(x);
    x = next;
  }
  sg__maybe_stopped(e);
}

/* ---- checks -------------------------------------------------------------- */

/* Room for n objects of `size` octets at *off in a block, aligned for
 * any of them; returns their offset. */
static size_t slot(size_t *off, size_t n, size_t size) {
  size_t at = *off;
  *off += (n * size + 15) & ~(size_t)15;
  return at;
}

/* Copies the strings the request keeps (NULL stays NULL) into one
 * block, x->strs. Returns 0 or SG_ENOMEM. */
static int keep_strings(sg_submit_ctx_t *x, const char *const in[5],
                        char **out[5]) {
  size_t len[5], total = 0;
  for (size_t i = 0; i < 5; i++) {
    len[i] = in[i] != NULL ? strlen(in[i]) + 1 : 0;
    total += len[i];
  }
  x->strs = sg_malloc(total);
  if (x->strs == NULL)
    return SG_ENOMEM;
  char *p = x->strs;
  for (size_t i = 0; i < 5; i++) {
    *out[i] = in[i] != NULL ? p : NULL;
    memcpy(p, in[i] != NULL ? in[i] : "", len[i]);
    p += len[i];
  }
  return 0;
}

static bool url_ok(const char *u) {
  size_t n = strlen(u);
  if (n > SG_ENGINE_URL_MAX)
    return false;
  size_t p = strncmp(u, "https://", 8) == 0  ? 8
             : strncmp(u, "http://", 7) == 0 ? 7
                                             : 0;
  if (p == 0 || n == p)
    return false;
  for (size_t i = 0; i < n; i++)
    if ((unsigned char)u[i] <= 0x20 || u[i] == 0x7f)
      return false;
  return true;
}

/* An exact sender or one matching a pattern ("Shop*"): core/limits.h. */
static bool sender_allowed(const sg_config_account_t *a, const char *from) {
  return sg_limits_sender_allowed(a->senders, a->n_senders, from);
}

/* The fields of the request other than the recipients and the text. */
static int check_fields(sg_submit_ctx_t *x, const sg_submit_req_t *r,
                        int64_t now) {
  const sg_config_account_t *a = r->account->cfg;
  if (r->to == NULL || r->n_to == 0)
    return fail(x, SG_EINVAL, "missing_to", "to", "no recipient given"), -1;
  if (r->n_to > SG_ENGINE_MAX_RECIPIENTS)
    return fail(x, SG_EINVAL, "too_many_recipients", "to",
                "%zu recipients given; at most %d per request", r->n_to,
                SG_ENGINE_MAX_RECIPIENTS),
           -1;
  if (r->priority > SG_ENGINE_PRIORITY_MAX)
    return fail(x, SG_EINVAL, "invalid_priority", "priority",
                "priority must be 0 to %d", SG_ENGINE_PRIORITY_MAX),
           -1;
  if (r->client_ref != NULL && strlen(r->client_ref) > SG_ENGINE_CLIENT_REF_MAX)
    return fail(x, SG_EINVAL, "too_long", "client_ref",
                "client_ref is longer than %d octets",
                SG_ENGINE_CLIENT_REF_MAX),
           -1;
  const char *cb_url = r->callback_url ? r->callback_url : a->callback_url;
  if (cb_url != NULL && !url_ok(cb_url))
    return fail(x, SG_EINVAL, "invalid_url", "callback_url",
                "callback_url must be an http:// or https:// URL of at most "
                "%d octets without spaces",
                SG_ENGINE_URL_MAX),
           -1;
  if (r->dlr_url != NULL && r->dlr_mask != 0 && !url_ok(r->dlr_url))
    return fail(x, SG_EINVAL, "invalid_url", "dlr-url",
                "dlr-url must be an http:// or https:// URL of at most %d "
                "octets without spaces",
                SG_ENGINE_URL_MAX),
           -1;
  if (r->idem_key != NULL &&
      (r->idem_key[0] == '\0' || strlen(r->idem_key) > SG_ENGINE_IDEM_KEY_MAX))
    return fail(x, SG_EINVAL, "invalid_idempotency_key", "idempotency_key",
                "the idempotency key must be 1 to %d octets",
                SG_ENGINE_IDEM_KEY_MAX),
           -1;
  uint8_t bid[SG_ID_BYTES];
  if (r->batch_id != NULL &&
      sg_id_parse(r->batch_id, strlen(r->batch_id), bid) != 0)
    return fail(x, SG_EINVAL, "invalid_batch_id", "batch_id",
                "the batch id is not an id"),
           -1;
  if (r->send_at_ms < 0 || r->validity_ms < 0)
    return fail(x, SG_EINVAL, "invalid_time",
                r->send_at_ms < 0 ? "send_at" : "validity",
                "times and durations cannot be negative"),
           -1;
  if (r->validity_ms > 0 && r->send_at_ms > now + r->validity_ms)
    return fail(x, SG_EINVAL, "invalid_validity", "validity",
                "the validity ends before send_at"),
           -1;
  const char *from = r->from && r->from[0] ? r->from : a->default_sender;
  if (from == NULL)
    return fail(x, SG_EINVAL, "missing_sender", "from",
                "give a sender (from): the account has no default_sender"),
           -1;
  {
    sg_conn_addr_t addr;
    int rc = sg_smpp_addr_from_text(from, &addr);
    if (rc != 0)
      return fail(x, SG_EINVAL, "invalid_sender", "from",
                  rc == SG_ETOOLONG
                      ? "the sender is too long: at most 20 digits or 11 "
                        "characters"
                      : "the sender must be a number or printable ASCII text"),
             -1;
    if (!r->auto_reply && !sender_allowed(a, from))
      return fail(x, SG_EINVAL, "sender_not_allowed", "from",
                  "this account may not send as \"%s\"", from),
             -1;
  }
  const char *const in[5] = {from, cb_url, r->client_ref, r->idem_key,
                             r->dlr_mask != 0 ? r->dlr_url : NULL};
  char **out[5] = {&x->sender, &x->callback_url, &x->client_ref, &x->idem_key,
                   &x->dlr_url};
  if (keep_strings(x, in, out) != 0)
    return fail(x, SG_ENOMEM, "out_of_memory", NULL, "out of memory"), -1;
  x->send_at_ms = r->send_at_ms > now ? r->send_at_ms : 0;
  return 0;
}

/* ---- encoding ------------------------------------------------------------ */

static void seg_opts(const sg_submit_req_t *r, sg_seg_opts_t *o) {
  memset(o, 0, sizeof *o);
  o->encoding = r->encoding;
  o->national = r->national;
  o->smart = r->smart;
  o->max_parts = r->account && r->account->cfg->max_parts
                     ? r->account->cfg->max_parts
                     : SG_SEG_DEFAULT_MAX_PARTS;
}

/* A pre-encoded part as the one segment of e->segs, as it came. */
static int raw_segment(sg_engine_t *e, const sg_submit_req_t *r,
                       const char **code, char *msg, size_t cap) {
  const sg_submit_raw_t *w = r->raw;
  bool enc_ok = w->encoding == SG_ENC_GSM7 || w->encoding == SG_ENC_UCS2 ||
                w->encoding == SG_ENC_8BIT;
  if (!enc_ok || w->ud == NULL || w->ud_len == 0 || w->ud_len > SG_SEG_UD_MAX ||
      w->udh_len > SG_SEG_UDH_MAX ||
      (w->udh_len > 0 && (w->udh == NULL || w->udh[0] + 1u != w->udh_len))) {
    *code = "invalid_part";
    snprintf(msg, cap,
             "a pre-split part needs GSM7, UCS2 or 8-bit user data of 1 to "
             "%d units and a well-formed UDH of at most %d octets",
             SG_SEG_UD_MAX, SG_SEG_UDH_MAX);
    return -1;
  }
  sg_segments_t *s = e->segs;
  s->encoding = w->encoding;
  memset(&s->charset, 0, sizeof s->charset);
  s->chars = s->units = w->ud_len;
  s->replaced = 0;
  s->nparts = 1;
  sg_seg_part_t *p = &s->parts[0];
  if (w->udh_len > 0)
    memcpy(p->udh, w->udh, w->udh_len);
  p->udh_len = w->udh_len;
  memcpy(p->ud, w->ud, w->ud_len);
  p->ud_len = w->ud_len;
  p->chars = w->ud_len;
  return 0;
}

/* Encodes and splits the text into e->segs; on error fills the failure
 * fields through fail_fn's arguments. Returns 0 or -1. */
static int segment(sg_engine_t *e, const sg_submit_req_t *r, int *status,
                   const char **code, const char **field, char *msg,
                   size_t cap) {
  *field = "text";
  *status = SG_EINVAL;
  if ((r->text == NULL) == (r->binary == NULL)) {
    *code = r->text == NULL ? "missing_text" : "text_and_binary";
    snprintf(msg, cap,
             r->text == NULL ? "give a text or a binary payload"
                             : "give a text or a binary payload, "
                               "not both");
    return -1;
  }
  if ((r->text != NULL ? r->text_len : r->binary_len) == 0) {
    *code = "empty_text";
    snprintf(msg, cap, "the message is empty");
    return -1;
  }
  if (r->raw != NULL)
    return raw_segment(e, r, code, msg, cap);
  if (r->encoding != SG_ENC_AUTO && r->encoding != SG_ENC_GSM7 &&
      r->encoding != SG_ENC_UCS2) {
    *code = "invalid_encoding";
    *field = "encoding";
    snprintf(msg, cap, "encoding must be auto, gsm7 or ucs2");
    return -1;
  }
  sg_seg_opts_t o;
  seg_opts(r, &o);
  sg_seg_error_t err;
  int rc = r->text != NULL
               ? sg_segment_text((const uint8_t *)r->text, r->text_len, &o,
                                 e->segs, &err)
               : sg_segment_binary(r->binary, r->binary_len, &o, e->segs, &err);
  if (rc == 0)
    return 0;
  switch (rc) {
  case SG_EILSEQ:
  case SG_ETRUNC:
    *code = "invalid_utf8";
    snprintf(msg, cap, "the text is not valid UTF-8 (at byte %zu)", err.offset);
    break;
  case SG_ECHARSET:
    *code = "charset";
    snprintf(msg, cap,
             "character U+%04X (at %zu) cannot be sent in GSM 7-bit; use "
             "encoding auto or ucs2",
             (unsigned)err.cp, err.offset);
    break;
  case SG_ETOOMANYPARTS:
    *code = "too_many_parts";
    snprintf(msg, cap, "the message needs %u parts; at most %u are allowed",
             err.needed, o.max_parts);
    break;
  default:
    *code = "invalid_text";
    snprintf(msg, cap, "the text cannot be encoded: %s", sg_strerror(rc));
  }
  return -1;
}

/* The per-recipient arrays (zeroed) and what the store needs of e->segs
 * (which the next request reuses), in the block x->early. */
static int keep_segments(sg_submit_ctx_t *x, const sg_submit_req_t *r) {
  const sg_segments_t *s = x->e->segs;
  x->n_parts = s->nparts;
  x->encoding = s->encoding;
  const void *src = r->text != NULL ? (const void *)r->text : r->binary;
  x->body_len = r->text != NULL ? r->text_len : r->binary_len;
  size_t off = 0;
  size_t o_items = slot(&off, r->n_to, sizeof *x->items);
  size_t o_item = slot(&off, r->n_to, sizeof *x->msg_item);
  size_t o_conn = slot(&off, r->n_to, sizeof *x->msg_conn);
  size_t o_ud = slot(&off, s->nparts, SG_SEG_UD_MAX);
  size_t o_len = slot(&off, s->nparts, sizeof *x->ud_len);
  size_t o_body = slot(&off, x->body_len ? x->body_len : 1, 1);
  uint8_t *b = sg_calloc(1, off);
  if (b == NULL)
    return SG_ENOMEM;
  x->early = b;
  x->items = (sg_submit_item_t *)(void *)(b + o_items);
  x->msg_item = (size_t *)(void *)(b + o_item);
  x->msg_conn = (size_t *)(void *)(b + o_conn);
  x->ud_buf = b + o_ud;
  x->ud_len = (size_t *)(void *)(b + o_len);
  x->body = b + o_body;
  memcpy(x->body, src, x->body_len);
  for (unsigned p = 0; p < s->nparts; p++) {
    memcpy(x->ud_buf + (size_t)p * SG_SEG_UD_MAX, s->parts[p].ud,
           s->parts[p].ud_len);
    x->ud_len[p] = s->parts[p].ud_len;
  }
  return 0;
}

/* ---- recipients ---------------------------------------------------------- */

static int reject(sg_submit_ctx_t *x, size_t i, const char *input,
                  const char *code, const char *reason) {
  sg_submit_item_t *it = &x->items[i];
  it->status = SG_EINVAL;
  it->input = sg_strdup(input);
  it->error_code = code;
  snprintf(it->reason, sizeof it->reason, "%s", reason);
  x->e->rejected++;
  return it->input == NULL ? SG_ENOMEM : 0;
}

/* A recipient refused by the velocity limit (engine/velocity.h): its
 * status is the check's (SG_EBUSY slowed, SG_EPERM blocked), which the
 * whole request takes when no recipient is left. */
static int velocity_reject(sg_submit_ctx_t *x, size_t i, const char *input,
                           int status, unsigned retry) {
  bool blocked = status == SG_EPERM;
  if (reject(x, i, input, blocked ? "velocity_blocked" : "velocity_limited",
             blocked ? "this account is blocked from this number range for "
                       "sending too many messages to it"
                     : "too many messages to this number range this minute; "
                       "retry later"))
    return SG_ENOMEM;
  x->items[i].status = status;
  if (!blocked && (x->velocity_retry == 0 || retry < x->velocity_retry))
    x->velocity_retry = retry;
  return 0;
}

/* Normalises and routes each recipient; fills items and msg_item/msg_conn.
 * Opt-outs are checked here (DESIGN.md: validate -> opt-out -> route),
 * once the number is E.164: a recipient on the account's opt-out list is
 * rejected with "opted_out" (engine.h "INBOUND"). */
static int recipients(sg_submit_ctx_t *x, const sg_submit_req_t *r) {
  sg_engine_t *e = x->e;
  const char *region = r->account->cfg->default_region;
  for (size_t i = 0; i < r->n_to; i++) {
    sg_submit_item_t *it = &x->items[i];
    const char *in = r->to[i] != NULL ? r->to[i] : "";
    sg_phone_t ph;
    sg_phone_err_t perr;
    int rc = sg_phone_normalize(e->phone, in, strlen(in), region, &ph, &perr);
    if (rc != 0) {
      if (reject(x, i, in, sg_phone_reason_name(perr.reason), perr.text))
        return SG_ENOMEM;
      continue;
    }
    if (!r->optout_exempt && sg__optout_has(e, r->account->id, ph.e164)) {
      if (reject(x, i, in, "opted_out",
                 "the recipient opted out of this account's messages"))
        return SG_ENOMEM;
      continue;
    }
    const sg_config_account_t *ac = r->account->cfg;
    if (!sg_limits_destination_allowed(ac->destinations, ac->n_destinations,
                                       ph.e164, ph.region)) {
      if (reject(x, i, in, "destination_not_allowed",
                 "this account may not send to this country or number range"))
        return SG_ENOMEM;
      continue;
    }
    /* The confirmation of a STOP is owed to the recipient whatever the
     * account's balance or prices: it is sent and never charged. */
    int64_t price = 0;
    if (sg__limits_billed(r->account) && !r->optout_exempt &&
        sg_limits_price_find(ac->billing.prices, ac->billing.n_prices, ph.e164,
                             &price) != 0) {
      if (reject(x, i, in, "no_price",
                 "this account has no price for this destination"))
        return SG_ENOMEM;
      continue;
    }
    int route = sg__route_find(e, ph.e164, r->account->name, x->sender,
                               sg__route_type(x->encoding));
    if (route < 0) {
      char why[SG_PHONE_ERR_TEXT_MAX];
      snprintf(why, sizeof why, "no route for %s", ph.e164);
      if (reject(x, i, in, "no_route", why))
        return SG_ENOMEM;
      continue;
    }
    unsigned retry = 0;
    rc = sg__velocity_check(e, r->account, ph.e164, x->started_ms, &retry);
    if (rc != 0) {
      if (velocity_reject(x, i, in, rc, retry))
        return SG_ENOMEM;
      continue;
    }
    size_t m = x->n_msgs++;
    x->charge += price * (int64_t)x->n_parts;
    x->msg_item[m] = i;
    x->msg_conn[m] = sg__route_pick(e, route, ph.e164);
    memcpy(it->to, ph.e164, sizeof it->to);
  }
  return 0;
}

/* ---- limits -------------------------------------------------------------- */

static sg__account_t *account_of(sg_engine_t *e, const sg_engine_account_t *p) {
  for (size_t i = 0; i < e->n_accounts; i++)
    if (&e->accounts[i].pub == p)
      return &e->accounts[i];
  return NULL;
}

static int check_limits(sg_submit_ctx_t *x, const sg_submit_req_t *r,
                        int64_t now) {
  sg_engine_t *e = x->e;
  sg__account_t *a = account_of(e, r->account);
  /* Shared by the live nodes (nodes.c, docs/scaling.md). */
  uint32_t tps = sg__nodes_share(e, r->account->cfg->tps);
  if (tps > 0) {
    if (now - a->tps_window_ms >= 1000) {
      a->tps_window_ms = now;
      a->tps_count = 0;
    }
    if (a->tps_count >= tps)
      return fail(x, SG_EBUSY, "rate_limited", NULL,
                  "over the account's limit of %u messages per second", tps),
             -1;
  }
  for (size_t m = 0; m < x->n_msgs; m++) {
    const sg__conn_t *c = &e->conns[x->msg_conn[m]];
    if (c->backlog + x->n_parts > e->tun.max_backlog)
      return fail(x, SG_EBUSY, "backlog_full", NULL,
                  "connector %s has too many messages waiting", c->cfg->name),
             -1;
  }
  sg__refusal_t why;
  if (sg__limits_hold(e, r->account, now, (uint32_t)(x->n_msgs * x->n_parts),
                      x->charge, &x->hold, &why) != 0) {
    fail(x, why.status, why.code, NULL, "%s", why.message);
    x->res.retry_after_s = why.retry_after_s;
    return -1;
  }
  if (tps > 0)
    a->tps_count += (uint32_t)x->n_msgs;
  return 0;
}

/* ---- the store batch ----------------------------------------------------- */

/* The concatenation reference of one message, patched into the UDH built
 * by core/segment.h: an 8-bit reference IE (IEI 0x00, length 3, TS 23.040
 * 9.2.3.24.1) comes first in it. */
static void patch_ref(uint8_t *udh, size_t len, uint8_t ref) {
  if (len >= 6 && udh[1] == 0x00 && udh[2] == 3)
    udh[3] = ref;
}

/* The account's webhook_events as a status mask; 0 (none listed): the
 * store's default. The configuration checked the names. */
static uint32_t webhook_mask(const sg_config_account_t *a) {
  uint32_t mask = 0;
  for (size_t i = 0; a != NULL && i < a->n_webhook_events; i++) {
    sg_msg_status_t st;
    if (sg_store_status_parse(a->webhook_events[i], &st) == 0)
      mask |= SG_MSG_BIT(st);
  }
  return mask;
}

static int build_msgs(sg_submit_ctx_t *x, const sg_submit_req_t *r,
                      int64_t now) {
  sg_engine_t *e = x->e;
  const sg_segments_t *s = e->segs;
  size_t np = x->n_parts;
  size_t off = 0;
  size_t o_msgs = slot(&off, x->n_msgs, sizeof *x->msgs);
  size_t o_parts = slot(&off, x->n_msgs * np, sizeof *x->parts);
  size_t o_udh = slot(&off, x->n_msgs * np, SG_SEG_UDH_MAX);
  uint8_t *b = sg_calloc(1, off);
  if (b == NULL)
    return SG_ENOMEM;
  x->late = b;
  x->msgs = (sg_store_msg_in_t *)(void *)(b + o_msgs);
  x->parts = (sg_store_part_in_t *)(void *)(b + o_parts);
  x->udh = b + o_udh;
  int64_t expiry = r->validity_ms > 0 ? now + r->validity_ms : 0;
  uint32_t wh_mask = webhook_mask(r->account->cfg);
  for (size_t m = 0; m < x->n_msgs; m++) {
    sg_submit_item_t *it = &x->items[x->msg_item[m]];
    sg_store_msg_in_t *mi = &x->msgs[m];
    if (sg_id_new(mi->id) != 0)
      return SG_EIO;
    uint8_t ref = e->next_ref++;
    for (size_t p = 0; p < np; p++) {
      sg_store_part_in_t *pi = &x->parts[m * np + p];
      uint8_t *udh = x->udh + (m * np + p) * SG_SEG_UDH_MAX;
      memcpy(udh, s->parts[p].udh, s->parts[p].udh_len);
      if (r->raw == NULL) /* a customer's own UDH is kept as it came */
        patch_ref(udh, s->parts[p].udh_len, ref);
      pi->connector = e->conns[x->msg_conn[m]].cfg->name;
      pi->encoding = s->encoding;
      pi->lang_locking = s->charset.locking;
      pi->lang_single = s->charset.single;
      pi->udh = s->parts[p].udh_len ? udh : NULL;
      pi->udh_len = s->parts[p].udh_len;
      pi->ud = x->ud_buf + p * SG_SEG_UD_MAX;
      pi->ud_len = x->ud_len[p];
      pi->concat_ref = np > 1 ? ref : 0;
      pi->concat_total = (uint8_t)np;
    }
    mi->sender = x->sender;
    mi->recipient = it->to;
    mi->encoding = s->encoding;
    mi->binary = r->binary != NULL;
    mi->body = x->body;
    mi->body_len = x->body_len;
    mi->validity_ms = expiry;
    mi->send_at_ms = x->send_at_ms;
    mi->callback_url = x->callback_url;
    mi->client_ref = x->client_ref;
    mi->priority = r->priority;
    mi->dlr_wanted = r->dlr;
    mi->dlr_url = x->dlr_url;
    mi->dlr_mask = x->dlr_url != NULL ? r->dlr_mask : 0;
    mi->webhook_statuses = wh_mask;
    mi->parts = &x->parts[m * np];
    mi->n_parts = np;
    mi->smpp = r->smpp;
    memcpy(it->id, mi->id, sizeof it->id);
    it->parts = (unsigned)np;
    it->encoding = s->encoding;
    it->msg_status = x->send_at_ms ? SG_MSG_SCHEDULED : SG_MSG_QUEUED;
    it->connector = e->conns[x->msg_conn[m]].cfg->name;
  }
  return 0;
}

/* The request's identity for idempotency when the ingress gave no hash: a
 * BLAKE2b digest of every field that changes what is sent. */
static void request_hash(sg_submit_ctx_t *x, const sg_submit_req_t *r) {
  if (r->request_hash != NULL && r->request_hash_len > 0) {
    x->hash_ptr = r->request_hash;
    x->hash_len = r->request_hash_len;
    return;
  }
  crypto_generichash_state h;
  crypto_generichash_init(&h, NULL, 0, sizeof x->req_hash);
  for (size_t i = 0; i < r->n_to; i++) {
    const char *t = r->to[i] ? r->to[i] : "";
    crypto_generichash_update(&h, (const uint8_t *)t, strlen(t) + 1);
  }
  const char *strs[] = {x->sender, x->callback_url ? x->callback_url : "",
                        x->client_ref ? x->client_ref : ""};
  for (size_t i = 0; i < 3; i++)
    crypto_generichash_update(&h, (const uint8_t *)strs[i],
                              strlen(strs[i]) + 1);
  int64_t nums[] = {r->encoding,    r->national, r->smart, r->send_at_ms,
                    r->validity_ms, r->priority, r->dlr,   r->binary != NULL};
  crypto_generichash_update(&h, (const uint8_t *)nums, sizeof nums);
  crypto_generichash_update(&h, x->body, x->body_len);
  crypto_generichash_final(&h, x->req_hash, sizeof x->req_hash);
  x->hash_ptr = x->req_hash;
  x->hash_len = sizeof x->req_hash;
}

/* The response body documented at sg_submit_res_t.response. */
static int build_response(sg_submit_ctx_t *x) {
  sg_free(x->response);
  x->response = NULL;
  int rc = sg__submit_json(x->res.batch_id, x->items, x->n_items, &x->response,
                           &x->response_len);
  if (rc < 0)
    return rc;
  x->res.response = (const uint8_t *)x->response;
  x->res.response_len = x->response_len;
  return 0;
}

/* ---- writing ------------------------------------------------------------- */

/* The whole request is one store batch, so one transaction: all of its
 * messages are stored, or none. */
_Static_assert(SG_ENGINE_MAX_RECIPIENTS <= SG_STORE_BATCH_MAX,
               "a request must fit in one store batch");

/* The batch committed: the messages are durable, the connectors may claim. */
static void batch_committed(sg_submit_ctx_t *x) {
  sg_engine_t *e = x->e;
  for (size_t m = 0; m < x->n_msgs; m++) {
    sg__conn_t *c = &e->conns[x->msg_conn[m]];
    const sg_submit_item_t *it = &x->items[x->msg_item[m]];
    sg__log(e, SG_ENGINE_LOG_INFO,
            "message=%s account=%s connector=%s: accepted, %u part(s), %s",
            it->id, x->account != NULL ? x->account->name : "-", c->cfg->name,
            it->parts, sg_store_status_name(it->msg_status));
    c->backlog += x->n_parts;
    e->accepted++;
    e->parts_accepted += x->n_parts;
    if (x->send_at_ms == 0) {
      c->more = true;
      c->move_idle = false; /* a failover claim may find them */
    } else if (!c->wake_due) { /* its connector's claims wake then, once */
      c->wake_due = true;
      sg__wake_at(e, x->send_at_ms, c->index);
    }
  }
  for (size_t m = 0; x->send_at_ms != 0 && m < x->n_msgs; m++)
    e->conns[x->msg_conn[m]].wake_due = false;
}

static void submit_done(sg_submit_ctx_t *x) {
  sg_engine_t *e = x->e;
  e->submits_pending--;
  /* A claim waiting in the store took the submitted parts; a customer's
   * pre-split part is never handed to one (store.h), so it wakes them:
   * they are answered and claimed again, and the new claim selects it. */
  if (x->res.status == 0 && !x->res.replayed)
    for (size_t c = 0; c < e->n_conns; c++)
      if (e->conns[c].more) {
        if (x->presplit)
          sg__poke(e, c);
        else
          sg__poke_submitted(e, c);
      }
  finish(x);
  sg__maybe_stopped(e);
}

static void store_cb(sg_store_t *st, int status,
                     const sg_store_submit_res_t *sres, void *data) {
  sg_submit_ctx_t *x = data;
  sg_engine_t *e = x->e;
  sg__op_end(e);
  if (status == 0 && sres->replayed) {
    sg_free(x->response);
    x->response = sg_malloc(sres->response_len + 1);
    if (x->response == NULL) {
      fail(x, SG_ENOMEM, "out_of_memory", NULL, "out of memory");
    } else {
      memcpy(x->response, sres->response, sres->response_len);
      x->response[sres->response_len] = '\0';
      x->res.replayed = true;
      x->res.items = NULL;
      x->res.n_items = 0;
      x->res.n_accepted = 0;
      x->res.response = (const uint8_t *)x->response;
      x->res.response_len = sres->response_len;
    }
    submit_done(x);
    return;
  }
  if (status == 0) {
    e->store_ok = true;
    sg__limits_release(e, &x->hold, true);
    batch_committed(x);
    submit_done(x);
    return;
  }
  if (status == SG_EIO)
    e->store_ok = false;
  if (status == SG_EEXIST) {
    fail(x, SG_EEXIST, "idempotency_conflict", "idempotency_key",
         "this idempotency key was used for another request");
  } else if (status == SG_ENOSPC) {
    fail(x, SG_ENOFUNDS, "insufficient_balance", NULL,
         "the balance does not cover this request");
  } else {
    fail(x, status, "store_failed", NULL,
         "the message store could not commit: %s", sg_strerror(status));
  }
  submit_done(x);
}

/* A pre-split part stored (or refused): the item's id becomes the id of
 * the message it joined. */
static void presplit_cb(sg_store_t *st, int status,
                        const sg_store_presplit_res_t *res, void *data) {
  sg_submit_ctx_t *x = data;
  static const struct {
    int status;
    const char *code, *why;
  } refusals[] = {
      {SG_EEXIST, "duplicate_part", "this part of the message was received"},
      {SG_ERANGE, "part_out_of_range", "the message has fewer parts"},
      {SG_ESTATE, "message_canceled", "the message was canceled"},
      {SG_ENOENT, "unknown_message", "the message of this part is gone"},
  };
  for (size_t i = 0; i < sizeof refusals / sizeof refusals[0]; i++)
    if (status == refusals[i].status) {
      sg__op_end(x->e);
      fail(x, SG_EINVAL, refusals[i].code, "seq", "part %u: %s",
           (unsigned)x->ps.seq, refusals[i].why);
      submit_done(x);
      return;
    }
  if (status == 0) {
    memcpy(x->items[x->msg_item[0]].id, res->message_id, SG_ID_LEN + 1);
    memcpy(x->msgs[0].id, res->message_id, SG_ID_LEN + 1);
  }
  static const sg_store_submit_res_t plain = {false, NULL, 0};
  store_cb(st, status, status == 0 ? &plain : NULL, x);
}

static int write_batch(sg_submit_ctx_t *x) {
  sg_store_batch_t b;
  memset(&b, 0, sizeof b);
  memcpy(b.batch_id, x->res.batch_id, sizeof b.batch_id);
  b.account_id = x->account->id;
  b.msgs = x->msgs;
  b.n_msgs = x->n_msgs;
  if (x->idem_key != NULL) {
    b.idem_key = x->idem_key;
    b.request_hash = x->hash_ptr;
    b.request_hash_len = x->hash_len;
    b.response = x->res.response;
    b.response_len = x->res.response_len;
  }
  if (x->hold.on) {
    memcpy(b.usage_day, x->hold.day, sizeof b.usage_day);
    memcpy(b.usage_month, x->hold.month, sizeof b.usage_month);
    b.usage_parts = x->hold.parts;
    b.charge_micro = x->hold.charge;
  }
  int rc = x->presplit
               ? sg_store_presplit_add(x->e->st, &b, &x->ps, presplit_cb, x)
               : sg_store_submit(x->e->st, &b, store_cb, x);
  if (rc == 0)
    sg__op_begin(x->e);
  return rc;
}

/* ---- the entry point ----------------------------------------------------- */

/* Everything before the write; returns 0, or -1 with x->res failed. */
static int prepare(sg_submit_ctx_t *x, const sg_submit_req_t *r) {
  sg_engine_t *e = x->e;
  int64_t now = x->started_ms;
  if (e->state != SG__RUNNING)
    return fail(x, SG_ECLOSED, "not_running", NULL,
                "the gateway is not running"),
           -1;
  if (account_of(e, r->account) == NULL)
    return fail(x, SG_EINVAL, "unknown_account", NULL,
                "the account is not one of this engine's"),
           -1;
  if (check_fields(x, r, now) != 0)
    return -1;
  int st;
  const char *code, *field;
  char why[sizeof x->message]; /* fail() formats into x->message */
  if (segment(e, r, &st, &code, &field, why, sizeof why) != 0)
    return fail(x, st, code, field, "%s", why), -1;
  if (keep_segments(x, r) != 0)
    return fail(x, SG_ENOMEM, "out_of_memory", NULL, "out of memory"), -1;
  x->n_items = r->n_to;
  if (recipients(x, r) != 0)
    return fail(x, SG_ENOMEM, "out_of_memory", NULL, "out of memory"), -1;
  if (x->n_msgs == 0) {
    fail(x, x->items[0].status, x->items[0].error_code, "to", "%s: %s",
         x->items[0].input, x->items[0].reason);
    if (x->items[0].status == SG_EBUSY)
      x->res.retry_after_s = x->velocity_retry;
    return -1;
  }
  if (check_limits(x, r, now) != 0)
    return -1;
  int rc = build_msgs(x, r, now);
  if (rc == 0 && r->batch_id != NULL) {
    memcpy(x->res.batch_id, r->batch_id, SG_ID_LEN + 1);
    rc = sg_id_canonical(x->res.batch_id, SG_ID_LEN);
  } else if (rc == 0 && x->n_msgs == 1) {
    /* A batch of one is named by its message: the SQLite store then keeps
     * no index entry for it (migration 0029). */
    memcpy(x->res.batch_id, x->msgs[0].id, SG_ID_LEN + 1);
  } else if (rc == 0)
    rc = sg_id_new(x->res.batch_id);
  if (rc != 0)
    return fail(x, rc, rc == SG_ENOMEM ? "out_of_memory" : "internal", NULL,
                "cannot make the messages: %s", sg_strerror(rc)),
           -1;
  x->res.items = x->items;
  x->res.n_items = x->n_items;
  x->res.n_accepted = x->n_msgs;
  if (x->idem_key != NULL) /* the hash serves only the idempotency record */
    request_hash(x, r);
  if (build_response(x) != 0)
    return fail(x, SG_ENOMEM, "out_of_memory", NULL, "out of memory"), -1;
  return 0;
}

int sg_engine_submit(sg_engine_t *e, const sg_submit_req_t *req,
                     sg_submit_cb cb, void *ud) {
  if (e == NULL || req == NULL || cb == NULL || req->account == NULL)
    return SG_EINVAL;
  sg_submit_ctx_t *x = sg_calloc(1, sizeof *x);
  if (x == NULL)
    return SG_ENOMEM;
  x->e = e;
  x->cb = cb;
  x->ud = ud;
  x->account = req->account;
  x->started_ms = sg__now_ms(e);
  e->requests++;
  if (req->presplit != NULL) {
    x->presplit = true;
    x->ps = *req->presplit;
  }
  if (prepare(x, req) != 0) {
    defer(x);
    return 0;
  }
  int rc = write_batch(x);
  if (rc != 0) {
    if (rc == SG_EBUSY)
      fail(x, SG_EBUSY, "store_busy", NULL,
           "too many messages waiting to be stored; retry shortly");
    else
      fail(x, rc, rc == SG_ECLOSED ? "not_running" : "store_failed", NULL,
           "the message store refused the batch: %s", sg_strerror(rc));
    defer(x);
    return 0;
  }
  e->submits_pending++;
  return 0;
}

/* ---- preview ------------------------------------------------------------- */

int sg_engine_preview(sg_engine_t *e, const sg_submit_req_t *req,
                      sg_engine_preview_t *out) {
  if (e == NULL || req == NULL || out == NULL)
    return SG_EINVAL;
  memset(out, 0, sizeof *out);
  int st;
  if (segment(e, req, &st, &out->error_code, &out->error_field, out->message,
              sizeof out->message) != 0) {
    out->status = st;
    return st;
  }
  const sg_segments_t *s = e->segs;
  out->encoding = s->encoding;
  out->parts = s->nparts;
  out->chars = s->chars;
  out->units = s->units;
  out->replaced = s->replaced;
  /* The room a UDH leaves (TS 23.040 9.2.3.24): GSM 7-bit counts the UDH
   * in whole septets, the fill bits included. */
  size_t udh = s->parts[0].udh_len;
  out->units_per_part = s->encoding == SG_ENC_GSM7   ? 160 - (8 * udh + 6) / 7
                        : s->encoding == SG_ENC_UCS2 ? (140 - udh) / 2
                                                     : 140 - udh;
  return 0;
}
