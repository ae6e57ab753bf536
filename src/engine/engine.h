/* engine.h - the one path every message takes (DESIGN.md "One path for every
 * message"): submit -> validate and normalise numbers -> (opt-outs) -> route
 * -> encode and split -> store -> acknowledge; then a dispatcher that feeds
 * the connectors from the store, the correlation of delivery receipts, the
 * storing of inbound messages, and a notifier that POSTs status webhooks.
 *
 * Every ingress (REST, Kannel sendsms, the SMPP server, the CLI) calls
 * sg_engine_submit() and nothing else to send; none of them writes to the
 * store or talks to a connector by itself.
 *
 * THREADS
 *   Every function here is called on the loop given to sg_engine_new(), and
 *   every callback runs on that loop, never inside the call that queued it.
 *   Nothing blocks: the store answers through its callbacks, connectors
 *   through theirs. The exceptions are sg_engine_preview() and the
 *   authentication calls, which are synchronous and cheap (no I/O).
 *
 * DURABILITY
 *   sg_engine_submit()'s callback reports a message accepted only after the
 *   store committed it (store/store.h, "DURABILITY CONTRACT"). A receipt or
 *   an inbound message is acknowledged to the connector only after the store
 *   committed it. Delivery to operators is at-least-once: a part whose
 *   outcome is unknown (no answer on the connector's window, or a crash
 *   while it was 'sending') is sent again, and the event history says so.
 *
 * LIFE CYCLE
 *   sg_engine_new -> sg_engine_start (async: syncs the configured accounts
 *   into the store, then creates and starts one connector per configured
 *   connector) -> traffic -> sg_engine_stop (async: refuses new submits,
 *   stops the connectors, records what they hand back, waits for every
 *   store request it made) -> the caller closes the store -> sg_engine_free.
 *   Parts queued in the store stay queued across a stop.
 *
 * STATUS WEBHOOKS
 *   When a message's status changes to sent or to a final status (the
 *   store's default webhook_statuses) and the message has a callback URL
 *   (its own, or its account's callback_url, filled in at submit), the store
 *   queues a webhook delivery in the same transaction as the event. The
 *   notifier claims due deliveries from the store and POSTs each, as stored,
 *   with
 *     Content-Type: application/json
 *     X-Smsgate-Signature: sha256=<lower-case hex HMAC-SHA256 of the body
 *                          under the account's webhook_secret>
 *     X-Smsgate-Webhook-Id: <the delivery's id, the same on every retry>
 *   (an account without a secret signs with the empty key). The id is a
 *   64-bit integer and may be negative: the SQLite store numbers the
 *   deliveries it holds in memory -(the id of their event). The body is
 *   the JSON object store/store.h documents under "WEBHOOKS", e.g.
 *     {"event":"message.status","message_id":"01J...","batch_id":"01J...",
 *      "status":"delivered","to":"+79001234567","from":"Shop",
 *      "client_ref":"order-7","part":1,"parts":1,
 *      "timestamp":"2025-01-31T12:00:00.123Z"}
 *   with "error_code" and "detail" when the change carried an error. A
 *   2xx answer ends the delivery. A 5xx, 408 or 429 answer, a network error
 *   or no answer within webhooks.timeout_ms is retried with exponential
 *   back-off from webhooks.retry_min_ms to webhooks.retry_max_ms (less up to
 *   20 % jitter) until webhooks.max_age_ms (default 24 h) after it was
 *   queued, then marked failed; another answer (3xx, other 4xx) or a refused
 *   destination fails it at once. URLs that resolve to loopback, private,
 *   link-local or otherwise non-public addresses are refused unless
 *   webhooks.allow_private_networks is true (engine/webhook.h).
 */
#ifndef SG_ENGINE_ENGINE_H
#define SG_ENGINE_ENGINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <uv.h>

#include "connector/connector.h"
#include "core/config.h"
#include "core/id.h"
#include "core/phone.h"
#include "core/segment.h"
#include "store/store.h"

typedef struct sg_engine sg_engine_t;

/* ---- accounts ------------------------------------------------------------ */

/* An account as the engine knows it: one per sg_config_t.accounts entry,
 * with the id the store keeps for it. Owned by the engine, valid until
 * sg_engine_free(). */
typedef struct sg_engine_account {
  int64_t id; /* the store's account id */
  const char *name;
  const sg_config_account_t *cfg; /* into the sg_config_t given to _new */
} sg_engine_account_t;

/* Finds the account of a REST API key (Authorization: Bearer <key>).
 * key[0..len) need not be NUL-terminated. The comparison takes the same
 * time whatever the key (keyed hashes compared with sodium_memcmp), so it
 * reveals nothing about configured keys. Returns 0 and sets *out, SG_ENOENT
 * for an unknown key (answer 401), SG_EPERM for the key of an account the
 * configuration disables (answer 403), SG_EINVAL for NULL arguments,
 * SG_ESTATE before sg_engine_start() completed. Synchronous, loop thread. */
