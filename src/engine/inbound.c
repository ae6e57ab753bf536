/* inbound.c - incoming messages (MO) from the connectors to the accounts:
 * every part is stored before the operator is acknowledged; concatenated
 * parts (UDH 8- or 16-bit reference, or SAR TLVs) wait in the store until
 * the message is whole or the reassembly timeout passes; then the message
 * is decoded to UTF-8, given to an account by the inbound rules, stored
 * with its webhook (and an opt-out change for a STOP or START keyword) in
 * one transaction, and answered: the configured confirmation of STOP,
 * START and HELP, and the "reply" of an inbound webhook's answer, both as
 * ordinary messages through sg_engine_submit, within the reply limit.
 *
 * It also keeps the opt-out set that submit.c and dispatch.c consult
 * (loaded from the store before the engine runs, changed after each
 * commit), and the account-facing calls of engine.h "INBOUND".
 *
 * This file must never acknowledge a part before the store committed it,
 * nor write to the store other than through store.h.
 */
#include <jansson.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "core/alloc.h"
#include "core/error.h"
#include "core/inrule.h"
#include "core/kannel.h"
#include "core/mo.h"
#include "core/utf8.h"
#include "engine/engine_int.h"
#include "engine/inbound.h"
#include "engine/inrules_int.h"

#define DUE_GROUPS 50 /* groups handed out per reassembly pass */
#define EXEMPT_MAX 64

struct sg__inbound {
  sg_engine_t *e;
  sg_inbound_rules_t *rules;
  sg_optset_t *optouts;
  sg_replyguard_t *guard;
  bool due_busy, due_again;
  /* Loading the opt-out lists at start. */
  void (*loaded)(sg_engine_t *e, int status);
  size_t load_account;
  char load_cursor[SG_STORE_NUMBER_MAX];
  uint64_t reassembled, incomplete, replies, replies_limited;
  /* Messages allowed to an opted-out number (STOP confirmations), so that
   * the dispatcher's check lets them go: the newest EXEMPT_MAX ids. */
  char exempt[EXEMPT_MAX][SG_ID_LEN + 1];
  unsigned exempt_next;
};

/* ---- helpers ------------------------------------------------------------- */

static void ack(sg_engine_t *e, size_t conn, uint64_t token, bool ok) {
  sg__conn_t *c = &e->conns[conn];
  if (c->c != NULL)
    sg_connector_ack(c->c, token, ok);
}

static const sg__account_t *account_by_id(const sg_engine_t *e, int64_t id) {
  for (size_t i = 0; i < e->n_accounts; i++)
    if (e->accounts[i].pub.id == id)
      return &e->accounts[i];
  return NULL;
}

static const sg__account_t *account_by_name(const sg_engine_t *e,
                                            const char *name) {
  for (size_t i = 0; name != NULL && i < e->n_accounts; i++)
    if (strcmp(e->accounts[i].pub.name, name) == 0)
      return &e->accounts[i];
  return NULL;
}

/* "+digits" for an international number, the address as it is otherwise. */
static void addr_text(const sg_conn_addr_t *a, char *out, size_t cap) {
  snprintf(out, cap, "%s%s", a->ton == 1 && a->addr[0] != '+' ? "+" : "",
           a->addr);
}

/* The form a number takes on an opt-out list: E.164 when it is a phone
 * number in the account's region, else as written. */
static void optout_key(sg_engine_t *e, const sg__account_t *a, const char *in,
                       char *out, size_t cap) {
  sg_phone_t ph;
  const char *region = a != NULL ? a->pub.cfg->default_region : NULL;
  if (sg_phone_normalize(e->phone, in, strlen(in), region, &ph, NULL) == 0)
    snprintf(out, cap, "%s", ph.e164);
  else
    snprintf(out, cap, "%s", in);
}

bool sg__optout_has(const sg_engine_t *e, int64_t account, const char *number) {
  return e->inbound != NULL &&
         sg_optset_has(e->inbound->optouts, account, number);
}

bool sg__optout_blocks(const sg_engine_t *e, int64_t account,
                       const char *number, const char *message_id) {
  if (!sg__optout_has(e, account, number))
    return false;
  for (unsigned i = 0; i < EXEMPT_MAX; i++)
    if (strcmp(e->inbound->exempt[i], message_id) == 0)
      return false;
  return true;
}

/* ---- automatic replies --------------------------------------------------- */

