/* config.c - loading smsgate's configuration: the public entry points, the
 * built-in default document, the arena that owns a loaded configuration,
 * and the error list.
 *
 * A load reads the YAML into a tree (config_yaml.c), walks the tree into
 * sg_config_t by the key tables (config_schema.c) and runs the checks
 * (config_check.c); the tree is freed before returning. The default is a
 * YAML text read through the very same path, so it can never drift from
 * what a file may say. This module never logs, never exits and never puts
 * a secret into an error: sg_config_errors_t is the only output besides the
 * configuration.
 */
#include "core/config.h"

#include <errno.h>
#include <stdalign.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "core/config_int.h"
#include "core/error.h"

/* ---- The built-in default ----------------------------------------------- */

static const char default_yaml[] =
    "# smsgate's built-in configuration, used when `smsgate serve` is run\n"
    "# without -c. Every key is described in docs/configuration.md.\n"
    "store: {driver: sqlite, path: ./data/smsgate.db}\n"
    "http: {listen: 127.0.0.1:8080}\n"
    "simulator: {listen: 127.0.0.1:2776}\n"
    "accounts:\n"
    "  - {name: demo, api_key: demo-key, webhook_secret: demo-secret,\n"
    "     callback_url: null, default_region: RU,\n"
    "     smpp: {system_id: demo, password: demo-pw}}\n"
    "  - {name: admin, api_key: admin-key, admin: true}\n"
    "connectors:\n"
    "  - {name: operator, type: smpp, host: 127.0.0.1, port: 2776,\n"
    "     system_id: smsgate, password: secret, binds: 1, window: 64,\n"
    "     tps: 0, tls: false}\n"
    "routes:\n"
    "  - {prefix: \"+\", connectors: [operator]}\n"
    "webhooks: {allow_private_networks: false}\n"
    "smpp_server: {listen: 127.0.0.1:2775}\n"
    "log: {level: info, format: text}\n";

const char *sg_config_default_yaml(void) {
  return default_yaml;
}

/* ---- Arena -------------------------------------------------------------- */

struct sg__cfg_arena {
  struct sg__cfg_arena *next; /* the block allocated before this one */
  size_t used, cap;
  alignas(max_align_t) unsigned char data[];
};

#define ARENA_BLOCK 8192u

void *sg__cfg_alloc(sg__cfg_arena_t **a, size_t size) {
  const size_t align = alignof(max_align_t);
  if (size > SIZE_MAX / 2)
    return NULL;
  size = size == 0 ? align : (size + align - 1) / align * align;
  sg__cfg_arena_t *h = *a;
  if (h == NULL || h->cap - h->used < size) {
    size_t cap = size > ARENA_BLOCK ? size : ARENA_BLOCK;
    sg__cfg_arena_t *nb = sg_malloc(sizeof *nb + cap);
    if (nb == NULL)
      return NULL;
    nb->next = h;
    nb->used = 0;
    nb->cap = cap;
    *a = h = nb;
  }
  void *p = h->data + h->used;
  h->used += size;
  memset(p, 0, size);
  return p;
}

char *sg__cfg_strndup(sg__cfg_arena_t **a, const char *s, size_t n) {
  if (n == SIZE_MAX)
    return NULL;
  char *d = sg__cfg_alloc(a, n + 1);
  if (d != NULL) {
    if (n > 0)
      memcpy(d, s, n);
    d[n] = '\0';
  }
  return d;
}

void sg__cfg_arena_free(sg__cfg_arena_t *a) {
  while (a != NULL) {
    sg__cfg_arena_t *next = a->next;
    sg_free(a);
    a = next;
  }
}

/* ---- Errors ------------------------------------------------------------- */

static void errors_reset(sg_config_errors_t *errs, const char *name) {
  if (errs == NULL)
    return;
  errs->count = 0;
  errs->total = 0;
  snprintf(errs->file, sizeof errs->file, "%s", name);
}

bool sg__cfg_error_wanted(const sg__cfg_ctx_t *c) {
  return c->errs != NULL && c->errs->count < SG_CONFIG_ERRORS_MAX;
}