int sg_engine_auth_api_key(sg_engine_t *e, const char *key, size_t len,
                           const sg_engine_account_t **out);

/* Finds an account by name and password: Kannel sendsms (username,
 * password). Same timing rule and return values as sg_engine_auth_api_key
 * (SG_ENOENT for an unknown name, an account without a password, or a
 * wrong password). */
int sg_engine_auth_password(sg_engine_t *e, const char *name,
                            const char *password, size_t len,
                            const sg_engine_account_t **out);

/* Finds the account an ESME binds as, by the account's smpp.system_id and
 * smpp.password (SMPP 3.4 section 4.1). Same rules as above. */
int sg_engine_auth_smpp(sg_engine_t *e, const char *system_id,
                        const char *password, const sg_engine_account_t **out);

/* Look-ups without credentials (for admin paths and tests); NULL when none
 * or before start completed. */
const sg_engine_account_t *sg_engine_account_by_name(sg_engine_t *e,
                                                     const char *name);
const sg_engine_account_t *sg_engine_account_by_id(sg_engine_t *e, int64_t id);

/* ---- ACCOUNTS AND KEYS AT RUN TIME (engine/admin.c) ------------------------
 *
 * Accounts created through the API are kept in the store (their settings as
 * the JSON object of the configuration's account keys) and loaded at start
 * after the configuration's accounts; accounts of the configuration are
 * read-only here (SG_EPERM). Names are unique over both, and so are SMPP
 * system_ids. A created or changed account takes effect at once: the engine
 * answers only after the store committed it, and from then on REST, Kannel
 * sendsms and SMPP binds see it. Secrets are write-only: the Kannel
 * password and smpp.password are kept as argon2id hashes (made on libuv's
 * thread pool); the webhook secret is kept as given (it signs webhooks).
 * Accounts are never deleted: disabling one keeps it and its messages.
 *
 * API keys are random (libsodium), shown once, kept as their
 * sg_store_key_hash only, with a short public id ("k_" and 12 hex digits).
 * Several per account; a revoked key is refused at once; a rotation makes a
 * new key and revokes the old one, optionally after a grace period.
 *
 * Changes run one at a time, in the order they were asked: a call while
 * another runs waits its turn (its checks run then, on the settings the
 * changes before it left); with 64 waiting already it fails at once with
 * SG_EBUSY (REST answers 429 with Retry-After). Loop thread only. */

#define SG_ENGINE_API_ACCOUNTS_MAX 10000 /* accounts created through the API */
#define SG_ENGINE_KEYS_MAX 100000        /* API keys, revoked ones included */

/* What the engine knows of an account beyond its settings. */
typedef struct sg_engine_account_info {
  bool api;           /* created through the API (else: configuration) */
  int64_t created_ms; /* API accounts: when created; 0 for configured */
  int64_t updated_ms;
} sg_engine_account_info_t;

/* An API key, never its secret. */
typedef struct sg_engine_key {
  const char *id;   /* public id */
  const char *name; /* the label given at creation, or NULL */
  const sg_engine_account_t *account;
  int64_t created_ms;
  int64_t revoked_ms;   /* 0: live; may lie in the future (grace) */
  int64_t last_used_ms; /* since this process started; 0: not used */
} sg_engine_key_t;

typedef struct sg_engine_admin_res {
  /* 0, or: SG_EINVAL (a bad field: 422), SG_EEXIST (a name, system_id or
   * key taken: 409), SG_ENOENT (no such account or key: 404), SG_EPERM (an
   * account of the configuration: 409 managed_by_config), SG_ESTATE (a key
   * already revoked: 409), SG_EBUSY (the store's queue full: 429),
   * SG_EIO (the store failed: 503), SG_ENOMEM, SG_ECLOSED. */
  int status;
  const char *error_code; /* "invalid_field", "name_taken", ... */
  char field[SG_CONFIG_KEY_MAX]; /* the field at fault ("smpp.password"),
                                    "" when none */
  char message[SG_CONFIG_MESSAGE_MAX];
  const sg_engine_account_t *account; /* the account created or changed, or
                                         the key's */
  const sg_engine_key_t *key;         /* the key made (create, rotate) */
  /* Shown once: the key made, or an account's generated webhook secret.
   * NULL when none. */
  const char *secret;
} sg_engine_admin_res_t;

/* Called once, on the loop, never inside the call that started it. res and
 * what it points to are valid during the call only. */
typedef void (*sg_engine_admin_cb)(sg_engine_t *e,
                                   const sg_engine_admin_res_t *res, void *ud);

