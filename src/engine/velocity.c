/* velocity.c - the velocity limit per account and destination prefix
 * (engine/velocity.h): a table of (account, prefix) counters over a
 * one-minute window, the refusals that lead to a block, and the blocks,
 * which are saved in the store as one settings document so that a restart
 * keeps them.
 *
 * The table is open addressing over a power-of-two array; entries that
 * have been quiet for a minute and are not blocked are dropped when it is
 * rebuilt, so its size follows the prefixes of the last minute, up to
 * TRACK_MAX (past it, new prefixes are not counted until old ones expire).
 * This file must never block the loop or write anything but its settings
 * document.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "core/alloc.h"
#include "core/error.h"
#include "engine/engine_int.h"
#include "engine/velocity.h"
#include "engine/velocity_int.h"

#define WINDOW_MS 60000
#define TRACK_MAX (1u << 20)
#define BLOCKS_MAX 10000 /* blocks kept; the oldest is lifted past it */

typedef struct vel_entry {
  bool used;
  bool blocked;
  uint8_t len;       /* digits of the prefix */
  uint32_t acct;     /* index in e->accounts */
  uint64_t digits;   /* the prefix's digits as a number */
  int64_t win_start; /* start of the current minute */
  uint32_t count;    /* recipients counted in it */
  uint32_t strikes;  /* refusals, each within a minute of the last */
  int64_t last_strike;
  int64_t since, until; /* the block; until 0: until lifted */
} vel_entry_t;

struct sg__velocity {
  vel_entry_t *t;
  size_t cap, n;
  size_t blocked;
  uint64_t limited, refused, blocks;
  void (*loaded)(sg_engine_t *e, int status);
};

typedef struct unblock_req {
  sg_engine_t *e;
  sg_engine_unblock_cb cb;
  void *ud;
} unblock_req_t;

/* ---- the table ----------------------------------------------------------- */

static uint64_t mix(uint64_t x) {
  x ^= x >> 33;
  x *= UINT64_C(0xff51afd7ed558ccd);
  x ^= x >> 33;
  x *= UINT64_C(0xc4ceb9fe1a85ec53);
  return x ^ (x >> 33);
}

static size_t slot_of(const struct sg__velocity *v, uint32_t acct, uint8_t len,
                      uint64_t digits) {
  uint64_t h = mix(digits ^ ((uint64_t)acct << 40) ^ ((uint64_t)len << 60));
  size_t i = (size_t)h & (v->cap - 1);
  while (v->t[i].used && !(v->t[i].acct == acct && v->t[i].len == len &&
                           v->t[i].digits == digits))
    i = (i + 1) & (v->cap - 1);
  return i;
}

static bool quiet(const vel_entry_t *x, int64_t now) {
  return !x->blocked && now - x->win_start >= WINDOW_MS &&
         now - x->last_strike >= WINDOW_MS;
}

/* Rebuilds the table with room for twice its live entries; drops quiet
 * ones. Returns 0 or SG_ENOMEM (the old table stays). */
static int rebuild(struct sg__velocity *v, int64_t now) {
  size_t live = 0;
  for (size_t i = 0; i < v->cap; i++)
    live += v->t[i].used && !quiet(&v->t[i], now);
  size_t cap = 256;
  while (cap < (live + 1) * 4)
    cap *= 2;
  vel_entry_t *t = sg_calloc(cap, sizeof *t);
  if (t == NULL)
    return SG_ENOMEM;
  vel_entry_t *old = v->t;
  size_t old_cap = v->cap;
  v->t = t;
  v->cap = cap;
  v->n = 0;
  for (size_t i = 0; i < old_cap; i++)
    if (old[i].used && !quiet(&old[i], now)) {
      v->t[slot_of(v, old[i].acct, old[i].len, old[i].digits)] = old[i];
      v->n++;
    }
  sg_free(old);
  return 0;
}

/* The entry of (acct, prefix), created when absent; NULL when the table
 * is full or out of memory (the recipient is then not counted). */
static vel_entry_t *entry(struct sg__velocity *v, uint32_t acct, uint8_t len,
                          uint64_t digits, int64_t now) {
  size_t i = slot_of(v, acct, len, digits);
  if (v->t[i].used)
    return &v->t[i];
  if ((v->n + 1) * 2 > v->cap) {
    if (v->n >= TRACK_MAX || rebuild(v, now) != 0)
      return NULL;
    i = slot_of(v, acct, len, digits);
  }
  vel_entry_t *x = &v->t[i];
  memset(x, 0, sizeof *x);
  x->used = true;
  x->acct = acct;
  x->len = len;
  x->digits = digits;
  x->win_start = now;
  x->last_strike = now - WINDOW_MS;
  v->n++;
  return x;
}

