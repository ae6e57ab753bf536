/* Tests for the SMPP framer and the buffered reader: command_length bounds,
 * a stream of many PDUs split at every byte position, byte-by-byte and
 * random-sized reads, a bad length in mid-stream, allocation failure. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "core/alloc.h"
#include "smpp/pdu.h"

static void frame_bounds(void **state) {
  (void)state;
  static const uint8_t el[] = {0, 0, 0, 0x10, 0, 0, 0, 0x15, 0,
                               0, 0, 0, 0,    0, 0, 1, 0xAA};
  for (size_t k = 0; k < 16; k++)
    assert_int_equal(sg_smpp_frame(el, k, 0), SG_NEED_MORE);
  assert_int_equal(sg_smpp_frame(el, 16, 0), 16);
  assert_int_equal(sg_smpp_frame(el, 17, 0), 16); /* the next PDU begins */
  assert_int_equal(sg_smpp_frame(el, 16, 16), 16);
  assert_int_equal(sg_smpp_frame(el, 16, 15), SG_ERANGE);

  uint8_t b[4] = {0, 0, 0, 15};
  assert_int_equal(sg_smpp_frame(b, 3, 0), SG_NEED_MORE);
  assert_int_equal(sg_smpp_frame(b, 4, 0), SG_ERANGE); /* known at once */
  b[3] = 0;
  assert_int_equal(sg_smpp_frame(b, 4, 0), SG_ERANGE);
  /* default maximum: 64 KiB */
  b[0] = 0, b[1] = 1, b[2] = 0, b[3] = 0;
  assert_int_equal(sg_smpp_frame(b, 4, 0), SG_NEED_MORE);
  b[3] = 1;
  assert_int_equal(sg_smpp_frame(b, 4, 0), SG_ERANGE);
  assert_int_equal(sg_smpp_frame(b, 4, 1u << 20), SG_NEED_MORE);
  b[0] = 0xFF;
  assert_int_equal(sg_smpp_frame(b, 4, SIZE_MAX), SG_NEED_MORE);
}

/* ---- A stream of many PDUs ---------------------------------------------- */

#define MAX_PDUS 64
typedef struct stream {
  uint8_t bytes[16384];
  size_t len;
  size_t n;
  size_t off[MAX_PDUS], size[MAX_PDUS];
} stream_t;

static const uint8_t payload[1000] = {7};

static void add(stream_t *s, const sg_smpp_pdu_t *p) {
  size_t n;
  assert_true(s->n < MAX_PDUS);
  assert_int_equal(
      sg_smpp_pdu_encode(p, s->bytes + s->len, sizeof s->bytes - s->len, &n),
      0);
  s->off[s->n] = s->len;
  s->size[s->n++] = n;
  s->len += n;
}

static void build_stream(stream_t *s) {
  static sg_smpp_pdu_t p;
  s->len = s->n = 0;
  for (uint32_t i = 0; i < 24; i++) {
    switch (i % 4) {
    case 0:
      sg_smpp_pdu_init(&p, SG_SMPP_ENQUIRE_LINK, i);
      break;
    case 1:
      sg_smpp_pdu_init(&p, SG_SMPP_SUBMIT_SM, i);
      strcpy(p.body.submit_sm.source_addr, "447700900123");
      strcpy(p.body.submit_sm.destination_addr, "447700900456");
      p.body.submit_sm.sm_length = (uint8_t)(i * 10);
      memset(p.body.submit_sm.short_message, 'a' + (int)i, i * 10);
      break;
    case 2:
      sg_smpp_pdu_init(&p, SG_SMPP_DATA_SM, i);
      sg_smpp_tlv_set_bytes(&p, SG_SMPP_TLV_MESSAGE_PAYLOAD, payload, i * 30);
      break;
    default:
      sg_smpp_pdu_init(&p, SG_SMPP_SUBMIT_SM_RESP, i);
      strcpy(p.body.submit_sm_resp.message_id, "msg");
      break;
    }
    add(s, &p);
  }
}

/* Takes every whole PDU out of the reader and checks it against the
 * stream; returns the updated count of PDUs seen. */
static size_t drain(sg_smpp_reader_t *r, const stream_t *s, size_t seen) {
  const uint8_t *pdu;
  long n;
  while ((n = sg_smpp_reader_next(r, &pdu)) > 0) {
    assert_true(seen < s->n);
    assert_int_equal((size_t)n, s->size[seen]);
    assert_memory_equal(pdu, s->bytes + s->off[seen], (size_t)n);
    sg_smpp_pdu_t p;
    assert_int_equal(sg_smpp_pdu_decode(pdu, (size_t)n, &p, NULL, NULL), 0);
    assert_int_equal(p.sequence_number, seen);
    seen++;
  }
  assert_int_equal(n, SG_NEED_MORE);
  return seen;
}

