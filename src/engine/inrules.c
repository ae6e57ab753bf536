/* inrules.c - the inbound routing rules in force: loaded from the store at
 * start (and seeded there from the configuration's `inbound.rules` while
 * the API has not changed them), changed through engine/inrules.h one
 * change at a time (the whole list written in one transaction, then
 * compiled rules swapped in), and the reply counts of the automatic-reply
 * limit kept in the store so that a restart does not reset them.
 *
 * This file must never route a message (inbound.c does, with the rules
 * put in force here) nor write to the store other than through store.h.
 */
#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "core/error.h"
#include "engine/inrules_int.h"

typedef struct pending {
  struct pending *next;
  sg_engine_inrules_op_t op;
  int64_t id;
  sg_inrule_t *rules; /* owned copies */
  size_t n;
  sg_engine_inrules_cb cb;
  void *ud;
} pending_t;

struct sg__inrules {
  sg_engine_t *e;
  sg_inrule_t *list; /* in force, positions 1..n */
  size_t n;
  bool managed;
  pending_t *head, *tail; /* changes waiting; head is being written */
  bool busy;
  /* The list being written and its compiled form. */
  sg_inrule_t *next;
  size_t next_n;
  sg_inbound_rules_t *next_compiled;
  void (*started)(sg_engine_t *e, int status);
};

static void apply_next(struct sg__inrules *ir);

/* ---- lists --------------------------------------------------------------- */

static void list_free(sg_inrule_t *l, size_t n) {
  for (size_t i = 0; l != NULL && i < n; i++)
    sg_inrule_clear(&l[i]);
  sg_free(l);
}

static void pending_free(pending_t *p) {
  list_free(p->rules, p->n);
  sg_free(p);
}

/* Compiles l[0..n) with the configuration's keyword lists. */
static int compile(sg_engine_t *e, const sg_inrule_t *l, size_t n,
                   sg_inbound_rules_t **out) {
  const sg_config_inbound_rule_t **p = sg_calloc(n ? n : 1, sizeof *p);
  if (p == NULL)
    return SG_ENOMEM;
  for (size_t i = 0; i < n; i++)
    p[i] = &l[i].r;
  int rc = sg_inbound_rules_new_list(&e->cfg->inbound, p, n, out);
  sg_free(p);
  return rc;
}

/* Puts ir->next in force (with ids[0..n) when not NULL). */
static void install(struct sg__inrules *ir, const sg_store_inrule_t *ids) {
  for (size_t i = 0; i < ir->next_n; i++) {
    if (ids != NULL)
      ir->next[i].id = ids[i].id;
    ir->next[i].position = (unsigned)i + 1;
  }
  list_free(ir->list, ir->n);
  ir->list = ir->next;
  ir->n = ir->next_n;
  sg__inbound_swap_rules(ir->e, ir->next_compiled);
  ir->next = NULL;
  ir->next_n = 0;
  ir->next_compiled = NULL;
}

static void drop_next(struct sg__inrules *ir) {
  list_free(ir->next, ir->next_n);
  sg_inbound_rules_free(ir->next_compiled);
  ir->next = NULL;
  ir->next_n = 0;
  ir->next_compiled = NULL;
}

/* The store's documents of ir->next (freed by the caller with docs_free). */
static sg_store_inrule_t *docs_of(const sg_inrule_t *l, size_t n) {
  sg_store_inrule_t *d = sg_calloc(n ? n : 1, sizeof *d);
  for (size_t i = 0; d != NULL && i < n; i++) {
    json_t *o = sg_inrule_to_json(&l[i], false);
    d[i].id = l[i].id;
    d[i].doc = o != NULL ? json_dumps(o, JSON_COMPACT) : NULL;
    json_decref(o);
    if (d[i].doc == NULL) {
      for (size_t k = 0; k < i; k++)
        sg_free((char *)d[k].doc);
      sg_free(d);
      return NULL;
    }
  }
  return d;
}

static void docs_free(sg_store_inrule_t *d, size_t n) {
  for (size_t i = 0; d != NULL && i < n; i++)
    sg_free((char *)d[i].doc);
  sg_free(d);
}

static int copy_list(sg_inrule_t **out, const sg_inrule_t *src, size_t n,
                     size_t extra) {
  sg_inrule_t *l = sg_calloc(n + extra ? n + extra : 1, sizeof *l);
  if (l == NULL)
    return SG_ENOMEM;
  for (size_t i = 0; i < n; i++)
    if (sg_inrule_copy(&l[i], &src[i].r, src[i].id) != 0) {
      list_free(l, i);
      return SG_ENOMEM;
    }
  *out = l;
  return 0;
}

