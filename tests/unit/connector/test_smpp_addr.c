/* Tests for the pure helpers of the SMPP client: addresses as written ->
 * SMPP TON/NPI/address (sg_smpp_addr_from_text, SMPP 3.4 sections
 * 5.2.5-5.2.6), the classification of every command_status of SMPP 3.4
 * section 5.1.3 (sg_smpp_errclass), and the smsc_id key
 * (sg_smpp_client_id_key), checked against sg_msgid_key over many ids. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdbool.h>
#include <string.h>

#include "connector/smpp_client.h"
#include "connector/smpp_errclass.h"
#include "core/error.h"
#include "smpp/msgid.h"
#include "smpp/pdu.h"

typedef struct addr_case {
  const char *text;
  int rc;
  uint8_t ton, npi;
  const char *addr;
} addr_case_t;

static const addr_case_t addr_cases[] = {
    /* International: '+' then digits, separators dropped. */
    {"+79001234567", 0, 1, 1, "79001234567"},
    {"+7 (900) 123-45-67", 0, 1, 1, "79001234567"},
    {"+1.555.000.1234", 0, 1, 1, "15550001234"},
    {"+12345678901234567890", 0, 1, 1, "12345678901234567890"},
    {"+123456789012345678901", SG_ETOOLONG, 0, 0, NULL},
    /* National: 9 or more digits without '+'. */
    {"89001234567", 0, 2, 1, "89001234567"},
    {"020 7946 0958", 0, 2, 1, "02079460958"},
    {"123456789", 0, 2, 1, "123456789"},
    /* Short codes: 3-8 digits, network specific. */
    {"7575", 0, 3, 0, "7575"},
    {"100", 0, 3, 0, "100"},
    {"12345678", 0, 3, 0, "12345678"},
    {"88-001", 0, 3, 0, "88001"},
    /* 1-2 digits: unknown. */
    {"1", 0, 0, 0, "1"},
    {"42", 0, 0, 0, "42"},
    /* Alphanumeric: anything else, kept as written, up to 11. */
    {"MyShop", 0, 5, 0, "MyShop"},
    {"INFO-24", 0, 5, 0, "INFO-24"},
    {"Info 24", 0, 5, 0, "Info 24"},
    {"+Bank", 0, 5, 0, "+Bank"},
    {"ABCDEFGHIJK", 0, 5, 0, "ABCDEFGHIJK"},
    {"ABCDEFGHIJKL", SG_ETOOLONG, 0, 0, NULL},
    {"12a", 0, 5, 0, "12a"},
    /* Refused. */
    {"", SG_EINVAL, 0, 0, NULL},
    {"+", SG_EINVAL, 0, 0, NULL},
    {" - ", SG_EINVAL, 0, 0, NULL},
    {"Caf\xC3\xA9", SG_EINVAL, 0, 0, NULL}, /* not ASCII */
    {"AB\tC", SG_EINVAL, 0, 0, NULL},
};

static void test_addr(void **state) {
  (void)state;
  for (size_t i = 0; i < sizeof addr_cases / sizeof addr_cases[0]; i++) {
    const addr_case_t *c = &addr_cases[i];
    sg_conn_addr_t a;
    memset(&a, 0xEE, sizeof a);
    int rc = sg_smpp_addr_from_text(c->text, &a);
    if (rc != c->rc)
      fail_msg("\"%s\": rc %d, want %d", c->text, rc, c->rc);
    if (rc != 0)
      continue;
    if (a.ton != c->ton || a.npi != c->npi || strcmp(a.addr, c->addr) != 0)
      fail_msg("\"%s\": %u/%u \"%s\", want %u/%u \"%s\"", c->text, a.ton, a.npi,
               a.addr, c->ton, c->npi, c->addr);
  }
  sg_conn_addr_t a;
  assert_int_equal(sg_smpp_addr_from_text(NULL, &a), SG_EINVAL);
  assert_int_equal(sg_smpp_addr_from_text("1", NULL), SG_EINVAL);
}

