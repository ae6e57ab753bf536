-- 0003_smpp_out.sql - delivery receipts owed to customers that submit over
-- smsgate's SMPP server (src/ingress/smpp_server*.c).
--
-- smpp_origin: one row per message that came in over SMPP, written in the
-- transaction that stores the message: the addresses as the customer gave
-- them and its registered_delivery (SMPP 3.4 section 5.2.17).
-- smpp_out: a durable queue of receipts to send as deliver_sm, written in
-- the transaction that gives the message its final status. The server
-- claims the oldest rows of a bound account under a lease (as webhooks
-- are claimed) and deletes each row once the customer answered
-- deliver_sm_resp; rows older than smpp_server.receipt_max_age are dropped.

CREATE TABLE smpp_origin (
  message_id           TEXT PRIMARY KEY,
  account_id           INTEGER NOT NULL,
  registered_delivery  INTEGER NOT NULL,
  source_ton           INTEGER NOT NULL,
  source_npi           INTEGER NOT NULL,
  source_addr          TEXT NOT NULL,
  dest_ton             INTEGER NOT NULL,
  dest_npi             INTEGER NOT NULL,
  dest_addr            TEXT NOT NULL,
  submit_ms            INTEGER NOT NULL
) WITHOUT ROWID;

CREATE TABLE smpp_out (
  id              INTEGER PRIMARY KEY,
  account_id      INTEGER NOT NULL,
  message_id      TEXT NOT NULL,
  status          TEXT NOT NULL,       -- the message's final status
  error_code      INTEGER,
  done_ms         INTEGER NOT NULL,
  lease_until_ms  INTEGER,             -- NULL: waiting; else claimed until
  attempts        INTEGER NOT NULL DEFAULT 0,
  created_ms      INTEGER NOT NULL
);
CREATE INDEX smpp_out_account ON smpp_out(account_id, id);