/* Creates an account from the JSON object spec[0..len) with the account
 * keys of docs/configuration.md except api_key. Without "webhook_secret" a
 * random one is made and given in res->secret. Returns 0 (cb will fire) or
 * SG_EINVAL for NULL arguments. */
int sg_engine_account_create(sg_engine_t *e, const char *spec, size_t len,
                             sg_engine_admin_cb cb, void *ud);

/* Changes an API account: the JSON object patch[0..len) is merged into its
 * settings as RFC 7396 says (null removes a key; "smpp" merges key by key),
 * and the result is checked as a whole. "name" cannot change. Returns as
 * sg_engine_account_create. */
int sg_engine_account_update(sg_engine_t *e, const char *name,
                             const char *patch, size_t len,
                             sg_engine_admin_cb cb, void *ud);

/* The accounts in order (configured first, then API ones by creation),
 * for listing; NULL past the end. */
const sg_engine_account_t *sg_engine_account_at(sg_engine_t *e, size_t i);
void sg_engine_account_info(sg_engine_t *e, const sg_engine_account_t *a,
                            sg_engine_account_info_t *out);
/* The argon2id hash of an API account's smpp.password, or NULL (a
 * configured account, or none). */
const char *sg_engine_account_smpp_hash(sg_engine_t *e,
                                        const sg_engine_account_t *a);

/* Called after an account was created or changed (loop thread). One
 * listener (the SMPP server); NULL removes it. */
typedef void (*sg_engine_account_changed_cb)(void *data,
                                             const sg_engine_account_t *a);
void sg_engine_on_account_changed(sg_engine_t *e,
                                  sg_engine_account_changed_cb cb, void *data);

/* Makes a key for the named account, labelled `name` (may be NULL; up to
 * 64 octets). res->secret is the key, res->key its public part. */
int sg_engine_key_create(sg_engine_t *e, const char *account,
                         const char *name, sg_engine_admin_cb cb, void *ud);
/* Revokes a key by public id, at once. */
int sg_engine_key_revoke(sg_engine_t *e, const char *id, sg_engine_admin_cb cb,
                         void *ud);
/* Makes a new key for the account of key `id` (same label) and revokes the
 * old one grace_ms (0: at once; at most 30 days) from now. */
int sg_engine_key_rotate(sg_engine_t *e, const char *id, int64_t grace_ms,
                         sg_engine_admin_cb cb, void *ud);
/* The keys in creation order; NULL past the end. */
const sg_engine_key_t *sg_engine_key_at(sg_engine_t *e, size_t i);

/* ---- submitting ---------------------------------------------------------- */

#define SG_ENGINE_MAX_RECIPIENTS 10000
#define SG_ENGINE_CLIENT_REF_MAX 128 /* octets */
#define SG_ENGINE_URL_MAX 2048       /* octets of a callback_url */
#define SG_ENGINE_IDEM_KEY_MAX 255   /* octets of an idempotency key */
#define SG_ENGINE_PRIORITY_MAX 3

/* One part that arrives already encoded and is sent as it came: a part of
 * a message the customer split itself (SMPP short_message with a UDH, or
 * sar_* TLVs turned into one). The engine stores it as a message of one
 * part, with this UDH and user data, and never re-encodes or splits it. */
typedef struct sg_submit_raw {
  sg_encoding_t encoding; /* GSM7 (unpacked septets), UCS2 or 8BIT */
  const uint8_t *udh;     /* UDHL first, or NULL */
  size_t udh_len;         /* 0 or 2..SG_SEG_UDH_MAX */
  const uint8_t *ud;      /* 1..SG_SEG_UD_MAX units */
  size_t ud_len;
} sg_submit_raw_t;

/* A send request, as an ingress hands it over after authentication. The
 * engine copies what it needs during sg_engine_submit(): every pointer may
 * be reused as soon as it returns. */
