-- 0023_nodes.sql - as migrations/sqlite/0023_nodes.sql: the smsgate nodes
-- that share this database, their heartbeats and their epochs. node_epoch
-- gives each start of a node its fencing token; the parts a node claims
-- carry lease_owner = name || '#' || epoch.
CREATE SEQUENCE node_epoch;
CREATE TABLE nodes (
  name          TEXT PRIMARY KEY,
  epoch         BIGINT NOT NULL,
  started_ms    BIGINT NOT NULL,
  heartbeat_ms  BIGINT NOT NULL,
  version       TEXT NOT NULL DEFAULT '',
  address       TEXT NOT NULL DEFAULT '',
  connectors    TEXT NOT NULL DEFAULT ''
);
-- The leases of one owner, for the release of a dead node's parts and the
-- count of each node's leased parts.
CREATE INDEX parts_owner ON parts(lease_owner) WHERE status = 'sending';
