/* campaigns.c - the campaign runner (see engine/campaigns.h): keeps the
 * campaigns that are scheduled, running or paused, starts, expands and
 * releases them through sg_engine_submit, completes them, and cancels the
 * queued messages of a cancelled one.
 *
 * It must never send by any other path than sg_engine_submit, never hold
 * more than one chunk of a campaign's recipients, and never submit a taken
 * release under a new idempotency key (that would send it twice).
 */
#include "engine/campaigns.h"

#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "connector/smpp_client.h"
#include "core/alloc.h"
#include "core/error.h"
#include "core/limits.h"
#include "core/template.h"
#include "core/tzwin.h"
#include "engine/engine_int.h"

#define PAGE 1000         /* pending recipients read at once */
#define EXPAND_CHUNK 5000 /* list members one expansion takes */
#define TEXT_MAX (SG_STORE_CAMPAIGN_BODY_MAX * 4)

typedef struct camp {
  struct sg__campaigns *cs;
  char id[SG_ID_LEN + 1];
  int64_t account_id;
  sg_campaign_status_t status;
  char *body, *sender, *callback_url;
  bool is_template;
  int64_t send_at_ms, validity_ms;
  int win_start, win_end;
  uint32_t rate;
  double tokens;
  int64_t tokens_ms;
  bool expanded;
  bool expanding, releasing, changing; /* a store call in flight */
  bool recover;       /* read back taken releases before new ones */
  int64_t after_id;   /* the pending scan's cursor */
  bool pass_released; /* something was released in this scan pass */
  int64_t next_scan_ms;
  bool cancelling;
  char cancel_after[SG_ID_LEN + 1];
  bool gone; /* completed or cancelled: freed when idle */
  /* The release in flight. */
  int64_t rel;
  unsigned submits; /* submits not answered */
  int rel_status;   /* 0, or why the release must be tried again */
  const char *pause_why;
  char pause_buf[256];
  int64_t *invalid;
  size_t n_invalid;
} camp_t;

struct user_call;

typedef struct sg__campaigns {
  sg_engine_t *e;
  camp_t **v;
  size_t n;
  bool loaded, loading;
  size_t creating;           /* creates sent to the store, not answered */
  struct user_call *creates; /* those creates' calls, for their ids */
  sg_tzwin_t *tz;
} sg__campaigns_t;

/* ---- the set of campaigns ------------------------------------------------ */

static sg__campaigns_t *cs_get(sg_engine_t *e) {
  if (e->campaigns == NULL) {
    e->campaigns = sg_calloc(1, sizeof(sg__campaigns_t));
    if (e->campaigns != NULL) {
      e->campaigns->e = e;
      e->campaigns->tz = sg_tzwin_new();
      e->campaigns->v = sg_calloc(SG_ENGINE_CAMPAIGNS_MAX, sizeof(camp_t *));
      if (e->campaigns->tz == NULL || e->campaigns->v == NULL) {
        sg__campaigns_free(e);
        return NULL;
      }
    }
  }
  return e->campaigns;
}

static void camp_free(camp_t *c) {
  if (c == NULL)
    return;
  sg_free(c->body);
  sg_free(c->sender);
  sg_free(c->callback_url);
  sg_free(c->invalid);
  sg_free(c);
}

void sg__campaigns_free(sg_engine_t *e) {
  sg__campaigns_t *cs = e->campaigns;
  if (cs == NULL)
    return;
  for (size_t i = 0; cs->v != NULL && i < cs->n; i++)
    camp_free(cs->v[i]);
  sg_free(cs->v);
  sg_tzwin_free(cs->tz);
  sg_free(cs);
  e->campaigns = NULL;
}

static camp_t *find(sg__campaigns_t *cs, const char *id) {
  for (size_t i = 0; i < cs->n; i++)
    if (strcmp(cs->v[i]->id, id) == 0)
      return cs->v[i];
  return NULL;
}

static bool idle(const camp_t *c) {
  return !c->expanding && !c->releasing && !c->changing && !c->cancelling;
}

/* Frees the campaigns that ended and have nothing in flight. */
static void sweep(sg__campaigns_t *cs) {
  size_t j = 0;
  for (size_t i = 0; i < cs->n; i++) {
    if (cs->v[i]->gone && idle(cs->v[i]))
      camp_free(cs->v[i]);
    else
      cs->v[j++] = cs->v[i];
  }
  cs->n = j;
}

