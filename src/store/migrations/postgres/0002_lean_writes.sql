-- 0002_lean_writes.sql - as migrations/sqlite/0002_lean_writes.sql: fewer
-- index changes per message, and the operator's own message id beside the
-- connector's key of it.
DROP INDEX messages_status;
DROP INDEX webhooks_status;
CREATE INDEX webhooks_failed ON webhooks(id) WHERE status = 'failed';
ALTER TABLE parts ADD COLUMN smsc_raw TEXT;

-- Work is leased, not owned (several nodes may share one database): a
-- claim takes queued parts with FOR UPDATE SKIP LOCKED, sets
-- lease_until_ms, the claiming node's id in lease_owner (NULL: a node
-- that names none) and a new fence from parts_fence. A result is only
-- recorded while the part is still 'sending' under the same attempt, the
-- per-part token the engine carries; the fence, which only grows across
-- all parts, is the token a node that lost its lease is refused by when
-- results are matched across nodes.
CREATE SEQUENCE parts_fence;
ALTER TABLE parts ADD COLUMN lease_owner TEXT;
ALTER TABLE parts ADD COLUMN fence BIGINT NOT NULL DEFAULT 0;
