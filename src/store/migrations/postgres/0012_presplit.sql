-- 0012_presplit.sql - as migrations/sqlite/0012_presplit.sql: customers'
-- pre-split parts stored as one message with N parts.
CREATE TABLE presplit_groups (
  message_id     TEXT PRIMARY KEY,
  account_id     BIGINT NOT NULL,
  sender         TEXT NOT NULL,
  recipient      TEXT NOT NULL,
  ref            INTEGER NOT NULL,
  total          INTEGER NOT NULL,
  wait_until_ms  BIGINT NOT NULL
);
CREATE INDEX presplit_groups_key
  ON presplit_groups(account_id, recipient, ref, total, sender);
CREATE INDEX presplit_groups_wait ON presplit_groups(wait_until_ms);

ALTER TABLE smpp_origin ADD COLUMN presplit INTEGER NOT NULL DEFAULT 0;
ALTER TABLE smpp_out ADD COLUMN part_seq INTEGER NOT NULL DEFAULT 0;
