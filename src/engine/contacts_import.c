/* contacts_import.c - CSV imports of contacts, streamed: each chunk of the
 * body is parsed as it arrives (core/contact_csv.h), each valid row's
 * number normalised with the account's region, and the rows written in
 * batches of up to SG_STORE_IMPORT_MAX through the store's writer. While
 * MAX_IN_FLIGHT batches wait for their commit the feeder is told to wait,
 * so memory stays bounded whatever the file's size.
 *
 * The engine keeps every running import and the last finished ones for
 * their progress (GET /v1/contacts/imports/{id}); records live in memory
 * only. This file must never answer a client or keep a whole file.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "core/alloc.h"
#include "core/contact_csv.h"
#include "core/error.h"
#include "engine/contacts.h"
#include "engine/engine_int.h"

#define BATCH_ROWS 2000 /* rows that make a batch worth queuing */
#define MAX_IN_FLIGHT 2 /* batches waiting for their commit */
#define RETRY_MS 20     /* when the store's queue was full */
#define ROW_BYTES (SG_STORE_NUMBER_MAX + SG_CCSV_NAME_MAX + 2)

typedef struct batch {
  sg_store_contact_in_t *rows;
  char **texts; /* one allocation per row: number, name, fields */
  size_t n, cap;
} batch_t;

struct sg_engine_import {
  sg_engine_t *e;
  struct sg_engine_import *next; /* e->imports list, newest first */
  const sg_engine_account_t *acct;
  sg_engine_import_info_t info;
  sg_ccsv_t *csv;
  batch_t batch;
  unsigned in_flight;
  bool waiting; /* the feeder was told SG_EBUSY */
  bool ended, detached, fired;
  sg_engine_import_resume_cb resume;
  sg_engine_import_done_cb done;
  void *data, *done_data;
  uv_timer_t retry;
  bool timer_on, closing; /* the retry timer: started; being closed */
  bool timer_closed, free_on_close;
  char message[160];
  char column[80];
  sg_engine_import_error_t errors[]; /* SG_ENGINE_IMPORT_ERRORS_MAX */
};

struct sg__imports {
  sg_engine_import_t *head;
  uint64_t next_id;
};

static int64_t wall_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- batches --------------------------------------------------------------
 */

static void batch_clear(batch_t *b, size_t from) {
  for (size_t i = from; i < b->n; i++)
    sg_free(b->texts[i]);
  b->n = from;
}

static void batch_free(batch_t *b) {
  batch_clear(b, 0);
  sg_free(b->rows);
  sg_free(b->texts);
}

static int batch_push(batch_t *b, const char *number, const char *name,
                      const char *fields) {
  if (b->n == b->cap) { /* two arrays of one capacity */
    size_t rcap = b->cap, tcap = b->cap;
    sg_store_contact_in_t *r =
        sg_grow(b->rows, &rcap, b->n + 1, 256, sizeof *r);
    if (r != NULL)
      b->rows = r;
    char **t = sg_grow(b->texts, &tcap, b->n + 1, 256, sizeof *t);
    if (t != NULL)
      b->texts = t;
    if (r == NULL || t == NULL)
      return SG_ENOMEM;
    b->cap = rcap;
  }
  size_t ln = strlen(number) + 1, lm = name ? strlen(name) + 1 : 0,
         lf = strlen(fields) + 1;
  char *p = sg_malloc(ln + lm + lf);
  if (p == NULL)
    return SG_ENOMEM;
  sg_store_contact_in_t *r = &b->rows[b->n];
  b->texts[b->n++] = p;
  r->number = memcpy(p, number, ln);
  r->name = name ? memcpy(p + ln, name, lm) : NULL;
  r->fields = memcpy(p + ln + lm, fields, lf);
  return 0;
}

/* ---- finishing --------------------------------------------------------------
 */

static void fail(sg_engine_import_t *imp, int status, const char *msg,
                 const char *column) {
  if (imp->info.status != 0)
    return;
  imp->info.status = status;
  snprintf(imp->message, sizeof imp->message, "%s", msg);
  snprintf(imp->column, sizeof imp->column, "%s", column ? column : "");
}

static void close_timer(sg_engine_import_t *imp);

static void maybe_done(sg_engine_import_t *imp) {
  bool rows_left = imp->batch.n > 0 && imp->info.status == 0;
  if (!imp->ended || imp->in_flight > 0 || rows_left || imp->info.done)
    return;
  imp->info.done = true;
  imp->info.finished_ms = wall_ms();
  batch_clear(&imp->batch, 0);
  imp->info.pending = 0;
  close_timer(imp);
  if (imp->done != NULL && !imp->detached && !imp->fired) {
    imp->fired = true;
    sg_engine_import_info_t info;
    sg_engine_import_info(imp, &info);
    imp->done(imp, &info, imp->done_data);
  }
}

static void free_import(sg_engine_import_t *imp);

