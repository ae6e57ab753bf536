/* config_read.c - the walk of a YAML tree into sg_config_t by the key
 * tables of config_schema.c.
 *
 * For each mapping: defaults first (the section's init), then every key:
 * unknown keys (with a "did you mean"), non-string keys and duplicates are
 * errors, every value is read by its type and range, then required keys
 * and the section's own checks. Errors are reported where they are and the
 * walk goes on with the next key. A value of a secret key is never put
 * into a message. The walk recurses only along the tables (a handful of
 * levels), never along the input's own nesting.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "core/config_int.h"
#include "core/error.h"

static void read_map(sg__cfg_ctx_t *c, const sg__cfg_section_t *sec, void *obj,
                     const sg__cfg_node_t *map);

/* ---- Messages ----------------------------------------------------------- */

/* "90s", "5m", "1d": the largest unit that divides ms evenly. */
static void fmt_duration(uint64_t ms, char *buf, size_t cap) {
  static const struct {
    uint64_t ms;
    const char *unit;
  } units[] = {{86400000, "d"}, {3600000, "h"}, {60000, "m"}, {1000, "s"}};
  for (size_t i = 0; ms != 0 && i < sizeof units / sizeof units[0]; i++) {
    if (ms % units[i].ms == 0) {
      snprintf(buf, cap, "%" PRIu64 "%s", ms / units[i].ms, units[i].unit);
      return;
    }
  }
  snprintf(buf, cap, "%" PRIu64 "%s", ms, ms == 0 ? "" : "ms");
}

static void fmt_size(uint64_t b, char *buf, size_t cap) {
  static const char *const units[] = {"GB", "MB", "KB"};
  for (int i = 0; b != 0 && i < 3; i++) {
    uint64_t m = UINT64_C(1) << (10 * (3 - i));
    if (b % m == 0) {
      snprintf(buf, cap, "%" PRIu64 "%s", b / m, units[i]);
      return;
    }
  }
  snprintf(buf, cap, "%" PRIu64 "B", b);
}

static void enum_names(const sg__cfg_enum_t *e, char *buf, size_t cap) {
  size_t o = 0;
  buf[0] = '\0';
  for (; e->name != NULL && o < cap; e++) {
    int n = snprintf(buf + o, cap - o, "%s%s", o ? ", " : "", e->name);
    if (n < 0)
      break;
    o += (size_t)n;
  }
}

/* What a value of field f must look like, for "expected ..., got ...". */
static void expectation(const sg__cfg_field_t *f, char *buf, size_t cap) {
  char lo[32], hi[32], names[160];
  switch (f->type) {
  case SG__CFG_T_NAME:
    snprintf(buf, cap, "a name of 1-64 letters, digits, '_', '.' or '-'");
    return;
  case SG__CFG_T_HOST:
    snprintf(buf, cap, "a host name or IP address");
    return;
  case SG__CFG_T_URL:
    snprintf(buf, cap, "an http:// or https:// URL");
    return;
  case SG__CFG_T_PREFIX:
    snprintf(buf, cap, "\"+\" and up to 15 digits (like +7 or +7900)");
    return;
  case SG__CFG_T_REGION:
    snprintf(buf, cap,
             "an ISO 3166 two-letter region code in upper case, "
             "like RU");
    return;
  case SG__CFG_T_UINT:
  case SG__CFG_T_UINTLIST:
    snprintf(buf, cap, "an integer %" PRIu64 "-%" PRIu64, f->min, f->max);
    return;
  case SG__CFG_T_PORT:
    snprintf(buf, cap, "an integer 1-65535");
    return;
  case SG__CFG_T_BOOL:
    snprintf(buf, cap, "true or false");
    return;
  case SG__CFG_T_DURATION:
    fmt_duration(f->min, lo, sizeof lo);
    fmt_duration(f->max, hi, sizeof hi);
    snprintf(buf, cap, "a duration %s-%s (like 500ms, 30s, 5m)", lo, hi);
    return;
  case SG__CFG_T_SIZE:
    fmt_size(f->min, lo, sizeof lo);
    fmt_size(f->max, hi, sizeof hi);
    snprintf(buf, cap, "a size %s-%s (like 64KB, 1MB)", lo, hi);
    return;
  case SG__CFG_T_LISTEN:
    snprintf(buf, cap, "host:port or [IPv6]:port, like 127.0.0.1:8080");
    return;
  case SG__CFG_T_ENUM:
    enum_names(f->enums, names, sizeof names);
    snprintf(buf, cap, "one of %s", names);
    return;
  case SG__CFG_T_TON:
    snprintf(buf, cap, "auto or an integer 0-6");
    return;
  case SG__CFG_T_NPI:
    snprintf(buf, cap, "auto or one of 0, 1, 3, 4, 6, 8, 9, 10, 14, 18");
    return;
  case SG__CFG_T_STRLIST:
    snprintf(buf, cap, "a list of strings");
    return;
  case SG__CFG_T_MAP:
    snprintf(buf, cap, "a mapping");
    return;
  case SG__CFG_T_MAPLIST:
    snprintf(buf, cap, "a list of mappings");
    return;
  case SG__CFG_T_CUSTOM:
    snprintf(buf, cap, "a mapping");
    return;
  case SG__CFG_T_PRICES:
    snprintf(buf, cap, "a mapping of prefixes to prices, e.g. {\"+7\": 0.02}");
    return;
  case SG__CFG_T_STR:
  default:
    snprintf(buf, cap, "a string");
    return;
  }
}

