/* http_rule.c - the pure pieces of the HTTP provider connector: the values
 * a part gives its request template, the reading of a provider's answer by
 * the configured rule (status classes, a JSON path or a regular
 * expression for the id and the error), and the reading of query and form
 * parameters and status words of receipts.
 *
 * No I/O, no logging; it allocates only when a rule is compiled. It must
 * never take an answer for accepted unless the rule says so: a part
 * wrongly taken for sent is a message lost.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "connector/http_conn_int.h"
#include "core/error.h"
#include "core/gsm7.h"
#include "core/ucs2.h"
#include "core/utf8.h"

/* ---- values of a part ---------------------------------------------------- */

static void hex(const uint8_t *p, size_t n, char *out) {
  static const char d[] = "0123456789ABCDEF";
  for (size_t i = 0; i < n; i++) {
    out[2 * i] = d[p[i] >> 4];
    out[2 * i + 1] = d[p[i] & 15];
  }
  out[2 * n] = '\0';
}

/* The part's user data as UTF-8 text ("" for binary). */
static int part_text(const sg_conn_part_t *p, char *out, size_t cap) {
  uint32_t cps[SG_SEG_UD_MAX];
  size_t n = 0, bad = 0, w = 0;
  int rc = 0;
  if (p->encoding == SG_ENC_GSM7) {
    sg_gsm7_charset_t cs = {p->lang_locking, p->lang_single};
    rc = sg_gsm7_decode(cs, p->ud, p->ud_len, cps, SG_SEG_UD_MAX, &n, &bad);
  } else if (p->encoding == SG_ENC_UCS2) {
    rc = sg_ucs2_decode(p->ud, p->ud_len, 1, cps, SG_SEG_UD_MAX, &n, &bad);
  }
  if (rc == 0)
    rc = sg_utf8_encode(cps, n, (uint8_t *)out, cap - 1, &w);
  out[rc == 0 ? w : 0] = '\0';
  return rc;
}

static void addr(const sg_conn_addr_t *a, bool plus, char *out, size_t cap) {
  snprintf(out, cap, "%s%s", plus && a->ton == 1 ? "+" : "", a->addr);
}

static void set(sg__httpc_vals_t *o, sg_httptpl_var_t v, const char *s) {
  o->v[v].p = (const uint8_t *)s;
  o->v[v].len = strlen(s);
}

int sg__httpc_values(const sg_conn_part_t *p, const char *message_id,
                     const char *username, const char *password,
                     const char *token, const sg_httptpl_t *receipt_url,
                     sg__httpc_vals_t *o) {
  memset(o->v, 0, sizeof o->v);
  addr(&p->dst, true, o->to, sizeof o->to);
  addr(&p->dst, false, o->to_digits, sizeof o->to_digits);
  addr(&p->src, true, o->from, sizeof o->from);
  int rc = part_text(p, o->text, sizeof o->text);
  if (rc != 0)
    return rc == SG_ENOSPC ? SG_ENOSPC : SG_EILSEQ;
  size_t ud = p->ud_len <= SG_SEG_UD_MAX ? p->ud_len : SG_SEG_UD_MAX;
  size_t udh = p->udh_len <= SG_SEG_UDH_MAX ? p->udh_len : SG_SEG_UDH_MAX;
  hex(p->ud, ud, o->ud_hex);
  hex(p->udh, udh, o->udh_hex);
  bool ucs2 = p->encoding == SG_ENC_UCS2, bin = p->encoding == SG_ENC_8BIT;
  snprintf(o->coding, sizeof o->coding, "%d", ucs2 ? 2 : bin ? 1 : 0);
  snprintf(o->dcs, sizeof o->dcs, "%d", ucs2 ? 8 : bin ? 4 : 0);
  unsigned seq = p->concat_seq ? p->concat_seq : 1;
  snprintf(o->part, sizeof o->part, "%u", seq);
  snprintf(o->parts, sizeof o->parts, "%u",
           p->concat_total ? p->concat_total : 1u);
  const char *mid = message_id != NULL ? message_id : "";
  snprintf(o->ref, sizeof o->ref, "%.*s.%u", SG__HTTPC_MSGID_MAX - 1, mid, seq);
  snprintf(o->concat_ref, sizeof o->concat_ref, "%u", p->concat_ref);
  snprintf(o->dlr, sizeof o->dlr, "%d", p->want_report ? 1 : 0);
  set(o, SG_HTTPTPL_TO, o->to);
  set(o, SG_HTTPTPL_TO_DIGITS, o->to_digits);
  set(o, SG_HTTPTPL_FROM, o->from);
  set(o, SG_HTTPTPL_TEXT, o->text);
  set(o, SG_HTTPTPL_UD_HEX, o->ud_hex);
  set(o, SG_HTTPTPL_UDH_HEX, o->udh_hex);
  o->v[SG_HTTPTPL_UDH] = (sg_httptpl_val_t){p->udh, udh};
  set(o, SG_HTTPTPL_CODING, o->coding);
  set(o, SG_HTTPTPL_DCS, o->dcs);
  set(o, SG_HTTPTPL_MESSAGE_ID, mid);
  set(o, SG_HTTPTPL_PART, o->part);
  set(o, SG_HTTPTPL_PARTS, o->parts);
  set(o, SG_HTTPTPL_REF, o->ref);
  set(o, SG_HTTPTPL_CONCAT_REF, o->concat_ref);
  set(o, SG_HTTPTPL_DLR, o->dlr);
  set(o, SG_HTTPTPL_USERNAME, username ? username : "");
  set(o, SG_HTTPTPL_PASSWORD, password ? password : "");
  set(o, SG_HTTPTPL_TOKEN, token ? token : "");
  o->receipt_url[0] = '\0';
  if (receipt_url != NULL) {
    rc = sg_httptpl_render(receipt_url, SG_HTTPTPL_ESC_URL, o->v,
                           o->receipt_url, sizeof o->receipt_url, NULL, NULL);
    if (rc != 0)
      return rc;
  }
  set(o, SG_HTTPTPL_RECEIPT_URL, o->receipt_url);
  return 0;
}

