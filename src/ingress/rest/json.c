/* json.c - the JSON the REST API answers with: messages (with their parts
 * and events), and the segments of a preview.
 *
 * Builders only: they read store and segmentation structs and return new
 * jansson values, NULL when out of memory. Text that came from outside
 * (an operator's receipt text, an SMSC's message id) may not be UTF-8; it
 * is shown with '?' for the bytes that are not, because a JSON answer must
 * never fail over a stray byte. Nothing here does I/O.
 */
#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "core/gsm7.h"
#include "ingress/rest/rest_int.h"

/* ---- values -------------------------------------------------------------- */

/* A JSON string of s[0..n); bytes that do not form UTF-8 become '?'. */
static json_t *safe_stringn(const char *s, size_t n) {
  json_t *v = json_stringn(s, n);
  if (v != NULL)
    return v;
  char *copy = sg_malloc(n + 1);
  if (copy == NULL)
    return NULL;
  for (size_t i = 0; i < n; i++)
    copy[i] = (unsigned char)s[i] < 0x80 ? s[i] : '?';
  v = json_stringn(copy, n);
  sg_free(copy);
  return v;
}

/* A string, or null for NULL. */
static json_t *str_or_null(const char *s) {
  return s != NULL ? safe_stringn(s, strlen(s)) : json_null();
}

json_t *sg__rest_time_json(int64_t ms) {
  char buf[SG_REST_TIME_BUF];
  if (ms == 0 || sg_rest_format_time(ms, buf) != 0)
    return json_null();
  return json_string(buf);
}

static json_t *int_or_null(int64_t v) {
  return v != 0 ? json_integer(v) : json_null();
}

static json_t *hex_json(const uint8_t *b, size_t n) {
  static const char digits[] = "0123456789abcdef";
  char *s = sg_malloc(2 * n + 1);
  if (s == NULL)
    return NULL;
  for (size_t i = 0; i < n; i++) {
    s[2 * i] = digits[b[i] >> 4];
    s[2 * i + 1] = digits[b[i] & 0x0F];
  }
  s[2 * n] = '\0';
  json_t *v = json_string(s);
  sg_free(s);
  return v;
}

/* Sets o[k] = v (v's reference is taken, also on failure). Returns false
 * when v is NULL or the set fails, and then keeps returning false for the
 * same *ok. */
static void put(json_t *o, const char *k, json_t *v, bool *ok) {
  if (v == NULL || json_object_set_new(o, k, v) != 0)
    *ok = false;
}

static const char *status_name(sg_msg_status_t s) {
  const char *n = sg_store_status_name(s);
  return n != NULL ? n : "unknown";
}

/* ---- messages ------------------------------------------------------------ */

static json_t *part_json(const sg_store_part_t *p) {
  json_t *o = json_object();
  bool ok = o != NULL;
  if (!ok)
    return NULL;
  put(o, "seq", json_integer(p->seq), &ok);
  put(o, "status", json_string(status_name(p->status)), &ok);
  put(o, "connector", str_or_null(p->connector), &ok);
  put(o, "smsc_id", str_or_null(p->smsc_id), &ok);
  put(o, "attempts", json_integer(p->attempts), &ok);
  put(o, "error_code", int_or_null(p->error_code), &ok);
  put(o, "error", str_or_null(p->error), &ok);
  put(o, "next_attempt_at",
      p->status == SG_MSG_QUEUED ? sg__rest_time_json(p->next_attempt_ms)
                                 : json_null(),
      &ok);
  put(o, "updated_at", sg__rest_time_json(p->updated_ms), &ok);
  if (p->connector != NULL && p->connector[0] == '\0') /* never came */
    put(o, "missing", json_true(), &ok);
  if (!ok) {
    json_decref(o);
    return NULL;
  }
  return o;
}

static json_t *event_json(const sg_store_event_t *e) {
  json_t *o = json_object();
  bool ok = o != NULL;
  if (!ok)
    return NULL;
  put(o, "status", json_string(status_name(e->status)), &ok);
  put(o, "part", e->part_seq != 0 ? json_integer(e->part_seq) : json_null(),
      &ok);
  put(o, "error_code", int_or_null(e->error_code), &ok);
  put(o, "detail", str_or_null(e->detail), &ok);
  put(o, "timestamp", sg__rest_time_json(e->time_ms), &ok);
  if (!ok) {
    json_decref(o);
    return NULL;
  }
  return o;
}

/* An array of n items made by fn from base[i * size]. */
static json_t *array_of(const void *base, size_t n, size_t size,
                        json_t *(*fn)(const void *)) {
  json_t *a = json_array();
  for (size_t i = 0; a != NULL && i < n; i++) {
    json_t *v = fn((const char *)base + i * size);
    if (v == NULL || json_array_append_new(a, v) != 0) {
      json_decref(a);
      a = NULL;
    }
  }
  return a;
}

static json_t *part_json_v(const void *p) {
  return part_json(p);
}

/* A part of a customer's pre-split message that has not come (yet). */
static json_t *missing_json(unsigned seq) {
  return json_pack("{s:I, s:s, s:b}", "seq", (json_int_t)seq, "status",
                   "missing", "missing", 1);
}

