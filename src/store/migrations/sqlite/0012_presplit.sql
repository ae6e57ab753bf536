-- 0012_presplit.sql - a customer's pre-split parts (a concatenation UDH or
-- SAR TLVs on submit_sm) stored as one message with N parts
-- (src/store/sqlite_presplit.c, src/ingress/smpp_server_concat.c).
--
-- presplit_groups: one row per message whose parts are still coming, keyed
-- as the customer identifies the message (account, source, destination,
-- reference, total). A later part finds its message here, also after a
-- restart, while wait_until_ms (its last part's time + part_wait) is ahead.
-- The row goes when the last part came, or when the wait ended (the
-- missing parts are then recorded as failed parts that never arrived).
CREATE TABLE presplit_groups (
  message_id     TEXT PRIMARY KEY,
  account_id     INTEGER NOT NULL,
  sender         TEXT NOT NULL,
  recipient      TEXT NOT NULL,
  ref            INTEGER NOT NULL,
  total          INTEGER NOT NULL,
  wait_until_ms  INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX presplit_groups_key
  ON presplit_groups(account_id, recipient, ref, total, sender);
CREATE INDEX presplit_groups_wait ON presplit_groups(wait_until_ms);

-- A message stored from pre-split parts gets one receipt per part (with
-- the part's own id, "<message id>-<seq>"), queued when that part ends,
-- instead of one for the message.
ALTER TABLE smpp_origin ADD COLUMN presplit INTEGER NOT NULL DEFAULT 0;
ALTER TABLE smpp_out ADD COLUMN part_seq INTEGER NOT NULL DEFAULT 0;
