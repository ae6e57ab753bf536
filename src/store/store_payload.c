/* store_payload.c - the JSON bodies of the webhooks the store queues (the
 * format is in store.h, "WEBHOOKS"), built with jansson.
 *
 * Every backend queues the same documents, so they are made here, once. It
 * must never do I/O; the result lives in the request's arena.
 */
#include "store/store_int.h"

#include <jansson.h>
#include <stdio.h>

#include "core/error.h"

/* Sets key to a string when v is set and is valid UTF-8 (else leaves it
 * out: a receipt text may carry anything). */
static void set_str(json_t *o, const char *key, const char *v) {
  if (v == NULL)
    return;
  json_t *s = json_string(v);
  if (s != NULL)
    json_object_set_new(o, key, s);
}

static void set_int(json_t *o, const char *key, json_int_t v) {
  json_object_set_new(o, key, json_integer(v));
}

/* Serialises o into the arena and releases it. */
static int dump(sg__arena_t *a, json_t *o, const uint8_t **out, size_t *len) {
  if (o == NULL)
    return SG_ENOMEM;
  size_t n = json_dumpb(o, NULL, 0, JSON_COMPACT);
  char *buf = n > 0 ? sg__arena_alloc(a, n) : NULL;
  if (buf == NULL || json_dumpb(o, buf, n, JSON_COMPACT) != n) {
    json_decref(o);
    return SG_ENOMEM;
  }
  json_decref(o);
  *out = (const uint8_t *)buf;
  *len = n;
  return 0;
}

int sg__store_status_payload(sg__arena_t *a, const sg__status_event_t *e,
                             const uint8_t **out, size_t *len) {
  char ts[32];
  sg__store_rfc3339(e->time_ms, ts);
  json_t *o = json_object();
  if (o == NULL)
    return SG_ENOMEM;
  set_str(o, "event", "message.status");
  set_str(o, "message_id", e->message_id);
  set_str(o, "batch_id", e->batch_id);
  set_str(o, "status", sg_store_status_name(e->status));
  set_str(o, "to", e->to);
  set_str(o, "from", e->from);
  set_str(o, "client_ref", e->client_ref);
  if (e->part > 0)
    set_int(o, "part", e->part);
  if (e->error_code != 0)
    set_int(o, "error_code", e->error_code);
  set_str(o, "detail", e->detail);
  set_int(o, "parts", e->parts);
  set_str(o, "timestamp", ts);
  return dump(a, o, out, len);
}

/* Lower-case hex of the payload. */
static json_t *hex_string(const uint8_t *p, size_t n, sg__arena_t *a) {
  char *h = sg__arena_alloc(a, 2 * n + 1);
  if (h == NULL)
    return NULL;
  for (size_t i = 0; i < n; i++)
    snprintf(h + 2 * i, 3, "%02x", p[i]);
  return json_stringn(h, 2 * n);
}

int sg__store_inbound_payload(sg__arena_t *a, const sg_store_inbound_t *in,
                              const uint8_t **out, size_t *len) {
  char ts[32];
  sg__store_rfc3339(in->received_ms, ts);
  json_t *o = json_object();
  if (o == NULL)
    return SG_ENOMEM;
  set_str(o, "event", "message.inbound");
  set_str(o, "id", in->id);
  set_str(o, "from", in->sender);
  set_str(o, "to", in->recipient);
  set_str(o, "encoding", sg_encoding_name(in->encoding));
  json_t *text =
      in->binary ? NULL : json_stringn((const char *)in->body, in->body_len);
  if (text != NULL)
    json_object_set_new(o, "text", text);
  else
    json_object_set_new(o, "payload_hex",
                        hex_string(in->body, in->body_len, a));
  set_int(o, "parts", in->parts);
  if (in->incomplete)
    json_object_set_new(o, "incomplete", json_true());
  set_str(o, "keyword", in->keyword);
  set_str(o, "connector", in->connector);
  set_str(o, "timestamp", ts);
  return dump(a, o, out, len);
}