/* ---- start --------------------------------------------------------------- */

static void counts_cb(sg_store_t *st, int status,
                      const sg_store_replycount_t *rows, size_t n, void *data) {
  (void)st;
  struct sg__inrules *ir = data;
  sg_engine_t *e = ir->e;
  sg__op_end(e);
  size_t kept = 0;
  int64_t now = sg__now_ms(e);
  for (size_t i = 0; status == 0 && i < n; i++)
    if (sg_replyguard_restore(sg__inbound_guard(e), rows[i].pair,
                              rows[i].start_ms, rows[i].count, now) == 0)
      kept++;
  if (status == 0)
    sg__log(
        e, SG_ENGINE_LOG_INFO,
        "%zu inbound rule(s) in force (%s), %zu reply count(s) restored", ir->n,
        ir->managed ? "set through the API" : "from the configuration", kept);
  ir->started(e, status);
}

static void load_counts(struct sg__inrules *ir) {
  sg_engine_t *e = ir->e;
  int64_t since = sg__now_ms(e) - (int64_t)e->cfg->inbound.reply_window_ms;
  int rc =
      sg_store_replycount_load(e->st, since > 0 ? since : 0, counts_cb, ir);
  if (rc != 0) {
    ir->started(e, rc);
    return;
  }
  sg__op_begin(e);
}

static void seed_cb(sg_store_t *st, int status,
                    const sg_store_inrules_res_t *res, void *data) {
  (void)st;
  struct sg__inrules *ir = data;
  sg__op_end(ir->e);
  if (status != 0) {
    drop_next(ir);
    ir->started(ir->e, status);
    return;
  }
  install(ir, res->rules);
  ir->managed = false;
  sg__log(ir->e, SG_ENGINE_LOG_INFO,
          "inbound rules copied from the configuration into the store");
  load_counts(ir);
}

/* The store's rules parsed into ir->next; a document that no longer
 * reads (it cannot happen unless the database was edited) is left out. */
static int parse_stored(struct sg__inrules *ir,
                        const sg_store_inrules_res_t *r) {
  ir->next = sg_calloc(r->n ? r->n : 1, sizeof *ir->next);
  if (ir->next == NULL)
    return SG_ENOMEM;
  for (size_t i = 0; i < r->n; i++) {
    json_t *o = json_loads(r->rules[i].doc, 0, NULL);
    sg_inrule_err_t err;
    if (o == NULL || sg_inrule_from_json(o, "", &ir->next[ir->next_n], &err)) {
      sg__log(ir->e, SG_ENGINE_LOG_ERROR,
              "inbound rule %lld in the store cannot be read; left out",
              (long long)r->rules[i].id);
    } else {
      ir->next[ir->next_n++].id = r->rules[i].id;
    }
    json_decref(o);
  }
  return 0;
}

/* Whether the store holds exactly the configuration's rules. */
static bool same_docs(const sg_store_inrules_res_t *r,
                      const sg_store_inrule_t *d, size_t n) {
  if (!r->saved || r->n != n)
    return false;
  for (size_t i = 0; i < n; i++)
    if (strcmp(r->rules[i].doc, d[i].doc) != 0)
      return false;
  return true;
}

/* Seeds the store from the configuration (or keeps what it has when it
 * is the same). */
static int seed(struct sg__inrules *ir, const sg_store_inrules_res_t *res) {
  sg_engine_t *e = ir->e;
  const sg_config_inbound_t *c = &e->cfg->inbound;
  ir->next = sg_calloc(c->n_rules ? c->n_rules : 1, sizeof *ir->next);
  if (ir->next == NULL)
    return SG_ENOMEM;
  for (; ir->next_n < c->n_rules; ir->next_n++)
    if (sg_inrule_copy(&ir->next[ir->next_n], &c->rules[ir->next_n], 0))
      return SG_ENOMEM;
  int rc = compile(e, ir->next, ir->next_n, &ir->next_compiled);
  sg_store_inrule_t *docs = rc == 0 ? docs_of(ir->next, ir->next_n) : NULL;
  if (rc == 0 && docs == NULL)
    rc = SG_ENOMEM;
  if (rc == 0 && same_docs(res, docs, ir->next_n)) {
    docs_free(docs, ir->next_n);
    install(ir, res->rules);
    load_counts(ir);
    return 0;
  }
  if (rc == 0)
    rc = sg_store_inrules_save(e->st, docs, ir->next_n, false, seed_cb, ir);
  docs_free(docs, ir->next_n);
  if (rc == 0)
    sg__op_begin(e);
  return rc;
}

