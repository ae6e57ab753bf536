/* Fuzz target for the segmenter: the first input byte picks the options,
 * the rest is the text. Whatever the input, a successful split must decode
 * back, part by part, to exactly the text that went in (after smart
 * replacement, which is off unless the option byte asks for it), every part
 * must fit its room, and errors must be the documented ones. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "core/gsm7.h"
#include "core/segment.h"
#include "core/ucs2.h"
#include "core/utf8.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static sg_segments_t segs;
static uint32_t in_cps[SG_SEG_MAX_CHARS];
static uint32_t out_cps[SG_SEG_MAX_CHARS];

/* Decodes every part back to code points appended to out_cps. */
static size_t decode_parts(const sg_segments_t *s) {
  size_t total = 0;
  for (unsigned i = 0; i < s->nparts; i++) {
    const sg_seg_part_t *p = &s->parts[i];
    size_t n = 0;
    int rc;
    if (p->udh_len + p->ud_len > 160 || p->ud_len > SG_SEG_UD_MAX)
      abort();
    if (s->encoding == SG_ENC_GSM7) {
      if (p->ud_len + (p->udh_len * 8 + 6) / 7 > 160)
        abort();
      rc = sg_gsm7_decode(s->charset, p->ud, p->ud_len, out_cps + total,
                          SG_SEG_MAX_CHARS - total, &n, NULL);
    } else {
      if (p->udh_len + p->ud_len > 140)
        abort();
      rc = sg_ucs2_decode(p->ud, p->ud_len, 0, out_cps + total,
                          SG_SEG_MAX_CHARS - total, &n, NULL);
    }
    if (rc != 0)
      abort();
    total += n;
  }
  return total;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 1)
    return 0;
  sg_seg_opts_t o = {0};
  o.encoding = (sg_encoding_t)(data[0] & 3) == SG_ENC_8BIT
                   ? SG_ENC_AUTO
                   : (sg_encoding_t)(data[0] & 3);
  o.national = (data[0] & 4) != 0;
  o.ref16 = (data[0] & 8) != 0;
  o.max_parts = (data[0] & 16) ? 255 : 0;
  o.ref = 0x1234;
  const uint8_t *text = data + 1;
  size_t len = size - 1;

  sg_seg_error_t err;
  int rc = sg_segment_text(text, len, &o, &segs, &err);
  if (rc != 0) {
    if (rc != SG_EILSEQ && rc != SG_ETRUNC && rc != SG_ECHARSET &&
        rc != SG_ETOOMANYPARTS)
      abort();
    return 0;
  }
  size_t n_in = 0;
  if (sg_utf8_decode(text, len, in_cps, SG_SEG_MAX_CHARS, &n_in, NULL) != 0)
    abort(); /* the segmenter accepted invalid UTF-8 */
  size_t n_out = decode_parts(&segs);
  if (n_out != n_in || n_out != segs.chars ||
      memcmp(in_cps, out_cps, n_in * sizeof in_cps[0]) != 0)
    abort();
  return 0;
}
