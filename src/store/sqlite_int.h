/* sqlite_int.h - what the files of the SQLite store share: the backend's
 * state, a connection with its prepared statements, the SQL, and the entry
 * points of the write and read code. Not for use outside src/store/.
 */
#ifndef SG_STORE_SQLITE_INT_H
#define SG_STORE_SQLITE_INT_H

#include <sqlite3.h>
#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "store/store_int.h"
#include "store/sqlite_park.h"

/* A message of one part keeps 'queued' in its row while its part carries
 * its status (sqlite_write.c, stored_status): 'sending' (a claim), 'sent'
 * (a SENT result), and a final status that came from the part (a receipt,
 * a FAILED result). Its status, error code and time are then its part's.
 * These expressions read a row of `messages` (not aliased) as the API
 * shows it; every reader of messages.status, error_code and updated_ms
 * goes through them. A part carries an error code only for a failure: the
 * message's is not set by 'delivered' (set_msg_status). */
#define SG__SQ_MSG_ON_PART                                                     \
  "messages.status = 'queued' AND messages.parts_total = 1"
/* The statuses a part carries for its message, tested by comparisons one
 * after the other, not by `status IN (...)`: SQLite runs an IN of more than
 * two values on a column no index leads with as a look-up in an ephemeral
 * table, which it builds again at every run of the statement (a pager and a
 * page of its own: about 35,000 instructions each, MSG_SETTLE had four). */
#define SG__SQ_PART_FAILED                                                     \
  "parts.status = 'undeliverable' OR parts.status = 'expired' OR "             \
  "parts.status = 'rejected' OR parts.status = 'failed'"
#define SG__SQ_PART_FAILURES "(" SG__SQ_PART_FAILED ")"
#define SG__SQ_PART_ENDED                                                      \
  "(parts.status = 'delivered' OR " SG__SQ_PART_FAILED ")"
#define SG__SQ_PART_CARRIED                                                    \
  "(parts.status = 'sending' OR parts.status = 'sent' OR parts.status = "      \
  "'delivered' OR " SG__SQ_PART_FAILED ")"
/* The tail of a SENT result's UPDATE of a part (PART_SENT,
 * PART_SENT_ENDED): with ?9, the id of the newest event, the part carries
 * its message's 'sent' event instead of a row (migration 0031), unless it
 * has one already (sent before the operator's retry; then nothing changes
 * and the caller runs it again without ?9). */
#define SG__SQ_SENT_MARK                                                       \
  ", sent_event = coalesce(?9, sent_event), sent_ms = CASE WHEN ?9 IS NULL "   \
  "THEN sent_ms ELSE ?3 END WHERE id = ?1 AND status = 'sending' AND "         \
  "attempts = ?5 AND (?9 IS NULL OR sent_event IS NULL)"
#define SG__SQ_PART_OF_MSG                                                     \
  "FROM parts WHERE parts.message_id = messages.id AND parts.seq = 1 AND "
#define SG__SQ_PART_CARRIES(col)                                               \
  "(SELECT parts." col " " SG__SQ_PART_OF_MSG SG__SQ_PART_CARRIED ")"
#define SG__SQ_MSG_STATUS                                                      \
  "(CASE WHEN " SG__SQ_MSG_ON_PART " THEN coalesce(" SG__SQ_PART_CARRIES(      \
      "status") ", 'queued') ELSE messages.status END)"
#define SG__SQ_MSG_UPDATED                                                     \
  "(CASE WHEN " SG__SQ_MSG_ON_PART " THEN coalesce(" SG__SQ_PART_CARRIES(      \
      "updated_ms") ", messages.updated_ms) ELSE "                             \
                    "messages.updated_ms END)"
#define SG__SQ_MSG_ERROR                                                       \
  "(CASE WHEN " SG__SQ_MSG_ON_PART " THEN coalesce((SELECT "                   \
  "parts.error_code " SG__SQ_PART_OF_MSG SG__SQ_PART_FAILURES "), "            \
  "messages.error_code) ELSE messages.error_code END)"

/* The columns of a message, in the order sg__sq_read_message reads them. */
#define SG__SQ_MSG_COLS                                                        \
  "id, batch_id, account_id, sender, recipient, encoding, is_binary, body, "   \
  "validity_ms, send_at_ms, callback_url, client_ref, priority, "              \
  "dlr_wanted, " SG__SQ_MSG_STATUS ", " SG__SQ_MSG_ERROR                       \
  ", parts_total, created_ms, " SG__SQ_MSG_UPDATED

#define SG__SQ_INBOUND_COLS                                                    \
  "id, account_id, connector, sender, recipient, encoding, is_binary, body, "  \
  "parts, received_ms, created_ms"

/* Every fixed statement, prepared once per connection on first use. */
/* The id of a webhook row that has none of its own: one above the largest,
 * and never below 1. The deliveries of message events have the ids
 * -(event id) (sqlite_whq.h), so SQLite's own choice (one above the
 * largest) could be one of theirs once only such rows are left. */
#define SG__SQ_WH_NEW_ID                                                       \
  "max(1, coalesce((SELECT max(id) FROM webhooks), 0) + 1)"

