-- 0004_inbound.sql - incoming messages: parts waiting for reassembly, what
-- the inbound rules made of a message, and opt-out lists (see store/store.h,
-- "INBOUND REASSEMBLY AND OPT-OUTS").

-- One row per part of a concatenated message, stored before the part is
-- acknowledged to the operator. grp names the message (connector,
-- addresses, reference, total); a repeated (grp, seq) is a duplicate and
-- is ignored. The rows of a message are deleted in the transaction that
-- stores the message they make.
CREATE TABLE inbound_parts (
  id           INTEGER PRIMARY KEY,
  grp          TEXT NOT NULL,
  seq          INTEGER NOT NULL,
  total        INTEGER NOT NULL,
  connector    TEXT,
  sender       TEXT NOT NULL,
  recipient    TEXT NOT NULL,
  data_coding  INTEGER NOT NULL,
  udh          BLOB,
  ud           BLOB NOT NULL,
  received_ms  INTEGER NOT NULL,
  UNIQUE (grp, seq)
);
CREATE INDEX inbound_parts_received ON inbound_parts(received_ms);

ALTER TABLE inbound ADD COLUMN keyword TEXT;      -- first word, upper case
ALTER TABLE inbound ADD COLUMN incomplete INTEGER NOT NULL DEFAULT 0;
CREATE INDEX inbound_sender ON inbound(sender, id);
CREATE INDEX inbound_recipient ON inbound(recipient, id);

-- Numbers that asked not to get an account's messages (STOP), E.164.
CREATE TABLE optouts (
  account_id  INTEGER NOT NULL,
  number      TEXT NOT NULL,
  source      TEXT NOT NULL,                -- 'keyword' or 'api'
  created_ms  INTEGER NOT NULL,
  PRIMARY KEY (account_id, number)
) WITHOUT ROWID;
