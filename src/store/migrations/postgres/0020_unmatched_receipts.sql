-- 0020_unmatched_receipts.sql - as migrations/sqlite/0020_unmatched_receipts.sql:
-- delivery receipts that matched no part yet, applied by the send result
-- that later names their smsc_id, deleted by maintenance when too old.
CREATE TABLE unmatched_receipts (
  connector    TEXT NOT NULL,
  smsc_id      TEXT NOT NULL,
  status       TEXT NOT NULL,
  error_code   INTEGER,
  detail       TEXT,
  done_ms      BIGINT,
  received_ms  BIGINT NOT NULL,
  PRIMARY KEY (connector, smsc_id)
);
CREATE INDEX unmatched_receipts_age ON unmatched_receipts(received_ms);
