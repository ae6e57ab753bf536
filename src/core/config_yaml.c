/* config_yaml.c - reads a YAML document with libyaml's event parser into a
 * small tree of scalars, sequences and mappings in which every node keeps
 * its line and column, so that every later error can name its position.
 *
 * It builds the tree iteratively (no recursion on the input's nesting),
 * bounds the nesting at SG__CFG_DEPTH_MAX, reads exactly one document and
 * refuses anchors, aliases and unknown tags with an error at each (aliases
 * would let a small file expand into a very large configuration). It never
 * interprets a value: that is the schema's work. libyaml's syntax errors
 * are passed on with libyaml's own words and position.
 *
 * libyaml allocates with the C library's malloc; the tree, like everything
 * of smsgate, goes through core/alloc.h (in an arena).
 */
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include <yaml.h>

#include "core/config_int.h"
#include "core/error.h"

typedef struct builder {
  sg__cfg_ctx_t *c;
  sg__cfg_arena_t **tree;
  sg__cfg_node_t *root;
  sg__cfg_node_t *cur; /* the open sequence or mapping, NULL at the top */
  unsigned depth;
  unsigned docs;
  const char *text;
  size_t len;
} builder_t;

static unsigned clamp(size_t v) {
  return v >= UINT_MAX ? UINT_MAX : (unsigned)v;
}

/* ---- Paths ------------------------------------------------------------ */

/* Appends s to buf (at *o, capacity cap), keeping a NUL. */
static void append(char *buf, size_t cap, size_t *o, const char *s, size_t n) {
  while (n > 0 && *o + 1 < cap) {
    buf[(*o)++] = *s++;
    n--;
  }
  buf[*o] = '\0';
}

/* Appends a key's text: printable characters, at most 40 of them. */
static void append_key(char *buf, size_t cap, size_t *o,
                       const sg__cfg_node_t *key) {
  if (key == NULL || key->kind != SG__CFG_SCALAR) {
    append(buf, cap, o, "?", 1);
    return;
  }
  size_t shown = 0;
  for (size_t i = 0; i < key->len && shown < 40; i++, shown++) {
    unsigned char ch = (unsigned char)key->str[i];
    char out = (ch < 0x20 || ch == 0x7F) ? '?' : (char)ch;
    append(buf, cap, o, &out, 1);
  }
}

static size_t index_in(const sg__cfg_node_t *parent, const sg__cfg_node_t *n) {
  size_t i = 0;
  for (const sg__cfg_node_t *k = parent->first; k != NULL; k = k->next, i++)
    if (k == n)
      break;
  return i;
}

void sg__cfg_node_path(const sg__cfg_node_t *n, char *buf, size_t cap) {
  enum { CHAIN_MAX = 2 * SG__CFG_DEPTH_MAX + 4 };
  const sg__cfg_node_t *chain[CHAIN_MAX];
  size_t depth = 0, o = 0;
  if (cap == 0)
    return;
  buf[0] = '\0';
  for (; n != NULL && n->parent != NULL && depth < CHAIN_MAX; n = n->parent)
    chain[depth++] = n;
  while (depth > 0) {
    const sg__cfg_node_t *x = chain[--depth], *p = x->parent;
    if (p->kind == SG__CFG_SEQ) {
      char tmp[32];
      int l = snprintf(tmp, sizeof tmp, "[%zu]", index_in(p, x));
      append(buf, cap, &o, tmp, (size_t)l);
      continue;
    }
    if (o > 0)
      append(buf, cap, &o, ".", 1);
    append_key(buf, cap, &o, x->key != NULL ? x->key : x);
  }
}

/* ---- Building --------------------------------------------------------- */

static sg__cfg_node_t *new_node(builder_t *b, sg__cfg_kind_t kind,
                                const yaml_mark_t *m) {
  sg__cfg_node_t *n = sg__cfg_alloc(b->tree, sizeof *n);
  if (n == NULL) {
    sg__cfg_oom(b->c);
    return NULL;
  }
  n->kind = kind;
  n->line = clamp(m->line + 1);
  n->col = clamp(m->column + 1);
  n->str = "";
  return n;
}

/* Links n into the open container: an item of a sequence, a key of a
 * mapping, or the value of the mapping's last key. */