/* Reads "+"? and 1-15 digits into (len, digits); false otherwise. At most
 * max digits are taken from a longer number when max > 0. */
static bool prefix_of(const char *s, unsigned max, uint8_t *len,
                      uint64_t *digits) {
  if (s == NULL)
    return false;
  if (*s == '+')
    s++;
  uint64_t d = 0;
  unsigned n = 0;
  for (; *s != '\0' && (max == 0 || n < max); s++, n++) {
    if (*s < '0' || *s > '9' || n == SG_VELOCITY_PREFIX_MAX)
      return false;
    d = d * 10 + (uint64_t)(*s - '0');
  }
  if (n == 0)
    return false;
  *len = (uint8_t)n;
  *digits = d;
  return true;
}

static void prefix_text(const vel_entry_t *x,
                        char out[SG_VELOCITY_PREFIX_MAX + 2]) {
  snprintf(out, SG_VELOCITY_PREFIX_MAX + 2, "+%0*llu", (int)x->len,
           (unsigned long long)x->digits);
}

static ptrdiff_t index_of(const sg_engine_t *e, const sg_engine_account_t *a) {
  const sg__account_t *c = (const sg__account_t *)(const void *)a;
  if (a == NULL || c < e->accounts || c >= e->accounts + e->n_accounts)
    return -1;
  return c - e->accounts;
}

/* ---- saving and loading the blocks ----------------------------------------
 */

/* Frees what json_dumps returned, with jansson's allocator (which a
 * program may have pointed at core/alloc.h). */
static void jfree(char *s) {
  json_free_t f = NULL;
  json_get_alloc_funcs(NULL, &f);
  if (s != NULL && f != NULL)
    f(s);
}

/* The blocks as [{"account","prefix","since","until","strikes"}]; NULL
 * when out of memory. */
static char *blocks_json(sg_engine_t *e) {
  struct sg__velocity *v = e->velocity;
  json_t *arr = json_array();
  for (size_t i = 0; arr != NULL && i < v->cap; i++) {
    const vel_entry_t *x = &v->t[i];
    if (!x->used || !x->blocked)
      continue;
    char p[SG_VELOCITY_PREFIX_MAX + 2];
    prefix_text(x, p);
    json_t *o = json_pack("{s:s, s:s, s:I, s:I, s:I}", "account",
                          e->accounts[x->acct].pub.name, "prefix", p, "since",
                          (json_int_t)x->since, "until", (json_int_t)x->until,
                          "strikes", (json_int_t)x->strikes);
    if (o == NULL || json_array_append_new(arr, o) != 0) {
      json_decref(arr);
      arr = NULL;
    }
  }
  char *s = arr != NULL ? json_dumps(arr, JSON_COMPACT) : NULL;
  json_decref(arr);
  return s;
}

static void saved_cb(sg_store_t *st, int status, void *data) {
  (void)st;
  unblock_req_t *r = data;
  sg_engine_t *e = r->e;
  sg__op_end(e);
  if (status != 0)
    sg__log(e, SG_ENGINE_LOG_ERROR, "cannot save the velocity blocks: %s",
            sg_strerror(status));
  if (r->cb != NULL)
    r->cb(e, status == 0 ? 0 : SG_EIO, r->ud);
  sg_free(r);
}

/* Writes the blocks in force as one settings document; cb (may be NULL)
 * fires after the commit. Returns 0 or an error (cb never fires then). */
static int save(sg_engine_t *e, sg_engine_unblock_cb cb, void *ud) {
  unblock_req_t *r = sg_malloc(sizeof *r);
  char *body = r != NULL ? blocks_json(e) : NULL;
  if (body == NULL) {
    sg_free(r);
    return SG_ENOMEM;
  }
  *r = (unblock_req_t){e, cb, ud};
  int rc = sg_store_setting_put(e->st, SG__VELOCITY_SETTING, body, strlen(body),
                                saved_cb, r);
  jfree(body);
  if (rc != 0) {
    sg_free(r);
    return rc;
  }
  sg__op_begin(e);
  return 0;
}

/* One saved block back into the table; false when it names no account of
 * this engine (it is dropped). */