#define SG__SQ_QUERIES(X)                                                      \
  X(BEGIN, "BEGIN IMMEDIATE")                                                  \
  X(BEGIN_READ, "BEGIN")                                                       \
  X(COMMIT, "COMMIT")                                                          \
  X(ROLLBACK, "ROLLBACK")                                                      \
  X(IDEM_GET, "SELECT request_hash, response, expires_ms FROM "                \
              "idempotency_keys WHERE account_id = ?1 AND key = ?2")           \
  X(IDEM_DEL,                                                                  \
    "DELETE FROM idempotency_keys WHERE account_id = ?1 AND key = ?2")         \
  X(IDEM_PUT, "INSERT INTO idempotency_keys (account_id, key, request_hash, "  \
              "response, created_ms, expires_ms) VALUES (?1,?2,?3,?4,?5,?6)")  \
  X(IDEM_PURGE, "DELETE FROM idempotency_keys WHERE (account_id, key) IN "     \
                "(SELECT account_id, key FROM idempotency_keys "               \
                "WHERE expires_ms <= ?1 LIMIT ?2)")                            \
  X(MSG_INSERT,                                                                \
    "INSERT INTO messages (id, batch_id, account_id, sender, recipient, "      \
    "encoding, is_binary, body, validity_ms, send_at_ms, callback_url, "       \
    "client_ref, priority, dlr_wanted, status, parts_total, created_ms, "      \
    "updated_ms, dlr_url, dlr_mask, webhook_statuses) VALUES (?1,?2,?3,?4,"    \
    "?5,?6,?7,?8,?9,?10,?11,?12,?13,?14,?15,?16,?17,?17,?18,?19,?20)")         \
  X(PART_INSERT,                                                               \
    "INSERT INTO parts (message_id, seq, connector, encoding, lang_locking, "  \
    "lang_single, udh, ud, concat_ref, concat_total, priority, expires_ms, "   \
    "status, updated_ms) VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,"      \
    "?13,?14)")                                                                \
  X(PART_INSERT_TAKEN, /* a part taken by a waiting claim (sqlite_park.c) */   \
    "INSERT INTO parts (message_id, seq, connector, encoding, lang_locking, "  \
    "lang_single, udh, ud, concat_ref, concat_total, priority, expires_ms, "   \
    "status, updated_ms, attempts, lease_until_ms, taken_event) VALUES (?1,"   \
    "?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14,1,?15,?16)")                  \
  X(EVENT_INSERT,                                                              \
    "INSERT INTO events (message_id, part_seq, status, error_code, detail, "   \
    "time_ms, fold_seq, fold_error_code, fold_detail, fold_time_ms) VALUES "   \
    "(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10)")                                        \
  X(SCHED_DUE, "SELECT id FROM messages INDEXED BY messages_scheduled "        \
               "WHERE status = 'scheduled' AND send_at_ms <= ?1 "              \
               "ORDER BY send_at_ms LIMIT ?2")                                 \
  X(SCHED_RELEASE, "UPDATE parts SET status = 'queued', updated_ms = ?2 "      \
                   "WHERE message_id = ?1 AND status = 'scheduled'")           \
  X(EXPIRE_DUE, "SELECT id, message_id, seq, status FROM parts WHERE "         \
                "expires_ms IS NOT NULL AND status IN ('queued', "             \
                "'scheduled') AND "                                            \
                "expires_ms <= ?1 LIMIT ?2")                                   \
  X(LEASE_DUE, "SELECT id, message_id, seq, status, connector FROM parts "     \
               "WHERE status = 'sending' AND lease_until_ms <= ?1 LIMIT ?2")   \
  X(SCHED_CONNECTORS, "SELECT DISTINCT connector FROM parts WHERE "           \
                      "message_id = ?1")                                       \
  X(CLAIM_NEXT, /* an empty claim's: when its connector's back-off ends */     \
    "SELECT min(next_attempt_ms) FROM parts INDEXED BY parts_due WHERE "       \
    "connector = ?1 AND status = 'queued' AND next_attempt_ms > ?2")           \
  X(MAINT_NEXT, /* when maintenance has work next (run_maintain) */            \
    "SELECT (SELECT min(lease_until_ms) FROM parts WHERE status = "            \
    "'sending'), (SELECT min(expires_ms) FROM parts WHERE expires_ms IS NOT "  \
    "NULL AND status IN ('queued', 'scheduled')), (SELECT min(send_at_ms) "    \
    "FROM messages WHERE status = 'scheduled'), (SELECT "                      \
    "min(next_attempt_ms) FROM webhooks WHERE status = 'pending' AND "         \
    "next_attempt_ms > ?1)")                                                   \
  X(PART_REQUEUE, "UPDATE parts SET status = 'queued', lease_until_ms = "      \
                  "NULL, updated_ms = ?2 WHERE id = ?1")                       \
  X(CLAIM_SELECT,                                                              \
    "SELECT id, attempts, message_id, seq, connector, encoding, "              \
    "lang_locking, lang_single, udh, ud, concat_ref, concat_total, priority, " \
    "expires_ms FROM parts WHERE connector = ?1 AND status = 'queued' AND "    \
    "next_attempt_ms <= ?2 ORDER BY priority DESC, id LIMIT ?3")               \
  X(MSG_FOR_CLAIM, "SELECT sender, recipient, dlr_wanted, account_id FROM "    \
                   "messages WHERE id = ?1")                                   \
  X(PART_CLAIM, "UPDATE parts SET status = 'sending', attempts = attempts "    \
                "+ 1, lease_until_ms = ?2, updated_ms = ?3 WHERE id = ?1")     \
  X(PARTS_OF_MSG, "SELECT status FROM parts WHERE message_id = ?1")            \
  X(MSG_FOR_EVENT,                                                             \
    "SELECT status, batch_id, account_id, sender, recipient, client_ref, "     \
    "callback_url, parts_total, dlr_url, dlr_mask, webhook_statuses, "         \
    "created_ms FROM messages WHERE id = ?1")                                  \
  X(KANNEL_DLR_INFO,                                                           \
    "SELECT a.name, p.connector, p.smsc_id, m.encoding FROM messages m "       \
    "LEFT JOIN accounts a ON a.id = m.account_id LEFT JOIN parts p ON "        \
    "p.message_id = m.id AND p.seq = ?2 WHERE m.id = ?1")                      \
  X(WEBHOOK_INSERT_GET,                                                        \
    "INSERT INTO webhooks (id, account_id, message_id, event_id, url, "        \
    "payload, status, next_attempt_ms, created_ms, updated_ms, method) "       \
    "VALUES (coalesce(?6, " SG__SQ_WH_NEW_ID "),?1,?2,?3,?4,X'','pending',"    \
    "?5,?5,?5,'GET')")                                                         \
  X(MSG_SET_STATUS, "UPDATE messages SET status = ?2, error_code = "           \
                    "COALESCE(?3, error_code), updated_ms = ?4 WHERE id = ?1") \
  /* A final status carried by the part, into the row: what SG__SQ_MSG_STATUS, \
   * SG__SQ_MSG_ERROR and SG__SQ_MSG_UPDATED show for such a row (an ended     \
   * part: its status and time, its code for a failure, else the row's), its   \
   * part read once for the three columns. */                                  \
  X(MSG_SETTLE,                                                                \
    "UPDATE messages SET (status, error_code, updated_ms) = (SELECT "          \
    "parts.status, coalesce(CASE WHEN parts.status = 'delivered' THEN NULL "   \
    "ELSE parts.error_code END, messages.error_code), "                        \
    "parts.updated_ms " SG__SQ_PART_OF_MSG                                     \
    "1) WHERE id = ?1 AND " SG__SQ_MSG_ON_PART                                 \
    " AND EXISTS (SELECT 1 " SG__SQ_PART_OF_MSG SG__SQ_PART_ENDED ")")         \
  X(MSG_SETTLE_NEXT, /* the idle writer's walk (sqlite_settle.c) */            \
    "SELECT id, " SG__SQ_MSG_ON_PART " FROM messages WHERE id > ?1 ORDER BY "  \
    "id LIMIT ?2")                                                             \
  X(WEBHOOK_INSERT,                                                            \
    "INSERT INTO webhooks (id, account_id, message_id, event_id, inbound_id, " \
    "url, payload, status, next_attempt_ms, created_ms, updated_ms) VALUES "   \
    "(coalesce(?8, " SG__SQ_WH_NEW_ID "),?1,?2,?3,?4,?5,?6,'pending',?7,?7,"   \
    "?7)")                                                                     \
  X(PART_BY_ID,                                                                \
    "SELECT message_id, seq, status, attempts, connector FROM parts WHERE "    \
    "id = ?1")                                                                 \
  X(PART_SENT, "UPDATE parts SET status = 'sent', smsc_id = ?2, error_code "   \
               "= NULL, error = NULL, lease_until_ms = NULL, updated_ms = "    \
               "?3, smsc_raw = ?4" SG__SQ_SENT_MARK)                           \
  X(PART_SENT_ENDED, /* with its receipt in the group (sqlite_pair.h) */       \
    "UPDATE parts SET status = ?6, smsc_id = ?2, error_code = ?7, error = "    \
    "?8, lease_until_ms = NULL, updated_ms = ?3, smsc_raw = "                  \
    "?4" SG__SQ_SENT_MARK)                                                     \
  X(PART_UNEND, "UPDATE parts SET status = 'sent', error_code = NULL, "        \
                "error = NULL WHERE id = ?1")                                  \
  X(PART_RETRY, "UPDATE parts SET status = 'queued', next_attempt_ms = ?2, "   \
                "connector = COALESCE(?3, connector), error_code = ?4, "       \
                "error = ?5, lease_until_ms = NULL, updated_ms = ?6 "          \
                "WHERE id = ?1")                                               \
  X(PART_SET_STATUS, "UPDATE parts SET status = ?2, error_code = "             \
                     "COALESCE(?3, error_code), error = COALESCE(?4, error), " \
                     "lease_until_ms = NULL, updated_ms = ?5 WHERE id = ?1")   \
  X(PART_MAX_ID, "SELECT coalesce(max(id), 0) FROM parts")                     \
  X(PART_BY_SMSC, "SELECT id, message_id, seq, status FROM parts WHERE "       \
                  "connector = ?1 AND smsc_id = ?2 ORDER BY id DESC LIMIT 1")  \
  X(CANCEL_GET, "SELECT " SG__SQ_MSG_STATUS ", account_id FROM messages "      \
                "WHERE id = ?1")                                               \
  X(CANCEL_CHECK, "SELECT count(*) FROM parts WHERE message_id = ?1 AND "      \
                  "status NOT IN ('queued', 'scheduled')")                     \
  X(CANCEL_PARTS, "UPDATE parts SET status = 'canceled', updated_ms = ?2 "     \
                  "WHERE message_id = ?1")                                     \
  X(WH_LEASE_DUE,                                                              \
    "UPDATE webhooks SET status = 'pending', lease_until_ms = NULL, "          \
    "updated_ms = ?3 WHERE id IN (SELECT id FROM webhooks INDEXED BY "         \
    "webhooks_lease WHERE status = 'sending' AND lease_until_ms <= ?1 "        \
    "LIMIT ?2)")                                                               \
  X(INBOUND_INSERT,                                                            \
    "INSERT INTO inbound (" SG__SQ_INBOUND_COLS ") VALUES (?1,?2,?3,?4,?5,"    \
    "?6,?7,?8,?9,?10,?11)")                                                    \
  X(ACCOUNT_INSERT, "INSERT INTO accounts (name, password_hash, "              \
                    "webhook_url, disabled, created_ms) VALUES (?1,?2,?3,?4,"  \
                    "?5)")                                                     \
  X(APIKEY_INSERT, "INSERT INTO api_keys (account_id, key_hash, label, "       \
                   "created_ms) SELECT ?1, ?2, ?3, ?4 WHERE EXISTS (SELECT "   \
                   "1 FROM accounts WHERE id = ?1)")                           \
  X(APIKEY_REVOKE, "UPDATE api_keys SET revoked_ms = ?2 WHERE id = ?1 AND "    \
                   "revoked_ms IS NULL")                                       \
  X(R_MESSAGE, "SELECT " SG__SQ_MSG_COLS " FROM messages WHERE id = ?1")       \
  X(R_PARTS, "SELECT id, seq, connector, status, coalesce(smsc_raw, "          \
             "smsc_id), error_code, error, attempts, next_attempt_ms, "        \
             "updated_ms, taken_event, sent_event, sent_ms, coalesce("         \
             "sent_detail, smsc_raw, smsc_id) FROM parts WHERE "               \
             "message_id = ?1 ORDER BY seq")                                   \
  X(R_EVENTS, "SELECT id, part_seq, status, error_code, detail, time_ms, "     \
              "fold_seq, fold_error_code, fold_detail, fold_time_ms FROM "     \
              "events WHERE message_id = ?1 ORDER BY id")                      \
  X(R_COUNT_MSGS, "SELECT " SG__SQ_MSG_STATUS ", count(*) FROM messages "      \
                  "GROUP BY 1")                                                \
  X(R_COUNT_PARTS, "SELECT status, count(*) FROM parts GROUP BY status")       \
  X(R_COUNT_WH,                                                                \
    "SELECT (SELECT count(*) FROM webhooks INDEXED BY webhooks_due WHERE "     \
    "status = 'pending'), (SELECT count(*) FROM webhooks INDEXED BY "          \
    "webhooks_lease WHERE status = 'sending'), (SELECT count(*) FROM "         \
    "webhooks INDEXED BY webhooks_failed WHERE status = 'failed')")            \
  X(R_COUNT_INBOUND, "SELECT count(*) FROM inbound")                           \
  X(R_APIKEY, "SELECT a.id, a.name, a.password_hash, a.webhook_url, "          \
              "a.disabled, a.created_ms, k.id FROM api_keys k JOIN accounts "  \
              "a ON a.id = k.account_id WHERE k.key_hash = ?1 AND "            \
              "k.revoked_ms IS NULL")                                          \
  X(R_ACCOUNT, "SELECT id, name, password_hash, webhook_url, disabled, "       \
               "created_ms, 0 FROM accounts WHERE name = ?1")                  \
  X(LIM_CHARGE, "UPDATE account_balance SET micro = micro - ?2, "              \
                "updated_ms = ?3 WHERE account_id = ?1 AND micro >= ?2")       \
  X(LIM_COUNT, "INSERT INTO account_usage (account_id, period, parts) "        \
               "VALUES (?1, ?2, ?3) ON CONFLICT (account_id, period) DO "      \
               "UPDATE SET parts = parts + excluded.parts")                    \
  X(R_WAITING_PARTS, "SELECT smsc_id FROM parts WHERE connector = ?1 AND "     \
                     "smsc_id IS NOT NULL AND status = 'sent' AND "            \
                     "updated_ms >= ?2 ORDER BY updated_ms DESC LIMIT ?3")     \
  X(SMPP_ORIGIN_INSERT,                                                        \
    "INSERT INTO smpp_origin (message_id, account_id, registered_delivery, "   \
    "source_ton, source_npi, source_addr, dest_ton, dest_npi, dest_addr, "     \
    "submit_ms) VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10)")                      \
  X(SMPP_OUT_QUEUE,                                                            \
    "INSERT INTO smpp_out (account_id, message_id, status, error_code, "       \
    "done_ms, created_ms) SELECT account_id, message_id, ?2, ?3, ?4, ?4 "      \
    "FROM smpp_origin WHERE message_id = ?1 AND presplit = 0 AND "             \
    "((registered_delivery & 3) = 1 OR ((registered_delivery & 3) = 2 AND "    \
    "?5))")                                                                    \
  X(SMPP_OUT_DROP,                                                             \
    "DELETE FROM smpp_out WHERE id IN (SELECT id FROM smpp_out WHERE "         \
    "account_id = ?1 AND created_ms < ?2 LIMIT 1000)")                         \
  X(SMPP_OUT_IDS, "SELECT id FROM smpp_out INDEXED BY smpp_out_account "       \
                  "WHERE account_id = ?1 ORDER BY id LIMIT ?2")                \
  X(SMPP_OUT_ROW,                                                              \
    "SELECT o.id, o.message_id, o.status, o.error_code, o.done_ms, "           \
    "o.attempts, g.registered_delivery, g.source_ton, g.source_npi, "          \
    "g.source_addr, g.dest_ton, g.dest_npi, g.dest_addr, g.submit_ms, "        \
    "CASE o.kind WHEN 1 THEN i.body ELSE substr(m.body, 1, 80) END, "          \
    "CASE o.kind WHEN 1 THEN i.is_binary ELSE m.is_binary END, "               \
    "CASE o.kind WHEN 1 THEN i.recipient ELSE m.recipient END, o.kind, "       \
    "i.sender, i.received_ms, o.part_seq, o.account_id FROM smpp_out o "       \
    "LEFT JOIN smpp_origin g ON o.kind = 0 AND g.message_id = o.message_id "   \
    "LEFT JOIN messages m ON o.kind = 0 AND m.id = o.message_id "              \
    "LEFT JOIN inbound i ON o.kind = 1 AND i.id = o.message_id "               \
    "WHERE o.id = ?1 AND (g.message_id IS NOT NULL AND m.id IS NOT NULL OR "   \
    "i.id IS NOT NULL)")                                                       \
  X(SMPP_OUT_ORIGIN,                                                           \
    "SELECT g.account_id, g.registered_delivery, g.source_ton, "               \
    "g.source_npi, g.source_addr, g.dest_ton, g.dest_npi, g.dest_addr, "       \
    "g.submit_ms, substr(m.body, 1, 80), m.is_binary, m.recipient FROM "       \
    "smpp_origin g JOIN messages m ON m.id = g.message_id WHERE "              \
    "g.message_id = ?1 AND g.presplit = 0 AND ((g.registered_delivery & 3) "   \
    "= 1 OR ((g.registered_delivery & 3) = 2 AND ?2))")                        \
  X(SMPP_OUT_INSERT,                                                           \
    "INSERT INTO smpp_out (account_id, message_id, status, error_code, "       \
    "done_ms, created_ms) VALUES (?1,?2,?3,?4,?5,?5)")                         \
  X(SMPP_OUT_QUEUE_MO,                                                         \
    "INSERT INTO smpp_out (account_id, message_id, status, done_ms, "          \
    "created_ms, kind) VALUES (?1, ?2, 'mo', ?3, ?3, 1)")                      \
  X(SMPP_OUT_DONE, "DELETE FROM smpp_out WHERE id = ?1")                       \
  X(SMPP_OUT_RELEASE, "UPDATE smpp_out SET attempts = attempts + ?2 WHERE id " \
                      "= ?1")                                                  \
  X(SMPP_OUT_RELEASE_ALL, "UPDATE smpp_out SET lease_until_ms = NULL WHERE "   \
                          "lease_until_ms IS NOT NULL")                        \
  X(PRESPLIT_FIND,                                                             \
    "SELECT message_id FROM presplit_groups WHERE account_id = ?1 AND "        \
    "recipient = ?2 AND ref = ?3 AND total = ?4 AND sender = ?5 AND "          \
    "wait_until_ms > ?6 ORDER BY wait_until_ms DESC LIMIT 1")                  \
  X(PRESPLIT_MSG, "SELECT account_id, parts_total, status, send_at_ms, "       \
                  "(SELECT count(*) FROM parts WHERE message_id = ?1), "       \
                  "(SELECT count(*) FROM parts WHERE message_id = ?1 AND "     \
                  "seq = ?2) FROM messages WHERE id = ?1")                     \
  X(PRESPLIT_GROUP_PUT,                                                        \
    "INSERT INTO presplit_groups (message_id, account_id, sender, recipient, " \
    "ref, total, wait_until_ms) VALUES (?1,?2,?3,?4,?5,?6,?7) ON CONFLICT "    \
    "(message_id) DO UPDATE SET wait_until_ms = excluded.wait_until_ms")       \
  X(PRESPLIT_GROUP_DEL, "DELETE FROM presplit_groups WHERE message_id = ?1")   \
  X(PRESPLIT_ORIGIN, "UPDATE smpp_origin SET presplit = 1 WHERE "              \
                     "message_id = ?1")                                        \
  X(PRESPLIT_DUE, "SELECT message_id, total FROM presplit_groups WHERE "       \
                  "wait_until_ms <= ?1 ORDER BY wait_until_ms LIMIT ?2")       \
  X(PRESPLIT_HAVE, "SELECT seq FROM parts WHERE message_id = ?1")              \
  X(PRESPLIT_MISSING,                                                          \
    "INSERT INTO parts (message_id, seq, connector, encoding, ud, "            \
    "concat_total, status, error, updated_ms) VALUES (?1, ?2, '', 0, x'', "    \
    "?3, 'failed', 'the part never arrived from the customer', ?4)")           \
  X(PRESPLIT_COUNT, "SELECT count(*) FROM parts WHERE message_id = ?1")        \
  X(PRESPLIT_OUT_QUEUE,                                                        \
    "INSERT INTO smpp_out (account_id, message_id, status, error_code, "       \
    "done_ms, created_ms, part_seq) SELECT account_id, message_id, ?2, ?3, "   \
    "?4, ?4, ?6 FROM smpp_origin WHERE message_id = ?1 AND presplit = 1 AND "  \
    "((registered_delivery & 3) = 1 OR ((registered_delivery & 3) = 2 AND "    \
    "?5))")                                                                    \
  X(TRAFFIC_ADD,                                                               \
    "INSERT INTO traffic_minutes (account_id, minute, submitted, queued, "     \
    "sent, delivered, failed, expired, canceled) VALUES "                      \
    "(?1,?2,?3,?4,?5,?6,?7,?8,?9) ON CONFLICT (account_id, minute) DO "        \
    "UPDATE SET submitted = submitted + excluded.submitted, queued = queued "  \
    "+ excluded.queued, sent = sent + excluded.sent, delivered = delivered "   \
    "+ excluded.delivered, failed = failed + excluded.failed, expired = "      \
    "expired + excluded.expired, canceled = canceled + excluded.canceled")     \
  X(CAMPAIGN_COUNT,                                                            \
    "UPDATE campaigns SET n_queued = n_queued + ?2, n_sent = "                 \
    "n_sent + ?3, n_delivered = n_delivered + ?4, n_failed = "                 \
    "n_failed + ?5, n_canceled = n_canceled + ?6 WHERE id = ?1")               \
  X(CAMPAIGN_IDS, "SELECT id FROM campaigns")                                  \
  X(DATA_VERSION, "PRAGMA data_version")                                       \
  X(SMPP_ORIGIN_ANY, "SELECT 1 FROM smpp_origin LIMIT 1")

