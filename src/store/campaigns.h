/* campaigns.h - the store's campaigns (tables of migration 0015): a text or
 * a template sent to the members of contact lists, expanded into recipients
 * in chunks and released to the engine's submit path over time. Part of
 * the store's interface: store.h includes it, and everything store.h says
 * about threads, callbacks, durability and back-pressure holds here too.
 *
 * One entry point, sg_store_campaigns(), takes an operation
 * (sg_store_campop_t) and answers with one result type (sg_store_campres_t).
 * Writes run on the writer in its group commit; reads on a reader.
 *
 * A CAMPAIGN'S LIFE
 *   CREATE stores it 'scheduled' with its lists (each must be the
 *   account's) and, for a template, a copy of the template's body (a later
 *   edit of the template does not change a campaign). The engine STARTs it
 *   at send_at ('running'), then EXPANDs it chunk by chunk: each chunk takes
 *   the next members of its lists (in list order, then contact id) and
 *   inserts one recipient per distinct number, counting duplicates and
 *   opted-out numbers; the cursor moves in the same transaction, so after a
 *   crash the expansion goes on where it stopped, with no duplicate and no
 *   loss. The engine reads PENDING recipients, TAKEs the ones it sends now
 *   (they get the release number rel), submits them with an idempotency key
 *   made of the campaign id and rel, and marks them RELEASED. After a crash
 *   the recipients of a rel still taken are read back (RELEASING) and
 *   submitted again with the same key: the engine's idempotency answers the
 *   first submit's result, so nobody gets the message twice.
 *
 *   CANCEL sets the status and opens the cancel (cancel_open, migration
 *   0022); CANCEL_STEPs then end the queued messages and, once none is
 *   left, the unsent recipients (state cancelled); the last step closes the
 *   cancel. ACTIVE returns a campaign whose cancel is open, so after a
 *   crash the engine finishes it.
 *
 * COUNTERS
 *   Kept, never counted per read: the expansion and the release update the
 *   campaign's row, and triggers on the messages table move a message of
 *   the campaign (batch_id = the campaign's id) between queued, sent,
 *   delivered, failed and canceled as its status changes. A recipient a
 *   cancel ended unsent moves from pending to canceled.
 *
 * ISOLATION
 *   Every operation names an account; another account's campaign is
 *   SG_ENOENT. Reads (and engine-driven writes) with account_id 0 see every
 *   account.
 */
#ifndef SG_STORE_CAMPAIGNS_H
#define SG_STORE_CAMPAIGNS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/id.h"

typedef struct sg_store sg_store_t;

#define SG_STORE_CAMPAIGN_NAME_MAX 128
#define SG_STORE_CAMPAIGN_BODY_MAX 8192
#define SG_STORE_CAMPAIGN_LISTS_MAX 100
#define SG_STORE_CAMPAIGN_PAGE_MAX 1000    /* campaigns or recipients a read */
#define SG_STORE_CAMPAIGN_EXPAND_MAX 20000 /* members one EXPAND takes */
#define SG_STORE_CAMPAIGN_TAKE_MAX 1000    /* recipients one TAKE takes */
#define SG_STORE_CAMPAIGN_CANCEL_MAX 1000  /* messages one CANCEL_STEP ends */
#define SG_STORE_CAMPAIGN_ERROR_MAX 512

typedef enum sg_campaign_status {
  SG_CAMPAIGN_SCHEDULED = 0,
  SG_CAMPAIGN_RUNNING,
  SG_CAMPAIGN_PAUSED,
  SG_CAMPAIGN_COMPLETED,
  SG_CAMPAIGN_CANCELLED
} sg_campaign_status_t;

/* "scheduled", "running", "paused", "completed", "cancelled"; NULL for a
 * value outside the enum. Pure. */
const char *sg_campaign_status_name(sg_campaign_status_t s);
/* The status of a name; returns 0 or SG_EINVAL. Pure. */
int sg_campaign_status_parse(const char *name, sg_campaign_status_t *out);