static void error_v(sg__cfg_ctx_t *c, unsigned line, unsigned col,
                    const char *key, const char *fmt, va_list ap) {
  c->n_errors++;
  if (c->errs == NULL)
    return;
  c->errs->total++;
  if (c->errs->count >= SG_CONFIG_ERRORS_MAX)
    return;
  sg_config_error_t *e = &c->errs->items[c->errs->count++];
  e->line = line;
  e->column = line != 0 ? col : 0;
  snprintf(e->key, sizeof e->key, "%s", key != NULL ? key : "");
  vsnprintf(e->message, sizeof e->message, fmt, ap);
}

void sg__cfg_error_at(sg__cfg_ctx_t *c, unsigned line, unsigned col,
                      const char *key, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  error_v(c, line, col, key, fmt, ap);
  va_end(ap);
}

void sg__cfg_error(sg__cfg_ctx_t *c, const sg__cfg_node_t *at, const char *fmt,
                   ...) {
  char key[SG_CONFIG_KEY_MAX] = "";
  va_list ap;
  /* Marks the node, so that checks on other keys can tell that a value
   * they depend on was refused (the tree is the loader's own, writable). */
  if (at != NULL)
    ((sg__cfg_node_t *)at)->reported = true;
  if (at != NULL && sg__cfg_error_wanted(c))
    sg__cfg_node_path(at, key, sizeof key);
  va_start(ap, fmt);
  error_v(c, at != NULL ? at->line : 0, at != NULL ? at->col : 0, key, fmt, ap);
  va_end(ap);
}

void sg__cfg_oom(sg__cfg_ctx_t *c) {
  if (c->oom)
    return;
  c->oom = true;
  sg__cfg_error_at(c, 0, 0, "", "out of memory");
}

/* Orders the kept errors by position (a stable insertion sort: the list is
 * short and mostly in order already); errors without one go first. */
static void errors_sort(sg_config_errors_t *errs) {
  if (errs == NULL)
    return;
  for (size_t i = 1; i < errs->count; i++) {
    sg_config_error_t tmp = errs->items[i];
    size_t j = i;
    while (j > 0 && (errs->items[j - 1].line > tmp.line ||
                     (errs->items[j - 1].line == tmp.line &&
                      errs->items[j - 1].column > tmp.column))) {
      errs->items[j] = errs->items[j - 1];
      j--;
    }
    errs->items[j] = tmp;
  }
}

int sg_config_error_format(const sg_config_errors_t *errs, size_t i, char *buf,
                           size_t cap) {
  if (errs == NULL || i >= errs->count)
    return SG_EINVAL;
  const sg_config_error_t *e = &errs->items[i];
  char pos[32] = "";
  if (e->line != 0)
    snprintf(pos, sizeof pos, ":%u:%u", e->line, e->column);
  return snprintf(buf, cap, "%s%s: %s%s%s", errs->file, pos, e->key,
                  e->key[0] != '\0' ? ": " : "", e->message);
}

void sg_config_errors_print(const sg_config_errors_t *errs, FILE *f) {
  char
      line[SG_CONFIG_NAME_MAX + SG_CONFIG_KEY_MAX + SG_CONFIG_MESSAGE_MAX + 40];
  if (errs == NULL)
    return;
  for (size_t i = 0; i < errs->count; i++) {
    sg_config_error_format(errs, i, line, sizeof line);
    fprintf(f, "%s\n", line);
  }
  if (errs->total > errs->count)
    fprintf(f, "%s: ... and %zu more error%s\n", errs->file,
            errs->total - errs->count,
            errs->total - errs->count == 1 ? "" : "s");
}

/* ---- Loading ------------------------------------------------------------ */

void sg_config_free(sg_config_t *cfg) {
  if (cfg == NULL)
    return;
  sg__cfg_arena_free(cfg->arena);
  sg_free(cfg);
}

static int load(const char *name, const char *text, size_t len,
                sg_config_t **out, sg_config_errors_t *errs) {
  sg__cfg_ctx_t c = {.errs = errs};
  sg__cfg_arena_t *tree = NULL;
  sg__cfg_node_t *root = NULL;
  sg_config_t *cfg = sg_calloc(1, sizeof *cfg);
  if (cfg == NULL) {
    sg__cfg_oom(&c);
    return SG_ENOMEM;
  }
  c.cfg = cfg;
  c.arena = &cfg->arena;
  cfg->source = sg__cfg_strndup(&cfg->arena, name, strlen(name));
  if (cfg->source == NULL)
    sg__cfg_oom(&c);
  int rc = c.oom ? SG_ENOMEM
                 : sg__cfg_parse_yaml(&c, &tree, len ? text : "", len, &root);
  if (rc == 0)
    sg__cfg_read(&c, root);
  sg__cfg_arena_free(tree);
  if (rc == 0 && (c.oom || c.n_errors > 0))
    rc = c.oom ? SG_ENOMEM : SG_ECONFIG;
  errors_sort(errs);
  if (rc != 0) {
    sg_config_free(cfg);
    return rc;
  }
  *out = cfg;
  return 0;
}

