/* smpp_addr.c - turning an address as people write it ("+7 900 123-45-67",
 * "7575", "MyShop") into SMPP's source_addr / destination_addr with its
 * type of number and numbering plan (SMPP 3.4 sections 5.2.5, 5.2.6); the
 * rules are documented at sg_smpp_addr_from_text() in smpp_client.h.
 * Pure: no I/O, no allocation.
 */
#include <string.h>

#include "connector/smpp_client.h"
#include "core/error.h"

/* TON and NPI values of SMPP 3.4 section 5.2.5 / 5.2.6. */
enum {
  TON_UNKNOWN = 0,
  TON_INTERNATIONAL = 1,
  TON_NATIONAL = 2,
  TON_NETWORK = 3,
  TON_ALPHANUMERIC = 5,
  NPI_UNKNOWN = 0,
  NPI_E164 = 1
};

#define ADDR_DIGITS_MAX 20 /* source_addr / destination_addr: 21 with NUL */
#define ADDR_ALNUM_MAX 11  /* TS 23.040 9.1.2.5: 11 GSM characters */

static bool is_separator(char ch) {
  return ch == ' ' || ch == '-' || ch == '.' || ch == '(' || ch == ')';
}

/* Collects the digits of text into digits[] when text is a number: an
 * optional leading '+', then digits and separators with at least one
 * digit. Returns the digit count (> 0), 0 when text is not a number, or
 * SG_ETOOLONG. *plus says whether it began with '+'. */
static int number_digits(const char *text, char *digits, bool *plus) {
  const char *p = text;
  *plus = *p == '+';
  if (*plus)
    p++;
  int n = 0;
  for (; *p != '\0'; p++) {
    if (*p >= '0' && *p <= '9') {
      if (n == ADDR_DIGITS_MAX)
        return SG_ETOOLONG;
      digits[n++] = *p;
    } else if (!is_separator(*p)) {
      return 0;
    }
  }
  return n;
}

static void set(sg_conn_addr_t *out, uint8_t ton, uint8_t npi, const char *addr,
                size_t len) {
  out->ton = ton;
  out->npi = npi;
  memcpy(out->addr, addr, len);
  out->addr[len] = '\0';
}

int sg_smpp_addr_from_text(const char *text, sg_conn_addr_t *out) {
  if (text == NULL || out == NULL || text[0] == '\0')
    return SG_EINVAL;
  size_t len = strlen(text);
  for (size_t i = 0; i < len; i++)
    if ((unsigned char)text[i] < 0x20 || (unsigned char)text[i] > 0x7E)
      return SG_EINVAL;
  char digits[ADDR_DIGITS_MAX];
  bool plus;
  int n = number_digits(text, digits, &plus);
  if (n == SG_ETOOLONG)
    return SG_ETOOLONG;
  if (n > 0) {
    if (plus)
      set(out, TON_INTERNATIONAL, NPI_E164, digits, (size_t)n);
    else if (n >= 9)
      set(out, TON_NATIONAL, NPI_E164, digits, (size_t)n);
    else if (n >= 3)
      set(out, TON_NETWORK, NPI_UNKNOWN, digits, (size_t)n);
    else
      set(out, TON_UNKNOWN, NPI_UNKNOWN, digits, (size_t)n);
    return 0;
  }
  /* Not a number: alphanumeric, unless it was only separators. */
  bool any = false;
  for (size_t i = 0; i < len && !any; i++)
    any = !is_separator(text[i]) && text[i] != '+';
  if (!any)
    return SG_EINVAL;
  if (len > ADDR_ALNUM_MAX)
    return SG_ETOOLONG;
  set(out, TON_ALPHANUMERIC, NPI_UNKNOWN, text, len);
  return 0;
}
