/* Fuzz target for the TPDU codec (core/tpdu.h): arbitrary octets decoded as
 * a service-centre address followed by an SMS-DELIVER, SMS-SUBMIT or
 * SMS-STATUS-REPORT. Nothing may crash or read past the input; whatever
 * decodes must encode again, and the encoding must decode to the same
 * fields (the codec is stable on its own output). Any violation aborts.
 *
 * Input: octet 0 chooses the TPDU kind (mod 3); the rest is the PDU as
 * AT+CMGR shows it, SCA first. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "core/tpdu.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int ok) {
  if (!ok)
    abort();
}

static void fuzz_deliver(const uint8_t *p, size_t n) {
  static sg_tpdu_deliver_t a, b;
  uint8_t out[SG_TPDU_MAX];
  size_t w = 0;
  int rc = sg_tpdu_decode_deliver(p, n, &a);
  check(rc == 0 || rc == SG_ETRUNC || rc == SG_EPROTO);
  if (rc != 0)
    return;
  check(sg_tpdu_encode_deliver(&a, out, sizeof out, &w) == 0);
  check(sg_tpdu_decode_deliver(out, w, &b) == 0);
  check(memcmp(&a, &b, sizeof a) == 0);
  int64_t ms;
  (void)sg_tpdu_time_to_ms(&a.scts, &ms);
}

static void fuzz_submit(const uint8_t *p, size_t n) {
  static sg_tpdu_submit_t a, b;
  uint8_t out[SG_TPDU_MAX];
  size_t w = 0;
  int rc = sg_tpdu_decode_submit(p, n, &a);
  check(rc == 0 || rc == SG_ETRUNC || rc == SG_EPROTO);
  if (rc != 0)
    return;
  check(sg_tpdu_encode_submit(&a, out, sizeof out, &w) == 0);
  check(sg_tpdu_decode_submit(out, w, &b) == 0);
  check(memcmp(&a, &b, sizeof a) == 0);
}

static void fuzz_report(const uint8_t *p, size_t n) {
  static sg_tpdu_status_report_t a, b;
  uint8_t out[SG_TPDU_MAX];
  size_t w = 0;
  int rc = sg_tpdu_decode_status_report(p, n, &a);
  check(rc == 0 || rc == SG_ETRUNC || rc == SG_EPROTO);
  if (rc != 0)
    return;
  check(sg_tpdu_encode_status_report(&a, out, sizeof out, &w) == 0);
  check(sg_tpdu_decode_status_report(out, w, &b) == 0);
  check(memcmp(&a, &b, sizeof a) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 1)
    return 0;
  const uint8_t *p = data + 1;
  size_t n = size - 1, sca = 0;
  sg_tpdu_addr_t a;
  int rc = sg_tpdu_decode_sca(p, n, &a, &sca);
  check(rc == 0 || rc == SG_ETRUNC || rc == SG_EPROTO);
  if (rc != 0)
    return 0;
  check(sca >= 1 && sca <= n);
  p += sca;
  n -= sca;
  switch (data[0] % 3) {
  case 0:
    fuzz_deliver(p, n);
    break;
  case 1:
    fuzz_submit(p, n);
    break;
  default:
    fuzz_report(p, n);
    break;
  }
  return 0;
}