static void apply_row(camp_t *c, const sg_store_campaign_t *k) {
  c->status = k->status;
  c->expanded = k->expanded;
  c->gone = k->status == SG_CAMPAIGN_COMPLETED;
  if (k->status == SG_CAMPAIGN_CANCELLED && !c->cancelling && !c->gone) {
    c->cancelling = true; /* its queued messages go next */
    c->cancel_after[0] = '\0';
  }
}

static char *dup_or_null(const char *s, bool *ok) {
  if (s == NULL)
    return NULL;
  char *d = sg_strdup(s);
  *ok = *ok && d != NULL;
  return d;
}

static int add(sg__campaigns_t *cs, const sg_store_campaign_t *k) {
  if (find(cs, k->id) != NULL)
    return 0;
  if (cs->n == SG_ENGINE_CAMPAIGNS_MAX)
    return SG_EBUSY;
  camp_t *c = sg_calloc(1, sizeof *c);
  if (c == NULL)
    return SG_ENOMEM;
  bool ok = true;
  c->cs = cs;
  memcpy(c->id, k->id, sizeof c->id);
  c->account_id = k->account_id;
  c->body = dup_or_null(k->body, &ok);
  c->sender = dup_or_null(k->sender, &ok);
  c->callback_url = dup_or_null(k->callback_url, &ok);
  c->invalid = sg_calloc(SG_STORE_CAMPAIGN_TAKE_MAX, sizeof *c->invalid);
  if (!ok || c->body == NULL || c->invalid == NULL) {
    camp_free(c);
    return SG_ENOMEM;
  }
  c->is_template = k->template_id > 0;
  c->send_at_ms = k->send_at_ms;
  c->validity_ms = k->validity_ms;
  c->win_start = k->window_start;
  c->win_end = k->window_end;
  c->rate = k->rate_per_minute;
  c->tokens_ms = sg__now_ms(cs->e);
  c->recover = true; /* releases taken before a restart */
  apply_row(c, k);
  cs->v[cs->n++] = c;
  return 0;
}

/* ---- store calls ----------------------------------------------------------
 */

static void step(camp_t *c);

static int call(camp_t *c, sg_store_campop_t *op, sg_store_campres_cb cb) {
  op->id = c->id;
  int rc = sg_store_campaigns(c->cs->e->st, op, cb, c);
  if (rc == 0)
    sg__op_begin(c->cs->e);
  return rc;
}

/* Every store callback of a campaign starts with this: false when the
 * engine stops (the campaign is left as the store has it). */
static bool back(camp_t *c) {
  sg_engine_t *e = c->cs->e;
  sg__op_end(e);
  if (e->state != SG__RUNNING) {
    sg__maybe_stopped(e);
    return false;
  }
  return true;
}

static void changed_cb(sg_store_t *st, int status,
                       const sg_store_campres_t *res, void *data) {
  (void)st;
  camp_t *c = data;
  c->changing = false;
  if (status == 0)
    apply_row(c, &res->campaigns[0]);
  if (status == 0 && c->status == SG_CAMPAIGN_PAUSED && c->pause_why != NULL)
    sg__log(c->cs->e, SG_ENGINE_LOG_WARN, "campaign=%s: paused: %s", c->id,
            c->pause_why);
  c->pause_why = NULL;
  if (status == 0 && c->status == SG_CAMPAIGN_COMPLETED)
    sg__log(c->cs->e, SG_ENGINE_LOG_INFO, "campaign=%s: completed", c->id);
  if (back(c))
    step(c);
}

static void change(camp_t *c, sg_store_campop_kind_t kind, const char *why) {
  sg_store_campop_t op = {.kind = kind, .error = why};
  c->pause_why = why;
  if (call(c, &op, changed_cb) == 0)
    c->changing = true;
}

/* ---- expansion ------------------------------------------------------------
 */

static void expand_cb(sg_store_t *st, int status, const sg_store_campres_t *res,
                      void *data) {
  (void)st;
  camp_t *c = data;
  c->expanding = false;
  if (status == 0) {
    c->expanded = res->expanded;
    if (res->expanded)
      sg__log(c->cs->e, SG_ENGINE_LOG_INFO, "campaign=%s: lists expanded",
              c->id);
  }
  if (back(c) && status == 0)
    step(c);
}

