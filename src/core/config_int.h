/* config_int.h - what the files of the configuration loader share:
 *   config.c         the public API, files, the error list
 *   config_yaml.c    libyaml events to a node tree with positions
 *   config_value.c   scalar syntaxes: integers, durations, sizes, addresses
 *   config_schema.c  the key tables and the defaults
 *   config_read.c    the walk of the tree into structs by those tables
 *   config_check.c   per-section and cross-section checks
 * Not a public header: only these files include it (and the unit test).
 */
#ifndef SG_CORE_CONFIG_INT_H
#define SG_CORE_CONFIG_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/config.h"

/* ---- Arena: every string and array of a config, and the node tree ---- */

typedef struct sg__cfg_arena sg__cfg_arena_t;

/* Returns `size` zeroed bytes aligned for any type, or NULL (out of
 * memory). *a is the arena's head, NULL for a new arena. */
void *sg__cfg_alloc(sg__cfg_arena_t **a, size_t size);
/* Copies s[0..n) with a NUL; NULL when out of memory. */
char *sg__cfg_strndup(sg__cfg_arena_t **a, const char *s, size_t n);
/* Frees every block of the arena. NULL is a no-op. */
void sg__cfg_arena_free(sg__cfg_arena_t *a);

/* ---- The document as a tree ------------------------------------------ */

typedef enum sg__cfg_kind {
  SG__CFG_SCALAR = 0,
  SG__CFG_MAP = 1,
  SG__CFG_SEQ = 2
} sg__cfg_kind_t;

typedef struct sg__cfg_node sg__cfg_node_t;
struct sg__cfg_node {
  sg__cfg_kind_t kind;
  unsigned line, col; /* 1-based */
  const char *str;    /* scalar text, NUL-terminated (may hold NULs) */
  size_t len;
  bool plain;    /* a plain scalar without a tag: may be read as null */
  bool reported; /* an error was reported here (an alias, a bad value) */
  size_t n;      /* children: items of a sequence, keys of a mapping */
  sg__cfg_node_t *first, *last, *next; /* children, in document order */
  sg__cfg_node_t *value;               /* a mapping key: its value */
  sg__cfg_node_t *key;                 /* a mapping value: its key */
  sg__cfg_node_t *parent;              /* the enclosing sequence or mapping */
};

/* Deepest nesting of sequences and mappings accepted. */
#define SG__CFG_DEPTH_MAX 64

/* ---- Loading context ------------------------------------------------- */

typedef struct sg__cfg_ctx {
  sg_config_errors_t *errs; /* may be NULL */
  size_t n_errors;          /* found, whether kept or not */
  bool oom;
  sg_config_t *cfg;
  sg__cfg_arena_t **arena; /* cfg's arena */
} sg__cfg_ctx_t;

/* Reports an error at node `at` (NULL: no position), under the key path of
 * that node in the document ("connectors[0].port"), and marks the node
 * `reported` so that checks depending on it stay quiet. Messages never
 * contain secrets: callers write <secret> instead of a secret value. */
void sg__cfg_error(sg__cfg_ctx_t *c, const sg__cfg_node_t *at, const char *fmt,
                   ...) __attribute__((format(printf, 3, 4)));
