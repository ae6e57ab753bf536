/* fuzz.c - libFuzzer target for the delivery receipt parser (SMPP 3.4
 * Appendix B) and the message-id helpers.
 *
 * Parses the input; checks the invariants the header promises; when a stat
 * was recognised, fills the absent fields with defaults, formats the receipt,
 * parses the text back and requires the same fields. The parsed id then goes
 * through every sg_msgid_key mode and must match itself and its AUTO key.
 * Any violation aborts, so the replay and the fuzzer report it. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "smpp/msgid.h"
#include "smpp/receipt.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int ok) {
  if (!ok)
    abort();
}

static void check_invariants(int rc, const sg_receipt_t *r) {
  check(rc == 0 || rc == SG_EPROTO);
  check((r->present & r->malformed) == 0);
  check(((r->present | r->malformed) & ~(unsigned)SG_RECEIPT_F_ALL) == 0);
  check(strlen(r->id) <= SG_RECEIPT_ID_MAX);
  check(r->text_len <= SG_RECEIPT_TEXT_MAX);
  check(((r->present & SG_RECEIPT_F_STAT) != 0) ==
        (r->stat != SG_RECEIPT_STAT_NONE));
  if (r->present & SG_RECEIPT_F_SUBMIT_DATE)
    check(sg_receipt_date_valid(&r->submit_date));
  if (r->present & SG_RECEIPT_F_DONE_DATE)
    check(sg_receipt_date_valid(&r->done_date));
}

static uint32_t clamp999(uint32_t v) {
  return v > 999 ? 999 : v;
}

/* Turns a parsed receipt into one the formatter accepts. */
static void fill_defaults(sg_receipt_t *x) {
  static const sg_receipt_date_t epoch2000 = {2000, 1, 1, 0, 0, 0, false};
  if (!(x->present & SG_RECEIPT_F_ID))
    strcpy(x->id, "0");
  if (!(x->present & SG_RECEIPT_F_SUBMIT_DATE))
    x->submit_date = epoch2000;
  if (!(x->present & SG_RECEIPT_F_DONE_DATE))
    x->done_date = epoch2000;
  x->sub = clamp999(x->sub);
  x->dlvrd = clamp999(x->dlvrd);
  x->err = clamp999(x->err);
}

static void check_date_eq(const sg_receipt_date_t *a,
                          const sg_receipt_date_t *b) {
  check(a->year % 100 == b->year % 100 && a->month == b->month &&
        a->day == b->day && a->hour == b->hour && a->minute == b->minute &&
        a->second == b->second && a->has_seconds == b->has_seconds);
}

static void round_trip(const sg_receipt_t *x) {
  uint8_t out[SG_RECEIPT_FORMAT_MAX + 1];
  size_t n = 0;
  check(sg_receipt_format(x, out, sizeof out, &n) == 0);
  check(n <= SG_RECEIPT_FORMAT_MAX);
  sg_receipt_t y;
  check(sg_receipt_parse(out, n, &y) == 0);
  check(y.present == SG_RECEIPT_F_ALL && y.malformed == 0);
  check(strcmp(x->id, y.id) == 0);
  check(x->sub == y.sub && x->dlvrd == y.dlvrd && x->err == y.err);
  check(x->stat == y.stat);
  check_date_eq(&x->submit_date, &y.submit_date);
  check_date_eq(&x->done_date, &y.done_date);
  check(x->text_len == y.text_len && memcmp(x->text, y.text, x->text_len) == 0);
}

static void check_msgid(const char *id, size_t len) {
  char key[SG_MSGID_KEY_MAX + 1];
  for (int m = SG_MSGID_AUTO; m <= SG_MSGID_DECIMAL; m++) {
    int rc = sg_msgid_key(id, len, (sg_msgid_mode_t)m, key, sizeof key, NULL);
    check(rc == 0 || rc == SG_EINVAL || rc == SG_ETOOLONG ||
          (rc == SG_ENOSPC && len > SG_MSGID_KEY_MAX));
    if (rc == 0)
      check(sg_msgid_match(id, len, id, len, (sg_msgid_mode_t)m) > 0);
  }
  if (len == 0 || len > SG_MSGID_KEY_MAX)
    return;
  size_t klen = 0;
  check(sg_msgid_key(id, len, SG_MSGID_AUTO, key, sizeof key, &klen) == 0);
  check(sg_msgid_match(id, len, key, klen, SG_MSGID_AUTO) > 0);
  check(sg_msgid_match(id, len, id, len, SG_MSGID_AUTO) == SG_MSGID_RULE_EXACT);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  sg_receipt_t r;
  int rc = sg_receipt_parse(data, size, &r);
  check_invariants(rc, &r);
  check_msgid((const char *)data, size < 80 ? size : 80);
  if (rc != 0)
    return 0;
  check_msgid(r.id, strlen(r.id));
  if (!(r.present & SG_RECEIPT_F_STAT))
    return 0;
  sg_receipt_t x = r;
  fill_defaults(&x);
  round_trip(&x);
  return 0;
}