static void split_at_every_byte(void **state) {
  (void)state;
  static stream_t s;
  build_stream(&s);
  assert_true(s.len > 2000);
  for (size_t k = 0; k <= s.len; k++) {
    sg_smpp_reader_t r;
    sg_smpp_reader_init(&r, 0);
    assert_int_equal(sg_smpp_reader_feed(&r, s.bytes, k), 0);
    size_t seen = drain(&r, &s, 0);
    assert_int_equal(sg_smpp_reader_feed(&r, s.bytes + k, s.len - k), 0);
    seen = drain(&r, &s, seen);
    assert_int_equal(seen, s.n);
    assert_int_equal(sg_smpp_reader_pending(&r), 0);
    sg_smpp_reader_close(&r);
  }
}

static void one_byte_at_a_time(void **state) {
  (void)state;
  static stream_t s;
  build_stream(&s);
  sg_smpp_reader_t r;
  sg_smpp_reader_init(&r, 0);
  size_t seen = 0;
  for (size_t i = 0; i < s.len; i++) {
    assert_int_equal(sg_smpp_reader_feed(&r, s.bytes + i, 1), 0);
    seen = drain(&r, &s, seen);
  }
  assert_int_equal(seen, s.n);
  sg_smpp_reader_close(&r);
}

/* Reads of pseudo-random sizes straight into the reader's buffer. */
static void random_reads_in_place(void **state) {
  (void)state;
  static stream_t s;
  build_stream(&s);
  uint32_t rnd = 12345;
  for (int round = 0; round < 50; round++) {
    sg_smpp_reader_t r;
    sg_smpp_reader_init(&r, 0);
    size_t pos = 0, seen = 0;
    while (pos < s.len) {
      rnd = rnd * 1103515245u + 12345u;
      size_t want = 1 + (rnd >> 16) % 700;
      uint8_t *dst;
      size_t avail;
      assert_int_equal(sg_smpp_reader_space(&r, want, &dst, &avail), 0);
      assert_true(avail >= want);
      size_t n = want < s.len - pos ? want : s.len - pos;
      memcpy(dst, s.bytes + pos, n);
      sg_smpp_reader_commit(&r, n);
      pos += n;
      seen = drain(&r, &s, seen);
    }
    assert_int_equal(seen, s.n);
    sg_smpp_reader_close(&r);
  }
}

static void bad_length_mid_stream(void **state) {
  (void)state;
  static stream_t s;
  build_stream(&s);
  /* corrupt the command_length of the 5th PDU */
  uint8_t *cl = s.bytes + s.off[4];
  cl[0] = cl[1] = cl[2] = 0;
  cl[3] = 8;
  sg_smpp_reader_t r;
  sg_smpp_reader_init(&r, 0);
  assert_int_equal(sg_smpp_reader_feed(&r, s.bytes, s.len), 0);
  const uint8_t *pdu;
  for (int i = 0; i < 4; i++)
    assert_int_equal(sg_smpp_reader_next(&r, &pdu), (long)s.size[i]);
  assert_int_equal(sg_smpp_reader_next(&r, &pdu), SG_ERANGE);
  assert_int_equal(sg_smpp_reader_next(&r, &pdu), SG_ERANGE); /* sticky */
  assert_int_equal(sg_smpp_reader_feed(&r, s.bytes, 1), SG_ERANGE);
  sg_smpp_reader_close(&r);

  /* a reader with a small maximum refuses a bigger PDU */
  build_stream(&s);
  sg_smpp_reader_init(&r, 64);
  assert_int_equal(sg_smpp_reader_feed(&r, s.bytes, s.len), 0);
  assert_int_equal(sg_smpp_reader_next(&r, &pdu), 16); /* enquire_link */
  assert_true(s.size[1] > 64);
  assert_int_equal(sg_smpp_reader_next(&r, &pdu), SG_ERANGE);
  sg_smpp_reader_close(&r);
}

static void allocation_failure(void **state) {
  (void)state;
  static stream_t s;
  build_stream(&s);
  sg_smpp_reader_t r;
  sg_smpp_reader_init(&r, 0);
  sg_alloc_fail_after(0);
  assert_int_equal(sg_smpp_reader_feed(&r, s.bytes, 100), SG_ENOMEM);
  uint8_t *dst;
  size_t avail;
  assert_int_equal(sg_smpp_reader_space(&r, 10, &dst, &avail), SG_ENOMEM);
  sg_alloc_fail_after(-1);
  assert_int_equal(sg_smpp_reader_pending(&r), 0);
  assert_int_equal(sg_smpp_reader_feed(&r, s.bytes, s.len), 0);
  assert_int_equal(drain(&r, &s, 0), s.n);
  sg_smpp_reader_close(&r);
  sg_smpp_reader_close(&r); /* closing twice is harmless */
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(frame_bounds),
      cmocka_unit_test(split_at_every_byte),
      cmocka_unit_test(one_byte_at_a_time),
      cmocka_unit_test(random_reads_in_place),
      cmocka_unit_test(bad_length_mid_stream),
      cmocka_unit_test(allocation_failure),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