static void expand_next(camp_t *c) {
  sg_store_campop_t op = {.kind = SG_STORE_CAMPAIGN_EXPAND,
                          .limit = EXPAND_CHUNK};
  if (call(c, &op, expand_cb) == 0)
    c->expanding = true;
}

/* ---- one release ------------------------------------------------------------
 * Recipients taken as c->rel are submitted in groups of the same text; when
 * every group has answered, they are marked released (and the refused ones
 * invalid), or, if a group must be tried again, left taken for recovery. */

static void released_cb(sg_store_t *st, int status,
                        const sg_store_campres_t *res, void *data) {
  (void)st;
  (void)res;
  camp_t *c = data;
  c->releasing = false;
  if (status != 0)
    c->recover = true;
  if (back(c))
    step(c);
}

static void release_end(camp_t *c) {
  if (c->rel_status != 0) {
    c->releasing = false;
    c->recover = true; /* same rel, same keys, next tick */
    if (c->pause_why != NULL)
      change(c, SG_STORE_CAMPAIGN_PAUSE, c->pause_why);
    return;
  }
  sg_store_campop_t op = {.kind = SG_STORE_CAMPAIGN_RELEASED,
                          .rel = c->rel,
                          .ids = c->invalid,
                          .n_ids = c->n_invalid};
  if (call(c, &op, released_cb) != 0) {
    c->releasing = false;
    c->recover = true;
  }
}

typedef struct group {
  camp_t *c;
  int64_t *ids; /* the group's recipients, in the order of `to` */
  size_t n;
} group_t;

static void note_invalid(camp_t *c, int64_t id) {
  if (c->n_invalid < SG_STORE_CAMPAIGN_TAKE_MAX)
    c->invalid[c->n_invalid++] = id;
}

/* A replayed answer has only its JSON body: a recipient refused the first
 * time is an entry with "input" instead of "id". */
static void replay_invalid(group_t *g, const sg_submit_res_t *res) {
  json_t *o =
      json_loadb((const char *)res->response, res->response_len, 0, NULL);
  json_t *msgs = json_object_get(o, "messages");
  for (size_t i = 0; i < g->n && i < json_array_size(msgs); i++)
    if (json_object_get(json_array_get(msgs, i), "id") == NULL)
      note_invalid(g->c, g->ids[i]);
  json_decref(o);
}

static void submit_cb(sg_engine_t *e, const sg_submit_res_t *res, void *ud) {
  (void)e;
  group_t *g = ud;
  camp_t *c = g->c;
  if (res->status == 0 && res->replayed) {
    replay_invalid(g, res);
  } else if (res->status == 0) {
    for (size_t i = 0; i < g->n && i < res->n_items; i++)
      if (res->items[i].status != 0)
        note_invalid(c, g->ids[i]);
  } else if (res->status == SG_EINVAL && res->error_field != NULL &&
             strcmp(res->error_field, "to") == 0) {
    for (size_t i = 0; i < g->n; i++) /* no recipient was valid */
      note_invalid(c, g->ids[i]);
  } else {
    c->rel_status = res->status;
    if (res->status == SG_EINVAL || res->status == SG_EEXIST) {
      snprintf(c->pause_buf, sizeof c->pause_buf, "%s%s%s: %s",
               res->error_code ? res->error_code : "invalid",
               res->error_field ? " in " : "",
               res->error_field ? res->error_field : "", res->message);
      c->pause_why = c->pause_buf;
    }
  }
  sg_free(g->ids);
  sg_free(g);
  if (--c->submits == 0)
    release_end(c);
}

