-- 0001_init.sql - the first schema of the SQLite store (see store/store.h).
--
-- Times are Unix milliseconds (INTEGER). Statuses are the lower-case names of
-- sg_msg_status_t ('queued', 'delivered' ...), so that the file reads well in
-- the sqlite3 shell. Message and inbound ids are 26-character ULIDs, which
-- sort by time: tables keyed on them are WITHOUT ROWID and grow at the right
-- edge of their B-tree.

CREATE TABLE accounts (
  id            INTEGER PRIMARY KEY,
  name          TEXT NOT NULL UNIQUE,
  password_hash TEXT,                 -- argon2id string (crypto_pwhash_str)
  webhook_url   TEXT,                 -- default callback URL of its messages
  disabled      INTEGER NOT NULL DEFAULT 0,
  created_ms    INTEGER NOT NULL
);

CREATE TABLE api_keys (
  id          INTEGER PRIMARY KEY,
  account_id  INTEGER NOT NULL REFERENCES accounts(id),
  key_hash    BLOB NOT NULL UNIQUE,   -- keyed BLAKE2b-256 of the key
  label       TEXT,
  created_ms  INTEGER NOT NULL,
  revoked_ms  INTEGER
);
CREATE INDEX api_keys_account ON api_keys(account_id);

CREATE TABLE messages (
  id            TEXT PRIMARY KEY,
  batch_id      TEXT NOT NULL,
  account_id    INTEGER NOT NULL,
  sender        TEXT NOT NULL,
  recipient     TEXT NOT NULL,        -- E.164, with its '+'
  encoding      INTEGER NOT NULL,     -- sg_encoding_t
  is_binary     INTEGER NOT NULL DEFAULT 0,
  body          BLOB NOT NULL,        -- UTF-8 text, or the binary payload
  validity_ms   INTEGER,              -- absolute expiry, NULL: none
  send_at_ms    INTEGER,              -- scheduled time, NULL: at once
  callback_url  TEXT,
  client_ref    TEXT,
  priority      INTEGER NOT NULL DEFAULT 0,
  dlr_wanted    INTEGER NOT NULL DEFAULT 0,
  status        TEXT NOT NULL,
  error_code    INTEGER,
  parts_total   INTEGER NOT NULL,
  created_ms    INTEGER NOT NULL,
  updated_ms    INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX messages_account ON messages(account_id, id);
CREATE INDEX messages_recipient ON messages(recipient, id);
CREATE INDEX messages_batch ON messages(batch_id, id);
CREATE INDEX messages_status ON messages(status, id);
CREATE INDEX messages_scheduled ON messages(send_at_ms)
  WHERE status = 'scheduled';

-- One row per segment. id is the number the connector echoes back with a
-- result; (connector, smsc_id) finds the part a delivery receipt is about.
CREATE TABLE parts (
  id              INTEGER PRIMARY KEY,
  message_id      TEXT NOT NULL REFERENCES messages(id),
  seq             INTEGER NOT NULL,   -- 1-based
  connector       TEXT NOT NULL,
  encoding        INTEGER NOT NULL,
  lang_locking    INTEGER NOT NULL DEFAULT 0,
  lang_single     INTEGER NOT NULL DEFAULT 0,
  udh             BLOB,
  ud              BLOB NOT NULL,
  concat_ref      INTEGER NOT NULL DEFAULT 0,
  concat_total    INTEGER NOT NULL DEFAULT 1,
  priority        INTEGER NOT NULL DEFAULT 0, -- copied from the message
  expires_ms      INTEGER,                    -- copied from its validity
  status          TEXT NOT NULL,
  smsc_id         TEXT,               -- the connector's key of its id
  error_code      INTEGER,
  error           TEXT,
  attempts        INTEGER NOT NULL DEFAULT 0,
  next_attempt_ms INTEGER NOT NULL DEFAULT 0,
  lease_until_ms  INTEGER,
  updated_ms      INTEGER NOT NULL,
  UNIQUE (message_id, seq)
);
CREATE INDEX parts_smsc ON parts(connector, smsc_id)
  WHERE smsc_id IS NOT NULL;
CREATE INDEX parts_due ON parts(connector, priority DESC, id)
  WHERE status = 'queued';
CREATE INDEX parts_lease ON parts(lease_until_ms)
  WHERE status = 'sending';
CREATE INDEX parts_expiry ON parts(expires_ms)
  WHERE expires_ms IS NOT NULL AND status IN ('queued', 'scheduled');

-- The status history: part_seq NULL for the message itself.
CREATE TABLE events (
  id          INTEGER PRIMARY KEY,
  message_id  TEXT NOT NULL REFERENCES messages(id),
  part_seq    INTEGER,
  status      TEXT NOT NULL,
  error_code  INTEGER,
  detail      TEXT,
  time_ms     INTEGER NOT NULL
);
CREATE INDEX events_message ON events(message_id, id);

CREATE TABLE inbound (
  id           TEXT PRIMARY KEY,
  account_id   INTEGER,               -- NULL: not routed to an account
  connector    TEXT,
  sender       TEXT NOT NULL,
  recipient    TEXT NOT NULL,
  encoding     INTEGER NOT NULL,
  is_binary    INTEGER NOT NULL DEFAULT 0,
  body         BLOB NOT NULL,
  parts        INTEGER NOT NULL DEFAULT 1,
  received_ms  INTEGER NOT NULL,
  created_ms   INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX inbound_account ON inbound(account_id, id);

-- A POST that carried an Idempotency-Key: a repeat with the same request
-- gets the same response; one with another request is a conflict.
CREATE TABLE idempotency_keys (
  account_id    INTEGER NOT NULL,
  key           TEXT NOT NULL,
  request_hash  BLOB NOT NULL,
  response      BLOB NOT NULL,
  created_ms    INTEGER NOT NULL,
  expires_ms    INTEGER NOT NULL,
  PRIMARY KEY (account_id, key)
) WITHOUT ROWID;
CREATE INDEX idempotency_expiry ON idempotency_keys(expires_ms);

-- Webhook deliveries: status 'pending' (waiting for next_attempt_ms),
-- 'sending' (claimed until lease_until_ms), 'done' or 'failed' (given up).
CREATE TABLE webhooks (
  id              INTEGER PRIMARY KEY,
  account_id      INTEGER,
  message_id      TEXT,
  event_id        INTEGER,
  inbound_id      TEXT,
  url             TEXT NOT NULL,
  payload         BLOB NOT NULL,
  status          TEXT NOT NULL,
  attempts        INTEGER NOT NULL DEFAULT 0,
  next_attempt_ms INTEGER NOT NULL,
  lease_until_ms  INTEGER,
  last_error      TEXT,
  created_ms      INTEGER NOT NULL,
  updated_ms      INTEGER NOT NULL
);
CREATE INDEX webhooks_due ON webhooks(next_attempt_ms, id)
  WHERE status = 'pending';
CREATE INDEX webhooks_lease ON webhooks(lease_until_ms)
  WHERE status = 'sending';
CREATE INDEX webhooks_status ON webhooks(status);
