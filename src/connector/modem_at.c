/* modem_at.c - the line reader of the modem connector: turns the bytes a
 * GSM modem sends into events (answer lines, final result codes, the
 * AT+CMGS prompt, unsolicited result codes with their PDU line), wherever
 * the bytes are split and wherever a URC falls.
 *
 * It must never do I/O, allocate, or grow past its fixed buffers: a line
 * that is too long is dropped and reported, never truncated into something
 * that could be mistaken for another answer.
 */
#include "connector/modem_at.h"

#include <string.h>

#include "core/error.h"

/* URCs that are one line (TS 27.005 3.4.1, TS 27.007 7.2, 10.1.19 and
 * vendor codes starting with '^'). */
static const char *const URC_ONE_LINE[] = {
    "+CMTI:", "+CDSI:", "RING",   "+CRING:", "+CLIP:", "+CUSD:",
    "+CIEV:", "+CBMI:", "+CGEV:", "^",       NULL,
};

/* URCs whose PDU follows on the next line (TS 27.005 3.4.1). */
static const char *const URC_TWO_LINES[] = {"+CDS:", "+CMT:", "+CBM:", NULL};

/* Registration codes: the URC has <stat> first, the answer to the read
 * command <n>,<stat> (TS 27.007 7.2). */
static const char *const URC_REG[] = {"+CREG:", "+CGREG:", "+CEREG:", NULL};

static const char *const FINAL_ERROR[] = {
    "ERROR", "NO CARRIER", "BUSY", "NO ANSWER", "NO DIALTONE", NULL,
};

void sg_at_reader_init(sg_at_reader_t *r) {
  memset(r, 0, sizeof *r);
}

void sg_at_reader_expect(sg_at_reader_t *r, const char *prefix) {
  r->expect[0] = '\0';
  if (prefix != NULL && strlen(prefix) < sizeof r->expect)
    strcpy(r->expect, prefix);
}

bool sg_at_has_prefix(const char *line, const char *prefix, const char **rest) {
  size_t n = strlen(prefix);
  if (strncmp(line, prefix, n) != 0)
    return false;
  line += n;
  while (*line == ' ')
    line++;
  if (rest != NULL)
    *rest = line;
  return true;
}

static bool in_list(const char *line, const char *const *list) {
  for (size_t i = 0; list[i] != NULL; i++)
    if (sg_at_has_prefix(line, list[i], NULL))
      return true;
  return false;
}

static bool is_hex_line(const char *s, size_t n) {
  if (n == 0)
    return false;
  for (size_t i = 0; i < n; i++) {
    char c = s[i];
    if (!((c >= '0' && c <= '9') || (c >= 'A' && c <= 'F') ||
          (c >= 'a' && c <= 'f')))
      return false;
  }
  return true;
}

/* The error number after "+CME ERROR:", or -1 when it is a text. */
static int error_code(const char *rest) {
  int v = 0, digits = 0;
  for (; *rest >= '0' && *rest <= '9' && digits < 6; rest++, digits++)
    v = v * 10 + (*rest - '0');
  return digits > 0 && *rest == '\0' ? v : -1;
}

static bool is_final_error(const char *line) {
  for (size_t i = 0; FINAL_ERROR[i] != NULL; i++)
    if (strcmp(line, FINAL_ERROR[i]) == 0)
      return true;
  return false;
}

/* "+CREG: 0,1" (answer) versus "+CREG: 1" or "+CREG: 1,"00AB","1A2B"". */
static bool is_reg_answer(const sg_at_reader_t *r, const char *line) {
  const char *rest;
  if (r->expect[0] == '\0' || !sg_at_has_prefix(line, r->expect, &rest))
    return false;
  const char *comma = strchr(rest, ',');
  return comma != NULL && comma[1] >= '0' && comma[1] <= '9';
}

/* Classifies a complete line; false when it starts a two-line URC (no
 * event yet). */
static bool classify(sg_at_reader_t *r, const char *line, size_t n,
                     sg_at_event_t *ev) {
  const char *rest;
  memset(ev, 0, sizeof *ev);
  ev->line = line;
  ev->len = n;
  ev->kind = SG_AT_LINE;
  if (strcmp(line, "OK") == 0) {
    ev->kind = SG_AT_OK;
  } else if (sg_at_has_prefix(line, "+CME ERROR:", &rest)) {
    ev->kind = SG_AT_CME_ERROR;
    ev->code = error_code(rest);
  } else if (sg_at_has_prefix(line, "+CMS ERROR:", &rest)) {
    ev->kind = SG_AT_CMS_ERROR;
    ev->code = error_code(rest);
  } else if (is_final_error(line)) {
    ev->kind = SG_AT_ERROR;
  } else if ((line[0] == 'A' || line[0] == 'a') &&
             (line[1] == 'T' || line[1] == 't')) {
    ev->kind = SG_AT_ECHO;
  } else if (in_list(line, URC_TWO_LINES)) {
    memcpy(r->head, line, n + 1);
    r->head_len = n;
    r->want_pdu = true;
    return false;
  } else if (in_list(line, URC_REG)) {
    ev->kind = is_reg_answer(r, line) ? SG_AT_LINE : SG_AT_URC;
  } else if (in_list(line, URC_ONE_LINE)) {
    ev->kind = SG_AT_URC;
  }
  return true;
}

/* The end of a line: true with *ev filled when it makes an event. */
static bool line_end(sg_at_reader_t *r, sg_at_event_t *ev) {
  size_t n = r->len;
  bool overlong = r->overlong;
  r->line[n] = '\0';
  r->len = 0;
  r->overlong = false;
  if (overlong) {
    if (r->want_pdu)
      r->dropped++;
    r->want_pdu = false;
    memset(ev, 0, sizeof *ev);
    ev->kind = SG_AT_OVERLONG;
    r->line[0] = '\0'; /* what was kept of it is not shown */
    ev->line = r->line;
    return true;
  }
  if (r->want_pdu) {
    r->want_pdu = false;
    if (is_hex_line(r->line, n)) {
      memset(ev, 0, sizeof *ev);
      ev->kind = SG_AT_URC;
      ev->line = r->head;
      ev->len = r->head_len;
      ev->pdu = r->line;
      ev->pdu_len = n;
      return true;
    }
    r->dropped++;
  }
  return classify(r, r->line, n, ev);
}

int sg_at_feed(sg_at_reader_t *r, const uint8_t *buf, size_t len,
               sg_at_event_t *ev) {
  if (len > (size_t)INT32_MAX)
    len = (size_t)INT32_MAX;
  for (size_t i = 0; i < len; i++) {
    uint8_t c = buf[i];
    if (r->skip_space) {
      r->skip_space = false;
      if (c == ' ')
        continue;
    }
    if (c == '\r' || c == '\n') {
      if ((r->len > 0 || r->overlong) && line_end(r, ev))
        return (int)(i + 1);
      continue;
    }
    if (c == '>' && r->len == 0 && !r->overlong && !r->want_pdu) {
      r->skip_space = true;
      memset(ev, 0, sizeof *ev);
      ev->kind = SG_AT_PROMPT;
      ev->line = "> ";
      ev->len = 2;
      return (int)(i + 1);
    }
    if (r->len < SG_AT_LINE_MAX)
      r->line[r->len++] = (char)(c == '\0' ? '?' : c);
    else
      r->overlong = true;
  }
  return SG_NEED_MORE;
}