/* Submits recipients r[0..n) with text[0..len) as group k of c->rel. */
static void submit_group(camp_t *c, const sg_store_campaign_rcpt_t *r, size_t n,
                         const char *text, size_t len, unsigned k) {
  sg_engine_t *e = c->cs->e;
  group_t *g = sg_calloc(1, sizeof *g);
  const char **to = sg_calloc(n, sizeof *to);
  if (g != NULL)
    g->ids = sg_calloc(n, sizeof *g->ids);
  if (g == NULL || to == NULL || g->ids == NULL) {
    if (g != NULL)
      sg_free(g->ids);
    sg_free(g);
    sg_free(to);
    c->rel_status = SG_ENOMEM;
    return;
  }
  g->c = c;
  g->n = n;
  for (size_t i = 0; i < n; i++) {
    to[i] = r[i].number;
    g->ids[i] = r[i].id;
  }
  char key[80];
  snprintf(key, sizeof key, "campaign:%s:%lld:%u", c->id, (long long)c->rel, k);
  sg_submit_req_t req = {.account = sg_engine_account_by_id(e, c->account_id),
                         .to = to,
                         .n_to = n,
                         .from = c->sender,
                         .text = text,
                         .text_len = len,
                         .callback_url = c->callback_url,
                         .validity_ms = c->validity_ms,
                         .idem_key = key,
                         .request_hash = (const uint8_t *)key,
                         .request_hash_len = strlen(key),
                         .dlr = true,
                         .batch_id = c->id};
  c->submits++;
  int rc = SG_EINVAL;
  if (req.account == NULL)
    c->pause_why = "the campaign's account is gone";
  else
    rc = sg_engine_submit(e, &req, submit_cb, g);
  sg_free(to);
  if (rc != 0) {
    c->submits--;
    c->rel_status = rc;
    sg_free(g->ids);
    sg_free(g);
  }
}

typedef struct values {
  const sg_store_campaign_rcpt_t *r;
  json_t *fields;
} values_t;

static const char *lookup(void *data, const char *key) {
  values_t *v = data;
  if (strcmp(key, "name") == 0)
    return v->r->name;
  if (strcmp(key, "number") == 0)
    return v->r->number;
  return json_string_value(json_object_get(v->fields, key + 7));
}

/* The template filled for r into out; false when a value is missing. */
static bool fill(camp_t *c, const sg_store_campaign_rcpt_t *r, char *out,
                 size_t *len) {
  values_t v = {r, r->fields ? json_loads(r->fields, 0, NULL) : NULL};
  char missing[SG_TEMPLATE_NAME_MAX];
  int rc = sg_template_fill(c->body, strlen(c->body), lookup, &v, out, TEXT_MAX,
                            len, missing, sizeof missing);
  json_decref(v.fields);
  return rc == 0;
}

/* Templates: consecutive recipients with the same filled text share a
 * submit; a recipient whose template cannot be filled is invalid. */
static void submit_filled(camp_t *c, const sg_store_campaign_rcpt_t *r,
                          size_t n) {
  static char cur[TEXT_MAX], next[TEXT_MAX];
  size_t cur_len = 0, first = 0;
  unsigned k = 0;
  bool have = false;
  for (size_t i = 0; i < n; i++) {
    size_t len;
    if (!fill(c, &r[i], next, &len)) {
      if (have)
        submit_group(c, &r[first], i - first, cur, cur_len, k++);
      have = false;
      note_invalid(c, r[i].id);
      continue;
    }
    if (have && len == cur_len && memcmp(next, cur, len) == 0)
      continue;
    if (have)
      submit_group(c, &r[first], i - first, cur, cur_len, k++);
    memcpy(cur, next, len);
    cur_len = len;
    first = i;
    have = true;
  }
  if (have)
    submit_group(c, &r[first], n - first, cur, cur_len, k);
}

/* Submits the recipients of release rel. */
static void release_run(camp_t *c, int64_t rel,
                        const sg_store_campaign_rcpt_t *r, size_t n) {
  c->rel = rel;
  c->rel_status = 0;
  c->n_invalid = 0;
  c->pause_why = NULL;
  c->submits = 1; /* held until every group is out */
  if (c->is_template)
    submit_filled(c, r, n);
  else
    submit_group(c, r, n, c->body, strlen(c->body), 0);
  if (--c->submits == 0)
    release_end(c);
}

static void recover_cb(sg_store_t *st, int status,
                       const sg_store_campres_t *res, void *data) {
  (void)st;
  camp_t *c = data;
  if (!back(c)) {
    c->releasing = false;
    return;
  }
  if (status != 0) {
    c->releasing = false;
    return; /* next tick */
  }
  if (res->rel == 0 || res->n_rcpts == 0) {
    c->releasing = false;
    c->recover = false;
    step(c);
    return;
  }
  sg__log(c->cs->e, SG_ENGINE_LOG_INFO,
          "campaign=%s: release %lld of %zu recipient(s) submitted again",
          c->id, (long long)res->rel, res->n_rcpts);
  release_run(c, res->rel, res->rcpts, res->n_rcpts);
}

/* The recipients of the page the last PENDING read gave, kept from the
 * read to the take's answer (one release in flight per campaign). */
