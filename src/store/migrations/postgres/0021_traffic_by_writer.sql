-- 0021_traffic_by_writer.sql - SQLite moved traffic_minutes' message counts
-- from triggers into its writer; PostgreSQL keeps its triggers (its row
-- triggers are plain function calls), so there is nothing to do here.
SELECT 1;
