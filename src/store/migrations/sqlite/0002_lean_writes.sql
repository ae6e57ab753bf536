-- 0002_lean_writes.sql - fewer B-tree changes per message, and the
-- operator's own message id beside the connector's key of it.
--
-- messages_status changed on every status change of every message (a
-- delete and an insert, four or five times in a message's life) for the
-- sake of a list filtered by status alone; such a list now walks
-- messages_account (or the table, newest first) and filters, stopping at
-- its page size. Counting messages by status reads the table.
DROP INDEX messages_status;

-- webhooks_status changed three times per webhook (pending, sending, done)
-- for the counts in /metrics: pending and sending are counted over the
-- partial indexes webhooks_due and webhooks_lease, and failed rows, which
-- are rare, get a partial index of their own.
DROP INDEX webhooks_status;
CREATE INDEX webhooks_failed ON webhooks(id) WHERE status = 'failed';

-- parts.smsc_id stays the connector's key of the operator's id (what a
-- delivery receipt is matched on, e.g. the decimal 11259375 of the hex id
-- ABCDEF); smsc_raw is the id as the operator gave it, which is what the API
-- shows. NULL in rows written before it: the key is shown for them.
ALTER TABLE parts ADD COLUMN smsc_raw TEXT;