/* Reports "expected <what f takes>, got <v>" at v, then `extra`. */
static void expected(sg__cfg_ctx_t *c, const sg__cfg_field_t *f,
                     const sg__cfg_node_t *v, const char *extra) {
  char want[200], got[200];
  if (!sg__cfg_error_wanted(c)) {
    sg__cfg_error(c, v, "invalid value");
    return;
  }
  expectation(f, want, sizeof want);
  sg__cfg_describe(v, (f->flags & SG__CFG_F_SECRET) != 0, got, sizeof got);
  sg__cfg_error(c, v, "expected %s, got %s%s", want, got, extra ? extra : "");
}

/* ---- Scalars ------------------------------------------------------------ */

static bool is_scalar(const sg__cfg_node_t *v) {
  return v->kind == SG__CFG_SCALAR && !sg__cfg_is_null(v);
}

/* Checks the text of a string value against f's flags and length range.
 * Reports and returns false when it does not pass. */
static bool string_ok(sg__cfg_ctx_t *c, const sg__cfg_field_t *f,
                      const sg__cfg_node_t *v) {
  bool ascii = (f->flags & SG__CFG_F_ASCII) != 0;
  if (memchr(v->str, '\0', v->len) != NULL) {
    sg__cfg_error(c, v, "must not contain NUL characters");
    return false;
  }
  if (ascii && !sg__cfg_printable_ascii(v->str, v->len)) {
    sg__cfg_error(c, v, "must be printable ASCII characters only");
    return false;
  }
  if (v->len < f->min) {
    sg__cfg_error(c, v, "must not be empty");
    return false;
  }
  if (v->len > f->max) {
    sg__cfg_error(c, v, "too long: %zu %s, at most %" PRIu64, v->len,
                  ascii ? "characters" : "bytes", f->max);
    return false;
  }
  return true;
}

static bool is_url(const char *s, size_t len) {
  size_t skip = 0;
  if (len >= 7 && strncmp(s, "http://", 7) == 0)
    skip = 7;
  else if (len >= 8 && strncmp(s, "https://", 8) == 0)
    skip = 8;
  if (skip == 0 || len == skip || s[skip] == '/')
    return false;
  return sg__cfg_printable_ascii(s, len) && memchr(s, ' ', len) == NULL;
}

static bool is_prefix(const char *s, size_t len) {
  if (len < 1 || len > 16 || s[0] != '+')
    return false;
  for (size_t i = 1; i < len; i++)
    if (s[i] < '0' || s[i] > '9')
      return false;
  return true;
}

static bool is_region(const char *s, size_t len) {
  return len == 2 && s[0] >= 'A' && s[0] <= 'Z' && s[1] >= 'A' && s[1] <= 'Z';
}

/* Reads a string-typed value (STR, NAME, HOST, URL, PREFIX) into a
 * const char * in the config's arena. */