static void reply_cb(sg_engine_t *e, const sg_submit_res_t *res, void *ud) {
  struct sg__inbound *in = e->inbound;
  /* Runs before the dispatcher's claim of the message can come back. */
  if (ud != NULL && in != NULL && res->status == 0 && res->n_items > 0 &&
      res->items[0].status == 0) {
    memcpy(in->exempt[in->exempt_next], res->items[0].id, SG_ID_LEN + 1);
    in->exempt_next = (in->exempt_next + 1) % EXEMPT_MAX;
  }
  if (res->status != 0)
    sg__log(e, SG_ENGINE_LOG_WARN, "automatic reply not sent: %s (%s)",
            res->message, res->error_code ? res->error_code : "");
  else if (res->n_items > 0 && res->items[0].status != 0)
    sg__log(e, SG_ENGINE_LOG_WARN, "automatic reply to %s not sent: %s",
            res->items[0].input ? res->items[0].input : "?",
            res->items[0].error_code);
}

/* Sends text from `from` (our number) back to `to`, within the limit. */
static void auto_reply(sg_engine_t *e, const sg__account_t *a, const char *from,
                       const char *to, const char *text, size_t len,
                       bool exempt) {
  struct sg__inbound *in = e->inbound;
  if (a == NULL || text == NULL || len == 0 || e->state != SG__RUNNING)
    return;
  if (!sg_replyguard_take(in->guard, from, to, sg__now_ms(e))) {
    in->replies_limited++;
    sg__log(e, SG_ENGINE_LOG_WARN,
            "automatic reply from %s to %s dropped: more than %u in %u ms",
            from, to, e->cfg->inbound.reply_limit,
            e->cfg->inbound.reply_window_ms);
    return;
  }
  sg__inrules_count_reply(e, in->guard, from, to);
  const char *tos[1] = {to};
  sg_submit_req_t req = {.account = &a->pub,
                         .to = tos,
                         .n_to = 1,
                         .from = from,
                         .text = text,
                         .text_len = len,
                         .encoding = SG_ENC_AUTO,
                         .dlr = true,
                         .auto_reply = true,
                         .optout_exempt = exempt};
  if (sg_engine_submit(e, &req, reply_cb, exempt ? (void *)in : NULL) == 0)
    in->replies++;
}

void sg__inbound_reply(sg_engine_t *e, int64_t account_id,
                       const uint8_t *payload, size_t plen, const char *body,
                       size_t blen) {
  if (e->inbound == NULL || body == NULL || blen == 0)
    return;
  json_t *ans = json_loadb(body, blen, 0, NULL);
  json_t *msg = ans ? json_loadb((const char *)payload, plen, 0, NULL) : NULL;
  const char *reply = json_string_value(json_object_get(ans, "reply"));
  const char *from = json_string_value(json_object_get(msg, "from"));
  const char *to = json_string_value(json_object_get(msg, "to"));
  if (reply != NULL && from != NULL && to != NULL)
    auto_reply(e, account_by_id(e, account_id), to, from, reply,
               json_string_length(json_object_get(ans, "reply")), false);
  else if (ans == NULL)
    sg__log(e, SG_ENGINE_LOG_DEBUG, "inbound webhook answer is not JSON");
  json_decref(ans);
  json_decref(msg);
}

/* A Content-Type of text/plain (any parameters). */
static bool text_plain(const char *ct) {
  return ct != NULL && strncasecmp(ct, "text/plain", 10) == 0 &&
         (ct[10] == '\0' || ct[10] == ';' || ct[10] == ' ');
}

/* The length of s[0..len) cut to at most max code points (UTF-8). */
static size_t cut_chars(const char *s, size_t len, uint32_t max) {
  uint32_t n = 0;
  for (size_t i = 0; i < len; i++)
    if (((uint8_t)s[i] & 0xC0) != 0x80 && n++ == max)
      return i;
  return len;
}

/* The answer to a rule's URL action: a text/plain body, or JSON
 * {"reply": ...}, sent back within the rule's settings and the limit. */
