/* assets.h - the files of the web page (src/web), compiled into the binary
 * at build time by cmake/embed_web.cmake, and how they are answered.
 *
 * Not a public header: for the files of src/ingress/web and their tests.
 */
#ifndef SG_INGRESS_WEB_ASSETS_H
#define SG_INGRESS_WEB_ASSETS_H

#include <stdbool.h>
#include <stddef.h>

#include "ingress/http_server.h"

typedef struct sg__web_asset {
  const char *name;          /* "index.html", "app.js", "uplot.js" */
  const char *type;          /* the Content-Type */
  const unsigned char *data; /* the octets (followed by a NUL) */
  size_t len;
  const unsigned char *gz; /* the same, gzipped (RFC 1952) */
  size_t gz_len;
  const char *etag; /* quoted: "\"<20 hex of its SHA-256>\"" */
} sg__web_asset_t;

/* The generated table (web_assets.c in the build directory). */
extern const sg__web_asset_t sg__web_assets[];
extern const size_t sg__web_assets_n;

/* The asset of that name, or NULL. */
const sg__web_asset_t *sg__web_asset_find(const char *name);

/* Whether an Accept-Encoding header (NULL: absent) takes gzip: the token
 * "gzip" or "*" without q=0. */
bool sg__web_accepts_gzip(const char *accept_encoding);

/* Whether an If-None-Match header (NULL: absent) names the ETag (or is
 * "*"), so the answer is 304 (RFC 9110 section 13.1.2, weak comparison). */
bool sg__web_etag_matches(const char *if_none_match, const char *etag);

/* Answers req with the asset: 304 when If-None-Match matches, else 200
 * with the gzipped octets when the client takes them and they are
 * smaller. Every answer carries the ETag, Cache-Control: no-cache (the
 * browser keeps the file and asks again with If-None-Match) and the
 * security headers (sg__web_security_headers). */
void sg__web_asset_respond(sg_http_req_t *req, const sg__web_asset_t *a);

/* The Content-Security-Policy of the page: only its own scripts, styles,
 * images and connections; no inline script, no framing, no plugins. */
extern const char sg__web_csp[];

#endif