static void read_string(sg__cfg_ctx_t *c, const sg__cfg_field_t *f,
                        const sg__cfg_node_t *v, const char **out) {
  if (!is_scalar(v)) {
    expected(c, f, v, NULL);
    return;
  }
  bool ok = true;
  if (f->type == SG__CFG_T_NAME)
    ok = sg__cfg_valid_name(v->str, v->len);
  else if (f->type == SG__CFG_T_HOST)
    ok = sg__cfg_valid_host(v->str, v->len);
  else if (f->type == SG__CFG_T_URL)
    ok = is_url(v->str, v->len);
  else if (f->type == SG__CFG_T_PREFIX)
    ok = is_prefix(v->str, v->len);
  if (!ok) {
    expected(c, f, v, NULL);
    return;
  }
  if (!string_ok(c, f, v))
    return;
  char *s = sg__cfg_strndup(c->arena, v->str, v->len);
  if (s == NULL)
    sg__cfg_oom(c);
  else
    *out = s;
}

static void read_uint(sg__cfg_ctx_t *c, const sg__cfg_field_t *f,
                      const sg__cfg_node_t *v, uint32_t *out) {
  int64_t n;
  if (!is_scalar(v) || sg__cfg_parse_int(v->str, v->len, &n) != 0 || n < 0 ||
      (uint64_t)n < f->min || (uint64_t)n > f->max) {
    expected(c, f, v, NULL);
    return;
  }
  *out = (uint32_t)n;
}

static void read_bool(sg__cfg_ctx_t *c, const sg__cfg_field_t *f,
                      const sg__cfg_node_t *v, bool *out) {
  if (!is_scalar(v) || sg__cfg_parse_bool(v->str, v->len, out) != 0) {
    static const char *const yaml11[] = {"yes", "no", "on", "off", "y", "n"};
    bool old = false;
    for (size_t i = 0; is_scalar(v) && i < 6; i++)
      old = old || (v->len == strlen(yaml11[i]) &&
                    strncasecmp(v->str, yaml11[i], v->len) == 0);
    expected(c, f, v, old ? " (YAML 1.1 booleans are not read)" : NULL);
  }
}

static void read_duration(sg__cfg_ctx_t *c, const sg__cfg_field_t *f,
                          const sg__cfg_node_t *v, uint32_t *out) {
  uint64_t ms;
  if (!is_scalar(v) || sg__cfg_parse_duration(v->str, v->len, &ms) != 0 ||
      ms < f->min || ms > f->max) {
    expected(c, f, v, NULL);
    return;
  }
  *out = (uint32_t)ms;
}

static void read_size(sg__cfg_ctx_t *c, const sg__cfg_field_t *f,
                      const sg__cfg_node_t *v, uint64_t *out) {
  uint64_t b;
  if (!is_scalar(v) || sg__cfg_parse_size(v->str, v->len, &b) != 0 ||
      b < f->min || b > f->max) {
    expected(c, f, v, NULL);
    return;
  }
  *out = b;
}

static void read_listen(sg__cfg_ctx_t *c, const sg__cfg_field_t *f,
                        const sg__cfg_node_t *v, sg_config_listen_t *out) {
  size_t off, len;
  long port = 0;
  int rc = is_scalar(v)
               ? sg__cfg_parse_listen(v->str, v->len, &off, &len, &port)
               : SG_EINVAL;
  if (rc == SG_ERANGE) {
    sg__cfg_error(c, v, "port %ld is out of range 1-65535", port);
    return;
  }
  if (rc != 0) {
    expected(c, f, v, NULL);
    return;
  }
  char *host = sg__cfg_strndup(c->arena, v->str + off, len);
  if (host == NULL) {
    sg__cfg_oom(c);
    return;
  }
  out->host = host;
  out->port = (uint16_t)port;
}