static void url_answer(sg_engine_t *e, int64_t account_id, json_t *msg,
                       int64_t rule_id, const sg_webhook_result_t *res) {
  const sg_inrule_t *q = sg__inrules_find(e, rule_id);
  json_t *ans = NULL;
  const char *text = NULL;
  size_t len = 0;
  if (text_plain(res->content_type)) {
    text = res->body;
    len = res->body_len;
    while (len > 0 && (text[0] == ' ' || text[0] == '\t' ||
                       text[0] == '\r' || text[0] == '\n'))
      text++, len--;
    while (len > 0 && (text[len - 1] == ' ' || text[len - 1] == '\t' ||
                       text[len - 1] == '\r' || text[len - 1] == '\n'))
      len--;
  } else if ((ans = json_loadb(res->body, res->body_len, 0, NULL)) != NULL) {
    text = json_string_value(json_object_get(ans, "reply"));
    len = text != NULL ? json_string_length(json_object_get(ans, "reply")) : 0;
  }
  size_t n, off;
  const char *from = json_string_value(json_object_get(msg, "from"));
  const char *to = json_string_value(json_object_get(msg, "to"));
  if (text == NULL || len == 0 || from == NULL || to == NULL) {
    json_decref(ans);
    return;
  }
  if (q != NULL && !q->r.reply)
    sg__log(e, SG_ENGINE_LOG_DEBUG, "rule %lld: its URL's answer is not sent "
            "back (reply: false)", (long long)rule_id);
  else if (sg_utf8_count((const uint8_t *)text, len, &n, &off) != 0)
    sg__log(e, SG_ENGINE_LOG_WARN, "rule %lld: its URL answered text that is "
            "not UTF-8 (octet %zu); no reply sent", (long long)rule_id, off);
  else
    auto_reply(e, account_by_id(e, account_id), to, from, text,
               cut_chars(text, len, q != NULL ? q->r.reply_max_length
                                              : SG_INRULE_REPLY_DEFAULT),
               false);
  json_decref(ans);
}

void sg__inbound_answer(sg_engine_t *e, int64_t account_id,
                        const uint8_t *payload, size_t plen,
                        const sg_webhook_result_t *res) {
  if (e->inbound == NULL || res->body == NULL || res->body_len == 0)
    return;
  json_t *msg = json_loadb((const char *)payload, plen, 0, NULL);
  json_t *rule = json_object_get(msg, "rule");
  if (json_is_integer(rule))
    url_answer(e, account_id, msg, json_integer_value(rule), res);
  else
    sg__inbound_reply(e, account_id, payload, plen, res->body, res->body_len);
  json_decref(msg);
}

/* ---- delivering a whole (or timed-out) message --------------------------- */

typedef struct deliver_op {
  sg_engine_t *e;
  const sg__account_t *a;
  const sg_inrule_t *rule; /* valid during deliver() only */
  sg_inbound_kw_t kw;
  bool has_token;
  size_t conn;
  uint64_t token;
  bool incomplete;
  char id[SG_ID_LEN + 1];
  char from[24], to[24];
  char number[SG_STORE_NUMBER_MAX];
} deliver_op_t;

static void keyword_reply(sg_engine_t *e, const deliver_op_t *op) {
  const sg_config_inbound_t *c = &e->cfg->inbound;
  const char *t = op->kw == SG_INBOUND_KW_STOP    ? c->stop_reply
                  : op->kw == SG_INBOUND_KW_START ? c->start_reply
                  : op->kw == SG_INBOUND_KW_HELP  ? c->help_reply
                                                  : NULL;
  if (t != NULL)
    auto_reply(e, op->a, op->to, op->from, t, strlen(t),
               op->kw == SG_INBOUND_KW_STOP);
}

static void deliver_cb(sg_store_t *st, int status, int64_t wh, void *data) {
  (void)st;
  deliver_op_t *op = data;
  sg_engine_t *e = op->e;
  struct sg__inbound *in = e->inbound;
  sg__op_end(e);
  if (op->has_token)
    ack(e, op->conn, op->token, status == 0);
  if (status == 0) {
    e->inbound_stored++;
    in->incomplete += op->incomplete;
    if (op->a != NULL && op->kw == SG_INBOUND_KW_STOP &&
        sg_optset_add(in->optouts, op->a->pub.id, op->number) != 0)
      sg__log(e, SG_ENGINE_LOG_ERROR, "opt-out of %s not kept in memory",
              op->number);
    if (op->a != NULL && op->kw == SG_INBOUND_KW_START)
      sg_optset_remove(in->optouts, op->a->pub.id, op->number);
    sg__log(e, SG_ENGINE_LOG_INFO, "inbound message %s from %s to %s%s%s%s",
            op->id, op->from, op->to, op->a ? " for " : "",
            op->a ? op->a->pub.name : " (no account)",
            op->incomplete ? ", incomplete" : "");
    if (wh > 0)
      sg__notifier_poke(e);
    keyword_reply(e, op);
  } else if (status != SG_ENOENT) {
    sg__log(e, SG_ENGINE_LOG_ERROR, "inbound message from %s not stored: %s%s",
            op->from, sg_strerror(status),
            op->has_token ? " (the operator will send it again)"
                          : " (tried again later)");
  }
  sg_free(op);
  sg__maybe_stopped(e);
}

