-- 0024_lease_owners.sql - the node that holds a webhook delivery's or an
-- SMPP receipt's lease.
--
-- On PostgreSQL, where several nodes share the queues, a claim stamps
-- lease_owner = name || '#' || epoch (migration 0023) so that a node that
-- starts gives back only its own earlier runs' leases and a live node's
-- lease is never taken before it ends. On SQLite there is only ever one
-- node and its leases are kept in the writer's memory: the column stays
-- NULL, kept so that both backends have the same tables.
ALTER TABLE webhooks ADD COLUMN lease_owner TEXT;
ALTER TABLE smpp_out ADD COLUMN lease_owner TEXT;