static void read_enum(sg__cfg_ctx_t *c, const sg__cfg_field_t *f,
                      const sg__cfg_node_t *v, int *out) {
  const char *names[16];
  size_t n = 0;
  for (const sg__cfg_enum_t *e = f->enums; e->name != NULL && n < 16; e++) {
    if (is_scalar(v) && v->len == strlen(e->name) &&
        memcmp(v->str, e->name, v->len) == 0) {
      *out = e->value;
      return;
    }
    names[n++] = e->name;
  }
  char extra[64] = "";
  const char *s = is_scalar(v) && sg__cfg_error_wanted(c)
                      ? sg__cfg_suggest(v->str, v->len, names, n)
                      : NULL;
  if (s != NULL)
    snprintf(extra, sizeof extra, "; did you mean \"%s\"?", s);
  expected(c, f, v, extra);
}

/* SMPP 3.4 section 5.2.5 (type_of_number) and 5.2.6 (numbering plan). */
static void read_ton_npi(sg__cfg_ctx_t *c, const sg__cfg_field_t *f,
                         const sg__cfg_node_t *v, int *out) {
  static const int npis[] = {0, 1, 3, 4, 6, 8, 9, 10, 14, 18};
  int64_t n;
  if (is_scalar(v) && v->len == 4 && memcmp(v->str, "auto", 4) == 0) {
    *out = SG_CONFIG_TON_AUTO;
    return;
  }
  bool ok = is_scalar(v) && sg__cfg_parse_int(v->str, v->len, &n) == 0;
  if (ok && f->type == SG__CFG_T_TON) {
    ok = n >= 0 && n <= 6;
  } else if (ok) {
    bool found = false;
    for (size_t i = 0; i < sizeof npis / sizeof npis[0]; i++)
      found = found || n == npis[i];
    ok = found;
  }
  if (!ok) {
    expected(c, f, v, NULL);
    return;
  }
  *out = (int)n;
}

/* ---- Lists -------------------------------------------------------------- */

/* Allocates n elements of size bytes in the config's arena (NULL for 0). */
static void *alloc_array(sg__cfg_ctx_t *c, size_t n, size_t size) {
  if (n == 0)
    return NULL;
  void *p = n > SIZE_MAX / size ? NULL : sg__cfg_alloc(c->arena, n * size);
  if (p == NULL)
    sg__cfg_oom(c);
  return p;
}

static void set_count(const sg__cfg_field_t *f, void *obj, size_t n) {
  if (f->count_off != SG__CFG_NO_COUNT)
    memcpy((char *)obj + f->count_off, &n, sizeof n);
}

static void read_strlist(sg__cfg_ctx_t *c, const sg__cfg_field_t *f, void *obj,
                         const sg__cfg_node_t *v) {
  if (v->kind != SG__CFG_SEQ) {
    expected(c, f, v, NULL);
    return;
  }
  const char **arr = alloc_array(c, v->n, sizeof *arr);
  if (v->n > 0 && arr == NULL)
    return;
  sg__cfg_field_t item = *f;
  item.type = SG__CFG_T_STR;
  size_t i = 0;
  for (const sg__cfg_node_t *it = v->first; it != NULL; it = it->next, i++) {
    arr[i] = "";
    if (!it->reported)
      read_string(c, &item, it, &arr[i]);
  }
  memcpy((char *)obj + f->off, &arr, sizeof arr);
  set_count(f, obj, v->n);
}

static void read_uintlist(sg__cfg_ctx_t *c, const sg__cfg_field_t *f, void *obj,
                          const sg__cfg_node_t *v) {
  if (v->kind != SG__CFG_SEQ) {
    expected(c, f, v, NULL);
    return;
  }
  uint32_t *arr = alloc_array(c, v->n, sizeof *arr);
  if (v->n > 0 && arr == NULL)
    return;
  size_t i = 0;
  for (const sg__cfg_node_t *it = v->first; it != NULL; it = it->next, i++)
    if (!it->reported)
      read_uint(c, f, it, &arr[i]);
  memcpy((char *)obj + f->off, &arr, sizeof arr);
  set_count(f, obj, v->n);
}