typedef enum sg__sq_query {
#define SG__SQ_ENUM(name, sql) SG__Q_##name,
  SG__SQ_QUERIES(SG__SQ_ENUM)
#undef SG__SQ_ENUM
      SG__Q_COUNT
} sg__sq_query_t;

/* Filter combinations of a message list (bits), each its own statement. */
#define SG__SQ_LIST_VARIANTS 128
#define SG__SQ_INBOUND_VARIANTS 4

/* One connection and its statements; used by one thread. */
typedef struct sg__sq_conn {
  sqlite3 *db;
  sg_store_t *st;
  sqlite3_stmt *q[SG__Q_COUNT];
  sqlite3_stmt *list[SG__SQ_LIST_VARIANTS];
  sqlite3_stmt *inbound[SG__SQ_INBOUND_VARIANTS];
  sg__jbuf_t json;        /* the writer's webhook payloads, reused */
  struct sg__sq_whl *whl; /* the writer's webhook leases (sqlite_webhook.c) */
  struct sg__sq_whq *whq; /* the writer's deliveries in memory (sqlite_whq.c) */
  struct sg__sq_sol
      *sol;     /* the writer's SMPP receipt leases (sqlite_smpp_out.c) */
  struct {      /* the writer's traffic counts of the open group */
    unsigned n; /* (sqlite_trafficw.c) */
    struct {
      int64_t account_id, minute;
      int32_t d[7]; /* submitted, queued, sent, delivered, failed, expired,
                       canceled */
    } e[32];
  } tr;
  struct {      /* the writer's usage counts of the open group */
    unsigned n; /* (sqlite_limits.c) */
    struct {
      int64_t account_id, parts;
      char period[12]; /* "2026-11-26" or "2026-11" */
    } e[16];
  } lu;
  struct sg__sq_orph *orph; /* the writer's held receipts (sqlite_orphan.c) */
  struct sg__sq_mc *mc;     /* the writer's message rows (sqlite_mcache.c) */
  /* The writer's SENT results paired with their receipts in the group being
   * run (sqlite_pair.c). */
  struct sg__sq_pair *pair;
  /* The writer's campaign ids and the open group's counter moves
   * (sqlite_campcount.c). */
  struct sg__sq_cc *cc;
  /* The writer's counts of /metrics (sqlite_counts.c); NULL on readers. */
  struct sg__sq_counts *cnt;
  /* The writer's: a campaign exists (sqlite_campcount.c): its ids are
   * held in c->cc. False while the table is empty; then no message can
   * count in a campaign and none is looked up. */
  bool campaigns;
  /* The writer's: a message may have an SMPP origin (sqlite_smpp_out.c),
   * the same way: false only while smpp_origin was seen empty in the open
   * transaction, and then no final status looks for a receipt to queue. */
  bool smpp_origins;
  sg__store_req_t *cur; /* the writer's request being run (its hand-offs) */
  sg__sq_park_t park;   /* the writer's waiting claims (sqlite_park.c) */
  /* The writer's walk of the idle settle (sqlite_settle.h); NULL on
   * readers. */
  struct sg__sq_settle *settle;
} sg__sq_conn_t;