/* ---- the answer rule ----------------------------------------------------- */

static pcre2_code *re_compile(const char *s, int *rc) {
  if (s == NULL)
    return NULL;
  int ec = 0;
  PCRE2_SIZE eo = 0;
  pcre2_code *re =
      pcre2_compile((PCRE2_SPTR)s, PCRE2_ZERO_TERMINATED,
                    PCRE2_UTF | PCRE2_MATCH_INVALID_UTF, &ec, &eo, NULL);
  if (re == NULL)
    *rc = SG_ECONFIG;
  return re;
}

int sg__httpc_rule_init(sg__httpc_rule_t *r, const sg_config_conn_http_t *h) {
  memset(r, 0, sizeof *r);
  r->accept = h->accept_codes;
  r->temporary = h->temporary_codes;
  int rc = 0;
  r->accept_re = re_compile(h->accept_regex, &rc);
  r->id_re = re_compile(h->message_id_regex, &rc);
  r->error_re = re_compile(h->error_regex, &rc);
  if (h->message_id != NULL) {
    r->id_path_set = true;
    if (sg_jsonpath_compile(h->message_id, strlen(h->message_id), &r->id_path,
                            NULL) != 0)
      rc = SG_ECONFIG;
  }
  if (h->error != NULL) {
    r->error_path_set = true;
    if (sg_jsonpath_compile(h->error, strlen(h->error), &r->error_path, NULL) !=
        0)
      rc = SG_ECONFIG;
  }
  if (h->message_id_template != NULL) {
    r->id_tpl_set = true;
    if (sg_httptpl_compile(h->message_id_template,
                           strlen(h->message_id_template), &r->id_tpl,
                           NULL) != 0)
      rc = SG_ECONFIG;
  }
  r->md = pcre2_match_data_create(8, NULL);
  if (rc == 0 && r->md == NULL)
    rc = SG_ENOMEM;
  if (rc != 0)
    sg__httpc_rule_close(r);
  return rc;
}

void sg__httpc_rule_close(sg__httpc_rule_t *r) {
  pcre2_code_free(r->accept_re);
  pcre2_code_free(r->id_re);
  pcre2_code_free(r->error_re);
  pcre2_match_data_free(r->md);
  r->accept_re = r->id_re = r->error_re = NULL;
  r->md = NULL;
}

/* Group `group` of re matched in body into out; false when no match. */
static bool re_take(const sg__httpc_rule_t *r, pcre2_code *re, int group,
                    const uint8_t *body, size_t len, char *out, size_t cap) {
  if (pcre2_match(re, body, len, 0, 0, r->md, NULL) < 0)
    return false;
  if (out == NULL)
    return true;
  PCRE2_SIZE n = cap;
  if (pcre2_substring_copy_bynumber(r->md, (uint32_t)group, (PCRE2_UCHAR *)out,
                                    &n) != 0)
    return false;
  return true;
}

/* The body's printable start, for an error without a rule. */
static void snippet(const uint8_t *body, size_t len, char *out, size_t cap) {
  size_t o = 0;
  for (size_t i = 0; i < len && o + 1 < cap && o < 100; i++)
    out[o++] = body[i] >= 0x20 && body[i] < 0x7f ? (char)body[i] : ' ';
  while (o > 0 && out[o - 1] == ' ')
    o--;
  out[o] = '\0';
}

static void error_text(const sg__httpc_rule_t *r, unsigned status,
                       const uint8_t *body, size_t len, json_t *j,
                       sg__httpc_answer_t *out) {
  char why[128] = "";
  bool got = false;
  if (r->error_path_set && j != NULL)
    got = sg_jsonpath_get(&r->error_path, j, why, sizeof why) == 0;
  if (!got && r->error_re != NULL)
    got = re_take(r, r->error_re, 1, body, len, why, sizeof why);
  if (!got)
    snippet(body, len, why, sizeof why);
  snprintf(out->error, sizeof out->error, "HTTP %u%s%s", status,
           why[0] ? ": " : "", why);
}