static void load_cb(sg_store_t *st, int status,
                    const sg_store_inrules_res_t *res, void *data) {
  (void)st;
  struct sg__inrules *ir = data;
  sg_engine_t *e = ir->e;
  sg__op_end(e);
  if (status == 0 && res->managed) {
    ir->managed = true;
    status = parse_stored(ir, res);
    if (status == 0)
      status = compile(e, ir->next, ir->next_n, &ir->next_compiled);
    if (status == 0) {
      install(ir, NULL);
      if (e->cfg->inbound.n_rules > 0)
        sg__log(e, SG_ENGINE_LOG_WARN,
                "the configuration's inbound.rules are not used: the rules "
                "were set through the API (GET /v1/inbound/rules)");
      load_counts(ir);
      return;
    }
  } else if (status == 0) {
    status = seed(ir, res);
    if (status == 0)
      return;
  }
  drop_next(ir);
  ir->started(e, status);
}

int sg__inrules_start(sg_engine_t *e, void (*done)(sg_engine_t *e, int st)) {
  struct sg__inrules *ir = e->inrules;
  if (ir == NULL && (ir = sg_calloc(1, sizeof *ir)) == NULL)
    return SG_ENOMEM;
  ir->e = e;
  ir->started = done;
  e->inrules = ir;
  int rc = sg_store_inrules_load(e->st, load_cb, ir);
  if (rc != 0)
    return rc;
  sg__op_begin(e);
  return 0;
}

void sg__inrules_free(sg_engine_t *e) {
  struct sg__inrules *ir = e->inrules;
  if (ir == NULL)
    return;
  while (ir->head != NULL) {
    pending_t *p = ir->head;
    ir->head = p->next;
    pending_free(p);
  }
  drop_next(ir);
  list_free(ir->list, ir->n);
  sg_free(ir);
  e->inrules = NULL;
}

const sg_inrule_t *sg__inrules_at(const sg_engine_t *e, int i) {
  const struct sg__inrules *ir = e->inrules;
  if (ir == NULL || i < 0 || (size_t)i >= ir->n)
    return NULL;
  return &ir->list[i];
}

const sg_inrule_t *sg__inrules_find(const sg_engine_t *e, int64_t id) {
  const struct sg__inrules *ir = e->inrules;
  for (size_t i = 0; ir != NULL && id > 0 && i < ir->n; i++)
    if (ir->list[i].id == id)
      return &ir->list[i];
  return NULL;
}

void sg_engine_inrules_get(const sg_engine_t *e, sg_engine_inrules_t *out) {
  const struct sg__inrules *ir = e != NULL ? e->inrules : NULL;
  out->rules = ir != NULL ? ir->list : NULL;
  out->n = ir != NULL ? ir->n : 0;
  out->managed = ir != NULL && ir->managed;
}

/* ---- changes ------------------------------------------------------------- */

static long index_of(const struct sg__inrules *ir, int64_t id) {
  for (size_t i = 0; i < ir->n; i++)
    if (ir->list[i].id == id)
      return (long)i;
  return -1;
}

/* Builds ir->next from the list in force and the change p. */
static int build_next(struct sg__inrules *ir, pending_t *p) {
  long at = p->op == SG_ENGINE_INRULES_SET || p->op == SG_ENGINE_INRULES_DELETE
                ? index_of(ir, p->id)
                : 0;
  if (at < 0)
    return SG_ENOENT;
  if (p->op == SG_ENGINE_INRULES_REPLACE) {
    for (size_t i = 0; i < p->n; i++)
      if (p->rules[i].id > 0 && index_of(ir, p->rules[i].id) < 0)
        return SG_ENOENT;
    ir->next = p->rules; /* moved */
    ir->next_n = p->n;
    p->rules = NULL;
    p->n = 0;
    return 0;
  }
  if (p->op == SG_ENGINE_INRULES_ADD && ir->n >= SG_STORE_INRULES_MAX)
    return SG_ERANGE;
  int rc = copy_list(&ir->next, ir->list, ir->n, 1);
  if (rc != 0)
    return rc;
  ir->next_n = ir->n;
  sg_inrule_t moved;
  if (p->op != SG_ENGINE_INRULES_ADD) { /* take the old one out */
    sg_inrule_clear(&ir->next[at]);
    memmove(&ir->next[at], &ir->next[at + 1],
            (ir->next_n - (size_t)at - 1) * sizeof *ir->next);
    ir->next_n--;
  }
  if (p->op == SG_ENGINE_INRULES_DELETE)
    return 0;
  moved = p->rules[0];
  moved.id = p->op == SG_ENGINE_INRULES_SET ? p->id : 0;
  size_t pos = moved.position > 0               ? moved.position - 1
               : p->op == SG_ENGINE_INRULES_SET ? (size_t)at
                                                : ir->next_n;
  if (pos > ir->next_n)
    return SG_ERANGE;
  memmove(&ir->next[pos + 1], &ir->next[pos],
          (ir->next_n - pos) * sizeof *ir->next);
  ir->next[pos] = moved;
  ir->next_n++;
  memset(&p->rules[0], 0, sizeof p->rules[0]); /* moved */
  return 0;
}