typedef struct sg_submit_req {
  const sg_engine_account_t *account; /* required (from sg_engine_auth_*) */
  /* Recipients as the user wrote them ("8 916 123-45-67", "+44 20 ..."),
   * normalised with the account's default_region. 1..10,000; a NUL-
   * terminated string each. A duplicate is sent twice. */
  const char *const *to;
  size_t n_to;
  /* Sender: a number or alphanumeric text (connector/smpp_client.h,
   * sg_smpp_addr_from_text rules); NULL or "": the account's
   * default_sender; without either the request is refused (SG_EINVAL,
   * "missing_sender", field "from"). When the account lists allowed
   * senders, it must be one of them. */
  const char *from;
  /* Exactly one of: UTF-8 text (text, text_len), or a binary payload
   * (binary, binary_len, sent as 8-bit data); empty is refused
   * ("empty_text"). */
  const char *text;
  size_t text_len;
  const uint8_t *binary;
  size_t binary_len;
  sg_encoding_t encoding;   /* AUTO (default), GSM7 or UCS2; text only */
  bool national;            /* allow GSM 7-bit national shift tables */
  bool smart;               /* replace look-alikes when that saves parts */
  const char *callback_url; /* NULL: the account's callback_url */
  int64_t send_at_ms;       /* Unix ms; 0 or a time already past: at once */
  int64_t validity_ms;      /* how long, from now, the message may still be
                               sent (a duration, ms); 0: no limit. A message
                               not sent by then ends 'expired'. */
  const char *client_ref;   /* echoed in webhooks; NULL: none */
  /* Idempotency: a request with the key of an earlier request of the same
   * account (within 24 h) is not stored again. With the same request_hash
   * (the ingress's hash of what makes the request, e.g. SHA-256 of the
   * body), the result is replayed; with another, it is SG_EEXIST (409). */
  const char *idem_key;
  const uint8_t *request_hash;
  size_t request_hash_len;
  uint8_t priority; /* 0 normal .. 3 highest */
  bool dlr;         /* ask the operator for delivery receipts */
  /* Pre-encoded part (see sg_submit_raw_t), or NULL. With it, text or
   * binary is still required: it is the body kept for reading (the
   * part's text as UTF-8, or its octets); encoding, national and smart are
   * ignored. */
  const sg_submit_raw_t *raw;
  /* SMPP ingress: the origin kept with each message, whose final status
   * then queues a receipt for the customer (store.h "SMPP RECEIPTS"), or
   * NULL. */
  const sg_store_smpp_origin_t *smpp;
  /* Kannel sendsms: a URL template (core/kannel.h escape codes) called with
   * GET for each status change whose Kannel report type (the dlr-mask bits
   * SG_KANNEL_DLR_*) is in dlr_mask; NULL or a mask of 0: none. Checked
   * like callback_url. */
  const char *dlr_url;
  uint8_t dlr_mask;
  /* Automatic replies to inbound messages (INBOUND below): auto_reply
   * sends from the number the message came to even when the account's
   * senders do not list it; optout_exempt sends to a number on the
   * account's opt-out list (only the confirmation of a STOP), and is not
   * charged nor refused for the account's prices or balance. */
  bool auto_reply;
  bool optout_exempt;
  /* The batch the messages join (an id from sg_id_new, e.g. one batch for
   * the parts of a message an SMPP customer split itself, submitted one by
   * one), or NULL for a new batch. Not part of the idempotency hash. */
  const char *batch_id;
  /* A part of a message an SMPP customer split itself (store.h "customers'
   * pre-split parts"): the request has one recipient and one raw part,
   * which is stored into the message of its group (or starts it) through
   * sg_store_presplit_add; the item's id is that message's. Refusals:
   * SG_EEXIST "duplicate_part", SG_ERANGE "part_out_of_range", SG_ESTATE
   * "message_canceled", SG_ENOENT "unknown_message" (field "seq"). NULL:
   * an ordinary message. */
  const sg_store_presplit_t *presplit;
} sg_submit_req_t;

/* The result for one recipient, in the order of sg_submit_req_t.to. */
typedef struct sg_submit_item {
  int status; /* 0: accepted; SG_EINVAL: the number was
                 rejected; SG_EIO: see sg_submit_res_t */
  /* status 0: */
  char id[SG_ID_LEN + 1];         /* the message id */
  char to[SG_PHONE_E164_MAX + 1]; /* E.164 */
  unsigned parts;
  sg_encoding_t encoding;     /* GSM7, UCS2 or 8BIT */
  sg_msg_status_t msg_status; /* QUEUED or SCHEDULED */
  const char *connector;      /* the connector the route chose */
  /* status != 0: */
  const char *input;                  /* the recipient as given */
  const char *error_code;             /* "too_short" ... (sg_phone_reason_name),
                                         "store_failed" */
  char reason[SG_PHONE_ERR_TEXT_MAX]; /* an English sentence */
} sg_submit_item_t;

/* The result of a request. All pointers are valid during the callback
 * only. */