static void take_id(const sg__httpc_rule_t *r, const uint8_t *body, size_t len,
                    json_t *j, const sg__httpc_vals_t *vals,
                    sg__httpc_answer_t *out) {
  bool got = false;
  if (r->id_path_set)
    got = j != NULL &&
          sg_jsonpath_get(&r->id_path, j, out->id, sizeof out->id) == 0;
  else if (r->id_re != NULL)
    got = re_take(r, r->id_re, 1, body, len, out->id, sizeof out->id);
  else if (r->id_tpl_set)
    got = sg_httptpl_render(&r->id_tpl, SG_HTTPTPL_ESC_TEXT, vals->v, out->id,
                            sizeof out->id, NULL, NULL) == 0;
  if (!got || out->id[0] == '\0') {
    out->id[0] = '\0';
    snprintf(out->error, sizeof out->error,
             "accepted, but no message id in the answer");
  }
}

void sg__httpc_classify(const sg__httpc_rule_t *r, unsigned status,
                        const uint8_t *body, size_t len,
                        const sg__httpc_vals_t *vals, sg__httpc_answer_t *out) {
  memset(out, 0, sizeof *out);
  bool need_json = r->id_path_set || r->error_path_set;
  json_t *j = need_json && len > 0
                  ? json_loadb((const char *)body, len, JSON_DECODE_ANY, NULL)
                  : NULL;
  out->throttled = status == 429;
  if (sg_config_http_code_in(&r->accept, status)) {
    if (r->accept_re != NULL &&
        !re_take(r, r->accept_re, 0, body, len, NULL, 0)) {
      out->outcome = SG_CONN_PERMFAIL;
      error_text(r, status, body, len, j, out);
    } else {
      out->outcome = SG_CONN_SENT;
      take_id(r, body, len, j, vals, out);
    }
  } else {
    out->outcome = sg_config_http_code_in(&r->temporary, status)
                       ? SG_CONN_TEMPFAIL
                       : SG_CONN_PERMFAIL;
    error_text(r, status, body, len, j, out);
  }
  json_decref(j);
}

/* ---- receipts ------------------------------------------------------------ */

static int unhex(char c) {
  return c >= '0' && c <= '9'   ? c - '0'
         : c >= 'a' && c <= 'f' ? c - 'a' + 10
         : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                : -1;
}

/* Decodes s[0..len) into out; returns the length or SG_ENOSPC. */
static int url_decode(const char *s, size_t len, char *out, size_t cap) {
  size_t o = 0;
  for (size_t i = 0; i < len; i++) {
    char c = s[i];
    if (c == '+')
      c = ' ';
    else if (c == '%' && i + 2 < len && unhex(s[i + 1]) >= 0 &&
             unhex(s[i + 2]) >= 0) {
      c = (char)(unhex(s[i + 1]) * 16 + unhex(s[i + 2]));
      i += 2;
    }
    if (o + 1 >= cap)
      return SG_ENOSPC;
    out[o++] = c;
  }
  out[o] = '\0';
  return (int)o;
}

int sg__httpc_param(const char *s, size_t len, const char *name, char *out,
                    size_t cap) {
  char key[128];
  size_t i = 0;
  while (i < len) {
    size_t end = i;
    while (end < len && s[end] != '&')
      end++;
    size_t eq = i;
    while (eq < end && s[eq] != '=')
      eq++;
    int kl = url_decode(s + i, eq - i, key, sizeof key);
    if (kl >= 0 && strcmp(key, name) == 0)
      return eq < end ? url_decode(s + eq + 1, end - eq - 1, out, cap)
                      : url_decode("", 0, out, cap);
    i = end + 1;
  }
  return SG_ENOENT;
}

static const struct {
  const char *word;
  int state;
} usual_words[] = {
    {"delivered", 2},     {"delivrd", 2}, {"delivered_to_handset", 2},
    {"undeliverable", 5}, {"undeliv", 5}, {"undelivered", 5},
    {"failed", 5},        {"expired", 3}, {"rejected", 8},
    {"rejectd", 8},       {"deleted", 4}, {"accepted", 6},
    {"acceptd", 6},       {"enroute", 1}, {"sent", 1},
    {"buffered", 1},      {"queued", 1},  {"unknown", 7},
};

int sg__httpc_state(const sg_config_http_receipt_t *r, const char *word) {
  for (size_t i = 0; i < r->n_statuses; i++)
    if (strcmp(r->statuses[i].word, word) == 0)
      return r->statuses[i].state;
  for (size_t i = 0; i < r->n_statuses; i++)
    if (strcasecmp(r->statuses[i].word, word) == 0)
      return r->statuses[i].state;
  for (size_t i = 0; i < sizeof usual_words / sizeof usual_words[0]; i++)
    if (strcasecmp(usual_words[i].word, word) == 0)
      return usual_words[i].state;
  return 0;
}