/* The fault-injecting VFS (sqlite_fault.c). */
typedef struct sg__sq_fault {
  char vfs_name[48];
  void *vfs;      /* sqlite3_vfs, registered while the store is open */
  bool failing;   /* writer thread: fail WAL/journal writes now */
  bool disk_full; /* SQLITE_FULL instead of SQLITE_IOERR_WRITE */
  bool tripped;   /* a write was failed since failing was set */
} sg__sq_fault_t;

int sg__sq_fault_register(sg__sq_fault_t *f);
void sg__sq_fault_unregister(sg__sq_fault_t *f);

/* The VFS that gathers a transaction's WAL writes into one pwrite()
 * (sqlite_walbuf.c), for the writer's connection with synchronous=FULL. */
typedef struct sg__sq_walbuf {
  char vfs_name[48];
  void *vfs;        /* sqlite3_vfs, registered while the store is open */
  uint64_t writes;  /* writes gathered (the connection's thread only) */
  uint64_t flushes; /* pwrite()s they became */
  /* The commit pipeline (sqlite_sync.c): while defer is set (the writer's
   * COMMIT), a sync of the log only writes out what waits and sets owed;
   * the sync thread makes it on wal_path (the log's name, or NULL). */
  bool defer;
  bool owed;
  char *wal_path;
} sg__sq_walbuf_t;