typedef struct take_ctx {
  camp_t *c;
  sg_store_campaign_rcpt_t *r;
  size_t n;
  char *strings; /* the numbers, names and fields of r */
} take_ctx_t;

static void take_ctx_free(take_ctx_t *t) {
  if (t == NULL)
    return;
  sg_free(t->r);
  sg_free(t->strings);
  sg_free(t);
}

static void take_cb(sg_store_t *st, int status, const sg_store_campres_t *res,
                    void *data) {
  (void)st;
  take_ctx_t *t = data;
  camp_t *c = t->c;
  if (!back(c) || status != 0) {
    c->releasing = false;
    c->recover = c->recover || status != 0;
    take_ctx_free(t);
    return;
  }
  if (res->changed != t->n) {
    /* Some were no longer pending: read what was taken, as after a crash. */
    c->releasing = false;
    c->recover = true;
    take_ctx_free(t);
    step(c);
    return;
  }
  release_run(c, res->rel, t->r, t->n);
  take_ctx_free(t);
}

static bool in_window(camp_t *c, const char *number, int64_t now) {
  if (c->win_start < 0)
    return true;
  sg_engine_t *e = c->cs->e;
  sg_phone_t p;
  const char *region = NULL;
  if (e->phone != NULL &&
      sg_phone_normalize(e->phone, number, strlen(number), NULL, &p, NULL) == 0)
    region = p.region;
  return sg_tzwin_inside(c->cs->tz, region, now, c->win_start, c->win_end);
}

static size_t strings_size(const sg_store_campaign_rcpt_t *r) {
  return strlen(r->number) + 1 + (r->name ? strlen(r->name) + 1 : 0) +
         (r->fields ? strlen(r->fields) + 1 : 0);
}

static const char *put(char **p, const char *s) {
  if (s == NULL)
    return NULL;
  size_t n = strlen(s) + 1;
  memcpy(*p, s, n);
  *p += n;
  return *p - n;
}

/* Copies the chosen recipients (the store's result dies with the call). */
static take_ctx_t *take_ctx_new(camp_t *c, const sg_store_campaign_rcpt_t *src,
                                const size_t *pick, size_t n) {
  take_ctx_t *t = sg_calloc(1, sizeof *t);
  size_t total = 0;
  for (size_t i = 0; i < n; i++)
    total += strings_size(&src[pick[i]]);
  if (t != NULL) {
    t->r = sg_calloc(n, sizeof *t->r);
    t->strings = sg_malloc(total + 1);
  }
  if (t == NULL || t->r == NULL || t->strings == NULL) {
    take_ctx_free(t);
    return NULL;
  }
  t->c = c;
  t->n = n;
  char *p = t->strings;
  for (size_t i = 0; i < n; i++) {
    const sg_store_campaign_rcpt_t *s = &src[pick[i]];
    t->r[i] = *s;
    t->r[i].number = put(&p, s->number);
    t->r[i].name = put(&p, s->name);
    t->r[i].fields = put(&p, s->fields);
  }
  return t;
}

static size_t budget(camp_t *c) {
  if (c->rate == 0)
    return SG_STORE_CAMPAIGN_TAKE_MAX;
  double b = c->tokens;
  return b < 1                            ? 0
         : b > SG_STORE_CAMPAIGN_TAKE_MAX ? SG_STORE_CAMPAIGN_TAKE_MAX
                                          : (size_t)b;
}

static void page_end(camp_t *c, int64_t now) {
  /* The pass reached the end of the pending recipients. */
  if (c->after_id != 0 && !c->pass_released && c->win_start >= 0)
    c->next_scan_ms = now - now % 60000 + 60000; /* the next minute */
  c->after_id = 0;
  c->pass_released = false;
}