static bool restore(sg_engine_t *e, json_t *o) {
  const char *name = NULL, *prefix = NULL;
  json_int_t since = 0, until = 0, strikes = 0;
  if (json_unpack(o, "{s:s, s:s, s:I, s:I, s:I}", "account", &name, "prefix",
                  &prefix, "since", &since, "until", &until, "strikes",
                  &strikes) != 0)
    return false;
  ptrdiff_t a = -1; /* by name: sg_engine_account_by_name waits for RUNNING */
  for (size_t i = 0; i < e->n_accounts && a < 0; i++)
    if (strcmp(e->accounts[i].pub.name, name) == 0)
      a = (ptrdiff_t)i;
  uint8_t len;
  uint64_t digits;
  if (a < 0 || !prefix_of(prefix, 0, &len, &digits))
    return false;
  vel_entry_t *x = entry(e->velocity, (uint32_t)a, len, digits, since);
  if (x == NULL)
    return false;
  x->blocked = true;
  x->since = since;
  x->until = until;
  x->strikes = (uint32_t)strikes;
  e->velocity->blocked++;
  return true;
}

static void load_cb(sg_store_t *st, int status, const char *body, size_t len,
                    void *data) {
  (void)st;
  sg_engine_t *e = data;
  sg__op_end(e);
  if (status == SG_ENOENT)
    status = 0;
  else if (status == 0) {
    json_error_t jerr;
    json_t *arr = json_loadb(body, len, 0, &jerr);
    size_t i, dropped = 0;
    json_t *o;
    json_array_foreach(arr, i, o) dropped += !restore(e, o);
    if (!json_is_array(arr) || dropped > 0)
      sg__log(e, SG_ENGINE_LOG_WARN,
              "velocity blocks: %zu saved block(s) not restored (unknown "
              "account or unreadable)",
              json_is_array(arr) ? dropped : (size_t)1);
    json_decref(arr);
    if (e->velocity->blocked > 0)
      sg__log(e, SG_ENGINE_LOG_INFO, "velocity: %zu prefix block(s) in force",
              e->velocity->blocked);
  } else
    sg__log(e, SG_ENGINE_LOG_ERROR, "cannot read the velocity blocks: %s",
            sg_strerror(status));
  e->velocity->loaded(e, status == 0 ? 0 : SG_EIO);
}

int sg__velocity_load(sg_engine_t *e, void (*loaded)(sg_engine_t *e, int st)) {
  struct sg__velocity *v = sg_calloc(1, sizeof *v);
  vel_entry_t *t = sg_calloc(256, sizeof *t);
  if (v == NULL || t == NULL) {
    sg_free(v);
    sg_free(t);
    return SG_ENOMEM;
  }
  v->t = t;
  v->cap = 256;
  v->loaded = loaded;
  e->velocity = v;
  int rc = sg_store_setting_get(e->st, SG__VELOCITY_SETTING, load_cb, e);
  if (rc != 0)
    return rc;
  sg__op_begin(e);
  return 0;
}

void sg__velocity_free(sg_engine_t *e) {
  if (e->velocity == NULL)
    return;
  sg_free(e->velocity->t);
  sg_free(e->velocity);
  e->velocity = NULL;
}

/* ---- the check ------------------------------------------------------------
 */

static void lift(struct sg__velocity *v, vel_entry_t *x, int64_t now) {
  x->blocked = false;
  x->strikes = 0;
  x->count = 0;
  x->win_start = now;
  x->last_strike = now - WINDOW_MS;
  v->blocked--;
}

static void block(sg_engine_t *e, vel_entry_t *x, const sg_config_velocity_t *c,
                  int64_t now) {
  struct sg__velocity *v = e->velocity;
  x->blocked = true;
  x->since = now;
  x->until = c->block_for_ms > 0 ? now + c->block_for_ms : 0;
  v->blocked++;
  v->blocks++;
  char p[SG_VELOCITY_PREFIX_MAX + 2];
  prefix_text(x, p);
  const char *name = e->accounts[x->acct].pub.name;
  sg__log(e, SG_ENGINE_LOG_WARN,
          "velocity: account %s blocked from prefix %s after %u refused "
          "messages over %u a minute (%s; DELETE "
          "/v1/velocity/blocks/%s/%s lifts it)",
          name, p, x->strikes, c->per_minute,
          c->block_for_ms > 0 ? "for block_for" : "until lifted", name, p + 1);
  if (v->blocked > BLOCKS_MAX)
    sg__log(e, SG_ENGINE_LOG_WARN, "velocity: more than %d blocks in force",
            BLOCKS_MAX);
  int rc = save(e, NULL, NULL);
  if (rc != 0)
    sg__log(e, SG_ENGINE_LOG_ERROR,
            "velocity: cannot save the block of %s %s: %s", name, p,
            sg_strerror(rc));
}