/* Registers the VFS under wb->vfs_name, on top of VFS `below` (NULL: the
 * default). Returns 0, SG_ENOMEM, SG_ENOTSUP or SG_EIO. */
int sg__sq_walbuf_register(sg__sq_walbuf_t *wb, const char *below);
void sg__sq_walbuf_unregister(sg__sq_walbuf_t *wb);

/* Statement q of c, prepared on first use and reset; NULL on failure (the
 * connection's error says why). */
sqlite3_stmt *sg__sq_stmt(sg__sq_conn_t *c, sg__sq_query_t q);
/* Names the calling thread (sg-writer, sg-reader, sg-ckpt, sg-sync). */
void sg__sq_thread_name(const char *name);
/* Prepares sql as a persistent statement; NULL on failure. */
sqlite3_stmt *sg__sq_prepare(sg__sq_conn_t *c, const char *sql);
/* Runs a statement without rows (or whose rows do not matter) to the end
 * and resets it. Returns SQLITE_OK or the error. */
int sg__sq_exec(sg__sq_conn_t *c, sg__sq_query_t q);
/* Sets *seen when statement q (a SELECT of at most one row) finds a row,
 * unless *seen is already set: flags of tables that only ever gain rows
 * under the writer's lock. Returns 0 or SG_EIO. */
int sg__sq_probe_once(sg__sq_conn_t *c, sg__sq_query_t q, bool *seen);
int sg__sq_step_done(sqlite3_stmt *s);

/* An SQLite result as an SG_E* code: CONSTRAINT is SG_EEXIST, every other
 * failure SG_EIO (which fails the whole transaction). */
int sg__sq_err(int rc);

/* Binding helpers (NULL text / blob binds SQL NULL; 0 times bind NULL). */
int sg__sq_bind_text(sqlite3_stmt *s, int i, const char *v);
int sg__sq_bind_blob(sqlite3_stmt *s, int i, const void *v, size_t n);
int sg__sq_bind_opt_ms(sqlite3_stmt *s, int i, int64_t ms);
/* Column helpers: copies into the arena (NULL column -> NULL). */
const char *sg__sq_col_text(sg__arena_t *a, sqlite3_stmt *s, int i, bool *ok);
const uint8_t *sg__sq_col_blob(sg__arena_t *a, sqlite3_stmt *s, int i,
                               size_t *len, bool *ok);
sg_msg_status_t sg__sq_col_status(sqlite3_stmt *s, int i);

/* Runs one write request inside the group's transaction (sqlite_write.c).
 * Returns 0 or a request error (SG_EEXIST, SG_ENOENT, SG_ESTATE,
 * SG_ENOMEM), whose rows the writer undoes (sqlite.c, run_requests); or
 * SG_EIO: the whole transaction fails. It must not depend on what it
 * finds in r->out, which is cleared before every run. */
int sg__sq_run_write(sg__sq_conn_t *c, sg__store_req_t *req, int64_t now);