/* The same with an explicit position and key path. */
void sg__cfg_error_at(sg__cfg_ctx_t *c, unsigned line, unsigned col,
                      const char *key, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
/* True when a further error would still be kept (worth a suggestion). */
bool sg__cfg_error_wanted(const sg__cfg_ctx_t *c);
/* Records an out-of-memory condition (reported once). */
void sg__cfg_oom(sg__cfg_ctx_t *c);

/* Writes the key path of node n in its tree ("accounts[1].smpp", "" for
 * the root) to buf[0..cap) with a NUL, cut if it does not fit. */
void sg__cfg_node_path(const sg__cfg_node_t *n, char *buf, size_t cap);

/* ---- YAML ------------------------------------------------------------ */

/* Parses text[0..len) into a tree in *tree. Sets *root (NULL for an empty
 * document). Returns 0, SG_ECONFIG (a syntax error, reported: no tree) or
 * SG_ENOMEM. Anchors, aliases and unknown tags are reported as errors but
 * the tree is still built (an alias becomes an empty scalar marked
 * `reported`). */
int sg__cfg_parse_yaml(sg__cfg_ctx_t *c, sg__cfg_arena_t **tree,
                       const char *text, size_t len, sg__cfg_node_t **root);

/* ---- Scalar syntaxes (pure: no allocation, no errors reported) -------- */

/* True for null: an empty plain scalar, "~", "null", "Null", "NULL". */
bool sg__cfg_is_null(const sg__cfg_node_t *n);
/* Decimal integer, optional '+' or '-', at most 18 digits. 0 / SG_EINVAL. */
int sg__cfg_parse_int(const char *s, size_t len, int64_t *out);
/* true/True/TRUE/false/False/FALSE. 0 / SG_EINVAL. */
int sg__cfg_parse_bool(const char *s, size_t len, bool *out);
/* "1h30m", "500ms", "5m", "1d" or an integer of ms. 0 / SG_EINVAL /
 * SG_ERANGE (beyond 2^53 ms). */
int sg__cfg_parse_duration(const char *s, size_t len, uint64_t *ms);
/* "64KB", "1MB", "1GiB" (1024-based, case-insensitive) or an integer of
 * bytes. 0 / SG_EINVAL / SG_ERANGE. */
int sg__cfg_parse_size(const char *s, size_t len, uint64_t *bytes);
/* A host name (RFC 1123 labels) or an IPv4 or IPv6 literal (no brackets). */
bool sg__cfg_valid_host(const char *s, size_t len);
/* "host:port" or "[ipv6]:port". Sets *host_off and *host_len (the host inside
 * s, without brackets) and *port. 0, SG_EINVAL (form), SG_ERANGE (port). */
int sg__cfg_parse_listen(const char *s, size_t len, size_t *host_off,
                         size_t *host_len, long *port);
/* [A-Za-z0-9_.-], 1..64 characters. */
bool sg__cfg_valid_name(const char *s, size_t len);
/* Printable ASCII only (0x20..0x7E). */
bool sg__cfg_printable_ascii(const char *s, size_t len);
/* The candidate closest to word (optimal string alignment distance of at
 * most 2, and less than half the word's length), or NULL. */
const char *sg__cfg_suggest(const char *word, size_t len,
                            const char *const *cands, size_t n);
/* Describes a value for a message: "abc" in quotes (escaped, cut to 40
 * characters), <secret>, null, a mapping, a sequence. */
void sg__cfg_describe(const sg__cfg_node_t *n, bool secret, char *buf,
                      size_t cap);

/* ---- Schema ---------------------------------------------------------- */

typedef enum sg__cfg_type {
  SG__CFG_T_STR,      /* const char *; min..max octets */
  SG__CFG_T_NAME,     /* const char *; sg__cfg_valid_name */
  SG__CFG_T_HOST,     /* const char *; sg__cfg_valid_host */
  SG__CFG_T_URL,      /* const char *; http:// or https:// */
  SG__CFG_T_PREFIX,   /* const char *; "+" and 0..15 digits */
  SG__CFG_T_REGION,   /* char[3]; two upper-case letters */
  SG__CFG_T_UINT,     /* uint32_t; min..max */
  SG__CFG_T_PORT,     /* uint16_t; 1..65535 */
  SG__CFG_T_BOOL,     /* bool */
  SG__CFG_T_DURATION, /* uint32_t milliseconds; min..max */
  SG__CFG_T_SIZE,     /* uint64_t bytes; min..max */
  SG__CFG_T_LISTEN,   /* sg_config_listen_t */
  SG__CFG_T_ENUM,     /* an enum (int-sized); names in enums */
  SG__CFG_T_TON,      /* int; "auto" (-1) or 0..6 */
  SG__CFG_T_NPI,      /* int; "auto" (-1) or a value of SMPP 3.4 5.2.6 */
  SG__CFG_T_STRLIST,  /* const char **, count at count_off; as STR */
  SG__CFG_T_UINTLIST, /* uint32_t *, count at count_off; min..max */
  SG__CFG_T_MAP,      /* an embedded struct described by sub */
  SG__CFG_T_MAPLIST,  /* an array of structs of sub, count at count_off */
  SG__CFG_T_CUSTOM,   /* sub->check(c, field, value) reads the value into
                         the field at off and reports its own errors */
  SG__CFG_T_PRICES    /* sg_config_conn_price_t *, count at count_off */
} sg__cfg_type_t;

#define SG__CFG_F_REQUIRED 1u /* the key must be present */
#define SG__CFG_F_SECRET 2u   /* never echo the value */
#define SG__CFG_F_NULLABLE 4u /* null leaves the field unset (NULL, "") */
#define SG__CFG_F_ASCII 8u    /* strings: printable ASCII only */

typedef struct sg__cfg_enum {
  const char *name;
  int value;
} sg__cfg_enum_t;

typedef struct sg__cfg_section sg__cfg_section_t;

typedef struct sg__cfg_field {
  const char *key;
  sg__cfg_type_t type;
  unsigned flags;
  size_t off;       /* of the value in the section's struct */
  size_t count_off; /* lists: of the size_t count, or SG__CFG_NO_COUNT */
  uint64_t min, max;
  const sg__cfg_enum_t *enums; /* ENUM: ends with a NULL name */
  const sg__cfg_section_t *sub;
} sg__cfg_field_t;

#define SG__CFG_NO_COUNT SIZE_MAX

/* Most keys of one section. */
#define SG__CFG_FIELDS_MAX 48

struct sg__cfg_section {
  const sg__cfg_field_t *fields;
  size_t n_fields;
  size_t size; /* of the struct */
  /* Sets the defaults; called for a mapping that is present, before its
   * keys are read. May be NULL. */
  void (*init)(void *obj);
  /* Checks across the keys of one mapping once they are read (map is its
   * node, for positions). May be NULL. */
  void (*check)(sg__cfg_ctx_t *c, void *obj, const sg__cfg_node_t *map);
};

/* The inbound section (config_inbound.c), its defaults and the check of
 * its rules against the accounts (called by sg__cfg_check_root). */
extern const sg__cfg_section_t sg__cfg_inbound_section;
void sg__cfg_init_inbound(void *obj);
void sg__cfg_check_inbound_root(sg__cfg_ctx_t *c, const sg__cfg_node_t *root);

/* The limits of an account (config_limits.c): its quota and billing
 * sections, and the check of destinations, senders and prices. */
extern const sg__cfg_section_t sg__cfg_quota_section;
extern const sg__cfg_section_t sg__cfg_billing_section;
void sg__cfg_check_account_limits(sg__cfg_ctx_t *c, sg_config_account_t *a,
                                  const sg__cfg_node_t *map);
/* The node section and the node keys of a connector (config_node.c). */
extern const sg__cfg_section_t sg__cfg_node_section;
void sg__cfg_init_node(void *obj);
void sg__cfg_check_connector_nodes(sg__cfg_ctx_t *c, sg_config_connector_t *k,
                                   const sg__cfg_node_t *map);
/* An account's velocity section (config_velocity.c). */
extern const sg__cfg_section_t sg__cfg_velocity_section;
/* Routes and prices (config_route.c): reads a `prices` mapping of
 * prefixes to non-negative numbers into field f of obj; checks a route's
 * match keys (prefix or pattern, the pattern compiles) after its mapping
 * is read. */
void sg__cfg_read_prices(sg__cfg_ctx_t *c, const sg__cfg_field_t *f, void *obj,
                         const sg__cfg_node_t *v);
void sg__cfg_check_route_match(sg__cfg_ctx_t *c, sg_config_route_t *r,
                               const sg__cfg_node_t *map);

/* The `http` mapping of a connector of type http (config_http.c). */
extern const sg__cfg_section_t sg__cfg_conn_http_section;
/* The reader of store.traffic_keep, a uint64_t of milliseconds
 * (config_keep.c); used as the sub of a CUSTOM field. */
extern const sg__cfg_section_t sg__cfg_traffic_keep_reader;

/* The top-level section (sg_config_t). */
extern const sg__cfg_section_t sg__cfg_root_section;

/* Sets every default of a config (the state for an empty document). */
void sg__cfg_init_config(sg_config_t *cfg);

/* Reads the document root (NULL: empty) into c->cfg: defaults, then every
 * key, then the checks. Errors go to c. */
void sg__cfg_read(sg__cfg_ctx_t *c, const sg__cfg_node_t *root);

/* Finds `key` in mapping node map (NULL: none); returns the node of its
 * value, or NULL. */
const sg__cfg_node_t *sg__cfg_map_get(const sg__cfg_node_t *map,
                                      const char *key);
/* Finds the i-th item of a sequence node; NULL if none. */
const sg__cfg_node_t *sg__cfg_seq_at(const sg__cfg_node_t *seq, size_t i);

/* ---- Defaults (config_schema.c) and checks (config_check.c) ----------- */

void sg__cfg_init_store(void *obj);
void sg__cfg_init_http(void *obj);
void sg__cfg_init_simulator(void *obj);
void sg__cfg_init_dlr_mix(void *obj);
void sg__cfg_init_account(void *obj);
void sg__cfg_init_account_smpp(void *obj);
void sg__cfg_init_connector(void *obj);
void sg__cfg_init_route(void *obj);
void sg__cfg_init_webhooks(void *obj);
void sg__cfg_init_smpp_server(void *obj);
void sg__cfg_init_log(void *obj);

void sg__cfg_check_store(sg__cfg_ctx_t *c, void *obj,
                         const sg__cfg_node_t *map);
void sg__cfg_check_http(sg__cfg_ctx_t *c, void *obj, const sg__cfg_node_t *map);
void sg__cfg_check_simulator(sg__cfg_ctx_t *c, void *obj,
                             const sg__cfg_node_t *map);
void sg__cfg_check_account(sg__cfg_ctx_t *c, void *obj,
                           const sg__cfg_node_t *map);
void sg__cfg_check_account_smpp(sg__cfg_ctx_t *c, void *obj,
                                const sg__cfg_node_t *map);
void sg__cfg_check_connector(sg__cfg_ctx_t *c, void *obj,
                             const sg__cfg_node_t *map);
void sg__cfg_check_route(sg__cfg_ctx_t *c, void *obj,
                         const sg__cfg_node_t *map);
void sg__cfg_check_webhooks(sg__cfg_ctx_t *c, void *obj,
                            const sg__cfg_node_t *map);
void sg__cfg_check_smpp_server(sg__cfg_ctx_t *c, void *obj,
                               const sg__cfg_node_t *map);
/* The cross-section checks, on the whole document (root may be NULL). */
void sg__cfg_check_root(sg__cfg_ctx_t *c, void *obj, const sg__cfg_node_t *map);

#endif
