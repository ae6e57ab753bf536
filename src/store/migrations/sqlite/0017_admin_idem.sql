-- 0017_admin_idem.sql - Idempotency-Key of the admin API's creations
-- (POST /v1/accounts, /v1/keys, /v1/accounts/{name}/credit): one row per
-- (caller's account, key), written in the transaction of the change it
-- made, so that a retried request finds either nothing done or the change
-- and its record. `result` names what was made ("account:NAME",
-- "key:k_...", "credit:NAME"); a credit keeps its amount and the balance
-- after it, to answer a retry exactly as the first time. Rows expire after
-- a day.
CREATE TABLE admin_idempotency (
  account_id    INTEGER NOT NULL,
  key           TEXT NOT NULL,
  request_hash  BLOB NOT NULL,
  result        TEXT NOT NULL,
  amount        INTEGER NOT NULL DEFAULT 0,
  balance       INTEGER NOT NULL DEFAULT 0,
  created_ms    INTEGER NOT NULL,
  expires_ms    INTEGER NOT NULL,
  PRIMARY KEY (account_id, key)
) WITHOUT ROWID;
CREATE INDEX admin_idempotency_expiry ON admin_idempotency(expires_ms);
