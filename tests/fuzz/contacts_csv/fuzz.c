/* Fuzz target for the CSV contact mapping (core/contact_csv.h): any bytes,
 * fed whole or split at a point taken from the input, must give the same
 * rows and the same verdict; every valid row has a non-empty number and
 * fields that are a JSON object of strings; line numbers never go back
 * and never pass the file's line count. */
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/contact_csv.h"
#include "core/error.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_IN 8192

typedef struct digest {
  uint64_t h;
  size_t rows, last_line, max_line;
} digest_t;

static void mix(digest_t *d, const char *s) {
  for (; s != NULL && *s; s++)
    d->h = (d->h ^ (uint8_t)*s) * 1099511628211ull;
  d->h = (d->h ^ 0xff) * 1099511628211ull;
}

static void check_fields(const char *text) {
  json_error_t e;
  json_t *o = json_loads(text, 0, &e);
  if (!json_is_object(o))
    abort();
  const char *k;
  json_t *v;
  json_object_foreach(o, k, v) {
    if (!json_is_string(v) || !sg_ccsv_field_name_ok(k))
      abort();
  }
  json_decref(o);
}

static int row_cb(void *data, const sg_ccsv_row_t *r) {
  digest_t *d = data;
  if (r->line < d->last_line || r->line > d->max_line)
    abort();
  d->last_line = r->line;
  d->rows++;
  if (r->reason == NULL) {
    if (r->number == NULL || r->number[0] == '\0' || r->fields == NULL)
      abort();
    check_fields(r->fields);
  }
  mix(d, r->reason ? r->reason : r->number);
  mix(d, r->name);
  mix(d, r->fields);
  return 0;
}

static int run(const uint8_t *data, size_t size, size_t cut, digest_t *d) {
  sg_ccsv_t *p;
  if (sg_ccsv_new(row_cb, d, &p) != 0)
    abort();
  int rc = sg_ccsv_feed(p, data, cut);
  if (rc == 0)
    rc = sg_ccsv_feed(p, data + cut, size - cut);
  if (rc == 0)
    rc = sg_ccsv_finish(p);
  if (rc != 0 && rc != SG_EINVAL)
    abort();
  sg_ccsv_free(p);
  return rc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size > MAX_IN)
    size = MAX_IN;
  size_t lines = 1;
  for (size_t i = 0; i < size; i++)
    lines += data[i] == '\n';
  digest_t a = {14695981039346656037ull, 0, 0, lines};
  digest_t b = a;
  size_t cut = size ? data[0] % (size + 1) : 0;
  int ra = run(data, size, size, &a);
  int rb = run(data, size, cut, &b);
  if (ra != rb || a.h != b.h || a.rows != b.rows)
    abort();
  return 0;
}