typedef struct mo_msg {
  const char *connector, *sender, *recipient, *group;
  const sg_mo_part_t *parts;
  size_t n;
  unsigned total;
  int64_t received_ms;
  bool has_token;
  size_t conn;
  uint64_t token;
} mo_msg_t;

/* The account a message goes to: the first rule that matches (*rule),
 * else the catch-all, else none. */
static const sg__account_t *route(sg_engine_t *e, const mo_msg_t *m,
                                  const uint8_t *text, size_t len,
                                  const char *kw, const sg_inrule_t **rule) {
  const sg_config_inbound_t *c = &e->cfg->inbound;
  int r =
      sg_inbound_rules_match(e->inbound->rules, m->recipient, text, len, kw);
  *rule = sg__inrules_at(e, r);
  if (*rule != NULL)
    return account_by_name(e, (*rule)->r.account);
  return account_by_name(e, r >= 0 && (size_t)r < c->n_rules
                                ? c->rules[r].account
                                : c->catch_all);
}

/* The URL of a rule's URL action with the message's escape codes filled
 * in (core/kannel.h, as Kannel's sms-service), or NULL (out of memory or
 * too long). text is NUL-terminated, or NULL for binary. */
static char *action_url(const sg_inrule_t *q, const mo_msg_t *m,
                        const deliver_op_t *op, const char *text,
                        const sg_mo_joined_t *j) {
  sg_kannel_mo_t mo = {.text = text,
                       .from = m->sender,
                       .to = m->recipient,
                       .smsc = m->connector,
                       .id = op->id,
                       .service = op->a ? op->a->pub.name : NULL,
                       .time_s = m->received_ms / 1000,
                       .coding = j->binary                    ? 1
                                 : j->encoding == SG_ENC_UCS2 ? 2
                                                              : 0};
  sg_kannel_dlr_vars_t v;
  sg_kannel_mo_vars(&mo, &v);
  size_t tl = strlen(q->r.url);
  for (size_t cap = tl + 3 * j->len + 1024; cap <= (1u << 20); cap *= 4) {
    char *out = sg_malloc(cap);
    if (out == NULL)
      return NULL;
    int n = sg_kannel_dlr_expand(q->r.url, tl, &v, out, cap);
    if (n >= 0)
      return out;
    sg_free(out);
    if (n != SG_ENOSPC)
      return NULL;
  }
  return NULL;
}

/* Whether an account takes its incoming messages as deliver_sm from
 * smsgate's SMPP server (docs/configuration.md "accounts"): it has smpp
 * credentials that may bind a receiver or transceiver, the server runs,
 * and it has no inbound_url (which keeps them on the webhook). */
static bool smpp_mo(const sg_engine_t *e, const sg__account_t *a) {
  const sg_config_account_t *c = a != NULL ? a->pub.cfg : NULL;
  uint32_t rx = (1u << SG_CONFIG_BIND_RECEIVER) |
                (1u << SG_CONFIG_BIND_TRANSCEIVER);
  return c != NULL && c->smpp.system_id != NULL && c->inbound_url == NULL &&
         (c->smpp.bind_types & rx) != 0 && e->cfg->smpp_server.enabled;
}

static int deliver_store(sg_engine_t *e, const mo_msg_t *m, deliver_op_t *op,
                         uint8_t *buf, const sg_mo_joined_t *j,
                         const char *kw) {
  sg_store_mo_deliver_t d;
  memset(&d, 0, sizeof d);
  if (sg_id_new(d.msg.id) != 0)
    return SG_EIO;
  memcpy(op->id, d.msg.id, sizeof op->id);
  const sg_inrule_t *q = op->rule;
  char *url = NULL;
  if (q != NULL && q->r.url != NULL &&
      q->r.action != SG_CONFIG_INBOUND_WEBHOOK) {
    buf[j->len] = '\0'; /* the buffer has room for it */
    url = action_url(q, m, op, j->binary ? NULL : (const char *)buf, j);
    if (url == NULL)
      return SG_ENOMEM;
    d.action_url = url;
    d.action_get = q->r.method == SG_CONFIG_INBOUND_GET;
    d.rule_id = q->id;
  }
  d.msg.account_id = op->a ? op->a->pub.id : 0;
  d.msg.connector = m->connector;
  d.msg.sender = m->sender;
  d.msg.recipient = m->recipient;
  d.msg.encoding = j->encoding;
  d.msg.binary = j->binary;
  d.msg.body = buf;
  d.msg.body_len = j->len;
  d.msg.parts = j->have;
  d.msg.received_ms = m->received_ms;
  d.msg.keyword = kw[0] ? kw : NULL;
  d.msg.incomplete = !j->complete;
  d.group = m->group;
  d.webhook_url = op->a ? op->a->pub.cfg->inbound_url : NULL;
  if (q != NULL && q->r.url != NULL && q->r.action == SG_CONFIG_INBOUND_URL)
    d.webhook_url = NULL; /* the URL instead of the account's webhook */
  d.optout = op->kw == SG_INBOUND_KW_STOP    ? 1
             : op->kw == SG_INBOUND_KW_START ? -1
                                             : 0;
  d.optout_number = op->number;
  d.smpp_out = smpp_mo(e, op->a);
  int rc = sg_store_mo_deliver(e->st, &d, deliver_cb, op);
  sg_free(url);
  return rc;
}

