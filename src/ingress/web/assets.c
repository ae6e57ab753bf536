/* assets.c - answers GET / and GET /assets/NAME from the files compiled
 * into the binary (assets.h), with their ETag, gzip when the client takes
 * it, and the security headers of the page.
 *
 * It must never read a file at run time nor answer a name that is not in
 * the table: the page is exactly what was built.
 */
#include <string.h>
#include <strings.h>

#include "ingress/web/assets.h"

const char sg__web_csp[] =
    "default-src 'none'; script-src 'self'; style-src 'self'; "
    "img-src 'self' data:; connect-src 'self'; font-src 'self'; "
    "manifest-src 'self'; base-uri 'none'; form-action 'self'; "
    "frame-ancestors 'none'";

const sg__web_asset_t *sg__web_asset_find(const char *name) {
  for (size_t i = 0; name != NULL && i < sg__web_assets_n; i++)
    if (strcmp(sg__web_assets[i].name, name) == 0)
      return &sg__web_assets[i];
  return NULL;
}

/* Walks the comma-separated list of a header, calling match on each
 * element (without surrounding blanks) until it answers true. */
static bool any_element(const char *h,
                        bool (*match)(const char *p, size_t n, const void *arg),
                        const void *arg) {
  while (h != NULL && *h != '\0') {
    while (*h == ' ' || *h == '\t' || *h == ',')
      h++;
    const char *end = strchr(h, ',');
    size_t n = end != NULL ? (size_t)(end - h) : strlen(h);
    while (n > 0 && (h[n - 1] == ' ' || h[n - 1] == '\t'))
      n--;
    if (n > 0 && match(h, n, arg))
      return true;
    h = end;
  }
  return false;
}

/* "gzip", "gzip;q=0.5", "*" - but not with a q of zero. */
static bool gzip_element(const char *p, size_t n, const void *arg) {
  (void)arg;
  size_t tok = 0;
  while (tok < n && p[tok] != ';' && p[tok] != ' ' && p[tok] != '\t')
    tok++;
  if (!((tok == 4 && strncasecmp(p, "gzip", 4) == 0) ||
        (tok == 1 && p[0] == '*')))
    return false;
  const char *q = NULL;
  for (size_t i = tok; i + 1 < n; i++)
    if ((p[i] == 'q' || p[i] == 'Q') && p[i + 1] == '=') {
      q = p + i + 2;
      break;
    }
  if (q == NULL)
    return true;
  /* q=0, q=0.0, q=0.000 refuse; anything else accepts. */
  for (const char *c = q; c < p + n; c++)
    if (*c >= '1' && *c <= '9')
      return true;
  return false;
}

bool sg__web_accepts_gzip(const char *accept_encoding) {
  return any_element(accept_encoding, gzip_element, NULL);
}

static bool etag_element(const char *p, size_t n, const void *arg) {
  const char *etag = arg;
  if (n == 1 && p[0] == '*')
    return true;
  if (n > 2 && p[0] == 'W' && p[1] == '/') {
    p += 2;
    n -= 2;
  }
  return n == strlen(etag) && memcmp(p, etag, n) == 0;
}

bool sg__web_etag_matches(const char *if_none_match, const char *etag) {
  return etag != NULL && any_element(if_none_match, etag_element, etag);
}

void sg__web_asset_respond(sg_http_req_t *req, const sg__web_asset_t *a) {
  bool gz = a->gz_len < a->len &&
            sg__web_accepts_gzip(sg_http_req_header(req, "Accept-Encoding"));
  const char *headers[] = {"ETag",
                           a->etag,
                           "Cache-Control",
                           "no-cache",
                           "Vary",
                           "Accept-Encoding",
                           "Content-Security-Policy",
                           sg__web_csp,
                           "X-Content-Type-Options",
                           "nosniff",
                           "X-Frame-Options",
                           "DENY",
                           "Referrer-Policy",
                           "no-referrer",
                           "Cross-Origin-Opener-Policy",
                           "same-origin",
                           "Cross-Origin-Resource-Policy",
                           "same-origin",
                           "Permissions-Policy",
                           "camera=(), microphone=(), geolocation=()",
                           gz ? "Content-Encoding" : NULL,
                           "gzip",
                           NULL};
  if (sg__web_etag_matches(sg_http_req_header(req, "If-None-Match"), a->etag)) {
    sg_http_respond(req, 304, NULL, NULL, 0, headers);
    return;
  }
  sg_http_respond(req, 200, a->type, gz ? a->gz : a->data,
                  gz ? a->gz_len : a->len, headers);
}
