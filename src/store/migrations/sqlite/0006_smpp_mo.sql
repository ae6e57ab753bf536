-- 0006_smpp_mo.sql - incoming messages (MO) owed to customers that bind to
-- smsgate's SMPP server, in the same durable queue as their receipts
-- (migration 0003, src/ingress/smpp_server_mo.c).
--
-- kind 0: a delivery receipt (message_id is a message's id, status its
-- final status). kind 1: an incoming message (message_id is the id of its
-- row in `inbound`, status 'mo'), written in the transaction that stores
-- the inbound message and claimed, leased and deleted as receipts are.

ALTER TABLE smpp_out ADD COLUMN kind INTEGER NOT NULL DEFAULT 0;
