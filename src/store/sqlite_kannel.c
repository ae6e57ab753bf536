/* sqlite_kannel.c - Kannel dlr-url calls, queued by the SQLite store in the
 * transaction of the status change that causes them (store.h, "KANNEL
 * DLR-URL").
 *
 * A change is turned into Kannel's report type, checked against the
 * message's dlr-mask, and the dlr-url is expanded (core/kannel.h) with the
 * message, its part and its account, then queued as a webhook row with
 * method GET, or, for a final status of a one-part message, held in the
 * writer's memory (sqlite_whq.h) and built again at open from its event
 * when the watermark had not passed it. This file must never begin or end a
 * transaction nor touch the loop; what the URL is called with is the notifier's
 * business.
 */
#include <stdio.h>
#include <string.h>

#include "core/error.h"
#include "core/kannel.h"
#include "store/sqlite_int.h"
#include "store/sqlite_whq.h"

#define URL_MAX 8192 /* an expanded dlr-url longer than this is cut off */

/* Kannel's report type of a change, 0 for none. A refusal before the
 * message was sent is the operator's (or smsgate's) answer to the submit
 * (16); after it, a failed delivery (2). */
static int report_type(sg_msg_status_t before, sg_msg_status_t after) {
  bool was_sent = before == SG_MSG_SENT || before == SG_MSG_DELIVERED;
  switch (after) {
  case SG_MSG_SENT:
    return SG_KANNEL_DLR_SMSC_OK;
  case SG_MSG_DELIVERED:
    return SG_KANNEL_DLR_DELIVERED;
  case SG_MSG_UNDELIVERABLE:
  case SG_MSG_EXPIRED:
    return SG_KANNEL_DLR_FAILED;
  case SG_MSG_REJECTED:
  case SG_MSG_FAILED:
    return was_sent ? SG_KANNEL_DLR_FAILED : SG_KANNEL_DLR_SMSC_FAIL;
  default:
    return 0;
  }
}

/* Kannel's %c: 0 7-bit, 1 8-bit, 2 UCS-2. */
static int coding_of(int encoding) {
  return encoding == SG_ENC_UCS2 ? 2 : encoding == SG_ENC_8BIT ? 1 : 0;
}

/* Account name, connector, operator id and coding of the message (its
 * part `seq`, or the first). */
static int load_info(sg__sq_conn_t *c, sg__arena_t *a,
                     const sg__sq_dlr_ev_t *ev, sg_kannel_dlr_vars_t *v) {
  sqlite3_stmt *s = sg__sq_stmt(c, SG__Q_KANNEL_DLR_INFO);
  if (s == NULL)
    return SG_EIO;
  sg__sq_bind_text(s, 1, ev->message_id);
  sqlite3_bind_int(s, 2, ev->seq > 0 ? (int)ev->seq : 1);
  int rc = sqlite3_step(s);
  bool ok = true;
  if (rc == SQLITE_ROW) {
    v->service = sg__sq_col_text(a, s, 0, &ok);
    v->smsc = sg__sq_col_text(a, s, 1, &ok);
    v->smsc_id = sg__sq_col_text(a, s, 2, &ok);
    v->coding = coding_of(sqlite3_column_int(s, 3));
  }
  sqlite3_reset(s);
  if (rc != SQLITE_ROW && rc != SQLITE_DONE)
    return SG_EIO;
  return ok ? 0 : SG_ENOMEM;
}

/* The answer text (%A): the receipt for 1 and 2, "ACK/" for 8, and
 * "NACK/<code>/<why>" for 16, as Kannel writes them. */
static const char *answer_of(sg__arena_t *a, const sg__sq_dlr_ev_t *ev,
                             int type, bool *ok) {
  char buf[512];
  if (type == SG_KANNEL_DLR_SMSC_OK)
    return "ACK/";
  if (type != SG_KANNEL_DLR_SMSC_FAIL)
    return ev->detail;
  snprintf(buf, sizeof buf, "NACK/%ld/%s", (long)ev->error_code,
           ev->detail != NULL ? ev->detail : "");
  return sg__arena_strdup(a, buf, ok);
}