static void attach(builder_t *b, sg__cfg_node_t *n) {
  sg__cfg_node_t *p = b->cur;
  n->parent = p;
  if (p == NULL) {
    b->root = n;
    return;
  }
  if (p->kind == SG__CFG_MAP && p->last != NULL && p->last->value == NULL) {
    p->last->value = n;
    n->key = p->last;
    return;
  }
  if (p->last == NULL)
    p->first = n;
  else
    p->last->next = n;
  p->last = n;
  p->n++;
}

static bool tag_is(const yaml_char_t *tag, const char *name) {
  static const char prefix[] = "tag:yaml.org,2002:";
  const char *t = (const char *)tag;
  return strncmp(t, prefix, sizeof prefix - 1) == 0 &&
         strcmp(t + sizeof prefix - 1, name) == 0;
}

/* Applies a node's tag: !!str makes a plain scalar a string, !!null makes
 * it null; other standard tags change nothing; the rest are refused. */
static void apply_tag(builder_t *b, sg__cfg_node_t *n, const yaml_char_t *tag) {
  if (tag == NULL || strcmp((const char *)tag, "!") == 0)
    return;
  if (tag_is(tag, "str")) {
    n->plain = false;
  } else if (tag_is(tag, "null") && n->kind == SG__CFG_SCALAR) {
    n->plain = true;
    n->str = "";
    n->len = 0;
  } else if (!tag_is(tag, "int") && !tag_is(tag, "bool") &&
             !tag_is(tag, "float") && !tag_is(tag, "null") &&
             !tag_is(tag, "map") && !tag_is(tag, "seq")) {
    sg__cfg_error(b->c, n, "YAML tags such as %.40s are not supported",
                  (const char *)tag);
  }
}

static void refuse_anchor(builder_t *b, sg__cfg_node_t *n,
                          const yaml_char_t *anchor) {
  if (anchor != NULL)
    sg__cfg_error(b->c, n,
                  "YAML anchors (&%.40s) are not supported; write each "
                  "value out in full",
                  (const char *)anchor);
}

static int on_scalar(builder_t *b, const yaml_event_t *ev) {
  sg__cfg_node_t *n = new_node(b, SG__CFG_SCALAR, &ev->start_mark);
  if (n == NULL)
    return SG_ENOMEM;
  char *s = sg__cfg_strndup(b->tree, (const char *)ev->data.scalar.value,
                            ev->data.scalar.length);
  if (s == NULL) {
    sg__cfg_oom(b->c);
    return SG_ENOMEM;
  }
  n->str = s;
  n->len = ev->data.scalar.length;
  n->plain = ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE &&
             ev->data.scalar.tag == NULL;
  attach(b, n);
  apply_tag(b, n, ev->data.scalar.tag);
  refuse_anchor(b, n, ev->data.scalar.anchor);
  return 0;
}

static int on_start(builder_t *b, const yaml_event_t *ev, sg__cfg_kind_t k) {
  sg__cfg_node_t *n = new_node(b, k, &ev->start_mark);
  if (n == NULL)
    return SG_ENOMEM;
  attach(b, n);
  if (++b->depth > SG__CFG_DEPTH_MAX) {
    sg__cfg_error(b->c, n, "nested more than %d levels deep",
                  SG__CFG_DEPTH_MAX);
    return SG_ECONFIG;
  }
  b->cur = n;
  if (k == SG__CFG_MAP) {
    apply_tag(b, n, ev->data.mapping_start.tag);
    refuse_anchor(b, n, ev->data.mapping_start.anchor);
  } else {
    apply_tag(b, n, ev->data.sequence_start.tag);
    refuse_anchor(b, n, ev->data.sequence_start.anchor);
  }
  return 0;
}

static int on_alias(builder_t *b, const yaml_event_t *ev) {
  sg__cfg_node_t *n = new_node(b, SG__CFG_SCALAR, &ev->start_mark);
  if (n == NULL)
    return SG_ENOMEM;
  n->reported = true;
  attach(b, n);
  sg__cfg_error(b->c, n,
                "YAML aliases (*%.40s) are not supported; write the value "
                "out in full",
                (const char *)ev->data.alias.anchor);
  return 0;
}

