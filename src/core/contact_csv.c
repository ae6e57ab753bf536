/* contact_csv.c - CSV contact files mapped to rows: libcsv does the CSV
 * (quotes, doubled quotes, CRLF), this module the header, the column
 * mapping, the limits and each record's verdict.
 *
 * Input is fed to libcsv one line at a time (split after each LF) so that
 * a record's line number is known when it ends. Memory is bounded: libcsv's
 * entry buffer is checked after every piece, and rows are handed to the
 * callback one by one, never kept. It must never do I/O or check numbers:
 * the caller owns both.
 */
#include "core/contact_csv.h"

#include <csv.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "core/alloc.h"
#include "core/error.h"
#include "core/utf8.h"

typedef struct cell {
  char *p;
  size_t len;
} cell_t;

struct sg_ccsv {
  struct csv_parser csv;
  sg_ccsv_row_cb cb;
  void *data;
  int err; /* sticky */
  char msg[160];
  char column[80];
  bool have_header;
  size_t n_cols; /* header columns */
  int number_col, name_col;
  int skip_col; /* opted_out, written by exports: ignored */
  char *names[SG_CCSV_COLUMNS_MAX];
  cell_t cells[SG_CCSV_COLUMNS_MAX];
  size_t n_cells; /* of the current record */
  bool too_many;  /* the record has more cells than kept */
  bool bad_utf8;
  bool has_nul; /* a NUL octet: a C string would cut the cell */
  size_t line;  /* physical lines fed so far (LFs seen) */
  size_t rows;
  size_t bom; /* octets of a UTF-8 BOM matched at the start */
  bool bom_done;
  char *json; /* the row's fields, reused */
};

bool sg_ccsv_field_name_ok(const char *s) {
  size_t n = strlen(s);
  return n > 0 && n <= 64 &&
         strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                   "0123456789_-") == n;
}

static void *csv_realloc(void *p, size_t n) {
  return sg_realloc(p, n);
}

static void csv_free_fn(void *p) {
  sg_free(p);
}

int sg_ccsv_new(sg_ccsv_row_cb cb, void *data, sg_ccsv_t **out) {
  sg_ccsv_t *p = sg_calloc(1, sizeof *p);
  if (p == NULL)
    return SG_ENOMEM;
  p->json = sg_malloc(SG_CCSV_FIELDS_JSON_MAX + 1);
  if (p->json == NULL ||
      csv_init(&p->csv, CSV_APPEND_NULL | CSV_STRICT_FINI) != 0) {
    sg_free(p->json);
    sg_free(p);
    return SG_ENOMEM;
  }
  csv_set_realloc_func(&p->csv, csv_realloc);
  csv_set_free_func(&p->csv, csv_free_fn);
  p->cb = cb;
  p->data = data;
  p->number_col = p->name_col = p->skip_col = -1;
  *out = p;
  return 0;
}

static void clear_cells(sg_ccsv_t *p) {
  for (size_t i = 0; i < p->n_cells; i++) {
    sg_free(p->cells[i].p);
    p->cells[i].p = NULL;
  }
  p->n_cells = 0;
  p->too_many = false;
  p->bad_utf8 = false;
  p->has_nul = false;
}

void sg_ccsv_free(sg_ccsv_t *p) {
  if (p == NULL)
    return;
  clear_cells(p);
  for (size_t i = 0; i < p->n_cols; i++)
    sg_free(p->names[i]);
  csv_free(&p->csv);
  sg_free(p->json);
  sg_free(p);
}

static int fail(sg_ccsv_t *p, int err, const char *msg, const char *column) {
  if (p->err == 0) {
    p->err = err;
    snprintf(p->msg, sizeof p->msg, "%s", msg);
    snprintf(p->column, sizeof p->column, "%s", column ? column : "");
  }
  return p->err;
}

const char *sg_ccsv_error(const sg_ccsv_t *p, const char **column) {
  if (column != NULL)
    *column = p->column[0] ? p->column : NULL;
  return p->msg;
}

size_t sg_ccsv_rows(const sg_ccsv_t *p) {
  return p->rows;
}

/* Trims ASCII spaces and tabs in place. */
static void trim(cell_t *c) {
  size_t a = 0, b = c->len;
  while (a < b && (c->p[a] == ' ' || c->p[a] == '\t'))
    a++;
  while (b > a && (c->p[b - 1] == ' ' || c->p[b - 1] == '\t'))
    b--;
  memmove(c->p, c->p + a, b - a);
  c->len = b - a;
  c->p[c->len] = '\0';
}

