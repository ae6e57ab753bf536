/* Fuzz target for the AT line reader (connector/modem_at.h): arbitrary
 * bytes fed whole and then in pieces whose sizes come from the input must
 * give the same events, each with consistent lengths, never more than one
 * event per consumed byte, and never a line over SG_AT_LINE_MAX. Any
 * violation aborts. Input: octet 0 is the piece size (1..256). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "connector/modem_at.h"
#include "core/error.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_EVENTS 4096

typedef struct rec {
  sg_at_kind_t kind;
  int code;
  uint32_t hash;
} rec_t;

static uint32_t hash(const char *s, size_t n, uint32_t h) {
  for (size_t i = 0; i < n; i++)
    h = (h ^ (uint8_t)s[i]) * 16777619u;
  return h;
}

static size_t feed_all(const uint8_t *p, size_t n, size_t piece, rec_t *out) {
  static sg_at_reader_t r;
  sg_at_reader_init(&r);
  size_t k = 0;
  for (size_t off = 0; off < n; off += piece) {
    size_t len = n - off < piece ? n - off : piece;
    const uint8_t *q = p + off;
    while (len > 0) {
      sg_at_event_t ev;
      int rc = sg_at_feed(&r, q, len, &ev);
      if (rc < 0 || (size_t)rc > len)
        abort();
      if (rc == 0)
        break;
      if (ev.line == NULL || ev.len > SG_AT_LINE_MAX ||
          strlen(ev.line) != ev.len || ev.pdu_len > SG_AT_LINE_MAX ||
          (ev.pdu != NULL && strlen(ev.pdu) != ev.pdu_len) ||
          (ev.pdu != NULL && ev.kind != SG_AT_URC) || k >= MAX_EVENTS)
        abort();
      out[k].kind = ev.kind;
      out[k].code = ev.code;
      out[k].hash = hash(ev.pdu ? ev.pdu : "", ev.pdu_len,
                         hash(ev.line, ev.len, 2166136261u));
      k++;
      q += rc;
      len -= (size_t)rc;
    }
  }
  return k;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static rec_t a[MAX_EVENTS], b[MAX_EVENTS];
  if (size < 1 || size > MAX_EVENTS)
    return 0;
  size_t piece = (size_t)data[0] + 1;
  size_t na = feed_all(data + 1, size - 1, size, a);
  size_t nb = feed_all(data + 1, size - 1, piece, b);
  if (na != nb || memcmp(a, b, na * sizeof a[0]) != 0)
    abort();
  return 0;
}
