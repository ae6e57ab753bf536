/* config_http.h - the `http` mapping of a connector of type http (an HTTP
 * provider): the request template, the rule that reads the provider's
 * answer, and the mapping of the receipts it posts back. Part of
 * sg_config_connector_t (config.h); read and checked by config_http.c,
 * documented in docs/configuration.md "HTTP providers".
 */
#ifndef SG_CORE_CONFIG_HTTP_H
#define SG_CORE_CONFIG_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum sg_config_http_method {
  SG_CONFIG_HTTP_POST = 0,
  SG_CONFIG_HTTP_GET = 1,
  SG_CONFIG_HTTP_PUT = 2
} sg_config_http_method_t;

/* How the body is written, which decides the escaping of its placeholders
 * and the Content-Type sent (unless a header sets it). */
typedef enum sg_config_http_body {
  SG_CONFIG_HTTP_BODY_JSON = 0, /* application/json */
  SG_CONFIG_HTTP_BODY_FORM = 1, /* application/x-www-form-urlencoded */
  SG_CONFIG_HTTP_BODY_TEXT = 2  /* text/plain; values as they are */
} sg_config_http_body_t;

/* One request header: name, and a value template. */
typedef struct sg_config_http_header {
  const char *name;
  const char *value;
} sg_config_http_header_t;

/* One word of a provider's receipt status and the SMPP message_state
 * (SMPP 3.4 section 5.2.28: 1 enroute, 2 delivered, 3 expired, 4 deleted,
 * 5 undeliverable, 6 accepted, 7 unknown, 8 rejected) it means. */
typedef struct sg_config_http_status {
  const char *word;
  int state;
} sg_config_http_status_t;

/* A set of HTTP statuses 100..599, one bit each. */
typedef struct sg_config_http_codes {
  uint8_t bits[75];
} sg_config_http_codes_t;

static inline bool sg_config_http_code_in(const sg_config_http_codes_t *s,
                                          unsigned code) {
  return code >= 100 && code < 700 && code - 100 < 600 &&
         (s->bits[(code - 100) / 8] >> ((code - 100) % 8) & 1) != 0;
}

/* Where a receipt's fields are: each a parameter name (query string or
 * form body) or a JSON path ("$.status") into a JSON body. */
typedef struct sg_config_http_receipt {
  const char *id;                    /* default "id" */
  const char *status;                /* default "status" */
  const char *error;                 /* network error code; NULL: none */
  sg_config_http_status_t *statuses; /* words added to the built-in ones */
  size_t n_statuses;
  const char *secret;        /* shared secret; NULL: not checked */
  const char *secret_param;  /* where it is sent; default "secret" */
  const char *secret_header; /* or in this header (instead) */
  const char *hmac_secret;   /* HMAC-SHA256 of the body; NULL: none */
  const char *hmac_header;   /* default "X-Signature" */
} sg_config_http_receipt_t;

typedef struct sg_config_conn_http {
  sg_config_http_method_t method; /* default POST */
  const char *url;                /* template; required */
  sg_config_http_header_t *headers;
  size_t n_headers;
  sg_config_http_body_t body_type;         /* default json */
  const char *body;                        /* template; NULL: no body */
  const char *username, *password, *token; /* secrets, for placeholders */
  const char **accept; /* status codes or classes ("2xx"); default 2xx */
  size_t n_accept;
  const char **temporary; /* default 408, 425, 429, 5xx */
  size_t n_temporary;
  sg_config_http_codes_t accept_codes;    /* filled by the check */
  sg_config_http_codes_t temporary_codes; /* filled by the check */
  const char *accept_regex;        /* an accepted answer's body must match */
  const char *message_id;          /* JSON path of the provider's id */
  const char *message_id_regex;    /* or a PCRE2 pattern, group 1 */
  const char *message_id_template; /* or smsgate's own id, e.g. "{{ref}}" */
  const char *error;               /* JSON path of the error text */
  const char *error_regex;         /* or a pattern, group 1 */
  const char *receipt_url;         /* template for {{receipt_url}} */
  bool tls_verify;                 /* default true */
  const char *tls_ca;              /* PEM bundle; NULL: system CAs */
  sg_config_http_receipt_t receipt;
} sg_config_conn_http_t;

/* Whether two `http` mappings are equal (config_diff.c: a reload opens
 * the connector again when not). Internal to the configuration loader. */
bool sg__cfg_conn_http_eq(const sg_config_conn_http_t *a,
                          const sg_config_conn_http_t *b);

#endif