int sg__velocity_check(sg_engine_t *e, const sg_engine_account_t *a,
                       const char *e164, int64_t now, unsigned *retry_after_s) {
  const sg_config_velocity_t *c = &a->cfg->velocity;
  struct sg__velocity *v = e->velocity;
  ptrdiff_t ai = index_of(e, a);
  uint8_t len;
  uint64_t digits;
  if (c->per_minute == 0 || v == NULL || ai < 0 ||
      !prefix_of(e164, c->prefix_digits, &len, &digits))
    return 0;
  vel_entry_t *x = entry(v, (uint32_t)ai, len, digits, now);
  if (x == NULL)
    return 0;
  if (x->blocked && x->until != 0 && now >= x->until)
    lift(v, x, now);
  if (x->blocked) {
    v->refused++;
    return SG_EPERM;
  }
  if (now - x->win_start >= WINDOW_MS) {
    x->win_start = now;
    x->count = 0;
  }
  if (x->count < c->per_minute) {
    x->count++;
    return 0;
  }
  if (now - x->last_strike >= WINDOW_MS)
    x->strikes = 0;
  x->strikes++;
  x->last_strike = now;
  if (c->block_after > 0 && x->strikes >= c->block_after) {
    block(e, x, c, now);
    v->refused++;
    return SG_EPERM;
  }
  v->limited++;
  int64_t left = x->win_start + WINDOW_MS - now;
  *retry_after_s = (unsigned)((left + 999) / 1000);
  return SG_EBUSY;
}

/* ---- the operator's view --------------------------------------------------
 */

static int by_since(const void *pa, const void *pb) {
  const sg_engine_velocity_block_t *a = pa, *b = pb;
  return (a->since_ms > b->since_ms) - (a->since_ms < b->since_ms);
}

size_t sg_engine_velocity_blocks(sg_engine_t *e,
                                 sg_engine_velocity_block_t *out, size_t cap) {
  struct sg__velocity *v = e != NULL ? e->velocity : NULL;
  if (v == NULL)
    return 0;
  int64_t now = sg__now_ms(e);
  size_t n = 0;
  for (size_t i = 0; i < v->cap; i++) {
    vel_entry_t *x = &v->t[i];
    if (x->used && x->blocked && x->until != 0 && now >= x->until)
      lift(v, x, now);
    if (!x->used || !x->blocked)
      continue;
    if (n < cap) {
      sg_engine_velocity_block_t *b = &out[n];
      b->account = &e->accounts[x->acct].pub;
      prefix_text(x, b->prefix);
      b->since_ms = x->since;
      b->until_ms = x->until;
      b->strikes = x->strikes;
    }
    n++;
  }
  if (out != NULL)
    qsort(out, n < cap ? n : cap, sizeof *out, by_since);
  return n;
}

void sg_engine_velocity_stats(sg_engine_t *e, sg_engine_velocity_stats_t *out) {
  memset(out, 0, sizeof *out);
  struct sg__velocity *v = e != NULL ? e->velocity : NULL;
  if (v == NULL)
    return;
  out->limited = v->limited;
  out->refused = v->refused;
  out->blocks = v->blocks;
  out->blocked = v->blocked;
  out->tracked = v->n;
}

int sg_engine_velocity_unblock(sg_engine_t *e, const sg_engine_account_t *a,
                               const char *prefix, sg_engine_unblock_cb cb,
                               void *ud) {
  uint8_t len;
  uint64_t digits;
  if (e == NULL || cb == NULL || !prefix_of(prefix, 0, &len, &digits))
    return SG_EINVAL;
  ptrdiff_t ai = index_of(e, a);
  if (ai < 0)
    return SG_EINVAL;
  if (e->state != SG__RUNNING || e->velocity == NULL)
    return SG_ECLOSED;
  struct sg__velocity *v = e->velocity;
  size_t i = slot_of(v, (uint32_t)ai, len, digits);
  if (!v->t[i].used || !v->t[i].blocked)
    return SG_ENOENT;
  vel_entry_t was = v->t[i];
  lift(v, &v->t[i], sg__now_ms(e));
  int rc = save(e, cb, ud);
  if (rc != 0) { /* nothing changed */
    v->t[i] = was;
    v->blocked++;
    return rc;
  }
  char p[SG_VELOCITY_PREFIX_MAX + 2];
  prefix_text(&was, p);
  sg__log(e, SG_ENGINE_LOG_WARN,
          "velocity: block of account %s, prefix %s lifted by an "
          "administrator",
          a->name, p);
  return 0;
}