/* Every status of status.def has a row. */
static void test_errclass_complete(void **state) {
  (void)state;
  unsigned n = 0;
#define CHECK_ROW(NAME, value, text)                                           \
  do {                                                                         \
    if (!sg_smpp_errclass_lookup(value, NULL))                                 \
      fail_msg("no class for ESME_" #NAME);                                    \
    n++;                                                                       \
  } while (0);
  SG_SMPP_STATUS_LIST(CHECK_ROW)
#undef CHECK_ROW
  assert_true(n >= 48);
}

typedef struct class_case {
  uint32_t status;
  sg_smpp_errclass_t cls;
} class_case_t;

static const class_case_t class_cases[] = {
    {SG_SMPP_ESME_ROK, SG_SMPP_EC_OK},
    {SG_SMPP_ESME_RTHROTTLED, SG_SMPP_EC_THROTTLE},
    {SG_SMPP_ESME_RMSGQFUL, SG_SMPP_EC_THROTTLE},
    {SG_SMPP_ESME_RSYSERR, SG_SMPP_EC_TEMP},
    {SG_SMPP_ESME_RX_T_APPN, SG_SMPP_EC_TEMP},
    {SG_SMPP_ESME_RDELIVERYFAILURE, SG_SMPP_EC_TEMP},
    {SG_SMPP_ESME_RSUBMITFAIL, SG_SMPP_EC_TEMP},
    {SG_SMPP_ESME_RUNKNOWNERR, SG_SMPP_EC_TEMP},
    {SG_SMPP_ESME_RINVBNDSTS, SG_SMPP_EC_TEMP},
    {SG_SMPP_ESME_RINVDSTADR, SG_SMPP_EC_PERM},
    {SG_SMPP_ESME_RINVSRCADR, SG_SMPP_EC_PERM},
    {SG_SMPP_ESME_RINVDSTTON, SG_SMPP_EC_PERM},
    {SG_SMPP_ESME_RINVMSGLEN, SG_SMPP_EC_PERM},
    {SG_SMPP_ESME_RINVESMCLASS, SG_SMPP_EC_PERM},
    {SG_SMPP_ESME_RINVEXPIRY, SG_SMPP_EC_PERM},
    {SG_SMPP_ESME_RX_P_APPN, SG_SMPP_EC_PERM},
    {SG_SMPP_ESME_RX_R_APPN, SG_SMPP_EC_PERM},
    {SG_SMPP_ESME_RINVOPTPARAMVAL, SG_SMPP_EC_PERM},
    /* Not in the table: reserved and vendor specific are temporary. */
    {0x00000009, SG_SMPP_EC_TEMP},
    {0x00000400, SG_SMPP_EC_TEMP},
    {0x000004FF, SG_SMPP_EC_TEMP},
    {0xFFFFFFFF, SG_SMPP_EC_TEMP},
};

static void test_errclass(void **state) {
  (void)state;
  for (size_t i = 0; i < sizeof class_cases / sizeof class_cases[0]; i++)
    if (sg_smpp_errclass(class_cases[i].status, NULL, 0) != class_cases[i].cls)
      fail_msg("status 0x%x", class_cases[i].status);
  assert_false(sg_smpp_errclass_lookup(0x400, NULL));
  sg_smpp_errclass_override_t ov[] = {
      {0x400, SG_SMPP_EC_THROTTLE},
      {SG_SMPP_ESME_RSYSERR, SG_SMPP_EC_PERM},
  };
  assert_int_equal(sg_smpp_errclass(0x400, ov, 2), SG_SMPP_EC_THROTTLE);
  assert_int_equal(sg_smpp_errclass(SG_SMPP_ESME_RSYSERR, ov, 2),
                   SG_SMPP_EC_PERM);
  assert_int_equal(sg_smpp_errclass(SG_SMPP_ESME_RSYSERR, ov, 1),
                   SG_SMPP_EC_TEMP);
  sg_smpp_errclass_t c;
  assert_int_equal(sg_smpp_errclass_parse("throttle", &c), 0);
  assert_int_equal(c, SG_SMPP_EC_THROTTLE);
  assert_int_equal(sg_smpp_errclass_parse("perm", &c), 0);
  assert_int_equal(c, SG_SMPP_EC_PERM);
  assert_int_equal(sg_smpp_errclass_parse("temp", &c), 0);
  assert_int_equal(c, SG_SMPP_EC_TEMP);
  assert_int_equal(sg_smpp_errclass_parse("fatal", &c), SG_EINVAL);
  assert_string_equal(sg_smpp_errclass_name(SG_SMPP_EC_TEMP), "temporary");
  assert_null(sg_smpp_errclass_name((sg_smpp_errclass_t)9));
}

/* What sg_smpp_client_id_key must give: sg_msgid_key's key, else the
 * NOCASE key of the first 64 octets. */
static void reference_key(const char *id, size_t len, sg_msgid_mode_t mode,
                          char out[66]) {
  size_t n;
  if (sg_msgid_key(id, len, mode, out, 66, &n) == 0)
    return;
  if (sg_msgid_key(id, len < 64 ? len : 64, SG_MSGID_NOCASE, out, 66, &n))
    out[0] = '\0';
}

static uint64_t rng_next(uint64_t *s) {
  *s ^= *s << 13;
  *s ^= *s >> 7;
  *s ^= *s << 17;
  return *s;
}

static void test_id_key(void **state) {
  (void)state;
  static const char *const fixed[] = {"0",
                                      "00",
                                      "0x0",
                                      "0x",
                                      "0X1F",
                                      "00x5",
                                      "abc-1",
                                      "000abc",
                                      "FFFFFFFFFFFFFFFF",
                                      "10000000000000000",
                                      "0000000000000000000001a",
                                      "04000000086ECD50",
                                      "288230376293190992",
                                      "6f2929a9-e61a",
                                      "x"};
  static const char alphabet[] = "0123456789abcdefABCDEFxX-g";
  uint64_t seed = 0x1234567;
  char id[80], got[66], want[66];
  for (int mode = SG_MSGID_AUTO; mode <= SG_MSGID_DECIMAL; mode++) {
    for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++) {
      size_t len = strlen(fixed[i]);
      sg_smpp_client_id_key(fixed[i], len, (sg_msgid_mode_t)mode, got);
      reference_key(fixed[i], len, (sg_msgid_mode_t)mode, want);
      if (strcmp(got, want) != 0)
        fail_msg("mode %d \"%s\": \"%s\" != \"%s\"", mode, fixed[i], got, want);
    }
    for (int k = 0; k < 20000; k++) {
      size_t len = 1 + rng_next(&seed) % 24;
      uint64_t kind = rng_next(&seed) % 4;
      for (size_t i = 0; i < len; i++) {
        uint64_t r = rng_next(&seed);
        /* mostly hex or decimal ids, sometimes anything */
        size_t span = kind == 0 ? 10 : kind == 3 ? sizeof alphabet - 1 : 22;
        id[i] = alphabet[r % span];
      }
      if (kind == 2 && len > 2) {
        id[0] = '0';
        id[1] = 'x';
      }
      id[len] = '\0';
      sg_smpp_client_id_key(id, len, (sg_msgid_mode_t)mode, got);
      reference_key(id, len, (sg_msgid_mode_t)mode, want);
      if (strcmp(got, want) != 0)
        fail_msg("mode %d \"%s\": \"%s\" != \"%s\"", mode, id, got, want);
    }
  }
  sg_smpp_client_id_key("", 0, SG_MSGID_AUTO, got);
  assert_string_equal(got, "");
  /* The hex id of a submit_sm_resp and the decimal id of its receipt. */
  sg_smpp_client_id_key("04000000086ECD50", 16, SG_MSGID_AUTO, got);
  assert_string_equal(got, "288230376293190992");
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_addr),
      cmocka_unit_test(test_errclass_complete),
      cmocka_unit_test(test_errclass),
      cmocka_unit_test(test_id_key),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
