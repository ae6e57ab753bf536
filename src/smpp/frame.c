/* frame.c - cuts an SMPP byte stream into PDUs: the stateless framer and
 * the buffered reader built on it.
 *
 * The framer bounds command_length (section 3.2: the whole PDU, header
 * included, so at least 16) before anyone buffers for it, so a peer cannot
 * make us wait for or allocate more than the configured maximum. Nothing
 * here does I/O or logging; the reader allocates only through core/alloc.h.
 */
#include <string.h>

#include "core/alloc.h"
#include "smpp/pdu.h"
#include "smpp/wire.h"

#define READER_MIN_CHUNK 4096u

long sg_smpp_frame(const uint8_t *buf, size_t len, size_t max_len) {
  if (max_len == 0)
    max_len = SG_SMPP_MAX_PDU_DEFAULT;
  if (len < 4)
    return SG_NEED_MORE;
  uint32_t command_length = sg__smpp_rd32(buf);
  if (command_length < SG_SMPP_HEADER_LEN || command_length > max_len)
    return SG_ERANGE;
  if (len < command_length)
    return SG_NEED_MORE;
  return (long)command_length;
}

void sg_smpp_reader_init(sg_smpp_reader_t *r, size_t max_len) {
  r->buf = NULL;
  r->cap = 0;
  r->start = 0;
  r->end = 0;
  r->max_len = max_len;
  r->error = 0;
}

void sg_smpp_reader_close(sg_smpp_reader_t *r) {
  sg_free(r->buf);
  sg_smpp_reader_init(r, r->max_len);
}

/* Makes room for `want` octets after `end`: first by moving the pending
 * octets to the front, then by growing the buffer. */
static int reader_reserve(sg_smpp_reader_t *r, size_t want) {
  if (r->cap - r->end >= want)
    return 0;
  if (r->start > 0) {
    memmove(r->buf, r->buf + r->start, r->end - r->start);
    r->end -= r->start;
    r->start = 0;
    if (r->cap - r->end >= want)
      return 0;
  }
  if (want > SIZE_MAX / 2 - r->end)
    return SG_ENOMEM;
  size_t cap = r->cap < READER_MIN_CHUNK ? READER_MIN_CHUNK : r->cap;
  while (cap - r->end < want)
    cap *= 2;
  uint8_t *buf = sg_realloc(r->buf, cap);
  if (buf == NULL)
    return SG_ENOMEM;
  r->buf = buf;
  r->cap = cap;
  return 0;
}

int sg_smpp_reader_feed(sg_smpp_reader_t *r, const uint8_t *data, size_t n) {
  if (r->error != 0)
    return r->error;
  if (n == 0)
    return 0;
  int rc = reader_reserve(r, n);
  if (rc != 0)
    return rc;
  memcpy(r->buf + r->end, data, n);
  r->end += n;
  return 0;
}

int sg_smpp_reader_space(sg_smpp_reader_t *r, size_t want, uint8_t **dst,
                         size_t *avail) {
  int rc = reader_reserve(r, want != 0 ? want : READER_MIN_CHUNK);
  if (rc != 0)
    return rc;
  *dst = r->buf + r->end;
  *avail = r->cap - r->end;
  return 0;
}

void sg_smpp_reader_commit(sg_smpp_reader_t *r, size_t n) {
  size_t room = r->cap - r->end;
  r->end += n < room ? n : room;
}

long sg_smpp_reader_next(sg_smpp_reader_t *r, const uint8_t **pdu) {
  if (r->error != 0)
    return r->error;
  size_t pending = r->end - r->start;
  if (pending == 0) {
    r->start = r->end = 0; /* empty: restart at the front for free */
    return SG_NEED_MORE;
  }
  long n = sg_smpp_frame(r->buf + r->start, pending, r->max_len);
  if (n < 0) {
    r->error = (int)n;
    return n;
  }
  if (n == 0)
    return SG_NEED_MORE;
  *pdu = r->buf + r->start;
  r->start += (size_t)n;
  return n;
}

size_t sg_smpp_reader_pending(const sg_smpp_reader_t *r) {
  return r->end - r->start;
}