static void read_maplist(sg__cfg_ctx_t *c, const sg__cfg_field_t *f, void *obj,
                         const sg__cfg_node_t *v) {
  const sg__cfg_section_t *sec = f->sub;
  if (v->kind != SG__CFG_SEQ) {
    expected(c, f, v, NULL);
    return;
  }
  char *arr = alloc_array(c, v->n, sec->size);
  if (v->n > 0 && arr == NULL)
    return;
  size_t i = 0;
  for (const sg__cfg_node_t *it = v->first; it != NULL && !c->oom;
       it = it->next, i++) {
    void *elem = arr + i * sec->size;
    if (sec->init != NULL)
      sec->init(elem);
    if (it->reported)
      continue;
    if (it->kind != SG__CFG_MAP) {
      char got[200];
      sg__cfg_describe(it, false, got, sizeof got);
      sg__cfg_error(c, it, "expected a mapping, got %s", got);
    } else
      read_map(c, sec, elem, it);
  }
  memcpy((char *)obj + f->off, &arr, sizeof arr);
  set_count(f, obj, v->n);
}

/* ---- Fields and mappings ------------------------------------------------ */

/* A null value: lists and mappings are as if absent, nullable keys are
 * unset, the rest is an error. */
static void read_null(sg__cfg_ctx_t *c, const sg__cfg_field_t *f, void *p,
                      const sg__cfg_node_t *v) {
  switch (f->type) {
  case SG__CFG_T_MAP:
  case SG__CFG_T_MAPLIST:
  case SG__CFG_T_STRLIST:
  case SG__CFG_T_UINTLIST:
    if (f->type != SG__CFG_T_MAP && (f->flags & SG__CFG_F_REQUIRED))
      expected(c, f, v, NULL);
    return;
  default:
    break;
  }
  if (!(f->flags & SG__CFG_F_NULLABLE)) {
    expected(c, f, v, NULL);
  } else if (f->type == SG__CFG_T_REGION) {
    ((char *)p)[0] = '\0';
  } else if (f->type == SG__CFG_T_LISTEN) {
    ((sg_config_listen_t *)p)->host = NULL;
    ((sg_config_listen_t *)p)->port = 0;
  } else {
    const char *none = NULL;
    memcpy(p, &none, sizeof none);
  }
}

static void read_field(sg__cfg_ctx_t *c, const sg__cfg_field_t *f, void *obj,
                       const sg__cfg_node_t *v) {
  void *p = (char *)obj + f->off;
  if (sg__cfg_is_null(v)) {
    read_null(c, f, p, v);
    return;
  }
  switch (f->type) {
  case SG__CFG_T_STR:
  case SG__CFG_T_NAME:
  case SG__CFG_T_HOST:
  case SG__CFG_T_URL:
  case SG__CFG_T_PREFIX:
    read_string(c, f, v, (const char **)p);
    return;
  case SG__CFG_T_REGION:
    if (!is_scalar(v) || !is_region(v->str, v->len))
      expected(c, f, v, NULL);
    else
      memcpy(p, v->str, 3); /* two letters and the NUL */
    return;
  case SG__CFG_T_UINT:
    read_uint(c, f, v, p);
    return;
  case SG__CFG_T_PORT: {
    uint32_t port = 0;
    sg__cfg_field_t pf = *f;
    pf.type = SG__CFG_T_UINT;
    pf.min = 1;
    pf.max = 65535;
    read_uint(c, &pf, v, &port);
    if (port != 0)
      *(uint16_t *)p = (uint16_t)port;
    return;
  }
  case SG__CFG_T_BOOL:
    read_bool(c, f, v, p);
    return;
  case SG__CFG_T_DURATION:
    read_duration(c, f, v, p);
    return;
  case SG__CFG_T_SIZE:
    read_size(c, f, v, p);
    return;
  case SG__CFG_T_LISTEN:
    read_listen(c, f, v, p);
    return;
  case SG__CFG_T_ENUM:
    read_enum(c, f, v, p);
    return;
  case SG__CFG_T_TON:
  case SG__CFG_T_NPI:
    read_ton_npi(c, f, v, p);
    return;
  case SG__CFG_T_STRLIST:
    read_strlist(c, f, obj, v);
    return;
  case SG__CFG_T_UINTLIST:
    read_uintlist(c, f, obj, v);
    return;
  case SG__CFG_T_MAP:
    if (v->kind != SG__CFG_MAP)
      expected(c, f, v, NULL);
    else
      read_map(c, f->sub, p, v);
    return;
  case SG__CFG_T_MAPLIST:
    read_maplist(c, f, obj, v);
    return;
  case SG__CFG_T_CUSTOM:
    f->sub->check(c, p, v);
    return;
  case SG__CFG_T_PRICES:
    sg__cfg_read_prices(c, f, obj, v);
    return;
  }
}