static void finish(struct sg__inrules *ir, int status, int64_t id) {
  pending_t *p = ir->head;
  ir->head = p->next;
  if (ir->head == NULL)
    ir->tail = NULL;
  ir->busy = false;
  sg_engine_inrules_t now;
  sg_engine_inrules_get(ir->e, &now);
  p->cb(ir->e, status, status == 0 ? &now : NULL, id, p->ud);
  pending_free(p);
}

static void save_cb(sg_store_t *st, int status,
                    const sg_store_inrules_res_t *res, void *data) {
  (void)st;
  struct sg__inrules *ir = data;
  sg_engine_t *e = ir->e;
  sg__op_end(e);
  int64_t id = 0;
  if (status == 0) {
    pending_t *p = ir->head;
    size_t pos = 0;
    install(ir, res->rules);
    ir->managed = true;
    if (p->op == SG_ENGINE_INRULES_SET || p->op == SG_ENGINE_INRULES_DELETE)
      id = p->id;
    /* the added rule is the one whose id is new */
    for (pos = 0; p->op == SG_ENGINE_INRULES_ADD && pos < ir->n; pos++)
      if (ir->list[pos].id > id)
        id = ir->list[pos].id;
    sg__log(e, SG_ENGINE_LOG_INFO, "inbound rules changed: %zu in force",
            ir->n);
  } else {
    drop_next(ir);
    sg__log(e, SG_ENGINE_LOG_ERROR, "inbound rules not changed: %s",
            sg_strerror(status));
  }
  finish(ir, status, id);
  apply_next(ir);
  sg__maybe_stopped(e);
}

/* Starts writing the change at the head; returns 0 or the error with
 * which it ends. */
static int start_change(struct sg__inrules *ir) {
  sg_engine_t *e = ir->e;
  if (e->state != SG__RUNNING)
    return SG_ECLOSED;
  int rc = build_next(ir, ir->head);
  if (rc == 0)
    rc = compile(e, ir->next, ir->next_n, &ir->next_compiled);
  sg_store_inrule_t *docs = rc == 0 ? docs_of(ir->next, ir->next_n) : NULL;
  if (rc == 0 && docs == NULL)
    rc = SG_ENOMEM;
  if (rc == 0)
    rc = sg_store_inrules_save(e->st, docs, ir->next_n, true, save_cb, ir);
  docs_free(docs, ir->next_n);
  if (rc != 0) {
    drop_next(ir);
    return rc;
  }
  ir->busy = true;
  sg__op_begin(e);
  return 0;
}

/* Runs the waiting changes; runs from a store callback only, so that an
 * error can be reported through the callback. */
static void apply_next(struct sg__inrules *ir) {
  while (!ir->busy && ir->head != NULL) {
    int rc = start_change(ir);
    if (rc != 0)
      finish(ir, rc, 0);
  }
}