static int on_event(builder_t *b, const yaml_event_t *ev) {
  switch (ev->type) {
  case YAML_DOCUMENT_START_EVENT:
    if (++b->docs > 1) {
      sg__cfg_error_at(b->c, clamp(ev->start_mark.line + 1),
                       clamp(ev->start_mark.column + 1), "",
                       "a second YAML document; the file must hold one");
      return SG_ECONFIG;
    }
    return 0;
  case YAML_SCALAR_EVENT:
    return on_scalar(b, ev);
  case YAML_SEQUENCE_START_EVENT:
    return on_start(b, ev, SG__CFG_SEQ);
  case YAML_MAPPING_START_EVENT:
    return on_start(b, ev, SG__CFG_MAP);
  case YAML_SEQUENCE_END_EVENT:
  case YAML_MAPPING_END_EVENT:
    b->cur = b->cur != NULL ? b->cur->parent : NULL;
    b->depth--;
    return 0;
  case YAML_ALIAS_EVENT:
    return on_alias(b, ev);
  default:
    return 0;
  }
}

/* ---- libyaml's errors ------------------------------------------------- */

/* Line and column (1-based, in characters) of a byte offset of the text. */
static void offset_position(const builder_t *b, size_t off, unsigned *line,
                            unsigned *col) {
  size_t l = 1, c = 1;
  if (off > b->len)
    off = b->len;
  for (size_t i = 0; i < off; i++) {
    unsigned char ch = (unsigned char)b->text[i];
    if (ch == '\n' ||
        (ch == '\r' && (i + 1 >= b->len || b->text[i + 1] != '\n'))) {
      l++;
      c = 1;
    } else if ((ch & 0xC0) != 0x80 && ch != '\r') {
      c++;
    }
  }
  *line = clamp(l);
  *col = clamp(c);
}

/* The key path where parsing stopped: the open container, or the key
 * whose value was being read. */
static void stop_path(const builder_t *b, char *buf, size_t cap) {
  const sg__cfg_node_t *at = b->cur;
  if (at != NULL && at->kind == SG__CFG_MAP && at->last != NULL &&
      at->last->value == NULL)
    at = at->last;
  sg__cfg_node_path(at, buf, cap);
}

/* True when the character at a libyaml mark is a tab. */
static bool tab_at(const builder_t *b, const yaml_mark_t *m) {
  return m->index < b->len && b->text[m->index] == '\t';
}

static int report_yaml_error(builder_t *b, const yaml_parser_t *p) {
  char key[SG_CONFIG_KEY_MAX], ctx[128] = "";
  unsigned line, col;
  if (p->error == YAML_MEMORY_ERROR) {
    sg__cfg_oom(b->c);
    return SG_ENOMEM;
  }
  stop_path(b, key, sizeof key);
  const char *problem = p->problem != NULL ? p->problem : "unknown error";
  if (p->error == YAML_READER_ERROR) {
    offset_position(b, p->problem_offset, &line, &col);
    if (p->problem_value >= 0)
      snprintf(ctx, sizeof ctx, " (0x%X)", (unsigned)p->problem_value);
    sg__cfg_error_at(b->c, line, col, key, "not valid YAML text: %s%s", problem,
                     ctx);
    return SG_ECONFIG;
  }
  line = clamp(p->problem_mark.line + 1);
  col = clamp(p->problem_mark.column + 1);
  if (p->context != NULL)
    snprintf(ctx, sizeof ctx, " (%s that started at %u:%u)", p->context,
             clamp(p->context_mark.line + 1),
             clamp(p->context_mark.column + 1));
  sg__cfg_error_at(
      b->c, line, col, key, "YAML syntax error: %s%s%s", problem, ctx,
      tab_at(b, &p->problem_mark) ? "; YAML is indented with spaces, not tabs"
                                  : "");
  return SG_ECONFIG;
}

int sg__cfg_parse_yaml(sg__cfg_ctx_t *c, sg__cfg_arena_t **tree,
                       const char *text, size_t len, sg__cfg_node_t **root) {
  builder_t b = {.c = c, .tree = tree, .text = text, .len = len};
  yaml_parser_t p;
  yaml_event_t ev;
  int rc = 0;
  *root = NULL;
  if (!yaml_parser_initialize(&p)) {
    sg__cfg_oom(c);
    return SG_ENOMEM;
  }
  yaml_parser_set_input_string(&p, (const unsigned char *)text, len);
  yaml_parser_set_encoding(&p, YAML_UTF8_ENCODING);
  for (;;) {
    if (!yaml_parser_parse(&p, &ev)) {
      rc = report_yaml_error(&b, &p);
      break;
    }
    rc = on_event(&b, &ev);
    bool end = ev.type == YAML_STREAM_END_EVENT;
    yaml_event_delete(&ev);
    if (rc != 0 || end)
      break;
  }
  yaml_parser_delete(&p);
  if (rc == 0)
    *root = b.root;
  return rc;
}