typedef enum sg_store_campop_kind {
  /* writes */
  SG_STORE_CAMPAIGN_CREATE = 0,
  SG_STORE_CAMPAIGN_START,       /* scheduled -> running (started_ms) */
  SG_STORE_CAMPAIGN_PAUSE,       /* scheduled|running -> paused (error: why) */
  SG_STORE_CAMPAIGN_RESUME,      /* paused -> running, or scheduled if it
                                    never started */
  SG_STORE_CAMPAIGN_CANCEL,      /* scheduled|running|paused -> cancelled */
  SG_STORE_CAMPAIGN_COMPLETE,    /* running -> completed, only when it is
                                    expanded and nothing is pending or queued;
                                    SG_ESTATE otherwise */
  SG_STORE_CAMPAIGN_EXPAND,      /* the next `limit` list members */
  SG_STORE_CAMPAIGN_TAKE,        /* pending ids[] -> releasing, as rel */
  SG_STORE_CAMPAIGN_RELEASED,    /* rel's recipients -> released; ids[] of
                                    them the engine refused -> invalid */
  SG_STORE_CAMPAIGN_CANCEL_STEP, /* up to `limit` queued or scheduled
                                    messages of the campaign -> canceled;
                                    when none is left and the campaign's
                                    cancel is open: its taken recipients
                                    with a stored message -> released, and
                                    up to 5,000 unsent ones -> cancelled
                                    (pending -> canceled); the cancel
                                    closes when none is left */
  /* reads */
  SG_STORE_CAMPAIGN_GET,
  SG_STORE_CAMPAIGN_LIST,     /* newest first, `after` is the cursor */
  SG_STORE_CAMPAIGN_ACTIVE,   /* scheduled, running and paused ones of
                                 every account, and cancelled ones whose
                                 cancel is open, oldest first */
  SG_STORE_CAMPAIGN_PENDING,  /* pending recipients with id > after_id */
  SG_STORE_CAMPAIGN_RELEASING /* the recipients of the lowest rel still
                                 taken, in id order */
} sg_store_campop_kind_t;

#define SG_STORE_CAMPOP_FIRST_READ SG_STORE_CAMPAIGN_GET

/* What CREATE stores. */
typedef struct sg_store_campaign_in {
  const char *id; /* from sg_id_new: also the batch_id of its messages */
  const char *name;
  const char *body;         /* the text; NULL with template_id */
  int64_t template_id;      /* > 0: the body is copied from this template */
  const char *sender;       /* NULL: the account's default */
  int64_t send_at_ms;       /* 0: now */
  int window_start;         /* minutes after local midnight, -1: no window */
  int window_end;           /* 0..1440, != window_start; may wrap midnight */
  uint32_t rate_per_minute; /* 0: as fast as the engine takes them */
  int64_t validity_ms;      /* per message, from its release; 0: none */
  const char *callback_url; /* NULL: the account's */
  const int64_t *lists;     /* 1..SG_STORE_CAMPAIGN_LISTS_MAX */
  size_t n_lists;
} sg_store_campaign_in_t;

typedef struct sg_store_campop {
  sg_store_campop_kind_t kind;
  int64_t account_id; /* CREATE: > 0; else 0 is any account */
  const char *id;     /* the campaign (every kind but CREATE, LIST, ACTIVE) */
  sg_store_campaign_in_t in; /* CREATE */
  const char *error;         /* PAUSE: why (kept in the campaign), or NULL */
  int64_t rel;               /* RELEASED */
  const int64_t *ids;        /* TAKE (1..TAKE_MAX), RELEASED (0..TAKE_MAX) */
  size_t n_ids;
  int64_t after_id;  /* PENDING: recipients after this id; CANCEL_STEP */
  const char *after; /* LIST: the cursor (a campaign id), or NULL */
  bool with_contact; /* PENDING, RELEASING: join name and fields */
  unsigned limit;    /* EXPAND, PENDING, LIST, CANCEL_STEP; 0: default */
} sg_store_campop_t;