typedef struct sg_submit_res {
  /* 0: the request was taken (see items; at least one was accepted), or
   * replayed. Otherwise the whole request failed and nothing was stored:
   *   SG_EINVAL   invalid (error_code, error_field, message say what)  422
   *   SG_EEXIST   idempotency key used for another request             409
   *   SG_EBUSY    over a limit (store queue, route backlog, account tps);
   *               retry after retry_after_s                            429
   *   SG_EIO      the store failed to commit; nothing stored           503
   *   SG_ECLOSED  the engine is not running (not started, stopping)    503
   *   SG_ENOMEM                                                         503
   * sg_engine_http_status() maps these. */
  int status;
  const char *error_code;  /* stable, for APIs: "invalid_number",
                              "missing_text", "too_many_parts", ... */
  const char *error_field; /* the request field at fault, or NULL */
  const char *message;     /* an English sentence; never NULL */
  unsigned retry_after_s;  /* SG_EBUSY */
  /* status 0: */
  bool replayed; /* an idempotent replay: items is empty, and
                    response is the body answered the first time */
  char batch_id[SG_ID_LEN + 1];
  const sg_submit_item_t *items; /* n_items == n_to (0 when replayed) */
  size_t n_items;
  size_t n_accepted;
  /* The response body of the request, JSON, UTF-8 (always set when status
   * is 0; recorded with the idempotency key):
   *   {"batch_id": "...", "messages": [ one per recipient, in order:
   *      {"id": "...", "to": "+...", "parts": n, "encoding": "gsm7",
   *       "status": "queued"}                                  accepted
   *      {"input": "...", "error": {"code": "too_short",
   *       "message": "..."}}                                   rejected ]}
   * An ingress with another format (Kannel, SMPP) uses items instead. */
  const uint8_t *response;
  size_t response_len;
} sg_submit_res_t;

typedef void (*sg_submit_cb)(sg_engine_t *e, const sg_submit_res_t *res,
                             void *ud);

/* Submits a request: each recipient is validated and normalised
 * (core/phone.h, the account's default_region; a rejected number is
 * reported in its item with a reason, the others go on), then one message
 * per accepted recipient is routed (config routes: the longest matching
 * prefix, account and sender narrowing it; among the route's connectors
 * the first that is up, or by weight), encoded and split once
 * (core/segment.h, the account's max_parts), and stored (one store batch
 * per request, group-committed with others'). cb fires once, on the loop,
 * after the store committed, or with a whole-request error (see
 * sg_submit_res_t), never inside this call. If no recipient is valid, the
 * request fails with SG_EINVAL (error_field "to", the first reason).
 * A request is stored in one transaction, however many recipients it has
 * (up to SG_ENGINE_MAX_RECIPIENTS): all of its messages, with its
 * idempotency record, or none of them.
 * Returns 0 (cb will fire) or SG_EINVAL for a NULL e, req, cb or account
 * (cb will not fire). */
int sg_engine_submit(sg_engine_t *e, const sg_submit_req_t *req,
                     sg_submit_cb cb, void *ud);

/* The HTTP status for a whole-request status of sg_submit_res_t (202 for
 * 0), and for the other calls' statuses (404 for SG_ENOENT, 409 for
 * SG_ESTATE from cancel, 503 for SG_ECLOSED, SG_EIO and the rest). Pure. */
unsigned sg_engine_http_status(int status);

/* ---- previewing ---------------------------------------------------------- */

typedef struct sg_engine_preview {
  int status; /* 0, or SG_EINVAL (error_* say why) */
  const char *error_code;
  const char *error_field;
  char message[256];
  sg_encoding_t encoding; /* GSM7, UCS2 or 8BIT */
  unsigned parts;
  size_t chars;          /* code points (octets for binary) */
  size_t units;          /* septets, UTF-16 units or octets */
  size_t replaced;       /* by smart encoding */
  size_t units_per_part; /* room of a part of this message */
} sg_engine_preview_t;

/* What the text (or binary) of req would become: encoding and parts, as
 * submit would choose them (the account's max_parts when req->account is
 * set, else SG_SEG_DEFAULT_MAX_PARTS). Recipients and the rest of req are
 * not looked at; nothing is stored. Synchronous (uses the engine's
 * segmentation buffer), loop thread. Returns out->status. */
int sg_engine_preview(sg_engine_t *e, const sg_submit_req_t *req,
                      sg_engine_preview_t *out);

/* ---- reading and canceling ----------------------------------------------- */

/* status 0 with msg, or SG_ENOENT (no such message for this account),
 * SG_EIO. msg is valid during the callback only. */
typedef void (*sg_engine_message_cb)(sg_engine_t *e, int status,
                                     const sg_store_message_t *msg, void *ud);

/* Reads one message with its parts and events (oldest first). account_id
 * 0 is any account; another account's message is SG_ENOENT. Returns 0 (cb
 * will fire), SG_EINVAL (not a message id), SG_EBUSY, SG_ECLOSED. */
int sg_engine_get_message(sg_engine_t *e, const char *id, int64_t account_id,
                          sg_engine_message_cb cb, void *ud);

typedef void (*sg_engine_list_cb)(sg_engine_t *e, int status,
                                  const sg_store_list_res_t *res, void *ud);

/* Lists messages, newest first, with the filters and cursor of
 * sg_store_filter_t (set f->account_id to the caller's account). Returns
 * as sg_engine_get_message. */
int sg_engine_list_messages(sg_engine_t *e, const sg_store_filter_t *f,
                            sg_engine_list_cb cb, void *ud);

typedef void (*sg_engine_inbound_cb)(sg_engine_t *e, int status,
                                     const sg_store_inbound_res_t *res,
                                     void *ud);