/* Runs an SG__REQ_MO_WRITE / SG__REQ_MO_READ request (sqlite_mo.c). */
int sg__sq_mo_write(sg__sq_conn_t *c, sg__store_req_t *req, int64_t now);
int sg__sq_mo_read(sg__sq_conn_t *c, sg__store_req_t *req);
/* sqlite_admin.c: SG__REQ_ADMIN_* (accounts and keys at run time). */
int sg__sq_admin_write(sg__sq_conn_t *c, sg__store_req_t *req, int64_t now);
int sg__sq_admin_read(sg__sq_conn_t *c, sg__store_req_t *req);

/* Runs an SG__REQ_LIMITS_WRITE / SG__REQ_LIMITS_READ request, and the
 * usage and charge of a submitted batch (sqlite_limits.c). */
int sg__sq_limits_write(sg__sq_conn_t *c, sg__store_req_t *req, int64_t now);
int sg__sq_limits_read(sg__sq_conn_t *c, sg__store_req_t *req);
/* sg__sq_limits_submit takes a batch's charge, before its rows are
 * written (SG_ENOSPC: refused, nothing written); sg__sq_limits_usage
 * counts its usage once its rows are written, so that a request that fails
 * has changed rows and is undone with them. The usage counts of a group
 * are added up in the writer's memory, per account and period, and
 * written by sg__sq_limits_flush, one upsert per row touched, before the
 * group's COMMIT; sg__sq_limits_discard forgets them when the transaction
 * is rolled back. */
int sg__sq_limits_submit(sg__sq_conn_t *c, const sg_store_batch_t *b,
                         int64_t now);
int sg__sq_limits_usage(sg__sq_conn_t *c, const sg_store_batch_t *b);
int sg__sq_limits_flush(sg__sq_conn_t *c);
void sg__sq_limits_discard(sg__sq_conn_t *c);

/* Runs an SG__REQ_SETTING_PUT / SG__REQ_SETTING_GET (sqlite_setting.c). */
int sg__sq_setting_put(sg__sq_conn_t *c, sg__store_req_t *req, int64_t now);
int sg__sq_setting_get(sg__sq_conn_t *c, sg__store_req_t *req);
/* Runs an SG__REQ_INR_WRITE / SG__REQ_INR_READ request (sqlite_inrules.c);
 * and the row of a rule's URL action in a delivery (sqlite_mo.c). */
int sg__sq_inr_write(sg__sq_conn_t *c, sg__store_req_t *req, int64_t now);
int sg__sq_inr_read(sg__sq_conn_t *c, sg__store_req_t *req);
/* Runs an SG__REQ_CONTACTS_WRITE / _READ request (sqlite_contacts.c). */
int sg__sq_contacts_write(sg__sq_conn_t *c, sg__store_req_t *req, int64_t now);
int sg__sq_contacts_read(sg__sq_conn_t *c, sg__store_req_t *req);
/* Runs an SG__REQ_CAMPAIGN_WRITE / _READ request (sqlite_campaigns.c). */
int sg__sq_campaigns_write(sg__sq_conn_t *c, sg__store_req_t *req, int64_t now);
int sg__sq_campaigns_read(sg__sq_conn_t *c, sg__store_req_t *req);
int sg__sq_mo_action(sg__sq_conn_t *c, const sg_store_mo_deliver_t *d,
                     int64_t now);
/* Runs an SG__REQ_OPS_WRITE / SG__REQ_OPS_READ request (sqlite_ops.c). */
int sg__sq_ops_write(sg__sq_conn_t *c, sg__store_req_t *req, int64_t now);
int sg__sq_ops_read(sg__sq_conn_t *c, sg__store_req_t *req);
/* Runs an SG__REQ_TRAFFIC_READ request (sqlite_traffic.c). */
int sg__sq_traffic_read(sg__sq_conn_t *c, sg__store_req_t *req);
/* The node of store/nodes.h (sqlite_nodes.c): its row and epoch at open
 * (inside the open transaction), and SG__REQ_NODE_BEAT. */
int sg__sq_node_register(sg__sq_conn_t *c, sg_store_t *st, int64_t now);
int sg__sq_node_beat(sg__sq_conn_t *c, sg__store_req_t *req, int64_t now);
/* Records a part's new status with its event (sqlite_write.c), for the
 * requests of other files; then derive the message with sg__sq_rederive. */
int sg__sq_part_event(sg__sq_conn_t *c, const char *mid, unsigned seq,
                      sg_msg_status_t status, int32_t code, const char *detail,
                      int64_t now);
/* Derives the status of message mid again from its parts and records a
 * change (its event, SMPP receipt, Kannel dlr-url and webhook) with
 * `detail` as the reason (sqlite_write.c). *out (may be NULL) is the new
 * status. Returns 0, SG_ENOENT, SG_ENOMEM, SG_EIO. Not knowing the part's
 * status before the caller changed it, it takes the row's: the caller
 * settles the row (sg__sq_msg_settle) BEFORE it changes a part of mid,
 * or a final status the one part carried would be taken for 'queued' and
 * recorded a second time. (Settling here, after the change, would take
 * the caller's own final status for a carried one and record nothing.) */
int sg__sq_rederive(sg__sq_conn_t *c, sg__arena_t *a, const char *mid,
                    const char *detail, int64_t now, sg_msg_status_t *out);
/* Writes into the row of message mid the final status, error code and
 * time its one part carries (SG__SQ_MSG_ON_PART), if it does, as the row
 * said before such a status stayed on the part (sqlite_write.c). Run
 * before the part's status changes again. Returns 0 or SG_EIO. */
int sg__sq_msg_settle(sg__sq_conn_t *c, const char *mid);

/* Runs one read request on a reader connection (sqlite_read.c). */
int sg__sq_run_read(sg__sq_conn_t *c, sg__store_req_t *req);

/* The passes before a claim (sqlite_write.c); counts add to the outs.
 * The release names the connectors of the messages it released in *to
 * (the request's memory), when it released any. */
int sg__sq_release_scheduled(sg__sq_conn_t *c, sg__store_req_t *req,
                             int64_t now, size_t *n, const char *const **to,
                             size_t *n_to);

/* Sets the next_ms of claim r answered with no part: the earliest later
 * back-off end among its connector's queued parts (sqlite_write.c). */
int sg__sq_claim_next(sg__sq_conn_t *c, sg__store_req_t *r, int64_t now);
int sg__sq_expire(sg__sq_conn_t *c, sg__store_req_t *req, int64_t now,
                  size_t *n);
/* Puts the parts whose lease ran out back in the queue (adds them to *n)
 * and names their connectors in *to (each once, in req's memory; left as
 * it is when none was requeued). */
int sg__sq_requeue_leases(sg__sq_conn_t *c, sg__store_req_t *req, int64_t now,
                          size_t *n, const char *const **to, size_t *n_to);

/* SMPP receipts (sqlite_smpp_out.c): the origin row of a message stored
 * with one, the receipt queued with a final status, and the two requests. */
int sg__sq_smpp_origin_insert(sg__sq_conn_t *c, int64_t account_id,
                              const sg_store_msg_in_t *m, int64_t now);