static int deliver(sg_engine_t *e, const mo_msg_t *m) {
  size_t cap = (size_t)m->total * SG_SEG_UD_MAX * 3 + 16;
  uint8_t *buf = sg_malloc(cap + 1); /* + a NUL for a URL action */
  deliver_op_t *op = sg_calloc(1, sizeof *op);
  sg_mo_joined_t j;
  int rc = buf && op ? sg_mo_join(m->parts, m->n, m->total, buf, cap, &j)
                     : SG_ENOMEM;
  char kw[128] = "";
  if (rc == 0 && !j.binary && sg_mo_keyword(buf, j.len, kw, sizeof kw) < 0)
    kw[0] = '\0';
  if (rc == 0) {
    op->e = e;
    op->a = route(e, m, j.binary ? NULL : buf, j.len, kw, &op->rule);
    op->kw = op->a ? sg_inbound_rules_keyword(e->inbound->rules, kw)
                   : SG_INBOUND_KW_NONE;
    op->has_token = m->has_token;
    op->conn = m->conn;
    op->token = m->token;
    op->incomplete = !j.complete;
    snprintf(op->from, sizeof op->from, "%s", m->sender);
    snprintf(op->to, sizeof op->to, "%s", m->recipient);
    optout_key(e, op->a, m->sender, op->number, sizeof op->number);
    rc = deliver_store(e, m, op, buf, &j, kw);
  }
  sg_free(buf);
  if (rc != 0) {
    sg_free(op);
    return rc;
  }
  sg__op_begin(e);
  return 0;
}

/* ---- the reassembly pass ------------------------------------------------- */

static void due_run(struct sg__inbound *in);

static void deliver_group(sg_engine_t *e, const sg_store_mo_part_t *p,
                          size_t n) {
  sg_mo_part_t parts[SG_SEG_MAX_PARTS];
  size_t k = 0;
  for (size_t i = 0; i < n && k < SG_SEG_MAX_PARTS; i++, k++)
    parts[k] = (sg_mo_part_t){.seq = (uint8_t)p[i].seq,
                              .data_coding = p[i].data_coding,
                              .udh = p[i].udh,
                              .udh_len = p[i].udh_len,
                              .ud = p[i].ud,
                              .ud_len = p[i].ud_len};
  mo_msg_t m = {.connector = p[0].connector,
                .sender = p[0].sender,
                .recipient = p[0].recipient,
                .group = p[0].group,
                .parts = parts,
                .n = k,
                .total = p[0].total,
                .received_ms = p[0].received_ms};
  int rc = deliver(e, &m);
  if (rc != 0)
    sg__log(e, SG_ENGINE_LOG_WARN,
            "inbound message from %s not reassembled yet: %s", p[0].sender,
            sg_strerror(rc));
  else
    e->inbound->reassembled++;
}

static void due_cb(sg_store_t *st, int status, const sg_store_mo_part_t *p,
                   size_t n, void *data) {
  (void)st;
  struct sg__inbound *in = data;
  sg_engine_t *e = in->e;
  sg__op_end(e);
  in->due_busy = false;
  size_t groups = 0;
  for (size_t i = 0; status == 0 && e->state == SG__RUNNING && i < n;) {
    size_t j = i + 1;
    while (j < n && strcmp(p[j].group, p[i].group) == 0)
      j++;
    deliver_group(e, p + i, j - i);
    groups++;
    i = j;
  }
  if (groups == DUE_GROUPS)
    in->due_again = true;
  if (in->due_again && e->state == SG__RUNNING) {
    in->due_again = false;
    due_run(in);
  }
  sg__maybe_stopped(e);
}