/* "unknown key; did you mean "port"?" or the list of known keys. */
static void unknown_key(sg__cfg_ctx_t *c, const sg__cfg_section_t *sec,
                        const sg__cfg_node_t *key) {
  const char *names[SG__CFG_FIELDS_MAX];
  char known[200];
  size_t o = 0;
  if (!sg__cfg_error_wanted(c)) {
    sg__cfg_error(c, key, "unknown key");
    return;
  }
  for (size_t i = 0; i < sec->n_fields; i++)
    names[i] = sec->fields[i].key;
  const char *s = sg__cfg_suggest(key->str, key->len, names, sec->n_fields);
  if (s != NULL) {
    sg__cfg_error(c, key, "unknown key; did you mean \"%s\"?", s);
    return;
  }
  known[0] = '\0';
  for (size_t i = 0; i < sec->n_fields && o + 40 < sizeof known; i++)
    o += (size_t)snprintf(known + o, sizeof known - o, "%s%s", i ? ", " : "",
                          names[i]);
  if (o + 40 >= sizeof known)
    snprintf(known + o, sizeof known - o, ", ...");
  sg__cfg_error(c, key, "unknown key (known keys: %s)", known);
}

/* The index of the field a key names, or -1 (reported). */
static int find_field(sg__cfg_ctx_t *c, const sg__cfg_section_t *sec,
                      const sg__cfg_node_t *key) {
  if (key->kind != SG__CFG_SCALAR) {
    sg__cfg_error(c, key, "a key must be a plain string, not %s",
                  key->kind == SG__CFG_MAP ? "a mapping" : "a sequence");
    return -1;
  }
  if (key->len == 2 && memcmp(key->str, "<<", 2) == 0) {
    sg__cfg_error(c, key,
                  "YAML merge keys (<<) are not supported; write "
                  "the keys out in full");
    return -1;
  }
  for (size_t i = 0; i < sec->n_fields; i++)
    if (key->len == strlen(sec->fields[i].key) &&
        memcmp(key->str, sec->fields[i].key, key->len) == 0)
      return (int)i;
  unknown_key(c, sec, key);
  return -1;
}

static void read_map(sg__cfg_ctx_t *c, const sg__cfg_section_t *sec, void *obj,
                     const sg__cfg_node_t *map) {
  const sg__cfg_node_t *seen[SG__CFG_FIELDS_MAX] = {NULL};
  if (sec->init != NULL)
    sec->init(obj);
  for (const sg__cfg_node_t *k = map->first; k != NULL && !c->oom;
       k = k->next) {
    int i = k->reported ? -1 : find_field(c, sec, k);
    if (i < 0)
      continue;
    if (seen[i] != NULL) {
      sg__cfg_error(c, k, "duplicate key; the first is at %u:%u", seen[i]->line,
                    seen[i]->col);
      continue;
    }
    seen[i] = k;
    if (k->value != NULL && !k->value->reported)
      read_field(c, &sec->fields[i], obj, k->value);
  }
  for (size_t i = 0; i < sec->n_fields && !c->oom; i++)
    if (seen[i] == NULL && (sec->fields[i].flags & SG__CFG_F_REQUIRED))
      sg__cfg_error(c, map, "missing required key \"%s\"", sec->fields[i].key);
  if (sec->check != NULL && !c->oom)
    sec->check(c, obj, map);
}

void sg__cfg_read(sg__cfg_ctx_t *c, const sg__cfg_node_t *root) {
  sg__cfg_init_config(c->cfg);
  if (root == NULL || sg__cfg_is_null(root)) {
    sg__cfg_check_root(c, c->cfg, NULL);
    return;
  }
  if (root->kind != SG__CFG_MAP) {
    char got[64];
    sg__cfg_describe(root, false, got, sizeof got);
    sg__cfg_error(c, root,
                  "the configuration must be a mapping of sections (store, "
                  "http, connectors, ...), got %s",
                  got);
    return;
  }
  read_map(c, &sg__cfg_root_section, c->cfg, root);
}