int sg__sq_smpp_out_queue(sg__sq_conn_t *c, const char *mid,
                          sg_msg_status_t status, int32_t code, int64_t now);
int sg__sq_smpp_out_claim(sg__sq_conn_t *c, sg__store_req_t *r, int64_t now);
int sg__sq_smpp_out_finish(sg__sq_conn_t *c, sg__store_req_t *r);
/* An incoming message queued for the account's SMPP receivers. */
int sg__sq_smpp_out_queue_mo(sg__sq_conn_t *c, int64_t account_id,
                             const char *inbound_id, int64_t now);
/* Kannel dlr-url (sqlite_kannel.c): a message status change as a Kannel
 * delivery report needs it. */
typedef struct sg__sq_dlr_ev {
  const char *message_id;
  int64_t account_id;
  const char *from, *to, *client_ref;
  const char *dlr_url;
  unsigned dlr_mask;
  sg_msg_status_t before, after;
  unsigned seq;       /* the part that caused it, 0: the message */
  int32_t error_code; /* 0: none */
  const char *detail; /* the receipt text or the failure, or NULL */
  int64_t event_id;
  bool memory; /* one part and no callback URL: the call may be held in
                  the writer's memory (sqlite_whq.h) */
} sg__sq_dlr_ev_t;

/* Queues the GET of the expanded dlr-url when the change's Kannel report
 * type is in the message's dlr-mask; 0 when none is due. Returns 0,
 * SG_EIO, SG_ENOMEM. Writer thread, inside the transaction. */
int sg__sq_kannel_dlr(sg__sq_conn_t *c, sg__arena_t *a,
                      const sg__sq_dlr_ev_t *ev, int64_t now);
/* Whether a message with dlr_url (NULL: none) and dlr_mask has a Kannel
 * call for its change from `before` to `after`. */
bool sg__sq_kannel_reports(const char *dlr_url, unsigned dlr_mask,
                           sg_msg_status_t before, sg_msg_status_t after);
/* The call of a message event that sg__sq_kannel_dlr holds in memory
 * (a final status of a one-part message without a callback URL, in its
 * dlr-mask), built again at open from the event (its status, error code,
 * detail and time as `now`) and the message: 1 and the URL in *url (in a),
 * byte for byte the one built at commit; 0 when the event has none held. */
int sg__sq_kannel_held_url(sg__sq_conn_t *c, sg__arena_t *a,
                           const sg__sq_dlr_ev_t *ev, int64_t now,
                           const char **url);
/* Customers' pre-split parts (sqlite_presplit.c): the SG__REQ_PRESPLIT
 * request; what a derived status of a message of several parts must take
 * into account (its parts still missing hold back 'delivered'; a part of a
 * pre-split message that ended queues its own receipt), called by
 * rederive with the derived status in *to; and the pass of
 * sg_store_maintain that ends the waits that ran out. */
int sg__sq_presplit_run(sg__sq_conn_t *c, sg__store_req_t *r, int64_t now);
int sg__sq_presplit_derived(sg__sq_conn_t *c, const char *mid, unsigned total,
                            sg_msg_status_t part_to, unsigned seq, int32_t code,
                            int64_t now, sg_msg_status_t *to);
int sg__sq_presplit_expire(sg__sq_conn_t *c, sg__store_req_t *r, int64_t now,
                           size_t *n);
/* Binds the dlr-url, dlr-mask and webhook filter of new message m to
 * MSG_INSERT's parameters i, i + 1 and i + 2 (the message row takes them
 * in its INSERT, not in an UPDATE after it). */
void sg__sq_bind_kannel(sqlite3_stmt *s, int i, const sg_store_msg_in_t *m);
/* Derives message mid's status again after a change the caller made
 * (sqlite_write.c's rederive, with detail as the cause). */
int sg__sq_rederive_msg(sg__sq_conn_t *c, sg__arena_t *a, const char *mid,
                        unsigned seq, sg_msg_status_t part_to,
                        const char *detail, int64_t now);

/* At open: every lease of the last run released (its sessions are gone;
 * only rows written by versions that kept leases in rows hold any). */
int sg__sq_smpp_out_release_all(sg__sq_conn_t *c);
/* Claims of receipts owed to SMPP customers write nothing: their leases
 * are kept in memory (sqlite_lease.h) like the webhooks'. After every
 * commit and rollback of c (a rollback forgets its transaction's leases);
 * close frees them before c closes. Writer thread only. */
void sg__sq_smpp_out_tx_end(sg__sq_conn_t *c, bool committed);
void sg__sq_smpp_out_close(sg__sq_conn_t *c);

/* Webhook claim and finish (sqlite_webhook.c): SG__REQ_WEBHOOK_CLAIM and
 * SG__REQ_WEBHOOK_FINISH. A claim writes nothing; its leases are kept in
 * memory by connection c. sg__sq_wh_tx_end must follow every commit
 * (committed true) and rollback (false) of c: a rollback forgets the leases
 * its transaction took. sg__sq_wh_close frees them (before c closes);
 * sg__sq_wh_leases counts them (for tests). Writer thread only. */
int sg__sq_wh_claim(sg__sq_conn_t *c, sg__store_req_t *r, int64_t now);
int sg__sq_wh_finish(sg__sq_conn_t *c, sg__store_req_t *r, int64_t now);
void sg__sq_wh_tx_end(sg__sq_conn_t *c, bool committed);
void sg__sq_wh_close(sg__sq_conn_t *c);
size_t sg__sq_wh_leases(const sg__sq_conn_t *c);
/* When a webhook delivery is due next apart from the rows waiting for a
 * later attempt (SG__Q_MAINT_NEXT reads those): now for a due row no live
 * lease holds, else the earliest end of the leases the writer holds, of
 * rows and of deliveries out from memory; 0 when none. Leases live only
 * in the writer's memory, never in the rows (sqlite_lease.h). */
int sg__sq_wh_next(sg__sq_conn_t *c, int64_t now, int64_t *next);
/* Row id (written just now for a delivery that was out from memory) is
 * leased until `until`, `tries` claims made. 0 or SG_ENOMEM. */
int sg__sq_wh_adopt(sg__sq_conn_t *c, int64_t id, int64_t until, unsigned tries,
                    int64_t now);
/* The webhook deliveries the writer of st holds in memory (sqlite_whq.h),
 * not finished; any thread. */
uint64_t sg__sq_wh_held(sg_store_t *st);

/* A campaign's progress counters (sqlite_campcount.c). The writer holds
 * the ids of the campaigns table in memory; sg__sq_campaign_count notes
 * that a message of batch batch_id moved from status `before` (SG_MSG_NONE:
 * it was just stored) to `after`, which costs a look-up in memory and
 * nothing else for a batch that is no campaign or a move inside one
 * counter's bucket (queued to sending). The moves of a group are added up
 * per campaign and written by sg__sq_campaign_flush, one UPDATE a campaign
 * touched, before the group's COMMIT and before any campaign request of
 * the group (which reads the counters); sg__sq_campaign_discard forgets
 * them when the transaction is rolled back. A move is noted after the row
 * it counts is written, so that a request that fails after noting one has
 * changed rows and is undone by the group's rerun. */