static void due_run(struct sg__inbound *in) {
  sg_engine_t *e = in->e;
  if (in->due_busy) {
    in->due_again = true;
    return;
  }
  int64_t stale =
      sg__now_ms(e) - (int64_t)e->cfg->inbound.reassembly_timeout_ms;
  if (sg_store_mo_due(e->st, stale > 0 ? stale : 0, DUE_GROUPS, due_cb, in) ==
      0) {
    in->due_busy = true;
    sg__op_begin(e);
  }
}

void sg__inbound_tick(sg_engine_t *e) {
  if (e->inbound != NULL && e->state == SG__RUNNING)
    due_run(e->inbound);
}

/* ---- parts from the connectors ------------------------------------------- */

typedef struct part_op {
  sg_engine_t *e;
  size_t conn;
  uint64_t token;
  unsigned total;
} part_op_t;

static void part_cb(sg_store_t *st, int status, bool dup, unsigned have,
                    void *data) {
  (void)st;
  part_op_t *op = data;
  sg_engine_t *e = op->e;
  sg__op_end(e);
  ack(e, op->conn, op->token, status == 0);
  if (status != 0)
    sg__log(e, SG_ENGINE_LOG_ERROR,
            "inbound part not stored (%s): the operator will send it again",
            sg_strerror(status));
  else if (dup)
    sg__log(e, SG_ENGINE_LOG_DEBUG, "duplicate inbound part ignored");
  if (status == 0 && have >= op->total && e->state == SG__RUNNING)
    due_run(e->inbound);
  sg_free(op);
  sg__maybe_stopped(e);
}

/* Concatenation of a part: UDH first, then SAR TLVs. kind: 'u' 8-bit
 * reference, 'w' 16-bit, 's' SAR; 0 for a single part. */
static char concat_of(const sg_conn_inbound_t *m, const sg_mo_udh_info_t *u,
                      uint16_t *ref, unsigned *total, unsigned *seq) {
  if (u->concat && u->total > 1) {
    *ref = u->ref;
    *total = u->total;
    *seq = u->seq;
    return u->ref16 ? 'w' : 'u';
  }
  if (m->sar_total > 1 && m->sar_seq >= 1 && m->sar_seq <= m->sar_total) {
    *ref = m->sar_ref;
    *total = m->sar_total;
    *seq = m->sar_seq;
    return 's';
  }
  return 0;
}

static int add_part(sg_engine_t *e, sg__conn_t *c, const sg_conn_inbound_t *m,
                    const char *from, const char *to, char kind, uint16_t ref,
                    unsigned total, unsigned seq, uint64_t token) {
  char grp[160];
  snprintf(grp, sizeof grp, "%s|%s|%s|%c%u|%u", c->cfg->name, from, to, kind,
           ref, total);
  part_op_t *op = sg_malloc(sizeof *op);
  if (op == NULL)
    return SG_ENOMEM;
  *op = (part_op_t){e, c->index, token, total};
  sg_store_mo_part_t p = {.group = grp,
                          .seq = seq,
                          .total = total,
                          .connector = c->cfg->name,
                          .sender = from,
                          .recipient = to,
                          .data_coding = m->data_coding,
                          .udh = m->udh,
                          .udh_len = m->udh_len,
                          .ud = m->ud,
                          .ud_len = m->ud_len,
                          .received_ms =
                              m->received_ms ? m->received_ms : sg__now_ms(e)};
  int rc = sg_store_mo_part_add(e->st, &p, part_cb, op);
  if (rc != 0) {
    sg_free(op);
    return rc;
  }
  sg__op_begin(e);
  return 0;
}

void sg__inbound_cb(sg_connector_t *cn, void *owner,
                    const sg_conn_inbound_t *msg, uint64_t token) {
  sg__conn_t *c = owner;
  sg_engine_t *e = c->e;
  e->inbound_received++;
  char from[24], to[24];
  addr_text(&msg->src, from, sizeof from);
  addr_text(&msg->dst, to, sizeof to);
  sg_mo_udh_info_t u;
  if (sg_mo_parse_udh(msg->udh, msg->udh_len, &u) != 0)
    u.concat = false; /* a broken UDH: the part stands alone */
  uint16_t ref = 0;
  unsigned total = 1, seq = 1;
  char kind = concat_of(msg, &u, &ref, &total, &seq);
  int rc;
  if (e->inbound == NULL || e->state != SG__RUNNING) {
    rc = SG_ECLOSED;
  } else if (kind != 0) {
    rc = add_part(e, c, msg, from, to, kind, ref, total, seq, token);
  } else {
    sg_mo_part_t p = {.seq = 1,
                      .data_coding = msg->data_coding,
                      .udh = msg->udh,
                      .udh_len = msg->udh_len,
                      .ud = msg->ud,
                      .ud_len = msg->ud_len};
    mo_msg_t m = {.connector = c->cfg->name,
                  .sender = from,
                  .recipient = to,
                  .parts = &p,
                  .n = 1,
                  .total = 1,
                  .received_ms =
                      msg->received_ms ? msg->received_ms : sg__now_ms(e),
                  .has_token = true,
                  .conn = c->index,
                  .token = token};
    rc = deliver(e, &m);
  }
  if (rc != 0) {
    sg__log(e, SG_ENGINE_LOG_WARN,
            "inbound message from %s on %s refused for now: %s", from,
            c->cfg->name, sg_strerror(rc));
    sg_connector_ack(cn, token, false);
  }
}