/* Lists inbound messages of an account (0: all), newest first. */
int sg_engine_list_inbound(sg_engine_t *e, int64_t account_id,
                           const char *cursor, unsigned limit,
                           sg_engine_inbound_cb cb, void *ud);

/* ---- INBOUND --------------------------------------------------------------
 * Inbound messages (MO) are stored part by part before the operator is
 * acknowledged, reassembled (UDH with 8- or 16-bit references, SAR TLVs;
 * after config inbound.reassembly_timeout_ms the parts received are
 * delivered as they are, marked incomplete), decoded to UTF-8 and given to
 * an account by config inbound.rules (then catch_all). The account's
 * inbound_url gets a webhook signed and retried like status webhooks:
 *   {"event":"message.inbound","id","from","to","encoding","text" or
 *    "payload_hex","parts","incomplete" (only when true),"keyword",
 *    "connector","timestamp"}
 * A 2xx answer whose body is {"reply": "text"} sends that text back to the
 * sender, from the number the message was sent to, through
 * sg_engine_submit. The first word of the text, in upper case, is its
 * keyword: a STOP keyword puts the sender on the account's opt-out list and
 * a START keyword takes it off (in the transaction that stores the
 * message), and STOP, START and HELP are answered with the configured
 * texts. At most inbound.reply_limit automatic replies go from one number
 * to another in inbound.reply_window_ms.
 * A number on an account's opt-out list is refused by sg_engine_submit
 * (item error_code "opted_out") and a message queued for it before the
 * STOP ends 'rejected' at sending, with an event that says so. */

/* Lists inbound messages by the filters of sg_store_inbound_filter_t (set
 * f->account_id to the caller's account), newest first. Returns 0 (cb will
 * fire), SG_EINVAL (a bad cursor or limit), SG_EBUSY, SG_ECLOSED. */
int sg_engine_search_inbound(sg_engine_t *e, const sg_store_inbound_filter_t *f,
                             sg_engine_inbound_cb cb, void *ud);

/* status 0 (changed: the list changed; number: the E.164 form stored),
 * or SG_EIO. Pointers are valid during the call. */
typedef void (*sg_engine_optout_cb)(sg_engine_t *e, int status, bool changed,
                                    const char *number, void *ud);

/* Adds (add true) or removes a number of the account's opt-out list; the
 * number is normalised with the account's default_region. Returns 0 (cb
 * will fire), SG_EINVAL (not a valid number), SG_EBUSY, SG_ECLOSED. */
int sg_engine_optout_set(sg_engine_t *e, const sg_engine_account_t *a,
                         const char *number, bool add, sg_engine_optout_cb cb,
                         void *ud);

typedef void (*sg_engine_optouts_cb)(sg_engine_t *e, int status,
                                     const sg_store_optout_res_t *res,
                                     void *ud);

/* Lists the account's opt-outs in number order (or the one `number`,
 * normalised), `cursor` being the previous page's next_cursor. Returns as
 * sg_engine_optout_set. */
int sg_engine_optout_list(sg_engine_t *e, const sg_engine_account_t *a,
                          const char *number, const char *cursor,
                          unsigned limit, sg_engine_optouts_cb cb, void *ud);

/* status 0: canceled (every part was still scheduled or queued);
 * SG_ENOENT: no such message for this account; SG_ESTATE: too late (a part
 * is being sent or was sent, or the message has ended) -> 409; SG_EIO. */
typedef void (*sg_engine_done_cb)(sg_engine_t *e, int status, void *ud);

/* Cancels a message that has not been sent. Returns as
 * sg_engine_get_message. */
int sg_engine_cancel(sg_engine_t *e, const char *id, int64_t account_id,
                     sg_engine_done_cb cb, void *ud);

/* ---- metrics and health -------------------------------------------------- */

/* Latency histogram, in milliseconds, with Prometheus-style cumulative
 * buckets: count[i] is the number of observations <= bounds[i]; the last
 * bound is +Inf (UINT32_MAX). */
#define SG_ENGINE_LAT_BUCKETS 14
typedef struct sg_engine_latency {
  uint32_t bounds[SG_ENGINE_LAT_BUCKETS];
  uint64_t count[SG_ENGINE_LAT_BUCKETS];
  uint64_t n;
  double sum_ms;
} sg_engine_latency_t;