static void take(camp_t *c, const sg_store_campres_t *res, int64_t now) {
  size_t *pick = sg_calloc(res->n_rcpts ? res->n_rcpts : 1, sizeof *pick);
  size_t n = 0, max = budget(c);
  if (pick == NULL) {
    c->releasing = false;
    return;
  }
  size_t i = 0;
  for (; i < res->n_rcpts && n < max; i++)
    if (in_window(c, res->rcpts[i].number, now))
      pick[n++] = i;
  /* The scan goes on after the last recipient looked at. */
  c->after_id = i > 0 ? res->rcpts[i - 1].id : c->after_id;
  if (i == res->n_rcpts && res->n_rcpts < PAGE) {
    /* This page's picks count for the pass: a last page that released
     * recipients is not a pass that found nobody in their window. */
    c->pass_released = c->pass_released || n > 0;
    page_end(c, now);
  }
  take_ctx_t *t = n ? take_ctx_new(c, res->rcpts, pick, n) : NULL;
  sg_free(pick);
  if (t == NULL) {
    c->releasing = false;
    if (n == 0 && c->after_id != 0)
      step(c); /* the next page */
    return;
  }
  int64_t *ids = sg_calloc(n, sizeof *ids);
  for (size_t k = 0; ids != NULL && k < n; k++)
    ids[k] = t->r[k].id;
  sg_store_campop_t op = {
      .kind = SG_STORE_CAMPAIGN_TAKE, .ids = ids, .n_ids = n};
  op.id = c->id;
  int rc = ids ? sg_store_campaigns(c->cs->e->st, &op, take_cb, t) : SG_ENOMEM;
  sg_free(ids);
  if (rc != 0) {
    take_ctx_free(t);
    c->releasing = false;
    return;
  }
  sg__op_begin(c->cs->e);
  if (c->rate > 0)
    c->tokens -= (double)n;
  c->pass_released = true;
}

static void pending_cb(sg_store_t *st, int status,
                       const sg_store_campres_t *res, void *data) {
  (void)st;
  camp_t *c = data;
  if (!back(c) || status != 0) {
    c->releasing = false;
    return;
  }
  int64_t now = sg__now_ms(c->cs->e);
  if (res->n_rcpts == 0) {
    bool whole = c->after_id == 0;
    page_end(c, now);
    c->releasing = false;
    if (!whole)
      step(c);
    else if (c->expanded && c->status == SG_CAMPAIGN_RUNNING)
      c->next_scan_ms = now + 1000; /* nothing pending: COMPLETE decides */
    return;
  }
  take(c, res, now);
}

static void release_next(camp_t *c, int64_t now) {
  sg_store_campop_t op = {.with_contact = c->is_template};
  sg_store_campres_cb cb;
  if (c->recover) {
    op.kind = SG_STORE_CAMPAIGN_RELEASING;
    cb = recover_cb;
  } else {
    if (now < c->next_scan_ms || budget(c) == 0)
      return;
    op.kind = SG_STORE_CAMPAIGN_PENDING;
    op.after_id = c->after_id;
    op.limit = PAGE;
    cb = pending_cb;
  }
  if (call(c, &op, cb) == 0)
    c->releasing = true;
}

/* ---- cancellation ---------------------------------------------------------
 */

static void cancel_cb(sg_store_t *st, int status, const sg_store_campres_t *res,
                      void *data) {
  (void)st;
  camp_t *c = data;
  bool more = status != 0 || res->more;
  if (status == 0 && res->next_after[0] != '\0')
    memcpy(c->cancel_after, res->next_after, sizeof c->cancel_after);
  if (status == 0 && res->changed > 0)
    sg__log(c->cs->e, SG_ENGINE_LOG_INFO,
            "campaign=%s: %zu queued message(s) canceled", c->id, res->changed);
  c->cancelling = more;
  c->gone = !more;
  c->releasing = false; /* reused as "a cancel step in flight" */
  if (back(c) && more && status == 0)
    step(c);
}

static void cancel_next(camp_t *c) {
  sg_store_campop_t op = {.kind = SG_STORE_CAMPAIGN_CANCEL_STEP,
                          .after = c->cancel_after,
                          .limit = 500};
  if (call(c, &op, cancel_cb) == 0)
    c->releasing = true;
}

/* ---- the steps -------------------------------------------------------------
 */

static void refill(camp_t *c, int64_t now) {
  if (c->rate == 0)
    return;
  double add = (double)(now - c->tokens_ms) * c->rate / 60000.0;
  double cap = c->rate / 12.0 < 1 ? 1 : c->rate / 12.0; /* 5 s worth */
  c->tokens = c->tokens + add > cap ? cap : c->tokens + add;
  c->tokens_ms = now;
}