/* ---- start: rules and the opt-out set ------------------------------------ */

static void load_next(struct sg__inbound *in);

static void load_cb(sg_store_t *st, int status, const sg_store_optout_res_t *r,
                    void *data) {
  (void)st;
  struct sg__inbound *in = data;
  sg_engine_t *e = in->e;
  sg__op_end(e);
  for (size_t i = 0; status == 0 && i < r->n; i++)
    if (sg_optset_add(in->optouts, r->items[i].account_id,
                      r->items[i].number) != 0)
      status = SG_ENOMEM;
  if (status != 0) {
    in->loaded(e, status);
    return;
  }
  if (r->next_cursor[0] != '\0')
    snprintf(in->load_cursor, sizeof in->load_cursor, "%s", r->next_cursor);
  else {
    in->load_account++;
    in->load_cursor[0] = '\0';
  }
  load_next(in);
}

static void load_next(struct sg__inbound *in) {
  sg_engine_t *e = in->e;
  if (in->load_account >= e->n_accounts) {
    sg__log(e, SG_ENGINE_LOG_INFO, "%zu opt-out(s) loaded",
            sg_optset_count(in->optouts));
    int rc = sg__inrules_start(e, in->loaded); /* then the rules */
    if (rc != 0)
      in->loaded(e, rc);
    return;
  }
  int rc =
      sg_store_optout_list(e->st, e->accounts[in->load_account].pub.id, NULL,
                           in->load_cursor[0] ? in->load_cursor : NULL,
                           SG_STORE_LIST_MAX, load_cb, in);
  if (rc != 0) {
    in->loaded(e, rc);
    return;
  }
  sg__op_begin(e);
}

int sg__inbound_new(sg_engine_t *e, void (*loaded)(sg_engine_t *e, int st)) {
  struct sg__inbound *in = sg_calloc(1, sizeof *in);
  if (in == NULL)
    return SG_ENOMEM;
  in->e = e;
  in->loaded = loaded;
  int rc = sg_inbound_rules_new(&e->cfg->inbound, &in->rules);
  in->optouts = rc == 0 ? sg_optset_new() : NULL;
  in->guard = in->optouts ? sg_replyguard_new(e->cfg->inbound.reply_limit,
                                              e->cfg->inbound.reply_window_ms)
                          : NULL;
  if (in->guard == NULL) {
    sg_inbound_rules_free(in->rules);
    sg_optset_free(in->optouts);
    sg_free(in);
    return rc != 0 ? rc : SG_ENOMEM;
  }
  e->inbound = in;
  load_next(in);
  return 0;
}

void sg__inbound_free(sg_engine_t *e) {
  struct sg__inbound *in = e->inbound;
  sg__inrules_free(e);
  if (in == NULL)
    return;
  sg_inbound_rules_free(in->rules);
  sg_optset_free(in->optouts);
  sg_replyguard_free(in->guard);
  sg_free(in);
  e->inbound = NULL;
}

void sg__inbound_swap_rules(sg_engine_t *e, sg_inbound_rules_t *compiled) {
  if (e->inbound == NULL) {
    sg_inbound_rules_free(compiled);
    return;
  }
  sg_inbound_rules_free(e->inbound->rules);
  e->inbound->rules = compiled;
}

sg_replyguard_t *sg__inbound_guard(sg_engine_t *e) {
  return e->inbound != NULL ? e->inbound->guard : NULL;
}

/* ---- engine.h: INBOUND --------------------------------------------------- */

typedef struct search_op {
  sg_engine_t *e;
  sg_engine_inbound_cb cb;
  void *ud;
} search_op_t;

