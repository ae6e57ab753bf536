/* httptpl.h - request templates of the HTTP provider connector: a URL, a
 * header value or a body with {{placeholders}} for the fields of a message
 * part, filled with the escaping of the place they stand in.
 *
 * A template is compiled once (from the configuration) into literal runs
 * and placeholders; rendering copies the literals as written and escapes
 * each value for its place: percent-encoding in a URL (RFC 3986
 * unreserved characters kept), application/x-www-form-urlencoded in a form
 * body (space as '+'), JSON string escaping in a JSON body (RFC 8259; the
 * value must be UTF-8), control characters replaced by spaces in a header
 * value, and nothing in a plain text body.
 *
 * Pure: no I/O, no logging, no allocation. The compiled template points
 * into the caller's source string, which must outlive it.
 */
#ifndef SG_CORE_HTTPTPL_H
#define SG_CORE_HTTPTPL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The names a template may use, in {{name}} (spaces inside the braces are
 * allowed). The values are the connector's (connector/http_conn.c). */
#define SG_HTTPTPL_VARS(X)                                                     \
  X(TO, "to")                 /* recipient, "+" and digits when E.164 */       \
  X(TO_DIGITS, "to_digits")   /* recipient without "+" */                      \
  X(FROM, "from")             /* sender: "+digits" or alphanumeric */          \
  X(TEXT, "text")             /* the part's text, UTF-8 */                     \
  X(UD_HEX, "ud_hex")         /* user data: septets or octets, hex */          \
  X(UDH_HEX, "udh_hex")       /* the UDH (UDHL first) in hex, or "" */         \
  X(UDH, "udh")               /* the UDH's octets (URL and form only) */       \
  X(CODING, "coding")         /* Kannel's: 0 GSM 7-bit, 1 8-bit, 2 UCS-2 */    \
  X(DCS, "dcs")               /* SMPP data_coding: 0, 4 or 8 */                \
  X(MESSAGE_ID, "message_id") /* smsgate's message id */                       \
  X(PART, "part")             /* the part's number, 1.. */                     \
  X(PARTS, "parts")           /* parts in the message */                       \
  X(REF, "ref")               /* "<message_id>.<part>": unique per part */     \
  X(CONCAT_REF, "concat_ref") /* the concatenation reference */                \
  X(DLR, "dlr")               /* "1" when a receipt is wanted, else "0" */     \
  X(USERNAME, "username")     /* credentials from the configuration */         \
  X(PASSWORD, "password")                                                      \
  X(TOKEN, "token")                                                            \
  X(RECEIPT_URL, "receipt_url") /* the filled receipt_url template */

typedef enum sg_httptpl_var {
#define SG__HTTPTPL_ENUM(e, name) SG_HTTPTPL_##e,
  SG_HTTPTPL_VARS(SG__HTTPTPL_ENUM)
#undef SG__HTTPTPL_ENUM
      SG_HTTPTPL_VAR_COUNT
} sg_httptpl_var_t;

/* Where a template stands, which decides how values are escaped. */
typedef enum sg_httptpl_esc {
  SG_HTTPTPL_ESC_URL = 0, /* %XX for all but ALPHA DIGIT - . _ ~ */
  SG_HTTPTPL_ESC_FORM,    /* as URL, and space as '+' */
  SG_HTTPTPL_ESC_JSON,    /* inside a JSON string: \" \\ \n \uXXXX */
  SG_HTTPTPL_ESC_HEADER,  /* CR, LF, NUL and other controls become ' ' */
  SG_HTTPTPL_ESC_TEXT     /* as they are */
} sg_httptpl_esc_t;

#define SG_HTTPTPL_SEGS_MAX 64

typedef struct sg_httptpl_seg {
  uint32_t off, len; /* of a literal run in the source */
  int var;           /* sg_httptpl_var_t, or -1 for a literal */
} sg_httptpl_seg_t;

typedef struct sg_httptpl {
  const char *src; /* borrowed */
  size_t n_segs;
  sg_httptpl_seg_t segs[SG_HTTPTPL_SEGS_MAX];
  uint32_t uses; /* bit (1u << var) for each variable used */
} sg_httptpl_t;

/* One value; p may be NULL when len is 0. */
typedef struct sg_httptpl_val {
  const uint8_t *p;
  size_t len;
} sg_httptpl_val_t;

/* The name of a variable ("to"), or NULL for an unknown one. */
const char *sg_httptpl_var_name(sg_httptpl_var_t v);

/* Compiles src[0..len) into *out (which keeps src). Returns 0; SG_EINVAL
 * for an unterminated "{{" or an unknown name, SG_ETOOLONG for more than
 * SG_HTTPTPL_SEGS_MAX runs; *err_off (may be NULL) then gets the offset of
 * the "{{" at fault. */
int sg_httptpl_compile(const char *src, size_t len, sg_httptpl_t *out,
                       size_t *err_off);

/* Escapes v[0..len) for its place into out[0..cap) (no NUL) and sets *n.
 * Returns 0; SG_ENOSPC when out is too small; SG_EILSEQ for a value that
 * is not UTF-8 in a JSON place. */
int sg_httptpl_escape(sg_httptpl_esc_t esc, const uint8_t *v, size_t len,
                      char *out, size_t cap, size_t *n);

/* Fills template t with vals[SG_HTTPTPL_VAR_COUNT] escaped for esc into
 * out[0..cap), NUL-terminated; *n (may be NULL) gets the length without the
 * NUL. Returns 0, SG_ENOSPC (out too small), SG_EILSEQ (a value that is not
 * UTF-8 in a JSON place); *bad_var (may be NULL) then gets the variable. */
int sg_httptpl_render(const sg_httptpl_t *t, sg_httptpl_esc_t esc,
                      const sg_httptpl_val_t *vals, char *out, size_t cap,
                      size_t *n, int *bad_var);

/* Example values of every variable (a two-part UCS-2 message with quotes,
 * an ampersand and a line break in its text), for the configuration's
 * check that a filled JSON body parses. */
void sg_httptpl_examples(sg_httptpl_val_t vals[SG_HTTPTPL_VAR_COUNT]);

#endif
