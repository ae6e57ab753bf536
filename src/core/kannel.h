/* kannel.h - the pure parts of smsgate's Kannel compatibility: Kannel's
 * delivery-report types (the dlr-mask bits), its URL encoding, and the
 * expansion of the escape codes of a dlr-url ("%d", "%p", ...).
 *
 * Kannel fills a dlr-url with urltrans_fill_escape_codes(): every "%X" is
 * replaced by a field of the delivery report, URL-encoded (space as '+',
 * letters, digits and "-_.!~*'()" as they are, every other octet as %XX in
 * upper-case hex). Codes that have no value leave nothing; an unknown code
 * is copied as it is ("%z" stays "%z"). A delivery report carries its
 * answer text (the operator's receipt, or "ACK/" / "NACK/..." for the
 * operator's answer to the submit) where Kannel's message text would be,
 * so %b, %A, %a, %k, %s, %S, %r and %e all read that text, as in Kannel.
 *
 * Nothing here allocates, logs or does I/O.
 */
#ifndef SG_CORE_KANNEL_H
#define SG_CORE_KANNEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* dlr-mask bits (Kannel's DLR_SUCCESS ...), also the value of %d. */
#define SG_KANNEL_DLR_DELIVERED 1  /* delivered to the phone */
#define SG_KANNEL_DLR_FAILED 2     /* not delivered to the phone */
#define SG_KANNEL_DLR_BUFFERED 4   /* queued at the operator */
#define SG_KANNEL_DLR_SMSC_OK 8    /* the operator took the message */
#define SG_KANNEL_DLR_SMSC_FAIL 16 /* the operator refused it */
/* The largest dlr-mask Kannel's sendsms takes (with 32, the SMSC's
 * intermediate notifications, and 64). */
#define SG_KANNEL_DLR_MASK_MAX 66

/* What one delivery report says, for the escape codes. Every string may
 * be NULL (no value: the code expands to nothing). */
typedef struct sg_kannel_dlr_vars {
  int type;            /* %d: one SG_KANNEL_DLR_* value */
  const char *answer;  /* %A %b: the report's text (see above) */
  const char *from;    /* %P %Q: the sender of the message */
  const char *to;      /* %p %q: its recipient */
  const char *smsc;    /* %i: the connector's name */
  const char *msg_id;  /* %I: the message id */
  const char *smsc_id; /* %F: the operator's message id */
  const char *service; /* %n: the sendsms user (account name) */
  const char *account; /* %o: the account parameter of the sendsms */
  const char *dlr_url; /* %R: the dlr-url itself */
  int64_t time_s;      /* %t %T: Unix time of the report */
  int coding;          /* %c: 0 7-bit, 1 8-bit, 2 UCS-2; %C follows it */
  int mclass;          /* %m: -1 when not set */
  int priority;        /* %y */
} sg_kannel_dlr_vars_t;

/* An incoming message (MO) as Kannel's sms-service URLs see it: the same
 * escape codes, with the message text where a report has its answer (%a
 * %k %s %S %r %b %A %e), the phone that sent it in %p/%q, the number it was
 * sent to in %P/%Q. For an inbound rule that calls a URL the Kannel way
 * and sends its body back as the reply. Strings may be NULL. */
typedef struct sg_kannel_mo {
  const char *text;    /* UTF-8 */
  const char *from;    /* the phone */
  const char *to;      /* our number or short code */
  const char *smsc;    /* the connector it came in on */
  const char *id;      /* the inbound message id */
  const char *service; /* the account it was routed to */
  int64_t time_s;      /* when it was received, Unix seconds */
  int coding;          /* 0 7-bit, 1 8-bit, 2 UCS-2 */
} sg_kannel_mo_t;

/* Fills *out for sg_kannel_dlr_expand from an MO (%d is -1: an MO has no
 * report type; %m -1). Pure. */
void sg_kannel_mo_vars(const sg_kannel_mo_t *mo, sg_kannel_dlr_vars_t *out);

/* URL-encodes in[0..len) as Kannel's octstr_url_encode into
 * out[0..cap) and a NUL. Returns the length written (without the NUL),
 * or SG_ENOSPC when it does not fit (out is then unspecified). */
int sg_kannel_url_encode(const uint8_t *in, size_t len, char *out, size_t cap);

/* Whether expanding tmpl[0..len) reads v->coding, smsc_id, smsc or
 * service (%c %C %O %F %i %n): when not, the caller need not look them up
 * and the expansion is the same whatever they hold. Pure. */
bool sg_kannel_dlr_reads_route(const char *tmpl, size_t len);

/* Expands the escape codes of tmpl[0..len) (a dlr-url, or with
 * sg_kannel_mo_vars an sms-service URL) with v into out[0..cap) and a
 * NUL. Returns the length written (without the NUL), SG_ENOSPC when it
 * does not fit, SG_EINVAL for NULL arguments. */
int sg_kannel_dlr_expand(const char *tmpl, size_t len,
                         const sg_kannel_dlr_vars_t *v, char *out, size_t cap);

#endif