/* The parts in seq order, with an entry for each of 1..parts_total that
 * is not stored (a pre-split message still waiting for it). */
static json_t *segments_json(const sg_store_message_t *m) {
  if (m->n_parts >= m->parts_total)
    return array_of(m->parts, m->n_parts, sizeof(*m->parts), part_json_v);
  json_t *a = json_array();
  size_t i = 0;
  for (unsigned seq = 1; a != NULL && seq <= m->parts_total; seq++) {
    while (i < m->n_parts && m->parts[i].seq < seq)
      i++;
    json_t *v = i < m->n_parts && m->parts[i].seq == seq
                    ? part_json(&m->parts[i])
                    : missing_json(seq);
    if (v == NULL || json_array_append_new(a, v) != 0) {
      json_decref(a);
      a = NULL;
    }
  }
  return a;
}
static json_t *event_json_v(const void *e) {
  return event_json(e);
}

/* "text", or "payload_hex" for a binary message. */
static void put_body(json_t *o, const sg_store_message_t *m, bool *ok) {
  if (m->binary)
    put(o, "payload_hex", hex_json(m->body, m->body_len), ok);
  else
    put(o, "text", safe_stringn((const char *)m->body, m->body_len), ok);
}

json_t *sg__rest_message_json(const sg_store_message_t *m, bool detail) {
  json_t *o = json_object();
  bool ok = o != NULL;
  if (!ok)
    return NULL;
  put(o, "id", json_string(m->id), &ok);
  put(o, "batch_id", json_string(m->batch_id), &ok);
  put(o, "status", json_string(status_name(m->status)), &ok);
  put(o, "to", str_or_null(m->recipient), &ok);
  put(o, "from", str_or_null(m->sender), &ok);
  put_body(o, m, &ok);
  put(o, "encoding", json_string(sg_encoding_name(m->encoding)), &ok);
  put(o, "parts", json_integer(m->parts_total), &ok);
  put(o, "error_code", int_or_null(m->error_code), &ok);
  put(o, "client_ref", str_or_null(m->client_ref), &ok);
  put(o, "callback_url", str_or_null(m->callback_url), &ok);
  put(o, "priority", json_integer(m->priority), &ok);
  put(o, "dlr", json_boolean(m->dlr_wanted), &ok);
  put(o, "send_at", sg__rest_time_json(m->send_at_ms), &ok);
  put(o, "expires_at", sg__rest_time_json(m->validity_ms), &ok);
  put(o, "created_at", sg__rest_time_json(m->created_ms), &ok);
  put(o, "updated_at", sg__rest_time_json(m->updated_ms), &ok);
  if (detail) {
    put(o, "segments", segments_json(m), &ok);
    put(o, "events",
        array_of(m->events, m->n_events, sizeof(*m->events), event_json_v),
        &ok);
  }
  if (!ok) {
    json_decref(o);
    return NULL;
  }
  return o;
}

/* ---- segments ------------------------------------------------------------ */

static json_t *lang_json(uint8_t lang) {
  return lang == 0 ? json_null()
                   : json_string(sg_gsm7_lang_name((sg_gsm7_lang_t)lang));
}

static json_t *national_json(const sg_segments_t *s) {
  if (s->encoding != SG_ENC_GSM7 ||
      (s->charset.locking == 0 && s->charset.single == 0))
    return json_null();
  return json_pack("{s:o, s:o}", "locking", lang_json(s->charset.locking),
                   "single", lang_json(s->charset.single));
}

static json_t *seg_part_json(const sg_segments_t *s, unsigned i) {
  const sg_seg_part_t *p = &s->parts[i];
  uint8_t tpud[140];
  size_t n = 0;
  unsigned udl = 0;
  if (sg_segment_tpud(s, i, tpud, sizeof(tpud), &n, &udl) != 0)
    return NULL;
  size_t units = s->encoding == SG_ENC_UCS2 ? p->ud_len / 2 : p->ud_len;
  return json_pack("{s:o, s:o, s:o, s:I, s:I, s:I}", "udh",
                   hex_json(p->udh, p->udh_len), "user_data",
                   hex_json(p->ud, p->ud_len), "tp_ud", hex_json(tpud, n),
                   "tp_udl", (json_int_t)udl, "units", (json_int_t)units,
                   "characters", (json_int_t)p->chars);
}

json_t *sg_rest_segments_json(const sg_segments_t *s) {
  json_t *parts = json_array();
  for (unsigned i = 0; parts != NULL && i < s->nparts; i++) {
    json_t *p = seg_part_json(s, i);
    if (p == NULL || json_array_append_new(parts, p) != 0) {
      json_decref(parts);
      parts = NULL;
    }
  }
  if (parts == NULL)
    return NULL;
  return json_pack("{s:s, s:o, s:I, s:I, s:I, s:I, s:o}", "encoding",
                   sg_encoding_name(s->encoding), "national", national_json(s),
                   "characters", (json_int_t)s->chars, "units",
                   (json_int_t)s->units, "replaced", (json_int_t)s->replaced,
                   "parts", (json_int_t)s->nparts, "segments", parts);
}