static void field_cb(void *s, size_t len, void *data) {
  sg_ccsv_t *p = data;
  if (p->err != 0)
    return;
  if (p->n_cells == SG_CCSV_COLUMNS_MAX) {
    p->too_many = true;
    return;
  }
  size_t off;
  if (sg_utf8_count(s, len, &off, &off) != 0)
    p->bad_utf8 = true;
  if (len > 0 && memchr(s, '\0', len) != NULL)
    p->has_nul = true;
  cell_t *c = &p->cells[p->n_cells];
  c->p = sg_malloc(len + 1);
  if (c->p == NULL) {
    fail(p, SG_ENOMEM, "out of memory", NULL);
    return;
  }
  memcpy(c->p, s ? s : "", len);
  c->p[len] = '\0';
  c->len = len;
  trim(c);
  p->n_cells++;
}

static int header_column(sg_ccsv_t *p, size_t i) {
  cell_t *c = &p->cells[i];
  for (size_t j = 0; j < i; j++)
    if (strcasecmp(p->names[j], c->p) == 0)
      return fail(p, SG_EINVAL, "the header names a column twice", c->p);
  if (strcasecmp(c->p, "number") == 0)
    p->number_col = (int)i;
  else if (strcasecmp(c->p, "name") == 0)
    p->name_col = (int)i;
  else if (strcasecmp(c->p, "opted_out") == 0)
    p->skip_col = (int)i;
  else if (!sg_ccsv_field_name_ok(c->p))
    return fail(p, SG_EINVAL,
                "a column name must be 1 to 64 letters, digits, _ or -",
                c->p[0] ? c->p : "(empty)");
  p->names[i] = c->p;
  c->p = NULL;
  p->n_cols++;
  return 0;
}

static int take_header(sg_ccsv_t *p) {
  if (p->too_many)
    return fail(p, SG_EINVAL, "the header has more than 64 columns", NULL);
  if (p->bad_utf8 || p->has_nul)
    return fail(p, SG_EINVAL, "the header is not UTF-8 text", NULL);
  for (size_t i = 0; i < p->n_cells && p->err == 0; i++)
    header_column(p, i);
  if (p->err == 0 && p->number_col < 0)
    fail(p, SG_EINVAL, "the header has no number column", "number");
  p->have_header = p->err == 0;
  return p->err;
}

/* Appends "key":"value" with JSON escaping; false when it does not fit. */
static bool json_pair(char *out, size_t *n, const char *k, const cell_t *v) {
  size_t cap = SG_CCSV_FIELDS_JSON_MAX;
  const char *parts[2] = {k, v->p};
  size_t lens[2] = {strlen(k), v->len};
  if (*n > 1 && *n < cap)
    out[(*n)++] = ',';
  for (int s = 0; s < 2; s++) {
    if (*n + 1 >= cap)
      return false;
    out[(*n)++] = '"';
    for (size_t i = 0; i < lens[s]; i++) {
      unsigned char ch = (unsigned char)parts[s][i];
      if (*n + 7 >= cap)
        return false;
      if (ch == '"' || ch == '\\') {
        out[(*n)++] = '\\';
        out[(*n)++] = (char)ch;
      } else if (ch < 0x20) {
        *n += (size_t)snprintf(out + *n, 7, "\\u%04x", ch);
      } else {
        out[(*n)++] = (char)ch;
      }
    }
    out[(*n)++] = '"';
    if (s == 0)
      out[(*n)++] = ':';
  }
  return true;
}

/* The verdict of the current record: NULL when valid. */
static const char *check_row(sg_ccsv_t *p, const char **column, char *buf,
                             size_t cap) {
  *column = NULL;
  if (p->too_many || p->n_cells != p->n_cols) {
    snprintf(buf, cap, "expected %zu columns, found %s%zu", p->n_cols,
             p->too_many ? "more than " : "", p->n_cells);
    return buf;
  }
  if (p->bad_utf8)
    return "the row is not UTF-8";
  if (p->has_nul)
    return "the row holds a NUL octet";
  *column = "number";
  const cell_t *num = &p->cells[p->number_col];
  if (num->len == 0)
    return "the number is empty";
  if (num->len >= SG_CCSV_NUMBER_MAX)
    return "the number is too long";
  *column = "name";
  if (p->name_col >= 0 && p->cells[p->name_col].len > SG_CCSV_NAME_MAX)
    return "the name is longer than 256 octets";
  for (size_t i = 0; i < p->n_cols; i++) {
    *column = p->names[i];
    if ((int)i != p->number_col && (int)i != p->name_col &&
        p->cells[i].len > SG_CCSV_VALUE_MAX)
      return "a field is longer than 1024 octets";
  }
  *column = NULL;
  return NULL;
}