/* At the start of each write transaction: (re)reads the ids when another
 * connection committed since the last look (PRAGMA data_version; rows are
 * only ever added to campaigns by a writer that holds the database's write
 * lock, as this one does: another process's or a restart's campaigns are
 * seen here). Returns 0 or SG_EIO. */
int sg__sq_campaigns_probe(sg__sq_conn_t *c);
/* Campaign id was inserted by this connection. Returns 0 or SG_ENOMEM. */
int sg__sq_campaign_known(sg__sq_conn_t *c, const char *id);
int sg__sq_campaign_count(sg__sq_conn_t *c, const char *batch_id,
                          sg_msg_status_t before, sg_msg_status_t after);
int sg__sq_campaign_flush(sg__sq_conn_t *c);
void sg__sq_campaign_discard(sg__sq_conn_t *c);
void sg__sq_campaigns_close(sg__sq_conn_t *c);
/* Sets c->smpp_origins when smpp_origin has a row (nothing once it is set).
 * Returns 0 or SG_EIO. */
int sg__sq_smpp_origins_probe(sg__sq_conn_t *c);

/* Traffic per account and minute (traffic_minutes, sqlite_trafficw.c):
 * a message of account_id created at created_ms moved from status `before`
 * (SG_MSG_NONE: just stored) to `after`. Counted in the writer's memory and
 * written by sg__sq_traffic_flush, one row per account and minute touched,
 * before the group's COMMIT; sg__sq_traffic_discard forgets them when the
 * transaction is rolled back. */
int sg__sq_traffic_note(sg__sq_conn_t *c, int64_t account_id,
                        int64_t created_ms, sg_msg_status_t before,
                        sg_msg_status_t after);
int sg__sq_traffic_flush(sg__sq_conn_t *c);
void sg__sq_traffic_discard(sg__sq_conn_t *c);
/* Deletes the traffic minutes older than the store's traffic_keep_ms, at
 * most 1000 a call, in the maintenance transaction (sqlite_trafficp.c);
 * *n counts them. */
int sg__sq_traffic_prune(sg__sq_conn_t *c, int64_t now, size_t *n);
/* The counts of /metrics kept by the writer (sqlite_counts.c): messages
 * (by the status readers show) and parts by status, and inbound messages.
 * open/close make and free c->cnt (the writer's only). load reads them
 * from the tables inside the writer's transaction (a scan of messages and
 * parts: at open, and when another connection changed the file); probe,
 * at the start of every write transaction, loads them when PRAGMA
 * data_version says so. After each statement that changed rows, the
 * writer notes what moved: msg and part (`from` SG_MSG_NONE: a new row;
 * part: n rows that all had status `from`), inbound (n new rows); for a
 * change of several parts of one message whose statuses differ, tally the
 * parts' statuses before (sign -1) and after (+1) into t and note t with
 * parts_moved. discard forgets the moves of a transaction rolled back to
 * be run again; tx_end must follow every COMMIT (committed true: the moves
 * join the counts readers copy) and ROLLBACK of a transaction that noted
 * or loaded. copy (any thread) copies the committed counts into out's
 * messages, parts and inbound. */
typedef struct sg__sq_counts sg__sq_counts_t;
int sg__sq_counts_open(sg__sq_conn_t *c);
void sg__sq_counts_close(sg__sq_conn_t *c);
int sg__sq_counts_load(sg__sq_conn_t *c);
int sg__sq_counts_probe(sg__sq_conn_t *c);
void sg__sq_counts_msg(sg__sq_conn_t *c, sg_msg_status_t from,
                       sg_msg_status_t to);
void sg__sq_counts_part(sg__sq_conn_t *c, sg_msg_status_t from,
                        sg_msg_status_t to, int64_t n);
void sg__sq_counts_inbound(sg__sq_conn_t *c, int64_t n);
int sg__sq_counts_tally(sg__sq_conn_t *c, const char *mid, int sign,
                        int64_t t[SG_MSG_STATUS_COUNT]);
void sg__sq_counts_parts_moved(sg__sq_conn_t *c,
                               const int64_t t[SG_MSG_STATUS_COUNT]);
void sg__sq_counts_discard(sg__sq_conn_t *c);
void sg__sq_counts_tx_end(sg__sq_conn_t *c, bool committed);
void sg__sq_counts_copy(sg__sq_counts_t *k, sg_store_counts_t *out);
/* How often the counts were read from the tables since the store opened;
 * any thread. */
unsigned sg__sq_counts_loads(sg__sq_counts_t *k);
/* The writer's counts of store st (for its readers). */
sg__sq_counts_t *sg__sq_counts_of(sg_store_t *st);

/* Receipts that matched no part (sqlite_orphan.c), writer thread only.
 * hold stores receipt x (the item says held); apply, after a SENT result
 * made part (part_id, mid, seq) 'sent' with smsc_id, applies and deletes
 * the receipt held for that key, if any, through sg__sq_receipt_apply (the
 * item says receipt_applied); expire deletes those held longer than the
 * store's unmatched_keep_ms. The number held is kept in memory (counted at
 * first use), so that apply costs nothing while none is held;
 * sg__sq_orphan_tx_end must follow every commit and rollback of c, and
 * sg__sq_orphan_close frees the state before c closes. */
int sg__sq_orphan_hold(sg__sq_conn_t *c, const sg_store_receipt_in_t *x,
                       int64_t now, sg_store_item_res_t *item);
int sg__sq_orphan_apply(sg__sq_conn_t *c, sg__arena_t *a, int64_t part_id,
                        const char *mid, unsigned seq, const char *smsc_id,
                        int64_t now, sg_store_item_res_t *item);
int sg__sq_orphan_expire(sg__sq_conn_t *c, int64_t now, size_t *n);
/* 1 when a receipt is held for (connector, smsc_id), 0 when not, or an
 * error; looks only while one is held (counted at first use). */
int sg__sq_orphan_held(sg__sq_conn_t *c, const char *connector,
                       const char *smsc_id);
void sg__sq_orphan_tx_end(sg__sq_conn_t *c, bool committed);
void sg__sq_orphan_close(sg__sq_conn_t *c);
/* Records receipt x for the part found for it (sqlite_write.c): its
 * status, event and the message's derived status, as a receipt that
 * matched at once. item->part_status is the part's status before. */
int sg__sq_receipt_apply(sg__sq_conn_t *c, sg__arena_t *a, int64_t part_id,
                         const char *mid, unsigned seq,
                         const sg_store_receipt_in_t *x, int64_t now,
                         sg_store_item_res_t *item);

/* Writes the webhook row of message event event_id (sqlite_write.c): its
 * id is -event_id, the id its delivery has in memory (sqlite_whq.h). */
int sg__sq_webhook_row(sg__sq_conn_t *c, int64_t event_id, int64_t account,
                       const char *mid, const char *url, const uint8_t *payload,
                       size_t len, int64_t now);

/* Recovery at open: every 'sending' part and webhook back to the queue. */
int sg__sq_recover(sg__sq_conn_t *c, int64_t now, uint64_t *parts,
                   uint64_t *webhooks);

#endif
