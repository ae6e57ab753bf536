/* Fuzz target for the strict UTF-8 decoder: arbitrary bytes must either be
 * refused with an error inside the input, or decode to code points that
 * encode back to exactly the same bytes (no second reading of any input). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "core/utf8.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_IN 4096

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static uint32_t cps[MAX_IN];
  static uint8_t back[4 * MAX_IN];
  if (size > MAX_IN)
    size = MAX_IN;
  size_t n = 0, off = (size_t)-1, counted = 0;
  int rc = sg_utf8_decode(data, size, cps, MAX_IN, &n, &off);
  int rc2 = sg_utf8_count(data, size, &counted, NULL);
  if (rc != rc2 || n != counted)
    abort(); /* counting and decoding disagree */
  if (rc != 0) {
    if ((rc != SG_EILSEQ && rc != SG_ETRUNC) || off >= size)
      abort();
    /* Everything before the offending byte is valid on its own. */
    size_t m = 0;
    if (sg_utf8_count(data, off, &m, NULL) != 0 || m != n)
      abort();
    return 0;
  }
  size_t w = 0;
  if (sg_utf8_encode(cps, n, back, sizeof back, &w) != 0 || w != size ||
      memcmp(back, data, size) != 0)
    abort();
  return 0;
}
