-- 0024_lease_owners.sql - as migrations/sqlite/0024_lease_owners.sql: the
-- node that holds a webhook delivery's or an SMPP receipt's lease.
--
-- A claim stamps lease_owner = name || '#' || epoch (migration 0023), as it
-- does for parts; NULL: not leased, or leased by a node without a name. A
-- node that starts gives back only its own name's older epochs' leases (and
-- the NULL-owner ones); the heartbeat of any live node gives back those of
-- dead nodes. Another live node's lease is never taken before it ends.
ALTER TABLE webhooks ADD COLUMN lease_owner TEXT;
ALTER TABLE smpp_out ADD COLUMN lease_owner TEXT;
-- The leases of one owner, for their release when it stops or dies.
CREATE INDEX webhooks_owner ON webhooks(lease_owner) WHERE status = 'sending';
CREATE INDEX smpp_out_owner ON smpp_out(lease_owner)
  WHERE lease_until_ms IS NOT NULL;
