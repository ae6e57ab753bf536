/* session_io.c - the two data structures under an SMPP session: its output
 * buffers and its table of requests in flight.
 *
 * Output: two buffers. The driver writes from one (the flight buffer) while
 * the session appends to the other (the fill buffer), so a region handed to
 * an asynchronous write never moves, and every PDU produced between two
 * writes leaves in one write. PDUs are encoded straight into the fill
 * buffer: nothing is allocated per PDU, only when the buffer must grow.
 *
 * In flight: a power-of-two array of slots indexed by sequence_number &
 * mask, at least twice the window, so a response finds its request in O(1)
 * (the slot's seq verifies it). Sequence numbers skip any value whose slot
 * is still busy, so two requests in flight never share a slot. Requests in
 * flight are also linked in send order; as they all get the same timeout,
 * that list is ordered by deadline and timeouts are found at its head.
 *
 * This file must never fire events or change the session's state.
 */
#include <string.h>

#include "core/alloc.h"
#include "smpp/session_int.h"
#include "smpp/wire.h"

#define OUT_MIN_CAP 16384u
#define OUT_KEEP_CAP (1u << 20) /* larger idle buffers are released */
#define ENCODE_GUESS 512u       /* room tried before asking for the size */
#define SLOTS_MIN 64u

/* ---- Output ------------------------------------------------------------- */

static int out_reserve(sg__smpp_outbuf_t *b, size_t n) {
  if (b->cap - b->len >= n)
    return 0;
  if (n > SIZE_MAX / 4 - b->len)
    return SG_ENOMEM;
  size_t cap = b->cap < OUT_MIN_CAP ? OUT_MIN_CAP : b->cap;
  while (cap - b->len < n)
    cap *= 2;
  uint8_t *buf = sg_realloc(b->buf, cap);
  if (buf == NULL)
    return SG_ENOMEM;
  b->buf = buf;
  b->cap = cap;
  return 0;
}

static sg__smpp_outbuf_t *fill_buf(sg_smpp_session_t *s) {
  return &s->out[s->flight ^ 1u];
}

int sg__smpp_out_pdu(sg_smpp_session_t *s, const sg_smpp_pdu_t *pdu,
                     size_t *at) {
  sg__smpp_outbuf_t *b = fill_buf(s);
  if (out_reserve(b, ENCODE_GUESS) != 0)
    return SG_ENOMEM;
  size_t n = 0;
  int rc = sg_smpp_pdu_encode(pdu, b->buf + b->len, b->cap - b->len, &n);
  if (rc == SG_ENOSPC) {
    long size = sg_smpp_pdu_size(pdu);
    if (size < 0)
      return (int)size;
    if (out_reserve(b, (size_t)size) != 0)
      return SG_ENOMEM;
    rc = sg_smpp_pdu_encode(pdu, b->buf + b->len, b->cap - b->len, &n);
  }
  if (rc != 0)
    return rc;
  *at = b->len;
  b->len += n;
  s->stats.pdus_out++;
  return 0;
}

int sg__smpp_out_header(sg_smpp_session_t *s, uint32_t command_id,
                        uint32_t command_status, uint32_t seq) {
  sg__smpp_outbuf_t *b = fill_buf(s);
  if (out_reserve(b, SG_SMPP_HEADER_LEN) != 0)
    return SG_ENOMEM;
  uint8_t *p = b->buf + b->len;
  sg__smpp_wr32(p, SG_SMPP_HEADER_LEN);
  sg__smpp_wr32(p + 4, command_id);
  sg__smpp_wr32(p + 8, command_status);
  sg__smpp_wr32(p + 12, seq);
  b->len += SG_SMPP_HEADER_LEN;
  s->stats.pdus_out++;
  return 0;
}

void sg__smpp_out_patch_seq(sg_smpp_session_t *s, size_t at, uint32_t seq) {
  sg__smpp_wr32(fill_buf(s)->buf + at + 12, seq);
}