static int insert_get(sg__sq_conn_t *c, const sg__sq_dlr_ev_t *ev,
                      const char *url, int64_t now, bool own_id) {
  sqlite3_stmt *s = sg__sq_stmt(c, SG__Q_WEBHOOK_INSERT_GET);
  if (s == NULL)
    return SG_EIO;
  if (ev->account_id > 0)
    sqlite3_bind_int64(s, 1, ev->account_id);
  sg__sq_bind_text(s, 2, ev->message_id);
  if (ev->event_id > 0)
    sqlite3_bind_int64(s, 3, ev->event_id);
  sg__sq_bind_text(s, 4, url);
  sqlite3_bind_int64(s, 5, now);
  if (own_id)
    sqlite3_bind_int64(s, 6, -ev->event_id);
  return sg__sq_err(sg__sq_step_done(s));
}

/* Whether the call of a change may be held in the writer's memory: its
 * URL must come out the same when built again at open from the event and
 * the message alone. That holds for a one-part message's final status
 * (nothing changes its part afterwards; its report type does not depend
 * on the status before) when no JSON webhook takes the id -event_id. */
static bool held(const sg__sq_dlr_ev_t *ev) {
  return ev->memory && ev->event_id > 0 &&
         (ev->after == SG_MSG_DELIVERED || ev->after == SG_MSG_UNDELIVERABLE ||
          ev->after == SG_MSG_EXPIRED);
}

/* The expanded dlr-url of a change of report type `type`, into url
 * (URL_MAX octets: the writer's stack, not the arena, which would zero
 * them for every call). */
static int expand(sg__sq_conn_t *c, sg__arena_t *a, const sg__sq_dlr_ev_t *ev,
                  int type, int64_t now, char *url) {
  sg_kannel_dlr_vars_t v = {.type = type,
                            .from = ev->from,
                            .to = ev->to,
                            .msg_id = ev->message_id,
                            .account = ev->client_ref,
                            .dlr_url = ev->dlr_url,
                            .time_s = now / 1000,
                            .mclass = -1};
  bool ok = true;
  size_t len = strlen(ev->dlr_url);
  /* The look-up (three B-trees) only for a URL that shows what it finds. */
  int rc =
      sg_kannel_dlr_reads_route(ev->dlr_url, len) ? load_info(c, a, ev, &v) : 0;
  if (rc < 0)
    return rc;
  v.answer = answer_of(a, ev, type, &ok);
  if (!ok)
    return SG_ENOMEM;
  rc = sg_kannel_dlr_expand(ev->dlr_url, len, &v, url, URL_MAX);
  if (rc == SG_ENOSPC)
    url[URL_MAX - 1] = '\0'; /* cut off; the receiver still hears of it */
  else if (rc < 0)
    return rc;
  return 0;
}

bool sg__sq_kannel_reports(const char *dlr_url, unsigned dlr_mask,
                           sg_msg_status_t before, sg_msg_status_t after) {
  int type = report_type(before, after);
  return type != 0 && (dlr_mask & (unsigned)type) && dlr_url != NULL;
}

int sg__sq_kannel_dlr(sg__sq_conn_t *c, sg__arena_t *a,
                      const sg__sq_dlr_ev_t *ev, int64_t now) {
  if (!sg__sq_kannel_reports(ev->dlr_url, ev->dlr_mask, ev->before, ev->after))
    return 0;
  int type = report_type(ev->before, ev->after);
  char url[URL_MAX];
  int rc = expand(c, a, ev, type, now, url);
  if (rc < 0)
    return rc;
  if (!held(ev))
    return insert_get(c, ev, url, now, false);
  rc = sg__sq_whq_offer_get(c, ev->event_id, ev->account_id, ev->message_id,
                            url, now);
  if (rc != 0)
    return rc < 0 ? rc : 0;
  /* No room: its row, with the id it would have had in memory, so that
   * the rebuild at open sees that it has one. */
  return insert_get(c, ev, url, now, true);
}

int sg__sq_kannel_held_url(sg__sq_conn_t *c, sg__arena_t *a,
                           const sg__sq_dlr_ev_t *ev, int64_t now,
                           const char **url) {
  if (!sg__sq_kannel_reports(ev->dlr_url, ev->dlr_mask, ev->before,
                             ev->after) ||
      !held(ev))
    return 0;
  int type = report_type(ev->before, ev->after);
  char buf[URL_MAX];
  int rc = expand(c, a, ev, type, now, buf);
  if (rc < 0)
    return rc;
  bool ok = true;
  *url = sg__arena_strdup(a, buf, &ok);
  return ok ? 1 : SG_ENOMEM;
}