static void timer_closed_cb(uv_handle_t *h) {
  sg_engine_import_t *imp = h->data;
  imp->timer_closed = true;
  if (imp->free_on_close)
    free_import(imp);
}

/* The timer is closed as soon as the import is done, so that the engine
 * can be freed without running the loop again. */
static void close_timer(sg_engine_import_t *imp) {
  if (imp->closing)
    return;
  imp->closing = true;
  uv_close((uv_handle_t *)&imp->retry, timer_closed_cb);
}

static void flush(sg_engine_import_t *imp, bool all);

static void retry_cb(uv_timer_t *t) {
  sg_engine_import_t *imp = t->data;
  imp->timer_on = false;
  flush(imp, imp->ended);
  maybe_done(imp);
}

static void batch_done(sg_store_t *st, int status, const sg_store_cres_t *res,
                       void *data) {
  (void)st;
  sg_engine_import_t *imp = data;
  imp->in_flight--;
  if (status == 0) {
    imp->info.imported += res->imported;
    imp->info.duplicates += res->duplicates;
    imp->info.pending -= res->imported + res->duplicates;
  } else if (status == SG_ENOENT) {
    fail(imp, SG_ENOENT, "the list does not exist", "list");
  } else {
    fail(imp, SG_EIO,
         "the store failed; rows after the last commit were "
         "not imported",
         NULL);
  }
  flush(imp, imp->ended);
  if (imp->waiting && imp->in_flight < MAX_IN_FLIGHT &&
      imp->batch.n < BATCH_ROWS) {
    imp->waiting = false;
    if (imp->resume != NULL && !imp->detached)
      imp->resume(imp, imp->data);
  }
  maybe_done(imp);
}

/* Queues the batch's rows in store batches (all of them when `all`, else
 * only while a full batch is there), until the store says it is busy. */
static void flush(sg_engine_import_t *imp, bool all) {
  batch_t *b = &imp->batch;
  while (imp->info.status == 0 && b->n > 0 && (all || b->n >= BATCH_ROWS) &&
         imp->in_flight < MAX_IN_FLIGHT) {
    size_t n = b->n < SG_STORE_IMPORT_MAX ? b->n : SG_STORE_IMPORT_MAX;
    sg_store_cop_t op = {.kind = SG_STORE_CONTACT_IMPORT,
                         .account_id = imp->acct->id,
                         .list_id = imp->info.list_id,
                         .rows = b->rows,
                         .n_rows = n};
    int rc = sg_store_contacts(imp->e->st, &op, batch_done, imp);
    if (rc == SG_EBUSY) {
      if (!imp->timer_on && !imp->closing) {
        imp->timer_on = true;
        uv_timer_start(&imp->retry, retry_cb, RETRY_MS, 0);
      }
      return;
    }
    if (rc != 0) {
      fail(imp, rc == SG_ENOMEM ? SG_ENOMEM : SG_EIO,
           "the store did not take the rows", NULL);
      return;
    }
    imp->in_flight++;
    /* The store copied the rows: drop them from the front. */
    for (size_t i = 0; i < n; i++)
      sg_free(b->texts[i]);
    memmove(b->rows, b->rows + n, (b->n - n) * sizeof *b->rows);
    memmove(b->texts, b->texts + n, (b->n - n) * sizeof *b->texts);
    b->n -= n;
  }
}

/* ---- rows ---------------------------------------------------------------- */

static void invalid(sg_engine_import_t *imp, size_t line, const char *reason,
                    const char *column) {
  imp->info.invalid++;
  if (imp->info.n_errors == SG_ENGINE_IMPORT_ERRORS_MAX)
    return;
  sg_engine_import_error_t *x = &imp->errors[imp->info.n_errors++];
  x->line = line;
  snprintf(x->reason, sizeof x->reason, "%s", reason);
  snprintf(x->column, sizeof x->column, "%s", column ? column : "");
}

static int row_cb(void *data, const sg_ccsv_row_t *row) {
  sg_engine_import_t *imp = data;
  imp->info.rows++;
  if (row->reason != NULL) {
    invalid(imp, row->line, row->reason, row->column);
    return 0;
  }
  char e164[SG_STORE_NUMBER_MAX], msg[128];
  if (sg_engine_contact_number(imp->e, imp->acct, row->number, e164, msg,
                               sizeof msg) != 0) {
    invalid(imp, row->line, msg, "number");
    return 0;
  }
  if (batch_push(&imp->batch, e164, row->name, row->fields) != 0)
    return SG_ENOMEM;
  imp->info.pending++;
  if (imp->batch.n >= BATCH_ROWS)
    flush(imp, false);
  return 0;
}

/* ---- the public calls
 * -------------------------------------------------------- */

static struct sg__imports *registry(sg_engine_t *e) {
  if (e->imports == NULL)
    e->imports = sg_calloc(1, sizeof *e->imports);
  return e->imports;
}

