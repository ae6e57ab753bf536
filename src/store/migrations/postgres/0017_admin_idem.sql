-- 0017_admin_idem.sql - as migrations/sqlite/0017_admin_idem.sql: the
-- Idempotency-Key records of the admin API's creations, written in the
-- transaction of the change they record.
CREATE TABLE admin_idempotency (
  account_id    BIGINT NOT NULL,
  key           TEXT NOT NULL,
  request_hash  BYTEA NOT NULL,
  result        TEXT NOT NULL,
  amount        BIGINT NOT NULL DEFAULT 0,
  balance       BIGINT NOT NULL DEFAULT 0,
  created_ms    BIGINT NOT NULL,
  expires_ms    BIGINT NOT NULL,
  PRIMARY KEY (account_id, key)
);
CREATE INDEX admin_idempotency_expiry ON admin_idempotency(expires_ms);