static void step(camp_t *c) {
  sg_engine_t *e = c->cs->e;
  if (e->state != SG__RUNNING || c->changing)
    return;
  int64_t now = sg__now_ms(e);
  if (c->status == SG_CAMPAIGN_CANCELLED) {
    if (c->cancelling && !c->releasing && !c->expanding)
      cancel_next(c);
    return;
  }
  if (c->gone)
    return;
  if (c->status == SG_CAMPAIGN_SCHEDULED) {
    if (c->send_at_ms <= now)
      change(c, SG_STORE_CAMPAIGN_START, NULL);
    return;
  }
  if (!c->expanded && !c->expanding)
    expand_next(c);
  if (c->status != SG_CAMPAIGN_RUNNING || c->releasing)
    return;
  refill(c, now);
  if (c->expanded && !c->recover && c->after_id == 0 &&
      now >= c->next_scan_ms && c->next_scan_ms != 0) {
    c->next_scan_ms = 0;
    change(c, SG_STORE_CAMPAIGN_COMPLETE, NULL); /* SG_ESTATE: not yet */
    return;
  }
  release_next(c, now);
}

static bool being_created(const sg__campaigns_t *cs, const char *id);

static void active_cb(sg_store_t *st, int status, const sg_store_campres_t *res,
                      void *data) {
  (void)st;
  sg__campaigns_t *cs = data;
  sg__op_end(cs->e);
  cs->loading = false;
  if (status != 0)
    return; /* tried again next tick */
  cs->loaded = true;
  for (size_t i = 0; i < res->n_campaigns; i++)
    /* A create committed but not answered yet is counted in creating, and
     * its answer adds it: added here too, it would count twice until then,
     * and a create could be refused for a limit not reached. */
    if (!being_created(cs, res->campaigns[i].id) &&
        add(cs, &res->campaigns[i]) != 0)
      sg__log(cs->e, SG_ENGINE_LOG_ERROR,
              "campaign=%s: not resumed: too many campaigns or no memory",
              res->campaigns[i].id);
  if (res->n_campaigns > 0)
    sg__log(cs->e, SG_ENGINE_LOG_INFO, "%zu campaign(s) resumed",
            res->n_campaigns);
  sg__maybe_stopped(cs->e);
}

void sg__campaigns_tick(sg_engine_t *e) {
  sg__campaigns_t *cs = cs_get(e);
  if (cs == NULL || e->state != SG__RUNNING)
    return;
  if (!cs->loaded) {
    sg_store_campop_t op = {.kind = SG_STORE_CAMPAIGN_ACTIVE};
    if (!cs->loading && sg_store_campaigns(e->st, &op, active_cb, cs) == 0) {
      cs->loading = true;
      sg__op_begin(e);
    }
    return;
  }
  sweep(cs);
  for (size_t i = 0; i < cs->n; i++)
    step(cs->v[i]);
}

/* ---- the ingress's calls
 * ----------------------------------------------------- */

typedef struct user_call {
  sg__campaigns_t *cs;
  sg_store_campres_cb cb;
  void *data;
  bool write;  /* a change: the runner takes the row that comes back */
  bool create; /* counted in cs->creating, listed in cs->creates */
  char id[SG_ID_LEN + 1];                /* a create's campaign id */
  struct user_call *next_create, **prev; /* in cs->creates */
} user_call_t;

static bool being_created(const sg__campaigns_t *cs, const char *id) {
  for (const user_call_t *u = cs->creates; u != NULL; u = u->next_create)
    if (strcmp(u->id, id) == 0)
      return true;
  return false;
}

static void user_cb(sg_store_t *st, int status, const sg_store_campres_t *res,
                    void *data) {
  user_call_t *u = data;
  sg__campaigns_t *cs = u->cs;
  sg__op_end(cs->e);
  if (u->create) {
    cs->creating--;
    *u->prev = u->next_create;
    if (u->next_create != NULL)
      u->next_create->prev = u->prev;
  }
  /* Also before the first load: a campaign created while the active ones
   * are being read may be missing from what that read returns. */
  if (status == 0 && u->write && res->n_campaigns == 1) {
    const sg_store_campaign_t *k = &res->campaigns[0];
    camp_t *c = find(cs, k->id);
    if (c == NULL &&
        (k->status == SG_CAMPAIGN_SCHEDULED ||
         k->status == SG_CAMPAIGN_RUNNING || k->status == SG_CAMPAIGN_PAUSED ||
         k->status == SG_CAMPAIGN_CANCELLED))
      add(cs, k); /* a cancelled one: its cancel steps run */
    else if (c != NULL && !c->changing)
      apply_row(c, k);
    if ((c = find(cs, k->id)) != NULL)
      step(c);
  }
  u->cb(st, status, res, u->data);
  sg_free(u);
}