void sg__smpp_out_free(sg_smpp_session_t *s) {
  for (int i = 0; i < 2; i++) {
    sg_free(s->out[i].buf);
    memset(&s->out[i], 0, sizeof s->out[i]);
  }
}

size_t sg_smpp_session_output(sg_smpp_session_t *s, const uint8_t **data) {
  sg__smpp_outbuf_t *f = &s->out[s->flight];
  if (f->off == f->len && fill_buf(s)->len > 0) {
    f->off = f->len = 0;
    s->flight ^= 1u;
    f = &s->out[s->flight];
  }
  size_t n = f->len - f->off;
  *data = n > 0 ? f->buf + f->off : NULL;
  return n;
}

void sg_smpp_session_consume(sg_smpp_session_t *s, size_t n) {
  sg__smpp_outbuf_t *f = &s->out[s->flight];
  size_t left = f->len - f->off;
  f->off += n < left ? n : left;
  if (f->off < f->len)
    return;
  f->off = f->len = 0;
  if (f->cap > OUT_KEEP_CAP) {
    sg_free(f->buf);
    f->buf = NULL;
    f->cap = 0;
  }
}

size_t sg_smpp_session_output_pending(const sg_smpp_session_t *s) {
  const sg__smpp_outbuf_t *f = &s->out[s->flight];
  return (f->len - f->off) + s->out[s->flight ^ 1u].len;
}

/* ---- Requests in flight ------------------------------------------------- */

int sg__smpp_slots_init(sg_smpp_session_t *s) {
  uint32_t cap = SLOTS_MIN;
  while (cap < 2 * (s->cfg.window + 1))
    cap *= 2;
  s->slots = sg_calloc(cap, sizeof *s->slots);
  if (s->slots == NULL)
    return SG_ENOMEM;
  s->mask = cap - 1;
  s->head = s->tail = SG__SMPP_NIL;
  return 0;
}

uint32_t sg__smpp_seq_next(sg_smpp_session_t *s) {
  for (;;) {
    uint32_t seq = s->next_seq;
    s->next_seq = seq >= SG__SMPP_SEQ_MAX ? 1 : seq + 1;
    if (s->slots[seq & s->mask].state != SG__SLOT_IN_FLIGHT)
      return seq;
  }
}

void sg__smpp_slot_add(sg_smpp_session_t *s, uint32_t seq, uint32_t command_id,
                       void *ctx, uint64_t deadline) {
  uint32_t i = seq & s->mask;
  sg__smpp_slot_t *slot = &s->slots[i];
  slot->seq = seq;
  slot->command_id = command_id;
  slot->state = SG__SLOT_IN_FLIGHT;
  slot->deadline = deadline;
  slot->ctx = ctx;
  slot->next = SG__SMPP_NIL;
  slot->prev = s->tail;
  if (s->tail != SG__SMPP_NIL)
    s->slots[s->tail].next = i;
  else
    s->head = i;
  s->tail = i;
  s->in_flight++;
}

sg__smpp_slot_t *sg__smpp_slot_find(sg_smpp_session_t *s, uint32_t seq) {
  sg__smpp_slot_t *slot = &s->slots[seq & s->mask];
  if (slot->state == SG__SLOT_FREE || slot->seq != seq)
    return NULL;
  return slot;
}

void sg__smpp_slot_retire(sg_smpp_session_t *s, sg__smpp_slot_t *slot,
                          uint8_t state) {
  if (slot->state == SG__SLOT_IN_FLIGHT) {
    if (slot->prev != SG__SMPP_NIL)
      s->slots[slot->prev].next = slot->next;
    else
      s->head = slot->next;
    if (slot->next != SG__SMPP_NIL)
      s->slots[slot->next].prev = slot->prev;
    else
      s->tail = slot->prev;
    s->in_flight--;
  }
  slot->state = state;
  slot->prev = slot->next = SG__SMPP_NIL;
}

sg__smpp_slot_t *sg__smpp_slot_oldest(sg_smpp_session_t *s) {
  return s->head != SG__SMPP_NIL ? &s->slots[s->head] : NULL;
}
