-- 0025_traffic_deferred.sql - PostgreSQL's writer adds its transaction's
-- traffic changes at the end of the transaction, in key order (see
-- migrations/postgres/0025_traffic_deferred.sql); SQLite's writer already
-- counts traffic itself (0021) and has no other writer to deadlock with,
-- so there is nothing to do here.
SELECT 1;
