-- 0006_smpp_mo.sql - as migrations/sqlite/0006_smpp_mo.sql: incoming
-- messages owed to SMPP customers share the receipts' queue (kind 1).
ALTER TABLE smpp_out ADD COLUMN kind INTEGER NOT NULL DEFAULT 0;