int sg_config_load_string(const char *name, const char *text, size_t len,
                          sg_config_t **out, sg_config_errors_t *errs) {
  if (name == NULL)
    name = "<string>";
  errors_reset(errs, name);
  if (out == NULL || (text == NULL && len > 0))
    return SG_EINVAL;
  *out = NULL;
  return load(name, text, len, out, errs);
}

/* Reads the rest of f into a buffer that grows (up to SG_CONFIG_FILE_MAX
 * + 1 octets, to tell a file that is too large). 0, SG_ENOMEM or SG_EIO
 * with errno kept. */
static int read_all(FILE *f, char **buf, size_t *len) {
  size_t cap = 0, n = 0;
  char *b = NULL;
  for (;;) {
    if (n == cap) {
      size_t ncap = cap == 0 ? 16384 : 2 * cap;
      if (ncap > SG_CONFIG_FILE_MAX + 1)
        ncap = SG_CONFIG_FILE_MAX + 1;
      char *nb = sg_realloc(b, ncap);
      if (nb == NULL) {
        sg_free(b);
        return SG_ENOMEM;
      }
      b = nb;
      cap = ncap;
    }
    size_t r = fread(b + n, 1, cap - n, f);
    n += r;
    if (r == 0 || n > SG_CONFIG_FILE_MAX)
      break;
  }
  if (ferror(f)) {
    int err = errno;
    sg_free(b);
    errno = err;
    return SG_EIO;
  }
  *buf = b;
  *len = n;
  return 0;
}

/* Reads a whole file of at most SG_CONFIG_FILE_MAX octets into *buf. */
static int read_file(const char *path, char **buf, size_t *len,
                     sg_config_errors_t *errs) {
  sg__cfg_ctx_t c = {.errs = errs};
  FILE *f = fopen(path, "rb");
  if (f == NULL) {
    sg__cfg_error_at(&c, 0, 0, "", "cannot open: %s", strerror(errno));
    return SG_EIO;
  }
  int rc = read_all(f, buf, len);
  if (rc == SG_EIO)
    sg__cfg_error_at(&c, 0, 0, "", "cannot read: %s", strerror(errno));
  fclose(f);
  if (rc == SG_ENOMEM)
    sg__cfg_oom(&c);
  if (rc == 0 && *len > SG_CONFIG_FILE_MAX) {
    sg__cfg_error_at(&c, 0, 0, "", "larger than %u bytes", SG_CONFIG_FILE_MAX);
    sg_free(*buf);
    rc = SG_EIO;
  }
  return rc;
}

int sg_config_load_file(const char *path, sg_config_t **out,
                        sg_config_errors_t *errs) {
  errors_reset(errs, path != NULL ? path : "");
  if (path == NULL || out == NULL)
    return SG_EINVAL;
  *out = NULL;
  char *text = NULL;
  size_t len = 0;
  int rc = read_file(path, &text, &len, errs);
  if (rc != 0)
    return rc;
  rc = load(path, text, len, out, errs);
  sg_free(text);
  return rc;
}

int sg_config_default(sg_config_t **out, sg_config_errors_t *errs) {
  return sg_config_load_string("<built-in default>", default_yaml,
                               sizeof default_yaml - 1, out, errs);
}

const sg_config_connector_t *sg_config_find_connector(const sg_config_t *cfg,
                                                      const char *name) {
  if (cfg == NULL || name == NULL)
    return NULL;
  for (size_t i = 0; i < cfg->n_connectors; i++)
    if (strcmp(cfg->connectors[i].name, name) == 0)
      return &cfg->connectors[i];
  return NULL;
}

const sg_config_account_t *sg_config_find_account(const sg_config_t *cfg,
                                                  const char *name) {
  if (cfg == NULL || name == NULL)
    return NULL;
  for (size_t i = 0; i < cfg->n_accounts; i++)
    if (strcmp(cfg->accounts[i].name, name) == 0)
      return &cfg->accounts[i];
  return NULL;
}