/* The account check and the limits of a change; 0 or SG_EINVAL. */
static int check_change(sg_engine_t *e, const sg_engine_inrules_change_t *c,
                        sg_inrule_err_t *err) {
  size_t want = c->op == SG_ENGINE_INRULES_REPLACE  ? c->n
                : c->op == SG_ENGINE_INRULES_DELETE ? 0
                                                    : 1;
  if (c->n != want || (want > 0 && c->rules == NULL))
    return SG_EINVAL;
  if (want > SG_STORE_INRULES_MAX) {
    err->code = "invalid_value";
    snprintf(err->field, sizeof err->field, "rules");
    snprintf(err->message, sizeof err->message, "at most %d rules",
             SG_STORE_INRULES_MAX);
    return SG_EINVAL;
  }
  for (size_t i = 0; c->op == SG_ENGINE_INRULES_REPLACE && i < want; i++)
    for (size_t j = 0; c->rules[i].id > 0 && j < i; j++)
      if (c->rules[j].id == c->rules[i].id) {
        err->code = "invalid_value";
        snprintf(err->field, sizeof err->field, "rules[%zu].id", i);
        snprintf(err->message, sizeof err->message, "rule %lld is given twice",
                 (long long)c->rules[i].id);
        return SG_EINVAL;
      }
  for (size_t i = 0; i < want; i++) {
    if (sg_engine_account_by_name(e, c->rules[i].r.account) != NULL)
      continue;
    err->code = "invalid_value";
    if (c->op == SG_ENGINE_INRULES_REPLACE)
      snprintf(err->field, sizeof err->field, "rules[%zu].account", i);
    else
      snprintf(err->field, sizeof err->field, "account");
    snprintf(err->message, sizeof err->message, "no account named \"%s\"",
             c->rules[i].r.account);
    return SG_EINVAL;
  }
  return 0;
}

/* What can be told before the change is queued behind others. */
static int check_now(const struct sg__inrules *ir,
                     const sg_engine_inrules_change_t *c) {
  if ((c->op == SG_ENGINE_INRULES_SET || c->op == SG_ENGINE_INRULES_DELETE) &&
      index_of(ir, c->id) < 0)
    return SG_ENOENT;
  for (size_t i = 0; c->op == SG_ENGINE_INRULES_REPLACE && i < c->n; i++)
    if (c->rules[i].id > 0 && index_of(ir, c->rules[i].id) < 0)
      return SG_ENOENT;
  size_t room = ir->n + (c->op == SG_ENGINE_INRULES_ADD);
  if (c->op != SG_ENGINE_INRULES_REPLACE && c->n == 1 &&
      c->rules[0].position > room)
    return SG_ERANGE;
  if (c->op == SG_ENGINE_INRULES_ADD && ir->n >= SG_STORE_INRULES_MAX)
    return SG_ERANGE;
  return 0;
}

int sg_engine_inrules_change(sg_engine_t *e,
                             const sg_engine_inrules_change_t *c,
                             sg_inrule_err_t *err, sg_engine_inrules_cb cb,
                             void *ud) {
  if (e == NULL || c == NULL || err == NULL || cb == NULL)
    return SG_EINVAL;
  struct sg__inrules *ir = e->inrules;
  if (e->state != SG__RUNNING || ir == NULL)
    return SG_ECLOSED;
  int rc = check_change(e, c, err);
  if (rc == 0 && !ir->busy && ir->head == NULL)
    rc = check_now(ir, c);
  if (rc != 0)
    return rc;
  pending_t *p = sg_calloc(1, sizeof *p);
  sg_inrule_t *copies = NULL;
  if (p == NULL || (c->n > 0 && copy_list(&copies, c->rules, c->n, 0))) {
    sg_free(p);
    return SG_ENOMEM;
  }
  for (size_t i = 0; i < c->n; i++)
    copies[i].position = c->rules[i].position;
  *p = (pending_t){NULL, c->op, c->id, copies, c->n, cb, ud};
  if (ir->tail != NULL)
    ir->tail->next = p;
  else
    ir->head = p;
  ir->tail = p;
  if (!ir->busy && ir->head == p && (rc = start_change(ir)) != 0) {
    ir->head = ir->tail = NULL;
    pending_free(p);
    return rc;
  }
  return 0;
}

/* ---- reply counts -------------------------------------------------------- */

static void count_cb(sg_store_t *st, int status, void *data) {
  (void)st;
  sg_engine_t *e = data;
  sg__op_end(e);
  if (status != 0)
    sg__log(e, SG_ENGINE_LOG_WARN,
            "automatic reply count not kept in the store: %s",
            sg_strerror(status));
  sg__maybe_stopped(e);
}

void sg__inrules_count_reply(sg_engine_t *e, sg_replyguard_t *g,
                             const char *from, const char *to) {
  char key[128];
  sg_store_replycount_t row = {.pair = key};
  if (!sg_replyguard_state(g, from, to, key, sizeof key, &row.start_ms,
                           &row.count))
    return;
  int64_t expire = sg__now_ms(e) - (int64_t)e->cfg->inbound.reply_window_ms;
  if (sg_store_replycount_set(e->st, &row, expire > 0 ? expire : 0, count_cb,
                              e) == 0)
    sg__op_begin(e);
}
