/* fuzz.c - libFuzzer target for the SMPP time format (SMPP 3.4 section
 * 7.1.1, smpp/smpptime.h).
 *
 * Parses the input as a time; a time that parses must format back to the
 * same 16 characters (the format has one spelling per value, except that
 * "00-" is written "00+"), convert to Unix time, and an absolute one must
 * come back from that instant in its own zone. Any violation aborts, so the
 * replay and the fuzzer report it. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "smpp/smpptime.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int ok) {
  if (!ok)
    abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  sg_smpp_time_t t;
  int rc = sg_smpp_time_parse((const char *)data, size, &t);
  check(rc == 0 || rc == SG_EINVAL || rc == SG_EPROTO || rc == SG_ERANGE);
  if (rc != 0)
    return 0;
  check(size == SG_SMPP_TIME_LEN);
  char out[SG_SMPP_TIME_SIZE];
  check(sg_smpp_time_format(&t, out) == 0);
  char want[SG_SMPP_TIME_SIZE];
  memcpy(want, data, SG_SMPP_TIME_LEN);
  want[SG_SMPP_TIME_LEN] = '\0';
  if (memcmp(want + 13, "00-", 3) == 0)
    want[15] = '+';
  check(strcmp(out, want) == 0);
  int64_t ms;
  check(sg_smpp_time_to_unix_ms(&t, 1700000000000LL, &ms) == 0);
  if (t.relative) {
    check(ms >= 1700000000000LL);
    return 0;
  }
  sg_smpp_time_t back;
  check(sg_smpp_time_from_unix_ms(ms, t.utc_quarters, &back) == 0);
  check(sg_smpp_time_format(&back, out) == 0);
  check(strcmp(out, want) == 0);
  return 0;
}