typedef struct sg_engine_conn_metrics {
  const char *name;
  const char *type; /* "smpp" */
  sg_conn_state_t state;
  sg_conn_stats_t stats; /* the connector's own counters */
  unsigned claimed;      /* parts taken from the store, not yet answered */
  unsigned waiting;      /* of which waiting for the connector (busy) */
  uint64_t backlog;      /* queued parts routed here (estimate: counted
                            from this process's submits and claims) */
  uint64_t results_sent, results_tempfail, results_permfail, results_unknown;
  /* The connector's physical links (the modems of a modem connector or
   * pool: signal, registration, operator, counters); none for SMPP. */
  sg_conn_link_t links[SG_CONN_LINKS_MAX];
  size_t n_links;
  sg_engine_latency_t latency; /* a part's claim -> its result, here */
  double rate;                 /* parts sent per second, last second */
} sg_engine_conn_metrics_t;

typedef struct sg_engine_metrics {
  int64_t now_ms;
  /* Store counts by status, refreshed every few seconds (counts_ms is when
   * they were read; 0: not yet). */
  sg_store_counts_t counts;
  int64_t counts_ms;
  /* Counts cancelled by the store's statement timeout (PostgreSQL); the
   * figures above then stay those of counts_ms. */
  uint64_t counts_timeouts;
  sg_store_stats_t store;
  /* Engine counters since start. */
  uint64_t requests;        /* sg_engine_submit calls */
  uint64_t requests_failed; /* answered with a whole-request error */
  uint64_t accepted;        /* messages stored */
  uint64_t rejected;        /* recipients rejected */
  uint64_t parts_accepted;
  uint64_t dlr_received, dlr_matched, dlr_unmatched;
  /* Receipts that matched no part and were stored (held), applied later
   * by their part's send result, or deleted unapplied after
   * store.unmatched_receipt_keep. */
  uint64_t rcpt_held, rcpt_applied_later, rcpt_expired;
  uint64_t inbound_received, inbound_stored;
  uint64_t webhooks_sent, webhooks_retried, webhooks_failed;
  unsigned submits_pending; /* requests waiting for their commit */
  unsigned webhooks_inflight;
  unsigned webhooks_queued; /* claimed, waiting for a request slot */
  /* Latencies: submit call -> its callback (the commit); a part's claim ->
   * its connector result. */
  sg_engine_latency_t submit_latency;
  sg_engine_latency_t send_latency;
  const sg_engine_conn_metrics_t *connectors; /* valid until the next
                                                 call or the engine's end */
  size_t n_connectors;
} sg_engine_metrics_t;

/* Fills *out from the engine's counters and the last store counts.
 * Synchronous, no I/O, loop thread. */
void sg_engine_metrics(sg_engine_t *e, sg_engine_metrics_t *out);

typedef struct sg_engine_health {
  bool ok;       /* running, store writable, a connector up */
  bool running;  /* started and not stopping */
  bool store_ok; /* the last store commit succeeded */
  unsigned connectors_up;
  unsigned connectors_total;
  char reason[128]; /* why not ok, "" when ok */
} sg_engine_health_t;

/* Synchronous, no I/O, loop thread. */
void sg_engine_health(sg_engine_t *e, sg_engine_health_t *out);

/* ---- nodes (engine/nodes.c, docs/scaling.md) ------------------------------ */

/* One node of the database, as this node's latest heartbeat read it. */
typedef struct sg_engine_node {
  char name[65];
  int64_t epoch;
  int64_t started_ms;
  int64_t heartbeat_ms;
  char version[32];
  char address[128];
  char connectors[512]; /* comma-separated; cut when longer */
  uint64_t leased_parts;
  bool alive;
  bool self; /* this node */
} sg_engine_node_t;

typedef struct sg_engine_nodes {
  bool enabled;          /* the store knows this node's name */
  const char *self;      /* this node's name ("" when not enabled) */
  int64_t epoch;         /* this node's epoch */
  int64_t as_of_ms;      /* when the list was read; 0: not yet */
  int64_t dead_after_ms; /* config node.dead_after */
  uint64_t released;     /* parts of dead nodes this node gave back, ever */
  uint64_t beats_failed; /* heartbeats the store failed */
  uint64_t beats_late;   /* heartbeats written more than dead_after late */
  bool claims_held;      /* no claims now: the heartbeat is (or was) late */
  const sg_engine_node_t *nodes; /* by name; valid until the next tick */
  size_t n;
} sg_engine_nodes_t;

/* The node list of the latest heartbeat. Synchronous, no I/O, loop
 * thread. */
void sg_engine_nodes(sg_engine_t *e, sg_engine_nodes_t *out);

/* ---- logging ------------------------------------------------------------- */

typedef enum sg_engine_log_level {
  SG_ENGINE_LOG_DEBUG = 0,
  SG_ENGINE_LOG_INFO = 1,
  SG_ENGINE_LOG_WARN = 2,
  SG_ENGINE_LOG_ERROR = 3
} sg_engine_log_level_t;

/* One line per event (no newline), e.g. "message 01J... to +7900... sent
 * on operator (smsc id 1f3a)". */
typedef void (*sg_engine_log_cb)(void *data, sg_engine_log_level_t level,
                                 const char *line);