static void free_import(sg_engine_import_t *imp) {
  sg_ccsv_free(imp->csv);
  batch_free(&imp->batch);
  sg_free(imp);
}

/* Frees imp now if its timer is closed, else once it is. */
static void release(sg_engine_import_t *imp) {
  if (imp->timer_closed) {
    free_import(imp);
    return;
  }
  imp->free_on_close = true;
  close_timer(imp);
}

/* Forgets the oldest finished imports beyond SG_ENGINE_IMPORTS_KEPT. */
static void trim(struct sg__imports *r) {
  size_t kept = 0;
  for (sg_engine_import_t **pp = &r->head; *pp != NULL;) {
    sg_engine_import_t *imp = *pp;
    bool gone = imp->info.done && imp->in_flight == 0 && imp->detached &&
                ++kept > SG_ENGINE_IMPORTS_KEPT;
    if (!gone) {
      pp = &imp->next;
      continue;
    }
    *pp = imp->next;
    release(imp);
  }
}

int sg_engine_import_new(sg_engine_t *e, const sg_engine_account_t *a,
                         int64_t list_id, sg_engine_import_resume_cb resume,
                         void *data, sg_engine_import_t **out) {
  struct sg__imports *r = registry(e);
  sg_engine_import_t *imp =
      r ? sg_calloc(1, sizeof *imp + SG_ENGINE_IMPORT_ERRORS_MAX *
                                         sizeof(sg_engine_import_error_t))
        : NULL;
  if (imp == NULL)
    return SG_ENOMEM;
  if (sg_ccsv_new(row_cb, imp, &imp->csv) != 0) {
    sg_free(imp);
    return SG_ENOMEM;
  }
  uv_timer_init(e->loop, &imp->retry);
  imp->retry.data = imp;
  imp->e = e;
  imp->acct = a;
  imp->resume = resume;
  imp->data = data;
  imp->info.id = ++r->next_id;
  imp->info.account_id = a->id;
  imp->info.list_id = list_id;
  imp->info.started_ms = wall_ms();
  imp->next = r->head;
  r->head = imp;
  trim(r);
  *out = imp;
  return 0;
}

int sg_engine_import_feed(sg_engine_import_t *imp, const uint8_t *buf,
                          size_t len) {
  if (imp->info.status != 0)
    return imp->info.status;
  int rc = sg_ccsv_feed(imp->csv, buf, len);
  if (rc != 0) {
    const char *col;
    const char *m = sg_ccsv_error(imp->csv, &col);
    fail(imp, rc == SG_ENOMEM ? SG_ENOMEM : SG_EINVAL, m, col);
    return imp->info.status;
  }
  if (imp->in_flight >= MAX_IN_FLIGHT || imp->batch.n >= BATCH_ROWS) {
    imp->waiting = true;
    return SG_EBUSY;
  }
  return 0;
}

int sg_engine_import_end(sg_engine_import_t *imp, sg_engine_import_done_cb done,
                         void *data) {
  if (imp->ended)
    return SG_ESTATE;
  imp->ended = true;
  imp->done = done;
  imp->done_data = data;
  if (imp->info.status == 0 && sg_ccsv_finish(imp->csv) != 0) {
    const char *col;
    const char *m = sg_ccsv_error(imp->csv, &col);
    fail(imp, SG_EINVAL, m, col);
  }
  flush(imp, true);
  /* done fires from a store callback or, when nothing is in flight, from
   * a timer: never inside this call. */
  if (imp->in_flight == 0 && !imp->timer_on) {
    imp->timer_on = true;
    uv_timer_start(&imp->retry, retry_cb, 0, 0);
  }
  return 0;
}

void sg_engine_import_detach(sg_engine_import_t *imp) {
  imp->detached = true;
  if (!imp->ended) {
    imp->ended = true;
    fail(imp, SG_ECLOSED, "the client went away before the end of the file",
         NULL);
    maybe_done(imp);
  }
}

void sg_engine_import_info(const sg_engine_import_t *imp,
                           sg_engine_import_info_t *out) {
  *out = imp->info;
  out->message = imp->message;
  out->column = imp->column;
  out->errors = imp->errors;
}

const sg_engine_import_t *sg_engine_import_find(sg_engine_t *e, uint64_t id) {
  for (sg_engine_import_t *i = e->imports ? e->imports->head : NULL; i;
       i = i->next)
    if (i->info.id == id)
      return i;
  return NULL;
}

const sg_engine_import_t *sg_engine_import_at(sg_engine_t *e, size_t n) {
  sg_engine_import_t *i = e->imports ? e->imports->head : NULL;
  while (i != NULL && n-- > 0)
    i = i->next;
  return i;
}

void sg__imports_free(sg_engine_t *e) {
  if (e->imports == NULL)
    return;
  while (e->imports->head != NULL) {
    sg_engine_import_t *imp = e->imports->head;
    e->imports->head = imp->next;
    release(imp);
  }
  sg_free(e->imports);
  e->imports = NULL;
}