typedef struct sg_store_campaign {
  char id[SG_ID_LEN + 1];
  int64_t account_id;
  const char *name;
  sg_campaign_status_t status;
  const char *body;    /* the text, or the template's body when created */
  int64_t template_id; /* 0: a text */
  const char *sender;  /* NULL: the account's */
  int64_t send_at_ms;  /* 0: at once */
  int window_start, window_end; /* -1: none */
  uint32_t rate_per_minute;
  int64_t validity_ms;
  const char *callback_url; /* or NULL */
  const char *error;        /* why the engine paused it, or NULL */
  const int64_t *lists;     /* GET only */
  size_t n_lists;
  int64_t created_ms, updated_ms;
  int64_t started_ms, completed_ms; /* 0: not yet */
  bool expanded;                    /* every list member was taken */
  int64_t next_rel;
  /* Counters. recipients: list members taken (duplicates included), so
   * recipients = pending + released + optout + duplicate + invalid, and
   * each released recipient is one message, counted by its status in
   * queued (scheduled, queued, sending), sent, delivered, failed
   * (undeliverable, expired, rejected, failed) or canceled. A recipient a
   * cancel ended unsent leaves pending for canceled. */
  uint64_t recipients, pending, optout, duplicate, invalid;
  uint64_t queued, sent, delivered, failed, canceled;
} sg_store_campaign_t;

typedef struct sg_store_campaign_rcpt {
  int64_t id;         /* the recipient's id: its order of release */
  const char *number; /* E.164 */
  int64_t contact_id;
  const char *name;   /* with_contact: the contact's name or NULL */
  const char *fields; /* with_contact: its fields' JSON, or NULL */
} sg_store_campaign_rcpt_t;

typedef struct sg_store_campres {
  const sg_store_campaign_t *campaigns; /* GET, LIST, ACTIVE; the writes
                                           of a status and CREATE: 1 */
  size_t n_campaigns;
  char next_after[SG_ID_LEN + 1]; /* LIST: "" when this page is the last */
  const sg_store_campaign_rcpt_t *rcpts; /* PENDING, RELEASING */
  size_t n_rcpts;
  int64_t rel;      /* TAKE: its release number; RELEASING: the rel read */
  size_t changed;   /* EXPAND: members taken; TAKE: recipients taken (a
                       recipient no longer pending is left out);
                       RELEASED: recipients marked; CANCEL_STEP: messages
                       canceled */
  bool expanded;    /* EXPAND: nothing is left to take */
  bool more;        /* CANCEL_STEP: call again (messages or unsent
                       recipients are left) */
  int64_t last_id;  /* CANCEL_STEP: the cursor for the next call */
  int64_t bad_list; /* CREATE SG_ENOENT: the missing list, 0: the
                       template */
} sg_store_campres_t;

/* status 0 with res; otherwise res is NULL except for CREATE's SG_ENOENT
 * (res->bad_list says what was missing):
 *   SG_ENOENT  the campaign (or a list or the template of CREATE) is
 *              missing or another account's;
 *   SG_EEXIST  CREATE: the id is taken;
 *   SG_ESTATE  the status change is not allowed from the current status;
 *   SG_EIO     the store failed (nothing written). */
typedef void (*sg_store_campres_cb)(sg_store_t *st, int status,
                                    const sg_store_campres_t *res, void *data);

/* Runs one operation. The store copies what it needs from op. Fails at
 * once with SG_EINVAL (a missing id, account or list, values over the
 * maxima above, a window outside 0..1440, counts of 0 or over their
 * maxima), SG_EBUSY (queue full), SG_ECLOSED, SG_ENOMEM; the callback then
 * never fires. The store checks neither numbers nor texts: the engine does. */
int sg_store_campaigns(sg_store_t *st, const sg_store_campop_t *op,
                       sg_store_campres_cb cb, void *data);

#endif
