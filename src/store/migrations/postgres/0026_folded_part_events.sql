-- 0026_folded_part_events.sql - SQLite lets a part's event share the row
-- of the message event it caused (migrations/sqlite/0026); PostgreSQL
-- keeps a row for each, which its reader shows as they are, so there is
-- nothing to do here.
SELECT 1;
