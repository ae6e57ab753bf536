-- 0020_unmatched_receipts.sql - delivery receipts that matched no part yet.
--
-- A receipt whose (connector, smsc_id) names no part is kept here, in the
-- transaction that looked it up, and the operator is answered at once. The
-- send result that later records that smsc_id for a part of that connector
-- applies it in its own transaction and deletes the row; maintenance deletes
-- rows older than the store's unmatched_keep. One row per (connector,
-- smsc_id): a repeated receipt replaces the held one, except that an
-- intermediate report (status 'sent') never replaces a final one.
-- status is the part status the receipt says (as store.h's receipt_in),
-- done_ms the operator's time of the event (NULL: when it is applied),
-- received_ms when smsgate stored it.
CREATE TABLE unmatched_receipts (
  connector    TEXT NOT NULL,
  smsc_id      TEXT NOT NULL,
  status       TEXT NOT NULL,
  error_code   INTEGER,
  detail       TEXT,
  done_ms      INTEGER,
  received_ms  INTEGER NOT NULL,
  PRIMARY KEY (connector, smsc_id)
) WITHOUT ROWID;
CREATE INDEX unmatched_receipts_age ON unmatched_receipts(received_ms);