/* Sets where log lines go (NULL: nowhere) and the lowest level sent. Call
 * before sg_engine_start(). */
void sg_engine_set_log(sg_engine_t *e, sg_engine_log_level_t min_level,
                       sg_engine_log_cb cb, void *data);

/* ---- life cycle ---------------------------------------------------------- */

/* Timing knobs that the configuration file does not expose; defaults in
 * brackets. Tests shorten them. */
typedef struct sg_engine_tuning {
  uint32_t tick_ms;           /* maintenance and the webhook poll while
                                 rows change, store counts poll, failover,
                                 a busy connector's claim wait [1000] */
  uint32_t counts_every_ms;   /* store counts refresh [5000] */
  uint32_t lease_ms;          /* claim lease of a part [300000] */
  unsigned claim_max;         /* parts taken per claim [256] */
  unsigned conn_max_claimed;  /* parts held per connector [1024] */
  uint64_t max_backlog;       /* queued parts per connector beyond which
                                 submits get SG_EBUSY [1000000] */
  unsigned max_attempts;      /* claims of a part before it fails [8] */
  uint32_t retry_min_ms;      /* back-off after a temporary failure: */
  uint32_t retry_max_ms;      /* min(max, min * 2^(attempt-1)) [2000,
                                 300000] */
  uint32_t failover_after_ms; /* a connector down this long has its queued
                                 parts moved to another of their route
                                 [30000] */
  uint32_t dlr_retry_ms;      /* a receipt that matched nothing is tried
                                 again after [2000], 3 times, then dropped
                                 with a warning (and acknowledged) */
  uint32_t idle_ms;           /* an idle gateway's store (SQLite):
                                 maintenance, the webhook poll and a lone
                                 node's heartbeat come this often while no
                                 commit changes a row [60000] */
  uint32_t idle_claim_ms;     /* an idle connector's claim waits in the
                                 store this long (SQLite; at most
                                 SG_STORE_CLAIM_WAIT_MAX_MS) [300000] */
  uint32_t webhook_wait_max_ms; /* a webhook delivery claimed ahead of a
                                   free request slot (webhooks.claim_ahead)
                                   waits this long at most, then goes back
                                   to the store, due at once
                                   [webhooks.timeout + 60000] */
  /* Unix ms clock; NULL: the wall clock. */
  int64_t (*clock_ms)(void *data);
  void *clock_data;
} sg_engine_tuning_t;

void sg_engine_tuning_default(sg_engine_tuning_t *t);

/* Creates an engine on `loop` for the configuration `cfg` and the open
 * store `st` (both borrowed: they must outlive the engine). Loads the phone
 * number metadata (tens of ms) and checks every account's default_region.
 * The tuning is the default until sg_engine_set_tuning(). Nothing runs
 * until sg_engine_start(). Returns 0 and sets *out, SG_ECONFIG (an unknown
 * default_region), SG_EINVAL (NULL argument), SG_ENOMEM, SG_EPROTO (the
 * phone metadata failed to load). */
int sg_engine_new(uv_loop_t *loop, const sg_config_t *cfg, sg_store_t *st,
                  sg_engine_t **out);

/* Replaces the tuning (copied; out-of-range zeros take the defaults). Call
 * before sg_engine_start(); returns 0 or SG_ESTATE after it. */
int sg_engine_set_tuning(sg_engine_t *e, const sg_engine_tuning_t *t);

typedef void (*sg_engine_start_cb)(sg_engine_t *e, int status, void *ud);

/* Starts: finds or creates each configured account in the store (by name),
 * then creates and starts the connectors (their connecting is logged, not
 * waited for), the dispatcher, scheduler, maintenance timer and notifier.
 * cb fires once with 0 or the error (SG_EIO: the store failed; SG_ECONFIG:
 * a connector could not be created); after an error, stop and free.
 * Returns 0 (cb will fire), SG_ESTATE (started before). */
int sg_engine_start(sg_engine_t *e, sg_engine_start_cb cb, void *ud);

/* Stops: new submits fail with SG_ECLOSED, timers stop, each connector is
 * stopped (parts it had not answered are recorded back as queued, so they
 * are sent after the next start), in-flight webhooks are abandoned (their
 * lease brings them back), and every store request the engine made is
 * waited for. Then cb fires (on the loop); the caller may then close the
 * store and free the engine. Calling it again is a no-op returning
 * SG_ESTATE. */
int sg_engine_stop(sg_engine_t *e, sg_engine_done_cb cb, void *ud);

/* Frees an engine that was never started or whose stop completed. NULL is
 * a no-op. */
void sg_engine_free(sg_engine_t *e);

/* The connector of that configured name (for tests and admin), or NULL. */
sg_connector_t *sg_engine_connector(sg_engine_t *e, const char *name);

#endif
