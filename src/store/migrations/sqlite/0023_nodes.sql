-- 0023_nodes.sql - the smsgate nodes that share this database.
--
-- One row per node name. Each start of a node takes a new epoch (its
-- fencing token: larger than any epoch given before) and stamps the parts
-- it claims with lease_owner = name || '#' || epoch. The node writes
-- heartbeat_ms on its loop; a node whose heartbeat is older than the
-- reader's dead_after is dead, and any live node puts the parts leased
-- under its epoch back in the queue. connectors lists, comma-separated,
-- the connectors the node binds. On SQLite there is only ever this one
-- node: the table is kept so that both backends answer GET /v1/nodes.
CREATE TABLE nodes (
  name          TEXT PRIMARY KEY,
  epoch         INTEGER NOT NULL,
  started_ms    INTEGER NOT NULL,
  heartbeat_ms  INTEGER NOT NULL,
  version       TEXT NOT NULL DEFAULT '',
  address       TEXT NOT NULL DEFAULT '',
  connectors    TEXT NOT NULL DEFAULT ''
);