static void search_cb(sg_store_t *st, int status,
                      const sg_store_inbound_res_t *res, void *data) {
  (void)st;
  search_op_t *q = data;
  sg__op_end(q->e);
  q->cb(q->e, status, status == 0 ? res : NULL, q->ud);
  sg__maybe_stopped(q->e);
  sg_free(q);
}

int sg_engine_search_inbound(sg_engine_t *e, const sg_store_inbound_filter_t *f,
                             sg_engine_inbound_cb cb, void *ud) {
  if (e == NULL || f == NULL || cb == NULL)
    return SG_EINVAL;
  if (e->state != SG__RUNNING)
    return SG_ECLOSED;
  search_op_t *q = sg_malloc(sizeof *q);
  if (q == NULL)
    return SG_ENOMEM;
  *q = (search_op_t){e, cb, ud};
  int rc = sg_store_inbound_search(e->st, f, search_cb, q);
  if (rc != 0) {
    sg_free(q);
    return rc;
  }
  sg__op_begin(e);
  return 0;
}

typedef struct optout_op {
  sg_engine_t *e;
  int64_t account;
  bool add;
  char number[SG_STORE_NUMBER_MAX];
  sg_engine_optout_cb cb;
  sg_engine_optouts_cb list_cb;
  void *ud;
} optout_op_t;

static void optout_set_cb(sg_store_t *st, int status, int64_t changed,
                          void *data) {
  (void)st;
  optout_op_t *q = data;
  sg_engine_t *e = q->e;
  sg__op_end(e);
  if (status == 0 && e->inbound != NULL) {
    if (q->add && sg_optset_add(e->inbound->optouts, q->account, q->number))
      status = SG_ENOMEM;
    else if (!q->add)
      sg_optset_remove(e->inbound->optouts, q->account, q->number);
  }
  q->cb(e, status, changed != 0, q->number, q->ud);
  sg__maybe_stopped(e);
  sg_free(q);
}

int sg_engine_optout_set(sg_engine_t *e, const sg_engine_account_t *a,
                         const char *number, bool add, sg_engine_optout_cb cb,
                         void *ud) {
  if (e == NULL || a == NULL || number == NULL || cb == NULL)
    return SG_EINVAL;
  if (e->state != SG__RUNNING)
    return SG_ECLOSED;
  sg_phone_t ph;
  if (sg_phone_normalize(e->phone, number, strlen(number),
                         a->cfg->default_region, &ph, NULL) != 0)
    return SG_EINVAL;
  optout_op_t *q = sg_calloc(1, sizeof *q);
  if (q == NULL)
    return SG_ENOMEM;
  *q = (optout_op_t){.e = e, .account = a->id, .add = add, .cb = cb, .ud = ud};
  snprintf(q->number, sizeof q->number, "%s", ph.e164);
  int rc = sg_store_optout_set(e->st, a->id, q->number, add, "api",
                               optout_set_cb, q);
  if (rc != 0) {
    sg_free(q);
    return rc;
  }
  sg__op_begin(e);
  return 0;
}

static void optout_list_cb(sg_store_t *st, int status,
                           const sg_store_optout_res_t *res, void *data) {
  (void)st;
  optout_op_t *q = data;
  sg__op_end(q->e);
  q->list_cb(q->e, status, status == 0 ? res : NULL, q->ud);
  sg__maybe_stopped(q->e);
  sg_free(q);
}

int sg_engine_optout_list(sg_engine_t *e, const sg_engine_account_t *a,
                          const char *number, const char *cursor,
                          unsigned limit, sg_engine_optouts_cb cb, void *ud) {
  if (e == NULL || a == NULL || cb == NULL)
    return SG_EINVAL;
  if (e->state != SG__RUNNING)
    return SG_ECLOSED;
  char norm[SG_STORE_NUMBER_MAX];
  if (number != NULL) {
    sg_phone_t ph;
    if (sg_phone_normalize(e->phone, number, strlen(number),
                           a->cfg->default_region, &ph, NULL) != 0)
      return SG_EINVAL;
    snprintf(norm, sizeof norm, "%s", ph.e164);
  }
  optout_op_t *q = sg_calloc(1, sizeof *q);
  if (q == NULL)
    return SG_ENOMEM;
  *q = (optout_op_t){.e = e, .list_cb = cb, .ud = ud};
  int rc = sg_store_optout_list(e->st, a->id, number ? norm : NULL, cursor,
                                limit, optout_list_cb, q);
  if (rc != 0) {
    sg_free(q);
    return rc;
  }
  sg__op_begin(e);
  return 0;
}