static const char *build_fields(sg_ccsv_t *p) {
  size_t n = 0;
  p->json[n++] = '{';
  for (size_t i = 0; i < p->n_cols; i++) {
    if ((int)i == p->number_col || (int)i == p->name_col ||
        (int)i == p->skip_col || p->cells[i].len == 0)
      continue;
    if (!json_pair(p->json, &n, p->names[i], &p->cells[i]))
      return NULL;
  }
  p->json[n++] = '}';
  p->json[n] = '\0';
  return p->json;
}

static int deliver(sg_ccsv_t *p) {
  char buf[64];
  sg_ccsv_row_t row = {.line = p->line + 1};
  row.reason = check_row(p, &row.column, buf, sizeof buf);
  if (row.reason == NULL) {
    row.fields = build_fields(p);
    if (row.fields == NULL)
      row.reason = "the fields are longer than 8192 octets as JSON";
  }
  if (row.reason == NULL) {
    row.number = p->cells[p->number_col].p;
    if (p->name_col >= 0 && p->cells[p->name_col].len > 0)
      row.name = p->cells[p->name_col].p;
  }
  p->rows++;
  int rc = p->cb(p->data, &row);
  return rc < 0 ? fail(p, rc, "stopped", NULL) : 0;
}

static void record_cb(int c, void *data) {
  sg_ccsv_t *p = data;
  if (p->err == 0) {
    if (!p->have_header)
      take_header(p);
    else
      deliver(p);
  }
  clear_cells(p);
}

static int feed_piece(sg_ccsv_t *p, const uint8_t *s, size_t n) {
  if (csv_parse(&p->csv, s, n, field_cb, record_cb, p) != n)
    return fail(p, csv_error(&p->csv) == CSV_ENOMEM ? SG_ENOMEM : SG_EINVAL,
                "the file is not CSV", NULL);
  if (p->csv.entry_pos > SG_CCSV_FIELD_MAX)
    return fail(p, SG_EINVAL, "a field is longer than 64 KiB", NULL);
  return p->err;
}

/* Skips a UTF-8 byte order mark at the start of the file, also when it
 * arrives split; octets that only looked like its start are fed back. */
static size_t skip_bom(sg_ccsv_t *p, const uint8_t *buf, size_t len) {
  static const uint8_t bom[3] = {0xEF, 0xBB, 0xBF};
  size_t i = 0;
  while (i < len && p->bom < 3 && buf[i] == bom[p->bom]) {
    i++;
    p->bom++;
  }
  if (p->bom == 3 || i < len) {
    p->bom_done = true;
    if (p->bom < 3 && p->bom > 0)
      feed_piece(p, bom, p->bom);
  }
  return i;
}

int sg_ccsv_feed(sg_ccsv_t *p, const uint8_t *buf, size_t len) {
  if (!p->bom_done) {
    size_t k = skip_bom(p, buf, len);
    buf += k;
    len -= k;
  }
  while (len > 0 && p->err == 0) {
    const uint8_t *lf = memchr(buf, '\n', len);
    size_t n = lf ? (size_t)(lf - buf) + 1 : len;
    feed_piece(p, buf, n);
    if (lf != NULL)
      p->line++;
    buf += n;
    len -= n;
  }
  return p->err;
}

int sg_ccsv_finish(sg_ccsv_t *p) {
  if (!p->bom_done && p->bom > 0 && p->bom < 3 && p->err == 0)
    feed_piece(p, (const uint8_t *)"\xEF\xBB", p->bom);
  if (p->err != 0)
    return p->err;
  /* libcsv's state 2 (FIELD_BEGUN) with `quoted`: inside open quotes. */
  bool open_quote = p->csv.quoted && p->csv.pstate == 2;
  if (open_quote || csv_fini(&p->csv, field_cb, record_cb, p) != 0)
    return fail(p, SG_EINVAL, "a quoted field is not closed", NULL);
  if (p->err == 0 && !p->have_header)
    return fail(p, SG_EINVAL, "the file has no header", "number");
  return p->err;
}