static int user_run(sg_engine_t *e, const sg_store_campop_t *op,
                    sg_store_campres_cb cb, void *data) {
  sg__campaigns_t *cs = cs_get(e);
  user_call_t *u = cs ? sg_calloc(1, sizeof *u) : NULL;
  if (u == NULL)
    return SG_ENOMEM;
  u->cs = cs;
  u->cb = cb;
  u->data = data;
  u->write = op->kind < SG_STORE_CAMPOP_FIRST_READ;
  u->create = op->kind == SG_STORE_CAMPAIGN_CREATE;
  int rc = sg_store_campaigns(e->st, op, user_cb, u);
  if (rc != 0) {
    sg_free(u);
    return rc;
  }
  sg__op_begin(e);
  if (u->create) {
    cs->creating++;
    memcpy(u->id, op->in.id, sizeof u->id); /* sg_id_new's, terminated */
    u->next_create = cs->creates;
    if (cs->creates != NULL)
      cs->creates->prev = &u->next_create;
    u->prev = &cs->creates;
    cs->creates = u;
  }
  return 0;
}

int sg_engine_campaign_sender_check(sg_engine_t *e, int64_t account_id,
                                    const char *from, const char **code,
                                    char *msg, size_t cap) {
  const sg_engine_account_t *a = sg_engine_account_by_id(e, account_id);
  if (a == NULL || a->cfg == NULL)
    return SG_ENOENT;
  const sg_config_account_t *cfg = a->cfg;
  if (from == NULL || from[0] == '\0')
    from = cfg->default_sender;
  sg_conn_addr_t addr;
  int rc = from != NULL ? sg_smpp_addr_from_text(from, &addr) : 0;
  if (from == NULL) {
    *code = "missing_sender";
    snprintf(msg, cap,
             "give a sender (from): the account has no "
             "default_sender");
  } else if (rc != 0) {
    *code = "invalid_sender";
    snprintf(msg, cap, "%s",
             rc == SG_ETOOLONG ? "the sender is too long: at most 20 digits "
                                 "or 11 characters"
                               : "the sender must be a number or printable "
                                 "ASCII text");
  } else if (!sg_limits_sender_allowed(cfg->senders, cfg->n_senders, from)) {
    *code = "sender_not_allowed";
    snprintf(msg, cap, "this account may not send as \"%s\"", from);
  } else {
    return 0;
  }
  return SG_EINVAL;
}

int sg_engine_campaign_create(sg_engine_t *e, int64_t account_id,
                              const sg_store_campaign_in_t *in,
                              sg_store_campres_cb cb, void *data) {
  if (e == NULL || in == NULL || cb == NULL)
    return SG_EINVAL;
  if (e->state != SG__RUNNING)
    return SG_ECLOSED;
  sg__campaigns_t *cs = cs_get(e);
  if (cs == NULL)
    return SG_ENOMEM;
  if (cs->n + cs->creating >= SG_ENGINE_CAMPAIGNS_MAX)
    return SG_ERANGE;
  char id[SG_ID_LEN + 1];
  int rc = sg_id_new(id);
  if (rc != 0)
    return rc;
  sg_store_campop_t op = {
      .kind = SG_STORE_CAMPAIGN_CREATE, .account_id = account_id, .in = *in};
  op.in.id = id;
  return user_run(e, &op, cb, data);
}

int sg_engine_campaign_op(sg_engine_t *e, const sg_store_campop_t *op,
                          sg_store_campres_cb cb, void *data) {
  if (e == NULL || op == NULL || cb == NULL)
    return SG_EINVAL;
  switch (op->kind) {
  case SG_STORE_CAMPAIGN_PAUSE:
  case SG_STORE_CAMPAIGN_RESUME:
  case SG_STORE_CAMPAIGN_CANCEL:
  case SG_STORE_CAMPAIGN_GET:
  case SG_STORE_CAMPAIGN_LIST:
    break;
  default:
    return SG_EINVAL;
  }
  if (op->kind < SG_STORE_CAMPOP_FIRST_READ && e->state != SG__RUNNING)
    return SG_ECLOSED;
  return user_run(e, op, cb, data);
}

size_t sg_engine_campaigns_active(sg_engine_t *e) {
  return e != NULL && e->campaigns != NULL ? e->campaigns->n : 0;
}
